//! `dr_policy` create and update against moto, checked through the AWS SDK (not through
//! what the provider claims in state).

mod policy_support;

use drkit_testkit::Moto;
use policy_support::*;

/// A lifecycle rule as (id, prefix, expire days, archive days, noncurrent expire days).
type RuleRow = (String, String, Option<i32>, Option<i32>, Option<i32>);

#[tokio::test(flavor = "multi_thread")]
async fn apply_configures_rds_and_s3_and_the_second_plan_is_empty() {
    let moto = Moto::start().unwrap();
    let source = seed_db(&moto, "orders-db", false).await;
    seed_bucket(&moto, "orders-backups", PRIMARY, false).await;
    seed_bucket(&moto, "orders-backups-dr", DR, true).await;
    let tf = terraform(
        &moto,
        &full_policy("orders", "orders-db", "orders-backups", "orders-backups-dr"),
    );

    tf.apply().unwrap();

    // RDS source: retention, window, deletion protection, copy tags, ownership tag.
    let db = db(&moto, PRIMARY, "orders-db").await.unwrap();
    assert_eq!(db.backup_retention_period, Some(14));
    assert_eq!(db.preferred_backup_window.as_deref(), Some("03:00-04:00"));
    assert_eq!(db.deletion_protection, Some(true));
    assert_eq!(db.copy_tags_to_snapshot, Some(true));
    let tags = moto
        .rds(PRIMARY)
        .await
        .list_tags_for_resource()
        .resource_name(db.db_instance_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(tags
        .tag_list()
        .iter()
        .any(|t| t.key() == Some("drkit:policy") && t.value() == Some("orders")));

    // The replica: in the DR region, replicating the source ARN, with its own retention.
    let replica = policy_support::db(&moto, DR, "orders-db-dr")
        .await
        .expect("replica in the DR region");
    assert_eq!(
        replica.read_replica_source_db_instance_identifier(),
        source.db_instance_arn()
    );
    assert_eq!(replica.backup_retention_period, Some(14));
    assert_eq!(replica.db_instance_class.as_deref(), Some("db.t3.micro"));

    // S3: versioning, replication with RTC and its metrics, lifecycle rules, encryption.
    let s3 = moto.s3(PRIMARY).await;
    assert_eq!(
        versioning(&moto, "orders-backups").await.as_deref(),
        Some("Enabled")
    );
    let rep = s3
        .get_bucket_replication()
        .bucket("orders-backups")
        .send()
        .await
        .unwrap();
    let rep = rep.replication_configuration().unwrap();
    assert_eq!(rep.role(), ROLE);
    let rule = &rep.rules()[0];
    let dest = rule.destination().unwrap();
    assert_eq!(dest.bucket(), "arn:aws:s3:::orders-backups-dr");
    assert_eq!(
        dest.storage_class().map(|s| s.as_str()),
        Some("STANDARD_IA")
    );
    let rtc = dest.replication_time().expect("RTC");
    assert_eq!(rtc.status().as_str(), "Enabled");
    assert_eq!(rtc.time().and_then(|t| t.minutes()), Some(15));
    assert_eq!(
        dest.encryption_configuration()
            .and_then(|e| e.replica_kms_key_id()),
        Some(DR_KEY),
        "replicas of SSE-KMS objects use the DR region's key"
    );
    let metrics = dest.metrics().expect("RTC requires metrics");
    assert_eq!(metrics.status().as_str(), "Enabled");
    assert_eq!(
        metrics.event_threshold().and_then(|t| t.minutes()),
        Some(15)
    );

    let lc = s3
        .get_bucket_lifecycle_configuration()
        .bucket("orders-backups")
        .send()
        .await
        .unwrap();
    let mut rules: Vec<RuleRow> = lc
        .rules()
        .iter()
        .map(|r| {
            (
                r.id().unwrap().to_string(),
                r.filter()
                    .and_then(|f| f.prefix())
                    .unwrap_or_default()
                    .to_string(),
                r.expiration().and_then(|e| e.days()),
                r.transitions().first().and_then(|t| t.days()),
                r.noncurrent_version_expiration()
                    .and_then(|e| e.noncurrent_days()),
            )
        })
        .collect();
    rules.sort();
    assert_eq!(
        rules,
        vec![
            (
                "drkit:gfs:daily".into(),
                "daily/".into(),
                Some(30),
                None,
                None
            ),
            (
                "drkit:gfs:monthly".into(),
                "monthly/".into(),
                Some(372),
                None,
                None
            ),
            (
                "drkit:gfs:weekly".into(),
                "weekly/".into(),
                Some(84),
                None,
                None
            ),
            (
                "drkit:gfs:yearly".into(),
                "yearly/".into(),
                Some(2555),
                None,
                None
            ),
            (
                "drkit:prefix:wal/".into(),
                "wal/".into(),
                Some(90),
                Some(30),
                Some(7)
            ),
        ]
    );
    let enc = s3
        .get_bucket_encryption()
        .bucket("orders-backups")
        .send()
        .await
        .unwrap();
    let by_default = enc.server_side_encryption_configuration().unwrap().rules()[0]
        .apply_server_side_encryption_by_default()
        .unwrap()
        .clone();
    assert_eq!(by_default.sse_algorithm().as_str(), "aws:kms");
    assert_eq!(
        by_default.kms_master_key_id(),
        Some("arn:aws:kms:us-east-1:123456789012:key/s3-key")
    );

    // Computed attributes.
    let state = tf.resource("dr_policy.orders").unwrap();
    assert_eq!(state["tier"], "replication-time-control");
    assert_eq!(state["estimated_rpo"], "15m");
    assert_eq!(state["estimated_rto"], "15m");
    assert_eq!(state["compliant"], true, "{state}");
    assert_eq!(state["findings"], serde_json::json!([]));

    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_changes_only_what_differs_and_adopts_an_existing_replica() {
    let moto = Moto::start().unwrap();
    let source = seed_db(&moto, "billing-db", false).await;
    // A replica made by hand before the policy existed: adopted, not duplicated.
    moto.rds(DR)
        .await
        .create_db_instance_read_replica()
        .db_instance_identifier("billing-replica")
        .source_db_instance_identifier(source.db_instance_arn().unwrap())
        .db_instance_class("db.t3.micro")
        .send()
        .await
        .unwrap();
    let config = |retention: u32| {
        format!(
            r#"resource "dr_policy" "billing" {{
  name   = "billing"
  rpo    = "1h"
  rto    = "1h"
  owners = ["alice", "bob"]
  rds {{
    instance_identifier   = "billing-db"
    backup_retention_days = {retention}
    cross_region_replica {{
      identifier = "billing-replica"
    }}
  }}
}}
"#
        )
    };
    let tf = terraform(&moto, &config(7));
    tf.apply().unwrap();
    tf.assert_plan_empty().unwrap();
    let replicas = moto
        .rds(DR)
        .await
        .describe_db_instances()
        .send()
        .await
        .unwrap();
    assert_eq!(
        replicas.db_instances().len(),
        1,
        "the replica is adopted, not duplicated"
    );
    let replica = db(&moto, DR, "billing-replica").await.unwrap();
    assert_eq!(replica.backup_retention_period, Some(7));

    rewrite(&tf, &moto, &config(21));
    let plan = tf.run(&["plan"]).unwrap();
    assert!(
        plan.stdout.contains("backup_retention_days = 7 -> 21"),
        "{plan}"
    );
    tf.apply().unwrap();
    assert_eq!(
        db(&moto, PRIMARY, "billing-db")
            .await
            .unwrap()
            .backup_retention_period,
        Some(21)
    );
    // The replica's retention follows the source's while it is not set on its own.
    assert_eq!(
        db(&moto, DR, "billing-replica")
            .await
            .unwrap()
            .backup_retention_period,
        Some(21)
    );
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn renaming_a_policy_moves_its_ownership_tags_in_place() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    seed_bucket(&moto, "orders-backups", PRIMARY, false).await;
    seed_bucket(&moto, "orders-backups-dr", DR, true).await;
    let config = full_policy("orders", "orders-db", "orders-backups", "orders-backups-dr");
    let tf = terraform(&moto, &config);
    tf.apply().unwrap();

    rewrite(
        &tf,
        &moto,
        &config.replace("name   = \"orders\"", "name   = \"orders-v2\""),
    );
    let plan = tf.run(&["plan"]).unwrap();
    assert!(plan.stdout.contains("1 to change, 0 to destroy"), "{plan}");
    tf.apply().unwrap();
    let tags = moto
        .s3(PRIMARY)
        .await
        .get_bucket_tagging()
        .bucket("orders-backups")
        .send()
        .await
        .unwrap();
    assert!(tags
        .tag_set()
        .iter()
        .any(|t| t.key() == "drkit:policy" && t.value() == "orders-v2"));
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn removing_retention_blocks_removes_only_drkit_rules() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    seed_bucket(&moto, "orders-backups", PRIMARY, false).await;
    seed_bucket(&moto, "orders-backups-dr", DR, true).await;
    let config = full_policy("orders", "orders-db", "orders-backups", "orders-backups-dr");
    let tf = terraform(&moto, &config);
    tf.apply().unwrap();

    let start = config.find("    retention {").unwrap();
    let end = config.rfind("    }\n").unwrap() + "    }\n".len();
    let without = format!("{}{}", &config[..start], &config[end..]);
    assert!(!without.contains("retention {"), "{without}");
    rewrite(&tf, &moto, &without);
    tf.apply().unwrap();
    let lc = moto
        .s3(PRIMARY)
        .await
        .get_bucket_lifecycle_configuration()
        .bucket("orders-backups")
        .send()
        .await;
    assert!(lc.is_err(), "no lifecycle rules left: {lc:?}");
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_created_between_plan_and_apply_is_configured() {
    // As when aws_db_instance creates it in the same run: the plan cannot read its
    // window or class yet, and shows them as known after apply.
    let moto = Moto::start().unwrap();
    let tf = terraform(
        &moto,
        r#"resource "dr_policy" "p" {
  name   = "p"
  rpo    = "1h"
  rto    = "1h"
  owners = ["alice", "bob"]
  rds {
    instance_identifier = "new-db"
    cross_region_replica {}
  }
}
"#,
    );
    let plan = tf.run_ok(&["plan", "-out=tfplan"]).unwrap();
    assert!(
        plan.stdout
            .contains("backup_window         = (known after apply)"),
        "{}",
        plan.stdout
    );
    seed_db(&moto, "new-db", false).await;
    tf.run_ok(&["apply", "tfplan"]).unwrap();
    let replica = db(&moto, DR, "new-db-dr").await.expect("replica");
    assert_eq!(replica.db_instance_class.as_deref(), Some("db.t3.micro"));
    let state = tf.resource("dr_policy.p").unwrap();
    let window = db(&moto, PRIMARY, "new-db")
        .await
        .unwrap()
        .preferred_backup_window;
    assert_eq!(state["rds"][0]["backup_window"].as_str(), window.as_deref());
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_replica_gets_its_own_backup_retention_in_the_same_apply() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "pay-db", false).await;
    let tf = terraform(
        &moto,
        r#"resource "dr_policy" "pay" {
  name   = "pay"
  rpo    = "1h"
  rto    = "1h"
  owners = ["alice", "bob"]
  rds {
    instance_identifier   = "pay-db"
    backup_retention_days = 14
    cross_region_replica {
      identifier            = "pay-db-west"
      backup_retention_days = 3
    }
  }
}
"#,
    );
    tf.apply().unwrap();
    assert_eq!(
        db(&moto, PRIMARY, "pay-db")
            .await
            .unwrap()
            .backup_retention_period,
        Some(14)
    );
    assert_eq!(
        db(&moto, DR, "pay-db-west")
            .await
            .unwrap()
            .backup_retention_period,
        Some(3)
    );
    tf.assert_plan_empty().unwrap();
}

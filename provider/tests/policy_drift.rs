//! Changes made behind Terraform's back show up in the next plan, and the next apply
//! puts them back; a deleted source database is a clear error, not a silent removal.

mod policy_support;

use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use drkit_testkit::Moto;
use policy_support::*;

#[tokio::test(flavor = "multi_thread")]
async fn drift_made_outside_terraform_shows_in_plan_and_apply_converges() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    seed_bucket(&moto, "orders-backups", PRIMARY, false).await;
    seed_bucket(&moto, "orders-backups-dr", DR, true).await;
    let tf = terraform(
        &moto,
        &full_policy("orders", "orders-db", "orders-backups", "orders-backups-dr"),
    );
    tf.apply().unwrap();
    tf.assert_plan_empty().unwrap();

    // By hand: retention lowered, replication removed, versioning suspended, a lifecycle
    // rule removed.
    let rds = moto.rds(PRIMARY).await;
    rds.modify_db_instance()
        .db_instance_identifier("orders-db")
        .backup_retention_period(3)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let s3 = moto.s3(PRIMARY).await;
    s3.delete_bucket_replication()
        .bucket("orders-backups")
        .send()
        .await
        .unwrap();
    s3.put_bucket_versioning()
        .bucket("orders-backups")
        .versioning_configuration(
            VersioningConfiguration::builder()
                .status(BucketVersioningStatus::Suspended)
                .build(),
        )
        .send()
        .await
        .unwrap();
    s3.delete_bucket_lifecycle()
        .bucket("orders-backups")
        .send()
        .await
        .unwrap();
    s3.put_bucket_encryption()
        .bucket("orders-backups")
        .server_side_encryption_configuration(
            aws_sdk_s3::types::ServerSideEncryptionConfiguration::builder()
                .rules(
                    aws_sdk_s3::types::ServerSideEncryptionRule::builder()
                        .apply_server_side_encryption_by_default(
                            aws_sdk_s3::types::ServerSideEncryptionByDefault::builder()
                                .sse_algorithm(aws_sdk_s3::types::ServerSideEncryption::Aes256)
                                .build()
                                .unwrap(),
                        )
                        .build(),
                )
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let plan = tf.run(&["plan", "-detailed-exitcode"]).unwrap();
    assert_eq!(plan.status.code(), Some(2), "{plan}");
    for change in [
        "backup_retention_days = 3 -> 14",
        "versioning = false -> true",
        "+ replication {",
        "+ retention {",
        "+ kms_key_id = \"arn:aws:kms:us-east-1:123456789012:key/s3-key\"",
    ] {
        assert!(
            plan.stdout.contains(change),
            "plan lacks {change:?}:\n{}",
            plan.stdout
        );
    }
    assert!(
        plan.stdout.contains("replication is not configured"),
        "findings name the drift:\n{}",
        plan.stdout
    );

    tf.apply().unwrap();
    assert_eq!(
        db(&moto, PRIMARY, "orders-db")
            .await
            .unwrap()
            .backup_retention_period,
        Some(14)
    );
    assert_eq!(
        versioning(&moto, "orders-backups").await.as_deref(),
        Some("Enabled")
    );
    assert!(s3
        .get_bucket_replication()
        .bucket("orders-backups")
        .send()
        .await
        .is_ok());
    let rules = s3
        .get_bucket_lifecycle_configuration()
        .bucket("orders-backups")
        .send()
        .await
        .unwrap();
    assert_eq!(rules.rules().len(), 5);
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
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn lifecycle_rules_in_another_order_and_foreign_rules_cause_no_diff() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    seed_bucket(&moto, "orders-backups", PRIMARY, false).await;
    seed_bucket(&moto, "orders-backups-dr", DR, true).await;
    let tf = terraform(
        &moto,
        &full_policy("orders", "orders-db", "orders-backups", "orders-backups-dr"),
    );
    tf.apply().unwrap();

    // Rewrite the same rules reversed, plus a rule that belongs to someone else.
    let s3 = moto.s3(PRIMARY).await;
    let live = s3
        .get_bucket_lifecycle_configuration()
        .bucket("orders-backups")
        .send()
        .await
        .unwrap();
    let mut rules = live.rules().to_vec();
    rules.reverse();
    rules.push(
        aws_sdk_s3::types::LifecycleRule::builder()
            .id("tmp-cleanup")
            .status(aws_sdk_s3::types::ExpirationStatus::Enabled)
            .filter(
                aws_sdk_s3::types::LifecycleRuleFilter::builder()
                    .prefix("tmp/")
                    .build(),
            )
            .expiration(
                aws_sdk_s3::types::LifecycleExpiration::builder()
                    .days(1)
                    .build(),
            )
            .build()
            .unwrap(),
    );
    s3.put_bucket_lifecycle_configuration()
        .bucket("orders-backups")
        .lifecycle_configuration(
            aws_sdk_s3::types::BucketLifecycleConfiguration::builder()
                .set_rules(Some(rules))
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
    tf.assert_plan_empty().unwrap();

    // A change to the policy's rules keeps the foreign rule.
    let config = full_policy("orders", "orders-db", "orders-backups", "orders-backups-dr")
        .replace("daily   = 30", "daily   = 45");
    rewrite(&tf, &moto, &config);
    tf.apply().unwrap();
    let ids: Vec<String> = s3
        .get_bucket_lifecycle_configuration()
        .bucket("orders-backups")
        .send()
        .await
        .unwrap()
        .rules()
        .iter()
        .map(|r| r.id().unwrap().to_string())
        .collect();
    assert!(ids.contains(&"tmp-cleanup".to_string()), "{ids:?}");
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_source_database_is_a_clear_error_not_a_silent_removal() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "lost-db", false).await;
    let tf = terraform(
        &moto,
        r#"resource "dr_policy" "lost" {
  name   = "lost"
  rpo    = "1h"
  rto    = "1h"
  owners = ["alice", "bob"]
  rds {
    instance_identifier = "lost-db"
    deletion_protection = false
    cross_region_replica {}
  }
}
"#,
    );
    tf.apply().unwrap();
    moto.rds(PRIMARY)
        .await
        .delete_db_instance()
        .db_instance_identifier("lost-db")
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();

    let out = tf
        .plan_expect_error("RDS instance of the policy no longer exists")
        .unwrap();
    assert!(out.contains("promote its cross-region replica"), "{out}");
    assert!(
        out.contains("instance_identifier = \"lost-db\""),
        "points at the block: {out}"
    );
    // The state still holds the policy: nothing was forgotten.
    let state = tf.run_ok(&["state", "list"]).unwrap();
    assert!(state.stdout.contains("dr_policy.lost"));
}

//! `data "dr_runbook"` through terraform against moto: the runbook's commands name the
//! real replica, bucket and regions, read back from moto with the AWS SDK.

mod policy_support;

use drkit_testkit::Moto;
use policy_support::*;

const POLICY: &str = r##"
resource "dr_policy" "orders" {
  name        = "orders"
  rpo         = "30m"
  rto         = "1h"
  owners      = ["alice@example.com", "bob@example.com"]
  runbook_url = "https://wiki.example.com/orders"

  rds {
    instance_identifier   = "orders-db"
    backup_retention_days = 14
    cross_region_replica {}
  }

  s3 {
    bucket = "orders-backups"
    replication {
      destination_bucket       = "orders-backups-dr"
      role_arn                 = "arn:aws:iam::123456789012:role/replication"
      replication_time_control = true
    }
  }
}

data "dr_runbook" "orders" {
  policy_id      = dr_policy.orders.id
  dns_record     = "db.orders.example.com"
  hosted_zone_id = "Z0123456789"
  notify         = "#orders-incident"
}

output "runbook" {
  value = data.dr_runbook.orders.markdown
}
"##;

#[tokio::test(flavor = "multi_thread")]
async fn the_runbook_names_the_live_replica_bucket_and_regions() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    seed_bucket(&moto, "orders-backups", PRIMARY, true).await;
    seed_bucket(&moto, "orders-backups-dr", DR, true).await;
    let tf = terraform(&moto, POLICY);
    tf.apply().unwrap();
    let out = tf.run_ok(&["output", "-raw", "runbook"]).unwrap().stdout;

    // The replica as moto has it, not as the provider says.
    let replicas: Vec<String> = moto
        .rds(DR)
        .await
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .iter()
        .filter(|d| d.read_replica_source_db_instance_identifier().is_some())
        .filter_map(|d| d.db_instance_identifier().map(str::to_string))
        .collect();
    assert_eq!(replicas.len(), 1, "{replicas:?}");
    let replica = &replicas[0];
    for expected in [
        format!("aws rds promote-read-replica --db-instance-identifier {replica} --region {DR}"),
        format!(
            "aws rds wait db-instance-available --db-instance-identifier {replica} --region {DR}"
        ),
        "--hosted-zone-id Z0123456789".to_string(),
        "\"Name\":\"db.orders.example.com\"".to_string(),
        format!("`s3://orders-backups` to its replica `s3://orders-backups-dr` in {DR}"),
        "RPO (data you may lose): **30m**".to_string(),
        "Owners: alice@example.com, bob@example.com".to_string(),
        "#orders-incident".to_string(),
        // The live figures, as dr_status measures them: moto publishes no ReplicaLag.
        format!(
            "- What you would lose now: **beyond the RPO or unknown** at the last refresh: \
             unknown: rds:{DR}:{replica}: no ReplicaLag data points in the last 15m"
        ),
    ] {
        assert!(out.contains(&expected), "missing {expected:?} in:\n{out}");
    }
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_drill_report_is_an_error_on_its_attribute() {
    let moto = Moto::start().unwrap();
    let tf = terraform(
        &moto,
        r#"
data "dr_runbook" "x" {
  policy_id    = "orders"
  drill_report = "not json"
}
"#,
    );
    tf.plan_expect_error("Invalid drill_report").unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_runbook_fails_a_global_database_over_to_its_live_secondary() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders", false).await;
    let tf = terraform(
        &moto,
        &format!(
            "{}\ndata \"dr_runbook\" \"orders\" {{\n  policy_id = dr_policy.orders.id\n}}\n\noutput \"runbook\" {{\n  value = data.dr_runbook.orders.markdown\n}}\n",
            cluster_policy("orders", "orders")
        ),
    );
    tf.apply().unwrap();
    let out = tf.run_ok(&["output", "-raw", "runbook"]).unwrap().stdout;

    // The secondary's ARN as moto has it, not as the provider says.
    let arn = cluster(&moto, DR, "orders-dr")
        .await
        .expect("secondary")
        .db_cluster_arn()
        .unwrap()
        .to_string();
    for expected in [
        format!("aws rds failover-global-cluster --global-cluster-identifier orders-global --target-db-cluster-identifier {arn} --allow-data-loss --region {DR}"),
        format!("aws rds switchover-global-cluster --global-cluster-identifier orders-global --target-db-cluster-identifier {arn} --region {DR}"),
        format!("aws rds wait db-cluster-available --db-cluster-identifier orders-dr --region {DR}"),
        "AuroraGlobalDBReplicationLag".to_string(),
        "RPO (data you may lose): **1m**".to_string(),
    ] {
        assert!(out.contains(&expected), "missing {expected:?} in:\n{out}");
    }
    // The secondary has its reader: no step adds one.
    assert!(!out.contains("headless"), "{out}");
    tf.assert_plan_empty().unwrap();
}

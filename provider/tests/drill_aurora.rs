//! `dr_drill` `rds { cluster_identifier }` through terraform against moto: an Aurora
//! cluster restored to a point in time into a temporary cluster and instance, which are
//! gone afterwards (read back with the AWS SDK).

mod policy_support;

use drkit_testkit::Moto;
use policy_support::*;

async fn cluster_ids(moto: &Moto) -> Vec<String> {
    moto.rds(PRIMARY)
        .await
        .describe_db_clusters()
        .send()
        .await
        .unwrap()
        .db_clusters()
        .iter()
        .filter_map(|c| c.db_cluster_identifier().map(str::to_string))
        .collect()
}

async fn instance_ids(moto: &Moto) -> Vec<String> {
    moto.rds(PRIMARY)
        .await
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .iter()
        .filter_map(|d| d.db_instance_identifier().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aurora_drill_restores_a_temporary_cluster_and_instance_and_deletes_both() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders", false).await;
    // Deletion protection on the source: moto copies it to the restored cluster, which the
    // drill must still delete.
    moto.rds(PRIMARY)
        .await
        .modify_db_cluster()
        .db_cluster_identifier("orders")
        .deletion_protection(true)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let tf = terraform(
        &moto,
        r#"
resource "dr_drill" "orders" {
  policy_id = "orders"
  rpo       = "1h"
  rto       = "1h"

  rds {
    cluster_identifier    = "orders"
    instance_class        = "db.r6g.large"
    expect_retention_days = 7
  }
}
"#,
    );
    tf.apply().unwrap();
    let state = tf.resource("dr_drill.orders").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    let report: serde_json::Value =
        serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    let teardown = &report["teardown"][0];
    assert!(
        teardown["what"]
            .as_str()
            .unwrap()
            .starts_with("temporary cluster drkit-drill-"),
        "{report:#}"
    );
    assert_eq!(teardown["ok"], true, "{report:#}");
    assert!(
        report["restored_from"]
            .as_str()
            .unwrap()
            .starts_with("point-in-time restore of cluster orders to "),
        "{report:#}"
    );
    assert!(
        report["notes"].to_string().contains("less than the 7 days"),
        "{report:#}"
    );
    // Read back: only the source is left.
    assert_eq!(cluster_ids(&moto).await, ["orders"]);
    assert!(
        instance_ids(&moto).await.is_empty(),
        "the temporary instance is gone"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rds_drill_names_one_source_and_a_cluster_has_no_region() {
    let moto = Moto::start().unwrap();
    let tf = terraform(
        &moto,
        r#"
resource "dr_drill" "x" {
  policy_id = "x"
  rds {
    instance_identifier = "db"
    cluster_identifier  = "orders"
  }
}
"#,
    );
    tf.plan_expect_error("Two sources").unwrap();
    rewrite(
        &tf,
        &moto,
        "resource \"dr_drill\" \"x\" {\n  policy_id = \"x\"\n  rds {\n    cluster_identifier = \"orders\"\n    region             = \"us-west-2\"\n  }\n}\n",
    );
    tf.plan_expect_error("region does not apply to a cluster")
        .unwrap();
    rewrite(
        &tf,
        &moto,
        "resource \"dr_drill\" \"x\" {\n  policy_id = \"x\"\n  rds {\n    restore_time = \"latest\"\n  }\n}\n",
    );
    tf.plan_expect_error("Missing source").unwrap();
}

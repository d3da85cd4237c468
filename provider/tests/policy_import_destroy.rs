//! Import by `NAME:rds=...:s3=...` round-trips the applied state; destroy never deletes
//! data, and `delete_replicas_on_destroy` deletes only the replicas the policy created.

mod policy_support;

use drkit_testkit::Moto;
use policy_support::*;

#[tokio::test(flavor = "multi_thread")]
async fn import_round_trips_the_applied_state() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    seed_bucket(&moto, "orders-backups", PRIMARY, false).await;
    seed_bucket(&moto, "orders-backups-dr", DR, true).await;
    // Everything comes back: settings from AWS, the declaration from the targets tag.
    let config = full_policy("orders", "orders-db", "orders-backups", "orders-backups-dr").replace(
        "  owners = [",
        "  runbook_url = \"https://wiki.example.com/runbooks/orders?v=2\"\n  owners = [",
    );
    let tf = terraform(&moto, &config);
    tf.apply().unwrap();
    let applied = tf.resource("dr_policy.orders").unwrap();

    tf.run_ok(&["state", "rm", "dr_policy.orders"]).unwrap();
    tf.run_ok(&[
        "import",
        "dr_policy.orders",
        "orders:rds=orders-db:s3=orders-backups",
    ])
    .unwrap();
    let imported = tf.resource("dr_policy.orders").unwrap();
    assert_eq!(imported, applied);
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_malformed_import_id_says_the_format() {
    let moto = Moto::start().unwrap();
    let tf = terraform(
        &moto,
        "resource \"dr_policy\" \"x\" {\n  name = \"x\"\n  rpo = \"1h\"\n  rto = \"4h\"\n}\n",
    );
    let out = tf.run(&["import", "dr_policy.x", "x:mysql=db1"]).unwrap();
    assert!(!out.success());
    assert!(
        out.combined()
            .contains("NAME:rds=INSTANCE,INSTANCE:rds_cluster=CLUSTER,CLUSTER:s3=BUCKET,BUCKET"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_leaves_the_replica_the_buckets_and_the_settings() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    seed_bucket(&moto, "orders-backups", PRIMARY, false).await;
    seed_bucket(&moto, "orders-backups-dr", DR, true).await;
    let tf = terraform(
        &moto,
        &full_policy("orders", "orders-db", "orders-backups", "orders-backups-dr"),
    );
    tf.apply().unwrap();
    tf.destroy().unwrap();

    assert!(
        db(&moto, DR, "orders-db-dr").await.is_some(),
        "replica kept"
    );
    let source = db(&moto, PRIMARY, "orders-db").await.expect("source kept");
    assert_eq!(source.backup_retention_period, Some(14), "backups kept");
    let s3 = moto.s3(PRIMARY).await;
    assert!(s3
        .head_bucket()
        .bucket("orders-backups")
        .send()
        .await
        .is_ok());
    assert!(moto
        .s3(DR)
        .await
        .head_bucket()
        .bucket("orders-backups-dr")
        .send()
        .await
        .is_ok());
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
    // Only the ownership marker goes, so another policy may take the bucket over.
    let tags = s3
        .get_bucket_tagging()
        .bucket("orders-backups")
        .send()
        .await;
    assert!(tags
        .map(|t| t.tag_set().iter().all(|t| !t.key().starts_with("drkit:")))
        .unwrap_or(true));
}

#[tokio::test(flavor = "multi_thread")]
async fn delete_replicas_on_destroy_deletes_only_the_replicas_the_policy_created() {
    let moto = Moto::start().unwrap();
    let adopted_source = seed_db(&moto, "adopted-db", false).await;
    seed_db(&moto, "created-db", false).await;
    moto.rds(DR)
        .await
        .create_db_instance_read_replica()
        .db_instance_identifier("adopted-db-dr")
        .source_db_instance_identifier(adopted_source.db_instance_arn().unwrap())
        .send()
        .await
        .unwrap();
    let tf = terraform(
        &moto,
        r#"resource "dr_policy" "p" {
  name                       = "p"
  rpo                        = "1h"
  rto                        = "1h"
  owners                     = ["alice", "bob"]
  delete_replicas_on_destroy = true
  rds {
    instance_identifier = "adopted-db"
    cross_region_replica {}
  }
  rds {
    instance_identifier = "created-db"
    cross_region_replica {}
  }
}
"#,
    );
    tf.apply().unwrap();
    assert!(db(&moto, DR, "created-db-dr").await.is_some());
    tf.destroy().unwrap();
    assert!(
        db(&moto, DR, "created-db-dr").await.is_none(),
        "the replica it created is deleted"
    );
    assert!(
        db(&moto, DR, "adopted-db-dr").await.is_some(),
        "an adopted replica is kept"
    );
    assert!(
        db(&moto, PRIMARY, "created-db").await.is_some(),
        "sources are never deleted"
    );
}

//! An apply that fails midway leaves a state the next apply converges from; failures say
//! what to do and quote AWS.

mod policy_support;

use drkit_testkit::Moto;
use policy_support::*;

fn policy_with_buckets(buckets: &[&str]) -> String {
    let mut s3 = String::new();
    for b in buckets {
        s3.push_str(&format!(
            "  s3 {{\n    bucket = \"{b}\"\n    replication {{\n      destination_bucket = \"{b}-dr\"\n      role_arn           = \"{ROLE}\"\n    }}\n  }}\n"
        ));
    }
    format!(
        "resource \"dr_policy\" \"p\" {{\n  name   = \"p\"\n  rpo    = \"1h\"\n  rto    = \"1h\"\n  owners = [\"alice\", \"bob\"]\n  rds {{\n    instance_identifier   = \"app-db\"\n    backup_retention_days = 10\n    cross_region_replica {{}}\n  }}\n{s3}}}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_create_failing_on_a_missing_bucket_converges_on_the_next_apply() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "app-db", false).await;
    seed_bucket(&moto, "app-logs-dr", DR, true).await;
    let tf = terraform(&moto, &policy_with_buckets(&["app-logs"]));

    let out = tf.run(&["apply", "-auto-approve"]).unwrap();
    assert!(!out.success());
    let errors = errors_of(&out.combined());
    assert!(errors.contains("Bucket not found"), "{errors}");
    assert!(
        errors.contains("bucket = \"app-logs\""),
        "points at the bucket: {errors}"
    );
    // The independent database was configured meanwhile.
    assert_eq!(
        db(&moto, PRIMARY, "app-db")
            .await
            .unwrap()
            .backup_retention_period,
        Some(10)
    );
    assert!(db(&moto, DR, "app-db-dr").await.is_some());

    seed_bucket(&moto, "app-logs", PRIMARY, false).await;
    tf.apply().unwrap();
    assert_eq!(
        versioning(&moto, "app-logs").await.as_deref(),
        Some("Enabled")
    );
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
        "the replica of the failed apply is adopted"
    );
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_update_failing_midway_keeps_the_difference_in_the_plan() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "app-db", false).await;
    seed_bucket(&moto, "app-logs", PRIMARY, false).await;
    seed_bucket(&moto, "app-logs-dr", DR, true).await;
    let tf = terraform(&moto, &policy_with_buckets(&["app-logs"]));
    tf.apply().unwrap();

    rewrite(&tf, &moto, &policy_with_buckets(&["app-logs", "app-media"]));
    let out = tf.run(&["apply", "-auto-approve"]).unwrap();
    assert!(!out.success(), "{out}");
    assert!(
        !tf.plan_is_empty().unwrap(),
        "the failed change is still planned"
    );

    seed_bucket(&moto, "app-media", PRIMARY, false).await;
    seed_bucket(&moto, "app-media-dr", DR, true).await;
    tf.apply().unwrap();
    assert_eq!(
        versioning(&moto, "app-media").await.as_deref(),
        Some("Enabled")
    );
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn cross_region_backups_fail_clearly_where_the_api_is_missing() {
    // moto does not implement StartDBInstanceAutomatedBackupsReplication (it answers 500):
    // the apply fails with the operation named, the advice, and the rest of the policy
    // applied; on AWS the same call starts the replication.
    let moto = Moto::start().unwrap();
    seed_db(&moto, "ledger-db", false).await;
    let tf = terraform(
        &moto,
        r#"resource "dr_policy" "ledger" {
  name   = "ledger"
  rpo    = "1h"
  rto    = "4h"
  owners = ["alice", "bob"]
  rds {
    instance_identifier   = "ledger-db"
    backup_retention_days = 7
    cross_region_backups {
      retention_days = 14
    }
  }
}
"#,
    );
    let plan = tf.run(&["plan"]).unwrap();
    assert!(plan.success(), "{plan}");
    assert!(
        plan.stdout
            .contains("tier                       = \"cross-region-backups\""),
        "{}",
        plan.stdout
    );

    let out = tf.run(&["apply", "-auto-approve"]).unwrap();
    assert!(!out.success());
    let errors = errors_of(&out.combined());
    assert!(
        errors.contains(
            "Could not replicate the automated backups of RDS instance \"ledger-db\" to us-west-2"
        ),
        "{errors}"
    );
    assert!(
        errors.contains("StartDBInstanceAutomatedBackupsReplication failed"),
        "{errors}"
    );
    assert_eq!(
        db(&moto, PRIMARY, "ledger-db")
            .await
            .unwrap()
            .backup_retention_period,
        Some(7)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_instance_that_is_not_available_gets_advice_instead_of_a_hang() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "app-db", false).await;
    moto.rds(PRIMARY)
        .await
        .stop_db_instance()
        .db_instance_identifier("app-db")
        .send()
        .await
        .unwrap();
    let tf = terraform(
        &moto,
        r#"resource "dr_policy" "p" {
  name   = "p"
  rpo    = "1h"
  rto    = "1h"
  owners = ["alice", "bob"]
  rds {
    instance_identifier   = "app-db"
    backup_retention_days = 12
    cross_region_replica {}
  }
}
"#,
    );
    let out = tf.run(&["apply", "-auto-approve"]).unwrap();
    assert!(!out.success());
    let errors = errors_of(&out.combined());
    let flat = errors.split_whitespace().collect::<Vec<_>>().join(" ");
    for part in [
        "RDS instance \"app-db\" did not become available",
        "\"stopped\"; it will not become available by waiting",
        "Wait until it is `available` and apply again",
        "instance_identifier = \"app-db\"",
    ] {
        assert!(flat.contains(part), "{part:?} missing:\n{errors}");
    }
    insta::assert_snapshot!("stopped_instance", errors);
}

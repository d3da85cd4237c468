//! `rds_cluster` blocks (Aurora) end to end against moto: apply makes the cluster the
//! primary of a global database with a secondary (and its reader) in the DR region, read
//! back through the SDK; drift shows and converges; import round-trips; destroy keeps the
//! secondary unless asked; a failed apply converges on the next one.

mod policy_support;

use drkit_testkit::{Fault, FaultConfig, FaultProxy, Moto, Terraform};
use policy_support::*;

const SOURCE_ARN: &str = "arn:aws:rds:us-east-1:123456789012:cluster:orders";
const SECONDARY_ARN: &str = "arn:aws:rds:us-west-2:123456789012:cluster:orders-dr";

#[tokio::test(flavor = "multi_thread")]
async fn apply_makes_a_global_database_with_a_secondary_and_the_second_plan_is_empty() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders", false).await;
    let tf = terraform(&moto, &cluster_policy("orders", "orders"));
    tf.apply().unwrap();

    // The source, read back through the SDK.
    let source = cluster(&moto, PRIMARY, "orders").await.unwrap();
    assert_eq!(source.backup_retention_period(), Some(14));
    assert_eq!(source.preferred_backup_window(), Some("05:00-06:00"));
    assert_eq!(source.deletion_protection(), Some(true));
    assert_eq!(source.copy_tags_to_snapshot(), Some(true));
    let tags = cluster_tags(&source);
    assert_eq!(tags.get("drkit:policy").map(String::as_str), Some("orders"));
    assert!(
        tags["drkit:targets"].starts_with("rpo=1m rto=10m"),
        "{tags:?}"
    );

    // The global cluster holds the source and the secondary.
    assert_eq!(
        global_members(&moto, "orders-global").await,
        Some(vec![SOURCE_ARN.to_string(), SECONDARY_ARN.to_string()])
    );
    let secondary = cluster(&moto, DR, "orders-dr")
        .await
        .expect("secondary in the DR region");
    assert_eq!(secondary.global_cluster_identifier(), Some("orders-global"));
    assert_eq!(secondary.engine(), Some("aurora-postgresql"));
    assert_eq!(secondary.kms_key_id(), Some(DR_KEY));
    assert_eq!(secondary.deletion_protection(), Some(true));
    let tags = cluster_tags(&secondary);
    assert_eq!(tags.get("drkit:policy").map(String::as_str), Some("orders"));
    assert_eq!(
        tags.get("drkit:created-by").map(String::as_str),
        Some("orders")
    );
    let reader = db(&moto, DR, "orders-dr-1")
        .await
        .expect("reader of the secondary");
    assert_eq!(reader.db_instance_class(), Some("db.r6g.large"));
    assert_eq!(reader.db_cluster_identifier(), Some("orders-dr"));

    let state = tf.resource("dr_policy.orders").unwrap();
    assert_eq!(state["tier"], "aurora-global-database");
    assert_eq!(state["estimated_rpo"], "30s");
    assert_eq!(state["estimated_rto"], "5m");
    assert_eq!(state["compliant"], true, "{state:#}");
    let g = &state["rds_cluster"][0]["global_secondary"][0];
    assert_eq!(g["region"], DR);
    assert_eq!(g["cluster_identifier"], "orders-dr");
    assert_eq!(g["global_cluster_identifier"], "orders-global");
    tf.assert_plan_empty().unwrap();

    // A second apply changes nothing: no second global cluster, secondary or reader.
    tf.apply().unwrap();
    let readers: Vec<String> = moto
        .rds(DR)
        .await
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .iter()
        .filter_map(|d| d.db_instance_identifier().map(str::to_string))
        .collect();
    assert_eq!(readers, ["orders-dr-1"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn drift_on_a_cluster_shows_in_plan_and_apply_converges() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders", false).await;
    let tf = terraform(&moto, &cluster_policy("orders", "orders"));
    tf.apply().unwrap();

    // By hand: retention lowered, deletion protection and copy-tags off.
    moto.rds(PRIMARY)
        .await
        .modify_db_cluster()
        .db_cluster_identifier("orders")
        .backup_retention_period(3)
        .deletion_protection(false)
        .copy_tags_to_snapshot(false)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    let plan = tf.run(&["plan", "-detailed-exitcode"]).unwrap();
    assert_eq!(plan.status.code(), Some(2), "{plan}");
    for change in [
        "backup_retention_days = 3 -> 14",
        "deletion_protection   = false -> true",
        "copy_tags_to_snapshot = false -> true",
    ] {
        assert!(plan.stdout.contains(change), "{change:?} missing:\n{plan}");
    }
    let refreshed = tf
        .run_ok(&["apply", "-refresh-only", "-auto-approve"])
        .unwrap();
    let _ = refreshed;
    let state = tf.resource("dr_policy.orders").unwrap();
    assert_eq!(state["compliant"], false);
    let findings = state["findings"].to_string();
    assert!(
        findings.contains("rds_cluster[0] orders backup retention days: is 3, the policy sets 14"),
        "{findings}"
    );

    tf.apply().unwrap();
    let source = cluster(&moto, PRIMARY, "orders").await.unwrap();
    assert_eq!(source.backup_retention_period(), Some(14));
    assert_eq!(source.deletion_protection(), Some(true));
    assert_eq!(source.copy_tags_to_snapshot(), Some(true));
    tf.assert_plan_empty().unwrap();
    assert_eq!(tf.resource("dr_policy.orders").unwrap()["compliant"], true);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_deleted_secondary_shows_in_plan_and_apply_makes_it_again() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders", false).await;
    let tf = terraform(&moto, &cluster_policy("orders", "orders"));
    tf.apply().unwrap();

    // By hand: the secondary and its reader deleted.
    let dr = moto.rds(DR).await;
    dr.delete_db_instance()
        .db_instance_identifier("orders-dr-1")
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    dr.modify_db_cluster()
        .db_cluster_identifier("orders-dr")
        .deletion_protection(false)
        .apply_immediately(true)
        .send()
        .await
        .unwrap();
    dr.delete_db_cluster()
        .db_cluster_identifier("orders-dr")
        .skip_final_snapshot(true)
        .send()
        .await
        .unwrap();
    let plan = tf.run(&["plan", "-detailed-exitcode"]).unwrap();
    assert_eq!(plan.status.code(), Some(2), "{plan}");
    assert!(plan.stdout.contains("+ global_secondary {"), "{plan}");

    tf.apply().unwrap();
    let secondary = cluster(&moto, DR, "orders-dr")
        .await
        .expect("secondary made again");
    assert_eq!(secondary.global_cluster_identifier(), Some("orders-global"));
    assert!(
        db(&moto, DR, "orders-dr-1").await.is_some(),
        "reader made again"
    );
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secondary_name_held_by_a_standalone_cluster_fails_at_plan() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders", false).await;
    // A cluster outside the global database already holds the secondary's name (one
    // promoted in an earlier failover, say): a plan-time error, not a silent adoption.
    moto.rds(DR)
        .await
        .create_db_cluster()
        .db_cluster_identifier("orders-dr")
        .engine("aurora-postgresql")
        .master_username("dr")
        .master_user_password("password1")
        .send()
        .await
        .unwrap();
    let tf = terraform(&moto, &cluster_policy("orders", "orders"));
    let text = tf
        .plan_expect_error("Secondary cluster identifier taken")
        .unwrap();
    assert!(text.contains("it is a standalone cluster"), "{text}");
    assert!(text.contains("cluster_identifier"), "{text}");

    rewrite(
        &tf,
        &moto,
        &cluster_policy("orders", "orders").replace(
            "    global_secondary {\n",
            "    global_secondary {\n      cluster_identifier = \"orders-dr2\"\n",
        ),
    );
    tf.apply().unwrap();
    assert_eq!(
        global_members(&moto, "orders-global").await,
        Some(vec![
            SOURCE_ARN.to_string(),
            "arn:aws:rds:us-west-2:123456789012:cluster:orders-dr2".to_string()
        ])
    );
    // The other cluster is data: left alone.
    assert!(cluster(&moto, DR, "orders-dr").await.is_some());
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn import_round_trips_an_aurora_policy() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders", false).await;
    let tf = terraform(&moto, &cluster_policy("orders", "orders"));
    tf.apply().unwrap();
    let applied = tf.resource("dr_policy.orders").unwrap();

    tf.run_ok(&["state", "rm", "dr_policy.orders"]).unwrap();
    tf.run_ok(&["import", "dr_policy.orders", "orders:rds_cluster=orders"])
        .unwrap();
    let imported = tf.resource("dr_policy.orders").unwrap();
    assert_eq!(imported, applied);
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn destroy_keeps_the_secondary_unless_asked_and_never_the_source() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders", false).await;
    let tf = terraform(&moto, &cluster_policy("orders", "orders"));
    tf.apply().unwrap();
    tf.destroy().unwrap();
    let source = cluster(&moto, PRIMARY, "orders").await.unwrap();
    assert!(!cluster_tags(&source).contains_key("drkit:policy"));
    assert_eq!(source.backup_retention_period(), Some(14), "settings stay");
    let secondary = cluster(&moto, DR, "orders-dr")
        .await
        .expect("secondary kept");
    assert!(!cluster_tags(&secondary).contains_key("drkit:policy"));
    assert!(global_members(&moto, "orders-global").await.is_some());

    // Adopted back, then destroyed with delete_replicas_on_destroy: the secondary this
    // policy created goes (with its reader); the source and the global cluster stay.
    let config = cluster_policy("orders", "orders").replace(
        "  owners = [",
        "  delete_replicas_on_destroy = true\n  owners = [",
    );
    rewrite(&tf, &moto, &config);
    tf.apply().unwrap();
    tf.destroy().unwrap();
    assert!(
        cluster(&moto, DR, "orders-dr").await.is_none(),
        "secondary deleted"
    );
    assert!(
        db(&moto, DR, "orders-dr-1").await.is_none(),
        "reader deleted"
    );
    assert!(
        cluster(&moto, PRIMARY, "orders").await.is_some(),
        "source kept"
    );
    // (moto keeps a deleted secondary in the member list: RemoveFromGlobalCluster only
    // works there for a member of the region the global cluster was made in.)
    let members = global_members(&moto, "orders-global")
        .await
        .expect("global cluster kept");
    assert!(members.contains(&SOURCE_ARN.to_string()), "{members:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secondary_create_that_fails_converges_on_the_next_apply() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders", false).await;
    let proxy = FaultProxy::start(moto.port(), FaultConfig::none()).unwrap();
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(moto.env());
    tf.write(
        "main.tf",
        &format!(
            "{}\n{}",
            // No retries: the injected failure fails the apply.
            provider_block_at(proxy.endpoint(), 0),
            cluster_policy("orders", "orders")
        ),
    )
    .unwrap();
    // The global cluster is made, then the secondary's create fails.
    proxy.inject_once("rds:CreateDBCluster", Fault::ServerError);
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(!out.success(), "{out}");
    let text = out.combined();
    assert!(
        text.contains("Could not create secondary cluster \"orders-dr\" in us-west-2"),
        "{text}"
    );
    assert!(text.contains("cluster_identifier"), "{text}");
    assert_eq!(
        global_members(&moto, "orders-global").await,
        Some(vec![SOURCE_ARN.to_string()])
    );

    tf.apply().unwrap();
    assert_eq!(
        global_members(&moto, "orders-global").await,
        Some(vec![SOURCE_ARN.to_string(), SECONDARY_ARN.to_string()])
    );
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn cluster_checks_fail_at_plan_on_their_attribute() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "secure", true).await;
    // An encrypted source needs a key of the DR region for its secondary.
    let tf = terraform(
        &moto,
        &cluster_policy("secure", "secure")
            .replace(&format!("      kms_key_id     = \"{DR_KEY}\"\n"), ""),
    );
    let text = tf
        .plan_expect_error("Encrypted source needs a KMS key in the DR region")
        .unwrap();
    assert!(text.contains("kms_key_id"), "{text}");

    // Targets a cluster without a global secondary cannot meet.
    rewrite(
        &tf,
        &moto,
        "resource \"dr_policy\" \"p\" {\n  name   = \"p\"\n  rpo    = \"4h\"\n  rto    = \"8h\"\n  owners = [\"a\", \"b\"]\n  rds_cluster {\n    cluster_identifier = \"secure\"\n  }\n}\n",
    );
    let text = tf
        .plan_expect_error("no copy outside the primary region")
        .unwrap();
    assert!(text.contains("global_secondary"), "{text}");

    // A secondary in the primary's own region.
    rewrite(
        &tf,
        &moto,
        &format!("resource \"dr_policy\" \"p\" {{\n  name   = \"p\"\n  rpo    = \"4h\"\n  rto    = \"8h\"\n  owners = [\"a\", \"b\"]\n  rds_cluster {{\n    cluster_identifier = \"secure\"\n    global_secondary {{\n      region     = \"{PRIMARY}\"\n      kms_key_id = \"arn:aws:kms:us-east-1:123456789012:key/k\"\n    }}\n  }}\n}}\n"),
    );
    tf.plan_expect_error("the global secondary is in the primary's own region")
        .unwrap();
}

//! Every invalid `dr_policy` fails at plan, with its message on the attribute to change.
//! The rendered diagnostics are insta snapshots (`tests/snapshots/`).

mod policy_support;

use drkit_testkit::Moto;
use policy_support::*;

/// A policy around `body` (inside the resource block).
fn policy(body: &str) -> String {
    format!(
        "resource \"dr_policy\" \"p\" {{\n  name   = \"p\"\n  owners = [\"alice\", \"bob\"]\n{body}}}\n"
    )
}

/// Plans `config` and returns its errors; checks `message` and the source line shown.
fn plan_errors(moto: &Moto, config: &str, message: &str, line: &str) -> String {
    let tf = terraform(moto, config);
    let out = tf.plan_expect_error(message).unwrap();
    let errors = errors_of(&out);
    assert!(
        errors.contains(line),
        "the diagnostic points at {line:?}:\n{errors}"
    );
    errors
}

const REPLICA: &str =
    "  rds {\n    instance_identifier = \"db1\"\n    cross_region_replica {}\n  }\n";

#[test]
fn configuration_errors_fail_at_plan_on_their_attribute() {
    let moto = Moto::start().unwrap();
    let cases: &[(&str, String, &str, &str)] = &[
        (
            "rpo_zero",
            policy(&format!("  rpo = \"0\"\n  rto = \"1h\"\n{REPLICA}")),
            "synchronous multi-region",
            "rpo = \"0\"",
        ),
        (
            "unreachable_rpo_needs_a_replica",
            policy(
                "  rpo = \"5m\"\n  rto = \"4h\"\n  rds {\n    instance_identifier = \"db1\"\n    cross_region_backups {}\n  }\n",
            ),
            "needs a cross-region read replica",
            "instance_identifier = \"db1\"",
        ),
        (
            "retention_zero",
            policy("  rpo = \"1h\"\n  rto = \"1h\"\n  rds {\n    instance_identifier   = \"db1\"\n    backup_retention_days = 0\n    cross_region_replica {}\n  }\n"),
            "turns automated backups off",
            "backup_retention_days = 0",
        ),
        (
            "retention_above_35",
            policy("  rpo = \"1h\"\n  rto = \"1h\"\n  rds {\n    instance_identifier   = \"db1\"\n    backup_retention_days = 36\n    cross_region_replica {}\n  }\n"),
            "more than RDS allows (35)",
            "backup_retention_days = 36",
        ),
        (
            "malformed_duration",
            policy(&format!("  rpo = \"5 minutes\"\n  rto = \"1h\"\n{REPLICA}")),
            "invalid duration \"5 minutes\"",
            "rpo = \"5 minutes\"",
        ),
        (
            "malformed_window",
            policy("  rpo = \"1h\"\n  rto = \"1h\"\n  rds {\n    instance_identifier = \"db1\"\n    backup_window       = \"3am-4am\"\n    cross_region_replica {}\n  }\n"),
            "is not a backup window",
            "backup_window       = \"3am-4am\"",
        ),
        (
            "s3_rpo_below_rtc",
            policy(&format!(
                "  rpo = \"5m\"\n  rto = \"1h\"\n  s3 {{\n    bucket = \"bkt1\"\n    replication {{\n      destination_bucket       = \"bkt1-dr\"\n      role_arn                 = \"{ROLE}\"\n      replication_time_control = true\n    }}\n  }}\n"
            )),
            "below what S3 replication guarantees",
            "rpo = \"5m\"",
        ),
        (
            "s3_needs_rtc",
            policy(&format!(
                "  rpo = \"30m\"\n  rto = \"1h\"\n  s3 {{\n    bucket = \"bkt1\"\n    replication {{\n      destination_bucket       = \"bkt1-dr\"\n      role_arn                 = \"{ROLE}\"\n      replication_time_control = false\n    }}\n  }}\n"
            )),
            "needs Replication Time Control",
            "replication_time_control = false",
        ),
        (
            "compliance_needs_seven_years",
            policy(&format!(
                "  rpo = \"1h\"\n  rto = \"1h\"\n  compliance = true\n  s3 {{\n    bucket = \"bkt1\"\n    replication {{\n      destination_bucket = \"bkt1-dr\"\n      role_arn           = \"{ROLE}\"\n    }}\n    retention {{\n      expire_days = 365\n    }}\n  }}\n"
            )),
            "2555",
            "retention {",
        ),
        (
            "sse_kms_without_replica_key",
            policy(&format!(
                "  rpo = \"1h\"\n  rto = \"1h\"\n  s3 {{\n    bucket = \"bkt1\"\n    encryption {{\n      kms_key_id = \"arn:aws:kms:us-east-1:123456789012:key/k\"\n    }}\n    replication {{\n      destination_bucket = \"bkt1-dr\"\n      role_arn           = \"{ROLE}\"\n    }}\n  }}\n"
            )),
            "SSE-KMS objects need a replica key",
            "replication {",
        ),
        (
            "mixed_retention_forms",
            policy(&format!(
                "  rpo = \"1h\"\n  rto = \"1h\"\n  s3 {{\n    bucket = \"bkt1\"\n    replication {{\n      destination_bucket = \"bkt1-dr\"\n      role_arn           = \"{ROLE}\"\n    }}\n    retention {{\n      expire_days = 30\n      daily       = 7\n    }}\n  }}\n"
            )),
            "Mixed retention forms",
            "retention {",
        ),
        (
            "replica_in_the_primary_region",
            policy("  rpo = \"1h\"\n  rto = \"1h\"\n  rds {\n    instance_identifier = \"db1\"\n    cross_region_replica {\n      region = \"us-east-1\"\n    }\n  }\n"),
            "in the primary's own region",
            "region = \"us-east-1\"",
        ),
        (
            "kms_key_of_the_wrong_region",
            policy("  rpo = \"1h\"\n  rto = \"1h\"\n  rds {\n    instance_identifier = \"db1\"\n    cross_region_replica {\n      kms_key_id = \"arn:aws:kms:eu-west-1:123456789012:key/k\"\n    }\n  }\n"),
            "KMS keys are regional",
            "kms_key_id = \"arn:aws:kms:eu-west-1",
        ),
    ];
    for (name, config, message, line) in cases {
        let errors = plan_errors(&moto, config, message, line);
        insta::assert_snapshot!(*name, errors);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn live_checks_fail_at_plan_encrypted_source_and_window_overlap() {
    let moto = Moto::start().unwrap();
    let db = seed_db(&moto, "enc-db", true).await;
    let config = policy("  rpo = \"1h\"\n  rto = \"1h\"\n  rds {\n    instance_identifier = \"enc-db\"\n    cross_region_replica {}\n  }\n");
    let errors = plan_errors(
        &moto,
        &config,
        "Encrypted source needs a KMS key in the DR region",
        "cross_region_replica {}",
    );
    insta::assert_snapshot!("encrypted_source_without_kms_key", errors);

    // A backup window inside the instance's maintenance window (read from RDS).
    let maintenance = db.preferred_maintenance_window().unwrap().to_string();
    let start = &maintenance[4..9];
    let (h, m) = (
        start[..2].parse::<u32>().unwrap(),
        start[3..].parse::<u32>().unwrap(),
    );
    let window = format!("{h:02}:{m:02}-{:02}:{m:02}", (h + 1) % 24);
    let config = policy(&format!(
        "  rpo = \"1h\"\n  rto = \"1h\"\n  rds {{\n    instance_identifier = \"enc-db\"\n    backup_window       = \"{window}\"\n    cross_region_replica {{\n      kms_key_id = \"{DR_KEY}\"\n    }}\n  }}\n"
    ));
    let errors = plan_errors(
        &moto,
        &config,
        "overlaps the maintenance window",
        "backup_window",
    );
    assert!(errors.contains(&maintenance), "{errors}");
}

#[tokio::test(flavor = "multi_thread")]
async fn two_policies_naming_one_bucket_fail_at_plan() {
    let moto = Moto::start().unwrap();
    seed_bucket(&moto, "shared-bucket", PRIMARY, true).await;
    let one = |name: &str| {
        format!(
            "resource \"dr_policy\" \"{name}\" {{\n  name   = \"{name}\"\n  rpo    = \"1h\"\n  rto    = \"1h\"\n  owners = [\"alice\", \"bob\"]\n  s3 {{\n    bucket = \"shared-bucket\"\n    replication {{\n      destination_bucket = \"shared-bucket-dr\"\n      role_arn           = \"{ROLE}\"\n    }}\n  }}\n}}\n"
        )
    };
    // Within one configuration, before anything is applied.
    let tf = terraform(&moto, &format!("{}\n{}", one("a"), one("b")));
    let out = tf.plan_expect_error("claimed by two policies").unwrap();
    assert!(out.contains("bucket = \"shared-bucket\""), "{out}");

    // Across configurations: the bucket carries the owner's tag.
    seed_bucket(&moto, "shared-bucket-dr", DR, true).await;
    let first = terraform(&moto, &one("a"));
    first.apply().unwrap();
    let second = terraform(&moto, &one("b"));
    let out = second
        .plan_expect_error("Bucket owned by another policy")
        .unwrap();
    assert!(out.contains("managed by dr_policy \"a\""), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn values_unknown_at_plan_are_known_after_apply_and_validated_then() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "late-db", false).await;
    let tf = terraform(
        &moto,
        r#"resource "terraform_data" "name" {
  input = "late-db"
}

resource "dr_policy" "p" {
  name   = "p"
  rpo    = "1h"
  rto    = "1h"
  owners = ["alice", "bob"]
  rds {
    instance_identifier = terraform_data.name.output
    cross_region_replica {}
  }
}
"#,
    );
    let plan = tf.run(&["plan"]).unwrap();
    assert!(plan.success(), "{plan}");
    for line in [
        "instance_identifier   = (known after apply)",
        "tier                       = (known after apply)",
        "identifier            = (known after apply)",
    ] {
        assert!(
            plan.stdout.contains(line),
            "plan lacks {line:?}:\n{}",
            plan.stdout
        );
    }
    tf.apply().unwrap();
    assert!(db(&moto, DR, "late-db-dr").await.is_some());
    let state = tf.resource("dr_policy.p").unwrap();
    assert_eq!(state["tier"], "cross-region-replica");
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bucket_in_another_region_fails_at_plan() {
    let moto = Moto::start().unwrap();
    seed_bucket(&moto, "far-bucket", "eu-west-1", true).await;
    let config = policy(&format!(
        "  rpo = \"1h\"\n  rto = \"1h\"\n  s3 {{\n    bucket = \"far-bucket\"\n    replication {{\n      destination_bucket = \"far-bucket-dr\"\n      role_arn           = \"{ROLE}\"\n    }}\n  }}\n"
    ));
    let errors = plan_errors(
        &moto,
        &config,
        "Bucket outside the provider's region",
        "bucket = \"far-bucket\"",
    );
    assert!(errors.contains("is in eu-west-1"), "{errors}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dynamic_block_unknown_at_plan_is_planned_then_applied() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "dyn-db", false).await;
    let tf = terraform(
        &moto,
        r#"resource "terraform_data" "regions" {
  input = ["us-west-2"]
}

resource "dr_policy" "p" {
  name   = "p"
  rpo    = "1h"
  rto    = "1h"
  owners = ["alice", "bob"]
  rds {
    instance_identifier = "dyn-db"
    dynamic "cross_region_replica" {
      for_each = terraform_data.regions.output
      content {
        region = cross_region_replica.value
      }
    }
  }
}
"#,
    );
    let plan = tf.run(&["plan"]).unwrap();
    assert!(plan.success(), "{plan}");
    tf.apply().unwrap();
    assert!(db(&moto, DR, "dyn-db-dr").await.is_some());
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_replica_name_held_by_another_instance_fails_at_plan() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "src-db", false).await;
    // A standalone instance in the DR region already has the replica's default name.
    moto.rds(DR)
        .await
        .create_db_instance()
        .db_instance_identifier("src-db-dr")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("dr")
        .master_user_password("password1")
        .send()
        .await
        .unwrap();
    let config = policy("  rpo = \"1h\"\n  rto = \"1h\"\n  rds {\n    instance_identifier = \"src-db\"\n    cross_region_replica {}\n  }\n");
    let errors = plan_errors(
        &moto,
        &config,
        "Replica identifier taken",
        "cross_region_replica {}",
    );
    assert!(errors.contains("standalone instance"), "{errors}");
}

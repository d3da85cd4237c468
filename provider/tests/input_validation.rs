//! Input validation, through the real terraform CLI: every user-settable attribute and
//! block of `provider "dr"`, `dr_policy`, `dr_drill` and `dr_runbook`, each invalid form
//! one row of a table, with the error a user sees.
//!
//! Every row is its own file `<row>.tf` in one Terraform directory, so one
//! `terraform validate` (and one `terraform plan`, for what only plan can know: regions,
//! AWS lookups) reports every row at once, and Terraform's `on <row>.tf line N` says which
//! row an error belongs to. Each row asserts that its error (summary) is there and that it
//! points at its attribute (the source line Terraform quotes); the rendered errors are
//! insta snapshots (`tests/snapshots/input_validation__*.snap`), one per phase and object.

mod policy_support;

use std::collections::BTreeMap;

use drkit_testkit::{Moto, Terraform};
use policy_support::{provider_block, DR_KEY, PROVIDER, ROLE};

/// One invalid form of one attribute.
struct Row {
    /// File stem and resource name; `@row` in `hcl` stands for it.
    name: &'static str,
    /// The row's configuration. `@db` and `@bkt` are an instance and a bucket name unique
    /// to the row, `@ep` the moto endpoint.
    hcl: String,
    /// The summary of the error (a substring).
    summary: &'static str,
    /// The source line Terraform quotes with it (a substring): the attribute to change.
    at: &'static str,
}

fn row(name: &'static str, hcl: impl Into<String>, summary: &'static str, at: &'static str) -> Row {
    Row {
        name,
        hcl: hcl.into(),
        summary,
        at,
    }
}

// ---------------------------------------------------------------------------------------
// Configuration builders
// ---------------------------------------------------------------------------------------

/// A provider alias named after the row, with `body`, and a valid policy using it
/// (Terraform validates a provider configuration only when something uses it).
fn provider(body: &str) -> String {
    format!(
        "provider \"dr\" {{\n  alias = \"@row\"\n{body}}}\n\nresource \"dr_policy\" \"@row\" {{\n  provider = dr.@row\n  name     = \"@row\"\n  rpo      = \"4h\"\n  rto      = \"4h\"\n  owners   = [\"alice\", \"bob\"]\n}}\n"
    )
}

/// A policy named after the row, with two owners, around `body`.
fn policy(body: &str) -> String {
    format!(
        "resource \"dr_policy\" \"@row\" {{\n  name   = \"@row\"\n  owners = [\"alice\", \"bob\"]\n{body}}}\n"
    )
}

/// `rpo`/`rto` that cross-region backups meet.
const TARGETS: &str = "  rpo = \"4h\"\n  rto = \"4h\"\n";

/// A policy with one `rds` block around `inner`.
fn rds(inner: &str) -> String {
    policy(&format!(
        "{TARGETS}  rds {{\n    instance_identifier = \"@db\"\n{inner}  }}\n"
    ))
}

/// An `rds` block with a replica (what the shortest targets need).
const WITH_REPLICA: &str =
    "  rds {\n    instance_identifier = \"@db\"\n    cross_region_replica {}\n  }\n";

/// Cross-region backups: the copy an `rds` block needs.
const BACKUPS: &str = "    cross_region_backups {}\n";

/// A policy with one `s3` block around `inner`.
fn s3(inner: &str) -> String {
    policy(&format!(
        "{TARGETS}  s3 {{\n    bucket = \"@bkt\"\n{inner}  }}\n"
    ))
}

/// Replication: the copy an `s3` block needs.
fn replication(extra: &str) -> String {
    format!(
        "    replication {{\n      destination_bucket = \"@bkt-dr\"\n      role_arn = \"{ROLE}\"\n{extra}    }}\n"
    )
}

/// A bucket with replication and one `retention` block around `inner`.
fn retention(inner: &str) -> String {
    s3(&format!(
        "{}    retention {{\n{inner}    }}\n",
        replication("")
    ))
}

/// A policy whose provider has no `dr_region` (an alias named after the row).
fn without_dr_region(body: &str) -> String {
    format!(
        "provider \"dr\" {{\n  alias       = \"@row\"\n  region      = \"us-east-1\"\n  max_retries = 1\n  endpoints {{\n    rds = \"@ep\"\n    s3  = \"@ep\"\n  }}\n}}\n\nresource \"dr_policy\" \"@row\" {{\n  provider = dr.@row\n  name     = \"@row\"\n  owners   = [\"alice\", \"bob\"]\n{TARGETS}{body}}}\n"
    )
}

/// A drill named after the row: `top` arguments, then the blocks (a valid dump source
/// and target unless the row writes its own).
fn drill(top: &str, blocks: &str) -> String {
    format!("resource \"dr_drill\" \"@row\" {{\n  policy_id = \"p\"\n{top}{blocks}}}\n")
}

/// A valid `postgres_dump` source.
const DUMP: &str = "  postgres_dump {\n    s3_uri = \"s3://backups/daily/\"\n  }\n";

/// A valid `target` block with `extra` lines.
fn target(extra: &str) -> String {
    format!(
        "  target {{\n    host = \"db.internal\"\n    username = \"drill\"\n    password_env = \"DRILL_PG_PASSWORD\"\n{extra}  }}\n"
    )
}

/// A dump drill with `top` arguments.
fn dump_drill(top: &str) -> String {
    drill(top, &format!("{DUMP}{}", target("")))
}

/// A dump drill whose target has `extra` lines.
fn target_drill(extra: &str) -> String {
    drill("", &format!("{DUMP}{}", target(extra)))
}

/// An RDS drill whose `rds` block has `inner` lines.
fn rds_drill(inner: &str) -> String {
    drill(
        "",
        &format!("  rds {{\n    instance_identifier = \"orders-db\"\n{inner}  }}\n"),
    )
}

/// A dump drill with one `verify` block around `inner`.
fn verify_drill(inner: &str) -> String {
    drill(
        "",
        &format!("{DUMP}{}  verify {{\n{inner}  }}\n", target("")),
    )
}

/// A status data source named after the row.
fn status(body: &str) -> String {
    format!("data \"dr_status\" \"@row\" {{\n  policy_id = \"p\"\n{body}}}\n")
}

/// A runbook named after the row.
fn runbook(body: &str) -> String {
    format!("data \"dr_runbook\" \"@row\" {{\n  policy_id = \"p\"\n{body}}}\n")
}

// ---------------------------------------------------------------------------------------
// The table
// ---------------------------------------------------------------------------------------

/// Rows whose error `terraform validate` reports (no provider configured, no AWS).
fn validate_rows() -> Vec<Row> {
    let long_name = "p".repeat(129);
    let long_id = format!("db{}", "x".repeat(62));
    vec![
        // provider "dr"
        row("provider_region_not_a_region", provider("  region = \"US East\"\n"), "Invalid region", "region = \"US East\""),
        row("provider_region_without_number", provider("  region = \"us-east\"\n"), "Invalid region", "region = \"us-east\""),
        row("provider_region_empty", provider("  region = \"\"\n"), "Invalid region", "region = \"\""),
        row("provider_dr_region_not_a_region", provider("  region = \"us-east-1\"\n  dr_region = \"west\"\n"), "Invalid dr_region", "dr_region = \"west\""),
        row("provider_dr_region_equals_region", provider("  region = \"us-east-1\"\n  dr_region = \"us-east-1\"\n"), "dr_region equals region", "dr_region = \"us-east-1\""),
        row("provider_profile_empty", provider("  region = \"us-east-1\"\n  profile = \"\"\n"), "Invalid profile", "profile = \"\""),
        row("provider_max_retries_negative", provider("  region = \"us-east-1\"\n  max_retries = -1\n"), "Invalid max_retries", "max_retries = -1"),
        row("provider_max_retries_above_100", provider("  region = \"us-east-1\"\n  max_retries = 101\n"), "Invalid max_retries", "max_retries = 101"),
        row("provider_max_retries_fraction", provider("  region = \"us-east-1\"\n  max_retries = 2.5\n"), "Invalid max_retries", "max_retries = 2.5"),
        row("provider_max_retries_not_a_number", provider("  region = \"us-east-1\"\n  max_retries = \"many\"\n"), "Incorrect attribute value type", "max_retries = \"many\""),
        row("provider_endpoint_without_scheme", provider("  region = \"us-east-1\"\n  endpoints {\n    s3 = \"localhost:4566\"\n  }\n"), "Invalid endpoint URL", "s3 = \"localhost:4566\""),
        row("provider_endpoint_empty", provider("  region = \"us-east-1\"\n  endpoints {\n    rds = \"\"\n  }\n"), "Invalid endpoint URL", "rds = \"\""),
        row("provider_endpoint_without_host", provider("  region = \"us-east-1\"\n  endpoints {\n    rds = \"http://\"\n  }\n"), "Invalid endpoint URL", "rds = \"http://\""),
        row("provider_endpoints_twice", provider("  region = \"us-east-1\"\n  endpoints {\n    rds = \"http://127.0.0.1:1\"\n  }\n  endpoints {\n    s3 = \"http://127.0.0.1:2\"\n  }\n"), "Too many endpoints blocks", "endpoints {"),
        row("provider_unknown_argument", provider("  regoin = \"us-east-1\"\n"), "Unsupported argument", "regoin = \"us-east-1\""),
        // dr_policy: arguments
        row("policy_name_missing", format!("resource \"dr_policy\" \"@row\" {{\n{TARGETS}}}\n"), "Missing required argument", "resource \"dr_policy\" \"@row\""),
        row("policy_name_empty", format!("resource \"dr_policy\" \"@row\" {{\n  name = \"\"\n  owners = [\"alice\", \"bob\"]\n{TARGETS}}}\n"), "Invalid policy name", "name = \"\""),
        row("policy_name_with_space", format!("resource \"dr_policy\" \"@row\" {{\n  name = \"orders db\"\n  owners = [\"alice\", \"bob\"]\n{TARGETS}}}\n"), "Invalid policy name", "name = \"orders db\""),
        row("policy_name_too_long", format!("resource \"dr_policy\" \"@row\" {{\n  name = \"{long_name}\"\n  owners = [\"alice\", \"bob\"]\n{TARGETS}}}\n"), "Invalid policy name", "name = \"ppp"),
        row("policy_rpo_missing", policy("  rto = \"4h\"\n"), "Missing required argument", "resource \"dr_policy\" \"@row\""),
        row("policy_rpo_words", policy("  rpo = \"5 minutes\"\n  rto = \"4h\"\n"), "Invalid rpo", "rpo = \"5 minutes\""),
        row("policy_rpo_without_unit", policy("  rpo = \"15\"\n  rto = \"4h\"\n"), "Invalid rpo", "rpo = \"15\""),
        row("policy_rpo_negative", policy("  rpo = \"-5m\"\n  rto = \"4h\"\n"), "Invalid rpo", "rpo = \"-5m\""),
        row("policy_rpo_empty", policy("  rpo = \"\"\n  rto = \"4h\"\n"), "Invalid rpo", "rpo = \"\""),
        row("policy_rpo_zero", policy(&format!("  rpo = \"0\"\n  rto = \"4h\"\n{WITH_REPLICA}")), "DR policy cannot meet its targets", "rpo = \"0\""),
        row("policy_rto_words", policy("  rpo = \"4h\"\n  rto = \"1 hour\"\n"), "Invalid rto", "rto = \"1 hour\""),
        row("policy_rto_zero", policy(&format!("  rpo = \"4h\"\n  rto = \"0\"\n{WITH_REPLICA}")), "DR policy cannot meet its targets", "rto = \"0\""),
        row("policy_owners_not_a_list", format!("resource \"dr_policy\" \"@row\" {{\n  name = \"@row\"\n  owners = \"alice\"\n{TARGETS}}}\n"), "Incorrect attribute value type", "owners = \"alice\""),
        // Terraform prints one warning per summary and folds the others into "(and N more
        // similar warnings)", so this is the table's only warning row.
        row("policy_owners_one", format!("resource \"dr_policy\" \"@row\" {{\n  name = \"@row\"\n  owners = [\"alice\"]\n{TARGETS}}}\n"), "DR policy weakness", "owners = [\"alice\"]"),
        row("policy_owners_empty_name", format!("resource \"dr_policy\" \"@row\" {{\n  name = \"@row\"\n  owners = [\"\", \"bob\"]\n{TARGETS}}}\n"), "Invalid owner", "owners = [\"\", \"bob\"]"),
        row("policy_owners_duplicate", format!("resource \"dr_policy\" \"@row\" {{\n  name = \"@row\"\n  owners = [\"alice\", \"alice\"]\n{TARGETS}}}\n"), "Owner listed twice", "owners = [\"alice\", \"alice\"]"),
        row("policy_compliance_not_a_bool", policy(&format!("{TARGETS}  compliance = \"yes\"\n")), "Incorrect attribute value type", "compliance = \"yes\""),
        row("policy_compliance_without_seven_years", policy(&format!("{TARGETS}  compliance = true\n  s3 {{\n    bucket = \"@bkt\"\n{}    retention {{\n      expire_days = 365\n    }}\n  }}\n", replication(""))), "DR policy cannot meet its targets", "retention {"),
        row("policy_runbook_url_not_a_url", policy(&format!("{TARGETS}  runbook_url = \"wiki/orders\"\n")), "Invalid runbook_url", "runbook_url = \"wiki/orders\""),
        row("policy_runbook_url_empty", policy(&format!("{TARGETS}  runbook_url = \"\"\n")), "Invalid runbook_url", "runbook_url = \"\""),
        row("policy_runbook_url_without_host", policy(&format!("{TARGETS}  runbook_url = \"https://\"\n")), "Invalid runbook_url", "runbook_url = \"https://\""),
        row("policy_delete_replicas_not_a_bool", policy(&format!("{TARGETS}  delete_replicas_on_destroy = \"maybe\"\n")), "Incorrect attribute value type", "delete_replicas_on_destroy = \"maybe\""),
        row("policy_unknown_argument", policy(&format!("{TARGETS}  rpo_minutes = 15\n")), "Unsupported argument", "rpo_minutes = 15"),
        row("policy_timeouts_create_words", policy(&format!("{TARGETS}  timeouts {{\n    create = \"soon\"\n  }}\n")), "Invalid timeout", "create = \"soon\""),
        row("policy_timeouts_update_zero", policy(&format!("{TARGETS}  timeouts {{\n    update = \"0\"\n  }}\n")), "Invalid timeout", "update = \"0\""),
        row("policy_timeouts_twice", policy(&format!("{TARGETS}  timeouts {{\n    create = \"1h\"\n  }}\n  timeouts {{\n    update = \"1h\"\n  }}\n")), "Too many timeouts blocks", "timeouts {"),
        // dr_policy: rds
        row("policy_rds_identifier_missing", policy(&format!("{TARGETS}  rds {{\n{BACKUPS}  }}\n")), "Missing required argument", "rds {"),
        row("policy_rds_identifier_uppercase_underscore", policy(&format!("{TARGETS}  rds {{\n    instance_identifier = \"Orders_DB\"\n{BACKUPS}  }}\n")), "Invalid instance_identifier", "instance_identifier = \"Orders_DB\""),
        row("policy_rds_identifier_empty", policy(&format!("{TARGETS}  rds {{\n    instance_identifier = \"\"\n{BACKUPS}  }}\n")), "Invalid instance_identifier", "instance_identifier = \"\""),
        row("policy_rds_identifier_leading_digit", policy(&format!("{TARGETS}  rds {{\n    instance_identifier = \"1db\"\n{BACKUPS}  }}\n")), "Invalid instance_identifier", "instance_identifier = \"1db\""),
        row("policy_rds_identifier_double_hyphen", policy(&format!("{TARGETS}  rds {{\n    instance_identifier = \"db--1\"\n{BACKUPS}  }}\n")), "Invalid instance_identifier", "instance_identifier = \"db--1\""),
        row("policy_rds_identifier_too_long", policy(&format!("{TARGETS}  rds {{\n    instance_identifier = \"{long_id}\"\n{BACKUPS}  }}\n")), "Invalid instance_identifier", "instance_identifier = \"dbxxx"),
        row("policy_rds_identifier_twice", policy(&format!("{TARGETS}  rds {{\n    instance_identifier = \"@db\"\n{BACKUPS}  }}\n  rds {{\n    instance_identifier = \"@db\" # again\n    cross_region_replica {{}}\n  }}\n")), "Instance named twice", "instance_identifier = \"@db\" # again"),
        row("policy_rds_without_copy", rds(""), "DR policy cannot meet its targets", "instance_identifier = \"@db\""),
        row("policy_rds_rpo_needs_replica", policy(&format!("  rpo = \"5m\"\n  rto = \"4h\"\n  rds {{\n    instance_identifier = \"@db\"\n{BACKUPS}  }}\n")), "DR policy cannot meet its targets", "instance_identifier = \"@db\""),
        row("policy_rds_retention_negative", rds(&format!("    backup_retention_days = -1\n{BACKUPS}")), "Invalid backup_retention_days", "backup_retention_days = -1"),
        row("policy_rds_retention_zero", rds(&format!("    backup_retention_days = 0\n{BACKUPS}")), "DR policy cannot meet its targets", "backup_retention_days = 0"),
        row("policy_rds_retention_above_35", rds(&format!("    backup_retention_days = 36\n{BACKUPS}")), "DR policy cannot meet its targets", "backup_retention_days = 36"),
        row("policy_rds_retention_fraction", rds(&format!("    backup_retention_days = 7.5\n{BACKUPS}")), "Invalid backup_retention_days", "backup_retention_days = 7.5"),
        row("policy_rds_retention_not_a_number", rds(&format!("    backup_retention_days = \"week\"\n{BACKUPS}")), "Incorrect attribute value type", "backup_retention_days = \"week\""),
        row("policy_rds_window_words", rds(&format!("    backup_window = \"3am-4am\"\n{BACKUPS}")), "Invalid backup_window", "backup_window = \"3am-4am\""),
        row("policy_rds_window_too_short", rds(&format!("    backup_window = \"03:00-03:15\"\n{BACKUPS}")), "Invalid backup_window", "backup_window = \"03:00-03:15\""),
        row("policy_rds_window_hour_25", rds(&format!("    backup_window = \"25:00-26:00\"\n{BACKUPS}")), "Invalid backup_window", "backup_window = \"25:00-26:00\""),
        row("policy_rds_window_empty", rds(&format!("    backup_window = \"\"\n{BACKUPS}")), "Invalid backup_window", "backup_window = \"\""),
        row("policy_rds_deletion_protection_not_a_bool", rds(&format!("    deletion_protection = \"no\"\n{BACKUPS}")), "Incorrect attribute value type", "deletion_protection = \"no\""),
        row("policy_rds_copy_tags_not_a_bool", rds(&format!("    copy_tags_to_snapshot = \"no\"\n{BACKUPS}")), "Incorrect attribute value type", "copy_tags_to_snapshot = \"no\""),
        // dr_policy: rds.cross_region_replica
        row("policy_replica_twice", rds("    cross_region_replica {}\n    cross_region_replica {}\n"), "Too many cross_region_replica blocks", "cross_region_replica {}"),
        row("policy_replica_region_not_a_region", rds("    cross_region_replica {\n      region = \"mars\"\n    }\n"), "Invalid region", "region = \"mars\""),
        row("policy_replica_region_empty", rds("    cross_region_replica {\n      region = \"\"\n    }\n"), "Invalid region", "region = \"\""),
        row("policy_replica_identifier_underscore", rds("    cross_region_replica {\n      identifier = \"orders_dr\"\n    }\n"), "Invalid replica identifier", "identifier = \"orders_dr\""),
        row("policy_replica_identifier_empty", rds("    cross_region_replica {\n      identifier = \"\"\n    }\n"), "Invalid replica identifier", "identifier = \"\""),
        row("policy_replica_instance_class_without_db", rds("    cross_region_replica {\n      instance_class = \"r6g.large\"\n    }\n"), "Invalid instance_class", "instance_class = \"r6g.large\""),
        row("policy_replica_instance_class_empty", rds("    cross_region_replica {\n      instance_class = \"\"\n    }\n"), "Invalid instance_class", "instance_class = \"\""),
        row("policy_replica_kms_key_not_an_arn", rds("    cross_region_replica {\n      kms_key_id = \"my-key\"\n    }\n"), "Invalid kms_key_id", "kms_key_id = \"my-key\""),
        row("policy_replica_kms_key_empty", rds("    cross_region_replica {\n      kms_key_id = \"\"\n    }\n"), "Invalid kms_key_id", "kms_key_id = \"\""),
        row("policy_replica_kms_key_of_s3", rds("    cross_region_replica {\n      kms_key_id = \"arn:aws:s3:::bucket\"\n    }\n"), "Invalid kms_key_id", "kms_key_id = \"arn:aws:s3:::bucket\""),
        row("policy_replica_retention_zero", rds("    cross_region_replica {\n      backup_retention_days = 0\n    }\n"), "Invalid backup_retention_days", "backup_retention_days = 0"),
        row("policy_replica_retention_above_35", rds("    cross_region_replica {\n      backup_retention_days = 40\n    }\n"), "Invalid backup_retention_days", "backup_retention_days = 40"),
        // dr_policy: rds.cross_region_backups
        row("policy_backups_twice", rds("    cross_region_backups {}\n    cross_region_backups {}\n"), "Too many cross_region_backups blocks", "cross_region_backups {}"),
        row("policy_backups_region_not_a_region", rds("    cross_region_backups {\n      region = \"Mars\"\n    }\n"), "Invalid region", "region = \"Mars\""),
        row("policy_backups_retention_zero", rds("    cross_region_backups {\n      retention_days = 0\n    }\n"), "Invalid retention_days", "retention_days = 0"),
        row("policy_backups_retention_above_35", rds("    cross_region_backups {\n      retention_days = 36\n    }\n"), "Invalid retention_days", "retention_days = 36"),
        row("policy_backups_retention_fraction", rds("    cross_region_backups {\n      retention_days = 1.5\n    }\n"), "Invalid retention_days", "retention_days = 1.5"),
        row("policy_backups_kms_key_empty", rds("    cross_region_backups {\n      kms_key_id = \"\"\n    }\n"), "Invalid kms_key_id", "kms_key_id = \"\""),
        // dr_policy: s3
        row("policy_s3_bucket_missing", policy(&format!("{TARGETS}  s3 {{\n{}  }}\n", replication(""))), "Missing required argument", "s3 {"),
        row("policy_s3_bucket_uppercase", policy(&format!("{TARGETS}  s3 {{\n    bucket = \"Orders_Backups\"\n{}  }}\n", replication(""))), "Invalid bucket name", "bucket = \"Orders_Backups\""),
        row("policy_s3_bucket_too_short", policy(&format!("{TARGETS}  s3 {{\n    bucket = \"ab\"\n{}  }}\n", replication(""))), "Invalid bucket name", "bucket = \"ab\""),
        row("policy_s3_bucket_empty", policy(&format!("{TARGETS}  s3 {{\n    bucket = \"\"\n{}  }}\n", replication(""))), "Invalid bucket name", "bucket = \"\""),
        row("policy_s3_bucket_twice", policy(&format!("{TARGETS}  s3 {{\n    bucket = \"@bkt\"\n{r}  }}\n  s3 {{\n    bucket = \"@bkt\" # again\n{r}  }}\n", r = replication(""))), "Bucket named twice", "bucket = \"@bkt\" # again"),
        row("policy_s3_without_copy", s3(""), "DR policy cannot meet its targets", "bucket = \"@bkt\""),
        row("policy_s3_versioning_not_a_bool", s3(&format!("    versioning = \"on\"\n{}", replication(""))), "Incorrect attribute value type", "versioning = \"on\""),
        row("policy_s3_rpo_below_rtc", policy(&format!("  rpo = \"5m\"\n  rto = \"4h\"\n  s3 {{\n    bucket = \"@bkt\"\n{}  }}\n", replication("      replication_time_control = true\n"))), "DR policy cannot meet its targets", "rpo = \"5m\""),
        row("policy_s3_rpo_needs_rtc", policy(&format!("  rpo = \"30m\"\n  rto = \"4h\"\n  s3 {{\n    bucket = \"@bkt\"\n{}  }}\n", replication("      replication_time_control = false\n"))), "DR policy cannot meet its targets", "replication_time_control = false"),
        // dr_policy: s3.encryption
        row("policy_encryption_twice", s3(&format!("    encryption {{}}\n    encryption {{}}\n{}", replication(""))), "Too many encryption blocks", "encryption {}"),
        row("policy_encryption_kms_key_empty", s3(&format!("    encryption {{\n      kms_key_id = \"\"\n    }}\n{}", replication(&format!("      replica_kms_key_id = \"{DR_KEY}\"\n")))), "Invalid kms_key_id", "kms_key_id = \"\""),
        row("policy_encryption_kms_key_of_iam", s3(&format!("    encryption {{\n      kms_key_id = \"{ROLE}\"\n    }}\n{}", replication(&format!("      replica_kms_key_id = \"{DR_KEY}\"\n")))), "Invalid kms_key_id", "kms_key_id = \"arn:aws:iam"),
        row("policy_encryption_kms_without_replica_key", s3(&format!("    encryption {{\n      kms_key_id = \"arn:aws:kms:us-east-1:123456789012:key/k\"\n    }}\n{}", replication(""))), "SSE-KMS objects need a replica key", "replication {"),
        // dr_policy: s3.replication
        row("policy_replication_twice", s3(&format!("{r}{r}", r = replication(""))), "Too many replication blocks", "replication {"),
        row("policy_replication_destination_missing", s3(&format!("    replication {{\n      role_arn = \"{ROLE}\"\n    }}\n")), "Missing required argument", "replication {"),
        row("policy_replication_destination_uppercase", s3(&format!("    replication {{\n      destination_bucket = \"Orders_DR\"\n      role_arn = \"{ROLE}\"\n    }}\n")), "Invalid destination_bucket", "destination_bucket = \"Orders_DR\""),
        row("policy_replication_destination_itself", s3(&format!("    replication {{\n      destination_bucket = \"@bkt\"\n      role_arn = \"{ROLE}\"\n    }}\n")), "Bucket replicates to itself", "destination_bucket = \"@bkt\""),
        row("policy_replication_region_not_a_region", s3(&replication("      destination_region = \"Mars\"\n")), "Invalid destination_region", "destination_region = \"Mars\""),
        row("policy_replication_region_empty", s3(&replication("      destination_region = \"\"\n")), "Invalid destination_region", "destination_region = \"\""),
        row("policy_replication_role_missing", s3("    replication {\n      destination_bucket = \"@bkt-dr\"\n    }\n"), "Missing required argument", "replication {"),
        row("policy_replication_role_not_an_arn", s3("    replication {\n      destination_bucket = \"@bkt-dr\"\n      role_arn = \"s3-replication\"\n    }\n"), "Invalid role_arn", "role_arn = \"s3-replication\""),
        row("policy_replication_role_of_a_user", s3("    replication {\n      destination_bucket = \"@bkt-dr\"\n      role_arn = \"arn:aws:iam::123456789012:user/bob\"\n    }\n"), "Invalid role_arn", "role_arn = \"arn:aws:iam::123456789012:user/bob\""),
        row("policy_replication_storage_class_unknown", s3(&replication("      storage_class = \"COLD\"\n")), "Invalid storage_class", "storage_class = \"COLD\""),
        row("policy_replication_storage_class_lowercase", s3(&replication("      storage_class = \"standard_ia\"\n")), "Invalid storage_class", "storage_class = \"standard_ia\""),
        row("policy_replication_rtc_not_a_bool", s3(&replication("      replication_time_control = \"fast\"\n")), "Incorrect attribute value type", "replication_time_control = \"fast\""),
        row("policy_replication_delete_markers_not_a_bool", s3(&replication("      delete_marker_replication = \"x\"\n")), "Incorrect attribute value type", "delete_marker_replication = \"x\""),
        row("policy_replication_replica_kms_key_empty", s3(&replication("      replica_kms_key_id = \"\"\n")), "Invalid replica_kms_key_id", "replica_kms_key_id = \"\""),
        row("policy_replication_replica_kms_key_not_an_arn", s3(&replication("      replica_kms_key_id = \"x\"\n")), "Invalid replica_kms_key_id", "replica_kms_key_id = \"x\""),
        // dr_policy: s3.retention
        row("policy_retention_mixed_forms", retention("      expire_days = 30\n      daily = 7\n"), "Mixed retention forms", "retention {"),
        row("policy_retention_empty", retention(""), "Empty retention block", "retention {"),
        row("policy_retention_gfs_twice", s3(&format!("{}    retention {{\n      daily = 7\n    }}\n    retention {{\n      weekly = 4\n    }}\n", replication(""))), "Two GFS retention blocks", "weekly = 4"),
        row("policy_retention_prefix_twice", s3(&format!("{}    retention {{\n      prefix = \"wal/\"\n      expire_days = 30\n    }}\n    retention {{\n      prefix = \"wal/\" # again\n      noncurrent_expire_days = 7\n    }}\n", replication(""))), "Prefix retained twice", "prefix = \"wal/\" # again"),
        row("policy_retention_expire_zero", retention("      expire_days = 0\n"), "Invalid expire_days", "expire_days = 0"),
        row("policy_retention_expire_above_100_years", retention("      expire_days = 40000\n"), "Invalid expire_days", "expire_days = 40000"),
        row("policy_retention_expire_fraction", retention("      expire_days = 30.5\n"), "Invalid expire_days", "expire_days = 30.5"),
        row("policy_retention_noncurrent_zero", retention("      noncurrent_expire_days = 0\n"), "Invalid noncurrent_expire_days", "noncurrent_expire_days = 0"),
        row("policy_retention_archive_negative", retention("      archive_after_days = -1\n      expire_days = 30\n"), "Invalid archive_after_days", "archive_after_days = -1"),
        row("policy_retention_archive_after_expiry", retention("      archive_after_days = 30\n      expire_days = 30\n"), "Archive after expiry", "archive_after_days = 30"),
        row("policy_retention_archive_class_unknown", retention("      archive_after_days = 30\n      archive_storage_class = \"COLD\"\n"), "Invalid archive_storage_class", "archive_storage_class = \"COLD\""),
        row("policy_retention_archive_class_without_days", retention("      archive_storage_class = \"GLACIER\"\n      expire_days = 30\n"), "Archive class without a transition", "archive_storage_class = \"GLACIER\""),
        row("policy_retention_daily_zero", retention("      daily = 0\n"), "Invalid daily", "daily = 0"),
        row("policy_retention_weekly_zero", retention("      weekly = 0\n"), "Invalid weekly", "weekly = 0"),
        row("policy_retention_monthly_negative", retention("      monthly = -1\n"), "Invalid monthly", "monthly = -1"),
        row("policy_retention_yearly_fraction", retention("      yearly = 1.5\n"), "Invalid yearly", "yearly = 1.5"),
        row("policy_retention_prefix_not_a_string", retention("      prefix = [\"wal/\"]\n      expire_days = 30\n"), "Incorrect attribute value type", "prefix = [\"wal/\"]"),
        // dr_drill: arguments
        row("drill_policy_id_missing", format!("resource \"dr_drill\" \"@row\" {{\n{DUMP}{}}}\n", target("")), "Missing required argument", "resource \"dr_drill\" \"@row\""),
        row("drill_policy_id_empty", format!("resource \"dr_drill\" \"@row\" {{\n  policy_id = \"\"\n{DUMP}{}}}\n", target("")), "Invalid policy_id", "policy_id = \"\""),
        row("drill_rpo_words", dump_drill("  rpo = \"5 min\"\n"), "Invalid rpo", "rpo = \"5 min\""),
        row("drill_rto_empty", dump_drill("  rto = \"\"\n"), "Invalid rto", "rto = \"\""),
        row("drill_interval_too_short", dump_drill("  interval = \"10m\"\n"), "Interval too short", "interval = \"10m\""),
        row("drill_interval_words", dump_drill("  interval = \"weekly\"\n"), "Invalid interval", "interval = \"weekly\""),
        row("drill_timeout_words", dump_drill("  timeout = \"2 hours\"\n"), "Invalid timeout", "timeout = \"2 hours\""),
        row("drill_timeout_zero", dump_drill("  timeout = \"0\"\n"), "Invalid timeout", "timeout = \"0\""),
        row("drill_triggers_not_a_map", dump_drill("  triggers = \"v2\"\n"), "Incorrect attribute value type", "triggers = \"v2\""),
        row("drill_fail_on_target_miss_not_a_bool", dump_drill("  fail_on_target_miss = \"sometimes\"\n"), "Incorrect attribute value type", "fail_on_target_miss = \"sometimes\""),
        row("drill_report_file_empty", dump_drill("  report_file = \"\"\n"), "Invalid report_file", "report_file = \"\""),
        row("drill_webhook_without_scheme", dump_drill("  webhook_url = \"hooks.example.com/drill\"\n"), "Invalid webhook_url", "webhook_url = \"hooks.example.com/drill\""),
        row("drill_webhook_ftp", dump_drill("  webhook_url = \"ftp://hooks.example.com/drill\"\n"), "Invalid webhook_url", "webhook_url = \"ftp://hooks.example.com/drill\""),
        row("drill_webhook_format_unknown", dump_drill("  webhook_format = \"xml\"\n"), "Invalid webhook_format", "webhook_format = \"xml\""),
        row("drill_webhook_without_host", dump_drill("  webhook_url = \"http://\"\n"), "Invalid webhook_url", "webhook_url = \"http://\""),
        row("drill_freshness_sql_empty", dump_drill("  freshness_sql = \"\"\n"), "Invalid freshness_sql", "freshness_sql = \"\""),
        row("drill_history_size_negative", dump_drill("  history_size = -1\n"), "Invalid history_size", "history_size = -1"),
        row("drill_history_size_fraction", dump_drill("  history_size = 2.5\n"), "Invalid history_size", "history_size = 2.5"),
        row("drill_unknown_argument", dump_drill("  rpo_target = \"1h\"\n"), "Unsupported argument", "rpo_target = \"1h\""),
        // dr_drill: the source
        row("drill_no_source", drill("", &target("")), "One source block required", "resource \"dr_drill\" \"@row\""),
        row("drill_two_sources", drill("", &format!("{DUMP}  rds {{\n    instance_identifier = \"orders-db\"\n  }}\n{}", target(""))), "One source block required", "resource \"dr_drill\" \"@row\""),
        row("drill_rds_twice", drill("", "  rds {\n    instance_identifier = \"a\"\n  }\n  rds {\n    instance_identifier = \"b\"\n  }\n"), "Too many rds blocks", "rds {"),
        row("drill_rds_identifier_missing", drill("", "  rds {\n    region = \"us-west-2\"\n  }\n"), "Missing source", "rds {"),
        row("drill_rds_instance_and_cluster", rds_drill("    cluster_identifier = \"orders\"\n"), "Two sources", "cluster_identifier = \"orders\""),
        row("drill_rds_identifier_underscore", drill("", "  rds {\n    instance_identifier = \"Orders_DB\"\n  }\n"), "Invalid instance_identifier", "instance_identifier = \"Orders_DB\""),
        row("drill_rds_region_not_a_region", rds_drill("    region = \"mars\"\n"), "Invalid region", "region = \"mars\""),
        row("drill_rds_restore_time_words", rds_drill("    restore_time = \"yesterday\"\n"), "Invalid restore_time", "restore_time = \"yesterday\""),
        row("drill_rds_restore_time_not_rfc3339", rds_drill("    restore_time = \"2026-11-01 03:00\"\n"), "Invalid restore_time", "restore_time = \"2026-11-01 03:00\""),
        row("drill_rds_instance_class_without_db", rds_drill("    instance_class = \"t3.micro\"\n"), "Invalid instance_class", "instance_class = \"t3.micro\""),
        row("drill_rds_replicated_backups_without_region", rds_drill("    from_replicated_backups = true\n"), "Replicated backups need a region", "from_replicated_backups = true"),
        row("drill_rds_replicated_backups_not_a_bool", rds_drill("    from_replicated_backups = \"yes\"\n"), "Incorrect attribute value type", "from_replicated_backups = \"yes\""),
        row("drill_rds_expect_retention_zero", rds_drill("    expect_retention_days = 0\n"), "Invalid expect_retention_days", "expect_retention_days = 0"),
        row("drill_rds_expect_retention_above_35", rds_drill("    expect_retention_days = 36\n"), "Invalid expect_retention_days", "expect_retention_days = 36"),
        row("drill_rds_subnet_group_arn", rds_drill("    db_subnet_group_name = \"arn:aws:rds:us-west-2:1:subgrp:dr\"\n"), "Invalid db_subnet_group_name", "db_subnet_group_name = \"arn:aws:rds:us-west-2:1:subgrp:dr\""),
        row("drill_rds_security_group_by_name", rds_drill("    vpc_security_group_ids = [\"db-servers\"]\n"), "Invalid vpc_security_group_ids", "vpc_security_group_ids = [\"db-servers\"]"),
        row("drill_rds_security_groups_empty", rds_drill("    vpc_security_group_ids = []\n"), "Invalid vpc_security_group_ids", "vpc_security_group_ids = []"),
        row("drill_rds_parameter_group_underscore", rds_drill("    parameter_group_name = \"orders_pg15\"\n"), "Invalid parameter_group_name", "parameter_group_name = \"orders_pg15\""),
        row("drill_rds_cluster_parameter_group_on_instance", rds_drill("    db_cluster_parameter_group_name = \"orders-apg15\"\n"), "db_cluster_parameter_group_name needs a cluster", "db_cluster_parameter_group_name = \"orders-apg15\""),
        row("status_restore_target_region", status("  restore_target {\n    region = \"mars\"\n  }\n"), "Invalid region", "region = \"mars\""),
        row("status_restore_target_instance_class", status("  restore_target {\n    instance_class = \"r6g.large\"\n  }\n"), "Invalid instance_class", "instance_class = \"r6g.large\""),
        row("status_restore_target_security_group", status("  restore_target {\n    vpc_security_group_ids = [\"sg-XYZ\"]\n  }\n"), "Invalid vpc_security_group_ids", "vpc_security_group_ids = [\"sg-XYZ\"]"),
        row("drill_dump_twice", drill("", &format!("{DUMP}{DUMP}{}", target(""))), "Too many postgres_dump blocks", "postgres_dump {"),
        row("drill_dump_s3_uri_missing", drill("", &format!("  postgres_dump {{\n    region = \"us-east-1\"\n  }}\n{}", target(""))), "Missing required argument", "postgres_dump {"),
        row("drill_dump_s3_uri_https", drill("", &format!("  postgres_dump {{\n    s3_uri = \"https://backups.s3.amazonaws.com/daily/\"\n  }}\n{}", target(""))), "Invalid s3_uri", "s3_uri = \"https://backups.s3.amazonaws.com/daily/\""),
        row("drill_dump_s3_uri_without_bucket", drill("", &format!("  postgres_dump {{\n    s3_uri = \"s3://\"\n  }}\n{}", target(""))), "Invalid s3_uri", "s3_uri = \"s3://\""),
        row("drill_dump_s3_uri_bad_bucket", drill("", &format!("  postgres_dump {{\n    s3_uri = \"s3://Orders Backups/daily/\"\n  }}\n{}", target(""))), "Invalid s3_uri", "s3_uri = \"s3://Orders Backups/daily/\""),
        row("drill_dump_region_not_a_region", drill("", &format!("  postgres_dump {{\n    s3_uri = \"s3://backups/daily/\"\n    region = \"US\"\n  }}\n{}", target(""))), "Invalid region", "region = \"US\""),
        row("drill_dump_without_target", drill("", DUMP), "Missing target", "resource \"dr_drill\" \"@row\""),
        row("drill_pitr_wal_uri_not_s3", drill("", "  postgres_pitr {\n    base_backup_uri = \"s3://pg-backups/base/\"\n    wal_archive_uri = \"/var/lib/wal\"\n  }\n"), "Invalid wal_archive_uri", "wal_archive_uri = \"/var/lib/wal\""),
        row("drill_pitr_base_uri_bad_bucket", drill("", "  postgres_pitr {\n    base_backup_uri = \"s3://PG Backups/\"\n    wal_archive_uri = \"s3://wal-archive/\"\n  }\n"), "Invalid base_backup_uri", "base_backup_uri = \"s3://PG Backups/\""),
        row("drill_pitr_target_time_words", drill("", "  postgres_pitr {\n    base_backup_uri = \"s3://pg-backups/base/\"\n    wal_archive_uri = \"s3://wal-archive/\"\n    target_time = \"yesterday\"\n  }\n"), "Invalid target_time", "target_time = \"yesterday\""),
        row("drill_pitr_region_not_a_region", drill("", "  postgres_pitr {\n    base_backup_uri = \"s3://pg-backups/base/\"\n    wal_archive_uri = \"s3://wal-archive/\"\n    region = \"EU\"\n  }\n"), "Invalid region", "region = \"EU\""),
        row("drill_pitr_and_dump", drill("", &format!("{DUMP}  postgres_pitr {{\n    base_backup_uri = \"s3://pg-backups/base/\"\n    wal_archive_uri = \"s3://wal-archive/\"\n  }}\n{}", target(""))), "One source block required", "resource \"dr_drill\" \"@row\""),
        // dr_drill: target
        row("drill_target_twice", drill("", &format!("{DUMP}{t}{t}", t = target(""))), "Too many target blocks", "target {"),
        row("drill_target_host_missing", drill("", &format!("{DUMP}  target {{\n    username = \"drill\"\n  }}\n")), "Missing required argument", "target {"),
        row("drill_target_host_empty", drill("", &format!("{DUMP}  target {{\n    host = \"\"\n    username = \"drill\"\n  }}\n")), "Invalid host", "host = \"\""),
        row("drill_target_username_empty", drill("", &format!("{DUMP}  target {{\n    host = \"db.internal\"\n    username = \"\"\n  }}\n")), "Invalid username", "username = \"\""),
        row("drill_target_port_zero", target_drill("    port = 0\n"), "Invalid port", "port = 0"),
        row("drill_target_port_above_65535", target_drill("    port = 70000\n"), "Invalid port", "port = 70000"),
        row("drill_target_port_fraction", target_drill("    port = 5432.5\n"), "Invalid port", "port = 5432.5"),
        row("drill_target_database_empty", target_drill("    database = \"\"\n"), "Invalid database", "database = \"\""),
        row("drill_target_password_env_with_spaces", drill("", &format!("{DUMP}  target {{\n    host = \"db.internal\"\n    username = \"drill\"\n    password_env = \"not a variable name\"\n  }}\n")), "Invalid password_env", "password_env = \"not a variable name\""),
        row("drill_target_password_env_empty", drill("", &format!("{DUMP}  target {{\n    host = \"db.internal\"\n    username = \"drill\"\n    password_env = \"\"\n  }}\n")), "Invalid password_env", "password_env = \"\""),
        row("drill_target_pg_bin_dir_empty", target_drill("    pg_bin_dir = \"\"\n"), "Invalid pg_bin_dir", "pg_bin_dir = \"\""),
        // dr_drill: verify
        row("drill_verify_sql_missing", verify_drill("    name = \"n\"\n    expect = \"> 0\"\n"), "Nothing to verify", "verify {"),
        row("drill_verify_sql_and_command", verify_drill("    name = \"n\"\n    sql = \"SELECT 1\"\n    expect = \"> 0\"\n    command = [\"./smoke.sh\"]\n"), "Both a query and a command", "command = [\"./smoke.sh\"]"),
        row("drill_verify_command_empty", verify_drill("    name = \"n\"\n    command = []\n"), "Invalid command", "command = []"),
        row("drill_verify_timeout_without_command", verify_drill("    name = \"n\"\n    sql = \"SELECT 1\"\n    expect = \"> 0\"\n    timeout = \"1m\"\n"), "timeout without command", "timeout = \"1m\""),
        row("drill_verify_command_timeout_zero", verify_drill("    name = \"n\"\n    command = [\"true\"]\n    timeout = \"0\"\n"), "Invalid timeout", "timeout = \"0\""),
        row("drill_decrypt_cipher_unknown", drill("", &format!("  postgres_dump {{\n    s3_uri = \"s3://backups/daily/\"\n    decrypt {{\n      openssl_cipher = \"des-ede3-cbc\"\n      key_env = \"BACKUP_PASS\"\n    }}\n  }}\n{}", target(""))), "Unsupported openssl_cipher", "openssl_cipher = \"des-ede3-cbc\""),
        row("drill_decrypt_iter_without_pbkdf2", drill("", &format!("  postgres_dump {{\n    s3_uri = \"s3://backups/daily/\"\n    decrypt {{\n      openssl_cipher = \"aes-256-cbc\"\n      key_env = \"BACKUP_PASS\"\n      iter = 1000\n    }}\n  }}\n{}", target(""))), "iter without pbkdf2", "iter = 1000"),
        row("drill_decrypt_key_env_a_passphrase", drill("", &format!("  postgres_dump {{\n    s3_uri = \"s3://backups/daily/\"\n    decrypt {{\n      openssl_cipher = \"aes-256-cbc\"\n      key_env = \"hunter2 hunter2\"\n    }}\n  }}\n{}", target(""))), "Invalid key_env", "key_env = \"hunter2 hunter2\""),
        row("drill_verify_name_empty", verify_drill("    name = \"\"\n    sql = \"SELECT 1\"\n    expect = \"> 0\"\n"), "Invalid verify name", "name = \"\""),
        row("drill_verify_sql_empty", verify_drill("    name = \"n\"\n    sql = \"\"\n    expect = \"> 0\"\n"), "Invalid sql", "sql = \"\""),
        row("drill_verify_expect_words", verify_drill("    name = \"n\"\n    sql = \"SELECT 1\"\n    expect = \"about 5\"\n"), "Invalid expect", "expect = \"about 5\""),
        row("drill_verify_expect_empty", verify_drill("    name = \"n\"\n    sql = \"SELECT 1\"\n    expect = \"\"\n"), "Invalid expect", "expect = \"\""),
        row("drill_verify_expect_rows_of_text", verify_drill("    name = \"n\"\n    sql = \"SELECT 1\"\n    expect = \"rows > many\"\n"), "Invalid expect", "expect = \"rows > many\""),
        row("drill_verify_name_twice", drill("", &format!("{DUMP}{}  verify {{\n    name = \"count\"\n    sql = \"SELECT 1\"\n    expect = \"> 0\"\n  }}\n  verify {{\n    name = \"count\" # again\n    sql = \"SELECT 2\"\n    expect = \"> 0\"\n  }}\n", target(""))), "Check named twice", "name = \"count\" # again"),
        // dr_runbook
        row("runbook_policy_id_missing", "data \"dr_runbook\" \"@row\" {\n  title = \"t\"\n}\n", "Missing required argument", "data \"dr_runbook\" \"@row\""),
        row("runbook_policy_id_empty", "data \"dr_runbook\" \"@row\" {\n  policy_id = \"\"\n}\n", "Invalid policy_id", "policy_id = \"\""),
        row("runbook_rds_instances_bad_identifier", runbook("  rds_instances = [\"Orders_DB\"]\n"), "Invalid rds_instances", "rds_instances = [\"Orders_DB\"]"),
        row("runbook_rds_instances_not_a_list", runbook("  rds_instances = \"orders-db\"\n"), "Incorrect attribute value type", "rds_instances = \"orders-db\""),
        row("runbook_buckets_bad_name", runbook("  buckets = [\"Orders Backups\"]\n"), "Invalid buckets", "buckets = [\"Orders Backups\"]"),
        row("runbook_drill_report_not_json", runbook("  drill_report = \"passed\"\n"), "Invalid drill_report", "drill_report = \"passed\""),
        row("runbook_title_empty", runbook("  title = \"\"\n"), "Invalid title", "title = \"\""),
        row("runbook_dns_record_with_space", runbook("  dns_record = \"db orders\"\n"), "Invalid dns_record", "dns_record = \"db orders\""),
        row("runbook_hosted_zone_id_shell", runbook("  dns_record = \"db.orders.example.com\"\n  hosted_zone_id = \"Z1; rm -rf /\"\n"), "Invalid hosted_zone_id", "hosted_zone_id = \"Z1; rm -rf /\""),
        row("runbook_hosted_zone_id_without_dns_record", runbook("  hosted_zone_id = \"Z0123456789ABCDEFGHIJ\"\n"), "hosted_zone_id without dns_record", "hosted_zone_id = \"Z0123456789ABCDEFGHIJ\""),
        row("runbook_notify_empty", runbook("  notify = \"\"\n"), "Invalid notify", "notify = \"\""),
    ]
}

/// Rows only `terraform plan` can report: they need the provider's regions or AWS.
fn plan_rows() -> Vec<Row> {
    vec![
        row("policy_replica_region_is_primary", rds("    cross_region_replica {\n      region = \"us-east-1\"\n    }\n"), "DR policy cannot meet its targets", "region = \"us-east-1\""),
        row("policy_replica_kms_key_of_another_region", rds("    cross_region_replica {\n      kms_key_id = \"arn:aws:kms:eu-west-1:123456789012:key/k\"\n    }\n"), "KMS key in the wrong region", "kms_key_id = \"arn:aws:kms:eu-west-1"),
        row("policy_replica_without_dr_region", without_dr_region("  rds {\n    instance_identifier = \"@db\"\n    cross_region_replica {}\n  }\n"), "No DR region for the replica", "cross_region_replica {}"),
        row("policy_backups_region_is_primary", rds("    cross_region_backups {\n      region = \"us-east-1\"\n    }\n"), "DR policy cannot meet its targets", "region = \"us-east-1\""),
        row("policy_backups_kms_key_of_another_region", rds("    cross_region_backups {\n      kms_key_id = \"arn:aws:kms:eu-west-1:123456789012:key/k\"\n    }\n"), "KMS key in the wrong region", "kms_key_id = \"arn:aws:kms:eu-west-1"),
        row("policy_backups_without_dr_region", without_dr_region("  rds {\n    instance_identifier = \"@db\"\n    cross_region_backups {}\n  }\n"), "No DR region for the backups", "cross_region_backups {}"),
        row("policy_replication_region_is_primary", s3(&replication("      destination_region = \"us-east-1\"\n")), "DR policy cannot meet its targets", "destination_region = \"us-east-1\""),
        row("policy_replication_replica_kms_key_of_another_region", s3(&format!("    encryption {{\n      kms_key_id = \"arn:aws:kms:us-east-1:123456789012:key/k\"\n    }}\n{}", replication("      replica_kms_key_id = \"arn:aws:kms:eu-west-1:123456789012:key/k\"\n"))), "KMS key in the wrong region", "replica_kms_key_id = \"arn:aws:kms:eu-west-1"),
        row("policy_replication_without_dr_region", without_dr_region(&format!("  s3 {{\n    bucket = \"@bkt\"\n{}  }}\n", replication(""))), "No destination region", "replication {"),
        row("runbook_rds_instance_not_found", runbook("  rds_instances = [\"no-such-db\"]\n"), "RDS instance not found", "rds_instances = [\"no-such-db\"]"),
        row("runbook_bucket_not_found", runbook("  rds_instances = []\n  buckets = [\"no-such-bucket\"]\n"), "Bucket not found", "buckets = [\"no-such-bucket\"]"),
    ]
}

// ---------------------------------------------------------------------------------------
// Running the table
// ---------------------------------------------------------------------------------------

/// One diagnostic as Terraform prints it.
#[derive(Debug)]
struct Printed {
    /// `Error` or `Warning`.
    severity: String,
    /// The summary line.
    summary: String,
    /// The file of `on FILE line N`, if any.
    file: Option<String>,
    /// The quoted source lines (`  N: ...`).
    source: String,
    /// The whole block, without box-drawing characters.
    text: String,
}

/// Splits terraform's output into diagnostics.
fn diagnostics(output: &str) -> Vec<Printed> {
    let lines: Vec<&str> = output
        .lines()
        .map(|l| l.trim_start_matches(['│', '╷', '╵']).trim_end())
        .collect();
    let mut out = Vec::new();
    let starts: Vec<usize> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("Error: ") || l.starts_with("Warning: "))
        .map(|(i, _)| i)
        .chain([lines.len()])
        .collect();
    for pair in starts.windows(2) {
        let block = &lines[pair[0]..pair[1]];
        let (severity, summary) = block[0].split_once(": ").unwrap();
        let mut file = None;
        let mut source = Vec::new();
        for (i, l) in block.iter().enumerate() {
            if let Some(rest) = l.trim_start().strip_prefix("on ") {
                if let Some((f, _)) = rest.split_once(" line ") {
                    file = Some(f.to_string());
                    source = block[i + 1..]
                        .iter()
                        .take_while(|s| !s.trim().is_empty())
                        .map(|s| s.to_string())
                        .collect();
                    break;
                }
            }
        }
        out.push(Printed {
            severity: severity.to_string(),
            summary: summary.to_string(),
            file,
            source: source.join("\n"),
            text: block.join("\n").trim().to_string(),
        });
    }
    out
}

/// Replaces the row's placeholders.
fn expand(text: &str, name: &str, endpoint: &str) -> String {
    let dashed = name.replace('_', "-");
    text.replace("@db", &dashed)
        .replace("@bkt", &dashed)
        .replace("@row", name)
        .replace("@ep", endpoint)
}

/// Writes every row as `<row>.tf`, runs `terraform args`, checks every row's error and
/// snapshots the rendered errors as `<phase>_<object>`.
fn run_table(tf: &Terraform, rows: &[Row], endpoint: &str, args: &[&str], phase: &str) {
    let mut names = std::collections::HashSet::new();
    for r in rows {
        assert!(names.insert(r.name), "row {} appears twice", r.name);
        tf.write(&format!("{}.tf", r.name), &expand(&r.hcl, r.name, endpoint))
            .unwrap();
    }
    let out = tf.run(args).unwrap();
    assert!(
        !out.success(),
        "terraform {} accepted every invalid row:\n{out}",
        args.join(" ")
    );
    let printed = diagnostics(&out.combined());

    // Every error belongs to a row.
    let stray: Vec<&Printed> = printed
        .iter()
        .filter(|p| p.severity == "Error")
        .filter(|p| {
            p.file
                .as_deref()
                .and_then(|f| f.strip_suffix(".tf"))
                .is_none_or(|f| !names.contains(f))
        })
        .collect();
    assert!(
        stray.is_empty(),
        "errors outside the table's rows:\n{}",
        stray
            .iter()
            .map(|p| p.text.as_str())
            .collect::<Vec<_>>()
            .join("\n\n")
    );

    let mut failures = Vec::new();
    let mut snapshots: BTreeMap<&str, String> = BTreeMap::new();
    for r in rows {
        let file = format!("{}.tf", r.name);
        let at = expand(r.at, r.name, endpoint);
        let mut own: Vec<&Printed> = printed
            .iter()
            .filter(|p| p.file.as_deref() == Some(file.as_str()))
            .collect();
        own.sort_by(|a, b| (&a.source, &a.summary).cmp(&(&b.source, &b.summary)));
        let found = own
            .iter()
            .any(|p| p.summary.contains(r.summary) && p.source.contains(&at));
        if !found {
            failures.push(format!(
                "{}: expected {:?} pointing at {at:?}, got:\n{}",
                r.name,
                r.summary,
                if own.is_empty() {
                    "  (nothing: the invalid form is accepted)".to_string()
                } else {
                    own.iter()
                        .map(|p| format!("  {}", p.text.replace('\n', "\n  ")))
                        .collect::<Vec<_>>()
                        .join("\n\n")
                }
            ));
        }
        let object = match r.name.split('_').next().unwrap() {
            "provider" => "provider",
            "policy" => "dr_policy",
            "drill" => "dr_drill",
            "runbook" => "dr_runbook",
            "status" => "dr_status",
            other => panic!("row {} names no object ({other})", r.name),
        };
        let section = snapshots.entry(object).or_default();
        section.push_str(&format!("──── {}\n", r.name));
        for p in own {
            section.push_str(&p.text);
            section.push_str("\n\n");
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} rows lack their error:\n\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n\n")
    );
    for (object, text) in snapshots {
        insta::assert_snapshot!(format!("{phase}_{object}"), text.trim_end());
    }
}

#[test]
fn validate_reports_every_invalid_form_on_its_attribute() {
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(drkit_testkit::tools::offline_aws_env());
    // The default provider: validate needs no endpoint.
    tf.write(
        "main.tf",
        "terraform {\n  required_providers {\n    dr = { source = \"drkit/dr\" }\n  }\n}\n\nprovider \"dr\" {\n  region    = \"us-east-1\"\n  dr_region = \"us-west-2\"\n}\n",
    )
    .unwrap();
    run_table(
        &tf,
        &validate_rows(),
        "http://127.0.0.1:1",
        &["validate"],
        "validate",
    );
}

#[test]
fn plan_reports_what_needs_regions_or_aws_on_its_attribute() {
    let moto = Moto::start().unwrap();
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(moto.env());
    tf.write("main.tf", &provider_block(&moto)).unwrap();
    let rows = plan_rows();
    run_table(
        &tf,
        &rows,
        moto.endpoint(),
        &["plan", "-input=false"],
        "plan",
    );
}

//! `--explain-unknown`: what each rule could not judge, and why, without a finding.

mod cli_support;

use cli_support::Project;

const DB: &str = r#"variable "protect" {}

resource "aws_db_instance" "main" {
  identifier              = "orders"
  deletion_protection     = var.protect
  backup_retention_period = 14
}
"#;

#[test]
fn unknown_values_are_listed_per_rule_with_the_reason_and_never_become_findings() {
    let p = Project::new();
    p.file("db.tf", DB);
    let run = p.run(&["--select", "DR003", "--format", "json", "--explain-unknown"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert!(
        v["findings"].as_array().unwrap().is_empty(),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("DR003 missing-deletion-protection:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "aws_db_instance.main (db.tf:5:3): deletion_protection = var.protect: var.protect has no default"
        ),
        "{}",
        run.stderr
    );
    // The JSON report keeps exactly its shape.
    let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["errors", "files", "findings"]);
}

#[test]
fn a_value_from_a_tfvars_file_is_known_and_not_listed() {
    let p = Project::new();
    p.file("db.tf", DB);
    p.file("terraform.tfvars", "protect = false\n");
    let run = p.run(&["--select", "DR003", "--explain-unknown"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stderr.contains("every rule could judge every resource"),
        "{}",
        run.stderr
    );
}

#[test]
fn without_the_flag_nothing_is_listed() {
    let p = Project::new();
    p.file("db.tf", DB);
    let run = p.run(&["--select", "DR003"]);
    assert!(!run.stderr.contains("var.protect"), "{}", run.stderr);
}

#[test]
fn a_reference_known_only_after_apply_is_named() {
    let p = Project::new();
    p.file(
        "db.tf",
        "resource \"aws_db_instance\" \"main\" {\n  identifier          = \"orders\"\n  deletion_protection = true\n  storage_encrypted   = aws_kms_key.rds.enabled\n}\n",
    );
    let run = p.run(&["--select", "DR007", "--explain-unknown"]);
    assert!(
        run.stderr.contains("storage_encrypted = aws_kms_key.rds.enabled: aws_kms_key.rds is known only after apply"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_null_default_is_not_set_and_is_judged_not_listed() {
    let p = Project::new();
    p.file(
        "db.tf",
        "variable \"protect\" {\n  type    = bool\n  default = null\n}\n\nresource \"aws_db_instance\" \"main\" {\n  identifier          = \"orders\"\n  deletion_protection = var.protect\n}\n",
    );
    let run = p.run(&["--select", "DR003", "--explain-unknown"]);
    // Null is the AWS default (off): a finding at the attribute, nothing unjudged.
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "deletion_protection is null (not set): one mistaken destroy deletes the database"
        ),
        "{}",
        run.stdout
    );
    assert!(!run.stderr.contains("has no default"), "{}", run.stderr);
    assert!(
        run.stderr.contains("every rule could judge every resource"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unknown_value_from_the_caller_names_the_caller() {
    let p = Project::new();
    p.file(
        "main.tf",
        "variable \"protect\" {}\n\nmodule \"db\" {\n  source  = \"./db\"\n  protect = !var.protect\n}\n",
    );
    p.file(
        "db/main.tf",
        "variable \"protect\" {\n  default = true\n}\n\nresource \"aws_db_instance\" \"main\" {\n  identifier          = \"orders\"\n  deletion_protection = var.protect\n}\n",
    );
    let run = p.run(&["--select", "DR003", "--explain-unknown", "."]);
    assert!(
        run.stderr.contains(
            "the value the module's caller passes for var.protect (main.tf:5) cannot be evaluated before apply"
        ),
        "{}",
        run.stderr
    );
}

/// The split `aws_s3_bucket_versioning` with a status known only at apply is left open and
/// listed, as the legacy inline `versioning { enabled = var.x }` is (Checkov passes both).
#[test]
fn a_split_versioning_status_known_only_at_apply_is_listed() {
    let p = Project::new();
    p.file(
        "s3.tf",
        r#"variable "status" {}

resource "aws_s3_bucket" "data" {
  bucket = "orders-data"
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "${var.status}"
  }
}
"#,
    );
    let run = p.run(&["--select", "DR008", "--explain-unknown"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains("DR008 unversioned-bucket:"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(
            "aws_s3_bucket_versioning.data (s3.tf:10:5): versioning_configuration.status"
        ),
        "{}",
        run.stderr
    );
}

/// DR019: a cross-region replica whose source's encryption, or whose source, is known only
/// at apply is listed with the reason; a `.tfvars` value that decides it makes a finding.
#[test]
fn a_cross_region_replica_of_a_source_of_unknown_encryption_is_listed() {
    const REPLICA: &str = r#"provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "dr"
  region = "us-west-2"
}

variable "encrypted" {
  type = bool
}

variable "replica_key" {
  type = string
}

resource "aws_db_instance" "orders" {
  identifier        = "orders"
  storage_encrypted = var.encrypted
}

resource "aws_db_instance" "orders_dr" {
  provider            = aws.dr
  identifier          = "orders-dr"
  replicate_source_db = aws_db_instance.orders.arn
}

resource "aws_db_instance" "orders_dr2" {
  provider            = aws.dr
  identifier          = "orders-dr2"
  replicate_source_db = aws_db_instance.orders.arn
  kms_key_id          = var.replica_key
}
"#;
    let p = Project::new();
    p.file("db.tf", REPLICA);
    let run = p.run(&["--select", "DR019", "--explain-unknown"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "aws_db_instance.orders_dr (db.tf:26:3): replicate_source_db: whether aws_db_instance.orders is encrypted"
        ),
        "{}",
        run.stderr
    );
    p.file("terraform.tfvars", "encrypted = true\n");
    let run = p.run(&["--select", "DR019", "--explain-unknown"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("aws_db_instance.orders_dr")
            && run.stdout.contains("KMS key in us-west-2")
            && !run.stdout.contains("orders_dr2"),
        "{}",
        run.stdout
    );
    // The key from a variable without a value is not known to be missing: listed only.
    assert!(
        run.stderr.contains(
            "aws_db_instance.orders_dr2 (db.tf:33:3): kms_key_id = var.replica_key: var.replica_key has no default"
        ),
        "{}",
        run.stderr
    );
}

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

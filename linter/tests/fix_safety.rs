//! `--fix` writes only what is safe to apply: added resources follow the one they fix,
//! values are fixed where they are decided (never a literal over an expression), replicas
//! keep `skip_final_snapshot`, files keep their line endings, byte-order mark and final
//! newline, and a second `--fix` changes nothing in files `terraform fmt -check` accepts.

mod cli_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use cli_support::{terraform, Project};

/// `terraform fmt -check` on one file; its output when it fails.
fn fmt_check(file: &Path) -> Result<(), String> {
    let out = Command::new(terraform())
        .args(["fmt", "-check", "-diff"])
        .arg(file)
        .output()
        .expect("run terraform fmt");
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Runs `drlint --no-config --fix ARGS` and checks that every `.tf` file it changed is
/// `terraform fmt` clean.
fn fix(p: &Project, args: &[&str]) -> cli_support::Run {
    let before = tf_files(p.root());
    let mut all = vec!["--no-config", "--fix"];
    all.extend_from_slice(args);
    let run = p.run(&all);
    assert!(run.code < 2, "{run:?}");
    for (file, text) in before {
        if std::fs::read_to_string(&file).unwrap() != text {
            if let Err(e) = fmt_check(&file) {
                panic!("{} is not fmt clean after --fix:\n{e}", file.display());
            }
        }
    }
    run
}

fn tf_files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(tf_files(&path));
        } else if path.extension().is_some_and(|e| e == "tf") {
            let text = std::fs::read_to_string(&path).unwrap();
            out.push((path, text));
        }
    }
    out.sort();
    out
}

#[test]
fn added_versioning_follows_its_bucket_provider_count_and_for_each() {
    let p = Project::new();
    p.file(
        "buckets.tf",
        r#"variable "tenants" {
  type    = set(string)
  default = ["acme", "globex"]
}

variable "create_copy" {
  type    = bool
  default = true
}

resource "aws_s3_bucket" "backups_copy" {
  provider = aws.dr
  bucket   = "orders-backups-copy"
}

resource "aws_s3_bucket" "dumps" {
  count    = var.create_copy ? 2 : 0
  provider = aws.dr
  bucket   = "orders-dumps-${count.index}"
}

resource "aws_s3_bucket" "tenant_backups" {
  for_each = {
    for t in var.tenants : t => "${t}-backups"
  }
  region = "eu-west-1"
  bucket = each.value
}
"#,
    );
    fix(&p, &["--select", "DR008"]);
    let fixed = p.read("buckets.tf");
    for expected in [
        "resource \"aws_s3_bucket_versioning\" \"backups_copy\" {\n  provider = aws.dr\n\n  bucket = aws_s3_bucket.backups_copy.id\n",
        "resource \"aws_s3_bucket_versioning\" \"dumps\" {\n  count    = var.create_copy ? 2 : 0\n  provider = aws.dr\n\n  bucket = aws_s3_bucket.dumps[count.index].id\n",
        "resource \"aws_s3_bucket_versioning\" \"tenant_backups\" {\n  for_each = {\n    for t in var.tenants : t => \"${t}-backups\"\n  }\n  region = \"eu-west-1\"\n\n  bucket = aws_s3_bucket.tenant_backups[each.key].id\n",
    ] {
        assert!(fixed.contains(expected), "{expected}\nnot in\n{fixed}");
    }
    // Every bucket is versioned now, so a second run has nothing to say.
    let again = p.run(&["--no-config", "--select", "DR008"]);
    assert_eq!(again.code, 0, "{again:?}");
}

/// A shared module whose settings come from variables, called three ways.
fn module_with_callers(p: &Project) {
    p.file(
        "main.tf",
        r#"module "orders" {
  source     = "./modules/db"
  identifier = "orders"
}

# drlint:ignore DR003 scratch copy, recreated nightly from the orders snapshot
module "scratch" {
  source              = "./modules/db"
  identifier          = "scratch"
  deletion_protection = false
}

module "users" {
  source              = "./modules/db"
  identifier          = "users"
  deletion_protection = var.protect_users
}

variable "protect_users" {
  type    = bool
  default = false
}

locals {
  protect_reports = false
}

module "reports" {
  source              = "./modules/db"
  identifier          = "reports"
  deletion_protection = local.protect_reports
}
"#,
    );
    p.file(
        "modules/db/variables.tf",
        r#"variable "identifier" {
  type = string
}

variable "deletion_protection" {
  type    = bool
  default = false
}

variable "copy_tags" {
  type    = bool
  default = false
}
"#,
    );
    p.file(
        "modules/db/main.tf",
        r#"locals {
  keep_backups = false
}

resource "aws_db_instance" "this" {
  identifier                = var.identifier
  engine                    = "postgres"
  instance_class            = "db.t3.micro"
  deletion_protection       = var.deletion_protection
  copy_tags_to_snapshot     = var.copy_tags
  delete_automated_backups  = !local.keep_backups
  backup_retention_period   = 7
  skip_final_snapshot       = false
  final_snapshot_identifier = "${var.identifier}-final"
}
"#,
    );
}

#[test]
fn a_value_from_a_variable_is_fixed_where_it_is_decided() {
    let p = Project::new();
    module_with_callers(&p);
    let module_before = p.read("modules/db/main.tf");
    let run = fix(&p, &["--select", "DR003,DR005,DR017"]);
    // The module's expressions are never overwritten with literals.
    assert_eq!(p.read("modules/db/main.tf"), module_before);
    let main = p.read("main.tf");
    // The caller that passed nothing now passes protection; the suppressed opt-out and
    // the expression passed by `users` stay as they were, and the root variable `users`
    // passes on is decided by its default.
    assert!(
        main.starts_with("module \"orders\" {\n  source              = \"./modules/db\"\n  identifier          = \"orders\"\n  deletion_protection = true\n}\n"),
        "{main}"
    );
    assert!(main.contains("  identifier          = \"scratch\"\n  deletion_protection = false\n"));
    assert!(main.contains("deletion_protection = var.protect_users"));
    assert!(
        main.contains("variable \"protect_users\" {\n  type    = bool\n  default = true\n}"),
        "{main}"
    );
    // No caller sets copy_tags: its default is where the value is decided.
    assert!(
        p.read("modules/db/variables.tf")
            .contains("variable \"copy_tags\" {\n  type    = bool\n  default = true\n}"),
        "{}",
        p.read("modules/db/variables.tf")
    );
    assert!(main.contains("  deletion_protection = local.protect_reports\n"));
    // What is left says where the value comes from, and offers no automatic fix.
    assert!(
        run.stdout.contains(
            "(the value is `local.protect_reports`, passed by the module block at main.tf:29)"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("(the value comes from the expression `!local.keep_backups`)"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("fixable with"), "{}", run.stdout);
}

/// Terraform 0.11 wrote a reference as a template of it (`"${var.x}"`), and modules of that
/// age still do: Terraform evaluates it to the reference's own value, so findings and fixes
/// trace it like `var.x`, through callers and to defaults, and like `local.x`.
#[test]
fn a_reference_in_the_legacy_interpolation_spelling_is_traced_like_the_reference() {
    let p = Project::new();
    p.file(
        "main.tf",
        r#"module "orders" {
  source     = "./modules/db"
  identifier = "orders"
}

module "users" {
  source     = "./modules/db"
  identifier = "users"
  protect    = "${var.protect_users}"
}

variable "protect_users" {
  default = false
}
"#,
    );
    p.file(
        "modules/db/main.tf",
        r#"variable "identifier" {}

variable "protect" {
  default = false
}

locals {
  copy_tags = false
}

resource "aws_db_instance" "this" {
  identifier            = "${var.identifier}"
  engine                = "postgres"
  instance_class        = "db.t3.micro"
  deletion_protection   = "${var.protect}"
  copy_tags_to_snapshot = "${local.copy_tags}"
}
"#,
    );
    let module_before = p.read("modules/db/main.tf");
    let check = p.run(&["--no-config", "--select", "DR003,DR017"]);
    // The findings point at the literals that decide the values, not at the templates.
    assert!(
        check.stdout.contains("(the default of var.protect_users)"),
        "{}",
        check.stdout
    );
    assert!(
        check
            .stdout
            .contains("(the value comes from local.copy_tags at main.tf:8)"),
        "{}",
        check.stdout
    );
    assert!(
        !check
            .stdout
            .contains("the value comes from the expression `\"${"),
        "{}",
        check.stdout
    );
    // Not through `fix()`: `terraform fmt` itself rewrites `"${var.x}"` to `var.x`, so
    // these files are not fmt clean before or after; the fix leaves the templates alone.
    let run = p.run(&["--no-config", "--fix", "--select", "DR003"]);
    assert!(run.code < 2, "{run:?}");
    assert_eq!(p.read("modules/db/main.tf"), module_before);
    let main = p.read("main.tf");
    assert!(
        main.starts_with(
            "module \"orders\" {\n  source     = \"./modules/db\"\n  identifier = \"orders\"\n  protect    = true\n}\n"
        ),
        "{main}"
    );
    assert!(
        main.contains("  protect    = \"${var.protect_users}\"\n"),
        "{main}"
    );
    assert!(
        main.contains("variable \"protect_users\" {\n  default = true\n}"),
        "{main}"
    );
}

/// A database module whose deletion protection is its variable's, off by default.
const DB_MODULE: &str = r#"variable "identifier" {
  type = string
}

variable "deletion_protection" {
  type    = bool
  default = false
}

resource "aws_db_instance" "this" {
  identifier          = var.identifier
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  deletion_protection = var.deletion_protection
}
"#;

#[test]
fn a_default_shared_with_a_suppressed_caller_is_not_changed() {
    let p = Project::new();
    p.file(
        "main.tf",
        r#"module "orders" {
  source     = "./modules/db"
  identifier = "orders"
}

# drlint:ignore DR003 scratch copy, recreated nightly from the orders snapshot
module "scratch" {
  source     = "./modules/db"
  identifier = "scratch"
}
"#,
    );
    p.file("modules/db/main.tf", DB_MODULE);
    let run = fix(&p, &["--select", "DR003"]);
    assert_eq!(p.read("modules/db/main.tf"), DB_MODULE);
    assert!(
        run.stdout.contains("not applied: it would also change module.scratch.aws_db_instance.this, whose finding is suppressed"),
        "{}",
        run.stdout
    );
    assert_eq!(run.code, 1, "the orders finding stays: {run:?}");
}

#[test]
fn a_root_variable_default_is_fixed_and_a_value_from_tfvars_is_not() {
    let p = Project::new();
    let variables = r#"variable "protect" {
  type    = bool
  default = false
}

variable "delete_backups" {
  type    = bool
  default = true
}
"#;
    p.file("variables.tf", variables);
    p.file(
        "main.tf",
        r#"resource "aws_db_instance" "main" {
  identifier               = "orders"
  deletion_protection      = var.protect
  delete_automated_backups = var.delete_backups
  backup_retention_period  = 7
}
"#,
    );
    // The value the default has, set again by the tfvars file: changing the default
    // would change nothing.
    p.file(
        "terraform.tfvars",
        "protect_reports = true\n\ndelete_backups = true\n",
    );
    let main = p.read("main.tf");
    let run = fix(&p, &["--select", "DR003,DR005"]);
    assert_eq!(p.read("main.tf"), main, "expressions stay");
    assert_eq!(
        p.read("variables.tf"),
        variables.replacen("default = false", "default = true", 1),
        "the default nobody overrides is where protection is decided"
    );
    assert_eq!(
        p.read("terraform.tfvars"),
        "protect_reports = true\n\ndelete_backups = true\n"
    );
    assert!(
        run.stdout
            .contains("(var.delete_backups is set in terraform.tfvars:3)"),
        "{}",
        run.stdout
    );
}

/// Terraform loads `terraform.tfvars.json` and `*.auto.tfvars.json` as it loads their HCL
/// twins: a value set there is not decided by the default either.
#[test]
fn a_value_from_an_auto_tfvars_json_file_is_not_fixed_at_the_default() {
    let p = Project::new();
    let variables = r#"variable "delete_backups" {
  type    = bool
  default = true
}
"#;
    p.file("variables.tf", variables);
    p.file(
        "main.tf",
        r#"resource "aws_db_instance" "main" {
  identifier               = "orders"
  deletion_protection      = true
  delete_automated_backups = var.delete_backups
  backup_retention_period  = 7
}
"#,
    );
    let tfvars = "{\n  \"region\": \"eu-west-1\",\n  \"delete_backups\": true\n}\n";
    p.file("ci.auto.tfvars.json", tfvars);
    let run = fix(&p, &["--select", "DR005"]);
    assert_eq!(
        p.read("variables.tf"),
        variables,
        "the default decides nothing"
    );
    assert_eq!(
        p.read("ci.auto.tfvars.json"),
        tfvars,
        "--fix never writes JSON"
    );
    assert!(
        run.stdout
            .contains("(var.delete_backups is set in ci.auto.tfvars.json:3)"),
        "{}",
        run.stdout
    );
}

#[test]
fn read_replicas_and_global_secondaries_keep_skip_final_snapshot() {
    let p = Project::new();
    let replicas = r#"resource "aws_db_instance" "replica" {
  identifier          = "orders-replica"
  replicate_source_db = aws_db_instance.main.arn
  instance_class      = "db.t3.micro"
  skip_final_snapshot = true
}

resource "aws_rds_cluster" "eu" {
  provider                  = aws.dr
  cluster_identifier        = "orders-eu"
  engine                    = "aurora-postgresql"
  global_cluster_identifier = "orders"
  source_region             = "us-east-1"
  skip_final_snapshot       = true
}
"#;
    p.file("replicas.tf", replicas);
    p.file(
        "main.tf",
        r#"resource "aws_db_instance" "main" {
  identifier          = "orders"
  engine              = "postgres"
  instance_class      = "db.t3.micro"
  skip_final_snapshot = true
}
"#,
    );
    fix(&p, &["--select", "DR006"]);
    assert_eq!(p.read("replicas.tf"), replicas);
    assert!(
        p.read("main.tf").contains(
            "  skip_final_snapshot       = false\n  final_snapshot_identifier = \"orders-final\"\n"
        ),
        "{}",
        p.read("main.tf")
    );
}

#[test]
fn fix_keeps_crlf_the_byte_order_mark_and_a_missing_final_newline() {
    let p = Project::new();
    let source = "\u{feff}resource \"aws_db_instance\" \"main\" {\r\n  identifier          = \"orders\"\r\n  skip_final_snapshot = true\r\n}\r\n\r\nresource \"aws_s3_bucket\" \"backups\" {\r\n  bucket = \"orders-backups\"\r\n}";
    p.file("main.tf", source);
    let run = p.run(&["--no-config", "--fix", "--select", "DR003,DR006,DR008"]);
    assert!(run.code < 2, "{run:?}");
    let fixed = p.read("main.tf");
    assert_ne!(fixed, source);
    assert!(fixed.starts_with('\u{feff}'), "{fixed:?}");
    assert!(
        !fixed.replace("\r\n", "").contains('\n'),
        "every line ends in CRLF: {fixed:?}"
    );
    assert!(fixed.ends_with('}'), "still no final newline: {fixed:?}");
    // `terraform fmt` removes a byte-order mark, so `fmt -check` fails on every file that
    // has one, however it is formatted (terraform's own behaviour, pinned here on a file
    // drlint never touched). `--fix` keeps the mark as it keeps the line endings: what
    // the fixed file differs from fmt's output in is the mark alone (CRLF and a missing
    // final newline are fmt clean).
    p.file(
        "bom_only/main.tf",
        "\u{feff}resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n",
    );
    assert!(fmt_check(&p.root().join("bom_only/main.tf")).is_err());
    p.file(
        "bom_only/main.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"x\"\n}\n",
    );
    fmt_check(&p.root().join("bom_only/main.tf")).unwrap();
    p.file("unmarked/main.tf", fixed.trim_start_matches('\u{feff}'));
    fmt_check(&p.root().join("unmarked/main.tf")).unwrap();
    // Nothing left to fix, and nothing changes on a second run.
    let again = p.run(&[
        "--no-config",
        "--fix",
        "--select",
        "DR003,DR006,DR008",
        "main.tf",
    ]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(p.read("main.tf"), fixed);
}

#[test]
fn inserted_attributes_join_and_realign_their_neighbours() {
    let p = Project::new();
    p.file(
        "main.tf",
        r#"resource "aws_db_instance" "main" {
  identifier     = "orders"
  engine         = "postgres"
  instance_class = "db.t3.micro"
}
"#,
    );
    fix(&p, &["--select", "DR003,DR005,DR017"]);
    assert_eq!(
        p.read("main.tf"),
        r#"resource "aws_db_instance" "main" {
  identifier               = "orders"
  engine                   = "postgres"
  instance_class           = "db.t3.micro"
  deletion_protection      = true
  delete_automated_backups = false
  copy_tags_to_snapshot    = true
}
"#
    );
}

/// Every example and every rule fixture: `--fix` leaves `terraform fmt`-clean files, and
/// a second `--fix` changes nothing.
#[test]
fn fix_is_idempotent_and_fmt_clean_on_examples_and_fixtures() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut dirs: Vec<PathBuf> = Vec::new();
    for entry in std::fs::read_dir(repo.join("examples")).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            dirs.push(path);
        }
    }
    for rule in std::fs::read_dir(repo.join("linter/tests/fixtures")).unwrap() {
        for case in std::fs::read_dir(rule.unwrap().path()).unwrap() {
            let path = case.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            }
        }
    }
    dirs.sort();
    let mut fixed_dirs = 0;
    let mut failures = Vec::new();
    for dir in &dirs {
        let p = Project::new();
        copy_dir(dir, p.root());
        let before = tf_files(p.root());
        let first = p.run(&["--no-config", "--fix", "."]);
        assert!(!first.stderr.contains("panicked"), "{first:?}");
        let after = tf_files(p.root());
        let mut touched = false;
        for ((file, old), (_, new)) in before.iter().zip(&after) {
            if old == new {
                continue;
            }
            touched = true;
            // A fixture written unformatted on purpose is not judged by fmt.
            if fmt_check_text(old).is_ok() {
                if let Err(e) = fmt_check(file) {
                    failures.push(format!(
                        "{}: not fmt clean after --fix:\n{e}",
                        dir.display()
                    ));
                }
            }
        }
        fixed_dirs += usize::from(touched);
        let second = p.run(&["--no-config", "--fix", "--diff", "."]);
        if !second.stdout.is_empty() {
            failures.push(format!(
                "{}: a second --fix would change:\n{}",
                dir.display(),
                second.stdout
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(fixed_dirs >= 10, "only {fixed_dirs} directories were fixed");
}

fn fmt_check_text(text: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("main.tf");
    std::fs::write(&file, text).unwrap();
    fmt_check(&file)
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn trailing_comments_stay_aligned_and_heredocs_are_left_alone() {
    let p = Project::new();
    p.file(
        "main.tf",
        r#"resource "aws_db_instance" "main" {
  identifier          = "orders" # the app's name
  skip_final_snapshot = true     # from the tutorial
  engine              = "postgres"

  tags = {
    Name = "orders"
  }
  password = <<EOT
x = 1
EOT
}
"#,
    );
    // `fix` checks terraform fmt on the result.
    fix(&p, &["--select", "DR003,DR006"]);
    let fixed = p.read("main.tf");
    assert!(
        fixed.contains("  skip_final_snapshot = false    # from the tutorial\n"),
        "{fixed}"
    );
    assert!(
        fixed.contains("EOT\n\n  deletion_protection       = true\n  final_snapshot_identifier = \"orders-final\"\n}\n"),
        "{fixed}"
    );
}

/// A registry module as `terraform init` lays it out (the `modules.json` it writes): the
/// module passes its variable on to a nested module, and the user's `module` block passes
/// nothing, so the registry module's default (off) decides.
#[test]
fn a_registry_module_default_is_overridden_in_the_users_module_block() {
    let p = Project::new();
    p.file(
        "main.tf",
        r#"module "db" {
  source  = "terraform-aws-modules/rds/aws"
  version = "6.10.0"

  identifier = "orders"
}
"#,
    );
    p.file(
        ".terraform/modules/modules.json",
        r#"{"Modules":[{"Key":"","Source":"","Dir":"."},{"Key":"db","Source":"registry.terraform.io/terraform-aws-modules/rds/aws","Version":"6.10.0","Dir":".terraform/modules/db"},{"Key":"db.db_instance","Source":"./modules/db_instance","Dir":".terraform/modules/db/modules/db_instance"}]}"#,
    );
    p.file(
        ".terraform/modules/db/main.tf",
        r#"variable "identifier" {
  type = string
}

variable "deletion_protection" {
  type    = bool
  default = false
}

module "db_instance" {
  source = "./modules/db_instance"

  identifier          = var.identifier
  deletion_protection = var.deletion_protection
}
"#,
    );
    p.file(
        ".terraform/modules/db/modules/db_instance/main.tf",
        DB_MODULE,
    );
    let run = fix(&p, &["--select", "DR003"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        p.read(".terraform/modules/db/modules/db_instance/main.tf"),
        DB_MODULE
    );
    assert!(
        p.read(".terraform/modules/db/main.tf")
            .contains("default = false"),
        "nothing is written under .terraform"
    );
    assert_eq!(
        p.read("main.tf"),
        r#"module "db" {
  source  = "terraform-aws-modules/rds/aws"
  version = "6.10.0"

  identifier          = "orders"
  deletion_protection = true
}
"#
    );
}

/// A plan has values but no configuration text: its findings say nothing about where a
/// value is decided.
#[test]
fn plan_findings_do_not_guess_where_a_value_is_decided() {
    let p = Project::new();
    p.file(
        "plan.json",
        r#"{"format_version":"1.2","planned_values":{"root_module":{"resources":[{"address":"aws_db_instance.main","mode":"managed","type":"aws_db_instance","name":"main","values":{"identifier":"orders","deletion_protection":false,"delete_automated_backups":true,"backup_retention_period":7}}]}}}"#,
    );
    let run = p.run(&[
        "--no-config",
        "--plan",
        "plan.json",
        "--select",
        "DR003,DR005",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("deletion_protection is false"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("decided"), "{}", run.stdout);
    assert!(!run.stdout.contains("cannot be read"), "{}", run.stdout);
}

/// The name of a versioning resource with no instances is still taken: adding a second
/// `aws_s3_bucket_versioning.this` would not parse as a configuration.
#[test]
fn no_versioning_resource_is_added_under_a_taken_name() {
    let p = Project::new();
    let source = r#"variable "versioning_enabled" {
  type    = bool
  default = false
}

resource "aws_s3_bucket" "this" {
  bucket = "orders-backups"
}

resource "aws_s3_bucket_versioning" "this" {
  count  = var.versioning_enabled ? 1 : 0
  bucket = aws_s3_bucket.this.id

  versioning_configuration {
    status = "Enabled"
  }
}
"#;
    p.file("main.tf", source);
    let run = fix(&p, &["--select", "DR008"]);
    assert_eq!(p.read("main.tf"), source);
    assert!(run.stdout.contains("error[DR008]"), "{}", run.stdout);
}

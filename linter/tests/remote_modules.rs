//! Remote modules (registry, git) are followed after `terraform init`, offline, through
//! `.terraform/modules/modules.json`. The module here is a real git repository fetched by
//! the real `terraform get`, the module step of `terraform init` (a `git::file://` source
//! needs no network).

mod cli_support;

use std::path::Path;
use std::process::Command;

use cli_support::{terraform, Project};

fn run(cmd: &mut Command) {
    let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A module repository like `terraform-aws-modules/rds/aws`: the caller decides deletion
/// protection; a nested local module has its own mistake.
fn module_repo(dir: &Path) {
    std::fs::create_dir_all(dir.join("modules/replica")).unwrap();
    std::fs::write(
        dir.join("main.tf"),
        r#"variable "deletion_protection" {
  type    = bool
  default = true
}

resource "aws_db_instance" "this" {
  identifier               = "orders"
  engine                   = "postgres"
  instance_class           = "db.t3.micro"
  deletion_protection      = var.deletion_protection
  storage_encrypted        = true
  backup_retention_period  = 14
  delete_automated_backups = false
  copy_tags_to_snapshot    = true
}

module "replica" {
  source = "./modules/replica"
}
"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("modules/replica/main.tf"),
        r#"resource "aws_db_instance" "this" {
  identifier          = "orders-replica"
  replicate_source_db = "orders"
  instance_class      = "db.t3.micro"
  deletion_protection = false
}
"#,
    )
    .unwrap();
    let git = |args: &[&str]| {
        run(Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_AUTHOR_NAME", "t")
            .env("GIT_AUTHOR_EMAIL", "t@example.com")
            .env("GIT_COMMITTER_NAME", "t")
            .env("GIT_COMMITTER_EMAIL", "t@example.com"));
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "module"]);
}

const CALLER: &str = r#"module "db" {
  source = "git::file://REPO"

  deletion_protection = false
}
"#;

/// A project whose root calls the git module; `init` fetches the modules as
/// `terraform init` does.
fn project(caller: &str, init: bool) -> (Project, tempfile::TempDir) {
    let repo = tempfile::tempdir().unwrap();
    module_repo(repo.path());
    let p = Project::new();
    let source = repo.path().canonicalize().unwrap();
    p.file(
        "infra/main.tf",
        &caller.replace("REPO", &source.to_string_lossy()),
    );
    if init {
        run(Command::new(terraform())
            // `terraform get`: the module half of `init` (no provider download: offline).
            .args(["get", "-no-color"])
            .current_dir(p.root().join("infra"))
            .env("TF_IN_AUTOMATION", "1"));
        assert!(p
            .root()
            .join("infra/.terraform/modules/modules.json")
            .is_file());
    }
    (p, repo)
}

fn findings(p: &Project, args: &[&str]) -> (Vec<serde_json::Value>, cli_support::Run) {
    let mut all = vec!["--format", "json", "--select", "DR003", "infra"];
    all.extend_from_slice(args);
    let run = p.run(&all);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    (v["findings"].as_array().unwrap().clone(), run)
}

#[test]
fn a_git_module_is_linted_after_init_at_module_addresses() {
    let (p, _repo) = project(CALLER, true);
    let (found, run) = findings(&p, &[]);
    assert_eq!(run.code, 1, "{run:?}");
    let at: Vec<String> = found
        .iter()
        .map(|f| {
            format!(
                "{} {}:{}",
                f["resource"].as_str().unwrap(),
                f["file"].as_str().unwrap(),
                f["line"]
            )
        })
        .collect();
    // The value came from the caller: the finding (and its fix) is at the argument.
    assert!(
        at.contains(&"module.db.aws_db_instance.this infra/main.tf:4".to_string()),
        "{at:?}"
    );
    // Written inside the downloaded module: reported there, at the nested address.
    assert!(
        at.iter().any(|a| a.starts_with(
            "module.db.module.replica.aws_db_instance.this infra/.terraform/modules/db/modules/replica/main.tf:"
        )),
        "{at:?}"
    );
    assert!(!run.stderr.contains("terraform init"), "{}", run.stderr);
}

#[test]
fn fix_edits_the_caller_and_never_writes_into_dot_terraform() {
    let (p, _repo) = project(CALLER, true);
    let inner = "infra/.terraform/modules/db/modules/replica/main.tf";
    let before = p.read(inner);
    let run = p.run(&["--fix", "--select", "DR003", "infra"]);
    assert_eq!(p.read(inner), before, "{run:?}");
    assert!(
        p.read("infra/main.tf")
            .contains("deletion_protection = true"),
        "{}",
        p.read("infra/main.tf")
    );
    // What is left is the finding in the downloaded module, which --fix leaves alone.
    let (left, _) = findings(&p, &[]);
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0]["file"].as_str().unwrap().contains(".terraform/"));
}

#[test]
fn an_ignore_on_the_module_block_covers_findings_inside_it() {
    let caller = format!("# drlint:ignore DR003 a throwaway test stack, rebuilt nightly\n{CALLER}");
    let (p, _repo) = project(&caller, true);
    let (found, run) = findings(&p, &[]);
    assert!(found.is_empty(), "{found:?}");
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn without_init_one_note_counts_the_skipped_remote_calls() {
    let caller = format!(
        "{CALLER}\nmodule \"vpc\" {{\n  source  = \"terraform-aws-modules/vpc/aws\"\n  version = \"5.0.0\"\n}}\n\nmodule \"local\" {{\n  source = \"./local\"\n}}\n"
    );
    let (p, _repo) = project(&caller, false);
    p.file(
        "infra/local/main.tf",
        "resource \"aws_db_instance\" \"x\" {\n  deletion_protection = false\n}\n",
    );
    let (found, run) = findings(&p, &[]);
    // The local module is linted; the two remote ones are not, and one note says so.
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0]["resource"].as_str(),
        Some("module.local.aws_db_instance.x")
    );
    let notes: Vec<&str> = run.stderr.lines().filter(|l| l.contains("note:")).collect();
    assert_eq!(notes.len(), 1, "{}", run.stderr);
    assert!(
        notes[0].contains("2 remote module calls") && notes[0].contains("terraform init"),
        "{}",
        notes[0]
    );
    // A note is neither a finding nor an error: the JSON report keeps its shape.
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert!(v["errors"].as_array().unwrap().is_empty());
    assert!(v.get("notes").is_none());
}

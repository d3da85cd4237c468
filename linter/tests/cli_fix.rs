//! `--fix` and `--fix --diff`.

mod cli_support;

use cli_support::{Project, DB_NO_PROTECTION_TF, DB_TF};

const SELECT: &str = "--select=DR003,DR010";

#[test]
fn fix_writes_safe_fixes_and_reports_what_remains() {
    let p = Project::new();
    p.file("db.tf", DB_TF);
    p.file("reports.tf", DB_NO_PROTECTION_TF);
    let run = p.run(&["--fix", SELECT]);
    assert!(
        p.read("db.tf").contains("deletion_protection = true"),
        "{}",
        p.read("db.tf")
    );
    assert!(
        p.read("reports.tf").contains("deletion_protection = true"),
        "{}",
        p.read("reports.tf")
    );
    // Comments, other attributes and layout survive.
    assert!(p.read("db.tf").contains("identifier          = \"orders\""));
    // What remains is reported: DR010 has no safe fix.
    assert!(!run.stdout.contains("[DR003]"), "{}", run.stdout);
    assert!(run.stdout.contains("warning[DR010]"), "{}", run.stdout);
    assert!(run.stdout.contains("Fixed 2 findings."), "{}", run.stdout);
    assert_eq!(run.code, 1, "{run:?}");
    // A second run has nothing left to fix.
    let again = p.run(&["--fix", "--select", "DR003"]);
    assert_eq!(again.code, 0, "{again:?}");
    assert_eq!(again.stdout, "No findings in 2 files.\n");
}

#[test]
fn fix_diff_prints_a_unified_diff_and_writes_nothing() {
    let p = Project::new();
    p.file("db.tf", DB_TF);
    let run = p.run(&["--fix", "--diff", SELECT]);
    assert_eq!(run.code, 1, "changes pending: {run:?}");
    assert_eq!(p.read("db.tf"), DB_TF, "nothing written");
    assert!(
        run.stdout.starts_with("--- a/db.tf\n+++ b/db.tf\n@@ "),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("\n-  deletion_protection = false\n"),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.contains("would fix 1 finding in 1 file"),
        "{}",
        run.stderr
    );
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn fix_diff_with_nothing_to_fix_exits_0() {
    let p = Project::new();
    p.file("db.tf", DB_TF);
    let run = p.run(&["--fix", "--diff", "--select", "DR010"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "");
}

#[test]
fn suppressed_findings_are_not_fixed() {
    let p = Project::new();
    let source = format!("# drlint:ignore DR003 managed by the platform team\n{DB_TF}");
    p.file("db.tf", &source);
    let run = p.run(&["--fix", "--select", "DR003"]);
    assert_eq!(p.read("db.tf"), source);
    assert_eq!(run.code, 0, "{run:?}");
}

#[cfg(unix)]
#[test]
fn fix_keeps_permissions_and_symlinks() {
    use std::os::unix::fs::PermissionsExt;
    let p = Project::new();
    p.file("real/db.tf", DB_TF);
    let real = p.root().join("real/db.tf");
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    std::fs::create_dir(p.root().join("env")).unwrap();
    std::os::unix::fs::symlink(&real, p.root().join("env/db.tf")).unwrap();
    let run = p.run(&["env/db.tf", "--fix", "--select", "DR003"]);
    assert_eq!(run.code, 0, "{run:?}");
    let link = std::fs::symlink_metadata(p.root().join("env/db.tf")).unwrap();
    assert!(
        link.file_type().is_symlink(),
        "the symlink is still a symlink"
    );
    assert!(p.read("real/db.tf").contains("deletion_protection = true"));
    let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    // No temporary files left behind.
    let leftovers: Vec<_> = std::fs::read_dir(p.root().join("real"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "{leftovers:?}");
}

#[test]
fn fix_with_plan_is_a_usage_error() {
    let p = Project::new();
    p.file("plan.json", "{}");
    assert_eq!(p.run(&["--plan", "plan.json", "--fix"]).code, 2);
}

/// One module block through two instances: each instance's DR006 fix inserts its own
/// `final_snapshot_identifier` before the same brace; only one may be written.
#[test]
fn a_module_called_twice_is_fixed_once() {
    let p = Project::new();
    p.file(
        "main.tf",
        "module \"orders\" {\n  source     = \"./db\"\n  identifier = \"orders\"\n}\n\nmodule \"users\" {\n  source     = \"./db\"\n  identifier = \"users\"\n}\n",
    );
    p.file(
        "db/main.tf",
        "variable \"identifier\" {}\n\nresource \"aws_db_instance\" \"main\" {\n  identifier          = var.identifier\n  skip_final_snapshot = true\n}\n",
    );
    let run = p.run(&["--fix", "--select", "DR006"]);
    assert_eq!(run.code, 0, "{run:?}");
    let fixed = p.read("db/main.tf");
    assert_eq!(
        fixed.matches("final_snapshot_identifier").count(),
        1,
        "{fixed}"
    );
    let again = p.run(&["--select", "DR006"]);
    assert_eq!(
        again.code, 0,
        "the fixed module parses and is clean: {again:?}"
    );
}

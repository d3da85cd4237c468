//! Inline `# drlint:ignore` suppressions.

mod cli_support;

use cli_support::{Project, DB_TF};

const SELECT: &str = "--select=DR000,DR003,DR010";

fn rules(p: &Project, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--format", "json", SELECT];
    args.extend_from_slice(extra);
    let run = p.run(&args);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}@{}", f["rule"].as_str().unwrap(), f["line"]))
        .collect()
}

#[test]
fn comment_above_an_attribute_suppresses_that_finding() {
    let p = Project::new();
    p.file(
        "db.tf",
        &DB_TF.replace(
            "  deletion_protection = false",
            "  # drlint:ignore DR003 throwaway copy, recreated from snapshots by CI\n  deletion_protection = false",
        ),
    );
    assert_eq!(rules(&p, &[]), ["DR010@1"]);
}

#[test]
fn comment_above_a_block_covers_findings_inside_it() {
    let p = Project::new();
    p.file(
        "db.tf",
        &format!("# drlint:ignore DR003 protected by an SCP instead\n{DB_TF}"),
    );
    assert_eq!(rules(&p, &[]), ["DR010@2"]);
}

#[test]
fn several_codes_and_slash_comments() {
    let p = Project::new();
    p.file(
        "db.tf",
        &format!("// drlint:ignore DR003, DR010 scratch database for load tests\n{DB_TF}"),
    );
    assert_eq!(rules(&p, &[]), Vec::<String>::new());
    let run = p.run(&[SELECT]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("2 findings suppressed inline"),
        "{}",
        run.stdout
    );
}

#[test]
fn comment_run_above_the_block_still_counts() {
    let p = Project::new();
    p.file(
        "db.tf",
        &format!("# drlint:ignore DR010 single-region by design, see ADR-12\n# The orders database.\n{DB_TF}"),
    );
    assert_eq!(rules(&p, &[]), ["DR003@7"]);
}

#[test]
fn a_blank_line_detaches_the_comment() {
    let p = Project::new();
    p.file("db.tf", &format!("# drlint:ignore DR003 reason\n\n{DB_TF}"));
    assert_eq!(rules(&p, &[]), ["DR010@3", "DR003@7"]);
}

#[test]
fn other_codes_are_not_suppressed() {
    let p = Project::new();
    p.file(
        "db.tf",
        &format!("# drlint:ignore DR005 not this one\n{DB_TF}"),
    );
    assert_eq!(rules(&p, &[]), ["DR010@2", "DR003@6"]);
}

#[test]
fn suppression_without_reason_is_a_dr000_warning_and_still_suppresses() {
    let p = Project::new();
    p.file("db.tf", &format!("# drlint:ignore DR003\n{DB_TF}"));
    assert_eq!(rules(&p, &[]), ["DR000@1", "DR010@2"]);
    let run = p.run(&["--select", "DR000,DR003"]);
    assert_eq!(run.code, 1, "DR000 is a warning: {run:?}");
    assert!(run.stdout.contains("warning[DR000]"), "{}", run.stdout);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn dr000_follows_configuration_like_any_rule() {
    let p = Project::new();
    p.file("db.tf", &format!("# drlint:ignore DR003\n{DB_TF}"));
    assert_eq!(rules(&p, &["--ignore", "DR000"]), ["DR010@2"]);
    let run = p.run(&[
        "--select",
        "DR000,DR003",
        "--severity",
        "DR000=error",
        "--format",
        "json",
    ]);
    assert!(
        run.stdout.contains("\"severity\": \"error\""),
        "{}",
        run.stdout
    );
}

#[test]
fn trailing_comment_on_the_line_suppresses() {
    let p = Project::new();
    p.file(
        "db.tf",
        &DB_TF.replace(
            "deletion_protection = false",
            "deletion_protection = false # drlint:ignore DR003 dev only",
        ),
    );
    assert_eq!(rules(&p, &[]), ["DR010@1"]);
}

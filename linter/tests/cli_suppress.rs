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

/// Findings as `RULE@line` with the hygiene checks selected too.
fn with_hygiene(p: &Project, extra: &[&str]) -> Vec<String> {
    let mut args = vec!["--select=DR000,DR003,DR010,DR900,DR901"];
    args.extend_from_slice(extra);
    let run = p.run(&[&["--format", "json"], args.as_slice()].concat());
    let v: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{}@{}", f["rule"].as_str().unwrap(), f["line"]))
        .collect()
}

#[test]
fn a_suppression_suppresses_until_its_date() {
    let p = Project::new();
    p.file(
        "db.tf",
        &format!("# drlint:ignore DR003 until=2999-12-31 scratch copy until the cut-over\n{DB_TF}"),
    );
    assert_eq!(with_hygiene(&p, &[]), ["DR010@2"]);
}

#[test]
fn an_expired_suppression_no_longer_suppresses_and_is_reported() {
    let p = Project::new();
    p.file(
        "db.tf",
        &format!("# drlint:ignore DR003 until=2001-01-31 scratch copy until the cut-over\n{DB_TF}"),
    );
    assert_eq!(with_hygiene(&p, &[]), ["DR900@1", "DR010@2", "DR003@6"]);
    let run = p.run(&["--select", "DR003,DR900"]);
    assert!(
        run.stdout.contains("warning[DR900]") && run.stdout.contains("expired on 2001-01-31"),
        "{}",
        run.stdout
    );
    // Off like any rule; the suppression still does not apply.
    assert_eq!(
        with_hygiene(&p, &["--ignore", "DR900"]),
        ["DR010@2", "DR003@6"]
    );
}

#[test]
fn a_date_that_is_no_date_is_reported_and_the_suppression_still_applies() {
    let p = Project::new();
    p.file(
        "db.tf",
        &format!("# drlint:ignore DR003 until=2027-02-30 migration\n{DB_TF}"),
    );
    assert_eq!(with_hygiene(&p, &[]), ["DR900@1", "DR010@2"]);
}

#[test]
fn a_suppression_that_suppresses_nothing_is_reported() {
    let p = Project::new();
    // DR005 has no finding here (not selected: not judged); DR010 has one; DR003 none,
    // because deletion protection is on.
    p.file(
        "db.tf",
        &format!(
            "# drlint:ignore DR003, DR005 scratch copy\n{}",
            DB_TF.replace("deletion_protection = false", "deletion_protection = true")
        ),
    );
    assert_eq!(with_hygiene(&p, &[]), ["DR901@1", "DR010@2"]);
    let run = p.run(&["--select", "DR003,DR901", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let message = v["findings"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("drlint:ignore DR003") && !message.contains("DR005"),
        "{message}"
    );
    assert_eq!(run.code, 1, "an unused suppression is a warning");
    // Used by one code, unused by another: only the other is reported.
    p.file(
        "db.tf",
        &format!("# drlint:ignore DR003, DR010 scratch copy\n{DB_TF}"),
    );
    let run = p.run(&["--select", "DR003,DR010,DR901"]);
    assert_eq!(run.code, 0, "{}", run.stdout);
}

#[test]
fn a_suppression_of_a_code_that_is_no_rule_is_reported() {
    let p = Project::new();
    p.file(
        "db.tf",
        &format!("# drlint:ignore DR303 typo for DR003\n{DB_TF}"),
    );
    let run = p.run(&["--format", "json", "--select", "DR003,DR901"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let messages: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("DR303") && m.contains("names no drlint rule")),
        "{messages:?}"
    );
}

#[test]
fn excluded_and_unnamed_files_are_not_judged_for_unused_suppressions() {
    let p = Project::new();
    p.file(
        "db.tf",
        "# drlint:ignore DR003 scratch\nresource \"aws_db_instance\" \"a\" {\n  deletion_protection = true\n}\n",
    );
    p.file("other.tf", DB_TF);
    // Only other.tf is named (the pre-commit use): db.tf's comment is not judged.
    let run = p.run(&["--format", "json", "--select", "DR003,DR901", "other.tf"]);
    assert!(!run.stdout.contains("DR901"), "{}", run.stdout);
    let run = p.run(&[
        "--format",
        "json",
        "--select",
        "DR003,DR901",
        "--exclude",
        "db.tf",
    ]);
    assert!(!run.stdout.contains("DR901"), "{}", run.stdout);
    let run = p.run(&["--format", "json", "--select", "DR003,DR901"]);
    assert!(run.stdout.contains("DR901"), "{}", run.stdout);
}

//! The examples in `examples/drlint/` stay what their README says: `bad/` trips every rule,
//! `fixed/` is clean.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use drlint::{lint, LintOptions};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/drlint")
        .join(name)
}

#[test]
fn the_bad_example_trips_every_rule() {
    let report = lint(&LintOptions {
        paths: vec![example("bad")],
        ..LintOptions::default()
    });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let found: BTreeSet<&str> = report.findings.iter().map(|f| f.rule).collect();
    let all: BTreeSet<&str> = drlint::rules::RULES.iter().map(|m| m.code).collect();
    assert_eq!(found, all);
    assert!(report
        .findings
        .iter()
        .any(|f| f.resource == "module.orders_db.aws_db_instance.main"));
}

#[test]
fn the_fixed_example_is_clean() {
    let report = lint(&LintOptions {
        paths: vec![example("fixed")],
        ..LintOptions::default()
    });
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    assert_eq!(report.files, 3);
}

#[test]
fn root_modules_are_judged_separately_and_the_quickstart_is_clean() {
    // Linting all examples at once must give the same findings as linting each alone: a
    // dr_policy in one configuration does not cover a database in another.
    let all = lint(&LintOptions {
        paths: vec![example("..")],
        ..LintOptions::default()
    });
    let bad = lint(&LintOptions {
        paths: vec![example("bad")],
        ..LintOptions::default()
    });
    let in_bad = all
        .findings
        .iter()
        .filter(|f| f.file.to_string_lossy().contains("drlint/bad"))
        .count();
    assert_eq!(in_bad, bad.findings.len());
    let quickstart: Vec<_> = all
        .findings
        .iter()
        .filter(|f| f.file.to_string_lossy().contains("quickstart"))
        .collect();
    assert!(quickstart.is_empty(), "{quickstart:#?}");
}

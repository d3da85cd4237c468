//! Baselines: `--write-baseline FILE` records today's findings, `--baseline FILE` reports
//! only new ones, keyed by rule, address and attribute (not line), with fixed findings
//! reported as stale.

mod cli_support;

use cli_support::{Project, DB_TF};
use serde_json::Value;

const SELECT: &str = "--select=DR003,DR008,DR010";

/// A repository with two root modules that both declare `aws_db_instance.main`.
fn repo() -> Project {
    let p = Project::new();
    p.file("prod/db.tf", DB_TF);
    p.file("staging/db.tf", DB_TF);
    p
}

/// drlint with the baseline and `extra`.
fn with_baseline(p: &Project, extra: &[&str]) -> cli_support::Run {
    let mut args = vec!["--no-config", SELECT, "--baseline", "drlint-baseline.json"];
    args.extend_from_slice(extra);
    p.run(&args)
}

fn write(p: &Project) {
    let run = p.run(&[
        "--no-config",
        SELECT,
        "--write-baseline",
        "drlint-baseline.json",
    ]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("wrote 4 baseline entries"), "{run:?}");
}

#[test]
fn the_baseline_file_is_sorted_versioned_and_keyed_without_lines() {
    let p = repo();
    write(&p);
    let text = p.read("drlint-baseline.json");
    insta::assert_snapshot!(text);
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["version"], 1);
    assert!(!text.contains("\"line\""), "{text}");
}

#[test]
fn a_baselined_repository_passes_until_something_new_appears() {
    let p = repo();
    write(&p);
    let run = with_baseline(&p, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains("4 findings in the baseline not shown"),
        "{run:?}"
    );
    // Unrelated edits move the findings down the file and rename nothing: still accepted.
    p.file(
        "prod/db.tf",
        &format!("# The orders database.\nlocals {{\n  team = \"payments\"\n}}\n\n{DB_TF}"),
    );
    // Moving the block to another file of the same module keeps its entry too.
    std::fs::rename(
        p.root().join("staging/db.tf"),
        p.root().join("staging/rds.tf"),
    )
    .unwrap();
    let run = with_baseline(&p, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    // A new finding is reported, and only it.
    p.file(
        "prod/bucket.tf",
        "resource \"aws_s3_bucket\" \"exports\" {\n  bucket = \"orders-exports\"\n}\n",
    );
    let run = with_baseline(&p, &["--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let found: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| format!("{} {}", f["rule"], f["resource"]))
        .collect();
    assert_eq!(
        found,
        ["\"DR008\" \"aws_s3_bucket.exports\""],
        "{}",
        run.stdout
    );
    assert_eq!(v["baseline"]["accepted"], 4);
    assert_eq!(v["baseline"]["stale"], serde_json::json!([]));
}

#[test]
fn a_fixed_finding_is_stale_and_writing_again_prunes_it() {
    let p = repo();
    write(&p);
    p.file(
        "prod/db.tf",
        &DB_TF.replace("deletion_protection = false", "deletion_protection = true"),
    );
    let run = with_baseline(&p, &[]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(
            "note: stale baseline entry DR003 aws_db_instance.main (deletion_protection) in prod"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("1 baseline entry stale"),
        "{}",
        run.stdout
    );
    // The other root module's DR003 is still there: the directory tells them apart.
    let run = with_baseline(&p, &["--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        v["baseline"]["stale"],
        serde_json::json!([{
            "rule": "DR003",
            "resource": "aws_db_instance.main",
            "attribute": "deletion_protection",
            "directory": "prod"
        }])
    );
    // Other formats keep their shape: the note goes to standard error.
    let run = with_baseline(&p, &["--format", "sarif"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("stale baseline entry DR003"), "{run:?}");
    let sarif: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(sarif["runs"][0]["results"], serde_json::json!([]));
    // Writing again drops it.
    let run = p.run(&[
        "--no-config",
        SELECT,
        "--write-baseline",
        "drlint-baseline.json",
    ]);
    assert!(run.stderr.contains("wrote 3 baseline entries"), "{run:?}");
    let run = with_baseline(&p, &[]);
    assert!(!run.stdout.contains("stale"), "{run:?}");
}

#[test]
fn a_run_on_named_files_or_with_excludes_judges_no_entry_there_stale() {
    let p = repo();
    write(&p);
    let run = with_baseline(&p, &["prod/db.tf"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains("stale"), "{run:?}");
    // Nor are the entries of a directory `--exclude` leaves out.
    let run = with_baseline(&p, &["--exclude", "staging/**"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(!run.stdout.contains("stale"), "{run:?}");
}

#[test]
fn the_configuration_can_name_the_baseline() {
    let p = repo();
    write(&p);
    p.file(
        ".drlint.toml",
        "select = [\"DR003\", \"DR008\", \"DR010\"]\nbaseline = \"drlint-baseline.json\"\n",
    );
    // From a subdirectory too: the path is relative to the configuration file.
    let run = p.run_in("prod", &["."]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("in the baseline not shown"), "{run:?}");
    // --write-baseline records every finding, whatever the configuration's baseline hides.
    let run = p.run(&["--write-baseline", "again.json"]);
    assert!(run.stderr.contains("wrote 4 baseline entries"), "{run:?}");
}

/// examples/drlint/adopting: the baseline its configuration names accepts its findings.
#[test]
fn the_adopting_example_passes_on_its_baseline() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/drlint/adopting");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_drlint"))
            .args(args)
            .current_dir(&example)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("2 findings in the baseline not shown"),
        "{stdout}"
    );
    assert!(!stdout.contains("stale"), "{stdout}");
    let out = run(&["--no-config", "--select", "DR003,DR008"]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn a_bad_baseline_is_a_usage_error() {
    let p = repo();
    p.file("b.json", "{\"version\": 7, \"findings\": []}");
    let run = p.run(&["--no-config", "--baseline", "b.json"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("version 7"), "{run:?}");
    let run = p.run(&["--no-config", "--baseline", "missing.json"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("missing.json"), "{run:?}");
}

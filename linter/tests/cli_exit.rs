//! Exit status: 0 clean, 1 findings at or above `--fail-on`, 2 usage or file errors (after
//! reporting what could be linted). Never a panic, and a closed pipe is not an error.

mod cli_support;

use std::io::Read;
use std::process::{Command, Stdio};

use cli_support::{Project, BROKEN_TF, DB_TF};

/// DB_TF yields one error (DR003) and one warning (DR010).
fn project() -> Project {
    let p = Project::new();
    p.file("main.tf", DB_TF);
    p
}

#[test]
fn clean_project_exits_0() {
    let p = Project::new();
    p.file(
        "main.tf",
        "variable \"region\" {\n  default = \"eu-west-1\"\n}\n",
    );
    let run = p.run(&[]);
    assert_eq!(run.code, 0, "{run:?}");
}

#[test]
fn default_gate_is_warning() {
    let run = project().run(&["--select", "DR010"]);
    assert_eq!(run.code, 1, "a warning fails the default gate: {run:?}");
}

#[test]
fn fail_on_error_lets_warnings_pass() {
    let p = project();
    assert_eq!(p.run(&["--select", "DR010", "--fail-on", "error"]).code, 0);
    assert_eq!(
        p.run(&["--select", "DR003,DR010", "--fail-on", "error"])
            .code,
        1
    );
}

#[test]
fn fail_on_never_always_exits_0_on_findings() {
    let run = project().run(&["--select", "DR003", "--fail-on", "never"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("error[DR003]"));
}

#[test]
fn fail_on_note_fails_on_anything() {
    let run = project().run(&[
        "--select",
        "DR010",
        "--severity",
        "DR010=note",
        "--fail-on",
        "note",
    ]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("note[DR010]"), "{}", run.stdout);
}

#[test]
fn parse_error_still_reports_the_other_files_and_exits_2() {
    let p = project();
    p.file("broken.tf", BROKEN_TF);
    let run = p.run(&["--select", "DR003"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains("error[DR003]"),
        "findings still shown: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--> broken.tf:1:"),
        "error located: {}",
        run.stdout
    );
    assert!(
        run.stdout.contains("1 file could not be linted."),
        "{}",
        run.stdout
    );
}

#[test]
fn missing_path_is_an_error_but_others_are_linted() {
    let p = project();
    let run = p.run(&["main.tf", "nope.tf", "--select", "DR003"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("error[DR003]"));
    assert!(run.stdout.contains("nope.tf"), "{}", run.stdout);
}

#[test]
fn usage_errors_exit_2() {
    let p = project();
    for args in [
        &["--bogus"][..],
        &["--diff"],
        &["--format", "xml"],
        &["--fail-on", "fatal"],
        &["--select", "DR999"],
        &["--severity", "DR003"],
        &["--severity", "DR003=loud"],
        &["--min-retention-days", "90"],
        &["--var-file", "missing.tfvars"],
        &["--dr-region", "Mars"],
        &["--plan", "plan.json", "main.tf"],
    ] {
        let run = p.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(!run.stderr.is_empty(), "{args:?} explains itself");
    }
}

#[test]
fn unknown_rule_code_lists_the_valid_ones() {
    let run = project().run(&["--select", "DR999"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("DR999"), "{}", run.stderr);
    assert!(
        run.stderr.contains("DR003"),
        "lists valid codes: {}",
        run.stderr
    );
}

#[test]
fn missing_plan_file_exits_2() {
    let run = project().run(&["--plan", "plan.json"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("plan.json"), "{run:?}");
}

#[test]
fn help_and_version_exit_0() {
    let p = project();
    let help = p.run(&["--help"]);
    assert_eq!(help.code, 0);
    assert!(help.stdout.contains("--fail-on"), "{}", help.stdout);
    let version = p.run(&["--version"]);
    assert_eq!(version.code, 0);
    assert!(version.stdout.starts_with("drlint "));
}

#[test]
fn binary_and_odd_files_do_not_panic() {
    let p = project();
    std::fs::write(p.root().join("blob.tf"), [0u8, 159, 146, 150, 0xff, b'{']).unwrap();
    p.file("empty.tf", "");
    p.file(
        "unicode.tf",
        "# é ☃\nresource \"aws_db_instance\" \"ü\" {\n\tdeletion_protection = false\n}\n",
    );
    let run = p.run(&["--format", "json"]);
    assert!(matches!(run.code, 1 | 2), "{run:?}");
    serde_json::from_str::<serde_json::Value>(&run.stdout).expect("still one JSON object");
    let text = p.run(&[]);
    assert!(matches!(text.code, 1 | 2), "{text:?}");
}

#[test]
fn closed_stdout_exits_quietly() {
    let p = Project::new();
    for i in 0..200 {
        p.file(
            &format!("db{i}.tf"),
            &DB_TF.replace("\"main\"", &format!("\"db{i}\"")),
        );
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_drlint"))
        .current_dir(p.root())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let status = child.wait().unwrap();
    assert!(stderr.is_empty(), "no noise on a closed pipe: {stderr}");
    assert!(matches!(status.code(), Some(0 | 1)), "{status:?}");
}

//! One test per output format, on the same small project: a database with two findings
//! (DR003 error, fixable; DR010 warning) and a malformed file.

mod cli_support;

use cli_support::{Project, BROKEN_TF, DB_TF};
use serde_json::Value;

const SELECT: &str = "--select=DR003,DR010";

fn project() -> Project {
    let p = Project::new();
    p.file("db/main.tf", DB_TF);
    p
}

/// The schema's `language` properties carry a known-malformed pattern (a stray `]`, also in
/// the OASIS text) that a strict regex engine refuses to compile; it is dropped before
/// compiling. Nothing drlint writes uses `language`.
const BROKEN_LANGUAGE_PATTERN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";

fn drop_broken_patterns(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if map.get("pattern").and_then(Value::as_str) == Some(BROKEN_LANGUAGE_PATTERN) {
                map.remove("pattern");
            }
            map.values_mut().for_each(drop_broken_patterns);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_broken_patterns),
        _ => {}
    }
}

fn sarif_validator() -> jsonschema::Validator {
    let mut schema: Value =
        serde_json::from_str(include_str!("schemas/sarif-2.1.0.json")).expect("schema is JSON");
    drop_broken_patterns(&mut schema);
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn assert_valid_sarif(text: &str) -> Value {
    let log: Value = serde_json::from_str(text).expect("SARIF output is JSON");
    let validator = sarif_validator();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid SARIF:\n{}", errors.join("\n"));
    log
}

#[test]
fn text_is_rustc_style_with_snippet_caret_and_help() {
    let p = project();
    let run = p.run(&["db", SELECT]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(run.stdout.contains("error[DR003]: "), "{}", run.stdout);
    assert!(run.stdout.contains(" --> db/main.tf:5:3"), "{}", run.stdout);
    assert!(run.stdout.contains("= help: "), "{}", run.stdout);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn json_has_exactly_the_design_shape() {
    let p = project();
    p.file("bad.tf", BROKEN_TF);
    let run = p.run(&["--format", "json", SELECT]);
    assert_eq!(run.code, 2, "parse errors exit 2: {run:?}");
    let v: Value = serde_json::from_str(&run.stdout).expect("one JSON object");
    let top: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(top, ["errors", "files", "findings"]);
    // Key order as documented (serde_json's Map sorts, so look at the raw text).
    let first = run.stdout.find("\"rule\"").unwrap();
    let keys = [
        "\"rule\"",
        "\"name\"",
        "\"severity\"",
        "\"resource\"",
        "\"file\"",
        "\"line\"",
        "\"column\"",
        "\"message\"",
        "\"fix\"",
    ];
    let positions: Vec<usize> = keys
        .iter()
        .map(|k| first + run.stdout[first..].find(k).unwrap())
        .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "key order: {positions:?}"
    );
    for f in v["findings"].as_array().unwrap() {
        assert_eq!(f.as_object().unwrap().len(), 9, "{f}");
        assert!(f["fix"].is_string() || f["fix"].is_null());
    }
    let e = &v["errors"][0];
    assert_eq!(e.as_object().unwrap().len(), 3, "{e}");
    assert_eq!(e["file"], "bad.tf");
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn sarif_is_valid_2_1_0_with_rule_metadata() {
    let p = project();
    let run = p.run(&["--format", "sarif", SELECT]);
    assert_eq!(run.code, 1, "{run:?}");
    let log = assert_valid_sarif(&run.stdout);
    let run0 = &log["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    let dr003 = rules
        .iter()
        .find(|r| r["id"] == "DR003")
        .expect("DR003 descriptor");
    assert_eq!(dr003["name"], "missing-deletion-protection");
    assert_eq!(
        dr003["helpUri"],
        "https://github.com/drkit/drkit/blob/main/docs/rules/DR003.md"
    );
    assert_eq!(dr003["defaultConfiguration"]["level"], "error");
    for result in run0["results"].as_array().unwrap() {
        let index = result["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[index]["id"], result["ruleId"]);
        let loc = &result["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uri"], "db/main.tf");
        assert!(loc["region"]["startLine"].as_u64().unwrap() >= 1);
        assert!(result["partialFingerprints"]["drlint/v1"].is_string());
    }
    assert_eq!(run0["invocations"][0]["executionSuccessful"], true);
    insta::assert_snapshot!(p.redact(&run.stdout));
}

#[test]
fn sarif_fingerprints_follow_the_resource_not_the_line() {
    let p = project();
    let before = p.run(&["--format", "sarif", SELECT]);
    p.file("db/main.tf", &format!("\n\n# moved down\n{DB_TF}"));
    let after = p.run(&["--format", "sarif", SELECT]);
    let prints = |text: &str| -> Vec<Value> {
        let v: Value = serde_json::from_str(text).unwrap();
        v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["partialFingerprints"].clone())
            .collect()
    };
    assert_eq!(prints(&before.stdout), prints(&after.stdout));
}

#[test]
fn sarif_reports_file_errors_as_tool_notifications() {
    let p = project();
    p.file("bad.tf", BROKEN_TF);
    let run = p.run(&["--format", "sarif", SELECT]);
    assert_eq!(run.code, 2, "{run:?}");
    let log = assert_valid_sarif(&run.stdout);
    let invocation = &log["runs"][0]["invocations"][0];
    assert_eq!(invocation["executionSuccessful"], false);
    let note = &invocation["toolExecutionNotifications"][0];
    assert_eq!(note["level"], "error");
    assert_eq!(
        note["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "bad.tf"
    );
    // The other file is still reported.
    assert!(!log["runs"][0]["results"].as_array().unwrap().is_empty());
}

#[test]
fn sarif_keeps_inline_suppressions_as_dismissed_results() {
    let p = Project::new();
    p.file(
        "db/main.tf",
        &format!("# drlint:ignore DR010 restored from the nightly dump in eu-west-1\n{DB_TF}"),
    );
    let run = p.run(&["--format", "sarif", SELECT]);
    let log = assert_valid_sarif(&run.stdout);
    let results = log["runs"][0]["results"].as_array().unwrap();
    let suppressed = results
        .iter()
        .find(|r| r["ruleId"] == "DR010")
        .expect("suppressed result kept in SARIF");
    assert_eq!(suppressed["suppressions"][0]["kind"], "inSource");
    assert_eq!(
        suppressed["suppressions"][0]["justification"],
        "restored from the nightly dump in eu-west-1"
    );
}

#[test]
fn junit_has_a_suite_per_rule_and_a_failure_per_finding() {
    let p = project();
    p.file("bad.tf", BROKEN_TF);
    let run = p.run(&["--format", "junit", SELECT]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run
        .stdout
        .starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites"));
    assert_eq!(run.stdout.matches("<failure ").count(), 2, "{}", run.stdout);
    assert_eq!(run.stdout.matches("<error ").count(), 1, "{}", run.stdout);
    assert_eq!(
        run.stdout.matches("<testsuite ").count(),
        run.stdout.matches("</testsuite>").count()
    );
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn junit_lists_rules_without_findings_as_passing() {
    let p = Project::new();
    p.file("empty.tf", "# nothing here\n");
    let run = p.run(&["--format", "junit", SELECT]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout
            .contains("tests=\"2\" failures=\"0\" errors=\"0\""),
        "{}",
        run.stdout
    );
    assert!(run
        .stdout
        .contains("name=\"DR003 missing-deletion-protection\""));
}

#[test]
fn github_prints_escaped_workflow_commands() {
    let p = project();
    p.file("bad, file.tf", BROKEN_TF);
    let run = p.run(&["--format", "github", SELECT]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.lines().all(|l| l.starts_with("::error ")
            || l.starts_with("::warning ")
            || l.starts_with("::notice ")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("file=bad%2C file.tf,"),
        "{}",
        run.stdout
    );
    // The title names the resource.
    assert!(run
        .stdout
        .contains(",title=DR003 missing-deletion-protection (aws_db_instance.main)::"));
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn output_flag_writes_the_report_to_a_file() {
    let p = project();
    let run = p.run(&["--format", "json", "--output", "report.json", SELECT]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(run.stdout, "");
    let v: Value = serde_json::from_str(&p.read("report.json")).unwrap();
    assert_eq!(v["findings"].as_array().unwrap().len(), 2);
}

#[test]
fn text_without_findings_says_so() {
    let p = Project::new();
    p.file("empty.tf", "# nothing here\n");
    let run = p.run(&[SELECT]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(run.stdout, "No findings in 1 file.\n");
}

#[test]
fn the_schema_check_rejects_invalid_sarif() {
    let p = project();
    let run = p.run(&["--format", "sarif", SELECT]);
    let mut log: Value = serde_json::from_str(&run.stdout).unwrap();
    log["runs"][0]["results"][0]["level"] = Value::from("fatal");
    assert!(!sarif_validator().is_valid(&log));
    let mut log: Value = serde_json::from_str(&run.stdout).unwrap();
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] =
        Value::from(0);
    assert!(!sarif_validator().is_valid(&log));
}

#[test]
fn github_format_also_writes_the_job_summary_when_running_in_actions() {
    let p = project();
    let summary = p.root().join("summary.md");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_drlint"))
        .args(["--format", "github", SELECT])
        .current_dir(p.root())
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let md = std::fs::read_to_string(&summary).expect("summary written");
    assert!(md.starts_with("### drlint\n"), "{md}");
    assert!(md.contains("| error | [DR003]"), "{md}");
    assert!(md.contains("`db/main.tf:5`"), "{md}");
}

/// Instance addresses as logical locations, and a plan's finding without a line, are still
/// valid SARIF.
#[test]
fn sarif_with_instances_and_a_placeless_plan_finding_is_valid() {
    let p = Project::new();
    p.file(
        "modules/db/main.tf",
        "resource \"aws_db_instance\" \"this\" {\n  count               = 2\n  deletion_protection = false\n}\n",
    );
    p.file(
        "main.tf",
        "module \"db\" {\n  source   = \"./modules/db\"\n  for_each = toset([\"a\", \"b\"])\n}\n",
    );
    let run = p.run(&["--no-config", "--format", "sarif", "--select", "DR003"]);
    let log = assert_valid_sarif(&run.stdout);
    let logical = &log["runs"][0]["results"][0]["locations"][0]["logicalLocations"];
    assert_eq!(logical.as_array().map(Vec::len), Some(4), "{logical}");
    p.file(
        "elsewhere/plan.json",
        r#"{"planned_values": {"root_module": {"resources": [{"address": "aws_db_instance.x",
            "mode": "managed", "type": "aws_db_instance", "name": "x",
            "values": {"deletion_protection": false}}]}}}"#,
    );
    let run = p.run(&[
        "--no-config",
        "--format",
        "sarif",
        "--select",
        "DR003",
        "--plan",
        "elsewhere/plan.json",
    ]);
    let log = assert_valid_sarif(&run.stdout);
    assert_eq!(log["runs"][0]["results"].as_array().map(Vec::len), Some(1));
}

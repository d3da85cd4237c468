//! A gate that fails for the right reasons: nothing to lint is an error, a missing local
//! module is named at its caller, comments meant as suppressions that are none are
//! reported, and `drlint explain ALL` works.

mod cli_support;

use cli_support::{Project, DB_TF};
use serde_json::Value;

#[test]
fn nothing_to_lint_is_an_error() {
    let p = Project::new();
    p.file("docs/README.md", "no terraform here\n");
    p.file(".terraform/modules/x/main.tf", "# not the user's code\n");
    for args in [&["--no-config"][..], &["--no-config", "docs"]] {
        let run = p.run(args);
        assert_eq!(run.code, 2, "{args:?}: {run:?}");
        assert!(
            run.stdout.contains("no Terraform files under"),
            "{args:?}: {run:?}"
        );
        assert!(
            run.stderr.contains("no Terraform files under"),
            "{args:?}: {run:?}"
        );
    }
    // One empty path among good ones still fails the gate, naming it.
    p.file("infra/main.tf", DB_TF);
    let run = p.run(&["--no-config", "--select", "DR003", "infra", "docs"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains("no Terraform files under docs"),
        "{run:?}"
    );
    assert!(run.stdout.contains("error[DR003]"), "{run:?}");
    // A mistyped path is an error too.
    let run = p.run(&["--no-config", "infra-typo"]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn json_configuration_counts_as_terraform_files() {
    let p = Project::new();
    p.file(
        "cdktf.out/stacks/db/cdk.tf.json",
        "{\"resource\": {\"aws_s3_bucket\": {\"b\": {\"bucket\": \"x\"}}}}\n",
    );
    let run = p.run(&["--no-config", "cdktf.out"]);
    assert!(!run.stdout.contains("no Terraform files"), "{run:?}");
    assert!(!run.stderr.contains("no Terraform files"), "{run:?}");
}

#[test]
fn a_missing_local_module_is_named_at_its_caller() {
    let p = Project::new();
    p.file(
        "envs/prod/main.tf",
        "locals {\n  env = \"prod\"\n}\n\nmodule \"db\" {\n  source = \"../../modules/db\"\n}\n",
    );
    let run = p.run(&["--no-config"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(
        run.stdout.contains("module \"db\": its source directory"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("--> envs/prod/main.tf:5:1"),
        "the calling block, file:line: {}",
        run.stdout
    );
    // Leaving the caller out leaves its error out.
    let run = p.run(&["--no-config", "--exclude", "envs/**"]);
    assert!(!run.stdout.contains("source directory"), "{run:?}");
    let run = p.run(&["--no-config", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["errors"][0]["file"], "envs/prod/main.tf");
    assert_eq!(v["errors"][0]["line"], 5);
}

#[test]
fn fail_on_never_still_exits_2_on_errors_only() {
    let p = Project::new();
    p.file("main.tf", DB_TF);
    let run = p.run(&["--no-config", "--fail-on", "never"]);
    assert_eq!(run.code, 0, "findings never fail it: {run:?}");
    p.file("broken.tf", "resource \"aws_s3_bucket\" \"b\" {{{\n");
    let run = p.run(&["--no-config", "--fail-on", "never"]);
    assert_eq!(run.code, 2, "a file that cannot be parsed does: {run:?}");
    let empty = Project::new();
    let run = empty.run(&["--no-config", "--fail-on", "never"]);
    assert_eq!(run.code, 2, "nothing to lint does: {run:?}");
    let help = p.run(&["--help"]);
    assert!(help.stdout.contains("`--fail-on never`"), "{}", help.stdout);
}

/// A JSON report's rule codes in order, and its first finding's message and line.
fn rules_and_first_message(json: &str) -> (Vec<String>, String, u64) {
    let v: Value = serde_json::from_str(json).unwrap();
    let findings = v["findings"].as_array().unwrap();
    let rules = findings
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect();
    let first = &findings[0];
    let message = first["message"].as_str().unwrap().to_string();
    (rules, message, first["line"].as_u64().unwrap())
}

/// The database of DB_TF under a given comment.
fn commented(comment: &str) -> String {
    format!("{comment}\n{DB_TF}")
}

#[test]
fn comments_meant_as_suppressions_are_reported_with_the_right_spelling() {
    let p = Project::new();
    for (comment, want) in [
        (
            "# drlint-ignore DR003 scratch",
            "write `# drlint:ignore DR003 <reason>`",
        ),
        (
            "# drlint:ignore=DR003",
            "write `# drlint:ignore DR003 <reason>`",
        ),
        (
            "// drlint:disable DR003",
            "write `// drlint:ignore DR003 <reason>`",
        ),
        (
            "# drlint:ignore DR03 scratch",
            "did you mean DR003, missing-deletion-protection?",
        ),
        (
            "# drlint:ignore missing-deletion-protect scratch",
            "did you mean DR003, missing-deletion-protection?",
        ),
    ] {
        p.file("main.tf", &commented(comment));
        let run = p.run(&["--no-config", "--select", "DR003,DR902", "--format", "json"]);
        let (rules, message, line) = rules_and_first_message(&run.stdout);
        assert_eq!(rules, ["DR902", "DR003"], "{comment}: {}", run.stdout);
        assert!(message.contains(want), "{comment}: {message}");
        assert_eq!(line, 1);
    }
    p.file("main.tf", &commented("# drlint-ignore DR003 scratch"));
    let run = p.run(&["--no-config", "--select", "DR003,DR902"]);
    insta::assert_snapshot!(run.stdout);
}

/// Suppressions name rules by code (codes never change; names may): a name is reported
/// with the code to write, and suppresses nothing.
#[test]
fn a_rule_name_in_a_suppression_is_reported_with_its_code() {
    let p = Project::new();
    p.file(
        "main.tf",
        &commented("# drlint:ignore missing-deletion-protection scratch copy, rebuilt nightly"),
    );
    let run = p.run(&["--no-config", "--select", "DR003,DR9", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let (rules, message, _) = rules_and_first_message(&run.stdout);
    assert_eq!(rules, ["DR902", "DR003"], "{}", run.stdout);
    assert!(
        message.contains("is the name of DR003")
            && message.contains("write `# drlint:ignore DR003 <reason>`"),
        "{message}"
    );
}

#[test]
fn explain_all_prints_every_rule() {
    let p = Project::new();
    let run = p.run(&["explain", "ALL"]);
    assert_eq!(run.code, 0, "{run:?}");
    let rules = p.run(&["rules", "--format", "json"]);
    let rules: Value = serde_json::from_str(&rules.stdout).unwrap();
    for rule in rules.as_array().unwrap() {
        let heading = format!(
            "# {} {}",
            rule["code"].as_str().unwrap(),
            rule["name"].as_str().unwrap()
        );
        assert!(run.stdout.contains(&heading), "{heading}");
    }
    let run = p.run(&["explain", "DR01"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stdout.contains("# DR010 ") && !run.stdout.contains("# DR003 "));
    let run = p.run(&["explain", "DR999"]);
    assert_eq!(run.code, 2, "{run:?}");
}

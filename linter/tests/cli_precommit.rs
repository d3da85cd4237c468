//! The pre-commit use: `drlint a.tf b.tf` lints just those files, with their module
//! context, and the hook definition matches the CLI.

mod cli_support;

use cli_support::{Project, DB_TF};

fn files_in(stdout: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(stdout).expect("json");
    let mut files: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap().to_string())
        .collect();
    files.dedup();
    files
}

#[test]
fn named_files_are_the_only_ones_reported() {
    let p = Project::new();
    for name in ["a", "b", "c"] {
        p.file(
            &format!("{name}.tf"),
            &DB_TF.replace("\"main\"", &format!("\"{name}\"")),
        );
    }
    p.file("other/d.tf", DB_TF);
    let run = p.run(&["a.tf", "b.tf", "--select", "DR003", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(files_in(&run.stdout), ["a.tf", "b.tf"]);
}

#[test]
fn named_files_keep_their_module_context() {
    // b.tf holds the cross-region backup replication of the database in a.tf: linting only
    // a.tf must still see it, and must not report b.tf.
    let p = Project::new();
    p.file(
        "a.tf",
        "resource \"aws_db_instance\" \"main\" {\n  identifier          = \"orders\"\n  deletion_protection = false\n}\n",
    );
    p.file(
        "b.tf",
        "provider \"aws\" {\n  alias  = \"dr\"\n  region = \"eu-central-1\"\n}\n\nresource \"aws_db_instance_automated_backups_replication\" \"main\" {\n  provider               = aws.dr\n  source_db_instance_arn = aws_db_instance.main.arn\n  retention_period       = 14\n}\n\nresource \"aws_db_instance\" \"unrelated\" {\n  deletion_protection = false\n}\n",
    );
    p.file(
        "providers.tf",
        "provider \"aws\" {\n  region = \"eu-west-1\"\n}\n",
    );
    let run = p.run(&["a.tf", "--select", "DR003,DR010", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let found: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["rule"].as_str().unwrap(),
                f["resource"].as_str().unwrap(),
                f["file"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(found, ["DR003 aws_db_instance.main a.tf"], "{run:?}");
}

#[test]
fn files_in_a_local_module_are_reported_at_their_module_address() {
    let p = Project::new();
    p.file(
        "main.tf",
        "module \"orders\" {\n  source = \"./modules/db\"\n}\n",
    );
    p.file("modules/db/main.tf", DB_TF);
    let run = p.run(&["--select", "DR003", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let resources: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["resource"].as_str().unwrap())
        .collect();
    assert_eq!(resources, ["module.orders.aws_db_instance.main"], "{run:?}");
}

#[test]
fn the_hook_definition_runs_drlint_on_tf_files() {
    let hooks = include_str!("../../.pre-commit-hooks.yaml");
    assert!(hooks.contains("- id: drlint\n"), "{hooks}");
    assert!(hooks.contains("entry: drlint"), "{hooks}");
    assert!(hooks.contains("files: \\.tf(\\.json)?$"), "{hooks}");
    assert!(hooks.contains("(DR001-DR019)"), "{hooks}");
}

/// pre-commit names the changed file: a finding on its resource whose value a variable's
/// default decides points at that default in another file, and is still reported.
#[test]
fn a_finding_moved_to_a_default_in_another_file_is_reported_for_the_named_file() {
    let p = Project::new();
    p.file(
        "variables.tf",
        "variable \"protect\" {\n  default = false\n}\n",
    );
    p.file(
        "db.tf",
        "resource \"aws_db_instance\" \"main\" {\n  deletion_protection = var.protect\n}\n",
    );
    p.file(
        "other.tf",
        "resource \"aws_db_instance\" \"other\" {\n  deletion_protection = var.protect\n}\n",
    );
    let run = p.run(&["db.tf", "--select", "DR003", "--format", "json"]);
    assert_eq!(run.code, 1, "{run:?}");
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let found: Vec<(&str, &str)> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["resource"].as_str().unwrap(), f["file"].as_str().unwrap()))
        .collect();
    // The other file's resource, decided by the same default, is not the named file's.
    assert_eq!(found, [("aws_db_instance.main", "variables.tf")], "{run:?}");
}

#[test]
fn a_named_json_configuration_file_is_linted_with_its_module() {
    let p = Project::new();
    p.file(
        "variables.tf",
        "variable \"protect\" {\n  default = false\n}\n",
    );
    p.file(
        "cdk.tf.json",
        r#"{"resource": {"aws_db_instance": {"main": {"deletion_protection": "${var.protect}"}}}}"#,
    );
    let run = p.run(&["cdk.tf.json", "--select", "DR003", "--format", "json"]);
    // The JSON string is a template of one reference, the variable's own value: the
    // finding is where that value is decided, the default in the module's variables.tf.
    assert_eq!(files_in(&run.stdout), ["variables.tf"], "{run:?}");
    assert!(
        run.stdout.contains("(the default of var.protect)"),
        "{run:?}"
    );
}

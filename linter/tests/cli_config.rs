//! `.drlint.toml`: discovery, precedence (flags > file > defaults) and error positions.

mod cli_support;

use cli_support::{Project, DB_TF};

fn codes(stdout: &str) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(stdout).expect("json");
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}",
                f["rule"].as_str().unwrap(),
                f["severity"].as_str().unwrap()
            )
        })
        .collect()
}

#[test]
fn config_is_found_by_walking_up_from_the_linted_path() {
    let p = Project::new();
    p.file(".drlint.toml", "select = [\"DR010\"]\n");
    p.file("envs/prod/db.tf", DB_TF);
    let run = p.run(&["envs/prod", "--format", "json"]);
    assert_eq!(codes(&run.stdout), ["DR010:warning"], "{run:?}");
    // Also from inside the subdirectory.
    let run = p.run_in("envs/prod", &["--format", "json"]);
    assert_eq!(codes(&run.stdout), ["DR010:warning"], "{run:?}");
}

#[test]
fn nearest_config_wins() {
    let p = Project::new();
    p.file(".drlint.toml", "select = [\"DR010\"]\n");
    p.file("envs/.drlint.toml", "select = [\"DR003\"]\n");
    p.file("envs/prod/db.tf", DB_TF);
    let run = p.run(&["envs/prod", "--format", "json"]);
    assert_eq!(codes(&run.stdout), ["DR003:error"], "{run:?}");
}

#[test]
fn discovery_stops_at_the_repository_root() {
    let outer = Project::bare();
    outer.file(".drlint.toml", "select = [\"DR003\"]\n");
    outer.file("repo/.git/HEAD", "ref: refs/heads/main\n");
    outer.file("repo/db.tf", DB_TF);
    let run = outer.run_in("repo", &["--format", "json", "--ignore", "DR000"]);
    let found = codes(&run.stdout);
    assert!(
        found.len() > 1,
        "the outer config must not apply: {found:?}"
    );
}

#[test]
fn config_flag_replaces_discovery() {
    let p = Project::new();
    p.file(".drlint.toml", "select = [\"DR003\"]\n");
    p.file("ci/drlint.toml", "select = [\"DR010\"]\n");
    p.file("db.tf", DB_TF);
    let run = p.run(&["--config", "ci/drlint.toml", "--format", "json"]);
    assert_eq!(codes(&run.stdout), ["DR010:warning"], "{run:?}");
    let run = p.run(&["--config", "ci/missing.toml"]);
    assert_eq!(run.code, 2, "{run:?}");
}

#[test]
fn no_config_ignores_the_file() {
    let p = Project::new();
    p.file(".drlint.toml", "this is not toml\n");
    p.file("db.tf", DB_TF);
    let run = p.run(&["--no-config", "--select", "DR003", "--format", "json"]);
    assert_eq!(codes(&run.stdout), ["DR003:error"], "{run:?}");
}

#[test]
fn flags_beat_the_file_which_beats_defaults() {
    let p = Project::new();
    p.file(
        ".drlint.toml",
        "select = [\"DR003\", \"DR010\"]\nignore = [\"DR003\"]\nfail_on = \"error\"\n\n[severity]\nDR010 = \"error\"\n",
    );
    p.file("db.tf", DB_TF);
    // File only: DR003 ignored, DR010 raised to error; the file's gate is error.
    let run = p.run(&["--format", "json"]);
    assert_eq!(codes(&run.stdout), ["DR010:error"]);
    assert_eq!(run.code, 1);
    // Flags: --select names DR003 explicitly (beats the file's ignore), --severity lowers
    // DR010, --fail-on tightens the gate back to warning.
    let run = p.run(&[
        "--format",
        "json",
        "--select",
        "DR003,DR010",
        "--severity",
        "DR010=warning",
    ]);
    assert_eq!(
        codes(&run.stdout),
        ["DR010:warning", "DR003:error"],
        "{run:?}"
    );
    let run = p.run(&["--select", "DR010", "--severity", "DR010=warning"]);
    assert_eq!(run.code, 0, "file gate is error: {run:?}");
    let run = p.run(&[
        "--select",
        "DR010",
        "--severity",
        "DR010=warning",
        "--fail-on",
        "warning",
    ]);
    assert_eq!(run.code, 1, "flag gate is warning: {run:?}");
    // --ignore adds to the file's ignore.
    let run = p.run(&["--format", "json", "--ignore", "DR010"]);
    assert_eq!(codes(&run.stdout), Vec::<String>::new());
}

#[test]
fn defaults_apply_without_a_file() {
    let p = Project::new();
    p.file("db.tf", DB_TF);
    let run = p.run(&["--format", "json", "--select", "DR003,DR010"]);
    // Sorted by position: DR010 points at the block header, DR003 at the attribute.
    assert_eq!(
        codes(&run.stdout),
        ["DR010:warning", "DR003:error"],
        "{run:?}"
    );
}

#[test]
fn unknown_keys_are_reported_with_file_and_line() {
    let p = Project::new();
    p.file(
        ".drlint.toml",
        "select = [\"DR003\"]\n\nminimum_retention = 14\n",
    );
    p.file("db.tf", DB_TF);
    let run = p.run(&[]);
    assert_eq!(run.code, 2, "{run:?}");
    assert_eq!(run.stdout, "");
    let first = run.stderr.lines().next().unwrap();
    assert!(first.contains(".drlint.toml:3:1: "), "{first}");
    assert!(first.contains("minimum_retention"), "{first}");
}

#[test]
fn bad_values_are_reported_at_the_value() {
    let p = Project::new();
    p.file("db.tf", DB_TF);
    let cases = [
        ("select = [\"DR003\", \"DR123\"]\n", ":1:20: ", "DR123"),
        ("[severity]\nDR010 = \"fatal\"\n", ":2:9: ", "fatal"),
        ("[severity]\nDR999 = \"error\"\n", ":2:1: ", "DR999"),
        ("min_retention_days = 90\n", ":1:22: ", "1 to 35"),
        ("min_retention_days = \"7d\"\n", ":1:22: ", "integer"),
        (
            "dr_regions = [\"eu-west-1\", \"moon\"]\n",
            ":1:28: ",
            "moon",
        ),
        ("fail_on = \"sometimes\"\n", ":1:11: ", "never"),
        ("select = \"DR003\"\n", ":1:10: ", "array"),
        ("select = [\n", ":", "TOML"),
    ];
    for (toml, position, words) in cases {
        p.file(".drlint.toml", toml);
        let run = p.run(&[]);
        assert_eq!(run.code, 2, "{toml}: {run:?}");
        let first = run.stderr.lines().next().unwrap_or_default().to_string();
        assert!(
            first.contains(&format!(".drlint.toml{position}")),
            "{toml}: {first}"
        );
        assert!(
            run.stderr.to_lowercase().contains(&words.to_lowercase()) || words == "TOML",
            "{toml}: {}",
            run.stderr
        );
    }
}

#[test]
fn exclude_globs_drop_files_from_the_report() {
    let p = Project::new();
    p.file(
        ".drlint.toml",
        "select = [\"DR003\"]\nexclude = [\"examples/**\", \"*_scratch.tf\"]\n",
    );
    p.file("db.tf", DB_TF);
    p.file("examples/demo/db.tf", DB_TF);
    p.file("db_scratch.tf", &DB_TF.replace("\"main\"", "\"scratch\""));
    let run = p.run(&["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    let files: Vec<&str> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["db.tf"], "{run:?}");
}

#[test]
fn var_files_are_resolved_against_the_config_directory() {
    let p = Project::new();
    p.file(
        "infra/.drlint.toml",
        "var_files = [\"prod.tfvars\"]\nselect = [\"DR003\"]\n",
    );
    p.file("infra/prod.tfvars", "protect = true\n");
    p.file(
        "infra/db.tf",
        "variable \"protect\" {\n  default = false\n}\n\nresource \"aws_db_instance\" \"main\" {\n  deletion_protection = var.protect\n}\n",
    );
    let run = p.run(&["infra", "--format", "json"]);
    assert_ne!(run.code, 2, "var file found: {run:?}");
    p.file("infra/.drlint.toml", "var_files = [\"missing.tfvars\"]\n");
    let run = p.run(&["infra"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("missing.tfvars"), "{}", run.stderr);
}

//! Output a reviewer can act on: every finding names its resource address with the module
//! path and instance keys, one finding repeated across module instances is one text entry,
//! `--plan` findings point at the configuration, and `-o FILE` keeps the summary and the
//! errors on standard error.

mod cli_support;

use cli_support::{Project, DB_TF};
use serde_json::Value;

/// One module called from two root modules, once as `module.db` and twice as
/// `module.pair` (`for_each`): one block, three module instances at two addresses.
fn shared_module() -> Project {
    let p = Project::new();
    p.file(
        "modules/db/main.tf",
        r#"variable "create" {
  default = true
}

resource "aws_db_instance" "this" {
  count                    = var.create ? 1 : 0
  engine                   = "postgres"
  backup_retention_period  = 7
  delete_automated_backups = true
}
"#,
    );
    p.file(
        "examples/a/main.tf",
        "module \"db\" {\n  source = \"../../modules/db\"\n}\n",
    );
    p.file(
        "examples/b/main.tf",
        "module \"pair\" {\n  source   = \"../../modules/db\"\n  for_each = toset([\"blue\", \"green\"])\n}\n\nmodule \"off\" {\n  source = \"../../modules/db\"\n  create = false\n}\n",
    );
    p
}

#[test]
fn text_groups_one_finding_across_module_instances_and_names_each_instance() {
    let p = shared_module();
    let run = p.run(&["--no-config", "--select", "DR005"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert_eq!(
        run.stdout.matches("error[DR005]").count(),
        1,
        "one entry, not one per instance: {}",
        run.stdout
    );
    for address in [
        "module.db.aws_db_instance.this[0]",
        "module.pair[\"blue\"].aws_db_instance.this[0]",
        "module.pair[\"green\"].aws_db_instance.this[0]",
    ] {
        assert!(run.stdout.contains(address), "{address}: {}", run.stdout);
    }
    // `count = 0` through `create = false`: no instance, not listed.
    assert!(!run.stdout.contains("module.off"), "{}", run.stdout);
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn github_annotations_name_the_instance_address() {
    let p = shared_module();
    let run = p.run(&["--no-config", "--select", "DR005", "--format", "github"]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains(
            "title=DR005 automated-backups-deleted (module.db.aws_db_instance.this[0])::"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("title=DR005 automated-backups-deleted (module.pair[\"blue\"].aws_db_instance.this[0] and 1 more)::"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(
            "resources: module.pair[\"blue\"].aws_db_instance.this[0], module.pair[\"green\"].aws_db_instance.this[0]"
        ),
        "{}",
        run.stdout
    );
}

#[test]
fn json_keeps_one_finding_per_address_and_adds_the_instances() {
    let p = shared_module();
    let run = p.run(&["--no-config", "--select", "DR005", "--format", "json"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    // One per address, without index, as DESIGN.md promises.
    assert_eq!(findings.len(), 2, "{}", run.stdout);
    assert_eq!(findings[0]["resource"], "module.db.aws_db_instance.this");
    assert_eq!(
        findings[0]["instances"],
        serde_json::json!(["module.db.aws_db_instance.this[0]"])
    );
    assert_eq!(findings[1]["resource"], "module.pair.aws_db_instance.this");
    assert_eq!(
        findings[1]["instances"],
        serde_json::json!([
            "module.pair[\"blue\"].aws_db_instance.this[0]",
            "module.pair[\"green\"].aws_db_instance.this[0]"
        ])
    );
}

#[test]
fn sarif_names_each_instance_as_a_logical_location() {
    let p = shared_module();
    let run = p.run(&["--no-config", "--select", "DR005", "--format", "sarif"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let logical = &v["runs"][0]["results"][1]["locations"][0]["logicalLocations"];
    assert_eq!(logical.as_array().map(Vec::len), Some(2), "{logical}");
    assert_eq!(
        logical[0]["fullyQualifiedName"],
        "module.pair[\"blue\"].aws_db_instance.this[0]"
    );
}

/// `terraform show -json` output of a plan of `plan/main.tf` calling `./modules/db` with
/// `count = 1`.
const PLAN: &str = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {"child_modules": [{"address": "module.db[0]", "resources": [
    {"address": "module.db[0].aws_db_instance.this", "mode": "managed", "type": "aws_db_instance",
     "name": "this", "index": 0,
     "values": {"engine": "postgres", "deletion_protection": false, "backup_retention_period": 7,
                "delete_automated_backups": false, "copy_tags_to_snapshot": true}}
  ]}]}},
  "configuration": {
    "provider_config": {"aws": {"name": "aws", "expressions": {"region": {"constant_value": "us-east-1"}}}},
    "root_module": {"module_calls": {"db": {"source": "./modules/db",
      "count_expression": {"constant_value": 1},
      "module": {"resources": [{"address": "aws_db_instance.this", "provider_config_key": "aws", "expressions": {}}]}}}}
  }
}"#;

fn plan_project() -> Project {
    let p = Project::new();
    p.file(
        "plan/main.tf",
        "module \"db\" {\n  source = \"./modules/db\"\n  count  = 1\n}\n",
    );
    p.file(
        "plan/modules/db/main.tf",
        "resource \"aws_db_instance\" \"this\" {\n  engine              = \"postgres\"\n  deletion_protection = false\n}\n",
    );
    p.file("plan/plan.json", PLAN);
    p.file("elsewhere/plan.json", PLAN);
    p
}

/// `drlint --plan PLAN --select DR003` and `extra` in `p`.
fn lint_plan(p: &Project, plan: &str, extra: &[&str]) -> cli_support::Run {
    let mut args = vec!["--no-config", "--plan", plan, "--select", "DR003"];
    args.extend_from_slice(extra);
    p.run(&args)
}

#[test]
fn plan_findings_point_at_the_block_in_the_configuration_beside_the_plan() {
    let p = plan_project();
    let run = lint_plan(&p, "plan/plan.json", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("--> plan/modules/db/main.tf:3:3"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("= resource: module.db[0].aws_db_instance.this"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout
            .lines()
            .any(|l| l.contains("-->") && l.contains("plan.json")),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("fixable"),
        "a plan is not fixed: {}",
        run.stdout
    );
    // The summary says what was linted: the plan and its resources, not "0 files".
    assert!(
        run.stdout
            .trim_end()
            .ends_with(" in plan plan/plan.json (1 resource)."),
        "{}",
        run.stdout
    );
    insta::assert_snapshot!(run.stdout);
}

#[test]
fn plan_findings_use_config_dir_and_its_suppressions() {
    let p = plan_project();
    let run = lint_plan(
        &p,
        "elsewhere/plan.json",
        &["--config-dir", "plan", "--format", "json"],
    );
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(v["findings"][0]["file"], "plan/modules/db/main.tf", "{v}");
    assert_eq!(v["findings"][0]["line"], 3);
    // A suppression in the configuration covers the plan's finding too.
    p.file(
        "plan/modules/db/main.tf",
        "# drlint:ignore DR003 scratch database\nresource \"aws_db_instance\" \"this\" {\n  engine              = \"postgres\"\n  deletion_protection = false\n}\n",
    );
    let run = lint_plan(&p, "plan/plan.json", &[]);
    assert_eq!(run.code, 0, "{run:?}");
    let run = p.run(&["--no-config", "--plan", "x.json", "--config-dir", "nope"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stderr.contains("--config-dir"), "{run:?}");
}

/// A plan Terraform made (tests/plans/for_each): module instances by `for_each` key,
/// resource instances by `count` index.
#[test]
fn a_terraform_plan_points_at_its_configuration_and_names_each_instance() {
    let p = Project::new();
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/plans/for_each");
    for rel in ["main.tf", "modules/db/main.tf", "plan.json"] {
        p.file(rel, &std::fs::read_to_string(fixture.join(rel)).unwrap());
    }
    let run = lint_plan(&p, "plan.json", &[]);
    assert_eq!(run.code, 1, "{run:?}");
    assert!(
        run.stdout.contains("--> modules/db/main.tf:10:3"),
        "{}",
        run.stdout
    );
    assert_eq!(
        run.stdout.matches("error[DR003]").count(),
        1,
        "{}",
        run.stdout
    );
    for address in [
        "module.db[\"blue\"].aws_db_instance.this[0]",
        "module.db[\"green\"].aws_db_instance.this[0]",
    ] {
        assert!(run.stdout.contains(address), "{address}: {}", run.stdout);
    }
    assert!(!run.stdout.contains("--fix"), "{}", run.stdout);
}

#[test]
fn plan_findings_find_blocks_the_configuration_defaults_leave_out() {
    // The plan enabled `module.replica` (count from a variable its defaults leave at 0);
    // its block is the one `module.primary` instantiates.
    let p = Project::new();
    p.file(
        "main.tf",
        "variable \"replica\" {\n  default = false\n}\n\nmodule \"primary\" {\n  source = \"./modules/db\"\n}\n\nmodule \"replica\" {\n  source = \"./modules/db\"\n  count  = var.replica ? 1 : 0\n}\n",
    );
    p.file(
        "modules/db/main.tf",
        "resource \"aws_db_instance\" \"this\" {\n  engine              = \"postgres\"\n  deletion_protection = false\n}\n",
    );
    p.file(
        "plan.json",
        &PLAN
            .replace("module.db[0]", "module.replica[0]")
            .replace("\"db\": {\"source\"", "\"replica\": {\"source\""),
    );
    let run = lint_plan(&p, "plan.json", &[]);
    assert!(
        run.stdout.contains("--> modules/db/main.tf:3:3"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("= resource: module.replica[0].aws_db_instance.this"),
        "{}",
        run.stdout
    );
}

#[test]
fn plan_findings_without_a_configuration_name_their_address_not_line_1() {
    let p = plan_project();
    for format in ["text", "github"] {
        let run = lint_plan(&p, "elsewhere/plan.json", &["--format", format]);
        assert_eq!(run.code, 1, "{run:?}");
        assert!(!run.stdout.contains("plan.json:1:1"), "{}", run.stdout);
        assert!(!run.stdout.contains("line=1,"), "{}", run.stdout);
        assert!(!run.stdout.contains("--fix"), "{}", run.stdout);
        assert!(
            run.stdout.contains("module.db[0].aws_db_instance.this"),
            "{format}: {}",
            run.stdout
        );
    }
    let run = lint_plan(&p, "elsewhere/plan.json", &["--format", "sarif"]);
    let v: Value = serde_json::from_str(&run.stdout).unwrap();
    let physical = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"];
    assert!(physical.get("region").is_none(), "{physical}");
}

#[test]
fn output_file_keeps_the_summary_and_errors_on_stderr() {
    let p = Project::new();
    p.file("main.tf", DB_TF);
    p.file("broken.tf", "resource \"aws_s3_bucket\" \"b\" {{{\n");
    for format in ["text", "json", "sarif"] {
        let run = p.run(&[
            "--no-config",
            "--select",
            "DR003,DR010",
            "--format",
            format,
            "-o",
            "report.out",
        ]);
        assert_eq!(run.code, 2, "{run:?}");
        assert_eq!(run.stdout, "");
        assert!(
            run.stderr.contains("Found 2 findings (1 error, 1 warning)"),
            "{format}: {}",
            run.stderr
        );
        assert!(
            run.stderr.contains("error: broken.tf:1:"),
            "{format}: {}",
            run.stderr
        );
        assert!(p.read("report.out").contains("DR003"));
    }
}

/// Keys through nested modules: the outer module's `count`, the inner one's `for_each`,
/// the resource's own `count`; an unknown `count` leaves the address without a key.
#[test]
fn instance_addresses_carry_every_known_key_through_nested_modules() {
    let files: Vec<(std::path::PathBuf, Vec<u8>)> = [
        (
            "root/main.tf",
            "variable \"n\" {}\n\nmodule \"outer\" {\n  source = \"../outer\"\n  count  = 2\n}\n\nmodule \"unknown\" {\n  source = \"../inner\"\n  count  = var.n\n}\n",
        ),
        (
            "outer/main.tf",
            "module \"db\" {\n  source   = \"../inner\"\n  for_each = { a = 1, b = 2 }\n}\n",
        ),
        (
            "inner/main.tf",
            "resource \"aws_db_instance\" \"this\" {\n  count               = 1\n  deletion_protection = false\n}\n",
        ),
    ]
    .into_iter()
    .map(|(p, t)| (std::path::PathBuf::from(p), t.as_bytes().to_vec()))
    .collect();
    let report = drlint::lint_in_memory(
        &files,
        &drlint::LintOptions {
            select: vec!["DR003".into()],
            ..Default::default()
        },
    );
    assert_eq!(
        report.instances["module.outer.module.db.aws_db_instance.this"],
        [
            "module.outer[0].module.db[\"a\"].aws_db_instance.this[0]",
            "module.outer[0].module.db[\"b\"].aws_db_instance.this[0]",
            "module.outer[1].module.db[\"a\"].aws_db_instance.this[0]",
            "module.outer[1].module.db[\"b\"].aws_db_instance.this[0]",
        ]
    );
    assert_eq!(
        report.instances["module.unknown.aws_db_instance.this"],
        ["module.unknown.aws_db_instance.this[0]"]
    );
}

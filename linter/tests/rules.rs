//! Every rule against its fixtures: `tests/fixtures/DRxxx/<case>/` is a small Terraform
//! configuration (with modules, tfvars, aliases where the case needs them). Cases named
//! `bad_*` must produce findings of that rule, `ok_*` none; the findings of every case are
//! snapshotted so a change of message or position shows as a diff.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use drlint::{fix, lint, LintOptions, Report};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn cases() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for rule in std::fs::read_dir(fixtures()).expect("fixtures") {
        let rule = rule.unwrap().path();
        let code = rule.file_name().unwrap().to_string_lossy().to_string();
        for case in std::fs::read_dir(&rule).unwrap() {
            out.push((code.clone(), case.unwrap().path()));
        }
    }
    out.sort();
    out
}

fn lint_case(code: &str, dir: &Path) -> Report {
    lint(&LintOptions {
        paths: vec![dir.to_path_buf()],
        select: vec![code.to_string()],
        ..LintOptions::default()
    })
}

fn listing(report: &Report, base: &Path) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let file = f.file.strip_prefix(base).unwrap_or(&f.file);
        writeln!(
            out,
            "{}:{}:{} {} {} {}\n    {}{}",
            file.display(),
            f.location.line,
            f.location.column,
            f.rule,
            f.severity.as_str(),
            f.resource,
            f.message,
            f.fix
                .as_ref()
                .map(|x| format!("\n    fix: {}", x.description))
                .unwrap_or_default()
        )
        .unwrap();
    }
    for e in &report.errors {
        writeln!(out, "error {}: {}", e.file.display(), e.message).unwrap();
    }
    out
}

#[test]
fn every_rule_has_bad_and_ok_fixtures() {
    for meta in drlint::rules::RULES {
        let dir = fixtures().join(meta.code);
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|_| panic!("{} has no fixtures in {}", meta.code, dir.display()))
            .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
            .collect();
        assert!(
            names.iter().any(|n| n.starts_with("bad_")),
            "{}: no bad_ case",
            meta.code
        );
        assert!(
            names.iter().any(|n| n.starts_with("ok_")),
            "{}: no ok_ case",
            meta.code
        );
    }
}

#[test]
fn fixtures_find_what_their_names_say() {
    let mut failures = Vec::new();
    for (code, dir) in cases() {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        let report = lint_case(&code, &dir);
        assert!(
            report.errors.is_empty(),
            "{code}/{name}: {:?}",
            report.errors
        );
        let found = report.findings.iter().filter(|f| f.rule == code).count();
        if name.starts_with("bad_") && found == 0 {
            failures.push(format!("{code}/{name}: expected findings, got none"));
        }
        if name.starts_with("ok_") && found != 0 {
            failures.push(format!(
                "{code}/{name}: expected none, got\n{}",
                listing(&report, &dir)
            ));
        }
        insta::assert_snapshot!(format!("{code}__{name}"), listing(&report, &dir));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

fn terraform() -> PathBuf {
    let path = std::env::var_os("TERRAFORM")
        .map_or_else(|| PathBuf::from("/usr/local/bin/terraform"), PathBuf::from);
    assert!(
        path.is_file(),
        "terraform is needed for the fmt round-trip tests: install it at {} or set TERRAFORM",
        path.display()
    );
    path
}

fn fmt_clean(dir: &Path) -> bool {
    Command::new(terraform())
        .args(["fmt", "-check", "-recursive"])
        .current_dir(dir)
        .status()
        .expect("run terraform fmt")
        .success()
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Applies fixes until none applies, like `drlint --fix` does.
fn fix_dir(code: &str, dir: &Path) {
    for _ in 0..4 {
        let report = lint_case(code, dir);
        let mut changed = false;
        let mut files: Vec<PathBuf> = report.findings.iter().map(|f| f.file.clone()).collect();
        files.dedup();
        for file in files {
            let findings: Vec<_> = report
                .findings
                .iter()
                .filter(|f| f.file == file)
                .cloned()
                .collect();
            let before = std::fs::read_to_string(&file).unwrap();
            let after = fix::apply(&before, &findings);
            if after != before {
                std::fs::write(&file, after).unwrap();
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
}

#[test]
fn fixes_remove_the_finding_keep_the_file_valid_and_fmt_clean() {
    let mut checked = 0;
    for (code, dir) in cases() {
        let fixable = drlint::rules::lookup(&code).unwrap().fixable;
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        if !fixable || !name.starts_with("bad_") {
            continue;
        }
        let before = lint_case(&code, &dir);
        if !before.findings.iter().any(|f| {
            f.fix
                .as_ref()
                .is_some_and(|x| x.applicability == drlint::Applicability::Safe)
        }) {
            continue;
        }
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&dir, tmp.path());
        let was_clean = fmt_clean(tmp.path());
        fix_dir(&code, tmp.path());
        let after = lint_case(&code, tmp.path());
        assert!(
            after.errors.is_empty(),
            "{code}/{name}: fixed files must parse: {:?}",
            after.errors
        );
        let left: Vec<_> = after
            .findings
            .iter()
            .filter(|f| {
                f.fix
                    .as_ref()
                    .is_some_and(|x| x.applicability == drlint::Applicability::Safe)
            })
            .collect();
        assert!(
            left.is_empty(),
            "{code}/{name}: still fixable after --fix: {left:?}"
        );
        assert!(
            after.findings.len() < before.findings.len(),
            "{code}/{name}: the fix removed nothing"
        );
        if was_clean {
            assert!(
                fmt_clean(tmp.path()),
                "{code}/{name}: terraform fmt -check fails after the fix"
            );
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} fixable cases were exercised");
}

#[test]
fn a_plan_json_is_judged_with_its_resolved_values_and_regions() {
    let plan = serde_json::json!({
        "format_version": "1.2",
        "planned_values": {"root_module": {
            "resources": [
                {"address": "aws_db_instance.main", "mode": "managed", "type": "aws_db_instance", "name": "main",
                 "values": {"identifier": "orders", "deletion_protection": false, "backup_retention_period": 14,
                            "delete_automated_backups": false, "storage_encrypted": true}},
                {"address": "aws_db_instance.replica", "mode": "managed", "type": "aws_db_instance", "name": "replica",
                 "values": {"replicate_source_db": null, "deletion_protection": true, "storage_encrypted": true}}
            ],
            "child_modules": [{"address": "module.logs", "resources": [
                {"address": "module.logs.aws_db_instance.db[0]", "mode": "managed", "type": "aws_db_instance", "name": "db", "index": 0,
                 "values": {"deletion_protection": true, "backup_retention_period": 0}},
                {"address": "module.logs.aws_db_instance.db[1]", "mode": "managed", "type": "aws_db_instance", "name": "db", "index": 1,
                 "values": {"deletion_protection": true, "backup_retention_period": 0}}
            ]}]
        }},
        "configuration": {
            "provider_config": {
                "aws": {"name": "aws", "expressions": {"region": {"constant_value": "us-east-1"}}},
                "aws.dr": {"name": "aws", "alias": "dr", "expressions": {"region": {"constant_value": "us-east-1"}}}
            },
            "root_module": {"resources": [
                {"address": "aws_db_instance.main", "provider_config_key": "aws", "expressions": {}},
                {"address": "aws_db_instance.replica", "provider_config_key": "aws.dr",
                 "expressions": {"replicate_source_db": {"references": ["aws_db_instance.main.arn", "aws_db_instance.main"]}}}
            ]}
        }
    });
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("plan.json");
    std::fs::write(&path, serde_json::to_vec(&plan).unwrap()).unwrap();
    let report = drlint::lint_plan(&path, &LintOptions::default());
    let found: Vec<String> = report
        .findings
        .iter()
        .map(|f| format!("{} {}", f.rule, f.resource))
        .collect();
    assert!(
        found.contains(&"DR003 aws_db_instance.main".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"DR001 aws_db_instance.replica".to_string()),
        "{found:?}"
    );
    assert!(
        found.contains(&"DR004 module.logs.aws_db_instance.db".to_string()),
        "{found:?}"
    );
    assert_eq!(
        found
            .iter()
            .filter(|f| *f == "DR004 module.logs.aws_db_instance.db")
            .count(),
        1,
        "one finding per address, not per instance"
    );
    // Its only replica is in its own region: that is no copy.
    assert!(
        found.contains(&"DR010 aws_db_instance.main".to_string()),
        "{found:?}"
    );

    std::fs::write(&path, "{not json").unwrap();
    let report = drlint::lint_plan(&path, &LintOptions::default());
    assert!(
        report.errors[0].message.contains("terraform show -json"),
        "{:?}",
        report.errors
    );
}

fn files_of(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_of(&path));
        } else {
            out.push((path.clone(), std::fs::read(&path).unwrap()));
        }
    }
    out
}

#[test]
fn linting_in_memory_gives_the_report_linting_on_disk_gives() {
    for (code, dir) in cases() {
        let on_disk = lint_case(&code, &dir);
        let in_memory = drlint::lint_in_memory(
            &files_of(&dir),
            &LintOptions {
                select: vec![code.clone()],
                ..LintOptions::default()
            },
        );
        assert_eq!(in_memory, on_disk, "{}", dir.display());
    }
}

/// The addresses `rule` reports, in report order.
fn addresses<'a>(report: &'a Report, rule: &str) -> Vec<&'a str> {
    report
        .findings
        .iter()
        .filter(|f| f.rule == rule)
        .map(|f| f.resource.as_str())
        .collect()
}

fn lint_text(files: &[(&str, &str)]) -> Report {
    let files: Vec<(PathBuf, Vec<u8>)> = files
        .iter()
        .map(|(p, t)| (PathBuf::from(p), t.as_bytes().to_vec()))
        .collect();
    drlint::lint_in_memory(&files, &LintOptions::default())
}

#[test]
fn a_module_call_the_quick_scan_misses_is_still_linted_once() {
    // The unbalanced brace in the comment hides the `module` block from the scan.
    let report = lint_text(&[
        (
            "/p/main.tf",
            "# a note with a brace {\nmodule \"db\" {\n  source = \"./db\"\n}\n",
        ),
        (
            "/p/db/main.tf",
            "resource \"aws_db_instance\" \"main\" {\n  deletion_protection = false\n}\n",
        ),
    ]);
    let dr003 = addresses(&report, "DR003");
    assert_eq!(dr003, ["module.db.aws_db_instance.main"]);
}

/// Applies the safe fixes of `file` in `files` once and lints again.
fn fixed(files: &[(&str, &str)], file: &str) -> (String, Report) {
    let report = lint_text(files);
    let mine: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.file == Path::new(file))
        .cloned()
        .collect();
    let text = files.iter().find(|(p, _)| *p == file).unwrap().1;
    let after = fix::apply(text, &mine);
    let rest: Vec<(&str, &str)> = files
        .iter()
        .map(|&(p, t)| {
            if p == file {
                (p, after.as_str())
            } else {
                (p, t)
            }
        })
        .collect();
    let again = lint_text(&rest);
    (after, again)
}

#[test]
fn a_final_snapshot_name_from_an_odd_identifier_is_a_valid_string() {
    let src = "resource \"aws_db_instance\" \"main\" {\n  identifier          = \"o\\\"${\\\"x\\\"}\\\\\"\n  skip_final_snapshot = true\n}\n";
    let src = src.replace("${", "$${");
    let (after, again) = fixed(&[("/p/main.tf", &src)], "/p/main.tf");
    assert!(again.errors.is_empty(), "{after}\n{:?}", again.errors);
    assert!(!again.findings.iter().any(|f| f.rule == "DR006"), "{after}");
}

#[test]
fn a_bucket_whose_name_is_not_an_identifier_gets_no_versioning_fix() {
    let report = lint_text(&[(
        "/p/main.tf",
        "resource \"aws_s3_bucket\" \"not an identifier\" {\n  bucket = \"orders-assets\"\n}\n",
    )]);
    let dr008 = report.findings.iter().find(|f| f.rule == "DR008").unwrap();
    assert!(dr008.fix.is_none(), "{dr008:?}");
}

#[test]
fn a_second_declaration_of_an_address_is_an_error_and_not_linted() {
    let db = "resource \"aws_db_instance\" \"main\" {\n  deletion_protection = false\n}\n";
    let report = lint_text(&[("/p/a.tf", db), ("/p/b.tf", &format!("\n{db}"))]);
    let dr003: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "DR003")
        .map(|f| (f.file.to_string_lossy().to_string(), f.location.line))
        .collect();
    assert_eq!(dr003, [("/p/a.tf".to_string(), 2)]);
    assert_eq!(report.errors.len(), 1, "{:?}", report.errors);
    let e = &report.errors[0];
    assert_eq!((e.file.as_path(), e.line), (Path::new("/p/b.tf"), Some(2)));
    assert!(
        e.message.contains(
            "duplicate resource \"aws_db_instance\" \"main\": already declared at /p/a.tf:1"
        ),
        "{}",
        e.message
    );
}

#[test]
fn a_variable_declared_twice_takes_the_first_declaration_and_the_given_value() {
    // Terraform refuses the second declaration; the lint goes on with the first, and a
    // value the caller gives reaches it whichever declaration is read last.
    let db = "variable \"protect\" {\n  default = false\n}\n\n\
              resource \"aws_db_instance\" \"this\" {\n  deletion_protection = var.protect\n}\n";
    let again = "variable \"protect\" {\n  default = true\n}\n";
    let report = lint_text(&[
        (
            "/p/main.tf",
            "module \"given\" {\n  source  = \"./db\"\n  protect = true\n}\n\n\
             module \"defaults\" {\n  source = \"./db\"\n}\n",
        ),
        ("/p/db/a.tf", db),
        ("/p/db/b.tf", again),
    ]);
    let dr003: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "DR003")
        .map(|f| f.resource.as_str())
        .collect();
    assert_eq!(dr003, ["module.defaults.aws_db_instance.this"]);
}

#[test]
fn a_block_terraform_creates_no_instance_of_is_not_linted() {
    // The module pattern `count = var.create ? 1 : 0`: a call with `create = false`, a
    // `count = 0` and an empty `for_each` make nothing; an unknown count still is linted.
    let db = "variable \"create\" {\n  default = true\n}\n\n\
              resource \"aws_db_instance\" \"this\" {\n  count               = var.create ? 1 : 0\n  deletion_protection = false\n}\n";
    let report = lint_text(&[
        (
            "/p/main.tf",
            "module \"on\" {\n  source = \"./db\"\n}\n\n\
             module \"off\" {\n  source = \"./db\"\n  create = false\n}\n\n\
             module \"none\" {\n  source   = \"./db\"\n  for_each = {}\n}\n\n\
             resource \"aws_db_instance\" \"zero\" {\n  count               = 0\n  deletion_protection = false\n}\n\n\
             resource \"aws_db_instance\" \"empty\" {\n  for_each            = toset([])\n  deletion_protection = false\n}\n\n\
             resource \"aws_db_instance\" \"unknown\" {\n  count               = length(data.aws_availability_zones.all.names)\n  deletion_protection = false\n}\n",
        ),
        ("/p/db/main.tf", db),
    ]);
    let dr003 = addresses(&report, "DR003");
    assert_eq!(
        dr003,
        ["module.on.aws_db_instance.this", "aws_db_instance.unknown"]
    );
    assert!(report.errors.is_empty(), "{:?}", report.errors);
}

#[test]
fn two_root_modules_calling_one_module_report_a_shared_finding_once() {
    // A module repository: examples/a and examples/b both call the root module as "db".
    let call = "module \"db\" {\n  source = \"../../\"\n}\n";
    let report = lint_text(&[
        (
            "/repo/main.tf",
            "resource \"aws_db_instance\" \"this\" {\n  deletion_protection = false\n}\n",
        ),
        ("/repo/examples/a/main.tf", call),
        ("/repo/examples/b/main.tf", call),
    ]);
    assert_eq!(
        addresses(&report, "DR003"),
        ["module.db.aws_db_instance.this"]
    );
    let dr003 = report.findings.iter().find(|f| f.rule == "DR003");
    assert_eq!(dr003.map(|f| f.location.line), Some(2));
}

#[test]
fn every_type_the_rules_name_has_its_body_evaluated() {
    // The loader evaluates only the bodies of drlint::rules::READ_KINDS; a rule that
    // names a type missing there would see an empty body and miss every problem.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(src.join("rules"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.push(src.join("context.rs"));
    let mut named = std::collections::BTreeSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for literal in text.split('"').skip(1).step_by(2) {
            let is_type = (literal.starts_with("aws_") || literal.starts_with("dr_"))
                && literal.len() > 4
                && literal
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            if is_type && !literal.ends_with('_') {
                named.insert(literal.to_string());
            }
        }
    }
    let missing: Vec<&String> = named
        .iter()
        .filter(|k| !drlint::rules::READ_KINDS.contains(&k.as_str()))
        .collect();
    assert!(named.len() >= 10, "the scan found too few types: {named:?}");
    assert!(
        missing.is_empty(),
        "named by a rule, not in READ_KINDS: {missing:?}"
    );
}

#[test]
fn a_broken_file_in_a_module_several_roots_share_is_one_error_and_the_rest_is_linted() {
    // Both examples reach the repository's root module, parsed once for the two of them.
    let call = "module \"db\" {\n  source = \"../../\"\n}\n";
    let report = lint_text(&[
        (
            "/repo/main.tf",
            "resource \"aws_db_instance\" \"this\" {\n  deletion_protection = false\n}\n",
        ),
        ("/repo/broken.tf", "resource \"aws_s3_bucket\" \"b\" {\n"),
        ("/repo/examples/a/main.tf", call),
        ("/repo/examples/b/main.tf", call),
    ]);
    let errors: Vec<String> = report
        .errors
        .iter()
        .map(|e| format!("{}:{:?}", e.file.display(), e.line))
        .collect();
    assert_eq!(errors, ["/repo/broken.tf:Some(1)"], "{:?}", report.errors);
    assert_eq!(
        addresses(&report, "DR003"),
        ["module.db.aws_db_instance.this"]
    );
}

/// DR006's fix names the final snapshot after the identifier as written, so that the
/// instances of a module called twice, or of a `count`, do not share one name; with no
/// identifier to follow, instances get no fix rather than one shared name.
#[test]
fn dr006_fixes_give_every_instance_its_own_final_snapshot() {
    let fixed = |case: &str, file: &str| {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&fixtures().join("DR006").join(case), tmp.path());
        fix_dir("DR006", tmp.path());
        let text = std::fs::read_to_string(tmp.path().join(file)).unwrap();
        (text, lint_case("DR006", tmp.path()))
    };
    let (text, after) = fixed("bad_module_called_twice", "modules/db/main.tf");
    assert!(
        text.contains(r#"final_snapshot_identifier = "${var.identifier}-final""#),
        "{text}"
    );
    assert!(after.findings.is_empty(), "{:?}", after.findings);

    let (text, after) = fixed("bad_count_template", "main.tf");
    assert!(
        text.contains(r#"final_snapshot_identifier = "shard-${count.index}-final""#),
        "{text}"
    );
    assert!(after.findings.is_empty(), "{:?}", after.findings);

    let dir = fixtures().join("DR006/bad_module_without_identifier");
    let report = lint_case("DR006", &dir);
    assert_eq!(report.findings.len(), 2, "{:?}", report.findings);
    assert!(report.findings.iter().all(|f| f.fix.is_none()));
}

#[test]
fn a_missing_retention_under_a_minimum_of_one_day_does_not_contradict_itself() {
    let files = vec![(
        PathBuf::from("/p/main.tf"),
        b"resource \"aws_db_instance\" \"main\" {\n  identifier = \"orders\"\n}\n".to_vec(),
    )];
    let message = |min: u32| {
        let report = drlint::lint_in_memory(
            &files,
            &LintOptions {
                select: vec!["DR004".into()],
                min_retention_days: min,
                ..LintOptions::default()
            },
        );
        assert_eq!(report.findings.len(), 1, "{:?}", report.findings);
        report.findings[0].message.clone()
    };
    let one = message(1);
    assert!(!one.contains("at least 1"), "{one}");
    assert!(one.contains("AWS default of 1 day"), "{one}");
    let seven = message(7);
    assert!(seven.contains("set at least 7"), "{seven}");
}

#[test]
fn an_object_with_a_repeated_key_parses_and_the_last_value_wins() {
    let report = lint_text(&[(
        "/p/main.tf",
        "locals {\n  db = { retention = 1, class = \"db.t3.micro\", retention = 14 }\n}\n\nresource \"aws_db_instance\" \"main\" {\n  identifier              = \"orders\"\n  backup_retention_period = local.db.retention\n}\n",
    )]);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert!(addresses(&report, "DR003").contains(&"aws_db_instance.main"));
    assert!(addresses(&report, "DR004").is_empty(), "{report:?}");
}

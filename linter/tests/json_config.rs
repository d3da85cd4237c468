//! Terraform's JSON configuration syntax (`*.tf.json`, what `cdktf synth` writes) is linted
//! like `.tf`: the same findings, at the JSON key's line and column in every format,
//! references resolved across `.tf` and `.tf.json` files of one module, variable files in
//! JSON loaded as Terraform loads them, and `--fix` never writes to a JSON file.

mod cli_support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use cli_support::Project;
use drlint::{lint, LintOptions, Report};

fn case(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/json")
        .join(name)
}

/// `examples/drlint/cdktf`: what `cdktf synth` writes for a small stack.
fn cdktf_example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/drlint/cdktf")
}

fn lint_dir(dir: &Path) -> Report {
    lint(&LintOptions {
        paths: vec![dir.to_path_buf()],
        ..LintOptions::default()
    })
}

fn listing(report: &Report, base: &Path) -> String {
    let mut out = String::new();
    for f in &report.findings {
        let file = f.file.strip_prefix(base).unwrap_or(&f.file);
        writeln!(
            out,
            "{}:{}:{} {} {}\n    {}",
            file.display(),
            f.location.line,
            f.location.column,
            f.rule,
            f.resource,
            f.message,
        )
        .unwrap();
    }
    for e in &report.errors {
        let file = e.file.strip_prefix(base).unwrap_or(&e.file);
        writeln!(
            out,
            "error {}:{}:{}: {}",
            file.display(),
            e.line.unwrap_or(0),
            e.column.unwrap_or(0),
            e.message
        )
        .unwrap();
    }
    writeln!(out, "files: {}", report.files).unwrap();
    out
}

/// The line and column of the first occurrence of `needle` in `text`.
fn position_of(text: &str, needle: &str) -> (u32, u32) {
    let at = text
        .find(needle)
        .unwrap_or_else(|| panic!("{needle} not in text"));
    let line = text[..at].matches('\n').count() as u32 + 1;
    let column = text[..at].rsplit('\n').next().unwrap().chars().count() as u32 + 1;
    (line, column)
}

#[test]
fn a_cdktf_stack_is_linted_with_json_lines_and_columns() {
    let dir = cdktf_example();
    let report = lint_dir(&dir);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files, 1, "the .tf.json file is read");
    let text = std::fs::read_to_string(dir.join("cdk.tf.json")).unwrap();
    let dumps = report
        .findings
        .iter()
        .find(|f| f.rule == "DR008")
        .expect("the dump bucket is unversioned");
    assert_eq!(dumps.resource, "aws_s3_bucket.orders_DumpBucket_6F2C1A9E");
    // A missing setting points at the resource's name key.
    assert_eq!(
        (dumps.location.line, dumps.location.column),
        position_of(&text, "\"orders_DumpBucket_6F2C1A9E\": {")
    );
    // A wrong setting points at its property, with the value from the variable's default.
    let retention = report.findings.iter().find(|f| f.rule == "DR004").unwrap();
    assert_eq!(
        (retention.location.line, retention.location.column),
        position_of(&text, "\"backup_retention_period\"")
    );
    assert!(
        retention.message.contains("3 days"),
        "{}",
        retention.message
    );
    // The assets bucket is versioned by a split resource written in JSON.
    assert!(!report
        .findings
        .iter()
        .any(|f| f.resource.contains("AssetsBucket")));
    insta::assert_snapshot!(listing(&report, &dir));
}

#[test]
fn references_resolve_across_tf_and_tf_json_files_of_one_module() {
    let dir = case("mixed_module");
    let report = lint_dir(&dir);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files, 3);
    // versioning in JSON for a bucket in HCL.
    assert!(
        !report
            .findings
            .iter()
            .any(|f| f.resource == "aws_s3_bucket.data"),
        "{}",
        listing(&report, &dir)
    );
    // a bucket in JSON named by a local in HCL: a WAL archive.
    assert!(report
        .findings
        .iter()
        .any(|f| f.rule == "DR009" && f.resource == "aws_s3_bucket.archive"));
    // a module called from JSON: its argument is where the finding points.
    let dr003 = report
        .findings
        .iter()
        .find(|f| f.rule == "DR003")
        .expect("the JSON caller turns protection off");
    assert_eq!(dr003.resource, "module.db_json.aws_db_instance.this");
    assert!(dr003.file.ends_with("generated.tf.json"), "{dr003:?}");
    let text = std::fs::read_to_string(dir.join("generated.tf.json")).unwrap();
    assert_eq!(dr003.location.line, position_of(&text, "\"protect\"").0);
    insta::assert_snapshot!(listing(&report, &dir));
}

#[test]
fn json_variable_files_load_in_terraforms_order() {
    let dir = case("tfvars_json");
    let report = lint_dir(&dir);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let dr004 = report.findings.iter().find(|f| f.rule == "DR004").unwrap();
    // terraform.tfvars.json says 2, zz.auto.tfvars.json (loaded after it) says 4.
    assert!(dr004.message.contains("4 days"), "{}", dr004.message);
}

#[test]
fn provider_references_count_and_nested_block_arrays_follow_the_spec() {
    let dir = case("spec_exceptions");
    let report = lint_dir(&dir);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    // `"provider": "aws.same"` resolves to the alias's region; `aws.dr` is elsewhere.
    let dr002: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.rule == "DR002")
        .collect();
    assert_eq!(dr002.len(), 1, "{}", listing(&report, &dir));
    assert!(
        dr002[0].message.contains("copy_same"),
        "{}",
        dr002[0].message
    );
    // `"count": "${var.create_scratch ? 1 : 0}"` with the default false: no instance.
    assert!(!report
        .findings
        .iter()
        .any(|f| f.resource.contains("scratch")));
    insta::assert_snapshot!(listing(&report, &dir));
}

#[test]
fn broken_json_is_an_error_at_its_line_and_column_and_other_files_still_lint() {
    let p = Project::new();
    p.file(
        "bad.tf.json",
        "{\n  \"resource\": {\n    \"aws_s3_bucket\": {\n      \"a\": {\"bucket\": \"x\",}\n    }\n  }\n}\n",
    );
    p.file(
        "shape.tf.json",
        "{\n  \"resource\": {\n    \"aws_s3_bucket\": \"not an object\"\n  }\n}\n",
    );
    p.file("template.tf.json", "{\"locals\": {\"a\": \"${var.\"}}\n");
    p.file("root.tf.json", "[]\n");
    p.file(
        "ok.tf",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = \"b\"\n}\n",
    );
    let report = lint_dir(p.root());
    let listing = listing(&report, p.root());
    insta::assert_snapshot!(listing);
    assert!(report.findings.iter().any(|f| f.rule == "DR008"));
    let bad = report
        .errors
        .iter()
        .find(|e| e.file.ends_with("bad.tf.json"))
        .unwrap();
    assert_eq!(bad.line, Some(4), "{bad:?}");
}

#[test]
fn fix_never_writes_a_json_file_and_says_why() {
    let p = Project::new();
    let json = std::fs::read_to_string(cdktf_example().join("cdk.tf.json")).unwrap();
    p.file("cdk.tf.json", &json);
    let run = p.run(&["--no-config", "--fix", "."]);
    assert_eq!(p.read("cdk.tf.json"), json, "the JSON file is unchanged");
    assert!(
        run.stdout.contains("no --fix for JSON configuration"),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("fixable with"), "{}", run.stdout);
}

#[test]
fn every_format_carries_the_json_line_and_column() {
    let p = Project::new();
    let json = std::fs::read_to_string(cdktf_example().join("cdk.tf.json")).unwrap();
    p.file("cdk.tf.json", &json);
    let (line, column) = position_of(&json, "\"skip_final_snapshot\"");
    let select = ["--no-config", "--select", "DR006"];
    let text = p.run(&[&select[..], &["."]].concat());
    assert!(
        text.stdout
            .contains(&format!("cdk.tf.json:{line}:{column}")),
        "{}",
        text.stdout
    );
    let out = p.run(&[&select[..], &["--format", "json", "."]].concat());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["file"], "cdk.tf.json");
    assert_eq!(v["findings"][0]["line"], line);
    assert_eq!(v["findings"][0]["column"], column);
    assert_eq!(v["files"], 1);
    let out = p.run(&[&select[..], &["--format", "sarif", "."]].concat());
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let region = &v["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"];
    assert_eq!(region["startLine"], line, "{region}");
    assert_eq!(region["startColumn"], column, "{region}");
    let out = p.run(&[&select[..], &["--format", "github", "."]].concat());
    assert!(
        out.stdout
            .contains(&format!("file=cdk.tf.json,line={line},col={column}")),
        "{}",
        out.stdout
    );
    let out = p.run(&[&select[..], &["--format", "junit", "."]].concat());
    assert!(
        out.stdout.contains(&format!("cdk.tf.json:{line}:{column}")),
        "{}",
        out.stdout
    );
}

/// Cut and corrupted JSON never panics, and whatever it reports points inside the file.
#[test]
fn truncated_and_corrupted_json_never_panics() {
    let text = std::fs::read(case("spec_exceptions").join("main.tf.json")).unwrap();
    let path = PathBuf::from("/in-memory/main.tf.json");
    let mut inputs: Vec<Vec<u8>> = (0..text.len())
        .step_by(5)
        .map(|n| text[..n].to_vec())
        .collect();
    for (i, b) in [b'{', b'"', b'[', b'}', b'$', b'\\', 0xff]
        .into_iter()
        .enumerate()
    {
        for at in (i..text.len()).step_by(37) {
            let mut t = text.clone();
            t[at] = b;
            inputs.push(t);
        }
    }
    for input in inputs {
        let report =
            drlint::lint_in_memory(&[(path.clone(), input.clone())], &LintOptions::default());
        for f in &report.findings {
            assert!(
                f.location.start <= f.location.end && f.location.end <= input.len(),
                "{f:?} outside {} bytes",
                input.len()
            );
        }
        for e in &report.errors {
            assert!(e.line.is_some(), "an error in JSON says where: {e:?}");
        }
    }
}

/// `examples/drlint/bad` written in JSON syntax (every file converted, nested blocks as
/// arrays of objects, providers as an array of blocks) gives the same findings as the
/// HCL: every rule, at the same addresses, with the same messages.
#[test]
fn the_bad_example_in_json_gives_the_same_findings_as_in_hcl() {
    let hcl = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/drlint/bad");
    let json = case("bad_example_as_json");
    let key = |r: &Report| -> Vec<String> {
        let mut v: Vec<String> = r
            .findings
            .iter()
            .map(|f| format!("{} {} {}", f.rule, f.resource, f.message))
            .collect();
        v.sort();
        v
    };
    let from_hcl = lint_dir(&hcl);
    let from_json = lint_dir(&json);
    assert!(from_json.errors.is_empty(), "{:?}", from_json.errors);
    assert_eq!(from_json.files, from_hcl.files);
    assert_eq!(key(&from_json), key(&from_hcl));
    let rules: std::collections::BTreeSet<&str> =
        from_json.findings.iter().map(|f| f.rule).collect();
    assert_eq!(rules.len(), drlint::rules::RULES.len(), "{rules:?}");
    assert!(from_json
        .findings
        .iter()
        .all(|f| f.file.to_string_lossy().ends_with(".tf.json")));
}

/// `examples/drlint/fixed` written in JSON syntax is as clean as the HCL: nothing in the
/// mapping invents a finding (empty `filter` blocks, `dr_policy` blocks as arrays, module
/// outputs through `${module.x.y}`).
#[test]
fn the_fixed_example_in_json_is_clean() {
    let report = lint_dir(&case("fixed_example_as_json"));
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.files, 3);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

fn terraform() -> PathBuf {
    let path = std::env::var_os("TERRAFORM")
        .map_or_else(|| PathBuf::from("/usr/local/bin/terraform"), PathBuf::from);
    assert!(
        path.is_file(),
        "terraform is needed to check the JSON fixtures: install it at {} or set TERRAFORM",
        path.display()
    );
    path
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The JSON fixtures are configurations Terraform itself reads: `terraform get` installs
/// their local modules and `terraform providers` decodes every file (block types, labels,
/// module calls, provider references), offline.
#[test]
fn terraform_reads_the_json_fixtures() {
    let fixtures = [
        case("every_block_type"),
        case("mixed_module"),
        case("spec_exceptions"),
        case("tfvars_json"),
        case("bad_example_as_json"),
        case("fixed_example_as_json"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/DR018/bad_cdktf_json"),
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/DR019/bad_cdktf_json"),
    ];
    for dir in fixtures {
        let tmp = tempfile::tempdir().unwrap();
        copy_dir(&dir, tmp.path());
        for args in [&["get"][..], &["providers"]] {
            let out = std::process::Command::new(terraform())
                .args(args)
                .current_dir(tmp.path())
                .env("TF_IN_AUTOMATION", "1")
                .output()
                .expect("run terraform");
            assert!(
                out.status.success(),
                "terraform {args:?} on {}:\n{}",
                dir.display(),
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// Every top-level block type (`terraform`, `variable` with `validation`, `locals` as an
/// array, `data`, `resource` with `lifecycle` and `provisioner`, `moved`, `import`,
/// `removed`, `check`, `output` with `precondition`) reads without an error, and the bucket
/// named through two `locals` blocks is a backup bucket (`orders-dumps`).
#[test]
fn every_block_type_of_the_specification_reads() {
    let dir = case("every_block_type");
    let report = lint_dir(&dir);
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    let rules: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.resource == "aws_s3_bucket.dumps")
        .map(|f| f.rule)
        .collect();
    assert!(rules.contains(&"DR009"), "{}", listing(&report, &dir));
}

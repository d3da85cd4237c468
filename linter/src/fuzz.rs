//! The properties drlint's fuzz targets check, in one place: `linter/fuzz/` and
//! `tests/fuzz_regressions.rs` both call [`lint_source`] and [`fix_roundtrip`], which panic
//! when a property does not hold (a panic is what libFuzzer and the test report).
//!
//! An input is up to four files of one configuration, separated by NUL bytes (a NUL makes
//! a `.tf` file binary, so no real file holds one): `main.tf`, `terraform.tfvars`,
//! `modules/m/main.tf` (`module "m" { source = "./modules/m" }` reaches it) and
//! `main.tf.json` (Terraform's JSON syntax, in the root module with `main.tf`). They are
//! linted in memory ([`crate::lint_in_memory`]), so a fuzzed `source = "../../.."` never
//! reads the real disk. The whole input is also linted as `terraform show -json` output.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::render::{self, Format, Output, RuleMeta, Sources};
use crate::suppress::{self, Suppressed};
use crate::{fix, rules, source, Finding, LintOptions, Report};

/// Where the in-memory files live (a path that does not exist).
const ROOT: &str = "/drlint-fuzz";

/// The files an input stands for: `main.tf`, then `terraform.tfvars`,
/// `modules/m/main.tf` and `main.tf.json` after the first, second and third NUL byte.
pub fn files(data: &[u8]) -> Vec<(PathBuf, Vec<u8>)> {
    let names = [
        "main.tf",
        "terraform.tfvars",
        "modules/m/main.tf",
        "main.tf.json",
    ];
    data.splitn(names.len(), |&b| b == 0)
        .zip(names)
        .map(|(bytes, name)| (Path::new(ROOT).join(name), bytes.to_vec()))
        .collect()
}

/// The whole engine and every output format on `data`: never a panic, the same report
/// twice, positions and fix edits inside their file, JSON and SARIF that parse.
pub fn lint_source(data: &[u8]) {
    let files = files(data);
    let options = LintOptions::default();
    let report = crate::lint_in_memory(&files, &options);
    assert_eq!(
        report,
        crate::lint_in_memory(&files, &options),
        "linting the same files twice gave different reports"
    );
    check_positions(&report, &files);
    render_all(&shown(report, &files));

    let plan = crate::lint_plan_json(&Path::new(ROOT).join("plan.json"), data, &options);
    if plan.errors.is_empty() {
        render_all(&shown(plan, &[]));
    }
}

/// `--fix` on `data` as the CLI runs it (lint, apply the safe fixes, lint again, at most
/// [`fix::PASSES`] times): every file that parsed still parses, no finding appears that
/// was not there before (by rule and address), a second `--fix` changes nothing, and no
/// finding is left with a safe fix that `--fix` cannot apply.
pub fn fix_roundtrip(data: &[u8]) {
    let mut files = files(data);
    let original = files.clone();
    let before = lint_shown(&files);
    let mut current = before.clone();
    for _ in 0..fix::PASSES {
        if !fix_pass(&mut files, &current.report.findings) {
            break;
        }
        current = lint_shown(&files);
    }
    let texts = || describe(&original, &files);

    for ((path, before_bytes), (_, after_bytes)) in original.iter().zip(&files) {
        if source::parse_bytes(path, before_bytes).is_ok() {
            if let Err(e) = source::parse_bytes(path, after_bytes) {
                panic!(
                    "the fixed {} does not parse: {:?}:{:?}: {}\n{}",
                    path.display(),
                    e.line,
                    e.column,
                    e.message,
                    texts()
                );
            }
        }
    }
    let erring_before: BTreeSet<&Path> = before
        .report
        .errors
        .iter()
        .map(|e| e.file.as_path())
        .collect();
    for e in &current.report.errors {
        assert!(
            erring_before.contains(e.file.as_path()),
            "--fix made an error in {}: {:?}: {}\n{}",
            e.file.display(),
            e.line,
            e.message,
            texts()
        );
    }

    let key = |f: &Finding| (f.rule, f.resource.clone());
    let had: BTreeSet<_> = before.report.findings.iter().map(key).collect();
    let new: Vec<_> = current
        .report
        .findings
        .iter()
        .filter(|f| !had.contains(&key(f)))
        .map(|f| format!("{} {}: {}", f.rule, f.resource, f.message))
        .collect();
    assert!(
        new.is_empty(),
        "--fix made new findings: {new:#?}\n{}",
        texts()
    );

    let mut again = files.clone();
    assert!(
        !fix_pass(&mut again, &current.report.findings),
        "a second --fix changed the files again:\n{}",
        describe(&files, &again)
    );
    let stuck: Vec<_> = current
        .report
        .findings
        .iter()
        .filter(|f| fix::applicable(f))
        .map(|f| format!("{} {}: {:?}", f.rule, f.resource, f.fix))
        .collect();
    assert!(
        stuck.is_empty(),
        "safe fixes that --fix does not apply: {stuck:#?}\n{}",
        texts()
    );
}

/// One `--fix` pass: the applicable fixes of `findings` applied to their files. Returns
/// whether a file changed.
fn fix_pass(files: &mut [(PathBuf, Vec<u8>)], findings: &[Finding]) -> bool {
    let mut by_file: BTreeMap<&Path, Vec<Finding>> = BTreeMap::new();
    for f in findings.iter().filter(|f| fix::applicable(f)) {
        by_file.entry(&f.file).or_default().push(f.clone());
    }
    let mut changed = false;
    for (path, bytes) in files.iter_mut() {
        let Some(findings) = by_file.get(path.as_path()) else {
            continue;
        };
        let Ok(before) = std::str::from_utf8(bytes) else {
            continue;
        };
        let after = fix::apply(before, findings);
        if after != before {
            *bytes = after.into_bytes();
            changed = true;
        }
    }
    changed
}

/// What the CLI shows after the engine: inline suppressions applied (DR000 on).
#[derive(Clone)]
struct Shown {
    report: Report,
    suppressed: Vec<Suppressed>,
    sources: Sources,
}

fn lint_shown(files: &[(PathBuf, Vec<u8>)]) -> Shown {
    shown(crate::lint_in_memory(files, &LintOptions::default()), files)
}

fn shown(mut report: Report, files: &[(PathBuf, Vec<u8>)]) -> Shown {
    let mut sources = Sources::default();
    for (path, bytes) in files {
        if let Ok(text) = std::str::from_utf8(bytes) {
            sources.insert_text(path, text.to_string());
        }
    }
    let outcome = suppress::apply(
        std::mem::take(&mut report.findings),
        &sources,
        Some(suppress::RULE.severity),
    );
    report.findings = outcome.kept;
    Shown {
        report,
        suppressed: outcome.suppressed,
        sources,
    }
}

/// Every finding and fix edit points inside its file, on character boundaries.
fn check_positions(report: &Report, files: &[(PathBuf, Vec<u8>)]) {
    for f in &report.findings {
        let Some(text) = files
            .iter()
            .find(|(p, _)| *p == f.file)
            .and_then(|(_, b)| std::str::from_utf8(b).ok())
        else {
            continue;
        };
        let inside = |start: usize, end: usize| {
            start <= end
                && end <= text.len()
                && text.is_char_boundary(start)
                && text.is_char_boundary(end)
        };
        let loc = f.location;
        assert!(
            loc.line >= 1 && loc.column >= 1 && inside(loc.start, loc.end),
            "{} {} points outside {}: {loc:?}",
            f.rule,
            f.resource,
            f.file.display()
        );
        for e in f.fix.iter().flat_map(|x| &x.edits) {
            assert!(
                inside(e.start, e.end),
                "{} {}: fix edit outside {}: {e:?}",
                f.rule,
                f.resource,
                f.file.display()
            );
        }
    }
}

/// Renders `shown` in every format; JSON and SARIF must parse, all must be UTF-8.
fn render_all(shown: &Shown) {
    // The doc pages are the same for every input and most of SARIF's cost: left out.
    let catalog = render::catalog_with(rules::RULES.iter().map(|m| RuleMeta { doc: "", ..*m }));
    let active: Vec<&'static str> = catalog.iter().map(|r| r.code).collect();
    for format in Format::ALL {
        for color in [false, true] {
            if color && format != Format::Text {
                continue;
            }
            let output = Output {
                rules: &catalog,
                report: &shown.report,
                suppressed: &shown.suppressed,
                sources: &shown.sources,
                active_rules: &active,
                color,
                fixed: 0,
                root: Path::new(ROOT),
                baseline: None,
            };
            let mut buf = Vec::new();
            render::render(format, &output, &mut buf)
                .unwrap_or_else(|e| panic!("{} output failed: {e}", format.as_str()));
            let text = String::from_utf8(buf)
                .unwrap_or_else(|e| panic!("{} output is not UTF-8: {e}", format.as_str()));
            if matches!(format, Format::Json | Format::Sarif) {
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
                    panic!("{} output is not JSON: {e}\n{text}", format.as_str());
                }
            }
        }
    }
}

/// The files before and after, for a failure message.
fn describe(before: &[(PathBuf, Vec<u8>)], after: &[(PathBuf, Vec<u8>)]) -> String {
    let mut out = String::new();
    for ((path, a), (_, b)) in before.iter().zip(after) {
        out.push_str(&format!(
            "--- {} before ---\n{}\n--- after ---\n{}\n",
            path.display(),
            String::from_utf8_lossy(a),
            String::from_utf8_lossy(b)
        ));
    }
    out
}

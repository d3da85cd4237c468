//! `--format sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.
//!
//! One run; `tool.driver.rules` lists every rule (so `ruleIndex` is stable) with its doc
//! page as `help` and `helpUri`. Results carry the Terraform address as a logical location
//! and a `partialFingerprints` entry computed from rule and address, so an alert follows a
//! resource when lines move. Findings silenced by `# drlint:ignore` are included with an
//! `inSource` suppression, which code scanning shows as dismissed. Files that could not be
//! linted become `toolExecutionNotifications` and make `executionSuccessful` false.

use std::io::{self, Write};
use std::path::Path;

use serde_json::{json, Map, Value};

use super::{display_path, line_col, Output};
use crate::finding::{Applicability, Finding, Severity};

/// The `$schema` URI code scanning documents for SARIF 2.1.0.
pub const SCHEMA_URI: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Writes the SARIF log.
pub fn render(output: &Output<'_>, w: &mut dyn Write) -> io::Result<()> {
    let rules = output.rules;
    let descriptors: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": r.summary },
                "fullDescription": { "text": full_description(r.doc, r.summary) },
                "help": { "text": r.doc, "markdown": r.doc },
                "helpUri": r.help_uri(),
                "defaultConfiguration": { "level": level(r.severity) },
                "properties": {
                    "tags": ["terraform", "disaster-recovery"],
                    "fixable": r.fixable,
                },
            })
        })
        .collect();

    let mut results: Vec<Value> = output
        .report
        .findings
        .iter()
        .map(|f| result(output, f, None))
        .collect();
    results.extend(
        output
            .suppressed
            .iter()
            .map(|s| result(output, &s.finding, Some(s.reason.as_deref()))),
    );

    let notifications: Vec<Value> = output
        .report
        .errors
        .iter()
        .map(|e| {
            let mut physical = Map::new();
            physical.insert("artifactLocation".into(), artifact(output.root, &e.file));
            if let Some(line) = e.line.filter(|&l| l > 0) {
                let mut region = Map::new();
                region.insert("startLine".into(), json!(line));
                if let Some(col) = e.column.filter(|&c| c > 0) {
                    region.insert("startColumn".into(), json!(col));
                }
                physical.insert("region".into(), Value::Object(region));
            }
            json!({
                "level": "error",
                "message": { "text": e.message },
                "locations": [{ "physicalLocation": physical }],
            })
        })
        .collect();

    let mut run = Map::new();
    run.insert(
        "tool".into(),
        json!({
            "driver": {
                "name": "drlint",
                "version": env!("CARGO_PKG_VERSION"),
                "semanticVersion": env!("CARGO_PKG_VERSION"),
                "informationUri": format!("{}/blob/main/docs/drlint.md", super::REPO_URL),
                "rules": descriptors,
            }
        }),
    );
    run.insert(
        "invocations".into(),
        json!([{
            "executionSuccessful": output.report.errors.is_empty(),
            "toolExecutionNotifications": notifications,
        }]),
    );
    run.insert(
        "originalUriBaseIds".into(),
        json!({ "%SRCROOT%": { "uri": file_uri(output.root, true) } }),
    );
    run.insert("columnKind".into(), json!("unicodeCodePoints"));
    run.insert("results".into(), Value::Array(results));

    let log = json!({
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [Value::Object(run)],
    });
    let mut text = serde_json::to_vec_pretty(&log).map_err(io::Error::other)?;
    text.push(b'\n');
    w.write_all(&text)
}

/// One result; `suppression` is `Some(reason)` for a finding silenced inline.
fn result(output: &Output<'_>, f: &Finding, suppression: Option<Option<&str>>) -> Value {
    let mut region = Map::new();
    region.insert("startLine".into(), json!(f.location.line.max(1)));
    region.insert("startColumn".into(), json!(f.location.column.max(1)));
    if let Some(text) = output.sources.get(&f.file) {
        if f.location.end > f.location.start {
            if let Some((line, col)) = line_col(text, f.location.end) {
                if (line, col) > (f.location.line, f.location.column) {
                    region.insert("endLine".into(), json!(line));
                    region.insert("endColumn".into(), json!(col));
                }
            }
        }
    }
    let mut result = Map::new();
    result.insert("ruleId".into(), json!(f.rule));
    if let Some(index) = output.rules.iter().position(|r| r.code == f.rule) {
        result.insert("ruleIndex".into(), json!(index));
    }
    result.insert("level".into(), json!(level(f.severity)));
    result.insert("message".into(), json!({ "text": f.message }));
    let mut physical = json!({ "artifactLocation": artifact(output.root, &f.file) });
    // A plan's finding without its configuration has no line: the file alone.
    if f.location.line > 0 {
        physical["region"] = Value::Object(region);
    }
    let mut location = json!({ "physicalLocation": physical });
    // The resource's instances (`module.db[0].aws_db_instance.main`) where known.
    let addresses = super::instance_addresses(output.report, f);
    if !addresses.is_empty() {
        let logical: Vec<Value> = addresses
            .iter()
            .map(|a| json!({ "fullyQualifiedName": a, "kind": "resource" }))
            .collect();
        location["logicalLocations"] = Value::Array(logical);
    }
    result.insert("locations".into(), json!([location]));
    result.insert(
        "partialFingerprints".into(),
        json!({ "drlint/v1": fingerprint(f.rule, &f.resource) }),
    );
    if let Some(fix) = f
        .fix
        .as_ref()
        .filter(|x| x.applicability == Applicability::Safe && !x.edits.is_empty())
    {
        let replacements: Vec<Value> = fix
            .edits
            .iter()
            .map(|e| {
                json!({
                    "deletedRegion": {
                        "byteOffset": e.start,
                        "byteLength": e.end.saturating_sub(e.start),
                    },
                    "insertedContent": { "text": e.text },
                })
            })
            .collect();
        result.insert(
            "fixes".into(),
            json!([{
                "description": { "text": fix.description },
                "artifactChanges": [{
                    "artifactLocation": artifact(output.root, &f.file),
                    "replacements": replacements,
                }],
            }]),
        );
    }
    if let Some(reason) = suppression {
        let mut s = json!({ "kind": "inSource", "status": "accepted" });
        if let Some(reason) = reason {
            s["justification"] = json!(reason);
        }
        result.insert("suppressions".into(), json!([s]));
    }
    if !f.resource.is_empty() {
        result.insert("properties".into(), json!({ "resource": f.resource }));
    }
    Value::Object(result)
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Note => "note",
    }
}

/// The first paragraph of a doc page that is not a heading, or the summary.
fn full_description(doc: &str, summary: &str) -> String {
    let mut paragraph = Vec::new();
    let mut in_code = false;
    for line in doc.lines() {
        let t = line.trim();
        if t.starts_with("```") {
            in_code = !in_code;
            if !paragraph.is_empty() {
                break;
            }
            continue;
        }
        if in_code || t.starts_with('#') {
            if !paragraph.is_empty() {
                break;
            }
            continue;
        }
        if t.is_empty() {
            if !paragraph.is_empty() {
                break;
            }
            continue;
        }
        paragraph.push(t);
    }
    if paragraph.is_empty() {
        summary.to_string()
    } else {
        paragraph.join(" ")
    }
}

/// An artifactLocation: relative to `%SRCROOT%` when the file is under the root, else a
/// `file://` URI.
fn artifact(root: &Path, file: &Path) -> Value {
    let relative = if file.is_absolute() {
        file.strip_prefix(root).ok()
    } else {
        Some(file)
    };
    match relative {
        Some(rel) => json!({ "uri": encode(&display_path(rel)), "uriBaseId": "%SRCROOT%" }),
        None => json!({ "uri": file_uri(file, false) }),
    }
}

/// `file:///abs/path` (with a trailing slash for a directory).
fn file_uri(path: &Path, dir: bool) -> String {
    let mut p = display_path(path);
    if !p.starts_with('/') {
        p.insert(0, '/');
    }
    if dir && !p.ends_with('/') {
        p.push('/');
    }
    format!("file://{}", encode(&p))
}

/// Percent-encodes everything but unreserved characters and `/`.
fn encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A stable identity for an alert: FNV-1a over rule and address (not the line, which moves).
pub fn fingerprint(rule: &str, resource: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in rule.bytes().chain([0]).chain(resource.bytes()) {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{hash:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_stable() {
        assert_eq!(
            fingerprint("DR003", "aws_db_instance.main"),
            fingerprint("DR003", "aws_db_instance.main")
        );
        assert_ne!(
            fingerprint("DR003", "aws_db_instance.a"),
            fingerprint("DR003", "aws_db_instance.b")
        );
        // Pinned: changing the function would reopen every alert in code scanning.
        assert_eq!(fingerprint("DR003", "aws_db_instance.main").len(), 16);
    }

    #[test]
    fn uris_are_relative_and_encoded() {
        let v = artifact(Path::new("/repo"), Path::new("/repo/a b/c.tf"));
        assert_eq!(v["uri"], "a%20b/c.tf");
        assert_eq!(v["uriBaseId"], "%SRCROOT%");
        let v = artifact(Path::new("/repo"), Path::new("/elsewhere/c.tf"));
        assert_eq!(v["uri"], "file:///elsewhere/c.tf");
    }

    #[test]
    fn full_description_skips_headings() {
        assert_eq!(
            full_description("# T\n\n## What\nDoes a\nthing.\n\nMore", "s"),
            "Does a thing."
        );
        assert_eq!(full_description("# T\n", "s"), "s");
    }

    /// Validates against the vendored schema (see tests/schemas/README.md for the one
    /// keyword dropped before compiling).
    fn assert_valid(log: &Value) {
        fn drop_broken(v: &mut Value) {
            match v {
                Value::Object(map) => {
                    if map.get("pattern").and_then(Value::as_str)
                        == Some("^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$")
                    {
                        map.remove("pattern");
                    }
                    map.values_mut().for_each(drop_broken);
                }
                Value::Array(items) => items.iter_mut().for_each(drop_broken),
                _ => {}
            }
        }
        let mut schema: Value =
            serde_json::from_str(include_str!("../../tests/schemas/sarif-2.1.0.json")).unwrap();
        drop_broken(&mut schema);
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&schema)
            .unwrap();
        let errors: Vec<String> = validator
            .iter_errors(log)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}", errors.join("\n"));
    }

    #[test]
    fn hand_made_report_is_valid_sarif() {
        use crate::render::testing;
        use crate::suppress::Suppressed;
        let (mut report, sources) = testing::report();
        let suppressed = vec![Suppressed {
            finding: report.findings.remove(1),
            reason: Some("single-region by design".into()),
        }];
        let rules = testing::rules();
        let output = Output {
            rules: &rules,
            report: &report,
            suppressed: &suppressed,
            sources: &sources,
            active_rules: &["DR003", "DR010"],
            color: false,
            fixed: 0,
            root: Path::new("/repo dir"),
            baseline: None,
        };
        let mut buf = Vec::new();
        render(&output, &mut buf).unwrap();
        let log: Value = serde_json::from_slice(&buf).unwrap();
        assert_valid(&log);
        let run = &log["runs"][0];
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            "file:///repo%20dir/"
        );
        assert_eq!(run["results"][0]["ruleIndex"], 1);
        assert_eq!(
            run["results"][0]["fixes"][0]["artifactChanges"][0]["replacements"][0]
                ["insertedContent"]["text"],
            "true"
        );
        assert_eq!(
            run["results"][1]["suppressions"][0]["justification"],
            "single-region by design"
        );
        assert_eq!(run["invocations"][0]["executionSuccessful"], false);
        insta::assert_snapshot!(String::from_utf8(buf).unwrap());
    }
}

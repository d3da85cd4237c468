//! `--format json`: one object, the shape DESIGN.md promises:
//! `{"findings": [{"rule", "name", "severity", "resource", "file", "line", "column",
//! "message", "fix"}], "errors": [{"file", "line", "message"}], "files": N}`.
//! `fix` is the fix's description or null. Field order is fixed by the structs below,
//! which `write_pretty` writes as serde_json would.
//!
//! Additions, present only when they apply: a finding's `instances` (the addresses of its
//! resource's instances with their `count`/`for_each` keys, `module.db[0].aws_db_instance.
//! this`, where known), and with `--baseline` a top-level `baseline` object: `file`,
//! `accepted` (findings it hid) and `stale` (its entries no finding matches any more).

use std::io::{self, Write};

use serde::Serialize;

use super::{display_path, Output};
use crate::finding::same_file;

#[derive(Serialize)]
struct JsonReport<'a> {
    findings: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError<'a>>,
    files: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    baseline: Option<JsonBaseline<'a>>,
}

#[derive(Serialize)]
struct JsonBaseline<'a> {
    file: String,
    accepted: usize,
    stale: &'a [crate::baseline::Entry],
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    name: &'a str,
    severity: &'a str,
    resource: &'a str,
    file: &'a str,
    line: u32,
    column: u32,
    message: &'a str,
    fix: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    instances: Option<&'a [String]>,
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: String,
    line: Option<u32>,
    message: &'a str,
}

/// Writes the JSON report, pretty-printed, with a final newline.
pub fn render(output: &Output<'_>, w: &mut dyn Write) -> io::Result<()> {
    let (shown, which) = shown_paths(output);
    let doc = document(output, &shown, &which);
    // Passed on to `w` a chunk at a time (the CLI's `w` is itself a buffer, so that a
    // closed pipe surfaces as an io::Error): a second copy of a report of 146,040 findings
    // was 58 MB.
    let mut text = Vec::with_capacity(CHUNK + 4096);
    write_pretty(&doc, &mut text, w)?;
    text.push(b'\n');
    w.write_all(&text)
}

/// How much JSON is gathered before it is passed on.
const CHUNK: usize = 1 << 16;

/// Each finding's file as shown: the shown paths, and which one each finding has.
fn shown_paths(output: &Output<'_>) -> (Vec<String>, Vec<usize>) {
    // Each file's shown path is made once per run of its findings.
    let findings = &output.report.findings;
    let mut shown: Vec<String> = Vec::new();
    let mut which: Vec<usize> = Vec::with_capacity(findings.len());
    for run in findings.chunk_by(same_file) {
        which.extend(std::iter::repeat_n(shown.len(), run.len()));
        shown.push(display_path(&run[0].file));
    }
    (shown, which)
}

fn document<'a>(output: &Output<'a>, shown: &'a [String], which: &[usize]) -> JsonReport<'a> {
    let report = output.report;
    JsonReport {
        findings: report
            .findings
            .iter()
            .zip(which)
            .map(|(f, &i)| JsonFinding {
                rule: f.rule,
                name: f.name,
                severity: f.severity.as_str(),
                resource: &f.resource,
                file: &shown[i],
                line: f.location.line,
                column: f.location.column,
                message: &f.message,
                fix: f.fix.as_ref().map(|x| x.description.as_str()),
                instances: report
                    .instances
                    .get(&f.resource)
                    .filter(|l| !l.is_empty())
                    .map(Vec::as_slice),
            })
            .collect(),
        errors: report
            .errors
            .iter()
            .map(|e| JsonError {
                file: display_path(&e.file),
                line: e.line,
                message: &e.message,
            })
            .collect(),
        files: report.files,
        baseline: output.baseline.map(|b| JsonBaseline {
            file: display_path(&b.path),
            accepted: b.matched,
            stale: &b.stale,
        }),
    }
}

/// What `serde_json::to_vec_pretty` writes for `doc` (two-space indent), written
/// directly: one file of 100,000 resources has 146,040 findings, and serde's generic path
/// (a call per field, an escape-table lookup per byte) was a tenth of that whole lint. The
/// test below holds it to serde's bytes.
fn write_pretty(doc: &JsonReport<'_>, out: &mut Vec<u8>, w: &mut dyn Write) -> io::Result<()> {
    out.extend_from_slice(b"{\n  \"findings\": ");
    if doc.findings.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        out.push(b'[');
        for (k, f) in doc.findings.iter().enumerate() {
            out.extend_from_slice(if k == 0 { b"\n    {" } else { b",\n    {" });
            field(out, "rule", true);
            string(out, f.rule);
            field(out, "name", false);
            string(out, f.name);
            field(out, "severity", false);
            string(out, f.severity);
            field(out, "resource", false);
            string(out, f.resource);
            field(out, "file", false);
            string(out, f.file);
            field(out, "line", false);
            number(out, f.line as usize);
            field(out, "column", false);
            number(out, f.column as usize);
            field(out, "message", false);
            string(out, f.message);
            field(out, "fix", false);
            match f.fix {
                Some(fix) => string(out, fix),
                None => out.extend_from_slice(b"null"),
            }
            if let Some(instances) = f.instances {
                field(out, "instances", false);
                if instances.is_empty() {
                    out.extend_from_slice(b"[]");
                } else {
                    out.push(b'[');
                    for (i, address) in instances.iter().enumerate() {
                        out.extend_from_slice(if i == 0 {
                            b"\n        "
                        } else {
                            b",\n        "
                        });
                        string(out, address);
                    }
                    out.extend_from_slice(b"\n      ]");
                }
            }
            out.extend_from_slice(b"\n    }");
            if out.len() >= CHUNK {
                w.write_all(out)?;
                out.clear();
            }
        }
        out.extend_from_slice(b"\n  ]");
    }
    out.extend_from_slice(b",\n  \"errors\": ");
    if doc.errors.is_empty() {
        out.extend_from_slice(b"[]");
    } else {
        out.push(b'[');
        for (k, e) in doc.errors.iter().enumerate() {
            out.extend_from_slice(if k == 0 { b"\n    {" } else { b",\n    {" });
            field(out, "file", true);
            string(out, &e.file);
            field(out, "line", false);
            match e.line {
                Some(l) => number(out, l as usize),
                None => out.extend_from_slice(b"null"),
            }
            field(out, "message", false);
            string(out, e.message);
            out.extend_from_slice(b"\n    }");
        }
        out.extend_from_slice(b"\n  ]");
    }
    out.extend_from_slice(b",\n  \"files\": ");
    number(out, doc.files);
    if let Some(baseline) = &doc.baseline {
        // Small: serde's own pretty form, indented one level.
        let text = serde_json::to_string_pretty(baseline).map_err(io::Error::other)?;
        out.extend_from_slice(b",\n  \"baseline\": ");
        out.extend_from_slice(text.replace('\n', "\n  ").as_bytes());
    }
    out.extend_from_slice(b"\n}");
    Ok(())
}

/// `"key": ` of an object nested two levels deep.
fn field(out: &mut Vec<u8>, key: &str, first: bool) {
    out.extend_from_slice(if first { b"\n      \"" } else { b",\n      \"" });
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\": ");
}

fn number(out: &mut Vec<u8>, n: usize) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut n = n;
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}

/// Whether `bytes` holds a `"`, a `\\` or a control character (below 0x20), eight bytes at
/// a time: the classic "has a byte less than n" and "has a zero byte" tests on a word.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let zero_in = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS != 0;
    let mut words = bytes.chunks_exact(8);
    for w in &mut words {
        let v = u64::from_ne_bytes(w.try_into().unwrap_or([0; 8]));
        let below_space = v.wrapping_sub(ONES * 0x20) & !v & HIGHS != 0;
        if below_space
            || zero_in(v ^ (ONES * u64::from(b'"')))
            || zero_in(v ^ (ONES * u64::from(b'\\')))
        {
            return true;
        }
    }
    words
        .remainder()
        .iter()
        .any(|&b| b < 0x20 || b == b'"' || b == b'\\')
}

/// A JSON string as serde_json writes it: text without `"`, `\\` or control characters
/// is copied as is; anything else goes through serde_json itself.
fn string(out: &mut Vec<u8>, s: &str) {
    if !needs_escape(s.as_bytes()) {
        out.push(b'"');
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
    } else {
        // Writing into a Vec cannot fail, and a &str always serialises.
        let _ = serde_json::to_writer(&mut *out, s);
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Format;

    #[test]
    fn renders_the_design_shape() {
        let (report, sources) = report();
        let out = render_to_string(Format::Json, &report, &sources);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["findings"][0]["rule"], "DR003");
        assert_eq!(v["findings"][1]["fix"], serde_json::Value::Null);
        assert_eq!(v["errors"][0]["line"], 2);
        assert_eq!(v["files"], 3);
        insta::assert_snapshot!(out);
    }

    /// The word-at-a-time test says what the byte-at-a-time test says, wherever the byte
    /// stands, for every byte value.
    #[test]
    fn needs_escape_finds_every_byte_that_needs_one() {
        for special in 0u8..=255 {
            for len in 1..20 {
                for at in 0..len {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    let want = special < 0x20 || special == b'"' || special == b'\\';
                    assert_eq!(
                        super::needs_escape(&bytes),
                        want,
                        "{special:#x} at {at} of {len}"
                    );
                }
            }
        }
        // Bytes above 0x7f (UTF-8) next to each other do not look like a control character.
        assert!(!super::needs_escape("éééééééé日本語🦀🦀".as_bytes()));
    }

    /// The hand-written writer gives serde_json's bytes, also for text that needs escapes
    /// (quotes, backslashes, control characters) and text beyond ASCII.
    #[test]
    fn writes_what_serde_json_writes() {
        use crate::finding::Report;
        use crate::render::Output;
        let (mut report, sources) = report();
        let texts = [
            "plain",
            "\"quoted\" and \\ back",
            "tab\tnew\nline\r\u{8}\u{c}\u{1}\u{1f}\u{7f}",
            "é ü 日本 🦀 </script>",
            "",
        ];
        for (k, text) in texts.iter().enumerate() {
            let mut f = report.findings[k % 2].clone();
            f.message = (*text).to_string();
            f.resource = format!("{text}.r");
            f.file = std::path::PathBuf::from(format!("dir {k}/{text}.tf"));
            report.findings.push(f);
        }
        report.files = 123_456_789;
        report.instances.insert(
            report.findings[0].resource.clone(),
            vec!["module.a[0].x.y".into(), "module.a[\"k\"].x.y".into()],
        );
        // Past the size at which the writer passes a chunk on.
        let mut big = report.clone();
        for k in 0..2_000 {
            let mut f = report.findings[k % report.findings.len()].clone();
            f.message = format!("finding {k}: {}", "long text ".repeat(10));
            big.findings.push(f);
        }
        let rules = rules();
        let baseline = crate::baseline::Outcome {
            path: "drlint-baseline.json".into(),
            matched: 3,
            stale: vec![crate::baseline::Entry {
                rule: "DR003".into(),
                resource: "module.db.aws_db_instance.x".into(),
                attribute: None,
                directory: "modules/\"db\"".into(),
            }],
        };
        for (n, r) in [report.clone(), big, Report::default()]
            .into_iter()
            .enumerate()
        {
            let output = Output {
                rules: &rules,
                report: &r,
                suppressed: &[],
                sources: &sources,
                active_rules: &["DR003", "DR010"],
                color: false,
                fixed: 0,
                root: std::path::Path::new("/repo"),
                baseline: (n != 1).then_some(&baseline),
            };
            let (shown, which) = super::shown_paths(&output);
            let doc = super::document(&output, &shown, &which);
            let (mut ours, mut rest) = (Vec::new(), Vec::new());
            super::write_pretty(&doc, &mut rest, &mut ours).unwrap();
            ours.extend(rest);
            let serde = serde_json::to_vec_pretty(&doc).unwrap();
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                String::from_utf8(serde).unwrap()
            );
        }
    }
}

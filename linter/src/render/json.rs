//! `--format json`: one object, the shape DESIGN.md promises:
//! `{"findings": [{"rule", "name", "severity", "resource", "file", "line", "column",
//! "message", "fix"}], "errors": [{"file", "line", "message"}], "files": N}`.
//! `fix` is the fix's description or null. Field order is fixed by the structs below.

use std::io::{self, Write};

use serde::Serialize;

use super::{display_path, Output};

#[derive(Serialize)]
struct JsonReport<'a> {
    findings: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError<'a>>,
    files: usize,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    name: &'a str,
    severity: &'a str,
    resource: &'a str,
    file: String,
    line: u32,
    column: u32,
    message: &'a str,
    fix: Option<&'a str>,
}

#[derive(Serialize)]
struct JsonError<'a> {
    file: String,
    line: Option<u32>,
    message: &'a str,
}

/// Writes the JSON report, pretty-printed, with a final newline.
pub fn render(output: &Output<'_>, w: &mut dyn Write) -> io::Result<()> {
    let report = output.report;
    let doc = JsonReport {
        findings: report
            .findings
            .iter()
            .map(|f| JsonFinding {
                rule: f.rule,
                name: f.name,
                severity: f.severity.as_str(),
                resource: &f.resource,
                file: display_path(&f.file),
                line: f.location.line,
                column: f.location.column,
                message: &f.message,
                fix: f.fix.as_ref().map(|x| x.description.as_str()),
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
    };
    // Serialised in memory first so that a closed pipe surfaces as an io::Error.
    let mut text = serde_json::to_vec_pretty(&doc).map_err(io::Error::other)?;
    text.push(b'\n');
    w.write_all(&text)
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
}

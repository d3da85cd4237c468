//! rustc-style diagnostics:
//!
//! ```text
//! error[DR003]: aws_db_instance.main can be deleted
//!  --> db/main.tf:3:3
//!   |
//! 3 |   deletion_protection = false
//!   |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!   |
//!   = help: set deletion_protection = true
//! ```
//!
//! followed by one summary line.

use std::io::{self, Write};
use std::path::Path;

use super::{display_path, plural, source_line, Output};
use crate::finding::{Applicability, Severity};

struct Style {
    on: bool,
}

impl Style {
    fn paint(&self, codes: &str, text: &str) -> String {
        if self.on {
            format!("\x1b[{codes}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    fn severity(&self, severity: Severity) -> &'static str {
        match severity {
            Severity::Error => "1;31",
            Severity::Warning => "1;33",
            Severity::Note => "1;36",
        }
    }
    fn gutter(&self, text: &str) -> String {
        self.paint("1;34", text)
    }
}

/// Writes the text report.
pub fn render(output: &Output<'_>, w: &mut dyn Write) -> io::Result<()> {
    let style = Style { on: output.color };
    let report = output.report;

    for error in &report.errors {
        let header = format!(
            "{}: {}",
            style.paint("1;31", "error"),
            style.paint("1", &first_line(&error.message))
        );
        writeln!(w, "{header}")?;
        let rest: Vec<&str> = error.message.lines().skip(1).collect();
        let shown = snippet(
            w,
            &style,
            output,
            &error.file,
            error.line,
            error.column.unwrap_or(1),
            1,
            "1;31",
        )?;
        let width = gutter_width(error.line);
        if !rest.is_empty() && shown {
            writeln!(w, "{:width$} {}", "", style.gutter("|"))?;
        }
        for line in rest {
            writeln!(w, "{:width$} {} {line}", "", style.gutter("="))?;
        }
        writeln!(w)?;
    }

    for finding in &report.findings {
        let color = style.severity(finding.severity);
        writeln!(
            w,
            "{}: {}",
            style.paint(
                color,
                &format!("{}[{}]", finding.severity.as_str(), finding.rule)
            ),
            style.paint("1", &finding.message)
        )?;
        let len = underline_len(output, finding);
        let shown = snippet(
            w,
            &style,
            output,
            &finding.file,
            Some(finding.location.line),
            finding.location.column,
            len,
            color,
        )?;
        let width = gutter_width(Some(finding.location.line));
        if let Some(fix) = &finding.fix {
            let marker = if fix.applicability == Applicability::Safe && !fix.edits.is_empty() {
                " (fixable with `drlint --fix`)"
            } else {
                ""
            };
            if shown {
                writeln!(w, "{:width$} {}", "", style.gutter("|"))?;
            }
            writeln!(
                w,
                "{:width$} {} {}: {}{marker}",
                "",
                style.gutter("="),
                style.paint("1", "help"),
                fix.description
            )?;
        }
        writeln!(w)?;
    }

    writeln!(w, "{}", summary(output))?;
    Ok(())
}

/// The closing line: counts by severity, fixable, suppressed, unreadable files.
pub fn summary(output: &Output<'_>) -> String {
    let report = output.report;
    let mut parts = Vec::new();
    if output.fixed > 0 {
        parts.push(format!("Fixed {}.", plural(output.fixed, "finding")));
    }
    let files = plural(report.files, "file");
    if report.findings.is_empty() {
        parts.push(format!("No findings in {files}."));
    } else {
        let count = |s: Severity| report.findings.iter().filter(|f| f.severity == s).count();
        let by_severity: Vec<String> = [Severity::Error, Severity::Warning, Severity::Note]
            .into_iter()
            .filter(|&s| count(s) > 0)
            .map(|s| plural(count(s), s.as_str()))
            .collect();
        parts.push(format!(
            "Found {} ({}) in {files}.",
            plural(report.findings.len(), "finding"),
            by_severity.join(", ")
        ));
        let fixable = report
            .findings
            .iter()
            .filter(|f| {
                f.fix
                    .as_ref()
                    .is_some_and(|x| x.applicability == Applicability::Safe && !x.edits.is_empty())
            })
            .count();
        if fixable > 0 {
            parts.push(format!("{fixable} fixable with `drlint --fix`."));
        }
    }
    if !output.suppressed.is_empty() {
        parts.push(format!(
            "{} suppressed inline.",
            plural(output.suppressed.len(), "finding")
        ));
    }
    if !report.errors.is_empty() {
        let unique: std::collections::BTreeSet<&Path> =
            report.errors.iter().map(|e| e.file.as_path()).collect();
        parts.push(format!(
            "{} could not be linted.",
            plural(unique.len(), "file")
        ));
    }
    parts.join(" ")
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or("").to_string()
}

fn gutter_width(line: Option<u32>) -> usize {
    line.map_or(1, |l| l.to_string().len())
}

/// How many characters to underline: the finding's byte range on its first line.
fn underline_len(output: &Output<'_>, finding: &crate::finding::Finding) -> usize {
    let Some(text) = output.sources.get(&finding.file) else {
        return 1;
    };
    let loc = finding.location;
    if loc.end <= loc.start || loc.end > text.len() || !text.is_char_boundary(loc.start) {
        return 1;
    }
    let Some(span) = text.get(loc.start..loc.end) else {
        return 1;
    };
    let first = span.split('\n').next().unwrap_or("").trim_end_matches('\r');
    first.chars().count().max(1)
}

#[allow(clippy::too_many_arguments)]
fn snippet(
    w: &mut dyn Write,
    style: &Style,
    output: &Output<'_>,
    file: &Path,
    line: Option<u32>,
    column: u32,
    len: usize,
    color: &str,
) -> io::Result<bool> {
    let width = gutter_width(line);
    let path = display_path(file);
    let Some(line) = line else {
        writeln!(w, "{:width$}{} {path}", "", style.gutter("-->"))?;
        return Ok(false);
    };
    writeln!(
        w,
        "{:width$}{} {path}:{line}:{column}",
        "",
        style.gutter("-->")
    )?;
    let Some(src) = output.sources.get(file).and_then(|t| source_line(t, line)) else {
        return Ok(false);
    };
    // Tabs are shown as four spaces; the caret moves with them.
    let col = usize::try_from(column).unwrap_or(1).saturating_sub(1);
    let shown: String = src.replace('\t', "    ");
    let pad: usize = src
        .chars()
        .take(col)
        .map(|c| if c == '\t' { 4 } else { 1 })
        .sum();
    let available = src.chars().count().saturating_sub(col).max(1);
    let carets = "^".repeat(len.min(available).max(1));
    writeln!(w, "{:width$} {}", "", style.gutter("|"))?;
    writeln!(
        w,
        "{} {} {shown}",
        style.gutter(&line.to_string()),
        style.gutter("|")
    )?;
    writeln!(
        w,
        "{:width$} {} {:pad$}{}",
        "",
        style.gutter("|"),
        "",
        style.paint(color, &carets)
    )?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Format;

    #[test]
    fn renders_rustc_style() {
        let (report, sources) = report();
        insta::assert_snapshot!(render_to_string(Format::Text, &report, &sources));
    }
}

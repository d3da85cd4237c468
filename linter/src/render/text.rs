//! rustc-style diagnostics:
//!
//! ```text
//! error[DR003]: aws_db_instance.main can be deleted
//!  --> db/main.tf:3:3
//!   |
//! 3 |   deletion_protection = false
//!   |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^
//!   |
//!   = resource: module.db.aws_db_instance.main
//!   = help: set deletion_protection = true
//! ```
//!
//! One finding repeated across module instances (same rule, place and message but for
//! the module path) is one entry that lists the instances. Stale baseline entries are
//! notes, and one summary line ends the report.

use std::io::{self, Write};
use std::path::Path;

use super::{display_path, instance_addresses, plural, source_line, Output};
use crate::finding::{Applicability, Finding, Severity};

/// At most this many instances are listed under one entry.
const MAX_LISTED: usize = 20;

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

    for group in groups(&report.findings) {
        let finding = group[0];
        let color = style.severity(finding.severity);
        let message = if group.len() > 1 {
            finding
                .message
                .replace(module_prefix(&finding.resource), "")
        } else {
            finding.message.clone()
        };
        writeln!(
            w,
            "{}: {}",
            style.paint(
                color,
                &format!("{}[{}]", finding.severity.as_str(), finding.rule)
            ),
            style.paint("1", &message)
        )?;
        let len = underline_len(output, finding);
        // A plan's finding without its configuration has no place but its address.
        let line = Some(finding.location.line).filter(|&l| l > 0);
        let shown = snippet(
            w,
            &style,
            output,
            &finding.file,
            line,
            finding.location.column,
            len,
            color,
        )?;
        let width = gutter_width(line);
        let addresses: Vec<&str> = group
            .iter()
            .flat_map(|f| instance_addresses(report, f))
            .collect();
        if !addresses.is_empty() && shown {
            writeln!(w, "{:width$} {}", "", style.gutter("|"))?;
        }
        match addresses.as_slice() {
            [] => {}
            [one] => writeln!(w, "{:width$} {} resource: {one}", "", style.gutter("="))?,
            many => {
                writeln!(
                    w,
                    "{:width$} {} resources: {} instances",
                    "",
                    style.gutter("="),
                    many.len()
                )?;
                for address in many.iter().take(MAX_LISTED) {
                    writeln!(w, "{:width$}     {address}", "")?;
                }
                if many.len() > MAX_LISTED {
                    writeln!(
                        w,
                        "{:width$}     ... and {} more",
                        "",
                        many.len() - MAX_LISTED
                    )?;
                }
            }
        }
        let shown = shown && addresses.is_empty();
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

    if let Some(baseline) = output.baseline {
        for entry in &baseline.stale {
            writeln!(
                w,
                "{}: {}",
                style.paint("1;36", "note"),
                super::stale_note(entry, &baseline.path)
            )?;
        }
        if !baseline.stale.is_empty() {
            writeln!(w)?;
        }
    }

    writeln!(w, "{}", summary(output))?;
    Ok(())
}

/// The findings as the text shows them: one finding repeated across module instances
/// (same file, position, rule, and message but for the module path) is one group, in the
/// order of its first finding.
fn groups(findings: &[Finding]) -> Vec<Vec<&Finding>> {
    let mut out: Vec<Vec<&Finding>> = Vec::new();
    // Findings are sorted by file, line, column and rule: a group lies within one run.
    let same_place = |a: &Finding, b: &Finding| {
        a.file.as_os_str() == b.file.as_os_str()
            && a.location.line == b.location.line
            && a.location.column == b.location.column
            && a.rule == b.rule
    };
    for run in findings.chunk_by(|a, b| same_place(a, b)) {
        if let [one] = run {
            out.push(vec![one]);
            continue;
        }
        let first = out.len();
        for f in run {
            let key = f.message.replace(module_prefix(&f.resource), "");
            let found = out[first..].iter_mut().find(|g| {
                let g0 = g[0];
                g0.message.replace(module_prefix(&g0.resource), "") == key
            });
            match found {
                // Only when the module paths differ: one address is one finding.
                Some(g) if !f.resource.is_empty() && g.iter().all(|x| x.resource != f.resource) => {
                    g.push(f)
                }
                _ => out.push(vec![f]),
            }
        }
    }
    out
}

/// The module path of an address: `module.a.module.b.` of `module.a.module.b.x.y`; empty
/// for the root module (never an empty pattern to replace: a lone `\0` then).
fn module_prefix(address: &str) -> &str {
    match super::module_path(address) {
        "" => "\0",
        path => path,
    }
}

/// The closing line: counts by severity, fixable, suppressed, unreadable files.
pub fn summary(output: &Output<'_>) -> String {
    let report = output.report;
    let mut parts = Vec::new();
    if output.fixed > 0 {
        parts.push(format!("Fixed {}.", plural(output.fixed, "finding")));
    }
    let files = super::linted(report);
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
    if let Some(baseline) = output.baseline {
        if baseline.matched > 0 {
            parts.push(format!(
                "{} in the baseline not shown.",
                plural(baseline.matched, "finding")
            ));
        }
        if !baseline.stale.is_empty() {
            parts.push(format!(
                "{} stale (fixed).",
                plural(baseline.stale.len(), "baseline entry")
            ));
        }
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

    /// One block linted through three module instances: one entry listing the instances
    /// (with their keys where known); another rule at the same place stays its own entry.
    #[test]
    fn a_finding_repeated_across_module_instances_is_one_entry() {
        let (mut report, sources) = report();
        report.errors.clear();
        let dr003 = report.findings.remove(0);
        report.findings.clear();
        for module in ["module.a.", "module.b.", "module.c.module.inner."] {
            let mut f = dr003.clone();
            f.resource = format!("{module}aws_db_instance.main");
            f.message = format!("{} can be deleted", f.resource);
            report.findings.push(f);
        }
        let mut other = dr003.clone();
        other.rule = "DR005";
        other.resource = "module.a.aws_db_instance.main".into();
        report.findings.push(other);
        report.instances.insert(
            "module.a.aws_db_instance.main".into(),
            vec![
                "module.a[0].aws_db_instance.main".into(),
                "module.a[1].aws_db_instance.main".into(),
            ],
        );
        let text = render_to_string(Format::Text, &report, &sources);
        assert_eq!(text.matches("error[DR003]").count(), 1, "{text}");
        insta::assert_snapshot!(text);
    }

    #[test]
    fn module_prefixes_are_the_module_path() {
        use super::module_prefix;
        assert_eq!(module_prefix("module.a.module.b.x.y"), "module.a.module.b.");
        assert_eq!(module_prefix("module.a.data.x.y"), "module.a.");
        assert_eq!(module_prefix("x.y"), "\0");
    }
}

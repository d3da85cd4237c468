//! `--format github`: GitHub Actions workflow commands, one annotation per finding:
//! `::error file=db/main.tf,line=3,col=3,endLine=3,endColumn=30,title=DR003 missing-deletion-protection (module.db.aws_db_instance.main)::message`.
//! The title names the resource address (with its instance key where known); a finding
//! on several instances lists them all in the message.
//!
//! Levels map error -> `error`, warning -> `warning`, note -> `notice`. Data is escaped
//! (`%`, CR, LF) and property values also escape `:` and `,`, as the runner requires.

use std::io::{self, Write};

use super::{display_path, instance_addresses, line_col, Output};
use crate::finding::Severity;

/// Writes the annotations.
pub fn render(output: &Output<'_>, w: &mut dyn Write) -> io::Result<()> {
    let mut out = String::new();
    for e in &output.report.errors {
        let mut props = vec![format!("file={}", property(&display_path(&e.file)))];
        if let Some(line) = e.line {
            props.push(format!("line={line}"));
        }
        if let Some(col) = e.column {
            props.push(format!("col={col}"));
        }
        props.push(format!(
            "title={}",
            property("drlint: file could not be linted")
        ));
        out.push_str(&format!(
            "::error {}::{}\n",
            props.join(","),
            data(&e.message)
        ));
    }
    for f in &output.report.findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Note => "notice",
        };
        let mut props = vec![format!("file={}", property(&display_path(&f.file)))];
        // A plan's finding without its configuration has no line: the file alone.
        let placed = f.location.line > 0;
        if placed {
            props.push(format!("line={}", f.location.line));
            props.push(format!("col={}", f.location.column));
        }
        if let Some(text) = output.sources.get(&f.file).filter(|_| placed) {
            if f.location.end > f.location.start {
                if let Some((line, col)) = line_col(text, f.location.end) {
                    if (line, col) > (f.location.line, f.location.column) {
                        props.push(format!("endLine={line}"));
                        if line == f.location.line {
                            props.push(format!("endColumn={col}"));
                        }
                    }
                }
            }
        }
        let addresses = instance_addresses(output.report, f);
        let title = match addresses.as_slice() {
            [] => format!("{} {}", f.rule, f.name),
            [one] => format!("{} {} ({one})", f.rule, f.name),
            [first, rest @ ..] => {
                format!("{} {} ({first} and {} more)", f.rule, f.name, rest.len())
            }
        };
        props.push(format!("title={}", property(&title)));
        let mut message = f.message.clone();
        if addresses.len() > 1 {
            message.push_str(&format!("\nresources: {}", addresses.join(", ")));
        }
        if let Some(fix) = &f.fix {
            message.push_str(&format!("\nhelp: {}", fix.description));
        }
        out.push_str(&format!(
            "::{level} {}::{}\n",
            props.join(","),
            data(&message)
        ));
    }
    w.write_all(out.as_bytes())
}

/// A markdown summary for `$GITHUB_STEP_SUMMARY`: the runner shows only the first few
/// annotations of a step, the job summary lists them all.
pub fn step_summary(output: &Output<'_>) -> String {
    let report = output.report;
    let mut out = String::from("### drlint\n\n");
    if report.findings.is_empty() && report.errors.is_empty() {
        out.push_str(&format!("No findings in {}.\n", super::linted(report)));
        return out;
    }
    if !report.findings.is_empty() {
        out.push_str("| severity | rule | resource | location | message |\n");
        out.push_str("|---|---|---|---|---|\n");
        for f in &report.findings {
            out.push_str(&format!(
                "| {} | [{}]({}/blob/main/docs/rules/{}.md) {} | `{}` | `{}{}` | {} |\n",
                f.severity.as_str(),
                f.rule,
                super::REPO_URL,
                f.rule,
                f.name,
                instance_addresses(report, f)
                    .iter()
                    .map(|a| cell(a))
                    .collect::<Vec<_>>()
                    .join("`, `"),
                cell(&display_path(&f.file)),
                // A plan's finding without its configuration has no line.
                Some(f.location.line)
                    .filter(|&l| l > 0)
                    .map(|l| format!(":{l}"))
                    .unwrap_or_default(),
                cell(&f.message)
            ));
        }
        out.push('\n');
    }
    for e in &report.errors {
        let line = e.line.map(|l| format!(":{l}")).unwrap_or_default();
        out.push_str(&format!(
            "- **could not lint** `{}{line}`: {}\n",
            cell(&display_path(&e.file)),
            cell(&e.message)
        ));
    }
    out.push_str(&format!(
        "\n{} in {}.\n",
        super::plural(report.findings.len(), "finding"),
        super::linted(report)
    ));
    out
}

/// Keeps a value inside one markdown table cell.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
        .replace(['\r', '\n'], " ")
        .replace('`', "'")
}

/// Escapes a command's message.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Format;
    use super::*;

    #[test]
    fn escapes_data_and_properties() {
        assert_eq!(data("50% a\r\nb"), "50%25 a%0D%0Ab");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
    }

    #[test]
    fn step_summary_is_a_markdown_table() {
        let (report, sources) = report();
        let rules = crate::render::testing::rules();
        let output = crate::render::Output {
            rules: &rules,
            report: &report,
            suppressed: &[],
            sources: &sources,
            active_rules: &[],
            color: false,
            fixed: 0,
            root: std::path::Path::new("/repo"),
            baseline: None,
        };
        let md = step_summary(&output);
        assert!(md.contains("| error | [DR003]("), "{md}");
        assert!(md.contains("could not lint"), "{md}");
        assert_eq!(cell("a|b\nc`d"), "a\\|b c'd");
    }

    #[test]
    fn renders_annotations() {
        let (report, sources) = report();
        insta::assert_snapshot!(render_to_string(Format::Github, &report, &sources));
    }
}

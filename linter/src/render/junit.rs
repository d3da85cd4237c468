//! `--format junit`: JUnit XML for GitLab test reports (`artifacts:reports:junit`), Jenkins
//! and other CI dashboards.
//!
//! One `<testsuite>` per rule that ran, named `DR003 missing-deletion-protection`, so the
//! report reads like a checklist: a rule with findings holds one failing `<testcase>` per
//! finding (named by Terraform address, classname `drlint.DR003`, `file` and `line`
//! attributes for GitLab's file column), a rule without findings holds one passing case.
//! Files that could not be linted form a last suite of `<error>` cases. The failure's
//! `type` is the finding's severity; its body has the location, message and fix.

use std::collections::BTreeMap;
use std::io::{self, Write};

use super::{display_path, Output};
use crate::finding::Finding;

/// Writes the JUnit report.
pub fn render(output: &Output<'_>, w: &mut dyn Write) -> io::Result<()> {
    let report = output.report;
    let mut by_rule: BTreeMap<&str, Vec<&Finding>> = BTreeMap::new();
    for code in output.active_rules {
        by_rule.entry(code).or_default();
    }
    for f in &report.findings {
        by_rule.entry(f.rule).or_default().push(f);
    }
    let failures = report.findings.len();
    let errors = report.errors.len();
    let tests: usize = by_rule.values().map(|f| f.len().max(1)).sum::<usize>() + errors;

    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"drlint\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\">\n"
    ));
    for (code, findings) in &by_rule {
        let title = match output.rules.iter().find(|r| r.code == *code) {
            Some(rule) => format!("{} {}", rule.code, rule.name),
            None => code.to_string(),
        };
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\">\n",
            attr(&title),
            findings.len().max(1),
            findings.len()
        ));
        if findings.is_empty() {
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"drlint.{}\"/>\n",
                attr(&format!("no findings in {}", super::linted(report))),
                attr(code)
            ));
        }
        for f in findings {
            let file = display_path(&f.file);
            let name = if f.resource.is_empty() {
                format!("{file}:{}", f.location.line)
            } else {
                f.resource.clone()
            };
            // A plan's finding without its configuration has no line: the file alone.
            let place = if f.location.line > 0 {
                format!("{file}:{}:{}", f.location.line, f.location.column)
            } else {
                file.clone()
            };
            let mut body = format!("{}[{}] {place}\n{}", f.severity.as_str(), f.rule, f.message);
            let addresses = super::instance_addresses(output.report, f);
            if !addresses.is_empty() {
                body.push_str(&format!("\nresource: {}", addresses.join(", ")));
            }
            if let Some(fix) = &f.fix {
                body.push_str(&format!("\nhelp: {}", fix.description));
            }
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"drlint.{}\" file=\"{}\" line=\"{}\">\n",
                attr(&name),
                attr(f.rule),
                attr(&file),
                f.location.line
            ));
            out.push_str(&format!(
                "      <failure type=\"{}\" message=\"{}\">{}</failure>\n",
                f.severity.as_str(),
                attr(&f.message),
                text(&body)
            ));
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    if errors > 0 {
        out.push_str(&format!(
            "  <testsuite name=\"drlint: files that could not be linted\" tests=\"{errors}\" failures=\"0\" errors=\"{errors}\" skipped=\"0\">\n"
        ));
        for e in &report.errors {
            let file = display_path(&e.file);
            let location = match (e.line, e.column) {
                (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
                (Some(l), None) => format!("{file}:{l}"),
                _ => file.clone(),
            };
            let line_attr = e.line.map(|l| format!(" line=\"{l}\"")).unwrap_or_default();
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"drlint.files\" file=\"{}\"{line_attr}>\n",
                attr(&file),
                attr(&file)
            ));
            out.push_str(&format!(
                "      <error type=\"file-error\" message=\"{}\">{}</error>\n",
                attr(&e.message),
                text(&format!("{location}: {}", e.message))
            ));
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    w.write_all(out.as_bytes())
}

/// Escapes text content; characters XML 1.0 cannot carry become U+FFFD.
fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes an attribute value, keeping line breaks as character references.
fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if attribute => out.push_str("&quot;"),
            '\n' if attribute => out.push_str("&#10;"),
            '\r' if attribute => out.push_str("&#13;"),
            '\t' if attribute => out.push_str("&#9;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::super::Format;
    use super::*;

    #[test]
    fn escapes_xml() {
        assert_eq!(attr("a\"<&>\nb\u{1}"), "a&quot;&lt;&amp;&gt;&#10;b\u{FFFD}");
        assert_eq!(text("a\"\nb"), "a\"\nb");
    }

    #[test]
    fn renders_a_suite_per_rule() {
        let (report, sources) = report();
        insta::assert_snapshot!(render_to_string(Format::Junit, &report, &sources));
    }
}

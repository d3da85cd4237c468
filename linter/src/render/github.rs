//! `--format github`: GitHub Actions workflow commands, one annotation per finding:
//! `::error file=db/main.tf,line=3,col=3,endLine=3,endColumn=30,title=DR003 missing-deletion-protection::message`.
//!
//! Levels map error -> `error`, warning -> `warning`, note -> `notice`. Data is escaped
//! (`%`, CR, LF) and property values also escape `:` and `,`, as the runner requires.

use std::io::{self, Write};

use super::{display_path, line_col, Output};
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
        let mut props = vec![
            format!("file={}", property(&display_path(&f.file))),
            format!("line={}", f.location.line),
            format!("col={}", f.location.column),
        ];
        if let Some(text) = output.sources.get(&f.file) {
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
        props.push(format!(
            "title={}",
            property(&format!("{} {}", f.rule, f.name))
        ));
        let mut message = f.message.clone();
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
    fn renders_annotations() {
        let (report, sources) = report();
        insta::assert_snapshot!(render_to_string(Format::Github, &report, &sources));
    }
}

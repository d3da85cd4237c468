//! Turning a [`Report`] into what people and CI systems read.
//!
//! Every format gets the same [`Output`]: the report after suppressions, the inline
//! suppressions themselves (SARIF records them), and the source text of the files concerned
//! (for snippets and end positions). Renderers only write; they never lint or decide exit
//! codes.

pub mod github;
pub mod json;
pub mod junit;
pub mod sarif;
pub mod text;

use std::io::{self, Write};
use std::path::Path;

pub use crate::file_text::Sources;
pub use crate::finding::{module_path, RuleMeta};
use crate::finding::{Finding, Report};
pub use crate::path_map::display_path;
use crate::suppress::{self, Suppressed};

/// Output formats of `--format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// rustc-style diagnostics with a source snippet.
    #[default]
    Text,
    /// One JSON object (the shape in DESIGN.md).
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// JUnit XML, for CI test reports.
    Junit,
    /// GitHub Actions workflow commands (annotations).
    Github,
}

impl Format {
    /// Every format, in `--help` order.
    pub const ALL: [Format; 5] = [
        Format::Text,
        Format::Json,
        Format::Sarif,
        Format::Junit,
        Format::Github,
    ];

    /// Whether the format shows a baseline's stale entries itself (else the CLI notes
    /// them on standard error).
    pub fn shows_baseline(self) -> bool {
        matches!(self, Format::Text | Format::Json)
    }

    /// The name used on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Text => "text",
            Format::Json => "json",
            Format::Sarif => "sarif",
            Format::Junit => "junit",
            Format::Github => "github",
        }
    }
}

impl RuleMeta {
    /// Where the rule's doc page lives on the web.
    pub fn help_uri(&self) -> String {
        if suppress::RULES.iter().any(|r| r.code == self.code) {
            format!("{REPO_URL}/blob/main/docs/drlint.md#suppressions")
        } else {
            format!("{REPO_URL}/blob/main/docs/rules/{}.md", self.code)
        }
    }
}

/// The project's repository, for links in SARIF and docs.
pub const REPO_URL: &str = "https://github.com/drkit/drkit";

/// The full catalog from the engine's rules: DR000, DR900 and DR901 (reported by
/// [`suppress`]) added, sorted
/// by code, duplicates dropped.
pub fn catalog_with(rules: impl IntoIterator<Item = RuleMeta>) -> Vec<RuleMeta> {
    let mut all = suppress::RULES.to_vec();
    all.extend(rules);
    all.sort_by_key(|r| r.code);
    all.dedup_by_key(|r| r.code);
    all
}

/// Looks a rule up by code (any case) or by name.
pub fn find_rule<'r>(rules: &'r [RuleMeta], code_or_name: &str) -> Option<&'r RuleMeta> {
    let code = code_or_name.trim();
    rules
        .iter()
        .find(|r| r.code.eq_ignore_ascii_case(code) || r.name == code)
}

/// What every renderer gets.
#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    /// Findings and errors left after configuration and suppressions.
    pub report: &'a Report,
    /// Findings silenced by `# drlint:ignore`, with their reasons.
    pub suppressed: &'a [Suppressed],
    /// File contents for snippets and end positions.
    pub sources: &'a Sources,
    /// Every rule drlint knows (SARIF's `tool.driver.rules`, names for JUnit suites).
    pub rules: &'a [RuleMeta],
    /// Codes of the rules that ran (JUnit lists passing rules too).
    pub active_rules: &'a [&'static str],
    /// Whether to use ANSI colours (text only).
    pub color: bool,
    /// Findings `--fix` fixed before this report was made.
    pub fixed: usize,
    /// The directory relative paths are relative to (SARIF's `%SRCROOT%`).
    pub root: &'a Path,
    /// With `--baseline`: what it accepted and its stale entries.
    pub baseline: Option<&'a crate::baseline::Outcome>,
}

/// The addresses a finding names: its resource's instances with their keys
/// (`module.db[0].aws_db_instance.this`) where known, else its address.
pub fn instance_addresses<'r>(report: &'r Report, f: &'r Finding) -> Vec<&'r str> {
    match report.instances.get(&f.resource) {
        Some(list) if !list.is_empty() => list.iter().map(String::as_str).collect(),
        _ if f.resource.is_empty() => Vec::new(),
        _ => vec![f.resource.as_str()],
    }
}

/// The note for a stale baseline entry.
pub fn stale_note(entry: &crate::baseline::Entry, baseline: &Path) -> String {
    format!(
        "stale baseline entry {}: no such finding any more (fixed?); `drlint --write-baseline {}` drops it",
        entry.describe(),
        display_path(baseline)
    )
}

/// Writes `output` in `format`.
pub fn render(format: Format, output: &Output<'_>, w: &mut dyn Write) -> io::Result<()> {
    match format {
        Format::Text => text::render(output, w),
        Format::Json => json::render(output, w),
        Format::Sarif => sarif::render(output, w),
        Format::Junit => junit::render(output, w),
        Format::Github => github::render(output, w),
    }
}

/// The 1-based line and character column of a byte offset, when it lies in `text`.
pub fn line_col(text: &str, offset: usize) -> Option<(u32, u32)> {
    if offset > text.len() || !text.is_char_boundary(offset) {
        return None;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Some((
        u32::try_from(line).unwrap_or(u32::MAX),
        u32::try_from(col).unwrap_or(u32::MAX),
    ))
}

/// The text of 1-based line `line`, without its line ending.
pub fn source_line(text: &str, line: u32) -> Option<&str> {
    let index = usize::try_from(line).ok()?.checked_sub(1)?;
    text.split('\n')
        .nth(index)
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// What a run linted, for summaries: `3 files`, or `plan tfplan.json (12 resources)`.
pub fn linted(report: &Report) -> String {
    match &report.plan {
        Some(plan) => match plan.resources {
            Some(n) => format!(
                "plan {} ({})",
                display_path(&plan.path),
                plural(n, "resource")
            ),
            None => format!("plan {}", display_path(&plan.path)),
        },
        None => plural(report.files, "file"),
    }
}

/// "1 finding" / "2 findings".
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else if let Some(stem) = word.strip_suffix("ry") {
        format!("{n} {stem}ries")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Hand-made reports for renderer tests.
    use super::*;
    use crate::finding::{Applicability, Edit, FileError, Finding, Fix, Location, Severity};
    use std::path::PathBuf;

    pub const DB_TF: &str = "resource \"aws_db_instance\" \"main\" {\n  engine              = \"postgres\"\n  deletion_protection = false\n}\n";

    pub fn report() -> (Report, Sources) {
        let file = PathBuf::from("db/main.tf");
        let start = DB_TF.find("deletion_protection").unwrap();
        let findings = vec![
            Finding {
                rule: "DR003",
                name: "missing-deletion-protection",
                severity: Severity::Error,
                resource: "aws_db_instance.main".into(),
                file: file.clone(),
                location: Location {
                    line: 3,
                    column: 3,
                    start,
                    end: start + 27,
                },
                block_line: 1,
                message: "aws_db_instance.main can be deleted by `terraform destroy`, \"with\" <all> its backups".into(),
                fix: Some(Fix {
                    description: "set deletion_protection = true".into(),
                    edits: vec![Edit {
                        start: start + 22,
                        end: start + 27,
                        text: "true".into(),
                    }],
                    applicability: Applicability::Safe,
                }),
                suppress_at: Vec::new(),
                resource_file: None,
            },
            Finding {
                rule: "DR010",
                name: "no-cross-region-copy",
                severity: Severity::Warning,
                resource: "aws_db_instance.main".into(),
                file: file.clone(),
                location: Location {
                    line: 1,
                    column: 1,
                    start: 0,
                    end: 34,
                },
                block_line: 1,
                message: "aws_db_instance.main has no copy outside us-east-1, line:1, 100%".into(),
                fix: None,
                suppress_at: Vec::new(),
                resource_file: None,
            },
        ];
        let report = Report {
            findings,
            errors: vec![FileError {
                file: PathBuf::from("broken, really.tf"),
                line: Some(2),
                column: Some(5),
                message: "expected `=` or `{`\nfound end of input".into(),
            }],
            files: 3,
            ..Report::default()
        };
        let mut sources = Sources::default();
        sources.insert_text(&file, DB_TF.to_string());
        (report, sources)
    }

    /// DR000 and two rules, as the engine would describe them.
    pub fn rules() -> Vec<RuleMeta> {
        catalog_with([
            RuleMeta {
                code: "DR003",
                name: "missing-deletion-protection",
                severity: Severity::Error,
                summary: "A database without deletion protection.",
                doc: "# DR003 missing-deletion-protection\n\n## What it does\nFinds databases that `terraform destroy` can delete.\n",
                fixable: true,
            },
            RuleMeta {
                code: "DR010",
                name: "no-cross-region-copy",
                severity: Severity::Warning,
                summary: "A database or bucket with no copy outside its region.",
                doc: "# DR010 no-cross-region-copy\n",
                fixable: false,
            },
        ])
    }

    pub fn render_to_string(format: Format, report: &Report, sources: &Sources) -> String {
        let rules = rules();
        let output = Output {
            rules: &rules,
            report,
            suppressed: &[],
            sources,
            active_rules: &["DR003", "DR010"],
            color: false,
            fixed: 0,
            root: Path::new("/repo"),
            baseline: None,
        };
        let mut buf = Vec::new();
        render(format, &output, &mut buf).unwrap();
        String::from_utf8(buf).unwrap()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::Severity;
    use std::path::PathBuf;

    #[test]
    fn line_col_counts_characters() {
        assert_eq!(line_col("ab\ncé d", 6), Some((2, 3)));
        assert_eq!(line_col("ab", 9), None);
    }

    #[test]
    fn catalog_has_dr000_and_is_sorted() {
        let rules = testing::rules();
        let codes: Vec<_> = rules.iter().map(|r| r.code).collect();
        assert_eq!(codes.first(), Some(&"DR000"));
        assert_eq!(find_rule(&rules, "dr003").map(|r| r.code), Some("DR003"));
        assert_eq!(
            find_rule(&rules, "no-cross-region-copy").map(|r| r.code),
            Some("DR010")
        );
        let mut sorted = codes.clone();
        sorted.sort();
        assert_eq!(codes, sorted);
    }

    #[test]
    fn renderers_never_panic_on_odd_locations() {
        use crate::finding::{Applicability, Edit, Finding, Fix, Location};
        let pieces = ["a", "é", "\t", "\n", "\r\n", "☃", " ", "\"", "{"];
        for seed in 0..300u64 {
            let text = crate::suppress::tests::noise(seed, &pieces, (seed % 40) as usize);
            let mut sources = Sources::default();
            sources.insert_text(Path::new("f.tf"), text);
            let n = seed as usize;
            let finding = Finding {
                rule: "DR003",
                name: "missing-deletion-protection",
                severity: Severity::Error,
                resource: "a.b".into(),
                file: PathBuf::from("f.tf"),
                location: Location {
                    line: (seed % 9) as u32,
                    column: (seed % 13) as u32,
                    start: n % 50,
                    end: (n * 7) % 60,
                },
                block_line: 0,
                message: "m\n%,:".into(),
                fix: Some(Fix {
                    description: "d".into(),
                    edits: vec![Edit {
                        start: n % 30,
                        end: n % 20,
                        text: "t".into(),
                    }],
                    applicability: Applicability::Safe,
                }),
                suppress_at: Vec::new(),
                resource_file: None,
            };
            let report = Report {
                findings: vec![finding],
                errors: vec![],
                files: 1,
                ..Report::default()
            };
            for format in Format::ALL {
                testing::render_to_string(format, &report, &sources);
            }
        }
    }
}

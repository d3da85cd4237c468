//! Inline suppressions: `# drlint:ignore DR003 reason` (or `//`, or `/* ... */`).
//!
//! A suppression applies to the finding's line when it sits in the run of comment lines
//! directly above that line (no blank line between) or at the end of the line itself. The
//! finding's line is either the line it points at (usually the attribute) or the header of
//! the enclosing block (`Finding::block_line`), so a comment above `resource "..." "..." {`
//! covers every finding in the resource. Several codes are separated by commas:
//! `# drlint:ignore DR003,DR005 restored from the nightly dump instead`.
//!
//! A suppression that silences a finding without saying why is itself reported as DR000
//! `suppression-without-reason` (a warning); it still suppresses.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::finding::{Finding, Location, Severity};
use crate::render::{RuleInfo, Sources};

/// The code of the finding a reason-less suppression produces.
pub const CODE: &str = "DR000";
/// Its name.
pub const NAME: &str = "suppression-without-reason";

/// DR000's catalog entry.
pub const RULE: RuleInfo = RuleInfo {
    code: CODE,
    name: NAME,
    severity: Severity::Warning,
    summary: "a `# drlint:ignore` comment that does not say why the finding does not apply",
    doc: DOC,
    fixable: false,
};

const DOC: &str = "# DR000 suppression-without-reason

## What it does
Reports a `# drlint:ignore` comment that silences a finding without giving a reason.

## Why is this bad?
A suppression is a decision that a disaster-recovery safeguard is not needed here. Without
the reason, the next reviewer cannot tell a considered exception (\"restored from the nightly
pg_dump, drilled in dr_drill.orders\") from a shortcut taken to get a build green, and nobody
revisits it when the situation changes.

The suppression still works; this warning asks for the reason.

## Example
```hcl
# drlint:ignore DR003
resource \"aws_db_instance\" \"scratch\" {
  deletion_protection = false
}
```

Use instead:
```hcl
# drlint:ignore DR003 scratch database, recreated from the nightly dump by CI
resource \"aws_db_instance\" \"scratch\" {
  deletion_protection = false
}
```

## Configuration
Like any rule: `ignore = [\"DR000\"]` turns it off, `[severity] DR000 = \"error\"` makes
reason-less suppressions fail the gate.
";

/// One `drlint:ignore` comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppression {
    /// 1-based line of the comment.
    pub line: u32,
    /// 1-based column where the comment starts.
    pub column: u32,
    /// Byte offset of the comment start.
    pub start: usize,
    /// Byte offset of the end of the comment line.
    pub end: usize,
    /// Rule codes it names, upper-cased.
    pub codes: Vec<String>,
    /// Why, if given.
    pub reason: Option<String>,
    /// Whether the comment stands alone on its line (it then covers the next line).
    pub own_line: bool,
}

/// A finding that a suppression silenced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    /// The finding.
    pub finding: Finding,
    /// The suppression's reason, if it gave one.
    pub reason: Option<String>,
}

/// The findings after suppressions.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Findings still reported, including DR000 findings.
    pub kept: Vec<Finding>,
    /// Findings silenced.
    pub suppressed: Vec<Suppressed>,
}

/// Finds every `drlint:ignore` comment in `source`.
pub fn parse(source: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    let mut offset = 0;
    for (index, raw_line) in source.split('\n').enumerate() {
        let line_start = offset;
        offset += raw_line.len() + 1;
        let line = raw_line.strip_suffix('\r').unwrap_or(raw_line);
        let Some(at) = line.find("drlint:ignore") else {
            continue;
        };
        let Some(comment_at) = comment_start(line, at) else {
            continue;
        };
        let rest = &line[at + "drlint:ignore".len()..];
        // `drlint:ignore-file` and friends are not this directive.
        if rest.starts_with(|c: char| !c.is_whitespace() && c != ':') {
            continue;
        }
        let rest = rest.trim_start_matches(':');
        let rest = rest.split("*/").next().unwrap_or(rest);
        let (codes, reason) = split_codes(rest);
        out.push(Suppression {
            line: u32::try_from(index + 1).unwrap_or(u32::MAX),
            column: u32::try_from(line[..comment_at].chars().count() + 1).unwrap_or(u32::MAX),
            start: line_start + comment_at,
            end: line_start + line.len(),
            codes,
            reason,
            own_line: line[..comment_at].trim().is_empty(),
        });
    }
    out
}

/// Where the comment holding the directive at byte `at` begins, if the directive is in a
/// comment at all (`#`, `//` or `/*` before it, outside a string).
fn comment_start(line: &str, at: usize) -> Option<usize> {
    let mut in_string = false;
    let mut escaped = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < at {
        let b = bytes[i];
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == b'#' || (b == b'/' && matches!(bytes.get(i + 1), Some(b'/' | b'*'))) {
            return Some(i);
        }
        i += 1;
    }
    None
}

/// `" DR003, dr005 why it is fine"` -> (["DR003", "DR005"], Some("why it is fine")).
fn split_codes(text: &str) -> (Vec<String>, Option<String>) {
    let mut codes = Vec::new();
    let mut rest = text.trim_start();
    loop {
        let end = rest
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(rest.len());
        let word = &rest[..end];
        if !is_code(word) {
            break;
        }
        codes.push(word.to_ascii_uppercase());
        rest = &rest[end..];
        let after_comma = rest.trim_start().strip_prefix(',');
        match after_comma {
            Some(r) => rest = r.trim_start(),
            None => break,
        }
    }
    let reason = rest
        .trim()
        .trim_start_matches([':', '-', '\u{2014}', '\u{2013}'])
        .trim();
    let reason = (!reason.is_empty()).then(|| reason.to_string());
    (codes, reason)
}

/// `DR003`, any case.
fn is_code(word: &str) -> bool {
    word.len() >= 3
        && word[..2].eq_ignore_ascii_case("DR")
        && word[2..].bytes().all(|b| b.is_ascii_digit())
}

/// Whether `s`, a comment-only line, continues a run of comments upward.
fn is_comment_line(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with('#') || t.starts_with("//") || t.starts_with("/*") || t.starts_with('*')
}

/// Suppressions of one file, indexed by the line each one covers.
struct FileSuppressions {
    all: Vec<Suppression>,
    /// covered line -> indexes into `all`.
    by_line: BTreeMap<u32, Vec<usize>>,
    used: Vec<bool>,
}

impl FileSuppressions {
    fn new(source: &str) -> Self {
        let all = parse(source);
        let lines: Vec<&str> = source.split('\n').collect();
        let mut by_line: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, s) in all.iter().enumerate() {
            if !s.own_line {
                by_line.entry(s.line).or_default().push(i);
                continue;
            }
            // The comment run it belongs to ends somewhere below; it covers the first
            // non-comment line after the run.
            let mut next = s.line as usize; // 0-based index of the line after the comment
            while next < lines.len() && is_comment_line(lines[next]) {
                next += 1;
            }
            if next < lines.len() && !lines[next].trim().is_empty() {
                let covered = u32::try_from(next + 1).unwrap_or(u32::MAX);
                by_line.entry(covered).or_default().push(i);
            }
        }
        let used = vec![false; all.len()];
        Self { all, by_line, used }
    }

    /// The suppression covering `finding`, if any.
    fn find(&mut self, finding: &Finding) -> Option<usize> {
        for line in [finding.location.line, finding.block_line] {
            if let Some(candidates) = self.by_line.get(&line) {
                for &i in candidates {
                    if self.all[i].codes.iter().any(|c| c == finding.rule) {
                        self.used[i] = true;
                        return Some(i);
                    }
                }
            }
        }
        None
    }
}

/// Applies the suppressions in `sources` to `findings`. `dr000` is DR000's effective
/// severity, or `None` when configuration turned DR000 off.
pub fn apply(mut findings: Vec<Finding>, sources: &Sources, dr000: Option<Severity>) -> Outcome {
    let mut files: crate::path_map::PathMap<Option<FileSuppressions>> = Default::default();
    // For DR000: which finding first used each suppression (for its resource address).
    let mut first_use: BTreeMap<(PathBuf, usize), String> = BTreeMap::new();
    // Each suppressed finding's index, with the suppression's reason.
    let mut hits: Vec<(usize, Option<String>)> = Vec::new();
    for (index, finding) in findings.iter().enumerate() {
        let entry = files.get_or_insert_with(&finding.file, || {
            sources
                .get(&finding.file)
                .filter(|text| text.contains("drlint:ignore"))
                .map(FileSuppressions::new)
        });
        let Some((i, s)) = entry.as_mut().and_then(|s| s.find(finding).map(|i| (i, s))) else {
            continue;
        };
        first_use
            .entry((finding.file.clone(), i))
            .or_insert_with(|| finding.resource.clone());
        hits.push((index, s.all[i].reason.clone()));
    }
    // The kept findings stay where they are, in order; the few suppressed are copied out.
    let mut suppressed = Vec::with_capacity(hits.len());
    let mut hits = hits.into_iter().peekable();
    let mut index = 0;
    findings.retain(|finding| {
        let here = index;
        index += 1;
        let Some((_, reason)) = hits.next_if(|(i, _)| *i == here) else {
            return true;
        };
        suppressed.push(Suppressed {
            reason,
            finding: finding.clone(),
        });
        false
    });
    let mut outcome = Outcome {
        kept: findings,
        suppressed,
    };
    if let Some(severity) = dr000 {
        for ((file, index), resource) in first_use {
            let Some(Some(s)) = files.get(&file) else {
                continue;
            };
            let sup = &s.all[index];
            if sup.reason.is_some() {
                continue;
            }
            outcome
                .kept
                .push(reasonless_finding(&file, sup, resource, severity));
        }
    }
    outcome.kept.sort_by(|a, b| {
        (&a.file, a.location.line, a.location.column, a.rule).cmp(&(
            &b.file,
            b.location.line,
            b.location.column,
            b.rule,
        ))
    });
    outcome
}

fn reasonless_finding(
    file: &Path,
    sup: &Suppression,
    resource: String,
    severity: Severity,
) -> Finding {
    let codes = sup.codes.join(",");
    Finding {
        rule: CODE,
        name: NAME,
        severity,
        resource,
        file: file.to_path_buf(),
        location: Location {
            line: sup.line,
            column: sup.column,
            start: sup.start,
            end: sup.end,
        },
        block_line: sup.line,
        message: format!(
            "`drlint:ignore {codes}` gives no reason: say why the finding does not apply here"
        ),
        fix: Some(crate::finding::Fix {
            description: format!(
                "write the reason after the codes: `# drlint:ignore {codes} <why this is safe>`"
            ),
            edits: Vec::new(),
            applicability: crate::finding::Applicability::Unsafe,
        }),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    #[test]
    fn parses_codes_and_reason() {
        let s = parse("  # drlint:ignore DR003, dr005 - restored nightly\n");
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].codes, ["DR003", "DR005"]);
        assert_eq!(s[0].reason.as_deref(), Some("restored nightly"));
        assert_eq!(s[0].column, 3);
        assert!(s[0].own_line);
    }

    #[test]
    fn parses_slash_comments_and_trailing_comments() {
        let s = parse("// drlint:ignore DR003\nx = 1 # drlint:ignore DR008 why\n/* drlint:ignore DR001 a */\n");
        assert_eq!(s.len(), 3);
        assert_eq!(s[0].reason, None);
        assert!(!s[1].own_line);
        assert_eq!(s[1].reason.as_deref(), Some("why"));
        assert_eq!(s[2].reason.as_deref(), Some("a"));
    }

    #[test]
    fn ignores_directives_inside_strings() {
        assert!(parse("description = \"# drlint:ignore DR003 no\"\n").is_empty());
        assert!(parse("# drlint:ignore-file DR003\n").is_empty());
    }

    #[test]
    fn covers_the_first_line_after_a_comment_run_only() {
        let src = "# drlint:ignore DR003 a\n# more words\nresource \"x\" \"y\" {\n}\n\n# drlint:ignore DR004 b\n\nresource \"z\" \"w\" {}\n";
        let s = FileSuppressions::new(src);
        assert_eq!(s.by_line.get(&3), Some(&vec![0]));
        // A blank line breaks the link.
        assert_eq!(s.by_line.len(), 1);
    }

    /// Deterministic pseudo-random text built from the pieces that matter to the parser.
    pub(crate) fn noise(seed: u64, pieces: &[&str], len: usize) -> String {
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut out = String::new();
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            out.push_str(pieces[(x % pieces.len() as u64) as usize]);
        }
        out
    }

    #[test]
    fn arbitrary_text_never_panics() {
        let pieces = [
            "#",
            "//",
            "/*",
            "*/",
            "\"",
            "\\",
            " ",
            "\n",
            "\r\n",
            "drlint:ignore",
            "DR003",
            "dr0",
            ",",
            ":",
            "-",
            "é",
            "☃",
            "\t",
            "x",
            "{",
            "}",
            "=",
        ];
        for seed in 0..2000 {
            let text = noise(seed, &pieces, (seed % 60) as usize);
            let parsed = parse(&text);
            let mut sources = Sources::default();
            sources.insert_text(Path::new("f.tf"), text.clone());
            let finding = Finding {
                rule: "DR003",
                name: "n",
                severity: Severity::Error,
                resource: String::new(),
                file: PathBuf::from("f.tf"),
                location: Location {
                    line: (seed % 7) as u32,
                    column: 0,
                    start: seed as usize,
                    end: 0,
                },
                block_line: (seed % 5) as u32,
                message: String::new(),
                fix: None,
            };
            let out = apply(vec![finding], &sources, Some(Severity::Warning));
            assert!(
                out.kept.len() + out.suppressed.len() >= 1,
                "{text:?} {parsed:?}"
            );
        }
    }

    fn finding(rule: &'static str, line: u32, block_line: u32) -> Finding {
        Finding {
            rule,
            name: "name",
            severity: Severity::Error,
            resource: "aws_db_instance.main".into(),
            file: PathBuf::from("db.tf"),
            location: Location {
                line,
                column: 3,
                start: 0,
                end: 0,
            },
            block_line,
            message: "m".into(),
            fix: None,
        }
    }

    fn run(source: &str, findings: Vec<Finding>, dr000: Option<Severity>) -> Outcome {
        let mut sources = Sources::default();
        sources.insert_text(Path::new("db.tf"), source.to_string());
        apply(findings, &sources, dr000)
    }

    const DB: &str = "# drlint:ignore DR003 protected by an SCP\nresource \"aws_db_instance\" \"main\" {\n  # drlint:ignore DR004\n  backup_retention_period = 1\n  deletion_protection = false\n}\n";

    #[test]
    fn block_suppression_covers_findings_inside_the_block() {
        let out = run(
            DB,
            vec![finding("DR003", 5, 2), finding("DR010", 2, 2)],
            None,
        );
        assert_eq!(out.suppressed.len(), 1);
        assert_eq!(out.suppressed[0].finding.rule, "DR003");
        assert_eq!(
            out.suppressed[0].reason.as_deref(),
            Some("protected by an SCP")
        );
        assert_eq!(
            out.kept.iter().map(|f| f.rule).collect::<Vec<_>>(),
            ["DR010"]
        );
    }

    #[test]
    fn attribute_suppression_without_reason_adds_dr000() {
        let out = run(DB, vec![finding("DR004", 4, 2)], Some(Severity::Warning));
        assert_eq!(out.suppressed.len(), 1);
        let dr000 = &out.kept[0];
        assert_eq!((dr000.rule, dr000.severity), (CODE, Severity::Warning));
        assert_eq!((dr000.location.line, dr000.location.column), (3, 3));
        assert_eq!(dr000.resource, "aws_db_instance.main");
        assert!(dr000.message.contains("DR004"), "{}", dr000.message);
    }

    #[test]
    fn dr000_can_be_turned_off() {
        let out = run(DB, vec![finding("DR004", 4, 2)], None);
        assert!(out.kept.is_empty());
        assert_eq!(out.suppressed.len(), 1);
    }

    #[test]
    fn reasonless_suppression_that_matches_nothing_is_not_reported() {
        let out = run(DB, vec![finding("DR005", 4, 2)], Some(Severity::Warning));
        assert_eq!(
            out.kept.iter().map(|f| f.rule).collect::<Vec<_>>(),
            ["DR005"]
        );
    }

    #[test]
    fn files_without_source_keep_their_findings() {
        let out = apply(
            vec![finding("DR003", 5, 2)],
            &Sources::default(),
            Some(Severity::Warning),
        );
        assert_eq!(out.kept.len(), 1);
    }
}

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
//!
//! A suppression may expire: `# drlint:ignore DR003 until=2027-03-31 reason`. After that
//! day it suppresses nothing and is reported as DR900 `expired-suppression`. A code of a
//! rule that ran and that the suppression silenced nothing of is reported as DR901
//! `unused-suppression` (as ruff's unused-noqa), so stale ignores do not pile up.
//!
//! Suppressions name rules by code, as ruff's `# noqa: E501`: codes are stable, names may
//! be renamed, and a suppression must not stop working silently when one is. A comment
//! meant as a suppression that is none (`# drlint-ignore DR003`, a rule's name instead of
//! its code, a code that is no rule) is reported as DR902 `malformed-suppression`
//! ([`malformed`]), with the code to write.

pub mod malformed;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::file_text::Sources;
use crate::finding::{Applicability, Finding, Location, RuleMeta, Severity};

/// The code of the finding a reason-less suppression produces.
pub const CODE: &str = "DR000";
/// Its name.
pub const NAME: &str = "suppression-without-reason";

/// DR000's catalog entry.
pub const RULE: RuleMeta = RuleMeta {
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

/// DR900's code.
pub const EXPIRED_CODE: &str = "DR900";
/// DR901's code.
pub const UNUSED_CODE: &str = "DR901";

/// DR900's catalog entry.
pub const EXPIRED_RULE: RuleMeta = RuleMeta {
    code: EXPIRED_CODE,
    name: "expired-suppression",
    severity: Severity::Warning,
    summary: "a `# drlint:ignore ... until=DATE` whose date has passed: it no longer suppresses",
    doc: EXPIRED_DOC,
    fixable: false,
};

/// DR901's catalog entry.
pub const UNUSED_RULE: RuleMeta = RuleMeta {
    code: UNUSED_CODE,
    name: "unused-suppression",
    severity: Severity::Warning,
    summary: "a `# drlint:ignore` code that suppresses no finding",
    doc: UNUSED_DOC,
    fixable: false,
};

/// DR902's code.
pub const MALFORMED_CODE: &str = "DR902";

/// DR902's catalog entry.
pub const MALFORMED_RULE: RuleMeta = RuleMeta {
    code: MALFORMED_CODE,
    name: "malformed-suppression",
    severity: Severity::Warning,
    summary: "a comment meant as a suppression that is none (`# drlint-ignore DR003`, a code that is no rule)",
    doc: MALFORMED_DOC,
    fixable: false,
};

/// The suppression checks' catalog entries, DR000 first.
pub const RULES: [RuleMeta; 4] = [RULE, EXPIRED_RULE, UNUSED_RULE, MALFORMED_RULE];

const MALFORMED_DOC: &str = "# DR902 malformed-suppression

## What it does
Reports a comment that was meant to suppress a finding but is not a drlint suppression,
and says how to write it:

- another tool's spelling: `# drlint-ignore DR003`, `# drlint:ignore=DR003`,
  `// drlint:disable`, `# drlint ignore DR003`, `# DRLINT:IGNORE DR003`;
- a form drlint does not have: `# drlint:ignore-file` (use `exclude` instead);
- a `drlint:ignore` that names no rule (`# drlint:ignore legacy database`);
- a rule's name instead of its code (`# drlint:ignore missing-deletion-protection`):
  suppressions name rules by code, which never changes;
- a code that is no drlint rule (`DR303`), with the closest rule when one is close.

## Why is this bad?
The finding the comment was written for is still reported, or the suppression silently
covers nothing, and nothing says why. The author believes the exception is recorded; the
gate keeps failing, or a later reader trusts a comment that does nothing.

## Example
```hcl
# drlint-ignore DR003 scratch database, recreated nightly
resource \"aws_db_instance\" \"scratch\" {
  deletion_protection = false
}
```

Use instead:
```hcl
# drlint:ignore DR003 scratch database, recreated nightly
resource \"aws_db_instance\" \"scratch\" {
  deletion_protection = false
}
```

Write the rule's code, not its name: `drlint rules` lists both.

## Configuration
Like any rule: `ignore = [\"DR902\"]`, `[severity] DR902 = \"error\"`.
";

const EXPIRED_DOC: &str = "# DR900 expired-suppression

## What it does
Reports a `# drlint:ignore` comment whose `until=YYYY-MM-DD` date has passed. From the day
after that date the comment suppresses nothing: the findings it covered are reported again,
and this warning says why.

## Why is this bad?
An exception with a date is a promise (\"until the migration to Aurora is done\"). When the
date passes, either the work is done and the comment should go, or it is not and the
exception must be decided again, with a new date and a reason.

## Example
```hcl
# drlint:ignore DR003 until=2025-03-31 scratch copy until the cut-over
resource \"aws_db_instance\" \"scratch\" {
  deletion_protection = false
}
```

Use instead: remove the comment (and fix the finding), or give a new date:
```hcl
# drlint:ignore DR003 until=2027-09-30 cut-over moved to Q3, see CHG-1234
resource \"aws_db_instance\" \"scratch\" {
  deletion_protection = false
}
```

## Configuration
Like any rule: `ignore = [\"DR900\"]`, `[severity] DR900 = \"error\"`.
";

const UNUSED_DOC: &str = "# DR901 unused-suppression

## What it does
Reports the codes of a `# drlint:ignore` comment that silenced no finding in this run:
the finding was fixed, the block moved, or the code is not a drlint rule. Codes of rules
that did not run (`--select`, `ignore`) are not judged.

## Why is this bad?
Stale suppressions pile up and hide the next real finding at that place: a comment written
for a scratch database still silences DR003 after the block became the production one.

## Example
```hcl
# drlint:ignore DR003 scratch database
resource \"aws_db_instance\" \"orders\" {
  deletion_protection = true
}
```

Use instead: remove the comment.

## Configuration
Like any rule: `ignore = [\"DR901\"]`. A value drlint cannot know before apply (a variable
without a default) produces no finding, so a suppression for it counts as unused: lint
with `--var-file` or `--plan`, or ignore DR901 for such files.
";

/// A calendar day, for `until=` (year, month, day).
pub type Day = (i32, u32, u32);

/// Today (UTC).
pub fn today() -> Day {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    civil_from_days((secs / 86_400) as i64)
}

/// The calendar day `days` after 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> Day {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400 + i64::from(m <= 2)) as i32;
    (y, m, d)
}

/// `2027-03-31` as a day, when it is one.
fn parse_day(text: &str) -> Option<Day> {
    let mut parts = text.splitn(3, '-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i32, u32, u32) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    (1..=days).contains(&d).then_some((y, m, d))
}

/// What a run checks about the suppressions themselves, besides applying them.
#[derive(Debug, Clone)]
pub struct Checks<'a> {
    /// DR000's severity, or `None` when it does not run.
    pub reasonless: Option<Severity>,
    /// DR900's severity, or `None` when it does not run.
    pub expired: Option<Severity>,
    /// DR901's severity, or `None` when it does not run.
    pub unused: Option<Severity>,
    /// DR902's severity, or `None` when it does not run.
    pub malformed: Option<Severity>,
    /// Codes of the rules that ran: only their suppressions can be judged unused.
    pub active: &'a [&'a str],
    /// Files whose every suppression is judged (expired, unused), besides those of the
    /// findings: the files the report covers.
    pub files: &'a [PathBuf],
    /// The day `until=` dates are compared with.
    pub today: Day,
}

impl Checks<'_> {
    /// Only DR000, as before suppressions could expire or be unused.
    pub fn reasonless_only(reasonless: Option<Severity>) -> Checks<'static> {
        Checks {
            reasonless,
            expired: None,
            unused: None,
            malformed: None,
            active: &[],
            files: &[],
            today: today(),
        }
    }
}

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
    /// `until=2027-03-31`: the last day it suppresses; `Err` with the text when that is
    /// not a date.
    pub until: Option<Result<Day, String>>,
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

/// The lines of `source` without their line ending: 1-based number, byte offset of the
/// line's start, text.
fn numbered_lines(source: &str) -> impl Iterator<Item = (u32, usize, &str)> {
    let mut offset = 0;
    source.split('\n').enumerate().map(move |(index, raw)| {
        let start = offset;
        offset += raw.len() + 1;
        let number = u32::try_from(index + 1).unwrap_or(u32::MAX);
        (number, start, raw.strip_suffix('\r').unwrap_or(raw))
    })
}

/// Finds every `drlint:ignore` comment in `source`.
pub fn parse(source: &str) -> Vec<Suppression> {
    let mut out = Vec::new();
    for (number, line_start, line) in numbered_lines(source) {
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
        let (until, reason) = split_until(reason);
        out.push(Suppression {
            until,
            line: number,
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

/// `until=2027-03-31 why` -> (the day, `why`).
fn split_until(reason: Option<String>) -> (Option<Result<Day, String>>, Option<String>) {
    let Some(text) = reason else {
        return (None, None);
    };
    let Some(rest) = text.strip_prefix("until=") else {
        return (None, Some(text));
    };
    let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let (date, why) = rest.split_at(end);
    let why = why
        .trim()
        .trim_start_matches([':', '-', '\u{2014}', '\u{2013}'])
        .trim();
    let day = parse_day(date).ok_or_else(|| date.to_string());
    (Some(day), (!why.is_empty()).then(|| why.to_string()))
}

/// The code of the rule `word` names: a code (any case) or a rule's name.
fn rule_code(word: &str) -> Option<&'static str> {
    crate::rules::lookup(word).map(|m| m.code).or_else(|| {
        RULES
            .iter()
            .find(|r| r.code.eq_ignore_ascii_case(word) || r.name == word)
            .map(|r| r.code)
    })
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
    /// The codes each suppression silenced something of.
    used_codes: Vec<std::collections::BTreeSet<String>>,
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
        let used_codes = vec![Default::default(); all.len()];
        Self {
            all,
            by_line,
            used,
            used_codes,
        }
    }

    /// The suppression covering `finding`, if any.
    fn find(&mut self, finding: &Finding, today: Day) -> Option<usize> {
        [finding.location.line, finding.block_line]
            .into_iter()
            .find_map(|line| self.find_at(line, finding.rule, today))
    }

    /// The live suppression of `rule` covering `line`, marked used.
    fn find_at(&mut self, line: u32, rule: &str, today: Day) -> Option<usize> {
        let candidates = self.by_line.get(&line)?;
        for &i in candidates {
            let sup = &self.all[i];
            if sup.codes.iter().any(|c| c == rule) && !is_expired(sup, today) {
                self.used[i] = true;
                self.used_codes[i].insert(rule.to_string());
                return Some(i);
            }
        }
        None
    }
}

fn is_expired(sup: &Suppression, today: Day) -> bool {
    matches!(sup.until, Some(Ok(day)) if day < today)
}

/// Applies the suppressions in `sources` to `findings`. `dr000` is DR000's effective
/// severity, or `None` when configuration turned DR000 off. Expired suppressions do not
/// suppress; nothing else about them is reported (see [`apply_with`]).
pub fn apply(findings: Vec<Finding>, sources: &Sources, dr000: Option<Severity>) -> Outcome {
    apply_with(findings, sources, &Checks::reasonless_only(dr000))
}

/// Applies the suppressions in `sources` to `findings` and reports on the suppressions as
/// `checks` asks: without a reason (DR000), expired (DR900), unused (DR901).
pub fn apply_with(mut findings: Vec<Finding>, sources: &Sources, checks: &Checks<'_>) -> Outcome {
    let today = checks.today;
    let mut files: crate::path_map::PathMap<Option<FileSuppressions>> = Default::default();
    let load = |file: &Path| {
        sources
            .get(file)
            .filter(|text| text.contains("drlint:ignore"))
            .map(FileSuppressions::new)
    };
    // For DR000: which finding first used each suppression (for its resource address).
    let mut first_use: BTreeMap<(PathBuf, usize), String> = BTreeMap::new();
    // Each suppressed finding's index, with the suppression's reason.
    let mut hits: Vec<(usize, Option<String>)> = Vec::new();
    // The last file looked up when it has no suppression: findings come grouped by file,
    // and most files have none.
    let mut quiet: Option<&Path> = None;
    for (index, finding) in findings.iter().enumerate() {
        let plain = finding.suppress_at.is_empty();
        if plain && quiet.is_some_and(|q| q.as_os_str() == finding.file.as_os_str()) {
            continue;
        }
        let entry = files.get_or_insert_with(&finding.file, || load(&finding.file));
        if plain && entry.is_none() {
            quiet = Some(&finding.file);
            continue;
        }
        let mut hit = entry
            .as_mut()
            .and_then(|s| s.find(finding, today).map(|i| (finding.file.clone(), i)));
        // A comment above a `module` block covers what its module finds.
        for (file, line) in &finding.suppress_at {
            if hit.is_some() {
                break;
            }
            let entry = files.get_or_insert_with(file, || load(file));
            hit = entry
                .as_mut()
                .and_then(|s| s.find_at(*line, finding.rule, today))
                .map(|i| (file.clone(), i));
        }
        let Some((file, i)) = hit else {
            continue;
        };
        let reason = files
            .get(&file)
            .and_then(|s| s.as_ref())
            .and_then(|s| s.all[i].reason.clone());
        first_use
            .entry((file, i))
            .or_insert_with(|| finding.resource.clone());
        hits.push((index, reason));
    }
    for file in checks.files {
        files.get_or_insert_with(file, || load(file));
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
    if let Some(severity) = checks.reasonless {
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
    if let Some(severity) = checks.malformed {
        for file in checks.files {
            let Some(text) = sources.get(file) else {
                continue;
            };
            let parsed = match files.get(file) {
                Some(Some(s)) => s.all.clone(),
                _ => parse(text),
            };
            for m in malformed::find(text, &parsed) {
                outcome.kept.push(malformed_finding(file, m, severity));
            }
        }
    }
    let judged: crate::path_map::PathSet = checks.files.iter().cloned().collect();
    for (file, entry) in files.iter() {
        let Some(s) = entry else { continue };
        for (i, sup) in s.all.iter().enumerate() {
            if let (Some(severity), Some(until)) = (checks.expired, &sup.until) {
                if let Some(f) = expired_finding(file, sup, until, today, severity) {
                    outcome.kept.push(f);
                }
            }
            // Unused: only where the report covers the whole file, for rules that ran.
            let Some(severity) = checks.unused else {
                continue;
            };
            if !judged.contains(file) || is_expired(sup, today) {
                continue;
            }
            let unused: Vec<&str> = sup
                .codes
                .iter()
                .map(String::as_str)
                .filter(|c| !s.used_codes[i].contains(*c))
                .filter(|c| {
                    checks.active.contains(c)
                        || (checks.malformed.is_none() && !is_known_code(c, checks.active))
                })
                .filter(|c| ![CODE, EXPIRED_CODE, UNUSED_CODE, MALFORMED_CODE].contains(c))
                .collect();
            if !unused.is_empty() {
                outcome
                    .kept
                    .push(unused_finding(file, sup, &unused, checks, severity));
            }
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

/// Whether `code` names a drlint rule: one that ran, or one of the catalog.
fn is_known_code(code: &str, active: &[&str]) -> bool {
    active.contains(&code)
        || crate::rules::lookup(code).is_some()
        || RULES.iter().any(|r| r.code == code)
}

fn at_comment(sup: &Suppression) -> Location {
    Location {
        line: sup.line,
        column: sup.column,
        start: sup.start,
        end: sup.end,
    }
}

fn expired_finding(
    file: &Path,
    sup: &Suppression,
    until: &Result<Day, String>,
    today: Day,
    severity: Severity,
) -> Option<Finding> {
    let codes = sup.codes.join(",");
    let message = match until {
        Ok(day) if *day < today => format!(
            "`drlint:ignore {codes}` expired on {:04}-{:02}-{:02}: it no longer suppresses; fix the finding or decide again with a new date",
            day.0, day.1, day.2
        ),
        Ok(_) => return None,
        Err(text) => format!(
            "`until={text}` is not a date: write `until=YYYY-MM-DD` (the suppression is applied without an end)"
        ),
    };
    Some(Finding {
        rule: EXPIRED_CODE,
        name: EXPIRED_RULE.name,
        severity,
        resource: String::new(),
        file: file.to_path_buf(),
        location: at_comment(sup),
        block_line: sup.line,
        message,
        fix: None,
        suppress_at: Vec::new(),
        resource_file: None,
    })
}

fn unused_finding(
    file: &Path,
    sup: &Suppression,
    unused: &[&str],
    checks: &Checks<'_>,
    severity: Severity,
) -> Finding {
    let unknown: Vec<&str> = unused
        .iter()
        .copied()
        .filter(|c| !is_known_code(c, checks.active))
        .collect();
    let message = if unknown.is_empty() {
        format!(
            "`drlint:ignore {}` suppresses nothing here: remove it (or the code{})",
            unused.join(","),
            if unused.len() == 1 { "" } else { "s" }
        )
    } else {
        format!(
            "`drlint:ignore {}` names no drlint rule: see `drlint rules` for the codes",
            unknown.join(",")
        )
    };
    Finding {
        rule: UNUSED_CODE,
        name: UNUSED_RULE.name,
        severity,
        resource: String::new(),
        file: file.to_path_buf(),
        location: at_comment(sup),
        block_line: sup.line,
        message,
        fix: None,
        suppress_at: Vec::new(),
        resource_file: None,
    }
}

fn malformed_finding(file: &Path, m: malformed::Malformed, severity: Severity) -> Finding {
    Finding {
        rule: MALFORMED_CODE,
        name: MALFORMED_RULE.name,
        severity,
        resource: String::new(),
        file: file.to_path_buf(),
        location: Location {
            line: m.line,
            column: m.column,
            start: m.start,
            end: m.end,
        },
        block_line: m.line,
        message: m.message,
        fix: None,
        suppress_at: Vec::new(),
        resource_file: None,
    }
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
        suppress_at: Vec::new(),
        resource_file: None,
    }
}

/// Takes the edits off fixes that a suppressed finding shares (the same rule at the same
/// place: one block, or one variable default, seen through several module instances):
/// applying them would override the instance whose finding is suppressed.
pub fn keep_suppressed_instances(findings: &mut [Finding], suppressed: &[Suppressed]) {
    if suppressed.is_empty() {
        return;
    }
    // By rule and place: a lookup per finding, not a scan of the suppressed ones.
    let mut at: std::collections::HashMap<(&str, usize, usize), Vec<&Finding>> =
        std::collections::HashMap::new();
    for s in suppressed {
        let key = (
            s.finding.rule,
            s.finding.location.start,
            s.finding.location.end,
        );
        at.entry(key).or_default().push(&s.finding);
    }
    for f in findings.iter_mut() {
        let Some(fix) = f.fix.as_mut().filter(|x| !x.edits.is_empty()) else {
            continue;
        };
        let key = (f.rule, f.location.start, f.location.end);
        let Some(other) = at.get(&key).and_then(|list| {
            list.iter()
                .find(|s| s.file == f.file && s.resource != f.resource)
        }) else {
            continue;
        };
        fix.edits.clear();
        fix.applicability = Applicability::Unsafe;
        fix.description = format!(
            "{} (not applied: it would also change {}, whose finding is suppressed)",
            fix.description, other.resource
        );
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
    fn until_dates_are_calendar_days_and_leave_the_reason() {
        let s = parse("# drlint:ignore DR003 until=2027-03-31 cut-over in Q1\n");
        assert_eq!(s[0].until, Some(Ok((2027, 3, 31))));
        assert_eq!(s[0].reason.as_deref(), Some("cut-over in Q1"));
        let s = parse("# drlint:ignore DR003 until=2028-02-29\n");
        assert_eq!(s[0].until, Some(Ok((2028, 2, 29))));
        assert_eq!(s[0].reason, None);
        for bad in ["2027-02-29", "2027-13-01", "27-01-01", "2027-1-1", "soon"] {
            let s = parse(&format!("# drlint:ignore DR003 until={bad} why\n"));
            assert_eq!(s[0].until, Some(Err(bad.to_string())), "{bad}");
        }
        let s = parse("# drlint:ignore DR003 why, until=2027-03-31 is just words\n");
        assert_eq!(s[0].until, None);
    }

    #[test]
    fn days_since_the_epoch_are_calendar_days() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_790), (2026, 12, 3));
        assert_eq!(civil_from_days(-1), (1969, 12, 31));
        assert_eq!(civil_from_days(20_818), (2026, 12, 31));
        assert_eq!(civil_from_days(20_819), (2027, 1, 1));
        assert_eq!(civil_from_days(21_243), (2028, 2, 29));
        assert_eq!(civil_from_days(21_244), (2028, 3, 1));
        assert!(today() >= (2026, 1, 1));
    }

    #[test]
    fn a_suppression_holds_through_its_last_day_and_expires_the_next() {
        let year_end = &parse("# drlint:ignore DR003 until=2026-12-31 cut-over\n")[0];
        assert!(!is_expired(year_end, (2026, 12, 31)));
        assert!(is_expired(year_end, (2027, 1, 1)));
        let leap = &parse("# drlint:ignore DR003 until=2028-02-29 cut-over\n")[0];
        assert!(!is_expired(leap, (2028, 2, 29)));
        assert!(is_expired(leap, (2028, 3, 1)));
        let month_end = &parse("# drlint:ignore DR003 until=2027-04-30 cut-over\n")[0];
        assert!(!is_expired(month_end, (2027, 4, 30)));
        assert!(is_expired(month_end, (2027, 5, 1)));
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
                suppress_at: Vec::new(),
                resource_file: None,
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
            suppress_at: Vec::new(),
            resource_file: None,
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

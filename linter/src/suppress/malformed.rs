//! DR902 `malformed-suppression`: comments meant as a suppression that are none, so the
//! finding they were written for is still reported and nobody is told why.
//!
//! - another spelling of the directive: `# drlint-ignore DR003`, `# drlint:ignore=DR003`,
//!   `// drlint:disable`, `# drlint ignore`, `# DRLINT:IGNORE`;
//! - a directive that names no rule: `# drlint:ignore legacy database`;
//! - a rule's name where its code belongs: `# drlint:ignore missing-deletion-protection`;
//! - a code that is no drlint rule: `DR303` (or a name that is none: `missing-deletion-protect`).
//!
//! Each message says what to write instead, with the closest rule when one is close.

use super::{comment_start, is_code, numbered_lines, rule_code, Suppression};

/// The verbs people write after a linter's name to silence it (ruff, tflint, eslint,
/// checkov, tfsec).
const VERBS: [&str; 7] = [
    "ignore", "disable", "skip", "noqa", "nolint", "suppress", "allow",
];

/// One malformed suppression: where the comment is (1-based line, character column, byte
/// range) and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    /// 1-based line.
    pub line: u32,
    /// 1-based column (characters) where the comment starts.
    pub column: u32,
    /// Byte offset of the comment start.
    pub start: usize,
    /// Byte offset of the end of the comment line.
    pub end: usize,
    /// What is wrong and how to write it.
    pub message: String,
}

/// The malformed suppressions of a file. `parsed` are its well-formed `drlint:ignore`
/// comments (from [`super::parse`]), judged for their codes.
pub fn find(source: &str, parsed: &[Suppression]) -> Vec<Malformed> {
    let mut out = Vec::new();
    for (number, line_start, line) in numbered_lines(source) {
        let Some(at) = find_ascii_ci(line, "drlint") else {
            continue;
        };
        let Some(comment_at) = comment_start(line, at) else {
            continue;
        };
        let message = match parsed.iter().find(|s| s.line == number) {
            Some(sup) => well_formed_problem(line, at, sup),
            None => lookalike_problem(line, at),
        };
        if let Some(message) = message {
            out.push(Malformed {
                line: number,
                column: u32::try_from(line[..comment_at].chars().count() + 1).unwrap_or(u32::MAX),
                start: line_start + comment_at,
                end: line_start + line.len(),
                message,
            });
        }
    }
    out
}

/// A `drlint:ignore` comment that names no rule, a rule by its name, or a code that is none.
fn well_formed_problem(line: &str, at: usize, sup: &Suppression) -> Option<String> {
    let marker = marker(line, at);
    let unknown: Vec<&String> = sup
        .codes
        .iter()
        .filter(|c| rule_code(c).is_none())
        .collect();
    if let Some(code) = unknown.first() {
        return Some(format!(
            "`{code}` is not a drlint rule, so this comment suppresses nothing for it{}: see `drlint rules` for the codes",
            did_you_mean(code)
        ));
    }
    // The first word after the codes: a rule's name written where a code belongs
    // (`DR003, skip-final-snapshot` or a name alone) is no code, so it starts the reason.
    let first = sup
        .reason
        .as_deref()
        .and_then(|r| r.split([' ', ',', '\t']).next())
        .unwrap_or("");
    if let Some(code) = rule_code(first).filter(|_| !is_code(first)) {
        let mut codes = sup.codes.clone();
        codes.push(code.to_string());
        return Some(format!(
            "`{first}` is the name of {code}: suppressions name rules by code, so this comment does not suppress {code}: write `{marker} drlint:ignore {} <reason>`",
            codes.join(",")
        ));
    }
    if !sup.codes.is_empty() {
        return None;
    }
    let hint = if first.is_empty() {
        String::new()
    } else {
        did_you_mean(first)
    };
    Some(format!(
        "`drlint:ignore` names no rule, so it suppresses nothing{hint}: write `{marker} drlint:ignore <CODE> <reason>` with the rule's code (`drlint rules`)"
    ))
}

/// A comment that mentions drlint with a suppression verb but is not `drlint:ignore`.
fn lookalike_problem(line: &str, at: usize) -> Option<String> {
    let after = &line[at + "drlint".len()..];
    let separators = after
        .find(|c: char| !matches!(c, ':' | '-' | '_' | ' ' | '\t'))
        .unwrap_or(after.len());
    let rest = &after[separators..];
    let verb = VERBS.iter().find(|v| {
        rest.len() >= v.len()
            && rest[..v.len()].eq_ignore_ascii_case(v)
            // A whole word: `drlint ignores modules under .terraform` is prose.
            && !rest[v.len()..].starts_with(|c: char| c.is_ascii_alphabetic())
    })?;
    let written_end = at + "drlint".len() + separators + verb.len();
    // The directive as written, with what follows it up to a space (`drlint:ignore=DR003`).
    let tail = &line[written_end..];
    let suffix_end = tail.find(char::is_whitespace).unwrap_or(tail.len());
    let (suffix, after_suffix) = tail.split_at(suffix_end);
    let written = &line[at..written_end];
    // Codes glued on with `=` or `:` (`drlint:ignore=DR003`, `tflint-ignore: x` habits).
    let glued = suffix.trim_start_matches(['=', ':']);
    let words = format!("{glued} {after_suffix}");
    let mut codes = Vec::new();
    for word in words.split([' ', ',', '\t']).filter(|w| !w.is_empty()) {
        match rule_code(word) {
            Some(code) => codes.push(code.to_string()),
            None => break,
        }
    }
    // `drlint skip for now` is prose unless a rule follows; `drlint-skip`, `drlint:skip`
    // are meant as directives whatever follows.
    let spaced = after[..separators].chars().all(char::is_whitespace);
    if spaced && codes.is_empty() && suffix.is_empty() {
        return None;
    }
    let marker = marker(line, at);
    if suffix.starts_with(['-', '_']) && !suffix.trim_start_matches(['-', '_']).is_empty() {
        // `drlint:ignore-file`, `drlint-disable-next-line`: a form drlint does not have.
        return Some(format!(
            "`{written}{suffix}` is not a drlint directive, so this comment suppresses nothing: drlint suppresses per block or line with `{marker} drlint:ignore <CODE> <reason>` above it; leave whole files out with `exclude` in .drlint.toml or `--exclude`"
        ));
    }
    let codes = if codes.is_empty() {
        "<CODE>".to_string()
    } else {
        codes.join(",")
    };
    Some(format!(
        "`{written}{suffix}` is not a drlint directive, so this comment suppresses nothing: write `{marker} drlint:ignore {codes} <reason>`"
    ))
}

/// The comment marker to suggest: `//` where the comment is one, else `#`.
fn marker(line: &str, at: usize) -> &'static str {
    match comment_start(line, at.min(line.len())).map(|i| &line[i..]) {
        Some(c) if c.starts_with("//") => "//",
        _ => "#",
    }
}

/// `: did you mean DR003 (missing-deletion-protection)?` when a rule is close to `word`.
fn did_you_mean(word: &str) -> String {
    let upper = word.to_ascii_uppercase();
    let rules = crate::rules::RULES
        .iter()
        .map(|m| (m.code, m.name))
        .chain(super::RULES.iter().map(|r| (r.code, r.name)));
    let best = rules
        .map(|(code, name)| {
            let distance = if is_code(word) || upper.starts_with("DR") {
                distance(&upper, code)
            } else {
                distance(&word.to_ascii_lowercase(), name)
            };
            (distance, code, name)
        })
        .min();
    match best {
        Some((d, code, name)) if d <= 2 || (d <= 4 && d * 4 <= word.len()) => {
            format!(" (did you mean {code}, {name}?)")
        }
        _ => String::new(),
    }
}

/// Levenshtein distance between two short ASCII words.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut last = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let old = row[j + 1];
            row[j + 1] = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(last + usize::from(ca != *cb));
            last = old;
        }
    }
    row[b.len()]
}

/// The first occurrence of `needle` (ASCII) in `hay`, ignoring ASCII case.
fn find_ascii_ci(hay: &str, needle: &str) -> Option<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    (0..=h.len().checked_sub(n.len())?).find(|&i| h[i..i + n.len()].eq_ignore_ascii_case(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn messages(source: &str) -> Vec<String> {
        find(source, &super::super::parse(source))
            .into_iter()
            .map(|m| m.message)
            .collect()
    }

    #[test]
    fn lookalike_directives_say_how_to_write_them() {
        for (comment, want) in [
            (
                "# drlint-ignore DR003 scratch",
                "write `# drlint:ignore DR003 <reason>`",
            ),
            (
                "# drlint:ignore=DR003",
                "write `# drlint:ignore DR003 <reason>`",
            ),
            (
                "// drlint:disable DR005",
                "write `// drlint:ignore DR005 <reason>`",
            ),
            (
                "# drlint ignore DR003,DR005",
                "write `# drlint:ignore DR003,DR005 <reason>`",
            ),
            (
                "# DRLINT:IGNORE DR003 x",
                "write `# drlint:ignore DR003 <reason>`",
            ),
            (
                "# drlint:ignore=missing-deletion-protection",
                "write `# drlint:ignore DR003 <reason>`",
            ),
            ("# drlint:ignore-file", "`exclude`"),
            (
                "// drlint:disable",
                "write `// drlint:ignore <CODE> <reason>`",
            ),
        ] {
            let got = messages(&format!("{comment}\nresource \"a\" \"b\" {{}}\n"));
            assert_eq!(got.len(), 1, "{comment}: {got:?}");
            assert!(got[0].contains(want), "{comment}: {}", got[0]);
            assert!(got[0].contains("suppresses nothing"), "{}", got[0]);
        }
    }

    #[test]
    fn a_rule_name_says_its_code() {
        let got = messages("# drlint:ignore missing-deletion-protection scratch\n");
        assert!(
            got[0].contains("is the name of DR003")
                && got[0].contains("write `# drlint:ignore DR003 <reason>`"),
            "{got:?}"
        );
        let got = messages("// drlint:ignore DR005, skip-final-snapshot scratch\n");
        assert!(
            got[0].contains("write `// drlint:ignore DR005,DR006 <reason>`"),
            "{got:?}"
        );
    }

    #[test]
    fn codes_and_names_that_are_no_rule_get_the_closest() {
        let got = messages("# drlint:ignore DR303 typo\n");
        assert!(got[0].contains("did you mean DR003"), "{got:?}");
        let got = messages("# drlint:ignore missing-deletion-protect scratch\n");
        assert!(
            got[0].contains("names no rule") && got[0].contains("did you mean DR003"),
            "{got:?}"
        );
        let got = messages("# drlint:ignore legacy database\n");
        assert!(got[0].contains("names no rule"), "{got:?}");
        assert!(!got[0].contains("did you mean"), "{got:?}");
    }

    #[test]
    fn well_formed_suppressions_and_prose_are_fine() {
        for ok in [
            "# drlint:ignore DR003 scratch\n",
            "# drlint:ignore DR003, DR006 scratch\n",
            "# drlint found this; see docs/drlint.md\n",
            "# drlint ignores modules under .terraform\n",
            "# drlint skip for now, see the runbook\n",
            "# drlint allows this in staging\n",
            "resource \"a\" \"b\" { name = \"drlint-ignore\" }\n",
        ] {
            assert_eq!(messages(ok), Vec::<String>::new(), "{ok}");
        }
    }
}

//! Safe fixes: rules describe them as byte edits computed from hcl-edit spans; [`apply`]
//! writes them into the file text, so everything else (formatting, comments) is untouched.

use crate::context::{Attr, Context, Node, Resource};
use crate::finding::{Applicability, Edit, Finding, Fix};

/// How many times `--fix` lints and applies while the files keep changing: a pass skips
/// edits that overlap an earlier one, and the next pass applies them.
pub const PASSES: usize = 4;

/// Whether `--fix` applies `finding`'s fix: a safe one with edits.
pub fn applicable(finding: &Finding) -> bool {
    finding
        .fix
        .as_ref()
        .is_some_and(|x| x.applicability == Applicability::Safe && !x.edits.is_empty())
}

/// Applies the safe fixes of `findings` to `source`. A fix is applied whole or not at all:
/// one that overlaps an edit kept earlier is skipped (the CLI lints again and applies it
/// in the next pass), and so is a second fix of the same rule at the same place (one block
/// seen through several module instances proposes one fix per instance). Insertions at
/// the same offset are kept in the order of `findings`.
pub fn apply(source: &str, findings: &[Finding]) -> String {
    let valid = |e: &Edit| {
        e.start <= e.end
            && e.end <= source.len()
            && source.is_char_boundary(e.start)
            && source.is_char_boundary(e.end)
    };
    let mut places = std::collections::HashSet::new();
    let mut kept: Vec<&Edit> = Vec::new();
    for f in findings {
        let Some(fix) = f.fix.as_ref() else {
            continue;
        };
        if fix.applicability != Applicability::Safe || !fix.edits.iter().all(valid) {
            continue;
        }
        if fix
            .edits
            .iter()
            .any(|e| kept.iter().any(|k| k != &e && conflict(e, k)))
        {
            continue;
        }
        if !places.insert((f.rule, f.location.start, f.location.end)) {
            continue;
        }
        for e in &fix.edits {
            if !kept.contains(&e) {
                kept.push(e);
            }
        }
    }
    // Stable: insertions at one offset keep their order.
    kept.sort_by_key(|e| (e.start, e.end));
    let mut out = source.to_string();
    for e in kept.iter().rev() {
        out.replace_range(e.start..e.end, &e.text);
    }
    out
}

/// Whether two different edits touch the same text: overlapping replacements, or an
/// insertion at the start of or inside a replaced range. Insertions at one offset do not
/// conflict (both lines are added).
fn conflict(a: &Edit, b: &Edit) -> bool {
    match (a.start == a.end, b.start == b.end) {
        (true, true) => false,
        (true, false) => b.start <= a.start && a.start < b.end,
        (false, true) => a.start <= b.start && b.start < a.end,
        (false, false) => a.start < b.end && b.start < a.end,
    }
}

/// `value` as an HCL quoted string: quotes, backslashes and control characters escaped,
/// `${` and `%{` doubled so that nothing is interpolated.
pub fn string_literal(value: &str) -> String {
    hcl_edit::expr::Expression::from(value).to_string()
}

/// A safe fix that sets `name = value_text` in `node` of `res`: replaces the value when the
/// attribute is written, else inserts a line before the block's closing brace.
pub fn set_attribute(
    ctx: &Context,
    res: &Resource,
    node: &Node,
    name: &str,
    value_text: &str,
    description: String,
) -> Option<Fix> {
    let edit = match node.attr(name) {
        Some(attr) => replace_value(attr, value_text),
        None => insert_attribute(ctx.source(&res.file)?, node, name, value_text)?,
    };
    Some(Fix {
        description,
        edits: vec![edit],
        applicability: Applicability::Safe,
    })
}

/// Replaces an attribute's value expression.
pub fn replace_value(attr: &Attr, value_text: &str) -> Edit {
    Edit {
        start: attr.value_loc.start,
        end: attr.value_loc.end,
        text: value_text.to_string(),
    }
}

/// Inserts `name = value` as the last line of a block body, after a blank line so that
/// `terraform fmt` has no `=` to re-align (the new line is its own group).
pub fn insert_attribute(source: &str, node: &Node, name: &str, value_text: &str) -> Option<Edit> {
    insert_lines(source, node, &[format!("{name} = {value_text}")])
}

/// Inserts lines (already formatted relative to the body's indentation) at the end of a
/// block body.
pub fn insert_lines(source: &str, node: &Node, lines: &[String]) -> Option<Edit> {
    let close = node.loc.end.checked_sub(1)?;
    if source.as_bytes().get(close) != Some(&b'}') {
        return None;
    }
    let open = node.loc.start + source.get(node.loc.start..close)?.find('{')?;
    let header_line_start = source[..node.loc.start].rfind('\n').map_or(0, |i| i + 1);
    let indent: String = source[header_line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect();
    let inner = format!("{indent}  ");
    let body_text = |out: &mut String| {
        for line in lines {
            for (i, l) in line.split('\n').enumerate() {
                if i > 0 || !out.is_empty() && !out.ends_with('\n') {
                    out.push('\n');
                }
                if !l.is_empty() {
                    out.push_str(&inner);
                }
                out.push_str(l);
            }
            out.push('\n');
        }
    };
    let between = &source[open + 1..close];
    if !between.contains('\n') {
        // `{}` or a one-line block: open it up.
        if !between.trim().is_empty() {
            return None;
        }
        let mut text = String::from("\n");
        body_text(&mut text);
        text.push_str(&indent);
        return Some(Edit {
            start: open + 1,
            end: close,
            text,
        });
    }
    let close_line_start = source[..close].rfind('\n')? + 1;
    if !source[close_line_start..close].trim().is_empty() {
        return None;
    }
    let before = source[open + 1..close_line_start].trim_end_matches(['\n', '\r', ' ', '\t']);
    let previous_blank = source[..close_line_start]
        .trim_end_matches('\n')
        .rsplit('\n')
        .next()
        .is_some_and(|l| l.trim().is_empty());
    let mut text = String::new();
    if !before.trim().is_empty() && !previous_blank {
        text.push('\n');
    }
    body_text(&mut text);
    Some(Edit {
        start: close_line_start,
        end: close_line_start,
        text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::finding::{Location, Severity};
    use std::path::PathBuf;

    /// A finding at a place of its own, with these edits as its fix.
    fn finding(edits: Vec<Edit>) -> Finding {
        static PLACES: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let place = PLACES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Finding {
            rule: "DR003",
            name: "x",
            severity: Severity::Error,
            resource: "a.b".into(),
            file: PathBuf::from("a.tf"),
            location: Location {
                start: place,
                end: place,
                ..Location::default()
            },
            block_line: 1,
            message: String::new(),
            fix: Some(Fix {
                description: String::new(),
                edits,
                applicability: Applicability::Safe,
            }),
            suppress_at: Vec::new(),
        }
    }

    #[test]
    fn edits_apply_back_to_front_and_overlaps_are_skipped() {
        let src = "abcdef";
        let out = apply(
            src,
            &[
                finding(vec![Edit {
                    start: 0,
                    end: 1,
                    text: "X".into(),
                }]),
                finding(vec![Edit {
                    start: 4,
                    end: 6,
                    text: "YZW".into(),
                }]),
                finding(vec![Edit {
                    start: 5,
                    end: 6,
                    text: "Q".into(),
                }]),
            ],
        );
        assert_eq!(out, "XbcdYZW");
    }

    #[test]
    fn a_fix_is_applied_whole_or_not_at_all() {
        let edit = |start, end, text: &str| Edit {
            start,
            end,
            text: text.into(),
        };
        let out = apply(
            "abcdef",
            &[
                finding(vec![edit(1, 3, "X")]),
                // Its second edit overlaps the first fix: none of it is applied.
                finding(vec![edit(5, 5, "Y"), edit(2, 2, "Z")]),
                // Insertions at one offset are both kept, in order.
                finding(vec![edit(6, 6, "1")]),
                finding(vec![edit(6, 6, "2")]),
            ],
        );
        assert_eq!(out, "aXdef12");
    }

    #[test]
    fn one_fix_per_rule_and_place() {
        // One block through two module instances: two fixes with different values.
        let mut a = finding(vec![Edit {
            start: 2,
            end: 2,
            text: "\"a-final\"".into(),
        }]);
        let mut b = a.clone();
        b.fix.as_mut().unwrap().edits[0].text = "\"b-final\"".into();
        a.location.start = 1;
        b.location.start = 1;
        assert_eq!(apply("{}", &[a, b]), "{}\"a-final\"");
    }

    #[test]
    fn string_literals_escape_quotes_and_templates() {
        assert_eq!(
            string_literal("a\"b\\c${d}%{e}\n"),
            r#""a\"b\\c$${d}%%{e}\n""#
        );
    }

    #[test]
    fn out_of_range_edits_are_ignored() {
        let out = apply(
            "ab",
            &[finding(vec![Edit {
                start: 1,
                end: 9,
                text: "X".into(),
            }])],
        );
        assert_eq!(out, "ab");
    }
}

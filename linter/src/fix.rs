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

/// Applies the safe fixes of `findings` to `source`. Edits that overlap an earlier one are
/// skipped (the CLI lints again and applies them in a second pass).
pub fn apply(source: &str, findings: &[Finding]) -> String {
    let mut edits: Vec<&Edit> = findings
        .iter()
        .filter_map(|f| f.fix.as_ref())
        .filter(|fix| fix.applicability == Applicability::Safe)
        .flat_map(|fix| fix.edits.iter())
        .filter(|e| e.start <= e.end && e.end <= source.len())
        .filter(|e| source.is_char_boundary(e.start) && source.is_char_boundary(e.end))
        .collect();
    edits.sort_by_key(|e| (e.start, e.end));
    let mut kept: Vec<&Edit> = Vec::new();
    for e in edits {
        if let Some(last) = kept.last() {
            let overlaps = e.start < last.end || (e.start == last.start && e.end > e.start);
            if overlaps || (e.start == last.start && e.end == last.end && e.text == last.text) {
                continue;
            }
        }
        kept.push(e);
    }
    let mut out = source.to_string();
    for e in kept.iter().rev() {
        out.replace_range(e.start..e.end, &e.text);
    }
    out
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

    fn finding(edits: Vec<Edit>) -> Finding {
        Finding {
            rule: "DR003",
            name: "x",
            severity: Severity::Error,
            resource: "a.b".into(),
            file: PathBuf::from("a.tf"),
            location: Location::default(),
            block_line: 1,
            message: String::new(),
            fix: Some(Fix {
                description: String::new(),
                edits,
                applicability: Applicability::Safe,
            }),
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

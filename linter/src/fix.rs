//! Safe fixes: rules describe them as byte edits computed from hcl-edit spans; [`apply`]
//! writes them into the file text, so everything else (formatting, comments) is untouched.

use std::path::PathBuf;

mod align;

use crate::context::{Attr, Context, Node, Resource};
use crate::decided::{self, Decided};
use crate::finding::RuleMeta;
use crate::finding::{Applicability, Edit, Finding, Fix, Location};

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
    write(source, &kept)
}

/// `source` with the `edits` (sorted, not overlapping) written in: inserted text takes the
/// file's line ending, lines inserted at one place form one group, and the `=` of the
/// chains holding inserted lines are realigned as `terraform fmt` aligns them.
fn write(source: &str, edits: &[&Edit]) -> String {
    let crlf = source
        .find('\n')
        .is_some_and(|i| source[..i].ends_with('\r'));
    let mut out = String::with_capacity(source.len() + 256);
    let mut inserted: Vec<std::ops::Range<usize>> = Vec::with_capacity(edits.len());
    let mut at = 0;
    let mut previous: Option<&Edit> = None;
    for e in edits {
        out.push_str(&source[at..e.start]);
        let mut text = e.text.as_str();
        // A second insertion at one place: no second blank line before it.
        if e.start == e.end
            && previous
                .is_some_and(|p| p.start == e.start && p.end == e.end && p.text.starts_with('\n'))
        {
            text = text.strip_prefix('\n').unwrap_or(text);
        }
        let start = out.len();
        if crlf {
            let mut last = '\0';
            for c in text.chars() {
                if c == '\n' && last != '\r' {
                    out.push('\r');
                }
                out.push(c);
                last = c;
            }
        } else {
            out.push_str(text);
        }
        // Each edit's lines: the one it starts on, and those it adds.
        inserted.push(start..out.len());
        at = e.end;
        previous = Some(e);
    }
    out.push_str(&source[at..]);
    // The lines that hold the start of an edit or begin inside written text (edits are
    // sorted, and so are line starts).
    let starts: Vec<usize> = std::iter::once(0)
        .chain(out.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut touched: Vec<usize> = Vec::new();
    for r in &inserted {
        let mut line = starts.partition_point(|&s| s <= r.start).max(1) - 1;
        touched.push(line);
        line += 1;
        while line < starts.len() && starts[line] < r.end {
            touched.push(line);
            line += 1;
        }
    }
    touched.dedup();
    match out.strip_prefix('\u{feff}') {
        // The byte-order mark is no part of the first line's text.
        Some(rest) => format!("\u{feff}{}", align::realign(rest, &touched)),
        None => align::realign(&out, &touched),
    }
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
/// attribute is written, else inserts a line before the block's closing brace. Only for a
/// value written as a literal: [`finding_setting`] decides where an expression is fixed.
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
    Some(safe(description, vec![edit]))
}

fn safe(description: String, edits: Vec<Edit>) -> Fix {
    Fix {
        description,
        edits,
        applicability: Applicability::Safe,
    }
}

/// The finding of rule `meta` on `res` at `at`, with a fix that makes attribute `name` of
/// `node` equal `value_text` where its value is decided ([`decided::of`]): the literal
/// written here or passed by the caller is replaced, a missing attribute is added, a
/// variable's literal default is changed when no caller sets the variable, a caller that
/// passes nothing gets the argument. Anything else (a local, a condition, a `.tfvars`
/// value) gets no edits, and the message says where the value comes from.
#[allow(clippy::too_many_arguments)]
pub fn finding_setting(
    ctx: &Context,
    meta: &RuleMeta,
    res: &Resource,
    node: &Node,
    name: &str,
    value_text: &str,
    at: Location,
    message: String,
    description: String,
) -> Finding {
    let Some(attr) = node.attr(name) else {
        let fix = set_attribute(ctx, res, node, name, value_text, description);
        return ctx.finding(meta, res, at, message, fix);
    };
    match decided::of(ctx, res, attr) {
        Decided::Here | Decided::Argument => {
            let fix = safe(description, vec![replace_value(attr, value_text)]);
            ctx.finding(meta, res, at, message, Some(fix))
        }
        Decided::Default(place) => {
            let message = format!("{message} (the default of {})", place.variable);
            let edit = Edit {
                start: place.value.start,
                end: place.value.end,
                text: value_text.to_string(),
            };
            let fix = safe(
                format!("{description} as the default of {}", place.variable),
                vec![edit],
            );
            // Made without the fix: a finding redirected to a caller's argument would
            // drop an edit that is not of that argument.
            let mut f = ctx.finding(meta, res, at, message, None);
            f.fix = Some(fix);
            move_to(&mut f, res, place.file, place.value, place.block_line);
            f
        }
        Decided::MissingArgument(call) => {
            let source = ctx.source(&call.file).unwrap_or_default();
            let line = format!("{} = {value_text}", call.variable);
            let edit = insert_lines_in(source, call.block, std::slice::from_ref(&line));
            let message = format!(
                "{message} (this module block passes no {}, so its default applies)",
                call.variable
            );
            let fix = edit.map(|e| safe(format!("pass {line} to the module"), vec![e]));
            let mut f = ctx.finding(meta, res, at, message, None);
            f.fix = fix;
            // At the block, as a resource's missing attribute is at its block.
            move_to(&mut f, res, call.file, call.block, call.block.line);
            f
        }
        Decided::Elsewhere(from) => {
            let fix = Fix {
                description: format!("{description} where the value is decided"),
                edits: Vec::new(),
                applicability: Applicability::Unsafe,
            };
            let mut f = ctx.finding(meta, res, at, format!("{message} ({from})"), Some(fix));
            // The caller's argument may be an expression: never written over.
            if let Some(fix) = &mut f.fix {
                fix.edits.clear();
            }
            f
        }
    }
}

/// A finding on `attr`'s value that `--fix` does not write (a judgement, such as how many
/// days to keep), said where the value is decided, as [`finding_setting`] says it: at a
/// variable's default or at the `module` block that passes nothing (a `# drlint:ignore`
/// above the resource still covers it); elsewhere at `at`, as it was.
pub fn finding_on_value(
    ctx: &Context,
    meta: &RuleMeta,
    res: &Resource,
    attr: &Attr,
    at: Location,
    message: String,
    fix: Option<Fix>,
) -> Finding {
    match decided::of(ctx, res, attr) {
        Decided::Default(place) => {
            let message = format!("{message} (the default of {})", place.variable);
            let mut f = ctx.finding(meta, res, at, message, fix);
            move_to(&mut f, res, place.file, place.value, place.block_line);
            f
        }
        Decided::MissingArgument(call) => {
            let message = format!(
                "{message} (this module block passes no {}, so its default applies)",
                call.variable
            );
            let mut f = ctx.finding(meta, res, at, message, fix);
            move_to(&mut f, res, call.file, call.block, call.block.line);
            f
        }
        // Said only where it is a place: "not declared" may be a variable of a JSON file,
        // which this lookup does not read, and an expression is already at `at`.
        Decided::Here | Decided::Argument | Decided::Elsewhere(_) => {
            ctx.finding(meta, res, at, message, fix)
        }
    }
}

/// Points `finding` where its value is decided; a `# drlint:ignore` above the resource
/// still covers it.
fn move_to(finding: &mut Finding, res: &Resource, file: PathBuf, at: Location, block_line: u32) {
    finding
        .suppress_at
        .push((res.file.clone(), res.header.line));
    finding.resource_file = Some(res.file.clone());
    finding.file = file;
    finding.location = at;
    finding.block_line = block_line;
    if crate::context::is_downloaded(&finding.file) {
        if let Some(fix) = &mut finding.fix {
            fix.edits.clear();
        }
    }
}

/// Replaces an attribute's value expression.
pub fn replace_value(attr: &Attr, value_text: &str) -> Edit {
    Edit {
        start: attr.value_loc.start,
        end: attr.value_loc.end,
        text: value_text.to_string(),
    }
}

/// The meta-arguments a resource added for `res` (a bucket's versioning) copies, so
/// that it configures the same instances through the same provider: `count` or
/// `for_each`, `provider`, and the AWS provider 6's per-resource `region`. Not
/// `depends_on` (the reference to `res` already orders the two, and `res`'s own
/// dependencies come before it) nor `lifecycle` (about `res`'s own replacement).
const FOLLOWED_META_ARGUMENTS: &[&str] = &["count", "for_each", "provider", "region"];

/// The first lines of the body of a resource added for `res`: its meta-arguments as
/// written (see [`FOLLOWED_META_ARGUMENTS`]), a blank line, then `bucket = <ADDRESS>.id`
/// indexed as `res` is (`[count.index]`, `[each.key]`). Lines are relative to the
/// body's indentation. `None` when a meta-argument cannot be copied (not on one line
/// nor a balanced multi-line expression at this indentation).
pub fn companion_body(ctx: &Context, res: &Resource, address: &str) -> Option<Vec<String>> {
    let src = ctx.source(&res.file)?;
    let mut lines = Vec::new();
    for (key, attr) in &res.body.attrs {
        if !FOLLOWED_META_ARGUMENTS.contains(&key.as_str()) {
            continue;
        }
        let text = src.get(attr.value_loc.start..attr.value_loc.end)?;
        lines.push(format!("{key} = {}", unindent(text, src, &res.body)));
    }
    let index = if res.body.attr("count").is_some() {
        "[count.index]"
    } else if res.body.attr("for_each").is_some() {
        "[each.key]"
    } else {
        ""
    };
    if res.expanded && index.is_empty() {
        return None;
    }
    if !lines.is_empty() {
        lines.push(String::new());
    }
    lines.push(format!("bucket = {address}{index}.id"));
    Some(lines)
}

/// A multi-line expression of `node`'s body with the body's indentation taken off its
/// continuation lines, so that it can be written in another body at the same depth.
fn unindent(text: &str, src: &str, node: &Node) -> String {
    let header_line_start = src[..node.loc.start]
        .rfind('\n')
        .map_or(node.loc.start, |i| i + 1);
    let indent = src[header_line_start..].len()
        - src[header_line_start..]
            .trim_start_matches([' ', '\t'])
            .len();
    let inner = indent + 2;
    text.replace("\r\n", "\n")
        .split('\n')
        .enumerate()
        .map(|(i, l)| {
            let strip = l.len() - l.trim_start_matches(' ').len();
            if i == 0 {
                l
            } else {
                &l[strip.min(inner)..]
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The text that adds `resource "KIND" "NAME" { BODY }` after `res`'s block (inserted at
/// the block's closing brace), at the block's indentation, after a blank line.
pub fn resource_after(
    src: &str,
    res: &Resource,
    kind: &str,
    name: &str,
    body: &[String],
) -> String {
    let header_line_start = src[..res.body.loc.start]
        .rfind('\n')
        .map_or(res.body.loc.start, |i| i + 1);
    let indent: String = src[header_line_start..]
        .chars()
        .take_while(|c| *c == ' ')
        .collect();
    let mut text = format!("\n\n{indent}resource \"{kind}\" \"{name}\" {{\n");
    for line in body {
        for l in line.split('\n') {
            if !l.is_empty() {
                text.push_str(&indent);
                text.push_str("  ");
            }
            text.push_str(l);
            text.push('\n');
        }
    }
    text.push_str(&indent);
    text.push('}');
    text
}

/// Inserts `name = value` as the last line of a block body, after a blank line so that
/// `terraform fmt` has no `=` to re-align (the new line is its own group).
pub fn insert_attribute(source: &str, node: &Node, name: &str, value_text: &str) -> Option<Edit> {
    insert_lines(source, node, &[format!("{name} = {value_text}")])
}

/// Inserts lines (already formatted relative to the body's indentation) at the end of a
/// block body.
pub fn insert_lines(source: &str, node: &Node, lines: &[String]) -> Option<Edit> {
    insert_lines_in(source, node.loc, lines)
}

/// [`insert_lines`] into the block at `block` (from its type name to its closing brace).
pub fn insert_lines_in(source: &str, block: Location, lines: &[String]) -> Option<Edit> {
    let close = block.end.checked_sub(1)?;
    if source.as_bytes().get(close) != Some(&b'}') {
        return None;
    }
    let open = block.start + source.get(block.start..close)?.find('{')?;
    // A block on the first line is at the top level: what precedes it there is at most
    // a byte-order mark (which the rules see as spaces).
    let header_line_start = source[..block.start]
        .rfind('\n')
        .map_or(block.start, |i| i + 1);
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
    // After a chain of one-line attributes at this indentation, the new lines join it
    // (realigned when written); after anything else they are a group of their own.
    let body_lines: Vec<&str> = source[open + 1..close_line_start].lines().collect();
    let joins = body_lines.len().checked_sub(1).is_some_and(|last| {
        align::chain(&body_lines, last).is_some()
            && matches!(align::classify(body_lines[last]),
                align::Line::Assign { key_start, .. } if body_lines[last][..key_start] == inner)
    });
    let mut text = String::new();
    if !before.trim().is_empty() && !previous_blank && !joins {
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
            resource_file: None,
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

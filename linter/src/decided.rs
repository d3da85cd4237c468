//! Where an attribute's value is decided, so that `--fix` writes a literal only over a
//! literal (or adds what is missing), never over an expression: `deletion_protection =
//! var.deletion_protection` in a shared module is decided by its callers or by the
//! variable's default, not in the module.

use std::path::{Path, PathBuf};

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::Span;

use crate::context::{Attr, Context, Resource};
use crate::eval::Value;
use crate::finding::Location;

/// Where the value of one attribute of one resource instance is decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decided {
    /// A literal written in the attribute: it is changed in place.
    Here,
    /// A literal the module's caller passes ([`Attr::origin`]): changed there (the finding
    /// already points at it).
    Argument,
    /// The literal default of a variable that nobody sets: changed there.
    Default(Place),
    /// A caller that passes nothing for the variable while another caller sets it: the
    /// argument is added to its `module` block.
    MissingArgument(Call),
    /// No literal decides it (a local, a condition, a function, a variable set in a
    /// `.tfvars` file): no fix, and where the value comes from.
    Elsewhere(String),
}

/// A variable's `default` attribute.
#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// The file declaring the variable.
    pub file: PathBuf,
    /// The default's value expression.
    pub value: Location,
    /// The `variable` block's header line (a `# drlint:ignore` above it covers it).
    pub block_line: u32,
    /// `var.NAME`.
    pub variable: String,
}

/// A `module` block that passes nothing for a variable.
#[derive(Debug, Clone, PartialEq)]
pub struct Call {
    /// The caller's file.
    pub file: PathBuf,
    /// The block, from `module` to its closing brace.
    pub block: Location,
    /// The module's variable to pass.
    pub variable: String,
}

/// Where `attr` of `res` is decided.
pub fn of(ctx: &Context, res: &Resource, attr: &Attr) -> Decided {
    let Some(text) = ctx.expression_text(res, attr).map(str::trim) else {
        return Decided::Elsewhere("its expression cannot be read".into());
    };
    if let Some(origin) = &attr.origin {
        let passed = ctx
            .source(&origin.file)
            .and_then(|s| s.get(origin.value_loc.start..origin.value_loc.end))
            .map(str::trim);
        let passed_by = || shown(&origin.file, origin.block_line, &origin.file);
        return match passed {
            Some(p) if is_literal(p) => Decided::Argument,
            // The root module's own variable, passed on: decided by its default.
            Some(p) if res.calls.len() == 1 && bare_reference(p, "var").is_some() => {
                let variable = bare_reference(p, "var").unwrap_or_default();
                match default_of(ctx, &origin.file, variable, &attr.value, &origin.file) {
                    Ok(place) => Decided::Default(place),
                    Err(why) => Decided::Elsewhere(format!(
                        "the value is `{p}`, passed by the module block at {}: {why}",
                        passed_by()
                    )),
                }
            }
            Some(p) => Decided::Elsewhere(format!(
                "the value is `{}`, passed by the module block at {}",
                one_line(p),
                passed_by()
            )),
            None => Decided::Elsewhere("its caller's argument cannot be read".into()),
        };
    }
    if is_literal(text) {
        return Decided::Here;
    }
    let Some(variable) = bare_reference(text, "var") else {
        return Decided::Elsewhere(elsewhere(ctx, res, text));
    };
    let place = match default_of(ctx, &res.file, variable, &attr.value, &res.file) {
        Ok(place) => place,
        Err(why) => return Decided::Elsewhere(why),
    };
    if let Some(&(ref caller, line)) = res.calls.last() {
        // Instances of this block whose caller passes the variable.
        let set_by_a_caller = ctx.resources.iter().any(|r| {
            r.file == res.file
                && r.header.start == res.header.start
                && r.address != res.address
                && r.body
                    .attrs
                    .iter()
                    .any(|(_, a)| a.loc == attr.loc && a.origin.is_some())
        });
        if set_by_a_caller {
            return match module_block_at(ctx, caller, line) {
                Some(block) => Decided::MissingArgument(Call {
                    file: caller.clone(),
                    block,
                    variable: variable.to_string(),
                }),
                None => Decided::Elsewhere(format!(
                    "{}'s default, as the module block at {} passes nothing",
                    place.variable,
                    shown(caller, line, &res.file)
                )),
            };
        }
    }
    Decided::Default(place)
}

/// The literal default of variable `name` of the module `file` is in, when `value` is
/// that default; else why not, naming the declaration (shown relative to `finding_file`).
fn default_of(
    ctx: &Context,
    file: &Path,
    name: &str,
    value: &Value,
    finding_file: &Path,
) -> Result<Place, String> {
    let Some((file, block)) = module_block(ctx, file, "variable", name) else {
        return Err(format!("var.{name} is not declared in this module"));
    };
    let source = ctx.source(&file).unwrap_or_default();
    let declared_at = line_of(source, block.span().map_or(0, |s| s.start));
    let at = shown(&file, declared_at, finding_file);
    let Some(default) = block.body.get_attribute("default") else {
        return Err(format!("var.{name}, declared at {at}, has no default"));
    };
    let span = default.value.span().unwrap_or(0..0);
    let default_text = source.get(span.clone()).unwrap_or_default().trim();
    if !is_literal(default_text) {
        return Err(format!(
            "var.{name}'s default at {at} is the expression `{}`",
            one_line(default_text)
        ));
    }
    if literal_value(default_text).as_ref() != Some(value) {
        return Err(format!(
            "var.{name}, declared at {at}, is set outside its default by a .tfvars file or -var"
        ));
    }
    Ok(Place {
        value: location(source, span.start, span.end),
        file,
        block_line: declared_at,
        variable: format!("var.{name}"),
    })
}

/// Where a value that is neither a literal nor a variable comes from, for the message.
fn elsewhere(ctx: &Context, res: &Resource, text: &str) -> String {
    if let Some(local) = bare_reference(text, "local") {
        let found = ctx
            .sources_in(module_dir(&res.file))
            .into_iter()
            .find_map(|(file, source)| {
                let body = source.parse::<Body>().ok()?;
                let attr = body
                    .get_blocks("locals")
                    .find_map(|b| b.body.get_attribute(local).and_then(|a| a.span()))?;
                Some(shown(file, line_of(source, attr.start), &res.file))
            });
        if let Some(at) = found {
            return format!("the value comes from local.{local} at {at}");
        }
    }
    format!("the value comes from the expression `{}`", one_line(text))
}

/// The directory of the module `file` belongs to.
fn module_dir(file: &Path) -> &Path {
    file.parent().unwrap_or(Path::new(""))
}

/// The first block `kind "label"` (a `variable`, a `locals`) among the `.tf` files of
/// the module `file` is in.
fn module_block(ctx: &Context, file: &Path, kind: &str, label: &str) -> Option<(PathBuf, Block)> {
    ctx.sources_in(module_dir(file))
        .into_iter()
        .find_map(|(path, source)| {
            let body = source.parse::<Body>().ok()?;
            let block = body.into_blocks().find(|b| {
                b.has_ident(kind) && b.labels.first().is_some_and(|l| l.as_str() == label)
            })?;
            Some((path.to_path_buf(), block))
        })
}

/// The `module` block whose header is on `line` of `file`.
fn module_block_at(ctx: &Context, file: &Path, line: u32) -> Option<Location> {
    let source = ctx.source(file)?;
    let body = source.parse::<Body>().ok()?;
    body.into_blocks()
        .filter(|b| b.has_ident("module"))
        .filter_map(|b| b.span())
        .find(|s| line_of(source, s.start) == line)
        .map(|s| location(source, s.start, s.end))
}

/// Whether `text` is a literal: a boolean, number, string without interpolation, or null.
pub fn is_literal(text: &str) -> bool {
    literal_value(text).is_some()
}

fn literal_value(text: &str) -> Option<Value> {
    match text.trim().parse::<Expression>().ok()? {
        Expression::Bool(b) => Some(Value::Bool(*b.value())),
        Expression::Number(n) => n.value().as_f64().map(Value::Number),
        Expression::String(s) => Some(Value::String(s.value().to_string())),
        Expression::Null(_) => Some(Value::Null),
        _ => None,
    }
}

/// `NAME` when `text` is exactly `ROOT.NAME` (`var.protect`, `local.protect`).
fn bare_reference<'a>(text: &'a str, root: &str) -> Option<&'a str> {
    let expr = text.parse::<Expression>().ok()?;
    let Expression::Traversal(t) = &expr else {
        return None;
    };
    let (Expression::Variable(v), [op]) = (&t.expr, t.operators.as_slice()) else {
        return None;
    };
    if v.value().as_str() != root || !matches!(op.value(), TraversalOperator::GetAttr(_)) {
        return None;
    }
    text.trim().strip_prefix(root)?.strip_prefix('.')
}

/// `file:line` for a message about a finding in `finding_file`: the file name alone in
/// the same directory, else the path as found.
fn shown(file: &Path, line: u32, finding_file: &Path) -> String {
    match file.file_name() {
        Some(name) if file.parent() == finding_file.parent() => {
            format!("{}:{line}", name.to_string_lossy())
        }
        _ => format!("{}:{line}", file.display()),
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn line_of(text: &str, offset: usize) -> u32 {
    let offset = offset.min(text.len());
    memchr::memchr_iter(b'\n', &text.as_bytes()[..offset]).count() as u32 + 1
}

fn location(text: &str, start: usize, end: usize) -> Location {
    let start = start.min(text.len());
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    Location {
        line: line_of(text, start),
        column: text[line_start..start].chars().count() as u32 + 1,
        start,
        end,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_references() {
        for l in ["true", "false", "7", "\"orders\"", "null", " 1.5 "] {
            assert!(is_literal(l), "{l}");
        }
        for e in [
            "var.x",
            "\"${var.x}\"",
            "local.y ? true : false",
            "[1]",
            "try(a, 1)",
        ] {
            assert!(!is_literal(e), "{e}");
        }
        assert_eq!(bare_reference("var.protect", "var"), Some("protect"));
        assert_eq!(bare_reference("var.protect.x", "var"), None);
        assert_eq!(bare_reference("local.protect", "var"), None);
        assert_eq!(bare_reference("local.protect", "local"), Some("protect"));
    }
}

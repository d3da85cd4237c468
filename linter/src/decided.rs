//! Where an attribute's value is decided, so that `--fix` writes a literal only over a
//! literal (or adds what is missing), never over an expression: `deletion_protection =
//! var.deletion_protection` in a shared module is decided by its callers or by the
//! variable's default, not in the module.

use std::cell::RefCell;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Block, Body};
use hcl_edit::template::Element;
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
        // No configuration text (a plan's values): nothing tells where it was decided,
        // and a fix has no text to edit anyway.
        return Decided::Here;
    };
    if let Some(origin) = &attr.origin {
        // A literal passed by a caller: the finding already points at it.
        let passed = ctx
            .source(&origin.file)
            .and_then(|s| s.get(origin.value_loc.start..origin.value_loc.end));
        if passed.is_some_and(is_literal) {
            return Decided::Argument;
        }
    } else if is_literal(text) {
        return Decided::Here;
    }
    match bare_reference(text, "var") {
        Some(variable) => through_callers(ctx, res, attr, res.calls.len(), variable),
        None => Decided::Elsewhere(elsewhere(ctx, res, text)),
    }
}

/// Where `var.NAME` of the module instance `level` calls deep on `res`'s way (the
/// resource's own module at `res.calls.len()`, the root at 0) is decided: up through the
/// `module` blocks that pass it on as `NAME = var.OTHER`, to a literal argument, a
/// `module` block that passes nothing, or a default.
fn through_callers(
    ctx: &Context,
    res: &Resource,
    attr: &Attr,
    level: usize,
    name: &str,
) -> Decided {
    // The module at `level` holds the block calling the next one down (or the resource).
    let module_file = if level == res.calls.len() {
        res.file.as_path()
    } else {
        res.calls[level].0.as_path()
    };
    let default = || default_of(ctx, module_file, name, &attr.value, &res.file);
    let Some((caller, line)) = level.checked_sub(1).map(|i| &res.calls[i]) else {
        // The root module: a `.tfvars` file Terraform loads by itself may set it.
        if let Some(at) = set_by_auto_tfvars(module_dir(module_file), name) {
            return Decided::Elsewhere(format!("var.{name} is set in {at}"));
        }
        return default().map_or_else(Decided::Elsewhere, Decided::Default);
    };
    let Some((block, passed)) = module_call(ctx, caller, *line, name) else {
        return Decided::Elsewhere(format!(
            "var.{name}, passed or not by the module block at {}, which cannot be read",
            shown(caller, *line, &res.file)
        ));
    };
    if let Some(text) = passed {
        return match bare_reference(&text, "var") {
            Some(up) => through_callers(ctx, res, attr, level - 1, up),
            // A literal here is [`Decided::Argument`], found by the loader.
            None => Decided::Elsewhere(format!(
                "the value is `{}`, passed by the module block at {}",
                one_line(&text),
                shown(caller, *line, &res.file)
            )),
        };
    }
    // Nothing passed: the module's default applies. Changed there, unless the module is
    // not the user's to edit (`terraform init` fetched it) or another caller sets the
    // variable: then this caller gets the argument.
    let add_here = || {
        Decided::MissingArgument(Call {
            file: caller.clone(),
            block,
            variable: name.to_string(),
        })
    };
    let caller_editable = !crate::context::is_downloaded(caller);
    if crate::context::is_downloaded(module_file) {
        return if caller_editable {
            add_here()
        } else {
            Decided::Elsewhere(format!(
                "var.{name}'s default in a module `terraform init` fetched, which the module block at {} does not set",
                shown(caller, *line, &res.file)
            ))
        };
    }
    let set_by_another_caller = level == res.calls.len()
        && ctx.resources.iter().any(|r| {
            r.file == res.file
                && r.header.start == res.header.start
                && r.address != res.address
                && r.body
                    .attrs
                    .iter()
                    .any(|(_, a)| a.loc == attr.loc && a.origin.is_some())
        });
    match default() {
        Ok(_) if set_by_another_caller && caller_editable => add_here(),
        Ok(place) => Decided::Default(place),
        Err(why) => Decided::Elsewhere(why),
    }
}

/// Where `terraform.tfvars`, `terraform.tfvars.json` or a `*.auto.tfvars(.json)` file of
/// root module `dir` sets variable `name` (`file:line`), read from disk: Terraform loads
/// them without being asked, so the variable's default decides nothing there.
fn set_by_auto_tfvars(dir: &Path, name: &str) -> Option<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    })
    .ok()?
    .filter_map(|e| e.ok().map(|e| e.path()))
    .filter(|p| {
        p.file_name()
            .and_then(|n| n.to_str())
            .is_some_and(crate::source::is_auto_tfvars_name)
    })
    .collect();
    crate::source::sort_auto_tfvars(&mut files);
    files.into_iter().find_map(|file| {
        let text = std::fs::read_to_string(&file).ok()?;
        let at = if file.extension().is_some_and(|e| e == "json") {
            crate::json_config::top_level_property(&text, name)?
        } else {
            text.parse::<Body>()
                .ok()?
                .get_attribute(name)?
                .span()?
                .start
        };
        Some(format!(
            "{}:{}",
            file.file_name()?.to_string_lossy(),
            line_of(&text, at)
        ))
    })
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
                let body = tree(ctx, file, source)?;
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

/// Parsed module files, per thread: rules ask where a value is decided once per finding,
/// and a module's files are read for every one of them (at 1,000 files, parsing them
/// again per finding took 3.4 times the instructions of the whole lint). Keyed by the
/// text's address and length; the cache holds the text itself (an `Arc`), so no other
/// text can be at that address while the entry lives, and a lookup costs no comparison of
/// the text (comparing it made one file of 100,000 resources quadratic). A text not seen
/// before clears the cache when it has grown past [`PARSED_KEEP`] files.
fn parsed(source: &Arc<str>) -> Option<Rc<Body>> {
    thread_local! {
        static PARSED: RefCell<ParsedFiles> = RefCell::default();
    }
    PARSED.with(|cache| {
        let key = text_key(source);
        if let Some((_, body)) = cache.borrow().get(&key) {
            return body.clone();
        }
        let body = source.parse::<Body>().ok().map(Rc::new);
        let mut cache = cache.borrow_mut();
        if cache.len() >= PARSED_KEEP {
            cache.clear();
        }
        cache.insert(key, (source.clone(), body.clone()));
        body
    })
}

/// The syntax tree of module file `path`: the loader's when the context has it, else
/// parsed here once per thread ([`parsed`]).
fn tree<'c>(ctx: &'c Context, path: &Path, source: &Arc<str>) -> Option<Tree<'c>> {
    match ctx.tree(path) {
        Some(body) => Some(Tree::Loaded(body)),
        None => parsed(source).map(Tree::Parsed),
    }
}

/// A syntax tree borrowed from the loader or parsed here.
enum Tree<'c> {
    Loaded(&'c Body),
    Parsed(Rc<Body>),
}

impl std::ops::Deref for Tree<'_> {
    type Target = Body;
    fn deref(&self) -> &Body {
        match self {
            Tree::Loaded(body) => body,
            Tree::Parsed(body) => body,
        }
    }
}

/// A shared text's key in the caches: its address and length.
fn text_key(source: &Arc<str>) -> (usize, usize) {
    (source.as_ptr() as usize, source.len())
}

/// [`parsed`]'s cache: a text's key, the text (held, so its address stays its own), its tree.
type ParsedFiles = rustc_hash::FxHashMap<(usize, usize), (Arc<str>, Option<Rc<Body>>)>;

/// [`declared_resources`]' cache, keyed as [`ParsedFiles`].
type DeclaredResources =
    rustc_hash::FxHashMap<(usize, usize), (Arc<str>, Rc<rustc_hash::FxHashSet<String>>)>;

/// How many parsed files [`parsed`] keeps per thread.
const PARSED_KEEP: usize = 256;

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
            let body = tree(ctx, path, source)?;
            let block = body
                .get_blocks(kind)
                .find(|b| b.labels.first().is_some_and(|l| l.as_str() == label))?;
            Some((path.to_path_buf(), block.clone()))
        })
}

/// Whether the module `file` is in declares `resource "KIND" "NAME"`, instantiated or
/// not (a `count = 0` resource is not linted, but its name is taken).
pub fn declares_resource(ctx: &Context, file: &Path, kind: &str, name: &str) -> bool {
    let key = format!("{kind}.{name}");
    ctx.sources_in(module_dir(file))
        .into_iter()
        .any(|(path, source)| declared_resources(ctx, path, source).contains(&key))
}

/// `KIND.NAME` of every `resource` block of a file, once per file and thread: DR008 asks
/// for every bucket, and scanning the file's blocks each time made one file of 20,000
/// resources take 25 times as long as one of 10,000 would at the same rate.
fn declared_resources(
    ctx: &Context,
    path: &Path,
    source: &Arc<str>,
) -> Rc<rustc_hash::FxHashSet<String>> {
    thread_local! {
        static DECLARED: RefCell<DeclaredResources> = RefCell::default();
    }
    DECLARED.with(|cache| {
        let key = text_key(source);
        if let Some((_, set)) = cache.borrow().get(&key) {
            return set.clone();
        }
        let set: rustc_hash::FxHashSet<String> = tree(ctx, path, source)
            .map(|body| {
                body.get_blocks("resource")
                    .filter_map(|b| match b.labels.as_slice() {
                        [k, n] => Some(format!("{}.{}", k.as_str(), n.as_str())),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let set = Rc::new(set);
        let mut cache = cache.borrow_mut();
        if cache.len() >= PARSED_KEEP {
            cache.clear();
        }
        cache.insert(key, (source.clone(), set.clone()));
        set
    })
}

/// The `module` block whose header is on `line` of `file`, and the text of its argument
/// `name` if it passes one.
fn module_call(
    ctx: &Context,
    file: &Path,
    line: u32,
    name: &str,
) -> Option<(Location, Option<String>)> {
    let source = ctx.shared_source(file)?;
    let body = tree(ctx, file, source)?;
    let block = body
        .get_blocks("module")
        .find(|b| b.span().is_some_and(|s| line_of(source, s.start) == line))?;
    let span = block.span()?;
    let passed = block
        .body
        .get_attribute(name)
        .and_then(|a| a.value.span())
        .and_then(|v| source.get(v))
        .map(|t| t.trim().to_string());
    Some((location(source, span.start, span.end), passed))
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

/// `NAME` when `text` is exactly `ROOT.NAME` (`var.protect`, `local.protect`), also in
/// Terraform 0.11's spelling as a template of that one reference (`"${var.protect}"`),
/// which Terraform evaluates to the reference's own value, of its own type.
fn bare_reference<'a>(text: &'a str, root: &str) -> Option<&'a str> {
    let text = text.trim();
    let expr = text.parse::<Expression>().ok()?;
    if let Expression::StringTemplate(template) = &expr {
        let mut elements = template.iter();
        let (Some(Element::Interpolation(_)), None) = (elements.next(), elements.next()) else {
            return None;
        };
        let inner = text.strip_prefix("\"${")?.strip_suffix("}\"")?;
        return bare_reference(inner.trim_start_matches('~').trim_end_matches('~'), root);
    }
    let Expression::Traversal(t) = &expr else {
        return None;
    };
    let (Expression::Variable(v), [op]) = (&t.expr, t.operators.as_slice()) else {
        return None;
    };
    if v.value().as_str() != root || !matches!(op.value(), TraversalOperator::GetAttr(_)) {
        return None;
    }
    text.strip_prefix(root)?.strip_prefix('.')
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

/// An expression on one line for a message, cut after 80 characters.
fn one_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match line.char_indices().nth(80) {
        Some((cut, _)) => format!("{}...", &line[..cut]),
        None => line,
    }
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

    /// A file's resource names are collected once, each `KIND.NAME` of a `resource` block.
    #[test]
    fn declared_resources_of_a_file() {
        let text: Arc<str> = Arc::from("resource \"aws_s3_bucket\" \"a\" {}\nresource \"aws_s3_bucket_versioning\" \"a\" {\n  count = 0\n}\ndata \"aws_s3_bucket\" \"b\" {}\n");
        let ctx = Context::new(
            Vec::new(),
            crate::context::RuleOptions::from(&crate::options::LintOptions::default()),
            Arc::default(),
        );
        let path = Path::new("main.tf");
        let set = declared_resources(&ctx, path, &text);
        assert!(Rc::ptr_eq(&set, &declared_resources(&ctx, path, &text)));
        let mut names: Vec<&str> = set.iter().map(String::as_str).collect();
        names.sort();
        assert_eq!(names, ["aws_s3_bucket.a", "aws_s3_bucket_versioning.a"]);
    }

    /// A module file is parsed once per thread however many findings ask about it, a
    /// different text is never answered with another's tree, and the cache keeps the text
    /// it is keyed by alive, so no other text can take its address.
    #[test]
    fn module_files_are_parsed_once() {
        let text: Arc<str> = Arc::from("variable \"a\" {\n  default = true\n}\n");
        let first = parsed(&text).expect("parses");
        assert!(Rc::ptr_eq(&first, &parsed(&text).expect("parses")));
        let other: Arc<str> = Arc::from(text.replace("true", "null"));
        let other_body = parsed(&other).expect("parses");
        assert!(!Rc::ptr_eq(&first, &other_body));
        let default = |b: &Body| {
            let block = b.get_blocks("variable").next().unwrap();
            block
                .body
                .get_attribute("default")
                .unwrap()
                .value
                .to_string()
        };
        assert_eq!(default(&other_body).trim(), "null");
        let held = Arc::downgrade(&text);
        drop(text);
        assert!(
            held.upgrade().is_some(),
            "the cache holds the text it is keyed by"
        );
    }

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
        // Terraform 0.11's spelling of the same reference.
        assert_eq!(bare_reference("\"${var.protect}\"", "var"), Some("protect"));
        assert_eq!(
            bare_reference("\"${ var.protect }\"", "var"),
            Some("protect")
        );
        assert_eq!(
            bare_reference("\"${local.protect}\"", "local"),
            Some("protect")
        );
        // A template that builds a string from the reference is not the reference.
        assert_eq!(bare_reference("\"x-${var.protect}\"", "var"), None);
        assert_eq!(bare_reference("\"${var.a}${var.b}\"", "var"), None);
        assert_eq!(bare_reference("\"${var.protect.x}\"", "var"), None);
        assert_eq!(one_line("a ?\n   b\n : c"), "a ? b : c");
        assert_eq!(one_line(&"x".repeat(90)), format!("{}...", "x".repeat(80)));
    }
}

//! Terraform's JSON configuration syntax (`*.tf.json`, what CDK for Terraform writes), read
//! into the same hcl-edit [`Body`] a `.tf` file gives: the loader and the rules see one
//! model, and references resolve across `.tf` and `.tf.json` files of one module. Every
//! span is a byte range of the JSON text, so findings point at the JSON key's line and
//! column.
//!
//! The mapping follows Terraform's "JSON Configuration Syntax":
//! - the root object's properties are block types; labels are one nested object level each
//!   (`resource` → type → name → body), and a JSON array at a label or body level gives
//!   several blocks (`"provider": {"aws": [{…}, {"alias": "dr", …}]}`);
//! - `"//"` properties of block bodies (and of the root) are comments;
//! - strings in expression positions are templates: `"${var.x}"` alone is the expression
//!   `var.x` itself, `"a-${var.x}"` a string template; numbers, booleans and null are
//!   literals; objects and arrays are object and tuple expressions;
//! - the block-type-specific exceptions: `provider`, `depends_on` and `ignore_changes` are
//!   references written as strings; `variable` `default`/`description`, `module`
//!   `source`/`version`, `provider` `alias`/`version`, `output` `description`/`sensitive`,
//!   `connection` `type` and the whole `terraform` block are literal;
//! - a property of a resource body whose value is an object (or an array of objects) is a
//!   nested block, as CDK for Terraform writes `versioning`, `rule` or `destination`, except
//!   for the arguments that take a map or a list of objects ([`MAP_ARGUMENTS`]): without the
//!   providers' schemas, which Terraform uses to tell them apart, the names decide.

use std::ops::Range;
use std::path::Path;

use hcl_edit::expr::{Array, Expression, Object, ObjectKey, ObjectValue};
use hcl_edit::structure::{Attribute, Block, BlockLabel, Body};
use hcl_edit::template::{Element, StringTemplate};
use hcl_edit::visit_mut::VisitMut;
use hcl_edit::{Decorated, Formatted, Ident, Number, SetSpan, Span};
use jsonc_parser::ast::{Object as JsonObject, ObjectProp, StringLit, Value as Json};

/// Arguments whose JSON object (or array of objects) value is an argument, not nested
/// blocks: the map-typed arguments of the resource types drlint reads (`tags`, a backup
/// rule's `recovery_point_tags`, an advanced backup setting's `backup_options`, a
/// `dr_drill`'s `triggers`), and common map arguments of other providers' resources.
pub const MAP_ARGUMENTS: &[&str] = &[
    "tags",
    "tags_all",
    "recovery_point_tags",
    "backup_options",
    "triggers",
    "triggers_replace",
    "labels",
    "variables",
    "environment",
    "parameters",
    "metadata",
    "annotations",
];

/// Whether `path` names a file in Terraform's JSON configuration syntax (`*.tf.json`).
pub fn is_json_config(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(".tf.json"))
}

/// Why a JSON configuration could not be read: at a byte offset of the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonError {
    /// Byte offset of what is wrong.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

/// Parses `text`, a `*.tf.json` file, into the body a `.tf` file with the same meaning
/// would have, with spans into `text`.
pub fn parse_body(text: &str) -> Result<Body, JsonError> {
    // Strict JSON, as Terraform reads it: no comments, trailing commas or bare words.
    let options = jsonc_parser::ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    let parsed =
        jsonc_parser::parse_to_ast(text, &Default::default(), &options).map_err(|e| JsonError {
            offset: e.range().start,
            message: format!("cannot parse JSON: {}", e.kind()),
        })?;
    let root = match parsed.value {
        Some(Json::Object(o)) => o,
        Some(other) => {
            return Err(JsonError {
                offset: range(&other).start,
                message: "a .tf.json file holds one JSON object, whose properties are block types (\"resource\", \"variable\", ...)".into(),
            })
        }
        None => {
            return Err(JsonError {
                offset: 0,
                message: "empty file: a .tf.json file holds one JSON object".into(),
            })
        }
    };
    let mut body = Body::new();
    for prop in comments_skipped(&root) {
        let name = prop.name.as_str();
        let (labels, kind) = match name {
            "resource" | "data" | "ephemeral" => (2, Kind::Resource),
            "module" => (1, Kind::Module),
            "provider" => (1, Kind::Provider),
            "variable" => (1, Kind::Variable),
            "output" => (1, Kind::Output),
            "check" => (1, Kind::Check),
            "locals" => (0, Kind::Locals),
            "terraform" => (0, Kind::Literal),
            // moved, import, removed, and whatever a later Terraform adds.
            _ => (0, Kind::Meta),
        };
        for block in labeled_blocks(prop, labels, kind)? {
            body.push(block);
        }
    }
    Ok(body)
}

/// How a block body's properties map: each top-level block type has its exceptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// `resource`, `data`, `ephemeral`, and the nested blocks of a provider's schema.
    Resource,
    /// A nested block of a resource (or provider) body.
    Nested,
    Module,
    Provider,
    Variable,
    Output,
    Locals,
    Check,
    Lifecycle,
    Connection,
    Dynamic,
    /// `moved`, `import`, `removed`: references and expressions.
    Meta,
    /// `terraform` and its nested blocks: every value literal.
    Literal,
}

/// The properties of a block-body object, without `"//"` comments.
fn comments_skipped<'b, 'a>(
    object: &'b JsonObject<'a>,
) -> impl Iterator<Item = &'b ObjectProp<'a>> {
    object.properties.iter().filter(|p| p.name.as_str() != "//")
}

/// The blocks named `prop`'s name with `labels` levels of labels below it.
fn labeled_blocks(
    prop: &ObjectProp<'_>,
    labels: usize,
    kind: Kind,
) -> Result<Vec<Block>, JsonError> {
    let mut out = Vec::new();
    let ident = decorated_ident(prop.name.as_str(), name_range(prop));
    collect_blocks(
        &ident,
        &prop.value,
        prop_range(prop),
        labels,
        &mut Vec::new(),
        kind,
        &mut out,
    )?;
    Ok(out)
}

/// Walks the label levels of `value` (objects keyed by label, or arrays of them) down to
/// the bodies; `at` is the range a block found here points at.
fn collect_blocks(
    ident: &Decorated<Ident>,
    value: &Json<'_>,
    at: Range<usize>,
    labels_left: usize,
    labels: &mut Vec<BlockLabel>,
    kind: Kind,
    out: &mut Vec<Block>,
) -> Result<(), JsonError> {
    match value {
        Json::Array(items) => {
            for item in &items.elements {
                let at = range(item);
                collect_blocks(ident, item, at, labels_left, labels, kind, out)?;
            }
            Ok(())
        }
        Json::Object(object) if labels_left == 0 => {
            let mut block = Block::new(ident.clone());
            block.labels = labels.clone();
            block.body = body(object, kind)?;
            block.set_span(at);
            out.push(block);
            Ok(())
        }
        Json::Object(object) => {
            for prop in comments_skipped(object) {
                let mut label = BlockLabel::String(Decorated::new(prop.name.as_str().to_string()));
                label.set_span(name_range(prop));
                labels.push(label);
                let result = collect_blocks(
                    ident,
                    &prop.value,
                    prop_range(prop),
                    labels_left - 1,
                    labels,
                    kind,
                    out,
                );
                labels.pop();
                result?;
            }
            Ok(())
        }
        other => Err(JsonError {
            offset: range(other).start,
            message: format!(
                "a `{}` block is a JSON object{}, not {}",
                ident.as_str(),
                if labels_left > 0 {
                    " keyed by its labels"
                } else {
                    ""
                },
                what(other)
            ),
        }),
    }
}

/// A block body: its properties as attributes and nested blocks, by the rules of `kind`.
fn body(object: &JsonObject<'_>, kind: Kind) -> Result<Body, JsonError> {
    let mut body = Body::with_capacity(object.properties.len());
    body.set_span(object.range.start..object.range.end);
    for prop in comments_skipped(object) {
        let name = prop.name.as_str();
        let value = &prop.value;
        let nested = |kind| labeled_blocks(prop, 0, kind);
        let blocks = match (kind, name) {
            (Kind::Locals, _) => None,
            (Kind::Resource | Kind::Nested | Kind::Provider, "dynamic") => {
                Some(labeled_blocks(prop, 1, Kind::Dynamic)?)
            }
            (Kind::Resource, "lifecycle") | (Kind::Meta, "lifecycle") => {
                Some(nested(Kind::Lifecycle)?)
            }
            (Kind::Resource, "connection") => Some(nested(Kind::Connection)?),
            (Kind::Resource, "provisioner") => Some(labeled_blocks(prop, 1, Kind::Resource)?),
            (Kind::Dynamic, "content") => Some(nested(Kind::Nested)?),
            (Kind::Check, "data") => Some(labeled_blocks(prop, 2, Kind::Resource)?),
            (Kind::Check, "assert") => Some(nested(Kind::Meta)?),
            (Kind::Variable, "validation") => Some(nested(Kind::Meta)?),
            (Kind::Output | Kind::Lifecycle, "precondition" | "postcondition") => {
                Some(nested(Kind::Meta)?)
            }
            (Kind::Literal, "backend" | "provider_meta") => {
                Some(labeled_blocks(prop, 1, Kind::Literal)?)
            }
            (Kind::Literal, "cloud" | "required_providers" | "workspaces") => {
                Some(nested(Kind::Literal)?)
            }
            (Kind::Resource | Kind::Nested | Kind::Provider, _) if holds_blocks(name, value) => {
                Some(nested(Kind::Nested)?)
            }
            _ => None,
        };
        if let Some(blocks) = blocks {
            for block in blocks {
                body.push(block);
            }
            continue;
        }
        let expr = match (kind, name) {
            (Kind::Literal, _)
            | (
                Kind::Variable,
                "default" | "description" | "sensitive" | "nullable" | "ephemeral",
            )
            | (Kind::Output, "description" | "sensitive" | "ephemeral")
            | (Kind::Module, "source" | "version")
            | (Kind::Provider, "alias" | "version")
            | (Kind::Connection, "type") => literal(value),
            (Kind::Variable, "type") => reference(value)?,
            (Kind::Resource | Kind::Output | Kind::Module | Kind::Meta, "depends_on")
            | (Kind::Lifecycle, "ignore_changes" | "replace_triggered_by")
            | (Kind::Resource | Kind::Meta, "provider")
            | (Kind::Meta, "to" | "from")
            | (Kind::Dynamic, "iterator") => reference(value)?,
            (Kind::Module, "providers") => providers(value)?,
            _ => expression(value)?,
        };
        let mut attr = Attribute::new(decorated_ident(name, name_range(prop)), expr);
        attr.set_span(prop_range(prop));
        body.push(attr);
    }
    Ok(body)
}

/// Whether a resource body's property is nested blocks: an object, or a non-empty array
/// of objects, under a name that is not a map argument.
fn holds_blocks(name: &str, value: &Json<'_>) -> bool {
    if MAP_ARGUMENTS.contains(&name) {
        return false;
    }
    match value {
        Json::Object(_) => true,
        Json::Array(a) => {
            !a.elements.is_empty() && a.elements.iter().all(|e| matches!(e, Json::Object(_)))
        }
        _ => false,
    }
}

/// A JSON value in an expression position: strings are templates.
fn expression(value: &Json<'_>) -> Result<Expression, JsonError> {
    let mut expr = match value {
        Json::StringLit(s) => return template(s),
        Json::Array(a) => {
            let items: Result<Vec<Expression>, JsonError> =
                a.elements.iter().map(expression).collect();
            Expression::Array(Array::from(items?))
        }
        Json::Object(o) => {
            let mut object = Object::with_capacity(o.properties.len());
            for prop in &o.properties {
                let key = match prop.name.as_str() {
                    k if hcl_edit::Ident::try_new(k).is_ok() => {
                        object_key_ident(k, name_range(prop))
                    }
                    _ => match &prop.name {
                        jsonc_parser::ast::ObjectPropName::String(s) => {
                            ObjectKey::Expression(template(s)?)
                        }
                        jsonc_parser::ast::ObjectPropName::Word(w) => {
                            object_key_ident(w.value, name_range(prop))
                        }
                    },
                };
                object.insert(key, ObjectValue::new(expression(&prop.value)?));
            }
            Expression::Object(object)
        }
        other => return Ok(literal(other)),
    };
    expr.set_span(range(value));
    Ok(expr)
}

/// A JSON value taken literally: strings are not templates.
fn literal(value: &Json<'_>) -> Expression {
    let mut expr = match value {
        Json::StringLit(s) => Expression::String(Decorated::new(s.value.to_string())),
        Json::NumberLit(n) => number(n.value),
        Json::BooleanLit(b) => Expression::Bool(Decorated::new(b.value)),
        Json::NullKeyword(_) => Expression::null(),
        Json::Array(a) => Expression::Array(a.elements.iter().map(literal).collect()),
        Json::Object(o) => {
            let mut object = Object::with_capacity(o.properties.len());
            for prop in &o.properties {
                let name = prop.name.as_str();
                let key = if hcl_edit::Ident::try_new(name).is_ok() {
                    object_key_ident(name, name_range(prop))
                } else {
                    let mut k = Expression::String(Decorated::new(name.to_string()));
                    k.set_span(name_range(prop));
                    ObjectKey::Expression(k)
                };
                object.insert(key, ObjectValue::new(literal(&prop.value)));
            }
            Expression::Object(object)
        }
    };
    expr.set_span(range(value));
    expr
}

/// A JSON number: an integer when it is one, else a float.
fn number(text: &str) -> Expression {
    let n = if let Ok(i) = text.parse::<i64>() {
        Number::from(i)
    } else if let Ok(u) = text.parse::<u64>() {
        Number::from(u)
    } else {
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .unwrap_or_else(|| Number::from(0))
    };
    Expression::Number(Formatted::new(n))
}

/// A JSON string in an expression position: a template. A template of one interpolation
/// alone is its expression (not converted to a string); one without interpolations or
/// directives is a string.
fn template(s: &StringLit<'_>) -> Result<Expression, JsonError> {
    let whole = s.range.start..s.range.end;
    let value: &str = &s.value;
    if !value.contains("${") && !value.contains("%{") {
        let mut expr = Expression::String(Decorated::new(value.to_string()));
        expr.set_span(whole);
        return Ok(expr);
    }
    let parsed = hcl_edit::parser::parse_template(value).map_err(|e| JsonError {
        offset: whole.start,
        message: format!("cannot parse the template in this string: {}", e.message()),
    })?;
    let elements: Vec<&Element> = parsed.iter().collect();
    let mut expr = match elements.as_slice() {
        [Element::Interpolation(i)] => i.expr.clone(),
        all if all.iter().all(|e| matches!(e, Element::Literal(_))) => {
            let text: String = all
                .iter()
                .filter_map(|e| match e {
                    Element::Literal(l) => Some(l.value().as_str()),
                    _ => None,
                })
                .collect();
            Expression::String(Decorated::new(text))
        }
        _ => Expression::StringTemplate(StringTemplate::from(parsed.clone())),
    };
    Respan::new(s).visit_expr_mut(&mut expr);
    expr.set_span(whole);
    Ok(expr)
}

/// A reference written as a JSON string (`"aws.dr"`, `"aws_s3_bucket.logs"`, `"ami"`), or
/// an array of them, parsed as expressions (not templates); `"all"` is the keyword.
fn reference(value: &Json<'_>) -> Result<Expression, JsonError> {
    match value {
        Json::StringLit(s) => {
            let text = s.value.trim();
            let text = text
                .strip_prefix("${")
                .and_then(|t| t.strip_suffix('}'))
                .unwrap_or(text);
            let mut expr = hcl_edit::parser::parse_expr(text).map_err(|e| JsonError {
                offset: s.range.start,
                message: format!("expected a reference in this string: {}", e.message()),
            })?;
            Respan::new(s).visit_expr_mut(&mut expr);
            expr.set_span(s.range.start..s.range.end);
            Ok(expr)
        }
        Json::Array(a) => {
            let items: Result<Vec<Expression>, JsonError> =
                a.elements.iter().map(reference).collect();
            let mut expr = Expression::Array(Array::from(items?));
            expr.set_span(range(value));
            Ok(expr)
        }
        other => Ok(literal(other)),
    }
}

/// A module block's `providers`: an object whose keys and values are provider addresses
/// written as literal strings (`{"aws": "aws.usw1"}`).
fn providers(value: &Json<'_>) -> Result<Expression, JsonError> {
    let Json::Object(o) = value else {
        return Ok(literal(value));
    };
    let mut object = Object::with_capacity(o.properties.len());
    for prop in &o.properties {
        let key = match &prop.name {
            jsonc_parser::ast::ObjectPropName::String(s) => {
                ObjectKey::Expression(reference(&Json::StringLit(s.clone()))?)
            }
            jsonc_parser::ast::ObjectPropName::Word(w) => {
                object_key_ident(w.value, name_range(prop))
            }
        };
        object.insert(key, ObjectValue::new(reference(&prop.value)?));
    }
    let mut expr = Expression::Object(object);
    expr.set_span(range(value));
    Ok(expr)
}

/// Moves the spans of an expression parsed from a JSON string's value to the JSON text:
/// shifted by the string's start when the string has no escapes (its value is then its
/// text), else the whole string.
struct Respan {
    shift: Option<usize>,
    whole: Range<usize>,
}

impl Respan {
    fn new(s: &StringLit<'_>) -> Self {
        let whole = s.range.start..s.range.end;
        let unescaped = whole.len() == s.value.len() + 2;
        Respan {
            shift: unescaped.then_some(whole.start + 1),
            whole,
        }
    }
}

impl VisitMut for Respan {
    fn visit_expr_mut(&mut self, expr: &mut Expression) {
        let span = match (self.shift, expr.span()) {
            (Some(shift), Some(s)) => shift + s.start..shift + s.end,
            _ => self.whole.clone(),
        };
        expr.set_span(span);
        hcl_edit::visit_mut::visit_expr_mut(self, expr);
    }
}

fn decorated_ident(name: &str, at: Range<usize>) -> Decorated<Ident> {
    let mut ident = Decorated::new(Ident::new_unchecked(name));
    ident.set_span(at);
    ident
}

fn object_key_ident(name: &str, at: Range<usize>) -> ObjectKey {
    ObjectKey::Ident(decorated_ident(name, at))
}

/// The byte offset of top-level property `name` of a JSON object (a `.tfvars.json` file's
/// variable), when the text is one object that has it.
pub fn top_level_property(text: &str, name: &str) -> Option<usize> {
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default()).ok()?;
    let Some(Json::Object(root)) = parsed.value else {
        return None;
    };
    let found = root.properties.iter().find(|p| p.name.as_str() == name)?;
    Some(name_range(found).start)
}

fn name_range(prop: &ObjectProp<'_>) -> Range<usize> {
    let r = match &prop.name {
        jsonc_parser::ast::ObjectPropName::String(s) => s.range,
        jsonc_parser::ast::ObjectPropName::Word(w) => w.range,
    };
    r.start..r.end
}

fn prop_range(prop: &ObjectProp<'_>) -> Range<usize> {
    prop.range.start..prop.range.end
}

fn range(value: &Json<'_>) -> Range<usize> {
    let r = match value {
        Json::StringLit(v) => v.range,
        Json::NumberLit(v) => v.range,
        Json::BooleanLit(v) => v.range,
        Json::Object(v) => v.range,
        Json::Array(v) => v.range,
        Json::NullKeyword(v) => v.range,
    };
    r.start..r.end
}

fn what(value: &Json<'_>) -> &'static str {
    match value {
        Json::StringLit(_) => "a string",
        Json::NumberLit(_) => "a number",
        Json::BooleanLit(_) => "a boolean",
        Json::Object(_) => "an object",
        Json::Array(_) => "an array",
        Json::NullKeyword(_) => "null",
    }
}

/// The local sources (`./x`, `../x`) of a JSON configuration's `module` blocks, for the
/// quick scan that proposes which directories are root modules (nothing when the text is
/// not such a file: the parse reports that).
pub fn module_sources(text: &str) -> Vec<String> {
    use serde_json::Value as V;
    // An object, or an array of objects (several blocks of one type).
    fn objects(v: &V) -> Vec<&serde_json::Map<String, V>> {
        match v {
            V::Array(items) => items.iter().filter_map(V::as_object).collect(),
            other => other.as_object().into_iter().collect(),
        }
    }
    let Ok(root) = serde_json::from_str::<V>(text) else {
        return Vec::new();
    };
    let Some(modules) = root.get("module") else {
        return Vec::new();
    };
    objects(modules)
        .into_iter()
        .flat_map(|calls| calls.values())
        .flat_map(objects)
        .filter_map(|body| body.get("source")?.as_str())
        .filter(|src| src.starts_with("./") || src.starts_with("../"))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl_edit::structure::Structure;

    fn parse(text: &str) -> Body {
        parse_body(text).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn first_block(body: &Body) -> &Block {
        body.iter().find_map(Structure::as_block).expect("a block")
    }

    fn value<'a>(body: &'a Body, name: &str) -> &'a Expression {
        &body.get_attribute(name).expect(name).value
    }

    #[test]
    fn a_lone_interpolation_is_its_expression_and_others_are_templates() {
        let text = r#"{"locals": {"a": "${var.x}", "b": "pre-${var.x}", "c": "$${literal}", "d": "plain", "e": 3, "f": null, "g": [true]}}"#;
        let body = parse(text);
        let locals = &first_block(&body).body;
        assert!(matches!(value(locals, "a"), Expression::Traversal(_)));
        assert!(matches!(value(locals, "b"), Expression::StringTemplate(_)));
        assert_eq!(value(locals, "c").as_str(), Some("${literal}"));
        assert_eq!(value(locals, "d").as_str(), Some("plain"));
        assert!(matches!(value(locals, "e"), Expression::Number(_)));
        assert!(value(locals, "f").is_null());
        assert!(matches!(value(locals, "g"), Expression::Array(_)));
        // Spans are the JSON text's, down to the expression inside the string.
        let a = value(locals, "a");
        assert_eq!(&text[a.span().unwrap()], r#""${var.x}""#);
        let Expression::StringTemplate(t) = value(locals, "b") else {
            unreachable!()
        };
        let inner = t.iter().find_map(|e| match e {
            Element::Interpolation(i) => Some(&i.expr),
            _ => None,
        });
        assert_eq!(&text[inner.unwrap().span().unwrap()], "var.x");
    }

    #[test]
    fn labels_nest_and_arrays_give_several_blocks() {
        let body = parse(
            r#"{"//": "generated", "provider": {"aws": [{"region": "eu-west-1"}, {"alias": "dr", "region": "eu-central-1"}]},
                "resource": {"aws_s3_bucket": {"a": {"//": {"metadata": {}}, "bucket": "a", "tags": {"Name": "a"},
                  "versioning": {"enabled": true}, "lifecycle_rule": [{"enabled": true}, {"enabled": false}]}}}}"#,
        );
        let blocks: Vec<&Block> = body.iter().filter_map(Structure::as_block).collect();
        assert_eq!(blocks.len(), 3);
        assert!(blocks[..2]
            .iter()
            .all(|b| b.has_ident("provider") && b.labels.iter().map(|l| l.as_str()).eq(["aws"])));
        let bucket = blocks[2];
        assert!(bucket
            .labels
            .iter()
            .map(|l| l.as_str())
            .eq(["aws_s3_bucket", "a"]));
        assert!(
            bucket.body.get_attribute("//").is_none(),
            "comments are dropped"
        );
        assert!(matches!(value(&bucket.body, "tags"), Expression::Object(_)));
        assert_eq!(bucket.body.get_blocks("versioning").count(), 1);
        assert_eq!(bucket.body.get_blocks("lifecycle_rule").count(), 2);
    }

    #[test]
    fn block_type_exceptions_are_literal_or_references() {
        let body = parse(
            r#"{"variable": {"v": {"type": "list(string)", "default": "${not_a_template}"}},
                "module": {"m": {"source": "./m", "providers": {"aws": "aws.dr"}, "x": "${var.v}"}},
                "resource": {"t": {"n": {"provider": "aws.dr", "depends_on": ["t.o"],
                  "lifecycle": {"ignore_changes": "all"},
                  "dynamic": {"setting": {"for_each": "${var.v}", "content": {"name": "${setting.value}"}}}}}}}"#,
        );
        let blocks: Vec<&Block> = body.iter().filter_map(Structure::as_block).collect();
        let variable = &blocks[0].body;
        assert!(matches!(value(variable, "type"), Expression::FuncCall(_)));
        assert_eq!(
            value(variable, "default").as_str(),
            Some("${not_a_template}")
        );
        let module = &blocks[1].body;
        assert_eq!(value(module, "source").as_str(), Some("./m"));
        let Expression::Object(providers) = value(module, "providers") else {
            panic!("providers is an object")
        };
        let (_, to) = providers.iter().next().unwrap();
        assert!(matches!(to.expr(), Expression::Traversal(_)));
        let resource = &blocks[2].body;
        assert!(matches!(
            value(resource, "provider"),
            Expression::Traversal(_)
        ));
        assert!(matches!(
            value(resource, "depends_on"),
            Expression::Array(_)
        ));
        let lifecycle = resource.get_blocks("lifecycle").next().unwrap();
        assert!(
            matches!(value(&lifecycle.body, "ignore_changes"), Expression::Variable(v) if v.as_str() == "all")
        );
        let dynamic = resource.get_blocks("dynamic").next().unwrap();
        assert!(dynamic.labels.iter().map(|l| l.as_str()).eq(["setting"]));
        assert_eq!(dynamic.body.get_blocks("content").count(), 1);
    }

    #[test]
    fn module_sources_are_the_local_ones() {
        let text = r#"{"module": {"a": {"source": "./a"}, "b": [{"source": "../b"}], "c": {"source": "hashicorp/x/aws"}}}"#;
        assert_eq!(module_sources(text), ["./a", "../b"]);
        assert!(module_sources("not json").is_empty());
    }

    #[test]
    fn names_say_which_files_are_json_configuration() {
        assert!(is_json_config(Path::new("stacks/dev/cdk.tf.json")));
        assert!(!is_json_config(Path::new("terraform.tfvars.json")));
        assert!(!is_json_config(Path::new("main.tf")));
    }
}

//! Evaluates HCL expressions the way a reviewer does in their head: literals, variables,
//! locals, references to other resources, Terraform's functions, conditionals and `for`
//! expressions. Three answers are kept apart, as Terraform keeps them: a value, `null` (the
//! argument is not set: the provider's default applies), and [`Value::Unknown`] (not
//! knowable before apply, or not modelled here). Rules never report on an unknown value
//! alone. An expression Terraform would refuse (a missing key, an index out of range, a
//! function given the wrong kind of value) is an error inside the evaluator, which `try`
//! and `can` catch as Terraform's do; anywhere else it is unknown.

mod functions;
pub(crate) mod types;

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use hcl_edit::expr::{
    BinaryOperator, Expression, ForExpr, ObjectKey, TraversalOperator, UnaryOperator,
};
use hcl_edit::template::{Element, Template};

/// An evaluated value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`: not set. An argument whose value is null is unset, as if not written, and
    /// the provider's default applies.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    String(String),
    /// A list or tuple.
    List(Vec<Value>),
    /// A map or object.
    Map(BTreeMap<String, Value>),
    /// A reference to another resource's attribute: known target, value known only at apply.
    Ref(Reference),
    /// Not knowable without running Terraform.
    Unknown,
}

/// `aws_db_instance.main.arn`: the resource's full address and the attribute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// Full address of the referenced resource, with `module.NAME.` prefixes.
    pub address: String,
    /// Attributes after the resource (`arn`, `id`, ...).
    pub attr: Vec<String>,
}

impl Value {
    /// The string, when known.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// The boolean, when known; Terraform converts `"true"`/`"false"` strings.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            Value::String(s) if s == "true" => Some(true),
            Value::String(s) if s == "false" => Some(false),
            _ => None,
        }
    }

    /// The number, when known; numeric strings convert like Terraform does.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        }
    }

    /// The list, when known.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) => Some(items),
            _ => None,
        }
    }

    /// The map, when known.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The referenced resource, when this value points at one.
    pub fn as_ref(&self) -> Option<&Reference> {
        match self {
            Value::Ref(r) => Some(r),
            _ => None,
        }
    }

    /// Whether an optional string argument is given: not null and not `""`, which the AWS
    /// provider takes as not set. Terraform 0.11 had no null, so its modules pass `""` for
    /// "none" (terraform-aws-rds v1: `replicate_source_db = "${var.replicate_source_db}"`,
    /// default `""`).
    pub fn is_given(&self) -> bool {
        !matches!(self, Value::Null) && self.as_str() != Some("")
    }

    /// True when the value is fully known (no unknown and no reference inside).
    pub fn is_known(&self) -> bool {
        match self {
            Value::Unknown | Value::Ref(_) => false,
            Value::List(items) => items.iter().all(Value::is_known),
            Value::Map(m) => m.values().all(Value::is_known),
            _ => true,
        }
    }

    /// True for `Unknown` (a reference is not unknown: its target is known).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown)
    }

    /// True for `null`: the argument is not set.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True when an unknown is inside (a reference is not unknown: its target is known).
    pub fn has_unknown(&self) -> bool {
        match self {
            Value::Unknown => true,
            Value::List(items) => items.iter().any(Value::has_unknown),
            Value::Map(m) => m.values().any(Value::has_unknown),
            _ => false,
        }
    }

    /// Converts a JSON value (tfvars in JSON, plan values).
    pub fn from_json(v: &serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(*b),
            serde_json::Value::Number(n) => n.as_f64().map_or(Value::Unknown, Value::Number),
            serde_json::Value::String(s) => Value::String(s.clone()),
            serde_json::Value::Array(a) => Value::List(a.iter().map(Value::from_json).collect()),
            serde_json::Value::Object(o) => Value::Map(
                o.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    pub(crate) fn to_template_string(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(format_number(*n)),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

pub(crate) fn format_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        n.to_string()
    }
}

/// What names mean where an expression is evaluated.
/// Variables or locals by name. A module's names are borrowed from its syntax trees, which
/// outlive its instance; a tfvars file's are owned.
pub type Names<'a> = HashMap<Cow<'a, str>, Value, rustc_hash::FxBuildHasher>;

#[derive(Debug, Default)]
pub struct Scope<'a> {
    /// `var.*`.
    pub vars: Option<&'a Names<'a>>,
    /// `local.*`.
    pub locals: Option<&'a Names<'a>>,
    /// The module's address prefix (`""` or `module.a.`), for references.
    pub prefix: &'a str,
    /// Extra names bound in this scope (e.g. a dynamic block's iterator): always unknown.
    pub unknown_roots: &'a [String],
    /// Names bound to known values (a dynamic block's iterator over a known collection:
    /// `{ key = ..., value = ... }`).
    pub bound: &'a [(String, Value)],
}

/// Evaluates `expr` in `scope`. Never fails: what it cannot evaluate, and what Terraform
/// would refuse, is `Unknown`.
pub fn eval(expr: &Expression, scope: &Scope<'_>) -> Value {
    Cx::new(scope).eval(expr).unwrap_or(Value::Unknown)
}

/// Terraform would refuse this expression: the error `try` and `can` catch. Never a value
/// a rule sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Invalid;

/// A value, or the error Terraform would report.
pub(crate) type Evaluated = Result<Value, Invalid>;

// Deeply nested input must not overflow the stack: past this depth the value is unknown.
const MAX_DEPTH: usize = 64;

// A `for` expression over more elements than this is not evaluated (unknown): the work
// is bounded whatever a configuration holds.
const MAX_FOR_ELEMENTS: usize = 10_000;

/// A name a `for` expression binds (its key or value variable), innermost first.
struct Frame<'f> {
    name: &'f str,
    value: Value,
    parent: Option<&'f Frame<'f>>,
}

/// Where an expression is evaluated: the scope, the names `for` expressions bind around
/// it, and how deep the evaluation is.
#[derive(Clone, Copy)]
struct Cx<'c> {
    scope: &'c Scope<'c>,
    frame: Option<&'c Frame<'c>>,
    depth: usize,
}

impl<'c> Cx<'c> {
    fn new(scope: &'c Scope<'c>) -> Self {
        Cx {
            scope,
            frame: None,
            depth: 0,
        }
    }

    fn deeper(self) -> Self {
        Cx {
            depth: self.depth + 1,
            ..self
        }
    }

    fn bound(&self, name: &str) -> Option<&'c Value> {
        let mut frame = self.frame;
        while let Some(f) = frame {
            if f.name == name {
                return Some(&f.value);
            }
            frame = f.parent;
        }
        self.scope
            .bound
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    fn eval(self, expr: &Expression) -> Evaluated {
        if self.depth > MAX_DEPTH {
            return Ok(Value::Unknown);
        }
        let cx = self.deeper();
        Ok(match expr {
            Expression::Null(_) => Value::Null,
            Expression::Bool(b) => Value::Bool(*b.value()),
            Expression::Number(n) => n.value().as_f64().map_or(Value::Unknown, Value::Number),
            Expression::String(s) => Value::String(s.value().to_string()),
            Expression::Array(a) => {
                Value::List(a.iter().map(|e| cx.eval(e)).collect::<Result<_, _>>()?)
            }
            Expression::Object(o) => {
                let mut map = BTreeMap::new();
                let mut unknown_key = false;
                for (key, value) in o.iter() {
                    let key = match key {
                        ObjectKey::Ident(id) => id.value().as_str().to_string(),
                        ObjectKey::Expression(e) => match cx.eval(e)? {
                            Value::String(s) => s,
                            Value::Number(n) => format_number(n),
                            Value::Bool(b) => b.to_string(),
                            Value::Unknown | Value::Ref(_) => {
                                unknown_key = true;
                                continue;
                            }
                            _ => return Err(Invalid),
                        },
                    };
                    map.insert(key, cx.eval(value.expr())?);
                }
                if unknown_key {
                    return Ok(Value::Unknown);
                }
                Value::Map(map)
            }
            Expression::StringTemplate(t) => return cx.template(t.iter()),
            Expression::HeredocTemplate(h) => return cx.template(h.template.iter()),
            Expression::Parenthesis(p) => return cx.eval(p.inner()),
            Expression::Variable(v) => match self.bound(v.value().as_str()) {
                Some(value) => value.clone(),
                // A bare name (e.g. `aws` in `providers = { aws = aws }`) is not a value.
                None => Value::Unknown,
            },
            Expression::Conditional(c) => {
                // Terraform evaluates both results but reports only the chosen one's error.
                let cond = cx.eval(&c.cond_expr)?;
                match cond {
                    Value::Null => return Err(Invalid),
                    Value::Unknown | Value::Ref(_) => {
                        let (t, f) = (cx.eval(&c.true_expr), cx.eval(&c.false_expr));
                        match (t, f) {
                            (Ok(t), Ok(f)) if t == f && t.is_known() => t,
                            _ => Value::Unknown,
                        }
                    }
                    other => match other.as_bool() {
                        Some(true) => return cx.eval(&c.true_expr),
                        Some(false) => return cx.eval(&c.false_expr),
                        None => return Err(Invalid),
                    },
                }
            }
            Expression::FuncCall(call) => {
                if !call.name.namespace.is_empty() {
                    return Ok(Value::Unknown);
                }
                let name = call.name.name.value().as_str();
                match name {
                    "try" => return cx.try_args(call.args.iter()),
                    "can" => return cx.can(call.args.iter()),
                    _ => {}
                }
                let mut args: Vec<Value> = call
                    .args
                    .iter()
                    .map(|e| cx.eval(e))
                    .collect::<Result<_, _>>()?;
                if call.args.expand_final() {
                    // `f(list...)`: the list's elements are the last arguments.
                    match args.pop() {
                        Some(Value::List(rest)) => args.extend(rest),
                        Some(Value::Unknown | Value::Ref(_)) => return Ok(Value::Unknown),
                        _ => return Err(Invalid),
                    }
                }
                return functions::call(name, args);
            }
            Expression::Traversal(t) => return cx.traversal(&t.expr, &t.operators),
            Expression::UnaryOp(op) => {
                let v = cx.eval(&op.expr)?;
                if !v.is_known() {
                    return Ok(Value::Unknown);
                }
                match op.operator.value() {
                    UnaryOperator::Not => Value::Bool(!v.as_bool().ok_or(Invalid)?),
                    UnaryOperator::Neg => Value::Number(-v.as_f64().ok_or(Invalid)?),
                }
            }
            Expression::BinaryOp(op) => {
                return binary(*op.operator.value(), cx.eval(&op.lhs_expr)?, || {
                    cx.eval(&op.rhs_expr)
                })
            }
            Expression::ForExpr(f) => return cx.for_expr(f),
        })
    }

    fn template<'t>(self, elements: impl Iterator<Item = &'t Element>) -> Evaluated {
        let elements: Vec<&Element> = elements.collect();
        // "${aws_s3_bucket.x.id}" is the reference itself, as in Terraform.
        if let [Element::Interpolation(i)] = elements.as_slice() {
            return self.eval(&i.expr);
        }
        let mut out = String::new();
        let mut unknown = false;
        for element in elements {
            match element {
                Element::Literal(s) => out.push_str(s.value()),
                Element::Interpolation(i) => match self.eval(&i.expr)? {
                    Value::Unknown | Value::Ref(_) => unknown = true,
                    v => out.push_str(&v.to_template_string().ok_or(Invalid)?),
                },
                Element::Directive(_) => unknown = true,
            }
        }
        Ok(if unknown {
            Value::Unknown
        } else {
            Value::String(out)
        })
    }

    /// `try(a, b, ...)`: the first argument that evaluates without an error. An argument
    /// that depends on an unknown value makes the result unknown: whether it would fail is
    /// not known yet (HCL's `tryfunc`).
    fn try_args<'e>(self, args: impl Iterator<Item = &'e Expression>) -> Evaluated {
        for arg in args {
            if self.depends_on_unknowns(arg) {
                return Ok(Value::Unknown);
            }
            match self.eval(arg) {
                Ok(v) => return Ok(v),
                Err(Invalid) => continue,
            }
        }
        Err(Invalid)
    }

    /// `can(expr)`: whether `expr` evaluates without an error; unknown while it depends on
    /// an unknown value.
    fn can<'e>(self, mut args: impl Iterator<Item = &'e Expression>) -> Evaluated {
        let (Some(arg), None) = (args.next(), args.next()) else {
            return Err(Invalid);
        };
        if self.depends_on_unknowns(arg) {
            return Ok(Value::Unknown);
        }
        Ok(match self.eval(arg) {
            Ok(Value::Unknown) => Value::Unknown,
            Ok(_) => Value::Bool(true),
            Err(Invalid) => Value::Bool(false),
        })
    }

    /// Whether some name `expr` reads (a variable, a local, a `for` or `dynamic` iterator,
    /// `count`, `each`, ...), followed as far as its static traversal goes, is or holds
    /// an unknown value. A traversal that fails does not count: it fails whatever else
    /// is unknown. A reference to another resource counts as known: drlint's value for
    /// it is the reference.
    fn depends_on_unknowns(self, expr: &Expression) -> bool {
        let mut found = false;
        visit_traversals(expr, &mut |root, ops| {
            if found {
                return;
            }
            found = matches!(self.traversal(root, ops), Ok(v) if v.has_unknown());
        });
        found
    }

    fn traversal(
        self,
        root: &Expression,
        ops: &[hcl_edit::Decorated<TraversalOperator>],
    ) -> Evaluated {
        let attr = |i: usize| -> Option<&str> {
            match ops.get(i).map(|o| o.value()) {
                Some(TraversalOperator::GetAttr(id)) => Some(id.value().as_str()),
                _ => None,
            }
        };
        let scope = self.scope;
        match root {
            Expression::Variable(v) => {
                let name = v.value().as_str();
                if let Some(value) = self.bound(name) {
                    return self.traverse(value, ops);
                }
                if scope.unknown_roots.iter().any(|r| r == name) {
                    return Ok(Value::Unknown);
                }
                match name {
                    "var" | "local" => {
                        let Some(key) = attr(0) else {
                            return Ok(Value::Unknown);
                        };
                        let table = if name == "var" {
                            scope.vars
                        } else {
                            scope.locals
                        };
                        // Walked by reference: `var.tags.Name` copies one string, not the map.
                        match table.and_then(|t| t.get(key)) {
                            Some(v) => self.traverse(v, &ops[1..]),
                            None => Ok(Value::Unknown),
                        }
                    }
                    "count" | "each" | "self" | "path" | "terraform" | "module" => {
                        Ok(Value::Unknown)
                    }
                    "data" => {
                        let (Some(kind), Some(rname)) = (attr(0), attr(1)) else {
                            return Ok(Value::Unknown);
                        };
                        let address = format!("{}data.{kind}.{rname}", scope.prefix);
                        Ok(Value::Ref(reference(address, &ops[2..])))
                    }
                    kind if kind.contains('_') => {
                        let Some(rname) = attr(0) else {
                            return Ok(Value::Unknown);
                        };
                        let address = format!("{}{kind}.{rname}", scope.prefix);
                        Ok(Value::Ref(reference(address, &ops[1..])))
                    }
                    _ => Ok(Value::Unknown),
                }
            }
            other => self.traverse(&self.eval(other)?, ops),
        }
    }

    /// What `ops` reach from `value`: an error where Terraform reports one (a missing key
    /// or attribute, an index out of range, a step into null or into a string), unknown
    /// where the value or the key is unknown.
    fn traverse(self, value: &Value, ops: &[hcl_edit::Decorated<TraversalOperator>]) -> Evaluated {
        let mut value = value;
        for (i, op) in ops.iter().enumerate() {
            let key = match op.value() {
                TraversalOperator::GetAttr(id) => Value::String(id.value().as_str().to_string()),
                TraversalOperator::Index(e) => self.deeper().eval(e)?,
                TraversalOperator::LegacyIndex(i) => Value::Number(*i.value() as f64),
                // Splats: not modelled.
                _ => return Ok(Value::Unknown),
            };
            let attr = matches!(op.value(), TraversalOperator::GetAttr(_));
            value = match (value, &key) {
                (Value::Unknown, _) | (_, Value::Unknown | Value::Ref(_)) => {
                    return Ok(Value::Unknown)
                }
                // `local.bucket.id` where the local is `aws_s3_bucket.b`: the attribute of
                // the referenced resource.
                (Value::Ref(r), _) => {
                    let mut r = r.clone();
                    r.attr.extend(reference(String::new(), &ops[i..]).attr);
                    return Ok(Value::Ref(r));
                }
                (Value::Map(m), Value::String(k)) => m.get(k).ok_or(Invalid)?,
                (Value::Map(m), Value::Number(n)) if !attr => {
                    m.get(&format_number(*n)).ok_or(Invalid)?
                }
                (Value::List(l), k) if !attr => {
                    let i = k.as_f64().ok_or(Invalid)?;
                    if i < 0.0 || i.fract() != 0.0 {
                        return Err(Invalid);
                    }
                    l.get(i as usize).ok_or(Invalid)?
                }
                _ => return Err(Invalid),
            };
        }
        Ok(value.clone())
    }

    /// `[for x in coll : v if c]` and `{for k, v in coll : k => v if c}` (`...` groups).
    fn for_expr(self, f: &ForExpr) -> Evaluated {
        let collection = self.eval(&f.intro.collection_expr)?;
        let pairs: Vec<(Value, &Value)> = match &collection {
            Value::List(l) => l
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v))
                .collect(),
            Value::Map(m) => m
                .iter()
                .map(|(k, v)| (Value::String(k.clone()), v))
                .collect(),
            Value::Unknown | Value::Ref(_) => return Ok(Value::Unknown),
            _ => return Err(Invalid),
        };
        if pairs.len() > MAX_FOR_ELEMENTS {
            return Ok(Value::Unknown);
        }
        let value_name = f.intro.value_var.value().as_str();
        let key_name = f.intro.key_var.as_ref().map(|k| k.value().as_str());
        let mut list = Vec::new();
        let mut map: BTreeMap<String, Value> = BTreeMap::new();
        let mut unknown = false;
        for (key, value) in pairs {
            let key_frame;
            let parent = match key_name {
                Some(name) => {
                    key_frame = Frame {
                        name,
                        value: key,
                        parent: self.frame,
                    };
                    Some(&key_frame)
                }
                None => self.frame,
            };
            let frame = Frame {
                name: value_name,
                value: value.clone(),
                parent,
            };
            let cx = Cx {
                frame: Some(&frame),
                ..self.deeper()
            };
            if let Some(cond) = &f.cond {
                match cx.eval(&cond.expr)? {
                    Value::Unknown | Value::Ref(_) => {
                        unknown = true;
                        continue;
                    }
                    c => {
                        if !c.as_bool().ok_or(Invalid)? {
                            continue;
                        }
                    }
                }
            }
            let item = cx.eval(&f.value_expr)?;
            match &f.key_expr {
                None => list.push(item),
                Some(k) => {
                    let k = match cx.eval(k)? {
                        Value::Unknown | Value::Ref(_) => {
                            unknown = true;
                            continue;
                        }
                        k => k.to_template_string().ok_or(Invalid)?,
                    };
                    if f.grouping {
                        match map.entry(k).or_insert_with(|| Value::List(Vec::new())) {
                            Value::List(group) => group.push(item),
                            _ => return Ok(Value::Unknown),
                        }
                    } else if map.insert(k, item).is_some() {
                        // Terraform refuses a duplicate key without `...`.
                        return Err(Invalid);
                    }
                }
            }
        }
        Ok(if unknown {
            Value::Unknown
        } else if f.key_expr.is_some() {
            Value::Map(map)
        } else {
            Value::List(list)
        })
    }
}

/// Calls `visit` with every traversal `expr` reads: its root and the operators of its
/// static part (attributes and literal indexes; an index expression is visited on its
/// own). A bare name is a traversal without operators.
fn visit_traversals<'e>(
    expr: &'e Expression,
    visit: &mut dyn FnMut(&'e Expression, &'e [hcl_edit::Decorated<TraversalOperator>]),
) {
    let mut sub = |e: &'e Expression| visit_traversals(e, visit);
    match expr {
        Expression::Null(_)
        | Expression::Bool(_)
        | Expression::Number(_)
        | Expression::String(_) => {}
        Expression::Variable(_) => visit(expr, &[]),
        Expression::Array(a) => a.iter().for_each(sub),
        Expression::Object(o) => {
            for (k, v) in o.iter() {
                if let ObjectKey::Expression(e) = k {
                    visit_traversals(e, visit);
                }
                visit_traversals(v.expr(), visit);
            }
        }
        Expression::StringTemplate(t) => visit_template(t.iter(), visit),
        Expression::HeredocTemplate(h) => visit_template(h.template.iter(), visit),
        Expression::Parenthesis(p) => sub(p.inner()),
        Expression::Conditional(c) => {
            visit_traversals(&c.cond_expr, visit);
            visit_traversals(&c.true_expr, visit);
            visit_traversals(&c.false_expr, visit);
        }
        Expression::FuncCall(call) => call.args.iter().for_each(sub),
        Expression::Traversal(t) => {
            let is_static = |o: &hcl_edit::Decorated<TraversalOperator>| match o.value() {
                TraversalOperator::GetAttr(_) | TraversalOperator::LegacyIndex(_) => true,
                TraversalOperator::Index(e) => {
                    matches!(e, Expression::Number(_) | Expression::String(_))
                }
                _ => false,
            };
            let n = t.operators.iter().take_while(|o| is_static(o)).count();
            match &t.expr {
                Expression::Variable(_) => visit(&t.expr, &t.operators[..n]),
                other => visit_traversals(other, visit),
            }
            for op in &t.operators {
                if let TraversalOperator::Index(e) = op.value() {
                    visit_traversals(e, visit);
                }
            }
        }
        Expression::UnaryOp(op) => sub(&op.expr),
        Expression::BinaryOp(op) => {
            visit_traversals(&op.lhs_expr, visit);
            visit_traversals(&op.rhs_expr, visit);
        }
        // Its own key and value names are bound inside: what it reads from outside is
        // the collection and the other names of its expressions.
        Expression::ForExpr(f) => {
            visit_traversals(&f.intro.collection_expr, visit);
            let own = |root: &Expression| match root {
                Expression::Variable(v) => {
                    let n = v.value().as_str();
                    n == f.intro.value_var.value().as_str()
                        || f.intro
                            .key_var
                            .as_ref()
                            .is_some_and(|k| k.value().as_str() == n)
                }
                _ => false,
            };
            let inner = [
                Some(&f.value_expr),
                f.key_expr.as_ref(),
                f.cond.as_ref().map(|c| &c.expr),
            ];
            for e in inner.into_iter().flatten() {
                visit_traversals(e, &mut |root, ops| {
                    if !own(root) {
                        visit(root, ops);
                    }
                });
            }
        }
    }
}

fn visit_template<'e>(
    elements: impl Iterator<Item = &'e Element>,
    visit: &mut dyn FnMut(&'e Expression, &'e [hcl_edit::Decorated<TraversalOperator>]),
) {
    for element in elements {
        if let Element::Interpolation(i) = element {
            visit_traversals(&i.expr, visit);
        }
    }
}

/// Evaluates a whole template (heredoc bodies); exposed for tests.
pub fn eval_template_str(t: &Template, scope: &Scope<'_>) -> Value {
    Cx::new(scope).template(t.iter()).unwrap_or(Value::Unknown)
}

fn reference(address: String, ops: &[hcl_edit::Decorated<TraversalOperator>]) -> Reference {
    // `aws_db_instance.main[0].arn`: the index names an instance of the same resource.
    let attr = ops
        .iter()
        .filter_map(|o| match o.value() {
            TraversalOperator::GetAttr(id) => Some(id.value().as_str().to_string()),
            _ => None,
        })
        .collect();
    Reference { address, attr }
}

/// `l op r`. The right operand is evaluated only when the left does not decide
/// (`false && x`, `true || x`): short-circuit, so `var.x != null && var.x.on` works.
fn binary(op: BinaryOperator, l: Value, r: impl FnOnce() -> Evaluated) -> Evaluated {
    use BinaryOperator::*;
    if let (And | Or, Some(b)) = (op, l.as_bool()) {
        if (op == And && !b) || (op == Or && b) {
            return Ok(Value::Bool(b));
        }
    }
    let r = r()?;
    Ok(match op {
        Eq | NotEq => {
            if !(l.is_known() && r.is_known()) {
                return Ok(Value::Unknown);
            }
            let same = match (&l, &r) {
                (Value::Number(a), Value::Number(b)) => a == b,
                _ => l == r,
            };
            Value::Bool(if op == Eq { same } else { !same })
        }
        And | Or => match (l.as_bool(), r.as_bool()) {
            (Some(a), Some(b)) => Value::Bool(if op == And { a && b } else { a || b }),
            (Some(false), None) | (None, Some(false)) if op == And => Value::Bool(false),
            (Some(true), None) | (None, Some(true)) if op == Or => Value::Bool(true),
            _ if l.is_known() && r.is_known() => return Err(Invalid),
            _ => Value::Unknown,
        },
        _ => {
            if !(l.is_known() && r.is_known()) {
                return Ok(Value::Unknown);
            }
            let (Some(a), Some(b)) = (l.as_f64(), r.as_f64()) else {
                return Err(Invalid);
            };
            match op {
                Less => Value::Bool(a < b),
                LessEq => Value::Bool(a <= b),
                Greater => Value::Bool(a > b),
                GreaterEq => Value::Bool(a >= b),
                Plus => Value::Number(a + b),
                Minus => Value::Number(a - b),
                Mul => Value::Number(a * b),
                Div if b != 0.0 => Value::Number(a / b),
                Mod if b != 0.0 => Value::Number(a % b),
                _ => return Err(Invalid),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval_str(src: &str, vars: &[(&str, Value)]) -> Value {
        let body = hcl_edit::parser::parse_body(&format!("x = {src}\n")).expect("parses");
        let attr = body.get_attribute("x").expect("x");
        let vars: Names = vars
            .iter()
            .map(|(k, v)| (Cow::Borrowed(*k), v.clone()))
            .collect();
        let locals = Names::default();
        eval(
            &attr.value,
            &Scope {
                vars: Some(&vars),
                locals: Some(&locals),
                prefix: "module.db.",
                unknown_roots: &[],
                bound: &[],
            },
        )
    }

    #[test]
    fn literals_variables_and_conditionals_resolve() {
        assert_eq!(eval_str("true", &[]), Value::Bool(true));
        assert_eq!(
            eval_str("var.days", &[("days", Value::Number(3.0))]),
            Value::Number(3.0)
        );
        assert_eq!(
            eval_str("var.prod ? 30 : 1", &[("prod", Value::Bool(false))]),
            Value::Number(1.0)
        );
        assert_eq!(
            eval_str(
                "\"${var.env}-db\"",
                &[("env", Value::String("prod".into()))]
            ),
            Value::String("prod-db".into())
        );
        assert_eq!(
            eval_str("lookup({a = 1}, \"b\", 7)", &[]),
            Value::Number(7.0)
        );
    }

    #[test]
    fn what_cannot_be_known_is_unknown() {
        assert_eq!(eval_str("var.missing", &[]), Value::Unknown);
        assert_eq!(eval_str("count.index", &[]), Value::Unknown);
        assert_eq!(eval_str("[for x in var.l : x]", &[]), Value::Unknown);
        assert_eq!(eval_str("timestamp()", &[]), Value::Unknown);
        assert_eq!(eval_str("var.u ? 1 : 2", &[]), Value::Unknown);
    }

    #[test]
    fn references_name_the_resource_in_the_module() {
        let v = eval_str("aws_db_instance.main[0].arn", &[]);
        assert_eq!(
            v,
            Value::Ref(Reference {
                address: "module.db.aws_db_instance.main".into(),
                attr: vec!["arn".into()]
            })
        );
        let v = eval_str("\"${aws_s3_bucket.b.id}\"", &[]);
        assert_eq!(v.as_ref().unwrap().address, "module.db.aws_s3_bucket.b");
    }

    #[test]
    fn nesting_up_to_the_parser_limit_evaluates() {
        // hcl-edit refuses more than 64 levels; everything it accepts evaluates.
        let src = format!("{}1{}", "(".repeat(60), ")".repeat(60));
        assert_eq!(eval_str(&src, &[]), Value::Number(1.0));
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn list(items: &[Value]) -> Value {
        Value::List(items.to_vec())
    }

    fn map(items: &[(&str, Value)]) -> Value {
        Value::Map(
            items
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn null_is_not_set_and_unknown_is_unknown() {
        assert_eq!(eval_str("var.n", &[("n", Value::Null)]), Value::Null);
        assert_eq!(eval_str("var.missing", &[]), Value::Unknown);
        assert_eq!(
            eval_str("var.n == null", &[("n", Value::Null)]),
            Value::Bool(true)
        );
        assert_eq!(
            eval_str("var.n != null ? 1 : 2", &[("n", Value::Null)]),
            Value::Number(2.0)
        );
        // What Terraform refuses is unknown outside try: never a value a rule judges.
        assert_eq!(
            eval_str("var.m.missing", &[("m", map(&[]))]),
            Value::Unknown
        );
        assert_eq!(
            eval_str("var.n ? 1 : 2", &[("n", Value::Null)]),
            Value::Unknown
        );
        assert_eq!(
            eval_str("\"a-${var.n}\"", &[("n", Value::Null)]),
            Value::Unknown
        );
    }

    #[test]
    fn try_takes_the_first_argument_without_an_error() {
        let m = ("m", map(&[("status", s("Suspended"))]));
        // A missing key, tobool of a word: errors, skipped.
        assert_eq!(
            eval_str(
                r#"try(var.m["enabled"] ? "Enabled" : "Suspended", tobool(var.m["status"]) ? "Enabled" : "Suspended", title(lower(var.m["status"])), "Enabled")"#,
                std::slice::from_ref(&m)
            ),
            s("Suspended")
        );
        assert_eq!(
            eval_str(r#"try(var.m["x"], null)"#, std::slice::from_ref(&m)),
            Value::Null
        );
        // Null is a value, not an error.
        assert_eq!(
            eval_str("try(var.n, 1)", &[("n", Value::Null)]),
            Value::Null
        );
        // An index out of range, lookup without a default, element of an empty list.
        assert_eq!(eval_str("try([][0], 7)", &[]), Value::Number(7.0));
        assert_eq!(
            eval_str(r#"try(lookup({}, "k"), 7)"#, &[]),
            Value::Number(7.0)
        );
        assert_eq!(eval_str("try(element([], 0), 7)", &[]), Value::Number(7.0));
        assert_eq!(
            eval_str("try(jsondecode(var.l), var.l)", &[("l", list(&[s("a")]))]),
            list(&[s("a")])
        );
        // All fail: the error stays (unknown outside).
        assert_eq!(eval_str("try([][0])", &[]), Value::Unknown);
        // An argument that depends on an unknown value: whether it fails is not known
        // yet, so the result is unknown, not the next argument (HCL's tryfunc).
        assert_eq!(eval_str("try(var.u, 1)", &[]), Value::Unknown);
        let partly = ("p", map(&[("a", Value::Unknown)]));
        assert_eq!(
            eval_str("try(var.p.a, 1)", std::slice::from_ref(&partly)),
            Value::Unknown
        );
        // Conservative as Terraform is: the whole map is read, and it holds an unknown.
        assert_eq!(
            eval_str("try(length(var.p), 1)", std::slice::from_ref(&partly)),
            Value::Unknown
        );
        // A key the map does not have fails before reaching the unknown.
        assert_eq!(
            eval_str(r#"try(var.p["b"], 1)"#, &[partly]),
            Value::Number(1.0)
        );
        // A failing traversal does not pass through the unknown: it fails whatever it is.
        assert_eq!(
            eval_str(r#"try(var.m["x"]["y"], var.u, 1)"#, &[m]),
            Value::Unknown
        );
        // A reference is the value drlint knows at apply.
        assert!(matches!(
            eval_str("try(aws_s3_bucket.b.id, null)", &[]),
            Value::Ref(_)
        ));
    }

    #[test]
    fn can_says_whether_an_expression_fails() {
        let m = ("m", map(&[("a", Value::Number(1.0))]));
        assert_eq!(
            eval_str("can(var.m.a)", std::slice::from_ref(&m)),
            Value::Bool(true)
        );
        assert_eq!(eval_str("can(var.m.b)", &[m]), Value::Bool(false));
        assert_eq!(eval_str("can(var.u.b)", &[]), Value::Unknown);
    }

    #[test]
    fn functions_registry_modules_use_follow_terraform() {
        let v = map(&[("b", Value::Number(2.0)), ("a", Value::Number(1.0))]);
        let vars = [("v", v), ("e", s("sqlserver-ex")), ("empty", map(&[]))];
        for (src, want) in [
            ("keys(var.v)", list(&[s("a"), s("b")])),
            (
                "values(var.v)",
                list(&[Value::Number(1.0), Value::Number(2.0)]),
            ),
            ("length(keys(var.empty)) > 0 ? 1 : 0", Value::Number(0.0)),
            (r#"lookup(var.v, "a")"#, Value::Number(1.0)),
            (r#"lookup(var.v, "z", 9)"#, Value::Number(9.0)),
            ("length(var.v)", Value::Number(2.0)),
            (r#"length("héllo")"#, Value::Number(5.0)),
            (r#"contains(["a", "b"], "b")"#, Value::Bool(true)),
            (r#"coalesce(null, "", "x")"#, s("x")),
            (
                "merge(var.v, {c = 3}, null)",
                map(&[
                    ("a", Value::Number(1.0)),
                    ("b", Value::Number(2.0)),
                    ("c", Value::Number(3.0)),
                ]),
            ),
            (
                r#"element(split("-", var.e), 0) == "sqlserver""#,
                Value::Bool(true),
            ),
            ("element([1, 2], 3)", Value::Number(2.0)),
            (r#"join(",", ["a", 1, true])"#, s("a,1,true")),
            (r#"concat(["a"], ["b"])"#, list(&[s("a"), s("b")])),
            (r#"flatten([["a"], [["b"]], []])"#, list(&[s("a"), s("b")])),
            (r#"compact(["a", "", null])"#, list(&[s("a")])),
            ("one([])", Value::Null),
            ("one([4])", Value::Number(4.0)),
            (r#"tobool("true")"#, Value::Bool(true)),
            ("tobool(null)", Value::Null),
            ("tostring(14)", s("14")),
            (r#"title("hello world")"#, s("Hello World")),
            (r#"distinct(["a", "a", "b"])"#, list(&[s("a"), s("b")])),
            (r#"zipmap(["a"], [1])"#, map(&[("a", Value::Number(1.0))])),
            ("alltrue([true, false])", Value::Bool(false)),
            (r#"replace("a-b", "-", "_")"#, s("a_b")),
            ("max(1, 5, 3)", Value::Number(5.0)),
        ] {
            assert_eq!(eval_str(src, &vars), want, "{src}");
        }
        // Refused by Terraform: unknown outside try.
        for src in [
            r#"lookup(var.v, "z")"#,
            "one([1, 2])",
            r#"tobool("yes")"#,
            "keys([1])",
            r#"coalesce(null, "")"#,
            "element([], 0)",
        ] {
            assert_eq!(eval_str(src, &vars), Value::Unknown, "{src}");
            assert_eq!(
                eval_str(&format!("try({src}, 0)"), &vars),
                Value::Number(0.0),
                "{src}"
            );
        }
        // Unknown stays unknown where the function needs it, known where it does not.
        assert_eq!(eval_str("keys(var.u)", &vars), Value::Unknown);
        assert_eq!(eval_str("length([var.u, 1])", &vars), Value::Number(2.0));
        assert_eq!(eval_str("merge(var.u, {})", &vars), Value::Unknown);
    }

    #[test]
    fn for_expressions_evaluate_over_known_collections() {
        let vars = [
            (
                "m",
                map(&[("a", Value::Number(1.0)), ("b", Value::Number(2.0))]),
            ),
            ("on", Value::Bool(false)),
        ];
        assert_eq!(
            eval_str("{ for k, v in var.m : k => v if var.on }", &vars),
            map(&[])
        );
        assert_eq!(
            eval_str("[for k, v in var.m : \"${k}=${v}\" if v > 1]", &vars),
            list(&[s("b=2")])
        );
        assert_eq!(
            eval_str("{ for v in [\"x\", \"y\", \"x\"] : v => v... }", &vars),
            map(&[("x", list(&[s("x"), s("x")])), ("y", list(&[s("y")]))])
        );
        assert_eq!(eval_str("[for v in var.u : v]", &vars), Value::Unknown);
        assert_eq!(
            eval_str("{ for v in [1, 1] : v => v }", &vars),
            Value::Unknown
        );
    }

    #[test]
    fn logical_operators_short_circuit_and_null_guards_work() {
        let vars = [("n", Value::Null), ("o", map(&[("on", Value::Bool(true))]))];
        assert_eq!(
            eval_str("var.n != null && var.n.on", &vars),
            Value::Bool(false)
        );
        assert_eq!(
            eval_str("var.o != null && var.o.on", &vars),
            Value::Bool(true)
        );
        assert_eq!(
            eval_str("var.n == null || var.n.on", &vars),
            Value::Bool(true)
        );
    }
}

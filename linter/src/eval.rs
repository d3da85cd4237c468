//! Evaluates HCL expressions the way a reviewer does in their head: literals, variables,
//! locals, references to other resources, simple functions and conditionals. Anything it
//! cannot know is [`Value::Unknown`], and rules never report on an unknown value alone.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use hcl_edit::expr::{BinaryOperator, Expression, ObjectKey, TraversalOperator, UnaryOperator};
use hcl_edit::template::{Element, Template};

/// An evaluated value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, or an argument that is absent.
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

    fn to_template_string(&self) -> Option<String> {
        match self {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(format_number(*n)),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }
}

fn format_number(n: f64) -> String {
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
}

/// Evaluates `expr` in `scope`. Never fails: what it cannot evaluate is `Unknown`.
pub fn eval(expr: &Expression, scope: &Scope<'_>) -> Value {
    eval_depth(expr, scope, 0)
}

// Deeply nested input must not overflow the stack: past this depth the value is unknown.
const MAX_DEPTH: usize = 64;

fn eval_depth(expr: &Expression, scope: &Scope<'_>, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return Value::Unknown;
    }
    let ev = |e: &Expression| eval_depth(e, scope, depth + 1);
    match expr {
        Expression::Null(_) => Value::Null,
        Expression::Bool(b) => Value::Bool(*b.value()),
        Expression::Number(n) => n.value().as_f64().map_or(Value::Unknown, Value::Number),
        Expression::String(s) => Value::String(s.value().to_string()),
        Expression::Array(a) => Value::List(a.iter().map(ev).collect()),
        Expression::Object(o) => {
            let mut map = BTreeMap::new();
            for (key, value) in o.iter() {
                let key = match key {
                    ObjectKey::Ident(id) => id.value().as_str().to_string(),
                    ObjectKey::Expression(e) => match ev(e) {
                        Value::String(s) => s,
                        _ => return Value::Unknown,
                    },
                };
                map.insert(key, ev(value.expr()));
            }
            Value::Map(map)
        }
        Expression::StringTemplate(t) => eval_template(t.iter(), scope, depth),
        Expression::HeredocTemplate(h) => eval_template(h.template.iter(), scope, depth),
        Expression::Parenthesis(p) => ev(p.inner()),
        // A bare name (e.g. `aws` in `providers = { aws = aws }`) is not a value.
        Expression::Variable(_) => Value::Unknown,
        Expression::Conditional(c) => match ev(&c.cond_expr).as_bool() {
            Some(true) => ev(&c.true_expr),
            Some(false) => ev(&c.false_expr),
            None => {
                let (t, f) = (ev(&c.true_expr), ev(&c.false_expr));
                if t == f && t.is_known() {
                    t
                } else {
                    Value::Unknown
                }
            }
        },
        Expression::FuncCall(call) => {
            if !call.name.namespace.is_empty() {
                return Value::Unknown;
            }
            let args: Vec<Value> = call.args.iter().map(ev).collect();
            call_function(call.name.name.value().as_str(), args)
        }
        Expression::Traversal(t) => eval_traversal(&t.expr, &t.operators, scope, depth),
        Expression::UnaryOp(op) => {
            let v = ev(&op.expr);
            match op.operator.value() {
                UnaryOperator::Not => v.as_bool().map_or(Value::Unknown, |b| Value::Bool(!b)),
                UnaryOperator::Neg => v.as_f64().map_or(Value::Unknown, |n| Value::Number(-n)),
            }
        }
        Expression::BinaryOp(op) => {
            binary(*op.operator.value(), ev(&op.lhs_expr), ev(&op.rhs_expr))
        }
        Expression::ForExpr(_) => Value::Unknown,
    }
}

fn eval_template<'t>(
    elements: impl Iterator<Item = &'t Element>,
    scope: &Scope<'_>,
    depth: usize,
) -> Value {
    let elements: Vec<&Element> = elements.collect();
    // "${aws_s3_bucket.x.id}" is the reference itself, as in Terraform.
    if let [Element::Interpolation(i)] = elements.as_slice() {
        return eval_depth(&i.expr, scope, depth + 1);
    }
    let mut out = String::new();
    for element in elements {
        match element {
            Element::Literal(s) => out.push_str(s.value()),
            Element::Interpolation(i) => {
                match eval_depth(&i.expr, scope, depth + 1).to_template_string() {
                    Some(s) => out.push_str(&s),
                    None => return Value::Unknown,
                }
            }
            Element::Directive(_) => return Value::Unknown,
        }
    }
    Value::String(out)
}

/// Evaluates a whole template (heredoc bodies); exposed for tests.
pub fn eval_template_str(t: &Template, scope: &Scope<'_>) -> Value {
    eval_template(t.iter(), scope, 0)
}

fn eval_traversal(
    root: &Expression,
    ops: &[hcl_edit::Decorated<TraversalOperator>],
    scope: &Scope<'_>,
    depth: usize,
) -> Value {
    let attr = |i: usize| -> Option<&str> {
        match ops.get(i).map(|o| o.value()) {
            Some(TraversalOperator::GetAttr(id)) => Some(id.value().as_str()),
            _ => None,
        }
    };
    match root {
        Expression::Variable(v) => {
            let name = v.value().as_str();
            if scope.unknown_roots.iter().any(|r| r == name) {
                return Value::Unknown;
            }
            match name {
                "var" | "local" => {
                    let Some(key) = attr(0) else {
                        return Value::Unknown;
                    };
                    let table = if name == "var" {
                        scope.vars
                    } else {
                        scope.locals
                    };
                    // Walked by reference: `var.tags.Name` copies one string, not the map.
                    match table.and_then(|t| t.get(key)) {
                        Some(v) => traverse(v, &ops[1..], scope, depth),
                        None => Value::Unknown,
                    }
                }
                "count" | "each" | "self" | "path" | "terraform" | "module" => Value::Unknown,
                "data" => {
                    let (Some(kind), Some(rname)) = (attr(0), attr(1)) else {
                        return Value::Unknown;
                    };
                    let address = format!("{}data.{kind}.{rname}", scope.prefix);
                    Value::Ref(reference(address, &ops[2..]))
                }
                kind if kind.contains('_') => {
                    let Some(rname) = attr(0) else {
                        return Value::Unknown;
                    };
                    let address = format!("{}{kind}.{rname}", scope.prefix);
                    Value::Ref(reference(address, &ops[1..]))
                }
                _ => Value::Unknown,
            }
        }
        other => traverse(&eval_depth(other, scope, depth + 1), ops, scope, depth),
    }
}

/// What `ops` reach from `value`; unknown where an operator does not apply.
fn traverse(
    value: &Value,
    ops: &[hcl_edit::Decorated<TraversalOperator>],
    scope: &Scope<'_>,
    depth: usize,
) -> Value {
    let mut value = value;
    for op in ops {
        let next = match (value, op.value()) {
            (Value::Map(m), TraversalOperator::GetAttr(id)) => m.get(id.value().as_str()),
            (Value::Map(m), TraversalOperator::Index(e)) => match eval_depth(e, scope, depth + 1) {
                Value::String(k) => m.get(&k),
                _ => None,
            },
            (Value::List(l), TraversalOperator::Index(e)) => {
                match eval_depth(e, scope, depth + 1).as_f64() {
                    Some(i) if i >= 0.0 && (i as usize) < l.len() => l.get(i as usize),
                    _ => None,
                }
            }
            (Value::List(l), TraversalOperator::LegacyIndex(i)) => l.get(*i.value() as usize),
            _ => None,
        };
        match next {
            Some(v) => value = v,
            None => return Value::Unknown,
        }
    }
    value.clone()
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

fn binary(op: BinaryOperator, l: Value, r: Value) -> Value {
    use BinaryOperator::*;
    match op {
        Eq | NotEq => {
            if !(l.is_known() && r.is_known()) {
                return Value::Unknown;
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
            _ => Value::Unknown,
        },
        _ => {
            let (Some(a), Some(b)) = (l.as_f64(), r.as_f64()) else {
                return Value::Unknown;
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
                _ => Value::Unknown,
            }
        }
    }
}

/// The few built-in functions whose result matters for DR settings; the rest are unknown.
fn call_function(name: &str, args: Vec<Value>) -> Value {
    let known = |v: &Value| v.is_known();
    match name {
        "tostring" | "tonumber" | "tobool" | "tolist" | "toset" | "tomap" | "sensitive"
        | "nonsensitive" => args.into_iter().next().unwrap_or(Value::Unknown),
        "lower" | "upper" | "trimspace" => match args.first().and_then(Value::as_str) {
            Some(s) => Value::String(match name {
                "lower" => s.to_lowercase(),
                "upper" => s.to_uppercase(),
                _ => s.trim().to_string(),
            }),
            None => Value::Unknown,
        },
        "lookup" => match (args.first(), args.get(1).and_then(Value::as_str)) {
            (Some(Value::Map(m)), Some(k)) => m
                .get(k)
                .cloned()
                .or_else(|| args.get(2).cloned())
                .unwrap_or(Value::Unknown),
            _ => Value::Unknown,
        },
        "merge" => {
            let mut out = BTreeMap::new();
            for a in args {
                match a {
                    Value::Map(m) => out.extend(m),
                    Value::Null => {}
                    _ => return Value::Unknown,
                }
            }
            Value::Map(out)
        }
        "coalesce" => {
            for a in args {
                match a {
                    Value::Null => continue,
                    Value::String(s) if s.is_empty() => continue,
                    v if known(&v) => return v,
                    _ => return Value::Unknown,
                }
            }
            Value::Unknown
        }
        "try" => match args.into_iter().next() {
            Some(v) if known(&v) => v,
            _ => Value::Unknown,
        },
        "concat" => {
            let mut out = Vec::new();
            for a in args {
                match a {
                    Value::List(l) => out.extend(l),
                    _ => return Value::Unknown,
                }
            }
            Value::List(out)
        }
        "length" => match args.first() {
            Some(Value::List(l)) => Value::Number(l.len() as f64),
            Some(Value::Map(m)) => Value::Number(m.len() as f64),
            Some(Value::String(s)) => Value::Number(s.chars().count() as f64),
            _ => Value::Unknown,
        },
        "contains" => match (args.first(), args.get(1)) {
            (Some(Value::List(l)), Some(v)) if known(v) && l.iter().all(known) => {
                Value::Bool(l.contains(v))
            }
            _ => Value::Unknown,
        },
        "join" => match (args.first().and_then(Value::as_str), args.get(1)) {
            (Some(sep), Some(Value::List(l))) => {
                let parts: Option<Vec<String>> = l.iter().map(Value::to_template_string).collect();
                parts.map_or(Value::Unknown, |p| Value::String(p.join(sep)))
            }
            _ => Value::Unknown,
        },
        "format" => {
            let Some(fmt) = args.first().and_then(Value::as_str) else {
                return Value::Unknown;
            };
            let mut out = String::new();
            let mut rest = args[1..].iter();
            let mut chars = fmt.chars().peekable();
            while let Some(c) = chars.next() {
                if c != '%' {
                    out.push(c);
                    continue;
                }
                match chars.next() {
                    Some('%') => out.push('%'),
                    Some('s') | Some('d') | Some('v') => {
                        match rest.next().and_then(Value::to_template_string) {
                            Some(s) => out.push_str(&s),
                            None => return Value::Unknown,
                        }
                    }
                    _ => return Value::Unknown,
                }
            }
            Value::String(out)
        }
        "max" | "min" => {
            let nums: Option<Vec<f64>> = args.iter().map(Value::as_f64).collect();
            match nums {
                Some(n) if !n.is_empty() => Value::Number(if name == "max" {
                    n.into_iter().fold(f64::MIN, f64::max)
                } else {
                    n.into_iter().fold(f64::MAX, f64::min)
                }),
                _ => Value::Unknown,
            }
        }
        _ => Value::Unknown,
    }
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
}

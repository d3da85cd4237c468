//! A variable's value converted to its declared `type`, as Terraform converts it before
//! the module sees it: `"true"` becomes `true` for a `bool`, and an object type fills
//! the attributes its caller left out with `null` or their `optional(type, default)`
//! (so `var.settings.enabled` is null, not an error `try` would skip). What does not
//! convert is left as it is: Terraform would refuse the configuration.

use std::collections::BTreeMap;

use hcl_edit::expr::{Expression, ObjectKey};

use super::{format_number, Value};

/// `value` converted to the type the expression `ty` declares, in place: most values
/// already have their type, and nothing is copied for them.
pub(crate) fn convert(value: &mut Value, ty: &Expression) {
    convert_depth(value, ty, 0);
}

// Type expressions nest as deep as their author wrote; past this, values stay as given.
const MAX_DEPTH: usize = 32;

fn convert_depth(value: &mut Value, ty: &Expression, depth: usize) {
    if depth > MAX_DEPTH || matches!(value, Value::Unknown | Value::Ref(_) | Value::Null) {
        return;
    }
    match ty {
        Expression::Variable(v) => {
            let converted = match (v.value().as_str(), &*value) {
                ("string", Value::Number(n)) => Value::String(format_number(*n)),
                ("string", Value::Bool(b)) => Value::String(b.to_string()),
                ("number", Value::String(s)) => match s.trim().parse() {
                    Ok(n) => Value::Number(n),
                    Err(_) => return,
                },
                ("bool", Value::String(s)) if s == "true" || s == "false" => {
                    Value::Bool(s == "true")
                }
                _ => return,
            };
            *value = converted;
        }
        Expression::FuncCall(call) if call.name.namespace.is_empty() => {
            let arg = call.args.iter().next();
            match (call.name.name.value().as_str(), arg, value) {
                ("list" | "set", Some(t), Value::List(items)) => {
                    for v in items {
                        convert_depth(v, t, depth + 1);
                    }
                }
                ("map", Some(t), Value::Map(m)) => {
                    for v in m.values_mut() {
                        convert_depth(v, t, depth + 1);
                    }
                }
                ("tuple", Some(Expression::Array(types)), Value::List(items)) => {
                    for (v, t) in items.iter_mut().zip(types.iter()) {
                        convert_depth(v, t, depth + 1);
                    }
                }
                ("object", Some(Expression::Object(attrs)), Value::Map(m)) => {
                    object(m, attrs, depth)
                }
                _ => {}
            }
        }
        Expression::Parenthesis(p) => convert_depth(value, p.inner(), depth + 1),
        _ => {}
    }
}

/// Only the declared attributes are kept (Terraform drops the others); a missing or null
/// `optional` attribute takes its default, or null.
fn object(given: &mut BTreeMap<String, Value>, attrs: &hcl_edit::expr::Object, depth: usize) {
    let mut out = BTreeMap::new();
    for (key, ty) in attrs.iter() {
        let name = match key {
            ObjectKey::Ident(id) => id.value().as_str().to_string(),
            ObjectKey::Expression(Expression::String(s)) => s.value().to_string(),
            // A key that is not a name: the type is not understood, keep what was given.
            ObjectKey::Expression(_) => return,
        };
        let value = given.remove(&name);
        let converted = match optional(ty.expr()) {
            Some((inner, default)) => match value {
                Some(mut v) if !v.is_null() => {
                    convert_depth(&mut v, inner, depth + 1);
                    v
                }
                _ => default.map_or(Value::Null, |d| {
                    let mut v = super::eval(d, &super::Scope::default());
                    convert_depth(&mut v, inner, depth + 1);
                    v
                }),
            },
            None => match value {
                Some(mut v) => {
                    convert_depth(&mut v, ty.expr(), depth + 1);
                    v
                }
                // A required attribute left out: Terraform refuses the call.
                None => continue,
            },
        };
        out.insert(name, converted);
    }
    *given = out;
}

/// `optional(type)` or `optional(type, default)`: the type and the default expression.
fn optional(ty: &Expression) -> Option<(&Expression, Option<&Expression>)> {
    match ty {
        Expression::FuncCall(call)
            if call.name.namespace.is_empty() && call.name.name.value().as_str() == "optional" =>
        {
            let mut args = call.args.iter();
            Some((args.next()?, args.next()))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn converted(value: &str, ty: &str) -> Value {
        let body = hcl_edit::parser::parse_body(&format!("v = {value}\nt = {ty}\n")).unwrap();
        let mut v = super::super::eval(
            &body.get_attribute("v").unwrap().value,
            &super::super::Scope::default(),
        );
        convert(&mut v, &body.get_attribute("t").unwrap().value);
        v
    }

    #[test]
    fn optional_attributes_are_filled_and_others_dropped() {
        let v = converted(
            r#"{ name = "orders", extra = 1 }"#,
            r#"object({ name = string, enabled = optional(bool), days = optional(number, 7) })"#,
        );
        let m = v.as_map().unwrap();
        assert_eq!(m.get("enabled"), Some(&Value::Null));
        assert_eq!(m.get("days"), Some(&Value::Number(7.0)));
        assert_eq!(m.get("name"), Some(&Value::String("orders".into())));
        assert!(!m.contains_key("extra"));
    }

    #[test]
    fn primitives_convert_as_terraform_does() {
        assert_eq!(converted(r#""true""#, "bool"), Value::Bool(true));
        assert_eq!(converted(r#""14""#, "number"), Value::Number(14.0));
        assert_eq!(converted("14", "string"), Value::String("14".into()));
        assert_eq!(
            converted(r#"{ a = true }"#, "map(string)"),
            Value::Map([("a".to_string(), Value::String("true".into()))].into())
        );
        // Not convertible: left as given (Terraform refuses the configuration).
        assert_eq!(converted(r#""yes""#, "bool"), Value::String("yes".into()));
        assert_eq!(converted("null", "bool"), Value::Null);
    }
}

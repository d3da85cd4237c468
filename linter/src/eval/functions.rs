//! Terraform's built-in functions, on evaluated arguments, with Terraform's semantics: an
//! argument Terraform refuses is an error (which `try` catches), an unknown argument makes
//! the result unknown unless the function does not need it (`length` of a list with
//! unknown elements is known). A function not listed here is unknown. `try` and `can`
//! take their arguments unevaluated: they are in the evaluator.

use std::collections::BTreeMap;

use super::{format_number, Evaluated, Invalid, Value};

/// Calls the function `name` on `args`.
pub(super) fn call(name: &str, args: Vec<Value>) -> Evaluated {
    match name {
        "tostring" | "tonumber" | "tobool" => one_arg(args).and_then(|v| convert(name, v)),
        "tolist" | "toset" | "tomap" | "sensitive" | "nonsensitive" => one_arg(args),
        "lower" | "upper" | "trimspace" | "title" => {
            let arg = one_arg(args)?;
            Ok(string_arg(&arg)?.map_or(Value::Unknown, |s| {
                Value::String(match name {
                    "lower" => s.to_lowercase(),
                    "upper" => s.to_uppercase(),
                    "title" => title(s),
                    _ => s.trim().to_string(),
                })
            }))
        }
        "keys" | "values" => match one_arg(args)? {
            Value::Map(m) => Ok(Value::List(if name == "keys" {
                m.into_keys().map(Value::String).collect()
            } else {
                m.into_values().collect()
            })),
            v => unknown_or_invalid(&v),
        },
        "lookup" => lookup(args),
        "length" => match one_arg(args)? {
            Value::List(l) => Ok(Value::Number(l.len() as f64)),
            Value::Map(m) => Ok(Value::Number(m.len() as f64)),
            Value::String(s) => Ok(Value::Number(s.chars().count() as f64)),
            v => unknown_or_invalid(&v),
        },
        "contains" => {
            let [list, item] = two_args(args)?;
            match list {
                Value::List(l) if !item.is_known() || l.iter().any(|v| !v.is_known()) => {
                    Ok(Value::Unknown)
                }
                Value::List(l) => Ok(Value::Bool(l.iter().any(|v| same(v, &item)))),
                v => unknown_or_invalid(&v),
            }
        }
        "coalesce" => {
            for a in args {
                match a {
                    Value::Null => continue,
                    Value::String(s) if s.is_empty() => continue,
                    v if v.is_known() => return Ok(v),
                    _ => return Ok(Value::Unknown),
                }
            }
            Err(Invalid)
        }
        "coalescelist" => {
            for a in args {
                match a {
                    Value::List(l) if l.is_empty() => continue,
                    Value::List(l) => return Ok(Value::List(l)),
                    v => return unknown_or_invalid(&v),
                }
            }
            Err(Invalid)
        }
        "merge" => {
            let mut out = BTreeMap::new();
            let mut unknown = false;
            for a in args {
                match a {
                    Value::Map(m) => out.extend(m),
                    Value::Null => {}
                    Value::Unknown | Value::Ref(_) => unknown = true,
                    _ => return Err(Invalid),
                }
            }
            Ok(if unknown {
                Value::Unknown
            } else {
                Value::Map(out)
            })
        }
        "concat" => {
            let mut out = Vec::new();
            for a in args {
                match a {
                    Value::List(l) => out.extend(l),
                    v => return unknown_or_invalid(&v),
                }
            }
            Ok(Value::List(out))
        }
        "flatten" => match one_arg(args)? {
            Value::List(l) => {
                let mut out = Vec::new();
                Ok(if flatten(l, &mut out) {
                    Value::List(out)
                } else {
                    Value::Unknown
                })
            }
            v => unknown_or_invalid(&v),
        },
        "compact" => match one_arg(args)? {
            Value::List(l) if l.iter().any(|v| !v.is_known()) => Ok(Value::Unknown),
            Value::List(l) => {
                let mut out = Vec::new();
                for v in l {
                    match v {
                        Value::Null => {}
                        Value::String(s) if s.is_empty() => {}
                        v => out.push(Value::String(v.to_template_string().ok_or(Invalid)?)),
                    }
                }
                Ok(Value::List(out))
            }
            v => unknown_or_invalid(&v),
        },
        "distinct" => match one_arg(args)? {
            Value::List(l) if l.iter().any(|v| !v.is_known()) => Ok(Value::Unknown),
            Value::List(l) => {
                let mut out: Vec<Value> = Vec::with_capacity(l.len());
                for v in l {
                    if !out.iter().any(|o| same(o, &v)) {
                        out.push(v);
                    }
                }
                Ok(Value::List(out))
            }
            v => unknown_or_invalid(&v),
        },
        "one" => match one_arg(args)? {
            Value::List(mut l) => match l.len() {
                0 => Ok(Value::Null),
                1 => Ok(l.remove(0)),
                _ => Err(Invalid),
            },
            Value::Null => Err(Invalid),
            v => unknown_or_invalid(&v),
        },
        "element" => {
            let [list, index] = two_args(args)?;
            match (list, index) {
                (Value::List(l), index) if index.is_known() => {
                    let i = index.as_f64().ok_or(Invalid)?;
                    // Terraform wraps an index past the end; a negative one is refused.
                    if l.is_empty() || i < 0.0 || i.fract() != 0.0 {
                        return Err(Invalid);
                    }
                    Ok(l[(i as usize) % l.len()].clone())
                }
                (Value::List(_), _) => Ok(Value::Unknown),
                (list, _) => unknown_or_invalid(&list),
            }
        }
        "split" => {
            let [sep, s] = two_args(args)?;
            match (string_arg(&sep)?, string_arg(&s)?) {
                (Some(sep), Some(s)) => Ok(Value::List(split(sep, s))),
                _ => Ok(Value::Unknown),
            }
        }
        "join" => {
            let mut args = args.into_iter();
            let Some(sep) = args.next() else {
                return Err(Invalid);
            };
            let sep = string_arg(&sep)?.map(str::to_string);
            let mut parts = Vec::new();
            let mut lists = 0;
            for list in args {
                lists += 1;
                match list {
                    Value::List(l) => {
                        for v in l {
                            match v {
                                Value::Unknown | Value::Ref(_) => return Ok(Value::Unknown),
                                v => parts.push(v.to_template_string().ok_or(Invalid)?),
                            }
                        }
                    }
                    v => return unknown_or_invalid(&v),
                }
            }
            if lists == 0 {
                return Err(Invalid);
            }
            Ok(sep.map_or(Value::Unknown, |sep| Value::String(parts.join(&sep))))
        }
        "format" => format(args),
        "replace" => {
            let mut it = args.into_iter();
            let (Some(s), Some(from), Some(to), None) =
                (it.next(), it.next(), it.next(), it.next())
            else {
                return Err(Invalid);
            };
            match (string_arg(&s)?, string_arg(&from)?, string_arg(&to)?) {
                // A `/regex/` pattern is not modelled.
                (_, Some(f), _) if f.len() > 1 && f.starts_with('/') && f.ends_with('/') => {
                    Ok(Value::Unknown)
                }
                (Some(s), Some(f), Some(t)) => Ok(Value::String(s.replace(f, t))),
                _ => Ok(Value::Unknown),
            }
        }
        "startswith" | "endswith" | "strcontains" => {
            let [s, part] = two_args(args)?;
            match (string_arg(&s)?, string_arg(&part)?) {
                (Some(s), Some(p)) => Ok(Value::Bool(match name {
                    "startswith" => s.starts_with(p),
                    "endswith" => s.ends_with(p),
                    _ => s.contains(p),
                })),
                _ => Ok(Value::Unknown),
            }
        }
        "alltrue" | "anytrue" => match one_arg(args)? {
            Value::List(l) => {
                let mut unknown = false;
                for v in &l {
                    match v.as_bool() {
                        Some(b) if b == (name == "anytrue") => return Ok(Value::Bool(b)),
                        Some(_) => {}
                        None if v.is_known() => return Err(Invalid),
                        None => unknown = true,
                    }
                }
                Ok(if unknown {
                    Value::Unknown
                } else {
                    Value::Bool(name == "alltrue")
                })
            }
            v => unknown_or_invalid(&v),
        },
        "zipmap" => {
            let [keys, values] = two_args(args)?;
            match (keys, values) {
                (Value::List(k), Value::List(v)) if k.len() == v.len() => {
                    let mut out = BTreeMap::new();
                    for (k, v) in k.into_iter().zip(v) {
                        match k {
                            Value::Unknown | Value::Ref(_) => return Ok(Value::Unknown),
                            k => out.insert(k.to_template_string().ok_or(Invalid)?, v),
                        };
                    }
                    Ok(Value::Map(out))
                }
                (Value::List(_), Value::List(_)) => Err(Invalid),
                (k, v) => unknown_or_invalid(&k).and(unknown_or_invalid(&v)),
            }
        }
        "jsondecode" => match string_arg(&one_arg(args)?)? {
            Some(s) => serde_json::from_str::<serde_json::Value>(s)
                .map(|j| Value::from_json(&j))
                .map_err(|_| Invalid),
            None => Ok(Value::Unknown),
        },
        "max" | "min" => {
            if args.iter().any(|a| !a.is_known()) {
                return Ok(Value::Unknown);
            }
            let nums: Option<Vec<f64>> = args.iter().map(Value::as_f64).collect();
            match nums {
                Some(n) if !n.is_empty() => Ok(Value::Number(if name == "max" {
                    n.into_iter().fold(f64::MIN, f64::max)
                } else {
                    n.into_iter().fold(f64::MAX, f64::min)
                })),
                _ => Err(Invalid),
            }
        }
        "abs" | "ceil" | "floor" => match one_arg(args)? {
            v if !v.is_known() => Ok(Value::Unknown),
            v => {
                let n = v.as_f64().ok_or(Invalid)?;
                Ok(Value::Number(match name {
                    "abs" => n.abs(),
                    "ceil" => n.ceil(),
                    _ => n.floor(),
                }))
            }
        },
        _ => Ok(Value::Unknown),
    }
}

fn one_arg(args: Vec<Value>) -> Evaluated {
    let mut it = args.into_iter();
    match (it.next(), it.next()) {
        (Some(v), None) => Ok(v),
        _ => Err(Invalid),
    }
}

fn two_args(args: Vec<Value>) -> Result<[Value; 2], Invalid> {
    <[Value; 2]>::try_from(args).map_err(|_| Invalid)
}

/// Unknown when `v` is, else the error of a value of the wrong kind.
fn unknown_or_invalid(v: &Value) -> Evaluated {
    match v {
        Value::Unknown | Value::Ref(_) => Ok(Value::Unknown),
        _ => Err(Invalid),
    }
}

/// The string of a string argument (numbers and booleans convert); `None` when unknown.
fn string_arg(v: &Value) -> Result<Option<&str>, Invalid> {
    match v {
        Value::String(s) => Ok(Some(s)),
        Value::Unknown | Value::Ref(_) => Ok(None),
        // A number or bool converts, but not without a copy: not needed by any caller.
        _ => Err(Invalid),
    }
}

/// Equality as Terraform's `==` and `contains` see it.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y,
        _ => a == b,
    }
}

/// `tostring`, `tonumber`, `tobool`: null stays null; what does not convert is an error.
fn convert(name: &str, v: Value) -> Evaluated {
    if v.is_null() {
        return Ok(Value::Null);
    }
    if !v.is_known() {
        return Ok(Value::Unknown);
    }
    match name {
        "tostring" => v.to_template_string().map(Value::String).ok_or(Invalid),
        "tonumber" => v.as_f64().map(Value::Number).ok_or(Invalid),
        _ => match v {
            Value::Bool(_) | Value::String(_) => v.as_bool().map(Value::Bool).ok_or(Invalid),
            _ => Err(Invalid),
        },
    }
}

/// `lookup(map, key)` and `lookup(map, key, default)`: a missing key without a default is
/// an error.
fn lookup(args: Vec<Value>) -> Evaluated {
    if !(2..=3).contains(&args.len()) {
        return Err(Invalid);
    }
    let mut it = args.into_iter();
    let (map, key, default) = (it.next(), it.next(), it.next());
    let key = match key {
        Some(Value::String(k)) => k,
        Some(Value::Number(n)) => format_number(n),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Unknown | Value::Ref(_)) => return Ok(Value::Unknown),
        _ => return Err(Invalid),
    };
    match map {
        Some(Value::Map(mut m)) => match (m.remove(&key), default) {
            (Some(v), _) => Ok(v),
            (None, Some(d)) => Ok(d),
            (None, None) => Err(Invalid),
        },
        Some(v) => unknown_or_invalid(&v),
        None => Err(Invalid),
    }
}

/// Flattens nested lists into `out`; false when an unknown element (maybe a list) is met.
fn flatten(list: Vec<Value>, out: &mut Vec<Value>) -> bool {
    for v in list {
        match v {
            Value::List(inner) => {
                if !flatten(inner, out) {
                    return false;
                }
            }
            Value::Unknown | Value::Ref(_) => return false,
            v => out.push(v),
        }
    }
    true
}

/// `split(sep, s)`: an empty string splits into one empty string, as in Terraform.
fn split(sep: &str, s: &str) -> Vec<Value> {
    if sep.is_empty() {
        return s.chars().map(|c| Value::String(c.to_string())).collect();
    }
    s.split(sep).map(|p| Value::String(p.to_string())).collect()
}

/// `title("hello world")` → `"Hello World"`: the first letter of each word upper-cased.
fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut start = true;
    for c in s.chars() {
        if start && c.is_alphabetic() {
            out.extend(c.to_uppercase());
        } else {
            out.push(c);
        }
        start = !c.is_alphanumeric();
    }
    out
}

/// `format` with `%s`, `%d`, `%v` and `%%`; other verbs are unknown.
fn format(args: Vec<Value>) -> Evaluated {
    let Some(fmt) = args.first() else {
        return Err(Invalid);
    };
    let Some(fmt) = string_arg(fmt)? else {
        return Ok(Value::Unknown);
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
            Some('s') | Some('d') | Some('v') => match rest.next() {
                Some(Value::Unknown | Value::Ref(_)) => return Ok(Value::Unknown),
                Some(v) => out.push_str(&v.to_template_string().ok_or(Invalid)?),
                None => return Err(Invalid),
            },
            _ => return Ok(Value::Unknown),
        }
    }
    Ok(Value::String(out))
}

//! Verification expectations: `> 0`, `= 42`, `!= 0`, `>= 1`, `rows >= 1`, `= 'ok'`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Op {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
}

impl Op {
    fn symbol(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
        }
    }
}

/// What a verification query must return.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Expect {
    /// Compare the number of rows instead of the first column of the first row.
    pub rows: bool,
    /// The comparison.
    pub op: Op,
    /// The right-hand side: a number, or a string compared for (in)equality.
    pub operand: Operand,
}

/// The right-hand side of an expectation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Operand {
    /// A number.
    Number(f64),
    /// A quoted string, `'ok'`.
    Text(String),
}

/// Why an expectation does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid expect {input:?}: {why}; write e.g. \"> 0\", \"= 42\", \"!= 0\", \"rows >= 1\" or \"= 'ok'\"")]
pub struct ExpectError {
    input: String,
    why: &'static str,
}

impl FromStr for Expect {
    type Err = ExpectError;
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |why| ExpectError {
            input: input.to_string(),
            why,
        };
        let mut s = input.trim();
        let rows = match s.strip_prefix("rows") {
            Some(rest) if rest.starts_with(|c: char| c.is_whitespace() || "=!<>".contains(c)) => {
                s = rest.trim_start();
                true
            }
            _ => false,
        };
        let (op, rest) = [
            (">=", Op::Ge),
            ("<=", Op::Le),
            ("!=", Op::Ne),
            ("==", Op::Eq),
            ("=", Op::Eq),
            (">", Op::Gt),
            ("<", Op::Lt),
        ]
        .iter()
        .find_map(|(sym, op)| s.strip_prefix(sym).map(|rest| (*op, rest.trim())))
        .ok_or_else(|| err("it must start with =, !=, >, >=, < or <="))?;
        if rest.is_empty() {
            return Err(err("nothing to compare with"));
        }
        let operand = if let Some(text) = rest.strip_prefix('\'').and_then(|r| r.strip_suffix('\''))
        {
            if !matches!(op, Op::Eq | Op::Ne) || rows {
                return Err(err("a text value only compares with = or !="));
            }
            Operand::Text(text.to_string())
        } else {
            Operand::Number(
                rest.parse()
                    .map_err(|_| err("the value is not a number (quote text as 'text')"))?,
            )
        };
        Ok(Expect { rows, op, operand })
    }
}

impl fmt::Display for Expect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.rows {
            f.write_str("rows ")?;
        }
        match &self.operand {
            Operand::Number(n) => write!(f, "{} {n}", self.op.symbol()),
            Operand::Text(t) => write!(f, "{} '{t}'", self.op.symbol()),
        }
    }
}

impl Expect {
    /// Whether `value` (the first column of the first row as text, `None` for no row or
    /// NULL) or `rows` (the row count) meets the expectation.
    pub fn check(&self, value: Option<&str>, rows: usize) -> bool {
        let actual = if self.rows {
            Some(rows.to_string())
        } else {
            value.map(str::to_string)
        };
        let Some(actual) = actual else {
            return false;
        };
        match &self.operand {
            Operand::Number(want) => {
                let Ok(got) = actual.trim().parse::<f64>() else {
                    return false;
                };
                match self.op {
                    Op::Eq => got == *want,
                    Op::Ne => got != *want,
                    Op::Gt => got > *want,
                    Op::Ge => got >= *want,
                    Op::Lt => got < *want,
                    Op::Le => got <= *want,
                }
            }
            Operand::Text(want) => match self.op {
                Op::Eq => actual == *want,
                Op::Ne => actual != *want,
                _ => false,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_forms_parse_and_check() {
        let e: Expect = "> 0".parse().unwrap();
        assert!(e.check(Some("5000"), 1));
        assert!(!e.check(Some("0"), 1));
        assert!(!e.check(None, 0), "no row never passes");
        let e: Expect = "= 42".parse().unwrap();
        assert!(e.check(Some("42"), 1) && e.check(Some("42.0"), 1));
        let e: Expect = "rows >= 1".parse().unwrap();
        assert!(e.check(None, 3) && !e.check(Some("9"), 0));
        let e: Expect = "!= 0".parse().unwrap();
        assert!(e.check(Some("1"), 1));
        let e: Expect = "= 'ok'".parse().unwrap();
        assert!(e.check(Some("ok"), 1) && !e.check(Some("okay"), 1));
        assert_eq!(e.to_string(), "= 'ok'");
        assert_eq!(
            "rows>=1".parse::<Expect>().unwrap().to_string(),
            "rows >= 1"
        );
    }

    #[test]
    fn bad_forms_say_what_to_write() {
        for bad in ["", "0", "> ", "> zero", "rows > 'x'", "< 'a'", "=> 1"] {
            let e = bad.parse::<Expect>().unwrap_err().to_string();
            assert!(e.contains("rows >= 1"), "{bad}: {e}");
        }
    }
}

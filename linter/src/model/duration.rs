//! Durations as users write them in `rpo`, `rto` and `interval`: `30s`, `5m`, `1h`, `7d`,
//! `0`, and compounds such as `1h30m`.

use std::fmt;
use std::str::FromStr;

/// A whole number of seconds, parsed from and printed as drkit's duration syntax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

/// Why a duration string was rejected; the message names the accepted forms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid duration {input:?}: {reason}; use a number with a unit s, m, h or d, such as \"30s\", \"15m\", \"4h\" or \"7d\" (or \"0\")")]
pub struct DurationError {
    input: String,
    reason: &'static str,
}

impl Duration {
    /// Zero: no data loss or no downtime at all.
    pub const ZERO: Duration = Duration(0);

    /// A duration of `secs` seconds.
    pub const fn from_secs(secs: u64) -> Self {
        Duration(secs)
    }

    /// A duration of `minutes` minutes.
    pub const fn from_mins(minutes: u64) -> Self {
        Duration(minutes * 60)
    }

    /// A duration of `hours` hours.
    pub const fn from_hours(hours: u64) -> Self {
        Duration(hours * 3600)
    }

    /// A duration of `days` days.
    pub const fn from_days(days: u64) -> Self {
        Duration(days * 86_400)
    }

    /// The length in seconds.
    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// True for `0`.
    pub const fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let err = |reason| DurationError {
            input: input.to_string(),
            reason,
        };
        let text = input.trim();
        if text.is_empty() {
            return Err(err("it is empty"));
        }
        if text == "0" {
            return Ok(Duration::ZERO);
        }
        let mut total: u64 = 0;
        let mut digits = String::new();
        let mut last_unit_rank = usize::MAX;
        for ch in text.chars() {
            if ch.is_ascii_digit() {
                digits.push(ch);
                continue;
            }
            let (rank, scale) = match ch {
                'd' => (3, 86_400),
                'h' => (2, 3_600),
                'm' => (1, 60),
                's' => (0, 1),
                _ => return Err(err("it has a character that is neither a digit nor a unit")),
            };
            if digits.is_empty() {
                return Err(err("a unit has no number before it"));
            }
            if rank >= last_unit_rank {
                return Err(err("units must go from largest to smallest, each once"));
            }
            last_unit_rank = rank;
            let value: u64 = digits.parse().map_err(|_| err("the number is too large"))?;
            total = value
                .checked_mul(scale)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| err("the number is too large"))?;
            digits.clear();
        }
        if !digits.is_empty() {
            return Err(err("the last number has no unit"));
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    /// Prints the shortest form that parses back to the same value: `90m` as `1h30m`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0");
        }
        let mut rest = self.0;
        for (unit, scale) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
            if rest >= scale {
                write!(f, "{}{unit}", rest / scale)?;
                rest %= scale;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_each_unit_and_compounds() {
        assert_eq!("30s".parse::<Duration>().unwrap().as_secs(), 30);
        assert_eq!("5m".parse::<Duration>().unwrap().as_secs(), 300);
        assert_eq!("1h".parse::<Duration>().unwrap().as_secs(), 3600);
        assert_eq!("7d".parse::<Duration>().unwrap().as_secs(), 604_800);
        assert_eq!("1h30m".parse::<Duration>().unwrap().as_secs(), 5400);
        assert_eq!("0".parse::<Duration>().unwrap(), Duration::ZERO);
    }

    #[test]
    fn rejects_malformed_forms_with_a_hint() {
        for bad in [
            "",
            "5",
            "m",
            "5x",
            "1m1h",
            "1h1h",
            "-5m",
            "5 m",
            "99999999999999999999d",
        ] {
            let err = bad.parse::<Duration>().unwrap_err().to_string();
            assert!(err.contains("\"15m\""), "{bad:?}: {err}");
        }
    }

    #[test]
    fn prints_the_canonical_form() {
        assert_eq!(Duration::from_secs(5400).to_string(), "1h30m");
        assert_eq!(Duration::from_days(7).to_string(), "7d");
        assert_eq!(Duration::ZERO.to_string(), "0");
        assert_eq!("90m".parse::<Duration>().unwrap().to_string(), "1h30m");
    }
}

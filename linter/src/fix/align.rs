//! `=` alignment as `terraform fmt` does it (hclwrite's `formatCells`): consecutive lines
//! that each assign a whole one-line value form a chain, and every `=` of a chain stands
//! one space after the chain's longest key. Any other line (blank, a comment, a block's
//! `{` or `}`, the first line of a multi-line value) ends a chain.
//!
//! Only chains that contain an inserted line are realigned; a chain with a line this
//! module cannot be sure about (a trailing comment, a heredoc, a quoted key) is left as
//! it is, and [`super::insert_lines_in`] does not join such a chain in the first place.

/// What one line (without its line ending) is to an alignment chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line {
    /// `key = value` with a whole one-line value: bytes of indentation, end of the key,
    /// position of `=`.
    Assign {
        key_start: usize,
        key_end: usize,
        eq: usize,
    },
    /// Ends a chain: blank, a comment alone, a brace, an opening line.
    Break,
    /// Could be part of a chain in ways not modelled here.
    Unsure,
}

/// Classifies one line (without its line ending).
pub fn classify(line: &str) -> Line {
    let line = line.strip_suffix('\r').unwrap_or(line);
    let trimmed = line.trim_start_matches([' ', '\t']);
    let key_start = line.len() - trimmed.len();
    if trimmed.is_empty()
        || trimmed.starts_with('#')
        || trimmed.starts_with("//")
        || trimmed == "}"
        || trimmed == "})"
        || trimmed == "]"
    {
        return Line::Break;
    }
    let key_len = trimmed
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
        .unwrap_or(trimmed.len());
    if key_len == 0 || trimmed.starts_with(|c: char| c.is_ascii_digit() || c == '-') {
        return Line::Unsure;
    }
    let after_key = &trimmed[key_len..];
    let spaces = after_key.len() - after_key.trim_start_matches(' ').len();
    let rest = &after_key[spaces..];
    if !rest.starts_with('=') || rest.starts_with("==") || rest.starts_with("=>") {
        // A block header (`name {`, `name "label" {`) breaks; anything else is unknown.
        return if trimmed.ends_with('{') && !trimmed.contains('=') {
            Line::Break
        } else {
            Line::Unsure
        };
    }
    let eq = key_start + key_len + spaces;
    match scan_value(&line[eq + 1..]) {
        Some(0) => Line::Assign {
            key_start,
            key_end: key_start + key_len,
            eq,
        },
        // Opens a multi-line value: not an assignment cell.
        Some(n) if n > 0 => Line::Break,
        _ => Line::Unsure,
    }
}

/// The net bracket change of a value, skipping strings; `None` for a trailing comment, a
/// heredoc or an unterminated string (what this module does not model).
fn scan_value(value: &str) -> Option<i32> {
    let bytes = value.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                // Inside a string: `${ ... }` may hold quotes of its own; give up on those.
                while i < bytes.len() && bytes[i] != b'"' {
                    if bytes[i] == b'\\' {
                        i += 1;
                    } else if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
                        let close = value[i..].find('}')? + i;
                        if value[i..close].contains('"') {
                            return None;
                        }
                        i = close;
                    }
                    i += 1;
                }
                if i >= bytes.len() {
                    return None;
                }
            }
            b'#' => return None,
            b'/' if matches!(bytes.get(i + 1), Some(b'/') | Some(b'*')) => return None,
            b'<' if bytes.get(i + 1) == Some(&b'<') => return None,
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => depth -= 1,
            _ => {}
        }
        i += 1;
    }
    Some(depth)
}

/// The chain of assignment lines around line `at` of `lines`, when every line of it is a
/// plain [`Line::Assign`] at one indentation: `(first, last)`.
pub fn chain(lines: &[&str], at: usize) -> Option<(usize, usize)> {
    let indent = |l: &str| match classify(l) {
        Line::Assign { key_start, .. } => Some(key_start),
        _ => None,
    };
    let own = indent(lines.get(at)?)?;
    let mut first = at;
    while first > 0 {
        match classify(lines[first - 1]) {
            Line::Assign { key_start, .. } if key_start == own => first -= 1,
            Line::Break => break,
            _ => return None,
        }
    }
    let mut last = at;
    while last + 1 < lines.len() {
        match classify(lines[last + 1]) {
            Line::Assign { key_start, .. } if key_start == own => last += 1,
            Line::Break => break,
            _ => return None,
        }
    }
    Some((first, last))
}

/// `text` with the chains holding the lines `touched` (0-based) realigned.
pub fn realign(text: &str, touched: &[usize]) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut out: Vec<std::borrow::Cow<'_, str>> = lines.iter().map(|l| (*l).into()).collect();
    let bare: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_end_matches('\n').trim_end_matches('\r'))
        .collect();
    let mut done = std::collections::BTreeSet::new();
    for &t in touched {
        let Some((first, last)) = chain(&bare, t) else {
            continue;
        };
        if !done.insert(first) {
            continue;
        }
        let width = (first..=last)
            .filter_map(|i| match classify(bare[i]) {
                Line::Assign {
                    key_start, key_end, ..
                } => Some(bare[i][key_start..key_end].chars().count()),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        for i in first..=last {
            if let Line::Assign {
                key_start,
                key_end,
                eq,
            } = classify(bare[i])
            {
                let key = &bare[i][key_start..key_end];
                let pad = width - key.chars().count() + 1;
                out[i] = format!(
                    "{}{key}{}{}",
                    &lines[i][..key_start],
                    " ".repeat(pad),
                    &lines[i][eq..]
                )
                .into();
            }
        }
    }
    out.concat()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_classified_as_hclwrite_does() {
        assert!(matches!(classify("  a   = 1"), Line::Assign { eq: 6, .. }));
        assert!(matches!(classify("  a = [1, 2]\r"), Line::Assign { .. }));
        assert!(matches!(classify("  a = \"${x}\""), Line::Assign { .. }));
        assert_eq!(classify("  tags = {"), Line::Break);
        assert_eq!(classify("  lifecycle {"), Line::Break);
        assert_eq!(classify("  }"), Line::Break);
        assert_eq!(classify(""), Line::Break);
        assert_eq!(classify("  # note"), Line::Break);
        assert_eq!(classify("  a = 1 # why"), Line::Unsure);
        assert_eq!(classify("  a = <<EOT"), Line::Unsure);
        assert_eq!(classify("  \"k\" = 1"), Line::Unsure);
        assert_eq!(classify("  a == b"), Line::Unsure);
    }

    #[test]
    fn touched_chains_are_realigned() {
        let text = "x {\r\n  id = 1\r\n  skip = true\r\n  deletion_protection = true\r\n}\r\n";
        assert_eq!(
            realign(text, &[3]),
            "x {\r\n  id                  = 1\r\n  skip                = true\r\n  deletion_protection = true\r\n}\r\n"
        );
        // A chain with a trailing comment is left alone.
        let text = "  a = 1 # one\n  bb = 2\n";
        assert_eq!(realign(text, &[1]), text);
    }
}

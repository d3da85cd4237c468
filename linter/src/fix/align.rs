//! `=` alignment as `terraform fmt` does it (hclwrite's `formatCells`): consecutive lines
//! that each assign a whole one-line value form a chain, and every `=` of a chain stands
//! one space after the chain's longest key. Any other line (blank, a comment, a block's
//! `{` or `}`, the first line of a multi-line value) ends a chain.
//!
//! Trailing comments are aligned the same way: consecutive lines that each end in a comment
//! after some code put their comments one space after the longest code.
//!
//! Only chains that contain an edited line are realigned; a chain with a line this module
//! cannot be sure about (a heredoc, a quoted key, a `/* */` comment) is left as it is, and
//! [`super::insert_lines_in`] does not join such a chain in the first place.

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
    let alone = line.trim_start_matches([' ', '\t']);
    if alone.starts_with('#') || alone.starts_with("//") {
        return Line::Break;
    }
    let code = match split_comment(line) {
        Some(Some((code_end, _))) => &line[..code_end],
        Some(None) => line,
        None => return Line::Unsure,
    };
    let trimmed = code.trim_start_matches([' ', '\t']);
    let key_start = code.len() - trimmed.len();
    if trimmed.is_empty() || trimmed == "}" || trimmed == "})" || trimmed == "]" {
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
    match scan_value(&code[eq + 1..]) {
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

/// Where a line's trailing comment is: `Some(Some((end of the code, start of the
/// comment)))`, `Some(None)` for no trailing comment (a line that is only a comment has
/// none: it is no comment cell), `None` when the line cannot be read with confidence (an
/// unterminated string, a heredoc, a `/* */` comment).
fn split_comment(line: &str) -> Option<Option<(usize, usize)>> {
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(line, i)?,
            b'#' => return Some(comment_at(line, i)),
            b'/' if bytes.get(i + 1) == Some(&b'/') => return Some(comment_at(line, i)),
            b'/' if bytes.get(i + 1) == Some(&b'*') => return None,
            b'<' if bytes.get(i + 1) == Some(&b'<') => return None,
            _ => {}
        }
        i += 1;
    }
    Some(None)
}

fn comment_at(line: &str, start: usize) -> Option<(usize, usize)> {
    let code_end = line[..start].trim_end_matches([' ', '\t']).len();
    (!line[..code_end].trim().is_empty()).then_some((code_end, start))
}

/// The index of the quote closing the string opened at `open`; `None` when it is not on
/// the line or holds an interpolation with quotes of its own.
fn string_end(text: &str, open: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut i = open + 1;
    while i < bytes.len() && bytes[i] != b'"' {
        if bytes[i] == b'\\' {
            i += 1;
        } else if bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{') {
            let close = text[i..].find('}')? + i;
            if text[i..close].contains('"') {
                return None;
            }
            i = close;
        }
        i += 1;
    }
    (i < bytes.len()).then_some(i)
}

/// The net bracket change of a value without its comment, skipping strings; `None` for
/// what this module does not model (a heredoc, an unterminated string).
fn scan_value(value: &str) -> Option<i32> {
    let bytes = value.as_bytes();
    let mut depth = 0i32;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'"' => i = string_end(value, i)?,
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

/// `text` with the chains holding the lines `touched` (0-based) realigned: the `=` of
/// assignment chains, then the trailing comments of comment chains.
pub fn realign(text: &str, touched: &[usize]) -> String {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let bare: Vec<&str> = lines
        .iter()
        .map(|l| l.trim_end_matches('\n').trim_end_matches('\r'))
        .collect();
    let mut out: Vec<std::borrow::Cow<'_, str>> = lines.iter().map(|l| (*l).into()).collect();
    // Chains are disjoint, and realigning one changes no line's class: each is found
    // once, in the original text.
    let mut covered = vec![false; lines.len()];
    let mut moved: Vec<usize> = touched.to_vec();
    for &t in touched {
        if covered.get(t) != Some(&false) {
            continue;
        }
        let Some((first, last)) = chain(&bare, t) else {
            continue;
        };
        let keys: Vec<(usize, usize, usize, usize)> = (first..=last)
            .filter_map(|i| match classify(bare[i]) {
                Line::Assign {
                    key_start,
                    key_end,
                    eq,
                } => Some((i, key_start, key_end, eq)),
                _ => None,
            })
            .collect();
        let width = keys
            .iter()
            .map(|&(i, s, e, _)| bare[i][s..e].chars().count())
            .max()
            .unwrap_or(0);
        for &(i, s, e, eq) in &keys {
            let key = &lines[i][s..e];
            let pad = width - key.chars().count() + 1;
            out[i] = format!(
                "{}{key}{}{}",
                &lines[i][..s],
                " ".repeat(pad),
                &lines[i][eq..]
            )
            .into();
            covered[i] = true;
            moved.push(i);
        }
    }
    align_comments(&mut out, &moved);
    out.concat()
}

/// Realigns the trailing comments of the comment chains holding the lines `moved`.
fn align_comments(out: &mut [std::borrow::Cow<'_, str>], moved: &[usize]) {
    let comment = |l: &str| -> Option<(usize, usize)> {
        let l = l.trim_end_matches('\n').trim_end_matches('\r');
        split_comment(l).flatten()
    };
    let mut covered = vec![false; out.len()];
    for &m in moved {
        if covered.get(m) != Some(&false) || comment(&out[m]).is_none() {
            continue;
        }
        let mut first = m;
        while first > 0 && comment(&out[first - 1]).is_some() {
            first -= 1;
        }
        let mut last = m;
        while last + 1 < out.len() && comment(&out[last + 1]).is_some() {
            last += 1;
        }
        let cells: Vec<(usize, usize, usize)> = (first..=last)
            .filter_map(|i| comment(&out[i]).map(|(code_end, start)| (i, code_end, start)))
            .collect();
        let width = cells
            .iter()
            .map(|&(i, code_end, _)| out[i][..code_end].chars().count())
            .max()
            .unwrap_or(0);
        for (i, code_end, start) in cells {
            let pad = width - out[i][..code_end].chars().count() + 1;
            let line = format!(
                "{}{}{}",
                &out[i][..code_end],
                " ".repeat(pad),
                &out[i][start..]
            );
            out[i] = line.into();
            covered[i] = true;
        }
    }
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
        assert!(matches!(classify("  a = 1 # why"), Line::Assign { .. }));
        assert!(matches!(
            classify("  a = \"#1\" // why"),
            Line::Assign { .. }
        ));
        assert_eq!(classify("  a = 1 /* why */"), Line::Unsure);
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
        // Trailing comments follow, as terraform fmt aligns them.
        let text = "  a = 1 # one\n  bb = true # two\n  # alone\n  c = 3 # three\n";
        assert_eq!(
            realign(text, &[1]),
            "  a  = 1    # one\n  bb = true # two\n  # alone\n  c = 3 # three\n"
        );
    }
}

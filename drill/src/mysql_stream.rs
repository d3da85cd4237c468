//! A `mysqldump`/`mariadb-dump` file on its way into the client: decrypted (`openssl enc`)
//! and gunzipped while read, its database statements pointed at the scratch database, and
//! its last line kept to tell a complete dump from a cut one and to date it.
//!
//! A dump of one database without `--databases` holds no database statement and restores
//! into whatever database the client is in. With `--databases` (or `--all-databases`) it
//! creates and enters its own: `CREATE DATABASE`, `USE`, `DROP DATABASE`
//! (`--add-drop-database`) and `ALTER DATABASE` (around routines). Sent as they are, they
//! would write into (or drop) the database of that name on the target server, so each is
//! rewritten to name the scratch database. A dump of several databases cannot go into one
//! scratch database: the stream stops at the second database's first statement, before it
//! reaches the server.

use std::io::{Read, Write};
use std::path::Path;

use time::macros::format_description;
use time::PrimitiveDateTime;

use crate::decrypt::{Decrypt, DecryptingReader};
use crate::mysql::quote_ident;

/// Bytes of plaintext read to recognise the dump.
const SNIFF: usize = 64 * 1024;
/// Bytes read from the start of a line to tell a database statement from anything else.
const PROBE: usize = 32;
/// A database statement longer than this is not one `mysqldump` wrote.
const MAX_STATEMENT_LINE: usize = 64 * 1024;
/// The end of the stream kept to find the completion line.
const TAIL: usize = 1024;
/// What `mysqldump` and `mariadb-dump` write last (without `--skip-comments`).
const COMPLETED: &str = "-- Dump completed";

/// What the head of a dump says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    /// Gzip (under the encryption, if any).
    pub gzip: bool,
    /// The tool's header comment (`-- MySQL dump 10.13  Distrib 8.0.36, ...`), absent with
    /// `--skip-comments`: then no completion line can be expected either.
    pub header: Option<String>,
}

/// How the dump ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Trailer {
    /// No `-- Dump completed` line at the end.
    Missing,
    /// `-- Dump completed` without a date (`--skip-dump-date`).
    Undated,
    /// `-- Dump completed on 2026-12-06 18:20:01`, the dumping host's local time.
    At(PrimitiveDateTime),
}

/// The plaintext of the file at `path`: decrypted with `decrypt`, gunzipped when `gzip`.
pub(crate) fn open_plain(
    path: &Path,
    decrypt: Option<&Decrypt>,
    gzip: bool,
) -> Result<Box<dyn Read + Send>, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read the download: {e}"))?;
    let file = std::io::BufReader::with_capacity(256 * 1024, file);
    let decrypted: Box<dyn Read + Send> = match decrypt {
        Some(d) => Box::new(DecryptingReader::new(file, d).map_err(|e| e.to_string())?),
        None => Box::new(file),
    };
    Ok(if gzip {
        Box::new(flate2::read::MultiGzDecoder::new(std::io::BufReader::new(
            decrypted,
        )))
    } else {
        decrypted
    })
}

/// Reads up to `limit` bytes; errors after some bytes end the read (the head of a cut or
/// wrongly decrypted stream is judged by what came out).
pub(crate) fn read_head(mut r: impl Read, limit: usize) -> Result<Vec<u8>, std::io::Error> {
    let mut head = vec![0u8; limit];
    let mut n = 0;
    while n < limit {
        match r.read(&mut head[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if n == 0 => return Err(e),
            Err(_) => break,
        }
    }
    head.truncate(n);
    Ok(head)
}

/// Recognises the dump at `path` (the object `object`): gzip or not, SQL text, the tool's
/// header. A wrong key shows here, before anything is restored.
pub(crate) fn sniff(path: &Path, decrypt: Option<&Decrypt>, object: &str) -> Result<Head, String> {
    let wrong_key = |why: &str| {
        format!(
            "cannot decrypt {object}: {} ({why})",
            crate::decrypt::DecryptError::BadDecrypt
        )
    };
    let raw = open_plain(path, decrypt, false).map_err(|e| match decrypt {
        Some(_) => format!("cannot decrypt {object}: {e}"),
        None => format!("{object}: {e}"),
    })?;
    let head = read_head(raw, SNIFF).map_err(|e| match decrypt {
        Some(_) => format!("cannot decrypt {object}: {e}"),
        None => format!("cannot read {object}: {e}"),
    })?;
    let gzip = head.starts_with(&[0x1f, 0x8b]);
    let text = if gzip {
        let plain = open_plain(path, decrypt, true).map_err(|e| format!("{object}: {e}"))?;
        read_head(plain, SNIFF).map_err(|e| match decrypt {
            Some(_) => wrong_key(&format!("the decrypted data is not valid gzip: {e}")),
            None => format!("{object} is not valid gzip: {e}"),
        })?
    } else {
        head
    };
    if !crate::encrypted_dump::looks_like_sql(&text) {
        return Err(match decrypt {
            Some(_) => wrong_key("the decrypted data is neither gzip nor SQL text"),
            None if text.starts_with(crate::decrypt::MAGIC) => format!(
                "{object} is an `openssl enc` file: add a decrypt block with its cipher and key"
            ),
            None if text.starts_with(b"PGDMP") => format!(
                "{object} is a pg_dump archive, not a MySQL dump: drill it with postgres_dump"
            ),
            None if text.is_empty() => format!("{object} is empty: there is nothing to restore"),
            None => format!(
                "{object} is not a MySQL dump: it is neither SQL text nor gzip (mysqldump and mariadb-dump write SQL)"
            ),
        });
    }
    let header = String::from_utf8_lossy(&text[..text.len().min(4096)])
        .lines()
        .take(5)
        .find(|l| l.starts_with("-- MySQL dump") || l.starts_with("-- MariaDB dump"))
        .map(|l| l.trim_start_matches("-- ").trim().to_string());
    Ok(Head { gzip, header })
}

/// Where the current line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineState {
    /// Reading the start of a line (in `line`) to classify it.
    Probing,
    /// A database statement: the whole line is collected, then rewritten.
    Collecting,
    /// Any other line: passed through up to its end.
    Passing,
}

/// Points a dump's database statements at the scratch database, and keeps its end.
#[derive(Debug)]
pub(crate) struct Rewriter {
    scratch: String,
    /// The database the dump names (`--databases`), once seen.
    pub source_database: Option<String>,
    state: LineState,
    line: Vec<u8>,
    tail: Vec<u8>,
    /// Database statements rewritten.
    pub rewritten: usize,
}

impl Rewriter {
    /// A rewriter into `scratch`.
    pub fn new(scratch: &str) -> Self {
        Rewriter {
            scratch: scratch.to_string(),
            source_database: None,
            state: LineState::Probing,
            line: Vec::new(),
            tail: Vec::new(),
            rewritten: 0,
        }
    }

    /// Passes `chunk` on into `out`, rewriting database statements.
    pub fn push(&mut self, mut chunk: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        self.keep_tail(chunk);
        while !chunk.is_empty() {
            let nl = find_newline(chunk);
            let end = nl.map_or(chunk.len(), |p| p + 1);
            let (part, rest) = chunk.split_at(end);
            chunk = rest;
            let complete = nl.is_some();
            match self.state {
                LineState::Passing => {
                    out.extend_from_slice(part);
                    if complete {
                        self.state = LineState::Probing;
                    }
                }
                LineState::Probing => {
                    self.line.extend_from_slice(part);
                    match classify(&self.line) {
                        Class::NeedMore if !complete && self.line.len() < PROBE => {}
                        Class::Database => {
                            self.state = LineState::Collecting;
                            self.collected(complete, out)?;
                        }
                        _ => {
                            out.append(&mut self.line);
                            if !complete {
                                self.state = LineState::Passing;
                            }
                        }
                    }
                }
                LineState::Collecting => {
                    self.line.extend_from_slice(part);
                    self.collected(complete, out)?;
                }
            }
        }
        Ok(())
    }

    /// After adding to a database statement's line: rewrites it once complete.
    fn collected(&mut self, complete: bool, out: &mut Vec<u8>) -> Result<(), String> {
        if complete {
            let line = std::mem::take(&mut self.line);
            self.rewrite(&line, out)?;
            self.state = LineState::Probing;
        } else if self.line.len() > MAX_STATEMENT_LINE {
            return Err(format!(
                "a database statement of more than {MAX_STATEMENT_LINE} bytes: not a dump mysqldump or mariadb-dump wrote"
            ));
        }
        Ok(())
    }

    /// Ends the stream (a last line without a newline).
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if self.state == LineState::Collecting {
            let line = std::mem::take(&mut self.line);
            self.rewrite(&line, out)?;
        } else {
            out.append(&mut self.line);
        }
        Ok(())
    }

    fn keep_tail(&mut self, chunk: &[u8]) {
        let take = chunk.len().min(TAIL);
        self.tail.extend_from_slice(&chunk[chunk.len() - take..]);
        let excess = self.tail.len().saturating_sub(TAIL);
        self.tail.drain(..excess);
    }

    /// How the stream ended, from its last non-empty line.
    pub fn trailer(&self) -> Trailer {
        let text = String::from_utf8_lossy(&self.tail);
        let Some(last) = text.lines().rev().map(str::trim).find(|l| !l.is_empty()) else {
            return Trailer::Missing;
        };
        let Some(rest) = last.strip_prefix(COMPLETED) else {
            return Trailer::Missing;
        };
        let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
        match rest.trim().strip_prefix("on ") {
            Some(date) => {
                PrimitiveDateTime::parse(date.trim(), format).map_or(Trailer::Undated, Trailer::At)
            }
            None => Trailer::Undated,
        }
    }

    /// `line` (a database statement) with its database name replaced by the scratch one.
    fn rewrite(&mut self, line: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        let text = String::from_utf8_lossy(line);
        let Some((start, end, name)) = database_name(&text) else {
            // No name (`ALTER DATABASE CHARACTER SET ...`): it acts on the current database,
            // the scratch one.
            out.extend_from_slice(line);
            return Ok(());
        };
        match &self.source_database {
            Some(first) if *first != name => {
                return Err(format!(
                    "the dump holds more than one database (`{first}`, then `{name}`): a mysql_dump drill restores one database into its scratch database; dump each database (mysqldump --databases NAME, or without --databases) into its own object"
                ))
            }
            Some(_) => {}
            None => self.source_database = Some(name),
        }
        self.rewritten += 1;
        out.extend_from_slice(text[..start].as_bytes());
        out.extend_from_slice(quote_ident(&self.scratch).as_bytes());
        out.extend_from_slice(text[end..].as_bytes());
        Ok(())
    }
}

fn find_newline(s: &[u8]) -> Option<usize> {
    s.iter().position(|&b| b == b'\n')
}

#[derive(Debug, PartialEq, Eq)]
enum Class {
    /// `CREATE/DROP/ALTER DATABASE`, `USE`.
    Database,
    /// Anything else.
    Other,
    /// Too short to tell yet.
    NeedMore,
}

/// The statement keywords that name a database, after an optional `/*!NNNNN ` prefix.
const KEYWORDS: &[&str] = &[
    "CREATE DATABASE",
    "CREATE SCHEMA",
    "DROP DATABASE",
    "DROP SCHEMA",
    "ALTER DATABASE",
    "ALTER SCHEMA",
    "USE ",
    "USE`",
];

/// Skips a `/*!50003 ` version comment opening a line.
fn strip_version_comment(s: &str) -> (usize, &str) {
    if let Some(rest) = s.strip_prefix("/*!") {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let rest = &rest[digits..];
        let spaces = rest.len() - rest.trim_start().len();
        let skipped = 3 + digits + spaces;
        return (skipped, &s[skipped..]);
    }
    (0, s)
}

fn classify(line: &[u8]) -> Class {
    let text = String::from_utf8_lossy(line);
    let (_, rest) = strip_version_comment(&text);
    let upper = rest.to_ascii_uppercase();
    if KEYWORDS.iter().any(|k| upper.starts_with(k)) {
        Class::Database
    } else if KEYWORDS
        .iter()
        .any(|k| k.starts_with(upper.trim_end_matches('\n')))
        || "/*!".starts_with(&*text)
        || text.starts_with("/*!") && !text.contains(' ')
    {
        Class::NeedMore
    } else {
        Class::Other
    }
}

/// The byte range and the name of the database a statement line names: a backquoted
/// identifier after the keyword (and `IF [NOT] EXISTS`, bare or in a version comment), or
/// for `USE` also a bare one.
fn database_name(line: &str) -> Option<(usize, usize, String)> {
    let (skipped, rest) = strip_version_comment(line);
    let upper = rest.to_ascii_uppercase();
    let keyword = KEYWORDS.iter().find(|k| upper.starts_with(*k))?;
    let mut at = skipped + keyword.trim_end().len();
    loop {
        let tail = &line[at..];
        let trimmed = tail.trim_start();
        at += tail.len() - trimmed.len();
        let upper = trimmed.to_ascii_uppercase();
        if let Some(close) = trimmed.strip_prefix("/*").and_then(|c| c.find("*/")) {
            // `/*!32312 IF NOT EXISTS*/`
            at += 2 + close + 2;
        } else if upper.starts_with("IF NOT EXISTS") {
            at += "IF NOT EXISTS".len();
        } else if upper.starts_with("IF EXISTS") {
            at += "IF EXISTS".len();
        } else {
            break;
        }
    }
    let tail = &line[at..];
    if let Some(quoted) = tail.strip_prefix('`') {
        let mut name = String::new();
        let mut chars = quoted.char_indices();
        while let Some((i, c)) = chars.next() {
            if c == '`' {
                if quoted[i + 1..].starts_with('`') {
                    name.push('`');
                    chars.next();
                    continue;
                }
                return Some((at, at + 1 + i + 1, name));
            }
            name.push(c);
        }
        return None;
    }
    if keyword.starts_with("USE") {
        let len = tail
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'$')
            .count();
        if len > 0 {
            return Some((at, at + len, tail[..len].to_string()));
        }
    }
    None
}

/// Why streaming stopped.
#[derive(Debug)]
pub(crate) enum FeedError {
    /// The file does not decrypt, decompress or rewrite.
    Input(String),
    /// The client closed its input (it failed; its error says why).
    Pipe(std::io::Error),
}

/// Streams `plain` through `rewriter` into `out` (the client's stdin); returns the bytes
/// read. Blocking: run it on a blocking thread.
pub(crate) fn feed(
    mut plain: impl Read,
    rewriter: &mut Rewriter,
    mut out: impl Write,
) -> Result<u64, FeedError> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut rewritten = Vec::with_capacity(buf.len() + 1024);
    let mut total = 0u64;
    loop {
        let n = match plain.read(&mut buf) {
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(FeedError::Input(e.to_string())),
        };
        rewritten.clear();
        if n == 0 {
            rewriter.finish(&mut rewritten).map_err(FeedError::Input)?;
        } else {
            total += n as u64;
            rewriter
                .push(&buf[..n], &mut rewritten)
                .map_err(FeedError::Input)?;
        }
        out.write_all(&rewritten).map_err(FeedError::Pipe)?;
        if n == 0 {
            out.flush().map_err(FeedError::Pipe)?;
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rewritten stream, fed in chunks of `size` bytes.
    fn rewrite_in_chunks(input: &str, size: usize) -> Result<(String, Rewriter), String> {
        let mut r = Rewriter::new("drkit_drill_7");
        let mut out = Vec::new();
        for chunk in input.as_bytes().chunks(size) {
            r.push(chunk, &mut out)?;
        }
        r.finish(&mut out)?;
        Ok((String::from_utf8(out).unwrap(), r))
    }

    const DATABASES_DUMP: &str = "-- MariaDB dump 10.19  Distrib 10.11.19-MariaDB\n--\n-- Current Database: `shop`\n--\n\n/*!40000 DROP DATABASE IF EXISTS `shop`*/;\n\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;\n\nUSE `shop`;\nINSERT INTO `orders` VALUES (1,'USE `other`;\\nCREATE DATABASE x');\nALTER DATABASE `shop` CHARACTER SET latin1 ;\n-- Dump completed on 2026-12-06 18:20:01\n";

    #[test]
    fn database_statements_name_the_scratch_database_whatever_the_chunking() {
        for size in [1, 2, 7, 31, 32, 33, 4096] {
            let (out, r) = rewrite_in_chunks(DATABASES_DUMP, size).unwrap();
            assert!(
                out.contains("/*!40000 DROP DATABASE IF EXISTS `drkit_drill_7`*/;"),
                "{size}: {out}"
            );
            assert!(out.contains("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `drkit_drill_7` /*!40100 DEFAULT CHARACTER SET utf8mb4 */;"), "{out}");
            assert!(out.contains("\nUSE `drkit_drill_7`;\n"), "{out}");
            assert!(out.contains("ALTER DATABASE `drkit_drill_7` CHARACTER SET latin1 ;"));
            // Data that looks like a statement, inside a line, is left alone; comments too.
            assert!(out.contains("VALUES (1,'USE `other`;\\nCREATE DATABASE x');"));
            assert!(out.contains("-- Current Database: `shop`"));
            assert_eq!(r.source_database.as_deref(), Some("shop"));
            assert_eq!(r.rewritten, 4);
            assert_eq!(
                r.trailer(),
                Trailer::At(time::macros::datetime!(2026-12-06 18:20:01))
            );
        }
    }

    #[test]
    fn a_single_database_dump_passes_unchanged() {
        let dump = "-- MySQL dump 10.13  Distrib 8.0.36\nCREATE TABLE `t` (id int);\nINSERT INTO `t` VALUES (1);\n/*!50003 CREATE*/ /*!50017 DEFINER=`root`@`%`*/ /*!50003 TRIGGER x BEFORE INSERT ON t FOR EACH ROW SET @a = 1 */;;\n-- Dump completed\n";
        let (out, r) = rewrite_in_chunks(dump, 5).unwrap();
        assert_eq!(out, dump);
        assert_eq!(r.source_database, None);
        assert_eq!(r.trailer(), Trailer::Undated);
    }

    #[test]
    fn a_second_database_stops_the_stream_before_it_is_sent() {
        let dump =
            "USE `shop`;\nINSERT INTO t VALUES (1);\nCREATE DATABASE `billing`;\nUSE `billing`;\n";
        let mut r = Rewriter::new("drkit_drill_7");
        let mut out = Vec::new();
        let err = r.push(dump.as_bytes(), &mut out).unwrap_err();
        assert!(err.contains("`shop`, then `billing`"), "{err}");
        assert!(!String::from_utf8_lossy(&out).contains("billing"));
    }

    #[test]
    fn a_cut_dump_has_no_trailer() {
        let (_, r) = rewrite_in_chunks("-- MySQL dump\nINSERT INTO t VALUES (1),(2", 8).unwrap();
        assert_eq!(r.trailer(), Trailer::Missing);
        let (_, r) = rewrite_in_chunks("-- Dump completed on 2026-13-45 99:00:00\n", 8).unwrap();
        assert_eq!(r.trailer(), Trailer::Undated);
    }

    #[test]
    fn use_takes_bare_and_quoted_names() {
        assert_eq!(
            database_name("USE shop;\n"),
            Some((4, 8, "shop".to_string()))
        );
        assert_eq!(
            database_name("use `a``b`;\n").map(|(_, _, n)| n),
            Some("a`b".to_string())
        );
        assert_eq!(database_name("ALTER DATABASE CHARACTER SET utf8mb4;"), None);
    }
}

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
//!
//! `mysqldump` 5.6 and later, run against a server with GTIDs (`gtid_mode = ON`, common on
//! MySQL 8 and RDS), writes `SET @@GLOBAL.GTID_PURGED=...` (`--set-gtid-purged=AUTO`, the
//! default). That statement changes the target server's replication state, not the
//! database: on a MySQL target it would add the source's transactions to the server's
//! executed set (or fail when they overlap), on MariaDB it fails (no such variable). A drill
//! restores into a scratch database and leaves the server as it was, so the statement
//! (which may span lines) is replaced by a comment and counted.

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
/// A `GTID_PURGED` statement longer than this is not one `mysqldump` wrote (a set of a few
/// thousand server UUIDs).
const MAX_GTID_STATEMENT: usize = 1024 * 1024;
/// What replaces a `SET @@GLOBAL.GTID_PURGED` statement in the stream.
const GTID_SKIPPED: &[u8] =
    b"-- drkit: SET @@GLOBAL.GTID_PURGED skipped (the target server's GTID state is not the scratch database's)\n";
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
    Ok(Head {
        gzip,
        header: header_line(&text),
    })
}

/// The tool's header comment among the first lines of the plaintext: `mysqldump` and
/// `mariadb-dump` write it first; MySQL Workbench's exports put `CREATE DATABASE` and
/// `USE` before it.
fn header_line(text: &[u8]) -> Option<String> {
    String::from_utf8_lossy(&text[..text.len().min(4096)])
        .lines()
        .take(5)
        .find(|l| l.starts_with("-- MySQL dump") || l.starts_with("-- MariaDB dump"))
        .map(|l| l.trim_start_matches("-- ").trim().to_string())
}

/// Where the current line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum LineState {
    /// Reading the start of a line (in `line`) to classify it.
    Probing,
    /// A statement to rewrite: collected whole, then rewritten.
    Collecting(Statement),
    /// Any other line: passed through up to its end.
    Passing,
}

/// A statement the rewriter changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Statement {
    /// `CREATE/DROP/ALTER DATABASE`, `USE`: one line, pointed at the scratch database.
    Database,
    /// `SET @@GLOBAL.GTID_PURGED=...;`, possibly over several lines: left out.
    GtidPurged,
}

/// Points a dump's database statements at the scratch database, leaves out what would
/// change the server's replication state, and keeps the dump's end.
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
    /// `SET @@GLOBAL.GTID_PURGED` statements left out.
    pub gtid_purged_skipped: usize,
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
            gtid_purged_skipped: 0,
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
                    // Only a line's start tells its kind: a long INSERT is not copied, and a
                    // line that starts in this chunk (most do) is told from the chunk.
                    let held = !self.line.is_empty();
                    if held {
                        self.line.extend_from_slice(part);
                    }
                    let start = if held { &self.line[..] } else { part };
                    let (class, probed) = (classify(&start[..start.len().min(PROBE)]), start.len());
                    let statement = match class {
                        Class::NeedMore if !complete && probed < PROBE => None,
                        Class::Database => Some(Statement::Database),
                        Class::GtidPurged => Some(Statement::GtidPurged),
                        _ => {
                            if held {
                                out.append(&mut self.line);
                            } else {
                                out.extend_from_slice(part);
                            }
                            if !complete {
                                self.state = LineState::Passing;
                            }
                            continue;
                        }
                    };
                    if !held {
                        self.line.extend_from_slice(part);
                    }
                    if let Some(statement) = statement {
                        self.state = LineState::Collecting(statement);
                        self.collected(complete, out)?;
                    }
                }
                LineState::Collecting(_) => {
                    self.line.extend_from_slice(part);
                    self.collected(complete, out)?;
                }
            }
        }
        Ok(())
    }

    /// After adding to a collected statement: rewrites it once complete (a database
    /// statement at its line's end, `GTID_PURGED` at the line ending in `;`).
    fn collected(&mut self, complete: bool, out: &mut Vec<u8>) -> Result<(), String> {
        let LineState::Collecting(statement) = self.state else {
            return Ok(());
        };
        let (ended, limit) = match statement {
            Statement::Database => (complete, MAX_STATEMENT_LINE),
            Statement::GtidPurged => (
                complete && self.line.trim_ascii_end().ends_with(b";"),
                MAX_GTID_STATEMENT,
            ),
        };
        if ended {
            self.end_statement(statement, out)?;
            self.state = LineState::Probing;
        } else if self.line.len() > limit {
            return Err(format!(
                "a {} statement of more than {limit} bytes: not a dump mysqldump or mariadb-dump wrote",
                match statement {
                    Statement::Database => "database",
                    Statement::GtidPurged => "SET @@GLOBAL.GTID_PURGED",
                }
            ));
        }
        Ok(())
    }

    fn end_statement(&mut self, statement: Statement, out: &mut Vec<u8>) -> Result<(), String> {
        let line = std::mem::take(&mut self.line);
        match statement {
            Statement::Database => self.rewrite(&line, out),
            Statement::GtidPurged => {
                self.gtid_purged_skipped += 1;
                out.extend_from_slice(GTID_SKIPPED);
                Ok(())
            }
        }
    }

    /// Ends the stream (a last line without a newline).
    pub fn finish(&mut self, out: &mut Vec<u8>) -> Result<(), String> {
        if let LineState::Collecting(statement) = self.state {
            self.end_statement(statement, out)?;
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
        match rest.trim().strip_prefix("on ") {
            Some(date) => completion_time(date).map_or(Trailer::Undated, Trailer::At),
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

/// The trailer's date. mysqldump and mariadb-dump print the hour as `%2d`, so before 10:00
/// it is space-padded ("2026-12-07  9:05:00"); MySQL 8 builds print `%02d`.
fn completion_time(date: &str) -> Option<PrimitiveDateTime> {
    let mut parts = date.split_whitespace();
    let (day, clock) = (parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let day = time::Date::parse(day, format_description!("[year]-[month]-[day]")).ok()?;
    let clock = time::Time::parse(
        clock,
        format_description!("[hour padding:none]:[minute]:[second]"),
    )
    .ok()?;
    Some(PrimitiveDateTime::new(day, clock))
}

fn find_newline(s: &[u8]) -> Option<usize> {
    memchr::memchr(b'\n', s)
}

#[derive(Debug, PartialEq, Eq)]
enum Class {
    /// `CREATE/DROP/ALTER DATABASE`, `USE`.
    Database,
    /// `SET @@GLOBAL.GTID_PURGED`.
    GtidPurged,
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

/// How mysqldump opens the statement that sets the server's purged GTIDs.
const GTID_PURGED: &str = "SET @@GLOBAL.GTID_PURGED";

/// The bytes a line that `classify` does not call `Other` can start with: the keywords'
/// first letters in either case, a version comment's `/`, and the newline of an empty line.
const STATEMENT_STARTS: &[u8] = b"CcDdAaUuSs/\n";

fn classify(line: &[u8]) -> Class {
    // MariaDB 10.11's mariadb-dump writes each row of an extended INSERT on a line of its
    // own (`(1,'a'),`): millions of lines, told here by their first byte.
    match line.first() {
        Some(b) if !STATEMENT_STARTS.contains(b) => return Class::Other,
        _ => {}
    }
    classify_text(line)
}

/// `classify` on the line's text.
fn classify_text(line: &[u8]) -> Class {
    let text = String::from_utf8_lossy(line);
    let (_, rest) = strip_version_comment(&text);
    let upper = rest.to_ascii_uppercase();
    if KEYWORDS.iter().any(|k| upper.starts_with(k)) {
        Class::Database
    } else if upper.starts_with(GTID_PURGED) {
        Class::GtidPurged
    } else if KEYWORDS
        .iter()
        .chain([&GTID_PURGED])
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
        if let Err(e) = out.write_all(&rewritten) {
            // The client stopped (it failed). When the rest of the input is bad too, that
            // is the cause: a corrupt gzip stream yields garbage the client chokes on first.
            return Err(match drain(&mut plain, &mut buf) {
                Err(bad) => FeedError::Input(bad),
                Ok(()) => FeedError::Pipe(e),
            });
        }
        if n == 0 {
            out.flush().map_err(FeedError::Pipe)?;
            return Ok(total);
        }
    }
}

/// Reads `plain` to its end, to find whether it decrypts and decompresses.
fn drain(mut plain: impl Read, buf: &mut [u8]) -> Result<(), String> {
    loop {
        match plain.read(buf) {
            Ok(0) => return Ok(()),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e.to_string()),
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
    fn the_first_byte_shortcut_agrees_with_the_full_classification() {
        let starts = [
            "(1,'USE `x`'),\n",
            "INSERT INTO `t` VALUES\n",
            "  `id` int NOT NULL,\n",
            "\n",
            "",
            "/",
            "/*!",
            "/*!40000",
            "/*!40000 DROP DATABASE IF EXISTS `s`*/;\n",
            "u",
            "USE",
            "use `a`;\n",
            "SET @@GLOBAL.GTID_PURGED='a:1';\n",
            "set @@global",
            "Create schema `s`",
            "ALTER DATABASE",
            "DROP TABLE IF EXISTS `t`;\n",
            "-- Dump completed\n",
            ")",
            "\r\n",
        ];
        for line in starts {
            let b = line.as_bytes();
            let b = &b[..b.len().min(PROBE)];
            assert_eq!(classify(b), classify_text(b), "{line:?}");
        }
        // A dump as MariaDB 10.11 writes it, one row a line, passes unchanged.
        let rows =
            "INSERT INTO `t` VALUES (1,'a'),\n(2,'USE `b`;'),\n(3,'c');\n-- Dump completed\n";
        for size in [1, 4, 13, 4096] {
            assert_eq!(rewrite_in_chunks(rows, size).unwrap().0, rows, "{size}");
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
    fn a_morning_dump_is_dated_though_its_hour_is_space_padded() {
        // What mariadb-dump wrote at 00:13 (format "%04d-%02d-%02d %2d:%02d:%02d").
        let (_, r) = rewrite_in_chunks(
            "UNLOCK TABLES;\n-- Dump completed on 2026-12-07  0:13:41\n",
            8,
        )
        .unwrap();
        assert_eq!(
            r.trailer(),
            Trailer::At(time::macros::datetime!(2026-12-07 0:13:41))
        );
        let (_, r) = rewrite_in_chunks("-- Dump completed on 2026-12-07 09:05:00\n", 8).unwrap();
        assert_eq!(
            r.trailer(),
            Trailer::At(time::macros::datetime!(2026-12-07 9:05:00))
        );
        let (_, r) = rewrite_in_chunks("-- Dump completed on 2026-12-07 9:05\n", 8).unwrap();
        assert_eq!(r.trailer(), Trailer::Undated);
    }

    #[test]
    fn completion_times_at_midnight_month_and_year_ends_and_leap_days() {
        use time::macros::datetime;
        for (line, at) in [
            ("2026-12-31 23:59:59", datetime!(2026-12-31 23:59:59)),
            ("2027-01-01  0:00:00", datetime!(2027-01-01 0:00:00)),
            ("2027-02-28 23:59:30", datetime!(2027-02-28 23:59:30)),
            ("2028-02-29  9:05:00", datetime!(2028-02-29 9:05:00)),
            ("2027-04-30 12:00:00", datetime!(2027-04-30 12:00:00)),
        ] {
            assert_eq!(completion_time(line), Some(at), "{line}");
        }
        // Not a date: the dump is undated rather than dated wrong.
        for line in ["2027-02-29  9:05:00", "2026-12-07 24:00:00", "2026-12-07"] {
            assert_eq!(completion_time(line), None, "{line}");
        }
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

    /// The head of a `mysqldump` 8.0.25 dump of a MySQL 5.7 server with GTIDs (a Cloud SQL
    /// instance), as found in a public repository: the session's binary log turned off,
    /// then the source's purged GTIDs set globally.
    const MYSQLDUMP_8_GTID_HEAD: &str = "-- MySQL dump 10.13  Distrib 8.0.25, for Win64 (x86_64)\n--\n-- Host: 35.187.238.139    Database: tnf\n-- ------------------------------------------------------\n-- Server version\t5.7.36-google-log\n\n/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n/*!50503 SET NAMES utf8 */;\n/*!40103 SET @OLD_TIME_ZONE=@@TIME_ZONE */;\n/*!40103 SET TIME_ZONE='+00:00' */;\n/*!40111 SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0 */;\nSET @MYSQLDUMP_TEMP_LOG_BIN = @@SESSION.SQL_LOG_BIN;\nSET @@SESSION.SQL_LOG_BIN= 0;\n\n--\n-- GTID state at the beginning of the backup \n--\n\nSET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '6466bf4a-108e-11ec-8a55-42010a940002:1-222362';\n\n--\n-- Table structure for table `status_exersice`\n--\n\nDROP TABLE IF EXISTS `status_exersice`;\n";

    /// Its trailer: the session's binary log setting restored, then the completion line.
    const MYSQLDUMP_8_GTID_TRAILER: &str = "UNLOCK TABLES;\nSET @@SESSION.SQL_LOG_BIN = @MYSQLDUMP_TEMP_LOG_BIN;\n/*!40103 SET TIME_ZONE=@OLD_TIME_ZONE */;\n\n/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;\n\n-- Dump completed on 2021-11-18 20:10:00\n";

    /// A MySQL 9.5 server's set of four source UUIDs, which mysqldump writes over four
    /// lines (from a public repository's dump).
    const MULTI_LINE_GTID: &str = "SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '6b6cfbde-b07f-11f0-85fa-3a18d442e117:1-66,\nd5612613-afb6-11f0-bfad-5a64d06035e7:1-123,\nd602fc22-b148-11f0-aca8-e6eb8c86dbbd:1-68,\ne519ec5c-afb2-11f0-808b-baf6ffc72915:1-224';\n\n--\n-- Table structure for table `NEWS_NVDA_DATA`\n--\n";

    #[test]
    fn mysqldump_8_gtid_purged_is_left_out_whatever_the_chunking() {
        let dump = format!("{MYSQLDUMP_8_GTID_HEAD}{MULTI_LINE_GTID}{MYSQLDUMP_8_GTID_TRAILER}");
        for size in [1, 3, 24, 25, 31, 32, 33, 100, 4096] {
            let (out, r) = rewrite_in_chunks(&dump, size).unwrap();
            assert!(!out.contains("GTID_PURGED="), "{size}: {out}");
            assert!(!out.contains("e519ec5c"), "{size}: {out}");
            assert_eq!(
                out.matches("-- drkit: SET @@GLOBAL.GTID_PURGED skipped")
                    .count(),
                2
            );
            assert_eq!(r.gtid_purged_skipped, 2);
            // The rest is as written: the session settings, the tables, the trailer.
            assert!(out.contains("SET @@SESSION.SQL_LOG_BIN= 0;\n"));
            assert!(out.contains("-- GTID state at the beginning of the backup \n--\n\n-- drkit:"));
            assert!(out.contains("\n\n--\n-- Table structure for table `status_exersice`\n"));
            assert!(out.contains("-- Table structure for table `NEWS_NVDA_DATA`"));
            assert!(out.ends_with(MYSQLDUMP_8_GTID_TRAILER), "{size}");
            assert_eq!(r.rewritten, 0);
            assert_eq!(
                r.trailer(),
                Trailer::At(time::macros::datetime!(2021-11-18 20:10:00))
            );
        }
    }

    #[test]
    fn a_gtid_statement_without_its_semicolon_is_still_left_out_at_the_end() {
        let (out, r) =
            rewrite_in_chunks("SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'a:1-2,\nb:1-3'", 7)
                .unwrap();
        assert_eq!(r.gtid_purged_skipped, 1);
        assert!(!out.contains("b:1-3"), "{out}");
        // Session-level GTID settings and the variable in data are not the statement.
        let data = "SET @@SESSION.GTID_NEXT= 'AUTOMATIC';\nINSERT INTO t VALUES ('SET @@GLOBAL.GTID_PURGED=1');\n";
        let (out, r) = rewrite_in_chunks(data, 5).unwrap();
        assert_eq!((out.as_str(), r.gtid_purged_skipped), (data, 0));
    }

    /// MySQL Workbench's "Export to Self-Contained File" (mysqldump 8.0.28 underneath) puts
    /// `CREATE DATABASE` and `USE` before the tool's header; the trailer is mysqldump's.
    #[test]
    fn a_workbench_export_is_recognised_and_pointed_at_the_scratch_database() {
        let dump = "CREATE DATABASE  IF NOT EXISTS `bd_mvprojeto` /*!40100 DEFAULT CHARACTER SET latin1 COLLATE latin1_swedish_ci*/ /*!80016 DEFAULT ENCRYPTION='N' */;\nUSE `bd_mvprojeto`;\n-- MySQL dump 10.13  Distrib 8.0.28, for Win64 (x86_64)\n--\n-- Host: localhost    Database: bd_mvprojeto\n-- ------------------------------------------------------\n-- Server version\t8.0.27\n\n/*!50503 SET NAMES utf8 */;\n/*!40111 SET SQL_NOTES=@OLD_SQL_NOTES */;\n\n-- Dump completed on 2022-04-07 11:51:04\n";
        let (out, r) = rewrite_in_chunks(dump, 9).unwrap();
        assert!(out.starts_with("CREATE DATABASE  IF NOT EXISTS `drkit_drill_7` /*!40100"));
        assert!(out.contains("\nUSE `drkit_drill_7`;\n"));
        assert_eq!(r.source_database.as_deref(), Some("bd_mvprojeto"));
        assert_eq!(
            r.trailer(),
            Trailer::At(time::macros::datetime!(2022-04-07 11:51:04))
        );
        assert_eq!(
            header_line(dump.as_bytes()).as_deref(),
            Some("MySQL dump 10.13  Distrib 8.0.28, for Win64 (x86_64)")
        );
    }
}

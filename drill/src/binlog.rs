//! MySQL/MariaDB binary logs as a point-in-time archive: the coordinates a
//! `--source-data=2` (`--master-data=2`) dump records, the names of archived binlog files,
//! and the replay plan from a dump's coordinates through the archive, checked before
//! anything is downloaded. Shared by the `mysql_binlog` drill and `dr_status`.
//!
//! Archived files are named as the server names them (`mysql-bin.000042`, any basename,
//! the number at least six digits), as `mysqlbinlog --read-from-remote-server --raw
//! --stop-never` writes them, optionally gzipped (`.gz`).

use std::collections::BTreeMap;

use time::OffsetDateTime;

/// Where replay starts: the binlog position of the dump's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Coordinates {
    /// `MASTER_LOG_FILE`/`SOURCE_LOG_FILE`, e.g. `mysql-bin.000042`.
    pub file: String,
    /// `MASTER_LOG_POS`/`SOURCE_LOG_POS`: the first byte of the first event after the dump.
    pub position: u64,
    /// The GTID position, when the dump wrote one (`gtid_slave_pos` on MariaDB,
    /// `GTID_PURGED` on MySQL): reported, replay itself goes by file and position.
    pub gtid: Option<String>,
}

/// Reads the coordinates from the head of a dump: the `CHANGE MASTER TO` (MariaDB, MySQL
/// before 8.0.23) or `CHANGE REPLICATION SOURCE TO` (MySQL 8.0.23+) statement, commented
/// out (`=2`) or not (`=1`), and the GTID line if present. `None`: the dump was taken
/// without `--source-data`/`--master-data`.
pub fn parse_coordinates(head: &str) -> Option<Coordinates> {
    let mut found = None;
    let mut gtid = None;
    for line in head.lines() {
        let sql = line.trim_start_matches("--").trim();
        let upper = sql.to_ascii_uppercase();
        if upper.starts_with("CHANGE MASTER TO")
            || upper.starts_with("CHANGE REPLICATION SOURCE TO")
        {
            let file = quoted_after(sql, &upper, "_LOG_FILE");
            let position = number_after(&upper, "_LOG_POS");
            if let (Some(file), Some(position)) = (file, position) {
                // mysqldump writes one statement; the last one wins if a dump has more.
                found = Some((file, position));
            }
        } else if let Some(at) = upper.find("GTID_SLAVE_POS=").or(upper.find("GTID_PURGED=")) {
            // `SET GLOBAL gtid_slave_pos='0-1-42'`;
            // `SET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ 'uuid:1-42'`: the last quoted value.
            let value = sql[at..].rsplit('\'').nth(1).filter(|v| !v.is_empty());
            if let Some(v) = value {
                gtid = Some(v.to_string());
            }
        }
    }
    found.map(|(file, position)| Coordinates {
        file,
        position,
        gtid,
    })
}

/// The coordinates in the first bytes of a plain or gzipped dump (a ranged GET: the gzip
/// stream is cut, and read as far as it goes). Encrypted dumps need the drill's decryption.
pub fn coordinates_in_head(bytes: &[u8]) -> Option<Coordinates> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        use std::io::Read;
        let mut text = Vec::new();
        let mut decoder = flate2::read::MultiGzDecoder::new(bytes);
        let mut buf = [0u8; 64 * 1024];
        // A cut stream errors at its end: what came out before is the head.
        while let Ok(n) = decoder.read(&mut buf) {
            if n == 0 || text.len() > 8 << 20 {
                break;
            }
            text.extend_from_slice(&buf[..n]);
        }
        parse_coordinates(&String::from_utf8_lossy(&text))
    } else {
        parse_coordinates(&String::from_utf8_lossy(bytes))
    }
}

/// The quoted value after `key=` (`MASTER_LOG_FILE='x'`); `upper` is `sql` uppercased.
fn quoted_after(sql: &str, upper: &str, key: &str) -> Option<String> {
    let at = upper.find(key)? + key.len();
    let rest = sql[at..].trim_start().strip_prefix('=')?.trim_start();
    let rest = rest.strip_prefix('\'')?;
    let end = rest.find('\'')?;
    Some(rest[..end].to_string()).filter(|f| !f.is_empty())
}

/// The number after `key=`.
fn number_after(upper: &str, key: &str) -> Option<u64> {
    let at = upper.find(key)? + key.len();
    let rest = upper[at..].trim_start().strip_prefix('=')?.trim_start();
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// An archived binlog file's name, taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogName {
    /// `mysql-bin` (the server's `log_bin_basename`, without its directory).
    pub base: String,
    /// The sequence number.
    pub number: u64,
    /// The number's digits as written (six, more after 999999).
    pub digits: usize,
    /// Stored gzipped.
    pub gzip: bool,
}

impl BinlogName {
    /// The name the server gave the file (`mysql-bin.000042`).
    pub fn file(&self) -> String {
        format!("{}.{:0width$}", self.base, self.number, width = self.digits)
    }

    /// The name of number `n` in the same sequence.
    fn with_number(&self, n: u64) -> String {
        BinlogName {
            number: n,
            ..self.clone()
        }
        .file()
    }
}

/// `mysql-bin.000042` or `mysql-bin.000042.gz`; `None` for anything else (the `.index`
/// file, uploads in progress, other files under the prefix).
pub fn classify(name: &str) -> Option<BinlogName> {
    let (plain, gzip) = match name.strip_suffix(".gz") {
        Some(p) => (p, true),
        None => (name, false),
    };
    let (base, number) = plain.rsplit_once('.')?;
    if base.is_empty() || number.len() < 6 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(BinlogName {
        base: base.to_string(),
        number: number.parse().ok()?,
        digits: number.len(),
        gzip,
    })
}

/// One object of the binlog archive.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchivedBinlog {
    /// Its S3 key.
    pub key: String,
    /// Its name.
    pub name: BinlogName,
    /// Size in bytes as stored.
    pub size: u64,
    /// S3 `LastModified`: its last event was written before this.
    pub uploaded: OffsetDateTime,
}

/// The archive as listed: the binlog files directly under one prefix, by basename and
/// number.
#[derive(Debug, Clone, Default)]
pub struct BinlogArchive {
    /// `s3://bucket/prefix/`.
    pub uri: String,
    /// Files by (basename, number); a plain and a gzipped copy of one file keep the plain.
    pub files: BTreeMap<(String, u64), ArchivedBinlog>,
}

impl BinlogArchive {
    /// Adds a listed object if it is a binlog file.
    pub fn add(&mut self, key: &str, name: &str, size: u64, uploaded: OffsetDateTime) {
        let Some(parsed) = classify(name) else {
            return;
        };
        let slot = (parsed.base.clone(), parsed.number);
        if self.files.get(&slot).is_some_and(|f| !f.name.gzip) {
            return;
        }
        self.files.insert(
            slot,
            ArchivedBinlog {
                key: key.to_string(),
                name: parsed,
                size,
                uploaded,
            },
        );
    }

    /// The most recently uploaded file.
    pub fn newest(&self) -> Option<&ArchivedBinlog> {
        self.files
            .values()
            .max_by(|a, b| (a.uploaded, a.name.number).cmp(&(b.uploaded, b.name.number)))
    }
}

/// Why an archive cannot replay from a dump's coordinates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SequenceError {
    /// The archive holds no file of the dump's sequence at all.
    NoFiles {
        /// The file the coordinates name.
        wanted: String,
        /// The basenames the archive does hold.
        bases: Vec<String>,
    },
    /// The coordinates' file is not archived (the archive starts later, or it was lost).
    StartMissing {
        /// The file the coordinates name.
        wanted: String,
        /// The first archived file of the sequence after it, if any.
        first_archived: Option<String>,
    },
    /// The coordinates' position is past the end of its archived file (it is another
    /// server's file of the same name, or the archive copy was cut).
    PositionPastEnd {
        /// The file.
        file: String,
        /// The dump's position.
        position: u64,
        /// The archived file's size.
        size: u64,
    },
    /// Files missing between the start and the newest archived file.
    Gap {
        /// The first missing file.
        first_missing: String,
        /// How many are missing in that hole.
        count: u64,
        /// The archived file before the hole and the one after it.
        between: (String, String),
    },
}

impl std::fmt::Display for SequenceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SequenceError::NoFiles { wanted, bases } if bases.is_empty() => write!(
                f,
                "the archive holds no binlog files (names like {wanted}): nothing to replay from the dump's coordinates"
            ),
            SequenceError::NoFiles { wanted, bases } => write!(
                f,
                "the dump's coordinates name {wanted}, but the archive holds only {} files: it archives another server, or log_bin_basename changed",
                bases.iter().map(|b| format!("{b}.*")).collect::<Vec<_>>().join(", ")
            ),
            SequenceError::StartMissing { wanted, first_archived: Some(first) } => write!(
                f,
                "the dump's coordinates name {wanted}, which is not in the archive (its first file after it is {first}): the dump does not match the archive, or {wanted} was lost"
            ),
            SequenceError::StartMissing { wanted, first_archived: None } => write!(
                f,
                "the dump's coordinates name {wanted}, but the archive ends before it: the archive is behind the dump (is the binlog copy job running?)"
            ),
            SequenceError::PositionPastEnd { file, position, size } => write!(
                f,
                "the dump's coordinates are {file} at position {position}, but the archived {file} is only {size} bytes: it does not match the dump (another server's file, or a cut copy)"
            ),
            SequenceError::Gap { first_missing, count, between } => write!(
                f,
                "binlog {first_missing} is missing from the archive ({count} file{} missing between {} and {}): replay cannot pass it",
                if *count == 1 { "" } else { "s" },
                between.0,
                between.1
            ),
        }
    }
}

/// The archived files replay reads, from the coordinates' file to the newest archived file
/// of its sequence, every number present; or why not.
pub fn replay_files<'a>(
    archive: &'a BinlogArchive,
    start: &Coordinates,
) -> Result<Vec<&'a ArchivedBinlog>, SequenceError> {
    let wanted = classify(&start.file).ok_or_else(|| SequenceError::NoFiles {
        wanted: start.file.clone(),
        bases: Vec::new(),
    })?;
    let sequence: Vec<&ArchivedBinlog> = archive
        .files
        .range((wanted.base.clone(), 0)..=(wanted.base.clone(), u64::MAX))
        .map(|(_, f)| f)
        .collect();
    if sequence.is_empty() {
        let mut bases: Vec<String> = archive.files.keys().map(|(b, _)| b.clone()).collect();
        bases.dedup();
        return Err(SequenceError::NoFiles {
            wanted: start.file.clone(),
            bases,
        });
    }
    let from: Vec<&ArchivedBinlog> = sequence
        .into_iter()
        .filter(|f| f.name.number >= wanted.number)
        .collect();
    match from.first() {
        Some(first) if first.name.number == wanted.number => {
            if !first.name.gzip && first.size < start.position {
                return Err(SequenceError::PositionPastEnd {
                    file: start.file.clone(),
                    position: start.position,
                    size: first.size,
                });
            }
        }
        first => {
            return Err(SequenceError::StartMissing {
                wanted: start.file.clone(),
                first_archived: first.map(|f| f.name.file()),
            })
        }
    }
    check_gaps(&from)?;
    Ok(from)
}

/// The first hole in a run of files sorted by number.
pub fn check_gaps(files: &[&ArchivedBinlog]) -> Result<(), SequenceError> {
    for pair in files.windows(2) {
        let (a, b) = (&pair[0].name, &pair[1].name);
        if b.number > a.number + 1 {
            return Err(SequenceError::Gap {
                first_missing: a.with_number(a.number + 1),
                count: b.number - a.number - 1,
                between: (a.file(), b.file()),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn coordinates_are_read_from_every_dump_tool() {
        // mariadb-dump --master-data=2 --gtid (MariaDB 10.11).
        let mariadb = "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB\n--\n-- Preferably use GTID to start replication from GTID position:\n\n-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;\n-- SET GLOBAL gtid_slave_pos='0-1-42';\n--\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=1234;\n";
        assert_eq!(
            parse_coordinates(mariadb),
            Some(Coordinates {
                file: "mysql-bin.000002".into(),
                position: 1234,
                gtid: Some("0-1-42".into()),
            })
        );
        // mysqldump 8.0.23+ --source-data=2 with GTIDs.
        let mysql8 = "-- MySQL dump 10.13  Distrib 8.0.36\nSET @@GLOBAL.GTID_PURGED=/*!80000 '+'*/ '3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77';\n-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000017', SOURCE_LOG_POS=157;\n";
        let c = parse_coordinates(mysql8).unwrap();
        assert_eq!((c.file.as_str(), c.position), ("binlog.000017", 157));
        assert_eq!(
            c.gtid.as_deref(),
            Some("3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77")
        );
        // --master-data=1: not commented out.
        let one = "CHANGE MASTER TO MASTER_LOG_FILE='db1-bin.000003', MASTER_LOG_POS=4;\n";
        assert_eq!(parse_coordinates(one).unwrap().file, "db1-bin.000003");
        // A dump without --master-data.
        assert_eq!(
            parse_coordinates("-- MariaDB dump\nCREATE TABLE t (a int);\n"),
            None
        );
        // GTID-only CHANGE MASTER carries no file: not coordinates.
        assert_eq!(
            parse_coordinates("-- CHANGE MASTER TO MASTER_USE_GTID=slave_pos;\n"),
            None
        );
    }

    #[test]
    fn a_cut_gzipped_head_gives_its_coordinates() {
        use std::io::Write;
        let mut text = String::from("-- MariaDB dump\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000009', MASTER_LOG_POS=77;\n");
        for i in 0..20000 {
            text.push_str(&format!(
                "INSERT INTO t VALUES ({i}, 'some row text {i}');\n"
            ));
        }
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(text.as_bytes()).unwrap();
        let gz = enc.finish().unwrap();
        let head = &gz[..gz.len() / 3];
        let c = coordinates_in_head(head).unwrap();
        assert_eq!((c.file.as_str(), c.position), ("mysql-bin.000009", 77));
        assert_eq!(coordinates_in_head(b"-- MariaDB dump\n"), None);
    }

    #[test]
    fn binlog_names_are_basename_and_number() {
        let n = classify("mysql-bin.000042.gz").unwrap();
        assert_eq!((n.base.as_str(), n.number, n.gzip), ("mysql-bin", 42, true));
        assert_eq!(n.file(), "mysql-bin.000042");
        assert_eq!(classify("binlog.1000000").unwrap().file(), "binlog.1000000");
        assert_eq!(classify("mysql-bin.index"), None);
        assert_eq!(classify("mysql-bin.42"), None);
        assert_eq!(classify("dump.sql.gz"), None);
        assert_eq!(classify(".000001"), None);
    }

    fn archive(names: &[(&str, u64)]) -> BinlogArchive {
        let mut a = BinlogArchive {
            uri: "s3://b/binlogs/".into(),
            ..BinlogArchive::default()
        };
        for (i, (name, size)) in names.iter().enumerate() {
            a.add(
                &format!("binlogs/{name}"),
                name,
                *size,
                datetime!(2026-12-06 10:00 UTC) + time::Duration::minutes(i as i64),
            );
        }
        a
    }

    fn at(file: &str, position: u64) -> Coordinates {
        Coordinates {
            file: file.into(),
            position,
            gtid: None,
        }
    }

    #[test]
    fn replay_runs_from_the_dumps_file_to_the_newest() {
        let a = archive(&[
            ("mysql-bin.000001", 900),
            ("mysql-bin.000002", 900),
            ("mysql-bin.000003.gz", 100),
            ("mysql-bin.index", 10),
        ]);
        let files = replay_files(&a, &at("mysql-bin.000002", 500)).unwrap();
        let names: Vec<String> = files.iter().map(|f| f.name.file()).collect();
        assert_eq!(names, ["mysql-bin.000002", "mysql-bin.000003"]);
        assert_eq!(a.newest().unwrap().name.number, 3);
    }

    #[test]
    fn a_hole_names_its_first_missing_file() {
        let a = archive(&[
            ("mysql-bin.000001", 900),
            ("mysql-bin.000002", 900),
            ("mysql-bin.000005", 900),
        ]);
        let e = replay_files(&a, &at("mysql-bin.000001", 4)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "binlog mysql-bin.000003 is missing from the archive (2 files missing between mysql-bin.000002 and mysql-bin.000005): replay cannot pass it"
        );
        // A hole before the dump's file does not matter.
        assert!(replay_files(&a, &at("mysql-bin.000005", 4)).is_ok());
    }

    #[test]
    fn an_archive_not_matching_the_coordinates_is_named() {
        let a = archive(&[("mysql-bin.000007", 900), ("mysql-bin.000008", 900)]);
        let e = replay_files(&a, &at("mysql-bin.000005", 4)).unwrap_err();
        assert!(
            e.to_string().contains("mysql-bin.000005, which is not in the archive (its first file after it is mysql-bin.000007)"),
            "{e}"
        );
        let e = replay_files(&a, &at("mysql-bin.000009", 4)).unwrap_err();
        assert!(e.to_string().contains("the archive ends before it"), "{e}");
        let e = replay_files(&a, &at("binlog.000007", 4)).unwrap_err();
        assert!(
            e.to_string().contains("holds only mysql-bin.* files"),
            "{e}"
        );
        let e = replay_files(&a, &at("mysql-bin.000007", 5000)).unwrap_err();
        assert!(e.to_string().contains("is only 900 bytes"), "{e}");
    }
}

//! What a `pg_basebackup -Ft -z` run left in S3, read from the files PostgreSQL writes
//! rather than from object dates: `backup_label` (first member of `base.tar.gz`), the
//! backup history file `<segment>.<offset>.backup` in the WAL archive (start and stop
//! location and time), and `backup_manifest` (`WAL-Ranges`, and `global/pg_control`'s copy
//! time, the last file a backup writes).

use std::collections::HashMap;
use std::io::Read;

use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

use crate::wal::Lsn;

/// Fields of a `backup_label` or backup history file (`KEY: value` lines).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Label {
    /// `START WAL LOCATION`.
    pub start_lsn: Option<Lsn>,
    /// `STOP WAL LOCATION` (backup history files only).
    pub stop_lsn: Option<Lsn>,
    /// `START TIMELINE`.
    pub start_timeline: Option<u32>,
    /// `START TIME`.
    pub start_time: Option<OffsetDateTime>,
    /// `STOP TIME` (backup history files only).
    pub stop_time: Option<OffsetDateTime>,
    /// `LABEL`.
    pub label: Option<String>,
}

/// Parses a `backup_label` or a `.backup` history file.
pub fn parse_label(text: &str) -> Label {
    let fields: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    // `0/3000028 (file 000000010000000000000003)`: the LSN is the first word.
    let lsn = |k: &str| {
        fields
            .get(k)
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| Lsn::parse(v).ok())
    };
    Label {
        start_lsn: lsn("START WAL LOCATION"),
        stop_lsn: lsn("STOP WAL LOCATION"),
        start_timeline: fields.get("START TIMELINE").and_then(|v| v.parse().ok()),
        start_time: fields.get("START TIME").and_then(|v| parse_pg_time(v)),
        stop_time: fields.get("STOP TIME").and_then(|v| parse_pg_time(v)),
        label: fields.get("LABEL").map(|v| v.to_string()),
    }
}

/// Parses PostgreSQL's `2026-12-03 08:08:15 UTC` (the zone is `log_timezone`'s
/// abbreviation: UTC, GMT, Z or a numeric offset are understood; named zones such as CET
/// are ambiguous and give `None`, so the caller falls back to the manifest's GMT times).
pub fn parse_pg_time(s: &str) -> Option<OffsetDateTime> {
    let s = s.trim();
    let (datetime, zone) = s.rsplit_once(' ')?;
    let local = PrimitiveDateTime::parse(
        datetime,
        format_description!("[year]-[month]-[day] [hour]:[minute]:[second]"),
    )
    .ok()?;
    let offset = match zone {
        "UTC" | "GMT" | "Z" | "UCT" => UtcOffset::UTC,
        z if z.starts_with('+') || z.starts_with('-') => {
            let sign: i8 = if z.starts_with('-') { -1 } else { 1 };
            let digits: String = z[1..].chars().filter(char::is_ascii_digit).collect();
            let (h, m) = match digits.len() {
                2 => (digits.parse::<i8>().ok()?, 0),
                4 => (digits[..2].parse().ok()?, digits[2..].parse().ok()?),
                _ => return None,
            };
            UtcOffset::from_hms(sign * h, sign * m, 0).ok()?
        }
        _ => return None,
    };
    Some(local.assume_offset(offset))
}

/// What `backup_manifest` says about a backup.
#[derive(Debug, Clone, PartialEq)]
pub struct Manifest {
    /// Timeline of the first WAL range.
    pub timeline: u32,
    /// Start of the WAL the backup needs.
    pub start_lsn: Lsn,
    /// End of the WAL the backup needs: replay must reach it to be consistent.
    pub end_lsn: Lsn,
    /// When `global/pg_control` was copied (the last file of a backup): the backup's end,
    /// to the second, when no backup history file says better.
    pub control_copied_at: Option<OffsetDateTime>,
    /// Whether it lists tablespaces (`pg_tblspc/…`), which a drill does not restore.
    pub has_tablespaces: bool,
}

/// Parses a `backup_manifest` (version 1, JSON).
pub fn parse_manifest(bytes: &[u8]) -> Result<Manifest, String> {
    let v: serde_json::Value =
        serde_json::from_slice(bytes).map_err(|e| format!("backup_manifest is not JSON: {e}"))?;
    let ranges = v
        .get("WAL-Ranges")
        .and_then(|r| r.as_array())
        .filter(|r| !r.is_empty())
        .ok_or("backup_manifest has no WAL-Ranges")?;
    let first = &ranges[0];
    let last = &ranges[ranges.len() - 1];
    let lsn = |r: &serde_json::Value, k: &str| {
        r.get(k)
            .and_then(|x| x.as_str())
            .ok_or_else(|| format!("backup_manifest WAL-Ranges has no {k}"))
            .and_then(Lsn::parse)
    };
    let files = v.get("Files").and_then(|f| f.as_array());
    let path_of = |f: &serde_json::Value| {
        f.get("Path")
            .and_then(|p| p.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let control_copied_at = files
        .into_iter()
        .flatten()
        .find(|f| path_of(f) == "global/pg_control")
        .and_then(|f| f.get("Last-Modified")?.as_str().and_then(parse_pg_time));
    let has_tablespaces = files
        .into_iter()
        .flatten()
        .any(|f| path_of(f).starts_with("pg_tblspc/"));
    Ok(Manifest {
        timeline: first
            .get("Timeline")
            .and_then(|t| t.as_u64())
            .and_then(|t| u32::try_from(t).ok())
            .ok_or("backup_manifest WAL-Ranges has no Timeline")?,
        start_lsn: lsn(first, "Start-LSN")?,
        end_lsn: lsn(last, "End-LSN")?,
        control_copied_at,
        has_tablespaces,
    })
}

/// Reads the tar stream `tar` member by member until `name`, returning its contents (at
/// most `limit` bytes). `backup_label` is the first member of a `pg_basebackup` tar, so
/// only its first blocks are read.
pub fn read_tar_member(
    mut tar: impl Read,
    name: &str,
    limit: u64,
) -> Result<Option<Vec<u8>>, String> {
    let mut header = [0u8; 512];
    loop {
        if let Err(e) = tar.read_exact(&mut header) {
            return if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Ok(None)
            } else {
                Err(format!("reading the tar: {e}"))
            };
        }
        if header.iter().all(|b| *b == 0) {
            return Ok(None);
        }
        let field = |range: std::ops::Range<usize>| {
            let raw = &header[range];
            let end = raw.iter().position(|b| *b == 0).unwrap_or(raw.len());
            String::from_utf8_lossy(&raw[..end]).trim().to_string()
        };
        let member = field(0..100);
        let size = u64::from_str_radix(&field(124..136), 8)
            .map_err(|_| format!("a tar header of {member:?} has no valid size"))?;
        let padded = size.div_ceil(512) * 512;
        if member.trim_start_matches("./") == name {
            if size > limit {
                return Err(format!("{name} is {size} bytes, more than expected"));
            }
            let mut out = vec![0u8; size as usize];
            tar.read_exact(&mut out)
                .map_err(|e| format!("reading {name} from the tar: {e}"))?;
            return Ok(Some(out));
        }
        std::io::copy(&mut (&mut tar).take(padded), &mut std::io::sink())
            .map_err(|e| format!("reading the tar: {e}"))?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const HISTORY: &str = "START WAL LOCATION: 0/3000028 (file 000000010000000000000003)
STOP WAL LOCATION: 0/3000100 (file 000000010000000000000003)
CHECKPOINT LOCATION: 0/3000060
BACKUP METHOD: streamed
BACKUP FROM: primary
START TIME: 2026-12-03 08:08:15 UTC
LABEL: pg_basebackup base backup
START TIMELINE: 1
STOP TIME: 2026-12-03 08:08:16 UTC
STOP TIMELINE: 1
";

    #[test]
    fn a_backup_history_file_gives_locations_and_times() {
        let l = parse_label(HISTORY);
        assert_eq!(l.start_lsn, Some(Lsn(0x3000028)));
        assert_eq!(l.stop_lsn, Some(Lsn(0x3000100)));
        assert_eq!(l.start_timeline, Some(1));
        assert_eq!(l.start_time, Some(datetime!(2026-12-03 08:08:15 UTC)));
        assert_eq!(l.stop_time, Some(datetime!(2026-12-03 08:08:16 UTC)));
        assert_eq!(l.label.as_deref(), Some("pg_basebackup base backup"));
    }

    #[test]
    fn times_in_numeric_zones_parse_and_named_zones_do_not() {
        assert_eq!(
            parse_pg_time("2026-12-03 09:08:15 +01"),
            Some(datetime!(2026-12-03 08:08:15 UTC))
        );
        assert_eq!(
            parse_pg_time("2026-12-03 13:38:15 +0530"),
            Some(datetime!(2026-12-03 08:08:15 UTC))
        );
        assert_eq!(parse_pg_time("2026-12-03 09:08:15 CET"), None);
    }

    #[test]
    fn times_at_midnight_month_and_year_ends_and_leap_days() {
        // "%Y-%m-%d %H:%M:%S %Z": zero-padded, in log_timezone (the manifest: always GMT).
        for (text, at) in [
            (
                "2026-12-31 23:59:59 UTC",
                datetime!(2026-12-31 23:59:59 UTC),
            ),
            (
                "2027-01-01 00:00:00 GMT",
                datetime!(2027-01-01 00:00:00 UTC),
            ),
            (
                "2027-01-01 05:29:59 +0530",
                datetime!(2026-12-31 23:59:59 UTC),
            ),
            (
                "2026-12-31 21:00:00 -03",
                datetime!(2027-01-01 00:00:00 UTC),
            ),
            (
                "2028-02-29 09:05:00 UTC",
                datetime!(2028-02-29 09:05:00 UTC),
            ),
            (
                "2027-03-01 00:44:59 +0545",
                datetime!(2027-02-28 18:59:59 UTC),
            ),
        ] {
            assert_eq!(parse_pg_time(text), Some(at), "{text}");
        }
        assert_eq!(parse_pg_time("2027-02-29 09:05:00 UTC"), None);
    }

    #[test]
    fn a_manifest_gives_the_wal_range_and_the_control_file_time() {
        let m = parse_manifest(
            br#"{ "PostgreSQL-Backup-Manifest-Version": 1,
"Files": [
{ "Path": "backup_label", "Size": 225, "Last-Modified": "2026-12-03 08:08:15 GMT" },
{ "Path": "global/pg_control", "Size": 8192, "Last-Modified": "2026-12-03 08:08:16 GMT" }
],
"WAL-Ranges": [
{ "Timeline": 1, "Start-LSN": "0/3000028", "End-LSN": "0/3000100" }
],
"Manifest-Checksum": "00"}"#,
        )
        .unwrap();
        assert_eq!(m.timeline, 1);
        assert_eq!(m.start_lsn, Lsn(0x3000028));
        assert_eq!(m.end_lsn, Lsn(0x3000100));
        assert_eq!(
            m.control_copied_at,
            Some(datetime!(2026-12-03 08:08:16 UTC))
        );
        assert!(!m.has_tablespaces);
        assert!(parse_manifest(b"{}").is_err());
    }

    #[test]
    fn the_label_is_found_in_a_tar_stream() {
        let mut tar = Vec::new();
        for (name, body) in [
            ("tablespace_map", &b""[..]),
            ("backup_label", b"LABEL: x\n"),
        ] {
            let mut h = [0u8; 512];
            h[..name.len()].copy_from_slice(name.as_bytes());
            let size = format!("{:011o}\0", body.len());
            h[124..136].copy_from_slice(size.as_bytes());
            tar.extend_from_slice(&h);
            tar.extend_from_slice(body);
            tar.resize(tar.len().div_ceil(512) * 512, 0);
        }
        tar.extend_from_slice(&[0u8; 1024]);
        let found = read_tar_member(&tar[..], "backup_label", 4096).unwrap();
        assert_eq!(found.as_deref(), Some(&b"LABEL: x\n"[..]));
        assert_eq!(read_tar_member(&tar[..], "PG_VERSION", 4096).unwrap(), None);
    }
}

//! WAL file names and the arithmetic behind them: LSNs, segment numbers, timelines and
//! timeline history files, and the names an `archive_command` leaves in an archive
//! (`%f`, optionally compressed).
//!
//! A segment file is named `TTTTTTTTXXXXXXXXYYYYYYYY`: timeline, then the segment number
//! split into a "log id" (`segno / segments_per_log`) and the segment within it, where
//! `segments_per_log = 2^32 / wal_segment_size` (0x100 for the default 16 MB segments).

use std::fmt;

/// The default `wal_segment_size` (16 MB).
pub const DEFAULT_SEGMENT_SIZE: u64 = 16 * 1024 * 1024;

/// A write-ahead log location, `X/Y` in PostgreSQL's notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lsn(pub u64);

impl Lsn {
    /// Parses `16/B374D848`.
    pub fn parse(s: &str) -> Result<Lsn, String> {
        let (hi, lo) = s
            .trim()
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not an LSN (X/Y in hex)"))?;
        let hi = u32::from_str_radix(hi, 16).map_err(|_| format!("{s:?} is not an LSN"))?;
        let lo = u32::from_str_radix(lo, 16).map_err(|_| format!("{s:?} is not an LSN"))?;
        Ok(Lsn((u64::from(hi) << 32) | u64::from(lo)))
    }

    /// The segment number holding this location.
    pub fn segno(self, segment_size: u64) -> u64 {
        self.0 / segment_size
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// Whether `size` is a `wal_segment_size` PostgreSQL accepts (a power of two, 1 MB–1 GB).
pub fn valid_segment_size(size: u64) -> bool {
    size.is_power_of_two() && (1 << 20..=1 << 30).contains(&size)
}

/// Segments per log id for a segment size.
fn segments_per_log(segment_size: u64) -> u64 {
    0x1_0000_0000 / segment_size
}

/// The file name of segment `segno` on `timeline`.
pub fn segment_name(timeline: u32, segno: u64, segment_size: u64) -> String {
    let per = segments_per_log(segment_size);
    format!("{timeline:08X}{:08X}{:08X}", segno / per, segno % per)
}

/// `(timeline, segno)` from a segment file name; `None` when it is not one, or when its
/// segment part is out of range for `segment_size`.
pub fn parse_segment_name(name: &str, segment_size: u64) -> Option<(u32, u64)> {
    if name.len() != 24 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let tli = u32::from_str_radix(&name[..8], 16).ok()?;
    let log = u64::from_str_radix(&name[8..16], 16).ok()?;
    let seg = u64::from_str_radix(&name[16..], 16).ok()?;
    let per = segments_per_log(segment_size);
    (seg < per && tli > 0).then_some((tli, log * per + seg))
}

/// How a file in the archive is compressed (by its suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// As PostgreSQL wrote it.
    None,
    /// `.gz`.
    Gzip,
    /// `.zst`.
    Zstd,
}

impl Compression {
    fn split(name: &str) -> (&str, Compression) {
        if let Some(base) = name.strip_suffix(".gz") {
            (base, Compression::Gzip)
        } else if let Some(base) = name.strip_suffix(".zst") {
            (base, Compression::Zstd)
        } else {
            (name, Compression::None)
        }
    }
}

/// What a file name in a WAL archive is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchivedKind {
    /// A WAL segment, `TTTTTTTTXXXXXXXXYYYYYYYY`.
    Segment {
        /// Its timeline.
        timeline: u32,
        /// Its segment name (without compression suffix).
        name: String,
    },
    /// A timeline history file, `TTTTTTTT.history`.
    History {
        /// The timeline it describes.
        timeline: u32,
    },
    /// A backup history file, `<segment>.<offset>.backup`, written by a base backup.
    BackupHistory {
        /// The segment name the backup started in.
        segment: String,
    },
    /// A `.partial` segment (the last, incomplete segment of a timeline a standby was
    /// promoted from): never restored, because the new timeline holds its content.
    Partial,
}

/// One file of the archive: its name (compression suffix removed), kind and compression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedFile {
    /// Name as PostgreSQL asks for it (`%f`).
    pub name: String,
    /// What it is.
    pub kind: ArchivedKind,
    /// Compression.
    pub compression: Compression,
}

/// Classifies a file name found in the archive; `None` for anything else.
pub fn classify(file_name: &str) -> Option<ArchivedFile> {
    let (name, compression) = Compression::split(file_name);
    let hex = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit());
    let kind = if name.len() == 24 && hex(name) {
        ArchivedKind::Segment {
            timeline: u32::from_str_radix(&name[..8], 16).ok()?,
            name: name.to_string(),
        }
    } else if let Some(tli) = name.strip_suffix(".history") {
        if tli.len() != 8 || !hex(tli) {
            return None;
        }
        ArchivedKind::History {
            timeline: u32::from_str_radix(tli, 16).ok()?,
        }
    } else if let Some(seg) = name.strip_suffix(".partial") {
        if seg.len() != 24 || !hex(seg) {
            return None;
        }
        ArchivedKind::Partial
    } else if let Some(rest) = name.strip_suffix(".backup") {
        let (seg, offset) = rest.split_once('.')?;
        if seg.len() != 24 || !hex(seg) || offset.len() != 8 || !hex(offset) {
            return None;
        }
        ArchivedKind::BackupHistory {
            segment: seg.to_string(),
        }
    } else {
        return None;
    };
    Some(ArchivedFile {
        name: name.to_string(),
        kind,
        compression,
    })
}

/// The history file name of `timeline`.
pub fn history_name(timeline: u32) -> String {
    format!("{timeline:08X}.history")
}

/// One timeline of a recovery path: it begins at `begin` (where its parent switched to it;
/// `None` for the first timeline) and ends at `end` (`None` for the newest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimelineSpan {
    /// Timeline id.
    pub timeline: u32,
    /// Switch point from the parent.
    pub begin: Option<Lsn>,
    /// Switch point to the child.
    pub end: Option<Lsn>,
}

/// Parses a `.history` file of `timeline` into the path of timelines leading to it, oldest
/// first (`1\t0/3000000\tno recovery target specified` per ancestor).
pub fn parse_history(timeline: u32, text: &str) -> Result<Vec<TimelineSpan>, String> {
    let mut spans = Vec::new();
    let mut begin = None;
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split_whitespace();
        let (Some(tli), Some(lsn)) = (fields.next(), fields.next()) else {
            return Err(format!(
                "{}: cannot read the line {line:?}",
                history_name(timeline)
            ));
        };
        let tli: u32 = tli
            .parse()
            .map_err(|_| format!("{}: bad timeline {tli:?}", history_name(timeline)))?;
        let end = Lsn::parse(lsn).map_err(|e| format!("{}: {e}", history_name(timeline)))?;
        spans.push(TimelineSpan {
            timeline: tli,
            begin,
            end: Some(end),
        });
        begin = Some(end);
    }
    spans.push(TimelineSpan {
        timeline,
        begin,
        end: None,
    });
    Ok(spans)
}

/// The timeline a recovery following `path` reads segment `segno` from: the newest one that
/// had begun by then (what PostgreSQL's `XLogFileReadAnyTLI` picks).
pub fn timeline_of(path: &[TimelineSpan], segno: u64, segment_size: u64) -> u32 {
    path.iter()
        .rev()
        .find(|s| s.begin.is_none_or(|b| segno >= b.segno(segment_size)))
        .map_or(1, |s| s.timeline)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB16: u64 = DEFAULT_SEGMENT_SIZE;

    #[test]
    fn lsns_parse_and_print_as_postgres_does() {
        let lsn = Lsn::parse("16/B374D848").unwrap();
        assert_eq!(lsn.0, 0x16_B374_D848);
        assert_eq!(lsn.to_string(), "16/B374D848");
        assert!(Lsn::parse("16B374D848").is_err());
        assert!(Lsn::parse("x/1").is_err());
    }

    #[test]
    fn segment_names_carry_timeline_log_id_and_segment() {
        // 0/3000028 is in segment 3 of log 0.
        let seg = Lsn::parse("0/3000028").unwrap().segno(MB16);
        assert_eq!(segment_name(1, seg, MB16), "000000010000000000000003");
        // 16 MB segments: 0x100 per log id, so the segment after ...FF is the next log id.
        assert_eq!(segment_name(2, 0xFF, MB16), "0000000200000000000000FF");
        assert_eq!(segment_name(2, 0x100, MB16), "000000020000000100000000");
        // 64 MB segments: 0x40 per log id.
        assert_eq!(segment_name(1, 0x40, 64 << 20), "000000010000000100000000");
        assert_eq!(
            parse_segment_name("000000020000000100000000", MB16),
            Some((2, 0x100))
        );
        // ...00000100 does not exist with 16 MB segments.
        assert_eq!(parse_segment_name("000000010000000000000100", MB16), None);
        assert!(valid_segment_size(MB16) && !valid_segment_size(3 << 20));
    }

    #[test]
    fn archive_names_are_classified() {
        let seg = classify("000000010000000000000003.zst").unwrap();
        assert_eq!(seg.name, "000000010000000000000003");
        assert_eq!(seg.compression, Compression::Zstd);
        assert!(matches!(
            seg.kind,
            ArchivedKind::Segment { timeline: 1, .. }
        ));
        assert_eq!(
            classify("00000002.history").unwrap().kind,
            ArchivedKind::History { timeline: 2 }
        );
        assert_eq!(
            classify("000000010000000000000003.partial.gz")
                .unwrap()
                .kind,
            ArchivedKind::Partial
        );
        assert_eq!(
            classify("000000010000000000000003.00000028.backup")
                .unwrap()
                .kind,
            ArchivedKind::BackupHistory {
                segment: "000000010000000000000003".into()
            }
        );
        assert_eq!(classify("README"), None);
        assert_eq!(classify("0000000100000000000003"), None);
    }

    #[test]
    fn history_files_give_the_timeline_path() {
        let path = parse_history(
            3,
            "1\t0/5000000\tno recovery target specified\n\n2\t0/90000A0\tbefore 2026-01-01\n",
        )
        .unwrap();
        assert_eq!(path.len(), 3);
        assert_eq!(path[2].begin, Some(Lsn(0x90000A0)));
        // Segments before the first switch come from timeline 1, the switch segment and
        // later from the newer timeline.
        assert_eq!(timeline_of(&path, 0, MB16), 1);
        assert_eq!(timeline_of(&path, 4, MB16), 1);
        assert_eq!(timeline_of(&path, 5, MB16), 2);
        assert_eq!(timeline_of(&path, 8, MB16), 2);
        assert_eq!(timeline_of(&path, 9, MB16), 3);
        let path = parse_history(2, "1\t0/5000100\treason\n").unwrap();
        assert_eq!(timeline_of(&path, 4, MB16), 1);
        assert_eq!(timeline_of(&path, 5, MB16), 2);
        assert_eq!(timeline_of(&path, 9, MB16), 2);
        assert!(parse_history(2, "garbage").is_err());
    }
}

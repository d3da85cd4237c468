//! The plan of a PITR drill, made before anything is downloaded or started: which base
//! backup to restore, which point in time, and which archived files replay needs, with
//! the segment sequence checked from the backup's start segment to the target. A gap here
//! fails the drill at once and names the first missing segment.

use std::collections::HashMap;

use time::OffsetDateTime;

use crate::report::rfc3339;
use crate::wal::{self, ArchivedFile, Compression, Lsn, TimelineSpan};

/// One object of the WAL archive.
#[derive(Debug, Clone)]
pub struct ArchivedObject {
    /// Its S3 key.
    pub key: String,
    /// What it is.
    pub file: ArchivedFile,
    /// Its size in bytes (compressed, when it is).
    pub size: u64,
    /// When it was uploaded (S3's `LastModified`, to the second): a segment's content was
    /// written before this.
    pub uploaded: OffsetDateTime,
}

/// The WAL archive as listed.
#[derive(Debug, Clone, Default)]
pub struct Archive {
    /// `s3://bucket/prefix/`.
    pub uri: String,
    /// Segments by name.
    pub segments: HashMap<String, ArchivedObject>,
    /// Timeline history files by timeline, with their text.
    pub histories: HashMap<u32, (ArchivedObject, String)>,
    /// `wal_segment_size`.
    pub segment_size: u64,
}

impl Archive {
    /// The most recently uploaded segment.
    pub fn newest_segment(&self) -> Option<&ArchivedObject> {
        self.segments
            .values()
            .max_by(|a, b| (a.uploaded, &a.file.name).cmp(&(b.uploaded, &b.file.name)))
    }
}

/// A base backup, as its own files describe it.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseBackup {
    /// `s3://bucket/folder/`.
    pub uri: String,
    /// Key of `base.tar.gz`.
    pub base_key: String,
    /// Key of `pg_wal.tar.gz` (the WAL streamed during the backup), if any.
    pub wal_key: Option<String>,
    /// Timeline it started on.
    pub timeline: u32,
    /// `START WAL LOCATION`.
    pub start_lsn: Lsn,
    /// Where replay becomes consistent (`STOP WAL LOCATION`, manifest `End-LSN`).
    pub end_lsn: Option<Lsn>,
    /// `START TIME`.
    pub start_time: Option<OffsetDateTime>,
    /// When it ended: the earliest point it can restore.
    pub end_time: OffsetDateTime,
    /// Which file `end_time` comes from.
    pub end_time_from: String,
}

/// What `target_time` asks for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetTime {
    /// Everything the archive holds.
    Latest,
    /// A uniformly random point between the oldest base backup's end and the newest segment.
    Random,
    /// This point.
    At(OffsetDateTime),
}

/// A file replay will ask `restore_command` for.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedFile {
    /// Name PostgreSQL asks for (`%f`).
    pub name: String,
    /// S3 key.
    pub key: String,
    /// Compression of the object.
    pub compression: Compression,
    /// Size of the object.
    pub size: u64,
}

/// The plan.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The base backup to restore.
    pub backup: BaseBackup,
    /// The point to recover to (`None` for `latest`: the end of the archive).
    pub target: Option<OffsetDateTime>,
    /// Whether `target` was chosen at random.
    pub random: bool,
    /// History files, then segments in replay order.
    pub files: Vec<PlannedFile>,
    /// First and last segment of the range replay reads from the archive.
    pub wal_range: (String, String),
    /// The timelines replay follows.
    pub timelines: Vec<u32>,
    /// Things worth telling the user that do not fail the drill.
    pub notes: Vec<String>,
    /// `wal_segment_size` of the archive.
    pub segment_size: u64,
}

/// Slack on S3's second-precision upload times.
const UPLOAD_SLACK: time::Duration = time::Duration::seconds(1);

/// Chooses the base backup and target, and checks the archive holds every segment from the
/// backup's start to the target. `pick` maps `[0, 1)` to the random point (for tests).
pub fn plan(
    backups: &[BaseBackup],
    archive: &Archive,
    target: TargetTime,
    pick: impl FnOnce() -> f64,
) -> Result<Plan, String> {
    let oldest = backups
        .iter()
        .min_by_key(|b| b.end_time)
        .ok_or("no base backup found (a folder holding base.tar.gz): nothing to restore")?;
    let newest_segment = archive.newest_segment().ok_or_else(|| {
        format!(
            "the WAL archive {} holds no WAL segment: check archive_mode and archive_command",
            archive.uri
        )
    })?;
    let archive_end = newest_segment.uploaded + UPLOAD_SLACK;
    let (at, random) = match target {
        TargetTime::Latest => (None, false),
        TargetTime::At(t) => (Some(t), false),
        TargetTime::Random => {
            let span = (archive_end - oldest.end_time).as_seconds_f64().max(0.0);
            let t = oldest.end_time + time::Duration::seconds_f64(span * pick().clamp(0.0, 1.0));
            (Some(t), true)
        }
    };
    if let Some(t) = at {
        if t < oldest.end_time {
            return Err(format!(
                "target_time {} is before the oldest base backup ended ({}, {}): no backup can restore it",
                rfc3339(t),
                rfc3339(oldest.end_time),
                oldest.uri
            ));
        }
        if t > archive_end {
            return Err(format!(
                "target_time {} is after the newest archived WAL segment {} (uploaded {}): the archive cannot reach it",
                rfc3339(t),
                newest_segment.key,
                rfc3339(newest_segment.uploaded)
            ));
        }
    }
    let backup = backups
        .iter()
        .filter(|b| at.is_none_or(|t| b.end_time <= t))
        .max_by_key(|b| b.end_time)
        .expect("the oldest backup qualifies");
    let size = archive.segment_size;
    let path = timeline_path(archive, backup)?;
    let mut notes = Vec::new();
    let mut files: Vec<PlannedFile> = path
        .iter()
        .filter_map(|s| archive.histories.get(&s.timeline))
        .map(|(o, _)| planned(o))
        .collect();
    // The highest segment replay could still use on this path: past it the archive ends.
    let last_on_path = archive
        .segments
        .values()
        .filter_map(|o| wal::parse_segment_name(&o.file.name, size))
        .filter(|(tli, segno)| wal::timeline_of(&path, *segno, size) == *tli)
        .map(|(_, segno)| segno)
        .max();
    let start = backup.start_lsn.segno(size);
    let backup_end = backup.end_lsn.map(|l| l.segno(size));
    let in_backup = |segno: u64| backup.wal_key.is_some() && backup_end.is_some_and(|e| segno <= e);
    let mut reached = false;
    let (mut first, mut last) = (None, None);
    let mut segno = start;
    loop {
        let tli = wal::timeline_of(&path, segno, size);
        let name = wal::segment_name(tli, segno, size);
        let consistent = backup_end.is_none_or(|e| segno > e);
        match archive.segments.get(&name) {
            Some(o) => {
                files.push(planned(o));
                first.get_or_insert_with(|| name.clone());
                last = Some(name.clone());
                if consistent && at.is_some_and(|t| o.uploaded > t + UPLOAD_SLACK) {
                    reached = true;
                }
            }
            None if in_backup(segno) => {}
            None => {
                let more = last_on_path.is_some_and(|m| m > segno);
                if reached || (!more && at.is_none()) {
                    if more {
                        notes.push(format!("segment {name} is missing from the archive after the target: a later target would stop there"));
                    }
                    break;
                }
                if !more && at.is_some() {
                    // Replay will use what there is; PostgreSQL tells whether it reached
                    // the target.
                    break;
                }
                let prev = last
                    .as_deref()
                    .map_or("the base backup's own WAL".to_string(), str::to_string);
                return Err(format!(
                    "the WAL archive has a gap: segment {name} is missing ({}{name}), needed to replay base backup {} (from {}, timeline {}) to {}; the archive goes on after it, the last segment before the gap is {prev}",
                    archive.uri,
                    backup.uri,
                    backup.start_lsn,
                    backup.timeline,
                    at.map_or("the end of the archive".to_string(), rfc3339),
                ));
            }
        }
        segno += 1;
    }
    let (Some(first), Some(last)) = (first, last) else {
        return Err(format!(
            "the WAL archive {} holds no segment from base backup {}'s start ({}) on: replay has nothing to read",
            archive.uri,
            backup.uri,
            wal::segment_name(backup.timeline, start, size)
        ));
    };
    Ok(Plan {
        backup: backup.clone(),
        target: at,
        random,
        files,
        wal_range: (first, last),
        timelines: path.iter().map(|s| s.timeline).collect(),
        notes,
        segment_size: size,
    })
}

fn planned(o: &ArchivedObject) -> PlannedFile {
    PlannedFile {
        name: o.file.name.clone(),
        key: o.key.clone(),
        compression: o.file.compression,
        size: o.size,
    }
}

/// The timelines recovery follows with `recovery_target_timeline = 'latest'`: PostgreSQL
/// probes `.history` files upwards from the backup's timeline while they exist, and takes
/// the newest whose history passes through the backup's start.
fn timeline_path(archive: &Archive, backup: &BaseBackup) -> Result<Vec<TimelineSpan>, String> {
    let mut newest = backup.timeline;
    while archive.histories.contains_key(&(newest + 1)) {
        newest += 1;
    }
    while newest > backup.timeline {
        let (_, text) = &archive.histories[&newest];
        let path = wal::parse_history(newest, text)?;
        let through = path.iter().any(|s| {
            s.timeline == backup.timeline && s.end.is_none_or(|end| end > backup.start_lsn)
        });
        if through {
            return Ok(path);
        }
        newest -= 1;
    }
    match archive.histories.get(&backup.timeline) {
        Some((_, text)) => wal::parse_history(backup.timeline, text),
        None => Ok(vec![TimelineSpan {
            timeline: backup.timeline,
            begin: None,
            end: None,
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    const MB16: u64 = wal::DEFAULT_SEGMENT_SIZE;

    fn archive(names: &[(&str, OffsetDateTime)]) -> Archive {
        let mut a = Archive {
            uri: "s3://wal/".into(),
            segment_size: MB16,
            ..Archive::default()
        };
        for (n, at) in names {
            let file = wal::classify(n).unwrap();
            let o = ArchivedObject {
                key: n.to_string(),
                file: file.clone(),
                size: 100,
                uploaded: *at,
            };
            match file.kind {
                wal::ArchivedKind::Segment { .. } => {
                    a.segments.insert(file.name.clone(), o);
                }
                wal::ArchivedKind::History { timeline } => {
                    a.histories
                        .insert(timeline, (o, "1\t0/5000100\tno recovery target\n".into()));
                }
                _ => {}
            }
        }
        a
    }

    fn backup(end: OffsetDateTime) -> BaseBackup {
        BaseBackup {
            uri: "s3://base/b1/".into(),
            base_key: "b1/base.tar.gz".into(),
            wal_key: Some("b1/pg_wal.tar.gz".into()),
            timeline: 1,
            start_lsn: Lsn(0x3000028),
            end_lsn: Some(Lsn(0x3000100)),
            start_time: None,
            end_time: end,
            end_time_from: "test".into(),
        }
    }

    fn t(m: u8) -> OffsetDateTime {
        datetime!(2026-12-03 08:00 UTC) + time::Duration::minutes(m.into())
    }

    fn names(p: &Plan) -> Vec<&str> {
        p.files.iter().map(|f| f.name.as_str()).collect()
    }

    #[test]
    fn latest_replays_every_segment_from_the_backup_start() {
        let a = archive(&[
            ("000000010000000000000003", t(1)),
            ("000000010000000000000004.gz", t(2)),
            ("000000010000000000000005.zst", t(3)),
        ]);
        let p = plan(&[backup(t(1))], &a, TargetTime::Latest, || 0.0).unwrap();
        assert_eq!(
            names(&p),
            [
                "000000010000000000000003",
                "000000010000000000000004",
                "000000010000000000000005"
            ]
        );
        assert_eq!(p.files[1].compression, Compression::Gzip);
        assert_eq!(p.target, None);
    }

    #[test]
    fn a_gap_fails_and_names_the_first_missing_segment() {
        let a = archive(&[
            ("000000010000000000000003", t(1)),
            ("000000010000000000000005", t(3)),
            ("000000010000000000000007", t(5)),
        ]);
        let e = plan(&[backup(t(1))], &a, TargetTime::At(t(4)), || 0.0).unwrap_err();
        assert!(
            e.contains("segment 000000010000000000000004 is missing"),
            "{e}"
        );
        let e = plan(&[backup(t(1))], &a, TargetTime::Latest, || 0.0).unwrap_err();
        assert!(e.contains("000000010000000000000004"), "{e}");
    }

    #[test]
    fn a_gap_after_the_target_does_not_matter() {
        let a = archive(&[
            ("000000010000000000000003", t(1)),
            ("000000010000000000000004", t(3)),
            ("000000010000000000000006", t(5)),
        ]);
        let p = plan(&[backup(t(1))], &a, TargetTime::At(t(2)), || 0.0).unwrap();
        assert_eq!(p.wal_range.1, "000000010000000000000004");
        assert!(p.notes[0].contains("000000010000000000000005"));
    }

    #[test]
    fn the_newest_backup_ending_before_the_target_is_chosen() {
        let a = archive(&[
            ("000000010000000000000003", t(1)),
            ("000000010000000000000004", t(5)),
            ("000000010000000000000005", t(9)),
        ]);
        let mut b2 = backup(t(5));
        b2.uri = "s3://base/b2/".into();
        b2.start_lsn = Lsn(0x4000028);
        b2.end_lsn = Some(Lsn(0x4000100));
        let backups = [backup(t(1)), b2];
        let p = plan(&backups, &a, TargetTime::At(t(3)), || 0.0).unwrap();
        assert_eq!(p.backup.uri, "s3://base/b1/");
        let p = plan(&backups, &a, TargetTime::At(t(7)), || 0.0).unwrap();
        assert_eq!(p.backup.uri, "s3://base/b2/");
        assert_eq!(p.wal_range.0, "000000010000000000000004");
    }

    #[test]
    fn targets_outside_the_archive_name_both_times() {
        let a = archive(&[("000000010000000000000003", t(2))]);
        let e = plan(&[backup(t(1))], &a, TargetTime::At(t(0)), || 0.0).unwrap_err();
        assert!(e.contains("before the oldest base backup ended"), "{e}");
        assert!(
            e.contains("2026-12-03T08:00:00Z") && e.contains("2026-12-03T08:01:00Z"),
            "{e}"
        );
        let e = plan(&[backup(t(1))], &a, TargetTime::At(t(9)), || 0.0).unwrap_err();
        assert!(e.contains("after the newest archived WAL segment"), "{e}");
        assert!(
            e.contains("2026-12-03T08:09:00Z") && e.contains("08:02:00Z"),
            "{e}"
        );
    }

    #[test]
    fn random_targets_fall_between_the_backup_and_the_archive_end() {
        let a = archive(&[
            ("000000010000000000000003", t(1)),
            ("000000010000000000000004", t(11)),
        ]);
        let p = plan(&[backup(t(1))], &a, TargetTime::Random, || 0.5).unwrap();
        assert!(p.random);
        assert_eq!(p.target, Some(t(6) + time::Duration::milliseconds(500)));
    }

    #[test]
    fn a_promoted_timeline_is_followed_and_partial_segments_are_not_needed() {
        // Timeline 2 branched at 0/5000100: segment 5 comes from timeline 2.
        let a = archive(&[
            ("000000010000000000000003", t(1)),
            ("000000010000000000000004", t(2)),
            ("00000002.history", t(3)),
            ("000000020000000000000005", t(4)),
            ("000000020000000000000006", t(5)),
        ]);
        let p = plan(&[backup(t(1))], &a, TargetTime::Latest, || 0.0).unwrap();
        assert_eq!(
            names(&p),
            [
                "00000002.history",
                "000000010000000000000003",
                "000000010000000000000004",
                "000000020000000000000005",
                "000000020000000000000006"
            ]
        );
        assert_eq!(p.timelines, [1, 2]);
    }
}

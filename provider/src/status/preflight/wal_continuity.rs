//! A WAL archive is continuous from its newest base backup's start segment to its newest
//! segment: a point-in-time restore replays segments one after another and stops at the
//! first one missing, so everything archived after a hole cannot be recovered.
//!
//! Listing only, no download. The newest base backup is found in the archive itself: the
//! backup history file (`<segment>.<offset>.backup`) PostgreSQL archives at the end of every
//! base backup names its start segment. Names are read with the drill's WAL naming code
//! (`drkit_drill::wal`), for the default 16 MB `wal_segment_size`. Segments of every
//! timeline count toward continuity (a promotion continues the numbering on a new one).

use std::collections::BTreeMap;

use drkit_drill::wal::{self, ArchivedKind, DEFAULT_SEGMENT_SIZE};
use time::OffsetDateTime;

use super::Check;
use crate::aws::AwsClients;
use crate::diagnostics::AwsError;
use crate::status::{age, human, read_failure, rfc3339, wal_archive};

const CHECK: &str = "wal_continuity";

/// One object of the archive listing: its key's file name and when it was archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    /// The file name (the key's last part).
    pub name: String,
    /// `LastModified`.
    pub at: OffsetDateTime,
}

/// Checks the archive `uri` on its listing.
pub fn check(
    clients: &AwsClients,
    uri: &str,
    listing: Result<&[drkit_drill::selection::Listed], AwsError>,
    now: OffsetDateTime,
) -> Check {
    let subject = format!("wal:{uri}");
    if wal_archive::parse_uri(uri).is_none() {
        return Check::new(CHECK, subject, None, format!("{uri:?} is not an s3:// URI"));
    }
    let listed: Vec<Listed> = match listing {
        Ok(objects) => objects
            .iter()
            .map(|o| Listed {
                name: o.key.rsplit('/').next().unwrap_or(&o.key).to_string(),
                at: o.modified,
            })
            .collect(),
        Err(e) => {
            let why = read_failure("S3", clients.primary_region(), clients.read_budget(), &e);
            return Check::new(CHECK, subject, None, format!("could not be listed: {why}"));
        }
    };
    let (ok, detail) = verdict(&listed, now);
    Check::new(CHECK, subject, Some(ok), detail)
}

/// Pure verdict on a listing: continuous or not, and what a hole costs.
pub fn verdict(listed: &[Listed], now: OffsetDateTime) -> (bool, String) {
    let size = DEFAULT_SEGMENT_SIZE;
    // Segment number -> (name, archived at); any timeline.
    let mut segments: BTreeMap<u64, (String, OffsetDateTime)> = BTreeMap::new();
    let mut newest_backup: Option<(String, OffsetDateTime)> = None;
    for l in listed {
        let Some(file) = wal::classify(&l.name) else {
            continue;
        };
        match file.kind {
            ArchivedKind::Segment { name, .. } => {
                if let Some((_, segno)) = wal::parse_segment_name(&name, size) {
                    segments.entry(segno).or_insert((name, l.at));
                }
            }
            ArchivedKind::BackupHistory { segment }
                if newest_backup.as_ref().is_none_or(|(_, at)| l.at > *at) =>
            {
                newest_backup = Some((segment, l.at));
            }
            _ => {}
        }
    }
    let Some((&last, (last_name, last_at))) = segments.last_key_value() else {
        return (
            false,
            "no WAL segment is archived: there is nothing to replay".into(),
        );
    };
    let (start, start_tli, from) = match newest_backup
        .as_ref()
        .and_then(|(seg, at)| wal::parse_segment_name(seg, size).map(|(t, s)| (t, s, seg, at)))
    {
        Some((tli, segno, seg, at)) => (
            segno,
            tli,
            format!(
                "the newest base backup (started in {seg}, {})",
                rfc3339(*at)
            ),
        ),
        None => {
            let (&first, (name, _)) = segments.first_key_value().expect("not empty");
            let tli = wal::parse_segment_name(name, size).map_or(1, |(t, _)| t);
            (
                first,
                tli,
                format!("the oldest archived segment {name} (no backup history file: is the base backup taken with archiving on?)"),
            )
        }
    };
    let mut expected = start;
    let mut before: Option<&(String, OffsetDateTime)> = None;
    for (&segno, entry) in segments.range(start..) {
        if segno != expected {
            let missing = wal::segment_name(start_tli, expected, size);
            let after = segments.range(expected..).count();
            let lost_from = before.map_or_else(
                || "the base backup".to_string(),
                |(name, at)| format!("{} ({name})", rfc3339(*at)),
            );
            return (
                false,
                format!(
                    "hole from {missing}: replay from {from} stops there; WAL archived after {lost_from} up to {} ({last_name}) cannot be recovered: {after} segment(s), {} of changes",
                    rfc3339(*last_at),
                    human(age(*last_at, before.map_or(*last_at, |b| b.1))),
                ),
            );
        }
        before = Some(entry);
        expected = segno + 1;
    }
    if last < start {
        return (
            false,
            format!(
                "no segment archived since {from}: {} is missing",
                wal::segment_name(start_tli, start, size)
            ),
        );
    }
    (
        true,
        format!(
            "{} segment(s) continuous from {from} to {last_name} ({} old)",
            last - start + 1,
            human(age(now, *last_at))
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000) + time::Duration::minutes(min)
    }

    fn l(name: &str, min: i64) -> Listed {
        Listed {
            name: name.into(),
            at: at(min),
        }
    }

    #[test]
    fn continuous_from_the_newest_backup_passes() {
        let files = [
            l("000000010000000000000001", 0),
            // An older hole before the newest base backup does not matter.
            l("000000010000000000000003", 10),
            l("000000010000000000000003.00000028.backup", 11),
            l("000000010000000000000004.gz", 20),
            l("000000010000000000000005", 30),
        ];
        let (ok, detail) = verdict(&files, at(35));
        assert!(ok, "{detail}");
        assert!(detail.starts_with("3 segment(s) continuous from the newest base backup (started in 000000010000000000000003"), "{detail}");
        assert!(
            detail.ends_with("to 000000010000000000000005 (5m old)"),
            "{detail}"
        );
    }

    #[test]
    fn a_missing_middle_segment_names_the_file_and_what_is_lost() {
        let files = [
            l("000000010000000000000003", 10),
            l("000000010000000000000003.00000028.backup", 11),
            l("000000010000000000000004", 20),
            l("000000010000000000000006", 40),
            l("000000010000000000000007", 50),
        ];
        let (ok, detail) = verdict(&files, at(60));
        assert!(!ok);
        assert!(
            detail.starts_with(
                "hole from 000000010000000000000005: replay from the newest base backup"
            ),
            "{detail}"
        );
        assert!(
            detail.contains("cannot be recovered: 2 segment(s), 30m of changes"),
            "{detail}"
        );
    }

    #[test]
    fn segments_cross_a_log_boundary_and_an_empty_archive_fails() {
        let files = [
            l("0000000100000000000000FE", 0),
            l("0000000100000000000000FF", 1),
            l("000000010000000100000000", 2),
        ];
        assert!(verdict(&files, at(3)).0);
        assert!(!verdict(&[], at(0)).0);
    }
}

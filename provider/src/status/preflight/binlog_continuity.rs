//! A binlog archive is continuous from its newest base dump's binlog file to its newest
//! archived file: replay reads the files one after another and stops at the first one
//! missing, so everything written after a hole cannot be recovered.
//!
//! Listing only, except the newest dump's first megabyte (a ranged GET) for its
//! `CHANGE MASTER TO`/`CHANGE REPLICATION SOURCE TO` coordinates; an encrypted or
//! coordinate-less dump, or no `base_dump_uri`, checks from the oldest archived file.
//! Names and sequence are the drill's own code (`drkit_drill::binlog`).

use drkit_drill::binlog::{self, BinlogArchive, Coordinates, SequenceError};
use time::OffsetDateTime;

use super::Check;
use crate::aws::AwsClients;
use crate::diagnostics::AwsError;
use crate::status::binlog_archive::{self, Input};
use crate::status::{age, human, read_failure, rfc3339, wal_archive};
use drkit_drill::selection::Listed;

const CHECK: &str = "binlog_continuity";
/// Bytes of the dump read for its coordinates.
const HEAD: u64 = 1 << 20;

/// Checks the archive of `input` on its listing (the dumps are listed here).
pub async fn check(
    clients: &AwsClients,
    input: &Input,
    listing: Result<&[Listed], AwsError>,
    now: OffsetDateTime,
) -> Check {
    let subject = format!("binlog:{}", input.binlog_uri);
    let region = clients.primary_region();
    let client = clients.s3(region).await;
    let unknown = |e: AwsError| {
        let why = read_failure("S3", region, clients.read_budget(), &e);
        Check::new(
            CHECK,
            subject.clone(),
            None,
            format!("could not be read: {why}"),
        )
    };
    let Some((_, prefix)) = wal_archive::parse_uri(&input.binlog_uri) else {
        return Check::new(CHECK, subject.clone(), None, "not an s3:// URI");
    };
    let mut archive = BinlogArchive {
        uri: input.binlog_uri.clone(),
        ..BinlogArchive::default()
    };
    match listing {
        Ok(listed) => {
            for (key, at) in binlog_archive::files(listed, prefix) {
                let name = key.rsplit('/').next().unwrap_or(&key).to_string();
                // Sizes are not listed here: the position check is the drill's.
                archive.add(&key, &name, u64::MAX, at);
            }
        }
        Err(e) => return unknown(e),
    }
    let mut start: Option<(Coordinates, String)> = None;
    if let Some((dbucket, dprefix)) = input
        .base_dump_uri
        .as_deref()
        .and_then(wal_archive::parse_uri)
    {
        let dumps = match wal_archive::list(&client, dbucket, dprefix).await {
            Ok(d) => d,
            Err(e) => return unknown(e),
        };
        // The dump a drill would restore, chosen as the drill chooses it.
        if let Some((key, at)) =
            drkit_drill::selection::dump(dprefix, &dumps).map(|d| (d.key.clone(), d.modified))
        {
            let head = client
                .get_object()
                .bucket(dbucket)
                .key(&key)
                .range(format!("bytes=0-{}", HEAD - 1))
                .send()
                .await;
            let bytes = match head {
                Ok(o) => o.body.collect().await.ok().map(|b| b.into_bytes()),
                Err(_) => None,
            };
            if let Some(c) = bytes.as_deref().and_then(binlog::coordinates_in_head) {
                start = Some((
                    c,
                    format!("the newest dump s3://{dbucket}/{key} ({})", rfc3339(at)),
                ));
            }
        }
    }
    let (ok, detail) = verdict(&archive, start.as_ref().map(|(c, d)| (c, d.as_str())), now);
    Check::new(CHECK, subject, Some(ok), detail)
}

/// Pure verdict: continuous from `start` (the dump's coordinates and how it is named), or
/// from the oldest archived file without one; a hole names its first missing file and the
/// time it costs.
pub fn verdict(
    archive: &BinlogArchive,
    start: Option<(&Coordinates, &str)>,
    now: OffsetDateTime,
) -> (bool, String) {
    let Some(newest) = archive.newest() else {
        return (
            false,
            "no binlog file is archived: there is nothing to replay".into(),
        );
    };
    let (coordinates, from) = match start {
        Some((c, from)) => (c.clone(), format!("{from}, {}", c.file)),
        None => {
            let (_, oldest) = archive.files.first_key_value().expect("not empty");
            (
                Coordinates {
                    file: oldest.name.file(),
                    position: 4,
                    gtid: None,
                },
                format!(
                    "the oldest archived file {} (no readable base dump coordinates)",
                    oldest.name.file()
                ),
            )
        }
    };
    match binlog::replay_files(archive, &coordinates) {
        Ok(files) => (
            true,
            format!(
                "{} binlog file(s) continuous from {from} to {} ({} old)",
                files.len(),
                newest.name.file(),
                human(age(now, newest.uploaded))
            ),
        ),
        Err(SequenceError::Gap {
            first_missing,
            count,
            between,
        }) => {
            let before = archive
                .files
                .values()
                .find(|f| f.name.file() == between.0)
                .map_or(newest.uploaded, |f| f.uploaded);
            (
                false,
                format!(
                    "hole from {first_missing} ({count} file(s) missing before {}): replay from {from} stops there; changes archived after {} ({}) up to {} ({}) cannot be recovered: {} of changes",
                    between.1,
                    rfc3339(before),
                    between.0,
                    rfc3339(newest.uploaded),
                    newest.name.file(),
                    human(age(newest.uploaded, before)),
                ),
            )
        }
        Err(e) => (false, format!("replay from {from} cannot start: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn archive(names: &[&str]) -> BinlogArchive {
        let mut a = BinlogArchive::default();
        for (i, n) in names.iter().enumerate() {
            a.add(
                &format!("binlog/{n}"),
                n,
                u64::MAX,
                datetime!(2026-12-06 10:00 UTC) + time::Duration::hours(i as i64),
            );
        }
        a
    }

    #[test]
    fn a_hole_names_the_missing_file_and_what_it_costs() {
        let now = datetime!(2026-12-06 14:00 UTC);
        let a = archive(&["mysql-bin.000001", "mysql-bin.000002", "mysql-bin.000004"]);
        let c = Coordinates {
            file: "mysql-bin.000001".into(),
            position: 328,
            gtid: None,
        };
        let (ok, detail) = verdict(&a, Some((&c, "the newest dump s3://b/full.sql")), now);
        assert!(!ok);
        assert!(
            detail.starts_with(
                "hole from mysql-bin.000003 (1 file(s) missing before mysql-bin.000004)"
            ),
            "{detail}"
        );
        assert!(detail.contains("1h 0m of changes"), "{detail}");
        // From a later dump the hole does not matter.
        let later = Coordinates {
            file: "mysql-bin.000004".into(),
            ..c.clone()
        };
        assert!(verdict(&a, Some((&later, "d")), now).0);
        // Without a dump: from the oldest file.
        let (ok, detail) = verdict(
            &archive(&["mysql-bin.000001", "mysql-bin.000002"]),
            None,
            now,
        );
        assert!(ok, "{detail}");
        assert!(detail.contains("2 binlog file(s) continuous"), "{detail}");
        assert!(!verdict(&BinlogArchive::default(), None, now).0);
    }

    #[test]
    fn an_archive_behind_the_dump_fails() {
        let a = archive(&["mysql-bin.000001"]);
        let c = Coordinates {
            file: "mysql-bin.000003".into(),
            position: 4,
            gtid: None,
        };
        let (ok, detail) = verdict(&a, Some((&c, "d")), datetime!(2026-12-06 14:00 UTC));
        assert!(!ok);
        assert!(detail.contains("archive ends before it"), "{detail}");
    }
}

//! A MySQL/MariaDB binlog archive in S3 (the files `mysqlbinlog --read-from-remote-server
//! --raw --stop-never` or a copy job uploads, a `mysql_binlog` drill's `binlog_uri`): the
//! data a disaster would lose right now is the age of the newest archived binlog file.
//!
//! Hook for `dr_drill`'s `mysql_binlog` source: pass its `binlog_uri` (and
//! `base_dump_uri`) in `dr_status`'s `binlog_archive` blocks.

use drkit_drill::selection::Listed;
use time::OffsetDateTime;

use super::{wal_archive, Figure, Mechanism};
use crate::diagnostics::AwsError;

/// One `binlog_archive { }` of `dr_status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Input {
    /// `s3://bucket/prefix/` of the binlog files.
    pub binlog_uri: String,
    /// `s3://bucket/prefix/` of the `--source-data=2` dumps, when given: continuity is
    /// checked from the newest dump's coordinates.
    pub base_dump_uri: Option<String>,
}

/// The binlog files of a listing of `prefix`: those directly under it, with their upload
/// times.
pub fn files(listed: &[Listed], prefix: &str) -> Vec<(String, OffsetDateTime)> {
    listed
        .iter()
        .filter(|l| {
            l.key
                .strip_prefix(prefix)
                .filter(|n| !n.contains('/'))
                .and_then(drkit_drill::binlog::classify)
                .is_some()
        })
        .map(|l| (l.key.clone(), l.modified))
        .collect()
}

/// The newest binlog file of a listing of `prefix`; `None` when none is archived.
pub fn newest(listed: &[Listed], prefix: &str) -> Option<(String, OffsetDateTime)> {
    files(listed, prefix).into_iter().max_by_key(|(_, at)| *at)
}

/// The figure of an archive from its newest binlog file.
pub fn figure(
    uri: &str,
    newest: Result<Option<(String, OffsetDateTime)>, AwsError>,
    now: OffsetDateTime,
) -> Figure {
    wal_archive::archive_figure(
        wal_archive::ArchiveKind {
            address: format!("binlog:{uri}"),
            mechanism: Mechanism::MysqlBinlogArchive,
            source: "ListObjectsV2 LastModified of the newest binlog file",
            empty:
                "no binlog file (mysql-bin.000042) under the prefix: is the binlog copy running?",
        },
        uri,
        newest,
        now,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_figure_is_the_newest_binlogs_age() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(2);
        let f = figure(
            "s3://b/binlog/",
            Ok(Some((
                "binlog/mysql-bin.000042".into(),
                now - time::Duration::minutes(3),
            ))),
            now,
        );
        assert_eq!(f.seconds, Some(180.0));
        assert_eq!(f.mechanism, Mechanism::MysqlBinlogArchive);
        assert!(f.source.ends_with("(binlog/mysql-bin.000042)"));
        let empty = figure("s3://b/binlog/", Ok(None), now);
        assert!(empty.unknown.unwrap().contains("no binlog file"));
    }
}

//! A PostgreSQL WAL archive in S3 (`archive_command = 'aws s3 cp %p s3://.../%f'`, the
//! `postgres_pitr` drill's `wal_archive_uri`): the data a disaster would lose right now is
//! the age of the newest archived segment.
//!
//! Hook for `dr_drill`'s `postgres_pitr` source: pass its `wal_archive_uri` to
//! `dr_status`'s `wal_archive_uris` (a data source cannot read another resource's state).

use aws_sdk_s3::Client;
use drkit_drill::selection::Listed;
use time::OffsetDateTime;

use super::{age, to_offset, Figure, Mechanism, Scope};
use crate::diagnostics::{aws, AwsError};

/// `s3://bucket/prefix` split into bucket and prefix; `None` for anything else.
pub fn parse_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    (!bucket.is_empty()).then_some((bucket, prefix))
}

/// True for a WAL segment's object name: 24 hex digits, optionally compressed
/// (`000000010000000A000000FF`, `...FF.gz`, `.lz4`, `.zst`, `.br`); not `.history`,
/// `.backup` or `.partial` files, which hold no committed data of their own.
pub fn is_segment(key: &str) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    let (stem, ext) = match name.split_once('.') {
        Some((stem, ext)) => (stem, Some(ext)),
        None => (name, None),
    };
    stem.len() == 24
        && stem.bytes().all(|b| b.is_ascii_hexdigit())
        && matches!(ext, None | Some("gz" | "lz4" | "zst" | "br" | "bz2" | "xz"))
}

/// Every object under `prefix` of `bucket` (pages followed): its key, size and upload time.
pub async fn list(client: &Client, bucket: &str, prefix: &str) -> Result<Vec<Listed>, AwsError> {
    let mut out = Vec::new();
    let mut pages = client
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(aws("ListObjectsV2"))?;
        out.extend(page.contents().iter().filter_map(|o| {
            Some(Listed {
                key: o.key()?.to_string(),
                size: o.size().unwrap_or(0).max(0) as u64,
                modified: o.last_modified().and_then(to_offset)?,
            })
        }));
    }
    Ok(out)
}

/// The newest segment of a listing and its upload time; `None` when no segment is there.
pub fn newest_segment(listed: &[Listed]) -> Option<(String, OffsetDateTime)> {
    listed
        .iter()
        .filter(|o| is_segment(&o.key))
        .max_by_key(|o| o.modified)
        .map(|o| (o.key.clone(), o.modified))
}

/// The figure of an archive from its newest segment.
pub fn figure(
    uri: &str,
    newest: Result<Option<(String, OffsetDateTime)>, AwsError>,
    now: OffsetDateTime,
) -> Figure {
    archive_figure(
        ArchiveKind {
            address: format!("wal:{uri}"),
            mechanism: Mechanism::PostgresWalArchive,
            source: "ListObjectsV2 LastModified of the newest WAL segment",
            empty: "no WAL segment under the prefix: is archive_command running?",
        },
        uri,
        newest,
        now,
    )
}

/// What tells one kind of log archive (WAL, binlog) from another in its figure.
pub struct ArchiveKind {
    /// `wal:URI`, `binlog:URI`.
    pub address: String,
    /// The mechanism reported.
    pub mechanism: Mechanism,
    /// The API field the figure comes from.
    pub source: &'static str,
    /// Why the figure is unknown when nothing is archived.
    pub empty: &'static str,
}

/// A log archive's region-loss figure: the age of its newest file, data a disaster would
/// lose right now.
pub fn archive_figure(
    kind: ArchiveKind,
    uri: &str,
    newest: Result<Option<(String, OffsetDateTime)>, AwsError>,
    now: OffsetDateTime,
) -> Figure {
    let unknown = |why: String| {
        Figure::unknown(
            &kind.address,
            uri,
            kind.mechanism,
            Scope::RegionLoss,
            kind.source,
            why,
        )
    };
    match newest {
        Ok(Some((key, at))) => Figure::measured(
            &kind.address,
            uri,
            kind.mechanism,
            Scope::RegionLoss,
            age(now, at),
            at,
            format!("{} ({key})", kind.source),
        ),
        Ok(None) => unknown(kind.empty.into()),
        Err(e) => unknown(format!("could not be listed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_split_into_bucket_and_prefix() {
        assert_eq!(parse_uri("s3://wal/orders/"), Some(("wal", "orders/")));
        assert_eq!(parse_uri("s3://wal"), Some(("wal", "")));
        assert_eq!(parse_uri("https://wal/x"), None);
        assert_eq!(parse_uri("s3:///x"), None);
    }

    #[test]
    fn segments_are_24_hex_digits_maybe_compressed() {
        assert!(is_segment("wal/000000010000000A000000FF"));
        assert!(is_segment("000000010000000A000000FF.gz"));
        assert!(!is_segment("wal/00000002.history"));
        assert!(!is_segment("wal/000000010000000A000000FF.00000028.backup"));
        assert!(!is_segment("wal/000000010000000A000000FF.partial"));
        assert!(!is_segment("wal/base/base.tar.gz"));
    }

    #[test]
    fn the_figure_is_the_newest_segments_age() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(2);
        let f = figure(
            "s3://wal/orders/",
            Ok(Some((
                "orders/0000000100000000000000A1".into(),
                now - time::Duration::days(1),
            ))),
            now,
        );
        assert_eq!(f.seconds, Some(86_400.0));
        assert!(f.source.ends_with("(orders/0000000100000000000000A1)"));
        let empty = figure("s3://wal/orders/", Ok(None), now);
        assert!(empty.unknown.unwrap().contains("no WAL segment"));
    }
}

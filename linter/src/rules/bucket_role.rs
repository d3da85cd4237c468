//! What a bucket is for, from its name, tags and lifecycle: a backup store (DR007, DR009
//! and DR010 ask more of it), or short-lived working data (logs, reports, query results
//! that expire within days), which is neither a backup store nor data DR008 asks to
//! version.
//!
//! Names are read as words, as people write them: split on `-`, `_`, `.`, `/`, spaces,
//! between letters and digits, and at camelCase humps (`rdsSnapshots` is `rds` +
//! `snapshots`, `RDSSnapshots` too). A word counts whole: `acme-firewall-logs` and
//! `wallet-assets` hold no `wal`.

use crate::context::{Context, Node, Resource};
use crate::eval::Value;

/// Words that say a bucket holds backups (whole words, any case), with the plurals and
/// the names of the tools that write them: `wal-g` is `wal` + `g`, `wal-e` likewise.
const BACKUP_WORDS: &[&str] = &[
    "backup",
    "backups",
    "bak",
    "bkp",
    "bkup",
    "dump",
    "dumps",
    "snapshot",
    "snapshots",
    "wal",
    "wals",
    "walg",
    "archive",
    "archives",
    "archived",
    "archival",
    // What point-in-time recovery replays: PostgreSQL's WAL (`pg_xlog` before 10),
    // MySQL's binary logs.
    "pitr",
    "xlog",
    "binlog",
    "binlogs",
    "pgbackrest",
    "barman",
    "xtrabackup",
    "pgdump",
    "pgdumps",
    "mysqldump",
    "mysqldumps",
];

/// Backup words that also count at the end of a word written without a separator
/// (`dbbackups`, `nightlydumps`, `rdssnapshots`): long enough not to end other words by
/// chance. `wal` is not among them (`firewal`l, `kwal`...).
const BACKUP_SUFFIXES: &[&str] = &[
    "backup",
    "backups",
    "dump",
    "dumps",
    "snapshot",
    "snapshots",
    "archive",
    "archives",
];

/// Words that say a bucket holds working data that is produced again, not kept: logs,
/// reports (`cur` is the AWS Cost and Usage Report), query results and scratch space.
const WORKING_DATA_WORDS: &[&str] = &[
    "log",
    "logs",
    "logging",
    "accesslogs",
    "report",
    "reports",
    "reporting",
    "cur",
    "athena",
    "query",
    "queries",
    "result",
    "results",
    "output",
    "outputs",
    "tmp",
    "temp",
    "scratch",
    "cache",
];

/// A bucket whose current objects all expire within this many days holds working data
/// when its name says so. A month: Athena results, report exports and log staging are
/// kept from a day to a few weeks, and a store anyone restores from keeps more than a
/// month of recovery points (monthly backups, the usual minimum for an audit).
pub const SHORT_LIVED_DAYS: f64 = 30.0;

/// The words of a name, as written (see the module documentation); compare them with
/// [`is`] (case-insensitive). Slices of `text`: one allocation, for the list.
pub fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut prev: Option<char> = None;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if !c.is_alphanumeric() {
            if let Some(s) = start.take() {
                out.push(&text[s..i]);
            }
            prev = None;
            continue;
        }
        let next = chars.peek().map(|&(_, n)| n);
        let boundary = prev.is_some_and(|p| {
            (p.is_ascii_digit() != c.is_ascii_digit())
                // camelCase: `dbBackups`.
                || (p.is_lowercase() && c.is_uppercase())
                // an acronym before a word: `RDSSnapshots`.
                || (p.is_uppercase() && c.is_uppercase() && next.is_some_and(char::is_lowercase))
        });
        if boundary {
            if let Some(s) = start.replace(i) {
                out.push(&text[s..i]);
            }
        }
        start.get_or_insert(i);
        prev = Some(c);
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// Whether `word` is one of `list`, case-insensitively.
fn is(word: &str, list: &[&str]) -> bool {
    list.iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// `word` without `suffix` at its end (case-insensitively), if it ends so.
fn strip_suffix<'a>(word: &'a str, suffix: &str) -> Option<&'a str> {
    let at = word.len().checked_sub(suffix.len())?;
    (word.is_char_boundary(at) && word[at..].eq_ignore_ascii_case(suffix)).then(|| &word[..at])
}

/// What a process leaves when it crashes, not a copy of data: `core-dumps`, `heapdumps`.
const DIAGNOSTIC_DUMPS: &[&str] = &["core", "crash", "heap", "thread", "memory", "mem"];

/// Whether a name or tag value says backup, dump, snapshot, WAL or archive (whole words).
pub fn looks_like_backup(text: &str) -> bool {
    let words = words(text);
    words.iter().enumerate().any(|(i, &w)| {
        let diagnostic = |stem: &str| {
            is(stem, DIAGNOSTIC_DUMPS)
                || (stem.is_empty() && i > 0 && is(words[i - 1], DIAGNOSTIC_DUMPS))
        };
        let stem = strip_suffix(w, "dumps").or_else(|| strip_suffix(w, "dump"));
        if stem.is_some_and(diagnostic) {
            return false;
        }
        is(w, BACKUP_WORDS)
            || BACKUP_SUFFIXES
                .iter()
                .any(|s| strip_suffix(w, s).is_some_and(|stem| !stem.is_empty()))
    })
}

/// Whether a name says logs, reports, query results or scratch space (whole words).
pub fn names_working_data(text: &str) -> bool {
    words(text).iter().any(|w| is(w, WORKING_DATA_WORDS))
}

/// The names that say what a bucket is for: its name as written (`bucket`, else
/// `bucket_prefix`), and its resource name when the bucket's name is not known before
/// apply (`bucket = var.name`, or only a prefix).
fn names_of(bucket: &Resource) -> impl Iterator<Item = &str> {
    let written = bucket.str("bucket").or(bucket.str("bucket_prefix"));
    let resource = bucket
        .value("bucket")
        .is_none_or(|v| !v.is_known())
        .then_some(bucket.name.as_str());
    written.into_iter().chain(resource)
}

/// Tag values that name the bucket's contents. A key that is itself about backups
/// (`Backup = "true"`, `backup_plan = "daily-snapshots"`, what AWS Backup selections
/// match) says the bucket is backed up, not that it holds backups: its value is skipped.
fn content_tags(bucket: &Resource) -> impl Iterator<Item = &str> {
    bucket
        .value("tags")
        .and_then(Value::as_map)
        .into_iter()
        .flat_map(|tags| tags.iter())
        .filter(|(k, _)| !looks_like_backup(k))
        .filter_map(|(_, v)| v.as_str())
}

/// Whether the bucket's name or tags say it holds backups.
pub fn named_backup(bucket: &Resource) -> bool {
    names_of(bucket).any(looks_like_backup) || content_tags(bucket).any(looks_like_backup)
}

/// Whether the bucket holds short-lived working data: its name (or a tag value) says logs,
/// reports, query results or scratch, and a lifecycle rule for the whole bucket expires
/// current objects within [`SHORT_LIVED_DAYS`].
pub fn is_short_lived(ctx: &Context, bucket: &Resource) -> bool {
    names_working_data_of(bucket)
        && expiry_days(ctx, bucket)
            .iter()
            .any(|d| d.as_f64().is_some_and(|d| d > 0.0 && d <= SHORT_LIVED_DAYS))
}

/// Whether the bucket is named for working data and a whole-bucket expiry's days are not
/// known before apply (`days = var.retention`): it may be short-lived working data.
pub fn may_be_short_lived(ctx: &Context, bucket: &Resource) -> bool {
    names_working_data_of(bucket) && expiry_days(ctx, bucket).iter().any(|d| !d.is_known())
}

fn names_working_data_of(bucket: &Resource) -> bool {
    names_of(bucket).any(names_working_data) || content_tags(bucket).any(names_working_data)
}

/// The `days` of every enabled lifecycle rule over the whole bucket (no filter, an empty
/// one, or an empty prefix) that expires current objects: the split
/// `aws_s3_bucket_lifecycle_configuration` or a legacy inline `lifecycle_rule`.
fn expiry_days<'a>(ctx: &'a Context, bucket: &'a Resource) -> Vec<&'a Value> {
    let days = |rule: &'a Node| {
        rule.blocks("expiration")
            .filter(|e| !e.dynamic)
            .filter_map(|e| e.value("days"))
    };
    let inline = bucket
        .body
        .blocks("lifecycle_rule")
        .filter(|r| !r.dynamic && r.bool("enabled") == Some(Some(true)) && whole_bucket(r))
        .flat_map(days);
    let split = super::facts::bucket_configs(ctx, "aws_s3_bucket_lifecycle_configuration", bucket)
        .flat_map(|c| c.body.blocks("rule"))
        .filter(|r| {
            !r.dynamic
                && r.value("status")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.eq_ignore_ascii_case("enabled"))
                && whole_bucket(r)
        })
        .flat_map(days);
    inline.chain(split).collect()
}

/// A lifecycle rule without a filter that narrows it: no `filter`, an empty one, and no
/// prefix (or an empty one), no tag, no size bound.
fn whole_bucket(rule: &Node) -> bool {
    let empty_prefix = |n: &Node| {
        n.value("prefix")
            .is_none_or(|p| matches!(p, Value::Null) || p.as_str() == Some(""))
    };
    empty_prefix(rule)
        && rule.blocks("filter").all(|f| {
            !f.dynamic
                && empty_prefix(f)
                && f.blocks.is_empty()
                && f.value("object_size_greater_than").is_none()
                && f.value("object_size_less_than").is_none()
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_split_into_words_at_separators_digits_and_humps() {
        for (text, want) in [
            (
                "orders-db_backups.nightly",
                &["orders", "db", "backups", "nightly"][..],
            ),
            ("rdsSnapshots", &["rds", "Snapshots"]),
            ("RDSSnapshots2024", &["RDS", "Snapshots", "2024"]),
            ("Ünïcode-Bäckups", &["Ünïcode", "Bäckups"]),
            ("s3-wal-g", &["s", "3", "wal", "g"]),
            ("", &[]),
        ] {
            assert_eq!(words(text), want, "{text}");
        }
    }

    #[test]
    fn backup_words_count_whole_not_inside_other_words() {
        for (text, want) in [
            ("orders-BACKUPS", true),
            ("db-backups", true),
            ("pg_wal", true),
            ("nightly.dumps", true),
            ("rdsSnapshots", true),
            ("db-Snapshot-copies", true),
            ("wal-archive", true),
            ("wal-g-orders", true),
            ("orders-pgbackrest", true),
            ("pgdump", true),
            ("mysqlbackups", true),
            ("ARCHIVE", true),
            ("acme-firewall-logs", false),
            ("wallet-assets", false),
            ("walrus", false),
            ("snap", false),
            ("archiv", false),
            ("bac", false),
            ("dumpling-images", false),
            ("acme-core-dumps", false),
            ("heapdumps", false),
            ("crash_dump_uploads", false),
            ("orders-db-dump", true),
            ("orders-pitr", true),
            ("mysql-binlogs", true),
            ("pg_xlog_archive", true),
            ("", false),
            ("assets", false),
        ] {
            assert_eq!(looks_like_backup(text), want, "{text}");
        }
    }

    #[test]
    fn working_data_is_logs_reports_and_query_results() {
        for (text, want) in [
            ("acme-access-logs", true),
            ("acme-cur", true),
            ("acme-cost-report", true),
            ("aws-athena-query-results-123456789012-eu-west-1", true),
            ("orders-backups", false),
            ("curated-data", false),
            ("catalog", false),
        ] {
            assert_eq!(names_working_data(text), want, "{text}");
        }
    }
}

//! Preflight of the restore path: reads only, no restore. What would make a restore fail
//! today, found on every plan: a DR-region KMS key disabled or pending deletion, a hole in
//! a WAL archive since its newest base backup or in a binlog archive since its newest dump,
//! a replication destination that is gone, unversioned or whose rule is off; a newest dump,
//! base backup or automated snapshot older than the policy's RPO.
//!
//! Each check is pass, fail or unknown (`ok = null`, with the reason: permission,
//! throttling, an API the endpoint lacks, no answer within `read_budget`). `restorable` is
//! false when any check fails, unknown when none fails but one could not be read, and true
//! only when every check passed: never guessed.

pub mod binlog_continuity;
pub mod freshness;
pub mod kms;
pub mod restore_target;
pub mod s3_destination;
pub mod wal_continuity;

use futures::future::join_all;
use time::OffsetDateTime;

use super::archive_listing::ArchiveListings;
use super::discover::Inventory;
use crate::aws::AwsClients;

/// One preflight check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    /// What is checked: `kms_key`, `s3_destination`, `wal_continuity`, `binlog_continuity`,
    /// `dump_freshness`, `base_backup_freshness`, `snapshot_freshness`.
    pub check: &'static str,
    /// What it is checked on: a key ARN, `s3:SOURCE->DEST`, `wal:s3://...`.
    pub subject: String,
    /// Passed, failed, or `None` when it could not be read.
    pub ok: Option<bool>,
    /// What was found, or why it could not be read.
    pub detail: String,
}

impl Check {
    /// A check with its verdict.
    pub fn new(
        check: &'static str,
        subject: impl Into<String>,
        ok: Option<bool>,
        detail: impl Into<String>,
    ) -> Check {
        Check {
            check,
            subject: subject.into(),
            ok,
            detail: detail.into(),
        }
    }
}

/// False when any check failed, `None` when none failed but one is unknown or there is
/// nothing to check, true when every check passed.
pub fn restorable(checks: &[Check]) -> Option<bool> {
    if checks.iter().any(|c| c.ok == Some(false)) {
        Some(false)
    } else if checks.is_empty() || checks.iter().any(|c| c.ok.is_none()) {
        None
    } else {
        Some(true)
    }
}

/// The part of `summary` about the restore path; `None` when every check passed.
pub fn summary(checks: &[Check]) -> Option<String> {
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| c.ok == Some(false))
        .map(|c| format!("{} {}: {}", c.check, c.subject, c.detail))
        .collect();
    let unknown: Vec<String> = checks
        .iter()
        .filter(|c| c.ok.is_none())
        .map(|c| format!("{} {}: {}", c.check, c.subject, c.detail))
        .collect();
    let mut parts = Vec::new();
    if !failed.is_empty() {
        parts.push(format!(
            "restore path NOT ready: {} problem(s): {}",
            failed.len(),
            failed.join("; ")
        ));
    }
    if !unknown.is_empty() {
        parts.push(format!(
            "{} preflight check(s) unknown: {}",
            unknown.len(),
            unknown.join("; ")
        ));
    }
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// Runs every check that the policy's resources, the named WAL archives and the drills'
/// `sources` call for; the reads go out at once, the archives are judged on `listings`
/// (the figures' own). Ordered by check, then subject.
pub async fn run(
    clients: &AwsClients,
    inv: &Inventory,
    inputs: &crate::status::measure::Inputs,
    listings: &ArchiveListings,
    now: OffsetDateTime,
) -> Vec<Check> {
    let (wal_archives, binlog_archives) = (&inputs.wal_archives, &inputs.binlog_archives);
    let engines = inv.engines();
    let (keys, destinations, archives, binlogs, fresh, targets) = tokio::join!(
        kms::checks(clients, inv),
        s3_destination::checks(clients, &inv.buckets),
        async {
            wal_archives
                .iter()
                .map(|uri| wal_continuity::check(clients, uri, listings.get(uri), now))
                .collect::<Vec<_>>()
        },
        join_all(binlog_archives.iter().map(|input| binlog_continuity::check(
            clients,
            input,
            listings.get(&input.binlog_uri),
            now
        ))),
        freshness::checks(clients, inv, &inputs.sources, now),
        restore_target::checks(clients, &inputs.restore_targets, &engines),
    );
    let mut out: Vec<Check> = keys
        .into_iter()
        .chain(destinations)
        .chain(archives)
        .chain(binlogs)
        .chain(fresh)
        .chain(targets)
        .collect();
    out.sort_by(|a, b| (a.check, &a.subject).cmp(&(b.check, &b.subject)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(ok: Option<bool>) -> Check {
        Check::new("kms_key", "k", ok, "d")
    }

    #[test]
    fn one_failure_is_not_restorable_and_an_unknown_is_never_a_pass() {
        assert_eq!(restorable(&[c(Some(true)), c(Some(true))]), Some(true));
        assert_eq!(restorable(&[c(Some(true)), c(None)]), None);
        assert_eq!(restorable(&[c(None), c(Some(false))]), Some(false));
        assert_eq!(restorable(&[]), None, "nothing checked proves nothing");
    }

    #[test]
    fn the_summary_names_each_problem_then_the_unknowns() {
        assert_eq!(summary(&[c(Some(true))]), None);
        assert_eq!(
            summary(&[
                Check::new("kms_key", "arn:k", Some(false), "Disabled"),
                Check::new("s3_destination", "s3:a->b", None, "AccessDenied"),
            ])
            .unwrap(),
            "restore path NOT ready: 1 problem(s): kms_key arn:k: Disabled; 1 preflight check(s) unknown: s3_destination s3:a->b: AccessDenied"
        );
    }
}

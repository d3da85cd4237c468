//! `last_drill_at`, `last_drill_passed` and `drill_current` from the signed evidence records
//! of the policy's drills (`dr_drill`'s `evidence { }`), when it keeps them.
//!
//! Where the records are: `dr_status`'s `evidence_uris` (the drills' `evidence[0].s3_uri`,
//! known before the first drill) plus the locations the drills record in the
//! `drkit:drill-evidence` tag on the policy's resources (so a plain `dr_status` finds them).
//! A location holds the chains of many drills; those of this policy count (each record
//! names its policy). Once a location is known the tags' outcomes are not read: anyone who
//! may tag a resource can write them, while a record is signed and locked.
//!
//! Only records that verify count (signature over their exact bytes, link to the record
//! before them, never overwritten): one that fails is named in `summary` and cannot make
//! a drill current. Evidence that cannot be read or checked (access denied, KMS or S3 not
//! answering within `read_budget`) is unknown, never "not current". The records are read
//! with [`drkit_drill::evidence`]'s `load_chains` and judged by its `audit`; only the runs
//! the answer depends on are verified (those within the interval, and older ones only
//! when none of those verifies), so a long history costs reads, not KMS calls.

use std::collections::HashMap;

use drkit_drill::evidence::{self, AuditOptions, Chain, Location};
use time::OffsetDateTime;

use super::drills::{DrillStatus, Run, Runs};
use crate::aws::AwsClients;

/// What one record proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Signed by its key over its exact bytes and linked to the record before it.
    Verified,
    /// Fails verification: each problem as `kind: detail`.
    Bad(String),
    /// Could not be checked (KMS not answering, access denied).
    Unchecked(String),
}

/// One record of the policy's drills, judged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// `s3://` of the record.
    pub uri: String,
    /// When its drill finished; `None` when the record does not parse.
    pub at: Option<OffsetDateTime>,
    /// Whether its drill passed; `None` when the record does not parse.
    pub passed: Option<bool>,
    /// What it proves.
    pub verdict: Verdict,
}

/// Reads and judges the records below each of `uris` and says what they prove.
pub async fn status(
    clients: &AwsClients,
    policy: &str,
    uris: &[String],
    interval_secs: u64,
    now: OffsetDateTime,
) -> DrillStatus {
    let cutoff = now - std::time::Duration::from_secs(interval_secs);
    let mut judged = Vec::new();
    let mut unreadable = Vec::new();
    for uri in uris {
        match read(clients, policy, uri, cutoff).await {
            // The same record through two of the uris (a location and its drill's
            // record) counts once.
            Ok(found) => {
                for j in found {
                    if !judged.iter().any(|k: &Judged| k.uri == j.uri) {
                        judged.push(j);
                    }
                }
            }
            Err(e) => unreadable.push(format!("drill evidence {uri} could not be read: {e}")),
        }
    }
    judge(&judged, unreadable, uris, interval_secs, now)
}

/// Whether `uri` can name evidence: a location (`s3://bucket/prefix/`), one drill's folder
/// below it, or one record (`.json`, as `dr_drill`'s `evidence_uri`).
pub fn parse_uri(uri: &str) -> Result<(), String> {
    target(uri).map(|_| ())
}

/// The location of `uri`, and the drill folder when it names one record.
fn target(uri: &str) -> Result<(Location, Option<String>), String> {
    if uri.ends_with(".json") {
        let folder = &uri[..uri.rfind('/').map_or(uri.len(), |i| i + 1)];
        let location = Location::parse(folder)?;
        let (parent, drill) = as_chain_folder(&location)
            .ok_or_else(|| format!("{uri:?} is not a record of a drill's folder"))?;
        return Ok((parent, Some(drill)));
    }
    Ok((Location::parse(uri)?, None))
}

/// `s3://b/drills/orders/` read as the folder of drill `orders` below `s3://b/drills/`.
fn as_chain_folder(location: &Location) -> Option<(Location, String)> {
    let folder = location.prefix.strip_suffix('/')?;
    let (parent, drill) = match folder.rsplit_once('/') {
        Some((parent, drill)) => (format!("{parent}/"), drill),
        None => (String::new(), folder),
    };
    Some((
        Location {
            bucket: location.bucket.clone(),
            prefix: parent,
        },
        drill.to_string(),
    ))
}

/// The chains of `policy` below `uri`, judged.
async fn read(
    clients: &AwsClients,
    policy: &str,
    uri: &str,
    cutoff: OffsetDateTime,
) -> Result<Vec<Judged>, String> {
    let (location, drill) = target(uri)?;
    let primary = clients.s3(clients.primary_region()).await;
    let region = evidence::bucket_region(&primary, &location.bucket)
        .await
        .map_err(|m| m.detail)?;
    let s3 = clients.s3(&region).await;
    let chains = match drill {
        Some(d) => evidence::load_chains(&s3, &location, Some(&d), false).await?,
        None => {
            let mine = of_policy(
                evidence::load_chains(&s3, &location, None, false).await?,
                policy,
            );
            // Also a drill's own folder: its records are the ones meant.
            match as_chain_folder(&location).filter(|_| mine.is_empty()) {
                Some((parent, d)) => evidence::load_chains(&s3, &parent, Some(&d), false).await?,
                None => mine,
            }
        }
    };
    // A KMS client for each region the records' keys are in (the closure cannot await).
    let mut kms: HashMap<String, aws_sdk_kms::Client> = HashMap::new();
    kms.insert(String::new(), clients.kms(&region).await);
    for key in chains
        .iter()
        .flat_map(|c| &c.records)
        .filter_map(|r| r.signature.as_ref()?.as_ref().ok())
    {
        if let Some(r) = key.key_id.split(':').nth(3).filter(|r| !r.is_empty()) {
            if !kms.contains_key(r) {
                kms.insert(r.to_string(), clients.kms(r).await);
            }
        }
    }
    let kms_for = |r: &str| kms.get(r).unwrap_or(&kms[""]).clone();
    let options = AuditOptions {
        public_key: None,
        key_id: None,
        kms: &kms_for,
        min_retain_days: None,
    };
    let mut out = Vec::new();
    for chain in &chains {
        out.extend(judge_chain(chain, &options, cutoff).await);
    }
    Ok(out)
}

/// The chains of `policy`: named after it (the default name) or holding its records.
fn of_policy(chains: Vec<Chain>, policy: &str) -> Vec<Chain> {
    let folder = policy.replace('/', "_");
    chains
        .into_iter()
        .filter(|c| {
            c.drill == folder
                || c.records
                    .iter()
                    .any(|r| r.record.as_ref().is_ok_and(|r| r.policy == policy))
        })
        .collect()
}

/// Verifies the records `drill_current` depends on: those finished since `cutoff` (or the
/// newest one), and all of them when none of those verifies.
async fn judge_chain(
    chain: &Chain,
    options: &AuditOptions<'_>,
    cutoff: OffsetDateTime,
) -> Vec<Judged> {
    let n = chain.records.len();
    let recent = chain
        .records
        .iter()
        .position(|r| r.finished().is_some_and(|f| f >= cutoff))
        .unwrap_or(n);
    let start = recent.min(n.saturating_sub(1));
    let judged = audit_from(chain, start, options).await;
    if start == 0 || judged.iter().any(|j| j.verdict == Verdict::Verified) {
        return judged;
    }
    audit_from(chain, 0, options).await
}

/// Audits records `start..` of `chain`, with the one before them for their link.
async fn audit_from(chain: &Chain, start: usize, options: &AuditOptions<'_>) -> Vec<Judged> {
    let from = start.saturating_sub(1);
    let window = Chain {
        drill: chain.drill.clone(),
        records: chain.records[from..].to_vec(),
    };
    let audit = evidence::audit(std::slice::from_ref(&window), options).await;
    audit
        .records
        .iter()
        .zip(&window.records)
        .skip(start - from)
        .map(|(status, stored)| Judged {
            uri: stored.uri.clone(),
            at: stored.finished(),
            passed: stored.record.as_ref().ok().map(|r| r.passed),
            verdict: if !status.problems.is_empty() {
                let problems: Vec<String> = status
                    .problems
                    .iter()
                    .map(|p| format!("{}: {}", p.kind, p.detail))
                    .collect();
                Verdict::Bad(problems.join("; "))
            } else if let Some(why) = audit.unchecked(&status.uri) {
                Verdict::Unchecked(why.to_string())
            } else {
                Verdict::Verified
            },
        })
        .collect()
}

/// What the judged records prove at `now`; `unreadable` says which locations could not be
/// read.
pub fn judge(
    judged: &[Judged],
    unreadable: Vec<String>,
    uris: &[String],
    interval_secs: u64,
    now: OffsetDateTime,
) -> DrillStatus {
    let verified: Vec<Run> = judged
        .iter()
        .filter(|j| j.verdict == Verdict::Verified)
        .filter_map(|j| {
            Some(Run {
                at: j.at?,
                passed: j.passed?,
            })
        })
        .collect();
    let newest_pass = verified.iter().filter(|r| r.passed).map(|r| r.at).max();
    let mut status = DrillStatus::from_runs(
        &Runs {
            last: verified,
            last_passed: Vec::new(),
        },
        interval_secs,
        now,
    );
    if status.last_at.is_none() {
        status.detail = format!(
            "no verified evidence record of the policy in {}",
            uris.join(", ")
        );
    }
    // Records that would decide if they verified: newer than the newest verified pass.
    let decides = |j: &Judged| match (j.at, newest_pass) {
        (Some(at), Some(pass)) => at > pass,
        _ => true,
    };
    let cutoff = now - std::time::Duration::from_secs(interval_secs);
    let mut unknown_current = !unreadable.is_empty();
    let mut unknown_last = !unreadable.is_empty();
    let mut problems = unreadable;
    let mut older_bad = 0;
    for j in judged {
        match &j.verdict {
            Verdict::Verified => {}
            Verdict::Bad(why) if decides(j) => {
                problems.push(format!("evidence record {} does not count: {why}", j.uri))
            }
            Verdict::Bad(_) => older_bad += 1,
            Verdict::Unchecked(why) => {
                let could_pass = j.passed != Some(false) && j.at.is_none_or(|at| at >= cutoff);
                let newer = j.at.is_none_or(|at| status.last_at.is_none_or(|l| at > l));
                unknown_current |= could_pass && decides(j);
                unknown_last |= newer;
                if decides(j) {
                    problems.push(format!("evidence record {} not checked: {why}", j.uri));
                }
            }
        }
    }
    if older_bad > 0 {
        problems.push(format!(
            "{older_bad} older evidence record(s) fail verification (`drkit evidence verify` names them)"
        ));
    }
    if unknown_current && status.current != Some(true) {
        status.current = None;
    }
    if unknown_last {
        status.last_at = None;
        status.last_passed = None;
    }
    status.problems = problems;
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(days: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000 + days)
    }

    fn record(run: &str, days: i64, passed: bool, verdict: Verdict) -> Judged {
        Judged {
            uri: format!("s3://ev/drills/orders/{run}.json"),
            at: Some(at(days)),
            passed: Some(passed),
            verdict,
        }
    }

    const INTERVAL: u64 = 30 * 86_400;

    fn judge_now(judged: &[Judged], unreadable: Vec<String>) -> DrillStatus {
        judge(
            judged,
            unreadable,
            &["s3://ev/drills/".into()],
            INTERVAL,
            at(0),
        )
    }

    #[test]
    fn a_verified_passing_record_within_the_interval_is_current() {
        let s = judge_now(&[record("r1", -3, true, Verdict::Verified)], vec![]);
        assert_eq!(s.current, Some(true));
        assert_eq!(s.last_at, Some(at(-3)));
        assert_eq!(s.last_passed, Some(true));
        assert!(s.problems.is_empty());
        let old = judge_now(&[record("r1", -40, true, Verdict::Verified)], vec![]);
        assert_eq!(old.current, Some(false));
        assert!(old.detail.starts_with("drill overdue"), "{}", old.detail);
        let none = judge_now(&[], vec![]);
        assert_eq!(none.current, Some(false));
        assert_eq!(none.last_at, None);
        assert!(none.detail.contains("s3://ev/drills/"), "{}", none.detail);
    }

    #[test]
    fn a_record_that_fails_verification_does_not_count_and_is_named() {
        let bad = Verdict::Bad("edited: edited after signing".into());
        let s = judge_now(
            &[
                record("r1", -40, true, Verdict::Verified),
                record("r2", -1, true, bad.clone()),
            ],
            vec![],
        );
        assert_eq!(s.current, Some(false));
        assert_eq!(s.last_at, Some(at(-40)));
        assert_eq!(
            s.problems,
            ["evidence record s3://ev/drills/orders/r2.json does not count: edited: edited after signing"]
        );
        // A bad record older than the newest verified pass changes nothing: counted only.
        let s = judge_now(
            &[
                record("r0", -50, true, bad),
                record("r1", -2, true, Verdict::Verified),
            ],
            vec![],
        );
        assert_eq!(s.current, Some(true));
        assert_eq!(s.problems.len(), 1);
        assert!(s.problems[0].starts_with("1 older evidence record(s)"));
    }

    #[test]
    fn evidence_that_cannot_be_read_or_checked_is_unknown_not_overdue() {
        let s = judge_now(
            &[],
            vec!["drill evidence s3://ev/ could not be read: x".into()],
        );
        assert_eq!(s.current, None);
        assert_eq!(s.last_at, None);
        assert_eq!(s.problems.len(), 1);
        let unchecked = Verdict::Unchecked("signature not checked: timeout".into());
        let s = judge_now(
            &[
                record("r1", -40, true, Verdict::Verified),
                record("r2", -1, true, unchecked.clone()),
            ],
            vec![],
        );
        assert_eq!((s.current, s.last_at), (None, None));
        assert!(
            s.problems[0].contains("r2.json not checked"),
            "{:?}",
            s.problems
        );
        // Proven current stays current; an unchecked failed run cannot make it current.
        let s = judge_now(
            &[
                record("r1", -2, true, Verdict::Verified),
                record("r2", -1, false, unchecked),
            ],
            vec![],
        );
        assert_eq!(s.current, Some(true));
        assert_eq!(s.last_at, None, "the newest run is not known");
    }

    #[test]
    fn uris_name_a_location_a_drill_folder_or_a_record() {
        let (l, d) = target("s3://ev/drills/").unwrap();
        assert_eq!((l.prefix.as_str(), d), ("drills/", None));
        let (l, d) = target("s3://ev/drills/orders/r1.json").unwrap();
        assert_eq!(
            (l.prefix.as_str(), d.as_deref()),
            ("drills/", Some("orders"))
        );
        let (l, d) = target("s3://ev/orders/r1.json").unwrap();
        assert_eq!((l.prefix.as_str(), d.as_deref()), ("", Some("orders")));
        assert!(target("s3://ev/r1.json").is_err());
        assert!(target("s3://ev/drills")
            .unwrap_err()
            .contains("end the prefix"));
        assert!(target("/var/evidence").is_err());
        let folder = Location::parse("s3://ev/drills/orders/").unwrap();
        let (parent, drill) = as_chain_folder(&folder).unwrap();
        assert_eq!(
            (parent.prefix.as_str(), drill.as_str()),
            ("drills/", "orders")
        );
        assert!(as_chain_folder(&Location::parse("s3://ev").unwrap()).is_none());
    }
}

//! The auditor's check of stored evidence: every record signed by the trusted key over
//! its exact bytes, each linked to the one before it, locked at least as long as it
//! declares, and never overwritten.

use std::collections::BTreeSet;

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::signing::PublicKey;
use super::store::{LockState, StoredRecord};
use super::{sha256_hex, signed_message, Chain};

/// What went wrong with one record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// `unreadable`, `unsigned`, `edited`, `bad-signature`, `untrusted-key`,
    /// `chain-broken`, `overwritten`, `not-locked`, `retention-short`, `misplaced`.
    pub kind: &'static str,
    /// For people: what and why.
    pub detail: String,
}

/// One record's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecordStatus {
    /// The drill (folder).
    pub drill: String,
    /// The run id (file name).
    pub run_id: String,
    /// `s3://` of the record.
    pub uri: String,
    /// Empty when the record is good.
    pub problems: Vec<Problem>,
}

/// The result of [`audit`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Audit {
    /// Every record, per drill oldest first.
    pub records: Vec<RecordStatus>,
    /// What could not be checked at all (access denied, KMS unreachable): not a verdict.
    pub errors: Vec<String>,
    /// The keys whose signatures were accepted.
    pub keys: BTreeSet<String>,
}

impl Audit {
    /// The records with problems.
    pub fn bad(&self) -> impl Iterator<Item = &RecordStatus> {
        self.records.iter().filter(|r| !r.problems.is_empty())
    }

    /// Why the record at `uri` could not be checked (its signature not verified: KMS
    /// unreachable, access denied); `None` when it was checked.
    pub fn unchecked(&self, uri: &str) -> Option<&str> {
        let prefix = format!("{uri}: ");
        self.errors.iter().find_map(|e| e.strip_prefix(&prefix))
    }
}

/// How signatures are checked and what retention is required.
pub struct AuditOptions<'a> {
    /// Verify offline with this public key instead of `kms:Verify`.
    pub public_key: Option<PublicKey>,
    /// Trust only this key (ARN, id or alias) with `kms:Verify`; default: the key each
    /// signature names.
    pub key_id: Option<String>,
    /// A KMS client for a region (the key's, from its ARN; `""` for the default region).
    pub kms: &'a (dyn Fn(&str) -> aws_sdk_kms::Client + Send + Sync),
    /// Require at least this many days of retention from each record's start, beyond
    /// what it declares.
    pub min_retain_days: Option<u32>,
}

/// Checks every record of `chains`.
pub async fn audit(chains: &[Chain], options: &AuditOptions<'_>) -> Audit {
    let mut out = Audit::default();
    for chain in chains {
        for (i, stored) in chain.records.iter().enumerate() {
            let mut problems = Vec::new();
            let sha = sha256_hex(&stored.bytes);
            check_record(chain, stored, &mut problems);
            check_signature(stored, &sha, options, &mut problems, &mut out).await;
            check_link(chain, i, &mut problems);
            check_versions(stored, &mut problems);
            check_locks(stored, options.min_retain_days, &mut problems);
            out.records.push(RecordStatus {
                drill: chain.drill.clone(),
                run_id: stored.run_id.clone(),
                uri: stored.uri.clone(),
                problems,
            });
        }
    }
    out
}

fn problem(problems: &mut Vec<Problem>, kind: &'static str, detail: String) {
    problems.push(Problem { kind, detail });
}

/// A record parses and names the drill and run its path says.
fn check_record(chain: &Chain, stored: &StoredRecord, problems: &mut Vec<Problem>) {
    match &stored.record {
        Err(e) => problem(problems, "unreadable", e.clone()),
        Ok(r) if r.run_id != stored.run_id || r.drill.replace('/', "_") != chain.drill => problem(
            problems,
            "misplaced",
            format!(
                "the record is of run {} of drill {:?} but is stored as run {} of {:?}",
                r.run_id, r.drill, stored.run_id, chain.drill
            ),
        ),
        Ok(_) => {}
    }
}

async fn check_signature(
    stored: &StoredRecord,
    sha: &str,
    options: &AuditOptions<'_>,
    problems: &mut Vec<Problem>,
    out: &mut Audit,
) {
    let sig = match &stored.signature {
        None => {
            return problem(
                problems,
                "unsigned",
                format!("no signature: {} is missing", sig_uri(&stored.uri)),
            )
        }
        Some(Err(e)) => {
            return problem(
                problems,
                "unsigned",
                format!("{} is unreadable: {e}", sig_uri(&stored.uri)),
            )
        }
        Some(Ok(sig)) => sig,
    };
    if sig.message != signed_message(sha) {
        return problem(
            problems,
            "edited",
            format!(
                "edited after signing: its SHA-256 is {sha}, the signature covers \"{}\"",
                sig.message
            ),
        );
    }
    let valid = if let Some(key) = &options.public_key {
        sig.verify_offline(key)
    } else {
        let key_id = options.key_id.as_deref().unwrap_or(&sig.key_id);
        if let Some(trusted) = &options.key_id {
            if !same_key(trusted, &sig.key_id) {
                return problem(
                    problems,
                    "untrusted-key",
                    format!("signed by {}, not by the trusted key {trusted}", sig.key_id),
                );
            }
        }
        let kms = (options.kms)(arn_region(key_id).unwrap_or(""));
        sig.verify_with_kms(&kms, key_id).await
    };
    match valid {
        Ok(true) => {
            out.keys.insert(sig.key_id.clone());
        }
        Ok(false) => problem(
            problems,
            "bad-signature",
            format!(
                "the {} signature by {} does not verify: the record or its signature was replaced",
                sig.signing_algorithm, sig.key_id
            ),
        ),
        Err(e) => {
            let e = format!("{}: signature not checked: {e}", stored.uri);
            out.errors.push(e);
        }
    }
}

/// Whether the key a signature names is the trusted one (an ARN, or an id it ends with).
fn same_key(trusted: &str, signed_by: &str) -> bool {
    trusted == signed_by || signed_by.ends_with(&format!("key/{trusted}"))
}

fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.nth(2).filter(|r| !r.is_empty())
}

fn sig_uri(record_uri: &str) -> String {
    format!("{}.sig", record_uri.trim_end_matches(".json"))
}

/// Record `i` links to record `i - 1` by its exact hash.
fn check_link(chain: &Chain, i: usize, problems: &mut Vec<Problem>) {
    let this = &chain.records[i];
    let Ok(record) = &this.record else { return };
    let run = &this.run_id;
    let find = |id: &str| chain.records.iter().find(|r| r.run_id == id);
    match (i.checked_sub(1).map(|p| &chain.records[p]), &record.previous) {
        (None, None) => {}
        (None, Some(link)) => {
            if find(&link.run_id).is_none() {
                problem(problems, "chain-broken", format!(
                    "chain broken before run {run}: it links to run {}, whose record is missing (deleted)",
                    link.run_id
                ));
            }
        }
        (Some(prev), None) => problem(problems, "chain-broken", format!(
            "chain broken between run {} and run {run}: {run} links to no previous record, as if {} did not exist",
            prev.run_id, prev.run_id
        )),
        (Some(prev), Some(link)) if link.run_id == prev.run_id => {
            let actual = sha256_hex(&prev.bytes);
            if actual != link.sha256 {
                problem(problems, "chain-broken", format!(
                    "chain broken between run {} and run {run}: {run} recorded SHA-256 {} for it, its record now hashes to {actual} (replaced or edited)",
                    prev.run_id, link.sha256
                ));
            }
        }
        (Some(prev), Some(link)) => {
            let what = if find(&link.run_id).is_some() {
                "a record out of order"
            } else {
                "whose record is missing (deleted)"
            };
            problem(problems, "chain-broken", format!(
                "chain broken between run {} and run {run}: {run} links to run {}, {what}",
                prev.run_id, link.run_id
            ));
        }
    }
}

fn check_versions(stored: &StoredRecord, problems: &mut Vec<Problem>) {
    for (what, n) in [
        ("record", stored.versions),
        ("signature", stored.signature_versions),
    ] {
        if let Some(n) = n.filter(|n| *n > 1) {
            problem(
                problems,
                "overwritten",
                format!("the {what} has {n} versions: it was overwritten or deleted and put back"),
            );
        }
    }
}

fn check_locks(stored: &StoredRecord, min_days: Option<u32>, problems: &mut Vec<Problem>) {
    let Ok(record) = &stored.record else { return };
    let declared = OffsetDateTime::parse(&record.retention.retain_until, &Rfc3339).ok();
    let started = OffsetDateTime::parse(&record.report.started_at, &Rfc3339).ok();
    let required = match (started, min_days) {
        (Some(s), Some(d)) => Some(s + std::time::Duration::from_secs(u64::from(d) * 86_400)),
        _ => None,
    };
    for (what, lock) in [
        ("record", &stored.lock),
        ("signature", &stored.signature_lock),
    ] {
        let Some(lock) = lock else { continue };
        match lock {
            Err(e) => problem(problems, "not-locked", format!("{what}: {e}")),
            Ok(None) => problem(
                problems,
                "not-locked",
                format!("the {what} has no Object Lock retention: it can be deleted"),
            ),
            Ok(Some(l)) => check_lock(what, l, record, declared, required, problems),
        }
    }
}

fn check_lock(
    what: &str,
    l: &LockState,
    record: &super::Record,
    declared: Option<OffsetDateTime>,
    required: Option<OffsetDateTime>,
    problems: &mut Vec<Problem>,
) {
    let at = |t: OffsetDateTime| crate::report::rfc3339(t);
    if l.mode != record.retention.mode {
        problem(
            problems,
            "retention-short",
            format!(
                "the {what} is locked in {} mode, declared {}",
                l.mode, record.retention.mode
            ),
        );
    }
    // S3 keeps retention to the second.
    let slack = time::Duration::seconds(1);
    if let Some(d) = declared.filter(|d| l.retain_until + slack < *d) {
        problem(
            problems,
            "retention-short",
            format!(
                "retention shorter than declared: the {what} is locked until {}, declared {} ({} days)",
                at(l.retain_until),
                at(d),
                record.retention.retain_days
            ),
        );
    }
    if let Some(r) = required.filter(|r| l.retain_until + slack < *r) {
        problem(
            problems,
            "retention-short",
            format!(
                "retention shorter than required: the {what} is locked until {}, --retain-days asks for {}",
                at(l.retain_until),
                at(r)
            ),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trusted_key_matches_its_arn() {
        let arn = "arn:aws:kms:us-east-1:123456789012:key/abcd";
        assert!(same_key(arn, arn));
        assert!(same_key("abcd", arn));
        assert!(!same_key("abc", arn));
    }
}

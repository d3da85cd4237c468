//! Tamper-evident drill evidence: each run leaves one signed, hash-chained JSON record
//! under S3 Object Lock, `<prefix><drill>/<run_id>.json` with its KMS signature beside it
//! (`<run_id>.sig`), and the tools that check and present those records.
//!
//! ```text
//! prepare (bucket locked? key SIGN_VERIFY, same region?) -> write (link, sign, put locked)
//! audit (signatures, chain, retention, overwrites)       -> html / json report
//! ```
//! Why a chain: a signature proves a record is the one drkit wrote; the SHA-256 of the
//! previous record in each one proves none was deleted or replaced in between.

mod audit;
mod chart;
mod destination;
mod html;
mod record;
mod signing;
mod store;
mod write;

use std::str::FromStr;

pub use audit::{audit, Audit, AuditOptions, Problem as AuditProblem, RecordStatus};
pub use destination::{bucket_region, prepare, Destination, Misconfigured};
pub use html::{report_html, report_json};
pub use record::{sha256_hex, Link, Record, Retention, RECORD_FORMAT};
pub use signing::{signed_message, PublicKey, Signature, SIGNATURE_FORMAT};
pub use store::{load_chains, Chain, StoredRecord};
pub use write::{write, RunContext, Written};

/// The `evidence { }` block: where and how records are kept.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceConfig {
    /// `s3://bucket/prefix/` in a bucket with Object Lock enabled.
    pub s3_uri: String,
    /// Object Lock retention of each record, in days.
    pub retain_days: u32,
    /// `COMPLIANCE` (nobody can shorten or remove it) or `GOVERNANCE`.
    pub lock_mode: LockMode,
    /// An asymmetric `SIGN_VERIFY` KMS key (id, ARN or alias) in the bucket's region.
    pub kms_key_id: String,
}

/// Object Lock retention mode of the records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Nobody, the root user included, can delete a version or shorten its retention.
    Compliance,
    /// Users with `s3:BypassGovernanceRetention` can.
    Governance,
}

impl LockMode {
    /// As S3 names it.
    pub fn as_str(self) -> &'static str {
        match self {
            LockMode::Compliance => "COMPLIANCE",
            LockMode::Governance => "GOVERNANCE",
        }
    }
}

impl FromStr for LockMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "COMPLIANCE" => Ok(LockMode::Compliance),
            "GOVERNANCE" => Ok(LockMode::Governance),
            other => Err(format!(
                "lock_mode = {other:?}: use \"COMPLIANCE\" (nobody can delete a record or shorten its retention, as SEC 17a-4 and most auditors expect) or \"GOVERNANCE\" (users with s3:BypassGovernanceRetention can)"
            )),
        }
    }
}

/// Longest retention accepted: 100 years (S3 allows more; nobody means it).
pub const MAX_RETAIN_DAYS: u32 = 36_500;

/// `s3://bucket/prefix/` split: records of drill `d` live under `<prefix><d>/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// Bucket name.
    pub bucket: String,
    /// Key prefix, empty or ending in `/`.
    pub prefix: String,
}

impl Location {
    /// Parses `s3://bucket/` or `s3://bucket/prefix/`; a prefix must end in `/` so that
    /// `<prefix><drill>/` stays one folder per drill.
    pub fn parse(uri: &str) -> Result<Location, String> {
        let (bucket, prefix) = crate::postgres_dump::parse_s3_uri(uri)?;
        if !prefix.is_empty() && !prefix.ends_with('/') {
            return Err(format!(
                "s3_uri {uri:?}: end the prefix with \"/\" (s3://{bucket}/{prefix}/), records go into one folder per drill below it"
            ));
        }
        Ok(Location { bucket, prefix })
    }

    /// Folder of one drill's records, `<prefix><drill>/`; a `/` in the name would make
    /// a sub-folder, so it becomes `_`.
    pub fn chain_prefix(&self, drill: &str) -> String {
        format!("{}{}/", self.prefix, drill.replace('/', "_"))
    }

    /// `<prefix><drill>/<run_id>.json`.
    pub fn record_key(&self, drill: &str, run_id: &str) -> String {
        format!("{}{run_id}.json", self.chain_prefix(drill))
    }

    /// `<prefix><drill>/<run_id>.sig`.
    pub fn signature_key(&self, drill: &str, run_id: &str) -> String {
        format!("{}{run_id}.sig", self.chain_prefix(drill))
    }

    /// `s3://bucket/key`.
    pub fn uri(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// The AWS error text with its code and message (the SDK's `Display` says only
/// "service error").
pub(crate) fn aws_error(e: &impl std::error::Error) -> String {
    aws_sdk_s3::error::DisplayErrorContext(e).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_put_each_drill_in_its_folder() {
        let l = Location::parse("s3://acme-dr-evidence/drills/").unwrap();
        assert_eq!(l.record_key("orders", "r1"), "drills/orders/r1.json");
        assert_eq!(l.signature_key("a/b", "r1"), "drills/a_b/r1.sig");
        let root = Location::parse("s3://acme-dr-evidence").unwrap();
        assert_eq!(root.record_key("orders", "r1"), "orders/r1.json");
        let err = Location::parse("s3://acme-dr-evidence/drills").unwrap_err();
        assert!(err.contains("end the prefix with"), "{err}");
        assert!(Location::parse("https://x/").is_err());
    }

    #[test]
    fn lock_modes_are_the_s3_names() {
        assert_eq!("COMPLIANCE".parse(), Ok(LockMode::Compliance));
        assert_eq!("GOVERNANCE".parse(), Ok(LockMode::Governance));
        let err = "compliance".parse::<LockMode>().unwrap_err();
        assert!(err.contains("lock_mode = \"compliance\""), "{err}");
    }
}

//! One drill run as auditors read it: what was drilled against which targets, what was
//! restored, measured, checked, created and torn down, and the link to the previous record.

use serde::{Deserialize, Serialize};
use sha2::Digest;

use crate::DrillReport;

/// `format` of a record: readers refuse what they do not know.
pub const RECORD_FORMAT: &str = "drkit-evidence/1";

/// The previous record of the same drill: a deleted or replaced record breaks the link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    /// Its run id.
    pub run_id: String,
    /// SHA-256 (hex) of its exact bytes in S3.
    pub sha256: String,
}

/// The Object Lock retention the record was written with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retention {
    /// `COMPLIANCE` or `GOVERNANCE`.
    pub mode: String,
    /// Days declared in the drill's `evidence` block.
    pub retain_days: u32,
    /// The record and its signature are locked until then (RFC 3339).
    pub retain_until: String,
}

/// A drill run as it is kept in S3.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// [`RECORD_FORMAT`].
    pub format: String,
    /// The drill (its folder under the prefix).
    pub drill: String,
    /// The `dr_policy` it exercises.
    pub policy: String,
    /// Run id: the record's file name.
    pub run_id: String,
    /// The restore worked, every check passed and every target was met.
    pub passed: bool,
    /// Why the drill failed, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The drkit that ran it.
    pub drkit_version: String,
    /// The previous record of this drill; `None` for the first.
    pub previous: Option<Link>,
    /// How long the record is locked.
    pub retention: Retention,
    /// The KMS key (ARN) that signs it.
    pub signing_key: String,
    /// Everything the drill measured: source and recovery point, start and end, phases,
    /// RTO/RPO against targets, each check, what was created and whether it was torn down.
    pub report: DrillReport,
}

impl Record {
    /// The record of `report`; the report's own history is left out (the chain is the
    /// history).
    pub fn new(
        ctx: &super::RunContext,
        report: &DrillReport,
        previous: Option<Link>,
        retention: Retention,
        signing_key: String,
    ) -> Record {
        let mut report = report.clone();
        report.history.clear();
        Record {
            format: RECORD_FORMAT.into(),
            drill: ctx.drill.clone(),
            policy: ctx.policy.clone(),
            run_id: report.run_id.clone(),
            passed: report.passed() && ctx.error.is_none(),
            error: ctx.error.clone(),
            drkit_version: env!("CARGO_PKG_VERSION").into(),
            previous,
            retention,
            signing_key,
            report,
        }
    }

    /// The bytes stored: pretty JSON, so an auditor can read it as it is.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// Whether every resource the drill created was removed.
    pub fn torn_down(&self) -> bool {
        self.report.teardown.iter().all(|t| t.ok)
    }
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

//! One owner per instance and bucket.
//!
//! Terraform plans each resource on its own, so two `dr_policy` blocks naming one bucket
//! would silently overwrite each other's configuration on every apply. Two guards:
//!
//! - Within one configuration: every `dr_policy` of a configuration is planned by the same
//!   provider process, so the process keeps a registry of which policy claimed which
//!   instance or bucket during this run; a second policy claiming it is a plan-time error.
//! - Across configurations (or state files): each resource the policy manages carries the
//!   tag `drkit:policy = <name>`; plan and apply refuse a resource tagged by another policy.

use std::collections::HashMap;

use tf_provider::{AttributePath, Diagnostic};

use crate::diagnostics::error;

/// Tag naming the policy that owns an instance or bucket.
pub const OWNER_TAG: &str = "drkit:policy";
/// Tag recording the policy's declaration on its resources, read by import:
/// `rpo=15m rto=1h [compliance=true] [meta=BASE64]`, where `meta` is the base64 of a JSON
/// object with `owners` and `runbook_url` (left out when the tag would exceed the 256
/// characters tags allow; tag values cannot hold commas or `?`, hence base64).
pub const TARGETS_TAG: &str = "drkit:targets";
/// Tag a drill of the policy writes on the policy's resources after each run:
/// `at=RFC3339 passed=true|false drill=ID`. `dr_status` reads the newest one.
pub const LAST_DRILL_TAG: &str = "drkit:last-drill";
/// As [`LAST_DRILL_TAG`], written only by a drill that passed: `drill_current` is measured
/// from it, so a failing drill after a passing one does not hide when the last pass was.
pub const LAST_PASSED_DRILL_TAG: &str = "drkit:last-passed-drill";
/// Where the policy's drills keep signed evidence records: the `evidence { s3_uri }` of each
/// drill with one, space-separated (`s3://acme-dr-evidence/drills/`). Written by every run
/// of such a drill; `dr_status` then reads `drill_current` from the records, not the tags.
pub const DRILL_EVIDENCE_TAG: &str = "drkit:drill-evidence";
/// Tag on a read replica the policy created (as opposed to adopted): only those are deleted
/// by `delete_replicas_on_destroy`.
pub const CREATED_BY_TAG: &str = "drkit:created-by";

/// What this provider process has seen claimed during the current run.
#[derive(Debug, Default)]
pub struct Claims {
    owners: HashMap<String, String>,
}

impl Claims {
    /// Records that `policy` manages `resource` (e.g. `s3:my-bucket`); returns the other
    /// policy's name when one already claimed it.
    pub fn claim(&mut self, resource: &str, policy: &str) -> Result<(), String> {
        match self.owners.get(resource) {
            Some(owner) if owner != policy => Err(owner.clone()),
            _ => {
                self.owners.insert(resource.to_string(), policy.to_string());
                Ok(())
            }
        }
    }
}

/// The key of an RDS instance in the registry.
pub fn rds_key(region: &str, identifier: &str) -> String {
    format!("rds:{region}:{identifier}")
}

/// The key of an Aurora cluster in the registry.
pub fn cluster_key(region: &str, identifier: &str) -> String {
    format!("rds-cluster:{region}:{identifier}")
}

/// The key of a bucket in the registry (bucket names are global).
pub fn s3_key(bucket: &str) -> String {
    format!("s3:{bucket}")
}

/// Longest tag value RDS and S3 accept.
const MAX_TAG_VALUE: usize = 256;

/// What a policy declares beyond its resources' settings, as the targets tag keeps it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Targets {
    /// `rpo`.
    pub rpo: Option<String>,
    /// `rto`.
    pub rto: Option<String>,
    /// `compliance`.
    pub compliance: bool,
    /// `owners`, when recorded.
    pub owners: Option<Vec<String>>,
    /// `runbook_url`, when recorded.
    pub runbook_url: Option<String>,
    /// `drill_interval`, when set (absent means the default, `90d`).
    pub drill_interval: Option<String>,
}

/// The `drkit:targets` tag value.
pub fn targets_tag(t: &Targets) -> String {
    let mut v = format!(
        "rpo={} rto={}",
        t.rpo.as_deref().unwrap_or_default(),
        t.rto.as_deref().unwrap_or_default()
    );
    if t.compliance {
        v.push_str(" compliance=true");
    }
    if let Some(d) = &t.drill_interval {
        v.push_str(" drill=");
        v.push_str(d);
    }
    if t.owners.is_some() || t.runbook_url.is_some() {
        let meta = serde_json::json!({ "owners": t.owners, "runbook_url": t.runbook_url });
        let meta = aws_smithy_types::base64::encode(meta.to_string());
        if v.len() + " meta=".len() + meta.len() <= MAX_TAG_VALUE {
            v.push_str(" meta=");
            v.push_str(&meta);
        }
    }
    v
}

/// Parses a `drkit:targets` tag value.
pub fn parse_targets_tag(value: &str) -> Targets {
    let mut t = Targets::default();
    for part in value.split_whitespace() {
        match part.split_once('=') {
            Some(("rpo", v)) => t.rpo = Some(v.to_string()),
            Some(("rto", v)) => t.rto = Some(v.to_string()),
            Some(("compliance", v)) => t.compliance = v == "true",
            Some(("drill", v)) => t.drill_interval = Some(v.to_string()),
            Some(("meta", v)) => {
                let meta: Option<serde_json::Value> = aws_smithy_types::base64::decode(v)
                    .ok()
                    .and_then(|bytes| serde_json::from_slice(&bytes).ok());
                if let Some(meta) = meta {
                    t.owners = meta["owners"].as_array().map(|list| {
                        list.iter()
                            .filter_map(|o| o.as_str().map(str::to_string))
                            .collect()
                    });
                    t.runbook_url = meta["runbook_url"].as_str().map(str::to_string);
                }
            }
            _ => {}
        }
    }
    t
}

/// The error for a resource that another policy owns (by tag or claim in this run).
pub(super) fn owner_conflict(
    summary: &str,
    what: &str,
    owner: &str,
    name: &str,
    path: AttributePath,
) -> Diagnostic {
    error(
        summary,
        format!(
            "{what} is managed by dr_policy {owner:?}, and dr_policy {name:?} names it too. One \
             policy owns a resource's DR configuration; two would overwrite each other on every \
             apply. Remove it from one of them (if {owner:?} no longer exists, remove the tag \
             `{OWNER_TAG}` from the resource)."
        ),
        path,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_policy_cannot_claim_a_bucket() {
        let mut claims = Claims::default();
        assert!(claims.claim(&s3_key("b"), "a").is_ok());
        assert!(
            claims.claim(&s3_key("b"), "a").is_ok(),
            "re-planning is fine"
        );
        assert_eq!(claims.claim(&s3_key("b"), "c"), Err("a".to_string()));
    }

    #[test]
    fn targets_round_trip() {
        let t = Targets {
            rpo: Some("15m".into()),
            rto: Some("1h".into()),
            compliance: true,
            owners: Some(vec!["alice@example.com".into(), "Team Payments".into()]),
            runbook_url: Some("https://wiki.example.com/runbook?id=1,2".into()),
            drill_interval: Some("30d".into()),
        };
        let tag = targets_tag(&t);
        assert!(
            tag.starts_with("rpo=15m rto=1h compliance=true drill=30d meta="),
            "{tag}"
        );
        assert!(!tag.contains(',') && !tag.contains('?'), "{tag}");
        assert_eq!(parse_targets_tag(&tag), t);
    }

    #[test]
    fn a_declaration_too_long_for_a_tag_keeps_the_targets() {
        let t = Targets {
            rpo: Some("15m".into()),
            rto: Some("1h".into()),
            owners: Some(vec!["someone@example.com".into(); 20]),
            ..Default::default()
        };
        let tag = targets_tag(&t);
        assert_eq!(tag, "rpo=15m rto=1h");
        assert_eq!(parse_targets_tag(&tag).owners, None);
    }
}

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

/// Tag naming the policy that owns an instance or bucket.
pub const OWNER_TAG: &str = "drkit:policy";
/// Tag recording the policy's targets on its resources (`rpo=15m rto=1h`), read by import.
pub const TARGETS_TAG: &str = "drkit:targets";
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

/// The key of a bucket in the registry (bucket names are global).
pub fn s3_key(bucket: &str) -> String {
    format!("s3:{bucket}")
}

/// The `drkit:targets` tag value.
pub fn targets_tag(rpo: &str, rto: &str, compliance: bool) -> String {
    let mut v = format!("rpo={rpo} rto={rto}");
    if compliance {
        v.push_str(" compliance=true");
    }
    v
}

/// Parses a `drkit:targets` tag value into (rpo, rto, compliance).
pub fn parse_targets_tag(value: &str) -> (Option<String>, Option<String>, bool) {
    let mut rpo = None;
    let mut rto = None;
    let mut compliance = false;
    for part in value.split_whitespace() {
        match part.split_once('=') {
            Some(("rpo", v)) => rpo = Some(v.to_string()),
            Some(("rto", v)) => rto = Some(v.to_string()),
            Some(("compliance", v)) => compliance = v == "true",
            _ => {}
        }
    }
    (rpo, rto, compliance)
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
        let tag = targets_tag("15m", "1h", true);
        assert_eq!(
            parse_targets_tag(&tag),
            (Some("15m".into()), Some("1h".into()), true)
        );
    }
}

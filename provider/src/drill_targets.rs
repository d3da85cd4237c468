//! The targets of the policy a drill names, for a `dr_drill` without `rpo`/`rto`.
//!
//! `dr_policy` writes its declaration on every resource it manages: `drkit:policy = <name>`
//! and `drkit:targets = "rpo=15m rto=1h …"` (see `policy::claims`). A drill reads them back
//! from the resource it restores (the RDS source instance, or the dump's bucket) and else
//! from any RDS instance of the policy in the provider's region, and records in its report
//! where the targets came from.

use std::time::Duration as StdDuration;

use drlint::model::Duration;
use tf_provider::value::Value;

use crate::aws::AwsClients;
use crate::policy::claims::{parse_targets_tag, OWNER_TAG, TARGETS_TAG};
use crate::state::dr_drill::DrillState;

/// Targets found on a policy's resources.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyTargets {
    /// The policy's RPO.
    pub rpo: Option<StdDuration>,
    /// The policy's RTO.
    pub rto: Option<StdDuration>,
    /// Where they were read, for the report.
    pub from: String,
}

/// The `drkit:targets` of `policy` in `tags`, when the tags say the resource is the policy's.
pub fn from_tags<'a>(
    policy: &str,
    tags: impl IntoIterator<Item = (&'a str, &'a str)>,
    resource: &str,
) -> Option<PolicyTargets> {
    let (mut owner, mut targets) = (None, None);
    for (k, v) in tags {
        if k == OWNER_TAG {
            owner = Some(v);
        } else if k == TARGETS_TAG {
            targets = Some(v);
        }
    }
    if owner != Some(policy) {
        return None;
    }
    let t = parse_targets_tag(targets?);
    let parse = |s: Option<String>| {
        s.filter(|s| !s.is_empty())
            .and_then(|s| s.parse::<Duration>().ok())
            .map(|d| StdDuration::from_secs(d.as_secs()))
    };
    let (rpo, rto) = (parse(t.rpo), parse(t.rto));
    if rpo.is_none() && rto.is_none() {
        return None;
    }
    Some(PolicyTargets {
        rpo,
        rto,
        from: format!("policy {policy:?} (the {TARGETS_TAG} tag on {resource})"),
    })
}

/// Looks the targets of the drill's policy up on AWS; `None` when nothing is tagged.
pub async fn lookup(clients: &AwsClients, s: &DrillState) -> Option<PolicyTargets> {
    let policy = s.policy_id.as_ref_option()?;
    let primary = clients.primary_region().to_string();
    let rds = clients.rds(&primary).await;
    if let Value::Value(r) = &s.rds {
        if let Some(id) = r.instance_identifier.as_ref_option() {
            if let Ok(out) = rds
                .describe_db_instances()
                .db_instance_identifier(id)
                .send()
                .await
            {
                for db in out.db_instances() {
                    let tags = db
                        .tag_list()
                        .iter()
                        .filter_map(|t| Some((t.key()?, t.value()?)));
                    let what = format!("RDS instance {id}");
                    if let Some(found) = from_tags(policy, tags, &what) {
                        return Some(found);
                    }
                }
            }
        }
    }
    // The bucket of a dump source (PostgreSQL or MySQL) and its region.
    let dump = match (&s.postgres_dump, &s.mysql_dump) {
        (Value::Value(d), _) => Some((&d.s3_uri, &d.region)),
        (_, Value::Value(d)) => Some((&d.s3_uri, &d.region)),
        _ => None,
    };
    if let Some((s3_uri, region)) = dump {
        let bucket = s3_uri
            .as_ref_option()
            .and_then(|u| u.strip_prefix("s3://"))
            .and_then(|r| r.split('/').next())
            .filter(|b| !b.is_empty());
        if let Some(bucket) = bucket {
            let region = region.as_ref_option().cloned().unwrap_or(primary.clone());
            let s3 = clients.s3(&region).await;
            if let Ok(out) = s3.get_bucket_tagging().bucket(bucket).send().await {
                let tags = out.tag_set().iter().map(|t| (t.key(), t.value()));
                let what = format!("bucket {bucket}");
                if let Some(found) = from_tags(policy, tags, &what) {
                    return Some(found);
                }
            }
        }
    }
    // Any instance of the policy: a dump drill of a policy whose bucket is not its own.
    let mut pages = rds.describe_db_instances().into_paginator().send();
    while let Some(Ok(page)) = pages.next().await {
        for db in page.db_instances() {
            let tags = db
                .tag_list()
                .iter()
                .filter_map(|t| Some((t.key()?, t.value()?)));
            let what = format!(
                "RDS instance {}",
                db.db_instance_identifier().unwrap_or_default()
            );
            if let Some(found) = from_tags(policy, tags, &what) {
                return Some(found);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_the_policys_own_tags_only() {
        let tags = [
            ("drkit:policy", "orders"),
            ("drkit:targets", "rpo=15m rto=1h compliance=true"),
        ];
        let found = from_tags("orders", tags, "RDS instance orders-db").unwrap();
        assert_eq!(found.rpo, Some(StdDuration::from_secs(900)));
        assert_eq!(found.rto, Some(StdDuration::from_secs(3600)));
        assert!(
            found.from.contains("RDS instance orders-db"),
            "{}",
            found.from
        );
        assert_eq!(from_tags("billing", tags, "x"), None, "another policy's");
        assert_eq!(from_tags("orders", [("drkit:policy", "orders")], "x"), None);
    }
}

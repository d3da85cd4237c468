//! Finds what a policy covers: the RDS instances, Aurora clusters and buckets of the
//! primary region that carry its `drkit:policy` tag (as `dr_runbook` does), with what
//! measuring them needs. A listing that fails after every retry is a problem, never an
//! empty list: a resource missed would make the verdict wrong.

use futures::stream::{self, StreamExt};
use time::OffsetDateTime;

use super::{read_failure, to_offset};
use crate::aws::AwsClients;
use crate::diagnostics::AwsError;
use crate::policy::claims::{
    DRILL_EVIDENCE_TAG, LAST_DRILL_TAG, LAST_PASSED_DRILL_TAG, OWNER_TAG, TARGETS_TAG,
};

/// Reads of one kind in flight at once.
pub const MAX_IN_FLIGHT: usize = 8;

/// An RDS instance of the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Identifier.
    pub identifier: String,
    /// ARN (to tag it with a drill's outcome).
    pub arn: String,
    /// Engine (`postgres`, `mysql`, ...): what a restore target's class must be offered for.
    pub engine: Option<String>,
    /// Automated backup retention (days).
    pub retention: i32,
    /// `LatestRestorableTime`.
    pub latest_restorable: Option<OffsetDateTime>,
    /// Read replicas: identifiers (same region) or ARNs (other regions).
    pub replicas: Vec<String>,
    /// ARNs of the replicated automated backups in other regions.
    pub backup_replications: Vec<String>,
    /// The Aurora cluster it belongs to (its backups are the cluster's), if any.
    pub cluster: Option<String>,
}

/// An Aurora cluster of the policy.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Identifier.
    pub identifier: String,
    /// ARN (to find it in a global database).
    pub arn: String,
    /// Engine (`aurora-postgresql`, `aurora-mysql`).
    pub engine: Option<String>,
    /// Automated backup retention (days).
    pub retention: i32,
    /// `LatestRestorableTime`.
    pub latest_restorable: Option<OffsetDateTime>,
}

/// What the policy covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Inventory {
    /// Its RDS instances.
    pub instances: Vec<Instance>,
    /// Its Aurora clusters.
    pub clusters: Vec<Cluster>,
    /// Its buckets.
    pub buckets: Vec<String>,
    /// The `drkit:targets` tag found on any of them.
    pub targets: Option<String>,
    /// Listings that failed: the policy may cover more than was found.
    pub problems: Vec<String>,
    /// The `drkit:last-drill` and `drkit:last-passed-drill` tag values found on them.
    pub drills: DrillTags,
}

impl Inventory {
    /// The engines of its instances and clusters, each once.
    pub fn engines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .instances
            .iter()
            .filter_map(|i| i.engine.clone())
            .chain(self.clusters.iter().filter_map(|c| c.engine.clone()))
            .collect();
        out.sort();
        out.dedup();
        out
    }
}

/// The drill outcome tags found on a policy's resources (each resource carries the value
/// the last drill wrote; the newest is read by [`super::drills`]).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DrillTags {
    /// `drkit:last-drill` values.
    pub last: Vec<String>,
    /// `drkit:last-passed-drill` values.
    pub last_passed: Vec<String>,
    /// Evidence locations from `drkit:drill-evidence` values, each once, in order found.
    pub evidence: Vec<String>,
}

impl DrillTags {
    fn collect<'a>(&mut self, tags: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>) {
        for (k, v) in tags {
            match (k, v) {
                (Some(LAST_DRILL_TAG), Some(v)) => self.last.push(v.to_string()),
                (Some(LAST_PASSED_DRILL_TAG), Some(v)) => self.last_passed.push(v.to_string()),
                (Some(DRILL_EVIDENCE_TAG), Some(v)) => self.add_evidence(v.split_whitespace()),
                _ => {}
            }
        }
    }

    fn extend(&mut self, other: DrillTags) {
        self.last.extend(other.last);
        self.last_passed.extend(other.last_passed);
        self.add_evidence(other.evidence.iter().map(String::as_str));
    }

    /// Adds evidence locations not yet known.
    pub fn add_evidence<'a>(&mut self, uris: impl IntoIterator<Item = &'a str>) {
        for uri in uris {
            if !self.evidence.iter().any(|u| u == uri) {
                self.evidence.push(uri.to_string());
            }
        }
    }
}

fn owned<'a>(
    tags: impl IntoIterator<Item = (Option<&'a str>, Option<&'a str>)>,
    policy: &str,
) -> (bool, Option<String>) {
    let mut mine = false;
    let mut targets = None;
    for (k, v) in tags {
        match k {
            Some(OWNER_TAG) => mine |= v == Some(policy),
            Some(TARGETS_TAG) => targets = v.map(str::to_string),
            _ => {}
        }
    }
    (mine, targets.filter(|_| mine))
}

/// Lists the policy's resources in the primary region; the three listings go out at once.
pub async fn discover(clients: &AwsClients, policy: &str) -> Inventory {
    let (instances, clusters, buckets) = tokio::join!(
        instances(clients, policy),
        clusters(clients, policy),
        buckets(clients, policy),
    );
    let mut inv = Inventory::default();
    match instances {
        Ok((found, targets, drills)) => {
            inv.instances = found;
            inv.targets = inv.targets.or(targets);
            inv.drills.extend(drills);
        }
        Err(e) => inv.problems.push(format!(
            "RDS instances of {}: {}",
            clients.primary_region(),
            read_failure("RDS", clients.primary_region(), clients.read_budget(), &e)
        )),
    }
    match clusters {
        Ok((found, targets, drills)) => {
            inv.clusters = found;
            inv.targets = inv.targets.or(targets);
            inv.drills.extend(drills);
        }
        Err(e) => inv.problems.push(format!(
            "Aurora clusters of {}: {}",
            clients.primary_region(),
            read_failure("RDS", clients.primary_region(), clients.read_budget(), &e)
        )),
    }
    let (found, targets, problems, drills) = buckets;
    inv.buckets = found;
    inv.targets = inv.targets.or(targets);
    inv.problems.extend(problems);
    inv.drills.extend(drills);
    inv
}

/// What a listing found: the resources, the targets tag, the drill tags.
type Found<T> = (Vec<T>, Option<String>, DrillTags);

async fn instances(clients: &AwsClients, policy: &str) -> Result<Found<Instance>, AwsError> {
    let client = clients.rds(clients.primary_region()).await;
    let mut out = Vec::new();
    let mut targets = None;
    let mut drills = DrillTags::default();
    let mut pages = client.describe_db_instances().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("DescribeDBInstances", e))?;
        for db in page.db_instances() {
            let (mine, t) = owned(db.tag_list().iter().map(|t| (t.key(), t.value())), policy);
            if !mine {
                continue;
            }
            targets = targets.or(t);
            drills.collect(db.tag_list().iter().map(|t| (t.key(), t.value())));
            out.push(Instance {
                identifier: db.db_instance_identifier().unwrap_or_default().to_string(),
                arn: db.db_instance_arn().unwrap_or_default().to_string(),
                engine: db.engine().map(str::to_string),
                retention: db.backup_retention_period().unwrap_or(0),
                latest_restorable: db.latest_restorable_time().and_then(to_offset),
                replicas: db.read_replica_db_instance_identifiers().to_vec(),
                backup_replications: db
                    .db_instance_automated_backups_replications()
                    .iter()
                    .filter_map(|r| r.db_instance_automated_backups_arn().map(str::to_string))
                    .collect(),
                cluster: db.db_cluster_identifier().map(str::to_string),
            });
        }
    }
    Ok((out, targets, drills))
}

async fn clusters(clients: &AwsClients, policy: &str) -> Result<Found<Cluster>, AwsError> {
    let client = clients.rds(clients.primary_region()).await;
    let mut out = Vec::new();
    let mut targets = None;
    let mut drills = DrillTags::default();
    let mut pages = client.describe_db_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| AwsError::from_sdk("DescribeDBClusters", e))?;
        for c in page.db_clusters() {
            let (mine, t) = owned(c.tag_list().iter().map(|t| (t.key(), t.value())), policy);
            if !mine {
                continue;
            }
            targets = targets.or(t);
            drills.collect(c.tag_list().iter().map(|t| (t.key(), t.value())));
            out.push(Cluster {
                identifier: c.db_cluster_identifier().unwrap_or_default().to_string(),
                arn: c.db_cluster_arn().unwrap_or_default().to_string(),
                engine: c.engine().map(str::to_string),
                retention: c.backup_retention_period().unwrap_or(0),
                latest_restorable: c.latest_restorable_time().and_then(to_offset),
            });
        }
    }
    Ok((out, targets, drills))
}

/// Errors of `GetBucketTagging` that mean "not one of ours to measure" rather than "could
/// not tell": another region's bucket, or one these credentials may not read.
const NOT_OURS: &[&str] = &[
    "NoSuchTagSet",
    "NoSuchBucket",
    "PermanentRedirect",
    "AuthorizationHeaderMalformed",
    "AccessDenied",
];

/// A bucket's tags as (key, value).
type Tags = Vec<(String, String)>;

async fn buckets(
    clients: &AwsClients,
    policy: &str,
) -> (Vec<String>, Option<String>, Vec<String>, DrillTags) {
    let primary = clients.primary_region();
    let client = clients.s3(primary).await;
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        match client
            .list_buckets()
            .set_continuation_token(token.take())
            .send()
            .await
        {
            Ok(page) => {
                names.extend(
                    page.buckets()
                        .iter()
                        // Buckets S3 says live elsewhere are not the primary's.
                        .filter(|b| b.bucket_region().is_none_or(|r| r == primary))
                        .filter_map(|b| b.name().map(str::to_string)),
                );
                match page.continuation_token() {
                    Some(t) if !t.is_empty() => token = Some(t.to_string()),
                    _ => break,
                }
            }
            Err(e) => {
                let e = AwsError::from_sdk("ListBuckets", e);
                let why = read_failure("S3", primary, clients.read_budget(), &e);
                return (
                    Vec::new(),
                    None,
                    vec![format!("S3 buckets: {why}")],
                    DrillTags::default(),
                );
            }
        }
    }
    let tagged: Vec<(String, Result<Tags, AwsError>)> = stream::iter(names)
        .map(|name| {
            let client = client.clone();
            async move {
                let tags = client.get_bucket_tagging().bucket(&name).send().await;
                let tags = tags
                    .map(|t| {
                        t.tag_set()
                            .iter()
                            .map(|t| (t.key().to_string(), t.value().to_string()))
                            .collect()
                    })
                    .map_err(|e| AwsError::from_sdk("GetBucketTagging", e));
                (name, tags)
            }
        })
        .buffer_unordered(MAX_IN_FLIGHT)
        .collect()
        .await;
    let mut out = Vec::new();
    let mut targets = None;
    let mut problems = Vec::new();
    let mut drills = DrillTags::default();
    for (name, tags) in tagged {
        match tags {
            Ok(tags) => {
                let (mine, t) = owned(
                    tags.iter()
                        .map(|(k, v)| (Some(k.as_str()), Some(v.as_str()))),
                    policy,
                );
                if mine {
                    targets = targets.or(t);
                    drills.collect(
                        tags.iter()
                            .map(|(k, v)| (Some(k.as_str()), Some(v.as_str()))),
                    );
                    out.push(name);
                }
            }
            Err(e) if NOT_OURS.iter().any(|c| e.has_code(c)) => {}
            Err(e) => problems.push(format!("tags of bucket {name}: {e}")),
        }
    }
    out.sort();
    (out, targets, problems, drills)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ownership_and_targets_come_from_the_tags() {
        let tags = [
            (Some("drkit:policy"), Some("orders")),
            (Some("drkit:targets"), Some("rpo=15m rto=1h")),
        ];
        assert_eq!(owned(tags, "orders"), (true, Some("rpo=15m rto=1h".into())));
        assert_eq!(
            owned(tags, "billing"),
            (false, None),
            "another policy's targets are not ours"
        );
        assert_eq!(owned([(Some("team"), Some("x"))], "orders"), (false, None));
    }
}

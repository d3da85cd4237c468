//! What a drill records on its policy's resources, for `dr_status`'s `last_drill_at`,
//! `last_drill_passed` and `drill_current` (see [`crate::status::drills`]): after every run
//! of a `dr_drill` with a `policy_id`, each instance, cluster and bucket carrying the tag
//! `drkit:policy = <policy>` gets `drkit:last-drill = at=... passed=... drill=RUN_ID`, and
//! after a passing run also `drkit:last-passed-drill`. Tags, because they live with the
//! resources, need no store of their own, and are what `dr_status` already reads.
//!
//! A tag that cannot be written is a warning and a note in the report, never a lost drill.

use drkit_drill::DrillReport;

use crate::aws::AwsClients;
use crate::diagnostics::{aws, AwsError};
use crate::policy::claims::{LAST_DRILL_TAG, LAST_PASSED_DRILL_TAG};
use crate::policy::{rds, s3};
use crate::status::discover::discover;
use crate::status::drills::tag_value;

/// What [`record`] did.
#[derive(Debug, Default)]
pub struct Recorded {
    /// Resources tagged.
    pub tagged: usize,
    /// What could not be tagged, and why.
    pub problems: Vec<String>,
}

/// Tags the policy's resources with the run.
pub async fn record(clients: &AwsClients, policy: &str, report: &DrillReport) -> Recorded {
    let at = report
        .finished_at
        .clone()
        .unwrap_or_else(|| report.started_at.clone());
    let passed = report.passed();
    let value = tag_value(&at, passed, &report.run_id);
    let mut tags = vec![(LAST_DRILL_TAG, value.as_str())];
    if passed {
        tags.push((LAST_PASSED_DRILL_TAG, value.as_str()));
    }
    let inv = discover(clients, policy).await;
    let mut problems = inv.problems.clone();
    let tagged = inv.instances.len() + inv.clusters.len() + inv.buckets.len();
    let primary = clients.primary_region();
    let rds_client = clients.rds(primary).await;
    for i in &inv.instances {
        if let Err(e) = rds::add_tags(&rds_client, &i.arn, &tags).await {
            problems.push(format!("instance {}: {e}", i.identifier));
        }
    }
    for c in &inv.clusters {
        if let Err(e) = rds::add_tags(&rds_client, &c.arn, &tags).await {
            problems.push(format!("cluster {}: {e}", c.identifier));
        }
    }
    let s3_client = clients.s3(primary).await;
    for b in &inv.buckets {
        if let Err(e) = tag_bucket(&s3_client, b, &tags).await {
            problems.push(format!("bucket {b}: {e}"));
        }
    }
    Recorded {
        tagged: tagged.saturating_sub(problems.len()),
        problems,
    }
}

/// S3 has no per-tag call: the tag set is read, the drill's keys replaced, and written back.
async fn tag_bucket(
    client: &aws_sdk_s3::Client,
    bucket: &str,
    tags: &[(&str, &str)],
) -> Result<(), AwsError> {
    let mut set: Vec<(String, String)> =
        match client.get_bucket_tagging().bucket(bucket).send().await {
            Ok(out) => out
                .tag_set()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect(),
            Err(e) => {
                let e = aws("GetBucketTagging")(e);
                if !e.has_code("NoSuchTagSet") {
                    return Err(e);
                }
                Vec::new()
            }
        };
    set.retain(|(k, _)| !tags.iter().any(|(key, _)| key == k));
    set.extend(tags.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    s3::put_tags(client, bucket, &set).await
}

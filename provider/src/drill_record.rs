//! What a drill records on its policy's resources, for `dr_status`'s `last_drill_at`,
//! `last_drill_passed` and `drill_current` (see [`crate::status::drills`]): after every run
//! of a `dr_drill` with a `policy_id`, each instance, cluster and bucket carrying the tag
//! `drkit:policy = <policy>` gets `drkit:last-drill = at=... passed=... drill=RUN_ID`, and
//! after a passing run also `drkit:last-passed-drill`. Tags, because they live with the
//! resources, need no store of their own, and are what `dr_status` already reads.
//!
//! A drill with an `evidence` block also adds its evidence location to
//! `drkit:drill-evidence` (space-separated locations, one per evidence bucket and prefix of
//! the policy's drills): `dr_status` then judges the policy's drills by the signed records
//! there, which nobody can edit, rather than by these tags, which anyone allowed to tag can.
//!
//! A tag that cannot be written is a warning and a note in the report, never a lost drill.

use drkit_drill::DrillReport;

use crate::aws::AwsClients;
use crate::diagnostics::{aws, AwsError};
use crate::policy::claims::{DRILL_EVIDENCE_TAG, LAST_DRILL_TAG, LAST_PASSED_DRILL_TAG};
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

/// Longest tag value RDS and S3 accept.
const MAX_TAG_VALUE: usize = 256;

/// Tags the policy's resources with the run, and with `evidence` (the drill's
/// `evidence { s3_uri }`) when it keeps evidence.
pub async fn record(
    clients: &AwsClients,
    policy: &str,
    report: &DrillReport,
    evidence: Option<&str>,
) -> Recorded {
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
    let locations = match evidence.map(|uri| evidence_tag(&inv.drills.evidence, uri)) {
        Some(Ok(v)) => Some(v),
        Some(Err(e)) => {
            problems.push(e);
            None
        }
        None => None,
    };
    if let Some(v) = &locations {
        tags.push((DRILL_EVIDENCE_TAG, v.as_str()));
    }
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

/// The `drkit:drill-evidence` value: the locations already recorded plus `s3_uri`
/// (normalised to `s3://bucket/prefix/`), the oldest dropped when they outgrow a tag.
fn evidence_tag(known: &[String], s3_uri: &str) -> Result<String, String> {
    let location = drkit_drill::evidence::Location::parse(s3_uri)?;
    let uri = location.uri(&location.prefix);
    if uri.len() > MAX_TAG_VALUE {
        return Err(format!(
            "{DRILL_EVIDENCE_TAG}: the evidence location {uri} is longer than a tag value may be ({MAX_TAG_VALUE}); pass it to dr_status as evidence_uris"
        ));
    }
    let mut all: Vec<&str> = known
        .iter()
        .map(String::as_str)
        .filter(|k| *k != uri)
        .collect();
    all.push(&uri);
    while all.join(" ").len() > MAX_TAG_VALUE {
        all.remove(0);
    }
    Ok(all.join(" "))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evidence_locations_accumulate_in_one_tag_newest_last() {
        let known = vec!["s3://a/drills/".to_string()];
        assert_eq!(
            evidence_tag(&known, "s3://b").unwrap(),
            "s3://a/drills/ s3://b/"
        );
        // Already there: moved to the end, not repeated.
        assert_eq!(
            evidence_tag(&known, "s3://a/drills/").unwrap(),
            "s3://a/drills/"
        );
        // Too many for 256 characters: the oldest go.
        let long: Vec<String> = (0..8)
            .map(|i| format!("s3://bucket-{i}/{}/", "p".repeat(30)))
            .collect();
        let v = evidence_tag(&long, "s3://new/").unwrap();
        assert!(v.len() <= MAX_TAG_VALUE && v.ends_with(" s3://new/"), "{v}");
        assert!(!v.contains("bucket-0"), "{v}");
        assert!(evidence_tag(&[], "s3://drills").is_ok());
        assert!(evidence_tag(&[], "https://x/").is_err());
    }
}

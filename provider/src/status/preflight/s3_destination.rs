//! S3 replication's copy: each rule of a policy's bucket is enabled, its destination bucket
//! exists (in the region S3 reports for it) and is versioned. A destination that lost its
//! versioning stops receiving replicas; a deleted one leaves nothing to fail over to.

use futures::future::join_all;

use super::Check;
use crate::aws::AwsClients;
use crate::diagnostics::AwsError;
use crate::policy::s3;
use crate::status::{read_failure, s3_replication};

const CHECK: &str = "s3_destination";

/// One check per replication rule of `buckets` (the policy's, in the primary region).
pub async fn checks(clients: &AwsClients, buckets: &[String]) -> Vec<Check> {
    let primary = clients.primary_region().to_string();
    let budget = clients.read_budget();
    let per_bucket = join_all(buckets.iter().map(|bucket| {
        let primary = primary.clone();
        async move {
            let client = clients.s3(&primary).await;
            match s3_replication::rules(&client, bucket).await {
                Ok(rules) => {
                    join_all(rules.iter().map(|r| rule(clients, &client, bucket, r))).await
                }
                Err(e) => vec![Check::new(
                    CHECK,
                    format!("s3:{bucket}"),
                    None,
                    format!(
                        "the replication configuration could not be read: {}",
                        read_failure("S3", &primary, budget, &e)
                    ),
                )],
            }
        }
    }))
    .await;
    per_bucket.into_iter().flatten().collect()
}

async fn rule(
    clients: &AwsClients,
    primary: &aws_sdk_s3::Client,
    source: &str,
    rule: &s3_replication::Rule,
) -> Check {
    let subject = s3_replication::address(source, rule);
    let dest = &rule.destination;
    if !rule.enabled {
        return Check::new(
            CHECK,
            subject,
            Some(false),
            format!(
                "replication rule {:?} to {dest} is Disabled: nothing new is copied",
                rule.id
            ),
        );
    }
    let budget = clients.read_budget();
    let region = match s3::location(primary, dest).await {
        Ok(Some(region)) => region,
        Ok(None) => {
            return Check::new(
                CHECK,
                subject,
                Some(false),
                format!("destination {dest} does not exist: nothing to fail over to"),
            )
        }
        Err(e) => return missing_or_unknown(subject, dest, clients.primary_region(), budget, e),
    };
    let client = clients.s3(&region).await;
    match s3::versioning_status(&client, dest).await {
        Ok(status) => verdict(subject, dest, &region, status.as_deref()),
        Err(e) => missing_or_unknown(subject, dest, &region, budget, e),
    }
}

/// Pure verdict from the destination's versioning status.
fn verdict(subject: String, dest: &str, region: &str, status: Option<&str>) -> Check {
    match status {
        Some("Enabled") => Check::new(
            CHECK,
            subject,
            Some(true),
            format!("destination {dest} exists in {region} and is versioned; the rule is enabled"),
        ),
        other => Check::new(
            CHECK,
            subject,
            Some(false),
            format!(
                "destination {dest} in {region} is not versioned (versioning {}): S3 does not replicate into it",
                other.unwrap_or("never enabled")
            ),
        ),
    }
}

fn missing_or_unknown(
    subject: String,
    dest: &str,
    region: &str,
    budget: std::time::Duration,
    e: AwsError,
) -> Check {
    if e.is_not_found() {
        Check::new(
            CHECK,
            subject,
            Some(false),
            format!("destination {dest} does not exist: nothing to fail over to ({e})"),
        )
    } else {
        Check::new(
            CHECK,
            subject,
            None,
            format!(
                "destination {dest} could not be read: {}",
                read_failure("S3", region, budget, &e)
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_versioned_destination_passes() {
        let ok = verdict("s3:a->b".into(), "b", "us-west-2", Some("Enabled"));
        assert_eq!(ok.ok, Some(true));
        let suspended = verdict("s3:a->b".into(), "b", "us-west-2", Some("Suspended"));
        assert_eq!(suspended.ok, Some(false));
        assert!(
            suspended.detail.contains("versioning Suspended"),
            "{suspended:?}"
        );
        assert!(verdict("s".into(), "b", "r", None)
            .detail
            .contains("never enabled"));
    }
}

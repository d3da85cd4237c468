//! S3 replication: with Replication Time Control (or replication metrics) S3 publishes
//! `ReplicationLatency` (seconds) and `OperationsPendingReplication` per rule, in the
//! source bucket's region, with the dimensions `SourceBucket`, `DestinationBucket` and
//! `RuleId`. Without them S3 publishes nothing: the lag is not measurable, and is said so.

use std::time::Duration;

use aws_sdk_s3::types::{MetricsStatus, ReplicationRuleStatus, ReplicationTimeStatus};
use aws_sdk_s3::Client;

use super::metrics::{maximum, MetricQuery, Points};
use super::{Figure, Mechanism, Scope};
use crate::diagnostics::{aws, AwsError};

/// One replication rule of a bucket, as far as measuring it goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Rule ID (a `RuleId` dimension).
    pub id: String,
    /// Destination bucket name (not the ARN).
    pub destination: String,
    /// The rule is enabled.
    pub enabled: bool,
    /// S3 publishes the rule's metrics: RTC on, or replication metrics on.
    pub metrics: bool,
}

/// The replication rules of `bucket`; empty when it has no replication configuration.
pub async fn rules(client: &Client, bucket: &str) -> Result<Vec<Rule>, AwsError> {
    let out = match client
        .get_bucket_replication()
        .bucket(bucket)
        .send()
        .await
        .map_err(aws("GetBucketReplication"))
    {
        Ok(out) => out,
        Err(e) if e.has_code("ReplicationConfigurationNotFoundError") => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    Ok(out
        .replication_configuration()
        .map(|c| {
            c.rules()
                .iter()
                .filter_map(|r| {
                    let dest = r.destination()?;
                    let rtc = dest
                        .replication_time()
                        .is_some_and(|t| t.status() == &ReplicationTimeStatus::Enabled);
                    let metrics = dest
                        .metrics()
                        .is_some_and(|m| m.status() == &MetricsStatus::Enabled);
                    Some(Rule {
                        id: r.id().unwrap_or_default().to_string(),
                        destination: dest
                            .bucket()
                            .trim_start_matches("arn:aws:s3:::")
                            .to_string(),
                        enabled: r.status() == &ReplicationRuleStatus::Enabled,
                        metrics: rtc || metrics,
                    })
                })
                .collect()
        })
        .unwrap_or_default())
}

/// `s3:SOURCE->DESTINATION`.
pub fn address(source: &str, rule: &Rule) -> String {
    format!("s3:{source}->{}", rule.destination)
}

/// The two queries of a rule: `ReplicationLatency`, then `OperationsPendingReplication`.
pub fn queries(region: &str, source: &str, rule: &Rule) -> [MetricQuery; 2] {
    let dims = vec![
        ("SourceBucket", source.to_string()),
        ("DestinationBucket", rule.destination.clone()),
        ("RuleId", rule.id.clone()),
    ];
    [
        MetricQuery {
            region: region.to_string(),
            namespace: "AWS/S3",
            metric: "ReplicationLatency",
            dimensions: dims.clone(),
        },
        MetricQuery {
            region: region.to_string(),
            namespace: "AWS/S3",
            metric: "OperationsPendingReplication",
            dimensions: dims,
        },
    ]
}

/// The figure of a rule that S3 does not measure (disabled, or neither RTC nor metrics).
pub fn unmeasurable(source: &str, rule: &Rule) -> Option<Figure> {
    let why = if !rule.enabled {
        "the replication rule is disabled: nothing is copied"
    } else if !rule.metrics {
        "not measurable without Replication Time Control: S3 publishes ReplicationLatency only with RTC (or replication metrics) enabled"
    } else {
        return None;
    };
    Some(Figure::unknown(
        address(source, rule),
        format!("s3:{source}"),
        Mechanism::S3Replication,
        Scope::RegionLoss,
        "GetBucketReplication",
        why,
    ))
}

/// The figure of a measured rule from its latency and pending-operations series: the
/// Maximum `ReplicationLatency`; with no latency data points, zero only when
/// `OperationsPendingReplication` shows nothing pending over the whole window.
pub fn figure(
    source: &str,
    rule: &Rule,
    queries: &[MetricQuery; 2],
    window: Duration,
    latency: &Result<Points, String>,
    pending: &Result<Points, String>,
) -> Figure {
    let address = address(source, rule);
    let protects = format!("s3:{source}");
    let w = drlint::model::Duration::from_secs(window.as_secs());
    let unknown = |src: String, why: String| {
        Figure::unknown(
            &address,
            &protects,
            Mechanism::S3Replication,
            Scope::RegionLoss,
            src,
            why,
        )
    };
    let latency = match latency {
        Ok(points) => maximum(points),
        Err(e) => {
            return unknown(
                queries[0].source(window),
                format!("ReplicationLatency could not be read: {e}"),
            )
        }
    };
    let pending = match pending {
        Ok(points) => maximum(points),
        Err(e) => {
            return unknown(
                queries[1].source(window),
                format!("OperationsPendingReplication could not be read: {e}"),
            )
        }
    };
    match (latency, pending) {
        (Some((secs, at)), pending) => Figure::measured(
            &address,
            &protects,
            Mechanism::S3Replication,
            Scope::RegionLoss,
            secs,
            at,
            match pending {
                Some((ops, _)) => format!(
                    "{}; OperationsPendingReplication Maximum {ops}",
                    queries[0].source(window)
                ),
                None => queries[0].source(window),
            },
        ),
        (None, Some((0.0, at))) => Figure::measured(
            &address,
            &protects,
            Mechanism::S3Replication,
            Scope::RegionLoss,
            0.0,
            at,
            format!(
                "{} (nothing pending; no ReplicationLatency data points)",
                queries[1].source(window)
            ),
        ),
        (None, Some((ops, _))) => unknown(
            queries[1].source(window),
            format!(
                "{ops} operations pending replication and no ReplicationLatency data points in the last {w}: replication may be stuck"
            ),
        ),
        (None, None) => unknown(
            queries[0].source(window),
            format!(
                "no ReplicationLatency or OperationsPendingReplication data points in the last {w}; not counted as zero"
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn rule(metrics: bool) -> Rule {
        Rule {
            id: "drkit".into(),
            destination: "b-dr".into(),
            enabled: true,
            metrics,
        }
    }

    fn fig(latency: Result<Points, String>, pending: Result<Points, String>) -> Figure {
        let r = rule(true);
        let q = queries("us-east-1", "b", &r);
        figure("b", &r, &q, Duration::from_secs(900), &latency, &pending)
    }

    fn at(min: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(min)
    }

    #[test]
    fn the_latency_is_the_figure_and_pending_operations_are_named() {
        let f = fig(
            Ok(vec![(at(1), 12.0), (at(2), 1300.0)]),
            Ok(vec![(at(2), 40.0)]),
        );
        assert_eq!(f.seconds, Some(1300.0));
        assert_eq!(f.address, "s3:b->b-dr");
        assert_eq!(
            f.source,
            "CloudWatch AWS/S3 ReplicationLatency Maximum over 15m (us-east-1); OperationsPendingReplication Maximum 40"
        );
    }

    #[test]
    fn nothing_pending_over_the_window_is_zero_and_says_why() {
        let f = fig(Ok(vec![]), Ok(vec![(at(1), 0.0), (at(2), 0.0)]));
        assert_eq!(f.seconds, Some(0.0));
        assert!(f.source.contains("nothing pending"));
    }

    #[test]
    fn pending_without_latency_is_unknown() {
        let f = fig(Ok(vec![]), Ok(vec![(at(2), 17.0)]));
        assert_eq!(f.seconds, None);
        assert!(f.unknown.unwrap().contains("17 operations pending"));
    }

    #[test]
    fn no_data_points_is_unknown() {
        let f = fig(Ok(vec![]), Ok(vec![]));
        assert_eq!(f.seconds, None);
        assert!(f.unknown.unwrap().contains("not counted as zero"));
    }

    #[test]
    fn without_rtc_it_is_not_measurable_and_says_so() {
        let f = unmeasurable("b", &rule(false)).unwrap();
        assert!(f
            .unknown
            .unwrap()
            .starts_with("not measurable without Replication Time Control"));
        assert!(unmeasurable("b", &rule(true)).is_none());
        let disabled = Rule {
            enabled: false,
            ..rule(true)
        };
        assert!(unmeasurable("b", &disabled)
            .unwrap()
            .unknown
            .unwrap()
            .contains("disabled"));
    }
}

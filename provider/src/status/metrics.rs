//! CloudWatch reads: every metric a policy needs in one region goes into one
//! `GetMetricData` call (up to 500 queries each, pages followed), the regions at once.
//!
//! Each query asks for the `Maximum` per minute over the window. An empty series is
//! returned as empty: the mechanism's module reports it as unknown, never as zero.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat, StatusCode};
use futures::future::join_all;
use time::OffsetDateTime;

use super::{read_failure, to_offset};
use crate::aws::AwsClients;
use crate::diagnostics::AwsError;

/// The statistic period: CloudWatch's standard resolution, and RTC's.
const PERIOD_SECONDS: i32 = 60;
/// Queries one `GetMetricData` call accepts.
const MAX_QUERIES_PER_CALL: usize = 500;

/// One metric to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetricQuery {
    /// The region whose CloudWatch holds the metric.
    pub region: String,
    /// `AWS/RDS`, `AWS/S3`.
    pub namespace: &'static str,
    /// `ReplicaLag`, `ReplicationLatency`, ...
    pub metric: &'static str,
    /// Dimension names and values.
    pub dimensions: Vec<(&'static str, String)>,
}

impl MetricQuery {
    /// Where a figure came from, for `resources[*].source`:
    /// `CloudWatch AWS/RDS ReplicaLag Maximum over 15m (us-west-2)`.
    pub fn source(&self, window: Duration) -> String {
        format!(
            "CloudWatch {} {} Maximum over {} ({})",
            self.namespace,
            self.metric,
            drlint::model::Duration::from_secs(window.as_secs()),
            self.region
        )
    }
}

/// The data points of one query, oldest first.
pub type Points = Vec<(OffsetDateTime, f64)>;

/// The highest value and when it was seen; `None` for an empty series.
pub fn maximum(points: &Points) -> Option<(f64, OffsetDateTime)> {
    points
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1).then(a.0.cmp(&b.0)))
        .map(|(t, v)| (v, t))
}

/// The newest data point; `None` for an empty series.
pub fn newest(points: &Points) -> Option<(f64, OffsetDateTime)> {
    points
        .iter()
        .copied()
        .max_by_key(|p| p.0)
        .map(|(t, v)| (v, t))
}

/// Reads every query, the Maximum per minute over `window` up to `now`. The answer for
/// `queries[i]` is at index `i`: its points, or why they could not be read.
pub async fn fetch(
    clients: &AwsClients,
    queries: &[MetricQuery],
    window: Duration,
    now: OffsetDateTime,
) -> Vec<Result<Points, String>> {
    let mut by_region: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for (i, q) in queries.iter().enumerate() {
        by_region.entry(q.region.as_str()).or_default().push(i);
    }
    let mut calls = Vec::new();
    for (region, indexes) in &by_region {
        for chunk in indexes.chunks(MAX_QUERIES_PER_CALL) {
            calls.push(async move {
                let client = clients.cloudwatch(region).await;
                let batch: Vec<&MetricQuery> = chunk.iter().map(|&i| &queries[i]).collect();
                let answer = fetch_batch(&client, &batch, window, now)
                    .await
                    .map_err(|e| read_failure("CloudWatch", region, clients.read_budget(), &e));
                (chunk, answer)
            });
        }
    }
    let mut out: Vec<Result<Points, String>> = vec![Ok(Vec::new()); queries.len()];
    for (chunk, answer) in join_all(calls).await {
        match answer {
            Ok(series) => {
                for (k, &i) in chunk.iter().enumerate() {
                    out[i] = series[k].clone();
                }
            }
            Err(e) => {
                for &i in chunk {
                    out[i] = Err(e.clone());
                }
            }
        }
    }
    out
}

fn query(id: String, q: &MetricQuery) -> MetricDataQuery {
    let metric = Metric::builder()
        .namespace(q.namespace)
        .metric_name(q.metric)
        .set_dimensions(Some(
            q.dimensions
                .iter()
                .map(|(k, v)| Dimension::builder().name(*k).value(v).build())
                .collect(),
        ))
        .build();
    MetricDataQuery::builder()
        .id(id)
        .metric_stat(
            MetricStat::builder()
                .metric(metric)
                .period(PERIOD_SECONDS)
                .stat("Maximum")
                .build(),
        )
        .return_data(true)
        .build()
}

/// One region's queries (at most 500): one call, pages followed.
async fn fetch_batch(
    client: &aws_sdk_cloudwatch::Client,
    batch: &[&MetricQuery],
    window: Duration,
    now: OffsetDateTime,
) -> Result<Vec<Result<Points, String>>, AwsError> {
    let end = aws_smithy_types::DateTime::from_secs(now.unix_timestamp());
    let start = aws_smithy_types::DateTime::from_secs(
        now.unix_timestamp() - i64::try_from(window.as_secs()).unwrap_or(i64::MAX / 2),
    );
    let mut out: Vec<Result<Points, String>> = vec![Ok(Vec::new()); batch.len()];
    let mut token: Option<String> = None;
    loop {
        let answer = client
            .get_metric_data()
            .start_time(start)
            .end_time(end)
            .set_metric_data_queries(Some(
                batch
                    .iter()
                    .enumerate()
                    .map(|(i, q)| query(format!("m{i}"), q))
                    .collect(),
            ))
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetMetricData", e))?;
        for result in answer.metric_data_results() {
            let Some(i) = result
                .id()
                .and_then(|id| id.strip_prefix('m'))
                .and_then(|n| n.parse::<usize>().ok())
                .filter(|&i| i < batch.len())
            else {
                continue;
            };
            let Ok(points) = &mut out[i] else { continue };
            points.extend(
                result
                    .timestamps()
                    .iter()
                    .zip(result.values())
                    .filter_map(|(t, v)| to_offset(t).map(|t| (t, *v))),
            );
            if matches!(
                result.status_code(),
                Some(StatusCode::InternalError | StatusCode::Forbidden)
            ) {
                let why = result
                    .messages()
                    .iter()
                    .filter_map(|m| m.value())
                    .collect::<Vec<_>>()
                    .join("; ");
                out[i] = Err(format!(
                    "GetMetricData answered {} for {}: {why}",
                    result.status_code().map(|s| s.as_str()).unwrap_or_default(),
                    batch[i].metric
                ));
            }
        }
        match answer.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    for series in out.iter_mut().flatten() {
        series.sort_by_key(|p| p.0);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(min)
    }

    #[test]
    fn the_maximum_and_the_newest_point_of_a_series() {
        let points = vec![(at(1), 5.0), (at(2), 40.0), (at(3), 2.0)];
        assert_eq!(maximum(&points), Some((40.0, at(2))));
        assert_eq!(newest(&points), Some((2.0, at(3))));
        assert_eq!(maximum(&Vec::new()), None, "no data points is no figure");
    }

    #[test]
    fn the_source_names_metric_statistic_window_and_region() {
        let q = MetricQuery {
            region: "us-west-2".into(),
            namespace: "AWS/RDS",
            metric: "ReplicaLag",
            dimensions: vec![("DBInstanceIdentifier", "db-dr".into())],
        };
        assert_eq!(
            q.source(Duration::from_secs(900)),
            "CloudWatch AWS/RDS ReplicaLag Maximum over 15m (us-west-2)"
        );
    }
}

//! A read replica's lag: CloudWatch `ReplicaLag` of the replica (in the replica's region),
//! the Maximum over the window. RDS reports `-1` while the replica is not replicating.

use std::time::Duration;

use super::metrics::{maximum, newest, MetricQuery, Points};
use super::{Figure, Mechanism, Scope};

/// The `ReplicaLag` query of replica `identifier` in `region`.
pub fn query(region: &str, identifier: &str) -> MetricQuery {
    MetricQuery {
        region: region.to_string(),
        namespace: "AWS/RDS",
        metric: "ReplicaLag",
        dimensions: vec![("DBInstanceIdentifier", identifier.to_string())],
    }
}

/// The figure of a replica from its `ReplicaLag` series (seconds).
pub fn figure(
    address: &str,
    protects: &str,
    scope: Scope,
    q: &MetricQuery,
    window: Duration,
    series: &Result<Points, String>,
) -> Figure {
    let source = q.source(window);
    let unknown = |why: String| {
        Figure::unknown(
            address,
            protects,
            Mechanism::RdsReadReplica,
            scope,
            source.clone(),
            why,
        )
    };
    let points = match series {
        Ok(points) => points,
        Err(e) => return unknown(format!("ReplicaLag could not be read: {e}")),
    };
    match (newest(points), maximum(points)) {
        (Some((last, at)), _) if last < 0.0 => unknown(format!(
            "ReplicaLag was {last} at {}: RDS reports -1 when the replica is not replicating",
            super::rfc3339(at)
        )),
        (_, Some((max, at))) => Figure::measured(
            address,
            protects,
            Mechanism::RdsReadReplica,
            scope,
            max,
            at,
            source,
        ),
        _ => unknown(format!(
            "no ReplicaLag data points in the last {} (a stopped or new replica publishes none); not counted as zero",
            drlint::model::Duration::from_secs(window.as_secs())
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::OffsetDateTime;

    fn at(min: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::minutes(min)
    }

    fn fig(series: Result<Points, String>) -> Figure {
        let q = query("us-west-2", "db-dr");
        figure(
            "rds:us-west-2:db-dr",
            "rds:us-east-1:db",
            Scope::RegionLoss,
            &q,
            Duration::from_secs(900),
            &series,
        )
    }

    #[test]
    fn the_lag_is_the_maximum_over_the_window() {
        let f = fig(Ok(vec![(at(1), 3.0), (at(2), 2400.0), (at(3), 1.0)]));
        assert_eq!(f.seconds, Some(2400.0));
        assert_eq!(f.measured_at, Some(at(2)));
        assert_eq!(
            f.source,
            "CloudWatch AWS/RDS ReplicaLag Maximum over 15m (us-west-2)"
        );
    }

    #[test]
    fn no_data_points_is_unknown_not_zero() {
        let f = fig(Ok(vec![]));
        assert_eq!(f.seconds, None);
        assert!(f
            .unknown
            .unwrap()
            .starts_with("no ReplicaLag data points in the last 15m"));
    }

    #[test]
    fn a_replica_that_stopped_replicating_is_unknown() {
        let f = fig(Ok(vec![(at(1), 5.0), (at(2), -1.0)]));
        assert_eq!(f.seconds, None);
        assert!(f.unknown.unwrap().contains("not replicating"));
    }

    #[test]
    fn a_failed_read_is_unknown_with_the_error() {
        let f = fig(Err("GetMetricData failed: Throttling".into()));
        assert_eq!(f.seconds, None);
        assert!(f.unknown.unwrap().contains("Throttling"));
    }
}

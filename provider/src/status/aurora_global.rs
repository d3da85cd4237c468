//! An Aurora Global Database secondary: CloudWatch `AuroraGlobalDBRPOLag` of the secondary
//! cluster (in its region), in milliseconds, the Maximum over the window. The secondaries
//! are the other members of the cluster's global database (`DescribeGlobalClusters`).

use std::time::Duration;

use aws_sdk_rds::Client;

use super::metrics::{maximum, MetricQuery, Points};
use super::{Figure, Mechanism, Scope};
use crate::diagnostics::{aws, AwsError};

/// The `AuroraGlobalDBRPOLag` query of secondary cluster `identifier` in `region`.
pub fn query(region: &str, identifier: &str) -> MetricQuery {
    MetricQuery {
        region: region.to_string(),
        namespace: "AWS/RDS",
        metric: "AuroraGlobalDBRPOLag",
        dimensions: vec![("DBClusterIdentifier", identifier.to_string())],
    }
}

/// The figure of a global secondary from its `AuroraGlobalDBRPOLag` series (milliseconds).
pub fn figure(
    address: &str,
    protects: &str,
    q: &MetricQuery,
    window: Duration,
    series: &Result<Points, String>,
) -> Figure {
    let source = q.source(window);
    match series.as_ref().map(maximum) {
        Ok(Some((ms, at))) => Figure::measured(
            address,
            protects,
            Mechanism::AuroraGlobal,
            Scope::RegionLoss,
            ms / 1000.0,
            at,
            source,
        ),
        Ok(None) => Figure::unknown(
            address,
            protects,
            Mechanism::AuroraGlobal,
            Scope::RegionLoss,
            source,
            format!(
                "no AuroraGlobalDBRPOLag data points in the last {}; not counted as zero",
                drlint::model::Duration::from_secs(window.as_secs())
            ),
        ),
        Err(e) => Figure::unknown(
            address,
            protects,
            Mechanism::AuroraGlobal,
            Scope::RegionLoss,
            source,
            format!("AuroraGlobalDBRPOLag could not be read: {e}"),
        ),
    }
}

/// The secondary clusters (ARNs) of the global database whose writer is `primary_arn`;
/// empty when the cluster is not the writer of a global database.
pub async fn secondaries(client: &Client, primary_arn: &str) -> Result<Vec<String>, AwsError> {
    let mut out = Vec::new();
    let mut pages = client.describe_global_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(aws("DescribeGlobalClusters"))?;
        for global in page.global_clusters() {
            out.extend(secondaries_of(global.global_cluster_members(), primary_arn));
        }
    }
    Ok(out)
}

/// Pure part of [`secondaries`]: the other members of the global database `primary_arn`
/// belongs to. (Members are not filtered on `IsWriter`: moto reports every member as a
/// reader, and after a managed failover the policy's cluster may be the reader itself, in
/// which case the writer publishes no `AuroraGlobalDBRPOLag` and the figure is unknown.)
pub fn secondaries_of(
    members: &[aws_sdk_rds::types::GlobalClusterMember],
    primary_arn: &str,
) -> Vec<String> {
    if !members
        .iter()
        .any(|m| m.db_cluster_arn() == Some(primary_arn))
    {
        return Vec::new();
    }
    members
        .iter()
        .filter_map(|m| m.db_cluster_arn())
        .filter(|arn| *arn != primary_arn)
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::types::GlobalClusterMember;
    use time::OffsetDateTime;

    #[test]
    fn the_rpo_lag_is_reported_in_milliseconds() {
        let q = query("us-west-2", "orders-dr");
        let at = OffsetDateTime::UNIX_EPOCH;
        let f = figure(
            "rds:us-west-2:orders-dr",
            "rds:us-east-1:orders",
            &q,
            Duration::from_secs(900),
            &Ok(vec![(at, 1500.0), (at, 90_000.0)]),
        );
        assert_eq!(f.seconds, Some(90.0));
        assert_eq!(f.mechanism, Mechanism::AuroraGlobal);
        let none = figure("a", "b", &q, Duration::from_secs(900), &Ok(vec![]));
        assert_eq!(none.seconds, None);
        assert!(none
            .unknown
            .unwrap()
            .contains("no AuroraGlobalDBRPOLag data points"));
    }

    #[test]
    fn secondaries_are_the_other_members_of_the_primarys_global_cluster() {
        let member = |arn: &str, writer: bool| {
            GlobalClusterMember::builder()
                .db_cluster_arn(arn)
                .is_writer(writer)
                .build()
        };
        let members = vec![
            member("arn:aws:rds:us-east-1:1:cluster:orders", true),
            member("arn:aws:rds:us-west-2:1:cluster:orders-dr", false),
        ];
        assert_eq!(
            secondaries_of(&members, "arn:aws:rds:us-east-1:1:cluster:orders"),
            vec!["arn:aws:rds:us-west-2:1:cluster:orders-dr"]
        );
        assert!(secondaries_of(&members, "arn:aws:rds:us-east-1:1:cluster:other").is_empty());
    }
}

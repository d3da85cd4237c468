//! The live RPO of a policy's resources: how much data a disaster would cost right now.
//!
//! Data flows one way: [`discover`] finds the policy's resources by their `drkit:policy`
//! tag -> each mechanism's module turns what AWS reports into a [`Figure`] (the age of the
//! last recoverable point, or unknown with the reason) -> [`assess`] judges the figures
//! against the policy's RPO. The reads go out at once, bounded ([`measure`]); CloudWatch
//! queries of one region share one `GetMetricData` call ([`metrics`]).
//!
//! One module per mechanism, each with its pure computation beside its AWS call:
//! [`rds_pitr`] (`LatestRestorableTime`), [`read_replica`] (`ReplicaLag`),
//! [`replicated_backups`] (the DR region's restore window), [`aurora_global`]
//! (`AuroraGlobalDBRPOLag`), [`s3_replication`] (RTC's `ReplicationLatency` and
//! `OperationsPendingReplication`), [`wal_archive`] (a PostgreSQL WAL archive's newest
//! segment), [`binlog_archive`] (a MySQL binlog archive's newest file); each archive is listed
//! once ([`archive_listing`]) for its figure and its preflight check. No figure is invented:
//! missing data is unknown, never zero.

pub mod archive_listing;
pub mod assess;
pub mod aurora_global;
pub mod binlog_archive;
pub mod discover;
pub mod drills;
pub mod evidence;
pub mod measure;
pub mod metrics;
pub mod preflight;
pub mod rds_pitr;
pub mod read_replica;
pub mod replicated_backups;
pub mod s3_replication;
pub mod wal_archive;

use time::OffsetDateTime;

pub use assess::{assess, Assessment};
pub use measure::{measure, Inputs, Measurement};

/// Default CloudWatch window: the maximum over the last 15 minutes.
pub const DEFAULT_WINDOW: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// How a copy keeps a recoverable point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mechanism {
    /// RDS automated backups in the instance's own region: `LatestRestorableTime`.
    RdsPitr,
    /// A read replica: CloudWatch `ReplicaLag`.
    RdsReadReplica,
    /// Automated backups replicated to another region: the restore window's latest time.
    RdsReplicatedBackups,
    /// Aurora automated backups in the cluster's own region: `LatestRestorableTime`.
    AuroraPitr,
    /// An Aurora Global Database secondary: CloudWatch `AuroraGlobalDBRPOLag`.
    AuroraGlobal,
    /// S3 replication: RTC's `ReplicationLatency` and `OperationsPendingReplication`.
    S3Replication,
    /// A PostgreSQL WAL archive in S3: the newest segment's age.
    PostgresWalArchive,
    /// A MySQL/MariaDB binlog archive in S3: the newest file's age.
    MysqlBinlogArchive,
    /// Nothing outside the resource's region: a region loss loses it.
    NoCrossRegionCopy,
}

impl Mechanism {
    /// The name in `resources[*].mechanism`.
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::RdsPitr => "rds_pitr",
            Mechanism::RdsReadReplica => "rds_read_replica",
            Mechanism::RdsReplicatedBackups => "rds_replicated_backups",
            Mechanism::AuroraPitr => "aurora_pitr",
            Mechanism::AuroraGlobal => "aurora_global",
            Mechanism::S3Replication => "s3_replication",
            Mechanism::PostgresWalArchive => "postgres_wal_archive",
            Mechanism::MysqlBinlogArchive => "mysql_binlog_archive",
            Mechanism::NoCrossRegionCopy => "none",
        }
    }

    /// How a pager line names a copy of this kind.
    pub fn noun(self) -> &'static str {
        match self {
            Mechanism::RdsPitr | Mechanism::AuroraPitr => "in-region backups",
            Mechanism::RdsReadReplica => "replica",
            Mechanism::RdsReplicatedBackups => "replicated backups",
            Mechanism::AuroraGlobal => "global secondary",
            Mechanism::S3Replication => "replication",
            Mechanism::PostgresWalArchive => "WAL archive",
            Mechanism::MysqlBinlogArchive => "binlog archive",
            Mechanism::NoCrossRegionCopy => "no copy",
        }
    }
}

/// Which disaster a figure is the loss for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// The loss of the primary region: what `rpo_seconds` and `rpo_met` are about.
    RegionLoss,
    /// A mistake or the loss of the instance, recovered inside the region (point-in-time
    /// restore): reported, and summarised in `mistake_rpo_seconds`.
    InRegion,
}

impl Scope {
    /// The name in `resources[*].scope`.
    pub fn name(self) -> &'static str {
        match self {
            Scope::RegionLoss => "region_loss",
            Scope::InRegion => "in_region",
        }
    }
}

/// One measured (or unmeasurable) recovery point.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// The copy measured: `rds:us-west-2:orders-db-dr`, `s3:orders-backups->orders-backups-dr`.
    pub address: String,
    /// The policy's resource it protects: `rds:us-east-1:orders-db`, `s3:orders-backups`.
    pub protects: String,
    /// How the copy keeps its recoverable point.
    pub mechanism: Mechanism,
    /// Which disaster the figure is for.
    pub scope: Scope,
    /// Seconds of data a disaster would lose now; `None` when unknown.
    pub seconds: Option<f64>,
    /// When the figure was true: the newest data point, or the time of the read.
    pub measured_at: Option<OffsetDateTime>,
    /// Where the figure comes from: the API field or the metric, statistic and window.
    pub source: String,
    /// Why the figure is unknown (set exactly when `seconds` is `None`).
    pub unknown: Option<String>,
}

impl Figure {
    /// A measured figure.
    pub fn measured(
        address: impl Into<String>,
        protects: impl Into<String>,
        mechanism: Mechanism,
        scope: Scope,
        seconds: f64,
        measured_at: OffsetDateTime,
        source: impl Into<String>,
    ) -> Figure {
        Figure {
            address: address.into(),
            protects: protects.into(),
            mechanism,
            scope,
            seconds: Some(seconds.max(0.0)),
            measured_at: Some(measured_at),
            source: source.into(),
            unknown: None,
        }
    }

    /// A figure that could not be measured, and why.
    pub fn unknown(
        address: impl Into<String>,
        protects: impl Into<String>,
        mechanism: Mechanism,
        scope: Scope,
        source: impl Into<String>,
        why: impl Into<String>,
    ) -> Figure {
        Figure {
            address: address.into(),
            protects: protects.into(),
            mechanism,
            scope,
            seconds: None,
            measured_at: None,
            source: source.into(),
            unknown: Some(why.into()),
        }
    }
}

/// The address of an RDS instance or cluster in figures.
pub fn rds_address(region: &str, identifier: &str) -> String {
    format!("rds:{region}:{identifier}")
}

/// A smithy timestamp as a `time` date-time.
pub fn to_offset(t: &aws_smithy_types::DateTime) -> Option<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(t.secs())
        .ok()
        .map(|d| d + time::Duration::nanoseconds(i64::from(t.subsec_nanos())))
}

/// Seconds from `then` to `now`, never negative (clocks differ by a little).
pub fn age(now: OffsetDateTime, then: OffsetDateTime) -> f64 {
    ((now - then).as_seconds_f64()).max(0.0)
}

/// A duration as people read it: `42s`, `14m 5s`, `2h 3m`, `3d 4h`.
pub fn human(seconds: f64) -> String {
    let s = seconds.round().max(0.0) as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 if s % 60 == 0 => format!("{}m", s / 60),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, (s % 3600) / 60),
        _ => format!("{}d {}h", s / 86_400, (s % 86_400) / 3600),
    }
}

/// Why an optional read failed, as an unknown says it. A network failure (no route, refused,
/// no answer within the budget) names the service, the region and the budget first,
/// `CloudWatch not reachable in 10s (us-west-2): ...`, since that is what the reader fixes.
pub fn read_failure(
    service: &str,
    region: &str,
    budget: std::time::Duration,
    e: &crate::diagnostics::AwsError,
) -> String {
    if e.kind == crate::diagnostics::ErrorKind::Network {
        format!(
            "{service} not reachable in {} ({region}): {e}",
            human(budget.as_secs_f64())
        )
    } else {
        e.to_string()
    }
}

/// RFC 3339 of a time, for `measured_at`.
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_a_pager_line() {
        assert_eq!(human(0.4), "0s");
        assert_eq!(human(42.0), "42s");
        assert_eq!(human(900.0), "15m");
        assert_eq!(human(2405.0), "40m 5s");
        assert_eq!(human(7300.0), "2h 1m");
        assert_eq!(human(3.0 * 86_400.0 + 4.0 * 3600.0), "3d 4h");
    }

    #[test]
    fn a_network_failure_names_the_service_and_the_budget() {
        use crate::diagnostics::{AwsError, ErrorKind};
        let mut e = AwsError::new("GetMetricData", "X", "connection refused");
        e.kind = ErrorKind::Network;
        e.code = None;
        assert_eq!(
            read_failure(
                "CloudWatch",
                "us-west-2",
                std::time::Duration::from_secs(10),
                &e
            ),
            "CloudWatch not reachable in 10s (us-west-2): GetMetricData failed: connection refused"
        );
        let throttled = AwsError::new("GetMetricData", "Throttling", "slow down");
        assert_eq!(
            read_failure(
                "CloudWatch",
                "us-west-2",
                std::time::Duration::from_secs(10),
                &throttled
            ),
            "GetMetricData failed: Throttling: slow down"
        );
    }

    #[test]
    fn a_measured_figure_is_never_negative() {
        let f = Figure::measured(
            "a",
            "b",
            Mechanism::RdsPitr,
            Scope::InRegion,
            -2.0,
            OffsetDateTime::UNIX_EPOCH,
            "x",
        );
        assert_eq!(f.seconds, Some(0.0));
    }
}

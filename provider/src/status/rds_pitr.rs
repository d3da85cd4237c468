//! In-region point-in-time restore of an RDS instance or Aurora cluster: the data a
//! mistake (or the instance's loss) would cost is `now - LatestRestorableTime`.

use time::OffsetDateTime;

use super::{age, Figure, Mechanism, Scope};

/// The in-region figure from what `DescribeDBInstances`/`DescribeDBClusters` reported.
pub fn figure(
    address: &str,
    mechanism: Mechanism,
    retention_days: i32,
    latest_restorable: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Figure {
    let source = "LatestRestorableTime";
    match latest_restorable {
        Some(t) => Figure::measured(
            address,
            address,
            mechanism,
            Scope::InRegion,
            age(now, t),
            now,
            source,
        ),
        None if retention_days == 0 => Figure::unknown(
            address,
            address,
            mechanism,
            Scope::InRegion,
            source,
            "automated backups are off (retention 0): no point-in-time restore",
        ),
        None => Figure::unknown(
            address,
            address,
            mechanism,
            Scope::InRegion,
            source,
            "RDS reports no LatestRestorableTime yet (a new instance before its first backup)",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_age_of_the_latest_restorable_time() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::hours(1);
        let f = figure(
            "rds:us-east-1:db",
            Mechanism::RdsPitr,
            7,
            Some(now - time::Duration::seconds(290)),
            now,
        );
        assert_eq!(f.seconds, Some(290.0));
        assert_eq!(f.scope, Scope::InRegion);
        let stale = figure(
            "rds:us-east-1:db",
            Mechanism::RdsPitr,
            7,
            Some(now - time::Duration::hours(3)),
            now,
        );
        assert_eq!(
            stale.seconds,
            Some(10_800.0),
            "beyond any RPO: reported as is"
        );
    }

    #[test]
    fn backups_off_is_unknown_with_the_reason() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let f = figure("rds:us-east-1:db", Mechanism::RdsPitr, 0, None, now);
        assert_eq!(f.seconds, None);
        assert!(f.unknown.unwrap().contains("retention 0"));
    }
}

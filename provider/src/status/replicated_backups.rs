//! Automated backups replicated to another region: a region loss costs
//! `now -` the restore window's latest time, read in the DR region
//! (`DescribeDBInstanceAutomatedBackups` of the replication's ARN).

use aws_sdk_rds::Client;
use time::OffsetDateTime;

use super::{age, to_offset, Figure, Mechanism, Scope};
use crate::diagnostics::{aws, AwsError};

/// What the DR region reports for replicated backups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestoreWindow {
    /// `RestoreWindow.LatestTime`.
    pub latest: Option<OffsetDateTime>,
    /// The replicated backups exist in the DR region.
    pub found: bool,
}

/// Reads the restore window of the replicated backups `arn` (a client of their region).
pub async fn read(client: &Client, arn: &str) -> Result<RestoreWindow, AwsError> {
    let out = match client
        .describe_db_instance_automated_backups()
        .db_instance_automated_backups_arn(arn)
        .send()
        .await
        .map_err(aws("DescribeDBInstanceAutomatedBackups"))
    {
        Ok(out) => out,
        Err(e) if e.is_not_found() => {
            return Ok(RestoreWindow {
                latest: None,
                found: false,
            })
        }
        Err(e) => return Err(e),
    };
    let backup = out.db_instance_automated_backups().first();
    Ok(RestoreWindow {
        latest: backup
            .and_then(|b| b.restore_window())
            .and_then(|w| w.latest_time())
            .and_then(to_offset),
        found: backup.is_some(),
    })
}

/// The figure of replicated backups from their restore window.
pub fn figure(
    address: &str,
    protects: &str,
    window: Result<RestoreWindow, AwsError>,
    now: OffsetDateTime,
) -> Figure {
    let source = "DescribeDBInstanceAutomatedBackups RestoreWindow.LatestTime";
    let unknown = |why: String| {
        Figure::unknown(
            address,
            protects,
            Mechanism::RdsReplicatedBackups,
            Scope::RegionLoss,
            source,
            why,
        )
    };
    match window {
        Ok(RestoreWindow {
            latest: Some(t), ..
        }) => Figure::measured(
            address,
            protects,
            Mechanism::RdsReplicatedBackups,
            Scope::RegionLoss,
            age(now, t),
            now,
            source,
        ),
        Ok(RestoreWindow { found: false, .. }) => unknown(
            "the replicated automated backups are not in the DR region (replication stopped or never started)".into(),
        ),
        Ok(_) => unknown("the DR region reports no restore window for the replicated backups yet".into()),
        Err(e) => unknown(format!("could not be read: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_age_of_the_dr_regions_latest_restorable_time() {
        let now = OffsetDateTime::UNIX_EPOCH + time::Duration::days(1);
        let window = |secs: i64| {
            Ok(RestoreWindow {
                latest: Some(now - time::Duration::seconds(secs)),
                found: true,
            })
        };
        assert_eq!(figure("a", "b", window(420), now).seconds, Some(420.0));
        // Replication that stopped a day ago: the figure says so.
        assert_eq!(
            figure("a", "b", window(86_400), now).seconds,
            Some(86_400.0)
        );
    }

    #[test]
    fn missing_backups_and_missing_windows_are_unknown() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let gone = figure(
            "a",
            "b",
            Ok(RestoreWindow {
                latest: None,
                found: false,
            }),
            now,
        );
        assert!(gone.unknown.unwrap().contains("not in the DR region"));
        let empty = figure(
            "a",
            "b",
            Ok(RestoreWindow {
                latest: None,
                found: true,
            }),
            now,
        );
        assert!(empty.unknown.unwrap().contains("no restore window"));
        let failed = figure(
            "a",
            "b",
            Err(AwsError::new(
                "DescribeDBInstanceAutomatedBackups",
                "Throttling",
                "Rate exceeded",
            )),
            now,
        );
        assert!(failed.unknown.unwrap().contains("Rate exceeded"));
    }
}

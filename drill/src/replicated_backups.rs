//! The automated backups of a source instance replicated into the DR region (cross-region
//! automated-backup replication): what a region-loss restore starts from.

use time::OffsetDateTime;

/// A replicated automated backup found in the restore region.
#[derive(Debug, Clone)]
pub(crate) struct Replicated {
    /// `arn:aws:rds:<dr-region>:<account>:auto-backup:ab-…`, for
    /// `SourceDBInstanceAutomatedBackupsArn`.
    pub arn: String,
    /// Start of the restore window.
    pub earliest: Option<OffsetDateTime>,
    /// End of the restore window: the newest point the DR region can restore.
    pub latest: Option<OffsetDateTime>,
}

/// Finds the backups of `source_arn` (instance `source_id`) replicated into the region of
/// `rds`.
pub(crate) async fn find(
    rds: &aws_sdk_rds::Client,
    source_arn: &str,
    source_id: &str,
) -> Result<Replicated, String> {
    let region = rds
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default();
    let mut pages = rds
        .describe_db_instance_automated_backups()
        .into_paginator()
        .send();
    let mut found = None;
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            format!(
                "DescribeDBInstanceAutomatedBackups in {region}: {}",
                aws_sdk_rds::error::DisplayErrorContext(&e)
            )
        })?;
        for b in page.db_instance_automated_backups() {
            let ours = (!source_arn.is_empty() && b.db_instance_arn() == Some(source_arn))
                || b.db_instance_identifier() == Some(source_id);
            // A backup of another region's instance, in this region: a replicated one.
            if ours && b.status() != Some("pending") {
                if let Some(arn) = b.db_instance_automated_backups_arn() {
                    let window = b.restore_window();
                    found = Some(Replicated {
                        arn: arn.to_string(),
                        earliest: window.and_then(|w| w.earliest_time()).map(to_time),
                        latest: window.and_then(|w| w.latest_time()).map(to_time),
                    });
                }
            }
        }
    }
    found.ok_or_else(|| {
        format!(
            "no automated backups of {source_id} are replicated into {region}: turn on cross-region backup replication (the policy's cross_region_backups block, or StartDBInstanceAutomatedBackupsReplication) and wait for its first backup"
        )
    })
}

fn to_time(t: &aws_sdk_rds::primitives::DateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.secs()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

//! `rds` drills: restore the source instance to a point in time (or its newest snapshot)
//! into a temporary instance, in the DR region when asked, wait until it is available,
//! verify, and delete it without a final snapshot.

use time::OffsetDateTime;

use crate::rds_create::{no_sdk_retries, Creates};
use crate::rds_placement::{confirm, in_network, Placed};
use crate::rds_temporary::{
    aws_error, chosen_point, copy_tags, endpoint_of, is_leftover, newest_snapshot,
    note_retention_shortfall, record_point, tear_down, temp_identifier, to_time, verify_copy,
    wait_instance_available, TempCopy,
};
use crate::report::rfc3339;
use crate::{CancellationToken, Clients, DrillReport, DrillSpec, RdsSource, RestoreTime};

pub(crate) async fn run(
    spec: &DrillSpec,
    src: &RdsSource,
    clients: &dyn Clients,
    cancel: &CancellationToken,
    report: &mut DrillReport,
) -> Result<(), String> {
    let region = src
        .restore_region
        .clone()
        .unwrap_or_else(|| src.source_region.clone());
    let rds = clients.rds(&region);
    let temp = temp_identifier(&spec.run_id);
    let mut copy = TempCopy::new(&rds, &temp, cancel, spec.timeout);
    let result = body(spec, src, clients, &mut copy, report).await;
    let what = format!("temporary instance {temp} in {region}");
    tear_down(report, copy.created, what, delete(&rds, &temp)).await;
    result
}

async fn body(
    spec: &DrillSpec,
    src: &RdsSource,
    clients: &dyn Clients,
    copy: &mut TempCopy<'_>,
    report: &mut DrillReport,
) -> Result<(), String> {
    let (rds, temp) = (copy.rds, copy.id);
    report.phase("fetch");
    let source_rds = clients.rds(&src.source_region);
    let described = copy
        .guard("describing the source", async {
            source_rds
                .describe_db_instances()
                .db_instance_identifier(&src.instance_identifier)
                .send()
                .await
                .map_err(|e| aws_error("DescribeDBInstances", e))
        })
        .await?;
    let source = described
        .db_instances()
        .first()
        .ok_or_else(|| {
            format!(
                "no RDS instance {} in {}",
                src.instance_identifier, src.source_region
            )
        })?
        .clone();
    let source_arn = source.db_instance_arn().unwrap_or_default().to_string();
    let class = src
        .instance_class
        .clone()
        .or_else(|| source.db_instance_class().map(str::to_string))
        .unwrap_or_else(|| "db.t3.micro".into());
    let tags = copy_tags(spec, &src.instance_identifier);
    let now = OffsetDateTime::now_utc();
    let earliest = source.instance_create_time().map(to_time);
    note_retention_shortfall(
        report,
        src.promised_retention_days,
        earliest,
        now,
        "instance",
    );
    let placement = &src.placement;

    report.phase("restore");
    let point = match &src.restore_time {
        RestoreTime::Snapshot => {
            let snaps = copy
                .guard("finding the newest snapshot", async {
                    rds.describe_db_snapshots()
                        .db_instance_identifier(&src.instance_identifier)
                        .send()
                        .await
                        .map_err(|e| aws_error("DescribeDBSnapshots", e))
                })
                .await?;
            let newest = newest_snapshot(
                snaps.db_snapshots(),
                |s| s.status(),
                |s| s.snapshot_create_time(),
            )
            .ok_or_else(|| format!("no snapshot of {} to restore", src.instance_identifier))?;
            let snap_id = newest
                .db_snapshot_identifier()
                .unwrap_or_default()
                .to_string();
            let at = newest.snapshot_create_time().map(to_time).unwrap_or(now);
            let req = in_network!(
                rds.restore_db_instance_from_db_snapshot()
                    .db_instance_identifier(temp)
                    .db_snapshot_identifier(&snap_id)
                    .db_instance_class(&class)
                    .set_db_parameter_group_name(placement.parameter_group_name.clone())
                    .set_tags(Some(tags.clone()))
                    .deletion_protection(false)
                    .publicly_accessible(false),
                placement
            );
            copy.create(
                Creates::Instance,
                temp,
                "the snapshot restore",
                "RestoreDBInstanceFromDBSnapshot",
                || {
                    req.clone()
                        .customize()
                        .config_override(no_sdk_retries())
                        .send()
                },
            )
            .await?;
            report.restored_from = Some(format!("snapshot {snap_id}"));
            at
        }
        time_choice => {
            let cross_region = src.from_replicated_backups
                || src
                    .restore_region
                    .as_deref()
                    .is_some_and(|r| r != src.source_region);
            // In the DR region the restore starts from the replicated automated backups:
            // their ARN, and their restore window (minutes behind the source's).
            let replicated = if cross_region {
                Some(
                    copy.guard(
                        "finding the replicated backups",
                        crate::replicated_backups::find(rds, &source_arn, &src.instance_identifier),
                    )
                    .await?,
                )
            } else {
                None
            };
            let (window_start, window_end) = match &replicated {
                Some(r) => (r.earliest.or(earliest), r.latest.unwrap_or(now)),
                None => (earliest, now),
            };
            let point = chosen_point(time_choice, window_start, window_end);
            let mut req = in_network!(
                rds.restore_db_instance_to_point_in_time()
                    .target_db_instance_identifier(temp)
                    .db_instance_class(&class)
                    .set_db_parameter_group_name(placement.parameter_group_name.clone())
                    .set_tags(Some(tags.clone()))
                    .deletion_protection(false)
                    .publicly_accessible(false),
                placement
            );
            req = match &replicated {
                Some(r) => req.source_db_instance_automated_backups_arn(&r.arn),
                None => req.source_db_instance_identifier(&src.instance_identifier),
            };
            req = match point {
                Some(t) => req.restore_time(aws_sdk_rds::primitives::DateTime::from_secs(
                    t.unix_timestamp(),
                )),
                None => req.use_latest_restorable_time(true),
            };
            copy.create(
                Creates::Instance,
                temp,
                "the point-in-time restore",
                "RestoreDBInstanceToPointInTime",
                || {
                    req.clone()
                        .customize()
                        .config_override(no_sdk_retries())
                        .send()
                },
            )
            .await?;
            let latest = match &replicated {
                Some(r) => r.latest,
                None => source.latest_restorable_time().map(to_time),
            };
            let at = point.or(latest).unwrap_or(now);
            report.restored_from = Some(match &replicated {
                Some(r) => format!(
                    "point-in-time restore of {} from the backups replicated into {} ({}) to {}",
                    src.instance_identifier,
                    src.restore_region.as_deref().unwrap_or(&src.source_region),
                    r.arn,
                    rfc3339(at)
                ),
                None => format!(
                    "point-in-time restore of {} to {}",
                    src.instance_identifier,
                    rfc3339(at)
                ),
            });
            at
        }
    };
    record_point(report, point);
    let restored = copy
        .guard(
            "waiting for the restored instance",
            wait_instance_available(rds, temp, "the restored instance"),
        )
        .await?;
    confirm(
        placement,
        &Placed::of_instance(&restored),
        &format!("the restored instance {temp}"),
        report,
    )?;

    report.phase("verify");
    verify_copy(
        spec,
        &src.restore_time,
        point,
        endpoint_of(&restored),
        restored.engine(),
        "instance",
        copy,
        report,
    )
    .await
}

/// Deletes a temporary instance: no final snapshot, and its own automated backups go too.
/// `Ok(false)`: there was no such instance.
///
/// The restore asks for no deletion protection, but a copy can still carry it (an emulator
/// copying the source's flag, a policy tagging the instance meanwhile): then it is turned
/// off and the delete tried again, since a temporary copy must never outlive its drill.
async fn delete(rds: &aws_sdk_rds::Client, id: &str) -> Result<bool, String> {
    match send_delete(rds, id).await {
        Err(e) if format!("{e:?}").contains("deletion protection") => {
            tracing::info!(
                instance = id,
                "turning off deletion protection of a drill's copy"
            );
            rds.modify_db_instance()
                .db_instance_identifier(id)
                .deletion_protection(false)
                .apply_immediately(true)
                .send()
                .await
                .map_err(|e| aws_error("ModifyDBInstance", e))?;
            send_delete(rds, id)
                .await
                .map_err(|e| aws_error("DeleteDBInstance", e))
        }
        other => other.map_err(|e| aws_error("DeleteDBInstance", e)),
    }
}

async fn send_delete(
    rds: &aws_sdk_rds::Client,
    id: &str,
) -> Result<
    bool,
    aws_sdk_rds::error::SdkError<aws_sdk_rds::operation::delete_db_instance::DeleteDBInstanceError>,
> {
    match rds
        .delete_db_instance()
        .db_instance_identifier(id)
        .skip_final_snapshot(true)
        .delete_automated_backups(true)
        .send()
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if format!("{:?}", e).contains("DBInstanceNotFound") => Ok(false),
        Err(e) => Err(e),
    }
}

/// Deletes temporary instances of interrupted drills (tagged [`TAG_KEY`]).
pub(crate) async fn sweep(clients: &dyn Clients, region: &str) -> Vec<String> {
    let rds = clients.rds(region);
    let Ok(out) = rds.describe_db_instances().send().await else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for db in out.db_instances() {
        let Some(id) = db.db_instance_identifier() else {
            continue;
        };
        if is_leftover(id, db.tag_list()) && delete(&rds, id).await == Ok(true) {
            removed.push(format!("temporary instance {id} in {region}"));
        }
    }
    removed
}

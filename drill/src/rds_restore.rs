//! `rds` drills: restore the source instance to a point in time (or its newest snapshot)
//! into a temporary instance, in the DR region when asked, wait until it is available,
//! verify, and delete it without a final snapshot.

use std::time::Duration;

use aws_sdk_rds::types::Tag;
use time::OffsetDateTime;

use crate::rds_create::{create_once, no_sdk_retries};
use crate::report::rfc3339;
use crate::{
    guarded, postgres, CancellationToken, Clients, DrillReport, DrillSpec, RdsSource, RestoreTime,
    TeardownStep, NAME_PREFIX, TAG_KEY,
};

fn err(op: &str, e: impl std::error::Error) -> String {
    format!("{op}: {}", aws_sdk_rds::error::DisplayErrorContext(e))
}

/// Tag with the Unix time after which a temporary instance counts as a leftover (the
/// drill's time limit): another apply's sweep never deletes a drill still running.
pub const EXPIRES_TAG: &str = "drkit:drill-expires";

/// The temporary instance's identifier for a run (RDS: letters, digits, hyphens; 63 max).
pub fn temp_identifier(run_id: &str) -> String {
    let mut id = format!("{NAME_PREFIX}{}", crate::name_safe(run_id, '-'));
    id.truncate(63);
    id.trim_end_matches('-').to_string()
}

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
    let deadline = tokio::time::Instant::now() + spec.timeout;
    let mut created = false;
    let result = body(
        spec,
        src,
        clients,
        &rds,
        &temp,
        cancel,
        report,
        deadline,
        &mut created,
    )
    .await;

    report.phase("teardown");
    if created {
        let deleted = delete(&rds, &temp).await;
        // Not there: the restore was refused before it created anything.
        if deleted != Ok(false) {
            report.teardown.push(TeardownStep {
                what: format!("temporary instance {temp} in {region}"),
                ok: deleted.is_ok(),
                error: deleted.err(),
            });
        }
    }
    report.end_phase();
    result
}

#[allow(clippy::too_many_arguments)]
async fn body(
    spec: &DrillSpec,
    src: &RdsSource,
    clients: &dyn Clients,
    rds: &aws_sdk_rds::Client,
    temp: &str,
    cancel: &CancellationToken,
    report: &mut DrillReport,
    deadline: tokio::time::Instant,
    created: &mut bool,
) -> Result<(), String> {
    report.phase("fetch");
    let source_rds = clients.rds(&src.source_region);
    let described = guarded(cancel, deadline, "describing the source", async {
        source_rds
            .describe_db_instances()
            .db_instance_identifier(&src.instance_identifier)
            .send()
            .await
            .map_err(|e| err("DescribeDBInstances", e))
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
    let expires = OffsetDateTime::now_utc().unix_timestamp() + spec.timeout.as_secs() as i64;
    let tags = vec![
        Tag::builder().key(TAG_KEY).value(&spec.run_id).build(),
        Tag::builder()
            .key(EXPIRES_TAG)
            .value(expires.to_string())
            .build(),
        Tag::builder()
            .key("drkit:source")
            .value(&src.instance_identifier)
            .build(),
    ];
    let now = OffsetDateTime::now_utc();
    let earliest = source.instance_create_time().map(to_time);
    if let (Some(promised), Some(earliest)) = (src.promised_retention_days, earliest) {
        let have = (now - earliest).whole_days();
        if have < i64::from(promised) {
            report.notes.push(format!(
                "the earliest restorable point is {have} days old, less than the {promised} days of retention promised (the instance may be younger than its retention)"
            ));
        }
    }

    report.phase("restore");
    let point = match &src.restore_time {
        RestoreTime::Snapshot => {
            let snaps = guarded(cancel, deadline, "finding the newest snapshot", async {
                rds.describe_db_snapshots()
                    .db_instance_identifier(&src.instance_identifier)
                    .send()
                    .await
                    .map_err(|e| err("DescribeDBSnapshots", e))
            })
            .await?;
            let newest = snaps
                .db_snapshots()
                .iter()
                .filter(|s| s.status() == Some("available") || s.status().is_none())
                .max_by_key(|s| s.snapshot_create_time().map(|t| t.secs()))
                .ok_or_else(|| format!("no snapshot of {} to restore", src.instance_identifier))?;
            let snap_id = newest
                .db_snapshot_identifier()
                .unwrap_or_default()
                .to_string();
            let at = newest.snapshot_create_time().map(to_time).unwrap_or(now);
            // Torn down even when the answer to the restore is lost after RDS acted.
            *created = true;
            guarded(cancel, deadline, "the snapshot restore", async {
                create_once(rds, temp, || {
                    rds.restore_db_instance_from_db_snapshot()
                        .db_instance_identifier(temp)
                        .db_snapshot_identifier(&snap_id)
                        .db_instance_class(&class)
                        .set_tags(Some(tags.clone()))
                        .deletion_protection(false)
                        .publicly_accessible(false)
                        .customize()
                        .config_override(no_sdk_retries())
                        .send()
                })
                .await
                .map_err(|e| err("RestoreDBInstanceFromDBSnapshot", e))
            })
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
                    guarded(
                        cancel,
                        deadline,
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
            let point = match time_choice {
                RestoreTime::At(t) => Some(*t),
                RestoreTime::Random => window_start.map(|e| random_between(e, window_end)),
                _ => None,
            };
            let mut req = rds
                .restore_db_instance_to_point_in_time()
                .target_db_instance_identifier(temp)
                .db_instance_class(&class)
                .set_tags(Some(tags.clone()))
                .deletion_protection(false)
                .publicly_accessible(false);
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
            *created = true;
            guarded(cancel, deadline, "the point-in-time restore", async {
                create_once(rds, temp, || {
                    req.clone()
                        .customize()
                        .config_override(no_sdk_retries())
                        .send()
                })
                .await
                .map_err(|e| err("RestoreDBInstanceToPointInTime", e))
            })
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
    report.restore_point = Some(rfc3339(point));
    report.set_rpo((OffsetDateTime::now_utc() - point).as_seconds_f64());
    let endpoint = guarded(
        cancel,
        deadline,
        "waiting for the restored instance",
        wait_available(rds, temp),
    )
    .await?;

    report.phase("verify");
    if !spec.verify.is_empty() || spec.freshness_sql.is_some() {
        let Some(target) = &spec.target else {
            return Err(
                "verify blocks and freshness_sql on an rds drill need a target block for the credentials".into(),
            );
        };
        let (host, port) =
            endpoint.ok_or("the restored instance has no endpoint to verify against")?;
        let restored = crate::Target {
            host,
            port,
            ..target.clone()
        };
        let db = restored.database.clone();
        guarded(
            cancel,
            deadline,
            "verification",
            postgres::verify(&restored, &db, &spec.verify, report),
        )
        .await?;
        if let Some(sql) = &spec.freshness_sql {
            if report.verify_results.iter().all(|v| v.passed) {
                let newest_age = guarded(
                    cancel,
                    deadline,
                    "the freshness query",
                    postgres::freshness(&restored, &db, sql),
                )
                .await?;
                // For `latest`, what a disaster now would lose; for an earlier point, what
                // the copy misses of the data written up to that point.
                let point_age = match src.restore_time {
                    RestoreTime::Latest => 0.0,
                    _ => (OffsetDateTime::now_utc() - point).as_seconds_f64(),
                };
                report.set_rpo(newest_age - point_age);
                report
                    .notes
                    .push(format!("RPO measured by freshness_sql: {sql}"));
            }
        }
    } else {
        report.verified();
        report
            .notes
            .push("no verify blocks: the restore was proven, the data was not checked".into());
    }
    Ok(())
}

fn to_time(t: &aws_sdk_rds::primitives::DateTime) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(t.secs()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(crate) fn random_between(a: OffsetDateTime, b: OffsetDateTime) -> OffsetDateTime {
    let span = (b - a).whole_seconds().max(0) as u64;
    if span == 0 {
        return b;
    }
    // Time-seeded: a drill needs spread, not cryptographic randomness.
    let seed = OffsetDateTime::now_utc().unix_timestamp_nanos() as u64;
    let x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    a + time::Duration::seconds((x % span) as i64)
}

async fn wait_available(
    rds: &aws_sdk_rds::Client,
    id: &str,
) -> Result<Option<(String, u16)>, String> {
    let mut delay = Duration::from_millis(200);
    loop {
        let out = rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
            .map_err(|e| err("DescribeDBInstances", e))?;
        if let Some(db) = out.db_instances().first() {
            match db.db_instance_status() {
                Some("available") => {
                    return Ok(db.endpoint().and_then(|e| {
                        Some((e.address()?.to_string(), u16::try_from(e.port()?).ok()?))
                    }))
                }
                Some("failed") | Some("incompatible-restore") | Some("incompatible-parameters") => {
                    return Err(format!(
                        "the restored instance {id} is {}",
                        db.db_instance_status().unwrap_or_default()
                    ))
                }
                _ => {}
            }
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(30));
    }
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
                .map_err(|e| err("ModifyDBInstance", e))?;
            send_delete(rds, id)
                .await
                .map_err(|e| err("DeleteDBInstance", e))
        }
        other => other.map_err(|e| err("DeleteDBInstance", e)),
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
        let tagged = db.tag_list().iter().any(|t| t.key() == Some(TAG_KEY));
        // A drill still within its time limit (here or in another apply) is not a leftover.
        let expired = db
            .tag_list()
            .iter()
            .find(|t| t.key() == Some(EXPIRES_TAG))
            .and_then(|t| t.value()?.parse::<i64>().ok())
            .is_none_or(|at| at < OffsetDateTime::now_utc().unix_timestamp());
        if tagged && expired && id.starts_with(NAME_PREFIX) && delete(&rds, id).await == Ok(true) {
            removed.push(format!("temporary instance {id} in {region}"));
        }
    }
    removed
}

//! `rds` drills of an Aurora cluster: restore the source cluster to a point in time (or
//! its newest cluster snapshot) into a temporary cluster plus one instance, wait until the
//! instance is available, verify against the cluster endpoint, and delete both without a
//! final snapshot.

use std::time::Duration;

use time::OffsetDateTime;

use crate::rds_create::{no_sdk_retries, Creates};
use crate::rds_placement::{confirm, in_network, Placed, Placement};
use crate::rds_temporary::{
    aws_error, chosen_point, copy_tags, is_leftover, newest_snapshot, note_retention_shortfall,
    record_point, tear_down, temp_identifier, to_time, verify_copy, wait_instance_available,
    TempCopy,
};
use crate::report::rfc3339;
use crate::{CancellationToken, Clients, DrillReport, DrillSpec, RestoreTime};

/// An Aurora DB cluster to restore.
#[derive(Debug, Clone)]
pub struct RdsClusterSource {
    /// Identifier of the source cluster.
    pub cluster_identifier: String,
    /// Region of the source cluster (Aurora restores a cluster in its own region).
    pub region: String,
    /// Restore point.
    pub restore_time: RestoreTime,
    /// Class of the temporary instance; default the class of the source's first instance,
    /// else `db.r6g.large`.
    pub instance_class: Option<String>,
    /// Retention the policy promises: the earliest restorable time must be this old.
    pub promised_retention_days: Option<u32>,
    /// Subnet group, security groups and cluster parameter group of the temporary
    /// cluster, and the parameter group of its instance.
    pub placement: Placement,
}

/// The temporary instance of a temporary cluster.
fn instance_of(cluster: &str) -> String {
    let mut id = format!("{cluster}-1");
    if id.len() > 63 {
        id = format!("{}-1", &cluster[..61]);
    }
    id
}

pub(crate) async fn run(
    spec: &DrillSpec,
    src: &RdsClusterSource,
    clients: &dyn Clients,
    cancel: &CancellationToken,
    report: &mut DrillReport,
) -> Result<(), String> {
    let rds = clients.rds(&src.region);
    let temp = temp_identifier(&spec.run_id);
    let mut copy = TempCopy::new(&rds, &temp, cancel, spec.timeout);
    let result = body(spec, src, &mut copy, report).await;
    let what = format!(
        "temporary cluster {temp} and instance {} in {}",
        instance_of(&temp),
        src.region
    );
    tear_down(report, copy.created, what, delete(&rds, &temp)).await;
    result
}

async fn body(
    spec: &DrillSpec,
    src: &RdsClusterSource,
    copy: &mut TempCopy<'_>,
    report: &mut DrillReport,
) -> Result<(), String> {
    let (rds, temp) = (copy.rds, copy.id);
    report.phase("fetch");
    let described = copy
        .guard("describing the source cluster", async {
            rds.describe_db_clusters()
                .db_cluster_identifier(&src.cluster_identifier)
                .send()
                .await
                .map_err(|e| aws_error("DescribeDBClusters", e))
        })
        .await?;
    let source = described
        .db_clusters()
        .iter()
        .find(|c| c.db_cluster_identifier() == Some(src.cluster_identifier.as_str()))
        .ok_or_else(|| format!("no DB cluster {} in {}", src.cluster_identifier, src.region))?
        .clone();
    let engine = source.engine().unwrap_or("aurora-postgresql").to_string();
    let class = match &src.instance_class {
        Some(c) => c.clone(),
        None => source_class(rds, &source).await,
    };
    let tags = copy_tags(spec, &src.cluster_identifier);
    let now = OffsetDateTime::now_utc();
    let earliest = source.earliest_restorable_time().map(to_time);
    note_retention_shortfall(
        report,
        src.promised_retention_days,
        earliest,
        now,
        "cluster",
    );
    let placement = &src.placement;

    report.phase("restore");
    let point = match &src.restore_time {
        RestoreTime::Snapshot => {
            let snaps = copy
                .guard("finding the newest cluster snapshot", async {
                    rds.describe_db_cluster_snapshots()
                        .db_cluster_identifier(&src.cluster_identifier)
                        .send()
                        .await
                        .map_err(|e| aws_error("DescribeDBClusterSnapshots", e))
                })
                .await?;
            let newest = newest_snapshot(
                snaps.db_cluster_snapshots(),
                |s| s.status(),
                |s| s.snapshot_create_time(),
            )
            .ok_or_else(|| {
                format!(
                    "no cluster snapshot of {} to restore",
                    src.cluster_identifier
                )
            })?;
            let snap_id = newest
                .db_cluster_snapshot_identifier()
                .unwrap_or_default()
                .to_string();
            let at = newest.snapshot_create_time().map(to_time).unwrap_or(now);
            let req = in_network!(
                rds.restore_db_cluster_from_snapshot()
                    .db_cluster_identifier(temp)
                    .snapshot_identifier(&snap_id)
                    .engine(&engine)
                    .set_db_cluster_parameter_group_name(
                        placement.cluster_parameter_group_name.clone()
                    )
                    .set_tags(Some(tags.clone()))
                    .deletion_protection(false),
                placement
            );
            copy.create(
                Creates::Cluster,
                temp,
                "the cluster snapshot restore",
                "RestoreDBClusterFromSnapshot",
                || {
                    req.clone()
                        .customize()
                        .config_override(no_sdk_retries())
                        .send()
                },
            )
            .await?;
            report.restored_from = Some(format!("cluster snapshot {snap_id}"));
            at
        }
        time_choice => {
            let point = chosen_point(time_choice, earliest, now);
            let mut req = in_network!(
                rds.restore_db_cluster_to_point_in_time()
                    .db_cluster_identifier(temp)
                    .source_db_cluster_identifier(&src.cluster_identifier)
                    .set_db_cluster_parameter_group_name(
                        placement.cluster_parameter_group_name.clone()
                    )
                    .set_tags(Some(tags.clone()))
                    .deletion_protection(false),
                placement
            );
            req = match point {
                Some(t) => req.restore_to_time(aws_sdk_rds::primitives::DateTime::from_secs(
                    t.unix_timestamp(),
                )),
                None => req.use_latest_restorable_time(true),
            };
            copy.create(
                Creates::Cluster,
                temp,
                "the point-in-time restore",
                "RestoreDBClusterToPointInTime",
                || {
                    req.clone()
                        .customize()
                        .config_override(no_sdk_retries())
                        .send()
                },
            )
            .await?;
            let at = point
                .or_else(|| source.latest_restorable_time().map(to_time))
                .unwrap_or(now);
            report.restored_from = Some(format!(
                "point-in-time restore of cluster {} to {}",
                src.cluster_identifier,
                rfc3339(at)
            ));
            at
        }
    };
    record_point(report, point);

    // A restored cluster has storage, no compute: one instance makes it answer.
    let instance = instance_of(temp);
    let req = rds
        .create_db_instance()
        .db_instance_identifier(&instance)
        .db_cluster_identifier(temp)
        .engine(&engine)
        .db_instance_class(&class)
        .set_db_parameter_group_name(placement.parameter_group_name.clone())
        .set_tags(Some(tags.clone()));
    copy.create(
        Creates::Instance,
        &instance,
        "creating the temporary instance",
        "CreateDBInstance",
        || {
            req.clone()
                .customize()
                .config_override(no_sdk_retries())
                .send()
        },
    )
    .await?;
    let (cluster, member) = copy
        .guard(
            "waiting for the restored cluster",
            wait_available(rds, temp, &instance),
        )
        .await?;
    confirm(
        placement,
        &Placed::of_cluster(&cluster, &member),
        &format!("the restored cluster {temp}"),
        report,
    )?;

    report.phase("verify");
    let endpoint = cluster
        .endpoint()
        .and_then(|host| Some((host.to_string(), u16::try_from(cluster.port()?).ok()?)));
    verify_copy(
        spec,
        &src.restore_time,
        point,
        endpoint,
        Some(&engine),
        "cluster",
        copy,
        report,
    )
    .await
}

/// The class of the source's first instance, for a temporary instance that behaves alike.
async fn source_class(rds: &aws_sdk_rds::Client, source: &aws_sdk_rds::types::DbCluster) -> String {
    let first = source
        .db_cluster_members()
        .iter()
        .find_map(|m| m.db_instance_identifier());
    if let Some(id) = first {
        if let Ok(out) = rds
            .describe_db_instances()
            .db_instance_identifier(id)
            .send()
            .await
        {
            if let Some(class) = out
                .db_instances()
                .first()
                .and_then(|d| d.db_instance_class())
            {
                return class.to_string();
            }
        }
    }
    "db.r6g.large".to_string()
}

/// Waits until the temporary instance is available; returns the cluster and that instance
/// as RDS reports them.
async fn wait_available(
    rds: &aws_sdk_rds::Client,
    cluster: &str,
    instance: &str,
) -> Result<
    (
        aws_sdk_rds::types::DbCluster,
        aws_sdk_rds::types::DbInstance,
    ),
    String,
> {
    let member = wait_instance_available(rds, instance, "the temporary instance").await?;
    let out = rds
        .describe_db_clusters()
        .db_cluster_identifier(cluster)
        .send()
        .await
        .map_err(|e| aws_error("DescribeDBClusters", e))?;
    let described = out
        .db_clusters()
        .first()
        .cloned()
        .ok_or_else(|| format!("the restored cluster {cluster} is gone"))?;
    Ok((described, member))
}

/// Deletes a temporary cluster and its instances: no final snapshot. `Ok(false)`: there
/// was no such cluster. A copy carrying deletion protection (an emulator copying the
/// source's flag) has it turned off first: a temporary copy must never outlive its drill.
async fn delete(rds: &aws_sdk_rds::Client, cluster: &str) -> Result<bool, String> {
    let out = match rds
        .describe_db_clusters()
        .db_cluster_identifier(cluster)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if format!("{e:?}").contains("DBClusterNotFound") => return Ok(false),
        Err(e) => return Err(aws_error("DescribeDBClusters", e)),
    };
    let Some(live) = out.db_clusters().first() else {
        return Ok(false);
    };
    let mut members: Vec<String> = live
        .db_cluster_members()
        .iter()
        .filter_map(|m| m.db_instance_identifier().map(str::to_string))
        .collect();
    // The instance may exist before the cluster lists it.
    let own = instance_of(cluster);
    if !members.contains(&own) {
        members.push(own);
    }
    for id in &members {
        match rds
            .delete_db_instance()
            .db_instance_identifier(id)
            .skip_final_snapshot(true)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if format!("{e:?}").contains("DBInstanceNotFound") => {}
            Err(e) => return Err(aws_error("DeleteDBInstance", e)),
        }
    }
    if live.deletion_protection() == Some(true) {
        rds.modify_db_cluster()
            .db_cluster_identifier(cluster)
            .deletion_protection(false)
            .apply_immediately(true)
            .send()
            .await
            .map_err(|e| aws_error("ModifyDBCluster", e))?;
    }
    // RDS deletes a cluster once its instances are gone: retry while they go.
    let mut delay = Duration::from_secs(1);
    let give_up = tokio::time::Instant::now() + Duration::from_secs(60 * 60);
    loop {
        match rds
            .delete_db_cluster()
            .db_cluster_identifier(cluster)
            .skip_final_snapshot(true)
            .send()
            .await
        {
            Ok(_) => return Ok(true),
            Err(e) if format!("{e:?}").contains("DBClusterNotFound") => return Ok(true),
            Err(e)
                if tokio::time::Instant::now() < give_up && {
                    let text = format!("{e:?}");
                    text.contains("ActiveMembers") || text.contains("InvalidDBClusterStateFault")
                } =>
            {
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(30));
            }
            Err(e) => return Err(aws_error("DeleteDBCluster", e)),
        }
    }
}

/// Deletes temporary clusters of interrupted drills (tagged [`TAG_KEY`], past their
/// expiry).
pub(crate) async fn sweep(clients: &dyn Clients, region: &str) -> Vec<String> {
    let rds = clients.rds(region);
    let Ok(out) = rds.describe_db_clusters().send().await else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for c in out.db_clusters() {
        let Some(id) = c.db_cluster_identifier() else {
            continue;
        };
        if is_leftover(id, c.tag_list()) && delete(&rds, id).await == Ok(true) {
            removed.push(format!("temporary cluster {id} in {region}"));
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_temporary_instance_name_fits_rds_limits() {
        let long = "a".repeat(63);
        assert_eq!(instance_of("drkit-drill-1"), "drkit-drill-1-1");
        assert!(instance_of(&long).len() <= 63);
    }
}

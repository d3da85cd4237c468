//! Aurora calls of `dr_policy`: read a cluster, wait for `available`, modify, make it the
//! primary of a global cluster, create the secondary cluster (and its reader) in the DR
//! region, and take a secondary out again.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_rds::types::{DbCluster, GlobalCluster};
use aws_sdk_rds::Client;
use drkit_drill::rds_create::{create_once, no_sdk_retries, Creates};

use crate::diagnostics::{aws, AwsError};

use super::errors::{absent_if_not_found, done_if_gone};
use super::rds::{tag, tag_map};
use super::rds_settings::{SettingsChange, SourceSettings};
use super::rds_wait::{wait_until_available, Waited};

/// What the provider needs to know about a live DB cluster.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveCluster {
    /// Identifier.
    pub identifier: String,
    /// ARN.
    pub arn: String,
    /// `available`, `modifying`, `creating`, ...
    pub status: String,
    /// Automated backup retention in days.
    pub retention: i32,
    /// Daily backup window.
    pub backup_window: Option<String>,
    /// Weekly maintenance window.
    pub maintenance_window: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Copy tags to snapshots.
    pub copy_tags: bool,
    /// Storage encrypted.
    pub encrypted: bool,
    /// KMS key of the storage.
    pub kms_key_id: Option<String>,
    /// Engine (`aurora-postgresql`, `aurora-mysql`).
    pub engine: Option<String>,
    /// Engine version.
    pub engine_version: Option<String>,
    /// Identifier of the global cluster it belongs to (RDS reports an identifier or an ARN).
    pub global_cluster: Option<String>,
    /// Identifiers of the DB instances in the cluster.
    pub members: Vec<String>,
    /// Modifications RDS has accepted but not applied yet.
    pub pending_changes: bool,
    /// Tags.
    pub tags: HashMap<String, String>,
}

impl LiveCluster {
    /// The settings `dr_policy` keeps on a source cluster.
    pub fn settings(&self) -> SourceSettings {
        SourceSettings {
            retention: self.retention,
            backup_window: self.backup_window.clone(),
            deletion_protection: self.deletion_protection,
            copy_tags: self.copy_tags,
        }
    }

    fn of(c: &DbCluster, identifier: &str) -> Self {
        LiveCluster {
            identifier: c.db_cluster_identifier().unwrap_or(identifier).to_string(),
            arn: c.db_cluster_arn().unwrap_or_default().to_string(),
            status: c.status().unwrap_or_default().to_string(),
            retention: c.backup_retention_period().unwrap_or(0),
            backup_window: c.preferred_backup_window().map(str::to_string),
            maintenance_window: c.preferred_maintenance_window().map(str::to_string),
            deletion_protection: c.deletion_protection().unwrap_or(false),
            copy_tags: c.copy_tags_to_snapshot().unwrap_or(false),
            encrypted: c.storage_encrypted().unwrap_or(false),
            kms_key_id: c.kms_key_id().map(str::to_string),
            engine: c.engine().map(str::to_string),
            engine_version: c.engine_version().map(str::to_string),
            global_cluster: c
                .global_cluster_identifier()
                .filter(|g| !g.is_empty())
                .map(|g| super::rds::arn_name(g).to_string()),
            members: c
                .db_cluster_members()
                .iter()
                .filter_map(|m| m.db_instance_identifier().map(str::to_string))
                .collect(),
            pending_changes: c.pending_modified_values().is_some_and(|p| {
                *p != aws_sdk_rds::types::ClusterPendingModifiedValues::builder().build()
            }),
            tags: tag_map(c.tag_list()),
        }
    }
}

/// Reads a cluster with its tags (one call: `DescribeDBClusters` carries the tag list);
/// `None` when it does not exist.
pub async fn describe(client: &Client, identifier: &str) -> Result<Option<LiveCluster>, AwsError> {
    let out = client
        .describe_db_clusters()
        .db_cluster_identifier(identifier)
        .send()
        .await
        .map_err(aws("DescribeDBClusters"));
    let Some(out) = absent_if_not_found(out)? else {
        return Ok(None);
    };
    Ok(out
        .db_clusters()
        .iter()
        .find(|c| c.db_cluster_identifier() == Some(identifier))
        .map(|c| LiveCluster::of(c, identifier)))
}

impl Waited for LiveCluster {
    const NOUN: &'static str = "DB cluster";
    const DESCRIBE_OPERATION: &'static str = "DescribeDBClusters";
    const NOT_FOUND_CODE: &'static str = "DBClusterNotFoundFault";
    const INVALID_STATE_CODE: &'static str = "InvalidDBClusterStateFault";
    const STUCK: &'static [&'static str] = &[
        "failed",
        "stopped",
        "deleting",
        "inaccessible-encryption-credentials",
        "incompatible-parameters",
        "incompatible-restore",
        "incompatible-network",
    ];

    fn status(&self) -> &str {
        &self.status
    }

    fn pending_changes(&self) -> bool {
        self.pending_changes
    }
}

/// Polls until the cluster is `available` (with `settled`: and nothing pending), with a
/// growing interval (1 s up to 15 s).
pub async fn wait_available(
    client: &Client,
    identifier: &str,
    deadline: Instant,
    settled: bool,
) -> Result<LiveCluster, AwsError> {
    wait_until_available(identifier, deadline, settled, || {
        describe(client, identifier)
    })
    .await
}

/// `ModifyDBCluster` with `ApplyImmediately`.
pub async fn modify(client: &Client, identifier: &str, m: &SettingsChange) -> Result<(), AwsError> {
    client
        .modify_db_cluster()
        .db_cluster_identifier(identifier)
        .apply_immediately(true)
        .set_backup_retention_period(m.retention)
        .set_preferred_backup_window(m.backup_window.clone())
        .set_deletion_protection(m.deletion_protection)
        .set_copy_tags_to_snapshot(m.copy_tags)
        .send()
        .await
        .map_err(aws("ModifyDBCluster"))?;
    Ok(())
}

/// A global cluster and the ARNs of its member clusters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveGlobal {
    /// Identifier.
    pub identifier: String,
    /// ARNs of the member clusters.
    pub members: Vec<String>,
    /// ARN of the writer member, when RDS reports one.
    pub writer: Option<String>,
}

impl LiveGlobal {
    fn of(g: &GlobalCluster) -> Self {
        let members = g.global_cluster_members();
        LiveGlobal {
            identifier: g
                .global_cluster_identifier()
                .unwrap_or_default()
                .to_string(),
            members: members
                .iter()
                .filter_map(|m| m.db_cluster_arn().map(str::to_string))
                .collect(),
            writer: members
                .iter()
                .find(|m| m.is_writer() == Some(true))
                .and_then(|m| m.db_cluster_arn().map(str::to_string)),
        }
    }

    /// True when the cluster with `arn` is a member.
    pub fn has_member(&self, arn: &str) -> bool {
        self.members.iter().any(|m| m == arn)
    }
}

/// Reads a global cluster; `None` when it does not exist. (Global clusters are visible
/// from every region.)
pub async fn describe_global(
    client: &Client,
    identifier: &str,
) -> Result<Option<LiveGlobal>, AwsError> {
    let out = client
        .describe_global_clusters()
        .global_cluster_identifier(identifier)
        .send()
        .await
        .map_err(aws("DescribeGlobalClusters"));
    let Some(out) = absent_if_not_found(out)? else {
        return Ok(None);
    };
    // Filtered here too: moto answers with every global cluster whatever the identifier.
    Ok(out
        .global_clusters()
        .iter()
        .find(|g| g.global_cluster_identifier() == Some(identifier))
        .map(LiveGlobal::of))
}

/// `CreateGlobalCluster` from an existing cluster, which becomes its primary. An answer
/// `GlobalClusterAlreadyExistsFault` is returned as `Ok(false)`: the caller reads the
/// global cluster and decides whether it is the one it asked for (a retried create whose
/// first attempt went through, or an adoptable one).
pub async fn create_global(
    client: &Client,
    identifier: &str,
    source_arn: &str,
) -> Result<bool, AwsError> {
    match client
        .create_global_cluster()
        .global_cluster_identifier(identifier)
        .source_db_cluster_identifier(source_arn)
        .send()
        .await
        .map_err(aws("CreateGlobalCluster"))
    {
        Ok(_) => Ok(true),
        Err(e) if e.has_code("GlobalClusterAlreadyExistsFault") => Ok(false),
        Err(e) => Err(e),
    }
}

/// What a new secondary cluster is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSecondary {
    /// Secondary cluster identifier.
    pub identifier: String,
    /// Global cluster it joins.
    pub global_identifier: String,
    /// Engine of the primary (a secondary must match it).
    pub engine: String,
    /// Engine version of the primary.
    pub engine_version: Option<String>,
    /// KMS key in the DR region.
    pub kms_key_id: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Copy tags to snapshots.
    pub copy_tags: bool,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// `CreateDBCluster` in the DR region with `GlobalClusterIdentifier`: a secondary cluster
/// (no master user: the primary's data and users are replicated). An answer
/// `DBClusterAlreadyExistsFault` is `Ok(())`; the caller reads the cluster and checks that
/// it belongs to the global cluster.
pub async fn create_secondary(client: &Client, n: &NewSecondary) -> Result<(), AwsError> {
    match client
        .create_db_cluster()
        .db_cluster_identifier(&n.identifier)
        .global_cluster_identifier(&n.global_identifier)
        .engine(&n.engine)
        .set_engine_version(n.engine_version.clone())
        .set_kms_key_id(n.kms_key_id.clone())
        .deletion_protection(n.deletion_protection)
        .copy_tags_to_snapshot(n.copy_tags)
        .set_tags(Some(n.tags.iter().map(|(k, v)| tag(k, v)).collect()))
        .send()
        .await
        .map_err(aws("CreateDBCluster"))
    {
        Ok(_) => Ok(()),
        // moto answers a second create with the snapshot of the first one.
        Err(e)
            if e.has_code("DBClusterAlreadyExistsFault")
                || e.has_code("DBClusterSnapshotAlreadyExistsFault") =>
        {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// `CreateDBInstance` of a reader in a (secondary) cluster, never twice.
pub async fn create_reader(
    client: &Client,
    identifier: &str,
    cluster: &str,
    engine: &str,
    class: &str,
    tags: &[(String, String)],
) -> Result<(), AwsError> {
    create_once(client, Creates::Instance, identifier, || {
        client
            .create_db_instance()
            .db_instance_identifier(identifier)
            .db_cluster_identifier(cluster)
            .engine(engine)
            .db_instance_class(class)
            .set_tags(Some(tags.iter().map(|(k, v)| tag(k, v)).collect()))
            .customize()
            .config_override(no_sdk_retries())
            .send()
    })
    .await
    .map_err(|e| AwsError::from_sdk("CreateDBInstance", e))
}

/// The identifier of the reader instance the policy creates in a secondary cluster.
pub fn reader_identifier(secondary: &str) -> String {
    format!("{secondary}-1")
}

/// Adds or overwrites tags.
pub async fn add_tags(client: &Client, arn: &str, tags: &[(&str, &str)]) -> Result<(), AwsError> {
    super::rds::add_tags(client, arn, tags).await
}

/// How long deleting a secondary may wait for RDS (detaching, deleting its instances).
const DELETE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

/// Takes a secondary out of its global cluster and deletes it with its instances (a copy:
/// no final snapshot), turning deletion protection off first when needed. The primary and
/// the global cluster stay.
pub async fn delete_secondary(
    client: &Client,
    live: &LiveCluster,
    global: Option<&str>,
) -> Result<(), AwsError> {
    let deadline = Instant::now() + DELETE_TIMEOUT;
    if let Some(global) = global {
        match client
            .remove_from_global_cluster()
            .global_cluster_identifier(global)
            .db_cluster_identifier(&live.arn)
            .send()
            .await
            .map_err(aws("RemoveFromGlobalCluster"))
        {
            // Already out: a retried call whose first attempt went through.
            Err(e) if e.is_not_found() || e.has_code("InvalidGlobalClusterStateFault") => {}
            other => other.map(|_| ())?,
        }
        // Detaching takes the secondary through `modifying` while it becomes standalone.
        wait_available(client, &live.identifier, deadline, false).await?;
    }
    for member in &live.members {
        let deleted = client
            .delete_db_instance()
            .db_instance_identifier(member)
            .skip_final_snapshot(true)
            .send()
            .await
            .map_err(aws("DeleteDBInstance"));
        done_if_gone(deleted)?;
    }
    // RDS deletes a cluster only once its instances are gone.
    let mut interval = Duration::from_secs(1);
    while describe(client, &live.identifier)
        .await?
        .is_some_and(|c| !c.members.is_empty())
    {
        if Instant::now() + interval > deadline {
            return Err(AwsError::new(
                "DeleteDBCluster",
                "Timeout",
                format!(
                    "the instances of {} were still being deleted",
                    live.identifier
                ),
            ));
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_secs(15));
    }
    if live.deletion_protection {
        modify(
            client,
            &live.identifier,
            &SettingsChange {
                deletion_protection: Some(false),
                ..Default::default()
            },
        )
        .await?;
    }
    let deleted = client
        .delete_db_cluster()
        .db_cluster_identifier(&live.identifier)
        .skip_final_snapshot(true)
        .send()
        .await
        .map_err(aws("DeleteDBCluster"));
    done_if_gone(deleted)
}

//! RDS calls of `dr_policy`: read an instance, wait for `available`, modify, tag, create a
//! cross-region read replica, replicate automated backups.

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_rds::types::Tag;
use aws_sdk_rds::Client;
use drkit_drill::rds_create::{create_once, no_sdk_retries, Creates};

use crate::diagnostics::{aws, AwsError};

use super::errors::{absent_if_not_found, done_if_gone};
use super::rds_settings::{SettingsChange, SourceSettings};
use super::rds_wait::{wait_until_available, Waited};

/// What the provider needs to know about a live DB instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LiveInstance {
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
    /// Instance class.
    pub instance_class: Option<String>,
    /// For a read replica: the source identifier or ARN.
    pub source: Option<String>,
    /// Read replicas of this instance (identifiers or ARNs).
    pub replicas: Vec<String>,
    /// ARNs of the cross-region automated-backup replications of this instance.
    pub backup_replications: Vec<String>,
    /// Modifications RDS has accepted but not applied yet (`PendingModifiedValues`).
    pub pending_changes: bool,
    /// Tags.
    pub tags: HashMap<String, String>,
}

impl LiveInstance {
    /// The settings `dr_policy` keeps on a source instance.
    pub fn settings(&self) -> SourceSettings {
        SourceSettings {
            retention: self.retention,
            backup_window: self.backup_window.clone(),
            deletion_protection: self.deletion_protection,
            copy_tags: self.copy_tags,
        }
    }
}

/// The region in an ARN (`arn:aws:rds:REGION:...`).
pub fn arn_region(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next()? == "arn").then_some(())?;
    parts.next()?;
    parts.next()?;
    parts.next().filter(|r| !r.is_empty())
}

/// The last part of an RDS ARN (`...:db:NAME`), or the input when it is not an ARN.
pub fn arn_name(arn: &str) -> &str {
    arn.rsplit(':').next().unwrap_or(arn)
}

/// True when `source` (an identifier or ARN, as RDS reports a replica's source) names the
/// instance `primary`.
pub fn same_instance(source: &str, primary: &LiveInstance) -> bool {
    source == primary.arn || source == primary.identifier
}

/// Reads an instance and its tags; `None` when it does not exist.
pub async fn describe(client: &Client, identifier: &str) -> Result<Option<LiveInstance>, AwsError> {
    let out = client
        .describe_db_instances()
        .db_instance_identifier(identifier)
        .send()
        .await
        .map_err(aws("DescribeDBInstances"));
    let Some(out) = absent_if_not_found(out)? else {
        return Ok(None);
    };
    let Some(db) = out.db_instances().first() else {
        return Ok(None);
    };
    let mut live = LiveInstance {
        identifier: db
            .db_instance_identifier()
            .unwrap_or(identifier)
            .to_string(),
        arn: db.db_instance_arn().unwrap_or_default().to_string(),
        status: db.db_instance_status().unwrap_or_default().to_string(),
        retention: db.backup_retention_period().unwrap_or(0),
        backup_window: db.preferred_backup_window().map(str::to_string),
        maintenance_window: db.preferred_maintenance_window().map(str::to_string),
        deletion_protection: db.deletion_protection().unwrap_or(false),
        copy_tags: db.copy_tags_to_snapshot().unwrap_or(false),
        encrypted: db.storage_encrypted().unwrap_or(false),
        kms_key_id: db.kms_key_id().map(str::to_string),
        instance_class: db.db_instance_class().map(str::to_string),
        source: db
            .read_replica_source_db_instance_identifier()
            .map(str::to_string),
        replicas: db.read_replica_db_instance_identifiers().to_vec(),
        backup_replications: db
            .db_instance_automated_backups_replications()
            .iter()
            .filter_map(|r| r.db_instance_automated_backups_arn().map(str::to_string))
            .collect(),
        pending_changes: db
            .pending_modified_values()
            .is_some_and(|p| *p != aws_sdk_rds::types::PendingModifiedValues::builder().build()),
        tags: HashMap::new(),
    };
    if !live.arn.is_empty() {
        let tags = client
            .list_tags_for_resource()
            .resource_name(&live.arn)
            .send()
            .await
            .map_err(aws("ListTagsForResource"))?;
        live.tags = tag_map(tags.tag_list());
    }
    Ok(Some(live))
}

impl Waited for LiveInstance {
    const NOUN: &'static str = "DB instance";
    const DESCRIBE_OPERATION: &'static str = "DescribeDBInstances";
    const NOT_FOUND_CODE: &'static str = "DBInstanceNotFound";
    const INVALID_STATE_CODE: &'static str = "InvalidDBInstanceState";
    const STUCK: &'static [&'static str] = &[
        "failed",
        "incompatible-parameters",
        "incompatible-restore",
        "incompatible-network",
        "inaccessible-encryption-credentials",
        "storage-full",
        "stopped",
        "deleting",
    ];

    fn status(&self) -> &str {
        &self.status
    }

    fn pending_changes(&self) -> bool {
        self.pending_changes
    }
}

/// Polls until the instance is `available`, with a growing interval (1 s up to 15 s).
pub async fn wait_available(
    client: &Client,
    identifier: &str,
    deadline: Instant,
) -> Result<LiveInstance, AwsError> {
    wait_until_available(identifier, deadline, false, || describe(client, identifier)).await
}

/// After `ModifyDBInstance` with `ApplyImmediately`: polls until the instance is
/// `available` with no modification pending, since RDS may still report `available` for
/// a moment before the change starts.
pub async fn wait_settled(
    client: &Client,
    identifier: &str,
    deadline: Instant,
) -> Result<LiveInstance, AwsError> {
    wait_until_available(identifier, deadline, true, || describe(client, identifier)).await
}

/// Settings of `ModifyDBInstance`: those a cluster shares, and the instance class; `None`
/// leaves a setting alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Modify {
    /// Backup retention and window, deletion protection, copy tags.
    pub settings: SettingsChange,
    /// Instance class.
    pub instance_class: Option<String>,
}

impl From<SettingsChange> for Modify {
    fn from(settings: SettingsChange) -> Self {
        Modify {
            settings,
            instance_class: None,
        }
    }
}

impl Modify {
    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == Modify::default()
    }
}

/// `ModifyDBInstance` with `ApplyImmediately`.
pub async fn modify(client: &Client, identifier: &str, m: &Modify) -> Result<(), AwsError> {
    client
        .modify_db_instance()
        .db_instance_identifier(identifier)
        .apply_immediately(true)
        .set_backup_retention_period(m.settings.retention)
        .set_preferred_backup_window(m.settings.backup_window.clone())
        .set_deletion_protection(m.settings.deletion_protection)
        .set_copy_tags_to_snapshot(m.settings.copy_tags)
        .set_db_instance_class(m.instance_class.clone())
        .send()
        .await
        .map_err(aws("ModifyDBInstance"))?;
    Ok(())
}

/// An RDS tag.
pub(super) fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

/// RDS tags as a map (a tag without a value maps to "").
pub(super) fn tag_map(tags: &[Tag]) -> HashMap<String, String> {
    tags.iter()
        .filter_map(|t| {
            Some((
                t.key()?.to_string(),
                t.value().unwrap_or_default().to_string(),
            ))
        })
        .collect()
}

/// Adds or overwrites tags.
pub async fn add_tags(client: &Client, arn: &str, tags: &[(&str, &str)]) -> Result<(), AwsError> {
    client
        .add_tags_to_resource()
        .resource_name(arn)
        .set_tags(Some(tags.iter().map(|(k, v)| tag(k, v)).collect()))
        .send()
        .await
        .map_err(aws("AddTagsToResource"))?;
    Ok(())
}

/// Removes tags.
pub async fn remove_tags(client: &Client, arn: &str, keys: &[&str]) -> Result<(), AwsError> {
    client
        .remove_tags_from_resource()
        .resource_name(arn)
        .set_tag_keys(Some(keys.iter().map(|k| k.to_string()).collect()))
        .send()
        .await
        .map_err(aws("RemoveTagsFromResource"))?;
    Ok(())
}

/// What a new replica is created with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewReplica {
    /// Replica identifier.
    pub identifier: String,
    /// Source ARN (cross-region replicas are created from the ARN).
    pub source_arn: String,
    /// Instance class.
    pub instance_class: Option<String>,
    /// KMS key in the DR region.
    pub kms_key_id: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Copy tags to snapshots.
    pub copy_tags: bool,
    /// Tags.
    pub tags: Vec<(String, String)>,
}

/// `CreateDBInstanceReadReplica`, called in the DR region with the source's ARN.
pub async fn create_replica(client: &Client, r: &NewReplica) -> Result<(), AwsError> {
    create_once(client, Creates::Instance, &r.identifier, || {
        client
            .create_db_instance_read_replica()
            .db_instance_identifier(&r.identifier)
            .source_db_instance_identifier(&r.source_arn)
            .set_db_instance_class(r.instance_class.clone())
            .set_kms_key_id(r.kms_key_id.clone())
            .deletion_protection(r.deletion_protection)
            .copy_tags_to_snapshot(r.copy_tags)
            .set_tags(Some(r.tags.iter().map(|(k, v)| tag(k, v)).collect()))
            .customize()
            .config_override(no_sdk_retries())
            .send()
    })
    .await
    .map_err(|e| AwsError::from_sdk("CreateDBInstanceReadReplica", e))
}

/// `StartDBInstanceAutomatedBackupsReplication`, called in the destination region.
pub async fn start_backup_replication(
    client: &Client,
    source_arn: &str,
    retention: i32,
    kms_key_id: Option<String>,
) -> Result<(), AwsError> {
    client
        .start_db_instance_automated_backups_replication()
        .source_db_instance_arn(source_arn)
        .backup_retention_period(retention)
        .set_kms_key_id(kms_key_id)
        .send()
        .await
        .map_err(aws("StartDBInstanceAutomatedBackupsReplication"))?;
    Ok(())
}

/// Retention of replicated automated backups, read in the destination region.
pub async fn replicated_backup_retention(
    client: &Client,
    backups_arn: &str,
) -> Result<Option<i32>, AwsError> {
    let out = client
        .describe_db_instance_automated_backups()
        .db_instance_automated_backups_arn(backups_arn)
        .send()
        .await
        .map_err(aws("DescribeDBInstanceAutomatedBackups"))?;
    Ok(out
        .db_instance_automated_backups()
        .first()
        .and_then(|b| b.backup_retention_period()))
}

/// Deletes a read replica (a copy: no final snapshot), turning deletion protection off
/// first when needed.
pub async fn delete_replica(client: &Client, live: &LiveInstance) -> Result<(), AwsError> {
    if live.deletion_protection {
        modify(
            client,
            &live.identifier,
            &Modify::from(SettingsChange {
                deletion_protection: Some(false),
                ..Default::default()
            }),
        )
        .await?;
    }
    let deleted = client
        .delete_db_instance()
        .db_instance_identifier(&live.identifier)
        .skip_final_snapshot(true)
        .send()
        .await
        .map_err(aws("DeleteDBInstance"));
    done_if_gone(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        let arn = "arn:aws:rds:us-west-2:123456789012:db:db1-dr";
        assert_eq!(arn_region(arn), Some("us-west-2"));
        assert_eq!(arn_name(arn), "db1-dr");
        assert_eq!(arn_region("db1"), None);
        assert_eq!(arn_name("db1"), "db1");
    }
}

//! The `dr_policy` resource's state as Terraform stores it: serde types only, shared by the
//! policy logic ([`crate::policy`]) and the resource adapter ([`crate::resources::dr_policy`]),
//! which owns the schema.

use serde::{Deserialize, Serialize};
use tf_provider::value::Value;

use crate::schema_helpers::single_block;

/// The `dr_policy` resource as Terraform stores it. Every field is a [`Value`]: known,
/// null or unknown (a value computed by another resource during plan).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyState {
    /// Same as `name`.
    #[serde(default)]
    pub id: Value<String>,
    /// Policy name, unique per account; marks the resources it owns.
    #[serde(default)]
    pub name: Value<String>,
    /// Declared recovery point objective.
    #[serde(default)]
    pub rpo: Value<String>,
    /// Declared recovery time objective.
    #[serde(default)]
    pub rto: Value<String>,
    /// People who can run the recovery.
    #[serde(default)]
    pub owners: Value<Vec<Value<String>>>,
    /// Under a retention mandate.
    #[serde(default)]
    pub compliance: Value<bool>,
    /// Link to the runbook.
    #[serde(default)]
    pub runbook_url: Value<String>,
    /// How old the newest passing drill may be, e.g. `90d`.
    #[serde(default)]
    pub drill_interval: Value<String>,
    /// Destroy deletes the replicas this policy created.
    #[serde(default)]
    pub delete_replicas_on_destroy: Value<bool>,
    /// RDS instances.
    #[serde(default)]
    pub rds: Value<Vec<RdsBlock>>,
    /// S3 buckets.
    #[serde(default)]
    pub s3: Value<Vec<S3Block>>,
    /// Aurora DB clusters.
    #[serde(default)]
    pub rds_cluster: Value<Vec<RdsClusterBlock>>,
    /// Wait limits.
    #[serde(default, with = "single_block")]
    pub timeouts: Value<TimeoutsBlock>,
    /// Computed: tier name.
    #[serde(default)]
    pub tier: Value<String>,
    /// Computed: live resources meet the policy.
    #[serde(default)]
    pub compliant: Value<bool>,
    /// Computed: what the live resources miss.
    #[serde(default)]
    pub findings: Value<Vec<Value<String>>>,
    /// Computed: RPO the settings achieve on a region loss.
    #[serde(default)]
    pub estimated_rpo: Value<String>,
    /// Computed: RTO the settings achieve on a region loss.
    #[serde(default)]
    pub estimated_rto: Value<String>,
}

/// An `rds` block.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdsBlock {
    /// Source instance identifier, in the provider's region.
    #[serde(default)]
    pub instance_identifier: Value<String>,
    /// Backup retention and window, deletion protection, copy tags to snapshot.
    #[serde(flatten)]
    pub settings: SourceSettingsState,
    /// Cross-region read replica.
    #[serde(default, with = "single_block")]
    pub cross_region_replica: Value<ReplicaBlock>,
    /// Cross-region automated-backup replication.
    #[serde(default, with = "single_block")]
    pub cross_region_backups: Value<BackupsBlock>,
}

/// The settings an `rds` and an `rds_cluster` block keep on their source: the same four
/// attributes in both blocks, flattened into each.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceSettingsState {
    /// Automated backup retention, 1–35 days.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub backup_retention_days: Value<i64>,
    /// Daily backup window, `hh24:mi-hh24:mi` UTC.
    #[serde(default)]
    pub backup_window: Value<String>,
    /// Deletion protection.
    #[serde(default)]
    pub deletion_protection: Value<bool>,
    /// Copy tags to snapshots.
    #[serde(default)]
    pub copy_tags_to_snapshot: Value<bool>,
}

/// A `cross_region_replica` block.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicaBlock {
    /// DR region.
    #[serde(default)]
    pub region: Value<String>,
    /// Replica identifier.
    #[serde(default)]
    pub identifier: Value<String>,
    /// Replica instance class.
    #[serde(default)]
    pub instance_class: Value<String>,
    /// KMS key in the DR region.
    #[serde(default)]
    pub kms_key_id: Value<String>,
    /// The replica's own automated backup retention.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub backup_retention_days: Value<i64>,
}

/// A `cross_region_backups` block.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupsBlock {
    /// DR region.
    #[serde(default)]
    pub region: Value<String>,
    /// Retention of the replicated backups.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub retention_days: Value<i64>,
    /// KMS key in the DR region.
    #[serde(default)]
    pub kms_key_id: Value<String>,
}

/// An `rds_cluster` block (Aurora).
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdsClusterBlock {
    /// Source cluster identifier, in the provider's region.
    #[serde(default)]
    pub cluster_identifier: Value<String>,
    /// Backup retention and window, deletion protection, copy tags to snapshot.
    #[serde(flatten)]
    pub settings: SourceSettingsState,
    /// Aurora Global Database secondary cluster in the DR region.
    #[serde(default, with = "single_block")]
    pub global_secondary: Value<GlobalSecondaryBlock>,
}

/// A `global_secondary` block.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalSecondaryBlock {
    /// DR region.
    #[serde(default)]
    pub region: Value<String>,
    /// Secondary cluster identifier.
    #[serde(default)]
    pub cluster_identifier: Value<String>,
    /// Global cluster identifier.
    #[serde(default)]
    pub global_cluster_identifier: Value<String>,
    /// Class of the secondary's reader instance; null: a headless secondary.
    #[serde(default)]
    pub instance_class: Value<String>,
    /// KMS key in the DR region.
    #[serde(default)]
    pub kms_key_id: Value<String>,
}

/// An `s3` block.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct S3Block {
    /// Bucket name.
    #[serde(default)]
    pub bucket: Value<String>,
    /// Versioning enabled.
    #[serde(default)]
    pub versioning: Value<bool>,
    /// Default encryption.
    #[serde(default, with = "single_block")]
    pub encryption: Value<EncryptionBlock>,
    /// Cross-region replication.
    #[serde(default, with = "single_block")]
    pub replication: Value<ReplicationBlock>,
    /// Lifecycle retention.
    #[serde(default)]
    pub retention: Value<Vec<RetentionBlock>>,
}

/// An `encryption` block.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct EncryptionBlock {
    /// KMS key; null for SSE-S3 (AES256).
    #[serde(default)]
    pub kms_key_id: Value<String>,
}

/// A `replication` block.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReplicationBlock {
    /// Destination bucket name.
    #[serde(default)]
    pub destination_bucket: Value<String>,
    /// Destination region.
    #[serde(default)]
    pub destination_region: Value<String>,
    /// IAM role S3 assumes to replicate.
    #[serde(default)]
    pub role_arn: Value<String>,
    /// Storage class of the replicas.
    #[serde(default)]
    pub storage_class: Value<String>,
    /// Replication Time Control.
    #[serde(default)]
    pub replication_time_control: Value<bool>,
    /// Replicate delete markers.
    #[serde(default)]
    pub delete_marker_replication: Value<bool>,
    /// KMS key of the destination region for replicas of SSE-KMS objects.
    #[serde(default)]
    pub replica_kms_key_id: Value<String>,
}

/// A `retention` block, explicit or grandfather-father-son.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetentionBlock {
    /// Key prefix (explicit form).
    #[serde(default)]
    pub prefix: Value<String>,
    /// Days before the archive transition.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub archive_after_days: Value<i64>,
    /// Archive storage class.
    #[serde(default)]
    pub archive_storage_class: Value<String>,
    /// Days before expiry (explicit form).
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub expire_days: Value<i64>,
    /// Days before noncurrent versions expire.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub noncurrent_expire_days: Value<i64>,
    /// Days of `daily/`.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub daily: Value<i64>,
    /// Weeks of `weekly/`.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub weekly: Value<i64>,
    /// Months of `monthly/`.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub monthly: Value<i64>,
    /// Years of `yearly/`.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub yearly: Value<i64>,
}

/// The `timeouts` block.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeoutsBlock {
    /// Limit for create.
    #[serde(default)]
    pub create: Value<String>,
    /// Limit for update.
    #[serde(default)]
    pub update: Value<String>,
}

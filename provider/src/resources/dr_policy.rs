//! `resource "dr_policy"`: declares RPO/RTO for a set of RDS instances and S3 buckets,
//! validates them against drlint's tier model at plan time, and applies the AWS settings
//! that meet them.
//!
//! Order, as in the framework scaffolding: state, schema, validate, plan, create, read,
//! update, destroy, import. The pure logic lives in [`crate::policy`]; the AWS calls in
//! [`crate::policy::rds`] and [`crate::policy::s3`].

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tf_provider::schema::{Attribute, AttributeConstraint, AttributeType, NestedBlock, Schema};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, AttributePath, Diagnostics, Resource};

use crate::aws::SharedClients;
use crate::policy::{self, claims::Claims, Desired};

use crate::state::dr_policy::PolicyState;

// ---------------------------------------------------------------------------------------
// Schema
// ---------------------------------------------------------------------------------------

use crate::schema_helpers::{attr, block};

/// The attributes of the settings an `rds` and an `rds_cluster` block keep on their source
/// ([`crate::state::dr_policy::SourceSettingsState`]), worded for an `"instance"` or a
/// `"cluster"`.
fn source_settings_attributes(noun: &str) -> HashMap<String, Attribute> {
    use AttributeConstraint::OptionalComputed;
    use AttributeType::{Bool, Number, String as Str};
    map! {
        "backup_retention_days" => attr(Number, OptionalComputed, "Automated backup retention in days, 1–35. Default 7."),
        "backup_window" => attr(Str, OptionalComputed, &format!("Daily backup window `hh24:mi-hh24:mi` in UTC, at least 30 minutes, not overlapping the {noun}'s maintenance window. Defaults to the {noun}'s current window.")),
        "deletion_protection" => attr(Bool, OptionalComputed, &format!("Deletion protection on the source {noun}. Default `true`.")),
        "copy_tags_to_snapshot" => attr(Bool, OptionalComputed, &format!("Copy the {noun}'s tags to its snapshots. Default `true`."))
    }
}

/// The `dr_policy` schema; every attribute and block is described (the docs are built
/// from these descriptions).
pub fn schema() -> Schema {
    use AttributeConstraint::{Computed, Optional, OptionalComputed, Required};
    use AttributeType::{Bool, List, Number, String as Str};

    let replica = block(
        "A cross-region read replica of the instance, created in the DR region from the \
         source ARN (or adopted when an instance with this identifier already replicates \
         the source). RPO: replica lag (seconds); RTO: a promotion (minutes).",
        map! {
            "region" => attr(Str, OptionalComputed, "DR region of the replica. Defaults to the provider's `dr_region`; must differ from the provider's `region`."),
            "identifier" => attr(Str, OptionalComputed, "Identifier of the replica. Defaults to `<instance_identifier>-dr`."),
            "instance_class" => attr(Str, OptionalComputed, "Instance class of the replica. Defaults to the source's class."),
            "kms_key_id" => attr(Str, Optional, "KMS key (ARN) **in the DR region** to encrypt the replica with. Required when the source is encrypted: KMS keys are regional."),
            "backup_retention_days" => attr(Number, OptionalComputed, "Automated backup retention of the replica itself (replicas start with backups off). Defaults to the source block's `backup_retention_days`.")
        },
    );
    let backups = block(
        "Cross-region automated-backup replication: RDS copies snapshots and transaction \
         logs to the DR region, for point-in-time restore there. RPO: minutes; RTO: a \
         restore.",
        map! {
            "region" => attr(Str, OptionalComputed, "Region the backups are replicated to. Defaults to the provider's `dr_region`."),
            "retention_days" => attr(Number, OptionalComputed, "Retention of the replicated backups, 1–35 days. Defaults to `backup_retention_days`."),
            "kms_key_id" => attr(Str, Optional, "KMS key (ARN) in the destination region; required when the source is encrypted.")
        },
    );
    let mut rds = block(
        "An RDS DB instance the policy covers (0..n). Its settings are applied with \
         `ModifyDBInstance`.",
        map! {
            "instance_identifier" => attr(Str, Required, "Identifier of the source DB instance, in the provider's `region`.")
        },
    );
    rds.attributes
        .extend(source_settings_attributes("instance"));
    rds.blocks = map! {
        "cross_region_replica" => NestedBlock::Optional(replica),
        "cross_region_backups" => NestedBlock::Optional(backups)
    };

    let global_secondary = block(
        "Makes the cluster the primary of an Aurora Global Database and adds a secondary \
         cluster in the DR region (`CreateGlobalCluster` from the source cluster, then \
         `CreateDBCluster` there with the global cluster's identifier). A global cluster or \
         secondary that already exists with these names is adopted when it belongs to this \
         source. RPO: replication lag (typically under a second); RTO: a managed failover \
         (minutes). Destroy keeps the secondary unless `delete_replicas_on_destroy` is set.",
        map! {
            "region" => attr(Str, OptionalComputed, "DR region of the secondary cluster. Defaults to the provider's `dr_region`; must differ from the provider's `region`."),
            "cluster_identifier" => attr(Str, OptionalComputed, "Identifier of the secondary cluster. Defaults to `<cluster_identifier>-dr`."),
            "global_cluster_identifier" => attr(Str, OptionalComputed, "Identifier of the global cluster. Defaults to the one the source already belongs to, else `<cluster_identifier>-global`."),
            "instance_class" => attr(Str, Optional, "Class of one reader instance (`<secondary>-1`) created in the secondary cluster, e.g. `db.r6g.large`: a failover needs an instance there to take writes. Omit for a headless secondary (storage only, no instance billed; a failover then starts by adding one, which takes minutes longer)."),
            "kms_key_id" => attr(Str, Optional, "KMS key (ARN) **in the DR region** to encrypt the secondary with. Required when the source is encrypted: KMS keys are regional.")
        },
    );
    let mut rds_cluster = block(
        "An Aurora DB cluster the policy covers (0..n). Its settings are applied with \
         `ModifyDBCluster`.",
        map! {
            "cluster_identifier" => attr(Str, Required, "Identifier of the source DB cluster, in the provider's `region`.")
        },
    );
    rds_cluster
        .attributes
        .extend(source_settings_attributes("cluster"));
    rds_cluster.blocks = map! {
        "global_secondary" => NestedBlock::Optional(global_secondary)
    };

    let encryption = block(
        "Default encryption of the bucket (`PutBucketEncryption`).",
        map! {
            "kms_key_id" => attr(Str, Optional, "KMS key for SSE-KMS (with an S3 Bucket Key). Omit for SSE-S3 (AES256).")
        },
    );
    let replication = block(
        "Cross-region replication of the whole bucket (`PutBucketReplication`). The policy \
         owns the bucket's replication configuration. Versioning is enabled first, as S3 \
         requires.",
        map! {
            "destination_bucket" => attr(Str, Required, "Name of the destination bucket (versioning enabled), in another region."),
            "destination_region" => attr(Str, OptionalComputed, "Region of the destination bucket. Defaults to the provider's `dr_region`."),
            "role_arn" => attr(Str, Required, "IAM role S3 assumes to replicate objects."),
            "storage_class" => attr(Str, OptionalComputed, "Storage class of the replicas, e.g. `STANDARD_IA`. Default `STANDARD`."),
            "replication_time_control" => attr(Bool, OptionalComputed, "S3 Replication Time Control (99.99% of objects within 15 minutes), configured with the replication metrics it requires. Default `false`; required for an `rpo` between 15m and 1h."),
            "delete_marker_replication" => attr(Bool, OptionalComputed, "Replicate delete markers. Default `false`, so a delete in the source leaves the DR copy readable."),
            "replica_kms_key_id" => attr(Str, Optional, "KMS key (ARN) of the destination region to encrypt replicas with. Required when the bucket's `encryption` uses a KMS key: S3 replicates SSE-KMS objects only when told to, with a key of the destination region (the provider then also enables replication of SSE-KMS objects).")
        },
    );
    let retention = block(
        "Lifecycle retention (0..n blocks; `PutBucketLifecycleConfiguration`). Either the \
         explicit form (`prefix`, `expire_days`, ...) or the grandfather-father-son form \
         (`daily`, `weekly`, `monthly`, `yearly`: one rule per prefix `daily/`, `weekly/`, \
         `monthly/`, `yearly/`; a month counts 31 days, a year 365). Rules are compared by \
         ID, never by order; rules whose ID does not start with `drkit:` are kept.",
        map! {
            "prefix" => attr(Str, Optional, "Explicit form: key prefix the rule applies to. Default: the whole bucket."),
            "archive_after_days" => attr(Number, Optional, "Days after creation before objects move to `archive_storage_class`. In the GFS form, applied to the periods that keep objects longer."),
            "archive_storage_class" => attr(Str, Optional, "Archive storage class, e.g. `GLACIER`, `DEEP_ARCHIVE`. Default `GLACIER` when `archive_after_days` is set."),
            "expire_days" => attr(Number, Optional, "Explicit form: days after creation before objects expire."),
            "noncurrent_expire_days" => attr(Number, Optional, "Days before noncurrent (overwritten or deleted) versions expire."),
            "daily" => attr(Number, Optional, "GFS form: days to keep objects under `daily/`."),
            "weekly" => attr(Number, Optional, "GFS form: weeks to keep objects under `weekly/`."),
            "monthly" => attr(Number, Optional, "GFS form: months to keep objects under `monthly/`."),
            "yearly" => attr(Number, Optional, "GFS form: years to keep objects under `yearly/`.")
        },
    );
    let mut s3 = block(
        "An S3 bucket the policy covers (0..n), in the provider's `region`.",
        map! {
            "bucket" => attr(Str, Required, "Bucket name. A bucket belongs to one policy: a second policy naming it is a plan-time error."),
            "versioning" => attr(Bool, OptionalComputed, "Versioning enabled. Default `true`; replication requires it.")
        },
    );
    s3.blocks = map! {
        "encryption" => NestedBlock::Optional(encryption),
        "replication" => NestedBlock::Optional(replication),
        "retention" => NestedBlock::List(retention)
    };
    let timeouts = block(
        "How long create and update wait for instances to become `available`.",
        map! {
            "create" => attr(Str, Optional, "Limit for create, a duration such as `60m` or `1h30m`. Default `60m`."),
            "update" => attr(Str, Optional, "Limit for update. Default `60m`.")
        },
    );

    let mut root = block(
        "A disaster-recovery policy: RPO/RTO declared once for a set of RDS instances, \
         Aurora clusters and S3 buckets, validated against the tier model at plan time, and the settings that \
         meet them applied. Destroy never deletes data unless `delete_replicas_on_destroy` \
         is set.",
        map! {
            "id" => attr(Str, Computed, "The policy name."),
            "name" => attr(Str, Required, "Policy name. Marks the instances and buckets it owns (tag `drkit:policy`), so it must be unique per account."),
            "rpo" => attr(Str, Required, "Recovery point objective: data you may lose, e.g. `5m`, `1h`, `1d` (`0` is rejected: it needs synchronous multi-region)."),
            "rto" => attr(Str, Required, "Recovery time objective: time to recover, e.g. `30m`, `4h`."),
            "owners" => attr(List(Box::new(Str)), Optional, "People or teams who can run the recovery; fewer than two is a warning."),
            "compliance" => attr(Bool, OptionalComputed, "Under a retention mandate: every bucket needs expiry of at least 2555 days (7 years) and an archive transition. Default `false`."),
            "runbook_url" => attr(Str, Optional, "Link to the failover runbook."),
            "drill_interval" => attr(Str, Optional, "How old the newest passing drill of this policy may be before `dr_status`'s `drill_current` turns false, e.g. `90d` (the default: a quarterly drill, as most DR plans require), from `1d` to `3650d`. Recorded in the `drkit:targets` tag."),
            "delete_replicas_on_destroy" => attr(Bool, OptionalComputed, "Destroy deletes the read replicas and Aurora secondary clusters this policy created (never sources, global clusters, buckets, snapshots or objects). Default `false`: destroy keeps every replica."),
            "tier" => attr(Str, Computed, "Weakest mechanism across the resources: `none`, `in-region-backups`, `cross-region-backups`, `cross-region-replication`, `replication-time-control`, `cross-region-replica` or `aurora-global-database`."),
            "compliant" => attr(Bool, Computed, "True when the live resources have every setting of the policy (no `findings`)."),
            "findings" => attr(List(Box::new(Str)), Computed, "What the live resources miss, one sentence each, as of the last read."),
            "estimated_rpo" => attr(Str, Computed, "Data a region loss would lose with these settings; empty when nothing survives it."),
            "estimated_rto" => attr(Str, Computed, "Time to recover from a region loss with these settings; empty when it cannot be recovered.")
        },
    );
    root.blocks = map! {
        "rds" => NestedBlock::List(rds),
        "s3" => NestedBlock::List(s3),
        "rds_cluster" => NestedBlock::List(rds_cluster),
        "timeouts" => NestedBlock::Optional(timeouts)
    };
    Schema {
        version: 1,
        block: root,
    }
}

// ---------------------------------------------------------------------------------------
// The resource
// ---------------------------------------------------------------------------------------

/// `resource "dr_policy"`.
#[derive(Debug, Clone)]
pub struct DrPolicy {
    clients: SharedClients,
    claims: Arc<Mutex<Claims>>,
}

impl DrPolicy {
    /// A resource reading its AWS clients from `clients` once the provider is configured.
    pub fn new(clients: SharedClients) -> Self {
        DrPolicy {
            clients,
            claims: Arc::default(),
        }
    }
}

#[async_trait::async_trait]
impl Resource for DrPolicy {
    type State<'a> = PolicyState;
    type PrivateState<'a> = ValueEmpty;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        // No provider configuration yet: shapes and the tier model, regions unknown.
        policy::validate(diags, &config, None);
        Some(())
    }

    async fn plan_create<'a>(
        &self,
        diags: &mut Diagnostics,
        proposed: Self::State<'a>,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let clients = crate::aws::clients(&self.clients, diags)?;
        let planned = policy::plan(diags, clients, &self.claims, None, proposed, &config).await;
        Some((planned, ValueEmpty::Null))
    }

    async fn plan_update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        proposed: Self::State<'a>,
        config: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>, Vec<AttributePath>)> {
        let clients = crate::aws::clients(&self.clients, diags)?;
        let planned = policy::plan(
            diags,
            clients,
            &self.claims,
            Some(&prior),
            proposed,
            &config,
        )
        .await;
        // Nothing forces replacement: a renamed policy moves its markers in place.
        Some((planned, ValueEmpty::Null, vec![]))
    }

    async fn plan_destroy<'a>(
        &self,
        _diags: &mut Diagnostics,
        _prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::PrivateState<'a>> {
        Some(ValueEmpty::Null)
    }

    async fn create<'a>(
        &self,
        diags: &mut Diagnostics,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let clients = crate::aws::clients(&self.clients, diags)?;
        let desired = Desired::from_state(diags, &planned)?;
        let timeout = policy::timeout(&planned, true);
        let ok = policy::apply(diags, clients, &desired, None, timeout).await;
        if !ok {
            // Nothing is stored: the next apply plans a create again, and create starts
            // from the live state (adopting what this attempt already did).
            return None;
        }
        let state = policy::refresh_computed(diags, clients, planned, &desired).await;
        Some((state, ValueEmpty::Null))
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        state: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let clients = crate::aws::clients(&self.clients, diags)?;
        let state = policy::read(diags, clients, state).await;
        Some((state, ValueEmpty::Null))
    }

    async fn update<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        planned: Self::State<'a>,
        _config: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let clients = crate::aws::clients(&self.clients, diags)?;
        let Some(desired) = Desired::from_state(diags, &planned) else {
            return Some((prior, ValueEmpty::Null));
        };
        let previous = Desired::from_state(&mut Diagnostics::default(), &prior);
        let timeout = policy::timeout(&planned, false);
        let ok = policy::apply(diags, clients, &desired, previous.as_ref(), timeout).await;
        if !ok {
            // Keep the prior state: the next plan shows the remaining difference and the
            // next apply converges from what is live.
            return Some((prior, ValueEmpty::Null));
        }
        let state = policy::refresh_computed(diags, clients, planned, &desired).await;
        Some((state, ValueEmpty::Null))
    }

    async fn destroy<'a>(
        &self,
        diags: &mut Diagnostics,
        prior: Self::State<'a>,
        _private: Self::PrivateState<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<()> {
        let clients = crate::aws::clients(&self.clients, diags)?;
        let desired = Desired::from_state(diags, &prior)?;
        let delete_replicas = prior.delete_replicas_on_destroy == Value::Value(true);
        policy::destroy(diags, clients, &desired, delete_replicas).await;
        Some(())
    }

    async fn import<'a>(
        &self,
        diags: &mut Diagnostics,
        id: String,
    ) -> Option<(Self::State<'a>, Self::PrivateState<'a>)> {
        let state = policy::import_state(diags, &id)?;
        Some((state, ValueEmpty::Null))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tf_provider::schema::Block;

    fn descriptions_missing(block: &Block, path: &str, out: &mut Vec<String>) {
        if block.description.content.is_empty() || block.description.content == "empty" {
            out.push(path.to_string());
        }
        for (name, a) in &block.attributes {
            if a.description.content.is_empty() || a.description.content == "empty" {
                out.push(format!("{path}.{name}"));
            }
        }
        for (name, b) in &block.blocks {
            let inner = match b {
                NestedBlock::Single(b)
                | NestedBlock::List(b)
                | NestedBlock::Set(b)
                | NestedBlock::Map(b)
                | NestedBlock::Group(b)
                | NestedBlock::Optional(b) => b,
            };
            descriptions_missing(inner, &format!("{path}.{name}"), out);
        }
    }

    #[test]
    fn every_attribute_and_block_is_described() {
        let mut missing = Vec::new();
        descriptions_missing(&schema().block, "dr_policy", &mut missing);
        assert!(missing.is_empty(), "{missing:?}");
    }
}

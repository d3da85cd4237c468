//! Checks of an `rds` or `rds_cluster` block against its live source (owner, KMS keys of
//! the copy, windows), made at plan time and again at apply. Pure: the caller reads the
//! live resource.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::diagnostics::error;
use crate::state::dr_policy::{
    BackupsBlock, GlobalSecondaryBlock, RdsBlock, RdsClusterBlock, ReplicaBlock,
};

use super::claims::{owner_conflict, OWNER_TAG};
use super::desired::{DesiredCluster, DesiredRds};
use super::rds::LiveInstance;
use super::rds_cluster::LiveCluster;
use super::source_settings::check_window_overlap;

/// Checks an `rds` block against its live source instance: owner, encryption keys,
/// windows. Used at plan time and again at apply.
pub(super) fn check_live_instance(
    diags: &mut Diagnostics,
    b: &RdsBlock,
    live: &LiveInstance,
    name: &str,
    may_own: &dyn Fn(&str) -> bool,
    p: &AttributePath,
) {
    if let Some(owner) = live.tags.get(OWNER_TAG) {
        if !may_own(owner) {
            diags.add_error(owner_conflict(
                "RDS instance owned by another policy",
                &format!("RDS instance {}", live.identifier),
                owner,
                name,
                p.clone().attribute("instance_identifier"),
            ));
        }
    }
    if live.encrypted {
        for (block, present, key) in [
            (
                "cross_region_replica",
                b.cross_region_replica.is_value(),
                b.cross_region_replica
                    .as_ref_option()
                    .map(|r| &r.kms_key_id),
            ),
            (
                "cross_region_backups",
                b.cross_region_backups.is_value(),
                b.cross_region_backups
                    .as_ref_option()
                    .map(|r| &r.kms_key_id),
            ),
        ] {
            if present && key.is_some_and(Value::is_null) {
                diags.add_error(error(
                    "Encrypted source needs a KMS key in the DR region",
                    format!(
                        "RDS instance {} is encrypted (key {}). KMS keys are regional, so its \
                         copy in another region needs a key of that region: set kms_key_id to \
                         the ARN of a KMS key in the DR region.",
                        live.identifier,
                        live.kms_key_id.as_deref().unwrap_or("unknown")
                    ),
                    p.clone().attribute(block).index(0).attribute("kms_key_id"),
                ));
            }
        }
    }
    check_window_overlap(
        diags,
        &b.backup_window,
        live.maintenance_window.as_deref(),
        &live.identifier,
        p,
    );
}

/// The state of an `rds` block, for the checks shared with plan.
pub(super) fn rds_block_of(d: &DesiredRds) -> RdsBlock {
    RdsBlock {
        instance_identifier: Value::Value(d.identifier.clone()),
        backup_window: Value::from(d.settings.backup_window.clone()),
        cross_region_replica: match &d.replica {
            Some(r) => Value::Value(ReplicaBlock {
                kms_key_id: Value::from(r.kms_key_id.clone()),
                ..Default::default()
            }),
            None => Value::Null,
        },
        cross_region_backups: match &d.backups {
            Some(r) => Value::Value(BackupsBlock {
                kms_key_id: Value::from(r.kms_key_id.clone()),
                ..Default::default()
            }),
            None => Value::Null,
        },
        ..Default::default()
    }
}

/// The error when the secondary's identifier names a cluster outside the global cluster.
pub(super) fn secondary_taken(
    existing: &LiveCluster,
    global: &str,
    path: AttributePath,
) -> Diagnostic {
    error(
        "Secondary cluster identifier taken",
        format!(
            "DB cluster {} exists but is not a member of global cluster {global} ({}). It may \
             have been detached during a failover. Choose another cluster_identifier, or delete \
             or rename that cluster.",
            existing.identifier,
            match &existing.global_cluster {
                Some(g) => format!("it belongs to {g}"),
                None => "it is a standalone cluster".to_string(),
            }
        ),
        path,
    )
}

/// Checks an `rds_cluster` block against its live source: owner, the secondary's KMS key,
/// windows. Used at plan time and again at apply.
pub(super) fn check_live_cluster(
    diags: &mut Diagnostics,
    b: &RdsClusterBlock,
    live: &LiveCluster,
    name: &str,
    may_own: &dyn Fn(&str) -> bool,
    p: &AttributePath,
) {
    if let Some(owner) = live.tags.get(OWNER_TAG) {
        if !may_own(owner) {
            diags.add_error(owner_conflict(
                "Aurora cluster owned by another policy",
                &format!("DB cluster {}", live.identifier),
                owner,
                name,
                p.clone().attribute("cluster_identifier"),
            ));
        }
    }
    if let Value::Value(g) = &b.global_secondary {
        if live.encrypted && g.kms_key_id.is_null() {
            diags.add_error(error(
                "Encrypted source needs a KMS key in the DR region",
                format!(
                    "DB cluster {} is encrypted (key {}). KMS keys are regional, so its \
                     secondary in another region needs a key of that region: set kms_key_id to \
                     the ARN of a KMS key in the DR region.",
                    live.identifier,
                    live.kms_key_id.as_deref().unwrap_or("unknown")
                ),
                p.clone()
                    .attribute("global_secondary")
                    .index(0)
                    .attribute("kms_key_id"),
            ));
        }
    }
    check_window_overlap(
        diags,
        &b.backup_window,
        live.maintenance_window.as_deref(),
        &live.identifier,
        p,
    );
}

/// The state of an `rds_cluster` block, for the checks shared with plan.
pub(super) fn block_of(d: &DesiredCluster) -> RdsClusterBlock {
    RdsClusterBlock {
        cluster_identifier: Value::Value(d.identifier.clone()),
        backup_window: Value::from(d.settings.backup_window.clone()),
        global_secondary: match &d.secondary {
            Some(s) => Value::Value(GlobalSecondaryBlock {
                kms_key_id: Value::from(s.kms_key_id.clone()),
                ..Default::default()
            }),
            None => Value::Null,
        },
        ..Default::default()
    }
}

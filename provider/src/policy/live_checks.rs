//! Checks of an `rds` or `rds_cluster` block against its live source (owner, KMS keys of
//! the copy, windows), made at plan time and again at apply. Pure: the caller reads the
//! live resource.

use std::collections::HashMap;

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::diagnostics::error;
use crate::state::dr_policy::{
    BackupsBlock, GlobalSecondaryBlock, RdsBlock, RdsClusterBlock, ReplicaBlock,
    SourceSettingsState,
};

use super::claims::{owner_conflict, OWNER_TAG};
use super::desired::{DesiredCluster, DesiredRds};
use super::rds::LiveInstance;
use super::rds_cluster::LiveCluster;
use super::source_settings::check_window_overlap;

/// What the checks of a live source read, and how they name it: the same checks for an
/// instance and a cluster.
struct LiveSource<'a> {
    /// "RDS instance", "DB cluster": the source in messages.
    noun: &'static str,
    /// Summary of the error when another policy owns it.
    owned_summary: &'static str,
    /// Its identifier attribute in the block.
    identifier_attribute: &'static str,
    /// What its copy in the DR region is called in messages: "copy", "secondary".
    copy: &'static str,
    identifier: &'a str,
    tags: &'a HashMap<String, String>,
    encrypted: bool,
    kms_key_id: Option<&'a str>,
    maintenance_window: Option<&'a str>,
}

/// The checks shared by an instance and a cluster: owner, the KMS key of each copy
/// (`copies`: the copy's block name and, when the block is set, its `kms_key_id`), windows.
fn check_live_source(
    diags: &mut Diagnostics,
    live: &LiveSource,
    copies: &[(&'static str, Option<&Value<String>>)],
    backup_window: &Value<String>,
    name: &str,
    may_own: &dyn Fn(&str) -> bool,
    p: &AttributePath,
) {
    if let Some(owner) = live.tags.get(OWNER_TAG) {
        if !may_own(owner) {
            diags.add_error(owner_conflict(
                live.owned_summary,
                &format!("{} {}", live.noun, live.identifier),
                owner,
                name,
                p.clone().attribute(live.identifier_attribute),
            ));
        }
    }
    if live.encrypted {
        for (block, key) in copies {
            if key.is_some_and(Value::is_null) {
                diags.add_error(error(
                    "Encrypted source needs a KMS key in the DR region",
                    format!(
                        "{} {} is encrypted (key {}). KMS keys are regional, so its {} in \
                         another region needs a key of that region: set kms_key_id to the ARN \
                         of a KMS key in the DR region.",
                        live.noun,
                        live.identifier,
                        live.kms_key_id.unwrap_or("unknown"),
                        live.copy,
                    ),
                    p.clone().attribute(*block).index(0).attribute("kms_key_id"),
                ));
            }
        }
    }
    check_window_overlap(
        diags,
        backup_window,
        live.maintenance_window,
        live.identifier,
        p,
    );
}

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
    let source = LiveSource {
        noun: "RDS instance",
        owned_summary: "RDS instance owned by another policy",
        identifier_attribute: "instance_identifier",
        copy: "copy",
        identifier: &live.identifier,
        tags: &live.tags,
        encrypted: live.encrypted,
        kms_key_id: live.kms_key_id.as_deref(),
        maintenance_window: live.maintenance_window.as_deref(),
    };
    let copies = [
        (
            "cross_region_replica",
            b.cross_region_replica
                .as_ref_option()
                .map(|r| &r.kms_key_id),
        ),
        (
            "cross_region_backups",
            b.cross_region_backups
                .as_ref_option()
                .map(|r| &r.kms_key_id),
        ),
    ];
    check_live_source(
        diags,
        &source,
        &copies,
        &b.settings.backup_window,
        name,
        may_own,
        p,
    );
}

/// The state of an `rds` block, for the checks shared with plan.
pub(super) fn rds_block_of(d: &DesiredRds) -> RdsBlock {
    RdsBlock {
        instance_identifier: Value::Value(d.identifier.clone()),
        settings: SourceSettingsState {
            backup_window: Value::from(d.settings.backup_window.clone()),
            ..Default::default()
        },
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
    let source = LiveSource {
        noun: "DB cluster",
        owned_summary: "Aurora cluster owned by another policy",
        identifier_attribute: "cluster_identifier",
        copy: "secondary",
        identifier: &live.identifier,
        tags: &live.tags,
        encrypted: live.encrypted,
        kms_key_id: live.kms_key_id.as_deref(),
        maintenance_window: live.maintenance_window.as_deref(),
    };
    let copies = [(
        "global_secondary",
        b.global_secondary.as_ref_option().map(|g| &g.kms_key_id),
    )];
    check_live_source(
        diags,
        &source,
        &copies,
        &b.settings.backup_window,
        name,
        may_own,
        p,
    );
}

/// The state of an `rds_cluster` block, for the checks shared with plan.
pub(super) fn block_of(d: &DesiredCluster) -> RdsClusterBlock {
    RdsClusterBlock {
        cluster_identifier: Value::Value(d.identifier.clone()),
        settings: SourceSettingsState {
            backup_window: Value::from(d.settings.backup_window.clone()),
            ..Default::default()
        },
        global_secondary: match &d.secondary {
            Some(s) => Value::Value(GlobalSecondaryBlock {
                kms_key_id: Value::from(s.kms_key_id.clone()),
                ..Default::default()
            }),
            None => Value::Null,
        },
    }
}

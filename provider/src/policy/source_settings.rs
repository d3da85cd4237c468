//! The four settings `dr_policy` keeps on a source database, alike for an `rds` block (a
//! DB instance) and an `rds_cluster` block (an Aurora cluster): backup retention, backup
//! window, deletion protection and copy tags to snapshot. Reading drift against the live
//! values and working out what a modify call changes are written once here; the calls
//! differ (`ModifyDBInstance`, `ModifyDBCluster`) and stay in [`super::rds`] and
//! [`super::rds_cluster`].

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::diagnostics::error;
use crate::state::dr_policy::{RdsBlock, RdsClusterBlock};

use super::blocks::DEFAULT_RETENTION_DAYS;
use super::rds_settings::SourceSettings;
use super::sync::Sync;
use super::windows;

/// The attributes of the settings in an `rds` or `rds_cluster` block (named alike in both).
pub(super) struct SettingsAttributes<'b> {
    pub(super) backup_retention_days: &'b mut Value<i64>,
    pub(super) backup_window: &'b mut Value<String>,
    pub(super) deletion_protection: &'b mut Value<bool>,
    pub(super) copy_tags_to_snapshot: &'b mut Value<bool>,
}

impl<'b> SettingsAttributes<'b> {
    /// The attributes of an `rds` block.
    pub(super) fn of_instance(b: &'b mut RdsBlock) -> Self {
        SettingsAttributes {
            backup_retention_days: &mut b.backup_retention_days,
            backup_window: &mut b.backup_window,
            deletion_protection: &mut b.deletion_protection,
            copy_tags_to_snapshot: &mut b.copy_tags_to_snapshot,
        }
    }

    /// The attributes of an `rds_cluster` block.
    pub(super) fn of_cluster(b: &'b mut RdsClusterBlock) -> Self {
        SettingsAttributes {
            backup_retention_days: &mut b.backup_retention_days,
            backup_window: &mut b.backup_window,
            deletion_protection: &mut b.deletion_protection,
            copy_tags_to_snapshot: &mut b.copy_tags_to_snapshot,
        }
    }

    /// Read: compares the attributes with the live settings (see [`Sync::field`]); `at`
    /// names a setting in a finding ("rds[0] db1 backup window").
    pub(super) fn sync(self, sync: &mut Sync, live: &SourceSettings, at: impl Fn(&str) -> String) {
        sync.field(
            self.backup_retention_days,
            Some(DEFAULT_RETENTION_DAYS),
            live.retention as i64,
            || at("backup retention days"),
        );
        if let Some(w) = &live.backup_window {
            sync.field(self.backup_window, None, w.clone(), || at("backup window"));
        }
        sync.field(
            self.deletion_protection,
            Some(true),
            live.deletion_protection,
            || at("deletion protection"),
        );
        sync.field(
            self.copy_tags_to_snapshot,
            Some(true),
            live.copy_tags,
            || at("copy tags to snapshot"),
        );
    }
}

/// Plan and apply: a `backup_window` overlapping the live maintenance window of
/// `identifier` is an error at the block's `backup_window` (RDS would refuse it).
pub(super) fn check_window_overlap(
    diags: &mut Diagnostics,
    backup_window: &Value<String>,
    maintenance_window: Option<&str>,
    identifier: &str,
    block: &AttributePath,
) {
    let (Value::Value(w), Some(m)) = (backup_window, maintenance_window) else {
        return;
    };
    if let (Ok(bw), Some(mw)) = (
        windows::parse_backup_window(w),
        windows::parse_maintenance_window(m),
    ) {
        if windows::windows_overlap(bw, mw) {
            diags.add_error(error(
                "Backup window overlaps the maintenance window",
                format!(
                    "backup_window {w:?} overlaps the maintenance window {m:?} of {identifier}; \
                     RDS rejects that. Choose a backup window outside it."
                ),
                block.clone().attribute("backup_window"),
            ));
        }
    }
}

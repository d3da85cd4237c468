//! The four settings `dr_policy` keeps on a source database, alike for an `rds` block (a
//! DB instance) and an `rds_cluster` block (an Aurora cluster): backup retention, backup
//! window, deletion protection and copy tags to snapshot. Reading drift against the live
//! values and working out what a modify call changes are written once here; the calls
//! differ (`ModifyDBInstance`, `ModifyDBCluster`) and stay in [`super::rds`] and
//! [`super::rds_cluster`].

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::diagnostics::error;
use crate::state::dr_policy::SourceSettingsState;

use super::blocks::DEFAULT_RETENTION_DAYS;
use super::rds_settings::SourceSettings;
use super::sync::Sync;
use super::windows;

/// Read: compares the settings of an `rds` or `rds_cluster` block with the live ones (see
/// [`Sync::field`]); `at` names a setting in a finding ("rds[0] db1 backup window").
pub(super) fn sync_settings(
    attributes: &mut SourceSettingsState,
    sync: &mut Sync,
    live: &SourceSettings,
    at: impl Fn(&str) -> String,
) {
    sync.field(
        &mut attributes.backup_retention_days,
        Some(DEFAULT_RETENTION_DAYS),
        live.retention as i64,
        || at("backup retention days"),
    );
    if let Some(w) = &live.backup_window {
        sync.field(&mut attributes.backup_window, None, w.clone(), || {
            at("backup window")
        });
    }
    sync.field(
        &mut attributes.deletion_protection,
        Some(true),
        live.deletion_protection,
        || at("deletion protection"),
    );
    sync.field(
        &mut attributes.copy_tags_to_snapshot,
        Some(true),
        live.copy_tags,
        || at("copy tags to snapshot"),
    );
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

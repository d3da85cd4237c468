//! The four settings `dr_policy` keeps on a source database (backup retention, backup
//! window, deletion protection, copy tags to snapshot) as values: what RDS reports, and
//! what a `ModifyDBInstance` or `ModifyDBCluster` call changes. The same for an instance
//! and a cluster.

/// The settings, resolved: what apply makes true, or what RDS reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceSettings {
    /// Automated backup retention in days.
    pub retention: i32,
    /// Daily backup window. Desired `None`: leave it as it is; live `None`: RDS reports none.
    pub backup_window: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Copy tags to snapshots.
    pub copy_tags: bool,
}

/// What a modify call changes; `None` leaves a setting alone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettingsChange {
    /// Backup retention.
    pub retention: Option<i32>,
    /// Backup window.
    pub backup_window: Option<String>,
    /// Deletion protection.
    pub deletion_protection: Option<bool>,
    /// Copy tags to snapshots.
    pub copy_tags: Option<bool>,
}

impl SettingsChange {
    /// What takes `live` to `want`: only the settings that differ.
    pub fn between(live: &SourceSettings, want: &SourceSettings) -> Self {
        SettingsChange {
            retention: (live.retention != want.retention).then_some(want.retention),
            backup_window: want
                .backup_window
                .clone()
                .filter(|w| Some(w) != live.backup_window.as_ref()),
            deletion_protection: (live.deletion_protection != want.deletion_protection)
                .then_some(want.deletion_protection),
            copy_tags: (live.copy_tags != want.copy_tags).then_some(want.copy_tags),
        }
    }

    /// True when nothing changes.
    pub fn is_empty(&self) -> bool {
        *self == SettingsChange::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(retention: i32, window: Option<&str>) -> SourceSettings {
        SourceSettings {
            retention,
            backup_window: window.map(str::to_string),
            deletion_protection: true,
            copy_tags: true,
        }
    }

    #[test]
    fn a_change_holds_only_what_differs_and_a_window_left_as_is_stays() {
        let live = settings(7, Some("03:00-03:30"));
        assert!(SettingsChange::between(&live, &settings(7, None)).is_empty());
        assert!(SettingsChange::between(&live, &settings(7, Some("03:00-03:30"))).is_empty());
        let change = SettingsChange::between(
            &live,
            &SourceSettings {
                copy_tags: false,
                ..settings(14, Some("04:00-04:30"))
            },
        );
        assert_eq!(
            change,
            SettingsChange {
                retention: Some(14),
                backup_window: Some("04:00-04:30".into()),
                deletion_protection: None,
                copy_tags: Some(false),
            }
        );
    }
}

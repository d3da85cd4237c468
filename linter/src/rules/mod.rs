//! The rule registry: one module per rule, one place mapping codes to rules.
//!
//! How to write a rule: add `drNNN_rule_name.rs` with
//! - `pub const META: RuleMeta` (code, kebab-case name, default severity, one-line summary,
//!   `doc: DOC`, whether it has a safe fix),
//! - `pub const DOC: &str`, the user's doc page in the sections `## What it does`,
//!   `## Why is this bad?`, `## Example`, `Use instead:`, `## Fix safety`, `## References`
//!   (`docs/rules/DRNNN.md` is generated from it),
//! - `pub fn check(ctx: &Context, out: &mut Vec<Finding>)`, which queries [`Context`] and
//!   pushes findings made with [`Context::finding`]. A value that is unknown (a variable
//!   without a default, a reference only known at apply) never produces a finding alone.
//!
//! Then list it in [`RULES`] and [`ALL`], and add fixtures in `linter/tests/fixtures/DRNNN/`.

use crate::context::Context;
use crate::finding::{Finding, Severity};

pub mod dr001_same_region_replica;
pub mod dr002_same_region_replication;
pub mod dr003_missing_deletion_protection;
pub mod dr004_short_backup_retention;
pub mod dr005_automated_backups_deleted;
pub mod dr006_skip_final_snapshot;
pub mod dr007_unencrypted_backup;
pub mod dr008_unversioned_bucket;
pub mod dr009_no_retention;
pub mod dr010_no_cross_region_copy;
pub mod dr011_no_restore_drill;
pub mod dr012_single_owner;
pub mod dr013_no_runbook;
pub mod dr014_unreachable_target;
pub mod dr015_ownership_conflict;

pub(crate) mod facts;

/// What a rule is, for listings, docs and configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RuleMeta {
    /// `DR003`.
    pub code: &'static str,
    /// `missing-deletion-protection`.
    pub name: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// One line: what it finds.
    pub summary: &'static str,
    /// The doc page (markdown sections).
    pub doc: &'static str,
    /// Whether `--fix` can fix it.
    pub fixable: bool,
}

/// A rule: its metadata and its check.
#[derive(Clone, Copy)]
pub struct Rule {
    /// Metadata.
    pub meta: &'static RuleMeta,
    /// Pushes the rule's findings.
    pub check: fn(&Context, &mut Vec<Finding>),
}

macro_rules! registry {
    ($($m:ident),* $(,)?) => {
        /// Every rule's metadata, by code.
        pub const RULES: &[RuleMeta] = &[$($m::META),*];
        /// Every rule with its check, by code.
        pub const ALL: &[Rule] = &[$(Rule { meta: &$m::META, check: $m::check }),*];
    };
}

registry!(
    dr001_same_region_replica,
    dr002_same_region_replication,
    dr003_missing_deletion_protection,
    dr004_short_backup_retention,
    dr005_automated_backups_deleted,
    dr006_skip_final_snapshot,
    dr007_unencrypted_backup,
    dr008_unversioned_bucket,
    dr009_no_retention,
    dr010_no_cross_region_copy,
    dr011_no_restore_drill,
    dr012_single_owner,
    dr013_no_runbook,
    dr014_unreachable_target,
    dr015_ownership_conflict,
);

/// The rule with `code` (case-insensitive), or with that name.
pub fn lookup(code: &str) -> Option<&'static RuleMeta> {
    RULES
        .iter()
        .find(|m| m.code.eq_ignore_ascii_case(code) || m.name == code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_sorted_and_documented() {
        for (i, m) in RULES.iter().enumerate() {
            assert_eq!(m.code, format!("DR{:03}", i + 1));
            for section in [
                "## What it does",
                "## Why is this bad?",
                "## Example",
                "## Fix safety",
            ] {
                assert!(m.doc.contains(section), "{} lacks {section}", m.code);
            }
            assert!(!m.summary.is_empty());
        }
        assert_eq!(lookup("dr003").unwrap().name, "missing-deletion-protection");
        assert_eq!(lookup("skip-final-snapshot").unwrap().code, "DR006");
    }
}

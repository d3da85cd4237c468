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
use crate::finding::Finding;
pub use crate::finding::RuleMeta;

/// The "Fix safety" paragraph of rules whose fix sets a value: where a value that is not a
/// literal is fixed (a literal, for `concat!` into a rule's `DOC`).
macro_rules! fixed_where_decided {
    () => {
        "Where the value is not written as a literal, `--fix` changes it where it is decided and
never writes a literal over an expression: the literal a module's caller passes, the
literal `default` of a variable no caller sets, or (when another caller sets the
variable, or the module is one `terraform init` fetched) the `module` block that passes
nothing gets the argument. A value from a `local`, a condition, a function or a `.tfvars`
file gets no fix; the finding says where it comes from. See
[drlint --fix](../drlint.md#where-a-fix-is-written).
"
    };
}

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
pub mod dr016_uncovered_state;
pub mod dr017_snapshot_tags_lost;
pub mod dr018_kms_replication_without_replica_key;
pub mod dr019_cross_region_encrypted_copy_without_kms_key;

pub(crate) mod backup_selection;
pub mod bucket_role;
pub(crate) mod facts;
pub(crate) use crate::context::index;

/// The resource and data source types whose bodies some rule reads. The loader evaluates
/// no other body: an IAM policy, a VPC or an EKS cluster is parsed, and only its address
/// and region are kept. A rule that reads a new type adds it here (a test checks that
/// every type named in the rules is listed).
pub const READ_KINDS: &[&str] = &[
    "aws_backup_plan",
    "aws_backup_selection",
    "aws_db_cluster_snapshot_copy",
    "aws_db_instance",
    "aws_db_instance_automated_backups_replication",
    "aws_db_snapshot_copy",
    "aws_docdb_cluster",
    "aws_dynamodb_table",
    "aws_efs_backup_policy",
    "aws_efs_file_system",
    "aws_efs_replication_configuration",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_neptune_cluster",
    "aws_rds_cluster",
    "aws_rds_global_cluster",
    "aws_s3_bucket",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_replication_configuration",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
    "dr_drill",
    "dr_policy",
    "dr_runbook",
];

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
    dr016_uncovered_state,
    dr017_snapshot_tags_lost,
    dr018_kms_replication_without_replica_key,
    dr019_cross_region_encrypted_copy_without_kms_key,
);

/// The rule's documentation page in markdown (`docs/rules/DRNNN.md`).
pub fn doc_page(meta: &RuleMeta) -> String {
    format!(
        "<!-- Generated from linter/src/rules/ by `UPDATE_DOCS=1 cargo test -p drlint --test rule_docs`: edit the rule's DOC, not this file. -->\n\
         # {code} {name}\n\n\
         {summary}.\n\n\
         | Default severity | Fixable | Suppress with |\n\
         |---|---|---|\n\
         | {severity} | {fixable} | `# drlint:ignore {code} <reason>` |\n\n\
         {doc}",
        code = meta.code,
        name = meta.name,
        summary = capitalized(meta.summary),
        severity = meta.severity.as_str(),
        fixable = if meta.fixable { "yes, `drlint --fix`" } else { "no" },
        doc = meta.doc.trim_start(),
    )
}

/// The index of every rule (`docs/rules/index.md`).
pub fn doc_index() -> String {
    let mut out = String::from(
        "<!-- Generated by `UPDATE_DOCS=1 cargo test -p drlint --test rule_docs`. -->\n\
         # drlint rules\n\n\
         | Code | Name | Default severity | Fixable | Finds |\n\
         |---|---|---|---|---|\n",
    );
    for m in RULES {
        out.push_str(&format!(
            "| [{code}]({code}.md) | {name} | {sev} | {fix} | {summary} |\n",
            code = m.code,
            name = m.name,
            sev = m.severity.as_str(),
            fix = if m.fixable { "yes" } else { "no" },
            summary = m.summary.replace('|', "\\|"),
        ));
    }
    out.push_str(
        "\nThe suppression checks, all warnings: DR000 (suppression-without-reason) reports a \
         `# drlint:ignore` comment that gives no reason, DR900 (expired-suppression) one whose \
         `until=` date has passed, DR901 (unused-suppression) a code that suppressed nothing, \
         DR902 (malformed-suppression) a comment meant as a suppression that is none. \
         Configure selection, severities, the minimum retention and the DR \
         regions in `.drlint.toml`: see [drlint](../drlint.md).\n",
    );
    out
}

fn capitalized(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// The rule with `code` (case-insensitive), or with that name.
pub fn lookup(code: &str) -> Option<&'static RuleMeta> {
    RULES
        .iter()
        .find(|m| m.code.eq_ignore_ascii_case(code) || m.name == code)
}

/// What the rules' own tests share.
#[cfg(test)]
pub(crate) mod test_support {
    /// The resources rule `code` finds in a `terraform show -json` plan, in report order.
    pub(crate) fn plan_findings(code: &str, plan: &str) -> Vec<String> {
        let options = crate::LintOptions {
            select: vec![code.into()],
            ..Default::default()
        };
        let report =
            crate::lint_plan_json(std::path::Path::new("plan.json"), plan.as_bytes(), &options);
        assert!(report.errors.is_empty(), "{:?}", report.errors);
        report.findings.into_iter().map(|f| f.resource).collect()
    }
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

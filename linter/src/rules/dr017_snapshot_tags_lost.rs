//! DR017 snapshot-tags-lost.

use crate::context::{Context, Resource};
use crate::finding::{Finding, Severity};
use crate::fix;
use crate::rules::{facts, RuleMeta};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR017",
    name: "snapshot-tags-lost",
    severity: Severity::Warning,
    summary: "aws_db_instance/aws_rds_cluster without copy_tags_to_snapshot = true",
    doc: DOC,
    fixable: true,
};

/// The rule's documentation page.
pub const DOC: &str = concat!(
    r#"## What it does
Finds `aws_db_instance` and `aws_rds_cluster` resources without
`copy_tags_to_snapshot = true` (the AWS default is off). A database that a `dr_policy`
`rds` or `rds_cluster` block manages is not reported: the policy turns the setting on
unless it says `copy_tags_to_snapshot = false`. Read replicas are skipped.

## Why is this bad?
Snapshots, and the databases restored from them, carry no tags unless the source copies
them. During a recovery the restored copy then has no owner, cost centre, data
classification or backup-plan tag: AWS Backup selections by tag miss it, cost reports put
it nowhere, and access policies conditioned on tags deny or allow the wrong people. The
peers' checks (Checkov `CKV_AWS_129`-style copy-tags checks, tfsec's) flag the same gap.

## Example
```hcl
resource "aws_db_instance" "main" {
  identifier = "orders"
  tags       = { owner = "payments", cost_center = "cc-42" }
}
```

Use instead:
```hcl
resource "aws_db_instance" "main" {
  identifier = "orders"
  tags       = { owner = "payments", cost_center = "cc-42" }

  copy_tags_to_snapshot = true
}
```

## Fix safety
Safe: `--fix` sets `copy_tags_to_snapshot = true` (or changes `false` to `true`), an
in-place modification that affects snapshots taken from then on.

"#,
    fixed_where_decided!(),
    r#"
## References
- [Tagging Amazon RDS resources: copying tags to DB snapshots](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html#USER_Tagging.CopyTags)
"#
);

/// Pushes DR017 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let policies_unknown = facts::policy_identifier_unknown(ctx, "rds", "instance_identifier")
        || facts::policy_identifier_unknown(ctx, "rds_cluster", "cluster_identifier");
    for db in ctx.managed(facts::DATABASES) {
        if facts::is_copy(ctx, db) {
            continue;
        }
        let (at, message) = match db.body.attr("copy_tags_to_snapshot") {
            Some(a) => match a.value.as_bool() {
                Some(false) => (a.loc, "copy_tags_to_snapshot = false: snapshots and the databases restored from them lose their owner and cost tags".to_string()),
                Some(true) => continue,
                None => {
                    ctx.unknown_attr(&META, db, "copy_tags_to_snapshot", a);
                    continue;
                }
            },
            None => {
                if policies_unknown || managed_by_policy(ctx, db) {
                    continue;
                }
                (db.header, "no copy_tags_to_snapshot = true: snapshots and the databases restored from them lose their owner and cost tags (the AWS default is off)".to_string())
            }
        };
        out.push(fix::finding_setting(
            ctx,
            &META,
            db,
            &db.body,
            "copy_tags_to_snapshot",
            "true",
            at,
            message,
            "set copy_tags_to_snapshot = true".into(),
        ));
    }
}

/// A `dr_policy` block that manages `db` and turns copying tags on (its default).
fn managed_by_policy(ctx: &Context, db: &Resource) -> bool {
    facts::policy_db_blocks(ctx, db)
        .any(|(_, b)| b.bool("copy_tags_to_snapshot") != Some(Some(false)))
}

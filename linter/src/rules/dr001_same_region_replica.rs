//! DR001 same-region-replica.

use crate::context::Context;
use crate::finding::{Finding, Severity};
use crate::rules::facts::{self, GlobalRole};
use crate::rules::RuleMeta;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR001",
    name: "same-region-replica",
    severity: Severity::Error,
    summary: "a replica or backup copy in the primary's own region",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds copies of a database that live in the same region as the database itself: a read
replica (`replicate_source_db`, `replication_source_identifier`), a secondary cluster of
an Aurora global database (`aws_rds_cluster` members of one `aws_rds_global_cluster`
through `global_cluster_identifier`), a cross-region backup
replication (`aws_db_instance_automated_backups_replication`) or a snapshot copy
(`aws_db_snapshot_copy`, `aws_backup_plan` `copy_action`) whose provider resolves to the
primary's region. Provider aliases (`provider = aws.dr`), module `providers` maps and
the AWS provider's per-resource `region` are resolved.

## Why is this bad?
A copy in the same region disappears with the region. It looks like DR in a review and
in the console, and it is not: when the region fails, the replica fails with it. If the
replica exists for read scaling, say so with an inline suppression and a reason.

## Example
```hcl
provider "aws" {
  region = "us-east-1"
}

resource "aws_db_instance" "replica" {
  replicate_source_db = aws_db_instance.main.arn
  instance_class      = "db.t3.micro"
}
```

Use instead:
```hcl
provider "aws" {
  alias  = "dr"
  region = "us-west-2"
}

resource "aws_db_instance" "replica" {
  provider            = aws.dr
  replicate_source_db = aws_db_instance.main.arn
  instance_class      = "db.t3.micro"
}
```

## Fix safety
No automatic fix: choosing the DR region is a decision, and moving a replica recreates it.

## References
- [Working with DB instance read replicas (cross-region)](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReadRepl.XRgn.html)
- [Replicating automated backups to another AWS Region](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html)
"#;

/// Pushes DR001 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let same =
        |a: &Option<String>, b: Option<String>| matches!((a, b), (Some(a), Some(b)) if *a == b);
    for r in ctx.managed(&["aws_db_instance", "aws_rds_cluster"]) {
        let key = if r.kind == "aws_db_instance" {
            "replicate_source_db"
        } else {
            "replication_source_identifier"
        };
        let Some(attr) = r.body.attr(key) else {
            continue;
        };
        if same(&r.region, ctx.region_of(&attr.value)) {
            let region = r.region.as_deref().unwrap_or_default();
            out.push(ctx.finding(&META, r, attr.loc, format!(
                "this replica is in {region}, the region of its source: it is lost with the region; create it with a provider in another region"
            ), None));
        }
    }
    // An Aurora global database secondary in the primary's own region.
    for r in ctx.managed_of("aws_rds_cluster") {
        let Some(GlobalRole::Secondary(primary)) = facts::global_role(ctx, r) else {
            continue;
        };
        let primary = &ctx.resources[*primary];
        if same(&r.region, primary.region.clone()) {
            let region = r.region.as_deref().unwrap_or_default();
            let at = r
                .body
                .attr("global_cluster_identifier")
                .map_or(r.header, |a| a.loc);
            out.push(ctx.finding(&META, r, at, format!(
                "this Aurora global database secondary is in {region}, the region of its primary {}: it is lost with the region; create it with a provider in another region",
                primary.address
            ), None));
        }
    }
    for r in ctx.managed(&["aws_db_instance_automated_backups_replication"]) {
        let Some(attr) = r.body.attr("source_db_instance_arn") else {
            continue;
        };
        if same(&r.region, ctx.region_of(&attr.value)) {
            let region = r.region.as_deref().unwrap_or_default();
            out.push(ctx.finding(&META, r, r.header, format!(
                "automated backups are replicated to {region}, the source database's own region: use a provider for the DR region"
            ), None));
        }
    }
    for r in ctx.managed(&["aws_db_snapshot_copy", "aws_db_cluster_snapshot_copy"]) {
        let key = if r.kind == "aws_db_snapshot_copy" {
            "source_db_snapshot_identifier"
        } else {
            "source_db_cluster_snapshot_identifier"
        };
        let Some(attr) = r.body.attr(key) else {
            continue;
        };
        let source_region = ctx.region_of(&attr.value);
        let dest = r
            .str("destination_region")
            .map(str::to_string)
            .or(r.region.clone());
        if same(&dest, source_region) {
            out.push(ctx.finding(
                &META,
                r,
                attr.loc,
                format!(
                    "the snapshot is copied within {}: a copy in the same region is lost with it",
                    dest.unwrap_or_default()
                ),
                None,
            ));
        }
    }
    for plan in ctx.managed(&["aws_backup_plan"]) {
        for rule in plan.body.blocks("rule") {
            for copy in rule.blocks("copy_action") {
                let Some(attr) = copy.attr("destination_vault_arn") else {
                    continue;
                };
                if same(&plan.region, ctx.region_of(&attr.value)) {
                    out.push(ctx.finding(&META, plan, attr.loc, format!(
                        "copy_action copies to a vault in {}, the plan's own region: copy to a vault in the DR region",
                        plan.region.clone().unwrap_or_default()
                    ), None));
                }
            }
        }
    }
}

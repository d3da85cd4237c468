//! DR010 no-cross-region-copy.

use crate::context::{Context, Resource};
use crate::finding::{Finding, Severity};
use crate::rules::facts::GlobalRole;
use crate::rules::{facts, RuleMeta};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR010",
    name: "no-cross-region-copy",
    severity: Severity::Warning,
    summary: "a database or bucket with no copy outside its region",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds databases (`aws_db_instance`, `aws_rds_cluster`) and backup buckets (as DR007 and
DR009 define them: named for backups in whole words, or named by a `dr_policy` or
`dr_drill`; logs, reports and query results expired within 30 days are not) with no copy
in another region. A copy is any of: a read replica in another region, an
`aws_db_instance_automated_backups_replication` in another region, a secondary cluster
of the same Aurora global database (`aws_rds_global_cluster`) in another region, an
`aws_backup_plan` `copy_action` to another region, S3 replication to a bucket in another
region (rules with `status = "Disabled"` copy nothing), or a `dr_policy` that declares a
`cross_region_replica`, `cross_region_backups`, `global_secondary` (in an `rds_cluster`
block) or `replication` for it. With `dr_regions` in `.drlint.toml`, the copy
must be in one of those regions. Replicas, global database secondaries and replication
destinations are themselves the copy and are not asked for another. A global database
primary whose secondaries are not in this configuration (one configuration per region is
common) is not reported.

## Why is this bad?
Everything in one region is lost with the region: backups, snapshots and the database
share its fate. Region outages are rare, but they are exactly the disaster DR exists for.

## Example
```hcl
resource "aws_db_instance" "main" {
  identifier              = "orders"
  backup_retention_period = 14
}
```

Use instead:
```hcl
resource "aws_db_instance_automated_backups_replication" "main" {
  provider               = aws.dr
  source_db_instance_arn = aws_db_instance.main.arn
  retention_period       = 14
}
```

## Fix safety
No automatic fix: a copy needs a DR region, a provider for it and often a KMS key there.

## References
- [Replicating automated backups to another AWS Region](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html)
- [Replicating objects within and across Regions](https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html)
"#;

/// Outcome of looking for a copy: found, not found, or not knowable statically.
#[derive(PartialEq)]
enum Copy {
    Yes,
    No,
    Unknown,
}

fn merge(a: Copy, b: Copy) -> Copy {
    match (a, b) {
        (Copy::Yes, _) | (_, Copy::Yes) => Copy::Yes,
        (Copy::Unknown, _) | (_, Copy::Unknown) => Copy::Unknown,
        _ => Copy::No,
    }
}

fn in_dr_region(ctx: &Context, primary: &Resource, region: Option<&str>) -> Copy {
    match (primary.region.as_deref(), region) {
        (Some(p), Some(r)) if ctx.is_dr_region(p, r) => Copy::Yes,
        (Some(_), Some(_)) => Copy::No,
        _ => Copy::Unknown,
    }
}

fn database_copy(ctx: &Context, db: &Resource) -> Copy {
    let facts_ix = ctx.facts();
    let mut found = Copy::No;
    // Aurora global database: the secondaries are the copies. Without one here (it may be
    // managed in another configuration, per region), whether there is a copy is unknown.
    match facts::global_role(ctx, db) {
        Some(GlobalRole::Primary(secondaries)) if secondaries.is_empty() => {
            found = merge(found, Copy::Unknown);
        }
        Some(GlobalRole::Primary(secondaries)) => {
            for &s in secondaries {
                found = merge(
                    found,
                    in_dr_region(ctx, db, ctx.resources[s].region.as_deref()),
                );
            }
        }
        Some(_) => return Copy::Unknown,
        None => {}
    }
    // Replicas that name this database as their source.
    for r in facts_ix.replicas.naming(db) {
        found = merge(
            found,
            in_dr_region(ctx, db, ctx.resources[r].region.as_deref()),
        );
    }
    if facts_ix.replicas.unknown {
        found = merge(found, Copy::Unknown);
    }
    // Automated backups replicated to another region.
    for r in facts_ix.backup_replications.naming(db) {
        found = merge(
            found,
            in_dr_region(ctx, db, ctx.resources[r].region.as_deref()),
        );
    }
    if facts_ix.backup_replications.may_name(db) || facts_ix.backup_replication_without_source {
        found = merge(found, Copy::Unknown);
    }
    for (_, block) in facts::policy_db_blocks(ctx, db) {
        for key in [
            "cross_region_replica",
            "cross_region_backups",
            "global_secondary",
        ] {
            if let Some(c) = block.block(key) {
                found = merge(
                    found,
                    match c.value("region") {
                        Some(v) => in_dr_region(ctx, db, v.as_str()),
                        None => Copy::Yes, // the provider's dr_region
                    },
                );
            }
        }
    }
    let (kind, key) = facts::policy_db_block_kind(db);
    if facts::policy_identifier_unknown(ctx, kind, key) {
        found = merge(found, Copy::Unknown);
    }
    // AWS Backup: a plan with a copy to another region, when some selection may pick the
    // database (selections by tag or unknown resources count).
    let copies_elsewhere = facts_ix
        .backup_copy_regions
        .iter()
        .any(|region| region.is_none() || in_dr_region(ctx, db, region.as_deref()) != Copy::No);
    if copies_elsewhere {
        let selected = facts_ix.backup_selects_any
            || facts_ix.backup_selected.names(db)
            || facts_ix.backup_selected.may_name(db);
        if selected {
            found = merge(found, Copy::Yes);
        }
    }
    found
}

fn bucket_copy(ctx: &Context, b: &Resource) -> Copy {
    let mut found = Copy::No;
    let (from_here, unknown_source) = facts::replications_from(ctx, b);
    if unknown_source {
        found = merge(found, Copy::Unknown);
    }
    for rep in from_here {
        found = merge(
            found,
            match facts::by_name(ctx, rep.destination) {
                Some(d) => in_dr_region(ctx, b, d.region.as_deref()),
                None => Copy::Unknown,
            },
        );
    }
    for (_, s) in facts::policy_blocks(ctx, "s3", "bucket", b) {
        for rep in s.blocks("replication") {
            found = merge(
                found,
                match rep.value("destination_region") {
                    Some(v) => in_dr_region(ctx, b, v.as_str()),
                    None => Copy::Unknown,
                },
            );
        }
    }
    if facts::policy_identifier_unknown(ctx, "s3", "bucket") {
        found = merge(found, Copy::Unknown);
    }
    found
}

/// `--explain-unknown`'s reason.
const UNKNOWN_COPY: &str = "whether a copy exists outside its region cannot be known before apply: a region, a replica or replication source, a backup selection or a dr_policy identifier is unknown";

/// Pushes DR010 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for db in ctx.managed(facts::DATABASES) {
        if facts::is_copy(ctx, db) {
            continue;
        }
        let copy = database_copy(ctx, db);
        if copy == Copy::Unknown {
            ctx.unknown(&META, db, db.header, UNKNOWN_COPY.into());
        }
        if copy == Copy::No {
            out.push(ctx.finding(&META, db, db.header, format!(
                "no copy of this database outside {}: a cross-region replica or backup replication is missing",
                region_name(db)
            ), None));
        }
    }
    for b in ctx.managed(&["aws_s3_bucket"]) {
        if !facts::is_backup_bucket(ctx, b) || facts::is_replication_destination(ctx, b) {
            continue;
        }
        let copy = bucket_copy(ctx, b);
        if copy == Copy::Unknown {
            ctx.unknown(&META, b, b.header, UNKNOWN_COPY.into());
        }
        if copy == Copy::No {
            out.push(ctx.finding(&META, b, b.header, format!(
                "no copy of this backup bucket outside {}: replicate it to a bucket in another region",
                region_name(b)
            ), None));
        }
    }
}

fn region_name(r: &Resource) -> &str {
    r.region.as_deref().unwrap_or("its region")
}

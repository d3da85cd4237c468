//! Facts several rules share: which buckets hold backups, what a `dr_policy` manages,
//! which resources configure a given bucket, where copies go.

use crate::context::{Context, Node, Resource};
use crate::eval::Value;
pub use crate::rules::index::GlobalRole;
pub use crate::rules::index::WRITER_ATTRIBUTES;

/// Database resource types.
pub const DATABASES: &[&str] = &["aws_db_instance", "aws_rds_cluster"];

/// An `aws_db_instance` that is itself a read replica.
pub fn is_db_replica(db: &Resource) -> bool {
    match db.kind.as_str() {
        "aws_db_instance" => db.value("replicate_source_db").is_some_and(Value::is_given),
        "aws_rds_cluster" => db
            .value("replication_source_identifier")
            .is_some_and(Value::is_given),
        _ => false,
    }
}

/// A database that is itself a copy of another: a read replica, or a secondary cluster
/// of an Aurora global database. Rules about a database's own backups skip copies.
pub fn is_copy(ctx: &Context, db: &Resource) -> bool {
    is_db_replica(db) || matches!(global_role(ctx, db), Some(GlobalRole::Secondary(_)))
}

/// An `aws_rds_cluster`'s part in an Aurora global database, if it is a member.
pub fn global_role<'a>(ctx: &'a Context, db: &Resource) -> Option<&'a GlobalRole> {
    if db.kind != "aws_rds_cluster" {
        return None;
    }
    ctx.facts().global_roles.get(&ctx.position(&db.address)?)
}

/// `dr_policy` blocks of `kind` (`rds`, `rds_cluster` or `s3`) whose identifier attribute
/// `key` names `res`.
pub fn policy_blocks<'a>(
    ctx: &'a Context,
    kind: &'a str,
    key: &'a str,
    res: &'a Resource,
) -> impl Iterator<Item = (&'a Resource, &'a Node)> + 'a {
    debug_assert!(super::index::POLICY_BLOCKS.contains(&(kind, key)));
    ctx.facts()
        .policy_blocks(kind, res)
        .into_iter()
        .map(move |(p, b)| {
            let policy = &ctx.resources[p];
            (policy, &policy.body.blocks[b].1)
        })
}

/// The `dr_policy` blocks that manage database `db`: `rds` blocks naming an
/// `aws_db_instance` by `instance_identifier`, `rds_cluster` blocks naming an
/// `aws_rds_cluster` by `cluster_identifier`.
pub fn policy_db_blocks<'a>(
    ctx: &'a Context,
    db: &'a Resource,
) -> impl Iterator<Item = (&'a Resource, &'a Node)> + 'a {
    let (kind, key) = policy_db_block_kind(db);
    policy_blocks(ctx, kind, key, db)
}

/// The `dr_policy` block type and identifier attribute for a database resource.
pub fn policy_db_block_kind(db: &Resource) -> (&'static str, &'static str) {
    if db.kind == "aws_rds_cluster" {
        ("rds_cluster", "cluster_identifier")
    } else {
        ("rds", "instance_identifier")
    }
}

/// Whether some `dr_policy` has a block of `kind` whose identifier cannot be known (or
/// dynamic content): then no rule can say that a resource is unmanaged.
pub fn policy_identifier_unknown(ctx: &Context, kind: &str, key: &str) -> bool {
    debug_assert!(super::index::POLICY_BLOCKS.contains(&(kind, key)));
    ctx.facts().policy_unknown(kind)
}

/// Split `aws_s3_bucket_*` resources of `kind` whose `bucket` names `bucket`.
pub fn bucket_configs<'a>(
    ctx: &'a Context,
    kind: &'a str,
    bucket: &'a Resource,
) -> impl Iterator<Item = &'a Resource> + 'a {
    let found: Vec<&Resource> = match ctx.facts().bucket_configs(kind) {
        Some(named) => named
            .naming(bucket)
            .into_iter()
            .map(|i| &ctx.resources[i])
            .collect(),
        None => ctx
            .managed_of(kind)
            .filter(|r| config_names(ctx, r, bucket) == Some(true))
            .collect(),
    };
    found.into_iter()
}

/// `--explain-unknown`'s reason when a `dr_policy` block's identifier is unknown.
pub const UNKNOWN_POLICY: &str =
    "a dr_policy block's identifier cannot be known before apply: it may manage this resource";

/// `--explain-unknown`'s reason when a split bucket configuration cannot be placed.
pub const UNRESOLVED_CONFIG: &str = "a split aws_s3_bucket_* resource's `bucket` cannot be resolved before apply: it may configure this bucket";

/// Whether some split resource of `kind` has a `bucket` we cannot resolve (it might be
/// this one).
pub fn bucket_config_unknown(ctx: &Context, kind: &str, bucket: &Resource) -> bool {
    match ctx.facts().bucket_configs(kind) {
        Some(named) => named.may_name(bucket),
        None => ctx
            .managed_of(kind)
            .any(|r| config_names(ctx, r, bucket).is_none()),
    }
}

/// Whether the split `aws_s3_bucket_*` resource `config` configures `bucket`; `None` when
/// that cannot be known. A `bucket` that cannot be evaluated (`var.name` without a default)
/// but is written exactly as some bucket's own `bucket` in the same module instance
/// belongs to that bucket alone: it names no other. (The index answers the same for the
/// kinds in [`super::index::BUCKET_CONFIGS`] without a scan.)
pub fn config_names(ctx: &Context, config: &Resource, bucket: &Resource) -> Option<bool> {
    let attr = config.body.attr("bucket")?;
    if let Some(known) = ctx.names(&attr.value, bucket) {
        return Some(known);
    }
    if !attr.value.is_unknown() {
        return None;
    }
    let text = ctx.expression_text(config, attr)?;
    let mut owners = ctx
        .managed_of("aws_s3_bucket")
        .filter(|b| b.module == config.module)
        .filter(|b| {
            b.body
                .attr("bucket")
                .is_some_and(|a| a.value.is_unknown() && ctx.expression_text(b, a) == Some(text))
        })
        .peekable();
    owners.peek()?;
    Some(owners.any(|b| b.address == bucket.address))
}

/// Whether a bucket holds backups: a `dr_policy` or a `dr_drill` source names it, or its
/// name or tags say so (whole words, see [`super::bucket_role`]) and it is not short-lived
/// working data (logs, reports or query results expired within days).
pub fn is_backup_bucket(ctx: &Context, bucket: &Resource) -> bool {
    policy_blocks(ctx, "s3", "bucket", bucket).next().is_some()
        || drill_names_bucket(ctx, bucket)
        || (super::bucket_role::named_backup(bucket)
            && !super::bucket_role::is_short_lived(ctx, bucket))
}

/// Whether a `dr_drill` source restores from this bucket (see [`super::index::DRILL_BACKUP_URIS`]).
pub fn drill_names_bucket(ctx: &Context, bucket: &Resource) -> bool {
    bucket
        .str("bucket")
        .is_some_and(|name| ctx.facts().drill_buckets.contains(name))
}

/// Destinations (values naming buckets) of every enabled replication configured in `ctx`:
/// split `aws_s3_bucket_replication_configuration` and legacy inline blocks. Each with the
/// source bucket resource, when known.
pub fn replications(ctx: &Context) -> Vec<Replication<'_>> {
    ctx.facts()
        .replications
        .iter()
        .map(|r| Replication {
            config: &ctx.resources[r.config],
            source: r.source.map(|s| &ctx.resources[s]),
            destination: &r.destination,
            at: r.at,
        })
        .collect()
}

/// Replications whose source is `bucket`, and whether some replication's source cannot
/// be resolved (it might be this bucket).
pub fn replications_from<'a>(ctx: &'a Context, bucket: &Resource) -> (Vec<Replication<'a>>, bool) {
    let facts = ctx.facts();
    let from_here = ctx
        .position(&bucket.address)
        .and_then(|at| facts.replications_by_source.get(&at))
        .map_or(&[][..], Vec::as_slice);
    let out = from_here
        .iter()
        .map(|&i| {
            let r = &facts.replications[i];
            Replication {
                config: &ctx.resources[r.config],
                source: r.source.map(|s| &ctx.resources[s]),
                destination: &r.destination,
                at: r.at,
            }
        })
        .collect();
    (out, facts.replication_source_unknown)
}

/// One replication rule's destination.
pub struct Replication<'a> {
    /// The resource that configures it.
    pub config: &'a Resource,
    /// The source bucket, when resolvable.
    pub source: Option<&'a Resource>,
    /// The destination (`arn:aws:s3:::name` or a reference).
    pub destination: &'a Value,
    /// Where the destination is written.
    pub at: crate::finding::Location,
}

/// The bucket resource a value names (by reference, name or ARN).
pub fn by_name<'a>(ctx: &'a Context, v: &Value) -> Option<&'a Resource> {
    if let Some(t) = ctx.target(v) {
        return Some(t);
    }
    let Value::String(s) = v else {
        return None;
    };
    let facts = ctx.facts();
    let direct = facts.bucket_named(s);
    let by_arn = crate::context::arn_resource_name(s).and_then(|n| facts.bucket_named(n));
    direct
        .into_iter()
        .chain(by_arn)
        .min()
        .map(|i| &ctx.resources[i])
}

/// Whether a bucket is the destination of some replication (it is then itself the copy).
pub fn is_replication_destination(ctx: &Context, bucket: &Resource) -> bool {
    ctx.facts().replication_destinations.names(bucket)
}

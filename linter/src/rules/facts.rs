//! Facts several rules share: which buckets hold backups, what a `dr_policy` manages,
//! which resources configure a given bucket, where copies go.

use crate::context::{looks_like_backup, Context, Node, Resource};
use crate::eval::Value;

/// Database resource types.
pub const DATABASES: &[&str] = &["aws_db_instance", "aws_rds_cluster"];

/// An `aws_db_instance` that is itself a read replica.
pub fn is_db_replica(db: &Resource) -> bool {
    match db.kind.as_str() {
        "aws_db_instance" => db
            .value("replicate_source_db")
            .is_some_and(|v| !matches!(v, Value::Null)),
        "aws_rds_cluster" => db
            .value("replication_source_identifier")
            .is_some_and(|v| !matches!(v, Value::Null)),
        _ => false,
    }
}

/// An Aurora cluster that is part of a global database (copies in other regions).
pub fn is_global_member(db: &Resource) -> bool {
    db.kind == "aws_rds_cluster"
        && db
            .value("global_cluster_identifier")
            .is_some_and(|v| !matches!(v, Value::Null))
}

/// `dr_policy` blocks of `kind` (`rds` or `s3`) whose identifier attribute names `res`.
pub fn policy_blocks<'a>(
    ctx: &'a Context,
    kind: &'a str,
    key: &'a str,
    res: &'a Resource,
) -> impl Iterator<Item = (&'a Resource, &'a Node)> + 'a {
    ctx.managed(&["dr_policy"]).flat_map(move |p| {
        p.body
            .blocks(kind)
            .filter(move |b| {
                b.value(key)
                    .is_some_and(|v| ctx.names(v, res) == Some(true))
            })
            .map(move |b| (p, b))
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

/// Whether some `dr_policy` has a block whose identifier cannot be known: then no rule
/// can say that a resource is unmanaged.
pub fn policy_identifier_unknown(ctx: &Context, kind: &str, key: &str) -> bool {
    ctx.managed(&["dr_policy"]).any(|p| {
        p.body.has_dynamic()
            || p.body.blocks(kind).any(|b| {
                b.value(key)
                    .is_none_or(|v| !v.is_known() && v.as_ref().is_none())
            })
    })
}

/// Split `aws_s3_bucket_*` resources of `kind` whose `bucket` names `bucket`.
pub fn bucket_configs<'a>(
    ctx: &'a Context,
    kind: &'a str,
    bucket: &'a Resource,
) -> impl Iterator<Item = &'a Resource> + 'a {
    ctx.managed_of(kind)
        .filter(move |r| config_names(ctx, r, bucket) == Some(true))
}

/// Whether some split resource of `kind` has a `bucket` we cannot resolve (it might be
/// this one).
pub fn bucket_config_unknown(ctx: &Context, kind: &str, bucket: &Resource) -> bool {
    ctx.managed_of(kind)
        .any(|r| config_names(ctx, r, bucket).is_none())
}

/// Whether the split `aws_s3_bucket_*` resource `config` configures `bucket`; `None` when
/// that cannot be known. A `bucket` that cannot be evaluated (`var.name` without a default)
/// but is written exactly as some bucket's own `bucket` in the same module instance
/// belongs to that bucket alone: it names no other.
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

/// The bucket named by an S3 URI `s3://bucket/prefix`.
pub fn s3_uri_bucket(uri: &str) -> Option<&str> {
    uri.strip_prefix("s3://")?.split('/').next()
}

/// Whether a bucket holds backups: by its name or tags, or because a `dr_policy` or a
/// `dr_drill` source names it.
pub fn is_backup_bucket(ctx: &Context, bucket: &Resource) -> bool {
    let by_name = bucket
        .str("bucket")
        .or(bucket.str("bucket_prefix"))
        .is_some_and(looks_like_backup)
        || (bucket.value("bucket").is_none_or(|v| !v.is_known())
            && looks_like_backup(&bucket.name));
    let by_tags = bucket
        .value("tags")
        .and_then(Value::as_map)
        .is_some_and(|tags| {
            tags.iter()
                .any(|(k, v)| looks_like_backup(k) || v.as_str().is_some_and(looks_like_backup))
        });
    by_name
        || by_tags
        || policy_blocks(ctx, "s3", "bucket", bucket).next().is_some()
        || drill_names_bucket(ctx, bucket)
}

/// The source blocks and S3 URI attributes of `dr_drill` that name backup buckets: the
/// dump a `postgres_dump` restores, the base backups and WAL archive a `postgres_pitr`
/// replays.
pub const DRILL_BACKUP_URIS: &[(&str, &str)] = &[
    ("postgres_dump", "s3_uri"),
    ("postgres_pitr", "base_backup_uri"),
    ("postgres_pitr", "wal_archive_uri"),
];

/// Whether a `dr_drill` source restores from this bucket (see [`DRILL_BACKUP_URIS`]).
pub fn drill_names_bucket(ctx: &Context, bucket: &Resource) -> bool {
    let Some(name) = bucket.str("bucket") else {
        return false;
    };
    ctx.managed(&["dr_drill"]).any(|d| {
        DRILL_BACKUP_URIS.iter().any(|(block, key)| {
            d.body.blocks(block).any(|b| {
                b.value(key)
                    .and_then(Value::as_str)
                    .and_then(s3_uri_bucket)
                    .is_some_and(|b| b == name)
            })
        })
    })
}

/// Destinations (values naming buckets) of every replication configured in `ctx`:
/// split `aws_s3_bucket_replication_configuration`, legacy inline blocks, `dr_policy`.
/// Each with the source bucket resource, when known.
pub fn replications(ctx: &Context) -> Vec<Replication<'_>> {
    let mut out = Vec::new();
    for r in ctx.managed(&["aws_s3_bucket_replication_configuration"]) {
        let source = r
            .value("bucket")
            .and_then(|v| ctx.target(v).or_else(|| by_name(ctx, v)));
        for rule in r.body.blocks("rule").filter(|r| !is_disabled(r)) {
            for dest in rule.blocks("destination") {
                if let Some(attr) = dest.attr("bucket") {
                    out.push(Replication {
                        config: r,
                        source,
                        destination: &attr.value,
                        at: attr.value_loc,
                    });
                }
            }
        }
    }
    for b in ctx.managed(&["aws_s3_bucket"]) {
        for rc in b.body.blocks("replication_configuration") {
            for rule in rc.blocks("rules").filter(|r| !is_disabled(r)) {
                for dest in rule.blocks("destination") {
                    if let Some(attr) = dest.attr("bucket") {
                        out.push(Replication {
                            config: b,
                            source: Some(b),
                            destination: &attr.value,
                            at: attr.value_loc,
                        });
                    }
                }
            }
        }
    }
    out
}

/// A replication rule written with `status = "Disabled"`: it copies nothing. (A dynamic
/// rule or an unknown status may be enabled.)
fn is_disabled(rule: &Node) -> bool {
    !rule.dynamic
        && rule
            .value("status")
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("disabled"))
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
    ctx.managed(&["aws_s3_bucket"])
        .find(|b| ctx.names(v, b) == Some(true))
}

/// Whether a bucket is the destination of some replication (it is then itself the copy).
pub fn is_replication_destination(ctx: &Context, bucket: &Resource) -> bool {
    replications(ctx)
        .iter()
        .any(|r| ctx.names(r.destination, bucket) == Some(true))
        || ctx.managed(&["dr_policy"]).any(|p| {
            p.body.blocks("s3").any(|s| {
                s.blocks("replication").any(|rep| {
                    rep.value("destination_bucket")
                        .is_some_and(|v| ctx.names(v, bucket) == Some(true))
                })
            })
        })
}

//! What `aws_backup_selection` resources select: by reference, ARN or wildcard in
//! `resources`, by `selection_tag`, filtered by `condition` blocks. Read once per
//! configuration, then asked per resource.

use crate::context::{Context, Node, Resource};
use crate::eval::Value;

/// Every backup selection of a configuration, read once.
pub struct Selections<'a> {
    all: Vec<Selection<'a>>,
}

struct Selection<'a> {
    /// `resources`: `None` when not written, `Err` when it cannot be known.
    resources: Option<Result<&'a [Value], ()>>,
    /// `selection_tag` blocks (`STRINGEQUALS`): key and value.
    tags: Vec<(&'a Value, &'a Value)>,
    /// `condition { string_equals { key, value } }`: all must hold.
    conditions: Vec<(&'a Value, &'a Value)>,
    /// A dynamic block somewhere: what it selects is unknown.
    dynamic: bool,
}

impl<'a> Selections<'a> {
    /// Reads the selections of `ctx`.
    pub fn new(ctx: &'a Context) -> Self {
        let all = ctx
            .managed_of("aws_backup_selection")
            .map(|s| Selection {
                resources: s.value("resources").map(|v| match v {
                    Value::List(l) => Ok(l.as_slice()),
                    _ => Err(()),
                }),
                tags: s
                    .body
                    .blocks("selection_tag")
                    .filter(|t| {
                        t.value("type")
                            .and_then(Value::as_str)
                            .is_none_or(|ty| ty.eq_ignore_ascii_case("STRINGEQUALS"))
                    })
                    .filter_map(key_value)
                    .collect(),
                conditions: s
                    .body
                    .blocks("condition")
                    .flat_map(|c| c.blocks("string_equals"))
                    .filter_map(key_value)
                    .collect(),
                dynamic: s.body.has_dynamic(),
            })
            .collect();
        Selections { all }
    }

    /// Whether some selection selects `res`, or may (what cannot be known counts as
    /// selected: no finding on an unknown).
    pub fn may_select(&self, ctx: &Context, res: &Resource) -> bool {
        self.all.iter().any(|s| s.may_select(ctx, res))
    }
}

fn key_value(n: &Node) -> Option<(&Value, &Value)> {
    Some((n.value("key")?, n.value("value")?))
}

impl Selection<'_> {
    fn may_select(&self, ctx: &Context, res: &Resource) -> bool {
        if self.dynamic {
            return true;
        }
        let by_resources = match self.resources {
            None => false,
            Some(Err(())) => true,
            Some(Ok(list)) => list.iter().any(|v| match v {
                Value::String(s) if s.contains('*') => wildcard_may_match(s, res),
                v => ctx.names(v, res) != Some(false) && !matches!(v, Value::Null),
            }),
        };
        let by_tag = self
            .tags
            .iter()
            .any(|(k, v)| tag_may_equal(res, k.as_str(), v.as_str()));
        let conditions_hold = self.conditions.iter().all(|(k, v)| match k.as_str() {
            Some(k) => match k.strip_prefix("aws:ResourceTag/") {
                Some(tag) => tag_may_equal(res, Some(tag), v.as_str()),
                None => true,
            },
            None => true,
        });
        (by_resources || by_tag) && conditions_hold
    }
}

/// An ARN pattern with `*` (`arn:aws:dynamodb:*:*:table/*`, `*`): it may match `res`
/// unless it names another service.
fn wildcard_may_match(pattern: &str, res: &Resource) -> bool {
    let Some(service) = pattern
        .strip_prefix("arn:")
        .and_then(|p| p.split(':').nth(1))
    else {
        return true;
    };
    if service == "*" || service.is_empty() {
        return true;
    }
    let ours = match res.kind.as_str() {
        "aws_dynamodb_table" => "dynamodb",
        "aws_efs_file_system" => "elasticfilesystem",
        "aws_elasticache_replication_group" | "aws_elasticache_cluster" => "elasticache",
        "aws_docdb_cluster" | "aws_db_instance" | "aws_rds_cluster" | "aws_neptune_cluster" => {
            "rds"
        }
        "aws_s3_bucket" => "s3",
        _ => return true,
    };
    service == ours
}

/// Whether `res`'s tags have `key` = `value` (unknown tags, key or value: maybe).
fn tag_may_equal(res: &Resource, key: Option<&str>, value: Option<&str>) -> bool {
    let (Some(key), Some(value)) = (key, value) else {
        return true;
    };
    match res.value("tags") {
        None | Some(Value::Null) => false,
        Some(Value::Map(tags)) => match tags.get(key) {
            Some(Value::String(v)) => v == value,
            Some(v) => !v.is_known(),
            None => false,
        },
        Some(_) => true,
    }
}

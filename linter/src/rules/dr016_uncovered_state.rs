//! DR016 uncovered-state.

use crate::context::{Attr, Context, Resource};
use crate::eval::Value;
use crate::finding::Location;
use crate::finding::{Finding, Severity};
use crate::fix;
use crate::rules::{backup_selection, RuleMeta};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR016",
    name: "uncovered-state",
    severity: Severity::Error,
    summary: "a stateful store other than RDS and S3 with no backup or copy",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds stateful stores other than RDS and S3 that nothing backs up or copies:
- `aws_dynamodb_table` without `point_in_time_recovery { enabled = true }`;
- `aws_efs_file_system` with neither an `aws_efs_backup_policy` whose status is
  `ENABLED` nor an `aws_efs_replication_configuration` for it;
- `aws_elasticache_replication_group`, and `aws_elasticache_cluster` running Redis or
  Valkey outside a replication group, with `snapshot_retention_limit` 0 or missing
  (Memcached keeps no data to back up and is skipped);
- `aws_docdb_cluster` and `aws_neptune_cluster` whose `backup_retention_period` is under
  the minimum retention (`min_retention_days`, 7 by default; the AWS default is 1 day).

A store that an `aws_backup_selection` selects is covered: by a reference or ARN in
`resources` (a wildcard such as `"*"` counts), or by a `selection_tag` (`STRINGEQUALS`)
or `condition { string_equals { key = "aws:ResourceTag/..." } }` that matches its
`tags`. When a selection, a tag or a setting cannot be known before apply, nothing is
reported.

## Why is this bad?
"Application state ignored" is the anti-pattern DR plans miss most: the database has
backups, and the session store, the job queue's table, the uploaded files on EFS or the
graph the product runs on have none. After a region loss or a bad deploy, the database
comes back and the application still cannot run.

## Example
```hcl
resource "aws_dynamodb_table" "sessions" {
  name         = "sessions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }
}
```

Use instead:
```hcl
resource "aws_dynamodb_table" "sessions" {
  name         = "sessions"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "id"

  attribute {
    name = "id"
    type = "S"
  }

  point_in_time_recovery {
    enabled = true
  }
}
```

or select it in AWS Backup:
```hcl
resource "aws_backup_selection" "state" {
  name         = "application-state"
  plan_id      = aws_backup_plan.daily.id
  iam_role_arn = aws_iam_role.backup.arn
  resources    = [aws_dynamodb_table.sessions.arn, aws_efs_file_system.uploads.arn]
}
```

## Fix safety
No automatic fix: point-in-time recovery, snapshot retention and backup plans cost money
and their retention is a decision.

## References
- [DynamoDB point-in-time recovery](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery.html)
- [Backing up Amazon EFS file systems](https://docs.aws.amazon.com/efs/latest/ug/awsbackup.html)
- [ElastiCache backup and restore](https://docs.aws.amazon.com/AmazonElastiCache/latest/red-ug/backups.html)
- [Assigning resources to a backup plan](https://docs.aws.amazon.com/aws-backup/latest/devguide/assigning-resources.html)
"#;

/// Pushes DR016 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    let selections = backup_selection::Selections::new(ctx);
    let min = f64::from(ctx.options.min_retention_days);
    // `attr`: the attribute whose value is reported, said where that value is decided.
    let mut report = |res: &Resource, at: Location, message: String, attr: Option<&Attr>| {
        if !selections.may_select(ctx, res) {
            out.push(match attr {
                Some(a) => fix::finding_on_value(ctx, &META, res, a, at, message, None),
                None => ctx.finding(&META, res, at, message, None),
            });
        }
    };
    for t in ctx.managed_of("aws_dynamodb_table") {
        let pitr = t.body.block("point_in_time_recovery");
        match pitr {
            Some(b) if b.dynamic => continue,
            Some(b) => match b.attr("enabled") {
                Some(a) if a.value.as_bool() == Some(false) => report(t, a.loc,
                    "point_in_time_recovery is off: a bad write or a deleted item cannot be undone, and nothing else backs this table up".into(), Some(a)),
                Some(a) if a.value.as_bool().is_none() => {
                    ctx.unknown_attr(&META, t, "point_in_time_recovery.enabled", a);
                    continue;
                }
                Some(_) => continue,
                None => report(t, b.loc,
                    "point_in_time_recovery has no enabled = true: the table has no backup".into(), None),
            },
            None => report(t, t.header,
                "no point_in_time_recovery { enabled = true } and no AWS Backup selection: this table has no backup".into(), None),
        }
    }
    let efs = EfsCoverage::new(ctx);
    for fs in ctx.managed_of("aws_efs_file_system") {
        if efs.unknown {
            ctx.unknown(&META, fs, fs.header,
                "an aws_efs_backup_policy or replication names a file system that cannot be known before apply: it may be this one".into());
        }
        if !efs.covers(fs) {
            report(fs, fs.header,
                "no aws_efs_backup_policy with status ENABLED, no replication and no AWS Backup selection: this file system has no backup or copy".into(), None);
        }
    }
    for r in ctx.managed(&[
        "aws_elasticache_replication_group",
        "aws_elasticache_cluster",
    ]) {
        if r.kind == "aws_elasticache_cluster" {
            // A member of a replication group: the group's settings count.
            if r.value("replication_group_id").is_some() {
                continue;
            }
            match r.value("engine").map(Value::as_str) {
                Some(Some("redis" | "valkey")) => {}
                _ => continue,
            }
        }
        match retention(r.body.attr("snapshot_retention_limit")) {
            Retention::Missing => report(r, r.header,
                "no snapshot_retention_limit: ElastiCache keeps no snapshots, so the cached state is lost with the cluster".into(), None),
            Retention::Days(d, a) if d < 1.0 => report(r, a.loc,
                "snapshot_retention_limit = 0: ElastiCache keeps no snapshots, so the cached state is lost with the cluster".into(), Some(a)),
            Retention::Unknown(a) => ctx.unknown_attr(&META, r, "snapshot_retention_limit", a),
            _ => {}
        }
    }
    for c in ctx.managed(&["aws_docdb_cluster", "aws_neptune_cluster"]) {
        let what = if c.kind == "aws_docdb_cluster" {
            "DocumentDB"
        } else {
            "Neptune"
        };
        match retention(c.body.attr("backup_retention_period")) {
            Retention::Missing if min > 1.0 => report(c, c.header, format!(
                "no backup_retention_period: {what} keeps 1 day of backups by default; set at least {min}"
            ), None),
            Retention::Days(d, a) if d < min => report(c, a.loc, format!(
                "backup_retention_period = {d}: under the minimum of {min} days, corruption found later cannot be undone"
            ), Some(a)),
            Retention::Unknown(a) => ctx.unknown_attr(&META, c, "backup_retention_period", a),
            _ => {}
        }
    }
}

enum Retention<'a> {
    Missing,
    Days(f64, &'a Attr),
    Unknown(&'a Attr),
}

fn retention(attr: Option<&Attr>) -> Retention<'_> {
    match attr {
        None => Retention::Missing,
        Some(a) => match a.value.as_f64() {
            Some(d) => Retention::Days(d, a),
            None if matches!(a.value, Value::Null) => Retention::Missing,
            None => Retention::Unknown(a),
        },
    }
}

/// Which file systems an EFS backup policy or a replication covers, read once. A file
/// system id written as a string (`fs-0123`) names one outside this configuration: the
/// ids of the ones here are known only after apply.
struct EfsCoverage {
    /// Addresses of covered file systems (referenced by address).
    covered: rustc_hash::FxHashSet<String>,
    /// Some policy or replication names a file system that cannot be known.
    pub unknown: bool,
}

impl EfsCoverage {
    fn new(ctx: &Context) -> Self {
        let mut c = EfsCoverage {
            covered: Default::default(),
            unknown: false,
        };
        let mut add = |v: Option<&Value>| match v {
            Some(Value::Ref(r)) => {
                c.covered.insert(r.address.clone());
            }
            Some(Value::String(_)) => {}
            _ => c.unknown = true,
        };
        for p in ctx.managed_of("aws_efs_backup_policy") {
            let status = p
                .body
                .block("backup_policy")
                .and_then(|b| b.value("status"))
                .map(Value::as_str);
            match status {
                Some(Some(s)) if !s.eq_ignore_ascii_case("ENABLED") => {}
                _ => add(p.value("file_system_id")),
            }
        }
        for r in ctx.managed_of("aws_efs_replication_configuration") {
            add(r.value("source_file_system_id"));
        }
        c
    }

    fn covers(&self, fs: &Resource) -> bool {
        self.unknown || self.covered.contains(&fs.address)
    }
}

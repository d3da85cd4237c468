//! DR015 ownership-conflict.

use crate::context::{Context, Resource};
use crate::eval::Value;
use crate::finding::{Finding, Severity};
use crate::rules::{facts, RuleMeta};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR015",
    name: "ownership-conflict",
    severity: Severity::Error,
    summary: "an attribute that dr_policy and an aws_* resource both set, to different values",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds settings that a `dr_policy` and an `aws_*` resource both manage, to different
values, without `lifecycle { ignore_changes }` on the `aws_*` side:
- `aws_db_instance` `backup_retention_period`, `deletion_protection`,
  `copy_tags_to_snapshot` and `backup_window` against the policy's `rds` block, and
  `aws_rds_cluster` `backup_retention_period`, `deletion_protection`,
  `copy_tags_to_snapshot` and `preferred_backup_window` against its `rds_cluster` block
  (the policy's defaults count: deletion protection and tag copying on, 7 days of
  retention);
- `aws_s3_bucket_versioning`, `aws_s3_bucket_replication_configuration`,
  `aws_s3_bucket_lifecycle_configuration` and
  `aws_s3_bucket_server_side_encryption_configuration` for a bucket whose policy `s3`
  block sets versioning, replication, retention or encryption (each API call replaces
  the whole configuration).

## Why is this bad?
Two owners flip the setting on every apply: the AWS provider sets 1 day of retention,
the policy sets 14, and the next apply of the other one reverts it. Plans are never
empty, and which value is live depends on which ran last: possibly the weak one during
an incident.

## Example
```hcl
resource "aws_db_instance" "main" {
  identifier              = "orders"
  backup_retention_period = 1
}

resource "dr_policy" "orders" {
  name = "orders"
  rds {
    instance_identifier   = "orders"
    backup_retention_days = 14
  }
}
```

Use instead:
```hcl
resource "aws_db_instance" "main" {
  identifier              = "orders"
  backup_retention_period = 14

  lifecycle {
    ignore_changes = [backup_retention_period] # owned by dr_policy.orders
  }
}
```

## Fix safety
No automatic fix: which side should own the setting is a decision.

## References
- [Terraform `lifecycle` `ignore_changes`](https://developer.hashicorp.com/terraform/language/meta-arguments/lifecycle#ignore_changes)
"#;

/// Pushes DR015 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for db in ctx.managed(facts::DATABASES) {
        // An instance's `backup_window` is a cluster's `preferred_backup_window`.
        let window = if db.kind == "aws_rds_cluster" {
            "preferred_backup_window"
        } else {
            "backup_window"
        };
        for (policy, block) in facts::policy_db_blocks(ctx, db) {
            let settings: [(&str, &str, Value); 4] = [
                (
                    "backup_retention_period",
                    "backup_retention_days",
                    Value::Number(7.0),
                ),
                (
                    "deletion_protection",
                    "deletion_protection",
                    Value::Bool(true),
                ),
                (
                    "copy_tags_to_snapshot",
                    "copy_tags_to_snapshot",
                    Value::Bool(true),
                ),
                (window, "backup_window", Value::Null),
            ];
            for (aws_key, policy_key, default) in settings {
                let Some(attr) = db.body.attr(aws_key) else {
                    continue;
                };
                if db.ignore_changes.covers(aws_key) {
                    continue;
                }
                let wanted = block.value(policy_key).cloned().unwrap_or(default);
                if differ(&attr.value, &wanted) {
                    out.push(ctx.finding(&META, db, attr.loc, format!(
                        "{aws_key} is also set by {} ({}): every apply flips it; remove it here or add it to lifecycle.ignore_changes",
                        policy.address, show(&wanted)
                    ), None));
                    break;
                }
            }
        }
    }
    let checks: [(&str, &str, &str); 4] = [
        ("aws_s3_bucket_versioning", "versioning", "versioning"),
        (
            "aws_s3_bucket_replication_configuration",
            "replication",
            "replication",
        ),
        (
            "aws_s3_bucket_lifecycle_configuration",
            "retention",
            "retention (lifecycle rules)",
        ),
        (
            "aws_s3_bucket_server_side_encryption_configuration",
            "encryption",
            "encryption",
        ),
    ];
    for b in ctx.managed(&["aws_s3_bucket"]) {
        for (policy, block) in facts::policy_blocks(ctx, "s3", "bucket", b) {
            for (kind, policy_key, what) in checks {
                let sets = if policy_key == "versioning" {
                    true // versioning defaults to on in a policy
                } else {
                    block.block(policy_key).is_some()
                };
                if !sets {
                    continue;
                }
                for cfg in facts::bucket_configs(ctx, kind, b) {
                    if policy_key == "versioning"
                        && !versioning_conflicts(cfg, block.value("versioning"))
                    {
                        continue;
                    }
                    out.push(ctx.finding(&META, cfg, cfg.header, format!(
                        "{what} of {} is also managed by {}: each apply replaces the other's configuration; keep one owner",
                        b.address, policy.address
                    ), None));
                }
            }
        }
    }
}

fn versioning_conflicts(cfg: &Resource, policy: Option<&Value>) -> bool {
    let wanted = policy.map_or(Some(true), Value::as_bool);
    let status = cfg
        .body
        .block("versioning_configuration")
        .and_then(|v| v.value("status"))
        .and_then(Value::as_str);
    match (wanted, status) {
        (Some(w), Some(s)) => w != (s == "Enabled"),
        _ => false,
    }
}

fn differ(a: &Value, b: &Value) -> bool {
    if !a.is_known() || !b.is_known() || matches!(b, Value::Null) {
        return false;
    }
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x != y,
        _ => match (a.as_bool(), b.as_bool()) {
            (Some(x), Some(y)) => x != y,
            _ => a != b,
        },
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("{s:?}"),
        Value::Number(n) => format!("{n}"),
        Value::Bool(b) => b.to_string(),
        _ => "?".into(),
    }
}

//! DR009 no-retention.

use crate::context::Context;
use crate::finding::{Finding, Severity};
use crate::rules::{facts, RuleMeta};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR009",
    name: "no-retention",
    severity: Severity::Error,
    summary: "a backup bucket without lifecycle expiry",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds backup buckets (a `dr_policy` names them, or a `dr_drill` restores from them: the
`postgres_dump` `s3_uri`, the `postgres_pitr` `base_backup_uri` and `wal_archive_uri`; or
their name or a tag value says backup, dump, snapshot, WAL or archive as a whole word:
`db-backups`, `pg_wal`, `nightly.dumps`, `rdsSnapshots`, `orders-wal-g`, but not
`acme-firewall-logs` or `wallet-assets`) with no lifecycle rule that expires objects: no
`aws_s3_bucket_lifecycle_configuration` rule with `expiration` or
`noncurrent_version_expiration`, no legacy inline `lifecycle_rule` doing so, and no
`dr_policy` `retention` block for the bucket.

## Why is this bad?
Backups without expiry grow forever: the bill grows, listing the newest dump gets slower,
and one day the team deletes "old stuff" by hand under pressure, which is how the only
good backup goes. Retention written as code is also what auditors ask for.

## Example
```hcl
resource "aws_s3_bucket" "backups" {
  bucket = "orders-backups"
}
```

Use instead:
```hcl
resource "aws_s3_bucket_lifecycle_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id

  rule {
    id     = "expire-old-dumps"
    status = "Enabled"
    filter {}
    expiration {
      days = 35
    }
    noncurrent_version_expiration {
      noncurrent_days = 7
    }
  }
}
```

## Fix safety
No automatic fix: how long to keep backups is a policy decision.

## References
- [Managing your storage lifecycle](https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lifecycle-mgmt.html)
"#;

/// Pushes DR009 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    const KIND: &str = "aws_s3_bucket_lifecycle_configuration";
    for b in ctx.managed(&["aws_s3_bucket"]) {
        if !facts::is_backup_bucket(ctx, b) {
            continue;
        }
        let expires = |n: &crate::context::Node| {
            n.dynamic
                || n.block("expiration").is_some()
                || n.block("noncurrent_version_expiration").is_some()
        };
        let inline = b
            .body
            .blocks("lifecycle_rule")
            .any(|r| r.dynamic || (r.bool("enabled") != Some(Some(false)) && expires(r)));
        let split = facts::bucket_configs(ctx, KIND, b).any(|c| {
            c.body.blocks("rule").any(|r| {
                r.dynamic
                    || (r.value("status").and_then(|v| v.as_str()) != Some("Disabled")
                        && expires(r))
            })
        });
        let by_policy = facts::policy_blocks(ctx, "s3", "bucket", b)
            .any(|(_, s)| s.block("retention").is_some());
        if inline || split || by_policy {
            continue;
        }
        if facts::bucket_config_unknown(ctx, KIND, b) {
            ctx.unknown(&META, b, b.header, facts::UNRESOLVED_CONFIG.into());
            continue;
        }
        out.push(ctx.finding(&META, b, b.header,
            "this bucket holds backups but nothing expires them: add a lifecycle rule with expiration (and noncurrent_version_expiration)".into(), None));
    }
}

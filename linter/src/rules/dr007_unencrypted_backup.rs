//! DR007 unencrypted-backup.

use crate::context::Context;
use crate::finding::{Finding, Severity};
use crate::rules::{facts, RuleMeta};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR007",
    name: "unencrypted-backup",
    severity: Severity::Error,
    summary: "unencrypted storage, snapshot copies, or buckets holding backups",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds backups that are not encrypted at rest with a key you control:
- `aws_db_instance` and `aws_rds_cluster` without `storage_encrypted = true` (their
  snapshots and automated backups inherit the setting). Aurora Serverless v1 clusters
  (`engine_mode = "serverless"`) are always encrypted and are not reported;
- `aws_db_instance_automated_backups_replication` of an encrypted source without a
  `kms_key_id` in the destination region;
- backup buckets (a `dr_policy`/`dr_drill` names them, or their name or a tag value says
  backup, dump, snapshot, WAL or archive as a whole word, and they are not logs, reports
  or query results expired within 30 days: see "Backup buckets" in docs/drlint.md) with
  no server-side encryption configuration
  (`aws_s3_bucket_server_side_encryption_configuration`, the inline block, or a
  `dr_policy` `encryption` block).

## Why is this bad?
Backups hold all of the data, in one place, for a long time: they are what an attacker
wants. An unencrypted RDS instance cannot be encrypted in place later; it takes a
snapshot, an encrypted copy and a restore, which is downtime. A bucket with only the
default SSE-S3 gives no key policy to limit who can read the dumps.

## Example
```hcl
resource "aws_db_instance" "main" {
  identifier = "orders"
}
```

Use instead:
```hcl
resource "aws_db_instance" "main" {
  identifier        = "orders"
  storage_encrypted = true
  kms_key_id        = aws_kms_key.rds.arn
}
```

## Fix safety
No automatic fix: turning on `storage_encrypted` replaces the database.

## References
- [Encrypting Amazon RDS resources](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html)
- [Protecting data with server-side encryption](https://docs.aws.amazon.com/AmazonS3/latest/userguide/serv-side-encryption.html)
"#;

/// Pushes DR007 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for db in ctx.managed(facts::DATABASES) {
        // A replica's encryption follows its source (or its own kms_key_id).
        if facts::is_copy(ctx, db) || is_serverless_v1(db) {
            continue;
        }
        match db.body.attr("storage_encrypted") {
            Some(a) if a.value.as_bool() == Some(false) => out.push(ctx.finding(&META, db, a.loc,
                "storage_encrypted = false: the database, its snapshots and its automated backups are unencrypted".into(), None)),
            None if db.value("snapshot_identifier").is_none() => out.push(ctx.finding(&META, db, db.header,
                "no storage_encrypted = true: the database, its snapshots and its automated backups are unencrypted (this cannot be changed in place later)".into(), None)),
            Some(a) if a.value.as_bool().is_none() => {
                ctx.unknown_attr(&META, db, "storage_encrypted", a);
            }
            _ => {}
        }
    }
    for r in ctx.managed(&["aws_db_instance_automated_backups_replication"]) {
        if r.body.attr("kms_key_id").is_some() {
            continue;
        }
        let encrypted_source = r
            .value("source_db_instance_arn")
            .and_then(|v| ctx.target(v))
            .and_then(|db| db.body.bool("storage_encrypted"))
            == Some(Some(true));
        if encrypted_source {
            out.push(ctx.finding(&META, r, r.header,
                "the source database is encrypted but no kms_key_id is given for the DR region: replicated backups need a key there".into(), None));
        }
    }
    let unknown_config = |b| {
        facts::bucket_config_unknown(ctx, "aws_s3_bucket_server_side_encryption_configuration", b)
    };
    for b in ctx.managed(&["aws_s3_bucket"]) {
        if !facts::is_backup_bucket(ctx, b)
            || b.body
                .block("server_side_encryption_configuration")
                .is_some()
        {
            continue;
        }
        let configured =
            facts::bucket_configs(ctx, "aws_s3_bucket_server_side_encryption_configuration", b)
                .next()
                .is_some()
                || facts::policy_blocks(ctx, "s3", "bucket", b)
                    .any(|(_, s)| s.block("encryption").is_some());
        if !configured && unknown_config(b) {
            ctx.unknown(&META, b, b.header, facts::UNRESOLVED_CONFIG.into());
        }
        if !configured && !unknown_config(b) {
            out.push(ctx.finding(&META, b, b.header,
                "this bucket holds backups but has no server-side encryption configuration: add one with a KMS key".into(), None));
        }
    }
}

/// Aurora Serverless v1 (`engine_mode = "serverless"`): always encrypted, whatever
/// `storage_encrypted` says.
fn is_serverless_v1(db: &crate::context::Resource) -> bool {
    db.kind == "aws_rds_cluster" && db.str("engine_mode") == Some("serverless")
}

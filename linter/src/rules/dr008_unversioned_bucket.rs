//! DR008 unversioned-bucket.

use crate::context::{Context, Resource};
use crate::finding::{Applicability, Edit, Finding, Fix, Severity};
use crate::fix;
use crate::rules::{bucket_role, facts, RuleMeta};

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR008",
    name: "unversioned-bucket",
    severity: Severity::Error,
    summary: "an S3 bucket without versioning enabled",
    doc: DOC,
    fixable: true,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds `aws_s3_bucket` resources without versioning enabled: no
`aws_s3_bucket_versioning` with `status = "Enabled"` for the bucket, no legacy inline
`versioning { enabled = true }`, and no `dr_policy` `s3` block managing it (a policy
turns versioning on unless it says `versioning = false`). Replication destinations are
checked too: S3 replication requires versioning on both sides. A bucket created with
Object Lock (`object_lock_enabled = true`, or the legacy `object_lock_configuration {
object_lock_enabled = "Enabled" }`) is versioned by S3 itself and is not reported.

Short-lived working data is not reported: a bucket whose name (or a tag value) says logs,
reports, query results or scratch (`access-logs`, `cur`, `cost-report`,
`athena-query-results`, `tmp`, as whole words) and whose lifecycle expires every current
object within 30 days, unless it is a backup bucket, a replication source or a
replication destination. Its objects are thrown away within the month by decision and
produced again by their writer; versioning would keep deleted copies nobody restores.
When such a bucket's expiry is not known before apply (`days = var.retention`), it is not
judged (see `--explain-unknown`).

## Why is this bad?
Without versioning, an overwrite or a delete, by a bug, a script or ransomware, is
final. Versioning is the RPO-zero protection against mistakes, and the prerequisite for
replication and object lock.

## Example
```hcl
resource "aws_s3_bucket" "backups" {
  bucket = "orders-backups"
}
```

Use instead:
```hcl
resource "aws_s3_bucket" "backups" {
  bucket = "orders-backups"
}

resource "aws_s3_bucket_versioning" "backups" {
  bucket = aws_s3_bucket.backups.id

  versioning_configuration {
    status = "Enabled"
  }
}
```

## Fix safety
Safe: `--fix` adds an `aws_s3_bucket_versioning` resource after the bucket, or sets
`status = "Enabled"` / `enabled = true` where versioning is written as off. Enabling
versioning is an in-place change; storage grows with noncurrent versions, which a
lifecycle rule (DR009) expires.

The added resource follows its bucket: it copies the bucket's `count` or `for_each`
(as written) and refers to `aws_s3_bucket.NAME[count.index].id` or
`aws_s3_bucket.NAME[each.key].id`, and it copies `provider` (a bucket in the DR region's
`aws.dr` is configured through `aws.dr`, not the default provider's region) and the AWS
provider 6's `region`. It does not copy `depends_on`: referring to the bucket already
orders it after the bucket and its dependencies. `status` or `enabled` written as an
expression is fixed where its value is decided (see [drlint --fix](../drlint.md#where-a-fix-is-written)).

## References
- [Using versioning in S3 buckets](https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html)
- [Object Lock turns versioning on](https://docs.aws.amazon.com/AmazonS3/latest/userguide/object-lock.html)
"#;

/// Pushes DR008 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    const KIND: &str = "aws_s3_bucket_versioning";
    for b in ctx.managed(&["aws_s3_bucket"]) {
        if object_lock_enabled(b) {
            continue;
        }
        if is_working_data(ctx, b) {
            continue;
        }
        if bucket_role::may_be_short_lived(ctx, b) && !needs_versioning(ctx, b) {
            ctx.unknown(&META, b, b.header, SHORT_LIVED_UNKNOWN.into());
            continue;
        }
        if let Some(v) = b.body.block("versioning") {
            match v.bool("enabled") {
                Some(Some(true)) => continue,
                Some(None) => {
                    if let Some(a) = v.attr("enabled") {
                        ctx.unknown_attr(&META, b, "versioning.enabled", a);
                    }
                    continue;
                }
                _ if v.dynamic => continue,
                _ => {
                    let at = v.attr("enabled").map_or(v.loc, |a| a.loc);
                    out.push(fix::finding_setting(
                        ctx,
                        &META,
                        b,
                        v,
                        "enabled",
                        "true",
                        at,
                        "versioning is off: an overwrite or delete is final".into(),
                        "set enabled = true".into(),
                    ));
                    continue;
                }
            }
        }
        let configs: Vec<&Resource> = facts::bucket_configs(ctx, KIND, b).collect();
        if let Some(cfg) = configs.first() {
            let Some(vc) = cfg.body.block("versioning_configuration") else {
                continue;
            };
            if let Some(status) = vc.attr("status") {
                if !status.value.is_known() {
                    ctx.unknown_attr(&META, cfg, "versioning_configuration.status", status);
                }
                if matches!(status.value.as_str(), Some("Suspended") | Some("Disabled")) {
                    out.push(fix::finding_setting(
                        ctx,
                        &META,
                        cfg,
                        vc,
                        "status",
                        "\"Enabled\"",
                        status.loc,
                        format!(
                            "versioning of {} is {}: an overwrite or delete is final",
                            b.address,
                            status.value.as_str().unwrap_or_default()
                        ),
                        "set status = \"Enabled\"".into(),
                    ));
                }
            }
            continue;
        }
        let managed = facts::policy_blocks(ctx, "s3", "bucket", b)
            .any(|(_, s)| s.bool("versioning").is_none_or(|v| v != Some(false)));
        if managed {
            continue;
        }
        if facts::bucket_config_unknown(ctx, KIND, b) {
            ctx.unknown(&META, b, b.header, facts::UNRESOLVED_CONFIG.into());
            continue;
        }
        if facts::policy_identifier_unknown(ctx, "s3", "bucket") {
            ctx.unknown(&META, b, b.header, facts::UNKNOWN_POLICY.into());
            continue;
        }
        let fix = add_versioning(ctx, b);
        out.push(ctx.finding(
            &META,
            b,
            b.header,
            "versioning is not enabled: an overwrite or delete is final".into(),
            fix,
        ));
    }
}

/// A bucket created with Object Lock: S3 turns versioning on with it, for good (it
/// cannot be suspended), whatever the configuration says about versioning.
fn object_lock_enabled(b: &Resource) -> bool {
    b.value("object_lock_enabled").and_then(|v| v.as_bool()) == Some(true)
        || b.body
            .block("object_lock_configuration")
            .and_then(|c| c.value("object_lock_enabled"))
            .and_then(|v| v.as_str())
            == Some("Enabled")
}

/// Short-lived working data (logs, reports, query results expired within days, see
/// [`bucket_role::is_short_lived`]) that nothing restores from and no replication needs
/// versioned: neither a replication source or destination nor a backup bucket.
fn is_working_data(ctx: &Context, b: &Resource) -> bool {
    bucket_role::is_short_lived(ctx, b) && !needs_versioning(ctx, b)
}

/// A backup bucket, or a replication source or destination: versioned whatever it holds.
fn needs_versioning(ctx: &Context, b: &Resource) -> bool {
    facts::is_backup_bucket(ctx, b)
        || facts::is_replication_destination(ctx, b)
        || !facts::replications_from(ctx, b).0.is_empty()
}

/// `--explain-unknown`'s reason when a working-data bucket's expiry is not known.
const SHORT_LIVED_UNKNOWN: &str = "the bucket is named for logs, reports or query results and its lifecycle expiry is not known before apply: it may be short-lived working data";

/// A new `aws_s3_bucket_versioning` resource right after the bucket's block. None when
/// the bucket's name is not an identifier: `aws_s3_bucket.<name>.id` would not parse (and
/// Terraform rejects such a name anyway).
fn add_versioning(ctx: &Context, b: &Resource) -> Option<Fix> {
    if hcl_edit::Ident::try_new(b.name.as_str()).is_err()
        || crate::decided::declares_resource(ctx, &b.file, "aws_s3_bucket_versioning", &b.name)
    {
        return None;
    }
    let src = ctx.source(&b.file)?;
    let end = b.body.loc.end;
    if src.as_bytes().get(end.checked_sub(1)?) != Some(&b'}') {
        return None;
    }
    let name = &b.name;
    let body = fix::companion_body(ctx, b, &format!("aws_s3_bucket.{name}"))?
        .into_iter()
        .chain([
            String::new(),
            "versioning_configuration {".to_string(),
            "  status = \"Enabled\"".to_string(),
            "}".to_string(),
        ])
        .collect::<Vec<_>>();
    let text = fix::resource_after(src, b, "aws_s3_bucket_versioning", name, &body);
    Some(Fix {
        description: format!(
            "add resource \"aws_s3_bucket_versioning\" \"{name}\" with status = \"Enabled\""
        ),
        edits: vec![Edit {
            start: end,
            end,
            text,
        }],
        applicability: Applicability::Safe,
    })
}

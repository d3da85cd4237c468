//! DR002 same-region-replication.

use crate::context::Context;
use crate::finding::{Finding, Severity};
use crate::rules::facts;
use crate::rules::RuleMeta;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR002",
    name: "same-region-replication",
    severity: Severity::Error,
    summary: "S3 replication to a bucket in the source bucket's region",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds S3 replication rules (`aws_s3_bucket_replication_configuration`, or the legacy inline
`replication_configuration` of `aws_s3_bucket`) whose destination bucket is in the same
region as the source bucket. Regions come from each bucket's provider (aliases resolved).

## Why is this bad?
Same-region replication protects against a deleted bucket, not against the loss of the
region. As a DR measure it gives a false sense of safety: both copies go down together.

## Example
```hcl
resource "aws_s3_bucket_replication_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id
  role   = aws_iam_role.replication.arn

  rule {
    status = "Enabled"
    destination {
      bucket = aws_s3_bucket.backups_copy.arn # same provider, same region
    }
  }
}
```

Use instead: a destination bucket created with a provider for another region
(`provider = aws.dr`).

## Fix safety
No automatic fix: the destination bucket must be created in the DR region first.

## References
- [Replicating objects within and across Regions](https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication.html)
"#;

/// Pushes DR002 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for rep in facts::replications(ctx) {
        let Some(source) = rep.source else { continue };
        let Some(dest) = facts::by_name(ctx, rep.destination) else {
            continue;
        };
        if let (Some(a), Some(b)) = (&source.region, &dest.region) {
            if a == b {
                out.push(ctx.finding(&META, rep.config, rep.at, format!(
                    "replication from {} to {} stays in {a}: the copy is lost with the region; replicate to a bucket in another region",
                    source.address, dest.address
                ), None));
            }
        }
    }
}

//! DR018 kms-replication-without-replica-key.

use crate::context::{Context, Node, Resource};
use crate::eval::Value;
use crate::finding::{Finding, Severity};
use crate::rules::index::is_disabled;
use crate::rules::RuleMeta;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR018",
    name: "kms-replication-without-replica-key",
    severity: Severity::Error,
    summary: "S3 replication of SSE-KMS objects without `replica_kms_key_id` in the destination (S3 refuses it)",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds S3 replication rules that replicate SSE-KMS encrypted objects but do not say which
KMS key encrypts the replicas:
- `aws_s3_bucket_replication_configuration`: a `rule` with
  `source_selection_criteria { sse_kms_encrypted_objects { status = "Enabled" } }` whose
  `destination` has no `encryption_configuration { replica_kms_key_id = ... }`;
- the legacy inline `replication_configuration` of `aws_s3_bucket`: a `rules` block with
  `sse_kms_encrypted_objects { enabled = true }` and no `replica_kms_key_id` in its
  `destination`;
- a `dr_policy` `s3` block whose `encryption` uses a KMS key (`kms_key_id`) and whose
  `replication` has no `replica_kms_key_id` (terraform-provider-dr refuses that plan for the
  same reason).

An empty `replica_kms_key_id = ""` (a common variable default) names no key: the AWS
provider sends none. Disabled rules are skipped; a `dynamic` block, or a value known only
at apply, is not judged (see `--explain-unknown`).

## Why is this bad?
S3 refuses the configuration: a rule that selects SSE-KMS objects must name, in its
destination's `EncryptionConfiguration`, the `ReplicaKmsKeyID` that encrypts the replicas,
and `PutBucketReplication` fails with `InvalidRequest` without it. `terraform apply` then
breaks half-way through the change that was meant to add the DR copy.
KMS keys are regional, and S3 will not guess which key of the destination region may
encrypt the replicas. Until someone notices, nothing reaches the DR region: the backups
that need the copy most (the encrypted ones) are the ones that do not have one.

## Example
```hcl
resource "aws_s3_bucket_replication_configuration" "backups" {
  bucket = aws_s3_bucket.backups.id
  role   = aws_iam_role.replication.arn

  rule {
    status = "Enabled"
    filter {}

    source_selection_criteria {
      sse_kms_encrypted_objects {
        status = "Enabled"
      }
    }

    destination {
      bucket = aws_s3_bucket.backups_dr.arn
    }
  }
}
```

Use instead:
```hcl
    destination {
      bucket = aws_s3_bucket.backups_dr.arn

      encryption_configuration {
        replica_kms_key_id = aws_kms_key.backups_dr.arn # a key of the destination region
      }
    }
```

For `dr_policy`, set `replica_kms_key_id` in the `s3` block's `replication` to the ARN of a
key in the destination region.

## Fix safety
No automatic fix: the key must exist in the destination region, and the replication role
needs `kms:Encrypt` on it (and `kms:Decrypt` on the source key).

## References
- [Replicating objects created with server-side encryption (SSE-C, SSE-S3, SSE-KMS, DSSE-KMS)](https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html)
- [PutBucketReplication: SourceSelectionCriteria and EncryptionConfiguration](https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketReplication.html)
"#;

/// Pushes DR018 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for config in ctx.managed_of("aws_s3_bucket_replication_configuration") {
        for rule in config.body.blocks("rule") {
            check_rule(ctx, config, rule, Form::Split, out);
        }
    }
    for bucket in ctx.managed_of("aws_s3_bucket") {
        for rc in bucket.body.blocks("replication_configuration") {
            for rule in rc.blocks("rules") {
                check_rule(ctx, bucket, rule, Form::Legacy, out);
            }
        }
    }
    for policy in ctx.managed_of("dr_policy") {
        for s3 in policy.body.blocks("s3") {
            check_policy(ctx, policy, s3, out);
        }
    }
}

/// Which resource writes the replication rule: they say "replicate SSE-KMS objects" and
/// name the replica key differently.
#[derive(Clone, Copy)]
enum Form {
    /// `aws_s3_bucket_replication_configuration`: `sse_kms_encrypted_objects { status =
    /// "Enabled" }`, `destination { encryption_configuration { replica_kms_key_id } }`.
    Split,
    /// The legacy inline `replication_configuration` of `aws_s3_bucket`:
    /// `sse_kms_encrypted_objects { enabled = true }`, `destination { replica_kms_key_id }`.
    Legacy,
}

impl Form {
    /// The attribute of `sse_kms_encrypted_objects` that turns it on.
    fn switch(self) -> &'static str {
        match self {
            Form::Split => "status",
            Form::Legacy => "enabled",
        }
    }

    /// Whether the switch's value turns replication of SSE-KMS objects on; `None` when
    /// unknown.
    fn on(self, value: &Value) -> Option<bool> {
        match (self, value) {
            (_, Value::Null) => Some(false),
            (Form::Split, v) => v.as_str().map(|s| s.eq_ignore_ascii_case("enabled")),
            (Form::Legacy, v) => v.as_bool(),
        }
    }

    /// Where the replica key goes, as the message names it.
    fn key_path(self) -> &'static str {
        match self {
            Form::Split => "encryption_configuration { replica_kms_key_id }",
            Form::Legacy => "replica_kms_key_id",
        }
    }

    /// Whether a destination names a replica key (a dynamic block counts as one). The AWS
    /// provider sends no key for an empty string (what `terraform show -json` writes for
    /// an unset legacy `replica_kms_key_id`, and a common variable default).
    fn has_key(self, dest: &Node) -> bool {
        let named = |v: Option<&Value>| is_set(v) && v.and_then(Value::as_str) != Some("");
        match self {
            Form::Split => dest
                .block("encryption_configuration")
                .is_some_and(|enc| enc.dynamic || named(enc.value("replica_kms_key_id"))),
            Form::Legacy => named(dest.value("replica_kms_key_id")),
        }
    }
}

/// A replica key that is written and not `null` (a value known only at apply may be one).
fn is_set(value: Option<&Value>) -> bool {
    !matches!(value, None | Some(Value::Null))
}

/// One replication rule: SSE-KMS objects selected, a destination without a replica key.
fn check_rule(ctx: &Context, res: &Resource, rule: &Node, form: Form, out: &mut Vec<Finding>) {
    if rule.dynamic || is_disabled(rule) {
        return;
    }
    let Some(criteria) = rule.block("source_selection_criteria") else {
        return;
    };
    let Some(sse) = criteria.block("sse_kms_encrypted_objects") else {
        return;
    };
    let Some(switch) = sse.attr(form.switch()) else {
        return;
    };
    if criteria.dynamic || sse.dynamic {
        return;
    }
    match form.on(&switch.value) {
        Some(true) => {}
        Some(false) => return,
        None => {
            ctx.unknown_attr(&META, res, form.switch(), switch);
            return;
        }
    }
    for dest in rule.blocks("destination") {
        if dest.dynamic || form.has_key(dest) {
            continue;
        }
        out.push(ctx.finding(
            &META,
            res,
            dest.loc,
            format!(
                "this rule replicates SSE-KMS objects (sse_kms_encrypted_objects is on) but its destination has no {}: S3 refuses the replication configuration",
                form.key_path()
            ),
            None,
        ));
    }
}

/// A `dr_policy` `s3` block: a bucket encrypted with a KMS key, replicated without a
/// replica key. As terraform-provider-dr's validation: a known `kms_key_id` and a
/// `replica_kms_key_id` that is not written (or null).
fn check_policy(ctx: &Context, policy: &Resource, s3: &Node, out: &mut Vec<Finding>) {
    let Some(encryption) = s3.block("encryption") else {
        return;
    };
    let Some(kms) = encryption.attr("kms_key_id") else {
        return;
    };
    match &kms.value {
        Value::Null => return,
        v if !v.is_known() => {
            ctx.unknown_attr(&META, policy, "kms_key_id", kms);
            return;
        }
        _ => {}
    }
    if encryption.dynamic {
        return;
    }
    for replication in s3.blocks("replication") {
        if replication.dynamic || is_set(replication.value("replica_kms_key_id")) {
            continue;
        }
        out.push(ctx.finding(
            &META,
            policy,
            replication.loc,
            "the bucket is encrypted with a KMS key (encryption.kms_key_id) but this replication has no replica_kms_key_id: S3 replicates SSE-KMS objects only with a key of the destination region, and terraform-provider-dr refuses this plan".into(),
            None,
        ));
    }
}

#[cfg(test)]
mod tests {
    /// `terraform show -json` writes every nested block as a list, an absent one as `[]`.
    #[test]
    fn plans_are_judged_too() {
        let resource = |name: &str, encryption: &str| {
            format!(
                r#"{{"address":"aws_s3_bucket_replication_configuration.{name}","mode":"managed","type":"aws_s3_bucket_replication_configuration","name":"{name}","values":{{"bucket":"{name}","role":"arn:aws:iam::123456789012:role/r","rule":[{{"id":"all","status":"Enabled","source_selection_criteria":[{{"replica_modifications":[],"sse_kms_encrypted_objects":[{{"status":"Enabled"}}]}}],"destination":[{{"bucket":"arn:aws:s3:::{name}-dr","encryption_configuration":{encryption}}}]}}]}}}}"#
            )
        };
        let plan = format!(
            r#"{{"format_version":"1.2","planned_values":{{"root_module":{{"resources":[{},{}]}}}}}}"#,
            resource("without", "[]"),
            resource(
                "with",
                r#"[{"replica_kms_key_id":"arn:aws:kms:us-west-2:123456789012:key/k"}]"#
            ),
        );
        assert_eq!(
            crate::rules::test_support::plan_findings("DR018", &plan),
            ["aws_s3_bucket_replication_configuration.without"]
        );
    }
}

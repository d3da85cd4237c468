//! DR019 cross-region-encrypted-copy-without-kms-key.

use crate::context::{Attr, Context, Resource};
use crate::eval::Value;
use crate::finding::{Finding, Severity};
use crate::rules::facts::{self, GlobalRole};
use crate::rules::RuleMeta;

/// Rule metadata.
pub const META: RuleMeta = RuleMeta {
    code: "DR019",
    name: "cross-region-encrypted-copy-without-kms-key",
    severity: Severity::Error,
    summary: "cross-region copy of an encrypted RDS database without `kms_key_id` in the copy's region (AWS refuses it)",
    doc: DOC,
    fixable: false,
};

/// The rule's documentation page.
pub const DOC: &str = r#"## What it does
Finds copies of an encrypted RDS database in another region that do not name a KMS key of
their own region:
- an `aws_db_instance` read replica whose `replicate_source_db` is an instance of another
  region (its ARN, or a reference to an instance created with a provider of another
  region);
- an `aws_rds_cluster` cross-region replica (`replication_source_identifier`), or a
  secondary cluster of an Aurora global database in another region than its primary;
- an `aws_db_instance_automated_backups_replication` (the resource lives in the
  destination region) of an encrypted instance;
- a `dr_policy` `rds` block's `cross_region_replica` or `cross_region_backups`, or an
  `rds_cluster` block's `global_secondary`, for an encrypted database of this configuration
  (terraform-provider-dr refuses that plan for the same reason);

where the source is encrypted (`storage_encrypted = true`, a `kms_key_id`, or for a global
database the global cluster's `storage_encrypted = true`) and the copy has no
`kms_key_id`. A copy that asks for encryption itself (`storage_encrypted = true`) has an
encrypted source: AWS makes no encrypted replica of an unencrypted database.

A `kms_key_id` that names a key of another region (an ARN, or a key created with another
region's provider; often the source's own key, copied along) is refused as well.
`kms_key_id = null` or `""` (common variable defaults) names no key. A key passed through
a variable or a reference counts as set. A source or region known only at apply (an ARN
from a variable without a default or a module output; a database this configuration does
not hold, unless the copy sets `storage_encrypted = true`) is not judged (see
`--explain-unknown`); a replica in the source's own region is DR001's.

## Why is this bad?
KMS keys are regional: a key of the source's region cannot encrypt anything in the DR
region, and RDS will not pick one there. `CreateDBInstanceReadReplica`, `CreateDBCluster`
and `StartDBInstanceAutomatedBackupsReplication` refuse an encrypted cross-region copy
without a key of the destination region (`InvalidParameterCombination`), so
`terraform apply` fails on the very change that was meant to add the DR copy, after the
primary's changes went through. The encrypted databases, the ones holding the data that
matters, are the ones left without a copy.

## Example
```hcl
provider "aws" {
  alias  = "dr"
  region = "us-west-2"
}

resource "aws_db_instance" "replica" {
  provider            = aws.dr
  identifier          = "orders-dr"
  instance_class      = "db.t3.medium"
  replicate_source_db = aws_db_instance.orders.arn # encrypted, in us-east-1
}
```

Use instead:
```hcl
resource "aws_kms_key" "orders_dr" {
  provider    = aws.dr
  description = "orders replica"
}

resource "aws_db_instance" "replica" {
  provider            = aws.dr
  identifier          = "orders-dr"
  instance_class      = "db.t3.medium"
  replicate_source_db = aws_db_instance.orders.arn
  kms_key_id          = aws_kms_key.orders_dr.arn # a key of us-west-2
}
```

The same `kms_key_id` goes on a cross-region `aws_rds_cluster` replica or global secondary,
on `aws_db_instance_automated_backups_replication`, and in a `dr_policy`'s
`cross_region_replica`, `cross_region_backups` or `global_secondary` block.

## Fix safety
No automatic fix: a key ARN cannot be guessed. The key must exist in the copy's region,
and for a key of another account its policy must let RDS use it.

## References
- [CreateDBInstanceReadReplica: KmsKeyId](https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBInstanceReadReplica.html)
- [CreateDBCluster: KmsKeyId](https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_CreateDBCluster.html)
- [Replicating automated backups to another AWS Region](https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_ReplicateBackups.html)
- [Terraform AWS provider: aws_db_instance `kms_key_id`](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/db_instance#kms_key_id)
"#;

/// Pushes DR019 findings.
pub fn check(ctx: &Context, out: &mut Vec<Finding>) {
    for r in ctx.managed_of("aws_db_instance") {
        check_copy(ctx, r, "replicate_source_db", out);
    }
    for r in ctx.managed_of("aws_rds_cluster") {
        check_copy(ctx, r, "replication_source_identifier", out);
        check_global_secondary(ctx, r, out);
    }
    for r in ctx.managed_of("aws_db_instance_automated_backups_replication") {
        check_copy(ctx, r, "source_db_instance_arn", out);
    }
    for db in ctx.managed(facts::DATABASES) {
        check_policy_copies(ctx, db, out);
    }
}

/// The `dr_policy` blocks that copy an encrypted database to another region: an `rds`
/// block's `cross_region_replica` and `cross_region_backups`, an `rds_cluster` block's
/// `global_secondary`. terraform-provider-dr refuses them without a `kms_key_id` when it
/// reads the live database at plan.
fn check_policy_copies(ctx: &Context, db: &Resource, out: &mut Vec<Finding>) {
    if is_encrypted(db) != Some(true) {
        return;
    }
    let copies: &[&str] = if db.kind == "aws_rds_cluster" {
        &["global_secondary"]
    } else {
        &["cross_region_replica", "cross_region_backups"]
    };
    for (policy, block) in facts::policy_db_blocks(ctx, db) {
        for &name in copies {
            for copy in block.blocks(name) {
                let unset = match copy.value("kms_key_id") {
                    None | Some(Value::Null) => true,
                    Some(Value::String(s)) => s.is_empty(),
                    Some(_) => false,
                };
                if copy.dynamic || !unset {
                    continue;
                }
                let region = copy
                    .value("region")
                    .and_then(Value::as_str)
                    .unwrap_or("the DR region");
                out.push(ctx.finding(
                    &META,
                    policy,
                    copy.loc,
                    format!(
                        "{} is encrypted and this {name} copies it to another region without a key: set kms_key_id to the ARN of a KMS key in {region} (KMS keys are regional; terraform-provider-dr refuses this plan)",
                        db.address
                    ),
                    None,
                ));
            }
        }
    }
}

/// Whether a resource's `kms_key_id` names a key: `None` when unknown before apply. A
/// reference (`aws_kms_key.dr.arn`) names one; `null` and `""` do not.
fn names_key(res: &Resource) -> Option<bool> {
    match res.value("kms_key_id") {
        None | Some(Value::Null) => Some(false),
        Some(Value::String(s)) => Some(!s.is_empty()),
        Some(Value::Ref(_)) => Some(true),
        Some(v) if v.is_known() => Some(true),
        Some(_) => None,
    }
}

/// Whether a database is encrypted, as written: `storage_encrypted = true` or a key.
/// `None` when that cannot be known: an unknown value, or a database whose encryption
/// comes from elsewhere (a snapshot it is restored from, the source it replicates).
fn is_encrypted(db: &Resource) -> Option<bool> {
    let flag = match db.value("storage_encrypted") {
        None | Some(Value::Null) => Some(false),
        Some(v) => v.as_bool(),
    };
    let key = names_key(db);
    if flag == Some(true) || key == Some(true) {
        return Some(true);
    }
    if flag.is_none() || key.is_none() {
        return None;
    }
    // Aurora Serverless v1 storage is always encrypted.
    if db.str("engine_mode") == Some("serverless") {
        return Some(true);
    }
    let inherited = [
        "snapshot_identifier",
        "replicate_source_db",
        "replication_source_identifier",
    ]
    .iter()
    .any(|k| db.value(k).is_some_and(|v| !v.is_null()))
        || db.body.block("restore_to_point_in_time").is_some()
        || db.body.block("s3_import").is_some();
    (!inherited).then_some(false)
}

/// The database a copy's source attribute names: the referenced resource, or the
/// database of that ARN's region and name in this configuration.
fn source_db<'a>(ctx: &'a Context, kind: &'a str, v: &Value, region: &str) -> Option<&'a Resource> {
    if let Some(t) = ctx.target(v) {
        return Some(t);
    }
    ctx.managed_of(kind)
        .find(|db| db.region.as_deref() == Some(region) && ctx.names(v, db) == Some(true))
}

/// A copy whose attribute `key` names its source: a read replica (instance or cluster),
/// or replicated automated backups.
fn check_copy(ctx: &Context, copy: &Resource, key: &str, out: &mut Vec<Finding>) {
    let Some(attr) = copy.body.attr(key) else {
        return;
    };
    if attr.value.is_null() {
        return;
    }
    // A plain identifier names a source in the copy's own region: AWS takes only ARNs
    // across regions.
    if matches!(&attr.value, Value::String(s) if !s.starts_with("arn:")) {
        return;
    }
    let here = copy.region.as_deref();
    let there = ctx.region_of(&attr.value);
    let (Some(here), Some(there)) = (here, there.as_deref()) else {
        unknown(ctx, copy, key, attr, "the source's or the copy's region");
        return;
    };
    if here == there {
        return;
    }
    let source_kind = if copy.kind == "aws_rds_cluster" {
        "aws_rds_cluster"
    } else {
        "aws_db_instance"
    };
    let source = source_db(ctx, source_kind, &attr.value, there);
    // A replica that asks for encryption has an encrypted source (AWS makes no encrypted
    // replica of an unencrypted one); replicated backups say nothing of it.
    let wants = copy.kind != "aws_db_instance_automated_backups_replication"
        && copy.value("storage_encrypted").and_then(Value::as_bool) == Some(true);
    let encrypted = if wants {
        Some(true)
    } else {
        source.and_then(is_encrypted)
    };
    match encrypted {
        Some(true) => {}
        Some(false) => return,
        None => {
            let what = source.map_or_else(
                || "whether the source is encrypted".to_string(),
                |s| format!("whether {} is encrypted (storage_encrypted, kms_key_id, or the snapshot or source it is made from)", s.address),
            );
            unknown(ctx, copy, key, attr, &what);
            return;
        }
    }
    let Some(false) = names_key(copy) else {
        if let Some(k) = copy.body.attr("kms_key_id") {
            if !k.value.is_known() && !matches!(k.value, Value::Ref(_)) {
                ctx.unknown_attr(&META, copy, "kms_key_id", k);
            }
        }
        key_of_another_region(ctx, copy, here, out);
        return;
    };
    let what = if copy.kind == "aws_db_instance_automated_backups_replication" {
        "its automated backups are replicated to"
    } else {
        "this replica is in"
    };
    let from = match source {
        Some(s) if !wants || is_encrypted(s) == Some(true) => {
            format!("{} is encrypted in {there}", s.address)
        }
        _ => format!(
            "the source in {there} is encrypted (this replica sets storage_encrypted = true)"
        ),
    };
    out.push(ctx.finding(
        &META,
        copy,
        attr.loc,
        format!(
            "{from} and {what} {here} without a key: set kms_key_id to the ARN of a KMS key in {here} (KMS keys are regional; AWS refuses an encrypted cross-region copy without one)"
        ),
        None,
    ));
}

/// An Aurora global database secondary in another region than its encrypted primary.
fn check_global_secondary(ctx: &Context, secondary: &Resource, out: &mut Vec<Finding>) {
    let Some(GlobalRole::Secondary(primary)) = facts::global_role(ctx, secondary) else {
        return;
    };
    let primary = &ctx.resources[*primary];
    let (Some(here), Some(there)) = (secondary.region.as_deref(), primary.region.as_deref()) else {
        return;
    };
    if here == there {
        return;
    }
    let global = secondary
        .body
        .attr("global_cluster_identifier")
        .and_then(|a| ctx.target(&a.value));
    let global_encrypted = global
        .and_then(|g| g.value("storage_encrypted"))
        .and_then(Value::as_bool);
    let encrypted = if global_encrypted == Some(true)
        || secondary
            .value("storage_encrypted")
            .and_then(Value::as_bool)
            == Some(true)
    {
        Some(true)
    } else {
        is_encrypted(primary)
    };
    let at = secondary
        .body
        .attr("global_cluster_identifier")
        .map_or(secondary.header, |a| a.loc);
    match encrypted {
        Some(true) => {}
        Some(false) => return,
        None => {
            ctx.unknown(
                &META,
                secondary,
                at,
                format!(
                    "whether the global database's primary {} is encrypted cannot be known before apply",
                    primary.address
                ),
            );
            return;
        }
    }
    match names_key(secondary) {
        Some(false) => {}
        Some(true) => {
            key_of_another_region(ctx, secondary, here, out);
            return;
        }
        None => {
            if let Some(k) = secondary.body.attr("kms_key_id") {
                ctx.unknown_attr(&META, secondary, "kms_key_id", k);
            }
            return;
        }
    }
    out.push(ctx.finding(
        &META,
        secondary,
        at,
        format!(
            "the global database's primary {} is encrypted in {there} and this secondary is in {here} without a key: set kms_key_id to the ARN of a KMS key in {here} (KMS keys are regional; AWS refuses an encrypted cross-region secondary without one)",
            primary.address
        ),
        None,
    ));
}

/// A copy whose `kms_key_id` names a key of another region than its own (often the
/// source's key, copied along): KMS keys are regional, and AWS refuses it as well.
fn key_of_another_region(ctx: &Context, copy: &Resource, here: &str, out: &mut Vec<Finding>) {
    let Some(attr) = copy.body.attr("kms_key_id") else {
        return;
    };
    let Some(there) = ctx.region_of(&attr.value).filter(|r| r != here) else {
        return;
    };
    out.push(ctx.finding(
        &META,
        copy,
        attr.loc,
        format!(
            "kms_key_id names a key in {there}, but this copy is in {here}: KMS keys are regional; set it to the ARN of a KMS key in {here}"
        ),
        None,
    ));
}

/// Records that `copy` could not be judged because `what` is unknown.
fn unknown(ctx: &Context, copy: &Resource, key: &str, attr: &Attr, what: &str) {
    if attr.value.is_known() || matches!(attr.value, Value::Ref(_)) {
        ctx.unknown(
            &META,
            copy,
            attr.loc,
            format!("{key}: {what} cannot be known before apply"),
        );
    } else {
        ctx.unknown_attr(&META, copy, key, attr);
    }
}

#[cfg(test)]
mod tests {
    /// `terraform show -json`: regions come from the provider configs, a computed
    /// `kms_key_id` the configuration does not set is absent from the planned values, and
    /// one set from a key created in the same apply is a reference in the configuration.
    #[test]
    fn plans_are_judged_too() {
        let plan = r#"{
  "format_version": "1.2",
  "planned_values": {"root_module": {"resources": [
    {"address": "aws_db_instance.orders", "mode": "managed", "type": "aws_db_instance", "name": "orders",
     "values": {"identifier": "orders", "storage_encrypted": true}},
    {"address": "aws_db_instance.without", "mode": "managed", "type": "aws_db_instance", "name": "without",
     "values": {"identifier": "orders-dr", "replicate_source_db": "arn:aws:rds:us-east-1:123456789012:db:orders"}},
    {"address": "aws_db_instance.with", "mode": "managed", "type": "aws_db_instance", "name": "with",
     "values": {"identifier": "orders-dr2", "replicate_source_db": "arn:aws:rds:us-east-1:123456789012:db:orders"}}
  ]}},
  "configuration": {
    "provider_config": {
      "aws": {"name": "aws", "expressions": {"region": {"constant_value": "us-east-1"}}},
      "aws.dr": {"name": "aws", "alias": "dr", "expressions": {"region": {"constant_value": "us-west-2"}}}
    },
    "root_module": {"resources": [
      {"address": "aws_db_instance.orders", "provider_config_key": "aws", "expressions": {}},
      {"address": "aws_db_instance.without", "provider_config_key": "aws.dr", "expressions": {}},
      {"address": "aws_db_instance.with", "provider_config_key": "aws.dr",
       "expressions": {"kms_key_id": {"references": ["aws_kms_key.dr.arn", "aws_kms_key.dr"]}}}
    ]}
  }
}"#;
        assert_eq!(
            crate::rules::test_support::plan_findings("DR019", plan),
            ["aws_db_instance.without"]
        );
    }
}

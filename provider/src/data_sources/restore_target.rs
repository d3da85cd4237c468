//! `dr_status`'s `restore_target` blocks: where a restore of the policy would land, so
//! that the preflight can check it exists. A data source cannot read `dr_drill`'s state,
//! so users pass the drill's own attributes here (`dr_drill.x.rds[0].db_subnet_group_name`),
//! which Terraform resolves, and which works before the first drill has run.

use serde::{Deserialize, Serialize};
use tf_provider::schema::{AttributeConstraint, AttributeType, Block};
use tf_provider::value::Value;
use tf_provider::{map, AttributePath, Diagnostics};

use crate::diagnostics::error;
use crate::restore_placement::PlacementArgs;
use crate::schema_helpers::{attr, block};
use crate::status::preflight::restore_target::RestoreTarget;

/// One `restore_target { }`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreTargetBlock {
    /// Region restored to; default the provider's `region`.
    #[serde(default)]
    pub region: Value<String>,
    /// DB subnet group there.
    #[serde(default)]
    pub db_subnet_group_name: Value<String>,
    /// VPC security groups there.
    #[serde(default)]
    pub vpc_security_group_ids: Value<Vec<Value<String>>>,
    /// DB parameter group there.
    #[serde(default)]
    pub parameter_group_name: Value<String>,
    /// DB cluster parameter group there.
    #[serde(default)]
    pub db_cluster_parameter_group_name: Value<String>,
    /// Instance class of the restore.
    #[serde(default)]
    pub instance_class: Value<String>,
}

impl RestoreTargetBlock {
    fn placement(&self) -> PlacementArgs<'_> {
        PlacementArgs {
            db_subnet_group_name: &self.db_subnet_group_name,
            vpc_security_group_ids: &self.vpc_security_group_ids,
            parameter_group_name: &self.parameter_group_name,
            db_cluster_parameter_group_name: &self.db_cluster_parameter_group_name,
        }
    }
}

/// The block's schema.
pub fn schema() -> Block {
    use AttributeConstraint::Optional;
    use AttributeType::{Set, String as Str};
    block(
        "Where a restore of the policy would land, checked on every plan (reads only): each \
         group named exists in `region`, the security groups are in the subnet group's VPC, \
         and `instance_class` is offered there for the policy's engines. Pass the drill's \
         own attributes, e.g. `db_subnet_group_name = dr_drill.orders.rds[0].db_subnet_group_name`: \
         a data source cannot read a resource's state, and this works before the first drill. \
         One block per drill or restore runbook; a check per group, named in `preflight`.",
        map! {
            "region" => attr(Str, Optional, "Region the restore lands in (the drill's `rds` `region`). Default: the provider's `region`, where a drill without `region` restores."),
            "db_subnet_group_name" => attr(Str, Optional, "DB subnet group the restore uses: it must exist in `region` (`rds:DescribeDBSubnetGroups`)."),
            "vpc_security_group_ids" => attr(Set(Box::new(Str)), Optional, "Security group IDs the restore uses: each must exist in `region`, in the subnet group's VPC (`ec2:DescribeSecurityGroups`)."),
            "parameter_group_name" => attr(Str, Optional, "DB parameter group of the restored instance: it must exist in `region` (`rds:DescribeDBParameterGroups`)."),
            "db_cluster_parameter_group_name" => attr(Str, Optional, "DB cluster parameter group of a restored Aurora cluster: it must exist in `region` (`rds:DescribeDBClusterParameterGroups`)."),
            "instance_class" => attr(Str, Optional, "Class of the restored instance: it must be offered in `region` for the engine of each of the policy's instances and clusters (`rds:DescribeOrderableDBInstanceOptions`; unknown where the endpoint does not answer)."),
        },
    )
}

/// Errors on the attribute of the block that carries them.
pub fn validate(diags: &mut Diagnostics, blocks: &Value<Vec<RestoreTargetBlock>>) {
    for (i, b) in blocks.as_ref_option().into_iter().flatten().enumerate() {
        let at = AttributePath::new("restore_target").index(i as i64);
        if let Some(r) = b.region.as_ref_option() {
            if !crate::shape::is_region_name(r) {
                diags.add_error(error(
                    "Invalid region",
                    format!("region = {r:?} is not an AWS region name such as \"us-west-2\"."),
                    at.clone().attribute("region"),
                ));
            }
        }
        if let Some(class) = b.instance_class.as_ref_option() {
            if !crate::shape::is_instance_class(class) {
                diags.add_error(error(
                    "Invalid instance_class",
                    format!("{class:?} is not an RDS instance class: write it like \"db.t3.medium\" (with the \"db.\" prefix)."),
                    at.clone().attribute("instance_class"),
                ));
            }
        }
        b.placement().validate(diags, &at);
    }
}

/// The targets to check; a region left out is the provider's `primary`.
pub fn targets(blocks: &Value<Vec<RestoreTargetBlock>>, primary: &str) -> Vec<RestoreTarget> {
    blocks
        .as_ref_option()
        .into_iter()
        .flatten()
        .map(|b| RestoreTarget {
            region: b
                .region
                .as_ref_option()
                .cloned()
                .unwrap_or_else(|| primary.to_string()),
            placement: b.placement().known(),
            instance_class: b.instance_class.as_ref_option().cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_point_into_the_block_and_the_region_defaults_to_the_primary() {
        let blocks = Value::Value(vec![
            RestoreTargetBlock {
                db_subnet_group_name: Value::Value("dr-private".into()),
                ..Default::default()
            },
            RestoreTargetBlock {
                region: Value::Value("us-west".into()),
                instance_class: Value::Value("r6g.large".into()),
                vpc_security_group_ids: Value::Value(vec![Value::Value("default".into())]),
                ..Default::default()
            },
        ]);
        let mut d = Diagnostics::default();
        validate(&mut d, &blocks);
        let at: Vec<AttributePath> = d.errors.iter().map(|e| e.attribute.clone()).collect();
        let second = AttributePath::new("restore_target").index(1);
        assert_eq!(
            at,
            [
                second.clone().attribute("region"),
                second.clone().attribute("instance_class"),
                second.attribute("vpc_security_group_ids"),
            ]
        );
        let t = targets(&blocks, "us-east-1");
        assert_eq!(t[0].region, "us-east-1");
        assert_eq!(
            t[0].placement.db_subnet_group_name.as_deref(),
            Some("dr-private")
        );
    }
}

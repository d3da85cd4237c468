//! Where a restore lands: the DB subnet group, VPC security groups and parameter groups a
//! restore in the DR region needs. Written twice by users, on `dr_drill`'s `rds` block (the
//! drill restores into them) and on `dr_status`'s `restore_target` blocks (the preflight
//! checks they exist): one validation and one conversion for both, so that a value one
//! accepts the other accepts too.

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::diagnostics::error;
use crate::shape::{is_db_subnet_group_name, is_parameter_group_name, is_security_group_id};

/// The placement attributes of a block, as configured.
pub struct PlacementArgs<'a> {
    pub db_subnet_group_name: &'a Value<String>,
    pub vpc_security_group_ids: &'a Value<Vec<Value<String>>>,
    pub parameter_group_name: &'a Value<String>,
    pub db_cluster_parameter_group_name: &'a Value<String>,
}

impl PlacementArgs<'_> {
    /// The known values, for the drill engine and the preflight.
    pub fn known(&self) -> drkit_drill::Placement {
        drkit_drill::Placement {
            db_subnet_group_name: self.db_subnet_group_name.as_ref_option().cloned(),
            vpc_security_group_ids: self
                .vpc_security_group_ids
                .as_ref_option()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_ref_option().cloned())
                .collect(),
            parameter_group_name: self.parameter_group_name.as_ref_option().cloned(),
            cluster_parameter_group_name: self
                .db_cluster_parameter_group_name
                .as_ref_option()
                .cloned(),
        }
    }

    /// Errors on the attribute below `block` for each malformed name (unknown values wait
    /// for apply).
    pub fn validate(&self, diags: &mut Diagnostics, block: &AttributePath) {
        if let Some(name) = self.db_subnet_group_name.as_ref_option() {
            if !is_db_subnet_group_name(name) {
                diags.add_error(error(
                    "Invalid db_subnet_group_name",
                    format!("db_subnet_group_name = {name:?} is not a DB subnet group name: 1–255 letters, digits, spaces, '.', '_' or '-' (the name, e.g. aws_db_subnet_group.dr.name, not its ARN)."),
                    block.clone().attribute("db_subnet_group_name"),
                ));
            }
        }
        for attr in ["parameter_group_name", "db_cluster_parameter_group_name"] {
            let value = match attr {
                "parameter_group_name" => self.parameter_group_name,
                _ => self.db_cluster_parameter_group_name,
            };
            if let Some(name) = value.as_ref_option() {
                if !is_parameter_group_name(name) {
                    diags.add_error(error(
                        format!("Invalid {attr}"),
                        format!("{attr} = {name:?} is not a parameter group name: a letter, then letters, digits, '.' or single '-', not ending in '-' (the name, not its ARN)."),
                        block.clone().attribute(attr),
                    ));
                }
            }
        }
        let ids = self
            .vpc_security_group_ids
            .as_ref_option()
            .into_iter()
            .flatten();
        for id in ids.filter_map(|v| v.as_ref_option()) {
            if !is_security_group_id(id) {
                let hint = if id.starts_with("sg-") {
                    ""
                } else {
                    " (a security group ID, e.g. aws_security_group.db.id, not its name)"
                };
                diags.add_error(error(
                    "Invalid vpc_security_group_ids",
                    format!("{id:?} is not a VPC security group ID such as \"sg-0123456789abcdef0\"{hint}."),
                    block.clone().attribute("vpc_security_group_ids"),
                ));
            }
        }
        if self
            .vpc_security_group_ids
            .as_ref_option()
            .is_some_and(|v| v.is_empty())
        {
            diags.add_error(error(
                "Invalid vpc_security_group_ids",
                "vpc_security_group_ids is empty: name the security groups, or remove the attribute for the VPC's default.",
                block.clone().attribute("vpc_security_group_ids"),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Value<String> {
        Value::Value(v.into())
    }

    #[test]
    fn each_bad_name_points_at_its_attribute() {
        let (subnet, pg, cpg) = (s("subnet/1"), s("pg_15"), s("default.aurora-postgresql15"));
        let sgs = Value::Value(vec![s("sg-0123abcd"), s("db-servers")]);
        let args = PlacementArgs {
            db_subnet_group_name: &subnet,
            vpc_security_group_ids: &sgs,
            parameter_group_name: &pg,
            db_cluster_parameter_group_name: &cpg,
        };
        let mut d = Diagnostics::default();
        let block = AttributePath::new("rds").index(0);
        args.validate(&mut d, &block);
        let at: Vec<AttributePath> = d.errors.iter().map(|e| e.attribute.clone()).collect();
        assert_eq!(
            at,
            [
                block.clone().attribute("db_subnet_group_name"),
                block.clone().attribute("parameter_group_name"),
                block.clone().attribute("vpc_security_group_ids"),
            ]
        );
        assert!(
            d.errors[2].detail.contains("not its name"),
            "{:?}",
            d.errors[2]
        );
        let known = args.known();
        assert_eq!(known.vpc_security_group_ids, ["sg-0123abcd", "db-servers"]);
        assert_eq!(
            known.cluster_parameter_group_name.as_deref(),
            Some("default.aurora-postgresql15")
        );
    }
}

//! Where an `rds` drill puts its temporary copy: the DB subnet group (and so the VPC), the
//! VPC security groups and the parameter groups, as a real restore in the DR region needs
//! them. Passed to every restore call, and checked against what RDS reports once the copy
//! is available: a copy that landed elsewhere did not prove the restore path.

use aws_sdk_rds::types::{DbCluster, DbInstance};

/// The network and parameter groups of a temporary copy; empty fields leave RDS's
/// defaults (the default VPC's subnet group and security group, the engine's default
/// parameter groups).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Placement {
    /// DB subnet group in the region the copy is restored in.
    pub db_subnet_group_name: Option<String>,
    /// VPC security group IDs (`sg-...`) of that subnet group's VPC.
    pub vpc_security_group_ids: Vec<String>,
    /// DB parameter group of the instance (of an Aurora copy's instance).
    pub parameter_group_name: Option<String>,
    /// DB cluster parameter group of an Aurora copy.
    pub cluster_parameter_group_name: Option<String>,
}

impl Placement {
    /// The security groups as the SDK's optional list: `None` leaves RDS's default.
    pub(crate) fn security_groups(&self) -> Option<Vec<String>> {
        (!self.vpc_security_group_ids.is_empty()).then(|| self.vpc_security_group_ids.clone())
    }

    /// One line for the report: where the copy was asked to go.
    pub(crate) fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if let Some(g) = &self.db_subnet_group_name {
            parts.push(format!("subnet group {g}"));
        }
        if !self.vpc_security_group_ids.is_empty() {
            parts.push(format!(
                "security groups {}",
                self.vpc_security_group_ids.join(", ")
            ));
        }
        if let Some(g) = &self.cluster_parameter_group_name {
            parts.push(format!("cluster parameter group {g}"));
        }
        if let Some(g) = &self.parameter_group_name {
            parts.push(format!("parameter group {g}"));
        }
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// Sets the subnet group and security groups on any RDS restore request builder (their
/// setters share names across the instance and cluster operations).
macro_rules! in_network {
    ($req:expr, $placement:expr) => {
        $req.set_db_subnet_group_name($placement.db_subnet_group_name.clone())
            .set_vpc_security_group_ids($placement.security_groups())
    };
}
pub(crate) use in_network;

/// What RDS reports about where a copy is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Placed {
    pub subnet_group: Option<String>,
    pub security_groups: Vec<String>,
    pub parameter_groups: Vec<String>,
    pub cluster_parameter_group: Option<String>,
}

impl Placed {
    /// Where an instance is.
    pub(crate) fn of_instance(db: &DbInstance) -> Placed {
        Placed {
            subnet_group: db
                .db_subnet_group()
                .and_then(|g| g.db_subnet_group_name())
                .map(str::to_string),
            security_groups: db
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
                .collect(),
            parameter_groups: db
                .db_parameter_groups()
                .iter()
                .filter_map(|g| g.db_parameter_group_name().map(str::to_string))
                .collect(),
            cluster_parameter_group: None,
        }
    }

    /// Where a cluster is, with the parameter groups of its instance `member`.
    pub(crate) fn of_cluster(c: &DbCluster, member: &DbInstance) -> Placed {
        Placed {
            subnet_group: c.db_subnet_group().map(str::to_string),
            security_groups: c
                .vpc_security_groups()
                .iter()
                .filter_map(|g| g.vpc_security_group_id().map(str::to_string))
                .collect(),
            cluster_parameter_group: c.db_cluster_parameter_group().map(str::to_string),
            ..Placed::of_instance(member)
        }
    }
}

/// What differs between where the copy was asked to go and where RDS reports it; empty
/// when it is where it was asked to be. Fields not asked for are not compared.
pub(crate) fn differences(want: &Placement, got: &Placed) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(g) = &want.db_subnet_group_name {
        if got.subnet_group.as_deref() != Some(g.as_str()) {
            out.push(format!(
                "it is not in subnet group {g} (RDS reports {})",
                got.subnet_group.as_deref().unwrap_or("none")
            ));
        }
    }
    let missing: Vec<&str> = want
        .vpc_security_group_ids
        .iter()
        .filter(|g| !got.security_groups.contains(g))
        .map(String::as_str)
        .collect();
    if !missing.is_empty() {
        out.push(format!(
            "it lacks security group(s) {} (RDS reports [{}])",
            missing.join(", "),
            got.security_groups.join(", ")
        ));
    }
    if let Some(g) = &want.parameter_group_name {
        if !got.parameter_groups.contains(g) {
            out.push(format!(
                "it does not use parameter group {g} (RDS reports [{}])",
                got.parameter_groups.join(", ")
            ));
        }
    }
    if let Some(g) = &want.cluster_parameter_group_name {
        if got.cluster_parameter_group.as_deref() != Some(g.as_str()) {
            out.push(format!(
                "it does not use cluster parameter group {g} (RDS reports {})",
                got.cluster_parameter_group.as_deref().unwrap_or("none")
            ));
        }
    }
    out
}

/// Checks the copy against `want`: notes where it is in the report, or fails naming
/// what differs. `what` names the copy ("the restored instance drkit-drill-...").
pub(crate) fn confirm(
    want: &Placement,
    got: &Placed,
    what: &str,
    report: &mut crate::DrillReport,
) -> Result<(), String> {
    let Some(asked) = want.describe() else {
        return Ok(());
    };
    let wrong = differences(want, got);
    if wrong.is_empty() {
        report.notes.push(format!("{what} ran in {asked}"));
        Ok(())
    } else {
        Err(format!(
            "{what} is not where the drill restored it: {}",
            wrong.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn want() -> Placement {
        Placement {
            db_subnet_group_name: Some("dr-private".into()),
            vpc_security_group_ids: vec!["sg-1".into(), "sg-2".into()],
            parameter_group_name: Some("dr-pg15".into()),
            cluster_parameter_group_name: None,
        }
    }

    #[test]
    fn a_copy_where_it_was_asked_to_go_differs_in_nothing() {
        let got = Placed {
            subnet_group: Some("dr-private".into()),
            security_groups: vec!["sg-2".into(), "sg-1".into()],
            parameter_groups: vec!["dr-pg15".into()],
            cluster_parameter_group: Some("default.aurora-postgresql15".into()),
        };
        assert!(differences(&want(), &got).is_empty());
        assert!(differences(&Placement::default(), &Placed::default()).is_empty());
    }

    #[test]
    fn each_difference_is_named_with_what_rds_reports() {
        let got = Placed {
            subnet_group: Some("default".into()),
            security_groups: vec!["sg-1".into()],
            parameter_groups: vec!["default.postgres15".into()],
            cluster_parameter_group: None,
        };
        let cluster = Placement {
            cluster_parameter_group_name: Some("dr-apg".into()),
            ..want()
        };
        assert_eq!(
            differences(&cluster, &got),
            [
                "it is not in subnet group dr-private (RDS reports default)",
                "it lacks security group(s) sg-2 (RDS reports [sg-1])",
                "it does not use parameter group dr-pg15 (RDS reports [default.postgres15])",
                "it does not use cluster parameter group dr-apg (RDS reports none)",
            ]
        );
    }

    #[test]
    fn the_report_line_names_every_group_asked_for() {
        assert_eq!(
            want().describe().unwrap(),
            "subnet group dr-private, security groups sg-1, sg-2, parameter group dr-pg15"
        );
        assert_eq!(Placement::default().describe(), None);
    }
}

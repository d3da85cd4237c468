//! What a restore lands in, checked in the region it restores to: the DB subnet group, the
//! VPC security groups (in the subnet group's VPC), the DB and DB cluster parameter groups,
//! and whether the instance class is offered there for the policy's engines. A restore
//! into a subnet group that was never created in the DR region fails at the worst moment;
//! a plan finds it every day.
//!
//! `dr_status` learns the targets from its `restore_target` blocks (a data source cannot
//! read `dr_drill`'s state; users pass the drill's own attributes, which also works before
//! the first drill). Each read that fails for another reason than "not there" is unknown.

use futures::future::join_all;

use super::Check;
use crate::aws::AwsClients;
use crate::diagnostics::{aws, AwsError};
use crate::status::read_failure;

/// One `restore_target` block: where a restore would land.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RestoreTarget {
    /// The region restored to.
    pub region: String,
    /// Subnet group, security groups, parameter groups.
    pub placement: drkit_drill::Placement,
    /// Class of the restored instance.
    pub instance_class: Option<String>,
}

/// What one existence read found: `Ok(Some(detail))` there (with what it says about it),
/// `Ok(None)` not there.
type Found = Result<Option<String>, AwsError>;

/// One kind of thing that must exist in the target region.
struct Kind {
    check: &'static str,
    /// How the detail names it: "DB subnet group".
    noun: &'static str,
    /// How the subject names it: `subnet-group:REGION:NAME`.
    prefix: &'static str,
    service: &'static str,
    permission: &'static str,
}

const SUBNET_GROUP: Kind = Kind {
    check: "db_subnet_group",
    noun: "DB subnet group",
    prefix: "subnet-group",
    service: "RDS",
    permission: "rds:DescribeDBSubnetGroups",
};
const PARAMETER_GROUP: Kind = Kind {
    check: "db_parameter_group",
    noun: "DB parameter group",
    prefix: "parameter-group",
    service: "RDS",
    permission: "rds:DescribeDBParameterGroups",
};
const CLUSTER_PARAMETER_GROUP: Kind = Kind {
    check: "db_cluster_parameter_group",
    noun: "DB cluster parameter group",
    prefix: "cluster-parameter-group",
    service: "RDS",
    permission: "rds:DescribeDBClusterParameterGroups",
};
const SECURITY_GROUP: Kind = Kind {
    check: "security_group",
    noun: "security group",
    prefix: "security-group",
    service: "EC2",
    permission: "ec2:DescribeSecurityGroups",
};
const INSTANCE_CLASS: &str = "instance_class";

/// Every check the restore targets call for; `engines` are the policy's (the class must be
/// offered for each). Duplicates (two blocks naming one group) are checked once.
pub async fn checks(
    clients: &AwsClients,
    targets: &[RestoreTarget],
    engines: &[String],
) -> Vec<Check> {
    let mut out: Vec<Check> = join_all(targets.iter().map(|t| target(clients, t, engines)))
        .await
        .into_iter()
        .flatten()
        .collect();
    out.sort_by(|a, b| (a.check, &a.subject).cmp(&(b.check, &b.subject)));
    out.dedup_by(|a, b| a.check == b.check && a.subject == b.subject);
    out
}

/// The checks of one target.
async fn target(clients: &AwsClients, t: &RestoreTarget, engines: &[String]) -> Vec<Check> {
    let budget = clients.read_budget();
    let region = t.region.as_str();
    let p = &t.placement;
    let rds = clients.rds(region).await;
    let subnet = async {
        let name = p.db_subnet_group_name.as_deref()?;
        let found = rds
            .describe_db_subnet_groups()
            .db_subnet_group_name(name)
            .send()
            .await
            .map_err(aws("DescribeDBSubnetGroups"))
            .map(|o| {
                o.db_subnet_groups()
                    .iter()
                    .find(|g| g.db_subnet_group_name() == Some(name))
                    .map(|g| {
                        let zones: std::collections::BTreeSet<&str> = g
                            .subnets()
                            .iter()
                            .filter_map(|s| s.subnet_availability_zone()?.name())
                            .collect();
                        let vpc = g.vpc_id().map(str::to_string);
                        (
                            vpc,
                            g.subnets().len(),
                            zones.into_iter().collect::<Vec<_>>().join(", "),
                        )
                    })
            });
        let vpc = found.as_ref().ok().and_then(|g| g.as_ref()?.0.clone());
        let found = found.map(|g| {
            g.map(|(vpc, n, zones)| {
                format!(
                    "in {}, {n} subnet(s) in {zones}",
                    vpc.as_deref().unwrap_or("an unnamed VPC")
                )
            })
        });
        Some((verdict(&SUBNET_GROUP, name, region, found, budget), vpc))
    };
    let parameter_group = async {
        let name = p.parameter_group_name.as_deref()?;
        let found = rds
            .describe_db_parameter_groups()
            .db_parameter_group_name(name)
            .send()
            .await
            .map_err(aws("DescribeDBParameterGroups"))
            .map(|o| {
                o.db_parameter_groups()
                    .iter()
                    .find(|g| g.db_parameter_group_name() == Some(name))
                    .map(|g| format!("family {}", g.db_parameter_group_family().unwrap_or("?")))
            });
        Some(verdict(&PARAMETER_GROUP, name, region, found, budget))
    };
    let cluster_parameter_group = async {
        let name = p.cluster_parameter_group_name.as_deref()?;
        let found = rds
            .describe_db_cluster_parameter_groups()
            .db_cluster_parameter_group_name(name)
            .send()
            .await
            .map_err(aws("DescribeDBClusterParameterGroups"))
            .map(|o| {
                o.db_cluster_parameter_groups()
                    .iter()
                    .find(|g| g.db_cluster_parameter_group_name() == Some(name))
                    .map(|g| format!("family {}", g.db_parameter_group_family().unwrap_or("?")))
            });
        Some(verdict(
            &CLUSTER_PARAMETER_GROUP,
            name,
            region,
            found,
            budget,
        ))
    };
    let classes = async {
        let Some(class) = t.instance_class.as_deref() else {
            return Vec::new();
        };
        if engines.is_empty() {
            return vec![Check::new(
                INSTANCE_CLASS,
                format!("instance-class:{region}:{class}"),
                None,
                format!("whether {class} is offered in {region} cannot be checked: the policy has no RDS instance or cluster whose engine to ask for"),
            )];
        }
        join_all(engines.iter().map(|engine| async {
            let answer = orderable(&rds, engine, class).await;
            class_verdict(class, engine, region, answer, budget)
        }))
        .await
    };
    let (subnet, parameter_group, cluster_parameter_group, classes) =
        tokio::join!(subnet, parameter_group, cluster_parameter_group, classes);
    let vpc = subnet.as_ref().and_then(|(_, vpc)| vpc.clone());
    let groups = security_groups(clients, t, vpc.as_deref()).await;
    subnet
        .map(|(c, _)| c)
        .into_iter()
        .chain(parameter_group)
        .chain(cluster_parameter_group)
        .chain(groups)
        .chain(classes)
        .collect()
}

/// One check per security group: it exists in the region, and in the subnet group's VPC
/// when that is known (RDS refuses security groups of another VPC).
async fn security_groups(
    clients: &AwsClients,
    t: &RestoreTarget,
    subnet_vpc: Option<&str>,
) -> Vec<Check> {
    if t.placement.vpc_security_group_ids.is_empty() {
        return Vec::new();
    }
    let budget = clients.read_budget();
    let region = t.region.as_str();
    let ec2 = clients.ec2(region).await;
    join_all(t.placement.vpc_security_group_ids.iter().map(|id| {
        let ec2 = ec2.clone();
        async move {
            let found = ec2
                .describe_security_groups()
                .group_ids(id)
                .send()
                .await
                .map_err(aws("DescribeSecurityGroups"))
                .map(|o| {
                    o.security_groups()
                        .iter()
                        .find(|g| g.group_id() == Some(id.as_str()))
                        .map(|g| {
                            (
                                g.group_name().unwrap_or_default().to_string(),
                                g.vpc_id().map(str::to_string),
                            )
                        })
                });
            security_group_verdict(id, region, subnet_vpc, t, found, budget)
        }
    }))
    .await
}

/// The verdict on one security group: its existence, then its VPC against the subnet
/// group's.
fn security_group_verdict(
    id: &str,
    region: &str,
    subnet_vpc: Option<&str>,
    t: &RestoreTarget,
    found: Result<Option<(String, Option<String>)>, AwsError>,
    budget: std::time::Duration,
) -> Check {
    if let (Ok(Some((name, Some(vpc)))), Some(want)) = (&found, subnet_vpc) {
        if vpc != want {
            return Check::new(
                SECURITY_GROUP.check,
                format!("{}:{region}:{id}", SECURITY_GROUP.prefix),
                Some(false),
                format!(
                    "security group {id} ({name}) is in {vpc}, but DB subnet group {} is in {want}: RDS refuses security groups of another VPC",
                    t.placement.db_subnet_group_name.as_deref().unwrap_or("?")
                ),
            );
        }
    }
    let found = found.map(|g| {
        g.map(|(name, vpc)| {
            format!(
                "{name}, in {}",
                vpc.as_deref().unwrap_or("no VPC (EC2-Classic)")
            )
        })
    });
    verdict(&SECURITY_GROUP, id, region, found, budget)
}

/// Pure verdict on an existence read.
fn verdict(
    kind: &Kind,
    name: &str,
    region: &str,
    found: Found,
    budget: std::time::Duration,
) -> Check {
    let subject = format!("{}:{region}:{name}", kind.prefix);
    let noun = kind.noun;
    match found {
        Ok(Some(about)) => Check::new(
            kind.check,
            subject,
            Some(true),
            format!("{noun} {name} exists in {region} ({about})"),
        ),
        Ok(None) => Check::new(
            kind.check,
            subject,
            Some(false),
            format!("{noun} {name} does not exist in {region}: a restore there that names it fails; create it in {region}"),
        ),
        Err(e) if e.is_not_found() => Check::new(
            kind.check,
            subject,
            Some(false),
            format!("{noun} {name} does not exist in {region}: a restore there that names it fails; create it in {region} ({e})"),
        ),
        Err(e) => Check::new(
            kind.check,
            subject,
            None,
            format!(
                "{noun} {name} could not be read in {region} (needs {}): {}",
                kind.permission,
                read_failure(kind.service, region, budget, &e)
            ),
        ),
    }
}

/// What `DescribeOrderableDBInstanceOptions` says about a class for an engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Orderable {
    /// An option of that class is listed.
    Offered,
    /// Options of the engine are listed, none of that class.
    NotOffered,
    /// Only other classes came back for a query filtered by class: the endpoint ignores
    /// the filter (an emulator), so its answer says nothing.
    FilterIgnored,
    /// Nothing is listed for the engine at all: the endpoint does not answer this.
    NothingListed,
}

/// Asks whether `class` is orderable for `engine`: filtered by class first; when that
/// lists nothing, once more without the class, to tell "not offered" from "not answered".
async fn orderable(
    rds: &aws_sdk_rds::Client,
    engine: &str,
    class: &str,
) -> Result<Orderable, AwsError> {
    let ask = |class: Option<&str>| {
        rds.describe_orderable_db_instance_options()
            .engine(engine)
            .set_db_instance_class(class.map(str::to_string))
            .max_records(20)
            .send()
    };
    let filtered = ask(Some(class))
        .await
        .map_err(aws("DescribeOrderableDBInstanceOptions"))?;
    let options = filtered.orderable_db_instance_options();
    if options.iter().any(|o| o.db_instance_class() == Some(class)) {
        return Ok(Orderable::Offered);
    }
    if !options.is_empty() {
        return Ok(Orderable::FilterIgnored);
    }
    let any = ask(None)
        .await
        .map_err(aws("DescribeOrderableDBInstanceOptions"))?;
    Ok(if any.orderable_db_instance_options().is_empty() {
        Orderable::NothingListed
    } else {
        Orderable::NotOffered
    })
}

/// Pure verdict on the class.
fn class_verdict(
    class: &str,
    engine: &str,
    region: &str,
    answer: Result<Orderable, AwsError>,
    budget: std::time::Duration,
) -> Check {
    let subject = format!("instance-class:{region}:{class}:{engine}");
    let (ok, detail) = match answer {
        Ok(Orderable::Offered) => (
            Some(true),
            format!("{class} is offered for {engine} in {region}"),
        ),
        Ok(Orderable::NotOffered) => (
            Some(false),
            format!("{class} is not offered for {engine} in {region}: a restore with it fails; pick a class DescribeOrderableDBInstanceOptions lists there"),
        ),
        Ok(Orderable::FilterIgnored) => (
            None,
            format!("whether {class} is offered for {engine} in {region} cannot be told: the endpoint ignored the class in DescribeOrderableDBInstanceOptions (an emulator)"),
        ),
        Ok(Orderable::NothingListed) => (
            None,
            format!("whether {class} is offered for {engine} in {region} cannot be told: DescribeOrderableDBInstanceOptions lists no option for {engine} there (the API is missing for this engine, e.g. an emulator)"),
        ),
        Err(e) => (
            None,
            format!(
                "whether {class} is offered for {engine} in {region} could not be read (needs rds:DescribeOrderableDBInstanceOptions): {}",
                read_failure("RDS", region, budget, &e)
            ),
        ),
    };
    Check::new(INSTANCE_CLASS, subject, ok, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const BUDGET: Duration = Duration::from_secs(10);

    #[test]
    fn a_missing_group_fails_naming_it_and_the_region_and_a_denied_read_is_unknown() {
        let there = verdict(
            &SUBNET_GROUP,
            "dr-private",
            "us-west-2",
            Ok(Some(
                "in vpc-1, 2 subnet(s) in us-west-2a, us-west-2b".into(),
            )),
            BUDGET,
        );
        assert_eq!(there.ok, Some(true));
        assert_eq!(there.subject, "subnet-group:us-west-2:dr-private");
        let gone = verdict(
            &PARAMETER_GROUP,
            "dr-pg15",
            "us-west-2",
            Err(AwsError::new(
                "DescribeDBParameterGroups",
                "DBParameterGroupNotFound",
                "not found",
            )),
            BUDGET,
        );
        assert_eq!(gone.ok, Some(false));
        assert!(gone
            .detail
            .starts_with("DB parameter group dr-pg15 does not exist in us-west-2"));
        // moto answers a missing parameter group with an empty list.
        assert_eq!(
            verdict(&PARAMETER_GROUP, "x", "us-west-2", Ok(None), BUDGET).ok,
            Some(false)
        );
        let denied = verdict(
            &SECURITY_GROUP,
            "sg-1",
            "us-west-2",
            Err(AwsError::new(
                "DescribeSecurityGroups",
                "UnauthorizedOperation",
                "no",
            )),
            BUDGET,
        );
        assert_eq!(denied.ok, None);
        assert!(
            denied.detail.contains("needs ec2:DescribeSecurityGroups"),
            "{denied:?}"
        );
        let throttled = verdict(
            &SUBNET_GROUP,
            "dr-private",
            "us-west-2",
            Err(AwsError::new(
                "DescribeDBSubnetGroups",
                "Throttling",
                "slow down",
            )),
            BUDGET,
        );
        assert_eq!(throttled.ok, None);
    }

    #[test]
    fn a_security_group_of_another_vpc_fails() {
        let t = RestoreTarget {
            region: "us-west-2".into(),
            placement: drkit_drill::Placement {
                db_subnet_group_name: Some("dr-private".into()),
                ..Default::default()
            },
            instance_class: None,
        };
        let elsewhere = security_group_verdict(
            "sg-1",
            "us-west-2",
            Some("vpc-dr"),
            &t,
            Ok(Some(("db".into(), Some("vpc-other".into())))),
            BUDGET,
        );
        assert_eq!(elsewhere.ok, Some(false));
        assert!(elsewhere
            .detail
            .contains("is in vpc-other, but DB subnet group dr-private is in vpc-dr"));
        let same = security_group_verdict(
            "sg-1",
            "us-west-2",
            Some("vpc-dr"),
            &t,
            Ok(Some(("db".into(), Some("vpc-dr".into())))),
            BUDGET,
        );
        assert_eq!(same.ok, Some(true), "{same:?}");
    }

    #[test]
    fn only_a_listed_class_passes_and_an_answer_that_says_nothing_is_unknown() {
        let v = |a| class_verdict("db.r6g.large", "postgres", "us-west-2", Ok(a), BUDGET).ok;
        assert_eq!(v(Orderable::Offered), Some(true));
        assert_eq!(v(Orderable::NotOffered), Some(false));
        assert_eq!(v(Orderable::FilterIgnored), None);
        assert_eq!(v(Orderable::NothingListed), None);
    }
}

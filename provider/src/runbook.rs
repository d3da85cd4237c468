//! The failover runbook as markdown: pure rendering from what `dr_runbook` read from AWS
//! (and the last drill's report), so it can be tested without a server.

use std::fmt::Write as _;

use drkit_drill::DrillReport;

/// A database the policy covers, with its copies.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Identifier.
    pub identifier: String,
    /// Region.
    pub region: String,
    /// Read replicas: (identifier, region).
    pub replicas: Vec<(String, String)>,
    /// Automated backups retention (days).
    pub retention_days: i32,
    /// Regions automated backups are replicated to.
    pub backup_regions: Vec<String>,
}

/// An Aurora cluster the policy covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Cluster {
    /// Identifier.
    pub identifier: String,
    /// Region.
    pub region: String,
    /// Engine, e.g. `aurora-postgresql`.
    pub engine: String,
    /// Automated backups retention (days).
    pub retention_days: i32,
    /// The global cluster it is the primary of.
    pub global: Option<String>,
    /// The global secondary, if any.
    pub secondary: Option<Secondary>,
}

/// An Aurora Global Database secondary cluster.
#[derive(Debug, Clone, PartialEq)]
pub struct Secondary {
    /// Identifier.
    pub identifier: String,
    /// Region.
    pub region: String,
    /// ARN (the failover target).
    pub arn: String,
    /// Whether it has a DB instance to take writes (false: headless).
    pub has_instance: bool,
}

/// A bucket the policy covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Bucket {
    /// Name.
    pub name: String,
    /// Region.
    pub region: String,
    /// Replication destination: (bucket, region when known).
    pub destination: Option<(String, Option<String>)>,
    /// Versioning status.
    pub versioning: Option<String>,
}

/// Everything a runbook says.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// Title.
    pub title: String,
    /// Policy name.
    pub policy: String,
    /// Declared RPO.
    pub rpo: Option<String>,
    /// Declared RTO.
    pub rto: Option<String>,
    /// Owners.
    pub owners: Vec<String>,
    /// Existing runbook link.
    pub runbook_url: Option<String>,
    /// Databases.
    pub instances: Vec<Instance>,
    /// Aurora clusters.
    pub clusters: Vec<Cluster>,
    /// Buckets.
    pub buckets: Vec<Bucket>,
    /// DNS name applications use for the database.
    pub dns_record: Option<String>,
    /// Route 53 hosted zone of `dns_record`.
    pub hosted_zone_id: Option<String>,
    /// Where to tell people.
    pub notify: Option<String>,
    /// The last drill.
    pub drill: Option<DrillReport>,
    /// What a region loss would cost now, from the figures `dr_status` reports.
    pub exposure: Option<Exposure>,
}

/// The live figures in the runbook's "what you would lose" line. Rounded to minutes, and
/// only the copies beyond the RPO or unknown are named, so the runbook (and a plan that
/// shows it) changes when the situation changes, not with every second of lag.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Exposure {
    /// Every region-loss figure measured and within the RPO.
    pub rpo_met: bool,
    /// The worst measured region-loss figure (seconds).
    pub rpo_seconds: Option<f64>,
    /// Copies beyond the RPO: (what, seconds, source).
    pub over: Vec<(String, f64, String)>,
    /// What could not be measured, and why.
    pub unknown: Vec<String>,
}

impl Exposure {
    /// The line's figures from a `dr_status` measurement.
    pub fn from_measurement(m: &crate::status::Measurement) -> Exposure {
        let rpo = m
            .rpo
            .as_deref()
            .and_then(|r| r.parse::<drlint::model::Duration>().ok())
            .map(|d| d.as_secs() as f64);
        Exposure {
            rpo_met: m.assessment.rpo_met,
            rpo_seconds: m.assessment.rpo_seconds,
            over: m
                .figures
                .iter()
                .filter(|f| f.scope == crate::status::Scope::RegionLoss)
                .filter_map(|f| {
                    let s = f.seconds?;
                    (rpo.is_some_and(|r| s > r)).then(|| {
                        (
                            format!("{} `{}`", f.mechanism.noun(), f.address),
                            s,
                            f.source.clone(),
                        )
                    })
                })
                .collect(),
            unknown: m.assessment.unknown.clone(),
        }
    }
}

/// Whole minutes, the runbook's resolution for live figures.
fn minutes(seconds: f64) -> String {
    let m = (seconds / 60.0).round() as u64;
    if seconds < 60.0 {
        "under a minute".to_string()
    } else {
        format!("about {m} min")
    }
}

fn exposure_line(md: &mut String, e: &Exposure) {
    if e.rpo_met {
        let _ = writeln!(
            md,
            "- What you would lose now: **within the RPO** at the last refresh (worst: {}; live figures: `data \"dr_status\"`)",
            e.rpo_seconds.map_or("-".to_string(), minutes)
        );
        return;
    }
    let mut parts: Vec<String> = e
        .over
        .iter()
        .map(|(what, s, source)| format!("{what} {} ({source})", minutes(*s)))
        .collect();
    if !e.unknown.is_empty() {
        parts.push(format!("unknown: {}", e.unknown.join("; ")));
    }
    let _ = writeln!(
        md,
        "- What you would lose now: **beyond the RPO or unknown** at the last refresh: {}",
        parts.join("; ")
    );
}

/// Renders the runbook.
pub fn render(i: &Input) -> String {
    let mut md = String::new();
    let _ = writeln!(md, "# {}\n", i.title);
    let _ = writeln!(
        md,
        "Failover runbook for DR policy `{}`. Generated by drkit from the live AWS resources; \
         regenerate it with `terraform apply` after changing the policy.\n",
        i.policy
    );
    // Targets and owners first: they decide whether to fail over at all.
    md.push_str("## Targets and owners\n\n");
    let _ = writeln!(
        md,
        "- RPO (data you may lose): **{}**",
        i.rpo.as_deref().unwrap_or("not declared")
    );
    let _ = writeln!(
        md,
        "- RTO (time to recover): **{}**",
        i.rto.as_deref().unwrap_or("not declared")
    );
    if i.owners.is_empty() {
        md.push_str("- Owners: **none declared**: decide who leads before you start\n");
    } else {
        let _ = writeln!(md, "- Owners: {}", i.owners.join(", "));
    }
    if let Some(url) = &i.runbook_url {
        let _ = writeln!(md, "- Team runbook: {url}");
    }
    if let Some(e) = &i.exposure {
        exposure_line(&mut md, e);
    }
    match &i.drill {
        Some(d) => {
            let f = |v: Option<f64>| v.map_or("-".to_string(), |s| format!("{s:.1}s"));
            let _ = writeln!(
                md,
                "- Last drill: {} ({}): RTO {} (target {}), RPO {} (target {})",
                d.started_at,
                if d.passed() { "passed" } else { "**FAILED**" },
                f(d.measured_rto_seconds),
                f(d.target_rto_seconds),
                f(d.measured_rpo_seconds),
                f(d.target_rpo_seconds)
            );
        }
        None => md.push_str("- Last drill: **none recorded**: these steps are untested\n"),
    }

    md.push_str("\n## 1. Detect\n\n");
    md.push_str("Fail over when the primary region cannot serve and will not within the RTO:\n\n");
    for db in &i.instances {
        let _ = writeln!(
            md,
            "- `{}` ({}): RDS events for the instance, the `DatabaseConnections` and `ReadLatency` \
             CloudWatch metrics, and the AWS Health Dashboard for RDS in {}.\n  \
             `aws rds describe-db-instances --db-instance-identifier {} --region {} --query 'DBInstances[0].DBInstanceStatus'`",
            db.identifier, db.region, db.region, db.identifier, db.region
        );
        for (replica, region) in &db.replicas {
            let _ = writeln!(
                md,
                "- Replica lag of `{replica}` ({region}): \
                 `aws cloudwatch get-metric-statistics --namespace AWS/RDS --metric-name ReplicaLag \
                 --dimensions Name=DBInstanceIdentifier,Value={replica} --region {region} \
                 --statistics Maximum --period 60 --start-time $(date -u -d '-15 min' +%FT%TZ) --end-time $(date -u +%FT%TZ)`: \
                 the data you would lose"
            );
        }
    }
    for c in &i.clusters {
        let _ = writeln!(
            md,
            "- `{}` ({}, Aurora): RDS events for the cluster and the AWS Health Dashboard for RDS in {}.\n  \
             `aws rds describe-db-clusters --db-cluster-identifier {} --region {} --query 'DBClusters[0].Status'`",
            c.identifier, c.region, c.region, c.identifier, c.region
        );
        if let Some(s) = &c.secondary {
            let _ = writeln!(
                md,
                "- Global replication lag of `{}` ({}): \
                 `aws cloudwatch get-metric-statistics --namespace AWS/RDS --metric-name AuroraGlobalDBReplicationLag \
                 --dimensions Name=DBClusterIdentifier,Value={} --region {} \
                 --statistics Maximum --period 60 --start-time $(date -u -d '-15 min' +%FT%TZ) --end-time $(date -u +%FT%TZ)`: \
                 the data you would lose (milliseconds)",
                s.identifier, s.region, s.identifier, s.region
            );
        }
    }
    for b in &i.buckets {
        let _ = writeln!(
            md,
            "- `s3://{}` ({}): S3 `5xxErrors` and the AWS Health Dashboard for S3 in {}.",
            b.name, b.region, b.region
        );
    }

    md.push_str("\n## 2. Decide and announce\n\n");
    let _ = writeln!(
        md,
        "Confirm with an owner, then announce the failover{}: what fails over, the expected data loss (up to the RPO) and the expected time (the RTO).",
        i.notify.as_deref().map(|n| format!(" in {n}")).unwrap_or_default()
    );

    md.push_str("\n## 3. Fail over\n\n");
    let mut step = 1;
    for db in &i.instances {
        match db.replicas.first() {
            Some((replica, region)) => {
                let _ = writeln!(
                    md,
                    "{step}. Promote the replica of `{}` in {region}:\n\n   ```sh\n   aws rds promote-read-replica --db-instance-identifier {replica} --region {region}\n   aws rds wait db-instance-available --db-instance-identifier {replica} --region {region}\n   aws rds describe-db-instances --db-instance-identifier {replica} --region {region} --query 'DBInstances[0].Endpoint.Address' --output text\n   ```\n",
                    db.identifier
                );
            }
            None if !db.backup_regions.is_empty() => {
                let region = &db.backup_regions[0];
                let _ = writeln!(
                    md,
                    "{step}. Restore `{}` from its replicated automated backups in {region} (RPO: minutes):\n\n   ```sh\n   ARN=$(aws rds describe-db-instance-automated-backups --region {region} --query \"DBInstanceAutomatedBackups[?DBInstanceIdentifier=='{}'].DBInstanceAutomatedBackupsArn\" --output text)\n   aws rds restore-db-instance-to-point-in-time --source-db-instance-automated-backups-arn \"$ARN\" --use-latest-restorable-time --target-db-instance-identifier {}-restored --region {region}\n   aws rds wait db-instance-available --db-instance-identifier {}-restored --region {region}\n   ```\n",
                    db.identifier, db.identifier, db.identifier, db.identifier
                );
            }
            None => {
                let _ = writeln!(
                    md,
                    "{step}. `{}` has **no copy outside {}**: only an in-region point-in-time restore is possible ({} days of backups). It does not survive the loss of the region.\n\n   ```sh\n   aws rds restore-db-instance-to-point-in-time --source-db-instance-identifier {} --use-latest-restorable-time --target-db-instance-identifier {}-restored --region {}\n   ```\n",
                    db.identifier, db.region, db.retention_days, db.identifier, db.identifier, db.region
                );
            }
        }
        step += 1;
    }
    for c in &i.clusters {
        step = cluster_failover(&mut md, step, c);
    }
    for db in &i.instances {
        let new_host = match db.replicas.first() {
            Some((replica, region)) => format!("the endpoint of `{replica}` in {region}"),
            None => "the endpoint of the restored instance".to_string(),
        };
        match (&i.dns_record, &i.hosted_zone_id) {
            (Some(record), Some(zone)) => {
                let _ = writeln!(
                    md,
                    "{step}. Point `{record}` at {new_host}:\n\n   ```sh\n   aws route53 change-resource-record-sets --hosted-zone-id {zone} --change-batch '{{\"Changes\":[{{\"Action\":\"UPSERT\",\"ResourceRecordSet\":{{\"Name\":\"{record}\",\"Type\":\"CNAME\",\"TTL\":60,\"ResourceRecords\":[{{\"Value\":\"NEW_ENDPOINT\"}}]}}}}]}}'\n   ```\n"
                );
            }
            (Some(record), None) => {
                let _ = writeln!(
                    md,
                    "{step}. Point `{record}` at {new_host} (CNAME, TTL 60).\n"
                );
            }
            _ => {
                let _ = writeln!(md, "{step}. Point the applications' database host for `{}` at {new_host} (configuration or secret), and restart or reload them.\n", db.identifier);
            }
        }
        step += 1;
    }
    for c in &i.clusters {
        let new_host = match &c.secondary {
            Some(s) => format!("the writer endpoint of `{}` in {}", s.identifier, s.region),
            None => "the endpoint of the restored cluster".to_string(),
        };
        match &i.dns_record {
            Some(record) => {
                let _ = writeln!(md, "{step}. Point `{record}` at {new_host} (CNAME, TTL 60), unless the applications use the global cluster's writer endpoint, which follows the failover.\n");
            }
            None => {
                let _ = writeln!(md, "{step}. Point the applications' database host for `{}` at {new_host} (configuration or secret), unless they use the global cluster's writer endpoint, which follows the failover; restart or reload them.\n", c.identifier);
            }
        }
        step += 1;
    }
    for b in &i.buckets {
        match &b.destination {
            Some((dest, region)) => {
                let region = region.clone().unwrap_or_else(|| "the DR region".into());
                let _ = writeln!(
                    md,
                    "{step}. Switch readers and writers of `s3://{}` to its replica `s3://{dest}` in {region}. Objects written in the last minutes before the outage may be missing (replication lag).\n",
                    b.name
                );
            }
            None => {
                let _ = writeln!(
                    md,
                    "{step}. `s3://{}` has **no replica**: it is unavailable until {} recovers. {}\n",
                    b.name,
                    b.region,
                    if b.versioning.as_deref() == Some("Enabled") {
                        "Versioning protects against deletes and overwrites, not against the loss of the region."
                    } else {
                        "It is not versioned either."
                    }
                );
            }
        }
        step += 1;
    }

    md.push_str("## 4. Verify\n\n");
    match &i.drill {
        Some(d) if !d.verify_results.is_empty() => {
            md.push_str("Run the drill's checks against the promoted database:\n\n```sql\n");
            for v in &d.verify_results {
                let _ = writeln!(md, "-- {}: expect {}\n{};", v.name, v.expect, v.sql.trim_end_matches(';'));
            }
            md.push_str("```\n\n");
        }
        _ => md.push_str("Check that the application reads and writes, and that the newest rows are where the RPO says they should be.\n\n"),
    }

    md.push_str("## 5. Notify and follow up\n\n");
    let _ = writeln!(
        md,
        "- Announce the end of the failover{}, with the measured data loss and downtime.",
        i.notify
            .as_deref()
            .map(|n| format!(" in {n}"))
            .unwrap_or_default()
    );
    md.push_str("- The promoted database has no replica and no cross-region copy: re-establish them (update the `dr_policy` to the new primary and apply).\n");
    md.push_str("- Fail back only after the original region is healthy, with the same steps in the other direction.\n");
    md
}

/// The failover steps of one Aurora cluster; returns the next step number.
fn cluster_failover(md: &mut String, mut step: usize, c: &Cluster) -> usize {
    let (Some(s), Some(global)) = (&c.secondary, &c.global) else {
        let _ = writeln!(
            md,
            "{step}. `{}` has **no copy outside {}**: only an in-region point-in-time restore is possible ({} days of backups). It does not survive the loss of the region.\n\n   ```sh\n   aws rds restore-db-cluster-to-point-in-time --source-db-cluster-identifier {} --use-latest-restorable-time --db-cluster-identifier {}-restored --region {}\n   ```\n",
            c.identifier, c.region, c.retention_days, c.identifier, c.identifier, c.region
        );
        return step + 1;
    };
    if !s.has_instance {
        let _ = writeln!(
            md,
            "{step}. `{}` in {} is **headless** (no DB instance): add one before failing over (about ten minutes):\n\n   ```sh\n   aws rds create-db-instance --db-instance-identifier {}-1 --db-cluster-identifier {} --engine {} --db-instance-class db.r6g.large --region {}\n   aws rds wait db-instance-available --db-instance-identifier {}-1 --region {}\n   ```\n",
            s.identifier, s.region, s.identifier, s.identifier, c.engine, s.region, s.identifier, s.region
        );
        step += 1;
    }
    let _ = writeln!(
        md,
        "{step}. Fail the global cluster `{global}` over to `{}` in {} (the primary region is down: accept the replication lag as data loss):\n\n   ```sh\n   aws rds failover-global-cluster --global-cluster-identifier {global} --target-db-cluster-identifier {} --allow-data-loss --region {}\n   aws rds wait db-cluster-available --db-cluster-identifier {} --region {}\n   aws rds describe-db-clusters --db-cluster-identifier {} --region {} --query 'DBClusters[0].Endpoint' --output text\n   ```\n\n   For a planned drill or a move while both regions are healthy, switch over instead (no data loss; it waits for the secondary to catch up):\n\n   ```sh\n   aws rds switchover-global-cluster --global-cluster-identifier {global} --target-db-cluster-identifier {} --region {}\n   ```\n",
        s.identifier, s.region, s.arn, s.region, s.identifier, s.region, s.identifier, s.region, s.arn, s.region
    );
    step + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_replicated_policy_renders_its_real_commands() {
        let md = render(&Input {
            title: "Orders failover".into(),
            policy: "orders".into(),
            rpo: Some("15m".into()),
            rto: Some("1h".into()),
            owners: vec!["alice@example.com".into(), "bob@example.com".into()],
            instances: vec![Instance {
                identifier: "orders-db".into(),
                region: "us-east-1".into(),
                replicas: vec![("orders-db-dr".into(), "us-west-2".into())],
                retention_days: 14,
                backup_regions: vec![],
            }],
            buckets: vec![Bucket {
                name: "orders-backups".into(),
                region: "us-east-1".into(),
                destination: Some(("orders-backups-dr".into(), Some("us-west-2".into()))),
                versioning: Some("Enabled".into()),
            }],
            dns_record: Some("db.orders.example.com".into()),
            hosted_zone_id: Some("Z123".into()),
            notify: Some("#orders-incident".into()),
            ..Input::default()
        });
        insta::assert_snapshot!(md);
    }

    #[test]
    fn a_global_database_fails_over_to_its_secondary_by_arn() {
        let md = render(&Input {
            title: "t".into(),
            policy: "p".into(),
            clusters: vec![Cluster {
                identifier: "orders".into(),
                region: "us-east-1".into(),
                engine: "aurora-postgresql".into(),
                retention_days: 14,
                global: Some("orders-global".into()),
                secondary: Some(Secondary {
                    identifier: "orders-dr".into(),
                    region: "us-west-2".into(),
                    arn: "arn:aws:rds:us-west-2:123456789012:cluster:orders-dr".into(),
                    has_instance: false,
                }),
            }],
            ..Input::default()
        });
        assert!(md.contains("aws rds failover-global-cluster --global-cluster-identifier orders-global --target-db-cluster-identifier arn:aws:rds:us-west-2:123456789012:cluster:orders-dr --allow-data-loss --region us-west-2"), "{md}");
        assert!(md.contains("aws rds switchover-global-cluster --global-cluster-identifier orders-global --target-db-cluster-identifier arn:aws:rds:us-west-2:123456789012:cluster:orders-dr"), "{md}");
        assert!(md.contains("is **headless**"), "{md}");
        assert!(md.contains("AuroraGlobalDBReplicationLag"), "{md}");
        // The instance comes before the failover that needs it.
        assert!(
            md.find("create-db-instance").unwrap() < md.find("failover-global-cluster").unwrap()
        );
    }

    #[test]
    fn the_lose_line_names_copies_beyond_the_rpo_in_minutes() {
        let mut input = Input {
            title: "t".into(),
            policy: "p".into(),
            exposure: Some(Exposure {
                rpo_met: false,
                rpo_seconds: Some(2405.0),
                over: vec![(
                    "replica `rds:us-west-2:db-dr`".into(),
                    2405.0,
                    "CloudWatch AWS/RDS ReplicaLag Maximum over 15m (us-west-2)".into(),
                )],
                unknown: vec!["s3:b->b-dr: no ReplicationLatency data points".into()],
            }),
            ..Input::default()
        };
        let md = render(&input);
        assert!(md.contains("- What you would lose now: **beyond the RPO or unknown** at the last refresh: replica `rds:us-west-2:db-dr` about 40 min (CloudWatch AWS/RDS ReplicaLag Maximum over 15m (us-west-2)); unknown: s3:b->b-dr: no ReplicationLatency data points\n"), "{md}");
        input.exposure = Some(Exposure {
            rpo_met: true,
            rpo_seconds: Some(42.0),
            ..Exposure::default()
        });
        assert!(render(&input)
            .contains("**within the RPO** at the last refresh (worst: under a minute;"));
    }

    #[test]
    fn a_database_without_a_copy_says_so() {
        let md = render(&Input {
            title: "t".into(),
            policy: "p".into(),
            instances: vec![Instance {
                identifier: "lonely".into(),
                region: "eu-west-1".into(),
                replicas: vec![],
                retention_days: 7,
                backup_regions: vec![],
            }],
            ..Input::default()
        });
        assert!(md.contains("**no copy outside eu-west-1**"), "{md}");
        assert!(md.contains("**none recorded**"));
    }
}

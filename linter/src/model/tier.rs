//! The RPO/RTO tier model: what each recovery mechanism can promise, and the decision table
//! that says which mechanisms a declared RPO/RTO needs. The linter's DR014 and the
//! provider's plan-time validation of `dr_policy` both call [`assess`], so they judge alike.

use std::fmt;

use super::Duration;

/// Longest automated-backup retention RDS allows.
pub const MAX_BACKUP_RETENTION_DAYS: u32 = 35;
/// Expiry a `compliance = true` policy must keep at least: 7 years.
pub const COMPLIANCE_MIN_EXPIRE_DAYS: u32 = 2555;
/// RDS ships transaction logs for point-in-time restore about every five minutes.
pub const RDS_LOG_SHIPPING: Duration = Duration::from_mins(5);
/// Replication lag that S3 Replication Time Control guarantees (99.99% of objects).
pub const S3_RTC_RPO: Duration = Duration::from_mins(15);
/// Best-effort S3 replication without RTC: no SLA, most objects within an hour.
pub const S3_BEST_EFFORT_RPO: Duration = Duration::from_hours(1);
/// Cross-region automated-backup replication lags the source by minutes.
pub const CROSS_REGION_BACKUP_RPO: Duration = Duration::from_mins(15);
/// A cross-region read replica lags by seconds; one minute is a safe planning figure.
pub const REPLICA_RPO: Duration = Duration::from_mins(1);
/// Promoting a replica and repointing the application: minutes.
pub const REPLICA_PROMOTION_RTO: Duration = Duration::from_mins(15);
/// Restoring an RDS instance from backups: size-dependent; an hour is typical.
pub const RESTORE_RTO: Duration = Duration::from_hours(1);
/// Pointing readers at a replicated or versioned bucket: minutes.
pub const S3_SWITCH_RTO: Duration = Duration::from_mins(15);
/// An Aurora Global Database secondary lags by typically under a second; 30 s is a safe
/// planning figure (Aurora's own managed-RPO parameter starts at 20 s).
pub const GLOBAL_DATABASE_RPO: Duration = Duration::from_secs(30);
/// A managed failover (`failover-global-cluster`) to a secondary with an instance: minutes.
pub const GLOBAL_FAILOVER_RTO: Duration = Duration::from_mins(5);
/// A failover to a headless secondary starts by adding an instance there (about ten
/// minutes) before the managed failover.
pub const GLOBAL_HEADLESS_FAILOVER_RTO: Duration = Duration::from_mins(20);

/// A recovery mechanism, from the weakest to the strongest against the loss of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tier {
    /// Nothing restorable: no automated backups, no versioning.
    None,
    /// RDS automated backups or S3 versioning in the primary region only.
    InRegion,
    /// Cross-region copies of automated backups (RDS).
    CrossRegionBackups,
    /// Best-effort S3 cross-region replication.
    CrossRegionReplication,
    /// S3 cross-region replication with Replication Time Control.
    ReplicationTimeControl,
    /// A cross-region read replica (RDS).
    CrossRegionReplica,
    /// An Aurora Global Database secondary cluster in another region.
    GlobalDatabase,
}

impl Tier {
    /// The public name, as `dr_policy.tier` and the docs spell it.
    pub fn name(self) -> &'static str {
        match self {
            Tier::None => "none",
            Tier::InRegion => "in-region-backups",
            Tier::CrossRegionBackups => "cross-region-backups",
            Tier::CrossRegionReplication => "cross-region-replication",
            Tier::ReplicationTimeControl => "replication-time-control",
            Tier::CrossRegionReplica => "cross-region-replica",
            Tier::GlobalDatabase => "aurora-global-database",
        }
    }

    /// Data lost when the primary region is lost; `None` means everything.
    pub fn region_loss_rpo(self) -> Option<Duration> {
        match self {
            Tier::None | Tier::InRegion => None,
            Tier::CrossRegionBackups => Some(CROSS_REGION_BACKUP_RPO),
            Tier::CrossRegionReplication => Some(S3_BEST_EFFORT_RPO),
            Tier::ReplicationTimeControl => Some(S3_RTC_RPO),
            Tier::CrossRegionReplica => Some(REPLICA_RPO),
            Tier::GlobalDatabase => Some(GLOBAL_DATABASE_RPO),
        }
    }
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One step of the path to the attribute a finding is about, e.g. `rds[0].cross_region_replica`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// An attribute or block name.
    Attr(&'static str),
    /// The n-th block of a repeated block type.
    Index(usize),
}

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Worth fixing; does not make the policy unreachable.
    Warning,
    /// The policy cannot meet its targets as written.
    Error,
}

/// What the model says is wrong with a policy, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFinding {
    /// How bad it is.
    pub severity: Severity,
    /// Path to the attribute to change, from the policy's root.
    pub path: Vec<Step>,
    /// What is wrong and what to do, in one or two sentences.
    pub message: String,
}

impl ModelFinding {
    /// The path in Terraform's notation, e.g. `rds[0].cross_region_replica`.
    pub fn path_string(&self) -> String {
        let mut out = String::new();
        for step in &self.path {
            match step {
                Step::Attr(name) if out.is_empty() => out.push_str(name),
                Step::Attr(name) => {
                    out.push('.');
                    out.push_str(name)
                }
                Step::Index(i) => out.push_str(&format!("[{i}]")),
            }
        }
        out
    }
}

/// A `dr_policy` as the model sees it. Unknown values are `None` and never produce a
/// finding on their own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicySpec {
    /// Declared recovery point objective.
    pub rpo: Option<Duration>,
    /// Declared recovery time objective.
    pub rto: Option<Duration>,
    /// How many owners are listed; `None` when unknown.
    pub owners: Option<usize>,
    /// Whether the policy is under a retention mandate.
    pub compliance: Option<bool>,
    /// The RDS instances it covers.
    pub rds: Vec<RdsSpec>,
    /// The S3 buckets it covers.
    pub s3: Vec<S3Spec>,
}

/// An RDS instance's DR settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RdsSpec {
    /// Automated backup retention in days.
    pub backup_retention_days: Option<u32>,
    /// Region of the instance, when known.
    pub region: Option<String>,
    /// Region of the cross-region read replica, if the policy declares one.
    pub replica_region: Option<Option<String>>,
    /// Region automated backups are replicated to, if the policy declares it.
    pub backups_region: Option<Option<String>>,
}

/// An Aurora DB cluster's DR settings (a `dr_policy` `rds_cluster` block).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterSpec {
    /// Automated backup retention in days.
    pub backup_retention_days: Option<u32>,
    /// Region of the cluster, when known.
    pub region: Option<String>,
    /// Region of the Aurora Global Database secondary, if the policy declares one.
    pub global_secondary_region: Option<Option<String>>,
    /// Whether the secondary has an instance to fail over to (false: headless).
    pub secondary_instance: Option<bool>,
}

/// An S3 bucket's DR settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct S3Spec {
    /// Versioning enabled.
    pub versioning: Option<bool>,
    /// Region of the bucket, when known.
    pub region: Option<String>,
    /// The replication, if declared.
    pub replication: Option<ReplicationSpec>,
    /// The lifecycle retention, if declared.
    pub retention: Option<RetentionSpec>,
}

/// S3 replication settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplicationSpec {
    /// Destination region, when known.
    pub destination_region: Option<String>,
    /// Replication Time Control enabled.
    pub replication_time_control: Option<bool>,
}

/// Lifecycle retention settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetentionSpec {
    /// Longest expiry across the rules, in days; `None` when no rule expires objects.
    pub expire_days: Option<u32>,
    /// Whether some rule transitions objects to an archive storage class.
    pub archives: Option<bool>,
}

/// The model's verdict on a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    /// The weakest mechanism across the policy's resources: what a region loss falls back on.
    pub tier: Tier,
    /// Data a region loss would lose with these settings; `None` means all of it.
    pub estimated_rpo: Option<Duration>,
    /// Time to recover from a region loss with these settings; `None` means never.
    pub estimated_rto: Option<Duration>,
    /// Everything that keeps the policy from its targets.
    pub findings: Vec<ModelFinding>,
}

impl Assessment {
    /// True when no finding is an error.
    pub fn reachable(&self) -> bool {
        !self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}

fn finding(severity: Severity, path: Vec<Step>, message: String) -> ModelFinding {
    ModelFinding {
        severity,
        path,
        message,
    }
}

/// Judges a policy against the decision table of DESIGN.md.
pub fn assess(policy: &PolicySpec) -> Assessment {
    assess_with_clusters(policy, &[])
}

/// Judges a policy that also covers Aurora clusters (`rds_cluster` blocks). A separate
/// entry point so that [`PolicySpec`] keeps its shape for callers that build it field by
/// field.
pub fn assess_with_clusters(policy: &PolicySpec, clusters: &[ClusterSpec]) -> Assessment {
    use Step::{Attr, Index};
    let mut findings = Vec::new();
    let one_hour = Duration::from_hours(1);

    if policy.rpo == Some(Duration::ZERO) {
        findings.push(finding(
            Severity::Error,
            vec![Attr("rpo")],
            "rpo = \"0\" needs synchronous multi-region replication (Spanner, CockroachDB), \
             which dr_policy cannot build: RDS, S3 and Aurora Global Database (about a second \
             of lag) all copy asynchronously; declare the data loss you can accept, such as \
             \"5m\""
                .to_string(),
        ));
    }
    if let Some(owners) = policy.owners {
        if owners < 2 {
            findings.push(finding(
                Severity::Warning,
                vec![Attr("owners")],
                format!(
                    "{owners} owner(s) listed: with one person on holiday nobody can run the \
                     recovery; list at least two"
                ),
            ));
        }
    }

    let mut tiers = Vec::new();
    let mut rtos = Vec::new();
    let needs_replica = policy.rpo.is_some_and(|d| d < one_hour && !d.is_zero())
        || policy.rto.is_some_and(|d| d < one_hour);

    for (i, rds) in policy.rds.iter().enumerate() {
        let base = || vec![Attr("rds"), Index(i)];
        let with = |attr| {
            let mut p = base();
            p.push(Attr(attr));
            p
        };
        match rds.backup_retention_days {
            Some(0) => findings.push(finding(
                Severity::Error,
                with("backup_retention_days"),
                "backup_retention_days = 0 turns automated backups off; nothing could be \
                 restored. Use 1 to 35 days"
                    .to_string(),
            )),
            Some(days) if days > MAX_BACKUP_RETENTION_DAYS => findings.push(finding(
                Severity::Error,
                with("backup_retention_days"),
                format!(
                    "backup_retention_days = {days} is more than RDS allows ({MAX_BACKUP_RETENTION_DAYS}); \
                     keep longer history with snapshot copies or AWS Backup"
                ),
            )),
            _ => {}
        }
        let same_region =
            |other: &Option<String>| matches!((&rds.region, other), (Some(a), Some(b)) if a == b);
        if let Some(region) = &rds.replica_region {
            if same_region(region) {
                findings.push(finding(
                    Severity::Error,
                    {
                        let mut p = with("cross_region_replica");
                        p.push(Attr("region"));
                        p
                    },
                    format!(
                        "the replica is in the primary's own region ({}); it dies with it. \
                         Put it in another region",
                        region.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        if let Some(region) = &rds.backups_region {
            if same_region(region) {
                findings.push(finding(
                    Severity::Error,
                    {
                        let mut p = with("cross_region_backups");
                        p.push(Attr("region"));
                        p
                    },
                    format!(
                        "backups are replicated to the primary's own region ({}); choose another region",
                        region.as_deref().unwrap_or_default()
                    ),
                ));
            }
        }
        let has_replica = rds.replica_region.is_some();
        let has_backups = rds.backups_region.is_some();
        let tier = if has_replica {
            Tier::CrossRegionReplica
        } else if has_backups {
            Tier::CrossRegionBackups
        } else if rds.backup_retention_days != Some(0) {
            Tier::InRegion
        } else {
            Tier::None
        };
        if !has_replica && !has_backups {
            findings.push(finding(
                Severity::Error,
                base(),
                "no copy outside the primary region: a region loss loses this database. Add \
                 cross_region_backups (RPO minutes, RTO a restore) or cross_region_replica \
                 (RPO seconds, RTO a promotion)"
                    .to_string(),
            ));
        } else if needs_replica && !has_replica {
            findings.push(finding(
                Severity::Error,
                base(),
                format!(
                    "an RPO or RTO under 1h needs a cross-region read replica: restoring \
                     replicated backups takes about {RESTORE_RTO} and loses up to \
                     {CROSS_REGION_BACKUP_RPO}. Add cross_region_replica"
                ),
            ));
        }
        rtos.push(if has_replica {
            Some(REPLICA_PROMOTION_RTO)
        } else if has_backups {
            Some(RESTORE_RTO)
        } else {
            None
        });
        tiers.push(tier);
    }

    for (i, cluster) in clusters.iter().enumerate() {
        let (tier, rto) = assess_cluster(&mut findings, i, cluster);
        tiers.push(tier);
        rtos.push(rto);
    }

    for (i, s3) in policy.s3.iter().enumerate() {
        let base = || vec![Attr("s3"), Index(i)];
        let with = |attr| {
            let mut p = base();
            p.push(Attr(attr));
            p
        };
        if s3.versioning == Some(false) {
            findings.push(finding(
                Severity::Error,
                with("versioning"),
                "versioning is off: an overwrite or delete is final, and S3 replication \
                 requires versioning. Set versioning = true"
                    .to_string(),
            ));
        }
        if let Some(rpo) = policy.rpo {
            if !rpo.is_zero() && rpo < S3_RTC_RPO {
                findings.push(finding(
                    Severity::Error,
                    vec![Attr("rpo")],
                    format!(
                        "rpo = \"{rpo}\" is below what S3 replication guarantees ({S3_RTC_RPO} \
                         with Replication Time Control) for bucket s3[{i}]; declare at least \
                         \"{S3_RTC_RPO}\" or keep this data elsewhere"
                    ),
                ));
            }
        }
        let tier = match &s3.replication {
            None => {
                findings.push(finding(
                    Severity::Error,
                    base(),
                    "no replication to another region: a region loss loses this bucket. Add a \
                     replication block"
                        .to_string(),
                ));
                if s3.versioning == Some(false) {
                    Tier::None
                } else {
                    Tier::InRegion
                }
            }
            Some(rep) => {
                let mut rep_path = with("replication");
                if matches!((&s3.region, &rep.destination_region), (Some(a), Some(b)) if a == b) {
                    let mut p = rep_path.clone();
                    p.push(Attr("destination_region"));
                    findings.push(finding(
                        Severity::Error,
                        p,
                        "the replication destination is in the source bucket's own region; \
                         choose another region"
                            .to_string(),
                    ));
                }
                let rtc = rep.replication_time_control == Some(true);
                let needs_rtc = policy
                    .rpo
                    .is_some_and(|d| d >= S3_RTC_RPO && d < S3_BEST_EFFORT_RPO);
                if needs_rtc && rep.replication_time_control == Some(false) {
                    rep_path.push(Attr("replication_time_control"));
                    findings.push(finding(
                        Severity::Error,
                        rep_path,
                        format!(
                            "an RPO under {S3_BEST_EFFORT_RPO} needs Replication Time Control \
                             (replication within {S3_RTC_RPO}); plain replication is best effort. \
                             Set replication_time_control = true"
                        ),
                    ));
                }
                if rtc {
                    Tier::ReplicationTimeControl
                } else {
                    Tier::CrossRegionReplication
                }
            }
        };
        if policy.compliance == Some(true) {
            let retention = s3.retention.clone().unwrap_or_default();
            let short = match retention.expire_days {
                Some(days) => days < COMPLIANCE_MIN_EXPIRE_DAYS,
                None => true,
            };
            if short {
                findings.push(finding(
                    Severity::Error,
                    with("retention"),
                    format!(
                        "compliance = true keeps data at least {COMPLIANCE_MIN_EXPIRE_DAYS} days \
                         (7 years): set retention expire_days to {COMPLIANCE_MIN_EXPIRE_DAYS} or more"
                    ),
                ));
            }
            if retention.archives == Some(false) || s3.retention.is_none() {
                findings.push(finding(
                    Severity::Error,
                    with("retention"),
                    "compliance = true needs an archive transition (archive_after_days and \
                     archive_storage_class) so seven years of data stays affordable"
                        .to_string(),
                ));
            }
        }
        rtos.push(if tier >= Tier::CrossRegionReplication {
            Some(S3_SWITCH_RTO)
        } else {
            None
        });
        tiers.push(tier);
    }

    let tier = tiers.iter().copied().min().unwrap_or(Tier::None);
    let estimated_rpo = tiers
        .iter()
        .map(|t| t.region_loss_rpo())
        .try_fold(Duration::ZERO, |acc, rpo| rpo.map(|r| acc.max(r)));
    let estimated_rto = rtos
        .iter()
        .copied()
        .try_fold(Duration::ZERO, |acc, rto| rto.map(|r| acc.max(r)));
    let (estimated_rpo, estimated_rto) = if tiers.is_empty() {
        (None, None)
    } else {
        (estimated_rpo, estimated_rto)
    };

    if let (Some(target), Some(estimate)) = (policy.rto, estimated_rto) {
        if estimate > target && !findings.iter().any(|f| f.severity == Severity::Error) {
            findings.push(finding(
                Severity::Error,
                vec![Attr("rto")],
                format!(
                    "rto = \"{target}\" is shorter than these settings can recover in (about \
                     {estimate}); relax the target or add a cross-region replica"
                ),
            ));
        }
    }
    if let (Some(target), Some(estimate)) = (policy.rpo, estimated_rpo) {
        if estimate > target && !findings.iter().any(|f| f.severity == Severity::Error) {
            findings.push(finding(
                Severity::Error,
                vec![Attr("rpo")],
                format!(
                    "rpo = \"{target}\" is shorter than these settings can lose at most (about \
                     {estimate}); relax the target or use a stronger mechanism"
                ),
            ));
        }
    }

    Assessment {
        tier,
        estimated_rpo,
        estimated_rto,
        findings,
    }
}

/// The findings, tier and region-loss RTO of one Aurora cluster.
fn assess_cluster(
    findings: &mut Vec<ModelFinding>,
    i: usize,
    cluster: &ClusterSpec,
) -> (Tier, Option<Duration>) {
    use Step::{Attr, Index};
    let base = || vec![Attr("rds_cluster"), Index(i)];
    let with = |attr| {
        let mut p = base();
        p.push(Attr(attr));
        p
    };
    match cluster.backup_retention_days {
        // Aurora always keeps at least one day of backups; 0 is refused by the API.
        Some(0) => findings.push(finding(
            Severity::Error,
            with("backup_retention_days"),
            "backup_retention_days = 0: Aurora keeps at least 1 day of automated backups. Use \
             1 to 35 days"
                .to_string(),
        )),
        Some(days) if days > MAX_BACKUP_RETENTION_DAYS => findings.push(finding(
            Severity::Error,
            with("backup_retention_days"),
            format!(
                "backup_retention_days = {days} is more than Aurora allows ({MAX_BACKUP_RETENTION_DAYS}); \
                 keep longer history with snapshot copies or AWS Backup"
            ),
        )),
        _ => {}
    }
    let Some(region) = &cluster.global_secondary_region else {
        findings.push(finding(
            Severity::Error,
            base(),
            "no copy outside the primary region: a region loss loses this cluster. Add \
             global_secondary (an Aurora Global Database secondary: RPO seconds, RTO a managed \
             failover)"
                .to_string(),
        ));
        return (Tier::InRegion, None);
    };
    if matches!((&cluster.region, region), (Some(a), Some(b)) if a == b) {
        let mut p = with("global_secondary");
        p.push(Attr("region"));
        findings.push(finding(
            Severity::Error,
            p,
            format!(
                "the global secondary is in the primary's own region ({}); it dies with it. Put \
                 it in another region",
                region.as_deref().unwrap_or_default()
            ),
        ));
    }
    let rto = match cluster.secondary_instance {
        Some(false) => GLOBAL_HEADLESS_FAILOVER_RTO,
        _ => GLOBAL_FAILOVER_RTO,
    };
    (Tier::GlobalDatabase, Some(rto))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rds(replica: bool, backups: bool) -> RdsSpec {
        RdsSpec {
            backup_retention_days: Some(7),
            region: Some("us-east-1".into()),
            replica_region: replica.then(|| Some("us-west-2".into())),
            backups_region: backups.then(|| Some("us-west-2".into())),
        }
    }

    fn policy(rpo: &str, rto: &str) -> PolicySpec {
        PolicySpec {
            rpo: Some(rpo.parse().unwrap()),
            rto: Some(rto.parse().unwrap()),
            owners: Some(2),
            compliance: Some(false),
            ..Default::default()
        }
    }

    fn paths(a: &Assessment) -> Vec<String> {
        a.findings.iter().map(ModelFinding::path_string).collect()
    }

    #[test]
    fn rpo_zero_is_unreachable_on_rds() {
        let mut p = policy("0", "4h");
        p.rds.push(rds(true, false));
        let a = assess(&p);
        assert!(!a.reachable());
        assert_eq!(paths(&a), ["rpo"]);
        assert!(a.findings[0].message.contains("synchronous multi-region"));
    }

    #[test]
    fn sub_hour_targets_need_a_replica() {
        let mut p = policy("5m", "4h");
        p.rds.push(rds(false, true));
        let a = assess(&p);
        assert_eq!(paths(&a), ["rds[0]"]);
        assert!(a.findings[0].message.contains("cross_region_replica"));

        p.rds[0] = rds(true, false);
        let a = assess(&p);
        assert!(a.reachable(), "{:?}", a.findings);
        assert_eq!(a.tier, Tier::CrossRegionReplica);
        assert_eq!(a.estimated_rpo, Some(REPLICA_RPO));
        assert_eq!(a.estimated_rto, Some(REPLICA_PROMOTION_RTO));
    }

    #[test]
    fn backups_alone_meet_relaxed_targets() {
        let mut p = policy("1h", "4h");
        p.rds.push(rds(false, true));
        let a = assess(&p);
        assert!(a.reachable(), "{:?}", a.findings);
        assert_eq!(a.tier, Tier::CrossRegionBackups);
        assert_eq!(a.estimated_rto, Some(RESTORE_RTO));
    }

    #[test]
    fn in_region_only_is_an_error_on_the_block() {
        let mut p = policy("4h", "8h");
        p.rds.push(rds(false, false));
        let a = assess(&p);
        assert_eq!(paths(&a), ["rds[0]"]);
        assert_eq!(a.tier, Tier::InRegion);
        assert_eq!(a.estimated_rpo, None);
    }

    #[test]
    fn same_region_replica_points_at_its_region() {
        let mut p = policy("4h", "8h");
        let mut r = rds(true, false);
        r.replica_region = Some(Some("us-east-1".into()));
        p.rds.push(r);
        assert_eq!(paths(&assess(&p)), ["rds[0].cross_region_replica.region"]);
    }

    #[test]
    fn retention_outside_rds_limits_is_an_error() {
        for days in [0, 36] {
            let mut p = policy("4h", "8h");
            let mut r = rds(false, true);
            r.backup_retention_days = Some(days);
            p.rds.push(r);
            assert_eq!(paths(&assess(&p)), ["rds[0].backup_retention_days"]);
        }
    }

    #[test]
    fn s3_rpo_bands() {
        let bucket = |rtc| S3Spec {
            versioning: Some(true),
            region: Some("us-east-1".into()),
            replication: Some(ReplicationSpec {
                destination_region: Some("us-west-2".into()),
                replication_time_control: Some(rtc),
            }),
            retention: None,
        };
        let mut p = policy("5m", "4h");
        p.s3.push(bucket(true));
        assert_eq!(paths(&assess(&p)), ["rpo"]);

        let mut p = policy("30m", "4h");
        p.s3.push(bucket(false));
        assert_eq!(
            paths(&assess(&p)),
            ["s3[0].replication.replication_time_control"]
        );
        p.s3[0] = bucket(true);
        let a = assess(&p);
        assert!(a.reachable(), "{:?}", a.findings);
        assert_eq!(a.tier, Tier::ReplicationTimeControl);
    }

    #[test]
    fn compliance_needs_seven_years_and_an_archive() {
        let mut p = policy("4h", "8h");
        p.compliance = Some(true);
        p.s3.push(S3Spec {
            versioning: Some(true),
            replication: Some(ReplicationSpec::default()),
            retention: Some(RetentionSpec {
                expire_days: Some(365),
                archives: Some(false),
            }),
            ..Default::default()
        });
        let a = assess(&p);
        assert_eq!(paths(&a), ["s3[0].retention", "s3[0].retention"]);
        assert!(a.findings[0].message.contains("2555"));
    }

    #[test]
    fn one_owner_is_a_warning_not_an_error() {
        let mut p = policy("4h", "8h");
        p.owners = Some(1);
        p.rds.push(rds(false, true));
        let a = assess(&p);
        assert!(a.reachable());
        assert_eq!(a.findings[0].severity, Severity::Warning);
    }

    fn cluster(secondary: Option<&str>, instance: bool) -> ClusterSpec {
        ClusterSpec {
            backup_retention_days: Some(7),
            region: Some("us-east-1".into()),
            global_secondary_region: secondary.map(|r| Some(r.to_string())),
            secondary_instance: Some(instance),
        }
    }

    #[test]
    fn a_global_secondary_meets_second_level_rpo_and_minute_rto() {
        let p = policy("1m", "10m");
        let a = assess_with_clusters(&p, &[cluster(Some("us-west-2"), true)]);
        assert!(a.reachable(), "{:?}", a.findings);
        assert_eq!(a.tier, Tier::GlobalDatabase);
        assert_eq!(a.tier.name(), "aurora-global-database");
        assert_eq!(a.estimated_rpo, Some(GLOBAL_DATABASE_RPO));
        assert_eq!(a.estimated_rto, Some(GLOBAL_FAILOVER_RTO));
    }

    #[test]
    fn a_headless_secondary_cannot_meet_a_ten_minute_rto() {
        let p = policy("1m", "10m");
        let a = assess_with_clusters(&p, &[cluster(Some("us-west-2"), false)]);
        assert_eq!(paths(&a), ["rto"]);
        assert_eq!(a.estimated_rto, Some(GLOBAL_HEADLESS_FAILOVER_RTO));
    }

    #[test]
    fn a_cluster_without_a_secondary_has_no_copy_outside_its_region() {
        let p = policy("4h", "8h");
        let a = assess_with_clusters(&p, &[cluster(None, false)]);
        assert_eq!(paths(&a), ["rds_cluster[0]"]);
        assert!(a.findings[0].message.contains("global_secondary"));
        assert_eq!(a.tier, Tier::InRegion);
        assert_eq!(a.estimated_rpo, None);
    }

    #[test]
    fn a_secondary_in_the_primary_region_points_at_its_region() {
        let p = policy("4h", "8h");
        let a = assess_with_clusters(&p, &[cluster(Some("us-east-1"), true)]);
        assert_eq!(paths(&a), ["rds_cluster[0].global_secondary.region"]);
    }

    #[test]
    fn the_weakest_resource_sets_the_tier_across_instances_and_clusters() {
        let mut p = policy("4h", "8h");
        p.rds.push(rds(false, true));
        let a = assess_with_clusters(&p, &[cluster(Some("us-west-2"), true)]);
        assert!(a.reachable(), "{:?}", a.findings);
        assert_eq!(a.tier, Tier::CrossRegionBackups);
        assert_eq!(a.estimated_rto, Some(RESTORE_RTO));
    }

    #[test]
    fn unknown_values_produce_no_findings() {
        let p = PolicySpec {
            rds: vec![RdsSpec {
                replica_region: Some(None),
                ..Default::default()
            }],
            ..Default::default()
        };
        assert!(assess(&p).findings.is_empty());
    }
}

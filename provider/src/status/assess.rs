//! Judges a policy's figures against its RPO: the worst region-loss figure, whether the
//! target is met, the unknowns with their reasons, and one line a pager can show.
//!
//! Pure: no AWS call, so every verdict is a unit test.

use super::{human, Figure, Scope};

/// The verdict on a policy's live RPO.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The worst measured region-loss figure, in seconds; `None` when none was measured.
    /// With unknowns beside it, the real loss may be larger.
    pub rpo_seconds: Option<f64>,
    /// Every region-loss figure measured and within the RPO; false whenever anything that
    /// counts is unknown, the RPO is not known, or the policy has nothing to measure.
    pub rpo_met: bool,
    /// The worst measured in-region figure (a mistake: point-in-time restore).
    pub mistake_rpo_seconds: Option<f64>,
    /// What could not be measured and why, one entry per copy or problem.
    pub unknown: Vec<String>,
    /// One line for a pager.
    pub summary: String,
}

/// Assesses `figures` of `policy` against `rpo` (seconds; `None` when the policy's target
/// could not be read). `problems` are failures that kept resources from being found at all
/// (a listing that failed after every retry): they count as unknown.
pub fn assess(
    policy: &str,
    rpo: Option<u64>,
    figures: &[Figure],
    problems: &[String],
) -> Assessment {
    let region_loss: Vec<&Figure> = figures
        .iter()
        .filter(|f| f.scope == Scope::RegionLoss)
        .collect();
    let worst = |scope: Scope| {
        figures
            .iter()
            .filter(|f| f.scope == scope)
            .filter_map(|f| f.seconds.map(|s| (s, f)))
            .max_by(|a, b| a.0.total_cmp(&b.0))
    };
    let worst_region = worst(Scope::RegionLoss);
    let mut unknown: Vec<String> = problems.to_vec();
    if rpo.is_none() {
        unknown.push(format!(
            "{policy}: the policy's rpo is not known (no resource carries its drkit:targets tag: apply the dr_policy)"
        ));
    }
    if figures.is_empty() && problems.is_empty() {
        unknown.push(format!(
            "{policy}: no instance, cluster or bucket carries the tag drkit:policy = {policy:?} in the primary region (apply the dr_policy first)"
        ));
    }
    for f in figures {
        if let Some(why) = &f.unknown {
            unknown.push(format!("{}: {why}", f.address));
        }
    }
    let region_unknown = region_loss.iter().filter(|f| f.seconds.is_none()).count();
    let rpo_met = match rpo {
        Some(rpo) => {
            problems.is_empty()
                && !region_loss.is_empty()
                && region_unknown == 0
                && region_loss
                    .iter()
                    .all(|f| f.seconds.is_some_and(|s| s <= rpo as f64))
        }
        None => false,
    };
    let target = rpo.map_or("unknown".to_string(), |r| human(r as f64));
    let describe = |f: &Figure| {
        format!(
            "{} {} ({}) {}",
            f.mechanism.noun(),
            f.address,
            f.source,
            human(f.seconds.unwrap_or_default())
        )
    };
    let summary = if rpo_met {
        let (secs, f) = worst_region.expect("met implies a measured region-loss figure");
        format!(
            "{policy}: RPO {target} met: a region loss would cost {} now (worst: {}); {} figure(s) measured",
            human(secs),
            describe(f),
            figures.iter().filter(|f| f.seconds.is_some()).count()
        )
    } else {
        let mut parts = Vec::new();
        let over: Vec<&Figure> = match rpo {
            Some(rpo) => {
                let mut over: Vec<&Figure> = region_loss
                    .iter()
                    .copied()
                    .filter(|f| f.seconds.is_some_and(|s| s > rpo as f64))
                    .collect();
                over.sort_by(|a, b| {
                    b.seconds
                        .unwrap_or(0.0)
                        .total_cmp(&a.seconds.unwrap_or(0.0))
                });
                over
            }
            None => Vec::new(),
        };
        if !over.is_empty() {
            parts.push(format!(
                "{} over the RPO: {}",
                over.len(),
                over.iter()
                    .map(|f| describe(f))
                    .collect::<Vec<_>>()
                    .join("; ")
            ));
        }
        let region_unknowns: Vec<String> = region_loss
            .iter()
            .filter_map(|f| {
                f.unknown
                    .as_ref()
                    .map(|why| format!("{}: {why}", f.address))
            })
            .chain(problems.iter().cloned())
            .collect();
        if !region_unknowns.is_empty() {
            parts.push(format!(
                "{} unknown: {}",
                region_unknowns.len(),
                region_unknowns.join("; ")
            ));
        }
        if parts.is_empty() {
            // No figure over, none unknown: the policy itself is what is missing.
            parts.push(unknown.join("; "));
        }
        format!("{policy}: RPO {target} NOT met: {}", parts.join("; "))
    };
    Assessment {
        rpo_seconds: worst_region.map(|(s, _)| s),
        rpo_met,
        mistake_rpo_seconds: worst(Scope::InRegion).map(|(s, _)| s),
        unknown,
        summary,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Mechanism;
    use time::OffsetDateTime;

    fn replica(seconds: Option<f64>) -> Figure {
        match seconds {
            Some(s) => Figure::measured(
                "rds:us-west-2:orders-db-dr",
                "rds:us-east-1:orders-db",
                Mechanism::RdsReadReplica,
                Scope::RegionLoss,
                s,
                OffsetDateTime::UNIX_EPOCH,
                "ReplicaLag Maximum over 15m",
            ),
            None => Figure::unknown(
                "rds:us-west-2:orders-db-dr",
                "rds:us-east-1:orders-db",
                Mechanism::RdsReadReplica,
                Scope::RegionLoss,
                "ReplicaLag Maximum over 15m",
                "no ReplicaLag data points in the last 15m",
            ),
        }
    }

    fn pitr(seconds: f64) -> Figure {
        Figure::measured(
            "rds:us-east-1:orders-db",
            "rds:us-east-1:orders-db",
            Mechanism::RdsPitr,
            Scope::InRegion,
            seconds,
            OffsetDateTime::UNIX_EPOCH,
            "LatestRestorableTime",
        )
    }

    #[test]
    fn a_replica_within_the_rpo_meets_it() {
        let a = assess(
            "orders",
            Some(900),
            &[replica(Some(42.0)), pitr(300.0)],
            &[],
        );
        assert!(a.rpo_met);
        assert_eq!(a.rpo_seconds, Some(42.0));
        assert_eq!(a.mistake_rpo_seconds, Some(300.0));
        assert!(a.unknown.is_empty());
        assert_eq!(
            a.summary,
            "orders: RPO 15m met: a region loss would cost 42s now (worst: replica \
             rds:us-west-2:orders-db-dr (ReplicaLag Maximum over 15m) 42s); 2 figure(s) measured"
        );
    }

    #[test]
    fn a_replica_beyond_the_rpo_names_itself_and_the_figure() {
        let a = assess(
            "orders",
            Some(900),
            &[replica(Some(2400.0)), pitr(300.0)],
            &[],
        );
        assert!(!a.rpo_met);
        assert_eq!(a.rpo_seconds, Some(2400.0));
        assert_eq!(
            a.summary,
            "orders: RPO 15m NOT met: 1 over the RPO: replica rds:us-west-2:orders-db-dr \
             (ReplicaLag Maximum over 15m) 40m"
        );
    }

    #[test]
    fn exactly_the_rpo_is_met() {
        assert!(assess("p", Some(900), &[replica(Some(900.0))], &[]).rpo_met);
    }

    #[test]
    fn no_data_points_is_unknown_and_never_met() {
        let a = assess("orders", Some(900), &[replica(None), pitr(10.0)], &[]);
        assert!(!a.rpo_met);
        assert_eq!(a.rpo_seconds, None);
        assert_eq!(
            a.unknown,
            vec!["rds:us-west-2:orders-db-dr: no ReplicaLag data points in the last 15m"]
        );
        assert!(
            a.summary
                .contains("1 unknown: rds:us-west-2:orders-db-dr: no ReplicaLag data points"),
            "{}",
            a.summary
        );
    }

    #[test]
    fn one_unknown_beside_a_good_figure_still_fails() {
        let mut s3 = replica(None);
        s3.address = "s3:b->b-dr".into();
        let a = assess("orders", Some(900), &[replica(Some(1.0)), s3], &[]);
        assert!(!a.rpo_met);
        assert_eq!(
            a.rpo_seconds,
            Some(1.0),
            "the worst measured, a lower bound"
        );
    }

    #[test]
    fn in_region_figures_do_not_decide_the_region_loss_verdict() {
        let a = assess("orders", Some(60), &[replica(Some(5.0)), pitr(300.0)], &[]);
        assert!(a.rpo_met);
        assert_eq!(a.mistake_rpo_seconds, Some(300.0));
    }

    #[test]
    fn only_in_region_figures_cannot_meet_a_region_loss_rpo() {
        let a = assess("orders", Some(900), &[pitr(30.0)], &[]);
        assert!(!a.rpo_met);
        assert_eq!(a.rpo_seconds, None);
    }

    #[test]
    fn a_policy_with_no_resources_yet_says_so() {
        let a = assess("orders", None, &[], &[]);
        assert!(!a.rpo_met);
        assert_eq!(a.unknown.len(), 2, "{:?}", a.unknown);
        assert!(
            a.summary.starts_with("orders: RPO unknown NOT met: "),
            "{}",
            a.summary
        );
        assert!(
            a.summary.contains("apply the dr_policy first"),
            "{}",
            a.summary
        );
    }

    #[test]
    fn an_unknown_rpo_never_meets() {
        let a = assess("orders", None, &[replica(Some(1.0))], &[]);
        assert!(!a.rpo_met);
        assert!(a.unknown[0].contains("rpo is not known"));
    }

    #[test]
    fn a_listing_that_failed_is_unknown() {
        let a = assess(
            "orders",
            Some(900),
            &[replica(Some(1.0))],
            &["S3 buckets: ListBuckets failed: SlowDown".to_string()],
        );
        assert!(!a.rpo_met);
        assert!(a.summary.contains("ListBuckets failed"), "{}", a.summary);
    }
}

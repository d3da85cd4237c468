//! Measures a policy now: discovery, then every read at once (bounded), then the CloudWatch
//! queries of each region in one call, then the verdict.

use std::time::Duration;

use futures::stream::{self, StreamExt};
use time::OffsetDateTime;

use super::archive_listing::ArchiveListings;
use super::discover::{discover, Inventory, MAX_IN_FLIGHT};
use super::metrics::{self, MetricQuery};
use super::preflight::restore_target::RestoreTarget;
use super::{
    assess, aurora_global, binlog_archive, rds_address, rds_pitr, read_replica, replicated_backups,
    s3_replication, wal_archive, Assessment, Figure, Mechanism, Scope,
};
use crate::aws::AwsClients;
use crate::policy::claims::parse_targets_tag;
use crate::policy::rds::{arn_name, arn_region};

/// Everything `dr_status` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// The policy's `rpo` as declared (its `drkit:targets` tag), e.g. `15m`.
    pub rpo: Option<String>,
    /// Every figure, in a stable order (by address, then mechanism).
    pub figures: Vec<Figure>,
    /// The verdict.
    pub assessment: Assessment,
    /// When the measurement started.
    pub measured_at: OffsetDateTime,
    /// The restore path's preflight (empty from [`measure_inventory`] alone).
    pub preflight: Vec<super::preflight::Check>,
    /// The policy's drills (`None` from [`measure_inventory`] alone).
    pub drills: Option<super::drills::DrillStatus>,
}

/// A figure that waits for CloudWatch.
enum Pending {
    Replica {
        address: String,
        protects: String,
        scope: Scope,
        query: usize,
    },
    Aurora {
        address: String,
        protects: String,
        query: usize,
    },
    S3 {
        source: String,
        rule: s3_replication::Rule,
        query: usize,
    },
}

/// What a `dr_status` names beyond its policy: archives to measure, where drills keep
/// evidence, and what the preflight judges.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    /// `wal_archive_uris`.
    pub wal_archives: Vec<String>,
    /// `evidence_uris`.
    pub evidence_uris: Vec<String>,
    /// `binlog_archive { }` blocks.
    pub binlog_archives: Vec<binlog_archive::Input>,
    /// `dump_uris` and `base_backup_uris`.
    pub sources: super::preflight::freshness::Sources,
    /// `restore_target { }` blocks.
    pub restore_targets: Vec<RestoreTarget>,
}

/// Measures `policy`: its resources found by tag, plus the WAL and binlog archives named;
/// its drills from the evidence records in `evidence_uris` and the locations its drills
/// tag; the preflight also judges the drills' backups.
pub async fn measure(
    clients: &AwsClients,
    policy: &str,
    window: Duration,
    inputs: &Inputs,
) -> Measurement {
    let now = OffsetDateTime::now_utc();
    // The archives do not depend on what discovery finds: listed meanwhile, once each.
    let (inv, listings) = tokio::join!(
        discover(clients, policy),
        ArchiveListings::read(clients, inputs)
    );
    let interval = inv
        .targets
        .as_deref()
        .and_then(|t| parse_targets_tag(t).drill_interval)
        .and_then(|d| d.parse::<drlint::model::Duration>().ok())
        .map_or(super::drills::DEFAULT_INTERVAL_SECS, |d| d.as_secs());
    let (mut m, preflight, drills) = tokio::join!(
        measure_inventory(clients, policy, &inv, window, now),
        super::preflight::run(clients, &inv, inputs, &listings, now),
        super::drills::status(
            clients,
            policy,
            &inv.drills,
            &inputs.evidence_uris,
            interval,
            now
        ),
    );
    let archives = archive_figures(inputs, &listings, now);
    if !archives.is_empty() {
        m.figures.extend(archives);
        sort_figures(&mut m.figures);
        m.assessment = assess(
            policy,
            rpo_seconds(m.rpo.as_deref()),
            &m.figures,
            &inv.problems,
        );
    }
    m.preflight = preflight;
    m.drills = Some(drills);
    m
}

/// Measures what [`discover`] found.
pub async fn measure_inventory(
    clients: &AwsClients,
    policy: &str,
    inv: &Inventory,
    window: Duration,
    now: OffsetDateTime,
) -> Measurement {
    let primary = clients.primary_region().to_string();
    let mut figures: Vec<Figure> = Vec::new();
    let mut queries: Vec<MetricQuery> = Vec::new();
    let mut pending: Vec<Pending> = Vec::new();
    let mut backup_reads: Vec<(String, String, String)> = Vec::new();

    for db in &inv.instances {
        let protects = rds_address(&primary, &db.identifier);
        figures.push(rds_pitr::figure(
            &protects,
            Mechanism::RdsPitr,
            db.retention,
            db.latest_restorable,
            now,
        ));
        let mut cross_region = 0;
        for r in &db.replicas {
            let region = arn_region(r).unwrap_or(&primary).to_string();
            let id = arn_name(r);
            let scope = if region == primary {
                Scope::InRegion
            } else {
                cross_region += 1;
                Scope::RegionLoss
            };
            pending.push(Pending::Replica {
                address: rds_address(&region, id),
                protects: protects.clone(),
                scope,
                query: queries.len(),
            });
            queries.push(read_replica::query(&region, id));
        }
        for arn in &db.backup_replications {
            let region = arn_region(arn).unwrap_or(&primary).to_string();
            cross_region += 1;
            backup_reads.push((
                format!("rds-backups:{region}:{}", db.identifier),
                protects.clone(),
                arn.clone(),
            ));
        }
        if cross_region == 0 {
            figures.push(no_copy(&protects, &primary));
        }
    }

    let buckets = inv.buckets.clone();
    let rule_reads = stream::iter(buckets)
        .map(|b| async move {
            let client = clients.s3(clients.primary_region()).await;
            let rules = s3_replication::rules(&client, &b).await;
            (b, rules)
        })
        .buffer_unordered(MAX_IN_FLIGHT)
        .collect::<Vec<_>>();
    let backup_window_reads = stream::iter(backup_reads)
        .map(|(address, protects, arn)| async move {
            let region = arn_region(&arn)
                .unwrap_or(clients.primary_region())
                .to_string();
            let client = clients.rds(&region).await;
            let window = replicated_backups::read(&client, &arn).await;
            (address, protects, window)
        })
        .buffer_unordered(MAX_IN_FLIGHT)
        .collect::<Vec<_>>();
    let global_reads = async {
        if inv.clusters.is_empty() {
            return Vec::new();
        }
        let client = clients.rds(clients.primary_region()).await;
        let mut out = Vec::new();
        for c in &inv.clusters {
            out.push((c, aurora_global::secondaries(&client, &c.arn).await));
        }
        out
    };
    let (rules, windows, globals) = tokio::join!(rule_reads, backup_window_reads, global_reads);

    for (address, protects, window) in windows {
        figures.push(replicated_backups::figure(&address, &protects, window, now));
    }
    for (c, secondaries) in globals {
        let protects = rds_address(&primary, &c.identifier);
        figures.push(rds_pitr::figure(
            &protects,
            Mechanism::AuroraPitr,
            c.retention,
            c.latest_restorable,
            now,
        ));
        match secondaries {
            Ok(list) if list.is_empty() => figures.push(no_copy(&protects, &primary)),
            Ok(list) => {
                for arn in list {
                    let region = arn_region(&arn).unwrap_or(&primary).to_string();
                    let id = arn_name(&arn);
                    pending.push(Pending::Aurora {
                        address: rds_address(&region, id),
                        protects: protects.clone(),
                        query: queries.len(),
                    });
                    queries.push(aurora_global::query(&region, id));
                }
            }
            Err(e) => figures.push(Figure::unknown(
                format!("{protects}->global"),
                &protects,
                Mechanism::AuroraGlobal,
                Scope::RegionLoss,
                "DescribeGlobalClusters",
                format!("the global database could not be read: {e}"),
            )),
        }
    }
    for (bucket, rules) in rules {
        let protects = format!("s3:{bucket}");
        match rules {
            Ok(rules) if rules.is_empty() => figures.push(Figure::unknown(
                &protects,
                &protects,
                Mechanism::NoCrossRegionCopy,
                Scope::RegionLoss,
                "GetBucketReplication",
                "no replication: a region loss loses the bucket's objects",
            )),
            Ok(rules) => {
                for rule in rules {
                    if let Some(f) = s3_replication::unmeasurable(&bucket, &rule) {
                        figures.push(f);
                        continue;
                    }
                    pending.push(Pending::S3 {
                        source: bucket.clone(),
                        query: queries.len(),
                        rule: rule.clone(),
                    });
                    queries.extend(s3_replication::queries(&primary, &bucket, &rule));
                }
            }
            Err(e) => figures.push(Figure::unknown(
                &protects,
                &protects,
                Mechanism::S3Replication,
                Scope::RegionLoss,
                "GetBucketReplication",
                format!("the replication configuration could not be read: {e}"),
            )),
        }
    }

    let series = metrics::fetch(clients, &queries, window, now).await;
    for p in pending {
        figures.push(match p {
            Pending::Replica {
                address,
                protects,
                scope,
                query,
            } => read_replica::figure(
                &address,
                &protects,
                scope,
                &queries[query],
                window,
                &series[query],
            ),
            Pending::Aurora {
                address,
                protects,
                query,
            } => {
                aurora_global::figure(&address, &protects, &queries[query], window, &series[query])
            }
            Pending::S3 {
                source,
                rule,
                query,
            } => s3_replication::figure(
                &source,
                &rule,
                &[queries[query].clone(), queries[query + 1].clone()],
                window,
                &series[query],
                &series[query + 1],
            ),
        });
    }
    sort_figures(&mut figures);

    let rpo = inv
        .targets
        .as_deref()
        .and_then(|t| parse_targets_tag(t).rpo);
    let assessment = assess(policy, rpo_seconds(rpo.as_deref()), &figures, &inv.problems);
    Measurement {
        rpo,
        figures,
        assessment,
        measured_at: now,
        preflight: Vec::new(),
        drills: None,
    }
}

fn no_copy(protects: &str, primary: &str) -> Figure {
    Figure::unknown(
        protects,
        protects,
        Mechanism::NoCrossRegionCopy,
        Scope::RegionLoss,
        "DescribeDBInstances",
        format!("no copy outside {primary}: a region loss loses the data"),
    )
}

/// A stable order: by what is protected, then address, then mechanism.
fn sort_figures(figures: &mut [Figure]) {
    figures.sort_by(|a, b| {
        (&a.protects, &a.address, a.mechanism).cmp(&(&b.protects, &b.address, b.mechanism))
    });
}

/// The policy's declared `rpo` in seconds.
fn rpo_seconds(rpo: Option<&str>) -> Option<u64> {
    rpo.and_then(|r| r.parse::<drlint::model::Duration>().ok())
        .map(|d| d.as_secs())
}

/// The WAL and binlog archives' figures (the newest file's age), from their listings.
fn archive_figures(
    inputs: &Inputs,
    listings: &ArchiveListings,
    now: OffsetDateTime,
) -> Vec<Figure> {
    let wal = inputs.wal_archives.iter().map(|uri| {
        let newest = listings.get(uri).map(wal_archive::newest_segment);
        wal_archive::figure(uri, newest, now)
    });
    let binlog = inputs.binlog_archives.iter().map(|input| {
        let uri = &input.binlog_uri;
        let prefix = wal_archive::parse_uri(uri).map_or("", |(_, prefix)| prefix);
        let newest = listings
            .get(uri)
            .map(|listed| binlog_archive::newest(listed, prefix));
        binlog_archive::figure(uri, newest, now)
    });
    wal.chain(binlog).collect()
}

//! A state whose values are all known: what apply makes true.

use std::time::Duration;

use drlint::model::Duration as DrDuration;
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::diagnostics::error;
use crate::state::dr_policy::{PolicyState, RdsClusterBlock, SourceSettingsState};

use super::blocks::{cluster_path, rds_path, s3_path, DEFAULT_RETENTION_DAYS, DEFAULT_TIMEOUT};
use super::rds_settings::SourceSettings;
use super::s3::{Rule, WantReplication};
use super::validate::retention_of;
use super::{claims, retention, s3};

/// A cross-region replica, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredReplica {
    /// Region.
    pub region: String,
    /// Identifier.
    pub identifier: String,
    /// Class; `None`: the source's.
    pub instance_class: Option<String>,
    /// KMS key.
    pub kms_key_id: Option<String>,
    /// The replica's own backup retention.
    pub retention: i32,
}

/// Cross-region automated-backup replication, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredBackups {
    /// Region.
    pub region: String,
    /// Retention.
    pub retention: i32,
    /// KMS key.
    pub kms_key_id: Option<String>,
}

/// An `rds` block, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRds {
    /// Source identifier.
    pub identifier: String,
    /// Backup retention and window, deletion protection, copy tags.
    pub settings: SourceSettings,
    /// Replica.
    pub replica: Option<DesiredReplica>,
    /// Replicated backups.
    pub backups: Option<DesiredBackups>,
}

/// An Aurora Global Database secondary, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredSecondary {
    /// Region of the secondary cluster.
    pub region: String,
    /// Secondary cluster identifier.
    pub identifier: String,
    /// Global cluster identifier; `None`: the one the source belongs to, else
    /// `<source>-global` (decided at apply when the plan could not read the source).
    pub global_identifier: Option<String>,
    /// Class of the reader instance; `None`: headless.
    pub instance_class: Option<String>,
    /// KMS key in the DR region.
    pub kms_key_id: Option<String>,
}

/// An `rds_cluster` block, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredCluster {
    /// Source cluster identifier.
    pub identifier: String,
    /// Backup retention and window, deletion protection, copy tags.
    pub settings: SourceSettings,
    /// Global Database secondary.
    pub secondary: Option<DesiredSecondary>,
}

/// An `s3` block, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredS3 {
    /// Bucket.
    pub bucket: String,
    /// Versioning.
    pub versioning: bool,
    /// `Some(None)`: SSE-S3; `Some(Some(key))`: SSE-KMS; `None`: not managed.
    pub encryption: Option<Option<String>>,
    /// Replication and the destination's region.
    pub replication: Option<(WantReplication, String)>,
    /// drkit's lifecycle rules, sorted by ID.
    pub rules: Vec<Rule>,
}

/// A `dr_policy` with every value known: what apply makes true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// Policy name.
    pub name: String,
    /// Value of the `drkit:targets` tag.
    pub targets: String,
    /// RDS blocks.
    pub rds: Vec<DesiredRds>,
    /// S3 blocks.
    pub s3: Vec<DesiredS3>,
    /// Aurora cluster blocks.
    pub clusters: Vec<DesiredCluster>,
}

pub(super) struct Need<'d> {
    diags: &'d mut Diagnostics,
    ok: bool,
}

impl Need<'_> {
    fn get<T: Clone>(
        &mut self,
        v: &Value<T>,
        default: Option<T>,
        path: impl FnOnce() -> AttributePath,
    ) -> Option<T> {
        match v {
            Value::Value(x) => Some(x.clone()),
            Value::Null if default.is_some() => default,
            Value::Null => None,
            Value::Unknown => {
                self.ok = false;
                self.diags.add_error(error(
                    "Value still unknown at apply",
                    "Terraform passed an unknown value to apply; this is a provider bug, please report it.",
                    path(),
                ));
                None
            }
        }
    }
}

impl Need<'_> {
    /// The settings of an `rds` or `rds_cluster` block (`p`: the block's path).
    fn settings(
        &mut self,
        b: &SourceSettingsState,
        p: impl Fn() -> AttributePath,
    ) -> SourceSettings {
        SourceSettings {
            retention: self
                .get(
                    &b.backup_retention_days,
                    Some(DEFAULT_RETENTION_DAYS),
                    || p().attribute("backup_retention_days"),
                )
                .unwrap_or(DEFAULT_RETENTION_DAYS) as i32,
            // Read from the live source at plan time; unknown when it did not exist yet,
            // and then left as AWS sets it.
            backup_window: b.backup_window.as_ref_option().cloned(),
            deletion_protection: self
                .get(&b.deletion_protection, Some(true), || {
                    p().attribute("deletion_protection")
                })
                .unwrap_or(true),
            copy_tags: self
                .get(&b.copy_tags_to_snapshot, Some(true), || {
                    p().attribute("copy_tags_to_snapshot")
                })
                .unwrap_or(true),
        }
    }
}

impl Desired {
    /// Resolves a planned (or prior) state. Unknown values are errors in `diags`, and
    /// `None` is returned.
    pub fn from_state(diags: &mut Diagnostics, s: &PolicyState) -> Option<Desired> {
        let mut n = Need { diags, ok: true };
        let name = n
            .get(&s.name, None, || AttributePath::new("name"))
            .unwrap_or_default();
        let rpo = n
            .get(&s.rpo, Some(String::new()), || AttributePath::new("rpo"))
            .unwrap_or_default();
        let rto = n
            .get(&s.rto, Some(String::new()), || AttributePath::new("rto"))
            .unwrap_or_default();
        let compliance = n
            .get(&s.compliance, Some(false), || {
                AttributePath::new("compliance")
            })
            .unwrap_or(false);
        let mut rds = Vec::new();
        let rds_blocks = n
            .get(&s.rds, Some(Vec::new()), || AttributePath::new("rds"))
            .unwrap_or_default();
        for (i, b) in rds_blocks.iter().enumerate() {
            let p = || rds_path(i);
            let identifier = n
                .get(&b.instance_identifier, None, || {
                    p().attribute("instance_identifier")
                })
                .unwrap_or_default();
            let settings = n.settings(&b.settings, p);
            let retention = settings.retention;
            let replica = match n.get(&b.cross_region_replica, None, || {
                p().attribute("cross_region_replica")
            }) {
                Some(r) => {
                    let rp = || p().attribute("cross_region_replica").index(0);
                    Some(DesiredReplica {
                        region: n
                            .get(&r.region, None, || rp().attribute("region"))
                            .unwrap_or_default(),
                        identifier: n
                            .get(&r.identifier, Some(format!("{identifier}-dr")), || {
                                rp().attribute("identifier")
                            })
                            .unwrap_or_default(),
                        instance_class: r.instance_class.as_ref_option().cloned(),
                        kms_key_id: n.get(&r.kms_key_id, None, || rp().attribute("kms_key_id")),
                        retention: n
                            .get(&r.backup_retention_days, Some(retention as i64), || {
                                rp().attribute("backup_retention_days")
                            })
                            .unwrap_or(retention as i64) as i32,
                    })
                }
                None => None,
            };
            let backups = match n.get(&b.cross_region_backups, None, || {
                p().attribute("cross_region_backups")
            }) {
                Some(r) => {
                    let bp = || p().attribute("cross_region_backups").index(0);
                    Some(DesiredBackups {
                        region: n
                            .get(&r.region, None, || bp().attribute("region"))
                            .unwrap_or_default(),
                        retention: n
                            .get(&r.retention_days, Some(retention as i64), || {
                                bp().attribute("retention_days")
                            })
                            .unwrap_or(retention as i64) as i32,
                        kms_key_id: n.get(&r.kms_key_id, None, || bp().attribute("kms_key_id")),
                    })
                }
                None => None,
            };
            rds.push(DesiredRds {
                identifier,
                settings,
                replica,
                backups,
            });
        }
        let mut buckets = Vec::new();
        let s3_blocks = n
            .get(&s.s3, Some(Vec::new()), || AttributePath::new("s3"))
            .unwrap_or_default();
        for (j, b) in s3_blocks.iter().enumerate() {
            let p = || s3_path(j);
            let bucket = n
                .get(&b.bucket, None, || p().attribute("bucket"))
                .unwrap_or_default();
            let versioning = n
                .get(&b.versioning, Some(true), || p().attribute("versioning"))
                .unwrap_or(true);
            let encryption = n
                .get(&b.encryption, None, || p().attribute("encryption"))
                .map(|e| {
                    n.get(&e.kms_key_id, None, || {
                        p().attribute("encryption").index(0).attribute("kms_key_id")
                    })
                });
            let replication = match n.get(&b.replication, None, || p().attribute("replication")) {
                Some(r) => {
                    let rp = || p().attribute("replication").index(0);
                    let want = WantReplication {
                        destination_bucket: n
                            .get(&r.destination_bucket, None, || {
                                rp().attribute("destination_bucket")
                            })
                            .unwrap_or_default(),
                        role_arn: n
                            .get(&r.role_arn, None, || rp().attribute("role_arn"))
                            .unwrap_or_default(),
                        storage_class: n
                            .get(
                                &r.storage_class,
                                Some(s3::DEFAULT_STORAGE_CLASS.to_string()),
                                || rp().attribute("storage_class"),
                            )
                            .unwrap_or_default(),
                        rtc: n
                            .get(&r.replication_time_control, Some(false), || {
                                rp().attribute("replication_time_control")
                            })
                            .unwrap_or(false),
                        delete_marker: n
                            .get(&r.delete_marker_replication, Some(false), || {
                                rp().attribute("delete_marker_replication")
                            })
                            .unwrap_or(false),
                        replica_kms_key_id: n.get(&r.replica_kms_key_id, None, || {
                            rp().attribute("replica_kms_key_id")
                        }),
                    };
                    let region = n
                        .get(&r.destination_region, None, || {
                            rp().attribute("destination_region")
                        })
                        .unwrap_or_default();
                    Some((want, region))
                }
                None => None,
            };
            let blocks = n
                .get(&b.retention, Some(Vec::new()), || {
                    p().attribute("retention")
                })
                .unwrap_or_default();
            let mut plain = Vec::new();
            for (k, r) in blocks.iter().enumerate() {
                match retention_of(r) {
                    Some(r) => plain.push(r),
                    None => {
                        n.get(&Value::<()>::Unknown, None, || {
                            p().attribute("retention").index(k as i64)
                        });
                    }
                }
            }
            buckets.push(DesiredS3 {
                bucket,
                versioning,
                encryption,
                replication,
                rules: retention::rules_of(&plain),
            });
        }
        let mut clusters = Vec::new();
        let cluster_blocks = n
            .get(&s.rds_cluster, Some(Vec::new()), || {
                AttributePath::new("rds_cluster")
            })
            .unwrap_or_default();
        for (i, b) in cluster_blocks.iter().enumerate() {
            clusters.push(desired_cluster(&mut n, i, b));
        }
        if !n.ok {
            return None;
        }
        Some(Desired {
            targets: claims::targets_tag(&claims::Targets {
                rpo: Some(rpo),
                rto: Some(rto),
                compliance,
                owners: s.owners.as_ref_option().map(|list| {
                    list.iter()
                        .filter_map(|o| o.as_ref_option().cloned())
                        .collect()
                }),
                runbook_url: s.runbook_url.as_ref_option().cloned(),
                drill_interval: s.drill_interval.as_ref_option().cloned(),
            }),
            name,
            rds,
            s3: buckets,
            clusters,
        })
    }
}

/// Resolves one `rds_cluster` block.
fn desired_cluster(n: &mut Need, i: usize, b: &RdsClusterBlock) -> DesiredCluster {
    let p = || cluster_path(i);
    let identifier = n
        .get(&b.cluster_identifier, None, || {
            p().attribute("cluster_identifier")
        })
        .unwrap_or_default();
    let settings = n.settings(&b.settings, p);
    let secondary = match n.get(&b.global_secondary, None, || {
        p().attribute("global_secondary")
    }) {
        Some(g) => {
            let gp = || p().attribute("global_secondary").index(0);
            Some(DesiredSecondary {
                region: n
                    .get(&g.region, None, || gp().attribute("region"))
                    .unwrap_or_default(),
                identifier: n
                    .get(
                        &g.cluster_identifier,
                        Some(format!("{identifier}-dr")),
                        || gp().attribute("cluster_identifier"),
                    )
                    .unwrap_or_default(),
                // Read from the live source at plan time; unknown when it did not exist yet.
                global_identifier: g.global_cluster_identifier.as_ref_option().cloned(),
                instance_class: n.get(&g.instance_class, None, || gp().attribute("instance_class")),
                kms_key_id: n.get(&g.kms_key_id, None, || gp().attribute("kms_key_id")),
            })
        }
        None => None,
    };
    DesiredCluster {
        identifier,
        settings,
        secondary,
    }
}

/// The create or update timeout of a state.
pub fn timeout(s: &PolicyState, create: bool) -> Duration {
    s.timeouts
        .as_ref_option()
        .and_then(|t| {
            if create {
                t.create.as_ref_option()
            } else {
                t.update.as_ref_option()
            }
        })
        .and_then(|d| d.parse::<DrDuration>().ok())
        .map(|d| Duration::from_secs(d.as_secs()))
        .unwrap_or(DEFAULT_TIMEOUT)
}

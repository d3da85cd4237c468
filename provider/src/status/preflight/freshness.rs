//! Freshness of what a restore would start from, against the policy's RPO: the newest dump
//! under each `dump_uris` prefix, the newest base backup under each `base_backup_uris`
//! prefix, and the newest automated snapshot of each instance and cluster of the policy.
//! A restore from an older copy loses more than the RPO allows, however well it restores.
//!
//! The objects are the ones the drills would restore, chosen by the drill's own selection
//! code ([`drkit_drill::selection`]). Age is `now - LastModified` for S3 objects (listing
//! only: the dump's own completion time needs its whole body, and a compressed or encrypted
//! dump hides it) and `now - SnapshotCreateTime` for snapshots; every detail says which.
//! Replicated automated backups in the DR region are not read here: their newest
//! restorable time is already a `resources` figure (`rds_replicated_backups`).

use aws_sdk_rds::Client as Rds;
use futures::future::join_all;
use time::OffsetDateTime;

use super::Check;
use crate::aws::AwsClients;
use crate::diagnostics::{aws, AwsError};
use crate::policy::claims::parse_targets_tag;
use crate::policy::s3;
use crate::status::discover::Inventory;
use crate::status::{age, human, rds_address, read_failure, rfc3339, to_offset, wal_archive};
use drkit_drill::selection::{self, Listed};

const DUMP: &str = "dump_freshness";
const BASE_BACKUP: &str = "base_backup_freshness";
const SNAPSHOT: &str = "snapshot_freshness";

/// The S3 locations `dr_status` was given, as the drills name them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sources {
    /// `postgres_dump`/`mysql_dump` prefixes (`s3_uri`).
    pub dumps: Vec<String>,
    /// `postgres_pitr` base backup prefixes (`base_backup_uri`).
    pub base_backups: Vec<String>,
}

/// The newest copy found, and how it is dated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Newest {
    /// What it is, as the detail names it: `dump s3://b/k`, `automated snapshot rds:x-...`.
    pub what: String,
    /// When it was made.
    pub at: OffsetDateTime,
    /// Which field `at` is: `LastModified`, `SnapshotCreateTime`.
    pub dated_by: &'static str,
}

/// The policy's RPO: in seconds, and as declared (`24h`), which is how a detail says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rpo {
    /// Seconds.
    pub secs: u64,
    /// As the policy declares it.
    pub declared: String,
}

/// Every freshness check the policy's resources and `sources` call for.
pub async fn checks(
    clients: &AwsClients,
    inv: &Inventory,
    sources: &Sources,
    now: OffsetDateTime,
) -> Vec<Check> {
    let rpo = inv
        .targets
        .as_deref()
        .and_then(|t| parse_targets_tag(t).rpo)
        .and_then(|declared| {
            let secs = declared.parse::<drlint::model::Duration>().ok()?.as_secs();
            Some(Rpo { secs, declared })
        });
    let rpo = rpo.as_ref();
    let (dumps, backups, snapshots) = tokio::join!(
        join_all(
            sources
                .dumps
                .iter()
                .map(|uri| s3_check(clients, DUMP, uri, rpo, now))
        ),
        join_all(sources.base_backups.iter().map(|uri| s3_check(
            clients,
            BASE_BACKUP,
            uri,
            rpo,
            now
        ))),
        snapshot_checks(clients, inv, rpo, now),
    );
    dumps.into_iter().chain(backups).chain(snapshots).collect()
}

/// The newest dump or base backup under `uri`.
async fn s3_check(
    clients: &AwsClients,
    check: &'static str,
    uri: &str,
    rpo: Option<&Rpo>,
    now: OffsetDateTime,
) -> Check {
    let kind = if check == DUMP { "dump" } else { "base_backup" };
    let subject = format!("{kind}:{uri}");
    let Some((bucket, prefix)) = wal_archive::parse_uri(uri) else {
        return Check::new(check, subject, None, format!("{uri:?} is not an s3:// URI"));
    };
    let primary = clients.primary_region();
    let budget = clients.read_budget();
    let unknown = |region: &str, e: &AwsError| {
        Check::new(
            check,
            &subject,
            None,
            format!(
                "{uri} could not be listed: {}",
                read_failure("S3", region, budget, e)
            ),
        )
    };
    // The bucket may live outside the primary region (a drill names its region): list it
    // where it is.
    let region = match s3::location(&clients.s3(primary).await, bucket).await {
        Ok(Some(region)) => region,
        Ok(None) => {
            return Check::new(
                check,
                &subject,
                Some(false),
                format!("bucket {bucket} does not exist: a drill would have nothing to restore"),
            )
        }
        Err(e) => return unknown(primary, &e),
    };
    let listed = match wal_archive::list(&clients.s3(&region).await, bucket, prefix).await {
        Ok(listed) => listed,
        Err(e) => return unknown(&region, &e),
    };
    let (ok, detail) = if check == DUMP {
        dump_verdict(bucket, prefix, &listed, rpo, now)
    } else {
        base_backup_verdict(bucket, prefix, &listed, rpo, now)
    };
    Check::new(check, subject, ok, detail)
}

/// The dump a `postgres_dump`/`mysql_dump` drill of `prefix` would restore, judged.
pub fn dump_verdict(
    bucket: &str,
    prefix: &str,
    listed: &[Listed],
    rpo: Option<&Rpo>,
    now: OffsetDateTime,
) -> (Option<bool>, String) {
    match selection::dump(prefix, listed) {
        Some(o) => verdict(
            &Newest {
                what: format!("dump s3://{bucket}/{}", o.key),
                at: o.modified,
                dated_by: "LastModified",
            },
            rpo,
            now,
        ),
        None => (
            Some(false),
            format!("no dump under s3://{bucket}/{prefix} (empty objects and folder markers do not count): a drill would have nothing to restore"),
        ),
    }
}

/// The newest base backup a `postgres_pitr` drill of `prefix` could restore, judged.
pub fn base_backup_verdict(
    bucket: &str,
    prefix: &str,
    listed: &[Listed],
    rpo: Option<&Rpo>,
    now: OffsetDateTime,
) -> (Option<bool>, String) {
    match selection::base_backups(listed)
        .into_iter()
        .max_by_key(|b| b.base.modified)
    {
        Some(b) => verdict(
            &Newest {
                what: format!("base backup s3://{bucket}/{}", b.base.key),
                at: b.base.modified,
                dated_by: "LastModified",
            },
            rpo,
            now,
        ),
        None => (
            Some(false),
            format!("no base backup under s3://{bucket}/{prefix} (a folder holding base.tar.gz or base.tar, as pg_basebackup -Ft writes): a drill would have nothing to restore"),
        ),
    }
}

/// The newest copy's age against the RPO. Unknown without an RPO: no guess at one.
pub fn verdict(newest: &Newest, rpo: Option<&Rpo>, now: OffsetDateTime) -> (Option<bool>, String) {
    let old = age(now, newest.at);
    let dated = format!("age from its {} {}", newest.dated_by, rfc3339(newest.at));
    match rpo {
        Some(rpo) => (
            Some(old <= rpo.secs as f64),
            format!(
                "newest {} is {} old; rpo {} ({dated})",
                newest.what,
                human(old),
                rpo.declared
            ),
        ),
        None => (
            None,
            format!(
                "newest {} is {} old; the policy's rpo is not known (no resource carries its drkit:targets tag: apply the dr_policy) ({dated})",
                newest.what,
                human(old)
            ),
        ),
    }
}

/// How old the newest automated snapshot may be when the RPO is shorter: RDS takes one a
/// day, at the start of the backup window, and a large one becomes `available` hours
/// later. Between two snapshots an RPO under a day is met by point-in-time restore (the
/// newest snapshot plus the transaction logs), which the `rds` figure measures; judged
/// against such an RPO, every snapshot would fail most of the day.
const DAILY_SNAPSHOT_SECS: u64 = 26 * 3600;

/// The newest automated snapshot's age against the RPO, or against the daily schedule when
/// the RPO is shorter than a day.
pub fn snapshot_verdict(
    newest: &Newest,
    rpo: Option<&Rpo>,
    now: OffsetDateTime,
) -> (Option<bool>, String) {
    match rpo {
        Some(rpo) if rpo.secs < DAILY_SNAPSHOT_SECS => {
            let old = age(now, newest.at);
            (
                Some(old <= DAILY_SNAPSHOT_SECS as f64),
                format!(
                    "newest {} is {} old; judged against {}h (automated snapshots are daily; the rpo {} is met between them by point-in-time restore, see the rds figures) (age from its {} {})",
                    newest.what,
                    human(old),
                    DAILY_SNAPSHOT_SECS / 3600,
                    rpo.declared,
                    newest.dated_by,
                    rfc3339(newest.at)
                ),
            )
        }
        _ => verdict(newest, rpo, now),
    }
}

/// One check per instance (not an Aurora member: its backups are its cluster's) and per
/// cluster, in the primary region, where their automated snapshots are.
async fn snapshot_checks(
    clients: &AwsClients,
    inv: &Inventory,
    rpo: Option<&Rpo>,
    now: OffsetDateTime,
) -> Vec<Check> {
    let primary = clients.primary_region().to_string();
    let client = clients.rds(&primary).await;
    let instances = inv
        .instances
        .iter()
        .filter(|i| i.cluster.is_none())
        .map(|i| (i.identifier.as_str(), i.retention, false));
    let clusters = inv
        .clusters
        .iter()
        .map(|c| (c.identifier.as_str(), c.retention, true));
    let all: Vec<(&str, i32, bool)> = instances.chain(clusters).collect();
    join_all(all.into_iter().map(|(id, retention, cluster)| {
        let (client, primary) = (&client, &primary);
        async move {
            let subject = rds_address(primary, id);
            if retention == 0 {
                return Check::new(
                    SNAPSHOT,
                    subject,
                    Some(false),
                    "automated backups are off (BackupRetentionPeriod 0): no automated snapshot is taken, nothing to restore",
                );
            }
            let newest = if cluster {
                newest_cluster_snapshot(client, id).await
            } else {
                newest_instance_snapshot(client, id).await
            };
            let (ok, detail) = match newest {
                Ok(Some(n)) => snapshot_verdict(&n, rpo, now),
                Ok(None) => (
                    Some(false),
                    format!("no available automated snapshot of {id} in {primary}: automated backups have not run"),
                ),
                Err(e) => (
                    None,
                    format!(
                        "the automated snapshots could not be read: {}",
                        read_failure("RDS", primary, clients.read_budget(), &e)
                    ),
                ),
            };
            Check::new(SNAPSHOT, subject, ok, detail)
        }
    }))
    .await
}

/// The newest available automated snapshot of `instance` (`DescribeDBSnapshots`).
async fn newest_instance_snapshot(rds: &Rds, instance: &str) -> Result<Option<Newest>, AwsError> {
    let mut newest: Option<Newest> = None;
    let mut pages = rds
        .describe_db_snapshots()
        .db_instance_identifier(instance)
        .snapshot_type("automated")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(aws("DescribeDBSnapshots"))?;
        for s in page.db_snapshots() {
            newer(
                &mut newest,
                s.db_snapshot_identifier(),
                s.status(),
                s.snapshot_create_time(),
            );
        }
    }
    Ok(newest)
}

/// The newest available automated snapshot of `cluster` (`DescribeDBClusterSnapshots`).
async fn newest_cluster_snapshot(rds: &Rds, cluster: &str) -> Result<Option<Newest>, AwsError> {
    let mut newest: Option<Newest> = None;
    let mut pages = rds
        .describe_db_cluster_snapshots()
        .db_cluster_identifier(cluster)
        .snapshot_type("automated")
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(aws("DescribeDBClusterSnapshots"))?;
        for s in page.db_cluster_snapshots() {
            newer(
                &mut newest,
                s.db_cluster_snapshot_identifier(),
                s.status(),
                s.snapshot_create_time(),
            );
        }
    }
    Ok(newest)
}

/// Keeps the newer of `newest` and this snapshot; one still being taken restores nothing.
fn newer(
    newest: &mut Option<Newest>,
    id: Option<&str>,
    status: Option<&str>,
    created: Option<&aws_smithy_types::DateTime>,
) {
    let (Some(id), Some(at)) = (id, created.and_then(to_offset)) else {
        return;
    };
    if status.is_some_and(|s| s != "available") {
        return;
    }
    if newest.as_ref().is_none_or(|n| n.at < at) {
        *newest = Some(Newest {
            what: format!("automated snapshot {id}"),
            at,
            dated_by: "SnapshotCreateTime",
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> OffsetDateTime {
        OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000) + time::Duration::minutes(min)
    }

    fn l(key: &str, size: u64, min: i64) -> Listed {
        Listed {
            key: key.into(),
            size,
            modified: at(min),
        }
    }

    fn rpo(declared: &str) -> Rpo {
        Rpo {
            secs: declared
                .parse::<drlint::model::Duration>()
                .unwrap()
                .as_secs(),
            declared: declared.into(),
        }
    }

    #[test]
    fn a_daily_snapshot_is_judged_against_the_day_when_the_rpo_is_shorter() {
        let snapshot = Newest {
            what: "automated snapshot rds:orders-db-2026-12-06-03-10".into(),
            at: at(0),
            dated_by: "SnapshotCreateTime",
        };
        // 23 hours after the last snapshot, an rpo of 15m is not failed: PITR covers it.
        let (ok, detail) = snapshot_verdict(&snapshot, Some(&rpo("15m")), at(23 * 60));
        assert_eq!(ok, Some(true), "{detail}");
        assert!(
            detail.contains("is 23h 0m old; judged against 26h (automated snapshots are daily; the rpo 15m is met"),
            "{detail}"
        );
        // A day's snapshot that did not come fails, whatever the rpo.
        let (ok, detail) = snapshot_verdict(&snapshot, Some(&rpo("15m")), at(27 * 60));
        assert_eq!(ok, Some(false), "{detail}");
        // An rpo of two days is the measure itself.
        let (ok, detail) = snapshot_verdict(&snapshot, Some(&rpo("48h")), at(47 * 60));
        assert_eq!(ok, Some(true), "{detail}");
        assert!(detail.contains("is 1d 23h old; rpo 48h"), "{detail}");
        let (ok, _) = snapshot_verdict(&snapshot, Some(&rpo("48h")), at(49 * 60));
        assert_eq!(ok, Some(false));
        let (ok, _) = snapshot_verdict(&snapshot, None, at(60));
        assert_eq!(ok, None);
    }

    #[test]
    fn a_dump_older_than_the_rpo_fails_naming_it_and_its_age() {
        let listed = [
            l("daily/orders-2026-12-02.dump", 10, 0),
            l("daily/orders-2026-12-03.dump", 10, 60),
        ];
        let now = at(60 + 3 * 1440 + 120);
        let (ok, detail) = dump_verdict("b", "daily/", &listed, Some(&rpo("24h")), now);
        assert_eq!(ok, Some(false));
        assert!(
            detail.starts_with(
                "newest dump s3://b/daily/orders-2026-12-03.dump is 3d 2h old; rpo 24h (age from its LastModified "
            ),
            "{detail}"
        );
        let (ok, _) = dump_verdict("b", "daily/", &listed, Some(&rpo("24h")), at(70));
        assert_eq!(ok, Some(true));
    }

    #[test]
    fn what_a_drill_would_not_restore_does_not_make_a_dump_fresh() {
        // A folder marker and an empty object written after the dump are not dumps.
        let listed = [
            l("daily/orders.dump", 10, 0),
            l("daily/", 0, 500),
            l("daily/in-progress.dump", 0, 500),
        ];
        let (ok, detail) = dump_verdict("b", "daily/", &listed, Some(&rpo("1h")), at(120));
        assert_eq!(ok, Some(false), "{detail}");
        assert!(
            detail.contains("daily/orders.dump is 2h 0m old"),
            "{detail}"
        );
        let (ok, detail) = dump_verdict("b", "daily/", &listed[1..], Some(&rpo("1h")), at(120));
        assert_eq!(ok, Some(false));
        assert!(
            detail.starts_with("no dump under s3://b/daily/"),
            "{detail}"
        );
    }

    #[test]
    fn the_newest_base_backup_is_a_folder_with_a_base_tar() {
        let listed = [
            l("base/1/base.tar.gz", 10, 0),
            // Newer, but no base.tar: not a backup a drill could restore.
            l("base/2/pg_wal.tar.gz", 10, 100),
        ];
        let (ok, detail) = base_backup_verdict("b", "base/", &listed, Some(&rpo("1h")), at(90));
        assert_eq!(ok, Some(false));
        assert!(
            detail
                .starts_with("newest base backup s3://b/base/1/base.tar.gz is 1h 30m old; rpo 1h"),
            "{detail}"
        );
        let (ok, detail) =
            base_backup_verdict("b", "base/", &listed[1..], Some(&rpo("1h")), at(90));
        assert_eq!(ok, Some(false));
        assert!(
            detail.starts_with("no base backup under s3://b/base/"),
            "{detail}"
        );
    }

    #[test]
    fn without_an_rpo_the_age_is_told_but_not_judged() {
        let n = Newest {
            what: "automated snapshot rds:orders-db-2026-12-06-03-00".into(),
            at: at(0),
            dated_by: "SnapshotCreateTime",
        };
        let (ok, detail) = verdict(&n, None, at(30));
        assert_eq!(ok, None);
        assert!(
            detail.contains("is 30m old; the policy's rpo is not known"),
            "{detail}"
        );
    }

    #[test]
    fn a_snapshot_still_being_taken_is_not_the_newest() {
        let mut newest = None;
        let t = |min: i64| aws_smithy_types::DateTime::from_secs(at(min).unix_timestamp());
        newer(&mut newest, Some("rds:a-1"), Some("available"), Some(&t(0)));
        newer(&mut newest, Some("rds:a-2"), Some("creating"), Some(&t(10)));
        newer(
            &mut newest,
            Some("rds:a-0"),
            Some("available"),
            Some(&t(-10)),
        );
        let n = newest.unwrap();
        assert_eq!(n.what, "automated snapshot rds:a-1");
        assert_eq!(n.at, at(0));
    }
}

//! Apply: change only what differs from the live resources, in parallel.

use std::time::{Duration, Instant};

use futures::future::join_all;
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::aws::AwsClients;
use crate::diagnostics::{aws_diagnostic, error};

use super::blocks::{rds_path, s3_path};
use super::claims::{owner_conflict, CREATED_BY_TAG, OWNER_TAG, TARGETS_TAG};
use super::desired::{Desired, DesiredRds, DesiredReplica, DesiredS3};
use super::errors::{aws_err, Step_};
use super::lifecycle::release;
use super::live_checks::{check_live_instance, rds_block_of};
use super::rds_settings::SettingsChange;
use super::s3::bucket_tags;
use super::{aurora, rds, s3};

pub(super) async fn apply_rds(
    clients: &AwsClients,
    d: &Desired,
    prev: Option<&str>,
    i: usize,
    r: &DesiredRds,
    deadline: Instant,
) -> Vec<Diagnostic> {
    let p = rds_path(i);
    let region = clients.primary_region().to_string();
    let primary = clients.rds(&region).await;
    let live = match rds::describe(&primary, &r.identifier).await {
        Ok(Some(live)) => live,
        Ok(None) => {
            return vec![error(
                "RDS instance not found",
                format!(
                    "RDS instance {:?} does not exist in {region}. Create \
                    it first, or fix instance_identifier.",
                    r.identifier
                ),
                p.attribute("instance_identifier"),
            )]
        }
        Err(e) => {
            return vec![aws_diagnostic(
                format!("Could not read RDS instance {:?}", r.identifier),
                p.attribute("instance_identifier"),
                &e,
            )]
        }
    };
    let mut diags = Diagnostics::default();
    check_live_instance(
        &mut diags,
        &rds_block_of(r),
        &live,
        &d.name,
        &|o| o == d.name || Some(o) == prev,
        &p,
    );
    if !diags.errors.is_empty() {
        return diags.errors;
    }
    configure_rds(clients, d, &p, r, &primary, live, deadline)
        .await
        .err()
        .into_iter()
        .collect()
}

pub(super) async fn ensure_replica(
    clients: &AwsClients,
    d: &Desired,
    p: &AttributePath,
    r: &DesiredRds,
    rep: &DesiredReplica,
    source: &rds::LiveInstance,
    deadline: Instant,
) -> Step_ {
    let rp = p.clone().attribute("cross_region_replica").index(0);
    let client = clients.rds(&rep.region).await;
    let what = format!("replica {:?} in {}", rep.identifier, rep.region);
    let existing = rds::describe(&client, &rep.identifier)
        .await
        .map_err(aws_err(
            format!("Could not read {what}"),
            rp.clone().attribute("identifier"),
        ))?;
    let live = match existing {
        None => {
            if source.status != "available" {
                // A replica is created only from an available source (not `backing-up`).
                let primary = clients.rds(clients.primary_region()).await;
                rds::wait_available(&primary, &r.identifier, deadline)
                    .await
                    .map_err(aws_err(
                        format!("RDS instance {:?} did not become available", r.identifier),
                        p.clone().attribute("instance_identifier"),
                    ))?;
            }
            tracing::info!(replica = %rep.identifier, region = %rep.region, source = %source.arn, "creating read replica");
            rds::create_replica(
                &client,
                &rds::NewReplica {
                    identifier: rep.identifier.clone(),
                    source_arn: source.arn.clone(),
                    instance_class: rep.instance_class.clone(),
                    kms_key_id: rep.kms_key_id.clone(),
                    deletion_protection: r.settings.deletion_protection,
                    copy_tags: r.settings.copy_tags,
                    tags: vec![
                        (OWNER_TAG.to_string(), d.name.clone()),
                        (CREATED_BY_TAG.to_string(), d.name.clone()),
                    ],
                },
            )
            .await
            .map_err(aws_err(
                format!("Could not create {what}"),
                rp.clone().attribute("identifier"),
            ))?;
            rds::wait_available(&client, &rep.identifier, deadline)
                .await
                .map_err(aws_err(
                    format!("{what} did not become available"),
                    rp.clone().attribute("identifier"),
                ))?
        }
        Some(live) => {
            tracing::info!(replica = %rep.identifier, "adopting existing read replica");
            live
        }
    };
    // Also after a create: an instance that took the name meanwhile is not adopted.
    if !live
        .source
        .as_deref()
        .is_some_and(|s| rds::same_instance(s, source))
    {
        return Err(error(
            "Replica identifier taken",
            format!(
                "{what} exists but is not a read replica of {} ({}). It may have been \
                 promoted during a failover. Choose another identifier, or delete or \
                 rename that instance.",
                r.identifier,
                match &live.source {
                    Some(s) => format!("it replicates {s}"),
                    None => "it is a standalone instance".to_string(),
                }
            ),
            rp.attribute("identifier"),
        ));
    }
    let m = rds::Modify {
        settings: SettingsChange {
            retention: (live.retention != rep.retention).then_some(rep.retention),
            ..Default::default()
        },
        instance_class: rep
            .instance_class
            .clone()
            .filter(|c| Some(c) != live.instance_class.as_ref()),
    };
    if !m.is_empty() {
        if live.status != "available" {
            rds::wait_available(&client, &rep.identifier, deadline)
                .await
                .map_err(aws_err(
                    format!("{what} did not become available"),
                    rp.clone().attribute("identifier"),
                ))?;
        }
        rds::modify(&client, &rep.identifier, &m)
            .await
            .map_err(aws_err(
                format!("Could not modify {what}"),
                rp.clone().attribute("identifier"),
            ))?;
        rds::wait_settled(&client, &rep.identifier, deadline)
            .await
            .map_err(aws_err(
                format!("{what} did not become available after the change"),
                rp.clone().attribute("identifier"),
            ))?;
    }
    if live.tags.get(OWNER_TAG) != Some(&d.name) {
        rds::add_tags(&client, &live.arn, &[(OWNER_TAG, &d.name)])
            .await
            .map_err(aws_err(
                format!("Could not tag {what}"),
                rp.attribute("identifier"),
            ))?;
    }
    Ok(())
}

pub(super) async fn apply_s3(
    clients: &AwsClients,
    d: &Desired,
    prev: Option<&str>,
    j: usize,
    b: &DesiredS3,
) -> Vec<Diagnostic> {
    let p = s3_path(j);
    let region = clients.primary_region().to_string();
    let client = clients.s3(&region).await;
    let what = format!("bucket {:?}", b.bucket);
    configure_s3(clients, d, prev, &p, b, &client, &what)
        .await
        .err()
        .into_iter()
        .collect()
}

/// The changes to one source instance, its replica and its replicated backups.
async fn configure_rds(
    clients: &AwsClients,
    d: &Desired,
    p: &AttributePath,
    r: &DesiredRds,
    primary: &aws_sdk_rds::Client,
    mut live: rds::LiveInstance,
    deadline: Instant,
) -> Step_ {
    let m = rds::Modify::from(SettingsChange::between(&live.settings(), &r.settings));
    let what = format!("RDS instance {:?}", r.identifier);
    if !m.is_empty() {
        if live.status != "available" {
            rds::wait_available(primary, &r.identifier, deadline)
                .await
                .map_err(aws_err(
                    format!("{what} did not become available"),
                    p.clone().attribute("instance_identifier"),
                ))?;
        }
        tracing::info!(instance = %r.identifier, ?m, "modifying");
        rds::modify(primary, &r.identifier, &m)
            .await
            .map_err(aws_err(
                format!("Could not modify {what}"),
                p.clone().attribute("instance_identifier"),
            ))?;
        live = rds::wait_settled(primary, &r.identifier, deadline)
            .await
            .map_err(aws_err(
                format!("{what} did not become available after the change"),
                p.clone().attribute("instance_identifier"),
            ))?;
    }
    if live.tags.get(OWNER_TAG) != Some(&d.name) || live.tags.get(TARGETS_TAG) != Some(&d.targets) {
        rds::add_tags(
            primary,
            &live.arn,
            &[(OWNER_TAG, &d.name), (TARGETS_TAG, &d.targets)],
        )
        .await
        .map_err(aws_err(
            format!("Could not tag {what}"),
            p.clone().attribute("instance_identifier"),
        ))?;
    }
    if let Some(rep) = &r.replica {
        ensure_replica(clients, d, p, r, rep, &live, deadline).await?;
    }
    if let Some(b) = &r.backups {
        let replication = live
            .backup_replications
            .iter()
            .find(|arn| rds::arn_region(arn) == Some(b.region.as_str()));
        let client = clients.rds(&b.region).await;
        if let Some(arn) = replication {
            let current = rds::replicated_backup_retention(&client, arn)
                .await
                .ok()
                .flatten();
            if current.is_some_and(|days| days != b.retention) {
                return Err(error(
                    "Retention of replicated backups cannot change in place",
                    format!(
                        "The automated backups of {what} are replicated to {} with {} days of retention. RDS \
                         changes that only by stopping the replication, which deletes the replicated \
                         backups, so the provider will not do it. Set retention_days back to {}, or stop \
                         the replication yourself (aws rds stop-db-instance-automated-backups-replication) \
                         and apply again.",
                        b.region,
                        current.unwrap_or_default(),
                        current.unwrap_or_default()
                    ),
                    p.clone().attribute("cross_region_backups").index(0).attribute("retention_days"),
                ));
            }
        } else {
            tracing::info!(instance = %r.identifier, region = %b.region, "starting automated backup replication");
            rds::start_backup_replication(&client, &live.arn, b.retention, b.kms_key_id.clone())
                .await
                .map_err(aws_err(
                    format!(
                        "Could not replicate the automated backups of {what} to {}",
                        b.region
                    ),
                    p.clone()
                        .attribute("cross_region_backups")
                        .index(0)
                        .attribute("region"),
                ))?;
        }
    }
    Ok(())
}

/// The changes to one bucket. Every read goes out at once (the bucket, and the replication
/// destination's region and versioning); then versioning and, after it, replication (S3
/// refuses replication on an unversioned bucket) while lifecycle, encryption and tags are
/// written beside them: against AWS a bucket waits three round trips, not eight.
async fn configure_s3(
    clients: &AwsClients,
    d: &Desired,
    prev: Option<&str>,
    p: &AttributePath,
    b: &DesiredS3,
    client: &aws_sdk_s3::Client,
    what: &str,
) -> Step_ {
    let rp = p.clone().attribute("replication").index(0);
    let destination = async {
        match &b.replication {
            Some((want, dest_region)) => {
                let dest_client = clients.s3(dest_region).await;
                let (location, versioning) = futures::join!(
                    s3::location(&dest_client, &want.destination_bucket),
                    s3::versioning_status(&dest_client, &want.destination_bucket)
                );
                Some((location, versioning))
            }
            None => None,
        }
    };
    let (live, destination) = futures::join!(s3::describe(client, &b.bucket), destination);
    let live = live
        .map_err(aws_err(
            format!("Could not read {what}"),
            p.clone().attribute("bucket"),
        ))?
        .ok_or_else(|| {
            error(
                "Bucket not found",
                format!(
                    "Bucket {:?} does not exist. Create it first, or fix bucket.",
                    b.bucket
                ),
                p.clone().attribute("bucket"),
            )
        })?;
    if let Some(owner) = live.tag(OWNER_TAG) {
        if owner != d.name && Some(owner) != prev {
            return Err(owner_conflict(
                "Bucket owned by another policy",
                &format!("Bucket {}", b.bucket),
                owner,
                &d.name,
                p.clone().attribute("bucket"),
            ));
        }
    }
    if let (Some((want, dest_region)), Some((location, dest_versioning))) =
        (&b.replication, destination)
    {
        let dest_path = rp.clone().attribute("destination_bucket");
        let read_err = || {
            aws_err(
                format!(
                    "Could not read destination bucket {:?}",
                    want.destination_bucket
                ),
                dest_path.clone(),
            )
        };
        match location.map_err(read_err())? {
            None => {
                return Err(error(
                    "Destination bucket not found",
                    format!(
                        "Bucket {:?} does not exist. Create it (with \
                        versioning) in {dest_region} first.",
                        want.destination_bucket
                    ),
                    dest_path,
                ))
            }
            Some(loc) if &loc != dest_region => {
                return Err(error(
                    "Destination bucket in another region",
                    format!(
                        "Bucket {:?} is in {loc}, not in destination_region \
                        {dest_region}.",
                        want.destination_bucket
                    ),
                    rp.clone().attribute("destination_region"),
                ))
            }
            Some(_) => {}
        }
        if dest_versioning.map_err(read_err())?.as_deref() != Some("Enabled") {
            return Err(error(
                "Destination bucket not versioned",
                format!(
                    "S3 replicates only into a versioned bucket: enable \
                    versioning on {:?}.",
                    want.destination_bucket
                ),
                dest_path,
            ));
        }
    }

    // Versioning first: S3 refuses replication on an unversioned bucket.
    let versioning_then_replication = async {
        if b.versioning != live.versioning_enabled() && (b.versioning || live.versioning.is_some())
        {
            s3::put_versioning(client, &b.bucket, b.versioning)
                .await
                .map_err(aws_err(
                    format!("Could not set versioning on {what}"),
                    p.clone().attribute("versioning"),
                ))?;
        }
        match &b.replication {
            Some((want, _)) => {
                if !live.replication.as_ref().is_some_and(|l| want.matches(l)) {
                    tracing::info!(bucket = %b.bucket, ?want, "putting replication");
                    s3::put_replication(client, &b.bucket, want)
                        .await
                        .map_err(aws_err(
                            format!("Could not configure replication of {what}"),
                            rp.clone().attribute("destination_bucket"),
                        ))?;
                }
            }
            None => {
                if live
                    .replication
                    .as_ref()
                    .is_some_and(|l| l.rule_id.as_deref() == Some(s3::REPLICATION_RULE_ID))
                {
                    s3::delete_replication(client, &b.bucket)
                        .await
                        .map_err(aws_err(
                            format!("Could not remove drkit's replication of {what}"),
                            p.clone().attribute("bucket"),
                        ))?;
                }
            }
        }
        Ok(())
    };
    let lifecycle = async {
        if live.drkit_rules() != b.rules {
            s3::put_lifecycle(client, &b.bucket, &live, &b.rules)
                .await
                .map_err(aws_err(
                    format!("Could not write the lifecycle rules of {what}"),
                    p.clone().attribute("retention").index(0),
                ))?;
        }
        Ok(())
    };
    let encryption = async {
        if let Some(kms) = &b.encryption {
            let ok = live.encryption.as_ref().is_some_and(|e| match kms {
                Some(key) => {
                    e.algorithm == "aws:kms" && e.kms_key_id.as_deref() == Some(key.as_str())
                }
                None => e.algorithm == "AES256",
            });
            if !ok {
                s3::put_encryption(client, &b.bucket, kms.as_deref())
                    .await
                    .map_err(aws_err(
                        format!("Could not set the encryption of {what}"),
                        p.clone()
                            .attribute("encryption")
                            .index(0)
                            .attribute("kms_key_id"),
                    ))?;
            }
        }
        Ok(())
    };
    let tags = async {
        if live.tag(OWNER_TAG) != Some(&d.name) || live.tag(TARGETS_TAG) != Some(&d.targets) {
            let tags = bucket_tags(
                &live,
                &[(OWNER_TAG, &d.name), (TARGETS_TAG, &d.targets)],
                &[],
            );
            s3::put_tags(client, &b.bucket, &tags)
                .await
                .map_err(aws_err(
                    format!("Could not tag {what}"),
                    p.clone().attribute("bucket"),
                ))?;
        }
        Ok(())
    };
    let (a, l, e, t): (Step_, Step_, Step_, Step_) =
        futures::join!(versioning_then_replication, lifecycle, encryption, tags);
    // What succeeded stays applied; the first failure is reported and the next apply
    // converges from what is live.
    a.and(l).and(e).and(t)
}

/// Applies `desired`: only what differs from the live resources, every instance and bucket
/// in parallel. Resources dropped since `previous` lose their ownership tags. Returns false
/// when something failed (the errors are in `diags`).
pub async fn apply(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    desired: &Desired,
    previous: Option<&Desired>,
    timeout: Duration,
) -> bool {
    let deadline = Instant::now() + timeout;
    // A renamed policy still owns what its previous name tagged.
    let prev = previous.map(|p| p.name.as_str());
    let (rds_results, s3_results, cluster_results) = tokio::join!(
        join_all(
            desired
                .rds
                .iter()
                .enumerate()
                .map(|(i, r)| apply_rds(clients, desired, prev, i, r, deadline))
        ),
        join_all(
            desired
                .s3
                .iter()
                .enumerate()
                .map(|(j, b)| apply_s3(clients, desired, prev, j, b))
        ),
        join_all(
            desired
                .clusters
                .iter()
                .enumerate()
                .map(|(i, c)| aurora::apply_cluster(clients, desired, prev, i, c, deadline))
        ),
    );
    for e in rds_results
        .into_iter()
        .chain(s3_results)
        .chain(cluster_results)
        .flatten()
    {
        diags.add_error(e);
    }
    if let Some(previous) = previous {
        let gone = Desired {
            rds: previous
                .rds
                .iter()
                .filter(|r| !desired.rds.iter().any(|n| n.identifier == r.identifier))
                .cloned()
                .collect(),
            s3: previous
                .s3
                .iter()
                .filter(|b| !desired.s3.iter().any(|n| n.bucket == b.bucket))
                .cloned()
                .collect(),
            clusters: previous
                .clusters
                .iter()
                .filter(|c| {
                    !desired
                        .clusters
                        .iter()
                        .any(|n| n.identifier == c.identifier)
                })
                .cloned()
                .collect(),
            ..previous.clone()
        };
        release(diags, clients, &gone, false).await;
    }
    diags.errors.is_empty()
}

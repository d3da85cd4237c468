//! `rds_cluster` blocks (Aurora) through every phase: defaults, plan checks, apply, read
//! back (drift, import) and release. The AWS calls are in [`rds_cluster`]; the phases of
//! the other blocks call into here, so a cluster is handled where an instance is.

use std::time::Instant;

use futures::future::join_all;
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::aws::AwsClients;
use crate::diagnostics::{aws_diagnostic, error, AwsError};
use crate::state::dr_policy::{GlobalSecondaryBlock, PolicyState, RdsClusterBlock};

use super::blocks::cluster_path;
use super::claims::{CREATED_BY_TAG, OWNER_TAG, TARGETS_TAG};
use super::defaults::{default_global_identifier, secondary_of};
use super::desired::{Desired, DesiredCluster, DesiredSecondary};
use super::errors::{aws_err, Step_};
use super::live_checks::{block_of, check_live_cluster, secondary_taken};
use super::rds_cluster::{LiveCluster, LiveGlobal};
use super::rds_settings::SettingsChange;
use super::release::{release_copy, untag_source, CopyOfSource};
use super::source_settings::sync_settings;
use super::sync::Sync;
use super::validate::Regions;
use super::{rds, rds_cluster};

/// The source cluster and the secondary (when the block declares one), read at once.
async fn read_pair(
    clients: &AwsClients,
    primary: &aws_sdk_rds::Client,
    source: Option<String>,
    secondary: Option<(String, String)>,
) -> (
    Result<Option<LiveCluster>, AwsError>,
    Option<Result<Option<LiveCluster>, AwsError>>,
) {
    let source = async {
        match source {
            Some(id) => rds_cluster::describe(primary, &id).await,
            None => Ok(None),
        }
    };
    let secondary = async {
        match secondary {
            Some((region, id)) => {
                let client = clients.rds(&region).await;
                Some(rds_cluster::describe(&client, &id).await)
            }
            None => None,
        }
    };
    futures::join!(source, secondary)
}

/// Plan: checks against the live clusters (owner, keys, windows, the global cluster and
/// the secondary's name), and fills what the plan reads from them.
pub(super) async fn plan(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    clusters: &mut Value<Vec<RdsClusterBlock>>,
    regions: &Regions<'_>,
    name: &str,
    may_own: &(dyn Fn(&str) -> bool + std::marker::Sync),
) {
    let Value::Value(blocks) = clusters.as_mut() else {
        return;
    };
    let primary = clients.rds(regions.primary).await;
    let lives = join_all(blocks.iter().map(|b| {
        read_pair(
            clients,
            &primary,
            b.cluster_identifier.as_ref_option().cloned(),
            secondary_of(b, regions),
        )
    }))
    .await;
    for (i, (b, (live, secondary))) in blocks.iter_mut().zip(lives).enumerate() {
        let p = cluster_path(i);
        let id = b
            .cluster_identifier
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let live = match live {
            Ok(Some(live)) => live,
            Ok(None) => continue,
            Err(e) => {
                diags.add_error(aws_diagnostic(
                    format!("Could not read DB cluster {id:?}"),
                    p.attribute("cluster_identifier"),
                    &e,
                ));
                continue;
            }
        };
        check_live_cluster(diags, b, &live, name, may_own, &p);
        if b.settings.backup_window.is_unknown() {
            b.settings.backup_window = Value::from(live.backup_window.clone());
        }
        let Value::Value(g) = b.global_secondary.as_mut() else {
            continue;
        };
        let gp = p.clone().attribute("global_secondary").index(0);
        if g.global_cluster_identifier.is_unknown() {
            g.global_cluster_identifier = Value::Value(
                live.global_cluster
                    .clone()
                    .unwrap_or_else(|| default_global_identifier(&id)),
            );
        }
        if let (Value::Value(want), Some(have)) =
            (&g.global_cluster_identifier, &live.global_cluster)
        {
            if want != have {
                diags.add_error(error(
                    "Cluster already in another global cluster",
                    format!(
                        "DB cluster {id} is the member of global cluster {have:?}; a cluster \
                         belongs to one global cluster. Set global_cluster_identifier = \
                         \"{have}\" (or remove it to adopt that one)."
                    ),
                    gp.clone().attribute("global_cluster_identifier"),
                ));
            }
        }
        if let (Some(Ok(Some(existing))), Value::Value(gid)) =
            (secondary, &g.global_cluster_identifier)
        {
            if existing.global_cluster.as_deref() != Some(gid.as_str()) {
                diags.add_error(secondary_taken(
                    &existing,
                    gid,
                    gp.attribute("cluster_identifier"),
                ));
            }
        }
    }
}

/// Apply: one cluster's settings, its global cluster and its secondary. Returns the errors.
pub(super) async fn apply_cluster(
    clients: &AwsClients,
    d: &Desired,
    prev: Option<&str>,
    i: usize,
    c: &DesiredCluster,
    deadline: Instant,
) -> Vec<Diagnostic> {
    let p = cluster_path(i);
    let region = clients.primary_region().to_string();
    let primary = clients.rds(&region).await;
    let secondary = c
        .secondary
        .as_ref()
        .map(|s| (s.region.clone(), s.identifier.clone()));
    // The source and the secondary are read at once: one round trip before any change.
    let (live, existing) =
        read_pair(clients, &primary, Some(c.identifier.clone()), secondary).await;
    let live = match live {
        Ok(Some(live)) => live,
        Ok(None) => {
            return vec![error(
                "DB cluster not found",
                format!(
                    "DB cluster {:?} does not exist in {region}. Create it first, or fix \
                     cluster_identifier.",
                    c.identifier
                ),
                p.attribute("cluster_identifier"),
            )]
        }
        Err(e) => {
            return vec![aws_diagnostic(
                format!("Could not read DB cluster {:?}", c.identifier),
                p.attribute("cluster_identifier"),
                &e,
            )]
        }
    };
    let mut diags = Diagnostics::default();
    check_live_cluster(
        &mut diags,
        &block_of(c),
        &live,
        &d.name,
        &|o| o == d.name || Some(o) == prev,
        &p,
    );
    if !diags.errors.is_empty() {
        return diags.errors;
    }
    configure_cluster(clients, d, &p, c, &primary, live, existing, deadline)
        .await
        .err()
        .into_iter()
        .collect()
}

#[allow(clippy::too_many_arguments)]
async fn configure_cluster(
    clients: &AwsClients,
    d: &Desired,
    p: &AttributePath,
    c: &DesiredCluster,
    primary: &aws_sdk_rds::Client,
    mut live: LiveCluster,
    existing: Option<Result<Option<LiveCluster>, AwsError>>,
    deadline: Instant,
) -> Step_ {
    let what = format!("DB cluster {:?}", c.identifier);
    let at = || p.clone().attribute("cluster_identifier");
    let m = SettingsChange::between(&live.settings(), &c.settings);
    if !m.is_empty() {
        if live.status != "available" {
            rds_cluster::wait_available(primary, &c.identifier, deadline, false)
                .await
                .map_err(aws_err(format!("{what} did not become available"), at()))?;
        }
        tracing::info!(cluster = %c.identifier, ?m, "modifying");
        rds_cluster::modify(primary, &c.identifier, &m)
            .await
            .map_err(aws_err(format!("Could not modify {what}"), at()))?;
        live = rds_cluster::wait_available(primary, &c.identifier, deadline, true)
            .await
            .map_err(aws_err(
                format!("{what} did not become available after the change"),
                at(),
            ))?;
    }
    if live.tags.get(OWNER_TAG) != Some(&d.name) || live.tags.get(TARGETS_TAG) != Some(&d.targets) {
        rds_cluster::add_tags(
            primary,
            &live.arn,
            &[(OWNER_TAG, &d.name), (TARGETS_TAG, &d.targets)],
        )
        .await
        .map_err(aws_err(format!("Could not tag {what}"), at()))?;
    }
    if let (Some(s), Some(existing)) = (&c.secondary, existing) {
        ensure_secondary(clients, d, p, c, s, &live, existing, deadline).await?;
    }
    Ok(())
}

/// Makes the source the primary of its global cluster and the secondary a member of it:
/// both created when missing, adopted when they already are what the policy asks for.
#[allow(clippy::too_many_arguments)]
async fn ensure_secondary(
    clients: &AwsClients,
    d: &Desired,
    p: &AttributePath,
    c: &DesiredCluster,
    s: &DesiredSecondary,
    source: &LiveCluster,
    existing: Result<Option<LiveCluster>, AwsError>,
    deadline: Instant,
) -> Step_ {
    let gp = p.clone().attribute("global_secondary").index(0);
    let primary = clients.rds(clients.primary_region()).await;
    let global = s
        .global_identifier
        .clone()
        .or_else(|| source.global_cluster.clone())
        .unwrap_or_else(|| default_global_identifier(&c.identifier));
    let what = format!("global cluster {global:?}");
    match &source.global_cluster {
        Some(have) if *have != global => {
            return Err(error(
                "Cluster already in another global cluster",
                format!(
                    "DB cluster {} is the member of global cluster {have:?}, not {global:?}; a \
                     cluster belongs to one global cluster.",
                    c.identifier
                ),
                gp.attribute("global_cluster_identifier"),
            ))
        }
        Some(_) => {}
        None => {
            if source.status != "available" {
                rds_cluster::wait_available(&primary, &c.identifier, deadline, false)
                    .await
                    .map_err(aws_err(
                        format!("DB cluster {:?} did not become available", c.identifier),
                        p.clone().attribute("cluster_identifier"),
                    ))?;
            }
            tracing::info!(global = %global, source = %source.arn, "creating global cluster");
            let created = rds_cluster::create_global(&primary, &global, &source.arn)
                .await
                .map_err(aws_err(
                    format!("Could not create {what}"),
                    gp.clone().attribute("global_cluster_identifier"),
                ))?;
            if !created {
                // It existed: adopt it only when the source is its member.
                let found: Option<LiveGlobal> = rds_cluster::describe_global(&primary, &global)
                    .await
                    .map_err(aws_err(
                        format!("Could not read {what}"),
                        gp.clone().attribute("global_cluster_identifier"),
                    ))?;
                if !found.is_some_and(|g| g.has_member(&source.arn)) {
                    return Err(error(
                        "Global cluster identifier taken",
                        format!(
                            "{what} exists without DB cluster {} as a member. Choose another \
                             global_cluster_identifier.",
                            c.identifier
                        ),
                        gp.attribute("global_cluster_identifier"),
                    ));
                }
            }
        }
    }

    let client = clients.rds(&s.region).await;
    let swhat = format!("secondary cluster {:?} in {}", s.identifier, s.region);
    let sat = || gp.clone().attribute("cluster_identifier");
    let existing = existing.map_err(aws_err(format!("Could not read {swhat}"), sat()))?;
    let live = match existing {
        Some(live) => {
            tracing::info!(secondary = %s.identifier, "adopting existing secondary cluster");
            live
        }
        None => {
            tracing::info!(secondary = %s.identifier, region = %s.region, global = %global, "creating secondary cluster");
            rds_cluster::create_secondary(
                &client,
                &rds_cluster::NewSecondary {
                    identifier: s.identifier.clone(),
                    global_identifier: global.clone(),
                    engine: source
                        .engine
                        .clone()
                        .unwrap_or_else(|| "aurora-postgresql".into()),
                    engine_version: source.engine_version.clone(),
                    kms_key_id: s.kms_key_id.clone(),
                    deletion_protection: c.settings.deletion_protection,
                    copy_tags: c.settings.copy_tags,
                    tags: vec![
                        (OWNER_TAG.to_string(), d.name.clone()),
                        (CREATED_BY_TAG.to_string(), d.name.clone()),
                    ],
                },
            )
            .await
            .map_err(aws_err(format!("Could not create {swhat}"), sat()))?;
            rds_cluster::wait_available(&client, &s.identifier, deadline, false)
                .await
                .map_err(aws_err(format!("{swhat} did not become available"), sat()))?
        }
    };
    // Also after a create: a cluster that took the name meanwhile is not adopted.
    if live.global_cluster.as_deref() != Some(global.as_str()) {
        return Err(secondary_taken(&live, &global, sat()));
    }
    if let Some(class) = &s.instance_class {
        ensure_reader(&client, d, &gp, s, &live, source, class, deadline).await?;
    }
    if live.tags.get(OWNER_TAG) != Some(&d.name) {
        rds_cluster::add_tags(&client, &live.arn, &[(OWNER_TAG, &d.name)])
            .await
            .map_err(aws_err(format!("Could not tag {swhat}"), sat()))?;
    }
    Ok(())
}

/// A reader instance of `class` in the secondary, created when the secondary has none.
#[allow(clippy::too_many_arguments)]
async fn ensure_reader(
    client: &aws_sdk_rds::Client,
    d: &Desired,
    gp: &AttributePath,
    s: &DesiredSecondary,
    secondary: &LiveCluster,
    source: &LiveCluster,
    class: &str,
    deadline: Instant,
) -> Step_ {
    let at = || gp.clone().attribute("instance_class");
    let reader = rds_cluster::reader_identifier(&s.identifier);
    let what = format!("reader {reader:?} of {:?}", s.identifier);
    if secondary.members.is_empty() {
        tracing::info!(reader = %reader, "creating the secondary's reader instance");
        rds_cluster::create_reader(
            client,
            &reader,
            &s.identifier,
            source.engine.as_deref().unwrap_or("aurora-postgresql"),
            class,
            &[
                (OWNER_TAG.to_string(), d.name.clone()),
                (CREATED_BY_TAG.to_string(), d.name.clone()),
            ],
        )
        .await
        .map_err(aws_err(format!("Could not create {what}"), at()))?;
        rds::wait_available(client, &reader, deadline)
            .await
            .map_err(aws_err(format!("{what} did not become available"), at()))?;
        return Ok(());
    }
    // An instance the policy named: keep its class as declared. (Instances added by
    // others are theirs.)
    if secondary.members.contains(&reader) {
        let live = rds::describe(client, &reader)
            .await
            .map_err(aws_err(format!("Could not read {what}"), at()))?;
        if let Some(live) = live.filter(|l| l.instance_class.as_deref() != Some(class)) {
            if live.status != "available" {
                rds::wait_available(client, &reader, deadline)
                    .await
                    .map_err(aws_err(format!("{what} did not become available"), at()))?;
            }
            rds::modify(
                client,
                &reader,
                &rds::Modify {
                    instance_class: Some(class.to_string()),
                    ..Default::default()
                },
            )
            .await
            .map_err(aws_err(format!("Could not modify {what}"), at()))?;
            rds::wait_settled(client, &reader, deadline)
                .await
                .map_err(aws_err(
                    format!("{what} did not become available after the change"),
                    at(),
                ))?;
        }
    }
    Ok(())
}

/// Read: compares the `rds_cluster` blocks with the live clusters; see [`super::observe`].
#[allow(clippy::too_many_arguments)]
pub(super) async fn observe(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    s: &mut PolicyState,
    regions: &Regions<'_>,
    findings: &mut Vec<String>,
    write: bool,
    import: bool,
    targets_tag: &mut Option<String>,
) {
    let name = s.name.as_ref_option().cloned().unwrap_or_default();
    let Value::Value(blocks) = s.rds_cluster.as_mut() else {
        return;
    };
    let primary = clients.rds(regions.primary).await;
    let lives = join_all(blocks.iter().map(|b| {
        let id = b.cluster_identifier.as_ref_option().cloned();
        let secondary = secondary_of(b, regions);
        let primary = primary.clone();
        async move {
            // The reader (when the policy names a class) is read with the clusters: a
            // refresh waits one round trip per cluster, not three.
            let reader_of = secondary.clone();
            let reader = async move {
                match (&reader_of, b.global_secondary.as_ref_option()) {
                    (Some((region, sid)), Some(g)) if g.instance_class.is_value() => {
                        let client = clients.rds(region).await;
                        rds::describe(&client, &rds_cluster::reader_identifier(sid))
                            .await
                            .ok()
                            .flatten()
                    }
                    _ => None,
                }
            };
            futures::join!(read_pair(clients, &primary, id, secondary), reader)
        }
    }))
    .await;
    for (i, (b, ((live, secondary), reader))) in blocks.iter_mut().zip(lives).enumerate() {
        let p = cluster_path(i);
        let id = b
            .cluster_identifier
            .as_ref_option()
            .cloned()
            .unwrap_or_default();
        let live = match live {
            Ok(Some(live)) => live,
            Ok(None) => {
                diags.add_error(error(
                    "DB cluster of the policy no longer exists",
                    format!(
                        "dr_policy {name:?} covers DB cluster {id:?}, which no longer exists in {}. \
                         If it was lost, recover it (fail over to its global secondary: see the \
                         dr_runbook) and apply again; if it was retired on purpose, remove its \
                         rds_cluster block. The policy does not silently forget a database.",
                        regions.primary
                    ),
                    p.attribute("cluster_identifier"),
                ));
                continue;
            }
            Err(e) => {
                diags.add_error(aws_diagnostic(
                    format!("Could not read DB cluster {id:?}"),
                    p.attribute("cluster_identifier"),
                    &e,
                ));
                continue;
            }
        };
        if targets_tag.is_none() {
            *targets_tag = live.tags.get(TARGETS_TAG).cloned();
        }
        let at = |attr: &str| format!("rds_cluster[{i}] {id} {attr}");
        let mut sync = Sync {
            findings,
            write,
            import,
        };
        sync_settings(&mut b.settings, &mut sync, &live.settings(), at);

        if import && b.global_secondary.is_null() {
            if let Some(gid) = &live.global_cluster {
                import_secondary(clients, b, &live, gid, regions).await;
            }
        }
        let Value::Value(g) = b.global_secondary.as_mut() else {
            continue;
        };
        let region = g
            .region
            .as_ref_option()
            .cloned()
            .or(regions.dr.map(str::to_string))
            .unwrap_or_default();
        let sid = g
            .cluster_identifier
            .as_ref_option()
            .cloned()
            .unwrap_or_else(|| format!("{id}-dr"));
        // A secondary that was imported after the first read is read now.
        let secondary = match secondary {
            Some(r) => r,
            None => {
                let client = clients.rds(&region).await;
                rds_cluster::describe(&client, &sid).await
            }
        };
        let Some(gid) = live.global_cluster.clone() else {
            findings.push(format!(
                "rds_cluster[{i}] {id}: is not the primary of a global cluster"
            ));
            if write {
                b.global_secondary = Value::Null;
            }
            continue;
        };
        match secondary {
            Ok(Some(sec)) if sec.global_cluster.as_deref() == Some(gid.as_str()) => {
                let mut sync = Sync {
                    findings,
                    write,
                    import,
                };
                sync.field(&mut g.global_cluster_identifier, None, gid.clone(), || {
                    at("global cluster")
                });
                // A key ARN (moto reports the key of a secondary it calls unencrypted).
                if import
                    && (sec.encrypted
                        || sec
                            .kms_key_id
                            .as_deref()
                            .is_some_and(|k| k.starts_with("arn:")))
                {
                    g.kms_key_id = Value::from(sec.kms_key_id.clone());
                }
                if import && g.instance_class.is_null() {
                    let client = clients.rds(&region).await;
                    let reader = rds::describe(&client, &rds_cluster::reader_identifier(&sid))
                        .await
                        .ok()
                        .flatten();
                    g.instance_class = Value::from(reader.and_then(|r| r.instance_class));
                } else if let Value::Value(class) = &g.instance_class {
                    match &reader {
                        _ if sec.members.is_empty() => {
                            findings.push(format!(
                                "rds_cluster[{i}] {id}: secondary {sid} has no instance to fail over to"
                            ));
                            if write {
                                g.instance_class = Value::Null;
                            }
                        }
                        Some(r) if r.instance_class.as_ref() != Some(class) => {
                            let live_class = r.instance_class.clone().unwrap_or_default();
                            findings.push(format!(
                                "rds_cluster[{i}] {id} secondary reader class: is {live_class:?}, the policy sets {class:?}"
                            ));
                            if write {
                                g.instance_class = Value::Value(live_class);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Ok(found) => {
                findings.push(match found {
                    Some(_) => format!("rds_cluster[{i}] {id}: {sid} in {region} is no longer a member of global cluster {gid} (detached?)"),
                    None => format!("rds_cluster[{i}] {id}: the global secondary {sid} in {region} does not exist"),
                });
                if write {
                    b.global_secondary = Value::Null;
                }
            }
            Err(e) => diags.add_warning(aws_diagnostic(
                format!("Could not read secondary cluster {sid:?} in {region}"),
                p.attribute("global_secondary"),
                &e,
            )),
        }
    }
}

/// Import: the global secondary of a source that is the primary of a global cluster.
async fn import_secondary(
    clients: &AwsClients,
    b: &mut RdsClusterBlock,
    live: &LiveCluster,
    gid: &str,
    regions: &Regions<'_>,
) {
    let primary = clients.rds(regions.primary).await;
    let Ok(Some(global)) = rds_cluster::describe_global(&primary, gid).await else {
        return;
    };
    if let Some(arn) = global
        .members
        .iter()
        .find(|a| *a != &live.arn && rds::arn_region(a).is_some_and(|r| r != regions.primary))
    {
        b.global_secondary = Value::Value(GlobalSecondaryBlock {
            region: Value::from(rds::arn_region(arn).map(str::to_string)),
            cluster_identifier: Value::Value(rds::arn_name(arn).to_string()),
            global_cluster_identifier: Value::Value(gid.to_string()),
            ..Default::default()
        });
    }
}

/// Destroy: the clusters lose the ownership tags; with `delete_replicas`, a secondary this
/// policy created is taken out of the global cluster and deleted. Sources and global
/// clusters stay.
pub(super) async fn release(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    d: &Desired,
    delete_replicas: bool,
) {
    let primary = clients.rds(clients.primary_region()).await;
    for (i, c) in d.clusters.iter().enumerate() {
        let p = cluster_path(i);
        let read = rds_cluster::describe(&primary, &c.identifier).await;
        untag_source(diags, &primary, read, d, &c.identifier, &p).await;
        let Some(s) = &c.secondary else { continue };
        let client = clients.rds(&s.region).await;
        let read = rds_cluster::describe(&client, &s.identifier).await;
        let copy = CopyOfSource {
            what: "secondary cluster",
            identifier: &s.identifier,
            region: &s.region,
            block: "global_secondary",
            source_path: p,
        };
        let client = &client;
        release_copy(
            diags,
            client,
            read,
            d,
            delete_replicas,
            copy,
            |live| async move {
                rds_cluster::delete_secondary(client, &live, live.global_cluster.as_deref()).await
            },
        )
        .await;
    }
}

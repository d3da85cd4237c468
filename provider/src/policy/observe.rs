//! Read: compare the live resources with the state; findings, drift, import filling.

use futures::future::join_all;
use tf_provider::value::Value;
use tf_provider::Diagnostics;

use crate::aws::AwsClients;
use crate::diagnostics::{aws_diagnostic, error};
use crate::state::dr_policy::{
    BackupsBlock, EncryptionBlock, PolicyState, ReplicaBlock, ReplicationBlock,
};

use super::blocks::{rds_path, s3_path};
use super::claims::TARGETS_TAG;
use super::defaults::set_model_outputs;
use super::desired::Desired;
use super::retention::Retention;
use super::source_settings::sync_settings;
use super::sync::Sync;
use super::validate::{assess_policy, retention_block, retention_of, Regions};
use super::{aurora, claims, rds, retention, s3};

/// Reads the live resources of a state: records `findings` and `compliant`, fills values
/// left unknown, and with `write` (a refresh) copies drift into the arguments so that the
/// next plan shows it as a change. A state without `rpo` is a fresh import: every value
/// is taken from the live resources.
pub(super) async fn observe(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    mut s: PolicyState,
    write: bool,
) -> PolicyState {
    let regions = Regions::of(clients);
    let import = s.rpo.is_null();
    let write = write || import;
    let mut findings = Vec::new();
    let name = s.name.as_ref_option().cloned().unwrap_or_default();
    let primary = clients.rds(regions.primary).await;
    let s3_client = clients.s3(regions.primary).await;
    let mut targets_tag: Option<String> = None;

    if let Value::Value(blocks) = s.rds.as_mut() {
        let lives = join_all(blocks.iter().map(|b| {
            let primary = primary.clone();
            let id = b
                .instance_identifier
                .as_ref_option()
                .cloned()
                .unwrap_or_default();
            async move { rds::describe(&primary, &id).await }
        }))
        .await;
        for (i, (b, live)) in blocks.iter_mut().zip(lives).enumerate() {
            let p = rds_path(i);
            let id = b
                .instance_identifier
                .as_ref_option()
                .cloned()
                .unwrap_or_default();
            let live = match live {
                Ok(Some(live)) => live,
                Ok(None) => {
                    diags.add_error(error(
                        "RDS instance of the policy no longer exists",
                        format!(
                            "dr_policy {name:?} covers RDS instance {id:?}, which no longer exists in {}. \
                             If it was lost, recover it (promote its cross-region replica, or \
                             restore from a snapshot or the replicated backups) and apply again; \
                             if it was retired on purpose, remove its rds block. The policy does \
                             not silently forget a database.",
                            regions.primary
                        ),
                        p.attribute("instance_identifier"),
                    ));
                    continue;
                }
                Err(e) => {
                    diags.add_error(aws_diagnostic(
                        format!("Could not read RDS instance {id:?}"),
                        p.attribute("instance_identifier"),
                        &e,
                    ));
                    continue;
                }
            };
            if targets_tag.is_none() {
                targets_tag = live.tags.get(TARGETS_TAG).cloned();
            }
            let mut sync = Sync {
                findings: &mut findings,
                write,
                import,
            };
            let at = |attr: &str| format!("rds[{i}] {id} {attr}");
            sync_settings(&mut b.settings, &mut sync, &live.settings(), at);

            // The replica.
            if import && b.cross_region_replica.is_null() {
                if let Some(arn) = live
                    .replicas
                    .iter()
                    .find(|a| rds::arn_region(a).is_some_and(|r| r != regions.primary))
                {
                    let region = rds::arn_region(arn).unwrap_or_default().to_string();
                    b.cross_region_replica = Value::Value(ReplicaBlock {
                        region: Value::Value(region),
                        identifier: Value::Value(rds::arn_name(arn).to_string()),
                        ..Default::default()
                    });
                }
            }
            if let Value::Value(rep) = b.cross_region_replica.as_mut() {
                let region = rep
                    .region
                    .as_ref_option()
                    .cloned()
                    .or(regions.dr.map(str::to_string))
                    .unwrap_or_default();
                let rid = rep
                    .identifier
                    .as_ref_option()
                    .cloned()
                    .unwrap_or_else(|| format!("{id}-dr"));
                let client = clients.rds(&region).await;
                match rds::describe(&client, &rid).await {
                    Ok(Some(r))
                        if r.source
                            .as_deref()
                            .is_some_and(|src| rds::same_instance(src, &live)) =>
                    {
                        let mut sync = Sync {
                            findings: &mut findings,
                            write,
                            import,
                        };
                        let at = |attr: &str| format!("rds[{i}] {id} replica {rid} {attr}");
                        if let Some(c) = &r.instance_class {
                            sync.field(&mut rep.instance_class, None, c.clone(), || {
                                at("instance class")
                            });
                        }
                        let default = b.settings.backup_retention_days.as_ref_option().copied();
                        sync.field(
                            &mut rep.backup_retention_days,
                            default,
                            r.retention as i64,
                            || at("backup retention days"),
                        );
                        if import && r.encrypted {
                            rep.kms_key_id = Value::from(r.kms_key_id.clone());
                        }
                    }
                    Ok(found) => {
                        findings.push(match found {
                            Some(_) => format!("rds[{i}] {id}: {rid} in {region} is no longer a read replica of {id} (promoted?)"),
                            None => format!("rds[{i}] {id}: the cross-region replica {rid} in {region} does not exist"),
                        });
                        if write {
                            b.cross_region_replica = Value::Null;
                        }
                    }
                    Err(e) => diags.add_warning(aws_diagnostic(
                        format!("Could not read replica {rid:?} in {region}"),
                        p.clone().attribute("cross_region_replica"),
                        &e,
                    )),
                }
            }

            // Replicated automated backups.
            if import && b.cross_region_backups.is_null() {
                if let Some(arn) = live.backup_replications.first() {
                    b.cross_region_backups = Value::Value(BackupsBlock {
                        region: Value::from(rds::arn_region(arn).map(str::to_string)),
                        ..Default::default()
                    });
                }
            }
            if let Value::Value(bk) = b.cross_region_backups.as_mut() {
                let region = bk
                    .region
                    .as_ref_option()
                    .cloned()
                    .or(regions.dr.map(str::to_string))
                    .unwrap_or_default();
                match live
                    .backup_replications
                    .iter()
                    .find(|a| rds::arn_region(a) == Some(region.as_str()))
                {
                    Some(arn) => {
                        let client = clients.rds(&region).await;
                        if let Ok(Some(days)) = rds::replicated_backup_retention(&client, arn).await
                        {
                            let default = b.settings.backup_retention_days.as_ref_option().copied();
                            let mut sync = Sync {
                                findings: &mut findings,
                                write,
                                import,
                            };
                            sync.field(&mut bk.retention_days, default, days as i64, || {
                                format!("rds[{i}] {id} replicated backups retention days")
                            });
                        }
                    }
                    None => {
                        findings.push(format!(
                            "rds[{i}] {id}: automated backups are not replicated to {region}"
                        ));
                        if write {
                            b.cross_region_backups = Value::Null;
                        }
                    }
                }
            }
        }
    }

    aurora::observe(
        diags,
        clients,
        &mut s,
        &regions,
        &mut findings,
        write,
        import,
        &mut targets_tag,
    )
    .await;

    if let Value::Value(blocks) = s.s3.as_mut() {
        let lives = join_all(blocks.iter().map(|b| {
            let client = s3_client.clone();
            let bucket = b.bucket.as_ref_option().cloned().unwrap_or_default();
            async move { s3::describe(&client, &bucket).await }
        }))
        .await;
        for (j, (b, live)) in blocks.iter_mut().zip(lives).enumerate() {
            let p = s3_path(j);
            let bucket = b.bucket.as_ref_option().cloned().unwrap_or_default();
            let live = match live {
                Ok(Some(live)) => live,
                Ok(None) => {
                    diags.add_error(error(
                        "Bucket of the policy no longer exists",
                        format!(
                            "dr_policy {name:?} covers bucket {bucket:?}, which no longer exists. \
                             Recreate it (and restore from its replica) and apply again, or \
                             remove its s3 block."
                        ),
                        p.attribute("bucket"),
                    ));
                    continue;
                }
                Err(e) => {
                    diags.add_error(aws_diagnostic(
                        format!("Could not read bucket {bucket:?}"),
                        p.attribute("bucket"),
                        &e,
                    ));
                    continue;
                }
            };
            if targets_tag.is_none() {
                targets_tag = live.tag(TARGETS_TAG).map(str::to_string);
            }
            let at = |attr: &str| format!("s3[{j}] {bucket} {attr}");
            Sync {
                findings: &mut findings,
                write,
                import,
            }
            .field(
                &mut b.versioning,
                Some(true),
                live.versioning_enabled(),
                || at("versioning"),
            );

            if import && b.replication.is_null() {
                if let Some(l) = &live.replication {
                    let location = s3::location(&s3_client, &l.destination_bucket)
                        .await
                        .ok()
                        .flatten();
                    b.replication = Value::Value(ReplicationBlock {
                        destination_bucket: Value::Value(l.destination_bucket.clone()),
                        destination_region: Value::from(location),
                        role_arn: Value::Value(l.role.clone()),
                        ..Default::default()
                    });
                }
            }
            if let Value::Value(rep) = b.replication.as_mut() {
                match &live.replication {
                    Some(l) if l.enabled => {
                        let mut sync = Sync {
                            findings: &mut findings,
                            write,
                            import,
                        };
                        sync.field(
                            &mut rep.destination_bucket,
                            None,
                            l.destination_bucket.clone(),
                            || at("replication destination"),
                        );
                        sync.field(&mut rep.role_arn, None, l.role.clone(), || {
                            at("replication role")
                        });
                        sync.field(
                            &mut rep.storage_class,
                            Some(s3::DEFAULT_STORAGE_CLASS.to_string()),
                            l.storage_class.clone(),
                            || at("replication storage class"),
                        );
                        sync.field(
                            &mut rep.replication_time_control,
                            Some(false),
                            l.rtc,
                            || at("replication time control"),
                        );
                        sync.field(
                            &mut rep.delete_marker_replication,
                            Some(false),
                            l.delete_marker,
                            || at("delete marker replication"),
                        );
                        let want_key = rep.replica_kms_key_id.as_ref_option().cloned();
                        if rep.replica_kms_key_id.is_unknown() || (import && want_key.is_none()) {
                            rep.replica_kms_key_id = Value::from(l.replica_kms_key_id.clone());
                        } else if want_key != l.replica_kms_key_id {
                            findings.push(format!(
                                "s3[{j}] {bucket} replica KMS key: is {:?}, the policy sets {want_key:?}",
                                l.replica_kms_key_id
                            ));
                            if write {
                                rep.replica_kms_key_id = Value::from(l.replica_kms_key_id.clone());
                            }
                        }
                    }
                    _ => {
                        findings.push(format!("s3[{j}] {bucket}: replication is not configured"));
                        if write {
                            b.replication = Value::Null;
                        }
                    }
                }
            }

            let live_rules = live.drkit_rules();
            let mut blocks_known = true;
            let state_rules = match &b.retention {
                Value::Value(list) => {
                    let plain: Option<Vec<Retention>> = list.iter().map(retention_of).collect();
                    blocks_known = plain.is_some();
                    retention::rules_of(&plain.unwrap_or_default())
                }
                _ => Vec::new(),
            };
            if blocks_known && state_rules != live_rules {
                if !import {
                    findings.push(format!(
                        "s3[{j}] {bucket}: lifecycle rules differ from the retention blocks"
                    ));
                }
                if write {
                    b.retention = Value::Value(
                        retention::blocks_of(&live_rules)
                            .iter()
                            .map(retention_block)
                            .collect(),
                    );
                }
            }

            if import && b.encryption.is_null() {
                if let Some(e) = live
                    .encryption
                    .as_ref()
                    .filter(|e| e.algorithm == "aws:kms")
                {
                    b.encryption = Value::Value(EncryptionBlock {
                        kms_key_id: Value::from(e.kms_key_id.clone()),
                    });
                }
            }
            if let Value::Value(enc) = b.encryption.as_mut() {
                match &live.encryption {
                    Some(e) => {
                        let live_key = if e.algorithm == "AES256" {
                            None
                        } else {
                            e.kms_key_id.clone()
                        };
                        let want = enc.kms_key_id.as_ref_option().cloned();
                        if want != live_key {
                            findings.push(format!(
                                "s3[{j}] {bucket} encryption: is {} {}",
                                e.algorithm,
                                live_key.clone().unwrap_or_default()
                            ));
                            if write {
                                enc.kms_key_id = Value::from(live_key);
                            }
                        }
                    }
                    None => {
                        findings.push(format!(
                            "s3[{j}] {bucket}: default encryption is not configured"
                        ));
                        if write {
                            b.encryption = Value::Null;
                        }
                    }
                }
            }
        }
    }

    if import {
        let t = targets_tag
            .as_deref()
            .map(claims::parse_targets_tag)
            .unwrap_or_default();
        s.rpo = Value::from(t.rpo);
        s.rto = Value::from(t.rto);
        s.compliance = Value::Value(t.compliance);
        s.owners = Value::from(
            t.owners
                .map(|list| list.into_iter().map(Value::Value).collect()),
        );
        s.runbook_url = Value::from(t.runbook_url);
        s.drill_interval = Value::from(t.drill_interval);
        s.delete_replicas_on_destroy = Value::Value(false);
        if let Value::Value(blocks) = s.rds.as_mut() {
            for b in blocks {
                if let Value::Value(r) = b.cross_region_replica.as_mut() {
                    if r.backup_retention_days.is_null() {
                        r.backup_retention_days = b.settings.backup_retention_days;
                    }
                }
                if let Value::Value(r) = b.cross_region_backups.as_mut() {
                    if r.retention_days.is_null() {
                        r.retention_days = b.settings.backup_retention_days;
                    }
                }
            }
        }
        if let Value::Value(blocks) = s.rds_cluster.as_mut() {
            for b in blocks {
                if let Value::Value(g) = b.global_secondary.as_mut() {
                    if g.region.is_null() {
                        g.region = Value::from(regions.dr.map(str::to_string));
                    }
                }
            }
        }
        if let Value::Value(blocks) = s.s3.as_mut() {
            for b in blocks {
                if b.retention.is_null() {
                    b.retention = Value::Value(Vec::new());
                }
                if let Value::Value(r) = b.replication.as_mut() {
                    if r.destination_region.is_null() {
                        r.destination_region = Value::from(regions.dr.map(str::to_string));
                    }
                }
            }
        }
    }
    s.id = s.name.clone();
    let reachable = assess_policy(&s, Some(&regions)).reachable();
    s.compliant = Value::Value(findings.is_empty() && reachable);
    s.findings = Value::Value(findings.into_iter().map(Value::Value).collect());
    if import || s.tier.is_null() || s.tier.is_unknown() {
        set_model_outputs(&mut s, &regions);
    }
    s
}

/// Read: refreshes the state from the live resources, so drift shows in the next plan.
pub async fn read(diags: &mut Diagnostics, clients: &AwsClients, s: PolicyState) -> PolicyState {
    observe(diags, clients, s, true).await
}

/// After an apply: the planned state with `findings`, `compliant` and any value left
/// unknown at plan time filled in; the arguments stay exactly as planned.
pub async fn refresh_computed(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    planned: PolicyState,
    _desired: &Desired,
) -> PolicyState {
    let mut read_diags = Diagnostics::default();
    let s = observe(&mut read_diags, clients, planned, false).await;
    // A failure to read back is worth a warning, not a failed apply.
    for e in read_diags.errors.into_iter().chain(read_diags.warnings) {
        diags.add_warning(e);
    }
    s
}

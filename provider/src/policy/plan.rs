//! Plan: defaults, ownership, checks against the live resources, computed attributes.

use std::sync::Mutex;

use futures::future::join_all;
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::aws::AwsClients;
use crate::diagnostics::{aws_diagnostic, error};
use crate::state::dr_policy::{PolicyState, RdsBlock};

use super::claims::{Claims, OWNER_TAG};
use super::desired::Desired;
use super::source_settings::check_window_overlap;
use super::validate::assess_policy;
use super::validate::Regions;
use super::{aurora, claims, rds, rds_path, s3, s3_path, validate, DEFAULT_RETENTION_DAYS};

/// A static default: applies on every plan while the config is null, so a value changed
/// outside Terraform (read into the prior state) is planned back to the default.
pub(super) fn default<T>(v: &mut Value<T>, config: &Value<T>, value: T) {
    if config.is_null() {
        *v = Value::Value(value);
    }
}

/// A derived default: follows its source on every plan while the config is null.
pub(super) fn derived<T: Clone>(v: &mut Value<T>, config: &Value<T>, from: &Value<T>) {
    if config.is_null() {
        *v = from.clone();
    }
}

/// A value read from the live resources (or left to AWS): unknown until then.
pub(super) fn unknown_if_missing<T>(v: &mut Value<T>, config: &Value<T>) {
    if config.is_null() && v.is_null() {
        *v = Value::Unknown;
    }
}

/// Fills `proposed` with defaults where the configuration is null (never where it is set).
pub(super) fn fill_defaults(proposed: &mut PolicyState, config: &PolicyState, regions: &Regions) {
    let dr = regions.dr.map(str::to_string);
    default(&mut proposed.compliance, &config.compliance, false);
    default(
        &mut proposed.delete_replicas_on_destroy,
        &config.delete_replicas_on_destroy,
        false,
    );

    if let (Value::Value(ps), Value::Value(cs)) = (proposed.rds.as_mut(), config.rds.as_ref()) {
        for (p, c) in ps.iter_mut().zip(cs.iter()) {
            default(
                &mut p.backup_retention_days,
                &c.backup_retention_days,
                DEFAULT_RETENTION_DAYS,
            );
            default(&mut p.deletion_protection, &c.deletion_protection, true);
            default(&mut p.copy_tags_to_snapshot, &c.copy_tags_to_snapshot, true);
            unknown_if_missing(&mut p.backup_window, &c.backup_window);
            let source_id = p.instance_identifier.clone();
            let retention = p.backup_retention_days;
            if let (Value::Value(pr), Value::Value(cr)) = (
                p.cross_region_replica.as_mut(),
                c.cross_region_replica.as_ref(),
            ) {
                if let Some(dr) = &dr {
                    default(&mut pr.region, &cr.region, dr.clone());
                }
                derived(
                    &mut pr.identifier,
                    &cr.identifier,
                    &source_id.clone().map(|id| format!("{id}-dr")),
                );
                unknown_if_missing(&mut pr.instance_class, &cr.instance_class);
                derived(
                    &mut pr.backup_retention_days,
                    &cr.backup_retention_days,
                    &retention,
                );
            }
            if let (Value::Value(pb), Value::Value(cb)) = (
                p.cross_region_backups.as_mut(),
                c.cross_region_backups.as_ref(),
            ) {
                if let Some(dr) = &dr {
                    default(&mut pb.region, &cb.region, dr.clone());
                }
                derived(&mut pb.retention_days, &cb.retention_days, &retention);
            }
        }
    }
    aurora::fill_defaults(proposed, config, regions);
    if let (Value::Value(ps), Value::Value(cs)) = (proposed.s3.as_mut(), config.s3.as_ref()) {
        for (p, c) in ps.iter_mut().zip(cs.iter()) {
            default(&mut p.versioning, &c.versioning, true);
            if let (Value::Value(pr), Value::Value(cr)) =
                (p.replication.as_mut(), c.replication.as_ref())
            {
                if let Some(dr) = &dr {
                    default(
                        &mut pr.destination_region,
                        &cr.destination_region,
                        dr.clone(),
                    );
                }
                default(
                    &mut pr.storage_class,
                    &cr.storage_class,
                    s3::DEFAULT_STORAGE_CLASS.to_string(),
                );
                default(
                    &mut pr.replication_time_control,
                    &cr.replication_time_control,
                    false,
                );
                default(
                    &mut pr.delete_marker_replication,
                    &cr.delete_marker_replication,
                    false,
                );
            }
        }
    }
}

/// Sets `tier`, `estimated_rpo` and `estimated_rto` from the tier model.
pub(super) fn set_model_outputs(s: &mut PolicyState, regions: &Regions) {
    if Desired::from_state(&mut Diagnostics::default(), s).is_none() {
        s.tier = Value::Unknown;
        s.estimated_rpo = Value::Unknown;
        s.estimated_rto = Value::Unknown;
        return;
    }
    let a = assess_policy(s, Some(regions));
    s.tier = Value::Value(a.tier.name().to_string());
    s.estimated_rpo = Value::Value(a.estimated_rpo.map(|d| d.to_string()).unwrap_or_default());
    s.estimated_rto = Value::Value(a.estimated_rto.map(|d| d.to_string()).unwrap_or_default());
}

pub(super) fn owner_conflict(
    summary: &str,
    what: &str,
    owner: &str,
    name: &str,
    path: AttributePath,
) -> Diagnostic {
    error(
        summary,
        format!(
            "{what} is managed by dr_policy {owner:?}, and dr_policy {name:?} names it too. One \
             policy owns a resource's DR configuration; two would overwrite each other on every \
             apply. Remove it from one of them (if {owner:?} no longer exists, remove the tag \
             `{OWNER_TAG}` from the resource)."
        ),
        path,
    )
}

/// Plans a create (`prior` = None) or an update: validation with the provider's regions,
/// defaults, ownership, checks against the live resources, computed attributes.
pub async fn plan(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    claims: &Mutex<Claims>,
    prior: Option<&PolicyState>,
    mut proposed: PolicyState,
    config: &PolicyState,
) -> PolicyState {
    let regions = Regions::of(clients);
    validate(diags, config, Some(&regions));
    fill_defaults(&mut proposed, config, &regions);
    proposed.id = proposed.name.clone();
    // A plan that changes nothing needs no AWS call: refresh has already read the live
    // resources into the prior state, and the live checks below ran when the targets were
    // last changed.
    let nothing_to_check = prior.is_some_and(|prior| {
        let mut probe = proposed.clone();
        set_model_outputs(&mut probe, &regions);
        probe.compliant = prior.compliant;
        probe.findings = prior.findings.clone();
        &probe == prior
    });

    if let Value::Value(name) = &proposed.name {
        let prior_name = prior.and_then(|p| p.name.as_ref_option().cloned());
        let may_own = |owner: &str| owner == name || Some(owner) == prior_name.as_deref();
        // Ownership within this configuration.
        {
            let mut claims = claims.lock().unwrap_or_else(|e| e.into_inner());
            for (i, b) in proposed
                .rds
                .as_ref_option()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Value::Value(id) = &b.instance_identifier {
                    if let Err(owner) = claims.claim(&claims::rds_key(regions.primary, id), name) {
                        diags.add_error(owner_conflict(
                            "RDS instance claimed by two policies",
                            &format!("RDS instance {id}"),
                            &owner,
                            name,
                            rds_path(i).attribute("instance_identifier"),
                        ));
                    }
                }
            }
            aurora::claim(diags, &mut claims, &proposed, &regions, name);
            for (j, b) in proposed
                .s3
                .as_ref_option()
                .into_iter()
                .flatten()
                .enumerate()
            {
                if let Value::Value(bucket) = &b.bucket {
                    if let Err(owner) = claims.claim(&claims::s3_key(bucket), name) {
                        diags.add_error(owner_conflict(
                            "Bucket claimed by two policies",
                            &format!("Bucket {bucket}"),
                            &owner,
                            name,
                            s3_path(j).attribute("bucket"),
                        ));
                    }
                }
            }
        }
        // Checks against live resources (when they exist already).
        if nothing_to_check {
            set_model_outputs(&mut proposed, &regions);
            if let Some(prior) = prior {
                proposed.compliant = prior.compliant;
                proposed.findings = prior.findings.clone();
            }
            return proposed;
        }
        let primary = clients.rds(regions.primary).await;
        if let Value::Value(blocks) = proposed.rds.as_mut() {
            let lives = join_all(blocks.iter().map(|b| {
                let primary = primary.clone();
                let id = b.instance_identifier.as_ref_option().cloned();
                async move {
                    match id {
                        Some(id) => rds::describe(&primary, &id).await,
                        None => Ok(None),
                    }
                }
            }))
            .await;
            for (i, (b, live)) in blocks.iter_mut().zip(lives).enumerate() {
                let p = rds_path(i);
                let live = match live {
                    Ok(Some(live)) => live,
                    Ok(None) => continue,
                    Err(e) => {
                        diags.add_error(aws_diagnostic(
                            format!(
                                "Could not read RDS instance {:?}",
                                b.instance_identifier
                                    .as_ref_option()
                                    .cloned()
                                    .unwrap_or_default()
                            ),
                            p.attribute("instance_identifier"),
                            &e,
                        ));
                        continue;
                    }
                };
                check_live_instance(diags, b, &live, name, &may_own, &p);
                if b.backup_window.is_unknown() {
                    b.backup_window = Value::from(live.backup_window.clone());
                }
                if let Value::Value(r) = b.cross_region_replica.as_mut() {
                    if r.instance_class.is_unknown() {
                        r.instance_class = Value::from(live.instance_class.clone());
                    }
                    // An instance already holding the replica's name must replicate this
                    // source (it is then adopted); anything else fails now, not at apply.
                    if let (Value::Value(region), Value::Value(rid)) = (&r.region, &r.identifier) {
                        let client = clients.rds(region).await;
                        if let Ok(Some(existing)) = rds::describe(&client, rid).await {
                            let replicates = existing
                                .source
                                .as_deref()
                                .is_some_and(|src| rds::same_instance(src, &live));
                            if !replicates {
                                diags.add_error(error(
                                    "Replica identifier taken",
                                    format!(
                                        "{rid} exists in {region} but is not a read replica of {} \
                                         ({}). It may have been promoted during a failover. \
                                         Choose another identifier, or delete or rename that \
                                         instance.",
                                        live.identifier,
                                        match &existing.source {
                                            Some(s) => format!("it replicates {s}"),
                                            None => "it is a standalone instance".to_string(),
                                        }
                                    ),
                                    p.clone()
                                        .attribute("cross_region_replica")
                                        .index(0)
                                        .attribute("identifier"),
                                ));
                            }
                        }
                    }
                }
            }
        }
        aurora::plan(
            diags,
            clients,
            &mut proposed.rds_cluster,
            &regions,
            name,
            &may_own,
        )
        .await;
        let s3_client = clients.s3(regions.primary).await;
        let buckets: Vec<(usize, String)> = proposed
            .s3
            .as_ref_option()
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(j, b)| b.bucket.as_ref_option().map(|n| (j, n.clone())))
            .collect();
        // Both reads of every bucket at once: a plan waits for one round trip, not 2N.
        let lives = join_all(buckets.iter().map(|(_, bucket)| {
            let client = s3_client.clone();
            async move {
                let tags = async {
                    client
                        .get_bucket_tagging()
                        .bucket(bucket)
                        .send()
                        .await
                        .map_err(crate::diagnostics::aws("GetBucketTagging"))
                };
                futures::join!(s3::location(&client, bucket), tags)
            }
        }))
        .await;
        for ((j, bucket), (location, tags)) in buckets.into_iter().zip(lives) {
            // The policy's S3 calls go to the primary region: a bucket elsewhere would
            // answer with redirects at apply.
            if let Ok(Some(location)) = location {
                if location != regions.primary {
                    diags.add_error(error(
                        "Bucket outside the provider's region",
                        format!(
                            "Bucket {bucket} is in {location}, but this provider manages {}. Use a \
                             provider \"dr\" configuration (an alias) with region = \"{location}\" \
                             for this policy.",
                            regions.primary
                        ),
                        s3_path(j).attribute("bucket"),
                    ));
                    continue;
                }
            }
            match tags {
                Ok(out) => {
                    if let Some(owner) = out
                        .tag_set()
                        .iter()
                        .find(|t| t.key() == OWNER_TAG)
                        .map(|t| t.value())
                    {
                        if !may_own(owner) {
                            diags.add_error(owner_conflict(
                                "Bucket owned by another policy",
                                &format!("Bucket {bucket}"),
                                owner,
                                name,
                                s3_path(j).attribute("bucket"),
                            ));
                        }
                    }
                }
                Err(e) if e.has_code("NoSuchTagSet") || e.has_code("NoSuchBucket") => {}
                Err(e) => diags.add_error(aws_diagnostic(
                    format!("Could not read the tags of bucket {bucket:?}"),
                    s3_path(j).attribute("bucket"),
                    &e,
                )),
            }
        }
    }

    set_model_outputs(&mut proposed, &regions);
    // No change at all: keep what the last read found. Any change (even of a computed
    // attribute) runs apply, which reads the live resources again.
    let unchanged = prior.is_some_and(|prior| {
        let mut same = proposed.clone();
        same.compliant = prior.compliant;
        same.findings = prior.findings.clone();
        &same == prior
    });
    match prior {
        Some(prior) if unchanged => {
            proposed.compliant = prior.compliant;
            proposed.findings = prior.findings.clone();
        }
        _ => {
            proposed.compliant = Value::Unknown;
            proposed.findings = Value::Unknown;
        }
    }
    proposed
}

/// Checks an `rds` block against its live source instance: owner, encryption keys,
/// windows. Used at plan time and again at apply.
pub(super) fn check_live_instance(
    diags: &mut Diagnostics,
    b: &RdsBlock,
    live: &rds::LiveInstance,
    name: &str,
    may_own: &dyn Fn(&str) -> bool,
    p: &AttributePath,
) {
    if let Some(owner) = live.tags.get(OWNER_TAG) {
        if !may_own(owner) {
            diags.add_error(owner_conflict(
                "RDS instance owned by another policy",
                &format!("RDS instance {}", live.identifier),
                owner,
                name,
                p.clone().attribute("instance_identifier"),
            ));
        }
    }
    if live.encrypted {
        for (block, present, key) in [
            (
                "cross_region_replica",
                b.cross_region_replica.is_value(),
                b.cross_region_replica
                    .as_ref_option()
                    .map(|r| &r.kms_key_id),
            ),
            (
                "cross_region_backups",
                b.cross_region_backups.is_value(),
                b.cross_region_backups
                    .as_ref_option()
                    .map(|r| &r.kms_key_id),
            ),
        ] {
            if present && key.is_some_and(Value::is_null) {
                diags.add_error(error(
                    "Encrypted source needs a KMS key in the DR region",
                    format!(
                        "RDS instance {} is encrypted (key {}). KMS keys are regional, so its \
                         copy in another region needs a key of that region: set kms_key_id to \
                         the ARN of a KMS key in the DR region.",
                        live.identifier,
                        live.kms_key_id.as_deref().unwrap_or("unknown")
                    ),
                    p.clone().attribute(block).index(0).attribute("kms_key_id"),
                ));
            }
        }
    }
    check_window_overlap(
        diags,
        &b.backup_window,
        live.maintenance_window.as_deref(),
        &live.identifier,
        p,
    );
}

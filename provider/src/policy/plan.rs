//! Plan: defaults, ownership, checks against the live resources, computed attributes.

use std::sync::Mutex;

use futures::future::join_all;
use tf_provider::value::Value;
use tf_provider::Diagnostics;

use crate::aws::AwsClients;
use crate::diagnostics::{aws_diagnostic, error};
use crate::state::dr_policy::PolicyState;

use super::blocks::{cluster_path, rds_path, s3_path};
use super::claims::{owner_conflict, Claims, OWNER_TAG};
use super::defaults::{fill_defaults, set_model_outputs};
use super::live_checks::check_live_instance;
use super::validate::Regions;
use super::{aurora, claims, rds, s3, validate};

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
            claim_clusters(diags, &mut claims, &proposed, &regions, name);
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
                if b.settings.backup_window.is_unknown() {
                    b.settings.backup_window = Value::from(live.backup_window.clone());
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

/// Plan: claims the clusters for this policy within the configuration.
fn claim_clusters(
    diags: &mut Diagnostics,
    claims: &mut Claims,
    proposed: &PolicyState,
    regions: &Regions,
    name: &str,
) {
    for (i, b) in proposed
        .rds_cluster
        .as_ref_option()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Value::Value(id) = &b.cluster_identifier {
            if let Err(owner) = claims.claim(&claims::cluster_key(regions.primary, id), name) {
                diags.add_error(owner_conflict(
                    "Aurora cluster claimed by two policies",
                    &format!("DB cluster {id}"),
                    &owner,
                    name,
                    cluster_path(i).attribute("cluster_identifier"),
                ));
            }
        }
    }
}

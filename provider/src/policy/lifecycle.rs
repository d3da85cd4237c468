//! Destroy (release the resources) and import (parse the import ID).

use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};

use crate::aws::AwsClients;
use crate::diagnostics::{aws_diagnostic, error};
use crate::shape::{is_bucket_name, is_policy_name, is_rds_identifier};
use crate::state::dr_policy::{PolicyState, RdsBlock, RdsClusterBlock, S3Block};

use super::blocks::{rds_path, s3_path};
use super::claims::{OWNER_TAG, TARGETS_TAG};
use super::desired::Desired;
use super::release::{release_copy, untag_source, CopyOfSource};
use super::s3::bucket_tags;
use super::{aurora, rds, s3};

/// Stops managing the resources of `d`: removes the ownership tags, and with
/// `delete_replicas` deletes the replicas this policy created. Nothing else is deleted.
pub(super) async fn release(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    d: &Desired,
    delete_replicas: bool,
) {
    let primary = clients.rds(clients.primary_region()).await;
    for (i, r) in d.rds.iter().enumerate() {
        let p = rds_path(i);
        let read = rds::describe(&primary, &r.identifier).await;
        untag_source(diags, &primary, read, d, &r.identifier, &p).await;
        let Some(rep) = &r.replica else { continue };
        let client = clients.rds(&rep.region).await;
        let read = rds::describe(&client, &rep.identifier).await;
        let copy = CopyOfSource {
            what: "replica",
            identifier: &rep.identifier,
            region: &rep.region,
            block: "cross_region_replica",
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
            |live| async move { rds::delete_replica(client, &live).await },
        )
        .await;
    }
    aurora::release(diags, clients, d, delete_replicas).await;
    let client = clients.s3(clients.primary_region()).await;
    for (j, b) in d.s3.iter().enumerate() {
        match s3::describe(&client, &b.bucket).await {
            Ok(Some(live)) if live.tag(OWNER_TAG) == Some(&d.name) => {
                let tags = bucket_tags(&live, &[], &[OWNER_TAG, TARGETS_TAG]);
                if let Err(e) = s3::put_tags(&client, &b.bucket, &tags).await {
                    diags.add_warning(aws_diagnostic(
                        format!("Could not remove the drkit tags of bucket {:?}", b.bucket),
                        s3_path(j),
                        &e,
                    ));
                }
            }
            Ok(_) => {}
            Err(e) => diags.add_warning(aws_diagnostic(
                format!("Could not read bucket {:?}", b.bucket),
                s3_path(j),
                &e,
            )),
        }
    }
}

/// Destroy: the settings stay as applied (backups, versioning, replication, lifecycle,
/// replicas), so removing a policy never lowers protection or deletes data; the ownership
/// tags go, and replicas this policy created go only with `delete_replicas_on_destroy`.
pub async fn destroy(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    d: &Desired,
    delete_replicas: bool,
) {
    release(diags, clients, d, delete_replicas).await;
}

// ---------------------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------------------

/// Parses an import ID `NAME[:rds=ID,ID...][:s3=BUCKET,BUCKET...]` into a state that the
/// following read fills from the live resources.
pub fn import_state(diags: &mut Diagnostics, id: &str) -> Option<PolicyState> {
    let usage = "Use NAME:rds=INSTANCE,INSTANCE:rds_cluster=CLUSTER,CLUSTER:s3=BUCKET,BUCKET \
                 (any part may be left out), for example \"orders:rds=orders-db:s3=orders-backups\".";
    let mut parts = id.split(':');
    let name = parts.next().unwrap_or_default();
    if !is_policy_name(name) {
        diags.add_error(error(
            "Invalid import ID",
            format!("{id:?}: {name:?} is not a policy name. {usage}"),
            AttributePath::root(),
        ));
        return None;
    }
    let mut rds_ids = Vec::new();
    let mut cluster_ids = Vec::new();
    let mut buckets = Vec::new();
    for part in parts {
        let (kind, list) = part.split_once('=').unwrap_or((part, ""));
        let items: Vec<String> = list
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        match kind {
            "rds" if items.iter().all(|i| is_rds_identifier(i)) => rds_ids.extend(items),
            "rds_cluster" if items.iter().all(|i| is_rds_identifier(i)) => {
                cluster_ids.extend(items)
            }
            "s3" if items.iter().all(|b| is_bucket_name(b)) => buckets.extend(items),
            _ => {
                diags.add_error(error(
                    "Invalid import ID",
                    format!("{id:?}: cannot read {part:?}. {usage}"),
                    AttributePath::root(),
                ));
                return None;
            }
        }
    }
    if rds_ids.is_empty() && cluster_ids.is_empty() && buckets.is_empty() {
        diags.add_error(error(
            "Invalid import ID",
            format!("{id:?} names no instance, cluster or bucket. {usage}"),
            AttributePath::root(),
        ));
        return None;
    }
    Some(PolicyState {
        id: Value::Value(name.to_string()),
        name: Value::Value(name.to_string()),
        rds: Value::Value(
            rds_ids
                .into_iter()
                .map(|i| RdsBlock {
                    instance_identifier: Value::Value(i),
                    ..Default::default()
                })
                .collect(),
        ),
        rds_cluster: Value::Value(
            cluster_ids
                .into_iter()
                .map(|i| RdsClusterBlock {
                    cluster_identifier: Value::Value(i),
                    ..Default::default()
                })
                .collect(),
        ),
        s3: Value::Value(
            buckets
                .into_iter()
                .map(|b| S3Block {
                    bucket: Value::Value(b),
                    ..Default::default()
                })
                .collect(),
        ),
        ..Default::default()
    })
}

//! Everything a DR test cares about in an AWS account, read through the SDK: instances and
//! their backup settings, snapshots, buckets with their configuration, and object
//! versions. Two runs that should end alike compare their inventories; a destroy that
//! must lose nothing compares before and after.

use std::collections::BTreeMap;

use anyhow::{anyhow, Result};
use aws_sdk_s3::error::ProvideErrorMetadata;
use serde_json::{json, Value};

use crate::Moto;

/// Tags whose values are times or run ids, different on every run by design.
const VOLATILE_TAGS: &[&str] = &["drkit:drill-expires", "drkit:drill-run"];

/// The account's DR-relevant state in `regions`, as JSON with sorted keys: `rds` maps
/// `region/identifier` to the instance's settings, `snapshots` lists `region/identifier`
/// (automated ones as `rds:INSTANCE (automated)`),
/// `clusters` maps `region/identifier` to an Aurora cluster's settings, `global_clusters`
/// maps global cluster identifiers to their member ARNs,
/// `s3` maps bucket names to their configuration and objects. Identity that differs
/// between two equal runs (creation times, version ids, request ids) is left out.
pub async fn inventory(moto: &Moto, regions: &[&str]) -> Result<Value> {
    let mut rds = BTreeMap::new();
    let mut snapshots = Vec::new();
    let mut clusters = BTreeMap::new();
    let mut global_clusters = BTreeMap::new();
    for region in regions {
        let client = moto.rds(region).await;
        let out = client
            .describe_db_clusters()
            .send()
            .await
            .map_err(|e| anyhow!("DescribeDBClusters in {region}: {e:?}"))?;
        for c in out.db_clusters() {
            let id = c.db_cluster_identifier().unwrap_or_default();
            let tags: BTreeMap<_, _> = c
                .tag_list()
                .iter()
                .filter(|t| !VOLATILE_TAGS.contains(&t.key().unwrap_or_default()))
                .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
                .collect();
            let mut members: Vec<_> = c
                .db_cluster_members()
                .iter()
                .filter_map(|m| m.db_instance_identifier())
                .collect();
            members.sort();
            clusters.insert(
                format!("{region}/{id}"),
                json!({
                    "engine": c.engine(),
                    "status": c.status(),
                    "backup_retention_period": c.backup_retention_period(),
                    "backup_window": c.preferred_backup_window(),
                    "deletion_protection": c.deletion_protection(),
                    "copy_tags_to_snapshot": c.copy_tags_to_snapshot(),
                    "kms_key_id": c.kms_key_id(),
                    // moto reports an ARN on the primary, an identifier on a secondary.
                    "global_cluster": c.global_cluster_identifier().map(|g| g.rsplit(':').next().unwrap_or(g)),
                    "members": members,
                    "tags": tags,
                }),
            );
        }
        let out = client
            .describe_global_clusters()
            .send()
            .await
            .map_err(|e| anyhow!("DescribeGlobalClusters in {region}: {e:?}"))?;
        for g in out.global_clusters() {
            let mut members: Vec<_> = g
                .global_cluster_members()
                .iter()
                .filter_map(|m| m.db_cluster_arn())
                .collect();
            members.sort();
            global_clusters.insert(
                g.global_cluster_identifier()
                    .unwrap_or_default()
                    .to_string(),
                json!(members),
            );
        }
    }
    for region in regions {
        let client = moto.rds(region).await;
        let out = client
            .describe_db_instances()
            .send()
            .await
            .map_err(|e| anyhow!("DescribeDBInstances in {region}: {e:?}"))?;
        for db in out.db_instances() {
            let id = db.db_instance_identifier().unwrap_or_default();
            let tags: BTreeMap<_, _> = db
                .tag_list()
                .iter()
                .filter(|t| !VOLATILE_TAGS.contains(&t.key().unwrap_or_default()))
                .map(|t| (t.key().unwrap_or_default(), t.value().unwrap_or_default()))
                .collect();
            let mut replicas: Vec<_> = db.read_replica_db_instance_identifiers().to_vec();
            replicas.sort();
            rds.insert(
                format!("{region}/{id}"),
                json!({
                    "class": db.db_instance_class(),
                    "engine": db.engine(),
                    "status": db.db_instance_status(),
                    "backup_retention_period": db.backup_retention_period(),
                    "backup_window": db.preferred_backup_window(),
                    "deletion_protection": db.deletion_protection(),
                    "copy_tags_to_snapshot": db.copy_tags_to_snapshot(),
                    "storage_encrypted": db.storage_encrypted(),
                    "kms_key_id": db.kms_key_id(),
                    "replica_of": db.read_replica_source_db_instance_identifier(),
                    "replicas": replicas,
                    "tags": tags,
                }),
            );
        }
        let out = client
            .describe_db_snapshots()
            .send()
            .await
            .map_err(|e| anyhow!("DescribeDBSnapshots in {region}: {e:?}"))?;
        for s in out.db_snapshots() {
            let id = s.db_snapshot_identifier().unwrap_or_default();
            // Automated snapshots are named after the minute they were taken
            // (`rds:db-2026-12-01-08-40`): two equal runs a minute apart differ there.
            let id = match (s.snapshot_type(), s.db_instance_identifier()) {
                (Some("automated"), Some(db)) => format!("rds:{db} (automated)"),
                _ => id.to_string(),
            };
            snapshots.push(format!("{region}/{id}"));
        }
    }
    snapshots.sort();

    let mut s3 = BTreeMap::new();
    let any = moto
        .s3(regions.first().copied().unwrap_or("us-east-1"))
        .await;
    let buckets = any
        .list_buckets()
        .send()
        .await
        .map_err(|e| anyhow!("ListBuckets: {e:?}"))?;
    for b in buckets.buckets() {
        let name = b.name().unwrap_or_default();
        let location = any
            .get_bucket_location()
            .bucket(name)
            .send()
            .await
            .map_err(|e| anyhow!("GetBucketLocation {name}: {e:?}"))?;
        let region = match location.location_constraint().map(|l| l.as_str()) {
            None | Some("") => "us-east-1".to_string(),
            Some(r) => r.to_string(),
        };
        let client = moto.s3(&region).await;
        let replication = match client.get_bucket_replication().bucket(name).send().await {
            Ok(r) => format!("{:?}", r.replication_configuration()),
            Err(e) => error_code(&e)?,
        };
        let lifecycle = match client
            .get_bucket_lifecycle_configuration()
            .bucket(name)
            .send()
            .await
        {
            Ok(r) => {
                let mut rules: Vec<String> = r.rules().iter().map(|r| format!("{r:?}")).collect();
                rules.sort();
                json!(rules)
            }
            Err(e) => json!(error_code(&e)?),
        };
        let encryption = match client.get_bucket_encryption().bucket(name).send().await {
            Ok(r) => format!("{:?}", r.server_side_encryption_configuration()),
            Err(e) => error_code(&e)?,
        };
        let tags: BTreeMap<String, String> =
            match client.get_bucket_tagging().bucket(name).send().await {
                Ok(r) => r
                    .tag_set()
                    .iter()
                    .map(|t| (t.key().to_string(), t.value().to_string()))
                    .collect(),
                Err(_) => BTreeMap::new(),
            };
        let versions = client
            .list_object_versions()
            .bucket(name)
            .send()
            .await
            .map_err(|e| anyhow!("ListObjectVersions {name}: {e:?}"))?;
        let mut objects: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for v in versions.versions() {
            objects
                .entry(v.key().unwrap_or_default().to_string())
                .or_default()
                .0 += 1;
        }
        for m in versions.delete_markers() {
            objects
                .entry(m.key().unwrap_or_default().to_string())
                .or_default()
                .1 += 1;
        }
        let objects: BTreeMap<_, _> = objects
            .into_iter()
            .map(|(k, (v, d))| (k, json!({"versions": v, "delete_markers": d})))
            .collect();
        s3.insert(
            name.to_string(),
            json!({
                "region": region,
                "versioning": moto.versioning_status(&region, name).await?,
                "replication": replication,
                "lifecycle": lifecycle,
                "encryption": encryption,
                "tags": tags,
                "objects": objects,
            }),
        );
    }
    Ok(json!({
        "rds": rds,
        "snapshots": snapshots,
        "clusters": clusters,
        "global_clusters": global_clusters,
        "s3": s3,
    }))
}

/// The error code of a "not configured" answer (`NoSuchLifecycleConfiguration`, ...); any
/// other failure is an error of the inventory itself.
fn error_code<E: ProvideErrorMetadata + std::fmt::Debug, R: std::fmt::Debug>(
    e: &aws_sdk_s3::error::SdkError<E, R>,
) -> Result<String> {
    match e {
        aws_sdk_s3::error::SdkError::ServiceError(s) => Ok(s
            .err()
            .code()
            .map(str::to_string)
            .unwrap_or_else(|| "unknown error".into())),
        other => Err(anyhow!("{other:?}")),
    }
}

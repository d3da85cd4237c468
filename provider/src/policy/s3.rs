//! S3 calls of `dr_policy`: read a bucket's DR settings, put versioning, replication,
//! lifecycle, encryption and the ownership tag.

use aws_sdk_s3::types::{
    BucketLifecycleConfiguration, BucketVersioningStatus, DeleteMarkerReplication,
    DeleteMarkerReplicationStatus, Destination, ExpirationStatus, LifecycleExpiration,
    LifecycleRule, LifecycleRuleFilter, Metrics, MetricsStatus, NoncurrentVersionExpiration,
    ReplicationConfiguration, ReplicationRule, ReplicationRuleFilter, ReplicationRuleStatus,
    ReplicationTime, ReplicationTimeStatus, ReplicationTimeValue, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    StorageClass, Tag, Tagging, Transition, TransitionStorageClass, VersioningConfiguration,
};
use aws_sdk_s3::Client;

use crate::diagnostics::{aws, AwsError};

/// Prefix of the IDs of every lifecycle rule drkit manages.
pub const RULE_ID_PREFIX: &str = "drkit:";

/// One lifecycle rule as drkit writes it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rule {
    /// Rule ID, `drkit:prefix:<prefix>` or `drkit:gfs:<period>`.
    pub id: String,
    /// Object key prefix the rule filters on; empty for the whole bucket.
    pub prefix: String,
    /// Days after which current versions expire.
    pub expire_days: Option<u32>,
    /// Days after which current versions move to `archive_storage_class`.
    pub archive_after_days: Option<u32>,
    /// Storage class of the archive transition.
    pub archive_storage_class: Option<String>,
    /// Days after which noncurrent versions expire.
    pub noncurrent_expire_days: Option<u32>,
}

/// ID of the replication rule drkit writes.
pub const REPLICATION_RULE_ID: &str = "drkit";
/// Storage class of replicas when none is set.
pub const DEFAULT_STORAGE_CLASS: &str = "STANDARD";
/// Replication Time Control's threshold: 15 minutes, the only value S3 accepts.
const RTC_MINUTES: i32 = 15;

/// A bucket's replication configuration as drkit sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveReplication {
    /// IAM role.
    pub role: String,
    /// Rule ID of the (first) rule.
    pub rule_id: Option<String>,
    /// Destination bucket name.
    pub destination_bucket: String,
    /// Storage class of replicas.
    pub storage_class: String,
    /// RTC enabled (with its metrics).
    pub rtc: bool,
    /// Delete markers replicated.
    pub delete_marker: bool,
    /// KMS key replicas are encrypted with.
    pub replica_kms_key_id: Option<String>,
    /// Rule enabled.
    pub enabled: bool,
}

/// A bucket's default encryption.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveEncryption {
    /// `AES256`, `aws:kms`, `aws:kms:dsse`.
    pub algorithm: String,
    /// KMS key, for SSE-KMS.
    pub kms_key_id: Option<String>,
}

/// What the provider needs to know about a live bucket.
#[derive(Debug, Clone, Default)]
pub struct LiveBucket {
    /// `Enabled`, `Suspended`, or `None` when never enabled.
    pub versioning: Option<String>,
    /// Tags.
    pub tags: Vec<(String, String)>,
    /// Replication configuration.
    pub replication: Option<LiveReplication>,
    /// Every lifecycle rule, drkit's and others'.
    pub lifecycle: Vec<LifecycleRule>,
    /// Default encryption.
    pub encryption: Option<LiveEncryption>,
}

impl LiveBucket {
    /// Versioning is on.
    pub fn versioning_enabled(&self) -> bool {
        self.versioning.as_deref() == Some("Enabled")
    }

    /// drkit's lifecycle rules, sorted by ID.
    pub fn drkit_rules(&self) -> Vec<Rule> {
        let mut rules: Vec<Rule> = self
            .lifecycle
            .iter()
            .filter(|r| r.id().is_some_and(|id| id.starts_with(RULE_ID_PREFIX)))
            .map(rule_from_sdk)
            .collect();
        rules.sort();
        rules
    }

    /// The value of a tag.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

fn build_err(e: aws_smithy_types::error::operation::BuildError) -> AwsError {
    AwsError::new("BuildRequest", "InvalidRequest", e.to_string())
}

/// `GetBucketVersioning`: `Enabled`, `Suspended`, or `None` when versioning was never
/// turned on.
///
/// Emulator compatibility: moto (5.x) names the response root `GetBucketVersioningResponse`
/// instead of S3's `VersioningConfiguration`, which the SDK's strict XML decoder rejects.
/// For that one case the status is read from the raw response body; every other failure
/// is returned as is.
pub async fn versioning_status(client: &Client, bucket: &str) -> Result<Option<String>, AwsError> {
    match client.get_bucket_versioning().bucket(bucket).send().await {
        Ok(v) => Ok(v.status().map(|s| s.as_str().to_string())),
        Err(err) => {
            if let aws_sdk_s3::error::SdkError::ServiceError(ctx) = &err {
                let body = ctx.raw().body().bytes().map(String::from_utf8_lossy);
                if let Some(body) = body.filter(|b| b.contains("<GetBucketVersioningResponse")) {
                    return Ok(body
                        .split_once("<Status>")
                        .and_then(|(_, rest)| rest.split_once("</Status>"))
                        .map(|(status, _)| status.to_string()));
                }
            }
            Err(AwsError::from_sdk("GetBucketVersioning", err))
        }
    }
}

/// Reads everything about a bucket; `None` when it does not exist. The five reads go out
/// at once: a refresh waits for one round trip, not two (a bucket deleted out of band
/// costs four answers that are then ignored).
pub async fn describe(client: &Client, bucket: &str) -> Result<Option<LiveBucket>, AwsError> {
    let (versioning, tags, replication, lifecycle, encryption) = tokio::join!(
        versioning_status(client, bucket),
        client.get_bucket_tagging().bucket(bucket).send(),
        client.get_bucket_replication().bucket(bucket).send(),
        client
            .get_bucket_lifecycle_configuration()
            .bucket(bucket)
            .send(),
        client.get_bucket_encryption().bucket(bucket).send(),
    );
    let versioning = match versioning {
        Ok(v) => v,
        Err(e) if e.has_code("NoSuchBucket") => return Ok(None),
        Err(e) => return Err(e),
    };
    let tags = match tags.map_err(aws("GetBucketTagging")) {
        Ok(t) => t
            .tag_set()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect(),
        Err(e) if e.has_code("NoSuchTagSet") => Vec::new(),
        Err(e) => return Err(e),
    };
    let replication = match replication.map_err(aws("GetBucketReplication")) {
        Ok(r) => r.replication_configuration().map(replication_from_sdk),
        Err(e) if e.has_code("ReplicationConfigurationNotFoundError") => None,
        Err(e) => return Err(e),
    };
    let lifecycle = match lifecycle.map_err(aws("GetBucketLifecycleConfiguration")) {
        Ok(l) => l.rules().to_vec(),
        Err(e) if e.has_code("NoSuchLifecycleConfiguration") => Vec::new(),
        Err(e) => return Err(e),
    };
    let encryption = match encryption.map_err(aws("GetBucketEncryption")) {
        Ok(e) => e
            .server_side_encryption_configuration()
            .and_then(|c| c.rules().first())
            .and_then(|r| r.apply_server_side_encryption_by_default())
            .map(|d| LiveEncryption {
                algorithm: d.sse_algorithm().as_str().to_string(),
                kms_key_id: d.kms_master_key_id().map(str::to_string),
            }),
        Err(e) if e.has_code("ServerSideEncryptionConfigurationNotFoundError") => None,
        Err(e) => return Err(e),
    };
    Ok(Some(LiveBucket {
        versioning,
        tags,
        replication,
        lifecycle,
        encryption,
    }))
}

/// The bucket's region (`GetBucketLocation`; an empty constraint means `us-east-1`).
/// `None` when the bucket does not exist.
pub async fn location(client: &Client, bucket: &str) -> Result<Option<String>, AwsError> {
    match client
        .get_bucket_location()
        .bucket(bucket)
        .send()
        .await
        .map_err(aws("GetBucketLocation"))
    {
        Ok(out) => Ok(Some(
            out.location_constraint()
                .map(|c| c.as_str().to_string())
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "us-east-1".to_string()),
        )),
        Err(e) if e.has_code("NoSuchBucket") => Ok(None),
        Err(e) => Err(e),
    }
}

fn replication_from_sdk(c: &ReplicationConfiguration) -> LiveReplication {
    let rule = c.rules().first();
    let dest = rule.and_then(|r| r.destination());
    LiveReplication {
        role: c.role().to_string(),
        rule_id: rule.and_then(|r| r.id()).map(str::to_string),
        destination_bucket: dest
            .map(|d| d.bucket().trim_start_matches("arn:aws:s3:::").to_string())
            .unwrap_or_default(),
        storage_class: dest
            .and_then(|d| d.storage_class())
            .map(|s| s.as_str().to_string())
            .unwrap_or_else(|| DEFAULT_STORAGE_CLASS.to_string()),
        rtc: dest
            .and_then(|d| d.replication_time())
            .is_some_and(|t| t.status() == &ReplicationTimeStatus::Enabled),
        delete_marker: rule
            .and_then(|r| r.delete_marker_replication())
            .and_then(|d| d.status())
            .is_some_and(|s| s == &DeleteMarkerReplicationStatus::Enabled),
        replica_kms_key_id: dest
            .and_then(|d| d.encryption_configuration())
            .and_then(|e| e.replica_kms_key_id())
            .map(str::to_string),
        enabled: rule.is_some_and(|r| r.status() == &ReplicationRuleStatus::Enabled),
    }
}

/// Converts an S3 lifecycle rule into drkit's form.
pub fn rule_from_sdk(r: &LifecycleRule) -> Rule {
    #[allow(deprecated)]
    let legacy_prefix = r.prefix();
    let prefix = r
        .filter()
        .and_then(|f| f.prefix())
        .or(legacy_prefix)
        .unwrap_or_default()
        .to_string();
    let transition = r.transitions().first();
    let days = |d: Option<i32>| d.and_then(|d| u32::try_from(d).ok());
    Rule {
        id: r.id().unwrap_or_default().to_string(),
        prefix,
        expire_days: days(r.expiration().and_then(|e| e.days())),
        archive_after_days: days(transition.and_then(|t| t.days())),
        archive_storage_class: transition
            .and_then(|t| t.storage_class())
            .map(|s| s.as_str().to_string()),
        noncurrent_expire_days: days(
            r.noncurrent_version_expiration()
                .and_then(|e| e.noncurrent_days()),
        ),
    }
}

fn rule_to_sdk(r: &Rule) -> Result<LifecycleRule, AwsError> {
    let mut b = LifecycleRule::builder()
        .id(&r.id)
        .status(ExpirationStatus::Enabled)
        .filter(LifecycleRuleFilter::builder().prefix(&r.prefix).build());
    if let Some(days) = r.expire_days {
        b = b.expiration(LifecycleExpiration::builder().days(days as i32).build());
    }
    if let Some(days) = r.archive_after_days {
        let class = r.archive_storage_class.as_deref().unwrap_or("GLACIER");
        b = b.transitions(
            Transition::builder()
                .days(days as i32)
                .storage_class(TransitionStorageClass::from(class))
                .build(),
        );
    }
    if let Some(days) = r.noncurrent_expire_days {
        b = b.noncurrent_version_expiration(
            NoncurrentVersionExpiration::builder()
                .noncurrent_days(days as i32)
                .build(),
        );
    }
    b.build().map_err(build_err)
}

/// Turns versioning on (`Enabled`) or off (`Suspended`: S3 cannot disable it).
pub async fn put_versioning(client: &Client, bucket: &str, enabled: bool) -> Result<(), AwsError> {
    let status = if enabled {
        BucketVersioningStatus::Enabled
    } else {
        BucketVersioningStatus::Suspended
    };
    client
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .map_err(aws("PutBucketVersioning"))?;
    Ok(())
}

/// The replication drkit wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WantReplication {
    /// Destination bucket name.
    pub destination_bucket: String,
    /// IAM role.
    pub role_arn: String,
    /// Storage class of replicas.
    pub storage_class: String,
    /// RTC.
    pub rtc: bool,
    /// Delete markers.
    pub delete_marker: bool,
    /// KMS key of the destination region for replicas of SSE-KMS objects.
    pub replica_kms_key_id: Option<String>,
}

impl WantReplication {
    /// True when the live configuration already does this.
    pub fn matches(&self, live: &LiveReplication) -> bool {
        live.enabled
            && live.role == self.role_arn
            && live.destination_bucket == self.destination_bucket
            && live.storage_class == self.storage_class
            && live.rtc == self.rtc
            && live.delete_marker == self.delete_marker
            && live.replica_kms_key_id == self.replica_kms_key_id
    }
}

/// `PutBucketReplication`: one rule for the whole bucket; with RTC, the replication
/// metrics RTC requires (both at 15 minutes).
pub async fn put_replication(
    client: &Client,
    bucket: &str,
    want: &WantReplication,
) -> Result<(), AwsError> {
    let mut dest = Destination::builder()
        .bucket(format!("arn:aws:s3:::{}", want.destination_bucket))
        .storage_class(StorageClass::from(want.storage_class.as_str()));
    if want.rtc {
        let fifteen = || ReplicationTimeValue::builder().minutes(RTC_MINUTES).build();
        dest = dest
            .replication_time(
                ReplicationTime::builder()
                    .status(ReplicationTimeStatus::Enabled)
                    .time(fifteen())
                    .build()
                    .map_err(build_err)?,
            )
            .metrics(
                Metrics::builder()
                    .status(MetricsStatus::Enabled)
                    .event_threshold(fifteen())
                    .build()
                    .map_err(build_err)?,
            );
    }
    if let Some(key) = &want.replica_kms_key_id {
        dest = dest.encryption_configuration(
            aws_sdk_s3::types::EncryptionConfiguration::builder()
                .replica_kms_key_id(key)
                .build(),
        );
    }
    let marker = if want.delete_marker {
        DeleteMarkerReplicationStatus::Enabled
    } else {
        DeleteMarkerReplicationStatus::Disabled
    };
    let mut rule = ReplicationRule::builder();
    if want.replica_kms_key_id.is_some() {
        // SSE-KMS objects are skipped unless the rule selects them.
        rule = rule.source_selection_criteria(
            aws_sdk_s3::types::SourceSelectionCriteria::builder()
                .sse_kms_encrypted_objects(
                    aws_sdk_s3::types::SseKmsEncryptedObjects::builder()
                        .status(aws_sdk_s3::types::SseKmsEncryptedObjectsStatus::Enabled)
                        .build()
                        .map_err(build_err)?,
                )
                .build(),
        );
    }
    let rule = rule
        .id(REPLICATION_RULE_ID)
        .priority(1)
        .status(ReplicationRuleStatus::Enabled)
        .filter(ReplicationRuleFilter::builder().prefix("").build())
        .delete_marker_replication(DeleteMarkerReplication::builder().status(marker).build())
        .destination(dest.build().map_err(build_err)?)
        .build()
        .map_err(build_err)?;
    let config = ReplicationConfiguration::builder()
        .role(&want.role_arn)
        .rules(rule)
        .build()
        .map_err(build_err)?;
    client
        .put_bucket_replication()
        .bucket(bucket)
        .replication_configuration(config)
        .send()
        .await
        .map_err(aws("PutBucketReplication"))?;
    Ok(())
}

/// `DeleteBucketReplication`.
pub async fn delete_replication(client: &Client, bucket: &str) -> Result<(), AwsError> {
    client
        .delete_bucket_replication()
        .bucket(bucket)
        .send()
        .await
        .map_err(aws("DeleteBucketReplication"))?;
    Ok(())
}

/// Writes drkit's rules next to the bucket's other rules (kept as they are).
pub async fn put_lifecycle(
    client: &Client,
    bucket: &str,
    live: &LiveBucket,
    rules: &[Rule],
) -> Result<(), AwsError> {
    let mut all: Vec<LifecycleRule> = live
        .lifecycle
        .iter()
        .filter(|r| !r.id().is_some_and(|id| id.starts_with(RULE_ID_PREFIX)))
        .cloned()
        .collect();
    for r in rules {
        all.push(rule_to_sdk(r)?);
    }
    if all.is_empty() {
        client
            .delete_bucket_lifecycle()
            .bucket(bucket)
            .send()
            .await
            .map_err(aws("DeleteBucketLifecycle"))?;
        return Ok(());
    }
    let config = BucketLifecycleConfiguration::builder()
        .set_rules(Some(all))
        .build()
        .map_err(build_err)?;
    client
        .put_bucket_lifecycle_configuration()
        .bucket(bucket)
        .lifecycle_configuration(config)
        .send()
        .await
        .map_err(aws("PutBucketLifecycleConfiguration"))?;
    Ok(())
}

/// `PutBucketEncryption`: SSE-KMS with a bucket key when a key is given, else SSE-S3.
pub async fn put_encryption(
    client: &Client,
    bucket: &str,
    kms_key_id: Option<&str>,
) -> Result<(), AwsError> {
    let by_default = match kms_key_id {
        Some(key) => ServerSideEncryptionByDefault::builder()
            .sse_algorithm(ServerSideEncryption::AwsKms)
            .kms_master_key_id(key),
        None => {
            ServerSideEncryptionByDefault::builder().sse_algorithm(ServerSideEncryption::Aes256)
        }
    }
    .build()
    .map_err(build_err)?;
    let rule = ServerSideEncryptionRule::builder()
        .apply_server_side_encryption_by_default(by_default)
        .bucket_key_enabled(kms_key_id.is_some())
        .build();
    let config = ServerSideEncryptionConfiguration::builder()
        .rules(rule)
        .build()
        .map_err(build_err)?;
    client
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(config)
        .send()
        .await
        .map_err(aws("PutBucketEncryption"))?;
    Ok(())
}

/// Replaces the bucket's tag set (S3 has no per-tag call); deletes it when empty.
pub async fn put_tags(
    client: &Client,
    bucket: &str,
    tags: &[(String, String)],
) -> Result<(), AwsError> {
    if tags.is_empty() {
        client
            .delete_bucket_tagging()
            .bucket(bucket)
            .send()
            .await
            .map_err(aws("DeleteBucketTagging"))?;
        return Ok(());
    }
    let set = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(build_err))
        .collect::<Result<Vec<_>, _>>()?;
    client
        .put_bucket_tagging()
        .bucket(bucket)
        .tagging(
            Tagging::builder()
                .set_tag_set(Some(set))
                .build()
                .map_err(build_err)?,
        )
        .send()
        .await
        .map_err(aws("PutBucketTagging"))?;
    Ok(())
}

/// The tags to write on `live`: its own, with `set` added or replacing a value, and the
/// keys in `remove` dropped.
pub(super) fn bucket_tags(
    live: &LiveBucket,
    set: &[(&str, &str)],
    remove: &[&str],
) -> Vec<(String, String)> {
    let mut tags: Vec<(String, String)> = live
        .tags
        .iter()
        .filter(|(k, _)| !set.iter().any(|(s, _)| s == k) && !remove.contains(&k.as_str()))
        .cloned()
        .collect();
    tags.extend(set.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    tags
}

//! Configuration checks: shapes of every attribute, then drlint's tier model.

use std::collections::HashMap;

use drlint::model::{
    assess_with_clusters, Assessment, ClusterSpec, Duration as DrDuration, ModelFinding,
    PolicySpec, RdsSpec, ReplicationSpec, RetentionSpec, S3Spec, Severity,
};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::aws::AwsClients;
use crate::diagnostics::error;
use crate::shape::{
    is_bucket_name, is_http_url, is_instance_class, is_kms_arn, is_kms_key, is_policy_name,
    is_rds_identifier, is_region_name,
};
use crate::state::dr_policy::{PolicyState, RetentionBlock};

use super::blocks::{
    cluster_path, model_path, rds_path, s3_path, ARCHIVE_CLASSES, DEFAULT_RETENTION_DAYS,
    STORAGE_CLASSES,
};
use super::retention::Retention;
use super::{rds, retention, windows};

/// The provider's regions, once configured.
#[derive(Debug, Clone, Copy)]
pub struct Regions<'a> {
    /// Primary region.
    pub primary: &'a str,
    /// Default DR region.
    pub dr: Option<&'a str>,
}

impl<'a> Regions<'a> {
    /// The regions of a configured provider.
    pub fn of(clients: &'a AwsClients) -> Self {
        Regions {
            primary: clients.primary_region(),
            dr: clients.dr_region(),
        }
    }
}

pub(super) struct Check<'d> {
    diags: &'d mut Diagnostics,
}

impl Check<'_> {
    fn err(&mut self, summary: &str, detail: String, path: AttributePath) {
        self.diags.add_error(error(summary, detail, path));
    }

    /// The shapes of an `rds` or `rds_cluster` block's `backup_retention_days` and
    /// `backup_window`. 0 and above 35 days are the tier model's findings; a negative or
    /// fractional number is a shape error here.
    fn retention_and_window(
        &mut self,
        block: &AttributePath,
        retention: &Value<i64>,
        window: &Value<String>,
    ) {
        let retention_path = block.clone().attribute("backup_retention_days");
        if let Some(d) = crate::schema_helpers::not_whole(
            retention,
            "backup_retention_days",
            retention_path.clone(),
        ) {
            self.diags.add_error(d);
        } else if let Value::Value(n) = retention {
            if *n < 0 {
                self.err(
                    "Invalid backup_retention_days",
                    format!(
                        "backup_retention_days = {n}: a retention cannot be negative; use 1 to \
                         35 days."
                    ),
                    retention_path,
                );
            }
        }
        if let Value::Value(w) = window {
            if let Err(msg) = windows::parse_backup_window(w) {
                self.err(
                    "Invalid backup_window",
                    msg,
                    block.clone().attribute("backup_window"),
                );
            }
        }
    }

    fn days(&mut self, v: &Value<i64>, path: AttributePath, what: &str, min: i64, max: i64) {
        self.count(v, path, what, "days", min, max);
    }

    /// A whole number of `unit` from `min` to `max`.
    fn count(
        &mut self,
        v: &Value<i64>,
        path: AttributePath,
        what: &str,
        unit: &str,
        min: i64,
        max: i64,
    ) {
        if let Some(d) = crate::schema_helpers::not_whole(v, what, path.clone()) {
            self.diags.add_error(d);
            return;
        }
        if let Value::Value(n) = v {
            if *n < min || *n > max {
                self.err(
                    &format!("Invalid {what}"),
                    format!("{what} = {n}: use a whole number of {unit} from {min} to {max}."),
                    path,
                );
            }
        }
    }

    fn class(&mut self, v: &Value<String>, allowed: &[&str], path: AttributePath, what: &str) {
        if let Value::Value(c) = v {
            if !allowed.contains(&c.as_str()) {
                self.err(
                    &format!("Invalid {what}"),
                    format!("{c:?} is not one of {}.", allowed.join(", ")),
                    path,
                );
            }
        }
    }

    /// A copy's KMS key: an ARN (its region is checked by [`Check::kms_region`]).
    fn kms_arn(&mut self, key: &Value<String>, attr: &str, path: AttributePath) {
        if let Value::Value(k) = key {
            if !is_kms_arn(k) {
                self.err(
                    &format!("Invalid {attr}"),
                    format!(
                        "{k:?} is not a KMS key ARN: a copy in another region needs the full ARN \
                         of a key there, arn:aws:kms:REGION:ACCOUNT:key/KEY_ID (or \
                         :alias/NAME)."
                    ),
                    path,
                );
            }
        }
    }

    /// A copy's region: shaped like an AWS region.
    fn region(&mut self, v: &Value<String>, attr: &str, path: AttributePath) {
        if let Value::Value(r) = v {
            if !is_region_name(r) {
                self.err(
                    &format!("Invalid {attr}"),
                    format!(
                        "{r:?} is not an AWS region name such as \"us-west-2\"; remove it to use \
                         the provider's dr_region."
                    ),
                    path,
                );
            }
        }
    }

    fn kms_region(&mut self, key: &Value<String>, region: Option<&str>, path: AttributePath) {
        if let (Value::Value(key), Some(region)) = (key, region) {
            if let Some(key_region) = rds::arn_region(key).filter(|_| is_kms_arn(key)) {
                if key_region != region {
                    self.err(
                        "KMS key in the wrong region",
                        format!(
                            "{key} is a key of {key_region}, but the copy is in {region}: KMS \
                             keys are regional, so use a key of {region}."
                        ),
                        path,
                    );
                }
            }
        }
    }
}

/// The region a copy goes to: the block's own, else the provider's `dr_region`.
/// `Some(None)`: unknown yet.
pub(super) fn copy_region(
    block_region: &Value<String>,
    regions: Option<&Regions>,
) -> Option<String> {
    match block_region {
        Value::Value(r) => Some(r.clone()),
        Value::Null => regions.and_then(|r| r.dr.map(str::to_string)),
        Value::Unknown => None,
    }
}

/// Converts a `retention` block whose values are all known.
pub(super) fn retention_of(b: &RetentionBlock) -> Option<Retention> {
    fn opt<T: Clone>(v: &Value<T>) -> Option<Option<T>> {
        match v {
            Value::Value(x) => Some(Some(x.clone())),
            Value::Null => Some(None),
            Value::Unknown => None,
        }
    }
    let days = |v: &Value<i64>| opt(v).map(|d| d.map(|d| d.max(0) as u32));
    Some(Retention {
        prefix: opt(&b.prefix)?,
        archive_after_days: days(&b.archive_after_days)?,
        archive_storage_class: opt(&b.archive_storage_class)?,
        expire_days: days(&b.expire_days)?,
        noncurrent_expire_days: days(&b.noncurrent_expire_days)?,
        daily: days(&b.daily)?,
        weekly: days(&b.weekly)?,
        monthly: days(&b.monthly)?,
        yearly: days(&b.yearly)?,
    })
}

pub(super) fn retention_block(r: &Retention) -> RetentionBlock {
    let s = |v: &Option<String>| Value::from(v.clone());
    let n = |v: Option<u32>| Value::from(v.map(i64::from));
    RetentionBlock {
        prefix: s(&r.prefix),
        archive_after_days: n(r.archive_after_days),
        archive_storage_class: s(&r.archive_storage_class),
        expire_days: n(r.expire_days),
        noncurrent_expire_days: n(r.noncurrent_expire_days),
        daily: n(r.daily),
        weekly: n(r.weekly),
        monthly: n(r.monthly),
        yearly: n(r.yearly),
    }
}

/// The policy as drlint's tier model sees it; unknown values stay `None`.
pub fn model_spec(s: &PolicyState, regions: Option<&Regions>) -> PolicySpec {
    let primary = regions.map(|r| r.primary.to_string());
    let duration = |v: &Value<String>| v.as_ref_option().and_then(|d| d.parse::<DrDuration>().ok());
    let mut compliance = match s.compliance {
        Value::Value(c) => Some(c),
        Value::Null => Some(false),
        Value::Unknown => None,
    };
    let rds = s
        .rds
        .as_ref_option()
        .map(|blocks| {
            blocks
                .iter()
                .map(|b| RdsSpec {
                    backup_retention_days: match b.settings.backup_retention_days {
                        Value::Value(d) => u32::try_from(d).ok(),
                        Value::Null => Some(DEFAULT_RETENTION_DAYS as u32),
                        Value::Unknown => None,
                    },
                    region: primary.clone(),
                    replica_region: match &b.cross_region_replica {
                        Value::Value(r) => Some(copy_region(&r.region, regions)),
                        Value::Null => None,
                        Value::Unknown => Some(None),
                    },
                    backups_region: match &b.cross_region_backups {
                        Value::Value(r) => Some(copy_region(&r.region, regions)),
                        Value::Null => None,
                        Value::Unknown => Some(None),
                    },
                })
                .collect()
        })
        .unwrap_or_default();
    let s3 =
        s.s3.as_ref_option()
            .map(|blocks| {
                blocks
                    .iter()
                    .map(|b| {
                        let retention = match &b.retention {
                            Value::Value(list) if list.is_empty() => None,
                            Value::Value(list) => {
                                match list.iter().map(retention_of).collect::<Option<Vec<_>>>() {
                                    Some(blocks) => {
                                        let (expire, archives) =
                                            retention::summary(&retention::rules_of(&blocks));
                                        Some(RetentionSpec {
                                            expire_days: expire,
                                            archives: Some(archives),
                                        })
                                    }
                                    None => {
                                        // Judged once the values are known.
                                        compliance = None;
                                        Some(RetentionSpec::default())
                                    }
                                }
                            }
                            Value::Null => None,
                            Value::Unknown => {
                                compliance = None;
                                None
                            }
                        };
                        S3Spec {
                            versioning: match b.versioning {
                                Value::Value(v) => Some(v),
                                Value::Null => Some(true),
                                Value::Unknown => None,
                            },
                            region: primary.clone(),
                            replication: match &b.replication {
                                Value::Value(r) => Some(ReplicationSpec {
                                    destination_region: copy_region(&r.destination_region, regions),
                                    replication_time_control: match r.replication_time_control {
                                        Value::Value(v) => Some(v),
                                        Value::Null => Some(false),
                                        Value::Unknown => None,
                                    },
                                }),
                                Value::Null => None,
                                Value::Unknown => Some(ReplicationSpec::default()),
                            },
                            retention,
                        }
                    })
                    .collect()
            })
            .unwrap_or_default();
    PolicySpec {
        rpo: duration(&s.rpo),
        rto: duration(&s.rto),
        owners: s.owners.as_ref_option().map(Vec::len).or(match s.owners {
            Value::Null => Some(0),
            _ => None,
        }),
        compliance,
        rds,
        s3,
    }
}

/// The `rds_cluster` blocks as drlint's tier model sees them; unknown values stay `None`.
pub fn cluster_specs(s: &PolicyState, regions: Option<&Regions>) -> Vec<ClusterSpec> {
    let primary = regions.map(|r| r.primary.to_string());
    s.rds_cluster
        .as_ref_option()
        .into_iter()
        .flatten()
        .map(|b| ClusterSpec {
            backup_retention_days: match b.settings.backup_retention_days {
                Value::Value(d) => u32::try_from(d).ok(),
                Value::Null => Some(DEFAULT_RETENTION_DAYS as u32),
                Value::Unknown => None,
            },
            region: primary.clone(),
            global_secondary_region: match &b.global_secondary {
                Value::Value(g) => Some(copy_region(&g.region, regions)),
                Value::Null => None,
                Value::Unknown => Some(None),
            },
            secondary_instance: match &b.global_secondary {
                Value::Value(g) => match g.instance_class {
                    Value::Value(_) => Some(true),
                    Value::Null => Some(false),
                    Value::Unknown => None,
                },
                _ => None,
            },
        })
        .collect()
}

/// drlint's tier model on a whole policy: instances, clusters and buckets.
pub fn assess_policy(s: &PolicyState, regions: Option<&Regions>) -> Assessment {
    assess_with_clusters(&model_spec(s, regions), &cluster_specs(s, regions))
}

pub(super) fn model_diagnostic(f: &ModelFinding) -> Diagnostic {
    let summary = match f.severity {
        Severity::Error => "DR policy cannot meet its targets",
        Severity::Warning => "DR policy weakness",
    };
    error(summary, f.message.clone(), model_path(&f.path))
}

/// Checks a configuration: shapes of every attribute, then drlint's tier model. Without
/// `regions` (ValidateResourceConfig runs before the provider is configured) the region
/// comparisons wait for the plan; with them (at plan time) only errors are reported, as
/// the warnings were already shown.
pub fn validate(diags: &mut Diagnostics, s: &PolicyState, regions: Option<&Regions>) {
    let mut c = Check { diags };
    if let Value::Value(name) = &s.name {
        if !is_policy_name(name) {
            c.err(
                "Invalid policy name",
                format!(
                    "{name:?}: use letters, digits, '_', '.' and '-' (at most 128): the name \
                     is written into tags and the import ID."
                ),
                AttributePath::new("name"),
            );
        }
    }
    let mut owners = HashMap::new();
    for (i, owner) in s.owners.as_ref_option().into_iter().flatten().enumerate() {
        if let Value::Value(owner) = owner {
            let path = AttributePath::new("owners").index(i as i64);
            if owner.trim().is_empty() {
                c.err(
                    "Invalid owner",
                    format!(
                        "owners[{i}] is empty: name a person or team who can run the recovery \
                         (an e-mail address or a handle)."
                    ),
                    path,
                );
            } else if let Some(first) = owners.insert(owner.clone(), i) {
                c.err(
                    "Owner listed twice",
                    format!(
                        "{owner:?} is already owners[{first}]: a second entry for the same person \
                         does not make a second person who can recover. Name someone else, or \
                         remove it."
                    ),
                    path,
                );
            }
        }
    }
    let mut durations_ok = true;
    for (attr, v) in [("rpo", &s.rpo), ("rto", &s.rto)] {
        if let Value::Value(text) = v {
            if let Err(e) = text.parse::<DrDuration>() {
                durations_ok = false;
                c.err(
                    &format!("Invalid {attr}"),
                    e.to_string(),
                    AttributePath::new(attr),
                );
            }
        }
    }
    if let Value::Value(text) = &s.drill_interval {
        match text.parse::<DrDuration>() {
            Err(e) => c.err(
                "Invalid drill_interval",
                e.to_string(),
                AttributePath::new("drill_interval"),
            ),
            Ok(d) if !(86_400..=3650 * 86_400).contains(&d.as_secs()) => c.err(
                "Invalid drill_interval",
                format!("drill_interval = {text:?} is outside 1d to 3650d: it is how old the newest passing drill may be (default 90d)."),
                AttributePath::new("drill_interval"),
            ),
            Ok(_) => {}
        }
    }
    if let Value::Value(url) = &s.runbook_url {
        if !is_http_url(url) {
            c.err(
                "Invalid runbook_url",
                format!("{url:?} must be an http:// or https:// URL with a host."),
                AttributePath::new("runbook_url"),
            );
        }
    }
    if let Value::Value(t) = &s.timeouts {
        for (attr, v) in [("create", &t.create), ("update", &t.update)] {
            if let Value::Value(text) = v {
                let path = AttributePath::new("timeouts").index(0).attribute(attr);
                match text.parse::<DrDuration>() {
                    Err(e) => c.err("Invalid timeout", e.to_string(), path),
                    Ok(d) if d.as_secs() == 0 => c.err(
                        "Invalid timeout",
                        format!(
                            "{attr} = {text:?} would give up before the first AWS call: use a \
                             duration such as \"60m\", or remove it for the default."
                        ),
                        path,
                    ),
                    Ok(_) => {}
                }
            }
        }
    }

    let mut seen = HashMap::new();
    for (i, b) in s.rds.as_ref_option().into_iter().flatten().enumerate() {
        let p = rds_path(i);
        if let Value::Value(id) = &b.instance_identifier {
            if !is_rds_identifier(id) {
                c.err(
                    "Invalid instance_identifier",
                    format!("{id:?} is not an RDS identifier: 1–63 letters, digits or hyphens, starting with a letter."),
                    p.clone().attribute("instance_identifier"),
                );
            }
            if let Some(first) = seen.insert(id.clone(), i) {
                c.err(
                    "Instance named twice",
                    format!("{id} is already covered by rds[{first}]; name each instance once."),
                    p.clone().attribute("instance_identifier"),
                );
            }
        }
        c.retention_and_window(
            &p,
            &b.settings.backup_retention_days,
            &b.settings.backup_window,
        );
        if let Value::Value(r) = &b.cross_region_replica {
            let rp = p.clone().attribute("cross_region_replica").index(0);
            if let Value::Value(id) = &r.identifier {
                if !is_rds_identifier(id) {
                    c.err(
                        "Invalid replica identifier",
                        format!("{id:?} is not an RDS identifier: 1–63 letters, digits or hyphens, starting with a letter."),
                        rp.clone().attribute("identifier"),
                    );
                }
            }
            c.days(
                &r.backup_retention_days,
                rp.clone().attribute("backup_retention_days"),
                "backup_retention_days",
                1,
                35,
            );
            c.region(&r.region, "region", rp.clone().attribute("region"));
            if let Value::Value(class) = &r.instance_class {
                if !is_instance_class(class) {
                    c.err(
                        "Invalid instance_class",
                        format!(
                            "{class:?} is not an RDS instance class: write it like \
                             \"db.r6g.large\" (with the \"db.\" prefix), or remove it to use the \
                             source's class."
                        ),
                        rp.clone().attribute("instance_class"),
                    );
                }
            }
            c.kms_arn(
                &r.kms_key_id,
                "kms_key_id",
                rp.clone().attribute("kms_key_id"),
            );
            let region = copy_region(&r.region, regions);
            c.kms_region(
                &r.kms_key_id,
                region.as_deref(),
                rp.clone().attribute("kms_key_id"),
            );
            if r.region.is_null() && regions.is_some_and(|r| r.dr.is_none()) {
                c.err(
                    "No DR region for the replica",
                    "Set region in this block, or dr_region in the provider \"dr\" block.".into(),
                    rp.attribute("region"),
                );
            }
        }
        if let Value::Value(r) = &b.cross_region_backups {
            let bp = p.clone().attribute("cross_region_backups").index(0);
            c.days(
                &r.retention_days,
                bp.clone().attribute("retention_days"),
                "retention_days",
                1,
                35,
            );
            c.region(&r.region, "region", bp.clone().attribute("region"));
            c.kms_arn(
                &r.kms_key_id,
                "kms_key_id",
                bp.clone().attribute("kms_key_id"),
            );
            let region = copy_region(&r.region, regions);
            c.kms_region(
                &r.kms_key_id,
                region.as_deref(),
                bp.clone().attribute("kms_key_id"),
            );
            if r.region.is_null() && regions.is_some_and(|r| r.dr.is_none()) {
                c.err(
                    "No DR region for the backups",
                    "Set region in this block, or dr_region in the provider \"dr\" block.".into(),
                    bp.attribute("region"),
                );
            }
        }
    }

    validate_clusters(&mut c, s, regions);

    let mut seen = HashMap::new();
    for (j, b) in s.s3.as_ref_option().into_iter().flatten().enumerate() {
        let p = s3_path(j);
        if let Value::Value(bucket) = &b.bucket {
            if !is_bucket_name(bucket) {
                c.err(
                    "Invalid bucket name",
                    format!("{bucket:?} is not an S3 bucket name: 3–63 lowercase letters, digits, '.' or '-'."),
                    p.clone().attribute("bucket"),
                );
            }
            if let Some(first) = seen.insert(bucket.clone(), j) {
                c.err(
                    "Bucket named twice",
                    format!("{bucket} is already covered by s3[{first}]; name each bucket once."),
                    p.clone().attribute("bucket"),
                );
            }
        }
        if let Some(Value::Value(key)) = b.encryption.as_ref_option().map(|e| &e.kms_key_id) {
            if !is_kms_key(key) {
                c.err(
                    "Invalid kms_key_id",
                    format!(
                        "{key:?} is not a KMS key: use a key ID, alias/NAME or a key ARN \
                         (arn:aws:kms:REGION:ACCOUNT:key/KEY_ID); remove kms_key_id for SSE-S3."
                    ),
                    p.clone()
                        .attribute("encryption")
                        .index(0)
                        .attribute("kms_key_id"),
                );
            }
        }
        if let Value::Value(r) = &b.replication {
            let rp = p.clone().attribute("replication").index(0);
            if let Value::Value(dest) = &r.destination_bucket {
                if !is_bucket_name(dest) {
                    c.err(
                        "Invalid destination_bucket",
                        format!(
                            "{dest:?} is not an S3 bucket name: 3–63 lowercase letters, digits, \
                             '.' or '-'."
                        ),
                        rp.clone().attribute("destination_bucket"),
                    );
                }
                if b.bucket.as_ref_option() == Some(dest) {
                    c.err(
                        "Bucket replicates to itself",
                        "destination_bucket must be another bucket, in another region.".into(),
                        rp.clone().attribute("destination_bucket"),
                    );
                }
            }
            if let Value::Value(role) = &r.role_arn {
                if !(role.starts_with("arn:") && role.contains(":role/")) {
                    c.err(
                        "Invalid role_arn",
                        format!(
                            "{role:?} is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)."
                        ),
                        rp.clone().attribute("role_arn"),
                    );
                }
            }
            c.class(
                &r.storage_class,
                STORAGE_CLASSES,
                rp.clone().attribute("storage_class"),
                "storage_class",
            );
            c.region(
                &r.destination_region,
                "destination_region",
                rp.clone().attribute("destination_region"),
            );
            c.kms_arn(
                &r.replica_kms_key_id,
                "replica_kms_key_id",
                rp.clone().attribute("replica_kms_key_id"),
            );
            let dest_region = copy_region(&r.destination_region, regions);
            c.kms_region(
                &r.replica_kms_key_id,
                dest_region.as_deref(),
                rp.clone().attribute("replica_kms_key_id"),
            );
            let kms_encrypted = b
                .encryption
                .as_ref_option()
                .is_some_and(|e| e.kms_key_id.is_value());
            if kms_encrypted && r.replica_kms_key_id.is_null() {
                c.err(
                    "SSE-KMS objects need a replica key",
                    "The bucket's encryption uses a KMS key, and S3 replicates SSE-KMS objects \
                     only with a KMS key of the destination region: set replica_kms_key_id to \
                     the ARN of a key there (or nothing would reach the DR copy)."
                        .into(),
                    rp.clone().attribute("replica_kms_key_id"),
                );
            }
            if r.destination_region.is_null() && regions.is_some_and(|r| r.dr.is_none()) {
                c.err(
                    "No destination region",
                    "Set destination_region, or dr_region in the provider \"dr\" block.".into(),
                    rp.attribute("destination_region"),
                );
            }
        }
        let mut prefixes = HashMap::new();
        let mut gfs_seen = false;
        for (k, r) in b
            .retention
            .as_ref_option()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let rp = p.clone().attribute("retention").index(k as i64);
            let gfs = [&r.daily, &r.weekly, &r.monthly, &r.yearly];
            let explicit = [&r.expire_days];
            let is_gfs = gfs.iter().any(|v| !v.is_null());
            // Terraform quotes the source of `retention[0]`, but for a later block it shows
            // the enclosing `s3` block: point at the first GFS argument the block sets.
            let gfs_path = if k == 0 {
                rp.clone()
            } else {
                ["daily", "weekly", "monthly", "yearly"]
                    .into_iter()
                    .zip(gfs)
                    .find(|(_, v)| !v.is_null())
                    .map_or(rp.clone(), |(attr, _)| rp.clone().attribute(attr))
            };
            if is_gfs && (!r.prefix.is_null() || explicit.iter().any(|v| !v.is_null())) {
                c.err(
                    "Mixed retention forms",
                    "A retention block is either explicit (prefix, expire_days) or \
                     grandfather-father-son (daily, weekly, monthly, yearly); split it in two."
                        .into(),
                    gfs_path.clone(),
                );
            }
            if is_gfs {
                if gfs_seen {
                    c.err(
                        "Two GFS retention blocks",
                        "The daily/weekly/monthly/yearly form writes the prefixes daily/, \
                         weekly/, monthly/ and yearly/; declare it once per bucket."
                            .into(),
                        gfs_path,
                    );
                }
                gfs_seen = true;
            } else if let Some(prefix) = match &r.prefix {
                Value::Value(p) => Some(p.clone()),
                Value::Null => Some(String::new()),
                Value::Unknown => None,
            } {
                if let Some(first) = prefixes.insert(prefix.clone(), k) {
                    c.err(
                        "Prefix retained twice",
                        format!(
                            "prefix {prefix:?} already has retention[{first}]; merge the blocks."
                        ),
                        rp.clone().attribute("prefix"),
                    );
                }
            }
            // At most 100 years, in the unit of each argument (a month counts 31 days).
            for (attr, v, unit, min, max) in [
                (
                    "archive_after_days",
                    &r.archive_after_days,
                    "days",
                    0,
                    36_500,
                ),
                ("expire_days", &r.expire_days, "days", 1, 36_500),
                (
                    "noncurrent_expire_days",
                    &r.noncurrent_expire_days,
                    "days",
                    1,
                    36_500,
                ),
                ("daily", &r.daily, "days", 1, 36_500),
                ("weekly", &r.weekly, "weeks", 1, 5_214),
                ("monthly", &r.monthly, "months", 1, 1_177),
                ("yearly", &r.yearly, "years", 1, 100),
            ] {
                c.count(v, rp.clone().attribute(attr), attr, unit, min, max);
            }
            c.class(
                &r.archive_storage_class,
                ARCHIVE_CLASSES,
                rp.clone().attribute("archive_storage_class"),
                "archive_storage_class",
            );
            if let (Value::Value(a), Value::Value(e)) = (&r.archive_after_days, &r.expire_days) {
                if a >= e {
                    c.err(
                        "Archive after expiry",
                        format!("archive_after_days = {a} is not before expire_days = {e}: objects would expire before they are archived."),
                        rp.clone().attribute("archive_after_days"),
                    );
                }
            }
            if r.archive_after_days.is_null() && !r.archive_storage_class.is_null() {
                c.err(
                    "Archive class without a transition",
                    "archive_storage_class needs archive_after_days.".into(),
                    rp.clone().attribute("archive_storage_class"),
                );
            }
            let actions = [
                &r.archive_after_days,
                &r.expire_days,
                &r.noncurrent_expire_days,
                &r.daily,
                &r.weekly,
                &r.monthly,
                &r.yearly,
            ];
            if actions.iter().all(|v| v.is_null()) {
                c.err(
                    "Empty retention block",
                    "Set expire_days, archive_after_days or noncurrent_expire_days, or the \
                     daily/weekly/monthly/yearly form."
                        .into(),
                    rp,
                );
            }
        }
    }

    if !durations_ok {
        return;
    }
    let assessment = assess_policy(s, regions);
    for f in &assessment.findings {
        match f.severity {
            Severity::Error => c.diags.add_error(model_diagnostic(f)),
            Severity::Warning if regions.is_none() => c.diags.add_warning(model_diagnostic(f)),
            Severity::Warning => {}
        }
    }
}

/// Shapes of the `rds_cluster` blocks.
fn validate_clusters(c: &mut Check, s: &PolicyState, regions: Option<&Regions>) {
    let mut seen = HashMap::new();
    for (i, b) in s
        .rds_cluster
        .as_ref_option()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let p = cluster_path(i);
        if let Value::Value(id) = &b.cluster_identifier {
            if !is_rds_identifier(id) {
                c.err(
                    "Invalid cluster_identifier",
                    format!("{id:?} is not an RDS identifier: 1–63 letters, digits or hyphens, starting with a letter."),
                    p.clone().attribute("cluster_identifier"),
                );
            }
            if let Some(first) = seen.insert(id.clone(), i) {
                c.err(
                    "Cluster named twice",
                    format!(
                        "{id} is already covered by rds_cluster[{first}]; name each cluster once."
                    ),
                    p.clone().attribute("cluster_identifier"),
                );
            }
        }
        c.retention_and_window(
            &p,
            &b.settings.backup_retention_days,
            &b.settings.backup_window,
        );
        let Value::Value(g) = &b.global_secondary else {
            continue;
        };
        let gp = p.clone().attribute("global_secondary").index(0);
        for (attr, v) in [
            ("cluster_identifier", &g.cluster_identifier),
            ("global_cluster_identifier", &g.global_cluster_identifier),
        ] {
            if let Value::Value(id) = v {
                if !is_rds_identifier(id) {
                    c.err(
                        &format!("Invalid {attr}"),
                        format!("{id:?} is not an RDS identifier: 1–63 letters, digits or hyphens, starting with a letter."),
                        gp.clone().attribute(attr),
                    );
                }
            }
        }
        if let (Value::Value(src), Value::Value(dst)) =
            (&b.cluster_identifier, &g.cluster_identifier)
        {
            if src == dst
                && g.region.as_ref_option().map(String::as_str) == regions.map(|r| r.primary)
            {
                c.err(
                    "Secondary named like its source",
                    "cluster_identifier of the secondary must differ from the source's in the same region.".into(),
                    gp.clone().attribute("cluster_identifier"),
                );
            }
        }
        c.region(&g.region, "region", gp.clone().attribute("region"));
        if let Value::Value(class) = &g.instance_class {
            if !is_instance_class(class) {
                c.err(
                    "Invalid instance_class",
                    format!(
                        "{class:?} is not an RDS instance class: write it like \"db.r6g.large\" \
                         (with the \"db.\" prefix), or remove it for a headless secondary."
                    ),
                    gp.clone().attribute("instance_class"),
                );
            }
        }
        c.kms_arn(
            &g.kms_key_id,
            "kms_key_id",
            gp.clone().attribute("kms_key_id"),
        );
        let region = copy_region(&g.region, regions);
        c.kms_region(
            &g.kms_key_id,
            region.as_deref(),
            gp.clone().attribute("kms_key_id"),
        );
        if g.region.is_null() && regions.is_some_and(|r| r.dr.is_none()) {
            c.err(
                "No DR region for the global secondary",
                "Set region in this block, or dr_region in the provider \"dr\" block.".into(),
                gp.attribute("region"),
            );
        }
    }
}

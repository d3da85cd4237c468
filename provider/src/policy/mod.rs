//! The logic behind `dr_policy`: configuration -> validation with drlint's tier model ->
//! plan -> AWS calls -> state. Pure parts (validation, defaults, rule conversion) need no
//! server; the AWS parts live in [`rds`] and [`s3`].

pub mod claims;
pub mod rds;
pub mod retention;
pub mod s3;
pub mod windows;

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use drlint::model::{
    assess, Duration as DrDuration, ModelFinding, PolicySpec, RdsSpec, ReplicationSpec,
    RetentionSpec, S3Spec, Severity, Step,
};
use futures::future::join_all;
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostic, Diagnostics};

use crate::aws::AwsClients;
use crate::diagnostics::{aws_diagnostic, error, AwsError};
use crate::resources::dr_policy::{
    BackupsBlock, EncryptionBlock, PolicyState, RdsBlock, ReplicaBlock, ReplicationBlock,
    RetentionBlock, S3Block,
};
use claims::{Claims, CREATED_BY_TAG, OWNER_TAG, TARGETS_TAG};
use retention::{Retention, Rule};
use s3::WantReplication;

/// Default automated backup retention (drlint's minimum).
pub const DEFAULT_RETENTION_DAYS: i64 = 7;
/// Default create/update timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60 * 60);
/// Storage classes S3 accepts for replicas and transitions.
const STORAGE_CLASSES: &[&str] = &[
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
];
const ARCHIVE_CLASSES: &[&str] = &[
    "GLACIER",
    "DEEP_ARCHIVE",
    "GLACIER_IR",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
];

// ---------------------------------------------------------------------------------------
// Paths
// ---------------------------------------------------------------------------------------

fn rds_path(i: usize) -> AttributePath {
    AttributePath::new("rds").index(i as i64)
}

fn s3_path(j: usize) -> AttributePath {
    AttributePath::new("s3").index(j as i64)
}

/// Blocks with at most one element: Terraform addresses them as a list (`[0]`).
const SINGLE_BLOCKS: &[&str] = &[
    "cross_region_replica",
    "cross_region_backups",
    "replication",
    "encryption",
    "timeouts",
];

/// The Terraform attribute path of a tier-model finding.
pub fn model_path(steps: &[Step]) -> AttributePath {
    let mut path = AttributePath::root();
    for (n, step) in steps.iter().enumerate() {
        match step {
            Step::Attr(name) => {
                path.add_attribute(*name);
                if SINGLE_BLOCKS.contains(name) && n + 1 < steps.len() {
                    path.add_index(0);
                }
            }
            Step::Index(i) => {
                path.add_index(*i as i64);
            }
        }
    }
    // Terraform shows the source of attributes, not of blocks: a finding about a whole
    // `rds` or `s3` block points at the attribute naming the resource, one about the
    // retention blocks at the first of them.
    match steps {
        [Step::Attr("rds"), Step::Index(_)] => {
            path.add_attribute("instance_identifier");
        }
        [Step::Attr("s3"), Step::Index(_)] => {
            path.add_attribute("bucket");
        }
        [Step::Attr("s3"), Step::Index(_), Step::Attr("retention")] => {
            path.add_index(0);
        }
        _ => {}
    }
    path
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

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

fn is_rds_identifier(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphabetic()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && !s.ends_with('-')
        && !s.contains("--")
}

fn is_bucket_name(s: &str) -> bool {
    let b = s.as_bytes();
    (3..=63).contains(&b.len())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' || *c == b'.')
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
}

/// Policy names go into tags and the import ID: letters, digits, `_`, `.`, `-`.
fn is_policy_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"_.-".contains(&c))
}

struct Check<'d> {
    diags: &'d mut Diagnostics,
}

impl Check<'_> {
    fn err(&mut self, summary: &str, detail: String, path: AttributePath) {
        self.diags.add_error(error(summary, detail, path));
    }

    fn days(&mut self, v: &Value<i64>, path: AttributePath, what: &str, min: i64, max: i64) {
        if let Value::Value(n) = v {
            if *n < min || *n > max {
                self.err(
                    &format!("Invalid {what}"),
                    format!("{what} = {n}: use a whole number of days from {min} to {max}."),
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

    fn kms_region(&mut self, key: &Value<String>, region: Option<&str>, path: AttributePath) {
        if let (Value::Value(key), Some(region)) = (key, region) {
            if let Some(key_region) = rds::arn_region(key) {
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
fn copy_region(block_region: &Value<String>, regions: Option<&Regions>) -> Option<String> {
    match block_region {
        Value::Value(r) => Some(r.clone()),
        Value::Null => regions.and_then(|r| r.dr.map(str::to_string)),
        Value::Unknown => None,
    }
}

/// Converts a `retention` block whose values are all known.
fn retention_of(b: &RetentionBlock) -> Option<Retention> {
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

fn retention_block(r: &Retention) -> RetentionBlock {
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
                    backup_retention_days: match b.backup_retention_days {
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

fn model_diagnostic(f: &ModelFinding) -> Diagnostic {
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
    if let Value::Value(url) = &s.runbook_url {
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            c.err(
                "Invalid runbook_url",
                format!("{url:?} must be an http:// or https:// URL."),
                AttributePath::new("runbook_url"),
            );
        }
    }
    if let Value::Value(t) = &s.timeouts {
        for (attr, v) in [("create", &t.create), ("update", &t.update)] {
            if let Value::Value(text) = v {
                if let Err(e) = text.parse::<DrDuration>() {
                    c.err(
                        "Invalid timeout",
                        e.to_string(),
                        AttributePath::new("timeouts").index(0).attribute(attr),
                    );
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
        // 0 and above 35 are the tier model's findings; negative numbers are shapes.
        c.days(
            &b.backup_retention_days,
            p.clone().attribute("backup_retention_days"),
            "backup_retention_days",
            0,
            i64::MAX,
        );
        if let Value::Value(w) = &b.backup_window {
            if let Err(msg) = windows::parse_backup_window(w) {
                c.err(
                    "Invalid backup_window",
                    msg,
                    p.clone().attribute("backup_window"),
                );
            }
        }
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
        if let Value::Value(r) = &b.replication {
            let rp = p.clone().attribute("replication").index(0);
            if let Value::Value(dest) = &r.destination_bucket {
                if !is_bucket_name(dest) {
                    c.err(
                        "Invalid destination_bucket",
                        format!("{dest:?} is not an S3 bucket name."),
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
            if is_gfs && (!r.prefix.is_null() || explicit.iter().any(|v| !v.is_null())) {
                c.err(
                    "Mixed retention forms",
                    "A retention block is either explicit (prefix, expire_days) or \
                     grandfather-father-son (daily, weekly, monthly, yearly); split it in two."
                        .into(),
                    rp.clone(),
                );
            }
            if is_gfs {
                if gfs_seen {
                    c.err(
                        "Two GFS retention blocks",
                        "The daily/weekly/monthly/yearly form writes the prefixes daily/, \
                         weekly/, monthly/ and yearly/; declare it once per bucket."
                            .into(),
                        rp.clone(),
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
            for (attr, v) in [
                ("archive_after_days", &r.archive_after_days),
                ("expire_days", &r.expire_days),
                ("noncurrent_expire_days", &r.noncurrent_expire_days),
                ("daily", &r.daily),
                ("weekly", &r.weekly),
                ("monthly", &r.monthly),
                ("yearly", &r.yearly),
            ] {
                c.days(
                    v,
                    rp.clone().attribute(attr),
                    attr,
                    if attr == "archive_after_days" { 0 } else { 1 },
                    36_500,
                );
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
                    rp.clone().attribute("archive_after_days"),
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
    let assessment = assess(&model_spec(s, regions));
    for f in &assessment.findings {
        match f.severity {
            Severity::Error => c.diags.add_error(model_diagnostic(f)),
            Severity::Warning if regions.is_none() => c.diags.add_warning(model_diagnostic(f)),
            Severity::Warning => {}
        }
    }
}

// ---------------------------------------------------------------------------------------
// Desired settings: a state whose values are all known
// ---------------------------------------------------------------------------------------

/// A cross-region replica, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredReplica {
    /// Region.
    pub region: String,
    /// Identifier.
    pub identifier: String,
    /// Class; `None`: the source's.
    pub instance_class: Option<String>,
    /// KMS key.
    pub kms_key_id: Option<String>,
    /// The replica's own backup retention.
    pub retention: i32,
}

/// Cross-region automated-backup replication, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredBackups {
    /// Region.
    pub region: String,
    /// Retention.
    pub retention: i32,
    /// KMS key.
    pub kms_key_id: Option<String>,
}

/// An `rds` block, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredRds {
    /// Source identifier.
    pub identifier: String,
    /// Backup retention.
    pub retention: i32,
    /// Backup window; `None`: leave as is.
    pub backup_window: Option<String>,
    /// Deletion protection.
    pub deletion_protection: bool,
    /// Copy tags to snapshots.
    pub copy_tags: bool,
    /// Replica.
    pub replica: Option<DesiredReplica>,
    /// Replicated backups.
    pub backups: Option<DesiredBackups>,
}

/// An `s3` block, fully resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredS3 {
    /// Bucket.
    pub bucket: String,
    /// Versioning.
    pub versioning: bool,
    /// `Some(None)`: SSE-S3; `Some(Some(key))`: SSE-KMS; `None`: not managed.
    pub encryption: Option<Option<String>>,
    /// Replication and the destination's region.
    pub replication: Option<(WantReplication, String)>,
    /// drkit's lifecycle rules, sorted by ID.
    pub rules: Vec<Rule>,
}

/// A `dr_policy` with every value known: what apply makes true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// Policy name.
    pub name: String,
    /// Value of the `drkit:targets` tag.
    pub targets: String,
    /// RDS blocks.
    pub rds: Vec<DesiredRds>,
    /// S3 blocks.
    pub s3: Vec<DesiredS3>,
}

struct Need<'d> {
    diags: &'d mut Diagnostics,
    ok: bool,
}

impl Need<'_> {
    fn get<T: Clone>(
        &mut self,
        v: &Value<T>,
        default: Option<T>,
        path: impl FnOnce() -> AttributePath,
    ) -> Option<T> {
        match v {
            Value::Value(x) => Some(x.clone()),
            Value::Null if default.is_some() => default,
            Value::Null => None,
            Value::Unknown => {
                self.ok = false;
                self.diags.add_error(error(
                    "Value still unknown at apply",
                    "Terraform passed an unknown value to apply; this is a provider bug, please report it.",
                    path(),
                ));
                None
            }
        }
    }
}

impl Desired {
    /// Resolves a planned (or prior) state. Unknown values are errors in `diags`, and
    /// `None` is returned.
    pub fn from_state(diags: &mut Diagnostics, s: &PolicyState) -> Option<Desired> {
        let mut n = Need { diags, ok: true };
        let name = n
            .get(&s.name, None, || AttributePath::new("name"))
            .unwrap_or_default();
        let rpo = n
            .get(&s.rpo, Some(String::new()), || AttributePath::new("rpo"))
            .unwrap_or_default();
        let rto = n
            .get(&s.rto, Some(String::new()), || AttributePath::new("rto"))
            .unwrap_or_default();
        let compliance = n
            .get(&s.compliance, Some(false), || {
                AttributePath::new("compliance")
            })
            .unwrap_or(false);
        let mut rds = Vec::new();
        let rds_blocks = n
            .get(&s.rds, Some(Vec::new()), || AttributePath::new("rds"))
            .unwrap_or_default();
        for (i, b) in rds_blocks.iter().enumerate() {
            let p = || rds_path(i);
            let identifier = n
                .get(&b.instance_identifier, None, || {
                    p().attribute("instance_identifier")
                })
                .unwrap_or_default();
            let retention = n
                .get(
                    &b.backup_retention_days,
                    Some(DEFAULT_RETENTION_DAYS),
                    || p().attribute("backup_retention_days"),
                )
                .unwrap_or(DEFAULT_RETENTION_DAYS) as i32;
            let backup_window = n.get(&b.backup_window, None, || p().attribute("backup_window"));
            let deletion_protection = n
                .get(&b.deletion_protection, Some(true), || {
                    p().attribute("deletion_protection")
                })
                .unwrap_or(true);
            let copy_tags = n
                .get(&b.copy_tags_to_snapshot, Some(true), || {
                    p().attribute("copy_tags_to_snapshot")
                })
                .unwrap_or(true);
            let replica = match n.get(&b.cross_region_replica, None, || {
                p().attribute("cross_region_replica")
            }) {
                Some(r) => {
                    let rp = || p().attribute("cross_region_replica").index(0);
                    Some(DesiredReplica {
                        region: n
                            .get(&r.region, None, || rp().attribute("region"))
                            .unwrap_or_default(),
                        identifier: n
                            .get(&r.identifier, Some(format!("{identifier}-dr")), || {
                                rp().attribute("identifier")
                            })
                            .unwrap_or_default(),
                        instance_class: n
                            .get(&r.instance_class, None, || rp().attribute("instance_class")),
                        kms_key_id: n.get(&r.kms_key_id, None, || rp().attribute("kms_key_id")),
                        retention: n
                            .get(&r.backup_retention_days, Some(retention as i64), || {
                                rp().attribute("backup_retention_days")
                            })
                            .unwrap_or(retention as i64) as i32,
                    })
                }
                None => None,
            };
            let backups = match n.get(&b.cross_region_backups, None, || {
                p().attribute("cross_region_backups")
            }) {
                Some(r) => {
                    let bp = || p().attribute("cross_region_backups").index(0);
                    Some(DesiredBackups {
                        region: n
                            .get(&r.region, None, || bp().attribute("region"))
                            .unwrap_or_default(),
                        retention: n
                            .get(&r.retention_days, Some(retention as i64), || {
                                bp().attribute("retention_days")
                            })
                            .unwrap_or(retention as i64) as i32,
                        kms_key_id: n.get(&r.kms_key_id, None, || bp().attribute("kms_key_id")),
                    })
                }
                None => None,
            };
            rds.push(DesiredRds {
                identifier,
                retention,
                backup_window,
                deletion_protection,
                copy_tags,
                replica,
                backups,
            });
        }
        let mut buckets = Vec::new();
        let s3_blocks = n
            .get(&s.s3, Some(Vec::new()), || AttributePath::new("s3"))
            .unwrap_or_default();
        for (j, b) in s3_blocks.iter().enumerate() {
            let p = || s3_path(j);
            let bucket = n
                .get(&b.bucket, None, || p().attribute("bucket"))
                .unwrap_or_default();
            let versioning = n
                .get(&b.versioning, Some(true), || p().attribute("versioning"))
                .unwrap_or(true);
            let encryption = n
                .get(&b.encryption, None, || p().attribute("encryption"))
                .map(|e| {
                    n.get(&e.kms_key_id, None, || {
                        p().attribute("encryption").index(0).attribute("kms_key_id")
                    })
                });
            let replication = match n.get(&b.replication, None, || p().attribute("replication")) {
                Some(r) => {
                    let rp = || p().attribute("replication").index(0);
                    let want = WantReplication {
                        destination_bucket: n
                            .get(&r.destination_bucket, None, || {
                                rp().attribute("destination_bucket")
                            })
                            .unwrap_or_default(),
                        role_arn: n
                            .get(&r.role_arn, None, || rp().attribute("role_arn"))
                            .unwrap_or_default(),
                        storage_class: n
                            .get(
                                &r.storage_class,
                                Some(s3::DEFAULT_STORAGE_CLASS.to_string()),
                                || rp().attribute("storage_class"),
                            )
                            .unwrap_or_default(),
                        rtc: n
                            .get(&r.replication_time_control, Some(false), || {
                                rp().attribute("replication_time_control")
                            })
                            .unwrap_or(false),
                        delete_marker: n
                            .get(&r.delete_marker_replication, Some(false), || {
                                rp().attribute("delete_marker_replication")
                            })
                            .unwrap_or(false),
                    };
                    let region = n
                        .get(&r.destination_region, None, || {
                            rp().attribute("destination_region")
                        })
                        .unwrap_or_default();
                    Some((want, region))
                }
                None => None,
            };
            let blocks = n
                .get(&b.retention, Some(Vec::new()), || {
                    p().attribute("retention")
                })
                .unwrap_or_default();
            let mut plain = Vec::new();
            for (k, r) in blocks.iter().enumerate() {
                match retention_of(r) {
                    Some(r) => plain.push(r),
                    None => {
                        n.get(&Value::<()>::Unknown, None, || {
                            p().attribute("retention").index(k as i64)
                        });
                    }
                }
            }
            buckets.push(DesiredS3 {
                bucket,
                versioning,
                encryption,
                replication,
                rules: retention::rules_of(&plain),
            });
        }
        if !n.ok {
            return None;
        }
        Some(Desired {
            targets: claims::targets_tag(&rpo, &rto, compliance),
            name,
            rds,
            s3: buckets,
        })
    }
}

/// The create or update timeout of a state.
pub fn timeout(s: &PolicyState, create: bool) -> Duration {
    s.timeouts
        .as_ref_option()
        .and_then(|t| {
            if create {
                t.create.as_ref_option()
            } else {
                t.update.as_ref_option()
            }
        })
        .and_then(|d| d.parse::<DrDuration>().ok())
        .map(|d| Duration::from_secs(d.as_secs()))
        .unwrap_or(DEFAULT_TIMEOUT)
}

// ---------------------------------------------------------------------------------------
// Plan
// ---------------------------------------------------------------------------------------

/// Fills `proposed` with defaults where the configuration is null (never where it is set).
fn fill_defaults(proposed: &mut PolicyState, config: &PolicyState, regions: &Regions) {
    /// Static defaults apply on every plan while the config is null, so a value changed
    /// outside Terraform (read into the prior state) is planned back to the default.
    fn default<T>(v: &mut Value<T>, config: &Value<T>, value: T) {
        if config.is_null() {
            *v = Value::Value(value);
        }
    }
    /// Derived defaults follow their source on every plan while the config is null.
    fn derived<T: Clone>(v: &mut Value<T>, config: &Value<T>, from: &Value<T>) {
        if config.is_null() {
            *v = from.clone();
        }
    }
    fn unknown_if_missing<T>(v: &mut Value<T>, config: &Value<T>) {
        if config.is_null() && v.is_null() {
            *v = Value::Unknown;
        }
    }
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
fn set_model_outputs(s: &mut PolicyState, regions: &Regions) {
    if Desired::from_state(&mut Diagnostics::default(), s).is_none() {
        s.tier = Value::Unknown;
        s.estimated_rpo = Value::Unknown;
        s.estimated_rto = Value::Unknown;
        return;
    }
    let a = assess(&model_spec(s, Some(regions)));
    s.tier = Value::Value(a.tier.name().to_string());
    s.estimated_rpo = Value::Value(a.estimated_rpo.map(|d| d.to_string()).unwrap_or_default());
    s.estimated_rto = Value::Value(a.estimated_rto.map(|d| d.to_string()).unwrap_or_default());
}

fn owner_conflict(
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
                }
            }
        }
        let s3_client = clients.s3(regions.primary).await;
        for (j, b) in proposed
            .s3
            .as_ref_option()
            .into_iter()
            .flatten()
            .enumerate()
        {
            let Value::Value(bucket) = &b.bucket else {
                continue;
            };
            // The policy's S3 calls go to the primary region: a bucket elsewhere would
            // answer with redirects at apply.
            if let Ok(Some(location)) = s3::location(&s3_client, bucket).await {
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
            match s3_client
                .get_bucket_tagging()
                .bucket(bucket)
                .send()
                .await
                .map_err(crate::diagnostics::aws("GetBucketTagging"))
            {
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
fn check_live_instance(
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
    if let (Value::Value(w), Some(m)) = (&b.backup_window, &live.maintenance_window) {
        if let (Ok(bw), Some(mw)) = (
            windows::parse_backup_window(w),
            windows::parse_maintenance_window(m),
        ) {
            if windows::windows_overlap(bw, mw) {
                diags.add_error(error(
                    "Backup window overlaps the maintenance window",
                    format!(
                        "backup_window {w:?} overlaps the maintenance window {m:?} of {}; RDS \
                         rejects that. Choose a backup window outside it.",
                        live.identifier
                    ),
                    p.clone().attribute("backup_window"),
                ));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Apply
// ---------------------------------------------------------------------------------------

type Step_ = Result<(), Diagnostic>;

fn aws_err(summary: String, path: AttributePath) -> impl FnOnce(AwsError) -> Diagnostic {
    move |e| aws_diagnostic(summary, path, &e)
}

/// The state of an `rds` block, for the checks shared with plan.
fn rds_block_of(d: &DesiredRds) -> RdsBlock {
    RdsBlock {
        instance_identifier: Value::Value(d.identifier.clone()),
        backup_window: Value::from(d.backup_window.clone()),
        cross_region_replica: match &d.replica {
            Some(r) => Value::Value(ReplicaBlock {
                kms_key_id: Value::from(r.kms_key_id.clone()),
                ..Default::default()
            }),
            None => Value::Null,
        },
        cross_region_backups: match &d.backups {
            Some(r) => Value::Value(BackupsBlock {
                kms_key_id: Value::from(r.kms_key_id.clone()),
                ..Default::default()
            }),
            None => Value::Null,
        },
        ..Default::default()
    }
}

async fn apply_rds(
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
    let mut live = match rds::describe(&primary, &r.identifier).await {
        Ok(Some(live)) => live,
        Ok(None) => {
            return vec![error(
                "RDS instance not found",
                format!("RDS instance {:?} does not exist in {region}. Create it first, or fix instance_identifier.", r.identifier),
                p.attribute("instance_identifier"),
            )]
        }
        Err(e) => return vec![aws_diagnostic(format!("Could not read RDS instance {:?}", r.identifier), p.attribute("instance_identifier"), &e)],
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
    let result: Step_ = async {
        let m = rds::Modify {
            retention: (live.retention != r.retention).then_some(r.retention),
            backup_window: r.backup_window.clone().filter(|w| Some(w) != live.backup_window.as_ref()),
            deletion_protection: (live.deletion_protection != r.deletion_protection).then_some(r.deletion_protection),
            copy_tags: (live.copy_tags != r.copy_tags).then_some(r.copy_tags),
            instance_class: None,
        };
        let what = format!("RDS instance {:?}", r.identifier);
        if !m.is_empty() {
            if live.status != "available" {
                live = rds::wait_available(&primary, &r.identifier, deadline).await.map_err(aws_err(format!("{what} did not become available"), p.clone()))?;
            }
            tracing::info!(instance = %r.identifier, ?m, "modifying");
            rds::modify(&primary, &r.identifier, &m).await.map_err(aws_err(format!("Could not modify {what}"), p.clone()))?;
            live = rds::wait_available(&primary, &r.identifier, deadline).await.map_err(aws_err(format!("{what} did not become available after the change"), p.clone()))?;
        }
        if live.tags.get(OWNER_TAG) != Some(&d.name) || live.tags.get(TARGETS_TAG) != Some(&d.targets) {
            rds::add_tags(&primary, &live.arn, &[(OWNER_TAG, &d.name), (TARGETS_TAG, &d.targets)]).await.map_err(aws_err(format!("Could not tag {what}"), p.clone()))?;
        }
        if let Some(rep) = &r.replica {
            ensure_replica(clients, d, &p, r, rep, &live, deadline).await?;
        }
        if let Some(b) = &r.backups {
            let replication = live.backup_replications.iter().find(|arn| rds::arn_region(arn) == Some(b.region.as_str()));
            let client = clients.rds(&b.region).await;
            if let Some(arn) = replication {
                let current = rds::replicated_backup_retention(&client, arn).await.ok().flatten();
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
                    .map_err(aws_err(format!("Could not replicate the automated backups of {what} to {}", b.region), p.clone().attribute("cross_region_backups")))?;
            }
        }
        Ok(())
    }
    .await;
    result.err().into_iter().collect()
}

async fn ensure_replica(
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
        .map_err(aws_err(format!("Could not read {what}"), rp.clone()))?;
    let live = match existing {
        None => {
            if source.status != "available" {
                // A replica is created only from an available source (not `backing-up`).
                let primary = clients.rds(clients.primary_region()).await;
                rds::wait_available(&primary, &r.identifier, deadline)
                    .await
                    .map_err(aws_err(
                        format!("RDS instance {:?} did not become available", r.identifier),
                        p.clone(),
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
                    deletion_protection: r.deletion_protection,
                    copy_tags: r.copy_tags,
                    tags: vec![
                        (OWNER_TAG.to_string(), d.name.clone()),
                        (CREATED_BY_TAG.to_string(), d.name.clone()),
                    ],
                },
            )
            .await
            .map_err(aws_err(format!("Could not create {what}"), rp.clone()))?;
            rds::wait_available(&client, &rep.identifier, deadline)
                .await
                .map_err(aws_err(
                    format!("{what} did not become available"),
                    rp.clone(),
                ))?
        }
        Some(live) => {
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
            tracing::info!(replica = %rep.identifier, "adopting existing read replica");
            live
        }
    };
    let m = rds::Modify {
        retention: (live.retention != rep.retention).then_some(rep.retention),
        instance_class: rep
            .instance_class
            .clone()
            .filter(|c| Some(c) != live.instance_class.as_ref()),
        ..Default::default()
    };
    if !m.is_empty() {
        if live.status != "available" {
            rds::wait_available(&client, &rep.identifier, deadline)
                .await
                .map_err(aws_err(
                    format!("{what} did not become available"),
                    rp.clone(),
                ))?;
        }
        rds::modify(&client, &rep.identifier, &m)
            .await
            .map_err(aws_err(format!("Could not modify {what}"), rp.clone()))?;
        rds::wait_available(&client, &rep.identifier, deadline)
            .await
            .map_err(aws_err(
                format!("{what} did not become available after the change"),
                rp.clone(),
            ))?;
    }
    if live.tags.get(OWNER_TAG) != Some(&d.name) {
        rds::add_tags(&client, &live.arn, &[(OWNER_TAG, &d.name)])
            .await
            .map_err(aws_err(format!("Could not tag {what}"), rp))?;
    }
    Ok(())
}

fn bucket_tags(
    live: &s3::LiveBucket,
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

async fn apply_s3(
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
    let result: Step_ = async {
        let live = s3::describe(&client, &b.bucket)
            .await
            .map_err(aws_err(format!("Could not read {what}"), p.clone().attribute("bucket")))?
            .ok_or_else(|| error("Bucket not found", format!("Bucket {:?} does not exist. Create it first, or fix bucket.", b.bucket), p.clone().attribute("bucket")))?;
        if let Some(owner) = live.tag(OWNER_TAG) {
            if owner != d.name && Some(owner) != prev {
                return Err(owner_conflict("Bucket owned by another policy", &format!("Bucket {}", b.bucket), owner, &d.name, p.clone().attribute("bucket")));
            }
        }
        // Versioning first: S3 refuses replication on an unversioned bucket.
        if b.versioning != live.versioning_enabled() && (b.versioning || live.versioning.is_some()) {
            s3::put_versioning(&client, &b.bucket, b.versioning).await.map_err(aws_err(format!("Could not set versioning on {what}"), p.clone().attribute("versioning")))?;
        }
        let rp = p.clone().attribute("replication").index(0);
        match &b.replication {
            Some((want, dest_region)) => {
                let dest_client = clients.s3(dest_region).await;
                let dest_path = rp.clone().attribute("destination_bucket");
                let location = s3::location(&dest_client, &want.destination_bucket).await.map_err(aws_err(format!("Could not read destination bucket {:?}", want.destination_bucket), dest_path.clone()))?;
                match location {
                    None => {
                        return Err(error(
                            "Destination bucket not found",
                            format!("Bucket {:?} does not exist. Create it (with versioning) in {dest_region} first.", want.destination_bucket),
                            dest_path,
                        ))
                    }
                    Some(loc) if &loc != dest_region => {
                        return Err(error(
                            "Destination bucket in another region",
                            format!("Bucket {:?} is in {loc}, not in destination_region {dest_region}.", want.destination_bucket),
                            rp.clone().attribute("destination_region"),
                        ))
                    }
                    Some(_) => {}
                }
                let dest_versioning = s3::versioning_status(&dest_client, &want.destination_bucket).await.map_err(aws_err(format!("Could not read destination bucket {:?}", want.destination_bucket), dest_path.clone()))?;
                if dest_versioning.as_deref() != Some("Enabled") {
                    return Err(error(
                        "Destination bucket not versioned",
                        format!("S3 replicates only into a versioned bucket: enable versioning on {:?}.", want.destination_bucket),
                        dest_path,
                    ));
                }
                if !live.replication.as_ref().is_some_and(|l| want.matches(l)) {
                    tracing::info!(bucket = %b.bucket, ?want, "putting replication");
                    s3::put_replication(&client, &b.bucket, want).await.map_err(aws_err(format!("Could not configure replication of {what}"), rp.clone()))?;
                }
            }
            None => {
                if live.replication.as_ref().is_some_and(|l| l.rule_id.as_deref() == Some(s3::REPLICATION_RULE_ID)) {
                    s3::delete_replication(&client, &b.bucket).await.map_err(aws_err(format!("Could not remove drkit's replication of {what}"), p.clone()))?;
                }
            }
        }
        if live.drkit_rules() != b.rules {
            s3::put_lifecycle(&client, &b.bucket, &live, &b.rules).await.map_err(aws_err(format!("Could not write the lifecycle rules of {what}"), p.clone().attribute("retention")))?;
        }
        if let Some(kms) = &b.encryption {
            let ok = live.encryption.as_ref().is_some_and(|e| match kms {
                Some(key) => e.algorithm == "aws:kms" && e.kms_key_id.as_deref() == Some(key.as_str()),
                None => e.algorithm == "AES256",
            });
            if !ok {
                s3::put_encryption(&client, &b.bucket, kms.as_deref()).await.map_err(aws_err(format!("Could not set the encryption of {what}"), p.clone().attribute("encryption")))?;
            }
        }
        if live.tag(OWNER_TAG) != Some(&d.name) || live.tag(TARGETS_TAG) != Some(&d.targets) {
            let tags = bucket_tags(&live, &[(OWNER_TAG, &d.name), (TARGETS_TAG, &d.targets)], &[]);
            s3::put_tags(&client, &b.bucket, &tags).await.map_err(aws_err(format!("Could not tag {what}"), p.clone().attribute("bucket")))?;
        }
        Ok(())
    }
    .await;
    result.err().into_iter().collect()
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
    let (rds_results, s3_results) = tokio::join!(
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
    );
    for e in rds_results.into_iter().chain(s3_results).flatten() {
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
            ..previous.clone()
        };
        release(diags, clients, &gone, false).await;
    }
    diags.errors.is_empty()
}

// ---------------------------------------------------------------------------------------
// Read
// ---------------------------------------------------------------------------------------

/// Compares a state value with the live one: fills it when unknown (or when importing),
/// records a finding and, when `write`, takes the live value when they differ.
struct Sync<'f> {
    findings: &'f mut Vec<String>,
    write: bool,
    import: bool,
}

impl Sync<'_> {
    fn field<T: Clone + PartialEq + std::fmt::Debug>(
        &mut self,
        v: &mut Value<T>,
        default: Option<T>,
        live: T,
        what: impl FnOnce() -> String,
    ) {
        let want = match v {
            Value::Unknown => {
                *v = Value::Value(live);
                return;
            }
            Value::Null if self.import => {
                *v = Value::Value(live);
                return;
            }
            Value::Null => match default {
                Some(d) => d,
                None => return,
            },
            Value::Value(x) => x.clone(),
        };
        if want != live {
            self.findings
                .push(format!("{}: is {live:?}, the policy sets {want:?}", what()));
            if self.write {
                *v = Value::Value(live);
            }
        }
    }
}

/// Reads the live resources of a state: records `findings` and `compliant`, fills values
/// left unknown, and with `write` (a refresh) copies drift into the arguments so that the
/// next plan shows it as a change. A state without `rpo` is a fresh import: every value
/// is taken from the live resources.
async fn observe(
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
            sync.field(
                &mut b.backup_retention_days,
                Some(DEFAULT_RETENTION_DAYS),
                live.retention as i64,
                || at("backup retention days"),
            );
            if let Some(w) = &live.backup_window {
                sync.field(&mut b.backup_window, None, w.clone(), || {
                    at("backup window")
                });
            }
            sync.field(
                &mut b.deletion_protection,
                Some(true),
                live.deletion_protection,
                || at("deletion protection"),
            );
            sync.field(
                &mut b.copy_tags_to_snapshot,
                Some(true),
                live.copy_tags,
                || at("copy tags to snapshot"),
            );

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
                        let default = b.backup_retention_days.as_ref_option().copied();
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
                            let default = b.backup_retention_days.as_ref_option().copied();
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
        let (rpo, rto, compliance) = targets_tag
            .as_deref()
            .map(claims::parse_targets_tag)
            .unwrap_or((None, None, false));
        s.rpo = Value::from(rpo);
        s.rto = Value::from(rto);
        s.compliance = Value::Value(compliance);
        s.delete_replicas_on_destroy = Value::Value(false);
        if let Value::Value(blocks) = s.rds.as_mut() {
            for b in blocks {
                if let Value::Value(r) = b.cross_region_replica.as_mut() {
                    if r.backup_retention_days.is_null() {
                        r.backup_retention_days = b.backup_retention_days;
                    }
                }
                if let Value::Value(r) = b.cross_region_backups.as_mut() {
                    if r.retention_days.is_null() {
                        r.retention_days = b.backup_retention_days;
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
    let reachable = assess(&model_spec(&s, Some(&regions))).reachable();
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

// ---------------------------------------------------------------------------------------
// Destroy
// ---------------------------------------------------------------------------------------

/// Stops managing the resources of `d`: removes the ownership tags, and with
/// `delete_replicas` deletes the replicas this policy created. Nothing else is deleted.
async fn release(
    diags: &mut Diagnostics,
    clients: &AwsClients,
    d: &Desired,
    delete_replicas: bool,
) {
    let primary = clients.rds(clients.primary_region()).await;
    for (i, r) in d.rds.iter().enumerate() {
        let p = rds_path(i);
        match rds::describe(&primary, &r.identifier).await {
            Ok(Some(live)) if live.tags.get(OWNER_TAG) == Some(&d.name) => {
                if let Err(e) =
                    rds::remove_tags(&primary, &live.arn, &[OWNER_TAG, TARGETS_TAG]).await
                {
                    diags.add_warning(aws_diagnostic(
                        format!("Could not remove the drkit tags of {:?}", r.identifier),
                        p.clone(),
                        &e,
                    ));
                }
            }
            Ok(_) => {}
            Err(e) => diags.add_warning(aws_diagnostic(
                format!("Could not read {:?}", r.identifier),
                p.clone(),
                &e,
            )),
        }
        let Some(rep) = &r.replica else { continue };
        let client = clients.rds(&rep.region).await;
        match rds::describe(&client, &rep.identifier).await {
            Ok(Some(live)) if delete_replicas && live.tags.get(CREATED_BY_TAG) == Some(&d.name) => {
                tracing::info!(replica = %rep.identifier, "deleting replica (delete_replicas_on_destroy)");
                if let Err(e) = rds::delete_replica(&client, &live).await {
                    diags.add_error(aws_diagnostic(
                        format!(
                            "Could not delete replica {:?} in {}",
                            rep.identifier, rep.region
                        ),
                        p.clone().attribute("cross_region_replica"),
                        &e,
                    ));
                }
            }
            Ok(Some(live)) if live.tags.get(OWNER_TAG) == Some(&d.name) => {
                if let Err(e) = rds::remove_tags(&client, &live.arn, &[OWNER_TAG]).await {
                    diags.add_warning(aws_diagnostic(
                        format!(
                            "Could not remove the drkit tag of replica {:?}",
                            rep.identifier
                        ),
                        p.clone(),
                        &e,
                    ));
                }
            }
            Ok(_) => {}
            Err(e) => diags.add_warning(aws_diagnostic(
                format!("Could not read replica {:?}", rep.identifier),
                p,
                &e,
            )),
        }
    }
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
    let usage = "Use NAME:rds=INSTANCE,INSTANCE:s3=BUCKET,BUCKET (either part may be left out), \
                 for example \"orders:rds=orders-db:s3=orders-backups\".";
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
    if rds_ids.is_empty() && buckets.is_empty() {
        diags.add_error(error(
            "Invalid import ID",
            format!("{id:?} names no instance or bucket. {usage}"),
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

#[cfg(test)]
mod tests;

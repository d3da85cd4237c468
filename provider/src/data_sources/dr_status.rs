//! `data "dr_status"`: the live RPO of a policy's resources, measured at plan time, for
//! Terraform `check` blocks. A thin adapter: the measuring is in [`crate::status`].
//!
//! Order: state, schema, validate, read, helpers.

use serde::{Deserialize, Serialize};
use tf_provider::schema::{
    AttributeConstraint, AttributeType, Block, Description, NestedBlock, Schema,
};
use tf_provider::value::{Value, ValueEmpty};
use tf_provider::{map, AttributePath, DataSource, Diagnostics};

use crate::aws::SharedClients;
use crate::diagnostics::error;
use crate::schema_helpers::attr;
use crate::state::dr_drill::Seconds;
use crate::status::{self, Figure, Measurement};

/// Shortest and longest `window`: CloudWatch's standard resolution is one minute, and a
/// day is already far beyond any RPO a check guards.
const MIN_WINDOW_SECS: u64 = 60;
const MAX_WINDOW_SECS: u64 = 86_400;

/// The data source's state.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusState {
    /// Same as `policy_id`.
    #[serde(default)]
    pub id: Value<String>,
    /// Policy name (`dr_policy.x.id`).
    #[serde(default)]
    pub policy_id: Value<String>,
    /// CloudWatch window, default `15m`.
    #[serde(default)]
    pub window: Value<String>,
    /// WAL archives to measure (`s3://bucket/prefix`).
    #[serde(default)]
    pub wal_archive_uris: Value<Vec<Value<String>>>,
    /// MySQL/MariaDB binlog archives to measure and check.
    #[serde(default)]
    pub binlog_archive: Value<Vec<Value<BinlogArchiveBlock>>>,
    /// `postgres_dump`/`mysql_dump` prefixes whose newest dump must be within the RPO.
    #[serde(default)]
    pub dump_uris: Value<Vec<Value<String>>>,
    /// `postgres_pitr` base backup prefixes whose newest backup must be within the RPO.
    #[serde(default)]
    pub base_backup_uris: Value<Vec<Value<String>>>,
    /// The policy's RPO as declared.
    #[serde(default)]
    pub rpo: Value<String>,
    /// Worst region-loss figure.
    #[serde(default)]
    pub rpo_seconds: Value<Seconds>,
    /// Every region-loss figure measured and within the RPO.
    #[serde(default)]
    pub rpo_met: Value<bool>,
    /// Worst in-region figure.
    #[serde(default)]
    pub mistake_rpo_seconds: Value<Seconds>,
    /// Every figure.
    #[serde(default)]
    pub resources: Value<Vec<Value<ResourceState>>>,
    /// What could not be measured, and why.
    #[serde(default)]
    pub unknown: Value<Vec<Value<String>>>,
    /// One line for a pager.
    #[serde(default)]
    pub summary: Value<String>,
    /// When the measurement was made.
    #[serde(default)]
    pub measured_at: Value<String>,
    /// Every preflight check passed; null when one could not be read.
    #[serde(default)]
    pub restorable: Value<bool>,
    /// The preflight checks.
    #[serde(default)]
    pub preflight: Value<Vec<Value<CheckState>>>,
    /// Where the policy's drills keep evidence records (`s3://bucket/prefix/`).
    #[serde(default)]
    pub evidence_uris: Value<Vec<Value<String>>>,
    /// Where restores would land: checked by the preflight.
    #[serde(default)]
    pub restore_target: Value<Vec<super::restore_target::RestoreTargetBlock>>,
    /// When the newest recorded drill finished.
    #[serde(default)]
    pub last_drill_at: Value<String>,
    /// Whether the newest recorded drill passed.
    #[serde(default)]
    pub last_drill_passed: Value<bool>,
    /// The newest passing drill is younger than the policy's `drill_interval`.
    #[serde(default)]
    pub drill_current: Value<bool>,
}

/// `binlog_archive { }`: a `mysql_binlog` drill's archive, measured and checked.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct BinlogArchiveBlock {
    /// `s3://bucket/prefix/` of the binlog files.
    #[serde(default)]
    pub binlog_uri: Value<String>,
    /// `s3://bucket/prefix/` of the `--source-data=2` dumps.
    #[serde(default)]
    pub base_dump_uri: Value<String>,
}

/// One entry of `preflight`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckState {
    /// `kms_key`, `s3_destination`, `wal_continuity`, `binlog_continuity`, `dump_freshness`,
    /// `base_backup_freshness`, `snapshot_freshness`, `db_subnet_group`, ...
    pub check: Value<String>,
    /// What was checked.
    pub subject: Value<String>,
    /// Passed, failed, or null when unknown.
    pub ok: Value<bool>,
    /// What was found, or why it is unknown.
    pub detail: Value<String>,
}

/// One entry of `resources`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// The copy measured.
    pub address: Value<String>,
    /// The policy's resource it protects.
    pub protects: Value<String>,
    /// How the copy keeps its recoverable point.
    pub mechanism: Value<String>,
    /// `region_loss` or `in_region`.
    pub scope: Value<String>,
    /// Seconds of data lost now; null when unknown.
    pub seconds: Value<Seconds>,
    /// When the figure was true.
    pub measured_at: Value<String>,
    /// Where the figure comes from.
    pub source: Value<String>,
    /// Why it is unknown; null when measured.
    pub unknown: Value<String>,
}

/// The `dr_status` schema.
pub fn schema() -> Schema {
    use AttributeConstraint::{Computed, Optional, Required};
    use AttributeType::{Bool, List, Number, Object, String as Str};
    let resource_type = Object(map! {
        "address" => Str, "protects" => Str, "mechanism" => Str, "scope" => Str,
        "seconds" => Number, "measured_at" => Str, "source" => Str, "unknown" => Str
    });
    let check_type = Object(map! {
        "check" => Str, "subject" => Str, "ok" => Bool, "detail" => Str
    });
    Schema {
        version: 0,
        block: Block {
            description: Description::markdown(
                "The live RPO of a `dr_policy`: for each of its resources, the age of the last \
                 recoverable point, measured now from what AWS reports (RDS \
                 `LatestRestorableTime`, CloudWatch `ReplicaLag`, the DR region's replicated \
                 backups, Aurora `AuroraGlobalDBRPOLag`, S3 RTC `ReplicationLatency`, a WAL \
                 archive's newest segment). Meant for `check` blocks: a plan warns whenever the \
                 policy's live RPO exceeds its target. Missing data is unknown, never zero, and \
                 an unknown never makes `rpo_met` true.",
            ),
            attributes: map! {
                "id" => attr(Str, Computed, "The policy name."),
                "policy_id" => attr(Str, Required, "The policy (`dr_policy.x.id`): its instances, clusters and buckets are found by their `drkit:policy` tag in the primary region."),
                "window" => attr(Str, Optional, "How far back CloudWatch metrics are read; each figure is the Maximum over it. Default `15m`, from `1m` to `1d`."),
                "wal_archive_uris" => attr(List(Box::new(Str)), Optional, "PostgreSQL WAL archives to measure (`s3://bucket/prefix/`, e.g. a `postgres_pitr` drill's `wal_archive_uri`): the newest segment's age counts as a region-loss figure."),
                "dump_uris" => attr(List(Box::new(Str)), Optional, "Dump prefixes a drill restores from (`s3://bucket/prefix/`, e.g. `dr_drill.nightly.postgres_dump[0].s3_uri` or a `mysql_dump`'s): the preflight's `dump_freshness` checks that the newest dump there, the object the drill would restore, is younger than the policy's `rpo` (age from its `LastModified`). Needs `s3:GetBucketLocation` and `s3:ListBucket`."),
                "base_backup_uris" => attr(List(Box::new(Str)), Optional, "Base backup prefixes of `postgres_pitr` drills (`s3://bucket/prefix/`, e.g. `dr_drill.pitr.postgres_pitr[0].base_backup_uri`): the preflight's `base_backup_freshness` checks that the newest base backup there (a folder holding `base.tar.gz` or `base.tar`) is younger than the policy's `rpo` (age from its `LastModified`). Needs `s3:GetBucketLocation` and `s3:ListBucket`."),
                "rpo" => attr(Str, Computed, "The policy's `rpo` as declared (read from its resources' `drkit:targets` tag); null when no resource carries it."),
                "rpo_seconds" => attr(Number, Computed, "The worst measured region-loss figure in seconds: the data a region loss would cost now. Null when none was measured; with entries in `unknown` the real loss may be larger."),
                "rpo_met" => attr(Bool, Computed, "True only when every region-loss figure was measured and is within `rpo`. Any unknown, an unknown `rpo`, or a policy with no resources makes it false."),
                "mistake_rpo_seconds" => attr(Number, Computed, "The worst in-region figure (`now - LatestRestorableTime`): the data a mistake, recovered by point-in-time restore, would cost. Not part of `rpo_met`."),
                "resources" => attr(List(Box::new(resource_type)), Computed, "Every figure: `address` (the copy measured, e.g. `rds:us-west-2:orders-db-dr`), `protects` (the policy's resource), `mechanism` (`rds_pitr`, `rds_read_replica`, `rds_replicated_backups`, `aurora_pitr`, `aurora_global`, `s3_replication`, `postgres_wal_archive`, `mysql_binlog_archive`, `none`), `scope` (`region_loss` or `in_region`), `seconds` (null when unknown), `measured_at` (RFC 3339), `source` (the API field, or the metric, statistic, window and region) and `unknown` (why it could not be measured)."),
                "unknown" => attr(List(Box::new(Str)), Computed, "What could not be measured and why, e.g. `s3:orders-backups->orders-backups-dr: not measurable without Replication Time Control ...`."),
                "summary" => attr(Str, Computed, "One line for a pager: the verdict, the copies over the RPO with their figures, and the unknowns. Use it as the `check`'s `error_message`."),
                "measured_at" => attr(Str, Computed, "When the measurement was made (RFC 3339)."),
                "evidence_uris" => attr(List(Box::new(Str)), Optional, "Where the policy's drills keep signed evidence records: each drill's `evidence[0].s3_uri` (`s3://bucket/prefix/`; also a drill's folder below it, or a record such as `evidence_uri`). Optional: a drill with `evidence` also records its location on the policy's resources (`drkit:drill-evidence` tag); list it here to read the records before the first drill and whatever the tags say. With any location, the drill attributes come from the verified records of this policy there, not from the drills' outcome tags."),
                "last_drill_at" => attr(Str, Computed, "When the newest drill of the policy finished (RFC 3339), passed or not: from its newest verified evidence record when the policy's drills keep evidence (see `evidence_uris`), else as the drill recorded it on the policy's resources (the `drkit:last-drill` tag a `dr_drill` with this `policy_id` writes after every run). Null when no drill is recorded, or the newest record could not be read or checked."),
                "last_drill_passed" => attr(Bool, Computed, "Whether the newest recorded drill passed. Null when no drill is recorded or it is unknown."),
                "drill_current" => attr(Bool, Computed, "True when the newest passing drill of the policy is younger than the policy's `drill_interval` (default `90d`); false when it is older, or no drill passed. With evidence, only records whose signature and hash chain verify count: one that fails is named in `summary` and never makes a drill current. Null when evidence could not be read or checked (access denied, S3 or KMS not answering within `read_budget`), never false for that. Assert `drill_current == true` in a `check` block to warn on every plan when a drill is overdue or failing; `rpo_met` is unaffected."),
                "restorable" => attr(Bool, Computed, "The restore path's preflight (reads only): false when any check failed, null when none failed but one could not be read (permission, throttling, an API the endpoint lacks, no answer within `read_budget`) or there was nothing to check, true when every check passed. Never guessed. Assert `restorable == true` in a `check` block."),
                "preflight" => attr(List(Box::new(check_type)), Computed, "Every preflight check: `check` (`kms_key`: a DR copy's KMS key is Enabled in its region; `s3_destination`: a replication rule is enabled and its destination exists and is versioned; `wal_continuity`: a WAL archive of `wal_archive_uris` has every segment from its newest base backup's start to its newest; `binlog_continuity`: a `binlog_archive` has every binlog file from its newest dump's to its newest; `dump_freshness`, `base_backup_freshness`: the newest dump of `dump_uris`, base backup of `base_backup_uris`, is younger than `rpo`; `snapshot_freshness`: the newest available automated snapshot of each instance and Aurora cluster of the policy, in the primary region, is younger than `rpo`, or than 26h when `rpo` is shorter (snapshots are daily; point-in-time restore covers the time between); `db_subnet_group`, `db_parameter_group`, `db_cluster_parameter_group`, `security_group`: a group a `restore_target` names exists in its region, a security group in the subnet group's VPC; `instance_class`: a `restore_target`'s class is offered there for the policy's engines), `subject` (the key ARN, `s3:SOURCE->DEST`, `wal:URI`, `binlog:URI`, `dump:URI`, `base_backup:URI`, `rds:REGION:ID`, `subnet-group:REGION:NAME`, `parameter-group:REGION:NAME`, `cluster-parameter-group:REGION:NAME`, `security-group:REGION:ID`, `instance-class:REGION:CLASS:ENGINE`), `ok` (null when it could not be read) and `detail` (what was found, or why it is unknown). Each failing check is named in `summary`."),
            },
            blocks: map! {
                "restore_target" => NestedBlock::List(super::restore_target::schema()),
                // binlog_archive (helper binlog)
                "binlog_archive" => NestedBlock::List(crate::schema_helpers::block(
                    "A MySQL/MariaDB binlog archive (e.g. a `mysql_binlog` drill's \
                     `binlog_uri` and `base_dump_uri`): the newest archived binlog file's age \
                     counts as a region-loss figure (mechanism `mysql_binlog_archive`), and the \
                     preflight check `binlog_continuity` lists the archive from the newest \
                     dump's binlog file to the newest archived file: a hole is named with the \
                     time it costs.",
                    map! {
                        "binlog_uri" => attr(Str, Required, "`s3://bucket/prefix/` of the archived binlog files (`mysql-bin.000042`, plain or `.gz`), e.g. `dr_drill.x.mysql_binlog[0].binlog_uri`."),
                        "base_dump_uri" => attr(Str, Optional, "`s3://bucket/prefix/` of the `--source-data=2` dumps: continuity is checked from the newest dump's coordinates (its first megabyte is read; plain or gzip). Without it, or for an encrypted dump, from the oldest archived file."),
                    },
                )),
            },
            ..Default::default()
        },
    }
}

/// `data "dr_status"`.
#[derive(Debug, Clone)]
pub struct DrStatus {
    clients: SharedClients,
}

impl DrStatus {
    /// A status data source over the provider's shared clients.
    pub fn new(clients: SharedClients) -> Self {
        DrStatus { clients }
    }
}

#[async_trait::async_trait]
impl DataSource for DrStatus {
    type State<'a> = StatusState;
    type ProviderMetaState<'a> = ValueEmpty;

    fn schema(&self, _diags: &mut Diagnostics) -> Option<Schema> {
        Some(schema())
    }

    async fn validate<'a>(&self, diags: &mut Diagnostics, config: Self::State<'a>) -> Option<()> {
        validate(diags, &config);
        Some(())
    }

    async fn read<'a>(
        &self,
        diags: &mut Diagnostics,
        config: Self::State<'a>,
        _meta: Self::ProviderMetaState<'a>,
    ) -> Option<Self::State<'a>> {
        let window = validate(diags, &config)?;
        let clients = crate::aws::clients(&self.clients, diags)?;
        let policy = config.policy_id.as_ref_option()?.clone();
        let inputs = status::Inputs {
            wal_archives: strings(&config.wal_archive_uris),
            evidence_uris: strings(&config.evidence_uris),
            binlog_archives: binlog_inputs(&config),
            sources: status::preflight::freshness::Sources {
                dumps: strings(&config.dump_uris),
                base_backups: strings(&config.base_backup_uris),
            },
            restore_targets: super::restore_target::targets(
                &config.restore_target,
                clients.primary_region(),
            ),
        };
        // Every read of a status is optional: what fails is unknown, never a failed plan.
        let m = status::measure(clients.optional_reads(), &policy, window, &inputs).await;
        tracing::info!(policy, summary = %m.assessment.summary, "dr_status measured");
        let mut state = config;
        fill(&mut state, &policy, &m);
        Some(state)
    }
}

/// Checks the arguments; returns the window when they are fine.
fn validate(diags: &mut Diagnostics, c: &StatusState) -> Option<std::time::Duration> {
    let before = diags.errors.len();
    if c.policy_id
        .as_ref_option()
        .is_some_and(|s| s.trim().is_empty())
    {
        diags.add_error(error(
            "Invalid policy_id",
            "policy_id is empty: pass the policy, e.g. dr_policy.orders.id.",
            AttributePath::new("policy_id"),
        ));
    }
    let mut window = status::DEFAULT_WINDOW;
    if let Some(w) = c.window.as_ref_option() {
        match w.parse::<drlint::model::Duration>() {
            Ok(d) if (MIN_WINDOW_SECS..=MAX_WINDOW_SECS).contains(&d.as_secs()) => {
                window = std::time::Duration::from_secs(d.as_secs());
            }
            Ok(d) => diags.add_error(error(
                "Invalid window",
                format!("window = {w:?} ({d}) is outside 1m to 1d: CloudWatch metrics come per minute, and a check wants the recent past."),
                AttributePath::new("window"),
            )),
            Err(e) => diags.add_error(error(
                "Invalid window",
                e.to_string(),
                AttributePath::new("window"),
            )),
        }
    }
    validate_s3_uris(
        diags,
        "wal_archive_uris",
        &c.wal_archive_uris,
        "s3://orders-wal/main/",
    );
    validate_s3_uris(
        diags,
        "dump_uris",
        &c.dump_uris,
        "s3://orders-dumps/nightly/",
    );
    validate_s3_uris(
        diags,
        "base_backup_uris",
        &c.base_backup_uris,
        "s3://orders-base/main/",
    );
    for (i, v) in c
        .evidence_uris
        .as_ref_option()
        .into_iter()
        .flatten()
        .enumerate()
    {
        if let Value::Value(uri) = v {
            if let Err(e) = status::evidence::parse_uri(uri) {
                diags.add_error(error(
                    "Invalid evidence_uris",
                    format!("evidence_uris[{i}] = {uri:?}: {e}. Pass a drill's evidence location, e.g. dr_drill.orders.evidence[0].s3_uri (\"s3://acme-dr-evidence/drills/\")."),
                    AttributePath::new("evidence_uris").index(i as i64),
                ));
            }
        }
    }
    validate_binlog_archives(diags, c);
    super::restore_target::validate(diags, &c.restore_target);
    (diags.errors.len() == before).then_some(window)
}

/// An error on each entry of the list `name` that is not an `s3://bucket/prefix` URI.
fn validate_s3_uris(
    diags: &mut Diagnostics,
    name: &'static str,
    uris: &Value<Vec<Value<String>>>,
    example: &str,
) {
    for (i, v) in uris.as_ref_option().into_iter().flatten().enumerate() {
        if let Value::Value(uri) = v {
            if status::wal_archive::parse_uri(uri).is_none() {
                diags.add_error(error(
                    format!("Invalid {name}"),
                    format!("{name}[{i}] = {uri:?} is not an S3 URI such as \"{example}\"."),
                    AttributePath::new(name).index(i as i64),
                ));
            }
        }
    }
}

/// The known strings of a list attribute (unknown entries wait for apply).
fn strings(list: &Value<Vec<Value<String>>>) -> Vec<String> {
    list.as_ref_option()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_ref_option().cloned())
        .collect()
}

/// `binlog_archive { }`: S3 URIs, the error on the block's attribute.
fn validate_binlog_archives(diags: &mut Diagnostics, c: &StatusState) {
    for (i, b) in c
        .binlog_archive
        .as_ref_option()
        .into_iter()
        .flatten()
        .enumerate()
    {
        let Value::Value(b) = b else { continue };
        for (v, name, example) in [
            (&b.binlog_uri, "binlog_uri", "s3://shop-backups/binlog/"),
            (&b.base_dump_uri, "base_dump_uri", "s3://shop-backups/full/"),
        ] {
            if let Some(uri) = v.as_ref_option() {
                if status::wal_archive::parse_uri(uri).is_none() {
                    diags.add_error(error(
                        format!("Invalid {name}"),
                        format!("binlog_archive[{i}].{name} = {uri:?} is not an S3 URI such as \"{example}\"."),
                        AttributePath::new("binlog_archive").index(i as i64).attribute(name),
                    ));
                }
            }
        }
    }
}

/// The known `binlog_archive { }` blocks.
fn binlog_inputs(c: &StatusState) -> Vec<status::binlog_archive::Input> {
    c.binlog_archive
        .as_ref_option()
        .into_iter()
        .flatten()
        .filter_map(|b| {
            let b = b.as_ref_option()?;
            Some(status::binlog_archive::Input {
                binlog_uri: b.binlog_uri.as_ref_option()?.clone(),
                base_dump_uri: b.base_dump_uri.as_ref_option().cloned(),
            })
        })
        .collect()
}

fn opt_seconds(s: Option<f64>) -> Value<Seconds> {
    s.map_or(Value::Null, |s| Value::Value(Seconds(round_ms(s))))
}

/// Figures to the millisecond: finer digits are noise, and plans stay readable.
fn round_ms(s: f64) -> f64 {
    (s * 1000.0).round() / 1000.0
}

fn resource(f: &Figure) -> ResourceState {
    ResourceState {
        address: Value::Value(f.address.clone()),
        protects: Value::Value(f.protects.clone()),
        mechanism: Value::Value(f.mechanism.name().to_string()),
        scope: Value::Value(f.scope.name().to_string()),
        seconds: opt_seconds(f.seconds),
        measured_at: f
            .measured_at
            .map_or(Value::Null, |t| Value::Value(status::rfc3339(t))),
        source: Value::Value(f.source.clone()),
        unknown: f.unknown.clone().map_or(Value::Null, Value::Value),
    }
}

/// Writes a measurement into the state.
fn fill(state: &mut StatusState, policy: &str, m: &Measurement) {
    let a = &m.assessment;
    state.id = Value::Value(policy.to_string());
    state.rpo = m.rpo.clone().map_or(Value::Null, Value::Value);
    state.rpo_seconds = opt_seconds(a.rpo_seconds);
    state.rpo_met = Value::Value(a.rpo_met);
    state.mistake_rpo_seconds = opt_seconds(a.mistake_rpo_seconds);
    state.resources = Value::Value(
        m.figures
            .iter()
            .map(|f| Value::Value(resource(f)))
            .collect(),
    );
    state.unknown = Value::Value(a.unknown.iter().cloned().map(Value::Value).collect());
    let drills = m.drills.as_ref();
    let mut summary = match status::preflight::summary(&m.preflight) {
        Some(restore) => format!("{}; {restore}", a.summary),
        None => a.summary.clone(),
    };
    for p in drills.iter().flat_map(|d| &d.problems) {
        summary.push_str("; ");
        summary.push_str(p);
    }
    state.summary = Value::Value(summary);
    state.last_drill_at = drills
        .and_then(|d| d.last_at)
        .map_or(Value::Null, |t| Value::Value(status::rfc3339(t)));
    state.last_drill_passed = drills
        .and_then(|d| d.last_passed)
        .map_or(Value::Null, Value::Value);
    state.drill_current = drills
        .and_then(|d| d.current)
        .map_or(Value::Null, Value::Value);
    state.restorable =
        status::preflight::restorable(&m.preflight).map_or(Value::Null, Value::Value);
    state.preflight = Value::Value(
        m.preflight
            .iter()
            .map(|c| {
                Value::Value(CheckState {
                    check: Value::Value(c.check.to_string()),
                    subject: Value::Value(c.subject.clone()),
                    ok: c.ok.map_or(Value::Null, Value::Value),
                    detail: Value::Value(c.detail.clone()),
                })
            })
            .collect(),
    );
    state.measured_at = Value::Value(status::rfc3339(m.measured_at));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(window: Option<&str>, uris: &[&str]) -> StatusState {
        StatusState {
            policy_id: Value::Value("orders".into()),
            window: window.map_or(Value::Null, |w| Value::Value(w.into())),
            wal_archive_uris: if uris.is_empty() {
                Value::Null
            } else {
                Value::Value(uris.iter().map(|u| Value::Value(u.to_string())).collect())
            },
            ..Default::default()
        }
    }

    #[test]
    fn the_window_defaults_to_15m_and_is_bounded() {
        let mut d = Diagnostics::default();
        assert_eq!(
            validate(&mut d, &config(None, &[])),
            Some(std::time::Duration::from_secs(900))
        );
        assert_eq!(
            validate(&mut d, &config(Some("1h"), &[])),
            Some(std::time::Duration::from_secs(3600))
        );
        for bad in ["30s", "2d", "soon"] {
            let mut d = Diagnostics::default();
            assert_eq!(validate(&mut d, &config(Some(bad), &[])), None, "{bad}");
            assert_eq!(d.errors[0].attribute, AttributePath::new("window"));
        }
    }

    #[test]
    fn a_bad_evidence_uri_points_at_its_index() {
        let mut c = config(None, &[]);
        c.evidence_uris = Value::Value(vec![
            Value::Value("s3://acme-dr-evidence/drills/".into()),
            Value::Value("s3://acme-dr-evidence/drills/orders/r1.json".into()),
            Value::Value("s3://acme-dr-evidence/drills".into()),
        ]);
        let mut d = Diagnostics::default();
        assert_eq!(validate(&mut d, &c), None);
        assert_eq!(d.errors.len(), 1);
        assert_eq!(
            d.errors[0].attribute,
            AttributePath::new("evidence_uris").index(2)
        );
        assert!(
            d.errors[0].detail.contains("end the prefix with"),
            "{}",
            d.errors[0].detail
        );
    }

    #[test]
    fn a_bad_binlog_archive_uri_points_at_its_block() {
        let mut c = config(None, &[]);
        c.binlog_archive = Value::Value(vec![Value::Value(BinlogArchiveBlock {
            binlog_uri: Value::Value("s3://b/binlog/".into()),
            base_dump_uri: Value::Value("b/full/".into()),
        })]);
        let mut d = Diagnostics::default();
        assert_eq!(validate(&mut d, &c), None);
        assert_eq!(
            d.errors[0].attribute,
            AttributePath::new("binlog_archive")
                .index(0)
                .attribute("base_dump_uri")
        );
        assert_eq!(
            binlog_inputs(&c)[0].base_dump_uri.as_deref(),
            Some("b/full/")
        );
    }

    #[test]
    fn a_bad_archive_uri_points_at_its_index() {
        let mut d = Diagnostics::default();
        assert_eq!(
            validate(&mut d, &config(None, &["s3://wal/x/", "/var/wal"])),
            None
        );
        assert_eq!(
            d.errors[0].attribute,
            AttributePath::new("wal_archive_uris").index(1)
        );
    }

    #[test]
    fn a_bad_dump_or_base_backup_uri_points_at_its_attribute_and_index() {
        let mut c = config(None, &[]);
        c.dump_uris = Value::Value(vec![
            Value::Value("s3://dumps/nightly/".into()),
            Value::Value("dumps/nightly".into()),
        ]);
        c.base_backup_uris = Value::Value(vec![Value::Value("s3:///base/".into())]);
        let mut d = Diagnostics::default();
        assert_eq!(validate(&mut d, &c), None);
        let paths: Vec<_> = d.errors.iter().map(|e| e.attribute.clone()).collect();
        assert_eq!(
            paths,
            [
                AttributePath::new("dump_uris").index(1),
                AttributePath::new("base_backup_uris").index(0)
            ]
        );
        assert!(d.errors[0]
            .detail
            .contains("dump_uris[1] = \"dumps/nightly\" is not an S3 URI"));
    }
}

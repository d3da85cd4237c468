//! The `dr_drill` resource's state as Terraform stores it: serde types only, shared by the
//! drill logic ([`crate::drill`], [`crate::drill_targets`]) and the resource adapter
//! ([`crate::resources::dr_drill`]), which owns the schema and validation.

use std::collections::HashMap;
use std::time::Duration as StdDuration;

use drlint::model::Duration;
use serde::{Deserialize, Serialize};
use tf_provider::value::Value;

use crate::schema_helpers::single_block;

/// A number of seconds. Terraform's wire format (cty msgpack) sends a decimal that is not
/// exactly a float64, such as `0.123` read back from state, as a string: accept both.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Seconds(pub f64);

impl Serialize for Seconds {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.0)
    }
}

impl<'de> Deserialize<'de> for Seconds {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Seconds;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a number")
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Seconds, E> {
                Ok(Seconds(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Seconds, E> {
                Ok(Seconds(v as f64))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Seconds, E> {
                Ok(Seconds(v as f64))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Seconds, E> {
                v.parse().map(Seconds).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// The `dr_drill` resource as Terraform stores it.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillState {
    /// The run id of the recorded drill.
    #[serde(default)]
    pub id: Value<String>,
    /// The policy this drill exercises.
    #[serde(default)]
    pub policy_id: Value<String>,
    /// Target RPO.
    #[serde(default)]
    pub rpo: Value<String>,
    /// Target RTO.
    #[serde(default)]
    pub rto: Value<String>,
    /// How often the drill must run.
    #[serde(default)]
    pub interval: Value<String>,
    /// Arbitrary values whose change re-runs the drill.
    #[serde(default)]
    pub triggers: Value<HashMap<String, Value<String>>>,
    /// Fail the apply when a target is missed.
    #[serde(default)]
    pub fail_on_target_miss: Value<bool>,
    /// Path of the JSON report (a markdown summary is written beside it).
    #[serde(default)]
    pub report_file: Value<String>,
    /// Slack incoming webhook (or any JSON receiver).
    #[serde(default)]
    pub webhook_url: Value<String>,
    /// `slack` (default) or `json`.
    #[serde(default)]
    pub webhook_format: Value<String>,
    /// Query whose timestamp dates the restored data.
    #[serde(default)]
    pub freshness_sql: Value<String>,
    /// Runs kept in `history`.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub history_size: Value<i64>,
    /// Limit for the whole drill.
    #[serde(default)]
    pub timeout: Value<String>,
    /// RDS source.
    #[serde(default, with = "single_block")]
    pub rds: Value<RdsBlock>,
    /// Dump source.
    #[serde(default, with = "single_block")]
    pub postgres_dump: Value<DumpBlock>,
    /// Base backup + WAL archive source.
    #[serde(default, with = "single_block")]
    pub postgres_pitr: Value<PitrBlock>,
    /// `mysqldump`/`mariadb-dump` source.
    #[serde(default, with = "single_block")]
    pub mysql_dump: Value<MysqlDumpBlock>,
    /// `--source-data=2` dump + binlog archive source.
    #[serde(default, with = "single_block")]
    pub mysql_binlog: Value<MysqlBinlogBlock>,
    /// Restore target.
    #[serde(default, with = "single_block")]
    pub target: Value<TargetBlock>,
    /// Verification queries.
    #[serde(default)]
    pub verify: Value<Vec<Value<VerifyBlock>>>,
    /// Where each run's signed evidence record goes.
    #[serde(default, with = "single_block")]
    pub evidence: Value<EvidenceBlock>,
    /// `s3://` of the recorded run's evidence record.
    #[serde(default)]
    pub evidence_uri: Value<String>,
    /// Start of the recorded run.
    #[serde(default)]
    pub started_at: Value<String>,
    /// End of the recorded run.
    #[serde(default)]
    pub finished_at: Value<String>,
    /// When the next run is due.
    #[serde(default)]
    pub next_due: Value<String>,
    /// Measured RTO in seconds.
    #[serde(default)]
    pub measured_rto_seconds: Value<Seconds>,
    /// Measured RPO in seconds.
    #[serde(default)]
    pub measured_rpo_seconds: Value<Seconds>,
    /// RTO met.
    #[serde(default)]
    pub rto_met: Value<bool>,
    /// RPO met.
    #[serde(default)]
    pub rpo_met: Value<bool>,
    /// Everything passed.
    #[serde(default)]
    pub passed: Value<bool>,
    /// Verification results.
    #[serde(default)]
    pub verify_results: Value<Vec<Value<VerifyResultState>>>,
    /// Earlier runs.
    #[serde(default)]
    pub history: Value<Vec<Value<HistoryState>>>,
    /// The full report, JSON.
    #[serde(default)]
    pub report: Value<String>,
    /// Age of the newest archived WAL segment (postgres_pitr) or binlog file (mysql_binlog).
    #[serde(default)]
    pub archive_lag_seconds: Value<Seconds>,
}

/// `rds { }`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RdsBlock {
    /// Source instance.
    #[serde(default)]
    pub instance_identifier: Value<String>,
    /// Source Aurora cluster (instead of an instance).
    #[serde(default)]
    pub cluster_identifier: Value<String>,
    /// Region to restore in.
    #[serde(default)]
    pub region: Value<String>,
    /// `latest`, `random`, `snapshot` or RFC 3339.
    #[serde(default)]
    pub restore_time: Value<String>,
    /// Class of the temporary instance.
    #[serde(default)]
    pub instance_class: Value<String>,
    /// Restore from backups replicated into `region`.
    #[serde(default)]
    pub from_replicated_backups: Value<bool>,
    /// Retention the policy promises; the earliest restorable point must be this old.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub expect_retention_days: Value<i64>,
    /// DB subnet group of the temporary copy, in the region it is restored in.
    #[serde(default)]
    pub db_subnet_group_name: Value<String>,
    /// VPC security groups of the temporary copy.
    #[serde(default)]
    pub vpc_security_group_ids: Value<Vec<Value<String>>>,
    /// DB parameter group of the temporary instance (an Aurora copy's instance).
    #[serde(default)]
    pub parameter_group_name: Value<String>,
    /// DB cluster parameter group of an Aurora copy.
    #[serde(default)]
    pub db_cluster_parameter_group_name: Value<String>,
    /// TLS of the connections: `disable`, `prefer`, `require`, `verify-ca`, `verify-full`.
    #[serde(default)]
    pub tls_mode: Value<String>,
    /// PEM bundle of the CAs `verify-ca`/`verify-full` trust.
    #[serde(default)]
    pub tls_ca_file: Value<String>,
}

impl RdsBlock {
    /// The subnet group, security groups and parameter groups of the copy.
    pub fn placement(&self) -> crate::restore_placement::PlacementArgs<'_> {
        crate::restore_placement::PlacementArgs {
            db_subnet_group_name: &self.db_subnet_group_name,
            vpc_security_group_ids: &self.vpc_security_group_ids,
            parameter_group_name: &self.parameter_group_name,
            db_cluster_parameter_group_name: &self.db_cluster_parameter_group_name,
        }
    }
}

/// `postgres_dump { }`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DumpBlock {
    /// `s3://bucket/prefix/`.
    #[serde(default)]
    pub s3_uri: Value<String>,
    /// Region of the bucket.
    #[serde(default)]
    pub region: Value<String>,
    /// `openssl enc` settings of an encrypted dump.
    #[serde(default, with = "single_block")]
    pub decrypt: Value<DecryptBlock>,
}

/// `mysql_dump { }`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct MysqlDumpBlock {
    /// `s3://bucket/prefix/` or the exact object.
    #[serde(default)]
    pub s3_uri: Value<String>,
    /// Region of the bucket.
    #[serde(default)]
    pub region: Value<String>,
    /// The UTC offset of the dumping host's clock (`UTC`, `+02:00`).
    #[serde(default)]
    pub dump_time_zone: Value<String>,
    /// `openssl enc` settings of an encrypted dump.
    #[serde(default, with = "single_block")]
    pub decrypt: Value<DecryptBlock>,
}

/// `mysql_binlog { }`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct MysqlBinlogBlock {
    /// `s3://bucket/prefix/` of the full dumps, or the exact object.
    #[serde(default)]
    pub base_dump_uri: Value<String>,
    /// `s3://bucket/prefix/` of the archived binlog files.
    #[serde(default)]
    pub binlog_uri: Value<String>,
    /// `latest`, `random` or RFC 3339.
    #[serde(default)]
    pub target_time: Value<String>,
    /// Region of the buckets.
    #[serde(default)]
    pub region: Value<String>,
    /// Directory of the MariaDB server programs.
    #[serde(default)]
    pub bin_dir: Value<String>,
    /// `openssl enc` settings of encrypted dumps.
    #[serde(default, with = "single_block")]
    pub decrypt: Value<DecryptBlock>,
}

/// `evidence { }`: signed, hash-chained records under S3 Object Lock.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceBlock {
    /// `s3://bucket/prefix/` in a bucket with Object Lock.
    #[serde(default)]
    pub s3_uri: Value<String>,
    /// Object Lock retention of each record, in days.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub retain_days: Value<i64>,
    /// `COMPLIANCE` or `GOVERNANCE`.
    #[serde(default)]
    pub lock_mode: Value<String>,
    /// Asymmetric SIGN_VERIFY KMS key.
    #[serde(default)]
    pub kms_key_id: Value<String>,
    /// The chain's folder under the prefix; default `policy_id`.
    #[serde(default)]
    pub name: Value<String>,
}

/// `decrypt { }` of a dump source.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecryptBlock {
    /// `aes-256-cbc`, …
    #[serde(default)]
    pub openssl_cipher: Value<String>,
    /// Name of the environment variable holding the passphrase.
    #[serde(default)]
    pub key_env: Value<String>,
    /// Encrypted with `-pbkdf2`.
    #[serde(default)]
    pub pbkdf2: Value<bool>,
    /// `-iter` of `-pbkdf2`.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub iter: Value<i64>,
    /// `-md`.
    #[serde(default)]
    pub digest: Value<String>,
}

/// `postgres_pitr { }`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct PitrBlock {
    /// `s3://bucket/prefix/`: one folder per `pg_basebackup -Ft -z` run.
    #[serde(default)]
    pub base_backup_uri: Value<String>,
    /// `s3://bucket/prefix/`: the archived WAL segments.
    #[serde(default)]
    pub wal_archive_uri: Value<String>,
    /// `latest`, `random` or RFC 3339.
    #[serde(default)]
    pub target_time: Value<String>,
    /// Region of the buckets.
    #[serde(default)]
    pub region: Value<String>,
    /// Server binaries of the backup's major version.
    #[serde(default)]
    pub pg_bin_dir: Value<String>,
    /// Database the checks run in.
    #[serde(default)]
    pub database: Value<String>,
    /// Role the checks connect as.
    #[serde(default)]
    pub username: Value<String>,
}

/// `target { }`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetBlock {
    /// `postgres`, `mysql` or `mariadb`.
    #[serde(default)]
    pub engine: Value<String>,
    /// Host.
    #[serde(default)]
    pub host: Value<String>,
    /// Port.
    #[serde(default, with = "crate::schema_helpers::whole_number")]
    pub port: Value<i64>,
    /// Database to connect to.
    #[serde(default)]
    pub database: Value<String>,
    /// User.
    #[serde(default)]
    pub username: Value<String>,
    /// Name of the environment variable holding the password.
    #[serde(default)]
    pub password_env: Value<String>,
    /// Directory of pg_restore/psql.
    #[serde(default)]
    pub pg_bin_dir: Value<String>,
    /// TLS of the connections: `disable`, `prefer`, `require`, `verify-ca`, `verify-full`.
    #[serde(default)]
    pub tls_mode: Value<String>,
    /// PEM bundle of the CAs `verify-ca`/`verify-full` trust.
    #[serde(default)]
    pub tls_ca_file: Value<String>,
}

/// `verify { }`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyBlock {
    /// Name.
    #[serde(default)]
    pub name: Value<String>,
    /// SQL.
    #[serde(default)]
    pub sql: Value<String>,
    /// Expectation.
    #[serde(default)]
    pub expect: Value<String>,
    /// Integration test: program and arguments.
    #[serde(default)]
    pub command: Value<Vec<Value<String>>>,
    /// Limit of `command`.
    #[serde(default)]
    pub timeout: Value<String>,
    /// Working directory of `command`.
    #[serde(default)]
    pub working_dir: Value<String>,
}

/// One entry of `verify_results`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifyResultState {
    /// Name.
    pub name: Value<String>,
    /// Expectation.
    pub expect: Value<String>,
    /// Value returned.
    pub value: Value<String>,
    /// Passed.
    pub passed: Value<bool>,
    /// When it ran.
    pub at: Value<String>,
}

/// One entry of `history`.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryState {
    /// Start.
    pub started_at: Value<String>,
    /// Measured RTO.
    pub measured_rto_seconds: Value<Seconds>,
    /// Measured RPO.
    pub measured_rpo_seconds: Value<Seconds>,
    /// Passed.
    pub passed: Value<bool>,
}

/// Default limit for a whole drill.
pub const DEFAULT_TIMEOUT: &str = "2h";

/// A `timeout`-like duration attribute as a std duration (None when unset or malformed).
pub fn parse_duration(v: &Value<String>) -> Option<StdDuration> {
    v.as_ref_option()
        .and_then(|s| s.parse::<Duration>().ok())
        .map(|d| StdDuration::from_secs(d.as_secs()))
}

/// The default limit for a drill.
pub fn default_timeout() -> StdDuration {
    parse_duration(&Value::Value(DEFAULT_TIMEOUT.into())).unwrap_or(StdDuration::from_secs(7200))
}

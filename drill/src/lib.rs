//! The drill engine: restores a backup into a temporary copy, verifies it with SQL,
//! measures the real RTO and RPO, and tears down everything it created, on success,
//! failure, timeout and cancellation alike.
//!
//! ```text
//! DrillSpec --run()--> fetch -> restore -> verify -> teardown --> DrillReport
//! ```
//! Sources: [`Source::PostgresDump`] (the newest object under an S3 prefix, restored into a
//! scratch database with `pg_restore`/`psql`), [`Source::MysqlDump`] (the same for
//! `mysqldump`/`mariadb-dump` files, streamed into the `mariadb`/`mysql` client),
//! [`Source::MysqlBinlog`] (such a dump plus archived binlogs replayed to a point in time on a
//! temporary MariaDB server) and
//! [`Source::Rds`] (point-in-time or snapshot restore into a temporary instance). Checks
//! speak the protocol of the [`Target`]'s [`Engine`]. The provider's `dr_drill` resource is
//! a thin layer over [`run`].

mod archive_plan;
mod base_backup;
pub mod binlog;
pub mod command_check;
mod copy_checks;
pub mod decrypt;
mod dump_drill;
mod dump_workdir;
mod encrypted_dump;
mod engine;
pub mod evidence;
mod expect;
mod mysql;
mod mysql_binlog;
mod mysql_dump;
mod mysql_server;
mod mysql_stream;
mod pitr_drill;
mod pitr_server;
mod postgres;
mod postgres_dump;
mod postgres_pitr;
mod postgres_tls;
mod rds_cluster_restore;
pub mod rds_create;
mod rds_placement;
mod rds_restore;
mod rds_temporary;
mod replicated_backups;
mod report;
mod secret;
pub mod selection;
mod slack;
pub mod tls;
pub mod wal;
mod wal_spool;
mod webhook;

use std::time::Duration;

pub use command_check::CommandCheck;
pub use decrypt::Decrypt;
pub use engine::Engine;
pub use expect::{Expect, ExpectError, Op, Operand};
pub use mysql_binlog::{BinlogDetails, MysqlBinlogSource};
pub use mysql_dump::{parse_utc_offset, MysqlDumpSource};
pub use postgres_pitr::{PitrDetails, PitrSource, PitrTarget};
pub use rds_cluster_restore::RdsClusterSource;
pub use rds_placement::Placement;
pub use report::{DrillReport, HistoryEntry, Phase, TeardownStep, VerifyResult};
pub use secret::Secret;
pub use slack::message as slack_message;
pub use tls::{Tls, TlsMode};
pub use tokio_util::sync::CancellationToken;
pub use webhook::{post_webhook, post_with, Delivered, WebhookFormat, WebhookPolicy};

/// Prefix of everything a drill creates: instance identifiers (`drkit-drill-…`) and scratch
/// databases (`drkit_drill_…`); leftovers of an interrupted drill are found by it.
pub const NAME_PREFIX: &str = "drkit-drill-";
/// Tag put on temporary RDS instances; its value is the run id.
pub const TAG_KEY: &str = "drkit:drill";

/// What to drill.
#[derive(Debug, Clone)]
pub struct DrillSpec {
    /// Name of the drill (for reports).
    pub name: String,
    /// Where the backup comes from.
    pub source: Source,
    /// The server a dump is restored onto (required for `postgres_dump`; for `rds`, the
    /// credentials verification uses against the restored instance).
    pub target: Option<Target>,
    /// Verification queries run against the restored copy.
    pub verify: Vec<Verify>,
    /// `SELECT max(created_at) FROM orders`: the age of its result is the measured RPO.
    pub freshness_sql: Option<String>,
    /// Targets to compare with.
    pub targets: Targets,
    /// Upper bound for the whole drill; teardown still runs after it.
    pub timeout: Duration,
    /// Unique id of this run: names and tags what it creates.
    pub run_id: String,
}

/// RPO and RTO targets.
#[derive(Debug, Clone, Copy)]
pub struct Targets {
    /// Recovery point objective.
    pub rpo: Option<Duration>,
    /// Recovery time objective.
    pub rto: Option<Duration>,
}

/// A backup source.
#[derive(Debug, Clone)]
pub enum Source {
    /// RDS point-in-time or snapshot restore into a temporary instance.
    Rds(RdsSource),
    /// Aurora point-in-time or snapshot restore into a temporary cluster and instance.
    RdsCluster(RdsClusterSource),
    /// The newest `pg_dump` under an S3 prefix.
    PostgresDump(DumpSource),
    /// A base backup plus WAL archive, replayed to a point in time on a temporary server.
    PostgresPitr(PitrSource),
    /// The newest `mysqldump`/`mariadb-dump` SQL file under an S3 prefix.
    MysqlDump(MysqlDumpSource),
    /// A `--source-data=2` dump plus archived binlogs, replayed to a point in time on a
    /// temporary MariaDB server.
    MysqlBinlog(MysqlBinlogSource),
}

/// Which point to restore an RDS instance to.
#[derive(Debug, Clone, PartialEq)]
pub enum RestoreTime {
    /// The latest restorable time.
    Latest,
    /// A random point inside the retention window (proves old points restore too).
    Random,
    /// An explicit time.
    At(time::OffsetDateTime),
    /// The newest snapshot (manual or automated) instead of point-in-time.
    Snapshot,
}

/// An RDS instance to restore.
#[derive(Debug, Clone)]
pub struct RdsSource {
    /// Identifier of the source instance.
    pub instance_identifier: String,
    /// Region of the source instance.
    pub source_region: String,
    /// Region to restore in (the DR region to prove the region-loss path); default the
    /// source's.
    pub restore_region: Option<String>,
    /// Restore point.
    pub restore_time: RestoreTime,
    /// Class of the temporary instance; default the source's.
    pub instance_class: Option<String>,
    /// Restore from the automated backups replicated into `restore_region`.
    pub from_replicated_backups: bool,
    /// Retention the policy promises: the earliest restorable time must be this old.
    pub promised_retention_days: Option<u32>,
    /// Subnet group, security groups and parameter group of the temporary instance, in
    /// `restore_region`.
    pub placement: Placement,
}

/// A `pg_dump` in S3.
#[derive(Debug, Clone)]
pub struct DumpSource {
    /// `s3://bucket/prefix/`: the newest object below is restored.
    pub s3_uri: String,
    /// Region of the bucket.
    pub region: String,
    /// The dump is an `openssl enc` file: how to decrypt it (streamed, never on disk in
    /// plaintext).
    pub decrypt: Option<Decrypt>,
}

/// A database server to restore onto or verify against.
#[derive(Debug, Clone)]
pub struct Target {
    /// The protocol and tools: PostgreSQL, MySQL or MariaDB.
    pub engine: Engine,
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Database to connect to (the scratch database is created from it). MySQL and
    /// MariaDB: empty for none (`rds` checks then qualify their table names).
    pub database: String,
    /// User name.
    pub username: String,
    /// Password (from the environment variable the user named).
    pub password: Option<Secret>,
    /// Directory of `pg_restore`/`psql`; default: PATH, then /usr/lib/postgresql/*/bin.
    pub pg_bin_dir: Option<std::path::PathBuf>,
    /// TLS of every connection to it: the drill's own, the restore tools' and the
    /// environment of `command` checks.
    pub tls: Tls,
}

/// One verification: a query or an integration-test command, run against the copy.
#[derive(Debug, Clone)]
pub struct Verify {
    /// Name shown in reports.
    pub name: String,
    /// What to run.
    pub check: Check,
}

/// What a [`Verify`] runs.
#[derive(Debug, Clone)]
pub enum Check {
    /// SQL whose result must meet `expect`.
    Sql {
        /// SQL run against the restored copy.
        sql: String,
        /// What it must return.
        expect: Expect,
    },
    /// A command that must exit 0, with the copy's `PG*` (or `MYSQL_*`) environment.
    Command(CommandCheck),
}

impl Verify {
    /// A query check.
    pub fn sql(name: impl Into<String>, sql: impl Into<String>, expect: Expect) -> Verify {
        Verify {
            name: name.into(),
            check: Check::Sql {
                sql: sql.into(),
                expect,
            },
        }
    }

    /// A command check.
    pub fn command(name: impl Into<String>, command: CommandCheck) -> Verify {
        Verify {
            name: name.into(),
            check: Check::Command(command),
        }
    }
}

/// AWS clients per region (the provider's client cache implements it).
pub trait Clients: Send + Sync {
    /// An RDS client for `region`.
    fn rds(&self, region: &str) -> aws_sdk_rds::Client;
    /// An S3 client for `region`.
    fn s3(&self, region: &str) -> aws_sdk_s3::Client;
}

/// A drill that did not pass: the error, and the report with every figure measured
/// before it failed (so state and report files keep them).
#[derive(Debug)]
pub struct DrillFailure {
    /// What went wrong, for the user.
    pub error: String,
    /// What was measured and torn down.
    pub report: DrillReport,
}

impl std::fmt::Display for DrillFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.error)
    }
}

/// Runs a drill. Teardown runs on every path; `cancel` (Terraform's StopProvider, Ctrl-C)
/// stops the drill early and still tears down.
pub async fn run(
    spec: &DrillSpec,
    clients: &dyn Clients,
    cancel: &CancellationToken,
) -> Result<DrillReport, DrillFailure> {
    let mut report = DrillReport::start(spec);
    let result = match &spec.source {
        Source::PostgresDump(dump) => {
            postgres_dump::run(spec, dump, clients, cancel, &mut report).await
        }
        Source::Rds(rds) => rds_restore::run(spec, rds, clients, cancel, &mut report).await,
        Source::PostgresPitr(pitr) => {
            postgres_pitr::run(spec, pitr, clients, cancel, &mut report).await
        }
        Source::RdsCluster(c) => {
            rds_cluster_restore::run(spec, c, clients, cancel, &mut report).await
        }
        Source::MysqlDump(dump) => mysql_dump::run(spec, dump, clients, cancel, &mut report).await,
        Source::MysqlBinlog(b) => mysql_binlog::run(spec, b, clients, cancel, &mut report).await,
    };
    report.finish(spec);
    match result {
        Ok(()) if report.verify_results.iter().all(|v| v.passed) => Ok(report),
        Ok(()) => {
            let failed: Vec<String> = report
                .verify_results
                .iter()
                .filter(|v| !v.passed)
                .map(|v| {
                    format!(
                        "{} (got {}, expected {})",
                        v.name,
                        v.value.as_deref().unwrap_or("no value"),
                        v.expect
                    )
                })
                .collect();
            Err(DrillFailure {
                error: format!("verification failed: {}", failed.join("; ")),
                report,
            })
        }
        Err(error) => Err(DrillFailure { error, report }),
    }
}

/// Removes what interrupted drills left behind: temporary RDS instances tagged
/// [`TAG_KEY`] in `regions`, scratch databases on `target`, and the directories and
/// servers of PITR drills whose process is gone. Returns what it removed.
pub async fn sweep_leftovers(
    clients: &dyn Clients,
    regions: &[String],
    target: Option<&Target>,
) -> Vec<String> {
    let mut removed = Vec::new();
    for region in regions {
        removed.extend(rds_restore::sweep(clients, region).await);
        removed.extend(rds_cluster_restore::sweep(clients, region).await);
    }
    if let Some(t) = target {
        removed.extend(match t.engine {
            Engine::Postgres => postgres::sweep(t).await,
            Engine::Mysql | Engine::Mariadb => mysql::sweep(t).await,
        });
    }
    removed.extend(sweep_pitr_leftovers().await);
    removed
}

/// Stops the servers and removes the directories of PITR drills whose process is gone
/// (killed mid-drill); directories of running drills are left alone. Returns what it
/// removed.
pub async fn sweep_pitr_leftovers() -> Vec<String> {
    pitr_server::sweep().await
}

/// `run_id` in lowercase letters and digits, anything else replaced by `sep`: safe in RDS
/// identifiers (`-`) and PostgreSQL database names (`_`).
pub(crate) fn name_safe(run_id: &str, sep: char) -> String {
    run_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                sep
            }
        })
        .collect()
}

/// Waits for `fut` unless `cancel` fires or `deadline` passes first.
pub(crate) async fn guarded<T>(
    cancel: &CancellationToken,
    deadline: tokio::time::Instant,
    what: &str,
    fut: impl std::future::Future<Output = Result<T, String>>,
) -> Result<T, String> {
    tokio::select! {
        r = fut => r,
        _ = cancel.cancelled() => Err(format!("interrupted during {what}; everything created was torn down")),
        _ = tokio::time::sleep_until(deadline) => Err(format!("timed out during {what}; everything created was torn down")),
    }
}

//! Glue between `dr_drill`'s state and the drill engine: the spec from configuration, AWS
//! clients per region, report files and history.

use std::collections::HashMap;
use std::path::Path;

use drkit_drill::decrypt::{Decrypt, DEFAULT_PBKDF2_ITER};
use drkit_drill::{
    CommandCheck, DrillReport, DrillSpec, DumpSource, Engine, HistoryEntry, MysqlBinlogSource,
    MysqlDumpSource, PitrSource, PitrTarget, RdsClusterSource, RdsSource, RestoreTime, Secret,
    Source, Target, Targets, Tls, TlsMode, Verify,
};
use tf_provider::value::Value;
use tf_provider::{AttributePath, Diagnostics};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::aws::AwsClients;
use crate::diagnostics::error;
use crate::state::dr_drill::{default_timeout, parse_duration, DecryptBlock, DrillState};

fn known(v: &Value<String>) -> Option<String> {
    v.as_ref_option().cloned()
}

/// The engine's spec from the planned state; errors point at the attribute.
pub fn spec(diags: &mut Diagnostics, clients: &AwsClients, s: &DrillState) -> Option<DrillSpec> {
    let primary = clients.primary_region().to_string();
    let source = if let Value::Value(r) = &s.rds {
        let restore_time = match r.restore_time.as_ref_option().map(String::as_str) {
            None | Some("latest") => RestoreTime::Latest,
            Some("random") => RestoreTime::Random,
            Some("snapshot") => RestoreTime::Snapshot,
            Some(t) => RestoreTime::At(OffsetDateTime::parse(t, &Rfc3339).ok()?),
        };
        let promised_retention_days = r
            .expect_retention_days
            .as_ref_option()
            .and_then(|d| u32::try_from(*d).ok());
        if let Some(cluster) = known(&r.cluster_identifier) {
            // Aurora restores a cluster in its own region.
            Source::RdsCluster(RdsClusterSource {
                cluster_identifier: cluster,
                region: primary.clone(),
                restore_time,
                instance_class: known(&r.instance_class),
                promised_retention_days,
                placement: r.placement().known(),
            })
        } else {
            Source::Rds(RdsSource {
                instance_identifier: known(&r.instance_identifier)?,
                source_region: primary.clone(),
                restore_region: known(&r.region),
                restore_time,
                instance_class: known(&r.instance_class),
                from_replicated_backups: r.from_replicated_backups == Value::Value(true),
                promised_retention_days,
                placement: r.placement().known(),
            })
        }
    } else if let Value::Value(d) = &s.postgres_dump {
        let decrypt = match &d.decrypt {
            Value::Value(dec) => Some(decrypt(
                diags,
                dec,
                AttributePath::new("postgres_dump")
                    .index(0)
                    .attribute("decrypt")
                    .index(0),
            )?),
            _ => None,
        };
        Source::PostgresDump(DumpSource {
            s3_uri: known(&d.s3_uri)?,
            region: known(&d.region).unwrap_or_else(|| primary.clone()),
            decrypt,
        })
    } else if let Value::Value(p) = &s.postgres_pitr {
        let target_time = pitr_target(&p.target_time)?;
        Source::PostgresPitr(PitrSource {
            base_backup_uri: known(&p.base_backup_uri)?,
            wal_archive_uri: known(&p.wal_archive_uri)?,
            target_time,
            region: known(&p.region).unwrap_or_else(|| primary.clone()),
            pg_bin_dir: known(&p.pg_bin_dir).map(Into::into),
            database: known(&p.database).unwrap_or_else(|| "postgres".into()),
            username: known(&p.username).unwrap_or_else(|| "postgres".into()),
        })
    } else if let Value::Value(d) = &s.mysql_dump {
        let decrypt = match &d.decrypt {
            Value::Value(dec) => Some(decrypt(
                diags,
                dec,
                AttributePath::new("mysql_dump")
                    .index(0)
                    .attribute("decrypt")
                    .index(0),
            )?),
            _ => None,
        };
        Source::MysqlDump(MysqlDumpSource {
            s3_uri: known(&d.s3_uri)?,
            region: known(&d.region).unwrap_or_else(|| primary.clone()),
            decrypt,
            dump_time_zone: match d.dump_time_zone.as_ref_option() {
                Some(z) => drkit_drill::parse_utc_offset(z).ok()?,
                None => time::UtcOffset::UTC,
            },
        })
    } else if let Value::Value(b) = &s.mysql_binlog {
        let decrypt = match &b.decrypt {
            Value::Value(dec) => Some(decrypt(
                diags,
                dec,
                AttributePath::new("mysql_binlog")
                    .index(0)
                    .attribute("decrypt")
                    .index(0),
            )?),
            _ => None,
        };
        Source::MysqlBinlog(MysqlBinlogSource {
            base_dump_uri: known(&b.base_dump_uri)?,
            binlog_uri: known(&b.binlog_uri)?,
            target_time: pitr_target(&b.target_time)?,
            region: known(&b.region).unwrap_or_else(|| primary.clone()),
            decrypt,
            bin_dir: known(&b.bin_dir).map(Into::into),
        })
    } else {
        return None;
    };
    let target = match &s.target {
        Value::Value(t) => {
            let password = match t.password_env.as_ref_option() {
                Some(var) => match std::env::var(var) {
                    Ok(p) => Some(Secret::new(p)),
                    Err(_) => {
                        diags.add_error(error(
                            "Password variable not set",
                            format!("password_env = {var:?}, but the environment of `terraform apply` has no {var}: export it (the password is never stored in state)."),
                            AttributePath::new("target").index(0).attribute("password_env"),
                        ));
                        return None;
                    }
                },
                None => None,
            };
            // A MySQL dump needs no `engine = "mysql"` to say so.
            let engine = match t.engine.as_ref_option() {
                Some(e) => e.parse().ok()?,
                None if matches!(source, Source::MysqlDump(_)) => Engine::Mysql,
                None => Engine::Postgres,
            };
            Some(Target {
                engine,
                host: known(&t.host)?,
                port: t
                    .port
                    .as_ref_option()
                    .map_or(engine.default_port(), |p| *p as u16),
                database: known(&t.database).unwrap_or_else(|| {
                    if engine.is_mysql() {
                        String::new()
                    } else {
                        "postgres".into()
                    }
                }),
                username: known(&t.username)?,
                password,
                pg_bin_dir: known(&t.pg_bin_dir).map(Into::into),
                // An rds drill's checks connect to the copy: its TLS is the rds block's.
                tls: match &s.rds {
                    Value::Value(r) => tls(&r.tls_mode, &r.tls_ca_file)?,
                    _ => tls(&t.tls_mode, &t.tls_ca_file)?,
                },
            })
        }
        _ => None,
    };
    let verify = match &s.verify {
        Value::Value(list) => list
            .iter()
            .filter_map(|v| v.as_ref_option())
            .filter_map(|v| {
                let name = known(&v.name)?;
                match &v.command {
                    Value::Value(argv) => Some(Verify::command(
                        name,
                        CommandCheck {
                            argv: argv
                                .iter()
                                .filter_map(|a| a.as_ref_option().cloned())
                                .collect(),
                            timeout: parse_duration(&v.timeout)
                                .unwrap_or(drkit_drill::command_check::DEFAULT_TIMEOUT),
                            working_dir: known(&v.working_dir).map(Into::into),
                        },
                    )),
                    _ => Some(Verify::sql(
                        name,
                        known(&v.sql)?,
                        v.expect.as_ref_option()?.parse().ok()?,
                    )),
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    let started = OffsetDateTime::now_utc();
    // Unique per run, also between drills of one apply (they run in parallel) and between
    // processes: time, process and a counter.
    static RUNS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let run_id = format!(
        "{}-{}-{}",
        started.unix_timestamp(),
        std::process::id() % 100_000,
        RUNS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    Some(DrillSpec {
        name: known(&s.policy_id).unwrap_or_else(|| "drill".into()),
        source,
        target,
        verify,
        freshness_sql: known(&s.freshness_sql),
        targets: Targets {
            rpo: parse_duration(&s.rpo),
            rto: parse_duration(&s.rto),
        },
        timeout: parse_duration(&s.timeout).unwrap_or_else(default_timeout),
        run_id,
    })
}

/// The TLS settings of a `target` or `rds` block (validated at plan).
fn tls(mode: &Value<String>, ca_file: &Value<String>) -> Option<Tls> {
    Some(Tls {
        mode: match mode.as_ref_option() {
            Some(m) => m.parse().ok()?,
            None => TlsMode::default(),
        },
        ca_file: known(ca_file).map(Into::into),
    })
}

/// The decryption settings, the passphrase read from `key_env` now (never stored).
fn decrypt(diags: &mut Diagnostics, d: &DecryptBlock, path: AttributePath) -> Option<Decrypt> {
    let var = known(&d.key_env)?;
    let Ok(passphrase) = std::env::var(&var) else {
        diags.add_error(error(
            "Decryption key variable not set",
            format!("key_env = {var:?}, but the environment of `terraform apply` has no {var}: export the backup passphrase in it (it is never stored in state)."),
            path.attribute("key_env"),
        ));
        return None;
    };
    Some(Decrypt {
        cipher: d.openssl_cipher.as_ref_option()?.parse().ok()?,
        digest: d
            .digest
            .as_ref_option()
            .map_or(Ok(drkit_drill::decrypt::KeyDigest::Sha256), |m| m.parse())
            .ok()?,
        pbkdf2_iter: (d.pbkdf2 == Value::Value(true)).then(|| {
            d.iter
                .as_ref_option()
                .and_then(|i| u32::try_from(*i).ok())
                .unwrap_or(DEFAULT_PBKDF2_ITER)
        }),
        passphrase: Secret::new(passphrase),
    })
}

/// The regions a drill touches (for clients and the leftover sweep).
pub fn regions(spec: &DrillSpec) -> Vec<String> {
    let mut out = Vec::new();
    match &spec.source {
        Source::Rds(r) => {
            out.push(r.source_region.clone());
            if let Some(x) = &r.restore_region {
                out.push(x.clone());
            }
        }
        Source::RdsCluster(c) => out.push(c.region.clone()),
        Source::PostgresDump(d) => out.push(d.region.clone()),
        Source::PostgresPitr(p) => out.push(p.region.clone()),
        Source::MysqlDump(d) => out.push(d.region.clone()),
        Source::MysqlBinlog(b) => out.push(b.region.clone()),
    }
    out.dedup();
    out
}

/// AWS clients per region, built before the drill (the engine's trait is synchronous).
pub struct DrillClients {
    rds: HashMap<String, aws_sdk_rds::Client>,
    s3: HashMap<String, aws_sdk_s3::Client>,
    fallback: (aws_sdk_rds::Client, aws_sdk_s3::Client),
}

impl DrillClients {
    /// Clients for every region `spec` touches.
    pub async fn load(clients: &AwsClients, spec: &DrillSpec) -> Self {
        let mut rds = HashMap::new();
        let mut s3 = HashMap::new();
        for region in regions(spec) {
            rds.insert(region.clone(), clients.rds(&region).await);
            s3.insert(region.clone(), clients.s3(&region).await);
        }
        let primary = clients.primary_region().to_string();
        let fallback = (clients.rds(&primary).await, clients.s3(&primary).await);
        DrillClients { rds, s3, fallback }
    }
}

impl drkit_drill::Clients for DrillClients {
    fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        self.rds
            .get(region)
            .cloned()
            .unwrap_or_else(|| self.fallback.0.clone())
    }
    fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        self.s3
            .get(region)
            .cloned()
            .unwrap_or_else(|| self.fallback.1.clone())
    }
}

/// This run first, then the runs recorded in `report_file` (it survives replacement),
/// at most `size` entries.
pub fn history(report_file: Option<&Path>, report: &DrillReport, size: usize) -> Vec<HistoryEntry> {
    let mut out = vec![report.history_entry()];
    if let Some(previous) = report_file
        .and_then(|p| std::fs::read(p).ok())
        .and_then(|b| serde_json::from_slice::<DrillReport>(&b).ok())
    {
        out.extend(previous.history);
    }
    out.truncate(size);
    out
}

/// Writes the JSON report and a markdown summary beside it (`report.json` → `report.md`).
pub fn write_report(path: &Path, report: &DrillReport) -> Result<(), String> {
    let json = serde_json::to_string_pretty(&report.to_json()).map_err(|e| e.to_string())?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, json).map_err(|e| format!("{}: {e}", path.display()))?;
    let md = path.with_extension("md");
    std::fs::write(&md, report.to_markdown()).map_err(|e| format!("{}: {e}", md.display()))
}

/// The measured figures against the targets, for diagnostics.
pub fn figures(r: &DrillReport) -> String {
    let f = |v: Option<f64>| v.map_or("not measured".to_string(), |s| format!("{s:.1}s"));
    let mut out = format!(
        "Measured RTO {} (target {}), measured RPO {} (target {}).",
        f(r.measured_rto_seconds),
        f(r.target_rto_seconds),
        f(r.measured_rpo_seconds),
        f(r.target_rpo_seconds)
    );
    for v in r.verify_results.iter().filter(|v| !v.passed) {
        out.push_str(&format!(
            "\nCheck {:?} failed: got {}, expected {}.",
            v.name,
            v.value
                .as_deref()
                .or(v.error.as_deref())
                .unwrap_or("no value"),
            v.expect
        ));
    }
    let torn: Vec<&str> = r
        .teardown
        .iter()
        .filter(|t| t.ok)
        .map(|t| t.what.as_str())
        .collect();
    if !torn.is_empty() {
        out.push_str(&format!("\nTorn down: {}.", torn.join(", ")));
    }
    for t in r.teardown.iter().filter(|t| !t.ok) {
        out.push_str(&format!(
            "\nNOT torn down: {} ({}); the next drill removes it.",
            t.what,
            t.error.as_deref().unwrap_or("unknown error")
        ));
    }
    out
}

/// `target_time` of a PITR source: `latest` (or unset), `random` or an RFC 3339 time
/// (validated at plan).
fn pitr_target(v: &Value<String>) -> Option<PitrTarget> {
    Some(match v.as_ref_option().map(String::as_str) {
        None | Some("latest") => PitrTarget::Latest,
        Some("random") => PitrTarget::Random,
        Some(t) => PitrTarget::At(OffsetDateTime::parse(t, &Rfc3339).ok()?),
    })
}

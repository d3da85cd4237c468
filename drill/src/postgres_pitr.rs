//! `postgres_pitr` drills: a `pg_basebackup -Ft -z` base backup plus the WAL archive its
//! `archive_command` fills, restored to a point in time on a temporary server.
//!
//! ```text
//! plan (list backups + archive, choose, check the sequence) -- nothing local yet
//! fetch   base.tar.gz, pg_wal.tar.gz; WAL prefetch starts into the spool
//! restore extract, recovery settings, recovery.signal
//! replay  postmaster replays via restore_command up to the target, promotes
//! verify  verify checks and freshness_sql against the promoted copy
//! teardown stop (fast, immediate, kill), remove the directory: on every path
//! ```

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::time::Instant;

use crate::archive_plan::{self, Archive, ArchivedObject, BaseBackup, Plan};
use crate::base_backup::{self, Label};
use crate::pitr_drill::{self, PitrEngine, Recovered, Started, Steps};
use crate::pitr_server::{self, Server, Workdir};
use crate::postgres;
use crate::postgres_dump::{download, parse_s3_uri};
use crate::report::rfc3339;
use crate::selection::{self, Listed};
use crate::wal::{self, ArchivedKind, Lsn};
use crate::wal_spool::{self, Prefetch};
use crate::{guarded, CancellationToken, Clients, DrillReport, DrillSpec, Target};

pub use crate::archive_plan::TargetTime as PitrTarget;

/// A base backup and WAL archive in S3.
#[derive(Debug, Clone)]
pub struct PitrSource {
    /// `s3://bucket/prefix/`: one folder per `pg_basebackup -Ft -z` run (`base.tar.gz`,
    /// `pg_wal.tar.gz`, `backup_manifest`).
    pub base_backup_uri: String,
    /// `s3://bucket/prefix/`: the segments `archive_command` uploaded as `%f` (plain,
    /// `.gz` or `.zst`), with `.history` and `.backup` files.
    pub wal_archive_uri: String,
    /// The point to recover to.
    pub target_time: PitrTarget,
    /// Region of both buckets.
    pub region: String,
    /// Server binaries of the backup's major version; default
    /// `/usr/lib/postgresql/<PG_VERSION>/bin`.
    pub pg_bin_dir: Option<std::path::PathBuf>,
    /// Database the checks run in.
    pub database: String,
    /// Role the checks connect as (over the private socket, trusted).
    pub username: String,
}

/// What a PITR drill restored and how replay went (in the report as `pitr`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PitrDetails {
    /// The base backup folder restored.
    pub base_backup: String,
    /// Where its WAL starts (`START WAL LOCATION`) and its timeline.
    pub base_backup_start: String,
    /// When it ended, and from which file that is known.
    pub base_backup_end: String,
    /// The point recovered to (RFC 3339); none for `latest`.
    pub target_time: Option<String>,
    /// Whether the target was chosen at random.
    pub target_random: bool,
    /// First and last archived segment of the replay range.
    pub wal_range: Vec<String>,
    /// Timelines followed.
    pub timelines: Vec<u32>,
    /// Archived files planned (history files and segments).
    pub files_planned: usize,
    /// Segments restore_command handed to the server.
    pub segments_replayed: usize,
    /// Their bytes (decompressed).
    pub bytes_replayed: u64,
    /// Bytes downloaded from the archive (as stored).
    pub bytes_downloaded: u64,
    /// Seconds replay waited for a download (fetch-ahead falling behind).
    pub replay_wait_seconds: f64,
    /// `pg_last_xact_replay_timestamp()` after promotion: the newest transaction recovered.
    pub last_replayed_commit: Option<String>,
    /// Age of the newest archived segment when the drill listed the archive: what a
    /// disaster would lose right now.
    pub archive_lag_seconds: Option<f64>,
    /// The newest archived segment.
    pub newest_segment: Option<String>,
    /// `PG_VERSION` of the backup.
    pub pg_version: Option<String>,
    /// The server log's last lines, when the drill failed.
    pub server_log_tail: Vec<String>,
}

impl PitrDetails {
    /// A markdown section for the report.
    pub fn to_markdown(&self) -> String {
        let mut md = String::from("\n## Point-in-time recovery\n\n");
        md.push_str(&format!(
            "- base backup: {} (start {}, ended {})\n",
            self.base_backup, self.base_backup_start, self.base_backup_end
        ));
        md.push_str(&crate::report::target_line(
            self.target_time.as_deref(),
            self.target_random,
        ));
        md.push_str(&format!(
            "- WAL: {} on timelines {:?}; {} segments, {} bytes replayed; replay waited {:.3}s on downloads\n",
            self.wal_range.join(" .. "),
            self.timelines,
            self.segments_replayed,
            self.bytes_replayed,
            self.replay_wait_seconds
        ));
        md.push_str(&crate::report::last_replayed_line(
            "commit",
            self.last_replayed_commit.as_deref(),
            self.archive_lag_seconds,
        ));
        md.push_str(&crate::report::log_tail_markdown(&self.server_log_tail));
        md
    }
}

/// PostgreSQL's message when the archive ends before a commit after the target.
const TARGET_NOT_REACHED: &str = "recovery ended before configured recovery target was reached";

pub(crate) async fn run(
    spec: &DrillSpec,
    src: &PitrSource,
    clients: &dyn Clients,
    cancel: &CancellationToken,
    report: &mut DrillReport,
) -> Result<(), String> {
    let deadline = Instant::now() + spec.timeout;
    report.phase("fetch");
    let s3 = clients.s3(&src.region);
    // Everything is checked before anything is downloaded or started.
    let (plan, archive_newest) = guarded(
        cancel,
        deadline,
        "listing the base backups and the WAL archive",
        make_plan(&s3, src),
    )
    .await?;
    let details = PitrDetails {
        base_backup: plan.backup.uri.clone(),
        base_backup_start: format!(
            "{} on timeline {}",
            plan.backup.start_lsn, plan.backup.timeline
        ),
        base_backup_end: format!(
            "{} ({})",
            rfc3339(plan.backup.end_time),
            plan.backup.end_time_from
        ),
        target_time: plan.target.map(rfc3339),
        target_random: plan.random,
        wal_range: vec![plan.wal_range.0.clone(), plan.wal_range.1.clone()],
        timelines: plan.timelines.clone(),
        files_planned: plan.files.len(),
        archive_lag_seconds: archive_newest
            .as_ref()
            .map(|o| pitr_drill::archive_lag_seconds(o.uploaded)),
        newest_segment: archive_newest.map(|o| o.key),
        ..PitrDetails::default()
    };
    report.restored_from = Some(plan.backup.uri.clone());
    report.restore_point = plan.target.map(rfc3339);
    report.notes.extend(plan.notes.iter().cloned());
    report.pitr = Some(details.clone());

    let engine = PostgresPitr {
        src,
        s3: &s3,
        plan: &plan,
    };
    let steps = Steps {
        spec,
        cancel,
        deadline,
    };
    pitr_drill::run(&engine, steps, report, details).await
}

/// A planned PITR drill: PostgreSQL's half of the [`pitr_drill`] skeleton.
struct PostgresPitr<'a> {
    src: &'a PitrSource,
    s3: &'a aws_sdk_s3::Client,
    plan: &'a Plan,
}

impl PitrEngine for PostgresPitr<'_> {
    type Details = PitrDetails;
    type Server = Server;
    type Fetcher = Prefetch;
    const SERVER: &'static str = "temporary server";
    const WORKDIR_HOLDS: &'static str = "data directory, WAL spool and downloads";

    fn workdir(&self, run_id: &str) -> Result<Workdir, String> {
        Workdir::create(run_id)
    }

    async fn recover(
        &self,
        steps: &Steps<'_>,
        dir: &Workdir,
        report: &mut DrillReport,
        details: &mut PitrDetails,
        started: &mut Started<Server, Prefetch>,
    ) -> Result<Recovered, String> {
        let (src, s3, plan) = (self.src, self.s3, self.plan);
        let (base_bucket, _) = parse_s3_uri(&src.base_backup_uri)?;
        let (wal_bucket, _) = parse_s3_uri(&src.wal_archive_uri)?;
        // WAL downloads start now and overlap the base backup's.
        let segment_size = plan.segment_size;
        started.fetcher = Some(wal_spool::start(
            s3.clone(),
            wal_bucket,
            plan.files.clone(),
            dir.spool(),
            wal_spool::Limits::for_segment_size(segment_size),
            dir.owner,
        )?);
        let base = dir.downloads().join("base.tar.gz");
        steps
            .guarded(
                "downloading the base backup",
                download(s3, &base_bucket, &plan.backup.base_key, &base),
            )
            .await?;
        let wal_tar = dir.downloads().join("pg_wal.tar.gz");
        if let Some(key) = &plan.backup.wal_key {
            steps
                .guarded(
                    "downloading the base backup's WAL",
                    download(s3, &base_bucket, key, &wal_tar),
                )
                .await?;
        }

        report.phase("restore");
        let data = dir.data();
        steps
            .guarded(
                "extracting the base backup",
                pitr_server::extract(dir, &base, &data),
            )
            .await?;
        let _ = std::fs::remove_file(&base);
        if plan.backup.wal_key.is_some() {
            steps
                .guarded(
                    "extracting the base backup's WAL",
                    pitr_server::extract(dir, &wal_tar, &data.join("pg_wal")),
                )
                .await?;
            let _ = std::fs::remove_file(&wal_tar);
        }
        let tablespace_map =
            std::fs::read_to_string(data.join("tablespace_map")).unwrap_or_default();
        if !tablespace_map.trim().is_empty() {
            return Err(format!(
                "base backup {} has tablespaces (tablespace_map: {}): a drill restores only the main data directory",
                plan.backup.uri,
                tablespace_map.trim()
            ));
        }
        let version = std::fs::read_to_string(data.join("PG_VERSION"))
            .map_err(|e| format!("base backup {} has no PG_VERSION: {e}", plan.backup.uri))?
            .trim()
            .to_string();
        details.pg_version = Some(version.clone());
        let bin = pitr_server::bin_dir(src.pg_bin_dir.as_deref(), &version)?;
        let hba = dir.root.join("pg_hba.drkit.conf");
        write_owned(
            dir,
            &hba,
            "# drkit PITR drill: only the drill, over its private socket directory.\nlocal all all trust\n",
        )?;
        let script = dir.root.join("restore_wal.sh");
        write_owned(dir, &script, &wal_spool::restore_script(&dir.spool()))?;
        set_mode(&script, 0o755)?;
        configure_recovery(dir, &script, plan.target)?;

        report.phase("replay");
        let mut fell_back = false;
        let last_commit = loop {
            started.server = Some(pitr_server::start(dir, &bin, &hba).await?);
            let srv = started.server.as_mut().expect("just started");
            let promoted = steps
                .guarded(
                    "WAL replay",
                    wait_for_promotion(srv, dir, src, started.fetcher.as_ref()),
                )
                .await;
            match promoted {
                Ok(ts) => break ts,
                Err(e) if e.contains(TARGET_NOT_REACHED) && !fell_back && plan.target.is_some() => {
                    // The archive holds no commit after the target: the data at the target is
                    // the data at the archive's end. Replay the rest without a target.
                    fell_back = true;
                    let _ = srv.stop().await;
                    started.server = None;
                    report.notes.push(format!(
                        "the archive holds no transaction after the target {}: recovered to the end of the archive, which is the state at the target",
                        plan.target.map(rfc3339).unwrap_or_default()
                    ));
                    configure_recovery(dir, &script, None)?;
                }
                Err(e) => return Err(e),
            }
        };
        let srv = started.server.as_ref().expect("running");
        details.last_replayed_commit = last_commit.map(rfc3339);
        let measured_at = OffsetDateTime::now_utc();
        match last_commit {
            Some(commit) => {
                let point = plan.target.unwrap_or(measured_at);
                report.set_rpo((point - commit).as_seconds_f64());
                report.rpo_from = Some("the last replayed commit".into());
            }
            None => report.notes.push(
                "no transaction was replayed (pg_last_xact_replay_timestamp() is NULL): the RPO is not measured"
                    .into(),
            ),
        }
        Ok(Recovered {
            target: Target {
                engine: crate::Engine::Postgres,
                host: dir.socket_dir().display().to_string(),
                port: srv.port,
                database: src.database.clone(),
                username: src.username.clone(),
                password: None,
                pg_bin_dir: Some(bin.clone()),
                // Its own server over a private socket: nothing to encrypt against.
                tls: crate::Tls::disabled(),
            },
            database: src.database.clone(),
            point: plan.target,
        })
    }

    fn settle(
        &self,
        dir: &Workdir,
        fetcher: Option<&Prefetch>,
        log_tail: Option<Vec<String>>,
        details: &mut PitrDetails,
    ) {
        if let Some(tail) = log_tail {
            details.server_log_tail = tail;
        }
        if let Some(p) = fetcher {
            details.bytes_downloaded = p.progress.stored_bytes.load(Ordering::Relaxed);
        }
        let taken = wal_spool::taken(&dir.spool(), &self.plan.files);
        details.segments_replayed = taken.len();
        details.bytes_replayed = taken.len() as u64 * self.plan.segment_size;
        details.replay_wait_seconds =
            (wal_spool::waited_seconds(&dir.spool()) * 1000.0).round() / 1000.0;
    }

    fn record(report: &mut DrillReport, details: PitrDetails) {
        report.pitr = Some(details);
    }
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

fn write_owned(dir: &Workdir, path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("{}: {e}", path.display()))?;
    dir.chown(path)
}

/// Begin of the settings the drill appends to `postgresql.auto.conf` (replaced on a retry).
const RECOVERY_MARK: &str = "# drkit PITR drill recovery settings";

/// Writes `recovery.signal` and the recovery settings (`postgresql.auto.conf` is read
/// last, so they win over the backup's own). A Debian-style backup without
/// `postgresql.conf` gets an empty one.
fn configure_recovery(
    dir: &Workdir,
    script: &Path,
    target: Option<OffsetDateTime>,
) -> Result<(), String> {
    let data = dir.data();
    let conf = data.join("postgresql.conf");
    if !conf.exists() {
        write_owned(
            dir,
            &conf,
            "# written by a drkit PITR drill: the backup had no postgresql.conf\n",
        )?;
    }
    let auto = data.join("postgresql.auto.conf");
    let existing = std::fs::read_to_string(&auto).unwrap_or_default();
    let kept = existing
        .split_once(RECOVERY_MARK)
        .map_or(existing.as_str(), |(before, _)| before);
    let mut text = format!(
        "{kept}{RECOVERY_MARK}\nrestore_command = '{} \"%f\" \"%p\"'\nrecovery_target_timeline = 'latest'\n",
        script.display().to_string().replace('\'', "''")
    );
    if let Some(t) = target {
        text.push_str(&format!(
            "recovery_target_time = '{}'\nrecovery_target_action = 'promote'\nrecovery_target_inclusive = true\n",
            pg_timestamp(t)
        ));
    }
    write_owned(dir, &auto, &text)?;
    let _ = std::fs::remove_file(data.join("standby.signal"));
    write_owned(dir, &data.join("recovery.signal"), "")
}

/// `2026-12-03 08:08:15.123456+00`, what `recovery_target_time` reads unambiguously.
fn pg_timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:06}+00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// The log line that says why the server stopped: the first FATAL or PANIC that is not a
/// refused connection ("the database system is in recovery mode" is our own poll being
/// turned away, and follows the startup process's real error), else the last line.
fn why_the_server_stopped(tail: &[String]) -> String {
    tail.iter()
        .find(|l| {
            (l.contains("FATAL:") || l.contains("PANIC:")) && !l.contains("the database system is")
        })
        .or_else(|| tail.last())
        .cloned()
        .unwrap_or_default()
}

/// Waits until the server has promoted, failing when it exits or a download fails;
/// returns `pg_last_xact_replay_timestamp()` read on the promoted server (PostgreSQL keeps
/// it after promotion until a restart).
async fn wait_for_promotion(
    srv: &mut Server,
    dir: &Workdir,
    src: &PitrSource,
    prefetch: Option<&Prefetch>,
) -> Result<Option<OffsetDateTime>, String> {
    let target = Target {
        engine: crate::Engine::Postgres,
        host: dir.socket_dir().display().to_string(),
        port: srv.port,
        database: "postgres".into(),
        username: src.username.clone(),
        password: None,
        pg_bin_dir: None,
        tls: crate::Tls::disabled(),
    };
    loop {
        if let Some(status) = srv.exited() {
            let tail = pitr_server::log_tail(dir, pitr_drill::LOG_TAIL);
            let fatal = why_the_server_stopped(&tail);
            return Err(format!(
                "the temporary server exited during replay ({status}): {fatal}"
            ));
        }
        if let Some(e) = prefetch.and_then(|p| {
            p.progress
                .error
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone()
        }) {
            return Err(format!("fetching WAL for replay failed: {e}"));
        }
        if let Ok(client) = postgres::connect(&target, "postgres").await {
            let row = client
                .query_one(
                    "SELECT pg_is_in_recovery(), extract(epoch FROM pg_last_xact_replay_timestamp())::float8",
                    &[],
                )
                .await;
            if let Ok(row) = row {
                let in_recovery: bool = row.get(0);
                if !in_recovery {
                    let epoch: Option<f64> = row.get(1);
                    return Ok(epoch.and_then(|e| {
                        OffsetDateTime::from_unix_timestamp_nanos((e * 1e9) as i128).ok()
                    }));
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Listing S3: the archive and the base backups
// ---------------------------------------------------------------------------------------

/// Lists both locations, reads what the backups say about themselves, and plans.
async fn make_plan(
    s3: &aws_sdk_s3::Client,
    src: &PitrSource,
) -> Result<(Plan, Option<ArchivedObject>), String> {
    let (archive, labels) = read_archive(s3, &src.wal_archive_uri).await?;
    let backups = read_backups(s3, &src.base_backup_uri, &labels).await?;
    let newest = archive.newest_segment().cloned();
    let plan = archive_plan::plan(&backups, &archive, src.target_time, fastrand::f64)?;
    Ok((plan, newest))
}

/// Every object below `prefix`.
pub(crate) async fn list(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<Listed>, String> {
    let mut out = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            format!(
                "cannot list s3://{bucket}/{prefix}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        })?;
        for o in page.contents() {
            let (Some(key), Some(at)) = (o.key(), o.last_modified()) else {
                continue;
            };
            let modified = OffsetDateTime::from_unix_timestamp(at.secs())
                .map_err(|e| e.to_string())?
                + time::Duration::nanoseconds(at.subsec_nanos().into());
            out.push(Listed {
                key: key.to_string(),
                size: o.size().unwrap_or(0).max(0) as u64,
                modified,
            });
        }
    }
    Ok(out)
}

async fn get_small(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    let obj = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        })?;
    let bytes = obj
        .body
        .collect()
        .await
        .map_err(|e| format!("reading s3://{bucket}/{key}: {e}"))?
        .into_bytes()
        .to_vec();
    let name = key.rsplit('/').next().unwrap_or(key);
    decompress_small(name, bytes)
}

fn decompress_small(name: &str, bytes: Vec<u8>) -> Result<Vec<u8>, String> {
    if name.ends_with(".gz") {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&bytes[..])
            .read_to_end(&mut out)
            .map_err(|e| format!("{name}: not valid gzip: {e}"))?;
        Ok(out)
    } else if name.ends_with(".zst") {
        let mut child = std::process::Command::new("zstd")
            .args(["-d", "-q", "-c"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run zstd for {name}: {e} (install zstd)"))?;
        let mut stdin = child.stdin.take().expect("piped");
        let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &bytes));
        let out = child.wait_with_output().map_err(|e| e.to_string())?;
        let _ = writer.join();
        if !out.status.success() {
            return Err(format!("{name}: not valid zstd"));
        }
        Ok(out.stdout)
    } else {
        Ok(bytes)
    }
}

/// The archive, and the backup history files in it by start location.
async fn read_archive(
    s3: &aws_sdk_s3::Client,
    uri: &str,
) -> Result<(Archive, HashMap<Lsn, (String, Label)>), String> {
    let (bucket, prefix) = parse_s3_uri(uri)?;
    let listed = list(s3, &bucket, &prefix).await?;
    let mut archive = Archive {
        uri: format!("s3://{bucket}/{prefix}"),
        segment_size: wal::DEFAULT_SEGMENT_SIZE,
        ..Archive::default()
    };
    let mut labels = HashMap::new();
    let mut plain_sizes: HashMap<u64, usize> = HashMap::new();
    for l in listed {
        // Only files directly under the prefix, as archive_command writes them (%f).
        let Some(name) = l.key.strip_prefix(&prefix).filter(|n| !n.contains('/')) else {
            continue;
        };
        let Some(file) = wal::classify(name) else {
            continue;
        };
        let object = ArchivedObject {
            key: l.key.clone(),
            file: file.clone(),
            size: l.size,
            uploaded: l.modified,
        };
        match &file.kind {
            ArchivedKind::Segment { .. } => {
                if file.compression == wal::Compression::None {
                    *plain_sizes.entry(l.size).or_default() += 1;
                }
                archive.segments.insert(file.name.clone(), object);
            }
            ArchivedKind::History { timeline } => {
                let text = get_small(s3, &bucket, &l.key).await?;
                archive.histories.insert(
                    *timeline,
                    (object, String::from_utf8_lossy(&text).into_owned()),
                );
            }
            ArchivedKind::BackupHistory { .. } => {
                let text = get_small(s3, &bucket, &l.key).await?;
                let label = base_backup::parse_label(&String::from_utf8_lossy(&text));
                if let Some(start) = label.start_lsn {
                    labels.insert(start, (file.name.clone(), label));
                }
            }
            ArchivedKind::Partial => {}
        }
    }
    // Plain segments are exactly wal_segment_size long.
    if let Some((size, _)) = plain_sizes
        .into_iter()
        .filter(|(s, _)| wal::valid_segment_size(*s))
        .max_by_key(|(_, n)| *n)
    {
        archive.segment_size = size;
    }
    Ok((archive, labels))
}

/// Every base backup under `uri`: a folder holding `base.tar.gz` (or `base.tar`).
async fn read_backups(
    s3: &aws_sdk_s3::Client,
    uri: &str,
    labels: &HashMap<Lsn, (String, Label)>,
) -> Result<Vec<BaseBackup>, String> {
    let (bucket, prefix) = parse_s3_uri(uri)?;
    let listed = list(s3, &bucket, &prefix).await?;
    let mut backups = Vec::new();
    for selection::BackupFolder {
        folder,
        base,
        files,
    } in selection::base_backups(&listed)
    {
        let base_key = base.key;
        let folder_uri = format!("s3://{bucket}/{folder}/");
        let manifest = match files.get("backup_manifest") {
            Some(k) => Some(
                base_backup::parse_manifest(&get_small(s3, &bucket, k).await?)
                    .map_err(|e| format!("{folder_uri}: {e}"))?,
            ),
            None => None,
        };
        let label = match &manifest {
            Some(_) => None,
            None => Some(read_label(s3, &bucket, &base_key).await?),
        };
        let start_lsn = manifest
            .as_ref()
            .map(|m| m.start_lsn)
            .or(label.as_ref().and_then(|l| l.start_lsn))
            .ok_or_else(|| format!("{folder_uri}: neither backup_manifest nor backup_label gives START WAL LOCATION"))?;
        let timeline = manifest
            .as_ref()
            .map(|m| m.timeline)
            .or(label.as_ref().and_then(|l| l.start_timeline))
            .unwrap_or(1);
        let history = labels.get(&start_lsn);
        let (end_time, end_time_from) = if let Some(stop) = history.and_then(|(_, h)| h.stop_time) {
            // STOP TIME is truncated to the second: the backup ended within it.
            (
                stop + time::Duration::seconds(1),
                format!(
                    "STOP TIME of {}",
                    history.map(|(n, _)| n.as_str()).unwrap_or("")
                ),
            )
        } else if let Some(copied) = manifest.as_ref().and_then(|m| m.control_copied_at) {
            // pg_control is the last file copied; its time is truncated to the second.
            (
                copied + time::Duration::seconds(1),
                "backup_manifest: global/pg_control copied".to_string(),
            )
        } else if let Some(start) = label.as_ref().and_then(|l| l.start_time) {
            (
                start,
                "backup_label START TIME (no manifest or backup history file: the end is later)"
                    .to_string(),
            )
        } else {
            return Err(format!(
                "{folder_uri}: no backup history file in the archive, manifest or backup_label tells when the backup ended"
            ));
        };
        let start_time = history
            .and_then(|(_, h)| h.start_time)
            .or(label.as_ref().and_then(|l| l.start_time));
        let end_lsn = manifest
            .as_ref()
            .map(|m| m.end_lsn)
            .or(history.and_then(|(_, h)| h.stop_lsn));
        backups.push(BaseBackup {
            uri: folder_uri,
            base_key,
            wal_key: files
                .get("pg_wal.tar.gz")
                .or_else(|| files.get("pg_wal.tar"))
                .cloned(),
            timeline,
            start_lsn,
            end_lsn,
            start_time,
            end_time,
            end_time_from,
        });
    }
    Ok(backups)
}

/// `backup_label` from the first blocks of `base.tar.gz` (it is the tar's first member).
async fn read_label(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Label, String> {
    let obj = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .range("bytes=0-262143")
        .send()
        .await
        .map_err(|e| {
            format!(
                "cannot read s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        })?;
    let head = obj
        .body
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .into_bytes();
    let member = if key.ends_with(".gz") {
        base_backup::read_tar_member(
            flate2::read::GzDecoder::new(&head[..]),
            "backup_label",
            64 << 10,
        )
    } else {
        base_backup::read_tar_member(&head[..], "backup_label", 64 << 10)
    }
    .map_err(|e| format!("s3://{bucket}/{key}: {e}"))?
    .ok_or_else(|| {
        format!(
            "s3://{bucket}/{key}: no backup_label near the start: is it a pg_basebackup -Ft tar?"
        )
    })?;
    Ok(base_backup::parse_label(&String::from_utf8_lossy(&member)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn recovery_target_time_is_written_in_utc_with_microseconds() {
        assert_eq!(
            pg_timestamp(datetime!(2026-12-03 09:08:15.1234567 +01:00)),
            "2026-12-03 08:08:15.123456+00"
        );
    }

    #[test]
    fn the_startup_process_error_is_chosen_over_a_refused_poll() {
        // The order PostgreSQL 15 wrote when the archive ended before the target and a
        // poll connected while the postmaster was going down (seen in CI).
        let tail: Vec<String> = [
            "LOG:  redo done at 0/4000108",
            "FATAL:  recovery ended before configured recovery target was reached",
            "LOG:  startup process (PID 11574) exited with exit code 1",
            "FATAL:  the database system is in recovery mode",
            "LOG:  database system is shut down",
        ]
        .map(String::from)
        .to_vec();
        assert!(why_the_server_stopped(&tail).contains(TARGET_NOT_REACHED));
        let refused_only: Vec<String> = ["FATAL:  the database system is starting up", "LOG:  bye"]
            .map(String::from)
            .to_vec();
        assert_eq!(why_the_server_stopped(&refused_only), "LOG:  bye");
    }

    #[test]
    fn small_files_are_decompressed_by_their_suffix() {
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"1\t0/5000000\treason\n").unwrap();
        let gz = enc.finish().unwrap();
        assert_eq!(
            decompress_small("00000002.history.gz", gz).unwrap(),
            b"1\t0/5000000\treason\n"
        );
        assert_eq!(decompress_small("x", b"plain".to_vec()).unwrap(), b"plain");
    }
}

//! A `postgres_pitr` drill against a hand-made point-in-time recovery of the same base
//! backup and WAL: how much the drill's replay (fed by its fetch-ahead spool from S3) costs
//! against `restore_command = 'cp'` from a local directory.
//!
//! A PostgreSQL 15 cluster archives into moto S3; a `pg_basebackup -Ft -z` is taken and
//! uploaded; then a workload writes about `--wal-mb` MB of WAL. `--runs` times each:
//! the baseline (extract, local WAL copied beforehand, `restore_command = 'cp'`, replay to
//! the end of the archive, promotion) and the drill (`target_time = "latest"`). Prints
//! medians of the replay phase (server start to promotion), the ratio, and the time the
//! drill's replay waited on downloads. Asserts nothing (noisy machines).
//!
//! `bench_pitr [--wal-mb 256] [--runs 3] [--smoke]`; `bench/drill-pitr` builds and runs it.

// A benchmark tool: its report is its stdout.
#![allow(clippy::print_stdout)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use drkit_drill::{
    run, CancellationToken, Clients, DrillSpec, PitrSource, PitrTarget, Source, Targets,
};
use drkit_testkit::{upload_base_backup, ArchivingPostgres, Moto, WalCompression};

struct S3Only(aws_sdk_s3::Client);

impl Clients for S3Only {
    fn rds(&self, _region: &str) -> aws_sdk_rds::Client {
        unreachable!("a PITR drill makes no RDS call")
    }
    fn s3(&self, _region: &str) -> aws_sdk_s3::Client {
        self.0.clone()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn is_root() -> bool {
    std::fs::metadata("/proc/self")
        .map(|m| std::os::unix::fs::MetadataExt::uid(&m) == 0)
        .unwrap_or(false)
}

fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn checked(cmd: &mut Command) -> Result<String> {
    let out = cmd.output().with_context(|| format!("{cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn give_to_postgres(path: &Path) -> Result<()> {
    if is_root() {
        checked(
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(path),
        )?;
    }
    Ok(())
}

async fn download_all(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    to: &Path,
) -> Result<()> {
    let listed = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await?;
    for o in listed.contents() {
        let key = o.key().context("key")?;
        let name = key.rsplit('/').next().unwrap_or(key);
        let body = s3.get_object().bucket(bucket).key(key).send().await?;
        let bytes = body.body.collect().await?.into_bytes();
        std::fs::write(to.join(name), bytes)?;
    }
    Ok(())
}

/// The hand-made recovery: returns (extract seconds, replay seconds).
fn baseline(bin: &Path, base: &Path, wal: &Path) -> Result<(f64, f64)> {
    let dir = tempfile::Builder::new()
        .prefix("drkit-bench-pitr-")
        .tempdir()?;
    let data = dir.path().join("data");
    let sock = dir.path().join("sock");
    std::fs::create_dir(&data)?;
    std::fs::create_dir(&sock)?;
    std::fs::set_permissions(&data, std::os::unix::fs::PermissionsExt::from_mode(0o700))?;
    give_to_postgres(dir.path())?;
    let started = Instant::now();
    for (tar, into) in [
        ("base.tar.gz", data.clone()),
        ("pg_wal.tar.gz", data.join("pg_wal")),
    ] {
        checked(
            as_postgres(Path::new("tar"))
                .arg("-xzf")
                .arg(base.join(tar))
                .arg("-C")
                .arg(&into),
        )?;
    }
    let extract = started.elapsed().as_secs_f64();
    let mut auto = std::fs::read_to_string(data.join("postgresql.auto.conf")).unwrap_or_default();
    auto.push_str(&format!(
        "restore_command = 'cp {}/%f \"%p\"'\nrecovery_target_timeline = 'latest'\n",
        wal.display()
    ));
    std::fs::write(data.join("postgresql.auto.conf"), auto)?;
    std::fs::write(data.join("recovery.signal"), "")?;
    give_to_postgres(&data)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let started = Instant::now();
    let mut server = as_postgres(&bin.join("postgres"))
        .arg("-D")
        .arg(&data)
        .args(["-c", &format!("port={port}"), "-c", "listen_addresses="])
        .arg("-c")
        .arg(format!("unix_socket_directories={}", sock.display()))
        .args(["-c", "archive_mode=off"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()?;
    let replay = loop {
        let out = as_postgres(&bin.join("psql"))
            .arg("-h")
            .arg(&sock)
            .args(["-p", &port.to_string(), "-U", "postgres", "-XAtc"])
            .arg("SELECT pg_is_in_recovery()")
            .output()?;
        if String::from_utf8_lossy(&out.stdout).trim() == "f" {
            break started.elapsed().as_secs_f64();
        }
        if let Some(status) = server.try_wait()? {
            bail!("the baseline server exited: {status}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    checked(as_postgres(&bin.join("pg_ctl")).arg("-D").arg(&data).args([
        "-m",
        "immediate",
        "-w",
        "stop",
    ]))?;
    let _ = server.wait();
    Ok((extract, replay))
}

#[tokio::main]
async fn main() -> Result<()> {
    let smoke = std::env::args().any(|a| a == "--smoke");
    let wal_mb = if smoke { 32 } else { arg("--wal-mb", 256) };
    let runs = if smoke { 1 } else { arg("--runs", 3) as usize };
    let moto = Moto::start()?;
    let s3 = moto.s3("us-east-1").await;
    for b in ["pg-backups", "wal-archive"] {
        s3.create_bucket().bucket(b).send().await?;
    }
    let pg = ArchivingPostgres::start(moto.port(), "wal-archive", "", WalCompression::None)?;
    pg.psql("postgres", "CREATE DATABASE shop")?;
    pg.psql("shop", "CREATE TABLE filler (id int, pad text)")?;
    pg.switch_and_archive()?;
    let backup = pg.base_backup("bench")?;
    upload_base_backup(&s3, &backup, "pg-backups", "base/bench").await?;
    // ~600 bytes of WAL per row, committed in batches.
    let rows_per_batch = 20_000u64;
    let batches = (wal_mb * 1024 * 1024 / 600 / rows_per_batch).max(1);
    for b in 0..batches {
        pg.psql(
            "shop",
            &format!(
                "INSERT INTO filler SELECT g, repeat('x', 500) FROM generate_series({}, {}) g",
                b * rows_per_batch,
                (b + 1) * rows_per_batch - 1
            ),
        )?;
    }
    let last = pg.switch_and_archive()?;
    std::thread::sleep(Duration::from_millis(1100));
    let bin = pg.bin_dir().to_path_buf();

    // Local copies for the baseline (not timed: a hand-made restore has them already).
    let local = tempfile::Builder::new()
        .prefix("drkit-bench-pitr-in-")
        .tempdir()?;
    let (base_dir, wal_dir) = (local.path().join("base"), local.path().join("wal"));
    std::fs::create_dir(&base_dir)?;
    std::fs::create_dir(&wal_dir)?;
    download_all(&s3, "pg-backups", "base/bench/", &base_dir).await?;
    download_all(&s3, "wal-archive", "", &wal_dir).await?;
    give_to_postgres(local.path())?;
    let segments = std::fs::read_dir(&wal_dir)?
        .flatten()
        .filter(|e| e.file_name().len() == 24)
        .count();
    println!(
        "WAL: {segments} segments ({} MB) up to {last}, base backup {:.1} MB",
        segments * 16,
        std::fs::metadata(base_dir.join("base.tar.gz"))?.len() as f64 / 1e6
    );

    let (mut base_replay, mut base_extract) = (Vec::new(), Vec::new());
    let (mut drill_replay, mut drill_restore, mut drill_fetch, mut waited, mut rto) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let clients = S3Only(s3.clone());
    for i in 0..runs {
        let (e, r) = baseline(&bin, &base_dir, &wal_dir)?;
        base_extract.push(e);
        base_replay.push(r);
        let spec = DrillSpec {
            name: "bench".into(),
            source: Source::PostgresPitr(PitrSource {
                base_backup_uri: "s3://pg-backups/base/".into(),
                wal_archive_uri: "s3://wal-archive/".into(),
                target_time: PitrTarget::Latest,
                region: "us-east-1".into(),
                pg_bin_dir: Some(bin.clone()),
                database: "shop".into(),
                username: "postgres".into(),
            }),
            target: None,
            verify: Vec::new(),
            freshness_sql: None,
            targets: Targets {
                rpo: None,
                rto: None,
            },
            timeout: Duration::from_secs(3600),
            run_id: format!("bench-{i}"),
        };
        let report = run(&spec, &clients, &CancellationToken::new())
            .await
            .map_err(|f| anyhow::anyhow!("drill failed: {f}"))?;
        let phase = |n: &str| {
            report
                .phases
                .iter()
                .find(|p| p.name == n)
                .map_or(0.0, |p| p.seconds)
        };
        drill_fetch.push(phase("fetch"));
        drill_restore.push(phase("restore"));
        drill_replay.push(phase("replay"));
        rto.push(report.measured_rto_seconds.unwrap_or(0.0));
        let pitr = report.pitr.as_ref().context("pitr details")?;
        waited.push(pitr.replay_wait_seconds);
        println!(
            "run {i}: baseline replay {r:.2}s, drill replay {:.2}s (waited {:.2}s, {} segments)",
            phase("replay"),
            pitr.replay_wait_seconds,
            pitr.segments_replayed
        );
    }
    let (b, d) = (median(base_replay), median(drill_replay));
    println!("\n| step | median of {runs} |\n|---|---|");
    println!(
        "| baseline: extract (tar -xzf base + pg_wal) | {:.2} s |",
        median(base_extract)
    );
    println!(
        "| baseline: replay (start, restore_command = 'cp' from local, promoted) | {b:.2} s |"
    );
    println!(
        "| drill: fetch (list, plan, download base; WAL prefetch starts) | {:.2} s |",
        median(drill_fetch)
    );
    println!(
        "| drill: restore (extract, recovery settings) | {:.2} s |",
        median(drill_restore)
    );
    println!("| drill: replay (start, restore_command from the spool, promoted) | {d:.2} s, {:.2}x the baseline |", d / b);
    println!(
        "| drill: replay waited on downloads | {:.2} s |",
        median(waited)
    );
    println!("| drill: measured RTO | {:.2} s |", median(rto));
    Ok(())
}

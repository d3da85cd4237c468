//! A `mysql_binlog` drill's replay against the same binlogs replayed by hand, in one run on
//! one machine: how much the drill adds to the `mariadb-binlog | mariadb` it has to do anyway.
//!
//! A MariaDB server with its binary log on gets a table, a `--master-data=2 --databases`
//! dump, then `--mb` megabytes of binlog (row format; transactions of 1,000 rows of 200
//! bytes), all stored in moto S3. Then, `--runs` times each: a fresh server with the dump
//! restored, and `mariadb-binlog --start-position=<pos> <files> | mariadb` timed (the
//! baseline); and a drill to `latest`, whose `replay` phase is the same work. Prints
//! medians, the drill's phases and the ratio; asserts nothing (noisy machines).
//!
//! `bench_binlog [--mb 200] [--runs 3] [--smoke]`; `bench/drill-binlog` builds and runs it.

// A benchmark tool: its report is its stdout.
#![allow(clippy::print_stdout)]

use std::collections::HashMap;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use drkit_drill::{
    run, CancellationToken, Clients, DrillSpec, MysqlBinlogSource, PitrTarget, Source, Targets,
    Verify,
};
use drkit_testkit::{MariaDb, Moto};

struct MotoClients {
    s3: aws_sdk_s3::Client,
    rds: aws_sdk_rds::Client,
}

impl Clients for MotoClients {
    fn rds(&self, _region: &str) -> aws_sdk_rds::Client {
        self.rds.clone()
    }
    fn s3(&self, _region: &str) -> aws_sdk_s3::Client {
        self.s3.clone()
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// The binlog files of `db` and their total size.
fn binlogs(db: &MariaDb) -> Result<(Vec<String>, u64)> {
    let mut names: Vec<String> = std::fs::read_dir(db.data_dir())?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("mysql-bin.") && !n.ends_with(".index"))
        .collect();
    names.sort();
    let mut bytes = 0;
    for n in &names {
        bytes += std::fs::metadata(db.data_dir().join(n))?.len();
    }
    Ok((names, bytes))
}

#[tokio::main]
async fn main() -> Result<()> {
    let (mut mb, mut runs) = (200u64, 3usize);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--mb" => mb = it.next().context("--mb N")?.parse()?,
            "--runs" => runs = it.next().context("--runs N")?.parse()?,
            "--smoke" => (mb, runs) = (2, 1),
            other => bail!("unknown argument {other}: use --mb 200 --runs 3 --smoke"),
        }
    }
    let (source, moto) = (MariaDb::start_with_binlog()?, Moto::start()?);
    source.sql(None, "CREATE DATABASE bench")?;
    source.sql(
        Some("bench"),
        "CREATE TABLE events (id BIGINT AUTO_INCREMENT PRIMARY KEY, payload VARCHAR(255))",
    )?;
    source.sql(None, "FLUSH BINARY LOGS")?;
    let dump = source.dump(&[
        "--single-transaction",
        "--master-data=2",
        "--databases",
        "bench",
    ])?;
    let position = drkit_drill::binlog::parse_coordinates(&String::from_utf8_lossy(&dump))
        .context("the dump has coordinates")?;
    eprintln!("bench_binlog: writing {mb} MB of binlog ...");
    let statements = (mb * 4).clamp(1, 50);
    let batch: String = (0..statements)
        .map(|_| "INSERT INTO events (payload) SELECT REPEAT('x', 200) FROM seq_1_to_1000;")
        .collect();
    loop {
        source.sql(Some("bench"), &batch)?;
        if binlogs(&source)?.1 >= mb << 20 {
            break;
        }
    }
    source.sql(None, "FLUSH BINARY LOGS")?;
    let rows: u64 = source
        .sql(Some("bench"), "SELECT count(*) FROM events")?
        .parse()?;
    let (names, bytes) = binlogs(&source)?;
    let names: Vec<String> = names.into_iter().filter(|n| *n >= position.file).collect();

    let s3 = moto.s3("us-east-1").await;
    s3.create_bucket().bucket("bench").send().await?;
    s3.put_object()
        .bucket("bench")
        .key("full/bench.sql")
        .body(dump.clone().into())
        .send()
        .await?;
    for n in &names {
        let body = aws_sdk_s3::primitives::ByteStream::from_path(source.data_dir().join(n)).await?;
        s3.put_object()
            .bucket("bench")
            .key(format!("binlog/{n}"))
            .body(body)
            .send()
            .await?;
    }
    let clients = MotoClients {
        s3,
        rds: moto.rds("us-east-1").await,
    };

    let mut hand = Vec::new();
    let mut phases: HashMap<String, Vec<f64>> = HashMap::new();
    let mut totals = Vec::new();
    for i in 0..runs {
        // The baseline: a fresh server with the dump, then the binlogs piped by hand.
        let copy = MariaDb::start()?;
        let mut restore = copy.client("mariadb")?;
        restore.stdin(Stdio::piped());
        let mut child = restore.spawn()?;
        std::io::Write::write_all(child.stdin.as_mut().context("stdin")?, &dump)?;
        drop(child.stdin.take());
        if !child.wait()?.success() {
            bail!("restoring the dump by hand failed");
        }
        let files: Vec<_> = names.iter().map(|n| source.data_dir().join(n)).collect();
        let started = Instant::now();
        let mut decoder =
            std::process::Command::new(drkit_testkit::tools::mariadb_program("mariadb-binlog")?)
                .arg("--no-defaults")
                .arg(format!("--start-position={}", position.position))
                .args(&files)
                .stdout(Stdio::piped())
                .spawn()?;
        let mut client = copy.client("mariadb")?;
        let replayed = client
            .arg("--binary-mode")
            .stdin(decoder.stdout.take().context("stdout")?)
            .status()?;
        let decoded = decoder.wait()?;
        if !replayed.success() || !decoded.success() {
            bail!("replay by hand failed ({decoded}, {replayed})");
        }
        hand.push(started.elapsed().as_secs_f64());
        let counted: u64 = copy
            .sql(Some("bench"), "SELECT count(*) FROM events")?
            .parse()?;
        if counted != rows {
            bail!("replay by hand restored {counted} rows, not {rows}");
        }
        drop(copy);

        let spec = DrillSpec {
            name: "bench".into(),
            source: Source::MysqlBinlog(MysqlBinlogSource {
                base_dump_uri: "s3://bench/full/".into(),
                binlog_uri: "s3://bench/binlog/".into(),
                target_time: PitrTarget::Latest,
                region: "us-east-1".into(),
                decrypt: None,
                bin_dir: None,
            }),
            target: None,
            verify: vec![Verify::sql(
                "rows",
                "SELECT count(*) FROM events",
                format!("= {rows}").parse().map_err(anyhow::Error::msg)?,
            )],
            freshness_sql: None,
            targets: Targets {
                rpo: None,
                rto: None,
            },
            timeout: Duration::from_secs(7200),
            run_id: format!("bench-binlog-{i}"),
        };
        let started = Instant::now();
        let report = run(&spec, &clients, &CancellationToken::new())
            .await
            .map_err(|f| anyhow::anyhow!("drill failed: {}", f.error))?;
        totals.push(started.elapsed().as_secs_f64());
        for p in &report.phases {
            phases.entry(p.name.clone()).or_default().push(p.seconds);
        }
    }

    let base = median(hand);
    println!(
        "binlog replay: {:.1} MB of binlog in {} files ({rows} rows), {runs} run(s), medians in seconds",
        bytes as f64 / 1048576.0,
        names.len()
    );
    println!("  mariadb-binlog | mariadb by hand {base:>8.2}");
    println!("  drill, whole                    {:>8.2}", median(totals));
    for name in ["fetch", "restore", "replay", "verify", "teardown"] {
        if let Some(v) = phases.remove(name) {
            let m = median(v);
            let ratio = if name == "replay" {
                format!("   {:.2}x the replay by hand", m / base)
            } else {
                String::new()
            };
            println!("    {name:<28} {m:>8.2}{ratio}");
        }
    }
    Ok(())
}

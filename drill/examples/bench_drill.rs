//! A `postgres_dump` drill against plain `pg_restore` of the same dump, in one run on one
//! machine: how much a drill adds to the restore it has to do anyway.
//!
//! A pgbench database of `--scale` (68 is about 1 GB) is dumped with `pg_dump -Fc` and the
//! dump stored in moto S3. Then, `--runs` times each: `CREATE DATABASE` and
//! `pg_restore --jobs=<cores>` from the local file (the baseline), and a drill (find the newest dump, download
//! it, create the scratch database, `pg_restore --jobs`, verify the row count, drop it).
//! Prints medians, the drill's phases and the ratios; asserts nothing (noisy machines).
//!
//! `bench_drill [--scale 68] [--runs 3] [--smoke]`; `bench/drill` builds and runs it.

// A benchmark tool: its report is its stdout.
#![allow(clippy::print_stdout)]

mod bench_support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use bench_support::{check, median, MotoClients};
use drkit_drill::{
    run, CancellationToken, DrillSpec, DumpSource, Secret, Source, Target, Targets, Verify,
};
use drkit_testkit::{Moto, Postgres};

#[tokio::main]
async fn main() -> Result<()> {
    let (mut scale, mut runs) = (68u32, 3usize);
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--scale" => scale = it.next().context("--scale N")?.parse()?,
            "--runs" => runs = it.next().context("--runs N")?.parse()?,
            "--smoke" => (scale, runs) = (1, 1),
            other => bail!("unknown argument {other}: use --scale 68 --runs 3 --smoke"),
        }
    }
    let jobs = std::thread::available_parallelism().map_or(2, |n| n.get().clamp(1, 8));
    let (pg, moto) = (Postgres::start()?, Moto::start()?);

    eprintln!("bench_drill: pgbench -i -s {scale} ...");
    pg.psql("postgres", "CREATE DATABASE bench")?;
    check(
        pg.client("pgbench")
            .args(["-i", "-q", "-s", &scale.to_string(), "bench"])
            .output()?,
        "pgbench -i",
    )?;
    let db_bytes: f64 = pg
        .psql("postgres", "SELECT pg_database_size('bench')")?
        .parse()?;
    let dir = tempfile::tempdir()?;
    let dump = dir.path().join("bench.dump");
    let started = Instant::now();
    check(
        pg.client("pg_dump")
            .args(["-Fc", "-d", "bench", "-f"])
            .arg(&dump)
            .output()?,
        "pg_dump",
    )?;
    let dump_secs = started.elapsed().as_secs_f64();
    let dump_bytes = std::fs::metadata(&dump)?.len() as f64;

    let s3 = moto.s3("us-east-1").await;
    s3.create_bucket().bucket("backups").send().await?;
    s3.put_object()
        .bucket("backups")
        .key("nightly/bench.dump")
        .body(aws_sdk_s3::primitives::ByteStream::from_path(&dump).await?)
        .send()
        .await?;
    let clients = MotoClients {
        s3,
        rds: moto.rds("us-east-1").await,
    };
    let rows = u64::from(scale) * 100_000;

    let mut baseline = Vec::new();
    let mut total = Vec::new();
    let mut phases: HashMap<String, Vec<f64>> = HashMap::new();
    for i in 0..runs {
        // The baseline is what a person would run by hand: create a database, pg_restore.
        let db = format!("baseline_{i}");
        let start = Instant::now();
        pg.psql("postgres", &format!("CREATE DATABASE {db}"))?;
        check(
            pg.client("pg_restore")
                .args(["--no-owner", &format!("--jobs={jobs}"), "-d", &db])
                .arg(&dump)
                .output()?,
            "pg_restore",
        )?;
        baseline.push(start.elapsed().as_secs_f64());
        pg.psql("postgres", &format!("DROP DATABASE {db}"))?;

        let spec = DrillSpec {
            name: "bench".into(),
            source: Source::PostgresDump(DumpSource {
                s3_uri: "s3://backups/nightly/".into(),
                region: "us-east-1".into(),
                decrypt: None,
            }),
            target: Some(Target {
                engine: drkit_drill::Engine::Postgres,
                host: pg.host().to_string(),
                port: pg.port(),
                database: "postgres".into(),
                username: pg.user().to_string(),
                password: Some(Secret::new(pg.password())),
                pg_bin_dir: Some(pg.bin_dir().to_path_buf()),
                tls: drkit_drill::Tls::disabled(),
            }),
            verify: vec![Verify::sql(
                "every account restored",
                "SELECT count(*) FROM pgbench_accounts",
                format!("= {rows}").parse()?,
            )],
            freshness_sql: None,
            targets: Targets {
                rpo: None,
                rto: None,
            },
            timeout: Duration::from_secs(3600),
            run_id: format!("bench-{i}"),
        };
        let start = Instant::now();
        let report = run(&spec, &clients, &CancellationToken::new())
            .await
            .map_err(|f| anyhow::anyhow!("the drill failed: {f}"))?;
        total.push(start.elapsed().as_secs_f64());
        for p in &report.phases {
            phases.entry(p.name.clone()).or_default().push(p.seconds);
        }
    }

    let base = median(baseline);
    let drill = median(total);
    println!(
        "postgres_dump drill vs pg_restore --jobs={jobs}: pgbench scale {scale}, database {:.0} MB, \
         dump {:.1} MB (pg_dump -Fc {dump_secs:.1} s); median of {runs} runs, seconds",
        db_bytes / 1e6,
        dump_bytes / 1e6
    );
    println!("  createdb + pg_restore          {base:>8.2}");
    println!(
        "  drill, whole                   {drill:>8.2}   ratio {:.2}",
        drill / base
    );
    let mut rto = 0.0;
    for name in ["fetch", "restore", "verify", "teardown"] {
        if let Some(v) = phases.remove(name) {
            let m = median(v);
            if name != "teardown" {
                rto += m;
            }
            let ratio = if name == "restore" {
                format!("   ratio {:.2} (createdb + the same pg_restore)", m / base)
            } else {
                String::new()
            };
            println!("    {name:<28} {m:>8.2}{ratio}");
        }
    }
    println!(
        "  drill's measured RTO           {rto:>8.2}   ratio {:.2} (fetch + restore + verify)",
        rto / base
    );
    Ok(())
}

//! `postgres_pitr` drills against real parts: a PostgreSQL 15 cluster archiving every WAL
//! segment into a moto S3 bucket through its `archive_command`, a real
//! `pg_basebackup -Ft -z` uploaded to moto, and a workload whose commit times are recorded.
//! The restored rows are counted with SQL on the promoted copy; the measured RPO is
//! compared with the commit times.

use std::path::PathBuf;
use std::time::Duration;

use drkit_drill::{
    run, CancellationToken, Check, Clients, DrillReport, DrillSpec, PitrSource, PitrTarget, Source,
    Targets, Verify,
};
use drkit_testkit::{upload_base_backup, ArchivingPostgres, Moto, WalCompression};
use time::OffsetDateTime;

struct S3Only(aws_sdk_s3::Client);

impl Clients for S3Only {
    fn rds(&self, _region: &str) -> aws_sdk_rds::Client {
        unreachable!("a PITR drill makes no RDS call")
    }
    fn s3(&self, _region: &str) -> aws_sdk_s3::Client {
        self.0.clone()
    }
}

/// A cluster with one base backup and `commits` rows committed after it, ~250 ms apart,
/// with a segment switch every other commit (so the WAL spans several segments).
struct Fixture {
    moto: Moto,
    pg: ArchivingPostgres,
    /// (value, commit time as Unix seconds), in order.
    commits: Vec<(i64, f64)>,
    /// Before the base backup.
    before_backup: OffsetDateTime,
}

async fn fixture(compression: WalCompression, commits: i64) -> Fixture {
    let moto = Moto::start().unwrap();
    let s3 = moto.s3("us-east-1").await;
    for b in ["pg-backups", "wal-archive"] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    let pg = ArchivingPostgres::start(moto.port(), "wal-archive", "main/", compression).unwrap();
    pg.psql("postgres", "CREATE DATABASE shop").unwrap();
    pg.psql("shop", "CREATE TABLE orders (v int, at timestamptz)")
        .unwrap();
    pg.switch_and_archive().unwrap();
    let before_backup = OffsetDateTime::now_utc();
    let dir = pg.base_backup("b1").unwrap();
    upload_base_backup(&s3, &dir, "pg-backups", "base/2026-12-03T0800")
        .await
        .unwrap();
    // STOP TIME has second precision: commits start clearly after the backup's end.
    std::thread::sleep(Duration::from_millis(2100));
    let mut out = Vec::new();
    for v in 1..=commits {
        out.push((v, pg.commit_row("shop", "orders", v).unwrap()));
        if v % 2 == 0 {
            pg.switch_and_archive().unwrap();
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    pg.switch_and_archive().unwrap();
    // Uploads are dated to the second: the archive's end is after the last commit.
    std::thread::sleep(Duration::from_millis(1100));
    Fixture {
        moto,
        pg,
        commits: out,
        before_backup,
    }
}

fn at(unix: f64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos((unix * 1e9) as i128).unwrap()
}

fn spec(f: &Fixture, target: PitrTarget, run_id: &str) -> DrillSpec {
    DrillSpec {
        name: "orders-pitr".into(),
        source: Source::PostgresPitr(PitrSource {
            base_backup_uri: "s3://pg-backups/base/".into(),
            wal_archive_uri: "s3://wal-archive/main/".into(),
            target_time: target,
            region: "us-east-1".into(),
            pg_bin_dir: Some(f.pg.bin_dir().to_path_buf()),
            database: "shop".into(),
            username: "postgres".into(),
        }),
        target: None,
        verify: vec![Verify {
            name: "orders".into(),
            check: Check::Sql {
                sql: "SELECT count(*) FROM orders".into(),
                expect: ">= 0".parse().unwrap(),
            },
        }],
        freshness_sql: None,
        targets: Targets {
            rpo: Some(Duration::from_secs(3600)),
            rto: Some(Duration::from_secs(600)),
        },
        timeout: Duration::from_secs(300),
        run_id: run_id.into(),
    }
}

async fn clients(f: &Fixture) -> S3Only {
    S3Only(f.moto.s3("us-east-1").await)
}

fn restored_rows(report: &DrillReport) -> usize {
    report.verify_results[0]
        .value
        .as_deref()
        .unwrap()
        .parse()
        .unwrap()
}

fn work_dirs(run_id: &str) -> Vec<PathBuf> {
    let prefix = format!("drkit-pitr-{run_id}-");
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with(&prefix))
        .map(|e| e.path())
        .collect()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
            .is_some_and(|st| st != "Z" && st != "X")
    })
}

fn assert_torn_down(report: &DrillReport, run_id: &str) {
    assert!(
        report.teardown.iter().all(|t| t.ok),
        "{:?}",
        report.teardown
    );
    assert!(work_dirs(run_id).is_empty(), "work directory left behind");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_between_two_commits_restores_exactly_the_rows_before_it() {
    let f = fixture(WalCompression::None, 8).await;
    let (c4, c5) = (f.commits[3].1, f.commits[4].1);
    let target = (c4 + c5) / 2.0;
    let report = run(
        &spec(&f, PitrTarget::At(at(target)), "between"),
        &clients(&f).await,
        &CancellationToken::new(),
    )
    .await
    .unwrap_or_else(|e| panic!("drill failed: {e}\n{:#?}", e.report));
    assert_eq!(
        restored_rows(&report),
        4,
        "rows committed before the target"
    );
    let truth = target - c4;
    let rpo = report.measured_rpo_seconds.unwrap();
    assert!(
        (rpo - truth).abs() < 1.0,
        "measured RPO {rpo} vs truth {truth}"
    );
    let phases: Vec<&str> = report.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(phases, ["fetch", "restore", "replay", "verify", "teardown"]);
    let pitr = report.pitr.as_ref().unwrap();
    assert_eq!(pitr.base_backup, "s3://pg-backups/base/2026-12-03T0800/");
    assert!(pitr.segments_replayed >= 2, "{pitr:?}");
    assert_eq!(
        pitr.bytes_replayed,
        pitr.segments_replayed as u64 * 16 * 1024 * 1024
    );
    assert_eq!(pitr.pg_version.as_deref(), Some("15"));
    assert!(pitr.archive_lag_seconds.unwrap() >= 0.0);
    assert!(report.to_markdown().contains("Point-in-time recovery"));
    assert_torn_down(&report, "between");
}

#[tokio::test(flavor = "multi_thread")]
async fn latest_restores_every_archived_commit_from_gzipped_segments() {
    let f = fixture(WalCompression::Gzip, 6).await;
    let report = run(
        &spec(&f, PitrTarget::Latest, "latest"),
        &clients(&f).await,
        &CancellationToken::new(),
    )
    .await
    .unwrap_or_else(|e| panic!("drill failed: {e}\n{:#?}", e.report));
    assert_eq!(restored_rows(&report), 6);
    let pitr = report.pitr.as_ref().unwrap();
    let last = time::OffsetDateTime::parse(
        pitr.last_replayed_commit.as_deref().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let truth = f.commits.last().unwrap().1;
    let replayed = last.unix_timestamp_nanos() as f64 / 1e9;
    assert!(
        (replayed - truth).abs() < 1.0,
        "last replayed commit {replayed} vs {truth}"
    );
    assert_eq!(pitr.target_time, None);
    assert_torn_down(&report, "latest");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_random_target_is_reported_and_restores_the_rows_before_it() {
    let f = fixture(WalCompression::Zstd, 6).await;
    let report = run(
        &spec(&f, PitrTarget::Random, "random"),
        &clients(&f).await,
        &CancellationToken::new(),
    )
    .await
    .unwrap_or_else(|e| panic!("drill failed: {e}\n{:#?}", e.report));
    let pitr = report.pitr.as_ref().unwrap();
    assert!(pitr.target_random);
    let chosen = time::OffsetDateTime::parse(
        pitr.target_time.as_deref().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let chosen = chosen.unix_timestamp_nanos() as f64 / 1e9;
    let expected = f.commits.iter().filter(|(_, t)| *t <= chosen).count();
    assert_eq!(
        restored_rows(&report),
        expected,
        "target {chosen}, commits {:?}",
        f.commits
    );
    assert_torn_down(&report, "random");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_segment_missing_from_the_middle_fails_before_any_server_starts() {
    let f = fixture(WalCompression::None, 6).await;
    let s3 = f.moto.s3("us-east-1").await;
    let mut segments: Vec<String> = s3
        .list_objects_v2()
        .bucket("wal-archive")
        .prefix("main/")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .filter(|k| k.len() == "main/".len() + 24)
        .collect();
    segments.sort();
    let missing = segments[segments.len() / 2 + 1].clone();
    s3.delete_object()
        .bucket("wal-archive")
        .key(&missing)
        .send()
        .await
        .unwrap();
    let failure = run(
        &spec(&f, PitrTarget::Latest, "gap"),
        &clients(&f).await,
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    let name = missing.trim_start_matches("main/");
    assert!(
        failure
            .error
            .contains(&format!("segment {name} is missing")),
        "{}",
        failure.error
    );
    let phases: Vec<&str> = failure
        .report
        .phases
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    assert_eq!(phases, ["fetch"], "nothing restored or started");
    assert!(work_dirs("gap").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_before_the_first_base_backup_is_a_clear_error() {
    let f = fixture(WalCompression::None, 2).await;
    let early = f.before_backup - time::Duration::minutes(10);
    let failure = run(
        &spec(&f, PitrTarget::At(early), "early"),
        &clients(&f).await,
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    let e = &failure.error;
    assert!(e.contains("before the oldest base backup ended"), "{e}");
    let shown = early
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    assert!(e.contains(&shown), "{e} names the target");
    assert!(
        e.contains("s3://pg-backups/base/2026-12-03T0800/"),
        "{e} names the backup"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_during_replay_stops_the_server_and_removes_everything() {
    let f = fixture(WalCompression::None, 10).await;
    let cancel = CancellationToken::new();
    let watcher = {
        let cancel = cancel.clone();
        tokio::spawn(async move {
            // Cancel as soon as the temporary server has written its pid.
            for _ in 0..3000 {
                if let Some(pid) = work_dirs("cancel")
                    .iter()
                    .find_map(|d| std::fs::read_to_string(d.join("data/postmaster.pid")).ok())
                    .and_then(|t| t.lines().next()?.trim().parse::<u32>().ok())
                {
                    cancel.cancel();
                    return Some(pid);
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            None
        })
    };
    let result = run(
        &spec(&f, PitrTarget::Latest, "cancel"),
        &clients(&f).await,
        &cancel,
    )
    .await;
    let pid = watcher.await.unwrap().expect("the server started");
    let failure = result.expect_err("cancelled");
    assert!(
        failure.error.contains("interrupted during WAL replay"),
        "{}",
        failure.error
    );
    assert!(!alive(pid), "server {pid} still running");
    assert_torn_down(&failure.report, "cancel");
}

/// Not a test on its own: the child process of the SIGKILL test below runs a drill here.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "run by killed_drill_leftovers_are_swept_by_the_next_drill in a child process"]
async fn child_runs_a_drill_until_killed() {
    let endpoint = std::env::var("DRKIT_PITR_CHILD_MOTO").expect("run by the parent test");
    let bin = PathBuf::from(std::env::var("DRKIT_PITR_CHILD_BIN").unwrap());
    let s3 = drkit_testkit::s3_client(&endpoint, "us-east-1").await;
    let spec = DrillSpec {
        name: "killed".into(),
        source: Source::PostgresPitr(PitrSource {
            base_backup_uri: "s3://pg-backups/base/".into(),
            wal_archive_uri: "s3://wal-archive/main/".into(),
            target_time: PitrTarget::Latest,
            region: "us-east-1".into(),
            pg_bin_dir: Some(bin),
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
        timeout: Duration::from_secs(300),
        run_id: "killed".into(),
    };
    let _ = run(&spec, &S3Only(s3), &CancellationToken::new()).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_drill_leftovers_are_swept_by_the_next_drill() {
    let f = fixture(WalCompression::None, 10).await;
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "child_runs_a_drill_until_killed",
            "--include-ignored",
            "--nocapture",
        ])
        .env("DRKIT_PITR_CHILD_MOTO", f.moto.endpoint())
        .env("DRKIT_PITR_CHILD_BIN", f.pg.bin_dir())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut server = None;
    for _ in 0..6000 {
        server = work_dirs("killed").into_iter().find_map(|d| {
            let pid = std::fs::read_to_string(d.join("data/postmaster.pid"))
                .ok()?
                .lines()
                .next()?
                .trim()
                .parse::<u32>()
                .ok()?;
            Some((d, pid))
        });
        if server.is_some() || child.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let (dir, pid) = server.expect("the child's drill started a server");
    child.kill().unwrap(); // SIGKILL: no teardown runs
    child.wait().unwrap();
    assert!(alive(pid), "the killed drill's server is left running");
    assert!(dir.exists());

    // Drills of other tests running now have live owners: the sweep leaves them alone.
    let swept = drkit_drill::sweep_pitr_leftovers().await;
    assert!(
        swept.iter().any(|s| s.contains(&dir.display().to_string())),
        "{swept:?}"
    );
    assert!(!dir.exists(), "directory removed");
    for _ in 0..50 {
        if !alive(pid) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(pid), "server {pid} stopped by the sweep");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_target_after_the_last_commit_recovers_to_the_end_of_the_archive() {
    let f = fixture(WalCompression::None, 4).await;
    // No commit after the target is archived: PostgreSQL ends recovery "before the target";
    // the state at the target is the archive's end, and the drill says so.
    let last = f.commits[3].1;
    // Between the last commit and the archive's end as the drill dates it: the newest
    // segment's upload time, which S3 gives to the second, plus that second.
    let newest_upload = f
        .moto
        .s3("us-east-1")
        .await
        .list_objects_v2()
        .bucket("wal-archive")
        .prefix("main/")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.last_modified())
        .map(|t| t.as_secs_f64())
        .fold(f64::MIN, f64::max);
    let target = (last + newest_upload.floor() + 1.0) / 2.0;
    assert!(target > last);
    let report = run(
        &spec(&f, PitrTarget::At(at(target)), "after-last"),
        &clients(&f).await,
        &CancellationToken::new(),
    )
    .await
    .unwrap_or_else(|e| panic!("drill failed: {e}\n{:#?}", e.report));
    assert_eq!(restored_rows(&report), 4);
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("holds no transaction after the target")),
        "{:?}",
        report.notes
    );
    let rpo = report.measured_rpo_seconds.unwrap();
    assert!((rpo - 0.2).abs() < 1.0, "measured RPO {rpo} vs truth 0.2");
    assert_torn_down(&report, "after-last");
}

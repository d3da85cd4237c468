//! `mysql_binlog` drills against real MariaDB 10.11: a source server with its binary log
//! on writes a `--master-data=2` dump (the real `mariadb-dump`) and real binlog files,
//! both stored in moto S3; the drill replays them on a temporary server of its own. Results
//! are checked with SQL on that server through the drill's checks, and on the machine
//! (no server, no directory left).

use std::io::Write;
use std::time::Duration;

use drkit_drill::{
    run, CancellationToken, DrillSpec, MysqlBinlogSource, PitrTarget, Source, Targets, Verify,
};
use drkit_testkit::{MariaDb, Moto};
use time::OffsetDateTime;

mod support;
use support::MotoClients;

const BUCKET: &str = "mysql-pitr";

/// What the source server did, and when.
struct History {
    db: MariaDb,
    moto: Moto,
    /// Between the batches: 300 orders before, 600 after.
    between: OffsetDateTime,
    /// The binlog files archived, in order.
    binlogs: Vec<String>,
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

async fn put(moto: &Moto, key: &str, body: Vec<u8>) {
    let s3 = moto.s3("us-east-1").await;
    let _ = s3.create_bucket().bucket(BUCKET).send().await;
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

fn insert(db: &MariaDb, rows: u32) {
    db.sql(
        Some("shop"),
        &format!("INSERT INTO orders (total, created_at) SELECT seq, UTC_TIMESTAMP(6) FROM seq_1_to_{rows}"),
    )
    .unwrap();
}

/// 100 orders, a `--master-data=2 --databases` dump (uploaded at once), 200 orders, a
/// pause (`between`), 300 orders; the binlog rotated after each step and archived (the
/// second file gzipped), as a copy job uploads them.
async fn history(dump_args: &[&str]) -> History {
    let (moto, db) = (
        Moto::start().unwrap(),
        MariaDb::start_with_binlog().unwrap(),
    );
    db.sql(None, "CREATE DATABASE shop").unwrap();
    db.sql(
        Some("shop"),
        "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2), created_at DATETIME(6))",
    )
    .unwrap();
    insert(&db, 100);
    db.sql(None, "FLUSH BINARY LOGS").unwrap();
    let dump = db.dump(dump_args).unwrap();
    put(&moto, "dumps/shop-full.sql.gz", gzip(&dump)).await;
    insert(&db, 200);
    db.sql(None, "FLUSH BINARY LOGS").unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    let between = OffsetDateTime::now_utc();
    std::thread::sleep(Duration::from_millis(1500));
    insert(&db, 300);
    db.sql(None, "FLUSH BINARY LOGS").unwrap();
    let mut binlogs: Vec<String> = std::fs::read_dir(db.data_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("mysql-bin.") && !n.ends_with(".index"))
        .collect();
    binlogs.sort();
    for (i, name) in binlogs.iter().enumerate() {
        let bytes = std::fs::read(db.data_dir().join(name)).unwrap();
        if i == 1 {
            put(&moto, &format!("binlogs/{name}.gz"), gzip(&bytes)).await;
        } else {
            put(&moto, &format!("binlogs/{name}"), bytes).await;
        }
    }
    History {
        db,
        moto,
        between,
        binlogs,
    }
}

const MASTER_DATA: &[&str] = &[
    "--single-transaction",
    "--master-data=2",
    "--databases",
    "shop",
];

fn spec(target_time: PitrTarget, run_id: &str, expected_orders: u32) -> DrillSpec {
    DrillSpec {
        name: "shop-pitr".into(),
        source: Source::MysqlBinlog(MysqlBinlogSource {
            base_dump_uri: format!("s3://{BUCKET}/dumps/"),
            binlog_uri: format!("s3://{BUCKET}/binlogs/"),
            target_time,
            region: "us-east-1".into(),
            decrypt: None,
            bin_dir: None,
        }),
        target: None,
        verify: vec![Verify::sql(
            "orders",
            "SELECT count(*) FROM orders",
            format!("= {expected_orders}").parse().unwrap(),
        )],
        freshness_sql: None,
        targets: Targets {
            rpo: Some(Duration::from_secs(3600)),
            rto: Some(Duration::from_secs(600)),
        },
        timeout: Duration::from_secs(300),
        run_id: run_id.into(),
    }
}

/// Drill directories of `run_id` still in the temporary directory.
fn leftovers(run_id: &str) -> Vec<String> {
    std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with(&format!("drkit-pitr-{run_id}-")))
        .collect()
}

/// `mariadbd` processes whose command line names a drill directory of `run_id`.
fn servers(run_id: &str) -> Vec<String> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let cmd = std::fs::read(e.ok()?.path().join("cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            cmd.contains(&format!("drkit-pitr-{run_id}-"))
                .then_some(cmd)
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dump_and_its_binlogs_recover_to_a_point_in_time_and_to_the_latest() {
    let h = history(MASTER_DATA).await;
    let clients = MotoClients::new(&h.moto).await;

    // Between the batches: the dump's 100 orders and the first batch's 200.
    let report = run(
        &spec(PitrTarget::At(h.between), "bl1", 300),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .unwrap_or_else(|f| panic!("{}: {:#?}", f.error, f.report));
    assert_eq!(report.source_kind, "mysql_binlog");
    assert_eq!(report.verify_results[0].value.as_deref(), Some("300"));
    let details = report.binlog.as_ref().unwrap();
    assert!(
        details.start.starts_with("mysql-bin.000002:"),
        "{details:?}"
    );
    assert_eq!(details.databases, ["shop"]);
    assert_eq!(details.binlog_range.first().unwrap(), "mysql-bin.000002");
    // The last transaction replayed is the first batch, 1.5 s or more before the target.
    let rpo = report.measured_rpo_seconds.unwrap();
    assert!((1.0..10.0).contains(&rpo), "RPO {rpo}: {details:?}");
    assert_eq!(
        report.rpo_from.as_deref(),
        Some("the last replayed binlog transaction")
    );
    assert!(details.archive_lag_seconds.unwrap() >= 0.0);
    assert_eq!(
        details.newest_binlog.as_deref(),
        h.binlogs.last().map(String::as_str)
    );
    assert!(report.passed(), "{report:#?}");
    assert!(
        report.teardown.iter().all(|t| t.ok),
        "{:?}",
        report.teardown
    );
    assert!(leftovers("bl1").is_empty() && servers("bl1").is_empty());

    // Latest: every batch.
    let report = run(
        &spec(PitrTarget::Latest, "bl2", 600),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .unwrap_or_else(|f| panic!("{}: {:#?}", f.error, f.report));
    assert_eq!(report.verify_results[0].value.as_deref(), Some("600"));
    assert!(report
        .to_markdown()
        .contains("Binlog point-in-time recovery"));
    // The source server was only read.
    assert_eq!(
        h.db.sql(Some("shop"), "SELECT count(*) FROM orders")
            .unwrap(),
        "600"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_middle_binlog_fails_the_drill_naming_it() {
    let h = history(MASTER_DATA).await;
    assert!(h.binlogs.len() >= 4, "{:?}", h.binlogs);
    let missing = &h.binlogs[2];
    h.moto
        .s3("us-east-1")
        .await
        .delete_object()
        .bucket(BUCKET)
        .key(format!("binlogs/{missing}"))
        .send()
        .await
        .unwrap();
    let clients = MotoClients::new(&h.moto).await;
    let failure = run(
        &spec(PitrTarget::Latest, "bl3", 600),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .expect_err("a hole in the archive fails the drill");
    assert!(
        failure
            .error
            .contains(&format!("binlog {missing} is missing from the archive")),
        "{}",
        failure.error
    );
    // Figures measured before the failure are kept.
    let details = failure.report.binlog.as_ref().unwrap();
    assert!(details.archive_lag_seconds.is_some(), "{details:?}");
    assert!(leftovers("bl3").is_empty() && servers("bl3").is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_archives_and_dumps_fail_with_their_reason() {
    // A dump without --master-data has no coordinates.
    let h = history(&["--single-transaction", "--databases", "shop"]).await;
    let clients = MotoClients::new(&h.moto).await;
    let failure = run(
        &spec(PitrTarget::Latest, "bl4", 600),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .expect_err("no coordinates");
    assert!(
        failure
            .error
            .contains("shop-full.sql.gz has no binlog coordinates")
            && failure.error.contains("--master-data=2"),
        "{}",
        failure.error
    );

    // A target before the only dump.
    let before = OffsetDateTime::now_utc() - time::Duration::hours(1);
    let failure = run(
        &spec(PitrTarget::At(before), "bl5", 600),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .expect_err("nothing to replay from");
    assert!(
        failure.error.contains("is before the oldest dump"),
        "{}",
        failure.error
    );

    // A truncated binlog: the newest file cut mid-event.
    let h = history(MASTER_DATA).await;
    let last = h.binlogs.last().unwrap().clone();
    let third = &h.binlogs[2];
    let bytes = std::fs::read(h.db.data_dir().join(third)).unwrap();
    put(
        &h.moto,
        &format!("binlogs/{third}"),
        bytes[..bytes.len() / 2].to_vec(),
    )
    .await;
    let clients = MotoClients::new(&h.moto).await;
    let failure = run(
        &spec(PitrTarget::Latest, "bl6", 600),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .expect_err("a cut binlog fails the replay");
    assert!(
        failure.error.contains("truncated or corrupt"),
        "{} (last {last})",
        failure.error
    );
    assert!(leftovers("bl6").is_empty() && servers("bl6").is_empty());
}

//! `mysql_dump` drills against a real MariaDB 10.11 server: dumps written by the real
//! `mariadb-dump` (gzipped and `openssl enc`-encrypted by the real tools), stored in moto
//! S3, restored through the real `mariadb` client. Results are checked with SQL on the
//! server, not with what the report claims.

use std::io::Write;
use std::time::Duration;

use drkit_drill::decrypt::{Cipher, Decrypt, KeyDigest};
use drkit_drill::{
    run, CancellationToken, CommandCheck, DrillSpec, Engine, MysqlDumpSource, Secret, Source,
    Target, Targets, Verify,
};
use drkit_testkit::{MariaDb, Moto};
use time::UtcOffset;

mod support;
use support::{openssl_enc, MotoClients};

const ORDERS: usize = 2000;

/// A `shop` database with 2,000 orders, the newest created 90 seconds ago (UTC DATETIME).
fn seed(db: &MariaDb) {
    db.sql(None, "CREATE DATABASE shop").unwrap();
    db.sql(
        Some("shop"),
        "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2), created_at DATETIME(6));
         INSERT INTO orders (total, created_at) SELECT seq, UTC_TIMESTAMP(6) - INTERVAL 90 SECOND FROM seq_1_to_2000;",
    )
    .unwrap();
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

async fn put(moto: &Moto, key: &str, body: Vec<u8>) {
    let s3 = moto.s3("us-east-1").await;
    let _ = s3.create_bucket().bucket("mysql-backups").send().await;
    s3.put_object()
        .bucket("mysql-backups")
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

fn target(db: &MariaDb, password: &str) -> Target {
    Target {
        engine: Engine::Mariadb,
        host: db.host().to_string(),
        port: db.port(),
        database: String::new(),
        username: db.user().to_string(),
        password: Some(Secret::new(password)),
        pg_bin_dir: None,
        tls: drkit_drill::Tls::default(),
    }
}

fn spec(db: &MariaDb, uri: &str, checks: Vec<Verify>, run_id: &str) -> DrillSpec {
    DrillSpec {
        name: "shop".into(),
        source: Source::MysqlDump(MysqlDumpSource {
            s3_uri: uri.into(),
            region: "us-east-1".into(),
            decrypt: None,
            dump_time_zone: UtcOffset::UTC,
        }),
        target: Some(target(db, db.password())),
        verify: checks,
        freshness_sql: None,
        targets: Targets {
            rpo: Some(Duration::from_secs(3600)),
            rto: Some(Duration::from_secs(600)),
        },
        timeout: Duration::from_secs(120),
        run_id: run_id.into(),
    }
}

fn count_check() -> Verify {
    Verify::sql(
        "orders",
        "SELECT count(*) FROM orders",
        format!("= {ORDERS}").parse().unwrap(),
    )
}

fn scratch_dbs(db: &MariaDb) -> Vec<String> {
    db.databases()
        .unwrap()
        .into_iter()
        .filter(|d| d.starts_with("drkit_drill_"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzipped_dump_restores_is_dated_by_its_completion_line_and_is_dropped() {
    let (moto, db) = (Moto::start().unwrap(), MariaDb::start().unwrap());
    seed(&db);
    // An older object under the prefix: the newest is restored.
    put(&moto, "daily/old.sql", b"garbage".to_vec()).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let dump = db.dump(&["--single-transaction", "shop"]).unwrap();
    put(&moto, "daily/shop.sql.gz", gzip(&dump)).await;
    let clients = MotoClients::new(&moto).await;
    // A command check sees the copy through the MYSQL_* variables the client reads.
    let smoke = Verify::command(
        "client sees the copy",
        CommandCheck {
            argv: vec![
                "sh".into(),
                "-c".into(),
                format!(
                    "test \"$(mariadb --no-defaults --protocol=TCP -h \"$MYSQL_HOST\" -P \"$MYSQL_TCP_PORT\" -u \"$MYSQL_USER\" -N -e 'SELECT count(*) FROM orders' \"$MYSQL_DATABASE\")\" = {ORDERS}"
                ),
            ],
            timeout: Duration::from_secs(30),
            working_dir: None,
        },
    );
    let spec = spec(
        &db,
        "s3://mysql-backups/daily/",
        vec![count_check(), smoke],
        "m1",
    );
    let report = run(&spec, &clients, &CancellationToken::new())
        .await
        .unwrap_or_else(|f| panic!("{}: {:#?}", f.error, f.report));
    assert_eq!(report.source_kind, "mysql_dump");
    assert_eq!(report.verify_results[0].value.as_deref(), Some("2000"));
    assert!(
        report.verify_results[1].passed,
        "{:?}",
        report.verify_results[1]
    );
    assert!(report
        .restored_from
        .as_deref()
        .unwrap()
        .ends_with("shop.sql.gz"));
    // Dated by the dump's own line (this host's clock is UTC), seconds old.
    let from = report.rpo_from.as_deref().unwrap();
    assert!(from.contains("-- Dump completed on"), "{from}");
    let rpo = report.measured_rpo_seconds.unwrap();
    assert!((0.0..30.0).contains(&rpo), "RPO {rpo}");
    assert!(report.passed(), "{report:#?}");
    assert!(scratch_dbs(&db).is_empty(), "scratch database left behind");
    assert!(
        report.teardown.iter().all(|t| t.ok),
        "{:?}",
        report.teardown
    );
    let shown = format!("{report:?}{}{}", report.to_json(), report.to_markdown());
    assert!(!shown.contains(db.password()), "the password leaked");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dump_written_in_another_zone_is_dated_by_dump_time_zone() {
    let (moto, db) = (Moto::start().unwrap(), MariaDb::start().unwrap());
    seed(&db);
    let clients = MotoClients::new(&moto).await;
    // mariadb-dump writes its completion line in the dumping host's local time: hosts east
    // and west of UTC (POSIX zones, fixed offsets), each told to the drill.
    for (tz, offset, run_id) in [
        ("XST-5:30", "+05:30", "zone-east"),
        ("XST8", "-08:00", "zone-west"),
    ] {
        let dump = db
            .dump_in_zone(tz, &["--single-transaction", "shop"])
            .unwrap();
        let key = format!("{run_id}/shop.sql");
        put(&moto, &key, dump).await;
        let mut spec = spec(
            &db,
            &format!("s3://mysql-backups/{key}"),
            vec![count_check()],
            run_id,
        );
        let Source::MysqlDump(src) = &mut spec.source else {
            unreachable!()
        };
        src.dump_time_zone = drkit_drill::parse_utc_offset(offset).unwrap();
        let report = run(&spec, &clients, &CancellationToken::new())
            .await
            .unwrap_or_else(|f| panic!("{}: {:#?}", f.error, f.report));
        let from = report.rpo_from.as_deref().unwrap_or_default();
        assert!(
            from.contains("-- Dump completed on") && from.contains(offset),
            "{tz}: {from} {:?}",
            report.notes
        );
        let rpo = report.measured_rpo_seconds.unwrap();
        assert!((0.0..30.0).contains(&rpo), "{tz}: RPO {rpo}");
    }
    // The east host's dump read as UTC would complete after its upload: not believed.
    let mut spec = spec(
        &db,
        "s3://mysql-backups/zone-east/shop.sql",
        vec![count_check()],
        "zone-utc",
    );
    spec.verify.clear();
    let report = run(&spec, &clients, &CancellationToken::new())
        .await
        .unwrap_or_else(|f| panic!("{}: {:#?}", f.error, f.report));
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("dated by LastModified")),
        "{:?}",
        report.notes
    );
    assert!(report
        .rpo_from
        .as_deref()
        .is_some_and(|f| !f.contains("Dump completed")));
    assert!(scratch_dbs(&db).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_databases_dump_goes_into_the_scratch_database_never_into_the_real_one() {
    let (moto, db) = (Moto::start().unwrap(), MariaDb::start().unwrap());
    seed(&db);
    // `--databases --add-drop-database` would DROP and recreate `shop` on the target.
    let dump = db
        .dump(&[
            "--single-transaction",
            "--add-drop-database",
            "--databases",
            "shop",
        ])
        .unwrap();
    assert!(String::from_utf8_lossy(&dump).contains("DROP DATABASE IF EXISTS `shop`"));
    put(&moto, "daily/shop.sql", dump).await;
    // The live database moves on after the dump.
    db.sql(Some("shop"), "INSERT INTO orders (total) VALUES (1)")
        .unwrap();
    let clients = MotoClients::new(&moto).await;
    let mut spec = spec(
        &db,
        "s3://mysql-backups/daily/shop.sql",
        vec![count_check()],
        "m2",
    );
    spec.freshness_sql = Some("SELECT max(created_at) FROM orders".into());
    let report = run(&spec, &clients, &CancellationToken::new())
        .await
        .unwrap_or_else(|f| panic!("{}: {:#?}", f.error, f.report));
    assert_eq!(report.verify_results[0].value.as_deref(), Some("2000"));
    assert_eq!(
        db.sql(Some("shop"), "SELECT count(*) FROM orders").unwrap(),
        "2001",
        "the real database was untouched"
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("creates its own database `shop`")),
        "{:?}",
        report.notes
    );
    // freshness_sql dates the copy by its newest row (a UTC DATETIME 90 s old).
    assert_eq!(report.rpo_from.as_deref(), Some("freshness_sql"));
    let rpo = report.measured_rpo_seconds.unwrap();
    assert!((89.0..130.0).contains(&rpo), "RPO {rpo}");
    assert!(scratch_dbs(&db).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_encrypted_dump_restores_and_a_wrong_key_fails_naming_the_object() {
    let (moto, db) = (Moto::start().unwrap(), MariaDb::start().unwrap());
    seed(&db);
    let dump = db.dump(&["--single-transaction", "shop"]).unwrap();
    let args = ["-aes-256-cbc", "-pbkdf2"];
    put(
        &moto,
        "enc/shop.sql.gz.enc",
        openssl_enc(&gzip(&dump), &args, "right"),
    )
    .await;
    let clients = MotoClients::new(&moto).await;
    let with_key = |pass: &str, run: &str| {
        let mut s = spec(&db, "s3://mysql-backups/enc/", vec![count_check()], run);
        if let Source::MysqlDump(d) = &mut s.source {
            d.decrypt = Some(Decrypt {
                cipher: Cipher::Aes256Cbc,
                digest: KeyDigest::Sha256,
                pbkdf2_iter: Some(10_000),
                passphrase: Secret::new(pass),
            });
        }
        s
    };
    let report = run(
        &with_key("right", "m3"),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .unwrap_or_else(|f| panic!("{}: {:#?}", f.error, f.report));
    assert_eq!(report.verify_results[0].value.as_deref(), Some("2000"));
    let failure = run(
        &with_key("wrong", "m4"),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        failure
            .error
            .contains("cannot decrypt s3://mysql-backups/enc/shop.sql.gz.enc")
            && failure.error.contains("bad decrypt"),
        "{}",
        failure.error
    );
    assert!(
        failure.report.measured_rpo_seconds.is_some(),
        "figures kept"
    );
    assert!(scratch_dbs(&db).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_dumps_and_refused_credentials_fail_naming_the_object_and_leave_nothing() {
    let (moto, db) = (Moto::start().unwrap(), MariaDb::start().unwrap());
    seed(&db);
    let dump = db.dump(&["--single-transaction", "shop"]).unwrap();
    // Cut inside the data: the client may run what it got, the drill must still fail.
    let cut = dump[..dump.len() * 2 / 3].to_vec();
    put(&moto, "cut/shop.sql", cut).await;
    put(
        &moto,
        "binary/shop.sql",
        (0..4096u32).map(|i| (i * 7 % 251) as u8).collect(),
    )
    .await;
    put(&moto, "text/shop.sql", b"this is not SQL at all\n".to_vec()).await;
    put(&moto, "good/shop.sql", dump).await;
    let clients = MotoClients::new(&moto).await;
    let cases = [
        ("cut", "s3://mysql-backups/cut/shop.sql is truncated"),
        (
            "binary",
            "s3://mysql-backups/binary/shop.sql is not a MySQL dump",
        ),
        ("text", "restoring s3://mysql-backups/text/shop.sql"),
    ];
    for (i, (prefix, want)) in cases.into_iter().enumerate() {
        let spec = spec(
            &db,
            &format!("s3://mysql-backups/{prefix}/"),
            vec![count_check()],
            &format!("bad{i}"),
        );
        let failure = run(&spec, &clients, &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(failure.error.contains(want), "{prefix}: {}", failure.error);
        assert!(
            failure.report.measured_rpo_seconds.is_some(),
            "{prefix}: figures kept"
        );
        assert!(
            scratch_dbs(&db).is_empty(),
            "{prefix}: scratch database left"
        );
    }
    let mut refused = spec(&db, "s3://mysql-backups/good/", vec![count_check()], "bad9");
    refused.target = Some(target(&db, "not-the-password"));
    let failure = run(&refused, &clients, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        failure.error.contains("s3://mysql-backups/good/shop.sql")
            && failure.error.contains("Access denied"),
        "{}",
        failure.error
    );
    assert!(!failure.error.contains("not-the-password"));
    assert!(scratch_dbs(&db).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn leftover_scratch_databases_are_swept_unless_their_drill_runs() {
    let (moto, db) = (Moto::start().unwrap(), MariaDb::start().unwrap());
    db.sql(
        None,
        "CREATE DATABASE drkit_drill_crashed; CREATE DATABASE drkit_drill_running",
    )
    .unwrap();
    // A running drill holds its name's lock on a session of its own.
    let mut holder = db.client("mariadb").unwrap();
    let mut holder = holder
        .args([
            "-e",
            "SELECT GET_LOCK('drkit_drill_running', 10), SLEEP(20)",
        ])
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(700)).await;
    let clients = MotoClients::new(&moto).await;
    let removed = drkit_drill::sweep_leftovers(
        &clients,
        &["us-east-1".into()],
        Some(&target(&db, db.password())),
    )
    .await;
    let _ = holder.kill();
    let _ = holder.wait();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(scratch_dbs(&db), ["drkit_drill_running"]);
}

/// A dump larger than what the drill reads to recognise a file (64 KiB), so that damage in
/// its middle is found while it streams into the client.
fn seed_large(db: &MariaDb) -> Vec<u8> {
    seed(db);
    db.sql(
        Some("shop"),
        "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(200));
         INSERT INTO notes SELECT seq, CONCAT(SHA2(seq, 256), ' ', MD5(seq)) FROM seq_1_to_20000;",
    )
    .unwrap();
    db.dump(&["--single-transaction", "shop"]).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_foreign_or_damaged_gzip_dump_fails_naming_the_object_and_what_is_wrong() {
    let (moto, db, pg) = (
        Moto::start().unwrap(),
        MariaDb::start().unwrap(),
        drkit_testkit::Postgres::start().unwrap(),
    );
    let dump = seed_large(&db);
    let gz = gzip(&dump);
    assert!(gz.len() > 100_000, "{}", gz.len());
    // Damage in the middle of the compressed stream: what comes out before it restores.
    let mut corrupt = gz.clone();
    let middle = corrupt.len() / 2;
    corrupt[middle..middle + 512].fill(0x5a);
    put(&moto, "corrupt/shop.sql.gz", corrupt).await;
    // A gzip cut off (an upload that stopped): no gzip trailer, no `-- Dump completed`.
    put(
        &moto,
        "cut-gzip/shop.sql.gz",
        gz[..gz.len() * 2 / 3].to_vec(),
    )
    .await;
    // A real pg_dump custom archive under a mysql_dump prefix.
    pg.psql(
        "postgres",
        "CREATE TABLE orders AS SELECT g AS id FROM generate_series(1, 100) g",
    )
    .unwrap();
    let archive = pg
        .client("pg_dump")
        .args(["-Fc", "-d", "postgres"])
        .output()
        .unwrap();
    assert!(archive.status.success());
    put(&moto, "pg/orders.dump", archive.stdout).await;
    let clients = MotoClients::new(&moto).await;
    let cases = [
        (
            "corrupt",
            "s3://mysql-backups/corrupt/shop.sql.gz does not decompress (cut off or corrupt gzip)",
        ),
        (
            "cut-gzip",
            "s3://mysql-backups/cut-gzip/shop.sql.gz does not decompress (cut off or corrupt gzip)",
        ),
        (
            "pg",
            "s3://mysql-backups/pg/orders.dump is a pg_dump archive, not a MySQL dump: drill it with postgres_dump",
        ),
    ];
    for (i, (prefix, want)) in cases.into_iter().enumerate() {
        let spec = spec(
            &db,
            &format!("s3://mysql-backups/{prefix}/"),
            vec![count_check()],
            &format!("gz{i}"),
        );
        let failure = run(&spec, &clients, &CancellationToken::new())
            .await
            .unwrap_err();
        assert!(failure.error.contains(want), "{prefix}: {}", failure.error);
        // The figures measured before the failure are kept: the RPO and the phases run.
        let report = &failure.report;
        assert!(
            report.measured_rpo_seconds.is_some(),
            "{prefix}: {report:#?}"
        );
        let phases: Vec<&str> = report.phases.iter().map(|p| p.name.as_str()).collect();
        assert!(phases.contains(&"fetch"), "{prefix}: {phases:?}");
        if prefix != "pg" {
            // Found while streaming: the scratch database existed, and was dropped.
            assert!(phases.contains(&"restore"), "{prefix}: {phases:?}");
            assert!(
                report
                    .teardown
                    .iter()
                    .any(|t| t.ok && t.what.starts_with("scratch database drkit_drill_")),
                "{prefix}: {:?}",
                report.teardown
            );
        }
        assert!(
            scratch_dbs(&db).is_empty(),
            "{prefix}: scratch database left"
        );
    }
    // The real database is as it was.
    assert_eq!(
        db.sql(Some("shop"), "SELECT count(*) FROM notes").unwrap(),
        "20000"
    );
}

//! `tls_mode` against real MariaDB 10.11 servers: one with `require_secure_transport = ON`
//! (as RDS for MySQL 8.4), its certificate for `localhost` signed by a throwaway CA, and one
//! without TLS. `mysql_dump` drills restore through the real `mariadb` client (`--ssl`,
//! `--ssl-ca`, `--ssl-verify-server-cert`) and verify over the drill's own rustls
//! connection; the server's `Ssl_cipher` says whether a session was encrypted.

use std::path::PathBuf;
use std::time::Duration;

use drkit_drill::{
    run, CancellationToken, CommandCheck, DrillSpec, Engine, MysqlDumpSource, Secret, Source,
    Target, Targets, Tls, TlsMode, Verify,
};
use drkit_testkit::{MariaDb, MariaDbOptions, Moto};
use time::UtcOffset;

mod support;
use support::MotoClients;

/// 1 when the check's own session is encrypted.
const OVER_TLS: &str =
    "SELECT count(*) FROM information_schema.SESSION_STATUS WHERE VARIABLE_NAME = 'Ssl_cipher' AND VARIABLE_VALUE <> ''";

async fn upload_dump(moto: &Moto, db: &MariaDb) {
    db.sql(None, "CREATE DATABASE shop").unwrap();
    db.sql(
        Some("shop"),
        "CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2));
         INSERT INTO orders SELECT seq, seq FROM seq_1_to_700;",
    )
    .unwrap();
    let dump = db.dump(&["--single-transaction", "shop"]).unwrap();
    let s3 = moto.s3("us-east-1").await;
    s3.create_bucket()
        .bucket("mysql-backups")
        .send()
        .await
        .unwrap();
    s3.put_object()
        .bucket("mysql-backups")
        .key("daily/shop.sql")
        .body(dump.into())
        .send()
        .await
        .unwrap();
}

fn spec(db: &MariaDb, host: &str, tls: Tls, run_id: &str) -> DrillSpec {
    DrillSpec {
        name: "shop".into(),
        source: Source::MysqlDump(MysqlDumpSource {
            s3_uri: "s3://mysql-backups/daily/".into(),
            region: "us-east-1".into(),
            decrypt: None,
            dump_time_zone: UtcOffset::UTC,
        }),
        target: Some(Target {
            engine: Engine::Mariadb,
            host: host.into(),
            port: db.port(),
            database: String::new(),
            username: db.user().to_string(),
            password: Some(Secret::new(db.password())),
            pg_bin_dir: None,
            tls,
        }),
        verify: vec![
            Verify::sql(
                "orders",
                "SELECT count(*) FROM orders",
                "= 700".parse().unwrap(),
            ),
            Verify::sql("encrypted", OVER_TLS, "= 1".parse().unwrap()),
            // The test gets the setting to pass on to its client.
            Verify::command(
                "environment",
                CommandCheck {
                    argv: vec![
                        "sh".into(),
                        "-c".into(),
                        "echo \"mode $MYSQL_SSL_MODE ca ${MYSQL_SSL_CA:-none}\"".into(),
                    ],
                    timeout: Duration::from_secs(30),
                    working_dir: None,
                },
            ),
        ],
        freshness_sql: None,
        targets: Targets {
            rpo: None,
            rto: None,
        },
        timeout: Duration::from_secs(120),
        run_id: run_id.into(),
    }
}

fn tls(mode: TlsMode, ca_file: Option<PathBuf>) -> Tls {
    Tls { mode, ca_file }
}

fn scratch_dbs(db: &MariaDb) -> Vec<String> {
    db.databases()
        .unwrap()
        .into_iter()
        .filter(|d| d.starts_with("drkit_drill_"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn drills_of_a_secure_transport_server_encrypt_verify_its_certificate_or_fail_saying_why() {
    let moto = Moto::start().unwrap();
    let db = MariaDb::start_with(MariaDbOptions {
        tls_only: true,
        ..MariaDbOptions::default()
    })
    .unwrap();
    upload_dump(&moto, &db).await;
    let clients = MotoClients::new(&moto).await;
    let cancel = CancellationToken::new();
    let ca = db.ca_file().unwrap();

    // require: restored by the mariadb client and checked, both over TLS.
    let report = run(
        &spec(&db, "127.0.0.1", tls(TlsMode::Require, None), "m1"),
        &clients,
        &cancel,
    )
    .await
    .unwrap_or_else(|f| panic!("require passes over TLS: {}", f.error));
    let command = &report.verify_results[2];
    assert_eq!(command.output.as_deref(), Some("mode REQUIRED ca none"));

    // prefer, the default: the server offers TLS, so the drill and its client use it.
    run(
        &spec(&db, "127.0.0.1", Tls::default(), "m2"),
        &clients,
        &cancel,
    )
    .await
    .unwrap_or_else(|f| panic!("prefer encrypts when offered: {}", f.error));

    // verify-full with the CA that signed the certificate, by the name it carries.
    let full = tls(TlsMode::VerifyFull, Some(ca.clone()));
    let report = run(
        &spec(&db, "localhost", full.clone(), "m3"),
        &clients,
        &cancel,
    )
    .await
    .unwrap_or_else(|f| panic!("verify-full with the right CA passes: {}", f.error));
    let command = &report.verify_results[2];
    assert_eq!(
        command.output.as_deref(),
        Some(format!("mode VERIFY_IDENTITY ca {}", ca.display()).as_str())
    );

    // disable: MariaDB refuses insecure transport as it refuses a wrong password (MySQL 8
    // says "insecure transport"); the error says what to try.
    let failure = run(
        &spec(&db, "127.0.0.1", Tls::disabled(), "m4"),
        &clients,
        &cancel,
    )
    .await
    .unwrap_err();
    assert!(
        failure.error.contains("tls_mode = \"disable\"")
            && failure.error.contains("require_secure_transport")
            && failure.error.contains("try tls_mode = \"require\""),
        "{}",
        failure.error
    );

    // verify-full trusting another CA, and by an address the certificate does not name.
    let other = tempfile::tempdir().unwrap();
    drkit_testkit::test_ca::make_certificates_for(other.path(), "DNS:localhost").unwrap();
    let wrong_ca = tls(TlsMode::VerifyFull, Some(other.path().join("ca.pem")));
    let failure = run(&spec(&db, "localhost", wrong_ca, "m5"), &clients, &cancel)
        .await
        .unwrap_err();
    assert!(
        failure.error.contains("invalid peer certificate")
            && failure.error.contains("tls_mode = \"verify-full\""),
        "{}",
        failure.error
    );
    let failure = run(&spec(&db, "127.0.0.1", full, "m6"), &clients, &cancel)
        .await
        .unwrap_err();
    assert!(
        failure.error.contains("not valid for name \"127.0.0.1\""),
        "{}",
        failure.error
    );
    // verify-ca by address: mysql_async 0.36 skips the name check by matching an error
    // text that rustls 0.23.46 no longer prints, so a MySQL verify-ca checks the name too
    // (documented in the guide). When the crate fixes it, this fails: update the guide.
    let failure = run(
        &spec(&db, "127.0.0.1", tls(TlsMode::VerifyCa, Some(ca)), "m7"),
        &clients,
        &cancel,
    )
    .await
    .unwrap_err();
    assert!(
        failure.error.contains("not valid for name \"127.0.0.1\"")
            && failure.error.contains("tls_mode = \"verify-ca\""),
        "{}",
        failure.error
    );
    assert!(
        scratch_dbs(&db).is_empty(),
        "every drill dropped its database"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prefer_falls_back_to_plain_text_and_require_fails_naming_the_server() {
    let (moto, db) = (Moto::start().unwrap(), MariaDb::start().unwrap());
    upload_dump(&moto, &db).await;
    let clients = MotoClients::new(&moto).await;
    let cancel = CancellationToken::new();
    let mut plain = spec(&db, "127.0.0.1", Tls::default(), "p1");
    plain.verify.truncate(1);
    run(&plain, &clients, &cancel)
        .await
        .unwrap_or_else(|f| panic!("prefer connects without TLS: {}", f.error));

    let mut required = spec(&db, "127.0.0.1", tls(TlsMode::Require, None), "p2");
    required.verify.truncate(1);
    let failure = run(&required, &clients, &cancel).await.unwrap_err();
    let at = format!("{}@127.0.0.1:{}", db.user(), db.port());
    assert!(
        failure.error.contains(&at) && failure.error.contains("tls_mode = \"require\""),
        "{}",
        failure.error
    );
    assert!(scratch_dbs(&db).is_empty());
}

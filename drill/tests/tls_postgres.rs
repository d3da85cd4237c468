//! `tls_mode` against real PostgreSQL servers: one that accepts TLS connections only (as RDS
//! for PostgreSQL 15+ with `rds.force_ssl = 1`), its certificate for `localhost` signed by a
//! throwaway CA, and one without TLS. Dump drills restore with the real `pg_restore`/`psql`
//! (`PGSSLMODE`, `PGSSLROOTCERT`) and verify over the drill's own rustls connection; the
//! server's `pg_stat_ssl` says whether a session was encrypted.

use std::path::PathBuf;
use std::time::Duration;

use drkit_drill::{
    run, CancellationToken, CommandCheck, DrillSpec, DumpSource, Secret, Source, Target, Targets,
    Tls, TlsMode, Verify,
};
use drkit_testkit::{Moto, Postgres};

mod support;
use support::MotoClients;

/// Passes only when the check's own session is encrypted.
const OVER_TLS: &str = "SELECT count(*) FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl";

async fn upload_dump(moto: &Moto, pg: &Postgres) {
    pg.psql("postgres", "CREATE DATABASE shop").unwrap();
    pg.psql(
        "shop",
        "CREATE TABLE orders (id serial PRIMARY KEY, total numeric);
         INSERT INTO orders (total) SELECT g FROM generate_series(1, 1200) g;",
    )
    .unwrap();
    let out = pg
        .client("pg_dump")
        .args(["-Fc", "-d", "shop"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s3 = moto.s3("us-east-1").await;
    s3.create_bucket().bucket("backups").send().await.unwrap();
    s3.put_object()
        .bucket("backups")
        .key("daily/shop.dump")
        .body(out.stdout.into())
        .send()
        .await
        .unwrap();
}

fn spec(pg: &Postgres, host: &str, tls: Tls, run_id: &str) -> DrillSpec {
    DrillSpec {
        name: "orders".into(),
        source: Source::PostgresDump(DumpSource {
            s3_uri: "s3://backups/daily/".into(),
            region: "us-east-1".into(),
            decrypt: None,
        }),
        target: Some(Target {
            engine: drkit_drill::Engine::Postgres,
            host: host.into(),
            port: pg.port(),
            database: "postgres".into(),
            username: pg.user().to_string(),
            password: Some(Secret::new(pg.password())),
            pg_bin_dir: Some(pg.bin_dir().to_path_buf()),
            tls,
        }),
        verify: vec![
            Verify::sql("orders", "SELECT count(*) FROM orders", "= 1200".parse().unwrap()),
            Verify::sql("encrypted", OVER_TLS, "= 1".parse().unwrap()),
            // The test suite's libpq gets the same setting: its session is encrypted too.
            Verify::command(
                "psql over TLS",
                CommandCheck {
                    argv: vec![
                        "sh".into(),
                        "-c".into(),
                        format!(
                            "test \"$('{}' -XAt -c \"{OVER_TLS}\")\" = 1 && echo \"mode $PGSSLMODE\"",
                            pg.bin_dir().join("psql").display()
                        ),
                    ],
                    timeout: Duration::from_secs(60),
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

fn scratch_dbs(pg: &Postgres) -> Vec<String> {
    pg.databases()
        .unwrap()
        .into_iter()
        .filter(|d| d.starts_with("drkit_drill_"))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn drills_of_a_tls_only_server_encrypt_verify_its_certificate_or_fail_saying_why() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start_tls_only().unwrap());
    upload_dump(&moto, &pg).await;
    let clients = MotoClients::new(&moto).await;
    let cancel = CancellationToken::new();
    let ca = pg.ca_file().unwrap();

    // require: restored by pg_restore and checked over TLS, by the drill and by the command.
    let report = run(
        &spec(&pg, "127.0.0.1", tls(TlsMode::Require, None), "tls1"),
        &clients,
        &cancel,
    )
    .await
    .unwrap_or_else(|f| panic!("require passes over TLS: {}", f.error));
    assert!(report.verify_results.iter().all(|v| v.passed));
    let command = &report.verify_results[2];
    assert!(
        command
            .output
            .as_deref()
            .is_some_and(|o| o.contains("mode require")),
        "{command:?}"
    );

    // prefer, the default: the server offers TLS, so every connection uses it (the
    // "encrypted" check); this is an RDS for PostgreSQL 15+ copy with rds.force_ssl = 1.
    run(
        &spec(&pg, "127.0.0.1", Tls::default(), "tls1b"),
        &clients,
        &cancel,
    )
    .await
    .unwrap_or_else(|f| panic!("prefer encrypts when offered: {}", f.error));

    // verify-full with the CA that signed the certificate, by the name it carries.
    let full = tls(TlsMode::VerifyFull, Some(ca.clone()));
    run(
        &spec(&pg, "localhost", full.clone(), "tls2"),
        &clients,
        &cancel,
    )
    .await
    .unwrap_or_else(|f| panic!("verify-full with the right CA passes: {}", f.error));

    // disable: the server's pg_hba.conf has hostssl lines only.
    let failure = run(
        &spec(&pg, "127.0.0.1", Tls::disabled(), "tls3"),
        &clients,
        &cancel,
    )
    .await
    .unwrap_err();
    assert!(
        failure.error.contains("no encryption")
            && failure.error.contains("tls_mode = \"disable\"")
            && failure.error.contains("accepts TLS connections only"),
        "{}",
        failure.error
    );

    // verify-full trusting another CA: the certificate's issuer is unknown.
    let other = tempfile::tempdir().unwrap();
    drkit_testkit::test_ca::make_certificates_for(other.path(), "DNS:localhost").unwrap();
    let wrong_ca = tls(TlsMode::VerifyFull, Some(other.path().join("ca.pem")));
    let failure = run(&spec(&pg, "localhost", wrong_ca, "tls4"), &clients, &cancel)
        .await
        .unwrap_err();
    assert!(
        failure.error.contains("invalid peer certificate")
            && failure.error.contains("tls_mode = \"verify-full\"")
            && failure
                .error
                .contains(&other.path().join("ca.pem").display().to_string()),
        "{}",
        failure.error
    );

    // verify-full by address: the certificate names localhost only. verify-ca checks the
    // chain alone, as libpq's does, and passes.
    let failure = run(&spec(&pg, "127.0.0.1", full, "tls5"), &clients, &cancel)
        .await
        .unwrap_err();
    assert!(
        failure.error.contains("not valid for name \"127.0.0.1\""),
        "{}",
        failure.error
    );
    run(
        &spec(&pg, "127.0.0.1", tls(TlsMode::VerifyCa, Some(ca)), "tls6"),
        &clients,
        &cancel,
    )
    .await
    .unwrap_or_else(|f| panic!("verify-ca ignores the name: {}", f.error));

    assert!(
        scratch_dbs(&pg).is_empty(),
        "every drill dropped its database"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prefer_falls_back_to_plain_text_and_require_fails_naming_the_server() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    upload_dump(&moto, &pg).await;
    let clients = MotoClients::new(&moto).await;
    let cancel = CancellationToken::new();
    let mut plain = spec(&pg, "127.0.0.1", Tls::default(), "plain1");
    plain.verify.truncate(1);
    run(&plain, &clients, &cancel)
        .await
        .unwrap_or_else(|f| panic!("prefer connects without TLS: {}", f.error));

    let mut required = spec(&pg, "127.0.0.1", tls(TlsMode::Require, None), "plain2");
    required.verify.truncate(1);
    let failure = run(&required, &clients, &cancel).await.unwrap_err();
    let at = format!("postgres@127.0.0.1:{}", pg.port());
    assert!(
        failure.error.contains(&at)
            && failure.error.contains("server does not support TLS")
            && failure.error.contains("tls_mode = \"require\""),
        "{}",
        failure.error
    );
    assert!(scratch_dbs(&pg).is_empty());
}

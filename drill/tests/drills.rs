//! Drills against real servers: a PostgreSQL 15 scratch cluster, dumps made with the real
//! `pg_dump` and stored in a moto S3, and RDS restores in moto. Results are checked with
//! psql and the AWS SDK, not with what the report claims.

use std::io::Write;
use std::time::Duration;

use drkit_drill::decrypt::{Cipher, Decrypt, KeyDigest};
use drkit_drill::{
    run, CancellationToken, CommandCheck, DrillSpec, DumpSource, RdsSource, RestoreTime, Secret,
    Source, Target, Targets, Verify, WebhookFormat,
};
use drkit_testkit::{Moto, Postgres};

mod support;
use support::{openssl_enc, MotoClients};

fn seed(pg: &Postgres) {
    pg.psql("postgres", "CREATE DATABASE shop").unwrap();
    pg.psql(
        "shop",
        "CREATE TABLE orders (id serial PRIMARY KEY, total numeric, created_at timestamptz DEFAULT now() - interval '90 seconds');
         INSERT INTO orders (total) SELECT g FROM generate_series(1, 5000) g;",
    )
    .unwrap();
}

fn dump(pg: &Postgres, format: &str) -> Vec<u8> {
    let out = pg
        .client("pg_dump")
        .args([format, "-d", "shop"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

async fn put(moto: &Moto, bucket: &str, key: &str, body: Vec<u8>) {
    let s3 = moto.s3("us-east-1").await;
    let _ = s3.create_bucket().bucket(bucket).send().await;
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(body.into())
        .send()
        .await
        .unwrap();
}

fn target(pg: &Postgres) -> Target {
    Target {
        engine: drkit_drill::Engine::Postgres,
        host: pg.host().to_string(),
        port: pg.port(),
        database: "postgres".into(),
        username: pg.user().to_string(),
        password: Some(Secret::new(pg.password())),
        pg_bin_dir: Some(pg.bin_dir().to_path_buf()),
        tls: drkit_drill::Tls::default(),
    }
}

fn spec(pg: &Postgres, uri: &str, checks: &[(&str, &str, &str)], run_id: &str) -> DrillSpec {
    DrillSpec {
        name: "orders".into(),
        source: Source::PostgresDump(DumpSource {
            s3_uri: uri.into(),
            region: "us-east-1".into(),
            decrypt: None,
        }),
        target: Some(target(pg)),
        verify: checks
            .iter()
            .map(|(n, sql, e)| Verify::sql(*n, *sql, e.parse().unwrap()))
            .collect(),
        freshness_sql: None,
        targets: Targets {
            rpo: Some(Duration::from_secs(3600)),
            rto: Some(Duration::from_secs(600)),
        },
        timeout: Duration::from_secs(120),
        run_id: run_id.into(),
    }
}

fn scratch_dbs(pg: &Postgres) -> Vec<String> {
    pg.databases()
        .unwrap()
        .into_iter()
        .filter(|d| d.starts_with("drkit_drill_"))
        .collect()
}

async fn object_age(moto: &Moto, bucket: &str, key: &str) -> f64 {
    let head = moto
        .s3("us-east-1")
        .await
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap();
    let at = head.last_modified().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    now - (at.secs() as f64 + f64::from(at.subsec_nanos()) / 1e9)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_custom_format_dump_restores_verifies_and_is_dropped() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seed(&pg);
    // An older, broken object: the drill must take the newest.
    put(&moto, "backups", "daily/old.dump", b"garbage".to_vec()).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    put(
        &moto,
        "backups",
        "daily/orders-latest.dump",
        dump(&pg, "-Fc"),
    )
    .await;
    let clients = MotoClients::new(&moto).await;
    let spec = spec(
        &pg,
        "s3://backups/daily/",
        &[
            ("orders", "SELECT count(*) FROM orders", "= 5000"),
            ("any", "SELECT id FROM orders", "rows >= 1"),
        ],
        "t1",
    );
    let age_before = object_age(&moto, "backups", "daily/orders-latest.dump").await;
    let report = run(&spec, &clients, &CancellationToken::new())
        .await
        .expect("drill passes");
    let age_after = object_age(&moto, "backups", "daily/orders-latest.dump").await;
    assert_eq!(report.verify_results[0].value.as_deref(), Some("5000"));
    assert_eq!(report.verify_results[1].value.as_deref(), Some("5000"));
    assert!(report
        .restored_from
        .as_deref()
        .unwrap()
        .ends_with("orders-latest.dump"));
    let rpo = report.measured_rpo_seconds.unwrap();
    // The dump's age at some moment of the drill; LastModified has second precision.
    assert!(
        rpo > age_before - 1.0 && rpo < age_after + 1.0,
        "RPO {rpo} is the dump's age during the drill ({age_before}..{age_after})"
    );
    assert!(report.measured_rto_seconds.unwrap() > 0.0);
    assert_eq!(report.rto_met, Some(true));
    let phases: Vec<&str> = report.phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(phases, ["fetch", "restore", "verify", "teardown"]);
    assert!(scratch_dbs(&pg).is_empty(), "scratch database left behind");
    assert!(
        report.teardown.iter().all(|t| t.ok),
        "{:?}",
        report.teardown
    );
    let shown = format!("{report:?}{}{}", report.to_json(), report.to_markdown());
    assert!(
        !shown.contains(pg.password()),
        "the password leaked into the report"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gzipped_plain_dump_restores_and_freshness_sql_sets_the_rpo() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seed(&pg);
    put(
        &moto,
        "backups",
        "sql/orders.sql.gz",
        gzip(&dump(&pg, "-Fp")),
    )
    .await;
    let clients = MotoClients::new(&moto).await;
    let mut spec = spec(
        &pg,
        "s3://backups/sql/",
        &[("orders", "SELECT count(*) FROM orders", "> 0")],
        "t2",
    );
    spec.freshness_sql = Some("SELECT max(created_at) FROM orders".into());
    let report = run(&spec, &clients, &CancellationToken::new())
        .await
        .expect("drill passes");
    let rpo = report.measured_rpo_seconds.unwrap();
    assert!(
        (89.0..120.0).contains(&rpo),
        "newest row is ~90 s old, RPO {rpo}"
    );
    assert!(scratch_dbs(&pg).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_verification_fails_the_drill_keeps_figures_and_drops_everything() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seed(&pg);
    put(&moto, "backups", "daily/orders.dump", dump(&pg, "-Fc")).await;
    let clients = MotoClients::new(&moto).await;
    let spec = spec(
        &pg,
        "s3://backups/daily/",
        &[("orders", "SELECT count(*) FROM orders", "= 1")],
        "t3",
    );
    let failure = run(&spec, &clients, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        failure.error.contains("orders (got 5000, expected = 1)"),
        "{}",
        failure.error
    );
    assert!(!failure.report.verify_results[0].passed);
    assert!(
        failure.report.measured_rpo_seconds.is_some(),
        "figures kept"
    );
    assert_eq!(
        failure.report.measured_rto_seconds, None,
        "no RTO without a passing restore"
    );
    assert!(scratch_dbs(&pg).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn cancelling_mid_drill_still_tears_down() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seed(&pg);
    put(&moto, "backups", "daily/orders.dump", dump(&pg, "-Fc")).await;
    let clients = MotoClients::new(&moto).await;
    let spec = spec(
        &pg,
        "s3://backups/daily/",
        &[("slow", "SELECT pg_sleep(30)", "rows = 1")],
        "t4",
    );
    let cancel = CancellationToken::new();
    let trigger = cancel.clone();
    let pg_check = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        trigger.cancel();
    });
    let started = std::time::Instant::now();
    let failure = run(&spec, &clients, &cancel).await.unwrap_err();
    pg_check.await.unwrap();
    assert!(failure.error.contains("interrupted"), "{}", failure.error);
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "did not wait for the slow query"
    );
    assert!(
        scratch_dbs(&pg).is_empty(),
        "scratch database left after cancel"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn leftovers_of_an_interrupted_drill_are_swept() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    pg.psql("postgres", "CREATE DATABASE drkit_drill_crashed")
        .unwrap();
    let clients = MotoClients::new(&moto).await;
    let removed =
        drkit_drill::sweep_leftovers(&clients, &["us-east-1".into()], Some(&target(&pg))).await;
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert!(scratch_dbs(&pg).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rds_drill_restores_a_temporary_instance_and_deletes_it() {
    let moto = Moto::start().unwrap();
    let east = moto.rds("us-east-1").await;
    east.create_db_instance()
        .db_instance_identifier("orders-db")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-real-password")
        .backup_retention_period(7)
        .send()
        .await
        .unwrap();
    let clients = MotoClients::new(&moto).await;
    let spec = DrillSpec {
        name: "orders-rds".into(),
        source: Source::Rds(RdsSource {
            instance_identifier: "orders-db".into(),
            source_region: "us-east-1".into(),
            restore_region: None,
            restore_time: RestoreTime::Latest,
            instance_class: None,
            from_replicated_backups: false,
            promised_retention_days: Some(7),
            placement: Default::default(),
        }),
        target: None,
        verify: Vec::new(),
        freshness_sql: None,
        targets: Targets {
            rpo: Some(Duration::from_secs(900)),
            rto: Some(Duration::from_secs(3600)),
        },
        timeout: Duration::from_secs(60),
        run_id: "r1".into(),
    };
    let report = run(&spec, &clients, &CancellationToken::new())
        .await
        .expect("drill passes");
    assert_eq!(report.teardown.len(), 1);
    assert!(
        report.teardown[0].what.contains("drkit-drill-r1"),
        "{:?}",
        report.teardown
    );
    let left: Vec<String> = east
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .iter()
        .filter_map(|d| d.db_instance_identifier().map(str::to_string))
        .collect();
    assert_eq!(
        left,
        ["orders-db"],
        "the temporary instance is gone, the source stays"
    );
    assert!(
        report
            .notes
            .iter()
            .any(|n| n.contains("less than the 7 days")),
        "{:?}",
        report.notes
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_json_webhook_gets_a_chat_line_and_the_report_without_secrets() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seed(&pg);
    put(&moto, "backups", "daily/orders.dump", dump(&pg, "-Fc")).await;
    let clients = MotoClients::new(&moto).await;
    let spec = spec(
        &pg,
        "s3://backups/daily/",
        &[("orders", "SELECT count(*) FROM orders", "> 0")],
        "t5",
    );
    let report = run(&spec, &clients, &CancellationToken::new())
        .await
        .unwrap();

    // A one-shot HTTP server standing in for the chat tool.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks/dr", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        let (mut sock, _) = listener.accept().await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let n = sock.read(&mut chunk).await.unwrap();
            buf.extend_from_slice(&chunk[..n]);
            let text = String::from_utf8_lossy(&buf);
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.split_once(':')
                            .filter(|(k, _)| k.eq_ignore_ascii_case("content-length"))
                            .map(|(_, v)| v)
                    })
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                if body.len() >= len {
                    break;
                }
            }
            if n == 0 {
                break;
            }
        }
        sock.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
            .await
            .unwrap();
        String::from_utf8(buf).unwrap()
    });
    drkit_drill::post_webhook(&url, &report, WebhookFormat::Json)
        .await
        .expect("posted");
    let request = server.await.unwrap();
    assert!(request.starts_with("POST /hooks/dr HTTP/1.1"), "{request}");
    let body: serde_json::Value =
        serde_json::from_str(request.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert!(
        body["text"]
            .as_str()
            .unwrap()
            .contains("DR drill orders: RTO"),
        "{body}"
    );
    assert_eq!(body["report"]["verify_results"][0]["value"], "5000");
    assert!(
        !request.contains(pg.password()),
        "the password leaked into the webhook"
    );

    let err = drkit_drill::post_webhook("ftp://hooks.example.com/x", &report, WebhookFormat::Slack)
        .await
        .unwrap_err();
    assert!(err.contains("https:// or http://"), "{err}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_sweep_leaves_a_running_drill_alone() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seed(&pg);
    put(&moto, "backups", "daily/orders.dump", dump(&pg, "-Fc")).await;
    let clients = MotoClients::new(&moto).await;
    let slow = spec(
        &pg,
        "s3://backups/daily/",
        &[("slow", "SELECT pg_sleep(5)", "rows = 1")],
        "busy",
    );
    let running = tokio::spawn(async move {
        let clients = clients;
        run(&slow, &clients, &CancellationToken::new()).await
    });
    // While it verifies, another drill's sweep runs against the same server. The drill
    // downloads and restores first: on a loaded CI machine that takes well over 10 s (seen
    // with the whole suite on 2 cores), so the wait is long and ends as soon as it is there.
    let mut seen = false;
    let deadline = std::time::Instant::now() + Duration::from_secs(120);
    while std::time::Instant::now() < deadline && !running.is_finished() {
        if !scratch_dbs(&pg).is_empty() {
            seen = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(seen, "the slow drill never created its scratch database");
    let other = MotoClients::new(&moto).await;
    let removed =
        drkit_drill::sweep_leftovers(&other, &["us-east-1".into()], Some(&target(&pg))).await;
    assert!(
        removed.is_empty(),
        "a running drill's database was swept: {removed:?}"
    );
    let report = running
        .await
        .unwrap()
        .expect("the running drill still passes");
    assert!(report.verify_results[0].passed);
    assert!(scratch_dbs(&pg).is_empty());
}

fn decrypt(cipher: Cipher, pbkdf2_iter: Option<u32>, pass: &str) -> Option<Decrypt> {
    Some(Decrypt {
        cipher,
        digest: KeyDigest::Sha256,
        pbkdf2_iter,
        passphrase: Secret::new(pass),
    })
}

fn encrypted_spec(
    pg: &Postgres,
    prefix: &str,
    settings: Option<Decrypt>,
    run_id: &str,
) -> DrillSpec {
    let mut spec = spec(
        pg,
        &format!("s3://backups/{prefix}/"),
        &[("orders", "SELECT count(*) FROM orders", "= 5000")],
        run_id,
    );
    if let Source::PostgresDump(d) = &mut spec.source {
        d.decrypt = settings;
    }
    spec
}

#[tokio::test(flavor = "multi_thread")]
async fn dumps_encrypted_by_openssl_restore_in_both_key_derivation_modes() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seed(&pg);
    let pass = "correct horse battery staple";
    let custom_gz = gzip(&dump(&pg, "-Fc"));
    let plain = dump(&pg, "-Fp");
    // The seed's pipeline, in OpenSSL 3's two key derivations, and a plain SQL dump in CTR.
    let cases: [(&str, Vec<u8>, Option<Decrypt>); 4] = [
        (
            "legacy",
            openssl_enc(&custom_gz, &["-aes-256-cbc", "-md", "sha256"], pass),
            decrypt(Cipher::Aes256Cbc, None, pass),
        ),
        (
            "pbkdf2",
            openssl_enc(&custom_gz, &["-aes-256-cbc", "-pbkdf2"], pass),
            decrypt(Cipher::Aes256Cbc, Some(10_000), pass),
        ),
        (
            "ctr",
            openssl_enc(&plain, &["-aes-256-ctr", "-pbkdf2", "-iter", "1000"], pass),
            decrypt(Cipher::Aes256Ctr, Some(1000), pass),
        ),
        (
            "aes128",
            openssl_enc(&gzip(&plain), &["-aes-128-cbc", "-pbkdf2"], pass),
            decrypt(Cipher::Aes128Cbc, Some(10_000), pass),
        ),
    ];
    let clients = MotoClients::new(&moto).await;
    for (prefix, body, settings) in cases {
        put(&moto, "backups", &format!("{prefix}/orders.dump.enc"), body).await;
        let spec = encrypted_spec(&pg, prefix, settings, &format!("enc-{prefix}"));
        let report = run(&spec, &clients, &CancellationToken::new())
            .await
            .unwrap_or_else(|f| panic!("{prefix}: {f}"));
        assert_eq!(
            report.verify_results[0].value.as_deref(),
            Some("5000"),
            "{prefix}"
        );
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("no plaintext copy on disk")),
            "{prefix}: {:?}",
            report.notes
        );
        assert!(
            report.teardown.iter().all(|t| t.ok),
            "{:?}",
            report.teardown
        );
        assert!(
            scratch_dbs(&pg).is_empty(),
            "{prefix}: scratch database left"
        );
        let shown = format!("{report:?}{}", report.to_json());
        assert!(!shown.contains(pass), "{prefix}: the passphrase leaked");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_key_or_an_unencrypted_file_fails_naming_the_object_and_leaves_nothing() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seed(&pg);
    let body = openssl_enc(
        &gzip(&dump(&pg, "-Fc")),
        &["-aes-256-cbc", "-pbkdf2"],
        "right",
    );
    put(&moto, "backups", "wrong/orders.dump.enc", body.clone()).await;
    put(&moto, "backups", "derivation/orders.dump.enc", body).await;
    put(&moto, "backups", "clear/orders.dump", dump(&pg, "-Fc")).await;
    let clients = MotoClients::new(&moto).await;
    let cases = [
        (
            "wrong",
            decrypt(Cipher::Aes256Cbc, Some(10_000), "wrong"),
            "bad decrypt",
        ),
        // The right key through the other derivation is as wrong.
        (
            "derivation",
            decrypt(Cipher::Aes256Cbc, None, "right"),
            "bad decrypt",
        ),
        (
            "clear",
            decrypt(Cipher::Aes256Cbc, None, "right"),
            "no `Salted__` header",
        ),
    ];
    for (prefix, settings, why) in cases {
        let spec = encrypted_spec(&pg, prefix, settings, &format!("bad-{prefix}"));
        let failure = run(&spec, &clients, &CancellationToken::new())
            .await
            .unwrap_err();
        let object = format!("cannot decrypt s3://backups/{prefix}/orders.dump");
        assert!(
            failure.error.contains(&object),
            "{prefix}: {}",
            failure.error
        );
        assert!(failure.error.contains(why), "{prefix}: {}", failure.error);
        assert!(
            scratch_dbs(&pg).is_empty(),
            "{prefix}: scratch database left"
        );
        assert!(
            failure.report.teardown.iter().all(|t| t.ok),
            "{:?}",
            failure.report.teardown
        );
        let dir = failure.report.teardown.last().unwrap().what.clone();
        let dir = dir.trim_start_matches("downloaded dump in ");
        assert!(!std::path::Path::new(dir).exists(), "{dir} left behind");
    }
}

fn command(argv: &[&str], timeout: Duration) -> CommandCheck {
    CommandCheck {
        argv: argv.iter().map(|a| a.to_string()).collect(),
        timeout,
        working_dir: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn command_checks_see_the_copy_and_pass_fail_or_time_out() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seed(&pg);
    put(&moto, "backups", "daily/orders.dump", dump(&pg, "-Fc")).await;
    let clients = MotoClients::new(&moto).await;
    let psql = pg.bin_dir().join("psql");
    let dir = tempfile::tempdir().unwrap();
    // An integration test that reads the copy through the PG* environment only.
    let smoke = dir.path().join("smoke.sh");
    std::fs::write(
        &smoke,
        format!(
            "#!/bin/sh\nset -e\necho \"testing $PGDATABASE as $PGUSER with $PGPASSWORD\"\nn=$({} -X -A -t -c 'SELECT count(*) FROM orders')\necho \"orders: $n\"\ntest \"$n\" = \"$1\"\n",
            psql.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&smoke, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let with = |check: CommandCheck, run_id: &str| {
        let mut s = spec(
            &pg,
            "s3://backups/daily/",
            &[("orders", "SELECT count(*) FROM orders", "= 5000")],
            run_id,
        );
        s.verify.push(Verify::command("smoke", check));
        s
    };

    let mut passing = command(&["./smoke.sh", "5000"], Duration::from_secs(60));
    passing.working_dir = Some(dir.path().to_path_buf());
    let report = run(
        &with(passing, "cmd-pass"),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .expect("the smoke test passes");
    let smoke_result = &report.verify_results[1];
    assert!(smoke_result.passed);
    assert_eq!(smoke_result.value.as_deref(), Some("exit 0"));
    let output = smoke_result.output.as_deref().unwrap();
    assert!(output.contains("orders: 5000"), "{output}");
    assert!(
        output.contains("testing drkit_drill_cmd_pass as"),
        "{output}"
    );
    assert!(output.contains("with ***"), "password redacted: {output}");
    assert!(!format!("{report:?}{}", report.to_markdown()).contains(pg.password()));

    let mut failing = command(&["./smoke.sh", "1"], Duration::from_secs(60));
    failing.working_dir = Some(dir.path().to_path_buf());
    let failure = run(
        &with(failing, "cmd-fail"),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(
        failure
            .error
            .contains("smoke (got exit 1, expected exit 0)"),
        "{}",
        failure.error
    );
    assert!(failure.report.verify_results[1]
        .output
        .as_deref()
        .unwrap()
        .contains("orders: 5000"));
    assert!(scratch_dbs(&pg).is_empty());

    // A test that hangs, with a child of its own: both die at the timeout.
    let pidfile = dir.path().join("child.pid");
    let script = format!("sleep 300 & echo $! > {}; wait", pidfile.display());
    let hanging = command(&["sh", "-c", &script], Duration::from_secs(2));
    let started = std::time::Instant::now();
    let failure = run(
        &with(hanging, "cmd-hang"),
        &clients,
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(60));
    let result = &failure.report.verify_results[1];
    assert_eq!(result.value.as_deref(), Some("timed out"));
    assert!(result
        .error
        .as_deref()
        .unwrap()
        .contains("process group were killed"));
    let child: u32 = std::fs::read_to_string(&pidfile)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let mut gone = false;
    for _ in 0..50 {
        if !drkit_testkit::tools::process_alive(child) {
            gone = true;
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(gone, "the command's child {child} outlived the timeout");
    assert!(scratch_dbs(&pg).is_empty());
}

//! `dr_drill` with a `mysql_dump` source through the real terraform CLI: a real MariaDB
//! 10.11 server, a real `mariadb-dump` in moto S3. Checked with SQL on the server and the
//! state file, not with what the provider claims.

mod policy_support;

use drkit_testkit::{MariaDb, Moto};
use policy_support::{terraform, PRIMARY};

const PASSWORD_ENV: &str = "DRILL_MYSQL_PASSWORD";

/// A `shop` database with 1,500 orders, dumped to `s3://mysql-backups/daily/`.
async fn seeded(moto: &Moto, db: &MariaDb) {
    db.sql(None, "CREATE DATABASE shop").unwrap();
    db.sql(
        Some("shop"),
        "CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2));
         INSERT INTO orders SELECT seq, seq FROM seq_1_to_1500;",
    )
    .unwrap();
    let dump = db.dump(&["--single-transaction", "shop"]).unwrap();
    let s3 = moto.s3(PRIMARY).await;
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

fn drill(db: &MariaDb, target_extra: &str) -> String {
    format!(
        r#"
resource "dr_drill" "shop" {{
  policy_id = "shop"
  rpo       = "1h"
  rto       = "10m"

  mysql_dump {{
    s3_uri = "s3://mysql-backups/daily/"
  }}

  target {{
    host         = "{host}"
    port         = {port}
    username     = "{user}"
    password_env = "{PASSWORD_ENV}"
    {target_extra}
  }}

  verify {{
    name   = "orders restored"
    sql    = "SELECT count(*) FROM orders"
    expect = "= 1500"
  }}
}}
"#,
        host = db.host(),
        port = db.port(),
        user = db.user(),
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
async fn a_mysql_dump_drill_records_measured_figures_and_leaves_nothing() {
    let (moto, db) = (Moto::start().unwrap(), MariaDb::start().unwrap());
    seeded(&moto, &db).await;
    let mut tf = terraform(&moto, &drill(&db, "engine = \"mariadb\""));
    tf.env(PASSWORD_ENV, db.password());
    let out = tf.apply().unwrap();
    let state = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    assert_eq!(state["verify_results"][0]["value"], "1500");
    let rto = state["measured_rto_seconds"].as_f64().unwrap();
    assert!(rto > 0.0 && rto < 600.0, "{rto}");
    let rpo = state["measured_rpo_seconds"].as_f64().unwrap();
    assert!((0.0..60.0).contains(&rpo), "{rpo}");
    let report: serde_json::Value =
        serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    assert_eq!(report["source_kind"], "mysql_dump");
    assert!(
        report["rpo_from"]
            .as_str()
            .unwrap()
            .contains("-- Dump completed on"),
        "{report:#}"
    );
    assert!(scratch_dbs(&db).is_empty(), "scratch database left");
    let state_file = std::fs::read_to_string(tf.dir().join("terraform.tfstate")).unwrap();
    for (what, text) in [("state", state_file.as_str()), ("output", &out.combined())] {
        assert!(
            !text.contains(db.password()),
            "the password leaked into the {what}"
        );
    }
    tf.assert_plan_empty().unwrap();
    tf.destroy().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn refused_credentials_fail_the_apply_naming_the_dump_and_a_wrong_engine_is_refused_at_plan()
{
    let (moto, db) = (Moto::start().unwrap(), MariaDb::start().unwrap());
    seeded(&moto, &db).await;
    // No engine: a mysql_dump target speaks MySQL.
    let mut tf = terraform(&moto, &drill(&db, ""));
    tf.env(PASSWORD_ENV, "not-the-password");
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(!out.success());
    let text = out.combined();
    assert!(text.contains("DR drill failed"), "{text}");
    assert!(
        text.contains("s3://mysql-backups/daily/shop.sql") && text.contains("Access denied"),
        "{text}"
    );
    assert!(scratch_dbs(&db).is_empty());

    policy_support::rewrite(&tf, &moto, &drill(&db, "engine = \"postgres\""));
    let out = tf.run(&["plan", "-input=false"]).unwrap();
    assert!(!out.success());
    let text = out.combined();
    assert!(
        text.contains("Engine does not match the source") && text.contains("engine = \"postgres\""),
        "{text}"
    );
}

/// `bytes` through the real `gzip`.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = std::process::Command::new("gzip")
        .arg("-c")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    out.stdout
}

#[tokio::test(flavor = "multi_thread")]
async fn damaged_dumps_fail_the_apply_naming_the_object_keep_the_figures_and_leave_nothing() {
    let (moto, db) = (Moto::start().unwrap(), MariaDb::start().unwrap());
    seeded(&moto, &db).await;
    // Larger than what the drill reads to recognise a dump, so that the damage is found
    // while the dump streams into the client, after the scratch database was created.
    db.sql(
        Some("shop"),
        "CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(200));
         INSERT INTO notes SELECT seq, CONCAT(SHA2(seq, 256), ' ', MD5(seq)) FROM seq_1_to_20000;",
    )
    .unwrap();
    let dump = db.dump(&["--single-transaction", "shop"]).unwrap();
    let mut corrupt = gzip(&dump);
    let middle = corrupt.len() / 2;
    corrupt[middle..middle + 512].fill(0x5a);
    let s3 = moto.s3(PRIMARY).await;
    for (key, body) in [
        ("corrupt/shop.sql.gz", corrupt),
        ("cut/shop.sql", dump[..dump.len() / 2].to_vec()),
    ] {
        s3.put_object()
            .bucket("mysql-backups")
            .key(key)
            .body(body.into())
            .send()
            .await
            .unwrap();
    }
    let cases = [
        (
            "corrupt/",
            "s3://mysql-backups/corrupt/shop.sql.gz does not decompress (cut off or corrupt gzip)",
        ),
        (
            "cut/",
            "s3://mysql-backups/cut/shop.sql is truncated: it ends without mysqldump's `-- Dump completed` line",
        ),
    ];
    for (prefix, want) in cases {
        let config = drill(&db, "engine = \"mariadb\"").replace("daily/", prefix);
        let mut tf = terraform(&moto, &config);
        tf.env(PASSWORD_ENV, db.password());
        let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
        assert!(!out.success(), "{prefix}");
        let text = out.combined();
        assert!(text.contains("DR drill failed"), "{prefix}: {text}");
        // Terraform wraps long diagnostics: compare without line breaks.
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains(want), "{prefix}: {text}");
        let state = tf.resource("dr_drill.shop").unwrap();
        assert_eq!(state["passed"], false, "{prefix}");
        assert!(
            state["measured_rpo_seconds"].as_f64().is_some(),
            "{prefix}: figures kept: {state:#}"
        );
        let report: serde_json::Value =
            serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
        let phases: Vec<&str> = report["phases"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|p| p["name"].as_str())
            .collect();
        assert!(phases.contains(&"restore"), "{prefix}: {report:#}");
        assert!(
            scratch_dbs(&db).is_empty(),
            "{prefix}: scratch database left"
        );
        tf.destroy().unwrap();
    }
    assert_eq!(
        db.sql(Some("shop"), "SELECT count(*) FROM notes").unwrap(),
        "20000",
        "the real database is as it was"
    );
}

//! `dr_drill` with a `mysql_binlog` source through the real terraform CLI: a real MariaDB
//! 10.11 source server with its binary log on, a real `mariadb-dump --master-data=2` and
//! its real binlog files in moto S3. Checked with the state file and the machine (no
//! temporary server or directory left), not with what the provider claims.

mod policy_support;

use drkit_testkit::{MariaDb, Moto};
use policy_support::{terraform, PRIMARY};

const BUCKET: &str = "mysql-pitr";

/// 100 orders, the dump, 200 orders, 300 orders; the binlog rotated after each step; every
/// closed binlog file archived. Returns the archived file names, in order.
async fn archived(moto: &Moto, db: &MariaDb) -> Vec<String> {
    let s3 = moto.s3(PRIMARY).await;
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let put = |key: String, body: Vec<u8>| {
        let s3 = s3.clone();
        async move {
            s3.put_object()
                .bucket(BUCKET)
                .key(key)
                .body(body.into())
                .send()
                .await
                .unwrap();
        }
    };
    db.sql(None, "CREATE DATABASE shop").unwrap();
    let insert = |n: u32| {
        db.sql(
            Some("shop"),
            &format!("INSERT INTO orders (total) SELECT seq FROM seq_1_to_{n}"),
        )
        .unwrap();
        db.sql(None, "FLUSH BINARY LOGS").unwrap();
    };
    db.sql(
        Some("shop"),
        "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2))",
    )
    .unwrap();
    insert(100);
    let dump = db
        .dump(&[
            "--single-transaction",
            "--master-data=2",
            "--databases",
            "shop",
        ])
        .unwrap();
    put("dumps/shop.sql".into(), dump).await;
    insert(200);
    insert(300);
    let mut names: Vec<String> = std::fs::read_dir(db.data_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("mysql-bin.") && !n.ends_with(".index"))
        .collect();
    names.sort();
    for n in &names {
        put(
            format!("binlogs/{n}"),
            std::fs::read(db.data_dir().join(n)).unwrap(),
        )
        .await;
    }
    names
}

const DRILL: &str = r#"
resource "dr_drill" "shop" {
  policy_id = "shop"
  rpo       = "1h"
  rto       = "10m"

  mysql_binlog {
    base_dump_uri = "s3://mysql-pitr/dumps/"
    binlog_uri    = "s3://mysql-pitr/binlogs/"
    target_time   = "latest"
  }

  verify {
    name   = "every order replayed"
    sql    = "SELECT count(*) FROM orders"
    expect = "= 600"
  }
}
"#;

/// Drill directories and servers left on the machine.
fn leftovers() -> Vec<String> {
    let dirs = std::fs::read_dir(std::env::temp_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        // A binlog drill's directory (PostgreSQL PITR drills may run beside this test).
        .filter(|n| {
            let dir = std::env::temp_dir().join(n);
            n.starts_with("drkit-pitr-") && dir.join("data").join("mysql").exists()
        });
    let servers = std::fs::read_dir("/proc").unwrap().filter_map(|e| {
        let cmd = std::fs::read(e.ok()?.path().join("cmdline")).ok()?;
        let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
        (cmd.contains("mariadbd") && cmd.contains("drkit-pitr-")).then_some(cmd)
    });
    dirs.chain(servers).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binlog_drill_replays_to_the_latest_and_a_deleted_binlog_fails_naming_it() {
    let (moto, db) = (
        Moto::start().unwrap(),
        MariaDb::start_with_binlog().unwrap(),
    );
    let names = archived(&moto, &db).await;
    let before = leftovers();
    let tf = terraform(&moto, DRILL);
    tf.apply().unwrap();
    let state = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    assert_eq!(state["verify_results"][0]["value"], "600");
    let rpo = state["measured_rpo_seconds"].as_f64().unwrap();
    assert!((0.0..300.0).contains(&rpo), "{rpo}");
    assert!(state["archive_lag_seconds"].as_f64().unwrap() >= 0.0);
    let report: serde_json::Value =
        serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    assert_eq!(report["source_kind"], "mysql_binlog");
    assert_eq!(report["binlog"]["databases"][0], "shop", "{report:#}");
    assert_eq!(report["rpo_from"], "the last replayed binlog transaction");
    tf.assert_plan_empty().unwrap();

    // A middle binlog goes missing: the next drill fails naming it.
    let missing = &names[2];
    moto.s3(PRIMARY)
        .await
        .delete_object()
        .bucket(BUCKET)
        .key(format!("binlogs/{missing}"))
        .send()
        .await
        .unwrap();
    policy_support::rewrite(&tf, &moto, &DRILL.replace("\"latest\"", "\"random\""));
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(!out.success());
    let text = out.combined();
    assert!(
        text.contains(&format!("binlog {missing} is missing from the archive")),
        "{text}"
    );
    let after = leftovers();
    assert!(
        after.iter().all(|l| before.contains(l)),
        "left behind: {after:?}"
    );
    tf.destroy().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_binlog_settings_are_refused_at_plan() {
    let moto = Moto::start().unwrap();
    let tf = terraform(
        &moto,
        &DRILL
            .replace("\"latest\"", "\"yesterday\"")
            .replace("s3://mysql-pitr/binlogs/", "mysql-pitr/binlogs/"),
    );
    let out = tf.run(&["plan", "-input=false"]).unwrap();
    assert!(!out.success());
    let text = out.combined();
    assert!(
        text.contains("Invalid target_time") && text.contains("Invalid binlog_uri"),
        "{text}"
    );
}

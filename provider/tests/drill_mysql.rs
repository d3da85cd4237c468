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

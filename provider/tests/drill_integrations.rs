//! `dr_drill` as teams run it, through the real terraform CLI: the outcome posted to an
//! HTTPS webhook (a local receiver with its own CA), `rds` drills verified with real SQL
//! and an integration-test command (moto's restored copy answers from a local PostgreSQL
//! through [`RdsCopyProxy`]), targets taken from the policy, and a restore from backups
//! replicated into the DR region.

mod drill_support;
mod policy_support;

use drill_support::*;
use drkit_testkit::{HttpsReceiver, Moto, Postgres, RdsCopyProxy, ReplicatedBackup, Terraform};
use policy_support::{seed_db, PRIMARY, PROVIDER};

/// The Slack message the receiver got, parsed.
fn slack_message(body: &str) -> serde_json::Value {
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn the_outcome_goes_to_an_https_webhook_through_a_429_and_a_dead_receiver_only_warns() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seeded(&moto, &pg).await;
    let receiver = HttpsReceiver::start(&[429]).unwrap();
    let hook = receiver.url("/services/T000/B000/XXXXSECRETPATH");
    let config = |url: &str, run: &str| {
        drill(
            &pg,
            &format!("webhook_url = \"{url}\"\n  triggers = {{ run = \"{run}\" }}"),
            COUNT_CHECK,
        )
    };
    let mut tf = policy_support::terraform(&moto, &config(&hook, "1"));
    tf.env(PASSWORD_ENV, pg.password());
    tf.env("SSL_CERT_FILE", receiver.ca_file().display().to_string());
    let out = tf.apply().unwrap();
    assert!(
        !out.combined().contains("Could not post"),
        "the post went through: {out}"
    );

    let got = receiver.received();
    let statuses: Vec<u16> = got.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [429, 200], "retried after the 429");
    let waited = got[1].at - got[0].at;
    assert!(
        waited >= std::time::Duration::from_millis(900),
        "the retry honoured Retry-After: 1 (waited {waited:?})"
    );
    assert!(got[1]
        .request_line
        .starts_with("POST /services/T000/B000/XXXXSECRETPATH"));
    let message = slack_message(&got[1].body);
    let text = message["text"].as_str().unwrap();
    assert!(text.contains("DR drill shop"), "{text}");
    let blocks = message["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert!(
        blocks[0]["text"]["text"]
            .as_str()
            .unwrap()
            .contains("passed"),
        "{message:#}"
    );
    let state = tf.resource("dr_drill.shop").unwrap();
    let rto = state["measured_rto_seconds"].as_f64().unwrap();
    let fields = blocks[1]["fields"].to_string();
    assert!(
        fields.contains(&format!("{rto:.1}s")),
        "RTO {rto} in {fields}"
    );
    assert!(fields.contains("(target 10m 00s)"), "{fields}");
    assert!(fields.contains("(target 1h 00m)"), "{fields}");
    assert!(fields.contains("1/1 passed"), "{fields}");
    assert!(
        message.to_string().contains("`restore`"),
        "phases: {message:#}"
    );
    for r in &got {
        assert!(!r.body.contains(pg.password()), "the password was posted");
        assert!(
            !r.body.contains(&moto_secret(&moto)),
            "the AWS secret was posted"
        );
    }

    // The receiver is gone: the drill still runs, passes, and says so.
    drop(receiver);
    let dead = format!(
        "https://localhost:{}/hook",
        drkit_testkit::tools::free_port().unwrap()
    );
    policy_support::rewrite(&tf, &moto, &config(&dead, "2"));
    let out = tf.apply().unwrap();
    let text = out.combined();
    assert!(text.contains("Could not post the drill report"), "{text}");
    assert!(text.contains("outcome is unaffected"), "{text}");
    let state = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    let report: serde_json::Value =
        serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    assert!(
        report["notes"]
            .to_string()
            .contains("webhook not delivered"),
        "{report:#}"
    );
    assert!(scratch_dbs(&pg).is_empty());
}

fn moto_secret(moto: &Moto) -> String {
    moto.env()
        .into_iter()
        .find(|(k, _)| k == "AWS_SECRET_ACCESS_KEY")
        .map(|(_, v)| v)
        .unwrap()
}

/// A `shop` database whose newest order is 90 seconds old: the data the restored copy holds.
fn seed_copy(pg: &Postgres) {
    pg.psql("postgres", "CREATE DATABASE shop").unwrap();
    pg.psql(
        "shop",
        "CREATE TABLE orders (id serial PRIMARY KEY, total numeric, created_at timestamptz DEFAULT now() - interval '90 seconds');
         INSERT INTO orders (total) SELECT g FROM generate_series(1, 2500) g;",
    )
    .unwrap();
}

/// A Terraform directory whose RDS calls go through `proxy` (S3 straight to moto).
fn through_proxy(moto: &Moto, proxy: &RdsCopyProxy, pg: &Postgres, resources: &str) -> Terraform {
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(moto.env());
    tf.env(PASSWORD_ENV, pg.password());
    write_config(&tf, moto, proxy, resources);
    tf
}

fn write_config(tf: &Terraform, moto: &Moto, proxy: &RdsCopyProxy, resources: &str) {
    let provider = format!(
        r#"terraform {{
  required_providers {{
    dr = {{ source = "drkit/dr" }}
  }}
}}

provider "dr" {{
  region      = "{PRIMARY}"
  dr_region   = "us-west-2"
  max_retries = 2
  endpoints {{
    rds = "{}"
    s3  = "{}"
  }}
}}
"#,
        proxy.endpoint(),
        moto.endpoint()
    );
    tf.write("main.tf", &format!("{provider}\n{resources}"))
        .unwrap();
}

/// An `rds` drill of `orders-db` checked with SQL, `freshness_sql` and a command.
fn rds_drill(pg: &Postgres, policy_id: &str, rds_extra: &str, expect: &str, run: &str) -> String {
    let psql = pg.bin_dir().join("psql");
    format!(
        r#"
resource "dr_drill" "orders" {{
  policy_id     = {policy_id}
  freshness_sql = "SELECT max(created_at) FROM orders"
  triggers      = {{ run = "{run}" }}

  rds {{
    instance_identifier = "orders-db"
    {rds_extra}
  }}

  target {{
    host         = "ignored.invalid"
    database     = "shop"
    username     = "{user}"
    password_env = "{PASSWORD_ENV}"
  }}

  verify {{
    name   = "orders restored"
    sql    = "SELECT count(*) FROM orders"
    expect = "{expect}"
  }}

  verify {{
    name    = "smoke test"
    command = ["sh", "-c", "echo \"checking $PGDATABASE on $PGHOST:$PGPORT\"; test \"$({psql} -XAtc 'SELECT count(*) FROM orders')\" = 2500"]
    timeout = "1m"
  }}
}}
"#,
        user = pg.user(),
        psql = psql.display(),
    )
}

async fn instances(moto: &Moto, region: &str) -> Vec<String> {
    moto.rds(region)
        .await
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .iter()
        .filter_map(|d| d.db_instance_identifier().map(str::to_string))
        .filter(|id| id.starts_with("drkit-drill-"))
        .collect()
}

fn report_of(tf: &Terraform) -> (serde_json::Value, serde_json::Value) {
    let state = tf.resource("dr_drill.orders").unwrap();
    let report = serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    (state, report)
}

/// The copy's server accepts TLS connections only, as RDS for PostgreSQL 15+ does
/// (`rds.force_ssl = 1`): the default `tls_mode` (`prefer`) passes there, and so does
/// `verify-ca` with the server's CA in the rds block.
#[tokio::test(flavor = "multi_thread")]
async fn an_rds_drill_verifies_the_restored_copy_with_sql_and_takes_the_policys_targets() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start_tls_only().unwrap());
    seed_copy(&pg);
    let source = seed_db(&moto, "orders-db", false).await;
    let proxy = RdsCopyProxy::start(moto.port(), pg.host(), pg.port()).unwrap();
    let policy = r#"
resource "dr_policy" "orders" {
  name   = "orders"
  rpo    = "4h"
  rto    = "2h"
  owners = ["alice", "bob"]

  rds {
    instance_identifier   = "orders-db"
    backup_retention_days = 7
    cross_region_replica {}
  }
}
"#;
    let config = |rds_extra: &str, expect: &str, run: &str| {
        format!(
            "{policy}{}",
            rds_drill(&pg, "dr_policy.orders.id", rds_extra, expect, run)
        )
    };
    let tf = through_proxy(
        &moto,
        &proxy,
        &pg,
        &config("restore_time = \"latest\"", "= 2500", "1"),
    );
    tf.apply().unwrap();
    let (state, report) = report_of(&tf);
    assert_eq!(state["passed"], true, "{report:#}");
    let results = state["verify_results"].as_array().unwrap();
    assert_eq!(
        results[0]["value"], "2500",
        "real rows came back: {report:#}"
    );
    assert_eq!(results[1]["value"], "exit 0");
    let output = report["verify_results"][1]["output"].as_str().unwrap();
    assert!(
        output.contains(&format!("on {}:{}", pg.host(), pg.port())),
        "{output}"
    );
    // The newest row is ~90 s old: freshness_sql measured it on the copy.
    let rpo = state["measured_rpo_seconds"].as_f64().unwrap();
    assert!((89.0..200.0).contains(&rpo), "RPO {rpo}");
    // No rpo/rto on the drill: the policy's, read from its tags.
    assert_eq!(report["target_rpo_seconds"], 14400.0, "{report:#}");
    assert_eq!(report["target_rto_seconds"], 7200.0);
    assert_eq!(state["rpo_met"], true);
    assert!(
        report["targets_from"]
            .as_str()
            .unwrap()
            .contains("drkit:targets tag on RDS instance orders-db"),
        "{report:#}"
    );
    assert!(
        instances(&moto, PRIMARY).await.is_empty(),
        "the copy was deleted"
    );

    // An explicit point in time: the RPO is what the copy misses of the data up to it.
    let created = source.instance_create_time().unwrap().secs();
    let point = time::OffsetDateTime::from_unix_timestamp(created + 1).unwrap();
    let point = point
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    write_config(
        &tf,
        &moto,
        &proxy,
        &config(
            &format!(
                "restore_time = \"{point}\"\n    tls_mode    = \"verify-ca\"\n    tls_ca_file = \"{}\"",
                pg.ca_file().unwrap().display()
            ),
            "= 2500",
            "2",
        ),
    );
    tf.apply().unwrap();
    let (state, report) = report_of(&tf);
    assert_eq!(state["passed"], true, "{report:#}");
    assert!(report["restored_from"]
        .as_str()
        .unwrap()
        .contains(&point[..19]));

    // A random point in the window, and a check that fails: the apply fails, the copy goes.
    write_config(
        &tf,
        &moto,
        &proxy,
        &config("restore_time = \"random\"", "= 1", "3"),
    );
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(!out.success());
    let text = out.combined();
    assert!(text.contains("got 2500, expected = 1"), "{text}");
    assert!(
        text.contains("Torn down: temporary instance drkit-drill-"),
        "{text}"
    );
    assert!(
        instances(&moto, PRIMARY).await.is_empty(),
        "the copy was deleted"
    );
    let (state, _) = report_of(&tf);
    assert_eq!(state["passed"], false);

    // verify-full: the copy's certificate names `localhost`, not the endpoint's address.
    write_config(
        &tf,
        &moto,
        &proxy,
        &config(
            &format!(
                "tls_mode    = \"verify-full\"\n    tls_ca_file = \"{}\"",
                pg.ca_file().unwrap().display()
            ),
            "= 2500",
            "4",
        ),
    );
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(!out.success());
    let text = out.combined();
    assert!(
        text.contains("not valid for name") && text.contains("verify-full"),
        "{text}"
    );
    assert!(
        instances(&moto, PRIMARY).await.is_empty(),
        "the copy was deleted"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_drill_restores_from_backups_replicated_into_the_dr_region() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seed_copy(&pg);
    let source = seed_db(&moto, "orders-db", false).await;
    // moto keeps no replicated backups: the proxy plays them, restoring a stand-in.
    let standin = moto.rds("us-west-2").await;
    standin
        .create_db_instance()
        .db_instance_identifier("orders-db-replicated")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("dr")
        .master_user_password("password1")
        .send()
        .await
        .unwrap();
    let proxy = RdsCopyProxy::start(moto.port(), pg.host(), pg.port()).unwrap();
    let now = time::OffsetDateTime::now_utc();
    let fmt = |t: time::OffsetDateTime| {
        t.format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let backup_arn = "arn:aws:rds:us-west-2:123456789012:auto-backup:ab-drkittest";
    proxy.replicate(ReplicatedBackup {
        region: "us-west-2".into(),
        source_arn: source.db_instance_arn().unwrap().to_string(),
        source_id: "orders-db".into(),
        arn: backup_arn.into(),
        standin_id: "orders-db-replicated".into(),
        earliest: fmt(now - time::Duration::days(1)),
        latest: fmt(now - time::Duration::minutes(5)),
    });
    let config = rds_drill(
        &pg,
        "\"orders\"",
        "region                  = \"us-west-2\"\n    from_replicated_backups = true",
        "= 2500",
        "1",
    );
    let tf = through_proxy(&moto, &proxy, &pg, &config);
    // Neither the drill nor an untagged policy sets a target: the plan says so.
    let plan = tf.run(&["plan", "-input=false"]).unwrap();
    assert!(plan.combined().contains("Drill without a target"), "{plan}");
    tf.apply().unwrap();
    let (state, report) = report_of(&tf);
    assert_eq!(state["passed"], true, "{report:#}");
    let from = report["restored_from"].as_str().unwrap();
    assert!(
        from.contains("replicated into us-west-2") && from.contains(backup_arn),
        "{from}"
    );
    assert_eq!(state["verify_results"][0]["value"], "2500");
    let seen = proxy.seen();
    for call in [
        "us-west-2 DescribeDBInstanceAutomatedBackups",
        "us-west-2 RestoreDBInstanceToPointInTime",
        "us-west-2 DeleteDBInstance",
    ] {
        assert!(seen.iter().any(|s| s == call), "{call} not in {seen:?}");
    }
    assert!(
        report["notes"]
            .to_string()
            .contains("Neither this drill nor its policy"),
        "{report:#}"
    );
    assert!(
        instances(&moto, "us-west-2").await.is_empty(),
        "the copy was deleted"
    );
}

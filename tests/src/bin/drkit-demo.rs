//! The README's main job: the quickstart applied against a local AWS (moto) and a real
//! PostgreSQL, a drill that restores a real dump and measures RTO/RPO, checks of the applied
//! settings through the AWS API, and drlint on the examples. Everything it starts is
//! stopped at the end, on failure and on Ctrl-C.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use anyhow::{bail, Context, Result};
use drkit_testkit::{
    tools, upload_base_backup, ArchivingPostgres, MariaDb, Moto, Postgres, Terraform,
    WalCompression,
};

const PRIMARY: &str = "us-east-1";
const DR: &str = "us-west-2";

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    // Ctrl-C ends the demo future; the guards inside it drop and stop moto and PostgreSQL.
    let outcome = tokio::select! {
        result = demo() => result,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted; everything started was stopped")),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn say(text: &str) {
    eprintln!("\n==> {text}");
}

async fn demo() -> Result<()> {
    let bin_dir = std::env::current_exe()?
        .parent()
        .context("the demo binary has no directory")?
        .to_path_buf();
    let provider = bin_dir.join("terraform-provider-dr");
    let drlint = bin_dir.join("drlint");
    for binary in [&provider, &drlint, &bin_dir.join("drkit")] {
        if !binary.is_file() {
            bail!(
                "{} is missing: build with `cargo build --workspace --bins` (scripts/demo does)",
                binary.display()
            );
        }
    }
    let examples = tools::repo_root().join("examples");

    say("starting moto (local AWS) and a scratch PostgreSQL 15");
    let moto = Moto::start()?;
    let pg = Postgres::start()?;
    eprintln!(
        "    moto at {}, PostgreSQL at {}:{}",
        moto.endpoint(),
        pg.host(),
        pg.port()
    );

    say(
        "seeding: the production database, its nightly pg_dump in S3, the RDS instance and buckets",
    );
    seed(&moto, &pg).await?;

    let slack = slack_stand_in()?;

    say("terraform apply examples/quickstart (dr_policy, dr_drill, dr_runbook)");
    let mut tf = Terraform::new(&provider)?;
    tf.envs(moto.env());
    tf.env("DRILL_PG_PASSWORD", pg.password());
    // The receiver's private CA, trusted the way an internal webhook's would be.
    tf.env("SSL_CERT_FILE", slack.ca_file().display().to_string());
    copy_tf_files(&examples.join("quickstart"), tf.dir())?;
    tf.write(
        "terraform.tfvars",
        &format!(
            "aws_endpoint      = \"{}\"\ndrill_host        = \"{}\"\ndrill_port        = {}\ndrill_user        = \"{}\"\ndrill_webhook_url = \"{}\"\n",
            moto.endpoint(),
            pg.host(),
            pg.port(),
            pg.user(),
            slack.url("/services/T0DEMO/B0DEMO/drkit")
        ),
    )?;
    let applied = tf.apply()?;
    for line in applied.stdout.lines().filter(|l| {
        l.contains("Creation complete")
            || l.contains("Read complete")
            || l.starts_with("Apply complete")
    }) {
        eprintln!("    {line}");
    }

    say("what the policy and the drill report (terraform output)");
    let outputs = tf.run_ok(&["output", "-json"])?;
    let outputs: serde_json::Value = serde_json::from_str(&outputs.stdout)?;
    print_outputs(&outputs);

    say("the drill: measured against the policy's targets");
    let pg_left = scratch_left(pg.databases()?);
    print_drill(&tf, "dr_drill.orders", pg_left, "psql")?;

    say("the drill's Slack message, as the local https:// receiver got it");
    print_slack_message(&slack, pg.password())?;

    say("the same drill on MariaDB: a nightly mariadb-dump restored through the mariadb client");
    mysql_dump_drill(&moto, &provider, &tf).await?;

    say("a MariaDB point-in-time recovery drill: a --master-data=2 dump + archived binlogs, replayed to a moment between two batches");
    mysql_binlog_drill(&moto, &provider).await?;

    say("a point-in-time recovery drill: base backup + WAL archive, replayed to a moment between two commits");
    pitr_drill(&moto, &provider).await?;

    say("the failover runbook (dr_runbook)");
    let runbook = outputs["runbook"]["value"].as_str().unwrap_or_default();
    let runbook_file = tools::repo_root().join("target/demo/orders-runbook.md");
    std::fs::create_dir_all(runbook_file.parent().unwrap_or(Path::new(".")))?;
    std::fs::write(&runbook_file, runbook)?;
    for line in runbook.lines().filter(|l| {
        l.contains("aws rds promote-read-replica")
            || l.starts_with("- R")
            || l.starts_with("- Last drill")
    }) {
        eprintln!("    {}", line.trim());
    }
    eprintln!("    (whole runbook: {})", runbook_file.display());

    say("checked through the AWS API, not through what the provider claims");
    verify_through_aws(&moto).await?;

    say("a second plan is empty");
    tf.assert_plan_empty()?;
    eprintln!("    no changes");

    live_rpo_check(&tf, &moto).await?;
    restore_path_check(&tf, &moto).await?;

    say("drlint on examples/ (examples/drlint/bad is meant to trip every rule)");
    let lint = Command::new(&drlint)
        .arg("--no-color")
        .arg(&examples)
        .current_dir(tools::repo_root())
        .output()
        .context("running drlint")?;
    let text = String::from_utf8_lossy(&lint.stdout);
    print_tail(&text, 25);
    match lint.status.code() {
        Some(0) | Some(1) => {}
        other => bail!(
            "drlint failed ({other:?}):\n{}",
            String::from_utf8_lossy(&lint.stderr)
        ),
    }

    say("terraform destroy (drkit never deletes data: the database, replica and buckets stay)");
    tf.destroy()?;
    for region in [PRIMARY, DR] {
        let left = moto
            .rds(region)
            .await
            .describe_db_instances()
            .send()
            .await?;
        eprintln!(
            "    still there after destroy in {region}: {}",
            left.db_instances()
                .iter()
                .filter_map(|i| i.db_instance_identifier())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let dump = moto
        .s3(PRIMARY)
        .await
        .head_object()
        .bucket("orders-backups")
        .key("daily/orders-latest.dump")
        .send()
        .await;
    eprintln!(
        "    s3://orders-backups/daily/orders-latest.dump still there: {}",
        dump.is_ok()
    );
    say("done: moto and PostgreSQL are stopped as the demo exits");
    Ok(())
}

async fn seed(moto: &Moto, pg: &Postgres) -> Result<()> {
    pg.psql("postgres", "CREATE DATABASE orders")?;
    pg.psql(
        "orders",
        "CREATE TABLE orders (id bigserial PRIMARY KEY, created_at timestamptz NOT NULL DEFAULT now(), amount_cents bigint NOT NULL);
         INSERT INTO orders (amount_cents) SELECT (random() * 10000)::bigint FROM generate_series(1, 5000);",
    )?;
    let dump_dir = tempfile::tempdir()?;
    let dump = dump_dir.path().join("orders.dump");
    let out = pg
        .client("pg_dump")
        .args(["-Fc", "-d", "orders", "-f"])
        .arg(&dump)
        .output()?;
    if !out.status.success() {
        bail!("pg_dump failed: {}", String::from_utf8_lossy(&out.stderr));
    }

    let s3 = moto.s3(PRIMARY).await;
    s3.create_bucket().bucket("orders-backups").send().await?;
    let s3_dr = moto.s3(DR).await;
    s3_dr
        .create_bucket()
        .bucket("orders-backups-dr")
        .create_bucket_configuration(
            aws_sdk_s3::types::CreateBucketConfiguration::builder()
                .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::from(DR))
                .build(),
        )
        .send()
        .await?;
    // The DR bucket belongs to another team's stack; replication needs it versioned.
    s3_dr
        .put_bucket_versioning()
        .bucket("orders-backups-dr")
        .versioning_configuration(
            aws_sdk_s3::types::VersioningConfiguration::builder()
                .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
                .build(),
        )
        .send()
        .await?;
    let key = "daily/orders-latest.dump";
    s3.put_object()
        .bucket("orders-backups")
        .key(key)
        .body(aws_sdk_s3::primitives::ByteStream::from_path(&dump).await?)
        .send()
        .await?;
    eprintln!(
        "    orders: 5000 rows; s3://orders-backups/{key} ({} bytes)",
        std::fs::metadata(&dump)?.len()
    );

    let rds = moto.rds(PRIMARY).await;
    rds.create_db_instance()
        .db_instance_identifier("orders-db")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("app")
        .master_user_password("not-a-real-secret")
        .backup_retention_period(1)
        .send()
        .await?;
    eprintln!("    RDS orders-db in {PRIMARY}: backup retention 1 day, no deletion protection, no replica");
    Ok(())
}

async fn verify_through_aws(moto: &Moto) -> Result<()> {
    let rds = moto.rds(PRIMARY).await;
    let db = rds
        .describe_db_instances()
        .db_instance_identifier("orders-db")
        .send()
        .await?;
    let db = db.db_instances().first().context("orders-db is gone")?;
    eprintln!(
        "    orders-db: backup retention {} days, deletion protection {}",
        db.backup_retention_period().unwrap_or_default(),
        db.deletion_protection().unwrap_or_default()
    );
    let replicas = moto.rds(DR).await.describe_db_instances().send().await?;
    for replica in replicas.db_instances() {
        eprintln!(
            "    replica in {DR}: {} (source {})",
            replica.db_instance_identifier().unwrap_or_default(),
            replica
                .read_replica_source_db_instance_identifier()
                .unwrap_or_default()
        );
    }
    let s3 = moto.s3(PRIMARY).await;
    let versioning = moto.versioning_status(PRIMARY, "orders-backups").await?;
    eprintln!(
        "    s3://orders-backups: versioning {}",
        versioning.as_deref().unwrap_or("off")
    );
    if let Ok(rules) = s3
        .get_bucket_lifecycle_configuration()
        .bucket("orders-backups")
        .send()
        .await
    {
        let ids: Vec<_> = rules.rules().iter().filter_map(|r| r.id()).collect();
        eprintln!(
            "    s3://orders-backups: lifecycle rules {}",
            ids.join(", ")
        );
    }
    if let Ok(rep) = s3
        .get_bucket_replication()
        .bucket("orders-backups")
        .send()
        .await
    {
        if let Some(config) = rep.replication_configuration() {
            for rule in config.rules() {
                eprintln!(
                    "    s3://orders-backups: replicates to {}",
                    rule.destination().map(|d| d.bucket()).unwrap_or_default()
                );
            }
        }
    }
    Ok(())
}

fn print_outputs(outputs: &serde_json::Value) {
    let Some(map) = outputs.as_object() else {
        return;
    };
    for (name, output) in map {
        let value = &output["value"];
        let shown = match value {
            serde_json::Value::String(s) if s.contains('\n') => continue,
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        eprintln!("    {name:<28} {shown}");
    }
}

/// A local HTTPS receiver standing in for Slack's incoming webhook (its own CA, trusted
/// through `SSL_CERT_FILE`). It answers the first post 429, as a busy Slack does.
fn slack_stand_in() -> Result<drkit_testkit::HttpsReceiver> {
    let receiver = drkit_testkit::HttpsReceiver::start(&[429])?;
    eprintln!("    a Slack stand-in at {}", receiver.url("/"));
    Ok(receiver)
}

/// What the receiver got: the retry, then the message's header and fields.
fn print_slack_message(receiver: &drkit_testkit::HttpsReceiver, password: &str) -> Result<()> {
    let got = receiver.received();
    let statuses: Vec<String> = got.iter().map(|r| r.status.to_string()).collect();
    eprintln!(
        "    answers: {} (retried after the 429)",
        statuses.join(", ")
    );
    let delivered = got
        .iter()
        .find(|r| r.status == 200)
        .context("the drill's message never reached the receiver")?;
    if delivered.body.contains(password) {
        bail!("the database password was posted to the webhook");
    }
    let message: serde_json::Value = serde_json::from_str(&delivered.body)?;
    eprintln!("    text: {}", message["text"].as_str().unwrap_or_default());
    for block in message["blocks"].as_array().into_iter().flatten() {
        if let Some(t) = block["text"]["text"].as_str() {
            eprintln!("    {}", t.replace('\n', " "));
        }
        for f in block["fields"].as_array().into_iter().flatten() {
            eprintln!(
                "      {}",
                f["text"].as_str().unwrap_or_default().replace('\n', ": ")
            );
        }
    }
    Ok(())
}

/// The drill's figures from the state, and the scratch database checked gone with psql.
/// The drills' scratch databases among `databases`.
fn scratch_left(databases: Vec<String>) -> Vec<String> {
    databases
        .into_iter()
        .filter(|d| d.starts_with("drkit_drill_"))
        .collect()
}

/// A drill's figures, phases and checks; fails when it left scratch databases (`left`, as
/// `tool` read them from the server).
fn print_drill(tf: &Terraform, address: &str, left: Vec<String>, tool: &str) -> Result<()> {
    let drill = tf.resource(address)?;
    let report: serde_json::Value = serde_json::from_str(
        drill["report"]
            .as_str()
            .context("the drill has no report")?,
    )?;
    let verdict = |met: &serde_json::Value| match met.as_bool() {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "no target",
    };
    let secs = |v: &serde_json::Value| v.as_f64().map_or("-".to_string(), |s| format!("{s:.1}s"));
    eprintln!(
        "    restored from   {}",
        report["restored_from"].as_str().unwrap_or("-")
    );
    eprintln!(
        "    measured RTO    {:>8}  (target {}: {})",
        secs(&drill["measured_rto_seconds"]),
        secs(&report["target_rto_seconds"]),
        verdict(&drill["rto_met"])
    );
    eprintln!(
        "    measured RPO    {:>8}  (target {}: {})",
        secs(&drill["measured_rpo_seconds"]),
        secs(&report["target_rpo_seconds"]),
        verdict(&drill["rpo_met"])
    );
    for phase in report["phases"].as_array().into_iter().flatten() {
        eprintln!(
            "      {:<8} {:>7.3}s",
            phase["name"].as_str().unwrap_or("?"),
            phase["seconds"].as_f64().unwrap_or_default()
        );
    }
    for check in drill["verify_results"].as_array().into_iter().flatten() {
        eprintln!(
            "    check {:?}: {} (expect {}): {}",
            check["name"].as_str().unwrap_or("?"),
            check["value"].as_str().unwrap_or("-"),
            check["expect"].as_str().unwrap_or("?"),
            if check["passed"] == true {
                "pass"
            } else {
                "FAIL"
            }
        );
    }
    if let Some(from) = report["rpo_from"].as_str() {
        eprintln!("    RPO dated by    {from}");
    }
    if !left.is_empty() {
        bail!("the drill left scratch databases behind: {left:?}");
    }
    eprintln!("    scratch database dropped (checked with {tool}: no drkit_drill_* database left)");
    Ok(())
}

/// A `mysql_dump` drill on a scratch MariaDB, and its figures beside the PostgreSQL dump
/// drill's (`pg_tf`).
async fn mysql_dump_drill(moto: &Moto, provider: &Path, pg_tf: &Terraform) -> Result<()> {
    let db = MariaDb::start()?;
    db.sql(None, "CREATE DATABASE shop")?;
    db.sql(
        Some("shop"),
        "CREATE TABLE orders (id INT PRIMARY KEY, total DECIMAL(10,2), created_at DATETIME);
         INSERT INTO orders SELECT seq, seq % 500, UTC_TIMESTAMP() - INTERVAL 5 MINUTE FROM seq_1_to_20000;",
    )?;
    let dump = db.dump(&["--single-transaction", "--databases", "shop"])?;
    let s3 = moto.s3(PRIMARY).await;
    s3.create_bucket()
        .bucket("shop-mysql-backups")
        .send()
        .await?;
    s3.put_object()
        .bucket("shop-mysql-backups")
        .key("nightly/shop.sql")
        .body(dump.into())
        .send()
        .await?;
    eprintln!(
        "    MariaDB {} at {}:{}; s3://shop-mysql-backups/nightly/shop.sql (mariadb-dump --single-transaction --databases shop, 20,000 orders)",
        db.sql(None, "SELECT VERSION()")?,
        db.host(),
        db.port()
    );
    let mut tf = Terraform::new(provider)?;
    tf.envs(moto.env());
    tf.env("DRILL_MYSQL_PASSWORD", db.password());
    tf.write(
        "main.tf",
        &format!(
            r#"terraform {{
  required_providers {{
    dr = {{ source = "drkit/dr" }}
  }}
}}

provider "dr" {{
  region = "{PRIMARY}"
  endpoints {{
    rds = "{endpoint}"
    s3  = "{endpoint}"
  }}
}}

resource "dr_drill" "shop_mysql" {{
  policy_id = "shop"
  rpo       = "26h"
  rto       = "1h"

  mysql_dump {{
    s3_uri = "s3://shop-mysql-backups/nightly/"
  }}

  target {{
    engine       = "mariadb"
    host         = "{host}"
    port         = {port}
    username     = "{user}"
    password_env = "DRILL_MYSQL_PASSWORD"
  }}

  verify {{
    name   = "orders restored"
    sql    = "SELECT count(*) FROM orders"
    expect = "= 20000"
  }}
}}
"#,
            endpoint = moto.endpoint(),
            host = db.host(),
            port = db.port(),
            user = db.user(),
        ),
    )?;
    tf.apply()?;
    print_drill(
        &tf,
        "dr_drill.shop_mysql",
        scratch_left(db.databases()?),
        "mariadb",
    )?;
    if db.sql(Some("shop"), "SELECT count(*) FROM orders")? != "20000" {
        bail!("the drill touched the real shop database");
    }
    eprintln!("    the dump's own `shop` database statements went to the scratch database; the real shop is untouched");
    let secs = |v: &serde_json::Value| v.as_f64().map_or("-".to_string(), |s| format!("{s:.1}s"));
    eprintln!("    side by side      measured RTO   measured RPO");
    for (name, tf, address) in [
        ("PostgreSQL dump", pg_tf, "dr_drill.orders"),
        ("MariaDB dump", &tf, "dr_drill.shop_mysql"),
    ] {
        let d = tf.resource(address)?;
        eprintln!(
            "    {name:<17} {:>12}   {:>12}",
            secs(&d["measured_rto_seconds"]),
            secs(&d["measured_rpo_seconds"])
        );
    }
    tf.destroy()?;
    Ok(())
}

/// A `mysql_binlog` drill: a `--master-data=2` dump and the binlogs archived after it,
/// replayed on a temporary MariaDB server the drill starts and removes, to a time between
/// two batches of orders.
async fn mysql_binlog_drill(moto: &Moto, provider: &Path) -> Result<()> {
    let db = MariaDb::start_with_binlog()?;
    db.sql(None, "CREATE DATABASE shop")?;
    db.sql(
        Some("shop"),
        "CREATE TABLE orders (id INT AUTO_INCREMENT PRIMARY KEY, total DECIMAL(10,2));
         INSERT INTO orders (total) SELECT seq FROM seq_1_to_1000;",
    )?;
    db.sql(None, "FLUSH BINARY LOGS")?;
    let dump = db.dump(&[
        "--single-transaction",
        "--master-data=2",
        "--databases",
        "shop",
    ])?;
    let s3 = moto.s3(PRIMARY).await;
    s3.create_bucket().bucket("shop-pitr").send().await?;
    s3.put_object()
        .bucket("shop-pitr")
        .key("full/shop.sql")
        .body(dump.into())
        .send()
        .await?;
    db.sql(
        Some("shop"),
        "INSERT INTO orders (total) SELECT seq FROM seq_1_to_500",
    )?;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let between = time::OffsetDateTime::now_utc();
    std::thread::sleep(std::time::Duration::from_millis(1500));
    db.sql(
        Some("shop"),
        "INSERT INTO orders (total) SELECT seq FROM seq_1_to_700",
    )?;
    db.sql(None, "FLUSH BINARY LOGS")?;
    let mut names: Vec<String> = std::fs::read_dir(db.data_dir())?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.starts_with("mysql-bin.") && !n.ends_with(".index"))
        .collect();
    names.sort();
    for n in &names {
        s3.put_object()
            .bucket("shop-pitr")
            .key(format!("binlog/{n}"))
            .body(std::fs::read(db.data_dir().join(n))?.into())
            .send()
            .await?;
    }
    let target = between
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    eprintln!(
        "    1,000 orders, the dump, 500 orders, {target}, 700 orders; binlogs {} archived",
        names.join(", ")
    );
    let mut tf = Terraform::new(provider)?;
    tf.envs(moto.env());
    tf.write(
        "main.tf",
        &format!(
            r#"terraform {{
  required_providers {{
    dr = {{ source = "drkit/dr" }}
  }}
}}

provider "dr" {{
  region = "{PRIMARY}"
  endpoints {{
    s3 = "{endpoint}"
  }}
}}

resource "dr_drill" "shop_pitr" {{
  policy_id = "shop"
  rpo       = "1h"
  rto       = "1h"

  mysql_binlog {{
    base_dump_uri = "s3://shop-pitr/full/"
    binlog_uri    = "s3://shop-pitr/binlog/"
    target_time   = "{target}"
  }}

  verify {{
    name   = "the orders up to the target, not one after"
    sql    = "SELECT count(*) FROM orders"
    expect = "= 1500"
  }}
}}
"#,
            endpoint = moto.endpoint(),
        ),
    )?;
    tf.apply()?;
    let d = tf.resource("dr_drill.shop_pitr")?;
    let report: serde_json::Value = serde_json::from_str(d["report"].as_str().unwrap_or("{}"))?;
    let b = &report["binlog"];
    eprintln!(
        "    replayed from {} ({} files), last transaction {}; measured RTO {:.1}s, RPO {:.1}s; archive lag {:.1}s; 1,500 orders as at the target",
        b["start"].as_str().unwrap_or("-"),
        b["files_replayed"],
        b["last_replayed_event"].as_str().unwrap_or("-"),
        d["measured_rto_seconds"].as_f64().unwrap_or(f64::NAN),
        d["measured_rpo_seconds"].as_f64().unwrap_or(f64::NAN),
        d["archive_lag_seconds"].as_f64().unwrap_or(f64::NAN),
    );
    eprintln!("    the temporary MariaDB server and its directory were removed");
    tf.destroy()?;
    Ok(())
}

fn print_tail(text: &str, lines: usize) {
    let all: Vec<&str> = text.lines().collect();
    for line in &all[all.len().saturating_sub(lines)..] {
        eprintln!("    {line}");
    }
}

fn copy_tf_files(from: &Path, to: &Path) -> Result<()> {
    for entry in std::fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let path: PathBuf = entry?.path();
        if path.extension().is_some_and(|e| e == "tf") {
            std::fs::copy(&path, to.join(path.file_name().unwrap_or_default()))?;
        }
    }
    Ok(())
}

/// `dr_status` in the quickstart's `check` block: the check passes with the metrics AWS
/// would publish for a healthy replica and replication, then warns, naming the replica and
/// the figure, once the replica falls 40 minutes behind. moto publishes no metrics itself,
/// so the demo writes them to moto's CloudWatch.
async fn live_rpo_check(tf: &Terraform, moto: &Moto) -> Result<()> {
    say("live RPO on every plan (dr_status in a check block): a healthy replica and replication");
    put_metric(
        moto,
        DR,
        "AWS/RDS",
        "ReplicaLag",
        &[("DBInstanceIdentifier", "orders-db-dr")],
        35.0,
    )
    .await?;
    let s3_dims = [
        ("SourceBucket", "orders-backups"),
        ("DestinationBucket", "orders-backups-dr"),
        ("RuleId", "drkit"),
    ];
    put_metric(
        moto,
        PRIMARY,
        "AWS/S3",
        "ReplicationLatency",
        &s3_dims,
        20.0,
    )
    .await?;
    put_metric(
        moto,
        PRIMARY,
        "AWS/S3",
        "OperationsPendingReplication",
        &s3_dims,
        0.0,
    )
    .await?;
    eprintln!(
        "    CloudWatch: ReplicaLag of orders-db-dr 35s, ReplicationLatency of orders-backups 20s"
    );
    let plan = tf.run(&["plan", "-input=false", "-no-color"])?;
    if !plan.success() {
        bail!("terraform plan failed:\n{plan}");
    }
    if plan.combined().contains("Check block assertion failed") {
        bail!("the orders_rpo check should pass with a 35s replica lag:\n{plan}");
    }
    eprintln!("    terraform plan: check \"orders_rpo\" passed (no warning)");

    say("the replica falls 40 minutes behind (ReplicaLag 2400s written to moto's CloudWatch)");
    put_metric(
        moto,
        DR,
        "AWS/RDS",
        "ReplicaLag",
        &[("DBInstanceIdentifier", "orders-db-dr")],
        2400.0,
    )
    .await?;
    let plan = tf.run(&["plan", "-input=false", "-no-color"])?;
    if !plan.success() {
        bail!("a failed check must not fail the plan:\n{plan}");
    }
    let text = plan.combined();
    let Some(start) = text.find("Warning: Check block assertion failed") else {
        bail!("the plan did not warn about the lagging replica:\n{plan}");
    };
    for line in text[start..]
        .lines()
        .map(|l| l.trim_start_matches(['│', '╷', '╵']).trim())
        .filter(|l| !l.is_empty())
        .take_while(|l| !l.starts_with("Warning:") || l.contains("Check block"))
        .take(8)
    {
        eprintln!("    {line}");
    }
    if !text.contains("replica rds:us-west-2:orders-db-dr") || !text.contains(" 40m") {
        bail!("the warning should name the replica and the figure:\n{plan}");
    }
    eprintln!("    the plan still succeeds: a check warns, it does not block");
    Ok(())
}

/// `dr_status`'s restore-path preflight in the quickstart's `orders_restorable` check:
/// someone suspends versioning on the DR bucket (S3 then stops replicating into it), the
/// next plan names it; versioning back on, the warning goes.
async fn restore_path_check(tf: &Terraform, moto: &Moto) -> Result<()> {
    use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
    let set = |status: BucketVersioningStatus| async move {
        moto.s3(DR)
            .await
            .put_bucket_versioning()
            .bucket("orders-backups-dr")
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .context("PutBucketVersioning orders-backups-dr")
    };
    say("restore path on every plan: versioning of the DR bucket orders-backups-dr is suspended by hand");
    set(BucketVersioningStatus::Suspended).await?;
    let plan = tf.run(&["plan", "-input=false", "-no-color"])?;
    if !plan.success() {
        bail!("a failed check must not fail the plan:\n{plan}");
    }
    let text = plan
        .combined()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let Some(start) = text.find("restore path NOT ready") else {
        bail!("the plan did not warn about the unversioned destination:\n{plan}");
    };
    let line: String = text[start..].chars().take(200).collect();
    eprintln!("    {line}...");
    if !text.contains("orders-backups-dr in us-west-2 is not versioned (versioning Suspended)") {
        bail!("the warning should name the bucket and its versioning:\n{plan}");
    }
    say("versioning back on: the restore-path warning goes");
    set(BucketVersioningStatus::Enabled).await?;
    let plan = tf.run(&["plan", "-input=false", "-no-color"])?;
    if plan.combined().contains("restore path NOT ready") {
        bail!("the restore-path warning should be gone:\n{plan}");
    }
    eprintln!("    terraform plan: check \"orders_restorable\" passed");
    Ok(())
}

/// One data point a minute ago, as AWS publishes it.
async fn put_metric(
    moto: &Moto,
    region: &str,
    namespace: &str,
    metric: &str,
    dimensions: &[(&str, &str)],
    value: f64,
) -> Result<()> {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum};
    let cw = aws_sdk_cloudwatch::Client::new(&moto.sdk_config(region).await);
    let at = std::time::SystemTime::now() - std::time::Duration::from_secs(60);
    cw.put_metric_data()
        .namespace(namespace)
        .metric_data(
            MetricDatum::builder()
                .metric_name(metric)
                .set_dimensions(Some(
                    dimensions
                        .iter()
                        .map(|(k, v)| Dimension::builder().name(*k).value(*v).build())
                        .collect(),
                ))
                .value(value)
                .timestamp(aws_smithy_types::DateTime::from(at))
                .build(),
        )
        .send()
        .await
        .with_context(|| format!("PutMetricData {metric}"))?;
    Ok(())
}

/// A `postgres_pitr` drill beside the dump drill: a PostgreSQL 15 cluster archiving its WAL
/// into S3 (gzipped, through `archive_command`), a real `pg_basebackup -Ft -z` uploaded
/// beside it, orders committed at recorded times, and a drill through `terraform apply`
/// that recovers to a moment between two commits. The restored rows and the measured RPO
/// are compared with the commit times.
async fn pitr_drill(moto: &Moto, provider: &Path) -> Result<()> {
    let s3 = moto.s3(PRIMARY).await;
    for bucket in ["orders-pg-backups", "orders-wal-archive"] {
        s3.create_bucket().bucket(bucket).send().await?;
    }
    let pg = ArchivingPostgres::start(
        moto.port(),
        "orders-wal-archive",
        "main/",
        WalCompression::Gzip,
    )?;
    pg.psql("postgres", "CREATE DATABASE orders")?;
    pg.psql("orders", "CREATE TABLE orders (v int, at timestamptz)")?;
    pg.switch_and_archive()?;
    let backup = pg.base_backup("nightly")?;
    upload_base_backup(&s3, &backup, "orders-pg-backups", "base/nightly").await?;
    // The backup's STOP TIME has second precision: commit clearly after it.
    std::thread::sleep(std::time::Duration::from_millis(2100));
    let mut commits = Vec::new();
    for v in 1..=6 {
        commits.push(pg.commit_row("orders", "orders", v)?);
        if v % 2 == 0 {
            pg.switch_and_archive()?;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    pg.switch_and_archive()?;
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let target_unix = (commits[3] + commits[4]) / 2.0;
    let target = time::OffsetDateTime::from_unix_timestamp_nanos((target_unix * 1e9) as i128)?
        .format(&time::format_description::well_known::Rfc3339)?;
    eprintln!(
        "    s3://orders-pg-backups/base/nightly/ (pg_basebackup -Ft -z), s3://orders-wal-archive/main/ (archive_command, gzip)"
    );
    eprintln!("    6 orders committed after the backup; target_time {target}, between the 4th and the 5th");

    // Evidence: a bucket with Object Lock and an asymmetric signing key.
    moto.object_lock_bucket(PRIMARY, "orders-dr-evidence")
        .await?;
    let evidence_key = moto.signing_key(PRIMARY, "ECC_NIST_P256").await?;

    let mut tf = Terraform::new(provider)?;
    tf.envs(moto.env());
    tf.write(
        "main.tf",
        &format!(
            r#"terraform {{
  required_providers {{
    dr = {{ source = "drkit/dr" }}
  }}
}}

provider "dr" {{
  region = "{PRIMARY}"
  endpoints {{
    rds = "{endpoint}"
    s3  = "{endpoint}"
    kms = "{endpoint}"
  }}
}}

resource "dr_drill" "orders_pitr" {{
  policy_id = "orders"
  rpo       = "15m"
  rto       = "1h"

  postgres_pitr {{
    base_backup_uri = "s3://orders-pg-backups/base/"
    wal_archive_uri = "s3://orders-wal-archive/main/"
    target_time     = "{target}"
    pg_bin_dir      = "{bin}"
    database        = "orders"
  }}

  verify {{
    name   = "orders committed before the target"
    sql    = "SELECT count(*) FROM orders"
    expect = "= 4"
  }}

  evidence {{
    s3_uri      = "s3://orders-dr-evidence/drills/"
    retain_days = 2555
    lock_mode   = "COMPLIANCE"
    kms_key_id  = "{evidence_key}"
  }}
}}
"#,
            endpoint = moto.endpoint(),
            bin = pg.bin_dir().display()
        ),
    )?;
    tf.apply()?;
    let drill = tf.resource("dr_drill.orders_pitr")?;
    evidence(moto, provider, &drill)?;
    let report: serde_json::Value = serde_json::from_str(
        drill["report"]
            .as_str()
            .context("the PITR drill has no report")?,
    )?;
    let pitr = &report["pitr"];
    let secs = |v: &serde_json::Value| v.as_f64().map_or("-".to_string(), |s| format!("{s:.1}s"));
    let met = |v: &serde_json::Value| match v.as_bool() {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "no target",
    };
    eprintln!(
        "    base backup     {} (start {}, ended {})",
        pitr["base_backup"].as_str().unwrap_or("-"),
        pitr["base_backup_start"].as_str().unwrap_or("-"),
        pitr["base_backup_end"].as_str().unwrap_or("-")
    );
    eprintln!(
        "    WAL replayed    {} segments ({} .. {}), replay waited {} on downloads",
        pitr["segments_replayed"],
        pitr["wal_range"][0].as_str().unwrap_or("-"),
        pitr["wal_range"][1].as_str().unwrap_or("-"),
        secs(&pitr["replay_wait_seconds"])
    );
    eprintln!(
        "    measured RTO    {:>8}  (target {}: {})",
        secs(&drill["measured_rto_seconds"]),
        secs(&report["target_rto_seconds"]),
        met(&drill["rto_met"])
    );
    eprintln!(
        "    measured RPO    {:>8}  (target {}: {}); from the commit times: {:.1}s",
        secs(&drill["measured_rpo_seconds"]),
        secs(&report["target_rpo_seconds"]),
        met(&drill["rpo_met"]),
        target_unix - commits[3]
    );
    eprintln!(
        "    archive lag     {:>8}  (the newest archived segment's age: what a disaster would lose now)",
        secs(&drill["archive_lag_seconds"])
    );
    for phase in report["phases"].as_array().into_iter().flatten() {
        eprintln!(
            "      {:<8} {:>7.3}s",
            phase["name"].as_str().unwrap_or("?"),
            phase["seconds"].as_f64().unwrap_or_default()
        );
    }
    for check in drill["verify_results"].as_array().into_iter().flatten() {
        eprintln!(
            "    check {:?}: {} (expect {}): {}",
            check["name"].as_str().unwrap_or("?"),
            check["value"].as_str().unwrap_or("-"),
            check["expect"].as_str().unwrap_or("?"),
            if check["passed"] == true {
                "pass"
            } else {
                "FAIL"
            }
        );
    }
    if drill["passed"] != true {
        bail!("the PITR drill did not pass: {report:#}");
    }
    let left: Vec<String> = std::fs::read_dir(std::env::temp_dir())?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("drkit-pitr-"))
        .collect();
    if !left.is_empty() {
        bail!("the PITR drill left directories behind: {left:?}");
    }
    eprintln!("    temporary server stopped and its directory removed (no drkit-pitr-* left)");
    tf.destroy()?;
    Ok(())
}

/// The PITR drill's evidence record, verified and rendered by `drkit` as an auditor would.
fn evidence(moto: &Moto, provider: &Path, drill: &serde_json::Value) -> Result<()> {
    let drkit = provider.with_file_name("drkit");
    let run = |args: &[&str]| -> Result<std::process::Output> {
        Command::new(&drkit)
            .args(args)
            .envs(moto.env())
            .env("AWS_REGION", PRIMARY)
            .env("AWS_ENDPOINT_URL", moto.endpoint())
            .output()
            .with_context(|| format!("running {}", drkit.display()))
    };
    eprintln!(
        "    evidence        {} (signed, chained, Object Lock COMPLIANCE 2555 days)",
        drill["evidence_uri"].as_str().unwrap_or("-")
    );
    let verified = run(&["evidence", "verify", "s3://orders-dr-evidence/drills/"])?;
    eprintln!(
        "    drkit evidence verify: {}",
        String::from_utf8_lossy(&verified.stdout).trim()
    );
    if !verified.status.success() {
        bail!(
            "drkit evidence verify failed:\n{}",
            String::from_utf8_lossy(&verified.stderr)
        );
    }
    let html = tools::repo_root().join("target/demo/drills.html");
    std::fs::create_dir_all(html.parent().unwrap_or(Path::new(".")))?;
    let report = run(&[
        "evidence",
        "report",
        "s3://orders-dr-evidence/drills/",
        "--out",
        &html.display().to_string(),
    ])?;
    if !report.status.success() {
        bail!(
            "drkit evidence report failed:\n{}",
            String::from_utf8_lossy(&report.stderr)
        );
    }
    eprintln!(
        "    evidence report (HTML, opens offline): {}",
        html.display()
    );
    Ok(())
}

//! `data "dr_status"` through terraform against moto: figures measured from what moto
//! reports (metrics written to its CloudWatch with the SDK, as AWS would publish them),
//! unknowns that never pass, faults that are retried and never turn into a wrong figure,
//! and a `check` block that warns without failing the plan.
//!
//! What moto cannot show: its `LatestRestorableTime` is always "now" and it does not
//! replicate automated backups across regions, so those figures beyond the RPO are unit
//! tests of `terraform_provider_dr::status` (`rds_pitr`, `replicated_backups`).

mod policy_support;

use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
use drkit_testkit::{Fault, FaultConfig, FaultProxy, Moto, Terraform};
use policy_support::{seed_bucket, seed_db, DR, PRIMARY, PROVIDER, ROLE};
use serde_json::Value as Json;

/// `terraform {}` and a provider block with every endpoint at `endpoint`.
fn provider_block(endpoint: &str, max_retries: u32) -> String {
    format!(
        r#"terraform {{
  required_providers {{
    dr = {{ source = "drkit/dr" }}
  }}
}}

provider "dr" {{
  region      = "{PRIMARY}"
  dr_region   = "{DR}"
  max_retries = {max_retries}
  read_budget = "2m" # moto on a loaded test machine can take more than the default 10s
  endpoints {{
    rds        = "{endpoint}"
    s3         = "{endpoint}"
    cloudwatch = "{endpoint}"
  }}
}}
"#
    )
}

fn terraform(moto: &Moto, endpoint: &str, max_retries: u32, rest: &str) -> Terraform {
    let mut tf = Terraform::new(PROVIDER).expect("terraform directory");
    tf.envs(moto.env());
    tf.write(
        "main.tf",
        &format!("{}\n{rest}", provider_block(endpoint, max_retries)),
    )
    .expect("write main.tf");
    tf
}

/// The orders policy: a replica, and replication with RTC; RPO 15 minutes.
const POLICY: &str = r#"
resource "dr_policy" "orders" {
  name   = "orders"
  rpo    = "15m"
  rto    = "1h"
  owners = ["alice@example.com", "bob@example.com"]

  rds {
    instance_identifier = "orders-db"
    cross_region_replica {}
  }

  s3 {
    bucket = "orders-backups"
    replication {
      destination_bucket       = "orders-backups-dr"
      role_arn                 = "ROLE"
      replication_time_control = true
    }
  }
}
"#;

/// The status as an output, so that tests read what Terraform holds.
const STATUS: &str = r#"
data "dr_status" "orders" {
  policy_id = dr_policy.orders.id
}

output "status" {
  value = data.dr_status.orders
}
"#;

/// A check block as the docs show it.
const CHECK: &str = r#"
check "orders_rpo" {
  data "dr_status" "orders_check" {
    policy_id = dr_policy.orders.id
  }

  assert {
    condition     = data.dr_status.orders_check.rpo_met
    error_message = data.dr_status.orders_check.summary
  }
}
"#;

async fn seed_orders(moto: &Moto) {
    seed_db(moto, "orders-db", false).await;
    seed_bucket(moto, "orders-backups", PRIMARY, true).await;
    seed_bucket(moto, "orders-backups-dr", DR, true).await;
}

/// Writes one data point `minutes_ago`, as AWS would publish it.
async fn put_metric(
    moto: &Moto,
    region: &str,
    namespace: &str,
    metric: &str,
    dimensions: &[(&str, &str)],
    value: f64,
    minutes_ago: i64,
) {
    let cw = aws_sdk_cloudwatch::Client::new(&moto.sdk_config(region).await);
    let at = std::time::SystemTime::now() - std::time::Duration::from_secs(60 * minutes_ago as u64);
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
                .unit(if metric == "OperationsPendingReplication" {
                    StandardUnit::Count
                } else {
                    StandardUnit::Seconds
                })
                .timestamp(aws_smithy_types::DateTime::from(at))
                .build(),
        )
        .send()
        .await
        .expect("PutMetricData");
}

async fn replica_lag(moto: &Moto, seconds: f64) {
    put_metric(
        moto,
        DR,
        "AWS/RDS",
        "ReplicaLag",
        &[("DBInstanceIdentifier", "orders-db-dr")],
        seconds,
        2,
    )
    .await;
}

async fn s3_latency(moto: &Moto, seconds: f64, pending: f64) {
    let dims = [
        ("SourceBucket", "orders-backups"),
        ("DestinationBucket", "orders-backups-dr"),
        ("RuleId", "drkit"),
    ];
    put_metric(
        moto,
        PRIMARY,
        "AWS/S3",
        "ReplicationLatency",
        &dims,
        seconds,
        1,
    )
    .await;
    put_metric(
        moto,
        PRIMARY,
        "AWS/S3",
        "OperationsPendingReplication",
        &dims,
        pending,
        1,
    )
    .await;
}

/// `terraform apply` (data sources are read again) and the status output.
fn status(tf: &Terraform) -> Json {
    tf.apply().unwrap();
    let out = tf.run_ok(&["output", "-json", "status"]).unwrap();
    serde_json::from_str(&out.stdout).unwrap()
}

fn figure<'a>(status: &'a Json, address: &str) -> &'a Json {
    status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == address)
        .unwrap_or_else(|| panic!("no figure for {address} in {status:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn each_figure_within_then_beyond_the_rpo_and_no_data_points_never_pass() {
    let moto = Moto::start().unwrap();
    seed_orders(&moto).await;
    let tf = terraform(
        &moto,
        moto.endpoint(),
        1,
        &format!("{}{STATUS}", POLICY.replace("ROLE", ROLE)),
    );

    // Applied, nothing published yet: no data points is unknown, never zero.
    let s = status(&tf);
    assert_eq!(s["rpo"], "15m");
    assert_eq!(s["rpo_met"], false, "{s:#}");
    let replica = figure(&s, "rds:us-west-2:orders-db-dr");
    assert_eq!(replica["mechanism"], "rds_read_replica");
    assert_eq!(replica["scope"], "region_loss");
    assert_eq!(replica["seconds"], Json::Null);
    let unknown = s["unknown"].to_string();
    assert!(
        unknown.contains("rds:us-west-2:orders-db-dr: no ReplicaLag data points in the last 15m"),
        "{unknown}"
    );
    assert!(
        unknown.contains("s3:orders-backups->orders-backups-dr: no ReplicationLatency"),
        "{unknown}"
    );
    // In-region point-in-time restore, from moto's LatestRestorableTime.
    let pitr = figure(&s, "rds:us-east-1:orders-db");
    assert_eq!(pitr["mechanism"], "rds_pitr");
    assert_eq!(pitr["scope"], "in_region");
    assert!(pitr["seconds"].as_f64().unwrap() < 120.0, "{pitr}");

    // Within the RPO: the replica lags 42 s, replication 20 s with nothing pending.
    replica_lag(&moto, 42.0).await;
    s3_latency(&moto, 20.0, 0.0).await;
    let s = status(&tf);
    assert_eq!(s["rpo_met"], true, "{s:#}");
    assert_eq!(s["rpo_seconds"], 42.0);
    assert_eq!(s["unknown"], serde_json::json!([]));
    let replica = figure(&s, "rds:us-west-2:orders-db-dr");
    assert_eq!(replica["seconds"], 42.0);
    assert_eq!(
        replica["source"],
        "CloudWatch AWS/RDS ReplicaLag Maximum over 15m (us-west-2)"
    );
    assert_eq!(
        figure(&s, "s3:orders-backups->orders-backups-dr")["seconds"],
        20.0
    );
    assert!(
        s["summary"]
            .as_str()
            .unwrap()
            .starts_with("orders: RPO 15m met: a region loss would cost 42s now"),
        "{s:#}"
    );

    // Beyond: the replica falls 40 minutes behind.
    replica_lag(&moto, 2400.0).await;
    let s = status(&tf);
    assert_eq!(s["rpo_met"], false);
    assert_eq!(s["rpo_seconds"], 2400.0);
    let summary = s["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(
            "orders: RPO 15m NOT met: 1 over the RPO: replica rds:us-west-2:orders-db-dr"
        ),
        "{summary}"
    );
    assert!(summary.ends_with(" 40m"), "{summary}");

    // And replication 25 minutes behind: both named, the worst first.
    s3_latency(&moto, 1500.0, 12.0).await;
    let s = status(&tf);
    let summary = s["summary"].as_str().unwrap();
    assert!(
        summary.contains("2 over the RPO: replica rds:us-west-2:orders-db-dr"),
        "{summary}"
    );
    assert!(
        summary.contains("replication s3:orders-backups->orders-backups-dr (CloudWatch AWS/S3 ReplicationLatency Maximum over 15m (us-east-1); OperationsPendingReplication Maximum 12) 25m"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_check_block_warns_with_the_replica_and_the_figure_and_the_plan_succeeds() {
    let moto = Moto::start().unwrap();
    seed_orders(&moto).await;
    replica_lag(&moto, 30.0).await;
    s3_latency(&moto, 10.0, 0.0).await;
    let tf = terraform(
        &moto,
        moto.endpoint(),
        1,
        &format!("{}{CHECK}", POLICY.replace("ROLE", ROLE)),
    );
    let applied = tf.apply().unwrap();
    assert!(
        !applied.combined().contains("Check block assertion failed"),
        "{applied}"
    );

    replica_lag(&moto, 2400.0).await;
    let plan = tf.run(&["plan", "-input=false", "-no-color"]).unwrap();
    assert!(
        plan.success(),
        "a failed check must not fail the plan:\n{plan}"
    );
    let text = plan.combined();
    assert!(
        text.contains("Warning: Check block assertion failed"),
        "{plan}"
    );
    assert!(
        text.contains("replica rds:us-west-2:orders-db-dr (CloudWatch AWS/RDS ReplicaLag Maximum over 15m (us-west-2)) 40m"),
        "{plan}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_resources_yet_and_replication_without_rtc_are_unknown_with_the_reason() {
    let moto = Moto::start().unwrap();
    seed_bucket(&moto, "logs", PRIMARY, true).await;
    seed_bucket(&moto, "logs-dr", DR, true).await;
    let policy = format!(
        r#"
resource "dr_policy" "logs" {{
  name   = "logs"
  rpo    = "4h"
  rto    = "4h"
  owners = ["alice@example.com", "bob@example.com"]

  s3 {{
    bucket = "logs"
    replication {{
      destination_bucket = "logs-dr"
      role_arn           = "{ROLE}"
    }}
  }}
}}

data "dr_status" "ghost" {{
  policy_id = "ghost"
}}

data "dr_status" "logs" {{
  policy_id = dr_policy.logs.id
}}

output "ghost" {{
  value = data.dr_status.ghost
}}

output "logs" {{
  value = data.dr_status.logs
}}
"#
    );
    let tf = terraform(&moto, moto.endpoint(), 1, &policy);
    tf.apply().unwrap();
    let out = tf.run_ok(&["output", "-json"]).unwrap();
    let out: Json = serde_json::from_str(&out.stdout).unwrap();

    let ghost = &out["ghost"]["value"];
    assert_eq!(ghost["rpo_met"], false);
    assert_eq!(ghost["rpo_seconds"], Json::Null);
    assert_eq!(ghost["resources"], serde_json::json!([]));
    assert!(
        ghost["summary"]
            .as_str()
            .unwrap()
            .contains("no instance, cluster or bucket carries the tag drkit:policy = \"ghost\""),
        "{ghost:#}"
    );

    let logs = &out["logs"]["value"];
    assert_eq!(logs["rpo"], "4h");
    assert_eq!(logs["rpo_met"], false);
    assert_eq!(
        logs["unknown"][0],
        "s3:logs->logs-dr: not measurable without Replication Time Control: S3 publishes ReplicationLatency only with RTC (or replication metrics) enabled"
    );
}

/// Retries per call through the fault proxy: at a 20% fault rate one call fails all 7
/// attempts once in 78,000.
const RETRIES: u32 = 6;

#[tokio::test(flavor = "multi_thread")]
async fn throttling_and_server_errors_are_retried_and_never_give_a_wrong_figure() {
    let moto = Moto::start().unwrap();
    seed_orders(&moto).await;
    replica_lag(&moto, 42.0).await;
    s3_latency(&moto, 20.0, 0.0).await;
    let proxy = FaultProxy::start(moto.port(), FaultConfig::none()).unwrap();
    let tf = terraform(
        &moto,
        proxy.endpoint(),
        RETRIES,
        &format!("{}{STATUS}", POLICY.replace("ROLE", ROLE)),
    );
    tf.apply().unwrap();

    // Throttled, then a 500, then answered: the same figures as without faults.
    proxy.inject_once("cloudwatch:GetMetricData", Fault::Throttle);
    proxy.inject_once("cloudwatch:GetMetricData", Fault::ServerError);
    let s = status(&tf);
    assert_eq!(s["rpo_met"], true, "{s:#}");
    assert_eq!(s["rpo_seconds"], 42.0);
    let faults: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.label == "cloudwatch:GetMetricData" && s.fault.is_some())
        .map(|s| s.fault.unwrap())
        .collect();
    assert_eq!(faults, vec![Fault::Throttle, Fault::ServerError]);

    // A share of every call failing (discovery, tags, replication, metrics): retried, the
    // same verdict and figure.
    proxy.set_config(FaultConfig {
        kinds: vec![Fault::Throttle, Fault::ServerError, Fault::Reset],
        ..FaultConfig::all(0.2, 11)
    });
    let s = status(&tf);
    assert_eq!(s["rpo_met"], true, "{s:#}");
    assert_eq!(s["rpo_seconds"], 42.0);
    assert!(
        proxy.fault_counts().values().sum::<usize>() >= 5,
        "{:?}",
        proxy.fault_counts()
    );

    // Throttled beyond every retry (7 attempts for each region's call): unknown with the
    // error named, never a figure.
    proxy.set_config(FaultConfig::none());
    for _ in 0..2 * (RETRIES + 1) {
        proxy.inject_once("cloudwatch:GetMetricData", Fault::Throttle);
    }
    let s = status(&tf);
    assert_eq!(s["rpo_met"], false, "{s:#}");
    assert_eq!(s["rpo_seconds"], Json::Null);
    for address in [
        "rds:us-west-2:orders-db-dr",
        "s3:orders-backups->orders-backups-dr",
    ] {
        let f = figure(&s, address);
        assert_eq!(f["seconds"], Json::Null);
        assert!(
            f["unknown"]
                .as_str()
                .unwrap()
                .contains("GetMetricData failed: Throttling"),
            "{f}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aurora_global_secondary_and_a_wal_archive_are_measured() {
    let moto = Moto::start().unwrap();
    // An Aurora cluster the policy tags (as dr_policy's rds_cluster blocks will), the
    // writer of a global database with a secondary in the DR region.
    let rds = moto.rds(PRIMARY).await;
    let tag = |k: &str, v: &str| aws_sdk_rds::types::Tag::builder().key(k).value(v).build();
    let primary = rds
        .create_db_cluster()
        .db_cluster_identifier("orders-aurora")
        .engine("aurora-postgresql")
        .master_username("dr")
        .master_user_password("password1")
        .tags(tag("drkit:policy", "orders"))
        .tags(tag("drkit:targets", "rpo=15m rto=1h"))
        .send()
        .await
        .unwrap()
        .db_cluster
        .unwrap();
    rds.create_global_cluster()
        .global_cluster_identifier("orders-global")
        .source_db_cluster_identifier(primary.db_cluster_arn().unwrap())
        .send()
        .await
        .unwrap();
    moto.rds(DR)
        .await
        .create_db_cluster()
        .db_cluster_identifier("orders-aurora-dr")
        .engine("aurora-postgresql")
        .global_cluster_identifier("orders-global")
        .send()
        .await
        .unwrap();
    // A WAL archive: two segments a second apart, then a timeline history file (newer,
    // but not a segment).
    seed_bucket(&moto, "orders-wal", PRIMARY, false).await;
    let s3 = moto.s3(PRIMARY).await;
    for key in [
        "main/000000010000000000000001",
        "main/000000010000000000000002.gz",
        "main/00000002.history",
    ] {
        s3.put_object()
            .bucket("orders-wal")
            .key(key)
            .body(b"wal".to_vec().into())
            .send()
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let rpo_lag = |ms: f64| {
        let moto = &moto;
        async move {
            put_metric(
                moto,
                DR,
                "AWS/RDS",
                "AuroraGlobalDBRPOLag",
                &[("DBClusterIdentifier", "orders-aurora-dr")],
                ms,
                1,
            )
            .await
        }
    };
    let tf = terraform(
        &moto,
        moto.endpoint(),
        1,
        r#"
data "dr_status" "orders" {
  policy_id        = "orders"
  wal_archive_uris = ["s3://orders-wal/main/"]
}

output "status" {
  value = data.dr_status.orders
}
"#,
    );

    // Within: the secondary 2 s behind, the newest segment seconds old.
    rpo_lag(2000.0).await;
    let s = status(&tf);
    assert_eq!(s["rpo_met"], true, "{s:#}");
    let secondary = figure(&s, "rds:us-west-2:orders-aurora-dr");
    assert_eq!(secondary["mechanism"], "aurora_global");
    assert_eq!(secondary["seconds"], 2.0);
    assert_eq!(secondary["protects"], "rds:us-east-1:orders-aurora");
    let wal = figure(&s, "wal:s3://orders-wal/main/");
    assert_eq!(wal["mechanism"], "postgres_wal_archive");
    assert!(wal["seconds"].as_f64().unwrap() < 120.0, "{wal}");
    assert!(
        wal["source"]
            .as_str()
            .unwrap()
            .ends_with("(main/000000010000000000000002.gz)"),
        "the newest segment, not the history file: {wal}"
    );
    assert_eq!(
        figure(&s, "rds:us-east-1:orders-aurora")["mechanism"],
        "aurora_pitr"
    );

    // Beyond: the secondary 20 minutes behind.
    rpo_lag(1_200_000.0).await;
    let s = status(&tf);
    assert_eq!(s["rpo_met"], false);
    assert_eq!(s["rpo_seconds"], 1200.0);
    let summary = s["summary"].as_str().unwrap();
    assert!(
        summary.contains("1 over the RPO: global secondary rds:us-west-2:orders-aurora-dr (CloudWatch AWS/RDS AuroraGlobalDBRPOLag Maximum over 15m (us-west-2)) 20m"),
        "{summary}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_window_or_archive_uri_is_an_error_on_its_attribute() {
    let moto = Moto::start().unwrap();
    let tf = terraform(
        &moto,
        moto.endpoint(),
        1,
        r#"
data "dr_status" "x" {
  policy_id        = "orders"
  window           = "30s"
  wal_archive_uris = ["/var/lib/postgresql/wal"]
}
"#,
    );
    let out = tf.plan_expect_error("Invalid window").unwrap();
    assert!(out.contains(r#"window           = "30s""#), "{out}");
    assert!(out.contains("outside 1m to 1d"), "{out}");
    assert!(out.contains("Invalid wal_archive_uris"), "{out}");
    assert!(out.contains("wal_archive_uris[0]"), "{out}");
}

/// ListObjectsV2 requests of `bucket` below `prefix` that went through `proxy`.
fn listings_of(proxy: &FaultProxy, bucket: &str, prefix: &str) -> usize {
    let prefix = format!("prefix={}", prefix.replace('/', "%2F"));
    proxy
        .seen()
        .iter()
        .filter(|s| {
            s.label.starts_with(&format!("s3:GET /{bucket}"))
                && s.label.contains("list-type=2")
                && s.label.contains(&prefix)
        })
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_archive_is_listed_once_for_its_figure_and_its_continuity_check() {
    let moto = Moto::start().unwrap();
    seed_bucket(&moto, "orders-pitr", PRIMARY, false).await;
    let s3 = moto.s3(PRIMARY).await;
    let dump_head = "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000001', MASTER_LOG_POS=344;\n\nCREATE DATABASE `shop`;\n";
    for (key, body) in [
        ("wal/000000010000000000000001", &b"wal"[..]),
        (
            "wal/000000010000000000000001.00000028.backup",
            b"START WAL LOCATION: 0/1000028 (file 000000010000000000000001)\n",
        ),
        ("wal/000000010000000000000002", b"wal"),
        ("binlog/mysql-bin.000001", b"\xfebin"),
        ("binlog/mysql-bin.000002", b"\xfebin"),
        ("full/shop.sql", dump_head.as_bytes()),
    ] {
        s3.put_object()
            .bucket("orders-pitr")
            .key(key)
            .body(body.to_vec().into())
            .send()
            .await
            .unwrap();
    }
    let proxy = FaultProxy::start(moto.port(), FaultConfig::none()).unwrap();
    let tf = terraform(
        &moto,
        proxy.endpoint(),
        1,
        r#"
data "dr_status" "orders" {
  policy_id        = "orders"
  wal_archive_uris = ["s3://orders-pitr/wal/"]

  binlog_archive {
    binlog_uri    = "s3://orders-pitr/binlog/"
    base_dump_uri = "s3://orders-pitr/full/"
  }
}

output "status" {
  value = data.dr_status.orders
}
"#,
    );
    let s = status(&tf);

    // Both judgements of each archive are there, from the one listing.
    let wal = figure(&s, "wal:s3://orders-pitr/wal/");
    assert!(
        wal["source"]
            .as_str()
            .unwrap()
            .ends_with("(wal/000000010000000000000002)"),
        "{wal:#}"
    );
    let binlog = figure(&s, "binlog:s3://orders-pitr/binlog/");
    assert!(
        binlog["source"]
            .as_str()
            .unwrap()
            .ends_with("(binlog/mysql-bin.000002)"),
        "{binlog:#}"
    );
    let checks = s["preflight"].as_array().unwrap();
    for (check, detail) in [
        ("wal_continuity", "2 segment(s) continuous"),
        (
            "binlog_continuity",
            "2 binlog file(s) continuous from the newest dump",
        ),
    ] {
        let c = checks
            .iter()
            .find(|c| c["check"] == check)
            .unwrap_or_else(|| panic!("no {check} in {s:#}"));
        assert_eq!(c["ok"], true, "{c:#}");
        assert!(c["detail"].as_str().unwrap().contains(detail), "{c:#}");
    }

    // The dumps are listed once per read (the continuity check's own listing): each archive
    // as often, not once for its figure and again for its check.
    let reads = listings_of(&proxy, "orders-pitr", "full/");
    assert!(reads >= 1, "{:#?}", proxy.seen());
    assert_eq!(listings_of(&proxy, "orders-pitr", "wal/"), reads);
    assert_eq!(listings_of(&proxy, "orders-pitr", "binlog/"), reads);
}

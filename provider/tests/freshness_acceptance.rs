//! `dr_status`'s freshness preflight through terraform against moto: the newest dump, base
//! backup and automated snapshot a restore would start from, each against the policy's
//! RPO. moto dates every object and snapshot "now" and has no clock to turn, so the
//! policies declare the shortest RPO they may (1m) and the tests wait until the copies are
//! older than that: the plan then warns naming each copy and its age, and a fresh upload
//! makes the warning go. Automated snapshots are daily, so under that RPO they are judged
//! against the day (26h): they pass, and one that is gone warns. The copies named are
//! checked against what moto holds (the SDK's listing and `DescribeDBSnapshots`), not
//! against what the provider says.

mod policy_support;

use std::time::Duration;

use aws_sdk_s3::primitives::ByteStream;
use drkit_testkit::{Moto, Terraform};
use policy_support::{
    cluster_policy, plan_warning, seed_bucket, seed_cluster, seed_db, terraform, DR, PRIMARY,
};
use serde_json::Value as Json;

const DUMPS: &str = "s3://orders-dumps/nightly/";
const BASES: &str = "s3://orders-base/main/";
/// Dumps kept in the DR region: listed there, not through the primary's endpoint.
const DR_DUMPS: &str = "s3://orders-dumps-dr/nightly/";
/// The policies' RPO, and how long a copy must wait to be older than it.
const RPO: Duration = Duration::from_secs(60);

fn instance_config() -> String {
    format!(
        r#"
resource "dr_policy" "orders" {{
  name   = "orders"
  rpo    = "1m"
  rto    = "1h"
  owners = ["alice@example.com", "bob@example.com"]

  rds {{
    instance_identifier = "orders-db"
    cross_region_replica {{}}
  }}
}}

data "dr_status" "orders" {{
  policy_id        = dr_policy.orders.id
  dump_uris        = ["{DUMPS}", "s3://orders-gone/nightly/", "{DR_DUMPS}"]
  base_backup_uris = ["{BASES}"]
}}

output "status" {{
  value = data.dr_status.orders
}}

check "orders_restorable" {{
  assert {{
    condition     = data.dr_status.orders.restorable == true
    error_message = data.dr_status.orders.summary
  }}
}}
"#
    )
}

async fn put(moto: &Moto, bucket: &str, key: &str, body: &'static [u8]) {
    moto.s3(PRIMARY)
        .await
        .put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from_static(body))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put s3://{bucket}/{key}: {e:?}"));
}

/// The key of the newest object under `prefix`, as moto lists it.
async fn newest_key(moto: &Moto, bucket: &str, prefix: &str) -> String {
    let out = moto
        .s3(PRIMARY)
        .await
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .send()
        .await
        .unwrap();
    out.contents()
        .iter()
        .filter(|o| o.size().unwrap_or(0) > 0)
        .max_by_key(|o| o.last_modified().copied())
        .and_then(|o| o.key())
        .unwrap()
        .to_string()
}

/// The data source as last read: outputs come from the state, which a plan does not
/// write, so read it again with a refresh-only apply first.
fn status(tf: &Terraform) -> Json {
    tf.run_ok(&["apply", "-refresh-only", "-auto-approve", "-input=false"])
        .unwrap();
    let out = tf.run_ok(&["output", "-json", "status"]).unwrap();
    serde_json::from_str(&out.stdout).unwrap()
}

fn check<'a>(status: &'a Json, check: &str, subject: &str) -> &'a Json {
    status["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check && c["subject"] == subject)
        .unwrap_or_else(|| panic!("no {check} check of {subject} in {status:#}"))
}

/// Asserts that `check` of `subject` passed and its detail starts with `detail`.
fn assert_passes(status: &Json, check_name: &str, subject: &str, detail: &str) {
    let c = check(status, check_name, subject);
    assert_eq!(c["ok"], true, "{c}");
    assert!(c["detail"].as_str().unwrap().starts_with(detail), "{c}");
}

/// The age a warning gives `what` (`... {what} is 1m 4s old; rpo 1m ...`), in seconds.
fn age_in(warning: &str, what: &str) -> u64 {
    let from = warning
        .find(&format!("{what} is "))
        .unwrap_or_else(|| panic!("{what} is not named in: {warning}"))
        + what.len()
        + 4;
    let text = &warning[from..];
    let text = &text[..text
        .find(" old; rpo 1m (age from its ")
        .unwrap_or_else(|| panic!("no age and rpo after {what} in: {warning}"))];
    text.split(' ')
        .map(|part| {
            let (n, unit) = part.split_at(part.len() - 1);
            let n: u64 = n.parse().unwrap_or_else(|_| panic!("age {text:?}"));
            match unit {
                "s" => n,
                "m" => n * 60,
                "h" => n * 3600,
                _ => panic!("age {text:?}"),
            }
        })
        .sum()
}

/// Sleeps until every time of `made` (as moto dated the copies) is more than the RPO ago.
fn wait_past_rpo(made: &[aws_smithy_types::DateTime]) {
    let newest = made.iter().map(|t| t.secs()).max().unwrap();
    let due = std::time::UNIX_EPOCH
        + Duration::from_secs(newest as u64 + 1)
        + RPO
        + Duration::from_secs(2);
    if let Ok(left) = due.duration_since(std::time::SystemTime::now()) {
        std::thread::sleep(left);
    }
}

/// `LastModified` of an object, as moto holds it.
async fn modified(moto: &Moto, bucket: &str, key: &str) -> aws_smithy_types::DateTime {
    *moto
        .s3(PRIMARY)
        .await
        .head_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap()
        .last_modified()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_old_dump_or_base_backup_warns_with_its_age_a_fresh_one_clears_it_and_a_gone_snapshot_warns(
) {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    seed_bucket(&moto, "orders-dumps", PRIMARY, false).await;
    seed_bucket(&moto, "orders-base", PRIMARY, false).await;
    put(
        &moto,
        "orders-dumps",
        "nightly/orders-1.dump",
        b"PGDMP first",
    )
    .await;
    put(&moto, "orders-base", "main/1/base.tar.gz", b"base").await;
    put(&moto, "orders-base", "main/1/pg_wal.tar.gz", b"wal").await;
    seed_bucket(&moto, "orders-dumps-dr", DR, false).await;
    moto.s3(DR)
        .await
        .put_object()
        .bucket("orders-dumps-dr")
        .key("nightly/orders.sql.gz")
        .body(ByteStream::from_static(b"sql"))
        .send()
        .await
        .unwrap();

    let tf = terraform(&moto, &instance_config());
    let applied = tf.apply().unwrap();
    assert!(applied.success(), "{applied}");

    // Fresh: each check passes and names the copy moto holds.
    let s = status(&tf);
    let dump = check(&s, "dump_freshness", &format!("dump:{DUMPS}"));
    assert_eq!(dump["ok"], true, "{dump}");
    let dump_key = newest_key(&moto, "orders-dumps", "nightly/").await;
    assert_eq!(dump_key, "nightly/orders-1.dump");
    assert!(
        dump["detail"]
            .as_str()
            .unwrap()
            .starts_with("newest dump s3://orders-dumps/nightly/orders-1.dump is "),
        "{dump}"
    );
    let base = check(&s, "base_backup_freshness", &format!("base_backup:{BASES}"));
    assert_eq!(base["ok"], true, "{base}");
    let snapshots = moto
        .rds(PRIMARY)
        .await
        .describe_db_snapshots()
        .db_instance_identifier("orders-db")
        .snapshot_type("automated")
        .send()
        .await
        .unwrap();
    let snapshot_id = snapshots.db_snapshots()[0]
        .db_snapshot_identifier()
        .unwrap()
        .to_string();
    assert_passes(
        &s,
        "snapshot_freshness",
        "rds:us-east-1:orders-db",
        &format!("newest automated snapshot {snapshot_id} is "),
    );
    assert_passes(
        &s,
        "dump_freshness",
        &format!("dump:{DR_DUMPS}"),
        "newest dump s3://orders-dumps-dr/nightly/orders.sql.gz is ",
    );
    // A dump prefix in a bucket that does not exist has nothing to restore.
    let gone = check(&s, "dump_freshness", "dump:s3://orders-gone/nightly/");
    assert_eq!(gone["ok"], false, "{gone}");
    assert_eq!(s["restorable"], false, "{s:#}");
    let warning = plan_warning(&tf);
    assert!(
        warning.contains(
            "dump_freshness dump:s3://orders-gone/nightly/: bucket orders-gone does not exist"
        ),
        "{warning}"
    );

    // Older than the RPO: the plan names each copy and its age.
    wait_past_rpo(&[
        *snapshots.db_snapshots()[0].snapshot_create_time().unwrap(),
        modified(&moto, "orders-dumps", "nightly/orders-1.dump").await,
        modified(&moto, "orders-base", "main/1/base.tar.gz").await,
    ]);
    let warning = plan_warning(&tf);
    assert!(
        warning.contains(&format!(
            "dump_freshness dump:{DUMPS}: newest dump s3://orders-dumps/nightly/orders-1.dump is "
        )),
        "{warning}"
    );
    let age = age_in(&warning, "s3://orders-dumps/nightly/orders-1.dump");
    assert!(age > 60 && age < 600, "{age}: {warning}");
    assert!(
        warning.contains(&format!(
            "base_backup_freshness base_backup:{BASES}: newest base backup s3://orders-base/main/1/base.tar.gz is "
        )),
        "{warning}"
    );
    // The daily snapshot, older than the 1m RPO too, is judged against the day: no warning.
    assert!(!warning.contains("snapshot_freshness"), "{warning}");
    assert_passes(
        &status(&tf),
        "snapshot_freshness",
        "rds:us-east-1:orders-db",
        &format!("newest automated snapshot {snapshot_id} is "),
    );
    assert!(
        warning.contains("(age from its LastModified "),
        "the detail says how a dump is dated: {warning}"
    );

    // A newer dump (and an empty object written after it, which is no dump) clears the
    // dump's warning; the others stay.
    put(
        &moto,
        "orders-dumps",
        "nightly/orders-2.dump",
        b"PGDMP second",
    )
    .await;
    put(&moto, "orders-dumps", "nightly/orders-3.dump", b"").await;
    let warning = plan_warning(&tf);
    assert!(
        !warning.contains(&format!("dump_freshness dump:{DUMPS}")),
        "{warning}"
    );
    assert!(warning.contains("base_backup_freshness"), "{warning}");
    let s = status(&tf);
    assert_passes(
        &s,
        "dump_freshness",
        &format!("dump:{DUMPS}"),
        "newest dump s3://orders-dumps/nightly/orders-2.dump is ",
    );

    // A new base backup folder clears the base backup's warning.
    put(&moto, "orders-base", "main/2/base.tar.gz", b"base").await;
    let warning = plan_warning(&tf);
    assert!(!warning.contains("base_backup_freshness"), "{warning}");
    let s = status(&tf);
    assert!(
        check(&s, "base_backup_freshness", &format!("base_backup:{BASES}"))["detail"]
            .as_str()
            .unwrap()
            .starts_with("newest base backup s3://orders-base/main/2/base.tar.gz is "),
        "{s:#}"
    );

    // The day's snapshot gone (deleted, or backups stopped): the plan names the instance.
    moto.rds(PRIMARY)
        .await
        .delete_db_snapshot()
        .db_snapshot_identifier(&snapshot_id)
        .send()
        .await
        .unwrap();
    let warning = plan_warning(&tf);
    assert!(
        warning.contains("snapshot_freshness rds:us-east-1:orders-db: no available automated snapshot of orders-db in us-east-1"),
        "{warning}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aurora_clusters_daily_snapshot_is_judged_against_the_day_and_warns_when_gone() {
    let moto = Moto::start().unwrap();
    seed_cluster(&moto, "orders-aurora", false).await;
    let tf = terraform(
        &moto,
        &format!(
            r#"{}
data "dr_status" "orders" {{
  policy_id = dr_policy.orders.id
}}

output "status" {{
  value = data.dr_status.orders
}}

check "orders_restorable" {{
  assert {{
    condition     = data.dr_status.orders.restorable == true
    error_message = data.dr_status.orders.summary
  }}
}}
"#,
            cluster_policy("orders", "orders-aurora")
        ),
    );
    let applied = tf.apply().unwrap();
    assert!(applied.success(), "{applied}");
    let snapshots = moto
        .rds(PRIMARY)
        .await
        .describe_db_cluster_snapshots()
        .db_cluster_identifier("orders-aurora")
        .snapshot_type("automated")
        .send()
        .await
        .unwrap();
    let snapshot_id = snapshots.db_cluster_snapshots()[0]
        .db_cluster_snapshot_identifier()
        .unwrap()
        .to_string();
    let s = status(&tf);
    assert_passes(
        &s,
        "snapshot_freshness",
        "rds:us-east-1:orders-aurora",
        &format!("newest automated snapshot {snapshot_id} is "),
    );

    // Under a 1m RPO the daily snapshot is judged against the day, and says so.
    let s = status(&tf);
    let c = check(&s, "snapshot_freshness", "rds:us-east-1:orders-aurora");
    assert_eq!(c["ok"], true, "{c}");
    let detail = c["detail"].as_str().unwrap();
    assert!(
        detail.contains(" old; judged against 26h (automated snapshots are daily; the rpo 1m is met between them by point-in-time restore"),
        "{detail}"
    );
    assert!(
        detail.contains("(age from its SnapshotCreateTime "),
        "{detail}"
    );
    assert!(!plan_warning(&tf).contains("snapshot_freshness"));

    moto.rds(PRIMARY)
        .await
        .delete_db_cluster_snapshot()
        .db_cluster_snapshot_identifier(&snapshot_id)
        .send()
        .await
        .unwrap();
    let warning = plan_warning(&tf);
    assert!(
        warning.contains("snapshot_freshness rds:us-east-1:orders-aurora: no available automated snapshot of orders-aurora in us-east-1: automated backups have not run"),
        "{warning}"
    );
}

#[test]
fn a_uri_that_is_not_s3_fails_the_plan_at_its_attribute() {
    let moto = Moto::start().unwrap();
    let tf = terraform(
        &moto,
        r#"
data "dr_status" "orders" {
  policy_id        = "orders"
  dump_uris        = ["s3://orders-dumps/nightly/", "orders-dumps/nightly/"]
  base_backup_uris = ["https://orders-base/main/"]
}
"#,
    );
    let plan = tf.run(&["plan", "-input=false", "-no-color"]).unwrap();
    assert!(!plan.success(), "{plan}");
    let text = plan.combined();
    assert!(text.contains("Error: Invalid dump_uris"), "{text}");
    assert!(
        text.contains("dump_uris[1] = \"orders-dumps/nightly/\" is not an S3 URI"),
        "{text}"
    );
    assert!(text.contains("Error: Invalid base_backup_uris"), "{text}");
}

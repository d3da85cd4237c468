//! `dr_status` with a `binlog_archive` through terraform against moto: the live figure of a
//! MySQL binlog archive, and the `binlog_continuity` preflight. A middle binlog file is
//! deleted with the SDK as an accident would delete it: the plan's `check` block warns
//! naming it, and the warning goes once the file is back. The dump's head is the text
//! `mariadb-dump --master-data=2` writes (only its first bytes are read).

mod policy_support;

use aws_sdk_s3::primitives::ByteStream;
use drkit_testkit::{Moto, Terraform};
use policy_support::{plan_warning, terraform, PRIMARY};
use serde_json::Value as Json;

const BINLOG: &str = "s3://shop-pitr/binlog/";

// The policy's name alone: the archive is what is measured here (a policy's own resources
// are status_acceptance's).
const CONFIG: &str = r#"
data "dr_status" "shop" {
  policy_id = "shop"

  binlog_archive {
    binlog_uri    = "s3://shop-pitr/binlog/"
    base_dump_uri = "s3://shop-pitr/full/"
  }
}

output "status" {
  value = data.dr_status.shop
}

check "shop_restorable" {
  assert {
    condition     = data.dr_status.shop.restorable == true
    error_message = data.dr_status.shop.summary
  }
}
"#;

/// The head of a `mariadb-dump --single-transaction --master-data=2 --databases shop`.
const DUMP_HEAD: &str = "-- MariaDB dump 10.19  Distrib 10.11.6-MariaDB, for debian-linux-gnu (x86_64)\n--\n-- Host: 127.0.0.1    Database: shop\n-- ------------------------------------------------------\n\n--\n-- Position to start replication or point-in-time recovery from\n--\n\n-- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=344;\n\nCREATE DATABASE /*!32312 IF NOT EXISTS*/ `shop`;\n";

async fn put(moto: &Moto, key: &str, body: Vec<u8>) {
    moto.s3(PRIMARY)
        .await
        .put_object()
        .bucket("shop-pitr")
        .key(key)
        .body(ByteStream::from(body))
        .send()
        .await
        .expect("put");
}

fn status(tf: &Terraform) -> Json {
    let out = tf.run_ok(&["output", "-json", "status"]).unwrap();
    serde_json::from_str(&out.stdout).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_binlog_warns_by_name_and_the_warning_goes_once_it_is_back() {
    let moto = Moto::start().unwrap();
    moto.s3(PRIMARY)
        .await
        .create_bucket()
        .bucket("shop-pitr")
        .send()
        .await
        .unwrap();
    for n in 1..=5 {
        put(
            &moto,
            &format!("binlog/mysql-bin.00000{n}"),
            vec![0xfe, b'b', b'i', b'n'],
        )
        .await;
    }
    put(
        &moto,
        "binlog/mysql-bin.index",
        b"./mysql-bin.000001\n".to_vec(),
    )
    .await;
    put(&moto, "full/shop.sql", DUMP_HEAD.as_bytes().to_vec()).await;

    let tf = terraform(&moto, CONFIG);
    let applied = tf.apply().unwrap();
    assert!(
        !applied.combined().contains("Check block assertion failed"),
        "{applied}"
    );
    let s = status(&tf);
    let figure = s["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["mechanism"] == "mysql_binlog_archive")
        .unwrap_or_else(|| panic!("no binlog figure in {s:#}"));
    assert_eq!(figure["address"], format!("binlog:{BINLOG}"));
    assert!(figure["seconds"].as_f64().unwrap() < 600.0, "{figure:#}");
    assert!(figure["source"]
        .as_str()
        .unwrap()
        .contains("mysql-bin.000005"));
    let check = s["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "binlog_continuity")
        .unwrap_or_else(|| panic!("no binlog_continuity in {s:#}"));
    assert_eq!(check["ok"], true, "{check:#}");
    assert!(
        check["detail"].as_str().unwrap().contains(
            "4 binlog file(s) continuous from the newest dump s3://shop-pitr/full/shop.sql"
        ),
        "{check:#}"
    );

    // A middle file is deleted: replay from the dump's file would stop before it.
    moto.s3(PRIMARY)
        .await
        .delete_object()
        .bucket("shop-pitr")
        .key("binlog/mysql-bin.000003")
        .send()
        .await
        .unwrap();
    let warning = plan_warning(&tf);
    assert!(
        warning.contains(&format!(
            "binlog_continuity binlog:{BINLOG}: hole from mysql-bin.000003"
        )),
        "{warning}"
    );
    put(
        &moto,
        "binlog/mysql-bin.000003",
        vec![0xfe, b'b', b'i', b'n'],
    )
    .await;
    assert_eq!(plan_warning(&tf), "");

    // A hole before the dump's file costs nothing.
    moto.s3(PRIMARY)
        .await
        .delete_object()
        .bucket("shop-pitr")
        .key("binlog/mysql-bin.000001")
        .send()
        .await
        .unwrap();
    assert_eq!(plan_warning(&tf), "");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_binlog_uri_is_refused_at_plan_on_its_attribute() {
    let moto = Moto::start().unwrap();
    let tf = terraform(
        &moto,
        &CONFIG.replace("\"s3://shop-pitr/full/\"", "\"shop-pitr/full/\""),
    );
    let out = tf.run(&["plan", "-input=false", "-no-color"]).unwrap();
    assert!(!out.success());
    let text = out.combined();
    assert!(
        text.contains("Invalid base_dump_uri") && text.contains("binlog_archive[0].base_dump_uri"),
        "{text}"
    );
}

//! `dr_status`'s restore-path preflight through terraform against moto: each thing that
//! would make a restore fail is broken with the SDK as an operator (or an accident) would
//! break it, a plan's `check` block warns naming it, and the warning goes once it is
//! repaired. Checked with real reads: the key state, versioning and objects are what moto
//! holds.

mod policy_support;

use aws_sdk_kms::types::KeyState;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use drkit_testkit::{Moto, Terraform};
use policy_support::{
    plan_warning, provider_block, seed_bucket, seed_db, DR, PRIMARY, PROVIDER, ROLE,
};
use serde_json::Value as Json;

const WAL: &str = "s3://orders-wal/main/";

fn config(moto: &Moto, key_arn: &str) -> String {
    format!(
        r#"{}
resource "dr_policy" "orders" {{
  name   = "orders"
  rpo    = "15m"
  rto    = "1h"
  owners = ["alice@example.com", "bob@example.com"]

  rds {{
    instance_identifier = "orders-db"
    cross_region_replica {{
      kms_key_id = "{key_arn}"
    }}
  }}

  s3 {{
    bucket = "orders-backups"
    replication {{
      destination_bucket       = "orders-backups-dr"
      role_arn                 = "{ROLE}"
      replication_time_control = true
    }}
  }}
}}

data "dr_status" "orders" {{
  policy_id        = dr_policy.orders.id
  wal_archive_uris = ["{WAL}"]
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
        // The provider block sends KMS to moto too: the preflight describes the replica's key there.
        provider_block(moto)
    )
}

/// Segments 1 to 5 of timeline 1 and the backup history file of a base backup that
/// started in segment 2.
const WAL_FILES: [&str; 6] = [
    "000000010000000000000001",
    "000000010000000000000002",
    "000000010000000000000002.00000028.backup",
    "000000010000000000000003",
    "000000010000000000000004",
    "000000010000000000000005",
];

async fn put_wal(moto: &Moto, name: &str) {
    moto.s3(PRIMARY)
        .await
        .put_object()
        .bucket("orders-wal")
        .key(format!("main/{name}"))
        .body(ByteStream::from_static(b"wal"))
        .send()
        .await
        .expect("put a WAL file");
}

async fn versioning(moto: &Moto, status: BucketVersioningStatus) {
    moto.s3(DR)
        .await
        .put_bucket_versioning()
        .bucket("orders-backups-dr")
        .versioning_configuration(VersioningConfiguration::builder().status(status).build())
        .send()
        .await
        .expect("versioning");
}

fn status(tf: &Terraform) -> Json {
    let out = tf.run_ok(&["output", "-json", "status"]).unwrap();
    serde_json::from_str(&out.stdout).unwrap()
}

fn check<'a>(status: &'a Json, check: &str) -> &'a Json {
    status["preflight"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .unwrap_or_else(|| panic!("no {check} check in {status:#}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn each_broken_restore_path_warns_by_name_and_the_warning_goes_once_repaired() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", true).await;
    seed_bucket(&moto, "orders-backups", PRIMARY, true).await;
    seed_bucket(&moto, "orders-backups-dr", DR, true).await;
    seed_bucket(&moto, "orders-wal", PRIMARY, false).await;
    for f in WAL_FILES {
        put_wal(&moto, f).await;
    }
    let kms = aws_sdk_kms::Client::new(&moto.sdk_config(DR).await);
    let key = kms
        .create_key()
        .description("orders DR replica")
        .send()
        .await
        .unwrap()
        .key_metadata
        .unwrap();
    let key_arn = key.arn().unwrap().to_string();
    let key_id = key.key_id().to_string();

    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(moto.env());
    tf.write("main.tf", &config(&moto, &key_arn)).unwrap();
    let applied = tf.apply().unwrap();
    assert!(
        !applied.combined().contains("Check block assertion failed"),
        "{applied}"
    );
    let s = status(&tf);
    assert_eq!(s["restorable"], true, "{s:#}");
    let k = check(&s, "kms_key");
    assert_eq!(k["subject"], key_arn.as_str());
    assert_eq!(k["ok"], true, "{k}");
    assert_eq!(check(&s, "s3_destination")["ok"], true);
    let w = check(&s, "wal_continuity");
    assert_eq!(w["ok"], true, "{w}");
    assert!(
        w["detail"]
            .as_str()
            .unwrap()
            .starts_with("4 segment(s) continuous from the newest base backup (started in 000000010000000000000002"),
        "{w}"
    );
    assert_eq!(plan_warning(&tf), "");

    // The DR region's key is disabled: the replica could not be promoted.
    kms.disable_key().key_id(&key_id).send().await.unwrap();
    let state = kms.describe_key().key_id(&key_id).send().await.unwrap();
    assert_eq!(
        state.key_metadata.unwrap().key_state,
        Some(KeyState::Disabled)
    );
    let warning = plan_warning(&tf);
    assert!(
        warning.contains(&format!("kms_key {key_arn}: replica rds:us-west-2:orders-db-dr: key {key_arn} is Disabled in us-west-2")),
        "{warning}"
    );
    kms.enable_key().key_id(&key_id).send().await.unwrap();
    assert_eq!(plan_warning(&tf), "");

    // A middle segment of the archive is deleted: replay would stop before it.
    moto.s3(PRIMARY)
        .await
        .delete_object()
        .bucket("orders-wal")
        .key("main/000000010000000000000004")
        .send()
        .await
        .unwrap();
    let warning = plan_warning(&tf);
    assert!(
        warning.contains(&format!(
            "wal_continuity wal:{WAL}: hole from 000000010000000000000004"
        )),
        "{warning}"
    );
    assert!(warning.contains("1 segment(s)"), "{warning}");
    put_wal(&moto, "000000010000000000000004").await;
    assert_eq!(plan_warning(&tf), "");

    // The destination bucket's versioning is suspended: S3 stops replicating into it.
    versioning(&moto, BucketVersioningStatus::Suspended).await;
    let warning = plan_warning(&tf);
    assert!(
        warning.contains("s3_destination s3:orders-backups->orders-backups-dr: destination orders-backups-dr in us-west-2 is not versioned (versioning Suspended)"),
        "{warning}"
    );
    versioning(&moto, BucketVersioningStatus::Enabled).await;
    assert_eq!(plan_warning(&tf), "");
}

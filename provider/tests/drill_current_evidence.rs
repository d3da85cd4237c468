//! `dr_status`'s `drill_current`, `last_drill_at` and `last_drill_passed` from signed
//! evidence records, through terraform against moto (S3 Object Lock, KMS asymmetric keys):
//! a record older than the interval (written through the library, signed, as a past run
//! would) warns on a plan's `check` block; a real drill with `evidence` makes the policy
//! current and records its evidence location on the policy's instance (read back with the
//! SDK), which a `dr_status` without `evidence_uris` follows; a tampered newest record
//! does not count and is named in `summary`; evidence whose signatures cannot be checked
//! (KMS unreachable) is unknown, never "not current".

mod drill_support;
mod policy_support;

use std::net::TcpListener;

use drill_support::*;
use drkit_drill::evidence::{self, EvidenceConfig, LockMode, RunContext};
use drkit_drill::DrillReport;
use drkit_testkit::{Moto, Postgres, Terraform};
use policy_support::{plan_warning, provider_block, seed_db, tag_db, PRIMARY};
use serde_json::Value as Json;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const BUCKET: &str = "acme-dr-evidence";

/// The policy `shop` (30-day `drill_interval`), its status with `status_args`, and a check
/// asserting `drill_current` that quotes `summary`.
fn policy(status_args: &str) -> String {
    format!(
        r#"
resource "dr_policy" "shop" {{
  name           = "shop"
  rpo            = "4h"
  rto            = "4h"
  owners         = ["alice@example.com", "bob@example.com"]
  drill_interval = "30d"

  rds {{
    instance_identifier = "shop-db"
    cross_region_replica {{}}
  }}
}}

data "dr_status" "shop" {{
  policy_id = dr_policy.shop.id
  {status_args}
}}

output "status" {{
  value = data.dr_status.shop
}}

check "shop_drilled" {{
  assert {{
    condition     = data.dr_status.shop.drill_current == true
    error_message = "shop drill not current: ${{data.dr_status.shop.summary}}"
  }}
}}
"#
    )
}

/// The real dump drill of the policy, keeping evidence in the locked bucket.
fn drill_with_evidence(pg: &Postgres, key: &str) -> String {
    let evidence = format!(
        r#"evidence {{
    s3_uri      = "s3://{BUCKET}/drills/"
    retain_days = 30
    lock_mode   = "GOVERNANCE"
    kms_key_id  = "{key}"
  }}"#
    );
    drill(pg, &evidence, COUNT_CHECK)
        .replace("policy_id = \"shop\"", "policy_id = dr_policy.shop.id")
}

/// A passing run of drill `shop` that finished `days_ago`, as the engine reports it.
fn past_report(run_id: &str, days_ago: i64) -> DrillReport {
    let end = OffsetDateTime::now_utc() - time::Duration::days(days_ago);
    let at = |secs: i64| {
        (end + time::Duration::seconds(secs))
            .format(&Rfc3339)
            .unwrap()
    };
    serde_json::from_value(serde_json::json!({
        "name": "shop", "run_id": run_id, "source_kind": "postgres_dump",
        "restored_from": "s3://shop-backups/daily/shop.dump", "restore_point": at(-3600),
        "started_at": at(-60), "finished_at": at(0),
        "phases": [{"name": "restore", "started_at": at(-60), "seconds": 50.0}],
        "measured_rto_seconds": 50.0, "measured_rpo_seconds": 3600.0,
        "target_rto_seconds": 600.0, "target_rpo_seconds": 3600.0,
        "rto_met": true, "rpo_met": true,
        "verify_results": [{"name": "orders restored", "sql": "SELECT count(*) FROM orders",
            "expect": "= 2500", "value": "2500", "passed": true, "at": at(-5), "error": null}],
        "teardown": [{"what": "scratch database drkit_drill_x", "ok": true, "error": null}],
        "notes": [], "history": []
    }))
    .unwrap()
}

/// Writes, signs and locks the record of a past run of the policy's drill, through the
/// library as the drill does.
async fn write_past_run(moto: &Moto, key: &str, run_id: &str, days_ago: i64) -> String {
    write_run_of(moto, key, "shop", run_id, days_ago).await
}

/// As [`write_past_run`], for the drill and policy `policy`.
async fn write_run_of(moto: &Moto, key: &str, policy: &str, run_id: &str, days_ago: i64) -> String {
    let (s3, kms) = (moto.s3(PRIMARY).await, moto.kms(PRIMARY).await);
    let config = EvidenceConfig {
        s3_uri: format!("s3://{BUCKET}/drills/"),
        retain_days: 30,
        lock_mode: LockMode::Governance,
        kms_key_id: key.to_string(),
    };
    let dest = evidence::prepare(&s3, &kms, &config, PRIMARY)
        .await
        .unwrap();
    let ctx = RunContext {
        drill: policy.into(),
        policy: policy.into(),
        error: None,
    };
    let report = past_report(run_id, days_ago);
    evidence::write(&dest, &s3, &kms, &ctx, &report)
        .await
        .unwrap()
        .record_uri
}

fn status(tf: &Terraform) -> Json {
    let out = tf.run_ok(&["output", "-json", "status"]).unwrap();
    serde_json::from_str(&out.stdout).unwrap()
}

async fn instance_tag(moto: &Moto, key: &str) -> Option<String> {
    let rds = moto.rds(PRIMARY).await;
    let out = rds
        .describe_db_instances()
        .db_instance_identifier("shop-db")
        .send()
        .await
        .unwrap();
    out.db_instances()[0]
        .tag_list()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value().map(str::to_string))
}

#[tokio::test(flavor = "multi_thread")]
async fn verified_evidence_decides_whether_drills_are_current() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seeded(&moto, &pg).await;
    seed_db(&moto, "shop-db", false).await;
    moto.object_lock_bucket(PRIMARY, BUCKET).await.unwrap();
    let key = moto.signing_key(PRIMARY, "ECC_NIST_P256").await.unwrap();
    let old_uri = write_past_run(&moto, &key, "old-run", 40).await;
    // Another policy's fresh pass in the same location does not make this one current.
    write_run_of(&moto, &key, "billing", "billing-run", 1).await;

    // Named explicitly: the 40-day-old record is the newest drill, beyond the interval.
    let mut tf = Terraform::new(policy_support::PROVIDER).unwrap();
    tf.envs(moto.env());
    tf.env(PASSWORD_ENV, pg.password());
    let explicit = format!("evidence_uris = [\"s3://{BUCKET}/drills/\"]");
    let write = |tf: &Terraform, body: &str| {
        tf.write("main.tf", &format!("{}{body}", provider_block(&moto)))
            .unwrap()
    };
    write(&tf, &policy(&explicit));
    tf.apply().unwrap();
    let s = status(&tf);
    assert_eq!(s["drill_current"], false, "{s:#}");
    assert_eq!(s["last_drill_passed"], true, "{s:#}");
    let old_at = s["last_drill_at"].as_str().unwrap().to_string();
    let age = OffsetDateTime::now_utc() - OffsetDateTime::parse(&old_at, &Rfc3339).unwrap();
    assert!((age.whole_days() - 40).abs() <= 1, "{old_at}");
    let warning = plan_warning(&tf);
    assert!(
        warning.contains("shop drill not current"),
        "the overdue drill must warn: {warning}"
    );
    // Without evidence_uris and before any drill tagged a location: the tags, which
    // record nothing yet.
    write(&tf, &policy(""));
    tf.apply().unwrap();
    assert_eq!(status(&tf)["last_drill_at"], Json::Null);

    // A real drill with evidence: its record is written, its location tagged on the
    // policy's instance, and the status (no evidence_uris) follows the tag.
    write(
        &tf,
        &format!("{}{}", policy(""), drill_with_evidence(&pg, &key)),
    );
    tf.apply().unwrap();
    let drill = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(drill["passed"], true, "{drill:#}");
    let new_uri = drill["evidence_uri"].as_str().unwrap().to_string();
    assert_eq!(
        instance_tag(&moto, "drkit:drill-evidence").await.as_deref(),
        Some(format!("s3://{BUCKET}/drills/").as_str())
    );
    tf.apply().unwrap();
    let s = status(&tf);
    assert_eq!(s["drill_current"], true, "{s:#}");
    assert_eq!(s["last_drill_passed"], true);
    assert_eq!(s["last_drill_at"], drill["finished_at"], "{s:#}");
    assert_eq!(plan_warning(&tf), "");

    // The outcome tags are not what decides once evidence is known: a forged pass on the
    // instance changes nothing.
    let forged = "at=2099-01-01T00:00:00Z passed=true drill=forged";
    tag_db(
        &moto,
        "shop-db",
        &[
            ("drkit:last-drill", forged),
            ("drkit:last-passed-drill", forged),
        ],
    )
    .await;

    // The newest record edited (a new version of its key; the lock keeps the old one):
    // it does not count, the policy falls back to the old record, and summary names it.
    let s3 = moto.s3(PRIMARY).await;
    let key_of = new_uri.strip_prefix(&format!("s3://{BUCKET}/")).unwrap();
    let edited = String::from_utf8(moto.object(PRIMARY, BUCKET, key_of).await.unwrap())
        .unwrap()
        .replacen(
            "\"measured_rto_seconds\": ",
            "\"measured_rto_seconds\": 1",
            1,
        );
    s3.put_object()
        .bucket(BUCKET)
        .key(key_of)
        .body(edited.into_bytes().into())
        .send()
        .await
        .unwrap();
    tf.apply().unwrap();
    let s = status(&tf);
    assert_eq!(s["drill_current"], false, "{s:#}");
    assert_eq!(s["last_drill_at"], old_at.as_str(), "{s:#}");
    let summary = s["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("evidence record {new_uri} does not count: edited")),
        "{summary}"
    );
    assert!(
        !summary.contains(&old_uri),
        "the old record verifies: {summary}"
    );
    let warning = plan_warning(&tf);
    assert!(
        warning.contains("shop drill not current") && warning.contains(&new_uri),
        "{warning}"
    );
}

/// A port nothing listens on.
fn refused_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

#[tokio::test(flavor = "multi_thread")]
async fn evidence_that_cannot_be_checked_is_unknown_within_the_read_budget() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "shop-db", false).await;
    moto.object_lock_bucket(PRIMARY, BUCKET).await.unwrap();
    let key = moto.signing_key(PRIMARY, "ECC_NIST_P256").await.unwrap();
    write_past_run(&moto, &key, "recent-run", 1).await;
    let provider = provider_block(&moto).replace(
        &format!("kms        = \"{}\"", moto.endpoint()),
        &format!("kms        = \"{}\"", refused_endpoint()),
    );
    assert!(!provider.contains(&format!("kms        = \"{}\"", moto.endpoint())));
    let mut tf = Terraform::new(policy_support::PROVIDER).unwrap();
    tf.envs(moto.env());
    let explicit = format!("evidence_uris = [\"s3://{BUCKET}/drills/shop/recent-run.json\"]");
    tf.write("main.tf", &format!("{provider}{}", policy(&explicit)))
        .unwrap();
    tf.apply().unwrap();
    let s = status(&tf);
    assert_eq!(s["drill_current"], Json::Null, "{s:#}");
    assert_eq!(s["last_drill_at"], Json::Null, "{s:#}");
    let summary = s["summary"].as_str().unwrap();
    assert!(
        summary.contains("recent-run.json not checked: signature not checked"),
        "{summary}"
    );

    // A bucket that cannot be read is unknown too, and says which.
    let explicit = "evidence_uris = [\"s3://no-such-evidence/drills/\"]";
    tf.write(
        "main.tf",
        &format!("{}{}", provider_block(&moto), policy(explicit)),
    )
    .unwrap();
    tf.apply().unwrap();
    let s = status(&tf);
    assert_eq!(s["drill_current"], Json::Null, "{s:#}");
    assert!(
        s["summary"]
            .as_str()
            .unwrap()
            .contains("drill evidence s3://no-such-evidence/drills/ could not be read"),
        "{s:#}"
    );

    // A bad uri is an error on its index at plan.
    let explicit = format!("evidence_uris = [\"s3://{BUCKET}/drills/\", \"s3://{BUCKET}/drills\"]");
    tf.write(
        "main.tf",
        &format!("{}{}", provider_block(&moto), policy(&explicit)),
    )
    .unwrap();
    let text = tf.plan_expect_error("Invalid evidence_uris").unwrap();
    assert!(text.contains("evidence_uris[1]"), "{text}");
}

//! `dr_drill` `evidence { }` through the real terraform CLI: a real dump drill writes a
//! signed, chained record under Object Lock in moto, read back with the AWS SDK; a bucket
//! without Object Lock, a symmetric key and a key in another region fail the plan on their
//! attribute; a record that cannot be written is a warning and a note, the drill's result
//! is kept, and the next record links to the last one that exists.

mod drill_support;
mod policy_support;

use drill_support::*;
use drkit_drill::evidence::{sha256_hex, Record, Signature};
use drkit_testkit::{Moto, Postgres};
use policy_support::{terraform, PRIMARY};

const BUCKET: &str = "acme-dr-evidence";

fn evidence_block(key: &str, extra: &str) -> String {
    format!(
        r#"triggers = {{ run = "{extra}" }}

  evidence {{
    s3_uri      = "s3://{BUCKET}/drills/"
    retain_days = 2555
    lock_mode   = "COMPLIANCE"
    kms_key_id  = "{key}"
  }}"#
    )
}

async fn get(moto: &Moto, key: &str) -> Vec<u8> {
    moto.object(PRIMARY, BUCKET, key).await.unwrap()
}

/// The `s3://bucket/key` of `uri` as a key.
fn key_of(uri: &str) -> &str {
    uri.strip_prefix(&format!("s3://{BUCKET}/")).unwrap()
}

/// The seeded dump, the Object Lock bucket and an ECC signing key (returned).
async fn locked_destination(moto: &Moto, pg: &Postgres) -> String {
    seeded(moto, pg).await;
    moto.object_lock_bucket(PRIMARY, BUCKET).await.unwrap();
    moto.signing_key(PRIMARY, "ECC_NIST_P256").await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_run_leaves_a_signed_locked_chained_record() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    let key = locked_destination(&moto, &pg).await;
    let mut tf = terraform(&moto, &drill(&pg, &evidence_block(&key, "1"), COUNT_CHECK));
    tf.env(PASSWORD_ENV, pg.password());
    tf.apply().unwrap();
    let state = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    let first_uri = state["evidence_uri"].as_str().unwrap().to_string();
    let run = state["id"].as_str().unwrap();
    assert_eq!(first_uri, format!("s3://{BUCKET}/drills/shop/{run}.json"));

    let bytes = get(&moto, key_of(&first_uri)).await;
    let record: Record = serde_json::from_slice(&bytes).unwrap();
    assert!(record.passed && record.previous.is_none());
    assert_eq!(
        record.report.verify_results[0].value.as_deref(),
        Some("2500")
    );
    assert_eq!(record.report.target_rpo_seconds, Some(3600.0));
    assert!(record.report.teardown.iter().all(|t| t.ok) && !record.report.teardown.is_empty());
    // The password is not in the evidence either.
    assert!(!String::from_utf8_lossy(&bytes).contains(pg.password()));
    // Locked: the version cannot be deleted.
    let s3 = moto.s3(PRIMARY).await;
    let head = s3
        .head_object()
        .bucket(BUCKET)
        .key(key_of(&first_uri))
        .send()
        .await
        .unwrap();
    assert_eq!(
        head.object_lock_mode().map(|m| m.as_str()),
        Some("COMPLIANCE")
    );
    let deleted = s3
        .delete_object()
        .bucket(BUCKET)
        .key(key_of(&first_uri))
        .version_id(head.version_id().unwrap())
        .send()
        .await;
    assert!(deleted.is_err(), "the locked record could be deleted");
    // Signed: kms:Verify accepts the signature of the record's hash.
    let sig: Signature =
        serde_json::from_slice(&get(&moto, &key_of(&first_uri).replace(".json", ".sig")).await)
            .unwrap();
    assert!(sig.message.ends_with(&sha256_hex(&bytes)));
    let kms = moto.kms(PRIMARY).await;
    assert!(sig.verify_with_kms(&kms, &key).await.unwrap());

    // A second run (a failing one) links to the first.
    let failing = COUNT_CHECK.replace("= 2500", "= 1");
    policy_support::rewrite(
        &tf,
        &moto,
        &drill(&pg, &evidence_block(&key, "2"), &failing),
    );
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(
        !out.success() && out.combined().contains("DR drill failed"),
        "{out}"
    );
    let state = tf.resource("dr_drill.shop").unwrap();
    let second_uri = state["evidence_uri"].as_str().unwrap();
    let second: Record = serde_json::from_slice(&get(&moto, key_of(second_uri)).await).unwrap();
    assert!(!second.passed);
    assert!(second
        .error
        .as_deref()
        .unwrap()
        .contains("verification failed"));
    let link = second.previous.unwrap();
    assert_eq!(link.run_id, run);
    assert_eq!(link.sha256, sha256_hex(&bytes));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_destination_that_cannot_prove_anything_fails_the_plan() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seeded(&moto, &pg).await;
    let s3 = moto.s3(PRIMARY).await;
    s3.create_bucket().bucket(BUCKET).send().await.unwrap();
    let key = moto.signing_key(PRIMARY, "ECC_NIST_P256").await.unwrap();
    let mut tf = terraform(&moto, &drill(&pg, &evidence_block(&key, "1"), COUNT_CHECK));
    tf.env(PASSWORD_ENV, pg.password());
    let text = tf
        .plan_expect_error("Evidence bucket without Object Lock")
        .unwrap();
    // Terraform quotes the attribute the error is on.
    assert!(
        text.contains("s3_uri      = \"s3://acme-dr-evidence/drills/\""),
        "{text}"
    );
    assert!(scratch_dbs(&pg).is_empty(), "nothing ran");

    moto.object_lock_bucket(PRIMARY, "locked-evidence")
        .await
        .unwrap();
    let symmetric = moto
        .kms(PRIMARY)
        .await
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let config = drill(&pg, &evidence_block(&symmetric, "1"), COUNT_CHECK)
        .replace(&format!("s3://{BUCKET}/"), "s3://locked-evidence/");
    policy_support::rewrite(&tf, &moto, &config);
    let text = tf.plan_expect_error("Not a signing key").unwrap();
    assert!(
        text.contains(&format!("kms_key_id  = \"{symmetric}\""))
            && text.contains("ENCRYPT_DECRYPT"),
        "{text}"
    );

    // A signing key, but in another region than the bucket's.
    let west = moto
        .signing_key(policy_support::DR, "ECC_NIST_P256")
        .await
        .unwrap();
    let elsewhere = drill(&pg, &evidence_block(&west, "1"), COUNT_CHECK)
        .replace(&format!("s3://{BUCKET}/"), "s3://locked-evidence/");
    policy_support::rewrite(&tf, &moto, &elsewhere);
    let text = tf
        .plan_expect_error("Signing key in another region")
        .unwrap();
    assert!(
        text.contains(&format!("kms_key_id  = \"{west}\""))
            && text
                .contains("is in us-west-2, the evidence bucket \"locked-evidence\" in us-east-1"),
        "{text}"
    );

    let config = config.replace("\"COMPLIANCE\"", "\"compliance\"");
    policy_support::rewrite(&tf, &moto, &config);
    let text = tf.plan_expect_error("Invalid lock_mode").unwrap();
    assert!(text.contains("GOVERNANCE"), "{text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_record_that_cannot_be_written_loses_nothing_and_the_chain_skips_it() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    let key = locked_destination(&moto, &pg).await;
    let mut tf = terraform(&moto, &drill(&pg, &evidence_block(&key, "1"), COUNT_CHECK));
    tf.env(PASSWORD_ENV, pg.password());
    tf.apply().unwrap();
    let first = tf.resource("dr_drill.shop").unwrap();
    let first_run = first["id"].as_str().unwrap().to_string();
    let first_bytes = get(&moto, key_of(first["evidence_uri"].as_str().unwrap())).await;

    // The second run's bucket does not exist (a plan warning: it may be created in the
    // same apply): the drill runs and passes, its record cannot be written.
    let missing = drill(&pg, &evidence_block(&key, "2"), COUNT_CHECK)
        .replace(&format!("s3://{BUCKET}/"), "s3://missing-evidence/");
    policy_support::rewrite(&tf, &moto, &missing);
    let out = tf.apply().unwrap();
    let text = out.combined();
    assert!(
        text.contains("Could not write the drill evidence") && text.contains("missing-evidence"),
        "{text}"
    );
    let second = tf.resource("dr_drill.shop").unwrap();
    let second_run = second["id"].as_str().unwrap().to_string();
    assert_ne!(second_run, first_run);
    assert_eq!(
        second["passed"], true,
        "the drill's result is kept: {second:#}"
    );
    assert_eq!(second["evidence_uri"], serde_json::Value::Null);
    let report: serde_json::Value =
        serde_json::from_str(second["report"].as_str().unwrap()).unwrap();
    assert!(
        report["notes"].to_string().contains("evidence not written"),
        "{report:#}"
    );

    // The third run links to the last record that exists: the first.
    policy_support::rewrite(
        &tf,
        &moto,
        &drill(&pg, &evidence_block(&key, "3"), COUNT_CHECK),
    );
    tf.apply().unwrap();
    let third = tf.resource("dr_drill.shop").unwrap();
    let record: Record =
        serde_json::from_slice(&get(&moto, key_of(third["evidence_uri"].as_str().unwrap())).await)
            .unwrap();
    let link = record.previous.unwrap();
    assert_eq!(link.run_id, first_run);
    assert_eq!(link.sha256, sha256_hex(&first_bytes));
}

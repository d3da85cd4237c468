//! Evidence records against moto's S3 Object Lock and KMS: written locked and signed,
//! read back through the SDK (a delete of the locked version is refused, kms:Verify
//! accepts the signature, each record links to the one before), and every kind of
//! tampering named by the audit.

use aws_sdk_kms::primitives::Blob;
use aws_sdk_kms::types::{MessageType, SigningAlgorithmSpec};
use base64::Engine;
use drkit_drill::evidence::{
    self, audit, load_chains, sha256_hex, AuditOptions, Destination, EvidenceConfig, Location,
    LockMode, Record, RunContext, Signature,
};
use drkit_drill::DrillReport;
use drkit_testkit::Moto;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const REGION: &str = "us-east-1";
const BUCKET: &str = "acme-dr-evidence";

/// A finished drill's report, as the engine writes it.
fn report(run_id: &str, passed: bool) -> DrillReport {
    let now = OffsetDateTime::now_utc();
    let at = |secs: i64| {
        (now + time::Duration::seconds(secs))
            .format(&Rfc3339)
            .unwrap()
    };
    serde_json::from_value(serde_json::json!({
        "name": "orders",
        "run_id": run_id,
        "source_kind": "postgres_dump",
        "restored_from": "s3://shop-backups/daily/shop.dump (2026-12-06T03:00:00Z)",
        "restore_point": "2026-12-06T03:00:00Z",
        "started_at": at(-60),
        "finished_at": at(0),
        "phases": [{"name": "fetch", "started_at": at(-60), "seconds": 1.5},
                   {"name": "restore", "started_at": at(-58), "seconds": 40.0}],
        "measured_rto_seconds": 42.0,
        "measured_rpo_seconds": 900.0,
        "target_rto_seconds": 600.0,
        "target_rpo_seconds": 3600.0,
        "rto_met": true,
        "rpo_met": true,
        "verify_results": [{"name": "orders restored", "sql": "SELECT count(*) FROM orders",
            "expect": "= 2500", "value": if passed { "2500" } else { "12" }, "passed": passed,
            "at": at(-5), "error": null}],
        "teardown": [{"what": "scratch database drkit_drill_x", "ok": true, "error": null}],
        "notes": [],
        "history": []
    }))
    .unwrap()
}

struct Setup {
    moto: Moto,
    s3: aws_sdk_s3::Client,
    kms: aws_sdk_kms::Client,
    dest: Destination,
}

async fn setup(spec: &str, mode: LockMode) -> Setup {
    let moto = Moto::start().unwrap();
    moto.object_lock_bucket(REGION, BUCKET).await.unwrap();
    let key = moto.signing_key(REGION, spec).await.unwrap();
    let (s3, kms) = (moto.s3(REGION).await, moto.kms(REGION).await);
    let config = EvidenceConfig {
        s3_uri: format!("s3://{BUCKET}/drills/"),
        retain_days: 30,
        lock_mode: mode,
        kms_key_id: key,
    };
    assert_eq!(evidence::bucket_region(&s3, BUCKET).await.unwrap(), REGION);
    let dest = evidence::prepare(&s3, &kms, &config, REGION).await.unwrap();
    Setup {
        moto,
        s3,
        kms,
        dest,
    }
}

impl Setup {
    async fn write(&self, run_id: &str, passed: bool) -> evidence::Written {
        let ctx = RunContext {
            drill: "orders".into(),
            policy: "orders-policy".into(),
            error: (!passed).then(|| "verification failed: orders restored".into()),
        };
        evidence::write(
            &self.dest,
            &self.s3,
            &self.kms,
            &ctx,
            &report(run_id, passed),
        )
        .await
        .unwrap()
    }

    async fn get(&self, key: &str) -> Vec<u8> {
        self.moto.object(REGION, BUCKET, key).await.unwrap()
    }

    async fn audit(&self) -> evidence::Audit {
        let chains = load_chains(&self.s3, &self.dest.location, None, true)
            .await
            .unwrap();
        let kms = self.kms.clone();
        let kms_for = move |_: &str| kms.clone();
        audit(
            &chains,
            &AuditOptions {
                public_key: None,
                key_id: None,
                kms: &kms_for,
                min_retain_days: None,
            },
        )
        .await
    }

    async fn version_of(&self, key: &str) -> String {
        let head = self
            .s3
            .head_object()
            .bucket(BUCKET)
            .key(key)
            .send()
            .await
            .unwrap();
        head.version_id().unwrap().to_string()
    }
}

/// Problems of the audit as `run: kind: detail`.
fn problems(a: &evidence::Audit) -> Vec<String> {
    a.bad()
        .flat_map(|r| {
            r.problems
                .iter()
                .map(move |p| format!("{}: {}: {}", r.run_id, p.kind, p.detail))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn records_are_locked_signed_and_chained() {
    let s = setup("ECC_NIST_P256", LockMode::Compliance).await;
    assert_eq!(s.dest.algorithm, SigningAlgorithmSpec::EcdsaSha256);
    let first = s.write("1765000000-1-0", true).await;
    assert_eq!(first.previous, None, "the first record links to nothing");
    let second = s.write("1765000100-1-0", false).await;
    assert_eq!(
        first.record_uri,
        format!("s3://{BUCKET}/drills/orders/1765000000-1-0.json")
    );

    // The record, read back: what an auditor asks for is in it.
    let bytes = s.get("drills/orders/1765000100-1-0.json").await;
    assert_eq!(sha256_hex(&bytes), second.sha256);
    let record: Record = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(record.drill, "orders");
    assert_eq!(record.policy, "orders-policy");
    assert!(!record.passed, "a failed run is recorded as failed");
    assert_eq!(
        record.error.as_deref(),
        Some("verification failed: orders restored")
    );
    assert_eq!(record.drkit_version, env!("CARGO_PKG_VERSION"));
    assert_eq!(
        record.report.restore_point.as_deref(),
        Some("2026-12-06T03:00:00Z")
    );
    assert_eq!(record.report.verify_results[0].value.as_deref(), Some("12"));
    assert!(record.torn_down());
    // The chain: the second record carries the first's exact hash.
    let first_bytes = s.get("drills/orders/1765000000-1-0.json").await;
    let link = record.previous.clone().unwrap();
    assert_eq!(link.run_id, "1765000000-1-0");
    assert_eq!(link.sha256, sha256_hex(&first_bytes));

    // Locked: S3 reports the retention, and refuses to delete the locked version.
    let ret =
        s.s3.head_object()
            .bucket(BUCKET)
            .key("drills/orders/1765000100-1-0.json")
            .send()
            .await
            .unwrap();
    assert_eq!(ret.object_lock_mode().unwrap().as_str(), "COMPLIANCE");
    let until = ret.object_lock_retain_until_date().unwrap().secs();
    let expected = OffsetDateTime::now_utc().unix_timestamp() + 30 * 86_400;
    assert!((until - expected).abs() < 120, "{until} vs {expected}");
    for key in [
        "drills/orders/1765000100-1-0.json",
        "drills/orders/1765000100-1-0.sig",
    ] {
        let version = s.version_of(key).await;
        let deleted =
            s.s3.delete_object()
                .bucket(BUCKET)
                .key(key)
                .version_id(version)
                .send()
                .await;
        assert!(
            deleted.is_err(),
            "deleting the locked version of {key} was allowed"
        );
    }

    // The signature verifies with kms:Verify, over the statement naming the record's hash.
    let sig: Signature =
        serde_json::from_slice(&s.get("drills/orders/1765000100-1-0.sig").await).unwrap();
    assert_eq!(sig.message, evidence::signed_message(&second.sha256));
    let valid = s
        .kms
        .verify()
        .key_id(&sig.key_id)
        .message(Blob::new(sig.message.as_bytes()))
        .message_type(MessageType::Raw)
        .signature(Blob::new(
            base64::engine::general_purpose::STANDARD
                .decode(&sig.signature)
                .unwrap(),
        ))
        .signing_algorithm(SigningAlgorithmSpec::EcdsaSha256)
        .send()
        .await
        .unwrap();
    assert!(valid.signature_valid());

    let a = s.audit().await;
    assert_eq!(a.records.len(), 2);
    assert!(problems(&a).is_empty(), "{:?}", problems(&a));
    assert!(a.errors.is_empty(), "{:?}", a.errors);
    assert!(a.keys.contains(&s.dest.key_arn));

    // Offline, with the public half kms:GetPublicKey gives.
    let public = s
        .kms
        .get_public_key()
        .key_id(&s.dest.key_arn)
        .send()
        .await
        .unwrap();
    let key = evidence::PublicKey::parse(public.public_key().unwrap().as_ref()).unwrap();
    assert!(sig.verify_offline(&key).unwrap());
    let mut forged = sig.clone();
    forged.message = evidence::signed_message(&sha256_hex(b"something else"));
    assert!(!forged.verify_offline(&key).unwrap());
    drop(s.moto);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rsa_key_signs_with_pss() {
    let s = setup("RSA_2048", LockMode::Compliance).await;
    assert_eq!(s.dest.algorithm, SigningAlgorithmSpec::RsassaPssSha256);
    s.write("r1", true).await;
    s.write("r2", true).await;
    let a = s.audit().await;
    assert!(problems(&a).is_empty(), "{:?}", problems(&a));
    assert_eq!(a.records.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn tampering_is_named() {
    let s = setup("ECC_NIST_P256", LockMode::Governance).await;
    for run in ["r1", "r2", "r3", "r4", "r5"] {
        s.write(run, true).await;
        // Records are ordered by when their drill finished.
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    }
    let key = |run: &str, ext: &str| format!("drills/orders/{run}.{ext}");
    // r2 edited: a new version of the key with a changed figure.
    let edited = String::from_utf8(s.get(&key("r2", "json")).await)
        .unwrap()
        .replace(
            "\"measured_rto_seconds\": 42.0",
            "\"measured_rto_seconds\": 4.0",
        );
    s.s3.put_object()
        .bucket(BUCKET)
        .key(key("r2", "json"))
        .body(edited.into_bytes().into())
        .send()
        .await
        .unwrap();
    // r4 deleted: a delete marker hides it (Object Lock allows that, not removing versions).
    s.s3.delete_object()
        .bucket(BUCKET)
        .key(key("r4", "json"))
        .send()
        .await
        .unwrap();
    // r5's signature removed, bypassing governance retention.
    let v = s.version_of(&key("r5", "sig")).await;
    s.s3.delete_object()
        .bucket(BUCKET)
        .key(key("r5", "sig"))
        .version_id(v)
        .bypass_governance_retention(true)
        .send()
        .await
        .unwrap();
    // r1's retention shortened to a day.
    let day =
        aws_smithy_types::DateTime::from_secs(OffsetDateTime::now_utc().unix_timestamp() + 86_400);
    s.s3.put_object_retention()
        .bucket(BUCKET)
        .key(key("r1", "json"))
        .bypass_governance_retention(true)
        .retention(
            aws_sdk_s3::types::ObjectLockRetention::builder()
                .mode(aws_sdk_s3::types::ObjectLockRetentionMode::Governance)
                .retain_until_date(day)
                .build(),
        )
        .send()
        .await
        .unwrap();

    let a = s.audit().await;
    let found = problems(&a).join("\n");
    let has = |needle: &str| assert!(found.contains(needle), "no {needle:?} in:\n{found}");
    has("r1: retention-short: retention shorter than declared: the record is locked until");
    has("r2: edited: edited after signing");
    has("r2: overwritten: the record has 2 versions");
    has("r3: chain-broken: chain broken between run r2 and run r3: r3 recorded SHA-256");
    has("r5: chain-broken: chain broken between run r3 and run r5: r5 links to run r4, whose record is missing (deleted)");
    has("r5: unsigned: no signature");
    let bad: Vec<&str> = a.bad().map(|r| r.run_id.as_str()).collect();
    assert_eq!(bad, ["r1", "r2", "r3", "r5"], "{found}");

    // The next run links to the newest record that exists (r5), and verifies.
    let next = s.write("r6", true).await;
    assert_eq!(next.previous.unwrap().run_id, "r5");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misconfigured_destination_names_the_attribute() {
    let moto = Moto::start().unwrap();
    let (s3, kms) = (moto.s3(REGION).await, moto.kms(REGION).await);
    s3.create_bucket().bucket("plain").send().await.unwrap();
    moto.object_lock_bucket(REGION, BUCKET).await.unwrap();
    let signing = moto.signing_key(REGION, "ECC_NIST_P256").await.unwrap();
    let symmetric = kms
        .create_key()
        .send()
        .await
        .unwrap()
        .key_metadata()
        .unwrap()
        .arn()
        .unwrap()
        .to_string();
    let config = |uri: &str, key: &str| EvidenceConfig {
        s3_uri: uri.into(),
        retain_days: 7,
        lock_mode: LockMode::Compliance,
        kms_key_id: key.into(),
    };
    let fail = |c: EvidenceConfig| {
        let (s3, kms) = (s3.clone(), kms.clone());
        async move { evidence::prepare(&s3, &kms, &c, REGION).await.unwrap_err() }
    };
    let e = fail(config("s3://plain/drills/", &signing)).await;
    assert_eq!(e.attribute, "s3_uri");
    assert!(e.definitive);
    assert!(
        e.detail.contains("\"plain\" does not have S3 Object Lock"),
        "{e}"
    );
    let e = fail(config("s3://missing-bucket/", &signing)).await;
    // It may be created in the same apply: a warning at plan, not an error.
    assert!(!e.definitive);
    assert!(
        e.attribute == "s3_uri" && e.summary.contains("not found"),
        "{e}"
    );
    let e = fail(config(&format!("s3://{BUCKET}/"), &symmetric)).await;
    assert_eq!(e.attribute, "kms_key_id");
    assert!(e.detail.contains("KeyUsage ENCRYPT_DECRYPT"), "{e}");
    let elsewhere = signing.replace(":us-east-1:", ":eu-west-1:");
    let e = fail(config(&format!("s3://{BUCKET}/"), &elsewhere)).await;
    assert_eq!(e.attribute, "kms_key_id");
    assert!(
        e.detail.contains("is in eu-west-1, the evidence bucket"),
        "{e}"
    );
    let e = fail(config(&format!("s3://{BUCKET}/"), "alias/none")).await;
    assert!(e.summary.contains("not found"), "{e}");
    assert!(evidence::prepare(
        &s3,
        &kms,
        &config(&format!("s3://{BUCKET}/x/"), &signing),
        REGION
    )
    .await
    .is_ok());
    let _ = Location::parse("s3://x/");
}

/// RSASSA_PSS_SHA_256 as KMS makes it (salt length 32), checked offline with the PEM public
/// key: made with the openssl CLI, since moto's PSS uses the longest salt, unlike KMS.
#[test]
fn an_rsa_pss_signature_verifies_offline_with_a_pem_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-out",
        &path("key.pem"),
    ]);
    openssl(&[
        "pkey",
        "-in",
        &path("key.pem"),
        "-pubout",
        "-out",
        &path("pub.pem"),
    ]);
    let message = evidence::signed_message(&sha256_hex(b"a record"));
    std::fs::write(path("message"), &message).unwrap();
    openssl(&[
        "dgst",
        "-sha256",
        "-sign",
        &path("key.pem"),
        "-sigopt",
        "rsa_padding_mode:pss",
        "-sigopt",
        "rsa_pss_saltlen:32",
        "-out",
        &path("sig"),
        &path("message"),
    ]);
    let signature = Signature {
        format: evidence::SIGNATURE_FORMAT.into(),
        key_id: "arn:aws:kms:us-east-1:123456789012:key/test".into(),
        signing_algorithm: "RSASSA_PSS_SHA_256".into(),
        message,
        signature: base64::engine::general_purpose::STANDARD
            .encode(std::fs::read(path("sig")).unwrap()),
    };
    let key = evidence::PublicKey::parse(&std::fs::read(path("pub.pem")).unwrap()).unwrap();
    assert!(signature.verify_offline(&key).unwrap());
    let mut tampered = signature.clone();
    tampered.message = evidence::signed_message(&sha256_hex(b"another record"));
    assert!(!tampered.verify_offline(&key).unwrap());
    // An ECDSA signature cannot be checked with an RSA key: said, not "invalid".
    let mut ecdsa = signature;
    ecdsa.signing_algorithm = "ECDSA_SHA_256".into();
    assert!(ecdsa
        .verify_offline(&key)
        .unwrap_err()
        .contains("RSA public key"));
}

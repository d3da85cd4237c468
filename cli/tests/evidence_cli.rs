//! `drkit evidence verify` and `report` as an auditor runs them: the real binary, AWS
//! configured through the environment as for the AWS CLI, records written by the drill
//! crate into moto's Object Lock bucket and signed by its KMS. The HTML report is opened
//! in headless Chromium (Debian `chromium`): the DOM has the run ids and both charts, and
//! the screenshot is not blank.

use std::path::Path;
use std::process::{Command, Output};

use drkit_drill::evidence::{self, EvidenceConfig, LockMode, RunContext};
use drkit_drill::DrillReport;
use drkit_testkit::Moto;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

const REGION: &str = "us-east-1";
const BUCKET: &str = "acme-dr-evidence";
const URI: &str = "s3://acme-dr-evidence/drills/";

/// A drill's report `days_ago`, with its measured RTO.
fn report(run_id: &str, days_ago: i64, rto: f64, passed: bool) -> DrillReport {
    let start = OffsetDateTime::now_utc() - time::Duration::days(days_ago);
    let at = |secs: i64| {
        (start + time::Duration::seconds(secs))
            .format(&Rfc3339)
            .unwrap()
    };
    serde_json::from_value(serde_json::json!({
        "name": "orders", "run_id": run_id, "source_kind": "rds",
        "restored_from": "db orders-db", "restore_point": at(-600),
        "started_at": at(0), "finished_at": at(rto as i64 + 30),
        "phases": [{"name": "restore", "started_at": at(0), "seconds": rto}],
        "measured_rto_seconds": rto, "measured_rpo_seconds": 300.0 + days_ago as f64,
        "target_rto_seconds": 1800.0, "target_rpo_seconds": 900.0,
        "rto_met": rto <= 1800.0, "rpo_met": true,
        "verify_results": [{"name": "orders restored", "sql": "SELECT count(*) FROM orders",
            "expect": "> 0", "value": if passed { "2500" } else { "0" }, "passed": passed,
            "at": at(10), "error": null}],
        "teardown": [{"what": "instance drkit-drill-x", "ok": true, "error": null}],
        "notes": [], "history": []
    }))
    .unwrap()
}

struct Env {
    moto: Moto,
    key: String,
}

async fn evidence_for(drills: &[&str], mode: LockMode) -> Env {
    let moto = Moto::start().unwrap();
    moto.object_lock_bucket(REGION, BUCKET).await.unwrap();
    let key = moto.signing_key(REGION, "ECC_NIST_P256").await.unwrap();
    let (s3, kms) = (moto.s3(REGION).await, moto.kms(REGION).await);
    let config = EvidenceConfig {
        s3_uri: URI.into(),
        retain_days: 365,
        lock_mode: mode,
        kms_key_id: key.clone(),
    };
    let dest = evidence::prepare(&s3, &kms, &config, REGION).await.unwrap();
    for drill in drills {
        for (i, (days, rto, passed)) in [(60, 900.0, true), (30, 2400.0, false), (1, 700.0, true)]
            .into_iter()
            .enumerate()
        {
            let ctx = RunContext {
                drill: drill.to_string(),
                policy: "orders".into(),
                error: (!passed).then(|| "verification failed: orders restored".into()),
            };
            let run = format!("run-{i}");
            evidence::write(&dest, &s3, &kms, &ctx, &report(&run, days, rto, passed))
                .await
                .unwrap();
        }
    }
    Env { moto, key }
}

impl Env {
    fn drkit(&self, args: &[&str]) -> Output {
        let out = Command::new(env!("CARGO_BIN_EXE_drkit"))
            .args(args)
            .envs(self.moto.env())
            .env("AWS_REGION", REGION)
            .env("AWS_ENDPOINT_URL", self.moto.endpoint())
            .output()
            .unwrap();
        out
    }
}

impl Env {
    /// The DER public key of `key`, as `aws kms get-public-key` gives it, in `path`.
    async fn save_public_key(&self, key: &str, path: &Path) {
        let kms = self.moto.kms(REGION).await;
        let public = kms.get_public_key().key_id(key).send().await.unwrap();
        std::fs::write(path, public.public_key().unwrap().as_ref()).unwrap();
    }
}

fn text(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_passes_intact_evidence_online_and_offline() {
    let env = evidence_for(&["orders"], LockMode::Compliance).await;
    let out = env.drkit(&["evidence", "verify", URI]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("OK 3 records of 1 drills"),
        "{}",
        text(&out)
    );
    let out = env.drkit(&[
        "evidence", "verify", URI, "--drill", "orders", "--key-id", &env.key,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Offline, with the public key as `aws kms get-public-key` gives it.
    let dir = tempfile::tempdir().unwrap();
    let der = dir.path().join("key.der");
    env.save_public_key(&env.key, &der).await;
    let out = env.drkit(&[
        "evidence",
        "verify",
        URI,
        "--public-key",
        der.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // Another key's public half: every record fails, each named.
    let other = env.moto.signing_key(REGION, "ECC_NIST_P256").await.unwrap();
    env.save_public_key(&other, &der).await;
    let out = env.drkit(&[
        "evidence",
        "verify",
        URI,
        "--public-key",
        der.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    for run in ["run-0", "run-1", "run-2"] {
        assert!(
            text(&out).contains(&format!("FAIL orders/{run}: bad-signature")),
            "{}",
            text(&out)
        );
    }
    // Trusting another key by id: untrusted.
    let out = env.drkit(&["evidence", "verify", URI, "--key-id", &other]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("untrusted-key"), "{}", text(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_names_each_tampered_record_and_usage_errors_exit_2() {
    let env = evidence_for(&["orders"], LockMode::Governance).await;
    let s3 = env.moto.s3(REGION).await;
    let key = "drills/orders/run-1.json";
    let edited = String::from_utf8(env.moto.object(REGION, BUCKET, key).await.unwrap())
        .unwrap()
        .replace("\"passed\": false", "\"passed\": true");
    s3.put_object()
        .bucket(BUCKET)
        .key(key)
        .body(edited.into_bytes().into())
        .send()
        .await
        .unwrap();
    let out = env.drkit(&["evidence", "verify", URI]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("FAIL orders/run-1: edited: edited after signing"),
        "{t}"
    );
    assert!(
        t.contains("FAIL orders/run-2: chain-broken: chain broken between run run-1 and run run-2"),
        "{t}"
    );
    assert!(!t.contains("orders/run-0"), "run-0 is intact: {t}");
    // JSON for CI.
    let out = env.drkit(&["evidence", "verify", URI, "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["records"][1]["problems"][0]["kind"], "edited");
    // Retention required beyond what was declared.
    let out = env.drkit(&[
        "evidence",
        "verify",
        URI,
        "--drill",
        "orders",
        "--retain-days",
        "3650",
    ]);
    assert!(
        text(&out).contains("FAIL orders/run-0: retention-short"),
        "{}",
        text(&out)
    );

    // Usage and access errors: 2.
    assert_eq!(env.drkit(&["evidence", "verify"]).status.code(), Some(2));
    assert_eq!(
        env.drkit(&["evidence", "verify", "https://x/"])
            .status
            .code(),
        Some(2)
    );
    let out = env.drkit(&["evidence", "verify", "s3://no-such-bucket/"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("no-such-bucket"), "{}", text(&out));
    // Nothing there is a failed verification.
    let out = env.drkit(&["evidence", "verify", URI, "--drill", "billing"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no evidence records"), "{}", text(&out));
}

/// Chromium's `--dump-dom` and a screenshot of `html`.
fn render(html: &Path, dir: &Path) -> (String, Vec<u8>) {
    let chromium = ["chromium", "chromium-browser"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("chromium not found: scripts/setup installs Debian's chromium");
    let url = format!("file://{}", html.display());
    let common = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-dev-shm-usage",
    ];
    let profile = format!("--user-data-dir={}", dir.join("profile").display());
    let dom = Command::new(chromium)
        .args(common)
        .arg(&profile)
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    assert!(dom.status.success(), "{}", text(&dom));
    let png = dir.join("report.png");
    let shot = Command::new(chromium)
        .args(common)
        .arg(&profile)
        .arg(format!("--screenshot={}", png.display()))
        .args(["--window-size=1280,1800", &url])
        .output()
        .unwrap();
    assert!(shot.status.success(), "{}", text(&shot));
    (
        String::from_utf8_lossy(&dom.stdout).into_owned(),
        std::fs::read(&png).unwrap(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn the_html_report_renders_charts_and_runs_and_escapes_names() {
    let hostile = "<script>document.title='owned'</script>";
    let env = evidence_for(&["orders", hostile], LockMode::Compliance).await;
    let dir = tempfile::tempdir().unwrap();
    let html = dir.path().join("drills.html");
    let out = env.drkit(&["evidence", "report", URI, "--out", html.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let source = std::fs::read_to_string(&html).unwrap();
    // Self-contained: nothing fetched from anywhere.
    for needle in ["src=", "href=\"http", "<link", "@import", "<script"] {
        assert!(!source.contains(needle), "{needle} in the report");
    }
    assert!(
        source.contains("&lt;script&gt;document.title="),
        "the name is shown escaped"
    );

    let (dom, png) = render(&html, dir.path());
    assert!(
        !dom.contains("<title>owned"),
        "the drill name ran as a script"
    );
    for run in ["run-0", "run-1", "run-2"] {
        assert!(dom.contains(&format!("id=\"run-{run}\"")), "{run} missing");
    }
    assert_eq!(
        dom.matches("data-chart=\"RTO\"").count(),
        2,
        "one RTO chart per drill"
    );
    assert_eq!(dom.matches("data-chart=\"RPO\"").count(), 2);
    assert!(
        dom.matches("<svg").count() >= 4,
        "the charts are inline SVG"
    );
    for control in [
        "SOC 2 A1.3",
        "A.5.30",
        "A.8.13",
        "PCI DSS 4.0 12.10.2",
        "DORA Art. 12",
    ] {
        assert!(dom.contains(control), "{control} missing");
    }
    assert!(
        dom.contains("RTO 40.0 min over its target 30.0 min"),
        "the failure is explained"
    );
    // The screenshot is a real picture, not a blank page.
    let decoder = png::Decoder::new(std::io::Cursor::new(png));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let pixels = &buf[..info.buffer_size()];
    let distinct: std::collections::HashSet<&[u8]> =
        pixels.chunks(info.color_type.samples()).collect();
    assert!(
        distinct.len() > 20,
        "only {} colours: a blank page",
        distinct.len()
    );
    let keep = std::env::var_os("DRKIT_KEEP_REPORT");
    if let Some(to) = keep {
        std::fs::copy(
            dir.path().join("report.png"),
            Path::new(&to).join("report.png"),
        )
        .unwrap();
        std::fs::copy(&html, Path::new(&to).join("drills.html")).unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_json_report_lists_each_controls_records_for_other_tools() {
    let env = evidence_for(&[], LockMode::Governance).await;
    let (s3, kms) = (env.moto.s3(REGION).await, env.moto.kms(REGION).await);
    let config = EvidenceConfig {
        s3_uri: URI.into(),
        retain_days: 365,
        lock_mode: LockMode::Governance,
        kms_key_id: env.key.clone(),
    };
    let dest = evidence::prepare(&s3, &kms, &config, REGION).await.unwrap();
    // A run 400 days ago answers SOC 2, not PCI DSS's "tested every 12 months".
    for (run, days, rto, passed) in [
        ("run-old", 400, 600.0, true),
        ("run-0", 60, 900.0, true),
        ("run-1", 30, 2400.0, false),
        ("run-2", 1, 700.0, true),
    ] {
        let ctx = RunContext {
            drill: "orders".into(),
            policy: "orders".into(),
            error: (!passed).then(|| "verification failed: orders restored".into()),
        };
        evidence::write(&dest, &s3, &kms, &ctx, &report(run, days, rto, passed))
            .await
            .unwrap();
    }

    let out = env.drkit(&["evidence", "report", URI, "--out", "-", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["verified"], true, "{json:#}");
    assert_eq!(json["source"], URI);
    let runs: Vec<&str> = json["drills"][0]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["run_id"].as_str().unwrap())
        .collect();
    assert_eq!(runs, ["run-old", "run-0", "run-1", "run-2"], "oldest first");
    let failed = &json["drills"][0]["runs"][2];
    assert_eq!(failed["passed"], false);
    assert!(
        failed["failures"]
            .to_string()
            .contains("RTO 40.0 min over its target 30.0 min"),
        "{failed:#}"
    );
    let control = |id: &str| -> Vec<String> {
        let c = json["controls"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["control"] == id)
            .unwrap_or_else(|| panic!("no control {id}"));
        c["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["run_id"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(control("SOC 2 A1.3").len(), 4);
    assert_eq!(control("PCI DSS 4.0 12.10.2"), ["run-0", "run-1", "run-2"]);
    for id in [
        "ISO/IEC 27001:2022 A.8.13",
        "ISO/IEC 27001:2022 A.5.30",
        "DORA Art. 12",
    ] {
        assert_eq!(control(id).len(), 4, "{id}");
    }
}

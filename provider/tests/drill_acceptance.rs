//! `dr_drill` through the real terraform CLI: a PostgreSQL 15 scratch cluster, a real
//! `pg_dump` stored in moto S3, and RDS restores in moto. Checked with psql and the AWS SDK.

mod drill_support;
mod policy_support;

use drill_support::*;
use drkit_testkit::{Moto, Postgres, Terraform};
use policy_support::{seed_db, terraform, PRIMARY};

fn setup(moto: &Moto, pg: &Postgres, resources: &str) -> Terraform {
    let mut tf = terraform(moto, resources);
    tf.env(PASSWORD_ENV, pg.password());
    tf
}

async fn dump_age(moto: &Moto) -> f64 {
    let head = moto
        .s3(PRIMARY)
        .await
        .head_object()
        .bucket("shop-backups")
        .key("daily/shop.dump")
        .send()
        .await
        .unwrap();
    let at = head.last_modified().unwrap().secs() as f64;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    now - at
}

/// Against a server that accepts TLS connections only (as RDS for PostgreSQL 15+), with its
/// certificate checked: `pg_restore` and the checks connect to `localhost` by name.
#[tokio::test(flavor = "multi_thread")]
async fn a_dump_drill_records_measured_figures_and_leaves_nothing() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start_tls_only().unwrap());
    seeded(&moto, &pg).await;
    let report = tempfile::tempdir().unwrap();
    let report_file = report.path().join("shop.json");
    let over_tls = r#"
  verify {
    name   = "over TLS"
    sql    = "SELECT count(*) FROM pg_stat_ssl WHERE pid = pg_backend_pid() AND ssl"
    expect = "= 1"
  }
"#;
    let config = drill(
        &pg,
        &format!("report_file = \"{}\"", report_file.display()),
        &format!("{COUNT_CHECK}{over_tls}"),
    )
    .replace(
        &format!("host         = \"{}\"", pg.host()),
        &format!(
            "host         = \"localhost\"\n    tls_mode     = \"verify-full\"\n    tls_ca_file  = \"{}\"",
            pg.ca_file().unwrap().display()
        ),
    );
    assert!(config.contains("verify-full"), "{config}");
    let mut tf = setup(&moto, &pg, &config);
    tf.env("TF_LOG", "trace");
    let age_before = dump_age(&moto).await;
    let out = tf.apply().unwrap();
    let age_after = dump_age(&moto).await;
    let state = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    assert_eq!(state["rto_met"], true);
    assert_eq!(state["rpo_met"], true);
    assert_eq!(state["verify_results"][0]["value"], "2500");
    assert_eq!(
        state["verify_results"][1]["value"], "1",
        "the checks ran over TLS"
    );
    let rto = state["measured_rto_seconds"].as_f64().unwrap();
    assert!(rto > 0.0 && rto < 600.0, "{rto}");
    // The dump's age at some moment of the apply; LastModified has second precision.
    let rpo = state["measured_rpo_seconds"].as_f64().unwrap();
    assert!(
        rpo > age_before - 1.0 && rpo < age_after + 1.0,
        "RPO {rpo} vs the dump's age during the apply ({age_before}..{age_after})"
    );
    assert!(
        scratch_dbs(&pg).is_empty(),
        "the scratch database was not dropped"
    );
    // The report file and its markdown summary.
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&report_file).unwrap()).unwrap();
    assert_eq!(json["verify_results"][0]["passed"], true);
    let md = std::fs::read_to_string(report_file.with_extension("md")).unwrap();
    assert!(md.contains("| RTO |") && md.contains("passed"), "{md}");
    // The password is nowhere: state, plan/apply output with TF_LOG=trace, report.
    let state_file = std::fs::read_to_string(tf.dir().join("terraform.tfstate")).unwrap();
    for (what, text) in [
        ("state", state_file.as_str()),
        ("apply output", &out.combined()),
        ("report", &md),
    ] {
        assert!(
            !text.contains(pg.password()),
            "the password leaked into the {what}"
        );
    }
    tf.env("TF_LOG", "");
    tf.assert_plan_empty().unwrap();
    tf.destroy().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failed_verification_fails_the_apply_keeps_the_figures_and_cleans_up() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seeded(&moto, &pg).await;
    let checks = COUNT_CHECK.replace("= 2500", "= 1");
    let tf = setup(&moto, &pg, &drill(&pg, "", &checks));
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(!out.success());
    let text = out.combined();
    assert!(text.contains("DR drill failed"), "{text}");
    assert!(text.contains("got 2500, expected = 1"), "{text}");
    assert!(text.contains("Torn down: scratch database"), "{text}");
    let state = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(state["passed"], false);
    assert!(
        state["measured_rpo_seconds"].as_f64().is_some(),
        "figures kept: {state:#}"
    );
    assert!(scratch_dbs(&pg).is_empty());
    // Tainted: the next plan drills again.
    assert!(!tf.plan_is_empty().unwrap());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missed_rto_fails_unless_told_otherwise() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seeded(&moto, &pg).await;
    let slow = r#"
  verify {
    name   = "slow"
    sql    = "SELECT pg_sleep(2)"
    expect = "rows = 1"
  }
"#;
    let config = drill(&pg, "", slow).replace("rto       = \"10m\"", "rto       = \"1s\"");
    let tf = setup(&moto, &pg, &config);
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(!out.success());
    assert!(
        out.combined().contains("DR drill missed its target"),
        "{out}"
    );
    assert!(out.combined().contains("target 1.0s"), "{out}");
    let config = config.replace(
        "rto       = \"1s\"",
        "rto                 = \"1s\"\n  fail_on_target_miss = false",
    );
    policy_support::rewrite(&tf, &moto, &config);
    let out = tf.apply().unwrap();
    assert!(
        out.combined().contains("missed its target"),
        "a warning still says so"
    );
    let state = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(state["rto_met"], false);
    assert!(state["measured_rto_seconds"].as_f64().unwrap() >= 2.0);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rds_drill_restores_a_temporary_instance_and_deletes_it() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    let tf = terraform(
        &moto,
        r#"
resource "dr_drill" "orders" {
  policy_id = "orders"
  rpo       = "1h"
  rto       = "1h"

  rds {
    instance_identifier   = "orders-db"
    expect_retention_days = 7
  }
}
"#,
    );
    tf.apply().unwrap();
    let state = tf.resource("dr_drill.orders").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    let report: serde_json::Value =
        serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    assert!(report["teardown"][0]["what"]
        .as_str()
        .unwrap()
        .starts_with("temporary instance drkit-drill-"));
    // The instance was created seconds ago: its backups cannot reach 7 days back yet.
    assert!(
        report["notes"].to_string().contains("less than the 7 days"),
        "{report:#}"
    );
    let ids: Vec<String> = moto
        .rds(PRIMARY)
        .await
        .describe_db_instances()
        .send()
        .await
        .unwrap()
        .db_instances()
        .iter()
        .filter_map(|d| d.db_instance_identifier().map(str::to_string))
        .collect();
    assert_eq!(
        ids,
        ["orders-db"],
        "the temporary instance is gone, the source stays"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_interval_that_comes_due_plans_a_new_drill_and_history_grows() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seeded(&moto, &pg).await;
    let dir = tempfile::tempdir().unwrap();
    let report_file = dir.path().join("shop.json");
    let extra = format!(
        "interval    = \"90d\"\n  report_file = \"{}\"",
        report_file.display()
    );
    let tf = setup(&moto, &pg, &drill(&pg, &extra, COUNT_CHECK));
    tf.apply().unwrap();
    tf.assert_plan_empty().unwrap();
    // Ninety days later: move next_due into the past in the real state.
    let pulled = tf.run_ok(&["state", "pull"]).unwrap().stdout;
    let mut state: serde_json::Value = serde_json::from_str(&pulled).unwrap();
    state["serial"] = (state["serial"].as_i64().unwrap() + 1).into();
    state["resources"][0]["instances"][0]["attributes"]["next_due"] = "2020-01-01T00:00:00Z".into();
    tf.write("pushed.tfstate", &state.to_string()).unwrap();
    tf.run_ok(&["state", "push", "pushed.tfstate"]).unwrap();
    let plan = tf.run(&["plan", "-input=false"]).unwrap();
    assert!(plan.stdout.contains("must be replaced"), "{plan}");
    tf.apply().unwrap();
    let state = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(state["history"].as_array().unwrap().len(), 2, "{state:#}");
    tf.assert_plan_empty().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn invalid_arguments_are_reported_where_they_are_written() {
    let moto = Moto::start().unwrap();
    let tf = terraform(
        &moto,
        r#"
resource "dr_drill" "bad" {
  policy_id = "orders"
  interval  = "10m"

  postgres_dump {
    s3_uri = "https://not-s3/"
  }

  target {
    host         = "localhost"
    username     = "drill"
    password_env = "not a variable name"
  }

  verify {
    name   = "count"
    sql    = "SELECT 1"
    expect = "about 5"
  }
}

resource "dr_drill" "bad_tls" {
  policy_id = "orders"

  postgres_dump {
    s3_uri = "s3://shop-backups/daily/"
  }

  target {
    host        = "db.internal"
    username    = "drill"
    tls_mode    = "verify_full"
  }
}

resource "dr_drill" "missing_ca" {
  policy_id = "orders"

  postgres_dump {
    s3_uri = "s3://shop-backups/daily/"
  }

  target {
    host        = "db.internal"
    username    = "drill"
    tls_mode    = "verify-full"
    tls_ca_file = "certs/missing-bundle.pem"
  }
}
"#,
    );
    let text = tf.plan_expect_error("Invalid expect").unwrap();
    for expected in [
        "Interval too short",
        "Invalid s3_uri",
        "Invalid password_env",
        "expect = \"about 5\"",
        "rows >= 1",
        "Invalid tls_mode",
        "tls_mode = \"verify_full\": use one of",
        "Invalid tls_ca_file",
        "certs/missing-bundle.pem: cannot read it",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_during_a_drill_stops_it_and_tears_down() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seeded(&moto, &pg).await;
    let slow = r#"
  verify {
    name   = "a query that would run for ten minutes"
    sql    = "SELECT pg_sleep(600)"
    expect = "rows = 1"
  }
"#;
    let tf = setup(&moto, &pg, &drill(&pg, "", slow));
    let child = tf
        .command(&["apply", "-auto-approve", "-input=false"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait for the drill to be verifying: its scratch database exists and is in use.
    let mut verifying = false;
    for _ in 0..600 {
        let busy = pg
            .psql(
                "postgres",
                "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'drkit_drill_%' AND query LIKE '%pg_sleep%'",
            )
            .unwrap();
        if busy == "1" {
            verifying = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(verifying, "the drill never reached its verification");
    // Ctrl-C reaches terraform, which sends StopProvider to the plugin.
    let signalled = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(signalled.success());
    let out = child.wait_with_output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("interrupted during verification"), "{text}");
    assert!(
        scratch_dbs(&pg).is_empty(),
        "the scratch database survived Ctrl-C"
    );
    // The figures of the interrupted run are in the state; the next apply drills again.
    let state = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(state["passed"], false, "{state:#}");
}

#[tokio::test(flavor = "multi_thread")]
async fn after_a_crash_mid_drill_the_next_apply_removes_the_leftovers() {
    use std::os::unix::process::CommandExt;
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seeded(&moto, &pg).await;
    let slow = r#"
  verify {
    name   = "slow"
    sql    = "SELECT pg_sleep(600)"
    expect = "rows = 1"
  }
"#;
    let mut tf = setup(&moto, &pg, &drill(&pg, "", slow));
    // A temporary directory of its own: any other test's drill sweeps the shared one, and
    // would remove this drill's leftovers before this test looks at them.
    let tmp = tempfile::tempdir().unwrap();
    tf.env("TMPDIR", tmp.path().display().to_string());
    let child = tf
        .command(&["apply", "-auto-approve", "-input=false"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = child.id();
    let mut left = Vec::new();
    for _ in 0..600 {
        left = scratch_dbs(&pg);
        if !left.is_empty() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(
        !left.is_empty(),
        "the drill never created its scratch database"
    );
    // SIGKILL the plugin and terraform: nothing gets to clean up.
    std::process::Command::new("pkill")
        .args(["-KILL", "-P", &pgid.to_string()])
        .status()
        .unwrap();
    std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .status()
        .unwrap();
    let mut child = child;
    let _ = child.wait();
    assert_eq!(
        scratch_dbs(&pg),
        left,
        "the crash left the scratch database behind"
    );
    // And its download directory, marked with the killed plugin's pid.
    let orphaned = orphaned_download_dirs(tmp.path());
    assert!(
        !orphaned.is_empty(),
        "the killed drill's download directory should be there, owned by a dead process"
    );

    policy_support::rewrite(&tf, &moto, &drill(&pg, "", COUNT_CHECK));
    tf.apply().unwrap();
    assert!(scratch_dbs(&pg).is_empty(), "the leftover was not removed");
    for dir in &orphaned {
        assert!(!dir.exists(), "{} was not swept", dir.display());
    }
    let state = tf.resource("dr_drill.shop").unwrap();
    let report: serde_json::Value =
        serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    assert!(
        report["notes"]
            .to_string()
            .contains(&format!("scratch database {}", left[0])),
        "{report:#}"
    );
}

/// `postgres_dump` download directories whose owner marker names a process that is gone.
fn orphaned_download_dirs(parent: &std::path::Path) -> Vec<std::path::PathBuf> {
    std::fs::read_dir(parent)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("drkit-drill-"))
        .filter_map(|e| {
            let marker = std::fs::read_to_string(e.path().join("owner")).ok()?;
            let pid = marker.split_whitespace().next()?;
            // Gone, or a zombie its killed parent has not reaped yet.
            let state = std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| Some(s.rsplit_once(')')?.1.split_whitespace().next()?.to_string()));
            matches!(state.as_deref(), None | Some("Z") | Some("X")).then(|| e.path())
        })
        .collect()
}

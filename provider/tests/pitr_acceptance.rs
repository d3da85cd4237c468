//! `dr_drill` with a `postgres_pitr` source through the real terraform CLI: a PostgreSQL 15
//! cluster archiving its WAL into moto S3, a real `pg_basebackup -Ft -z` in moto, and
//! commits with recorded times. Checked against the commit times, the state, and the
//! processes and directories left on the machine.

mod policy_support;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use drkit_testkit::{upload_base_backup, ArchivingPostgres, Moto, Terraform, WalCompression};
use policy_support::{terraform, PRIMARY};

/// An archiving cluster with one base backup and `commits` rows committed after it.
async fn archived(moto: &Moto, commits: i64) -> (ArchivingPostgres, Vec<f64>) {
    let s3 = moto.s3(PRIMARY).await;
    for b in ["pg-backups", "wal-archive"] {
        s3.create_bucket().bucket(b).send().await.unwrap();
    }
    let pg =
        ArchivingPostgres::start(moto.port(), "wal-archive", "", WalCompression::Gzip).unwrap();
    pg.psql("postgres", "CREATE DATABASE shop").unwrap();
    pg.psql("shop", "CREATE TABLE orders (v int, at timestamptz)")
        .unwrap();
    pg.switch_and_archive().unwrap();
    let dir = pg.base_backup("nightly").unwrap();
    upload_base_backup(&s3, &dir, "pg-backups", "base/nightly")
        .await
        .unwrap();
    std::thread::sleep(Duration::from_millis(2100));
    let mut times = Vec::new();
    for v in 1..=commits {
        times.push(pg.commit_row("shop", "orders", v).unwrap());
        if v % 2 == 0 {
            pg.switch_and_archive().unwrap();
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    pg.switch_and_archive().unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    (pg, times)
}

fn rfc3339(unix: f64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos((unix * 1e9) as i128)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

fn drill(pg: &ArchivingPostgres, target_time: &str, expect: &str) -> String {
    format!(
        r#"
resource "dr_drill" "orders_pitr" {{
  policy_id = "orders"
  rpo       = "5m"
  rto       = "15m"

  postgres_pitr {{
    base_backup_uri = "s3://pg-backups/base/"
    wal_archive_uri = "s3://wal-archive/"
    target_time     = "{target_time}"
    pg_bin_dir      = "{bin}"
    database        = "shop"
  }}

  verify {{
    name   = "orders before the target"
    sql    = "SELECT count(*) FROM orders"
    expect = "{expect}"
  }}
}}
"#,
        bin = pg.bin_dir().display()
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pitr_drill_through_terraform_restores_to_the_target_and_records_the_figures() {
    let moto = Moto::start().unwrap();
    let (pg, commits) = archived(&moto, 6).await;
    let target = (commits[2] + commits[3]) / 2.0;
    let tf = terraform(&moto, &drill(&pg, &rfc3339(target), "= 3"));
    tf.apply().unwrap();
    let state = tf.resource("dr_drill.orders_pitr").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    assert_eq!(state["verify_results"][0]["value"], "3");
    let rpo = state["measured_rpo_seconds"].as_f64().unwrap();
    let truth = target - commits[2];
    assert!((rpo - truth).abs() < 1.0, "RPO {rpo} vs truth {truth}");
    let lag = state["archive_lag_seconds"].as_f64().unwrap();
    assert!((0.0..600.0).contains(&lag), "{lag}");
    let report: serde_json::Value =
        serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    assert_eq!(report["source_kind"], "postgres_pitr");
    assert_eq!(
        report["pitr"]["base_backup"],
        "s3://pg-backups/base/nightly/"
    );
    let phases: Vec<&str> = report["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(phases, ["fetch", "restore", "replay", "verify", "teardown"]);
    tf.assert_plan_empty().unwrap();
    tf.destroy().unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_gap_in_the_archive_fails_the_apply_and_names_the_segment() {
    let moto = Moto::start().unwrap();
    let (pg, _) = archived(&moto, 6).await;
    let s3 = moto.s3(PRIMARY).await;
    let mut segments: Vec<String> = s3
        .list_objects_v2()
        .bucket("wal-archive")
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .filter(|k| k.len() == 24 + ".gz".len())
        .collect();
    segments.sort();
    let missing = segments[2].clone();
    s3.delete_object()
        .bucket("wal-archive")
        .key(&missing)
        .send()
        .await
        .unwrap();
    let tf = terraform(&moto, &drill(&pg, "latest", ">= 0"));
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(!out.success());
    let text = out.combined();
    let name = missing.trim_end_matches(".gz");
    assert!(text.contains("DR drill failed"), "{text}");
    assert!(
        text.contains(&format!("segment {name} is missing")),
        "{text}"
    );
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')?
        .1
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit_once(')')
            .and_then(|(_, r)| r.split_whitespace().next())
            .is_some_and(|st| st != "Z" && st != "X")
    })
}

/// The PITR directory and server of a drill run by a child of `terraform_pid`.
fn running_drill_of(parent: &Path, terraform_pid: u32) -> Option<(PathBuf, u32, u32)> {
    std::fs::read_dir(parent)
        .ok()?
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("drkit-pitr-"))
        .find_map(|e| {
            let dir = e.path();
            let owner: u32 = std::fs::read_to_string(dir.join("owner"))
                .ok()?
                .split_whitespace()
                .next()?
                .parse()
                .ok()?;
            (parent_of(owner) == Some(terraform_pid)).then_some(())?;
            let server: u32 = std::fs::read_to_string(dir.join("data/postmaster.pid"))
                .ok()?
                .lines()
                .next()?
                .trim()
                .parse()
                .ok()?;
            Some((dir, owner, server))
        })
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_plugin_leaves_a_server_that_the_next_apply_sweeps() {
    let moto = Moto::start().unwrap();
    let (pg, _) = archived(&moto, 10).await;
    let mut tf: Terraform = terraform(&moto, &drill(&pg, "latest", "= 10"));
    // A temporary directory of its own, open to the server's `postgres` user as /tmp is:
    // any other test's drill sweeps the shared one, and could take this drill's leftovers
    // before the next apply here records sweeping them.
    let tmp = tempfile::tempdir().unwrap();
    std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o1777)).unwrap();
    tf.env("TMPDIR", tmp.path().display().to_string());
    let mut apply = tf
        .command(&["apply", "-auto-approve", "-input=false"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut found = None;
    for _ in 0..12_000 {
        found = running_drill_of(tmp.path(), apply.id());
        if found.is_some() || apply.try_wait().unwrap().is_some() {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let (dir, plugin, server) = found.expect("the plugin's drill started a server");
    let _ = std::process::Command::new("kill")
        .args(["-KILL", &plugin.to_string()])
        .status();
    let status = apply.wait().unwrap();
    assert!(!status.success(), "the apply fails when its plugin dies");
    assert!(
        alive(server),
        "the server of the killed plugin is still running"
    );

    // The next apply sweeps the leftover first, then drills.
    let out = tf.apply().unwrap();
    assert!(!dir.exists(), "leftover directory removed:\n{out}");
    for _ in 0..50 {
        if !alive(server) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(!alive(server), "leftover server {server} stopped");
    let state = tf.resource("dr_drill.orders_pitr").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    let report: serde_json::Value =
        serde_json::from_str(state["report"].as_str().unwrap()).unwrap();
    let notes = report["notes"].to_string();
    assert!(
        notes.contains(&dir.display().to_string()),
        "the sweep is recorded: {notes}"
    );
}

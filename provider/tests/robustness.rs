//! Under the conditions of a disaster: AWS throttling, failing, stalling and dropping
//! connections (a fault-injecting proxy between the provider and moto), `terraform apply`
//! interrupted with SIGINT or SIGKILL at chosen points, and destroys and failures that
//! must lose nothing. The end state is always read back through the AWS SDK.

mod drill_support;
mod policy_support;

use std::collections::BTreeSet;
use std::time::Duration;

use drill_support::{drill, scratch_dbs, seeded, COUNT_CHECK, PASSWORD_ENV};
use drkit_testkit::{inventory, Fault, FaultConfig, FaultProxy, Moto, Postgres, Terraform};
use policy_support::*;

/// Retries per call in these tests. At a 30% fault rate the chance that one call fails 11
/// times in a row is 0.3^11, about 2 in a million.
const RETRIES: u32 = 10;

/// A Terraform directory whose provider talks to `endpoint` (moto, or a proxy in front of
/// it) with the environment of `moto`.
fn terraform_at(moto: &Moto, endpoint: &str, resources: &str) -> Terraform {
    let mut tf = Terraform::new(PROVIDER).expect("terraform directory");
    tf.envs(moto.env());
    tf.write(
        "main.tf",
        &format!("{}\n{resources}", provider_block_at(endpoint, RETRIES)),
    )
    .expect("write main.tf");
    tf
}

/// One database, one bucket with objects in it, and the bucket's DR destination.
async fn seed(moto: &Moto) {
    seed_db(moto, "app-db", false).await;
    seed_bucket(moto, "app-logs", PRIMARY, false).await;
    seed_bucket(moto, "app-logs-dr", DR, true).await;
    let s3 = moto.s3(PRIMARY).await;
    for key in ["daily/2026-11-30.dump", "wal/000000010000000000000001"] {
        s3.put_object()
            .bucket("app-logs")
            .key(key)
            .body(key.as_bytes().to_vec().into())
            .send()
            .await
            .unwrap();
    }
}

async fn inventory_of(moto: &Moto) -> serde_json::Value {
    inventory(moto, &[PRIMARY, DR]).await.unwrap()
}

fn assert_same(clean: &serde_json::Value, faulty: &serde_json::Value, when: &str) {
    assert_eq!(
        clean,
        faulty,
        "{when}: the AWS state differs from the fault-free run.\nfault-free: {clean:#}\nwith faults: {faulty:#}"
    );
}

/// Fails unless the fault-free and the faulty account hold the same state.
async fn assert_alike(clean: &Moto, faulty: &Moto, when: &str) {
    assert_same(
        &inventory_of(clean).await,
        &inventory_of(faulty).await,
        when,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn apply_refresh_update_and_destroy_through_30_percent_faults_end_as_without_faults() {
    let config = full_policy("app", "app-db", "app-logs", "app-logs-dr");
    let clean = Moto::start().unwrap();
    let faulty = Moto::start().unwrap();
    seed(&clean).await;
    seed(&faulty).await;
    let seeded = inventory_of(&clean).await;
    let proxy = FaultProxy::start(faulty.port(), FaultConfig::all(0.3, 7)).unwrap();
    let tf_clean = terraform_at(&clean, clean.endpoint(), &config);
    let tf_faulty = terraform_at(&faulty, proxy.endpoint(), &config);

    tf_clean.apply().unwrap();
    tf_faulty.apply().unwrap();
    assert_alike(&clean, &faulty, "after apply").await;

    // Refresh under faults: the plan stays empty and a refresh-only apply changes nothing.
    tf_faulty.assert_plan_empty().unwrap();
    tf_faulty
        .run_ok(&["apply", "-refresh-only", "-auto-approve", "-input=false"])
        .unwrap();
    tf_faulty.assert_plan_empty().unwrap();

    // An update through faults: longer retention, another lifecycle rule, no RTC.
    let updated = config
        .replace("backup_retention_days = 14", "backup_retention_days = 21")
        .replace("replication_time_control = true", "replication_time_control = false")
        .replace("rpo    = \"15m\"", "rpo    = \"1h\"")
        .replace(
            "    retention {\n      daily",
            "    retention {\n      prefix      = \"tmp/\"\n      expire_days = 3\n    }\n    retention {\n      daily",
        );
    assert_ne!(updated, config);
    for (tf, endpoint) in [
        (&tf_clean, clean.endpoint()),
        (&tf_faulty, proxy.endpoint()),
    ] {
        tf.write(
            "main.tf",
            &format!("{}\n{updated}", provider_block_at(endpoint, RETRIES)),
        )
        .unwrap();
        tf.apply().unwrap();
    }
    assert_alike(&clean, &faulty, "after an update").await;
    tf_faulty.assert_plan_empty().unwrap();

    tf_clean.destroy().unwrap();
    tf_faulty.destroy().unwrap();
    let after = inventory_of(&faulty).await;
    assert_same(&inventory_of(&clean).await, &after, "after destroy");
    // Destroy lost nothing the seed had: every instance, bucket and object is still there.
    for kind in ["rds", "s3"] {
        for (name, _) in seeded[kind].as_object().unwrap() {
            assert!(after[kind].get(name).is_some(), "destroy deleted {name}");
        }
    }
    assert_eq!(
        after["s3"]["app-logs"]["objects"], seeded["s3"]["app-logs"]["objects"],
        "objects"
    );

    let seen = proxy.seen();
    let counts = proxy.fault_counts();
    let injected: usize = counts.values().sum();
    for kind in Fault::ALL {
        assert!(
            counts.get(&kind).copied().unwrap_or(0) >= 2,
            "{kind:?} was injected fewer than twice: {counts:?}"
        );
    }
    assert!(
        injected * 5 >= seen.len(),
        "{injected} faults in {} requests",
        seen.len()
    );
    eprintln!("{} requests, {injected} faults: {counts:?}", seen.len());
}

/// A database with a cross-region replica: the smallest policy whose create is not
/// idempotent at the API level.
const REPLICA_POLICY: &str = r#"
resource "dr_policy" "app" {
  name   = "app"
  rpo    = "1h"
  rto    = "1h"
  owners = ["alice", "bob"]
  rds {
    instance_identifier   = "app-db"
    backup_retention_days = 7
    cross_region_replica {}
  }
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_lost_answer_to_a_replica_create_never_makes_a_second_replica() {
    for fault in [Fault::ServerErrorAfterEffect, Fault::ResetAfterEffect] {
        let moto = Moto::start().unwrap();
        seed_db(&moto, "app-db", false).await;
        let proxy = FaultProxy::start(moto.port(), FaultConfig::none()).unwrap();
        proxy.inject_once("rds:CreateDBInstanceReadReplica", fault);
        let tf = terraform_at(&moto, proxy.endpoint(), REPLICA_POLICY);
        tf.apply().unwrap();

        let creates = proxy
            .seen()
            .iter()
            .filter(|s| s.label == "rds:CreateDBInstanceReadReplica")
            .count();
        assert_eq!(creates, 1, "{fault:?}: the create was sent again");
        assert_eq!(proxy.fault_counts().get(&fault), Some(&1));
        let inv = inventory_of(&moto).await;
        let dr: Vec<_> = inv["rds"]
            .as_object()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with(DR))
            .collect();
        assert_eq!(dr, ["us-west-2/app-db-dr"], "{fault:?}");
        assert_eq!(
            inv["rds"]["us-east-1/app-db"]["replicas"]
                .as_array()
                .unwrap()
                .len(),
            1,
            "{fault:?}: {inv:#}"
        );
        tf.assert_plan_empty().unwrap();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn aws_credentials_never_reach_state_plan_output_or_trace_logs() {
    const SECRET_KEY: &str = "drkitSecretKey/never+logged/0123456789abcdef";
    const SESSION_TOKEN: &str = "drkitSessionToken-never-logged-FwoGZXIvYXdzEJr";
    let moto = Moto::start().unwrap();
    seed(&moto).await;
    let mut tf = terraform_at(
        &moto,
        moto.endpoint(),
        &full_policy("app", "app-db", "app-logs", "app-logs-dr"),
    );
    tf.env("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
        .env("AWS_SESSION_TOKEN", SESSION_TOKEN)
        .env("TF_LOG", "trace");
    let plan = tf.run_ok(&["plan", "-out=tfplan", "-input=false"]).unwrap();
    let apply = tf
        .run_ok(&["apply", "-auto-approve", "-input=false", "tfplan"])
        .unwrap();
    let refresh = tf
        .run_ok(&["plan", "-refresh-only", "-input=false"])
        .unwrap();
    let show = tf.run_ok(&["show", "-json", "tfplan"]).unwrap();
    let state = std::fs::read_to_string(tf.dir().join("terraform.tfstate")).unwrap();
    assert!(
        plan.combined().contains("dr provider configured"),
        "TF_LOG=trace shows the plugin's own log lines"
    );
    assert!(
        apply
            .combined()
            .contains("aws_sigv4::http_request::sign: signing request"),
        "the log holds the SDK's request signing, where a credential would show"
    );
    for (what, text) in [
        ("plan output", plan.combined()),
        ("apply output", apply.combined()),
        ("refresh output", refresh.combined()),
        ("saved plan", show.combined()),
        ("state", state),
    ] {
        for secret in [SECRET_KEY, SESSION_TOKEN] {
            assert!(
                !text.contains(secret),
                "a credential leaked into the {what}"
            );
        }
    }
}

/// Points of a `dr_policy` create at which `terraform apply` is interrupted: the first
/// request whose label contains each has reached moto (it took effect) and its answer is
/// held until the process is gone.
const CREATE_POINTS: &[&str] = &[
    "rds:ModifyDBInstance",
    "rds:CreateDBInstanceReadReplica",
    "s3:PUT /app-logs/?versioning",
    "s3:PUT /app-logs/?replication",
    "s3:PUT /app-logs/?lifecycle",
    "rds:AddTagsToResource",
];

#[derive(Debug, Clone, Copy)]
enum Interrupt {
    /// Ctrl-C: Terraform asks the plugin to stop and waits for it.
    SigInt,
    /// Terraform and the plugin die at once; nothing gets to clean up or save state.
    SigKill,
}

const APPLY: &[&str] = &["apply", "-auto-approve", "-input=false"];
const DESTROY: &[&str] = &["destroy", "-auto-approve", "-input=false"];

/// A seeded account (behind a transparent proxy when `proxied`) with `before` applied, if
/// any, and its directory holding `config`.
struct Prepared {
    moto: Moto,
    proxy: Option<FaultProxy>,
    tf: Terraform,
}

async fn prepared(before: Option<&str>, config: &str, proxied: bool) -> Prepared {
    let moto = Moto::start().unwrap();
    seed(&moto).await;
    let proxy = proxied.then(|| FaultProxy::start(moto.port(), FaultConfig::none()).unwrap());
    let endpoint = proxy
        .as_ref()
        .map_or(moto.endpoint(), |p| p.endpoint())
        .to_string();
    let tf = terraform_at(&moto, &endpoint, before.unwrap_or(config));
    if before.is_some() {
        tf.apply().unwrap();
        tf.write(
            "main.tf",
            &format!("{}\n{config}", provider_block_at(&endpoint, RETRIES)),
        )
        .unwrap();
    }
    Prepared { moto, proxy, tf }
}

/// Runs `command` on `config` (after applying `before`) and interrupts it at each point
/// in turn; running it again must end exactly where an uninterrupted run does.
async fn interrupted_runs_converge(
    how: Interrupt,
    before: Option<&str>,
    config: &str,
    command: &[&str],
    points: &[&str],
) {
    let reference = {
        let clean = prepared(before, config, false).await;
        clean.tf.run_ok(command).unwrap();
        inventory_of(&clean.moto).await
    };
    for point in points {
        let Prepared { moto, proxy, tf } = prepared(before, config, true).await;
        let proxy = proxy.expect("proxied");
        let mut child = run_until(&tf, &proxy, point, command);
        let pgid = format!("-{}", child.id());
        match how {
            // Ctrl-C in a terminal reaches the whole foreground process group.
            Interrupt::SigInt => kill(&["-INT", "--", &pgid]),
            Interrupt::SigKill => kill(&["-KILL", "--", &pgid]),
        }
        proxy.release();
        let _ = child.wait();

        let out = tf.run(command).unwrap();
        let what = format!("{how:?} at {point} of `terraform {}`", command[0]);
        assert!(out.success(), "{what}: running it again failed:\n{out}");
        assert_same(&reference, &inventory_of(&moto).await, &what);
        if command == APPLY {
            assert!(
                tf.plan_is_empty().unwrap(),
                "{what}: the plan after it is not empty"
            );
        }
    }
}

fn kill(args: &[&str]) {
    let status = std::process::Command::new("kill")
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "kill {args:?}");
}

fn full() -> String {
    full_policy("app", "app-db", "app-logs", "app-logs-dr")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_create_interrupted_by_ctrl_c_at_any_point_converges_on_the_next_apply() {
    interrupted_runs_converge(Interrupt::SigInt, None, &full(), APPLY, CREATE_POINTS).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_create_killed_at_any_point_converges_on_the_next_apply() {
    interrupted_runs_converge(Interrupt::SigKill, None, &full(), APPLY, CREATE_POINTS).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_policy_update_killed_midway_converges_on_the_next_apply() {
    let updated = full()
        .replace("backup_retention_days = 14", "backup_retention_days = 21")
        .replace(
            "replication_time_control = true",
            "replication_time_control = false",
        )
        .replace("rpo    = \"15m\"", "rpo    = \"1h\"")
        .replace(
            "expire_days            = 90",
            "expire_days            = 120",
        );
    let points = [
        "rds:ModifyDBInstance",
        "s3:PUT /app-logs/?replication",
        "s3:PUT /app-logs/?lifecycle",
    ];
    interrupted_runs_converge(Interrupt::SigKill, Some(&full()), &updated, APPLY, &points).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_destroy_killed_midway_converges_on_the_next_destroy() {
    let deleting = full().replace(
        "  owners = [\"alice\", \"bob\"]\n",
        "  owners = [\"alice\", \"bob\"]\n  delete_replicas_on_destroy = true\n",
    );
    let points = [
        "rds:DeleteDBInstance",
        "rds:RemoveTagsFromResource",
        "s3:DELETE /app-logs/?tagging",
    ];
    interrupted_runs_converge(
        Interrupt::SigKill,
        Some(&deleting),
        &deleting,
        DESTROY,
        &points,
    )
    .await;
}

/// An `rds` drill of `app-db` in the primary region; `extra` goes inside the resource.
fn rds_drill(extra: &str) -> String {
    format!(
        r#"
resource "dr_drill" "app" {{
  policy_id = "app"
  rpo       = "1h"
  rto       = "1h"
  rds {{
    instance_identifier = "app-db"
  }}
  {extra}
}}
"#
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn drills_through_30_percent_faults_pass_and_leave_nothing_behind() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seeded(&moto, &pg).await;
    seed_db(&moto, "app-db", false).await;
    let proxy = FaultProxy::start(moto.port(), FaultConfig::all(0.3, 11)).unwrap();
    // The worst moment for a lost answer: RDS has started the temporary instance.
    proxy.inject_once(
        "rds:RestoreDBInstanceToPointInTime",
        Fault::ServerErrorAfterEffect,
    );
    let config = format!("{}{}", drill(&pg, "", COUNT_CHECK), rds_drill(""));
    let mut tf = terraform_at(&moto, proxy.endpoint(), &config);
    tf.env(PASSWORD_ENV, pg.password());
    tf.apply().unwrap();

    for address in ["dr_drill.shop", "dr_drill.app"] {
        let state = tf.resource(address).unwrap();
        assert_eq!(state["passed"], true, "{address}: {state:#}");
    }
    let shop = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(shop["verify_results"][0]["value"], "2500");
    assert!(scratch_dbs(&pg).is_empty(), "a scratch database is left");
    let instances: Vec<String> = inventory_of(&moto).await["rds"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        instances,
        ["us-east-1/app-db"],
        "a temporary instance is left"
    );
    let restores = proxy
        .seen()
        .iter()
        .filter(|s| s.label == "rds:RestoreDBInstanceToPointInTime")
        .count();
    assert_eq!(restores, 1, "the restore was sent again");
    let counts = proxy.fault_counts();
    assert!(
        counts.values().sum::<usize>() >= 4,
        "too few faults to mean anything: {counts:?}"
    );
}

/// What must never be lost: every instance, snapshot, bucket and object version.
fn data_items(inv: &serde_json::Value) -> BTreeSet<String> {
    let mut items = BTreeSet::new();
    for id in inv["rds"].as_object().unwrap().keys() {
        items.insert(format!("instance {id}"));
    }
    for snap in inv["snapshots"].as_array().unwrap() {
        items.insert(format!("snapshot {}", snap.as_str().unwrap()));
    }
    for (bucket, b) in inv["s3"].as_object().unwrap() {
        items.insert(format!("bucket {bucket}"));
        for (key, o) in b["objects"].as_object().unwrap() {
            for v in 1..=o["versions"].as_u64().unwrap() {
                items.insert(format!("object {bucket}/{key} version {v}"));
            }
        }
    }
    items
}

/// Fails naming what `step` lost of `before`, apart from `allowed`.
async fn assert_kept(moto: &Moto, before: &BTreeSet<String>, allowed: &[&str], step: &str) {
    let after = data_items(&inventory_of(moto).await);
    let lost: Vec<_> = before
        .iter()
        .filter(|i| !after.contains(*i) && !allowed.contains(&i.as_str()))
        .collect();
    assert!(lost.is_empty(), "{step} lost {lost:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_destroy_failure_or_change_loses_data_unless_asked() {
    let moto = Moto::start().unwrap();
    seed(&moto).await;
    moto.rds(PRIMARY)
        .await
        .create_db_snapshot()
        .db_instance_identifier("app-db")
        .db_snapshot_identifier("app-db-manual")
        .send()
        .await
        .unwrap();
    let policy = full_policy("app", "app-db", "app-logs", "app-logs-dr");
    let mut tf = terraform_at(&moto, moto.endpoint(), &policy);
    tf.env(PASSWORD_ENV, "unused");
    tf.apply().unwrap();
    let before = data_items(&inventory_of(&moto).await);
    assert!(
        before.contains("instance us-west-2/app-db-dr"),
        "{before:?}"
    );
    assert!(before.contains("snapshot us-east-1/app-db-manual"));
    let rewrite = |body: &str| {
        tf.write(
            "main.tf",
            &format!("{}\n{body}", provider_block_at(moto.endpoint(), RETRIES)),
        )
        .unwrap();
    };

    // A failed update: a second bucket that does not exist.
    rewrite(&policy.replace(
        "  s3 {\n    bucket = \"app-logs\"",
        "  s3 {\n    bucket = \"app-missing\"\n  }\n  s3 {\n    bucket = \"app-logs\"",
    ));
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(!out.success(), "the missing bucket must fail the apply");
    assert_kept(&moto, &before, &[], "a failed update").await;

    // The policy stops covering the database: its replica stays.
    let rds_block = &policy[policy.find("  rds {").unwrap()..policy.find("  s3 {").unwrap()];
    rewrite(&policy.replace(rds_block, ""));
    tf.apply().unwrap();
    assert_kept(&moto, &before, &[], "dropping the database from the policy").await;

    // A failed drill: the restored copy cannot be verified (moto's endpoints are not
    // databases); the drill fails and tears down its temporary instance only.
    rewrite(&format!(
        "{policy}{}",
        rds_drill(
            r#"target {
    host         = "unused"
    username     = "dr"
    password_env = "DRILL_PG_PASSWORD"
  }
  verify {
    name   = "orders"
    sql    = "SELECT count(*) FROM orders"
    expect = "> 0"
  }"#
        )
    ));
    let out = tf.run(&["apply", "-auto-approve", "-input=false"]).unwrap();
    assert!(!out.success(), "the drill must fail:\n{out}");
    assert!(out.combined().contains("DR drill failed"), "{out}");
    assert_kept(&moto, &before, &[], "a failed drill").await;
    let after = data_items(&inventory_of(&moto).await);
    assert!(
        !after
            .iter()
            .any(|i| i.starts_with("instance") && i.contains("drkit-drill-")),
        "the drill's temporary instance is left: {after:?}\n{out}"
    );

    // Destroy keeps everything.
    rewrite(&policy);
    tf.destroy().unwrap();
    assert_kept(&moto, &before, &[], "destroy").await;

    // Only the explicit opt-in deletes, and only the replica the policy created.
    rewrite(&policy.replace(
        "  owners = [\"alice\", \"bob\"]\n",
        "  owners = [\"alice\", \"bob\"]\n  delete_replicas_on_destroy = true\n",
    ));
    tf.apply().unwrap();
    tf.destroy().unwrap();
    assert_kept(
        &moto,
        &before,
        &["instance us-west-2/app-db-dr"],
        "destroy with delete_replicas_on_destroy",
    )
    .await;
    let after = data_items(&inventory_of(&moto).await);
    assert!(
        !after.contains("instance us-west-2/app-db-dr"),
        "delete_replicas_on_destroy kept the replica"
    );
}

/// The drill's temporary instances in moto.
async fn temporary_instances(moto: &Moto) -> Vec<String> {
    inventory_of(moto).await["rds"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.contains("drkit-drill-"))
        .cloned()
        .collect()
}

/// Starts `terraform ARGS` in its own process group, with the answer to the first request
/// matching `point` held; returns once that request has taken effect.
fn run_until(
    tf: &Terraform,
    proxy: &FaultProxy,
    point: &str,
    args: &[&str],
) -> std::process::Child {
    use std::os::unix::process::CommandExt;
    proxy.hold_after(point);
    let child = tf
        .command(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .unwrap();
    proxy.wait_held(Duration::from_secs(120)).unwrap();
    child
}

#[tokio::test(flavor = "multi_thread")]
async fn an_rds_drill_interrupted_mid_restore_leaves_no_temporary_instance() {
    const RESTORE: &str = "rds:RestoreDBInstanceToPointInTime";
    let moto = Moto::start().unwrap();
    seed_db(&moto, "app-db", false).await;
    let proxy = FaultProxy::start(moto.port(), FaultConfig::none()).unwrap();
    let tf = terraform_at(&moto, proxy.endpoint(), &rds_drill("timeout = \"20s\""));

    // Ctrl-C while RDS starts the copy: the drill is cancelled and still deletes it.
    let mut child = run_until(&tf, &proxy, RESTORE, APPLY);
    kill(&["-INT", "--", &format!("-{}", child.id())]);
    proxy.release();
    let status = child.wait().unwrap();
    assert!(!status.success(), "an interrupted drill fails the apply");
    assert_eq!(temporary_instances(&moto).await, Vec::<String>::new());

    // SIGKILL at the same point: nothing can clean up, and the copy outlives the process.
    let mut child = run_until(&tf, &proxy, RESTORE, APPLY);
    let killed_at = std::time::Instant::now();
    kill(&["-KILL", "--", &format!("-{}", child.id())]);
    proxy.release();
    let _ = child.wait();
    let left = temporary_instances(&moto).await;
    assert_eq!(left.len(), 1, "{left:?}");
    // A leftover is swept once its drill's time limit has passed (a drill still running
    // elsewhere is never touched); then the next apply removes it and says so.
    std::thread::sleep(Duration::from_secs(21).saturating_sub(killed_at.elapsed()));
    tf.apply().unwrap();
    assert_eq!(temporary_instances(&moto).await, Vec::<String>::new());
    let state = tf.resource("dr_drill.app").unwrap();
    let leftover = left[0].trim_start_matches("us-east-1/");
    assert!(
        state["report"].as_str().unwrap().contains(leftover),
        "the report names the removed leftover {leftover}: {state:#}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_dump_download_cut_off_midway_resumes_and_the_drill_passes() {
    let (moto, pg) = (Moto::start().unwrap(), Postgres::start().unwrap());
    seeded(&moto, &pg).await;
    let proxy = FaultProxy::start(moto.port(), FaultConfig::none()).unwrap();
    proxy.inject_once("s3:GET /shop-backups/daily/shop.dump", Fault::CutBody);
    let mut tf = terraform_at(&moto, proxy.endpoint(), &drill(&pg, "", COUNT_CHECK));
    tf.env(PASSWORD_ENV, pg.password());
    tf.apply().unwrap();

    let state = tf.resource("dr_drill.shop").unwrap();
    assert_eq!(state["passed"], true, "{state:#}");
    assert_eq!(state["verify_results"][0]["value"], "2500");
    let gets: Vec<_> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.label.starts_with("s3:GET /shop-backups/daily/shop.dump"))
        .collect();
    assert_eq!(gets.len(), 2, "one cut download and one resumed: {gets:?}");
    assert_eq!(gets[0].fault, Some(Fault::CutBody));
    let resumed_at = gets[1]
        .range
        .as_deref()
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.trim_end_matches('-').parse::<u64>().ok());
    assert!(
        resumed_at.is_some_and(|at| at > 0),
        "the second request resumes where the first stopped: {gets:?}"
    );
    assert!(scratch_dbs(&pg).is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_aurora_policy_through_30_percent_faults_ends_as_without_faults() {
    let config = cluster_policy("pay", "pay");
    let clean = Moto::start().unwrap();
    let faulty = Moto::start().unwrap();
    seed_cluster(&clean, "pay", false).await;
    seed_cluster(&faulty, "pay", false).await;
    let proxy = FaultProxy::start(faulty.port(), FaultConfig::all(0.3, 11)).unwrap();
    let tf_clean = terraform_at(&clean, clean.endpoint(), &config);
    let tf_faulty = terraform_at(&faulty, proxy.endpoint(), &config);

    tf_clean.apply().unwrap();
    tf_faulty.apply().unwrap();
    assert_alike(&clean, &faulty, "after apply").await;
    let inv = inventory_of(&faulty).await;
    assert_eq!(
        inv["global_clusters"]["pay-global"]
            .as_array()
            .map(Vec::len),
        Some(2),
        "one primary and one secondary: {inv:#}"
    );
    assert_eq!(
        inv["clusters"]["us-west-2/pay-dr"]["members"],
        serde_json::json!(["pay-dr-1"])
    );

    tf_faulty.assert_plan_empty().unwrap();
    tf_faulty
        .run_ok(&["apply", "-refresh-only", "-auto-approve", "-input=false"])
        .unwrap();
    tf_faulty.assert_plan_empty().unwrap();

    let updated = config.replace("backup_retention_days = 14", "backup_retention_days = 21");
    assert_ne!(updated, config);
    for (tf, endpoint) in [
        (&tf_clean, clean.endpoint()),
        (&tf_faulty, proxy.endpoint()),
    ] {
        tf.write(
            "main.tf",
            &format!("{}\n{updated}", provider_block_at(endpoint, RETRIES)),
        )
        .unwrap();
        tf.apply().unwrap();
    }
    assert_alike(&clean, &faulty, "after an update").await;
    tf_faulty.assert_plan_empty().unwrap();

    tf_clean.destroy().unwrap();
    tf_faulty.destroy().unwrap();
    let after = inventory_of(&faulty).await;
    assert_same(&inventory_of(&clean).await, &after, "after destroy");
    for kept in ["us-east-1/pay", "us-west-2/pay-dr"] {
        assert!(
            after["clusters"].get(kept).is_some(),
            "destroy deleted {kept}"
        );
    }
    let injected: usize = proxy.fault_counts().values().sum();
    assert!(injected >= 6, "only {injected} faults injected");
}

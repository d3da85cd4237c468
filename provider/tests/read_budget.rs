//! `read_budget` through terraform: with RDS and S3 at moto and CloudWatch unreachable (a
//! refused port, or a blackhole that accepts and never answers), `dr_status` and
//! `dr_runbook` report the live figures unknown with "CloudWatch not reachable in 20s"
//! instead of retrying for minutes, and the plan still succeeds. How long a plan takes is
//! measured in `bench/` (`drkit-bench-provider --case unreachable-cloudwatch`), not here.

mod policy_support;

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use drkit_testkit::{Moto, Terraform};
use policy_support::{provider_block_at, seed_bucket, seed_db, PRIMARY, PROVIDER};
use serde_json::Value as Json;

/// A port nothing listens on: connections are refused.
fn refused_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("http://127.0.0.1:{port}")
}

/// Accepts every connection and never answers; keeps the sockets open and counts them.
struct Blackhole {
    endpoint: String,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl Blackhole {
    fn start() -> Blackhole {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let endpoint = format!("http://{}", listener.local_addr().unwrap());
        let held = Arc::new(Mutex::new(Vec::new()));
        let sink = held.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                sink.lock().unwrap().push(stream);
            }
        });
        Blackhole { endpoint, held }
    }

    fn connections(&self) -> usize {
        self.held.lock().unwrap().len()
    }
}

/// The tests' provider block, with `read_budget` 20s (long enough for moto on a loaded
/// machine to answer RDS and S3) and CloudWatch at `cloudwatch`.
fn config(moto: &Moto, cloudwatch: &str) -> String {
    let m = moto.endpoint();
    let provider = provider_block_at(m, 25)
        .replace("read_budget = \"2m\"", "read_budget = \"20s\"")
        .replace(
            &format!("cloudwatch = \"{m}\""),
            &format!("cloudwatch = \"{cloudwatch}\""),
        );
    format!(
        r#"{provider}
resource "dr_policy" "orders" {{
  name   = "orders"
  rpo    = "15m"
  rto    = "1h"
  owners = ["alice@example.com", "bob@example.com"]

  rds {{
    instance_identifier = "orders-db"
    cross_region_replica {{}}
  }}
}}

data "dr_status" "orders" {{
  policy_id = dr_policy.orders.id
}}

data "dr_runbook" "orders" {{
  policy_id = dr_policy.orders.id
}}

output "status" {{
  value = data.dr_status.orders
}}

output "runbook" {{
  value = data.dr_runbook.orders.markdown
}}
"#
    )
}

fn applied(moto: &Moto, cloudwatch: &str) -> (Json, String) {
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(moto.env());
    tf.write("main.tf", &config(moto, cloudwatch)).unwrap();
    let out = tf.apply().unwrap();
    assert!(out.success(), "{out}");
    let status: Json =
        serde_json::from_str(&tf.run_ok(&["output", "-json", "status"]).unwrap().stdout).unwrap();
    let runbook: String =
        serde_json::from_str(&tf.run_ok(&["output", "-json", "runbook"]).unwrap().stdout).unwrap();
    (status, runbook)
}

fn assert_unreachable(status: &Json, runbook: &str) {
    let replica = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "rds:us-west-2:orders-db-dr")
        .unwrap_or_else(|| panic!("no replica figure in {status:#}"));
    assert_eq!(replica["seconds"], Json::Null, "{replica}");
    let why = replica["unknown"].as_str().unwrap();
    assert!(
        why.contains("CloudWatch not reachable in 20s (us-west-2)"),
        "{why}"
    );
    assert_eq!(status["rpo_met"], false);
    // What RDS answers is still measured: the in-region point-in-time figure.
    let pitr = status["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["address"] == "rds:us-east-1:orders-db")
        .unwrap();
    assert!(pitr["seconds"].is_number(), "{pitr}");
    assert!(
        runbook.contains("CloudWatch not reachable in 20s (us-west-2)"),
        "{runbook}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_cloudwatch_is_unknown_within_the_budget_and_the_plan_succeeds() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    seed_bucket(&moto, "unrelated", PRIMARY, true).await;
    let (status, runbook) = applied(&moto, &refused_endpoint());
    assert_unreachable(&status, &runbook);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cloudwatch_that_never_answers_is_unknown_within_the_budget() {
    let moto = Moto::start().unwrap();
    seed_db(&moto, "orders-db", false).await;
    let hole = Blackhole::start();
    let (status, runbook) = applied(&moto, &hole.endpoint);
    assert_unreachable(&status, &runbook);
    // One attempt per read (status and runbook, plan and apply each read them): a call that
    // had the whole budget and no answer is not tried again.
    assert!(hole.connections() >= 2, "{}", hole.connections());
    assert!(hole.connections() <= 6, "{}", hole.connections());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_read_budget_is_an_error_on_its_attribute() {
    let moto = Moto::start().unwrap();
    let mut tf = Terraform::new(PROVIDER).unwrap();
    tf.envs(moto.env());
    tf.write(
        "main.tf",
        &config(&moto, moto.endpoint()).replace("read_budget = \"20s\"", "read_budget = \"1h\""),
    )
    .unwrap();
    let err = tf.plan_expect_error("Invalid read_budget").unwrap();
    assert!(err.contains("outside 1s to 5m"), "{err}");
}

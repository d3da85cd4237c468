//! `--unreachable-cloudwatch`: what an optional read costs a plan when CloudWatch has no
//! route (issue 25: a runbook's plan once spent three minutes retrying `GetMetricData`).
//!
//! One applied policy (a cross-region replica) against moto for RDS and S3. Baseline: a
//! refreshing `terraform plan` with no `dr_status` and no `dr_runbook`. Then the same plan
//! with both, CloudWatch's endpoint a refused port, and then a blackhole that accepts and
//! never answers. Target: each within 1.2 x baseline + `read_budget`. Medians; asserts
//! nothing.

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Result};
use drkit_testkit::{Moto, Terraform};

const BUDGET_SECS: f64 = 10.0;

fn config(moto: &Moto, cloudwatch: &str, reads: bool) -> String {
    let m = moto.endpoint();
    let mut out = format!(
        "terraform {{\n  required_providers {{\n    dr = {{ source = \"drkit/dr\" }}\n  }}\n}}\n\n\
         provider \"dr\" {{\n  region    = \"us-east-1\"\n  dr_region = \"us-west-2\"\n  \
         endpoints {{\n    rds        = \"{m}\"\n    s3         = \"{m}\"\n    \
         cloudwatch = \"{cloudwatch}\"\n  }}\n}}\n\n\
         resource \"dr_policy\" \"orders\" {{\n  name   = \"orders\"\n  rpo    = \"15m\"\n  \
         rto    = \"1h\"\n  owners = [\"a\", \"b\"]\n  rds {{\n    instance_identifier = \
         \"orders-db\"\n    cross_region_replica {{}}\n  }}\n}}\n"
    );
    if reads {
        out += "\ndata \"dr_status\" \"orders\" {\n  policy_id = dr_policy.orders.id\n}\n\n\
                data \"dr_runbook\" \"orders\" {\n  policy_id = dr_policy.orders.id\n}\n";
    }
    out
}

fn timed_plan(tf: &Terraform, runs: usize) -> Result<f64> {
    let mut v = Vec::new();
    for _ in 0..runs {
        let start = Instant::now();
        let out = tf.run(&["plan", "-input=false", "-lock=false", "-detailed-exitcode"])?;
        if !matches!(out.status.code(), Some(0) | Some(2)) {
            bail!("terraform plan failed:\n{out}");
        }
        v.push(start.elapsed().as_secs_f64());
    }
    v.sort_by(f64::total_cmp);
    Ok(v[v.len() / 2])
}

/// Accepts and holds every connection, never answering.
fn blackhole() -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let endpoint = format!("http://{}", listener.local_addr()?);
    let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
    std::thread::spawn(move || {
        for s in listener.incoming().flatten() {
            held.lock().unwrap_or_else(|e| e.into_inner()).push(s);
        }
    });
    Ok(endpoint)
}

fn refused() -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    drop(listener);
    Ok(format!("http://127.0.0.1:{port}"))
}

pub(crate) async fn run(provider: &std::path::Path, runs: usize) -> Result<()> {
    let moto = Moto::start()?;
    let rds = moto.rds("us-east-1").await;
    rds.create_db_instance()
        .db_instance_identifier("orders-db")
        .engine("postgres")
        .db_instance_class("db.t3.micro")
        .allocated_storage(20)
        .master_username("admin")
        .master_user_password("not-a-secret-1")
        .backup_retention_period(7)
        .send()
        .await?;
    let mut tf = Terraform::new(provider)?;
    tf.envs(moto.env());
    let hole = blackhole()?;
    tf.write("main.tf", &config(&moto, &hole, false))?;
    tf.apply()?;
    let base = timed_plan(&tf, runs)?;
    println!(
        "median of {runs} runs; seconds; read_budget {BUDGET_SECS}s; target = 1.2 x baseline + budget"
    );
    println!(
        "{:<44} {:>8} {:>8} {:>16}",
        "plan", "seconds", "ratio", "to target"
    );
    println!(
        "{:<44} {:>8.2} {:>8} {:>16}",
        "no dr_status, no dr_runbook (baseline)", base, "1.00", "-"
    );
    let target = 1.2 * base + BUDGET_SECS;
    for (what, endpoint) in [
        ("dr_status + dr_runbook, CloudWatch refused", refused()?),
        ("dr_status + dr_runbook, CloudWatch blackhole", hole),
    ] {
        tf.write("main.tf", &config(&moto, &endpoint, true))?;
        let t = timed_plan(&tf, runs)?;
        println!("{what:<44} {t:>8.2} {:>8.2} {:>16.2}", t / base, t / target);
    }
    Ok(())
}

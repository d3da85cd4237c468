//! `--latency MS`: the provider against round trips as AWS has them. moto answers in about
//! 2 ms, which hides what users wait for; here every answer is held back one simulated
//! round trip by the fault proxy, and each command is compared with its floor:
//!
//! - `dr_wide`'s time for the same command (a do-nothing resource with `dr_policy`'s schema
//!   and configuration: what Terraform itself costs), plus
//! - the round trips no provider can avoid, `k` per policy, and Terraform runs
//!   `-parallelism` policies at once, so `ceil(N / par)` lanes one after another:
//!   refresh `k = 1` (every read of a policy goes out at once), new plan `k = 1` (the live
//!   checks, all at once), no-op plan `k = 0`, apply `k` = the dependent chain of calls of
//!   one policy's `terraform apply` (its plan's live checks, then the create), which this
//!   bench counts from the proxy's log (the longest run of calls each sent after the
//!   previous one answered).

use std::time::Instant;

use anyhow::{bail, Result};
use drkit_testkit::{sequential_round_trips, FaultConfig, FaultProxy, Latency, Moto, Terraform};

use super::{median, policies, seed_buckets, wides};

fn provider_block(endpoint: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    dr = {{ source = \"drkit/dr\" }}\n  }}\n}}\n\nprovider \"dr\" {{\n  region    = \"us-east-1\"\n  dr_region = \"us-west-2\"\n  endpoints {{\n    rds = \"{endpoint}\"\n    s3  = \"{endpoint}\"\n  }}\n}}\n"
    )
}

/// A moto seeded with `n` buckets behind a proxy with `ms` of round trip, and a Terraform
/// directory of `n` policies talking to the proxy.
struct Setup {
    _moto: Moto,
    proxy: FaultProxy,
    tf: Terraform,
}

async fn setup(provider: &std::path::Path, n: usize, ms: u64) -> Result<Setup> {
    let moto = Moto::start()?;
    seed_buckets(&moto, n).await?;
    let proxy = FaultProxy::start(moto.port(), FaultConfig::none())?;
    proxy.set_latency(Latency {
        base: std::time::Duration::from_millis(ms),
        jitter: std::time::Duration::from_millis(ms / 6),
    });
    let mut tf = Terraform::new(provider)?;
    tf.envs(moto.env());
    tf.write(
        "main.tf",
        &format!("{}\n{}", provider_block(proxy.endpoint()), policies(n)),
    )?;
    Ok(Setup {
        _moto: moto,
        proxy,
        tf,
    })
}

/// Wall seconds of one terraform command (exit 0 or 2).
fn timed(tf: &Terraform, args: &[&str]) -> Result<f64> {
    let start = Instant::now();
    let out = tf.run(args)?;
    if !matches!(out.status.code(), Some(0) | Some(2)) {
        bail!("terraform {} failed:\n{out}", args.join(" "));
    }
    Ok(start.elapsed().as_secs_f64())
}

fn median_of(tf: &Terraform, args: &[&str], runs: usize) -> Result<f64> {
    let mut v = Vec::new();
    for _ in 0..runs {
        v.push(timed(tf, args)?);
    }
    Ok(median(v))
}

/// The dependent chain of one policy's create: the round trips `terraform apply` (its plan,
/// then the create) waited for one after another.
async fn apply_chain(provider: &std::path::Path, ms: u64) -> Result<usize> {
    let s = setup(provider, 1, ms).await?;
    s.proxy.take_timings();
    s.tf.run_ok(&["apply", "-auto-approve", "-input=false", "-lock=false"])?;
    Ok(sequential_round_trips(&s.proxy.take_timings()))
}

pub(crate) async fn run(
    provider: &std::path::Path,
    null_binary: &std::path::Path,
    sizes: &[usize],
    runs: usize,
    ms: u64,
) -> Result<()> {
    let rtt = ms as f64 / 1000.0;
    let chain = apply_chain(provider, ms).await?;
    println!(
        "round trip {ms} ms (jitter {} ms) through the fault proxy; median of {runs} runs (apply: one \
         run on a fresh account); seconds; floor = dr_wide's time + k x ceil(N/par) x round trip, \
         k = 1 for refresh and new plan, 0 for a no-op plan, {chain} for apply (the counted \
         dependent chain of one policy's create); waited = round trips the provider waited for one \
         after another, counted from the proxy's log",
        ms / 6
    );
    println!(
        "{:<18} {:>4} {:>4} {:>9} {:>8} {:>7} {:>8} {:>7}",
        "command", "N", "par", "dr_policy", "dr_wide", "waited", "floor", "ratio"
    );
    for &n in sizes {
        for par in [1usize, 10] {
            let p = format!("-parallelism={par}");
            let lanes = n.div_ceil(par) as f64;
            let s = setup(provider, n, ms).await?;
            let wide = Terraform::new(null_binary)?;
            wide.write("main.tf", &wides(n))?;
            let plan = [
                "plan",
                "-refresh=false",
                "-input=false",
                "-lock=false",
                p.as_str(),
            ];
            let apply = [
                "apply",
                "-auto-approve",
                "-input=false",
                "-lock=false",
                p.as_str(),
            ];
            let refresh = [
                "plan",
                "-refresh-only",
                "-input=false",
                "-lock=false",
                p.as_str(),
            ];

            let mut rows = Vec::new();
            s.proxy.take_timings();
            let dr = median_of(&s.tf, &plan, runs)?;
            let waited = sequential_round_trips(&s.proxy.take_timings()) / runs.max(1);
            let w = median_of(&wide, &plan, runs)?;
            rows.push(("new plan", dr, w, waited, 1.0));

            let dr = timed(&s.tf, &apply)?;
            let waited = sequential_round_trips(&s.proxy.take_timings());
            let w = timed(&wide, &apply)?;
            rows.push(("apply", dr, w, waited, chain as f64));

            let dr = median_of(&s.tf, &plan, runs)?;
            let waited = sequential_round_trips(&s.proxy.take_timings()) / runs.max(1);
            let w = median_of(&wide, &plan, runs)?;
            rows.push(("no-op plan", dr, w, waited, 0.0));

            let dr = median_of(&s.tf, &refresh, runs)?;
            let waited = sequential_round_trips(&s.proxy.take_timings()) / runs.max(1);
            let w = median_of(&wide, &refresh, runs)?;
            rows.push(("refresh", dr, w, waited, 1.0));

            for (what, dr, w, waited, k) in rows {
                let floor = w + k * lanes * rtt;
                println!(
                    "{what:<18} {n:>4} {par:>4} {dr:>9.3} {w:>8.3} {waited:>7} {floor:>8.3} {:>7.2}",
                    dr / floor
                );
            }
        }
    }
    Ok(())
}

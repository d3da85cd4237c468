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
//!
//! AWS serves every request in parallel; moto serves them as one Python process (one
//! interpreter lock), a few milliseconds of CPU each. When the lanes send more requests at
//! once than moto gets through within a round trip, moto, not the round trips, sets the
//! pace, and no provider could be faster against it. So each row also prints the `moto
//! floor`: `dr_wide`'s time plus the larger of the round trips and the time moto was busy
//! (serving at least one request, from the proxy's log). The first floor is what a user
//! against AWS would pay; the second is what this bench's moto allows.
//!
//! `--trace DIR` writes every dr_policy command's requests (start, end, moto's share, label)
//! as TSV files: the timeline of each lane.

use std::time::Instant;

use anyhow::{bail, Result};
use drkit_testkit::{
    sequential_round_trips, FaultConfig, FaultProxy, Latency, Moto, Terraform, Timed,
};

use super::{children_cpu, median, policies, seed_buckets, wides};

fn provider_block(endpoint: &str) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    dr = {{ source = \"drkit/dr\" }}\n  }}\n}}\n\nprovider \"dr\" {{\n  region    = \"us-east-1\"\n  dr_region = \"us-west-2\"\n  endpoints {{\n    rds = \"{endpoint}\"\n    s3  = \"{endpoint}\"\n  }}\n}}\n"
    )
}

/// A moto seeded with `n` buckets behind a proxy with `ms` of round trip, and a Terraform
/// directory of `n` policies talking to the proxy.
struct Setup {
    moto: Moto,
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
    Ok(Setup { moto, proxy, tf })
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

/// One dr_policy command through the proxy, the median over its runs: wall seconds, the
/// round trips waited one after another, moto's CPU seconds, and the CPU seconds of
/// Terraform and the plugin together.
struct Measured {
    wall: f64,
    waited: usize,
    moto_cpu: f64,
    moto_busy: f64,
    cpu: f64,
}

/// Seconds during which moto was serving at least one request: the union of the requests'
/// upstream intervals. moto is one Python process; under parallel load it answers one
/// request after another, and no client can finish before it has served them all.
fn moto_busy(timings: &[Timed]) -> f64 {
    let mut spans: Vec<(Instant, Instant)> = timings
        .iter()
        .map(|t| (t.start, t.start + t.upstream))
        .collect();
    spans.sort();
    let mut busy = 0.0;
    let mut current: Option<(Instant, Instant)> = None;
    for (s, e) in spans {
        match current {
            Some((cs, ce)) if s <= ce => current = Some((cs, ce.max(e))),
            _ => {
                if let Some((cs, ce)) = current {
                    busy += (ce - cs).as_secs_f64();
                }
                current = Some((s, e));
            }
        }
    }
    if let Some((cs, ce)) = current {
        busy += (ce - cs).as_secs_f64();
    }
    busy
}

/// Runs `args` `runs` times against the setup's moto and proxy; with `trace`, writes each
/// run's requests (start, end, moto's share, label; milliseconds from the command's start)
/// to `trace/<name>-<run>.tsv`.
fn measure(
    s: &Setup,
    args: &[&str],
    runs: usize,
    trace: Option<(&std::path::Path, &str)>,
) -> Result<Measured> {
    let (mut walls, mut waits, mut motos, mut busys, mut cpus) =
        (vec![], vec![], vec![], vec![], vec![]);
    for run in 0..runs {
        s.proxy.take_timings();
        let moto_before = s.moto.cpu_seconds()?;
        let cpu_before = children_cpu();
        let start = Instant::now();
        walls.push(timed(&s.tf, args)?);
        cpus.push(children_cpu() - cpu_before);
        motos.push(s.moto.cpu_seconds()? - moto_before);
        let timings = s.proxy.take_timings();
        waits.push(sequential_round_trips(&timings) as f64);
        busys.push(moto_busy(&timings));
        if let Some((dir, name)) = trace {
            write_trace(&dir.join(format!("{name}-{run}.tsv")), start, &timings)?;
        }
    }
    Ok(Measured {
        wall: median(walls),
        waited: median(waits) as usize,
        moto_cpu: median(motos),
        moto_busy: median(busys),
        cpu: median(cpus),
    })
}

fn write_trace(path: &std::path::Path, t0: Instant, timings: &[Timed]) -> Result<()> {
    let mut sorted: Vec<&Timed> = timings.iter().collect();
    sorted.sort_by_key(|t| t.start);
    let ms = |i: Instant| i.saturating_duration_since(t0).as_secs_f64() * 1000.0;
    let mut out = String::from("start_ms\tend_ms\tmoto_ms\tlabel\n");
    for t in sorted {
        out += &format!(
            "{:.1}\t{:.1}\t{:.1}\t{}\n",
            ms(t.start),
            ms(t.end),
            t.upstream.as_secs_f64() * 1000.0,
            t.label
        );
    }
    std::fs::write(path, out)?;
    Ok(())
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
    trace: Option<&std::path::Path>,
) -> Result<()> {
    let rtt = ms as f64 / 1000.0;
    if let Some(dir) = trace {
        std::fs::create_dir_all(dir)?;
    }
    let chain = apply_chain(provider, ms).await?;
    println!(
        "round trip {ms} ms (jitter {} ms) through the fault proxy; median of {runs} runs (apply: one \
         run on a fresh account); seconds; floor = dr_wide's time + k x ceil(N/par) x round trip, \
         k = 1 for refresh and new plan, 0 for a no-op plan, {chain} for apply (the counted \
         dependent chain of one policy's create); waited = round trips the provider waited for one \
         after another, counted from the proxy's log; moto busy = seconds moto was serving at least \
         one request (it serves as one Python process); moto floor = dr_wide's time + the larger of \
         the round trips and moto busy; moto cpu = moto's CPU seconds; cpu = CPU seconds of \
         Terraform and the plugin (dr_policy / dr_wide)",
        ms / 6
    );
    println!(
        "{:<10} {:>4} {:>4} {:>9} {:>8} {:>6} {:>7} {:>6} {:>9} {:>10} {:>6} {:>9} {:>11}",
        "command",
        "N",
        "par",
        "dr_policy",
        "dr_wide",
        "waited",
        "floor",
        "ratio",
        "moto busy",
        "moto floor",
        "ratio",
        "moto cpu",
        "cpu"
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
            for (what, args, k, runs) in [
                ("new plan", &plan, 1.0, runs),
                ("apply", &apply, chain as f64, 1),
                ("no-op plan", &plan, 0.0, runs),
                ("refresh", &refresh, 1.0, runs),
            ] {
                let name = format!("{}-n{n}-p{par}", what.replace(' ', "-"));
                let dr = measure(&s, args, runs, trace.map(|d| (d, name.as_str())))?;
                let before = children_cpu();
                let w = median_of(&wide, args, runs)?;
                let w_cpu = (children_cpu() - before) / runs as f64;
                rows.push((what, dr, w, w_cpu, k));
            }
            for (what, dr, w, w_cpu, k) in rows {
                let trips = k * lanes * rtt;
                let floor = w + trips;
                let moto_floor = w + trips.max(dr.moto_busy);
                println!(
                    "{what:<10} {n:>4} {par:>4} {:>9.3} {w:>8.3} {:>6} {floor:>7.3} {:>6.2} {:>9.3} {moto_floor:>10.3} {:>6.2} {:>9.3} {:>5.2}/{w_cpu:<5.2}",
                    dr.wall,
                    dr.waited,
                    dr.wall / floor,
                    dr.moto_busy,
                    dr.wall / moto_floor,
                    dr.moto_cpu,
                    dr.cpu,
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;

    #[test]
    fn moto_busy_joins_overlapping_requests_and_adds_separate_ones() {
        let t0 = Instant::now();
        let at = |start: u64, upstream: u64| Timed {
            label: String::new(),
            start: t0 + Duration::from_millis(start),
            end: t0 + Duration::from_millis(start + 30),
            upstream: Duration::from_millis(upstream),
        };
        // 0-10 and 5-20 overlap (20 ms busy), 100-104 stands alone (4 ms).
        let busy = moto_busy(&[at(100, 4), at(5, 15), at(0, 10)]);
        assert!((busy - 0.024).abs() < 1e-9, "{busy}");
        assert_eq!(moto_busy(&[]), 0.0);
    }
}

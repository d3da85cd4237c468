//! The provider against Terraform's built-in resources, in one run on one machine:
//! `terraform plan -refresh=false` of N `dr_policy` against N `terraform_data`, at
//! `-parallelism=1` and 10, and a refresh-only plan of N applied policies against moto;
//! beside them N `dr_null` of a plugin that does nothing (`provider/examples/
//! bench_null_provider.rs`, the same tf-provider stack): what any plugin resource costs;
//! and N `dr_wide` of the same plugin, with `dr_policy`'s schema and configuration: what
//! the schema's size costs in Terraform before the plugin does any work;
//! then the AWS API calls one policy's create, refresh and no-op apply make (from moto's
//! request log). Prints medians and ratios; asserts nothing (noisy machines).
//!
//! With `--latency MS`, the provider talks to moto through the fault proxy holding every
//! answer back one simulated round trip (MS, jitter MS/6): refresh, no-op plan, new plan
//! and apply of N = 1, 10, 100 policies at `-parallelism` 1 and 10, each against its floor,
//! `dr_wide`'s time for the same command plus the round trips no provider can avoid (see
//! [`latency`]). With `--startup`, the plugin's start until it is ready to answer, against
//! the do-nothing plugin. With `--unreachable-cloudwatch`, a plan with `dr_status` and
//! `dr_runbook` whose CloudWatch is refused or never answers, against the same plan without
//! them (`read_budget`, see [`unreachable`]).
//!
//! `drkit-bench-provider [--sizes 10,100,500] [--runs 3] [--latency 30] [--startup]
//! [--unreachable-cloudwatch]`;
//! `bench/provider` builds and runs it.

// A benchmark tool: its report is its stdout.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use anyhow::{bail, Context, Result};
use drkit_testkit::{Moto, Terraform};

// Beside this file's directory, so that Cargo does not take them for binaries.
#[path = "../bench_provider/latency.rs"]
mod latency;
#[path = "../bench_provider/startup.rs"]
mod startup;
#[path = "../bench_provider/unreachable.rs"]
mod unreachable;

fn provider_block(moto: &Moto) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    dr = {{ source = \"drkit/dr\" }}\n  }}\n}}\n\nprovider \"dr\" {{\n  region    = \"us-east-1\"\n  dr_region = \"us-west-2\"\n  endpoints {{\n    rds = \"{ep}\"\n    s3  = \"{ep}\"\n  }}\n}}\n",
        ep = moto.endpoint()
    )
}

fn policies(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "resource \"dr_policy\" \"p{i}\" {{\n  name   = \"p{i}\"\n  rpo    = \"4h\"\n  rto    = \"4h\"\n  owners = [\"a\", \"b\"]\n  s3 {{\n    bucket = \"bench-{i}\"\n    replication {{\n      destination_bucket = \"bench-{i}-dr\"\n      role_arn           = \"arn:aws:iam::123456789012:role/r\"\n    }}\n    retention {{\n      expire_days = 30\n    }}\n  }}\n}}\n"
            )
        })
        .collect()
}

fn nulls(n: usize) -> String {
    let mut out = String::from(
        "terraform {\n  required_providers {\n    dr = { source = \"drkit/dr\" }\n  }\n}\n",
    );
    for i in 0..n {
        out += &format!("resource \"dr_null\" \"n{i}\" {{\n  input = \"bench-{i}\"\n}}\n");
    }
    out
}

/// N do-nothing resources with `dr_policy`'s schema and the same configuration.
fn wides(n: usize) -> String {
    format!(
        "terraform {{\n  required_providers {{\n    dr = {{ source = \"drkit/dr\" }}\n  }}\n}}\n{}",
        policies(n).replace("resource \"dr_policy\"", "resource \"dr_wide\"")
    )
}

/// The do-nothing plugin under the name `dev_overrides` wants, in a directory of its own.
fn null_plugin(bin_dir: &std::path::Path) -> Result<tempfile::TempDir> {
    let example = bin_dir.join("examples").join("bench_null_provider");
    if !example.is_file() {
        bail!(
            "{} is missing: build it first (bench/provider does)",
            example.display()
        );
    }
    let dir = tempfile::tempdir()?;
    std::os::unix::fs::symlink(&example, dir.path().join("terraform-provider-dr"))?;
    Ok(dir)
}

fn builtins(n: usize) -> String {
    (0..n)
        .map(|i| format!("resource \"terraform_data\" \"d{i}\" {{\n  input = \"bench-{i}\"\n}}\n"))
        .collect()
}

/// The plugin behind a shell wrapper that appends its CPU time (`times`) to a file on exit:
/// the plugin's own share of a plan, apart from Terraform's.
struct PluginCpu {
    dir: tempfile::TempDir,
}

impl PluginCpu {
    fn wrap(provider: &std::path::Path) -> Result<PluginCpu> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let script = dir.path().join("terraform-provider-dr");
        std::fs::write(
            &script,
            format!(
                "#!/usr/bin/env bash\n\"{}\" \"$@\"\nrc=$?\ntimes >> \"{}\"\nexit $rc\n",
                provider.display(),
                dir.path().join("cpu.txt").display()
            ),
        )?;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))?;
        Ok(PluginCpu { dir })
    }

    fn binary(&self) -> std::path::PathBuf {
        self.dir.path().join("terraform-provider-dr")
    }

    /// CPU seconds of every plugin run since the last call: the children line of each
    /// `times` output (`0m0.038s 0m0.008s`), user plus system.
    fn take(&self) -> f64 {
        let file = self.dir.path().join("cpu.txt");
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let _ = std::fs::remove_file(&file);
        let secs = |t: &str| -> f64 {
            let (m, s) = t
                .trim_end_matches('s')
                .split_once('m')
                .unwrap_or(("0", "0"));
            m.parse::<f64>().unwrap_or(0.0) * 60.0 + s.parse::<f64>().unwrap_or(0.0)
        };
        text.lines()
            .skip(1)
            .step_by(2)
            .flat_map(|l| l.split_whitespace().map(secs).collect::<Vec<_>>())
            .sum()
    }
}

/// CPU seconds of this process's waited-for children (Terraform and its plugins), from
/// /proc/self/stat (clock ticks of 1/100 s).
fn children_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    // After the command name: cutime and cstime are fields 14 and 15 (0-based 13, 14).
    let tick = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (tick(13) + tick(14)) / 100.0
}

/// One timed configuration: wall time, CPU of Terraform and plugin together, and of the
/// plugin alone (when wrapped), each the median over the runs.
struct Timing {
    wall: f64,
    cpu: f64,
    plugin_cpu: f64,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn time_plan(
    tf: &Terraform,
    args: &[&str],
    runs: usize,
    plugin: Option<&PluginCpu>,
) -> Result<Timing> {
    let (mut walls, mut cpus, mut plugins) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..runs {
        if let Some(p) = plugin {
            p.take();
        }
        let cpu_before = children_cpu();
        let start = Instant::now();
        let out = tf.run(args)?;
        if !matches!(out.status.code(), Some(0) | Some(2)) {
            bail!("terraform {} failed:\n{out}", args.join(" "));
        }
        walls.push(start.elapsed().as_secs_f64());
        cpus.push(children_cpu() - cpu_before);
        plugins.push(plugin.map_or(0.0, PluginCpu::take));
    }
    Ok(Timing {
        wall: median(walls),
        cpu: median(cpus),
        plugin_cpu: median(plugins),
    })
}

/// One row: the four timings, dr_policy's ratio to the built-in, to the do-nothing
/// plugin and to the do-nothing plugin with its schema, the wall overhead and the plugin's
/// own CPU per resource, and how busy the CPU was (1.0 per core in use: no stall).
fn row(
    n: usize,
    par: usize,
    dr: &Timing,
    null: &Timing,
    wide: &Timing,
    builtin: &Timing,
    what: &str,
) {
    println!(
        "{n:>5} {par:>4} {:>10.3} {:>9.3} {:>8.3} {:>15.3} {:>6.2} {:>7.2} {:>7.2} {:>11.2} {:>13.2} {:>8.2}   {what}",
        dr.wall,
        null.wall,
        wide.wall,
        builtin.wall,
        dr.wall / builtin.wall,
        dr.wall / null.wall,
        dr.wall / wide.wall,
        (dr.wall - builtin.wall) * 1000.0 / n as f64,
        dr.plugin_cpu * 1000.0 / n as f64,
        dr.cpu / dr.wall,
    );
}

/// What dr_policy is timed against in each row.
struct Baselines<'a> {
    null: &'a Terraform,
    wide: &'a Terraform,
    builtin: &'a Terraform,
}

/// One row per parallelism: `terraform plan` with `refresh` (`-refresh=false` or
/// `-refresh-only`) of dr_policy and of each baseline, `runs` times at size `n`.
fn compare(
    dr: &Terraform,
    plugin: &PluginCpu,
    b: &Baselines<'_>,
    (n, runs): (usize, usize),
    refresh: &str,
    what: &str,
) -> Result<()> {
    for par in [1, 10] {
        let p = format!("-parallelism={par}");
        let args = ["plan", refresh, "-input=false", "-lock=false", p.as_str()];
        let t_dr = time_plan(dr, &args, runs, Some(plugin))?;
        let t_n = time_plan(b.null, &args, runs, None)?;
        let t_w = time_plan(b.wide, &args, runs, None)?;
        let t_b = time_plan(b.builtin, &args, runs, None)?;
        row(n, par, &t_dr, &t_n, &t_w, &t_b, what);
    }
    Ok(())
}

/// The calls moto served since the first `before`, as `GET ?versioning x2, PUT ?tagging`
/// (bucket names left out), and how many.
fn calls_since(moto: &Moto, before: usize) -> (usize, String) {
    let requests = moto.requests();
    let new = requests.get(before..).unwrap_or_default();
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for r in new {
        let (method, path) = r.split_once(' ').unwrap_or((r.as_str(), ""));
        let kind = match path.split_once('?') {
            Some((_, query)) => format!("{method} ?{query}"),
            None => method.to_string(),
        };
        match kinds.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((kind, 1)),
        }
    }
    let list = kinds
        .iter()
        .map(|(k, n)| {
            if *n > 1 {
                format!("{k} x{n}")
            } else {
                k.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ");
    (new.len(), list)
}

/// N source buckets, and their versioned replication destinations in the DR region.
async fn seed_buckets(moto: &Moto, n: usize) -> Result<()> {
    use aws_sdk_s3::types::{
        BucketLocationConstraint, BucketVersioningStatus, CreateBucketConfiguration,
        VersioningConfiguration,
    };
    let s3 = moto.s3("us-east-1").await;
    let dr = moto.s3("us-west-2").await;
    for i in 0..n {
        s3.create_bucket()
            .bucket(format!("bench-{i}"))
            .send()
            .await?;
        let dest = format!("bench-{i}-dr");
        dr.create_bucket()
            .bucket(&dest)
            .create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from("us-west-2"))
                    .build(),
            )
            .send()
            .await?;
        dr.put_bucket_versioning()
            .bucket(&dest)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await?;
    }
    Ok(())
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let mut sizes = vec![10usize, 100, 500];
    let mut runs = 3usize;
    let mut latency_ms: Option<u64> = None;
    let mut startup = false;
    let mut unreachable_cloudwatch = false;
    let mut trace: Option<std::path::PathBuf> = None;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--sizes" => {
                sizes = it
                    .next()
                    .context("--sizes N,N")?
                    .split(',')
                    .map(|s| s.parse().context("--sizes takes numbers"))
                    .collect::<Result<_>>()?
            }
            "--runs" => runs = it.next().context("--runs N")?.parse()?,
            "--latency" => latency_ms = Some(it.next().context("--latency MS")?.parse()?),
            "--startup" => startup = true,
            "--unreachable-cloudwatch" => unreachable_cloudwatch = true,
            "--trace" => trace = Some(it.next().context("--trace DIR")?.into()),
            "--smoke" => {
                sizes = vec![10];
                runs = 1;
            }
            other => bail!(
                "unknown argument {other}: use --sizes 10,100 --runs 3 --smoke --latency 30 [--trace DIR] --startup --unreachable-cloudwatch"
            ),
        }
    }
    let provider = std::env::current_exe()?
        .parent()
        .context("no binary dir")?
        .join("terraform-provider-dr");
    if !provider.is_file() {
        bail!(
            "{} is missing: build it first (bench/provider does)",
            provider.display()
        );
    }
    if unreachable_cloudwatch {
        return unreachable::run(&provider, runs).await;
    }
    if startup {
        let null_dir = null_plugin(provider.parent().context("no binary dir")?)?;
        return startup::run(
            &provider,
            &null_dir.path().join("terraform-provider-dr"),
            runs.max(15),
        );
    }
    if let Some(ms) = latency_ms {
        let null_dir = null_plugin(provider.parent().context("no binary dir")?)?;
        let sizes = if args.iter().any(|a| a == "--sizes") {
            sizes
        } else {
            vec![1, 10, 100]
        };
        return latency::run(
            &provider,
            &null_dir.path().join("terraform-provider-dr"),
            &sizes,
            runs,
            ms,
            trace.as_deref(),
        )
        .await;
    }
    println!(
        "median of {runs} runs; seconds; dr_null = a plugin resource that does nothing; dr_wide = \
         one that does nothing with dr_policy's schema and configuration; ratio = dr_policy / \
         terraform_data; to null = dr_policy / dr_null; to wide = dr_policy / dr_wide; overhead = dr_policy's \
         wall-time difference to terraform_data per resource; plugin CPU = the dr plugin's own \
         CPU per resource; busy = CPU of terraform and plugin / wall (1.00 = one core always \
         busy: no stall)"
    );
    println!(
        "{:>5} {:>4} {:>10} {:>9} {:>8} {:>15} {:>6} {:>7} {:>7} {:>11} {:>13} {:>8}   plan",
        "N",
        "par",
        "dr_policy",
        "dr_null",
        "dr_wide",
        "terraform_data",
        "ratio",
        "to null",
        "to wide",
        "overhead ms",
        "plugin CPU ms",
        "busy"
    );
    let null_dir = null_plugin(provider.parent().context("no binary dir")?)?;
    let null_binary = null_dir.path().join("terraform-provider-dr");
    let plugin = PluginCpu::wrap(&provider)?;
    for &n in &sizes {
        let moto = Moto::start()?;
        seed_buckets(&moto, n).await?;
        let mut dr = Terraform::new(plugin.binary())?;
        dr.envs(moto.env());
        dr.write(
            "main.tf",
            &format!("{}\n{}", provider_block(&moto), policies(n)),
        )?;
        let builtin = Terraform::new(&provider)?;
        builtin.write("main.tf", &builtins(n))?;
        let null = Terraform::new(&null_binary)?;
        null.write("main.tf", &nulls(n))?;
        let wide = Terraform::new(&null_binary)?;
        wide.write("main.tf", &wides(n))?;
        let baselines = Baselines {
            null: &null,
            wide: &wide,
            builtin: &builtin,
        };
        compare(
            &dr,
            &plugin,
            &baselines,
            (n, runs),
            "-refresh=false",
            "new configuration",
        )?;
        // Refresh-only plans need applied resources.
        dr.env("TF_CLI_ARGS_apply", "-parallelism=10");
        dr.apply()?;
        builtin.apply()?;
        null.apply()?;
        wide.apply()?;
        for (refresh, what) in [
            ("-refresh=false", "no-op after apply"),
            ("-refresh-only", "refresh-only (moto)"),
        ] {
            compare(&dr, &plugin, &baselines, (n, runs), refresh, what)?;
        }
    }

    // API calls of one policy: create, refresh (plan), no-op apply.
    let moto = Moto::start()?;
    seed_buckets(&moto, 1).await?;
    let mut tf = Terraform::new(&provider)?;
    tf.envs(moto.env());
    tf.write(
        "main.tf",
        &format!("{}\n{}", provider_block(&moto), policies(1)),
    )?;
    let mut phases = Vec::new();
    for (what, args) in [
        (
            "create (apply)",
            &["apply", "-auto-approve", "-input=false"][..],
        ),
        ("plan (refresh)", &["plan", "-input=false"][..]),
        (
            "no-op apply (refresh)",
            &["apply", "-auto-approve", "-input=false"][..],
        ),
        (
            "plan -refresh=false",
            &["plan", "-refresh=false", "-input=false"][..],
        ),
    ] {
        let before = moto.requests().len();
        tf.run_ok(args)?;
        phases.push((what, calls_since(&moto, before)));
    }
    println!("\nAWS API calls of one dr_policy (one bucket with versioning, replication and retention), from moto's request log:");
    for (what, (n, list)) in phases {
        println!("  {what:<24} {n:>3}   {list}");
    }
    Ok(())
}

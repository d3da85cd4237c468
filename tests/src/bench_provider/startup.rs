//! `--startup`: Terraform starts the plugin several times per command (schema, validate,
//! plan, apply), so its start-up is paid each time. Measured here from spawning the binary
//! as Terraform does (the go-plugin handshake variables) until it prints the handshake
//! line, which it does once its gRPC server listens: the first RPC is answered from then
//! on. Against the do-nothing plugin of the same tf-provider stack.
//!
//! Terraform runs plugins with AutoMTLS: it passes a client certificate in
//! `PLUGIN_CLIENT_CERT`, and the plugin makes a key pair and a server certificate before it
//! can print the handshake (which carries that certificate). So does this measurement, with
//! a client certificate `openssl` makes once.
//!
//! Besides the wall time, the CPU time the plugin's threads have used when the handshake
//! arrives (Linux's per-thread schedstat): other builds on a shared machine stretch the
//! wall time, the CPU time much less.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::median;

/// A self-signed client certificate (PEM), as Terraform's go-plugin client makes one per
/// plugin it starts.
fn client_certificate() -> Result<String> {
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/O=HashiCorp/CN=localhost",
            "-keyout",
            "/dev/null",
        ])
        .output()
        .context("running openssl (scripts/setup installs it) for the client certificate")?;
    if !out.status.success() {
        bail!(
            "openssl req failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    String::from_utf8(out.stdout).context("openssl printed no PEM")
}

/// CPU milliseconds all threads of a running process have used so far; `None` where
/// `/proc/PID/task/*/schedstat` is not there (not Linux, or schedstats off).
fn cpu_ms(pid: u32) -> Option<f64> {
    let mut ns = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).ok()? {
        let stat = std::fs::read_to_string(task.ok()?.path().join("schedstat")).ok()?;
        ns += stat.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(ns as f64 / 1e6)
}

/// One start: wall milliseconds from spawn to the handshake line, and the CPU milliseconds
/// used by then; started with the environment Terraform gives a plugin.
fn start_once(binary: &std::path::Path, client_cert: &str) -> Result<(f64, Option<f64>)> {
    let start = Instant::now();
    let mut child = Command::new(binary)
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_CLIENT_CERT", client_cert)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().context("no stdout")?).read_line(&mut line)?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let cpu = cpu_ms(child.id());
    let _ = child.kill();
    let _ = child.wait();
    if !line.starts_with("1|6|") {
        bail!("{}: no handshake, got {line:?}", binary.display());
    }
    Ok((ms, cpu))
}

pub(crate) fn run(
    provider: &std::path::Path,
    null_binary: &std::path::Path,
    runs: usize,
) -> Result<()> {
    let cert = client_certificate()?;
    // Warm the page cache for both before timing.
    start_once(provider, &cert)?;
    start_once(null_binary, &cert)?;
    // Alternated, so that load from elsewhere falls on both alike.
    let (mut dr, mut null) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        dr.push(start_once(provider, &cert)?);
        null.push(start_once(null_binary, &cert)?);
    }
    let wall = |v: &[(f64, Option<f64>)]| median(v.iter().map(|s| s.0).collect());
    let (dr_ms, null_ms) = (wall(&dr), wall(&null));
    println!(
        "plugin start-up, spawn to handshake (gRPC server listening), median of {runs}: \
         terraform-provider-dr {dr_ms:.2} ms, do-nothing plugin {null_ms:.2} ms, ratio {:.2}",
        dr_ms / null_ms
    );
    let cpu = |v: &[(f64, Option<f64>)]| -> Option<f64> {
        Some(median(v.iter().map(|s| s.1).collect::<Option<Vec<f64>>>()?))
    };
    if let (Some(dr_cpu), Some(null_cpu)) = (cpu(&dr), cpu(&null)) {
        println!(
            "CPU time used by the handshake (all threads), median of {runs}: \
             terraform-provider-dr {dr_cpu:.2} ms, do-nothing plugin {null_cpu:.2} ms, ratio {:.2}",
            dr_cpu / null_cpu
        );
    }
    Ok(())
}

//! `--startup`: Terraform starts the plugin several times per command (schema, validate,
//! plan, apply), so its start-up is paid each time. Measured here from spawning the binary
//! as Terraform does (the go-plugin handshake variables) until it prints the handshake
//! line, which it does once its gRPC server listens: the first RPC is answered from then
//! on. Against the do-nothing plugin of the same tf-provider stack.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::Instant;

use anyhow::{bail, Context, Result};

use super::median;

/// Milliseconds from spawn to the handshake line.
fn start_once(binary: &std::path::Path) -> Result<f64> {
    let start = Instant::now();
    let mut child = Command::new(binary)
        .env(
            "TF_PLUGIN_MAGIC_COOKIE",
            "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
        )
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
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
    let _ = child.kill();
    let _ = child.wait();
    if !line.starts_with("1|6|") {
        bail!("{}: no handshake, got {line:?}", binary.display());
    }
    Ok(ms)
}

pub(crate) fn run(
    provider: &std::path::Path,
    null_binary: &std::path::Path,
    runs: usize,
) -> Result<()> {
    // Warm the page cache for both before timing.
    start_once(provider)?;
    start_once(null_binary)?;
    let (mut dr, mut null) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        dr.push(start_once(provider)?);
        null.push(start_once(null_binary)?);
    }
    let (dr, null) = (median(dr), median(null));
    println!(
        "plugin start-up, spawn to handshake (gRPC server listening), median of {runs}: \
         terraform-provider-dr {dr:.1} ms, do-nothing plugin {null:.1} ms, ratio {:.2}",
        dr / null
    );
    Ok(())
}

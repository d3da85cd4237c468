//! What the drill benchmarks share: AWS clients at moto, medians, checked commands.

use anyhow::{bail, Result};
use drkit_drill::Clients;

/// Every region's clients are moto's.
pub struct MotoClients {
    pub s3: aws_sdk_s3::Client,
    pub rds: aws_sdk_rds::Client,
}

impl Clients for MotoClients {
    fn rds(&self, _region: &str) -> aws_sdk_rds::Client {
        self.rds.clone()
    }
    fn s3(&self, _region: &str) -> aws_sdk_s3::Client {
        self.s3.clone()
    }
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// `out` of a command that must have succeeded.
pub fn check(out: std::process::Output, what: &str) -> Result<()> {
    if !out.status.success() {
        bail!("{what} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

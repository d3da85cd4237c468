//! A moto server standing in for AWS, on a free loopback port, killed when dropped.

use std::fs::File;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::tools;

/// Credentials moto accepts; they are fake and never leave the machine.
const ACCESS_KEY: &str = "testing";
const SECRET_KEY: &str = "testing";

/// A running moto server. Every test gets its own, so AWS state never leaks between tests.
pub struct Moto {
    child: Child,
    port: u16,
    endpoint: String,
    log: PathBuf,
    _dir: TempDir,
}

impl Moto {
    /// Starts `moto_server` on 127.0.0.1 and waits until it answers HTTP.
    pub fn start() -> Result<Moto> {
        let server = tools::moto_server()?;
        // A port can be taken between the probe and moto's bind: try a few times. A failed
        // attempt's guard drops at the end of its iteration, killing the process.
        let mut attempt = 1;
        loop {
            match Moto::spawn(&server) {
                Ok(moto) => return Ok(moto),
                Err(e) if attempt >= 3 => return Err(e),
                Err(_) => attempt += 1,
            }
        }
    }

    fn spawn(server: &std::path::Path) -> Result<Moto> {
        let dir = tempfile::Builder::new().prefix("drkit-moto-").tempdir()?;
        let log = dir.path().join("moto.log");
        let port = tools::free_port()?;
        let out = File::create(&log)?;
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {}", server.display()))?;
        let mut moto = Moto {
            child,
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            log,
            _dir: dir,
        };
        moto.wait_ready(Duration::from_secs(30))?;
        Ok(moto)
    }

    fn wait_ready(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "moto_server exited with {status} before answering:\n{}",
                    self.log_text()
                );
            }
            if http_get(self.port, "/moto-api/").is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "moto_server did not answer on port {} within {timeout:?}:\n{}",
                    self.port,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// `http://127.0.0.1:PORT`, for the provider's `endpoints` and the SDK.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The port moto listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The process id, so tests can check the server is gone after drop.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Environment for a subprocess (Terraform, the provider) that talks to this moto:
    /// fake credentials, no instance metadata lookups, no shared config surprises.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_CONFIG_FILE", "/dev/null"),
            ("AWS_SHARED_CREDENTIALS_FILE", "/dev/null"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .chain([(
            "DRKIT_TEST_MOTO_ENDPOINT".to_string(),
            self.endpoint.clone(),
        )])
        .collect()
    }

    /// CPU seconds (user and system) the server has used so far, from /proc: what moto
    /// itself costs per request, apart from its clients. moto is one Python process (one
    /// interpreter lock), so this is also about how long it was busy.
    pub fn cpu_seconds(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))
            .context("reading moto's /proc stat")?;
        // After the command name: utime and stime are fields 14 and 15 (0-based 11, 12
        // after the ')').
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().collect())
            .unwrap_or_default();
        let ticks = |i: usize| -> Result<f64> {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .context("malformed /proc stat of moto")
        };
        // Clock ticks of 1/100 s (USER_HZ on Linux).
        Ok((ticks(11)? + ticks(12)?) / 100.0)
    }

    /// Everything moto logged, one line per request.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The requests moto served, in order, as `METHOD /path?query`: the way to count AWS
    /// calls. moto colours the lines of 4xx and 204 answers, so a plain substring match
    /// on its log misses them; the colour codes are removed first.
    pub fn requests(&self) -> Vec<String> {
        self.log_text().lines().filter_map(request_of).collect()
    }

    /// An SDK configuration for `region` against this moto.
    pub async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new(region.to_string()))
            .endpoint_url(&self.endpoint)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                ACCESS_KEY,
                SECRET_KEY,
                None,
                None,
                "drkit-testkit",
            ))
            .http_client(http)
            .load()
            .await
    }

    /// An RDS client for `region` against this moto.
    pub async fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        aws_sdk_rds::Client::new(&self.sdk_config(region).await)
    }

    /// An S3 client for `region` against this moto (path-style addressing).
    pub async fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let config = aws_sdk_s3::config::Builder::from(&self.sdk_config(region).await)
            .force_path_style(true)
            .build();
        aws_sdk_s3::Client::from_conf(config)
    }

    /// The bytes of `s3://bucket/key` (its current version).
    pub async fn object(&self, region: &str, bucket: &str, key: &str) -> Result<Vec<u8>> {
        let out = self
            .s3(region)
            .await
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("GetObject s3://{bucket}/{key}: {e:?}"))?;
        Ok(out.body.collect().await?.into_bytes().to_vec())
    }

    /// A KMS client for `region` against this moto.
    pub async fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk_config(region).await)
    }

    /// A bucket with S3 Object Lock enabled (and so versioning), as evidence needs.
    pub async fn object_lock_bucket(&self, region: &str, bucket: &str) -> Result<()> {
        let mut req = self
            .s3(region)
            .await
            .create_bucket()
            .bucket(bucket)
            .object_lock_enabled_for_bucket(true);
        if region != "us-east-1" {
            req = req.create_bucket_configuration(
                aws_sdk_s3::types::CreateBucketConfiguration::builder()
                    .location_constraint(region.into())
                    .build(),
            );
        }
        req.send()
            .await
            .map_err(|e| anyhow::anyhow!("CreateBucket {bucket}: {e:?}"))?;
        Ok(())
    }

    /// An asymmetric SIGN_VERIFY key of `spec` (`ECC_NIST_P256`, `RSA_2048`, ...) in
    /// `region`; its ARN.
    pub async fn signing_key(&self, region: &str, spec: &str) -> Result<String> {
        let out = self
            .kms(region)
            .await
            .create_key()
            .key_usage(aws_sdk_kms::types::KeyUsageType::SignVerify)
            .key_spec(spec.into())
            .send()
            .await
            .map_err(|e| anyhow::anyhow!("CreateKey {spec}: {e:?}"))?;
        out.key_metadata()
            .and_then(|m| m.arn())
            .map(str::to_string)
            .context("CreateKey returned no ARN")
    }

    /// A bucket's versioning status (`Enabled`, `Suspended`), `None` when never enabled.
    ///
    /// moto 5 names the response root `GetBucketVersioningResponse`, which the SDK's strict
    /// XML decoder rejects, so the status is read from the raw body in that one case.
    pub async fn versioning_status(&self, region: &str, bucket: &str) -> Result<Option<String>> {
        match self
            .s3(region)
            .await
            .get_bucket_versioning()
            .bucket(bucket)
            .send()
            .await
        {
            Ok(v) => Ok(v.status().map(|s| s.as_str().to_string())),
            Err(aws_sdk_s3::error::SdkError::ServiceError(ctx))
                if ctx.raw().body().bytes().is_some_and(|b| {
                    String::from_utf8_lossy(b).contains("<GetBucketVersioningResponse")
                }) =>
            {
                let body = String::from_utf8_lossy(ctx.raw().body().bytes().unwrap_or_default());
                Ok(body
                    .split_once("<Status>")
                    .and_then(|(_, rest)| rest.split_once("</Status>"))
                    .map(|(status, _)| status.to_string()))
            }
            Err(e) => Err(anyhow::anyhow!("GetBucketVersioning {bucket}: {e:?}")),
        }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP GET, enough to see that the server answers.
fn http_get(port: u16, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(2)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    if !response.starts_with("HTTP/1.") {
        bail!("not an HTTP answer");
    }
    Ok(response)
}

/// `GET /b/?versioning` from a moto access-log line (`... "GET /b/?versioning HTTP/1.1" 200 -`).
fn request_of(line: &str) -> Option<String> {
    let mut plain = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // ESC [ digits ; ... m
            for c in chars.by_ref() {
                if c == 'm' {
                    break;
                }
            }
        } else {
            plain.push(c);
        }
    }
    let quoted = plain.split('"').nth(1)?;
    let request = quoted.strip_suffix(" HTTP/1.1")?;
    let method = request.split(' ').next()?;
    matches!(method, "GET" | "PUT" | "POST" | "DELETE" | "HEAD").then(|| request.to_string())
}

#[cfg(test)]
mod tests {
    use super::request_of;

    #[test]
    fn coloured_and_plain_log_lines_are_requests() {
        let plain = r#"127.0.0.1 - - [01/Dec/2026 12:39:54] "GET /b/?versioning HTTP/1.1" 200 -"#;
        let coloured =
            "127.0.0.1 - - [01/Dec/2026 12:39:54] \"\u{1b}[33mGET /b/?tagging HTTP/1.1\u{1b}[0m\" 404 -";
        assert_eq!(request_of(plain).as_deref(), Some("GET /b/?versioning"));
        assert_eq!(request_of(coloured).as_deref(), Some("GET /b/?tagging"));
        assert_eq!(request_of(" * Running on http://127.0.0.1:5000"), None);
    }
}

//! A throwaway certificate authority and a server certificate signed by it, made by the
//! real `openssl` CLI, for the loopback HTTPS servers of the tests: clients trust the CA
//! through `SSL_CERT_FILE` as they would a private CA.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context, Result};

use crate::tools;

/// Writes `ca.pem`/`ca.key` and `server.pem`/`server.key` (for `localhost` and
/// `127.0.0.1`, valid two days) into `dir`. P-256 keys: quick to make, and accepted by
/// rustls, Go's TLS (Terraform) and Python's `ssl` alike.
pub(crate) fn make_certificates(dir: &Path) -> Result<()> {
    make_certificates_for(dir, "DNS:localhost, IP:127.0.0.1")
}

/// As [`make_certificates`], the server certificate for the names in `subject_alt_names`
/// (`DNS:localhost`: a client connecting to `127.0.0.1` then sees a certificate for
/// another host).
pub fn make_certificates_for(dir: &Path, subject_alt_names: &str) -> Result<()> {
    let openssl = tools::find_on_path("openssl")
        .context("openssl not found on PATH: scripts/setup installs it (Debian's openssl)")?;
    std::fs::write(
        dir.join("server.ext"),
        format!(
            "subjectAltName = {subject_alt_names}\nbasicConstraints = CA:FALSE\n\
             keyUsage = digitalSignature\nextendedKeyUsage = serverAuth\n"
        ),
    )?;
    let ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    let steps = [
        format!(
            "req -x509 {ec} -days 2 -subj /CN=drkit-test-CA -keyout ca.key -out ca.pem \
             -addext basicConstraints=critical,CA:TRUE \
             -addext keyUsage=critical,keyCertSign,cRLSign"
        ),
        format!("req {ec} -subj /CN=localhost -keyout server.key -out server.csr"),
        "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
         -extfile server.ext -out server.pem"
            .to_string(),
    ];
    for step in &steps {
        let args: Vec<&str> = step.split_whitespace().collect();
        let out = Command::new(&openssl)
            .args(&args)
            .current_dir(dir)
            .output()
            .context("running openssl")?;
        if !out.status.success() {
            bail!(
                "openssl {step} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    Ok(())
}

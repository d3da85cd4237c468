//! A static HTTPS file server on a free loopback port, with a throwaway certificate
//! authority made by the real `openssl`: enough to serve a directory as a Terraform
//! `network_mirror`, which Terraform only reaches over HTTPS. Killed when dropped.

use std::fs::File;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use tempfile::TempDir;

use crate::tools;

/// Python's `http.server` wrapped in TLS: static files, one log line per request.
const SERVER: &str = r#"
import functools, http.server, ssl, sys
root, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=root)
server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain(cert, key)
server.socket = context.wrap_socket(server.socket, server_side=True)
server.serve_forever()
"#;

/// A running HTTPS server for a directory, trusted through [`StaticHttps::ca_file`].
pub struct StaticHttps {
    child: Child,
    port: u16,
    log: PathBuf,
    dir: TempDir,
}

impl StaticHttps {
    /// Serves `root` on `https://127.0.0.1:PORT/` with a certificate for `127.0.0.1` and
    /// `localhost` signed by a new test CA.
    pub fn start(root: &Path) -> Result<StaticHttps> {
        let dir = tempfile::Builder::new().prefix("drkit-https-").tempdir()?;
        crate::test_ca::make_certificates(dir.path())?;
        let python = tools::python()?;
        let script = dir.path().join("serve.py");
        std::fs::write(&script, SERVER)?;
        let log = dir.path().join("server.log");
        let port = tools::free_port()?;
        let out = File::create(&log)?;
        let child = Command::new(&python)
            .arg(&script)
            .arg(root)
            .arg(port.to_string())
            .arg(dir.path().join("server.pem"))
            .arg(dir.path().join("server.key"))
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .with_context(|| format!("starting {}", python.display()))?;
        let mut server = StaticHttps {
            child,
            port,
            log,
            dir,
        };
        server.wait_listening(Duration::from_secs(20))?;
        Ok(server)
    }

    fn wait_listening(&mut self, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait()? {
                bail!(
                    "the HTTPS server exited with {status}:\n{}",
                    self.log_text()
                );
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                bail!(
                    "the HTTPS server did not listen on port {} within {timeout:?}:\n{}",
                    self.port,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `https://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}/", self.port)
    }

    /// The test CA's certificate (PEM): set `SSL_CERT_FILE` to it for Terraform.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The requests served, as `METHOD /path`, in order.
    pub fn requests(&self) -> Vec<String> {
        self.log_text()
            .lines()
            .filter_map(|line| {
                let request = line.split('"').nth(1)?;
                let request = request.strip_suffix(" HTTP/1.1")?;
                Some(request.to_string())
            })
            .collect()
    }

    /// Everything the server logged.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for StaticHttps {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

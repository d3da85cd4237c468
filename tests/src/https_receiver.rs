//! A local HTTPS webhook receiver (a stand-in for Slack) with its own certificate
//! authority, made by the real `openssl` CLI: clients trust it through `SSL_CERT_FILE`.
//!
//! It answers each request with the next status of a script (e.g. 429 with
//! `Retry-After: 1`, then 200) and records what it received, for tests to check the
//! payload and the retries.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use rustls::pki_types::pem::PemObject;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request line, e.g. `POST /services/T0/B0/X HTTP/1.1`.
    pub request_line: String,
    /// Headers, names lowercased.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: String,
    /// The status it was answered with.
    pub status: u16,
    /// When it arrived.
    pub at: std::time::Instant,
}

/// A running receiver; stops when dropped.
pub struct HttpsReceiver {
    port: u16,
    dir: tempfile::TempDir,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
}

impl HttpsReceiver {
    /// Starts on a free loopback port, answering the statuses of `script` in turn and 200
    /// after them. A 429 or 503 carries `Retry-After: 1`.
    pub fn start(script: &[u16]) -> Result<HttpsReceiver> {
        let dir = tempfile::Builder::new().prefix("drkit-https-").tempdir()?;
        crate::test_ca::make_certificates(dir.path())?;
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(dir.path().join("server.pem"))
            .context("reading server.pem")?
            .collect::<Result<Vec<_>, _>>()?;
        let key = rustls::pki_types::PrivateKeyDer::from_pem_file(dir.path().join("server.key"))
            .context("reading server.key")?;
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let port = listener.local_addr()?.port();
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script = Arc::new(Mutex::new(script.to_vec()));
        let (rec, halt) = (received.clone(), stop.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
                while !halt.load(Ordering::SeqCst) {
                    let accepted = tokio::time::timeout(
                        std::time::Duration::from_millis(200),
                        listener.accept(),
                    )
                    .await;
                    let Ok(Ok((tcp, _))) = accepted else { continue };
                    let (acceptor, rec, script) = (acceptor.clone(), rec.clone(), script.clone());
                    tokio::spawn(async move {
                        let Ok(mut tls) = acceptor.accept(tcp).await else {
                            return;
                        };
                        let Some((request_line, headers, body)) = read_request(&mut tls).await
                        else {
                            return;
                        };
                        let status = {
                            let mut s = script.lock().unwrap_or_else(|e| e.into_inner());
                            if s.is_empty() {
                                200
                            } else {
                                s.remove(0)
                            }
                        };
                        rec.lock().unwrap_or_else(|e| e.into_inner()).push(Received {
                            request_line,
                            headers,
                            body,
                            status,
                            at: std::time::Instant::now(),
                        });
                        let (reason, extra, text) = match status {
                            200 => ("OK", "", "ok"),
                            429 => ("Too Many Requests", "Retry-After: 1\r\n", "rate_limited"),
                            503 => ("Service Unavailable", "Retry-After: 1\r\n", "unavailable"),
                            _ => ("Error", "", "invalid_payload"),
                        };
                        let answer = format!(
                            "HTTP/1.1 {status} {reason}\r\n{extra}Content-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{text}",
                            text.len()
                        );
                        let _ = tls.write_all(answer.as_bytes()).await;
                        let _ = tls.shutdown().await;
                    });
                }
            });
        });
        Ok(HttpsReceiver {
            port,
            dir,
            received,
            stop,
        })
    }

    /// `https://localhost:PORT{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("https://localhost:{}{path}", self.port)
    }

    /// The CA certificate that signed the receiver's: point `SSL_CERT_FILE` at it.
    pub fn ca_file(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// What it received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for HttpsReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

async fn read_request(
    tls: &mut tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
) -> Option<(String, Vec<(String, String)>, String)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = tls.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_string();
        let mut lines = head.lines();
        let request_line = lines.next()?.to_string();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < end + 4 + len {
            let n = tls.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        let body = String::from_utf8_lossy(&buf[end + 4..end + 4 + len]).to_string();
        return Some((request_line, headers, body));
    }
}

//! A proxy in front of moto's RDS that makes `rds` drills verifiable with real SQL.
//!
//! moto restores instances on paper: the copy has an endpoint and no database behind it.
//! This proxy rewrites the `Endpoint` of every `drkit-drill-*` instance in
//! `DescribeDBInstances` answers to a local server seeded with the source's data (a
//! PostgreSQL for a PostgreSQL instance, a [`crate::MariaDb`] for a MySQL or MariaDB one:
//! the drill picks the protocol from the instance's engine, which moto reports), so a
//! drill's verification, `freshness_sql` and `command` checks run against real rows.
//!
//! It can also play the DR region's replicated automated backups, which moto does not
//! keep: `DescribeDBInstanceAutomatedBackups` in that region answers with one replicated
//! backup of the source, and a `RestoreDBInstanceToPointInTime` naming its ARN is
//! forwarded as a restore of a stand-in instance that the test created in that region.
//!
//! Query protocol only (form-encoded POSTs framed by `Content-Length`, what the SDK sends
//! to RDS); one upstream connection per request. Point only the provider's `rds` endpoint
//! here.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};

use crate::fault_proxy::{read_head, Head};

/// Replicated automated backups the proxy answers for in the DR region.
#[derive(Debug, Clone)]
pub struct ReplicatedBackup {
    /// The DR region.
    pub region: String,
    /// ARN of the source instance (in the primary region).
    pub source_arn: String,
    /// Identifier of the source instance.
    pub source_id: String,
    /// The replicated backup's ARN (`arn:aws:rds:<dr>:<account>:auto-backup:ab-…`).
    pub arn: String,
    /// An instance in the DR region whose restore stands in for a restore from the backup.
    pub standin_id: String,
    /// Start of the restore window (RFC 3339).
    pub earliest: String,
    /// End of the restore window (RFC 3339).
    pub latest: String,
}

struct Shared {
    upstream: u16,
    copy: (String, u16),
    replicated: Mutex<Option<ReplicatedBackup>>,
    seen: Mutex<Vec<String>>,
    stop: AtomicBool,
}

/// A running proxy; stops accepting when dropped.
pub struct RdsCopyProxy {
    port: u16,
    shared: Arc<Shared>,
}

impl RdsCopyProxy {
    /// Starts in front of moto (`upstream_port`); restored copies answer at `host:port`.
    pub fn start(upstream_port: u16, host: &str, port: u16) -> Result<RdsCopyProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
        let local = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            upstream: upstream_port,
            copy: (host.to_string(), port),
            replicated: Mutex::new(None),
            seen: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
        });
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if accepting.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let shared = accepting.clone();
                std::thread::spawn(move || {
                    let _ = serve(&shared, conn);
                });
            }
        });
        Ok(RdsCopyProxy {
            port: local,
            shared,
        })
    }

    /// `http://127.0.0.1:PORT`, for the provider's `endpoints { rds }`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Plays `backup` in its region from now on.
    pub fn replicate(&self, backup: ReplicatedBackup) {
        *self
            .shared
            .replicated
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(backup);
    }

    /// `region Action` of every request so far, e.g. `us-west-2 DescribeDBInstances`.
    pub fn seen(&self) -> Vec<String> {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

impl Drop for RdsCopyProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

struct Request {
    head: Head,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.head.header(name)
    }

    /// The region of the SigV4 credential scope.
    fn region(&self) -> String {
        self.header("authorization")
            .and_then(|a| a.split("Credential=").nth(1))
            .and_then(|c| c.split('/').nth(2))
            .unwrap_or("")
            .to_string()
    }

    fn form(&self, key: &str) -> Option<String> {
        String::from_utf8_lossy(&self.body)
            .split('&')
            .find_map(|kv| kv.strip_prefix(&format!("{key}=")).map(url_decode))
    }
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                        continue;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn read_request(r: &mut impl BufRead) -> Result<Option<Request>> {
    let Some(head) = read_head(r)? else {
        return Ok(None);
    };
    let mut req = Request {
        head,
        body: Vec::new(),
    };
    let len: usize = req
        .header("content-length")
        .map_or(Ok(0), str::parse)
        .context("content-length")?;
    req.body.resize(len, 0);
    r.read_exact(&mut req.body)?;
    Ok(Some(req))
}

fn serve(shared: &Shared, client: TcpStream) -> Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    while let Some(mut req) = read_request(&mut reader)? {
        let action = req.form("Action").unwrap_or_default();
        let region = req.region();
        shared
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(format!("{region} {action}"));
        let replicated = shared
            .replicated
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .filter(|b| b.region == region);
        let answer = match (action.as_str(), replicated) {
            ("DescribeDBInstanceAutomatedBackups", Some(b)) => ok(&automated_backups(&b)),
            ("RestoreDBInstanceToPointInTime", Some(b))
                if req.form("SourceDBInstanceAutomatedBackupsArn").as_deref() == Some(&b.arn) =>
            {
                let body = String::from_utf8_lossy(&req.body)
                    .split('&')
                    .filter(|kv| !kv.starts_with("SourceDBInstanceAutomatedBackupsArn="))
                    .chain([
                        format!("SourceDBInstanceIdentifier={}", url_encode(&b.standin_id))
                            .as_str(),
                    ])
                    .collect::<Vec<_>>()
                    .join("&");
                req.body = body.into_bytes();
                forward(shared, &req)?
            }
            ("DescribeDBInstances", _) => {
                let (status, head, body) = forward_parts(shared, &req)?;
                let body = rewrite_endpoints(&body, &shared.copy.0, shared.copy.1);
                respond(status, &head, &body)
            }
            _ => forward(shared, &req)?,
        };
        client.write_all(&answer)?;
        client.flush()?;
    }
    Ok(())
}

/// The endpoint of each `drkit-drill-*` instance replaced by `host:port`.
pub fn rewrite_endpoints(xml: &str, host: &str, port: u16) -> String {
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find("<DBInstance>") {
        let end = rest[start..]
            .find("</DBInstance>")
            .map_or(rest.len(), |e| start + e + "</DBInstance>".len());
        out.push_str(&rest[..start]);
        let instance = &rest[start..end];
        let is_copy = instance.contains("<DBInstanceIdentifier>drkit-drill-");
        match (
            is_copy,
            instance.find("<Endpoint>"),
            instance.find("</Endpoint>"),
        ) {
            (true, Some(a), Some(b)) if a < b => {
                out.push_str(&instance[..a]);
                out.push_str(&format!(
                    "<Endpoint><Address>{host}</Address><Port>{port}</Port></Endpoint>"
                ));
                out.push_str(&instance[b + "</Endpoint>".len()..]);
            }
            _ => out.push_str(instance),
        }
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn automated_backups(b: &ReplicatedBackup) -> String {
    format!(
        r#"<DescribeDBInstanceAutomatedBackupsResponse xmlns="http://rds.amazonaws.com/doc/2014-10-31/"><DescribeDBInstanceAutomatedBackupsResult><DBInstanceAutomatedBackups><DBInstanceAutomatedBackup><DBInstanceArn>{}</DBInstanceArn><DBInstanceIdentifier>{}</DBInstanceIdentifier><DBInstanceAutomatedBackupsArn>{}</DBInstanceAutomatedBackupsArn><Region>{}</Region><Status>replicating</Status><Engine>postgres</Engine><RestoreWindow><EarliestTime>{}</EarliestTime><LatestTime>{}</LatestTime></RestoreWindow><BackupRetentionPeriod>7</BackupRetentionPeriod></DBInstanceAutomatedBackup></DBInstanceAutomatedBackups></DescribeDBInstanceAutomatedBackupsResult><ResponseMetadata><RequestId>drkit-rds-copy-proxy</RequestId></ResponseMetadata></DescribeDBInstanceAutomatedBackupsResponse>"#,
        b.source_arn, b.source_id, b.arn, b.region, b.earliest, b.latest
    )
}

fn ok(body: &str) -> Vec<u8> {
    respond(200, &[("Content-Type".into(), "text/xml".into())], body)
}

fn respond(status: u16, headers: &[(String, String)], body: &str) -> Vec<u8> {
    let mut out = format!(
        "HTTP/1.1 {status} {}\r\n",
        if status == 200 { "OK" } else { "Error" }
    );
    for (k, v) in headers {
        let lower = k.to_ascii_lowercase();
        if !matches!(
            lower.as_str(),
            "content-length" | "transfer-encoding" | "connection" | "keep-alive"
        ) {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    out.into_bytes()
}

fn forward(shared: &Shared, req: &Request) -> Result<Vec<u8>> {
    let (status, head, body) = forward_parts(shared, req)?;
    Ok(respond(status, &head, &body))
}

/// An upstream answer: status, headers and body.
type Answer = (u16, Vec<(String, String)>, String);

/// Sends `req` to moto; returns its status, headers and body.
fn forward_parts(shared: &Shared, req: &Request) -> Result<Answer> {
    let mut upstream = TcpStream::connect(("127.0.0.1", shared.upstream))?;
    upstream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut out = format!("{}\r\n", req.head.start_line);
    for (k, v) in &req.head.headers {
        let lower = k.to_ascii_lowercase();
        if !matches!(
            lower.as_str(),
            "content-length" | "transfer-encoding" | "connection" | "expect"
        ) {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
    }
    out.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        req.body.len()
    ));
    upstream.write_all(out.as_bytes())?;
    upstream.write_all(&req.body)?;
    let mut raw = Vec::new();
    upstream.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("upstream answer without a head")?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(502);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.to_ascii_lowercase().contains("chunked")
    });
    if chunked {
        body = dechunk(&body);
    }
    Ok((status, headers, String::from_utf8_lossy(&body).into_owned()))
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(
            std::str::from_utf8(&data[..eol])
                .unwrap_or("0")
                .split(';')
                .next()
                .unwrap_or("0")
                .trim(),
            16,
        )
        .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = eol + 2;
        let end = (start + size).min(data.len());
        out.extend_from_slice(&data[start..end]);
        data = &data[(end + 2).min(data.len())..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_drills_copies_get_the_local_endpoint() {
        let xml = "<DBInstances><DBInstance><DBInstanceIdentifier>orders-db</DBInstanceIdentifier><Endpoint><Address>orders-db.aaa.rds.amazonaws.com</Address><Port>5432</Port></Endpoint></DBInstance><DBInstance><DBInstanceIdentifier>drkit-drill-1-2-3</DBInstanceIdentifier><Endpoint><Address>drkit-drill-1-2-3.aaa.rds.amazonaws.com</Address><Port>5432</Port><HostedZoneId>Z</HostedZoneId></Endpoint></DBInstance></DBInstances>";
        let out = rewrite_endpoints(xml, "127.0.0.1", 54321);
        assert!(out.contains("<Address>orders-db.aaa.rds.amazonaws.com</Address>"));
        assert!(out.contains(
            "<DBInstanceIdentifier>drkit-drill-1-2-3</DBInstanceIdentifier><Endpoint><Address>127.0.0.1</Address><Port>54321</Port></Endpoint></DBInstance>"
        ));
    }

    #[test]
    fn form_values_round_trip() {
        let arn = "arn:aws:rds:us-west-2:123456789012:auto-backup:ab-x";
        assert_eq!(url_decode(&url_encode(arn)), arn);
    }
}

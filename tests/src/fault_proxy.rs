//! A fault-injecting HTTP proxy between the provider and moto, on loopback.
//!
//! Real AWS throttles, answers 500, stalls and drops connections, sometimes after it has
//! already acted on the request. The proxy does each of these to a configured share of
//! requests so that tests can show the provider and drills retry and converge, and it can
//! hold the answer to one chosen request so that a test can kill Terraform at that exact
//! point of an apply.
//!
//! HTTP/1.1 only, one upstream connection per request (`Connection: close`), bodies framed
//! by `Content-Length` or `chunked`: what the AWS SDK and moto speak.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

/// What the proxy does to a request picked for a fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fault {
    /// Answers a throttling error without forwarding: RDS `Throttling` (400), S3 `SlowDown`
    /// (503).
    Throttle,
    /// Answers 500 without forwarding.
    ServerError,
    /// Forwards, then answers 500 instead of moto's answer: the call took effect and the
    /// client does not know it (a retried create then finds its own resource).
    ServerErrorAfterEffect,
    /// Waits [`FaultConfig::slow`] before forwarding.
    Slow,
    /// Resets the connection (TCP RST) without forwarding.
    Reset,
    /// Forwards, then resets the connection instead of answering.
    ResetAfterEffect,
    /// Forwards, sends the answer's head and half of its body, then resets: a download cut
    /// off midway. Not among [`Fault::ALL`] (an SDK does not retry a body it has handed
    /// over); inject it with [`FaultProxy::inject_once`].
    CutBody,
}

impl Fault {
    /// Every kind, in the order [`FaultConfig::all`] cycles through them.
    pub const ALL: [Fault; 6] = [
        Fault::Throttle,
        Fault::ServerError,
        Fault::ServerErrorAfterEffect,
        Fault::Slow,
        Fault::Reset,
        Fault::ResetAfterEffect,
    ];
}

/// Which requests get a fault, and which fault.
#[derive(Debug, Clone)]
pub struct FaultConfig {
    /// Share of requests that get a fault, 0.0 to 1.0.
    pub rate: f64,
    /// The kinds to inject, taken in turn, so every kind occurs once there are as many
    /// faults as kinds.
    pub kinds: Vec<Fault>,
    /// How long a [`Fault::Slow`] request waits.
    pub slow: Duration,
    /// Seed of the generator that picks the requests: the same seed and request order pick
    /// the same requests.
    pub seed: u64,
}

impl FaultConfig {
    /// No faults: a transparent proxy.
    pub fn none() -> FaultConfig {
        FaultConfig {
            rate: 0.0,
            kinds: Fault::ALL.to_vec(),
            slow: Duration::from_millis(500),
            seed: 1,
        }
    }

    /// Every kind of fault on `rate` of the requests.
    pub fn all(rate: f64, seed: u64) -> FaultConfig {
        FaultConfig {
            rate,
            seed,
            ..FaultConfig::none()
        }
    }
}

/// One request the proxy saw: what it was and what was done to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seen {
    /// `rds:Action` for the query protocol, `s3:METHOD /path?subresource` for S3.
    pub label: String,
    /// The fault injected, if any.
    pub fault: Option<Fault>,
    /// The request's `Range` header, if any (a resumed download).
    pub range: Option<String>,
}

/// A simulated network round trip: every answer is held back `base` plus or minus up to
/// `jitter` (uniformly), as if AWS were that far away. Off (zero) by default.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Latency {
    /// The round trip every request waits.
    pub base: Duration,
    /// Spread around `base`.
    pub jitter: Duration,
}

/// When a request was sent on and when its answer went back, for counting how many round
/// trips a client waited for one after another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timed {
    /// As in [`Seen::label`].
    pub label: String,
    /// Received from the client.
    pub start: Instant,
    /// Answer written back.
    pub end: Instant,
    /// How long the upstream server (moto) took to answer, from connecting to the last
    /// byte: its own service time, queueing included, apart from the simulated round trip.
    pub upstream: Duration,
}

struct LatencyState {
    latency: Latency,
    rng: u64,
    timings: Vec<Timed>,
}

/// The longest chain of requests of `timings` that each started after the previous one
/// answered: the round trips a client waited for one after another. (The greatest set of
/// pairwise sequential intervals: picked greedily by earliest end.)
pub fn sequential_round_trips(timings: &[Timed]) -> usize {
    let mut by_end: Vec<&Timed> = timings.iter().collect();
    by_end.sort_by_key(|t| t.end);
    let mut count = 0;
    let mut last_end: Option<Instant> = None;
    for t in by_end {
        if last_end.is_none_or(|e| t.start >= e) {
            count += 1;
            last_end = Some(t.end);
        }
    }
    count
}

struct Hold {
    /// Requests whose label contains this are held after their effect.
    pattern: Option<String>,
    /// The label of the request being held.
    holding: Option<String>,
    released: bool,
}

struct Shared {
    upstream: u16,
    config: Mutex<FaultConfig>,
    rng: Mutex<u64>,
    injected: Mutex<usize>,
    targeted: Mutex<Vec<(String, Fault)>>,
    log: Mutex<Vec<Seen>>,
    hold: Mutex<Hold>,
    hold_changed: Condvar,
    stop: AtomicBool,
    latency: Mutex<LatencyState>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A running proxy; stops accepting when dropped.
pub struct FaultProxy {
    port: u16,
    endpoint: String,
    shared: Arc<Shared>,
}

impl FaultProxy {
    /// Starts a proxy on a free loopback port in front of `upstream_port` (moto's).
    pub fn start(upstream_port: u16, config: FaultConfig) -> Result<FaultProxy> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding 127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let shared = Arc::new(Shared {
            upstream: upstream_port,
            rng: Mutex::new(config.seed),
            config: Mutex::new(config),
            injected: Mutex::new(0),
            targeted: Mutex::new(Vec::new()),
            log: Mutex::new(Vec::new()),
            hold: Mutex::new(Hold {
                pattern: None,
                holding: None,
                released: false,
            }),
            hold_changed: Condvar::new(),
            latency: Mutex::new(LatencyState {
                latency: Latency::default(),
                rng: 0x5EED,
                timings: Vec::new(),
            }),
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
        Ok(FaultProxy {
            port,
            endpoint: format!("http://127.0.0.1:{port}"),
            shared,
        })
    }

    /// `http://127.0.0.1:PORT`, for the provider's `endpoints`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Replaces the fault configuration (the generator keeps its position).
    pub fn set_config(&self, config: FaultConfig) {
        *lock(&self.shared.config) = config;
    }

    /// Every request seen so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        lock(&self.shared.log).clone()
    }

    /// How many of each fault were injected.
    pub fn fault_counts(&self) -> BTreeMap<Fault, usize> {
        let mut counts = BTreeMap::new();
        for seen in lock(&self.shared.log).iter() {
            if let Some(f) = seen.fault {
                *counts.entry(f).or_default() += 1;
            }
        }
        counts
    }

    /// The next request whose label contains `pattern` gets `fault`, whatever the rate.
    pub fn inject_once(&self, pattern: &str, fault: Fault) {
        lock(&self.shared.targeted).push((pattern.to_string(), fault));
    }

    /// From now on, the first request whose label contains `pattern` is forwarded (it takes
    /// effect) and then gets no answer until [`FaultProxy::release`]: the point at which a
    /// test interrupts the client.
    pub fn hold_after(&self, pattern: &str) {
        let mut hold = lock(&self.shared.hold);
        hold.pattern = Some(pattern.to_string());
        hold.holding = None;
        hold.released = false;
    }

    /// Waits until a request is held; returns its label.
    pub fn wait_held(&self, timeout: Duration) -> Result<String> {
        let deadline = Instant::now() + timeout;
        let mut hold = lock(&self.shared.hold);
        loop {
            if let Some(label) = &hold.holding {
                return Ok(label.clone());
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                bail!(
                    "no request matching {:?} reached the proxy within {timeout:?}; seen: {:?}",
                    hold.pattern,
                    self.seen().iter().map(|s| &s.label).collect::<Vec<_>>()
                );
            }
            hold = self
                .shared
                .hold_changed
                .wait_timeout(hold, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// From now on every answer waits one simulated round trip (see [`Latency`]).
    pub fn set_latency(&self, latency: Latency) {
        lock(&self.shared.latency).latency = latency;
    }

    /// The start and end of every request since the last call, and forgets them.
    pub fn take_timings(&self) -> Vec<Timed> {
        std::mem::take(&mut lock(&self.shared.latency).timings)
    }

    /// Lets the held request answer, and holds nothing more.
    pub fn release(&self) {
        let mut hold = lock(&self.shared.hold);
        hold.pattern = None;
        hold.released = true;
        self.shared.hold_changed.notify_all();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.release();
        // Wake the accept loop so that it sees the stop flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A parsed request or response head (also read by [`crate::rds_copy_proxy`]).
pub(crate) struct Head {
    pub(crate) start_line: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl Head {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|v| v.to_ascii_lowercase().contains("chunked"))
    }

    /// The head without the hop-by-hop headers the proxy reframes.
    fn write_without_framing(&self, out: &mut Vec<u8>, keep_length: bool) {
        out.extend_from_slice(self.start_line.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (k, v) in &self.headers {
            let k_lower = k.to_ascii_lowercase();
            let hop = matches!(
                k_lower.as_str(),
                "connection" | "keep-alive" | "transfer-encoding" | "expect"
            ) || (!keep_length && k_lower == "content-length");
            if !hop {
                out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
        }
    }
}

/// Reads an HTTP/1.1 message head; `None` when the peer closed between messages.
pub(crate) fn read_head(r: &mut impl BufRead) -> Result<Option<Head>> {
    let mut start_line = String::new();
    loop {
        if r.read_line(&mut start_line)? == 0 {
            return Ok(None);
        }
        // Tolerate stray blank lines between messages.
        if !start_line.trim().is_empty() {
            break;
        }
        start_line.clear();
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line)? == 0 {
            bail!("connection closed inside a message head");
        }
        let line = line.trim_end_matches(['\r', '\n']);
        if line.is_empty() {
            break;
        }
        let (k, v) = line.split_once(':').context("malformed header line")?;
        headers.push((k.trim().to_string(), v.trim().to_string()));
    }
    Ok(Some(Head {
        start_line: start_line.trim_end().to_string(),
        headers,
    }))
}

fn read_body(r: &mut impl BufRead, head: &Head) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    if head.is_chunked() {
        loop {
            let mut size_line = String::new();
            r.read_line(&mut size_line)?;
            let size =
                usize::from_str_radix(size_line.trim().split(';').next().unwrap_or("").trim(), 16)
                    .context("malformed chunk size")?;
            if size == 0 {
                // Trailers, up to the blank line.
                loop {
                    let mut line = String::new();
                    if r.read_line(&mut line)? == 0 || line.trim().is_empty() {
                        break;
                    }
                }
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            r.read_exact(&mut crlf)?;
        }
    }
    if let Some(len) = head.header("content-length") {
        let len: usize = len.parse().context("malformed content-length")?;
        body.resize(len, 0);
        r.read_exact(&mut body)?;
    }
    Ok(body)
}

/// `rds:Action` for the query protocol (form-encoded `Action=`), `cloudwatch:Action` when
/// the form names CloudWatch's API version, else `s3:METHOD target`.
fn label_of(head: &Head, body: &[u8]) -> String {
    let mut parts = head.start_line.split(' ');
    let method = parts.next().unwrap_or("");
    let target = parts.next().unwrap_or("");
    let form = String::from_utf8_lossy(body);
    match form
        .split('&')
        .find_map(|kv| kv.strip_prefix("Action="))
        .filter(|_| method == "POST")
    {
        Some(action) if form.split('&').any(|kv| kv == "Version=2010-08-01") => {
            format!("cloudwatch:{action}")
        }
        Some(action) => format!("rds:{action}"),
        None => format!("s3:{method} {target}"),
    }
}

fn next_unit(state: &mut u64) -> f64 {
    // splitmix64: small, seedable, good enough to pick requests.
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

fn pick_fault(shared: &Shared, label: &str) -> (Option<Fault>, Duration) {
    let config = lock(&shared.config).clone();
    let mut targeted = lock(&shared.targeted);
    if let Some(i) = targeted
        .iter()
        .position(|(p, _)| label.contains(p.as_str()))
    {
        return (Some(targeted.remove(i).1), config.slow);
    }
    drop(targeted);
    if config.kinds.is_empty() || next_unit(&mut lock(&shared.rng)) >= config.rate {
        return (None, config.slow);
    }
    let mut injected = lock(&shared.injected);
    let fault = config.kinds[*injected % config.kinds.len()];
    *injected += 1;
    (Some(fault), config.slow)
}

/// Serves one client connection, request after request (the SDK keeps connections alive).
fn serve(shared: &Shared, client: TcpStream) -> Result<()> {
    client.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut reader = BufReader::new(client.try_clone()?);
    let mut client = client;
    while let Some(head) = read_head(&mut reader)? {
        if head
            .header("expect")
            .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
        {
            client.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        }
        let body = read_body(&mut reader, &head)?;
        let started = Instant::now();
        let label = label_of(&head, &body);
        let is_head = head.start_line.starts_with("HEAD ");
        let (fault, slow) = pick_fault(shared, &label);
        let mut upstream = Duration::ZERO;
        lock(&shared.log).push(Seen {
            label: label.clone(),
            fault,
            range: head.header("range").map(str::to_string),
        });
        let answer = match fault {
            Some(Fault::Throttle) => error_response(&label, is_head, true),
            Some(Fault::ServerError) => error_response(&label, is_head, false),
            Some(Fault::Reset) => return reset(client),
            Some(Fault::Slow) => {
                std::thread::sleep(slow);
                forward(shared, &head, &body, is_head, &mut upstream)?
            }
            Some(Fault::ServerErrorAfterEffect) => {
                forward(shared, &head, &body, is_head, &mut upstream)?;
                error_response(&label, is_head, false)
            }
            Some(Fault::ResetAfterEffect) => {
                forward(shared, &head, &body, is_head, &mut upstream)?;
                return reset(client);
            }
            Some(Fault::CutBody) => {
                let answer = forward(shared, &head, &body, is_head, &mut upstream)?;
                let head_len = answer
                    .windows(4)
                    .position(|w| w == b"\r\n\r\n")
                    .map_or(answer.len(), |i| i + 4);
                client.write_all(&answer[..head_len + (answer.len() - head_len) / 2])?;
                client.flush()?;
                // Let the client read that half before the reset discards what it has not.
                std::thread::sleep(Duration::from_millis(200));
                return reset(client);
            }
            None => forward(shared, &head, &body, is_head, &mut upstream)?,
        };
        hold_if_chosen(shared, &label);
        round_trip(shared, label, started, upstream);
        client.write_all(&answer)?;
        client.flush()?;
    }
    Ok(())
}

/// Waits out the rest of the simulated round trip of a request received at `started`, and
/// records its timing.
fn round_trip(shared: &Shared, label: String, started: Instant, upstream: Duration) {
    let wait = {
        let mut state = lock(&shared.latency);
        let Latency { base, jitter } = state.latency;
        if base.is_zero() && jitter.is_zero() {
            None
        } else {
            let unit = next_unit(&mut state.rng) * 2.0 - 1.0;
            let rtt = base.as_secs_f64() + jitter.as_secs_f64() * unit;
            Some(Duration::from_secs_f64(rtt.max(0.0)))
        }
    };
    if let Some(rtt) = wait {
        let elapsed = started.elapsed();
        if rtt > elapsed {
            std::thread::sleep(rtt - elapsed);
        }
    }
    lock(&shared.latency).timings.push(Timed {
        label,
        start: started,
        end: Instant::now(),
        upstream,
    });
}

fn hold_if_chosen(shared: &Shared, label: &str) {
    let mut hold = lock(&shared.hold);
    let chosen = hold.holding.is_none()
        && !hold.released
        && hold.pattern.as_deref().is_some_and(|p| label.contains(p));
    if !chosen {
        return;
    }
    hold.holding = Some(label.to_string());
    shared.hold_changed.notify_all();
    while !hold.released && !shared.stop.load(Ordering::SeqCst) {
        hold = shared
            .hold_changed
            .wait(hold)
            .unwrap_or_else(|e| e.into_inner());
    }
}

/// Closes the connection with a TCP RST (linger 0), as a dropped load balancer does.
fn reset(client: TcpStream) -> Result<()> {
    socket2::SockRef::from(&client).set_linger(Some(Duration::ZERO))?;
    drop(client);
    Ok(())
}

/// Sends the request to moto on a fresh connection and returns the answer reframed for the
/// client (`Content-Length`, keep-alive); adds the time moto took to `took`.
fn forward(
    shared: &Shared,
    head: &Head,
    body: &[u8],
    is_head: bool,
    took: &mut Duration,
) -> Result<Vec<u8>> {
    let sent = Instant::now();
    let mut upstream = TcpStream::connect(("127.0.0.1", shared.upstream))
        .context("connecting to the upstream server")?;
    upstream.set_read_timeout(Some(Duration::from_secs(120)))?;
    let mut request = Vec::new();
    head.write_without_framing(&mut request, false);
    request.extend_from_slice(
        format!(
            "Content-Length: {}\r\nConnection: close\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    );
    request.extend_from_slice(body);
    upstream.write_all(&request)?;
    let mut reader = BufReader::new(upstream);
    let response = read_head(&mut reader)?.context("upstream closed without answering")?;
    let status: u16 = response
        .start_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let bodyless = is_head || status == 204 || status == 304 || (100..200).contains(&status);
    let payload = if bodyless {
        Vec::new()
    } else if response.is_chunked() || response.header("content-length").is_some() {
        read_body(&mut reader, &response)?
    } else {
        let mut rest = Vec::new();
        reader.read_to_end(&mut rest)?;
        rest
    };
    *took += sent.elapsed();
    let mut out = Vec::new();
    // A HEAD answer keeps its Content-Length: it describes the object, not this body.
    response.write_without_framing(&mut out, bodyless);
    if !bodyless {
        out.extend_from_slice(format!("Content-Length: {}\r\n", payload.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&payload);
    Ok(out)
}

/// The error AWS would send: the query protocol's `ErrorResponse` for RDS and CloudWatch,
/// S3's `Error`.
fn error_response(label: &str, is_head: bool, throttle: bool) -> Vec<u8> {
    let rds = label.starts_with("rds:") || label.starts_with("cloudwatch:");
    let (status, reason, code, message) = match (rds, throttle) {
        (true, true) => (400, "Bad Request", "Throttling", "Rate exceeded"),
        (false, true) => (
            503,
            "Slow Down",
            "SlowDown",
            "Please reduce your request rate.",
        ),
        (true, false) => (
            500,
            "Internal Server Error",
            "InternalFailure",
            "Internal failure",
        ),
        (false, false) => (
            500,
            "Internal Server Error",
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
    };
    let body = if rds {
        format!(
            "<ErrorResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\"><Error><Type>{}</Type><Code>{code}</Code><Message>{message} (drkit fault proxy)</Message></Error><RequestId>drkit-fault</RequestId></ErrorResponse>",
            if throttle { "Sender" } else { "Receiver" }
        )
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message} (drkit fault proxy)</Message><RequestId>drkit-fault</RequestId></Error>"
        )
    };
    let body = if is_head { String::new() } else { body };
    format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/xml\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_uniform_enough_and_repeatable() {
        let (mut a, mut b) = (7u64, 7u64);
        let xs: Vec<f64> = (0..10_000).map(|_| next_unit(&mut a)).collect();
        let ys: Vec<f64> = (0..10_000).map(|_| next_unit(&mut b)).collect();
        assert_eq!(xs, ys);
        let below = xs.iter().filter(|x| **x < 0.3).count();
        assert!((2_700..3_300).contains(&below), "{below}");
    }

    #[test]
    fn requests_are_labelled_by_service_and_action() {
        let rds = Head {
            start_line: "POST / HTTP/1.1".into(),
            headers: vec![],
        };
        assert_eq!(
            label_of(&rds, b"Action=ModifyDBInstance&Version=2014-10-31"),
            "rds:ModifyDBInstance"
        );
        let s3 = Head {
            start_line: "PUT /logs?versioning HTTP/1.1".into(),
            headers: vec![],
        };
        assert_eq!(label_of(&s3, b"<xml/>"), "s3:PUT /logs?versioning");
        assert_eq!(
            label_of(&rds, b"Action=GetMetricData&Version=2010-08-01"),
            "cloudwatch:GetMetricData"
        );
    }
}

#[cfg(test)]
mod latency_tests {
    use super::*;

    fn timed(start_ms: u64, end_ms: u64) -> Timed {
        let t0 = Instant::now();
        Timed {
            label: String::new(),
            start: t0 + Duration::from_millis(start_ms),
            end: t0 + Duration::from_millis(end_ms),
            upstream: Duration::ZERO,
        }
    }

    #[test]
    fn parallel_requests_count_as_one_round_trip_and_a_chain_as_its_length() {
        // Three at once, then one after them, then two at once.
        let t = [
            timed(0, 30),
            timed(1, 31),
            timed(2, 32),
            timed(33, 63),
            timed(64, 94),
            timed(65, 95),
        ];
        assert_eq!(sequential_round_trips(&t), 3);
        assert_eq!(sequential_round_trips(&[]), 0);
    }

    #[test]
    fn every_answer_waits_the_round_trip() {
        let upstream = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = upstream.local_addr().unwrap().port();
        std::thread::spawn(move || {
            for s in upstream.incoming().flatten() {
                let mut r = BufReader::new(s.try_clone().unwrap());
                let mut s = s;
                if let Ok(Some(head)) = read_head(&mut r) {
                    let _ = read_body(&mut r, &head);
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
                }
            }
        });
        let proxy = FaultProxy::start(port, FaultConfig::none()).unwrap();
        proxy.set_latency(Latency {
            base: Duration::from_millis(50),
            jitter: Duration::from_millis(10),
        });
        let start = Instant::now();
        let mut c = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
        c.write_all(b"GET /x HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n")
            .unwrap();
        let mut r = BufReader::new(c);
        let head = read_head(&mut r).unwrap().unwrap();
        assert!(head.start_line.contains("200"), "{}", head.start_line);
        assert!(
            start.elapsed() >= Duration::from_millis(40),
            "{:?}",
            start.elapsed()
        );
        let timings = proxy.take_timings();
        assert_eq!(timings.len(), 1);
        assert!(timings[0].end - timings[0].start >= Duration::from_millis(40));
        // The upstream answers at once: its share is apart from the simulated round trip.
        assert!(
            timings[0].upstream < Duration::from_millis(30),
            "{:?}",
            timings[0].upstream
        );
    }
}

//! Posting a drill's outcome to a chat webhook (a Slack incoming webhook, or any receiver
//! of the JSON report), over `https://` or `http://`.
//!
//! The client is hyper with rustls on ring, the stack the AWS SDK already builds, so the
//! webhook adds no TLS library. Trust: the system store plus `SSL_CERT_FILE` (a private CA
//! for an internal receiver). Each attempt has a timeout; 429 and 5xx answers and
//! connection failures are retried with exponential backoff, honouring `Retry-After`.
//! A post that fails in the end is the caller's note and warning, never a failed drill.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

use crate::DrillReport;

/// What the webhook receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WebhookFormat {
    /// A Slack incoming-webhook message: `text` (the notification line) and `blocks`.
    #[default]
    Slack,
    /// `{"text": <one line>, "report": <the JSON report>}` for other receivers.
    Json,
}

impl std::str::FromStr for WebhookFormat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "slack" => Ok(WebhookFormat::Slack),
            "json" => Ok(WebhookFormat::Json),
            other => Err(format!(
                "webhook_format = {other:?}: use \"slack\" (a Slack incoming-webhook message) or \"json\" (the whole report)"
            )),
        }
    }
}

/// Timeouts and retries of a post.
#[derive(Debug, Clone, Copy)]
pub struct WebhookPolicy {
    /// Limit of one attempt (connect, TLS, request and answer).
    pub attempt_timeout: Duration,
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// First wait between attempts; doubled each time.
    pub backoff: Duration,
    /// Longest wait between attempts, also for a `Retry-After` asking for more.
    pub max_wait: Duration,
}

impl Default for WebhookPolicy {
    fn default() -> Self {
        WebhookPolicy {
            attempt_timeout: Duration::from_secs(10),
            attempts: 4,
            backoff: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

/// A successful post: how many attempts it took.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Attempts made, the successful one included.
    pub attempts: u32,
}

/// Posts `report` to `url` in `format` with the default [`WebhookPolicy`].
pub async fn post_webhook(
    url: &str,
    report: &DrillReport,
    format: WebhookFormat,
) -> Result<Delivered, String> {
    post_with(url, report, format, WebhookPolicy::default()).await
}

/// Posts `report` to `url` in `format`; the error says what the receiver answered last.
pub async fn post_with(
    url: &str,
    report: &DrillReport,
    format: WebhookFormat,
    policy: WebhookPolicy,
) -> Result<Delivered, String> {
    let uri: hyper::Uri = url
        .parse()
        .map_err(|e| format!("webhook_url is not a URL: {e}"))?;
    if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none() {
        return Err("webhook_url must be an https:// or http:// URL with a host".into());
    }
    let body = match format {
        WebhookFormat::Slack => crate::slack::message(report),
        WebhookFormat::Json => {
            serde_json::json!({ "text": report.chat_text(), "report": report.to_json() })
        }
    }
    .to_string();
    let client = client()?;
    let shown = redacted(&uri);
    let mut wait = policy.backoff;
    let mut attempt = 1;
    loop {
        let request = hyper::Request::post(uri.clone())
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header(
                hyper::header::USER_AGENT,
                concat!("drkit-drill/", env!("CARGO_PKG_VERSION")),
            )
            .body(Full::new(Bytes::from(body.clone())))
            .map_err(|e| format!("webhook request: {e}"))?;
        let outcome = tokio::time::timeout(policy.attempt_timeout, async {
            let response = client.request(request).await.map_err(|e| {
                let mut msg = e.to_string();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    msg.push_str(": ");
                    msg.push_str(&s.to_string());
                    source = s.source();
                }
                Failure::retry(format!("cannot reach {shown}: {msg}"), None)
            })?;
            let status = response.status();
            let retry_after = response
                .headers()
                .get(hyper::header::RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(parse_retry_after);
            let text = response
                .into_body()
                .collect()
                .await
                .map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned())
                .unwrap_or_default();
            if status.is_success() {
                return Ok(());
            }
            let what = format!(
                "{shown} answered {status}{}",
                if text.trim().is_empty() {
                    String::new()
                } else {
                    format!(": {}", text.trim().chars().take(200).collect::<String>())
                }
            );
            if status.as_u16() == 429 || status.is_server_error() {
                Err(Failure::retry(what, retry_after))
            } else {
                Err(Failure {
                    message: what,
                    retry: false,
                    after: None,
                })
            }
        })
        .await
        .unwrap_or_else(|_| {
            Err(Failure::retry(
                format!(
                    "{shown}: no answer within {}s",
                    policy.attempt_timeout.as_secs()
                ),
                None,
            ))
        });
        match outcome {
            Ok(()) => return Ok(Delivered { attempts: attempt }),
            Err(f) if f.retry && attempt < policy.attempts => {
                let pause = f.after.unwrap_or(wait).min(policy.max_wait);
                tracing::warn!(attempt, error = %f.message, wait = ?pause, "webhook post failed; retrying");
                tokio::time::sleep(pause).await;
                wait = (wait * 2).min(policy.max_wait);
                attempt += 1;
            }
            Err(f) => {
                return Err(format!(
                    "{} (after {attempt} attempt{})",
                    f.message,
                    if attempt == 1 { "" } else { "s" }
                ))
            }
        }
    }
}

struct Failure {
    message: String,
    retry: bool,
    after: Option<Duration>,
}

impl Failure {
    fn retry(message: String, after: Option<Duration>) -> Self {
        Failure {
            message,
            retry: true,
            after,
        }
    }
}

type HttpsClient = Client<
    hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>,
    Full<Bytes>,
>;

fn client() -> Result<HttpsClient, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup: {e}"))?
        .with_root_certificates(crate::tls::system_roots())
        .with_no_client_auth();
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new()).build(connector))
}

/// `Retry-After`: seconds, or an HTTP date.
fn parse_retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc2822).ok()?;
    let left = (at - time::OffsetDateTime::now_utc()).as_seconds_f64();
    Some(Duration::from_secs_f64(left.max(0.0)))
}

/// The URL without its path: Slack webhook paths are credentials.
fn redacted(uri: &hyper::Uri) -> String {
    format!(
        "{}://{}",
        uri.scheme_str().unwrap_or("https"),
        uri.authority().map_or("", |a| a.as_str())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO),
            "a date in the past means now"
        );
        assert_eq!(parse_retry_after("soon"), None);
    }

    #[test]
    fn the_secret_path_of_a_webhook_url_is_never_shown() {
        let uri: hyper::Uri = "https://hooks.slack.com/services/T0/B0/XXXX"
            .parse()
            .unwrap();
        assert_eq!(redacted(&uri), "https://hooks.slack.com");
    }

    #[test]
    fn formats_parse() {
        assert_eq!("slack".parse(), Ok(WebhookFormat::Slack));
        assert_eq!("json".parse(), Ok(WebhookFormat::Json));
        assert!("xml".parse::<WebhookFormat>().is_err());
    }
}

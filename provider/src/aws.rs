//! The AWS client cache: one SDK configuration per provider, one client per service and
//! region, built on first use and reused by every resource and data source.
//!
//! Why one place: credentials resolution (profile, SSO, process, IMDS) is slow, and HTTP
//! connection pools only help when clients are reused. The provider configures this once
//! in `configure`; resources ask for `rds(region)` / `s3(region)` / `cloudwatch(region)` as
//! they need them.
//!
//! Two sets of clients share that configuration: those of required calls (apply, and the
//! reads a plan cannot do without), retried `max_retries` times; and those of optional reads
//! ([`AwsClients::optional_reads`]: live figures, the runbook's exposure line, preflight),
//! where each call has `read_budget` in all and a connection that cannot be made is not
//! retried: a plan must not wait minutes for a figure it only reports.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// Default number of retries of one API call on throttling, 5xx and network errors; the
/// Terraform AWS provider uses the same default.
pub const DEFAULT_MAX_RETRIES: u32 = 25;

/// Default time one optional read may take, retries included.
pub const DEFAULT_READ_BUDGET: Duration = Duration::from_secs(10);

/// Connect timeout of optional reads (the SDK's own default), unless the budget is shorter.
const OPTIONAL_CONNECT_TIMEOUT: Duration = Duration::from_millis(3100);

/// Custom service endpoints, for LocalStack, moto or a proxy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Endpoints {
    /// RDS endpoint URL, e.g. `http://127.0.0.1:5000`.
    pub rds: Option<String>,
    /// S3 endpoint URL; path-style addressing is used when set.
    pub s3: Option<String>,
    /// CloudWatch endpoint URL (the metrics `dr_status` reads).
    pub cloudwatch: Option<String>,
    /// KMS endpoint URL (the keys the preflight describes, the key that signs drill
    /// evidence).
    pub kms: Option<String>,
    /// EC2 endpoint URL (the security groups a restore target's preflight describes).
    pub ec2: Option<String>,
}

/// What the `provider "dr"` block asks for, resolved into plain values.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsSettings {
    /// Primary region; `None` falls back to the AWS environment (`AWS_REGION`, profile).
    pub region: Option<String>,
    /// Default disaster-recovery region.
    pub dr_region: Option<String>,
    /// Shared-config profile name.
    pub profile: Option<String>,
    /// Custom endpoints.
    pub endpoints: Endpoints,
    /// Retries per API call; `None` means [`DEFAULT_MAX_RETRIES`].
    pub max_retries: Option<u32>,
    /// Time per optional read; `None` means [`DEFAULT_READ_BUDGET`].
    pub read_budget: Option<Duration>,
}

/// Why the AWS configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither the provider block nor the environment names a region.
    #[error(
        "no AWS region: set `region` in the provider \"dr\" block, or AWS_REGION / \
         AWS_DEFAULT_REGION, or a region in the selected AWS profile"
    )]
    NoRegion,
}

/// AWS SDK clients per region, shared by every resource of the provider.
///
/// Credentials come from the standard AWS chain (environment, shared config and
/// credentials files with `profile`, SSO, `credential_process`, container and instance
/// metadata); they are never written to Terraform state.
pub struct AwsClients {
    /// The SDK configuration, loaded on the first client: a plan that calls no AWS API
    /// (no-op, `-refresh=false`) never pays for it, and Terraform starts the plugin
    /// several times per command.
    /// Shared with the optional-read clients, so credentials are resolved once.
    base: Arc<tokio::sync::OnceCell<SdkConfig>>,
    /// What `base` is loaded from.
    settings: AwsSettings,
    primary_region: String,
    dr_region: Option<String>,
    endpoints: Endpoints,
    /// `Some` for the clients of optional reads: each call's time in all.
    budget: Option<Duration>,
    rds: Mutex<HashMap<String, aws_sdk_rds::Client>>,
    s3: Mutex<HashMap<String, aws_sdk_s3::Client>>,
    cloudwatch: Mutex<HashMap<String, aws_sdk_cloudwatch::Client>>,
    kms: Mutex<HashMap<String, aws_sdk_kms::Client>>,
    ec2: Mutex<HashMap<String, aws_sdk_ec2::Client>>,
    /// The optional-read clients, built on first use.
    optional: OnceLock<Box<AwsClients>>,
}

impl std::fmt::Debug for AwsClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsClients")
            .field("primary_region", &self.primary_region)
            .field("dr_region", &self.dr_region)
            .field("endpoints", &self.endpoints)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

/// Standard retry mode: exponential backoff with full jitter, retrying throttling errors,
/// 5xx responses and transient network failures, `max_retries` times after the first try.
pub fn retry_config(max_retries: u32) -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(max_retries.saturating_add(1))
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(20))
}

impl AwsClients {
    /// Credentials and region from the AWS environment, with the provider block's
    /// overrides. With `region` set, nothing is loaded until the first client is asked
    /// for; without, the environment is read now for the region. No network call is made
    /// here; credentials are resolved lazily.
    pub async fn load(settings: AwsSettings) -> Result<Self, ConfigError> {
        if let Some(region) = settings.region.clone().filter(|r| !r.is_empty()) {
            return Ok(AwsClients {
                primary_region: region,
                dr_region: settings.dr_region.clone(),
                endpoints: settings.endpoints.clone(),
                settings,
                ..AwsClients::empty(Arc::new(tokio::sync::OnceCell::new()))
            });
        }
        let base = load_config(&settings).await;
        let primary_region = base
            .region()
            .map(|r| r.to_string())
            .filter(|r| !r.is_empty())
            .ok_or(ConfigError::NoRegion)?;
        let mut clients = Self::from_parts(
            base,
            primary_region,
            settings.dr_region.clone(),
            settings.endpoints.clone(),
        );
        clients.settings = settings;
        Ok(clients)
    }

    /// The SDK configuration, loaded on first use.
    async fn base(&self) -> &SdkConfig {
        self.base.get_or_init(|| load_config(&self.settings)).await
    }
}

/// The SDK configuration of `settings`.
async fn load_config(settings: &AwsSettings) -> SdkConfig {
    {
        // hyper with rustls on the `ring` crypto provider: the gRPC server already compiles
        // ring, and aws-lc would double the build.
        let https = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(https)
            .retry_config(retry_config(
                settings.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
            ));
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        loader.load().await
    }
}

impl AwsClients {
    /// Builds the cache around an already loaded SDK configuration (tests use this).
    pub fn from_parts(
        base: SdkConfig,
        primary_region: String,
        dr_region: Option<String>,
        endpoints: Endpoints,
    ) -> Self {
        AwsClients {
            primary_region,
            dr_region,
            endpoints,
            ..AwsClients::empty(Arc::new(tokio::sync::OnceCell::new_with(Some(base))))
        }
    }

    /// No client built yet, over `base`.
    fn empty(base: Arc<tokio::sync::OnceCell<SdkConfig>>) -> Self {
        AwsClients {
            base,
            settings: AwsSettings::default(),
            primary_region: String::new(),
            dr_region: None,
            endpoints: Endpoints::default(),
            budget: None,
            rds: Mutex::new(HashMap::new()),
            s3: Mutex::new(HashMap::new()),
            cloudwatch: Mutex::new(HashMap::new()),
            kms: Mutex::new(HashMap::new()),
            ec2: Mutex::new(HashMap::new()),
            optional: OnceLock::new(),
        }
    }

    /// The clients of optional reads (live figures, the runbook's exposure line, preflight):
    /// each call has [`AwsClients::read_budget`] in all, retries included, and a connection
    /// that cannot be made (DNS, refused, unreachable) is not retried. Required calls keep
    /// these clients' siblings and `max_retries`.
    pub fn optional_reads(&self) -> &AwsClients {
        if self.budget.is_some() {
            return self;
        }
        self.optional.get_or_init(|| {
            Box::new(AwsClients {
                settings: self.settings.clone(),
                primary_region: self.primary_region.clone(),
                dr_region: self.dr_region.clone(),
                endpoints: self.endpoints.clone(),
                budget: Some(self.read_budget()),
                ..AwsClients::empty(self.base.clone())
            })
        })
    }

    /// The time each optional read may take (`read_budget`).
    pub fn read_budget(&self) -> Duration {
        self.budget
            .or(self.settings.read_budget)
            .unwrap_or(DEFAULT_READ_BUDGET)
    }

    /// Sets `read_budget` (tests and benches that build clients with [`Self::from_parts`]).
    pub fn with_read_budget(mut self, budget: Duration) -> Self {
        self.settings.read_budget = Some(budget);
        self
    }

    /// The primary region: where the instances and buckets a policy names live.
    pub fn primary_region(&self) -> &str {
        &self.primary_region
    }

    /// The provider's default DR region, if configured.
    pub fn dr_region(&self) -> Option<&str> {
        self.dr_region.as_deref()
    }

    /// The custom endpoints in use.
    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// The RDS client for `region`, built on first use.
    pub async fn rds(&self, region: &str) -> aws_sdk_rds::Client {
        let base = self.base().await;
        let mut cache = self.rds.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let mut conf = aws_sdk_rds::config::Builder::from(base)
                    .region(Region::new(region.to_string()));
                if let Some(url) = &self.endpoints.rds {
                    conf = conf.endpoint_url(url);
                }
                if let Some(budget) = self.budget {
                    conf = conf
                        .timeout_config(budget_timeouts(budget))
                        .retry_classifier(ConnectFailuresAreFinal);
                }
                aws_sdk_rds::Client::from_conf(conf.build())
            })
            .clone()
    }

    /// The S3 client for `region`, built on first use. Path-style addressing when a custom
    /// endpoint is set, since emulators rarely resolve `bucket.host` names.
    pub async fn s3(&self, region: &str) -> aws_sdk_s3::Client {
        let base = self.base().await;
        let mut cache = self.s3.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let mut conf =
                    aws_sdk_s3::config::Builder::from(base).region(Region::new(region.to_string()));
                if let Some(url) = &self.endpoints.s3 {
                    conf = conf.endpoint_url(url).force_path_style(true);
                }
                if let Some(budget) = self.budget {
                    conf = conf
                        .timeout_config(budget_timeouts(budget))
                        .retry_classifier(ConnectFailuresAreFinal);
                }
                aws_sdk_s3::Client::from_conf(conf.build())
            })
            .clone()
    }

    /// The CloudWatch client for `region`, built on first use (metrics live in the region
    /// of the resource that publishes them).
    pub async fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        let base = self.base().await;
        let mut cache = self.cloudwatch.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let mut conf = aws_sdk_cloudwatch::config::Builder::from(base)
                    .region(Region::new(region.to_string()));
                if let Some(url) = &self.endpoints.cloudwatch {
                    conf = conf.endpoint_url(url);
                }
                if let Some(budget) = self.budget {
                    conf = conf
                        .timeout_config(budget_timeouts(budget))
                        .retry_classifier(ConnectFailuresAreFinal);
                }
                aws_sdk_cloudwatch::Client::from_conf(conf.build())
            })
            .clone()
    }

    /// The KMS client for `region`, built on first use (a key lives in one region).
    pub async fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        let base = self.base().await;
        let mut cache = self.kms.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let mut conf = aws_sdk_kms::config::Builder::from(base)
                    .region(Region::new(region.to_string()));
                if let Some(url) = &self.endpoints.kms {
                    conf = conf.endpoint_url(url);
                }
                if let Some(budget) = self.budget {
                    conf = conf
                        .timeout_config(budget_timeouts(budget))
                        .retry_classifier(ConnectFailuresAreFinal);
                }
                aws_sdk_kms::Client::from_conf(conf.build())
            })
            .clone()
    }

    /// The EC2 client for `region`, built on first use (security groups live in one
    /// region's VPCs).
    pub async fn ec2(&self, region: &str) -> aws_sdk_ec2::Client {
        let base = self.base().await;
        let mut cache = self.ec2.lock().unwrap_or_else(|e| e.into_inner());
        cache
            .entry(region.to_string())
            .or_insert_with(|| {
                let mut conf = aws_sdk_ec2::config::Builder::from(base)
                    .region(Region::new(region.to_string()));
                if let Some(url) = &self.endpoints.ec2 {
                    conf = conf.endpoint_url(url);
                }
                if let Some(budget) = self.budget {
                    conf = conf
                        .timeout_config(budget_timeouts(budget))
                        .retry_classifier(ConnectFailuresAreFinal);
                }
                aws_sdk_ec2::Client::from_conf(conf.build())
            })
            .clone()
    }
}

/// Timeouts of an optional read: `budget` for the whole call, retries included.
fn budget_timeouts(budget: Duration) -> aws_smithy_types::timeout::TimeoutConfig {
    aws_smithy_types::timeout::TimeoutConfig::builder()
        .operation_timeout(budget)
        .connect_timeout(budget.min(OPTIONAL_CONNECT_TIMEOUT))
        .build()
}

/// Forbids retrying a call whose connection could not be made (DNS failure, refused,
/// unreachable, connect timeout): retrying an endpoint with no route only spends the
/// budget. A connection reset after it was made, throttling and 5xx stay retried.
#[derive(Debug)]
struct ConnectFailuresAreFinal;

impl aws_sdk_rds::config::retry::ClassifyRetry for ConnectFailuresAreFinal {
    fn classify_retry(
        &self,
        ctx: &aws_sdk_rds::config::interceptors::InterceptorContext,
    ) -> aws_sdk_rds::config::retry::RetryAction {
        use aws_sdk_rds::config::retry::RetryAction;
        let Some(Err(err)) = ctx.output_or_error() else {
            return RetryAction::NoActionIndicated;
        };
        match err.as_connector_error() {
            Some(e) if is_connect_failure(e) => RetryAction::RetryForbidden,
            _ => RetryAction::NoActionIndicated,
        }
    }

    fn name(&self) -> &'static str {
        "drkit: connect failures of optional reads are final"
    }
}

/// True when `err` (or what caused it) says no connection could be made.
fn is_connect_failure(err: &(dyn std::error::Error + 'static)) -> bool {
    use std::io::ErrorKind as Io;
    let mut next = Some(err);
    while let Some(e) = next {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            if matches!(
                io.kind(),
                Io::ConnectionRefused
                    | Io::HostUnreachable
                    | Io::NetworkUnreachable
                    | Io::AddrNotAvailable
                    | Io::TimedOut
            ) {
                return true;
            }
        }
        // hyper-util names connection setup (DNS, TCP connect) in its errors' text; its
        // error types are not public.
        let text = e.to_string();
        if text.contains("dns error")
            || text.contains("tcp connect error")
            || text.contains("client error (Connect)")
        {
            return true;
        }
        next = e.source();
    }
    false
}

/// The AWS clients, shared by the provider and every resource. `get_resources` runs before
/// `configure`, so resources receive this empty cell and `configure` fills it.
pub type SharedClients = Arc<OnceLock<AwsClients>>;

/// The configured clients, or a "provider not configured" error in `diags`.
pub fn clients<'a>(
    shared: &'a SharedClients,
    diags: &mut tf_provider::Diagnostics,
) -> Option<&'a AwsClients> {
    let clients = shared.get();
    if clients.is_none() {
        diags.add_error(crate::diagnostics::not_configured());
    }
    clients
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients() -> AwsClients {
        let base = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .build();
        AwsClients::from_parts(
            base,
            "us-east-1".into(),
            Some("us-west-2".into()),
            Endpoints {
                rds: Some("http://127.0.0.1:1".into()),
                s3: Some("http://127.0.0.1:1".into()),
                cloudwatch: Some("http://127.0.0.1:1".into()),
                kms: Some("http://127.0.0.1:1".into()),
                ec2: Some("http://127.0.0.1:1".into()),
            },
        )
    }

    #[tokio::test]
    async fn clients_are_cached_per_region() {
        let c = clients();
        let _ = c.rds("us-west-2").await;
        let _ = c.rds("us-west-2").await;
        let _ = c.rds("eu-west-1").await;
        let _ = c.s3("us-east-1").await;
        let _ = c.cloudwatch("us-west-2").await;
        let _ = c.cloudwatch("us-west-2").await;
        let _ = c.kms("eu-west-1").await;
        assert_eq!(c.rds.lock().unwrap().len(), 2);
        assert_eq!(c.s3.lock().unwrap().len(), 1);
        assert_eq!(c.cloudwatch.lock().unwrap().len(), 1);
        assert_eq!(c.kms.lock().unwrap().len(), 1);
    }

    #[tokio::test]
    async fn region_and_endpoint_overrides_reach_the_client() {
        let c = clients();
        let s3 = c.s3("eu-central-1").await;
        assert_eq!(
            s3.config().region().map(|r| r.as_ref()),
            Some("eu-central-1")
        );
        assert_eq!(c.primary_region(), "us-east-1");
        assert_eq!(c.dr_region(), Some("us-west-2"));
    }

    #[test]
    fn retries_count_after_the_first_attempt() {
        assert_eq!(retry_config(3).max_attempts(), 4);
        assert_eq!(retry_config(u32::MAX).max_attempts(), u32::MAX);
    }

    #[test]
    fn unconfigured_clients_give_a_clear_error() {
        let shared = SharedClients::default();
        let mut diags = tf_provider::Diagnostics::default();
        assert!(super::clients(&shared, &mut diags).is_none());
        assert!(diags.errors[0].summary.contains("not configured"));
    }
}

//! Creating RDS instances (read replicas, restores) and Aurora clusters (restores) without
//! ever creating one twice.
//!
//! Shared by the drill engine (temporary restores) and `dr_policy` (cross-region replicas,
//! readers of secondary clusters).

use std::time::Duration;

use aws_sdk_rds::config::retry::RetryConfig;
use aws_sdk_rds::error::ProvideErrorMetadata;
use aws_sdk_rds::Client;

/// AWS error codes of throttling, across the query and REST protocols.
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "SlowDown",
    "TooManyRequestsException",
];

/// A per-call configuration without the SDK's retries, for calls sent through
/// [`create_once`].
pub fn no_sdk_retries() -> aws_sdk_rds::config::Builder {
    aws_sdk_rds::config::Builder::default().retry_config(RetryConfig::disabled())
}

/// What a create call makes: decides the lookup before another attempt and the code of
/// "already exists".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creates {
    /// A DB instance (a read replica, an instance restore, a cluster's instance).
    Instance,
    /// An Aurora DB cluster (a cluster restore).
    Cluster,
}

impl Creates {
    fn already_exists_code(self) -> &'static str {
        match self {
            Creates::Instance => "DBInstanceAlreadyExists",
            Creates::Cluster => "DBClusterAlreadyExists",
        }
    }

    /// True when `identifier` names one now (a failed lookup counts as no).
    async fn exists(self, client: &Client, identifier: &str) -> bool {
        match self {
            Creates::Instance => client
                .describe_db_instances()
                .db_instance_identifier(identifier)
                .send()
                .await
                .is_ok_and(|o| !o.db_instances().is_empty()),
            Creates::Cluster => client
                .describe_db_clusters()
                .db_cluster_identifier(identifier)
                .send()
                .await
                .is_ok_and(|o| !o.db_clusters().is_empty()),
        }
    }
}

/// Sends a call that creates the instance or cluster (`kind`) `identifier` without ever
/// creating it twice.
///
/// RDS creates take no idempotency token, so the SDK's own retry of a create whose answer
/// was lost (a 500 or a dropped connection after RDS acted) would start a second instance
/// or fail on the first. `send` must therefore disable the SDK's retries; this retries
/// transient failures itself, as often and with the same backoff as the client's retry
/// configuration, and before each new attempt looks the identifier up: one there means an
/// earlier attempt went through. `DBInstanceAlreadyExists` (`DBClusterAlreadyExists`)
/// after a lost answer means the same. The caller describes what it created afterwards and
/// checks that it is the one it asked for.
pub async fn create_once<T, E, F, Fut>(
    client: &Client,
    kind: Creates,
    identifier: &str,
    mut send: F,
) -> Result<(), aws_sdk_rds::error::SdkError<E>>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, aws_sdk_rds::error::SdkError<E>>>,
{
    let retry = client.config().retry_config().cloned();
    let attempts = retry.as_ref().map_or(1, |r| r.max_attempts()).max(1);
    let mut backoff = retry
        .as_ref()
        .map_or(Duration::from_millis(200), |r| r.initial_backoff());
    let max_backoff = retry
        .as_ref()
        .map_or(Duration::from_secs(20), |r| r.max_backoff());
    let mut attempt = 1;
    loop {
        match send().await {
            Ok(_) => return Ok(()),
            Err(e) if attempt > 1 && is_already_exists(&e, kind) => return Ok(()),
            Err(e) if attempt < attempts && is_transient(&e) => {
                tracing::warn!(identifier, attempt, error = %aws_smithy_types::error::display::DisplayErrorContext(&e), "create failed transiently; checking whether it took effect");
                tokio::time::sleep(jittered(backoff)).await;
                backoff = (backoff * 2).min(max_backoff);
                attempt += 1;
                if kind.exists(client, identifier).await {
                    return Ok(());
                }
            }
            Err(e) => return Err(e),
        }
    }
}

fn is_already_exists<E: ProvideErrorMetadata>(
    e: &aws_sdk_rds::error::SdkError<E>,
    kind: Creates,
) -> bool {
    e.as_service_error()
        .and_then(|s| s.code())
        .is_some_and(|c| c.starts_with(kind.already_exists_code()))
}

/// Throttling, a 5xx answer, a timeout or a broken connection: worth another attempt.
fn is_transient<E: ProvideErrorMetadata>(e: &aws_sdk_rds::error::SdkError<E>) -> bool {
    use aws_sdk_rds::error::SdkError;
    match e {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) | SdkError::ResponseError(_) => {
            true
        }
        SdkError::ServiceError(s) => {
            s.raw().status().as_u16() >= 500
                || s.err().code().is_some_and(|c| THROTTLING.contains(&c))
        }
        _ => false,
    }
}

/// A wait between half and all of `backoff`, so that parallel creates do not retry in step.
fn jittered(backoff: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    backoff.mul_f64(0.5 + f64::from(nanos % 1000) / 2000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_between_half_and_all_of_the_backoff() {
        for _ in 0..100 {
            let d = jittered(Duration::from_millis(200));
            assert!(d >= Duration::from_millis(100) && d <= Duration::from_millis(200));
        }
    }
}

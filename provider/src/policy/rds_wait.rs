//! Waiting for a DB instance or an Aurora cluster to become `available`: one polling loop
//! for both, told by [`Waited`] how to describe the one it waits for and how to name it in
//! errors.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::diagnostics::{AwsError, ErrorKind};

/// A live DB instance or cluster, as the wait sees it.
pub trait Waited {
    /// What it is in messages: "DB instance", "DB cluster".
    const NOUN: &'static str;
    /// The describe call, for the error when it disappears.
    const DESCRIBE_OPERATION: &'static str;
    /// The AWS code of "not found", for the same error.
    const NOT_FOUND_CODE: &'static str;
    /// The AWS code of "in a state it does not leave by waiting".
    const INVALID_STATE_CODE: &'static str;
    /// Statuses from which it does not become `available` by waiting.
    const STUCK: &'static [&'static str];

    /// `available`, `modifying`, `creating`, ...
    fn status(&self) -> &str;
    /// Modifications RDS has accepted but not applied yet.
    fn pending_changes(&self) -> bool;
}

/// Polls `describe` until `identifier` is `available` (with `settled`: and nothing is
/// pending, since RDS may still report `available` for a moment after `ApplyImmediately`
/// before the change starts), with a growing interval (1 s up to 15 s). Fails when it is
/// gone, stuck, or still not there at `deadline`.
pub async fn wait_until_available<L, F, Fut>(
    identifier: &str,
    deadline: Instant,
    settled: bool,
    mut describe: F,
) -> Result<L, AwsError>
where
    L: Waited,
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<L>, AwsError>>,
{
    let noun = L::NOUN;
    let mut interval = Duration::from_secs(1);
    loop {
        let live = describe().await?.ok_or_else(|| {
            AwsError::new(
                L::DESCRIBE_OPERATION,
                L::NOT_FOUND_CODE,
                format!("{noun} {identifier} disappeared while waiting for it"),
            )
        })?;
        if live.status() == "available" && !(settled && live.pending_changes()) {
            return Ok(live);
        }
        if L::STUCK.contains(&live.status()) {
            let mut err = AwsError::new(
                L::INVALID_STATE_CODE,
                L::INVALID_STATE_CODE,
                format!(
                    "{noun} {identifier} is {:?}; it will not become available by waiting",
                    live.status()
                ),
            );
            err.operation = format!("Waiting for {noun} {identifier}");
            return Err(err);
        }
        if Instant::now() + interval > deadline {
            return Err(AwsError {
                operation: format!("Waiting for {noun} {identifier} to be available"),
                code: Some("Timeout".into()),
                message: Some(format!(
                    "still {:?} when the timeout ran out; raise `timeouts` or apply again later",
                    live.status()
                )),
                kind: ErrorKind::InvalidState,
            });
        }
        tokio::time::sleep(interval).await;
        interval = (interval * 2).min(Duration::from_secs(15));
    }
}

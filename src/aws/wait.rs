//! Waiting for an AWS resource to reach a state, and the tag that marks what firedrill creates.

use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::{Error, Result};

/// Tag key on everything firedrill creates in AWS (RDS snapshots and scratch instances); the
/// value is the drill name. Nothing without it is ever deleted.
pub const TAG: &str = "firedrill";

/// Polls `check` every `every` until it returns `Some`, the deadline passes, or the run is
/// cancelled.
pub async fn wait_for<T, F, Fut>(
    what: &str,
    timeout: Duration,
    cancel: &CancellationToken,
    mut check: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    let mut every = Duration::from_millis(200);
    loop {
        if let Some(v) = check().await? {
            return Ok(v);
        }
        if start.elapsed() > timeout {
            return Err(Error::storage(format!(
                "timed out after {} waiting for {what}",
                humantime::format_duration(Duration::from_secs(timeout.as_secs()))
            ))
            .hint("raise the wait-timeout, or check the AWS console for a stuck operation"));
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = cancel.cancelled() => return Err(Error::aborted()),
        }
        every = (every * 2).min(Duration::from_secs(15));
    }
}

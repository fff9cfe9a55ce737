//! A check's `timeout`: the server's `statement_timeout`, and a deadline on the client a little
//! later that cancels the running query, for a server that does not answer at all.

use std::future::Future;
use std::time::Duration;

use tokio_postgres::{Client, NoTls};

/// Time the server gets past the limit to answer with its own timeout error.
const GRACE: Duration = Duration::from_secs(5);

/// Runs `work` on `client` within `limit`.
///
/// # Errors
/// What to report when the client-side deadline passed.
pub(super) async fn within<T>(
    client: &Client,
    limit: Duration,
    work: impl Future<Output = T>,
) -> Result<T, String> {
    let ms = limit.as_millis().min(i32::MAX as u128);
    if let Err(e) = client
        .batch_execute(&format!("set statement_timeout = {ms}"))
        .await
    {
        tracing::warn!(error = %crate::pg::conn::pg_message(&e), "Cannot set statement_timeout.");
    }
    match tokio::time::timeout(limit + GRACE, work).await {
        Ok(v) => Ok(v),
        Err(_) => {
            let cancel = client.cancel_token();
            let _ = tokio::time::timeout(GRACE, cancel.cancel_query(NoTls)).await;
            Err(timed_out(limit))
        }
    }
}

/// What a check that ran past its limit reports.
pub(super) fn timed_out(limit: Duration) -> String {
    format!(
        "timed out after {} (the check's `timeout`)",
        humantime::format_duration(limit)
    )
}

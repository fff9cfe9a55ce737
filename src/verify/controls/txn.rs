//! Faults are injected inside a transaction that is always rolled back, and each attempt
//! inside a savepoint, so a fault that cannot be injected in one table leaves no trace before
//! the next is tried.

use tokio_postgres::Client;

use crate::pg::conn::pg_message;

/// Opens the transaction a control works in. Locks are waited for briefly: the scratch
/// database is the drill's own, so a wait means something else is wrong.
pub(super) async fn begin(client: &Client) -> Result<(), String> {
    client
        .batch_execute("begin; set local lock_timeout = '30s'")
        .await
        .map_err(|e| format!("cannot open a transaction: {}", pg_message(&e)))
}

/// Rolls back whatever the control did.
pub(super) async fn rollback(client: &Client) {
    if let Err(e) = client.batch_execute("rollback").await {
        tracing::warn!(error = %pg_message(&e), "Rolling back a negative control failed.");
    }
}

/// Runs `sql` inside a savepoint: on failure the savepoint is rolled back and the server's
/// message returned.
pub(super) async fn attempt(client: &Client, sql: &str) -> Result<(), String> {
    client
        .batch_execute("savepoint control")
        .await
        .map_err(|e| pg_message(&e))?;
    match client.batch_execute(sql).await {
        Ok(()) => Ok(()),
        Err(e) => {
            let why = pg_message(&e);
            client
                .batch_execute("rollback to savepoint control")
                .await
                .map_err(|e| pg_message(&e))?;
            Err(why)
        }
    }
}

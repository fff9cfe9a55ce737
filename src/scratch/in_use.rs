//! Which scratch databases on a server belong to a drill that is still running. A drill holds
//! a session-level advisory lock, keyed by its scratch database's name, on a connection of
//! its own for as long as that database exists; the lock goes with the session, so a drill
//! that dies (killed, host lost) releases it. `cleanup` drops a database only after taking
//! its lock. A pid would say nothing across hosts; the server's lock table does.

use tokio_postgres::Client;

use crate::pg::{conn::pg_message, PgTarget};
use crate::{Error, Result};

/// The first key of every firedrill scratch lock (hashed), so it shares no key with other
/// users of advisory locks; the second is the database name, hashed.
const CLASS: &str = "firedrill scratch database";

/// A connection that holds the lock of one scratch database; dropping it releases the lock.
pub(super) struct Held {
    _session: Client,
}

/// Takes the lock of `name` on a new connection to `admin` (advisory locks belong to the
/// database connected to: every firedrill command connects to the scratch URL's database).
/// `Ok(None)` when another session holds it.
///
/// # Errors
/// When the server cannot be reached or the query fails.
pub(super) async fn hold(admin: &PgTarget, name: &str) -> Result<Option<Held>> {
    let session = admin.connect("the scratch server").await?;
    Ok(try_lock(&session, name)
        .await?
        .then_some(Held { _session: session }))
}

/// Tries to take the lock of `name` in `client`'s session: `false` when a running drill
/// holds it.
///
/// # Errors
/// When the query fails.
pub(super) async fn try_lock(client: &Client, name: &str) -> Result<bool> {
    let row = client
        .query_one(
            "select pg_try_advisory_lock(hashtext($1), hashtext($2))",
            &[&CLASS, &name],
        )
        .await
        .map_err(|e| lock_error(name, &e))?;
    Ok(row.get(0))
}

/// Releases a lock taken with [`try_lock`] in `client`'s session.
///
/// # Errors
/// When the query fails.
pub(super) async fn unlock(client: &Client, name: &str) -> Result<()> {
    client
        .query_one(
            "select pg_advisory_unlock(hashtext($1), hashtext($2))",
            &[&CLASS, &name],
        )
        .await
        .map_err(|e| lock_error(name, &e))?;
    Ok(())
}

fn lock_error(name: &str, e: &tokio_postgres::Error) -> Error {
    Error::scratch(format!(
        "cannot check whether a running drill uses scratch database `{name}`: {}",
        pg_message(e)
    ))
}

//! One REPEATABLE READ, READ ONLY transaction whose snapshot is exported for pg_dump and in
//! which the fingerprint is taken. The transaction stays open until the dump has finished.

use chrono::{DateTime, Utc};
use tokio_postgres::Client;

use crate::pg::{conn::pg_message, PgTarget};
use crate::{Error, Result};

/// Facts about the source server, recorded in the manifest.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ServerInfo {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub server_version: String,
    pub server_major: u32,
    pub size_bytes: i64,
}

pub struct Snapshot {
    pub client: Client,
    pub id: String,
    /// The consistent point the dump reflects: the recovery point.
    pub at: DateTime<Utc>,
    pub server: ServerInfo,
}

/// Opens the snapshot on the source.
///
/// # Errors
/// [`crate::ErrorKind::Source`] when the source cannot be reached or read.
pub async fn open(source: &PgTarget) -> Result<Snapshot> {
    let client = source.connect("the source database").await?;
    let fail = |e: tokio_postgres::Error| {
        Error::source_db(format!(
            "cannot open a snapshot on {}: {}",
            source.display(),
            pg_message(&e)
        ))
    };
    client
        .batch_execute("begin isolation level repeatable read read only")
        .await
        .map_err(fail)?;
    let row = client
        .query_one(
            "select pg_export_snapshot(), clock_timestamp(), current_setting('server_version'), \
             current_setting('server_version_num')::int, pg_database_size(current_database()), \
             current_database()",
            &[],
        )
        .await
        .map_err(fail)?;
    let num: i32 = row.get(3);
    Ok(Snapshot {
        id: row.get(0),
        at: row.get(1),
        server: ServerInfo {
            host: source.host(),
            port: source.port(),
            database: row.get(5),
            user: source.user(),
            server_version: row.get(2),
            server_major: (num / 10000) as u32,
            size_bytes: row.get(4),
        },
        client,
    })
}

impl Snapshot {
    /// Ends the read-only transaction.
    pub async fn close(self) {
        let _ = self.client.batch_execute("commit").await;
    }
}

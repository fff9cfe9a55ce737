//! `firedrill heartbeat SPEC --install`: schema `firedrill` and its one table in the source.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::info;

use super::TABLE;
use crate::pg::conn::pg_message;
use crate::spec::DrillSpec;
use crate::{Error, Result};

/// How long installing may take (connecting included).
const DEADLINE: Duration = Duration::from_secs(30);

/// The table: one row, updated in place.
const DDL: &str = "
create schema if not exists firedrill;
create table if not exists firedrill.heartbeat (
    id int primary key check (id = 1),
    at timestamptz not null,
    lsn pg_lsn,
    installed_at timestamptz not null
);
comment on table firedrill.heartbeat is 'firedrill heartbeat: written by `firedrill heartbeat SPEC`, read by drills to measure data lost';
insert into firedrill.heartbeat (id, at, lsn, installed_at)
    values (1, clock_timestamp(), pg_current_wal_lsn(), clock_timestamp())
    on conflict (id) do nothing;
";

/// What `--install` did.
#[derive(Debug, Clone, Serialize)]
pub struct Installed {
    /// The source, without password.
    pub source: String,
    pub table: String,
    /// When the heartbeat was first installed (kept when it already was).
    pub installed_at: DateTime<Utc>,
}

/// Creates schema `firedrill` and `firedrill.heartbeat` in the source, in one transaction;
/// a second run changes nothing.
///
/// # Errors
/// The source cannot be reached, or refuses (no `CREATE` on the database, a standby).
pub async fn install(spec: &DrillSpec) -> Result<Installed> {
    super::interval(spec)?;
    let target = super::source(spec)?;
    let run = async {
        let mut client = target.connect("the source database").await?;
        let refused = |e: tokio_postgres::Error| {
            Error::source_db(format!(
                "cannot install {TABLE} in the source {}: {}",
                target.display(),
                pg_message(&e)
            ))
            .hint("connect as a user that may create a schema in the database (CREATE on it), on the primary")
        };
        let tx = client.transaction().await.map_err(refused)?;
        tx.batch_execute(DDL).await.map_err(refused)?;
        let row = tx
            .query_one(
                "select installed_at from firedrill.heartbeat where id = 1",
                &[],
            )
            .await
            .map_err(refused)?;
        tx.commit().await.map_err(refused)?;
        Ok::<_, Error>(row.get::<_, DateTime<Utc>>(0))
    };
    let installed_at = tokio::time::timeout(DEADLINE, run).await.map_err(|_| {
        Error::timeout(format!(
            "installing {TABLE} in the source {} took more than {} s",
            target.display(),
            DEADLINE.as_secs()
        ))
        .hint("check that the source answers and no lock holds schema firedrill")
    })??;
    info!(source = %target.display(), table = TABLE, "Heartbeat installed.");
    Ok(Installed {
        source: target.display().to_string(),
        table: TABLE.into(),
        installed_at,
    })
}

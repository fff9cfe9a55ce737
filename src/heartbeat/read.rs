//! Reading heartbeats back: the newest one in a restored database, and at drill start the
//! source's clock and when its heartbeat was installed.

use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_postgres::Client;
use tracing::info;

use super::TABLE;
use crate::pg::conn::pg_message;
use crate::pg::PgTarget;
use crate::spec::DrillSpec;
use crate::{Error, Result};

/// How long reading the source at drill start may take: it may be down (that is a disaster).
const SOURCE_DEADLINE: Duration = Duration::from_secs(5);

/// How long reading the restored heartbeat may take.
const RESTORED_DEADLINE: Duration = Duration::from_secs(30);

/// The newest heartbeat in a restored database.
#[derive(Debug, Clone, PartialEq)]
pub struct Restored {
    /// The source's `clock_timestamp()` at the write.
    pub at: DateTime<Utc>,
    /// The source's `pg_current_wal_lsn()` at the write.
    pub lsn: Option<String>,
    pub installed_at: DateTime<Utc>,
}

/// The newest heartbeat restored; `None` when the restored database has no heartbeat table
/// (or an empty one).
///
/// # Errors
/// The table is there and cannot be read, or the read outlives its deadline.
pub async fn read_restored(client: &Client) -> Result<Option<Restored>> {
    let read = async {
        let present: bool = client
            .query_one("select to_regclass('firedrill.heartbeat') is not null", &[])
            .await?
            .get(0);
        if !present {
            return Ok(None);
        }
        let row = client
            .query_opt(
                "select at, lsn::text, installed_at from firedrill.heartbeat order by at desc limit 1",
                &[],
            )
            .await?;
        Ok(row.map(|r| Restored {
            at: r.get(0),
            lsn: r.get(1),
            installed_at: r.get(2),
        }))
    };
    match tokio::time::timeout(RESTORED_DEADLINE, read).await {
        Ok(Ok(r)) => Ok(r),
        Ok(Err(e)) => Err(Error::restore(format!(
            "cannot read the restored heartbeat {TABLE}: {}",
            pg_message(&e)
        ))
        .hint("the restored table does not hold what `firedrill heartbeat --install` creates: reinstall it on the source")),
        Err(_) => Err(Error::timeout(format!(
            "reading the restored heartbeat {TABLE} took more than {} s",
            RESTORED_DEADLINE.as_secs()
        ))),
    }
}

/// The source as seen at drill start.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SourceClock {
    /// The source's `now()` minus this host's clock.
    pub skew_seconds: f64,
    /// When the source's heartbeat was installed; `None` when it is not.
    pub installed_at: Option<DateTime<Utc>>,
}

/// What a drill read: the newest heartbeat restored and the source at drill start.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub restored: Option<Restored>,
    pub source: Option<SourceClock>,
}

/// Starts reading the source's clock and installation time beside the drill's restore.
pub fn probe_source(spec: &DrillSpec) -> tokio::task::JoinHandle<Option<SourceClock>> {
    tokio::spawn(read_source(super::source(spec)))
}

/// Reads the source's clock and installation time; `None` (logged) when the source cannot be
/// reached within a few seconds: a drill goes on without.
pub async fn read_source(target: Result<PgTarget>) -> Option<SourceClock> {
    let read = async {
        let target = target?;
        let client = target.connect("the source database").await?;
        let before = Utc::now();
        let row = client
            .query_one(
                "select now(), to_regclass('firedrill.heartbeat') is not null",
                &[],
            )
            .await
            .map_err(|e| Error::source_db(pg_message(&e)))?;
        let after = Utc::now();
        let host = before + (after - before) / 2;
        let (now, present): (DateTime<Utc>, bool) = (row.get(0), row.get(1));
        let installed_at = if present {
            client
                .query_opt(
                    "select installed_at from firedrill.heartbeat where id = 1",
                    &[],
                )
                .await
                .map_err(|e| Error::source_db(pg_message(&e)))?
                .map(|r| r.get(0))
        } else {
            None
        };
        Ok::<_, Error>(SourceClock {
            skew_seconds: (now - host).num_milliseconds() as f64 / 1000.0,
            installed_at,
        })
    };
    match tokio::time::timeout(SOURCE_DEADLINE, read).await {
        Ok(Ok(c)) => Some(c),
        Ok(Err(e)) => {
            info!(error = %e.render(), "Heartbeat: the source cannot be read at drill start; its clock skew and installation time stay unknown.");
            None
        }
        Err(_) => {
            info!(
                "Heartbeat: the source did not answer within {} s at drill start; its clock skew and installation time stay unknown.",
                SOURCE_DEADLINE.as_secs()
            );
            None
        }
    }
}

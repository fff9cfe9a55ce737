//! `firedrill heartbeat SPEC`: once per interval, the source's `clock_timestamp()` and
//! `pg_current_wal_lsn()` into `firedrill.heartbeat`, until SIGINT/SIGTERM. A source that goes
//! away after the writer ran is reconnected to with backoff (one it never reached is an
//! error); a source without the table stops the writer.

use std::time::Duration;

use tokio::time::{Instant, MissedTickBehavior};
use tokio_postgres::Client;
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};

use super::TABLE;
use crate::pg::conn::pg_message;
use crate::pg::PgTarget;
use crate::spec::DrillSpec;
use crate::{Error, ErrorKind, Result};

/// The write, one row updated in place.
const WRITE: &str =
    "update firedrill.heartbeat set at = clock_timestamp(), lsn = pg_current_wal_lsn() where id = 1";

/// The first and the longest wait before reconnecting.
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// How the writer runs.
#[derive(Debug, Clone, Copy)]
pub struct WriterOptions {
    pub interval: Duration,
}

impl WriterOptions {
    /// The deadline of one write (and of connecting): the interval, at least 2 s, at most 30 s.
    pub fn deadline(&self) -> Duration {
        self.interval
            .clamp(Duration::from_secs(2), Duration::from_secs(30))
    }
}

/// What the writer did before it was stopped.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Written {
    pub writes: u64,
    pub failed_writes: u64,
    pub reconnects: u64,
}

/// Writes heartbeats until `cancel`.
///
/// # Errors
/// The spec has no `[heartbeat]`, the source URL is bad, or the table is not installed
/// (checked at every connect: a table dropped while running stops the writer too).
pub async fn run(spec: &DrillSpec, cancel: &CancellationToken) -> Result<Written> {
    let opts = WriterOptions {
        interval: super::interval(spec)?,
    };
    let target = super::source(spec)?;
    let mut done = Written::default();
    let mut backoff = BACKOFF_FIRST;
    let mut first = true;
    while !cancel.is_cancelled() {
        let session = tokio::select! {
            s = open(&target, opts) => s,
            () = cancel.cancelled() => break,
        };
        let client = match session {
            Ok(Some(c)) => c,
            Ok(None) => return Err(super::not_installed(&target, spec)),
            // Never connected: a wrong URL, role, password or database would be retried for
            // ever. Say so at once (exit 2); a supervisor restarts a writer whose source is
            // down. Only a source lost after the writer ran is reconnected to.
            Err(e) if first => return Err(e),
            Err(e) => {
                warn!(source = %target.display(), error = %e.render(), retry_in_s = backoff.as_secs(), "Heartbeat: source unreachable; reconnecting.");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    () = cancel.cancelled() => break,
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
                continue;
            }
        };
        if first {
            info!(source = %target.display(), interval = %humantime::format_duration(opts.interval), "Heartbeat writing.");
            first = false;
        } else {
            done.reconnects += 1;
            info!(source = %target.display(), "Heartbeat: reconnected.");
        }
        backoff = BACKOFF_FIRST;
        match beat(&client, opts, &mut done, cancel).await {
            Ok(()) => break,
            Err(e) if e.kind == ErrorKind::Preflight => {
                return Err(super::not_installed(&target, spec))
            }
            Err(e) => {
                warn!(source = %target.display(), error = %e.render(), "Heartbeat: write failed; reconnecting.");
            }
        }
    }
    info!(
        writes = done.writes,
        failed = done.failed_writes,
        "Heartbeat stopped."
    );
    Ok(done)
}

/// Connects and prepares the session; `None` when the table is not there.
async fn open(target: &PgTarget, opts: WriterOptions) -> Result<Option<Client>> {
    let deadline = opts.deadline();
    let setup = async {
        let client = target.connect("the source database").await?;
        client
            .batch_execute(&format!(
                "set synchronous_commit = local; set statement_timeout = {}; set application_name = 'firedrill heartbeat'",
                deadline.as_millis()
            ))
            .await
            .map_err(|e| failed(target, &e))?;
        let present: bool = client
            .query_one("select to_regclass('firedrill.heartbeat') is not null", &[])
            .await
            .map_err(|e| failed(target, &e))?
            .get(0);
        Ok(present.then_some(client))
    };
    tokio::time::timeout(deadline, setup)
        .await
        .unwrap_or_else(|_| {
            Err(Error::timeout(format!(
                "connecting to the source {} took more than {} s",
                target.display(),
                deadline.as_secs()
            )))
        })
}

/// Writes once per interval until `cancel` (`Ok`) or a failure (the session is dropped).
/// A missing row or table is a [`ErrorKind::Preflight`] error.
async fn beat(
    client: &Client,
    opts: WriterOptions,
    done: &mut Written,
    cancel: &CancellationToken,
) -> Result<()> {
    let mut ticks = tokio::time::interval_at(Instant::now(), opts.interval);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = cancel.cancelled() => return Ok(()),
        }
        let write = tokio::time::timeout(opts.deadline(), client.execute(WRITE, &[]));
        let outcome = tokio::select! {
            w = write => w,
            () = cancel.cancelled() => return Ok(()),
        };
        match outcome {
            Ok(Ok(1)) => {
                done.writes += 1;
                debug!(writes = done.writes, "Heartbeat written.");
            }
            Ok(Ok(_)) => {
                return Err(Error::preflight(format!("{TABLE} has no row")));
            }
            Ok(Err(e)) if e.code() == Some(&tokio_postgres::error::SqlState::UNDEFINED_TABLE) => {
                return Err(Error::preflight(format!("{TABLE} is gone")));
            }
            Ok(Err(e)) => {
                done.failed_writes += 1;
                return Err(Error::source_db(format!(
                    "writing the heartbeat failed: {}",
                    pg_message(&e)
                )));
            }
            Err(_) => {
                done.failed_writes += 1;
                return Err(Error::timeout(format!(
                    "a heartbeat write took more than {} s",
                    opts.deadline().as_secs()
                )));
            }
        }
    }
}

fn failed(target: &PgTarget, e: &tokio_postgres::Error) -> Error {
    Error::source_db(format!(
        "preparing the heartbeat session on the source {} failed: {}",
        target.display(),
        pg_message(e)
    ))
}

//! Waiting for a restored cluster to recover and promote, and proving where its recovery
//! ended: a `latest` drill must have replayed past the newest segment the archive listed
//! when the drill began; a time drill must have reached its target (PostgreSQL stops with
//! "recovery ended before configured recovery target was reached" otherwise).

use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio_postgres::Client;
use tokio_util::sync::CancellationToken;

use super::restored::RestoredCluster;
use super::wal;
use crate::scratch::ScratchTarget;
use crate::spec::PitrTarget;
use crate::{Error, Result};

/// How long to wait between looks at a recovering cluster.
const POLL: Duration = Duration::from_millis(500);

/// What PostgreSQL logs when the archive ends before a recovery target.
pub const TARGET_NOT_REACHED: &str = "recovery ended before configured recovery target was reached";

/// How often progress is logged.
const PROGRESS: Duration = Duration::from_secs(5);

/// Where a finished recovery ended.
#[derive(Debug, Clone)]
pub struct RecoveryEnd {
    /// `pg_last_wal_replay_lsn()`: the end of the last record replayed.
    pub replayed_lsn: String,
    /// The commit time of the last transaction replayed.
    pub last_commit: Option<DateTime<Utc>>,
    /// The timeline the cluster was promoted on.
    pub timeline: u32,
    /// `wal_segment_size` in bytes.
    pub seg_size: u64,
    /// From the start of the wait until the cluster first answered (consistent: hot standby
    /// accepts connections only then).
    pub consistent_after: Option<Duration>,
}

impl RecoveryEnd {
    /// The WAL replayed from `start_lsn` (the backup's start), over `seconds` of recovery.
    pub fn replay(&self, start_lsn: Option<&str>, seconds: f64) -> Option<crate::scratch::Replay> {
        let start = wal::parse_lsn(start_lsn?).ok()?;
        let end = wal::parse_lsn(&self.replayed_lsn).ok()?;
        let wal_bytes = end.saturating_sub(start);
        let seg = self.seg_size.max(1);
        let segments = (end.div_ceil(seg)).saturating_sub(start / seg);
        Some(crate::scratch::Replay {
            wal_bytes,
            segments,
            seconds,
            bytes_per_second: if seconds > 0.0 {
                wal_bytes as f64 / seconds
            } else {
                0.0
            },
            consistent_seconds: self.consistent_after.map(|d| d.as_secs_f64()),
        })
    }
}

/// Waits until the cluster has left recovery (promoted), logging the replayed position.
///
/// # Errors
/// [`crate::ErrorKind::Restore`] when the server stopped during recovery (with the reason
/// from its log) or did not promote before `deadline`; aborted on `cancel`.
pub async fn wait_for_promotion(
    r: &RestoredCluster,
    target: &PitrTarget,
    deadline: Instant,
    cancel: &CancellationToken,
) -> Result<RecoveryEnd> {
    let mut client: Option<Client> = None;
    let mut last_lsn = String::from("(not yet known)");
    let mut logged = Instant::now();
    let started = Instant::now();
    let mut consistent_after = None;
    loop {
        if cancel.is_cancelled() {
            return Err(Error::aborted());
        }
        if client.as_ref().is_none_or(|c| c.is_closed()) {
            client = r
                .target()
                .connect("the restored scratch cluster")
                .await
                .ok();
        }
        if let Some(c) = &client {
            if let Ok(row) = c
                .query_one(
                    "select pg_is_in_recovery(), coalesce(pg_last_wal_replay_lsn()::text, '')",
                    &[],
                )
                .await
            {
                let (recovering, lsn): (bool, String) = (row.get(0), row.get(1));
                consistent_after.get_or_insert_with(|| started.elapsed());
                if !recovering {
                    return finished(c, consistent_after).await;
                }
                last_lsn = lsn;
                if logged.elapsed() >= PROGRESS {
                    tracing::info!(replayed = %last_lsn, "Recovery in progress.");
                    logged = Instant::now();
                }
            }
        }
        if !running(r.cluster.dir()) {
            return Err(ended_early(&r.log(), target).unwrap_or_else(|| {
                Error::restore(format!(
                    "the restored cluster stopped during recovery (replayed to {last_lsn}):\n  {}",
                    log_tail(&r.log(), 5)
                ))
                .hint("see postgres.log in the scratch folder (--keep leaves it)")
            }));
        }
        if Instant::now() >= deadline {
            return Err(Error::restore(format!(
                "recovery did not finish in time: replayed to {last_lsn} when the deadline (source.wait-timeout) passed"
            ))
            .hint("raise source.wait-timeout, or drill a newer backup (less WAL to replay)"));
        }
        tokio::select! {
            () = tokio::time::sleep(POLL) => {}
            () = cancel.cancelled() => return Err(Error::aborted()),
        }
    }
}

async fn finished(c: &Client, consistent_after: Option<Duration>) -> Result<RecoveryEnd> {
    let row = c
        .query_one(
            "select pg_last_wal_replay_lsn()::text, pg_last_xact_replay_timestamp(), \
                    (select setting::bigint from pg_settings where name = 'wal_segment_size'), \
                    pg_walfile_name(pg_current_wal_lsn())",
            &[],
        )
        .await
        .map_err(|e| {
            Error::restore(format!(
                "cannot read where recovery ended: {}",
                crate::pg::conn::pg_message(&e)
            ))
        })?;
    let lsn: Option<String> = row.get(0);
    let file: String = row.get(3);
    Ok(RecoveryEnd {
        replayed_lsn: lsn.unwrap_or_else(|| "0/0".into()),
        last_commit: row.get(1),
        timeline: u32::from_str_radix(file.get(..8).unwrap_or("0"), 16).unwrap_or(0),
        seg_size: u64::try_from(row.get::<_, i64>(2)).unwrap_or(16 << 20),
        consistent_after,
    })
}

/// A `latest` recovery must have needed a segment past `archive_max` (the newest the
/// repository listed when the drill began); otherwise it stopped at a segment it could not
/// get, which is named.
///
/// # Errors
/// [`crate::ErrorKind::Restore`] naming the segment.
pub fn check_reached_archive_end(
    end: &RecoveryEnd,
    archive_max: Option<&str>,
    repo: &str,
) -> Result<()> {
    let Some(max) = archive_max else {
        return Ok(());
    };
    let (tli, max_n) = wal::parse_segment(max, end.seg_size).ok_or_else(|| {
        Error::internal(format!("pgbackrest info lists `{max}` as a WAL segment"))
    })?;
    let next = wal::next_needed(wal::parse_lsn(&end.replayed_lsn)?, end.seg_size);
    if next > max_n {
        return Ok(());
    }
    let missing = wal::segment_name(tli, next, end.seg_size);
    Err(Error::restore(format!(
        "recovery from {repo} ended at {} before the end of its archive: WAL segment {missing} could not be replayed (the archive listed segments up to {max} when the drill began)",
        end.replayed_lsn
    ))
    .hint(format!(
        "{missing} is missing or unreadable in {repo}: a restore from it loses every change after {}; check the repository (`pgbackrest verify --repo=N`) and the source's archiver",
        end.replayed_lsn
    )))
}

/// The drill's error when PostgreSQL logged that the archive ended before the target.
pub fn ended_early(log: &Path, target: &PitrTarget) -> Option<Error> {
    let text = std::fs::read_to_string(log).ok()?;
    text.contains(TARGET_NOT_REACHED).then(|| {
        let what = match target {
            PitrTarget::Time(t) => format!("--target-time {}", t.to_rfc3339()),
            other => super::target::kind(other).to_string(),
        };
        Error::restore(format!(
            "recovery ended before reaching {what}: the archive holds no WAL up to the target ({TARGET_NOT_REACHED})\n  {}",
            log_tail(log, 4)
        ))
        .hint("a WAL segment between the backup and the target is missing from the repository; check it with `pgbackrest verify`")
    })
}

/// Whether the postmaster of the cluster in `dir` is alive.
fn running(dir: &Path) -> bool {
    let Ok(text) = std::fs::read_to_string(dir.join("data/postmaster.pid")) else {
        return false;
    };
    text.lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
        .is_some_and(|pid| nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok())
}

fn log_tail(log: &Path, n: usize) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().rev().take(n).collect();
    lines.into_iter().rev().collect::<Vec<_>>().join("\n  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(lsn: &str) -> RecoveryEnd {
        RecoveryEnd {
            replayed_lsn: lsn.into(),
            last_commit: None,
            timeline: 2,
            seg_size: 1 << 20,
            consistent_after: None,
        }
    }

    #[test]
    fn replay_counts_the_wal_from_the_backup_start_to_the_replay_end() {
        let mut e = end("0/A00120");
        e.consistent_after = Some(Duration::from_millis(500));
        let r = e.replay(Some("0/700028"), 2.0).unwrap();
        assert_eq!(r.wal_bytes, 0xA00120 - 0x700028);
        // Segments 07, 08, 09 and 0A.
        assert_eq!(r.segments, 4);
        assert!((r.bytes_per_second - r.wal_bytes as f64 / 2.0).abs() < 1e-6);
        assert_eq!(r.consistent_seconds, Some(0.5));
        assert!(r.describe().contains("(4 segments)"), "{}", r.describe());
        assert!(e.replay(None, 2.0).is_none());
    }

    #[test]
    fn a_recovery_short_of_the_archive_names_the_segment_it_missed() {
        let max = "00000001000000000000000A";
        // Replayed through the switch at the end of 0A: reached.
        assert!(check_reached_archive_end(&end("0/B00000"), Some(max), "repo2").is_ok());
        // Mid 0A: the next record runs into 0B, not archived yet: reached.
        assert!(check_reached_archive_end(&end("0/A00120"), Some(max), "repo2").is_ok());
        // Ended at the start of 07: 07 was missing.
        let e = check_reached_archive_end(&end("0/700000"), Some(max), "repo2").unwrap_err();
        assert!(
            e.message
                .contains("WAL segment 000000010000000000000007 could not be replayed"),
            "{}",
            e.message
        );
        assert_eq!(e.kind, crate::ErrorKind::Restore);
        // Mid 06: its last record ran into 07.
        let e = check_reached_archive_end(&end("0/6FFF00"), Some(max), "repo2").unwrap_err();
        assert!(
            e.message.contains("000000010000000000000007"),
            "{}",
            e.message
        );
        assert!(check_reached_archive_end(&end("0/700000"), None, "repo2").is_ok());
    }
}

//! What the restored heartbeat says about a backup: the data lost (the disaster minus the
//! newest heartbeat restored), and whether the recovery point the backup method claims is
//! borne out.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::{Restored, SourceClock, TABLE};

/// The claim a drill checks, and when the disaster is.
#[derive(Debug, Clone, Copy)]
pub struct Claim {
    /// The recovery point the backup method claims (snapshot, target, last replayed commit).
    pub recovery_point: DateTime<Utc>,
    /// The drill's start, or the target of a point-in-time drill.
    pub disaster_at: DateTime<Utc>,
    /// `[heartbeat] interval`.
    pub interval: Duration,
}

/// The measurement and its verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub newest: Option<DateTime<Utc>>,
    pub lsn: Option<String>,
    /// `disaster_at - newest`, when a heartbeat was restored.
    pub data_lost_seconds: Option<f64>,
    /// Why the claim is not borne out: the drill fails.
    pub failure: Option<String>,
    /// Why nothing could be measured without that being a failure.
    pub note: Option<String>,
}

/// A restored heartbeat older than the claim by more than this many intervals fails.
const INTERVALS: u32 = 2;

/// Weighs the restored heartbeat against the claim. No heartbeat restored fails the drill
/// unless the source's heartbeat was installed after the claimed recovery point.
pub fn assess(
    restored: Option<&Restored>,
    source: Option<&SourceClock>,
    claim: &Claim,
) -> Assessment {
    let claimed = claim.recovery_point.to_rfc3339();
    let Some(r) = restored else {
        let installed = source.and_then(|s| s.installed_at);
        let (failure, note) = match installed {
            Some(i) if i > claim.recovery_point => (
                None,
                Some(format!(
                    "heartbeat installed after this backup (installed {}), nothing to measure",
                    i.to_rfc3339()
                )),
            ),
            Some(i) => (
                Some(format!(
                    "the backup's claimed recovery point {claimed} is not borne out by the heartbeat: newest restored: none, the restored database has no {TABLE} although the source's heartbeat was installed before it ({})",
                    i.to_rfc3339()
                )),
                None,
            ),
            None if source.is_some() => (
                Some(format!(
                    "the backup's claimed recovery point {claimed} is not borne out by the heartbeat: newest restored: none, and the source has no {TABLE} either: run `firedrill heartbeat SPEC --install` and keep `firedrill heartbeat SPEC` running"
                )),
                None,
            ),
            None => (
                Some(format!(
                    "the backup's claimed recovery point {claimed} is not borne out by the heartbeat: newest restored: none, the restored database has no {TABLE} (the source could not be read at drill start, so whether the heartbeat was installed after this backup is unknown)"
                )),
                None,
            ),
        };
        return Assessment {
            newest: None,
            lsn: None,
            data_lost_seconds: None,
            failure,
            note,
        };
    };
    let behind = claim.recovery_point - r.at;
    let allowed =
        chrono::Duration::from_std(claim.interval * INTERVALS).unwrap_or(chrono::TimeDelta::MAX);
    let failure = (behind > allowed).then(|| {
        format!(
            "the backup's claimed recovery point {claimed} is not borne out by the heartbeat: newest restored {} lies {} before it, more than {INTERVALS} intervals of {} (is `firedrill heartbeat SPEC` running?)",
            r.at.to_rfc3339(),
            seconds(behind),
            humantime::format_duration(claim.interval)
        )
    });
    Assessment {
        newest: Some(r.at),
        lsn: r.lsn.clone(),
        data_lost_seconds: Some((claim.disaster_at - r.at).num_milliseconds() as f64 / 1000.0),
        failure,
        note: None,
    }
}

fn seconds(d: chrono::Duration) -> String {
    format!("{:.1} s", d.num_milliseconds() as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::utc;

    fn claim(at: &str) -> Claim {
        Claim {
            recovery_point: utc(at),
            disaster_at: utc("2026-12-01T12:00:00Z"),
            interval: Duration::from_secs(10),
        }
    }

    fn restored(at: &str) -> Restored {
        Restored {
            at: utc(at),
            lsn: Some("0/16B3748".into()),
            installed_at: utc("2026-11-01T00:00:00Z"),
        }
    }

    #[test]
    fn data_lost_is_the_disaster_minus_the_newest_heartbeat() {
        let a = assess(
            Some(&restored("2026-12-01T11:00:00Z")),
            None,
            &claim("2026-12-01T11:00:15Z"),
        );
        assert_eq!(a.data_lost_seconds, Some(3600.0));
        assert_eq!(a.newest, Some(utc("2026-12-01T11:00:00Z")));
        assert_eq!(a.failure, None);
    }

    #[test]
    fn a_claim_more_than_two_intervals_after_the_newest_heartbeat_fails() {
        let a = assess(
            Some(&restored("2026-12-01T11:00:00Z")),
            None,
            &claim("2026-12-01T11:00:21Z"),
        );
        let f = a.failure.unwrap();
        assert!(
            f.starts_with("the backup's claimed recovery point 2026-12-01T11:00:21+00:00 is not borne out by the heartbeat: newest restored 2026-12-01T11:00:00+00:00 lies 21.0 s before it"),
            "{f}"
        );
        assert_eq!(a.data_lost_seconds, Some(3600.0));
    }

    #[test]
    fn no_heartbeat_restored_fails_unless_installed_after_the_backup() {
        let after = SourceClock {
            skew_seconds: 0.0,
            installed_at: Some(utc("2026-12-01T11:30:00Z")),
        };
        let a = assess(None, Some(&after), &claim("2026-12-01T11:00:00Z"));
        assert_eq!(a.failure, None);
        assert!(a
            .note
            .unwrap()
            .starts_with("heartbeat installed after this backup"));
        let before = SourceClock {
            installed_at: Some(utc("2026-12-01T10:00:00Z")),
            ..after
        };
        let a = assess(None, Some(&before), &claim("2026-12-01T11:00:00Z"));
        assert!(a
            .failure
            .unwrap()
            .contains("not borne out by the heartbeat: newest restored: none"));
        let never = SourceClock::default();
        let a = assess(None, Some(&never), &claim("2026-12-01T11:00:00Z"));
        assert!(a.failure.unwrap().contains("--install"));
        let unknown = assess(None, None, &claim("2026-12-01T11:00:00Z"));
        assert!(unknown
            .failure
            .unwrap()
            .contains("could not be read at drill start"));
    }
}

//! What a point-in-time restore recovered: recorded with the scratch target it fills.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a point-in-time drill restored and how far its recovery went.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RecoveryRef {
    /// The repository read (`repo2`).
    pub repository: String,
    /// The backup restored (pgBackRest's label).
    pub label: String,
    /// `latest`, `immediate` or `time`.
    pub target: String,
    /// The target of a `time` drill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target_time: Option<DateTime<Utc>>,
    /// How the target time was chosen when the drill did not name it
    /// (`random within 7d, seed 42`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chosen: Option<String>,
    /// The timeline the restored cluster was promoted on (absent when it never was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeline: Option<u32>,
    /// The timeline recovery followed up to the promotion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovered_timeline: Option<u32>,
    /// The end of the last WAL record replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replayed_lsn: Option<String>,
    /// How much WAL recovery replayed, and how fast.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replay: Option<Replay>,
    /// Preloaded libraries of the source left out of the scratch cluster because they act
    /// by themselves (`pg_cron`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_libraries: Vec<String>,
}

/// WAL replay of a recovery: from the backup's start to where recovery ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Replay {
    /// Bytes of WAL from the backup's start LSN to the last record replayed.
    pub wal_bytes: u64,
    /// WAL segments those bytes span.
    pub segments: u64,
    /// The recovery phase: from starting the restored cluster to its promotion.
    pub seconds: f64,
    pub bytes_per_second: f64,
    /// From starting the cluster until it accepted connections: consistent (hot standby);
    /// the rest of `seconds` replayed up to the target and promoted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistent_seconds: Option<f64>,
}

impl Replay {
    /// `replayed 5.0 MiB of WAL (5 segments) at 2.1 MiB/s, consistent after 0.5 s`.
    pub fn describe(&self) -> String {
        let mib = |b: f64| b / (1024.0 * 1024.0);
        let mut s = format!(
            "replayed {:.1} MiB of WAL ({} segment{}) in {:.1} s at {:.1} MiB/s",
            mib(self.wal_bytes as f64),
            self.segments,
            if self.segments == 1 { "" } else { "s" },
            self.seconds,
            mib(self.bytes_per_second)
        );
        if let Some(c) = self.consistent_seconds {
            s.push_str(&format!(", consistent after {c:.1} s"));
        }
        s
    }
}

impl RecoveryRef {
    /// One line for people: `repo2, backup L, target time 2026-12-01T10:00:00Z, recovered
    /// along timeline 1, promoted to 2 (replayed to 0/5000028)`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "{}, backup {}, target {}",
            self.repository, self.label, self.target
        );
        if let Some(t) = self.target_time {
            s.push_str(&format!(" {}", t.to_rfc3339()));
        }
        if let Some(c) = &self.chosen {
            s.push_str(&format!(" ({c})"));
        }
        match (self.recovered_timeline, self.timeline) {
            (Some(r), Some(t)) => {
                s.push_str(&format!(", recovered along timeline {r}, promoted to {t}"))
            }
            (None, Some(t)) => s.push_str(&format!(", timeline {t}")),
            (_, None) => s.push_str(", not promoted"),
        }
        if let Some(l) = &self.replayed_lsn {
            s.push_str(&format!(" (replayed to {l})"));
        }
        if let Some(r) = &self.replay {
            s.push_str(&format!("; {}", r.describe()));
        }
        if !self.disabled_libraries.is_empty() {
            s.push_str(&format!(
                "; disabled in the scratch: {}",
                self.disabled_libraries.join(", ")
            ));
        }
        s
    }
}

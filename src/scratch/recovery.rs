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
    /// Preloaded libraries of the source left out of the scratch cluster because they act
    /// by themselves (`pg_cron`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub disabled_libraries: Vec<String>,
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
        if !self.disabled_libraries.is_empty() {
            s.push_str(&format!(
                "; disabled in the scratch: {}",
                self.disabled_libraries.join(", ")
            ));
        }
        s
    }
}

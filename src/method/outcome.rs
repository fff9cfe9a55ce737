//! What a backup run did, whatever its method.

use chrono::Utc;
use serde::Serialize;

use crate::measure::Phase;
use crate::storage::Destination;
use crate::Result;

/// What a backup run did.
#[derive(Debug, Serialize)]
pub struct BackupOutcome {
    pub drill: String,
    pub backup_id: String,
    pub snapshot_at: chrono::DateTime<Utc>,
    pub primary: String,
    pub stored_bytes: u64,
    pub plain_bytes: u64,
    pub seconds: f64,
    pub replicas: Vec<ReplicaOutcome>,
    pub phases: Vec<Phase>,
    /// Holder of an expired lease this run took over (a run that died).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_takeover: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ReplicaOutcome {
    pub destination: String,
    pub parity: bool,
    pub error: Option<String>,
}

impl ReplicaOutcome {
    /// The outcome of copying a set to `dest`.
    pub fn of(dest: &Destination, result: Result<()>) -> Self {
        ReplicaOutcome {
            destination: dest.name.clone(),
            parity: result.is_ok(),
            error: result.err().map(|e| e.render()),
        }
    }
}

impl BackupOutcome {
    /// True when every replica holds a verified copy.
    pub fn complete(&self) -> bool {
        self.replicas.iter().all(|r| r.parity)
    }
}

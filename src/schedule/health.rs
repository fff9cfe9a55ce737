//! What the daemon's loop shares with `/healthz`.

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

/// State shared with the HTTP endpoints.
#[derive(Debug, Default)]
pub struct Health {
    pub started_at: Option<DateTime<Utc>>,
    /// End of the last pass over the folder.
    pub last_pass: Option<DateTime<Utc>>,
    /// Spec files with a run in progress or waiting for a slot.
    pub running: HashSet<PathBuf>,
}

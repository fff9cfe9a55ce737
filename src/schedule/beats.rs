//! The heartbeat writers `firedrill schedule` keeps running: one per spec of its folder with
//! a `[heartbeat]` section, as `firedrill heartbeat SPEC` would. Every pass starts the ones
//! missing (a writer that stopped on an error — source unreachable at start, table not
//! installed — is started again, so it is said once a pass), stops those whose spec left the
//! folder or dropped its heartbeat, and restarts one whose interval changed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use crate::spec::DrillSpec;

/// How long stopping waits for the writers' last writes.
const STOP_WAIT: Duration = Duration::from_secs(10);

struct Writer {
    interval: Duration,
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

/// The running writers, by spec path.
#[derive(Default)]
pub struct Beats {
    writers: HashMap<PathBuf, Writer>,
}

impl Beats {
    /// Makes the running writers those of `specs` with a heartbeat.
    pub fn sync(&mut self, specs: &[(PathBuf, DrillSpec)], parent: &CancellationToken) {
        let wanted: HashMap<&Path, &DrillSpec> = specs
            .iter()
            .filter(|(_, s)| s.heartbeat.is_some())
            .map(|(p, s)| (p.as_path(), s))
            .collect();
        self.writers.retain(|path, w| {
            let keep = !w.task.is_finished()
                && wanted
                    .get(path.as_path())
                    .and_then(|s| s.heartbeat)
                    .is_some_and(|h| h.interval == w.interval);
            if !keep {
                w.cancel.cancel();
            }
            keep
        });
        for (path, spec) in wanted {
            if self.writers.contains_key(path) {
                continue;
            }
            let interval = spec.heartbeat.map(|h| h.interval).unwrap_or_default();
            let cancel = parent.child_token();
            let (spec, token) = ((*spec).clone(), cancel.clone());
            let task = tokio::spawn(async move {
                if let Err(e) = crate::heartbeat::write(&spec, &token).await {
                    warn!(drill = %spec.name, error = %e.render(), "Heartbeat writer stopped; it is started again at the next pass.");
                }
            });
            self.writers.insert(
                path.to_path_buf(),
                Writer {
                    interval,
                    cancel,
                    task,
                },
            );
        }
    }

    /// Stops every writer and waits briefly for their last writes.
    pub async fn stop(self) {
        for w in self.writers.values() {
            w.cancel.cancel();
        }
        let all = futures_util::future::join_all(self.writers.into_values().map(|w| w.task));
        let _ = tokio::time::timeout(STOP_WAIT, all).await;
    }
}

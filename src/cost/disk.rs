//! The scratch disk a drill used: how much the filesystem of `drill.work-dir` filled beyond
//! where it stood when the drill began, sampled every second, at its peak. It covers the
//! ephemeral cluster, the spool file (which has no name to measure) and pgBackRest's files;
//! anything else writing to that filesystem at the same time is counted too.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

const EVERY: Duration = Duration::from_secs(1);

/// A running sampler; [`Sampler::stop`] gives the peak.
pub struct Sampler {
    peak: Arc<AtomicU64>,
    task: JoinHandle<()>,
    dir: PathBuf,
    base: Option<u64>,
}

/// Bytes in use on the filesystem holding `dir` (the nearest existing ancestor).
fn used(dir: &Path) -> Option<u64> {
    let existing = dir.ancestors().find(|a| a.exists())?;
    let s = nix::sys::statvfs::statvfs(existing).ok()?;
    let frag = s.fragment_size();
    Some((s.blocks() - s.blocks_free()) * frag)
}

impl Sampler {
    /// Starts sampling the filesystem of `dir`.
    pub fn start(dir: &Path) -> Sampler {
        let base = used(dir);
        let peak = Arc::new(AtomicU64::new(0));
        let (p, d) = (peak.clone(), dir.to_path_buf());
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(EVERY).await;
                if let (Some(now), Some(b)) = (used(&d), base) {
                    p.fetch_max(now.saturating_sub(b), Ordering::Relaxed);
                }
            }
        });
        Sampler {
            peak,
            task,
            dir: dir.to_path_buf(),
            base,
        }
    }

    /// The peak growth in bytes (one last sample taken now); `None` when the filesystem could
    /// not be read.
    pub fn stop(self) -> Option<u64> {
        self.task.abort();
        let base = self.base?;
        if let Some(now) = used(&self.dir) {
            self.peak
                .fetch_max(now.saturating_sub(base), Ordering::Relaxed);
        }
        Some(self.peak.load(Ordering::Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_written_while_sampling_shows_in_the_peak() {
        // A tmpfs of its own is quieter than /tmp.
        let dir = tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap());
        let s = Sampler::start(dir.path());
        let file = dir.path().join("x");
        std::fs::write(&file, vec![7u8; 8 << 20]).unwrap();
        nix::unistd::sync();
        tokio::time::sleep(Duration::from_millis(1300)).await;
        std::fs::remove_file(&file).unwrap();
        let peak = s.stop().unwrap();
        assert!(peak >= 4 << 20, "peak {peak}");
    }
}

//! The scratch disk a drill used, sampled every second, at its peak: the larger of the size
//! of the drill's own folders in `drill.work-dir` (`scratch-<drill>-*`, `pgbackrest-<drill>`)
//! and how much the work dir's filesystem filled beyond where it stood when the drill began
//! (which also sees the spool file, which has no name to measure, but moves with anything else
//! writing to or deleting from that filesystem meanwhile).

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
    probe: Probe,
}

/// What one sample reads.
#[derive(Clone)]
struct Probe {
    dir: PathBuf,
    drill: String,
    base: Option<u64>,
}

impl Probe {
    fn sample(&self) -> Option<u64> {
        let grown = self
            .base
            .and_then(|b| used(&self.dir).map(|now| now.saturating_sub(b)));
        let own = own_folders(&self.dir, &self.drill);
        grown.max(own)
    }
}

/// Bytes in the drill's own folders under `dir`.
fn own_folders(dir: &Path, drill: &str) -> Option<u64> {
    let prefix = format!("scratch-{drill}-");
    let pgbr = format!("pgbackrest-{drill}");
    let entries = std::fs::read_dir(dir).ok()?;
    Some(
        entries
            .flatten()
            .filter(|e| {
                let n = e.file_name();
                let n = n.to_string_lossy();
                n.starts_with(&prefix) || n == pgbr.as_str()
            })
            .map(|e| tree_size(&e.path()))
            .sum(),
    )
}

/// Bytes of the files below `path` (symbolic links not followed).
fn tree_size(path: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![path.to_path_buf()];
    while let Some(p) = stack.pop() {
        let Ok(meta) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if meta.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                stack.extend(rd.flatten().map(|e| e.path()));
            }
        } else if meta.is_file() {
            total += meta.len();
        }
    }
    total
}

/// Bytes in use on the filesystem holding `dir` (the nearest existing ancestor).
fn used(dir: &Path) -> Option<u64> {
    let existing = dir.ancestors().find(|a| a.exists())?;
    let s = nix::sys::statvfs::statvfs(existing).ok()?;
    let frag = s.fragment_size();
    Some((s.blocks() - s.blocks_free()) * frag)
}

impl Sampler {
    /// Starts sampling for drill `drill` in work dir `dir`.
    pub fn start(dir: &Path, drill: &str) -> Sampler {
        let probe = Probe {
            dir: dir.to_path_buf(),
            drill: drill.to_string(),
            base: used(dir),
        };
        let peak = Arc::new(AtomicU64::new(0));
        let (p, pr) = (peak.clone(), probe.clone());
        let task = tokio::spawn(async move {
            loop {
                tokio::time::sleep(EVERY).await;
                let pr = pr.clone();
                // Walking a large cluster's folder blocks: off the runtime's threads.
                if let Ok(Some(x)) = tokio::task::spawn_blocking(move || pr.sample()).await {
                    p.fetch_max(x, Ordering::Relaxed);
                }
            }
        });
        Sampler { peak, task, probe }
    }

    /// The peak in bytes (one last sample taken now); `None` when nothing could be read.
    pub fn stop(self) -> Option<u64> {
        self.task.abort();
        let last = self.probe.sample();
        if let Some(x) = last {
            self.peak.fetch_max(x, Ordering::Relaxed);
        }
        let peak = self.peak.load(Ordering::Relaxed);
        (last.is_some() || peak > 0).then_some(peak)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_written_while_sampling_shows_in_the_peak() {
        // A tmpfs of its own is quieter than /tmp.
        let dir = tempfile::tempdir_in("/dev/shm").unwrap_or_else(|_| tempfile::tempdir().unwrap());
        let s = Sampler::start(dir.path(), "d");
        std::fs::create_dir(dir.path().join("scratch-d-0123abcd")).unwrap();
        let file = dir.path().join("scratch-d-0123abcd").join("x");
        std::fs::write(&file, vec![7u8; 8 << 20]).unwrap();
        nix::unistd::sync();
        tokio::time::sleep(Duration::from_millis(1300)).await;
        std::fs::remove_file(&file).unwrap();
        let peak = s.stop().unwrap();
        assert!(peak >= 8 << 20, "peak {peak}");
    }
}

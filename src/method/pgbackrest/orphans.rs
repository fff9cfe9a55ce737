//! pgBackRest processes a killed drill left working in its scratch folder: a drill killed
//! with SIGKILL during `pgbackrest restore` cannot stop its child, which goes on writing the
//! scratch data directory. `cleanup` stops them (SIGTERM, then SIGKILL) before the folder is
//! removed; a folder whose drill is still running is left alone.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

use crate::scratch::live_owner;

/// How long stopped processes get to exit before they are killed.
const GRACE: Duration = Duration::from_secs(10);

/// Stops every `pgbackrest` process naming a `scratch-<drill>-*` folder of `work_dir` that no
/// running firedrill owns; returns how many were stopped.
pub async fn stop(work_dir: &Path, drill: &str) -> usize {
    let folders = orphaned_folders(work_dir, drill);
    if folders.is_empty() {
        return 0;
    }
    let pids = pgbackrest_in(&folders);
    for pid in &pids {
        tracing::warn!(
            pid = pid.as_raw(),
            "Stopping a pgBackRest process a killed drill left."
        );
        let _ = kill(*pid, Signal::SIGTERM);
    }
    let deadline = Instant::now() + GRACE;
    while pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for pid in pids.iter().filter(|p| alive(**p)) {
        let _ = kill(*pid, Signal::SIGKILL);
    }
    pids.len()
}

fn orphaned_folders(work_dir: &Path, drill: &str) -> Vec<PathBuf> {
    let stem = format!("scratch-{drill}-");
    std::fs::read_dir(work_dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .strip_prefix(&stem)
                .is_some_and(|h| h.len() == 8 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        })
        .map(|e| e.path())
        .filter(|d| live_owner(d).is_none())
        .collect()
}

/// `pgbackrest` processes whose command line names a path inside one of `folders`.
fn pgbackrest_in(folders: &[PathBuf]) -> Vec<Pid> {
    let needles: Vec<String> = folders
        .iter()
        .map(|f| format!("{}/", f.display()))
        .collect();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
                return false;
            };
            let args: Vec<String> = cmdline
                .split(|b| *b == 0)
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            names_pgbackrest(&args)
                && args
                    .iter()
                    .any(|a| needles.iter().any(|n| a.contains(n.as_str())))
        })
        .map(Pid::from_raw)
        .collect()
}

fn names_pgbackrest(args: &[String]) -> bool {
    args.first()
        .and_then(|a| Path::new(a).file_name())
        .is_some_and(|n| n == super::command::PROGRAM)
}

fn alive(pid: Pid) -> bool {
    kill(pid, None).is_ok()
        && std::fs::read_to_string(format!("/proc/{}/stat", pid.as_raw()))
            .map(|s| {
                !s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(false)
}

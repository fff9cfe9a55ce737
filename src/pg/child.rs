//! Child processes (pg_dump, pg_restore, initdb, pg_ctl): stderr is drained concurrently and
//! kept (its tail) for the error message; the exit status is checked after EOF.

use std::process::ExitStatus;

use tokio::io::AsyncReadExt;
use tokio::process::ChildStderr;
use tokio::task::JoinHandle;

use crate::{Error, ErrorKind, Result};

const KEEP: usize = 16 * 1024;

/// Collects a child's stderr in the background.
pub fn drain_stderr(stderr: Option<ChildStderr>) -> JoinHandle<String> {
    tokio::spawn(async move {
        let Some(mut s) = stderr else {
            return String::new();
        };
        let mut kept: Vec<u8> = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            match s.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    kept.extend_from_slice(&buf[..n]);
                    if kept.len() > 2 * KEEP {
                        kept.drain(..kept.len() - KEEP);
                    }
                }
            }
        }
        let start = kept.len().saturating_sub(KEEP);
        String::from_utf8_lossy(&kept[start..]).trim().to_string()
    })
}

/// Turns a finished child into `Ok` or an error carrying its trimmed stderr.
///
/// # Errors
/// An error of `kind` naming the program, its status and stderr.
pub fn check_status(
    kind: ErrorKind,
    program: &str,
    status: ExitStatus,
    stderr: &str,
    hint: &str,
) -> Result<()> {
    if status.success() {
        return Ok(());
    }
    let mut msg = format!("{program} failed ({status})");
    if !stderr.is_empty() {
        msg.push_str(&format!(":\n{}", indent(stderr)));
    }
    Err(Error::new(kind, msg).hint(hint))
}

fn indent(s: &str) -> String {
    s.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

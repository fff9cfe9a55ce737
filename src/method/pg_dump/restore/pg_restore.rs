//! `pg_restore` of a spooled archive into the scratch target: the whole archive, or one
//! section (`pre-data`, `data`, `post-data`) around the table parts.

use std::process::Stdio;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::fetch::{Spool, ARCHIVE};
use super::progress_lines;
use crate::pg::{child, PgTarget, PgTool};
use crate::progress::Meter;
use crate::{Error, ErrorKind, Result};

/// Runs `pg_restore` of `archive` into `target`: the whole archive, or one `section`
/// (`pre-data`, `data`, `post-data`).
///
/// Ownership and grants are not restored (`--no-owner --no-privileges`): a drill proves data
/// and schema, and a fresh scratch cluster has none of the source's roles.
///
/// # Errors
/// [`ErrorKind::Restore`] with pg_restore's message; [`ErrorKind::Aborted`] on cancel.
pub async fn pg_restore(
    tool: &PgTool,
    target: &PgTarget,
    archive: &Spool,
    section: Option<&str>,
    jobs: usize,
    items: &Meter,
    cancel: &CancellationToken,
) -> Result<()> {
    let mut cmd = Command::new(&tool.path);
    if let Some(section) = section {
        cmd.arg(format!("--section={section}"));
    }
    cmd.args([
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--no-password",
        // Progress: one line per archive entry (kept out of error messages).
        "--verbose",
    ])
    .arg(format!("--jobs={jobs}"))
    .arg(format!("--dbname={}", target.dbname()))
    .arg(ARCHIVE)
    .stdin(archive.stdin()?)
    .stdout(Stdio::null())
    .stderr(Stdio::piped())
    .kill_on_drop(true);
    target.apply_env(&mut cmd);
    let mut proc = cmd.spawn().map_err(|e| {
        Error::preflight(format!("cannot start {}: {e}", tool.path.display()))
            .hint("check tools.bin-dir")
    })?;
    let stderr = progress_lines::drain(proc.stderr.take(), items.clone());
    let status = tokio::select! {
        s = proc.wait() => s,
        () = cancel.cancelled() => {
            let _ = proc.start_kill();
            let _ = proc.wait().await;
            return Err(Error::aborted());
        }
    }
    .map_err(|e| Error::restore(format!("pg_restore could not be awaited: {e}")))?;
    let text = stderr.await.unwrap_or_default();
    child::check_status(
        ErrorKind::Restore,
        "pg_restore",
        status,
        &text,
        "the backup does not restore cleanly into the scratch target; see pg_restore's message",
    )
}

/// Entries of `archive`'s table of contents (what `pg_restore --list` lists): the total of
/// the restore's progress. `None` when it cannot be read (the restore will say why).
pub async fn toc_entries(tool: &PgTool, archive: &Spool) -> Option<u64> {
    let out = Command::new(&tool.path)
        .arg("--list")
        .arg(ARCHIVE)
        .stdin(archive.stdin().ok()?)
        .output()
        .await
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let n = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .count();
    Some(n as u64)
}

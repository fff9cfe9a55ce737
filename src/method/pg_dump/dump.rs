//! The `pg_dump` child: custom format, uncompressed (compression happens in the pipeline, on
//! all cores), inside the exported snapshot. Connection details go through `PG*` variables.

use std::process::Stdio;

use tokio::process::{Child, Command};

use crate::pg::{PgTarget, PgTool};
use crate::{Error, Result};

/// Starts pg_dump writing the archive to its stdout.
///
/// # Errors
/// [`crate::ErrorKind::Preflight`] when the program cannot be started.
/// `exclude_data` are pg_dump patterns of tables whose rows are exported as parts instead.
pub fn spawn(
    tool: &PgTool,
    source: &PgTarget,
    snapshot_id: &str,
    exclude_data: &[String],
) -> Result<Child> {
    let mut cmd = Command::new(&tool.path);
    for pattern in exclude_data {
        cmd.arg(format!("--exclude-table-data={pattern}"));
    }
    cmd.arg("--format=custom")
        .arg("--compress=0")
        .arg(format!("--snapshot={snapshot_id}"))
        .arg("--no-password")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    source.apply_env(&mut cmd);
    cmd.spawn().map_err(|e| {
        Error::preflight(format!("cannot start {}: {e}", tool.path.display()))
            .hint("check the PostgreSQL client installation or tools.bin-dir")
    })
}

/// pg_dump's stdout as a plain file, read with blocking reads on the encoding thread through
/// a 1 MiB pipe: fewer wake-ups than going through the async runtime.
///
/// # Errors
/// [`crate::ErrorKind::Internal`] when the pipe cannot be taken over.
pub fn stdout_file(child: &mut Child) -> Result<std::fs::File> {
    let stdout = std::fs::File::from(
        child
            .stdout
            .take()
            .expect("piped")
            .into_owned_fd()
            .map_err(|e| Error::internal(format!("cannot read pg_dump's output: {e}")))?,
    );
    let _ = nix::fcntl::fcntl(&stdout, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20));
    Ok(stdout)
}

//! Runs the `pgbackrest` binary for one stanza: the spec's `pgbackrest.conf` (the user's,
//! read and never edited; or firedrill's, written first: `managed`), log and lock files in a
//! private folder under firedrill's work dir (never production's), as `drill.run-as` when firedrill is root (pgBackRest's files belong to the
//! database's OS user), every call under a deadline, stderr kept for the error.
//!
//! Nothing secret is put on the command line or in a file: repository keys and passphrases
//! stay in the configuration file or in pgBackRest's own environment variables
//! (`PGBACKREST_REPO<N>_CIPHER_PASS`, `PGBACKREST_REPO<N>_S3_KEY_SECRET`), which pgBackRest
//! reads itself; the calls (and the restored cluster's `archive-get`) inherit firedrill's
//! environment, also across the switch to `drill.run-as` (see `secrets`).

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use tokio::process::Command;
use tokio_util::sync::CancellationToken;

use super::managed::Managed;
use super::secrets;
use crate::pg::child;
use crate::spec::{DrillSpec, PgBackRestSource};
use crate::{Error, ErrorKind, Result};

/// The program, looked up on `PATH`.
pub const PROGRAM: &str = "pgbackrest";

/// Deadline of the quick calls (`version`, `info`).
pub const QUICK: Duration = Duration::from_secs(120);

const INSTALL: &str = "install pgbackrest (apt-get install -y pgbackrest)";

/// How to call `pgbackrest` for one stanza.
#[derive(Debug, Clone)]
pub struct PgBackRest {
    pub stanza: String,
    config: Option<PathBuf>,
    /// Managed mode: the configuration written into `config` before every call.
    managed: Option<Managed>,
    /// Private folder for pgBackRest's log and lock files.
    dir: PathBuf,
    run_as: String,
}

impl PgBackRest {
    pub fn new(spec: &DrillSpec, src: &PgBackRestSource) -> Self {
        Self {
            stanza: src.stanza.clone(),
            config: src.config.clone(),
            managed: src
                .managed
                .as_ref()
                .zip(src.config.clone())
                .map(|(m, path)| Managed::new(path, &spec.name, &src.stanza, m)),
            dir: spec
                .drill
                .work_dir
                .join(format!("pgbackrest-{}", spec.name)),
            run_as: spec.drill.run_as.clone(),
        }
    }

    /// `pgbackrest version`: e.g. `pgBackRest 2.45`.
    ///
    /// # Errors
    /// [`ErrorKind::Preflight`] when pgbackrest is not installed or does not answer.
    pub async fn version(&self) -> Result<String> {
        let mut cmd = Command::new(PROGRAM);
        cmd.arg("version");
        let out = self.output(cmd, "version", QUICK, None).await?;
        Ok(String::from_utf8_lossy(&out).trim().to_string())
    }

    /// `pgbackrest info --output=json` of the stanza, as pgBackRest prints it.
    ///
    /// # Errors
    /// [`ErrorKind::Storage`] when pgBackRest cannot read the configuration or repositories.
    pub async fn info_json(&self) -> Result<String> {
        self.run(&["info", "--output=json"], QUICK, None).await
    }

    /// Runs `pgbackrest <command> <args>` with the stanza's options; returns stdout.
    ///
    /// # Errors
    /// pgbackrest missing, failing (its stderr in the message), past `deadline`, or cancelled.
    pub async fn run(
        &self,
        args: &[&str],
        deadline: Duration,
        cancel: Option<&CancellationToken>,
    ) -> Result<String> {
        let out = self.run_bytes(args, deadline, cancel).await?;
        Ok(String::from_utf8_lossy(&out).into_owned())
    }

    /// As [`PgBackRest::run`], stdout as it was written (`repo-get` of a file).
    ///
    /// # Errors
    /// As [`PgBackRest::run`].
    pub async fn run_bytes(
        &self,
        args: &[&str],
        deadline: Duration,
        cancel: Option<&CancellationToken>,
    ) -> Result<Vec<u8>> {
        let what = args.first().copied().unwrap_or("info");
        let owner = self.owner()?;
        self.private_dirs(owner)?;
        self.write_config()?;
        let mut cmd = Command::new(PROGRAM);
        if let Some(c) = &self.config {
            cmd.arg(format!("--config={}", c.display()));
        }
        cmd.arg(format!("--stanza={}", self.stanza))
            .arg(format!("--log-path={}", self.dir.join("log").display()));
        // The repository commands take no lock, and refuse the option.
        if !what.starts_with("repo-") {
            cmd.arg(format!("--lock-path={}", self.dir.join("lock").display()));
        }
        cmd.arg("--log-level-console=off")
            .arg("--log-level-stderr=warn")
            .args(args);
        if let Some((uid, gid)) = owner {
            cmd.uid(uid).gid(gid);
        }
        self.output(cmd, what, deadline, cancel).await
    }

    /// Managed mode: writes the configuration unless the file already says the same.
    ///
    /// # Errors
    /// As [`Managed::write`].
    pub fn write_config(&self) -> Result<Option<super::managed::Written>> {
        match &self.managed {
            Some(m) => m.write(self.owner()?).map(Some),
            None => Ok(None),
        }
    }

    /// The configuration firedrill writes, in managed mode.
    pub fn managed(&self) -> Option<&Managed> {
        self.managed.as_ref()
    }

    /// The private folder of pgBackRest's log and lock files.
    pub fn folder(&self) -> &Path {
        &self.dir
    }

    /// The same stanza with its log and lock folders (and what else the caller puts there)
    /// under `dir`: a restore's, inside its scratch folder.
    pub fn in_folder(&self, dir: PathBuf) -> PgBackRest {
        PgBackRest {
            dir,
            ..self.clone()
        }
    }

    /// Creates `path` with `mode`, owned by the user pgBackRest runs as.
    ///
    /// # Errors
    /// [`ErrorKind::Preflight`] when it cannot be created or handed over.
    pub fn private_folder(&self, path: &Path, mode: u32) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        make_dir(path, self.owner()?)?;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
            Error::scratch(format!(
                "cannot set permissions on `{}`: {e}",
                path.display()
            ))
        })
    }

    /// The OS user pgBackRest runs as when firedrill is root; `None` otherwise.
    fn owner(&self) -> Result<Option<(u32, u32)>> {
        if !nix::unistd::geteuid().is_root() {
            return Ok(None);
        }
        match nix::unistd::User::from_name(&self.run_as) {
            Ok(Some(u)) => Ok(Some((u.uid.as_raw(), u.gid.as_raw()))),
            _ => Err(Error::preflight(format!(
                "firedrill runs as root and pgBackRest must run as the database's OS user; the user `{}` (drill.run-as) does not exist",
                self.run_as
            ))
            .hint("set drill.run-as to the OS user that owns the cluster and its repositories (usually postgres)")),
        }
    }

    /// The private log and lock folders, owned by the user pgBackRest runs as.
    fn private_dirs(&self, owner: Option<(u32, u32)>) -> Result<()> {
        for d in [
            self.dir.clone(),
            self.dir.join("log"),
            self.dir.join("lock"),
        ] {
            make_dir(&d, owner)?;
        }
        Ok(())
    }

    async fn output(
        &self,
        mut cmd: Command,
        what: &str,
        deadline: Duration,
        cancel: Option<&CancellationToken>,
    ) -> Result<Vec<u8>> {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .current_dir("/")
            .kill_on_drop(true);
        let program = format!("pgbackrest {what} (stanza `{}`)", self.stanza);
        let child = cmd.spawn().map_err(|e| {
            let kind = if e.kind() == std::io::ErrorKind::NotFound {
                ErrorKind::Preflight
            } else {
                ErrorKind::Internal
            };
            Error::new(kind, format!("cannot start {PROGRAM}: {e}")).hint(INSTALL)
        })?;
        let never = CancellationToken::new();
        let cancel = cancel.unwrap_or(&never);
        let out = tokio::select! {
            r = tokio::time::timeout(deadline, child.wait_with_output()) => match r {
                Ok(out) => out.map_err(|e| Error::internal(format!("{program}: {e}")))?,
                Err(_) => {
                    return Err(Error::new(
                        kind_of(what),
                        format!("{program} did not finish within {}", humantime::format_duration(deadline)),
                    )
                    .hint("see pgBackRest's log in the work dir; raise source.wait-timeout for long backups"))
                }
            },
            _ = cancel.cancelled() => return Err(Error::aborted()),
        };
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let hint = secrets::missing_hint(&stderr).unwrap_or_else(|| {
            format!(
                "see pgBackRest's log under `{}`; `pgbackrest info` as the database's OS user shows the stanza",
                self.dir.join("log").display()
            )
        });
        child::check_status(kind_of(what), &program, out.status, &stderr, &hint)?;
        if !stderr.is_empty() {
            tracing::warn!(command = what, stanza = %self.stanza, "pgBackRest: {stderr}");
        }
        Ok(out.stdout)
    }
}

/// Errors of reading a repository are storage errors; of taking a backup, source errors.
fn kind_of(what: &str) -> ErrorKind {
    match what {
        "backup" => ErrorKind::Source,
        "version" => ErrorKind::Preflight,
        _ => ErrorKind::Storage,
    }
}

fn make_dir(path: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|e| {
        Error::preflight(format!("cannot create `{}`: {e}", path.display()))
            .hint("set drill.work-dir to a writable folder")
    })?;
    if let Some((uid, gid)) = owner {
        nix::unistd::chown(path, Some(uid.into()), Some(gid.into())).map_err(|e| {
            Error::preflight(format!(
                "cannot hand `{}` to the pgBackRest user: {e}",
                path.display()
            ))
        })?;
    }
    Ok(())
}

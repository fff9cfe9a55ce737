//! An ephemeral PostgreSQL cluster: `initdb` in a private folder under firedrill's work dir,
//! `pg_ctl start` on a free loopback port (socket in that folder), removed at the end.
//!
//! PostgreSQL refuses to run as root; when firedrill is root the cluster runs as
//! `drill.run-as` (default `postgres`), otherwise as firedrill's own user.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use async_trait::async_trait;
use tokio::process::Command;
use tokio_postgres::Config;

use super::{CleanupOutcome, ScratchInfo, ScratchTarget, MARKER};
use crate::catalog::layout::random_hex;
use crate::pg::{child, conn::pg_message, quote_ident, PgTarget, PgTool, PgTools};
use crate::{Error, ErrorKind, Result};

const MARKER_FILE: &str = "firedrill-scratch.json";
const SUPERUSER: &str = "firedrill";

pub struct EphemeralCluster {
    dir: PathBuf,
    pg_ctl: PgTool,
    owner: Option<(u32, u32)>,
    port: u16,
    password: String,
    target: PgTarget,
    version: String,
    /// Options after the defaults (a restored cluster's own settings).
    extra_opts: String,
    removed: bool,
    kept: bool,
}

pub(super) fn run_as(user: &str) -> Result<Option<(u32, u32)>> {
    if !nix::unistd::geteuid().is_root() {
        return Ok(None);
    }
    match nix::unistd::User::from_name(user) {
        Ok(Some(u)) => Ok(Some((u.uid.as_raw(), u.gid.as_raw()))),
        _ => Err(Error::preflight(format!(
            "firedrill runs as root and PostgreSQL refuses to; the OS user `{user}` (drill.run-as) to run the scratch cluster does not exist"
        ))
        .hint("create that user, set drill.run-as to an unprivileged user, or run firedrill as a non-root user")),
    }
}

fn command(tool: &PgTool, owner: Option<(u32, u32)>) -> Command {
    let mut cmd = Command::new(&tool.path);
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd.env("LC_ALL", "C.UTF-8");
    cmd.kill_on_drop(true);
    cmd
}

async fn run(mut cmd: Command, program: &str, hint: &str) -> Result<()> {
    let out = cmd.output().await.map_err(|e| {
        Error::scratch(format!("cannot start {program}: {e}")).hint(hint.to_string())
    })?;
    let mut text = String::from_utf8_lossy(&out.stderr).trim().to_string();
    if text.is_empty() {
        text = String::from_utf8_lossy(&out.stdout).trim().to_string();
    }
    child::check_status(ErrorKind::Scratch, program, out.status, &text, hint)
}

fn free_port() -> Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Error::scratch(format!("cannot find a free loopback port: {e}")))?;
    Ok(l.local_addr()
        .map_err(|e| Error::scratch(e.to_string()))?
        .port())
}

/// The longest path of a Unix socket (`sun_path` holds 108 bytes with the closing NUL).
const SOCKET_PATH_MAX: usize = 107;

/// The cluster's socket, `<dir>/.s.PGSQL.<port>`, fits in a Unix socket address: PostgreSQL
/// refuses to start otherwise, after the restore has been done for nothing.
///
/// # Errors
/// [`ErrorKind::Preflight`] naming the length and the fix, before anything is created.
fn socket_fits(dir: &Path) -> Result<()> {
    let socket = dir.join(".s.PGSQL.65535");
    let len = socket.as_os_str().len();
    if len <= SOCKET_PATH_MAX {
        return Ok(());
    }
    Err(Error::preflight(format!(
        "the scratch cluster's socket `{}` would be {len} bytes long, and a Unix socket path holds at most {SOCKET_PATH_MAX}: PostgreSQL could not start in `{}`",
        socket.display(),
        dir.parent().unwrap_or(dir).display()
    ))
    .hint(format!(
        "set drill.work-dir to a shorter folder (at most {} bytes with this drill's name), e.g. /var/tmp/firedrill",
        SOCKET_PATH_MAX + dir.parent().map_or(0, |p| p.as_os_str().len()) - len
    )))
}

fn make_dir(path: &Path, mode: u32, owner: Option<(u32, u32)>) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(mode)
        .create(path)
        .map_err(|e| {
            Error::scratch(format!("cannot create `{}`: {e}", path.display()))
                .hint("set drill.work-dir to a writable folder")
        })?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| {
        Error::scratch(format!(
            "cannot set permissions on `{}`: {e}",
            path.display()
        ))
    })?;
    hand_to(path, owner)
}

/// Gives `path` to the OS user clusters run as (`owner`; nothing when firedrill is not root).
///
/// # Errors
/// [`crate::ErrorKind::Scratch`] naming the path.
pub(crate) fn hand_to(path: &Path, owner: Option<(u32, u32)>) -> Result<()> {
    if let Some((uid, gid)) = owner {
        nix::unistd::chown(path, Some(uid.into()), Some(gid.into())).map_err(|e| {
            Error::scratch(format!(
                "cannot hand `{}` to the cluster user: {e}",
                path.display()
            ))
        })?;
    }
    Ok(())
}

impl EphemeralCluster {
    #[allow(clippy::too_many_arguments)]
    pub async fn start(
        work_dir: &Path,
        run_as_user: &str,
        tools: &PgTools,
        source_major: u32,
        drill: &str,
        backup_id: &str,
        database: &str,
    ) -> Result<Self> {
        let why =
            format!("for an ephemeral scratch cluster that can restore PostgreSQL {source_major}");
        let initdb = tools.find("initdb", source_major, &why)?;
        let mut cluster =
            Self::prepare(work_dir, run_as_user, tools, source_major, drill, backup_id)?;
        match cluster.init_and_start(&initdb, database).await {
            Ok(()) => Ok(cluster),
            Err(e) => {
                let _ = cluster.cleanup().await;
                Err(e)
            }
        }
    }

    /// A marked, private cluster folder with no data directory yet (`<folder>/data`): a
    /// physical restore fills it, then [`EphemeralCluster::start_restored`] starts it. Cleanup
    /// and `firedrill cleanup` treat it like any other ephemeral cluster.
    pub fn prepare(
        work_dir: &Path,
        run_as_user: &str,
        tools: &PgTools,
        source_major: u32,
        drill: &str,
        backup_id: &str,
    ) -> Result<Self> {
        let why =
            format!("for an ephemeral scratch cluster that can restore PostgreSQL {source_major}");
        let pg_ctl = tools.find("pg_ctl", source_major, &why)?;
        let owner = run_as(run_as_user)?;
        let dir = work_dir.join(format!("scratch-{drill}-{}", random_hex(4)));
        socket_fits(&dir)?;
        // The work dir must be traversable by the cluster user; each cluster folder is private.
        make_dir(work_dir, 0o755, None)?;
        make_dir(&dir, 0o700, owner)?;
        let marker = serde_json::json!({
            "marker": MARKER, "drill": drill, "backup_id": backup_id,
            "created_at": chrono::Utc::now(), "pid": std::process::id(),
        });
        std::fs::write(dir.join(MARKER_FILE), marker.to_string()).map_err(|e| {
            Error::scratch(format!(
                "cannot write the marker in `{}`: {e}",
                dir.display()
            ))
        })?;
        Ok(Self {
            target: PgTarget::from_config(Config::new()),
            dir,
            version: pg_ctl.version.clone(),
            pg_ctl,
            owner,
            port: 0,
            password: random_hex(16),
            extra_opts: String::new(),
            removed: false,
            kept: false,
        })
    }

    /// Starts a restored data directory (`<folder>/data`) with `opts` (`-c name=value ...`)
    /// after the ephemeral defaults; `target` is how to reach it, its host and port set here.
    ///
    /// # Errors
    /// [`ErrorKind::Scratch`] with the server log's tail when it does not start.
    pub async fn start_restored(&mut self, opts: String, target: Config) -> Result<()> {
        self.extra_opts = opts;
        self.start_on_free_port().await?;
        let mut config = target;
        config.host_path(&self.dir).port(self.port);
        self.target = PgTarget::from_config(config);
        Ok(())
    }

    /// The cluster's folder: `data/`, `postgres.log`, the marker.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The OS user (uid, gid) the cluster runs as when firedrill is root.
    pub fn owner(&self) -> Option<(u32, u32)> {
        self.owner
    }

    async fn init_and_start(&mut self, initdb: &PgTool, database: &str) -> Result<()> {
        self.init(initdb).await?;
        self.start_on_free_port().await?;
        self.create_database(database).await
    }

    /// `initdb` with the superuser's password from a file that is removed right after.
    async fn init(&self, initdb: &PgTool) -> Result<()> {
        let pwfile = self.dir.join("pwfile");
        write_owned(&pwfile, &self.password, self.owner)?;
        let mut cmd = command(initdb, self.owner);
        cmd.arg("-D")
            .arg(self.dir.join("data"))
            .args([
                "--no-sync",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
            ])
            .arg(format!("--username={SUPERUSER}"))
            .arg(format!("--pwfile={}", pwfile.display()));
        let result = run(
            cmd,
            "initdb",
            "check the PostgreSQL server installation and drill.work-dir",
        )
        .await;
        let _ = std::fs::remove_file(&pwfile);
        result
    }

    /// Starts the server on a free port, three tries (another process may take the port
    /// between finding and binding it); the last failure with the server log's tail.
    async fn start_on_free_port(&mut self) -> Result<()> {
        let mut last_err = None;
        for _ in 0..3 {
            self.port = free_port()?;
            match self.start_server().await {
                Ok(()) => return Ok(()),
                Err(e) => last_err = Some(self.with_log_tail(&e)),
            }
        }
        match last_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// `pg_ctl start` on [`Self::port`], the socket in the cluster's folder.
    async fn start_server(&self) -> Result<()> {
        let opts = format!(
            "-c port={} -c listen_addresses=127.0.0.1 -c unix_socket_directories='{}' \
             -c fsync=off -c full_page_writes=off -c synchronous_commit=off \
             -c max_wal_size=4GB -c checkpoint_timeout=30min -c maintenance_work_mem=256MB \
             -c max_locks_per_transaction=256 -c archive_mode=off {}",
            self.port,
            self.dir.display(),
            self.extra_opts
        );
        let mut cmd = command(&self.pg_ctl, self.owner);
        cmd.arg("-D")
            .arg(self.dir.join("data"))
            .arg("-l")
            .arg(self.dir.join("postgres.log"))
            .args(["-w", "-t", "60", "-o", &opts, "start"]);
        // pg_ctl's server outlives pg_ctl: don't tie its stdout/stderr to us.
        cmd.stdout(Stdio::null()).stderr(Stdio::null());
        run(
            cmd,
            "pg_ctl start",
            "see postgres.log in the scratch folder",
        )
        .await
    }

    /// `e` with the last lines of the server log.
    fn with_log_tail(&self, e: &Error) -> Error {
        let log = std::fs::read_to_string(self.dir.join("postgres.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        Error::scratch(format!(
            "{}\n  server log: {}",
            e.message,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n  ")
        ))
    }

    /// Creates `database` (unless it is `postgres`) and makes it the cluster's target.
    async fn create_database(&mut self, database: &str) -> Result<()> {
        let mut config = Config::new();
        config
            .host_path(&self.dir)
            .port(self.port)
            .user(SUPERUSER)
            .dbname("postgres");
        let admin = PgTarget::from_config(config);
        let client = admin.connect("the scratch cluster").await?;
        if database != "postgres" {
            client
                .batch_execute(&format!("create database {}", quote_ident(database)))
                .await
                .map_err(|e| {
                    Error::scratch(format!(
                        "cannot create database `{database}` in the scratch cluster: {}",
                        pg_message(&e)
                    ))
                })?;
        }
        self.target = admin.with_dbname(database);
        Ok(())
    }

    /// Loopback TCP port of the cluster.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Password of the cluster's superuser for TCP connections (scratch only).
    pub fn password(&self) -> &str {
        &self.password
    }

    /// The cluster's superuser.
    pub fn superuser(&self) -> &'static str {
        SUPERUSER
    }

    async fn stop(&self) -> Result<()> {
        stop_server(
            &self.dir,
            &self.pg_ctl,
            self.owner,
            "stop the cluster by hand: pg_ctl -D <folder>/data stop",
        )
        .await
    }
}

/// `pg_ctl stop -m immediate` of the cluster in `dir`, when its server runs (has a pid file).
async fn stop_server(
    dir: &Path,
    pg_ctl: &PgTool,
    owner: Option<(u32, u32)>,
    hint: &str,
) -> Result<()> {
    if !dir.join("data").join("postmaster.pid").exists() {
        return Ok(());
    }
    let mut cmd = command(pg_ctl, owner);
    cmd.arg("-D")
        .arg(dir.join("data"))
        .args(["-m", "immediate", "-w", "-t", "30", "stop"]);
    run(cmd, "pg_ctl stop", hint).await
}

fn write_owned(path: &Path, text: &str, owner: Option<(u32, u32)>) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| Error::scratch(format!("cannot write `{}`: {e}", path.display())))?;
    f.write_all(text.as_bytes())
        .map_err(|e| Error::scratch(e.to_string()))?;
    if let Some((uid, gid)) = owner {
        nix::unistd::chown(path, Some(uid.into()), Some(gid.into()))
            .map_err(|e| Error::scratch(e.to_string()))?;
    }
    Ok(())
}

/// Stops and deletes a cluster folder, but only one that carries firedrill's marker.
/// A postmaster still running after `pg_ctl stop` (stop failed or timed out) is killed before
/// its folder is deleted, never left running on a deleted data directory.
fn kill_leftover_postmaster(dir: &Path) {
    let Ok(text) = std::fs::read_to_string(dir.join("data/postmaster.pid")) else {
        return;
    };
    if let Some(pid) = text
        .lines()
        .next()
        .and_then(|l| l.trim().parse::<i32>().ok())
    {
        let pid = nix::unistd::Pid::from_raw(pid);
        if nix::sys::signal::kill(pid, None).is_ok() {
            tracing::warn!(pid = %pid, folder = %dir.display(), "The scratch postmaster outlived pg_ctl stop; killing it.");
            let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
            for _ in 0..50 {
                if nix::sys::signal::kill(pid, None).is_err() {
                    break;
                }
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    }
}

/// Removes decrypted spool files of runs that are no longer alive (`spool-<pid>-*.dump`).
fn sweep_spools(work_dir: &Path, out: &mut Vec<CleanupOutcome>) {
    let Ok(entries) = std::fs::read_dir(work_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(pid) = name
            .strip_prefix("spool-")
            .and_then(|r| r.split('-').next())
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        if pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists() {
            continue;
        }
        let removed = std::fs::remove_file(e.path()).is_ok();
        out.push(CleanupOutcome {
            removed,
            kept: false,
            detail: format!(
                "decrypted spool file `{}` of a run that died",
                e.path().display()
            ),
        });
    }
}

async fn remove_marked(
    dir: &Path,
    pg_ctl: Option<&PgTool>,
    owner: Option<(u32, u32)>,
) -> Result<()> {
    if !dir.join(MARKER_FILE).exists() {
        return Err(Error::scratch(format!(
            "refusing to delete `{}`: it has no firedrill marker",
            dir.display()
        )));
    }
    if let Some(pg_ctl) = pg_ctl {
        let _ = stop_server(dir, pg_ctl, owner, "").await;
    }
    kill_leftover_postmaster(dir);
    tokio::fs::remove_dir_all(dir).await.map_err(|e| {
        Error::scratch(format!(
            "cannot delete scratch cluster `{}`: {e}",
            dir.display()
        ))
    })
}

#[async_trait]
impl ScratchTarget for EphemeralCluster {
    fn info(&self) -> ScratchInfo {
        ScratchInfo {
            kind: "ephemeral".into(),
            location: self.dir.display().to_string(),
            database: self.target.dbname(),
            server_version: self.version.clone(),
            recovery: None,
            warning: None,
        }
    }

    fn target(&self) -> &PgTarget {
        &self.target
    }

    async fn cleanup(&mut self) -> Result<CleanupOutcome> {
        if let Some(done) = CleanupOutcome::settled(self.removed, self.kept) {
            return Ok(done);
        }
        let stopped = self.stop().await;
        remove_marked(&self.dir, None, self.owner).await?;
        self.removed = true;
        let mut detail = format!("stopped the cluster and deleted `{}`", self.dir.display());
        if let Err(e) = stopped {
            detail.push_str(&format!(" (stop reported: {})", e.message));
        }
        Ok(CleanupOutcome {
            removed: true,
            kept: false,
            detail,
        })
    }

    fn keep(&mut self) -> String {
        self.kept = true;
        format!(
            "postgres://{SUPERUSER}:{}@127.0.0.1:{}/{}",
            self.password,
            self.port,
            crate::pg::conn::url_escape(&self.target.dbname())
        )
    }
}

/// The pid recorded in a cluster's marker, when that process (another firedrill run) is alive.
pub fn live_owner(dir: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(dir.join(MARKER_FILE)).ok()?;
    let pid = serde_json::from_str::<serde_json::Value>(&text).ok()?["pid"].as_u64()? as u32;
    (pid != std::process::id() && Path::new(&format!("/proc/{pid}")).exists()).then_some(pid)
}

/// Removes every marked `scratch-<drill>-*` cluster folder under `work_dir`, except those of
/// a firedrill run that is still alive.
pub async fn sweep(work_dir: &Path, drill: &str, tools: &PgTools) -> Result<Vec<CleanupOutcome>> {
    let pg_ctl = tools
        .find("pg_ctl", 0, "to stop kept scratch clusters")
        .ok();
    let mut out = Vec::new();
    sweep_spools(work_dir, &mut out);
    let Ok(entries) = std::fs::read_dir(work_dir) else {
        return Ok(out);
    };
    let stem = format!("scratch-{drill}-");
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(rest) = name.strip_prefix(&stem) else {
            continue;
        };
        if rest.len() != 8 || !rest.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let dir = e.path();
        if let Some(pid) = live_owner(&dir) {
            out.push(CleanupOutcome {
                removed: false,
                kept: true,
                detail: format!(
                    "`{}` is in use by a running firedrill (pid {pid}); left alone",
                    dir.display()
                ),
            });
            continue;
        }
        let owner = {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata(&dir).ok().map(|m| (m.uid(), m.gid()))
        };
        let owner = owner.filter(|_| nix::unistd::geteuid().is_root());
        let removal = remove_marked(&dir, pg_ctl.as_ref(), owner).await;
        out.push(CleanupOutcome::swept(
            removal.map(|()| true),
            format!("deleted `{}`", dir.display()),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_work_dir_too_long_for_the_socket_is_refused_before_anything_is_created() {
        assert!(socket_fits(Path::new("/var/tmp/firedrill/scratch-orders-0a1b2c3d")).is_ok());
        let base = tempfile::tempdir().unwrap();
        let long = base.path().join("w".repeat(100));
        let e = socket_fits(&long.join("scratch-orders-0a1b2c3d")).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Preflight);
        assert!(
            e.message.contains("a Unix socket path holds at most 107")
                && e.message.contains(&long.display().to_string()),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("shorter folder"));
        let e = EphemeralCluster::prepare(
            &long,
            "postgres",
            &PgTools::new(None),
            15,
            "orders",
            "20261201T000000Z-0a1b2c3d",
        )
        .err()
        .expect("refused");
        assert_eq!(e.kind, ErrorKind::Preflight, "{}", e.message);
        assert!(!long.exists(), "the work dir was created");
    }
}

//! A real source cluster protected by pgBackRest, for the physical backup tests: `initdb` as
//! `postgres` (WAL segments of 1 MB, so archiving is quick) on a free loopback port, archiving
//! through `pgbackrest archive-push` into two posix repositories (`repo1`, `repo2`: two
//! regions), the stanza created. Everything lives in one temp folder owned by `postgres`; the
//! cluster is stopped on drop, also when a test panics.
//!
//! A missing pgbackrest fails the test with how to install it, never skips it.
//!
//! [`PhysicalSource::start_s3`] puts repo2 in an S3 bucket of another region on LocalStack
//! instead ([`crate::physical_s3_repo`]).

#![allow(dead_code)]

use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use firedrill::testing::SpecBuilder;

use crate::physical_s3_repo::{S3Repo, S3_KEY_VAR, S3_SECRET_VAR};
use crate::support::Env;

pub const BIN: &str = "/usr/lib/postgresql/15/bin";
const INSTALL: &str = "install pgbackrest (apt-get install -y pgbackrest)";

/// Where pgBackRest reads repo2's passphrase from (`repo2-cipher-pass`).
pub const CIPHER_PASS_VAR: &str = "PGBACKREST_REPO2_CIPHER_PASS";

/// A running source cluster and its pgBackRest stanza.
pub struct PhysicalSource {
    dir: tempfile::TempDir,
    owner: (u32, u32),
    pub port: u16,
    pub stanza: String,
    stopped: bool,
    /// The passphrase of an encrypted repo2 (`repo2-cipher-type=aes-256-cbc`).
    cipher: Option<String>,
    /// repo2 as an S3 bucket instead of a folder.
    pub s3: Option<S3Repo>,
    layout: Layout,
}

/// How a source differs from a plain test cluster.
#[derive(Debug, Clone, Default)]
pub struct Layout {
    /// `postgresql.conf`, `pg_hba.conf` and `pg_ident.conf` in `<dir>/etc` (Debian keeps them
    /// in /etc/postgresql/...), none in PGDATA; `pg_ctl -D` names that folder.
    pub config_outside: bool,
    /// More lines of `postgresql.conf`.
    pub settings: String,
    /// No `pgbackrest.conf` and no stanza: firedrill writes the configuration
    /// ([`PhysicalSource::config`], which the archive_command names) from the spec
    /// ([`PhysicalSource::managed_spec`]) and creates the stanza at the first backup.
    pub managed: bool,
}

impl PhysicalSource {
    /// initdb, configure, start, `stanza-create`.
    pub fn start() -> PhysicalSource {
        Self::start_with(None, None, Layout::default())
    }

    /// As [`PhysicalSource::start`] with repo2 encrypted (`aes-256-cbc`) under `pass`. The
    /// passphrase is in no file: pgBackRest reads it from [`CIPHER_PASS_VAR`] in the
    /// environment of every call here and of the source server (its archive_command).
    pub fn start_encrypted(pass: &str) -> PhysicalSource {
        Self::start_with(Some(pass.to_string()), None, Layout::default())
    }

    /// As [`PhysicalSource::start`] with repo2 in a new S3 bucket on LocalStack in another
    /// region ([`crate::physical_s3_repo::S3_REGION`]), encrypted under `pass`. The passphrase and the S3 key and secret
    /// are in no file: see [`PhysicalSource::secret_env`]. The bucket is deleted on drop.
    pub async fn start_s3(pass: &str) -> PhysicalSource {
        let s3 = S3Repo::create().await;
        Self::start_with(Some(pass.to_string()), Some(s3), Layout::default())
    }

    /// A source whose pgBackRest configuration firedrill manages ([`Layout::managed`]), repo2
    /// encrypted under `pass`.
    pub fn start_managed(pass: &str) -> PhysicalSource {
        Self::start_with(
            Some(pass.to_string()),
            None,
            Layout {
                managed: true,
                ..Layout::default()
            },
        )
    }

    /// As [`PhysicalSource::start_managed`] with repo2 in a new S3 bucket on LocalStack, as
    /// [`PhysicalSource::start_s3`].
    pub async fn start_managed_s3(pass: &str) -> PhysicalSource {
        let s3 = S3Repo::create().await;
        Self::start_with(
            Some(pass.to_string()),
            Some(s3),
            Layout {
                managed: true,
                ..Layout::default()
            },
        )
    }

    /// As [`PhysicalSource::start`], laid out as `layout` says.
    pub fn start_laid_out(layout: Layout) -> PhysicalSource {
        Self::start_with(None, None, layout)
    }

    fn start_with(cipher: Option<String>, s3: Option<S3Repo>, layout: Layout) -> PhysicalSource {
        require_pgbackrest();
        let pg = nix::unistd::User::from_name("postgres")
            .ok()
            .flatten()
            .expect("the OS user `postgres` runs the source cluster (apt-get install postgresql)");
        let owner = (pg.uid.as_raw(), pg.gid.as_raw());
        let dir = tempfile::Builder::new()
            .prefix("firedrill-physical-")
            .tempdir()
            .unwrap();
        let port = free_port();
        let mut src = PhysicalSource {
            dir,
            owner,
            port,
            stanza: "main".into(),
            stopped: true,
            cipher,
            s3,
            layout,
        };
        for d in ["", "repo1", "repo2", "log", "lock", "spool", "etc"] {
            let p = src.path().join(d);
            std::fs::create_dir_all(&p).unwrap();
            src.chown(&p);
        }
        src.as_postgres(
            &format!("{BIN}/initdb"),
            &[
                "--no-sync",
                "-A",
                "trust",
                "-U",
                "postgres",
                "--wal-segsize=1",
                "-D",
                src.data().to_str().unwrap(),
            ],
        );
        if !src.layout.managed {
            src.write_config();
        }
        src.move_config_out();
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(src.config_dir().join("postgresql.conf"))
            .unwrap();
        use std::io::Write;
        writeln!(
            conf,
            "port = {port}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '{}'\n\
             archive_mode = on\narchive_command = '{}'\narchive_timeout = 5s\nfsync = off\n{}",
            src.path().display(),
            src.archive_command(),
            src.layout.settings,
        )
        .unwrap();
        drop(conf);
        src.as_postgres(
            &format!("{BIN}/pg_ctl"),
            &[
                "-w",
                "-D",
                src.config_dir().to_str().unwrap(),
                "-l",
                src.path().join("server.log").to_str().unwrap(),
                "start",
            ],
        );
        src.stopped = false;
        if !src.layout.managed {
            src.pgbackrest(&["stanza-create"]);
        }
        src
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Where `postgresql.conf` is: PGDATA, or `<dir>/etc` with [`Layout::config_outside`].
    pub fn config_dir(&self) -> PathBuf {
        if self.layout.config_outside {
            self.path().join("etc")
        } else {
            self.data()
        }
    }

    /// A new folder `<dir>/<name>` owned by `postgres` (e.g. for a tablespace).
    pub fn owned_dir(&self, name: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::create_dir(&p).unwrap();
        self.chown(&p);
        p
    }

    /// With [`Layout::config_outside`]: the configuration files move to `<dir>/etc`, and
    /// `postgresql.conf` names PGDATA and the others.
    fn move_config_out(&self) {
        if !self.layout.config_outside {
            return;
        }
        let etc = self.config_dir();
        for f in ["postgresql.conf", "pg_hba.conf", "pg_ident.conf"] {
            std::fs::rename(self.data().join(f), etc.join(f)).unwrap();
        }
        let mut text = std::fs::read_to_string(etc.join("postgresql.conf")).unwrap();
        text.push_str(&format!(
            "data_directory = '{}'\nhba_file = '{e}/pg_hba.conf'\nident_file = '{e}/pg_ident.conf'\n",
            self.data().display(),
            e = etc.display()
        ));
        std::fs::write(etc.join("postgresql.conf"), text).unwrap();
    }

    pub fn data(&self) -> PathBuf {
        self.path().join("pg")
    }

    /// The `pgbackrest.conf` naming the stanza and both repositories (with
    /// [`Layout::managed`], the one firedrill writes, in a folder of its own).
    pub fn config(&self) -> PathBuf {
        if self.layout.managed {
            self.path().join("managed/pgbackrest.conf")
        } else {
            self.path().join("pgbackrest.conf")
        }
    }

    pub fn repo(&self, n: u32) -> PathBuf {
        self.path().join(format!("repo{n}"))
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The archive_command the cluster starts with.
    pub fn archive_command(&self) -> String {
        format!(
            "pgbackrest --config={} --stanza={} archive-push %p",
            self.config().display(),
            self.stanza
        )
    }

    /// The variables pgBackRest reads repo2's secrets from (passphrase; S3 key and secret),
    /// with their values: the only place they are given.
    pub fn secret_env(&self) -> Vec<(&'static str, String)> {
        let mut vars = Vec::new();
        if let Some(pass) = &self.cipher {
            vars.push((CIPHER_PASS_VAR, pass.clone()));
        }
        if let Some(s3) = &self.s3 {
            vars.push((S3_KEY_VAR, s3.key.clone()));
            vars.push((S3_SECRET_VAR, s3.secret.clone()));
        }
        vars
    }

    /// A pgbackrest spec of this source: the stanza in [`PhysicalSource::config`], a folder
    /// destination (firedrill's lease and reports), work dir and reports in `env`.
    pub fn spec(&self, env: &Env, name: &str) -> SpecBuilder {
        SpecBuilder::new(name)
            .source("kind", "pgbackrest")
            .source_url(&self.url())
            .source("stanza", self.stanza.as_str())
            .source("config", self.config().display().to_string())
            .folder("primary", &env.dest("primary"))
            .drill("from", "primary")
            .drill("reports", env.reports().display().to_string())
            .drill("work-dir", env.work().display().to_string())
    }

    /// A spec whose pgBackRest configuration firedrill writes into [`PhysicalSource::config`]:
    /// the cluster's data directory and socket, repo1 and repo2 (encrypted when the source
    /// is), pgBackRest's log, lock and spool folders here.
    pub fn managed_spec(&self, env: &Env, name: &str) -> SpecBuilder {
        let p = self.path().display().to_string();
        let spec = self
            .spec(env, name)
            .source("pg-path", self.data().display().to_string())
            .source("pg-socket-path", p.as_str())
            .push("source.repository")
            .with("path", format!("{p}/repo1"))
            .with("retention-full", 99)
            .push("source.repository");
        let mut spec = match &self.s3 {
            Some(s3) => s3.repository(spec),
            None => spec.with("path", format!("{p}/repo2")),
        }
        .with("retention-full", 99);
        if self.cipher.is_some() {
            spec = spec.with("cipher-type", "aes-256-cbc");
        }
        for (k, v) in [
            ("log-path", format!("{p}/log")),
            ("lock-path", format!("{p}/lock")),
            ("spool-path", format!("{p}/spool")),
            ("log-level-console", "warn".into()),
        ] {
            spec = spec.set("source.options", k, v);
        }
        spec.set("source.options", "start-fast", true)
    }

    /// Runs `pgbackrest <args>` for the stanza as `postgres`; panics with its output on failure.
    pub fn pgbackrest(&self, args: &[&str]) -> String {
        let config = format!("--config={}", self.config().display());
        let stanza = format!("--stanza={}", self.stanza);
        let mut all = vec![config.as_str(), stanza.as_str()];
        all.extend(args);
        self.as_postgres("pgbackrest", &all)
    }

    /// `pgbackrest info --output=json` of the stanza, read here (not by firedrill).
    pub fn info(&self) -> serde_json::Value {
        let out = self.pgbackrest(&["info", "--output=json"]);
        let all: serde_json::Value = serde_json::from_str(&out).unwrap();
        all.as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == self.stanza.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("no stanza {} in {all}", self.stanza))
    }

    /// The last WAL segment of the backup in repository `repo` (`archive.stop`).
    pub fn backup_stop_segment(&self, repo: u64) -> String {
        self.info()["backup"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["database"]["repo-key"] == repo)
            .unwrap()["archive"]["stop"]
            .as_str()
            .unwrap()
            .to_string()
    }

    /// (repository key, label, type) of every backup pgBackRest lists.
    pub fn backups(&self) -> Vec<(u64, String, String)> {
        self.info()["backup"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| {
                (
                    b["database"]["repo-key"].as_u64().unwrap(),
                    b["label"].as_str().unwrap().to_string(),
                    b["type"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    }

    /// A client after creating table `t (n int primary key)` with rows 1, 2 and 3.
    pub async fn with_table_t(&self) -> tokio_postgres::Client {
        let c = self.client().await;
        c.batch_execute("create table t (n int primary key); insert into t values (1), (2), (3)")
            .await
            .unwrap();
        c
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        let (client, conn) = tokio_postgres::connect(&self.url(), tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("the physical source on port {}: {e}", self.port));
        tokio::spawn(async move {
            let _ = conn.await;
        });
        client
    }

    /// Sets the source's archive_command and reloads.
    pub async fn set_archive_command(&self, command: &str) {
        let c = self.client().await;
        c.batch_execute(&format!(
            "alter system set archive_command = '{}'",
            command.replace('\'', "''")
        ))
        .await
        .unwrap();
        c.batch_execute("select pg_reload_conf()").await.unwrap();
    }

    /// Writes a little, switches WAL, and waits until the archiver has failed at least once.
    pub async fn wait_for_archive_failure(&self) {
        let c = self.client().await;
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            c.batch_execute(
                "create table if not exists churn (n int); insert into churn values (1); select pg_switch_wal();",
            )
            .await
            .unwrap();
            let failed: i64 = c
                .query_one("select failed_count from pg_stat_archiver", &[])
                .await
                .unwrap()
                .get(0);
            if failed > 0 {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "the archiver did not fail within 60 s"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    fn write_config(&self) {
        let p = self.path().display();
        let cipher = if self.cipher.is_some() {
            "repo2-cipher-type=aes-256-cbc\n"
        } else {
            ""
        };
        let repo2 = match &self.s3 {
            Some(s3) => s3.options(),
            None => format!("repo2-path={p}/repo2\n"),
        };
        let text = format!(
            "[global]\n\
             repo1-path={p}/repo1\nrepo1-retention-full=99\n\
             {repo2}repo2-retention-full=99\n{cipher}\
             log-path={p}/log\nlock-path={p}/lock\nspool-path={p}/spool\n\
             start-fast=y\nlog-level-console=warn\n\n\
             [{stanza}]\npg1-path={p}/pg\npg1-port={port}\npg1-socket-path={p}\n",
            stanza = self.stanza,
            port = self.port,
        );
        std::fs::write(self.config(), text).unwrap();
        self.chown(&self.config());
    }

    fn chown(&self, p: &Path) {
        nix::unistd::chown(p, Some(self.owner.0.into()), Some(self.owner.1.into())).unwrap();
    }

    fn as_postgres(&self, program: &str, args: &[&str]) -> String {
        let out = self.command(program, args).output().unwrap_or_else(|e| {
            panic!("cannot run {program}: {e}; {INSTALL} and the PostgreSQL 15 server")
        });
        assert!(
            out.status.success(),
            "{program} {args:?} failed: {}",
            output_text(&out)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// `program` as the cluster's OS user, in its folder, with the repositories' secrets in
    /// its environment.
    pub fn command(&self, program: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(program);
        cmd.args(args)
            .current_dir(self.path())
            .uid(self.owner.0)
            .gid(self.owner.1);
        for (var, value) in self.secret_env() {
            cmd.env(var, value);
        }
        cmd
    }
}

impl Drop for PhysicalSource {
    fn drop(&mut self) {
        if !self.stopped {
            let _ = self
                .command(
                    &format!("{BIN}/pg_ctl"),
                    &[
                        "-D",
                        self.data().to_str().unwrap(),
                        "-m",
                        "immediate",
                        "stop",
                    ],
                )
                .output();
            self.stopped = true;
        }
        if let Some(s3) = self.s3.take() {
            s3.delete();
        }
    }
}

fn require_pgbackrest() {
    match Command::new("pgbackrest").arg("version").output() {
        Ok(o) if o.status.success() => {}
        _ => panic!("pgbackrest is not installed: {INSTALL}"),
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn output_text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

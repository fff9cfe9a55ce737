//! The scratch cluster a pgBackRest restore fills: an [`EphemeralCluster`] folder (marker,
//! cleanup and `firedrill cleanup` sweep as for any ephemeral cluster) whose data directory
//! came from the repository, started on settings of its own so that it can never reach
//! production: no archiving (nothing is pushed into the repository), no replication, loopback
//! only, its own `postgresql.conf` and `pg_hba.conf` (trust on loopback and its socket), logs
//! in its folder. The `max_*` settings hot standby needs at least as high as the primary's
//! are taken from the restored `pg_control`; `shared_preload_libraries` are the restored
//! ones less those that act by themselves (see `preload`).

use std::path::{Path, PathBuf};
use std::process::Stdio;

use async_trait::async_trait;
use tokio::process::Command;
use tokio_postgres::Config;

use super::preload::Preload;
use crate::pg::{PgTarget, PgTools};
use crate::scratch::RecoveryRef;
use crate::scratch::{CleanupOutcome, EphemeralCluster, ScratchInfo, ScratchTarget};
use crate::{Error, Result};

/// Settings hot standby refuses to run with below the primary's, as `pg_controldata` names
/// them.
const CONTROL_SETTINGS: [(&str, &str); 5] = [
    ("max_connections setting", "max_connections"),
    ("max_worker_processes setting", "max_worker_processes"),
    ("max_wal_senders setting", "max_wal_senders"),
    ("max_prepared_xacts setting", "max_prepared_transactions"),
    ("max_locks_per_xact setting", "max_locks_per_transaction"),
];

pub struct RestoredCluster {
    pub cluster: EphemeralCluster,
    /// The source's user and database: the restored cluster has the source's roles.
    user: String,
    database: String,
    pub recovery: RecoveryRef,
}

impl RestoredCluster {
    pub fn new(
        cluster: EphemeralCluster,
        user: &str,
        database: &str,
        recovery: RecoveryRef,
    ) -> Self {
        Self {
            cluster,
            user: user.to_string(),
            database: database.to_string(),
            recovery,
        }
    }

    /// Where pgBackRest restores to.
    pub fn data(&self) -> PathBuf {
        self.cluster.dir().join("data")
    }

    /// Where pgBackRest restores every tablespace (`<folder>/tablespaces/<name>`).
    pub fn tablespaces(&self) -> PathBuf {
        self.cluster.dir().join("tablespaces")
    }

    /// The server log.
    pub fn log(&self) -> PathBuf {
        self.cluster.dir().join("postgres.log")
    }

    /// Writes the cluster's own configuration and starts it (recovery begins).
    ///
    /// # Errors
    /// [`crate::ErrorKind::Scratch`] with the server log's tail.
    pub async fn start(&mut self, tools: &PgTools, major: u32, preload: &Preload) -> Result<()> {
        let dir = self.cluster.dir().to_path_buf();
        let owner = self.cluster.owner();
        write_owned(
            &dir.join("postgresql.conf"),
            "# firedrill: settings are given on the command line\n",
            owner,
        )?;
        write_owned(
            &dir.join("pg_hba.conf"),
            "local all all trust\nhost all all 127.0.0.1/32 trust\n",
            owner,
        )?;
        write_owned(&dir.join("pg_ident.conf"), "", owner)?;
        let mut opts = format!(
            "-c config_file='{d}/postgresql.conf' -c hba_file='{d}/pg_hba.conf' \
             -c ident_file='{d}/pg_ident.conf' -c archive_command=/bin/false \
             -c ssl=off -c primary_conninfo= -c primary_slot_name= \
             -c max_logical_replication_workers=0 -c shared_preload_libraries={libs} \
             -c hot_standby=on -c logging_collector=off -c log_destination=stderr \
             -c lc_messages=C -c cluster_name=firedrill-scratch",
            d = dir.display(),
            libs = preload.setting(),
        );
        for (name, value) in control_settings(tools, major, &self.data(), owner).await? {
            opts.push_str(&format!(" -c {name}={value}"));
        }
        let mut config = Config::new();
        config.user(&self.user).dbname(&self.database);
        self.cluster.start_restored(opts, config).await
    }
}

/// The hot-standby settings of the restored `pg_control`.
async fn control_settings(
    tools: &PgTools,
    major: u32,
    data: &Path,
    owner: Option<(u32, u32)>,
) -> Result<Vec<(&'static str, String)>> {
    let tool = tools.find(
        "pg_controldata",
        major,
        "to read the restored cluster's settings",
    )?;
    let mut cmd = Command::new(&tool.path);
    cmd.arg(data)
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    if let Some((uid, gid)) = owner {
        cmd.uid(uid).gid(gid);
    }
    let out = tokio::time::timeout(std::time::Duration::from_secs(60), cmd.output())
        .await
        .map_err(|_| Error::scratch("pg_controldata did not answer within 60 s"))?
        .map_err(|e| Error::scratch(format!("cannot run pg_controldata: {e}")))?;
    if !out.status.success() {
        return Err(Error::scratch(format!(
            "pg_controldata `{}` failed: {}",
            data.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
        .hint("the restore did not leave a data directory; see pgBackRest's log in the scratch folder"));
    }
    Ok(parse_control(&String::from_utf8_lossy(&out.stdout)))
}

/// `max_connections setting:  100` -> (`max_connections`, `100`).
fn parse_control(text: &str) -> Vec<(&'static str, String)> {
    CONTROL_SETTINGS
        .iter()
        .filter_map(|(label, name)| {
            text.lines().find_map(|l| {
                let (k, v) = l.split_once(':')?;
                let v = v.trim();
                (k.trim() == *label && v.bytes().all(|b| b.is_ascii_digit()) && !v.is_empty())
                    .then(|| (*name, v.to_string()))
            })
        })
        .collect()
}

fn write_owned(path: &Path, text: &str, owner: Option<(u32, u32)>) -> Result<()> {
    std::fs::write(path, text)
        .map_err(|e| Error::scratch(format!("cannot write `{}`: {e}", path.display())))?;
    crate::scratch::hand_to(path, owner)
}

#[async_trait]
impl ScratchTarget for RestoredCluster {
    fn info(&self) -> ScratchInfo {
        ScratchInfo {
            database: self.database.clone(),
            recovery: Some(self.recovery.clone()),
            ..self.cluster.info()
        }
    }

    fn target(&self) -> &PgTarget {
        self.cluster.target()
    }

    async fn cleanup(&mut self) -> Result<CleanupOutcome> {
        self.cluster.cleanup().await
    }

    /// Trust on loopback: no password in the URL.
    fn keep(&mut self) -> String {
        let _ = self.cluster.keep();
        format!(
            "postgres://{}@127.0.0.1:{}/{}",
            crate::pg::conn::url_escape(&self.user),
            self.cluster.port(),
            crate::pg::conn::url_escape(&self.database)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_hot_standby_settings_of_pg_control() {
        let text = "wal_level setting:                    replica\n\
                    max_connections setting:              250\n\
                    max_worker_processes setting:         8\n\
                    max_wal_senders setting:              10\n\
                    max_prepared_xacts setting:           0\n\
                    max_locks_per_xact setting:           512\n";
        let got = parse_control(text);
        assert_eq!(
            got,
            [
                ("max_connections", "250".to_string()),
                ("max_worker_processes", "8".into()),
                ("max_wal_senders", "10".into()),
                ("max_prepared_transactions", "0".into()),
                ("max_locks_per_transaction", "512".into()),
            ]
        );
    }
}

//! Whether a scratch server is the source's own server, and what that forbids.
//!
//! From the URLs alone (spec load, drills): the same port on the same host, where `localhost`,
//! loopback addresses and socket folders all mean this machine and other names are resolved
//! (with a deadline) to compare their addresses. Connected (`check`): the same
//! `system_identifier` and postmaster start time, which also catches two names of one server.
//!
//! On the source's server a drill competes with production for CPU, memory, I/O and disk:
//! a warning. A scratch server URL that connects to the source database itself, or a prefix
//! the source database's name starts with (so a scratch database name, or a cleanup sweep,
//! could hit it), is refused.

use std::collections::HashSet;
use std::net::{IpAddr, ToSocketAddrs};
use std::sync::mpsc;
use std::time::Duration;

use tokio_postgres::Client;

use crate::pg::PgTarget;

/// How long resolving one host name may take before it counts as "not known to be the same".
const RESOLVE_DEADLINE: Duration = Duration::from_secs(2);

/// The fix every warning and refusal names.
pub const FIX: &str =
    "point drill.scratch.server at another server (or use scratch = \"ephemeral\")";

/// True when both URLs name the same server (port and host, after normalising).
pub fn by_url(source: &PgTarget, scratch: &PgTarget) -> bool {
    if source.port() != scratch.port() {
        return false;
    }
    let (a, b) = (host_key(&source.host()), host_key(&scratch.host()));
    if a == b {
        return true;
    }
    // Both lookups run at once, each within the deadline.
    let (ra, rb) = (resolve(&a, source.port()), resolve(&b, scratch.port()));
    !ra().is_disjoint(&rb())
}

/// A host as compared: `local` for this machine's loopback and socket folders, else the
/// lowercased name or the address.
fn host_key(host: &str) -> String {
    let h = host.trim().trim_end_matches('.').to_ascii_lowercase();
    let h = h.trim_start_matches('[').trim_end_matches(']');
    if h.is_empty() || h.starts_with('/') || h.starts_with('@') || h == "localhost" {
        return "local".into();
    }
    match h.parse::<IpAddr>() {
        Ok(ip) if ip.to_canonical().is_loopback() => "local".into(),
        Ok(ip) => ip.to_canonical().to_string(),
        Err(_) => h.to_string(),
    }
}

/// Starts resolving `key`; the returned function waits (within the deadline) for its
/// addresses, loopback ones as `local`, none when it does not resolve in time.
fn resolve(key: &str, port: u16) -> impl FnOnce() -> HashSet<String> {
    let (tx, rx) = mpsc::channel();
    let name = key.to_string();
    let literal = key == "local" || key.parse::<IpAddr>().is_ok();
    if !literal {
        std::thread::spawn(move || {
            let addrs: Vec<IpAddr> = (name.as_str(), port)
                .to_socket_addrs()
                .map(|a| a.map(|s| s.ip()).collect())
                .unwrap_or_default();
            let _ = tx.send(addrs);
        });
    }
    let key = key.to_string();
    move || {
        if literal {
            return HashSet::from([key]);
        }
        rx.recv_timeout(RESOLVE_DEADLINE)
            .unwrap_or_default()
            .into_iter()
            .map(|ip| host_key(&ip.to_string()))
            .collect()
    }
}

/// What makes a scratch server on the source's server unsafe to use at all: its URL connects
/// to the source database, through which scratch databases are created and dropped, or the
/// source database's name starts with the scratch prefix, so a scratch name or a cleanup
/// sweep could take it. `(problem, fix)`; `None` when only the warning applies.
pub fn refusal(source: &PgTarget, scratch: &PgTarget, prefix: &str) -> Option<(String, String)> {
    let db = source.dbname();
    if scratch.dbname() == db {
        return Some((
            format!(
                "the scratch server {} is the source database {} itself: scratch databases are created and dropped through this connection, on the source's server",
                scratch.display(),
                source.display()
            ),
            if db == "postgres" {
                // The maintenance database is the source: only another server will do.
                FIX.to_string()
            } else {
                format!(
                    "{FIX}; at the least connect it to the maintenance database (postgres://...:{}/postgres), never to the source database",
                    scratch.port()
                )
            },
        ));
    }
    if db.starts_with(prefix) {
        return Some((
            format!(
                "the source database `{db}` ({}) is on the scratch server {} and starts with the scratch prefix `{prefix}`: scratch databases are named `{prefix}<drill>_<backup-id>` and dropped by that prefix",
                source.display(),
                scratch.display()
            ),
            format!("choose a drill.scratch.prefix that `{db}` does not start with, or {FIX}"),
        ));
    }
    None
}

/// The warning for a scratch server that is the source's own server.
pub fn warning(source: &PgTarget, scratch: &PgTarget) -> String {
    format!(
        "the scratch server {} is the source's own server ({}): a drill there competes with production for CPU, memory, I/O and disk, and proves nothing about losing that server; {FIX}",
        scratch.display(),
        source.display()
    )
}

/// Who a connected server is: its `system_identifier` (when readable) and postmaster start
/// time. A physical replica shares the identifier but not the start time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub system_identifier: Option<String>,
    pub started: String,
}

impl Identity {
    /// Reads the identity of the server `client` is connected to.
    ///
    /// # Errors
    /// The server's message when not even its start time can be read.
    pub async fn of(client: &Client) -> Result<Identity, tokio_postgres::Error> {
        let started = "pg_postmaster_start_time()::text";
        let full =
            format!("select (select system_identifier from pg_control_system())::text, {started}");
        match client.query_one(full.as_str(), &[]).await {
            Ok(row) => Ok(Identity {
                system_identifier: row.get(0),
                started: row.get(1),
            }),
            Err(_) => {
                let row = client
                    .query_one(format!("select {started}").as_str(), &[])
                    .await?;
                Ok(Identity {
                    system_identifier: None,
                    started: row.get(0),
                })
            }
        }
    }

    /// The same server: the same start time and, when both are known, the same identifier.
    pub fn same(&self, other: &Identity) -> bool {
        self.started == other.started
            && match (&self.system_identifier, &other.system_identifier) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::SecretString;

    fn t(url: &str) -> PgTarget {
        PgTarget::from_url(&SecretString::from(url.to_string()), "test").unwrap()
    }

    #[test]
    fn loopback_names_and_sockets_are_one_host() {
        let src = t("postgres://u@localhost:5432/shop");
        for same in [
            "postgres://u@127.0.0.1:5432/postgres",
            "postgres://u@[::1]:5432/postgres",
            "postgres://u@127.0.1.1:5432/postgres",
            "postgres://u@LOCALHOST.:5432/postgres",
            "postgres://u@/postgres?host=/var/run/postgresql&port=5432",
        ] {
            assert!(by_url(&src, &t(same)), "{same}");
        }
        assert!(!by_url(&src, &t("postgres://u@127.0.0.1:5433/postgres")));
        assert!(!by_url(&src, &t("postgres://u@192.0.2.10:5432/postgres")));
        assert!(by_url(
            &t("postgres://u@192.0.2.10/shop"),
            &t("postgres://v@192.0.2.10:5432/x")
        ));
    }

    #[test]
    fn refusals_name_the_source_database_and_the_fix() {
        let src = t("postgres://u@127.0.0.1:5432/shop");
        let (why, fix) = refusal(&src, &t("postgres://u@localhost/shop"), "firedrill_").unwrap();
        assert!(why.contains("/shop itself"), "{why}");
        assert!(fix.contains("drill.scratch.server"), "{fix}");
        assert!(fix.contains(":5432/postgres"), "{fix}");
        let on_postgres = t("postgres://u@127.0.0.1:5432/postgres");
        let (_, fix) = refusal(&on_postgres, &on_postgres, "firedrill_").unwrap();
        assert_eq!(fix, FIX);
        let src = t("postgres://u@127.0.0.1:5432/fd_shop");
        let (why, fix) = refusal(&src, &t("postgres://u@localhost/postgres"), "fd_").unwrap();
        assert!(why.contains("`fd_shop`") && why.contains("`fd_`"), "{why}");
        assert!(fix.contains("drill.scratch.prefix"), "{fix}");
        assert!(refusal(&src, &t("postgres://u@localhost/postgres"), "firedrill_").is_none());
    }
}

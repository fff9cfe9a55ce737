//! Leases: never two backups (or two drills) of one spec at once, across hosts. A lease is
//! an object in a destination written only if absent (a hard link of a complete temporary file
//! for folders, `If-None-Match: *` for S3), renewed while the run lasts (never under Object
//! Lock retention), and removed at the end. A lease whose holder died is
//! taken over once it has expired (at once when the holder ran on this host and its process is
//! gone), and the run says so.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::task::JoinHandle;
use tracing::{info, warn};

use super::Destination;
use crate::{Error, Result};

/// How long a lease lives without renewal.
pub const TTL: Duration = Duration::from_secs(15 * 60);
/// How often a held lease is renewed.
const RENEW: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct LeaseRecord {
    /// `backup` or `drill`.
    pub operation: String,
    pub holder: String,
    pub acquired_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The backup a drill restores (prune never deletes it while the lease is held).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup_id: Option<String>,
}

/// A held lease; [`Lease::release`] removes it. Dropping it without release stops renewal and
/// leaves it to expire.
pub struct Lease {
    dest: Destination,
    key: String,
    record: Arc<Mutex<LeaseRecord>>,
    renewer: JoinHandle<()>,
    /// The holder whose expired lease was taken over, if any.
    pub took_over: Option<String>,
}

pub fn key(drill: &str, operation: &str) -> String {
    format!("{drill}/.locks/{operation}.json")
}

fn holder() -> String {
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "unknown-host".into());
    format!("{host}:{}", std::process::id())
}

/// Reads the current lease, if any.
///
/// # Errors
/// When the destination cannot be read.
pub async fn current(
    dest: &Destination,
    drill: &str,
    operation: &str,
) -> Result<Option<LeaseRecord>> {
    Ok(dest
        .store
        .get_bytes(&key(drill, operation))
        .await?
        .map(|b| parse(&b, operation)))
}

/// An unreadable lease (a crash mid-write) is treated as one that has expired.
fn parse(b: &[u8], operation: &str) -> LeaseRecord {
    serde_json::from_slice(b).unwrap_or_else(|_| LeaseRecord {
        operation: operation.into(),
        holder: "an unreadable lease".into(),
        acquired_at: DateTime::<Utc>::MIN_UTC,
        expires_at: DateTime::<Utc>::MIN_UTC,
        backup_id: None,
    })
}

/// Takes the lease for `operation` on `drill` in `dest`.
///
/// # Errors
/// [`crate::ErrorKind::Preflight`] naming the holder when another run holds it.
pub async fn acquire(
    dest: &Destination,
    drill: &str,
    operation: &str,
    backup_id: Option<&str>,
) -> Result<Lease> {
    let key = key(drill, operation);
    for _ in 0..3 {
        let now = Utc::now();
        let record = LeaseRecord {
            operation: operation.into(),
            holder: holder(),
            acquired_at: now,
            expires_at: now + chrono::Duration::from_std(TTL).expect("small"),
            backup_id: backup_id.map(str::to_string),
        };
        let body = Bytes::from(serde_json::to_vec_pretty(&record).expect("serialises"));
        if dest.store.put_if_absent(&key, body.clone()).await? {
            return Ok(Lease::held(dest, key, record, None));
        }
        let raw = dest.store.get_bytes(&key).await?;
        match raw.as_ref().map(|b| parse(b, operation)) {
            Some(held) if held.expires_at > Utc::now() && !holder_is_dead(&held.holder) => {
                return Err(Error::new(crate::ErrorKind::Busy, format!(
                    "another {operation} of `{drill}` is running ({}, since {}; lease in destination `{}` until {})",
                    held.holder,
                    held.acquired_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    dest.name,
                    held.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                ))
                .hint("wait for it to finish; a lease whose holder died expires by itself"));
            }
            Some(stale) => {
                // Replaced only if it is still the stale lease just read: of two runs taking
                // it over at the same moment, one wins and the other sees a live lease.
                let old = raw.expect("read above");
                if dest.store.replace_if_unchanged(&key, &old, body).await? {
                    warn!(drill, operation, holder = %stale.holder, "Took over an expired lease.");
                    return Ok(Lease::held(dest, key, record, Some(stale.holder)));
                }
            }
            // Vanished between the two calls: try again.
            None => {}
        }
    }
    Err(Error::preflight(format!(
        "could not take the {operation} lease of `{drill}` in `{}`",
        dest.name
    ))
    .hint("another run keeps taking it; try again"))
}

/// True when the holder ran on this host and its process is gone: its lease is stale now,
/// not only once it expires (a killed run on the same machine does not block the next one).
fn holder_is_dead(holder: &str) -> bool {
    let Some((host, pid)) = holder.rsplit_once(':') else {
        return false;
    };
    let this_host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_default();
    match pid.parse::<u32>() {
        Ok(pid) if host == this_host && pid != std::process::id() => {
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
        }
        _ => false,
    }
}

/// True when the lease object still names this holder (nobody took it over).
async fn still_ours(
    dest: &Destination,
    key: &str,
    record: &Mutex<LeaseRecord>,
) -> crate::Result<bool> {
    let (holder, acquired) = {
        let r = record.lock().expect("lease lock");
        (r.holder.clone(), r.acquired_at)
    };
    let now: Option<LeaseRecord> = dest
        .store
        .get_bytes(key)
        .await?
        .and_then(|b| serde_json::from_slice(&b).ok());
    Ok(now.is_some_and(|n| n.holder == holder && n.acquired_at == acquired))
}

async fn write(dest: &Destination, key: &str, record: &Mutex<LeaseRecord>) -> crate::Result<()> {
    if !still_ours(dest, key, record).await? {
        return Err(Error::new(
            crate::ErrorKind::Busy,
            format!("the lease `{key}` was taken over by another run"),
        ));
    }
    let body = {
        let mut r = record.lock().expect("lease lock");
        r.expires_at = Utc::now() + chrono::Duration::from_std(TTL).expect("small");
        Bytes::from(serde_json::to_vec_pretty(&*r).expect("serialises"))
    };
    dest.store.put_lease(key, body).await
}

fn spawn_renewer(
    dest: Destination,
    key: String,
    record: Arc<Mutex<LeaseRecord>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(RENEW).await;
            if let Err(e) = write(&dest, &key, &record).await {
                warn!(error = %e.message, "Could not renew the lease.");
            }
        }
    })
}

impl Lease {
    /// A lease just written: renewed from now on.
    fn held(
        dest: &Destination,
        key: String,
        record: LeaseRecord,
        took_over: Option<String>,
    ) -> Lease {
        let record = Arc::new(Mutex::new(record));
        let renewer = spawn_renewer(dest.clone(), key.clone(), record.clone());
        Lease {
            dest: dest.clone(),
            key,
            record,
            renewer,
            took_over,
        }
    }

    /// Records the backup this drill restores, so `prune` keeps it while the drill runs.
    ///
    /// # Errors
    /// When the lease cannot be rewritten.
    pub async fn set_backup_id(&self, id: &str) -> crate::Result<()> {
        self.record.lock().expect("lease lock").backup_id = Some(id.to_string());
        write(&self.dest, &self.key, &self.record).await
    }

    /// Stops renewal and removes the lease.
    pub async fn release(self) {
        self.renewer.abort();
        // Never remove a lease another run has taken over meanwhile.
        if !still_ours(&self.dest, &self.key, &self.record)
            .await
            .unwrap_or(false)
        {
            warn!(key = %self.key, "The lease is no longer ours; left in place.");
            return;
        }
        if let Err(e) = self.dest.store.delete_lease(&self.key).await {
            warn!(error = %e.message, key = %self.key, "Could not remove the lease; it expires by itself.");
        } else {
            info!(key = %self.key, "Lease released.");
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStore;
    use std::sync::Arc;

    #[tokio::test]
    async fn one_holder_at_a_time_and_stale_leases_are_taken_over() {
        let dest = Destination {
            name: "primary".into(),
            store: Arc::new(MemoryStore::default()),
        };
        let first = acquire(&dest, "orders", "backup", None).await.unwrap();
        let err = acquire(&dest, "orders", "backup", None)
            .await
            .err()
            .expect("held");
        assert!(
            err.message
                .contains("another backup of `orders` is running"),
            "{}",
            err.message
        );
        // A drill is another operation: it may run beside a backup.
        let drill = acquire(&dest, "orders", "drill", Some("id")).await.unwrap();
        drill.release().await;
        first.release().await;
        let again = acquire(&dest, "orders", "backup", None).await.unwrap();
        assert!(again.took_over.is_none());
        drop(again); // holder died: the lease stays until it expires

        // Expire it by hand, as time would.
        let k = key("orders", "backup");
        let mut rec: LeaseRecord =
            serde_json::from_slice(&dest.store.get_bytes(&k).await.unwrap().unwrap()).unwrap();
        rec.expires_at = Utc::now() - chrono::Duration::seconds(1);
        dest.store
            .put_bytes(&k, serde_json::to_vec(&rec).unwrap().into())
            .await
            .unwrap();
        let taken = acquire(&dest, "orders", "backup", None).await.unwrap();
        assert_eq!(taken.took_over.as_deref(), Some(rec.holder.as_str()));
        taken.release().await;
        assert!(current(&dest, "orders", "backup").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_taken_over_lease_is_not_released_by_its_old_holder_and_garbage_is_stale() {
        let dest = Destination {
            name: "primary".into(),
            store: Arc::new(MemoryStore::default()),
        };
        let old = acquire(&dest, "orders", "drill", None).await.unwrap();
        // Another run took it over (as after an expiry): the old holder must leave it alone.
        let k = key("orders", "drill");
        let mut rec: LeaseRecord =
            serde_json::from_slice(&dest.store.get_bytes(&k).await.unwrap().unwrap()).unwrap();
        rec.holder = "otherhost:1".into();
        dest.store
            .put_bytes(&k, serde_json::to_vec(&rec).unwrap().into())
            .await
            .unwrap();
        assert!(
            old.set_backup_id("x").await.is_err(),
            "renewal notices the takeover"
        );
        old.release().await;
        assert_eq!(
            current(&dest, "orders", "drill")
                .await
                .unwrap()
                .unwrap()
                .holder,
            "otherhost:1"
        );

        // A lease that is not even JSON (a crash mid-write) is stale.
        dest.store
            .put_bytes(&k, bytes::Bytes::from_static(b"\0\0"))
            .await
            .unwrap();
        let taken = acquire(&dest, "orders", "drill", None).await.unwrap();
        assert_eq!(taken.took_over.as_deref(), Some("an unreadable lease"));
        taken.release().await;
    }

    /// Writes an expired lease record, as a run that died long ago leaves.
    pub(crate) async fn leave_expired(dest: &Destination, drill: &str, operation: &str) {
        let rec = LeaseRecord {
            operation: operation.into(),
            holder: "deadhost:1".into(),
            acquired_at: Utc::now() - chrono::Duration::hours(2),
            expires_at: Utc::now() - chrono::Duration::hours(1),
            backup_id: None,
        };
        dest.store
            .put_lease(
                &key(drill, operation),
                serde_json::to_vec(&rec).unwrap().into(),
            )
            .await
            .unwrap();
    }

    /// Eight runs take over one expired lease at once: exactly one wins.
    pub(crate) async fn exactly_one_takes_over(dest: &Destination) {
        leave_expired(dest, "orders", "backup").await;
        let mut runs = tokio::task::JoinSet::new();
        for _ in 0..8 {
            let d = dest.clone();
            runs.spawn(async move { acquire(&d, "orders", "backup", None).await });
        }
        let mut won = Vec::new();
        let mut busy = 0;
        while let Some(r) = runs.join_next().await {
            match r.unwrap() {
                Ok(lease) => won.push(lease),
                Err(e) if e.kind == crate::ErrorKind::Busy => busy += 1,
                Err(e) => panic!("{}", e.render()),
            }
        }
        assert_eq!(won.len(), 1, "{} winners", won.len());
        assert_eq!(busy, 7);
        assert_eq!(won[0].took_over.as_deref(), Some("deadhost:1"));
        won.pop().unwrap().release().await;
    }

    /// The store primitive: of two swaps from the same old content, only the first succeeds.
    pub(crate) async fn swap_is_compare_and_swap(dest: &Destination) {
        let k = "orders/.locks/cas.json";
        dest.store
            .put_lease(k, Bytes::from_static(b"old"))
            .await
            .unwrap();
        assert!(dest
            .store
            .replace_if_unchanged(k, b"old", Bytes::from_static(b"a"))
            .await
            .unwrap());
        assert!(!dest
            .store
            .replace_if_unchanged(k, b"old", Bytes::from_static(b"b"))
            .await
            .unwrap());
        assert_eq!(
            dest.store.get_bytes(k).await.unwrap().as_deref(),
            Some(&b"a"[..])
        );
        assert!(!dest
            .store
            .replace_if_unchanged("orders/.locks/none.json", b"old", Bytes::from_static(b"c"))
            .await
            .unwrap());
        assert!(dest
            .store
            .get_bytes("orders/.locks/none.json")
            .await
            .unwrap()
            .is_none());
        dest.store.delete_lease(k).await.unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn takeover_is_a_compare_and_swap_in_memory_and_in_folders() {
        let dir = tempfile::tempdir().unwrap();
        for store in [
            Arc::new(MemoryStore::default()) as Arc<dyn crate::storage::ObjectStore>,
            Arc::new(crate::storage::FileStore::new(dir.path())),
        ] {
            let dest = Destination {
                name: "primary".into(),
                store,
            };
            swap_is_compare_and_swap(&dest).await;
            exactly_one_takes_over(&dest).await;
        }
    }
}

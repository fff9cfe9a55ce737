//! Byte stores: one [`ObjectStore`] trait, implemented by folders ([`FileStore`]), S3 buckets
//! ([`S3Store`]) and memory (tests), and the [`lease`]s built on its atomic writes. A store
//! knows keys and bytes, not backup sets: the set format (manifest, layout, replication with
//! parity) is [`crate::catalog`]'s. Keys are `/`-separated relative paths.

mod destination;
mod file;
pub mod lease;
mod memory;
mod regular;
mod s3;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncRead;

use crate::{Error, Result};

pub use destination::{DestinationKind, DestinationSpec, SettingProblem, SettingProblems};
pub use file::{FileStore, FolderDestination};
pub use memory::MemoryStore;
pub use s3::{ObjectLock, S3Destination, S3Options, S3Store, Sse};

/// `n` random bytes as hex: unique names for temporary objects, probes and backup ids.
pub fn random_hex(n: usize) -> String {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf).expect("the OS random source works");
    hex::encode(buf)
}

/// A readable byte stream.
pub type ByteStream = Box<dyn AsyncRead + Send + Unpin>;

/// One stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
}

/// A multipart upload that was started and never completed nor aborted (a killed backup).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaleUpload {
    /// The key it was uploading to.
    pub key: String,
    pub started_at: chrono::DateTime<chrono::Utc>,
    /// Why aborting it failed; `None` when it was aborted (or, in a dry run, would be).
    pub error: Option<String>,
}

/// A place that stores objects by key.
#[async_trait]
pub trait ObjectStore: Send + Sync {
    /// Human-readable location without secrets, e.g. `file:///var/backups/firedrill`.
    fn describe(&self) -> String;

    /// Streams `body` into `key`. The object becomes visible only when the whole stream has
    /// been read without error; on error nothing is left under `key`. Returns the size.
    async fn put(&self, key: &str, body: ByteStream) -> Result<u64>;

    /// Stores a small object atomically.
    async fn put_bytes(&self, key: &str, data: Bytes) -> Result<()>;

    /// Overwrites a lease object. Unlike [`ObjectStore::put_bytes`] it never applies Object
    /// Lock retention, so the lease can be removed when released.
    async fn put_lease(&self, key: &str, data: Bytes) -> Result<()> {
        self.put_bytes(key, data).await
    }

    /// Temporary objects of writes that never finished (a killed process), older than `age`;
    /// stores whose partial writes are invisible (S3 multipart) have none.
    async fn stale_partials(
        &self,
        _prefix: &str,
        _age: std::time::Duration,
    ) -> Result<Vec<String>> {
        Ok(Vec::new())
    }

    /// Multipart uploads under `prefix` started more than `older_than` ago and never
    /// completed nor aborted (a backup killed mid-upload): invisible as objects, but their
    /// parts stay stored. Aborts them unless `dry_run`, and returns them. Stores without
    /// multipart uploads have none.
    async fn abort_stale_uploads(
        &self,
        _prefix: &str,
        _older_than: std::time::Duration,
        _dry_run: bool,
    ) -> Result<Vec<StaleUpload>> {
        Ok(Vec::new())
    }

    /// Removes a leftover found by [`ObjectStore::stale_partials`].
    async fn remove_partial(&self, _path: &str) -> Result<()> {
        Ok(())
    }

    /// Removes a lease object. S3 uses a plain delete (a delete marker in versioned buckets),
    /// which a bucket's default Object Lock retention allows.
    async fn delete_lease(&self, key: &str) -> Result<()> {
        self.delete(key).await
    }

    /// Stores a small object only if `key` does not exist yet; `Ok(false)` when it does.
    /// Atomic across hosts (leases are built on it).
    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool>;

    /// Replaces a small object only if it still holds `expected` (a compare-and-swap);
    /// `Ok(false)` when it changed or vanished meanwhile. Atomic across hosts: expired leases
    /// are taken over with it, so two runs taking over one lease cannot both win.
    async fn replace_if_unchanged(&self, key: &str, expected: &[u8], data: Bytes) -> Result<bool>;

    /// Opens `key` for reading. A missing object is an error naming it.
    async fn get(&self, key: &str) -> Result<ByteStream>;

    /// Reads a small object whole, `None` when missing.
    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>>;

    /// Size of `key`, `None` when missing.
    async fn head(&self, key: &str) -> Result<Option<u64>>;

    /// Every object whose key starts with `prefix`.
    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>>;

    /// Removes `key`; missing is not an error.
    async fn delete(&self, key: &str) -> Result<()>;

    /// Copies `key` from `source` inside the storage service, without moving the bytes
    /// through firedrill. `Ok(false)` when this pair of stores cannot do that (the caller then
    /// streams the object).
    async fn copy_from(&self, _source: &dyn ObjectStore, _key: &str, _size: u64) -> Result<bool> {
        Ok(false)
    }

    /// Proves the store takes writes: writes, reads back and removes `key`.
    async fn probe(&self, key: &str) -> Result<()> {
        let body = Bytes::from_static(b"probe");
        self.put_bytes(key, body.clone()).await?;
        let back = self.get_bytes(key).await?;
        self.delete(key).await?;
        if back.as_deref() == Some(&body[..]) {
            Ok(())
        } else {
            Err(Error::storage(format!(
                "{} did not return what was written",
                self.describe()
            )))
        }
    }

    /// For [`ObjectStore::copy_from`]: lets a store recognise a peer of its own kind.
    fn as_any(&self) -> &dyn std::any::Any;
}

/// A named destination from the spec, opened.
#[derive(Clone)]
pub struct Destination {
    pub name: String,
    pub store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.name, self.store.describe())
    }
}

/// Opens the store behind a destination. Nothing is contacted yet.
///
/// # Errors
/// None for a checked destination today; the signature leaves room for a backend whose setup
/// can fail.
pub async fn open(spec: &DestinationSpec) -> Result<Destination> {
    let store: Arc<dyn ObjectStore> = match &spec.kind {
        DestinationKind::Folder(f) => Arc::new(FileStore::new(&f.path)),
        DestinationKind::S3(s3) => Arc::new(S3Store::new(&spec.name, s3).await?),
    };
    Ok(Destination {
        name: spec.name.clone(),
        store,
    })
}

/// Opens every destination of a spec.
///
/// # Errors
/// See [`open`].
pub async fn open_all(specs: &[DestinationSpec]) -> Result<Vec<Destination>> {
    let mut out = Vec::with_capacity(specs.len());
    for d in specs {
        out.push(open(d).await?);
    }
    Ok(out)
}

/// Proves a destination is writable: writes, reads back and deletes a probe object.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] naming the destination.
pub async fn probe_writable(dest: &Destination) -> Result<()> {
    let key = format!(".firedrill-probe-{}", random_hex(4));
    dest.store.probe(&key).await.map_err(|e| {
        Error::storage(format!(
            "destination `{}` ({}) is not writable: {}",
            dest.name,
            dest.store.describe(),
            e.message
        ))
        .hint(e.hint.clone().unwrap_or_else(|| {
            "create the directory or bucket, fix its permissions, or fix the destination url".into()
        }))
    })
}

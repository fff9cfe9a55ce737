//! Where backup sets live. One [`ObjectStore`] trait; `file://` now, `s3://` plugs in beside
//! it without touching the pipeline. Keys are `/`-separated relative paths
//! (`<drill>/<backup-id>/<object>`).

mod file;
pub mod layout;
pub mod manifest;
mod memory;
pub mod replicate;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncRead;

use crate::spec::DestinationSpec;
use crate::{Error, Result};

pub use file::FileStore;
pub use manifest::Manifest;
pub use memory::MemoryStore;

/// A readable byte stream.
pub type ByteStream = Box<dyn AsyncRead + Send + Unpin>;

/// One stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    pub key: String,
    pub size: u64,
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

/// Checks a destination URL's form: `Err((problem, fix))`.
///
/// # Errors
/// The problem and the fix, for spec validation.
pub fn check_url(url: &str) -> std::result::Result<(), (String, String)> {
    if let Some(path) = url.strip_prefix("file://") {
        if !path.starts_with('/') {
            return Err((
                format!("`{url}` is not an absolute file:// URL"),
                "write file:///absolute/path (three slashes)".into(),
            ));
        }
        Ok(())
    } else if url.starts_with("s3://") {
        Err((
            format!("`{url}`: s3:// destinations are not supported by this version"),
            "use a file:// destination".into(),
        ))
    } else if url.is_empty() {
        Err((
            "every destination needs a url".into(),
            "add url = \"file:///var/backups/firedrill\"".into(),
        ))
    } else {
        Err((
            format!("`{url}` is not a destination URL"),
            "use file:///absolute/path".into(),
        ))
    }
}

/// Opens the store behind a destination.
///
/// # Errors
/// [`crate::ErrorKind::Spec`] for a URL that is not supported.
pub fn open(spec: &DestinationSpec) -> Result<Destination> {
    check_url(&spec.url).map_err(|(m, h)| Error::spec(m).hint(h))?;
    let path = spec.url.strip_prefix("file://").expect("checked above");
    Ok(Destination {
        name: spec.name.clone(),
        store: Arc::new(FileStore::new(path)),
    })
}

/// Proves a destination is writable: writes, reads back and deletes a probe object.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] naming the destination.
pub async fn probe_writable(dest: &Destination) -> Result<()> {
    let key = format!(".firedrill-probe-{}", layout::random_hex(4));
    let body = Bytes::from_static(b"probe");
    dest.store
        .put_bytes(&key, body.clone())
        .await
        .map_err(|e| {
            Error::storage(format!(
                "destination `{}` ({}) is not writable: {}",
                dest.name,
                dest.store.describe(),
                e.message
            ))
            .hint("create the directory or fix its permissions, or fix the destination url")
        })?;
    let back = dest.store.get_bytes(&key).await?;
    dest.store.delete(&key).await?;
    if back.as_deref() != Some(&body[..]) {
        return Err(Error::storage(format!(
            "destination `{}` did not return what was written",
            dest.name
        )));
    }
    Ok(())
}

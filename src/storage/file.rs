//! `file://` destinations: a directory tree. Objects are written to a hidden temporary name
//! and renamed into place after `fsync`, so a killed run never leaves a complete-looking file.

use std::path::{Path, PathBuf};

use async_trait::async_trait;
use bytes::Bytes;
use tokio::io::AsyncWriteExt;

use super::regular::{self, OpenError};
use super::{random_hex, ByteStream, ObjectInfo, ObjectStore};
use crate::{Error, Result};

const TMP_MARK: &str = ".firedrill-partial-";

/// A `file://` destination as configured: a directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderDestination {
    /// Absolute path of the directory.
    pub path: String,
}

impl FolderDestination {
    /// Checks a `file://` URL's form: `Err((problem, fix))`.
    pub(crate) fn parse_url(url: &str) -> std::result::Result<Self, (String, String)> {
        let path = url.strip_prefix("file://").unwrap_or(url);
        if !path.starts_with('/') {
            return Err((
                format!("`{url}` is not an absolute file:// URL"),
                "write file:///absolute/path (three slashes)".into(),
            ));
        }
        Ok(Self {
            path: path.to_string(),
        })
    }

    /// `file:///path`.
    pub fn url(&self) -> String {
        format!("file://{}", self.path)
    }
}

#[derive(Debug, Clone)]
pub struct FileStore {
    root: PathBuf,
}

impl FileStore {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    fn path(&self, key: &str) -> Result<PathBuf> {
        if key
            .split('/')
            .any(|p| p.is_empty() || p == "." || p == "..")
        {
            return Err(Error::internal(format!("invalid object key `{key}`")));
        }
        Ok(self.root.join(key))
    }

    fn err(&self, what: &str, key: &str, e: std::io::Error) -> Error {
        let hint = match e.kind() {
            std::io::ErrorKind::PermissionDenied => "fix the directory's permissions",
            std::io::ErrorKind::NotFound => "check that the destination directory exists",
            _ => "check the destination's disk",
        };
        Error::storage(format!("cannot {what} `{key}` in {}: {e}", self.describe())).hint(hint)
    }

    /// An object that is a FIFO, a link or anything but a regular file: nothing a backup
    /// wrote, so the copy is damaged (never read: a FIFO would block the read forever).
    fn not_regular(&self, key: &str, what: &str) -> Error {
        Error::integrity(format!(
            "object `{key}` in {} is {what}, not a regular file",
            self.describe()
        ))
        .hint("firedrill reads only regular files: replace it with the object from another copy, or restore from another copy with --from")
    }

    fn open_err(&self, what: &str, key: &str, e: OpenError) -> Error {
        match e {
            OpenError::NotRegular(kind) => self.not_regular(key, kind),
            OpenError::Io(e) => self.err(what, key, e),
        }
    }

    /// Opens `key` for reading if it is a regular file (see [`regular::open`]).
    async fn open_regular(&self, key: &str) -> Result<std::fs::File> {
        let path = self.path(key)?;
        tokio::task::spawn_blocking(move || regular::open(&path))
            .await
            .map_err(|e| Error::internal(e.to_string()))?
            .map_err(|e| self.open_err("read", key, e))
    }

    async fn temp_for(&self, path: &Path, key: &str) -> Result<PathBuf> {
        let parent = path.parent().expect("keys have a parent");
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|e| self.err("create the folder for", key, e))?;
        let name = path
            .file_name()
            .expect("keys have a name")
            .to_string_lossy();
        Ok(parent.join(format!("{TMP_MARK}{}-{name}", random_hex(4))))
    }

    async fn commit(&self, tmp: &Path, path: &Path, key: &str) -> Result<()> {
        tokio::fs::rename(tmp, path)
            .await
            .map_err(|e| self.err("finish writing", key, e))?;
        if let Some(parent) = path.parent() {
            if let Ok(dir) = tokio::fs::File::open(parent).await {
                let _ = dir.sync_all().await;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl ObjectStore for FileStore {
    fn describe(&self) -> String {
        format!("file://{}", self.root.display())
    }

    async fn put(&self, key: &str, body: ByteStream) -> Result<u64> {
        let path = self.path(key)?;
        let tmp = self.temp_for(&path, key).await?;
        let result = async {
            let mut f = tokio::fs::File::create(&tmp)
                .await
                .map_err(|e| self.err("create", key, e))?;
            // 1 MiB writes: each write of a tokio file is a trip to the blocking pool, and
            // `io::copy` would make one every 8 KiB.
            let mut body = tokio::io::BufReader::with_capacity(1 << 20, body);
            let n = tokio::io::copy_buf(&mut body, &mut f)
                .await
                .map_err(|e| self.err("write", key, e))?;
            f.flush().await.map_err(|e| self.err("write", key, e))?;
            f.sync_all().await.map_err(|e| self.err("sync", key, e))?;
            Ok::<u64, Error>(n)
        }
        .await;
        match result {
            Ok(n) => {
                self.commit(&tmp, &path, key).await?;
                Ok(n)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(e)
            }
        }
    }

    async fn put_bytes(&self, key: &str, data: Bytes) -> Result<()> {
        let path = self.path(key)?;
        let tmp = self.temp_for(&path, key).await?;
        let write = async {
            let mut f = tokio::fs::File::create(&tmp).await?;
            f.write_all(&data).await?;
            f.sync_all().await
        };
        if let Err(e) = write.await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(self.err("write", key, e));
        }
        self.commit(&tmp, &path, key).await
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool> {
        let path = self.path(key)?;
        let parent = path.parent().expect("keys have a parent").to_path_buf();
        tokio::fs::create_dir_all(&parent)
            .await
            .map_err(|e| self.err("create the folder for", key, e))?;
        // Written in full under a temporary name, then linked into place: `link` fails if the
        // name exists, so exactly one writer wins and nobody reads a half-written lease.
        let tmp = self.temp_for(&path, key).await?;
        let written = async {
            let mut f = tokio::fs::File::create(&tmp).await?;
            f.write_all(&data).await?;
            f.sync_all().await
        };
        if let Err(e) = written.await {
            let _ = tokio::fs::remove_file(&tmp).await;
            return Err(self.err("write", key, e));
        }
        let linked = tokio::fs::hard_link(&tmp, &path).await;
        let _ = tokio::fs::remove_file(&tmp).await;
        match linked {
            Ok(()) => Ok(true),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
            Err(e) => Err(self.err("create", key, e)),
        }
    }

    async fn copy_from(&self, source: &dyn ObjectStore, key: &str, _size: u64) -> Result<bool> {
        // Folder to folder: the kernel copies (`copy_file_range`), the bytes never pass
        // through firedrill; the replica is read back and hashed afterwards as for any copy.
        let Some(src) = source.as_any().downcast_ref::<FileStore>() else {
            return Ok(false);
        };
        let from = src.path(key)?;
        let path = self.path(key)?;
        let tmp = self.temp_for(&path, key).await?;
        let t = tmp.clone();
        let copied = tokio::task::spawn_blocking(move || -> std::result::Result<(), OpenError> {
            let mut src = regular::open(&from)?;
            let mut dst = std::fs::File::create(&t).map_err(OpenError::Io)?;
            std::io::copy(&mut src, &mut dst).map_err(OpenError::Io)?;
            dst.sync_all().map_err(OpenError::Io)
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
        match copied {
            Ok(()) => {
                self.commit(&tmp, &path, key).await?;
                Ok(true)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(self.open_err("copy", key, e))
            }
        }
    }

    async fn replace_if_unchanged(&self, key: &str, expected: &[u8], data: Bytes) -> Result<bool> {
        let path = self.path(key)?;
        let tmp = self.temp_for(&path, key).await?;
        let expected = expected.to_vec();
        let lock_path = path.with_extension("takeover");
        let (p, t) = (path.clone(), tmp.clone());
        // Compare and replace under an exclusive lock on a sidecar file that every taker
        // uses. A run taking the lease normally only links it into place when absent, and the
        // rename below never leaves it absent, so it cannot slip in between.
        let swapped = tokio::task::spawn_blocking(move || -> std::io::Result<bool> {
            let lock = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)?;
            let _held = nix::fcntl::Flock::lock(lock, nix::fcntl::FlockArg::LockExclusive)
                .map_err(|(_, e)| std::io::Error::from(e))?;
            match regular::read(&p) {
                Ok(now) if now == expected => {}
                Ok(_) => return Ok(false),
                Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Ok(false)
                }
                Err(OpenError::Io(e)) => return Err(e),
                Err(OpenError::NotRegular(kind)) => {
                    return Err(std::io::Error::other(format!(
                        "it is {kind}, not a regular file"
                    )))
                }
            }
            {
                let mut f = std::fs::File::create(&t)?;
                std::io::Write::write_all(&mut f, &data)?;
                f.sync_all()?;
            }
            std::fs::rename(&t, &p)?;
            Ok(true)
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?;
        match swapped {
            Ok(done) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Ok(done)
            }
            Err(e) => {
                let _ = tokio::fs::remove_file(&tmp).await;
                Err(self.err("replace", key, e))
            }
        }
    }

    async fn stale_partials(&self, prefix: &str, age: std::time::Duration) -> Result<Vec<String>> {
        let root = self.root.join(prefix.trim_end_matches('/'));
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let mut stack = vec![root];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for e in entries.flatten() {
                    let path = e.path();
                    let Ok(meta) = e.metadata() else { continue };
                    if meta.is_dir() {
                        stack.push(path);
                    } else if e.file_name().to_string_lossy().starts_with(TMP_MARK)
                        && meta
                            .modified()
                            .ok()
                            .and_then(|m| m.elapsed().ok())
                            .is_some_and(|a| a > age)
                    {
                        out.push(path.display().to_string());
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?
    }

    async fn remove_partial(&self, path: &str) -> Result<()> {
        let p = std::path::Path::new(path);
        // Only firedrill's own temporary files below this destination.
        let ours = p.starts_with(&self.root)
            && p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with(TMP_MARK));
        if !ours {
            return Err(Error::storage(format!(
                "refusing to remove `{path}`: not a firedrill temporary file"
            )));
        }
        tokio::fs::remove_file(p)
            .await
            .map_err(|e| Error::storage(format!("cannot remove `{path}`: {e}")))
    }

    async fn get(&self, key: &str) -> Result<ByteStream> {
        let f = tokio::fs::File::from_std(self.open_regular(key).await?);
        Ok(Box::new(tokio::io::BufReader::with_capacity(1 << 20, f)))
    }

    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        let path = self.path(key)?;
        let read = tokio::task::spawn_blocking(move || regular::read(&path))
            .await
            .map_err(|e| Error::internal(e.to_string()))?;
        match read {
            Ok(b) => Ok(Some(Bytes::from(b))),
            Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.open_err("read", key, e)),
        }
    }

    async fn head(&self, key: &str) -> Result<Option<u64>> {
        let path = self.path(key)?;
        match tokio::fs::symlink_metadata(&path).await {
            Ok(m) if m.is_file() => Ok(Some(m.len())),
            Ok(m) => Err(self.not_regular(key, regular::describe(m.file_type()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(self.err("inspect", key, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let root = self.root.clone();
        let prefix = prefix.to_string();
        let describe = self.describe();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && dir == root => {
                        return Ok(out)
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => {
                        return Err(Error::storage(format!(
                            "cannot list `{}` in {describe}: {e}",
                            dir.display()
                        )))
                    }
                };
                for entry in entries.flatten() {
                    let path = entry.path();
                    let Ok(ft) = entry.file_type() else { continue };
                    let rel = path
                        .strip_prefix(&root)
                        .expect("below root")
                        .to_string_lossy()
                        .into_owned();
                    if ft.is_dir() {
                        if prefix.starts_with(&rel) || rel.starts_with(&prefix) {
                            stack.push(path);
                        }
                    } else if ft.is_file()
                        && rel.starts_with(&prefix)
                        && !entry.file_name().to_string_lossy().starts_with(TMP_MARK)
                    {
                        let size = entry.metadata().map(|m| m.len()).unwrap_or(0);
                        out.push(ObjectInfo { key: rel, size });
                    }
                }
            }
            out.sort_by(|a, b| a.key.cmp(&b.key));
            Ok(out)
        })
        .await
        .map_err(|e| Error::internal(e.to_string()))?
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let path = self.path(key)?;
        match tokio::fs::remove_file(&path).await {
            Ok(()) => {
                if let Some(parent) = path.parent() {
                    let _ = tokio::fs::remove_dir(parent).await;
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(self.err("delete", key, e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::bridge;
    use std::io::Write;

    #[tokio::test]
    async fn broken_stream_leaves_nothing_and_complete_one_is_listed() {
        let dir = tempfile::tempdir().unwrap();
        let store = FileStore::new(dir.path());
        let (mut w, r) = bridge::channel();
        let producer = tokio::task::spawn_blocking(move || {
            w.write_all(&[1u8; 1000]).unwrap();
            w.fail("pg_dump exited with status 1");
        });
        let err = store.put("d/1/data", r).await.unwrap_err();
        producer.await.unwrap();
        assert!(err.message.contains("d/1/data"), "{}", err.message);
        assert!(store.list("").await.unwrap().is_empty());

        store
            .put_bytes("d/1/manifest.json", Bytes::from_static(b"{}"))
            .await
            .unwrap();
        let listed = store.list("d/").await.unwrap();
        assert_eq!(
            listed,
            vec![ObjectInfo {
                key: "d/1/manifest.json".into(),
                size: 2
            }]
        );
        assert_eq!(store.head("d/1/missing").await.unwrap(), None);
        assert!(store
            .get("d/1/missing")
            .await
            .err()
            .expect("missing object")
            .message
            .contains("d/1/missing"));
        assert!(store.path("../escape").is_err());
    }
}

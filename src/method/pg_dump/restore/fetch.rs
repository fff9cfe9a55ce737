//! fetch -> verify SHA-256 -> age decrypt -> zstd decompress -> spool file.
//!
//! The plain dump is spooled to a private (0600) file in the work dir because `pg_restore -j`
//! needs a seekable archive. The file has no name: it is created unlinked, so it vanishes with
//! the last descriptor, even when firedrill is killed with SIGKILL, and no decrypted data is
//! ever left on disk. `pg_restore` reads it as [`ARCHIVE`], its standard input reopened by
//! name, which its `-j` workers (forked, with the same descriptors) reopen too.

use std::path::Path;
use std::process::Stdio;

use tokio_util::io::SyncIoBridge;
use tokio_util::sync::CancellationToken;

use crate::catalog::{layout, manifest::ObjectEntry, Manifest};
use crate::pipeline::{decode, keys::Identity, DecodeError, Decoded};
use crate::progress::{Meter, MeteredRead};
use crate::storage::{ByteStream, Destination};
use crate::{Error, ErrorKind, Result};

/// The name `pg_restore` opens the spool by: its standard input (see [`Spool::stdin`]).
/// Opening it gives a descriptor of its own (its own offset) on the same file.
pub const ARCHIVE: &str = "/dev/fd/0";

/// A private spool file without a name in the work dir: it is freed when the last
/// descriptor closes, whatever ends the process.
pub struct Spool {
    file: std::fs::File,
}

impl Spool {
    /// Creates an empty, unlinked 0600 file in `dir` (`O_TMPFILE`; where the file system has
    /// none, a new file removed at once), and a descriptor to write the dump into.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Scratch`] when `dir` is not writable.
    pub fn create(dir: &Path) -> Result<(Self, std::fs::File)> {
        std::fs::create_dir_all(dir).map_err(|e| {
            Error::scratch(format!("cannot create work dir `{}`: {e}", dir.display()))
                .hint("set drill.work-dir to a writable folder")
        })?;
        let file = unnamed(dir).map_err(|e| {
            Error::scratch(format!(
                "cannot create a spool file in work dir `{}`: {e}",
                dir.display()
            ))
            .hint("set drill.work-dir to a writable folder")
        })?;
        let spool = Self { file };
        let writer = spool.descriptor()?;
        Ok((spool, writer))
    }

    fn descriptor(&self) -> Result<std::fs::File> {
        self.file
            .try_clone()
            .map_err(|e| Error::scratch(format!("cannot share the spool file: {e}")))
    }

    /// Standard input for a `pg_restore` child that reads the archive as [`ARCHIVE`].
    ///
    /// # Errors
    /// [`crate::ErrorKind::Scratch`] when no descriptor is left.
    pub fn stdin(&self) -> Result<Stdio> {
        Ok(Stdio::from(self.descriptor()?))
    }
}

/// An unlinked read-write 0600 file in `dir`.
fn unnamed(dir: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let tmpfile = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_TMPFILE)
        .open(dir);
    match tmpfile {
        Ok(f) => Ok(f),
        // File systems without O_TMPFILE: a name for an instant. The pid in it lets `cleanup`
        // remove the empty file should the process die in between.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EOPNOTSUPP | libc::EISDIR)) => {
            let path = dir.join(format!(
                "spool-{}-{}.dump",
                std::process::id(),
                layout::random_hex(6)
            ));
            let f = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)?;
            std::fs::remove_file(&path)?;
            Ok(f)
        }
        Err(e) => Err(e),
    }
}

/// Fetches `obj` of `manifest` from `dest`, checks it and writes the plain dump into `file`.
///
/// # Errors
/// [`crate::ErrorKind::Key`] when the identity does not fit, [`crate::ErrorKind::Integrity`] naming the
/// object when its bytes are corrupted, truncated or differ from the manifest.
pub async fn fetch(
    dest: &Destination,
    manifest: &Manifest,
    obj: &ObjectEntry,
    identities: std::sync::Arc<Vec<Identity>>,
    file: std::fs::File,
    meter: &Meter,
    cancel: &CancellationToken,
) -> Result<Decoded> {
    let key = layout::object_key(&manifest.drill, &manifest.backup_id, &obj.name);
    let stream = open_listed(dest, &key).await?;
    let compression = manifest.compression();
    let cancel_read = cancel.clone();
    let meter = meter.clone();
    let task = tokio::task::spawn_blocking(move || {
        let input = CancellableReader::fetching(stream, meter, cancel_read);
        let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
        let decoded = decode(input, &mut out, compression, &identities)?;
        std::io::Write::flush(&mut out)?;
        Ok::<_, DecodeError>(decoded)
    });
    let decoded = task.await.map_err(|e| Error::internal(e.to_string()))?;
    checked(dest, manifest, obj, &key, decoded, cancel)
}

/// Opens an object the manifest lists. One that is missing, or that is not an object at all
/// (a FIFO or a link in a folder), makes the set unrestorable from this copy: an integrity
/// failure naming it (exit 1), not a store that cannot be read.
///
/// # Errors
/// [`crate::ErrorKind::Integrity`] when the object is missing or not an object, else the
/// store's error.
pub(crate) async fn open_listed(dest: &Destination, key: &str) -> Result<ByteStream> {
    match dest.store.get(key).await {
        Ok(stream) => Ok(stream),
        Err(e) if e.kind == ErrorKind::Integrity => Err(Error::integrity(format!(
            "destination `{}`: {}: the backup cannot be restored from this copy",
            dest.name, e.message
        ))
        .hint(e.hint.unwrap_or_else(|| {
            "restore from another copy with --from, and run a new backup".into()
        }))),
        Err(e) => match dest.store.head(key).await {
            Ok(None) => Err(Error::integrity(format!(
                "object `{key}` that the manifest lists is missing from destination `{}` ({}): the backup cannot be restored from this copy",
                dest.name,
                dest.store.describe()
            ))
            .hint("restore from another copy with --from, and run a new backup")),
            _ => Err(e),
        },
    }
}

/// Maps a decode outcome of object `obj` (at `key` in `dest`) to the error that names it, and
/// compares what was read with the manifest.
///
/// # Errors
/// See [`fetch`].
pub(crate) fn checked(
    dest: &Destination,
    manifest: &Manifest,
    obj: &ObjectEntry,
    key: &str,
    decoded: std::result::Result<Decoded, DecodeError>,
    cancel: &CancellationToken,
) -> Result<Decoded> {
    let where_ = format!(
        "`{key}` in destination `{}` ({})",
        dest.name,
        dest.store.describe()
    );
    let decoded = match decoded {
        Ok(d) => d,
        Err(_) if cancel.is_cancelled() => return Err(Error::aborted()),
        Err(DecodeError::NoMatchingKey) => {
            return Err(Error::key(format!(
                "the drill identity cannot decrypt {where_}: it matches none of the backup's recipients ({})",
                manifest.encryption.recipients.join(", ")
            ))
            .hint("use the identity whose public key was in backup.recipients when this backup was taken"))
        }
        Err(DecodeError::Corrupt(why)) => {
            return Err(Error::integrity(format!("object {where_} is corrupted or truncated: {why}"))
                .hint("restore from another copy with --from, and run a new backup"))
        }
        Err(DecodeError::Io(e)) => {
            return Err(Error::storage(format!("reading {where_} failed: {e}")).hint("check the destination and the work dir's free space"))
        }
    };
    if decoded.stored.size != obj.size || decoded.stored.sha256 != obj.sha256 {
        return Err(Error::integrity(format!(
            "object {where_} differs from its manifest: {} bytes with sha256 {}, expected {} bytes with sha256 {}",
            decoded.stored.size, decoded.stored.sha256, obj.size, obj.sha256
        ))
        .hint("restore from another copy with --from, and run a new backup"));
    }
    Ok(decoded)
}

/// Stops a blocking read when the drill is cancelled.
pub(crate) struct CancellableReader<R> {
    pub(crate) inner: R,
    pub(crate) cancel: CancellationToken,
}

impl CancellableReader<MeteredRead<SyncIoBridge<ByteStream>>> {
    /// Reads a fetched object's `stream` on a blocking thread, counting its bytes in `meter`.
    pub(crate) fn fetching(stream: ByteStream, meter: Meter, cancel: CancellationToken) -> Self {
        Self {
            inner: MeteredRead::new(SyncIoBridge::new(stream), meter),
            cancel,
        }
    }
}

impl<R: std::io::Read> std::io::Read for CancellableReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(std::io::Error::other("cancelled"));
        }
        self.inner.read(buf)
    }
}

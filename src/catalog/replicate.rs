//! Copies a complete backup set to another destination and proves byte parity: every object
//! is copied inside the storage service where it can (S3 CopyObject / UploadPartCopy) or
//! streamed across, read back from the replica and its size and SHA-256 compared with the
//! manifest. The manifest is written to the replica last, only after parity holds.

use bytes::Bytes;

use super::{layout, manifest::ObjectEntry, Destination, Manifest};
use crate::pipeline::hash::AsyncHashingReader;
use crate::{Error, Result};

/// Copies the set described by `manifest` from `from` to `to`.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] or [`crate::ErrorKind::Integrity`] naming the object.
pub async fn replicate(from: &Destination, to: &Destination, manifest: &Manifest) -> Result<()> {
    for obj in &manifest.objects {
        let key = layout::object_key(&manifest.drill, &manifest.backup_id, &obj.name);
        if !to
            .store
            .copy_from(from.store.as_ref(), &key, obj.size)
            .await?
        {
            stream_copy(from, to, &key, obj).await?;
        }
        verify_object(to, &key, obj.size, &obj.sha256).await?;
    }
    let mkey = layout::manifest_key(&manifest.drill, &manifest.backup_id);
    to.store
        .put_bytes(&mkey, Bytes::from(manifest.to_json()))
        .await
}

/// Streams one object through firedrill (different services or accounts), checking what was
/// read from the source against the manifest.
async fn stream_copy(
    from: &Destination,
    to: &Destination,
    key: &str,
    obj: &ObjectEntry,
) -> Result<()> {
    let src = from.store.get(key).await?;
    let (reader, sent) = AsyncHashingReader::new(src);
    to.store.put(key, Box::new(reader)).await?;
    let sent = sent.checksum();
    if sent.sha256 != obj.sha256 || sent.size != obj.size {
        let _ = to.store.delete(key).await;
        return Err(Error::integrity(format!(
            "object `{key}` in destination `{}` no longer matches its manifest (size {} vs {}, sha256 {} vs {})",
            from.name, sent.size, obj.size, sent.sha256, obj.sha256
        ))
        .hint("the primary copy is damaged; run a new backup"));
    }
    Ok(())
}

/// Reads `key` back from `dest` and compares size and SHA-256.
///
/// # Errors
/// [`crate::ErrorKind::Integrity`] when they differ.
pub async fn verify_object(dest: &Destination, key: &str, size: u64, sha256: &str) -> Result<()> {
    let stream = dest.store.get(key).await?;
    let (mut reader, got) = AsyncHashingReader::new(stream);
    tokio::io::copy(&mut reader, &mut tokio::io::sink())
        .await
        .map_err(|e| {
            Error::storage(format!(
                "cannot read back `{key}` from `{}`: {e}",
                dest.name
            ))
        })?;
    let got = got.checksum();
    if got.size != size || got.sha256 != sha256 {
        return Err(Error::integrity(format!(
            "object `{key}` in destination `{}` differs from the manifest (size {} vs {}, sha256 {}… vs {}…)",
            dest.name,
            got.size,
            size,
            &got.sha256[..12],
            &sha256[..12.min(sha256.len())]
        ))
        .hint("the copy is damaged; run a new backup"));
    }
    Ok(())
}

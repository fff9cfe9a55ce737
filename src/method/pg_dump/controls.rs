//! The data-path controls of a pg_dump set: its smallest object read again through the fetch,
//! verify and decrypt path a restore uses, once with one bit flipped on the way (must be
//! rejected as corrupt) and once with a freshly generated identity (must be refused as the
//! wrong key). Nothing is written: the plain bytes go nowhere, the stored set is not touched.

use std::io::Read;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::restore::fetch::{self, CancellableReader};
use crate::catalog::{layout, manifest::ObjectEntry, BackupSet};
use crate::pipeline::{decode, keys, keys::Identity, Decoded};
use crate::progress::Meter;
use crate::spec::DrillSpec;
use crate::storage::Destination;
use crate::verify::{Control, ControlStatus};
use crate::{Error, ErrorKind, Result};

/// Objects up to this size get their last byte flipped (the final chunk's tag); larger ones a
/// byte at this offset, so the read stops early where the payload is rejected.
const FLIP_WITHIN: u64 = 1 << 20;

pub(super) async fn run(
    spec: &DrillSpec,
    dest: &Destination,
    set: &BackupSet,
    cancel: &CancellationToken,
) -> Vec<Control> {
    let Some(obj) = set.manifest.objects.iter().min_by_key(|o| o.size) else {
        return vec![Control::new("integrity", None, "none")
            .with(ControlStatus::NotApplicable, "the set lists no object")];
    };
    let at = if obj.size <= FLIP_WITHIN {
        obj.size.saturating_sub(1)
    } else {
        FLIP_WITHIN
    };
    let start = Instant::now();
    let flipped = Control::new(
        "integrity",
        None,
        format!(
            "one bit flipped at byte {at} of `{}` as it is read",
            obj.name
        ),
    );
    let flipped = match keys::load_identities(spec.drill.identity_file.as_deref()) {
        Err(e) => flipped.with(ControlStatus::Unknown, e.message),
        Ok((ids, _)) => {
            let read = read_through(dest, set, obj, Arc::new(ids), Some(at), cancel).await;
            judge(flipped, read, ErrorKind::Integrity)
        }
    }
    .timed(start);
    let start = Instant::now();
    let foreign = Control::new(
        "integrity",
        None,
        format!("`{}` decrypted with a freshly generated identity", obj.name),
    );
    let stranger: Identity = Box::new(age::x25519::Identity::generate());
    let read = read_through(dest, set, obj, Arc::new(vec![stranger]), None, cancel).await;
    vec![flipped, judge(foreign, read, ErrorKind::Key).timed(start)]
}

/// Caught when the path refused the read with `want`; an object read as intact is missed.
fn judge(control: Control, read: Result<Decoded>, want: ErrorKind) -> Control {
    match read {
        Err(e) if e.kind == want => control.caught(e.message),
        Err(e) => control.with(
            ControlStatus::Unknown,
            format!("refused, but not as expected: {}", e.message),
        ),
        Ok(_) => control.with(
            ControlStatus::Missed,
            "the restore path read the object as intact",
        ),
    }
}

/// Reads `obj` the way a restore does, flipping the bit at `flip_at`, into nowhere.
async fn read_through(
    dest: &Destination,
    set: &BackupSet,
    obj: &ObjectEntry,
    identities: Arc<Vec<Identity>>,
    flip_at: Option<u64>,
    cancel: &CancellationToken,
) -> Result<Decoded> {
    let manifest = &set.manifest;
    let key = layout::object_key(&manifest.drill, &manifest.backup_id, &obj.name);
    let stream = fetch::open_listed(dest, &key).await?;
    let compression = manifest.compression();
    let cancel_read = cancel.clone();
    let decoded = tokio::task::spawn_blocking(move || {
        let input = FlipBit {
            inner: CancellableReader::fetching(stream, Meter::default(), cancel_read),
            at: flip_at,
            pos: 0,
        };
        decode(input, &mut std::io::sink(), compression, &identities)
    })
    .await
    .map_err(|e| Error::internal(e.to_string()))?;
    fetch::checked(dest, manifest, obj, &key, decoded, cancel)
}

/// Flips the lowest bit of the byte at `at` as it passes.
struct FlipBit<R> {
    inner: R,
    at: Option<u64>,
    pos: u64,
}

impl<R: Read> Read for FlipBit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(at) = self.at {
            if (self.pos..self.pos + n as u64).contains(&at) {
                buf[(at - self.pos) as usize] ^= 1;
            }
        }
        self.pos += n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flips_one_bit_across_reads() {
        let data = vec![0u8; 100];
        let mut r = FlipBit {
            inner: std::io::Cursor::new(data),
            at: Some(42),
            pos: 0,
        };
        let mut out = Vec::new();
        let mut buf = [0u8; 7];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        assert_eq!(out.iter().filter(|b| **b != 0).count(), 1);
        assert_eq!(out[42], 1);
    }
}

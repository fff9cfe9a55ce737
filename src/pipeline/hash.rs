//! SHA-256 + byte counting over a reader or writer: the checksum recorded for stored bytes.

use std::io::{self, Read, Write};

use sha2::{Digest, Sha256};

/// Size and SHA-256 (hex) of a byte stream.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Checksum {
    pub size: u64,
    pub sha256: String,
}

#[derive(Default)]
pub struct Hasher {
    digest: Sha256,
    size: u64,
}

impl Hasher {
    pub fn update(&mut self, buf: &[u8]) {
        self.digest.update(buf);
        self.size += buf.len() as u64;
    }
    pub fn size(&self) -> u64 {
        self.size
    }
    pub fn finish(self) -> Checksum {
        Checksum {
            size: self.size,
            sha256: hex::encode(self.digest.finalize()),
        }
    }
}

/// Hashes everything written through it.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Hasher,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        Self {
            inner,
            hasher: Hasher::default(),
        }
    }
    /// Flushes and returns the inner writer and the checksum of what went through.
    ///
    /// # Errors
    /// The inner writer's flush error.
    pub fn finish(mut self) -> io::Result<(W, Checksum)> {
        self.inner.flush()?;
        Ok((self.inner, self.hasher.finish()))
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Hashes everything read through it.
pub struct HashingReader<R> {
    inner: R,
    hasher: Hasher,
}

impl<R: Read> HashingReader<R> {
    pub fn new(inner: R) -> Self {
        Self {
            inner,
            hasher: Hasher::default(),
        }
    }
    pub fn inner_ref(&self) -> &R {
        &self.inner
    }
    pub fn bytes_read(&self) -> u64 {
        self.hasher.size()
    }
    /// Reads what is left (so trailing bytes count) and returns the checksum.
    ///
    /// # Errors
    /// The inner reader's error.
    pub fn finish(mut self) -> io::Result<Checksum> {
        io::copy(&mut self, &mut io::sink())?;
        Ok(self.hasher.finish())
    }
}

impl<R: Read> Read for HashingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reader_and_writer_agree_with_known_digest() {
        let data = b"abc";
        let (_, w) = {
            let mut hw = HashingWriter::new(Vec::new());
            hw.write_all(data).unwrap();
            hw.finish().unwrap()
        };
        let r = HashingReader::new(&data[..]).finish().unwrap();
        assert_eq!(w, r);
        assert_eq!(w.size, 3);
        assert_eq!(
            w.sha256,
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}

/// Async counterpart of [`HashingReader`]; the checksum is read through the shared handle
/// after the reader has been consumed (e.g. by a store's `put`).
pub struct AsyncHashingReader<R> {
    inner: R,
    hasher: std::sync::Arc<std::sync::Mutex<Hasher>>,
}

/// Handle to the running checksum of an [`AsyncHashingReader`].
#[derive(Clone, Default)]
pub struct HashHandle(std::sync::Arc<std::sync::Mutex<Hasher>>);

impl HashHandle {
    /// The checksum of everything read so far.
    pub fn checksum(&self) -> Checksum {
        let mut guard = self.0.lock().expect("hasher lock");
        std::mem::take(&mut *guard).finish()
    }
}

impl<R> AsyncHashingReader<R> {
    pub fn new(inner: R) -> (Self, HashHandle) {
        let handle = HashHandle::default();
        (
            Self {
                inner,
                hasher: handle.0.clone(),
            },
            handle,
        )
    }
}

impl<R: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for AsyncHashingReader<R> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<io::Result<()>> {
        let before = buf.filled().len();
        let poll = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Ok(())) = &poll {
            let fresh = &buf.filled()[before..];
            self.hasher.lock().expect("hasher lock").update(fresh);
        }
        poll
    }
}

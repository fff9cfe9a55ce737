//! Source -> SHA-256 -> age -> zstd -> sink. Runs on a blocking thread. The mirror of
//! [`super::encode`].

use std::io::{self, Read, Write};

use super::hash::{Checksum, HashingReader};
use super::keys::Identity;
use crate::spec::Compression;

/// Why decoding stopped.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    /// None of the identities can open the file.
    #[error("the identity matches none of the backup's recipients")]
    NoMatchingKey,
    /// The age header or a payload chunk failed authentication, or the stream was cut short.
    #[error("the stored bytes failed authentication ({0}): corrupted or truncated")]
    Corrupt(String),
    /// Reading the source or writing the sink failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// What a decode pass saw.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub stored: Checksum,
    pub plain_bytes: u64,
}

/// Decrypts and decompresses `input` into `output`.
///
/// # Errors
/// See [`DecodeError`]. The caller also compares `stored` with the manifest.
pub fn decode<R: Read, W: Write>(
    input: R,
    output: &mut W,
    compression: Compression,
    identities: &[Identity],
) -> Result<Decoded, DecodeError> {
    let mut source = SourceReader {
        inner: input,
        failed: false,
    };
    let mut hashing = HashingReader::new(&mut source);
    let mut sink = SinkWriter {
        inner: output,
        failed: false,
    };
    let output = &mut sink;
    let result = (|| -> Result<u64, DecodeError> {
        let decryptor = age::Decryptor::new(&mut hashing).map_err(classify)?;
        let reader = decryptor
            .decrypt(identities.iter().map(|i| i.as_ref() as _))
            .map_err(classify)?;
        let mut buf = vec![0u8; 1024 * 1024];
        match compression {
            Compression::None => {
                let mut r = reader;
                super::encode::copy_with(&mut r, output, &mut buf).map_err(classify_io)
            }
            Compression::Zstd(_) => {
                let mut z = zstd::stream::read::Decoder::new(reader)?;
                super::encode::copy_with(&mut z, output, &mut buf).map_err(classify_io)
            }
        }
    })();
    let plain_bytes = match result {
        Err(DecodeError::Corrupt(msg)) if sink.failed || hashing.source_failed() => {
            return Err(DecodeError::Io(io::Error::other(msg)));
        }
        other => other?,
    };
    let stored = hashing.finish()?;
    Ok(Decoded {
        stored,
        plain_bytes,
    })
}

fn classify(e: age::DecryptError) -> DecodeError {
    match e {
        age::DecryptError::NoMatchingKeys => DecodeError::NoMatchingKey,
        age::DecryptError::Io(io) => classify_io(io),
        other => DecodeError::Corrupt(other.to_string()),
    }
}

/// age reports payload authentication failures and truncation as `InvalidData` /
/// `UnexpectedEof`; zstd reports a damaged frame as `Other`. Sink failures are told apart by
/// [`SinkWriter`].
fn classify_io(e: io::Error) -> DecodeError {
    match e.kind() {
        io::ErrorKind::InvalidData | io::ErrorKind::UnexpectedEof | io::ErrorKind::Other => {
            DecodeError::Corrupt(e.to_string())
        }
        _ => DecodeError::Io(e),
    }
}

/// Remembers whether reading the stored bytes failed (a network or disk error), so that is
/// never mistaken for corruption either.
struct SourceReader<R> {
    inner: R,
    failed: bool,
}

impl<R: Read> Read for SourceReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|_| self.failed = true)
    }
}

impl<R: Read> HashingReader<&mut SourceReader<R>> {
    fn source_failed(&self) -> bool {
        self.inner_ref().failed
    }
}

/// Remembers whether the sink failed, so its errors are never mistaken for corruption.
struct SinkWriter<'a, W> {
    inner: &'a mut W,
    failed: bool,
}

impl<W: Write> Write for SinkWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).inspect_err(|_| self.failed = true)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().inspect_err(|_| self.failed = true)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{encode::encode, keys};
    use super::*;
    use secrecy::ExposeSecret;

    fn keypair() -> (Vec<Identity>, Vec<keys::Recipient>) {
        let (secret, recipient) = keys::generate();
        let ids = age::IdentityFile::from_buffer(secret.expose_secret().as_bytes())
            .unwrap()
            .into_identities()
            .unwrap()
            .into_iter()
            .map(|i| i as Identity)
            .collect();
        (ids, vec![keys::parse_recipient(&recipient).unwrap()])
    }

    fn sample() -> Vec<u8> {
        (0..300_000u32)
            .flat_map(|i| (i % 251).to_le_bytes())
            .collect()
    }

    #[test]
    fn round_trip_and_checksums_agree() {
        let (ids, recips) = keypair();
        let data = sample();
        let (enc, stored) =
            encode(&data[..], Vec::new(), Compression::Zstd(3), &recips, 2).unwrap();
        assert_eq!(enc.plain_bytes, data.len() as u64);
        assert_eq!(enc.stored.size, stored.len() as u64);
        let mut out = Vec::new();
        let dec = decode(&stored[..], &mut out, Compression::Zstd(3), &ids).unwrap();
        assert_eq!(out, data);
        assert_eq!(dec.stored, enc.stored);
    }

    #[test]
    fn flipped_byte_truncation_and_wrong_key_are_told_apart() {
        let (ids, recips) = keypair();
        let (_, stored) =
            encode(&sample()[..], Vec::new(), Compression::Zstd(3), &recips, 1).unwrap();

        let mut flipped = stored.clone();
        let mid = flipped.len() / 2;
        flipped[mid] ^= 0x01;
        let err = decode(&flipped[..], &mut io::sink(), Compression::Zstd(3), &ids).unwrap_err();
        assert!(matches!(err, DecodeError::Corrupt(_)), "{err:?}");

        let truncated = &stored[..stored.len() - 100];
        let err = decode(truncated, &mut io::sink(), Compression::Zstd(3), &ids).unwrap_err();
        assert!(matches!(err, DecodeError::Corrupt(_)), "{err:?}");

        let (other_ids, _) = keypair();
        let err = decode(
            &stored[..],
            &mut io::sink(),
            Compression::Zstd(3),
            &other_ids,
        )
        .unwrap_err();
        assert!(matches!(err, DecodeError::NoMatchingKey), "{err:?}");
    }
}

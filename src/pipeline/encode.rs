//! Plain bytes -> zstd -> age -> SHA-256 -> sink. Runs on a blocking thread.

use std::io::{self, Read, Write};

use super::hash::{Checksum, HashingWriter};
use super::keys::Recipient;
use crate::spec::Compression;

/// What an encode pass saw.
#[derive(Debug, Clone)]
pub struct Encoded {
    /// Bytes read from the input (the raw dump size).
    pub plain_bytes: u64,
    /// Size and SHA-256 of what was written to the sink (the stored object).
    pub stored: Checksum,
}

const BUF: usize = 1024 * 1024;
const JOB_SIZE: u32 = 2 * 1024 * 1024;

/// Compresses and encrypts `input` into `output`. Streams with fixed-size buffers.
///
/// # Errors
/// Any read, compression, encryption or write error; the output is then incomplete and must be
/// discarded (age's `finish` was not reached).
pub fn encode<R: Read, W: Write>(
    mut input: R,
    output: W,
    compression: Compression,
    recipients: &[Recipient],
    // zstd worker threads; 0 compresses on the calling thread.
    threads: u32,
) -> io::Result<(Encoded, W)> {
    let hashing = HashingWriter::new(output);
    let encryptor = age::Encryptor::with_recipients(recipients.iter().map(|r| r.as_ref() as _))
        .map_err(|e| io::Error::other(format!("cannot encrypt to the recipients: {e}")))?;
    let sealed = encryptor.wrap_output(hashing)?;
    let mut buf = vec![0u8; BUF];
    let mut plain = 0u64;
    let sealed = match compression {
        Compression::None => {
            let mut w = sealed;
            plain += pump(&mut input, &mut w, &mut buf)?;
            w
        }
        Compression::Zstd(level) => {
            let mut z = zstd::stream::write::Encoder::new(sealed, level)?;
            // Even one worker runs beside this thread, so reading overlaps compressing.
            if threads >= 1 {
                z.multithread(threads)?;
                // Small jobs keep each worker's buffers, and so memory, small.
                z.set_parameter(zstd::stream::raw::CParameter::JobSize(JOB_SIZE))?;
            }
            plain += pump(&mut input, &mut z, &mut buf)?;
            z.finish()?
        }
    };
    let hashing = sealed.finish()?;
    let (output, stored) = hashing.finish()?;
    Ok((
        Encoded {
            plain_bytes: plain,
            stored,
        },
        output,
    ))
}

pub(crate) fn pump<R: Read, W: Write>(
    input: &mut R,
    output: &mut W,
    buf: &mut [u8],
) -> io::Result<u64> {
    let mut total = 0u64;
    loop {
        let n = match input.read(buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        output.write_all(&buf[..n])?;
        total += n as u64;
    }
}

pub(crate) use pump as copy_with;

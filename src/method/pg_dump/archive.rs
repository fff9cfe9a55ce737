//! Counting rows in a pg_dump custom-format archive as it streams past, so the fingerprint's
//! row counts cost no second scan of the source.
//!
//! The reader understands archive versions 1.12 to 1.16 (PostgreSQL 9.6 to 17) written
//! uncompressed (`-Z0`): the header, the table of contents (to map dump ids to tables), and
//! the data blocks, whose COPY text has exactly one `\n` per row. Anything unexpected is an
//! error, and the caller then counts with queries instead.

use std::collections::HashMap;
use std::io::{self, BufRead, Read};

const BLK_DATA: u8 = 1;
const BLK_BLOBS: u8 = 3;

/// Rows per `(schema, table)` found in the archive's `TABLE DATA` blocks.
pub type RowCounts = HashMap<(String, String), i64>;

/// Bytes kept from the end of a block to recognise the end-of-data marker.
const TAIL: usize = 64;

/// Newlines belonging to a trailing `\\.` end-of-data line (and blank lines after it).
fn marker_newlines(tail: &[u8]) -> i64 {
    let k = tail.iter().rev().take_while(|&&b| b == b'\n').count();
    let body = &tail[..tail.len() - k];
    let at_line_start = body.len() == 2 || body.get(body.len().wrapping_sub(3)) == Some(&b'\n');
    if k > 0 && body.ends_with(b"\\.") && at_line_start {
        k as i64
    } else {
        0
    }
}

struct Archive<R> {
    r: R,
    int_size: usize,
    off_size: usize,
    version: (u8, u8),
}

fn bad(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("pg_dump archive: {what}"),
    )
}

impl<R: BufRead> Archive<R> {
    fn byte(&mut self) -> io::Result<u8> {
        let mut b = [0u8; 1];
        self.r.read_exact(&mut b)?;
        Ok(b[0])
    }

    fn int(&mut self) -> io::Result<i64> {
        let sign = self.byte()?;
        let mut v: i64 = 0;
        for i in 0..self.int_size {
            v |= i64::from(self.byte()?) << (8 * i);
        }
        Ok(if sign == 0 { v } else { -v })
    }

    fn string(&mut self) -> io::Result<Option<String>> {
        let len = self.int()?;
        if len < 0 {
            return Ok(None);
        }
        if len > 1 << 30 {
            return Err(bad("implausible string length"));
        }
        let mut buf = vec![0u8; len as usize];
        self.r.read_exact(&mut buf)?;
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }

    fn skip(&mut self, n: u64) -> io::Result<()> {
        self.read_through(n, |_| {})
    }

    /// Reads `n` bytes, counting newlines and keeping the last bytes in `tail`.
    fn count_newlines(&mut self, n: u64, tail: &mut Vec<u8>) -> io::Result<i64> {
        let mut lines = 0i64;
        self.read_through(n, |part| {
            lines += part.iter().filter(|&&b| b == b'\n').count() as i64;
            tail.extend_from_slice(&part[part.len().saturating_sub(TAIL)..]);
            if tail.len() > TAIL {
                tail.drain(..tail.len() - TAIL);
            }
        })?;
        Ok(lines)
    }

    /// Reads `n` bytes, handing each buffered piece to `seen`; an early end is an error.
    fn read_through(&mut self, mut n: u64, mut seen: impl FnMut(&[u8])) -> io::Result<()> {
        while n > 0 {
            let avail = self.r.fill_buf()?;
            if avail.is_empty() {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let take = (avail.len() as u64).min(n) as usize;
            seen(&avail[..take]);
            self.r.consume(take);
            n -= take as u64;
        }
        Ok(())
    }

    fn header(&mut self) -> io::Result<()> {
        let mut magic = [0u8; 5];
        self.r.read_exact(&mut magic)?;
        if &magic != b"PGDMP" {
            return Err(bad("no PGDMP magic"));
        }
        let (major, minor, _rev) = (self.byte()?, self.byte()?, self.byte()?);
        self.version = (major, minor);
        if major != 1 || !(12..=16).contains(&minor) {
            return Err(bad(&format!("unsupported archive version {major}.{minor}")));
        }
        self.int_size = self.byte()? as usize;
        self.off_size = self.byte()? as usize;
        if !(1..=8).contains(&self.int_size) || !(1..=8).contains(&self.off_size) {
            return Err(bad("implausible integer sizes"));
        }
        if self.byte()? != 1 {
            return Err(bad("not a custom-format archive"));
        }
        let uncompressed = if minor >= 15 {
            self.byte()? == 0
        } else {
            self.int()? == 0
        };
        if !uncompressed {
            return Err(bad("compressed archive (firedrill dumps with -Z0)"));
        }
        for _ in 0..7 {
            self.int()?; // creation time
        }
        for _ in 0..3 {
            self.string()?; // database, server version, pg_dump version
        }
        Ok(())
    }

    /// dump id -> (schema, table) of every `TABLE DATA` entry.
    fn toc(&mut self) -> io::Result<HashMap<i64, (String, String)>> {
        let count = self.int()?;
        let mut tables = HashMap::new();
        for _ in 0..count {
            let dump_id = self.int()?;
            self.int()?; // had dumper
            self.string()?; // table oid
            self.string()?; // oid
            let tag = self.string()?.unwrap_or_default();
            let desc = self.string()?.unwrap_or_default();
            self.int()?; // section
            for _ in 0..3 {
                self.string()?; // defn, drop, copy statements
            }
            let namespace = self.string()?.unwrap_or_default();
            self.string()?; // tablespace
            if self.version.1 >= 14 {
                self.string()?; // table access method
            }
            if self.version.1 >= 16 {
                self.int()?; // relkind
            }
            self.string()?; // owner
            self.string()?; // "false" (with oids)
            while self.string()?.is_some() {} // dependencies
            self.skip(1 + self.off_size as u64)?; // custom format: data offset
            if desc == "TABLE DATA" {
                tables.insert(dump_id, (namespace, tag));
            }
        }
        Ok(tables)
    }

    /// Reads a block's chunks; returns its rows: the newlines of the COPY text, less those of
    /// the end-of-data marker (`\\.` and the blank lines pg_dump writes after it).
    fn chunks(&mut self, count: bool) -> io::Result<i64> {
        let mut lines = 0;
        let mut tail = Vec::with_capacity(TAIL);
        loop {
            let len = self.int()?;
            if len == 0 {
                return Ok(lines - marker_newlines(&tail));
            }
            if len < 0 {
                return Err(bad("negative chunk length"));
            }
            if count {
                lines += self.count_newlines(len as u64, &mut tail)?;
            } else {
                self.skip(len as u64)?;
            }
        }
    }

    fn data(&mut self, tables: &HashMap<i64, (String, String)>) -> io::Result<RowCounts> {
        let mut counts = RowCounts::new();
        loop {
            let mut kind = [0u8; 1];
            if self.r.read(&mut kind)? == 0 {
                return Ok(counts);
            }
            let dump_id = self.int()?;
            match kind[0] {
                BLK_DATA => {
                    let rows = self.chunks(true)?;
                    if let Some(t) = tables.get(&dump_id) {
                        *counts.entry(t.clone()).or_default() += rows;
                    }
                }
                BLK_BLOBS => loop {
                    if self.int()? == 0 {
                        break;
                    }
                    self.chunks(false)?;
                },
                other => return Err(bad(&format!("unknown block type {other}"))),
            }
        }
    }
}

/// Reads a whole archive and counts rows per table.
///
/// # Errors
/// When the stream is not an uncompressed custom-format archive this reader understands.
pub fn count_rows<R: Read>(input: R) -> io::Result<RowCounts> {
    let mut a = Archive {
        r: io::BufReader::with_capacity(1 << 20, input),
        int_size: 4,
        off_size: 8,
        version: (1, 14),
    };
    a.header()?;
    let tables = a.toc()?;
    a.data(&tables)
}

/// Chunks in flight to the counter: bounds its memory to DEPTH x the read size.
const DEPTH: usize = 4;

/// A reader that hands a copy of every chunk to a row counter on another thread.
pub struct Tee<R> {
    inner: R,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    /// Buffers the counter is done with, reused to avoid fresh allocations per chunk.
    free: std::sync::mpsc::Receiver<Vec<u8>>,
}

impl<R: Read> Tee<R> {
    /// Wraps `inner`; the returned handle yields the counts once the stream has ended.
    pub fn new(inner: R) -> (Self, std::thread::JoinHandle<io::Result<RowCounts>>) {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(DEPTH);
        let (free_tx, free) = std::sync::mpsc::sync_channel::<Vec<u8>>(DEPTH + 2);
        let counter = std::thread::spawn(move || {
            count_rows(ChannelReader {
                rx,
                free: free_tx,
                buf: Vec::new(),
                pos: 0,
            })
        });
        (
            Self {
                inner,
                tx: Some(tx),
                free,
            },
            counter,
        )
    }
}

impl<R: Read> Read for Tee<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if n > 0 {
            if let Some(tx) = &self.tx {
                let mut copy = self.free.try_recv().unwrap_or_default();
                copy.clear();
                copy.extend_from_slice(&buf[..n]);
                // A counter that gave up (unknown format) must not stall the backup.
                if tx.send(copy).is_err() {
                    self.tx = None;
                }
            }
        }
        Ok(n)
    }
}

struct ChannelReader {
    rx: std::sync::mpsc::Receiver<Vec<u8>>,
    free: std::sync::mpsc::SyncSender<Vec<u8>>,
    buf: Vec<u8>,
    pos: usize,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            match self.rx.recv() {
                Ok(next) => {
                    let done = std::mem::replace(&mut self.buf, next);
                    let _ = self.free.try_send(done);
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::marker_newlines;

    #[test]
    fn end_marker_lines_are_not_rows() {
        assert_eq!(marker_newlines(b"1\n2\n\\.\n\n\n"), 3);
        assert_eq!(marker_newlines(b"\\.\n\n\n"), 3);
        assert_eq!(marker_newlines(b"1\n2\n"), 0);
        // A row whose text ends in a backslash-dot is escaped as `\\\\.`, never the marker.
        assert_eq!(marker_newlines(b"a\\\\.\n"), 0);
    }
}

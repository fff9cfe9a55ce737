//! The one bridge between the blocking pipeline (pg_dump -> zstd -> age, on a blocking thread)
//! and async storage: a bounded channel with a `Write` end and an `AsyncRead` end.
//!
//! Unlike a plain pipe, a failure on the writing side reaches the reader as an error, so a
//! store never mistakes a broken stream for a complete object. Memory is bounded by
//! `CHUNK * DEPTH`.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::Poll;

use bytes::Bytes;
use tokio::io::AsyncRead;
use tokio::sync::mpsc;

const CHUNK: usize = 256 * 1024;
const DEPTH: usize = 8;

/// The writing end. You MUST call [`ChannelWriter::finish`]; dropping it unfinished (or
/// [`ChannelWriter::fail`]) makes the reader fail with an error instead of seeing end-of-stream.
pub struct ChannelWriter {
    tx: Option<mpsc::Sender<io::Result<Bytes>>>,
    buf: Vec<u8>,
    finished: Arc<AtomicBool>,
}

/// The reading end, for [`crate::storage::ObjectStore::put`].
pub type ChannelReader = Box<dyn AsyncRead + Send + Unpin>;

/// A connected writer/reader pair.
pub fn channel() -> (ChannelWriter, ChannelReader) {
    let (tx, mut rx) = mpsc::channel::<io::Result<Bytes>>(DEPTH);
    let finished = Arc::new(AtomicBool::new(false));
    let seen_finish = finished.clone();
    let mut reported = false;
    let stream = futures_util::stream::poll_fn(move |cx| match rx.poll_recv(cx) {
        Poll::Ready(None) if !seen_finish.load(Ordering::SeqCst) && !reported => {
            reported = true;
            Poll::Ready(Some(Err(io::Error::other(
                "the producing side stopped before the stream was complete",
            ))))
        }
        other => other,
    });
    let reader = tokio_util::io::StreamReader::new(stream);
    (
        ChannelWriter {
            tx: Some(tx),
            buf: Vec::with_capacity(CHUNK),
            finished,
        },
        Box::new(reader),
    )
}

impl ChannelWriter {
    fn send(&mut self, item: io::Result<Bytes>) -> io::Result<()> {
        let tx = self
            .tx
            .as_ref()
            .ok_or_else(|| io::Error::new(io::ErrorKind::BrokenPipe, "stream already closed"))?;
        tx.blocking_send(item).map_err(|_| {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the destination stopped reading (see its error)",
            )
        })
    }

    fn send_buffer(&mut self) -> io::Result<()> {
        if !self.buf.is_empty() {
            let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
            self.send(Ok(chunk))?;
        }
        Ok(())
    }

    /// Sends what is buffered and ends the stream cleanly.
    ///
    /// # Errors
    /// When the reader has gone away.
    pub fn finish(mut self) -> io::Result<()> {
        self.send_buffer()?;
        self.finished.store(true, Ordering::SeqCst);
        self.tx = None;
        Ok(())
    }

    /// Ends the stream with an error the reader will see.
    pub fn fail(mut self, message: &str) {
        let _ = self.send(Err(io::Error::other(message.to_string())));
        self.tx = None;
    }
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = CHUNK - self.buf.len();
        let n = room.min(data.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.send_buffer()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The other direction: an async producer (a COPY stream) feeding a blocking reader (the
/// encoding thread). The reader sees end-of-stream only after [`Feeder::finish`]; a feeder
/// dropped unfinished, or failed, makes it fail.
pub fn inbound() -> (Feeder, InboundReader) {
    let (tx, rx) = mpsc::channel(DEPTH);
    (
        Feeder { tx },
        InboundReader {
            rx,
            current: Bytes::new(),
            done: false,
        },
    )
}

enum Item {
    Data(Bytes),
    End,
    Fail(String),
}

/// The async, producing end of [`inbound`].
pub struct Feeder {
    tx: mpsc::Sender<Item>,
}

impl Feeder {
    /// Hands `data` to the reader; false when the reader has gone away.
    pub async fn send(&self, data: Bytes) -> bool {
        self.tx.send(Item::Data(data)).await.is_ok()
    }

    /// Ends the stream cleanly.
    pub async fn finish(self) {
        let _ = self.tx.send(Item::End).await;
    }

    /// Ends the stream with an error the reader will see.
    pub async fn fail(self, message: &str) {
        let _ = self.tx.send(Item::Fail(message.to_string())).await;
    }
}

/// The blocking, reading end of [`inbound`].
pub struct InboundReader {
    rx: mpsc::Receiver<Item>,
    current: Bytes,
    done: bool,
}

impl std::io::Read for InboundReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.current.is_empty() {
                let n = buf.len().min(self.current.len());
                buf[..n].copy_from_slice(&self.current.split_to(n));
                return Ok(n);
            }
            if self.done {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Item::Data(b)) => self.current = b,
                Some(Item::End) => self.done = true,
                Some(Item::Fail(m)) => return Err(io::Error::other(m)),
                None => {
                    return Err(io::Error::other(
                        "the producing side stopped before the stream was complete",
                    ))
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn finished_stream_reads_fully_and_dropped_one_fails() {
        let (mut w, mut r) = channel();
        let writer = tokio::task::spawn_blocking(move || {
            w.write_all(&vec![7u8; CHUNK * 3 + 5]).unwrap();
            w.finish().unwrap();
        });
        let mut out = Vec::new();
        r.read_to_end(&mut out).await.unwrap();
        writer.await.unwrap();
        assert_eq!(out.len(), CHUNK * 3 + 5);

        let (mut w, mut r) = channel();
        tokio::task::spawn_blocking(move || {
            w.write_all(b"partial").unwrap();
            drop(w);
        })
        .await
        .unwrap();
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).await.is_err());
    }

    #[tokio::test]
    async fn inbound_ends_only_when_finished() {
        use std::io::Read;
        let (feeder, mut r) = inbound();
        let reader = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            r.read_to_end(&mut out).map(|_| out)
        });
        assert!(feeder.send(Bytes::from_static(b"abc")).await);
        assert!(feeder.send(Bytes::from_static(b"def")).await);
        feeder.finish().await;
        assert_eq!(reader.await.unwrap().unwrap(), b"abcdef");

        for end in ["drop", "fail"] {
            let (feeder, mut r) = inbound();
            let reader = tokio::task::spawn_blocking(move || {
                let mut out = Vec::new();
                r.read_to_end(&mut out)
            });
            assert!(feeder.send(Bytes::from_static(b"partial")).await);
            if end == "fail" {
                feeder.fail("source broke").await;
            } else {
                drop(feeder);
            }
            assert!(reader.await.unwrap().is_err(), "{end}");
        }
    }
}

//! One stream into several stores at once: the encrypted backup goes to the primary and to
//! folder replicas while it is made, instead of being copied after it. Every output gets every
//! chunk; a failure of the source reaches every output as an error (no store mistakes it for a
//! complete object). Outputs other than the first may drop out (their store failed) without
//! stopping the others; when the first drops out the source is dropped, as if read by it alone.
//! Memory is bounded by `CHUNK * DEPTH` per output.

use std::io;

use bytes::{Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::sync::mpsc;

const CHUNK: usize = 1 << 20;
const DEPTH: usize = 4;

/// A reader fed by [`split`].
pub type Output = Box<dyn AsyncRead + Send + Unpin>;

/// Splits `source` into `n` outputs; the returned future moves the bytes and must be polled
/// (joined) with the consumers of the outputs.
pub fn split(
    mut source: impl AsyncRead + Send + Unpin + 'static,
    n: usize,
) -> (Vec<Output>, impl std::future::Future<Output = ()> + Send) {
    let mut senders = Vec::with_capacity(n);
    let mut outputs: Vec<Output> = Vec::with_capacity(n);
    for _ in 0..n {
        let (tx, rx) = mpsc::channel::<io::Result<Bytes>>(DEPTH);
        senders.push(Some(tx));
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|item| (item, rx))
        });
        outputs.push(Box::new(tokio_util::io::StreamReader::new(Box::pin(
            stream,
        ))));
    }
    let pump = async move {
        loop {
            let mut buf = BytesMut::with_capacity(CHUNK);
            let read = loop {
                match source.read_buf(&mut buf).await {
                    Ok(0) => break Ok(buf.len()),
                    Ok(_) if buf.len() < CHUNK => continue,
                    Ok(_) => break Ok(buf.len()),
                    Err(e) => break Err(e),
                }
            };
            match read {
                Ok(0) => return, // end of stream: dropping the senders ends every output
                Ok(_) => {
                    let chunk = buf.freeze();
                    for (i, slot) in senders.iter_mut().enumerate() {
                        let Some(tx) = slot else { continue };
                        if tx.send(Ok(chunk.clone())).await.is_err() {
                            if i == 0 {
                                // The first output gave up: the others must not take what
                                // they got for a complete stream.
                                for tx in senders.iter().skip(1).flatten() {
                                    let _ = tx
                                        .send(Err(io::Error::other(
                                            "the primary store stopped reading",
                                        )))
                                        .await;
                                }
                                return;
                            }
                            *slot = None;
                        }
                    }
                    if buf_was_short(&chunk) {
                        return;
                    }
                }
                Err(e) => {
                    for tx in senders.iter().flatten() {
                        let _ = tx.send(Err(io::Error::new(e.kind(), e.to_string()))).await;
                    }
                    return;
                }
            }
        }
    };
    (outputs, pump)
}

/// A chunk shorter than `CHUNK` came from a source that reached its end.
fn buf_was_short(chunk: &Bytes) -> bool {
    chunk.len() < CHUNK
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_output_gets_every_byte_and_errors_reach_all() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let (outs, pump) = split(std::io::Cursor::new(data.clone()), 3);
        let reads = outs.into_iter().map(|mut r| async move {
            let mut v = Vec::new();
            r.read_to_end(&mut v).await.map(|_| v)
        });
        let (got, ()) = tokio::join!(futures_util::future::join_all(reads), pump);
        for g in got {
            assert_eq!(g.unwrap(), data);
        }

        // A failing source: every output fails, none sees a clean end.
        struct Failing(usize);
        impl AsyncRead for Failing {
            fn poll_read(
                mut self: std::pin::Pin<&mut Self>,
                _: &mut std::task::Context<'_>,
                buf: &mut tokio::io::ReadBuf<'_>,
            ) -> std::task::Poll<io::Result<()>> {
                if self.0 == 0 {
                    return std::task::Poll::Ready(Err(io::Error::other("pg_dump failed")));
                }
                self.0 -= 1;
                buf.put_slice(&[7u8; 1000]);
                std::task::Poll::Ready(Ok(()))
            }
        }
        let (outs, pump) = split(Failing(3), 2);
        let reads = outs.into_iter().map(|mut r| async move {
            let mut v = Vec::new();
            r.read_to_end(&mut v).await
        });
        let (got, ()) = tokio::join!(futures_util::future::join_all(reads), pump);
        for g in got {
            assert!(g.is_err(), "{g:?}");
        }
    }

    #[tokio::test]
    async fn the_first_output_dropping_out_fails_the_others() {
        let data = vec![1u8; 5 * CHUNK];
        let (mut outs, pump) = split(std::io::Cursor::new(data), 2);
        let mut second = outs.pop().unwrap();
        drop(outs);
        let read = async move {
            let mut v = Vec::new();
            second.read_to_end(&mut v).await
        };
        let (got, ()) = tokio::join!(read, pump);
        assert!(got.is_err(), "a replica must not see a clean end: {got:?}");
    }

    #[tokio::test]
    async fn a_replica_dropping_out_does_not_stop_the_first() {
        let data = vec![1u8; 5 * CHUNK + 17];
        let (mut outs, pump) = split(std::io::Cursor::new(data.clone()), 2);
        let second = outs.pop().unwrap();
        drop(second);
        let mut first = outs.pop().unwrap();
        let read = async move {
            let mut v = Vec::new();
            first.read_to_end(&mut v).await.map(|_| v)
        };
        let (got, ()) = tokio::join!(read, pump);
        assert_eq!(got.unwrap(), data);
    }
}

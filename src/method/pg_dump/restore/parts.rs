//! Loading table parts (see [`super::super::split`]): each part streams fetch -> verify
//! SHA-256 -> age decrypt -> zstd decompress -> `COPY ... FROM STDIN` on its own connection,
//! so the rows go in while the rest of the object is still arriving. The COPY is committed
//! only after the whole object has been read and matches its manifest entry; otherwise it is
//! aborted and no row of it stays.

use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use futures_util::future::BoxFuture;
use futures_util::SinkExt;
use tokio::io::AsyncReadExt;
use tokio_postgres::{Client, CopyInSink};
use tokio_util::sync::CancellationToken;

use super::fetch::{checked, open_listed, CancellableReader};
use super::pg_restore::pg_restore;
use crate::catalog::{layout, manifest::ObjectEntry, manifest::TablePart, Manifest};
use crate::pg::{conn::pg_message, PgTarget};
use crate::pipeline::{bridge, decode, keys::Identity, DecodeError, Decoded};
use crate::progress::Meter;
use crate::storage::{ByteStream, Destination};
use crate::{parallel, Error, Result};

const CHUNK: usize = 256 * 1024;

/// Loads part `obj` (`part`) of `manifest` from `dest` into `target`; returns the plain bytes.
///
/// # Errors
/// [`crate::ErrorKind::Integrity`] or [`crate::ErrorKind::Key`] as [`super::fetch::fetch`],
/// [`crate::ErrorKind::Restore`] when the rows do not load.
#[allow(clippy::too_many_arguments)]
pub async fn load(
    dest: &Destination,
    manifest: &Manifest,
    obj: &ObjectEntry,
    part: &TablePart,
    identities: Arc<Vec<Identity>>,
    target: &PgTarget,
    fetched: &Meter,
    cancel: &CancellationToken,
) -> Result<u64> {
    let (_client, sink) = open_copy_in(target, part).await?;
    let key = layout::object_key(&manifest.drill, &manifest.backup_id, &obj.name);
    let stream = open_listed(dest, &key).await?;
    let (writer, reader) = bridge::channel();
    let decoder = spawn_decoder(stream, writer, manifest, identities, fetched, cancel);
    let (loaded, decoded) = tokio::join!(load_rows(part, reader, sink, cancel), decoder);
    // A COPY that failed is the cause (the decoder then only saw its reader go away).
    let loaded = loaded?;
    let decoded = decoded.map_err(|e| Error::internal(e.to_string()))?;
    // Only an object that matches its manifest is committed; dropping the sink aborts the COPY.
    let decoded = checked(dest, manifest, obj, &key, decoded, cancel)?;
    let (sink, rest) = loaded.ok_or_else(|| {
        Error::internal(format!("the stream of {} stopped early", part.describe()))
    })?;
    commit(part, sink, rest).await?;
    Ok(decoded.plain_bytes)
}

/// The COPY into the scratch database that failed.
fn load_error(part: &TablePart, e: &tokio_postgres::Error) -> Error {
    Error::restore(format!(
        "cannot load {} into the scratch database: {}",
        part.describe(),
        pg_message(e)
    ))
    .hint("the backup does not restore cleanly into the scratch target")
}

/// A connection to `target` with a `COPY ... FROM STDIN` of `part` open on it.
async fn open_copy_in(target: &PgTarget, part: &TablePart) -> Result<(Client, CopyInSink<Bytes>)> {
    let client = target.connect("the scratch database").await?;
    client
        .batch_execute(
            "set datestyle = iso; set intervalstyle = postgres; set synchronous_commit = off",
        )
        .await
        .map_err(|e| load_error(part, &e))?;
    let sink = client
        .copy_in::<_, Bytes>(part.copy_in_sql().as_str())
        .await
        .map_err(|e| load_error(part, &e))?;
    Ok((client, sink))
}

/// Verifies, decrypts and decompresses `stream` into `writer` on a blocking thread.
fn spawn_decoder(
    stream: ByteStream,
    mut writer: bridge::ChannelWriter,
    manifest: &Manifest,
    identities: Arc<Vec<Identity>>,
    fetched: &Meter,
    cancel: &CancellationToken,
) -> tokio::task::JoinHandle<std::result::Result<Decoded, DecodeError>> {
    let compression = manifest.compression();
    let meter = fetched.clone();
    let stop = cancel.clone();
    tokio::task::spawn_blocking(move || {
        let input = CancellableReader::fetching(stream, meter, stop);
        let decoded = decode(input, &mut writer, compression, &identities);
        // A stream that failed is dropped unfinished: the loader then sees an error.
        if decoded.is_ok() {
            let _ = writer.finish();
        }
        decoded
    })
}

/// The sink of a COPY into the scratch database.
type Sink = std::pin::Pin<Box<CopyInSink<Bytes>>>;

/// Sends the plain rows to the COPY in chunks; returns the sink and what is left to send once
/// the stream ended, `None` when it stopped with an error (the decoder's error says what).
async fn load_rows(
    part: &TablePart,
    mut reader: bridge::ChannelReader,
    sink: CopyInSink<Bytes>,
    cancel: &CancellationToken,
) -> Result<Option<(Sink, BytesMut)>> {
    let mut sink = Box::pin(sink);
    let mut buf = BytesMut::with_capacity(CHUNK);
    loop {
        if cancel.is_cancelled() {
            return Err(Error::aborted());
        }
        buf.reserve(CHUNK);
        match reader.read_buf(&mut buf).await {
            Ok(0) => return Ok(Some((sink, buf))),
            Ok(_) if buf.len() >= CHUNK / 2 => {
                sink.send(buf.split().freeze())
                    .await
                    .map_err(|e| load_error(part, &e))?;
            }
            Ok(_) => {}
            // The decoder's error says what went wrong.
            Err(_) => return Ok(None),
        }
    }
}

/// Sends the last rows and commits the COPY.
async fn commit(part: &TablePart, mut sink: Sink, rest: BytesMut) -> Result<()> {
    if !rest.is_empty() {
        sink.send(rest.freeze())
            .await
            .map_err(|e| load_error(part, &e))?;
    }
    sink.as_mut()
        .finish()
        .await
        .map_err(|e| load_error(part, &e))?;
    Ok(())
}

/// Restores a backup with parts: the schema (`pre-data`) from `archive`, then pg_restore's
/// `data` section and every part `jobs` at a time, then indexes and constraints
/// (`post-data`). Returns the plain bytes of the parts; `fetched` counts their stored bytes
/// as they are read.
///
/// # Errors
/// The first failure of any step (a step stopped because another failed is not reported).
#[allow(clippy::too_many_arguments)]
pub async fn restore(
    tool: &crate::pg::PgTool,
    target: &PgTarget,
    archive: &super::fetch::Spool,
    dest: &Destination,
    manifest: &Manifest,
    identities: Arc<Vec<Identity>>,
    jobs: usize,
    fetched: &Meter,
    cancel: &CancellationToken,
) -> Result<u64> {
    // pg_restore's entries are not shown: the parts are the bulk of the work.
    let items = &Meter::default();
    pg_restore(tool, target, archive, Some("pre-data"), 1, items, cancel).await?;
    let stop = cancel.child_token();
    let data = async {
        let r = pg_restore(tool, target, archive, Some("data"), jobs, items, &stop).await;
        if r.is_err() {
            stop.cancel();
        }
        r.map(|()| 0)
    };
    let loads = part_loads(dest, manifest, &identities, target, fetched, &stop);
    let (data, loaded) = tokio::join!(data, parallel::all_or_stop(jobs, &stop, loads));
    if cancel.is_cancelled() {
        return Err(Error::aborted());
    }
    // pg_restore's data section stopped by a failed part (or the reverse) is not the cause.
    let plain = parallel::first_cause([data, loaded.map(|n| n.iter().sum())])?
        .into_iter()
        .sum();
    pg_restore(
        tool,
        target,
        archive,
        Some("post-data"),
        jobs,
        items,
        cancel,
    )
    .await?;
    Ok(plain)
}

/// A [`load`] of every part of `manifest`, to run `jobs` at a time.
fn part_loads<'a>(
    dest: &'a Destination,
    manifest: &'a Manifest,
    identities: &Arc<Vec<Identity>>,
    target: &'a PgTarget,
    fetched: &'a Meter,
    stop: &'a CancellationToken,
) -> Vec<BoxFuture<'a, Result<u64>>> {
    manifest
        .objects
        .iter()
        .filter_map(|o| o.part.as_ref().map(|p| (o, p)))
        .map(|(obj, part)| {
            let fut: BoxFuture<'_, _> = Box::pin(load(
                dest,
                manifest,
                obj,
                part,
                identities.clone(),
                target,
                fetched,
                stop,
            ));
            fut
        })
        .collect()
}

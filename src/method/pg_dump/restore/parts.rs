//! Loading table parts (see [`super::super::split`]): each part streams fetch -> verify
//! SHA-256 -> age decrypt -> zstd decompress -> `COPY ... FROM STDIN` on its own connection,
//! so the rows go in while the rest of the object is still arriving. The COPY is committed
//! only after the whole object has been read and matches its manifest entry; otherwise it is
//! aborted and no row of it stays.

use std::sync::Arc;

use bytes::BytesMut;
use futures_util::future::BoxFuture;
use futures_util::SinkExt;
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

use super::fetch::{checked, CancellableReader};
use super::pg_restore::pg_restore;
use crate::catalog::{layout, manifest::ObjectEntry, manifest::TablePart, Manifest};
use crate::pg::{conn::pg_message, PgTarget};
use crate::pipeline::{bridge, decode, keys::Identity};
use crate::progress::{Meter, MeteredRead};
use crate::storage::Destination;
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
    let restore_err = |e: tokio_postgres::Error| {
        Error::restore(format!(
            "cannot load {} into the scratch database: {}",
            part.describe(),
            pg_message(&e)
        ))
        .hint("the backup does not restore cleanly into the scratch target")
    };
    let client = target.connect("the scratch database").await?;
    client
        .batch_execute(
            "set datestyle = iso; set intervalstyle = postgres; set synchronous_commit = off",
        )
        .await
        .map_err(restore_err)?;
    let sink = client
        .copy_in::<_, bytes::Bytes>(part.copy_in_sql().as_str())
        .await
        .map_err(restore_err)?;
    let key = layout::object_key(&manifest.drill, &manifest.backup_id, &obj.name);
    let stream = dest.store.get(&key).await?;
    let compression = manifest.compression();
    let (mut writer, reader) = bridge::channel();
    let meter = fetched.clone();
    let stop = cancel.clone();
    let decoder = tokio::task::spawn_blocking(move || {
        let input = CancellableReader {
            inner: MeteredRead::new(tokio_util::io::SyncIoBridge::new(stream), meter),
            cancel: stop,
        };
        let decoded = decode(input, &mut writer, compression, &identities);
        // A stream that failed is dropped unfinished: the loader then sees an error.
        if decoded.is_ok() {
            let _ = writer.finish();
        }
        decoded
    });
    let loading = async {
        let mut reader = reader;
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
                    sink.send(buf.split().freeze()).await.map_err(restore_err)?;
                }
                Ok(_) => {}
                // The decoder's error says what went wrong.
                Err(_) => return Ok(None),
            }
        }
    };
    let (loaded, decoded) = tokio::join!(loading, decoder);
    // A COPY that failed is the cause (the decoder then only saw its reader go away).
    let loaded = loaded?;
    let decoded = decoded.map_err(|e| Error::internal(e.to_string()))?;
    // Only an object that matches its manifest is committed; dropping the sink aborts the COPY.
    let decoded = checked(dest, manifest, obj, &key, decoded, cancel)?;
    let (mut sink, rest) = loaded.ok_or_else(|| {
        Error::internal(format!("the stream of {} stopped early", part.describe()))
    })?;
    if !rest.is_empty() {
        sink.send(rest.freeze()).await.map_err(restore_err)?;
    }
    sink.as_mut().finish().await.map_err(restore_err)?;
    Ok(decoded.plain_bytes)
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
    archive: &std::path::Path,
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
    let loads: Vec<BoxFuture<'_, Result<u64>>> = manifest
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
                &stop,
            ));
            fut
        })
        .collect();
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

//! Loading table parts (see [`crate::source::split`]): each part streams fetch -> verify
//! SHA-256 -> age decrypt -> zstd decompress -> `COPY ... FROM STDIN` on its own connection,
//! so the rows go in while the rest of the object is still arriving. The COPY is committed
//! only after the whole object has been read and matches its manifest entry; otherwise it is
//! aborted and no row of it stays.

use std::sync::Arc;

use bytes::BytesMut;
use futures_util::SinkExt;
use tokio::io::AsyncReadExt;
use tokio_util::sync::CancellationToken;

use super::{checked, CancellableReader};
use crate::pg::{conn::pg_message, PgTarget};
use crate::pipeline::{bridge, decode, keys::Identity};
use crate::progress::{Meter, MeteredRead};
use crate::source::split::TablePart;
use crate::storage::{layout, manifest::ObjectEntry, Destination, Manifest};
use crate::{Error, Result};

const CHUNK: usize = 256 * 1024;

/// Loads part `obj` (`part`) of `manifest` from `dest` into `target`; returns the plain bytes.
///
/// # Errors
/// [`crate::ErrorKind::Integrity`] or [`crate::ErrorKind::Key`] as [`super::fetch`],
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
    use futures_util::StreamExt;
    // pg_restore's entries are not shown: the parts are the bulk of the work.
    let items = &Meter::default();
    super::pg_restore(tool, target, archive, Some("pre-data"), 1, items, cancel).await?;
    let stop = cancel.child_token();
    let data = async {
        let r = super::pg_restore(tool, target, archive, Some("data"), jobs, items, &stop).await;
        if r.is_err() {
            stop.cancel();
        }
        r.map(|()| 0)
    };
    let mut loads: Vec<futures_util::future::BoxFuture<'_, Result<u64>>> = Vec::new();
    for obj in &manifest.objects {
        let Some(part) = obj.part.as_ref() else {
            continue;
        };
        let (ids, stop) = (identities.clone(), &stop);
        loads.push(Box::pin(async move {
            let r = load(dest, manifest, obj, part, ids, target, fetched, stop).await;
            if r.is_err() {
                stop.cancel();
            }
            r
        }));
    }
    let loads = futures_util::stream::iter(loads)
        .buffer_unordered(jobs)
        .collect::<Vec<_>>();
    let (data, loaded) = tokio::join!(data, loads);
    let results: Vec<Result<u64>> = std::iter::once(data).chain(loaded).collect();
    if cancel.is_cancelled() {
        return Err(Error::aborted());
    }
    let mut plain = 0;
    let mut first_err = None;
    for r in results {
        match r {
            Ok(n) => plain += n,
            Err(e) if e.kind == crate::ErrorKind::Aborted && first_err.is_some() => {}
            Err(e) if e.kind == crate::ErrorKind::Aborted => first_err = Some(e),
            Err(e) => {
                if first_err
                    .as_ref()
                    .is_none_or(|f: &Error| f.kind == crate::ErrorKind::Aborted)
                {
                    first_err = Some(e);
                }
            }
        }
    }
    if let Some(e) = first_err {
        return Err(e);
    }
    super::pg_restore(
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

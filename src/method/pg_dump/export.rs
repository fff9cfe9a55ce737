//! One table part (see [`crate::method::pg_dump::split`]): `COPY ... TO STDOUT` on its own connection in
//! the backup's snapshot -> zstd -> age -> SHA-256 -> its own object in the primary
//! destination. Rows are counted on the way (COPY text has one `\n` per row).

use bytes::BytesMut;
use futures_util::StreamExt;
use tokio_postgres::CopyOutStream;
use tokio_util::sync::CancellationToken;

use crate::catalog::{layout, manifest::ObjectEntry};
use crate::method::pg_dump::split::{self, TablePart};
use crate::pg::{conn::pg_message, PgTarget};
use crate::pipeline::{bridge, encode, keys, Encoded};
use crate::progress::{Meter, MeteredRead};
use crate::spec::Compression;
use crate::storage::Destination;
use crate::{Error, Result};

/// Rows are handed to the encoder in chunks of this size (COPY sends one message per row).
const CHUNK: usize = 256 * 1024;

/// What the part exports share.
pub struct Job<'a> {
    pub source: &'a PgTarget,
    pub snapshot_id: &'a str,
    pub primary: &'a Destination,
    pub drill: &'a str,
    pub backup_id: &'a str,
    pub compression: Compression,
    pub recipients: &'a [String],
    /// Plain bytes copied out, for the progress display.
    pub meter: Meter,
}

/// A stored part.
pub struct Exported {
    pub entry: ObjectEntry,
    pub rows: i64,
}

/// The object name of part `index`.
pub fn object_name(index: usize) -> String {
    format!("part-{index:04}.copy.zst.age")
}

/// Exports `part` as object [`object_name`]`(index)`. On any failure the object is removed.
///
/// # Errors
/// [`crate::ErrorKind::Source`] when the rows cannot be read, [`crate::ErrorKind::Storage`]
/// when the destination fails, [`crate::ErrorKind::Aborted`] on cancel.
pub async fn export(
    job: &Job<'_>,
    index: usize,
    part: &TablePart,
    cancel: &CancellationToken,
) -> Result<Exported> {
    let name = object_name(index);
    let key = layout::object_key(job.drill, job.backup_id, &name);
    let result = store_part(job, &key, part, cancel).await;
    match result {
        Ok((entry, rows)) => Ok(Exported {
            entry: ObjectEntry {
                name,
                part: Some(part.clone()),
                ..entry
            },
            rows,
        }),
        Err(e) => {
            let _ = job.primary.store.delete(&key).await;
            Err(e)
        }
    }
}

async fn store_part(
    job: &Job<'_>,
    key: &str,
    part: &TablePart,
    cancel: &CancellationToken,
) -> Result<(ObjectEntry, i64)> {
    let (client, rows_out) = open_copy(job, part).await?;
    let recipients = keys::parse_recipients(job.recipients)?;
    let (feeder, input) = bridge::inbound();
    let (writer, reader) = bridge::channel();
    let encoder = spawn_encoder(job, input, writer, recipients);
    let copying = feed(job, part, rows_out, feeder, cancel);
    let (copied, encoded, stored) =
        tokio::join!(copying, encoder, job.primary.store.put(key, reader));
    drop(client);
    if cancel.is_cancelled() {
        return Err(Error::aborted());
    }
    let encoded = encoded.map_err(|e| Error::internal(e.to_string()))?;
    let (rows, encoded) = settle(job, key, part, copied, encoded, stored)?;
    Ok((
        ObjectEntry {
            name: String::new(),
            size: encoded.stored.size,
            sha256: encoded.stored.sha256,
            plain_size: encoded.plain_bytes,
            part: None,
        },
        rows,
    ))
}

/// The error of a COPY of `part` that failed on the source.
fn copy_error(job: &Job<'_>, part: &TablePart, e: &tokio_postgres::Error) -> Error {
    Error::source_db(format!(
        "cannot copy {} out of {}: {}",
        part.describe(),
        job.source.display(),
        pg_message(e)
    ))
    .hint("the role needs read access to every table it backs up")
}

/// A connection in the backup's snapshot and the rows of `part` coming out of it.
async fn open_copy(
    job: &Job<'_>,
    part: &TablePart,
) -> Result<(tokio_postgres::Client, CopyOutStream)> {
    let client = job.source.connect("the source database").await?;
    split::import_snapshot(&client, job.snapshot_id).await?;
    let rows_out = client
        .copy_out(part.copy_out_sql().as_str())
        .await
        .map_err(|e| copy_error(job, part, &e))?;
    Ok((client, rows_out))
}

/// Compresses and encrypts what `input` receives into `writer`, on this one blocking thread:
/// the parallelism is in the parts.
fn spawn_encoder(
    job: &Job<'_>,
    input: bridge::InboundReader,
    writer: bridge::ChannelWriter,
    recipients: Vec<keys::Recipient>,
) -> tokio::task::JoinHandle<std::io::Result<Encoded>> {
    let compression = job.compression;
    let meter = job.meter.clone();
    tokio::task::spawn_blocking(move || {
        let (encoded, writer) = encode::encode(
            MeteredRead::new(input, meter),
            writer,
            compression,
            &recipients,
            0,
        )?;
        writer.finish()?;
        Ok::<_, std::io::Error>(encoded)
    })
}

/// Hands the rows of `rows_out` to the encoder in chunks; returns how many rows went. The
/// encoder is told how the copy ended (finished, cancelled, or the source stopped).
async fn feed(
    job: &Job<'_>,
    part: &TablePart,
    rows_out: CopyOutStream,
    feeder: bridge::Feeder,
    cancel: &CancellationToken,
) -> Result<i64> {
    // One wait for cancellation around the whole copy, not one per row.
    let outcome = tokio::select! {
        r = copy_rows(rows_out, &feeder) => Some(r),
        () = cancel.cancelled() => None,
    };
    match outcome {
        None => {
            feeder.fail("cancelled").await;
            Err(Error::aborted())
        }
        Some(Ok(Some(rows))) => {
            feeder.finish().await;
            Ok(rows)
        }
        Some(Ok(None)) => Err(Error::internal("the part's encoder stopped")),
        Some(Err(e)) => {
            feeder.fail("the source stopped sending rows").await;
            Err(copy_error(job, part, &e))
        }
    }
}

/// Sends the rows in chunks of [`CHUNK`]; `None` when the encoder stopped taking them.
async fn copy_rows(
    rows_out: CopyOutStream,
    feeder: &bridge::Feeder,
) -> std::result::Result<Option<i64>, tokio_postgres::Error> {
    let mut rows_out = std::pin::pin!(rows_out);
    let mut buf = BytesMut::with_capacity(CHUNK);
    let mut rows = 0i64;
    while let Some(next) = rows_out.next().await {
        let row = next?;
        rows += memchr::memchr_iter(b'\n', &row).count() as i64;
        buf.extend_from_slice(&row);
        if buf.len() >= CHUNK && !feeder.send(buf.split().freeze()).await {
            return Ok(None);
        }
    }
    if !buf.is_empty() && !feeder.send(buf.freeze()).await {
        return Ok(None);
    }
    Ok(Some(rows))
}

/// The part's outcome from the three sides of its stream, naming the cause when more than
/// one failed; checks that the destination stored every byte sent.
fn settle(
    job: &Job<'_>,
    key: &str,
    part: &TablePart,
    copied: Result<i64>,
    encoded: std::io::Result<Encoded>,
    stored: Result<u64>,
) -> Result<(i64, Encoded)> {
    // The destination failing first stops the stream: its error is the cause to report.
    let store_first = matches!(&encoded, Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe);
    let stored = match stored {
        Err(e) if store_first => return Err(e),
        other => other,
    };
    let rows = copied?;
    let encoded = encoded
        .map_err(|e| Error::internal(format!("the stream of {} failed: {e}", part.describe())))?;
    let stored = stored?;
    if stored != encoded.stored.size {
        return Err(Error::storage(format!(
            "destination `{}` stored {stored} bytes of `{key}` but {} were sent",
            job.primary.name, encoded.stored.size
        )));
    }
    Ok((rows, encoded))
}

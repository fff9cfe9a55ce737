//! The streaming step of a pg_dump backup: pg_dump -> zstd -> age -> SHA-256 -> the primary,
//! beside the fingerprint queries and the table parts, until all have ended.

use futures_util::future::BoxFuture;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tracing::warn;

use super::Run;
use crate::catalog::layout;
use crate::method::pg_dump::archive::{self, RowCounts};
use crate::method::pg_dump::counts::{self, Facts};
use crate::method::pg_dump::export::{self, Exported};
use crate::method::pg_dump::split::TablePart;
use crate::pg::child;
use crate::pipeline::encode::Encoded;
use crate::pipeline::keys::Recipient;
use crate::pipeline::{bridge, encode};
use crate::progress::{Meter, MeteredRead};
use crate::source::fingerprint;
use crate::source::snapshot::Snapshot;
use crate::spec::RowCountSource;
use crate::{parallel, Error, Result};

/// What streaming gave, each part as it ended; [`Run::settle`] picks the outcome.
pub(super) struct Streamed {
    pub stored: Result<u64>,
    pub dump_status: std::io::Result<std::process::ExitStatus>,
    pub dump_stderr: String,
    pub encoded:
        std::result::Result<std::io::Result<(Encoded, Option<RowCounts>)>, tokio::task::JoinError>,
    /// `None` when the run was cancelled before the catalog facts were read.
    pub facts: Option<Result<Facts>>,
    pub exported: Result<Vec<Exported>>,
    /// Cancelled with the run, and when a table part failed.
    pub part_cancel: CancellationToken,
}

impl Run<'_> {
    /// pg_dump, the encoder, the fingerprint queries and the table parts, side by side until
    /// all have ended. The first part to fail stops the others and pg_dump.
    pub(super) async fn stream(
        &self,
        snap: &Snapshot,
        mut child: tokio::process::Child,
        stdout: std::fs::File,
        parts: &[TablePart],
        recipients: Vec<Recipient>,
        meter: Meter,
    ) -> Streamed {
        let part_cancel = self.cancel.child_token();
        let stderr = child::drain_stderr(child.stderr.take());
        let (writer, reader) = bridge::channel();
        let (status_tx, status_rx) = tokio::sync::oneshot::channel::<bool>();
        let from_dump = self.spec.backup.row_counts == RowCountSource::Dump;
        let encoder = spawn_encoder(
            MeteredRead::new(stdout, meter.clone()),
            writer,
            self.spec.backup.compression,
            recipients,
            from_dump,
            status_rx,
        );
        let dumper = async {
            let status = tokio::select! {
                s = child.wait() => s,
                () = part_cancel.cancelled() => {
                    let _ = child.start_kill();
                    child.wait().await
                }
            };
            let _ = status_tx.send(matches!(&status, Ok(s) if s.success()));
            (status, stderr.await.unwrap_or_default())
        };
        let data_key = self.key(layout::DATA_OBJECT);
        let (stored, (dump_status, dump_stderr), facts, encoded, exported) = tokio::join!(
            self.primary().store.put(&data_key, reader),
            dumper,
            self.facts(snap, from_dump),
            encoder,
            self.export_parts(snap, parts, meter, &part_cancel)
        );
        Streamed {
            stored,
            dump_status,
            dump_stderr,
            encoded,
            facts,
            exported,
            part_cancel,
        }
    }

    /// Catalog facts always come from queries in the snapshot; row counts either from the
    /// dump stream (free) or from `count(*)` running beside the dump.
    async fn facts(&self, snap: &Snapshot, from_dump: bool) -> Option<Result<Facts>> {
        let work = async {
            let tables = fingerprint::tables(&snap.client).await?;
            let objects = fingerprint::objects(&snap.client).await?;
            let rows = if from_dump {
                None
            } else {
                Some(
                    fingerprint::count_by_query(
                        &snap.client,
                        &tables,
                        self.spec.backup.exact_count_limit,
                    )
                    .await?,
                )
            };
            Ok::<_, Error>((tables, objects, rows))
        };
        tokio::select! {
            fp = work => Some(fp),
            () = self.cancel.cancelled() => None,
        }
    }

    /// Large tables: their block ranges, `jobs` at a time, beside pg_dump.
    async fn export_parts(
        &self,
        snap: &Snapshot,
        parts: &[TablePart],
        meter: Meter,
        part_cancel: &CancellationToken,
    ) -> Result<Vec<Exported>> {
        let job = export::Job {
            source: &self.source,
            snapshot_id: &snap.id,
            primary: self.primary(),
            drill: &self.spec.name,
            backup_id: &self.backup_id,
            compression: self.spec.backup.compression,
            recipients: &self.spec.backup.recipients,
            meter,
        };
        let exports: Vec<BoxFuture<'_, Result<Exported>>> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let fut: BoxFuture<'_, _> = Box::pin(export::export(&job, i, p, part_cancel));
                fut
            })
            .collect();
        parallel::all_or_stop(self.spec.backup.jobs, part_cancel, exports).await
    }
}

/// zstd -> age -> SHA-256 on a blocking thread, counting rows on the way when they come from
/// the dump. Only a dump that pg_dump itself reports as complete (`status`) becomes a complete
/// object.
fn spawn_encoder(
    input: MeteredRead<std::fs::File>,
    writer: bridge::ChannelWriter,
    compression: crate::spec::Compression,
    recipients: Vec<Recipient>,
    from_dump: bool,
    status: tokio::sync::oneshot::Receiver<bool>,
) -> JoinHandle<std::io::Result<(Encoded, Option<RowCounts>)>> {
    // zstd workers: one core stays with pg_dump, its server process and the encrypting thread
    // (measured: on 2 cores one worker beats two, which fight pg_dump for the CPU).
    let threads = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1)
        .saturating_sub(1)
        .max(1);
    tokio::task::spawn_blocking(move || {
        let (encoded, writer, counts) = if from_dump {
            let (tee, counter) = archive::Tee::new(input);
            let (encoded, writer) = encode::encode(tee, writer, compression, &recipients, threads)?;
            let counts = match counter.join() {
                Ok(Ok(c)) => Some(c),
                Ok(Err(e)) => {
                    warn!(error = %e, "Rows could not be counted in the dump stream; counting with queries.");
                    None
                }
                Err(_) => None,
            };
            (encoded, writer, counts)
        } else {
            let (encoded, writer) =
                encode::encode(input, writer, compression, &recipients, threads)?;
            (encoded, writer, None)
        };
        if status.blocking_recv().unwrap_or(false) {
            writer.finish()?;
            Ok((encoded, counts))
        } else {
            writer.fail("pg_dump did not finish successfully");
            Err(std::io::Error::other("pg_dump did not finish successfully"))
        }
    })
}

/// Row counts the dump stream did not give are taken in the still-open snapshot (rows of
/// split tables were counted in their parts). Not after a failed part: the backup fails, and
/// counting would scan for nothing.
pub(super) async fn complete_fingerprint(snap: &Snapshot, mut s: Streamed) -> Streamed {
    let counts = match &mut s.encoded {
        Ok(Ok((_, counts))) => counts.take(),
        _ => None,
    };
    let counts = match (counts, &s.exported) {
        (Some(c), Ok(done)) => Some(counts::add_parts(c, done)),
        (c, _) => c,
    };
    let encoded_ok = matches!(&s.encoded, Ok(Ok(_)));
    s.facts = match s.facts {
        Some(Ok((tables, objects, None))) if encoded_ok && s.exported.is_ok() => Some(
            counts::complete(&snap.client, tables, objects, counts.as_ref())
                .await
                .map(|fp| (Vec::new(), fp.objects, Some(fp.tables))),
        ),
        Some(Ok((_, _, None))) => Some(Err(Error::internal(
            "the dump failed before rows were counted",
        ))),
        other => other,
    };
    s
}

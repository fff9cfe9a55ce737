//! `firedrill backup`: snapshot -> fingerprint + pg_dump (and large tables as parallel parts,
//! see [`parts`]) -> zstd -> age -> SHA-256 -> primary destination -> manifest (last, atomic)
//! -> replicate to every other destination with parity.

pub mod parts;

use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use futures_util::future::BoxFuture;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::measure::{Phase, PhaseClock};
use crate::pg::{child, PgTarget, PgTools};
use crate::pipeline::{bridge, encode, keys};
use crate::progress::{MeteredRead, Unit};
use crate::source::fingerprint::TableRef;
use crate::source::{archive, dump, fingerprint, rds, snapshot, split, Fingerprint, TableRows};
use crate::spec::{DrillSpec, RowCountSource};
use crate::storage::{self, layout, lease, manifest, replicate, Destination, Manifest};
use crate::{parallel, Error, ErrorKind, Result};

/// What a backup run did.
#[derive(Debug, Serialize)]
pub struct BackupOutcome {
    pub drill: String,
    pub backup_id: String,
    pub snapshot_at: chrono::DateTime<Utc>,
    pub primary: String,
    pub stored_bytes: u64,
    pub plain_bytes: u64,
    pub seconds: f64,
    pub replicas: Vec<ReplicaOutcome>,
    pub phases: Vec<Phase>,
    /// Holder of an expired lease this run took over (a run that died).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_takeover: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct ReplicaOutcome {
    pub destination: String,
    pub parity: bool,
    pub error: Option<String>,
}

impl BackupOutcome {
    /// True when every replica holds a verified copy.
    pub fn complete(&self) -> bool {
        self.replicas.iter().all(|r| r.parity)
    }
}

/// Merges row counts read from the dump with the table list; tables the dump did not count
/// (or all of them, when the stream could not be read) are counted with `count(*)`.
async fn complete_counts(
    client: &tokio_postgres::Client,
    tables: Vec<TableRef>,
    objects: std::collections::BTreeMap<String, i64>,
    counts: Option<&archive::RowCounts>,
) -> Result<Fingerprint> {
    let mut rows = Vec::with_capacity(tables.len());
    for t in tables {
        let n = match counts.and_then(|c| c.get(&(t.schema.clone(), t.table.clone()))) {
            Some(n) => *n,
            None => fingerprint::count(client, &t).await?,
        };
        rows.push(TableRows {
            schema: t.schema,
            table: t.table,
            rows: n,
            exact: true,
        });
    }
    Ok(Fingerprint {
        tables: rows,
        objects,
    })
}

/// Runs one backup of `spec`'s source.
///
/// # Errors
/// Any failure before the primary manifest is written; nothing is then listed as complete.
/// Replica failures are reported in [`BackupOutcome::replicas`], not as errors.
pub async fn run(spec: &DrillSpec, cancel: &CancellationToken) -> Result<BackupOutcome> {
    let dests = storage::open_all(&spec.destinations).await?;
    let primary = dests.first().expect("validated: at least one destination");
    let lease = lease::acquire(primary, &spec.name, "backup", None).await?;
    let result = match &spec.source.rds {
        Some(rds) => run_rds(spec, rds, cancel).await,
        None => run_pg_dump(spec, cancel).await,
    };
    let took_over = lease.took_over.clone();
    lease.release().await;
    result.map(|mut o| {
        o.lease_takeover = took_over;
        o
    })
}

async fn run_pg_dump(spec: &DrillSpec, cancel: &CancellationToken) -> Result<BackupOutcome> {
    let started = Instant::now();
    let started_at = Utc::now();
    let mut clock = PhaseClock::default();
    let recipients = keys::parse_recipients(&spec.backup.recipients)?;
    let dests: Vec<Destination> = storage::open_all(&spec.destinations).await?;
    let primary = dests
        .first()
        .expect("validated: at least one destination")
        .clone();
    let source =
        PgTarget::from_url(&spec.source.url, "source.url")?.with_ca(spec.source.ca_file.clone());

    let phase = clock.start("snapshot");
    let snap = snapshot::open(&source).await?;
    clock.end(phase, None);
    let tools = PgTools::new(spec.tools.bin_dir.clone());
    let pg_dump = tools.find(
        "pg_dump",
        snap.server.server_major,
        &format!(
            "for the source server (PostgreSQL {})",
            snap.server.server_version
        ),
    )?;
    let backup_id = layout::new_backup_id(started_at);
    let data_key = layout::object_key(&spec.name, &backup_id, layout::DATA_OBJECT);
    info!(drill = %spec.name, backup = %backup_id, source = %source.display(), destination = %primary.name, "Backup started.");

    let estimate = fingerprint::estimated_dump_bytes(&snap.client).await;
    let table_parts = match split::plan(
        &snap.client,
        spec.backup.jobs,
        snap.server.server_major,
        spec.backup.split_size,
    )
    .await?
    {
        split::Plan::Parts(p) => p,
        split::Plan::NotSplit(why) => {
            info!(reason = why, "Every table goes through one pg_dump stream.");
            Vec::new()
        }
    };
    let exclude: Vec<String> = table_parts.iter().map(|p| p.dump_pattern()).collect();
    let phase = clock.start("dump+compress+encrypt+store");
    let (dumped, display) = phase.progress(Unit::Bytes, estimate);
    let dumped_parts = dumped.clone();
    let mut child = dump::spawn(&pg_dump, &source, &snap.id, &exclude)?;
    // pg_dump's stdout is read with plain blocking reads on the encoding thread, through a
    // 1 MiB pipe: fewer wake-ups than going through the async runtime.
    let stdout = std::fs::File::from(
        child
            .stdout
            .take()
            .expect("piped")
            .into_owned_fd()
            .map_err(|e| Error::internal(format!("cannot read pg_dump's output: {e}")))?,
    );
    let _ = nix::fcntl::fcntl(&stdout, nix::fcntl::FcntlArg::F_SETPIPE_SZ(1 << 20));
    let stderr = child::drain_stderr(child.stderr.take());
    let (writer, reader) = bridge::channel();
    let (status_tx, status_rx) = tokio::sync::oneshot::channel::<bool>();
    let compression = spec.backup.compression;
    // zstd workers: one core stays with pg_dump, its server process and the encrypting thread
    // (measured: on 2 cores one worker beats two, which fight pg_dump for the CPU).
    let threads = std::thread::available_parallelism()
        .map(|n| n.get() as u32)
        .unwrap_or(1)
        .saturating_sub(1)
        .max(1);
    let from_dump = spec.backup.row_counts == RowCountSource::Dump;
    let encoder = tokio::task::spawn_blocking(move || {
        let input = MeteredRead::new(stdout, dumped);
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
        // Only a dump that pg_dump itself reports as complete becomes a complete object.
        if status_rx.blocking_recv().unwrap_or(false) {
            writer.finish()?;
            Ok((encoded, counts))
        } else {
            writer.fail("pg_dump did not finish successfully");
            Err(std::io::Error::other("pg_dump did not finish successfully"))
        }
    });
    // Cancelled with the run, and when a table part fails (the backup has failed then).
    let part_cancel = cancel.child_token();
    let dumper = async {
        let status = tokio::select! {
            s = child.wait() => s,
            () = part_cancel.cancelled() => {
                let _ = child.start_kill();
                child.wait().await
            }
        };
        let ok = matches!(&status, Ok(s) if s.success());
        let _ = status_tx.send(ok);
        (status, stderr.await.unwrap_or_default())
    };
    // Catalog facts always come from queries in the snapshot; row counts either from the dump
    // stream (free) or from count(*) running beside the dump.
    let counting = async {
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
                        spec.backup.exact_count_limit,
                    )
                    .await?,
                )
            };
            Ok::<_, Error>((tables, objects, rows))
        };
        tokio::select! {
            fp = work => Some(fp),
            () = cancel.cancelled() => None,
        }
    };
    // Large tables: their block ranges, `jobs` at a time, beside pg_dump. The first failure
    // stops the others.
    let part_job = parts::Job {
        source: &source,
        snapshot_id: &snap.id,
        primary: &primary,
        drill: &spec.name,
        backup_id: &backup_id,
        compression,
        recipients: &spec.backup.recipients,
        meter: dumped_parts,
    };
    let exports: Vec<BoxFuture<'_, Result<parts::Exported>>> = table_parts
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let fut: BoxFuture<'_, _> = Box::pin(parts::export(&part_job, i, p, &part_cancel));
            fut
        })
        .collect();
    let exporting = parallel::all_or_stop(spec.backup.jobs, &part_cancel, exports);
    let (stored, (status, stderr_text), fp, encoded, exported) = tokio::join!(
        primary.store.put(&data_key, reader),
        dumper,
        counting,
        encoder,
        exporting
    );
    let part_keys: Vec<String> = (0..table_parts.len())
        .map(|i| layout::object_key(&spec.name, &backup_id, &parts::object_name(i)))
        .collect();
    let encoded = encoded.map(|r| {
        r.map(|(e, counts)| {
            // Rows of split tables were counted in their parts.
            let counts = match (counts, &exported) {
                (Some(mut c), Ok(done)) => {
                    for x in done {
                        let part = x.entry.part.as_ref().expect("parts have a part");
                        *c.entry((part.schema.clone(), part.table.clone()))
                            .or_insert(0) += x.rows;
                    }
                    Some(c)
                }
                (c, _) => c,
            };
            (e, counts)
        })
    });
    // Row counts the dump stream did not give are taken in the still-open snapshot.
    let fp = match (fp, &encoded) {
        // (Not after a failed part: the backup fails, and counting would scan for nothing.)
        (Some(Ok((tables, objects, None))), Ok(Ok((_, counts)))) if exported.is_ok() => {
            Some(complete_counts(&snap.client, tables, objects, counts.as_ref()).await)
        }
        (Some(Ok((_, objects, Some(rows)))), _) => Some(Ok(Fingerprint {
            tables: rows,
            objects,
        })),
        (Some(Ok(_)), _) => Some(Err(Error::internal(
            "the dump failed before rows were counted",
        ))),
        (Some(Err(e)), _) => Some(Err(e)),
        (None, _) => None,
    };
    drop(display);
    let encoded = encoded.map(|r| r.map(|(e, _)| e));
    let snapshot_at = snap.at;
    let server_info = snap.server.clone();
    snap.close().await;

    let outcome: Result<_> = (|| {
        if cancel.is_cancelled() {
            return Err(Error::aborted());
        }
        // The destination failing first stops the stream (and then pg_dump): its error is the
        // cause to report.
        let store_first =
            matches!(&encoded, Ok(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe);
        if store_first {
            if let Err(e) = stored {
                return Err(e);
            }
        }
        // A failed part stopped pg_dump: the part's error is the cause.
        let exported = match exported {
            Err(e) if part_cancel.is_cancelled() => return Err(e),
            other => other,
        };
        let status =
            status.map_err(|e| Error::source_db(format!("pg_dump could not be awaited: {e}")))?;
        child::check_status(
            ErrorKind::Source,
            "pg_dump",
            status,
            &stderr_text,
            "see pg_dump's message above; the role needs read access to every object",
        )?;
        let encoded = encoded
            .map_err(|e| Error::internal(e.to_string()))?
            .map_err(|e| Error::internal(format!("the backup stream failed: {e}")))?;
        let stored = stored?;
        let exported = exported?;
        let fp = fp.expect("not cancelled")?;
        Ok((encoded, stored, fp, exported))
    })();
    let discard = || async {
        // Never leave complete-looking data objects without a manifest behind.
        let _ = primary.store.delete(&data_key).await;
        for key in &part_keys {
            let _ = primary.store.delete(key).await;
        }
    };
    let (encoded, stored, fingerprint, exported) = match outcome {
        Ok(v) => v,
        Err(e) => {
            discard().await;
            return Err(e);
        }
    };
    if stored != encoded.stored.size {
        discard().await;
        return Err(Error::storage(format!(
            "destination `{}` stored {stored} bytes of `{data_key}` but {} were sent",
            primary.name, encoded.stored.size
        )));
    }

    let objects: Vec<manifest::ObjectEntry> = std::iter::once(manifest::ObjectEntry {
        name: layout::DATA_OBJECT.into(),
        size: encoded.stored.size,
        sha256: encoded.stored.sha256.clone(),
        plain_size: encoded.plain_bytes,
        part: None,
    })
    .chain(exported.into_iter().map(|x| x.entry))
    .collect();
    let stored_bytes: u64 = objects.iter().map(|o| o.size).sum();
    let plain_bytes: u64 = objects.iter().map(|o| o.plain_size).sum();
    clock.end(phase, Some(stored_bytes));
    let m = Manifest {
        format_version: Manifest::format_for(&objects),
        tool_version: crate::VERSION.to_string(),
        drill: spec.name.clone(),
        backup_id: backup_id.clone(),
        started_at,
        snapshot_at,
        finished_at: Utc::now(),
        source: server_info,
        method: manifest::Method {
            kind: "pg_dump".into(),
            format: "custom".into(),
            tool_version: pg_dump.version.clone(),
        },
        compression: spec.backup.compression.label(),
        encryption: manifest::Encryption {
            scheme: "age".into(),
            recipients: spec
                .backup
                .recipients
                .iter()
                .map(|r| keys::fingerprint(r))
                .collect(),
        },
        objects,
        fingerprint,
        rds: None,
    };
    let mkey = layout::manifest_key(&spec.name, &backup_id);
    if let Err(e) = primary
        .store
        .put_bytes(&mkey, Bytes::from(m.to_json()))
        .await
    {
        discard().await;
        return Err(e);
    }
    info!(drill = %spec.name, backup = %backup_id, bytes = stored_bytes, parts = table_parts.len(), "Backup stored on the primary.");

    let mut replicas = Vec::new();
    for replica in dests.iter().skip(1) {
        let phase = clock.start(&format!("replicate:{}", replica.name));
        let result = replicate::replicate(&primary, replica, &m).await;
        clock.end(phase, Some(m.total_size()));
        if let Err(e) = &result {
            warn!(destination = %replica.name, error = %e.message, "Replication failed.");
        }
        replicas.push(ReplicaOutcome {
            destination: replica.name.clone(),
            parity: result.is_ok(),
            error: result.err().map(|e| e.render()),
        });
        if cancel.is_cancelled() {
            return Err(Error::aborted());
        }
    }
    Ok(BackupOutcome {
        drill: spec.name.clone(),
        backup_id,
        snapshot_at: m.snapshot_at,
        primary: primary.name.clone(),
        stored_bytes,
        plain_bytes,
        seconds: started.elapsed().as_secs_f64(),
        replicas,
        phases: clock.phases,
        lease_takeover: None,
    })
}

/// An RDS backup: snapshot, copies to the DR regions, and a manifest in every destination so
/// `list`, drills and reports see it like any other backup.
async fn run_rds(
    spec: &DrillSpec,
    src: &crate::spec::RdsSource,
    cancel: &CancellationToken,
) -> Result<BackupOutcome> {
    let started = Instant::now();
    let started_at = Utc::now();
    let mut clock = PhaseClock::default();
    let dests = storage::open_all(&spec.destinations).await?;
    let backup_id = layout::new_backup_id(started_at);
    let phase = clock.start("snapshot+copy");
    let taken = rds::snapshot(src, &spec.name, &backup_id, cancel).await?;
    clock.end(phase, None);
    let major = taken
        .engine_version
        .split('.')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let m = Manifest {
        format_version: Manifest::format_for(&[]),
        tool_version: crate::VERSION.to_string(),
        drill: spec.name.clone(),
        backup_id: backup_id.clone(),
        started_at,
        snapshot_at: taken.snapshot_at,
        finished_at: Utc::now(),
        source: snapshot::ServerInfo {
            host: taken.host,
            port: 5432,
            database: src.database.clone(),
            user: String::new(),
            server_version: taken.engine_version.clone(),
            server_major: major,
            size_bytes: taken.size_bytes,
        },
        method: manifest::Method {
            kind: "rds-snapshot".into(),
            format: "snapshot".into(),
            tool_version: taken.engine_version,
        },
        compression: "none".into(),
        encryption: manifest::Encryption {
            scheme: "rds".into(),
            recipients: Vec::new(),
        },
        objects: Vec::new(),
        fingerprint: Fingerprint::default(),
        rds: Some(taken.set),
    };
    let mkey = layout::manifest_key(&spec.name, &backup_id);
    let primary = dests.first().expect("validated: at least one destination");
    primary
        .store
        .put_bytes(&mkey, Bytes::from(m.to_json()))
        .await?;
    let mut replicas = Vec::new();
    for d in dests.iter().skip(1) {
        let r = d.store.put_bytes(&mkey, Bytes::from(m.to_json())).await;
        replicas.push(ReplicaOutcome {
            destination: d.name.clone(),
            parity: r.is_ok(),
            error: r.err().map(|e| e.render()),
        });
    }
    Ok(BackupOutcome {
        drill: spec.name.clone(),
        backup_id,
        snapshot_at: m.snapshot_at,
        primary: primary.name.clone(),
        stored_bytes: 0,
        plain_bytes: 0,
        seconds: started.elapsed().as_secs_f64(),
        replicas,
        phases: clock.phases,
        lease_takeover: None,
    })
}

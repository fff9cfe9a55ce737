//! One pg_dump backup, as named steps sharing one [`Run`]: open the snapshot -> plan the table
//! parts -> stream (pg_dump -> zstd -> age -> SHA-256 -> primary, beside the parts and the
//! fingerprint) -> settle (which failure is the cause; nothing partial left) -> write the
//! manifest (last, atomic) -> replicate to every other destination with parity.

mod stream;

use std::time::Instant;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::counts;
use super::dump;
use super::export::{self, Exported};
use super::split::{self, TablePart};
use crate::catalog::{layout, manifest, replicate, Manifest};
use crate::measure::PhaseClock;
use crate::method::{BackupOutcome, ReplicaOutcome};
use crate::pg::{child, PgTarget, PgTool, PgTools};
use crate::pipeline::encode::Encoded;
use crate::pipeline::keys;
use crate::progress::Unit;
use crate::source::fingerprint;
use crate::source::snapshot::{self, Snapshot};
use crate::source::Fingerprint;
use crate::spec::DrillSpec;
use crate::storage::Destination;
use crate::{Error, ErrorKind, Result};

/// What the steps of one backup share.
struct Run<'a> {
    spec: &'a DrillSpec,
    cancel: &'a CancellationToken,
    dests: &'a [Destination],
    source: PgTarget,
    backup_id: String,
    started: Instant,
    started_at: DateTime<Utc>,
    clock: PhaseClock,
}

/// A backup that reached the primary, before its manifest.
struct Settled {
    encoded: Encoded,
    fingerprint: Fingerprint,
    exported: Vec<Exported>,
}

/// Runs one pg_dump backup of `spec`'s source into `dests`.
///
/// # Errors
/// Any failure before the primary manifest is written; nothing is then listed as complete.
pub async fn run(
    spec: &DrillSpec,
    dests: &[Destination],
    cancel: &CancellationToken,
) -> Result<BackupOutcome> {
    let recipients = keys::parse_recipients(&spec.backup.recipients)?;
    let mut run = Run::new(spec, dests, cancel)?;
    let snap = run.open_snapshot().await?;
    let pg_dump = PgTools::new(spec.tools.bin_dir.clone()).find(
        "pg_dump",
        snap.server.server_major,
        &format!(
            "for the source server (PostgreSQL {})",
            snap.server.server_version
        ),
    )?;
    info!(drill = %spec.name, backup = %run.backup_id, source = %run.source.display(), destination = %run.primary().name, "Backup started.");
    let estimate = fingerprint::estimated_dump_bytes(&snap.client).await;
    let parts = plan_parts(spec, &snap).await?;
    let phase = run.clock.start("dump+compress+encrypt+store");
    let (meter, display) = phase.progress(Unit::Bytes, estimate);
    let exclude: Vec<String> = parts.iter().map(TablePart::dump_pattern).collect();
    let mut child = dump::spawn(&pg_dump, &run.source, &snap.id, &exclude)?;
    let stdout = dump::stdout_file(&mut child)?;
    let streamed = run
        .stream(&snap, child, stdout, &parts, recipients, meter)
        .await;
    let streamed = stream::complete_fingerprint(&snap, streamed).await;
    drop(display);
    let (snapshot_at, server) = (snap.at, snap.server.clone());
    snap.close().await;
    let settled = run.settle(streamed, parts.len()).await?;
    let m = run.manifest(settled, snapshot_at, server, &pg_dump);
    run.clock.end(phase, Some(m.total_size()));
    run.write_manifest(&m, parts.len()).await?;
    let replicas = run.replicate(&m).await?;
    Ok(run.outcome(&m, replicas))
}

/// Large tables as parts of their own, or none when the source cannot be split.
async fn plan_parts(spec: &DrillSpec, snap: &Snapshot) -> Result<Vec<TablePart>> {
    let plan = split::plan(
        &snap.client,
        spec.backup.jobs,
        snap.server.server_major,
        spec.backup.split_size,
    )
    .await?;
    Ok(match plan {
        split::Plan::Parts(p) => p,
        split::Plan::NotSplit(why) => {
            info!(reason = why, "Every table goes through one pg_dump stream.");
            Vec::new()
        }
    })
}

impl<'a> Run<'a> {
    fn new(
        spec: &'a DrillSpec,
        dests: &'a [Destination],
        cancel: &'a CancellationToken,
    ) -> Result<Self> {
        let started_at = Utc::now();
        Ok(Run {
            spec,
            cancel,
            dests,
            source: PgTarget::from_url(&spec.source.url, "source.url")?
                .with_ca(spec.source.ca_file.clone()),
            backup_id: layout::new_backup_id(started_at),
            started: Instant::now(),
            started_at,
            clock: PhaseClock::default(),
        })
    }

    fn primary(&self) -> &'a Destination {
        self.dests
            .first()
            .expect("validated: at least one destination")
    }

    fn key(&self, object: &str) -> String {
        layout::object_key(&self.spec.name, &self.backup_id, object)
    }

    async fn open_snapshot(&mut self) -> Result<Snapshot> {
        let phase = self.clock.start("snapshot");
        let snap = snapshot::open(&self.source).await?;
        self.clock.end(phase, None);
        Ok(snap)
    }

    /// The outcome of the streams: the first cause of a failure, or a complete set on the
    /// primary. On failure every object written is removed.
    async fn settle(&self, s: stream::Streamed, part_count: usize) -> Result<Settled> {
        let outcome = self.cause(s);
        let settled = match outcome {
            Ok((settled, stored)) if stored == settled.encoded.stored.size => Ok(settled),
            Ok((settled, stored)) => Err(Error::storage(format!(
                "destination `{}` stored {stored} bytes of `{}` but {} were sent",
                self.primary().name,
                self.key(layout::DATA_OBJECT),
                settled.encoded.stored.size
            ))),
            Err(e) => Err(e),
        };
        if settled.is_err() {
            self.discard(part_count).await;
        }
        settled
    }

    fn cause(&self, s: stream::Streamed) -> Result<(Settled, u64)> {
        if self.cancel.is_cancelled() {
            return Err(Error::aborted());
        }
        // The destination failing first stops the stream (and then pg_dump): its error is
        // the cause to report.
        let stored = match s.stored {
            Err(e) if matches!(&s.encoded, Ok(Err(e)) if e.kind() == std::io::ErrorKind::BrokenPipe) => {
                return Err(e)
            }
            stored => stored,
        };
        // A failed part stopped pg_dump: the part's error is the cause.
        let exported = match s.exported {
            Err(e) if s.part_cancel.is_cancelled() => return Err(e),
            other => other,
        };
        let status = s
            .dump_status
            .map_err(|e| Error::source_db(format!("pg_dump could not be awaited: {e}")))?;
        child::check_status(
            ErrorKind::Source,
            "pg_dump",
            status,
            &s.dump_stderr,
            "see pg_dump's message above; the role needs read access to every object",
        )?;
        let (encoded, _) = s
            .encoded
            .map_err(|e| Error::internal(e.to_string()))?
            .map_err(|e| Error::internal(format!("the backup stream failed: {e}")))?;
        let stored = stored?;
        let exported = exported?;
        let fingerprint = s.facts.expect("not cancelled")?;
        Ok((
            Settled {
                encoded,
                fingerprint: counts::into_fingerprint(fingerprint)?,
                exported,
            },
            stored,
        ))
    }

    /// Never leaves complete-looking data objects without a manifest behind.
    async fn discard(&self, part_count: usize) {
        let store = &self.primary().store;
        let _ = store.delete(&self.key(layout::DATA_OBJECT)).await;
        for i in 0..part_count {
            let _ = store.delete(&self.key(&export::object_name(i))).await;
        }
    }

    fn manifest(
        &self,
        settled: Settled,
        snapshot_at: DateTime<Utc>,
        source: snapshot::ServerInfo,
        pg_dump: &PgTool,
    ) -> Manifest {
        let objects: Vec<manifest::ObjectEntry> = std::iter::once(manifest::ObjectEntry {
            name: layout::DATA_OBJECT.into(),
            size: settled.encoded.stored.size,
            sha256: settled.encoded.stored.sha256.clone(),
            plain_size: settled.encoded.plain_bytes,
            part: None,
        })
        .chain(settled.exported.into_iter().map(|x| x.entry))
        .collect();
        Manifest {
            format_version: Manifest::format_for(&objects),
            tool_version: crate::VERSION.to_string(),
            drill: self.spec.name.clone(),
            backup_id: self.backup_id.clone(),
            started_at: self.started_at,
            snapshot_at,
            finished_at: Utc::now(),
            source,
            method: manifest::Method {
                kind: super::KIND.into(),
                format: "custom".into(),
                tool_version: pg_dump.version.clone(),
            },
            compression: self.spec.backup.compression.label(),
            encryption: manifest::Encryption {
                scheme: "age".into(),
                recipients: self
                    .spec
                    .backup
                    .recipients
                    .iter()
                    .map(|r| keys::fingerprint(r))
                    .collect(),
            },
            objects,
            fingerprint: settled.fingerprint,
            rds: None,
        }
    }

    /// Writes the manifest on the primary: from here on the set exists.
    async fn write_manifest(&self, m: &Manifest, part_count: usize) -> Result<()> {
        let key = layout::manifest_key(&self.spec.name, &self.backup_id);
        if let Err(e) = self
            .primary()
            .store
            .put_bytes(&key, Bytes::from(m.to_json()))
            .await
        {
            self.discard(part_count).await;
            return Err(e);
        }
        info!(drill = %self.spec.name, backup = %self.backup_id, bytes = m.total_size(), parts = part_count, "Backup stored on the primary.");
        Ok(())
    }

    /// Copies the set to every other destination, each proven by read-back before its
    /// manifest. A replica that fails is reported, not an error.
    async fn replicate(&mut self, m: &Manifest) -> Result<Vec<ReplicaOutcome>> {
        let mut replicas = Vec::new();
        for replica in self.dests.iter().skip(1) {
            let phase = self.clock.start(&format!("replicate:{}", replica.name));
            let result = replicate::replicate(self.primary(), replica, m).await;
            self.clock.end(phase, Some(m.total_size()));
            if let Err(e) = &result {
                warn!(destination = %replica.name, error = %e.message, "Replication failed.");
            }
            replicas.push(ReplicaOutcome::of(replica, result));
            if self.cancel.is_cancelled() {
                return Err(Error::aborted());
            }
        }
        Ok(replicas)
    }

    fn outcome(self, m: &Manifest, replicas: Vec<ReplicaOutcome>) -> BackupOutcome {
        BackupOutcome {
            drill: self.spec.name.clone(),
            primary: self.primary().name.clone(),
            backup_id: self.backup_id,
            snapshot_at: m.snapshot_at,
            stored_bytes: m.total_size(),
            plain_bytes: m.objects.iter().map(|o| o.plain_size).sum(),
            seconds: self.started.elapsed().as_secs_f64(),
            replicas,
            phases: self.clock.phases,
            lease_takeover: None,
        }
    }
}

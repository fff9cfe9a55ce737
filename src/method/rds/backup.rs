//! An RDS backup: snapshot, copies to the DR regions, and a manifest in every destination.

use std::time::Instant;

use bytes::Bytes;
use chrono::Utc;
use tokio_util::sync::CancellationToken;

use super::snapshot;
use crate::catalog::{layout, manifest, Manifest};
use crate::measure::PhaseClock;
use crate::method::{BackupOutcome, ReplicaOutcome};
use crate::source::snapshot::ServerInfo;
use crate::source::Fingerprint;
use crate::spec::{DrillSpec, RdsSource};
use crate::storage::Destination;
use crate::Result;

/// Takes one RDS backup of `src` and records it in `dests`.
///
/// # Errors
/// Snapshot or copy failures (nothing is recorded then), or the primary manifest not written.
/// Replica manifests that fail are reported in the outcome.
pub async fn run(
    spec: &DrillSpec,
    src: &RdsSource,
    dests: &[Destination],
    cancel: &CancellationToken,
) -> Result<BackupOutcome> {
    let started = Instant::now();
    let started_at = Utc::now();
    let mut clock = PhaseClock::default();
    let backup_id = layout::new_backup_id(started_at);
    let phase = clock.start("snapshot+copy");
    let taken = snapshot::snapshot(src, &spec.name, &backup_id, cancel).await?;
    clock.end(phase, None);
    let m = manifest(spec, src, &backup_id, started_at, taken);
    let mkey = layout::manifest_key(&spec.name, &backup_id);
    let primary = dests.first().expect("validated: at least one destination");
    primary
        .store
        .put_bytes(&mkey, Bytes::from(m.to_json()))
        .await?;
    let mut replicas = Vec::new();
    for d in dests.iter().skip(1) {
        let r = d.store.put_bytes(&mkey, Bytes::from(m.to_json())).await;
        replicas.push(ReplicaOutcome::of(d, r));
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

fn manifest(
    spec: &DrillSpec,
    src: &RdsSource,
    backup_id: &str,
    started_at: chrono::DateTime<Utc>,
    taken: snapshot::RdsBackup,
) -> Manifest {
    let major = taken
        .engine_version
        .split('.')
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Manifest {
        format_version: Manifest::format_for(&[]),
        tool_version: crate::VERSION.to_string(),
        drill: spec.name.clone(),
        backup_id: backup_id.to_string(),
        started_at,
        snapshot_at: taken.snapshot_at,
        finished_at: Utc::now(),
        source: ServerInfo {
            host: taken.host,
            port: 5432,
            database: src.database.clone(),
            user: String::new(),
            server_version: taken.engine_version.clone(),
            server_major: major,
            size_bytes: taken.size_bytes,
        },
        method: manifest::Method {
            kind: super::KIND.into(),
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
    }
}

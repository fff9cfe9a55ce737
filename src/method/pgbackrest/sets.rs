//! pgBackRest's backups as firedrill sees them: each backup in each repository is one
//! [`BackupSet`] whose manifest is made from `info` (never stored: the repository is the
//! catalog) and one row of `firedrill list`.
//!
//! A backup's id is `<repository>:<label>`, e.g. `repo2:20261201-101010F`. pgBackRest labels
//! a backup by its start time in the repository it writes, so two repositories can hold
//! different backups under one label; the prefix keeps every id unique and says where the
//! backup is.

use super::info::{Backup, Stanza};
use crate::catalog::listing::RepoRow;
use crate::catalog::{manifest, BackupSet, Manifest};
use crate::pg::PgTarget;
use crate::source::snapshot::ServerInfo;
use crate::source::Fingerprint;
use crate::spec::DrillSpec;

/// The id firedrill gives `b`: `repo1:20261201-101010F`.
pub fn backup_id(b: &Backup) -> String {
    format!("{}:{}", b.repo(), b.label)
}

/// The spec a set belongs to and where its source is, for the manifests.
#[derive(Debug, Clone)]
pub struct Origin {
    pub drill: String,
    host: String,
    port: u16,
    database: String,
    user: String,
}

impl Origin {
    pub fn of(spec: &DrillSpec) -> Self {
        let (host, port, database, user) = match PgTarget::from_url(&spec.source.url, "source.url")
        {
            Ok(t) => (t.host(), t.port(), t.dbname(), t.user()),
            Err(_) => (String::new(), 0, String::new(), String::new()),
        };
        Self {
            drill: spec.name.clone(),
            host,
            port,
            database,
            user,
        }
    }
}

/// Every backup of every repository, oldest recovery point first.
pub fn sets(origin: &Origin, stanza: &Stanza) -> Vec<BackupSet> {
    let mut sets: Vec<BackupSet> = stanza
        .backup
        .iter()
        .map(|b| BackupSet {
            id: backup_id(b),
            manifest: manifest_of(origin, stanza, b),
        })
        .collect();
    sets.sort_by(|a, b| (a.manifest.snapshot_at, &a.id).cmp(&(b.manifest.snapshot_at, &b.id)));
    sets
}

/// The rows of `firedrill list`, oldest recovery point first.
pub fn rows(stanza: &Stanza) -> Vec<RepoRow> {
    let mut rows: Vec<RepoRow> = stanza
        .backup
        .iter()
        .map(|b| RepoRow {
            backup_id: backup_id(b),
            label: b.label.clone(),
            kind: b.kind.clone(),
            recovery_point: b.stopped_at(),
            size: b.info.repository.size,
            repository: b.repo(),
        })
        .collect();
    rows.sort_by(|a, b| (a.recovery_point, &a.backup_id).cmp(&(b.recovery_point, &b.backup_id)));
    rows
}

/// A manifest for `b`: method `pgbackrest`, its type as format, the recovery point at the
/// backup's stop time, no objects (the files are the repository's).
fn manifest_of(origin: &Origin, stanza: &Stanza, b: &Backup) -> Manifest {
    let version = stanza
        .db_of(b)
        .map(|d| d.version.clone())
        .unwrap_or_default();
    let cipher = stanza
        .repo
        .iter()
        .find(|r| r.key == b.database.repo_key)
        .map(|r| r.cipher.clone())
        .unwrap_or_else(|| stanza.cipher.clone());
    Manifest {
        format_version: Manifest::format_for(&[]),
        tool_version: crate::VERSION.to_string(),
        drill: origin.drill.clone(),
        backup_id: backup_id(b),
        started_at: b.started_at(),
        snapshot_at: b.stopped_at(),
        finished_at: b.stopped_at(),
        source: ServerInfo {
            host: origin.host.clone(),
            port: origin.port,
            database: origin.database.clone(),
            user: origin.user.clone(),
            server_major: version
                .split('.')
                .next()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            server_version: version,
            size_bytes: i64::try_from(b.info.size).unwrap_or(i64::MAX),
        },
        method: manifest::Method {
            kind: super::KIND.into(),
            format: b.kind.clone(),
            tool_version: b.backrest.version.clone(),
        },
        compression: "pgbackrest".into(),
        encryption: manifest::Encryption {
            scheme: if cipher.is_empty() {
                "none".into()
            } else {
                cipher
            },
            recipients: Vec::new(),
        },
        objects: Vec::new(),
        fingerprint: Fingerprint::default(),
        rds: None,
    }
}

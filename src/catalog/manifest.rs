//! `manifest.json`: the record of one backup set, written last so that a set without one does
//! not exist. Versioned; see `format_version`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::source::snapshot::ServerInfo;
use crate::source::Fingerprint;
use crate::{Error, Result};

/// The newest format this firedrill reads. Format 2 adds table parts
/// ([`ObjectEntry::part`]); a backup without parts is still written as format 1, so older
/// versions keep reading it, and one with parts as 2, so they refuse it instead of restoring
/// it without those rows.
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    pub format_version: u32,
    pub tool_version: String,
    pub drill: String,
    pub backup_id: String,
    pub started_at: DateTime<Utc>,
    /// The consistent point the data reflects: the recovery point.
    pub snapshot_at: DateTime<Utc>,
    pub finished_at: DateTime<Utc>,
    pub source: ServerInfo,
    pub method: Method,
    /// `zstd:3` or `none`.
    pub compression: String,
    pub encryption: Encryption,
    pub objects: Vec<ObjectEntry>,
    pub fingerprint: Fingerprint,
    /// RDS snapshot backups: the snapshot in each region (no data objects then).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rds: Option<RdsSnapshotSet>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Method {
    /// `pg_dump`.
    pub kind: String,
    /// `custom`.
    pub format: String,
    /// Version of the dump tool, e.g. `15.20`.
    pub tool_version: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Encryption {
    /// `age`.
    pub scheme: String,
    /// Fingerprints of the recipients (never keys or identities).
    pub recipients: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ObjectEntry {
    pub name: String,
    /// Size of the stored (compressed, encrypted) bytes.
    pub size: u64,
    /// SHA-256 of the stored bytes, hex.
    pub sha256: String,
    /// Size of the plain dump.
    pub plain_size: u64,
    /// Set for a table part: the rows of one block range of one table, as COPY text, loaded
    /// between pg_restore's `pre-data` and `post-data` sections.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub part: Option<TablePart>,
}

/// One block range of one table, stored as its own object. Recorded in the manifest so the
/// restore knows where the rows go.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TablePart {
    pub schema: String,
    pub table: String,
    /// Columns in the COPY text, in order (no dropped or generated columns).
    pub columns: Vec<String>,
    /// First heap block of the range.
    pub first_block: u32,
    /// Block after the range; `None` for the table's last range (blocks added after the
    /// snapshot hold no row the snapshot sees, but are scanned all the same).
    pub end_block: Option<u32>,
}

/// The snapshots of one RDS backup, per region.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RdsSnapshotSet {
    pub instance: String,
    pub snapshots: Vec<RegionSnapshot>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RegionSnapshot {
    pub region: String,
    pub id: String,
    pub arn: String,
}

impl RdsSnapshotSet {
    pub fn in_region(&self, region: &str) -> Option<&RegionSnapshot> {
        self.snapshots.iter().find(|s| s.region == region)
    }
}

impl Manifest {
    /// Parses and checks the format version.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Storage`] for unreadable JSON or a newer format.
    pub fn parse(bytes: &[u8], location: &str) -> Result<Manifest> {
        let m: Manifest = serde_json::from_slice(bytes).map_err(|e| {
            Error::storage(format!("manifest `{location}` is not readable: {e}"))
                .hint("the backup set is damaged; run another backup")
        })?;
        if m.format_version > FORMAT_VERSION {
            return Err(Error::storage(format!(
                "manifest `{location}` has format {} but this firedrill reads up to {FORMAT_VERSION}",
                m.format_version
            ))
            .hint("upgrade firedrill"));
        }
        Ok(m)
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut v = serde_json::to_vec_pretty(self).expect("manifest serialises");
        v.push(b'\n');
        v
    }

    /// The format version a manifest with `objects` is written as.
    pub fn format_for(objects: &[ObjectEntry]) -> u32 {
        if objects.iter().any(|o| o.part.is_some()) {
            2
        } else {
            1
        }
    }

    /// True when `other` records the same set: drill, id, recovery point and every object
    /// with its size and SHA-256.
    pub fn describes_same_set(&self, other: &Manifest) -> bool {
        let objects = |m: &Manifest| -> Vec<(String, u64, String)> {
            m.objects
                .iter()
                .map(|o| (o.name.clone(), o.size, o.sha256.clone()))
                .collect()
        };
        self.drill == other.drill
            && self.backup_id == other.backup_id
            && self.snapshot_at == other.snapshot_at
            && objects(self) == objects(other)
    }

    pub fn total_size(&self) -> u64 {
        self.objects.iter().map(|o| o.size).sum()
    }

    pub fn compression(&self) -> crate::spec::Compression {
        match self
            .compression
            .strip_prefix("zstd:")
            .and_then(|l| l.parse().ok())
        {
            Some(level) => crate::spec::Compression::Zstd(level),
            None => crate::spec::Compression::None,
        }
    }
}

//! Fake backup sets: a manifest with sensible defaults and the bytes of its objects.

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::catalog::layout;
use crate::catalog::manifest::{
    Encryption, Manifest, Method, ObjectEntry, RdsSnapshotSet, RegionSnapshot, TablePart,
};
use crate::source::fingerprint::TableRows;
use crate::source::snapshot::ServerInfo;
use crate::source::Fingerprint;
use crate::storage::ObjectStore;
use crate::Result;

/// A backup set of one drill, built in memory and written into a store.
///
/// Defaults: a `pg_dump` set (custom format, `zstd:3`, age with no recipient fingerprints)
/// of database `db` on `h:5432`, started, taken and finished at the time given to
/// [`SetBuilder::new`], with an id made from that time, no objects and an empty fingerprint.
/// The format version follows the objects ([`Manifest::format_for`]) unless set.
///
/// ```ignore
/// let at = testing::utc("2026-11-20T00:00:00Z");
/// let m = SetBuilder::new("shop", at)
///     .object(layout::DATA_OBJECT, "abcd")
///     .write(&*store)
///     .await?;
/// ```
#[derive(Debug, Clone)]
pub struct SetBuilder {
    manifest: Manifest,
    format_version: Option<u32>,
    bodies: Vec<(String, Vec<u8>)>,
}

impl SetBuilder {
    /// A set of `drill` whose recovery point is `at`, with a new backup id for `at`.
    pub fn new(drill: &str, at: DateTime<Utc>) -> SetBuilder {
        SetBuilder {
            manifest: Manifest {
                format_version: 1,
                tool_version: "0".into(),
                drill: drill.into(),
                backup_id: layout::new_backup_id(at),
                started_at: at,
                snapshot_at: at,
                finished_at: at,
                source: ServerInfo {
                    host: "h".into(),
                    port: 5432,
                    database: "db".into(),
                    user: "u".into(),
                    server_version: "15".into(),
                    server_major: 15,
                    size_bytes: 1,
                },
                method: Method {
                    kind: crate::method::pg_dump::KIND.into(),
                    format: "custom".into(),
                    tool_version: "15".into(),
                },
                compression: "zstd:3".into(),
                encryption: Encryption {
                    scheme: "age".into(),
                    recipients: Vec::new(),
                },
                objects: Vec::new(),
                fingerprint: Fingerprint::default(),
                rds: None,
            },
            format_version: None,
            bodies: Vec::new(),
        }
    }

    /// This backup id instead of the generated one.
    pub fn id(mut self, id: &str) -> SetBuilder {
        self.manifest.backup_id = id.into();
        self
    }

    pub fn started_at(mut self, at: DateTime<Utc>) -> SetBuilder {
        self.manifest.started_at = at;
        self
    }

    /// The recovery point.
    pub fn snapshot_at(mut self, at: DateTime<Utc>) -> SetBuilder {
        self.manifest.snapshot_at = at;
        self
    }

    pub fn finished_at(mut self, at: DateTime<Utc>) -> SetBuilder {
        self.manifest.finished_at = at;
        self
    }

    /// This format version whatever the objects are (e.g. one newer than this firedrill reads).
    pub fn format_version(mut self, version: u32) -> SetBuilder {
        self.format_version = Some(version);
        self
    }

    /// The source database's name (the rest of the source stays the default).
    pub fn database(mut self, name: &str) -> SetBuilder {
        self.manifest.source.database = name.into();
        self
    }

    /// The whole record of the source server.
    pub fn source(mut self, source: ServerInfo) -> SetBuilder {
        self.manifest.source = source;
        self
    }

    /// The recorded compression, `zstd:<level>` or `none`.
    pub fn compression(mut self, label: &str) -> SetBuilder {
        self.manifest.compression = label.into();
        self
    }

    /// A recipient fingerprint recorded under `encryption`.
    pub fn recipient(mut self, fingerprint: &str) -> SetBuilder {
        self.manifest.encryption.recipients.push(fingerprint.into());
        self
    }

    /// An object stored with `bytes`: its size, SHA-256 and plain size come from them.
    pub fn object(self, name: &str, bytes: impl AsRef<[u8]>) -> SetBuilder {
        self.stored(name, bytes.as_ref(), None)
    }

    /// A table part stored with `bytes` (a set with parts is format 2).
    pub fn part(self, name: &str, bytes: impl AsRef<[u8]>, part: TablePart) -> SetBuilder {
        self.stored(name, bytes.as_ref(), Some(part))
    }

    /// An object recorded in the manifest as given but not written (missing, or written by
    /// the test itself).
    pub fn entry(mut self, entry: ObjectEntry) -> SetBuilder {
        self.manifest.objects.push(entry);
        self
    }

    fn stored(mut self, name: &str, bytes: &[u8], part: Option<TablePart>) -> SetBuilder {
        self.manifest.objects.push(ObjectEntry {
            name: name.into(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(bytes)),
            plain_size: bytes.len() as u64,
            part,
        });
        self.bodies.push((name.into(), bytes.to_vec()));
        self
    }

    /// A table's row count in the fingerprint (exact).
    pub fn table(mut self, schema: &str, table: &str, rows: i64) -> SetBuilder {
        self.manifest.fingerprint.tables.push(TableRows {
            schema: schema.into(),
            table: table.into(),
            rows,
            exact: true,
        });
        self
    }

    /// An object count of one kind in the fingerprint (`tables`, `large_objects`...).
    pub fn object_count(mut self, kind: &str, count: i64) -> SetBuilder {
        self.manifest.fingerprint.objects.insert(kind.into(), count);
        self
    }

    /// The whole fingerprint.
    pub fn fingerprint(mut self, fingerprint: Fingerprint) -> SetBuilder {
        self.manifest.fingerprint = fingerprint;
        self
    }

    /// An RDS snapshot set of `instance` instead of a dump: one snapshot per `(region, id)`,
    /// no data objects, no compression and no age encryption.
    pub fn rds_snapshot(mut self, instance: &str, snapshots: &[(&str, &str)]) -> SetBuilder {
        let m = &mut self.manifest;
        m.method = Method {
            kind: crate::method::rds::KIND.into(),
            format: "snapshot".into(),
            tool_version: "15".into(),
        };
        m.compression = "none".into();
        m.encryption = Encryption {
            scheme: "rds".into(),
            recipients: Vec::new(),
        };
        m.source.user = String::new();
        m.objects.clear();
        self.bodies.clear();
        m.rds = Some(RdsSnapshotSet {
            instance: instance.into(),
            snapshots: snapshots
                .iter()
                .map(|(region, id)| RegionSnapshot {
                    region: (*region).into(),
                    id: (*id).into(),
                    arn: format!("arn:aws:rds:{region}:000000000000:snapshot:{id}"),
                })
                .collect(),
        });
        self
    }

    /// The backup id.
    pub fn backup_id(&self) -> &str {
        &self.manifest.backup_id
    }

    /// The manifest.
    pub fn build(&self) -> Manifest {
        let mut m = self.manifest.clone();
        m.format_version = self
            .format_version
            .unwrap_or_else(|| Manifest::format_for(&m.objects));
        m
    }

    /// Writes the objects' bytes and then the manifest (a complete set) into `store`;
    /// returns the manifest.
    ///
    /// # Errors
    /// The store's.
    pub async fn write(&self, store: &dyn ObjectStore) -> Result<Manifest> {
        self.write_objects(store).await?;
        let m = self.build();
        store
            .put_bytes(
                &layout::manifest_key(&m.drill, &m.backup_id),
                m.to_json().into(),
            )
            .await?;
        Ok(m)
    }

    /// Writes only the objects' bytes, no manifest: the set a killed backup leaves.
    ///
    /// # Errors
    /// The store's.
    pub async fn write_objects(&self, store: &dyn ObjectStore) -> Result<()> {
        let m = &self.manifest;
        for (name, bytes) in &self.bodies {
            store
                .put_bytes(
                    &layout::object_key(&m.drill, &m.backup_id, name),
                    bytes.clone().into(),
                )
                .await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::MemoryStore;

    #[tokio::test]
    async fn a_written_set_is_listed_complete_and_parts_make_format_2() {
        let (dest, store) = crate::testing::memory_destination("dr");
        let at = crate::testing::utc("2026-11-20T00:00:00Z");
        let set = SetBuilder::new("d", at).object(layout::DATA_OBJECT, "abcd");
        assert!(set.backup_id().starts_with("20261120T000000Z-"));
        let m = set.write(&*store).await.unwrap();
        assert_eq!(m.format_version, 1);
        assert_eq!(m.objects[0].size, 4);
        let sets = crate::catalog::list(&dest, "d").await.unwrap();
        assert_eq!(sets.len(), 1);
        assert_eq!(
            crate::catalog::presence(&dest, &sets[0].manifest)
                .await
                .unwrap(),
            crate::catalog::Presence::Complete
        );

        let part = TablePart {
            schema: "public".into(),
            table: "t".into(),
            columns: vec!["id".into()],
            first_block: 0,
            end_block: None,
        };
        let m = SetBuilder::new("d", at)
            .part("part-0000.copy.zst.age", "1\n", part)
            .build();
        assert_eq!(m.format_version, 2);
        let m = SetBuilder::new("d", at)
            .rds_snapshot("db1", &[("us-east-1", "s1"), ("eu-west-1", "s2")])
            .build();
        assert_eq!(m.method.kind, crate::method::rds::KIND);
        assert_eq!(m.rds.unwrap().in_region("eu-west-1").unwrap().id, "s2");

        let orphan = MemoryStore::default();
        SetBuilder::new("d", at)
            .object(layout::DATA_OBJECT, "x")
            .write_objects(&orphan)
            .await
            .unwrap();
        assert_eq!(orphan.list("d/").await.unwrap().len(), 1);
    }
}

//! Checks the backup objects a drill report cites: that each still exists, in the destination
//! the drill read from, with the SHA-256 the report recorded.
//!
//! Every cited object is read whole and hashed (once, however many reports cite it): a size
//! or a store-side checksum would not prove the bytes are the ones the drill restored. An
//! object that is missing together with its backup set's manifest was pruned (the set was
//! removed as a whole, manifest first: see `firedrill prune`), which is reported as `pruned`,
//! not as tampering. An object missing while the manifest is still there, an object with other
//! bytes, and a manifest recording another SHA-256 than the report are findings.

use std::collections::HashMap;
use std::path::Path;

use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::Finding;
use crate::catalog::{layout, Manifest};
use crate::report::store::{read_report, reports};
use crate::report::DrillReport;
use crate::spec::DrillSpec;
use crate::storage::{self, Destination};
use crate::{Error, Result};

/// What [`verify_cited`] found.
#[derive(Debug, Default, Serialize)]
pub struct CitedCheck {
    /// Distinct objects read and hashed.
    pub objects_checked: usize,
    /// Tampering or damage.
    pub findings: Vec<Finding>,
    /// Backup sets removed by retention (not tampering).
    pub pruned: Vec<Finding>,
    /// Citations that could not be checked (a destination the spec no longer has).
    pub unchecked: Vec<Finding>,
}

/// What one object looked like.
#[derive(Debug, Clone)]
enum Seen {
    Missing,
    Present { size: u64, sha256: String },
}

async fn hash_object(dest: &Destination, key: &str) -> Result<Seen> {
    if dest.store.head(key).await?.is_none() {
        return Ok(Seen::Missing);
    }
    let mut body = dest.store.get(key).await?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = body.read(&mut buf).await.map_err(|e| {
            Error::storage(format!(
                "cannot read `{key}` from destination `{}` ({}): {e}",
                dest.name,
                dest.store.describe()
            ))
        })?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok(Seen::Present {
        size,
        sha256: hex::encode(hasher.finalize()),
    })
}

/// Checks the objects cited by every report in the drill folder `dir` against the
/// destinations of `spec`.
///
/// # Errors
/// When a destination cannot be opened or read (unreachable, no permission).
pub async fn verify_cited(dir: &Path, spec: &DrillSpec) -> Result<CitedCheck> {
    let mut run = Run {
        spec,
        out: CitedCheck::default(),
        dests: HashMap::new(),
        objects: HashMap::new(),
        manifests: HashMap::new(),
    };
    for path in reports(dir) {
        let Ok(report) = read_report(&path) else {
            continue; // `report verify` names unreadable reports already
        };
        run.report(&path.display().to_string(), &report).await?;
    }
    Ok(run.out)
}

/// One run of [`verify_cited`]: what it found, and the destinations, manifests and objects
/// it read (each once, however many reports cite them), keyed by destination name.
struct Run<'a> {
    spec: &'a DrillSpec,
    out: CitedCheck,
    dests: HashMap<String, Destination>,
    objects: HashMap<(String, String), Seen>,
    manifests: HashMap<(String, String), Option<Manifest>>,
}

impl Run<'_> {
    fn finding(&mut self, report: &str, problem: String) {
        self.out.findings.push(Finding {
            report: report.to_string(),
            problem,
        });
    }

    /// Checks the objects the report `name` cites.
    async fn report(&mut self, name: &str, report: &DrillReport) -> Result<()> {
        let Some(b) = &report.backup else {
            return Ok(());
        };
        if b.objects.is_empty() {
            return Ok(()); // RDS snapshots: no objects to check
        }
        let Some(dest) = self.open(&b.destination).await? else {
            self.out.unchecked.push(Finding {
                report: name.to_string(),
                problem: format!(
                    "cites destination `{}`, which the spec no longer has: its objects were not checked",
                    b.destination
                ),
            });
            return Ok(());
        };
        let where_ = format!("destination `{}` ({})", dest.name, dest.store.describe());
        let manifest = self
            .manifest(&dest, &layout::manifest_key(&report.drill, &b.id))
            .await?;
        let mut missing = Vec::new();
        for obj in &b.objects {
            let key = layout::object_key(&report.drill, &b.id, &obj.name);
            match self.object(&dest, &key).await? {
                Seen::Missing => missing.push(key.clone()),
                Seen::Present { size, sha256 } if size != obj.size || sha256 != obj.sha256 => {
                    self.finding(name, format!(
                        "cited object `{key}` in {where_} was altered: {size} bytes with SHA-256 {sha256}, the report recorded {} bytes with SHA-256 {}",
                        obj.size, obj.sha256
                    ))
                }
                Seen::Present { .. } => {}
            }
            let recorded = manifest
                .as_ref()
                .and_then(|m| m.objects.iter().find(|o| o.name == obj.name));
            if let Some(entry) = recorded.filter(|e| e.sha256 != obj.sha256) {
                self.finding(name, format!(
                    "the manifest of backup `{}` in {where_} records SHA-256 {} for `{}`, the report recorded {}",
                    b.id, entry.sha256, obj.name, obj.sha256
                ));
            }
        }
        self.missing(name, &b.id, &where_, manifest.is_some(), missing);
        Ok(())
    }

    /// Objects of backup `id` that are gone: pruned with their manifest, or a finding.
    fn missing(
        &mut self,
        name: &str,
        id: &str,
        where_: &str,
        has_manifest: bool,
        missing: Vec<String>,
    ) {
        if missing.is_empty() {
            return;
        }
        if !has_manifest {
            let keys: Vec<String> = missing.iter().map(|k| format!("`{k}`")).collect();
            self.out.pruned.push(Finding {
                report: name.to_string(),
                problem: format!(
                    "backup `{id}` in {where_} was pruned: its manifest and {} are gone",
                    keys.join(", ")
                ),
            });
            return;
        }
        for key in missing {
            self.finding(name, format!(
                "cited object `{key}` is missing from {where_} while the manifest of backup `{id}` is still there: removed outside retention"
            ));
        }
    }

    /// The destination `name` of the spec, opened once; `None` when the spec has none.
    async fn open(&mut self, name: &str) -> Result<Option<Destination>> {
        let Some(spec) = self.spec.destination(name) else {
            return Ok(None);
        };
        if !self.dests.contains_key(name) {
            self.dests
                .insert(name.to_string(), storage::open(spec).await?);
        }
        Ok(Some(self.dests[name].clone()))
    }

    /// The manifest `key` in `dest`, read once; `None` when it is gone.
    async fn manifest(&mut self, dest: &Destination, key: &str) -> Result<Option<Manifest>> {
        let slot = (dest.name.clone(), key.to_string());
        if !self.manifests.contains_key(&slot) {
            let m = match dest.store.get_bytes(key).await? {
                Some(bytes) => Some(Manifest::parse(&bytes, key)?),
                None => None,
            };
            self.manifests.insert(slot.clone(), m);
        }
        Ok(self.manifests[&slot].clone())
    }

    /// What the object `key` in `dest` looks like, read and hashed once.
    async fn object(&mut self, dest: &Destination, key: &str) -> Result<Seen> {
        let slot = (dest.name.clone(), key.to_string());
        if !self.objects.contains_key(&slot) {
            let seen = hash_object(dest, key).await?;
            if matches!(seen, Seen::Present { .. }) {
                self.out.objects_checked += 1;
            }
            self.objects.insert(slot.clone(), seen);
        }
        Ok(self.objects[&slot].clone())
    }
}

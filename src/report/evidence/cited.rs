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
use crate::report::store::{read_report, reports};
use crate::spec::DrillSpec;
use crate::storage::{self, layout, Destination, Manifest};
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
    let mut out = CitedCheck::default();
    let mut dests: HashMap<String, Destination> = HashMap::new();
    let mut objects: HashMap<(String, String), Seen> = HashMap::new();
    let mut manifests: HashMap<(String, String), Option<Manifest>> = HashMap::new();
    for path in reports(dir) {
        let name = path.display().to_string();
        let Ok(report) = read_report(&path) else {
            continue; // `report verify` names unreadable reports already
        };
        let Some(b) = &report.backup else { continue };
        if b.objects.is_empty() {
            continue; // RDS snapshots: no objects to check
        }
        let Some(dspec) = spec.destination(&b.destination) else {
            out.unchecked.push(Finding {
                report: name,
                problem: format!(
                    "cites destination `{}`, which the spec no longer has: its objects were not checked",
                    b.destination
                ),
            });
            continue;
        };
        if !dests.contains_key(&b.destination) {
            dests.insert(b.destination.clone(), storage::open(dspec).await?);
        }
        let dest = &dests[&b.destination];
        let where_ = format!("destination `{}` ({})", dest.name, dest.store.describe());
        let mkey = layout::manifest_key(&report.drill, &b.id);
        let mslot = (dest.name.clone(), mkey.clone());
        if !manifests.contains_key(&mslot) {
            let m = match dest.store.get_bytes(&mkey).await? {
                Some(bytes) => Some(Manifest::parse(&bytes, &mkey)?),
                None => None,
            };
            manifests.insert(mslot.clone(), m);
        }
        let manifest = manifests[&mslot].as_ref();
        let mut missing = Vec::new();
        for obj in &b.objects {
            let key = layout::object_key(&report.drill, &b.id, &obj.name);
            let slot = (dest.name.clone(), key.clone());
            if !objects.contains_key(&slot) {
                let seen = hash_object(dest, &key).await?;
                if matches!(seen, Seen::Present { .. }) {
                    out.objects_checked += 1;
                }
                objects.insert(slot.clone(), seen);
            }
            let mut problem = |p: String| {
                out.findings.push(Finding {
                    report: name.clone(),
                    problem: p,
                })
            };
            match &objects[&slot] {
                Seen::Missing => missing.push(key.clone()),
                Seen::Present { size, sha256 } if *size != obj.size || *sha256 != obj.sha256 => {
                    problem(format!(
                        "cited object `{key}` in {where_} was altered: {size} bytes with SHA-256 {sha256}, the report recorded {} bytes with SHA-256 {}",
                        obj.size, obj.sha256
                    ))
                }
                Seen::Present { .. } => {}
            }
            if let Some(entry) =
                manifest.and_then(|m| m.objects.iter().find(|o| o.name == obj.name))
            {
                if entry.sha256 != obj.sha256 {
                    problem(format!(
                        "the manifest of backup `{}` in {where_} records SHA-256 {} for `{}`, the report recorded {}",
                        b.id, entry.sha256, obj.name, obj.sha256
                    ));
                }
            }
        }
        if missing.is_empty() {
            continue;
        }
        if manifest.is_none() {
            out.pruned.push(Finding {
                report: name,
                problem: format!(
                    "backup `{}` in {where_} was pruned: its manifest and {} are gone",
                    b.id,
                    missing
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            });
        } else {
            for key in missing {
                out.findings.push(Finding {
                    report: name.clone(),
                    problem: format!(
                        "cited object `{key}` is missing from {where_} while the manifest of backup `{}` is still there: removed outside retention",
                        b.id
                    ),
                });
            }
        }
    }
    Ok(out)
}

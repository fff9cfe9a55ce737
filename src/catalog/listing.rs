//! `firedrill list`: the backup sets of a spec merged across its destinations, with each
//! set's presence and parity in every destination. One unreachable destination does not hide
//! what the others hold.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{inspect, BackupSet, Presence};
use crate::spec::DrillSpec;
use crate::storage::{self, Destination};
use crate::{Error, Result};

/// One backup set across the destinations.
#[derive(Debug, Serialize)]
pub struct Row {
    pub backup_id: String,
    pub recovery_point: DateTime<Utc>,
    pub size: u64,
    /// Destination name -> presence.
    pub destinations: BTreeMap<String, Presence>,
    pub parity: bool,
    /// Destination name -> why its copy is damaged.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub problems: BTreeMap<String, String>,
}

/// A backup its method keeps in a repository of its own (pgBackRest), not in the
/// destinations: one row per backup, in the one repository that holds it.
#[derive(Debug, Clone, Serialize)]
pub struct RepoRow {
    pub backup_id: String,
    /// The method's own name for it (pgBackRest's label).
    pub label: String,
    /// `full`, `diff` or `incr`.
    #[serde(rename = "type")]
    pub kind: String,
    pub recovery_point: DateTime<Utc>,
    /// Bytes the repository stores for it.
    pub size: u64,
    pub repository: String,
}

/// Every set of a spec, oldest id first, and the destinations that could not be listed.
#[derive(Debug)]
pub struct Listing {
    /// The destinations' names, in the spec's order.
    pub destinations: Vec<String>,
    pub rows: Vec<Row>,
    pub unreachable: Vec<(String, Error)>,
    /// Set when the method keeps its backups in repositories of its own (then `rows` is
    /// empty and `unreachable` names repositories).
    pub repositories: Option<Vec<RepoRow>>,
}

/// Lists `spec`'s sets in every destination (methods that keep their backups elsewhere list
/// them themselves: [`crate::method::Method::listing`]).
///
/// # Errors
/// When a destination cannot be opened (a bad URL); unreachable ones are in the listing.
pub async fn list_all(spec: &DrillSpec) -> Result<Listing> {
    let dests = storage::open_all(&spec.destinations).await?;
    // Each set as the first destination (in the spec's order) that lists it records it.
    let mut by_id: BTreeMap<String, (String, BackupSet)> = BTreeMap::new();
    let mut unreachable = Vec::new();
    for d in &dests {
        match super::list(d, &spec.name).await {
            Ok(sets) => {
                for set in sets {
                    by_id.entry(set.id.clone()).or_insert((d.name.clone(), set));
                }
            }
            Err(e) => unreachable.push((d.name.clone(), e)),
        }
    }
    let mut rows = Vec::new();
    for (from, set) in by_id.values() {
        rows.push(row(set, from, &dests, &unreachable).await);
    }
    Ok(Listing {
        destinations: dests.iter().map(|d| d.name.clone()).collect(),
        rows,
        unreachable,
        repositories: None,
    })
}

async fn row(
    set: &BackupSet,
    from: &str,
    dests: &[Destination],
    unreachable: &[(String, Error)],
) -> Row {
    let mut destinations = BTreeMap::new();
    let mut problems = BTreeMap::new();
    for d in dests {
        let p = if unreachable.iter().any(|(n, _)| n == &d.name) {
            Presence::Unreachable
        } else {
            match inspect(d, &set.manifest).await {
                Ok(copy) => {
                    if let Some(why) = copy.problem {
                        problems.insert(d.name.clone(), format!("{why} (compared with `{from}`)"));
                    }
                    copy.presence
                }
                Err(_) => Presence::Unreachable,
            }
        };
        destinations.insert(d.name.clone(), p);
    }
    Row {
        backup_id: set.id.clone(),
        recovery_point: set.manifest.snapshot_at,
        size: set.manifest.total_size(),
        parity: destinations.values().all(|p| *p == Presence::Complete),
        destinations,
        problems,
    }
}

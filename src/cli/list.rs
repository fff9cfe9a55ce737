use std::collections::BTreeMap;

use serde::Serialize;

use firedrill::catalog::{self, Presence};
use firedrill::storage;
use firedrill::Result;

use super::SpecArgs;

#[derive(Serialize)]
struct Row {
    backup_id: String,
    recovery_point: chrono::DateTime<chrono::Utc>,
    size: u64,
    /// Destination name -> presence.
    destinations: BTreeMap<String, Presence>,
    parity: bool,
}

pub async fn run(args: SpecArgs) -> Result<u8> {
    let spec = args.load()?;
    let dests: Vec<_> = storage::open_all(&spec.destinations).await?;
    let mut by_id: BTreeMap<String, catalog::BackupSet> = BTreeMap::new();
    for d in &dests {
        for set in catalog::list(d, &spec.name).await? {
            by_id.entry(set.id.clone()).or_insert(set);
        }
    }
    let mut rows = Vec::new();
    for set in by_id.values() {
        let mut presence = BTreeMap::new();
        for d in &dests {
            presence.insert(d.name.clone(), catalog::presence(d, &set.manifest).await?);
        }
        let parity = presence.values().all(|p| *p == Presence::Complete);
        rows.push(Row {
            backup_id: set.id.clone(),
            recovery_point: set.manifest.snapshot_at,
            size: set.manifest.total_size(),
            destinations: presence,
            parity,
        });
    }
    if args.json {
        super::print_json(&rows);
        return Ok(0);
    }
    if rows.is_empty() {
        println!("No complete backups of `{}`.", spec.name);
        return Ok(0);
    }
    let names: Vec<&str> = dests.iter().map(|d| d.name.as_str()).collect();
    println!(
        "{:<24} {:<26} {:>12}  {}  parity",
        "backup",
        "recovery point",
        "bytes",
        names.join("  ")
    );
    for r in rows {
        let cells: Vec<String> = names
            .iter()
            .map(|n| {
                let mark = match r.destinations[*n] {
                    Presence::Complete => "yes",
                    Presence::Damaged => "DAMAGED",
                    Presence::Missing => "-",
                };
                format!("{mark:<width$}", width = n.len())
            })
            .collect();
        println!(
            "{:<24} {:<26} {:>12}  {}  {}",
            r.backup_id,
            r.recovery_point.format("%Y-%m-%d %H:%M:%S UTC"),
            r.size,
            cells.join("  "),
            if r.parity { "ok" } else { "NO" }
        );
    }
    Ok(0)
}

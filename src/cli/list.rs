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
    // One unreachable destination must not hide what the others hold.
    let mut unreachable = Vec::new();
    for d in &dests {
        match catalog::list(d, &spec.name).await {
            Ok(sets) => {
                for set in sets {
                    by_id.entry(set.id.clone()).or_insert(set);
                }
            }
            Err(e) => {
                eprintln!("error: destination `{}`: {}", d.name, e.render());
                unreachable.push(d.name.clone());
            }
        }
    }
    let code = if unreachable.is_empty() { 0 } else { 2 };
    let mut rows = Vec::new();
    for set in by_id.values() {
        let mut presence = BTreeMap::new();
        for d in &dests {
            let p = if unreachable.contains(&d.name) {
                Presence::Unreachable
            } else {
                catalog::presence(d, &set.manifest)
                    .await
                    .unwrap_or(Presence::Unreachable)
            };
            presence.insert(d.name.clone(), p);
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
        return Ok(code);
    }
    if rows.is_empty() {
        println!("No complete backups of `{}`.", spec.name);
        return Ok(code);
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
                    Presence::Unreachable => "ERROR",
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
    Ok(code)
}

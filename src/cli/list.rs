use firedrill::catalog::listing::{Listing, RepoRow};
use firedrill::catalog::Presence;
use firedrill::{Exit, Result};

use super::SpecArgs;

pub async fn run(args: SpecArgs) -> Result<Exit> {
    let spec = args.load()?;
    let listing = firedrill::method::of(&spec).listing(&spec).await?;
    let place = if listing.repositories.is_some() {
        "repository"
    } else {
        "destination"
    };
    for (name, e) in &listing.unreachable {
        eprintln!("error: {place} `{name}`: {}", e.render());
    }
    let code = if listing.unreachable.is_empty() {
        Exit::Pass
    } else {
        Exit::CouldNotRun
    };
    if let Some(rows) = &listing.repositories {
        if args.json {
            super::print_json(rows);
        } else if rows.is_empty() {
            out!("No backups of `{}` in its repositories.", spec.name);
        } else {
            print_repositories(rows);
        }
        return Ok(code);
    }
    if args.json {
        super::print_json(&listing.rows);
        return Ok(code);
    }
    if listing.rows.is_empty() {
        out!("No complete backups of `{}`.", spec.name);
        return Ok(code);
    }
    print_table(&listing);
    Ok(code)
}

/// One line per backup set: its presence in each destination and whether they agree.
fn print_table(listing: &Listing) {
    let names = &listing.destinations;
    out!(
        "{:<24} {:<26} {:>12}  {}  parity",
        "backup",
        "recovery point",
        "bytes",
        names.join("  ")
    );
    for r in &listing.rows {
        let cells: Vec<String> = names
            .iter()
            .map(|n| {
                let mark = match r.destinations[n] {
                    Presence::Complete => "yes",
                    Presence::Damaged => "DAMAGED",
                    Presence::Missing => "-",
                    Presence::Unreachable => "ERROR",
                };
                format!("{mark:<width$}", width = n.len())
            })
            .collect();
        out!(
            "{:<24} {:<26} {:>12}  {}  {}",
            r.backup_id,
            r.recovery_point.format("%Y-%m-%d %H:%M:%S UTC"),
            r.size,
            cells.join("  "),
            if r.parity { "ok" } else { "NO" }
        );
        for (dest, why) in &r.problems {
            out!("  {dest}: {why}");
        }
    }
}

/// One line per backup a method keeps in a repository of its own.
fn print_repositories(rows: &[RepoRow]) {
    out!(
        "{:<24} {:<5} {:<26} {:>12}  repository",
        "backup",
        "type",
        "recovery point",
        "bytes"
    );
    for r in rows {
        out!(
            "{:<24} {:<5} {:<26} {:>12}  {}",
            r.backup_id,
            r.kind,
            r.recovery_point.format("%Y-%m-%d %H:%M:%S UTC"),
            r.size,
            r.repository
        );
    }
}

//! The backup-set format and what is done with sets: the [`manifest`] and its [`layout`] in a
//! destination, listing the complete sets (a set without a readable manifest does not exist
//! here), choosing the one a drill restores, presence and parity across destinations
//! ([`listing`]), copying a set to another destination with proven parity ([`replicate`]),
//! and [`retention`] with [`prune`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::warn;

pub mod layout;
pub mod listing;
pub mod manifest;
pub mod prune;
pub mod replicate;
pub mod retention;

pub use manifest::Manifest;

use crate::storage::Destination;
use crate::{Error, Result};

#[derive(Debug, Clone)]
pub struct BackupSet {
    pub id: String,
    pub manifest: Manifest,
}

/// Complete backup sets of `drill` in `dest`, oldest first.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] when the destination cannot be listed.
pub async fn list(dest: &Destination, drill: &str) -> Result<Vec<BackupSet>> {
    let objects = dest.store.list(&format!("{drill}/")).await?;
    let mut sets = Vec::new();
    for obj in objects {
        let Some(rest) = obj.key.strip_prefix(&format!("{drill}/")) else {
            continue;
        };
        let Some((id, name)) = rest.split_once('/') else {
            continue;
        };
        if name != layout::MANIFEST || !layout::is_backup_id(id) {
            continue;
        }
        let Some(bytes) = dest.store.get_bytes(&obj.key).await? else {
            continue;
        };
        match Manifest::parse(&bytes, &format!("{}/{}", dest.name, obj.key)) {
            Ok(m) if m.backup_id == id && m.drill == drill => sets.push(BackupSet {
                id: id.to_string(),
                manifest: m,
            }),
            Ok(_) => {
                warn!(destination = %dest.name, key = %obj.key, "Manifest names another backup; ignored.")
            }
            Err(e) => {
                warn!(destination = %dest.name, error = %e.message, "Unreadable manifest ignored.")
            }
        }
    }
    // Oldest first by recovery point, then by start time (ids made in one second are not
    // ordered by their random suffix).
    sets.sort_by(|a, b| {
        (a.manifest.snapshot_at, a.manifest.started_at, &a.id).cmp(&(
            b.manifest.snapshot_at,
            b.manifest.started_at,
            &b.id,
        ))
    });
    Ok(sets)
}

/// Which backup a drill restores.
#[derive(Debug, Clone, PartialEq)]
pub enum Pick {
    Latest,
    Id(String),
    /// A random complete backup whose recovery point is within this long before now.
    RandomWithin(Duration),
}

/// Chooses a set.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] naming the destination when nothing fits.
pub fn pick<'a>(
    sets: &'a [BackupSet],
    how: &Pick,
    now: DateTime<Utc>,
    dest_name: &str,
) -> Result<&'a BackupSet> {
    let none = || {
        Error::storage(format!("no complete backup in destination `{dest_name}`"))
            .hint("run `firedrill backup SPEC` first, or read another copy with --from")
    };
    match how {
        Pick::Latest => sets.last().ok_or_else(none),
        Pick::Id(id) => sets.iter().find(|s| &s.id == id).ok_or_else(|| {
            Error::storage(format!(
                "backup `{id}` is not a complete backup in destination `{dest_name}`"
            ))
            .hint("run `firedrill list SPEC` to see the backups there")
        }),
        Pick::RandomWithin(window) => {
            let since = now - chrono::Duration::from_std(*window).unwrap_or(chrono::Duration::MAX);
            let eligible: Vec<&BackupSet> = sets
                .iter()
                .filter(|s| s.manifest.snapshot_at >= since)
                .collect();
            if eligible.is_empty() {
                return Err(Error::storage(format!(
                    "no complete backup in destination `{dest_name}` within the last {}",
                    humantime::format_duration(*window)
                ))
                .hint("widen --random-within or run a backup"));
            }
            let mut b = [0u8; 8];
            getrandom::fill(&mut b).expect("OS random source");
            Ok(eligible[(u64::from_le_bytes(b) % eligible.len() as u64) as usize])
        }
    }
}

/// Presence and parity of one backup set in one destination.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Presence {
    /// Manifest and every object present with the recorded sizes.
    Complete,
    /// Manifest present but unreadable or describing another set, or an object missing or of
    /// another size.
    Damaged,
    /// No manifest there.
    Missing,
    /// The destination could not be read.
    Unreachable,
}

/// One destination's copy of a set: its presence and, when damaged, why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyState {
    pub presence: Presence,
    pub problem: Option<String>,
}

impl CopyState {
    fn damaged(problem: String) -> Self {
        CopyState {
            presence: Presence::Damaged,
            problem: Some(problem),
        }
    }
}

/// Checks whether `dest` holds the set of `manifest` (read from another copy): a readable
/// manifest of its own that describes the same set, and every object with the recorded size.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] when the destination cannot be read.
pub async fn inspect(dest: &Destination, manifest: &Manifest) -> Result<CopyState> {
    let mkey = layout::manifest_key(&manifest.drill, &manifest.backup_id);
    let Some(bytes) = dest.store.get_bytes(&mkey).await? else {
        return Ok(CopyState {
            presence: Presence::Missing,
            problem: None,
        });
    };
    let here = match Manifest::parse(&bytes, &format!("{}/{mkey}", dest.name)) {
        Ok(m) => m,
        Err(e) => return Ok(CopyState::damaged(e.message)),
    };
    if !here.describes_same_set(manifest) {
        return Ok(CopyState::damaged(format!(
            "manifest `{}/{mkey}` differs from the set's (other objects or checksums)",
            dest.name
        )));
    }
    for obj in &manifest.objects {
        let key = layout::object_key(&manifest.drill, &manifest.backup_id, &obj.name);
        match dest.store.head(&key).await? {
            Some(size) if size == obj.size => {}
            Some(size) => {
                return Ok(CopyState::damaged(format!(
                    "object `{}/{key}` has {size} bytes, its manifest says {}",
                    dest.name, obj.size
                )))
            }
            None => {
                return Ok(CopyState::damaged(format!(
                    "object `{}/{key}` is missing",
                    dest.name
                )))
            }
        }
    }
    Ok(CopyState {
        presence: Presence::Complete,
        problem: None,
    })
}

/// The presence of `manifest`'s set in `dest` (see [`inspect`]).
///
/// # Errors
/// [`crate::ErrorKind::Storage`] when the destination cannot be read.
pub async fn presence(dest: &Destination, manifest: &Manifest) -> Result<Presence> {
    Ok(inspect(dest, manifest).await?.presence)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::ObjectStore;
    use crate::testing::{memory_destination, utc, SetBuilder};

    #[tokio::test]
    async fn lists_only_complete_sets_and_picks() {
        let (dest, store) = memory_destination("dr");
        let a = "20261120T000000Z-aaaaaa";
        let b = "20261125T000000Z-bbbbbb";
        let orphan = "20261126T000000Z-cccccc";
        for (id, at) in [(a, "2026-11-20T00:00:00Z"), (b, "2026-11-25T00:00:00Z")] {
            SetBuilder::new("d", utc(at))
                .id(id)
                .object("data.dump.zst.age", "abcd")
                .write(&*store)
                .await
                .unwrap();
        }
        SetBuilder::new("d", utc("2026-11-26T00:00:00Z"))
            .id(orphan)
            .object("data.dump.zst.age", "x")
            .write_objects(&*store)
            .await
            .unwrap();
        let sets = list(&dest, "d").await.unwrap();
        assert_eq!(
            sets.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
            vec![a, b]
        );

        let now: DateTime<Utc> = "2026-11-26T00:00:00Z".parse().unwrap();
        assert_eq!(pick(&sets, &Pick::Latest, now, "dr").unwrap().id, b);
        assert_eq!(pick(&sets, &Pick::Id(a.into()), now, "dr").unwrap().id, a);
        assert!(pick(&sets, &Pick::Id(orphan.into()), now, "dr").is_err());
        assert_eq!(
            pick(
                &sets,
                &Pick::RandomWithin(Duration::from_secs(2 * 86400)),
                now,
                "dr"
            )
            .unwrap()
            .id,
            b
        );
        assert!(pick(
            &sets,
            &Pick::RandomWithin(Duration::from_secs(3600)),
            now,
            "dr"
        )
        .is_err());
        assert!(pick(&[], &Pick::Latest, now, "dr")
            .unwrap_err()
            .message
            .contains("`dr`"));

        assert_eq!(
            presence(&dest, &sets[0].manifest).await.unwrap(),
            Presence::Complete
        );
        store
            .put_bytes(
                &layout::object_key("d", a, "data.dump.zst.age"),
                "abc".into(),
            )
            .await
            .unwrap();
        assert_eq!(
            presence(&dest, &sets[0].manifest).await.unwrap(),
            Presence::Damaged
        );
        store.delete(&layout::manifest_key("d", a)).await.unwrap();
        assert_eq!(
            presence(&dest, &sets[0].manifest).await.unwrap(),
            Presence::Missing
        );
    }
}

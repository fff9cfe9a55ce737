//! Names: backup ids and object keys. A backup set lives at `<drill>/<backup-id>/`; its id
//! sorts by time (`20261126T051500Z-a1b2c3`).

use chrono::{DateTime, Utc};

pub use crate::storage::random_hex;

pub const MANIFEST: &str = "manifest.json";
pub const DATA_OBJECT: &str = "data.dump.zst.age";

/// A new backup id for a backup started at `at`.
pub fn new_backup_id(at: DateTime<Utc>) -> String {
    format!("{}-{}", at.format("%Y%m%dT%H%M%SZ"), random_hex(3))
}

/// True for strings shaped like a backup id (so user input can't escape a key).
pub fn is_backup_id(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 23
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[16] == b'-'
        && s[..8].bytes().all(|c| c.is_ascii_digit())
        && s[9..15].bytes().all(|c| c.is_ascii_digit())
        && s[17..].bytes().all(|c| c.is_ascii_hexdigit())
}

pub fn set_prefix(drill: &str, backup_id: &str) -> String {
    format!("{drill}/{backup_id}/")
}

pub fn object_key(drill: &str, backup_id: &str, object: &str) -> String {
    format!("{drill}/{backup_id}/{object}")
}

pub fn manifest_key(drill: &str, backup_id: &str) -> String {
    object_key(drill, backup_id, MANIFEST)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_sort_by_time_and_validate() {
        let a = new_backup_id("2026-11-26T05:15:00Z".parse().unwrap());
        let b = new_backup_id("2026-11-26T05:15:01Z".parse().unwrap());
        assert!(a < b);
        assert!(a.starts_with("20261126T051500Z-"));
        assert!(is_backup_id(&a));
        assert!(!is_backup_id("../../etc/passwd"));
        assert!(!is_backup_id("20261126T051500Z-zzzzzz"));
    }
}

//! `pgbackrest info --output=json`, read into typed structs: the stanza's status, each
//! repository's status, its backups and its WAL archive range. Checked against the output of
//! pgBackRest 2.45 (`tests/data/pgbackrest-info-2.45*.json`).

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;

use crate::{Error, Result};

/// One stanza, as `info` reports it.
#[derive(Debug, Clone, Deserialize)]
pub struct Stanza {
    pub name: String,
    pub status: Status,
    #[serde(default)]
    pub cipher: String,
    #[serde(default)]
    pub repo: Vec<Repo>,
    #[serde(default)]
    pub backup: Vec<Backup>,
    #[serde(default)]
    pub archive: Vec<Archive>,
    #[serde(default)]
    pub db: Vec<Db>,
}

/// `code` 0 is ok; anything else carries pgBackRest's message (e.g. "missing stanza path").
#[derive(Debug, Clone, Deserialize)]
pub struct Status {
    pub code: i64,
    pub message: String,
}

/// pgBackRest's status code of a stanza (or repository) that exists but holds no backup yet.
pub const NO_VALID_BACKUP: i64 = 2;

impl Status {
    pub fn ok(&self) -> bool {
        self.code == 0
    }

    /// Ok, or set up and waiting for its first backup.
    pub fn usable(&self) -> bool {
        self.ok() || self.code == NO_VALID_BACKUP
    }
}

/// One repository of the stanza (`repoN-*` in pgbackrest.conf).
#[derive(Debug, Clone, Deserialize)]
pub struct Repo {
    pub key: u32,
    #[serde(default)]
    pub cipher: String,
    pub status: Status,
}

/// Which database (by history id) and which repository a backup or archive belongs to.
#[derive(Debug, Clone, Copy, Deserialize)]
pub struct DbRef {
    pub id: u32,
    #[serde(rename = "repo-key")]
    pub repo_key: u32,
}

/// One backup in one repository.
#[derive(Debug, Clone, Deserialize)]
pub struct Backup {
    /// e.g. `20261201-172500F` (`F` full, `D` diff, `I` incr).
    pub label: String,
    /// `full`, `diff` or `incr`.
    #[serde(rename = "type")]
    pub kind: String,
    pub timestamp: Span<i64>,
    /// First and last WAL segment the backup needs to be consistent.
    pub archive: Option<Span<Option<String>>>,
    pub backrest: Backrest,
    pub database: DbRef,
    pub info: Sizes,
    /// The backup this one depends on (diff and incr).
    #[serde(default)]
    pub prior: Option<String>,
    /// True when pgBackRest found errors (checksums) while taking it.
    #[serde(default)]
    pub error: Option<bool>,
    /// The WAL positions the backup started and stopped at.
    #[serde(default)]
    pub lsn: Option<Span<String>>,
}

impl Backup {
    pub fn started_at(&self) -> DateTime<Utc> {
        at(self.timestamp.start)
    }

    /// When the backup stopped: the earliest point it restores to.
    pub fn stopped_at(&self) -> DateTime<Utc> {
        at(self.timestamp.stop)
    }

    /// Repository name as pgbackrest.conf spells its options: `repo1`.
    pub fn repo(&self) -> String {
        repo_name(self.database.repo_key)
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct Span<T> {
    pub start: T,
    pub stop: T,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Backrest {
    pub version: String,
}

/// `size`: the database as backed up; `repository.size`: what the repository stores for it.
#[derive(Debug, Clone, Deserialize)]
pub struct Sizes {
    pub size: u64,
    pub delta: u64,
    pub repository: RepoSizes,
}

#[derive(Debug, Clone, Deserialize)]
pub struct RepoSizes {
    pub size: u64,
    pub delta: u64,
}

/// The WAL archive of one database history in one repository.
#[derive(Debug, Clone, Deserialize)]
pub struct Archive {
    pub database: DbRef,
    /// e.g. `15-1` (PostgreSQL version and history id).
    pub id: String,
    pub min: Option<String>,
    pub max: Option<String>,
}

/// One database history of the stanza in one repository.
#[derive(Debug, Clone, Deserialize)]
pub struct Db {
    pub id: u32,
    #[serde(rename = "repo-key")]
    pub repo_key: u32,
    #[serde(rename = "system-id")]
    pub system_id: u64,
    /// PostgreSQL major version, e.g. `15`.
    pub version: String,
}

impl Stanza {
    /// The backups in repository `key`, oldest first.
    pub fn backups_in(&self, key: u32) -> impl Iterator<Item = &Backup> {
        self.backup
            .iter()
            .filter(move |b| b.database.repo_key == key)
    }

    /// The archives of repository `key`.
    pub fn archives_in(&self, key: u32) -> impl Iterator<Item = &Archive> {
        self.archive
            .iter()
            .filter(move |a| a.database.repo_key == key)
    }

    /// The database history a backup was taken of.
    pub fn db_of(&self, b: &Backup) -> Option<&Db> {
        self.db
            .iter()
            .find(|d| d.id == b.database.id && d.repo_key == b.database.repo_key)
    }
}

/// `repo1`, `repo2`, ...
pub fn repo_name(key: u32) -> String {
    format!("repo{key}")
}

fn at(epoch: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(epoch, 0).single().unwrap_or_default()
}

/// Reads `stanza` out of `info --output=json`.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] when the text is not pgBackRest's JSON or names no such stanza.
pub fn parse(json: &str, stanza: &str) -> Result<Stanza> {
    let all: Vec<Stanza> = serde_json::from_str(&escape_controls(json)).map_err(|e| {
        Error::storage(format!(
            "`pgbackrest info --output=json` printed something firedrill cannot read: {e}"
        ))
        .hint("firedrill reads the JSON of pgBackRest 2.x; check `pgbackrest version`")
    })?;
    all.into_iter().find(|s| s.name == stanza).ok_or_else(|| {
        Error::storage(format!("pgbackrest info lists no stanza `{stanza}`"))
            .hint("check source.stanza against the [sections] of pgbackrest.conf")
    })
}

/// pgBackRest prints a message with the bytes it could not read as they are (a repository
/// decrypted with a wrong passphrase): control characters inside strings, which JSON forbids,
/// are escaped.
fn escape_controls(json: &str) -> std::borrow::Cow<'_, str> {
    if !json
        .trim_end()
        .contains(|c: char| c.is_ascii_control() && c != '\n')
    {
        return json.into();
    }
    let mut out = String::with_capacity(json.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in json.chars() {
        if in_string && !escaped && c.is_ascii_control() {
            out.push_str(&format!("\\u{:04x}", c as u32));
            continue;
        }
        out.push(c);
        if escaped {
            escaped = false;
        } else if in_string && c == '\\' {
            escaped = true;
        } else if c == '"' {
            in_string = !in_string;
        }
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../tests/data/pgbackrest-info-2.45.json");
    const MISSING: &str =
        include_str!("../../../tests/data/pgbackrest-info-2.45-missing-stanza.json");

    #[test]
    fn reads_backups_and_archives_of_both_repositories() {
        let s = parse(SAMPLE, "demo").unwrap();
        assert!(s.status.ok());
        assert_eq!(s.repo.iter().map(|r| r.key).collect::<Vec<_>>(), [1, 2]);
        assert!(s.repo.iter().all(|r| r.status.ok() && r.cipher == "none"));
        let one: Vec<&Backup> = s.backups_in(1).collect();
        let two: Vec<&Backup> = s.backups_in(2).collect();
        assert_eq!(one.len(), 1);
        assert_eq!(two.len(), 1);
        let b = one[0];
        assert_eq!(b.label, "20261201-172500F");
        assert_eq!(b.kind, "full");
        assert_eq!(b.repo(), "repo1");
        assert_eq!(b.backrest.version, "2.45");
        assert_eq!(b.stopped_at().to_rfc3339(), "2026-12-01T17:25:03+00:00");
        assert!(b.started_at() < b.stopped_at());
        assert_eq!(b.info.size, 23_213_893);
        assert_eq!(b.info.repository.size, 3_062_221);
        assert_eq!(
            b.archive.as_ref().unwrap().stop.as_deref(),
            Some("000000010000000000000007")
        );
        assert_eq!(two[0].label, "20261201-172503F");
        assert_eq!(s.db_of(b).unwrap().version, "15");
        let a = s.archives_in(2).next().unwrap();
        assert_eq!(a.id, "15-1");
        assert_eq!(a.max.as_deref(), Some("000000010000000000000009"));
    }

    #[test]
    fn a_missing_stanza_is_a_status_not_a_parse_error() {
        let s = parse(MISSING, "nope").unwrap();
        assert!(!s.status.ok());
        assert_eq!(s.status.message, "missing stanza path");
        assert!(s.repo.iter().all(|r| !r.status.ok()));
        assert!(s.backup.is_empty());
    }

    #[test]
    fn a_stanza_waiting_for_its_first_backup_is_usable_not_ok() {
        let json = r#"[{"archive":[],"backup":[],"cipher":"none","db":[],"name":"main",
            "repo":[{"cipher":"none","key":1,"status":{"code":2,"message":"no valid backups"}}],
            "status":{"code":2,"lock":{"backup":{"held":false}},"message":"no valid backups"}}]"#;
        let s = parse(json, "main").unwrap();
        assert!(!s.status.ok() && s.status.usable());
        assert!(s.repo[0].status.usable());
        let missing = parse(MISSING, "nope").unwrap();
        assert!(!missing.status.usable());
    }

    #[test]
    fn raw_control_characters_in_a_message_are_read() {
        let json = "[{\"name\":\"main\",\"status\":{\"code\":99,\"message\":\"line 1: \u{19}\u{8}x\\\"\ty\"}}]\n";
        let s = parse(json, "main").unwrap();
        assert_eq!(s.status.message, "line 1: \u{19}\u{8}x\"\ty");
    }

    #[test]
    fn another_stanza_or_garbage_is_refused_by_name() {
        let e = parse(SAMPLE, "orders").unwrap_err();
        assert!(e.message.contains("no stanza `orders`"), "{}", e.message);
        let e = parse("ERROR: [055]", "demo").unwrap_err();
        assert!(e.message.contains("cannot read"), "{}", e.message);
    }
}

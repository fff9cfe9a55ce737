//! The timeline a recovery followed, and the one it was promoted to. With
//! `--target-timeline=latest` PostgreSQL follows the newest timeline whose history file the
//! archive holds; a stray history file (a restored copy that once archived into the
//! repository) would send every later `latest` drill down that branch, replaying nothing
//! of production after the branch point. A `latest` drill must therefore have followed the
//! timeline of the newest segment the repository listed, and the timeline the source runs on
//! (a stray copy that archived segments of its own makes them the newest ones).

use std::path::Path;

use crate::pg::PgTarget;
use crate::{Error, Result};

/// The timeline the source runs on now (the first 8 hex digits of its current WAL file's
/// name); `None` when it cannot be asked within 10 s, or is a standby.
pub async fn of_source(source: &PgTarget) -> Option<u32> {
    let asked = async {
        let c = source.connect("the source database").await.ok()?;
        let row = c
            .query_one("select pg_walfile_name(pg_current_wal_lsn())", &[])
            .await
            .ok()?;
        let name: String = row.get(0);
        u32::from_str_radix(name.get(..8)?, 16).ok()
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), asked)
        .await
        .ok()
        .flatten()
}

/// A `latest` recovery must have followed the timeline the source ran on when the drill
/// began.
///
/// # Errors
/// [`crate::ErrorKind::Restore`] naming both timelines.
pub fn check_source(recovered: Option<u32>, source: Option<u32>, repo: &str) -> Result<()> {
    let (Some(followed), Some(source)) = (recovered, source) else {
        return Ok(());
    };
    if followed == source {
        return Ok(());
    }
    Err(Error::restore(format!(
        "recovery from {repo} followed timeline {followed}, but the source runs on timeline {source}: {repo}'s archive holds a branch the source is not on (a restored copy that archived into the repository), and the drill did not restore the source's history"
    ))
    .hint(format!(
        "move the {followed:08X}.history file and the segments named {followed:08X}... out of {repo}'s archive if no server runs timeline {followed}"
    )))
}

/// The timeline recovery followed before promotion to `promoted`: the parent named by the
/// last entry of `promoted`'s history file, which promotion writes into `data/pg_wal`.
pub fn recovered_along(data: &Path, promoted: u32) -> Option<u32> {
    let file = data.join("pg_wal").join(format!("{promoted:08X}.history"));
    parent(&std::fs::read_to_string(file).ok()?)
}

/// The parent timeline of a history file's text: the first field of its last entry
/// (`1\t0/3000000\tno recovery target specified`).
fn parent(history: &str) -> Option<u32> {
    history
        .lines()
        .map(str::trim)
        .rfind(|l| !l.is_empty() && !l.starts_with('#'))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// A `latest` recovery must have followed the timeline of `archive_max`, the newest segment
/// repository `repo` listed when the drill began.
///
/// # Errors
/// [`crate::ErrorKind::Restore`] naming both timelines.
pub fn check_latest(recovered: Option<u32>, archive_max: Option<&str>, repo: &str) -> Result<()> {
    let (Some(followed), Some(max)) = (recovered, archive_max) else {
        return Ok(());
    };
    let Some(newest) = max.get(..8).and_then(|t| u32::from_str_radix(t, 16).ok()) else {
        return Ok(());
    };
    if followed == newest {
        return Ok(());
    }
    Err(Error::restore(format!(
        "recovery from {repo} followed timeline {followed}, but the newest segment it archived, {max}, is on timeline {newest}: a history file in {repo} sent recovery down another branch, and the drill did not restore the archive's end"
    ))
    .hint(format!(
        "find the {followed:08X}.history file in {repo}'s archive; if no server runs timeline {followed}, it is a stray (a restored copy archived into the repository): move it out of the archive"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_is_the_last_entry_of_the_history_file() {
        assert_eq!(
            parent("1\t0/3000000\tno recovery target specified\n"),
            Some(1)
        );
        assert_eq!(
            parent(
                "1\t0/3000000\tno recovery target specified\n\n2\t0/5000000\tbefore 2026-12-01\n"
            ),
            Some(2)
        );
        assert_eq!(parent("# comment\n"), None);
        let data = tempfile::tempdir().unwrap();
        std::fs::create_dir(data.path().join("pg_wal")).unwrap();
        std::fs::write(
            data.path().join("pg_wal/0000000B.history"),
            "1\t0/3000000\tx\n10\t0/5000000\ty\n",
        )
        .unwrap();
        assert_eq!(recovered_along(data.path(), 11), Some(10));
        assert_eq!(recovered_along(data.path(), 12), None);
    }

    #[test]
    fn a_latest_drill_down_another_branch_fails_naming_both_timelines() {
        let max = Some("000000010000000000000009");
        assert!(check_latest(Some(1), max, "repo2").is_ok());
        assert!(check_latest(None, max, "repo2").is_ok());
        assert!(check_latest(Some(2), None, "repo2").is_ok());
        let e = check_latest(Some(2), max, "repo2").unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Restore);
        assert!(
            e.message.contains("followed timeline 2")
                && e.message
                    .contains("000000010000000000000009, is on timeline 1"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("00000002.history"));
    }

    #[test]
    fn a_latest_drill_off_the_sources_timeline_fails_naming_both() {
        assert!(check_source(Some(3), Some(3), "repo2").is_ok());
        assert!(check_source(None, Some(3), "repo2").is_ok());
        assert!(check_source(Some(3), None, "repo2").is_ok());
        let e = check_source(Some(2), Some(1), "repo1").unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Restore);
        assert!(
            e.message
                .contains("followed timeline 2, but the source runs on timeline 1"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("00000002.history"));
    }
}

//! Disk preflight of a physical drill: the restore must fit in `drill.work-dir` before
//! anything is restored, so a drill never fills the host's disk half way and never fails
//! late for a reason known at the start.
//!
//! What is needed: the database as backed up (`info`: the backup's `info.size`), plus WAL
//! headroom: the WAL from the backup's first segment to the newest segment the repository
//! archived, plus [`SPARE_SEGMENTS`]. Every change replay makes to a data file is in that WAL
//! (archiving runs with `wal_level` replica or logical), so the data files cannot grow by
//! much more than the WAL replayed; segments fetched by `restore_command` are not kept
//! (PostgreSQL replays each from a temporary file), and after promotion the new timeline
//! needs a few segments of its own. The range is the whole archive after the backup, the
//! most any target can replay. The segment size comes from the backup itself: its start
//! LSN lies in its first segment.

use std::path::{Path, PathBuf};

use super::info::Backup;
use super::wal;
use crate::progress::human_bytes;
use crate::{Error, Result};

/// Segments kept beside the replayed WAL: the one being restored, the new timeline's first
/// and the one PostgreSQL preallocates after it, and one for the end-of-recovery checkpoint.
pub const SPARE_SEGMENTS: u64 = 4;

/// PostgreSQL's default segment size, assumed when the backup does not tell.
const DEFAULT_SEGMENT: u64 = 16 << 20;

/// What a restore of one backup needs in the work dir.
#[derive(Debug, Clone, PartialEq)]
pub struct Need {
    /// The database as backed up.
    pub data: u64,
    /// WAL segments of headroom (replay range plus spares) and their size.
    pub segments: u64,
    pub segment_size: u64,
}

impl Need {
    /// For restoring `b` of a repository whose archive ends at `archive_max`.
    pub fn of(b: &Backup, archive_max: Option<&str>) -> Need {
        let first = b.archive.as_ref().and_then(|a| a.start.clone());
        let segment_size = first
            .as_deref()
            .zip(b.lsn.as_ref().map(|l| l.start.as_str()))
            .and_then(|(seg, lsn)| segment_size(lsn, seg))
            .unwrap_or(DEFAULT_SEGMENT);
        let number = |name: &str| wal::parse_segment(name, segment_size).map(|(_, n)| n);
        let replayed = match (
            first.as_deref().and_then(number),
            archive_max.and_then(number),
        ) {
            (Some(a), Some(z)) if z >= a => z - a + 1,
            _ => 0,
        };
        Need {
            data: b.info.size,
            segments: replayed + SPARE_SEGMENTS,
            segment_size,
        }
    }

    pub fn total(&self) -> u64 {
        self.data
            .saturating_add(self.segments.saturating_mul(self.segment_size))
    }
}

/// The segment size under which the LSN `lsn` (`0/2000028`) lies in segment `segment`
/// (`000000010000000000000002`): a power of two from 1 MB to 1 GB, as `initdb` allows.
fn segment_size(lsn: &str, segment: &str) -> Option<u64> {
    let lsn = wal::parse_lsn(lsn).ok()?;
    (20..=30)
        .map(|bits| 1u64 << bits)
        .find(|size| wal::parse_segment(segment, *size).is_some_and(|(_, n)| n == lsn / size))
}

/// Refuses a restore of `id` that needs more than the free space of the file system holding
/// `work_dir`.
///
/// # Errors
/// [`crate::ErrorKind::Preflight`] naming both numbers and the folder.
pub fn check(work_dir: &Path, id: &str, need: &Need) -> Result<()> {
    let (folder, free) = free_space(work_dir)?;
    verdict(&folder, free, id, need)
}

fn verdict(folder: &Path, free: u64, id: &str, need: &Need) -> Result<()> {
    if need.total() <= free {
        return Ok(());
    }
    Err(Error::preflight(format!(
        "the restore of `{id}` needs {} in drill.work-dir and `{}` has {} free: {} of data as backed up (pgbackrest info) + {} of WAL headroom ({} segments of {}: the archive after the backup and {SPARE_SEGMENTS} spare)",
        human_bytes(need.total()),
        folder.display(),
        human_bytes(free),
        human_bytes(need.data),
        human_bytes(need.segments * need.segment_size),
        need.segments,
        human_bytes(need.segment_size),
    ))
    .hint("free space there, or set drill.work-dir to a folder on a bigger file system"))
}

/// The space an unprivileged user may still fill on the file system of `dir` (or of its
/// nearest existing parent, when it does not exist yet), and the folder measured.
fn free_space(dir: &Path) -> Result<(PathBuf, u64)> {
    let mut at = dir.to_path_buf();
    while !at.exists() {
        match at.parent() {
            Some(p) => at = p.to_path_buf(),
            None => break,
        }
    }
    let st = nix::sys::statvfs::statvfs(&at).map_err(|e| {
        Error::preflight(format!(
            "cannot read the free space of `{}`: {e}",
            at.display()
        ))
        .hint("set drill.work-dir to a folder firedrill can read")
    })?;
    let free = st.blocks_available().saturating_mul(st.fragment_size());
    Ok((at, free))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = include_str!("../../../tests/data/pgbackrest-info-2.45.json");

    #[test]
    fn the_segment_size_is_where_the_backups_start_lsn_lies() {
        assert_eq!(
            segment_size("0/2000028", "000000010000000000000002"),
            Some(16 << 20)
        );
        assert_eq!(
            segment_size("0/2000028", "000000010000000000000020"),
            Some(1 << 20)
        );
        assert_eq!(
            segment_size("1/40000028", "000000030000000100000001"),
            Some(1 << 30)
        );
        assert_eq!(segment_size("0/2000028", "000000010000000000000003"), None);
    }

    #[test]
    fn the_need_is_the_backup_plus_the_archive_after_it_plus_spares() {
        let s = super::super::info::parse(SAMPLE, "demo").unwrap();
        let b = s.backups_in(1).next().unwrap();
        // Starts at 0/700028 in segment 07: 1 MB segments; the archive ends at 09.
        let need = Need::of(b, Some("000000010000000000000009"));
        assert_eq!(need.segment_size, 1 << 20);
        assert_eq!(need.segments, 3 + SPARE_SEGMENTS);
        assert_eq!(need.data, 23_213_893);
        assert_eq!(need.total(), 23_213_893 + 7 * (1 << 20));
        assert_eq!(Need::of(b, None).segments, SPARE_SEGMENTS);
    }

    #[test]
    fn a_restore_larger_than_the_free_space_is_refused_naming_both_and_the_folder() {
        let need = Need {
            data: 30 << 20,
            segments: 8,
            segment_size: 1 << 20,
        };
        let folder = Path::new("/var/tmp/drills");
        assert!(verdict(folder, 40 << 20, "repo2:L", &need).is_ok());
        let e = verdict(folder, 2 << 20, "repo2:L", &need).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Preflight);
        assert!(
            e.message.contains(
                "`repo2:L` needs 38.0 MiB in drill.work-dir and `/var/tmp/drills` has 2.0 MiB free"
            ) && e.message.contains("30.0 MiB of data")
                && e.message
                    .contains("8.0 MiB of WAL headroom (8 segments of 1.0 MiB"),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_work_dir_not_made_yet_is_measured_at_its_parent() {
        let tmp = tempfile::tempdir().unwrap();
        let (at, free) = free_space(&tmp.path().join("a/b")).unwrap();
        assert_eq!(at, tmp.path());
        assert!(free > 0);
    }
}

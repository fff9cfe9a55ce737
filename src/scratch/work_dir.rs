//! Whether ephemeral clusters can live in `drill.work-dir`: firedrill must be able to create
//! or write it, and the OS user the clusters run as must be able to enter every folder on
//! the way to it.
//!
//! As root, firedrill creates `work-dir` (0755) and a private folder per cluster inside it,
//! handed to `drill.run-as`; that user runs `initdb` and `postgres` with its own uid and
//! primary group only (no supplementary groups), so it needs search (`x`) permission on
//! every folder above `work-dir`, judged here from their modes and owners (POSIX modes;
//! ACLs are not read). As any other user, firedrill and its clusters are the same user: the
//! kernel is asked (`access(2)`).

use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use nix::unistd::{access, AccessFlags};

use super::ephemeral::run_as;
use crate::{Error, Result};

/// Confirms `work_dir` can hold ephemeral clusters run as `run_as_user` (when firedrill is
/// root) or as firedrill's own user; the detail says who was checked.
///
/// # Errors
/// [`crate::ErrorKind::Preflight`] naming the folder, the user and the fix.
pub fn check(work_dir: &Path, run_as_user: &str) -> Result<String> {
    let existing = deepest_existing(work_dir);
    if !existing.is_dir() {
        return Err(Error::preflight(format!(
            "drill.work-dir `{}` cannot be created: `{}` is not a folder",
            work_dir.display(),
            existing.display()
        ))
        .hint("set drill.work-dir to a folder, e.g. /var/tmp/firedrill"));
    }
    // firedrill itself creates work-dir and the clusters' folders in it.
    let verb = if existing == work_dir {
        "write to"
    } else {
        "create"
    };
    if let Err(e) = access(&existing, AccessFlags::W_OK | AccessFlags::X_OK) {
        return Err(Error::preflight(format!(
            "firedrill cannot {verb} drill.work-dir `{}`: `{}` is not writable ({e})",
            work_dir.display(),
            existing.display()
        ))
        .hint("set drill.work-dir to a writable folder, e.g. /var/tmp/firedrill"));
    }
    match run_as(run_as_user)? {
        Some((uid, gid)) => {
            for dir in folders_above(work_dir) {
                let meta = std::fs::metadata(&dir).map_err(|e| {
                    Error::preflight(format!("cannot inspect `{}`: {e}", dir.display()))
                })?;
                if !can_search(&meta, uid, gid) {
                    return Err(blocked(&dir, &meta, work_dir, run_as_user));
                }
            }
            Ok(format!(
                "`{}` is reachable for the OS user `{run_as_user}` (drill.run-as) that runs ephemeral clusters",
                work_dir.display()
            ))
        }
        None => Ok(format!(
            "`{}` is writable for firedrill's own user, which runs ephemeral clusters",
            work_dir.display()
        )),
    }
}

/// `path` if it exists, else its nearest existing ancestor.
fn deepest_existing(path: &Path) -> PathBuf {
    path.ancestors()
        .find(|p| p.exists())
        .unwrap_or_else(|| Path::new("/"))
        .to_path_buf()
}

/// Every existing folder strictly above `work_dir` (work-dir itself is set to 0755 when a
/// drill starts), as written and with symbolic links resolved, from the root down.
fn folders_above(work_dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = Vec::new();
    let Some(parent) = work_dir.parent() else {
        return out;
    };
    let existing = deepest_existing(parent);
    let mut add = |p: &Path| {
        let mut chain: Vec<PathBuf> = p.ancestors().map(Path::to_path_buf).collect();
        chain.reverse();
        for dir in chain {
            if !out.contains(&dir) {
                out.push(dir);
            }
        }
    };
    add(&existing);
    if let Ok(real) = std::fs::canonicalize(&existing) {
        add(&real);
    }
    out
}

/// Search permission for a process of `uid` and primary group `gid` only.
fn can_search(meta: &Metadata, uid: u32, gid: u32) -> bool {
    let mode = meta.permissions().mode();
    if uid == 0 {
        return mode & 0o111 != 0;
    }
    let bit = if meta.uid() == uid {
        0o100
    } else if meta.gid() == gid {
        0o010
    } else {
        0o001
    };
    mode & bit != 0
}

fn blocked(dir: &Path, meta: &Metadata, work_dir: &Path, user: &str) -> Error {
    let owner = |id: u32, user: bool| {
        let name = if user {
            nix::unistd::User::from_uid(id.into())
                .ok()
                .flatten()
                .map(|u| u.name)
        } else {
            nix::unistd::Group::from_gid(id.into())
                .ok()
                .flatten()
                .map(|g| g.name)
        };
        name.unwrap_or_else(|| id.to_string())
    };
    Error::preflight(format!(
        "the OS user `{user}` (drill.run-as), which runs ephemeral scratch clusters, cannot enter `{}` (mode {:o}, owner {}:{}) on the way to drill.work-dir `{}`",
        dir.display(),
        meta.permissions().mode() & 0o7777,
        owner(meta.uid(), true),
        owner(meta.gid(), false),
        work_dir.display()
    ))
    .hint(format!(
        "let it through (chmod o+x {}) or set drill.work-dir to a folder `{user}` can reach, e.g. /var/tmp/firedrill",
        dir.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_permission_follows_the_owner_group_other_classes() {
        let dir = tempfile::tempdir().unwrap();
        if nix::unistd::geteuid().is_root() {
            // Root may enter anything; judge for an ordinary owner.
            nix::unistd::chown(dir.path(), Some(4242.into()), Some(4343.into())).unwrap();
        }
        let meta = |mode: u32| {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
            std::fs::metadata(dir.path()).unwrap()
        };
        let (uid, gid) = (meta(0o700).uid(), meta(0o700).gid());
        let other = uid + 4242;
        // The owner class decides for the owner, even when others may pass.
        assert!(!can_search(&meta(0o071), uid, gid));
        assert!(can_search(&meta(0o700), uid, gid));
        // Not the owner, in the group.
        assert!(can_search(&meta(0o710), other, gid));
        assert!(!can_search(&meta(0o701), other, gid));
        // Neither.
        assert!(can_search(&meta(0o701), other, gid + 4242));
        assert!(!can_search(&meta(0o770), other, gid + 4242));
    }

    #[test]
    fn folders_above_work_dir_run_from_the_root_down() {
        let dir = tempfile::tempdir().unwrap();
        let work = dir.path().join("a/b/work");
        let above = folders_above(&work);
        assert_eq!(above.first().map(PathBuf::as_path), Some(Path::new("/")));
        assert!(above.contains(&dir.path().to_path_buf()), "{above:?}");
        assert!(!above.iter().any(|p| p.starts_with(dir.path().join("a"))));
    }
}

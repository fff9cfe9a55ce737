//! Where a repository's recoverable window ends: the last commit in its newest archived WAL
//! segments. A time after it cannot be recovered to — PostgreSQL reaches the end of the
//! archive without passing the target and refuses to promote — so a random time is drawn, and
//! an asked time checked, against this commit, not against when the source last archived.
//!
//! The segments are read through pgBackRest (`repo-ls`, `repo-get`: posix and S3 alike,
//! decrypted by pgBackRest), decompressed here, and read by `pg_waldump` in a private folder
//! that is removed afterwards. When none of the newest few segments holds a commit (an idle
//! source), the end falls back to when the source last archived a segment.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};

use super::command::{PgBackRest, QUICK};
use super::info::{self, Stanza};
use crate::pg::PgTools;
use crate::{Error, Result};

/// How many of the newest segments are read for a commit before falling back.
const SEGMENTS: usize = 4;

/// The end of the window and how it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct WindowEnd {
    pub at: DateTime<Utc>,
    /// e.g. `the last commit in 000000010000000000000009`.
    pub how: String,
}

/// The end of repository `key`'s window; `fallback` (when the source last archived) when no
/// commit can be read from its newest segments.
pub async fn end(
    pgbr: &PgBackRest,
    stanza: &Stanza,
    key: u32,
    tools: &PgTools,
    fallback: DateTime<Utc>,
) -> WindowEnd {
    match last_commit(pgbr, stanza, key, tools).await {
        Ok(Some(found)) => found,
        Ok(None) => WindowEnd {
            at: fallback,
            how: "when the source last archived (no commit in the newest segments)".into(),
        },
        Err(e) => {
            tracing::warn!(repository = %info::repo_name(key), "cannot read the newest WAL segment: {}", e.render());
            WindowEnd {
                at: fallback,
                how: "when the source last archived (the newest segment could not be read)".into(),
            }
        }
    }
}

/// The last commit in the newest segments of `key`'s newest archive, newest first.
async fn last_commit(
    pgbr: &PgBackRest,
    stanza: &Stanza,
    key: u32,
    tools: &PgTools,
) -> Result<Option<WindowEnd>> {
    let Some((archive_id, max)) = stanza
        .archives_in(key)
        .filter_map(|a| a.max.as_ref().map(|m| (a.id.clone(), m.clone())))
        .max_by(|a, b| a.1.cmp(&b.1))
    else {
        return Ok(None);
    };
    let Some(log) = max.get(..16) else {
        return Ok(None);
    };
    let folder = format!("archive/{}/{archive_id}/{log}", stanza.name);
    let repo = format!("--repo={key}");
    let listing = pgbr
        .run(&["repo-ls", &repo, "--output=json", &folder], QUICK, None)
        .await?;
    let waldump = tools.find("pg_waldump", 0, "to read the newest archived WAL")?;
    let dir = Private::new(pgbr.folder().join(format!("window-{}", std::process::id())))?;
    for file in newest_segments(&listing, &max) {
        let bytes = pgbr
            .run_bytes(
                &["repo-get", &repo, &format!("{folder}/{file}")],
                QUICK,
                None,
            )
            .await?;
        let seg = dir.0.join(&file[..24]);
        std::fs::write(&seg, decompress(&file, &bytes)?)
            .map_err(|e| Error::scratch(format!("cannot write `{}`: {e}", seg.display())))?;
        let printed = dump(&waldump.path, &seg).await?;
        if let Some(at) = last_commit_in(&printed) {
            return Ok(Some(WindowEnd {
                at,
                how: format!("the last commit in {}", &file[..24]),
            }));
        }
    }
    Ok(None)
}

/// The files of whole segments at or before `max` in a `repo-ls --output=json` listing,
/// newest first (`<segment>-<sha1>[.gz|.zst|...]`; `.backup` and `.partial` files left out).
fn newest_segments(listing: &str, max: &str) -> Vec<String> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_str(listing) else {
        return Vec::new();
    };
    let mut files: Vec<String> = map
        .keys()
        .filter(|k| {
            k.len() > 25
                && k.as_bytes()[24] == b'-'
                && k[..24].bytes().all(|b| b.is_ascii_hexdigit())
                && &k[..24] <= max
                && !k.contains(".partial")
        })
        .cloned()
        .collect();
    files.sort_unstable_by(|a, b| b.cmp(a));
    files.truncate(SEGMENTS);
    files
}

/// A segment as pgBackRest stored it, decompressed by its extension.
fn decompress(file: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    let ext = file.rsplit_once('.').map(|(_, e)| e).unwrap_or("");
    let bad = |e: std::io::Error| Error::storage(format!("cannot decompress `{file}`: {e}"));
    match ext {
        "zst" => zstd::decode_all(bytes).map_err(bad),
        "gz" | "bz2" | "lz4" => pipe(ext, bytes).map_err(bad),
        _ if file.len() == 24 + 41 => Ok(bytes.to_vec()),
        _ => Err(Error::storage(format!(
            "`{file}`: unknown compression `{ext}`"
        ))),
    }
}

/// `gzip -dc`, `bzip2 -dc` or `lz4 -dc` of `bytes`.
fn pipe(ext: &str, bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let program = match ext {
        "gz" => "gzip",
        "bz2" => "bzip2",
        _ => "lz4",
    };
    let mut child = Command::new(program)
        .arg("-dc")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let mut stdin = child.stdin.take().expect("piped");
    let input = bytes.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let mut out = Vec::new();
    child.stdout.take().expect("piped").read_to_end(&mut out)?;
    writer
        .join()
        .map_err(|_| std::io::Error::other("writer panicked"))??;
    let status = child.wait()?;
    if !status.success() {
        return Err(std::io::Error::other(format!("{program} -dc: {status}")));
    }
    Ok(out)
}

/// `pg_waldump SEGMENT` in UTC; what it printed, also when it stopped at a record running into
/// the next segment (it exits non-zero then).
async fn dump(waldump: &Path, seg: &Path) -> Result<String> {
    let mut cmd = tokio::process::Command::new(waldump);
    cmd.arg(seg)
        .env("TZ", "UTC")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .map_err(|_| Error::internal("pg_waldump did not finish within 60s"))?
        .map_err(|e| Error::internal(format!("cannot run pg_waldump: {e}")))?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The time of the last `COMMIT` record pg_waldump printed (in UTC).
fn last_commit_in(printed: &str) -> Option<DateTime<Utc>> {
    printed.lines().rev().find_map(|line| {
        let rest = line.split_once("desc: COMMIT ")?.1;
        let stamp = rest.split_once(" UTC")?.0;
        NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f")
            .ok()
            .map(|t| t.and_utc())
    })
}

/// A private folder removed when dropped.
struct Private(PathBuf);

impl Private {
    fn new(path: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&path)
            .map_err(|e| Error::scratch(format!("cannot create `{}`: {e}", path.display())))?;
        Ok(Self(path))
    }
}

impl Drop for Private {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_commit_is_read_from_pg_waldump() {
        let printed = "\
rmgr: Heap        len (rec/tot):     59/    59, tx:        724, lsn: 0/00817720, prev 0/008176E0, desc: INSERT off 100 flags 0x00, blkref #0: rel 1663/5/16384 blk 0
rmgr: Transaction len (rec/tot):    405/   405, tx:        724, lsn: 0/00900028, prev 0/00817760, desc: COMMIT 2026-12-01 20:04:29.119355 UTC; inval msgs: catcache 80
rmgr: Transaction len (rec/tot):     34/    34, tx:        725, lsn: 0/00900100, prev 0/00900028, desc: COMMIT 2026-12-01 20:04:31.5 UTC
rmgr: XLOG        len (rec/tot):     24/    24, tx:          0, lsn: 0/009001C0, prev 0/00900028, desc: SWITCH
";
        assert_eq!(
            last_commit_in(printed),
            Some(crate::testing::utc("2026-12-01T20:04:31.5Z"))
        );
        assert_eq!(last_commit_in("rmgr: XLOG desc: SWITCH\n"), None);
    }

    #[test]
    fn only_whole_segments_up_to_the_newest_are_read_newest_first() {
        let listing = r#"{".":{"type":"path"},
            "000000010000000000000006-fc11.gz":{"type":"file"},
            "000000010000000000000007-769d.gz":{"type":"file"},
            "000000010000000000000007.00000028.backup":{"type":"file"},
            "000000010000000000000008-c5e8.gz":{"type":"file"},
            "000000010000000000000009-44e1.gz":{"type":"file"}}"#;
        assert_eq!(
            newest_segments(listing, "000000010000000000000008"),
            vec![
                "000000010000000000000008-c5e8.gz",
                "000000010000000000000007-769d.gz",
                "000000010000000000000006-fc11.gz"
            ]
        );
        assert!(newest_segments("not json", "0").is_empty());
    }

    #[test]
    fn segments_are_decompressed_by_their_extension() {
        let raw = b"a wal segment".to_vec();
        let zst = zstd::encode_all(&raw[..], 1).unwrap();
        assert_eq!(
            decompress("000000010000000000000008-ab.zst", &zst).unwrap(),
            raw
        );
        let gz = pipe_in("gzip", &raw);
        assert_eq!(
            decompress("000000010000000000000008-ab.gz", &gz).unwrap(),
            raw
        );
        assert!(decompress("000000010000000000000008-ab.xz", &raw).is_err());
        assert!(decompress("000000010000000000000008-ab.gz", b"not gzip").is_err());
    }

    fn pipe_in(program: &str, bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut child = std::process::Command::new(program)
            .arg("-c")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        child.wait_with_output().unwrap().stdout
    }
}

//! Physical drills that cannot read their repository: a wrong passphrase of an encrypted
//! repository, a WAL archive folder the database's OS user cannot read. pgBackRest's
//! `archive-get` errors exit with codes PostgreSQL takes for "no such segment"; the drill must
//! fail naming the repository, never pass as if the archive had ended there.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::physical::{archive_now, PITR};
use crate::physical_support::{PhysicalSource, CIPHER_PASS_VAR};
use crate::spawned::Spawned;
use crate::support::{firedrill_with_env, text, Env};

const PASS: &str = "correct-horse-battery-staple-4711";

/// A table with rows before and after the backup, the later ones archived.
async fn backed_up_with_later_rows(src: &PhysicalSource, spec: &Path, vars: &[(&str, &str)]) {
    let c = src.with_table_t().await;
    let out = firedrill_with_env(&["backup", spec.to_str().unwrap()], vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    c.batch_execute("insert into t values (10)").await.unwrap();
    archive_now(src).await;
}

/// An encrypted repo2: the right passphrase (in the environment, as pgBackRest reads it)
/// passes; a wrong one exits 2 naming repo2 and the passphrase, without the passphrase in
/// the output or the reports, and leaves nothing behind.
#[tokio::test]
async fn a_wrong_cipher_passphrase_could_not_run_naming_the_repository() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start_encrypted(PASS);
    let env = Env::new();
    let spec = env.write(&src.spec(&env, "sealed").drill("from", "repo2").sql_check(
        "replayed",
        "select count(*) from t where n = 10",
        "== 1",
    ));
    backed_up_with_later_rows(&src, &spec, &[(CIPHER_PASS_VAR, PASS)]).await;
    let spec = spec.to_str().unwrap();

    let out = firedrill_with_env(&["drill", spec], &[(CIPHER_PASS_VAR, PASS)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The window's end is read from the newest segment, fetched and decrypted by pgBackRest.
    // The random time recovers (the row the check wants may come after it).
    let out = firedrill_with_env(
        &["drill", spec, "--random-within", "1h"],
        &[(CIPHER_PASS_VAR, PASS)],
    );
    let all = text(&out);
    assert!(
        out.status.code() == Some(0)
            || (out.status.code() == Some(1) && all.contains("check `replayed` failed: 0")),
        "{all}"
    );
    assert!(
        all.contains("The recoverable window ends at the last commit in 0000"),
        "{all}"
    );

    let wrong = "not-the-passphrase-0815";
    let out = firedrill_with_env(&["drill", spec], &[(CIPHER_PASS_VAR, wrong)]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(msg.contains("repo2"), "the repository is not named:\n{msg}");
    assert!(
        msg.contains("repo2-cipher-pass") && msg.contains(CIPHER_PASS_VAR),
        "the fix is not named:\n{msg}"
    );
    assert!(!msg.contains(wrong) && !msg.contains(PASS), "{msg}");
    assert!(!files_contain(&env.reports(), wrong), "a report holds it");
    env.assert_no_leftovers();
}

/// What of repo2's WAL archive the `postgres` user cannot read: a segment replayed after the
/// backup (pgBackRest's archive-get fails during recovery), then the whole folder (`info`
/// reports repo2 unreadable). A `latest` drill from repo2 could not read its repository
/// (exit 2) and says so naming it, never passing as if the archive had ended there.
#[tokio::test]
async fn an_unreadable_archive_fails_a_latest_drill_naming_the_repository() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let env = Env::new();
    let spec = env.write(&src.spec(&env, "locked").drill("from", "repo2"));
    backed_up_with_later_rows(&src, &spec, &[]).await;
    let spec = spec.to_str().unwrap();
    let folder = wal_folder(&src.repo(2));
    let segment = first_segment_after_backup(&src, &folder);
    let _restore = Unlock(vec![folder.clone(), segment.clone()]);

    std::fs::set_permissions(&segment, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = firedrill_with_env(&["drill", spec], &[]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("recovery could not read repo2's WAL archive")
            && msg.contains("Permission denied"),
        "{msg}"
    );
    assert!(msg.contains("drill.run-as"), "the fix is not named:\n{msg}");
    env.assert_no_leftovers();

    std::fs::set_permissions(&folder, std::fs::Permissions::from_mode(0o000)).unwrap();
    let out = firedrill_with_env(&["drill", spec], &[]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(msg.contains("pgBackRest cannot read repo2"), "{msg}");
    assert!(msg.contains("drill.run-as"), "the fix is not named:\n{msg}");
    env.assert_no_leftovers();
}

/// The first segment file in `folder` after the end of repo2's backup.
fn first_segment_after_backup(src: &PhysicalSource, folder: &Path) -> PathBuf {
    let stop = src.backup_stop_segment(2);
    let mut after: Vec<PathBuf> = std::fs::read_dir(folder)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.len() > 24
                && name[..24].bytes().all(|b| b.is_ascii_hexdigit())
                && name[..24] > *stop
        })
        .collect();
    after.sort();
    after
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no segment after {stop}"))
}

/// The folder of timeline 1's segments: `archive/main/15-1/0000000100000000`.
fn wal_folder(repo: &Path) -> PathBuf {
    let db = std::fs::read_dir(repo.join("archive/main"))
        .unwrap()
        .flatten()
        .find(|e| e.path().is_dir())
        .unwrap()
        .path();
    let f = db.join("0000000100000000");
    assert!(f.is_dir(), "no {}", f.display());
    f
}

/// Gives the folder and file their permissions back, also when the test panics.
struct Unlock(Vec<PathBuf>);

impl Drop for Unlock {
    fn drop(&mut self) {
        for (p, mode) in self.0.iter().zip([0o750, 0o640]) {
            let _ = std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode));
        }
    }
}

fn files_contain(dir: &Path, needle: &str) -> bool {
    walk(dir).iter().any(|p| {
        std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).contains(needle))
            .unwrap_or(false)
    })
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    crate::support::files_below(dir)
}

/// A physical drill killed with SIGKILL while pgBackRest restores, as its recovery begins,
/// or while it verifies, leaves a `pgbackrest restore` or its restored cluster running;
/// `firedrill cleanup SPEC` stops and removes them: exit 0, no process working in a scratch
/// folder of the work dir, no scratch folder.
#[tokio::test]
async fn cleanup_after_kill_9_of_a_physical_drill_removes_the_restored_cluster() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let env = Env::new();
    let spec = env.write(&src.spec(&env, "killed").drill("from", "repo2").sql_check(
        "slow",
        "select count(*) from (select pg_sleep(60)) s",
        "== 1",
    ));
    backed_up_with_later_rows(&src, &spec, &[]).await;
    let spec = spec.to_str().unwrap();

    for phase in ["restore", "recovery", "verify"] {
        let mut drill = Spawned::start(&["drill", spec], env.path());
        let deadline = Instant::now() + Duration::from_secs(120);
        while !drill.output().contains(&format!("phase=\"{phase}\"")) {
            assert!(
                drill.exited().is_none(),
                "the drill ended before {phase}:\n{}",
                drill.output()
            );
            assert!(
                Instant::now() < deadline,
                "no {phase} phase:\n{}",
                drill.output()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        // Into pgBackRest's restore, into the start of the restored cluster.
        std::thread::sleep(Duration::from_millis(150));
        drill.child.kill().unwrap();
        drill.wait(Duration::from_secs(10));
        assert!(
            !env.leftover_clusters().is_empty(),
            "{phase}: the killed drill left nothing: the test proves nothing"
        );
        if phase == "verify" {
            assert!(
                !postmasters_in(&env.work()).is_empty(),
                "the killed drill's cluster is not running: the test proves nothing"
            );
        }

        let out = firedrill_with_env(&["cleanup", spec], &[]);
        assert_eq!(out.status.code(), Some(0), "{phase}: {}", text(&out));
        assert!(text(&out).contains("removed:"), "{phase}: {}", text(&out));
        let deadline = Instant::now() + Duration::from_secs(10);
        while !processes_in(&env.work()).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(100));
        }
        assert_eq!(processes_in(&env.work()), Vec::<String>::new(), "{phase}");
        env.assert_no_leftovers();
    }
}

/// Command lines of running postgres processes that name a folder under `work`.
fn postmasters_in(work: &Path) -> Vec<String> {
    processes_in(work)
        .into_iter()
        .filter(|c| c.contains("postgres -D"))
        .collect()
}

/// Command lines of running processes (a postmaster, a `pgbackrest restore`) that name a
/// scratch folder under `work`.
fn processes_in(work: &Path) -> Vec<String> {
    let needle = work.join("scratch-").display().to_string();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
        .map(|b| String::from_utf8_lossy(&b).replace('\0', " "))
        .filter(|c| c.contains(&needle))
        .collect()
}

//! Physical drills on hosts and sources unlike a test cluster: pgBackRest missing or too old
//! on the drill host, a work dir too small for the restore, a source with its configuration
//! outside PGDATA, raised `max_*` settings, a tablespace and preloaded libraries that act.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use firedrill::testing::SpecBuilder;

use crate::physical::PITR;
use crate::physical_support::PhysicalSource;
use crate::support::{firedrill, firedrill_with_env, text, Env};

/// A pgbackrest spec over a stanza that needs no cluster: the drill stops before reading it.
fn offline_spec(env: &Env) -> SpecBuilder {
    let config = env.path().join("pgbackrest.conf");
    std::fs::write(&config, "[main]\npg1-path=/nowhere\n").unwrap();
    SpecBuilder::new("hard")
        .source("kind", "pgbackrest")
        .source_url("postgres://postgres@127.0.0.1:5432/postgres")
        .source("stanza", "main")
        .source("config", config.display().to_string())
        .folder("primary", &env.dest("primary"))
        .drill("reports", env.reports().display().to_string())
        .drill("work-dir", env.work().display().to_string())
}

/// A pgBackRest older than 2.40 first on PATH: `drill`, `list` and `check` could not run
/// (exit 2), naming the version found and the minimum; none on PATH: how to install it.
#[test]
fn a_missing_or_old_pgbackrest_could_not_run_naming_the_version_and_the_minimum() {
    let env = Env::new();
    let spec = env.write(&offline_spec(&env));
    let spec = spec.to_str().unwrap();
    let old = env.path().join("old-bin");
    std::fs::create_dir(&old).unwrap();
    let fake = old.join("pgbackrest");
    std::fs::write(&fake, "#!/bin/sh\necho 'pgBackRest 2.38'\n").unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:/usr/bin:/bin", old.display());
    for args in [vec!["drill", spec], vec!["list", spec], vec!["check", spec]] {
        let out = firedrill_with_env(&args, &[("PATH", path.as_str())]);
        let msg = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {msg}");
        assert!(
            msg.contains("pgBackRest 2.38, too old") && msg.contains("pgBackRest 2.40 or newer"),
            "{args:?}: {msg}"
        );
        assert!(msg.contains("apt-get install -y pgbackrest"), "{msg}");
    }
    let out = firedrill_with_env(&["drill", spec], &[("PATH", "/nonexistent")]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("cannot start pgbackrest") && msg.contains("apt-get install -y pgbackrest"),
        "{msg}"
    );
    env.assert_no_leftovers();
}

/// A tmpfs mounted for one test, unmounted on drop (also when the test panics).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(at: &Path, size: &str) -> Tmpfs {
        std::fs::create_dir_all(at).unwrap();
        let out = Command::new("mount")
            .args([
                "-t",
                "tmpfs",
                "-o",
                &format!("size={size},mode=0755"),
                "tmpfs",
            ])
            .arg(at)
            .output()
            .expect("mount runs");
        assert!(
            out.status.success(),
            "mounting a tmpfs needs root: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Tmpfs(at.to_path_buf())
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.0).output();
    }
}

/// A backup larger than the free space of `drill.work-dir` (a 2 MB tmpfs) is refused before
/// anything is restored (exit 2), naming both numbers and the folder; nothing is left there.
#[tokio::test]
async fn a_work_dir_too_small_for_the_restore_could_not_run_and_leaves_nothing() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let env = Env::new();
    let spec = env.write(&src.spec(&env, "small"));
    let out = firedrill(&["backup", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let small = env.path().join("small");
    let _mounted = Tmpfs::mount(&small, "2m");
    let spec = env.write(
        &src.spec(&env, "small")
            .drill("from", "repo2")
            .drill("work-dir", small.display().to_string()),
    );
    let out = firedrill(&["drill", spec.to_str().unwrap()]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    let folder = format!("`{}` has ", small.display());
    assert!(
        msg.contains("needs ") && msg.contains(&folder) && msg.contains(" free: "),
        "{msg}"
    );
    assert!(
        msg.contains("of data as backed up") && msg.contains("of WAL headroom"),
        "{msg}"
    );
    let left: Vec<String> = std::fs::read_dir(&small)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("scratch-"))
        .collect();
    assert!(left.is_empty(), "left in the work dir: {left:?}");
}

//! Physical drills on hosts and sources unlike a test cluster: pgBackRest missing or too old
//! on the drill host, a work dir too small for the restore, server binaries of another major
//! version only, a source with its configuration
//! outside PGDATA, raised `max_*` settings, a tablespace and preloaded libraries that act.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use firedrill::testing::SpecBuilder;

use crate::physical::{archive_now, PITR};
use crate::physical_support::{Layout, PhysicalSource};
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

/// A table `t` with rows before the backup (`setup` runs first) and one after it (10),
/// archived.
async fn backed_up_with_later_rows(src: &PhysicalSource, spec: &Path, setup: &str) {
    let c = src.client().await;
    for statement in setup.split(';').filter(|s| !s.trim().is_empty()) {
        c.batch_execute(statement).await.unwrap();
    }
    c.batch_execute("create table t (n int primary key); insert into t values (1), (2), (3)")
        .await
        .unwrap();
    let out = firedrill(&["backup", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    c.batch_execute("insert into t values (10)").await.unwrap();
    archive_now(src).await;
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
/// So is the same backup on a drill host whose only server binaries are of another major
/// version (`tools.bin-dir` holding a PostgreSQL 16 `pg_ctl`): naming both versions.
#[tokio::test]
async fn a_work_dir_too_small_or_another_major_could_not_run_and_leaves_nothing() {
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

    let other = env.path().join("pg16-bin");
    std::fs::create_dir(&other).unwrap();
    let pg_ctl = other.join("pg_ctl");
    std::fs::write(&pg_ctl, "#!/bin/sh\necho 'pg_ctl (PostgreSQL) 16.4'\n").unwrap();
    std::fs::set_permissions(&pg_ctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let spec = env.write(&src.spec(&env, "major").drill("from", "repo2").set(
        "tools",
        "bin-dir",
        other.display().to_string(),
    ));
    let out = firedrill(&["drill", spec.to_str().unwrap()]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("is of PostgreSQL 15")
            && msg.contains(&format!(
                "the drill host has PostgreSQL 16.4 ({})",
                pg_ctl.display()
            ))
            && msg.contains("apt-get install -y postgresql-15"),
        "{msg}"
    );
    env.assert_no_leftovers();
}

/// `max_*` settings above PostgreSQL's defaults: hot standby pauses recovery for good when
/// the restored cluster runs with lower ones.
const RAISED: &str = "max_connections = 150\nmax_worker_processes = 12\nmax_wal_senders = 12\n\
                      max_prepared_transactions = 5\nmax_locks_per_transaction = 128\n";

/// A source laid out like a production server: its configuration outside PGDATA (Debian's
/// layout, so the restored PGDATA has no postgresql.conf or pg_hba.conf) and its `max_*`
/// settings raised. A `latest` drill from repo2 passes in a scratch cluster of its own:
/// configuration files in the scratch folder, loopback only, no TLS, the primary's `max_*`
/// values, and the source's preloaded library (asked from the source: the restored PGDATA
/// has no postgresql.conf to read it from).
#[tokio::test]
async fn a_source_laid_out_like_production_drills_in_a_scratch_of_its_own() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start_laid_out(Layout {
        config_outside: true,
        settings: format!("{RAISED}shared_preload_libraries = 'auto_explain'\n"),
        ..Layout::default()
    });
    assert!(!src.data().join("postgresql.conf").exists());
    let env = Env::new();
    let spec = src.spec(&env, "prod").drill("from", "repo2");
    backed_up_with_later_rows(&src, &env.write(&spec), "").await;

    let own = format!(
        "select (current_setting('config_file') like '{w}/scratch-%/postgresql.conf' \
                 and current_setting('hba_file') like '{w}/scratch-%/pg_hba.conf' \
                 and current_setting('listen_addresses') = '127.0.0.1' \
                 and current_setting('ssl') = 'off' \
                 and current_setting('archive_mode') = 'off')::int",
        w = env.work().display()
    );
    let spec = spec
        .sql_check("replayed", "select count(*) from t where n = 10", "== 1")
        .sql_check("own settings", &own, "== 1")
        .sql_check(
            "the source's libraries",
            "select (current_setting('shared_preload_libraries') = 'auto_explain')::int",
            "== 1",
        )
        .sql_check(
            "max_connections",
            "select current_setting('max_connections')::int",
            "== 150",
        )
        .sql_check(
            "max_worker_processes",
            "select current_setting('max_worker_processes')::int",
            "== 12",
        )
        .sql_check(
            "max_prepared_transactions",
            "select current_setting('max_prepared_transactions')::int",
            "== 5",
        )
        .sql_check(
            "max_locks_per_transaction",
            "select current_setting('max_locks_per_transaction')::int",
            "== 128",
        );
    let file = env.write(&spec);
    let out = firedrill(&["drill", file.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    env.assert_no_leftovers();
}

/// Names, sizes and modification times of every file below `dir`.
fn listing(dir: &Path) -> Vec<(String, u64, std::time::SystemTime)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            }
            out.push((
                e.path().display().to_string(),
                m.len(),
                m.modified().unwrap(),
            ));
        }
    }
    out.sort();
    out
}

/// A table in a tablespace of the source: the drill restores the tablespace into the
/// scratch folder (`--tablespace-map-all`), the table's rows are there, and the source's
/// tablespace folder (on this same host) is left exactly as it was.
#[tokio::test]
async fn a_tablespace_is_restored_into_the_scratch_and_the_sources_is_left_alone() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let ts = src.owned_dir("ts");
    let env = Env::new();
    let spec = src.spec(&env, "spaced").drill("from", "repo2");
    let setup = format!(
        "create tablespace far location '{}'; \
         create table faraway (n int) with (autovacuum_enabled = false) tablespace far; \
         insert into faraway select generate_series(1, 500)",
        ts.display()
    );
    backed_up_with_later_rows(&src, &env.write(&spec), &setup).await;
    let c = src.client().await;
    c.batch_execute("select count(*) from faraway; checkpoint")
        .await
        .unwrap();
    let before = listing(&ts);
    assert!(before.len() > 2, "{before:?}");
    let spec = spec
        .sql_check("rows far away", "select count(*) from faraway", "== 500")
        .sql_check(
            "restored into the scratch",
            &format!(
                "select (pg_tablespace_location(oid) like '{}/scratch-%/tablespaces/%')::int \
                 from pg_tablespace where spcname = 'far'",
                env.work().display()
            ),
            "== 1",
        );
    let out = firedrill(&["drill", env.write(&spec).to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        listing(&ts),
        before,
        "the drill touched the source's tablespace"
    );
    env.assert_no_leftovers();
}

/// The source preloads pg_cron (with a job that writes) and auto_explain: the scratch
/// cluster preloads auto_explain but not pg_cron (no launcher runs the restored job), and
/// the report names pg_cron as disabled.
#[tokio::test]
async fn a_preloaded_pg_cron_is_disabled_in_the_scratch_and_other_libraries_kept() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start_laid_out(Layout {
        config_outside: false,
        settings: "shared_preload_libraries = 'pg_cron, auto_explain'\n".into(),
        ..Layout::default()
    });
    let env = Env::new();
    let spec = src.spec(&env, "cron").drill("from", "repo2");
    let setup = "create extension pg_cron; create table hits (at timestamptz); \
                 select cron.schedule('hit', '* * * * *', 'insert into hits values (now())')";
    backed_up_with_later_rows(&src, &env.write(&spec), setup).await;
    let launcher = "select count(*) from pg_stat_activity where backend_type = 'pg_cron launcher'";
    let c = src.client().await;
    let running: i64 = c.query_one(launcher, &[]).await.unwrap().get(0);
    assert_eq!(
        running, 1,
        "pg_cron does not run on the source: apt-get install -y postgresql-15-cron"
    );
    let spec = spec
        .sql_check(
            "the job is restored",
            "select count(*) from cron.job",
            "== 1",
        )
        .sql_check("no launcher runs it", launcher, "== 0")
        .sql_check(
            "auto_explain kept, pg_cron not",
            "select (current_setting('shared_preload_libraries') = 'auto_explain')::int",
            "== 1",
        );
    let out = firedrill(&["drill", env.write(&spec).to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["report"]["scratch"]["recovery"]["disabled_libraries"],
        serde_json::json!(["pg_cron"]),
        "{v}"
    );
    assert!(
        text(&out).contains("Preloaded library disabled in the scratch cluster"),
        "{}",
        text(&out)
    );
    env.assert_no_leftovers();
}

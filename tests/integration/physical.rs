//! Physical backups with pgBackRest against a real source cluster archiving into two
//! repositories: the spec and its refusals, `check`, `backup` into every repository, `list`,
//! and what is refused (drill-only backups, prune).

use std::path::Path;

use crate::physical_support::PhysicalSource;
use crate::support::{firedrill, text, Env};

/// A spec of a pgbackrest source loads; a `row-counts` check or a server scratch in it is
/// refused (exit 2) naming the check or key and the fix.
#[test]
fn a_pgbackrest_spec_loads_and_refuses_fingerprint_checks_and_server_scratch() {
    let env = Env::new();
    let config = env.path().join("pgbackrest.conf");
    std::fs::write(&config, "[main]\npg1-path=/nowhere\n").unwrap();
    let base = firedrill::testing::SpecBuilder::new("phys")
        .source("kind", "pgbackrest")
        .source_url("postgres://postgres@127.0.0.1:5432/postgres")
        .source("stanza", "main")
        .source("config", config.display().to_string())
        .source("backup-type", "incr")
        .folder("primary", &env.dest("primary"))
        .drill("work-dir", env.work().display().to_string());
    let spec = env.load_spec(&base.clone().check("alive", "amcheck"));
    match &spec.source.method {
        firedrill::spec::SourceMethod::PgBackRest(s) => {
            assert_eq!(s.stanza, "main");
            assert_eq!(s.config.as_deref(), Some(config.as_path()));
            assert_eq!(s.backup_type.as_str(), "incr");
            assert!(s.backup, "backups are firedrill's unless backup = false");
        }
        other => panic!("not a pgbackrest source: {other:?}"),
    }
    assert_eq!(firedrill::method::of(&spec).kind(), "pgbackrest");

    let bad = env.write(
        &base
            .clone()
            .check("rows", "row-counts")
            .drill("scratch", "ephemeral"),
    );
    let out = firedrill(&["check", "--offline", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains("check.rows") && msg.contains("`row-counts`"),
        "{msg}"
    );
    assert!(msg.contains("sql, freshness and amcheck"), "{msg}");

    let server = env.write(
        &base
            .clone()
            .scratch_server("postgres://postgres@127.0.0.1:5432/postgres", "firedrill_"),
    );
    let out = firedrill(&["check", "--offline", server.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("drill.scratch") && text(&out).contains("ephemeral"),
        "{}",
        text(&out)
    );

    // Without pgbackrest on PATH, `check` fails naming it and how to install it.
    let good = env.write(&base.clone());
    let out = crate::support::firedrill_with_env(
        &["check", good.to_str().unwrap()],
        &[("PATH", "/nonexistent")],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("FAIL pgbackrest: cannot start pgbackrest")
            && text(&out).contains("apt-get install -y pgbackrest"),
        "{}",
        text(&out)
    );

    // `from` may name a repository for this source; a target is refused for other methods.
    let spec = env.load_spec(&base.clone().drill("from", "repo2"));
    assert_eq!(spec.drill.from, "repo2");
    let dump = env.write(&env.spec("dump", "postgres://postgres@127.0.0.1:5432/postgres"));
    let out = firedrill(&["drill", dump.to_str().unwrap(), "--target", "immediate"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("are for point-in-time drills of pgbackrest sources"),
        "{}",
        text(&out)
    );

    let no_stanza = env.write(&base.unset("source", "stanza"));
    let out = firedrill(&["check", "--offline", no_stanza.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("source.stanza"), "{}", text(&out));
}

/// `check` passes on a source archiving into both repositories, and names what breaks:
/// archiving that fails since its last success, and a stanza pgBackRest does not know.
#[tokio::test]
async fn check_passes_then_names_a_failing_archive_command_and_a_missing_stanza() {
    let src = PhysicalSource::start();
    let env = Env::new();
    let spec = env.write(&src.spec(&env, "phys"));
    let spec = spec.to_str().unwrap();
    let out = firedrill(&["check", spec]);
    let good = text(&out);
    assert_eq!(out.status.code(), Some(0), "{good}");
    for item in [
        "ok   pgbackrest: pgBackRest 2.",
        "ok   stanza main: no valid backups in 2 repositories",
        "ok   repository repo1: no valid backups, 0 backup(s)",
        "ok   repository repo2: no valid backups, 0 backup(s)",
        "ok   archiving: archive_mode = on",
        "ok   archiver:",
    ] {
        assert!(good.contains(item), "{item} missing in:\n{good}");
    }
    assert!(
        !good.contains("%p"),
        "check prints the archive_command:\n{good}"
    );

    src.set_archive_command("false").await;
    src.wait_for_archive_failure().await;
    let out = firedrill(&["check", spec]);
    let bad = text(&out);
    assert_eq!(out.status.code(), Some(2), "{bad}");
    assert!(
        bad.contains("FAIL archiver: WAL archiving is failing"),
        "{bad}"
    );

    let missing = env.write(&src.spec(&env, "nostanza").source("stanza", "nope"));
    let out = firedrill(&["check", missing.to_str().unwrap()]);
    let msg = text(&out);
    assert_eq!(out.status.code(), Some(2), "{msg}");
    assert!(
        msg.contains("FAIL stanza nope") && msg.contains("missing stanza path"),
        "{msg}"
    );
    assert!(msg.contains("stanza-create"), "{msg}");
}

/// `backup` makes one backup in each repository (as pgBackRest itself lists them), `list`
/// shows both; a drill-only spec refuses `backup` (exit 2, no backup made), `prune` is
/// refused, and a time target before the oldest backup is refused saying the window.
#[tokio::test]
async fn backup_writes_every_repository_and_list_shows_them() {
    let src = PhysicalSource::start();
    let env = Env::new();
    let spec = env.write(&src.spec(&env, "phys"));
    let spec = spec.to_str().unwrap();

    let out = firedrill(&["backup", spec, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let outcome: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let backups = src.backups();
    let repos: Vec<u64> = backups.iter().map(|b| b.0).collect();
    assert_eq!(repos, [1, 2], "{backups:?}");
    assert!(backups.iter().all(|b| b.2 == "full"), "{backups:?}");
    let ids: Vec<String> = backups
        .iter()
        .map(|(repo, label, _)| format!("repo{repo}:{label}"))
        .collect();
    assert_eq!(outcome["backup_id"], ids[0].as_str(), "{outcome}");
    assert_eq!(outcome["primary"], "repo1");
    assert_eq!(outcome["replicas"][0]["destination"], "repo2");
    assert_eq!(outcome["replicas"][0]["parity"], true);

    let out = firedrill(&["list", spec]);
    let table = text(&out);
    assert_eq!(out.status.code(), Some(0), "{table}");
    for (id, repo) in ids.iter().zip(["repo1", "repo2"]) {
        let line = table
            .lines()
            .find(|l| l.starts_with(id.as_str()))
            .unwrap_or_else(|| panic!("{id} missing in:\n{table}"));
        assert!(line.contains(" full ") && line.ends_with(repo), "{line}");
    }
    let out = firedrill(&["list", spec, "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 2, "{rows}");
    assert!(rows[0]["size"].as_u64().unwrap() > 0, "{rows}");

    let drill_only = env.write(&src.spec(&env, "only").source("backup", false));
    let out = firedrill(&["backup", drill_only.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("drill-only (source.backup = false)"),
        "{}",
        text(&out)
    );
    assert_eq!(src.backups().len(), 2, "a refused backup made one");
    let out = firedrill(&["list", drill_only.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains(&ids[1]), "{}", text(&out));

    let retained = env.write(&src.spec(&env, "kept").retention("keep-last", 1));
    let out = firedrill(&["prune", retained.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("retention of pgBackRest backups is pgBackRest's"),
        "{}",
        text(&out)
    );
    assert_eq!(src.backups().len(), 2);

    // A time target before the oldest backup is refused before anything is restored.
    let out = firedrill(&["drill", spec, "--target-time", "2001-01-01T00:00:00Z"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("is before the oldest backup of repo2 ended")
            && text(&out).contains("repo2 can be restored from"),
        "{}",
        text(&out)
    );
    env.assert_no_leftovers();
}

/// Point-in-time drills one at a time: they share the machine's two cores.
pub static PITR: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Names and sizes of every file under a repository's WAL archive.
pub fn archive_listing(repo: &Path) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let mut stack = vec![repo.join("archive")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let m = e.metadata().unwrap();
            if m.is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path().display().to_string(), m.len()));
            }
        }
    }
    out.sort();
    out
}

/// Writes WAL until the source's archiver has archived the segment current now.
pub async fn archive_now(src: &PhysicalSource) {
    let c = src.client().await;
    let wanted: String = c
        .query_one("select pg_walfile_name(pg_current_wal_lsn())", &[])
        .await
        .unwrap()
        .get(0);
    c.batch_execute("select pg_switch_wal()").await.unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let last: Option<String> = c
            .query_one("select last_archived_wal from pg_stat_archiver", &[])
            .await
            .unwrap()
            .get(0);
        if last.as_deref().is_some_and(|l| l >= wanted.as_str()) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{wanted} not archived within 60 s"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

/// One source, one backup in each repository, rows written after it, then: a `latest` drill
/// from repo2 sees them (WAL replay) with `--repo=2` in the restore_command and leaves the
/// archive as it was; a time drill lands between two writes; a segment removed from repo2's
/// archive fails a `latest` drill from repo2 naming it while repo1 passes.
#[tokio::test]
async fn point_in_time_drills_replay_the_archive_and_fail_when_it_has_a_hole() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let env = Env::new();
    let c = src.with_table_t().await;
    let base = src
        .spec(&env, "pitr")
        .sql_check("rows", "select count(*) from t", ">= 3");
    let spec = env.write(&base);
    let out = firedrill(&["backup", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    c.batch_execute("insert into t values (10)").await.unwrap();
    archive_now(&src).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let between = chrono::Utc::now();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    c.batch_execute("insert into t values (20)").await.unwrap();
    archive_now(&src).await;

    // latest from repo2: rows written after the backup came from the archive.
    let after = env.write(&base.clone().drill("from", "repo2").sql_check(
        "replayed",
        "select count(*) from t where n in (10, 20)",
        "== 2",
    ));
    let after = after.to_str().unwrap();
    let before = archive_listing(&src.repo(2));
    let out = firedrill(&["drill", after, "--keep", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let scratch = &v["report"]["scratch"];
    assert_eq!(scratch["recovery"]["repository"], "repo2", "{v}");
    assert_eq!(scratch["recovery"]["target"], "latest", "{v}");
    assert!(
        scratch["recovery"]["timeline"].as_u64().unwrap() >= 2,
        "{v}"
    );
    // Replay from the backup's start to past the rows written after it: at least the two
    // segments switched since, at a rate, consistent before promotion.
    let replay = &scratch["recovery"]["replay"];
    assert!(replay["segments"].as_u64().unwrap() >= 2, "{replay}");
    assert!(replay["wal_bytes"].as_u64().unwrap() > 0, "{replay}");
    assert!(
        replay["bytes_per_second"].as_f64().unwrap() > 0.0,
        "{replay}"
    );
    let consistent = replay["consistent_seconds"].as_f64().unwrap();
    assert!(
        consistent > 0.0 && consistent <= replay["seconds"].as_f64().unwrap(),
        "{replay}"
    );
    let phases: Vec<&str> = v["report"]["phases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(
        phases.starts_with(&["locate", "restore", "recovery", "verify"]),
        "{phases:?}"
    );
    let auto = std::fs::read_to_string(
        Path::new(scratch["location"].as_str().unwrap()).join("data/postgresql.auto.conf"),
    )
    .unwrap();
    let restore_command = auto
        .lines()
        .find(|l| l.starts_with("restore_command"))
        .unwrap_or_else(|| panic!("no restore_command in:\n{auto}"));
    assert!(restore_command.contains("--repo=2"), "{restore_command}");
    let out = firedrill(&["cleanup", after]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    env.assert_no_leftovers();
    assert_eq!(
        archive_listing(&src.repo(2)),
        before,
        "the drill changed repo2's archive"
    );

    // A time between the two writes: 10 is there, 20 is not.
    let timed = env.write(&base.clone().drill("from", "repo2").sql_check(
        "at the target",
        "select count(*) filter (where n = 10) * 10 + count(*) filter (where n = 20) from t",
        "== 10",
    ));
    let out = firedrill(&[
        "drill",
        timed.to_str().unwrap(),
        "--target-time",
        &between.to_rfc3339(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["report"]["scratch"]["recovery"]["target"], "time", "{v}");
    let point: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(v["report"]["rpo"]["recovery_point"].clone()).unwrap();
    assert_eq!(point, between, "{v}");
    env.assert_no_leftovers();

    // A hole in repo2's archive after the backup: repo2 fails naming it, repo1 passes.
    let stop = src.backup_stop_segment(2);
    let segments: Vec<(String, u64)> = archive_listing(&src.repo(2))
        .into_iter()
        .filter(|(p, _)| {
            let name = Path::new(p).file_name().unwrap().to_string_lossy();
            name.len() > 24
                && name[..24].bytes().all(|b| b.is_ascii_hexdigit())
                && name[..24] > *stop
        })
        .collect();
    assert!(
        segments.len() >= 2,
        "no segment after {stop} with a later one: {segments:?}"
    );
    let hole = &segments[0].0;
    let missing = Path::new(hole).file_name().unwrap().to_string_lossy()[..24].to_string();
    std::fs::remove_file(hole).unwrap();
    let out = firedrill(&["drill", after]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("WAL segment {missing} could not be replayed")),
        "{missing} not named in:\n{}",
        text(&out)
    );
    let from1 = env.write(&base.clone().drill("from", "repo1").sql_check(
        "replayed",
        "select count(*) from t where n in (10, 20)",
        "== 2",
    ));
    let out = firedrill(&["drill", from1.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    env.assert_no_leftovers();
}

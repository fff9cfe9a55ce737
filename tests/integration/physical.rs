//! Physical backups with pgBackRest against a real source cluster archiving into two
//! repositories: the spec and its refusals, `check`, `backup` into every repository, `list`,
//! and what is refused (drill-only backups, prune).

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
/// refused, and a drill says point-in-time drills are not built yet.
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

    let out = firedrill(&["drill", spec]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("point-in-time drills of pgBackRest backups are not implemented yet"),
        "{}",
        text(&out)
    );
}

//! The heartbeat: installed in the source, kept beating by a running `firedrill heartbeat`,
//! read back by drills to measure the data lost and to hold the backup's claimed recovery
//! point to it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::spawned::{sigterm, Spawned};
use crate::support::{firedrill, free_port, text, Env, SourceDb};

/// A spec of `db` with `[heartbeat] interval = "1s"`.
fn spec(env: &Env, name: &str, db: &SourceDb) -> PathBuf {
    env.write(&env.spec(name, &db.url()).set("heartbeat", "interval", "1s"))
}

fn run(args: &[&str], code: i32) -> serde_json::Value {
    let out = firedrill(args);
    assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out));
    if args.contains(&"--json") {
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)))
    } else {
        serde_json::Value::Null
    }
}

fn install(spec: &Path) {
    run(&["heartbeat", spec.to_str().unwrap(), "--install"], 0);
}

fn time(v: &serde_json::Value) -> DateTime<Utc> {
    v.as_str()
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .parse()
        .unwrap()
}

/// The heartbeat in the source.
async fn beat_at(db: &SourceDb) -> DateTime<Utc> {
    db.client()
        .await
        .query_one("select at from firedrill.heartbeat", &[])
        .await
        .unwrap()
        .get(0)
}

/// Starts the writer and waits until it has written twice.
async fn writer(env: &Env, spec: &Path, db: &SourceDb) -> Spawned {
    let mut w = Spawned::start(&["heartbeat", spec.to_str().unwrap()], env.path());
    let first = beat_at(db).await;
    beat_past(db, first + chrono::Duration::milliseconds(500), &mut w, 100).await;
    w
}

/// Waits (`tries` x 100 ms) until the heartbeat in the source is later than `t`, while `w`
/// (the process that writes it) keeps running; panics otherwise.
async fn beat_past(db: &SourceDb, t: DateTime<Utc>, w: &mut Spawned, tries: u32) {
    for _ in 0..tries {
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(w.exited().is_none(), "the writer stopped: {}", w.output());
        if beat_at(db).await > t {
            return;
        }
    }
    panic!("the heartbeat did not pass {t}: {}", w.output());
}

/// A backup taken while the writer runs restores a heartbeat within an interval of its
/// snapshot; data lost is the drill's start minus it. A manifest claiming a later snapshot
/// than the data holds fails the drill naming the heartbeat. SIGTERM stops the writer.
#[tokio::test]
async fn a_drill_measures_data_lost_by_the_heartbeat_and_holds_the_claim_to_it() {
    let db = SourceDb::with_rows(20).await;
    let env = Env::new();
    let spec = spec(&env, "hb", &db);
    let path = spec.to_str().unwrap();
    install(&spec);
    let mut w = writer(&env, &spec, &db).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let backup = run(&["backup", path, "--json"], 0);
    let id = backup["backup_id"].as_str().unwrap().to_string();
    tokio::time::sleep(Duration::from_secs(3)).await;

    let v = run(&["drill", path, "--json"], 0);
    let r = &v["report"];
    let (rpo, hb) = (&r["rpo"], &r["rpo"]["heartbeat"]);
    let snapshot = time(&r["backup"]["snapshot_at"]);
    let newest = time(&hb["newest"]);
    assert!(
        newest >= snapshot - chrono::Duration::seconds(2)
            && newest <= snapshot + chrono::Duration::seconds(1),
        "newest heartbeat {newest} vs snapshot {snapshot}: {r}"
    );
    let started = time(&r["started_at"]);
    assert_eq!(time(&rpo["disaster_at"]), started, "{rpo}");
    let lost = hb["data_lost_seconds"].as_f64().unwrap();
    let expected = (started - newest).num_milliseconds() as f64 / 1000.0;
    assert!(
        (lost - expected).abs() < 0.002,
        "{lost} vs {expected}: {rpo}"
    );
    assert!(lost >= 3.0, "the writer ran 3 s past the backup: {rpo}");
    assert_eq!(rpo["seconds"].as_f64().unwrap(), lost, "{rpo}");
    assert_eq!(time(&hb["claimed_recovery_point"]), snapshot);
    assert!(hb["lsn"].as_str().unwrap().contains('/'), "{hb}");
    assert!(hb["skew_seconds"].as_f64().unwrap().abs() < 1.0, "{hb}");
    let md = crate::support::all_text_below(&env.reports());
    assert!(md.contains("- Heartbeat: newest restored "), "{md}");
    assert!(
        md.contains("<tr><th scope=\"row\">Heartbeat</th><td>newest restored "),
        "{md}"
    );

    // The manifest now claims the data is fresher than it is (still before the drill starts).
    let manifest = env.dest("dr").join("hb").join(&id).join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    // A claim well past the data the restore holds: more than 4 s after the snapshot.
    while Utc::now() - chrono::Duration::seconds(1) <= snapshot + chrono::Duration::seconds(4) {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let claimed = Utc::now() - chrono::Duration::seconds(1);
    assert!(claimed > snapshot + chrono::Duration::seconds(4));
    m["snapshot_at"] = serde_json::json!(claimed.to_rfc3339());
    std::fs::write(&manifest, serde_json::to_vec_pretty(&m).unwrap()).unwrap();
    let v = run(&["drill", path, "--json"], 1);
    let reason = v["report"]["reason"].as_str().unwrap();
    assert!(
        reason.contains(&format!(
            "the backup's claimed recovery point {} is not borne out by the heartbeat: newest restored {}",
            claimed.to_rfc3339(),
            newest.to_rfc3339()
        )),
        "{reason}"
    );

    let pid = w.pid();
    sigterm(&pid);
    let status = w.wait(Duration::from_secs(5));
    assert_eq!(status.code(), Some(0), "{}", w.output());
    assert!(w.output().contains("Heartbeat stopped"), "{}", w.output());
    env.assert_no_leftovers();
}

/// A backup older than the heartbeat has no table to restore: the drill passes and says so.
#[tokio::test]
async fn a_backup_from_before_the_installation_passes_and_says_so() {
    let db = SourceDb::with_rows(5).await;
    let env = Env::new();
    let spec = spec(&env, "hbold", &db);
    let path = spec.to_str().unwrap();
    run(&["backup", path], 0);
    install(&spec);
    let v = run(&["drill", path, "--json"], 0);
    let hb = &v["report"]["rpo"]["heartbeat"];
    assert!(hb["newest"].is_null(), "{hb}");
    assert!(
        hb["note"]
            .as_str()
            .unwrap()
            .starts_with("heartbeat installed after this backup"),
        "{hb}"
    );
}

/// The writer without the table, or a spec without `[heartbeat]`, exits 2 with the fix and
/// writes nothing.
#[tokio::test]
async fn the_writer_refuses_without_the_table_or_the_section() {
    let db = SourceDb::with_rows(1).await;
    let env = Env::new();
    let spec = spec(&env, "hbnone", &db);
    let out = firedrill(&["heartbeat", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let t = text(&out);
    assert!(
        t.contains("the heartbeat table firedrill.heartbeat is not installed in the source")
            && t.contains(&format!("firedrill heartbeat {} --install", spec.display())),
        "{t}"
    );
    let schema: i64 = db
        .client()
        .await
        .query_one(
            "select count(*) from pg_namespace where nspname = 'firedrill'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(schema, 0);

    let plain = env.write(&env.spec("hbplain", &db.url()));
    for args in [
        vec!["heartbeat", plain.to_str().unwrap()],
        vec!["heartbeat", plain.to_str().unwrap(), "--install"],
    ] {
        let out = firedrill(&args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(
            text(&out).contains("has no [heartbeat] section"),
            "{}",
            text(&out)
        );
    }
}

/// A source that drops the writer's connection is reconnected to; the heartbeat goes on.
#[tokio::test]
async fn the_writer_reconnects_when_the_source_drops_it() {
    let db = SourceDb::with_rows(1).await;
    let env = Env::new();
    let spec = spec(&env, "hbre", &db);
    install(&spec);
    let mut w = writer(&env, &spec, &db).await;
    let killed: i64 = db
        .client()
        .await
        .query_one(
            "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = 'firedrill heartbeat' and datname = current_database()",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(killed, 1);
    let after_kill = Utc::now();
    let mut advanced = false;
    for _ in 0..80 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if beat_at(&db).await > after_kill + chrono::Duration::milliseconds(500) {
            advanced = true;
            break;
        }
    }
    assert!(
        advanced,
        "no heartbeat after the connection was dropped: {}",
        w.output()
    );
    assert!(
        w.output().contains("Heartbeat: reconnected."),
        "{}",
        w.output()
    );
    sigterm(&w.pid());
    assert_eq!(
        w.wait(Duration::from_secs(5)).code(),
        Some(0),
        "{}",
        w.output()
    );
}

/// A pgBackRest `latest` drill while the writer runs: the archive brings the heartbeat to
/// within `archive_timeout` (5 s on the fixture) of the drill's start.
#[tokio::test]
async fn a_pgbackrest_latest_drill_loses_no_more_than_the_archive_timeout() {
    let src = crate::physical_support::PhysicalSource::start();
    let env = Env::new();
    let spec = env.write(
        &src.spec(&env, "hbphys")
            .set("heartbeat", "interval", "1s")
            .sql_check("beat", "select count(*) from firedrill.heartbeat", "== 1"),
    );
    let path = spec.to_str().unwrap();
    install(&spec);
    run(&["backup", path], 0);
    let mut w = Spawned::start(&["heartbeat", path], env.path());
    tokio::time::sleep(Duration::from_secs(4)).await;
    let target = Utc::now();
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert!(w.exited().is_none(), "the writer stopped: {}", w.output());

    let v = run(&["drill", path, "--json"], 0);
    let rpo = &v["report"]["rpo"];
    let hb = &rpo["heartbeat"];
    let lost = hb["data_lost_seconds"].as_f64().unwrap();
    assert!(lost <= 5.0 + 10.0, "data lost {lost} s: {rpo}");
    let newest = time(&hb["newest"]);
    let expected = (time(&v["report"]["started_at"]) - newest).num_milliseconds() as f64 / 1000.0;
    assert!(
        (lost - expected).abs() < 0.002,
        "{lost} vs {expected}: {rpo}"
    );
    // The claim (the last commit replayed) is a heartbeat's commit, just after its `at`.
    let claimed = time(&hb["claimed_recovery_point"]);
    assert!(
        (claimed - newest).num_milliseconds().abs() < 2000,
        "{claimed} vs {newest}: {rpo}"
    );
    // A point-in-time drill: the disaster is the target, the heartbeat restored just before it.
    let v = run(
        &[
            "drill",
            path,
            "--target-time",
            &target.to_rfc3339(),
            "--json",
        ],
        0,
    );
    let rpo = &v["report"]["rpo"];
    assert_eq!(time(&rpo["disaster_at"]), target, "{rpo}");
    let newest = time(&rpo["heartbeat"]["newest"]);
    let lost = rpo["heartbeat"]["data_lost_seconds"].as_f64().unwrap();
    assert!(newest <= target && lost <= 2.0, "{rpo}");
    assert_eq!(rpo["seconds"].as_f64().unwrap(), lost, "{rpo}");
    sigterm(&w.pid());
    assert_eq!(
        w.wait(Duration::from_secs(5)).code(),
        Some(0),
        "{}",
        w.output()
    );
    env.assert_no_leftovers();
}

/// A writer that never reaches its source (a database that does not exist: a wrong URL,
/// role or password alike) exits 2 at once naming it, instead of retrying for ever.
#[tokio::test]
async fn the_writer_that_never_reaches_its_source_exits_2() {
    let db = SourceDb::with_rows(1).await;
    let env = Env::new();
    let url = format!("{}_missing", db.url());
    let spec = env.write(&env.spec("hbwrong", &url).set("heartbeat", "interval", "1s"));
    let mut child = Spawned::start(&["heartbeat", spec.to_str().unwrap()], env.path());
    let status = child.wait(std::time::Duration::from_secs(30));
    assert_eq!(status.code(), Some(2), "{}", child.output());
    assert!(child.output().contains("_missing"), "{}", child.output());
}

/// `check` tells whether a heartbeat writer runs: not installed, then stale (nothing wrote for
/// minutes), then fresh while `firedrill schedule` over the spec's folder keeps the spec's
/// heartbeat writer running; SIGTERM stops the daemon and its writer.
#[tokio::test]
async fn schedule_keeps_the_heartbeat_beating_and_check_tells_a_stale_one() {
    let db = SourceDb::with_rows(5).await;
    let env = Env::new();
    let spec = spec(&env, "hbsched", &db);
    let path = spec.to_str().unwrap();
    let out = firedrill(&["check", path]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--install"), "{}", text(&out));

    install(&spec);
    db.client()
        .await
        .batch_execute(
            "update firedrill.heartbeat set at = clock_timestamp() - interval '5 minutes'",
        )
        .await
        .unwrap();
    let out = firedrill(&["check", path]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(
        all.contains("5m old") && all.contains("firedrill heartbeat"),
        "{all}"
    );

    let stale = beat_at(&db).await;
    let listen = format!("127.0.0.1:{}", free_port());
    let folder = spec.parent().unwrap().to_str().unwrap();
    let mut daemon = Spawned::start(&["schedule", folder, "--listen", &listen], env.path());
    beat_past(&db, stale + chrono::Duration::minutes(4), &mut daemon, 150).await;
    let out = firedrill(&["check", path]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("written "), "{}", text(&out));

    sigterm(&daemon.pid());
    let status = daemon.wait(Duration::from_secs(40));
    assert!(status.success(), "{status:?}: {}", daemon.output());
    let last = beat_at(&db).await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(beat_at(&db).await, last, "the writer outlived the daemon");
}

//! The unhappy paths, end to end through the binary: bad specs and overrides, wrong or
//! missing keys and tools, killed and interrupted runs, failed checks, corrupted objects,
//! secrets in output, and `drill --keep` + `cleanup`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::spawned::{sigterm, Spawned};
use crate::support::{self, all_text_below, firedrill, text, Env, SourceDb};

/// A tiny source: 100 rows in `t`.
const TINY_SQL: &str =
    "create table t(id int primary key); insert into t select generate_series(1,100);";

/// A source whose dump and restore take a few seconds (about 100 MB of rows plus an index).
const BIG_SQL: &str = "create table big as select g, md5(g::text) || repeat('x', 200) as t \
                       from generate_series(1, 400000) g; \
                       create index big_g on big(g);";

const NAME: &str = "badpaths";

// ---------------------------------------------------------------------------------------------
// helpers

fn code(out: &Output) -> i32 {
    out.status.code().unwrap_or(-1)
}

/// Runs firedrill and asserts its exit code, showing the output when it differs.
fn run_expect(args: &[&str], expected: i32) -> Output {
    let out = firedrill(args);
    assert_eq!(
        code(&out),
        expected,
        "`firedrill {}` exited {:?}, expected {expected}; output:\n{}",
        args.join(" "),
        out.status.code(),
        text(&out)
    );
    out
}

fn stdout_json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}); output:\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("UTF-8 temp path")
}

/// A valid spec for `url`, written to the env folder.
fn write_spec(env: &Env, url: &str) -> PathBuf {
    env.write(&env.spec(NAME, url))
}

/// Runs `firedrill backup SPEC` and asserts it succeeded.
fn backup_ok(spec: &Path) {
    run_expect(&["backup", path_str(spec)], 0);
}

/// Files below a destination whose name marks an unfinished write.
fn partial_files(env: &Env, dest: &str) -> Vec<String> {
    env.files_in(dest)
        .into_iter()
        .filter(|f| f.contains(".firedrill-partial-"))
        .collect()
}

/// Manifests below a destination.
fn manifests(env: &Env, dest: &str) -> Vec<String> {
    env.files_in(dest)
        .into_iter()
        .filter(|f| f.ends_with("/manifest.json"))
        .collect()
}

/// The data object of the (single) backup in `dest`.
fn data_object(env: &Env, dest: &str) -> PathBuf {
    let objects: Vec<String> = env
        .files_in(dest)
        .into_iter()
        .filter(|f| f.ends_with("/data.dump.zst.age"))
        .collect();
    assert_eq!(objects.len(), 1, "one data object in {dest}: {objects:?}");
    env.dest(dest).join(&objects[0])
}

/// The newest drill report (JSON) of this env.
fn newest_report(env: &Env) -> Value {
    let dir = env.reports().join(NAME);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no report folder {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    let newest = files
        .last()
        .unwrap_or_else(|| panic!("no JSON report in {}", dir.display()));
    serde_json::from_str(&std::fs::read_to_string(newest).unwrap()).unwrap()
}

/// Command lines of running processes that mention `dir` (e.g. a scratch postmaster's -D).
fn processes_mentioning(dir: &Path) -> Vec<String> {
    let needle = dir.display().to_string();
    let me = std::process::id().to_string();
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.bytes().all(|b| b.is_ascii_digit()) || name == me {
            continue;
        }
        let Ok(raw) = std::fs::read(e.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&raw).replace('\0', " ");
        if cmdline.contains(&needle) {
            out.push(format!("{name}: {}", cmdline.trim()));
        }
    }
    out
}

/// Polls `done` every 20 ms until it holds; panics naming `what` after `timeout`.
fn wait_until(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Runs `firedrill cleanup SPEC` when dropped, so a failing test never leaves a scratch
/// cluster running (declare it after the Env so it runs before the folder is deleted).
struct SweepOnDrop(PathBuf);

/// One test's world: a source database, a private folder and a spec, swept on drop.
struct Case {
    _sweep: SweepOnDrop,
    env: Env,
    db: SourceDb,
}

impl Case {
    async fn new(sql: &str) -> Case {
        let db = SourceDb::create(sql).await;
        let env = Env::new();
        let spec = write_spec(&env, &db.url());
        Case {
            _sweep: SweepOnDrop(spec),
            env,
            db,
        }
    }

    fn spec(&self) -> &str {
        path_str(&self._sweep.0)
    }
}

impl Drop for SweepOnDrop {
    fn drop(&mut self) {
        let _ = firedrill(&["cleanup", path_str(&self.0)]);
    }
}

// ---------------------------------------------------------------------------------------------
// 1. spec errors

#[test]
fn spec_errors_are_reported_together() {
    assert!(
        std::env::var_os("FIREDRILL_TEST_UNSET_VAR").is_none(),
        "FIREDRILL_TEST_UNSET_VAR must not be set for this test"
    );
    let env = Env::new();
    let url = "postgres://postgres@127.0.0.1:5432/${FIREDRILL_TEST_UNSET_VAR:?needed}";
    let good = env.spec(NAME, url).rto("fast");
    let bad = good
        .clone()
        .backup("compresion", "zstd")
        .drill("from", "nowhere");
    assert_ne!(
        good.text(),
        bad.text(),
        "the spec template changed; the test must inject errors"
    );
    let spec = env.write(&bad);
    let spec = path_str(&spec);

    let out = run_expect(&["check", spec, "--offline"], 2);
    let all = text(&out);
    assert!(all.contains("has 4 problems"), "four problems:\n{all}");
    for needle in [
        "backup.compresion",
        "targets.rto",
        "`fast`",
        "FIREDRILL_TEST_UNSET_VAR",
        "needed",
        "drill.from",
        "`nowhere`",
    ] {
        assert!(all.contains(needle), "output names `{needle}`:\n{all}");
    }

    let out = run_expect(&["check", spec, "--offline", "--json"], 2);
    let v = stdout_json(&out);
    let err = &v["error"];
    assert_eq!(err["kind"], "spec", "{v:#}");
    let msg = err["message"].as_str().expect("error.message is a string");
    for needle in [
        "backup.compresion",
        "targets.rto",
        "FIREDRILL_TEST_UNSET_VAR",
        "drill.from",
    ] {
        assert!(msg.contains(needle), "JSON message names `{needle}`: {msg}");
    }
}

// ---------------------------------------------------------------------------------------------
// 2. --set overrides

#[test]
fn set_overrides_are_validated() {
    let env = Env::new();
    let spec = write_spec(&env, "postgres://postgres@127.0.0.1:5432/nodb");
    let spec = path_str(&spec);

    // The spec itself is valid: every failure below comes from the override.
    run_expect(&["check", spec, "--offline"], 0);
    run_expect(
        &["check", spec, "--offline", "--set", "drill.from=primary"],
        0,
    );

    let out = run_expect(
        &["check", spec, "--offline", "--set", "drill.from=nowhere"],
        2,
    );
    let all = text(&out);
    assert!(
        all.contains("drill.from") && all.contains("`nowhere`"),
        "{all}"
    );

    let out = run_expect(
        &[
            "check",
            spec,
            "--offline",
            "--set",
            "destination.nope.url=x",
        ],
        2,
    );
    let all = text(&out);
    assert!(
        all.contains("`nope`"),
        "names the unknown destination:\n{all}"
    );
    assert!(all.contains("destination"), "{all}");

    let out = run_expect(
        &["check", spec, "--offline", "--set", "targets.rto=fast"],
        2,
    );
    assert!(text(&out).contains("targets.rto"), "{}", text(&out));
}

// ---------------------------------------------------------------------------------------------
// 3. keys

#[tokio::test]
async fn wrong_identity_stops_drill_and_check() {
    let case = Case::new(TINY_SQL).await;
    let (env, spec) = (&case.env, case.spec());
    backup_ok(Path::new(spec));

    let other = env.path().join("other.key");
    firedrill::pipeline::keys::write_new_identity(&other).unwrap();
    let wrong = format!("drill.identity-file={}", other.display());

    // Online check with the right key passes; with the wrong one it names the identity.
    run_expect(&["check", spec], 0);
    let out = run_expect(&["check", spec, "--set", &wrong], 2);
    let all = text(&out);
    assert!(
        all.contains("FAIL identity") && all.contains("matches none of backup.recipients"),
        "{all}"
    );

    let out = run_expect(&["drill", spec, "--set", &wrong], 2);
    let all = text(&out);
    assert!(
        all.contains("identity") && all.contains("matches none of the backup's recipients"),
        "says the identity matches no recipient:\n{all}"
    );
    env.assert_no_leftovers();
    assert_eq!(newest_report(env)["verdict"], "error");

    let out = run_expect(
        &[
            "drill",
            spec,
            "--set",
            "drill.identity-file=/nonexistent/key",
        ],
        2,
    );
    let all = text(&out);
    assert!(
        all.contains("/nonexistent/key") && all.contains("cannot read identity file"),
        "names the missing identity file:\n{all}"
    );
    env.assert_no_leftovers();
}

// ---------------------------------------------------------------------------------------------
// 4. tools

#[tokio::test]
async fn missing_tools_are_named() {
    let case = Case::new(TINY_SQL).await;
    let (env, spec) = (&case.env, case.spec());

    let out = run_expect(&["backup", spec, "--set", "tools.bin-dir=/nonexistent"], 2);
    assert!(text(&out).contains("pg_dump not found"), "{}", text(&out));
    assert!(
        env.files_in("primary").is_empty(),
        "a failed backup stores nothing: {:?}",
        env.files_in("primary")
    );

    backup_ok(Path::new(spec));

    let restore_only = env.path().join("bin-restore-only");
    std::fs::create_dir(&restore_only).unwrap();
    std::os::unix::fs::symlink(
        "/usr/lib/postgresql/15/bin/pg_restore",
        restore_only.join("pg_restore"),
    )
    .unwrap();
    let set = format!("tools.bin-dir={}", restore_only.display());
    let out = run_expect(&["drill", spec, "--set", &set], 2);
    assert!(text(&out).contains("initdb not found"), "{}", text(&out));
    env.assert_no_leftovers();

    let empty = env.path().join("bin-empty");
    std::fs::create_dir(&empty).unwrap();
    let set = format!("tools.bin-dir={}", empty.display());
    let out = run_expect(&["drill", spec, "--set", &set], 2);
    assert!(
        text(&out).contains("pg_restore not found"),
        "{}",
        text(&out)
    );
    env.assert_no_leftovers();
}

// ---------------------------------------------------------------------------------------------
// 5. killed and interrupted backups

/// Starts `backup SPEC` and returns once it is streaming into the primary destination.
fn backup_mid_stream(env: &Env, spec: &str) -> Spawned {
    let mut child = Spawned::start(&["backup", spec], env.path());
    wait_until(
        "a .firedrill-partial- file in the primary destination",
        Duration::from_secs(60),
        || {
            assert!(
                child.exited().is_none(),
                "the backup finished before it could be interrupted; output:\n{}",
                child.output()
            );
            !partial_files(env, "primary").is_empty()
        },
    );
    child
}

#[tokio::test]
async fn killed_backup_leaves_no_listed_set() {
    let case = Case::new(BIG_SQL).await;
    let (env, spec) = (&case.env, case.spec());

    let mut child = backup_mid_stream(env, spec);
    child.child.kill().unwrap(); // SIGKILL: no cleanup runs
    let status = child.child.wait().unwrap();
    assert!(!status.success(), "{status:?}");
    for dest in ["primary", "dr"] {
        assert!(
            manifests(env, dest).is_empty(),
            "{dest}: {:?}",
            env.files_in(dest)
        );
    }

    let out = run_expect(&["list", spec, "--json"], 0);
    assert_eq!(
        stdout_json(&out),
        serde_json::json!([]),
        "no complete backup"
    );
    let out = run_expect(&["drill", spec, "--dry-run"], 2);
    assert!(text(&out).contains("no complete backup"), "{}", text(&out));
    // The primary holds the leftover partial file, and still no backup.
    let out = run_expect(&["drill", spec, "--dry-run", "--from", "primary"], 2);
    assert!(text(&out).contains("no complete backup"), "{}", text(&out));

    backup_ok(Path::new(spec));
    let out = run_expect(&["list", spec, "--json"], 0);
    let rows = stdout_json(&out);
    let rows = rows.as_array().expect("an array");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["parity"], true, "{rows:?}");
}

#[tokio::test]
async fn sigterm_stops_backup_and_leaves_nothing() {
    let case = Case::new(BIG_SQL).await;
    let (env, spec) = (&case.env, case.spec());

    let mut child = backup_mid_stream(env, spec);
    sigterm(&child.pid());
    let status = child.wait(Duration::from_secs(60));
    assert_eq!(
        status.code(),
        Some(2),
        "SIGTERM ends a backup with exit 2; output:\n{}",
        child.output()
    );
    for dest in ["primary", "dr"] {
        assert!(
            partial_files(env, dest).is_empty(),
            "no partial file left in {dest}: {:?}",
            env.files_in(dest)
        );
        assert!(
            manifests(env, dest).is_empty(),
            "no manifest in {dest}: {:?}",
            env.files_in(dest)
        );
    }
    let out = run_expect(&["list", spec, "--json"], 0);
    assert_eq!(stdout_json(&out), serde_json::json!([]));
}

// ---------------------------------------------------------------------------------------------
// 6. failed checks

#[tokio::test]
async fn failed_check_fails_drill_runs_all_checks_and_cleans_up() {
    let db = SourceDb::create(TINY_SQL).await;
    let env = Env::new();
    let spec = env.write(
        &env.spec(NAME, &db.url())
            .sql_check("impossible", "select count(*) from t", "> 1000000")
            .sql_check("exact", "select count(*) from t", "== 100"),
    );
    let _sweep = SweepOnDrop(spec.clone());
    let spec = path_str(&spec);
    backup_ok(Path::new(spec));

    let out = run_expect(&["drill", spec, "--json"], 1);
    let v = stdout_json(&out);
    assert_eq!(v["verdict"], "failed", "{v:#}");
    let path = v["report_files"]["json"]
        .as_str()
        .unwrap_or_else(|| panic!("report_files.json in {v:#}"));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert_eq!(report["verdict"], "failed", "{report:#}");
    let checks = report["checks"].as_array().expect("checks array");
    assert_eq!(checks.len(), 2, "both checks ran: {checks:#?}");
    assert_eq!(checks[0]["name"], "impossible");
    assert_eq!(checks[0]["pass"], false);
    assert_eq!(checks[0]["actual"], "100");
    assert_eq!(checks[1]["name"], "exact");
    assert_eq!(checks[1]["pass"], true, "{:#}", checks[1]);
    assert_eq!(checks[1]["actual"], "100");
    let reason = report["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("impossible"),
        "reason names the check: {reason}"
    );
    assert_eq!(
        report["cleanup"]["removed"], true,
        "{:#}",
        report["cleanup"]
    );
    env.assert_no_leftovers();
    assert!(
        processes_mentioning(&env.work()).is_empty(),
        "{:?}",
        processes_mentioning(&env.work())
    );
}

// ---------------------------------------------------------------------------------------------
// 7. SIGTERM mid-drill

#[tokio::test]
async fn sigterm_mid_drill_aborts_and_cleans_up() {
    let case = Case::new(BIG_SQL).await;
    let (env, spec) = (&case.env, case.spec());
    backup_ok(Path::new(spec));

    let mut child = Spawned::start(&["drill", spec], env.path());
    let fds = format!("/proc/{}/fd", child.pid());
    let work = env.work().display().to_string();
    // The spool has no name: the drill holds it open in the work dir.
    let spool_open = || -> bool {
        std::fs::read_dir(&fds)
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|e| std::fs::read_link(e.path()).ok())
            .map(|l| l.display().to_string())
            .any(|l| l.starts_with(&work) && l.ends_with(" (deleted)"))
    };
    let entries = |prefix: &str| -> bool {
        std::fs::read_dir(env.work())
            .into_iter()
            .flatten()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with(prefix))
    };
    let mut still_running = || {
        assert!(
            child.exited().is_none(),
            "the drill finished before SIGTERM; output:\n{}",
            child.output()
        );
    };
    wait_until("a scratch- cluster folder", Duration::from_secs(90), || {
        still_running();
        entries("scratch-")
    });
    // Wait for the spool too, so the signal lands while data is fetched or restored.
    wait_until("an open spool file", Duration::from_secs(90), || {
        still_running();
        spool_open()
    });
    sigterm(&child.pid());
    let status = child.wait(Duration::from_secs(60));
    let output = child.output();
    assert_eq!(status.code(), Some(2), "aborted drill exits 2:\n{output}");
    assert!(
        env.leftover_clusters().is_empty(),
        "{:?}\n{output}",
        env.leftover_clusters()
    );
    assert!(
        processes_mentioning(&env.work()).is_empty(),
        "no process of the scratch cluster: {:?}",
        processes_mentioning(&env.work())
    );
    let report = newest_report(env);
    assert_eq!(report["verdict"], "aborted", "{report:#}");
    assert_eq!(
        report["cleanup"]["removed"], true,
        "{:#}",
        report["cleanup"]
    );
}

// ---------------------------------------------------------------------------------------------
// 8. passwords

/// A login role on the test server, dropped on drop.
struct Role {
    name: String,
    db: String,
}

impl Drop for Role {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args(["-h", "127.0.0.1", "-U", "postgres", "-d", &self.db, "-qAt"])
            .args(["-c", &format!("drop owned by {}", self.name)])
            .args(["-c", &format!("drop role if exists {}", self.name)])
            .output();
    }
}

#[tokio::test]
async fn source_password_is_never_printed_or_stored() {
    let db = SourceDb::create(TINY_SQL).await;
    let suffix = firedrill::catalog::layout::random_hex(5);
    let password = format!("S3cretPw{suffix}");
    let role = Role {
        name: format!("fdtest_pw_{suffix}"),
        db: db.name.clone(),
    };
    db.client()
        .await
        .batch_execute(&format!(
            "create role {r} login password '{password}'; \
             grant pg_read_all_data to {r}; \
             grant connect on database {d} to {r};",
            r = role.name,
            d = db.name
        ))
        .await
        .unwrap();

    let env = Env::new();
    let url = format!(
        "postgres://{}:{password}@127.0.0.1:5432/{}",
        role.name, db.name
    );
    // The spec holds the password, so it lives outside the folder scanned below.
    let spec_dir = tempfile::tempdir().unwrap();
    let spec = env.spec(NAME, &url).write(spec_dir.path());
    let _sweep = SweepOnDrop(spec.clone());
    let spec = path_str(&spec);

    let mut outputs = Vec::new();
    for json in [false, true] {
        let flag: &[&str] = if json { &["--json"] } else { &[] };
        for cmd in [
            &["check", spec][..],
            &["backup", spec],
            &["list", spec],
            &["drill", spec, "--dry-run"],
            &["drill", spec],
        ] {
            let args: Vec<&str> = cmd.iter().chain(flag).copied().collect();
            outputs.push((args.join(" "), run_expect(&args, 0)));
        }
    }
    for (args, out) in &outputs {
        assert!(
            !text(out).contains(&password),
            "`firedrill {args}` printed the password:\n{}",
            text(out)
        );
    }
    let stored = support::all_text_below(env.path());
    assert!(!stored.is_empty());
    assert!(
        !stored.contains(&password),
        "a file below {} holds the password",
        env.path().display()
    );
    let manifest_files = manifests(&env, "primary");
    assert_eq!(manifest_files.len(), 2, "two backups: {manifest_files:?}");
    for m in manifest_files {
        let m = std::fs::read_to_string(env.dest("primary").join(m)).unwrap();
        assert!(!m.contains(&password), "manifest holds the password");
        let v: Value = serde_json::from_str(&m).unwrap();
        assert_eq!(v["source"]["user"], role.name.as_str(), "{v:#}");
    }

    // Failing connection: the error names the server, not the password.
    let bad_url = format!("postgres://u:{password}@127.0.0.1:1/db");
    let bad_spec = env.spec("unreachable", &bad_url).write(spec_dir.path());
    let bad_spec = path_str(&bad_spec);
    for args in [
        &["backup", bad_spec][..],
        &["backup", bad_spec, "--json"],
        &["check", bad_spec],
        &["check", bad_spec, "--json"],
    ] {
        let out = run_expect(args, 2);
        let all = text(&out);
        assert!(all.contains("127.0.0.1"), "names the server:\n{all}");
        assert!(!all.contains(&password), "printed the password:\n{all}");
    }
    drop(role);
}

// ---------------------------------------------------------------------------------------------
// 9. --keep and cleanup

#[tokio::test]
async fn kept_scratch_is_usable_and_cleanup_removes_it() {
    let case = Case::new(TINY_SQL).await;
    let (env, spec) = (&case.env, case.spec());
    backup_ok(Path::new(spec));

    let out = run_expect(&["drill", spec, "--keep", "--json"], 0);
    let v = stdout_json(&out);
    let url = v["kept_url"]
        .as_str()
        .unwrap_or_else(|| panic!("kept_url in {v:#}"))
        .to_string();
    assert!(url.starts_with("postgres://"), "{url}");
    let kept = env.leftover_clusters();
    assert_eq!(kept.len(), 1, "one kept cluster: {kept:?}");
    assert!(kept[0].starts_with("scratch-"), "{kept:?}");
    assert!(env.work().join(&kept[0]).is_dir());

    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("connect to the kept cluster {url}: {e}"));
    let conn = tokio::spawn(conn);
    let n: i64 = client
        .query_one("select count(*) from t", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 100);
    drop(client);
    let _ = conn.await;

    let out = run_expect(&["cleanup", spec], 0);
    assert!(text(&out).contains("removed"), "{}", text(&out));
    env.assert_no_leftovers();
    assert!(
        processes_mentioning(&env.work()).is_empty(),
        "{:?}",
        processes_mentioning(&env.work())
    );
    assert!(
        tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .is_err(),
        "the kept cluster is gone"
    );
}

/// A target kept by a drill run with `--set` overrides (another work dir) is found by a plain
/// `cleanup SPEC`: the drill recorded it in its report folder (no secret in the record), and
/// the record is forgotten once the target is removed.
#[tokio::test]
async fn cleanup_finds_a_target_kept_under_set_overrides() {
    let case = Case::new(TINY_SQL).await;
    let (env, spec) = (&case.env, case.spec());
    backup_ok(Path::new(spec));
    let other = tempfile::tempdir().unwrap();
    let set = format!("drill.work-dir={}", other.path().display());
    let out = run_expect(&["drill", spec, "--keep", "--set", &set, "--json"], 0);
    let url = stdout_json(&out)["kept_url"].as_str().unwrap().to_string();
    let clusters = |dir: &Path| -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with("scratch-"))
            .collect()
    };
    assert_eq!(clusters(other.path()).len(), 1, "one kept cluster");
    let records = all_text_below(&env.reports());
    assert!(records.contains("\"kind\": \"ephemeral\""), "{records}");

    let out = run_expect(&["cleanup", spec], 0);
    assert!(text(&out).contains("removed"), "{}", text(&out));
    assert!(
        clusters(other.path()).is_empty(),
        "the kept cluster is gone"
    );
    assert!(
        tokio_postgres::connect(&url, tokio_postgres::NoTls)
            .await
            .is_err(),
        "the kept cluster is stopped"
    );
    let out = run_expect(&["cleanup", spec], 0);
    assert!(
        text(&out).contains("No scratch targets"),
        "the record is forgotten: {}",
        text(&out)
    );
    env.assert_no_leftovers();
}

// ---------------------------------------------------------------------------------------------
// 10. corrupted and truncated objects

#[tokio::test]
async fn corrupted_object_fails_drill_and_other_copy_passes() {
    let case = Case::new(TINY_SQL).await;
    let (env, spec) = (&case.env, case.spec());
    backup_ok(Path::new(spec));

    let object = data_object(env, "dr");
    let mut bytes = std::fs::read(&object).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0xff;
    std::fs::write(&object, &bytes).unwrap();

    let out = run_expect(&["drill", spec], 1);
    let all = text(&out);
    assert!(
        all.contains("data.dump.zst.age") && all.contains("corrupted"),
        "names the corrupted object:\n{all}"
    );
    assert!(all.contains("`dr`"), "names the destination:\n{all}");
    assert_eq!(newest_report(env)["verdict"], "failed");
    env.assert_no_leftovers();

    run_expect(&["drill", spec, "--from", "primary"], 0);
    env.assert_no_leftovers();
}

#[tokio::test]
async fn truncated_object_fails_drill() {
    let case = Case::new(TINY_SQL).await;
    let (env, spec) = (&case.env, case.spec());
    backup_ok(Path::new(spec));

    let object = data_object(env, "dr");
    let len = std::fs::metadata(&object).unwrap().len();
    assert!(len > 200, "object of {len} bytes");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&object)
        .unwrap()
        .set_len(len - 100)
        .unwrap();

    let out = run_expect(&["drill", spec], 1);
    let all = text(&out);
    assert!(
        all.contains("data.dump.zst.age")
            && (all.contains("truncated") || all.contains("corrupted")),
        "names the truncated object:\n{all}"
    );
    assert_eq!(newest_report(env)["verdict"], "failed");
    env.assert_no_leftovers();

    run_expect(&["drill", spec, "--from", "primary"], 0);
}

#[tokio::test]
async fn tls_is_verified_and_an_untrusted_certificate_is_a_clear_error() {
    let case = Case::new(TINY_SQL).await;
    let spec = case.spec();
    let url = format!("source.url={}?sslmode=require", case.db.url());
    // The test server's certificate is self-signed: not trusted by the system bundle.
    let out = run_expect(&["backup", spec, "--set", &url], 2);
    let all = text(&out);
    assert!(
        all.contains("TLS handshake") && all.contains("certificate"),
        "{all}"
    );
    assert!(all.contains("ca-file"), "the fix names ca-file: {all}");
    // A CA bundle that does not exist is named.
    let out = run_expect(
        &[
            "backup",
            spec,
            "--set",
            "source.ca-file=/nonexistent/ca.pem",
        ],
        2,
    );
    assert!(text(&out).contains("/nonexistent/ca.pem"), "{}", text(&out));
    assert!(case.env.files_in("primary").is_empty(), "nothing stored");
}

#[tokio::test]
async fn a_second_backup_of_one_spec_waits_its_turn_and_a_dead_runs_lease_is_taken_over() {
    let case = Case::new(BIG_SQL).await;
    let (env, spec) = (&case.env, case.spec());
    let lease_file = env.dest("primary").join(NAME).join(".locks/backup.json");

    let mut first = Spawned::start(&["backup", spec], env.path());
    wait_until("the first backup's lease", Duration::from_secs(60), || {
        assert!(
            first.exited().is_none(),
            "the first backup ended early:\n{}",
            first.output()
        );
        lease_file.exists()
    });
    let out = run_expect(&["backup", spec], 2);
    assert!(
        text(&out).contains(&format!("another backup of `{NAME}` is running")),
        "{}",
        text(&out)
    );
    let status = first.wait(Duration::from_secs(120));
    assert!(status.success(), "{}", first.output());
    assert!(!lease_file.exists(), "the lease is released");

    // A lease left by a run that died, already expired: taken over, and said so.
    std::fs::create_dir_all(lease_file.parent().unwrap()).unwrap();
    let stale = serde_json::json!({
        "operation": "backup", "holder": "deadhost:4242",
        "acquired_at": "2026-01-01T00:00:00Z", "expires_at": "2026-01-01T00:15:00Z"
    });
    std::fs::write(&lease_file, stale.to_string()).unwrap();
    let out = run_expect(&["backup", spec, "--json"], 0);
    assert_eq!(
        stdout_json(&out)["lease_takeover"],
        "deadhost:4242",
        "{}",
        text(&out)
    );
    assert!(!lease_file.exists());

    // A lease that has not expired blocks, naming its holder.
    let live = serde_json::json!({
        "operation": "backup", "holder": "otherhost:7",
        "acquired_at": chrono::Utc::now(), "expires_at": chrono::Utc::now() + chrono::Duration::minutes(10)
    });
    std::fs::create_dir_all(lease_file.parent().unwrap()).unwrap();
    std::fs::write(&lease_file, live.to_string()).unwrap();
    let out = run_expect(&["backup", spec], 2);
    assert!(text(&out).contains("otherhost:7"), "{}", text(&out));
    std::fs::remove_file(&lease_file).unwrap();
}

#[tokio::test]
async fn a_drill_refused_by_a_running_drill_writes_no_report() {
    let case = Case::new(TINY_SQL).await;
    let (env, spec) = (&case.env, case.spec());
    backup_ok(Path::new(spec));
    let lease_file = env.dest("primary").join(NAME).join(".locks/drill.json");
    std::fs::create_dir_all(lease_file.parent().unwrap()).unwrap();
    let live = serde_json::json!({
        "operation": "drill", "holder": "otherhost:9",
        "acquired_at": chrono::Utc::now(), "expires_at": chrono::Utc::now() + chrono::Duration::minutes(10)
    });
    std::fs::write(&lease_file, live.to_string()).unwrap();
    let out = run_expect(&["drill", spec], 2);
    assert!(
        text(&out).contains(&format!(
            "another drill of `{NAME}` is running (otherhost:9"
        )),
        "{}",
        text(&out)
    );
    assert!(
        !env.reports().join(NAME).exists(),
        "a refused drill did not run: no report"
    );
    env.assert_no_leftovers();
    std::fs::remove_file(&lease_file).unwrap();
    run_expect(&["drill", spec], 0);
}

#[tokio::test]
async fn cleanup_removes_decrypted_spools_of_dead_runs_only() {
    let case = Case::new(TINY_SQL).await;
    let (env, spec) = (&case.env, case.spec());
    std::fs::create_dir_all(env.work()).unwrap();
    // pid 4194304 is above Linux's pid_max: never alive. Our own pid is alive.
    let dead = env.work().join("spool-4194304-abcdef.dump");
    let alive = env
        .work()
        .join(format!("spool-{}-abcdef.dump", std::process::id()));
    std::fs::write(&dead, "plain dump").unwrap();
    std::fs::write(&alive, "plain dump").unwrap();
    let out = run_expect(&["cleanup", spec], 0);
    assert!(text(&out).contains("spool"), "{}", text(&out));
    assert!(!dead.exists(), "the dead run's spool is gone");
    assert!(alive.exists(), "a live run's spool stays");
    std::fs::remove_file(alive).unwrap();
}

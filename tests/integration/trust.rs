//! What firedrill reports is what a drill would conclude: copies that look complete but are
//! not, and refusals that are expected.

use std::path::PathBuf;

use crate::support::{firedrill, text, Env, SourceDb};

/// `drill SPEC --json`, which must exit with `code`: its output.
fn drill_json(spec: &str, code: i32) -> serde_json::Value {
    let out = firedrill(&["drill", spec, "--json"]);
    assert_eq!(out.status.code(), Some(code), "{}", text(&out));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A spec `name` of `db` with one backup taken: its path and the backup id.
fn backed_up(env: &Env, name: &str, db: &SourceDb) -> (PathBuf, String) {
    let spec = env.write_spec(name, &env.spec_text(name, &db.url(), ""));
    let out = firedrill(&["backup", spec.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let id = serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["backup_id"]
        .as_str()
        .unwrap()
        .to_string();
    (spec, id)
}

/// A copy whose manifest is empty, records other checksums, or lists a missing object is
/// listed as damaged with the reason, not as complete because its objects are there.
#[tokio::test]
async fn list_shows_a_copy_with_an_unreadable_or_foreign_manifest_as_damaged() {
    let db = SourceDb::create("create table t (id int); insert into t values (1), (2);").await;
    let env = Env::new();
    let (spec, id) = backed_up(&env, "lst", &db);
    let spec = spec.to_str().unwrap();
    let manifest = env.dest("dr").join("lst").join(&id).join("manifest.json");
    let good_manifest = std::fs::read(&manifest).unwrap();
    let list = |expect: &str| {
        let out = firedrill(&["list", spec, "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(rows[0]["destinations"]["primary"], "complete", "{rows}");
        assert_eq!(rows[0]["destinations"]["dr"], expect, "{rows}");
        rows[0].clone()
    };
    let good = list("complete");
    assert_eq!(good["parity"], true);
    assert!(good.get("problems").is_none(), "{good}");

    std::fs::write(&manifest, "").unwrap();
    let row = list("damaged");
    assert_eq!(row["parity"], false);
    let why = row["problems"]["dr"].as_str().unwrap();
    assert!(
        why.contains("manifest.json") && why.contains("not readable"),
        "{why}"
    );
    let out = firedrill(&["list", spec]);
    assert!(text(&out).contains("DAMAGED"), "{}", text(&out));
    assert!(text(&out).contains("  dr: manifest"), "{}", text(&out));

    // A readable manifest that records other checksums (an edited or swapped file).
    let mut other: serde_json::Value = serde_json::from_slice(&good_manifest).unwrap();
    other["objects"][0]["sha256"] = "00".repeat(32).into();
    std::fs::write(&manifest, serde_json::to_vec(&other).unwrap()).unwrap();
    let row = list("damaged");
    let why = row["problems"]["dr"].as_str().unwrap();
    assert!(
        why.contains("differs from the set's") && why.contains("compared with `primary`"),
        "{why}"
    );

    // A manifest that lists an object the copy does not have.
    std::fs::write(&manifest, &good_manifest).unwrap();
    std::fs::remove_file(
        env.dest("dr")
            .join("lst")
            .join(&id)
            .join("data.dump.zst.age"),
    )
    .unwrap();
    let row = list("damaged");
    let why = row["problems"]["dr"].as_str().unwrap();
    assert!(why.contains("data.dump.zst.age` is missing"), "{why}");
}

/// A set whose manifest this firedrill cannot read is left alone and listed as refused; as
/// documented, that does not change the exit code.
#[test]
fn prune_refuses_an_unreadable_manifest_without_failing() {
    let env = Env::new();
    let id = "20261120T000000Z-aaaaaa";
    let set = env.dest("primary").join("unr").join(id);
    std::fs::create_dir_all(&set).unwrap();
    std::fs::write(set.join("manifest.json"), r#"{"format_version": 99}"#).unwrap();
    std::fs::write(set.join("data.dump.zst.age"), "x").unwrap();
    let text_spec = env.spec_text(
        "unr",
        "postgres://postgres@127.0.0.1:5432/unused",
        "[backup.retention]\nkeep-last = 1\n",
    );
    let spec = env.write_spec("unr", &text_spec);
    for dry in [true, false] {
        let mut args = vec!["prune", spec.to_str().unwrap()];
        if dry {
            args.push("--dry-run");
        }
        let out = firedrill(&args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        assert!(
            text(&out).contains(&format!(
                "cannot delete {id} yet: its manifest is unreadable"
            )),
            "{}",
            text(&out)
        );
    }
    assert!(set.join("manifest.json").exists());
    assert!(set.join("data.dump.zst.age").exists());
}

/// A recovery point after the drill's start (a wrong clock, an edited manifest) fails the
/// drill instead of measuring an RPO of 0 s.
#[tokio::test]
async fn a_recovery_point_in_the_future_fails_the_drill() {
    let db = SourceDb::create("create table t (id int); insert into t values (1);").await;
    let env = Env::new();
    let (spec, id) = backed_up(&env, "fut", &db);
    let spec = spec.to_str().unwrap();
    drill_json(spec, 0);

    let manifest = env.dest("dr").join("fut").join(&id).join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&manifest).unwrap()).unwrap();
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    m["snapshot_at"] = tomorrow.to_rfc3339().into();
    std::fs::write(&manifest, serde_json::to_vec(&m).unwrap()).unwrap();
    let v = drill_json(spec, 1);
    assert_eq!(v["verdict"], "failed");
    assert_eq!(v["report"]["rpo"]["pass"], false);
    let reason = v["report"]["reason"].as_str().unwrap();
    assert!(
        reason.contains("after the drill started")
            && reason.contains("clock or the backup's manifest is wrong"),
        "{reason}"
    );
}

/// An sql check compares one value: a query that returns several rows or several columns
/// fails with a message saying so, instead of comparing its first value.
#[tokio::test]
async fn an_sql_check_that_returns_more_than_one_value_fails() {
    let db = SourceDb::create("create table t (id int); insert into t values (1), (2);").await;
    let env = Env::new();
    let spec = env.write(
        &env.spec("many", &db.url())
            .sql_check("one value", "select count(*) from t", "== 2")
            .sql_check("two rows", "select id from t order by id", ">= 1")
            .sql_check("two columns", "select 1, 2", "== 1"),
    );
    let spec = spec.to_str().unwrap();
    let out = firedrill(&["backup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = drill_json(spec, 1);
    let checks = v["report"]["checks"].as_array().unwrap();
    let by_name = |n: &str| checks.iter().find(|c| c["name"] == n).unwrap().clone();
    assert_eq!(by_name("one value")["pass"], true);
    assert_eq!(by_name("two rows")["pass"], false);
    assert_eq!(by_name("two rows")["actual"], "the query returned 2 rows");
    assert_eq!(by_name("two columns")["pass"], false);
    assert_eq!(
        by_name("two columns")["actual"],
        "the query returned 2 columns"
    );
}

/// A copy that lacks an object its manifest lists cannot be restored: the drill fails (exit
/// 1) naming the object, rather than reporting a destination it could not read (exit 2).
#[tokio::test]
async fn a_missing_object_makes_the_backup_unrestorable() {
    let db = SourceDb::create("create table t (id int); insert into t values (1);").await;
    let env = Env::new();
    let (spec, id) = backed_up(&env, "gone", &db);
    let spec = spec.to_str().unwrap();
    std::fs::remove_file(
        env.dest("dr")
            .join("gone")
            .join(&id)
            .join("data.dump.zst.age"),
    )
    .unwrap();
    let v = drill_json(spec, 1);
    assert_eq!(v["verdict"], "failed");
    let reason = v["report"]["reason"].as_str().unwrap();
    assert!(
        reason.contains(
            "data.dump.zst.age` that the manifest lists is missing from destination `dr`"
        ),
        "{reason}"
    );
    env.assert_no_leftovers();
}

/// Two destinations in one place are one copy: the spec is refused at load, naming both.
#[test]
fn two_destinations_in_one_place_are_refused() {
    let env = Env::new();
    let url = "postgres://postgres@127.0.0.1:5432/unused";
    let primary = env.dest("primary");
    let spec = env.write(&env.spec("same", url).folder("copy", &primary.join(".")));
    let out = firedrill(&["check", "--offline", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("destination.copy.url: `file://")
            && text(&out).contains("is the same place as destination `primary`"),
        "{}",
        text(&out)
    );
    let ok = env.write(&env.spec("apart", url));
    let out = firedrill(&["check", "--offline", ok.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// A reader that went away (`firedrill ... | head -0`) does not turn the run's exit code into
/// a panic's.
#[test]
fn a_closed_stdout_keeps_the_exit_code() {
    use std::os::fd::OwnedFd;
    use std::process::{Command, Stdio};
    let env = Env::new();
    let spec = env.write(&env.spec("closed", "postgres://postgres@127.0.0.1:5432/unused"));
    let (read, write): (OwnedFd, OwnedFd) = nix::unistd::pipe().unwrap();
    drop(read);
    let out = Command::new(env!("CARGO_BIN_EXE_firedrill"))
        .args(["check", "--offline", spec.to_str().unwrap()])
        .stdout(Stdio::from(write))
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A password with `@`, `/` or `#` left unencoded is refused at load without being echoed,
/// in text or JSON.
#[test]
fn an_ambiguous_password_is_refused_without_echoing_it() {
    let env = Env::new();
    let url = "postgres://app:Tr0ub@dor/x#9@127.0.0.1:5432/orders";
    let spec = env.write(&env.spec("amb", url));
    for json in [false, true] {
        let mut args = vec!["check", "--offline", spec.to_str().unwrap()];
        if json {
            args.push("--json");
        }
        let out = firedrill(&args);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let said = text(&out);
        assert!(said.contains("percent-encode"), "{said}");
        for part in ["Tr0ub", "dor/x", "x#9"] {
            assert!(!said.contains(part), "{part} leaked: {said}");
        }
    }
}

/// Rows from the future do not make a table look fresh: a freshness check whose newest row
/// lies after the recovery point fails, saying the clock or the data is wrong.
#[tokio::test]
async fn freshness_refuses_rows_from_the_future() {
    let db = SourceDb::create(
        "create table events (at timestamptz); insert into events values (now() + interval '1 day');",
    )
    .await;
    let env = Env::new();
    let check = |b: firedrill::testing::SpecBuilder| {
        b.check("fresh", "freshness")
            .with("table", "events")
            .with("column", "at")
            .with("within", "1h")
    };
    let spec = env.write(&check(env.spec("future", &db.url())));
    let spec = spec.to_str().unwrap();
    let out = firedrill(&["backup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v = drill_json(spec, 1);
    let actual = v["report"]["checks"][0]["actual"].as_str().unwrap();
    assert!(
        actual.contains("after the recovery point")
            && actual.contains("clock or the data is wrong"),
        "{actual}"
    );
}

/// The demo signs its reports: the first report a newcomer sees is proven by a signature.
#[test]
fn the_demo_signs_its_reports() {
    let dir = tempfile::Builder::new()
        .prefix("firedrill-demo-test-")
        .tempdir()
        .unwrap();
    let out = firedrill(&["demo", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let reports = dir.path().join("reports");
    let signed = std::fs::read_dir(reports.join("shop"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".json.sig"))
        .count();
    assert_eq!(signed, 1, "one signed drill report");
    let out = firedrill(&["report", "verify", reports.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // A report whose signature no longer matches is found.
    let report = std::fs::read_dir(reports.join("shop"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "json"))
        .unwrap();
    let edited = std::fs::read_to_string(&report)
        .unwrap()
        .replacen("\"passed\"", "\"failed\"", 1);
    std::fs::write(&report, edited).unwrap();
    let out = firedrill(&["report", "verify", reports.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
}

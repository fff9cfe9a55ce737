//! A drill always ends: a hanging check fails at its `timeout`, a drill at `drill.timeout`,
//! and SIGTERM ends the process within 30 s, with the scratch target removed each time.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::spawned::{sigterm, Spawned};
use crate::support::{firedrill, text, Env, SourceDb};

const TABLE: &str = "create table t (id int); insert into t values (1), (2);";

/// Backs up the spec at `spec`.
fn backed_up(spec: &str) {
    let out = firedrill(&["backup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

/// Runs `drill SPEC --json` as a child that must exit within `limit`: exit code and report.
fn drill_within(env: &Env, spec: &str, limit: Duration) -> (Option<i32>, Value) {
    let mut child = Spawned::start(&["drill", spec, "--json"], env.path());
    let status = child.wait(limit);
    let out = child.output();
    let json = out.find("{\n").map(|i| &out[i..]).unwrap_or("");
    let v: Value = serde_json::Deserializer::from_str(json)
        .into_iter::<Value>()
        .next()
        .and_then(Result::ok)
        .unwrap_or_else(|| panic!("no JSON in the output:\n{out}"));
    (status.code(), v["report"].clone())
}

/// A check that would run for a day fails at its `timeout`; the checks after it still run
/// and the drill fails (exit 1) with the scratch removed.
#[tokio::test]
async fn a_hanging_check_fails_at_its_timeout() {
    let db = SourceDb::create(TABLE).await;
    let env = Env::new();
    let spec = env.write(
        &env.spec("hang", &db.url())
            .sql_check("sleeps", "select pg_sleep(86400)::text", "is not null")
            .with("timeout", "2s")
            .sql_check("after", "select count(*) from t", "== 2"),
    );
    let spec = spec.to_str().unwrap();
    backed_up(spec);
    let (code, r) = drill_within(&env, spec, Duration::from_secs(90));
    assert_eq!(code, Some(1), "{r}");
    let checks = r["checks"].as_array().unwrap();
    assert_eq!(checks[0]["pass"], false);
    let actual = checks[0]["actual"].as_str().unwrap();
    assert!(actual.contains("timed out"), "{actual}");
    assert!(
        checks[0]["seconds"].as_f64().unwrap() < 30.0,
        "{}",
        checks[0]
    );
    assert_eq!(checks[1]["pass"], true, "the next check ran: {}", checks[1]);
    assert_eq!(r["cleanup"]["removed"], true);
    env.assert_no_leftovers();
}

/// A drill that runs past `drill.timeout` fails (exit 1) naming the phase it was in, and
/// removes its scratch target.
#[tokio::test]
async fn a_drill_past_its_timeout_fails_naming_the_phase() {
    let db = SourceDb::create(TABLE).await;
    let env = Env::new();
    let spec = env.write(
        &env.spec("late", &db.url())
            .drill("timeout", "20s")
            .sql_check("sleeps", "select pg_sleep(86400)::text", "is not null"),
    );
    let spec = spec.to_str().unwrap();
    backed_up(spec);
    let started = Instant::now();
    let (code, r) = drill_within(&env, spec, Duration::from_secs(90));
    assert_eq!(code, Some(1), "{r}");
    let reason = r["reason"].as_str().unwrap();
    assert!(
        reason.contains("ran past its timeout of 20s in phase `verify`"),
        "{reason}"
    );
    assert!(started.elapsed() < Duration::from_secs(60));
    assert_eq!(r["cleanup"]["removed"], true);
    env.assert_no_leftovers();
}

/// SIGTERM while a check hangs: the process ends within 30 s (exit 2, aborted) and the
/// scratch cluster is gone.
#[tokio::test]
async fn sigterm_ends_a_hanging_drill_and_removes_scratch() {
    let db = SourceDb::create(TABLE).await;
    let env = Env::new();
    let spec = env.write(
        &env.spec("term", &db.url())
            .sql_check("sleeps", "select pg_sleep(86400)::text", "is not null")
            .with("timeout", "1h"),
    );
    let spec = spec.to_str().unwrap();
    backed_up(spec);
    let mut child = Spawned::start(&["drill", spec], env.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    let verifying = |out: &str| {
        out.lines()
            .any(|l| l.contains("Phase started") && l.contains("verify"))
    };
    while !verifying(&child.output()) {
        assert!(
            Instant::now() < deadline,
            "verify never started:\n{}",
            child.output()
        );
        assert!(
            child.exited().is_none(),
            "exited early:\n{}",
            child.output()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let signalled = Instant::now();
    sigterm(&child.pid());
    let status = child.wait(Duration::from_secs(40));
    assert!(
        signalled.elapsed() < Duration::from_secs(31),
        "took {:?}",
        signalled.elapsed()
    );
    assert_eq!(status.code(), Some(2), "{}", child.output());
    env.assert_no_leftovers();
}

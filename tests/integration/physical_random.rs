//! `drill --random-within` of a pgBackRest source: a random recovery time inside the
//! repository's window, reproducible with `--seed`; `drill.random-within` makes every drill
//! that names no target random (scheduled ones too).

use crate::physical::{archive_now, PITR};
use crate::physical_support::PhysicalSource;
use crate::support::{firedrill, text, Env};

/// Two drills with the same seed recover to the same time, inside repo2's window (after its
/// backup ended, before the drill), both pass, and the report says the time was random and
/// with which seed.
#[tokio::test]
async fn random_within_picks_a_reproducible_time_inside_the_window() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let env = Env::new();
    let c = src.with_table_t().await;
    let spec = env.write(
        &src.spec(&env, "dice")
            .drill("from", "repo2")
            .drill("random-within", "7d")
            .sql_check("rows", "select count(*) from t", ">= 3"),
    );
    let spec = spec.to_str().unwrap();
    let out = firedrill(&["backup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    c.batch_execute("insert into t values (10)").await.unwrap();
    archive_now(&src).await;
    let stop = src.info()["backup"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["database"]["repo-key"] == 2)
        .unwrap()["timestamp"]["stop"]
        .as_i64()
        .unwrap();
    let oldest = chrono::DateTime::from_timestamp(stop, 0).unwrap();

    let mut times = Vec::new();
    for _ in 0..2 {
        let before = chrono::Utc::now();
        let out = firedrill(&[
            "drill",
            spec,
            "--random-within",
            "7d",
            "--seed",
            "4242",
            "--json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let rec = &v["report"]["scratch"]["recovery"];
        assert_eq!(rec["target"], "time", "{v}");
        assert_eq!(rec["repository"], "repo2", "{v}");
        assert_eq!(rec["chosen"], "random within 7days, seed 4242", "{v}");
        let t: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(rec["target_time"].clone()).unwrap();
        assert!(
            t >= oldest && t <= before,
            "{t} outside the window {oldest} .. {before}"
        );
        let point: chrono::DateTime<chrono::Utc> =
            serde_json::from_value(v["report"]["rpo"]["recovery_point"].clone()).unwrap();
        assert_eq!(point, t, "{v}");
        times.push(t);
    }
    assert_eq!(times[0], times[1], "the same seed picked two times");
    env.assert_no_leftovers();

    // A drill that names nothing takes the spec's `drill.random-within`; without a seed one
    // is drawn and recorded.
    let out = firedrill(&["drill", spec, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rec = &v["report"]["scratch"]["recovery"];
    assert_eq!(rec["target"], "time", "{v}");
    let chosen = rec["chosen"].as_str().unwrap_or_default();
    assert!(chosen.starts_with("random within 7days, seed "), "{v}");
    env.assert_no_leftovers();

    // A drill that names its target is not random.
    let out = firedrill(&["drill", spec, "--target", "latest", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rec = &v["report"]["scratch"]["recovery"];
    assert_eq!(rec["target"], "latest", "{v}");
    assert!(rec["chosen"].is_null(), "{v}");
    env.assert_no_leftovers();
}

/// The window ends at the last commit the archive holds, not when the source last archived:
/// a time after that commit (segments of checkpoints only were archived since) cannot be
/// recovered to — PostgreSQL would end recovery before it — and is refused (exit 2) saying
/// the window, while a time before it is drilled.
#[tokio::test]
async fn a_time_after_the_last_archived_commit_is_outside_the_window() {
    let _one = PITR.lock().await;
    let src = PhysicalSource::start();
    let env = Env::new();
    let c = src.client().await;
    c.batch_execute("alter system set autovacuum = off")
        .await
        .unwrap();
    c.batch_execute("select pg_reload_conf()").await.unwrap();
    let spec = env.write(&src.spec(&env, "idle").drill("from", "repo2"));
    let spec = spec.to_str().unwrap();
    let out = firedrill(&["backup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    // The backup's stop time is whole seconds: the commit comes well after it.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    c.batch_execute("create table t (n int); insert into t values (1)")
        .await
        .unwrap();
    let committed = chrono::Utc::now();
    archive_now(&src).await;
    // Only checkpoints from here on, archived seconds later.
    for _ in 0..2 {
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
        c.batch_execute("checkpoint").await.unwrap();
        archive_now(&src).await;
    }
    let after = (committed + chrono::Duration::seconds(3)).to_rfc3339();
    let out = firedrill(&["drill", spec, "--target-time", &after]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(2), "{all}");
    assert!(all.contains("can be restored from"), "{all}");
    env.assert_no_leftovers();

    let before = (committed - chrono::Duration::milliseconds(500)).to_rfc3339();
    let out = firedrill(&["drill", spec, "--target-time", &before]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    env.assert_no_leftovers();
}

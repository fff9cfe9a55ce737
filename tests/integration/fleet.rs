//! Many specs: `backup --all` / `drill --all` with a concurrency budget and a summary, and the
//! schedule daemon with its `/metrics` and `/healthz`.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::spawned::{sigterm, Spawned};
use crate::support::{firedrill, free_port, run_rows, text, Env, SourceDb};

const TABLE: &str =
    "create table t(id int primary key); insert into t select generate_series(1, 20);";

/// A spec named `name` in `dir` whose row check expects `rows`; `schedule` sets both schedules.
fn write_spec(env: &Env, db: &SourceDb, dir: &Path, name: &str, rows: u32, schedule: Option<&str>) {
    let mut spec = env.spec(name, &db.url()).sql_check(
        "rows",
        "select count(*) from t",
        &format!("== {rows}"),
    );
    if let Some(s) = schedule {
        spec = spec.schedule(s);
    }
    spec.write(dir);
}

#[tokio::test]
async fn all_runs_every_spec_and_exits_with_the_worst() {
    let db = SourceDb::create(TABLE).await;
    let env = Env::new();
    let specs = env.path().join("fleet");
    std::fs::create_dir_all(&specs).unwrap();
    write_spec(&env, &db, &specs, "good", 20, None);
    write_spec(&env, &db, &specs, "wrong", 21, None);
    std::fs::write(specs.join("broken.toml"), "[backup]\ncompression = 5\n").unwrap();
    let dir = specs.to_str().unwrap();

    let out = firedrill(&["backup", "--all", dir, "--concurrency", "2", "--json"]);
    assert_eq!(out.status.code(), Some(2), "a broken spec: {}", text(&out));
    assert_eq!(
        run_rows(&out),
        vec![
            ("".into(), "spec".into(), 2),
            ("good".into(), "backup".into(), 0),
            ("wrong".into(), "backup".into(), 0),
        ]
    );

    std::fs::remove_file(specs.join("broken.toml")).unwrap();
    let out = firedrill(&["drill", "--all", dir, "--concurrency", "2"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "the worst is a failed check: {}",
        text(&out)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.starts_with("DRILL"), "{table}");
    assert!(
        table.contains("2 runs, 1 not passed; exit code 1."),
        "{table}"
    );
    let good = table
        .lines()
        .find(|l| l.starts_with("good"))
        .expect("a row for good");
    assert!(
        good.contains(" drill ") && good.contains("Passed"),
        "{good}"
    );
    let wrong = table
        .lines()
        .find(|l| l.starts_with("wrong"))
        .expect("a row for wrong");
    assert!(wrong.contains("Failed"), "{wrong}");
    let report = std::fs::read_dir(env.reports().join("good"))
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))
        .unwrap();
    let v: Value = serde_json::from_slice(&std::fs::read(report.path()).unwrap()).unwrap();
    assert_eq!(v["trigger"]["kind"], "fleet");
    env.assert_no_leftovers();
}

#[tokio::test]
async fn all_refuses_bad_folders_and_single_run_options() {
    let env = Env::new();
    let empty = env.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let out = firedrill(&["drill", "--all", empty.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("no drill specs (*.toml) in"),
        "{}",
        text(&out)
    );

    let out = firedrill(&["backup", "--all", "/nonexistent/specs"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("cannot read the spec folder `/nonexistent/specs`"),
        "{}",
        text(&out)
    );

    let out = firedrill(&["drill", "--all", empty.to_str().unwrap(), "--keep"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("--all runs every spec's latest backup"),
        "{}",
        text(&out)
    );

    let out = firedrill(&[
        "backup",
        "--all",
        empty.to_str().unwrap(),
        "--concurrency",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

async fn get(url: &str) -> Option<(u16, String)> {
    let resp = reqwest::get(url).await.ok()?;
    let status = resp.status().as_u16();
    Some((status, resp.text().await.ok()?))
}

/// Polls `probe` until it gives a value, failing when the daemon exits or `within` passes.
async fn poll<T, F, Fut>(daemon: &mut Spawned, within: Duration, what: &str, probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            daemon.exited().is_none(),
            "daemon exited: {}",
            daemon.output()
        );
        assert!(
            Instant::now() < deadline,
            "no {what} within {within:?}: {}",
            daemon.output()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn schedule_daemon_runs_due_work_and_serves_metrics_and_health() {
    let db = SourceDb::create(TABLE).await;
    let env = Env::new();
    let specs = env.path().join("daemon");
    std::fs::create_dir_all(&specs).unwrap();
    // Due once a year: never run, so the first pass runs the backup and then the drill.
    write_spec(&env, &db, &specs, "yearly", 20, Some("0 0 1 1 *"));
    // No schedule; drilled by hand before the daemon starts: its success comes from the report.
    write_spec(&env, &db, &specs, "byhand", 20, None);
    let byhand = specs.join("byhand.toml");
    let out = firedrill(&["backup", byhand.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = firedrill(&["drill", byhand.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let listen = format!("127.0.0.1:{port}");
    let mut daemon = Spawned::start(
        &[
            "schedule",
            specs.to_str().unwrap(),
            "--listen",
            &listen,
            "--json",
        ],
        env.path(),
    );

    let health = poll(&mut daemon, Duration::from_secs(20), "/healthz", || async {
        get(&format!("{base}/healthz")).await
    })
    .await;
    assert_eq!(health.0, 200, "{}", health.1);
    let h: Value = serde_json::from_str(&health.1).unwrap();
    assert_eq!(h["status"], "ok", "{h}");

    // Seeded from the report store before any run of the daemon.
    let (status, metrics) = get(&format!("{base}/metrics")).await.unwrap();
    assert_eq!(status, 200);
    assert!(
        metrics.contains("firedrill_drill_last_success_timestamp_seconds{drill=\"byhand\"} "),
        "{metrics}"
    );
    assert!(metrics.contains("# TYPE firedrill_scheduler_started_timestamp_seconds gauge"));

    let metrics = poll(
        &mut daemon,
        Duration::from_secs(120),
        "a passed drill",
        || async {
            get(&format!("{base}/metrics"))
                .await
                .map(|(_, m)| m)
                .filter(|m| m.contains("firedrill_drill_passed{drill=\"yearly\"} 1"))
        },
    )
    .await;
    assert!(
        metrics.contains("firedrill_backup_size_bytes{drill=\"yearly\"} "),
        "{metrics}"
    );
    assert!(
        !metrics.contains("firedrill_backup_size_bytes{drill=\"byhand\"}"),
        "byhand has no schedule: {metrics}"
    );
    let (status, _) = get(&format!("{base}/nothing")).await.unwrap();
    assert_eq!(status, 404);

    sigterm(&daemon.pid());
    let st = daemon.wait(Duration::from_secs(30));
    assert_eq!(st.code(), Some(0), "{}", daemon.output());
    let out = daemon.output();
    let ran: Vec<Value> = out
        .lines()
        .filter(|l| l.starts_with('{') && l.contains("\"operation\""))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let ops: Vec<(&str, &str, u64)> = ran
        .iter()
        .map(|r| {
            (
                r["drill"].as_str().unwrap(),
                r["operation"].as_str().unwrap(),
                r["code"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        ops,
        vec![("yearly", "backup", 0), ("yearly", "drill", 0)],
        "{out}"
    );
    env.assert_no_leftovers();
}

#[tokio::test]
async fn schedule_daemon_refuses_a_busy_listen_address() {
    let env = Env::new();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let out = firedrill(&["schedule", env.path().to_str().unwrap(), "--listen", &addr]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains(&format!("cannot listen on {addr}")),
        "{}",
        text(&out)
    );
    let out = firedrill(&[
        "schedule",
        env.path().to_str().unwrap(),
        "--listen",
        "nowhere",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("`nowhere` is not an address"),
        "{}",
        text(&out)
    );
}

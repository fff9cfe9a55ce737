//! Progress: log lines with bytes, rate and ETA when stderr is not a terminal, bars on a
//! terminal (a real pseudo-terminal from util-linux `script`).

use std::process::Command;

use crate::support::{firedrill_with_env, text, Env, SourceDb};

/// About 40 MB of rows: long enough for several progress ticks.
const ROWS: &str = "create table t(id int primary key, pad text); \
                    insert into t select g, repeat(md5(g::text), 4) from generate_series(1, 250000) g;";

/// Progress as JSON log lines, often.
const LINES: [(&str, &str); 3] = [
    ("FIREDRILL_PROGRESS", "lines"),
    ("FIREDRILL_PROGRESS_INTERVAL", "0.05"),
    ("FIREDRILL_LOG_FORMAT", "json"),
];

#[tokio::test]
async fn progress_lines_report_bytes_rate_and_eta_of_backup_fetch_and_restore() {
    let db = SourceDb::create(ROWS).await;
    let env = Env::new();
    let spec = env.write(&env.spec("progress", &db.url()));
    let spec = spec.to_str().unwrap();
    let vars = LINES;
    let out = firedrill_with_env(&["backup", spec], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lines = progress_lines(&String::from_utf8_lossy(&out.stderr));
    let dump: Vec<_> = lines
        .iter()
        .filter(|l| l["phase"] == "dump+compress+encrypt+store")
        .collect();
    assert!(!dump.is_empty(), "no backup progress: {}", text(&out));
    let last = dump.last().unwrap();
    assert!(last["done"].as_str().unwrap().ends_with("MiB"), "{last}");
    assert!(last["rate"].as_str().unwrap().ends_with("/s"), "{last}");
    // The total is an estimate from the tables' sizes, so an ETA is given.
    assert_ne!(last["total"], "unknown", "{last}");
    assert_ne!(last["eta"], "unknown", "{last}");

    let out = firedrill_with_env(&["drill", spec], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lines = progress_lines(&String::from_utf8_lossy(&out.stderr));
    let restore: Vec<_> = lines.iter().filter(|l| l["phase"] == "restore").collect();
    assert!(!restore.is_empty(), "no restore progress: {}", text(&out));
    for l in &restore {
        assert!(l["total"].as_str().unwrap().ends_with(" items"), "{l}");
    }
    let fetch: Vec<_> = lines
        .iter()
        .filter(|l| l["phase"] == "fetch+decrypt+decompress")
        .collect();
    assert!(!fetch.is_empty(), "no fetch progress: {}", text(&out));
    // The stored size is known from the first line; an ETA once bytes flow (a first tick
    // before the first byte has no rate yet).
    for l in &fetch {
        assert_ne!(l["total"], "unknown", "the stored size is known: {l}");
    }
    assert!(
        fetch
            .iter()
            .any(|l| l["done"] != "0 B" && l["eta"] != "unknown"),
        "no ETA once bytes flowed: {fetch:?}"
    );
}

#[tokio::test]
async fn a_restore_of_table_parts_reports_bytes_rate_and_eta() {
    let db = SourceDb::create(ROWS).await;
    let env = Env::new();
    let spec = env.write(&env.spec("progress", &db.url()).backup("split-size", "1MiB"));
    let spec = spec.to_str().unwrap();
    let vars = LINES;
    let out = firedrill_with_env(&["backup", spec], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = firedrill_with_env(&["drill", spec], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let lines = progress_lines(&String::from_utf8_lossy(&out.stderr));
    let restore: Vec<_> = lines.iter().filter(|l| l["phase"] == "restore").collect();
    assert!(!restore.is_empty(), "no restore progress: {}", text(&out));
    let last = restore.last().unwrap();
    assert!(last["total"].as_str().unwrap().ends_with("MiB"), "{last}");
    assert!(last["rate"].as_str().unwrap().ends_with("/s"), "{last}");
    assert_ne!(last["eta"], "unknown", "{last}");
}

fn progress_lines(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "Progress.")
        .map(|v| v["fields"].clone())
        .collect()
}

#[tokio::test]
async fn a_terminal_gets_progress_bars() {
    let db = SourceDb::create(ROWS).await;
    let env = Env::new();
    let spec = env.write(&env.spec("bars", &db.url()));
    let log = env.path().join("tty.log");
    let bin = env!("CARGO_BIN_EXE_firedrill");
    let run = |cmd: &str| {
        let out = Command::new("script")
            .args(["-qec", &format!("{bin} {cmd} {}", spec.display())])
            .arg(&log)
            .env("FIREDRILL_LOG", "info")
            .env_remove("FIREDRILL_PROGRESS")
            .env_remove("FIREDRILL_LOG_FORMAT")
            .output()
            .expect("`script` (util-linux) runs; install bsdutils");
        assert!(out.status.success(), "{cmd}: {}", text(&out));
        std::fs::read(&log)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap()
    };
    let backup = run("backup");
    assert!(backup.contains("dump ["), "no dump bar:\n{backup}");
    assert!(backup.contains("MiB/s"), "no rate:\n{backup}");
    let drill = run("drill");
    assert!(drill.contains("restore ["), "no restore bar:\n{drill}");
    assert!(drill.contains(" items"), "{drill}");
    assert!(drill.contains("ETA"), "{drill}");
    assert!(drill.contains("PASSED"), "{drill}");
}

//! A DBA's first drill of their own database: `firedrill init --source URL --dir DIR`, then
//! the three commands it prints, run as printed.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use crate::support::{all_text_below, firedrill, firedrill_with_env, text, Env, SourceDb};

const PASSWORD: &str = "Only-In-The-Url-7f3e";

/// Every file below `dir` with its bytes, to show that nothing changed.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if p.is_dir() {
                out.insert(format!("{rel}/"), Vec::new());
                stack.push(p);
            } else {
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// The lines of `init`'s output below `Next:`, and the variable it says to export.
fn printed(stdout: &str) -> (Vec<String>, Option<String>) {
    let commands = stdout
        .lines()
        .skip_while(|l| l.trim() != "Next:")
        .skip(1)
        .map(str::trim)
        .skip_while(|l| l.is_empty())
        .take_while(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    let var = stdout.lines().find_map(|l| {
        l.trim()
            .strip_prefix("export ")
            .and_then(|r| r.split_once('='))
            .map(|(v, _)| v.to_string())
    });
    (commands, var)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_writes_a_spec_whose_printed_commands_check_back_up_and_drill() {
    let db = SourceDb::create(
        "create table customers(id int primary key, name text not null);
         insert into customers select i, 'c' || i from generate_series(1, 300) i;
         create table orders(id bigint primary key, customer int references customers, total numeric);
         insert into orders select i, 1 + i % 300, i * 1.5 from generate_series(1, 2000) i;",
    )
    .await;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("first");
    let url = format!("postgres://postgres:{PASSWORD}@127.0.0.1:5432/{}", db.name);
    let out = firedrill(&["init", "--source", &url, "--dir", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!text(&out).contains(PASSWORD), "{}", text(&out));

    let spec = dir.join(format!("{}.toml", db.name));
    let spec_text = std::fs::read_to_string(&spec).unwrap();
    assert!(!spec_text.contains(PASSWORD), "{spec_text}");
    for key in ["identity-file", "signing-key-file", "reports"] {
        let line = spec_text
            .lines()
            .find(|l| l.starts_with(&format!("{key} = ")))
            .unwrap_or_else(|| panic!("no {key} in {spec_text}"));
        assert!(line.contains(&format!("\"{}/", dir.display())), "{line}");
    }
    assert!(spec_text.contains(&format!("url = \"file://{}/backups/dr\"", dir.display())));
    assert!(spec_text.contains("drills/full.toml"));

    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let (commands, var) = printed(&stdout);
    let var = var.unwrap_or_else(|| panic!("no variable to export in:\n{stdout}"));
    assert!(spec_text.contains(&format!(":${{{var}}}@")), "{spec_text}");
    assert_eq!(commands.len(), 3, "{stdout}");
    for (c, verb) in commands.iter().zip(["check", "backup", "drill"]) {
        assert!(c.contains(&format!(" {verb} ")), "{c}");
        // Run exactly as printed, by a shell, with only the password exported.
        let run = Command::new("sh")
            .args(["-c", c])
            .env(&var, PASSWORD)
            .env("FIREDRILL_LOG", "info")
            .env_remove("FIREDRILL_IDENTITY")
            .output()
            .unwrap();
        assert_eq!(run.status.code(), Some(0), "`{c}`:\n{}", text(&run));
        assert!(!text(&run).contains(PASSWORD), "{}", text(&run));
    }
    let report_dir = dir.join("reports").join(&db.name);
    assert!(
        std::fs::read_dir(&report_dir)
            .unwrap()
            .flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(".json.sig")),
        "the drill's report is signed"
    );
    assert!(!all_text_below(&dir).contains(PASSWORD));

    // A second init into the same folder changes nothing and names what is in the way.
    let before = snapshot(&dir);
    let again = firedrill(&["init", "--source", &url, "--dir", dir.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(
        text(&again).contains(&spec.display().to_string()),
        "{}",
        text(&again)
    );
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn init_with_a_bad_source_leaves_the_folder_empty() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("empty");
    std::fs::create_dir(&dir).unwrap();
    let not_there = root.path().join("not-there");
    for url in [
        format!("mysql://app:{PASSWORD}@127.0.0.1/shop"),
        format!("postgres://app:{PASSWORD}@127.0.0.1:notaport/shop"),
        // Well formed, but nothing listens there.
        format!("postgres://postgres:{PASSWORD}@127.0.0.1:1/shop"),
    ] {
        for d in [&dir, &not_there] {
            let out = firedrill(&["init", "--source", &url, "--dir", d.to_str().unwrap()]);
            assert_eq!(out.status.code(), Some(2), "{url}: {}", text(&out));
            assert!(!text(&out).contains(PASSWORD), "{}", text(&out));
            assert!(text(&out).contains("--source") || text(&out).contains("127.0.0.1"));
        }
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0, "{url}");
        assert!(!not_there.exists(), "{url}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn init_that_fails_half_way_removes_what_it_made() {
    let db = SourceDb::with_rows(10).await;
    let root = tempfile::tempdir().unwrap();
    // A file where the reports folder goes: the folders before it are made, then init fails.
    std::fs::write(root.path().join("reports"), "mine").unwrap();
    let before = snapshot(root.path());
    let out = firedrill(&[
        "init",
        "--source",
        &db.url(),
        "--dir",
        root.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("reports"), "{}", text(&out));
    assert_eq!(snapshot(root.path()), before);
}

/// Runs the binary with stderr into a file and returns what it wrote there.
fn stderr_to_file(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> String {
    let log = dir.join("stderr.log");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_firedrill"));
    cmd.args(args)
        .env("FIREDRILL_LOG", "info")
        .env_remove("NO_COLOR")
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&log).unwrap());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let status = cmd.status().unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    assert_eq!(status.code(), Some(0), "{text}");
    text
}

/// Runs the binary at a terminal (`script` gives it one) and returns what the terminal got.
fn at_a_terminal(args: &[&str], no_color: bool) -> String {
    let line = std::iter::once(env!("CARGO_BIN_EXE_firedrill"))
        .chain(args.iter().copied())
        .map(|a| format!("'{}'", a.replace('\'', "'\\''")))
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &line, "/dev/null"])
        .env("FIREDRILL_LOG", "info")
        .env_remove("NO_COLOR");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd
        .output()
        .expect("`script` (util-linux) runs: apt-get install -y util-linux");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_are_coloured_only_at_a_terminal_without_no_color() {
    let db = SourceDb::with_rows(50).await;
    let env = Env::new();
    let spec = env.write(&env.spec("colour", &db.url()));
    let spec = spec.to_str().unwrap();
    let log = stderr_to_file(env.path(), &["backup", spec], &[]);
    assert!(log.contains("INFO"), "the backup logs: {log}");
    assert!(
        !log.contains("\x1b["),
        "colour codes in a log file: {log:?}"
    );
    // The same command at a terminal is coloured (so the check above can fail), and is not
    // once NO_COLOR is set.
    let tty = at_a_terminal(&["backup", spec, "--progress", "off"], false);
    assert!(tty.contains("\x1b["), "no colour at a terminal: {tty:?}");
    let plain = at_a_terminal(&["backup", spec, "--progress", "off"], true);
    assert!(plain.contains("INFO"), "{plain}");
    assert!(
        !plain.contains("\x1b["),
        "colour despite NO_COLOR: {plain:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_show_readable_times_the_uid_name_and_code_in_html() {
    let db = SourceDb::with_rows(50).await;
    let env = Env::new();
    let spec = env.write(&env.spec("readable", &db.url()));
    let spec = spec.to_str().unwrap();
    assert_eq!(firedrill(&["backup", spec]).status.code(), Some(0));
    // Cron and containers often set neither USER nor LOGNAME.
    let out = firedrill_with_env(&["drill", spec], &[("USER", ""), ("LOGNAME", "")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let dir = env.reports().join("readable");
    let file =
        |ext: &str| std::fs::read_to_string(crate::support::file_with_ext(&dir, ext)).unwrap();
    let (json, md, html) = (file("json"), file("md"), file("html"));
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let uid = nix::unistd::getuid();
    let me = nix::unistd::User::from_uid(uid)
        .unwrap()
        .map(|u| u.name)
        .unwrap_or_else(|| uid.to_string());
    assert_eq!(report["trigger"]["user"], me.as_str());
    assert!(md.contains(&format!("manual by {me}")), "{md}");

    // JSON: full RFC 3339; Markdown and HTML: to the millisecond, with the zone.
    let started = report["started_at"].as_str().unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(started).unwrap();
    let readable = at
        .with_timezone(&chrono::Utc)
        .format("%Y-%m-%d %H:%M:%S%.3f UTC")
        .to_string();
    assert!(md.contains(&format!("- Started: {readable}\n")), "{md}");
    assert!(html.contains(&format!("<td>{readable}</td>")), "{html}");
    assert!(!md.contains(started) && !html.contains(started));
    let snapshot = report["backup"]["snapshot_at"].as_str().unwrap();
    assert!(!md.contains(snapshot) && !html.contains(snapshot));

    // The cleanup cell: Markdown keeps its backticks, HTML shows code, not backticks.
    let cell = html
        .split("Cleanup</th><td>")
        .nth(1)
        .and_then(|r| r.split("</td>").next())
        .unwrap();
    assert!(!cell.contains('`'), "{cell}");
    assert!(cell.contains("<code>"), "{cell}");
    assert!(md.contains("deleted `"), "{md}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_summary_written_into_the_report_folder_is_not_read_as_a_drill_report() {
    let db = SourceDb::with_rows(50).await;
    let env = Env::new();
    env.signed_drills("audited", &db.url(), 1);
    let reports = env.reports();
    let r = reports.to_str().unwrap();
    // Summaries written into the report folder itself and into a folder under it.
    for out in [reports.join("audit-q4"), reports.clone()] {
        let o = firedrill(&["report", r, "--out", out.to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        assert!(out.join("summary.json").exists());
    }

    let o = firedrill(&["report", "verify", r, "--json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["checked"], 1, "{v:#}");
    assert!(!v.to_string().contains("summary"), "{v:#}");

    let o = firedrill(&["report", r, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(!summary.contains("audit-q4"), "{summary}");
    let v: serde_json::Value = serde_json::from_str(&summary).unwrap();
    let integrity: Vec<&serde_json::Value> = v["drills"]
        .as_array()
        .unwrap_or_else(|| panic!("no drills in {v:#}"))
        .iter()
        .map(|d| &d["integrity"])
        .collect();
    assert_eq!(integrity.len(), 1, "{v:#}");
    assert_eq!(integrity[0]["problems"], serde_json::json!([]), "{v:#}");

    // A folder holding only a summary holds no drill reports: exit 2, as documented.
    let o = firedrill(&["report", reports.join("audit-q4").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no drill reports"), "{}", text(&o));
}

#[test]
fn ci_stops_only_the_local_aws_it_started() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let healthy = || {
        Command::new("curl")
            .args(["-fsS", "http://127.0.0.1:4566/_localstack/health"])
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(
        healthy(),
        "LocalStack must answer on 127.0.0.1:4566: start it with `bash localstack/up.sh`"
    );
    // LocalStack and moto run already, started earlier by someone else whose pid files are
    // in the state folder (stand-ins: two processes of this test, never the real services).
    let state = tempfile::tempdir().unwrap();
    let mut earlier: Vec<std::process::Child> = (0..2)
        .map(|_| Command::new("sleep").arg("300").spawn().unwrap())
        .collect();
    std::fs::write(state.path().join("pid"), earlier[0].id().to_string()).unwrap();
    std::fs::write(state.path().join("moto.pid"), earlier[1].id().to_string()).unwrap();
    let started = state.path().join("started");

    // What .ci/run does around the tests.
    let ci = std::fs::read_to_string(root.join(".ci/run")).unwrap();
    assert!(ci.contains("localstack/up.sh --record"), "{ci}");
    assert!(ci.contains("localstack/down.sh --only"), "{ci}");
    let script = |args: &[&str]| {
        let out = Command::new("bash")
            .args(args)
            .current_dir(root)
            .env("FIREDRILL_LOCALSTACK_STATE", state.path())
            .env_remove("FIREDRILL_LOCALSTACK")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", text(&out));
        text(&out)
    };
    script(&["localstack/up.sh", "--record", started.to_str().unwrap()]);
    let down = script(&["localstack/down.sh", "--only", started.to_str().unwrap()]);

    let listed = std::fs::read_to_string(&started).unwrap_or_default();
    let running: Vec<bool> = earlier
        .iter_mut()
        .map(|p| p.try_wait().unwrap().is_none())
        .collect();
    for p in &mut earlier {
        let _ = p.kill();
        let _ = p.wait();
    }
    assert!(listed.trim().is_empty(), "up.sh started nothing: {listed}");
    assert_eq!(
        running,
        [true, true],
        "down.sh stopped a service it did not start:\n{down}"
    );
    assert!(healthy());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rich_fixture_leaves_no_role_behind() {
    let db = SourceDb::create(crate::support::RICH_SQL).await;
    let owner: String = db
        .client()
        .await
        .query_one(
            "select tableowner::text from pg_tables where tablename = 'warehouse_notes'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_ne!(
        owner, "postgres",
        "the fixture owns a table by a role of its own"
    );
    drop(db);
    let admin = crate::support::connect("postgres").await;
    let left: i64 = admin
        .query_one(
            "select count(*) from pg_roles where rolname = $1",
            &[&owner],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(left, 0, "role `{owner}` was left on the server");
}

//! The compliance summary over synthetic drill histories written through the report store
//! (chained like real ones), with a fixed period end so that every number is known.

use chrono::{DateTime, Duration, Utc};
use firedrill::report::summary::{self, SummaryOptions};
use firedrill::report::{
    self, BackupRef, DrillReport, ObjectRef, Rpo, Rto, ScheduleRef, SourceRef, Trigger, Verdict,
};

use crate::support::{firedrill, text};

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn utc(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// Database size at `at`: 1 GiB on `t0`, growing 10 MiB a day; RTO is 60 s per GiB.
fn size_at(t0: DateTime<Utc>, at: DateTime<Utc>) -> f64 {
    GIB + 10.0 * 1024.0 * 1024.0 * (at - t0).num_seconds() as f64 / 86400.0
}

/// One report of drill `drill` started at `at`; `verdict` passed, failed (RPO over target)
/// or error (no measurement).
fn report_at(
    drill: &str,
    t0: DateTime<Utc>,
    at: DateTime<Utc>,
    verdict: Verdict,
    schedule: &str,
) -> DrillReport {
    let size = size_at(t0, at);
    let rto = size / GIB * 60.0;
    let measured = verdict != Verdict::Error;
    let rpo_seconds = if verdict == Verdict::Failed {
        30.0 * 3600.0
    } else {
        2.0 * 3600.0
    };
    let backup_id = format!(
        "{}-abc123",
        (at - Duration::hours(2)).format("%Y%m%dT%H%M%SZ")
    );
    DrillReport {
        format_version: report::FORMAT_VERSION,
        tool_version: "test".into(),
        drill: drill.into(),
        verdict,
        reason: match verdict {
            Verdict::Passed => None,
            Verdict::Failed => Some("RPO 1day 6h exceeds the target".into()),
            _ => Some("destination `dr` (file:///backups) is not reachable".into()),
        },
        started_at: at,
        finished_at: at + Duration::seconds(rto as i64),
        host: "db-drill-1".into(),
        trigger: Trigger {
            kind: "schedule".into(),
            user: "firedrill".into(),
        },
        backup: measured.then(|| BackupRef {
            id: backup_id,
            destination: "dr".into(),
            location: "file:///backups/dr".into(),
            snapshot_at: at - Duration::seconds(rpo_seconds as i64),
            objects: vec![ObjectRef {
                name: "data.dump.zst.age".into(),
                size: 1000,
                sha256: "00".repeat(32),
            }],
            source: SourceRef {
                host: "db.internal".into(),
                database: "orders".into(),
                server_version: "15.6".into(),
                size_bytes: Some(size as u64),
            },
        }),
        scratch: None,
        phases: Vec::new(),
        rto: measured.then(|| Rto {
            seconds: rto,
            target_seconds: Some(300.0),
            pass: Some(rto <= 300.0),
            phases: Vec::new(),
        }),
        rpo: measured.then(|| Rpo {
            recovery_point: at - Duration::seconds(rpo_seconds as i64),
            disaster_at: at,
            seconds: rpo_seconds,
            target_seconds: Some(26.0 * 3600.0),
            pass: Some(rpo_seconds <= 26.0 * 3600.0),
            worst_gap_30d_seconds: Some(86400.0),
            heartbeat: None,
        }),
        checks: Vec::new(),
        cleanup: None,
        lease_takeover: None,
        negative_controls: None,
        cost: None,
        runbook: None,
        previous_sha256: None,
        schedule: Some(ScheduleRef {
            cron: schedule.into(),
            timezone: "UTC".into(),
        }),
    }
}

async fn write(dir: &std::path::Path, reports: Vec<DrillReport>) {
    for r in reports {
        report::store(&r, dir, None, &[], None).await.unwrap();
    }
}

/// The 180-day history: a daily drill at 04:30 UTC.
struct History {
    t0: DateTime<Utc>,
    until: DateTime<Utc>,
    reports: Vec<DrillReport>,
}

const MISSING: [i64; 4] = [10, 11, 50, 120];
const FAILING: [i64; 3] = [30, 90, 150];
const ERROR_DAY: i64 = 60;
const LATE_DAY: i64 = 140;

fn history_180() -> History {
    let t0 = utc("2026-01-02T04:30:20Z");
    let until = utc("2026-06-30T12:00:00Z");
    let mut reports = Vec::new();
    // Three days before the period: not counted as run, but history for the forecast.
    for k in -3..0 {
        reports.push(report_at(
            "orders",
            t0,
            t0 + Duration::days(k),
            Verdict::Passed,
            "30 4 * * *",
        ));
    }
    for k in 0..180 {
        if MISSING.contains(&k) || k == LATE_DAY {
            continue;
        }
        let verdict = if FAILING.contains(&k) {
            Verdict::Failed
        } else if k == ERROR_DAY {
            Verdict::Error
        } else {
            Verdict::Passed
        };
        reports.push(report_at(
            "orders",
            t0,
            t0 + Duration::days(k),
            verdict,
            "30 4 * * *",
        ));
    }
    // Day 140's drill ran late, 15 minutes after day 141's slot (inside the 1 h grace);
    // a manual drill on day 100 in the afternoon covers no extra slot.
    reports.push(report_at(
        "orders",
        t0,
        t0 + Duration::days(LATE_DAY + 1) + Duration::minutes(15),
        Verdict::Passed,
        "30 4 * * *",
    ));
    reports.push(report_at(
        "orders",
        t0,
        t0 + Duration::days(100) + Duration::hours(10),
        Verdict::Passed,
        "30 4 * * *",
    ));
    reports.sort_by_key(|r| r.started_at);
    History { t0, until, reports }
}

/// Writes the 180-day history into a new folder and runs `report --out` over it.
async fn summarize_180() -> (tempfile::TempDir, std::path::PathBuf, std::process::Output) {
    let dir = tempfile::tempdir().unwrap();
    let h = history_180();
    write(dir.path(), h.reports).await;
    let out_dir = dir.path().join("out");
    let out = firedrill(&[
        "report",
        dir.path().to_str().unwrap(),
        "--since",
        "180d",
        "--until",
        &h.until.to_rfc3339(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    (dir, out_dir, out)
}

/// 180 days of a daily schedule with missing slots, a late drill, an extra manual drill,
/// failures and an error: the CLI counts every class exactly, writes all four files, and the
/// forecast finds the day the RTO target is crossed.
#[tokio::test]
async fn summary_of_180_days_counts_scheduled_run_passed_failed_and_missed() {
    let (dir, out_dir, out) = summarize_180().await;
    let h = history_180();
    for f in ["summary.html", "summary.md", "summary.json", "summary.csv"] {
        assert!(out_dir.join(f).is_file(), "{f} written: {}", text(&out));
    }
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out_dir.join("summary.json")).unwrap()).unwrap();
    let d = &v["drills"][0];
    assert_eq!(d["drill"], "orders");
    assert_eq!(d["schedule"]["source"], "report");
    let c = &d["counts"];
    // Slots: 2026-01-02 .. 2026-06-30 at 04:30 = 180.
    assert_eq!(c["scheduled"], 180, "{c}");
    assert_eq!(c["missed"], MISSING.len(), "{c}");
    assert_eq!(c["on_schedule"], 180 - MISSING.len(), "{c}");
    assert_eq!(c["pending"], 0, "{c}");
    // Run: 180 days - 4 missing - day 140 on time + the late one + the manual one.
    let run = 180 - MISSING.len() - 1 + 1 + 1;
    assert_eq!(c["run"], run, "{c}");
    assert_eq!(c["failed"], FAILING.len(), "{c}");
    assert_eq!(c["error"], 1, "{c}");
    assert_eq!(c["passed"], run - FAILING.len() - 1, "{c}");
    let missed: Vec<String> = d["missed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap()[..10].to_string())
        .collect();
    let expected: Vec<String> = MISSING
        .iter()
        .map(|k| (h.t0 + Duration::days(*k)).format("%Y-%m-%d").to_string())
        .collect();
    assert_eq!(missed, expected);
    assert_eq!(d["failures"].as_array().unwrap().len(), FAILING.len() + 1);
    assert_eq!(d["rpo"]["over_target"], FAILING.len());
    assert_eq!(d["newest_verified"][0]["database"], "orders");

    // RTO: 60 s per GiB, 1 GiB growing 10 MiB a day: 300 s at 5 GiB, 409.6 days after t0.
    let f = &d["forecast"];
    assert_eq!(f["status"], "exceeds", "{f}");
    let date: DateTime<Utc> = f["date"].as_str().unwrap().parse().unwrap();
    let crossing = h.t0 + Duration::seconds((409.6 * 86400.0) as i64);
    assert!(
        (date - crossing).num_seconds().abs() < 120,
        "{date} vs {crossing}"
    );
    assert!((f["seconds_per_gib"].as_f64().unwrap() - 60.0).abs() < 0.01);

    // CSV: a header and one row per drill, the same columns.
    let csv = std::fs::read_to_string(out_dir.join("summary.csv")).unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2, "{csv}");
    assert_eq!(rows[0], summary::CSV_COLUMNS);
    assert_eq!(rows[1].len(), rows[0].len(), "{csv}");
    let col = |name: &str| rows[1][rows[0].iter().position(|c| *c == name).unwrap()];
    assert_eq!(col("scheduled"), "180");
    assert_eq!(col("missed"), MISSING.len().to_string());
    assert_eq!(col("forecast_status"), "exceeds");

    // The same period with --format prints one format on stdout.
    let md = firedrill(&[
        "report",
        dir.path().to_str().unwrap(),
        "--since",
        "2026-01-01T12:00:00Z",
        "--until",
        &h.until.to_rfc3339(),
    ]);
    assert_eq!(md.status.code(), Some(0), "{}", text(&md));
    assert!(
        String::from_utf8_lossy(&md.stdout).contains("| 180 | 176 | 4 | 0 |"),
        "{}",
        text(&md)
    );
}

/// A small fixed history: the JSON and Markdown match the committed files
/// (`UPDATE_SNAPSHOTS=1` rewrites them after a deliberate change).
#[tokio::test]
async fn summary_json_and_markdown_match_snapshots() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = utc("2026-03-01T04:30:20Z");
    let mut reports = Vec::new();
    for k in 0..14 {
        if k == 5 || k == 6 {
            continue;
        }
        let v = match k {
            9 => Verdict::Failed,
            12 => Verdict::Error,
            _ => Verdict::Passed,
        };
        reports.push(report_at(
            "billing",
            t0,
            t0 + Duration::days(k),
            v,
            "30 4 * * *",
        ));
    }
    write(dir.path(), reports).await;
    let histories = summary::load_folder(dir.path(), None).unwrap();
    let until = utc("2026-03-14T12:00:00Z");
    let s = summary::summarize(
        &histories,
        &SummaryOptions {
            since: summary::parse_since("14d", until).unwrap(),
            until,
            grace: Duration::hours(1),
            horizon_days: 365,
        },
    );
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/summary");
    let version = firedrill::VERSION;
    for (file, got) in [
        ("summary.json", summary::render_json(&s)),
        ("summary.md", summary::render_markdown(&s)),
    ] {
        let got = got.replace(version, "<version>");
        let path = fixtures.join(file);
        if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
            std::fs::create_dir_all(&fixtures).unwrap();
            std::fs::write(&path, &got).unwrap();
        }
        let want = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (UPDATE_SNAPSHOTS=1 writes it)", path.display()));
        assert_eq!(
            got,
            want,
            "{} changed; after a deliberate change rerun with UPDATE_SNAPSHOTS=1",
            path.display()
        );
    }
    // The numbers behind the snapshot, stated outright.
    let c = &s.drills[0].counts;
    assert_eq!(
        (
            c.scheduled,
            c.missed,
            c.pending,
            c.run,
            c.passed,
            c.failed,
            c.error
        ),
        (Some(14), Some(2), Some(0), 12, 10, 1, 1)
    );
}

/// The HTML summary in headless Chromium: the control table and the SVG charts are in the
/// DOM, and a screenshot renders.
#[tokio::test]
async fn summary_html_renders_in_a_browser() {
    let (dir, out_dir, _out) = summarize_180().await;
    let html = out_dir.join("summary.html");
    let dom = crate::browser::dom_of(&html);
    assert!(dom.contains("<table id=\"controls\">"), "{dom}");
    assert_eq!(dom.matches("<tr class=\"control\">").count(), 5, "{dom}");
    for id in [
        "A1.3",
        "A.8.13",
        "12.10.2",
        "164.308(a)(7)(ii)(A)",
        "164.308(a)(7)(ii)(D)",
    ] {
        assert!(dom.contains(id), "control {id}: {dom}");
    }
    assert_eq!(
        dom.matches("<svg class=\"trend\"").count(),
        2,
        "RTO and RPO: {dom}"
    );
    assert!(dom.contains("class=\"target\""), "{dom}");
    assert_eq!(
        dom.matches("class=\"point over\"").count(),
        FAILING.len(),
        "RPO over target drawn as crosses: {dom}"
    );
    assert!(
        dom.contains("projected to be exceeded on 2027-02-"),
        "{dom}"
    );

    let shot = dir.path().join("summary.png");
    crate::browser::screenshot(&html, &shot, 1600);
}

/// Bad input exits 2 and says what to fix.
#[test]
fn summary_bad_input_exits_2_with_a_clear_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_str().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["report", path, "--since", "ninety days"],
            "`--since ninety days` is neither a duration nor a date",
        ),
        (&["report", path], "no drill reports in"),
        (
            &["report", "/nonexistent/reports"],
            "report folder `/nonexistent/reports` does not exist",
        ),
        (
            &["report", path, "--until", "soon"],
            "`--until soon` is not a time",
        ),
    ];
    for (args, message) in cases {
        let out = firedrill(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(text(&out).contains(message), "{args:?}: {}", text(&out));
        assert!(text(&out).contains("fix:"), "{args:?}: {}", text(&out));
    }
    // And `--format json` reports the error as JSON too.
    let out = firedrill(&["report", path, "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "spec");
}

/// One passed drill of `orders` an hour before `until`, its report written into `dir`; its
/// start.
async fn one_report_an_hour_before(dir: &std::path::Path, until: DateTime<Utc>) -> DateTime<Utc> {
    let first = until - Duration::hours(1);
    let r = report_at("orders", first, first, Verdict::Passed, "30 4 * * *");
    write(dir, vec![r]).await;
    first
}

/// `firedrill report PATH` over the 90 days up to `until`, written to `out`; its first drill.
fn first_drill_summary(
    path: &std::path::Path,
    until: DateTime<Utc>,
    out: &std::path::Path,
) -> serde_json::Value {
    let run = firedrill(&[
        "report",
        path.to_str().unwrap(),
        "--since",
        "90d",
        "--until",
        &until.to_rfc3339(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    v["drills"][0].clone()
}

/// A spec whose first drill ran an hour ago is not charged with the 90 days of slots before
/// it: monitoring began with its first report, and the summary says when.
#[tokio::test]
async fn slots_before_the_first_drill_are_not_missed() {
    let dir = tempfile::tempdir().unwrap();
    let until = utc("2026-06-30T12:00:00Z");
    let first = one_report_an_hour_before(dir.path(), until).await;
    let d = first_drill_summary(dir.path(), until, &dir.path().join("out"));
    assert_eq!(d["counts"]["missed"], 0, "{d}");
    assert_eq!(d["counts"]["scheduled"], 0, "{d}");
    assert_eq!(d["counts"]["run"], 1, "{d}");
    assert_eq!(
        d["monitored_since"]
            .as_str()
            .map(|s| s.parse::<DateTime<Utc>>().unwrap()),
        Some(first)
    );
}

/// `drill.monitored-since` in the spec says when monitoring began: the daily slots from that
/// date on count (missed when no drill ran), those before it do not, and the summary says it.
#[tokio::test]
async fn the_spec_monitored_since_date_starts_the_count() {
    let env = crate::support::Env::new();
    let until = utc("2026-06-30T12:00:00Z");
    one_report_an_hour_before(&env.reports(), until).await;
    let spec = env.write(
        &env.spec("orders", "postgres://127.0.0.1/orders")
            .drill("schedule", "30 4 * * *")
            .drill("monitored-since", "2026-06-27"),
    );
    let d = first_drill_summary(&spec, until, &env.path().join("out"));
    // Slots on 06-27, 06-28, 06-29 and 06-30 at 04:30 UTC; the drill at 11:00 on 06-30 is
    // that day's (within the grace), the three before are missed.
    assert_eq!(d["counts"]["scheduled"], 4, "{d}");
    assert_eq!(d["counts"]["on_schedule"], 1, "{d}");
    assert_eq!(
        d["missed"],
        serde_json::json!([
            "2026-06-27T04:30:00Z",
            "2026-06-28T04:30:00Z",
            "2026-06-29T04:30:00Z"
        ]),
        "{d}"
    );
    assert_eq!(
        d["monitored_since"]
            .as_str()
            .map(|s| s.parse::<DateTime<Utc>>().unwrap()),
        Some(utc("2026-06-27T00:00:00Z"))
    );
}

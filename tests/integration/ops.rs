//! Operations: the Prometheus textfile after passing and failing runs.

use crate::support::{firedrill, run_rows, text, Env, SourceDb};

/// Every sample line is `name{labels} value`, every metric has HELP and TYPE lines.
fn parse_prometheus(text: &str) -> std::collections::BTreeMap<String, f64> {
    let mut samples = std::collections::BTreeMap::new();
    let mut typed = std::collections::BTreeSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE name kind");
            assert_eq!(kind, "gauge");
            typed.insert(name.to_string());
            continue;
        }
        if line.starts_with("# HELP ") {
            continue;
        }
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line `{line}`"));
        let name = series.split('{').next().unwrap();
        assert!(
            name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{line}"
        );
        assert!(
            series.ends_with("\"}") && series.contains("{drill=\""),
            "{line}"
        );
        assert!(typed.contains(name), "no TYPE before {line}");
        samples.insert(
            series.to_string(),
            value.parse::<f64>().unwrap_or_else(|_| panic!("{line}")),
        );
    }
    samples
}

/// A textfile in a folder that does not exist (a path copied from an example) creates no
/// folder: the run keeps its exit code and says how to fix the path.
#[tokio::test]
async fn a_metrics_folder_that_does_not_exist_is_not_created() {
    let db = SourceDb::with_rows(5).await;
    let env = Env::new();
    let missing = env.path().join("var/lib/node_exporter");
    let spec = env.write(&env.spec("nofolder", &db.url()).set(
        "metrics",
        "textfile",
        missing.join("firedrill.prom").display().to_string(),
    ));
    let out = firedrill(&["backup", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!env.path().join("var").exists(), "no folder created");
    assert!(
        text(&out).contains("node_exporter` of metrics file"),
        "{}",
        text(&out)
    );
    // `check` says so before any run.
    let out = firedrill(&["check", spec.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("of metrics.textfile does not exist"),
        "{}",
        text(&out)
    );
    assert!(!env.path().join("var").exists(), "no folder created");
}

#[tokio::test]
async fn metrics_textfile_tracks_passing_and_failing_runs() {
    let db = SourceDb::with_rows(50).await;
    let env = Env::new();
    let prom = env.path().join("metrics/firedrill.prom");
    std::fs::create_dir(env.path().join("metrics")).unwrap();
    let spec = env.write(
        &env.spec("metrics", &db.url())
            .rto("10m")
            .rpo("1h")
            .sql_check("rows", "select count(*) from t", "== 50")
            .set("metrics", "textfile", prom.display().to_string()),
    );
    let spec = spec.to_str().unwrap();

    let out = firedrill(&["backup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = firedrill(&["drill", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let after_pass = parse_prometheus(&std::fs::read_to_string(&prom).unwrap());
    let s = |m: &str| format!("{m}{{drill=\"metrics\"}}");
    assert_eq!(after_pass[&s("firedrill_drill_passed")], 1.0);
    assert_eq!(after_pass[&s("firedrill_drill_check_failures")], 0.0);
    assert_eq!(after_pass[&s("firedrill_drill_rto_target_seconds")], 600.0);
    assert_eq!(after_pass[&s("firedrill_drill_rpo_target_seconds")], 3600.0);
    assert!(after_pass[&s("firedrill_drill_rto_seconds")] > 0.0);
    assert!(after_pass[&s("firedrill_backup_size_bytes")] > 0.0);
    let success = after_pass[&s("firedrill_drill_last_success_timestamp_seconds")];
    assert!(success > 1.7e9);

    let out = firedrill(&["drill", spec, "--set", "check.rows.expect=== 51"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let after_fail = parse_prometheus(&std::fs::read_to_string(&prom).unwrap());
    assert_eq!(after_fail[&s("firedrill_drill_passed")], 0.0);
    assert_eq!(after_fail[&s("firedrill_drill_check_failures")], 1.0);
    assert_eq!(
        after_fail[&s("firedrill_drill_last_success_timestamp_seconds")],
        success,
        "a failure keeps the last success"
    );
    assert!(after_fail[&s("firedrill_drill_last_attempt_timestamp_seconds")] > success);

    // A backup that cannot run moves the attempt time only.
    let out = firedrill(&["backup", spec, "--set", "tools.bin-dir=/nonexistent"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let after_bad_backup = parse_prometheus(&std::fs::read_to_string(&prom).unwrap());
    assert!(
        after_bad_backup[&s("firedrill_backup_last_attempt_timestamp_seconds")]
            > after_bad_backup[&s("firedrill_backup_last_success_timestamp_seconds")]
    );
    assert_eq!(
        after_bad_backup[&s("firedrill_backup_size_bytes")],
        after_fail[&s("firedrill_backup_size_bytes")]
    );
}

/// The HTML report opened in headless Chromium: the DOM has the verdict, a row per check and
/// the timeline chart, and a screenshot renders.
#[tokio::test]
async fn html_report_renders_in_a_browser() {
    let db = SourceDb::with_rows(50).await;
    let env = Env::new();
    let spec = env.write(
        &env.spec("html", &db.url())
            .rto("10m")
            .sql_check("rows <ok>", "select count(*) from t", "== 50")
            .sql_check("impossible", "select count(*) from t", "> 1000"),
    );
    let spec = spec.to_str().unwrap();
    assert_eq!(firedrill(&["backup", spec]).status.code(), Some(0));
    let out = firedrill(&["drill", spec, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let html = std::path::PathBuf::from(v["report_files"]["html"].as_str().unwrap());
    let dom = crate::browser::dom_of(&html);
    assert!(dom.contains("Verdict: FAILED"), "{dom}");
    assert_eq!(dom.matches("<tr class=\"check\">").count(), 2, "{dom}");
    assert!(dom.contains("rows &lt;ok&gt;"), "names are escaped: {dom}");
    assert!(
        dom.contains("<svg") && dom.contains("class=\"phase\"") && dom.contains("class=\"target\""),
        "{dom}"
    );

    let shot = env.path().join("report.png");
    crate::browser::screenshot(&html, &shot, 1400);
}

#[tokio::test]
async fn run_due_runs_what_is_due_once_and_reports_broken_specs() {
    let db = SourceDb::with_rows(20).await;
    let env = Env::new();
    let specs = env.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    // Due once a year: the first pass runs both, the next pass nothing.
    env.spec("sched", &db.url())
        .top("timezone", "Europe/Berlin")
        .schedule("0 0 1 1 *")
        .sql_check("rows", "select count(*) from t", "== 20")
        .write(&specs);
    std::fs::write(specs.join("broken.toml"), "[backup]\ncompression = 5\n").unwrap();
    let dir = specs.to_str().unwrap();

    let out = firedrill(&["run-due", dir, "--json"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "the broken spec makes the pass exit 2: {}",
        text(&out)
    );
    assert_eq!(
        run_rows(&out),
        vec![
            ("".into(), "spec".into(), 2),
            ("sched".into(), "backup".into(), 0),
            ("sched".into(), "drill".into(), 0)
        ],
        "{}",
        text(&out)
    );

    std::fs::remove_file(specs.join("broken.toml")).unwrap();
    let out = firedrill(&["run-due", dir, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(runs, serde_json::json!([]), "nothing is due twice");
    let report = std::fs::read_dir(env.reports().join("sched"))
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))
        .unwrap();
    let v: serde_json::Value =
        serde_json::from_slice(&std::fs::read(report.path()).unwrap()).unwrap();
    assert_eq!(v["trigger"]["kind"], "schedule");
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[tokio::test]
async fn signed_chained_reports_reveal_edits_removals_and_other_keys() {
    let db = SourceDb::with_rows(10).await;
    let env = Env::new();
    env.signed_drills("audit", &db.url(), 3);
    let folder = env.reports().join("audit");
    let verify =
        |dir: &std::path::Path| firedrill(&["report", "verify", dir.to_str().unwrap(), "--json"]);
    let out = verify(&env.reports());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["checked"], 3);
    let reports = firedrill::report::evidence::reports(&folder);
    assert_eq!(reports.len(), 3);

    // One byte edited in the middle report.
    let edited = env.path().join("edited");
    copy_dir(&folder, &edited);
    let middle = edited.join(reports[1].file_name().unwrap());
    let mut bytes = std::fs::read(&middle).unwrap();
    let at = bytes.iter().position(|&b| b == b'7').unwrap_or(10);
    bytes[at] = if bytes[at] == b'7' { b'8' } else { b'7' };
    std::fs::write(&middle, bytes).unwrap();
    let out = verify(&edited);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let found = text(&out);
    assert!(
        found.contains(
            &reports[1]
                .file_name()
                .unwrap()
                .to_string_lossy()
                .to_string()
        ) && found.contains("signature does not match"),
        "{found}"
    );

    // The middle report removed.
    let removed = env.path().join("removed");
    copy_dir(&folder, &removed);
    std::fs::remove_file(removed.join(reports[1].file_name().unwrap())).unwrap();
    let out = verify(&removed);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("removed or edited"), "{}", text(&out));

    // A report re-signed with another key.
    let other = env.path().join("other.key");
    firedrill::report::evidence::write_new_key(&other).unwrap();
    let forged = env.path().join("forged");
    copy_dir(&folder, &forged);
    let last = forged.join(reports[2].file_name().unwrap());
    let bytes = std::fs::read(&last).unwrap();
    let sig_file = format!("{}.sig", last.display());
    std::fs::remove_file(&sig_file).unwrap();
    std::fs::remove_file(forged.join("signing-key.pub")).unwrap();
    let other_key = firedrill::report::evidence::load_key(&other).unwrap();
    firedrill::report::evidence::sign(&last, &bytes, &other_key).unwrap();
    std::fs::copy(
        folder.join("signing-key.pub"),
        forged.join("signing-key.pub"),
    )
    .unwrap();
    let out = verify(&forged);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("signed with another key"),
        "{}",
        text(&out)
    );
}

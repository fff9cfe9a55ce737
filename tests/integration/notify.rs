//! Notifications: webhooks (JSON and Slack bodies, on failure or always, retries) and the
//! Pushgateway, against a real HTTP receiver on loopback.

use crate::receiver::Receiver;
use crate::support::{firedrill_with_env, text, Env, SourceDb};

const TABLE: &str =
    "create table t(id int primary key); insert into t select generate_series(1, 50);";

fn spec_with(env: &Env, db: &SourceDb, name: &str, extra: &str) -> String {
    let path = env.write(
        &env.spec(name, &db.url())
            .rto("10m")
            .rpo("1h")
            .sql_check("rows", "select count(*) from t", "== 50")
            .raw(extra),
    );
    path.to_str().unwrap().to_string()
}

#[tokio::test]
async fn failure_webhook_gets_the_documented_event_only_on_failure() {
    let db = SourceDb::create(TABLE).await;
    let env = Env::new();
    let hook = Receiver::start(&[]);
    // A token in the path, as Slack and Teams URLs carry one: it must never be echoed.
    let url = format!("{}/hooks/T000/SECRET-TOKEN-123", hook.url);
    let spec = spec_with(
        &env,
        &db,
        "hooked",
        "[[notify.webhook]]\nurl-env = \"TEST_HOOK_URL\"\n",
    );
    let vars = [("TEST_HOOK_URL", url.as_str())];

    let out = firedrill_with_env(&["backup", &spec], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = firedrill_with_env(&["drill", &spec], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        hook.requests().is_empty(),
        "on = failure (the default) stays quiet after a success: {:?}",
        hook.requests()
    );

    let out = firedrill_with_env(&["drill", &spec, "--set", "check.rows.expect=== 51"], &vars);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let reqs = hook.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let r = &reqs[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, "/hooks/T000/SECRET-TOKEN-123");
    assert_eq!(r.content_type, "application/json");
    let e = r.json();
    assert_eq!(e["version"], 1);
    assert_eq!(e["event"], "drill.failed");
    assert_eq!(e["operation"], "drill");
    assert_eq!(e["status"], "failed");
    assert_eq!(e["ok"], false);
    assert_eq!(e["exit_code"], 1);
    assert_eq!(e["drill"], "hooked");
    assert_eq!(e["trigger"], "manual");
    assert_eq!(e["failed_checks"], serde_json::json!(["rows"]));
    assert_eq!(e["rto_target_seconds"], 600.0);
    assert!(e["rto_seconds"].as_f64().unwrap() > 0.0);
    assert!(e["backup_id"].as_str().unwrap().len() > 10);
    let report = e["report"].as_str().expect("report path");
    assert!(std::path::Path::new(report).exists(), "{report}");
    assert!(e["summary"].as_str().unwrap().contains("failed"), "{e}");
    for key in [
        "started_at",
        "finished_at",
        "host",
        "reason",
        "rpo_seconds",
        "rpo_target_seconds",
    ] {
        assert!(e.get(key).is_some(), "{key} missing: {e}");
    }

    // A drill that cannot start is a failure too, with exit code 2.
    let out = firedrill_with_env(
        &["drill", &spec, "--set", "tools.bin-dir=/nonexistent"],
        &vars,
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let reqs = hook.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    let e = reqs[1].json();
    assert_eq!(e["event"], "drill.error");
    assert_eq!(e["exit_code"], 2);
    assert!(e["reason"].as_str().unwrap().contains("nonexistent"), "{e}");

    for r in hook.requests() {
        assert!(!r.text().contains("SECRET-TOKEN"), "{}", r.text());
    }
    assert!(!text(&out).contains("SECRET-TOKEN"));
}

#[tokio::test]
async fn slack_webhook_on_every_run_is_retried_after_a_server_error() {
    let db = SourceDb::create(TABLE).await;
    let env = Env::new();
    // The first answer is a 503: the event is sent again.
    let hook = Receiver::start(&[503]);
    let spec = spec_with(
        &env,
        &db,
        "slacked",
        "[[notify.webhook]]\nurl-env = \"TEST_SLACK_URL\"\non = \"always\"\nformat = \"slack\"\n",
    );
    let vars = [("TEST_SLACK_URL", hook.url.as_str())];
    let out = firedrill_with_env(&["backup", &spec], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let reqs = hook.requests();
    assert_eq!(reqs.len(), 2, "one 503, one retry: {reqs:?}");
    assert_eq!(reqs[0].body, reqs[1].body);
    let m = reqs[1].json();
    let headline = m["text"].as_str().expect("Slack `text`");
    assert!(
        headline.contains("Backup") && headline.contains("slacked"),
        "{m}"
    );
    let blocks = m["blocks"].as_array().expect("Slack `blocks`");
    assert_eq!(blocks[0]["type"], "section");
    assert!(blocks.iter().any(|b| b["type"] == "context"), "{m}");
}

#[tokio::test]
async fn unreachable_webhook_is_logged_and_does_not_change_the_verdict() {
    let db = SourceDb::create(TABLE).await;
    let env = Env::new();
    // A port nothing listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook/TOKEN-XYZ", closed.local_addr().unwrap());
    drop(closed);
    let spec = spec_with(
        &env,
        &db,
        "lonely",
        "[[notify.webhook]]\nurl-env = \"TEST_HOOK_URL\"\non = \"always\"\n",
    );
    let out = firedrill_with_env(&["backup", &spec], &[("TEST_HOOK_URL", url.as_str())]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let all = text(&out);
    assert!(
        all.contains("webhook from $TEST_HOOK_URL unreachable"),
        "{all}"
    );
    assert!(!all.contains("TOKEN-XYZ"), "the URL is never logged: {all}");
}

#[tokio::test]
async fn webhook_urls_stay_out_of_specs_and_must_be_set() {
    let db = SourceDb::create(TABLE).await;
    let env = Env::new();
    let spec = spec_with(
        &env,
        &db,
        "badhook",
        "[[notify.webhook]]\nurl = \"https://hooks.example.com/T/SECRET\"\nformat = \"teams\"\non = \"sometimes\"\n[[notify.webhook]]\nurl-env = \"TEST_UNSET_HOOK\"\n[metrics]\npushgateway = \"ftp://gw\"\n",
    );
    let out = firedrill_with_env(&["backup", &spec], &[("TEST_UNSET_HOOK", "")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    for needle in [
        "notify.webhook[0].url: a webhook URL is a secret",
        "url-env = \"FIREDRILL_WEBHOOK_URL\"",
        "notify.webhook[0].format: `teams` is not a webhook format",
        "notify.webhook[0].on: `sometimes` is not a notification condition",
        "notify.webhook[1].url-env: environment variable `TEST_UNSET_HOOK` is not set",
        "metrics.pushgateway: `ftp://gw",
    ] {
        assert!(all.contains(needle), "missing `{needle}` in:\n{all}");
    }
    assert!(!all.contains("SECRET"), "the URL is not echoed: {all}");
    assert!(
        env.files_in("primary").is_empty(),
        "nothing written: {:?}",
        env.files_in("primary")
    );
}

/// Every sample line of a push parses as `name{drill="..."} value`.
fn pushed_samples(body: &str) -> std::collections::BTreeMap<String, f64> {
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, v) = l.rsplit_once(' ').unwrap_or_else(|| panic!("{l}"));
            (series.to_string(), v.parse::<f64>().unwrap())
        })
        .collect()
}

#[tokio::test]
async fn runs_push_their_series_to_the_pushgateway() {
    let db = SourceDb::create(TABLE).await;
    let env = Env::new();
    let gw = Receiver::start(&[]);
    let spec = spec_with(
        &env,
        &db,
        "pushed",
        &format!("[metrics]\npushgateway = \"{}/gw\"\n", gw.url),
    );
    let out = firedrill_with_env(&["backup", &spec], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = firedrill_with_env(&["drill", &spec, "--set", "check.rows.expect=== 7"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let reqs = gw.requests();
    assert_eq!(reqs.len(), 2, "{reqs:?}");
    for r in &reqs {
        assert_eq!(r.method, "POST", "POST keeps the group's other metrics");
        assert_eq!(r.path, "/gw/metrics/job/firedrill/drill/pushed");
        assert!(
            r.content_type.starts_with("text/plain"),
            "{}",
            r.content_type
        );
    }
    let backup = pushed_samples(&reqs[0].text());
    assert!(backup["firedrill_backup_size_bytes{drill=\"pushed\"}"] > 0.0);
    assert!(reqs[0]
        .text()
        .contains("# TYPE firedrill_backup_size_bytes gauge"));
    let drill = pushed_samples(&reqs[1].text());
    assert_eq!(drill["firedrill_drill_passed{drill=\"pushed\"}"], 0.0);
    assert_eq!(
        drill["firedrill_drill_check_failures{drill=\"pushed\"}"],
        1.0
    );
    assert!(
        !drill.contains_key("firedrill_drill_last_success_timestamp_seconds{drill=\"pushed\"}"),
        "a failed drill does not push a success time"
    );
}

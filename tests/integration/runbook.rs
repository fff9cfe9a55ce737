//! The restore runbook: after a drill, the script `firedrill runbook SPEC --script` prints,
//! run by bash with only plain tools on PATH (no firedrill), restores the backup into an empty
//! database exactly, for a set without parts and one with table parts; a damaged object stops
//! it at the checksum step before anything is restored; it holds no secret; a backup no
//! drill passed has no runbook (exit 1).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::roundtrip::content_digest;
use crate::support::{self, firedrill, firedrill_with_env, text, Env, SourceDb, PG};

/// What the script may run besides bash's builtins: coreutils it uses, then the tools.
const COREUTILS: [&str; 4] = ["mktemp", "cp", "rm", "sha256sum"];
const TOOLS: [&str; 2] = ["age", "zstd"];

/// Secrets the spec below reads from the environment.
const PASSWORD: &str = "pw-RUNBOOK-never-written";
const HOOK: &str = "http://127.0.0.1:9/hook/TOKEN-RUNBOOK-never-written";

/// `name` on this process's PATH.
fn on_path(name: &str) -> PathBuf {
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "`{name}` is not installed: apt-get install -y age zstd coreutils (or run .ci/run)"
            )
        })
}

/// A folder holding only symlinks to the programs the script may use (`extra`: more, by
/// path), for its PATH.
fn tool_folder(dir: &Path, extra: &[PathBuf]) -> PathBuf {
    let bin = dir.join("runbook-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let pg = firedrill::pg::PgTools::default();
    let mut paths: Vec<PathBuf> = COREUTILS.iter().chain(&TOOLS).map(|n| on_path(n)).collect();
    for name in ["pg_restore", "psql"] {
        paths.push(pg.find(name, 0, "for the runbook test").unwrap().path);
    }
    paths.extend(extra.iter().cloned());
    for p in paths {
        std::os::unix::fs::symlink(&p, bin.join(p.file_name().unwrap())).unwrap();
    }
    bin
}

/// Runs `script` with bash, nothing in its environment but PATH = `bin`, TARGET_URL and
/// `vars`.
fn run_script(script: &str, bin: &Path, target_url: &str, vars: &[(&str, &str)]) -> Output {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("restore.sh");
    std::fs::write(&path, script).unwrap();
    Command::new("/bin/bash")
        .arg(&path)
        .env_clear()
        .env("PATH", bin)
        .env("TARGET_URL", target_url)
        .envs(vars.iter().copied())
        .output()
        .unwrap()
}

/// The relations in the user schemas of `db`: none in an untouched database.
async fn relations(db: &SourceDb) -> i64 {
    db.client()
        .await
        .query_one(
            "select count(*) from pg_class c join pg_namespace n on n.oid = c.relnamespace \
             where n.nspname not in ('pg_catalog', 'information_schema') \
             and n.nspname !~ '^pg_toast'",
            &[],
        )
        .await
        .unwrap()
        .get(0)
}

/// `firedrill runbook` with the spec's secrets in the environment.
fn runbook(spec: &Path, args: &[&str]) -> Output {
    let mut all = vec!["runbook", spec.to_str().unwrap()];
    all.extend(args);
    firedrill_with_env(&all, &[("RB_PASSWORD", PASSWORD), ("RB_HOOK", HOOK)])
}

/// Backs up and drills `spec` through the binary (the drill must pass); returns the backup id.
fn backup_and_drill(spec: &Path) -> String {
    backup_and_drill_with(spec, &[])
}

/// [`backup_and_drill`] with more environment.
fn backup_and_drill_with(spec: &Path, more: &[(&str, &str)]) -> String {
    let mut env = vec![("RB_PASSWORD", PASSWORD), ("RB_HOOK", HOOK)];
    env.extend(more);
    let path = spec.to_str().unwrap();
    let out = firedrill_with_env(&["backup", path, "--json"], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let id = v["backup_id"].as_str().unwrap().to_string();
    let out = firedrill_with_env(&["drill", path], &env);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    id
}

/// The test spec: the source URL's password and a webhook come from the environment.
fn spec_for(env: &Env, name: &str, src: &SourceDb) -> firedrill::testing::SpecBuilder {
    let url = format!(
        "{}/{}",
        PG.replace("postgres@", "postgres:${RB_PASSWORD}@"),
        src.name
    );
    env.spec(name, &url)
        .check("rows", "row-counts")
        .push("notify.webhook")
        .with("url-env", "RB_HOOK")
}

#[tokio::test]
async fn the_script_restores_a_set_exactly_with_plain_tools_and_no_secret() {
    let src = SourceDb::create(support::RICH_SQL).await;
    let env = Env::new();
    let spec = env.write(&spec_for(&env, "plain", &src));

    let out = runbook(&spec, &[]);
    assert_eq!(out.status.code(), Some(1), "no drill yet: {}", text(&out));
    assert!(text(&out).contains("no drill"), "{}", text(&out));
    let out = runbook(&spec, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["error"]["kind"], "not-proven", "{v}");

    let id = backup_and_drill(&spec);
    let out = runbook(&spec, &["--script"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(script.contains("set -euo pipefail"), "{script}");
    assert!(script.contains(&id), "{script}");
    assert!(!script.contains("--section"), "one pg_restore: {script}");
    let key = std::fs::read_to_string(env.key()).unwrap();
    let secret = key
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap();
    for s in [PASSWORD, HOOK, secret, "AGE-SECRET-KEY"] {
        assert!(!script.contains(s), "the script holds `{s}`: {script}");
    }

    let target = SourceDb::create("").await;
    let bin = tool_folder(env.path(), &[]);
    let ran = run_script(&script, &bin, &target.url(), &[]);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran));
    let want = content_digest(&src.client().await).await;
    assert!(want.len() > 3, "{want:?}");
    assert_eq!(content_digest(&target.client().await).await, want);

    // The Markdown and JSON say where the inputs are and when it was proven, never a secret.
    let md = text(&runbook(&spec, &[]));
    assert!(md.contains("Last proven"), "{md}");
    assert!(md.contains(&env.key().display().to_string()), "{md}");
    assert!(md.contains("`RB_HOOK`"), "{md}");
    let json = runbook(&spec, &["--format", "json"]);
    assert_eq!(json.status.code(), Some(0), "{}", text(&json));
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["runbook"]["backup_id"], id.as_str());
    assert_eq!(v["runbook"]["version"], 1);
    let steps = v["runbook"]["steps"].as_array().unwrap();
    assert!(steps.iter().all(|s| s["seconds"].as_f64().is_some()), "{v}");
    let all = support::all_text_below(&env.reports()) + &md + &text(&json);
    for s in [PASSWORD, HOOK, secret] {
        assert!(!all.contains(s), "`{s}` written");
    }
    // The compliance summary cites it as the tested recovery procedure.
    let out = firedrill_with_env(
        &["report", spec.to_str().unwrap(), "--format", "json"],
        &[("RB_PASSWORD", PASSWORD), ("RB_HOOK", HOOK)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let cited = &v["drills"][0]["newest_runbooks"][0];
    assert_eq!(cited["backup_id"], id.as_str(), "{v}");
    assert_eq!(cited["database"], src.name.as_str(), "{v}");
    with_firedrill_as_written(&runbook_json(&spec)).await;
    no_runbook_without_a_passing_drill(&env, &spec, &id);
}

/// The runbook of `spec` as JSON.
fn runbook_json(spec: &Path) -> serde_json::Value {
    let out = runbook(spec, &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["runbook"].clone()
}

/// The with-firedrill restore runs as written: a new database on the recovery server, kept,
/// then removed again by `firedrill cleanup`.
async fn with_firedrill_as_written(rb: &serde_json::Value) {
    let commands: Vec<&str> = rb["with_firedrill"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["command"].as_str().unwrap())
        .collect();
    let restore = commands
        .iter()
        .find(|c| c.contains("--keep"))
        .unwrap_or_else(|| panic!("{commands:?}"));
    let bin = Path::new(env!("CARGO_BIN_EXE_firedrill")).parent().unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let out = Command::new("/bin/bash")
        .args(["-c", restore])
        .env("PATH", path)
        .env("RECOVERY_SERVER_URL", format!("{PG}/postgres"))
        .env("RB_PASSWORD", PASSWORD)
        .env("RB_HOOK", HOOK)
        .env_remove("FIREDRILL_IDENTITY")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{restore}: {}", text(&out));
    assert_eq!(
        support::databases_named_like("recovered_").await,
        1,
        "{}",
        text(&out)
    );
    let spec = restore.split_whitespace().nth(2).unwrap();
    let out = with_secrets(&["cleanup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(
        support::databases_named_like("recovered_").await,
        0,
        "{}",
        text(&out)
    );
}

/// The binary with the spec's secrets in the environment.
fn with_secrets(args: &[&str]) -> Output {
    firedrill_with_env(args, &[("RB_PASSWORD", PASSWORD), ("RB_HOOK", HOOK)])
}

/// A backup no drill passed has no runbook (exit 1): one never drilled, and one whose drill
/// failed (its report carries the runbook, marked not proven); a backup id that cannot be one
/// and a spec that is not there are bad input (exit 2).
fn no_runbook_without_a_passing_drill(env: &Env, spec: &Path, drilled: &str) {
    let vars = [("RB_PASSWORD", PASSWORD), ("RB_HOOK", HOOK)];
    let path = spec.to_str().unwrap();
    let out = firedrill_with_env(&["backup", path, "--json"], &vars);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let other = v["backup_id"].as_str().unwrap();
    let out = runbook(spec, &["--backup", other, "--script"]);
    assert_eq!(out.status.code(), Some(1), "never drilled: {}", text(&out));
    assert!(out.stdout.is_empty(), "{}", text(&out));
    assert!(text(&out).contains(other), "{}", text(&out));

    support::flip_middle_byte(
        &env.dest("dr")
            .join(format!("plain/{other}/data.dump.zst.age")),
    );
    let out = firedrill_with_env(&["drill", path, "--backup", other], &vars);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let failed = support::all_text_below(&env.reports());
    assert!(failed.contains("**Not proven**: the drill of"), "{failed}");
    let out = runbook(spec, &["--backup", other, "--script"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "its drill failed: {}",
        text(&out)
    );
    assert!(out.stdout.is_empty(), "{}", text(&out));

    let out = runbook(spec, &["--backup", drilled, "--script"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = runbook(spec, &["--backup", "../x"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let out = firedrill(&["runbook", "/nonexistent/spec.toml"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[tokio::test]
async fn the_script_loads_table_parts_in_order_and_stops_at_a_damaged_object() {
    let src = SourceDb::create(&format!(
        "{}\ncreate table big(id int primary key, v text);\n\
         insert into big select g, md5(g::text) from generate_series(1, 20000) g;",
        support::RICH_SQL
    ))
    .await;
    let env = Env::new();
    let spec = env.write(
        &spec_for(&env, "parts", &src)
            .backup("split-size", "16KiB")
            .backup("jobs", 3),
    );
    let id = backup_and_drill(&spec);
    let out = runbook(&spec, &["--script"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let script = String::from_utf8(out.stdout).unwrap();
    let at = |s: &str| {
        script
            .find(s)
            .unwrap_or_else(|| panic!("no `{s}` in {script}"))
    };
    assert!(at("sha256sum -c") < at("--section=pre-data"));
    assert!(at("--section=pre-data") < at("--section=data"));
    assert!(at("--section=data") < at("\\copy \"public\".\"big\""));
    assert!(script.rfind("\\copy").unwrap() < at("--section=post-data"));

    let bin = tool_folder(env.path(), &[]);
    let target = SourceDb::create("").await;
    let ran = run_script(&script, &bin, &target.url(), &[]);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran));
    let want = content_digest(&src.client().await).await;
    assert!(want.contains_key("public.big"), "{want:?}");
    assert_eq!(content_digest(&target.client().await).await, want);

    // One flipped bit in the dr copy of a part: the script stops at the checksum step and
    // the target stays empty.
    let part = env
        .dest("dr")
        .join(format!("parts/{id}/part-0001.copy.zst.age"));
    support::flip_middle_byte(&part);
    let empty = SourceDb::create("").await;
    let ran = run_script(&script, &bin, &empty.url(), &[]);
    assert_ne!(ran.status.code(), Some(0), "{}", text(&ran));
    let said = text(&ran);
    assert!(said.contains("part-0001.copy.zst.age: FAILED"), "{said}");
    assert_eq!(relations(&empty).await, 0, "nothing restored: {said}");
}

/// The demo's report shows the runbook, and `firedrill runbook` prints it for the demo spec.
#[test]
fn the_demo_report_shows_the_runbook() {
    let dir = tempfile::Builder::new()
        .prefix("firedrill-demo-runbook-")
        .tempdir()
        .unwrap();
    let out = firedrill(&["demo", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("firedrill runbook"), "{}", text(&out));
    let shop = dir.path().join("reports").join("shop");
    let file = |ext: &str| crate::support::file_with_ext(&shop, ext);
    let md = std::fs::read_to_string(file("md")).unwrap();
    assert!(md.contains("## Runbook"), "{md}");
    // The HTML report, as a browser reads it, holds the script.
    let dom = crate::browser::dom_of(&file("html"));
    let script = dom
        .split("id=\"runbook-script\"><code>")
        .nth(1)
        .unwrap_or_else(|| panic!("{dom}"));
    assert!(script.starts_with("#!/usr/bin/env bash"), "{script}");
    assert!(script.contains("sha256sum -c --strict"), "{script}");
    assert!(md.contains("Proven by the drill of"), "{md}");
    assert!(md.contains("sha256sum -c"), "{md}");
    let spec = dir.path().join("demo.toml");
    let out = firedrill(&["runbook", spec.to_str().unwrap(), "--format", "html"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("id=\"runbook-script\""),
        "{}",
        text(&out)
    );
}

/// The AWS CLI: the one `localstack/up.sh` installs into its venv (pinned in
/// `localstack/requirements.lock`), else the first on PATH.
fn aws_cli() -> PathBuf {
    let venv = PathBuf::from("/var/tmp/firedrill-localstack-venv/bin/aws");
    if venv.is_file() {
        return venv;
    }
    std::env::split_paths(&std::env::var_os("PATH").unwrap())
        .map(|d| d.join("aws"))
        .find(|p| p.is_file())
        .expect("the AWS CLI is missing: run `localstack/up.sh` (it installs it into /var/tmp/firedrill-localstack-venv) or .ci/run")
}

/// An S3 set read from the DR region with the AWS CLI, decrypted with the identity the
/// environment holds.
#[tokio::test]
async fn the_script_restores_an_s3_set_from_the_dr_region() {
    crate::s3::aws_env();
    let src = SourceDb::create(support::SAMPLE_SQL).await;
    let env = Env::new();
    let (primary, dr) = (
        crate::s3::bucket("us-east-1", false).await,
        crate::s3::bucket("eu-west-1", false).await,
    );
    let ep = crate::s3::endpoint();
    let spec = env.write(
        &firedrill::testing::SpecBuilder::new("s3rb")
            .source_url(&src.url())
            .recipients(&[&env.recipient])
            .destination("primary", &format!("s3://{primary}/fd"))
            .with("region", "us-east-1")
            .with("endpoint", ep.as_str())
            .destination("dr", &format!("s3://{dr}/fd"))
            .with("region", "eu-west-1")
            .with("endpoint", ep.as_str())
            .drill("from", "dr")
            .drill("reports", env.reports().display().to_string())
            .drill("work-dir", env.work().display().to_string())
            .check("rows", "row-counts"),
    );
    // No identity file: the identity is in FIREDRILL_IDENTITY, for the drill and the script.
    let key = std::fs::read_to_string(env.key()).unwrap();
    let identity = key
        .lines()
        .find(|l| l.starts_with("AGE-SECRET-KEY-"))
        .unwrap()
        .to_string();
    backup_and_drill_with(&spec, &[("FIREDRILL_IDENTITY", identity.as_str())]);
    let out = runbook(&spec, &["--script"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(
        script.contains(&format!("aws s3 cp --only-show-errors --region eu-west-1 --endpoint-url {ep} s3://{dr}/fd/s3rb/")),
        "{script}"
    );
    assert!(
        !script.contains(&primary),
        "only the DR copy is read: {script}"
    );
    assert!(!script.contains(&identity), "{script}");
    assert!(
        script.contains(": \"${FIREDRILL_IDENTITY:?"),
        "the script asks for the identity: {script}"
    );

    let bin = tool_folder(env.path(), &[aws_cli()]);
    let target = SourceDb::create("").await;
    let creds = [
        ("FIREDRILL_IDENTITY", identity.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let ran = run_script(&script, &bin, &target.url(), &creds);
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran));
    assert_eq!(
        content_digest(&target.client().await).await,
        content_digest(&src.client().await).await
    );
}

#[tokio::test]
async fn the_script_restores_an_rds_snapshot_in_the_dr_region() {
    let db = SourceDb::create(crate::rds::SOURCE_SQL).await;
    let env = Env::new();
    let source = crate::rds::source_instance("rb").await;
    let drill = format!("rds-rb-{}", firedrill::catalog::layout::random_hex(2));
    let path = env.write(&crate::rds::rds_spec(&env, &drill, &source, &db.name, &[]));
    let spec = env.load(&path);
    let b = firedrill::backup::run(&spec, &tokio_util::sync::CancellationToken::new())
        .await
        .unwrap_or_else(|e| panic!("{}", e.render()));
    support::passed_drill(&spec, &firedrill::drill::DrillOptions::default()).await;
    let dr = firedrill::storage::open(spec.destination("dr").unwrap())
        .await
        .unwrap();
    let sets = firedrill::catalog::list(&dr, &drill).await.unwrap();
    let set = sets.iter().find(|s| s.id == b.backup_id).unwrap();
    let snaps = set.manifest.rds.as_ref().unwrap();
    let dr_copy = snaps.in_region("eu-west-1").unwrap().id.clone();
    let out = firedrill(&["runbook", path.to_str().unwrap(), "--script"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let script = String::from_utf8(out.stdout).unwrap();
    assert!(
        script.contains("aws rds restore-db-instance-from-db-snapshot --region eu-west-1"),
        "{script}"
    );
    assert!(
        script.contains(&format!("--db-snapshot-identifier {dr_copy} ")),
        "the copy in the drill's region: {script}"
    );

    let restored = format!("fdtest-rb-{}", firedrill::catalog::layout::random_hex(3));
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(aws_cli(), bin.join("aws")).unwrap();
    let vars = [
        ("INSTANCE", restored.as_str()),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ];
    let ran = run_script(&script, &bin, "", &vars);
    let rds = crate::rds::rds("eu-west-1").await;
    let found = rds
        .describe_db_instances()
        .db_instance_identifier(&restored)
        .send()
        .await;
    let _ = rds
        .delete_db_instance()
        .db_instance_identifier(&restored)
        .skip_final_snapshot(true)
        .send()
        .await;
    assert_eq!(ran.status.code(), Some(0), "{}", text(&ran));
    let found = found.unwrap_or_else(|e| panic!("{restored} restored in eu-west-1: {e:?}"));
    let i = &found.db_instances()[0];
    assert_eq!(i.db_instance_status(), Some("available"));
    assert!(
        i.tag_list().iter().all(|t| t.key() != Some("firedrill")),
        "the recovery's instance is not firedrill's to delete"
    );
    let endpoint = i.endpoint().and_then(|e| e.address()).unwrap_or_default();
    assert!(
        !endpoint.is_empty() && text(&ran).contains(endpoint),
        "{}",
        text(&ran)
    );
}

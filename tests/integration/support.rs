//! Shared test fixtures: unique source databases (always dropped), a private folder with a
//! key, two file destinations, reports and a work dir, and helpers to write specs and run the
//! binary.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use firedrill::spec::{self, DrillSpec};
use firedrill::testing::SpecBuilder;

pub const PG: &str = "postgres://postgres@127.0.0.1:5432";
pub const RICH_SQL: &str = include_str!("../fixtures/rich_schema.sql");
pub const SAMPLE_SQL: &str = firedrill::demo::SAMPLE_SQL;

fn how_to_start() -> String {
    "PostgreSQL must run on 127.0.0.1:5432 with trust auth for user postgres; start it with \
     `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` (or run .ci/run)"
        .to_string()
}

/// Connects to a database on the test server, panicking with how to start it.
pub async fn connect(db: &str) -> tokio_postgres::Client {
    let (client, conn) = tokio_postgres::connect(&format!("{PG}/{db}"), tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", how_to_start()));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

/// A database on the test server, created with a unique name, dropped on drop.
pub struct SourceDb {
    pub name: String,
}

impl SourceDb {
    pub async fn create(sql: &str) -> SourceDb {
        let name = format!("fdtest_{}", firedrill::catalog::layout::random_hex(5));
        let admin = connect("postgres").await;
        admin
            .batch_execute(&format!("create database {name}"))
            .await
            .unwrap();
        let db = SourceDb { name };
        let client = connect(&db.name).await;
        client.batch_execute(sql).await.expect("fixture SQL loads");
        db
    }

    /// A database with one table, `t(id int primary key)`, holding ids 1 to `rows`.
    pub async fn with_rows(rows: u32) -> SourceDb {
        SourceDb::create(&format!(
            "create table t(id int primary key); insert into t select generate_series(1, {rows});"
        ))
        .await
    }

    pub fn url(&self) -> String {
        format!("{PG}/{}", self.name)
    }

    pub async fn client(&self) -> tokio_postgres::Client {
        connect(&self.name).await
    }
}

impl SourceDb {
    /// The cluster-wide role the rich fixture makes for this database (see
    /// `tests/fixtures/rich_schema.sql`); dropped with the database.
    pub fn fixture_owner(&self) -> String {
        format!("firedrill_fixture_owner_{}", self.name)
    }
}

impl Drop for SourceDb {
    fn drop(&mut self) {
        admin_sql(&format!(
            "drop database if exists {} with (force)",
            self.name
        ));
        // Once the database is gone the role owns nothing and can go too.
        admin_sql(&format!("drop role if exists {}", self.fixture_owner()));
    }
}

/// `psql` as postgres on the test server's `postgres` database, unaligned, running `sql`.
fn admin_psql(sql: &str) -> Command {
    let mut c = Command::new("psql");
    c.args([
        "-h",
        "127.0.0.1",
        "-U",
        "postgres",
        "-d",
        "postgres",
        "-qAtc",
    ])
    .arg(sql);
    c
}

/// Runs `sql` as postgres on the test server with psql, ignoring the outcome (for cleanup in
/// `Drop`, where no async runtime may be left).
pub fn admin_sql(sql: &str) {
    let _ = admin_psql(sql).output();
}

/// The value `sql` gives on the test server's `postgres` database.
pub fn admin_value(sql: &str) -> String {
    let out = admin_psql(sql).output().expect("psql runs");
    assert!(out.status.success(), "psql: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Flips one bit in the middle of a stored object.
pub fn flip_middle_byte(path: &Path) {
    let mut bytes = std::fs::read(path).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x40;
    std::fs::write(path, &bytes).unwrap();
}

/// Runs a drill (which must run, whatever its verdict) and returns its report.
pub async fn drill_report(
    spec: &DrillSpec,
    opts: &firedrill::drill::DrillOptions,
) -> firedrill::report::DrillReport {
    firedrill::drill::run(spec, opts, &tokio_util::sync::CancellationToken::new())
        .await
        .unwrap()
        .report
}

/// Flips a bit in `object` of backup `backup_id` of drill `drill` in the dr folder: the
/// drill must then fail naming the object and `dr` as corrupted and leave no scratch behind.
pub async fn corrupted_dr_object_fails_the_drill(
    env: &Env,
    spec: &DrillSpec,
    backup_id: &str,
    object: &str,
) {
    let obj = env
        .dest("dr")
        .join(format!("{}/{backup_id}/{object}", spec.name));
    flip_middle_byte(&obj);

    let reason = failed_drill_reason(spec).await;
    assert!(
        reason.contains(object) && reason.contains("`dr`"),
        "{reason}"
    );
    assert!(reason.contains("corrupted"), "{reason}");
    env.assert_no_leftovers();
}

/// Prunes `drill` in `dest` by `policy` and `orphan_grace`, with no backup method to ask and
/// nothing kept besides the policy's.
pub async fn prune(
    dest: &firedrill::storage::Destination,
    drill: &str,
    policy: &firedrill::catalog::retention::Retention,
    orphan_grace: std::time::Duration,
    dry_run: bool,
) -> firedrill::catalog::prune::PruneOutcome {
    firedrill::catalog::prune::prune(
        dest,
        drill,
        policy,
        orphan_grace,
        None,
        dry_run,
        &Default::default(),
    )
    .await
    .unwrap()
}

/// The rows of `--all` / `run-due --json` output: (drill, operation, exit code).
pub fn run_rows(out: &Output) -> Vec<(String, String, u64)> {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", text(out)));
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["drill"].as_str().unwrap().to_string(),
                r["operation"].as_str().unwrap().to_string(),
                r["code"].as_u64().unwrap(),
            )
        })
        .collect()
}

/// How many databases on the test server have a name starting with `prefix`.
pub async fn databases_named_like(prefix: &str) -> i64 {
    connect("postgres")
        .await
        .query_one(
            "select count(*) from pg_database where datname like $1 || '%'",
            &[&prefix],
        )
        .await
        .unwrap()
        .get(0)
}

/// Runs a drill that must pass; returns its outcome.
pub async fn passed_drill(
    spec: &DrillSpec,
    opts: &firedrill::drill::DrillOptions,
) -> firedrill::drill::DrillOutcome {
    let outcome = firedrill::drill::run(spec, opts, &tokio_util::sync::CancellationToken::new())
        .await
        .unwrap();
    let r = &outcome.report;
    assert_eq!(
        r.verdict,
        firedrill::report::Verdict::Passed,
        "{:?}\n{:#?}",
        r.reason,
        r.checks
    );
    outcome
}

/// Runs a drill that must fail and clean up its scratch target; returns its reason.
pub async fn failed_drill_reason(spec: &DrillSpec) -> String {
    let r = drill_report(spec, &firedrill::drill::DrillOptions::default()).await;
    assert_eq!(
        r.verdict,
        firedrill::report::Verdict::Failed,
        "{:?}",
        r.reason
    );
    assert!(r.cleanup.unwrap().removed);
    r.reason.unwrap()
}

/// A private folder laid out like a small installation.
pub struct Env {
    pub dir: tempfile::TempDir,
    pub recipient: String,
}

impl Env {
    pub fn new() -> Env {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::Builder::new()
            .prefix("firedrill-test-")
            .tempdir()
            .unwrap();
        // The scratch cluster runs as another OS user when tests run as root: let it traverse.
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        let recipient =
            firedrill::pipeline::keys::write_new_identity(&dir.path().join("key.txt")).unwrap();
        Env { dir, recipient }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }
    pub fn key(&self) -> PathBuf {
        self.path().join("key.txt")
    }
    pub fn work(&self) -> PathBuf {
        self.path().join("work")
    }
    pub fn reports(&self) -> PathBuf {
        self.path().join("reports")
    }
    pub fn dest(&self, name: &str) -> PathBuf {
        self.path().join(name)
    }

    /// A spec for `source_url` with primary and dr destinations, ephemeral scratch, drills
    /// from dr with two jobs; add checks, targets... to the builder.
    pub fn spec(&self, name: &str, source_url: &str) -> SpecBuilder {
        SpecBuilder::new(name)
            .source_url(source_url)
            .backup("compression", "zstd:3")
            .recipients(&[&self.recipient])
            .folder("primary", &self.dest("primary"))
            .folder("dr", &self.dest("dr"))
            .drill("from", "dr")
            .drill("identity-file", self.key().display().to_string())
            .drill("reports", self.reports().display().to_string())
            .drill("work-dir", self.work().display().to_string())
            .drill("jobs", 2)
    }

    /// The text of [`Env::spec`] with `extra` TOML appended (it continues `[drill]`); prefer
    /// setting keys on [`Env::spec`].
    pub fn spec_text(&self, name: &str, source_url: &str, extra: &str) -> String {
        self.spec(name, source_url).raw(extra).text()
    }

    /// Writes `text` to `<dir>/<name>.toml` and returns its path.
    pub fn write_spec(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(format!("{name}.toml"));
        std::fs::write(&p, text).unwrap();
        p
    }

    /// Writes `spec` to `<dir>/<its name>.toml` and returns the path.
    pub fn write(&self, spec: &SpecBuilder) -> PathBuf {
        spec.write(self.path())
    }

    /// Writes `spec` like [`Env::write`] and loads it.
    pub fn load_spec(&self, spec: &SpecBuilder) -> DrillSpec {
        self.load(&self.write(spec))
    }

    /// A spec whose drills sign their reports with a new key, backed up once and drilled
    /// `drills` times (each drill must pass).
    pub fn signed_drills(&self, name: &str, source_url: &str, drills: usize) -> PathBuf {
        let key = self.path().join("signing.key");
        let out = firedrill(&["keygen", "--signing", "--output", key.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let spec = self.write(
            &self
                .spec(name, source_url)
                .drill("signing-key-file", key.display().to_string()),
        );
        let path = spec.to_str().unwrap();
        assert_eq!(firedrill(&["backup", path]).status.code(), Some(0));
        for _ in 0..drills {
            let out = firedrill(&["drill", path]);
            assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        }
        spec
    }

    pub fn load(&self, path: &Path) -> DrillSpec {
        spec::load(path, &[]).unwrap_or_else(|e| panic!("{}", e.render()))
    }

    /// Scratch cluster folders left in the work dir.
    pub fn leftover_clusters(&self) -> Vec<String> {
        std::fs::read_dir(self.work())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.starts_with("scratch-") || n.starts_with("spool-"))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Asserts no scratch cluster or spool file is left in the work dir.
    #[track_caller]
    pub fn assert_no_leftovers(&self) {
        let left = self.leftover_clusters();
        assert!(left.is_empty(), "scratch left behind: {left:?}");
    }

    /// Files below a destination (relative paths), sorted.
    pub fn files_in(&self, dest: &str) -> Vec<String> {
        let root = self.dest(dest);
        files_below(&root)
            .iter()
            .map(|p| p.strip_prefix(&root).unwrap().display().to_string())
            .collect()
    }
}

/// Runs the firedrill binary.
pub fn firedrill(args: &[&str]) -> Output {
    firedrill_with_env(args, &[])
}

/// Runs the firedrill binary with extra environment (`""` as a value removes the variable).
pub fn firedrill_with_env(args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_firedrill"));
    cmd.args(args)
        .env("FIREDRILL_LOG", "info")
        .env_remove("FIREDRILL_IDENTITY");
    for (k, v) in vars {
        if v.is_empty() {
            cmd.env_remove(k);
        } else {
            cmd.env(k, v);
        }
    }
    cmd.output().expect("the firedrill binary runs")
}

/// stdout + stderr of an output, for assertions and messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A loopback TCP port free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Every file below `dir` (folders walked, symbolic links not followed), sorted; none when
/// `dir` cannot be read.
pub fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(e.path());
            } else {
                out.push(e.path());
            }
        }
    }
    out.sort();
    out
}

/// The first file with extension `ext` in `dir` (a drill's report folder: its `.json`, `.md`
/// or `.html`).
pub fn file_with_ext(dir: &Path, ext: &str) -> PathBuf {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == ext))
        .unwrap_or_else(|| panic!("no .{ext} file in {}", dir.display()))
}

/// Every file's text below `dir` (reports, manifests), for secret scans.
pub fn all_text_below(dir: &Path) -> String {
    files_below(dir)
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

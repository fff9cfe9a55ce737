//! The drill spec: one protected database per TOML file.
//!
//! Loading goes raw -> validated: the file is parsed into a TOML tree, `--set` overrides are
//! applied, `${VAR}` references are expanded, the tree is read into loose [`raw`] structs, and
//! [`validate`] turns those into a [`DrillSpec`] or returns *every* problem at once, each naming
//! its key path and the fix.

mod interpolate;
mod managed;
mod notify;
mod overrides;
mod raw;
mod schedule;
mod validate;

use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;

use crate::verify::Expect;
use crate::{Error, ErrorKind};

pub use crate::storage::{
    DestinationKind, DestinationSpec, FolderDestination, ObjectLock, S3Destination, Sse,
};
pub use interpolate::interpolate;
pub use managed::{ManagedConfig, ManagedRepo, RepoStorage, S3Repository, SECURE_OPTIONS};
pub use notify::{NotifyOn, Webhook, WebhookFormat};
pub use schedule::{Schedule, ScheduleError};

/// A validated drill spec.
#[derive(Debug, Clone)]
pub struct DrillSpec {
    pub name: String,
    pub path: PathBuf,
    pub source: SourceSpec,
    pub backup: BackupPolicy,
    pub destinations: Vec<DestinationSpec>,
    pub drill: DrillPolicy,
    pub targets: Targets,
    pub checks: Vec<CheckSpec>,
    pub tools: ToolsSpec,
    /// Prometheus textfile updated after every backup and drill.
    pub metrics_textfile: Option<PathBuf>,
    /// Prometheus Pushgateway base URL; each run pushes its drill's group.
    pub metrics_pushgateway: Option<url::Url>,
    /// Webhooks told about finished backups and drills.
    pub webhooks: Vec<Webhook>,
    /// `[heartbeat]`: the source's heartbeat measures what a restore lost (off when absent).
    pub heartbeat: Option<HeartbeatSpec>,
    /// `[cost]`: the drill host's region and the prices a drill's cost is reckoned in.
    pub cost: CostSpec,
}

/// `[cost]`. No prices are built in: without them a report shows quantities only.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CostSpec {
    /// The drill host's region: reads from a destination in another region are cross-region.
    pub region: Option<String>,
    pub prices: Option<Prices>,
}

/// Prices in one currency, as the spec gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices {
    pub currency: String,
    /// Per GB (10^9 bytes) read across regions.
    pub transfer_per_gb: Option<f64>,
    /// Per hour of an RDS scratch instance, by instance class.
    pub instance_hour: std::collections::BTreeMap<String, f64>,
    /// Per GB-month of backup storage (the compliance summary).
    pub storage_gb_month: Option<f64>,
}

/// `[heartbeat]`: `firedrill heartbeat SPEC` writes the time into `firedrill.heartbeat` on
/// the source once per `interval`; a drill reads the newest one restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeartbeatSpec {
    pub interval: Duration,
}

#[derive(Debug, Clone)]
pub struct SourceSpec {
    /// `postgres://` URL; may hold a password, hence secret. Empty means "from PG* variables".
    pub url: SecretString,
    /// CA bundle to verify the source's TLS certificate (turns TLS on).
    pub ca_file: Option<PathBuf>,
    /// How backups of this source are made (`kind`).
    pub method: SourceMethod,
}

/// The backup method a source is protected with: `[source] kind`. Each has its module under
/// [`crate::method`].
#[derive(Debug, Clone)]
pub enum SourceMethod {
    /// `kind = "postgres"` (the default): logical backups with pg_dump.
    PgDump,
    /// `kind = "rds"`: RDS snapshots copied to other regions.
    Rds(RdsSource),
    /// `kind = "pgbackrest"`: physical backups and the WAL archive, kept by pgBackRest.
    PgBackRest(PgBackRestSource),
}

impl SourceMethod {
    /// The RDS instance of an RDS source.
    pub fn rds(&self) -> Option<&RdsSource> {
        match self {
            SourceMethod::Rds(r) => Some(r),
            SourceMethod::PgDump | SourceMethod::PgBackRest(_) => None,
        }
    }
}

/// A cluster whose physical backups pgBackRest keeps, one repository per region, all named
/// in one `pgbackrest.conf`: an existing one firedrill reads and never edits, or (managed
/// mode) the one firedrill writes from the spec.
#[derive(Debug, Clone)]
pub struct PgBackRestSource {
    /// The stanza (pgBackRest's name for the cluster).
    pub stanza: String,
    /// `pgbackrest.conf`; pgBackRest's own default when unset. In managed mode, the file
    /// firedrill writes (always set).
    pub config: Option<PathBuf>,
    /// Managed mode: what firedrill writes into `config` (`pg-path` and the repositories).
    pub managed: Option<ManagedConfig>,
    /// `false`: drill-only. Someone else takes the backups; firedrill lists and drills them.
    pub backup: bool,
    /// What `firedrill backup` asks pgBackRest for.
    pub backup_type: PgBackRestType,
    /// Deadline of one `pgbackrest backup` run (`wait-timeout`).
    pub backup_timeout: Duration,
    /// Where a drill's recovery stops: `drill --target` / `--target-time` (never the file).
    pub target: PitrTarget,
    /// How a time target was chosen when not given (`random within 7d, seed 42`).
    pub chosen: Option<String>,
}

/// Where a point-in-time drill stops replaying WAL.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum PitrTarget {
    /// The end of the archive (every WAL segment the repository holds).
    #[default]
    Latest,
    /// The end of the backup: the first consistent point.
    Immediate,
    /// This moment.
    Time(chrono::DateTime<chrono::Utc>),
}

/// `backup-type`: pgBackRest's `--type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PgBackRestType {
    Full,
    Diff,
    Incr,
}

impl PgBackRestType {
    /// `full`, `diff` or `incr`.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "full" => Some(PgBackRestType::Full),
            "diff" => Some(PgBackRestType::Diff),
            "incr" => Some(PgBackRestType::Incr),
            _ => None,
        }
    }

    /// The value of `pgbackrest backup --type`.
    pub fn as_str(self) -> &'static str {
        match self {
            PgBackRestType::Full => "full",
            PgBackRestType::Diff => "diff",
            PgBackRestType::Incr => "incr",
        }
    }
}

/// An RDS instance whose backups are manual snapshots copied to other regions.
#[derive(Debug, Clone)]
pub struct RdsSource {
    pub instance: String,
    pub region: String,
    /// RDS API endpoint override (moto, VPC endpoints).
    pub endpoint: Option<String>,
    /// Database inside the instance that drills check.
    pub database: String,
    pub copy_to: Vec<RdsCopy>,
    pub wait_timeout: Duration,
}

/// A region snapshots are copied to, with the KMS key for encrypted snapshots there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RdsCopy {
    pub region: String,
    pub kms_key_id: Option<String>,
}

/// A scratch RDS instance restored by a drill.
#[derive(Debug, Clone)]
pub struct RdsScratch {
    pub region: String,
    pub endpoint: Option<String>,
    pub instance_class: String,
    pub subnet_group: Option<String>,
    pub security_groups: Vec<String>,
    pub parameter_group: Option<String>,
    /// Restore the copied snapshot, or the source instance to its latest restorable time.
    pub point_in_time: bool,
    pub wait_timeout: Duration,
    pub user: Option<String>,
    pub password: RdsPassword,
    pub ca_file: Option<PathBuf>,
    pub database: Option<String>,
    /// `cleanup` removes tagged scratch instances older than this.
    pub ttl: Duration,
}

/// Where the scratch instance's master password comes from (never the spec itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RdsPassword {
    Env(String),
    File(PathBuf),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Zstd(i32),
}

impl Compression {
    pub fn label(&self) -> String {
        match self {
            Compression::None => "none".into(),
            Compression::Zstd(l) => format!("zstd:{l}"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct BackupPolicy {
    pub compression: Compression,
    /// age recipients (`age1...`, `ssh-ed25519 ...`, `ssh-rsa ...`).
    pub recipients: Vec<String>,
    /// With `row-counts = "query"`: tables whose planner estimate exceeds this many rows are
    /// fingerprinted by estimate.
    pub exact_count_limit: Option<i64>,
    pub row_counts: RowCountSource,
    /// `[backup.retention]`; `prune` refuses to run without it.
    pub retention: Option<crate::catalog::retention::Retention>,
    /// Incomplete sets older than this are swept by `prune`.
    pub orphan_grace: Duration,
    /// When `run-due` / `schedule` take backups.
    pub schedule: Option<Schedule>,
    /// pgbackrest sources: a schedule per backup type (`schedule = { full = "...", diff =
    /// "..." }`); the largest type due runs.
    pub schedules_by_type: Vec<(PgBackRestType, Schedule)>,
    /// Parallel exports: large tables are dumped as this many streams at once (1: one
    /// pg_dump stream). Defaults to the cores available.
    pub jobs: usize,
    /// When `jobs` > 1: tables with at least half this many heap bytes are copied out as parts
    /// of their own beside pg_dump, and tables of this size or more as several parts (of at
    /// least half this size each).
    pub split_size: u64,
}

/// Where the fingerprint's exact row counts come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowCountSource {
    /// Counted in the pg_dump stream as it passes (no second scan of the source).
    Dump,
    /// `count(*)` per table in the backup's snapshot, beside the dump (an independent count).
    Query,
}

#[derive(Debug, Clone)]
pub enum ScratchSpec {
    Ephemeral,
    Server { url: SecretString, prefix: String },
    Rds(Box<RdsScratch>),
}

#[derive(Debug, Clone)]
pub struct DrillPolicy {
    pub from: String,
    /// ed25519 key (`firedrill keygen --signing`) that signs every report.
    pub signing_key_file: Option<PathBuf>,
    /// When `run-due` / `schedule` run drills.
    pub schedule: Option<Schedule>,
    pub identity_file: Option<PathBuf>,
    pub scratch: ScratchSpec,
    pub reports: PathBuf,
    pub jobs: usize,
    pub work_dir: PathBuf,
    /// OS user that runs `initdb`/`postgres` for ephemeral clusters when firedrill runs as root.
    pub run_as: String,
    /// After the checks, inject known faults and prove each is caught (`negative-controls`,
    /// default true).
    pub negative_controls: bool,
    /// The drill's deadline (`drill.timeout`); unset: [`DrillSpec::drill_timeout`] decides.
    pub timeout: Option<Duration>,
    /// `random-within`: every drill that names no backup or target (scheduled ones included)
    /// picks a random recovery point this far back: a random complete backup, or for a
    /// pgbackrest source a random time inside the repository's window.
    pub random_within: Option<Duration>,
    /// `monitored-since`: when monitoring of this drill began, for the compliance summary
    /// (scheduled slots before it are not missed); unset: its first drill report.
    pub monitored_since: Option<chrono::DateTime<chrono::Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct Targets {
    pub rto: Option<Duration>,
    pub rpo: Option<Duration>,
}

#[derive(Debug, Clone)]
pub struct CheckSpec {
    pub name: String,
    pub kind: CheckKind,
    /// How long the check may run (`timeout`, default [`CHECK_TIMEOUT`]): the server's
    /// `statement_timeout` and a deadline on the client.
    pub timeout: Duration,
}

/// A check's default `timeout`.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(600);

#[derive(Debug, Clone)]
pub enum CheckKind {
    Sql {
        sql: String,
        expect: Expect,
    },
    RowCounts,
    Schema,
    Freshness {
        table: String,
        column: String,
        within: Duration,
    },
    Amcheck {
        heapallindexed: bool,
    },
}

impl CheckKind {
    pub fn label(&self) -> &'static str {
        match self {
            CheckKind::Sql { .. } => "sql",
            CheckKind::RowCounts => "row-counts",
            CheckKind::Schema => "schema",
            CheckKind::Freshness { .. } => "freshness",
            CheckKind::Amcheck { .. } => "amcheck",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ToolsSpec {
    /// Where `pg_dump`, `pg_restore`, `initdb`, `pg_ctl` live; searched for when unset.
    pub bin_dir: Option<PathBuf>,
}

impl DrillSpec {
    /// How long a drill may run before it is stopped and failed: `drill.timeout`, else four
    /// times the RTO target, and at least an hour.
    pub fn drill_timeout(&self) -> Duration {
        self.drill.timeout.unwrap_or_else(|| {
            let rto = self.targets.rto.map(|t| t * 4).unwrap_or_default();
            rto.max(Duration::from_secs(3600))
        })
    }

    /// The destination with this name.
    pub fn destination(&self, name: &str) -> Option<&DestinationSpec> {
        self.destinations.iter().find(|d| d.name == name)
    }
}

/// Reads, overrides, interpolates and validates the spec at `path`.
///
/// # Errors
/// [`ErrorKind::Spec`] listing every problem found, each with its key path and a fix.
pub fn load(path: &Path, sets: &[String]) -> crate::Result<DrillSpec> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Error::spec(format!("cannot read drill spec `{}`: {e}", path.display()))
            .hint("check the path; specs usually live in drills/")
    })?;
    parse(&text, path, sets, &|name| std::env::var(name).ok())
}

/// Like [`load`], from text, with an explicit environment lookup (for tests).
///
/// # Errors
/// See [`load`].
pub fn parse(
    text: &str,
    path: &Path,
    sets: &[String],
    env: &dyn Fn(&str) -> Option<String>,
) -> crate::Result<DrillSpec> {
    let mut problems = Problems::default();
    let mut tree: toml::Table = text.parse().map_err(|e: toml::de::Error| {
        Error::spec(format!(
            "drill spec `{}` is not valid TOML: {}",
            path.display(),
            e.message()
        ))
        .hint(match e.span() {
            Some(span) => format!("see line {}", line_of(text, span.start)),
            None => "fix the TOML syntax".into(),
        })
    })?;
    for s in sets {
        if let Err(e) = overrides::apply(&mut tree, s) {
            problems.push("--set", e, "use --set key.path=value with an existing name");
        }
    }
    interpolate_tree(&mut tree, "", env, &mut problems);
    let mut unknown = Vec::new();
    let names = tree.clone();
    let raw: raw::RawSpec = match serde_ignored::deserialize(toml::Value::Table(tree), |p| {
        unknown.push(key_path(&p, &names))
    }) {
        Ok(raw) => raw,
        Err(e) => {
            problems.push("spec", e.to_string(), "fix the value's type");
            return Err(problems.into_error(path));
        }
    };
    for key in unknown {
        problems.push(
            &key,
            format!("unknown key `{key}`"),
            "remove it or fix its spelling (drills/full.toml lists every option)",
        );
    }
    let spec = validate::validate(raw, path, env, &mut problems);
    if problems.is_empty() {
        Ok(spec.expect("validate returns a spec when there are no problems"))
    } else {
        Err(problems.into_error(path))
    }
}

/// Renders an ignored key's path the way problems name keys: `backup.compresion`,
/// `destination.dr.regoin` (array entries by their `name`).
fn key_path(path: &serde_ignored::Path<'_>, tree: &toml::Table) -> String {
    fn parts(path: &serde_ignored::Path<'_>, out: &mut Vec<String>) {
        use serde_ignored::Path;
        match path {
            Path::Root => {}
            Path::Seq { parent, index } => {
                parts(parent, out);
                out.push(format!("[{index}]"));
            }
            Path::Map { parent, key } => {
                parts(parent, out);
                out.push(key.to_string());
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => parts(parent, out),
        }
    }
    let mut segs = Vec::new();
    parts(path, &mut segs);
    let mut rendered: Vec<String> = Vec::new();
    for (i, seg) in segs.iter().enumerate() {
        if let Some(idx) = seg.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            let name = i
                .checked_sub(1)
                .and_then(|p| tree.get(&segs[p]))
                .and_then(toml::Value::as_array)
                .and_then(|a| a.get(idx.parse::<usize>().ok()?))
                .and_then(|v| v.get("name"))
                .and_then(toml::Value::as_str);
            rendered.push(name.map(str::to_string).unwrap_or_else(|| idx.to_string()));
        } else {
            rendered.push(seg.clone());
        }
    }
    rendered.join(".")
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].lines().count().max(1)
}

fn interpolate_tree(
    table: &mut toml::Table,
    prefix: &str,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) {
    for (key, value) in table.iter_mut() {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        interpolate_value(value, &path, env, problems);
    }
}

fn interpolate_value(
    value: &mut toml::Value,
    path: &str,
    env: &dyn Fn(&str) -> Option<String>,
    problems: &mut Problems,
) {
    match value {
        toml::Value::String(s) => match interpolate(s, env) {
            Ok(v) => *s = v,
            Err(errs) => {
                for e in errs {
                    problems.push(path, e, "export the variable or give a default");
                }
            }
        },
        toml::Value::Array(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                let named = item
                    .get("name")
                    .and_then(toml::Value::as_str)
                    .map(str::to_string);
                let p = match named {
                    Some(n) => format!("{path}.{n}"),
                    None => format!("{path}[{i}]"),
                };
                interpolate_value(item, &p, env, problems);
            }
        }
        toml::Value::Table(t) => interpolate_tree(t, path, env, problems),
        _ => {}
    }
}

/// Every problem found in a spec, reported together.
#[derive(Debug, Default)]
pub struct Problems(Vec<Problem>);

#[derive(Debug, Clone)]
pub struct Problem {
    pub key: String,
    pub message: String,
    pub fix: String,
}

impl Problems {
    pub fn push(&mut self, key: &str, message: impl Into<String>, fix: impl Into<String>) {
        self.0.push(Problem {
            key: key.to_string(),
            message: message.into(),
            fix: fix.into(),
        });
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn into_error(self, path: &Path) -> Error {
        let n = self.0.len();
        let mut msg = format!(
            "drill spec `{}` has {n} problem{}:",
            path.display(),
            if n == 1 { "" } else { "s" }
        );
        for p in &self.0 {
            msg.push_str(&format!("\n  - {}: {} (fix: {})", p.key, p.message, p.fix));
        }
        Error::new(ErrorKind::Spec, msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_named_by_path_and_entry_name() {
        let text = r#"
            [backup]
            compresion = "zstd"
            recipients = ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]
            [[destination]]
            name = "dr"
            url = "file:///x"
            regoin = "eu"
        "#;
        let err = parse(text, Path::new("t.toml"), &[], &|_| None).unwrap_err();
        assert!(
            err.message.contains("- backup.compresion: unknown key"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("- destination.dr.regoin: unknown key"),
            "{}",
            err.message
        );
        assert!(!err.message.contains('?'), "{}", err.message);
    }

    #[test]
    fn monitored_since_is_a_date_in_the_spec_timezone_or_a_time() {
        let spec = |value: &str| {
            format!(
                r#"
                name = "x"
                timezone = "Europe/Berlin"
                [source]
                url = "postgres://u@h/db"
                [backup]
                recipients = ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]
                [[destination]]
                name = "dr"
                url = "file:///x"
                [drill]
                monitored-since = "{value}"
                "#
            )
        };
        let parse_it = |text: &str| parse(text, Path::new("t.toml"), &[], &|_| None);
        let s = parse_it(&spec("2026-10-01")).unwrap();
        assert_eq!(
            s.drill.monitored_since,
            Some(crate::testing::utc("2026-09-30T22:00:00Z"))
        );
        let s = parse_it(&spec("2026-10-01T06:00:00Z")).unwrap();
        assert_eq!(
            s.drill.monitored_since,
            Some(crate::testing::utc("2026-10-01T06:00:00Z"))
        );
        let err = parse_it(&spec("soon")).unwrap_err();
        assert!(
            err.message
                .contains("- drill.monitored-since: `soon` is not a date or an RFC 3339 time"),
            "{}",
            err.message
        );
    }

    #[test]
    fn pgbackrest_keys_belong_to_pgbackrest_sources_and_are_checked() {
        let spec = |source: &str| {
            format!(
                r#"
                name = "x"
                [source]
                {source}
                [[destination]]
                name = "dr"
                url = "file:///x"
                "#
            )
        };
        let parse_it = |text: &str| parse(text, Path::new("t.toml"), &[], &|_| None);
        let err = parse_it(&spec("url = \"postgres://u@h/db\"\nstanza = \"main\"")).unwrap_err();
        assert!(
            err.message.contains(
                "- source.stanza: `stanza` applies to kind = \"pgbackrest\" sources only"
            ),
            "{}",
            err.message
        );
        let err = parse_it(&spec(
            "kind = \"pgbackrest\"\ninstance = \"db1\"\nbackup-type = \"weekly\"\nconfig = \"/no/such/pgbackrest.conf\"",
        ))
        .unwrap_err();
        for problem in [
            "- source.url: a pgbackrest source needs the URL",
            "- source.stanza: a pgbackrest source needs the stanza",
            "- source.instance: `instance` applies to kind = \"rds\" sources only",
            "- source.backup-type: `weekly` is not a pgBackRest backup type",
            "- source.config: `/no/such/pgbackrest.conf` is not a file",
        ] {
            assert!(err.message.contains(problem), "{problem}: {}", err.message);
        }
        assert!(
            !err.message.contains("backup.recipients"),
            "{}",
            err.message
        );
        let ok = parse_it(&spec(
            "kind = \"pgbackrest\"\nurl = \"postgres://u@h/db\"\nstanza = \"main\"\nbackup = false\nwait-timeout = \"2h\"",
        ))
        .unwrap();
        let SourceMethod::PgBackRest(src) = ok.source.method else {
            panic!("not pgbackrest")
        };
        assert!(!src.backup);
        assert_eq!(src.backup_type, PgBackRestType::Full);
        assert_eq!(src.backup_timeout, Duration::from_secs(7200));
        assert_eq!(src.config, None);
    }

    #[test]
    fn backup_jobs_and_split_size_are_checked() {
        let spec = |backup: &str| {
            format!(
                r#"
                name = "x"
                [source]
                url = "postgres://u@h/db"
                [backup]
                recipients = ["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"]
                {backup}
                [[destination]]
                name = "dr"
                url = "file:///x"
                "#
            )
        };
        let parse_it = |text: &str| parse(text, Path::new("t.toml"), &[], &|_| None);
        let err = parse_it(&spec("jobs = 0\nsplit-size = \"1KiB\"")).unwrap_err();
        assert!(err.message.contains("has 2 problems"), "{}", err.message);
        assert!(
            err.message.contains("- backup.jobs: 0 is out of range"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("- backup.split-size: must be a size"),
            "{}",
            err.message
        );
        let ok = parse_it(&spec("jobs = 3\nsplit-size = \"256MiB\"")).unwrap();
        assert_eq!((ok.backup.jobs, ok.backup.split_size), (3, 256 << 20));
        let default = parse_it(&spec("")).unwrap();
        assert_eq!(default.backup.split_size, 128 << 20);
        assert!(default.backup.jobs >= 1);
    }
}

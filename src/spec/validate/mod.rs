//! Raw spec -> [`DrillSpec`]: defaults, types and cross-references, every problem collected.
//!
//! One step per section of the spec, in the order its problems are reported; each pushes its
//! problems into the shared [`Problems`] and returns its validated part.

mod backup;
mod checks;
mod cost;
mod destination;
mod drill;
mod heartbeat;
mod managed;
mod same_server;
mod source;

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawMetrics, RawNotify, RawSpec, RawTargets, RawTools};
use super::*;

pub(super) fn validate(
    raw: RawSpec,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    p: &mut Problems,
) -> Option<DrillSpec> {
    let name = drill_name(raw.name, path, p);
    let source = source::source(raw.source.unwrap_or_default(), p);
    let timezone = timezone(raw.timezone, p);
    // Only pg_dump backups are firedrill's own, encrypted to age recipients.
    let keyless = !matches!(source.method, SourceMethod::PgDump);
    let physical = matches!(source.method, SourceMethod::PgBackRest(_));
    let backup = backup::backup(
        raw.backup.unwrap_or_default(),
        &timezone,
        keyless,
        physical,
        p,
    );
    let destinations = destination::destinations(raw.destination, p);
    let drill = drill::drill(
        raw.drill.unwrap_or_default(),
        &timezone,
        &destinations,
        physical,
        p,
    );
    same_server::check(&source, &drill, p);
    let targets = targets(raw.targets.unwrap_or_default(), p);
    let checks = checks::checks(raw.check, p);
    if let SourceMethod::PgBackRest(_) = source.method {
        source::physical_scratch(&drill.scratch, p);
        checks::physical_checks(&checks, p);
    }
    let tools = tools(raw.tools, env);
    let (metrics_textfile, metrics_pushgateway) = metrics(raw.metrics.unwrap_or_default(), p);
    let webhooks = webhooks(raw.notify, env, p);
    let heartbeat = heartbeat::heartbeat(raw.heartbeat, &source, p);
    let cost = cost::cost(raw.cost, p);
    if !p.is_empty() {
        return None;
    }
    Some(DrillSpec {
        name,
        path: path.to_path_buf(),
        source,
        backup,
        destinations,
        drill,
        targets,
        checks,
        tools,
        metrics_textfile,
        metrics_pushgateway,
        webhooks,
        heartbeat,
        cost,
    })
}

/// `name`, or the file's stem.
fn drill_name(name: Option<String>, path: &Path, p: &mut Problems) -> String {
    let name = name.unwrap_or_else(|| {
        path.file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default()
    });
    if !is_name(&name) {
        p.push(
            "name",
            format!("drill name `{name}` may only use letters, digits, `_` and `-`"),
            "set `name` to e.g. \"orders\"",
        );
    }
    name
}

/// `timezone`, UTC when unset; schedules are read in it.
fn timezone(timezone: Option<String>, p: &mut Problems) -> String {
    let timezone = timezone.unwrap_or_else(|| "UTC".into());
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        p.push(
            "timezone",
            format!("`{timezone}` is not an IANA time zone"),
            "use e.g. \"Europe/Berlin\" or \"UTC\"",
        );
    }
    timezone
}

/// A cron expression read in the spec's time zone (a bad zone is reported once, by
/// [`timezone`]).
fn schedule(key: &str, expr: Option<String>, timezone: &str, p: &mut Problems) -> Option<Schedule> {
    expr.and_then(|e| match Schedule::parse(&e, timezone) {
        Ok(s) => Some(s),
        Err(err) => {
            if !matches!(err, ScheduleError::TimeZone(_)) {
                p.push(
                    key,
                    err.to_string(),
                    "write five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"",
                );
            }
            None
        }
    })
}

fn targets(raw: RawTargets, p: &mut Problems) -> Targets {
    Targets {
        rto: duration(raw.rto, "targets.rto", p),
        rpo: duration(raw.rpo, "targets.rpo", p),
    }
}

fn tools(raw: Option<RawTools>, env: &dyn Fn(&str) -> Option<String>) -> ToolsSpec {
    ToolsSpec {
        bin_dir: raw
            .and_then(|t| t.bin_dir)
            .or_else(|| env("FIREDRILL_PG_BIN"))
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
    }
}

/// The textfile and the Pushgateway.
fn metrics(raw: RawMetrics, p: &mut Problems) -> (Option<PathBuf>, Option<url::Url>) {
    let textfile = raw.textfile.filter(|t| !t.is_empty()).map(PathBuf::from);
    (textfile, super::notify::pushgateway(raw.pushgateway, p))
}

fn webhooks(
    raw: Option<RawNotify>,
    env: &dyn Fn(&str) -> Option<String>,
    p: &mut Problems,
) -> Vec<Webhook> {
    super::notify::webhooks(raw.unwrap_or_default().webhook, env, p)
}

fn is_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 40
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// `16777216`, `"16MiB"`, `"16 MB"` (MB and MiB both mean 2^20 here: part sizes are binary).
fn parse_size(v: &toml::Value) -> Result<u64, ()> {
    match v {
        toml::Value::Integer(n) if *n > 0 => Ok(*n as u64),
        toml::Value::String(s) => {
            let t = s.trim();
            let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
            let n: u64 = t[..split].parse().map_err(|_| ())?;
            let mult = match t[split..].trim().to_ascii_lowercase().as_str() {
                "" | "b" => 1,
                "k" | "kb" | "kib" => 1 << 10,
                "m" | "mb" | "mib" => 1 << 20,
                "g" | "gb" | "gib" => 1 << 30,
                _ => return Err(()),
            };
            Ok(n * mult)
        }
        _ => Err(()),
    }
}

fn duration(value: Option<String>, key: &str, p: &mut Problems) -> Option<Duration> {
    let v = value?;
    match humantime::parse_duration(&v) {
        Ok(d) => Some(d),
        Err(e) => {
            p.push(
                key,
                format!("`{v}` is not a duration ({e})"),
                "write it like \"15m\", \"26h\" or \"7d\"",
            );
            None
        }
    }
}

/// A duration that must be above zero (a deadline of 0 would fail everything at once).
fn positive(d: Option<Duration>, key: &str, p: &mut Problems) -> Option<Duration> {
    match d {
        Some(d) if d.is_zero() => {
            p.push(key, "must be longer than 0 s", "write e.g. \"10m\"");
            None
        }
        other => other,
    }
}

/// A parallelism setting: 1 to 64, the cores available when unset.
fn jobs(value: Option<i64>, field: &str, p: &mut Problems) -> usize {
    match value {
        None => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        Some(j) if (1..=64).contains(&j) => j as usize,
        Some(j) => {
            p.push(field, format!("{j} is out of range"), "use 1 to 64");
            1
        }
    }
}

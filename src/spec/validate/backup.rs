//! `[backup]`: compression, encryption, parallelism, retention and schedule.

use std::time::Duration;

use super::{duration, jobs, parse_size, schedule};
use crate::catalog::retention::Retention;
use crate::pipeline::keys;
use crate::spec::raw::{RawBackup, RawRetention};
use crate::spec::{BackupPolicy, Compression, PgBackRestType, Problems, RowCountSource, Schedule};

pub(super) fn backup(
    raw: RawBackup,
    timezone: &str,
    is_rds: bool,
    physical: bool,
    p: &mut Problems,
) -> BackupPolicy {
    let (schedule, schedules_by_type) = schedules(raw.schedule.clone(), timezone, physical, p);
    let compression = compression(raw.compression.as_deref(), p);
    let recipients = recipients(raw.recipients, raw.recipients_file, is_rds, p);
    let jobs = jobs(raw.jobs, "backup.jobs", p);
    let split_size = split_size(raw.split_size.as_ref(), p);
    let row_counts = row_counts(raw.row_counts.as_deref(), p);
    if raw.exact_count_limit.is_some() && row_counts == RowCountSource::Dump {
        p.push(
            "backup.exact-count-limit",
            "only applies with row-counts = \"query\" (the dump stream counts every row for free)",
            "remove it, or set row-counts = \"query\"",
        );
    }
    let mut orphan_grace = Duration::from_secs(24 * 3600);
    let retention = raw.retention.map(|r| retention(r, &mut orphan_grace, p));
    if let Some(limit) = raw.exact_count_limit {
        if limit < 0 {
            p.push(
                "backup.exact-count-limit",
                "must not be negative",
                "give a row count such as 50000000",
            );
        }
    }
    BackupPolicy {
        compression,
        recipients,
        exact_count_limit: raw.exact_count_limit,
        row_counts,
        retention,
        orphan_grace,
        schedule,
        schedules_by_type,
        jobs,
        split_size,
    }
}

/// `schedule`: one cron expression, or for a pgbackrest source one per backup type
/// (`{ full = "0 1 * * 0", diff = "0 1 * * 1-6" }`).
fn schedules(
    value: Option<toml::Value>,
    timezone: &str,
    physical: bool,
    p: &mut Problems,
) -> (Option<Schedule>, Vec<(PgBackRestType, Schedule)>) {
    const KEY: &str = "backup.schedule";
    let table = match value {
        None => return (None, Vec::new()),
        Some(toml::Value::String(s)) => return (schedule(KEY, Some(s), timezone, p), Vec::new()),
        Some(toml::Value::Table(t)) if physical && !t.is_empty() => t,
        Some(toml::Value::Table(_)) if !physical => {
            p.push(
                KEY,
                "a schedule per backup type is for kind = \"pgbackrest\" sources",
                "give one cron expression, e.g. \"0 2 * * *\"",
            );
            return (None, Vec::new());
        }
        Some(_) => {
            p.push(
                KEY,
                "must be a cron expression or, for pgbackrest sources, a table of them by backup type",
                "write e.g. \"0 2 * * *\" or { full = \"0 1 * * 0\", diff = \"0 1 * * 1-6\" }",
            );
            return (None, Vec::new());
        }
    };
    let mut typed = Vec::new();
    for (k, v) in table {
        let key = format!("{KEY}.{k}");
        match (PgBackRestType::parse(&k), v) {
            (Some(t), toml::Value::String(cron)) => {
                if let Some(s) = schedule(&key, Some(cron), timezone, p) {
                    typed.push((t, s));
                }
            }
            (None, _) => p.push(
                &key,
                format!("`{k}` is not a pgBackRest backup type"),
                "use full, diff or incr",
            ),
            (Some(_), _) => p.push(
                &key,
                "must be a cron expression",
                "write e.g. \"0 1 * * 0\"",
            ),
        }
    }
    (None, typed)
}

fn compression(value: Option<&str>, p: &mut Problems) -> Compression {
    match parse_compression(value.unwrap_or("zstd:1")) {
        Ok(c) => c,
        Err(e) => {
            p.push(
                "backup.compression",
                e,
                "use \"zstd:1\" (levels 1-19) or \"none\"",
            );
            Compression::None
        }
    }
}

fn parse_compression(s: &str) -> Result<Compression, String> {
    match s {
        "none" => Ok(Compression::None),
        "zstd" => Ok(Compression::Zstd(3)),
        _ => match s.strip_prefix("zstd:").map(str::parse::<i32>) {
            Some(Ok(l)) if (1..=19).contains(&l) => Ok(Compression::Zstd(l)),
            _ => Err(format!("`{s}` is not a known compression")),
        },
    }
}

/// `recipients` and the lines of `recipients-file`; required unless the source is RDS.
fn recipients(
    listed: Option<Vec<String>>,
    file: Option<String>,
    is_rds: bool,
    p: &mut Problems,
) -> Vec<String> {
    let mut recipients = listed.unwrap_or_default();
    if let Some(file) = file {
        match std::fs::read_to_string(&file) {
            Ok(text) => recipients.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string),
            ),
            Err(e) => p.push(
                "backup.recipients-file",
                format!("cannot read `{file}`: {e}"),
                "point it at a file with one age recipient per line",
            ),
        }
    }
    if recipients.is_empty() && !is_rds {
        p.push(
            "backup.recipients",
            "no age recipient: backups must be encrypted",
            "run `firedrill keygen` and put the printed age1... recipient in backup.recipients",
        );
    }
    for (i, r) in recipients.iter().enumerate() {
        if let Err(e) = keys::parse_recipient(r) {
            p.push(
                &format!("backup.recipients[{i}]"),
                e,
                "use an `age1...` key from `firedrill keygen` or an `ssh-ed25519`/`ssh-rsa` public key",
            );
        }
    }
    recipients
}

fn split_size(value: Option<&toml::Value>, p: &mut Problems) -> u64 {
    match value.map(parse_size) {
        None => crate::method::pg_dump::split::DEFAULT_SPLIT_SIZE,
        Some(Ok(n)) if n >= 16 * 1024 => n,
        Some(_) => {
            p.push(
                "backup.split-size",
                "must be a size of at least 16 KiB",
                "write e.g. \"128MiB\" (tables this large are dumped as parallel parts)",
            );
            crate::method::pg_dump::split::DEFAULT_SPLIT_SIZE
        }
    }
}

fn row_counts(value: Option<&str>, p: &mut Problems) -> RowCountSource {
    match value {
        None | Some("dump") => RowCountSource::Dump,
        Some("query") => RowCountSource::Query,
        Some(other) => {
            p.push(
                "backup.row-counts",
                format!("`{other}` is not a row count source"),
                "use \"dump\" (counted in the dump stream) or \"query\" (count(*) in the snapshot)",
            );
            RowCountSource::Dump
        }
    }
}

/// `[backup.retention]`; its `orphan-grace` replaces the default grace when valid.
fn retention(r: RawRetention, orphan_grace: &mut Duration, p: &mut Problems) -> Retention {
    let mut count = |field: &str, v: Option<i64>| -> usize {
        match v {
            None => 0,
            Some(n) if (0..=100_000).contains(&n) => n as usize,
            Some(n) => {
                p.push(
                    &format!("backup.retention.{field}"),
                    format!("{n} is out of range"),
                    "use a count from 0 up",
                );
                0
            }
        }
    };
    let policy = Retention {
        keep_last: count("keep-last", r.keep_last),
        daily: count("daily", r.daily),
        weekly: count("weekly", r.weekly),
        monthly: count("monthly", r.monthly),
    };
    if policy == Retention::default() {
        p.push(
            "backup.retention",
            "keeps nothing",
            "set keep-last, daily, weekly and/or monthly",
        );
    }
    if let Some(g) = duration(r.orphan_grace, "backup.retention.orphan-grace", p) {
        *orphan_grace = g;
    }
    policy
}

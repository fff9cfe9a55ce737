//! Raw spec -> [`DrillSpec`]: defaults, types and cross-references, every problem collected.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawCheck, RawScratchServer, RawSpec};
use super::*;
use crate::pipeline::keys;

pub(super) fn validate(
    raw: RawSpec,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    p: &mut Problems,
) -> Option<DrillSpec> {
    let name = raw.name.clone().unwrap_or_else(|| {
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

    let raw_source = raw.source.unwrap_or_default();
    let rds_source = match raw_source.kind.as_deref() {
        None | Some("postgres") => {
            for (field, present) in [
                ("instance", raw_source.instance.is_some()),
                ("region", raw_source.region.is_some()),
                ("endpoint", raw_source.endpoint.is_some()),
                ("copy-to", raw_source.copy_to.is_some()),
                ("wait-timeout", raw_source.wait_timeout.is_some()),
                ("database", raw_source.database.is_some()),
            ] {
                if present {
                    p.push(
                        &format!("source.{field}"),
                        format!("`{field}` applies to kind = \"rds\" sources only"),
                        "remove it, or set kind = \"rds\"",
                    );
                }
            }
            None
        }
        Some("rds") => parse_rds_source(&raw_source, p),
        Some(other) => {
            p.push(
                "source.kind",
                format!("`{other}` is not a source kind"),
                "use \"postgres\" (pg_dump) or \"rds\" (snapshots)",
            );
            None
        }
    };
    let source_ca = raw_source.ca_file.clone().map(PathBuf::from);
    let source_url = raw_source.url.unwrap_or_default();
    if !(source_url.is_empty()
        || source_url.starts_with("postgres://")
        || source_url.starts_with("postgresql://"))
    {
        p.push(
            "source.url",
            format!(
                "`{}` is not a postgres:// URL",
                crate::source::redact_url(&source_url)
            ),
            "use postgres://user@host:5432/dbname (password via ${VAR} or PGPASSWORD)",
        );
    }

    let timezone = raw.timezone.clone().unwrap_or_else(|| "UTC".into());
    if timezone.parse::<chrono_tz::Tz>().is_err() {
        p.push(
            "timezone",
            format!("`{timezone}` is not an IANA time zone"),
            "use e.g. \"Europe/Berlin\" or \"UTC\"",
        );
    }
    let schedule = |key: &str, expr: Option<String>, p: &mut Problems| {
        expr.and_then(|e| match super::Schedule::parse(&e, &timezone) {
            Ok(s) => Some(s),
            Err(err) => {
                if !matches!(err, super::ScheduleError::TimeZone(_)) {
                    p.push(key, err.to_string(), "write five fields: minute hour day-of-month month day-of-week, e.g. \"0 2 * * *\"");
                }
                None
            }
        })
    };
    let backup = raw.backup.unwrap_or_default();
    let backup_schedule = schedule("backup.schedule", backup.schedule.clone(), p);
    let compression = match parse_compression(backup.compression.as_deref().unwrap_or("zstd:1")) {
        Ok(c) => c,
        Err(e) => {
            p.push(
                "backup.compression",
                e,
                "use \"zstd:1\" (levels 1-19) or \"none\"",
            );
            Compression::None
        }
    };
    let mut recipients = backup.recipients.unwrap_or_default();
    if let Some(file) = backup.recipients_file {
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
    if recipients.is_empty() && rds_source.is_none() {
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
    let backup_jobs = jobs(backup.jobs, "backup.jobs", p);
    let split_size = match backup.split_size.as_ref().map(parse_size) {
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
    };
    let row_counts = match backup.row_counts.as_deref() {
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
    };
    if backup.exact_count_limit.is_some() && row_counts == RowCountSource::Dump {
        p.push(
            "backup.exact-count-limit",
            "only applies with row-counts = \"query\" (the dump stream counts every row for free)",
            "remove it, or set row-counts = \"query\"",
        );
    }
    let mut orphan_grace = Duration::from_secs(24 * 3600);
    let retention = backup.retention.map(|r| {
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
        let policy = crate::catalog::retention::Retention {
            keep_last: count("keep-last", r.keep_last),
            daily: count("daily", r.daily),
            weekly: count("weekly", r.weekly),
            monthly: count("monthly", r.monthly),
        };
        if policy == crate::catalog::retention::Retention::default() {
            p.push(
                "backup.retention",
                "keeps nothing",
                "set keep-last, daily, weekly and/or monthly",
            );
        }
        if let Some(g) = duration(r.orphan_grace, "backup.retention.orphan-grace", p) {
            orphan_grace = g;
        }
        policy
    });
    if let Some(limit) = backup.exact_count_limit {
        if limit < 0 {
            p.push(
                "backup.exact-count-limit",
                "must not be negative",
                "give a row count such as 50000000",
            );
        }
    }

    let mut destinations: Vec<DestinationSpec> = Vec::new();
    if raw.destination.is_empty() {
        p.push(
            "destination",
            "no [[destination]]: backups need somewhere to go",
            "add [[destination]] name = \"primary\" url = \"file:///var/backups/firedrill\"",
        );
    }
    for (i, d) in raw.destination.into_iter().enumerate() {
        let key = match &d.name {
            Some(n) => format!("destination.{n}"),
            None => format!("destination[{i}]"),
        };
        let name = d.name.unwrap_or_default();
        if !is_name(&name) {
            p.push(
                &format!("{key}.name"),
                "every destination needs a name of letters, digits, `_` or `-`",
                "add name = \"primary\" (or \"dr\")",
            );
        } else if destinations.iter().any(|x| x.name == name) {
            p.push(
                &format!("{key}.name"),
                format!("destination name `{name}` is used twice"),
                "give each destination its own name",
            );
        }
        let url = d.url.unwrap_or_default();
        if let Err(e) = crate::storage::check_url(&url) {
            p.push(&format!("{key}.url"), e.0, e.1);
        }
        let is_s3 = url.starts_with("s3://");
        let s3_only = |field: &str, present: bool, p: &mut Problems| {
            if present && !is_s3 {
                p.push(
                    &format!("{key}.{field}"),
                    format!("`{field}` applies to s3:// destinations only"),
                    "remove it",
                );
            }
        };
        s3_only("region", d.region.is_some(), p);
        s3_only("endpoint", d.endpoint.is_some(), p);
        s3_only("part-size", d.part_size.is_some(), p);
        s3_only("concurrency", d.concurrency.is_some(), p);
        s3_only("object-lock", d.object_lock.is_some(), p);
        s3_only("sse", d.sse.is_some(), p);
        s3_only("kms-key-id", d.kms_key_id.is_some(), p);
        if is_s3 && d.region.as_deref().unwrap_or("").is_empty() {
            p.push(
                &format!("{key}.region"),
                "an s3:// destination needs its bucket's region",
                "add region = \"eu-west-1\" (the bucket's region)",
            );
        }
        if let Some(ep) = &d.endpoint {
            if !(ep.starts_with("http://") || ep.starts_with("https://")) {
                p.push(
                    &format!("{key}.endpoint"),
                    format!("`{ep}` is not an http(s) URL"),
                    "use e.g. \"http://127.0.0.1:4566\"",
                );
            }
        }
        let part_size = match d.part_size.as_ref().map(parse_size) {
            None => 16 * 1024 * 1024,
            Some(Ok(n)) if (5 * 1024 * 1024..=5 * 1024 * 1024 * 1024).contains(&n) => n as usize,
            Some(Ok(_)) | Some(Err(_)) => {
                p.push(
                    &format!("{key}.part-size"),
                    "must be between 5 MiB and 5 GiB (S3's limits)",
                    "write e.g. \"16MiB\"",
                );
                16 * 1024 * 1024
            }
        };
        let concurrency = match d.concurrency {
            None => 4,
            Some(c) if (1..=32).contains(&c) => c as usize,
            Some(c) => {
                p.push(
                    &format!("{key}.concurrency"),
                    format!("{c} is out of range"),
                    "use 1 to 32",
                );
                4
            }
        };
        let object_lock = d.object_lock.and_then(|l| {
            let mode = l.mode.unwrap_or_default().to_ascii_lowercase();
            let days = l.days.unwrap_or(0);
            if !(mode == "governance" || mode == "compliance") || !(1..=36500).contains(&days) {
                p.push(
                    &format!("{key}.object-lock"),
                    "needs mode = \"governance\" or \"compliance\" and days = 1..36500",
                    "write object-lock = { mode = \"compliance\", days = 30 }",
                );
                return None;
            }
            Some(ObjectLock {
                mode,
                days: days as u32,
            })
        });
        let sse = match d.sse.as_deref() {
            None => {
                if d.kms_key_id.is_some() {
                    p.push(
                        &format!("{key}.kms-key-id"),
                        "`kms-key-id` needs sse = \"aws:kms\"",
                        "add sse = \"aws:kms\"",
                    );
                }
                None
            }
            Some("AES256") => Some(Sse::Aes256),
            Some("aws:kms") => Some(Sse::Kms {
                key_id: d.kms_key_id.clone(),
            }),
            Some(other) => {
                p.push(
                    &format!("{key}.sse"),
                    format!("`{other}` is not a server-side encryption"),
                    "use \"AES256\" or \"aws:kms\"",
                );
                None
            }
        };
        destinations.push(DestinationSpec {
            name,
            url,
            region: d.region,
            endpoint: d.endpoint,
            part_size,
            concurrency,
            object_lock,
            sse,
        });
    }

    let drill = raw.drill.unwrap_or_default();
    let drill_schedule = schedule("drill.schedule", drill.schedule.clone(), p);
    let from = drill
        .from
        .or_else(|| destinations.last().map(|d| d.name.clone()))
        .unwrap_or_default();
    if !destinations.is_empty() && !destinations.iter().any(|d| d.name == from) {
        let names: Vec<&str> = destinations.iter().map(|d| d.name.as_str()).collect();
        p.push(
            "drill.from",
            format!("no destination named `{from}`"),
            format!("use one of: {}", names.join(", ")),
        );
    }
    let scratch = parse_scratch(drill.scratch, p);
    let jobs = jobs(drill.jobs, "drill.jobs", p);
    let work_dir = drill
        .work_dir
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("firedrill"));
    if !work_dir.is_absolute() {
        p.push(
            "drill.work-dir",
            "must be an absolute path",
            "use e.g. \"/var/tmp/firedrill\"",
        );
    }

    let targets_raw = raw.targets.unwrap_or_default();
    let targets = Targets {
        rto: duration(targets_raw.rto, "targets.rto", p),
        rpo: duration(targets_raw.rpo, "targets.rpo", p),
    };

    let mut checks: Vec<CheckSpec> = Vec::new();
    for (i, c) in raw.check.into_iter().enumerate() {
        if let Some(check) = parse_check(c, i, p) {
            if checks.iter().any(|x| x.name == check.name) {
                p.push(
                    &format!("check.{}", check.name),
                    format!("check name `{}` is used twice", check.name),
                    "give each check its own name",
                );
            }
            checks.push(check);
        }
    }

    let tools = ToolsSpec {
        bin_dir: raw
            .tools
            .and_then(|t| t.bin_dir)
            .or_else(|| env("FIREDRILL_PG_BIN"))
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
    };

    let metrics = raw.metrics.unwrap_or_default();
    let metrics_textfile = metrics
        .textfile
        .filter(|t| !t.is_empty())
        .map(PathBuf::from);
    let metrics_pushgateway = super::notify::pushgateway(metrics.pushgateway, p);
    let webhooks = super::notify::webhooks(raw.notify.unwrap_or_default().webhook, env, p);

    if !p.is_empty() {
        return None;
    }
    Some(DrillSpec {
        name,
        path: path.to_path_buf(),
        source: SourceSpec {
            url: SecretString::from(source_url),
            ca_file: source_ca,
            method: match rds_source {
                Some(r) => SourceMethod::Rds(r),
                None => SourceMethod::PgDump,
            },
        },
        backup: BackupPolicy {
            compression,
            recipients,
            exact_count_limit: backup.exact_count_limit,
            row_counts,
            retention,
            orphan_grace,
            schedule: backup_schedule,
            jobs: backup_jobs,
            split_size,
        },
        destinations,
        drill: DrillPolicy {
            from,
            signing_key_file: drill
                .signing_key_file
                .clone()
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            schedule: drill_schedule,
            identity_file: drill
                .identity_file
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            scratch,
            reports: PathBuf::from(drill.reports.unwrap_or_else(|| "./reports".into())),
            jobs,
            work_dir,
            run_as: drill.run_as.unwrap_or_else(|| "postgres".into()),
        },
        targets,
        checks,
        tools,
        metrics_textfile,
        metrics_pushgateway,
        webhooks,
    })
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

fn parse_scratch(value: Option<toml::Value>, p: &mut Problems) -> ScratchSpec {
    let fix = "use scratch = \"ephemeral\" or scratch = { server = \"postgres://...\", prefix = \"firedrill_\" }";
    match value {
        None => ScratchSpec::Ephemeral,
        Some(toml::Value::String(s)) if s == "ephemeral" => ScratchSpec::Ephemeral,
        Some(toml::Value::Table(t)) => {
            let mut unknown = Vec::new();
            let names = t.clone();
            let raw: RawScratchServer =
                match serde_ignored::deserialize(toml::Value::Table(t), |path| {
                    unknown.push(super::key_path(&path, &names))
                }) {
                    Ok(r) => r,
                    Err(e) => {
                        p.push("drill.scratch", e.to_string(), fix);
                        return ScratchSpec::Ephemeral;
                    }
                };
            for k in unknown {
                p.push(
                    &format!("drill.scratch.{k}"),
                    format!("unknown key `{k}`"),
                    "scratch takes `server` and `prefix`, or `rds = { ... }` (see drills/full.toml)",
                );
            }
            if let Some(rds) = raw.rds {
                if raw.server.is_some() || raw.prefix.is_some() {
                    p.push(
                        "drill.scratch",
                        "give either `server` or `rds`, not both",
                        fix,
                    );
                }
                return ScratchSpec::Rds(Box::new(parse_rds_scratch(rds, p)));
            }
            let url = raw.server.unwrap_or_default();
            if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                p.push(
                    "drill.scratch.server",
                    "a scratch server needs a postgres:// URL",
                    fix,
                );
            }
            let prefix = raw.prefix.unwrap_or_else(|| "firedrill_".into());
            if prefix.len() < 3
                || !prefix
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            {
                p.push(
                    "drill.scratch.prefix",
                    format!("prefix `{prefix}` must be 3+ characters of a-z, 0-9 and `_`"),
                    "use the default \"firedrill_\"",
                );
            }
            ScratchSpec::Server {
                url: SecretString::from(url),
                prefix,
            }
        }
        Some(other) => {
            p.push(
                "drill.scratch",
                format!("`{other}` is not a scratch target"),
                fix,
            );
            ScratchSpec::Ephemeral
        }
    }
}

fn parse_rds_scratch(r: super::raw::RawScratchRds, p: &mut Problems) -> RdsScratch {
    let key = "drill.scratch.rds";
    let region = r.region.unwrap_or_default();
    if region.is_empty() {
        p.push(
            &format!("{key}.region"),
            "the region to restore in is required",
            "add region = \"eu-west-1\" (where the snapshot copies are)",
        );
    }
    let point_in_time = match r.restore.as_deref() {
        None | Some("snapshot") => false,
        Some("latest-restorable") => true,
        Some(other) => {
            p.push(
                &format!("{key}.restore"),
                format!("`{other}` is not a restore kind"),
                "use \"snapshot\" or \"latest-restorable\"",
            );
            false
        }
    };
    let password = match (r.password_env, r.password_file) {
        (Some(env), None) => RdsPassword::Env(env),
        (None, Some(file)) => RdsPassword::File(PathBuf::from(file)),
        (None, None) => RdsPassword::Env("FIREDRILL_RDS_PASSWORD".into()),
        (Some(_), Some(_)) => {
            p.push(
                key,
                "give password-env or password-file, not both",
                "keep one",
            );
            RdsPassword::Env("FIREDRILL_RDS_PASSWORD".into())
        }
    };
    let wait_timeout = duration(r.wait_timeout, &format!("{key}.wait-timeout"), p)
        .unwrap_or(Duration::from_secs(45 * 60));
    let ttl = duration(r.ttl, &format!("{key}.ttl"), p).unwrap_or(Duration::from_secs(6 * 3600));
    RdsScratch {
        region,
        endpoint: r.endpoint,
        instance_class: r.instance_class.unwrap_or_else(|| "db.t3.medium".into()),
        subnet_group: r.subnet_group,
        security_groups: r.security_groups.unwrap_or_default(),
        parameter_group: r.parameter_group,
        point_in_time,
        wait_timeout,
        user: r.user,
        password,
        ca_file: r.ca_file.map(PathBuf::from),
        database: r.database,
        ttl,
    }
}

fn parse_rds_source(s: &super::raw::RawSource, p: &mut Problems) -> Option<RdsSource> {
    let key = "source";
    let instance = s.instance.clone().unwrap_or_default();
    let region = s.region.clone().unwrap_or_default();
    if instance.is_empty() {
        p.push(
            &format!("{key}.instance"),
            "an rds source needs the DB instance identifier",
            "add instance = \"orders-prod\"",
        );
    }
    if region.is_empty() {
        p.push(
            &format!("{key}.region"),
            "an rds source needs the instance's region",
            "add region = \"us-east-1\"",
        );
    }
    let mut copy_to = Vec::new();
    for (i, v) in s
        .copy_to
        .clone()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
    {
        match v {
            toml::Value::String(region) => copy_to.push(RdsCopy {
                region,
                kms_key_id: None,
            }),
            toml::Value::Table(t) => match toml::Value::Table(t).try_into::<super::raw::RawCopyTo>()
            {
                Ok(c) if c.region.is_some() => copy_to.push(RdsCopy {
                    region: c.region.unwrap_or_default(),
                    kms_key_id: c.kms_key_id,
                }),
                _ => p.push(
                    &format!("{key}.copy-to[{i}]"),
                    "needs a region",
                    "write { region = \"eu-west-1\", kms-key-id = \"...\" } or just \"eu-west-1\"",
                ),
            },
            _ => p.push(
                &format!("{key}.copy-to[{i}]"),
                "is not a region",
                "write \"eu-west-1\"",
            ),
        }
    }
    let wait_timeout = duration(s.wait_timeout.clone(), &format!("{key}.wait-timeout"), p)
        .unwrap_or(Duration::from_secs(2 * 3600));
    Some(RdsSource {
        instance,
        region,
        endpoint: s.endpoint.clone(),
        database: s.database.clone().unwrap_or_else(|| "postgres".into()),
        copy_to,
        wait_timeout,
    })
}

fn parse_check(c: RawCheck, i: usize, p: &mut Problems) -> Option<CheckSpec> {
    let key = match &c.name {
        Some(n) => format!("check.{n}"),
        None => format!("check[{i}]"),
    };
    let Some(name) = c.name.clone().filter(|n| !n.trim().is_empty()) else {
        p.push(
            &format!("{key}.name"),
            "every check needs a name",
            "add name = \"...\"",
        );
        return None;
    };
    let kind = c
        .kind
        .clone()
        .unwrap_or_else(|| if c.sql.is_some() { "sql" } else { "" }.into());
    let mut unused = |field: &str, present: bool| {
        if present {
            p.push(
                &format!("{key}.{field}"),
                format!("`{field}` does not apply to a `{kind}` check"),
                "remove it",
            );
        }
    };
    let kind = match kind.as_str() {
        "sql" => {
            unused("table", c.table.is_some());
            unused("column", c.column.is_some());
            unused("within", c.within.is_some());
            let sql = c.sql.unwrap_or_default();
            if sql.trim().is_empty() {
                p.push(
                    &format!("{key}.sql"),
                    "an sql check needs `sql`",
                    "add sql = \"select count(*) from orders\"",
                );
            }
            let expect = match c.expect.as_deref().map(Expect::parse) {
                Some(Ok(e)) => e,
                Some(Err(e)) => {
                    p.push(
                        &format!("{key}.expect"),
                        e,
                        "write e.g. \">= 1000\", \"== 'ok'\", \"between 1 and 5\" or \"is null\"",
                    );
                    return None;
                }
                None => {
                    p.push(
                        &format!("{key}.expect"),
                        "an sql check needs `expect`",
                        "add expect = \">= 1\"",
                    );
                    return None;
                }
            };
            CheckKind::Sql { sql, expect }
        }
        "row-counts" | "schema" | "amcheck" => {
            unused("sql", c.sql.is_some());
            unused("expect", c.expect.is_some());
            unused("table", c.table.is_some());
            unused("column", c.column.is_some());
            unused("within", c.within.is_some());
            match kind.as_str() {
                "row-counts" => CheckKind::RowCounts,
                "schema" => CheckKind::Schema,
                _ => CheckKind::Amcheck {
                    heapallindexed: c.heapallindexed.unwrap_or(false),
                },
            }
        }
        "freshness" => {
            unused("sql", c.sql.is_some());
            unused("expect", c.expect.is_some());
            let within = duration(c.within, &format!("{key}.within"), p);
            let (Some(table), Some(column), Some(within)) = (c.table, c.column, within) else {
                p.push(
                    &key,
                    "a freshness check needs `table`, `column` and `within`",
                    "add table = \"orders\", column = \"created_at\", within = \"1h\"",
                );
                return None;
            };
            CheckKind::Freshness {
                table,
                column,
                within,
            }
        }
        other => {
            p.push(
                &format!("{key}.kind"),
                format!("unknown check kind `{other}`"),
                "use sql, row-counts, schema, freshness or amcheck",
            );
            return None;
        }
    };
    if c.heapallindexed.is_some() && !matches!(kind, CheckKind::Amcheck { .. }) {
        p.push(
            &format!("{key}.heapallindexed"),
            "only amcheck checks take `heapallindexed`",
            "remove it",
        );
    }
    Some(CheckSpec { name, kind })
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

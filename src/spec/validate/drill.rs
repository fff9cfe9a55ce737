//! `[drill]`: where drills read from, what they restore into, and how.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use super::{duration, jobs, positive, schedule};
use crate::spec::raw::{RawDrill, RawScratchRds, RawScratchServer};
use crate::spec::{
    key_path, DestinationSpec, DrillPolicy, Problems, RdsPassword, RdsScratch, ScratchSpec,
};

const SCRATCH_FIX: &str = "use scratch = \"ephemeral\" or scratch = { server = \"postgres://...\", prefix = \"firedrill_\" }";

pub(super) fn drill(
    raw: RawDrill,
    timezone: &str,
    destinations: &[DestinationSpec],
    physical: bool,
    p: &mut Problems,
) -> DrillPolicy {
    let schedule = schedule("drill.schedule", raw.schedule.clone(), timezone, p);
    let from = from(raw.from, destinations, physical, p);
    let scratch = scratch(raw.scratch, p);
    let jobs = jobs(raw.jobs, "drill.jobs", p);
    let work_dir = raw
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
    DrillPolicy {
        from,
        signing_key_file: raw
            .signing_key_file
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        schedule,
        identity_file: raw
            .identity_file
            .filter(|s| !s.is_empty())
            .map(PathBuf::from),
        scratch,
        reports: PathBuf::from(raw.reports.unwrap_or_else(|| "./reports".into())),
        jobs,
        work_dir,
        run_as: raw.run_as.unwrap_or_else(|| "postgres".into()),
        negative_controls: raw.negative_controls.unwrap_or(true),
        timeout: positive(
            duration(raw.timeout, "drill.timeout", p),
            "drill.timeout",
            p,
        ),
        random_within: positive(
            duration(raw.random_within, "drill.random-within", p),
            "drill.random-within",
            p,
        ),
        monitored_since: raw
            .monitored_since
            .and_then(|t| monitored_since(&t, timezone, p)),
    }
}

/// `monitored-since`: RFC 3339, or a date (midnight in the spec's timezone).
fn monitored_since(
    text: &str,
    timezone: &str,
    p: &mut Problems,
) -> Option<chrono::DateTime<chrono::Utc>> {
    use chrono::TimeZone;
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(text) {
        return Some(t.with_timezone(&chrono::Utc));
    }
    let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
    let tz: Option<chrono_tz::Tz> = timezone.parse().ok();
    match (date, tz) {
        (Some(d), Some(tz)) => tz
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
            .earliest()
            .map(|t| t.with_timezone(&chrono::Utc)),
        _ => {
            p.push(
                "drill.monitored-since",
                format!("`{text}` is not a date or an RFC 3339 time"),
                "write e.g. \"2026-10-01\" (midnight in the spec's timezone) or \"2026-10-01T00:00:00Z\"",
            );
            None
        }
    }
}

/// `from`: a destination's name, the last destination when unset; for a pgbackrest source
/// (`physical`) also a repository, `repo<N>`.
fn from(
    from: Option<String>,
    destinations: &[DestinationSpec],
    physical: bool,
    p: &mut Problems,
) -> String {
    let from = from
        .or_else(|| destinations.last().map(|d| d.name.clone()))
        .unwrap_or_default();
    if physical && crate::method::pgbackrest::repo_key(&from).is_some() {
        return from;
    }
    if !destinations.is_empty() && !destinations.iter().any(|d| d.name == from) {
        let names: Vec<&str> = destinations.iter().map(|d| d.name.as_str()).collect();
        p.push(
            "drill.from",
            format!("no destination named `{from}`"),
            format!(
                "use one of: {}{}",
                names.join(", "),
                if physical {
                    ", or a repository: repo1, repo2, ..."
                } else {
                    ""
                }
            ),
        );
    }
    from
}

/// `scratch`: `"ephemeral"` (the default), a `server`, or `rds = { ... }`.
fn scratch(value: Option<toml::Value>, p: &mut Problems) -> ScratchSpec {
    match value {
        None => ScratchSpec::Ephemeral,
        Some(toml::Value::String(s)) if s == "ephemeral" => ScratchSpec::Ephemeral,
        Some(toml::Value::Table(t)) => scratch_table(t, p),
        Some(other) => {
            p.push(
                "drill.scratch",
                format!("`{other}` is not a scratch target"),
                SCRATCH_FIX,
            );
            ScratchSpec::Ephemeral
        }
    }
}

fn scratch_table(t: toml::Table, p: &mut Problems) -> ScratchSpec {
    let mut unknown = Vec::new();
    let names = t.clone();
    let raw: RawScratchServer = match serde_ignored::deserialize(toml::Value::Table(t), |path| {
        unknown.push(key_path(&path, &names))
    }) {
        Ok(r) => r,
        Err(e) => {
            p.push("drill.scratch", e.to_string(), SCRATCH_FIX);
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
                SCRATCH_FIX,
            );
        }
        return ScratchSpec::Rds(Box::new(rds_scratch(rds, p)));
    }
    scratch_server(raw.server, raw.prefix, p)
}

fn scratch_server(server: Option<String>, prefix: Option<String>, p: &mut Problems) -> ScratchSpec {
    let url = server.unwrap_or_default();
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        p.push(
            "drill.scratch.server",
            "a scratch server needs a postgres:// URL",
            SCRATCH_FIX,
        );
    } else if crate::pg::conn::ambiguous_userinfo(&url) {
        p.push(
            "drill.scratch.server",
            "the user or password holds `@`, `/`, `?` or `#` unencoded, so where the host begins is a guess",
            "percent-encode them in the URL (@ as %40, / as %2F, ? as %3F, # as %23)",
        );
    }
    let prefix = prefix.unwrap_or_else(|| "firedrill_".into());
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

fn rds_scratch(r: RawScratchRds, p: &mut Problems) -> RdsScratch {
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
    let password = rds_password(r.password_env, r.password_file, p);
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

/// `password-env` or `password-file`, `FIREDRILL_RDS_PASSWORD` when neither is given.
fn rds_password(env: Option<String>, file: Option<String>, p: &mut Problems) -> RdsPassword {
    match (env, file) {
        (Some(env), None) => RdsPassword::Env(env),
        (None, Some(file)) => RdsPassword::File(PathBuf::from(file)),
        (None, None) => RdsPassword::Env("FIREDRILL_RDS_PASSWORD".into()),
        (Some(_), Some(_)) => {
            p.push(
                "drill.scratch.rds",
                "give password-env or password-file, not both",
                "keep one",
            );
            RdsPassword::Env("FIREDRILL_RDS_PASSWORD".into())
        }
    }
}

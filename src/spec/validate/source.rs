//! `[source]`: the database protected and its backup method.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use super::duration;
use crate::spec::raw::{RawCopyTo, RawSource};
use crate::spec::{Problems, RdsCopy, RdsSource, SourceMethod, SourceSpec};

pub(super) fn source(raw: RawSource, p: &mut Problems) -> SourceSpec {
    let rds = method(&raw, p);
    let ca_file = raw.ca_file.clone().map(PathBuf::from);
    let url = raw.url.unwrap_or_default();
    if !(url.is_empty() || url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        p.push(
            "source.url",
            format!(
                "`{}` is not a postgres:// URL",
                crate::source::redact_url(&url)
            ),
            "use postgres://user@host:5432/dbname (password via ${VAR} or PGPASSWORD)",
        );
    } else if crate::pg::conn::ambiguous_userinfo(&url) {
        p.push(
            "source.url",
            "the user or password holds `@`, `/`, `?` or `#` unencoded, so where the host begins is a guess",
            "percent-encode them in the URL (@ as %40, / as %2F, ? as %3F, # as %23), or give the password in PGPASSWORD",
        );
    }
    SourceSpec {
        url: SecretString::from(url),
        ca_file,
        method: match rds {
            Some(r) => SourceMethod::Rds(r),
            None => SourceMethod::PgDump,
        },
    }
}

/// `kind`: the RDS instance of an rds source, `None` for pg_dump (or a bad kind).
fn method(raw: &RawSource, p: &mut Problems) -> Option<RdsSource> {
    match raw.kind.as_deref() {
        None | Some("postgres") => {
            for (field, present) in [
                ("instance", raw.instance.is_some()),
                ("region", raw.region.is_some()),
                ("endpoint", raw.endpoint.is_some()),
                ("copy-to", raw.copy_to.is_some()),
                ("wait-timeout", raw.wait_timeout.is_some()),
                ("database", raw.database.is_some()),
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
        Some("rds") => Some(rds_source(raw, p)),
        Some(other) => {
            p.push(
                "source.kind",
                format!("`{other}` is not a source kind"),
                "use \"postgres\" (pg_dump) or \"rds\" (snapshots)",
            );
            None
        }
    }
}

fn rds_source(s: &RawSource, p: &mut Problems) -> RdsSource {
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
    let copy_to = copy_to(s.copy_to.clone().unwrap_or_default(), p);
    let wait_timeout = duration(s.wait_timeout.clone(), &format!("{key}.wait-timeout"), p)
        .unwrap_or(Duration::from_secs(2 * 3600));
    RdsSource {
        instance,
        region,
        endpoint: s.endpoint.clone(),
        database: s.database.clone().unwrap_or_else(|| "postgres".into()),
        copy_to,
        wait_timeout,
    }
}

/// `copy-to`: regions, each a string or `{ region, kms-key-id }`.
fn copy_to(values: Vec<toml::Value>, p: &mut Problems) -> Vec<RdsCopy> {
    let key = "source";
    let mut copy_to = Vec::new();
    for (i, v) in values.into_iter().enumerate() {
        match v {
            toml::Value::String(region) => copy_to.push(RdsCopy {
                region,
                kms_key_id: None,
            }),
            toml::Value::Table(t) => match toml::Value::Table(t).try_into::<RawCopyTo>() {
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
    copy_to
}

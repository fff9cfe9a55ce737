//! `[source]`: the database protected and its backup method.

use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;

use super::duration;
use crate::spec::raw::{RawCopyTo, RawSource};
use crate::spec::{
    PgBackRestSource, PgBackRestType, PitrTarget, Problems, RdsCopy, RdsSource, ScratchSpec,
    SourceMethod, SourceSpec,
};

pub(super) fn source(raw: RawSource, p: &mut Problems) -> SourceSpec {
    let method = method(&raw, p);
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
    } else if url.is_empty() && matches!(method, SourceMethod::PgBackRest(_)) {
        p.push(
            "source.url",
            "a pgbackrest source needs the URL of the cluster pgBackRest backs up: `check` reads its archiving settings and pg_stat_archiver there",
            "add url = \"postgres://user@host:5432/postgres\"",
        );
    }
    SourceSpec {
        url: SecretString::from(url),
        ca_file,
        method,
    }
}

/// The keys only one kind of source takes: (key, kinds that take it, present).
fn kind_only_keys(raw: &RawSource) -> [(&'static str, &'static str, bool); 14] {
    [
        ("instance", "rds", raw.instance.is_some()),
        ("region", "rds", raw.region.is_some()),
        ("endpoint", "rds", raw.endpoint.is_some()),
        ("copy-to", "rds", raw.copy_to.is_some()),
        ("database", "rds", raw.database.is_some()),
        ("wait-timeout", "rds pgbackrest", raw.wait_timeout.is_some()),
        ("stanza", "pgbackrest", raw.stanza.is_some()),
        ("config", "pgbackrest", raw.config.is_some()),
        ("backup", "pgbackrest", raw.backup.is_some()),
        ("backup-type", "pgbackrest", raw.backup_type.is_some()),
        ("pg-path", "pgbackrest", raw.pg_path.is_some()),
        ("pg-socket-path", "pgbackrest", raw.pg_socket_path.is_some()),
        ("repository", "pgbackrest", raw.repository.is_some()),
        ("options", "pgbackrest", raw.options.is_some()),
    ]
}

/// `kind`: pg_dump (the default, also for a bad kind), rds or pgbackrest, and the keys given
/// that the kind does not take.
fn method(raw: &RawSource, p: &mut Problems) -> SourceMethod {
    let kind = raw.kind.as_deref().unwrap_or("postgres");
    let method = match kind {
        "postgres" => SourceMethod::PgDump,
        "rds" => SourceMethod::Rds(rds_source(raw, p)),
        "pgbackrest" => SourceMethod::PgBackRest(pgbackrest_source(raw, p)),
        other => {
            p.push(
                "source.kind",
                format!("`{other}` is not a source kind"),
                "use \"postgres\" (pg_dump), \"rds\" (snapshots) or \"pgbackrest\" (physical backups)",
            );
            return SourceMethod::PgDump;
        }
    };
    for (field, kinds, present) in kind_only_keys(raw) {
        if present && !kinds.split(' ').any(|k| k == kind) {
            let takes = kinds
                .split(' ')
                .map(|k| format!("kind = \"{k}\""))
                .collect::<Vec<_>>()
                .join(" or ");
            p.push(
                &format!("source.{field}"),
                format!("`{field}` applies to {takes} sources only"),
                format!("remove it, or set {takes}"),
            );
        }
    }
    method
}

/// `kind = "pgbackrest"`: the stanza in an existing `pgbackrest.conf`, or in the one
/// firedrill writes (managed mode).
fn pgbackrest_source(s: &RawSource, p: &mut Problems) -> PgBackRestSource {
    let stanza = s.stanza.clone().unwrap_or_default();
    if stanza.is_empty() {
        p.push(
            "source.stanza",
            "a pgbackrest source needs the stanza pgBackRest backs the cluster up under",
            "add stanza = \"main\" (the [section] of pgbackrest.conf naming pg1-path)",
        );
    } else if !stanza
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        p.push(
            "source.stanza",
            format!("stanza `{stanza}` may only use letters, digits, `_`, `-` and `.`"),
            "use the stanza's name as pgbackrest.conf spells it",
        );
    }
    let config = s
        .config
        .clone()
        .filter(|c| !c.is_empty())
        .map(PathBuf::from);
    let managed =
        super::managed::managed(s, config.as_ref(), s.url.as_deref().unwrap_or_default(), p);
    if let (Some(c), None) = (&config, &managed) {
        if !c.is_file() {
            p.push(
                "source.config",
                format!("`{}` is not a file", c.display()),
                "point it at the pgbackrest.conf that names the stanza and its repositories (firedrill only reads it)",
            );
        }
    }
    let backup_type = match s
        .backup_type
        .as_deref()
        .map(|t| (t, PgBackRestType::parse(t)))
    {
        None => PgBackRestType::Full,
        Some((_, Some(t))) => t,
        Some((other, None)) => {
            p.push(
                "source.backup-type",
                format!("`{other}` is not a pgBackRest backup type"),
                "use \"full\", \"diff\" or \"incr\"",
            );
            PgBackRestType::Full
        }
    };
    let backup_timeout = duration(s.wait_timeout.clone(), "source.wait-timeout", p)
        .unwrap_or(Duration::from_secs(6 * 3600));
    PgBackRestSource {
        stanza,
        config,
        managed,
        backup: s.backup.unwrap_or(true),
        backup_type,
        backup_timeout,
        target: PitrTarget::Latest,
        chosen: None,
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

/// Physical backups restore into an ephemeral cluster only (a server database or an RDS
/// instance cannot take a base backup).
pub(super) fn physical_scratch(scratch: &ScratchSpec, p: &mut Problems) {
    if !matches!(scratch, ScratchSpec::Ephemeral) {
        p.push(
            "drill.scratch",
            "a pgbackrest source restores its physical backups into an ephemeral cluster only",
            "set scratch = \"ephemeral\" (or remove it: ephemeral is the default)",
        );
    }
}

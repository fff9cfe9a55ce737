//! `check` of a pgbackrest spec, without writing anywhere (never `pgbackrest check`, which
//! forces a WAL switch on the source): pgbackrest is installed and new enough, `info` finds
//! the stanza and every repository ok, the source archives through pgBackRest and its
//! archiver has not failed since its last success, and the destination that holds
//! firedrill's lease takes writes.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::command::PgBackRest;
use super::info::{self, repo_name, Stanza};
use super::managed::{self, Managed, Written};
use super::version;
use crate::method::{preflight, CheckItem};
use crate::pg::PgTarget;
use crate::spec::DrillSpec;
use crate::{Error, Result};

pub async fn run(spec: &DrillSpec, pgbr: &PgBackRest) -> Vec<CheckItem> {
    let mut items = vec![CheckItem::from_result(
        "pgbackrest",
        version::require(pgbr).await,
    )];
    if let Some(m) = pgbr.managed() {
        items.push(CheckItem::from_result(
            "configuration",
            configuration(pgbr, m),
        ));
    }
    items.extend(repositories(pgbr).await);
    let client = source(spec).await;
    let managed = pgbr
        .managed()
        .map(|m| (m.path.as_path(), pgbr.stanza.as_str()));
    items.push(CheckItem::from_result(
        "archiving",
        match &client {
            Ok(c) => archiving(c, managed).await,
            Err(e) => Err(Error::source_db(e.message.clone())),
        },
    ));
    items.push(CheckItem::from_result(
        "archiver",
        match &client {
            Ok(c) => archiver(c).await,
            Err(e) => Err(Error::new(e.kind, e.message.clone())),
        },
    ));
    items.extend(preflight::destinations(spec).await);
    items
}

/// Managed mode: the file written (or already current), every secret's variable set.
fn configuration(pgbr: &PgBackRest, m: &Managed) -> Result<String> {
    let written = pgbr.write_config()?;
    m.require_secrets()?;
    Ok(format!(
        "`{}` {} (managed by firedrill)",
        m.path.display(),
        match written {
            Some(Written::Written) => "written",
            _ => "up to date",
        }
    ))
}

/// The stanza, then one item per repository it has.
async fn repositories(pgbr: &PgBackRest) -> Vec<CheckItem> {
    let what = format!("stanza {}", pgbr.stanza);
    let stanza = match pgbr
        .info_json()
        .await
        .and_then(|j| info::parse(&j, &pgbr.stanza))
    {
        Ok(s) => s,
        Err(e) => return vec![CheckItem::from_result(&what, Err(e))],
    };
    let mut items = vec![CheckItem::from_result(
        &what,
        stanza_status(&stanza).map_err(|e| match pgbr.managed() {
            Some(_) => e.hint("run `firedrill backup SPEC`: with a managed configuration it creates the stanza (pgbackrest stanza-create) before the first backup"),
            None => e,
        }),
    )];
    for r in &stanza.repo {
        items.push(CheckItem::from_result(
            &format!("repository {}", repo_name(r.key)),
            repo_status(&stanza, r.key),
        ));
    }
    items
}

fn stanza_status(s: &Stanza) -> Result<String> {
    if s.status.usable() {
        return Ok(format!(
            "{} in {} repositor{}",
            s.status.message,
            s.repo.len(),
            if s.repo.len() == 1 { "y" } else { "ies" }
        ));
    }
    Err(Error::storage(format!(
        "pgBackRest reports stanza `{}`: {}",
        s.name, s.status.message
    ))
    .hint("check source.stanza and source.config; a new stanza needs `pgbackrest stanza-create` as the database's OS user"))
}

fn repo_status(s: &Stanza, key: u32) -> Result<String> {
    let repo = s.repo.iter().find(|r| r.key == key).expect("listed");
    if !repo.status.usable() {
        return Err(Error::storage(format!(
            "pgBackRest reports {} of stanza `{}`: {}",
            repo_name(key),
            s.name,
            repo.status.message
        ))
        .hint(format!(
            "check {}-path (or its bucket) in pgbackrest.conf and run `pgbackrest info --repo={key}` as the database's OS user",
            repo_name(key)
        )));
    }
    let backups = s.backups_in(key).count();
    let wal = s
        .archives_in(key)
        .last()
        .map(|a| {
            format!(
                ", WAL {} to {}",
                a.min.as_deref().unwrap_or("-"),
                a.max.as_deref().unwrap_or("-")
            )
        })
        .unwrap_or_default();
    Ok(format!("{}, {backups} backup(s){wal}", repo.status.message))
}

async fn source(spec: &DrillSpec) -> Result<tokio_postgres::Client> {
    PgTarget::from_url(&spec.source.url, "source.url")?
        .with_ca(spec.source.ca_file.clone())
        .connect("the source database")
        .await
}

/// `archive_mode` is on and `archive_command` pushes through pgBackRest (in managed mode,
/// with firedrill's configuration and the stanza). The command itself is never printed (it
/// may carry credentials).
async fn archiving(c: &tokio_postgres::Client, managed: Option<(&Path, &str)>) -> Result<String> {
    let mode = show(c, "archive_mode").await?;
    let command = show(c, "archive_command").await?;
    if mode != "on" && mode != "always" {
        return Err(Error::source_db(format!(
            "the source archives no WAL (archive_mode = {mode}): pgBackRest backups cannot be restored past their end"
        ))
        .hint("set archive_mode = on and archive_command = 'pgbackrest --stanza=STANZA archive-push %p', then restart PostgreSQL"));
    }
    if !(command.contains("pgbackrest") && command.contains("archive-push")) {
        return Err(Error::source_db(
            "the source's archive_command does not run `pgbackrest ... archive-push`: its WAL does not reach the repositories",
        )
        .hint("set archive_command = 'pgbackrest --stanza=STANZA archive-push %p' and reload PostgreSQL"));
    }
    if let Some((config, stanza)) = managed {
        if !managed::archive_uses(&command, config, stanza) {
            return Err(Error::source_db(format!(
                "the source's archive_command does not push with the configuration firedrill writes (`{}`) and stanza `{stanza}`: its WAL may not reach the spec's repositories",
                config.display()
            ))
            .hint(format!(
                "set archive_command = '{}' and reload PostgreSQL",
                managed::archive_command(config, stanza)
            )));
        }
    }
    Ok(format!(
        "archive_mode = {mode}, archive_command runs pgbackrest archive-push"
    ))
}

async fn show(c: &tokio_postgres::Client, setting: &str) -> Result<String> {
    let row = c
        .query_one("select current_setting($1)", &[&setting])
        .await
        .map_err(|e| {
            Error::source_db(format!(
                "cannot read `{setting}` on the source: {}",
                crate::pg::conn::pg_message(&e)
            ))
            .hint("connect as a superuser or a member of pg_read_all_settings")
        })?;
    Ok(row.get(0))
}

/// `pg_stat_archiver`: a failure after the last archived segment means archiving is broken
/// now (the newest WAL is not in the repositories).
async fn archiver(c: &tokio_postgres::Client) -> Result<String> {
    let row = c
        .query_one(
            "select archived_count, last_archived_wal, last_archived_time, \
                    failed_count, last_failed_wal, last_failed_time from pg_stat_archiver",
            &[],
        )
        .await
        .map_err(|e| {
            Error::source_db(format!(
                "cannot read pg_stat_archiver on the source: {}",
                crate::pg::conn::pg_message(&e)
            ))
        })?;
    let archived: i64 = row.get(0);
    let last_wal: Option<String> = row.get(1);
    let last_time: Option<DateTime<Utc>> = row.get(2);
    let failed: i64 = row.get(3);
    let failed_wal: Option<String> = row.get(4);
    let failed_time: Option<DateTime<Utc>> = row.get(5);
    archiver_verdict(
        archived,
        last_wal.as_deref(),
        last_time,
        failed,
        failed_wal.as_deref(),
        failed_time,
    )
}

fn archiver_verdict(
    archived: i64,
    last_wal: Option<&str>,
    last_time: Option<DateTime<Utc>>,
    failed: i64,
    failed_wal: Option<&str>,
    failed_time: Option<DateTime<Utc>>,
) -> Result<String> {
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S UTC").to_string();
    if let Some(ft) = failed_time {
        if last_time.is_none_or(|lt| ft > lt) {
            return Err(Error::source_db(format!(
                "WAL archiving is failing: segment {} failed at {} ({failed} failure(s) in all), after the last success ({})",
                failed_wal.unwrap_or("?"),
                fmt(ft),
                last_time.map(fmt).unwrap_or_else(|| "never".into()),
            ))
            .hint("the PostgreSQL log shows archive_command's error; fix it (repository reachable, stanza created, pgbackrest.conf readable by the server's user)"));
        }
    }
    Ok(match (last_wal, last_time) {
        (Some(w), Some(t)) => format!(
            "{archived} segment(s) archived, the last {w} at {}; no failure since",
            fmt(t)
        ),
        _ => "no segment archived yet, none failed".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(s: i64) -> Option<DateTime<Utc>> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).single()
    }

    #[test]
    fn a_failure_after_the_last_success_fails() {
        let e = archiver_verdict(5, Some("A"), t(0), 1, Some("B"), t(10)).unwrap_err();
        assert!(e.message.contains("segment B failed"), "{}", e.message);
        let e = archiver_verdict(0, None, None, 2, Some("B"), t(10)).unwrap_err();
        assert!(e.message.contains("last success (never)"), "{}", e.message);
    }

    #[test]
    fn a_failure_before_the_last_success_is_history() {
        let ok = archiver_verdict(5, Some("A"), t(10), 1, Some("B"), t(0)).unwrap();
        assert!(ok.contains("5 segment(s) archived, the last A"), "{ok}");
        assert!(archiver_verdict(0, None, None, 0, None, None).is_ok());
    }
}

//! `firedrill backup` of a pgbackrest source: one `pgbackrest backup --type=T --repo=N` per
//! repository the stanza has (one run writes one repository), in key order. The first
//! repository is the primary: without a new backup there, the run failed. The others are
//! reported like replicas. pgBackRest's own retention (`expire`) runs after each backup as
//! pgbackrest.conf says; firedrill deletes nothing. With a configuration firedrill manages,
//! `stanza-create` runs first.

use std::collections::BTreeSet;
use std::time::Instant;

use tokio_util::sync::CancellationToken;

use super::command::PgBackRest;
use super::info::{self, repo_name, Backup, Stanza};
use super::sets::backup_id;
use crate::measure::PhaseClock;
use crate::method::{BackupOutcome, ReplicaOutcome};
use crate::spec::{DrillSpec, PgBackRestSource};
use crate::{Error, Result};

/// Takes one backup of `src` into every repository.
///
/// # Errors
/// [`crate::ErrorKind::Spec`] for a drill-only source; the stanza not ok; no new backup in
/// the first repository. Later repositories that fail are reported in the outcome.
pub async fn run(
    spec: &DrillSpec,
    src: &PgBackRestSource,
    pgbr: &PgBackRest,
    cancel: &CancellationToken,
) -> Result<BackupOutcome> {
    if !src.backup {
        return Err(drill_only(spec));
    }
    let started = Instant::now();
    let mut clock = PhaseClock::default();
    create_stanza(pgbr, cancel).await?;
    let before = stanza(pgbr).await?;
    let known: BTreeSet<(u32, String)> = before
        .backup
        .iter()
        .map(|b| (b.database.repo_key, b.label.clone()))
        .collect();
    let runs = back_up_each(src, pgbr, &before, &mut clock, cancel).await?;
    let after = stanza(pgbr).await?;
    let (primary, first, replicas) = made(runs, &after, &known)?;
    Ok(BackupOutcome {
        drill: spec.name.clone(),
        backup_id: backup_id(&first),
        snapshot_at: first.stopped_at(),
        primary,
        stored_bytes: first.info.repository.size,
        plain_bytes: first.info.size,
        seconds: started.elapsed().as_secs_f64(),
        replicas: replicas
            .into_iter()
            .map(|(name, r)| ReplicaOutcome {
                destination: name,
                parity: r.is_ok(),
                error: r.err().map(|e| e.render()),
            })
            .collect(),
        phases: clock.phases,
        lease_takeover: None,
    })
}

/// One `pgbackrest backup --repo=N` per repository (one run writes one repository), timed.
async fn back_up_each(
    src: &PgBackRestSource,
    pgbr: &PgBackRest,
    before: &Stanza,
    clock: &mut PhaseClock,
    cancel: &CancellationToken,
) -> Result<Vec<(u32, Result<String>)>> {
    let mut runs = Vec::new();
    for repo in &before.repo {
        let phase = clock.start(&format!("backup {}", repo_name(repo.key)));
        let r = pgbr
            .run(
                &[
                    "backup",
                    &format!("--type={}", src.backup_type.as_str()),
                    &format!("--repo={}", repo.key),
                ],
                src.backup_timeout,
                Some(cancel),
            )
            .await;
        if matches!(&r, Err(e) if e.kind == crate::ErrorKind::Aborted) {
            return Err(Error::aborted());
        }
        clock.end(phase, None);
        runs.push((repo.key, r));
    }
    Ok(runs)
}

/// The backup each run made, found in `after` (not in `known`): the first repository's is the
/// primary and must exist; the others are replicas, each made or with its error.
#[allow(clippy::type_complexity)]
fn made(
    runs: Vec<(u32, Result<String>)>,
    after: &Stanza,
    known: &BTreeSet<(u32, String)>,
) -> Result<(String, Backup, Vec<(String, Result<Backup>)>)> {
    let mut made = runs.into_iter().map(|(key, r)| {
        let name = repo_name(key);
        let b = r.and_then(|_| {
            newest_new(after, key, known).cloned().ok_or_else(|| {
                Error::storage(format!(
                    "pgbackrest backup --repo={key} finished but `info` lists no new backup in {name}"
                ))
                .hint("run `pgbackrest info` as the database's OS user to see the repository")
            })
        });
        (name, b)
    });
    let (primary, first) = made.next().expect("a stanza with no repository is refused");
    let replicas: Vec<(String, Result<Backup>)> = made.collect();
    let first = first.map_err(|e| {
        let mut msg = format!("no backup in {primary}: {}", e.message);
        for (name, r) in &replicas {
            if let Ok(b) = r {
                msg.push_str(&format!("\n(backup {} was made in {name})", b.label));
            }
        }
        Error::new(e.kind, msg).hint(e.hint.unwrap_or_default())
    })?;
    Ok((primary, first, replicas))
}

/// The refusal of `backup` for a drill-only source.
pub fn drill_only(spec: &DrillSpec) -> Error {
    Error::spec(format!(
        "`{}` is drill-only (source.backup = false): its pgBackRest backups are taken elsewhere, firedrill only lists and drills them",
        spec.name
    ))
    .hint("take backups where the stanza is managed, or set source.backup = true to let firedrill run `pgbackrest backup`")
}

/// Managed mode: `pgbackrest stanza-create` before every backup. It creates the stanza in
/// each repository that lacks it (a first backup, a repository added to the spec) and checks
/// the others match the cluster; it changes nothing that is already there.
async fn create_stanza(pgbr: &PgBackRest, cancel: &CancellationToken) -> Result<()> {
    let Some(m) = pgbr.managed() else {
        return Ok(());
    };
    m.require_secrets()?;
    pgbr.run(&["stanza-create"], super::command::QUICK, Some(cancel))
        .await
        .map(|_| ())
}

/// The stanza, refused unless pgBackRest reports it usable (ok, or waiting for its first
/// backup) with at least one repository.
async fn stanza(pgbr: &PgBackRest) -> Result<Stanza> {
    let s = info::parse(&pgbr.info_json().await?, &pgbr.stanza)?;
    if !s.status.usable() || s.repo.is_empty() {
        return Err(Error::storage(format!(
            "pgBackRest reports stanza `{}`: {}",
            s.name, s.status.message
        ))
        .hint("run `firedrill check SPEC`; a new stanza needs `pgbackrest stanza-create` as the database's OS user"));
    }
    Ok(s)
}

/// The newest backup in repository `key` that was not there before.
fn newest_new<'a>(s: &'a Stanza, key: u32, known: &BTreeSet<(u32, String)>) -> Option<&'a Backup> {
    s.backups_in(key)
        .filter(|b| !known.contains(&(key, b.label.clone())))
        .max_by_key(|b| b.timestamp.stop)
}

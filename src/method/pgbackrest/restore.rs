//! A drill of a pgBackRest backup: `pgbackrest restore --repo=N` into an ephemeral scratch
//! cluster, recovery to the drill's target (the archive's end, the backup's end, or a
//! time), promotion, then the drill's checks. Recovery that stops before its target fails
//! the drill: pgBackRest's `archive-get` exits with a code PostgreSQL reads as "no such
//! segment", which ends recovery and promotes as if the archive had ended there.
//!
//! The restore is run as the cluster's OS user with pgBackRest's log and lock folders inside
//! the scratch folder (`restore` takes no spool path: `archive-get` spools only when
//! pgbackrest.conf sets `archive-async`), and every tablespace remapped into it
//! (`--tablespace-map-all`: nothing is written to the source's tablespace paths, which may
//! be on this very host); `--repo=N` is always given on the command line (only
//! command-line options reach the `restore_command` pgBackRest writes, and without it
//! `archive-get` falls back to other repositories).

use std::time::Instant;

use chrono::{DateTime, Utc};

use super::command::PgBackRest;
use super::info::{self, repo_name, Stanza};
use super::preload::{self, Preload};
use super::restored::RestoredCluster;
use super::{access, binaries, disk, recovery, repo_key, target, timeline};
use crate::method::{Restore, Restored};
use crate::pg::{PgTarget, PgTools};
use crate::scratch::EphemeralCluster;
use crate::scratch::RecoveryRef;
use crate::spec::{PgBackRestSource, PitrTarget};
use crate::{Error, Result};

/// Restores `run.set` and recovers it to `src.target`.
///
/// # Errors
/// [`crate::ErrorKind::Restore`] when the restore or the recovery fails inside the window;
/// [`crate::ErrorKind::Spec`] for a target outside it; others for what could not run.
pub async fn run(src: &PgBackRestSource, pgbr: &PgBackRest, run: Restore<'_>) -> Result<Restored> {
    let spec = run.spec;
    let (key, label) = split_id(&run.set.id)?;
    let stanza = info::parse(&pgbr.info_json().await?, &pgbr.stanza)?;
    if let Some(e) = access::unreadable(&stanza, key) {
        return Err(e);
    }
    let cipher = stanza
        .repo
        .iter()
        .find(|r| r.key == key)
        .map(|r| r.cipher.clone())
        .unwrap_or_default();
    let backup = chosen_backup(&stanza, key, label, &run.set.id, &src.target)?;
    let archive_max = newest_segment(&stanza, key, backup.database.id);
    let source =
        PgTarget::from_url(&spec.source.url, "source.url")?.with_ca(spec.source.ca_file.clone());
    let source_timeline = match src.target {
        PitrTarget::Latest => timeline::of_source(&source).await,
        _ => None,
    };
    let (tools, major) = host_ready(spec, &stanza, backup, &run.set.id, archive_max.as_deref())?;
    let cluster = EphemeralCluster::prepare(
        &spec.drill.work_dir,
        &spec.drill.run_as,
        &tools,
        major,
        &spec.name,
        &run.set.id,
    )?;
    let mut restored = RestoredCluster::new(
        cluster,
        &source.user(),
        &source.dbname(),
        RecoveryRef {
            repository: repo_name(key),
            label: label.to_string(),
            target: target::kind(&src.target).into(),
            target_time: match src.target {
                PitrTarget::Time(t) => Some(t),
                _ => None,
            },
            chosen: src.chosen.clone(),
            timeline: None,
            recovered_timeline: None,
            replayed_lsn: None,
            replay: None,
            disabled_libraries: Vec::new(),
        },
    );
    let steps = Steps {
        src,
        pgbr,
        key,
        label,
        bytes: backup.info.size,
        start_lsn: backup.lsn.as_ref().map(|l| l.start.clone()),
        archive_max,
        source_timeline,
        cipher,
        tools: &tools,
        major,
        source: &source,
    };
    let result = steps.run(&mut restored, run.clock, run.cancel).await;
    let point = result.as_ref().ok().copied().flatten();
    *run.scratch = Some(Box::new(restored));
    result?;
    if point.is_some() {
        *run.recovery_point = point;
    }
    Ok(None)
}

/// The drill host can restore `backup`: server binaries of its major version (returned, with
/// that version) and room for it in the work dir.
///
/// # Errors
/// [`crate::ErrorKind::Preflight`] naming what is missing; nothing has been written yet.
fn host_ready(
    spec: &crate::spec::DrillSpec,
    stanza: &Stanza,
    backup: &info::Backup,
    id: &str,
    archive_max: Option<&str>,
) -> Result<(PgTools, u32)> {
    let version = stanza
        .db_of(backup)
        .map(|d| d.version.clone())
        .unwrap_or_default();
    let tools = PgTools::new(spec.tools.bin_dir.clone());
    let found = binaries::for_backup(&tools, id, &version)?;
    disk::check(
        &spec.drill.work_dir,
        id,
        &disk::Need::of(backup, archive_max),
    )?;
    Ok(found)
}

/// The backup `label` of repository `key`, still listed and ending before a time target.
fn chosen_backup<'s>(
    stanza: &'s info::Stanza,
    key: u32,
    label: &str,
    id: &str,
    target: &PitrTarget,
) -> Result<&'s info::Backup> {
    let backup = stanza
        .backups_in(key)
        .find(|b| b.label == label)
        .ok_or_else(|| {
            Error::storage(format!(
                "backup `{id}` is no longer listed by `pgbackrest info`"
            ))
            .hint("pgBackRest's retention may have expired it; run `firedrill list SPEC`")
        })?;
    if let PitrTarget::Time(t) = target {
        if backup.stopped_at() > *t {
            return Err(Error::spec(format!(
                "backup `{id}` ended at {}, after --target-time {}",
                backup.stopped_at().to_rfc3339(),
                t.to_rfc3339()
            ))
            .hint(
                "drop --backup: firedrill picks the newest backup that ended before the target",
            ));
        }
    }
    Ok(backup)
}

struct Steps<'a> {
    src: &'a PgBackRestSource,
    pgbr: &'a PgBackRest,
    key: u32,
    label: &'a str,
    bytes: u64,
    /// Where the backup's WAL begins: replay is counted from here.
    start_lsn: Option<String>,
    archive_max: Option<String>,
    /// The timeline the source ran on when a `latest` drill began, when it could be asked.
    source_timeline: Option<u32>,
    /// The repository's `cipher` as `info` reports it (`none`, `aes-256-cbc`).
    cipher: String,
    tools: &'a PgTools,
    major: u32,
    /// Asked for its `shared_preload_libraries` when the restored PGDATA has no
    /// configuration.
    source: &'a PgTarget,
}

impl Steps<'_> {
    /// restore -> start -> recover to the target and promote; returns the recovery point
    /// when it is not the backup's end.
    async fn run(
        &self,
        r: &mut RestoredCluster,
        clock: &mut crate::measure::PhaseClock,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<Option<DateTime<Utc>>> {
        let phase = clock.start("restore");
        self.restore(r, cancel).await?;
        clock.end(phase, Some(self.bytes));
        let phase = clock.start("recovery");
        // An archive-get error in the log explains a recovery that stopped or ended early.
        let unread =
            |r: &RestoredCluster| access::archive_get_failed(&r.log(), self.key, &self.cipher);
        let preload = self.preload(r).await?;
        let started = Instant::now();
        r.start(self.tools, self.major, &preload)
            .await
            .map_err(|e| {
                unread(r)
                    .or_else(|| recovery::ended_early(&r.log(), &self.src.target))
                    .unwrap_or(e)
            })?;
        let deadline = Instant::now() + self.src.backup_timeout;
        let waited_from = started.elapsed();
        let mut end = recovery::wait_for_promotion(r, &self.src.target, deadline, cancel)
            .await
            .map_err(|e| match e.kind {
                crate::ErrorKind::Aborted => e,
                _ => unread(r).unwrap_or(e),
            })?;
        if let Some(e) = unread(r) {
            return Err(e);
        }
        r.recovery.timeline = Some(end.timeline);
        r.recovery.recovered_timeline = timeline::recovered_along(&r.data(), end.timeline);
        r.recovery.replayed_lsn = Some(end.replayed_lsn.clone());
        end.consistent_after = end.consistent_after.map(|d| d + waited_from);
        r.recovery.replay = end.replay(self.start_lsn.as_deref(), started.elapsed().as_secs_f64());
        if self.src.target == PitrTarget::Latest {
            let repo = repo_name(self.key);
            timeline::check_latest(
                r.recovery.recovered_timeline,
                self.archive_max.as_deref(),
                &repo,
            )?;
            timeline::check_source(r.recovery.recovered_timeline, self.source_timeline, &repo)?;
            recovery::check_reached_archive_end(
                &end,
                self.archive_max.as_deref(),
                &repo_name(self.key),
            )?;
        }
        clock.end(phase, None);
        Ok(match self.src.target {
            PitrTarget::Time(t) => Some(t),
            PitrTarget::Latest => end.last_commit,
            PitrTarget::Immediate => None,
        })
    }

    /// What the restored cluster preloads: the restored setting (the source's when its
    /// configuration lived outside PGDATA), less the libraries that act, which are logged
    /// and recorded in the report.
    async fn preload(&self, r: &mut RestoredCluster) -> Result<Preload> {
        let setting = match preload::from_files(&r.data()) {
            Some(s) => s,
            None => preload::source_setting(self.source).await.unwrap_or_else(|| {
                tracing::warn!("The restored PGDATA has no postgresql.conf and the source cannot be asked: the scratch cluster preloads no library.");
                String::new()
            }),
        };
        let bin = self.tools.bin_dir.clone().unwrap_or_default();
        let p = preload::decide(&setting, &preload::lib_dir(&bin))?;
        for lib in &p.disabled {
            tracing::warn!(library = %lib, "Preloaded library disabled in the scratch cluster: it {}.", preload::why(lib));
        }
        r.recovery.disabled_libraries = p.disabled.clone();
        Ok(p)
    }

    /// `pgbackrest restore` into the scratch data directory.
    async fn restore(
        &self,
        r: &RestoredCluster,
        cancel: &tokio_util::sync::CancellationToken,
    ) -> Result<()> {
        let dir = r.cluster.dir().join("pgbackrest");
        let runner = self.pgbr.in_folder(dir.clone());
        runner.private_folder(&r.data(), 0o700)?;
        runner.private_folder(&r.tablespaces(), 0o700)?;
        let mut args = vec![
            "restore".to_string(),
            format!("--repo={}", self.key),
            format!("--pg1-path={}", r.data().display()),
            format!("--tablespace-map-all={}", r.tablespaces().display()),
            "--archive-mode=off".into(),
        ];
        args.extend(target::restore_args(&self.src.target, self.label));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        runner
            .run(&args, self.src.backup_timeout, Some(cancel))
            .await
            .map_err(|e| {
                if e.kind == crate::ErrorKind::Aborted {
                    return e;
                }
                Error::restore(format!(
                    "pgbackrest restore of {}:{} failed: {}",
                    repo_name(self.key),
                    self.label,
                    e.message
                ))
                .hint(e.hint.unwrap_or_default())
            })?;
        Ok(())
    }
}

/// `repo2:20261201-101010F` -> (2, `20261201-101010F`).
fn split_id(id: &str) -> Result<(u32, &str)> {
    id.split_once(':')
        .and_then(|(repo, label)| Some((repo_key(repo)?, label)))
        .ok_or_else(|| {
            Error::spec(format!("`{id}` is not a pgBackRest backup id"))
                .hint("copy one from `firedrill list SPEC`, e.g. repo2:20261201-101010F")
        })
}

/// The newest WAL segment repository `key` held for the database history `db`.
fn newest_segment(s: &Stanza, key: u32, db: u32) -> Option<String> {
    s.archives_in(key)
        .filter(|a| a.database.id == db)
        .filter_map(|a| a.max.clone())
        .max()
}

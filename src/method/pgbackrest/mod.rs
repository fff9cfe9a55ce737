//! The pgBackRest method: physical base backups and the WAL archive, kept by pgBackRest in
//! one repository per region, all named in one `pgbackrest.conf`: the user's (read, never
//! edited), or the one firedrill writes from the spec (`managed`). firedrill drives the `pgbackrest` binary and reads `info --output=json`; it never
//! takes base backups or archives WAL itself.
//!
//! The repositories are the catalog: `backups`, `list` and `check` ask `pgbackrest info`, and
//! nothing of a pgBackRest backup is written to the destinations (they hold firedrill's lease
//! and reports only). Retention is pgBackRest's (`repoN-retention-full`, `expire`): `prune`
//! refuses.
//!
//! A drill reads one repository (`drill.from` / `--from repo<N>`, else the one with the
//! highest key: the DR region) and restores one of its backups into an ephemeral cluster,
//! recovered to the drill's target ([`crate::spec::PitrTarget`]): see `restore`.

mod access;
mod backup;
mod binaries;
mod command;
mod disk;
pub mod info;
mod managed;
mod orphans;
mod preflight;
mod preload;
pub mod random;
mod recovery;
mod restore;
mod restored;
mod runbook;
mod secrets;
mod sets;
mod target;
mod timeline;
mod version;
mod wal;
mod window;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

pub use command::PgBackRest;
pub use sets::backup_id;

use super::{BackupOutcome, CheckItem, Method, Restore, Restored};
use crate::catalog::listing::Listing;
use crate::catalog::prune::Holdings;
use crate::catalog::BackupSet;
use crate::spec::{DrillSpec, PgBackRestSource, PitrTarget, ScratchSpec, SourceMethod};
use crate::storage::Destination;
use crate::{Error, Result};

/// The key of a repository name: `repo2` -> 2.
pub fn repo_key(name: &str) -> Option<u32> {
    name.strip_prefix("repo")
        .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|n| n.parse().ok())
        .filter(|k| *k > 0)
}

/// Whether `id` names a pgBackRest backup: `repo2:20261201-101010F`.
pub fn is_backup_id(id: &str) -> bool {
    id.split_once(':').is_some_and(|(repo, label)| {
        repo_key(repo).is_some()
            && label.len() >= 16
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    })
}

/// What a drill of a pgbackrest spec reads when `from` names a repository: the repository
/// under that name, over the primary destination (which holds the drill's lease and reports).
/// `None` for other specs and names.
pub fn repository(spec: &DrillSpec, from: &str, primary: &Destination) -> Option<Destination> {
    (matches!(spec.source.method, SourceMethod::PgBackRest(_)) && repo_key(from).is_some()).then(
        || Destination {
            name: from.to_string(),
            store: primary.store.clone(),
        },
    )
}

/// The manifest's `method.kind` of pgBackRest backups.
pub const KIND: &str = "pgbackrest";

/// How a pgBackRest backup is named in messages.
pub const NOUN: &str = "a pgBackRest backup";

/// Backups of one stanza.
pub struct PgBackRestMethod {
    src: PgBackRestSource,
    pgbr: PgBackRest,
    /// The spec's name and source, for the manifests made from `info`.
    origin: sets::Origin,
    spec_path: std::path::PathBuf,
    /// The source, asked where its WAL archive ends.
    source: Option<crate::pg::PgTarget>,
    /// `pg_waldump`, to read the last commit of the archive.
    tools: crate::pg::PgTools,
}

impl PgBackRestMethod {
    pub fn new(spec: &DrillSpec, src: &PgBackRestSource) -> Self {
        Self {
            src: src.clone(),
            pgbr: PgBackRest::new(spec, src),
            origin: sets::Origin::of(spec),
            spec_path: spec.path.clone(),
            source: crate::pg::PgTarget::from_url(&spec.source.url, "source.url")
                .ok()
                .map(|t| t.with_ca(spec.source.ca_file.clone())),
            tools: crate::pg::PgTools::new(spec.tools.bin_dir.clone()),
        }
    }
}

#[async_trait]
impl Holdings for PgBackRestMethod {
    /// Nothing: pgBackRest's backups are deleted by pgBackRest's own retention.
    async fn delete_outside(&self, _set: &BackupSet) -> Result<()> {
        Ok(())
    }

    fn refuses_prune(&self) -> Option<Error> {
        Some(
            Error::spec(format!(
                "`{}` ({}): retention of pgBackRest backups is pgBackRest's (repo<N>-retention-full and `pgbackrest expire`)",
                self.origin.drill,
                self.spec_path.display()
            ))
            .hint("set repo<N>-retention-full in pgbackrest.conf; pgBackRest expires old backups after each backup"),
        )
    }
}

#[async_trait]
impl Method for PgBackRestMethod {
    fn holdings(&self) -> &dyn Holdings {
        self
    }

    fn kind(&self) -> &'static str {
        KIND
    }

    fn noun(&self) -> &'static str {
        NOUN
    }

    fn accepts(&self, scratch: &ScratchSpec) -> bool {
        matches!(scratch, ScratchSpec::Ephemeral)
    }

    async fn preflight(&self, spec: &DrillSpec) -> Vec<CheckItem> {
        preflight::run(spec, &self.pgbr).await
    }

    /// One backup per repository; `dests` only hold the lease (nothing is written there).
    async fn backup(
        &self,
        spec: &DrillSpec,
        _dests: &[Destination],
        cancel: &CancellationToken,
    ) -> Result<BackupOutcome> {
        version::require(&self.pgbr).await?;
        backup::run(spec, &self.src, &self.pgbr, cancel).await
    }

    /// The backups of the repository a drill reads: `dest` when it is named as one
    /// (`repo2`), else the one with the highest key. For a time target, those that ended by
    /// then; a target outside the repository's window is refused saying the window.
    async fn backups(&self, dest: &Destination, _drill: &str) -> Result<Vec<BackupSet>> {
        version::require(&self.pgbr).await?;
        let stanza = info::parse(&self.pgbr.info_json().await?, &self.src.stanza)?;
        let key = match repo_key(&dest.name) {
            Some(k) => {
                if !stanza.repo.iter().any(|r| r.key == k) {
                    return Err(Error::spec(format!(
                        "stanza `{}` has no repository {}",
                        stanza.name, dest.name
                    ))
                    .hint(format!(
                        "use one of: {}",
                        stanza
                            .repo
                            .iter()
                            .map(|r| info::repo_name(r.key))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                k
            }
            None => stanza.repo.iter().map(|r| r.key).max().unwrap_or(1),
        };
        if let Some(e) = access::unreadable(&stanza, key) {
            return Err(e);
        }
        let repo = info::repo_name(key);
        let mut all: Vec<BackupSet> = sets::sets(&self.origin, &stanza)
            .into_iter()
            .filter(|s| s.id.starts_with(&format!("{repo}:")))
            .collect();
        if let PitrTarget::Time(t) = self.src.target {
            target::check_window(
                t,
                &repo,
                all.first().map(|s| s.manifest.snapshot_at),
                self.window_end(&stanza, key).await.at,
            )?;
            all.retain(|s| s.manifest.snapshot_at <= t);
        }
        Ok(all)
    }

    async fn listing(&self, _spec: &DrillSpec) -> Result<Listing> {
        listing(&self.pgbr).await
    }

    async fn restore(&self, run: Restore<'_>) -> Result<Restored> {
        restore::run(&self.src, &self.pgbr, run).await
    }

    fn runbook(&self, ctx: &crate::runbook::Context<'_>) -> Option<crate::runbook::MethodPart> {
        runbook::part(ctx)
    }

    /// As for any ephemeral cluster, after stopping the `pgbackrest restore` a killed drill
    /// left writing into its scratch folder.
    async fn sweep(&self, spec: &DrillSpec) -> Result<Vec<crate::scratch::CleanupOutcome>> {
        orphans::stop(&spec.drill.work_dir, &spec.name).await;
        crate::scratch::sweep(spec, &crate::pg::PgTools::new(spec.tools.bin_dir.clone())).await
    }
}

impl PgBackRestMethod {
    /// The end of repository `key`'s recoverable window: the last commit in its newest
    /// segments, else when the source last archived.
    async fn window_end(&self, stanza: &info::Stanza, key: u32) -> window::WindowEnd {
        let end = window::end(
            &self.pgbr,
            stanza,
            key,
            &self.tools,
            self.archive_end().await,
        )
        .await;
        tracing::info!(repository = %info::repo_name(key), end = %end.at.to_rfc3339(), "The recoverable window ends at {}.", end.how);
        end
    }

    /// When the source last archived a segment (`pg_stat_archiver`), or now when the source
    /// cannot be asked.
    async fn archive_end(&self) -> chrono::DateTime<chrono::Utc> {
        let now = chrono::Utc::now();
        let asked = async {
            let c = self
                .source
                .as_ref()?
                .connect("the source database")
                .await
                .ok()?;
            let row = c
                .query_one("select last_archived_time from pg_stat_archiver", &[])
                .await
                .ok()?;
            row.get::<_, Option<chrono::DateTime<chrono::Utc>>>(0)
        };
        match tokio::time::timeout(std::time::Duration::from_secs(10), asked).await {
            Ok(Some(t)) if t < now => t,
            _ => now,
        }
    }
}

/// `list`: every backup of every repository; a repository pgBackRest reports not ok is named
/// as unreachable.
async fn listing(pgbr: &PgBackRest) -> Result<Listing> {
    version::require(pgbr).await?;
    let stanza = info::parse(&pgbr.info_json().await?, &pgbr.stanza)?;
    let unreachable = stanza
        .repo
        .iter()
        .filter(|r| !r.status.usable())
        .map(|r| {
            (
                info::repo_name(r.key),
                Error::storage(format!(
                    "pgBackRest reports {} of stanza `{}`: {}",
                    info::repo_name(r.key),
                    stanza.name,
                    r.status.message
                ))
                .hint("run `firedrill check SPEC`"),
            )
        })
        .collect();
    Ok(Listing {
        destinations: stanza.repo.iter().map(|r| info::repo_name(r.key)).collect(),
        rows: Vec::new(),
        unreachable,
        repositories: Some(sets::rows(&stanza)),
    })
}

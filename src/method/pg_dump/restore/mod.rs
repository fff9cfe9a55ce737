//! A pg_dump drill's restore: the scratch target is provisioned while the archive is fetched,
//! checked, decrypted and spooled; then `pg_restore -j N` (and, for sets with table parts,
//! the parts streamed in between its sections).

pub mod fetch;
pub mod parts;
pub mod pg_restore;
mod progress_lines;

use std::sync::Arc;

use tracing::info;

use crate::catalog::Manifest;
use crate::method::{Restore, Restored};
use crate::pg::{PgTool, PgTools};
use crate::pipeline::keys::{self, Identity};
use crate::progress::Unit;
use crate::scratch;
use crate::{Error, Result};

use fetch::Spool;

/// Restores `run.set` into a new scratch target of the spec's kind.
///
/// # Errors
/// Keys, tools, integrity of the stored objects, the scratch target, pg_restore.
pub async fn run(mut run: Restore<'_>) -> Result<Restored> {
    let m = run.set.manifest.clone();
    let (identities, _) = keys::load_identities(run.spec.drill.identity_file.as_deref())?;
    let tools = PgTools::new(run.spec.tools.bin_dir.clone());
    let pg_restore = tools.find(
        "pg_restore",
        m.method
            .tool_version
            .split('.')
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or(m.source.server_major),
        &format!("to read a dump made by pg_dump {}", m.method.tool_version),
    )?;
    info!(backup = %run.set.id, destination = %run.dest.name, "Backup chosen.");
    check_cancel(&run)?;
    let identities = Arc::new(identities);
    let (spool, plain) = provision_and_fetch(&mut run, &tools, identities.clone()).await?;
    check_cancel(&run)?;
    restore_archive(&mut run, &pg_restore, &spool, plain, identities).await?;
    check_cancel(&run)?;
    Ok(None)
}

fn check_cancel(run: &Restore<'_>) -> Result<()> {
    if run.cancel.is_cancelled() {
        Err(Error::aborted())
    } else {
        Ok(())
    }
}

/// Provisioning the scratch target and fetching the backup do not depend on each other: they
/// run at the same time, and both phases are recorded as they happened. Table parts are not
/// spooled: they stream into the scratch database during the restore.
async fn provision_and_fetch(
    run: &mut Restore<'_>,
    tools: &PgTools,
    identities: Arc<Vec<Identity>>,
) -> Result<(Spool, u64)> {
    let m = run.set.manifest.clone();
    let m = &m;
    let provisioning = async {
        let phase = run.clock.start("provision");
        let created = scratch::create(
            run.spec,
            tools,
            m.source.server_major,
            &m.source.database,
            &run.set.id,
        )
        .await;
        (created, phase.finish(None))
    };
    let fetching = async {
        let phase = run.clock.start("fetch+decrypt+decompress");
        let archive: Vec<_> = m.objects.iter().filter(|o| o.part.is_none()).collect();
        let size = archive.iter().map(|o| o.size).sum();
        let (fetched, display) = phase.progress(Unit::Bytes, Some(size));
        let (spool, file) = Spool::create(&run.spec.drill.work_dir)?;
        let mut plain = 0;
        for obj in archive {
            let copy = file
                .try_clone()
                .map_err(|e| Error::scratch(e.to_string()))?;
            let decoded = fetch::fetch(
                run.dest,
                m,
                obj,
                identities.clone(),
                copy,
                &fetched,
                run.cancel,
            )
            .await?;
            plain += decoded.plain_bytes;
        }
        drop((file, display));
        Ok::<_, Error>((spool, plain, phase.finish(Some(plain))))
    };
    let ((created, provisioned), fetched) = tokio::join!(provisioning, fetching);
    run.clock.push(provisioned);
    let scratch_result = created.map(|s| *run.scratch = Some(s));
    let (spool, plain, fetched_phase) = fetched?;
    run.clock.push(fetched_phase);
    scratch_result?;
    Ok((spool, plain))
}

/// `pg_restore -j N` of the spooled archive, or its sections around the table parts.
/// Progress in archive entries, or for a set with parts, in part bytes read (the bulk).
async fn restore_archive(
    run: &mut Restore<'_>,
    pg_restore: &PgTool,
    spool: &Spool,
    plain: u64,
    identities: Arc<Vec<Identity>>,
) -> Result<()> {
    let m: &Manifest = &run.set.manifest;
    let target = run.scratch.as_ref().expect("provisioned").target();
    let jobs = run.spec.drill.jobs;
    let phase = run.clock.start("restore");
    let entries = pg_restore::toc_entries(pg_restore, spool).await;
    let parts_size: u64 = m
        .objects
        .iter()
        .filter(|o| o.part.is_some())
        .map(|o| o.size)
        .sum();
    let has_parts = m.objects.iter().any(|o| o.part.is_some());
    let (items, display) = if has_parts {
        phase.progress(Unit::Bytes, Some(parts_size))
    } else {
        phase.progress(Unit::Items, entries)
    };
    let plain = if has_parts {
        let dest = run.dest;
        plain
            + parts::restore(
                pg_restore, target, spool, dest, m, identities, jobs, &items, run.cancel,
            )
            .await?
    } else {
        pg_restore::pg_restore(pg_restore, target, spool, None, jobs, &items, run.cancel).await?;
        plain
    };
    drop(display);
    run.clock.end(phase, Some(plain));
    Ok(())
}

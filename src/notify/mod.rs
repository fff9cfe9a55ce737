//! Telling the outside world after every backup and drill: Prometheus metrics (textfile,
//! Pushgateway, the daemon's `/metrics`) and webhooks. Failing to tell is logged, never turned
//! into a different result: the run's verdict stands.

pub mod event;
mod http;
pub mod metrics;
pub mod pushgateway;
pub mod registry;
pub mod webhook;

use chrono::{DateTime, Utc};
use tracing::{info, warn};

use crate::backup::BackupOutcome;
use crate::drill::DrillOutcome;
use crate::spec::DrillSpec;
use crate::{Error, ErrorKind};

pub use event::Event;

/// The result of a run, for telling.
pub(crate) enum Finished<'a> {
    Backup(&'a Result<BackupOutcome, Error>),
    Drill(&'a Result<DrillOutcome, Error>),
}

/// Metrics and webhooks after a backup or a drill (or one that could not start). A run
/// refused because another holds the lease changes nothing.
pub(crate) async fn after(
    spec: &DrillSpec,
    trigger: &str,
    started: DateTime<Utc>,
    finished: Finished<'_>,
) {
    let (series, event) = match finished {
        Finished::Backup(Err(e)) | Finished::Drill(Err(e)) if e.kind == ErrorKind::Busy => return,
        Finished::Backup(result) => (
            metrics::backup_series(started, result.as_ref().ok()),
            Event::from_backup(&spec.name, trigger, started, result),
        ),
        Finished::Drill(result) => (
            match result {
                Ok(o) => metrics::drill_series(&o.report),
                Err(_) => metrics::drill_error_series(started),
            },
            Event::from_drill(&spec.name, trigger, started, result),
        ),
    };
    tell(spec, &series, &event).await;
}

async fn tell(spec: &DrillSpec, series: &metrics::Series, event: &Event) {
    registry::record(&spec.name, series);
    if let Some(path) = &spec.metrics_textfile {
        if let Err(e) = metrics::update_file(path, &spec.name, series) {
            warn!(drill = %spec.name, error = %e.render(), "Metrics file not written.");
        }
    }
    if let Some(base) = &spec.metrics_pushgateway {
        if let Err(e) = pushgateway::push(base, &spec.name, series).await {
            warn!(drill = %spec.name, error = %e, "Metrics not pushed.");
        }
    }
    let sends = spec
        .webhooks
        .iter()
        .filter(|h| webhook::wants(h, event))
        .map(|h| async move { (h, webhook::send(h, event).await) });
    for (hook, result) in futures_util::future::join_all(sends).await {
        match result {
            Ok(()) => {
                info!(drill = %spec.name, webhook = %format!("${}", hook.url_env), event = %event.event, "Webhook told.")
            }
            Err(e) => warn!(drill = %spec.name, error = %e, "Webhook not told."),
        }
    }
}

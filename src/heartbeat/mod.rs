//! The heartbeat: the one write firedrill makes to a source, in its own schema. `firedrill
//! heartbeat SPEC` keeps the time and the WAL position in `firedrill.heartbeat` (one row,
//! updated in place, once per `[heartbeat] interval`); a drill reads the newest heartbeat
//! the restore brought back and so *measures* the data a disaster would have lost, beside
//! the recovery point the backup method claims.
//!
//! [`install`] creates the table, [`writer`] keeps it beating, [`read`] reads it back (from
//! the restored database, and the source's clock and installation time at drill start),
//! [`assess`] weighs what was restored against the claim.

pub mod assess;
pub mod fresh;
pub mod install;
pub mod read;
pub mod writer;

use crate::pg::PgTarget;
use crate::spec::DrillSpec;
use crate::{Error, Result};

pub use assess::{assess, Assessment, Claim};
pub use install::install;
pub use read::{probe_source, read_restored, read_source, Reading, Restored, SourceClock};
pub use writer::{run as write, WriterOptions};

/// The table, schema-qualified.
pub const TABLE: &str = "firedrill.heartbeat";

/// The source's connection target, for the heartbeat.
pub(crate) fn source(spec: &DrillSpec) -> Result<PgTarget> {
    Ok(PgTarget::from_url(&spec.source.url, "source.url")?.with_ca(spec.source.ca_file.clone()))
}

/// The heartbeat's settings, or the error a spec without `[heartbeat]` gets.
pub(crate) fn interval(spec: &DrillSpec) -> Result<std::time::Duration> {
    spec.heartbeat.map(|h| h.interval).ok_or_else(|| {
        Error::spec(format!(
            "drill spec `{}` has no [heartbeat] section",
            spec.path.display()
        ))
        .hint("add [heartbeat] with interval = \"10s\" to the spec")
    })
}

/// The error of a source without the table: what to run.
pub(crate) fn not_installed(target: &PgTarget, spec: &DrillSpec) -> Error {
    Error::preflight(format!(
        "the heartbeat table {TABLE} is not installed in the source {}",
        target.display()
    ))
    .hint(format!(
        "run `firedrill heartbeat {} --install` once (it creates schema firedrill and its one table)",
        spec.path.display()
    ))
}

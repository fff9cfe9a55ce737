//! What a drill would do: printed by `drill --dry-run`, touches nothing but the destination's
//! listing.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Destinations, DrillOptions};
use crate::catalog;
use crate::spec::{DrillSpec, ScratchSpec};
use crate::{method, Result};

/// What a drill would do.
#[derive(Debug, Serialize)]
pub struct DrillPlan {
    pub drill: String,
    pub from: String,
    pub location: String,
    pub backup_id: String,
    pub recovery_point: DateTime<Utc>,
    pub backup_bytes: u64,
    pub scratch: String,
    pub jobs: usize,
    pub checks: Vec<String>,
    pub rto_target: Option<String>,
    pub rpo_target: Option<String>,
}

impl std::fmt::Display for DrillPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "Drill `{}` would:", self.drill)?;
        writeln!(
            f,
            "  read backup {} (recovery point {}, {} bytes)",
            self.backup_id,
            self.recovery_point.to_rfc3339(),
            self.backup_bytes
        )?;
        writeln!(f, "  from destination `{}` ({})", self.from, self.location)?;
        writeln!(f, "  restore into {} with {} jobs", self.scratch, self.jobs)?;
        writeln!(
            f,
            "  run {} checks: {}",
            self.checks.len(),
            self.checks.join(", ")
        )?;
        writeln!(
            f,
            "  against targets RTO {} and RPO {}",
            self.rto_target.as_deref().unwrap_or("(none)"),
            self.rpo_target.as_deref().unwrap_or("(none)")
        )
    }
}

/// The scratch target of `spec`, in words.
pub fn scratch_label(spec: &DrillSpec) -> String {
    match &spec.drill.scratch {
        ScratchSpec::Ephemeral => format!(
            "an ephemeral cluster under {}",
            spec.drill.work_dir.display()
        ),
        ScratchSpec::Server { prefix, .. } => {
            format!("a `{prefix}*` database on the scratch server")
        }
        ScratchSpec::Rds(cfg) => format!(
            "an RDS instance ({}) in `{}` restored {}",
            cfg.instance_class,
            cfg.region,
            if cfg.point_in_time {
                "to the latest restorable time"
            } else {
                "from the snapshot copy"
            }
        ),
    }
}

fn target(d: Option<std::time::Duration>) -> Option<String> {
    d.map(|d| humantime::format_duration(d).to_string())
}

/// Builds the plan without touching anything but the destination's listing.
///
/// # Errors
/// When the destination cannot be listed or holds no matching backup.
pub async fn plan(spec: &DrillSpec, opts: &DrillOptions) -> Result<DrillPlan> {
    let (spec, opts) = &super::with_random_point(spec, opts).await?;
    let dest = Destinations::open(spec).await?.read_from(spec, opts)?;
    let sets = method::of(spec).backups(&dest, &spec.name).await?;
    let set = catalog::pick(&sets, &opts.pick, Utc::now(), &dest.name)?;
    Ok(DrillPlan {
        drill: spec.name.clone(),
        from: dest.name.clone(),
        location: dest.store.describe(),
        backup_id: set.id.clone(),
        recovery_point: set.manifest.snapshot_at,
        backup_bytes: set.manifest.total_size(),
        scratch: scratch_label(spec),
        jobs: spec.drill.jobs,
        checks: spec
            .checks
            .iter()
            .map(|c| format!("{} ({})", c.name, c.kind.label()))
            .collect(),
        rto_target: target(spec.targets.rto),
        rpo_target: target(spec.targets.rpo),
    })
}

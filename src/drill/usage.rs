//! What a drill consumed, gathered for its cost: the scratch disk sampled while it runs, the
//! ephemeral cluster's CPU time read before it is stopped, the bytes of the set read and
//! from where, an RDS scratch instance's class and minutes.

use std::path::Path;

use chrono::Utc;

use super::execute::State;
use crate::cost::{self, disk::Sampler, Cost, RdsUsage, Usage};
use crate::spec::{DrillSpec, ScratchSpec};
use crate::storage::DestinationKind;

/// Started with the drill; [`Meter::finish`] after its scratch is settled.
pub(super) struct Meter {
    disk: Option<Sampler>,
    cpu_seconds: Option<f64>,
}

impl Meter {
    /// Samples the work dir's filesystem for an ephemeral scratch.
    pub fn start(spec: &DrillSpec) -> Meter {
        Meter {
            disk: matches!(spec.drill.scratch, ScratchSpec::Ephemeral)
                .then(|| Sampler::start(&spec.drill.work_dir, &spec.name)),
            cpu_seconds: None,
        }
    }

    /// Reads the ephemeral cluster's CPU time; call while it still runs.
    pub fn read_cpu(&mut self, st: &State) {
        let info = st.scratch.as_ref().map(|s| s.info());
        self.cpu_seconds = info
            .filter(|i| i.kind == "ephemeral")
            .and_then(|i| cost::cpu::cluster_seconds(&Path::new(&i.location).join("data")));
    }

    /// The drill's cost.
    pub fn finish(self, spec: &DrillSpec, st: &State) -> Cost {
        let reads = match (&st.dest, &st.set) {
            (Some(d), Some(set)) => vec![(
                d.name.clone(),
                region_of(spec, &d.name),
                set.manifest.total_size(),
            )],
            _ => Vec::new(),
        };
        let rds = match &spec.drill.scratch {
            ScratchSpec::Rds(cfg) => {
                st.clock
                    .phases
                    .iter()
                    .find(|p| p.name == "restore")
                    .map(|p| RdsUsage {
                        instance_class: cfg.instance_class.clone(),
                        instance_minutes: (Utc::now() - p.started_at).num_milliseconds() as f64
                            / 60_000.0,
                    })
            }
            _ => None,
        };
        cost::reckon(
            &spec.cost,
            Usage {
                reads,
                disk_peak: self.disk.and_then(Sampler::stop),
                cpu_seconds: self.cpu_seconds,
                rds,
            },
        )
    }
}

/// The region of destination `name` of `spec` (S3 only).
fn region_of(spec: &DrillSpec, name: &str) -> Option<String> {
    spec.destinations
        .iter()
        .find(|d| d.name == name)
        .and_then(|d| match &d.kind {
            DestinationKind::S3(s3) => Some(s3.region.clone()),
            DestinationKind::Folder(_) => None,
        })
}

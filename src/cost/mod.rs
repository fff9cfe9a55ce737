//! What a drill cost: the quantities it consumed — bytes read per destination (and whether
//! across regions, against `[cost] region`), the scratch disk at its peak, the CPU time of an
//! ephemeral scratch cluster, an RDS scratch instance's class and minutes — and, when the spec
//! gives prices, the money, each amount beside the price it was reckoned with.
//!
//! [`disk`] samples the disk while the drill runs, [`cpu`] reads the cluster's CPU time before
//! it is stopped, [`reckon`] turns quantities and prices into a [`Cost`].

pub mod cpu;
pub mod disk;
mod money;

use serde::{Deserialize, Serialize};

use crate::spec::CostSpec;

pub use money::{Amount, Money};

/// The report's `cost` section.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Cost {
    pub version: u32,
    /// The drill host's region (`[cost] region`), when the spec gives it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub reads: Vec<Read>,
    /// How much the work dir's filesystem filled at the drill's peak (ephemeral scratch).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scratch_disk_peak_bytes: Option<u64>,
    /// CPU time of the ephemeral scratch cluster (postmaster and backends).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scratch_cpu_seconds: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rds: Option<RdsUsage>,
    /// The money, when the spec gives prices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub money: Option<Money>,
}

/// Bytes read from one destination.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Read {
    pub destination: String,
    /// Its region (S3), absent for a folder or a repository whose region firedrill does not
    /// know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    pub bytes: u64,
    /// Whether the read crossed regions; absent when a region is unknown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cross_region: Option<bool>,
}

/// An RDS scratch instance's use.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct RdsUsage {
    pub instance_class: String,
    /// From the restore's start to the end of the drill (deletion included up to there).
    pub instance_minutes: f64,
}

/// What a drill measured, for [`reckon`].
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// (destination, its region, bytes read).
    pub reads: Vec<(String, Option<String>, u64)>,
    pub disk_peak: Option<u64>,
    pub cpu_seconds: Option<f64>,
    pub rds: Option<RdsUsage>,
}

/// The cost of a drill that used `usage`, priced by `spec` when it gives prices.
pub fn reckon(spec: &CostSpec, usage: Usage) -> Cost {
    let reads: Vec<Read> = usage
        .reads
        .into_iter()
        .map(|(destination, region, bytes)| Read {
            cross_region: match (&spec.region, &region) {
                (Some(host), Some(r)) => Some(host != r),
                _ => None,
            },
            destination,
            region,
            bytes,
        })
        .collect();
    let money = spec
        .prices
        .as_ref()
        .map(|p| money::price(p, &reads, usage.rds.as_ref()));
    Cost {
        version: 1,
        region: spec.region.clone(),
        reads,
        scratch_disk_peak_bytes: usage.disk_peak,
        scratch_cpu_seconds: usage.cpu_seconds,
        rds: usage.rds,
        money,
    }
}

impl Cost {
    /// The quantities in one line each, for the Markdown and HTML reports.
    pub fn lines(&self) -> Vec<(String, String)> {
        let gib = |b: u64| format!("{:.3} GiB", b as f64 / (1u64 << 30) as f64);
        let mut out = Vec::new();
        for r in &self.reads {
            let place = match (&r.region, r.cross_region) {
                (Some(reg), Some(true)) => format!(
                    " ({reg}, cross-region from {})",
                    self.region.as_deref().unwrap_or("?")
                ),
                (Some(reg), Some(false)) => format!(" ({reg}, same region)"),
                (Some(reg), None) => format!(" ({reg})"),
                (None, _) => String::new(),
            };
            out.push((
                format!("Read from `{}`", r.destination),
                format!("{}{place}", gib(r.bytes)),
            ));
        }
        if let Some(b) = self.scratch_disk_peak_bytes {
            out.push(("Scratch disk peak".into(), gib(b)));
        }
        if let Some(c) = self.scratch_cpu_seconds {
            out.push(("Scratch cluster CPU".into(), format!("{c:.1} CPU-seconds")));
        }
        if let Some(r) = &self.rds {
            out.push((
                "RDS scratch instance".into(),
                format!(
                    "{}, {:.1} instance-minutes",
                    r.instance_class, r.instance_minutes
                ),
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Prices;

    fn usage() -> Usage {
        Usage {
            reads: vec![
                ("dr".into(), Some("eu-west-1".into()), 2_000_000_000),
                ("local".into(), None, 10),
            ],
            disk_peak: Some(3 << 30),
            cpu_seconds: Some(12.5),
            rds: None,
        }
    }

    #[test]
    fn quantities_without_prices_and_cross_region_reads_named() {
        let spec = CostSpec {
            region: Some("us-east-1".into()),
            prices: None,
        };
        let c = reckon(&spec, usage());
        assert_eq!(c.reads[0].cross_region, Some(true));
        assert_eq!(c.reads[1].cross_region, None);
        assert!(c.money.is_none());
        let lines = c.lines();
        assert!(
            lines[0].1.contains("cross-region from us-east-1"),
            "{lines:?}"
        );
        assert_eq!(lines[2], ("Scratch disk peak".into(), "3.000 GiB".into()));
        let same = reckon(
            &CostSpec {
                region: Some("eu-west-1".into()),
                prices: None,
            },
            usage(),
        );
        assert_eq!(same.reads[0].cross_region, Some(false));
    }

    #[test]
    fn prices_give_money_with_the_price_beside_each_amount() {
        let spec = CostSpec {
            region: Some("us-east-1".into()),
            prices: Some(Prices {
                currency: "USD".into(),
                transfer_per_gb: Some(0.02),
                ..Prices::default()
            }),
        };
        let mut u = usage();
        u.rds = Some(RdsUsage {
            instance_class: "db.t3.medium".into(),
            instance_minutes: 30.0,
        });
        let m = reckon(&spec, u).money.unwrap();
        assert_eq!(m.currency, "USD");
        assert_eq!(m.items[0].amount, "0.0400");
        assert!(m.items[0].what.contains("2.000 GB × 0.02 USD/GB"), "{m:?}");
        // No price for the instance class: named, not guessed.
        assert!(m.unpriced[0].contains("db.t3.medium"), "{m:?}");
        assert_eq!(m.total, "0.0400");
    }
}

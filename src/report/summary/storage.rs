//! The storage of the backup sets a spec keeps, for the compliance summary's cost: every
//! complete set in every destination now, counted in GB-months over the part of the period it
//! existed (from its start). Sets pruned before the summary was made are not seen: the
//! figure is a floor. Only `report SPEC` knows the destinations; a report folder alone does
//! not.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::spec::DrillSpec;
use crate::{catalog, storage};

/// One copy of a set in one destination.
#[derive(Debug, Clone, PartialEq)]
pub struct Copy {
    pub started_at: DateTime<Utc>,
    pub bytes: u64,
}

/// What the kept sets amount to over the period.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StorageUse {
    /// Copies counted (a set in two destinations is two).
    pub copies: usize,
    /// GB (10^9 bytes) x months (30.4375 days) over the period.
    pub gb_months: f64,
    /// With `[cost] storage-gb-month`: the money, as a decimal in the spec's currency.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub amount: Option<String>,
}

/// The complete sets of `spec` in every destination now; destinations that cannot be listed
/// are skipped with a warning (the summary says a floor). pgBackRest and RDS specs keep their
/// backups elsewhere: none.
pub async fn kept(spec: &DrillSpec) -> Vec<Copy> {
    if !matches!(spec.source.method, crate::spec::SourceMethod::PgDump) {
        return Vec::new();
    }
    let Ok(dests) = storage::open_all(&spec.destinations).await else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for d in &dests {
        match catalog::list(d, &spec.name).await {
            Ok(sets) => out.extend(sets.iter().map(|s| Copy {
                started_at: s.manifest.started_at,
                bytes: s.manifest.total_size(),
            })),
            Err(e) => {
                tracing::warn!(destination = %d.name, "cannot list the sets kept: {}", e.render())
            }
        }
    }
    out
}

/// With a spec: its sets kept now and its storage price, on each of its histories.
pub async fn attach(
    source: &crate::report::store::source::ReportSource,
    histories: &mut [super::DrillHistory],
) {
    let Some(spec) = &source.spec else {
        return;
    };
    let copies = kept(spec).await;
    let price = spec.cost.prices.as_ref().and_then(|p| p.storage_gb_month);
    for h in histories {
        h.kept = Some((copies.clone(), price));
    }
}

/// GB-months of `copies` over `[since, until]`, priced at `price` per GB-month.
pub fn use_over(
    copies: &[Copy],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    price: Option<f64>,
) -> StorageUse {
    const MONTH_SECONDS: f64 = 30.4375 * 86_400.0;
    let gb_months: f64 = copies
        .iter()
        .map(|c| {
            let from = c.started_at.max(since);
            let held = (until - from).num_seconds().max(0) as f64 / MONTH_SECONDS;
            c.bytes as f64 / 1e9 * held
        })
        .sum();
    StorageUse {
        copies: copies.len(),
        gb_months,
        amount: price.map(|p| format!("{:.4}", gb_months * p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::utc;

    #[test]
    fn copies_count_from_their_start_within_the_period() {
        let until = utc("2026-12-31T00:00:00Z");
        let since = until - chrono::Duration::seconds((30.4375 * 86_400.0) as i64 * 2);
        let copies = [
            // Held the whole two months: 2 GB-months per GB.
            Copy {
                started_at: since - chrono::Duration::days(100),
                bytes: 3_000_000_000,
            },
            // Made half-way: one month.
            Copy {
                started_at: until - chrono::Duration::seconds((30.4375 * 86_400.0) as i64),
                bytes: 1_000_000_000,
            },
        ];
        let u = use_over(&copies, since, until, Some(0.02));
        assert_eq!(u.copies, 2);
        assert!((u.gb_months - 7.0).abs() < 1e-6, "{u:?}");
        assert_eq!(u.amount.as_deref(), Some("0.1400"));
        assert_eq!(use_over(&[], since, until, None).gb_months, 0.0);
    }
}

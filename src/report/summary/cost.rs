//! What a drill's drills cost over the period: the sums of the `cost` sections of its
//! reports (reports written before drills reckoned their cost are not counted, and the
//! summary says how many were).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::report::DrillReport;

/// Sums over the reports of the period that carry a cost.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct CostTotals {
    /// Reports summed (those with a `cost` section).
    pub drills: usize,
    pub bytes_read: u64,
    pub cross_region_bytes: u64,
    pub scratch_cpu_seconds: f64,
    pub rds_instance_minutes: f64,
    /// Money by currency, as decimals (reports priced in different currencies are not added
    /// together).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub money: BTreeMap<String, String>,
    /// The storage of the sets kept now, over the period (`report SPEC` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub storage: Option<super::storage::StorageUse>,
}

/// The totals of `reports`; `None` when none carries a cost.
pub fn totals<'a>(reports: impl Iterator<Item = &'a DrillReport>) -> Option<CostTotals> {
    let mut t = CostTotals::default();
    let mut money: BTreeMap<String, f64> = BTreeMap::new();
    for c in reports.filter_map(|r| r.cost.as_ref()) {
        t.drills += 1;
        for read in &c.reads {
            t.bytes_read += read.bytes;
            if read.cross_region == Some(true) {
                t.cross_region_bytes += read.bytes;
            }
        }
        t.scratch_cpu_seconds += c.scratch_cpu_seconds.unwrap_or(0.0);
        t.rds_instance_minutes += c.rds.as_ref().map_or(0.0, |r| r.instance_minutes);
        if let Some(m) = &c.money {
            *money.entry(m.currency.clone()).or_default() += m.total.parse::<f64>().unwrap_or(0.0);
        }
    }
    t.money = money
        .into_iter()
        .map(|(c, x)| (c, format!("{x:.4}")))
        .collect();
    (t.drills > 0).then_some(t)
}

impl CostTotals {
    /// One line for people.
    pub fn describe(&self) -> String {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        let mut s = format!(
            "{} drill{}: {:.3} GiB read ({:.3} GiB across regions), {:.1} scratch CPU-seconds",
            self.drills,
            if self.drills == 1 { "" } else { "s" },
            gib(self.bytes_read),
            gib(self.cross_region_bytes),
            self.scratch_cpu_seconds
        );
        if self.rds_instance_minutes > 0.0 {
            s.push_str(&format!(
                ", {:.1} RDS instance-minutes",
                self.rds_instance_minutes
            ));
        }
        for (currency, total) in &self.money {
            s.push_str(&format!("; {total} {currency}"));
        }
        if let Some(st) = &self.storage {
            s.push_str(&format!(
                "; storage of the {} set cop{} kept now: {:.3} GB-months{}",
                st.copies,
                if st.copies == 1 { "y" } else { "ies" },
                st.gb_months,
                st.amount
                    .as_deref()
                    .map(|a| format!(" ({a} at cost.storage-gb-month)"))
                    .unwrap_or_default()
            ));
        }
        s
    }
}

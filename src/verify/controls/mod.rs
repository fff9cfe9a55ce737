//! Negative controls: after the checks ran, known faults are injected into the restored
//! database (inside transactions that are rolled back) and into the data path (in memory), and
//! each must be caught. A check that cannot turn red proves nothing when it is green.
//!
//! - [`rows`]: one row deleted, one row inserted → the row-count check names the table;
//! - [`schema`]: one index dropped → the schema check fails;
//! - [`freshness`]: the recovery point moved past the window → the freshness check fails;
//! - [`sql`]: the tables a query reads emptied → the check fails, or it is *vacuous*;
//! - the integrity controls of the data path belong to the method that fetched the set
//!   ([`crate::method::Method::data_path_controls`]).

mod freshness;
mod rows;
mod schema;
mod sql;
mod txn;

use std::time::Instant;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_postgres::Client;

use super::CheckResult;
use crate::source::Fingerprint;
use crate::spec::{CheckKind, CheckSpec};

/// The version of the negative-control section of a report.
pub const CONTROLS_VERSION: u32 = 1;

/// The negative-control section of a drill report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct NegativeControls {
    /// Changes whenever a field changes meaning or goes away.
    pub version: u32,
    /// Time the controls took (not part of the RTO).
    pub seconds: f64,
    pub controls: Vec<Control>,
}

impl NegativeControls {
    pub fn new(controls: Vec<Control>, seconds: f64) -> Self {
        Self {
            version: CONTROLS_VERSION,
            seconds,
            controls,
        }
    }

    /// Controls whose fault went unnoticed: each fails the drill.
    pub fn missed(&self) -> impl Iterator<Item = &Control> {
        self.controls
            .iter()
            .filter(|c| c.status == ControlStatus::Missed)
    }

    /// Checks that still pass on empty tables (a warning).
    pub fn vacuous(&self) -> impl Iterator<Item = &Control> {
        self.controls
            .iter()
            .filter(|c| c.status == ControlStatus::Vacuous)
    }
}

/// One injected fault and what became of it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Control {
    /// `integrity`, `row-counts`, `schema`, `freshness` or `sql`.
    pub control: String,
    /// The check the fault is aimed at (none for the data path).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    /// The fault, in words.
    pub fault: String,
    /// What rejected it: the check's failure or the error of the fetch path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caught_by: Option<String>,
    pub status: ControlStatus,
    /// Why it was missed, vacuous, unknown or not applicable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub seconds: f64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ControlStatus {
    /// The fault was rejected, as it must be.
    Caught,
    /// The fault went unnoticed: the check (or path) cannot fail. The drill fails.
    Missed,
    /// An sql check still passes with the tables it reads emptied (a warning).
    Vacuous,
    /// What the check reads could not be determined (functions): nothing proven either way.
    Unknown,
    /// Nothing to act on (no table with an exact count, no index, no object fetched).
    NotApplicable,
}

impl ControlStatus {
    pub fn label(self) -> &'static str {
        match self {
            ControlStatus::Caught => "caught",
            ControlStatus::Missed => "MISSED",
            ControlStatus::Vacuous => "vacuous",
            ControlStatus::Unknown => "unknown",
            ControlStatus::NotApplicable => "not applicable",
        }
    }
}

impl Control {
    /// A control about to be run against `check` (or the data path).
    pub fn new(control: &str, check: Option<&str>, fault: impl Into<String>) -> Self {
        Self {
            control: control.into(),
            check: check.map(str::to_string),
            fault: fault.into(),
            caught_by: None,
            status: ControlStatus::NotApplicable,
            detail: None,
            seconds: 0.0,
        }
    }

    pub fn caught(mut self, by: impl Into<String>) -> Self {
        self.status = ControlStatus::Caught;
        self.caught_by = Some(by.into());
        self
    }

    pub fn with(mut self, status: ControlStatus, detail: impl Into<String>) -> Self {
        self.status = status;
        self.detail = Some(detail.into());
        self
    }

    /// Records the time since `start`.
    pub fn timed(mut self, start: Instant) -> Self {
        self.seconds = start.elapsed().as_secs_f64();
        self
    }
}

/// What the database controls work from: the checks as specified and as they came out, the
/// fingerprint they compared against and the restored one, and the recovery point.
pub struct Subject<'a> {
    pub client: &'a Client,
    pub checks: &'a [CheckSpec],
    pub results: &'a [CheckResult],
    pub expected: &'a Fingerprint,
    pub restored: Option<&'a Fingerprint>,
    pub recovery_point: DateTime<Utc>,
}

/// Runs the database controls of every check that passed, in the spec's order, each within
/// its check's `timeout`. A check that already failed needs no proof that it can fail.
pub async fn run(s: &Subject<'_>) -> Vec<Control> {
    let mut out = Vec::new();
    for (check, result) in s.checks.iter().zip(s.results) {
        if matches!(check.kind, CheckKind::Amcheck { .. }) {
            continue;
        }
        let name = check.name.as_str();
        if !result.pass {
            out.push(
                Control::new(check.kind.label(), Some(name), "none")
                    .with(ControlStatus::NotApplicable, "the check already failed"),
            );
            continue;
        }
        let start = Instant::now();
        match super::deadline::within(s.client, check.timeout, of(s, check)).await {
            Ok(controls) => out.extend(controls),
            Err(why) => {
                // The transaction of the control that hung is still open.
                txn::rollback(s.client).await;
                out.push(
                    Control::new(check.kind.label(), Some(name), "the control's fault")
                        .with(ControlStatus::Unknown, why)
                        .timed(start),
                );
            }
        }
    }
    out
}

/// The controls of one check that passed.
async fn of(s: &Subject<'_>, check: &CheckSpec) -> Vec<Control> {
    let start = Instant::now();
    let name = check.name.as_str();
    let one = match &check.kind {
        // Two controls, each timed on its own.
        CheckKind::RowCounts => return rows::controls(s, name).await,
        CheckKind::Schema => schema::control(s, name).await,
        CheckKind::Freshness {
            table,
            column,
            within,
        } => freshness::control(s, name, table, column, *within).await,
        CheckKind::Sql { sql, expect } => sql::control(s.client, name, sql, expect).await,
        CheckKind::Amcheck { .. } => return Vec::new(),
    };
    vec![one.timed(start)]
}

//! `firedrill check`: the spec is valid (it loaded), then, unless offline, the method's
//! preflight: source, tools, scratch server, destinations and keys, each confirmed or named
//! with the fix. Nothing is changed anywhere (destination probes remove what they write).

use serde::Serialize;

use crate::method::{self, CheckItem};
use crate::spec::DrillSpec;

/// What `check` confirmed.
#[derive(Debug, Serialize)]
pub struct CheckOutcome {
    pub checks: Vec<CheckItem>,
    /// True when every item is.
    pub ok: bool,
}

/// Checks `spec`, offline (the spec only) or against everything it names.
pub async fn run(spec: &DrillSpec, offline: bool) -> CheckOutcome {
    let mut checks = vec![CheckItem {
        what: "spec".into(),
        ok: true,
        detail: format!("`{}` is valid", spec.path.display()),
        warning: false,
    }];
    if !offline {
        checks.extend(method::of(spec).preflight(spec).await);
    }
    CheckOutcome {
        ok: checks.iter().all(|i| i.ok),
        checks,
    }
}

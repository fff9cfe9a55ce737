//! The process's own copy of every series it set, served by the schedule daemon on
//! `/metrics`. Runs in any command record here; only the daemon serves it.

use std::collections::BTreeMap;
use std::sync::{Mutex, OnceLock};

use super::metrics::{self, Series};

type Samples = BTreeMap<(String, String), f64>;

fn samples() -> &'static Mutex<Samples> {
    static SAMPLES: OnceLock<Mutex<Samples>> = OnceLock::new();
    SAMPLES.get_or_init(|| Mutex::new(Samples::new()))
}

/// Sets `series` for `drill` (other series of the drill are kept).
pub fn record(drill: &str, series: &Series) {
    let mut all = samples().lock().unwrap_or_else(|e| e.into_inner());
    all.extend(metrics::samples(drill, series));
}

/// Sets a series without a drill label (the daemon's own).
pub fn record_global(name: &str, value: f64) {
    let mut all = samples().lock().unwrap_or_else(|e| e.into_inner());
    all.insert((name.to_string(), String::new()), value);
}

/// Seeds from earlier samples (a textfile), without overwriting what this process set.
pub fn seed(earlier: Samples) {
    let mut all = samples().lock().unwrap_or_else(|e| e.into_inner());
    for (k, v) in earlier {
        all.entry(k).or_insert(v);
    }
}

/// Everything as Prometheus text.
pub fn render() -> String {
    let all = samples().lock().unwrap_or_else(|e| e.into_inner());
    metrics::render(&all)
}

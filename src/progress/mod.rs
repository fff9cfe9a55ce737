//! Progress of long phases (backup stream, fetch, restore): a bar with bytes, rate and ETA on
//! a terminal, a log line every few seconds otherwise. A display belongs to a phase of the
//! [`PhaseClock`](crate::measure::PhaseClock), so it shows the names the report records.

mod display;
mod meter;
mod writer;

use std::sync::OnceLock;
use std::time::Duration;

pub use display::Display;
pub use meter::{Meter, MeteredRead};
pub use writer::LogWriter;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// indicatif bars on stderr (a terminal).
    Bars,
    /// A log line per phase every [`interval`].
    Lines,
    /// Nothing.
    Off,
}

/// What a phase counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    /// Archive entries (tables, indexes, ...) of a restore.
    Items,
}

static MODE: OnceLock<(Mode, Duration)> = OnceLock::new();

/// Sets the mode once, at start-up (the library defaults to log lines every 10 s).
pub fn set_mode(mode: Mode, interval: Duration) {
    let _ = MODE.set((mode, interval));
}

pub(crate) fn mode() -> Mode {
    MODE.get().map_or(Mode::Lines, |m| m.0)
}

pub(crate) fn interval() -> Duration {
    MODE.get().map_or(Duration::from_secs(10), |m| m.1)
}

/// `1.5 GiB`, `12.0 MiB`, `512 B`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1024.0 && i < UNITS.len() - 1 {
        v /= 1024.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[i])
    }
}

/// Seconds left at `rate` per second, when there is a total and a rate.
pub fn eta_seconds(done: u64, total: Option<u64>, rate: f64) -> Option<f64> {
    let total = total?;
    if rate <= 0.0 {
        return None;
    }
    Some(total.saturating_sub(done) as f64 / rate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_and_eta_read_well() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(1536), "1.5 KiB");
        assert_eq!(human_bytes(3 * 1024 * 1024 * 1024), "3.0 GiB");
        assert_eq!(eta_seconds(25, Some(100), 5.0), Some(15.0));
        assert_eq!(
            eta_seconds(150, Some(100), 5.0),
            Some(0.0),
            "past an estimate"
        );
        assert_eq!(eta_seconds(25, None, 5.0), None);
        assert_eq!(eta_seconds(0, Some(100), 0.0), None);
    }
}

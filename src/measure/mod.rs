//! Phase clock and RTO/RPO against targets. Phase records are the single source for logs and
//! the report.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// One timed phase.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Phase {
    pub name: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: DateTime<Utc>,
    pub seconds: f64,
    /// Bytes the phase moved, where that means something.
    pub bytes: Option<u64>,
}

/// Records phases in order.
#[derive(Debug, Default)]
pub struct PhaseClock {
    pub phases: Vec<Phase>,
    /// The phase started last, so a run stopped by its deadline can say where it was.
    current: std::sync::Mutex<Option<String>>,
}

/// A phase in progress.
pub struct Running {
    name: String,
    started_at: DateTime<Utc>,
    start: Instant,
}

impl Running {
    /// Shows the phase's progress (until the display is dropped); the pipeline adds to the
    /// meter.
    pub fn progress(
        &self,
        unit: crate::progress::Unit,
        total: Option<u64>,
    ) -> (crate::progress::Meter, crate::progress::Display) {
        let meter = crate::progress::Meter::default();
        let display = crate::progress::Display::start(&self.name, unit, total, meter.clone());
        (meter, display)
    }

    /// Ends the phase now.
    pub fn finish(self, bytes: Option<u64>) -> Phase {
        let elapsed = self.start.elapsed();
        let phase = Phase {
            name: self.name,
            started_at: self.started_at,
            ended_at: self.started_at + chrono::Duration::from_std(elapsed).unwrap_or_default(),
            seconds: elapsed.as_secs_f64(),
            bytes,
        };
        tracing::info!(phase = %phase.name, seconds = phase.seconds, bytes = ?phase.bytes, "Phase finished.");
        phase
    }
}

impl PhaseClock {
    pub fn start(&self, name: &str) -> Running {
        tracing::info!(phase = name, "Phase started.");
        if let Ok(mut c) = self.current.lock() {
            *c = Some(name.to_string());
        }
        Running {
            name: name.to_string(),
            started_at: Utc::now(),
            start: Instant::now(),
        }
    }

    pub fn end(&mut self, running: Running, bytes: Option<u64>) -> &Phase {
        self.push(running.finish(bytes))
    }

    /// The phase started last.
    pub fn current(&self) -> Option<String> {
        self.current.lock().ok().and_then(|c| c.clone())
    }

    /// Records a phase that was finished elsewhere (phases that ran concurrently).
    pub fn push(&mut self, phase: Phase) -> &Phase {
        self.phases.push(phase);
        self.phases.last().expect("just pushed")
    }

    /// Wall time from the first phase's start to the last phase's end: overlapping phases are
    /// not double-counted.
    pub fn wall_seconds(&self) -> f64 {
        match (self.phases.first(), self.phases.last()) {
            (Some(first), Some(_)) => {
                let end = self
                    .phases
                    .iter()
                    .map(|p| p.ended_at)
                    .max()
                    .expect("non-empty");
                (end - first.started_at).num_microseconds().unwrap_or(0) as f64 / 1e6
            }
            _ => 0.0,
        }
    }
}

/// A measurement against an optional target.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Measured {
    pub seconds: f64,
    pub target_seconds: Option<f64>,
    /// `None` when no target was declared.
    pub pass: Option<bool>,
}

impl Measured {
    pub fn new(seconds: f64, target: Option<Duration>) -> Self {
        let target_seconds = target.map(|t| t.as_secs_f64());
        Self {
            seconds,
            target_seconds,
            pass: target_seconds.map(|t| seconds <= t),
        }
    }
}

/// The largest gap between consecutive recovery points (and from the last one to `now`)
/// among `points` within `window` before `now`: the schedule's worst-case RPO.
pub fn worst_gap(points: &[DateTime<Utc>], now: DateTime<Utc>, window: Duration) -> Option<f64> {
    let since = now - chrono::Duration::from_std(window).ok()?;
    let mut pts: Vec<DateTime<Utc>> = points
        .iter()
        .copied()
        .filter(|p| *p >= since && *p <= now)
        .collect();
    pts.sort();
    let first = *pts.first()?;
    let mut worst = (first - since).num_seconds().max(0) as f64;
    // A window that starts before the first backup only counts once a full window of history exists.
    let older_exists = points.iter().any(|p| *p < since);
    if !older_exists {
        worst = 0.0;
    }
    for w in pts.windows(2) {
        worst = worst.max((w[1] - w[0]).num_milliseconds() as f64 / 1000.0);
    }
    worst = worst.max((now - *pts.last()?).num_milliseconds() as f64 / 1000.0);
    Some(worst)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_pass_and_fail() {
        assert_eq!(
            Measured::new(5.0, Some(Duration::from_secs(10))).pass,
            Some(true)
        );
        assert_eq!(
            Measured::new(11.0, Some(Duration::from_secs(10))).pass,
            Some(false)
        );
        assert_eq!(Measured::new(11.0, None).pass, None);
    }

    #[test]
    fn worst_gap_spans_the_largest_hole() {
        let t = |h: i64| -> DateTime<Utc> {
            "2026-11-26T00:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::hours(h)
        };
        let now = t(48);
        let pts = vec![t(0), t(24), t(30), t(46)];
        assert_eq!(
            worst_gap(&pts, now, Duration::from_secs(30 * 86400)),
            Some(24.0 * 3600.0)
        );
        assert_eq!(worst_gap(&[], now, Duration::from_secs(3600)), None);
        // the gap from the newest backup to now counts
        assert_eq!(
            worst_gap(&[t(0)], now, Duration::from_secs(30 * 86400)),
            Some(48.0 * 3600.0)
        );
    }
}

//! RTO forecast: when will a restore take longer than the RTO target?
//!
//! Model: the restore time grows linearly with the database size (least squares over the
//! drills that measured an RTO and recorded the size), and the size grows linearly with time
//! (least squares over the same drills). Together: a projected RTO that grows linearly with
//! time; the forecast is the date it crosses the target. It needs at least
//! [`MIN_SAMPLES`] drills spread over [`MIN_SPAN_DAYS`] days; with fewer it says so rather
//! than guess. When the size did not change, the RTO is taken as flat at its mean.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::report::drill::words::human_seconds;

pub const MIN_SAMPLES: usize = 3;
pub const MIN_SPAN_DAYS: f64 = 7.0;

/// One drill's measurement.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: DateTime<Utc>,
    pub size_bytes: f64,
    pub rto_seconds: f64,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum ForecastStatus {
    /// Projected to exceed the target on `date`, within the horizon.
    Exceeds,
    /// The fitted RTO at the period end is already over the target.
    AlreadyExceeded,
    /// Not projected to exceed the target within the horizon.
    NotProjected,
    /// Too few drills, or too short a history.
    InsufficientHistory,
    /// No RTO target to compare with.
    NoTarget,
}

#[derive(Debug, Clone, Serialize)]
pub struct Forecast {
    pub status: ForecastStatus,
    /// When the projected RTO reaches the target.
    pub date: Option<DateTime<Utc>>,
    pub horizon_days: u32,
    pub samples: usize,
    pub target_seconds: Option<f64>,
    /// Fitted restore time per GiB of database.
    pub seconds_per_gib: Option<f64>,
    /// Fitted database growth.
    pub growth_bytes_per_day: Option<f64>,
    /// Fitted RTO at the end of the period.
    pub projected_rto_seconds: Option<f64>,
    /// The forecast in one sentence.
    pub text: String,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Least squares `y = a + b x`; `None` when `x` does not vary.
fn fit(points: &[(f64, f64)]) -> Option<(f64, f64)> {
    let n = points.len() as f64;
    let mx = points.iter().map(|p| p.0).sum::<f64>() / n;
    let my = points.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
    let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
    if sxx <= f64::EPSILON * n {
        return None;
    }
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

fn mean(v: impl Iterator<Item = f64>) -> f64 {
    let (s, n) = v.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    s / n.max(1) as f64
}

/// Forecasts from `samples` as seen at `now`.
pub fn forecast(
    samples: &[Sample],
    target_seconds: Option<f64>,
    now: DateTime<Utc>,
    horizon_days: u32,
) -> Forecast {
    let mut f = Forecast {
        status: ForecastStatus::InsufficientHistory,
        date: None,
        horizon_days,
        samples: samples.len(),
        target_seconds,
        seconds_per_gib: None,
        growth_bytes_per_day: None,
        projected_rto_seconds: None,
        text: String::new(),
    };
    let Some(target) = target_seconds else {
        f.status = ForecastStatus::NoTarget;
        f.text = "no RTO target: nothing to forecast against".into();
        return f;
    };
    let Some(first) = samples.iter().map(|s| s.at).min() else {
        f.text = format!(
            "insufficient history: no drill measured an RTO with a database size (at least {MIN_SAMPLES} over {MIN_SPAN_DAYS} days needed)"
        );
        return f;
    };
    let span = samples
        .iter()
        .map(|s| days_since(first, s.at))
        .fold(0.0, f64::max);
    if samples.len() < MIN_SAMPLES || span < MIN_SPAN_DAYS {
        f.text = format!(
            "insufficient history: {} drills over {span:.1} days measured an RTO with a database size (at least {MIN_SAMPLES} over {MIN_SPAN_DAYS} days needed)",
            samples.len()
        );
        return f;
    }
    project(&mut f, &Fitted::new(samples, first), target, now);
    f
}

/// Days from `first` to `t`.
fn days_since(first: DateTime<Utc>, t: DateTime<Utc>) -> f64 {
    (t - first).num_seconds() as f64 / 86400.0
}

/// The two fitted lines: RTO by size (`a + b size`) and size by day (`c + d day`), days
/// counted from the first sample.
struct Fitted {
    first: DateTime<Utc>,
    samples: usize,
    a: f64,
    b: f64,
    c: f64,
    d: f64,
}

impl Fitted {
    fn new(samples: &[Sample], first: DateTime<Utc>) -> Fitted {
        let by_size: Vec<(f64, f64)> = samples
            .iter()
            .map(|s| (s.size_bytes, s.rto_seconds))
            .collect();
        let by_time: Vec<(f64, f64)> = samples
            .iter()
            .map(|s| (days_since(first, s.at), s.size_bytes))
            .collect();
        // A size that never changed gives no slope: RTO flat at its mean, size flat.
        let (a, b) = fit(&by_size).unwrap_or((mean(samples.iter().map(|s| s.rto_seconds)), 0.0));
        let (c, d) = fit(&by_time).unwrap_or((mean(samples.iter().map(|s| s.size_bytes)), 0.0));
        Fitted {
            first,
            samples: samples.len(),
            a,
            b,
            c,
            d,
        }
    }

    /// The projected RTO `day` days after the first sample.
    fn rto_at(&self, day: f64) -> f64 {
        self.a + self.b * (self.c + self.d * day)
    }

    /// The fit in words.
    fn words(&self) -> String {
        format!(
            "fit over {} drills: {:.1} s per GiB, database {} {:.1} MiB per day",
            self.samples,
            self.b * GIB,
            if self.d >= 0.0 {
                "growing"
            } else {
                "shrinking"
            },
            self.d.abs() / (1024.0 * 1024.0)
        )
    }
}

/// Fills in `f` from the fitted lines: the RTO at `now` and when it crosses `target`.
fn project(f: &mut Forecast, m: &Fitted, target: f64, now: DateTime<Utc>) {
    f.seconds_per_gib = Some(m.b * GIB);
    f.growth_bytes_per_day = Some(m.d);
    let now_day = days_since(m.first, now);
    let current = m.rto_at(now_day);
    f.projected_rto_seconds = Some(current);
    let fit_words = m.words();
    if current >= target {
        f.status = ForecastStatus::AlreadyExceeded;
        f.date = Some(now);
        f.text = format!(
            "the fitted RTO ({}) is already over the target ({}); {fit_words}",
            human_seconds(current),
            human_seconds(target)
        );
        return;
    }
    let slope = m.b * m.d;
    let crossing = (slope > 0.0).then(|| now_day + (target - current) / slope);
    match crossing.filter(|t| *t - now_day <= f64::from(f.horizon_days)) {
        Some(t) => {
            let date = m.first + chrono::Duration::seconds((t * 86400.0) as i64);
            f.status = ForecastStatus::Exceeds;
            f.date = Some(date);
            f.text = format!(
                "the RTO target ({}) is projected to be exceeded on {} (fitted RTO now {}); {fit_words}",
                human_seconds(target),
                date.format("%Y-%m-%d"),
                human_seconds(current)
            );
        }
        None => {
            f.status = ForecastStatus::NotProjected;
            f.text = format!(
                "not projected to exceed the RTO target ({}) within {} days (fitted RTO now {}); {fit_words}",
                human_seconds(target),
                f.horizon_days,
                human_seconds(current)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(day: i64) -> DateTime<Utc> {
        "2026-01-01T04:00:00Z".parse::<DateTime<Utc>>().unwrap() + chrono::Duration::days(day)
    }

    /// 1 GiB growing 0.1 GiB a day, 60 s per GiB: 60 s on day 0, +6 s a day.
    fn growing(days: i64) -> Vec<Sample> {
        (0..days)
            .map(|d| Sample {
                at: at(d),
                size_bytes: GIB * (1.0 + 0.1 * d as f64),
                rto_seconds: 60.0 * (1.0 + 0.1 * d as f64),
            })
            .collect()
    }

    #[test]
    fn projects_the_crossing_date() {
        // Day 29: 234 s. Target 600 s is reached on day 90.
        let f = forecast(&growing(30), Some(600.0), at(29), 365);
        assert_eq!(f.status, ForecastStatus::Exceeds, "{}", f.text);
        assert_eq!(f.date.unwrap().format("%Y-%m-%d").to_string(), "2026-04-01");
        assert!((f.seconds_per_gib.unwrap() - 60.0).abs() < 1e-6);
        assert!(f.text.contains("2026-04-01"), "{}", f.text);
    }

    #[test]
    fn honest_when_flat_far_or_short() {
        let f = forecast(&growing(30), Some(600.0), at(29), 30);
        assert_eq!(f.status, ForecastStatus::NotProjected);
        assert!(f.text.contains("within 30 days"), "{}", f.text);
        let f = forecast(&growing(30), Some(100.0), at(29), 365);
        assert_eq!(f.status, ForecastStatus::AlreadyExceeded);
        let flat: Vec<Sample> = (0..10)
            .map(|d| Sample {
                at: at(d),
                size_bytes: GIB,
                rto_seconds: 50.0 + (d % 2) as f64,
            })
            .collect();
        let f = forecast(&flat, Some(600.0), at(9), 365);
        assert_eq!(f.status, ForecastStatus::NotProjected, "{}", f.text);
        let f = forecast(&growing(2), Some(600.0), at(1), 365);
        assert_eq!(f.status, ForecastStatus::InsufficientHistory);
        assert!(f.text.contains("2 drills"), "{}", f.text);
        let f = forecast(&growing(30), None, at(29), 365);
        assert_eq!(f.status, ForecastStatus::NoTarget);
    }
}

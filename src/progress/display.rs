//! The display of one phase's meter: a bar or periodic log lines, until dropped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{eta_seconds, human_bytes, Meter, Mode, Unit};

/// Every bar of the process, so log lines can be printed above them.
pub(crate) fn bars() -> &'static MultiProgress {
    static MULTI: OnceLock<MultiProgress> = OnceLock::new();
    MULTI.get_or_init(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(4)))
}

/// Shows a meter until dropped.
pub struct Display {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Display {
    /// Starts showing `meter` of phase `name`; `total` enables the percentage and ETA.
    pub fn start(name: &str, unit: Unit, total: Option<u64>, meter: Meter) -> Display {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = match super::mode() {
            Mode::Off => None,
            Mode::Bars => Some(bar_thread(name, unit, total, meter, stop.clone())),
            Mode::Lines => Some(line_thread(
                name.to_string(),
                unit,
                total,
                meter,
                stop.clone(),
                super::interval(),
            )),
        };
        Display { stop, thread }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn style(unit: Unit, total: Option<u64>) -> ProgressStyle {
    let template = match (unit, total) {
        (Unit::Bytes, Some(_)) => {
            "{prefix:>12} [{bar:30}] {bytes}/{total_bytes} {binary_bytes_per_sec} ETA {eta}"
        }
        (Unit::Bytes, None) => "{prefix:>12} {spinner} {bytes} {binary_bytes_per_sec} {elapsed}",
        (Unit::Items, _) => "{prefix:>12} [{bar:30}] {pos}/{len} items ETA {eta}",
    };
    ProgressStyle::with_template(template)
        .expect("valid template")
        .progress_chars("=> ")
}

fn bar_thread(
    name: &str,
    unit: Unit,
    total: Option<u64>,
    meter: Meter,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    let bar = bars().add(match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::no_length(),
    });
    bar.set_style(style(unit, total));
    // The bar shows the first word of the phase: `dump+compress+encrypt+store` is `dump`.
    bar.set_prefix(name.split(['+', ':']).next().unwrap_or(name).to_string());
    std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            let done = meter.get();
            if let Some(t) = total {
                // An estimated total that is passed grows with the work.
                if done > t {
                    bar.set_length(done);
                }
            }
            bar.set_position(done);
            std::thread::sleep(Duration::from_millis(100));
        }
        bar.set_position(meter.get());
        bar.finish_and_clear();
        bars().remove(&bar);
    })
}

fn line_thread(
    name: String,
    unit: Unit,
    total: Option<u64>,
    meter: Meter,
    stop: Arc<AtomicBool>,
    every: Duration,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let start = Instant::now();
        let mut next = every;
        while !stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(50).min(every));
            let elapsed = start.elapsed();
            if elapsed < next {
                continue;
            }
            next = elapsed + every;
            let done = meter.get();
            let rate = done as f64 / elapsed.as_secs_f64().max(1e-3);
            let eta = eta_seconds(done, total, rate).map(|s| format!("{s:.0} s"));
            let (done_s, total_s, rate_s) = match unit {
                Unit::Bytes => (
                    human_bytes(done),
                    total.map(human_bytes),
                    format!("{}/s", human_bytes(rate as u64)),
                ),
                Unit::Items => (
                    format!("{done} items"),
                    total.map(|t| format!("{t} items")),
                    format!("{rate:.1} items/s"),
                ),
            };
            tracing::info!(
                phase = %name,
                done = %done_s,
                total = total_s.as_deref().unwrap_or("unknown"),
                rate = %rate_s,
                eta = eta.as_deref().unwrap_or("unknown"),
                "Progress."
            );
        }
    })
}

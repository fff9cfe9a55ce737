//! Freshness control: the check evaluated against a recovery point moved past its window must
//! fail.

use std::time::Duration;

use super::{Control, ControlStatus, Subject};
use crate::verify::checks;

/// Beyond the window, and beyond the minute of clock skew the check tolerates for rows that
/// lie after the recovery point.
const MARGIN: Duration = Duration::from_secs(120);

pub(super) async fn control(
    s: &Subject<'_>,
    check: &str,
    table: &str,
    column: &str,
    within: Duration,
) -> Control {
    let moved = s.recovery_point
        + chrono::Duration::from_std(within + MARGIN).unwrap_or(chrono::Duration::MAX);
    let control = Control::new(
        "freshness",
        Some(check),
        format!(
            "recovery point moved to {} ({} past the window)",
            moved.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            humantime::format_duration(MARGIN)
        ),
    );
    let (_, actual, pass, _) = checks::freshness(s.client, table, column, within, moved).await;
    if pass {
        control.with(
            ControlStatus::Missed,
            format!("the freshness check still passes: {actual}"),
        )
    } else {
        control.caught(format!("check `{check}` failed: {actual}"))
    }
}

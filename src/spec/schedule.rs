//! Schedules: cron expressions in a time zone. A run is due when the schedule's most recent
//! occurrence is later than the last run's start, so a missed run (host down at 02:00) runs
//! at the next pass instead of being silently skipped.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// Why a schedule does not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleError {
    /// The expression is not cron: the expression and the parser's message.
    Cron { expr: String, message: String },
    /// The time zone is not an IANA name.
    TimeZone(String),
}

impl std::fmt::Display for ScheduleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ScheduleError::Cron { expr, message } => {
                write!(f, "`{expr}` is not a cron expression: {message}")
            }
            ScheduleError::TimeZone(tz) => write!(f, "`{tz}` is not an IANA time zone"),
        }
    }
}

impl std::error::Error for ScheduleError {}

/// A parsed cron expression with its time zone.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    tz: Tz,
    text: String,
}

impl Schedule {
    /// Parses `expr` (5 or 6 fields) in the IANA time zone `tz`.
    ///
    /// # Errors
    /// Which of the two is wrong, with a message naming it.
    pub fn parse(expr: &str, tz: &str) -> Result<Schedule, ScheduleError> {
        let cron = Cron::from_str(expr).map_err(|e| ScheduleError::Cron {
            expr: expr.to_string(),
            message: e.to_string(),
        })?;
        let tz: Tz = tz
            .parse()
            .map_err(|_| ScheduleError::TimeZone(tz.to_string()))?;
        Ok(Schedule {
            cron,
            tz,
            text: expr.to_string(),
        })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The IANA name of the schedule's time zone.
    pub fn timezone(&self) -> &str {
        self.tz.name()
    }

    /// The latest occurrence at or before `now`.
    pub fn previous(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_previous_occurrence(&now.with_timezone(&self.tz), true)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// The first occurrence after `now`.
    pub fn next(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.cron
            .find_next_occurrence(&now.with_timezone(&self.tz), false)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// Due when an occurrence has passed since the last run started (or there was none).
    pub fn is_due(&self, last_start: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
        match (self.previous(now), last_start) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(prev), Some(last)) => last < prev,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn follows_the_local_clock_across_dst() {
        let s = Schedule::parse("0 9 * * *", "Europe/Berlin").unwrap();
        // Summer time (UTC+2) until 2026-10-25 03:00 local, then UTC+1.
        assert_eq!(
            s.next(utc("2026-10-24T08:00:00Z")),
            Some(utc("2026-10-25T08:00:00Z"))
        );
        assert_eq!(
            s.next(utc("2026-10-25T08:00:00Z")),
            Some(utc("2026-10-26T08:00:00Z"))
        );
        assert_eq!(
            s.previous(utc("2026-10-24T07:30:00Z")),
            Some(utc("2026-10-24T07:00:00Z"))
        );
        assert_eq!(
            s.previous(utc("2026-10-24T06:59:00Z")),
            Some(utc("2026-10-23T07:00:00Z"))
        );
        // Spring forward on 2026-03-29: 09:00 local is 07:00 UTC from then on.
        assert_eq!(
            s.next(utc("2026-03-28T09:00:00Z")),
            Some(utc("2026-03-29T07:00:00Z"))
        );
    }

    #[test]
    fn a_time_that_does_not_exist_or_repeats_runs_once() {
        // 02:30 does not exist on 2026-03-29 in Berlin and exists twice on 2026-10-25.
        let s = Schedule::parse("30 2 * * *", "Europe/Berlin").unwrap();
        let spring = s.next(utc("2026-03-28T02:00:00Z")).unwrap();
        assert!(
            spring > utc("2026-03-28T02:00:00Z") && spring <= utc("2026-03-30T01:00:00Z"),
            "{spring}"
        );
        let first = s.next(utc("2026-10-24T23:00:00Z")).unwrap();
        let second = s.next(first).unwrap();
        assert!(
            second - first >= chrono::Duration::hours(23),
            "{first} then {second}"
        );
    }

    #[test]
    fn due_after_a_missed_occurrence_not_twice() {
        let s = Schedule::parse("0 2 * * *", "UTC").unwrap();
        let now = utc("2026-11-26T09:00:00Z");
        assert!(s.is_due(None, now));
        assert!(
            s.is_due(Some(utc("2026-11-25T02:00:05Z")), now),
            "today's 02:00 was missed"
        );
        assert!(!s.is_due(Some(utc("2026-11-26T02:00:01Z")), now));
        assert!(matches!(
            Schedule::parse("61 * * * *", "UTC"),
            Err(ScheduleError::Cron { .. })
        ));
        assert_eq!(
            Schedule::parse("0 2 * * *", "Mars/Olympus").unwrap_err(),
            ScheduleError::TimeZone("Mars/Olympus".into())
        );
        assert_eq!(
            ScheduleError::TimeZone("Mars/Olympus".into()).to_string(),
            "`Mars/Olympus` is not an IANA time zone"
        );
    }
}

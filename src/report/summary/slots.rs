//! Scheduled slots and missed drills.
//!
//! A *slot* is an occurrence of the drill schedule (cron in its time zone) after the period
//! start and at or before its end. Each drill report (any trigger, any verdict: a drill that
//! ran and failed was not missed, it failed) covers at most one slot:
//!
//! 1. a slot is covered by a drill that started at or after it and before the next
//!    occurrence of the schedule (its own interval);
//! 2. failing that, by a late drill: one that started within the grace after the next
//!    occurrence and is not needed by that next slot (it is not the only drill there).
//!
//! A slot covered by neither is *missed* once the next occurrence plus the grace has passed
//! by the period end, and *pending* while that window is still open.

use chrono::{DateTime, Utc};

use crate::spec::Schedule;

/// Slots found and what became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SlotOutcome {
    pub slots: Vec<DateTime<Utc>>,
    pub covered: usize,
    pub missed: Vec<DateTime<Utc>>,
    pub pending: Vec<DateTime<Utc>>,
}

/// Upper bound on slots considered, so that `* * * * *` over years stays bounded.
const MAX_SLOTS: usize = 200_000;

/// Matches report start times (`starts`, any order) to the slots of `schedule` in
/// `(since, until]`.
pub fn match_slots(
    schedule: &Schedule,
    starts: &[DateTime<Utc>],
    since: DateTime<Utc>,
    until: DateTime<Utc>,
    grace: chrono::Duration,
) -> SlotOutcome {
    let mut slots = Vec::new();
    let mut nexts = Vec::new();
    let mut slot = schedule.next(since);
    while let Some(s) = slot.filter(|s| *s <= until) {
        if slots.len() >= MAX_SLOTS {
            break;
        }
        slot = schedule.next(s);
        slots.push(s);
        nexts.push(slot);
    }
    // The drills of each slot's own interval, in time order.
    let mut own: Vec<Vec<DateTime<Utc>>> = vec![Vec::new(); slots.len()];
    let mut sorted = starts.to_vec();
    sorted.sort();
    for t in sorted {
        let i = slots.partition_point(|s| *s <= t);
        if i > 0 && nexts[i - 1].is_none_or(|n| t < n) {
            own[i - 1].push(t);
        }
    }
    // 1: own interval. The latest drill of the interval covers it; earlier extra drills
    // there stay free to cover the slot before as late drills.
    let mut covered: Vec<bool> = own.iter().map(|v| !v.is_empty()).collect();
    let mut free: Vec<Vec<DateTime<Utc>>> = own
        .into_iter()
        .map(|mut v| {
            v.pop();
            v
        })
        .collect();
    // 2: late drills within the grace after the next slot.
    for i in 0..slots.len() {
        if covered[i] || i + 1 >= slots.len() {
            continue;
        }
        let deadline = slots[i + 1] + grace;
        if free[i + 1].first().is_some_and(|t| *t < deadline) {
            free[i + 1].remove(0);
            covered[i] = true;
        }
    }
    let mut out = SlotOutcome {
        covered: covered.iter().filter(|c| **c).count(),
        ..SlotOutcome::default()
    };
    for (i, s) in slots.iter().enumerate() {
        if covered[i] {
            continue;
        }
        if nexts[i].is_some_and(|n| n + grace <= until) {
            out.missed.push(*s);
        } else {
            out.pending.push(*s);
        }
    }
    out.slots = slots;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn hours(h: i64) -> chrono::Duration {
        chrono::Duration::hours(h)
    }

    #[test]
    fn daily_slots_covered_missed_and_pending() {
        let s = Schedule::parse("0 4 * * *", "UTC").unwrap();
        let since = utc("2026-03-01T00:00:00Z");
        let until = utc("2026-03-05T04:10:00Z");
        // Slots: 1st..5th at 04:00. Ran on the 1st (on time), the 2nd (late, 20:00), not the
        // 3rd, the 4th at 04:00:30; the 5th has not run yet and its window is open.
        let starts = [
            utc("2026-03-01T04:00:05Z"),
            utc("2026-03-02T20:00:00Z"),
            utc("2026-03-04T04:00:30Z"),
        ];
        let o = match_slots(&s, &starts, since, until, hours(1));
        assert_eq!(o.slots.len(), 5);
        assert_eq!(o.covered, 3);
        assert_eq!(o.missed, vec![utc("2026-03-03T04:00:00Z")]);
        assert_eq!(o.pending, vec![utc("2026-03-05T04:00:00Z")]);
    }

    #[test]
    fn one_catch_up_run_covers_one_slot_and_extra_runs_cover_none() {
        let s = Schedule::parse("0 4 * * *", "UTC").unwrap();
        let since = utc("2026-03-01T00:00:00Z");
        let until = utc("2026-03-10T00:00:00Z");
        // Host down from the 1st to the 4th: one catch-up run on the 4th at 09:00, then two
        // runs (scheduled + manual) on the 5th, none after.
        let starts = [
            utc("2026-03-04T09:00:00Z"),
            utc("2026-03-05T04:00:00Z"),
            utc("2026-03-05T13:00:00Z"),
        ];
        let o = match_slots(&s, &starts, since, until, hours(1));
        assert_eq!(o.slots.len(), 9);
        assert_eq!(o.covered, 2, "{o:?}");
        assert_eq!(o.missed.len(), 6, "1st-3rd and 6th-8th: {o:?}");
        assert_eq!(
            o.missed[2],
            utc("2026-03-03T04:00:00Z"),
            "the slot before the catch-up"
        );
        assert_eq!(
            o.pending,
            vec![utc("2026-03-09T04:00:00Z")],
            "open until the 10th 05:00"
        );
    }

    #[test]
    fn grace_lets_a_late_run_cover_the_slot_before() {
        let s = Schedule::parse("0 * * * *", "UTC").unwrap();
        let since = utc("2026-03-01T00:30:00Z");
        let until = utc("2026-03-01T03:30:00Z");
        // Slots 01:00, 02:00, 03:00. The 01:00 drill started late at 02:05, the 02:00 one at
        // 02:30: with 15 min grace the late one covers 01:00, without it 01:00 is missed.
        let starts = [utc("2026-03-01T02:05:00Z"), utc("2026-03-01T02:30:00Z")];
        let with = match_slots(&s, &starts, since, until, chrono::Duration::minutes(15));
        assert!(with.missed.is_empty(), "{with:?}");
        assert_eq!(with.covered, 2);
        assert_eq!(with.pending, vec![utc("2026-03-01T03:00:00Z")]);
        let without = match_slots(&s, &starts, since, until, chrono::Duration::zero());
        assert_eq!(without.missed, vec![utc("2026-03-01T01:00:00Z")]);
        // A single drill at 02:10 is the 02:00 slot's own: it never covers 01:00 as well.
        let one = [utc("2026-03-01T02:10:00Z")];
        let single = match_slots(&s, &one, since, until, chrono::Duration::minutes(15));
        assert_eq!(single.missed, vec![utc("2026-03-01T01:00:00Z")]);
    }
}

//! Grandfather-father-son retention: which backup sets to keep.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, Utc};

/// `[backup.retention]`: how many of each to keep. A set kept for any reason is kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Retention {
    /// The newest N sets.
    pub keep_last: usize,
    /// The newest set of each of the last N days that have one.
    pub daily: usize,
    /// The newest set of each of the last N ISO weeks that have one.
    pub weekly: usize,
    /// The newest set of each of the last N months that have one.
    pub monthly: usize,
}

/// Ids to keep, each with the reasons (`last`, `daily`, `weekly`, `monthly`).
pub fn keep(
    sets: &[(String, DateTime<Utc>)],
    r: &Retention,
) -> BTreeMap<String, Vec<&'static str>> {
    let mut newest_first: Vec<&(String, DateTime<Utc>)> = sets.iter().collect();
    newest_first.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    let mut kept: BTreeMap<String, Vec<&'static str>> = BTreeMap::new();
    for (id, _) in newest_first.iter().take(r.keep_last) {
        kept.entry(id.clone()).or_default().push("last");
    }
    let mut bucket =
        |n: usize, reason: &'static str, key: &dyn Fn(&DateTime<Utc>) -> (i32, u32)| {
            let mut seen = BTreeSet::new();
            for (id, at) in &newest_first {
                if seen.len() >= n {
                    break;
                }
                if seen.insert(key(at)) {
                    kept.entry(id.clone()).or_default().push(reason);
                }
            }
        };
    bucket(r.daily, "daily", &|t| (t.year(), t.ordinal()));
    bucket(r.weekly, "weekly", &|t| {
        (t.iso_week().year(), t.iso_week().week())
    });
    bucket(r.monthly, "monthly", &|t| (t.year(), t.month()));
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history(days: i64) -> Vec<(String, DateTime<Utc>)> {
        let start: DateTime<Utc> = "2025-10-22T02:00:00Z".parse().unwrap();
        (0..days)
            .map(|d| {
                let at = start + chrono::Duration::days(d);
                (at.format("%Y%m%dT%H%M%SZ-000000").to_string(), at)
            })
            .collect()
    }

    #[test]
    fn keeps_exactly_the_gfs_sets_of_a_400_day_history() {
        let sets = history(400);
        let r = Retention {
            keep_last: 3,
            daily: 7,
            weekly: 4,
            monthly: 12,
        };
        let kept = keep(&sets, &r);
        // Daily backups: the last 7 days cover the last 3; the newest of each of the last 4 ISO
        // weeks and of the last 12 months add the rest.
        let newest = sets.last().unwrap().1;
        let mut expected: BTreeSet<String> = BTreeSet::new();
        for (id, at) in &sets {
            let age = (newest - *at).num_days();
            if age < 7 {
                expected.insert(id.clone());
            }
        }
        let mut weeks = BTreeMap::new();
        let mut months = BTreeMap::new();
        for (id, at) in &sets {
            weeks.insert((at.iso_week().year(), at.iso_week().week()), id.clone());
            months.insert((at.year(), at.month()), id.clone());
        }
        expected.extend(weeks.values().rev().take(4).cloned());
        expected.extend(months.values().rev().take(12).cloned());
        assert_eq!(kept.keys().cloned().collect::<BTreeSet<_>>(), expected);
        assert!(kept.len() < 30, "{}", kept.len());
        let newest_id = &sets.last().unwrap().0;
        assert_eq!(kept[newest_id], vec!["last", "daily", "weekly", "monthly"]);
    }

    #[test]
    fn nothing_configured_keeps_nothing_and_several_per_day_keep_the_newest() {
        let sets = history(10);
        assert!(keep(&sets, &Retention::default()).is_empty());
        let at: DateTime<Utc> = "2026-01-01T01:00:00Z".parse().unwrap();
        let two = vec![
            ("a".to_string(), at),
            ("b".to_string(), at + chrono::Duration::hours(5)),
        ];
        let kept = keep(
            &two,
            &Retention {
                daily: 1,
                ..Retention::default()
            },
        );
        assert_eq!(kept.keys().collect::<Vec<_>>(), vec!["b"]);
    }
}

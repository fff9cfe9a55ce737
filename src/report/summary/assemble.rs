//! Turns drill histories into the [`Summary`] model.

use std::collections::BTreeMap;

use super::forecast::{self, Sample};
use super::slots::match_slots;
use super::{
    controls, Counts, DrillHistory, DrillSummary, Failure, Period, ScheduleUsed, Summary,
    SummaryOptions, Trend, TrendPoint, VerifiedBackup, FORMAT_VERSION,
};
use crate::report::{DrillReport, Verdict};

/// Name of the phase whose `bytes` is the plain dump size (the size fallback for reports
/// that do not record the database size).
const FETCH_PHASE: &str = "fetch+decrypt+decompress";

/// The database size a report saw: recorded by the backup, or the plain dump size.
fn size_of(r: &DrillReport) -> Option<f64> {
    r.backup
        .as_ref()
        .and_then(|b| b.source.size_bytes)
        .or_else(|| {
            r.phases
                .iter()
                .find(|p| p.name == FETCH_PHASE)
                .and_then(|p| p.bytes)
        })
        .map(|b| b as f64)
}

fn trend<'a>(
    reports: impl Iterator<Item = &'a DrillReport>,
    target: Option<f64>,
    value: impl Fn(&DrillReport) -> Option<(f64, Option<bool>)>,
) -> Trend {
    let points: Vec<TrendPoint> = reports
        .filter_map(|r| {
            value(r).map(|(seconds, pass)| TrendPoint {
                at: r.started_at,
                seconds,
                pass,
            })
        })
        .collect();
    Trend {
        target_seconds: target,
        latest_seconds: points.last().map(|p| p.seconds),
        worst_seconds: points.iter().map(|p| p.seconds).reduce(f64::max),
        over_target: points.iter().filter(|p| p.pass == Some(false)).count(),
        points,
    }
}

fn drill_summary(h: &DrillHistory, opts: &SummaryOptions) -> DrillSummary {
    let in_period: Vec<&(String, DrillReport)> = h
        .reports
        .iter()
        .filter(|(_, r)| r.started_at >= opts.since && r.started_at <= opts.until)
        .collect();
    // Up to the period end, older ones included: the newest verified backup, the last pass
    // and the forecast may predate the period.
    let until_end: Vec<&(String, DrillReport)> = h
        .reports
        .iter()
        .filter(|(_, r)| r.started_at <= opts.until)
        .collect();
    let mut counts = verdict_counts(&in_period);
    let missed = schedule_counts(h, opts, &mut counts);
    let rto = trend(in_period.iter().map(|(_, r)| r), h.rto_target, |r| {
        r.rto.as_ref().map(|x| (x.seconds, x.pass))
    });
    let rpo = trend(in_period.iter().map(|(_, r)| r), h.rpo_target, |r| {
        r.rpo.as_ref().map(|x| (x.seconds, x.pass))
    });
    DrillSummary {
        drill: h.drill.clone(),
        schedule: h.schedule.as_ref().map(|(s, source)| ScheduleUsed {
            cron: s.text().to_string(),
            timezone: s.timezone().to_string(),
            source: *source,
        }),
        monitored_since: monitored_since(h),
        counts,
        missed,
        failures: failures(&in_period),
        rto,
        rpo,
        newest_verified: newest_verified(&until_end),
        newest_runbooks: super::runbooks::newest(&until_end),
        last_passed_at: until_end
            .iter()
            .filter(|(_, r)| r.verdict == Verdict::Passed)
            .map(|(_, r)| r.started_at)
            .max(),
        forecast: forecast::forecast(
            &samples(&until_end),
            h.rto_target,
            opts.until,
            opts.horizon_days,
        ),
        integrity: h.integrity.clone(),
        cost: cost_of(h, &in_period, opts),
    }
}

/// What the period's drills cost, and the storage of the sets kept now (`report SPEC`).
fn cost_of(
    h: &DrillHistory,
    in_period: &[&(String, DrillReport)],
    opts: &SummaryOptions,
) -> Option<super::CostTotals> {
    let mut t = super::cost::totals(in_period.iter().map(|(_, r)| r));
    if let Some((copies, price)) = &h.kept {
        t.get_or_insert_with(Default::default).storage = Some(super::storage::use_over(
            copies, opts.since, opts.until, *price,
        ));
    }
    t
}

/// When monitoring began: the spec's `drill.monitored-since`, else the first drill report's
/// start.
fn monitored_since(h: &DrillHistory) -> Option<chrono::DateTime<chrono::Utc>> {
    h.monitored_since
        .or_else(|| h.reports.iter().map(|(_, r)| r.started_at).min())
}

/// Reports run and their verdicts.
fn verdict_counts(in_period: &[&(String, DrillReport)]) -> Counts {
    let mut counts = Counts {
        run: in_period.len(),
        ..Counts::default()
    };
    for (_, r) in in_period {
        match r.verdict {
            Verdict::Passed => counts.passed += 1,
            Verdict::Failed => counts.failed += 1,
            Verdict::Error => counts.error += 1,
            Verdict::Aborted => counts.aborted += 1,
        }
    }
    counts
}

/// With a schedule: counts its slots in the period into `counts` and returns the missed
/// ones.
fn schedule_counts(
    h: &DrillHistory,
    opts: &SummaryOptions,
    counts: &mut Counts,
) -> Vec<chrono::DateTime<chrono::Utc>> {
    let Some((schedule, _)) = &h.schedule else {
        return Vec::new();
    };
    let starts: Vec<_> = h
        .reports
        .iter()
        .map(|(_, r)| r.started_at)
        .filter(|t| *t <= opts.until)
        .collect();
    // Slots before monitoring began are not missed: before the spec's `monitored-since`, or
    // else before the first drill report — which may itself be a slot's (late) drill: the
    // grace before it still counts.
    let since = match h.monitored_since {
        Some(m) => m.max(opts.since),
        None => monitored_since(h).map_or(opts.since, |m| (m - opts.grace).max(opts.since)),
    };
    let o = match_slots(schedule, &starts, since, opts.until, opts.grace);
    counts.scheduled = Some(o.slots.len());
    counts.on_schedule = Some(o.covered);
    counts.missed = Some(o.missed.len());
    counts.pending = Some(o.pending.len());
    o.missed
}

/// The drills that did not pass.
fn failures(in_period: &[&(String, DrillReport)]) -> Vec<Failure> {
    in_period
        .iter()
        .filter(|(_, r)| r.verdict != Verdict::Passed)
        .map(|(file, r)| Failure {
            started_at: r.started_at,
            verdict: r.verdict,
            reason: r
                .reason
                .clone()
                .unwrap_or_else(|| "no reason recorded".into()),
            report: file.clone(),
        })
        .collect()
}

/// The newest passed drill per database, by database name.
fn newest_verified(reports: &[&(String, DrillReport)]) -> Vec<VerifiedBackup> {
    let mut newest: BTreeMap<String, VerifiedBackup> = BTreeMap::new();
    for (file, r) in reports {
        if let (Verdict::Passed, Some(b)) = (r.verdict, &r.backup) {
            newest.insert(
                b.source.database.clone(),
                VerifiedBackup {
                    database: b.source.database.clone(),
                    backup_id: b.id.clone(),
                    destination: b.destination.clone(),
                    location: b.location.clone(),
                    recovery_point: b.snapshot_at,
                    verified_at: r.started_at,
                    report: file.clone(),
                },
            );
        }
    }
    newest.into_values().collect()
}

/// The forecast's samples: drills that measured an RTO and know the database size.
fn samples(reports: &[&(String, DrillReport)]) -> Vec<Sample> {
    reports
        .iter()
        .filter_map(|(_, r)| {
            Some(Sample {
                at: r.started_at,
                size_bytes: size_of(r)?,
                rto_seconds: r.rto.as_ref()?.seconds,
            })
        })
        .collect()
}

/// Builds the summary of `histories` over the period of `opts`.
pub fn summarize(histories: &[DrillHistory], opts: &SummaryOptions) -> Summary {
    let drills: Vec<DrillSummary> = histories.iter().map(|h| drill_summary(h, opts)).collect();
    Summary {
        format_version: FORMAT_VERSION,
        tool_version: crate::VERSION.to_string(),
        period: Period {
            start: opts.since,
            end: opts.until,
            days: (opts.until - opts.since).num_seconds() as f64 / 86400.0,
            grace_seconds: opts.grace.num_seconds() as f64,
        },
        controls: controls::controls(&drills, opts.until),
        drills,
    }
}

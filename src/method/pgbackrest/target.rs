//! The recovery targets of a drill as `pgbackrest restore` options (checked against 2.45),
//! and the window a time target must fall in.

use chrono::{DateTime, Utc};

use crate::spec::PitrTarget;
use crate::{Error, Result};

/// `latest`, `immediate` or `time`.
pub fn kind(t: &PitrTarget) -> &'static str {
    match t {
        PitrTarget::Latest => "latest",
        PitrTarget::Immediate => "immediate",
        PitrTarget::Time(_) => "time",
    }
}

/// The options of `pgbackrest restore` for `target` restoring backup `label`. pgBackRest
/// 2.45 refuses `--target-action` with the default type, `T`/`Z` in a time, and reads a
/// time without an offset as the host's local time: hence `+00`.
pub fn restore_args(target: &PitrTarget, label: &str) -> Vec<String> {
    let set = format!("--set={label}");
    match target {
        PitrTarget::Latest => vec![
            "--type=default".into(),
            "--target-timeline=latest".into(),
            set,
        ],
        PitrTarget::Immediate => vec![
            "--type=immediate".into(),
            "--target-action=promote".into(),
            set,
        ],
        PitrTarget::Time(t) => vec![
            "--type=time".into(),
            format!("--target={}", pg_time(*t)),
            "--target-action=promote".into(),
            "--target-timeline=latest".into(),
            set,
        ],
    }
}

/// `2026-12-01 10:00:00.250000+00`.
pub fn pg_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()
}

/// Refuses a time target outside the repository's window: before the oldest backup's end
/// (`oldest`), or after the archive's end (`archive_end`, at the latest the drill's start).
///
/// # Errors
/// [`crate::ErrorKind::Spec`] saying the window.
pub fn check_window(
    t: DateTime<Utc>,
    repo: &str,
    oldest: Option<DateTime<Utc>>,
    archive_end: DateTime<Utc>,
) -> Result<()> {
    let window = |o: DateTime<Utc>| {
        format!(
            "{repo} can be restored from {} to {}",
            o.to_rfc3339(),
            archive_end.to_rfc3339()
        )
    };
    match oldest {
        None => Err(Error::spec(format!(
            "--target-time {}: {repo} holds no backup",
            t.to_rfc3339()
        ))
        .hint("take a backup first, or read another repository with --from")),
        Some(o) if t < o => Err(Error::spec(format!(
            "--target-time {} is before the oldest backup of {repo} ended: {}",
            t.to_rfc3339(),
            window(o)
        ))
        .hint("choose a time inside that window")),
        Some(o) if t > archive_end => Err(Error::spec(format!(
            "--target-time {} is after the end of {repo}'s WAL archive: {}",
            t.to_rfc3339(),
            window(o)
        ))
        .hint("choose a time inside that window; WAL reaches the archive within archive_timeout")),
        Some(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 250_000_000)
            .single()
            .unwrap()
    }

    #[test]
    fn each_target_has_the_options_pgbackrest_accepts() {
        assert_eq!(
            restore_args(&PitrTarget::Latest, "L").join(" "),
            "--type=default --target-timeline=latest --set=L"
        );
        assert_eq!(
            restore_args(&PitrTarget::Immediate, "L").join(" "),
            "--type=immediate --target-action=promote --set=L"
        );
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 10, 0, 0).unwrap()
            + chrono::Duration::microseconds(250_001);
        assert_eq!(
            restore_args(&PitrTarget::Time(t), "L").join(" "),
            "--type=time --target=2026-12-01 10:00:00.250001+00 --target-action=promote --target-timeline=latest --set=L"
        );
    }

    #[test]
    fn a_time_outside_the_window_is_refused_saying_it() {
        assert!(check_window(at(5), "repo2", Some(at(0)), at(10)).is_ok());
        let e = check_window(at(-5), "repo2", Some(at(0)), at(10)).unwrap_err();
        assert!(
            e.message.contains("before the oldest backup of repo2"),
            "{}",
            e.message
        );
        assert!(e.message.contains("can be restored from"), "{}", e.message);
        let e = check_window(at(15), "repo2", Some(at(0)), at(10)).unwrap_err();
        assert!(
            e.message.contains("after the end of repo2's WAL archive"),
            "{}",
            e.message
        );
        assert!(check_window(at(5), "repo2", None, at(10)).is_err());
    }
}

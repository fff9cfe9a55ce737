//! `check` of a spec with a heartbeat: the table is installed in the source and its newest
//! write is recent. A stale heartbeat means no writer runs (`firedrill heartbeat SPEC`, or
//! `firedrill schedule` over the spec's folder), and the next drill's measured RPO would be
//! the age of that write rather than the data lost.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::pg::conn::pg_message;
use crate::spec::DrillSpec;
use crate::{Error, Result};

/// How long reading the source may take.
const DEADLINE: Duration = Duration::from_secs(10);

/// The oldest a heartbeat may be: three intervals, at least 30 s (a writer that reconnects
/// waits up to 30 s).
pub fn stale_after(interval: Duration) -> Duration {
    (interval * 3).max(Duration::from_secs(30))
}

/// The heartbeat's age in the source's own clock, said in words; an error when it is not
/// installed, cannot be read, or is older than [`stale_after`].
///
/// # Errors
/// [`crate::ErrorKind::Preflight`] with what to run.
pub async fn check(spec: &DrillSpec) -> Result<String> {
    let interval = super::interval(spec)?;
    let target = super::source(spec)?;
    let read = async {
        let client = target.connect("the source database").await?;
        let present: bool = client
            .query_one("select to_regclass('firedrill.heartbeat') is not null", &[])
            .await
            .map_err(|e| Error::source_db(pg_message(&e)))?
            .get(0);
        if !present {
            return Ok(None);
        }
        let row = client
            .query_opt(
                "select at, clock_timestamp() from firedrill.heartbeat where id = 1",
                &[],
            )
            .await
            .map_err(|e| Error::source_db(pg_message(&e)))?;
        Ok::<_, Error>(Some(row.map(|r| (r.get(0), r.get(1)))))
    };
    let read = tokio::time::timeout(DEADLINE, read).await.map_err(|_| {
        Error::preflight(format!(
            "the source {} did not answer within {} s",
            target.display(),
            DEADLINE.as_secs()
        ))
    })??;
    let Some(row) = read else {
        return Err(super::not_installed(&target, spec));
    };
    judge(row, interval, spec)
}

/// The verdict on a heartbeat row: `(at, the source's clock now)`.
fn judge(
    row: Option<(DateTime<Utc>, DateTime<Utc>)>,
    interval: Duration,
    spec: &DrillSpec,
) -> Result<String> {
    let fix = || {
        format!(
            "run `firedrill heartbeat {}` as a long-lived service, or `firedrill schedule` over the spec's folder (it runs the heartbeat of every spec with one)",
            spec.path.display()
        )
    };
    let Some((at, now)) = row else {
        return Err(Error::preflight(format!("{} holds no heartbeat", super::TABLE)).hint(fix()));
    };
    let age = (now - at).to_std().unwrap_or_default();
    let shown = humantime::format_duration(Duration::from_secs(age.as_secs()));
    if age > stale_after(interval) {
        return Err(Error::preflight(format!(
            "the newest heartbeat is {shown} old (written {}, interval {}): no heartbeat writer is running, and a drill would measure its age instead of the data lost",
            at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            humantime::format_duration(interval)
        ))
        .hint(fix()));
    }
    Ok(format!(
        "written {shown} ago (interval {})",
        humantime::format_duration(interval)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::utc;

    #[test]
    fn a_heartbeat_older_than_three_intervals_is_stale() {
        assert_eq!(stale_after(Duration::from_secs(1)), Duration::from_secs(30));
        assert_eq!(
            stale_after(Duration::from_secs(60)),
            Duration::from_secs(180)
        );
        let recipient = age::x25519::Identity::generate().to_public().to_string();
        let spec = crate::testing::SpecBuilder::new("h")
            .source_url("postgres://127.0.0.1/h")
            .recipients(&[recipient])
            .destination("a", "file:///tmp/firedrill-fresh-a")
            .parse()
            .unwrap();
        let now = utc("2026-12-01T10:00:00Z");
        let second = Duration::from_secs(1);
        let fresh = judge(Some((utc("2026-12-01T09:59:58Z"), now)), second, &spec).unwrap();
        assert!(fresh.starts_with("written 2s ago"), "{fresh}");
        let stale = judge(Some((utc("2026-12-01T09:58:00Z"), now)), second, &spec).unwrap_err();
        assert!(stale.message.contains("2m old"), "{}", stale.message);
        assert!(
            stale
                .hint
                .as_deref()
                .unwrap_or("")
                .contains("firedrill heartbeat"),
            "{stale:?}"
        );
        assert!(judge(None, second, &spec).is_err());
    }
}

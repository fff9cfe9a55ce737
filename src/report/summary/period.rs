//! The period of a summary from command-line words: `--since 90d` or `--since 2026-01-01`,
//! `--until 2026-03-31T23:59:59Z`, `--grace 1h`, `--horizon 365d`.

use chrono::{DateTime, NaiveDate, Utc};

use super::SummaryOptions;
use crate::{Error, Result};

impl SummaryOptions {
    /// The options from the words of `--since`, `--until` (default now), `--grace` and
    /// `--horizon`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Spec`] naming the flag whose words are wrong.
    pub fn from_words(
        since: &str,
        until: Option<&str>,
        grace: &str,
        horizon: &str,
    ) -> Result<SummaryOptions> {
        let until = match until {
            Some(t) => parse_time("--until", t)?,
            None => Utc::now(),
        };
        Ok(SummaryOptions {
            since: parse_since(since, until)?,
            until,
            grace: parse_duration("--grace", grace)?,
            horizon_days: parse_duration("--horizon", horizon)?
                .num_days()
                .clamp(0, 36500) as u32,
        })
    }
}

/// A time: RFC 3339 (`2026-03-31T23:59:59Z`) or a date (`2026-03-31`, midnight UTC).
///
/// # Errors
/// [`crate::ErrorKind::Spec`] naming the flag and the accepted forms.
pub fn parse_time(flag: &str, text: &str) -> Result<DateTime<Utc>> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(
        Error::spec(format!("`{flag} {text}` is not a time")).hint(format!(
            "give a date (2026-03-31) or an RFC 3339 time (2026-03-31T23:59:59Z) to {flag}"
        )),
    )
}

/// A duration such as `90d`, `12weeks`, `1h`.
///
/// # Errors
/// [`crate::ErrorKind::Spec`] naming the flag.
pub fn parse_duration(flag: &str, text: &str) -> Result<chrono::Duration> {
    humantime::parse_duration(text)
        .ok()
        .and_then(|d| chrono::Duration::from_std(d).ok())
        .ok_or_else(|| {
            Error::spec(format!("`{flag} {text}` is not a duration")).hint(format!(
                "write e.g. {flag} 90d, {flag} 12weeks or {flag} 36h"
            ))
        })
}

/// The period start: `until` minus a duration (`90d`), or a time (`2026-01-01`).
///
/// # Errors
/// [`crate::ErrorKind::Spec`] when `text` is neither, or the start is not before `until`.
pub fn parse_since(text: &str, until: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let since = match parse_duration("--since", text) {
        Ok(d) => until - d,
        Err(_) => parse_time("--since", text).map_err(|_| {
            Error::spec(format!("`--since {text}` is neither a duration nor a date"))
                .hint("write e.g. --since 90d, --since 12weeks or --since 2026-01-01")
        })?,
    };
    if since >= until {
        return Err(Error::spec(format!(
            "the period is empty: --since {text} is not before its end {}",
            until.to_rfc3339()
        ))
        .hint("choose a start before the end (--until, default now)"));
    }
    Ok(since)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_dates_and_nonsense() {
        let until: DateTime<Utc> = "2026-06-30T00:00:00Z".parse().unwrap();
        assert_eq!(
            parse_since("90d", until).unwrap(),
            "2026-04-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            parse_since("2026-01-01", until).unwrap(),
            "2026-01-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap()
        );
        let e = parse_since("ninety days", until).unwrap_err();
        assert!(
            e.message.contains("neither a duration nor a date"),
            "{}",
            e.render()
        );
        assert!(parse_since("2027-01-01", until).is_err());
        assert!(parse_time("--until", "yesterday").is_err());
    }
}

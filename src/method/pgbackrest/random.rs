//! `drill --random-within 7d` of a pgBackRest source: a random *time* to recover to, inside
//! the recoverable window of the repository the drill reads (from the end of its oldest
//! backup to the last commit in its WAL archive: see `window`) intersected with the last
//! `within`. A seed makes
//! the choice reproducible: the same seed over the same window picks the same second; without
//! one a seed is drawn and recorded, so every random drill can be repeated.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use super::{info, repo_key, PgBackRestMethod};
use crate::spec::{DrillSpec, SourceMethod};
use crate::{Error, Result};

/// The chosen time and how it was chosen (`random within 7d, seed 42`).
#[derive(Debug, Clone, PartialEq)]
pub struct Chosen {
    pub time: DateTime<Utc>,
    pub how: String,
}

/// Chooses the target time of a drill of `spec` reading `from` (a repository name, else the
/// one with the highest key).
///
/// # Errors
/// [`crate::ErrorKind::Spec`] when the window and the last `within` do not overlap (saying
/// the window); errors of reading `pgbackrest info`.
pub async fn choose(
    spec: &DrillSpec,
    from: &str,
    within: Duration,
    seed: Option<u64>,
) -> Result<Chosen> {
    let SourceMethod::PgBackRest(src) = &spec.source.method else {
        return Err(Error::internal(
            "a random time is chosen for pgbackrest sources only",
        ));
    };
    let method = PgBackRestMethod::new(spec, src);
    let stanza = info::parse(&method.pgbr.info_json().await?, &src.stanza)?;
    let key = repo_key(from)
        .or_else(|| stanza.repo.iter().map(|r| r.key).max())
        .unwrap_or(1);
    if let Some(e) = super::access::unreadable(&stanza, key) {
        return Err(e);
    }
    let oldest = stanza.backups_in(key).map(info::Backup::stopped_at).min();
    let end = method.window_end(&stanza, key).await.at;
    let seed = seed.unwrap_or_else(draw_seed);
    let time = pick(oldest, end, Utc::now(), within, seed, &info::repo_name(key))?;
    Ok(Chosen {
        time,
        how: format!(
            "random within {}, seed {seed}",
            humantime::format_duration(within)
        ),
    })
}

/// A second in `[max(oldest, now - within), end]`, drawn from `seed`.
fn pick(
    oldest: Option<DateTime<Utc>>,
    end: DateTime<Utc>,
    now: DateTime<Utc>,
    within: Duration,
    seed: u64,
    repo: &str,
) -> Result<DateTime<Utc>> {
    let Some(oldest) = oldest else {
        return Err(
            Error::spec(format!("--random-within: {repo} holds no backup"))
                .hint("take a backup first, or read another repository with --from"),
        );
    };
    let since = now - chrono::Duration::from_std(within).unwrap_or(chrono::Duration::MAX);
    let lo =
        oldest.max(since).timestamp() + i64::from(oldest.max(since).timestamp_subsec_nanos() > 0);
    let hi = end.timestamp();
    if hi < lo {
        return Err(Error::spec(format!(
            "--random-within {}: {repo} can be restored from {} to {}, which is not within the last {}",
            humantime::format_duration(within),
            oldest.to_rfc3339(),
            end.to_rfc3339(),
            humantime::format_duration(within)
        ))
        .hint("widen --random-within, or take a backup"));
    }
    let span = u64::try_from(hi - lo).unwrap_or(0) + 1;
    let offset = i64::try_from(splitmix64(seed) % span).unwrap_or(0);
    Ok(Utc.timestamp_opt(lo + offset, 0).single().unwrap_or(end))
}

/// A seed from the OS.
fn draw_seed() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("OS random source");
    // Short enough to type back.
    u64::from_le_bytes(b) % 1_000_000_000
}

/// One step of SplitMix64: a well-mixed 64-bit value from any seed (0, 1, 2 ... included).
fn splitmix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: i64) -> DateTime<Utc> {
        Utc.timestamp_opt(1_800_000_000 + s, 0).single().unwrap()
    }

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn the_same_seed_picks_the_same_second_inside_the_window() {
        let (oldest, end, now) = (Some(at(0)), at(1000), at(1010));
        let a = pick(oldest, end, now, 7 * DAY, 42, "repo2").unwrap();
        assert_eq!(a, pick(oldest, end, now, 7 * DAY, 42, "repo2").unwrap());
        let picks: Vec<DateTime<Utc>> = (0..200)
            .map(|seed| pick(oldest, end, now, 7 * DAY, seed, "repo2").unwrap())
            .collect();
        assert!(picks.iter().all(|t| *t >= at(0) && *t <= at(1000)));
        let distinct: std::collections::BTreeSet<_> = picks.iter().collect();
        assert!(
            distinct.len() > 100,
            "seeds pick the same times: {distinct:?}"
        );
    }

    #[test]
    fn the_last_within_narrows_the_window_and_an_empty_one_is_refused() {
        // Window [0, 100 000]; the last 10 s before now = 100 010: [100 000, 100 000].
        let t = pick(
            Some(at(0)),
            at(100_000),
            at(100_010),
            Duration::from_secs(10),
            7,
            "repo2",
        );
        assert_eq!(t.unwrap(), at(100_000));
        let e = pick(
            Some(at(0)),
            at(100),
            at(100_000),
            Duration::from_secs(10),
            7,
            "repo2",
        )
        .unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Spec);
        assert!(
            e.message.contains("repo2 can be restored from"),
            "{}",
            e.message
        );
        assert!(pick(None, at(100), at(100), DAY, 7, "repo2").is_err());
    }
}

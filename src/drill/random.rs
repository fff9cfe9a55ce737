//! A recovery point chosen at random: `drill --random-within` (with `--seed`), or the spec's
//! `drill.random-within` for every drill that names no backup and no target — scheduled drills
//! included, so they fuzz recovery points instead of always testing the newest.
//!
//! A pgbackrest source recovers to a random *time* inside the repository's window (the seed is
//! recorded in the report); other sources restore a random complete backup.

use std::time::Duration;

use super::DrillOptions;
use crate::catalog::Pick;
use crate::method::pgbackrest;
use crate::spec::{DrillSpec, PitrTarget, SourceMethod};
use crate::Result;

/// How a drill's recovery point is chosen at random.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum RandomPoint {
    /// The spec's `drill.random-within`, when it has one and the drill picks the latest backup.
    #[default]
    FromSpec,
    /// Not at random: the drill names its backup or target.
    Off,
    /// `--random-within` (and `--seed`).
    Within { within: Duration, seed: Option<u64> },
}

/// The random window asked for, if any, and its seed.
fn asked(spec: &DrillSpec, opts: &DrillOptions) -> Option<(Duration, Option<u64>)> {
    match opts.random {
        RandomPoint::Off => None,
        RandomPoint::FromSpec => spec
            .drill
            .random_within
            .filter(|_| opts.pick == Pick::Latest)
            .map(|w| (w, None)),
        RandomPoint::Within { within, seed } => Some((within, seed)),
    }
}

/// Chooses the random recovery point `opts` (or the spec) asks for: into the pgbackrest
/// source's target (a time, with how it was chosen), else into `opts.pick`. Afterwards
/// `opts.random` is [`RandomPoint::Off`]: a point is chosen once per drill.
///
/// # Errors
/// [`crate::ErrorKind::Spec`] when nothing can be restored inside the window (naming it);
/// errors of reading the repository.
pub async fn choose(spec: &mut DrillSpec, opts: &mut DrillOptions) -> Result<()> {
    let Some((within, seed)) = asked(spec, opts) else {
        opts.random = RandomPoint::Off;
        return Ok(());
    };
    opts.random = RandomPoint::Off;
    if !matches!(spec.source.method, SourceMethod::PgBackRest(_)) {
        opts.pick = Pick::RandomWithin(within);
        return Ok(());
    }
    let from = opts.from.clone().unwrap_or_else(|| spec.drill.from.clone());
    let chosen = pgbackrest::random::choose(spec, &from, within, seed).await?;
    if let SourceMethod::PgBackRest(src) = &mut spec.source.method {
        src.target = PitrTarget::Time(chosen.time);
        src.chosen = Some(chosen.how);
    }
    opts.pick = Pick::Latest;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::SpecBuilder;

    fn spec(random_within: Option<&str>) -> DrillSpec {
        let recipient = age::x25519::Identity::generate().to_public().to_string();
        let mut b = SpecBuilder::new("r")
            .source_url("postgres://127.0.0.1/r")
            .recipients(&[recipient])
            .destination("a", "file:///tmp/firedrill-random-a");
        if let Some(w) = random_within {
            b = b.drill("random-within", w);
        }
        b.parse().unwrap()
    }

    #[tokio::test]
    async fn the_spec_window_applies_only_to_drills_that_name_nothing() {
        let mut s = spec(Some("7d"));
        let week = Duration::from_secs(7 * 86_400);
        let mut plain = DrillOptions::default();
        choose(&mut s, &mut plain).await.unwrap();
        assert_eq!(plain.pick, Pick::RandomWithin(week));
        assert_eq!(plain.random, RandomPoint::Off);

        let mut named = DrillOptions {
            pick: Pick::Id("x".into()),
            ..DrillOptions::default()
        };
        choose(&mut s, &mut named).await.unwrap();
        assert_eq!(named.pick, Pick::Id("x".into()));

        let mut off = DrillOptions {
            random: RandomPoint::Off,
            ..DrillOptions::default()
        };
        choose(&mut s, &mut off).await.unwrap();
        assert_eq!(off.pick, Pick::Latest);
    }

    #[tokio::test]
    async fn the_command_line_window_wins_and_no_window_means_the_latest() {
        let day = Duration::from_secs(86_400);
        let mut s = spec(Some("7d"));
        let mut asked = DrillOptions {
            random: RandomPoint::Within {
                within: day,
                seed: None,
            },
            ..DrillOptions::default()
        };
        choose(&mut s, &mut asked).await.unwrap();
        assert_eq!(asked.pick, Pick::RandomWithin(day));

        let mut none = DrillOptions::default();
        choose(&mut spec(None), &mut none).await.unwrap();
        assert_eq!(none.pick, Pick::Latest);
    }
}

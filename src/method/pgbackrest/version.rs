//! The pgBackRest a host runs must be installed and at least [`MINIMUM`]: firedrill reads
//! `info --output=json` with one status per repository and passes restore options whose
//! meaning it checked against 2.45; releases before 2.40 are refused rather than guessed at.

use super::command::PgBackRest;
use crate::{Error, Result};

/// The oldest pgBackRest firedrill drives, as (major, minor).
pub const MINIMUM: (u32, u32) = (2, 40);

const UPGRADE: &str = "install pgBackRest 2.40 or newer (Debian 12: apt-get install -y pgbackrest gives 2.45; older systems: the apt.postgresql.org or yum.postgresql.org packages), or put it first on PATH";

/// `pgbackrest version`, refused when pgBackRest is missing or older than [`MINIMUM`].
/// Returns what it printed (`pgBackRest 2.45`).
///
/// # Errors
/// [`crate::ErrorKind::Preflight`] naming the version found and the minimum, or how to
/// install pgBackRest when it is not on PATH.
pub async fn require(pgbr: &PgBackRest) -> Result<String> {
    verdict(&pgbr.version().await?)
}

/// Whether the output of `pgbackrest version` names a release at least [`MINIMUM`].
fn verdict(printed: &str) -> Result<String> {
    let min = format!("{}.{}", MINIMUM.0, MINIMUM.1);
    match parse(printed) {
        Some(v) if v >= MINIMUM => Ok(printed.to_string()),
        Some((major, minor)) => Err(Error::preflight(format!(
            "pgbackrest on PATH is pgBackRest {major}.{minor}, too old: firedrill needs pgBackRest {min} or newer"
        ))
        .hint(UPGRADE)),
        None => Err(Error::preflight(format!(
            "`pgbackrest version` printed `{}`, not a pgBackRest version: firedrill needs pgBackRest {min} or newer",
            printed.chars().take(80).collect::<String>()
        ))
        .hint(UPGRADE)),
    }
}

/// `pgBackRest 2.45` (or `pgBackRest 2.50dev`) -> (2, 45).
fn parse(printed: &str) -> Option<(u32, u32)> {
    let v = printed.trim().strip_prefix("pgBackRest ")?;
    let (major, rest) = v.split_once('.')?;
    let minor: String = rest.chars().take_while(char::is_ascii_digit).collect();
    Some((major.parse().ok()?, minor.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_release_pgbackrest_prints() {
        assert_eq!(parse("pgBackRest 2.45\n"), Some((2, 45)));
        assert_eq!(parse("pgBackRest 2.51dev"), Some((2, 51)));
        assert_eq!(parse("pgBackRest 3.0"), Some((3, 0)));
        assert_eq!(parse("something else 2.45"), None);
    }

    #[test]
    fn an_old_or_unknown_release_is_refused_naming_it_and_the_minimum() {
        assert_eq!(verdict("pgBackRest 2.40").unwrap(), "pgBackRest 2.40");
        assert!(verdict("pgBackRest 2.45").is_ok());
        let e = verdict("pgBackRest 2.38").unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Preflight);
        assert!(
            e.message.contains("pgBackRest 2.38, too old") && e.message.contains("2.40 or newer"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("apt-get install -y pgbackrest"));
        let e = verdict("pgBackRest 1.29").unwrap_err();
        assert!(e.message.contains("1.29"), "{}", e.message);
        let e = verdict("bash: oops").unwrap_err();
        assert!(e.message.contains("`bash: oops`"), "{}", e.message);
    }
}

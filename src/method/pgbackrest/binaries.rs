//! The drill host's PostgreSQL server binaries for a physical backup: a data directory starts
//! only under the major version that wrote it, so the drill uses the `pg_ctl` (and the
//! `pg_controldata` beside it) of exactly the backup's major version, never merely a newer
//! one as a logical restore may. The backup's version is pgBackRest's (`info`: `db[].version`
//! of the backup's database history).

use std::path::{Path, PathBuf};

use crate::pg::{PgTool, PgTools};
use crate::{Error, Result};

/// The tools of the folder holding the `pg_ctl` of PostgreSQL `backup_version` (`15`), and
/// that major version.
///
/// # Errors
/// [`crate::ErrorKind::Preflight`] naming the backup's version and the host's.
pub fn for_backup(tools: &PgTools, id: &str, backup_version: &str) -> Result<(PgTools, u32)> {
    let found = tools.find_all("pg_ctl");
    let tool = pick(&found, id, backup_version)?;
    let major = tool.major;
    let dir = server_dir(&found, major)
        .unwrap_or_else(|| tool.path.parent().unwrap_or(Path::new("/")).to_path_buf());
    Ok((PgTools::new(Some(dir)), major))
}

/// The real folder (a link on PATH followed) of a `pg_ctl` of `major` that holds the
/// server's other programs too (`pg_controldata`).
fn server_dir(found: &[PgTool], major: u32) -> Option<PathBuf> {
    found
        .iter()
        .filter(|t| t.major == major)
        .filter_map(|t| Some(std::fs::canonicalize(&t.path).ok()?.parent()?.to_path_buf()))
        .find(|d| d.join("pg_controldata").is_file())
}

/// The `pg_ctl` of the backup's major version among those found on the drill host.
fn pick<'a>(found: &'a [PgTool], id: &str, backup_version: &str) -> Result<&'a PgTool> {
    let major: Option<u32> = backup_version
        .split('.')
        .next()
        .and_then(|m| m.parse().ok());
    let Some(major) = major else {
        return Err(Error::preflight(format!(
            "pgbackrest info gives backup `{id}` the PostgreSQL version `{backup_version}`, which firedrill cannot read"
        ))
        .hint("check `pgbackrest info` of the stanza"));
    };
    if let Some(t) = found.iter().find(|t| t.major == major) {
        return Ok(t);
    }
    let host = if found.is_empty() {
        "no PostgreSQL server binaries (pg_ctl on PATH or in /usr/lib/postgresql/*/bin)".to_string()
    } else {
        found
            .iter()
            .map(|t| format!("PostgreSQL {} ({})", t.version, t.path.display()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    Err(Error::preflight(format!(
        "backup `{id}` is of PostgreSQL {backup_version} (pgbackrest info), and the drill host has {host}: a physical backup starts only under its own major version"
    ))
    .hint(format!(
        "install the PostgreSQL {major} server on the drill host (Debian: apt-get install -y postgresql-{major}), or set tools.bin-dir to its bin folder"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tool(version: &str) -> PgTool {
        let major = version.split('.').next().unwrap();
        PgTool {
            name: "pg_ctl".into(),
            path: format!("/usr/lib/postgresql/{major}/bin/pg_ctl").into(),
            major: major.parse().unwrap(),
            version: version.into(),
        }
    }

    #[test]
    fn the_backups_own_major_is_picked_even_when_a_newer_one_is_installed() {
        let found = [tool("16.4"), tool("15.20"), tool("14.9")];
        assert_eq!(pick(&found, "repo2:L", "15").unwrap().version, "15.20");
        assert_eq!(pick(&found, "repo2:L", "14").unwrap().version, "14.9");
    }

    #[test]
    fn another_major_is_refused_naming_both() {
        let found = [tool("15.20")];
        let e = pick(&found, "repo2:20261201-101010F", "14").unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Preflight);
        assert!(
            e.message
                .contains("backup `repo2:20261201-101010F` is of PostgreSQL 14")
                && e.message.contains(
                    "the drill host has PostgreSQL 15.20 (/usr/lib/postgresql/15/bin/pg_ctl)"
                ),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("postgresql-14"));
        let e = pick(&found, "repo2:L", "16").unwrap_err();
        assert!(e.message.contains("PostgreSQL 16"), "{}", e.message);
        let e = pick(&[], "repo2:L", "15").unwrap_err();
        assert!(
            e.message.contains("no PostgreSQL server binaries"),
            "{}",
            e.message
        );
        assert!(pick(&found, "repo2:L", "").is_err());
    }
}

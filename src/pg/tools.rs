//! Finding `pg_dump`, `pg_restore`, `initdb`, `pg_ctl` new enough for a server.
//!
//! With `tools.bin-dir` (or `FIREDRILL_PG_BIN`) only that folder is used. Otherwise PATH and
//! the usual package locations (`/usr/lib/postgresql/*/bin`, `/usr/pgsql-*/bin`) are searched
//! and the newest major version wins.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PgTool {
    pub name: String,
    pub path: PathBuf,
    pub major: u32,
    pub version: String,
}

#[derive(Debug, Clone, Default)]
pub struct PgTools {
    pub bin_dir: Option<PathBuf>,
}

impl PgTools {
    pub fn new(bin_dir: Option<PathBuf>) -> Self {
        Self { bin_dir }
    }

    fn candidates(&self, name: &str) -> Vec<PathBuf> {
        if let Some(dir) = &self.bin_dir {
            return vec![dir.join(name)];
        }
        let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).collect())
            .unwrap_or_default();
        for pattern_root in [
            "/usr/lib/postgresql",
            "/usr/local/pgsql",
            "/opt/homebrew/opt",
        ] {
            if let Ok(entries) = std::fs::read_dir(pattern_root) {
                for e in entries.flatten() {
                    dirs.push(e.path().join("bin"));
                }
            }
        }
        if let Ok(entries) = std::fs::read_dir("/usr") {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().starts_with("pgsql-") {
                    dirs.push(e.path().join("bin"));
                }
            }
        }
        dirs.into_iter().map(|d| d.join(name)).collect()
    }

    /// The newest `name` whose major version is at least `min_major`.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Preflight`] naming the tool, what was found and how to fix it.
    pub fn find(&self, name: &str, min_major: u32, why: &str) -> Result<PgTool> {
        let found = self.find_all(name);
        match found.first() {
            Some(best) if best.major >= min_major => Ok(best.clone()),
            Some(best) => Err(Error::preflight(format!(
                "{name} {min_major} or newer is needed {why}; the newest found is {} ({})",
                best.version,
                best.path.display()
            ))
            .hint(format!(
                "install the PostgreSQL {min_major} client tools, or point tools.bin-dir at them"
            ))),
            None => Err(Error::preflight(match &self.bin_dir {
                Some(d) => format!("{name} not found in tools.bin-dir `{}` (needed {why})", d.display()),
                None => format!("{name} not found on PATH or in /usr/lib/postgresql/*/bin (needed {why})"),
            })
            .hint("install the PostgreSQL client/server packages, or set tools.bin-dir (or FIREDRILL_PG_BIN) to their bin folder")),
        }
    }
}

impl PgTools {
    /// Every `name` found (one per file), newest major version first.
    pub fn find_all(&self, name: &str) -> Vec<PgTool> {
        let mut found: Vec<PgTool> = Vec::new();
        for path in self.candidates(name) {
            if !is_executable(&path) || found.iter().any(|f| same_file(&f.path, &path)) {
                continue;
            }
            if let Some(tool) = probe(name, &path) {
                found.push(tool);
            }
        }
        found.sort_by_key(|t| std::cmp::Reverse(t.major));
        found
    }
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

fn probe(name: &str, path: &Path) -> Option<PgTool> {
    let out = std::process::Command::new(path)
        .arg("--version")
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let version = parse_version(&text)?;
    let major = version.split('.').next()?.parse().ok()?;
    Some(PgTool {
        name: name.to_string(),
        path: path.to_path_buf(),
        major,
        version,
    })
}

/// `pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)` -> `15.20`.
fn parse_version(text: &str) -> Option<String> {
    let after = text.split("(PostgreSQL)").nth(1)?;
    let v = after.split_whitespace().next()?;
    let v: String = v
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    (!v.is_empty()).then_some(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_versions() {
        assert_eq!(
            parse_version("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n").as_deref(),
            Some("15.20")
        );
        assert_eq!(
            parse_version("initdb (PostgreSQL) 17beta1").as_deref(),
            Some("17")
        );
        assert_eq!(parse_version("something else"), None);
    }

    #[test]
    fn missing_bin_dir_is_a_clear_preflight_error() {
        let tools = PgTools::new(Some("/nonexistent/firedrill".into()));
        let err = tools.find("pg_dump", 15, "for the source").unwrap_err();
        assert_eq!(err.kind, crate::ErrorKind::Preflight);
        assert!(
            err.message.contains("pg_dump not found in tools.bin-dir"),
            "{}",
            err.message
        );
    }
}

//! `shared_preload_libraries` of a restored cluster. Libraries that act on their own are
//! disabled in the scratch cluster (a restored pg_cron would run the source's jobs against
//! the copy, timescaledb its background policies); every other library is kept, and must be
//! installed on the drill host (PostgreSQL refuses to start without it): a missing one
//! could not run the drill, named.
//!
//! The setting is read from the restored files: `postgresql.conf` in PGDATA (with the files
//! it includes from inside PGDATA) and `postgresql.auto.conf` (`ALTER SYSTEM`), the later
//! winning. A source that keeps its configuration outside PGDATA (Debian:
//! `/etc/postgresql/...`) restores no `postgresql.conf`: the source's current setting is
//! asked then, as the configuration the backup ran under.

use std::path::{Path, PathBuf};

use crate::{Error, Result};

/// Preloaded libraries that act by themselves, and what they would do in a scratch cluster.
pub const ACTING: [(&str, &str); 2] = [
    (
        "pg_cron",
        "would run the source's jobs (cron.job) in the copy",
    ),
    (
        "timescaledb",
        "would run the source's background jobs (policies, continuous aggregates)",
    ),
];

/// What the scratch cluster preloads, and what it leaves out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Preload {
    pub kept: Vec<String>,
    pub disabled: Vec<String>,
}

impl Preload {
    /// The value of `-c shared_preload_libraries=`.
    pub fn setting(&self) -> String {
        format!("'{}'", self.kept.join(","))
    }
}

/// Splits `setting` into its libraries, disabling the [`ACTING`] ones and requiring the
/// others to be in `lib_dir` (the drill host's `$libdir` of the backup's major version).
///
/// # Errors
/// [`crate::ErrorKind::Preflight`] naming a library the drill host lacks.
pub fn decide(setting: &str, lib_dir: &Path) -> Result<Preload> {
    let mut out = Preload::default();
    for lib in names(setting) {
        let stem = lib
            .rsplit('/')
            .next()
            .unwrap_or(&lib)
            .trim_end_matches(".so");
        if ACTING.iter().any(|(name, _)| *name == stem) {
            out.disabled.push(lib);
            continue;
        }
        if lib.contains(['\'', '\\', ' ']) || !installed(&lib, lib_dir) {
            return Err(Error::preflight(format!(
                "the restored cluster preloads `{lib}` (shared_preload_libraries), which the drill host does not have in `{}`: PostgreSQL would not start",
                lib_dir.display()
            ))
            .hint(format!(
                "install the package that provides {lib} for this PostgreSQL major version on the drill host"
            )));
        }
        out.kept.push(lib);
    }
    Ok(out)
}

/// Why a disabled library was left out, for the log.
pub fn why(lib: &str) -> &'static str {
    ACTING
        .iter()
        .find(|(name, _)| lib.ends_with(name))
        .map_or("", |(_, why)| why)
}

/// The drill host's `$libdir` for the server binaries in `bin` (`/usr/lib/postgresql/15/bin`
/// -> `/usr/lib/postgresql/15/lib`; `/usr/local/pgsql/bin` -> `/usr/local/pgsql/lib`): the
/// first candidate holding `plpgsql.so`, which every installation has.
pub fn lib_dir(bin: &Path) -> PathBuf {
    let root = bin.parent().unwrap_or(bin);
    [root.join("lib/postgresql"), root.join("lib")]
        .into_iter()
        .find(|d| d.join("plpgsql.so").is_file())
        .unwrap_or_else(|| root.join("lib"))
}

/// The source's `shared_preload_libraries`, asked within 10 s; `None` when it cannot be.
pub async fn source_setting(source: &crate::pg::PgTarget) -> Option<String> {
    let asked = async {
        let c = source.connect("the source database").await.ok()?;
        let row = c
            .query_one("select current_setting('shared_preload_libraries')", &[])
            .await
            .ok()?;
        Some(row.get::<_, String>(0))
    };
    tokio::time::timeout(std::time::Duration::from_secs(10), asked)
        .await
        .ok()
        .flatten()
}

/// `'pg_cron, "auto_explain"'` -> `pg_cron`, `auto_explain`.
fn names(setting: &str) -> Vec<String> {
    setting
        .split(',')
        .map(|s| s.trim().trim_matches('"').to_string())
        .filter(|s| !s.is_empty())
        .collect()
}

/// Whether `lib` (a name, `$libdir/name` or a path) exists as PostgreSQL would load it.
fn installed(lib: &str, lib_dir: &Path) -> bool {
    let path = match lib.strip_prefix("$libdir/") {
        Some(rest) => lib_dir.join(rest),
        None if lib.starts_with('/') => PathBuf::from(lib),
        None => lib_dir.join(lib),
    };
    path.is_file() || path.with_extension("so").is_file() || {
        let mut with = path.into_os_string();
        with.push(".so");
        Path::new(&with).is_file()
    }
}

/// The setting as the restored data directory gives it: `postgresql.auto.conf` over
/// `postgresql.conf` (and what it includes from inside `data`). `None` when `data` has no
/// `postgresql.conf` and `postgresql.auto.conf` does not set it: the configuration lived
/// elsewhere.
pub fn from_files(data: &Path) -> Option<String> {
    let main = data.join("postgresql.conf");
    let mut value = None;
    if main.is_file() {
        value = Some(String::new());
        read_file(&main, data, 0, &mut value);
    }
    read_file(&data.join("postgresql.auto.conf"), data, 0, &mut value);
    value
}

/// Reads `shared_preload_libraries` out of one configuration file into `value` (the last
/// one wins), following includes that stay inside `data`.
fn read_file(path: &Path, data: &Path, depth: u32, value: &mut Option<String>) {
    let Ok(text) = std::fs::read_to_string(path) else {
        return;
    };
    let dir = path.parent().unwrap_or(data);
    for line in text.lines() {
        let Some((key, v)) = setting_line(line) else {
            continue;
        };
        match key.as_str() {
            "shared_preload_libraries" => *value = Some(v),
            "include" | "include_if_exists" | "include_dir" if depth < 8 => {
                let target = dir.join(&v);
                if !target.starts_with(data) || v.contains("..") {
                    continue;
                }
                if key == "include_dir" {
                    let mut files: Vec<PathBuf> = std::fs::read_dir(&target)
                        .into_iter()
                        .flatten()
                        .flatten()
                        .map(|e| e.path())
                        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
                        .collect();
                    files.sort();
                    for f in files {
                        read_file(&f, data, depth + 1, value);
                    }
                } else {
                    read_file(&target, data, depth + 1, value);
                }
            }
            _ => {}
        }
    }
}

/// `name = 'value'  # comment` (or `name value`) -> (`name` in lower case, `value`).
fn setting_line(line: &str) -> Option<(String, String)> {
    let line = line.trim_start();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let end = line
        .find(|c: char| c.is_whitespace() || c == '=')
        .unwrap_or(line.len());
    let key = line[..end].to_ascii_lowercase();
    let rest = line[end..].trim_start();
    let rest = rest.strip_prefix('=').unwrap_or(rest).trim_start();
    let value = if let Some(quoted) = rest.strip_prefix('\'') {
        let mut out = String::new();
        let mut chars = quoted.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '\'' if chars.peek() == Some(&'\'') => {
                    chars.next();
                    out.push('\'');
                }
                '\'' => break,
                '\\' => out.extend(chars.next()),
                c => out.push(c),
            }
        }
        out
    } else {
        rest.split(|c: char| c.is_whitespace() || c == '#')
            .next()
            .unwrap_or("")
            .to_string()
    };
    Some((key, value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acting_libraries_are_disabled_and_others_kept_when_installed() {
        let lib = tempfile::tempdir().unwrap();
        std::fs::write(lib.path().join("auto_explain.so"), "").unwrap();
        std::fs::write(lib.path().join("pg_stat_statements.so"), "").unwrap();
        let p = decide(
            "pg_cron, auto_explain,\"$libdir/pg_stat_statements\", timescaledb",
            lib.path(),
        )
        .unwrap();
        assert_eq!(p.kept, ["auto_explain", "$libdir/pg_stat_statements"]);
        assert_eq!(p.disabled, ["pg_cron", "timescaledb"]);
        assert_eq!(p.setting(), "'auto_explain,$libdir/pg_stat_statements'");
        assert_eq!(decide("", lib.path()).unwrap(), Preload::default());
        assert!(why("pg_cron").contains("cron.job"));
    }

    #[test]
    fn a_library_the_drill_host_lacks_is_refused_naming_it() {
        let lib = tempfile::tempdir().unwrap();
        let e = decide("pg_cron,citus", lib.path()).unwrap_err();
        assert_eq!(e.kind, crate::ErrorKind::Preflight);
        assert!(
            e.message.contains("preloads `citus`") && e.message.contains("does not have"),
            "{}",
            e.message
        );
    }

    #[test]
    fn the_setting_is_read_from_the_restored_files_the_auto_conf_last() {
        let data = tempfile::tempdir().unwrap();
        let d = data.path();
        assert_eq!(from_files(d), None);
        std::fs::write(
            d.join("postgresql.conf"),
            "#shared_preload_libraries = 'x'\nshared_preload_libraries = 'pg_cron' # jobs\ninclude_dir 'conf.d'\ninclude '/etc/elsewhere.conf'\n",
        )
        .unwrap();
        assert_eq!(from_files(d).as_deref(), Some("pg_cron"));
        std::fs::create_dir(d.join("conf.d")).unwrap();
        std::fs::write(
            d.join("conf.d/10-more.conf"),
            "Shared_Preload_Libraries='pg_cron,auto_explain'\n",
        )
        .unwrap();
        assert_eq!(from_files(d).as_deref(), Some("pg_cron,auto_explain"));
        std::fs::write(
            d.join("postgresql.auto.conf"),
            "# Do not edit this file manually!\nshared_preload_libraries = 'it''s'\n",
        )
        .unwrap();
        assert_eq!(from_files(d).as_deref(), Some("it's"));
        std::fs::remove_file(d.join("postgresql.conf")).unwrap();
        assert_eq!(from_files(d).as_deref(), Some("it's"));
        std::fs::write(d.join("postgresql.auto.conf"), "port = 5433\n").unwrap();
        assert_eq!(from_files(d), None);
    }
}

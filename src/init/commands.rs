//! The commands `init` prints, in a form that works as printed: the program is `firedrill`
//! only when that name on PATH is this very binary, otherwise the binary's own path.

use std::path::{Path, PathBuf};

/// `s` quoted for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+=:,@%".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// The first executable `name` on `path` (a PATH value).
fn on_path(name: &str, path: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    std::env::split_paths(path)
        .filter(|d| d.is_absolute())
        .map(|d| d.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// How to call this binary from a shell: `firedrill` when PATH (the value given) finds this
/// same file under that name, else `exe` quoted; `firedrill` when `exe` is unknown.
pub fn program_name(exe: Option<&Path>, path: Option<&str>) -> String {
    let Some(exe) = exe else {
        return "firedrill".into();
    };
    let exe = std::fs::canonicalize(exe).unwrap_or_else(|_| exe.to_path_buf());
    let found = path
        .and_then(|p| on_path("firedrill", p))
        .and_then(|p| std::fs::canonicalize(p).ok());
    if found.as_deref() == Some(exe.as_path()) {
        "firedrill".into()
    } else {
        shell_quote(&exe.display().to_string())
    }
}

/// `check`, `backup` and `drill` of `spec`, each a shell command line.
pub fn next_commands(program: &str, spec: &Path) -> Vec<String> {
    let spec = shell_quote(&spec.display().to_string());
    ["check", "backup", "drill"]
        .iter()
        .map(|c| format!("{program} {c} {spec}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn executable(dir: &Path, name: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let p = dir.join(name);
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p
    }

    #[test]
    fn bare_name_only_when_path_finds_this_binary() {
        let d = tempfile::tempdir().unwrap();
        let bin = d.path().join("bin");
        let other = d.path().join("other dir");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(&other).unwrap();
        let exe = executable(&bin, "firedrill");
        let elsewhere = executable(&other, "firedrill");
        let path = bin.display().to_string();
        assert_eq!(program_name(Some(&exe), Some(&path)), "firedrill");
        // Not on PATH, or PATH finds another firedrill: the full path, quoted.
        assert_eq!(
            program_name(Some(&elsewhere), Some(&path)),
            format!("'{}'", elsewhere.display())
        );
        assert_eq!(
            program_name(Some(&exe), Some("/nonexistent")),
            exe.display().to_string()
        );
        assert_eq!(program_name(Some(&exe), None), exe.display().to_string());
    }

    #[test]
    fn commands_quote_odd_paths() {
        let c = next_commands("firedrill", Path::new("/srv/it's here/shop.toml"));
        assert_eq!(c[0], "firedrill check '/srv/it'\\''s here/shop.toml'");
        assert_eq!(c[2], "firedrill drill '/srv/it'\\''s here/shop.toml'");
    }
}

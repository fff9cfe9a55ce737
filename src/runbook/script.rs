//! Pieces of the without-firedrill script that do not depend on the method: the header
//! (`set -euo pipefail`, the variables it needs), a private work folder removed on exit, and
//! fetching an object from a destination with `cp` or `aws s3 cp`. Everything the script
//! names is quoted; it never holds a secret (credentials come from the environment).

use std::fmt::Write;

use crate::init::shell_quote;
use crate::spec::{DestinationKind, DestinationSpec};

/// The script's first two title lines: what it restores, and where it comes from.
pub fn title(backup_id: &str, drill: &str, what: &str, into: &str) -> Vec<String> {
    vec![
        format!("Restores backup {backup_id} of drill `{drill}` ({what}) without firedrill{into}."),
        format!(
            "Written by firedrill {} from the drill that restored this backup; `firedrill runbook` says when it was last proven.",
            crate::VERSION
        ),
    ]
}

/// A variable the script reads from the environment.
pub struct Var {
    pub name: &'static str,
    /// What to set it to, for the header comment and the error when it is missing.
    pub meaning: String,
    /// Its value when unset (a path or a number, never a secret); `None`: required.
    pub default: Option<String>,
}

/// `#!/usr/bin/env bash`, what the script does (`title`), the variables it reads, `set -euo
/// pipefail`, the checks of required variables and the defaults of the others.
pub fn header(title: &[String], vars: &[Var]) -> String {
    let mut o = String::from("#!/usr/bin/env bash\n");
    for line in title {
        let _ = writeln!(o, "# {line}");
    }
    o.push_str("# Set before running:\n");
    for v in vars {
        let default = v
            .default
            .as_deref()
            .map(|d| format!(" (default {d})"))
            .unwrap_or_default();
        let _ = writeln!(o, "#   {}: {}{default}", v.name, v.meaning);
    }
    o.push_str("set -euo pipefail\n");
    for v in vars {
        match &v.default {
            None => {
                let _ = writeln!(
                    o,
                    ": \"${{{}:?set {} to {}}}\"",
                    v.name,
                    v.name,
                    v.meaning.replace(['"', '`', '$', '\\', '}'], "")
                );
            }
            Some(d) => {
                let _ = writeln!(
                    o,
                    "if [ -z \"${{{0}:-}}\" ]; then {0}={1}; fi",
                    v.name,
                    shell_quote(d)
                );
            }
        }
    }
    o
}

/// A private folder for the fetched objects, removed when the script ends (also on failure);
/// the script works inside it.
pub fn work_folder() -> String {
    "WORK=\"$(mktemp -d)\"\ntrap 'rm -rf -- \"$WORK\"' EXIT\ncd -- \"$WORK\"\n".into()
}

/// The command that copies object `key` (relative to the destination) of `dest` into the
/// work folder as `file`.
pub fn fetch(dest: &DestinationSpec, key: &str, file: &str) -> String {
    match &dest.kind {
        DestinationKind::Folder(f) => format!(
            "cp -- {} {}",
            shell_quote(&format!("{}/{key}", f.path.trim_end_matches('/'))),
            shell_quote(file)
        ),
        DestinationKind::S3(s) => {
            let full = if s.prefix.is_empty() {
                format!("s3://{}/{key}", s.bucket)
            } else {
                format!("s3://{}/{}/{key}", s.bucket, s.prefix)
            };
            let endpoint = s
                .endpoint
                .as_deref()
                .map(|e| format!(" --endpoint-url {}", shell_quote(e)))
                .unwrap_or_default();
            format!(
                "aws s3 cp --only-show-errors --region {}{endpoint} {} {}",
                shell_quote(&s.region),
                shell_quote(&full),
                shell_quote(file)
            )
        }
    }
}

/// True for a name the script can use as a file name as it stands, and list in a
/// `sha256sum` check file: letters, digits, `.`, `_` and `-`, not starting with `.` or `-`.
pub fn plain_file_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['.', '-'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

/// `sha256sum -c` of `(file, sha256)` pairs, in the work folder: the script stops here when
/// any object differs from the manifest.
pub fn checksums<'a>(objects: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut o = String::from("sha256sum -c --strict <<'SHA256SUMS'\n");
    for (file, sha) in objects {
        let _ = writeln!(o, "{sha}  {file}");
    }
    o.push_str("SHA256SUMS\n");
    o
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{FolderDestination, S3Destination};

    fn s3(prefix: &str, endpoint: Option<&str>) -> DestinationSpec {
        DestinationSpec {
            name: "dr".into(),
            kind: DestinationKind::S3(S3Destination {
                bucket: "b".into(),
                prefix: prefix.into(),
                region: "eu-west-1".into(),
                endpoint: endpoint.map(str::to_string),
                part_size: 1,
                concurrency: 1,
                object_lock: None,
                sse: None,
            }),
        }
    }

    #[test]
    fn fetches_quote_paths_and_name_the_region() {
        let folder = DestinationSpec {
            name: "dr".into(),
            kind: DestinationKind::Folder(FolderDestination {
                path: "/mnt/dr it's/".into(),
            }),
        };
        assert_eq!(
            fetch(&folder, "d/1/data.dump.zst.age", "data.dump.zst.age"),
            "cp -- '/mnt/dr it'\\''s/d/1/data.dump.zst.age' data.dump.zst.age"
        );
        assert_eq!(
            fetch(&s3("", None), "d/1/x", "x"),
            "aws s3 cp --only-show-errors --region eu-west-1 s3://b/d/1/x x"
        );
        assert_eq!(
            fetch(&s3("p/q", Some("http://127.0.0.1:4566")), "d/1/x", "x"),
            "aws s3 cp --only-show-errors --region eu-west-1 --endpoint-url http://127.0.0.1:4566 s3://b/p/q/d/1/x x"
        );
    }

    #[test]
    fn header_requires_or_defaults_each_variable() {
        let h = header(
            &["Recovers x.".into()],
            &[
                Var {
                    name: "TARGET_URL",
                    meaning: "the URL of an empty database".into(),
                    default: None,
                },
                Var {
                    name: "KEY",
                    meaning: "the age identity file".into(),
                    default: Some("/k/key.txt".into()),
                },
            ],
        );
        assert!(h.starts_with("#!/usr/bin/env bash\n# Recovers x.\n"), "{h}");
        assert!(h.contains("set -euo pipefail\n"), "{h}");
        assert!(
            h.contains(": \"${TARGET_URL:?set TARGET_URL to the URL of an empty database}\"\n"),
            "{h}"
        );
        assert!(
            h.contains("if [ -z \"${KEY:-}\" ]; then KEY=/k/key.txt; fi\n"),
            "{h}"
        );
    }

    #[test]
    fn only_plain_names_are_file_names() {
        assert!(plain_file_name("part-0001.copy.zst.age"));
        for bad in ["", "../x", "a/b", "-rf", ".hidden", "a b", "a\nb"] {
            assert!(!plain_file_name(bad), "{bad:?}");
        }
    }
}

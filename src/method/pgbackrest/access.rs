//! A repository pgBackRest cannot read, named with the fix: a wrong passphrase of an
//! encrypted repository, a folder the database's OS user may not read, an S3 bucket that
//! refuses the repository's credentials. `info` reports such a
//! repository with a status that is not ok; during recovery `archive-get` logs its error to
//! the restored cluster's log and exits with a code PostgreSQL takes for "no such segment",
//! so the log is where it shows. Either way the drill could not read what it was to prove:
//! [`crate::ErrorKind::Storage`] (exit 2), never a pass at an early "end of archive".

use std::path::Path;

use super::info::{repo_name, Stanza};
use super::secrets;
use crate::Error;

/// The error of repository `key` when `info` reports it unreadable.
pub fn unreadable(stanza: &Stanza, key: u32) -> Option<Error> {
    let repo = stanza.repo.iter().find(|r| r.key == key)?;
    if repo.status.usable() {
        return None;
    }
    Some(
        Error::storage(format!(
            "pgBackRest cannot read {} of stanza `{}`: {}",
            repo_name(key),
            stanza.name,
            printable(first_line(&repo.status.message))
        ))
        .hint(fix(key, &repo.cipher, &repo.status.message)),
    )
}

/// The first error pgBackRest's `archive-get` logged in the restored cluster's `log`
/// (`ERROR: [041]: ...` and its indented lines), as the drill's error.
pub fn archive_get_failed(log: &Path, key: u32, cipher: &str) -> Option<Error> {
    let text = std::fs::read_to_string(log).ok()?;
    let mut lines = text.lines().skip_while(|l| !is_pgbackrest_error(l));
    let first = lines.next()?;
    let more: Vec<&str> = lines
        .take_while(|l| l.starts_with(' ') || l.starts_with('\t'))
        .take(3)
        .map(str::trim)
        .collect();
    let mut what = printable(first.trim()).to_string();
    let told = what.clone();
    for l in more {
        what.push_str("\n    ");
        what.push_str(&printable(l));
    }
    Some(
        Error::storage(format!(
            "recovery could not read {}'s WAL archive: pgBackRest's archive-get failed:\n    {what}",
            repo_name(key)
        ))
        .hint(fix(key, cipher, &told)),
    )
}

/// `ERROR: [041]: ...` as pgBackRest logs to stderr.
fn is_pgbackrest_error(line: &str) -> bool {
    line.trim_start()
        .strip_prefix("ERROR: [")
        .is_some_and(|rest| rest.len() > 4 && rest[..3].bytes().all(|b| b.is_ascii_digit()))
}

/// The fix: the credentials of an S3 repository that refused them, the passphrase of an
/// encrypted repository, the permissions of any.
fn fix(key: u32, cipher: &str, message: &str) -> String {
    if secrets::is_s3_refusal(message) {
        return secrets::s3_hint(key);
    }
    let repo = repo_name(key);
    let access = format!(
        "check that the database's OS user (drill.run-as) can read every folder and file under {repo}-path (or its bucket); `pgbackrest info --repo={key}` as that user shows what it cannot read"
    );
    if cipher.is_empty() || cipher == "none" {
        return access;
    }
    format!(
        "{repo} is encrypted ({cipher}): check its passphrase, {repo}-cipher-pass in pgbackrest.conf or PGBACKREST_REPO{key}_CIPHER_PASS in firedrill's environment; else {access}"
    )
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s).trim_end_matches(':')
}

/// Without control characters (a wrong key decrypts to bytes pgBackRest prints as they are).
fn printable(s: &str) -> String {
    s.chars().filter(|c| !c.is_control()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_archive_get_error_is_named_with_its_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("postgres.log");
        std::fs::write(
            &log,
            "LOG:  starting point-in-time recovery\n\
             WARN: repo2: [FileOpenError] unable to open\n\
             ERROR: [041]: unable to open file '/r/archive/x': Permission denied\n\
             \x20     HINT: is the file readable?\n\
             LOG:  redo done\n\
             ERROR: [041]: a later one\n",
        )
        .unwrap();
        let e = archive_get_failed(&log, 2, "none").unwrap();
        assert_eq!(e.kind, crate::ErrorKind::Storage);
        assert!(
            e.message.contains("repo2's WAL archive")
                && e.message.contains("Permission denied")
                && e.message.contains("HINT: is the file readable?")
                && !e.message.contains("later one"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("drill.run-as"));
        std::fs::write(&log, "LOG:  redo done\nERROR:  relation does not exist\n").unwrap();
        assert!(archive_get_failed(&log, 2, "none").is_none());
    }

    #[test]
    fn an_encrypted_repository_names_its_passphrase() {
        let json = r#"[{"archive":[],"backup":[],"cipher":"mixed","db":[],"name":"main",
            "repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}},
                    {"cipher":"aes-256-cbc","key":2,"status":{"code":99,"message":"[FormatError] unable to load info file 'b':\nFormatError: \u0019x"}}],
            "status":{"code":4,"lock":{"backup":{"held":false}},"message":"different across repos"}}]"#;
        let s = super::super::info::parse(json, "main").unwrap();
        assert!(unreadable(&s, 1).is_none());
        let e = unreadable(&s, 2).unwrap();
        assert!(
            e.message.contains(
                "cannot read repo2 of stanza `main`: [FormatError] unable to load info file 'b'"
            ),
            "{}",
            e.message
        );
        let hint = e.hint.unwrap();
        assert!(
            hint.contains("repo2-cipher-pass") && hint.contains("PGBACKREST_REPO2_CIPHER_PASS"),
            "{hint}"
        );
    }

    #[test]
    fn an_s3_repository_that_refuses_its_credentials_names_them() {
        // As pgBackRest 2.45 reports a bucket that refuses the request's signature.
        let json = r#"[{"archive":[],"backup":[],"cipher":"mixed","db":[],"name":"main",
            "repo":[{"cipher":"none","key":1,"status":{"code":0,"message":"ok"}},
                    {"cipher":"aes-256-cbc","key":2,"status":{"code":99,"message":"[ProtocolError] HTTP request failed with 403 (Forbidden):\n*** Path/Query ***:\nGET /b/?list-type=2\n*** Response Content ***:\n<Error><Code>SignatureDoesNotMatch</Code></Error>"}}],
            "status":{"code":4,"lock":{"backup":{"held":false}},"message":"different across repos"}}]"#;
        let s = super::super::info::parse(json, "main").unwrap();
        let e = unreadable(&s, 2).unwrap();
        assert!(
            e.message.contains(
                "cannot read repo2 of stanza `main`: [ProtocolError] HTTP request failed with 403 (Forbidden)"
            ),
            "{}",
            e.message
        );
        let hint = e.hint.unwrap();
        assert!(
            hint.contains("PGBACKREST_REPO2_S3_KEY_SECRET") && hint.contains("s3:ListBucket"),
            "{hint}"
        );
        // The same refusal while recovery fetches WAL.
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("postgres.log");
        std::fs::write(
            &log,
            "ERROR: [039]: HTTP request failed with 403 (Forbidden):\n\
             \x20           *** Path/Query ***:\n",
        )
        .unwrap();
        let hint = archive_get_failed(&log, 2, "aes-256-cbc")
            .unwrap()
            .hint
            .unwrap();
        assert!(hint.contains("PGBACKREST_REPO2_S3_KEY"), "{hint}");
    }
}

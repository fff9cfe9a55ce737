//! pgBackRest's secure options (a repository's cipher passphrase, its S3 key and secret):
//! firedrill never puts them on a command line or in a file, and pgBackRest never writes them
//! into the `restore_command` of a restored cluster. They live in `pgbackrest.conf` or in
//! pgBackRest's own environment variables (`PGBACKREST_REPO2_S3_KEY_SECRET`), which every
//! `pgbackrest` call and the scratch postmaster (its `archive-get`) inherit from firedrill,
//! also when firedrill is root and runs them as `drill.run-as`. Here: naming the variable
//! that is missing or wrong, with the fix.

use crate::spec::SECURE_OPTIONS as SECURE;

/// The variable pgBackRest reads `repo<key>-<option>` from: `PGBACKREST_REPO2_S3_KEY`.
pub fn env_var(key: u32, option: &str) -> String {
    format!(
        "PGBACKREST_REPO{key}_{}",
        option.to_ascii_uppercase().replace('-', "_")
    )
}

/// The fix when pgBackRest stopped because a secure option has no value (`ERROR: [037]: info
/// command requires option: repo2-s3-key-secret`).
pub fn missing_hint(stderr: &str) -> Option<String> {
    let (_, rest) = stderr.split_once("requires option: ")?;
    let name = rest.split_whitespace().next()?.trim_end_matches(['.', ',']);
    let (key, option) = name.strip_prefix("repo")?.split_once('-')?;
    let key: u32 = key.parse().ok()?;
    SECURE.contains(&option).then(|| {
        format!(
            "set {} in firedrill's environment (or {name} in pgbackrest.conf); firedrill hands it to every pgbackrest call and to the scratch cluster, never to a file",
            env_var(key, option)
        )
    })
}

/// Whether pgBackRest's message is an S3 request that failed (`HTTP request failed with
/// 403`): the credentials, bucket, region or endpoint of an S3 repository.
pub fn is_s3_refusal(message: &str) -> bool {
    message.contains("HTTP request failed with 4")
}

/// The fix of an S3 repository the drill could not read.
pub fn s3_hint(key: u32) -> String {
    format!(
        "repo{key} is an S3 repository: check {} and {} in firedrill's environment (or repo{key}-s3-key and repo{key}-s3-key-secret in pgbackrest.conf), repo{key}-s3-bucket, -s3-region and -s3-endpoint; a drill needs s3:ListBucket and s3:GetObject on the bucket",
        env_var(key, "s3-key"),
        env_var(key, "s3-key-secret"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_secure_option_names_its_variable() {
        assert_eq!(
            env_var(2, "s3-key-secret"),
            "PGBACKREST_REPO2_S3_KEY_SECRET"
        );
        let hint =
            missing_hint("ERROR: [037]: info command requires option: repo2-s3-key-secret\n")
                .unwrap();
        assert!(
            hint.starts_with("set PGBACKREST_REPO2_S3_KEY_SECRET in firedrill's environment (or repo2-s3-key-secret in pgbackrest.conf)"),
            "{hint}"
        );
        let hint = missing_hint("ERROR: [037]: restore command requires option: repo1-cipher-pass")
            .unwrap();
        assert!(hint.contains("PGBACKREST_REPO1_CIPHER_PASS"), "{hint}");
        // Not secret, not an option error: no such hint.
        assert!(
            missing_hint("ERROR: [037]: info command requires option: repo2-s3-bucket").is_none()
        );
        assert!(missing_hint("ERROR: [055]: unable to open missing file").is_none());
    }

    #[test]
    fn an_s3_refusal_is_told_from_other_errors() {
        assert!(is_s3_refusal(
            "[ProtocolError] HTTP request failed with 403 (Forbidden):\n*** Path/Query ***:"
        ));
        assert!(!is_s3_refusal("[FormatError] unable to load info file"));
        let hint = s3_hint(2);
        assert!(
            hint.contains("PGBACKREST_REPO2_S3_KEY and PGBACKREST_REPO2_S3_KEY_SECRET")
                && hint.contains("s3:GetObject"),
            "{hint}"
        );
    }
}

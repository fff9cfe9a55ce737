//! age keys: recipients (who backups are encrypted to) and identities (who can read them).
//!
//! Identities are secrets: they are held as `Box<dyn age::Identity>` and never formatted.

use std::io::{BufReader, Write};
use std::path::Path;

use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// A parsed age recipient.
pub type Recipient = Box<dyn age::Recipient + Send + Sync>;
/// A loaded age identity.
pub type Identity = Box<dyn age::Identity + Send + Sync>;

/// Parses `age1...`, `ssh-ed25519 ...` or `ssh-rsa ...`.
///
/// # Errors
/// A message naming the recipient kind that was expected.
pub fn parse_recipient(s: &str) -> std::result::Result<Recipient, String> {
    let s = s.trim();
    if s.starts_with("age1") {
        s.parse::<age::x25519::Recipient>()
            .map(|r| Box::new(r) as Recipient)
            .map_err(|e| format!("`{}` is not a valid age recipient: {e}", short(s)))
    } else if s.starts_with("ssh-") {
        s.parse::<age::ssh::Recipient>()
            .map(|r| Box::new(r) as Recipient)
            .map_err(|e| format!("`{}` is not a usable SSH public key: {e:?}", short(s)))
    } else if s.starts_with("AGE-SECRET-KEY-") {
        Err(
            "this is an age identity (a secret key), not a recipient; never put it in a spec"
                .into(),
        )
    } else {
        Err(format!("`{}` is not an age or SSH recipient", short(s)))
    }
}

fn short(s: &str) -> String {
    if s.len() > 24 {
        format!("{}…", &s[..24])
    } else {
        s.to_string()
    }
}

/// A stable, non-secret fingerprint of a recipient for manifests: the first 16 hex digits of
/// the SHA-256 of its text form.
pub fn fingerprint(recipient: &str) -> String {
    let digest = Sha256::digest(recipient.trim().as_bytes());
    format!("sha256:{}", &hex::encode(digest)[..16])
}

/// Parses every recipient.
///
/// # Errors
/// [`crate::ErrorKind::Key`] for the first recipient that does not parse.
pub fn parse_recipients(list: &[String]) -> Result<Vec<Recipient>> {
    list.iter()
        .map(|r| parse_recipient(r).map_err(|e| Error::key(e).hint("fix backup.recipients")))
        .collect()
}

/// Where the drill identity comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdentityOrigin {
    File,
    Env,
}

/// Loads the identity from `file`, or else from the `FIREDRILL_IDENTITY` environment variable.
///
/// # Errors
/// [`crate::ErrorKind::Key`] when there is none, the file is unreadable, or it holds no key.
pub fn load_identities(file: Option<&Path>) -> Result<(Vec<Identity>, IdentityOrigin)> {
    if let Some(path) = file {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::key(format!(
                "cannot read identity file `{}`: {e}",
                path.display()
            ))
            .hint("point drill.identity-file at the file `firedrill keygen` wrote")
        })?;
        let ids = parse_identities(&text).map_err(|e| {
            Error::key(format!("identity file `{}`: {e}", path.display()))
                .hint("use a file written by `firedrill keygen` (AGE-SECRET-KEY-1...) or an unencrypted OpenSSH private key")
        })?;
        return Ok((ids, IdentityOrigin::File));
    }
    match std::env::var("FIREDRILL_IDENTITY") {
        Ok(text) if !text.trim().is_empty() => {
            let ids = parse_identities(&text).map_err(|e| {
                Error::key(format!("FIREDRILL_IDENTITY: {e}"))
                    .hint("set it to the contents of an identity file (AGE-SECRET-KEY-1...)")
            })?;
            Ok((ids, IdentityOrigin::Env))
        }
        _ => Err(Error::key("no age identity to decrypt backups with").hint(
            "set drill.identity-file (or --set drill.identity-file=PATH), or put the identity in FIREDRILL_IDENTITY",
        )),
    }
}

fn parse_identities(text: &str) -> std::result::Result<Vec<Identity>, String> {
    if text.contains("-----BEGIN") {
        let id = age::ssh::Identity::from_buffer(BufReader::new(text.as_bytes()), None)
            .map_err(|e| format!("not a readable SSH private key ({e})"))?;
        return match id {
            age::ssh::Identity::Unencrypted(_) => Ok(vec![Box::new(id)]),
            age::ssh::Identity::Encrypted(_) => {
                Err("passphrase-protected SSH keys cannot be used unattended".into())
            }
            age::ssh::Identity::Unsupported(k) => Err(format!("unsupported SSH key type ({k:?})")),
        };
    }
    let file = age::IdentityFile::from_buffer(BufReader::new(text.as_bytes()))
        .map_err(|_| "no age identity found".to_string())?;
    let ids = file
        .into_identities()
        .map_err(|_| "no usable age identity found".to_string())?;
    if ids.is_empty() {
        return Err("no age identity found".into());
    }
    Ok(ids.into_iter().map(|i| i as Identity).collect())
}

/// True when `identities` can decrypt something encrypted to `recipients`: encrypts a probe
/// to all recipients and decrypts it. Works for every key type without deriving public keys.
///
/// # Errors
/// [`crate::ErrorKind::Key`] when the recipients do not parse.
pub fn identity_matches(identities: &[Identity], recipients: &[String]) -> Result<bool> {
    let recips = parse_recipients(recipients)?;
    let enc = age::Encryptor::with_recipients(recips.iter().map(|r| r.as_ref() as _))
        .map_err(|e| Error::key(format!("cannot encrypt to backup.recipients: {e}")))?;
    let mut sealed = Vec::new();
    let mut w = enc
        .wrap_output(&mut sealed)
        .map_err(|e| Error::internal(e.to_string()))?;
    w.write_all(b"firedrill probe")
        .and_then(|_| w.finish().map(|_| ()))
        .map_err(|e| Error::internal(e.to_string()))?;
    let dec = age::Decryptor::new(&sealed[..]).map_err(|e| Error::internal(e.to_string()))?;
    Ok(dec
        .decrypt(identities.iter().map(|i| i.as_ref() as _))
        .is_ok())
}

/// A new X25519 identity: the secret file text and its public recipient.
pub fn generate() -> (secrecy::SecretString, String) {
    let id = age::x25519::Identity::generate();
    let recipient = id.to_public().to_string();
    let text = format!(
        "# created: {}\n# public key: {recipient}\n{}\n",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        id.to_string().expose_secret()
    );
    (secrecy::SecretString::from(text), recipient)
}

/// Writes a new identity to `path` with mode 0600 (refusing to overwrite) and returns its
/// recipient.
///
/// # Errors
/// [`crate::ErrorKind::Key`] when the file exists or cannot be written.
pub fn write_new_identity(path: &Path) -> Result<String> {
    use std::os::unix::fs::OpenOptionsExt;
    let (secret, recipient) = generate();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            Error::key(format!(
                "cannot create identity file `{}`: {e}",
                path.display()
            ))
            .hint("choose another --output path; an existing identity is never overwritten")
        })?;
    f.write_all(secret.expose_secret().as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| Error::key(format!("cannot write `{}`: {e}", path.display())))?;
    Ok(recipient)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_identity_matches_its_recipient_only() {
        let (secret, recipient) = generate();
        let ids = parse_identities(secret.expose_secret()).unwrap();
        assert!(identity_matches(&ids, std::slice::from_ref(&recipient)).unwrap());
        let (_, other) = generate();
        assert!(!identity_matches(&ids, std::slice::from_ref(&other)).unwrap());
        assert!(identity_matches(&ids, &[other, recipient]).unwrap());
    }

    #[test]
    fn recipient_errors_are_clear() {
        assert!(parse_recipient("age1notakey").is_err());
        let (secret, _) = generate();
        let line = secret
            .expose_secret()
            .lines()
            .find(|l| l.starts_with("AGE-SECRET"))
            .unwrap()
            .to_string();
        let err = parse_recipient(&line)
            .err()
            .expect("an identity is no recipient");
        assert!(err.contains("not a recipient"), "{err}");
        assert!(!err.contains(&line[20..]), "secret leaked into error");
        assert!(fingerprint("age1x").starts_with("sha256:"));
    }
}

//! Report signatures: an ed25519 signing key (written by `firedrill keygen --signing`), a
//! detached signature beside each report (`<report>.json.sig`), and the public key recorded
//! in the drill's report folder (`signing-key.pub`).

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};

use crate::{Error, Result};

const KEY_PREFIX: &str = "FIREDRILL-SIGNING-KEY-";
/// Name of the public key file kept in each drill's report folder.
pub const PUBLIC_KEY_FILE: &str = "signing-key.pub";

/// Writes a new signing key (0600, never overwriting) and returns the public key (hex).
///
/// # Errors
/// [`crate::ErrorKind::Key`] when the file exists or cannot be written.
pub fn write_new_key(path: &Path) -> Result<String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("the OS random source works");
    let key = SigningKey::from_bytes(&seed);
    let public = hex::encode(key.verifying_key().to_bytes());
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| {
            Error::key(format!(
                "cannot create signing key `{}`: {e}",
                path.display()
            ))
            .hint("choose another --output; an existing key is never overwritten")
        })?;
    writeln!(
        f,
        "# public key: {public}\n{KEY_PREFIX}{}",
        hex::encode(seed)
    )
    .map_err(|e| Error::key(format!("cannot write `{}`: {e}", path.display())))?;
    Ok(public)
}

/// Loads a signing key written by [`write_new_key`].
///
/// # Errors
/// [`crate::ErrorKind::Key`] naming the file.
pub fn load_key(path: &Path) -> Result<SigningKey> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::key(format!("cannot read signing key `{}`: {e}", path.display())))?;
    let hexed = text
        .lines()
        .find_map(|l| l.trim().strip_prefix(KEY_PREFIX))
        .ok_or_else(|| {
            Error::key(format!(
                "`{}` holds no firedrill signing key",
                path.display()
            ))
            .hint("create one with `firedrill keygen --signing`")
        })?;
    let bytes: [u8; 32] = hex::decode(hexed)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| {
            Error::key(format!(
                "the signing key in `{}` is damaged",
                path.display()
            ))
        })?;
    Ok(SigningKey::from_bytes(&bytes))
}

/// Signs `bytes`, writing `<path>.sig`, and records the public key in the folder (refusing a
/// key other than the one already recorded there).
///
/// # Errors
/// When files cannot be written, or the folder belongs to another key.
pub fn sign(path: &Path, bytes: &[u8], key: &SigningKey) -> Result<()> {
    let dir = path.parent().expect("reports live in a folder");
    let public = hex::encode(key.verifying_key().to_bytes());
    let pub_file = dir.join(PUBLIC_KEY_FILE);
    match std::fs::read_to_string(&pub_file) {
        Ok(existing) if existing.trim() != public => {
            return Err(Error::key(format!(
                "the report folder `{}` is signed with another key",
                dir.display()
            ))
            .hint("use the signing key this folder was started with"));
        }
        Ok(_) => {}
        Err(_) => std::fs::write(&pub_file, format!("{public}\n"))
            .map_err(|e| Error::storage(format!("cannot write `{}`: {e}", pub_file.display())))?,
    }
    let sig = key.sign(bytes);
    let sig_path = sig_path(path);
    std::fs::write(&sig_path, format!("{}\n", hex::encode(sig.to_bytes())))
        .map_err(|e| Error::storage(format!("cannot write `{}`: {e}", sig_path.display())))
}

fn sig_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(".sig");
    PathBuf::from(s)
}

/// The public key recorded in the drill folder `dir`, if any (and readable).
pub(super) fn recorded_key(dir: &Path) -> Option<VerifyingKey> {
    std::fs::read_to_string(dir.join(PUBLIC_KEY_FILE))
        .ok()
        .and_then(|t| hex::decode(t.trim()).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .and_then(|b| VerifyingKey::from_bytes(&b).ok())
}

/// Checks the signature of the report `path` (its `bytes`) against `key`: `None` when it
/// holds, otherwise the problem.
pub(super) fn check_signature(path: &Path, bytes: &[u8], key: &VerifyingKey) -> Option<String> {
    let Ok(sig) = std::fs::read_to_string(sig_path(path)) else {
        return Some("has no signature".into());
    };
    let ok = hex::decode(sig.trim())
        .ok()
        .and_then(|b| <[u8; 64]>::try_from(b).ok())
        .map(|b| key.verify(bytes, &Signature::from_bytes(&b)).is_ok())
        .unwrap_or(false);
    (!ok).then(|| "signature does not match: edited, or signed with another key".into())
}

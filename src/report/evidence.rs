//! Tamper evidence for the report store: every report carries the SHA-256 of the previous
//! report of its drill (a chain), and with a signing key each report gets a detached ed25519
//! signature (`<report>.json.sig`). `verify` detects an edited report (signature), a removed
//! or reordered one (chain), and one signed with another key.

use std::path::{Path, PathBuf};

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::Serialize;
use sha2::{Digest, Sha256};

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

pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The newest report (by file name) of a drill's folder, if any.
pub fn newest_report(dir: &Path) -> Option<PathBuf> {
    reports(dir).pop()
}

/// The report files of a drill folder, oldest first (names sort by time).
pub fn reports(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
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

/// One finding of [`verify`].
#[derive(Debug, Serialize)]
pub struct Finding {
    pub report: String,
    pub problem: String,
}

/// Verifies every drill folder under `root` (or `root` itself when it holds reports).
///
/// # Errors
/// When `root` cannot be read.
pub fn verify(root: &Path) -> Result<(usize, Vec<Finding>)> {
    let mut folders: Vec<PathBuf> = if !reports(root).is_empty() {
        vec![root.to_path_buf()]
    } else {
        std::fs::read_dir(root)
            .map_err(|e| Error::storage(format!("cannot read `{}`: {e}", root.display())))?
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect()
    };
    folders.sort();
    let mut checked = 0;
    let mut findings = Vec::new();
    for dir in folders {
        let key = std::fs::read_to_string(dir.join(PUBLIC_KEY_FILE))
            .ok()
            .and_then(|t| hex::decode(t.trim()).ok())
            .and_then(|b| <[u8; 32]>::try_from(b).ok())
            .and_then(|b| VerifyingKey::from_bytes(&b).ok());
        let mut previous: Option<String> = None;
        for path in reports(&dir) {
            checked += 1;
            let name = path.display().to_string();
            let mut problem = |p: String| {
                findings.push(Finding {
                    report: name.clone(),
                    problem: p,
                })
            };
            let Ok(bytes) = std::fs::read(&path) else {
                problem("cannot be read".into());
                continue;
            };
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let claimed = v["previous_sha256"].as_str().map(str::to_string);
            if claimed != previous {
                problem(match (&claimed, &previous) {
                    (Some(_), None) => "names a previous report, but none precedes it: the chain starts with a removed report".into(),
                    (None, Some(_)) => "does not name the report before it: the chain is broken".into(),
                    _ => "the report before it is not the one it names: a report was removed or edited".into(),
                });
            }
            match (&key, std::fs::read_to_string(sig_path(&path))) {
                (Some(k), Ok(sig)) => {
                    let ok = hex::decode(sig.trim())
                        .ok()
                        .and_then(|b| <[u8; 64]>::try_from(b).ok())
                        .map(|b| k.verify(&bytes, &Signature::from_bytes(&b)).is_ok())
                        .unwrap_or(false);
                    if !ok {
                        problem(
                            "signature does not match: edited, or signed with another key".into(),
                        );
                    }
                }
                (Some(_), Err(_)) => problem("has no signature".into()),
                (None, _) => {}
            }
            previous = Some(sha256_hex(&bytes));
        }
    }
    Ok((checked, findings))
}

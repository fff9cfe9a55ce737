//! Tamper evidence for the report store: every report carries the SHA-256 of the previous
//! report of its drill (a chain, see [`chain`]), and with a signing key each report gets a
//! detached ed25519 signature (see [`signing`]). [`verify`] detects an edited report
//! (signature), a removed or reordered one (chain), and one signed with another key;
//! [`cited`] checks the backup objects the reports cite; [`proof`] says what proves each
//! report.

pub mod chain;
pub mod cited;
pub mod proof;
pub mod signing;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The reports the evidence covers: the report files of a drill folder (see
/// [`store`](mod@crate::report::store)).
pub use crate::report::store::reports;
pub use chain::verify;
pub use signing::{load_key, sign, write_new_key, PUBLIC_KEY_FILE};

/// SHA-256 of `bytes`, in hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A problem with one report (`report` names it).
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub report: String,
    pub problem: String,
}

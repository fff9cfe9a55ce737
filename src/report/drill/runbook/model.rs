//! The runbook model, stored in the drill report's JSON (`runbook`). [`VERSION`] changes
//! whenever a field changes meaning or goes away.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The runbook format version.
pub const VERSION: u32 = 1;

/// How to recover one backup, as the drill that restored it did it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Runbook {
    pub version: u32,
    pub drill: String,
    pub backup_id: String,
    /// The manifest's `method.kind` (`pg_dump`, ...).
    pub method: String,
    /// The point the backup's data reflects.
    pub recovery_point: DateTime<Utc>,
    /// When the drill that wrote this runbook started.
    pub drilled_at: DateTime<Utc>,
    /// True when that drill passed: only then is the runbook proven.
    pub proven: bool,
    /// The steps, in order, each with the time this drill measured for it.
    pub steps: Vec<Step>,
    /// The versions of the tools this drill and the backup used.
    pub tools: Vec<Tool>,
    /// Where the inputs of a recovery are: the copy, the key, the recipients.
    pub inputs: Inputs,
    /// The recovery with firedrill: shell commands, in order.
    pub with_firedrill: Vec<Command>,
    /// The recovery without firedrill: one shell block, plain tools only, no secret in it.
    pub script: String,
    /// Who is told of drills and backups: the environment variables holding the webhook URLs.
    #[serde(default)]
    pub notify: Vec<String>,
    /// The targets the recovery is measured against.
    pub targets: Targets,
}

/// One step of the recovery.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Step {
    pub title: String,
    pub detail: String,
    /// The drill's phases this step took (their `name`s).
    pub phases: Vec<String>,
    /// The sum of those phases in this drill; absent when the drill did not get there.
    pub seconds: Option<f64>,
}

/// A tool and the version the backup or the drill used.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Tool {
    pub name: String,
    pub version: String,
    /// What it did (`made the backup`, `restored it in this drill`).
    pub role: String,
}

/// Where a recovery reads from. Names and places only: never a secret.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Inputs {
    /// The destination the drill read (its name in the spec).
    pub destination: String,
    /// Its URL: `file:///...` or `s3://bucket/prefix`.
    pub location: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// Where the credentials for the copy come from, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credentials: Option<String>,
    /// The age identity that decrypts the backup, by where it is kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<KeySource>,
    /// Who can decrypt: the backup's recipients.
    #[serde(default)]
    pub recipients: Vec<Recipient>,
    /// The snapshot a recovery restores (RDS), in the region the drill restored in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snapshot: Option<SnapshotRef>,
}

/// An RDS snapshot, by region, identifier and ARN.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SnapshotRef {
    pub region: String,
    pub id: String,
    pub arn: String,
}

/// Where the age identity is kept: a file, or an environment variable (named, never read).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum KeySource {
    File { path: String },
    Env { variable: String },
}

impl KeySource {
    /// `identity file /path` or `identity in $VAR`.
    pub fn describe(&self) -> String {
        match self {
            KeySource::File { path } => format!("age identity file `{path}`"),
            KeySource::Env { variable } => {
                format!("age identity in the environment variable `{variable}`")
            }
        }
    }
}

/// A recipient of the backup: the fingerprint the manifest records and, when the spec still
/// names it, its public key.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Recipient {
    pub fingerprint: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// A command of the recovery with firedrill, and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Command {
    pub command: String,
    pub why: String,
}

/// The spec's targets, in seconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Targets {
    pub rto_seconds: Option<f64>,
    pub rpo_seconds: Option<f64>,
}

//! The spec as written: loose types, so that one pass can report every problem at once.
//! Unknown keys are collected with `serde_ignored` instead of failing on the first.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawSpec {
    pub name: Option<String>,
    pub timezone: Option<String>,
    pub source: Option<RawSource>,
    pub backup: Option<RawBackup>,
    #[serde(default)]
    pub destination: Vec<RawDestination>,
    pub drill: Option<RawDrill>,
    pub targets: Option<RawTargets>,
    #[serde(default)]
    pub check: Vec<RawCheck>,
    pub tools: Option<RawTools>,
    pub metrics: Option<RawMetrics>,
    pub notify: Option<RawNotify>,
    pub heartbeat: Option<RawHeartbeat>,
    pub cost: Option<RawCost>,
}

/// `[cost]`: the drill host's region and, optionally, prices.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawCost {
    pub region: Option<String>,
    pub currency: Option<String>,
    pub transfer_per_gb: Option<toml::Value>,
    pub instance_hour: Option<toml::Table>,
    pub storage_gb_month: Option<toml::Value>,
}

/// `[heartbeat]`: present turns it on.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawHeartbeat {
    pub interval: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawNotify {
    #[serde(default)]
    pub webhook: Vec<RawWebhook>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawWebhook {
    pub url: Option<String>,
    pub url_env: Option<String>,
    pub on: Option<String>,
    pub format: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawMetrics {
    pub textfile: Option<String>,
    pub pushgateway: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawSource {
    pub url: Option<String>,
    pub kind: Option<String>,
    pub ca_file: Option<String>,
    pub instance: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub database: Option<String>,
    pub copy_to: Option<Vec<toml::Value>>,
    pub wait_timeout: Option<String>,
    pub stanza: Option<String>,
    pub config: Option<String>,
    pub backup: Option<bool>,
    pub backup_type: Option<String>,
    pub pg_path: Option<String>,
    pub pg_socket_path: Option<String>,
    pub repository: Option<Vec<RawRepository>>,
    pub options: Option<toml::Table>,
}

/// `[[source.repository]]` of a managed pgbackrest source.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawRepository {
    pub path: Option<String>,
    pub bucket: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub uri_style: Option<String>,
    pub verify_tls: Option<bool>,
    pub key_type: Option<String>,
    pub retention_full: Option<u32>,
    pub cipher_type: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawCopyTo {
    pub region: Option<String>,
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawScratchRds {
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub instance_class: Option<String>,
    pub subnet_group: Option<String>,
    pub security_groups: Option<Vec<String>>,
    pub parameter_group: Option<String>,
    pub restore: Option<String>,
    pub wait_timeout: Option<String>,
    pub user: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<String>,
    pub ca_file: Option<String>,
    pub database: Option<String>,
    pub ttl: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawBackup {
    pub compression: Option<String>,
    pub recipients: Option<Vec<String>>,
    pub recipients_file: Option<String>,
    pub exact_count_limit: Option<i64>,
    pub row_counts: Option<String>,
    pub retention: Option<RawRetention>,
    pub schedule: Option<toml::Value>,
    pub jobs: Option<i64>,
    pub split_size: Option<toml::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawRetention {
    pub keep_last: Option<i64>,
    pub daily: Option<i64>,
    pub weekly: Option<i64>,
    pub monthly: Option<i64>,
    pub orphan_grace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawDestination {
    pub name: Option<String>,
    pub url: Option<String>,
    pub region: Option<String>,
    pub endpoint: Option<String>,
    pub part_size: Option<toml::Value>,
    pub concurrency: Option<i64>,
    pub object_lock: Option<RawObjectLock>,
    pub sse: Option<String>,
    pub kms_key_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawObjectLock {
    pub mode: Option<String>,
    pub days: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawDrill {
    pub from: Option<String>,
    pub signing_key_file: Option<String>,
    pub schedule: Option<String>,
    pub identity_file: Option<String>,
    pub scratch: Option<toml::Value>,
    pub reports: Option<String>,
    pub jobs: Option<i64>,
    pub work_dir: Option<String>,
    pub run_as: Option<String>,
    pub negative_controls: Option<bool>,
    pub timeout: Option<String>,
    pub random_within: Option<String>,
    pub monitored_since: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawScratchServer {
    pub server: Option<String>,
    pub prefix: Option<String>,
    pub rds: Option<RawScratchRds>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawTargets {
    pub rto: Option<String>,
    pub rpo: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawCheck {
    pub name: Option<String>,
    pub kind: Option<String>,
    pub sql: Option<String>,
    pub expect: Option<String>,
    pub table: Option<String>,
    pub column: Option<String>,
    pub within: Option<String>,
    pub heapallindexed: Option<bool>,
    pub timeout: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub struct RawTools {
    pub bin_dir: Option<String>,
}

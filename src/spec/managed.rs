//! A pgBackRest configuration firedrill writes from the spec (managed mode): `[source]
//! pg-path` with its `[[source.repository]]` entries, instead of an existing
//! `pgbackrest.conf` read as it is.

use std::path::PathBuf;

/// A repository's options pgBackRest refuses to read from the command line: its secrets
/// (`repo<N>-cipher-pass`, ...). firedrill never puts them on a command line, in a spec or in a
/// file it writes; pgBackRest reads them from `PGBACKREST_REPO<N>_*` variables.
pub const SECURE_OPTIONS: [&str; 6] = [
    "cipher-pass",
    "s3-key",
    "s3-key-secret",
    "s3-token",
    "azure-key",
    "gcs-key",
];

/// What firedrill writes into `source.config` for a managed pgbackrest source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedConfig {
    /// `pg1-path`: the cluster's data directory.
    pub pg_path: PathBuf,
    /// `pg1-port`: from `source.url`.
    pub pg_port: u16,
    /// `pg1-socket-path`: `pg-socket-path`, else a Unix-socket host of `source.url`.
    pub pg_socket_path: Option<PathBuf>,
    /// `repo1`, `repo2`, ... in the order given.
    pub repositories: Vec<ManagedRepo>,
    /// Other global options (`compress-type`, `process-max`, ...), never secure ones.
    pub options: Vec<(String, String)>,
}

/// One repository: `repo<key>-*`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManagedRepo {
    pub key: u32,
    pub storage: RepoStorage,
    /// `repo<key>-retention-full`.
    pub retention_full: Option<u32>,
    /// `repo<key>-cipher-type`; the passphrase is read from `PGBACKREST_REPO<key>_CIPHER_PASS`.
    pub cipher_type: Option<String>,
}

/// Where a repository keeps its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoStorage {
    /// `repo<key>-path` on a file system.
    Posix { path: PathBuf },
    /// An S3 bucket: `repo<key>-type=s3`.
    S3(S3Repository),
}

/// An S3 repository. Its key and secret are never in the spec: pgBackRest reads them from
/// `PGBACKREST_REPO<key>_S3_KEY` / `_S3_KEY_SECRET` (`key-type = "shared"`), or from the
/// instance's or pod's role (`"auto"`, `"web-id"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Repository {
    pub bucket: String,
    pub region: String,
    /// Host name of the endpoint (`s3.eu-west-1.amazonaws.com`).
    pub endpoint: String,
    /// `repo<key>-storage-port`, when the endpoint names one.
    pub port: Option<u16>,
    /// The repository's folder in the bucket (`repo<key>-path`), default `/`.
    pub path: String,
    /// `repo<key>-s3-uri-style`: `host` (default) or `path`.
    pub uri_style: Option<String>,
    /// `repo<key>-storage-verify-tls=n` when false.
    pub verify_tls: bool,
    /// `repo<key>-s3-key-type`: `shared` (default), `auto` or `web-id`.
    pub key_type: String,
}

//! Managed mode: the `pgbackrest.conf` firedrill writes from the spec (`pg-path`,
//! `[[source.repository]]`, `options`) into `source.config`, before any `pgbackrest` call,
//! so the file always says what the spec says. The source's `archive_command` names the same
//! file ([`archive_command`]); `check` says so when it does not.
//!
//! The file holds no secret: pgBackRest reads a repository's passphrase and S3 key from
//! `PGBACKREST_REPO<N>_*` variables, in firedrill's environment and in the source server's
//! (its `archive-push`). firedrill never overwrites a file it did not write.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::secrets::env_var;
use crate::spec::{ManagedConfig, ManagedRepo, RepoStorage};
use crate::{Error, Result};

/// The first words of every file firedrill writes: how it knows the file is its own.
const HEADER: &str = "# Written by firedrill";

/// The configuration of one managed stanza, rendered.
#[derive(Debug, Clone)]
pub struct Managed {
    pub path: PathBuf,
    text: String,
    /// The variables pgBackRest needs for the secrets of the repositories.
    secrets: Vec<String>,
}

/// What [`Managed::write`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    Unchanged,
    Written,
}

impl Managed {
    pub fn new(path: PathBuf, spec_name: &str, stanza: &str, m: &ManagedConfig) -> Self {
        Self {
            path,
            text: render(spec_name, stanza, m),
            secrets: m.repositories.iter().flat_map(secret_vars).collect(),
        }
    }

    /// Writes the file unless it already says the same: a new file beside it, renamed over
    /// it, readable by the user pgBackRest runs as.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Spec`] when the file exists and firedrill did not write it; a
    /// preflight error when it cannot be written.
    pub fn write(&self, owner: Option<(u32, u32)>) -> Result<Written> {
        match std::fs::read(&self.path) {
            Ok(old) if old == self.text.as_bytes() => return Ok(Written::Unchanged),
            Ok(old) if !old.starts_with(HEADER.as_bytes()) => {
                return Err(Error::spec(format!(
                    "`{}` exists and firedrill did not write it: it will not overwrite a pgBackRest configuration it does not manage",
                    self.path.display()
                ))
                .hint("give source.config a path of its own for the configuration firedrill writes, or remove pg-path and [[source.repository]] to use this file as it is (read only)"));
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            // A file that cannot be read may be anyone's: never replaced unseen.
            Err(e) => {
                return Err(Error::preflight(format!(
                    "cannot read `{}` to see whether firedrill wrote it: {e}",
                    self.path.display()
                ))
                .hint("let firedrill read source.config, or give it a path of its own"))
            }
        }
        let fail = |e: std::io::Error| {
            Error::preflight(format!(
                "cannot write the pgBackRest configuration `{}`: {e}",
                self.path.display()
            ))
            .hint("make source.config's folder writable by firedrill")
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir).map_err(fail)?;
        }
        let tmp = self
            .path
            .with_extension(format!("firedrill-{}", std::process::id()));
        let written = (|| {
            use std::os::unix::fs::OpenOptionsExt;
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o644)
                .open(&tmp)?;
            f.write_all(self.text.as_bytes())?;
            f.sync_all()?;
            if let Some((uid, gid)) = owner {
                nix::unistd::chown(&tmp, Some(uid.into()), Some(gid.into()))?;
            }
            std::fs::rename(&tmp, &self.path)
        })();
        if let Err(e) = written {
            let _ = std::fs::remove_file(&tmp);
            return Err(fail(e));
        }
        tracing::info!(config = %self.path.display(), "Wrote the pgBackRest configuration `{}`.", self.path.display());
        Ok(Written::Written)
    }

    /// Every variable of the repositories' secrets is set in firedrill's environment.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Preflight`] naming the variables missing.
    pub fn require_secrets(&self) -> Result<()> {
        let missing: Vec<&str> = self
            .secrets
            .iter()
            .filter(|v| std::env::var_os(v).is_none_or(|x| x.is_empty()))
            .map(String::as_str)
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        Err(Error::preflight(format!(
            "{} {} not set in firedrill's environment: pgBackRest reads the secrets of the repositories in `{}` from {}",
            missing.join(", "),
            if missing.len() == 1 { "is" } else { "are" },
            self.path.display(),
            if missing.len() == 1 { "it" } else { "them" },
        ))
        .hint("export them for firedrill, and for the source's server too (its archive-push reads them); never in the spec or in a file"))
    }
}

/// The `archive_command` the source runs with this configuration.
pub fn archive_command(config: &Path, stanza: &str) -> String {
    format!(
        "pgbackrest --config={} --stanza={stanza} archive-push %p",
        config.display()
    )
}

/// Whether `command` pushes through pgBackRest with this configuration and stanza.
pub fn archive_uses(command: &str, config: &Path, stanza: &str) -> bool {
    let words: Vec<&str> = command.split_whitespace().collect();
    let config = config.display().to_string();
    let named = |key: &str, value: &str| {
        words
            .windows(2)
            .any(|w| w[0] == format!("--{key}") && w[1].trim_matches(['\'', '"']) == value)
            || words.iter().any(|w| {
                w.strip_prefix(&format!("--{key}="))
                    .is_some_and(|v| v.trim_matches(['\'', '"']) == value)
            })
    };
    words.contains(&"archive-push") && named("config", &config) && named("stanza", stanza)
}

fn secret_vars(r: &ManagedRepo) -> Vec<String> {
    let mut vars = Vec::new();
    if r.cipher_type.is_some() {
        vars.push(env_var(r.key, "cipher-pass"));
    }
    if let RepoStorage::S3(s3) = &r.storage {
        if s3.key_type == "shared" {
            vars.push(env_var(r.key, "s3-key"));
            vars.push(env_var(r.key, "s3-key-secret"));
        }
    }
    vars
}

/// The file's text: `[global]` with the repositories and options, `[stanza]` with `pg1-*`.
fn render(spec_name: &str, stanza: &str, m: &ManagedConfig) -> String {
    let mut t = format!(
        "{HEADER} for spec `{spec_name}`: it rewrites this file, change the spec instead.\n\
         # No secret is kept here: pgBackRest reads them from PGBACKREST_REPO<N>_CIPHER_PASS,\n\
         # _S3_KEY and _S3_KEY_SECRET in its environment.\n[global]\n"
    );
    for r in &m.repositories {
        let k = r.key;
        match &r.storage {
            RepoStorage::Posix { path } => t += &format!("repo{k}-path={}\n", path.display()),
            RepoStorage::S3(s) => {
                t += &format!(
                    "repo{k}-type=s3\nrepo{k}-path={}\nrepo{k}-s3-bucket={}\nrepo{k}-s3-region={}\nrepo{k}-s3-endpoint={}\n",
                    s.path, s.bucket, s.region, s.endpoint
                );
                if let Some(port) = s.port {
                    t += &format!("repo{k}-storage-port={port}\n");
                }
                if let Some(u) = &s.uri_style {
                    t += &format!("repo{k}-s3-uri-style={u}\n");
                }
                if !s.verify_tls {
                    t += &format!("repo{k}-storage-verify-tls=n\n");
                }
                if s.key_type != "shared" {
                    t += &format!("repo{k}-s3-key-type={}\n", s.key_type);
                }
            }
        }
        if let Some(n) = r.retention_full {
            t += &format!("repo{k}-retention-full={n}\n");
        }
        if let Some(c) = &r.cipher_type {
            t += &format!("repo{k}-cipher-type={c}\n");
        }
    }
    for (k, v) in &m.options {
        t += &format!("{k}={v}\n");
    }
    t += &format!("\n[{stanza}]\npg1-path={}\n", m.pg_path.display());
    t += &format!("pg1-port={}\n", m.pg_port);
    if let Some(s) = &m.pg_socket_path {
        t += &format!("pg1-socket-path={}\n", s.display());
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::S3Repository;

    fn config() -> ManagedConfig {
        ManagedConfig {
            pg_path: "/var/lib/postgresql/15/main".into(),
            pg_port: 5433,
            pg_socket_path: Some("/run/postgresql".into()),
            repositories: vec![
                ManagedRepo {
                    key: 1,
                    storage: RepoStorage::Posix {
                        path: "/var/lib/pgbackrest".into(),
                    },
                    retention_full: Some(2),
                    cipher_type: None,
                },
                ManagedRepo {
                    key: 2,
                    storage: RepoStorage::S3(S3Repository {
                        bucket: "orders-dr".into(),
                        region: "us-west-2".into(),
                        endpoint: "127.0.0.1".into(),
                        port: Some(4566),
                        path: "/orders".into(),
                        uri_style: Some("path".into()),
                        verify_tls: false,
                        key_type: "shared".into(),
                    }),
                    retention_full: None,
                    cipher_type: Some("aes-256-cbc".into()),
                },
            ],
            options: vec![("compress-type".into(), "lz4".into())],
        }
    }

    #[test]
    fn renders_repositories_options_and_the_stanza_without_secrets() {
        let t = render("orders", "main", &config());
        assert!(t.starts_with(HEADER), "{t}");
        for line in [
            "repo1-path=/var/lib/pgbackrest\nrepo1-retention-full=2\n",
            "repo2-type=s3\nrepo2-path=/orders\nrepo2-s3-bucket=orders-dr\nrepo2-s3-region=us-west-2\nrepo2-s3-endpoint=127.0.0.1\nrepo2-storage-port=4566\nrepo2-s3-uri-style=path\nrepo2-storage-verify-tls=n\nrepo2-cipher-type=aes-256-cbc\n",
            "compress-type=lz4\n",
            "\n[main]\npg1-path=/var/lib/postgresql/15/main\npg1-port=5433\npg1-socket-path=/run/postgresql\n",
        ] {
            assert!(t.contains(line), "{line:?} not in\n{t}");
        }
        assert!(!t.contains("cipher-pass="), "{t}");
        let m = Managed::new("/x.conf".into(), "orders", "main", &config());
        assert_eq!(
            m.secrets,
            [
                "PGBACKREST_REPO2_CIPHER_PASS",
                "PGBACKREST_REPO2_S3_KEY",
                "PGBACKREST_REPO2_S3_KEY_SECRET"
            ]
        );
    }

    #[test]
    fn writes_its_own_file_and_refuses_a_foreign_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("etc/pgbackrest.conf");
        let m = Managed::new(path.clone(), "orders", "main", &config());
        assert_eq!(m.write(None).unwrap(), Written::Written);
        assert_eq!(m.write(None).unwrap(), Written::Unchanged);
        let mut c = config();
        c.pg_port = 5434;
        let changed = Managed::new(path.clone(), "orders", "main", &c);
        assert_eq!(changed.write(None).unwrap(), Written::Written);
        assert!(std::fs::read_to_string(&path)
            .unwrap()
            .contains("pg1-port=5434"));
        std::fs::write(&path, "[global]\nrepo1-path=/mine\n").unwrap();
        let e = m.write(None).unwrap_err();
        assert!(
            e.message.contains("firedrill did not write it"),
            "{}",
            e.message
        );
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "[global]\nrepo1-path=/mine\n"
        );
        assert_eq!(
            std::fs::read_dir(dir.path().join("etc")).unwrap().count(),
            1
        );
        // Not text, or not readable: not firedrill's either.
        std::fs::write(&path, [0xff, 0xfe, 0x00]).unwrap();
        assert!(m.write(None).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), [0xff, 0xfe, 0x00]);
        std::fs::remove_file(&path).unwrap();
        std::fs::create_dir(&path).unwrap();
        let e = m.write(None).unwrap_err();
        assert!(e.message.contains("cannot read"), "{}", e.message);
        assert!(path.is_dir());
    }

    #[test]
    fn the_archive_command_must_name_the_file_and_the_stanza() {
        let c = Path::new("/etc/fd/orders.conf");
        assert!(archive_uses(&archive_command(c, "main"), c, "main"));
        assert!(archive_uses(
            "/usr/bin/pgbackrest --stanza main --config '/etc/fd/orders.conf' archive-push %p",
            c,
            "main"
        ));
        assert!(!archive_uses(
            "pgbackrest --stanza=main archive-push %p",
            c,
            "main"
        ));
        assert!(!archive_uses(
            "pgbackrest --config=/etc/fd/orders.conf --stanza=other archive-push %p",
            c,
            "main"
        ));
        assert!(!archive_uses(
            "pgbackrest --config=/etc/fd/orders.conf.old --stanza=main archive-push %p",
            c,
            "main"
        ));
    }
}

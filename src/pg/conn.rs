//! A PostgreSQL connection target: parsed once from a URL, connectable with tokio-postgres,
//! and handed to pg_dump / pg_restore through `PG*` environment variables so that the
//! password never appears on a command line or in a log.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

use crate::{Error, Result};

#[derive(Clone)]
pub struct PgTarget {
    config: Config,
    display: String,
    /// CA bundle that verifies the server's certificate when TLS is used.
    ca_file: Option<std::path::PathBuf>,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display)
    }
}

impl PgTarget {
    /// Parses a `postgres://` URL; an empty URL means "from the PG* environment variables".
    ///
    /// # Errors
    /// [`crate::ErrorKind::Spec`] naming the (redacted) URL.
    pub fn from_url(url: &SecretString, what: &str) -> Result<Self> {
        let raw = url.expose_secret();
        let config: Config = if raw.is_empty() {
            from_env()
        } else {
            raw.parse().map_err(|e| {
                Error::spec(format!(
                    "{what} `{}` is not a valid PostgreSQL URL: {e}",
                    redact_url(raw)
                ))
                .hint("use postgres://user@host:5432/dbname")
            })?
        };
        Ok(Self::from_config(config))
    }

    pub fn from_config(mut config: Config) -> Self {
        if config.get_hosts().is_empty() {
            config.host("localhost");
        }
        if config.get_user().is_none() {
            config.user(whoami());
        }
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let display = describe(&config, None);
        Self {
            config,
            display,
            ca_file: None,
        }
    }

    /// The same server, another database.
    pub fn with_dbname(&self, db: &str) -> Self {
        let mut config = self.config.clone();
        config.dbname(db);
        let mut t = Self::from_config(config);
        t.ca_file = self.ca_file.clone();
        t
    }

    /// Requires TLS verified against `ca_file` (e.g. the RDS CA bundle).
    #[must_use]
    pub fn with_tls(mut self, ca_file: Option<std::path::PathBuf>) -> Self {
        self.config
            .ssl_mode(tokio_postgres::config::SslMode::Require);
        self.ca_file = ca_file;
        self
    }

    /// Turns verified TLS on when a CA bundle is given; keeps the URL's choice otherwise.
    #[must_use]
    pub fn with_ca(self, ca_file: Option<std::path::PathBuf>) -> Self {
        match ca_file {
            Some(ca) => self.with_tls(Some(ca)),
            None => self,
        }
    }

    /// A rustls connector trusting `ca_file`, or else the system's CA bundle.
    fn tls(&self) -> Result<tokio_postgres_rustls::MakeRustlsConnect> {
        use rustls_pki_types::pem::PemObject;
        let path = self
            .ca_file
            .clone()
            .or_else(|| std::env::var_os("SSL_CERT_FILE").map(Into::into))
            .unwrap_or_else(|| "/etc/ssl/certs/ca-certificates.crt".into());
        let mut roots = rustls::RootCertStore::empty();
        let certs = rustls_pki_types::CertificateDer::pem_file_iter(&path).map_err(|e| {
            Error::preflight(format!("cannot read CA bundle `{}`: {e}", path.display())).hint(
                "point ca-file at the server's CA bundle (for RDS: the regional bundle from AWS)",
            )
        })?;
        for cert in certs.flatten() {
            let _ = roots.add(cert);
        }
        if roots.is_empty() {
            return Err(Error::preflight(format!(
                "no certificates in CA bundle `{}`",
                path.display()
            )));
        }
        let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::internal(e.to_string()))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(tokio_postgres_rustls::MakeRustlsConnect::new(config))
    }

    /// `host:port/db` as user, without password.
    pub fn display(&self) -> &str {
        &self.display
    }

    pub fn host(&self) -> String {
        match self.config.get_hosts().first() {
            Some(Host::Tcp(h)) => h.clone(),
            Some(Host::Unix(p)) => p.display().to_string(),
            None => "localhost".into(),
        }
    }
    pub fn port(&self) -> u16 {
        self.config.get_ports().first().copied().unwrap_or(5432)
    }
    pub fn user(&self) -> String {
        self.config.get_user().unwrap_or_default().to_string()
    }
    pub fn dbname(&self) -> String {
        self.config
            .get_dbname()
            .map(str::to_string)
            .unwrap_or_else(|| self.user())
    }

    /// A `postgres://` URL with the password included when given: for `--keep` output only.
    pub fn url_with_password(&self, password: Option<&str>) -> String {
        describe(&self.config, Some(password.unwrap_or("")))
    }

    /// Connects; the connection task runs in the background.
    ///
    /// # Errors
    /// [`crate::ErrorKind::Source`]-style error naming the server, with a hint.
    pub async fn connect(&self, what: &str) -> Result<Client> {
        // TLS when the URL asks for it (sslmode=require) or a CA bundle is given; `prefer`
        // (the default) stays plain, as most loopback and in-VPC servers expect.
        let wants_tls = self.ca_file.is_some()
            || matches!(
                self.config.get_ssl_mode(),
                tokio_postgres::config::SslMode::Require
            );
        let connected = if wants_tls {
            let tls = self.tls()?;
            self.config.connect(tls).await.map(|(c, conn)| {
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                c
            })
        } else {
            self.config.connect(NoTls).await.map(|(c, conn)| {
                tokio::spawn(async move {
                    let _ = conn.await;
                });
                c
            })
        };
        let client = connected.map_err(|e| {
            let text = pg_message(&e);
            let hint = if text.contains("certificate") || text.contains("TLS") {
                "the server's TLS certificate is not trusted: set ca-file to its CA bundle (for RDS, the regional bundle from AWS)"
            } else if text.contains("password") {
                "check the password (give it through ${VAR} in the URL or PGPASSWORD)"
            } else {
                "check that the server runs and the URL (host, port, database, user) is right"
            };
            Error::source_db(format!(
                "cannot connect to {what} {}: {}",
                self.display,
                pg_message(&e)
            ))
            .hint(hint)
        })?;
        Ok(client)
    }

    /// Sets `PG*` variables on a command so libpq tools connect to this target.
    pub fn apply_env(&self, cmd: &mut tokio::process::Command) {
        for var in [
            "PGHOST",
            "PGHOSTADDR",
            "PGPORT",
            "PGUSER",
            "PGDATABASE",
            "PGPASSWORD",
            "PGSERVICE",
            "PGSSLMODE",
            "PGOPTIONS",
        ] {
            cmd.env_remove(var);
        }
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                Host::Tcp(s) => s.clone(),
                Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        cmd.env("PGHOST", hosts.join(","));
        cmd.env("PGPORT", self.port().to_string());
        cmd.env("PGUSER", self.user());
        cmd.env("PGDATABASE", self.dbname());
        cmd.env("PGCONNECT_TIMEOUT", "10");
        if let Some(pw) = self.config.get_password() {
            cmd.env("PGPASSWORD", String::from_utf8_lossy(pw).into_owned());
        }
        let sslmode = match self.config.get_ssl_mode() {
            tokio_postgres::config::SslMode::Disable => "disable",
            tokio_postgres::config::SslMode::Require => "require",
            _ => "prefer",
        };
        cmd.env("PGSSLMODE", sslmode);
        if let Some(ca) = &self.ca_file {
            cmd.env("PGSSLMODE", "verify-full");
            cmd.env("PGSSLROOTCERT", ca);
        }
    }
}

fn describe(config: &Config, password: Option<&str>) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => format!("[{}]", p.display()),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = url_escape(config.get_user().unwrap_or_default());
    let db = url_escape(
        config
            .get_dbname()
            .unwrap_or(config.get_user().unwrap_or_default()),
    );
    match password {
        None => format!("postgres://{user}@{host}:{port}/{db}"),
        Some(pw) => {
            let auth = if pw.is_empty() {
                user.clone()
            } else {
                format!("{user}:{}", url_escape(pw))
            };
            match config.get_hosts().first() {
                Some(Host::Unix(p)) => {
                    format!("postgres://{auth}@/{db}?host={}&port={port}", p.display())
                }
                _ => format!("postgres://{auth}@{host}:{port}/{db}"),
            }
        }
    }
}

/// Percent-encodes `s` for a part of a connection URL (user, password, database): every byte
/// but letters, digits and `*-._`, a space as `%20` (libpq does not read `+` as a space).
pub(crate) fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

fn from_env() -> Config {
    let mut c = Config::new();
    let var = |n: &str| std::env::var(n).ok().filter(|v| !v.is_empty());
    if let Some(h) = var("PGHOST") {
        for h in h.split(',') {
            c.host(h);
        }
    }
    if let Some(p) = var("PGPORT").and_then(|p| p.parse().ok()) {
        c.port(p);
    }
    if let Some(u) = var("PGUSER") {
        c.user(&u);
    }
    if let Some(d) = var("PGDATABASE") {
        c.dbname(&d);
    }
    if let Some(pw) = var("PGPASSWORD") {
        c.password(pw);
    }
    c
}

fn whoami() -> String {
    nix::unistd::User::from_uid(nix::unistd::geteuid())
        .ok()
        .flatten()
        .map(|u| u.name)
        .unwrap_or_else(|| "postgres".into())
}

/// The server's message (with detail) from a tokio-postgres error, without wrapping noise.
pub fn pg_message(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut m = db.message().to_string();
        if let Some(d) = db.detail() {
            m.push_str(&format!(" ({d})"));
        }
        return m;
    }
    let mut text = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(s) = src {
        text.push_str(&format!(": {s}"));
        src = s.source();
    }
    text
}

/// The user information of a URL: everything between `://` and the last `@`, whatever it
/// holds (a password may hold unencoded `@`, `/`, `?` or `#`, so no parser finds its end).
fn userinfo(raw: &str) -> Option<(&str, &str, &str)> {
    let (scheme, rest) = raw.split_once("://")?;
    let at = rest.rfind('@')?;
    Some((scheme, &rest[..at], &rest[at + 1..]))
}

/// True when a URL's user information holds `@`, `/`, `?` or `#` unencoded: where it ends is
/// then a guess. The fix is to percent-encode them (`%40`, `%2F`, `%3F`, `%23`).
pub fn ambiguous_userinfo(raw: &str) -> bool {
    userinfo(raw).is_some_and(|(_, info, _)| info.contains(['@', '/', '?', '#']))
}

/// Replaces the password in a URL (user information or `password=` parameter) with `***`.
/// Everything between `://` and the last `@` is user information; when it is ambiguous (see
/// [`ambiguous_userinfo`]) the user name is hidden too.
pub fn redact_url(raw: &str) -> String {
    let masked = match userinfo(raw) {
        Some((scheme, info, after)) => {
            let shown = match info.split_once(':') {
                _ if info.contains(['@', '/', '?', '#']) => "***".to_string(),
                Some((user, _)) => format!("{user}:***"),
                None => info.to_string(),
            };
            format!("{scheme}://{shown}@{after}")
        }
        None => raw.to_string(),
    };
    match url::Url::parse(&masked) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            let pairs: Vec<(String, String)> = u
                .query_pairs()
                .map(|(k, v)| {
                    let v = if k.eq_ignore_ascii_case("password") {
                        "***".to_string()
                    } else {
                        v.into_owned()
                    };
                    (k.into_owned(), v)
                })
                .collect();
            if !pairs.is_empty() {
                u.query_pairs_mut().clear().extend_pairs(pairs);
            }
            u.to_string()
        }
        Err(_) => "<unparseable URL>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_everywhere() {
        let r = redact_url("postgres://app:s3cr%40t@db:5432/orders?password=other&sslmode=require");
        assert!(!r.contains("s3cr"), "{r}");
        assert!(!r.contains("other"), "{r}");
        assert!(r.contains("sslmode=require"));
        assert_eq!(redact_url("not a url"), "<unparseable URL>");
    }

    #[test]
    fn url_parts_are_percent_encoded_as_libpq_reads_them() {
        assert_eq!(url_escape("my db+x/ü"), "my%20db%2Bx%2F%C3%BC");
    }

    #[test]
    fn unencoded_reserved_characters_in_a_password_never_leak() {
        for (url, secret) in [
            ("postgres://app:p@ss@db/orders", "ss"),
            ("postgres://app:pa/ss#wd@db:5432/orders", "pa/ss"),
            ("postgres://app:pa?ss=1@db/orders", "pa?ss"),
            ("postgres://app:x#y/z@db/orders?sslmode=require", "x#y"),
        ] {
            assert!(ambiguous_userinfo(url), "{url}");
            let r = redact_url(url);
            for part in [secret, "wd", "y/z", "pa"] {
                assert!(!r.contains(part), "{url} -> {r}");
            }
            assert!(r.contains("db"), "{url} -> {r}");
        }
        assert!(!ambiguous_userinfo("postgres://app:s3cr%40t@db/orders"));
        assert_eq!(
            redact_url("postgres://app:secret@db:5432/orders"),
            "postgres://app:***@db:5432/orders"
        );
    }

    #[test]
    fn display_never_shows_the_password() {
        let t = PgTarget::from_url(
            &SecretString::from("postgres://app:hunter2@db:6000/orders"),
            "source",
        )
        .unwrap();
        assert_eq!(t.display(), "postgres://app@db:6000/orders");
        assert!(!format!("{t:?}").contains("hunter2"));
        assert_eq!(t.dbname(), "orders");
        assert_eq!(t.with_dbname("x").dbname(), "x");
    }
}

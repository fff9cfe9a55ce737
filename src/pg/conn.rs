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
        Self { config, display }
    }

    /// The same server, another database.
    pub fn with_dbname(&self, db: &str) -> Self {
        let mut config = self.config.clone();
        config.dbname(db);
        Self::from_config(config)
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
        let (client, connection) = self.config.connect(NoTls).await.map_err(|e| {
            let hint = if e.to_string().contains("password") {
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
        tokio::spawn(async move {
            let _ = connection.await;
        });
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
    }
}

fn describe(config: &Config, password: Option<&str>) -> String {
    let host = match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        Some(Host::Unix(p)) => format!("[{}]", p.display()),
        None => "localhost".into(),
    };
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or_default();
    let db = config.get_dbname().unwrap_or(user);
    match password {
        None => format!("postgres://{user}@{host}:{port}/{db}"),
        Some(pw) => {
            let auth = if pw.is_empty() {
                user.to_string()
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

fn url_escape(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
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

/// Replaces the password in a URL (userinfo or `password=` parameter) with `***`.
pub fn redact_url(raw: &str) -> String {
    match url::Url::parse(raw) {
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

//! The `--source` URL of `init`: checked, its database reached, and rewritten for the spec
//! with the password replaced by a `${VAR}` reference, so no password is ever written.

use std::time::Duration;

use secrecy::SecretString;

use crate::pg::conn::{ambiguous_userinfo, redact_url};
use crate::pg::PgTarget;
use crate::{Error, Result};

/// How long reaching the source may take (connect and one query).
const REACH_WITHIN: Duration = Duration::from_secs(20);

/// The source as the spec will name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecSource {
    /// The URL for the spec: the password (if any) replaced by `${password_var...}`, every
    /// other `$` doubled.
    pub url: String,
    /// The variable the password is read from, when the URL held one.
    pub password_var: Option<String>,
}

/// Checks that `raw` is a usable `postgres://` URL; never echoes its password.
///
/// # Errors
/// [`crate::ErrorKind::Spec`] naming the redacted URL and the fix.
pub fn check_url(raw: &str) -> Result<PgTarget> {
    if !(raw.starts_with("postgres://") || raw.starts_with("postgresql://")) {
        return Err(Error::spec(format!(
            "--source `{}` is not a postgres:// URL",
            redact_url(raw)
        ))
        .hint("give --source postgres://user:password@host:5432/dbname"));
    }
    if ambiguous_userinfo(raw) {
        return Err(Error::spec(
            "--source: the user or password holds `@`, `/`, `?` or `#` unencoded, so where the host begins is a guess",
        )
        .hint("percent-encode them in the URL (@ as %40, / as %2F, ? as %3F, # as %23)"));
    }
    PgTarget::from_url(&SecretString::from(raw.to_string()), "--source")
}

/// Connects to the source and returns the name of the database it reached.
///
/// # Errors
/// [`crate::ErrorKind::Source`] naming the server (never the password) and the fix.
pub async fn database_name(target: &PgTarget) -> Result<String> {
    let reach = async {
        let client = target.connect("the --source database").await?;
        let row = client
            .query_one("select current_database()", &[])
            .await
            .map_err(|e| {
                Error::source_db(format!(
                    "cannot query {}: {}",
                    target.display(),
                    crate::pg::conn::pg_message(&e)
                ))
            })?;
        Ok::<String, Error>(row.get(0))
    };
    tokio::time::timeout(REACH_WITHIN, reach)
        .await
        .map_err(|_| {
            Error::source_db(format!(
                "{} did not answer within {} s",
                target.display(),
                REACH_WITHIN.as_secs()
            ))
            .hint("check the host and port of --source, and that the server accepts connections from here")
        })?
}

/// A drill name made of a database name: letters, digits, `_` and `-`, at most 40.
pub fn spec_name(database: &str) -> String {
    let name: String = database
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(40)
        .collect();
    let name = name.trim_matches('_').to_string();
    if name.is_empty() {
        "db".into()
    } else {
        name
    }
}

/// The environment variable holding the password of drill `name`.
pub fn password_var(name: &str) -> String {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("FIREDRILL_{upper}_PASSWORD")
}

/// The reference the spec holds in place of the password. Plain `${VAR}`: an unset variable
/// is then one clear problem when the spec loads.
fn reference(var: &str) -> String {
    format!("${{{var}}}")
}

/// Rewrites a checked `raw` URL for the spec: a password in the user information or in a
/// `password=` parameter becomes a reference to `var`; every other `$` is doubled (the spec
/// reads `$$` as a literal `$`).
pub fn spec_source(raw: &str, var: &str) -> SpecSource {
    let escaped = |s: &str| s.replace('$', "$$");
    let (scheme, rest) = raw.split_once("://").unwrap_or(("postgres", raw));
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let mut found = false;
    let authority = match authority.rsplit_once('@') {
        Some((info, host)) => match info.split_once(':') {
            Some((user, _password)) => {
                found = true;
                format!("{}:{}@{}", escaped(user), reference(var), escaped(host))
            }
            None => escaped(authority),
        },
        None => escaped(authority),
    };
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    let mut url = format!("{scheme}://{authority}{}", escaped(path));
    if let Some(q) = query {
        let pairs: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("password", _)) => {
                    found = true;
                    format!("password={}", reference(var))
                }
                _ => escaped(pair),
            })
            .collect();
        url.push('?');
        url.push_str(&pairs.join("&"));
    }
    SpecSource {
        url,
        password_var: found.then(|| var.to_string()),
    }
}

/// The password of a checked URL as written in it (user information or `password=`), for
/// loading the written spec back once.
pub(super) fn written_password(raw: &str) -> Option<String> {
    let rest = raw.split_once("://")?.1;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if let Some((_, pw)) = authority
        .rsplit_once('@')
        .and_then(|(i, _)| i.split_once(':'))
    {
        return Some(pw.to_string());
    }
    tail.split_once('?')?
        .1
        .split('&')
        .find_map(|p| p.strip_prefix("password="))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_becomes_a_reference() {
        let s = spec_source("postgres://app:s3cr%40t@db.internal:5433/shop", "V");
        assert!(!s.url.contains("s3cr"), "{}", s.url);
        assert_eq!(s.url, "postgres://app:${V}@db.internal:5433/shop");
        assert_eq!(s.password_var.as_deref(), Some("V"));
    }

    #[test]
    fn a_password_parameter_becomes_a_reference_and_others_stay() {
        let s = spec_source(
            "postgresql://app@h/shop?sslmode=require&password=hunter2",
            "V",
        );
        assert!(!s.url.contains("hunter2"), "{}", s.url);
        assert_eq!(
            s.url,
            "postgresql://app@h/shop?sslmode=require&password=${V}"
        );
        assert_eq!(s.password_var.as_deref(), Some("V"));
    }

    #[test]
    fn without_a_password_the_url_stays_with_dollars_doubled() {
        let s = spec_source("postgres://app@h:5432/sh$op", "V");
        assert_eq!(s.url, "postgres://app@h:5432/sh$$op");
        assert_eq!(s.password_var, None);
    }

    #[test]
    fn names_and_variables_are_valid() {
        assert_eq!(spec_name("Orders DB"), "Orders_DB");
        assert_eq!(spec_name("ü"), "db");
        assert_eq!(spec_name(&"x".repeat(60)).len(), 40);
        assert_eq!(password_var("orders-eu"), "FIREDRILL_ORDERS_EU_PASSWORD");
    }

    #[test]
    fn bad_urls_are_refused_without_their_password() {
        let e = check_url("mysql://u:pw123@h/db").unwrap_err();
        assert!(!e.render().contains("pw123"), "{}", e.render());
        assert!(check_url("postgres://u:p@ss@h/db").is_err());
        assert!(check_url("postgres://u@h:notaport/db").is_err());
    }
}

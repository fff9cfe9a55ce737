//! Scratch databases on an existing server: `<prefix><drill>_<backup-id>`, marked with
//! `COMMENT ON DATABASE` and dropped only when both prefix and marker are present, and by a
//! sweep only when no running drill holds its lock ([`super::in_use`]).

use async_trait::async_trait;
use secrecy::SecretString;
use tokio_postgres::Client;

use super::in_use::{self, Held};
use super::{same_server, CleanupOutcome, ScratchInfo, ScratchTarget, MARKER};
use crate::pg::{conn::pg_message, quote_ident, quote_literal, PgTarget};
use crate::{Error, Result};

pub struct ServerDatabase {
    admin: PgTarget,
    target: PgTarget,
    prefix: String,
    name: String,
    server_version: String,
    /// Set when the server is the source's own server.
    warning: Option<String>,
    removed: bool,
    kept: bool,
    /// The lock that tells `cleanup` this database is in use, held until it is dropped.
    in_use: Option<Held>,
}

/// `<prefix><drill>_<backup-id>`, lowercased, limited to 63 bytes.
pub fn database_name(prefix: &str, drill: &str, backup_id: &str) -> String {
    let clean = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .collect()
    };
    let id = clean(backup_id);
    let room = 63usize.saturating_sub(prefix.len() + id.len() + 1);
    let drill: String = clean(drill).chars().take(room).collect();
    format!("{prefix}{drill}_{id}")
}

async fn marker_of(client: &Client, name: &str) -> Result<Option<Option<String>>> {
    let row = client
        .query_opt(
            "select shobj_description(oid, 'pg_database') from pg_database where datname = $1",
            &[&name],
        )
        .await
        .map_err(|e| {
            Error::scratch(format!(
                "cannot inspect database `{name}`: {}",
                pg_message(&e)
            ))
        })?;
    Ok(row.map(|r| r.get::<_, Option<String>>(0)))
}

/// Drops `name` only if it has the prefix and firedrill's marker.
async fn drop_marked(client: &Client, prefix: &str, name: &str) -> Result<bool> {
    if !name.starts_with(prefix) {
        return Err(Error::scratch(format!(
            "refusing to drop database `{name}`: it does not start with the scratch prefix `{prefix}`"
        )));
    }
    match marker_of(client, name).await? {
        None => Ok(false),
        Some(Some(comment)) if comment.starts_with(MARKER) => {
            client
                .batch_execute(&format!("drop database if exists {} with (force)", quote_ident(name)))
                .await
                .map_err(|e| Error::scratch(format!("cannot drop scratch database `{name}`: {}", pg_message(&e))))?;
            Ok(true)
        }
        Some(_) => Err(Error::scratch(format!(
            "refusing to drop database `{name}`: it has no firedrill marker, so firedrill did not create it"
        ))
        .hint("rename or remove that database yourself, or choose another drill.scratch.prefix")),
    }
}

impl ServerDatabase {
    /// The database name a drill of `drill` restoring `backup_id` uses.
    pub fn name_for(prefix: &str, drill: &str, backup_id: &str) -> String {
        database_name(prefix, drill, backup_id)
    }

    pub async fn create(
        url: &SecretString,
        prefix: &str,
        drill: &str,
        backup_id: &str,
        source_major: u32,
        source_url: &SecretString,
    ) -> Result<Self> {
        let admin = PgTarget::from_url(url, "drill.scratch.server")?;
        let warning = source_server_warning(source_url, &admin, prefix).await?;
        let client = admin.connect("the scratch server").await?;
        let server_version = server_version(&client, &admin, source_major).await?;
        let name = database_name(prefix, drill, backup_id);
        // Held before the database exists and until it is dropped.
        let Some(in_use) = in_use::hold(&admin, &name).await? else {
            return Err(Error::scratch(format!(
                "scratch database `{name}` on {} is in use by a running drill",
                admin.display()
            ))
            .hint("wait for that drill to end, or give this spec another drill.scratch.prefix"));
        };
        // A leftover from an earlier run of this drill is ours to replace; anything else is refused.
        drop_marked(&client, prefix, &name).await?;
        create_marked(&client, &admin, &name, drill, backup_id).await?;
        Ok(Self {
            target: admin.with_dbname(&name),
            admin,
            prefix: prefix.to_string(),
            name,
            server_version,
            warning,
            removed: false,
            kept: false,
            in_use: Some(in_use),
        })
    }
}

/// The warning for a scratch server that is the source's own server (by their URLs; the
/// source is not contacted); an error when the source database could be hit (the spec load
/// refuses those already).
async fn source_server_warning(
    source_url: &SecretString,
    admin: &PgTarget,
    prefix: &str,
) -> Result<Option<String>> {
    let Ok(source) = PgTarget::from_url(source_url, "source.url") else {
        return Ok(None);
    };
    let (s, a) = (source.clone(), admin.clone());
    let same = tokio::task::spawn_blocking(move || same_server::by_url(&s, &a))
        .await
        .unwrap_or(false);
    if !same {
        return Ok(None);
    }
    if let Some((problem, fix)) = same_server::refusal(&source, admin, prefix) {
        return Err(Error::scratch(problem).hint(fix));
    }
    tracing::warn!(
        scratch = %admin.display(),
        source = %source.display(),
        "The scratch server is the source's own server; the drill competes with production there."
    );
    Ok(Some(same_server::warning(&source, admin)))
}

/// The server's version (`major.minor`), refused when older than the backup's source.
async fn server_version(client: &Client, admin: &PgTarget, source_major: u32) -> Result<String> {
    let num: i32 = client
        .query_one("select current_setting('server_version_num')::int", &[])
        .await
        .map_err(|e| Error::scratch(pg_message(&e)))?
        .get(0);
    if ((num / 10000) as u32) < source_major {
        return Err(Error::scratch(format!(
            "scratch server {} runs PostgreSQL {} but the backup comes from PostgreSQL {source_major}",
            admin.display(),
            num / 10000
        ))
        .hint("restore into a server of the same or a newer major version"));
    }
    Ok(format!("{}.{}", num / 10000, num % 10000))
}

/// Creates database `name` with firedrill's marker as its comment; a database that cannot be
/// marked is dropped again.
async fn create_marked(
    client: &Client,
    admin: &PgTarget,
    name: &str,
    drill: &str,
    backup_id: &str,
) -> Result<()> {
    client
        .batch_execute(&format!("create database {}", quote_ident(name)))
        .await
        .map_err(|e| {
            Error::scratch(format!(
                "cannot create scratch database `{name}` on {}: {}",
                admin.display(),
                pg_message(&e)
            ))
            .hint("the scratch role needs CREATEDB")
        })?;
    let marker = format!(
        "{MARKER}: drill={drill} backup={backup_id} created={}",
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    if let Err(e) = client
        .batch_execute(&format!(
            "comment on database {} is {}",
            quote_ident(name),
            quote_literal(&marker)
        ))
        .await
    {
        let _ = client
            .batch_execute(&format!("drop database {}", quote_ident(name)))
            .await;
        return Err(Error::scratch(format!(
            "cannot mark scratch database `{name}`: {}",
            pg_message(&e)
        )));
    }
    Ok(())
}

#[async_trait]
impl ScratchTarget for ServerDatabase {
    fn info(&self) -> ScratchInfo {
        ScratchInfo {
            kind: "server".into(),
            location: self.admin.display().to_string(),
            database: self.name.clone(),
            server_version: self.server_version.clone(),
            recovery: None,
            warning: self.warning.clone(),
        }
    }

    fn target(&self) -> &PgTarget {
        &self.target
    }

    async fn cleanup(&mut self) -> Result<CleanupOutcome> {
        if let Some(done) = CleanupOutcome::settled(self.removed, self.kept) {
            return Ok(done);
        }
        let client = self.admin.connect("the scratch server").await?;
        drop_marked(&client, &self.prefix, &self.name).await?;
        self.removed = true;
        self.in_use = None;
        Ok(CleanupOutcome {
            removed: true,
            kept: false,
            detail: format!("dropped database `{}`", self.name),
        })
    }

    fn keep(&mut self) -> String {
        self.kept = true;
        // A kept database is for a person now: `cleanup` may remove it.
        self.in_use = None;
        self.target.display().to_string()
    }
}

/// Drops every marked `<prefix><drill>_*` database on the server that no running drill
/// uses; one in use is left alone and reported.
pub async fn sweep(url: &SecretString, prefix: &str, drill: &str) -> Result<Vec<CleanupOutcome>> {
    let admin = PgTarget::from_url(url, "drill.scratch.server")?;
    let client = admin.connect("the scratch server").await?;
    let stem = database_name(prefix, drill, "");
    let rows = client
        .query(
            "select datname from pg_database where starts_with(datname, $1)",
            &[&stem],
        )
        .await
        .map_err(|e| Error::scratch(pg_message(&e)))?;
    let mut out = Vec::new();
    for r in rows {
        let name: String = r.get(0);
        // The prefix of `orders` also matches `orders_eu`: only this drill's marker counts.
        let marker = marker_of(&client, &name)
            .await?
            .flatten()
            .unwrap_or_default();
        if !marker.contains(&format!(" drill={drill} ")) {
            continue;
        }
        if !in_use::try_lock(&client, &name).await? {
            out.push(CleanupOutcome {
                removed: false,
                kept: true,
                detail: format!("database `{name}` is in use by a running drill: left alone"),
            });
            continue;
        }
        let removal = drop_marked(&client, prefix, &name).await;
        in_use::unlock(&client, &name).await?;
        out.push(CleanupOutcome::swept(
            removal,
            format!("dropped database `{name}`"),
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_prefixed_and_bounded() {
        let n = database_name("firedrill_", "Orders-EU", "20261126T051500Z-a1b2c3");
        assert_eq!(n, "firedrill_orders_eu_20261126t051500z_a1b2c3");
        let long = database_name("firedrill_", &"x".repeat(80), "20261126T051500Z-a1b2c3");
        assert!(long.len() <= 63 && long.starts_with("firedrill_"));
    }
}

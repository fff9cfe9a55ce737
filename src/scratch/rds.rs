//! Scratch RDS instances: restored from a backup's snapshot copy in the drill region, or from
//! the source instance to its latest restorable time. Every instance carries firedrill's tag
//! and identifier prefix, no public access and no deletion protection, and is deleted (no
//! final snapshot, automated backups too) at the end; `cleanup` sweeps tagged ones past a TTL.
//!
//! Tests map the restored instance's endpoint to a local PostgreSQL with the environment
//! variable `FIREDRILL_RDS_CONNECT_OVERRIDE=host:port` (an RDS emulator has no database
//! behind its instances). Nothing else changes with it.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_rds::types::Tag;
use aws_sdk_rds::Client;
use chrono::{DateTime, Utc};
use tokio_postgres::Config;
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use super::{CleanupOutcome, ScratchInfo, ScratchTarget};
use crate::aws::{rds_client, rds_error, wait_for, TAG};
use crate::catalog::manifest::RdsSnapshotSet;
use crate::catalog::Manifest;
use crate::pg::PgTarget;
use crate::spec::{RdsPassword, RdsScratch};
use crate::storage::random_hex;
use crate::{Error, Result};

/// Environment variable that points connections at another host:port (tests only).
pub const CONNECT_OVERRIDE: &str = "FIREDRILL_RDS_CONNECT_OVERRIDE";

pub struct RdsInstance {
    client: Client,
    cfg: RdsScratch,
    drill: String,
    id: String,
    database: String,
    target: PgTarget,
    version: String,
    /// For point-in-time restores: the time restored to (the recovery point).
    pub restored_to: Option<DateTime<Utc>>,
    removed: bool,
    kept: bool,
}

fn instance_id(drill: &str) -> String {
    let clean: String = drill
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(40)
        .collect();
    format!("firedrill-{}-{}", clean.trim_matches('-'), random_hex(3))
}

fn has_tag(tags: &[Tag], drill: Option<&str>) -> bool {
    tags.iter()
        .any(|t| t.key() == Some(TAG) && drill.is_none_or(|d| t.value() == Some(d)))
}

impl RdsInstance {
    /// Sends the restore request. Nothing exists yet when this fails.
    ///
    /// # Errors
    /// Snapshot or instance not found in the region, quota, credentials.
    pub async fn request(cfg: &RdsScratch, m: &Manifest, drill: &str) -> Result<Self> {
        let set = m.rds.as_ref().ok_or_else(|| {
            Error::spec(format!(
                "backup `{}` is a pg_dump backup, not an RDS snapshot",
                m.backup_id
            ))
            .hint("restore pg_dump backups with scratch = \"ephemeral\" or a server")
        })?;
        let c = rds_client(&cfg.region, cfg.endpoint.as_deref()).await;
        let id = instance_id(drill);
        let tags = vec![Tag::builder().key(TAG).value(drill).build()];
        let restored_to = if cfg.point_in_time {
            restore_point_in_time(&c, cfg, set, &id, tags).await?
        } else {
            restore_snapshot(&c, cfg, m, set, &id, tags).await?;
            None
        };
        Ok(Self {
            client: c,
            cfg: cfg.clone(),
            drill: drill.to_string(),
            id,
            database: cfg
                .database
                .clone()
                .unwrap_or_else(|| m.source.database.clone()),
            target: PgTarget::from_config(Config::new()),
            version: m.source.server_version.clone(),
            restored_to,
            removed: false,
            kept: false,
        })
    }

    /// Waits until the instance is `available` and prepares the connection to it.
    ///
    /// # Errors
    /// Time-out (the caller still deletes the instance), missing password.
    pub async fn wait_available(&mut self, cancel: &CancellationToken) -> Result<()> {
        let (c, id, region) = (&self.client, self.id.clone(), self.cfg.region.clone());
        let inst = wait_for(
            &format!("instance `{id}` in `{region}` to become available"),
            self.cfg.wait_timeout,
            cancel,
            || async {
                let out = c
                    .describe_db_instances()
                    .db_instance_identifier(&id)
                    .send()
                    .await
                    .map_err(|e| {
                        rds_error(&format!("cannot describe instance `{id}`"), &region, e)
                    })?;
                Ok(out
                    .db_instances()
                    .first()
                    .filter(|i| i.db_instance_status() == Some("available"))
                    .cloned())
            },
        )
        .await?;
        let password = read_password(&self.cfg)?;
        let user = self
            .cfg
            .user
            .clone()
            .or_else(|| inst.master_username().map(str::to_string))
            .unwrap_or_else(|| "postgres".into());
        let mut config = Config::new();
        config.user(&user).password(password).dbname(&self.database);
        let target = match std::env::var(CONNECT_OVERRIDE)
            .ok()
            .filter(|v| !v.is_empty())
        {
            Some(over) => {
                let (host, port) = over.rsplit_once(':').unwrap_or((over.as_str(), "5432"));
                warn!(instance = %self.id, to = %over, "Connecting through {CONNECT_OVERRIDE} (test setting).");
                config.host(host).port(port.parse().unwrap_or(5432));
                PgTarget::from_config(config)
            }
            None => {
                let ep = inst.endpoint().ok_or_else(|| {
                    Error::scratch(format!("instance `{}` has no endpoint", self.id))
                })?;
                config
                    .host(ep.address().unwrap_or_default())
                    .port(ep.port().unwrap_or(5432) as u16);
                PgTarget::from_config(config).with_tls(self.cfg.ca_file.clone())
            }
        };
        self.target = target;
        if let Some(v) = inst.engine_version() {
            self.version = v.to_string();
        }
        Ok(())
    }
}

/// Restores the source instance to its latest restorable time as `id`; returns that time.
async fn restore_point_in_time(
    c: &Client,
    cfg: &RdsScratch,
    set: &RdsSnapshotSet,
    id: &str,
    tags: Vec<Tag>,
) -> Result<Option<DateTime<Utc>>> {
    let src = c
        .describe_db_instances()
        .db_instance_identifier(&set.instance)
        .send()
        .await
        .map_err(|e| {
            rds_error(
                &format!("cannot find source instance `{}`", set.instance),
                &cfg.region,
                e,
            )
        })?;
    let restored_to = src
        .db_instances()
        .first()
        .and_then(|i| i.latest_restorable_time())
        .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()));
    info!(source = %set.instance, instance = %id, region = %cfg.region, "Restoring to the latest restorable time.");
    c.restore_db_instance_to_point_in_time()
        .source_db_instance_identifier(&set.instance)
        .target_db_instance_identifier(id)
        .use_latest_restorable_time(true)
        .db_instance_class(&cfg.instance_class)
        .set_db_subnet_group_name(cfg.subnet_group.clone())
        .set_vpc_security_group_ids(Some(cfg.security_groups.clone()).filter(|v| !v.is_empty()))
        .set_db_parameter_group_name(cfg.parameter_group.clone())
        .publicly_accessible(false)
        .deletion_protection(false)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| {
            rds_error(
                &format!("cannot restore `{}` to a point in time", set.instance),
                &cfg.region,
                e,
            )
        })?;
    Ok(restored_to)
}

/// Restores the backup's snapshot copy in the drill's region as `id`.
async fn restore_snapshot(
    c: &Client,
    cfg: &RdsScratch,
    m: &Manifest,
    set: &RdsSnapshotSet,
    id: &str,
    tags: Vec<Tag>,
) -> Result<()> {
    let snap = set.in_region(&cfg.region).ok_or_else(|| {
        Error::storage(format!(
            "backup `{}` has no snapshot copy in `{}` (it has: {})",
            m.backup_id,
            cfg.region,
            set.snapshots
                .iter()
                .map(|s| s.region.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
        .hint("add the region to source.copy-to, or set drill.scratch.rds.region")
    })?;
    info!(snapshot = %snap.id, instance = %id, region = %cfg.region, "Restoring the snapshot.");
    c.restore_db_instance_from_db_snapshot()
        .db_instance_identifier(id)
        .db_snapshot_identifier(&snap.id)
        .db_instance_class(&cfg.instance_class)
        .set_db_subnet_group_name(cfg.subnet_group.clone())
        .set_vpc_security_group_ids(Some(cfg.security_groups.clone()).filter(|v| !v.is_empty()))
        .set_db_parameter_group_name(cfg.parameter_group.clone())
        .publicly_accessible(false)
        .deletion_protection(false)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| {
            rds_error(
                &format!("cannot restore snapshot `{}`", snap.id),
                &cfg.region,
                e,
            )
        })?;
    Ok(())
}

/// The scratch instance's password, from the environment or a file.
fn read_password(cfg: &RdsScratch) -> Result<String> {
    let password = match &cfg.password {
        RdsPassword::Env(var) => std::env::var(var).map_err(|_| {
            Error::key(format!(
                "the scratch instance's password is not in the environment variable {var}"
            ))
            .hint("export it, or set drill.scratch.rds.password-file")
        })?,
        RdsPassword::File(path) => std::fs::read_to_string(path)
            .map_err(|e| {
                Error::key(format!(
                    "cannot read the password file `{}`: {e}",
                    path.display()
                ))
            })?
            .trim_end()
            .to_string(),
    };
    Ok(password)
}

/// Deletes `id` in `c`, but only when it carries firedrill's tag.
async fn delete_tagged(c: &Client, region: &str, id: &str) -> Result<()> {
    let out = c
        .describe_db_instances()
        .db_instance_identifier(id)
        .send()
        .await
        .map_err(|e| rds_error(&format!("cannot describe instance `{id}`"), region, e))?;
    let Some(inst) = out.db_instances().first() else {
        return Ok(());
    };
    if !has_tag(inst.tag_list(), None) || !id.starts_with("firedrill-") {
        return Err(Error::scratch(format!(
            "refusing to delete RDS instance `{id}`: it has no `{TAG}` tag, so firedrill did not create it"
        )));
    }
    c.delete_db_instance()
        .db_instance_identifier(id)
        .skip_final_snapshot(true)
        .delete_automated_backups(true)
        .send()
        .await
        .map_err(|e| rds_error(&format!("cannot delete scratch instance `{id}`"), region, e))?;
    Ok(())
}

#[async_trait]
impl ScratchTarget for RdsInstance {
    fn info(&self) -> ScratchInfo {
        ScratchInfo {
            kind: "rds".into(),
            location: format!(
                "{} ({}, {})",
                self.id, self.cfg.region, self.cfg.instance_class
            ),
            database: self.database.clone(),
            server_version: self.version.clone(),
            recovery: None,
            warning: None,
        }
    }

    fn target(&self) -> &PgTarget {
        &self.target
    }

    async fn cleanup(&mut self) -> Result<CleanupOutcome> {
        if let Some(done) = CleanupOutcome::settled(self.removed, self.kept) {
            return Ok(done);
        }
        delete_tagged(&self.client, &self.cfg.region, &self.id).await?;
        self.removed = true;
        Ok(CleanupOutcome {
            removed: true,
            kept: false,
            detail: format!(
                "deleted RDS instance `{}` in `{}` (no final snapshot)",
                self.id, self.cfg.region
            ),
        })
    }

    fn keep(&mut self) -> String {
        self.kept = true;
        format!(
            "{} (RDS instance `{}` in `{}`, drill {})",
            self.target.display(),
            self.id,
            self.cfg.region,
            self.drill
        )
    }
}

/// Deletes this drill's tagged scratch instances older than the TTL.
///
/// # Errors
/// When the instances cannot be listed.
pub async fn sweep(cfg: &RdsScratch, drill: &str) -> Result<Vec<CleanupOutcome>> {
    let c = rds_client(&cfg.region, cfg.endpoint.as_deref()).await;
    let mut pages = c.describe_db_instances().into_paginator().send();
    let mut out = Vec::new();
    let cutoff =
        Utc::now() - chrono::Duration::from_std(cfg.ttl).unwrap_or(chrono::Duration::zero());
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| rds_error("cannot list DB instances", &cfg.region, e))?;
        for inst in page.db_instances() {
            let id = inst.db_instance_identifier().unwrap_or_default();
            if !id.starts_with("firedrill-") || !has_tag(inst.tag_list(), Some(drill)) {
                continue;
            }
            let created = inst
                .instance_create_time()
                .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), 0));
            // No creation time yet: the instance is still being created (a running drill).
            if created.is_none_or(|t| t > cutoff) {
                out.push(CleanupOutcome {
                    removed: false,
                    kept: true,
                    detail: format!(
                        "`{id}` is younger than the TTL ({}); left alone",
                        humantime::format_duration(Duration::from_secs(cfg.ttl.as_secs()))
                    ),
                });
                continue;
            }
            let removal = delete_tagged(&c, &cfg.region, id).await;
            out.push(CleanupOutcome::swept(
                removal.map(|()| true),
                format!("deleted RDS instance `{id}`"),
            ));
        }
    }
    Ok(out)
}

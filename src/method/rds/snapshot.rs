//! RDS snapshots: a backup is a manual snapshot (tagged as firedrill's), waited for, and copied
//! to every DR region; the manifest records the snapshot in each region.

use std::time::Duration;

use aws_sdk_rds::error::DisplayErrorContext;
use aws_sdk_rds::types::Tag;
use aws_sdk_rds::Client;
use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;
use tracing::info;

use crate::aws::{self, wait_for, FailureKind, TAG};
use crate::catalog::manifest::{RdsSnapshotSet, RegionSnapshot};
use crate::spec::{RdsCopy, RdsSource};
use crate::{Error, Result};

/// The source instance, with an error naming it and its region when it cannot be found.
///
/// # Errors
/// [`crate::ErrorKind::Storage`] (or the mapped RDS error) naming the instance.
pub async fn describe_instance(
    c: &Client,
    src: &RdsSource,
) -> Result<aws_sdk_rds::types::DbInstance> {
    let out = c
        .describe_db_instances()
        .db_instance_identifier(&src.instance)
        .send()
        .await
        .map_err(|e| {
            aws::rds_error(
                &format!("cannot find DB instance `{}`", src.instance),
                &src.region,
                e,
            )
        })?;
    out.db_instances().first().cloned().ok_or_else(|| {
        Error::storage(format!(
            "DB instance `{}` not found in `{}`",
            src.instance, src.region
        ))
        .hint("fix source.instance / source.region")
    })
}

fn tags(drill: &str) -> Vec<Tag> {
    vec![Tag::builder().key(TAG).value(drill).build()]
}

async fn snapshot_state(
    c: &Client,
    region: &str,
    id: &str,
) -> Result<Option<(String, Option<DateTime<Utc>>, String)>> {
    let out = c
        .describe_db_snapshots()
        .db_snapshot_identifier(id)
        .send()
        .await
        .map_err(|e| aws::rds_error(&format!("cannot describe snapshot `{id}`"), region, e))?;
    let Some(s) = out.db_snapshots().first() else {
        return Ok(None);
    };
    let created = s
        .snapshot_create_time()
        .and_then(|t| DateTime::<Utc>::from_timestamp(t.secs(), t.subsec_nanos()));
    Ok(Some((
        s.status().unwrap_or("").to_string(),
        created,
        s.db_snapshot_arn().unwrap_or("").to_string(),
    )))
}

/// What an RDS backup produced.
pub struct RdsBackup {
    pub set: RdsSnapshotSet,
    /// `SnapshotCreateTime`: the recovery point.
    pub snapshot_at: DateTime<Utc>,
    pub engine_version: String,
    pub size_bytes: i64,
    pub host: String,
}

/// Takes a manual snapshot of the instance, waits for it, copies it to every DR region and
/// waits for the copies.
///
/// # Errors
/// Instance missing, quota, timeouts, credentials: each naming the region and the fix.
pub async fn snapshot(
    src: &RdsSource,
    drill: &str,
    backup_id: &str,
    cancel: &CancellationToken,
) -> Result<RdsBackup> {
    let mut created = Vec::new();
    let result = take_snapshot(src, drill, backup_id, cancel, &mut created).await;
    if result.is_err() {
        // A failed backup leaves no snapshot behind (they would count against the quota and
        // no manifest would ever lead prune to them).
        for (region, id) in created {
            let c = aws::rds_client(&region, src.endpoint.as_deref()).await;
            if let Err(e) = c
                .delete_db_snapshot()
                .db_snapshot_identifier(&id)
                .send()
                .await
            {
                tracing::warn!(snapshot = %id, region = %region, error = %DisplayErrorContext(&e), "Could not remove the snapshot of a failed backup.");
            }
        }
    }
    result
}

async fn take_snapshot(
    src: &RdsSource,
    drill: &str,
    backup_id: &str,
    cancel: &CancellationToken,
    created_ids: &mut Vec<(String, String)>,
) -> Result<RdsBackup> {
    let c = aws::rds_client(&src.region, src.endpoint.as_deref()).await;
    let inst = describe_instance(&c, src).await?;
    let id = format!(
        "firedrill-{}-{}",
        drill.to_ascii_lowercase().replace('_', "-"),
        backup_id.to_ascii_lowercase()
    );
    create_snapshot(&c, src, drill, &id).await?;
    created_ids.push((src.region.clone(), id.clone()));
    let (created, arn) = wait_available(&c, src, &id, cancel).await?;
    let mut snapshots = vec![RegionSnapshot {
        region: src.region.clone(),
        id: id.clone(),
        arn: arn.clone(),
    }];
    for copy in &src.copy_to {
        let copied_arn = copy_snapshot(src, copy, drill, (&id, &arn), cancel, created_ids).await?;
        snapshots.push(RegionSnapshot {
            region: copy.region.clone(),
            id: id.clone(),
            arn: copied_arn,
        });
    }
    let endpoint = inst.endpoint();
    Ok(RdsBackup {
        set: RdsSnapshotSet {
            instance: src.instance.clone(),
            snapshots,
        },
        snapshot_at: created.unwrap_or_else(Utc::now),
        engine_version: inst.engine_version().unwrap_or("").to_string(),
        size_bytes: i64::from(inst.allocated_storage().unwrap_or(0)) * 1024 * 1024 * 1024,
        host: endpoint.and_then(|e| e.address()).unwrap_or("").to_string(),
    })
}

/// Asks RDS for snapshot `id` of the source instance, tagged as the drill's.
async fn create_snapshot(c: &Client, src: &RdsSource, drill: &str, id: &str) -> Result<()> {
    info!(instance = %src.instance, snapshot = %id, region = %src.region, "Creating the RDS snapshot.");
    c.create_db_snapshot()
        .db_instance_identifier(&src.instance)
        .db_snapshot_identifier(id)
        .set_tags(Some(tags(drill)))
        .send()
        .await
        .map_err(|e| {
            aws::rds_error(
                &format!("cannot snapshot DB instance `{}`", src.instance),
                &src.region,
                e,
            )
        })?;
    Ok(())
}

/// Waits until snapshot `id` in the source region is available; its creation time and ARN.
async fn wait_available(
    c: &Client,
    src: &RdsSource,
    id: &str,
    cancel: &CancellationToken,
) -> Result<(Option<DateTime<Utc>>, String)> {
    wait_for(
        &format!("snapshot `{id}` in `{}`", src.region),
        src.wait_timeout,
        cancel,
        || async {
            Ok(match snapshot_state(c, &src.region, id).await? {
                Some((status, created, arn)) if status == "available" => Some((created, arn)),
                Some((status, _, _)) if status == "failed" => {
                    return Err(Error::storage(format!(
                        "snapshot `{id}` failed in `{}`",
                        src.region
                    )))
                }
                _ => None,
            })
        },
    )
    .await
}

/// Copies snapshot `id` (`arn`, in the source region) into `copy`'s region and waits for the
/// copy; returns the copy's ARN.
async fn copy_snapshot(
    src: &RdsSource,
    copy: &RdsCopy,
    drill: &str,
    (id, arn): (&str, &str),
    cancel: &CancellationToken,
    created_ids: &mut Vec<(String, String)>,
) -> Result<String> {
    let rc = aws::rds_client(&copy.region, src.endpoint.as_deref()).await;
    info!(snapshot = %id, region = %copy.region, "Copying the RDS snapshot.");
    // Encrypted snapshots (a KMS key for the destination) need a request pre-signed for the
    // source region; real AWS refuses the copy without it.
    let presigned = match &copy.kms_key_id {
        Some(kms) => Some(presigned_copy_url(&src.region, &copy.region, arn, id, kms).await?),
        None => None,
    };
    rc.copy_db_snapshot()
        .source_db_snapshot_identifier(arn)
        .target_db_snapshot_identifier(id)
        .set_kms_key_id(copy.kms_key_id.clone())
        .set_pre_signed_url(presigned)
        .set_tags(Some(tags(drill)))
        .send()
        .await
        .map_err(|e| {
            aws::rds_error(
                &format!("cannot copy snapshot `{id}` from `{}`", src.region),
                &copy.region,
                e,
            )
        })?;
    created_ids.push((copy.region.clone(), id.to_string()));
    wait_for(
        &format!("the copy of `{id}` in `{}`", copy.region),
        src.wait_timeout,
        cancel,
        || async {
            Ok(match snapshot_state(&rc, &copy.region, id).await? {
                Some((status, _, arn)) if status == "available" => Some(arn),
                _ => None,
            })
        },
    )
    .await
}

/// The pre-signed `CopyDBSnapshot` URL real AWS requires for a cross-region copy of an
/// encrypted snapshot: the request signed (SigV4, query string) for the *source* region,
/// naming the destination region and KMS key. The Rust SDK does not build it itself.
///
/// # Errors
/// When no credentials are available or signing fails.
pub async fn presigned_copy_url(
    source_region: &str,
    destination_region: &str,
    source_arn: &str,
    target_id: &str,
    kms_key_id: &str,
) -> Result<String> {
    use aws_credential_types::provider::ProvideCredentials;
    let shared = aws::ClientConfig::new(source_region, None).load().await;
    let provider = shared
        .credentials_provider()
        .ok_or_else(|| Error::key("no AWS credentials to pre-sign the snapshot copy with"))?;
    let creds = provider.provide_credentials().await.map_err(|e| {
        Error::key("no AWS credentials to pre-sign the snapshot copy with")
            .hint("set AWS credentials (environment, profile, IRSA or instance role)")
            .caused_by(e)
    })?;
    presign_with(
        creds,
        source_region,
        destination_region,
        source_arn,
        target_id,
        kms_key_id,
        std::time::SystemTime::now(),
    )
}

fn presign_with(
    creds: aws_credential_types::Credentials,
    source_region: &str,
    destination_region: &str,
    source_arn: &str,
    target_id: &str,
    kms_key_id: &str,
    now: std::time::SystemTime,
) -> Result<String> {
    use aws_sigv4::http_request::{
        sign, SignableBody, SignableRequest, SignatureLocation, SigningSettings,
    };
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let base = format!(
        "https://rds.{source_region}.amazonaws.com/?Action=CopyDBSnapshot&DestinationRegion={}&KmsKeyId={}&SourceDBSnapshotIdentifier={}&TargetDBSnapshotIdentifier={}&Version=2014-10-31",
        enc(destination_region),
        enc(kms_key_id),
        enc(source_arn),
        enc(target_id)
    );
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(Duration::from_secs(3600));
    let identity = creds.into();
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(source_region)
        .name("rds")
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| Error::internal("cannot pre-sign the snapshot copy").caused_by(e))?
        .into();
    let request = SignableRequest::new(
        "GET",
        base.clone(),
        std::iter::empty(),
        SignableBody::Bytes(&[]),
    )
    .map_err(|e| Error::internal("cannot pre-sign the snapshot copy").caused_by(e))?;
    let (instructions, _) = sign(request, &params)
        .map_err(|e| Error::internal("cannot pre-sign the snapshot copy").caused_by(e))?
        .into_parts();
    let mut url = base;
    for (k, v) in instructions.params() {
        url.push_str(&format!("&{k}={}", enc(v)));
    }
    Ok(url)
}

/// Deletes a snapshot firedrill created (identifier prefix and tag checked first); a snapshot
/// already gone is fine.
///
/// # Errors
/// A snapshot without firedrill's tag is refused; RDS errors name the region.
pub async fn delete_snapshot(
    region: &str,
    endpoint: Option<&str>,
    s: &RegionSnapshot,
) -> Result<()> {
    let c = aws::rds_client(region, endpoint).await;
    let tags = match c
        .list_tags_for_resource()
        .resource_name(&s.arn)
        .send()
        .await
    {
        Ok(t) => t,
        Err(e) if aws::classify(&e) == FailureKind::NotFound => return Ok(()),
        Err(e) => {
            return Err(aws::rds_error(
                &format!("cannot read the tags of snapshot `{}`", s.id),
                region,
                e,
            ))
        }
    };
    let ours =
        s.id.starts_with("firedrill-") && tags.tag_list().iter().any(|t| t.key() == Some(TAG));
    if !ours {
        return Err(Error::scratch(format!(
            "refusing to delete snapshot `{}` in `{region}`: it has no `{TAG}` tag",
            s.id
        )));
    }
    match c
        .delete_db_snapshot()
        .db_snapshot_identifier(&s.id)
        .send()
        .await
    {
        Ok(_) => Ok(()),
        Err(e) if aws::classify(&e) == FailureKind::NotFound => Ok(()),
        Err(e) => Err(aws::rds_error(
            &format!("cannot delete snapshot `{}`", s.id),
            region,
            e,
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presigned_copy_url_is_signed_for_the_source_region() {
        let creds =
            aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let url = presign_with(
            creds,
            "us-east-1",
            "eu-west-1",
            "arn:aws:rds:us-east-1:123456789012:snapshot:firedrill-orders-x",
            "firedrill-orders-x",
            "alias/dr",
            std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
        )
        .unwrap();
        assert!(url.starts_with("https://rds.us-east-1.amazonaws.com/?Action=CopyDBSnapshot&DestinationRegion=eu-west-1&KmsKeyId=alias%2Fdr"), "{url}");
        assert!(
            url.contains("SourceDBSnapshotIdentifier=arn%3Aaws%3Ards%3Aus-east-1"),
            "{url}"
        );
        assert!(url.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"), "{url}");
        assert!(
            url.contains(
                "X-Amz-Credential=AKIDEXAMPLE%2F20270115%2Fus-east-1%2Frds%2Faws4_request"
            ),
            "{url}"
        );
        assert!(url.contains("X-Amz-Expires=3600"), "{url}");
        let sig = url.split("X-Amz-Signature=").nth(1).unwrap();
        assert_eq!(sig.len(), 64, "{url}");
        assert!(!url.contains("secret"), "the secret key never appears");
    }
}

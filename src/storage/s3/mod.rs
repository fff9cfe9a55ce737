//! `s3://bucket/prefix` destinations through aws-sdk-s3.
//!
//! Uploads stream as multipart uploads with bounded memory (`part-size` x `concurrency`) and a
//! CRC32C checksum on every part; any failure aborts the upload, so no parts are left behind
//! and no object appears. Credentials come from the AWS default chain. Transient faults are
//! retried by the SDK (standard mode, backoff) within per-attempt and per-operation deadlines.
//!
//! Here: the store and its plain object calls. Uploads are in `multipart`, the lease's
//! conditional writes in `conditional`, server-side copies in `copy`, the retention and
//! encryption every write carries in `config`, the destination's settings and their checks in
//! `settings`; the client and error messages come from [`crate::aws`].

use std::sync::Arc;

use async_trait::async_trait;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream as SdkBody;
use aws_sdk_s3::Client;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use bytes::Bytes;
use tokio::sync::Semaphore;

use super::{ByteStream, ObjectInfo, ObjectStore};
use crate::aws;
use crate::{Error, Result};

mod conditional;
mod config;
mod copy;
mod multipart;
mod settings;
mod stale;

pub(crate) use settings::parse_url;
pub use settings::{ObjectLock, S3Destination, S3Options, Sse};

pub struct S3Store {
    client: Client,
    name: String,
    bucket: String,
    prefix: String,
    region: String,
    endpoint: Option<String>,
    part_size: usize,
    concurrency: usize,
    /// Part buffers of every upload through this store at once (`concurrency` of them), so
    /// that parallel uploads (table parts) share one memory budget.
    buffers: Arc<Semaphore>,
    lock: Option<ObjectLock>,
    sse: Option<Sse>,
}

impl S3Store {
    /// Builds a client for the destination's region (and endpoint). Contacts nothing.
    ///
    /// # Errors
    /// Never for a checked destination; the signature leaves room for config loading errors.
    pub async fn new(name: &str, s3: &S3Destination) -> Result<Self> {
        Ok(Self {
            client: aws::s3_client(&s3.region, s3.endpoint.as_deref()).await,
            name: name.to_string(),
            bucket: s3.bucket.clone(),
            prefix: s3.prefix.clone(),
            region: s3.region.clone(),
            endpoint: s3.endpoint.clone(),
            part_size: s3.part_size,
            concurrency: s3.concurrency,
            buffers: Arc::new(Semaphore::new(s3.concurrency.max(1))),
            lock: s3.object_lock.clone(),
            sse: s3.sse.clone(),
        })
    }

    fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    /// Maps an SDK error to one that names the bucket, region, destination and the fix.
    /// `full` without the destination's prefix: the key the store's callers use.
    fn relative(&self, full: &str) -> String {
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        full[strip.min(full.len())..].to_string()
    }

    fn err<E>(&self, op: &str, key: &str, e: SdkError<E, HttpResponse>) -> Error
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let subject = aws::Subject::S3 {
            op,
            key,
            bucket: &self.bucket,
            region: &self.region,
            endpoint: self.endpoint.as_deref(),
            destination: &self.name,
        };
        aws::error(subject, e)
    }
}

#[async_trait]
impl ObjectStore for S3Store {
    fn describe(&self) -> String {
        let base = if self.prefix.is_empty() {
            format!("s3://{}", self.bucket)
        } else {
            format!("s3://{}/{}", self.bucket, self.prefix)
        };
        format!("{base} ({})", self.region)
    }

    async fn put(&self, key: &str, body: ByteStream) -> Result<u64> {
        self.upload(key, body).await
    }

    async fn put_bytes(&self, key: &str, data: Bytes) -> Result<()> {
        self.put_small(key, data).await
    }

    async fn put_lease(&self, key: &str, data: Bytes) -> Result<()> {
        let full = self.full_key(key);
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .body(SdkBody::from(data))
            .send()
            .await
            .map_err(|e| self.err("write", &full, e))?;
        Ok(())
    }

    async fn delete_lease(&self, key: &str) -> Result<()> {
        let full = self.full_key(key);
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
            .map_err(|e| self.err("delete", &full, e))?;
        Ok(())
    }

    async fn put_if_absent(&self, key: &str, data: Bytes) -> Result<bool> {
        // Without retention: leases are deleted when released.
        self.write_if_absent(key, data).await
    }

    async fn replace_if_unchanged(&self, key: &str, expected: &[u8], data: Bytes) -> Result<bool> {
        // Without retention, as leases are.
        self.write_if_unchanged(key, expected, data).await
    }

    async fn probe(&self, key: &str) -> Result<()> {
        // Without retention, so the probe can go again; a plain delete only adds a marker in a
        // versioned bucket, which retention allows.
        let full = self.full_key(key);
        let location = self
            .client
            .get_bucket_location()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| self.err("locate", "", e))?;
        let actual = match location.location_constraint().map(|c| c.as_str()) {
            None | Some("") => "us-east-1".to_string(),
            Some("EU") => "eu-west-1".to_string(),
            Some(other) => other.to_string(),
        };
        if actual != self.region {
            return Err(Error::storage(format!(
                "bucket `{}` is in `{actual}`, not in `{}`",
                self.bucket, self.region
            ))
            .hint(format!(
                "set destination.{}.region = \"{actual}\"",
                self.name
            )));
        }
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .body(SdkBody::from(Bytes::from_static(b"probe")))
            .send()
            .await
            .map_err(|e| self.err("write", &full, e))?;
        self.client
            .head_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
            .map_err(|e| self.err("read", &full, e))?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
            .map_err(|e| self.err("delete", &full, e))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<ByteStream> {
        let full = self.full_key(key);
        let out = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
            .map_err(|e| self.err("read", &full, e))?;
        Ok(Box::new(out.body.into_async_read()))
    }

    async fn get_bytes(&self, key: &str) -> Result<Option<Bytes>> {
        Ok(self.get_whole(&self.full_key(key)).await?.map(|(b, _)| b))
    }

    async fn head(&self, key: &str) -> Result<Option<u64>> {
        let full = self.full_key(key);
        match self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(&full)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(self.err("inspect", &full, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<ObjectInfo>> {
        let full = self.full_key(prefix);
        let strip = if self.prefix.is_empty() {
            0
        } else {
            self.prefix.len() + 1
        };
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&full)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| self.err("list", "", e))?;
            for obj in page.contents() {
                if let Some(k) = obj.key() {
                    out.push(ObjectInfo {
                        key: k[strip.min(k.len())..].to_string(),
                        size: obj.size().unwrap_or(0).max(0) as u64,
                    });
                }
            }
        }
        out.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(out)
    }

    async fn abort_stale_uploads(
        &self,
        prefix: &str,
        older_than: std::time::Duration,
        dry_run: bool,
    ) -> Result<Vec<super::StaleUpload>> {
        self.stale_uploads(prefix, older_than, dry_run).await
    }

    async fn delete(&self, key: &str) -> Result<()> {
        let full = self.full_key(key);
        // Versioned (Object Lock) buckets keep data in versions: delete each one, so that
        // retention refuses loudly instead of a delete marker hiding the object.
        let versions = self
            .client
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(&full)
            .send()
            .await
            .map_err(|e| self.err("list versions of", &full, e))?;
        let ids: Vec<String> = versions
            .versions()
            .iter()
            .filter(|v| v.key() == Some(full.as_str()))
            .filter_map(|v| v.version_id().map(str::to_string))
            .filter(|v| v != "null")
            .collect();
        if ids.is_empty() {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(&full)
                .send()
                .await
                .map_err(|e| self.err("delete", &full, e))?;
        }
        for id in ids {
            self.client
                .delete_object()
                .bucket(&self.bucket)
                .key(&full)
                .version_id(&id)
                .send()
                .await
                .map_err(|e| self.err("delete", &full, e))?;
        }
        Ok(())
    }

    async fn copy_from(&self, source: &dyn ObjectStore, key: &str, size: u64) -> Result<bool> {
        self.server_side_copy(source, key, size).await
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

//! `s3://bucket/prefix` destinations through aws-sdk-s3.
//!
//! Uploads stream as multipart uploads with bounded memory (`part-size` x `concurrency`) and a
//! CRC32C checksum on every part; any failure aborts the upload, so no parts are left behind
//! and no object appears. Credentials come from the AWS default chain. Transient faults are
//! retried by the SDK (standard mode, backoff) within per-attempt and per-operation deadlines.

use async_trait::async_trait;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream as SdkBody;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, ObjectLockMode,
    ServerSideEncryption,
};
use aws_sdk_s3::Client;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use bytes::Bytes;
use std::sync::Arc;
use tokio::io::AsyncReadExt;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;

use super::{ByteStream, ObjectInfo, ObjectStore};
use crate::aws;
use crate::spec::{DestinationSpec, ObjectLock, Sse};
use crate::{Error, Result};

/// S3 refuses CopyObject above this size; larger objects are copied part by part.
const COPY_OBJECT_LIMIT: u64 = 5 * 1024 * 1024 * 1024;

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
    /// Never for a validated spec; the signature leaves room for config loading errors.
    pub async fn new(spec: &DestinationSpec) -> Result<Self> {
        let rest = spec.url.strip_prefix("s3://").unwrap_or(&spec.url);
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let region = spec.region.clone().unwrap_or_else(|| "us-east-1".into());
        Ok(Self {
            client: aws::s3_client(&region, spec.endpoint.as_deref()).await,
            name: spec.name.clone(),
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            region,
            endpoint: spec.endpoint.clone(),
            part_size: spec.part_size,
            concurrency: spec.concurrency,
            buffers: Arc::new(Semaphore::new(spec.concurrency.max(1))),
            lock: spec.object_lock.clone(),
            sse: spec.sse.clone(),
        })
    }

    /// A small object read whole, with its ETag; `None` when missing.
    async fn get_whole(&self, full: &str) -> Result<Option<(Bytes, Option<String>)>> {
        match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(full)
            .send()
            .await
        {
            Ok(out) => {
                let etag = out.e_tag().map(str::to_string);
                let data = out.body.collect().await.map_err(|e| {
                    Error::storage(format!(
                        "cannot read `{full}` from bucket `{}`: {e}",
                        self.bucket
                    ))
                })?;
                Ok(Some((data.into_bytes(), etag)))
            }
            Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(self.err("read", full, e)),
        }
    }

    fn full_key(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            format!("{}/{key}", self.prefix)
        }
    }

    fn lock_mode(&self) -> Option<(ObjectLockMode, aws_smithy_types::DateTime)> {
        self.lock.as_ref().map(|l| {
            let mode = if l.mode == "compliance" {
                ObjectLockMode::Compliance
            } else {
                ObjectLockMode::Governance
            };
            let until = chrono::Utc::now() + chrono::Duration::days(i64::from(l.days));
            (
                mode,
                aws_smithy_types::DateTime::from_secs(until.timestamp()),
            )
        })
    }

    fn sse_parts(&self) -> (Option<ServerSideEncryption>, Option<String>) {
        match &self.sse {
            None => (None, None),
            Some(Sse::Aes256) => (Some(ServerSideEncryption::Aes256), None),
            Some(Sse::Kms { key_id }) => (Some(ServerSideEncryption::AwsKms), key_id.clone()),
        }
    }

    /// Maps an SDK error to one that names the bucket, region, destination and the fix.
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

    async fn abort(&self, key: &str, upload_id: &str) {
        if let Err(e) = self
            .client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
        {
            tracing::warn!(bucket = %self.bucket, key, error = %DisplayErrorContext(&e), "Aborting the multipart upload failed; a lifecycle rule for incomplete uploads will remove its parts.");
        }
    }

    /// Starts a multipart upload with this destination's checksum, encryption and retention.
    async fn create_multipart(&self, full: &str, what: &str) -> Result<String> {
        let (sse, kms) = self.sse_parts();
        let mut req = self
            .client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(full)
            .checksum_algorithm(ChecksumAlgorithm::Crc32C)
            .set_server_side_encryption(sse)
            .set_ssekms_key_id(kms);
        if let Some((mode, until)) = self.lock_mode() {
            req = req
                .object_lock_mode(mode)
                .object_lock_retain_until_date(until);
        }
        let created = req.send().await.map_err(|e| self.err(what, full, e))?;
        created.upload_id().map(str::to_string).ok_or_else(|| {
            Error::storage(format!("bucket `{}` returned no upload id", self.bucket))
        })
    }

    async fn put_small(&self, key: &str, data: Bytes) -> Result<()> {
        let full = self.full_key(key);
        let (sse, kms) = self.sse_parts();
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .checksum_algorithm(ChecksumAlgorithm::Crc32C)
            .set_server_side_encryption(sse)
            .set_ssekms_key_id(kms)
            .body(SdkBody::from(data));
        if let Some((mode, until)) = self.lock_mode() {
            req = req
                .object_lock_mode(mode)
                .object_lock_retain_until_date(until);
        }
        req.send().await.map_err(|e| self.err("write", &full, e))?;
        Ok(())
    }

    /// Fills `buf` up to `part_size` from `body`; returns the bytes read (0 at EOF).
    /// Size of part `number` (1-based): the configured size, doubled every 1,000 parts so that
    /// S3's 10,000-part limit is never reached (capped at S3's 5 GiB part maximum). Memory
    /// grows only for dumps past 1,000 x part-size.
    fn part_len(&self, number: i32) -> usize {
        part_len(self.part_size, number)
    }

    async fn fill(
        &self,
        body: &mut ByteStream,
        buf: &mut Vec<u8>,
        key: &str,
        len: usize,
    ) -> Result<usize> {
        buf.clear();
        while buf.len() < len {
            let want = len - buf.len();
            let n = body
                .as_mut()
                .take(want as u64)
                .read_to_end(buf)
                .await
                .map_err(|e| Error::storage(format!("the stream for `{key}` failed: {e}")))?;
            if n == 0 {
                break;
            }
        }
        Ok(buf.len())
    }

    /// Waits until a part buffer may be filled.
    async fn buffer_permit(&self) -> OwnedSemaphorePermit {
        self.buffers
            .clone()
            .acquire_owned()
            .await
            .expect("the buffer budget is never closed")
    }

    async fn multipart(
        &self,
        full: &str,
        upload_id: &str,
        first: (Vec<u8>, OwnedSemaphorePermit),
        mut body: ByteStream,
    ) -> Result<u64> {
        let mut parts: Vec<CompletedPart> = Vec::new();
        let mut running: JoinSet<Result<CompletedPart>> = JoinSet::new();
        let mut next = Some(first);
        let mut number = 0i32;
        let mut total = 0u64;
        while let Some((chunk, permit)) = next.take() {
            number += 1;
            total += chunk.len() as u64;
            let req = self
                .client
                .upload_part()
                .bucket(&self.bucket)
                .key(full)
                .upload_id(upload_id)
                .part_number(number)
                .checksum_algorithm(ChecksumAlgorithm::Crc32C)
                .body(SdkBody::from(chunk));
            let n = number;
            let ctx = format!(
                "part {n} of `{full}` to bucket `{}` in `{}` (destination `{}`)",
                self.bucket, self.region, self.name
            );
            running.spawn(async move {
                let sent = req.send().await;
                drop(permit);
                let out = sent.map_err(|e| {
                    let code = e.code().unwrap_or("transfer failed after retries");
                    Error::storage(format!("cannot upload {ctx}: {code}"))
                        .caused_by(aws::AwsError::new(e))
                })?;
                Ok(CompletedPart::builder()
                    .part_number(n)
                    .set_e_tag(out.e_tag().map(str::to_string))
                    .set_checksum_crc32_c(out.checksum_crc32_c().map(str::to_string))
                    .build())
            });
            // The part being filled counts against the budget too: at most `concurrency` part
            // buffers exist at once.
            while running.len() >= self.concurrency.max(2) - 1 {
                parts.push(join_one(&mut running).await?);
            }
            let len = self.part_len(number + 1);
            let permit = self.buffer_permit().await;
            let mut buf = Vec::with_capacity(len);
            if self.fill(&mut body, &mut buf, full, len).await? > 0 {
                next = Some((buf, permit));
            }
        }
        while !running.is_empty() {
            parts.push(join_one(&mut running).await?);
        }
        parts.sort_by_key(|p| p.part_number());
        self.client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(full)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| self.err("complete the upload of", full, e))?;
        Ok(total)
    }
}

async fn join_one(set: &mut JoinSet<Result<CompletedPart>>) -> Result<CompletedPart> {
    match set.join_next().await {
        Some(Ok(r)) => r,
        Some(Err(e)) => Err(Error::internal(format!("an upload task failed: {e}"))),
        None => Err(Error::internal("no upload task to wait for")),
    }
}

fn part_len(part_size: usize, number: i32) -> usize {
    let doublings = ((number.max(1) - 1) / 1000).min(12) as u32;
    part_size
        .saturating_mul(1usize << doublings)
        .min(5 * 1024 * 1024 * 1024)
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

    async fn put(&self, key: &str, mut body: ByteStream) -> Result<u64> {
        let full = self.full_key(key);
        let permit = self.buffer_permit().await;
        let mut first = Vec::with_capacity(self.part_size);
        let n = self
            .fill(&mut body, &mut first, &full, self.part_size)
            .await?;
        if n < self.part_size {
            // The whole object fits in one part: a single PutObject (still checksummed).
            self.put_small(key, Bytes::from(first)).await?;
            drop(permit);
            return Ok(n as u64);
        }
        let upload_id = self.create_multipart(&full, "start an upload of").await?;
        match self
            .multipart(&full, &upload_id, (first, permit), body)
            .await
        {
            Ok(total) => Ok(total),
            Err(e) => {
                self.abort(&full, &upload_id).await;
                Err(e)
            }
        }
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
        let full = self.full_key(key);
        match self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .if_none_match("*")
            .body(SdkBody::from(data))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            Err(e) if condition_failed(&e) => Ok(false),
            Err(e) => Err(self.err("write", &full, e)),
        }
    }

    async fn replace_if_unchanged(&self, key: &str, expected: &[u8], data: Bytes) -> Result<bool> {
        // Without retention, as leases are. The ETag of what was read is the condition of the
        // write (`If-Match`), so a change between the two calls makes the write fail.
        let full = self.full_key(key);
        let Some((now, etag)) = self.get_whole(&full).await? else {
            return Ok(false);
        };
        let Some(etag) = etag.filter(|_| now.as_ref() == expected) else {
            return Ok(false);
        };
        match self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(&full)
            .if_match(etag)
            .body(SdkBody::from(data))
            .send()
            .await
        {
            Ok(_) => Ok(true),
            // Changed (412) or removed (404) since it was read.
            Err(e)
                if condition_failed(&e)
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
            {
                Ok(false)
            }
            Err(e) => Err(self.err("write", &full, e)),
        }
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
        let Some(src) = source.as_any().downcast_ref::<S3Store>() else {
            return Ok(false);
        };
        if src.endpoint != self.endpoint {
            return Ok(false);
        }
        let from = format!(
            "{}/{}",
            src.bucket,
            url::form_urlencoded::byte_serialize(src.full_key(key).as_bytes())
                .collect::<String>()
                .replace("%2F", "/")
        );
        let full = self.full_key(key);
        let (sse, kms) = self.sse_parts();
        if size <= COPY_OBJECT_LIMIT {
            let mut req = self
                .client
                .copy_object()
                .bucket(&self.bucket)
                .key(&full)
                .copy_source(&from)
                .checksum_algorithm(ChecksumAlgorithm::Crc32C)
                .set_server_side_encryption(sse)
                .set_ssekms_key_id(kms);
            if let Some((mode, until)) = self.lock_mode() {
                req = req
                    .object_lock_mode(mode)
                    .object_lock_retain_until_date(until);
            }
            req.send()
                .await
                .map_err(|e| self.err("copy into", &full, e))?;
            return Ok(true);
        }
        let upload_id = self.create_multipart(&full, "start a copy into").await?;
        let part = 512 * 1024 * 1024u64;
        let mut parts = Vec::new();
        let mut start = 0u64;
        let mut n = 0;
        while start < size {
            n += 1;
            let end = (start + part).min(size) - 1;
            let out = self
                .client
                .upload_part_copy()
                .bucket(&self.bucket)
                .key(&full)
                .upload_id(&upload_id)
                .part_number(n)
                .copy_source(&from)
                .copy_source_range(format!("bytes={start}-{end}"))
                .send()
                .await;
            match out {
                Ok(o) => parts.push(
                    CompletedPart::builder()
                        .part_number(n)
                        .set_e_tag(
                            o.copy_part_result()
                                .and_then(|r| r.e_tag())
                                .map(str::to_string),
                        )
                        .set_checksum_crc32_c(
                            o.copy_part_result()
                                .and_then(|r| r.checksum_crc32_c())
                                .map(str::to_string),
                        )
                        .build(),
                ),
                Err(e) => {
                    self.abort(&full, &upload_id).await;
                    return Err(self.err("copy a part into", &full, e));
                }
            }
            start = end + 1;
        }
        let done = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&full)
            .upload_id(&upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        if let Err(e) = done {
            self.abort(&full, &upload_id).await;
            return Err(self.err("complete the copy into", &full, e));
        }
        Ok(true)
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

/// A conditional write (`If-None-Match` / `If-Match`) that did not hold.
fn condition_failed<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    matches!(
        e.code(),
        Some("PreconditionFailed") | Some("ConditionalRequestConflict")
    ) || e
        .raw_response()
        .is_some_and(|r| matches!(r.status().as_u16(), 409 | 412))
}

#[cfg(test)]
mod tests {
    #[test]
    fn parts_grow_so_10000_of_them_hold_any_dump() {
        let sizes: Vec<u64> = (1..=10_000)
            .map(|n| super::part_len(16 << 20, n) as u64)
            .collect();
        assert_eq!(sizes[0], 16 << 20);
        assert_eq!(sizes[999], 16 << 20);
        assert_eq!(sizes[1000], 32 << 20);
        let total: u64 = sizes.iter().sum();
        assert!(
            total > 10u64 << 40,
            "more than 10 TiB in 10,000 parts: {total}"
        );
    }
}

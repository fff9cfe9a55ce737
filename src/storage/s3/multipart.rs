//! Uploads: a single checksummed PutObject for what fits in one part, else a multipart upload
//! whose parts go out side by side within the store's buffer budget; a failed upload is
//! aborted, so no parts are left behind and no object appears.

use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata};
use aws_sdk_s3::primitives::ByteStream as SdkBody;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use bytes::Bytes;
use tokio::io::AsyncReadExt;
use tokio::sync::OwnedSemaphorePermit;
use tokio::task::JoinSet;

use super::S3Store;
use crate::aws;
use crate::storage::ByteStream;
use crate::{Error, Result};

/// S3's largest part (and largest single CopyObject).
const PART_MAX: usize = 5 * 1024 * 1024 * 1024;

impl S3Store {
    /// Streams `body` into `key`; returns the bytes written.
    pub(super) async fn upload(&self, key: &str, mut body: ByteStream) -> Result<u64> {
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

    /// One PutObject with this destination's checksum, encryption and retention.
    pub(super) async fn put_small(&self, key: &str, data: Bytes) -> Result<()> {
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

    /// Starts a multipart upload with this destination's checksum, encryption and retention.
    pub(super) async fn create_multipart(&self, full: &str, what: &str) -> Result<String> {
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

    /// Completes a multipart upload from its parts (in any order).
    pub(super) async fn complete(
        &self,
        full: &str,
        upload_id: &str,
        mut parts: Vec<CompletedPart>,
        what: &str,
    ) -> Result<()> {
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
            .map_err(|e| self.err(what, full, e))?;
        Ok(())
    }

    /// Aborts a multipart upload; a failure is only logged (lifecycle rules clean up).
    pub(super) async fn abort(&self, key: &str, upload_id: &str) {
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

    /// Size of part `number` (1-based): the configured size, doubled every 1,000 parts so that
    /// S3's 10,000-part limit is never reached (capped at S3's 5 GiB part maximum). Memory
    /// grows only for dumps past 1,000 x part-size.
    fn part_len(&self, number: i32) -> usize {
        part_len(self.part_size, number)
    }

    /// Fills `buf` up to `len` bytes from `body`; returns the bytes read (0 at EOF).
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

    /// Uploads `first` and the rest of `body` as parts of `upload_id`, side by side, and
    /// completes the upload; returns the bytes written.
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
            running.spawn(self.send_part(full, upload_id, number, chunk, permit));
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
        self.complete(full, upload_id, parts, "complete the upload of")
            .await?;
        Ok(total)
    }

    /// The upload of part `n` (checksummed), as a task of its own; its buffer's permit is
    /// released once it is sent.
    fn send_part(
        &self,
        full: &str,
        upload_id: &str,
        n: i32,
        chunk: Vec<u8>,
        permit: OwnedSemaphorePermit,
    ) -> impl std::future::Future<Output = Result<CompletedPart>> + Send + 'static {
        let req = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(full)
            .upload_id(upload_id)
            .part_number(n)
            .checksum_algorithm(ChecksumAlgorithm::Crc32C)
            .body(SdkBody::from(chunk));
        let ctx = format!(
            "part {n} of `{full}` to bucket `{}` in `{}` (destination `{}`)",
            self.bucket, self.region, self.name
        );
        async move {
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
        }
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
    part_size.saturating_mul(1usize << doublings).min(PART_MAX)
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

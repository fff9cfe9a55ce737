//! Server-side copies between S3 destinations behind the same endpoint: one CopyObject up to
//! S3's 5 GiB limit, ranged part copies of a multipart upload above it.

use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedPart};

use super::S3Store;
use crate::storage::ObjectStore;
use crate::Result;

/// S3 refuses CopyObject above this size; larger objects are copied part by part.
const COPY_OBJECT_LIMIT: u64 = 5 * 1024 * 1024 * 1024;

/// The size of each ranged part copy.
const COPY_PART: u64 = 512 * 1024 * 1024;

impl S3Store {
    /// Copies `key` (of `size` bytes) from `source` inside S3; `false` when `source` is not an
    /// S3 destination behind the same endpoint (the caller streams the object instead).
    pub(super) async fn server_side_copy(
        &self,
        source: &dyn ObjectStore,
        key: &str,
        size: u64,
    ) -> Result<bool> {
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
        if size <= COPY_OBJECT_LIMIT {
            self.copy_whole(&full, &from).await?;
        } else {
            self.copy_parts(&full, &from, size).await?;
        }
        Ok(true)
    }

    /// One CopyObject with this destination's checksum, encryption and retention.
    async fn copy_whole(&self, full: &str, from: &str) -> Result<()> {
        let (sse, kms) = self.sse_parts();
        let mut req = self
            .client
            .copy_object()
            .bucket(&self.bucket)
            .key(full)
            .copy_source(from)
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
            .map_err(|e| self.err("copy into", full, e))?;
        Ok(())
    }

    /// A multipart upload of ranged part copies; aborted when any call fails.
    async fn copy_parts(&self, full: &str, from: &str, size: u64) -> Result<()> {
        let upload_id = self.create_multipart(full, "start a copy into").await?;
        let mut parts = Vec::new();
        let mut start = 0u64;
        let mut n = 0;
        while start < size {
            n += 1;
            let end = (start + COPY_PART).min(size) - 1;
            match self
                .copy_part(full, from, &upload_id, n, (start, end))
                .await
            {
                Ok(part) => parts.push(part),
                Err(e) => {
                    self.abort(full, &upload_id).await;
                    return Err(e);
                }
            }
            start = end + 1;
        }
        let done = self
            .complete(full, &upload_id, parts, "complete the copy into")
            .await;
        if done.is_err() {
            self.abort(full, &upload_id).await;
        }
        done
    }

    /// Copies bytes `start..=end` of `from` as part `n` of the upload.
    async fn copy_part(
        &self,
        full: &str,
        from: &str,
        upload_id: &str,
        n: i32,
        (start, end): (u64, u64),
    ) -> Result<CompletedPart> {
        let out = self
            .client
            .upload_part_copy()
            .bucket(&self.bucket)
            .key(full)
            .upload_id(upload_id)
            .part_number(n)
            .copy_source(from)
            .copy_source_range(format!("bytes={start}-{end}"))
            .send()
            .await
            .map_err(|e| self.err("copy a part into", full, e))?;
        let result = out.copy_part_result();
        Ok(CompletedPart::builder()
            .part_number(n)
            .set_e_tag(result.and_then(|r| r.e_tag()).map(str::to_string))
            .set_checksum_crc32_c(
                result
                    .and_then(|r| r.checksum_crc32_c())
                    .map(str::to_string),
            )
            .build())
    }
}

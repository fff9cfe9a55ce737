//! Conditional writes for leases: create only when absent (`If-None-Match: *`), replace only
//! what was read (`If-Match` on its ETag). Leases carry no retention: they are deleted when
//! released.

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream as SdkBody;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use bytes::Bytes;

use super::S3Store;
use crate::{Error, Result};

impl S3Store {
    /// A small object read whole, with its ETag; `None` when missing.
    pub(super) async fn get_whole(&self, full: &str) -> Result<Option<(Bytes, Option<String>)>> {
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
                        "cannot read `{full}` from bucket `{}`",
                        self.bucket
                    ))
                    .caused_by(e)
                })?;
                Ok(Some((data.into_bytes(), etag)))
            }
            Err(e) if e.code() == Some("NoSuchKey") => Ok(None),
            Err(e) => Err(self.err("read", full, e)),
        }
    }

    /// Writes `key` unless it exists; `false` when it does.
    pub(super) async fn write_if_absent(&self, key: &str, data: Bytes) -> Result<bool> {
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

    /// Replaces `key` with `data` only while it still holds `expected`; `false` otherwise.
    /// The ETag of what was read is the condition of the write (`If-Match`), so a change
    /// between the two calls makes the write fail.
    pub(super) async fn write_if_unchanged(
        &self,
        key: &str,
        expected: &[u8],
        data: Bytes,
    ) -> Result<bool> {
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

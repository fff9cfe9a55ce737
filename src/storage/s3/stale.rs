//! Multipart uploads a killed backup never completed nor aborted: invisible as objects, but
//! their parts stay stored (and billed) until someone aborts them. Listed under a prefix and
//! aborted once older than a grace period, so an upload in progress is never touched.

use std::time::Duration;

use chrono::{DateTime, Utc};

use super::S3Store;
use crate::storage::StaleUpload;
use crate::Result;

impl S3Store {
    /// Uploads under `prefix` (relative to the destination's prefix) started more than
    /// `older_than` ago, aborted unless `dry_run`. An upload whose abort fails carries the
    /// error; listing failures are errors.
    pub(super) async fn stale_uploads(
        &self,
        prefix: &str,
        older_than: Duration,
        dry_run: bool,
    ) -> Result<Vec<StaleUpload>> {
        let full = self.full_key(prefix);
        let cutoff = Utc::now() - chrono::Duration::from_std(older_than).unwrap_or_default();
        let mut out = Vec::new();
        for (key, upload_id, started_at) in self.uploads_under(&full).await? {
            if started_at > cutoff {
                continue;
            }
            let error = if dry_run {
                None
            } else {
                self.client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(&key)
                    .upload_id(&upload_id)
                    .send()
                    .await
                    .err()
                    .map(|e| self.err("abort the unfinished upload of", &key, e).message)
            };
            out.push(StaleUpload {
                key: self.relative(&key),
                started_at,
                error,
            });
        }
        Ok(out)
    }

    /// Every multipart upload whose key starts with `full`: (key, upload id, initiated).
    /// Uploads without a start time are left out: their age is unknown.
    async fn uploads_under(&self, full: &str) -> Result<Vec<(String, String, DateTime<Utc>)>> {
        let mut out = Vec::new();
        let (mut key_marker, mut id_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .client
                .list_multipart_uploads()
                .bucket(&self.bucket)
                .prefix(full)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(id_marker.take())
                .send()
                .await
                .map_err(|e| self.err("list the unfinished uploads under", full, e))?;
            for u in page.uploads() {
                let (Some(key), Some(id), Some(at)) = (u.key(), u.upload_id(), u.initiated())
                else {
                    continue;
                };
                if let Some(at) = DateTime::from_timestamp(at.secs(), at.subsec_nanos()) {
                    out.push((key.to_string(), id.to_string(), at));
                }
            }
            if page.is_truncated() != Some(true) {
                return Ok(out);
            }
            key_marker = page.next_key_marker().map(str::to_string);
            id_marker = page.next_upload_id_marker().map(str::to_string);
            if key_marker.is_none() && id_marker.is_none() {
                return Ok(out);
            }
        }
    }
}

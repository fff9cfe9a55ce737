//! What every write to the destination carries: its Object Lock retention and its server-side
//! encryption.

use aws_sdk_s3::types::{ObjectLockMode, ServerSideEncryption};

use super::S3Store;
use super::Sse;

impl S3Store {
    /// The retention mode and retain-until date for an object written now, when the
    /// destination has Object Lock.
    pub(super) fn lock_mode(&self) -> Option<(ObjectLockMode, aws_smithy_types::DateTime)> {
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

    /// The server-side encryption and KMS key id of every write.
    pub(super) fn sse_parts(&self) -> (Option<ServerSideEncryption>, Option<String>) {
        match &self.sse {
            None => (None, None),
            Some(Sse::Aes256) => (Some(ServerSideEncryption::Aes256), None),
            Some(Sse::Kms { key_id }) => (Some(ServerSideEncryption::AwsKms), key_id.clone()),
        }
    }
}

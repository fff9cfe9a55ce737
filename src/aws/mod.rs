//! Everything AWS-facing shares this module: one way to build SDK clients (region, optional
//! endpoint, the default credential chain) and one classifier that turns an SDK error into a
//! firedrill [`Error`](crate::Error) naming the operation, the object or region, and the fix.
//!
//! - [`ClientConfig`] builds the S3 and RDS clients ([`s3_client`], [`rds_client`]).
//! - [`classify`] sorts an `SdkError` into a [`FailureKind`]; [`error`] phrases it for a
//!   [`Subject`] and keeps the SDK error, typed, as the cause ([`AwsError`]).

mod config;
mod error;

pub use config::{rds_client, s3_client, ClientConfig};
pub use error::{classify, error, AwsError, FailureKind, Subject};

/// [`error`] for an RDS call: `what` names the operation and object ("cannot find DB instance
/// `db`"), `region` where it ran.
pub fn rds_error<E>(
    what: &str,
    region: &str,
    e: aws_smithy_runtime_api::client::result::SdkError<E, aws_smithy_runtime_api::http::Response>,
) -> crate::Error
where
    E: aws_smithy_types::error::metadata::ProvideErrorMetadata
        + std::error::Error
        + Send
        + Sync
        + 'static,
{
    error(Subject::Rds { what, region }, e)
}

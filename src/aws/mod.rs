//! Everything AWS-facing shares this module: one way to build SDK clients (region, optional
//! endpoint, the default credential chain) and one classifier that turns an SDK error into a
//! firedrill [`Error`](crate::Error) naming the operation, the object or region, and the fix.
//!
//! - [`ClientConfig`] builds the S3 and RDS clients ([`s3_client`], [`rds_client`]).
//! - [`classify`] sorts an `SdkError` into a [`FailureKind`]; [`error`] phrases it for a
//!   [`Subject`] and keeps the SDK error, typed, as the cause ([`AwsError`]); [`rds_error`]
//!   is its shorthand for RDS calls.
//! - [`wait_for`] polls a resource until it is ready, within a deadline; [`TAG`] marks what
//!   firedrill creates.

mod config;
mod error;
mod wait;

pub use config::{rds_client, s3_client, ClientConfig};
pub use error::{classify, error, rds_error, AwsError, FailureKind, Subject};
pub use wait::{wait_for, TAG};

//! One classifier for every AWS SDK error: what kind of failure it is, and the message and fix
//! a user sees for it, phrased for the S3 destination or the RDS call it happened in.

use std::fmt;

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_runtime_api::http::Response as HttpResponse;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::{Error, ErrorKind};

/// The broad cause of a failed AWS call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The default credential chain found no credentials.
    NoCredentials,
    /// The request could not be sent: the endpoint is unreachable (dispatch failure).
    Unreachable,
    /// The call ran past its deadline, retries included.
    Timeout,
    /// HTTP 403 or an `AccessDenied` code.
    AccessDenied,
    /// A delete refused because the object is under S3 Object Lock retention (a 403 whose
    /// message says so): expected until the retention ends.
    Retained,
    /// HTTP 404 or a not-found code (`NoSuchBucket`, `NoSuchKey`, `DBInstanceNotFound`, ...).
    NotFound,
    /// The service throttled the calls (`SlowDown`, `Throttling`, HTTP 429, ...).
    Throttling,
    /// An S3 bucket answered from another region (`PermanentRedirect`, HTTP 301, ...).
    WrongRegion,
    /// Anything else: the code and server message are in the cause.
    Other,
}

/// Error codes AWS services use for throttling (as the SDK's retry classifier lists them).
const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "RequestThrottled",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
];

/// Sorts an SDK error into a [`FailureKind`].
pub fn classify<E>(e: &SdkError<E, HttpResponse>) -> FailureKind
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let responded = matches!(e, SdkError::ServiceError(_) | SdkError::ResponseError(_));
    if !responded && lacks_credentials(e) {
        return FailureKind::NoCredentials;
    }
    match e {
        SdkError::DispatchFailure(_) => return FailureKind::Unreachable,
        SdkError::TimeoutError(_) => return FailureKind::Timeout,
        SdkError::ConstructionFailure(_) => return FailureKind::Other,
        _ => {}
    }
    let status = e.raw_response().map(|r| r.status().as_u16());
    let code = e.code().unwrap_or("");
    if matches!(code, "PermanentRedirect" | "AuthorizationHeaderMalformed") || status == Some(301) {
        FailureKind::WrongRegion
    } else if THROTTLING.contains(&code) || status == Some(429) {
        FailureKind::Throttling
    } else if matches!(code, "AccessDenied" | "AccessDeniedException") || status == Some(403) {
        let message = e.message().unwrap_or("").to_ascii_lowercase();
        if message.contains("object lock") {
            FailureKind::Retained
        } else {
            FailureKind::AccessDenied
        }
    } else if code.starts_with("NoSuch")
        || code.ends_with("NotFound")
        || code.ends_with("NotFoundFault")
        || status == Some(404)
    {
        FailureKind::NotFound
    } else {
        FailureKind::Other
    }
}

/// A credentials error anywhere in the chain, or text that says so (providers that wrap it).
fn lacks_credentials(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        if c.downcast_ref::<CredentialsError>().is_some() {
            return true;
        }
        cause = c.source();
    }
    let text = DisplayErrorContext(e).to_string().to_ascii_lowercase();
    text.contains("credential") || text.contains("no providers")
}

/// A failed AWS call, kept whole as the cause of a firedrill [`Error`].
///
/// Displays as one line with the whole story: the code, server message and HTTP status of a
/// service error, or the chain of a transport failure. The SDK error itself is kept typed
/// ([`AwsError::sdk`]) rather than offered as `source()`: its own text ("service error",
/// "dispatch failure") says less than this line already does.
#[derive(Debug)]
pub struct AwsError {
    kind: FailureKind,
    code: Option<String>,
    message: Option<String>,
    status: Option<u16>,
    detail: String,
    sdk: Box<dyn std::error::Error + Send + Sync>,
}

impl AwsError {
    pub fn new<E>(e: SdkError<E, HttpResponse>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let kind = classify(&e);
        let status = e.raw_response().map(|r| r.status().as_u16());
        let code = e.code().map(str::to_string);
        let message = e.message().map(str::to_string);
        let detail = match &e {
            SdkError::ServiceError(_) => format!(
                "{}: {} (HTTP {})",
                code.as_deref().unwrap_or(""),
                message.as_deref().unwrap_or(""),
                status.unwrap_or(0)
            ),
            other => DisplayErrorContext(other).to_string(),
        };
        Self {
            kind,
            code,
            message,
            status,
            detail,
            sdk: Box::new(e),
        }
    }

    pub fn kind(&self) -> FailureKind {
        self.kind
    }

    /// The service's error code (`NoSuchBucket`, `DBSnapshotNotFound`, ...), when it answered.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// The HTTP status, when the service answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The SDK error (an `SdkError<OperationError, HttpResponse>`), for downcasting.
    pub fn sdk(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        self.sdk.as_ref()
    }

    /// The code, or else the HTTP status, or else nothing.
    fn code_or_status(&self) -> String {
        match (&self.code, self.status) {
            (Some(c), _) if !c.is_empty() => c.clone(),
            (_, Some(s)) => s.to_string(),
            _ => String::new(),
        }
    }
}

impl fmt::Display for AwsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

impl std::error::Error for AwsError {}

/// What a failed call was about: the object and the settings its message names.
#[derive(Debug, Clone, Copy)]
pub enum Subject<'a> {
    /// A call on an S3 destination: `op` is the verb ("read", "list versions of"), `key` the
    /// full object key (empty for calls on the bucket).
    S3 {
        op: &'a str,
        key: &'a str,
        bucket: &'a str,
        region: &'a str,
        endpoint: Option<&'a str>,
        destination: &'a str,
    },
    /// An RDS call: `what` names the operation and the object ("cannot find DB instance `db`").
    Rds { what: &'a str, region: &'a str },
}

/// The firedrill error for a failed AWS call: message naming the subject, the fix as hint,
/// and the SDK error as the cause ([`AwsError`]).
pub fn error<E>(subject: Subject<'_>, e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let cause = AwsError::new(e);
    let (message, hint) = match subject {
        Subject::S3 {
            op,
            key,
            bucket,
            region,
            endpoint,
            destination,
        } => {
            let place = format!("bucket `{bucket}` in `{region}`");
            let what = if key.is_empty() {
                format!("cannot {op} in {place}")
            } else {
                format!("cannot {op} `{key}` in {place}")
            };
            s3_text(&cause, &what, &place, region, endpoint, destination)
        }
        Subject::Rds { what, region } => rds_text(&cause, &format!("{what} in `{region}`")),
    };
    let kind = match cause.kind {
        FailureKind::Retained => ErrorKind::Retained,
        _ => ErrorKind::Storage,
    };
    Error::new(kind, message).hint(hint).caused_by(cause)
}

/// [`error`] for an RDS call: `what` names the operation and object ("cannot find DB instance
/// `db`"), `region` where it ran.
pub fn rds_error<E>(what: &str, region: &str, e: SdkError<E, HttpResponse>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    error(Subject::Rds { what, region }, e)
}

/// Message and fix for an S3 destination's failure; `what` is "cannot OP `KEY` in PLACE".
fn s3_text(
    e: &AwsError,
    what: &str,
    place: &str,
    region: &str,
    endpoint: Option<&str>,
    dest: &str,
) -> (String, String) {
    match e.kind {
        FailureKind::NoCredentials => (
            format!("{what}: no AWS credentials found"),
            "set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run where an IAM role (IRSA, instance profile) applies".to_string(),
        ),
        FailureKind::Unreachable => {
            let ep = endpoint.map_or_else(|| format!("S3 in {region}"), str::to_string);
            (
                format!("{what}: the endpoint {ep} is unreachable"),
                format!("check the network and destination.{dest}.endpoint"),
            )
        }
        FailureKind::Timeout => (
            format!("{what}: timed out after retries"),
            "check the network; the store may be overloaded".to_string(),
        ),
        FailureKind::NotFound if e.code() == Some("NoSuchBucket") => (
            format!("{place} not found"),
            format!("create it or fix destination.{dest}.url / destination.{dest}.region"),
        ),
        FailureKind::WrongRegion => (
            format!("{what}: the bucket is in another region than `{region}`"),
            format!("set destination.{dest}.region to the bucket's region"),
        ),
        FailureKind::Retained => (
            format!("{what}: it is under Object Lock retention"),
            "firedrill never bypasses retention: the object can be deleted once its retention period ends".to_string(),
        ),
        FailureKind::AccessDenied => (
            format!("{what}: access denied"),
            "grant the credentials s3:GetObject, s3:PutObject, s3:ListBucket, s3:DeleteObject and s3:AbortMultipartUpload on it".to_string(),
        ),
        FailureKind::NotFound => (
            format!("{what}: not found"),
            "run `firedrill list SPEC` to see what is there".to_string(),
        ),
        FailureKind::Throttling | FailureKind::Other => (
            format!("{what}: {}", e.code_or_status()),
            "see the cause below".to_string(),
        ),
    }
}

/// Message and fix for an RDS call's failure; `what` is "cannot OP OBJECT in `REGION`".
fn rds_text(e: &AwsError, what: &str) -> (String, String) {
    let code = e
        .code
        .clone()
        .or_else(|| e.status.map(|s| format!("HTTP {s}")))
        .unwrap_or_default();
    let message = e.message.clone().unwrap_or_default();
    match e.kind {
        FailureKind::NoCredentials => (
            format!("{what}: no AWS credentials found"),
            "set AWS credentials (environment, profile, IRSA or instance role)".to_string(),
        ),
        FailureKind::Unreachable | FailureKind::Timeout => (
            format!("{what}: the RDS endpoint is unreachable"),
            "check the network (and source.endpoint / scratch endpoint)".to_string(),
        ),
        FailureKind::NotFound => (
            format!(
                "{what}: {}",
                if message.is_empty() { &code } else { &message }
            ),
            "check the identifier and the region".to_string(),
        ),
        _ if code.contains("QuotaExceeded") => (
            format!("{what}: quota exceeded ({code})"),
            "raise the RDS quota or remove old snapshots/instances".to_string(),
        ),
        FailureKind::AccessDenied
            if matches!(code.as_str(), "AccessDenied" | "AccessDeniedException") =>
        {
            (
                format!("{what}: access denied"),
                "grant the permissions listed in README (RDS drills)".to_string(),
            )
        }
        _ => (
            format!("{what}: {code} {message}"),
            "see the cause below".to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_sdk_rds::operation::describe_db_instances::DescribeDBInstancesError;
    use aws_sdk_rds::types::error::DbInstanceNotFoundFault;
    use aws_sdk_s3::operation::get_object::GetObjectError;
    use aws_smithy_runtime_api::client::result::{ConnectorError, SdkError};
    use aws_smithy_runtime_api::http::{Response as HttpResponse, StatusCode};
    use aws_smithy_types::body::SdkBody;
    use aws_smithy_types::error::ErrorMetadata;

    use super::*;

    type S3Err = SdkError<GetObjectError, HttpResponse>;
    type RdsErr = SdkError<DescribeDBInstancesError, HttpResponse>;

    fn response(status: u16) -> HttpResponse {
        HttpResponse::new(StatusCode::try_from(status).unwrap(), SdkBody::empty())
    }

    fn meta(code: &str, message: &str) -> ErrorMetadata {
        ErrorMetadata::builder().code(code).message(message).build()
    }

    /// A service error with a code, as S3 answers it.
    fn s3_service(status: u16, code: &str, message: &str) -> S3Err {
        SdkError::service_error(
            GetObjectError::generic(meta(code, message)),
            response(status),
        )
    }

    fn rds_service(status: u16, code: &str, message: &str) -> RdsErr {
        SdkError::service_error(
            DescribeDBInstancesError::generic(meta(code, message)),
            response(status),
        )
    }

    fn no_credentials<E>() -> SdkError<E, HttpResponse> {
        let source = CredentialsError::not_loaded("no providers in chain provided credentials");
        SdkError::dispatch_failure(ConnectorError::other(Box::new(source), None))
    }

    fn refused<E>() -> SdkError<E, HttpResponse> {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "connection refused");
        SdkError::dispatch_failure(ConnectorError::io(Box::new(io)))
    }

    fn s3(e: S3Err, endpoint: Option<&str>) -> Error {
        let subject = Subject::S3 {
            op: "read",
            key: "fd/db/manifest.json",
            bucket: "fd-primary",
            region: "eu-west-1",
            endpoint,
            destination: "primary",
        };
        error(subject, e)
    }

    fn rds(e: RdsErr) -> Error {
        rds_error("cannot find DB instance `db1`", "us-east-1", e)
    }

    fn hint(e: &Error) -> &str {
        e.hint.as_deref().unwrap_or_default()
    }

    const S3_WHAT: &str = "cannot read `fd/db/manifest.json` in bucket `fd-primary` in `eu-west-1`";
    const RDS_WHAT: &str = "cannot find DB instance `db1` in `us-east-1`";

    #[test]
    fn missing_credentials_name_the_object_and_the_ways_to_provide_them() {
        assert_eq!(
            classify(&no_credentials::<GetObjectError>()),
            FailureKind::NoCredentials
        );
        let e = s3(no_credentials(), None);
        assert_eq!(e.kind, crate::ErrorKind::Storage);
        assert_eq!(e.message, format!("{S3_WHAT}: no AWS credentials found"));
        assert!(hint(&e).contains("AWS_PROFILE"), "{}", e.render());
        let e = rds(no_credentials());
        assert_eq!(e.message, format!("{RDS_WHAT}: no AWS credentials found"));
        assert!(hint(&e).contains("IRSA"), "{}", e.render());
    }

    #[test]
    fn credentials_named_only_in_text_count_too() {
        let e: S3Err = SdkError::construction_failure("failed to load credentials: expired");
        assert_eq!(classify(&e), FailureKind::NoCredentials);
    }

    #[test]
    fn an_unreachable_endpoint_is_named_with_the_setting_to_check() {
        assert_eq!(
            classify(&refused::<GetObjectError>()),
            FailureKind::Unreachable
        );
        let e = s3(refused(), Some("http://127.0.0.1:1"));
        assert_eq!(
            e.message,
            format!("{S3_WHAT}: the endpoint http://127.0.0.1:1 is unreachable")
        );
        assert_eq!(
            hint(&e),
            "check the network and destination.primary.endpoint"
        );
        let e = s3(refused(), None);
        assert!(e
            .message
            .ends_with("the endpoint S3 in eu-west-1 is unreachable"));
        assert!(e.render().contains("connection refused"), "{}", e.render());
        let e = rds(refused());
        assert_eq!(
            e.message,
            format!("{RDS_WHAT}: the RDS endpoint is unreachable")
        );
        assert!(hint(&e).contains("source.endpoint"));
    }

    #[test]
    fn a_timeout_says_so_and_blames_the_network() {
        let t: S3Err = SdkError::timeout_error("operation timeout (all attempts) after 600s");
        assert_eq!(classify(&t), FailureKind::Timeout);
        let e = s3(t, None);
        assert_eq!(e.message, format!("{S3_WHAT}: timed out after retries"));
        assert!(hint(&e).contains("check the network"));
        let e = rds(SdkError::timeout_error("deadline"));
        assert_eq!(
            e.message,
            format!("{RDS_WHAT}: the RDS endpoint is unreachable")
        );
    }

    #[test]
    fn access_denied_names_the_permissions() {
        let d = s3_service(403, "AccessDenied", "Access Denied");
        assert_eq!(classify(&d), FailureKind::AccessDenied);
        let e = s3(d, None);
        assert_eq!(e.message, format!("{S3_WHAT}: access denied"));
        assert!(hint(&e).contains("s3:GetObject"), "{}", e.render());
        let e = rds(rds_service(403, "AccessDenied", "not authorized"));
        assert_eq!(e.message, format!("{RDS_WHAT}: access denied"));
        assert!(hint(&e).contains("README"));
        // A 403 without a code is still denied.
        assert_eq!(
            classify(&s3_service(403, "", "")),
            FailureKind::AccessDenied
        );
    }

    #[test]
    fn a_denial_by_object_lock_is_retention_not_permissions() {
        let d = s3_service(403, "AccessDenied", "forbidden by object lock");
        assert_eq!(classify(&d), FailureKind::Retained);
        let e = s3(d, None);
        assert_eq!(e.kind, ErrorKind::Retained);
        assert_eq!(
            e.message,
            format!("{S3_WHAT}: it is under Object Lock retention")
        );
        assert!(hint(&e).contains("never bypasses retention"));
    }

    #[test]
    fn a_missing_bucket_names_the_bucket_and_the_settings_to_fix() {
        let m = s3_service(404, "NoSuchBucket", "The specified bucket does not exist");
        assert_eq!(classify(&m), FailureKind::NotFound);
        let e = s3(m, None);
        assert_eq!(e.message, "bucket `fd-primary` in `eu-west-1` not found");
        assert_eq!(
            hint(&e),
            "create it or fix destination.primary.url / destination.primary.region"
        );
    }

    #[test]
    fn a_missing_object_points_at_list() {
        let e = s3(
            s3_service(404, "NoSuchKey", "The specified key does not exist."),
            None,
        );
        assert_eq!(e.message, format!("{S3_WHAT}: not found"));
        assert!(hint(&e).contains("firedrill list"));
        // HEAD answers a bare 404.
        assert_eq!(classify(&s3_service(404, "", "")), FailureKind::NotFound);
    }

    #[test]
    fn a_missing_db_instance_quotes_the_service() {
        let fault = DbInstanceNotFoundFault::builder()
            .message("DBInstance db1 not found.")
            .meta(meta("DBInstanceNotFound", "DBInstance db1 not found."))
            .build();
        let modeled: RdsErr = SdkError::service_error(
            DescribeDBInstancesError::DbInstanceNotFoundFault(fault),
            response(404),
        );
        assert_eq!(classify(&modeled), FailureKind::NotFound);
        let e = rds(modeled);
        assert_eq!(e.message, format!("{RDS_WHAT}: DBInstance db1 not found."));
        assert_eq!(hint(&e), "check the identifier and the region");
        let e = rds(rds_service(400, "DBSnapshotNotFoundFault", ""));
        assert_eq!(e.message, format!("{RDS_WHAT}: DBSnapshotNotFoundFault"));
    }

    #[test]
    fn throttling_is_its_own_kind_and_keeps_the_code_in_the_message() {
        let slow = s3_service(503, "SlowDown", "Please reduce your request rate.");
        assert_eq!(classify(&slow), FailureKind::Throttling);
        let e = s3(slow, None);
        assert_eq!(e.message, format!("{S3_WHAT}: SlowDown"));
        assert_eq!(hint(&e), "see the cause below");
        let t = rds_service(400, "Throttling", "Rate exceeded");
        assert_eq!(classify(&t), FailureKind::Throttling);
        assert_eq!(
            rds(t).message,
            format!("{RDS_WHAT}: Throttling Rate exceeded")
        );
        assert_eq!(classify(&s3_service(429, "", "")), FailureKind::Throttling);
    }

    #[test]
    fn a_bucket_in_another_region_names_the_region_setting() {
        let r = s3_service(301, "PermanentRedirect", "use the eu-central-1 endpoint");
        assert_eq!(classify(&r), FailureKind::WrongRegion);
        let e = s3(r, None);
        assert_eq!(
            e.message,
            format!("{S3_WHAT}: the bucket is in another region than `eu-west-1`")
        );
        assert_eq!(
            hint(&e),
            "set destination.primary.region to the bucket's region"
        );
    }

    #[test]
    fn an_rds_quota_says_which() {
        let q = rds_service(400, "SnapshotQuotaExceeded", "too many snapshots");
        assert_eq!(classify(&q), FailureKind::Other);
        let e = rds(q);
        assert_eq!(
            e.message,
            format!("{RDS_WHAT}: quota exceeded (SnapshotQuotaExceeded)")
        );
        assert!(hint(&e).contains("raise the RDS quota"));
    }

    #[test]
    fn other_errors_keep_the_code_in_the_message_and_the_rest_in_the_cause() {
        let o = s3_service(400, "InvalidRequest", "bad checksum");
        assert_eq!(classify(&o), FailureKind::Other);
        let e = s3(o, None);
        assert_eq!(e.message, format!("{S3_WHAT}: InvalidRequest"));
        assert_eq!(
            e.render(),
            format!(
                "{S3_WHAT}: InvalidRequest\n  caused by: InvalidRequest: bad checksum (HTTP 400)\n  fix: see the cause below"
            )
        );
        let c: S3Err = SdkError::construction_failure("invalid bucket name");
        assert_eq!(classify(&c), FailureKind::Other);
        let e = rds(rds_service(400, "InvalidParameterValue", "bad class"));
        assert_eq!(
            e.message,
            format!("{RDS_WHAT}: InvalidParameterValue bad class")
        );
    }

    #[test]
    fn the_sdk_error_stays_the_typed_cause() {
        let e = s3(s3_service(404, "NoSuchBucket", "gone"), None);
        let cause = std::error::Error::source(&e).expect("a cause");
        let aws = cause.downcast_ref::<AwsError>().expect("an AwsError");
        assert_eq!(aws.kind(), FailureKind::NotFound);
        assert_eq!(aws.code(), Some("NoSuchBucket"));
        assert_eq!(aws.status(), Some(404));
        let sdk = aws.sdk().downcast_ref::<S3Err>().expect("the SDK error");
        assert_eq!(sdk.code(), Some("NoSuchBucket"));
        assert_eq!(aws.to_string(), "NoSuchBucket: gone (HTTP 404)");
    }
}

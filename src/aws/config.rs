//! SDK client construction: the shared config (default credential chain, the region) and the
//! service clients built from it.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The HTTP(S) client of every AWS call, credential providers included: rustls with ring and
/// the system's trusted roots.
fn https_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The region and, for emulators and VPC endpoints, the endpoint of an AWS client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    region: String,
    endpoint: Option<String>,
}

impl ClientConfig {
    pub fn new(region: &str, endpoint: Option<&str>) -> Self {
        Self {
            region: region.to_string(),
            endpoint: endpoint.map(str::to_string),
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn endpoint(&self) -> Option<&str> {
        self.endpoint.as_deref()
    }

    /// The shared SDK config: the default credential chain and this region. The endpoint is
    /// set per service client (it must not reach the credential providers' own clients).
    pub async fn load(&self) -> SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(self.region.clone()))
            .http_client(https_client())
            .load()
            .await
    }

    /// An S3 client: standard retries with backoff, per-attempt and per-operation deadlines,
    /// and path-style addressing through an explicit endpoint. Contacts nothing.
    pub async fn s3(&self) -> aws_sdk_s3::Client {
        let shared = self.load().await;
        let mut conf = aws_sdk_s3::config::Builder::from(&shared)
            .retry_config(s3_retries())
            .timeout_config(s3_timeouts());
        if let Some(ep) = &self.endpoint {
            conf = conf.endpoint_url(ep).force_path_style(true);
        }
        aws_sdk_s3::Client::from_conf(conf.build())
    }

    /// An RDS client with the SDK's default retries and timeouts. Contacts nothing.
    pub async fn rds(&self) -> aws_sdk_rds::Client {
        let shared = self.load().await;
        let mut conf = aws_sdk_rds::config::Builder::from(&shared);
        if let Some(ep) = &self.endpoint {
            conf = conf.endpoint_url(ep);
        }
        aws_sdk_rds::Client::from_conf(conf.build())
    }
}

/// Transient S3 faults are retried (standard mode) with backoff from 200 ms up to 5 s.
fn s3_retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(6)
        .with_initial_backoff(Duration::from_millis(200))
        .with_max_backoff(Duration::from_secs(5))
}

/// Deadlines of every S3 call: connecting, each attempt, the whole operation with retries.
fn s3_timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_attempt_timeout(Duration::from_secs(120))
        .operation_timeout(Duration::from_secs(600))
        .build()
}

/// An S3 client for `region`, through `endpoint` when given (LocalStack, MinIO).
pub async fn s3_client(region: &str, endpoint: Option<&str>) -> aws_sdk_s3::Client {
    ClientConfig::new(region, endpoint).s3().await
}

/// An RDS client for `region`, through `endpoint` when given (moto, VPC endpoints).
pub async fn rds_client(region: &str, endpoint: Option<&str>) -> aws_sdk_rds::Client {
    ClientConfig::new(region, endpoint).rds().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn s3_clients_carry_the_region_retries_and_deadlines() {
        let c = s3_client("eu-west-1", Some("http://127.0.0.1:4566")).await;
        let conf = c.config();
        assert_eq!(conf.region().map(|r| r.as_ref()), Some("eu-west-1"));
        assert_eq!(conf.retry_config().map(|r| r.max_attempts()), Some(6));
        let t = conf.timeout_config().unwrap();
        assert_eq!(t.connect_timeout(), Some(Duration::from_secs(5)));
        assert_eq!(t.operation_timeout(), Some(Duration::from_secs(600)));
    }

    #[tokio::test]
    async fn rds_clients_carry_the_region() {
        let c = rds_client("us-east-1", None).await;
        assert_eq!(c.config().region().map(|r| r.as_ref()), Some("us-east-1"));
        let conf = ClientConfig::new("us-east-1", Some("http://127.0.0.1:5055"));
        assert_eq!(conf.endpoint(), Some("http://127.0.0.1:5055"));
        assert_eq!(conf.region(), "us-east-1");
    }
}

//! One HTTP client for webhooks and the Pushgateway: bounded time, a few retries on
//! transient failures, and error messages that never carry the URL (it may hold a token).

use std::time::Duration;

use reqwest::StatusCode;

const ATTEMPTS: u32 = 3;
const TIMEOUT: Duration = Duration::from_secs(10);

fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("firedrill/", env!("CARGO_PKG_VERSION")))
        .build()
}

fn transient(status: StatusCode) -> bool {
    status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS
}

/// Sends `body` with `method` and `content_type`; retries connection errors, 5xx and 429.
/// The error names `what` (e.g. "webhook from $SLACK_URL"), never the URL.
pub async fn send(
    method: reqwest::Method,
    url: &str,
    content_type: &str,
    body: Vec<u8>,
    what: &str,
) -> Result<(), String> {
    let client = client().map_err(|e| format!("{what}: {}", e.without_url()))?;
    let mut last = String::new();
    for attempt in 1..=ATTEMPTS {
        let sent = client
            .request(method.clone(), url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(body.clone())
            .send()
            .await;
        match sent {
            Ok(resp) if resp.status().is_success() => return Ok(()),
            Ok(resp) => {
                let status = resp.status();
                let text = resp.text().await.unwrap_or_default();
                let text: String = text.chars().take(200).collect();
                last = format!("{what} answered HTTP {status}: {}", text.trim());
                if !transient(status) {
                    return Err(last);
                }
            }
            Err(e) => last = format!("{what} unreachable: {}", e.without_url()),
        }
        if attempt < ATTEMPTS {
            tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
        }
    }
    Err(format!("{last} (after {ATTEMPTS} attempts)"))
}

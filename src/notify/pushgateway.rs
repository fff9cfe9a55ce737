//! Pushes a drill's series to a Prometheus Pushgateway: `POST /metrics/job/firedrill/drill/<name>`.
//! POST replaces only the metrics named in the push, so a failed drill keeps the group's last
//! success time, as the textfile does.

use super::metrics::{self, Series};

/// The group URL of `drill` under `base` (a path prefix in `base` is kept).
pub fn group_url(base: &url::Url, drill: &str) -> String {
    // Drill names are letters, digits, `_` and `-` (validated), safe in a path segment.
    format!(
        "{}/metrics/job/firedrill/drill/{drill}",
        base.as_str().trim_end_matches('/')
    )
}

/// Pushes `series` of `drill`.
///
/// # Errors
/// A message naming the Pushgateway (its URL without credentials) and what it answered.
pub async fn push(base: &url::Url, drill: &str, series: &Series) -> Result<(), String> {
    let body = metrics::render(&metrics::samples(drill, series));
    let what = format!(
        "Pushgateway `{}`",
        crate::pg::conn::redact_url(base.as_str())
    );
    super::http::send(
        reqwest::Method::POST,
        &group_url(base, drill),
        "text/plain; version=0.0.4",
        body.into_bytes(),
        &what,
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_url_keeps_a_path_prefix() {
        let base = url::Url::parse("http://gw:9091/prefix/").unwrap();
        assert_eq!(
            group_url(&base, "orders"),
            "http://gw:9091/prefix/metrics/job/firedrill/drill/orders"
        );
        let base = url::Url::parse("http://gw:9091").unwrap();
        assert_eq!(
            group_url(&base, "a-b"),
            "http://gw:9091/metrics/job/firedrill/drill/a-b"
        );
    }
}

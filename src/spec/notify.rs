//! `[metrics] pushgateway` and `[[notify.webhook]]`: where finished runs are told.
//! Webhook URLs carry their secret in the path (Slack, Teams), so the spec only names the
//! environment variable that holds one.

use secrecy::SecretString;

use super::raw::RawWebhook;
use super::Problems;

/// When a webhook is called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyOn {
    /// Failed checks or targets, runs that could not run, aborted runs, missing copies.
    Failure,
    /// Every finished backup and drill.
    Always,
}

/// The body sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookFormat {
    /// The documented event object (README, "Notifications").
    Json,
    /// `{"text": ..., "blocks": [...]}` as Slack incoming webhooks (and Mattermost) take it.
    Slack,
}

#[derive(Debug, Clone)]
pub struct Webhook {
    /// The environment variable the URL came from (named in logs instead of the URL).
    pub url_env: String,
    pub url: SecretString,
    pub on: NotifyOn,
    pub format: WebhookFormat,
}

pub(super) fn webhooks(
    raw: Vec<RawWebhook>,
    env: &dyn Fn(&str) -> Option<String>,
    p: &mut Problems,
) -> Vec<Webhook> {
    let mut out = Vec::new();
    for (i, w) in raw.into_iter().enumerate() {
        let key = format!("notify.webhook[{i}]");
        if w.url.is_some() {
            p.push(
                &format!("{key}.url"),
                "a webhook URL is a secret and does not belong in the spec",
                "put it in an environment variable and name that: url-env = \"FIREDRILL_WEBHOOK_URL\"",
            );
        }
        let on = match w.on.as_deref() {
            None | Some("failure") => NotifyOn::Failure,
            Some("always") => NotifyOn::Always,
            Some(other) => {
                p.push(
                    &format!("{key}.on"),
                    format!("`{other}` is not a notification condition"),
                    "use \"failure\" (the default) or \"always\"",
                );
                NotifyOn::Failure
            }
        };
        let format = match w.format.as_deref() {
            None | Some("json") => WebhookFormat::Json,
            Some("slack") => WebhookFormat::Slack,
            Some(other) => {
                p.push(
                    &format!("{key}.format"),
                    format!("`{other}` is not a webhook format"),
                    "use \"json\" (the documented event) or \"slack\"",
                );
                WebhookFormat::Json
            }
        };
        let Some(var) = w.url_env.filter(|v| !v.is_empty()) else {
            if w.url.is_none() {
                p.push(
                    &format!("{key}.url-env"),
                    "missing",
                    "name the environment variable holding the URL: url-env = \"FIREDRILL_WEBHOOK_URL\"",
                );
            }
            continue;
        };
        let Some(value) = env(&var).filter(|v| !v.is_empty()) else {
            p.push(
                &format!("{key}.url-env"),
                format!("environment variable `{var}` is not set"),
                format!("export {var}=https://... before running firedrill"),
            );
            continue;
        };
        match url::Url::parse(&value) {
            Ok(u) if matches!(u.scheme(), "http" | "https") => {}
            _ => {
                // The value is not echoed: it may be a secret pasted into the wrong variable.
                p.push(
                    &format!("{key}.url-env"),
                    format!("environment variable `{var}` does not hold an http(s) URL"),
                    format!("set {var} to the webhook's https:// URL"),
                );
                continue;
            }
        }
        out.push(Webhook {
            url_env: var,
            url: SecretString::from(value),
            on,
            format,
        });
    }
    out
}

/// Parses `metrics.pushgateway` (an http(s) base URL; a path prefix is kept).
pub(super) fn pushgateway(raw: Option<String>, p: &mut Problems) -> Option<url::Url> {
    let text = raw.filter(|s| !s.is_empty())?;
    match url::Url::parse(&text) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u),
        _ => {
            p.push(
                "metrics.pushgateway",
                format!(
                    "`{}` is not an http(s) URL",
                    crate::pg::conn::redact_url(&text)
                ),
                "use the Pushgateway's base URL, e.g. \"http://pushgateway:9091\"",
            );
            None
        }
    }
}

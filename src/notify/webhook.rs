//! Webhooks: the event as JSON (documented in the README) or as a Slack-compatible message.

use secrecy::ExposeSecret;
use serde_json::json;

use super::event::Event;
use crate::spec::{NotifyOn, Webhook, WebhookFormat};

/// Whether `hook` wants `event`.
pub fn wants(hook: &Webhook, event: &Event) -> bool {
    hook.on == NotifyOn::Always || !event.ok
}

/// The body for `format`.
pub fn body(format: WebhookFormat, event: &Event) -> serde_json::Value {
    match format {
        WebhookFormat::Json => serde_json::to_value(event).expect("serialisable"),
        WebhookFormat::Slack => slack(event),
    }
}

fn slack(e: &Event) -> serde_json::Value {
    let mark = if e.ok { ":white_check_mark:" } else { ":x:" };
    let headline = format!("{mark} *firedrill* {}", e.summary);
    let mut fields = vec![
        json!({"type": "mrkdwn", "text": format!("*Drill*\n{}", e.drill)}),
        json!({"type": "mrkdwn", "text": format!("*Status*\n{} (exit {})", e.status, e.exit_code)}),
    ];
    if let Some(id) = &e.backup_id {
        fields.push(json!({"type": "mrkdwn", "text": format!("*Backup*\n{id}")}));
    }
    if let Some(rpo) = e.rpo_seconds {
        let target = e
            .rpo_target_seconds
            .map(|t| format!(" (target {t:.0} s)"))
            .unwrap_or_default();
        fields.push(json!({"type": "mrkdwn", "text": format!("*RPO*\n{rpo:.0} s{target}")}));
    }
    let mut blocks = vec![
        json!({"type": "section", "text": {"type": "mrkdwn", "text": headline}}),
        json!({"type": "section", "fields": fields}),
    ];
    if let Some(reason) = &e.reason {
        let reason: String = reason.chars().take(2500).collect();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": format!("*Reason*\n```{reason}```")}}));
    }
    let mut context = format!(
        "{} on {} ({}), {}",
        e.operation,
        e.host,
        e.trigger,
        e.finished_at.to_rfc3339()
    );
    if let Some(r) = &e.report {
        context.push_str(&format!(" · report {r}"));
    }
    blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]}));
    json!({ "text": format!("firedrill: {}", e.summary), "blocks": blocks })
}

/// Sends `event` to `hook`.
///
/// # Errors
/// A message naming the webhook by its environment variable (never its URL).
pub async fn send(hook: &Webhook, event: &Event) -> Result<(), String> {
    let body = serde_json::to_vec(&body(hook.format, event)).expect("serialisable");
    super::http::send(
        reqwest::Method::POST,
        hook.url.expose_secret(),
        "application/json",
        body,
        &format!("webhook from ${}", hook.url_env),
    )
    .await
}

//! Words shared by the renderers of drill reports and of the compliance summary.

use chrono::{DateTime, Utc};

use super::Verdict;

/// A moment for people: to the millisecond, with its zone (`2026-12-01 17:59:43.191 UTC`).
/// JSON keeps full RFC 3339.
pub(crate) fn human_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()
}

/// Text with Markdown code spans (`` `x` ``) as HTML: escaped, each span in `<code>`. An
/// unpaired backtick stays as it is.
pub(crate) fn html_code_spans(s: &str) -> String {
    let parts: Vec<&str> = s.split('`').collect();
    let mut out = String::with_capacity(s.len());
    for (i, part) in parts.iter().enumerate() {
        let escaped = esc(part);
        let last_unpaired = i == parts.len() - 1 && i % 2 == 1;
        if last_unpaired {
            out.push('`');
            out.push_str(&escaped);
        } else if i % 2 == 1 {
            out.push_str(&format!("<code>{escaped}</code>"));
        } else {
            out.push_str(&escaped);
        }
    }
    out
}

/// A duration for people: seconds, minutes or hours.
pub(crate) fn human_seconds(s: f64) -> String {
    if s >= 3600.0 {
        format!("{:.1} h", s / 3600.0)
    } else if s >= 60.0 {
        format!("{:.1} min", s / 60.0)
    } else {
        format!("{s:.2} s")
    }
}

/// `met`, `MISSED` or `no target`.
pub(crate) fn target_word(pass: Option<bool>) -> &'static str {
    match pass {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "no target",
    }
}

/// `PASSED`, `FAILED`, `COULD NOT RUN` or `ABORTED`.
pub(crate) fn verdict_word(v: Verdict) -> &'static str {
    match v {
        Verdict::Passed => "PASSED",
        Verdict::Failed => "FAILED",
        Verdict::Error => "COULD NOT RUN",
        Verdict::Aborted => "ABORTED",
    }
}

/// A Markdown table cell: pipes escaped, on one line.
pub(crate) fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Text made safe inside HTML elements and attributes.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_to_the_millisecond_with_their_zone() {
        let t = DateTime::parse_from_rfc3339("2026-12-01T17:59:43.191234Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(human_time(t), "2026-12-01 17:59:43.191 UTC");
    }

    #[test]
    fn code_spans_become_code_elements() {
        assert_eq!(
            html_code_spans("removed `/tmp/a<b>` and `x`"),
            "removed <code>/tmp/a&lt;b&gt;</code> and <code>x</code>"
        );
        assert_eq!(html_code_spans("a ` b"), "a ` b");
        assert_eq!(html_code_spans("plain"), "plain");
    }
}

//! `[heartbeat]`: how often `firedrill heartbeat SPEC` writes into the source. Only for
//! sources firedrill connects to itself (`source.url`).

use std::time::Duration;

use secrecy::ExposeSecret;

use super::duration;
use crate::spec::raw::RawHeartbeat;
use crate::spec::{HeartbeatSpec, Problems, SourceMethod, SourceSpec};

/// The interval when `[heartbeat]` gives none.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(10);

/// The shortest and longest interval taken.
const SHORTEST: Duration = Duration::from_secs(1);
const LONGEST: Duration = Duration::from_secs(3600);

pub(super) fn heartbeat(
    raw: Option<RawHeartbeat>,
    source: &SourceSpec,
    p: &mut Problems,
) -> Option<HeartbeatSpec> {
    let raw = raw?;
    let interval = duration(raw.interval, "heartbeat.interval", p).unwrap_or(DEFAULT_INTERVAL);
    if !(SHORTEST..=LONGEST).contains(&interval) {
        p.push(
            "heartbeat.interval",
            format!("`{}` is out of range", humantime::format_duration(interval)),
            "write an interval from \"1s\" to \"1h\", e.g. \"10s\"",
        );
    }
    if let SourceMethod::Rds(r) = &source.method {
        if source.url.expose_secret().is_empty() {
            p.push(
                "heartbeat",
                format!(
                    "the heartbeat is written into the source, and this rds source (instance `{}`) has no url firedrill can connect to",
                    r.instance
                ),
                "add url = \"postgres://user@<instance endpoint>:5432/<database>\" to [source], or remove [heartbeat]",
            );
        }
    }
    Some(HeartbeatSpec { interval })
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::spec::parse;

    fn spec(source: &str, heartbeat: &str) -> String {
        format!(
            r#"
            name = "x"
            [source]
            {source}
            [[destination]]
            name = "dr"
            url = "file:///x"
            {heartbeat}
            "#
        )
    }

    fn parse_it(text: &str) -> crate::Result<crate::spec::DrillSpec> {
        parse(text, Path::new("t.toml"), &[], &|_| None)
    }

    #[test]
    fn absent_is_off_present_takes_an_interval() {
        let pg = "url = \"postgres://u@h/db\"\n[backup]\nrecipients = [\"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\"]";
        assert!(parse_it(&spec(pg, "")).unwrap().heartbeat.is_none());
        let on = parse_it(&spec(pg, "[heartbeat]\ninterval = \"2s\""))
            .unwrap()
            .heartbeat
            .unwrap();
        assert_eq!(on.interval, std::time::Duration::from_secs(2));
        let default = parse_it(&spec(pg, "[heartbeat]"))
            .unwrap()
            .heartbeat
            .unwrap();
        assert_eq!(default.interval, super::DEFAULT_INTERVAL);
        let err = parse_it(&spec(pg, "[heartbeat]\ninterval = \"10ms\"\nevery = 3")).unwrap_err();
        assert!(
            err.message
                .contains("- heartbeat.interval: `10ms` is out of range"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("- heartbeat.every: unknown key"),
            "{}",
            err.message
        );
    }

    #[test]
    fn an_rds_source_needs_a_url_for_the_heartbeat() {
        let rds = "kind = \"rds\"\ninstance = \"db1\"\nregion = \"eu-west-1\"";
        let err = parse_it(&spec(rds, "[heartbeat]\ninterval = \"5s\"")).unwrap_err();
        assert!(
            err.message.contains(
                "- heartbeat: the heartbeat is written into the source, and this rds source (instance `db1`) has no url"
            ),
            "{}",
            err.message
        );
        assert!(err.message.contains("add url = "), "{}", err.message);
        let with_url = format!("{rds}\nurl = \"postgres://u@db1.example/app\"");
        let ok = parse_it(&spec(&with_url, "[heartbeat]\ninterval = \"5s\"")).unwrap();
        assert!(ok.heartbeat.is_some());
    }
}

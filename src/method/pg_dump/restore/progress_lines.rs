//! `pg_restore --verbose` stderr: progress lines count archive entries and are dropped;
//! everything else (errors, warnings, server notices) is kept for the error message.

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::ChildStderr;
use tokio::task::JoinHandle;

use crate::progress::Meter;

const KEEP_LINES: usize = 200;

/// Lines `pg_restore --verbose` prints while it works, and whether each is one entry done.
/// Serial and parallel restores both print one `creating ...` or `processing data ...` line
/// per entry they restore.
fn classify(line: &str) -> Option<bool> {
    let rest = line.strip_prefix("pg_restore: ")?;
    const COUNTED: [&str; 3] = ["creating ", "processing data for table ", "executing "];
    const NOISE: [&str; 12] = [
        "connecting to",
        "processing item",
        "processing missed item",
        "entering main parallel loop",
        "launching item",
        "finished item",
        "finished main parallel loop",
        "entering restore_toc_entries",
        "setting owner",
        "disabling triggers",
        "enabling triggers",
        "implied data-only restore",
    ];
    if COUNTED.iter().any(|p| rest.starts_with(p)) {
        Some(true)
    } else if NOISE.iter().any(|p| rest.starts_with(p)) {
        Some(false)
    } else {
        None
    }
}

/// Reads the child's stderr in the background, adding entries to `items`; returns the kept
/// lines (the last 200).
pub fn drain(stderr: Option<ChildStderr>, items: Meter) -> JoinHandle<String> {
    tokio::spawn(async move {
        let Some(s) = stderr else {
            return String::new();
        };
        let mut lines = BufReader::new(s).lines();
        let mut kept: std::collections::VecDeque<String> = std::collections::VecDeque::new();
        while let Ok(Some(line)) = lines.next_line().await {
            match classify(&line) {
                Some(true) => items.add(1),
                Some(false) => {}
                None => {
                    kept.push_back(line);
                    if kept.len() > KEEP_LINES {
                        kept.pop_front();
                    }
                }
            }
        }
        Vec::from(kept).join("\n").trim().to_string()
    })
}

#[cfg(test)]
mod tests {
    use super::classify;

    #[test]
    fn progress_lines_count_and_errors_stay() {
        assert_eq!(
            classify("pg_restore: creating TABLE \"public.a\""),
            Some(true)
        );
        assert_eq!(
            classify("pg_restore: processing data for table \"public.a\""),
            Some(true)
        );
        assert_eq!(
            classify("pg_restore: launching item 3350 TABLE DATA a"),
            Some(false)
        );
        assert_eq!(
            classify("pg_restore: connecting to database for restore"),
            Some(false)
        );
        assert_eq!(
            classify(
                "pg_restore: error: could not execute query: ERROR:  type \"x\" does not exist"
            ),
            None
        );
        assert_eq!(
            classify("pg_restore: warning: errors ignored on restore: 1"),
            None
        );
        assert_eq!(classify("NOTICE:  something"), None);
    }
}

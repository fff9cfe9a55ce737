//! Headless Chromium for the HTML tests: the page must be self-contained, its DOM is dumped
//! after the browser parsed it, and a screenshot proves it renders.

use std::path::Path;
use std::process::Command;

fn chromium() -> &'static str {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|c| {
            Command::new(c)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
        .expect("a headless browser is needed: apt-get install chromium (.ci/run installs it)")
}

/// Asserts `html` loads nothing from elsewhere and runs no script; returns its DOM as
/// Chromium parsed it.
pub fn dom_of(html: &Path) -> String {
    let page = std::fs::read_to_string(html).unwrap();
    assert!(
        !page.contains("http://") && !page.contains("https://") && !page.contains("<script"),
        "self-contained"
    );
    let dom = Command::new(chromium())
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    String::from_utf8_lossy(&dom.stdout).into_owned()
}

/// Renders `html` into `png` (1100 px wide, `height` tall) and asserts a real image came out.
pub fn screenshot(html: &Path, png: &Path, height: u32) {
    let out = Command::new(chromium())
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            &format!("--window-size=1100,{height}"),
        ])
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let bytes = std::fs::read(png).unwrap();
    assert!(
        bytes.starts_with(b"\x89PNG") && bytes.len() > 10_000,
        "a real screenshot"
    );
}

//! The "Cost" section of a drill report: what the drill consumed, measured for real.

use crate::support::{firedrill, text, Env, SourceDb};

/// An ephemeral drill from a folder: the bytes read are the set's stored size, the scratch
/// disk and the scratch cluster's CPU time were measured, no region is known and no money is
/// reckoned without prices; Markdown and HTML show the section.
#[tokio::test]
async fn an_ephemeral_drill_reports_bytes_disk_and_cpu() {
    let db = SourceDb::with_rows(2000).await;
    let env = Env::new();
    let builder = env.spec("costly", &db.url());
    let spec = env.write(&builder);
    let spec = spec.to_str().unwrap();
    let out = firedrill(&["backup", spec]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = firedrill(&["drill", spec, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let r = &v["report"];
    let cost = &r["cost"];
    assert_eq!(cost["version"], 1, "{cost}");
    let stored: u64 = r["backup"]["objects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["size"].as_u64().unwrap())
        .sum();
    assert_eq!(cost["reads"][0]["destination"], "dr", "{cost}");
    assert_eq!(cost["reads"][0]["bytes"], stored, "{cost}");
    assert!(cost["reads"][0]["cross_region"].is_null(), "{cost}");
    assert!(
        cost["scratch_disk_peak_bytes"].as_u64().unwrap() > 0,
        "{cost}"
    );
    assert!(
        cost["scratch_cpu_seconds"].as_f64().unwrap() > 0.0,
        "{cost}"
    );
    assert!(cost["money"].is_null(), "{cost}");
    let md = crate::support::all_text_below(&env.reports());
    assert!(md.contains("## Cost"), "{md}");
    assert!(md.contains("- Scratch cluster CPU: "), "{md}");
    assert!(md.contains("<h2>Cost</h2>"), "{md}");

    // The compliance summary adds the period's drills up.
    let out = firedrill(&["drill", spec, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let second: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let out = firedrill(&["report", spec, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let totals = &summary["drills"][0]["cost"];
    assert_eq!(totals["drills"], 2, "{totals}");
    let read = |r: &serde_json::Value| r["cost"]["reads"][0]["bytes"].as_u64().unwrap();
    assert_eq!(
        totals["bytes_read"].as_u64().unwrap(),
        read(r) + read(&second["report"]),
        "{totals}"
    );
    assert_eq!(totals["cross_region_bytes"], 0, "{totals}");
    assert!(
        totals["scratch_cpu_seconds"].as_f64().unwrap() > 0.0,
        "{totals}"
    );
    let out = firedrill(&["report", spec]);
    assert!(
        text(&out).contains("Cost of the period's drills: 2 drills: "),
        "{}",
        text(&out)
    );

    // With a storage price, the summary of the spec counts the set kept in both destinations.
    env.write(&builder.raw("[cost]\ncurrency = \"USD\"\nstorage-gb-month = 0.02\n"));
    let out = firedrill(&["report", spec, "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let storage = &summary["drills"][0]["cost"]["storage"];
    assert_eq!(storage["copies"], 2, "{storage}");
    assert!(storage["gb_months"].as_f64().unwrap() > 0.0, "{storage}");
    assert!(storage["amount"].as_str().is_some(), "{storage}");
}

/// Prices without a currency, and a negative price, are refused naming the key (exit 2).
#[test]
fn prices_need_a_currency_and_must_not_be_negative() {
    let env = Env::new();
    for (cost, message) in [
        (
            "[cost]\ntransfer-per-gb = 0.02\n",
            "cost.currency: prices need their currency",
        ),
        (
            "[cost]\ncurrency = \"EUR\"\ninstance-hour = { \"db.t3.medium\" = -1 }\n",
            "cost.instance-hour.db.t3.medium: must be a price",
        ),
    ] {
        let spec = env.write(&env.spec("priced", "postgres://127.0.0.1/x").raw(cost));
        let out = firedrill(&["check", "--offline", spec.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        assert!(text(&out).contains(message), "{}", text(&out));
    }
}

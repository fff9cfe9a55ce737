//! `[cost]`: the drill host's region, and prices in one currency (none are built in: they go
//! stale). Without prices a drill report shows the quantities only.

use crate::spec::raw::RawCost;
use crate::spec::{CostSpec, Prices, Problems};

pub(super) fn cost(raw: Option<RawCost>, p: &mut Problems) -> CostSpec {
    let Some(raw) = raw else {
        return CostSpec::default();
    };
    let transfer_per_gb = price(raw.transfer_per_gb.as_ref(), "cost.transfer-per-gb", p);
    let storage_gb_month = price(raw.storage_gb_month.as_ref(), "cost.storage-gb-month", p);
    let mut instance_hour = std::collections::BTreeMap::new();
    for (class, v) in raw.instance_hour.unwrap_or_default() {
        if let Some(x) = price(Some(&v), &format!("cost.instance-hour.{class}"), p) {
            instance_hour.insert(class, x);
        }
    }
    let priced =
        transfer_per_gb.is_some() || storage_gb_month.is_some() || !instance_hour.is_empty();
    let prices = match (raw.currency, priced) {
        (Some(currency), true) => Some(Prices {
            currency,
            transfer_per_gb,
            instance_hour,
            storage_gb_month,
        }),
        (None, true) => {
            p.push(
                "cost.currency",
                "prices need their currency",
                "add e.g. currency = \"USD\"",
            );
            None
        }
        (Some(_), false) => {
            p.push(
                "cost.currency",
                "a currency without any price",
                "add transfer-per-gb, instance-hour or storage-gb-month, or remove currency",
            );
            None
        }
        (None, false) => None,
    };
    CostSpec {
        region: raw.region.filter(|r| !r.is_empty()),
        prices,
    }
}

/// A price: a number (integer or decimal), not negative.
fn price(v: Option<&toml::Value>, key: &str, p: &mut Problems) -> Option<f64> {
    let x = match v? {
        toml::Value::Float(f) => *f,
        toml::Value::Integer(i) => *i as f64,
        _ => f64::NAN,
    };
    if x.is_finite() && x >= 0.0 {
        return Some(x);
    }
    p.push(
        key,
        "must be a price: a number, 0 or more",
        "write e.g. 0.02",
    );
    None
}

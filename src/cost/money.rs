//! The money of a drill from the spec's prices: each amount as a decimal in the spec's
//! currency beside the quantity and price it came from. What has no price is named, not
//! guessed.

use serde::{Deserialize, Serialize};

use super::{RdsUsage, Read};
use crate::spec::Prices;

/// The money section of a drill's cost.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Money {
    pub currency: String,
    pub items: Vec<Amount>,
    /// The sum of the items, as a decimal.
    pub total: String,
    /// What was used but has no price in the spec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unpriced: Vec<String>,
}

/// One priced quantity.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Amount {
    /// The quantity and the price: `cross-region read from dr: 2.000 GB × 0.02 USD/GB`.
    pub what: String,
    /// A decimal with four places: `0.0400`.
    pub amount: String,
}

/// Four decimal places: money small enough for a drill still shows.
fn decimal(x: f64) -> String {
    format!("{x:.4}")
}

pub(super) fn price(p: &Prices, reads: &[Read], rds: Option<&RdsUsage>) -> Money {
    let mut items = Vec::new();
    let mut unpriced = Vec::new();
    let mut total = 0.0;
    for r in reads.iter().filter(|r| r.cross_region == Some(true)) {
        let gb = r.bytes as f64 / 1e9;
        match p.transfer_per_gb {
            Some(price) => {
                total += gb * price;
                items.push(Amount {
                    what: format!(
                        "cross-region read from {}: {gb:.3} GB × {price} {}/GB",
                        r.destination, p.currency
                    ),
                    amount: decimal(gb * price),
                });
            }
            None => unpriced.push(format!(
                "cross-region read from {} ({gb:.3} GB): no cost.transfer-per-gb",
                r.destination
            )),
        }
    }
    if let Some(r) = rds {
        let hours = r.instance_minutes / 60.0;
        match p.instance_hour.get(&r.instance_class) {
            Some(price) => {
                total += hours * price;
                items.push(Amount {
                    what: format!(
                        "RDS {}: {hours:.3} h × {price} {}/h",
                        r.instance_class, p.currency
                    ),
                    amount: decimal(hours * price),
                });
            }
            None => unpriced.push(format!(
                "RDS {} ({hours:.3} h): no cost.instance-hour.\"{}\"",
                r.instance_class, r.instance_class
            )),
        }
    }
    Money {
        currency: p.currency.clone(),
        items,
        total: decimal(total),
        unpriced,
    }
}

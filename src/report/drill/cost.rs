//! The "Cost" section of a drill report, in Markdown and HTML: the quantities a drill
//! consumed, and with the spec's prices the money, each amount beside its price.

use std::fmt::Write;

use super::words::esc;
use crate::cost::Cost;

pub fn markdown(o: &mut String, c: &Cost) {
    o.push_str("## Cost\n\nWhat this drill consumed.\n\n");
    for (what, value) in c.lines() {
        let _ = writeln!(o, "- {what}: {value}");
    }
    match &c.money {
        None => o.push_str("- Money: no prices in the spec (`[cost]`): quantities only\n"),
        Some(m) => {
            for a in &m.items {
                let _ = writeln!(o, "- {}: {} {}", a.what, a.amount, m.currency);
            }
            for u in &m.unpriced {
                let _ = writeln!(o, "- Not priced: {u}");
            }
            let _ = writeln!(o, "- **Total: {} {}**", m.total, m.currency);
        }
    }
    o.push('\n');
}

pub fn html(o: &mut String, c: &Cost) {
    o.push_str("<h2>Cost</h2><p>What this drill consumed.</p><table><tbody>");
    for (what, value) in c.lines() {
        let _ = write!(
            o,
            "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
            esc(&what),
            esc(&value)
        );
    }
    match &c.money {
        None => o.push_str(
            "<tr><th scope=\"row\">Money</th><td>no prices in the spec: quantities only</td></tr>",
        ),
        Some(m) => {
            for a in &m.items {
                let _ = write!(
                    o,
                    "<tr><th scope=\"row\">{}</th><td>{} {}</td></tr>",
                    esc(&a.what),
                    esc(&a.amount),
                    esc(&m.currency)
                );
            }
            for u in &m.unpriced {
                let _ = write!(
                    o,
                    "<tr><th scope=\"row\">Not priced</th><td>{}</td></tr>",
                    esc(u)
                );
            }
            let _ = write!(
                o,
                "<tr><th scope=\"row\">Total</th><td><strong>{} {}</strong></td></tr>",
                esc(&m.total),
                esc(&m.currency)
            );
        }
    }
    o.push_str("</tbody></table>");
}

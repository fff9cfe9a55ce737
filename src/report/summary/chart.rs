//! Inline SVG trend charts for the HTML summary: one point per drill over the period, the
//! target as a dashed line. Readable without colour: a point over its target is a cross, a
//! point within it a circle, and the target line is labelled. Colours meet WCAG AA on white.

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::Trend;
use crate::report::drill::words::{human_seconds as secs, target_word};

const INK: &str = "#111";
const LINE: &str = "#1f4e8c";
const BAD: &str = "#8a1c1c";

/// A chart of `trend` from `start` to `end`; `id` must be unique in the page.
pub fn trend_svg(
    id: &str,
    title: &str,
    trend: &Trend,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> String {
    let (width, height) = (760.0, 240.0);
    let (left, right, top, bottom) = (70.0, 20.0, 20.0, 40.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let span = ((end - start).num_seconds() as f64).max(1.0);
    let max = trend
        .points
        .iter()
        .map(|p| p.seconds)
        .chain(trend.target_seconds)
        .fold(0.0, f64::max)
        .max(0.001)
        * 1.1;
    let x = |t: DateTime<Utc>| left + (t - start).num_seconds() as f64 / span * plot_w;
    let y = |v: f64| top + plot_h - v / max * plot_h;
    let over = trend.over_target;
    let mut svg = format!(
        "<svg class=\"trend\" id=\"{id}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\">\
         <title id=\"{id}-title\">{title}</title>\
         <desc id=\"{id}-desc\">{} drills; {}; {over} over target. Circles met the target, crosses did not.</desc>",
        trend.points.len(),
        trend
            .target_seconds
            .map(|t| format!("target {}", secs(t)))
            .unwrap_or_else(|| "no target".into()),
    );
    // Axes with the period and the value scale.
    let _ = write!(
        svg,
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{b}\" stroke=\"{INK}\"/>\
         <line x1=\"{left}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"{INK}\"/>\
         <text x=\"{left}\" y=\"{ty}\" font-size=\"12\" fill=\"{INK}\">{}</text>\
         <text x=\"{r}\" y=\"{ty}\" font-size=\"12\" fill=\"{INK}\" text-anchor=\"end\">{}</text>\
         <text x=\"{lx}\" y=\"{top2}\" font-size=\"12\" fill=\"{INK}\" text-anchor=\"end\">{}</text>\
         <text x=\"{lx}\" y=\"{b}\" font-size=\"12\" fill=\"{INK}\" text-anchor=\"end\">0</text>",
        start.format("%Y-%m-%d"),
        end.format("%Y-%m-%d"),
        secs(max),
        b = top + plot_h,
        r = left + plot_w,
        ty = height - 15.0,
        lx = left - 6.0,
        top2 = top + 10.0,
    );
    if let Some(t) = trend.target_seconds {
        let ty = y(t);
        let _ = write!(
            svg,
            "<line class=\"target\" x1=\"{left}\" y1=\"{ty:.1}\" x2=\"{:.1}\" y2=\"{ty:.1}\" stroke=\"{BAD}\" stroke-width=\"2\" stroke-dasharray=\"6 3\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" fill=\"{BAD}\" text-anchor=\"end\">target {}</text>",
            left + plot_w,
            left + plot_w,
            ty - 4.0,
            secs(t)
        );
    }
    if trend.points.len() > 1 {
        let path: Vec<String> = trend
            .points
            .iter()
            .map(|p| format!("{:.1},{:.1}", x(p.at), y(p.seconds)))
            .collect();
        let _ = write!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{LINE}\" stroke-width=\"1.5\"/>",
            path.join(" ")
        );
    }
    for p in &trend.points {
        let (px, py) = (x(p.at), y(p.seconds));
        let label = format!(
            "{}: {} ({})",
            p.at.format("%Y-%m-%d %H:%M"),
            secs(p.seconds),
            target_word(p.pass)
        );
        if p.pass == Some(false) {
            let _ = write!(
                svg,
                "<path class=\"point over\" d=\"M{:.1} {:.1}l8 8m0 -8l-8 8\" stroke=\"{BAD}\" stroke-width=\"2.5\"><title>{label}</title></path>",
                px - 4.0,
                py - 4.0
            );
        } else {
            let _ = write!(
                svg,
                "<circle class=\"point\" cx=\"{px:.1}\" cy=\"{py:.1}\" r=\"3.5\" fill=\"{LINE}\"><title>{label}</title></circle>"
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

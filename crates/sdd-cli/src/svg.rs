//! Inline SVG plots for the report: a latency percentile curve per performance constraint, a
//! status grid of the last runs, a sparkline per constraint of the console, and the waterfall
//! of one transaction's steps. Plain SVG text, no scripts, so the page works offline.

use std::fmt::Write;

/// Text safe inside HTML or SVG elements and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Position of a percentile on the "nines" axis: 0 → 0, 90 → 1, 99 → 2, 99.9 → 3.
fn nines(percentile: f64) -> f64 {
    let tail = (1.0 - percentile / 100.0).max(1e-6);
    -tail.log10()
}

/// A round step for an axis spanning `max`.
fn tick_step(max: f64) -> f64 {
    let raw = max / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(magnitude * 10.0)
}

/// Latency (ms) against percentile, on the nines axis, with the constraint's limit as a
/// dashed line at its percentile when known.
pub fn percentile_curve(curve: &[(f64, f64)], limit: Option<(f64, f64)>, title: &str) -> String {
    let (width, height) = (560.0, 260.0);
    let (left, right, top, bottom) = (56.0, 28.0, 24.0, 40.0);
    let plot_w = width - left - right;
    let plot_h = height - top - bottom;
    let max_nines = curve
        .iter()
        .map(|(p, _)| nines(*p))
        .fold(2.0f64, f64::max)
        .min(5.0)
        .ceil();
    let max_ms = curve
        .iter()
        .map(|(_, v)| *v)
        .chain(limit.map(|(_, v)| v))
        .fold(1.0f64, f64::max)
        * 1.1;
    let x = |p: f64| left + nines(p).min(max_nines) / max_nines * plot_w;
    let y = |v: f64| top + plot_h - (v / max_ms).min(1.0) * plot_h;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="plot" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}">"#,
        escape(title)
    );
    let _ = write!(svg, "<title>{}</title>", escape(title));
    // Axes, grid and labels.
    let step = tick_step(max_ms);
    let mut tick = 0.0;
    while tick <= max_ms {
        let _ = write!(
            svg,
            r##"<line x1="{left}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#e3e3e3"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end" fill="#555">{}</text>"##,
            left + plot_w,
            left - 6.0,
            y(tick) + 3.0,
            format_ms(tick),
            y = y(tick)
        );
        tick += step;
    }
    for n in 0..=(max_nines as usize) {
        let percentile = 100.0 - 100.0 / 10f64.powi(n as i32);
        let px = left + n as f64 / max_nines * plot_w;
        let label = match n {
            0 => "p0".to_string(),
            _ => format!("p{}", trim_number(percentile)),
        };
        let _ = write!(
            svg,
            r##"<line x1="{px:.1}" x2="{px:.1}" y1="{top}" y2="{}" stroke="#e3e3e3"/><text x="{px:.1}" y="{}" font-size="10" text-anchor="middle" fill="#555">{label}</text>"##,
            top + plot_h,
            top + plot_h + 14.0
        );
    }
    let _ = write!(
        svg,
        r##"<text x="{}" y="{}" font-size="11" text-anchor="middle" fill="#333">percentile</text><text x="12" y="{}" font-size="11" fill="#333" transform="rotate(-90 12 {})" text-anchor="middle">latency (ms)</text>"##,
        left + plot_w / 2.0,
        height - 6.0,
        top + plot_h / 2.0,
        top + plot_h / 2.0
    );
    if let Some((percentile, ms)) = limit {
        let _ = write!(
            svg,
            r##"<line class="limit" x1="{left}" x2="{}" y1="{ly:.1}" y2="{ly:.1}" stroke="#c0392b" stroke-dasharray="6 4"/><text x="{}" y="{:.1}" font-size="10" text-anchor="end" fill="#c0392b">limit: p{} &lt; {} ms</text>"##,
            left + plot_w,
            left + plot_w,
            y(ms) - 4.0,
            trim_number(percentile),
            format_ms(ms),
            ly = y(ms)
        );
    }
    let points: Vec<String> = curve
        .iter()
        .map(|(p, v)| format!("{:.1},{:.1}", x(*p), y(*v)))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline class="curve" fill="none" stroke="#1f6feb" stroke-width="2" points="{}"/>"##,
        points.join(" ")
    );
    svg.push_str("</svg>");
    svg
}

fn format_ms(v: f64) -> String {
    if v >= 100.0 || v == 0.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn trim_number(v: f64) -> String {
    let text = format!("{v:.3}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// A small line of `points` (time in ms, value) over `span` (start, end ms), for a table
/// cell: the value axis fits the values and the limit (from 0 when `zero_based`), the limit
/// is a dashed line, a gap in time longer than one and a half steps breaks the line, and the
/// newest point is a dot. `title` says what the line shows (the tooltip), with its range.
pub fn sparkline(
    points: &[(i64, f64)],
    span: (i64, i64),
    limit: Option<f64>,
    zero_based: bool,
    title: &str,
) -> String {
    let (width, height, pad) = (160.0, 34.0, 3.0);
    let values = points.iter().map(|(_, v)| *v).filter(|v| v.is_finite());
    let (mut lo, mut hi) = values
        .clone()
        .chain(limit)
        .chain(zero_based.then_some(0.0))
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if !lo.is_finite() || !hi.is_finite() {
        (lo, hi) = (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        let room = (hi.abs() * 0.05).max(1e-3);
        (lo, hi) = (lo - room, hi + room);
    }
    let (start, end) = (span.0 as f64, (span.1.max(span.0 + 1)) as f64);
    let x =
        |t: i64| pad + ((t as f64 - start) / (end - start)).clamp(0.0, 1.0) * (width - 2.0 * pad);
    let y = |v: f64| pad + (1.0 - (v - lo) / (hi - lo)) * (height - 2.0 * pad);
    let (min, max) = values.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let range = if min.is_finite() {
        format!(" — from {} to {}", trim_number(min), trim_number(max))
    } else {
        String::new()
    };
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="spark" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}"><title>{}{}</title>"#,
        escape(title),
        escape(title),
        escape(&range)
    );
    if let Some(limit) = limit {
        let _ = write!(
            svg,
            r##"<line class="limit" x1="{pad}" x2="{}" y1="{ly:.1}" y2="{ly:.1}" stroke="#c0392b" stroke-width="1" stroke-dasharray="3 2"/>"##,
            width - pad,
            ly = y(limit)
        );
    }
    // The step: the shortest time between two points.
    let step = points
        .windows(2)
        .map(|w| w[1].0 - w[0].0)
        .filter(|d| *d > 0)
        .min()
        .unwrap_or(i64::MAX);
    let mut runs: Vec<Vec<(i64, f64)>> = Vec::new();
    for &(t, v) in points.iter().filter(|(_, v)| v.is_finite()) {
        match runs.last_mut() {
            Some(run)
                if run
                    .last()
                    .is_some_and(|(last, _)| (t - last) as f64 <= 1.5 * step as f64) =>
            {
                run.push((t, v))
            }
            _ => runs.push(vec![(t, v)]),
        }
    }
    for run in &runs {
        if run.len() == 1 {
            let _ = write!(
                svg,
                r##"<circle cx="{:.1}" cy="{:.1}" r="1.2" fill="#1f6feb"/>"##,
                x(run[0].0),
                y(run[0].1)
            );
            continue;
        }
        let coordinates: Vec<String> = run
            .iter()
            .map(|(t, v)| format!("{:.1},{:.1}", x(*t), y(*v)))
            .collect();
        let _ = write!(
            svg,
            r##"<polyline fill="none" stroke="#1f6feb" stroke-width="1.5" points="{}"/>"##,
            coordinates.join(" ")
        );
    }
    if let Some(&(t, v)) = points.iter().rev().find(|(_, v)| v.is_finite()) {
        let _ = write!(
            svg,
            r##"<circle class="last" cx="{:.1}" cy="{:.1}" r="2" fill="#1f6feb"/>"##,
            x(t),
            y(v)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A cell of the status grid: its status word and a tooltip.
pub struct Cell {
    pub status: String,
    pub tooltip: String,
}

pub fn status_color(status: &str) -> &'static str {
    match status {
        "passing" | "passed" | "healthy" => "#2da44e",
        "failing" | "failed" => "#cf222e",
        "inconclusive" | "partial" | "unverified" => "#d4a72c",
        "skipped" | "not_run" => "#8c959f",
        "unchecked" | "no_test" | "no data" => "#d0d7de",
        "proposed" => "#8250df",
        "changed since approval" => "#bc4c00",
        _ => "#eaeef2",
    }
}

/// Subjects (rows) over runs (columns, oldest first); `cells[row][column]`, `None` when the
/// run has no result for the subject.
pub fn status_grid(
    subjects: &[String],
    runs: &[String],
    cells: &[Vec<Option<Cell>>],
    title: &str,
) -> String {
    let (cell, gap, top) = (18.0, 2.0, 22.0);
    // Room for the longest label at 11 px (about 6.5 px a character).
    let longest = subjects
        .iter()
        .map(|s| s.chars().count())
        .max()
        .unwrap_or(0);
    let label_w = longest as f64 * 6.5 + 16.0;
    let width = label_w + runs.len() as f64 * (cell + gap) + 10.0;
    let height = top + subjects.len() as f64 * (cell + gap) + 6.0;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="plot grid" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{}"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    for (c, run) in runs.iter().enumerate() {
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="14" font-size="9" text-anchor="middle" fill="#555">{}</text>"##,
            label_w + c as f64 * (cell + gap) + cell / 2.0,
            escape(run)
        );
    }
    for (r, subject) in subjects.iter().enumerate() {
        let row_y = top + r as f64 * (cell + gap);
        let _ = write!(
            svg,
            r##"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="end" fill="#333">{}</text>"##,
            label_w - 8.0,
            row_y + cell - 5.0,
            escape(subject)
        );
        for (c, value) in cells.get(r).into_iter().flatten().enumerate() {
            let (color, tooltip) = match value {
                Some(v) => (status_color(&v.status), v.tooltip.as_str()),
                None => ("#f6f8fa", "no result in this run"),
            };
            let _ = write!(
                svg,
                r#"<rect x="{:.1}" y="{row_y:.1}" width="{cell}" height="{cell}" rx="3" fill="{color}"><title>{}</title></rect>"#,
                label_w + c as f64 * (cell + gap),
                escape(tooltip)
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// One row of a waterfall: a step, where it starts and how long it took.
pub struct Bar {
    pub label: String,
    /// Nesting in the span tree: the label is indented by it.
    pub depth: usize,
    pub offset_ms: f64,
    /// `None`: an event without a duration, drawn as a tick.
    pub duration_ms: Option<f64>,
    /// `success`, `failure`, … (its colour); empty when the step records none.
    pub outcome: String,
    pub tooltip: String,
}

/// The colour of a step by its outcome: failures red, refusals amber, successes green, the
/// rest (spans that record no outcome) blue.
fn outcome_color(outcome: &str) -> &'static str {
    match outcome {
        "failure" | "error" => "#cf222e",
        "refused" | "degraded" => "#d4a72c",
        "success" => "#2da44e",
        _ => "#1f6feb",
    }
}

/// A transaction's steps as a waterfall: a row per step (in order, labels indented by
/// depth), a bar from its start over its duration on a time axis from the first event to
/// `total_ms`, a tick for an event without a duration; hover a row for its detail.
pub fn waterfall(bars: &[Bar], total_ms: f64, title: &str) -> String {
    let (row, top, right) = (18.0, 22.0, 16.0);
    let longest = bars
        .iter()
        .map(|b| b.label.chars().count() + 2 * b.depth)
        .max()
        .unwrap_or(0)
        .min(60);
    let label_w = longest as f64 * 6.2 + 12.0;
    let plot_w = 520.0;
    let width = label_w + plot_w + right;
    let height = top + bars.len() as f64 * row + 8.0;
    let span = if total_ms.is_finite() && total_ms > 0.0 {
        total_ms
    } else {
        1.0
    };
    let x = |ms: f64| label_w + (ms / span).clamp(0.0, 1.0) * plot_w;
    let mut svg = String::new();
    let _ = write!(
        svg,
        r#"<svg class="plot waterfall" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width:.0} {height:.0}" width="{width:.0}" height="{height:.0}" role="img" aria-label="{}"><title>{}</title>"#,
        escape(title),
        escape(title)
    );
    // The time axis: five ticks from 0 to the transaction's end.
    for i in 0..=4 {
        let ms = span * i as f64 / 4.0;
        let _ = write!(
            svg,
            r##"<line x1="{px:.1}" x2="{px:.1}" y1="{top}" y2="{:.1}" stroke="#e3e3e3"/><text x="{px:.1}" y="14" font-size="9" text-anchor="middle" fill="#555">{} ms</text>"##,
            height - 6.0,
            format_ms(ms),
            px = x(ms)
        );
    }
    for (i, bar) in bars.iter().enumerate() {
        let y = top + i as f64 * row;
        let label: String = bar.label.chars().take(60).collect();
        let color = outcome_color(&bar.outcome);
        let _ = write!(
            svg,
            r##"<g class="step"><title>{}</title><text x="{:.1}" y="{:.1}" font-size="11" fill="#333">{}</text>"##,
            escape(&bar.tooltip),
            4.0 + 12.0 * bar.depth.min(8) as f64,
            y + row - 5.0,
            escape(&label)
        );
        match bar.duration_ms {
            Some(ms) => {
                let start = x(bar.offset_ms);
                // At least a pixel wide, so a step of microseconds is still seen.
                let w = (x(bar.offset_ms + ms.max(0.0)) - start).max(1.0);
                let _ = write!(
                    svg,
                    r#"<rect class="bar" x="{start:.1}" y="{:.1}" width="{w:.1}" height="{:.1}" rx="2" fill="{color}"/>"#,
                    y + 3.0,
                    row - 6.0
                );
            }
            None => {
                let _ = write!(
                    svg,
                    r#"<rect class="tick" x="{:.1}" y="{:.1}" width="3" height="{:.1}" fill="{color}"/>"#,
                    x(bar.offset_ms) - 1.5,
                    y + 1.0,
                    row - 2.0
                );
            }
        }
        svg.push_str("</g>");
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nines_axis_spaces_percentiles_by_their_tail() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(90.0) - 1.0).abs() < 1e-9);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn a_curve_is_a_polyline_with_its_limit() {
        let svg = percentile_curve(
            &[(0.0, 1.0), (50.0, 2.0), (99.0, 8.0), (99.9, 30.0)],
            Some((95.0, 100.0)),
            "reads <p95>",
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 1);
        assert!(svg.contains("limit: p95 &lt; 100 ms"));
        assert!(svg.contains("reads &lt;p95&gt;"), "titles are escaped");
        assert!(svg.contains(">p99.9<"));
    }

    #[test]
    fn a_sparkline_breaks_at_gaps_and_draws_its_limit() {
        let minute = 60_000;
        let points = [
            (minute, 10.0),
            (2 * minute, 12.0),
            (3 * minute, 11.0),
            // No requests at 4 and 5.
            (6 * minute, 150.0),
            (7 * minute, 160.0),
        ];
        let svg = sparkline(&points, (0, 8 * minute), Some(100.0), true, "reads <p95>");
        assert!(svg.starts_with("<svg class=\"spark\"") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("<polyline").count(), 2, "{svg}");
        assert_eq!(svg.matches("class=\"limit\"").count(), 1);
        assert!(svg.contains("reads &lt;p95&gt; — from 10 to 160"), "{svg}");
        // The newest point is highest: the top of the plot, at 7 of 8 minutes.
        assert!(
            svg.contains(r#"<circle class="last" cx="137.8" cy="3.0""#),
            "{svg}"
        );
        // One point alone is a dot; no points, no line and no NaN.
        let svg = sparkline(&[(minute, 5.0)], (0, 2 * minute), None, false, "t");
        assert_eq!(svg.matches("<polyline").count(), 0);
        assert_eq!(svg.matches("<circle").count(), 2);
        let svg = sparkline(&[], (0, minute), None, true, "t");
        assert!(!svg.contains("NaN") && !svg.contains("<polyline"), "{svg}");
    }

    #[test]
    fn a_waterfall_draws_a_bar_per_span_and_a_tick_per_event() {
        let bar = |label: &str, depth, offset_ms, duration_ms, outcome: &str| Bar {
            label: label.into(),
            depth,
            offset_ms,
            duration_ms,
            outcome: outcome.into(),
            tooltip: format!("{label} <detail>"),
        };
        let bars = [
            bar("request", 0, 0.0, Some(10.0), ""),
            bar("store", 1, 2.0, Some(0.0001), ""),
            bar("decide", 1, 9.0, None, "failure"),
        ];
        let svg = waterfall(&bars, 10.0, "order <5>");
        assert!(svg.starts_with("<svg class=\"plot waterfall\"") && svg.ends_with("</svg>"));
        assert_eq!(svg.matches("class=\"bar\"").count(), 2, "{svg}");
        assert_eq!(svg.matches("class=\"tick\"").count(), 1, "{svg}");
        // The request spans the whole axis (after labels of 8 characters); a microsecond step is
        // still a pixel wide; the decision at 9 of 10 ms is a tick there.
        assert!(svg.contains(r#"x="61.6" y="25.0" width="520.0""#), "{svg}");
        assert!(svg.contains(r#"class="tick" x="528.1""#), "{svg}");
        assert!(svg.contains(r#"width="1.0""#), "{svg}");
        // The failure is red; titles are escaped; the deeper label is indented.
        assert!(svg.contains(r##"fill="#cf222e""##), "{svg}");
        assert!(svg.contains("decide &lt;detail&gt;") && svg.contains("order &lt;5&gt;"));
        assert!(svg.contains(r#"<text x="16.0""#), "{svg}");
        // Nothing to draw on: no NaN.
        let svg = waterfall(&[bar("x", 0, 0.0, None, "")], 0.0, "t");
        assert!(!svg.contains("NaN"), "{svg}");
    }

    #[test]
    fn ticks_are_round() {
        assert_eq!(tick_step(110.0), 25.0);
        assert_eq!(tick_step(9.0), 2.0);
    }
}

//! The hunt's answer in the spec's terms: a headline that claims no more than was judged,
//! the degradations in full, each constraint's outlook at 7, 30 and 90 days, everything else
//! as one line each, and the health score built from them.

use schemars::JsonSchema;
use sdd_spec::document::DegradationDoc;
use serde::{Deserialize, Serialize};

use super::analyze::{Thresholds, TimeToViolation, Verdict};
use super::hunt::{DriverUsed, Hunt, Hunted, NotHunted};

/// The thresholds the spec states (`degradation_detection.thresholds`, and rates written in
/// its patterns: "Query time increasing by >1% per week"), the smallest per day; the default
/// when it states none. With where they came from, and the patterns (for the findings).
pub fn thresholds_from_spec(
    docs: &[(String, DegradationDoc)],
) -> (Thresholds, String, Vec<String>) {
    let mut rates: Vec<(f64, String)> = Vec::new();
    let mut patterns = Vec::new();
    for (file, doc) in docs {
        if let Some(t) = &doc.thresholds {
            for (value, days, name) in [
                (t.daily, 1.0, "daily"),
                (t.weekly, 7.0, "weekly"),
                (t.monthly, 30.0, "monthly"),
            ] {
                if let Some(v) = value.filter(|v| v.is_finite() && *v > 0.0) {
                    rates.push((v / days, format!("{file}: thresholds.{name} {v} %")));
                }
            }
        }
        for category in &doc.monitoring_categories {
            for pattern in &category.patterns {
                patterns.push(pattern.clone());
                if let Some((v, days)) = rate_in_text(pattern) {
                    rates.push((v / days, format!("{file}: \"{pattern}\"")));
                }
            }
        }
    }
    let defaults = Thresholds::default();
    match rates
        .into_iter()
        .min_by(|a, b| a.0.total_cmp(&b.0))
    {
        Some((per_day, from)) => (
            Thresholds {
                percent_per_day: per_day,
                ..defaults
            },
            format!("{per_day:.3} % a day, the smallest the spec states ({from})"),
            patterns,
        ),
        None => (
            defaults,
            format!(
                "{:.3} % a day (1 % a week), the default: the spec's degradation_detection states no threshold",
                defaults.percent_per_day
            ),
            patterns,
        ),
    }
}

/// `(percent, days)` of a rate written as "1% per week", ">2 % a month", "0.1%/day".
pub fn rate_in_text(text: &str) -> Option<(f64, f64)> {
    let lower = text.to_ascii_lowercase();
    for (at, _) in lower.match_indices('%') {
        let before = lower[..at].trim_end();
        let start = before
            .rfind(|c: char| !(c.is_ascii_digit() || c == '.'))
            .map_or(0, |i| i + 1);
        let Ok(value) = before[start..].parse::<f64>() else {
            continue;
        };
        let after = lower[at + 1..].trim_start();
        let after = after
            .strip_prefix("per ")
            .or_else(|| after.strip_prefix("a "))
            .or_else(|| after.strip_prefix("an "))
            .or_else(|| after.strip_prefix('/'))
            .unwrap_or(after)
            .trim_start();
        let days = if after.starts_with("day") || after.starts_with("daily") {
            1.0
        } else if after.starts_with("week") {
            7.0
        } else if after.starts_with("month") {
            30.0
        } else {
            continue;
        };
        return Some((value, days));
    }
    None
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Counts {
    pub judged: usize,
    pub degrading: usize,
    pub follows_driver: usize,
    pub below_threshold: usize,
    pub improving: usize,
    pub no_trend: usize,
    pub not_judged: usize,
}

/// A series in one line.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Line {
    pub series: String,
    pub summary: String,
}

/// A constraint's or a limit's outlook.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Outlook {
    pub series: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    pub verdict: Verdict,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub percent_per_week: Option<f64>,
    pub time_to_violation: TimeToViolation,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DegradationReport {
    /// `DEGRADING — …` when a series degrades; `NO DEGRADATION FOUND — …` only with what was
    /// and was not judged; `NOTHING TO JUDGE — …` when no series had enough data.
    pub headline: String,
    /// How every series was judged.
    pub method: String,
    /// The step the series were fetched at.
    pub step: String,
    pub significance: f64,
    /// The rate that counts as degradation, and where it comes from.
    pub thresholds: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<DriverUsed>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business: Option<DriverUsed>,
    pub counts: Counts,
    /// The degrading series in full, the surest first.
    pub findings: Vec<Hunted>,
    /// Degrading series beyond `limit`, one line each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub more_findings: Vec<Line>,
    /// Every constraint and limit measured: where its trend takes it at 7, 30 and 90 days.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outlook: Vec<Outlook>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub follows_driver: Vec<Line>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub below_threshold: Vec<Line>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub improving: Vec<Line>,
    /// Series without a trend, with the trend each would have shown (the first few).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub no_trend: Vec<Line>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_judged: Vec<Line>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_hunted: Vec<NotHunted>,
    /// How to see more.
    pub more: String,
}

/// One-line lists are cut here.
const LINES: usize = 12;

pub const METHOD: &str = "Each series is fetched at one step; a counter becomes its per-second rate, a histogram its p99 by labels (status aside), and each latency or ratio constraint its own percentile or error ratio. Per series: medians per bucket (buckets aligned to the day); when the load (or, for stored data, the business volume) explains at least half the series' variance beyond time (Huber fit on driver and time, p < 0.001), the verdict rests on the series less the driver's part; daily and weekly profiles are taken out when an F test finds them (p < 0.001); the trend is the Theil–Sen slope with Sen's interval, tested with Mann–Kendall under the Hamed–Rao correction for autocorrelation; steps come from PELT over line segments (penalty 6·ln n, at least 4 σ). The p values of all series are corrected together (Benjamini–Hochberg). A series degrades when its trend is significant, goes the worse way, is at least the threshold and moves the series at least 1 % within the window, or when it stepped the worse way by at least 5 % and stayed worse than everything before. Each degradation lists up to three series whose bucket-to-bucket changes move with its own (Spearman's ρ of first differences, p < 0.01). Time to violation projects the trend line (plus half the daily swing) with the slope's interval.";

/// `in_full`: every series among the findings, whatever its verdict (one series asked for).
pub fn report(
    hunt: Hunt,
    significance: f64,
    thresholds_from: String,
    limit: usize,
    in_full: bool,
) -> DegradationReport {
    let mut counts = Counts::default();
    for h in &hunt.series {
        let slot = match h.analysis.verdict {
            Verdict::Degrading => &mut counts.degrading,
            Verdict::FollowsDriver => &mut counts.follows_driver,
            Verdict::BelowThreshold => &mut counts.below_threshold,
            Verdict::Improving => &mut counts.improving,
            Verdict::NoTrend => &mut counts.no_trend,
            Verdict::NotJudged => &mut counts.not_judged,
        };
        *slot += 1;
    }
    counts.judged = hunt.series.len() - counts.not_judged;
    let outlook: Vec<Outlook> = hunt
        .series
        .iter()
        .filter_map(|h| {
            Some(Outlook {
                series: h.series.clone(),
                constraint: h.constraint.clone(),
                verdict: h.analysis.verdict,
                summary: h.analysis.summary.clone(),
                percent_per_week: h.analysis.trend.as_ref().map(|t| t.percent_per_week),
                time_to_violation: h.analysis.time_to_violation.clone()?,
            })
        })
        .collect();
    let line = |h: &Hunted| Line {
        series: h.series.clone(),
        summary: h.analysis.summary.clone(),
    };
    let lines = |verdict: Verdict| -> Vec<Line> {
        hunt.series
            .iter()
            .filter(|h| h.analysis.verdict == verdict)
            .take(LINES)
            .map(line)
            .collect()
    };
    let (follows_driver, below_threshold, improving, no_trend, not_judged) = (
        lines(Verdict::FollowsDriver),
        lines(Verdict::BelowThreshold),
        lines(Verdict::Improving),
        lines(Verdict::NoTrend),
        lines(Verdict::NotJudged),
    );
    let mut degrading: Vec<Hunted> = hunt
        .series
        .into_iter()
        .filter(|h| in_full || h.analysis.verdict == Verdict::Degrading)
        .collect();
    // Constraints first, then by how soon a bound is crossed, then by q.
    degrading.sort_by(|a, b| {
        let soon = |h: &Hunted| {
            h.analysis
                .time_to_violation
                .as_ref()
                .and_then(|t| t.days_earliest)
                .unwrap_or(f64::INFINITY)
        };
        b.constraint
            .is_some()
            .cmp(&a.constraint.is_some())
            .then(soon(a).total_cmp(&soon(b)))
            .then(a.q.total_cmp(&b.q))
    });
    let more_findings: Vec<Line> = degrading.iter().skip(limit).take(LINES).map(line).collect();
    degrading.truncate(limit);
    let headline = headline(&counts, &degrading, &hunt.not_hunted, hunt.load.is_some());
    let shown = |n: usize, total: usize| n < total;
    let cut = shown(follows_driver.len(), counts.follows_driver)
        || shown(no_trend.len(), counts.no_trend)
        || shown(not_judged.len(), counts.not_judged)
        || shown(improving.len(), counts.improving)
        || shown(below_threshold.len(), counts.below_threshold);
    DegradationReport {
        headline,
        method: METHOD.into(),
        step: crate::window::format_duration(hunt.step_ms),
        significance,
        thresholds: thresholds_from,
        load: hunt.load,
        business: hunt.business,
        counts,
        findings: degrading,
        more_findings,
        outlook,
        follows_driver,
        below_threshold,
        improving,
        no_trend,
        not_judged,
        not_hunted: hunt.not_hunted,
        more: format!(
            "{}pass `series` (the exact text of a series above) to see its figures in full, `metric` to hunt one family, `limit` for more findings in full",
            if cut { format!("one-line lists show the first {LINES}; ") } else { String::new() }
        ),
    }
}

fn headline(counts: &Counts, findings: &[Hunted], not_hunted: &[NotHunted], load: bool) -> String {
    if counts.degrading > 0 {
        let names: Vec<String> = findings
            .iter()
            .take(3)
            .map(|h| format!("{} ({})", h.series, h.analysis.summary))
            .collect();
        return format!(
            "DEGRADING — {} of {} series judged: {}{}",
            counts.degrading,
            counts.judged,
            names.join("; "),
            if counts.degrading > names.len() {
                "; …"
            } else {
                ""
            }
        );
    }
    if counts.judged == 0 {
        return format!(
            "NOTHING TO JUDGE — {} series, none with enough points in the window{}",
            counts.not_judged,
            if not_hunted.is_empty() {
                String::new()
            } else {
                format!(
                    "; {} things not hunted (not_hunted says why)",
                    not_hunted.len()
                )
            }
        );
    }
    let mut caveats = Vec::new();
    if counts.not_judged > 0 {
        caveats.push(format!("{} series not judged", counts.not_judged));
    }
    if !not_hunted.is_empty() {
        caveats.push(format!("{} not hunted", not_hunted.len()));
    }
    if !load {
        caveats.push("no load series, so growth could not be told from traffic".into());
    }
    format!(
        "NO DEGRADATION FOUND — {} series judged{}",
        counts.judged,
        if caveats.is_empty() {
            String::new()
        } else {
            format!("; but {}", caveats.join(", "))
        }
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdd_spec::document::{DegradationThresholds, MonitoringCategoryDoc};

    #[test]
    fn rates_are_read_from_the_spec_words() {
        let cases = [
            ("Query time increasing by >1% per week", Some((1.0, 7.0))),
            ("Memory up 0.5 % a day", Some((0.5, 1.0))),
            ("Disk 5%/month", Some((5.0, 30.0))),
            ("Cache hit rate gradually declining", None),
            ("99% of requests", None),
        ];
        for (text, expected) in cases {
            assert_eq!(rate_in_text(text), expected, "{text}");
        }
    }

    #[test]
    fn the_smallest_stated_threshold_counts() {
        let doc = DegradationDoc {
            principles: vec![],
            monitoring_categories: vec![MonitoringCategoryDoc {
                name: "Performance erosion".into(),
                patterns: vec!["Query time increasing by >1% per week".into()],
            }],
            thresholds: Some(DegradationThresholds {
                daily: None,
                weekly: None,
                monthly: Some(5.0),
            }),
        };
        let (t, from, patterns) = thresholds_from_spec(&[("specs/d.yaml".into(), doc)]);
        // 1 % a week is less a day than 5 % a month.
        assert!((t.percent_per_day - 1.0 / 7.0).abs() < 1e-12, "{from}");
        assert!(from.contains("Query time"), "{from}");
        assert_eq!(patterns.len(), 1);
        let (t, from, _) = thresholds_from_spec(&[]);
        assert_eq!(t, Thresholds::default());
        assert!(from.contains("default"), "{from}");
    }
}

//! log_patterns' analysis: plain-text lines mined into templates, each counted in a baseline and
//! a current window, and the templates whose rate changed picked out by a test.
//!
//! The test is the conditional test of two Poisson rates: given `k = a + b` lines of a template
//! in the two windows, `a ~ Binomial(k, t_a / (t_a + t_b))` when the rates are equal. Its
//! two-sided p-value is exact (scipy's `binomtest`: the probability of every outcome no more
//! likely than the one seen) up to [`EXACT_UP_TO`] lines and a normal approximation beyond.
//! A template present in one window only is tested the same way (with `a = 0` the p-value is
//! about the chance of all `k` lines falling in the current window), so one stray line after a
//! short baseline is not "new". The p-values are adjusted with Benjamini–Hochberg over the
//! templates tested (those with a line in either window): the share of false discoveries among
//! the reported changes is held at `alpha`.
//!
//! The decision ([`judge`]) is a pure function of the counts; [`log_patterns`] only mines.

use std::cmp::Ordering;
use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::drain::{Miner, MinerConfig, TemplateId};
use crate::event::{Nanos, NANOS_PER_SECOND};

/// Above this many lines in the two windows the p-value comes from the normal approximation
/// (where it is accurate to well under the significance levels in use); at or below, exact.
pub const EXACT_UP_TO: u64 = 10_000;

/// One plain-text line and, if known, when it was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogLine<'a> {
    /// Nanoseconds since the Unix epoch. A line without one counts only toward totals.
    pub at: Option<Nanos>,
    pub text: &'a str,
}

/// A span of time `[start, end)` in nanoseconds since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Window {
    pub start: Nanos,
    pub end: Nanos,
}

impl Window {
    pub fn contains(&self, at: Nanos) -> bool {
        self.start <= at && at < self.end
    }

    /// Its length in seconds.
    pub fn seconds(&self) -> f64 {
        (self.end as f64 - self.start as f64) / NANOS_PER_SECOND as f64
    }
}

/// What log_patterns compares and how much it returns.
#[derive(Debug, Clone, PartialEq)]
pub struct PatternOptions {
    pub baseline: Window,
    pub current: Window,
    /// Rows returned at most; the report says how many were left out.
    pub limit: usize,
    /// The false discovery rate held by the Benjamini–Hochberg adjustment (e.g. 0.05).
    pub alpha: f64,
    pub miner: MinerConfig,
}

/// A mistake in the options the caller can fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternError {
    #[error("the {which} window ends at or before its start ({start} ≥ {end}): give an end after the start")]
    EmptyWindow {
        which: &'static str,
        start: Nanos,
        end: Nanos,
    },
    #[error("alpha must lie strictly between 0 and 1 (got {0}); 0.05 is usual")]
    Alpha(f64),
}

/// How a template's rate moved from the baseline to the current window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Absent in the baseline, present in the current window, and significant.
    New,
    /// Present in the baseline, absent in the current window, and significant.
    Vanished,
    /// In both windows, at significantly different rates.
    RateChanged,
    /// No significant change (or no line in either window).
    Steady,
}

/// The rate ratio of two counts over their durations and the two-sided p-value of "the rates
/// are equal".
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateChange {
    /// `(count_b / seconds_b) / (count_a / seconds_a)`: infinite when only b has lines, 1 when
    /// neither has, NaN when a duration is not positive.
    pub ratio: f64,
    /// 1 when neither has lines or a duration is not positive.
    pub p_value: f64,
}

/// The conditional binomial test of two Poisson rates (see the module's comment). Used by
/// log_patterns and by the incident analysis.
pub fn rate_change(count_a: u64, seconds_a: f64, count_b: u64, seconds_b: f64) -> RateChange {
    let usable = |s: f64| s.is_finite() && s > 0.0;
    if !usable(seconds_a) || !usable(seconds_b) {
        return RateChange {
            ratio: f64::NAN,
            p_value: 1.0,
        };
    }
    let k = count_a + count_b;
    if k == 0 {
        return RateChange {
            ratio: 1.0,
            p_value: 1.0,
        };
    }
    let ratio = (count_b as f64 / seconds_b) / (count_a as f64 / seconds_a);
    let p = seconds_a / (seconds_a + seconds_b);
    let variance = k as f64 * p * (1.0 - p);
    let p_value = if k > EXACT_UP_TO && variance >= 25.0 {
        normal_two_sided(count_a, k, p)
    } else {
        binomial_two_sided(count_a, k, p)
    };
    RateChange {
        ratio,
        p_value: p_value.clamp(0.0, 1.0),
    }
}

/// Exact two-sided binomial p-value as scipy's `binomtest` computes it: the total probability
/// of the outcomes no more likely than `a` (with its relative tolerance of 1e-7).
fn binomial_two_sided(a: u64, k: u64, p: f64) -> f64 {
    if p <= 0.0 || p >= 1.0 {
        return 1.0;
    }
    // log pmf by the recurrence pmf(i+1) = pmf(i) · (k−i)/(i+1) · p/(1−p); the sums below are
    // normalised by the total, which cancels the recurrence's rounding drift.
    let odds = (p / (1.0 - p)).ln();
    let mut logs = Vec::with_capacity(k as usize + 1);
    let mut log = k as f64 * (1.0 - p).ln();
    for i in 0..=k {
        logs.push(log);
        log += ((k - i) as f64 / (i + 1) as f64).ln() + odds;
    }
    let top = logs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let seen = logs.get(a as usize).copied().unwrap_or(f64::NEG_INFINITY);
    let limit = seen + (1e-7f64).ln_1p();
    let (mut total, mut tail) = (0.0, 0.0);
    for &l in &logs {
        let mass = (l - top).exp();
        total += mass;
        if l <= limit {
            tail += mass;
        }
    }
    if total > 0.0 {
        tail / total
    } else {
        1.0
    }
}

/// Two-sided p-value of the normal approximation to Binomial(k, p), continuity-corrected.
fn normal_two_sided(a: u64, k: u64, p: f64) -> f64 {
    let mean = k as f64 * p;
    let sd = (k as f64 * p * (1.0 - p)).sqrt();
    let distance = ((a as f64 - mean).abs() - 0.5).max(0.0);
    erfc(distance / sd / std::f64::consts::SQRT_2)
}

/// The complementary error function (Numerical Recipes' `erfcc`, Chebyshev fit; relative error
/// below 1.2e-7 everywhere): enough for p-values compared with 0.05 or 0.001.
fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

/// Benjamini–Hochberg adjusted p-values, in the order given: `min over j ≥ rank of p_(j)·m/j`,
/// at most 1.
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&x, &y| p_values[x].total_cmp(&p_values[y]));
    let mut adjusted = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank, &i) in order.iter().enumerate().rev() {
        let scaled = p_values[i] * m as f64 / (rank + 1) as f64;
        running = running.min(scaled).min(1.0);
        adjusted[i] = running;
    }
    adjusted
}

/// The change a template shows: a significant adjusted p-value and where its lines are.
pub fn classify(baseline: u64, current: u64, adjusted_p: Option<f64>, alpha: f64) -> Change {
    let significant = adjusted_p.is_some_and(|p| p <= alpha);
    match (significant, baseline, current) {
        (false, _, _) | (true, 0, 0) => Change::Steady,
        (true, 0, _) => Change::New,
        (true, _, 0) => Change::Vanished,
        (true, _, _) => Change::RateChanged,
    }
}

/// One template's lines, as the miner counted them: the input of [`judge`].
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateCounts {
    pub template_id: TemplateId,
    pub template: String,
    /// All its lines, those without a time or outside both windows included.
    pub count: u64,
    pub baseline_count: u64,
    pub current_count: u64,
    pub examples: Vec<String>,
}

/// One template in the answer.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema, Deserialize)]
pub struct PatternRow {
    pub template_id: TemplateId,
    /// The template: tokens joined by spaces, variables as `<*>`.
    pub template: String,
    /// Every line of the template, with or without a time, in a window or not.
    pub count: u64,
    pub baseline_count: u64,
    pub current_count: u64,
    /// Lines per second in the baseline window.
    pub baseline_rate: f64,
    /// Lines per second in the current window.
    pub current_rate: f64,
    /// `current_rate / baseline_rate`; absent when the baseline has no line.
    pub ratio: Option<f64>,
    /// The test's two-sided p-value; absent when neither window has a line (not tested).
    pub p_value: Option<f64>,
    /// The p-value after the Benjamini–Hochberg adjustment over the templates tested.
    pub adjusted_p_value: Option<f64>,
    pub change: Change,
    /// The first lines of the template (each cut at 500 characters).
    pub examples: Vec<String>,
}

/// log_patterns' answer.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema, Deserialize)]
pub struct PatternReport {
    /// Changes first (most significant first), then the rest by count; at most the limit.
    pub rows: Vec<PatternRow>,
    /// Lines read, with or without a time.
    pub lines: u64,
    pub lines_without_time: u64,
    pub baseline_lines: u64,
    pub current_lines: u64,
    pub baseline_seconds: f64,
    pub current_seconds: f64,
    /// Templates found.
    pub templates: usize,
    /// Templates with a line in either window (the number the p-values are adjusted over).
    pub templates_tested: usize,
    /// Templates whose change is not `steady`.
    pub changes: usize,
    /// Templates past the limit, and their lines.
    pub left_out: usize,
    pub left_out_lines: u64,
    /// The multiple-comparison correction applied: `benjamini_hochberg`.
    pub correction: String,
    pub alpha: f64,
}

/// Mines `lines` and compares each template's rate in the two windows.
pub fn log_patterns<'a>(
    lines: impl IntoIterator<Item = LogLine<'a>>,
    options: &PatternOptions,
) -> Result<PatternReport, PatternError> {
    check(options)?;
    let mut miner = Miner::new(options.miner.clone());
    let mut counts: HashMap<TemplateId, [u64; 3]> = HashMap::new();
    let (mut total, mut untimed) = (0u64, 0u64);
    for line in lines {
        let id = miner.add(line.text);
        let c = counts.entry(id).or_default();
        c[0] += 1;
        total += 1;
        match line.at {
            None => untimed += 1,
            Some(at) => {
                c[1] += u64::from(options.baseline.contains(at));
                c[2] += u64::from(options.current.contains(at));
            }
        }
    }
    // A template dropped by `max_clusters` has no text left; its lines stay in the totals.
    let templates = counts
        .into_iter()
        .filter_map(|(id, [count, baseline_count, current_count])| {
            let t = miner.template(id)?;
            Some(TemplateCounts {
                template_id: id,
                template: t.text.clone(),
                count,
                baseline_count,
                current_count,
                examples: t.examples.clone(),
            })
        })
        .collect();
    let mut report = judge(templates, options)?;
    report.lines = total;
    report.lines_without_time = untimed;
    Ok(report)
}

fn check(options: &PatternOptions) -> Result<(), PatternError> {
    for (which, w) in [("baseline", options.baseline), ("current", options.current)] {
        if w.end <= w.start {
            return Err(PatternError::EmptyWindow {
                which,
                start: w.start,
                end: w.end,
            });
        }
    }
    if !(options.alpha > 0.0 && options.alpha < 1.0) {
        return Err(PatternError::Alpha(options.alpha));
    }
    Ok(())
}

/// The decision, from counts alone: tests, adjusts, classifies, orders and cuts at the limit.
/// `lines` and `lines_without_time` are the templates' counts summed (the caller who read the
/// lines knows better and may overwrite them).
pub fn judge(
    templates: Vec<TemplateCounts>,
    options: &PatternOptions,
) -> Result<PatternReport, PatternError> {
    check(options)?;
    let (ta, tb) = (options.baseline.seconds(), options.current.seconds());
    let tests: Vec<Option<RateChange>> = templates
        .iter()
        .map(|t| {
            (t.baseline_count + t.current_count > 0)
                .then(|| rate_change(t.baseline_count, ta, t.current_count, tb))
        })
        .collect();
    let tested: Vec<f64> = tests.iter().flatten().map(|r| r.p_value).collect();
    let mut adjusted = benjamini_hochberg(&tested).into_iter();
    let mut rows: Vec<PatternRow> = templates
        .into_iter()
        .zip(tests)
        .map(|(t, test)| {
            let adjusted_p_value = test.and_then(|_| adjusted.next());
            let change = classify(
                t.baseline_count,
                t.current_count,
                adjusted_p_value,
                options.alpha,
            );
            PatternRow {
                ratio: test.map(|r| r.ratio).filter(|r| r.is_finite()),
                p_value: test.map(|r| r.p_value),
                adjusted_p_value,
                change,
                baseline_rate: t.baseline_count as f64 / ta,
                current_rate: t.current_count as f64 / tb,
                template_id: t.template_id,
                template: t.template,
                count: t.count,
                baseline_count: t.baseline_count,
                current_count: t.current_count,
                examples: t.examples,
            }
        })
        .collect();
    rows.sort_by(order);
    let report_totals = (
        rows.iter().map(|r| r.count).sum::<u64>(),
        rows.iter().map(|r| r.baseline_count).sum::<u64>(),
        rows.iter().map(|r| r.current_count).sum::<u64>(),
    );
    let templates = rows.len();
    let changes = rows.iter().filter(|r| r.change != Change::Steady).count();
    let cut = rows.split_off(options.limit.min(rows.len()));
    Ok(PatternReport {
        lines: report_totals.0,
        lines_without_time: 0,
        baseline_lines: report_totals.1,
        current_lines: report_totals.2,
        baseline_seconds: ta,
        current_seconds: tb,
        templates,
        templates_tested: tested.len(),
        changes,
        left_out: cut.len(),
        left_out_lines: cut.iter().map(|r| r.count).sum(),
        correction: "benjamini_hochberg".to_string(),
        alpha: options.alpha,
        rows,
    })
}

/// Changes before steady rows; changes by adjusted p-value, then p-value; then by count
/// (most first); the id last, so the order is total.
fn order(x: &PatternRow, y: &PatternRow) -> Ordering {
    let steady = |r: &PatternRow| r.change == Change::Steady;
    let p = |r: &PatternRow, v: Option<f64>| if steady(r) { 0.0 } else { v.unwrap_or(1.0) };
    steady(x)
        .cmp(&steady(y))
        .then_with(|| p(x, x.adjusted_p_value).total_cmp(&p(y, y.adjusted_p_value)))
        .then_with(|| p(x, x.p_value).total_cmp(&p(y, y.p_value)))
        .then_with(|| y.count.cmp(&x.count))
        .then_with(|| x.template_id.cmp(&y.template_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Nanos = NANOS_PER_SECOND;

    fn close(got: f64, want: f64, rel: f64) -> bool {
        (got - want).abs() <= rel * want.abs().max(1e-300)
    }

    #[test]
    fn the_exact_test_agrees_with_scipy_binomtest() {
        // (a, k, p, scipy.stats.binomtest(a, k, p).pvalue), the values computed by hand as the
        // sum of the exact binomial probabilities (fractions) no larger than P(X = a)·(1+1e-7),
        // which is what binomtest sums; binomtest(40, 100) = 0.05688793364098078 is its
        // documented example's neighbour and checked against scipy itself.
        let cases = [
            (0, 5, 0.5, 0.0625),
            (2, 10, 0.5, 0.109375),
            (0, 1, 0.5, 1.0),
            (3, 3, 0.25, 0.015625),
            (0, 10, 0.5, 0.001953125),
            (0, 3, 0.25, 1.0),
            (1, 20, 0.5, 4.00543212890625e-05),
            (10, 30, 1.0 / 3.0, 1.0),
            (6, 6, 1.0 / 11.0, 5.644739300537774e-07),
            (40, 100, 0.5, 0.05688793364098079),
            (5, 60, 0.25, 0.0015486489315353425),
        ];
        for (a, k, p, want) in cases {
            let got = binomial_two_sided(a, k, p);
            assert!(
                close(got, want, 1e-9),
                "binomtest({a}, {k}, {p}): {got} ≠ {want}"
            );
        }
    }

    #[test]
    fn rate_change_tests_the_counts_against_the_windows_lengths() {
        // (a, seconds a, b, seconds b, ratio, p-value); p-values as in the test above, the
        // normal approximations as erfc((|a − kp| − ½)/√(kp(1−p))/√2) computed by hand.
        let cases = [
            // One line in the current window after a baseline as long: not evidence.
            (0, 60.0, 1, 60.0, f64::INFINITY, 1.0),
            // Ten lines, none in the baseline, equal windows.
            (0, 60.0, 10, 60.0, f64::INFINITY, 0.001953125),
            // A baseline three times longer: p = 3/4 for the baseline; all 3 in the current.
            (0, 180.0, 3, 60.0, f64::INFINITY, 0.015625),
            // Same rates over unequal windows: 10 of 30 in a window a third of the time.
            (10, 100.0, 20, 200.0, 1.0, 1.0),
            (40, 60.0, 60, 60.0, 1.5, 0.05688793364098079),
            // Beyond EXACT_UP_TO: the normal approximation.
            (
                10_300,
                60.0,
                9_700,
                60.0,
                9_700.0 / 10_300.0,
                2.279730553073065e-05,
            ),
            (
                3_900,
                100.0,
                8_100,
                200.0,
                8_100.0 / 200.0 / 39.0,
                0.05400341068660634,
            ),
            (0, 60.0, 0, 60.0, 1.0, 1.0),
        ];
        for (a, sa, b, sb, ratio, p) in cases {
            let got = rate_change(a, sa, b, sb);
            assert!(
                got.ratio == ratio || close(got.ratio, ratio, 1e-12),
                "{a}/{sa} {b}/{sb}: ratio {}",
                got.ratio
            );
            assert!(
                close(got.p_value, p, 1e-6),
                "{a}/{sa} {b}/{sb}: p {} ≠ {p}",
                got.p_value
            );
        }
        let bad = rate_change(1, 0.0, 1, 1.0);
        assert!(bad.ratio.is_nan() && bad.p_value == 1.0);
        assert_eq!(rate_change(1, f64::NAN, 1, 1.0).p_value, 1.0);
    }

    #[test]
    fn benjamini_hochberg_adjusts_in_the_given_order() {
        let cases: &[(&[f64], &[f64])] = &[
            (&[], &[]),
            (&[0.01], &[0.01]),
            // m = 4: sorted 0.01, 0.02, 0.03, 0.5 → 0.04, 0.04, 0.04, 0.5.
            (&[0.03, 0.5, 0.01, 0.02], &[0.04, 0.5, 0.04, 0.04]),
            // The step-up minimum: 0.04·3/2 = 0.06 is lowered to 0.05·3/3.
            (&[0.001, 0.04, 0.05], &[0.003, 0.05, 0.05]),
            (&[0.9, 0.8], &[0.9, 0.9]),
        ];
        for &(p, want) in cases {
            let got = benjamini_hochberg(p);
            assert_eq!(got.len(), want.len());
            for (g, w) in got.iter().zip(want) {
                assert!(close(*g, *w, 1e-12), "{p:?}: {got:?} ≠ {want:?}");
            }
        }
    }

    #[test]
    fn only_significant_changes_are_classified() {
        let cases = [
            (0, 5, Some(0.001), Change::New),
            (5, 0, Some(0.001), Change::Vanished),
            (5, 50, Some(0.001), Change::RateChanged),
            (0, 1, Some(1.0), Change::Steady),
            (5, 50, Some(0.2), Change::Steady),
            (5, 50, Some(0.05), Change::RateChanged),
            (0, 0, None, Change::Steady),
        ];
        for (baseline, current, p, want) in cases {
            assert_eq!(
                classify(baseline, current, p, 0.05),
                want,
                "{baseline} {current} {p:?}"
            );
        }
    }

    fn options(limit: usize) -> PatternOptions {
        PatternOptions {
            baseline: Window {
                start: 0,
                end: 60 * S,
            },
            current: Window {
                start: 60 * S,
                end: 120 * S,
            },
            limit,
            alpha: 0.05,
            miner: MinerConfig::default(),
        }
    }

    fn counts(id: TemplateId, baseline: u64, current: u64, outside: u64) -> TemplateCounts {
        TemplateCounts {
            template_id: id,
            template: format!("t{id} <*>"),
            count: baseline + current + outside,
            baseline_count: baseline,
            current_count: current,
            examples: vec![],
        }
    }

    #[test]
    fn judge_puts_changes_first_by_significance_then_the_rest_by_count() {
        let report = judge(
            vec![
                counts(1, 100, 100, 0), // steady, the most lines
                counts(2, 0, 12, 0),    // new
                counts(3, 30, 0, 0),    // vanished, the most significant
                counts(4, 0, 1, 0),     // one stray line: steady
                counts(5, 20, 60, 0),   // rate changed
                counts(6, 0, 0, 500),   // outside both windows: not tested
            ],
            &options(10),
        )
        .unwrap();
        let got: Vec<(TemplateId, Change)> = report
            .rows
            .iter()
            .map(|r| (r.template_id, r.change))
            .collect();
        assert_eq!(
            got,
            [
                (3, Change::Vanished),
                (5, Change::RateChanged),
                (2, Change::New),
                (6, Change::Steady),
                (1, Change::Steady),
                (4, Change::Steady),
            ]
        );
        assert_eq!(
            (report.templates, report.templates_tested, report.changes),
            (6, 5, 3)
        );
        let five = &report.rows[1];
        assert_eq!(
            (five.baseline_rate, five.current_rate, five.ratio),
            (20.0 / 60.0, 1.0, Some(3.0))
        );
        let six = &report.rows[3];
        assert_eq!(
            (six.p_value, six.adjusted_p_value, six.ratio),
            (None, None, None)
        );
        assert_eq!(report.correction, "benjamini_hochberg");
    }

    #[test]
    fn the_limit_cuts_rows_and_says_how_many_were_left_out() {
        let report = judge(
            vec![counts(1, 5, 5, 0), counts(2, 3, 3, 0), counts(3, 1, 1, 0)],
            &options(1),
        )
        .unwrap();
        assert_eq!(report.rows.len(), 1);
        assert_eq!((report.left_out, report.left_out_lines), (2, 8));
        assert_eq!(report.lines, 18);
    }

    #[test]
    fn bad_options_are_refused_with_what_to_do() {
        let mut o = options(5);
        o.current = Window { start: 5, end: 5 };
        assert_eq!(
            log_patterns([], &o).unwrap_err(),
            PatternError::EmptyWindow {
                which: "current",
                start: 5,
                end: 5
            }
        );
        let mut o = options(5);
        o.alpha = 0.0;
        assert!(matches!(judge(vec![], &o), Err(PatternError::Alpha(_))));
    }

    #[test]
    fn log_patterns_mines_counts_windows_and_keeps_untimed_lines_in_totals() {
        let mut lines = Vec::new();
        let mut texts = Vec::new();
        for i in 0..60 {
            texts.push((Some(i * S + 1), format!("request served in {i} ms")));
            texts.push((
                Some(60 * S + i * S),
                format!("request served in {} ms", i + 7),
            ));
        }
        for i in 0..40 {
            texts.push((
                Some(60 * S + i * S),
                format!("connection to db-{i} refused"),
            ));
        }
        texts.push((None, "request served in 3 ms".to_string()));
        texts.push((Some(500 * S), "connection to db-x refused".to_string()));
        for (at, text) in &texts {
            lines.push(LogLine { at: *at, text });
        }
        let report = log_patterns(lines, &options(10)).unwrap();
        assert_eq!((report.lines, report.lines_without_time), (162, 1));
        assert_eq!(report.rows.len(), 2);
        let refused = &report.rows[0];
        assert_eq!(refused.template, "connection to <*> refused");
        assert_eq!(
            (
                refused.change,
                refused.count,
                refused.baseline_count,
                refused.current_count
            ),
            (Change::New, 41, 0, 40)
        );
        let served = &report.rows[1];
        assert_eq!(served.template, "request served in <*> ms");
        assert_eq!(
            (
                served.change,
                served.count,
                served.baseline_count,
                served.current_count
            ),
            (Change::Steady, 121, 60, 60)
        );
        assert_eq!(served.examples.len(), 3);
    }
}

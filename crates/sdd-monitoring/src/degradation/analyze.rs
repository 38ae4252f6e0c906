//! One series judged: bucketed, its daily and weekly profiles taken out, its trend and steps
//! measured, its growth fitted on load (or business volume) and time, and the time left
//! before its limit. Pure: the series come in as points, the answer goes out as figures with
//! the method behind each. `hunt.rs` fetches the points and ranks the answers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::stats::{
    huber_load_fit, mann_kendall_hamed_rao, median, median_in_place, normal_quantile, pelt_lines,
    remove_period, robust_sigma, theil_sen,
};

pub const DAY_MS: i64 = 86_400_000;
const WEEK_MS: i64 = 7 * DAY_MS;

/// The bucket widths a series is cut into: each divides a day (or is a whole number of days),
/// so the buckets line up with the daily profile in UTC.
const WIDTHS_MS: [i64; 21] = [
    1_000,
    2_000,
    5_000,
    10_000,
    15_000,
    30_000,
    60_000,
    120_000,
    300_000,
    600_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    10_800_000,
    14_400_000,
    21_600_000,
    43_200_000,
    DAY_MS,
    2 * DAY_MS,
    7 * DAY_MS,
];

/// At most this many buckets for the seasonal profiles and the load fit.
pub const MEDIUM_BUCKETS: i64 = 1_000;
/// At most this many buckets for the trend test, the Theil–Sen line and the change points
/// (each is quadratic in the buckets).
pub const COARSE_BUCKETS: i64 = 200;
/// Fewer coarse buckets than this: the series is not judged.
pub const MIN_BUCKETS: usize = 12;

/// The narrowest width from the ladder that cuts `span_ms` into at most `count` buckets and
/// is no narrower than `at_least_ms`.
pub fn bucket_width(span_ms: i64, count: i64, at_least_ms: i64) -> i64 {
    let wanted = (span_ms / count.max(1)).max(at_least_ms).max(1);
    WIDTHS_MS
        .iter()
        .copied()
        .find(|&w| w >= wanted)
        .unwrap_or(*WIDTHS_MS.last().expect("a ladder"))
}

/// Medians of `points` by bucket of `width_ms` (buckets aligned to the epoch), as
/// `(bucket start, median)`, empty buckets left out.
pub fn bucket_medians(points: &[(i64, f64)], width_ms: i64) -> Vec<(i64, f64)> {
    let mut out = Vec::new();
    let mut current: Option<i64> = None;
    let mut values: Vec<f64> = Vec::new();
    let flush = |start: Option<i64>, values: &mut Vec<f64>, out: &mut Vec<(i64, f64)>| {
        if let (Some(start), Some(m)) = (start, median_in_place(values)) {
            out.push((start, m));
        }
        values.clear();
    };
    for &(t, v) in points {
        if !v.is_finite() {
            continue;
        }
        let start = t.div_euclid(width_ms) * width_ms;
        if current != Some(start) {
            flush(current, &mut values, &mut out);
            current = Some(start);
        }
        values.push(v);
    }
    flush(current, &mut values, &mut out);
    out
}

/// Which way is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Worse {
    /// Memory, latency, sizes, errors, connections in use.
    Higher,
    /// Hit ratios, availability, free space.
    Lower,
}

impl Worse {
    /// `+1` when rising is worse.
    pub fn sign(self) -> f64 {
        match self {
            Worse::Higher => 1.0,
            Worse::Lower => -1.0,
        }
    }

    /// Which way is worse for a metric, by its name: ratios of hits, availability and free
    /// space fall when they degrade; everything else hunted (resources, latencies, sizes,
    /// error rates) rises.
    /// Which way is worse for a series: its labels first (`result="hit"`, `outcome="success"`
    /// fall when they degrade; `miss`, `failure`, `error` rise), then its name.
    pub fn of_series(name: &str, labels: &std::collections::BTreeMap<String, String>) -> Worse {
        for key in ["result", "outcome", "status_class", "cache"] {
            match labels.get(key).map(|v| v.to_ascii_lowercase()).as_deref() {
                Some("hit" | "hits" | "success" | "ok") => return Worse::Lower,
                Some("miss" | "misses" | "failure" | "error" | "errors" | "fail") => {
                    return Worse::Higher
                }
                _ => {}
            }
        }
        Worse::of_metric(name)
    }

    pub fn of_metric(name: &str) -> Worse {
        let name = name.to_ascii_lowercase();
        let lower_is_worse = [
            "hit_ratio",
            "hit_rate",
            "hits_ratio",
            "availability",
            "available",
            "free",
            "success_ratio",
            "apdex",
            "idle",
        ];
        if lower_is_worse.iter().any(|w| name.contains(w)) {
            Worse::Lower
        } else {
            Worse::Higher
        }
    }
}

/// A bound a series must stay within: a constraint's limit or a configured resource limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Bound {
    pub value: f64,
    /// What it is: `constraint task_management_system.performance.api_response_time (p95 ≤ 0.1 s)`.
    pub source: String,
}

/// The rates that count as degradation, percent of the level per day (the smallest of the
/// spec's daily, weekly and monthly thresholds per day; 1 % a week when the spec names none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub percent_per_day: f64,
    /// A step counts when it moves the level by at least this share (percent).
    pub step_percent: f64,
    /// A trend counts only when it also moves the series this much (percent of its level)
    /// within the window: a few minutes' drift is no rate per day.
    pub window_change_percent: f64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            percent_per_day: 1.0 / 7.0,
            step_percent: 5.0,
            window_change_percent: 1.0,
        }
    }
}

/// What a series may follow: the load (a rate) or the business volume, aligned to the series'
/// timestamps by the caller.
pub struct Driver<'a> {
    /// `load (requests/s)` or `business volume`.
    pub name: &'a str,
    pub points: &'a [(i64, f64)],
    /// Judge the series per unit of the driver (stored data per unit of business volume:
    /// "tables growing faster than business metrics") rather than less the driver's part.
    pub per_unit: bool,
    /// The driver's medians per bucket width, shared by every series of a hunt (each asks for
    /// the same few widths); `None` computes them for this series alone.
    pub medians: Option<&'a DriverMedians>,
}

/// `(bucket start, median)` of a series, shared.
type Medians = std::sync::Arc<Vec<(i64, f64)>>;

/// A driver's medians by bucket width, computed once per width and shared across threads.
#[derive(Default)]
pub struct DriverMedians(std::sync::Mutex<std::collections::HashMap<i64, Medians>>);

impl DriverMedians {
    fn of(&self, points: &[(i64, f64)], width: i64) -> std::sync::Arc<Vec<(i64, f64)>> {
        if let Some(found) = self.0.lock().ok().and_then(|m| m.get(&width).cloned()) {
            return found;
        }
        let medians = std::sync::Arc::new(bucket_medians(points, width));
        if let Ok(mut m) = self.0.lock() {
            m.insert(width, medians.clone());
        }
        medians
    }
}

impl Driver<'_> {
    fn medians(&self, width: i64) -> std::sync::Arc<Vec<(i64, f64)>> {
        match self.medians {
            Some(cache) => cache.of(self.points, width),
            None => std::sync::Arc::new(bucket_medians(self.points, width)),
        }
    }
}

pub struct SeriesInput<'a> {
    pub points: &'a [(i64, f64)],
    pub worse: Worse,
    pub driver: Option<Driver<'a>>,
    pub bound: Option<Bound>,
    /// The narrowest bucket worth cutting (the data's resolution).
    pub resolution_ms: i64,
}

/// The trend, on the deseasonalised coarse buckets.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Trend {
    pub method: String,
    /// Theil–Sen slope, in the series' unit per day.
    pub per_day: f64,
    /// Sen's 95 % interval of the slope (autocorrelation-corrected).
    pub per_day_low: f64,
    pub per_day_high: f64,
    /// What the slope moves the series over the window, percent of its level.
    pub percent_over_window: f64,
    /// The slope as a share of the level: percent per day, week and month (30 days).
    pub percent_per_day: f64,
    pub percent_per_week: f64,
    pub percent_per_month: f64,
    /// Mann–Kendall, Hamed–Rao corrected.
    pub z: f64,
    pub p: f64,
    pub kendall_tau: f64,
    /// How much autocorrelation widened Var(S).
    pub variance_inflation: f64,
    /// The smallest trend (percent per week) this series would show at 80 % power at the
    /// hunt's significance: what "no trend" rules out.
    pub detectable_percent_per_week: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SeasonalProfile {
    /// `1d` or `7d`.
    pub period: String,
    /// Peak to trough, in the series' unit.
    pub amplitude: f64,
    /// Share of the detrended variance it explains.
    pub explained: f64,
    /// The F test's p.
    pub p: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// When the new level starts, ms since the epoch.
    #[serde(skip)]
    pub at_ms: i64,
    /// RFC 3339.
    pub at: String,
    /// The new level minus the old, in the series' unit.
    pub step: f64,
    pub step_percent: f64,
    /// In units of the noise's standard deviation.
    pub sigmas: f64,
    /// The change of slope, per day.
    pub slope_change_per_day: f64,
    /// The level after (the median of everything from the change on) against the median of
    /// everything before it, percent: a return to an earlier level (Monday after a weekend) or
    /// noise that jumps about is no step to a worse level.
    pub against_all_before_percent: f64,
}

/// The series fitted on its driver and time.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DriverFit {
    pub driver: String,
    pub method: String,
    /// Change per unit of the driver.
    pub per_driver_unit: f64,
    pub driver_p: f64,
    /// Share of the variance the driver explains beyond time.
    pub driver_explained: f64,
    /// Growth at the same driver level, per day, with its 95 % interval.
    pub time_per_day: f64,
    pub time_per_day_low: f64,
    pub time_per_day_high: f64,
    pub time_percent_per_day: f64,
    pub time_p: f64,
    /// Whether the driver explains the series strongly enough (p < 0.001, at least half the
    /// variance beyond time) for the verdict to rest on the series less its part.
    pub decides: bool,
    /// The trend of the series less the driver's part (`y − b·driver`), when the driver
    /// explains it at all (p < 0.05): the growth at the same load.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend_at_same_driver: Option<Trend>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps_at_same_driver: Vec<Step>,
}

/// Whether and when the series crosses its bound.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TimeToViolation {
    pub bound: String,
    pub limit: f64,
    /// Where the trend line stands at the window's end, plus half the daily profile's swing
    /// when there is one (the daily peak crosses first).
    pub now: f64,
    /// `violated now`, `crosses in 12–40 days`, `not on this trend` …
    pub summary: String,
    /// Days until the crossing at the fastest and slowest slope of the interval (absent: the
    /// slope does not head there).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_earliest: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub days_latest: Option<f64>,
    /// At 7, 30 and 90 days.
    pub horizons: Vec<Horizon>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Horizon {
    pub days: u32,
    pub low: f64,
    pub high: f64,
    /// `violated` (even the slowest slope crosses), `may violate` (the fastest does), `holds`.
    pub status: String,
}

/// The verdict on one series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Worsening beyond the thresholds, significantly, and not explained by its driver.
    Degrading,
    /// Worsening, but as its driver (load, business volume) grew: not degradation.
    FollowsDriver,
    /// A significant trend the better way.
    Improving,
    /// No significant trend or step (the power says how small a trend is ruled out).
    NoTrend,
    /// A significant trend slower than the thresholds.
    BelowThreshold,
    /// Not judged: too few points, or no variation.
    NotJudged,
}

/// What shape the degradation takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Pattern {
    /// Rising steadily (a leak, a creep).
    Rising,
    /// Falling steadily (a declining hit ratio).
    Declining,
    /// A step to a worse level.
    Step,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SeriesAnalysis {
    pub verdict: Verdict,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern: Option<Pattern>,
    /// Why, in a line.
    pub summary: String,
    /// Points used, and the buckets they were cut into.
    pub samples: usize,
    pub buckets: usize,
    pub bucket: String,
    /// The median level.
    pub level: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trend: Option<Trend>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub seasonality: Vec<SeasonalProfile>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<Step>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_fit: Option<DriverFit>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_to_violation: Option<TimeToViolation>,
    /// The p the verdict rests on (the time term's when a driver was fitted), before and after
    /// the correction for the number of series.
    #[serde(skip)]
    pub p: f64,
    /// The coarse, deseasonalised buckets (for the correlations between series).
    #[serde(skip)]
    pub coarse: Vec<(i64, f64)>,
}

/// A series the statistics failed on (said, never dropped).
pub fn analyze_failed(samples: usize) -> SeriesAnalysis {
    SeriesAnalysis::not_judged(samples, String::new())
}

impl SeriesAnalysis {
    fn not_judged(samples: usize, why: String) -> SeriesAnalysis {
        SeriesAnalysis {
            verdict: Verdict::NotJudged,
            pattern: None,
            summary: why,
            samples,
            buckets: 0,
            bucket: String::new(),
            level: f64::NAN,
            trend: None,
            seasonality: Vec::new(),
            steps: Vec::new(),
            driver_fit: None,
            time_to_violation: None,
            p: 1.0,
            coarse: Vec::new(),
        }
    }
}

/// Everything about one series but the verdict, which needs every series' p (the correction
/// for how many were hunted): [`decide`] gives it.
///
/// The series is measured as it is; when a driver (load, business volume) explains it, it is
/// measured again less the driver's part (`y − b·driver`, `b` from a Huber fit on driver and
/// time): the growth at the same load. The second measure can only explain a finding away,
/// never make one: a driver that shares a daily cycle with an unrelated series must not
/// paint the driver's own growth onto it.
pub fn analyze(input: &SeriesInput, significance: f64) -> SeriesAnalysis {
    let points: Vec<(i64, f64)> = input
        .points
        .iter()
        .copied()
        .filter(|(_, v)| v.is_finite())
        .collect();
    let samples = points.len();
    let (Some(first), Some(last)) = (points.first(), points.last()) else {
        return SeriesAnalysis::not_judged(0, "no points in the window".into());
    };
    // Sums of squares overflow past 1e154: no figure computed from such values would mean
    // anything, so none is claimed.
    if points.iter().any(|p| p.1.abs() > 1e150) {
        return SeriesAnalysis::not_judged(
            samples,
            "its values reach past ±1e150, where the sums of squares the statistics need overflow"
                .into(),
        );
    }
    let span = last.0 - first.0;
    let coarse_width = bucket_width(span, COARSE_BUCKETS, input.resolution_ms);
    let medium_width = bucket_width(span, MEDIUM_BUCKETS, input.resolution_ms).min(coarse_width);
    let raw_coarse = bucket_medians(&points, coarse_width);
    let bucket = crate::window::format_duration(coarse_width);
    if raw_coarse.len() < MIN_BUCKETS {
        return SeriesAnalysis::not_judged(
            samples,
            format!(
                "{} bucket(s) of {bucket} in the window: at least {MIN_BUCKETS} are needed to judge a trend",
                raw_coarse.len(),
            ),
        );
    }
    let mut values: Vec<f64> = points.iter().map(|p| p.1).collect();
    let level = median_in_place(&mut values).unwrap_or(0.0);
    let spread = robust_sigma(&raw_coarse.iter().map(|p| p.1).collect::<Vec<_>>()).unwrap_or(0.0);
    let (low, high) = raw_coarse
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), p| {
            (l.min(p.1), h.max(p.1))
        });
    if high - low <= f64::EPSILON * level.abs().max(1.0) {
        let mut a =
            SeriesAnalysis::not_judged(samples, format!("constant at {level} in the window"));
        a.level = level;
        a.verdict = Verdict::NoTrend;
        a.buckets = raw_coarse.len();
        a.bucket = bucket;
        // Flat is no trend, but a flat series past its bound is violated now.
        a.time_to_violation = input
            .bound
            .as_ref()
            .map(|bound| project(bound, input.worse, level, 0.0, 0.0));
        return a;
    }
    if !(low.is_finite() && high.is_finite() && (high - low).is_finite()) {
        return SeriesAnalysis::not_judged(
            samples,
            "its values are too large to compute with (beyond ±1e300 their differences overflow)"
                .into(),
        );
    }
    // The scale percentages are taken of: the level, or the spread when the level is near 0.
    let scale = level.abs().max(spread).max(f64::MIN_POSITIVE);
    let grid = Grid {
        origin: first.0,
        medium_width,
        coarse_width,
        scale,
        significance,
    };
    let medium = bucket_medians(&points, medium_width);
    let raw = match measure(&grid, medium.clone(), "") {
        Ok(m) => m,
        Err(why) => return SeriesAnalysis::not_judged(samples, why),
    };

    // The driver's part, from the medium buckets.
    let mut driver_fit = None;
    if let Some(driver) = input.driver.as_ref().filter(|d| d.per_unit) {
        // Per unit of the business volume: a table that grows with the business keeps its
        // size per order (or lets it fall, as a fixed overhead spreads); one that grows faster
        // sees it rise. A ratio needs no fit, so time and volume rising together (steady
        // business) confuse nothing.
        let driver_medium = driver.medians(medium_width);
        let per_unit: Vec<(i64, f64)> = align(&medium, driver_medium.as_slice())
            .into_iter()
            .filter(|r| r.2 > 0.0)
            .map(|(t, y, d)| (t, y / d))
            .collect();
        let unit_scale = median(&per_unit.iter().map(|p| p.1).collect::<Vec<_>>())
            .unwrap_or(0.0)
            .abs();
        let unit_grid = Grid {
            scale: unit_scale.max(f64::MIN_POSITIVE),
            ..grid
        };
        let per = measure(&unit_grid, per_unit, "").ok();
        driver_fit = Some(DriverFit {
            driver: driver.name.to_string(),
            method: format!(
                "the series divided by {} at each of its medians of {}, measured as a series of its own",
                driver.name,
                crate::window::format_duration(medium_width)
            ),
            per_driver_unit: unit_scale,
            driver_p: 0.0,
            driver_explained: 1.0,
            time_per_day: per.as_ref().map_or(0.0, |m| m.trend.per_day),
            time_per_day_low: per.as_ref().map_or(0.0, |m| m.trend.per_day_low),
            time_per_day_high: per.as_ref().map_or(0.0, |m| m.trend.per_day_high),
            time_percent_per_day: per.as_ref().map_or(0.0, |m| m.trend.percent_per_day),
            time_p: per.as_ref().map_or(1.0, |m| m.p),
            decides: per.is_some(),
            trend_at_same_driver: per.as_ref().map(|m| m.trend.clone()),
            steps_at_same_driver: per.map(|m| m.steps).unwrap_or_default(),
        });
    } else if let Some(driver) = &input.driver {
        let driver_medium = driver.medians(medium_width);
        let aligned = align(&medium, driver_medium.as_slice());
        let xs: Vec<f64> = aligned.iter().map(|r| grid.days(r.0)).collect();
        let ds: Vec<f64> = aligned.iter().map(|r| r.2).collect();
        let ys: Vec<f64> = aligned.iter().map(|r| r.1).collect();
        if let Some(fit) = huber_load_fit(&xs, &ds, &ys) {
            let z = normal_quantile(0.975);
            let explains = fit.load_p() < 0.05;
            let adjusted = explains
                .then(|| {
                    let less: Vec<(i64, f64)> = aligned
                        .iter()
                        .map(|&(t, y, d)| (t, y - fit.load * d))
                        .collect();
                    measure(&grid, less, "the driver's part").ok()
                })
                .flatten();
            driver_fit = Some(DriverFit {
                driver: driver.name.to_string(),
                method: format!(
                    "Huber-weighted least squares of the series on {} and time over {} medians of {} (standard errors widened for the residuals' lag-1 autocorrelation, {:.2}){}",
                    driver.name,
                    xs.len(),
                    crate::window::format_duration(medium_width),
                    fit.rho,
                    if explains {
                        "; the series less the driver's part is measured again"
                    } else {
                        "; the driver explains nothing significant"
                    }
                ),
                per_driver_unit: fit.load,
                driver_p: fit.load_p(),
                driver_explained: fit.load_explained,
                time_per_day: fit.time,
                time_per_day_low: fit.time - z * fit.time_se,
                time_per_day_high: fit.time + z * fit.time_se,
                time_percent_per_day: fit.time / scale * 100.0,
                time_p: fit.time_p(),
                // Half the variance beyond time: a series that only shares the load's cycles
                // (busy by day, quiet at weekends; a fifth to two fifths on the synthetic
                // series) must not have the load's growth painted onto it.
                decides: adjusted.is_some()
                    && fit.load_p() < 0.001
                    && fit.load_explained >= 0.5,
                trend_at_same_driver: adjusted.as_ref().map(|m| m.trend.clone()),
                steps_at_same_driver: adjusted.map(|m| m.steps).unwrap_or_default(),
            });
        }
    }

    // Time to the bound, from the series' own line and its interval.
    let time_to_violation = input.bound.as_ref().map(|bound| {
        let swing = raw
            .seasonality
            .iter()
            .find(|s| s.period == "1d")
            .map_or(0.0, |s| s.amplitude / 2.0);
        let now = raw.now + input.worse.sign() * swing;
        project(
            bound,
            input.worse,
            now,
            raw.trend.per_day_low,
            raw.trend.per_day_high,
        )
    });

    SeriesAnalysis {
        verdict: Verdict::NotJudged,
        pattern: None,
        summary: String::new(),
        samples,
        buckets: raw.coarse.len(),
        bucket,
        level,
        p: driver_fit
            .as_ref()
            .filter(|f| f.decides)
            .and_then(|f| f.trend_at_same_driver.as_ref())
            .map_or(raw.p, |t| t.p),
        trend: Some(raw.trend),
        seasonality: raw.seasonality,
        steps: raw.steps,
        driver_fit,
        time_to_violation,
        coarse: raw.coarse,
    }
}

/// The buckets and scale a series is measured on.
struct Grid {
    origin: i64,
    medium_width: i64,
    coarse_width: i64,
    scale: f64,
    significance: f64,
}

impl Grid {
    fn days(&self, t: i64) -> f64 {
        (t - self.origin) as f64 / DAY_MS as f64
    }
}

/// One measure of a series: its profiles out, its trend, its steps.
struct Measure {
    trend: Trend,
    p: f64,
    seasonality: Vec<SeasonalProfile>,
    steps: Vec<Step>,
    coarse: Vec<(i64, f64)>,
    /// The trend line at the last bucket.
    now: f64,
}

/// Take the daily and weekly profiles out of `medium` where an F test finds them
/// (detrended by the Theil–Sen slope of `coarse`, the same series in coarse buckets).
fn take_out_cycles(
    grid: &Grid,
    medium: &mut [(i64, f64)],
    coarse: &[(i64, f64)],
) -> Vec<SeasonalProfile> {
    let (cx, cy): (Vec<f64>, Vec<f64>) = coarse.iter().map(|&(t, v)| (grid.days(t), v)).unzip();
    let slope = theil_sen(&cx, &cy, 0.0, 0.95).map_or(0.0, |l| l.slope);
    let mut seasonality = Vec::new();
    // Phases from the epoch: the profiles line up with UTC days and weeks.
    let mx: Vec<f64> = medium.iter().map(|p| p.0 as f64 / DAY_MS as f64).collect();
    let mut my: Vec<f64> = medium.iter().map(|p| p.1).collect();
    for (period_ms, label) in [(DAY_MS, "1d"), (WEEK_MS, "7d")] {
        let phases = (period_ms / grid.medium_width).min(168) as usize;
        if phases < 4 {
            continue;
        }
        if let Some(s) = remove_period(
            &mx,
            &mut my,
            slope,
            period_ms as f64 / DAY_MS as f64,
            phases,
            0.001,
        ) {
            seasonality.push(SeasonalProfile {
                period: label.into(),
                amplitude: s.amplitude,
                explained: s.explained,
                p: s.p,
            });
        }
    }
    for (m, y) in medium.iter_mut().zip(my) {
        m.1 = y;
    }
    seasonality
}

/// Measure the medium buckets `medium` (`taken_out`: what was already taken out of them, for
/// the method line).
fn measure(grid: &Grid, mut medium: Vec<(i64, f64)>, taken_out: &str) -> Result<Measure, String> {
    let (medium_width, coarse_width) = (grid.medium_width, grid.coarse_width);
    let bucket = crate::window::format_duration(coarse_width);
    let first_coarse = bucket_medians(&medium, coarse_width);
    let seasonality = take_out_cycles(grid, &mut medium, &first_coarse);
    let coarse = if seasonality.is_empty() {
        first_coarse
    } else {
        bucket_medians(&medium, coarse_width)
    };
    let (x, y): (Vec<f64>, Vec<f64>) = coarse.iter().map(|&(t, v)| (grid.days(t), v)).unzip();
    let n = x.len();
    if n < MIN_BUCKETS {
        return Err(format!(
            "{n} bucket(s) of {bucket} with data: at least {MIN_BUCKETS} are needed"
        ));
    }
    let rough = theil_sen(&x, &y, 0.0, 0.95).ok_or("no two buckets at different times")?;
    let mk =
        mann_kendall_hamed_rao(&x, &y, rough.slope).ok_or("too few buckets for Mann–Kendall")?;
    let line = theil_sen(&x, &y, mk.corrected_var(), 0.95).unwrap_or(rough);
    let residuals: Vec<f64> = (0..n)
        .map(|i| y[i] - line.intercept - line.slope * x[i])
        .collect();
    let sigma = robust_sigma(&residuals)
        .unwrap_or(0.0)
        .max(f64::EPSILON * grid.scale);
    // Power: the slope a test at the hunt's significance finds four times in five, from the
    // OLS slope's standard error widened by the autocorrelation and Theil–Sen's efficiency
    // (0.91).
    let mean_x = x.iter().sum::<f64>() / n as f64;
    let sxx: f64 = x.iter().map(|v| (v - mean_x).powi(2)).sum();
    let se = sigma / sxx.sqrt() * (mk.variance_inflation / 0.91).sqrt();
    let detectable = (normal_quantile(1.0 - grid.significance / 2.0) + normal_quantile(0.8)) * se;
    let percent = |per_day: f64| per_day / grid.scale * 100.0;
    let mut out = Vec::new();
    if !taken_out.is_empty() {
        out.push(taken_out.to_string());
    }
    if !seasonality.is_empty() {
        out.push(format!(
            "the {} profile (medians per phase of {} buckets, kept at F-test p < 0.001)",
            seasonality
                .iter()
                .map(|s| s.period.as_str())
                .collect::<Vec<_>>()
                .join(" and "),
            crate::window::format_duration(medium_width)
        ));
    }
    let trend = Trend {
        method: format!(
            "Theil–Sen slope and Mann–Kendall test (Hamed–Rao correction for autocorrelation) on {n} medians of {bucket}{}",
            if out.is_empty() {
                String::new()
            } else {
                format!(", after {} taken out", out.join(" and "))
            }
        ),
        per_day: line.slope,
        per_day_low: line.low,
        per_day_high: line.high,
        percent_over_window: percent(line.slope) * (x[n - 1] - x[0]),
        percent_per_day: percent(line.slope),
        percent_per_week: percent(line.slope) * 7.0,
        percent_per_month: percent(line.slope) * 30.0,
        z: mk.z,
        p: mk.p,
        kendall_tau: mk.tau,
        variance_inflation: mk.variance_inflation,
        detectable_percent_per_week: percent(detectable) * 7.0,
    };
    // Steps: PELT over line segments, at the BIC's penalty doubled (buckets are not
    // independent), segments of at least a twentieth of the window, at least 4 σ. The noise
    // σ comes from the bucket-to-bucket differences: the residuals from one line would count
    // the step itself as noise and hide it.
    let differences: Vec<f64> = y.windows(2).map(|w| w[1] - w[0]).collect();
    // Never under a quarter of the residuals' σ: a quantised series (a percentile from
    // histogram buckets) has bucket-to-bucket differences that are mostly 0.
    let step_sigma = robust_sigma(&differences)
        .map(|s| s / std::f64::consts::SQRT_2)
        .unwrap_or(0.0)
        .max(sigma / 4.0);
    let min_len = (n / 20).max(4);
    let changes = pelt_lines(&x, &y, step_sigma, 6.0 * (n as f64).ln(), min_len);
    let steps: Vec<Step> = changes
        .iter()
        // A quarter of the window after it at least: a jump in the last minutes is not yet a
        // level (a busy neighbour on the machine, a burst).
        .filter(|c| c.step_sigmas.abs() >= 4.0 && c.index * 4 <= n * 3)
        .map(|c| (c, against_before(&y, c.index, grid.scale)))
        .map(|(c, against_all_before_percent)| Step {
            against_all_before_percent,
            at_ms: coarse[c.index].0,
            at: rfc3339(coarse[c.index].0),
            step: c.step,
            step_percent: c.step / grid.scale * 100.0,
            sigmas: c.step_sigmas,
            slope_change_per_day: c.slope_change,
        })
        .collect();
    Ok(Measure {
        now: line.intercept + line.slope * x[n - 1],
        p: mk.p,
        trend,
        seasonality,
        steps,
        coarse,
    })
}

/// `(t, series, driver)` where both have a bucket.
fn align(series: &[(i64, f64)], driver: &[(i64, f64)]) -> Vec<(i64, f64, f64)> {
    let mut j = 0;
    let mut out = Vec::with_capacity(series.len());
    for &(t, v) in series {
        while j < driver.len() && driver[j].0 < t {
            j += 1;
        }
        if j < driver.len() && driver[j].0 == t {
            out.push((t, v, driver[j].1));
        }
    }
    out
}

/// The median of everything from `from` on against the median of everything before it,
/// percent of `scale`: a step to a worse level stays there (noise that jumps about, or a
/// weekend's dip, comes back).
fn against_before(y: &[f64], from: usize, scale: f64) -> f64 {
    match (median(&y[from..]), median(&y[..from])) {
        (Some(after), Some(before)) => (after - before) / scale * 100.0,
        _ => 0.0,
    }
}

/// What one measure (the series, or the series at the same driver) says.
enum Reading {
    Worsening(Pattern, String),
    BelowThreshold(String),
    Improving(String),
    Flat(String),
}

fn read(
    trend: &Trend,
    steps: &[Step],
    q: f64,
    worse: Worse,
    significance: f64,
    thresholds: Thresholds,
) -> Reading {
    let sign = worse.sign();
    let significant = q <= significance;
    let worsening = trend.per_day * sign > 0.0;
    let rate = |pct: f64| format!("{:+.3} % a day ({:+.2} % a week)", pct, pct * 7.0);
    let way = if sign > 0.0 { "rising" } else { "declining" };
    let step = steps
        .iter()
        .filter(|s| {
            s.step * sign > 0.0
                && s.step_percent.abs() >= thresholds.step_percent
                && s.against_all_before_percent * sign >= thresholds.step_percent
        })
        .max_by(|a, b| a.sigmas.abs().total_cmp(&b.sigmas.abs()));
    // A step first: a line through a step is a trend too, but "since when" is the news.
    if let Some(s) = step {
        return Reading::Worsening(
            Pattern::Step,
            format!(
                "a step of {:+.1} % ({:.1} σ) at {}",
                s.step_percent, s.sigmas, s.at
            ),
        );
    }
    if significant
        && worsening
        && trend.percent_per_day.abs() >= thresholds.percent_per_day
        && trend.percent_over_window.abs() >= thresholds.window_change_percent
    {
        let pattern = if sign > 0.0 {
            Pattern::Rising
        } else {
            Pattern::Declining
        };
        return Reading::Worsening(
            pattern,
            format!("{way} {} (q {q:.1e})", rate(trend.percent_per_day)),
        );
    }
    if significant && worsening {
        return Reading::BelowThreshold(format!(
            "{way} {} ({:+.2} % over the window) — under the threshold, {:.3} % a day and {} % over the window",
            rate(trend.percent_per_day),
            trend.percent_over_window,
            thresholds.percent_per_day,
            thresholds.window_change_percent
        ));
    }
    if significant {
        return Reading::Improving(format!("improving {}", rate(trend.percent_per_day)));
    }
    Reading::Flat(format!(
        "no trend (q {q:.2}); one of {:.2} % a week would have been found 4 times in 5",
        trend.detectable_percent_per_week
    ))
}

/// The verdict, once the p values are corrected for the number of series: `q` is the
/// corrected p of the measure the verdict rests on — the series less its driver's part when
/// the driver decides, the series itself otherwise.
pub fn decide(
    a: &mut SeriesAnalysis,
    worse: Worse,
    q: f64,
    significance: f64,
    thresholds: Thresholds,
) {
    let Some(trend) = a.trend.clone() else {
        return;
    };
    let deciding = a
        .driver_fit
        .as_ref()
        .filter(|f| f.decides)
        .and_then(|f| Some((f, f.trend_at_same_driver.as_ref()?)));
    let (verdict, pattern, summary) = match deciding {
        None => match read(&trend, &a.steps, q, worse, significance, thresholds) {
            Reading::Worsening(pattern, said) => (Verdict::Degrading, Some(pattern), said),
            Reading::BelowThreshold(said) => (Verdict::BelowThreshold, None, said),
            Reading::Improving(said) => (Verdict::Improving, None, said),
            Reading::Flat(said) => (Verdict::NoTrend, None, said),
        },
        Some((fit, adjusted)) => {
            let at_same = if fit.driver == "business volume" {
                "per unit of business volume".to_string()
            } else {
                format!("at the same {}", fit.driver)
            };
            // The series must itself move the worse way, by the window floor: a flat series
            // is never degrading because of what its driver did.
            let itself_worsens = trend.per_day * worse.sign() > 0.0
                && trend.percent_over_window.abs() >= thresholds.window_change_percent;
            match read(
                adjusted,
                &fit.steps_at_same_driver,
                q,
                worse,
                significance,
                thresholds,
            ) {
                Reading::Worsening(pattern, said) if itself_worsens => (
                    Verdict::Degrading,
                    Some(pattern),
                    format!("{at_same}: {said}"),
                ),
                Reading::Worsening(_, said) => (
                    Verdict::NoTrend,
                    None,
                    format!(
                        "{at_same}: {said}; but the series itself moves {:+.2} % over the window, so what changed is its driver",
                        trend.percent_over_window
                    ),
                ),
                other => {
                    let said = match other {
                        Reading::BelowThreshold(s) | Reading::Improving(s) | Reading::Flat(s) => s,
                        Reading::Worsening(_, s) => s,
                    };
                    // The series itself worsens (uncorrected: a description, not a finding).
                    let raw_worsens = trend.p <= significance && trend.per_day * worse.sign() > 0.0;
                    if raw_worsens {
                        (
                            Verdict::FollowsDriver,
                            None,
                            format!(
                                "{} {:+.3} % a day as {} grew ({:.0} % of the variance beyond time is its); {at_same}: {said}",
                                if worse.sign() > 0.0 { "rising" } else { "declining" },
                                trend.percent_per_day,
                                fit.driver,
                                fit.driver_explained * 100.0,
                            ),
                        )
                    } else {
                        let verdict = match read(
                            adjusted,
                            &fit.steps_at_same_driver,
                            q,
                            worse,
                            significance,
                            thresholds,
                        ) {
                            Reading::BelowThreshold(_) => Verdict::BelowThreshold,
                            Reading::Improving(_) => Verdict::Improving,
                            _ => Verdict::NoTrend,
                        };
                        (verdict, None, format!("{at_same}: {said}"))
                    }
                }
            }
        }
    };
    a.verdict = verdict;
    a.pattern = pattern;
    a.summary = summary;
}

/// Where the trend takes the series against its bound.
fn project(bound: &Bound, worse: Worse, now: f64, low: f64, high: f64) -> TimeToViolation {
    let sign = worse.sign();
    // Distance to go, and the slopes, in the worsening direction.
    let distance = (bound.value - now) * sign;
    let (slow, fast) = {
        let (a, b) = (low * sign, high * sign);
        (a.min(b), a.max(b))
    };
    let horizons = [7u32, 30, 90]
        .iter()
        .map(|&days| {
            let d = days as f64;
            let (a, b) = (now + low * d, now + high * d);
            let (lo, hi) = (a.min(b), a.max(b));
            let crossed = |v: f64| (v - bound.value) * sign >= 0.0;
            let (best, worst) = if sign > 0.0 { (lo, hi) } else { (hi, lo) };
            let status = if crossed(best) {
                "violated"
            } else if crossed(worst) {
                "may violate"
            } else {
                "holds"
            };
            Horizon {
                days,
                low: lo,
                high: hi,
                status: status.into(),
            }
        })
        .collect();
    let (summary, earliest, latest) = if distance <= 0.0 {
        ("violated now".to_string(), Some(0.0), Some(0.0))
    } else if fast <= 0.0 {
        (
            "not heading toward it: the slope's interval does not point there".to_string(),
            None,
            None,
        )
    } else {
        let earliest = distance / fast;
        let latest = (slow > 0.0).then(|| distance / slow);
        let text = match latest {
            Some(l) => format!("crosses in {} to {}", days_text(earliest), days_text(l)),
            None => format!(
                "crosses in {} at the fastest slope of the interval; the slowest does not head there",
                days_text(earliest)
            ),
        };
        (text, Some(earliest), latest)
    };
    TimeToViolation {
        bound: bound.source.clone(),
        limit: bound.value,
        now,
        summary,
        days_earliest: earliest,
        days_latest: latest,
        horizons,
    }
}

fn days_text(days: f64) -> String {
    if days < 1.0 / 24.0 {
        format!("{:.0} min", days * 1440.0)
    } else if days < 2.0 {
        format!("{:.1} h", days * 24.0)
    } else {
        format!("{days:.1} days")
    }
}

pub fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::synthetic::{load, series, Planted, Shape};
    use super::*;

    const ALPHA: f64 = 0.01;

    fn judge(shape: &Shape, planted: Planted, worse: Worse, with_load: bool) -> SeriesAnalysis {
        let load = load(
            shape,
            if planted == Planted::FollowsLoad {
                0.01
            } else {
                0.0
            },
        );
        let points = series(shape, planted, &load);
        let input = SeriesInput {
            points: &points,
            worse,
            driver: with_load.then_some(Driver {
                name: "load",
                points: &load,
                per_unit: false,
                medians: None,
            }),
            bound: None,
            resolution_ms: shape.step_ms,
        };
        let mut a = analyze(&input, ALPHA);
        let p = a.p;
        decide(&mut a, worse, p, ALPHA, Thresholds::default());
        a
    }

    #[test]
    fn bucket_widths_divide_a_day_and_respect_the_resolution() {
        let cases = [
            (90 * DAY_MS, 200, 60_000, 43_200_000),
            (90 * DAY_MS, 1_000, 60_000, 10_800_000),
            (7 * DAY_MS, 200, 60_000, 3_600_000),
            (240_000, 200, 1_000, 2_000),
            (240_000, 200, 5_000, 5_000),
            (400 * DAY_MS, 200, 1, 2 * DAY_MS),
            (4000 * DAY_MS, 200, 1, 7 * DAY_MS),
        ];
        for (span, count, at_least, width) in cases {
            assert_eq!(
                bucket_width(span, count, at_least),
                width,
                "{span} / {count}"
            );
        }
        let medians = bucket_medians(&[(0, 1.0), (10, 3.0), (20, 2.0), (100, 7.0)], 50);
        assert_eq!(medians, [(0, 2.0), (100, 7.0)]);
    }

    /// Every planted kind, at production scale (90 days a minute apart), is named as what it
    /// is; the healthy kinds are not.
    #[test]
    fn planted_faults_are_found_and_healthy_series_are_not() {
        let cases: &[(Planted, Worse, bool, Verdict, Option<Pattern>)] = &[
            (
                Planted::Healthy,
                Worse::Higher,
                true,
                Verdict::NoTrend,
                None,
            ),
            (
                Planted::Seasonal,
                Worse::Higher,
                false,
                Verdict::NoTrend,
                None,
            ),
            (
                Planted::FollowsLoad,
                Worse::Higher,
                true,
                Verdict::FollowsDriver,
                None,
            ),
            (
                Planted::Leak {
                    percent_per_day: 1.0,
                },
                Worse::Higher,
                true,
                Verdict::Degrading,
                Some(Pattern::Rising),
            ),
            (
                Planted::Creep {
                    percent_per_week: 2.0,
                },
                Worse::Higher,
                true,
                Verdict::Degrading,
                Some(Pattern::Rising),
            ),
            (
                Planted::Step {
                    at_day: 60.0,
                    percent: 25.0,
                },
                Worse::Higher,
                false,
                Verdict::Degrading,
                Some(Pattern::Step),
            ),
            (
                Planted::Decline {
                    points_per_day: 0.2,
                },
                Worse::Lower,
                false,
                Verdict::Degrading,
                Some(Pattern::Declining),
            ),
        ];
        for (seed, (planted, worse, with_load, verdict, pattern)) in cases.iter().enumerate() {
            let a = judge(
                &Shape::ninety_days(seed as u64 + 1),
                *planted,
                *worse,
                *with_load,
            );
            assert_eq!(
                (a.verdict, a.pattern),
                (*verdict, *pattern),
                "{planted:?}: {} — {:?}",
                a.summary,
                a.trend
            );
        }
    }

    #[test]
    fn a_leak_is_measured_at_its_rate_and_seasonality_is_named() {
        let a = judge(
            &Shape::ninety_days(3),
            Planted::Leak {
                percent_per_day: 1.0,
            },
            Worse::Higher,
            true,
        );
        let fit = a.driver_fit.as_ref().unwrap();
        // 5 a day on a level near 500: about 1 % a day.
        assert!((fit.time_per_day - 5.0).abs() < 0.5, "{fit:?}");
        let trend = a.trend.as_ref().unwrap();
        assert!((trend.per_day - 5.0).abs() < 0.5, "{trend:?}");
        assert!(trend.per_day_low < trend.per_day && trend.per_day < trend.per_day_high);
        let seasonal = judge(
            &Shape::ninety_days(4),
            Planted::Seasonal,
            Worse::Higher,
            false,
        );
        let periods: Vec<&str> = seasonal
            .seasonality
            .iter()
            .map(|s| s.period.as_str())
            .collect();
        assert_eq!(periods, ["1d", "7d"], "{:?}", seasonal.seasonality);
    }

    /// At α = 1 %, noise with autocorrelation, a daily cycle and spikes is called degrading in
    /// about 1 % of seeds (binomially, at most 5 of 200), and a planted creep of 2 % a week is
    /// found in nearly all.
    #[test]
    fn the_false_positive_rate_holds_over_many_seeds() {
        let shape = |seed| Shape {
            days: 14.0,
            step_ms: 300_000,
            seed,
        };
        let false_alarms = (0..200)
            .filter(|&seed| {
                judge(&shape(seed), Planted::Healthy, Worse::Higher, false).verdict
                    == Verdict::Degrading
            })
            .count();
        assert!(
            false_alarms <= 5,
            "{false_alarms} of 200 healthy series called degrading"
        );
        let found = (0..50)
            .filter(|&seed| {
                judge(
                    &shape(1000 + seed),
                    Planted::Creep {
                        percent_per_week: 5.0,
                    },
                    Worse::Higher,
                    false,
                )
                .verdict
                    == Verdict::Degrading
            })
            .count();
        assert!(found >= 48, "a creep of 5 % a week found in {found} of 50");
    }

    #[test]
    fn time_to_violation_brackets_the_crossing() {
        let shape = Shape::ninety_days(9);
        let load = load(&shape, 0.0);
        let points = series(
            &shape,
            Planted::Leak {
                percent_per_day: 1.0,
            },
            &load,
        );
        let last = points.last().unwrap().1;
        // The level grows 5 a day: a limit 200 above the daily peak is about 40 days away.
        let input = SeriesInput {
            points: &points,
            worse: Worse::Higher,
            driver: None,
            bound: Some(Bound {
                value: last + 200.0,
                source: "limit".into(),
            }),
            resolution_ms: shape.step_ms,
        };
        let a = analyze(&input, ALPHA);
        let ttv = a.time_to_violation.unwrap();
        let (early, late) = (ttv.days_earliest.unwrap(), ttv.days_latest.unwrap());
        let expected = (last + 200.0 - ttv.now) / 5.0;
        assert!(
            ttv.now > last,
            "the daily peak is above midnight's value: {ttv:?}"
        );
        assert!(
            early * 0.95 <= expected && expected <= late * 1.05,
            "{expected}: {ttv:?}"
        );
        let statuses: Vec<&str> = ttv.horizons.iter().map(|h| h.status.as_str()).collect();
        assert_eq!(statuses[0], "holds", "{ttv:?}");
        assert_eq!(statuses[2], "violated", "{ttv:?}");
        // A flat series heads nowhere.
        let flat = series(&shape, Planted::Healthy, &load);
        let input = SeriesInput {
            points: &flat,
            bound: Some(Bound {
                value: 10_000.0,
                source: "limit".into(),
            }),
            ..input
        };
        let ttv = analyze(&input, ALPHA).time_to_violation.unwrap();
        assert!(ttv.days_latest.is_none(), "{ttv:?}");
        assert!(ttv.horizons.iter().all(|h| h.status == "holds"), "{ttv:?}");
    }

    #[test]
    fn too_little_data_and_constant_series_are_said_not_judged() {
        let few: Vec<(i64, f64)> = (0..5).map(|i| (i * 1000, i as f64)).collect();
        let input = SeriesInput {
            points: &few,
            worse: Worse::Higher,
            driver: None,
            bound: None,
            resolution_ms: 1000,
        };
        let a = analyze(&input, ALPHA);
        assert_eq!(a.verdict, Verdict::NotJudged);
        assert!(a.summary.contains("at least 12"), "{}", a.summary);
        let constant: Vec<(i64, f64)> = (0..100).map(|i| (i * 1000, 3.0)).collect();
        let a = analyze(
            &SeriesInput {
                points: &constant,
                ..input
            },
            ALPHA,
        );
        assert_eq!(a.verdict, Verdict::NoTrend);
        assert!(a.summary.contains("constant"), "{}", a.summary);
    }
}

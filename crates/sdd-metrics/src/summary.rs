//! What a window of one series says, computed the way Prometheus computes it, so an answer
//! from the embedded store and the same question put to a real Prometheus agree.
//!
//! Each function names the PromQL function it matches and follows its code in Prometheus'
//! `promql/functions.go` and `promql/quantile.go` (read for this module; the documentation at
//! <https://prometheus.io/docs/prometheus/latest/querying/functions/> describes the same):
//!
//! - [`quantile_over_time`]: linear interpolation between the two closest ranks, rank
//!   `q·(n−1)` over the values sorted with NaN first (Hyndman & Fan's type 7, what spreadsheets
//!   and NumPy call "linear") — not nearest-rank. `q < 0` is −∞, `q > 1` is +∞, NaN or no
//!   values is NaN.
//! - [`min_over_time`], [`max_over_time`]: a NaN loses to any number.
//! - [`avg_over_time`]: Kahan–Neumaier summation, switching to an incremental mean if the sum
//!   would overflow.
//! - [`deriv`]: least-squares slope per second, times taken from the first sample, sums
//!   Kahan–Neumaier; a constant series has slope 0 (NaN if the constant is infinite).
//! - [`rate`], [`increase`]: `extrapolatedRate` — counter resets (any decrease) add the value
//!   before the reset; the increase seen between the first and last sample is extrapolated to
//!   the window's ends when the gap to an end is under 1.1 × the average sample interval, and by
//!   half an interval otherwise; a counter is never extrapolated below zero.
//! - [`histogram_quantile`]: `bucketQuantile` on classic buckets — buckets sorted and merged by
//!   upper bound, counts forced monotonic, linear interpolation inside the bucket, the lowest
//!   bucket starting at 0 unless its bound is ≤ 0, the +Inf bucket answered with the bound
//!   below it.
//!
//! Windows: Prometheus 3 selects the samples with `start < t ≤ end` (range selectors became
//! left-open in 3.0); Prometheus 2, Debian's package among them, `start ≤ t ≤ end`. [`Window`]
//! says which; the arithmetic is the same.

use std::cmp::Ordering;

/// One sample of a series.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// Milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    pub value: f64,
}

/// Whether a window's start instant is in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartBound {
    /// `start < t ≤ end`: Prometheus 3.
    Excluded,
    /// `start ≤ t ≤ end`: Prometheus 2.
    Included,
}

/// A range of time, as a PromQL range selector `[end − start]` evaluated at `end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
    pub start: StartBound,
}

impl Window {
    /// `start < t ≤ end`, as Prometheus 3 selects.
    pub fn new(start_ms: i64, end_ms: i64) -> Window {
        Window {
            start_ms,
            end_ms,
            start: StartBound::Excluded,
        }
    }

    /// `start ≤ t ≤ end`, as Prometheus 2 selects.
    pub fn including_start(start_ms: i64, end_ms: i64) -> Window {
        Window {
            start_ms,
            end_ms,
            start: StartBound::Included,
        }
    }

    pub fn contains(&self, timestamp_ms: i64) -> bool {
        let after_start = match self.start {
            StartBound::Excluded => timestamp_ms > self.start_ms,
            StartBound::Included => timestamp_ms >= self.start_ms,
        };
        after_start && timestamp_ms <= self.end_ms
    }

    /// The range in seconds (what `rate` divides by).
    pub fn seconds(&self) -> f64 {
        (self.end_ms as f64 - self.start_ms as f64) / 1000.0
    }

    /// The points of `points` (sorted by time) inside the window.
    pub fn select<'a>(&self, points: &'a [Point]) -> &'a [Point] {
        let from = match self.start {
            StartBound::Excluded => points.partition_point(|p| p.timestamp_ms <= self.start_ms),
            StartBound::Included => points.partition_point(|p| p.timestamp_ms < self.start_ms),
        };
        let to = points.partition_point(|p| p.timestamp_ms <= self.end_ms);
        points.get(from..to).unwrap_or(&[])
    }
}

/// The quantiles every summary reports.
pub const PERCENTILES: [f64; 4] = [0.5, 0.9, 0.95, 0.99];

/// What a counter did over the window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CounterSummary {
    /// `rate(series[window])`, per second.
    pub rate_per_second: f64,
    /// `increase(series[window])`.
    pub increase: f64,
    /// `resets(series[window])`.
    pub resets: usize,
}

/// One series over one window.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// `count_over_time`.
    pub count: usize,
    /// `min_over_time`.
    pub min: f64,
    /// `max_over_time`.
    pub max: f64,
    /// `avg_over_time`.
    pub mean: f64,
    /// `quantile_over_time` at 0.5, 0.9, 0.95, 0.99 ([`PERCENTILES`]).
    pub p50: f64,
    pub p90: f64,
    pub p95: f64,
    pub p99: f64,
    /// The newest sample in the window (`last_over_time`, with its time).
    pub last: Point,
    /// `deriv`: the least-squares slope per second; `None` under two samples.
    pub slope_per_second: Option<f64>,
    /// For a counter: rate, increase and resets; `None` for other series or under two samples.
    pub counter: Option<CounterSummary>,
}

/// Summarise the points of `points` (sorted by time, one per instant) inside `window`; `None`
/// when the window has none. `is_counter` adds rate, increase and resets.
pub fn summarize(points: &[Point], window: Window, is_counter: bool) -> Option<Summary> {
    summarize_as(points, window, is_counter, Extrapolation::Since2_51)
}

/// [`summarize`] with rate and increase extrapolated as `how` says.
pub fn summarize_as(
    points: &[Point],
    window: Window,
    is_counter: bool,
    how: Extrapolation,
) -> Option<Summary> {
    let points = window.select(points);
    let last = *points.last()?;
    let mut values: Vec<f64> = points.iter().map(|p| p.value).collect();
    let min = min_over_time(&values);
    let max = max_over_time(&values);
    let mean = avg_over_time(&values);
    let quantiles = quantiles_over_time(&PERCENTILES, &mut values);
    let counter = if is_counter {
        match (
            extrapolated_rate_as(points, window, true, true, how),
            extrapolated_rate_as(points, window, true, false, how),
        ) {
            (Some(rate_per_second), Some(increase)) => Some(CounterSummary {
                rate_per_second,
                increase,
                resets: resets(points),
            }),
            _ => None,
        }
    } else {
        None
    };
    Some(Summary {
        count: points.len(),
        min,
        max,
        mean,
        p50: quantiles[0],
        p90: quantiles[1],
        p95: quantiles[2],
        p99: quantiles[3],
        last,
        slope_per_second: deriv(points),
        counter,
    })
}

/// Kahan–Neumaier step, Prometheus' `kahansum.Inc`: returns the new sum and compensation.
fn kahan_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if t.is_infinite() {
        0.0
    } else if sum.abs() >= inc.abs() {
        c + ((sum - t) + inc)
    } else {
        c + ((inc - t) + sum)
    };
    (t, c)
}

/// `min_over_time`: NaN for no values; a NaN is replaced by any later number.
pub fn min_over_time(values: &[f64]) -> f64 {
    fold_compare(values, |current, best| current < best)
}

/// `max_over_time`.
pub fn max_over_time(values: &[f64]) -> f64 {
    fold_compare(values, |current, best| current > best)
}

fn fold_compare(values: &[f64], better: impl Fn(f64, f64) -> bool) -> f64 {
    let Some(&first) = values.first() else {
        return f64::NAN;
    };
    values.iter().fold(first, |best, &current| {
        if better(current, best) || best.is_nan() {
            current
        } else {
            best
        }
    })
}

/// `avg_over_time`: the sum with Kahan–Neumaier compensation over the count; once the sum would
/// overflow, an incremental mean instead (Prometheus issue 16714 explains the choice).
pub fn avg_over_time(values: &[f64]) -> f64 {
    let Some((&first, rest)) = values.split_first() else {
        return f64::NAN;
    };
    let (mut sum, mut c, mut mean) = (first, 0.0, 0.0);
    let mut count = 1.0;
    let mut incremental = false;
    for &value in rest {
        count += 1.0;
        if !incremental {
            let (new_sum, new_c) = kahan_inc(value, sum, c);
            if !new_sum.is_infinite() {
                (sum, c) = (new_sum, new_c);
                continue;
            }
            incremental = true;
            mean = sum / (count - 1.0);
            c /= count - 1.0;
        }
        let q = (count - 1.0) / count;
        (mean, c) = kahan_inc(value / count, q * mean, q * c);
    }
    if incremental {
        mean + c
    } else {
        sum / count + c / count
    }
}

/// Prometheus' sort order for quantiles: NaN before every number.
fn nan_first(a: &f64, b: &f64) -> Ordering {
    match (a.is_nan(), b.is_nan()) {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => a.total_cmp(b),
    }
}

/// `quantile_over_time(q, …)`: see the module's notes. `values` is reordered.
pub fn quantile_over_time(q: f64, values: &mut [f64]) -> f64 {
    quantiles_over_time(&[q], values)[0]
}

/// Several quantiles of the same values at once: each needs only the one or two values around
/// its rank, found by selection (linear time) rather than a full sort, which is what keeps a
/// summary of a million samples fast. `values` is reordered.
pub fn quantiles_over_time(qs: &[f64], values: &mut [f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..qs.len()).collect();
    order.sort_by(|&a, &b| nan_first(&qs[a], &qs[b]));
    let mut out = vec![f64::NAN; qs.len()];
    let n = values.len();
    // Every rank below `settled` has already been placed by an earlier selection.
    let mut settled = 0;
    for i in order {
        let q = qs[i];
        out[i] = if n == 0 || q.is_nan() {
            f64::NAN
        } else if q < 0.0 {
            f64::NEG_INFINITY
        } else if q > 1.0 {
            f64::INFINITY
        } else {
            let rank = q * (n as f64 - 1.0);
            let lower = (rank.floor().max(0.0) as usize).min(n - 1);
            let upper = (lower + 1).min(n - 1);
            let weight = rank - rank.floor();
            let (_, &mut lower_value, above) =
                values[settled..].select_nth_unstable_by(lower - settled, nan_first);
            let upper_value = if upper == lower {
                lower_value
            } else {
                above
                    .iter()
                    .copied()
                    .min_by(nan_first)
                    .unwrap_or(lower_value)
            };
            settled = lower;
            // Prometheus' exact expression (its rounding included).
            lower_value * (1.0 - weight) + upper_value * weight
        };
    }
    out
}

/// `deriv`: the least-squares slope per second of the points; `None` under two points.
pub fn deriv(points: &[Point]) -> Option<f64> {
    let first = points.first()?;
    if points.len() < 2 {
        return None;
    }
    // Times from the first sample, as Prometheus does to keep the sums small (its issue 2674).
    let intercept_time = first.timestamp_ms;
    let init_y = first.value;
    let mut constant = true;
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    for (i, point) in points.iter().enumerate() {
        if constant && i > 0 && point.value != init_y {
            constant = false;
        }
        n += 1.0;
        // Prometheus subtracts integers; in floating point the result is the same below 2^53
        // ms, and extreme times cannot overflow.
        let x = (point.timestamp_ms as f64 - intercept_time as f64) / 1e3;
        (sum_x, c_x) = kahan_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_inc(point.value, sum_y, c_y);
        (sum_xy, c_xy) = kahan_inc(x * point.value, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_inc(x * x, sum_x2, c_x2);
    }
    if constant {
        return Some(if init_y.is_infinite() { f64::NAN } else { 0.0 });
    }
    sum_x += c_x;
    sum_y += c_y;
    sum_xy += c_xy;
    sum_x2 += c_x2;
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    Some(cov_xy / var_x)
}

/// `resets`: how many times the value went down.
pub fn resets(points: &[Point]) -> usize {
    points
        .windows(2)
        .filter(|pair| pair[1].value < pair[0].value)
        .count()
}

/// `rate(series[window])`: per-second increase of a counter; `None` under two points.
pub fn rate(points: &[Point], window: Window) -> Option<f64> {
    extrapolated_rate(points, window, true, true)
}

/// `increase(series[window])`; `None` under two points.
pub fn increase(points: &[Point], window: Window) -> Option<f64> {
    extrapolated_rate(points, window, true, false)
}

/// `delta(series[window])`: the change of a gauge, extrapolated like `increase` but without
/// counter resets; `None` under two points.
pub fn delta(points: &[Point], window: Window) -> Option<f64> {
    extrapolated_rate(points, window, false, false)
}

/// The order in which Prometheus applies `extrapolatedRate`'s two limits at a window's start:
/// from 2.51 the 1.1 × interval test comes first and a counter's zero point second
/// (prometheus/prometheus#13725); before 2.51 (Debian 12's 2.42 among them) the other way
/// round. They differ only when a counter's extrapolated zero point lies between 0.5 and 1.1
/// sample intervals before its first sample in the window — typically a counter born inside
/// the window.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Extrapolation {
    #[default]
    Since2_51,
    Before2_51,
}

/// Prometheus' `extrapolatedRate` for float samples (its comments explain the thresholds):
/// `points` are the window's samples, sorted by time. As Prometheus 2.51 and later.
pub fn extrapolated_rate(
    points: &[Point],
    window: Window,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    extrapolated_rate_as(
        points,
        window,
        is_counter,
        is_rate,
        Extrapolation::Since2_51,
    )
}

/// `extrapolated_rate` in the order of limits `how` names.
pub fn extrapolated_rate_as(
    points: &[Point],
    window: Window,
    is_counter: bool,
    is_rate: bool,
    how: Extrapolation,
) -> Option<f64> {
    let (first, last) = match points {
        [first, .., last] => (first, last),
        _ => return None,
    };
    let mut result = last.value - first.value;
    if is_counter {
        for pair in points.windows(2) {
            if pair[1].value < pair[0].value {
                result += pair[0].value;
            }
        }
    }
    // In floating point: exact for real timestamps (below 2^53 ms), and a window reaching
    // i64::MIN cannot overflow.
    let seconds_between = |from: i64, to: i64| (to as f64 - from as f64) / 1000.0;
    let mut duration_to_start = seconds_between(window.start_ms, first.timestamp_ms);
    let mut duration_to_end = seconds_between(last.timestamp_ms, window.end_ms);
    let sampled_interval = seconds_between(first.timestamp_ms, last.timestamp_ms);
    let average_between_samples = sampled_interval / (points.len() - 1) as f64;
    let threshold = average_between_samples * 1.1;
    // A counter is never negative: if extrapolating back would pass zero, start at zero.
    let zero_point = |duration_to_start: f64| {
        let mut duration_to_zero = duration_to_start;
        if result > 0.0 && first.value >= 0.0 {
            duration_to_zero = sampled_interval * (first.value / result);
        }
        duration_to_zero.min(duration_to_start)
    };
    if is_counter && how == Extrapolation::Before2_51 {
        duration_to_start = zero_point(duration_to_start);
    }
    if duration_to_start >= threshold {
        duration_to_start = average_between_samples / 2.0;
    }
    if is_counter && how == Extrapolation::Since2_51 {
        duration_to_start = zero_point(duration_to_start);
    }
    if duration_to_end >= threshold {
        duration_to_end = average_between_samples / 2.0;
    }
    let mut factor = (sampled_interval + duration_to_start + duration_to_end) / sampled_interval;
    if is_rate {
        factor /= window.seconds();
    }
    Some(result * factor)
}

/// One classic histogram bucket: observations at or below `upper_bound` (the `le` label).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bucket {
    pub upper_bound: f64,
    pub count: f64,
}

/// `histogram_quantile(q, …)` over classic buckets (Prometheus' `bucketQuantile`): see the
/// module's notes. NaN without a +Inf bucket, with fewer than two buckets or no observations.
pub fn histogram_quantile(q: f64, buckets: &[Bucket]) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    let mut buckets = buckets.to_vec();
    buckets.sort_by(|a, b| a.upper_bound.total_cmp(&b.upper_bound));
    match buckets.last() {
        Some(b) if b.upper_bound == f64::INFINITY => {}
        _ => return f64::NAN,
    }
    // Buckets of the same bound (from series that differ in another label) are one.
    let mut merged: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for bucket in buckets {
        match merged.last_mut() {
            Some(last) if last.upper_bound == bucket.upper_bound => last.count += bucket.count,
            _ => merged.push(bucket),
        }
    }
    let mut buckets = merged;
    correct_precision_errors(&mut buckets, 1e-12);
    ensure_monotonic(&mut buckets);
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    let searched = &buckets[..buckets.len() - 1];
    let b = searched.partition_point(|bucket| bucket.count < rank);
    if b == buckets.len() - 1 {
        return buckets[buckets.len() - 2].upper_bound;
    }
    if b == 0 && buckets[0].upper_bound <= 0.0 {
        return buckets[0].upper_bound;
    }
    let bucket_end = buckets[b].upper_bound;
    let mut count = buckets[b].count;
    let mut bucket_start = 0.0;
    if b > 0 {
        bucket_start = buckets[b - 1].upper_bound;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    bucket_start + (bucket_end - bucket_start) * (rank / count)
}

/// Counts that differ by a relative `tolerance` from the bucket below are float noise: made
/// equal, so they do not read as a decrease.
fn correct_precision_errors(buckets: &mut [Bucket], tolerance: f64) {
    let Some(first) = buckets.first() else {
        return;
    };
    let mut previous = first.count;
    for bucket in buckets.iter_mut().skip(1) {
        let delta = (bucket.count - previous).abs();
        if delta == 0.0 {
            continue;
        }
        if delta / bucket.count <= tolerance {
            bucket.count = previous;
        } else {
            previous = bucket.count;
        }
    }
}

/// A bucket never holds fewer observations than one below it: any decrease is raised to the
/// highest count below (the "envelope"), as Prometheus does.
fn ensure_monotonic(buckets: &mut [Bucket]) {
    let mut highest = f64::NEG_INFINITY;
    for bucket in buckets.iter_mut() {
        if bucket.count > highest {
            highest = bucket.count;
        } else if bucket.count < highest {
            bucket.count = highest;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_two_orders_of_extrapolation_limits() {
        // A counter born inside the window: 1, 2, 3 at 15 s, 30 s, 45 s, window (-100 s, 45 s].
        // Its zero point is 15 s before its first sample: one interval, inside (0.5, 1.1).
        let points = [
            Point {
                timestamp_ms: 15_000,
                value: 1.0,
            },
            Point {
                timestamp_ms: 30_000,
                value: 2.0,
            },
            Point {
                timestamp_ms: 45_000,
                value: 3.0,
            },
        ];
        let window = Window::new(-100_000, 45_000);
        let since = extrapolated_rate_as(&points, window, true, false, Extrapolation::Since2_51);
        let before = extrapolated_rate_as(&points, window, true, false, Extrapolation::Before2_51);
        // 2.51+: half an interval back (7.5 s): 2 × 37.5 / 30. Before: to the zero point.
        assert_eq!(since, Some(2.5));
        assert_eq!(before, Some(3.0));
        assert_eq!(increase(&points, window), since);
        // A gauge has no zero point: both orders agree.
        assert_eq!(
            extrapolated_rate_as(&points, window, false, false, Extrapolation::Before2_51),
            extrapolated_rate_as(&points, window, false, false, Extrapolation::Since2_51),
        );
    }

    /// Samples as (seconds, value).
    type Samples<'a> = &'a [(i64, f64)];

    fn points(samples: Samples) -> Vec<Point> {
        samples
            .iter()
            .map(|&(seconds, value)| Point {
                timestamp_ms: seconds * 1000,
                value,
            })
            .collect()
    }

    /// Equal, or both NaN, or within 1e-12 relative.
    fn same(a: f64, b: f64) -> bool {
        (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    }

    #[test]
    fn quantiles_interpolate_linearly_between_closest_ranks() {
        let nan = f64::NAN;
        // (values, q, expected) — by hand: rank = q·(n−1).
        let cases: &[(&[f64], f64, f64)] = &[
            (&[1.0, 2.0, 3.0, 4.0, 5.0], 0.5, 3.0),
            (&[5.0, 1.0, 4.0, 2.0, 3.0], 0.5, 3.0),
            (&[1.0, 2.0, 3.0, 4.0, 5.0], 0.9, 4.6), // rank 3.6: 4·0.4 + 5·0.6
            (&[1.0, 2.0, 3.0, 4.0, 5.0], 0.95, 4.8),
            (&[1.0, 2.0, 3.0, 4.0, 5.0], 0.99, 4.96),
            (&[1.0, 2.0, 3.0, 4.0, 5.0], 0.0, 1.0),
            (&[1.0, 2.0, 3.0, 4.0, 5.0], 1.0, 5.0),
            (&[10.0, 20.0], 0.25, 12.5),
            (&[7.0], 0.99, 7.0),
            (&[], 0.5, nan),
            (&[1.0], nan, nan),
            (&[1.0], -0.1, f64::NEG_INFINITY),
            (&[1.0], 1.1, f64::INFINITY),
            // NaN sorts first.
            (&[2.0, nan, 1.0], 0.5, 1.0),
            (&[2.0, nan, 1.0], 0.0, nan),
            (&[2.0, nan, 1.0], 1.0, 2.0),
            // Prometheus' expression, kept: 0·(1 − 0) + ∞·0 is NaN, not 0.
            (&[f64::NEG_INFINITY, 0.0, f64::INFINITY], 0.5, nan),
            (
                &[f64::NEG_INFINITY, 0.0, f64::INFINITY],
                0.75,
                f64::INFINITY,
            ),
        ];
        for &(values, q, expected) in cases {
            let got = quantile_over_time(q, &mut values.to_vec());
            assert!(same(got, expected), "{values:?} q={q}: {got} != {expected}");
        }
    }

    /// Selection gives what a full sort gives, for every percentile, on awkward data.
    #[test]
    fn quantiles_by_selection_match_a_full_sort() {
        let mut state = 12345u64;
        let mut next = || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / 1000.0
        };
        for n in [1, 2, 3, 10, 101, 1000] {
            let mut values: Vec<f64> = (0..n).map(|_| (next() * 7.0).floor()).collect();
            if n > 3 {
                values[2] = f64::NAN;
            }
            let mut sorted = values.clone();
            sorted.sort_by(nan_first);
            let qs = [0.99, 0.0, 0.5, 0.25, 0.9, 0.95, 1.0, 0.333];
            let got = quantiles_over_time(&qs, &mut values.clone());
            for (q, got) in qs.iter().zip(got) {
                let rank = q * (n as f64 - 1.0);
                let lower = rank.floor() as usize;
                let upper = (lower + 1).min(n - 1);
                let weight = rank - rank.floor();
                let expected = sorted[lower] * (1.0 - weight) + sorted[upper] * weight;
                assert!(same(got, expected), "n={n} q={q}: {got} != {expected}");
            }
        }
    }

    #[test]
    fn min_max_mean() {
        let nan = f64::NAN;
        // (values, min, max, mean)
        let cases: &[(&[f64], f64, f64, f64)] = &[
            (&[1.0, 2.0, 3.0, 4.0], 1.0, 4.0, 2.5),
            (&[-3.0], -3.0, -3.0, -3.0),
            (&[nan, 1.0, 2.0], 1.0, 2.0, nan),
            (&[1.0, nan], 1.0, 1.0, nan),
            (&[nan, nan], nan, nan, nan),
            (&[], nan, nan, nan),
            // The sum overflows: the mean does not.
            (&[f64::MAX, f64::MAX], f64::MAX, f64::MAX, f64::MAX),
            // Compensated: 1 + 1e100 − 1e100 is 1, not 0.
            (&[1.0, 1e100, 1.0, -1e100], -1e100, 1e100, 0.5),
        ];
        for &(values, min, max, mean) in cases {
            assert!(same(min_over_time(values), min), "min {values:?}");
            assert!(same(max_over_time(values), max), "max {values:?}");
            assert!(
                same(avg_over_time(values), mean),
                "mean {values:?}: {}",
                avg_over_time(values)
            );
        }
    }

    #[test]
    fn deriv_is_the_least_squares_slope_per_second() {
        let cases: &[(Samples, Option<f64>)] = &[
            (&[(0, 0.0), (10, 10.0), (20, 20.0)], Some(1.0)),
            // x = 0,1,2; y = 1,3,2: cov = 7 − 3·6/3 = 1, var = 5 − 9/3 = 2.
            (&[(100, 1.0), (101, 3.0), (102, 2.0)], Some(0.5)),
            (&[(0, 5.0), (60, 5.0)], Some(0.0)),
            (&[(0, f64::INFINITY), (60, f64::INFINITY)], Some(f64::NAN)),
            (&[(0, 1.0)], None),
            (&[], None),
            // Large times: measured from the first sample, no precision lost.
            (&[(1_700_000_000, 1.0), (1_700_000_010, 2.0)], Some(0.1)),
        ];
        for &(samples, expected) in cases {
            let got = deriv(&points(samples));
            match (got, expected) {
                (Some(got), Some(expected)) => {
                    assert!(same(got, expected), "{samples:?}: {got} != {expected}")
                }
                (got, expected) => assert_eq!(got, expected, "{samples:?}"),
            }
        }
    }

    /// rate and increase by hand, step by step as `extrapolatedRate` goes (window (0, end]).
    #[test]
    fn rate_and_increase_extrapolate_as_prometheus_does() {
        // (samples (s, value), window end (s), increase, rate)
        let cases: &[(Samples, i64, f64, f64)] = &[
            // Regular: result 50, sampled 50 s, to start 10 s (< 1.1 × 10), zero point 10 s
            // away (not nearer): factor 60/50; increase 60 over 60 s.
            (
                &[
                    (10, 10.0),
                    (20, 20.0),
                    (30, 30.0),
                    (40, 40.0),
                    (50, 50.0),
                    (60, 60.0),
                ],
                60,
                60.0,
                1.0,
            ),
            // A reset (20 → 5) adds 20: result 5 + 20 = 25; sampled 45, interval 15, to start
            // 15 (< 16.5), zero point 45·10/25 = 18 (not nearer): factor 60/45.
            (
                &[(15, 10.0), (30, 20.0), (45, 5.0), (60, 15.0)],
                60,
                25.0 * 60.0 / 45.0,
                25.0 * 60.0 / 45.0 / 60.0,
            ),
            // Starts inside the window: to start 40 ≥ 11, so only half an interval (5 s):
            // factor 25/20.
            (
                &[(40, 100.0), (50, 110.0), (60, 120.0)],
                60,
                25.0,
                25.0 / 60.0,
            ),
            // The zero point is 1 s before the first sample, nearer than the start (10 s):
            // factor 21/20.
            (&[(10, 1.0), (20, 11.0), (30, 21.0)], 30, 21.0, 0.7),
            // Ends inside the window: to end 30 ≥ 11, so half an interval: factor 35/20.
            (&[(10, 10.0), (20, 20.0), (30, 30.0)], 60, 35.0, 35.0 / 60.0),
        ];
        for &(samples, end, expected_increase, expected_rate) in cases {
            let window = Window::new(0, end * 1000);
            let points = points(samples);
            let got_increase = increase(&points, window).unwrap();
            let got_rate = rate(&points, window).unwrap();
            assert!(
                same(got_increase, expected_increase),
                "{samples:?}: increase {got_increase} != {expected_increase}"
            );
            assert!(
                same(got_rate, expected_rate),
                "{samples:?}: rate {got_rate} != {expected_rate}"
            );
        }
        let window = Window::new(0, 60_000);
        assert_eq!(rate(&points(&[(10, 1.0)]), window), None);
        assert_eq!(increase(&[], window), None);
        // A gauge: no resets, may extrapolate below zero. Result −20, sampled 30, to start 30
        // (< 33): factor 2.
        assert_eq!(
            delta(&points(&[(30, 30.0), (60, 10.0)]), window),
            Some(-40.0)
        );
        assert_eq!(
            resets(&points(&[(1, 3.0), (2, 1.0), (3, 2.0), (4, 0.0)])),
            2
        );
    }

    /// Windows and times at the ends of i64 give numbers (perhaps meaningless), not a panic.
    #[test]
    fn extreme_times_do_not_overflow() {
        let extreme = [
            Point {
                timestamp_ms: i64::MIN,
                value: 1.0,
            },
            Point {
                timestamp_ms: 0,
                value: 2.0,
            },
            Point {
                timestamp_ms: i64::MAX,
                value: 3.0,
            },
        ];
        for window in [
            Window::new(i64::MIN, i64::MAX),
            Window::including_start(i64::MIN, i64::MAX),
        ] {
            let summary = summarize(&extreme, window, true).unwrap();
            assert!(summary.count >= 2);
            assert!(summary.slope_per_second.is_some());
        }
    }

    #[test]
    fn windows_select_as_prometheus_3_or_2() {
        let all = points(&[(0, 0.0), (10, 1.0), (20, 2.0), (30, 3.0)]);
        let open = Window::new(0, 20_000);
        let closed = Window::including_start(0, 20_000);
        let times = |w: Window| -> Vec<i64> {
            w.select(&all)
                .iter()
                .map(|p| p.timestamp_ms / 1000)
                .collect()
        };
        assert_eq!(times(open), [10, 20]);
        assert_eq!(times(closed), [0, 10, 20]);
        assert_eq!(times(Window::new(30_000, 40_000)), Vec::<i64>::new());
        assert_eq!(times(Window::new(40_000, 30_000)), Vec::<i64>::new());
        assert_eq!(open.seconds(), 20.0);
    }

    #[test]
    fn histogram_quantiles_interpolate_inside_the_bucket() {
        let inf = f64::INFINITY;
        let b = |pairs: &[(f64, f64)]| -> Vec<Bucket> {
            pairs
                .iter()
                .map(|&(upper_bound, count)| Bucket { upper_bound, count })
                .collect()
        };
        let standard = b(&[(0.1, 10.0), (0.5, 30.0), (1.0, 40.0), (inf, 40.0)]);
        // (buckets, q, expected) — by hand: rank q·40, the first bucket reaching it.
        let cases: Vec<(Vec<Bucket>, f64, f64)> = vec![
            // rank 20 in (0.1, 0.5]: 10 of its 20 → 0.3.
            (standard.clone(), 0.5, 0.3),
            // rank 38 in (0.5, 1]: 8 of 10 → 0.9.
            (standard.clone(), 0.95, 0.9),
            // rank 4 in the lowest bucket, from 0: 0.1·4/10.
            (standard.clone(), 0.1, 0.04),
            (standard.clone(), 1.0, 1.0),
            // Unsorted, with a duplicate bound to merge.
            (
                b(&[
                    (inf, 40.0),
                    (0.5, 20.0),
                    (0.1, 10.0),
                    (1.0, 40.0),
                    (0.5, 10.0),
                ]),
                0.5,
                0.3,
            ),
            // In the +Inf bucket: the bound below it.
            (b(&[(1.0, 5.0), (inf, 10.0)]), 0.9, 1.0),
            // A decrease is raised to the envelope: (0.5, 8) counts 10.
            (
                b(&[(0.1, 10.0), (0.5, 8.0), (1.0, 20.0), (inf, 20.0)]),
                0.5,
                0.1,
            ),
            // A lowest bound at or below zero is returned as it is.
            (b(&[(-1.0, 5.0), (0.0, 10.0), (inf, 10.0)]), 0.2, -1.0),
            (b(&[(0.1, 10.0), (1.0, 20.0)]), 0.5, f64::NAN),
            (b(&[(inf, 10.0)]), 0.5, f64::NAN),
            (b(&[(1.0, 0.0), (inf, 0.0)]), 0.5, f64::NAN),
            (standard.clone(), -1.0, f64::NEG_INFINITY),
            (standard.clone(), 2.0, inf),
            (standard, f64::NAN, f64::NAN),
        ];
        for (buckets, q, expected) in cases {
            let got = histogram_quantile(q, &buckets);
            assert!(
                same(got, expected),
                "{buckets:?} q={q}: {got} != {expected}"
            );
        }
    }

    #[test]
    fn a_summary_of_a_counter_window() {
        let all = points(&[
            (0, 99.0),
            (10, 10.0),
            (20, 20.0),
            (30, 30.0),
            (40, 40.0),
            (50, 50.0),
            (60, 60.0),
            (70, 5.0),
        ]);
        let window = Window::new(0, 60_000);
        let summary = summarize(&all, window, true).unwrap();
        assert_eq!(summary.count, 6);
        assert_eq!((summary.min, summary.max, summary.mean), (10.0, 60.0, 35.0));
        // rank 2.5 → 30·0.5 + 40·0.5.
        assert_eq!(summary.p50, 35.0);
        assert!(same(summary.p99, 59.5), "{}", summary.p99);
        assert_eq!(
            summary.last,
            Point {
                timestamp_ms: 60_000,
                value: 60.0
            }
        );
        assert!(same(summary.slope_per_second.unwrap(), 1.0));
        let counter = summary.counter.unwrap();
        assert!(same(counter.increase, 60.0));
        assert!(same(counter.rate_per_second, 1.0));
        assert_eq!(counter.resets, 0);
        let gauge = summarize(&all, window, false).unwrap();
        assert_eq!(gauge.counter, None);
        assert_eq!(summarize(&all, Window::new(100_000, 200_000), true), None);
        let one = summarize(&all, Window::new(65_000, 75_000), true).unwrap();
        assert_eq!(
            (one.count, one.slope_per_second, one.counter),
            (1, None, None)
        );
    }
}

//! The embedded store as a metric source: an [`Expr`] evaluated over `.sdd/metrics.sqlite3`
//! with `sdd_metrics::summary`, as Prometheus evaluates the same PromQL at the same instant.
//!
//! Synchronous (SQLite); the async source runs it on a blocking thread.

use std::collections::{BTreeMap, HashSet};

use sdd_metrics::exposition::split_labels;
use sdd_metrics::store::{MetricStore, StoreError};
use sdd_metrics::summary::{self, Bucket, Extrapolation, Point, StartBound, Window};

use crate::expr::{Expr, RangeFn};
use crate::selector::{Labels, Selector};

/// One element of an instant vector: labels (without `__name__`, which every function here
/// drops) and a value.
pub type Sample = (Labels, f64);

/// A series over steps: labels and `(time in ms, value)` pairs.
pub type StepSeries = (Labels, Vec<(i64, f64)>);

/// The labels of a stored series' canonical label text.
pub fn labels_of(canonical: &str) -> Labels {
    split_labels(canonical).into_iter().collect()
}

/// The stored series `selector` selects, with their labels.
pub fn select(
    store: &MetricStore,
    selector: &Selector,
) -> Result<Vec<(sdd_metrics::store::SeriesId, Labels)>, StoreError> {
    Ok(store
        .series_named(&selector.metric)?
        .into_iter()
        .filter_map(|series| {
            let labels = labels_of(&series.labels);
            selector
                .matches(&series.name, &labels)
                .then_some((series.id, labels))
        })
        .collect())
}

/// Which Prometheus the embedded store answers like: how a range's first instant is treated
/// (excluded from Prometheus 3, included before) and how `rate` / `increase` extrapolate
/// (their order of limits changed in 2.51). The default is the current Prometheus.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Semantics {
    pub start: StartBound,
    pub extrapolation: Extrapolation,
}

impl Default for Semantics {
    fn default() -> Self {
        Semantics {
            start: StartBound::Excluded,
            extrapolation: Extrapolation::Since2_51,
        }
    }
}

/// `expr` at instant `at_ms`, evaluated as `semantics` says.
pub fn evaluate(
    store: &MetricStore,
    expr: &Expr,
    at_ms: i64,
    semantics: Semantics,
) -> Result<Vec<Sample>, StoreError> {
    let start = semantics.start;
    match expr {
        Expr::Range {
            func,
            selectors,
            range_ms,
        } => {
            let window = Window {
                start_ms: at_ms.saturating_sub(*range_ms),
                end_ms: at_ms,
                start,
            };
            let mut seen_series = HashSet::new();
            let mut chosen = Vec::new();
            for selector in selectors {
                for (id, labels) in select(store, selector)? {
                    if seen_series.insert(id) {
                        chosen.push((id, labels));
                    }
                }
            }
            let ids: Vec<_> = chosen.iter().map(|(id, _)| *id).collect();
            let all_points = store.points_of_many(&ids, window)?;
            // `a or b`: a series both select counts once (above), and (the metric name being
            // dropped) a right-hand result whose labels the left gave is left out.
            let mut seen_labels = HashSet::new();
            let mut out = Vec::new();
            for ((_, labels), points) in chosen.into_iter().zip(all_points) {
                if seen_labels.contains(&labels) {
                    continue;
                }
                if let Some(value) = apply(*func, &points, window, semantics.extrapolation) {
                    seen_labels.insert(labels.clone());
                    out.push((labels, value));
                }
            }
            Ok(out)
        }
        Expr::Sum { by, inner } => {
            let mut groups: BTreeMap<Labels, f64> = BTreeMap::new();
            for (labels, value) in evaluate(store, inner, at_ms, semantics)? {
                let key: Labels = labels
                    .into_iter()
                    .filter(|(name, _)| by.contains(name))
                    .collect();
                *groups.entry(key).or_insert(0.0) += value;
            }
            Ok(groups.into_iter().collect())
        }
        Expr::HistogramQuantile { q, inner } => {
            let mut groups: BTreeMap<Labels, Vec<Bucket>> = BTreeMap::new();
            for (mut labels, count) in evaluate(store, inner, at_ms, semantics)? {
                // A series without a readable `le` is no bucket (Prometheus drops it too).
                let Some(upper_bound) = labels.remove("le").and_then(|le| parse_le(&le)) else {
                    continue;
                };
                groups
                    .entry(labels)
                    .or_default()
                    .push(Bucket { upper_bound, count });
            }
            Ok(groups
                .into_iter()
                .map(|(labels, buckets)| (labels, summary::histogram_quantile(*q, &buckets)))
                .collect())
        }
    }
}

/// An `le` label as Prometheus reads it (`+Inf`, `0.1`, `1e-3`).
fn parse_le(text: &str) -> Option<f64> {
    match text.trim() {
        "+Inf" | "Inf" | "+inf" | "inf" => Some(f64::INFINITY),
        other => other.parse().ok(),
    }
}

/// One range function over a window's points; `None` where PromQL gives no sample.
fn apply(func: RangeFn, points: &[Point], window: Window, how: Extrapolation) -> Option<f64> {
    if points.is_empty() {
        return None;
    }
    let values = || points.iter().map(|p| p.value).collect::<Vec<f64>>();
    match func {
        RangeFn::MinOverTime => Some(summary::min_over_time(&values())),
        RangeFn::MaxOverTime => Some(summary::max_over_time(&values())),
        RangeFn::AvgOverTime => Some(summary::avg_over_time(&values())),
        RangeFn::QuantileOverTime(q) => Some(summary::quantile_over_time(q, &mut values())),
        RangeFn::LastOverTime => points.last().map(|p| p.value),
        RangeFn::CountOverTime => Some(points.len() as f64),
        RangeFn::Deriv => summary::deriv(points),
        RangeFn::Rate => summary::extrapolated_rate_as(points, window, true, true, how),
        RangeFn::Increase => summary::extrapolated_rate_as(points, window, true, false, how),
    }
}

/// `selector` sampled at each step from `start_ms` to `end_ms` as a range query of the bare
/// selector does: the newest sample at or before each step, if no older than `lookback_ms`.
pub fn range_points(
    store: &MetricStore,
    selector: &Selector,
    start_ms: i64,
    end_ms: i64,
    step_ms: i64,
    lookback_ms: i64,
) -> Result<Vec<StepSeries>, StoreError> {
    let step_ms = step_ms.max(1);
    let window = Window::including_start(start_ms.saturating_sub(lookback_ms), end_ms);
    let chosen = select(store, selector)?;
    let ids: Vec<_> = chosen.iter().map(|(id, _)| *id).collect();
    let mut out = Vec::new();
    for ((_, labels), points) in chosen.into_iter().zip(store.points_of_many(&ids, window)?) {
        let mut steps = Vec::new();
        let mut t = start_ms;
        let mut next = 0;
        while t <= end_ms {
            while next < points.len() && points[next].timestamp_ms <= t {
                next += 1;
            }
            if let Some(p) = next.checked_sub(1).map(|i| points[i]) {
                // Prometheus' lookback excludes its start instant: older than `lookback` is stale.
                if p.timestamp_ms > t - lookback_ms && !is_stale_marker(p.value) {
                    steps.push((t, p.value));
                }
            }
            t = match t.checked_add(step_ms) {
                Some(t) => t,
                None => break,
            };
        }
        if !steps.is_empty() {
            out.push((labels, steps));
        }
    }
    Ok(out)
}

/// Prometheus' staleness marker, a NaN with a fixed bit pattern.
fn is_stale_marker(value: f64) -> bool {
    value.to_bits() == 0x7ff0_0000_0000_0002
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selector::Matcher;
    use sdd_metrics::exposition::{canonical_labels, Sample as Stored};

    fn sample(name: &str, labels: &[(&str, &str)], t: i64, v: f64) -> Stored {
        Stored {
            name: name.into(),
            labels: canonical_labels(labels.iter().copied()),
            value: v,
            timestamp_ms: t,
        }
    }

    fn store() -> (tempfile::TempDir, MetricStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = MetricStore::open(dir.path()).unwrap();
        (dir, store)
    }

    #[test]
    fn range_functions_sum_and_histogram_quantile() {
        let (_dir, mut store) = store();
        let mut samples = Vec::new();
        // A histogram of two routes, 10 s apart for 10 minutes: /a gets 1 request/step at
        // 0.05 s, /b gets 1 request/step at 0.3 s.
        for i in 0..=60 {
            let t = i * 10_000;
            for (route, slow) in [("/a", false), ("/b", true)] {
                for (le, count) in [("0.1", if slow { 0 } else { i }), ("0.5", i), ("+Inf", i)] {
                    samples.push(sample(
                        "h_bucket",
                        &[("route", route), ("le", le)],
                        t,
                        count as f64,
                    ));
                }
            }
            samples.push(sample("g", &[("k", "v")], t, i as f64));
        }
        store.ingest(&samples, &[]).unwrap();
        let at = 600_000;
        let q = |expr: &Expr| evaluate(&store, expr, at, Semantics::default()).unwrap();

        let max = q(&Expr::range(
            RangeFn::MaxOverTime,
            Selector::named("g"),
            60_000,
        ));
        assert_eq!(max.len(), 1);
        assert_eq!(max[0].1, 60.0);
        assert_eq!(max[0].0.get("k").map(String::as_str), Some("v"));
        // Excluded start: 540 s is out, so 6 samples.
        let count = q(&Expr::range(
            RangeFn::CountOverTime,
            Selector::named("g"),
            60_000,
        ));
        assert_eq!(count[0].1, 6.0);
        let count_2 = evaluate(
            &store,
            &Expr::range(RangeFn::CountOverTime, Selector::named("g"), 60_000),
            at,
            Semantics {
                start: StartBound::Included,
                ..Semantics::default()
            },
        )
        .unwrap();
        assert_eq!(count_2[0].1, 7.0);

        let a = Selector::named("h_bucket").with(Matcher::equal("route", "/a"));
        let p95_a = q(&Expr::latency_quantile(0.95, vec![a.clone()], 300_000, &[]));
        assert_eq!(p95_a.len(), 1);
        assert!(p95_a[0].1 <= 0.1 && p95_a[0].1 > 0.09, "{p95_a:?}");
        let b = Selector::named("h_bucket").with(Matcher::equal("route", "/b"));
        let both = q(&Expr::latency_quantile(0.95, vec![a, b], 300_000, &[]));
        assert!(both[0].1 > 0.1, "{both:?}");
        let per_route = q(&Expr::latency_quantile(
            0.5,
            vec![Selector::named("h_bucket")],
            300_000,
            &["route"],
        ));
        assert_eq!(per_route.len(), 2);
        assert!(
            per_route[1].1 > 0.1 && per_route[0].1 < 0.1,
            "{per_route:?}"
        );

        let sums = q(&Expr::sum_by(
            &["route"],
            Expr::range(
                RangeFn::Increase,
                Selector::named("h_bucket").with(Matcher::equal("le", "+Inf")),
                300_000,
            ),
        ));
        assert_eq!(sums.len(), 2);
        // 30 requests in 300 s, exactly (no extrapolation: samples reach both ends).
        assert!((sums[0].1 - 30.0).abs() < 1e-9, "{sums:?}");

        // Nothing selected, nothing answered.
        assert!(q(&Expr::range(RangeFn::Rate, Selector::named("none"), 60_000)).is_empty());
    }

    #[test]
    fn range_points_follow_the_lookback() {
        let (_dir, mut store) = store();
        let samples = vec![
            sample("g", &[], 0, 1.0),
            sample("g", &[], 10_000, 2.0),
            sample("g", &[], 400_000, 3.0),
        ];
        store.ingest(&samples, &[]).unwrap();
        let points =
            range_points(&store, &Selector::named("g"), 0, 700_000, 100_000, 300_000).unwrap();
        assert_eq!(
            points[0].1,
            vec![
                (0, 1.0),
                (100_000, 2.0),
                (200_000, 2.0),
                (300_000, 2.0),
                (400_000, 3.0),
                (500_000, 3.0),
                (600_000, 3.0)
            ]
        );
    }
}

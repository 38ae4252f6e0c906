//! The hunt over a source: every series worth watching fetched at one step (gauges as they
//! are, counters as rates, histograms as p99 by route, each constraint's own percentile or
//! error ratio), the load and the business volume beside them, each series judged
//! (`analyze.rs`), the p values corrected for how many were judged (Benjamini–Hochberg), and
//! each degradation's related series ranked.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use sdd_metrics::summary::{histogram_quantile, Bucket};
use sdd_spec::constraint::CheckSpec;
use sdd_spec::model::{Constraint, ConstraintScope};
use sdd_spec::project::ProjectFile;
use serde::{Deserialize, Serialize};

use super::analyze::{
    analyze, analyze_failed, bucket_width, decide, Bound, Driver, DriverMedians, SeriesAnalysis,
    SeriesInput, Thresholds, Verdict, Worse,
};
use super::stats::{benjamini_hochberg, spearman, spearman_p};
use crate::embedded::StepSeries;
use crate::selector::{Labels, Selector};
use crate::source::{Source, SourceError};

/// At most this many fine steps a series (Prometheus answers up to 11,000).
const FINE_STEPS: i64 = 2_200;
/// At most this many series are judged in one hunt; more are counted and named by family.
pub const MAX_SERIES: usize = 5_000;

/// What the hunt looks at.
pub struct HuntOptions {
    pub start_ms: i64,
    pub end_ms: i64,
    pub significance: f64,
    pub thresholds: Thresholds,
    /// Where the thresholds come from, for the answer.
    pub thresholds_from: String,
    /// The data's resolution (the scrape interval), the narrowest step worth asking for.
    pub resolution_ms: i64,
    /// Only metric names containing this.
    pub only: Option<String>,
}

/// What a hunted series is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeriesKind {
    Gauge,
    /// A counter's per-second rate.
    Rate,
    /// A histogram's percentile (`q` in (0, 1)).
    Percentile {
        q: f64,
    },
    /// The share of requests that failed.
    ErrorRatio,
}

/// One series and its judgement.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Hunted {
    /// `process_resident_memory_bytes{instance="…"}`, or `p95 of reads` for a constraint.
    pub series: String,
    pub metric: String,
    pub kind: SeriesKind,
    pub worse: Worse,
    /// The constraint it measures, when it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// The spec's `degradation_detection` pattern it answers, when one names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec_pattern: Option<String>,
    /// The p of the trend corrected for the number of series judged.
    pub q: f64,
    /// A histogram percentile's bucket bounds (see [`Candidate::bounds`]).
    #[serde(skip)]
    pub bounds: Vec<f64>,
    #[serde(flatten)]
    pub analysis: SeriesAnalysis,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Related>,
}

/// A series whose changes move with a degradation's.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Related {
    pub series: String,
    /// Spearman's ρ of the bucket-to-bucket changes.
    pub rho: f64,
    pub p: f64,
    pub verdict: Verdict,
}

/// The load or the business volume, as found.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DriverUsed {
    pub name: String,
    pub query: String,
    pub points: usize,
    #[serde(skip)]
    pub series: Vec<(i64, f64)>,
}

/// What was not hunted, and why.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NotHunted {
    pub what: String,
    pub why: String,
}

pub struct Hunt {
    pub series: Vec<Hunted>,
    pub load: Option<DriverUsed>,
    pub business: Option<DriverUsed>,
    pub not_hunted: Vec<NotHunted>,
    pub step_ms: i64,
    pub start_ms: i64,
    pub end_ms: i64,
}

/// Metric names that describe the scrape or the build, never the service's health.
fn excluded_by_default(name: &str) -> bool {
    name == "up"
        || name.starts_with("scrape_")
        || name.ends_with("_start_time_seconds")
        || name.ends_with("_build_info")
        || name.ends_with("_created")
        || name == crate::health::JOURNEY_SUCCESS
}

pub async fn hunt(
    source: &Source,
    project: &ProjectFile,
    constraints: &[&Constraint],
    domains: usize,
    patterns: &[String],
    options: &HuntOptions,
) -> Result<Hunt, SourceError> {
    let config = &project.monitoring.degradation;
    let span = (options.end_ms - options.start_ms).max(1);
    let step_ms = bucket_width(span, FINE_STEPS, options.resolution_ms.max(1000));
    // Steps on the ladder's grid, so buckets line up with days.
    let start_ms = options.start_ms.div_euclid(step_ms) * step_ms;
    let end_ms = options.end_ms;
    let steps = |selector: Selector| async move {
        source.steps(&selector, start_ms, end_ms, step_ms).await
    };
    let mut not_hunted = Vec::new();

    // The load: the summed rate of a counter.
    let load_text = config
        .load
        .clone()
        .unwrap_or_else(|| format!("{}_count", project.monitoring.convention.request_duration));
    let load = match Selector::parse(&load_text) {
        Ok(selector) => {
            let rates: Vec<Vec<(i64, f64)>> = steps(selector.clone())
                .await?
                .into_iter()
                .map(|(_, points)| counter_rate(&points))
                .collect();
            let summed = sum_aligned(&rates);
            (!summed.is_empty()).then(|| DriverUsed {
                name: "load (requests/s)".into(),
                query: format!(
                    "sum(rate({load_text}[{}]))",
                    crate::window::format_duration(step_ms)
                ),
                points: summed.len(),
                series: summed,
            })
        }
        Err(e) => {
            not_hunted.push(NotHunted {
                what: "the load".into(),
                why: format!("monitoring.degradation.load: {e}"),
            });
            None
        }
    };
    if load.is_none() {
        not_hunted.push(NotHunted {
            what: "the load".into(),
            why: format!("`{load_text}` has no points in the window: growth cannot be told from growth that follows traffic (name the request counter under monitoring.degradation.load)"),
        });
    }
    let business = match &config.business {
        None => None,
        Some(text) => match Selector::parse(text) {
            Ok(selector) => {
                let counter = looks_like_counter(&selector.metric);
                let values: Vec<Vec<(i64, f64)>> = steps(selector)
                    .await?
                    .into_iter()
                    .map(|(_, points)| if counter { cumulative(&points) } else { points })
                    .collect();
                let summed = sum_aligned(&values);
                if summed.is_empty() {
                    not_hunted.push(NotHunted {
                        what: "the business volume".into(),
                        why: format!("`{text}` has no points in the window"),
                    });
                }
                (!summed.is_empty()).then(|| DriverUsed {
                    name: "business volume".into(),
                    query: text.clone(),
                    points: summed.len(),
                    series: summed,
                })
            }
            Err(e) => {
                not_hunted.push(NotHunted {
                    what: "the business volume".into(),
                    why: format!("monitoring.degradation.business: {e}"),
                });
                None
            }
        },
    };
    let volume: Vec<Selector> = config
        .volume
        .iter()
        .filter_map(|text| match Selector::parse(text) {
            Ok(s) => Some(s),
            Err(e) => {
                not_hunted.push(NotHunted {
                    what: text.clone(),
                    why: format!("monitoring.degradation.volume: {e}"),
                });
                None
            }
        })
        .collect();
    let exclude: Vec<&str> = config.exclude.iter().map(String::as_str).collect();

    // The series: the configured ones, or every family the source has.
    let mut candidates: Vec<Candidate> = Vec::new();
    let families: Vec<(String, &'static str)> = if config.series.is_empty() {
        source
            .metric_names()
            .await?
            .into_iter()
            .filter_map(|m| {
                let role = family_role(&m.name, &m.kind)?;
                Some((m.name, role))
            })
            .collect()
    } else {
        config
            .series
            .iter()
            .map(|text| {
                let name = Selector::parse(text).map(|s| s.metric).unwrap_or_default();
                let role = family_role(&name, "unknown").unwrap_or("gauge");
                (text.clone(), role)
            })
            .collect()
    };
    if let Some(only) = &options.only {
        if !families
            .iter()
            .any(|(text, _)| text.contains(only.as_str()))
        {
            not_hunted.push(NotHunted {
                what: format!("metric `{only}`"),
                why: "no metric family's name contains it (list_metrics lists them)".into(),
            });
        }
    }
    let load_metric = Selector::parse(&load_text).ok().map(|s| s.metric);
    for (text, role) in families {
        let Ok(selector) = Selector::parse(&text) else {
            not_hunted.push(NotHunted {
                what: text.clone(),
                why: "monitoring.degradation.series: not a selector".into(),
            });
            continue;
        };
        let name = selector.metric.clone();
        if excluded_by_default(&name)
            || exclude.iter().any(|e| *e == name)
            || options.only.as_deref().is_some_and(|o| !name.contains(o))
            || load_metric.as_deref() == Some(name.as_str())
        {
            continue;
        }
        let fetched = steps(selector.clone()).await?;
        match role {
            "histogram" => {
                let base = name.trim_end_matches("_bucket").to_string();
                let mut groups: BTreeMap<Labels, Vec<StepSeries>> = BTreeMap::new();
                for (labels, points) in fetched {
                    let mut key = labels.clone();
                    for l in ["le", "status", "code"] {
                        key.remove(l);
                    }
                    groups.entry(key).or_default().push((labels, points));
                }
                for (key, buckets) in groups {
                    let points = quantile_series(0.99, &buckets);
                    candidates.push(Candidate {
                        series: format!("p99 of {base}{}", label_text(&key)),
                        metric: base.clone(),
                        kind: SeriesKind::Percentile { q: 0.99 },
                        worse: Worse::Higher,
                        constraint: None,
                        bound: None,
                        points,
                        labels: key,
                        volume: false,
                        bounds: bucket_bounds(&buckets),
                    });
                }
            }
            role => {
                for (labels, points) in fetched {
                    let is_volume = volume.iter().any(|v| v.matches(&name, &labels));
                    let (kind, points) = if role == "counter" && !is_volume {
                        (SeriesKind::Rate, counter_rate(&points))
                    } else {
                        (SeriesKind::Gauge, points)
                    };
                    candidates.push(Candidate {
                        series: format!(
                            "{}{name}{}",
                            if kind == SeriesKind::Rate {
                                "rate of "
                            } else {
                                ""
                            },
                            label_text(&labels)
                        ),
                        metric: name.clone(),
                        worse: Worse::of_series(&name, &labels),
                        kind,
                        constraint: None,
                        bound: None,
                        points,
                        labels,
                        volume: is_volume,
                        bounds: Vec::new(),
                    });
                }
            }
        }
    }

    // Limits: a bound on the series they select (added when not hunted already).
    for limit in &config.limits {
        let selector = match Selector::parse(&limit.series) {
            Ok(s) => s,
            Err(e) => {
                not_hunted.push(NotHunted {
                    what: limit.series.clone(),
                    why: format!("monitoring.degradation.limits: {e}"),
                });
                continue;
            }
        };
        if limit.max.is_some_and(|v| !v.is_finite()) || limit.min.is_some_and(|v| !v.is_finite()) {
            not_hunted.push(NotHunted {
                what: limit.series.clone(),
                why: "monitoring.degradation.limits: `max` and `min` must be finite numbers".into(),
            });
            continue;
        }
        let (value, worse) = match (limit.max, limit.min) {
            (Some(max), _) => (max, Worse::Higher),
            (None, Some(min)) => (min, Worse::Lower),
            (None, None) => {
                not_hunted.push(NotHunted {
                    what: limit.series.clone(),
                    why: "monitoring.degradation.limits: neither `max` nor `min`".into(),
                });
                continue;
            }
        };
        let bound = Bound {
            value,
            source: format!(
                "limit {} {} {value}{}",
                limit.series,
                if worse == Worse::Higher { "≤" } else { "≥" },
                limit
                    .description
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            ),
        };
        let mut attached = false;
        for c in candidates
            .iter_mut()
            .filter(|c| c.kind != SeriesKind::Rate && selector.matches(&c.metric, &c.labels))
        {
            c.bound = Some(bound.clone());
            c.worse = worse;
            attached = true;
        }
        if !attached {
            for (labels, points) in steps(selector.clone()).await? {
                candidates.push(Candidate {
                    series: format!("{}{}", selector.metric, label_text(&labels)),
                    metric: selector.metric.clone(),
                    kind: SeriesKind::Gauge,
                    worse,
                    constraint: None,
                    bound: Some(bound.clone()),
                    points,
                    labels,
                    volume: false,
                    bounds: Vec::new(),
                });
                attached = true;
            }
        }
        if !attached {
            not_hunted.push(NotHunted {
                what: limit.series.clone(),
                why: "its limit is set, but the series has no points in the window".into(),
            });
        }
    }

    // Each constraint its metrics can measure: its percentile or its error ratio, bounded.
    for c in constraints {
        let mapping = project.monitoring.constraints.get(&c.id);
        if mapping.and_then(|m| m.unmeasured.as_deref()).is_some()
            || c.parsed.not_checkable.is_some()
        {
            continue;
        }
        let mapped = mapping.and_then(|m| m.histogram.as_ref()).is_some();
        if !mapped && domains > 1 {
            if let ConstraintScope::Domain(_) | ConstraintScope::Interaction(_) = &c.scope {
                not_hunted.push(NotHunted {
                    what: format!("constraint {}", c.id),
                    why: format!("scoped to one of the spec's {domains} domains, whose requests the metrics do not tell apart (monitoring.constraints.{}.histogram)", c.id),
                });
                continue;
            }
        }
        for check in &c.parsed.checks {
            let (scope, kind, bound, label) = match check {
                CheckSpec::Latency {
                    percentile,
                    max_ms,
                    scope,
                } => (
                    scope.as_str(),
                    SeriesKind::Percentile {
                        q: percentile / 100.0,
                    },
                    max_ms / 1000.0,
                    format!("p{percentile} of {scope} (s)"),
                ),
                CheckSpec::ErrorRate { max_percent, .. } => (
                    "all",
                    SeriesKind::ErrorRatio,
                    max_percent / 100.0,
                    "error ratio".to_string(),
                ),
                CheckSpec::Availability { min_percent } => (
                    "all",
                    SeriesKind::ErrorRatio,
                    1.0 - min_percent / 100.0,
                    format!("error ratio (availability ≥ {min_percent} %)"),
                ),
                _ => continue,
            };
            let selectors = match crate::headroom::histogram_selectors(project, &c.id, scope) {
                Ok(s) => s,
                Err(why) => {
                    not_hunted.push(NotHunted {
                        what: format!("constraint {}", c.id),
                        why,
                    });
                    continue;
                }
            };
            let mut fetched = Vec::new();
            for s in &selectors {
                let renamed = match kind {
                    SeriesKind::Percentile { .. } => s.renamed(&format!("{}_bucket", s.metric)),
                    _ => s.renamed(&format!("{}_count", s.metric)),
                };
                fetched.extend(steps(renamed).await?);
            }
            let (points, bounds) = match kind {
                SeriesKind::Percentile { q } => {
                    (quantile_series(q, &fetched), bucket_bounds(&fetched))
                }
                _ => (error_ratio_series(&fetched, check), Vec::new()),
            };
            if points.is_empty() {
                not_hunted.push(NotHunted {
                    what: format!("constraint {} ({label})", c.id),
                    why: format!(
                        "{} has no traffic in the window",
                        selectors
                            .iter()
                            .map(|s| s.to_string())
                            .collect::<Vec<_>>()
                            .join(" or ")
                    ),
                });
                continue;
            }
            candidates.push(Candidate {
                series: format!("{label} for constraint {}", c.id),
                metric: selectors
                    .first()
                    .map(|s| s.metric.clone())
                    .unwrap_or_default(),
                kind,
                worse: Worse::Higher,
                constraint: Some(c.id.clone()),
                bound: Some(Bound {
                    value: bound,
                    source: format!("constraint {} ({}: {label} ≤ {bound})", c.id, c.name),
                }),
                points,
                labels: Labels::new(),
                volume: false,
                bounds,
            });
        }
    }

    if candidates.len() > MAX_SERIES {
        let mut dropped: BTreeMap<String, usize> = BTreeMap::new();
        for c in candidates.drain(MAX_SERIES..) {
            *dropped.entry(c.metric).or_default() += 1;
        }
        for (metric, count) in dropped {
            not_hunted.push(NotHunted {
                what: metric,
                why: format!("{count} series over the {MAX_SERIES} one hunt judges: narrow it with `metric` or monitoring.degradation.series"),
            });
        }
    }

    // Judged in a blocking task: the statistics are CPU work.
    let significance = options.significance;
    let thresholds = options.thresholds;
    let load_points = load.as_ref().map(|l| l.series.clone());
    let business_points = business.as_ref().map(|b| b.series.clone());
    let resolution_ms = step_ms;
    let patterns = patterns.to_vec();
    let series = tokio::task::spawn_blocking(move || {
        judge_all(
            candidates,
            load_points.as_deref(),
            business_points.as_deref(),
            resolution_ms,
            significance,
            thresholds,
            &patterns,
        )
    })
    .await
    .map_err(|e| SourceError::Worker(e.to_string()))?;
    Ok(Hunt {
        series,
        load,
        business,
        not_hunted,
        step_ms,
        start_ms,
        end_ms,
    })
}

/// A series to judge.
pub struct Candidate {
    pub series: String,
    pub metric: String,
    pub kind: SeriesKind,
    pub worse: Worse,
    pub constraint: Option<String>,
    pub bound: Option<Bound>,
    pub points: Vec<(i64, f64)>,
    pub labels: Labels,
    /// Judged against the business volume rather than the load.
    pub volume: bool,
    /// A histogram percentile's bucket bounds (finite, ascending): a change inside one bucket
    /// is finer than the histogram resolves. Empty for other series.
    pub bounds: Vec<f64>,
}

/// One candidate measured (the verdict waits for the correction over all).
fn judge_one(
    c: &Candidate,
    load: Option<&[(i64, f64)]>,
    business: Option<&[(i64, f64)]>,
    resolution_ms: i64,
    significance: f64,
    patterns: &[String],
    medians: &(DriverMedians, DriverMedians),
) -> Hunted {
    let driver = if c.volume {
        business.map(|points| Driver {
            name: "business volume",
            points,
            per_unit: true,
            medians: Some(&medians.1),
        })
    } else {
        load.map(|points| Driver {
            name: "load",
            points,
            per_unit: false,
            medians: Some(&medians.0),
        })
    };
    let input = SeriesInput {
        points: &c.points,
        worse: c.worse,
        driver,
        bound: c.bound.clone(),
        resolution_ms,
    };
    // A series whose values break the arithmetic is said not judged; it never takes the
    // other series of its thread with it.
    let analysis = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        analyze(&input, significance)
    }))
    .unwrap_or_else(|_| {
        let mut a = analyze_failed(c.points.len());
        a.summary =
            "not judged: the statistics failed on its values (extreme or degenerate numbers)"
                .into();
        a
    });
    Hunted {
        spec_pattern: pattern_for(&c.metric, &c.kind, patterns),
        series: c.series.clone(),
        metric: c.metric.clone(),
        kind: c.kind.clone(),
        worse: c.worse,
        constraint: c.constraint.clone(),
        q: 1.0,
        bounds: c.bounds.clone(),
        analysis,
        related: Vec::new(),
    }
}

/// Judge every candidate, correct the p values together, decide, and relate the degradations.
pub fn judge_all(
    candidates: Vec<Candidate>,
    load: Option<&[(i64, f64)]>,
    business: Option<&[(i64, f64)]>,
    resolution_ms: i64,
    significance: f64,
    thresholds: Thresholds,
    patterns: &[String],
) -> Vec<Hunted> {
    // The series are judged on every core: each is independent until the correction.
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8);
    let chunk = candidates.len().div_ceil(threads).max(1);
    // The load's and the business volume's medians, bucketed once for every series.
    let medians = (DriverMedians::default(), DriverMedians::default());
    let medians = &medians;
    let mut hunted: Vec<Hunted> = std::thread::scope(|scope| {
        let workers: Vec<_> = candidates
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|c| {
                            judge_one(
                                c,
                                load,
                                business,
                                resolution_ms,
                                significance,
                                patterns,
                                medians,
                            )
                        })
                        .collect::<Vec<Hunted>>()
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| w.join().unwrap_or_default())
            .collect()
    });
    let judged: Vec<usize> = (0..hunted.len())
        .filter(|&i| hunted[i].analysis.trend.is_some())
        .collect();
    let q = benjamini_hochberg(
        &judged
            .iter()
            .map(|&i| hunted[i].analysis.p)
            .collect::<Vec<_>>(),
    );
    for (&i, q) in judged.iter().zip(q) {
        let h = &mut hunted[i];
        h.q = q;
        decide(&mut h.analysis, h.worse, q, significance, thresholds);
        within_resolution(&mut h.analysis, h.worse, &h.bounds);
    }
    relate(&mut hunted);
    hunted
}

/// For each degradation, the series whose bucket-to-bucket changes move with its own most
/// (Spearman's ρ of first differences: differencing takes both trends out, so two unrelated
/// trends do not correlate), at p < 0.01, three at most.
fn relate(hunted: &mut [Hunted]) {
    let diffs: Vec<Vec<(i64, f64)>> = hunted
        .iter()
        .map(|h| {
            h.analysis
                .coarse
                .windows(2)
                .map(|w| (w[1].0, w[1].1 - w[0].1))
                .collect()
        })
        .collect();
    // Ranks standardised once per series: on the same buckets (the common case) ρ is then a
    // dot product.
    let standardised: Vec<Option<Vec<f64>>> = diffs
        .iter()
        .map(|d| standardised_ranks(&d.iter().map(|p| p.1).collect::<Vec<_>>()))
        .collect();
    for i in 0..hunted.len() {
        if hunted[i].analysis.verdict != Verdict::Degrading {
            continue;
        }
        let mut related: Vec<Related> = Vec::new();
        for j in 0..hunted.len() {
            if i == j || diffs[j].len() < 4 {
                continue;
            }
            let same_buckets = diffs[i].len() == diffs[j].len()
                && diffs[i].iter().zip(&diffs[j]).all(|(a, b)| a.0 == b.0);
            let answer = match (&standardised[i], &standardised[j]) {
                (Some(a), Some(b)) if same_buckets => {
                    let rho: f64 = a.iter().zip(b).map(|(x, y)| x * y).sum();
                    spearman_p(rho, a.len())
                }
                _ => {
                    let other: BTreeMap<i64, f64> = diffs[j].iter().copied().collect();
                    let (a, b): (Vec<f64>, Vec<f64>) = diffs[i]
                        .iter()
                        .filter_map(|(t, v)| other.get(t).map(|w| (*v, *w)))
                        .unzip();
                    spearman(&a, &b)
                }
            };
            if let Some((rho, p)) = answer {
                if p < 0.01 && rho.is_finite() {
                    related.push(Related {
                        series: hunted[j].series.clone(),
                        rho,
                        p,
                        verdict: hunted[j].analysis.verdict,
                    });
                }
            }
        }
        related.sort_by(|a, b| b.rho.abs().total_cmp(&a.rho.abs()));
        related.truncate(3);
        hunted[i].related = related;
    }
}

/// Ranks centred and scaled to unit length (`None` when all are equal): the Pearson
/// correlation of two such vectors is their dot product, Spearman's ρ.
fn standardised_ranks(values: &[f64]) -> Option<Vec<f64>> {
    if values.len() < 4 {
        return None;
    }
    let ranks = super::stats::ranks(values);
    let mean = ranks.iter().sum::<f64>() / ranks.len() as f64;
    let norm = ranks.iter().map(|r| (r - mean).powi(2)).sum::<f64>().sqrt();
    (norm > 0.0).then(|| ranks.iter().map(|r| (r - mean) / norm).collect())
}

/// The spec pattern a series answers: the first `degradation_detection` pattern naming what
/// the metric measures.
fn pattern_for(metric: &str, kind: &SeriesKind, patterns: &[String]) -> Option<String> {
    let metric = metric.to_ascii_lowercase();
    let words: &[(&[&str], &[&str])] = &[
        (&["memory", "rss", "heap"], &["memory"]),
        (
            &["disk", "database_size", "db_size", "_size_bytes"],
            &["disk", "table"],
        ),
        (&["connection", "pool"], &["connection"]),
        (&["cache", "hit"], &["cache"]),
        (
            &["duration", "latency", "seconds"],
            &["p99", "99th", "latency", "query time"],
        ),
    ];
    let mut wanted: Vec<&str> = words
        .iter()
        .filter(|(m, _)| m.iter().any(|w| metric.contains(w)))
        .flat_map(|(_, p)| p.iter().copied())
        .collect();
    if matches!(kind, SeriesKind::Percentile { .. }) {
        wanted.extend(["p99", "99th", "latency"]);
    }
    patterns
        .iter()
        .find(|p| {
            let p = p.to_ascii_lowercase();
            wanted.iter().any(|w| p.contains(w))
        })
        .cloned()
}

/// `gauge`, `counter` or `histogram` for a family worth hunting; `None` for the parts of a
/// histogram other than its buckets, and summaries' quantiles.
fn family_role(name: &str, kind: &str) -> Option<&'static str> {
    if name.ends_with("_bucket") {
        return Some("histogram");
    }
    if name.ends_with("_count") || name.ends_with("_sum") {
        return None;
    }
    match kind {
        "histogram" | "summary" | "gaugehistogram" => None,
        "counter" => Some("counter"),
        _ if looks_like_counter(name) => Some("counter"),
        _ => Some("gauge"),
    }
}

fn looks_like_counter(name: &str) -> bool {
    name.ends_with("_total")
}

fn label_text(labels: &Labels) -> String {
    if labels.is_empty() {
        return String::new();
    }
    let inner: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    format!("{{{}}}", inner.join(","))
}

/// A counter's per-second rate between consecutive steps (a drop is a reset: the new value is
/// the increase), at the later step.
pub fn counter_rate(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    points
        .windows(2)
        .filter_map(|w| {
            let ((t0, v0), (t1, v1)) = (w[0], w[1]);
            let dt = (t1 - t0) as f64 / 1000.0;
            (dt > 0.0).then(|| (t1, if v1 >= v0 { v1 - v0 } else { v1 } / dt))
        })
        .collect()
}

/// A counter's value with its resets taken out (what it would read had it never restarted).
fn cumulative(points: &[(i64, f64)]) -> Vec<(i64, f64)> {
    let mut total = 0.0;
    let mut previous: Option<f64> = None;
    points
        .iter()
        .map(|&(t, v)| {
            total += match previous {
                Some(p) if v >= p => v - p,
                Some(_) => v,
                None => v,
            };
            previous = Some(v);
            (t, total)
        })
        .collect()
}

/// The per-step sum of several series (steps any of them has).
fn sum_aligned(series: &[Vec<(i64, f64)>]) -> Vec<(i64, f64)> {
    let mut sums: BTreeMap<i64, f64> = BTreeMap::new();
    for s in series {
        for &(t, v) in s {
            *sums.entry(t).or_default() += v;
        }
    }
    sums.into_iter().collect()
}

/// Increases of every bucket series between steps, summed by bound, turned into the `q`
/// quantile at each step (steps without traffic left out).
/// The finite bucket bounds of a histogram's series, ascending, once each.
fn bucket_bounds(buckets: &[(Labels, Vec<(i64, f64)>)]) -> Vec<f64> {
    let mut bounds: Vec<f64> = buckets
        .iter()
        .filter_map(|(labels, _)| labels.get("le").and_then(|v| parse_bound(v)))
        .filter(|b| b.is_finite())
        .collect();
    bounds.sort_by(f64::total_cmp);
    bounds.dedup();
    bounds
}

/// A percentile read from a histogram is interpolated inside the bucket it falls in: a
/// degradation whose whole change — the trend over the window, or its largest step the worse
/// way — is smaller than that bucket's width is finer than the histogram resolves, and is not
/// claimed (a healthy service's p95 wandering inside its 0–1 ms bucket read as a step).
pub fn within_resolution(a: &mut SeriesAnalysis, worse: Worse, bounds: &[f64]) {
    if a.verdict != Verdict::Degrading || bounds.is_empty() || !a.level.is_finite() {
        return;
    }
    let upper_index = bounds.iter().position(|&b| b >= a.level);
    let Some(i) = upper_index else {
        return;
    };
    let (lower, upper) = (if i == 0 { 0.0 } else { bounds[i - 1] }, bounds[i]);
    let width = upper - lower;
    let trend_change = a
        .trend
        .as_ref()
        .map(|t| (t.percent_over_window / 100.0 * a.level).abs())
        .unwrap_or(0.0);
    let step_change = a
        .steps
        .iter()
        .filter(|s| s.step * worse.sign() > 0.0)
        .map(|s| s.step.abs())
        .fold(0.0_f64, f64::max);
    let change = trend_change.max(step_change);
    if change.is_finite() && change < width {
        a.verdict = Verdict::BelowThreshold;
        a.pattern = None;
        a.summary = format!(
            "{} — but the whole change ({}) is inside one bucket of the histogram at its level ({}–{}): finer than a percentile from these buckets resolves, so it is not claimed",
            a.summary,
            crate::rules::number(change),
            crate::rules::number(lower),
            crate::rules::number(upper)
        );
    }
}

fn quantile_series(q: f64, buckets: &[(Labels, Vec<(i64, f64)>)]) -> Vec<(i64, f64)> {
    let mut by_step: BTreeMap<i64, BTreeMap<u64, (f64, f64)>> = BTreeMap::new();
    for (labels, points) in buckets {
        let Some(le) = labels.get("le").and_then(|v| parse_bound(v)) else {
            continue;
        };
        for (t, increase) in increases(points) {
            let entry = by_step
                .entry(t)
                .or_default()
                .entry(le.to_bits())
                .or_insert((le, 0.0));
            entry.1 += increase;
        }
    }
    by_step
        .into_iter()
        .filter_map(|(t, bounds)| {
            let buckets: Vec<Bucket> = bounds
                .into_values()
                .map(|(upper_bound, count)| Bucket { upper_bound, count })
                .collect();
            let total = buckets
                .iter()
                .filter(|b| b.upper_bound.is_infinite())
                .map(|b| b.count)
                .sum::<f64>();
            if total <= 0.0 {
                return None;
            }
            let v = histogram_quantile(q, &buckets);
            v.is_finite().then_some((t, v))
        })
        .collect()
}

/// The share of requests that failed at each step, from `_count` series by `status`/`code`:
/// 5xx, and the 4xx codes the constraint counts.
fn error_ratio_series(counts: &[(Labels, Vec<(i64, f64)>)], check: &CheckSpec) -> Vec<(i64, f64)> {
    let counted_4xx: Vec<u16> = match check {
        CheckSpec::ErrorRate { counted_4xx, .. } => counted_4xx.clone(),
        _ => Vec::new(),
    };
    let mut by_step: BTreeMap<i64, (f64, f64)> = BTreeMap::new();
    for (labels, points) in counts {
        let status = labels
            .get("status")
            .or_else(|| labels.get("code"))
            .cloned()
            .unwrap_or_default();
        let failed = status.starts_with('5')
            || status
                .parse::<u16>()
                .is_ok_and(|code| counted_4xx.contains(&code));
        for (t, increase) in increases(points) {
            let e = by_step.entry(t).or_default();
            e.0 += increase;
            if failed {
                e.1 += increase;
            }
        }
    }
    by_step
        .into_iter()
        .filter(|(_, (total, _))| *total > 0.0)
        .map(|(t, (total, failed))| (t, failed / total))
        .collect()
}

fn increases(points: &[(i64, f64)]) -> impl Iterator<Item = (i64, f64)> + '_ {
    points.windows(2).map(|w| {
        let (v0, (t1, v1)) = (w[0].1, w[1]);
        (t1, if v1 >= v0 { v1 - v0 } else { v1 })
    })
}

fn parse_bound(text: &str) -> Option<f64> {
    match text {
        "+Inf" | "Inf" | "inf" => Some(f64::INFINITY),
        other => other.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::degradation::analyze::Bound;

    #[test]
    fn counters_become_rates_across_resets() {
        let points = [(0, 10.0), (1000, 20.0), (2000, 5.0), (4000, 9.0)];
        assert_eq!(
            counter_rate(&points),
            [(1000, 10.0), (2000, 5.0), (4000, 2.0)]
        );
        assert_eq!(
            cumulative(&points),
            [(0, 10.0), (1000, 20.0), (2000, 25.0), (4000, 29.0)]
        );
    }

    #[test]
    fn families_are_hunted_by_role() {
        let cases = [
            (
                "http_request_duration_seconds_bucket",
                "histogram",
                Some("histogram"),
            ),
            ("http_request_duration_seconds_count", "histogram", None),
            ("http_request_duration_seconds_sum", "unknown", None),
            ("requests_total", "unknown", Some("counter")),
            ("requests", "counter", Some("counter")),
            ("process_resident_memory_bytes", "gauge", Some("gauge")),
            ("rpc_latency", "summary", None),
        ];
        for (name, kind, role) in cases {
            assert_eq!(family_role(name, kind), role, "{name}");
        }
        for name in [
            "up",
            "scrape_duration_seconds",
            "process_start_time_seconds",
            "sdd_build_info",
        ] {
            assert!(excluded_by_default(name), "{name}");
        }
    }

    #[test]
    fn quantiles_and_error_ratios_come_from_increases() {
        let bucket = |le: &str, values: [f64; 3]| {
            let labels: Labels = [("le".to_string(), le.to_string())].into();
            (
                labels,
                vec![(0, values[0]), (1000, values[1]), (2000, values[2])],
            )
        };
        // Step 1: 10 requests all ≤ 0.1; step 2: 10 more, all in (0.1, 1].
        let buckets = [
            bucket("0.1", [0.0, 10.0, 10.0]),
            bucket("1", [0.0, 10.0, 20.0]),
            bucket("+Inf", [0.0, 10.0, 20.0]),
        ];
        let p99 = quantile_series(0.99, &buckets);
        assert_eq!(p99.len(), 2);
        assert!(p99[0].1 <= 0.1 && p99[1].1 > 0.9, "{p99:?}");
        let count = |status: &str, values: [f64; 3]| {
            let labels: Labels = [("status".to_string(), status.to_string())].into();
            (
                labels,
                vec![(0, values[0]), (1000, values[1]), (2000, values[2])],
            )
        };
        let counts = [
            count("200", [0.0, 90.0, 180.0]),
            count("503", [0.0, 10.0, 10.0]),
        ];
        let ratio = error_ratio_series(
            &counts,
            &CheckSpec::ErrorRate {
                max_percent: 1.0,
                counted_4xx: vec![],
            },
        );
        assert_eq!(ratio, [(1000, 0.1), (2000, 0.0)]);
    }

    #[test]
    fn spec_patterns_are_matched_by_what_the_metric_measures() {
        let patterns = [
            "Memory growth without corresponding load increase".to_string(),
            "Cache hit rate gradually declining".to_string(),
            "API latency creeping up at 99th percentile".to_string(),
        ];
        let cases = [
            ("process_resident_memory_bytes", SeriesKind::Gauge, Some(0)),
            ("task_manager_cache_hit_ratio", SeriesKind::Gauge, Some(1)),
            (
                "http_request_duration_seconds",
                SeriesKind::Percentile { q: 0.99 },
                Some(2),
            ),
            ("queue_depth", SeriesKind::Gauge, None),
        ];
        for (metric, kind, expected) in cases {
            assert_eq!(
                pattern_for(metric, &kind, &patterns),
                expected.map(|i| patterns[i].clone()),
                "{metric}"
            );
        }
    }

    /// A degradation whose whole change stays inside the histogram bucket of its level is
    /// not claimed; one larger than the bucket is, and other series are left alone.
    #[test]
    fn a_change_inside_one_histogram_bucket_is_not_claimed() {
        let bounds = [0.001, 0.0025, 0.005, 0.01, 0.025];
        let degrading = |level: f64, percent_over_window: f64, steps: &[f64]| {
            let mut a = analyze_failed(100);
            a.verdict = Verdict::Degrading;
            a.pattern = Some(super::super::analyze::Pattern::Step);
            a.level = level;
            a.trend = Some(super::super::analyze::Trend {
                percent_over_window,
                ..Default::default()
            });
            a.steps = steps
                .iter()
                .map(|&step| super::super::analyze::Step {
                    step,
                    ..Default::default()
                })
                .collect();
            a
        };
        for (level, over_window, steps, bounds, claimed) in [
            // The healthy example: p95 about 1 ms, 72 % up, steps under a millisecond.
            (0.00099, 72.0, vec![0.0007, -0.006], &bounds[..], false),
            // The same figures at 1 ms level but a 2 ms step the worse way: claimed.
            (0.00099, 72.0, vec![0.002], &bounds[..], true),
            // 20 ms, up 100 %: 20 ms over a 15 ms bucket.
            (0.02, 100.0, vec![], &bounds[..], true),
            // 20 ms, up 10 %: 2 ms inside the 10–25 ms bucket.
            (0.02, 10.0, vec![], &bounds[..], false),
            // Not a histogram: no bounds, nothing changes.
            (0.00099, 1.0, vec![], &[][..], true),
            // Above the last finite bound: the bucket is unbounded, left as judged.
            (0.5, 1.0, vec![], &bounds[..], true),
        ] {
            let mut a = degrading(level, over_window, &steps);
            within_resolution(&mut a, Worse::Higher, bounds);
            assert_eq!(
                a.verdict == Verdict::Degrading,
                claimed,
                "{level} {over_window} {steps:?}: {}",
                a.summary
            );
            if !claimed {
                assert!(a.pattern.is_none() && a.summary.contains("inside one bucket"));
            }
        }
    }

    fn candidate(series: &str, worse: Worse, points: Vec<(i64, f64)>) -> Candidate {
        Candidate {
            series: series.into(),
            metric: series.into(),
            kind: SeriesKind::Gauge,
            worse,
            constraint: None,
            bound: None,
            points,
            labels: Labels::new(),
            volume: false,
            bounds: Vec::new(),
        }
    }

    fn verdict_of<'a>(hunted: &'a [Hunted], series: &str) -> &'a Hunted {
        hunted.iter().find(|h| h.series == series).unwrap()
    }

    /// What the hostile review found, pinned: a series of extreme values is said not judged
    /// and takes nothing with it; a flat series whose cycle follows a growing load is not
    /// degrading; a flat series past its limit is violated now; stored data that grows with
    /// a counter of the business (its size per order falling) only follows it.
    #[test]
    fn extreme_values_driver_growth_flat_bounds_and_volume_per_unit() {
        use crate::degradation::synthetic::{load, series, Planted, Shape};
        let shape = Shape {
            days: 14.0,
            step_ms: 300_000,
            seed: 3,
        };
        let growing = load(&shape, 0.03);
        let extreme: Vec<(i64, f64)> = growing
            .iter()
            .enumerate()
            .map(|(i, &(t, _))| (t, if i % 2 == 0 { 1e308 } else { -1e308 }))
            .collect();
        let leak = series(
            &shape,
            Planted::Leak {
                percent_per_day: 2.0,
            },
            &growing,
        );
        // Busy when the load is, and no trend of its own.
        let in_phase: Vec<(i64, f64)> = growing
            .iter()
            .map(|&(t, _)| {
                let hour = ((t / 3_600_000) % 24) as f64;
                (
                    t,
                    0.9 + 0.05 * ((hour - 15.0) / 24.0 * std::f64::consts::TAU).cos(),
                )
            })
            .collect();
        let flat_over: Vec<(i64, f64)> = growing.iter().map(|&(t, _)| (t, 600.0)).collect();
        // Orders counted since the start; the database is a fixed 1e6 plus 2,000 an order.
        let mut orders = 0.0;
        let business: Vec<(i64, f64)> = growing
            .iter()
            .map(|&(t, rate)| {
                orders += rate * 300.0;
                (t, orders)
            })
            .collect();
        let database: Vec<(i64, f64)> = business
            .iter()
            .map(|&(t, o)| (t, 1e6 + 2000.0 * o))
            .collect();
        let mut over = candidate("memory", Worse::Higher, flat_over);
        over.bound = Some(Bound {
            value: 512.0,
            source: "limit memory ≤ 512".into(),
        });
        let mut db = candidate("db_size_bytes", Worse::Higher, database);
        db.volume = true;
        let hunted = judge_all(
            vec![
                candidate("extreme", Worse::Higher, extreme),
                candidate("leak", Worse::Higher, leak),
                candidate("cache_hit_ratio", Worse::Lower, in_phase),
                over,
                db,
            ],
            Some(&growing),
            Some(&business),
            shape.step_ms,
            0.01,
            Thresholds::default(),
            &[],
        );
        assert_eq!(hunted.len(), 5);
        let extreme = verdict_of(&hunted, "extreme");
        assert_eq!(
            extreme.analysis.verdict,
            Verdict::NotJudged,
            "{}",
            extreme.analysis.summary
        );
        assert!(!extreme.analysis.summary.is_empty());
        assert_eq!(
            verdict_of(&hunted, "leak").analysis.verdict,
            Verdict::Degrading
        );
        let in_phase = verdict_of(&hunted, "cache_hit_ratio");
        assert_ne!(
            in_phase.analysis.verdict,
            Verdict::Degrading,
            "{}",
            in_phase.analysis.summary
        );
        let over = verdict_of(&hunted, "memory");
        assert_eq!(
            over.analysis
                .time_to_violation
                .as_ref()
                .map(|t| t.summary.as_str()),
            Some("violated now")
        );
        let db = verdict_of(&hunted, "db_size_bytes");
        assert_eq!(
            db.analysis.verdict,
            Verdict::FollowsDriver,
            "{}",
            db.analysis.summary
        );
        assert!(
            db.analysis.summary.contains("per unit of business volume"),
            "{}",
            db.analysis.summary
        );
    }
}

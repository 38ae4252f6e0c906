//! What is there to measure with (`list_metrics`) and one selector summarised over a window
//! (`query_metrics`): summaries, never raw series unless asked, and then capped.

use schemars::JsonSchema;
use sdd_spec::constraint::CheckSpec;
use sdd_spec::model::Constraint;
use sdd_spec::project::ProjectFile;
use serde::{Deserialize, Serialize};

use crate::headroom::histogram_selectors;
use crate::health::{JOURNEY_DURATION, JOURNEY_SUCCESS};
use crate::selector::{Labels, Selector};
use crate::source::{MetricName, Source, SourceError};

/// How a constraint is measured from metrics, or why it is not.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ConstraintMapping {
    pub constraint: String,
    /// The series selectors measuring it (the request histogram narrowed to its scope, or
    /// what `monitoring.constraints` names).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<String>,
    /// Set when it is not measured from metrics.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmeasured: Option<String>,
}

/// Which series measure each constraint, or why none does.
pub fn constraint_mappings(
    project: &ProjectFile,
    constraints: &[&Constraint],
) -> Vec<ConstraintMapping> {
    constraints
        .iter()
        .map(|c| {
            let mut row = ConstraintMapping {
                constraint: c.id.clone(),
                series: Vec::new(),
                unmeasured: None,
            };
            if let Some(why) = project
                .monitoring
                .constraints
                .get(&c.id)
                .and_then(|m| m.unmeasured.clone())
            {
                row.unmeasured = Some(why);
                return row;
            }
            if let Some(not) = &c.parsed.not_checkable {
                row.unmeasured = Some(format!("not machine-checkable: {}", not.reason));
                return row;
            }
            let scope = c.parsed.checks.iter().find_map(|check| match check {
                CheckSpec::Latency { scope, .. } => Some(scope.as_str()),
                CheckSpec::ErrorRate { .. } | CheckSpec::Availability { .. } => Some("all"),
                _ => None,
            });
            match scope.map(|scope| histogram_selectors(project, &c.id, scope)) {
                Some(Ok(selectors)) => {
                    row.series = selectors.iter().map(|s| s.to_string()).collect()
                }
                Some(Err(why)) => row.unmeasured = Some(why),
                None => {
                    row.unmeasured = Some(
                        "its checks need traffic SDD makes itself (verify_constraints), not production metrics".into(),
                    )
                }
            }
            row
        })
        .collect()
}

/// One metric name as listed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MetricListing {
    pub name: String,
    pub kind: String,
    /// Series of it (from a Prometheus: those seen in the last hour); absent when the source
    /// has more series than one answer carries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub help: Option<String>,
    /// What SDD reads it for: constraint IDs, `scenario outcomes`, `journeys`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub used_for: Vec<String>,
}

/// Every metric name of the source, each with what SDD reads it for.
pub async fn list_metrics(
    source: &Source,
    project: &ProjectFile,
    mappings: &[ConstraintMapping],
) -> Result<Vec<MetricListing>, SourceError> {
    let names = source.metric_names().await?;
    // Each mapping's selectors parsed once: the metric names they read (a histogram's series
    // too), each with the constraints reading it, in mapping order.
    let mut readers: std::collections::HashMap<String, Vec<&str>> = Default::default();
    for m in mappings {
        let mut read: Vec<String> = Vec::new();
        for selector in m.series.iter().filter_map(|s| Selector::parse(s).ok()) {
            read.push(selector.metric.clone());
            read.extend(
                ["_bucket", "_count", "_sum"].map(|suffix| format!("{}{suffix}", selector.metric)),
            );
        }
        read.sort();
        read.dedup();
        for metric in read {
            readers.entry(metric).or_default().push(&m.constraint);
        }
    }
    Ok(names
        .into_iter()
        .map(
            |MetricName {
                 name,
                 kind,
                 help,
                 series,
             }| {
                let mut used_for: Vec<String> = readers
                    .get(&name)
                    .map(|ids| ids.iter().map(|id| id.to_string()).collect())
                    .unwrap_or_default();
                if name == project.monitoring.convention.scenario_outcomes {
                    used_for.push("scenario outcomes".into());
                }
                if name == JOURNEY_SUCCESS || name == JOURNEY_DURATION {
                    used_for.push("journeys".into());
                }
                MetricListing {
                    name,
                    kind,
                    series,
                    help,
                    used_for,
                }
            },
        )
        .collect())
}

/// One series over the window.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SeriesSummary {
    pub labels: Labels,
    pub samples: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p50: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p90: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p99: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last: Option<f64>,
    /// Least-squares slope per second (`deriv`); absent under two samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slope_per_second: Option<f64>,
    /// For a counter: `rate` per second and `increase` over the window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_per_second: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub increase: Option<f64>,
    /// The series at evenly spaced steps, when asked for (`points`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<(i64, f64)>>,
}

/// A number JSON can carry: NaN and infinities (a series of NaNs, `+Inf`) are left out, and
/// the caller says so in its notes.
fn finite(value: f64) -> Option<f64> {
    value.is_finite().then_some(value)
}

/// Every series the selector selects, summarised; `points` adds that many evenly spaced
/// steps per series (a range query of the bare selector).
pub async fn query_metrics(
    source: &Source,
    selector: &Selector,
    window_ms: i64,
    at_ms: i64,
    points: Option<usize>,
) -> Result<(Vec<SeriesSummary>, Vec<String>), SourceError> {
    let mut notes = Vec::new();
    let summaries = source.summaries(selector, window_ms, at_ms).await?;
    let mut steps_by_labels = std::collections::BTreeMap::new();
    if let Some(points) = points.filter(|&p| p > 0) {
        let step_ms = (window_ms / points as i64).max(1000);
        for (labels, steps) in source
            .steps(selector, at_ms - window_ms + step_ms, at_ms, step_ms)
            .await?
        {
            steps_by_labels.insert(labels, steps);
        }
    }
    let mut not_finite = 0;
    let rows = summaries
        .into_iter()
        .map(|(labels, s)| {
            let values = [
                s.min,
                s.max,
                s.mean,
                s.p50,
                s.p90,
                s.p95,
                s.p99,
                s.last.value,
            ];
            if values.iter().any(|v| !v.is_finite()) {
                not_finite += 1;
            }
            let steps = steps_by_labels.remove(&labels).map(|steps| {
                steps
                    .into_iter()
                    .filter(|(_, v)| v.is_finite())
                    .collect::<Vec<_>>()
            });
            SeriesSummary {
                samples: s.count,
                min: finite(s.min),
                max: finite(s.max),
                mean: finite(s.mean),
                p50: finite(s.p50),
                p90: finite(s.p90),
                p95: finite(s.p95),
                p99: finite(s.p99),
                last: finite(s.last.value),
                slope_per_second: s.slope_per_second.filter(|v| v.is_finite()),
                rate_per_second: s
                    .counter
                    .map(|c| c.rate_per_second)
                    .filter(|v| v.is_finite()),
                increase: s.counter.map(|c| c.increase).filter(|v| v.is_finite()),
                steps,
                labels,
            }
        })
        .collect();
    if not_finite > 0 {
        notes.push(format!(
            "{not_finite} series hold NaN or infinite values; those figures are left out — ask for `points` to see the samples"
        ));
    }
    Ok((rows, notes))
}

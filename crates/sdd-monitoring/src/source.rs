//! Metric sources behind one interface: the embedded store under `.sdd/`, or a server that
//! answers the Prometheus HTTP API. Every question the tools ask is an [`Expr`] (or a
//! selector), so both sources are asked the same thing and give the same numbers; the answer
//! names the source and the PromQL.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sdd_metrics::store::{MetricStore, StoreError, METRICS_FILE};
use sdd_metrics::summary::{StartBound, Summary, Window};

use crate::embedded::{self, Sample, Semantics, StepSeries};
use crate::expr::Expr;
use crate::prometheus::{PrometheusApi, PrometheusError, QueryResult};
use crate::selector::{Labels, Selector};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the embedded metric store {0} does not exist yet: run `sdd monitor` (it scrapes monitoring.scrape.targets and runs the journeys) or `sdd metrics import FILE`, or name a Prometheus under monitoring.source")]
    NoStore(PathBuf),
    #[error("{0}")]
    Prometheus(#[from] PrometheusError),
    #[error("{0}")]
    Unexpected(String),
    #[error("reading the metric store failed: {0}")]
    Worker(String),
}

/// A metric name as a source knows it.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricName {
    pub name: String,
    /// `counter`, `gauge`, `histogram`, … when declared; `unknown` otherwise.
    pub kind: String,
    pub help: Option<String>,
    /// How many series it has; `None` when the source would not say (a Prometheus with more
    /// series than one answer may carry).
    pub series: Option<usize>,
}

/// The embedded store, opened on first use and kept (a connection per source).
pub struct EmbeddedSource {
    path: PathBuf,
    store: Mutex<Option<MetricStore>>,
    /// Which Prometheus it answers like (the current one unless set).
    pub semantics: Semantics,
}

impl EmbeddedSource {
    pub fn new(project_root: &Path) -> EmbeddedSource {
        EmbeddedSource {
            path: project_root.join(METRICS_FILE),
            store: Mutex::new(None),
            semantics: Semantics::default(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Run `read` on the store; a missing file is [`SourceError::NoStore`] (never created by a
    /// read: a typo in a project path should not leave a store behind).
    fn with_store<T>(
        &self,
        read: impl FnOnce(&MetricStore) -> Result<T, StoreError>,
    ) -> Result<T, SourceError> {
        let mut slot = self
            .store
            .lock()
            .map_err(|_| SourceError::Worker("a previous read panicked".into()))?;
        if slot.is_none() {
            if !self.path.is_file() {
                return Err(SourceError::NoStore(self.path.clone()));
            }
            *slot = Some(MetricStore::open_at(&self.path)?);
        }
        let store = slot.as_ref().expect("opened above");
        Ok(read(store)?)
    }
}

pub enum Source {
    Embedded(Arc<EmbeddedSource>),
    Prometheus(PrometheusApi),
}

/// The source `monitoring.source` of `sdd.yaml` names; `embedded` is the store kept open.
pub fn from_config(
    embedded: &Arc<EmbeddedSource>,
    file: &sdd_spec::project::ProjectFile,
) -> Result<Source, String> {
    match &file.monitoring.source.prometheus {
        None => Ok(Source::Embedded(embedded.clone())),
        Some(p) => PrometheusApi::new(
            &p.url,
            Duration::from_secs(p.timeout_seconds.max(1)),
            sdd_verify::allowed_hosts(file),
        )
        .map(Source::Prometheus)
        .map_err(|e| format!("monitoring.source.prometheus: {e}")),
    }
}

impl Source {
    /// `embedded store .sdd/metrics.sqlite3` / `prometheus at http://…`.
    pub fn describe(&self) -> String {
        match self {
            Source::Embedded(e) => format!("embedded store {}", e.path().display()),
            Source::Prometheus(api) => format!("Prometheus HTTP API at {}", api.base_url()),
        }
    }

    /// How a window's first instant counts, for the answer's method line.
    pub fn window_rule(&self) -> &'static str {
        match self {
            Source::Embedded(e) => match e.semantics.start {
                StartBound::Excluded => "samples with start < t ≤ end (as Prometheus 3 selects)",
                StartBound::Included => "samples with start ≤ t ≤ end (as Prometheus 2 selects)",
            },
            Source::Prometheus(_) => {
                "samples as the Prometheus selects them (start < t ≤ end from version 3, start ≤ t ≤ end before)"
            }
        }
    }

    /// `expr` at instant `at_ms`.
    pub async fn evaluate(&self, expr: &Expr, at_ms: i64) -> Result<Vec<Sample>, SourceError> {
        match self {
            Source::Embedded(e) => {
                let e = e.clone();
                let expr = expr.clone();
                blocking(move || {
                    e.with_store(|store| embedded::evaluate(store, &expr, at_ms, e.semantics))
                })
                .await
            }
            Source::Prometheus(api) => instant_vector(api, &expr.to_string(), at_ms).await,
        }
    }

    /// Every metric name, with its declared type and how many series it has.
    pub async fn metric_names(&self) -> Result<Vec<MetricName>, SourceError> {
        match self {
            Source::Embedded(e) => {
                let e = e.clone();
                blocking(move || {
                    e.with_store(|store| {
                        let families = store.families()?;
                        Ok(store
                            .metric_names()?
                            .into_iter()
                            .map(|(name, series)| {
                                let family = families.iter().find(|f| {
                                    f.name == name
                                        || name.strip_prefix(f.name.as_str()).is_some_and(|rest| {
                                            matches!(
                                                rest,
                                                "_total"
                                                    | "_bucket"
                                                    | "_count"
                                                    | "_sum"
                                                    | "_created"
                                            )
                                        })
                                });
                                MetricName {
                                    kind: family
                                        .map(|f| f.kind.as_str().to_string())
                                        .unwrap_or_else(|| "unknown".into()),
                                    help: family.and_then(|f| f.help.clone()),
                                    name,
                                    series: Some(series),
                                }
                            })
                            .collect())
                    })
                })
                .await
            }
            Source::Prometheus(api) => {
                let metadata = api.metadata().await?;
                let names = api.label_values("__name__").await?;
                // Series per name from one `series` call over the last hour (capped: a server
                // with more series than the cap is told, not half-counted).
                let now = now_ms();
                let series = api
                    .series(&["{__name__=~\".+\"}".to_string()], now - 3_600_000, now)
                    .await;
                // More series than one answer may carry: the names stand, the counts are not
                // known (never a number that only counts what fitted).
                let counted = match series {
                    Ok(series) => true.then_some(series),
                    Err(PrometheusError::TooManySeries { .. }) => None,
                    Err(e) => return Err(e.into()),
                };
                let mut counts: Option<std::collections::HashMap<String, usize>> =
                    counted.as_ref().map(|_| Default::default());
                for labels in counted.into_iter().flatten() {
                    if let (Some(name), Some(counts)) = (labels.get("__name__"), counts.as_mut()) {
                        *counts.entry(name.clone()).or_default() += 1;
                    }
                }
                Ok(names
                    .into_iter()
                    .map(|name| {
                        let family = metadata.get(&name).or_else(|| {
                            ["_total", "_bucket", "_count", "_sum", "_created"]
                                .iter()
                                .find_map(|suffix| metadata.get(name.strip_suffix(suffix)?))
                        });
                        MetricName {
                            kind: family
                                .map(|f| f.kind.clone())
                                .unwrap_or_else(|| "unknown".into()),
                            help: family.map(|f| f.help.clone()).filter(|h| !h.is_empty()),
                            series: counts.as_ref().map(|c| c.get(&name).copied().unwrap_or(0)),
                            name,
                        }
                    })
                    .collect())
            }
        }
    }

    /// Each series `selector` selects, summarised over `window` (count, min, max, mean,
    /// percentiles, last, slope; rate and increase for counters).
    pub async fn summaries(
        &self,
        selector: &Selector,
        range_ms: i64,
        at_ms: i64,
    ) -> Result<Vec<(Labels, Summary)>, SourceError> {
        match self {
            Source::Embedded(e) => {
                let e = e.clone();
                let selector = selector.clone();
                blocking(move || {
                    e.with_store(|store| {
                        let window = Window {
                            start_ms: at_ms.saturating_sub(range_ms),
                            end_ms: at_ms,
                            start: e.semantics.start,
                        };
                        let counter = store.is_counter(&selector.metric)?;
                        let chosen = embedded::select(store, &selector)?;
                        let ids: Vec<_> = chosen.iter().map(|(id, _)| *id).collect();
                        let mut out = Vec::new();
                        for ((_, labels), points) in
                            chosen.into_iter().zip(store.points_of_many(&ids, window)?)
                        {
                            if let Some(summary) = sdd_metrics::summary::summarize_as(
                                &points,
                                window,
                                counter,
                                e.semantics.extrapolation,
                            ) {
                                out.push((labels, summary));
                            }
                        }
                        Ok(out)
                    })
                })
                .await
            }
            Source::Prometheus(api) => prometheus_summaries(api, selector, range_ms, at_ms).await,
        }
    }

    /// `selector` at each step (a range query of the bare selector).
    pub async fn steps(
        &self,
        selector: &Selector,
        start_ms: i64,
        end_ms: i64,
        step_ms: i64,
    ) -> Result<Vec<StepSeries>, SourceError> {
        match self {
            Source::Embedded(e) => {
                let e = e.clone();
                let selector = selector.clone();
                blocking(move || {
                    e.with_store(|store| {
                        embedded::range_points(
                            store,
                            &selector,
                            start_ms,
                            end_ms,
                            step_ms,
                            LOOKBACK_MS,
                        )
                    })
                })
                .await
            }
            Source::Prometheus(api) => Ok(api
                .query_range(&selector.to_string(), start_ms, end_ms, step_ms)
                .await?
                .into_iter()
                .map(|(mut labels, points)| {
                    labels.remove("__name__");
                    (labels, points)
                })
                .collect()),
        }
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An instant query whose answer must be a vector (what every [`Expr`] gives); labels without
/// `__name__`, as the embedded store answers.
async fn instant_vector(
    api: &PrometheusApi,
    promql: &str,
    at_ms: i64,
) -> Result<Vec<Sample>, SourceError> {
    match api.query(promql, at_ms).await? {
        QueryResult::Vector(samples) => Ok(samples
            .into_iter()
            .map(|(mut labels, value)| {
                labels.remove("__name__");
                (labels, value)
            })
            .collect()),
        other => Err(SourceError::Unexpected(format!(
            "{promql} gave a {} where an instant vector was expected",
            match other {
                QueryResult::Matrix(_) => "range vector",
                _ => "scalar",
            }
        ))),
    }
}

/// What the embedded store's `summarize` computes, asked of Prometheus one function at a
/// time and joined by labels.
async fn prometheus_summaries(
    api: &PrometheusApi,
    selector: &Selector,
    range_ms: i64,
    at_ms: i64,
) -> Result<Vec<(Labels, Summary)>, SourceError> {
    use crate::expr::{Expr, RangeFn};
    let ask = |func| {
        let expr = Expr::range(func, selector.clone(), range_ms);
        async move { instant_vector(api, &expr.to_string(), at_ms).await }
    };
    let by_labels = |answer: Vec<Sample>| -> std::collections::BTreeMap<Labels, f64> {
        answer.into_iter().collect()
    };
    let count = by_labels(ask(RangeFn::CountOverTime).await?);
    let min = by_labels(ask(RangeFn::MinOverTime).await?);
    let max = by_labels(ask(RangeFn::MaxOverTime).await?);
    let mean = by_labels(ask(RangeFn::AvgOverTime).await?);
    let mut quantiles = Vec::new();
    for q in sdd_metrics::summary::PERCENTILES {
        quantiles.push(by_labels(ask(RangeFn::QuantileOverTime(q)).await?));
    }
    let last = by_labels(ask(RangeFn::LastOverTime).await?);
    let slope = by_labels(ask(RangeFn::Deriv).await?);
    let counter = is_counter_name(api, &selector.metric).await;
    let (rate, increase, resets) = if counter {
        let resets = instant_vector(
            api,
            &format!("resets({selector}[{}])", crate::expr::duration(range_ms)),
            at_ms,
        )
        .await?;
        (
            by_labels(ask(RangeFn::Rate).await?),
            by_labels(ask(RangeFn::Increase).await?),
            by_labels(resets),
        )
    } else {
        Default::default()
    };
    Ok(count
        .into_iter()
        .map(|(labels, n)| {
            let get = |m: &std::collections::BTreeMap<Labels, f64>| {
                m.get(&labels).copied().unwrap_or(f64::NAN)
            };
            let summary = Summary {
                count: n as usize,
                min: get(&min),
                max: get(&max),
                mean: get(&mean),
                p50: get(&quantiles[0]),
                p90: get(&quantiles[1]),
                p95: get(&quantiles[2]),
                p99: get(&quantiles[3]),
                last: sdd_metrics::summary::Point {
                    timestamp_ms: at_ms,
                    value: get(&last),
                },
                slope_per_second: slope.get(&labels).copied(),
                counter: match (rate.get(&labels), increase.get(&labels)) {
                    (Some(&rate_per_second), Some(&increase)) => {
                        Some(sdd_metrics::summary::CounterSummary {
                            rate_per_second,
                            increase,
                            resets: get(&resets) as usize,
                        })
                    }
                    _ => None,
                },
            };
            (labels, summary)
        })
        .collect())
}

/// Whether `name` is a counter by Prometheus' metadata, or else by the naming convention
/// (`_total`, and a histogram's or summary's `_bucket`, `_count`, `_sum`) — what the embedded
/// store's `is_counter` decides from the declared types.
async fn is_counter_name(api: &PrometheusApi, name: &str) -> bool {
    let by_suffix = ["_total", "_bucket", "_count", "_sum"]
        .iter()
        .any(|suffix| name.ends_with(suffix));
    match api.metadata().await {
        Ok(metadata) => match metadata.get(name).map(|m| m.kind.as_str()) {
            Some("counter") => true,
            Some("gauge") => false,
            _ => by_suffix,
        },
        Err(_) => by_suffix,
    }
}

/// Prometheus' default lookback for an instant selector: 5 minutes.
pub const LOOKBACK_MS: i64 = 5 * 60 * 1000;

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, SourceError> + Send + 'static,
) -> Result<T, SourceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| SourceError::Worker(e.to_string()))?
}

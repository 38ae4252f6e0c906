//! Metric sources behind one interface: the embedded store under `.sdd/`, or a server that
//! answers the Prometheus HTTP API. Every question the tools ask is an [`Expr`] (or a
//! selector), so both sources are asked the same thing and give the same numbers; the answer
//! names the source and the PromQL.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use sdd_metrics::store::{MetricStore, StoreError, METRICS_FILE};
use sdd_metrics::summary::{StartBound, Summary, Window};

use crate::embedded::{self, Sample, StepSeries};
use crate::expr::Expr;
use crate::selector::{Labels, Selector};

#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("the embedded metric store {0} does not exist yet: run `sdd monitor` (it scrapes monitoring.scrape.targets and runs the journeys) or `sdd metrics import FILE`, or name a Prometheus under monitoring.source")]
    NoStore(PathBuf),
    #[error("{0}")]
    Prometheus(String),
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
    pub series: usize,
}

/// The embedded store, opened on first use and kept (a connection per source).
pub struct EmbeddedSource {
    path: PathBuf,
    store: Mutex<Option<MetricStore>>,
    /// How a range's first instant is treated (Prometheus 3 excludes it).
    pub start: StartBound,
}

impl EmbeddedSource {
    pub fn new(project_root: &Path) -> EmbeddedSource {
        EmbeddedSource {
            path: project_root.join(METRICS_FILE),
            store: Mutex::new(None),
            start: StartBound::Excluded,
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
}

/// The source `monitoring.source` of `sdd.yaml` names; `embedded` is the store kept open.
pub fn from_config(
    embedded: &Arc<EmbeddedSource>,
    file: &sdd_spec::project::ProjectFile,
) -> Result<Source, String> {
    match &file.monitoring.source.prometheus {
        None => Ok(Source::Embedded(embedded.clone())),
        Some(p) => Err(format!(
            "monitoring.source.prometheus ({}) cannot be read by this build yet; remove it to read the embedded store",
            p.url
        )),
    }
}

impl Source {
    /// `embedded store .sdd/metrics.sqlite3` / `prometheus at http://…`.
    pub fn describe(&self) -> String {
        match self {
            Source::Embedded(e) => format!("embedded store {}", e.path().display()),
        }
    }

    /// How a window's first instant counts, for the answer's method line.
    pub fn window_rule(&self) -> &'static str {
        match self {
            Source::Embedded(e) => match e.start {
                StartBound::Excluded => "samples with start < t ≤ end (as Prometheus 3 selects)",
                StartBound::Included => "samples with start ≤ t ≤ end (as Prometheus 2 selects)",
            },
        }
    }

    /// `expr` at instant `at_ms`.
    pub async fn evaluate(&self, expr: &Expr, at_ms: i64) -> Result<Vec<Sample>, SourceError> {
        match self {
            Source::Embedded(e) => {
                let e = e.clone();
                let expr = expr.clone();
                blocking(move || {
                    e.with_store(|store| embedded::evaluate(store, &expr, at_ms, e.start))
                })
                .await
            }
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
                                    series,
                                }
                            })
                            .collect())
                    })
                })
                .await
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
                            start: e.start,
                        };
                        let counter = store.is_counter(&selector.metric)?;
                        let mut out = Vec::new();
                        for (id, labels) in embedded::select(store, &selector)? {
                            let points = store.points(id, window)?;
                            if let Some(summary) =
                                sdd_metrics::summary::summarize(&points, window, counter)
                            {
                                out.push((labels, summary));
                            }
                        }
                        Ok(out)
                    })
                })
                .await
            }
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
        }
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

//! What the source holds: `list_metrics` and `query_metrics`.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::{paged, Page, Paging, ToolError};
use sdd_monitoring::explore::{
    constraint_mappings, list_metrics, query_metrics, ConstraintMapping, MetricListing,
    SeriesSummary,
};
use sdd_monitoring::selector::Selector;

use super::{WindowArgs, WindowUsed};
use crate::MonitorServer;

/// The most steps a series may be asked for (`points`).
pub const MAX_POINTS: usize = 500;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Pages through both lists at once (the same entries of each).
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct MetricsListResult {
    pub source: String,
    /// Metric names with type, series count and what SDD reads each for.
    pub metrics: Vec<MetricListing>,
    /// Each constraint: the series that measure it, or why none does.
    pub constraints: Vec<ConstraintMapping>,
    /// Constraints measured from metrics, of all the spec has.
    pub constraints_measured: usize,
    pub constraints_total: usize,
    /// Over the longer of the two lists.
    pub page: Page,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct QueryArgs {
    /// A series selector in PromQL's syntax: `http_request_duration_seconds_count{route="/tasks"}`
    /// (matchers `=`, `!=`, `=~`, `!~`; no functions or ranges).
    pub selector: String,
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Also return each series at this many evenly spaced steps over the window (at most 500;
    /// default none: summaries only).
    #[serde(default)]
    pub points: Option<usize>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct QueryResult {
    pub source: String,
    pub selector: String,
    #[serde(flatten)]
    pub window: WindowUsed,
    /// How the figures are computed, and which samples a window holds.
    pub method: String,
    /// The PromQL each figure is (sent as such to a Prometheus; evaluated alike by the store).
    pub queries: Vec<String>,
    /// The steps' spacing when `points` was asked for (a range query of the bare selector).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    pub series: Vec<SeriesSummary>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub page: Page,
}

#[tool_router(router = metric_tools, vis = "pub(crate)")]
impl MonitorServer {
    /// What the metric source holds — every metric name with its type, series count and what
    /// SDD reads it for — and, for each constraint of the spec, the series that measure it or
    /// why none does (a constraint without a mapping is listed, never skipped).
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true))]
    pub async fn list_metrics(
        &self,
        Parameters(args): Parameters<ListArgs>,
    ) -> Result<Json<MetricsListResult>, ToolError> {
        let file = self.project_file()?;
        let loaded = self.state.spec.load(&self.state.project, Some(&file))?;
        let constraints: Vec<_> = loaded.spec.constraints.iter().map(|c| &**c).collect();
        let mappings = constraint_mappings(&file, &constraints);
        let source = self.source(&file)?;
        let metrics = list_metrics(&source, &file, &mappings)
            .await
            .map_err(|e| e.to_string())?;
        let measured = mappings.iter().filter(|m| m.unmeasured.is_none()).count();
        let total = mappings.len();
        let described = source.describe();
        // Both lists page together: entry i of each.
        let rows: Vec<(Option<MetricListing>, Option<ConstraintMapping>)> = {
            let n = metrics.len().max(mappings.len());
            let mut metrics = metrics.into_iter();
            let mut mappings = mappings.into_iter();
            (0..n).map(|_| (metrics.next(), mappings.next())).collect()
        };
        Ok(Json(paged(rows, args.paging, |rows, page| {
            let (metrics, constraints): (Vec<_>, Vec<_>) = rows.into_iter().unzip();
            MetricsListResult {
                source: described.clone(),
                metrics: metrics.into_iter().flatten().collect(),
                constraints: constraints.into_iter().flatten().collect(),
                constraints_measured: measured,
                constraints_total: total,
                page,
            }
        })))
    }

    /// Summaries of every series a selector selects over a window: sample count, min, max,
    /// mean, p50/p90/p95/p99, last value, slope (`deriv`), and rate and increase for counters
    /// — computed as Prometheus computes `*_over_time`, `deriv`, `rate` and `increase`.
    /// Raw points only with `points` (evenly spaced steps, at most 500 per series).
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true))]
    pub async fn query_metrics(
        &self,
        Parameters(args): Parameters<QueryArgs>,
    ) -> Result<Json<QueryResult>, ToolError> {
        let selector = Selector::parse(&args.selector).map_err(|e| format!("selector: {e}"))?;
        if let Some(points) = args.points {
            if points == 0 || points > MAX_POINTS {
                return Err(format!(
                    "points: {points} is not between 1 and {MAX_POINTS}; ask for fewer steps or a shorter window"
                ));
            }
        }
        let file = self.project_file()?;
        let window = args.window.resolve(&file)?;
        let source = self.source(&file)?;
        let (series, notes) = query_metrics(
            &source,
            &selector,
            window.window_ms,
            window.at_ms,
            args.points,
        )
        .await
        .map_err(|e| e.to_string())?;
        let method = format!(
            "per series over the window ({}): min/max/avg/quantile_over_time (linear, as Prometheus), last_over_time, deriv (least squares per second), and for counters rate and increase (extrapolated as Prometheus); steps are the newest sample at or before each step within 5 minutes",
            source.window_rule()
        );
        let described = source.describe();
        let shown = selector.to_string();
        let range = sdd_monitoring::expr::duration(window.window_ms);
        let mut queries: Vec<String> = [
            "count_over_time",
            "min_over_time",
            "max_over_time",
            "avg_over_time",
            "last_over_time",
            "deriv",
        ]
        .iter()
        .map(|f| format!("{f}({shown}[{range}])"))
        .collect();
        queries.extend(
            [0.5, 0.9, 0.95, 0.99]
                .iter()
                .map(|q| format!("quantile_over_time({q}, {shown}[{range}])")),
        );
        queries.push(format!(
            "rate({shown}[{range}]) and increase({shown}[{range}]), for a counter"
        ));
        let step = args.points.map(|p| {
            sdd_monitoring::window::format_duration((window.window_ms / p as i64).max(1000))
        });
        let mut notes = notes;
        if args.points.is_some()
            && series
                .iter()
                .all(|s| s.steps.as_ref().is_none_or(Vec::is_empty))
            && !series.is_empty()
        {
            notes.push("no series has a sample within 5 minutes of any step: the steps are empty (a shorter window, or more points, lands steps near the samples)".into());
        }
        Ok(Json(paged(series, args.paging, |series, page| {
            QueryResult {
                source: described.clone(),
                selector: shown.clone(),
                window: window.clone(),
                method: method.clone(),
                queries: queries.clone(),
                step: step.clone(),
                series,
                notes: notes.clone(),
                page,
            }
        })))
    }
}

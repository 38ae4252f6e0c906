//! The degradation hunter: `detect_degradation` and `health_report`.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::ToolError;
use sdd_monitoring::degradation::hunt::{hunt, Hunt, HuntOptions};
use sdd_monitoring::degradation::report::{report, thresholds_from_spec, DegradationReport};
use sdd_monitoring::degradation::score::{health_score, HealthScore};
use sdd_monitoring::headroom::{constraint_headroom, Watch};
use sdd_monitoring::health::scenario_health;
use sdd_monitoring::source::Source;
use sdd_spec::project::ProjectFile;

use super::{budget_window_ms, WindowArgs, WindowUsed};
use crate::MonitorServer;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DegradationArgs {
    /// How far back from `at`: `7d`, `30d`, `90d` (default: monitoring.degradation.window of
    /// sdd.yaml, `30d`). Trends need at least 12 buckets of data.
    #[serde(default)]
    pub window: Option<String>,
    /// The window's end as RFC 3339 (default: now).
    #[serde(default)]
    pub at: Option<String>,
    /// Only metric families whose name contains this.
    #[serde(default)]
    pub metric: Option<String>,
    /// One series in full, by its exact `series` text from an earlier answer.
    #[serde(default)]
    pub series: Option<String>,
    /// How many degrading series in full (default 5, at most 10); the next 12 one line each,
    /// the rest counted.
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DegradationResult {
    pub source: String,
    #[serde(flatten)]
    pub window: WindowUsed,
    #[serde(flatten)]
    pub report: DegradationReport,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthReportArgs {
    /// The window trends are judged over (default monitoring.degradation.window, `30d`);
    /// constraint headroom and scenario health are over monitoring.window (`1h`).
    #[serde(default)]
    pub window: Option<String>,
    /// The end, RFC 3339 (default: now).
    #[serde(default)]
    pub at: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HealthReportResult {
    pub source: String,
    #[serde(flatten)]
    pub window: WindowUsed,
    #[serde(flatten)]
    pub score: HealthScore,
}

impl MonitorServer {
    /// The hunt over the configured source: the spec's constraints, its degradation thresholds.
    async fn run_hunt(
        &self,
        file: &ProjectFile,
        window: &WindowUsed,
        metric: Option<String>,
    ) -> Result<(Hunt, f64, String, Source), ToolError> {
        let loaded = self.state.spec.load(&self.state.project, Some(file))?;
        let spec = &loaded.spec;
        let (thresholds, thresholds_from, patterns) =
            thresholds_from_spec(&spec.degradation_detection);
        let significance = file.monitoring.degradation.significance;
        if !(significance > 0.0 && significance < 0.5) {
            return Err(format!(
                "monitoring.degradation.significance of sdd.yaml is {significance}: it must be over 0 and under 0.5 (0.01 is usual)"
            ));
        }
        let source = self.source(file)?;
        let resolution_ms = match &source {
            Source::Embedded(_) => file.monitoring.scrape.interval_seconds.max(1) as i64 * 1000,
            Source::Prometheus(_) => 15_000,
        };
        let constraints: Vec<_> = spec.constraints.iter().map(|c| &**c).collect();
        let options = HuntOptions {
            start_ms: window.at_ms - window.window_ms,
            end_ms: window.at_ms,
            significance,
            thresholds,
            thresholds_from: thresholds_from.clone(),
            resolution_ms,
            only: metric,
        };
        let found = hunt(
            &source,
            file,
            &constraints,
            spec.domains.len(),
            &patterns,
            &options,
        )
        .await
        .map_err(|e| e.to_string())?;
        Ok((found, significance, thresholds_from, source))
    }

    fn degradation_window(
        file: &ProjectFile,
        window: &Option<String>,
        at: &Option<String>,
    ) -> Result<WindowUsed, ToolError> {
        WindowArgs {
            window: Some(
                window
                    .clone()
                    .unwrap_or_else(|| file.monitoring.degradation.window.clone()),
            ),
            at: at.clone(),
        }
        .resolve(file)
    }
}

#[tool_router(router = degradation_tools, vis = "pub(crate)")]
impl MonitorServer {
    /// Hunts gradual degradation in the service's metrics: leaks, creeping latency, declining
    /// hit ratios, steps after a change. Every series gets a robust trend (Theil–Sen with its
    /// interval, Mann–Kendall corrected for autocorrelation) after daily and weekly cycles are
    /// taken out, change points (PELT), and a fit on load (or business volume for stored data)
    /// that tells a leak from growth that follows traffic. Each latency, error-rate and
    /// availability constraint, and each limit in monitoring.degradation.limits, gets its time
    /// to violation at 7, 30 and 90 days. Findings carry method, window, samples, effect and
    /// significance (corrected for the number of series); "no trend" comes with the trend
    /// that would have been found. Degrading series are related to the series whose changes
    /// move with theirs.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true))]
    pub async fn detect_degradation(
        &self,
        Parameters(args): Parameters<DegradationArgs>,
    ) -> Result<Json<DegradationResult>, ToolError> {
        let file = self.project_file()?;
        let window = Self::degradation_window(&file, &args.window, &args.at)?;
        let limit = args.limit.unwrap_or(5).clamp(1, 10);
        let (mut found, significance, thresholds_from, source) =
            self.run_hunt(&file, &window, args.metric.clone()).await?;
        if let Some(wanted) = &args.series {
            let Some(i) = found.series.iter().position(|h| &h.series == wanted) else {
                let mut near: Vec<&str> = found
                    .series
                    .iter()
                    .map(|h| h.series.as_str())
                    .filter(|s| {
                        let stem = wanted.split('{').next().unwrap_or(wanted);
                        s.contains(stem)
                    })
                    .take(10)
                    .collect();
                if near.is_empty() {
                    near = found
                        .series
                        .iter()
                        .map(|h| h.series.as_str())
                        .take(10)
                        .collect();
                }
                return Err(format!(
                    "no series `{wanted}` in the window; some that are: {}",
                    near.join(", ")
                ));
            };
            let one = found.series.swap_remove(i);
            found.series = vec![one];
            // The one series in full, whatever its verdict.
            let mut report = report(found, significance, thresholds_from, 1, true);
            report.headline = format!("ONE SERIES — {}", report.headline);
            return Ok(Json(DegradationResult {
                source: source.describe(),
                window,
                report,
            }));
        }
        Ok(Json(DegradationResult {
            source: source.describe(),
            window,
            report: report(found, significance, thresholds_from, limit, false),
        }))
    }

    /// A health score (0–100) with its components and how each is computed: constraint
    /// headroom, scenario health, degradation velocity and predicted violations; and the top
    /// risks, each with its evidence and the constraint or limit it threatens.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true))]
    pub async fn health_report(
        &self,
        Parameters(args): Parameters<HealthReportArgs>,
    ) -> Result<Json<HealthReportResult>, ToolError> {
        let file = self.project_file()?;
        let window = Self::degradation_window(&file, &args.window, &args.at)?;
        let (found, significance, thresholds_from, source) =
            self.run_hunt(&file, &window, None).await?;
        let degradation = report(found, significance, thresholds_from, 40, false);
        let loaded = self.state.spec.load(&self.state.project, Some(&file))?;
        let spec = &loaded.spec;
        let now = WindowArgs {
            window: None,
            at: args.at.clone(),
        }
        .resolve(&file)?;
        let watch = Watch::new(
            &file,
            &source,
            now.at_ms,
            now.window_ms,
            budget_window_ms(&file)?,
        )
        .with_domains(spec.domains.len());
        let constraints: Vec<_> = spec.constraints.iter().map(|c| &**c).collect();
        let headroom = constraint_headroom(&watch, &constraints)
            .await
            .map_err(|e| e.to_string())?;
        let scenarios: Vec<_> = spec.approved_scenarios().collect();
        let journeys = Source::Embedded(self.state.embedded.clone());
        let root = self.state.project.root.clone();
        let last_round = sdd_mcp::blocking(|| sdd_monitoring::monitor::last_round(&root));
        // No journeys or outcome counter yet is a component without data, said; a source
        // that fails is the answer's error.
        let health = scenario_health(&watch, &journeys, last_round.as_ref(), &scenarios)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Json(HealthReportResult {
            source: source.describe(),
            window,
            score: health_score(&headroom, &health.rows, &degradation, &now.window),
        }))
    }
}

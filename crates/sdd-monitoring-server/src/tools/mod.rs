//! The monitoring server's tools, one module per group: `metrics.rs` (list_metrics,
//! query_metrics), `spec_terms.rs` (scenario_health, constraint_headroom), `degradation.rs`
//! (detect_degradation, health_report) and `generate.rs` (generate_alert_rules,
//! generate_dashboard). All but the generators only read: read-only and idempotent; open-world
//! when the source is a Prometheus elsewhere. The two generators read the spec and sdd.yaml,
//! and write one file inside the project when given a `path` (never over a file they did not
//! write): idempotent, not destructive, closed-world.

mod degradation;
mod generate;
mod metrics;
mod spec_terms;

pub use degradation::{DegradationResult, HealthReportResult};
pub use generate::{AlertRulesResult, DashboardResult};
pub use metrics::{MetricsListResult, QueryResult};
pub use spec_terms::{HeadroomResult, HealthResult};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::ToolError;
use sdd_monitoring::window::{format_duration, parse_duration};
use sdd_spec::project::ProjectFile;

/// The window a question is about.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WindowArgs {
    /// How far back from `at`: `30m`, `1h`, `7d` (default: monitoring.window of sdd.yaml, `1h`).
    #[serde(default)]
    pub window: Option<String>,
    /// The window's end as RFC 3339 (`2026-12-01T10:00:00Z`; default: now).
    #[serde(default)]
    pub at: Option<String>,
}

/// The window as answered.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WindowUsed {
    /// `1h`.
    pub window: String,
    /// The end, RFC 3339 (UTC).
    pub at: String,
    #[serde(skip)]
    pub window_ms: i64,
    #[serde(skip)]
    pub at_ms: i64,
}

impl WindowArgs {
    pub fn resolve(&self, file: &ProjectFile) -> Result<WindowUsed, ToolError> {
        let window_ms = match &self.window {
            Some(w) => parse_duration(w).map_err(|e| format!("window: {e}"))?,
            None => parse_duration(&file.monitoring.window)
                .map_err(|e| format!("monitoring.window of sdd.yaml: {e}"))?,
        };
        let at_ms = match &self.at {
            Some(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|e| {
                    format!("at: `{text}` is not an RFC 3339 time ({e}); write e.g. 2026-12-01T10:00:00Z")
                })?
                .timestamp_millis(),
            None => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as i64)
                .unwrap_or(0),
        };
        Ok(WindowUsed {
            window: format_duration(window_ms),
            at: rfc3339(at_ms),
            window_ms,
            at_ms,
        })
    }
}

pub(crate) fn rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| ms.to_string())
}

pub(crate) fn budget_window_ms(file: &ProjectFile) -> Result<i64, ToolError> {
    parse_duration(&file.monitoring.budget_window)
        .map_err(|e| format!("monitoring.budget_window of sdd.yaml: {e}"))
}

pub(crate) fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Errors the spec's files gave when loading.
pub(crate) fn spec_errors(loaded: &sdd_spec::Loaded) -> usize {
    loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == sdd_spec::Severity::Error)
        .count()
}

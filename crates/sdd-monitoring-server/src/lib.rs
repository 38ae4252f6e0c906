//! The monitoring server: the spec watched in production. Answers are in the spec's terms —
//! each approved scenario's health, each constraint's headroom — with the source, query,
//! window and method behind every number; raw series only when asked, and capped. It also
//! writes the spec as Prometheus alert rules and a Grafana dashboard.
//!
//! Handlers translate; the work is `sdd_monitoring`'s. `sdd.yaml` and the spec are read on
//! every call (edits are seen at once); the embedded store's connection is kept.
#![deny(clippy::print_stdout)]

mod prompts;
mod tools;

use std::sync::Arc;

use rmcp::handler::server::router::{prompt::PromptRouter, tool::ToolRouter};
use rmcp::model::ServerCapabilities;
use rmcp::{prompt_handler, tool_handler, ServerHandler};
use sdd_mcp::{Project, ServerIdentity, SpecSlot, ToolError};
use sdd_monitoring::source::{EmbeddedSource, Source};
use sdd_spec::project::ProjectFile;

pub use tools::{
    AlertRulesResult, DashboardResult, DegradationResult, HeadroomResult, HealthReportResult,
    HealthResult, MetricsListResult, QueryResult,
};

pub const IDENTITY: ServerIdentity = ServerIdentity {
    name: "sdd-monitoring",
    title: "SDD monitoring server",
    version: env!("CARGO_PKG_VERSION"),
    instructions: "Watches the running service against the approved spec, from its metrics. \
        constraint_headroom judges every constraint on production metrics with the verifier's own \
        verdicts (value, limit, headroom, error budget), and lists what metrics cannot judge and why; \
        scenario_health gives each approved scenario's success from the service's outcome counters \
        and from the synthetic journeys `sdd monitor` runs, side by side; list_metrics shows what is \
        there and what measures which constraint; query_metrics summarises any series over a window. \
        Every answer names its source (the embedded store under .sdd/ or a Prometheus from sdd.yaml), \
        the PromQL, the window and the method. Summaries only: raw points only when asked, capped. \
        generate_alert_rules writes the constraints as a Prometheus rule file (burn-rate, latency and \
        exhaustion alerts) and generate_dashboard as a Grafana dashboard, each naming what it cannot \
        cover; both write only when given a `path` inside the project. Prompt: review_degradation.",
    reports_failure,
};

/// Which answers report a failure, for a scripted `call`'s exit status: a failing scenario in
/// `scenario_health` or a violated constraint in `constraint_headroom` (as `sdd status` exits 1).
pub fn reports_failure(tool: &str, answer: &serde_json::Value) -> bool {
    matches!(tool, "scenario_health" | "constraint_headroom")
        && answer["counts"]["failing"].as_u64().unwrap_or(0) > 0
}

pub(crate) struct State {
    pub project: Project,
    pub spec: SpecSlot,
    /// The embedded store (kept open), where the journeys always are.
    pub embedded: Arc<EmbeddedSource>,
}

#[derive(Clone)]
pub struct MonitorServer {
    state: Arc<State>,
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

impl MonitorServer {
    pub fn new(project: Project) -> Self {
        let mut tool_router = Self::metric_tools()
            + Self::spec_tools()
            + Self::degradation_tools()
            + Self::generate_tools();
        sdd_mcp::tidy_schemas(&mut tool_router);
        MonitorServer {
            state: Arc::new(State {
                embedded: Arc::new(EmbeddedSource::new(&project.root)),
                project,
                spec: SpecSlot::default(),
            }),
            tool_router,
            prompt_router: Self::prompt_router(),
        }
    }

    /// `sdd.yaml`, read now; a project without one watches with the defaults.
    fn project_file(&self) -> Result<ProjectFile, ToolError> {
        sdd_mcp::read_project_file_or_default(&self.state.project)
    }

    /// The source `monitoring.source` names.
    fn source(&self, file: &ProjectFile) -> Result<Source, ToolError> {
        sdd_monitoring::source::from_config(&self.state.embedded, file)
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for MonitorServer {
    /// Every answer passes through [`sdd_mcp::call_tool_bounded`]: none is larger than an
    /// agent's context can take.
    async fn call_tool(
        &self,
        request: rmcp::model::CallToolRequestParams,
        context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::CallToolResponse, rmcp::ErrorData> {
        sdd_mcp::call_tool_bounded(self, &self.tool_router, request, context).await
    }

    fn get_info(&self) -> rmcp::model::ServerConfig {
        sdd_mcp::server_config(
            &IDENTITY,
            ServerCapabilities::builder()
                .enable_tools()
                .enable_prompts()
                .build(),
        )
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// A failing scenario or violated constraint is a failure for a scripted call, as for
    /// `sdd status`; other answers never are.
    #[test]
    fn failing_health_or_headroom_reports_a_failure() {
        for tool in ["scenario_health", "constraint_headroom"] {
            assert!(super::reports_failure(
                tool,
                &json!({"counts": {"failing": 1}})
            ));
            assert!(!super::reports_failure(
                tool,
                &json!({"counts": {"failing": 0}})
            ));
        }
        assert!(!super::reports_failure(
            "list_metrics",
            &json!({"counts": {"failing": 1}})
        ));
    }
}

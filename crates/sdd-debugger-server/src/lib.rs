//! The debugger server: incidents explained in the spec's terms. `analyze_incident` finds when
//! what broke and ranks hypotheses by their evidence; `trace_transaction` shows one business
//! transaction step by step; `log_patterns` mines log templates and compares two windows.
//!
//! Handlers translate; the work is `sdd_debugger`'s. `sdd.yaml` and the spec are read on every
//! call; the sources (`debugger.sources`, the captured service logs) are streamed each time,
//! so an answer is always about the files as they are.
#![deny(clippy::print_stdout)]

mod prompts;
mod tools;

use std::sync::Arc;

use rmcp::handler::server::router::{prompt::PromptRouter, tool::ToolRouter};
use rmcp::model::ServerCapabilities;
use rmcp::{prompt_handler, tool_handler, ServerHandler};
use sdd_mcp::{Project, ServerIdentity, SpecSlot, ToolError};
use sdd_monitoring::source::EmbeddedSource;
use sdd_spec::project::ProjectFile;

pub use tools::{
    DraftHotfixResult, IncidentList, IncidentResult, LearningsResult, PatternsResult, RecordResult,
    RunbookResult, TransactionResult, WhatIfResult,
};

pub const IDENTITY: ServerIdentity = ServerIdentity {
    name: "sdd-debugger",
    title: "SDD debugger server",
    version: env!("CARGO_PKG_VERSION"),
    instructions: "Explains incidents in the spec's terms, from the service's semantic events \
        (JSON lines, OTLP JSON), its logs and its metrics. analyze_incident finds the onset (or takes \
        a window), says which scenarios and constraints got worse and when, and ranks hypotheses \
        (a deploy, an attribute value the failures share, a slowed step, a traffic spike, a metric \
        shift, a commit) by evidence, each with the numbers and the events or queries behind it; \
        when nothing stands out above noise it says so and claims nothing. trace_transaction shows \
        one business transaction (a trace ID, or a business key such as task_id=42) step by step \
        with decisions and outcomes. log_patterns mines log templates (Drain) and names the ones new, \
        vanished or changed in rate between two windows. record_incident stores an incident with its \
        analysis in the run history; post_incident_learnings turns one into proposed scenarios, \
        constraints, alert rules and runbook updates, each citing it; list_incidents shows past \
        incidents and what became of their learnings; generate_runbook writes a scenario's or \
        constraint's runbook from the spec and its incidents, every line cited. draft_hotfix \
        turns a bug report (\"When X, Y should happen but Z happens\") into a proposed scenario \
        for a person's review (`sdd review`), a failing regression test and what the fix must not \
        break. what_if judges a proposed spec change without writing it: impact, headroom on \
        today's metrics, and the alert rules and dashboard panels it would change. Prompts: \
        investigate_incident, write_hotfix. Sources: debugger.sources of sdd.yaml and the \
        service logs the implementation server captured (.sdd/service-logs).",
    reports_failure: sdd_mcp::judges_nothing,
};

pub(crate) struct State {
    pub project: Project,
    pub spec: SpecSlot,
    /// The monitoring server's embedded store, for metric shifts.
    pub embedded: Arc<EmbeddedSource>,
}

#[derive(Clone)]
pub struct DebuggerServer {
    state: Arc<State>,
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

impl DebuggerServer {
    pub fn new(project: Project) -> Self {
        let mut tool_router = Self::incident_tools()
            + Self::transaction_tools()
            + Self::log_tools()
            + Self::record_tools()
            + Self::runbook_tools()
            + Self::hotfix_tools()
            + Self::whatif_tools();
        sdd_mcp::tidy_schemas(&mut tool_router);
        DebuggerServer {
            state: Arc::new(State {
                embedded: Arc::new(EmbeddedSource::new(&project.root)),
                project,
                spec: SpecSlot::default(),
            }),
            tool_router,
            prompt_router: Self::prompt_router(),
        }
    }

    /// `sdd.yaml`, read now; a project without one reads with the defaults.
    fn project_file(&self) -> Result<ProjectFile, ToolError> {
        sdd_mcp::read_project_file_or_default(&self.state.project)
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for DebuggerServer {
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

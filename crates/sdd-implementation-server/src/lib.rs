//! The implementation server: tells a coding agent, per scenario, what passes, what fails and
//! what has no test — from real runs of the project's own tests — drives the service, and keeps
//! the history so the agent sees whether its last change made things better or worse.
//!
//! Tool handlers translate arguments and results; the work is done by `sdd_verify`. Commands
//! come only from `sdd.yaml`, read afresh on every call (people's edits are seen at once).
#![deny(clippy::print_stdout)]

mod service;
mod tools;

pub use tools::{CheckResult, ExportResult, RunTestsResult, StartResult, VerifyResult};

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::ServerCapabilities;
use rmcp::{tool_handler, ServerHandler};
use sdd_exec::process::Supervisor;
use sdd_history::History;
use sdd_mcp::{Project, ServerIdentity, ToolError};
use sdd_spec::project::ProjectFile;
use sdd_spec::Loaded;

pub const IDENTITY: ServerIdentity = ServerIdentity {
    name: "sdd-implementation",
    title: "SDD implementation server",
    version: env!("CARGO_PKG_VERSION"),
    instructions: "Tells you whether the code does what the approved scenarios say, from real runs. \
        Start with project_status (where the project stands and what to do next). run_tests runs a \
        test profile from sdd.yaml and maps every result to its scenario: passing, failing (with the \
        assertion and a short excerpt), skipped, or no test — tests carry the scenario ID in their \
        name (sdd_<id> / [ID]). Every run is recorded: a regression (passed last time, fails now) is \
        flagged in the result; history and compare_runs show what changed between runs. \
        start_service / service_status / service_logs / stop_service drive the service from sdd.yaml; \
        check_scenarios runs the spec's executable examples against it; verify_constraints measures the \
        constraints under load, and export_load_test writes that load as a k6 script (for k6 on a \
        cluster). Commands come only from sdd.yaml; you choose a profile by name.",
    reports_failure,
};

/// Which answers report a failure, for a scripted `call`'s exit status: a test run that is not
/// `ok`, examples of which some failed, a constraint verification whose `overall` is `failed`.
/// Other tools (listings, history, status) describe; they do not judge.
pub fn reports_failure(tool: &str, answer: &serde_json::Value) -> bool {
    match tool {
        "run_tests" => answer["ok"] == false,
        "check_scenarios" => answer["summary"]["failing"].as_u64().unwrap_or(0) > 0,
        "verify_constraints" => answer["overall"] == "failed",
        _ => false,
    }
}

/// What every tool call shares: the project, the supervisor, the history and the service.
pub(crate) struct State {
    pub project: Project,
    pub supervisor: Supervisor,
    /// Opened on first use; `None` until then.
    pub history: Mutex<Option<History>>,
    pub service: tokio::sync::Mutex<service::ServiceSlot>,
    /// The spec kept loaded between calls, for the spec root `sdd.yaml` names now.
    pub spec: sdd_mcp::SpecSlot,
}

#[derive(Clone)]
pub struct ImplServer {
    state: Arc<State>,
    tool_router: ToolRouter<Self>,
}

impl ImplServer {
    pub fn new(project: Project) -> anyhow::Result<Self> {
        let supervisor = Supervisor::current_exe()
            .map_err(|e| anyhow::anyhow!("cannot locate the server executable: {e}"))?;
        let mut tool_router = Self::test_tools()
            + Self::history_tools()
            + Self::status_tools()
            + Self::service_tools()
            + Self::check_tools()
            + Self::constraint_tools()
            + Self::export_tools();
        sdd_mcp::tidy_schemas(&mut tool_router);
        Ok(ImplServer {
            state: Arc::new(State {
                project,
                supervisor,
                history: Mutex::new(None),
                service: tokio::sync::Mutex::new(service::ServiceSlot::default()),
                spec: sdd_mcp::SpecSlot::default(),
            }),
            tool_router,
        })
    }

    /// `sdd.yaml`, read now.
    fn project_file(&self) -> Result<ProjectFile, ToolError> {
        sdd_mcp::read_project_file(&self.state.project)
    }

    /// The spec root: `--specs` if given, else `specs:` of `sdd.yaml`, else `specs/`.
    fn specs_dir(&self, file: Option<&ProjectFile>) -> Result<PathBuf, ToolError> {
        sdd_mcp::SpecSlot::specs_dir(&self.state.project, file)
    }

    /// The spec as its files say now, read again only where they changed (the same cache as
    /// the specification server's).
    fn load_spec(&self, file: Option<&ProjectFile>) -> Result<Arc<Loaded>, ToolError> {
        self.state.spec.load(&self.state.project, file)
    }

    /// Run `f` with the history, opening it on first use.
    fn with_history<T>(
        &self,
        f: impl FnOnce(&mut History) -> Result<T, sdd_history::HistoryError>,
    ) -> Result<T, ToolError> {
        sdd_mcp::blocking(|| self.with_history_now(f))
    }

    fn with_history_now<T>(
        &self,
        f: impl FnOnce(&mut History) -> Result<T, sdd_history::HistoryError>,
    ) -> Result<T, ToolError> {
        let mut guard = self
            .state
            .history
            .lock()
            .map_err(|_| "the history lock is poisoned; restart the server".to_string())?;
        if guard.is_none() {
            *guard = Some(History::open(&self.state.project.root).map_err(|e| e.to_string())?);
        }
        let history = guard.as_mut().ok_or("the history is not open")?;
        // sdd.yaml is read afresh on every call, its retention with it; a file that cannot be
        // read keeps the default (the call that needs it says what is wrong with it).
        let retention = self
            .project_file()
            .map(|file| sdd_verify::record::retention(&file.history))
            .unwrap_or_default();
        history.set_retention(retention);
        f(history).map_err(|e| e.to_string())
    }

    /// Record a run; its ID and regressions, or a problem saying it was not recorded (the
    /// run's result is still returned).
    fn record_run(
        &self,
        run: &sdd_history::NewRun,
        problems: &mut Vec<String>,
    ) -> (Option<i64>, Vec<String>) {
        match self.with_history(|h| h.record(run)) {
            Ok(record) => (Some(record.id), record.regressions),
            Err(e) => {
                problems.push(format!("{}{e}", sdd_verify::record::NOT_RECORDED));
                (None, Vec::new())
            }
        }
    }

    /// Make sure the history is open (runs record into it through the shared lock).
    fn open_history(&self) -> Result<&Mutex<Option<History>>, ToolError> {
        self.with_history(|_| Ok(()))?;
        Ok(&self.state.history)
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for ImplServer {
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
            ServerCapabilities::builder().enable_tools().build(),
        )
    }
}

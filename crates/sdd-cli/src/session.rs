//! A client session with one of the SDD servers, run in this process over a pipe: the CLI
//! speaks the real MCP protocol, so a shell sees exactly what an agent sees, and long calls
//! report progress on stderr.

use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};

use rmcp::model::{
    CallToolRequestParams, NumberOrString, ProgressNotificationParam, ProgressToken,
    RequestMetaObject,
};
use rmcp::service::{NotificationContext, RunningService};
use rmcp::{ClientHandler, RoleClient};
use serde_json::Value;

use sdd_mcp::Project;

/// The servers `sdd call` and `sdd verify` can reach.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Server {
    Specification,
    Implementation,
    Monitoring,
    Debugger,
}

impl Server {
    /// Which of the server's answers report a failure (see `sdd_mcp::ServerIdentity`).
    pub fn reports_failure(self) -> sdd_mcp::ReportsFailure {
        match self {
            Server::Specification => sdd_specification_server::IDENTITY.reports_failure,
            Server::Implementation => sdd_implementation_server::IDENTITY.reports_failure,
            Server::Monitoring => sdd_monitoring_server::IDENTITY.reports_failure,
            Server::Debugger => sdd_debugger_server::IDENTITY.reports_failure,
        }
    }

    pub fn parse(name: &str) -> Result<Server, String> {
        match name {
            "specification" | "spec" | "sdd-specification" => Ok(Server::Specification),
            "implementation" | "impl" | "sdd-implementation" => Ok(Server::Implementation),
            "monitoring" | "monitor" | "sdd-monitoring" => Ok(Server::Monitoring),
            "debugger" | "debug" | "sdd-debugger" => Ok(Server::Debugger),
            other => Err(format!(
                "unknown server `{other}`; use specification, implementation, monitoring or debugger"
            )),
        }
    }
}

/// Shows the newest progress message of the running call on one stderr line.
#[derive(Clone, Default)]
pub struct ProgressLine {
    /// What the step is called (`tests (rust)`), prefixed to the server's message.
    step: Arc<Mutex<String>>,
    shown: Arc<AtomicU32>,
}

impl ProgressLine {
    pub fn set_step(&self, step: &str) {
        *self.step.lock().unwrap_or_else(|e| e.into_inner()) = step.to_string();
        self.shown.store(0, Ordering::Relaxed);
    }

    /// Clear the line before the step's result is printed.
    pub fn clear(&self) {
        if self.shown.swap(0, Ordering::Relaxed) > 0 && std::io::stderr().is_terminal() {
            let _ = write!(std::io::stderr(), "\r\x1b[2K");
        }
    }
}

impl ClientHandler for ProgressLine {
    async fn on_progress(
        &self,
        params: ProgressNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let step = self.step.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut message = params.message.unwrap_or_default();
        if let Some(total) = params.total.filter(|t| *t > 0.0) {
            // A bar when the server says how far along it is.
            const WIDTH: usize = 20;
            let filled = ((params.progress / total).clamp(0.0, 1.0) * WIDTH as f64) as usize;
            message = format!(
                "[{}{}] {message}",
                "#".repeat(filled),
                "-".repeat(WIDTH - filled)
            );
        }
        let count = self.shown.fetch_add(1, Ordering::Relaxed) + 1;
        let mut err = std::io::stderr();
        if err.is_terminal() {
            let spinner = ['|', '/', '-', '\\'][count as usize % 4];
            let _ = write!(err, "\r\x1b[2K  {spinner} {step}: {message}");
        } else if count.is_multiple_of(5) {
            // Logs (CI): a line every ten seconds or so, not a line per tick.
            let _ = writeln!(err, "  … {step}: {message}");
        }
        let _ = err.flush();
    }
}

pub struct Session {
    client: RunningService<RoleClient, ProgressLine>,
    pub progress: ProgressLine,
    next_token: AtomicU32,
}

/// A tool's answer: its structured result, or the tool error's text.
pub type ToolAnswer = Result<Value, String>;

impl Session {
    pub async fn open(server: Server, project: Project) -> Result<Session, String> {
        let progress = ProgressLine::default();
        let client = match server {
            Server::Specification => {
                let server = sdd_specification_server::SpecServer::new(project);
                sdd_mcp::connect_in_process(server, progress.clone()).await
            }
            Server::Implementation => {
                let server = sdd_implementation_server::ImplServer::new(project)
                    .map_err(|e| format!("{e:#}"))?;
                sdd_mcp::connect_in_process(server, progress.clone()).await
            }
            Server::Monitoring => {
                let server = sdd_monitoring_server::MonitorServer::new(project);
                sdd_mcp::connect_in_process(server, progress.clone()).await
            }
            Server::Debugger => {
                let server = sdd_debugger_server::DebuggerServer::new(project);
                sdd_mcp::connect_in_process(server, progress.clone()).await
            }
        }
        .map_err(|e| format!("cannot start the MCP session: {e:#}"))?;
        Ok(Session {
            client,
            progress,
            next_token: AtomicU32::new(1),
        })
    }

    /// Call `tool`, asking for progress. A protocol failure is an error too (it names the tool).
    pub async fn call(&self, tool: &str, arguments: Value) -> ToolAnswer {
        let arguments = sdd_mcp::tool_arguments(arguments)?;
        let token = self.next_token.fetch_add(1, Ordering::Relaxed);
        let mut params = CallToolRequestParams::new(tool.to_string()).with_arguments(arguments);
        params.meta = Some(RequestMetaObject::with_progress_token(ProgressToken(
            NumberOrString::Number(i64::from(token)),
        )));
        let result = self.client.call_tool(params).await;
        self.progress.clear();
        let result = result.map_err(|e| match e.to_string() {
            text if text.contains("tool not found") => {
                format!("no tool `{tool}` on this server; list them with `sdd call SERVER tools`")
            }
            text => format!("{tool}: {text}"),
        })?;
        let text = || sdd_mcp::result_text(&result);
        if result.is_error == Some(true) {
            return Err(text());
        }
        Ok(match &result.structured_content {
            Some(value) => value.clone(),
            None => serde_json::from_str(&text()).unwrap_or(Value::String(text())),
        })
    }

    /// Call `tool` and read its answer as `T`, the type the tool answers with, so that a field
    /// the server renamed or dropped is an error naming it, not a silent `null`.
    pub async fn call_as<T: serde::de::DeserializeOwned>(
        &self,
        tool: &str,
        arguments: Value,
    ) -> Result<T, String> {
        let answer = self.call(tool, arguments).await?;
        serde_json::from_value(answer)
            .map_err(|e| format!("{tool} answered in a form this sdd cannot read: {e}"))
    }

    /// Every tool the server offers (name, description, schemas), as a client lists them.
    pub async fn list_tools(&self) -> ToolAnswer {
        let tools = self
            .client
            .list_all_tools()
            .await
            .map_err(|e| format!("tools/list: {e}"))?;
        serde_json::to_value(tools).map_err(|e| e.to_string())
    }

    pub async fn close(self) {
        let _ = self.client.cancel().await;
    }
}

/// The project at `root` as the servers see it (spec root from `sdd.yaml` unless given).
pub fn project(root: &Path, specs: Option<&Path>) -> Result<Project, String> {
    Project::new(Some(root), specs).map_err(|e| format!("project root: {e}"))
}

//! The service lifecycle: start (waiting for readiness), status, logs, stop.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, Json, RoleServer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_exec::capture::Capture;
use sdd_exec::service::{
    probe, LogsView, Service, ServiceState, ServiceStatus, StopReport, Stream,
};
use sdd_mcp::{largest_fitting, wire_chars, Paging, ToolError};
use sdd_spec::project::{ProjectFile, ServiceConfig};

use super::tests::NoArguments;
use crate::service::StoppedService;
use crate::ImplServer;

const DEFAULT_TAIL: usize = 100;
const MAX_TAIL: usize = 1000;

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct StartResult {
    #[serde(flatten)]
    pub status: ServiceStatus,
    /// The first lines the service wrote.
    pub first_lines: Vec<sdd_exec::service::LogLine>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct StatusResult {
    /// `not_started`, `running`, `exited` (it ended by itself) or `stopped` (by stop_service).
    pub state: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceStatus>,
    /// How the service stopped by stop_service ended (state `stopped`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopReport>,
    /// The readiness probe right now: `answering`, or why not.
    pub probe: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LogsAnswer {
    #[serde(flatten)]
    pub view: LogsView,
    /// The oldest lines of the tail left out to keep the answer within 40,000 characters
    /// (100,000 with an explicit `tail`); narrow with `filter`, `stream` or `after_seq`.
    #[serde(skip_serializing_if = "is_zero")]
    pub omitted_for_size: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LogsArgs {
    /// The last this many matching lines (default 100, max 1000; fewer when they would pass
    /// 40,000 characters, 100,000 with an explicit `tail`).
    #[serde(default)]
    pub tail: Option<usize>,
    /// Only lines containing this text (case-insensitive).
    #[serde(default)]
    pub filter: Option<String>,
    /// Only `stdout` or `stderr`.
    #[serde(default)]
    pub stream: Option<Stream>,
    /// Only lines after this sequence number (from a previous call), to follow the log.
    #[serde(default)]
    pub after_seq: Option<u64>,
}

pub(crate) fn service_config(file: &ProjectFile) -> Result<&ServiceConfig, ToolError> {
    file.service.as_ref().ok_or_else(|| {
        "sdd.yaml has no `service:` section; add one with `command`, `base_url` and `ready` (an HTTP path or a TCP port)".to_string()
    })
}

impl ImplServer {
    /// Before sending traffic: the service this server started must still run; if it started
    /// none, something must answer the readiness probe (a service run by hand), which is noted.
    pub(crate) async fn service_ready_for_traffic(
        &self,
        config: &ServiceConfig,
        file: &ProjectFile,
    ) -> Result<Vec<String>, ToolError> {
        let mut slot = self.state.service.lock().await;
        match slot.current.as_mut() {
            Some(service) => {
                if let ServiceState::Exited { exit } = service.status().state {
                    let last: Vec<String> = service
                        .logs(20, None, None, None)
                        .lines
                        .into_iter()
                        .map(|l| l.text)
                        .collect();
                    return Err(format!(
                        "the service {exit}; start it again with start_service. Its last output:\n{}",
                        last.join("\n")
                    ));
                }
                Ok(Vec::new())
            }
            None => {
                if probe(config, &sdd_verify::allowed_hosts(file))
                    .await
                    .is_err()
                {
                    return Err("the service is not running: call start_service first".into());
                }
                Ok(vec![format!(
                    "the service at {} was not started by this server; used it anyway",
                    config.base_url
                )])
            }
        }
    }
}

#[tool_router(router = service_tools, vis = "pub(crate)")]
impl ImplServer {
    /// Start the service from sdd.yaml (its command, environment, base URL) and wait until its
    /// readiness probe answers. If it exits first or is not ready in time, it is stopped and the
    /// error carries its last output lines. Only one service runs per server; it is stopped when
    /// the server stops.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn start_service(
        &self,
        _args: Parameters<NoArguments>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<StartResult>, ToolError> {
        let file = self.project_file()?;
        let config = service_config(&file)?;
        let mut slot = self.state.service.lock().await;
        if let Some(current) = slot.current.as_mut() {
            let status = current.status();
            if matches!(status.state, ServiceState::Running) {
                return Err(format!(
                    "the service is already running (pid {}, up {:.0} s at {}); call stop_service first to restart it",
                    status.pid.map(|p| p.to_string()).unwrap_or_default(),
                    status.uptime_seconds,
                    status.base_url
                ));
            }
        }
        slot.current = None;
        slot.stopped = None;
        let allowed_hosts = sdd_verify::allowed_hosts(&file);
        // Its output also goes to .sdd/service-logs/, where the debugger reads it.
        let start = Service::start_capturing(
            &self.state.project.root,
            config,
            &allowed_hosts,
            &self.state.supervisor,
            Some(Capture::for_project(&self.state.project.root)),
        );
        let mut service = sdd_mcp::with_progress(&context, "starting the service", start)
            .await?
            .map_err(|e| e.to_string())?;
        let status = service.status();
        let lines: Vec<_> = service.logs(usize::MAX, None, None, None).lines;
        slot.current = Some(service);
        // At most 20 lines, as many as fit in a default answer (a line holds up to 2,000
        // characters); service_logs has the rest.
        let mut answer = StartResult {
            status,
            first_lines: Vec::new(),
        };
        let budget = Paging::default().char_budget();
        let kept = largest_fitting(lines.len().min(20), |n| {
            answer.first_lines = lines[..n].to_vec();
            wire_chars(&answer) <= budget
        });
        answer.first_lines = lines[..kept].to_vec();
        Ok(Json(answer))
    }

    /// Whether the service is running (pid, uptime, how long it took to get ready) or exited
    /// (with its exit status), and what its readiness probe says right now.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true))]
    pub async fn service_status(
        &self,
        _args: Parameters<NoArguments>,
    ) -> Result<Json<StatusResult>, ToolError> {
        let file = self.project_file()?;
        let config = service_config(&file)?;
        let probe = match probe(config, &sdd_verify::allowed_hosts(&file)).await {
            Ok(()) => "answering".to_string(),
            Err(e) => e,
        };
        let mut guard = self.state.service.lock().await;
        let slot = &mut *guard;
        let (state, service, stopped) = match (slot.current.as_mut(), &slot.stopped) {
            (Some(current), _) => {
                let status = current.status();
                let state = if matches!(status.state, ServiceState::Running) {
                    "running"
                } else {
                    "exited"
                };
                (state, Some(status), None)
            }
            (None, Some(stopped)) => (
                "stopped",
                Some(stopped.status.clone()),
                Some(stopped.report.clone()),
            ),
            (None, None) => ("not_started", None, None),
        };
        Ok(Json(StatusResult {
            state: state.into(),
            service,
            stopped,
            probe,
        }))
    }

    /// The service's output: the last lines (default 100, max 1000, as many as fit in about
    /// 10k tokens), filtered by text and stream, or only lines after a sequence number to
    /// follow it. Kept after it exits or is stopped, until the next start_service.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn service_logs(
        &self,
        Parameters(args): Parameters<LogsArgs>,
    ) -> Result<Json<LogsAnswer>, ToolError> {
        let slot = self.state.service.lock().await;
        let log = match (&slot.current, &slot.stopped) {
            (Some(current), _) => current.log(),
            (None, Some(stopped)) => stopped.log.clone(),
            (None, None) => {
                return Err(
                    "the service has not been started by this server; call start_service".into(),
                )
            }
        };
        let tail = args.tail.unwrap_or(DEFAULT_TAIL).clamp(1, MAX_TAIL);
        let mut view = log.view(tail, args.filter.as_deref(), args.stream, args.after_seq);
        // Lines are up to 2,000 characters each: keep the newest that fit, like a page.
        let budget = Paging {
            offset: None,
            limit: args.tail,
        }
        .char_budget();
        let lines = std::mem::take(&mut view.lines);
        let newest = |n: usize| lines[lines.len() - n..].to_vec();
        let mut answer = LogsAnswer {
            view,
            omitted_for_size: 0,
        };
        let kept = largest_fitting(lines.len(), |n| {
            answer.view.lines = newest(n);
            wire_chars(&answer) <= budget
        });
        answer.view.lines = newest(kept);
        answer.omitted_for_size = lines.len() - kept;
        Ok(Json(answer))
    }

    /// Stop the service: the stop signal from sdd.yaml (default TERM) to its whole process
    /// group, the grace period, then SIGKILL to the group. Says whether it stopped gracefully.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = true,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn stop_service(
        &self,
        _args: Parameters<NoArguments>,
    ) -> Result<Json<StopReport>, ToolError> {
        let mut slot = self.state.service.lock().await;
        let Some(mut service) = slot.current.take() else {
            return Err(match &slot.stopped {
                Some(_) => "the service is already stopped (service_status tells how it ended); nothing to stop".into(),
                None => "no service was started by this server; nothing to stop".into(),
            });
        };
        let status = service.status();
        let log = service.log();
        let mut report = service.stop().await;
        // Its last lines, as many as fit in a default answer; service_logs has them all.
        let lines = std::mem::take(&mut report.last_lines);
        let budget = Paging::default().char_budget();
        let kept = largest_fitting(lines.len(), |n| {
            report.last_lines = lines[lines.len() - n..].to_vec();
            wire_chars(&report) <= budget
        });
        report.last_lines = lines[lines.len() - kept..].to_vec();
        slot.stopped = Some(StoppedService {
            status: ServiceStatus {
                pid: None,
                uptime_seconds: report.uptime_seconds,
                state: ServiceState::Exited {
                    exit: report.exit.clone(),
                },
                ..status
            },
            report: report.clone(),
            log,
        });
        Ok(Json(report))
    }
}

//! `sdd-monitoring`: the monitoring MCP server over stdio (or one scripted call).
#![deny(clippy::print_stdout)]

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    sdd_mcp::run(sdd_monitoring_server::IDENTITY, |project| {
        Ok(sdd_monitoring_server::MonitorServer::new(project))
    })
    .await
}

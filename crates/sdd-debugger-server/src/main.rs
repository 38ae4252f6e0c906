//! `sdd-debugger`: the debugger MCP server over stdio (or one scripted call).
#![deny(clippy::print_stdout)]

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    sdd_mcp::run(sdd_debugger_server::IDENTITY, |project| {
        Ok(sdd_debugger_server::DebuggerServer::new(project))
    })
    .await
}

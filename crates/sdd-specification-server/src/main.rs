//! `sdd-specification`: the specification MCP server over stdio (or one scripted call).
#![deny(clippy::print_stdout)]

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    sdd_mcp::run(sdd_specification_server::IDENTITY, |project| {
        Ok(sdd_specification_server::SpecServer::new(project))
    })
    .await
}

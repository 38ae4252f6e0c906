//! `sdd-implementation`: the implementation MCP server over stdio (or one scripted call).
//!
//! The same binary is also the supervisor every test and service process runs under
//! (`sdd-implementation __supervise …`, see `sdd_exec::supervisor`), so no extra executable
//! has to be installed next to it.
#![deny(clippy::print_stdout)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(sdd_exec::process::SUPERVISE_FLAG) {
        return sdd_exec::supervisor::main(&args[1..]);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(sdd_mcp::run(
        sdd_implementation_server::IDENTITY,
        sdd_implementation_server::ImplServer::new,
    ))
}

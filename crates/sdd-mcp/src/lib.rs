//! Plumbing shared by the SDD MCP servers, so the four binaries are thin and alike:
//! command-line start-up ([`run`]), project root and path confinement ([`Project`]), bounded
//! output ([`paged`]), error mapping ([`ToolError`]) and scripted one-shot calls
//! ([`call_once`]), which go through the real protocol in-process so a shell sees exactly what an
//! MCP client sees.
#![deny(clippy::print_stdout)]

mod cli;
mod generated;
mod oneshot;
mod output;
mod progress;
mod project;
mod project_files;
mod schema;
#[cfg(feature = "test-client")]
pub mod test_client;
#[cfg(feature = "test-client")]
pub mod test_spec;

pub use cli::{
    call_exit_status, init_tracing, judges_nothing, run, ReportsFailure, ServerIdentity,
    CALL_FAILED, CALL_OK, CALL_REPORTS_FAILURE,
};
pub use generated::{generated_target, write_generated};
pub use oneshot::{call_once, connect_in_process, list_tools, result_text, tool_arguments};
pub use output::{
    bound_response, bounded_resource, call_tool_bounded, first, largest_fitting, paged, wire_chars,
    Page, Paging, DEFAULT_ANSWER_CHARS, DEFAULT_PAGE, MAX_PAGE, MAX_RESPONSE_CHARS,
};
pub use progress::{with_progress, with_progress_stages, Stage};
pub use project::{Project, ProjectError};
pub use project_files::{read_project_file, read_project_file_or_default, SpecSlot};
pub use schema::{schema_problems, tidy_schemas, Side};

/// A mistake the agent can fix: returned as an error *tool result* (`isError: true`) whose text
/// says what to do. Protocol errors are reserved for bugs and protocol misuse.
pub type ToolError = String;

/// Blocking work (spec loading, SQLite, result parsing) from a tool handler without stalling
/// the server: see `sdd_exec::blocking`.
pub use sdd_exec::blocking;

/// The spec as a server reads it on every call, through its [`sdd_spec::SpecCache`]. Most calls
/// find the tree unchanged, which costs a walk and its metadata: answered on the async worker.
/// Reading files moves off it ([`blocking`]; handing the worker over costs about 70 µs, a third
/// of a warm call), so `ping` and other calls are answered meanwhile.
pub fn load_spec(
    cache: &sdd_spec::SpecCache,
) -> Result<std::sync::Arc<sdd_spec::Loaded>, sdd_spec::LoadError> {
    match cache.unchanged() {
        Some(loaded) => Ok(loaded),
        None => blocking(|| cache.load()),
    }
}

/// Make a tool error from anything printable.
pub fn tool_error(message: impl std::fmt::Display) -> ToolError {
    message.to_string()
}

/// Server identity and capabilities for `initialize`: our own name and version, never "rmcp".
pub fn server_config(
    identity: &ServerIdentity,
    capabilities: rmcp::model::ServerCapabilities,
) -> rmcp::model::ServerConfig {
    rmcp::model::ServerConfig::new(capabilities)
        .with_server_info(
            rmcp::model::Implementation::new(identity.name, identity.version)
                .with_title(identity.title)
                .with_description(identity.instructions),
        )
        .with_instructions(identity.instructions)
}

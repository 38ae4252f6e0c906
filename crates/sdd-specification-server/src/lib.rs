//! The specification server: the spec tree as the source of truth for a coding agent.
//!
//! Tool handlers only translate arguments and results; the work is done by `sdd_spec`. Every call
//! asks the spec cache ([`sdd_spec::SpecCache`]) for the spec: it walks the tree and compares each
//! file's metadata, re-reading only when something was added, removed or changed — so people's
//! edits are seen by the very next call, and an unchanged tree is not parsed again.
#![deny(clippy::print_stdout)]

mod git;
mod prompts;
mod resources;
mod tools;

use rmcp::handler::server::router::{prompt::PromptRouter, tool::ToolRouter};
use rmcp::model::ServerCapabilities;
use rmcp::{prompt_handler, tool_handler, ServerHandler};
use sdd_mcp::{Project, ServerIdentity, ToolError};
use std::sync::Arc;

use sdd_spec::{Loaded, SpecCache};

pub const IDENTITY: ServerIdentity = ServerIdentity {
    name: "sdd-specification",
    title: "SDD specification server",
    version: env!("CARGO_PKG_VERSION"),
    instructions: "The source of truth for what the software must do: scenarios (Given/When/Then) and \
        constraints (latency, security, reliability) that people wrote and approved. Start with \
        list_domains, read with get_scenarios / get_constraints, check the spec with validate_spec, find \
        missing edge cases with analyze_coverage, and propose new scenarios with propose_scenarios — a \
        person approves them; you cannot. generate_test_suite writes failing tests named after scenario \
        IDs; impact_analysis says what a spec change touches. Every result is computed from the spec \
        files; nothing is guessed.",
    reports_failure,
};

/// Which answers report a failure, for a scripted `call`'s exit status: `validate_spec` on a
/// spec with errors (as `sdd validate` exits 1). The other tools read, draft or propose.
pub fn reports_failure(tool: &str, answer: &serde_json::Value) -> bool {
    tool == "validate_spec" && answer["valid"] == false
}

#[derive(Clone)]
pub struct SpecServer {
    project: Project,
    /// The loaded spec, kept between calls (shared by the clones rmcp makes of the server).
    cache: Arc<SpecCache>,
    tool_router: ToolRouter<Self>,
    prompt_router: PromptRouter<Self>,
}

impl SpecServer {
    pub fn new(project: Project) -> Self {
        let mut tool_router = Self::query_tools()
            + Self::analysis_tools()
            + Self::authoring_tools()
            + Self::planning_tools();
        sdd_mcp::tidy_schemas(&mut tool_router);
        SpecServer {
            cache: Arc::new(SpecCache::new(&project.specs)),
            project,
            tool_router,
            prompt_router: Self::prompt_router(),
        }
    }

    /// The spec tree as its files say now. A missing or unreadable root is an error the agent
    /// can act on.
    fn load(&self) -> Result<Arc<Loaded>, ToolError> {
        self.load_spec().map_err(|e| {
            format!(
                "{e} (the server was started with --specs {})",
                self.project.specs.display()
            )
        })
    }

    /// What every tool and resource reads the spec through.
    fn load_spec(&self) -> Result<Arc<Loaded>, sdd_spec::LoadError> {
        sdd_mcp::load_spec(&self.cache)
    }
}

#[tool_handler(router = self.tool_router)]
#[prompt_handler(router = self.prompt_router)]
impl ServerHandler for SpecServer {
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
                .enable_resources()
                .build(),
        )
    }

    async fn list_resources(
        &self,
        request: Option<rmcp::model::PaginatedRequestParams>,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourcesResult, rmcp::ErrorData> {
        self.resource_page(request.and_then(|r| r.cursor).as_deref())
    }

    async fn list_resource_templates(
        &self,
        _request: Option<rmcp::model::PaginatedRequestParams>,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ListResourceTemplatesResult, rmcp::ErrorData> {
        Ok(rmcp::model::ListResourceTemplatesResult::with_all_items(
            resources::templates(),
        ))
    }

    async fn read_resource(
        &self,
        request: rmcp::model::ReadResourceRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleServer>,
    ) -> Result<rmcp::model::ReadResourceResponse, rmcp::ErrorData> {
        self.read(&request.uri).map(Into::into)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    /// A spec with errors is a failure for a scripted call, as for `sdd validate`; a reading
    /// tool never is.
    #[test]
    fn only_an_invalid_spec_reports_a_failure() {
        assert!(super::reports_failure(
            "validate_spec",
            &json!({"valid": false})
        ));
        assert!(!super::reports_failure(
            "validate_spec",
            &json!({"valid": true})
        ));
        assert!(!super::reports_failure(
            "get_scenarios",
            &json!({"valid": false})
        ));
    }
}

//! Planning: the domain dependency graph and build order, latency budget propagation, and the
//! impact of a spec change against a git revision.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::ToolError;
use sdd_spec::analysis::budget::{propagate_budget, BudgetPlan, BudgetRequest};
use sdd_spec::analysis::graph::{dependency_graph, DependencyGraph};
use sdd_spec::analysis::impact::{compare, Impact};

use super::query::NoArguments;
use crate::SpecServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactArgs {
    /// The git revision to compare the current spec tree with (default `HEAD`): a commit,
    /// branch or tag, e.g. `HEAD~1` or `main`.
    #[serde(default)]
    pub base: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ImpactResult {
    pub base: String,
    /// The resolved commit of `base`.
    pub base_commit: String,
    pub impact: Impact,
}

#[tool_router(router = planning_tools, vis = "pub(crate)")]
impl SpecServer {
    /// The domain dependency graph: edges, references to undeclared domains, cycles (each printed
    /// as a path), and a build order in stages (a domain's dependencies come in earlier stages;
    /// members of a cycle share a stage and must be built together).
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn dependency_graph(
        &self,
        _args: Parameters<NoArguments>,
    ) -> Result<Json<DependencyGraph>, ToolError> {
        let loaded = self.load()?;
        Ok(Json(dependency_graph(&loaded.spec)))
    }

    /// Split a latency (pXX) or time-bound constraint into per-participant budgets that never
    /// add up to more than the whole, with the rule stated. Interaction constraints default to
    /// the interaction's participants; for others pass `participants` in call order. Optional
    /// `weights` and a `reserve_ms` for network overhead.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn propagate_constraints(
        &self,
        Parameters(request): Parameters<BudgetRequest>,
    ) -> Result<Json<BudgetPlan>, ToolError> {
        let loaded = self.load()?;
        propagate_budget(&loaded.spec, &request)
            .map(Json)
            .map_err(|e| e.to_string())
    }

    /// What changed in the spec since a git revision: scenarios and constraints added, changed
    /// (with the fields) and removed; domains touched directly and through dependencies; which
    /// scenarios' tests (with their test-name keys) and which constraints to run again.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn impact_analysis(
        &self,
        Parameters(args): Parameters<ImpactArgs>,
    ) -> Result<Json<ImpactResult>, ToolError> {
        let base = args.base.unwrap_or_else(|| "HEAD".into());
        let old = crate::git::spec_at_revision(&self.project.specs, &base).await?;
        let loaded = self.load()?;
        let impact = compare(&sdd_spec::load_sources(&old.sources).spec, &loaded.spec);
        Ok(Json(ImpactResult {
            base,
            base_commit: old.commit,
            impact,
        }))
    }
}

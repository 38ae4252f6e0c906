//! Planning: the domain dependency graph and build order, latency budget propagation, and the
//! impact of a spec change against a git revision.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::{first, paged, Page, Paging, ToolError};
use sdd_spec::analysis::budget::{propagate_budget, BudgetPlan, BudgetRequest};
use sdd_spec::analysis::graph::{dependency_graph, UnknownReference};
use sdd_spec::analysis::impact::{compare, Impact};

use crate::SpecServer;

/// Cycles and unknown references listed in one dependency_graph answer; validate_spec pages
/// through all of them (codes `dependency-cycle`, `unknown-domain`, `unknown-participant`).
const LISTED_PROBLEMS: usize = 20;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GraphArgs {
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct GraphPage {
    pub summary: GraphSummary,
    /// Over the domains in build order.
    pub page: Page,
    /// This page's domains in build order: each with its stage (a domain's dependencies are
    /// in earlier stages, except within a cycle, whose members share one stage and must be
    /// built together) and the declared domains it depends on.
    pub build_order: Vec<BuildStep>,
    /// Each cycle as a path that starts and ends at the same domain (the first 20).
    pub cycles: Vec<Vec<String>>,
    /// References to domains nobody declares: dependencies and interaction participants
    /// (the first 20).
    pub unknown_references: Vec<UnknownReference>,
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct GraphSummary {
    pub domains: usize,
    /// Dependencies between declared domains.
    pub edges: usize,
    pub stages: usize,
    pub cycles: usize,
    pub unknown_references: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct BuildStep {
    pub stage: usize,
    pub domain: String,
    pub depends_on: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactArgs {
    /// The git revision to compare the current spec tree with (default `HEAD`): a commit,
    /// branch or tag, e.g. `HEAD~1` or `main`.
    #[serde(default)]
    pub base: Option<String>,
    /// Which list to page through: `changes` (default: scenarios and constraints added,
    /// changed with the fields, removed; domains whose dependencies changed),
    /// `touched_domains`, `rerun_scenarios` (with their test-name keys) or
    /// `rerun_constraints`. `summary` counts them all.
    #[serde(default)]
    pub list: Option<ImpactList>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImpactList {
    #[default]
    Changes,
    TouchedDomains,
    RerunScenarios,
    RerunConstraints,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ImpactResult {
    pub base: String,
    /// The resolved commit of `base`.
    pub base_commit: String,
    /// What changed and what to run again, in one line.
    pub headline: String,
    pub summary: ImpactSummary,
    /// The list this page is of.
    pub list: ImpactList,
    pub page: Page,
    pub items: Vec<ImpactItem>,
    /// The other lists and how to read them.
    pub next: String,
}

#[derive(Debug, Clone, Copy, Default, Serialize, JsonSchema)]
pub struct ImpactSummary {
    pub scenarios_added: usize,
    pub scenarios_changed: usize,
    pub scenarios_removed: usize,
    pub constraints_added: usize,
    pub constraints_changed: usize,
    pub constraints_removed: usize,
    /// Domains whose dependencies changed (or that were removed).
    pub domains_changed: usize,
    /// Domains owning an added, changed or removed scenario or constraint.
    pub domains_touched_directly: usize,
    /// Domains that depend (transitively) on a directly touched domain.
    pub domains_touched_through_dependencies: usize,
    /// Scenarios whose tests should run again: changed and added ones, and every scenario of
    /// a domain touched through dependencies.
    pub rerun_scenarios: usize,
    /// Constraints to verify again.
    pub rerun_constraints: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ImpactItem {
    /// `scenario`, `constraint` or `domain`.
    pub kind: String,
    pub id: String,
    /// `added`, `changed`, `removed`, `dependencies_changed`, `touched_directly`,
    /// `touched_through_dependencies` or `rerun`.
    pub change: String,
    /// Which fields differ (`then`, `requirement`, `status`, …), for `changed`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    /// The scenario's test-name key (see the test-name convention), to filter runners.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub test_key: Option<String>,
}

#[tool_router(router = planning_tools, vis = "pub(crate)")]
impl SpecServer {
    /// The domain dependency graph as a build order: domains in stages (a domain's
    /// dependencies come in earlier stages; members of a cycle share a stage and must be built
    /// together), each with what it depends on, one page at a time; plus cycles (each printed
    /// as a path) and references to undeclared domains.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn dependency_graph(
        &self,
        Parameters(args): Parameters<GraphArgs>,
    ) -> Result<Json<GraphPage>, ToolError> {
        let loaded = self.load()?;
        let graph = dependency_graph(&loaded.spec);
        let summary = GraphSummary {
            domains: graph.domains.len(),
            edges: graph.edges.len(),
            stages: graph.build_order.len(),
            cycles: graph.cycles.len(),
            unknown_references: graph.unknown_references.len(),
        };
        let steps: Vec<BuildStep> = graph
            .build_order
            .iter()
            .enumerate()
            .flat_map(|(stage, domains)| {
                let edges = &graph.edges;
                domains.iter().map(move |domain| BuildStep {
                    stage,
                    domain: domain.clone(),
                    depends_on: edges
                        .iter()
                        .filter(|e| &e.from == domain)
                        .map(|e| e.to.clone())
                        .collect(),
                })
            })
            .collect();
        let (cycles, _) = first(graph.cycles, LISTED_PROBLEMS);
        let (unknown_references, _) = first(graph.unknown_references, LISTED_PROBLEMS);
        Ok(Json(paged(steps, args.paging, |build_order, page| {
            GraphPage {
                summary,
                page,
                build_order,
                cycles: cycles.clone(),
                unknown_references: unknown_references.clone(),
            }
        })))
    }

    /// Split a latency (pXX) or time-bound constraint into per-participant budgets, with the
    /// rule stated. A participant that declares its own bound keeps it (`declared_by` names its
    /// constraint) and only the remainder is split among the others; `fits: false` when the
    /// declared bounds alone exceed the whole. Interaction constraints default to the
    /// interaction's participants; for others pass `participants` (declared domains) in call
    /// order. Optional `weights` and a `reserve_ms` for network overhead.
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
    /// scenarios' tests (with their test-name keys) and which constraints to run again. Counts
    /// first, then one list a page at a time (`list`: changes, touched_domains,
    /// rerun_scenarios, rerun_constraints).
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn impact_analysis(
        &self,
        Parameters(args): Parameters<ImpactArgs>,
    ) -> Result<Json<ImpactResult>, ToolError> {
        let base = args.base.unwrap_or_else(|| "HEAD".into());
        let old = crate::git::spec_at_revision(&self.project.specs, &base).await?;
        let loaded = self.load()?;
        let impact = compare(&sdd_spec::load_sources(&old.sources).spec, &loaded.spec);
        let summary = impact_summary(&impact);
        let headline = impact_headline(&summary, loaded.spec.scenarios.len());
        let list = args.list.unwrap_or_default();
        let items = impact_items(impact, list);
        let base_commit = old.commit;
        Ok(Json(paged(items, args.paging, |items, page| {
            let next = impact_next(&summary, list, &page);
            ImpactResult {
                base: base.clone(),
                base_commit: base_commit.clone(),
                headline: headline.clone(),
                summary,
                list,
                page,
                items,
                next,
            }
        })))
    }
}

fn impact_summary(impact: &Impact) -> ImpactSummary {
    ImpactSummary {
        scenarios_added: impact.scenarios.added.len(),
        scenarios_changed: impact.scenarios.changed.len(),
        scenarios_removed: impact.scenarios.removed.len(),
        constraints_added: impact.constraints.added.len(),
        constraints_changed: impact.constraints.changed.len(),
        constraints_removed: impact.constraints.removed.len(),
        domains_changed: impact.domains_changed.len(),
        domains_touched_directly: impact.touched_directly.len(),
        domains_touched_through_dependencies: impact.touched_through_dependencies.len(),
        rerun_scenarios: impact.rerun_scenarios.len(),
        rerun_constraints: impact.rerun_constraints.len(),
    }
}

fn impact_headline(s: &ImpactSummary, scenarios_now: usize) -> String {
    let changed = s.scenarios_added + s.scenarios_changed + s.scenarios_removed;
    let constraints = s.constraints_added + s.constraints_changed + s.constraints_removed;
    if changed + constraints + s.domains_changed == 0 {
        return "Nothing changed in the spec since the base revision.".into();
    }
    let all = if s.rerun_scenarios == scenarios_now && scenarios_now > 0 {
        " (every scenario: run the whole suite)"
    } else {
        ""
    };
    format!(
        "Scenarios: {} added, {} changed, {} removed; constraints: {} added, {} changed, {} removed; {} domain(s) touched directly, {} through dependencies. Run again: {} scenario test(s){all} and {} constraint(s).",
        s.scenarios_added,
        s.scenarios_changed,
        s.scenarios_removed,
        s.constraints_added,
        s.constraints_changed,
        s.constraints_removed,
        s.domains_touched_directly,
        s.domains_touched_through_dependencies,
        s.rerun_scenarios,
        s.rerun_constraints
    )
}

/// The rows of one list of `impact`.
fn impact_items(impact: Impact, list: ImpactList) -> Vec<ImpactItem> {
    let item = |kind: &str, id: String, change: &str| ImpactItem {
        kind: kind.into(),
        id,
        change: change.into(),
        fields: Vec::new(),
        test_key: None,
    };
    let mut items = Vec::new();
    match list {
        ImpactList::Changes => {
            for (kind, set) in [
                ("scenario", impact.scenarios),
                ("constraint", impact.constraints),
            ] {
                items.extend(set.added.into_iter().map(|id| item(kind, id, "added")));
                items.extend(set.changed.into_iter().map(|c| ImpactItem {
                    fields: c.fields,
                    ..item(kind, c.id, "changed")
                }));
                items.extend(set.removed.into_iter().map(|id| item(kind, id, "removed")));
            }
            items.extend(
                impact
                    .domains_changed
                    .into_iter()
                    .map(|d| item("domain", d, "dependencies_changed")),
            );
        }
        ImpactList::TouchedDomains => {
            items.extend(
                impact
                    .touched_directly
                    .into_iter()
                    .map(|d| item("domain", d, "touched_directly")),
            );
            items.extend(
                impact
                    .touched_through_dependencies
                    .into_iter()
                    .map(|d| item("domain", d, "touched_through_dependencies")),
            );
        }
        ImpactList::RerunScenarios => {
            items.extend(
                impact
                    .rerun_scenarios
                    .into_iter()
                    .zip(impact.rerun_test_keys)
                    .map(|(id, key)| ImpactItem {
                        test_key: Some(key),
                        ..item("scenario", id, "rerun")
                    }),
            );
        }
        ImpactList::RerunConstraints => {
            items.extend(
                impact
                    .rerun_constraints
                    .into_iter()
                    .map(|c| item("constraint", c, "rerun")),
            );
        }
    }
    items
}

fn impact_next(s: &ImpactSummary, list: ImpactList, page: &Page) -> String {
    let lists = [
        (
            ImpactList::Changes,
            "changes",
            s.scenarios_added
                + s.scenarios_changed
                + s.scenarios_removed
                + s.constraints_added
                + s.constraints_changed
                + s.constraints_removed
                + s.domains_changed,
        ),
        (
            ImpactList::TouchedDomains,
            "touched_domains",
            s.domains_touched_directly + s.domains_touched_through_dependencies,
        ),
        (
            ImpactList::RerunScenarios,
            "rerun_scenarios",
            s.rerun_scenarios,
        ),
        (
            ImpactList::RerunConstraints,
            "rerun_constraints",
            s.rerun_constraints,
        ),
    ];
    let others: Vec<String> = lists
        .iter()
        .filter(|(l, _, n)| *l != list && *n > 0)
        .map(|(_, name, n)| format!("`list: {name}` ({n})"))
        .collect();
    let mut next = match &page.more {
        Some(more) => format!("{more}."),
        None => "This is the whole list.".into(),
    };
    if !others.is_empty() {
        next.push_str(&format!(" Other lists: {}.", others.join(", ")));
    }
    next
}

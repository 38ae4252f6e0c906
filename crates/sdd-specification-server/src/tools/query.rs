//! Reading the spec: domains, scenarios, constraints, and the constraint language itself.

use std::sync::Arc;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::{paged, Page, Paging, ToolError};
use sdd_spec::analysis::coverage::EdgeCaseClass;
use sdd_spec::constraint::{parse_constraint, ParsedConstraint};
use sdd_spec::document::ReviewStatus;
use sdd_spec::model::{Constraint, Scenario};

use crate::SpecServer;

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DomainSummary {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub dependencies: Vec<String>,
    pub scenarios: usize,
    pub approved: usize,
    pub proposed: usize,
    /// Constraints that apply to the domain (its own, global, and its interactions').
    pub constraints: usize,
    /// Spec files that declare the domain.
    pub files: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListDomainsArgs {
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DomainList {
    /// The whole spec, whatever the page.
    pub totals: SpecTotals,
    /// The domains, in the order the spec declares them.
    pub page: Page,
    pub domains: Vec<DomainSummary>,
    /// Interactions (cross-domain flows) with a participant among this page's domains.
    pub interactions: Vec<InteractionSummary>,
    /// Errors met while loading (a file that does not parse, a broken entry, a duplicate ID).
    /// What does not parse is missing from the counts above.
    pub load_errors: usize,
    /// The first of those errors, where and what (validate_spec gives every one with help).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub load_error_list: Vec<LoadProblem>,
    /// Load errors not in `load_error_list`.
    #[serde(skip_serializing_if = "super::analysis::is_zero")]
    pub more_load_errors: usize,
}

/// One error met while loading: where it is and what it says.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LoadProblem {
    /// Spec file, relative to the spec root.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub code: String,
    pub message: String,
}

/// Load errors told one by one next to their count; the rest are counted (validate_spec
/// pages through all of them).
pub(crate) const LISTED_LOAD_ERRORS: usize = 5;

/// The first [`LISTED_LOAD_ERRORS`] errors among `diagnostics`, and how many more there are.
pub(crate) fn load_errors(
    diagnostics: &[sdd_spec::diagnostic::Diagnostic],
) -> (Vec<LoadProblem>, usize) {
    let errors: Vec<&sdd_spec::diagnostic::Diagnostic> = diagnostics
        .iter()
        .filter(|d| d.severity == sdd_spec::diagnostic::Severity::Error)
        .collect();
    let listed = errors
        .iter()
        .take(LISTED_LOAD_ERRORS)
        .map(|d| LoadProblem {
            file: d.file.clone(),
            line: d.line,
            code: d.code.clone(),
            message: d.message.clone(),
        })
        .collect();
    (listed, errors.len().saturating_sub(LISTED_LOAD_ERRORS))
}

#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct SpecTotals {
    pub domains: usize,
    pub scenarios: usize,
    pub approved: usize,
    pub proposed: usize,
    pub constraints: usize,
    pub interactions: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InteractionSummary {
    pub name: String,
    pub participants: Vec<String>,
    pub flows: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetScenariosArgs {
    /// Only scenarios of this domain (see list_domains).
    #[serde(default)]
    pub domain: Option<String>,
    /// Only scenarios written under this feature name.
    #[serde(default)]
    pub feature: Option<String>,
    /// Only scenarios with this review status: `approved` (what you implement), `proposed`
    /// (waiting for a person) or `rejected`.
    #[serde(default)]
    pub status: Option<ReviewStatus>,
    /// Only these scenario IDs.
    #[serde(default)]
    pub ids: Vec<String>,
    /// Only scenarios whose name, given, when or then contains this text (case-insensitive).
    #[serde(default)]
    pub text: Option<String>,
    /// Only scenarios that exercise this edge-case class (`error_paths`, `auth`,
    /// `input_bounds`, `concurrency`, `idempotency`, `injection`, `not_found`, `rate_limits`),
    /// as analyze_coverage counts them: its covering scenarios, in full.
    #[serde(default)]
    pub edge_case: Option<EdgeCaseClass>,
    /// Also return the constraints that apply to the returned scenarios' domains (the page is
    /// shorter then, to make room for them).
    #[serde(default)]
    pub include_constraints: bool,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScenarioList {
    pub page: Page,
    pub scenarios: Vec<Arc<Scenario>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraints: Option<Vec<Constraint>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GetConstraintsArgs {
    /// Constraints that apply to this domain (its own, global ones, and its interactions').
    #[serde(default)]
    pub domain: Option<String>,
    /// Only this category (`performance`, `security`, `reliability`, `scalability`, …).
    #[serde(default)]
    pub category: Option<String>,
    /// Only these constraint IDs.
    #[serde(default)]
    pub ids: Vec<String>,
    /// `true`: only constraints with a machine check; `false`: only those without one.
    #[serde(default)]
    pub checkable: Option<bool>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ConstraintList {
    pub page: Page,
    pub constraints: Vec<Constraint>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ParseConstraintArgs {
    /// The requirement sentence, e.g. `p95 latency < 100ms for all read operations`.
    pub requirement: String,
    /// The load it is measured under, e.g. `Under load of 1000 requests/second`.
    #[serde(default)]
    pub measurement: Option<String>,
    /// Exceptions, e.g. `Health check endpoint`.
    #[serde(default)]
    pub exceptions: Vec<String>,
}

#[tool_router(router = query_tools, vis = "pub(crate)")]
impl SpecServer {
    /// List the domains of the spec with their dependencies and how many scenarios (approved,
    /// proposed) and constraints each has, plus the cross-domain interactions they take part
    /// in, one page at a time (`totals` counts the whole spec). Call this first; then
    /// get_scenarios / get_constraints for one domain.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn list_domains(
        &self,
        Parameters(args): Parameters<ListDomainsArgs>,
    ) -> Result<Json<DomainList>, ToolError> {
        let loaded = self.load()?;
        let spec = &loaded.spec;
        let count = |status| spec.scenarios.iter().filter(|s| s.status == status).count();
        let totals = SpecTotals {
            domains: spec.domains.len(),
            scenarios: spec.scenarios.len(),
            approved: count(ReviewStatus::Approved),
            proposed: count(ReviewStatus::Proposed),
            constraints: spec.constraints.len(),
            interactions: spec.interactions.len(),
        };
        let load_errors = sdd_spec::diagnostic::count_errors(&loaded.diagnostics);
        let (load_error_list, more_load_errors) = self::load_errors(&loaded.diagnostics);
        let domains: Vec<DomainSummary> = spec
            .domains
            .iter()
            .map(|d| {
                let scenarios: Vec<&Scenario> = spec.scenarios_in(&d.name).collect();
                let mut files: Vec<String> = d.declared_at.iter().map(|l| l.file.clone()).collect();
                files.dedup();
                DomainSummary {
                    name: d.name.clone(),
                    description: d.description.clone(),
                    dependencies: d.dependencies.clone(),
                    scenarios: scenarios.len(),
                    approved: scenarios
                        .iter()
                        .filter(|s| s.status == ReviewStatus::Approved)
                        .count(),
                    proposed: scenarios
                        .iter()
                        .filter(|s| s.status == ReviewStatus::Proposed)
                        .count(),
                    constraints: spec.constraints_for(&d.name).count(),
                    files,
                }
            })
            .collect();
        let answer = paged(domains, args.paging, |domains, page| {
            let interactions = spec
                .interactions
                .iter()
                .filter(|i| {
                    i.participants
                        .iter()
                        .any(|p| domains.iter().any(|d| &d.name == p))
                })
                .map(|i| InteractionSummary {
                    name: i.name.clone(),
                    participants: i.participants.clone(),
                    flows: i.flows.iter().map(|f| f.name.clone()).collect(),
                })
                .collect();
            DomainList {
                totals,
                page,
                domains,
                interactions,
                load_errors,
                load_error_list: load_error_list.clone(),
                more_load_errors,
            }
        });
        Ok(Json(answer))
    }

    /// Get scenarios (Given/When/Then with ID, status and file:line), filtered by domain,
    /// feature, status, IDs or text, one page at a time. Implement the `approved` ones; each test
    /// you write must carry the scenario ID in its name (see generate_test_suite).
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn get_scenarios(
        &self,
        Parameters(args): Parameters<GetScenariosArgs>,
    ) -> Result<Json<ScenarioList>, ToolError> {
        let loaded = self.load()?;
        let spec = &loaded.spec;
        if let Some(domain) = &args.domain {
            if spec.domain(domain).is_none() && spec.scenarios_in(domain).next().is_none() {
                return Err(unknown_domain(spec, domain));
            }
        }
        let needle = args.text.as_deref().map(str::to_lowercase);
        // As analyze_coverage counts: a scenario that contradicts the class's rule does not
        // cover it.
        let not_counted = args
            .edge_case
            .map(|class| sdd_spec::analysis::coverage::not_counted_for(spec, class))
            .unwrap_or_default();
        let matching: Vec<Arc<Scenario>> = spec
            .scenarios
            .iter()
            .filter(|s| args.domain.as_deref().is_none_or(|d| s.domain == d))
            .filter(|s| {
                args.feature
                    .as_deref()
                    .is_none_or(|f| s.feature.as_deref() == Some(f))
            })
            .filter(|s| args.status.is_none_or(|st| s.status == st))
            .filter(|s| args.ids.is_empty() || args.ids.contains(&s.id))
            .filter(|s| {
                args.edge_case
                    .is_none_or(|class| class.covered_by(s) && !not_counted.contains(&s.id))
            })
            .filter(|s| {
                needle.as_deref().is_none_or(|n| {
                    std::iter::once(&s.name)
                        .chain(&s.given)
                        .chain(s.when.iter())
                        .chain(&s.then)
                        .any(|t| t.to_lowercase().contains(n))
                })
            })
            .cloned()
            .collect();
        let unknown: Vec<&String> = args
            .ids
            .iter()
            .filter(|id| spec.scenario(id).is_none())
            .collect();
        if !unknown.is_empty() && matching.is_empty() {
            return Err(format!(
                "no scenario with ID {}; find IDs with get_scenarios filtered by domain",
                quote_list(&unknown)
            ));
        }
        let answer = paged(matching, args.paging, |scenarios, page| {
            let constraints = args
                .include_constraints
                .then(|| constraints_of_domains(spec, &scenarios));
            ScenarioList {
                page,
                scenarios,
                constraints,
            }
        });
        Ok(Json(answer))
    }

    /// Get constraints (performance, security, reliability, …) with their machine reading:
    /// `parsed.checks` (e.g. latency p95 ≤ 100 ms for reads) or `parsed.not_checkable` with the
    /// reason and the structured `check:` that would make it checkable.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn get_constraints(
        &self,
        Parameters(args): Parameters<GetConstraintsArgs>,
    ) -> Result<Json<ConstraintList>, ToolError> {
        let loaded = self.load()?;
        let spec = &loaded.spec;
        let pool: Vec<&Constraint> = match &args.domain {
            Some(domain) => {
                if spec.domain(domain).is_none() {
                    return Err(unknown_domain(spec, domain));
                }
                spec.constraints_for(domain).collect()
            }
            None => spec.constraints.iter().map(|c| &**c).collect(),
        };
        let matching: Vec<Constraint> = pool
            .into_iter()
            .filter(|c| args.category.as_deref().is_none_or(|cat| c.category == cat))
            .filter(|c| args.ids.is_empty() || args.ids.contains(&c.id))
            .filter(|c| {
                args.checkable
                    .is_none_or(|want| c.parsed.is_checkable() == want)
            })
            .cloned()
            .collect();
        Ok(Json(paged(matching, args.paging, |constraints, page| {
            ConstraintList { page, constraints }
        })))
    }

    /// Parse a constraint sentence the way the spec loader would, without writing anything: use it
    /// to check that a constraint you are about to suggest is machine-checkable.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn parse_constraint(
        &self,
        Parameters(args): Parameters<ParseConstraintArgs>,
    ) -> Result<Json<ParsedConstraint>, ToolError> {
        if args.requirement.trim().is_empty() {
            return Err("`requirement` is empty; pass the sentence to parse".into());
        }
        Ok(Json(parse_constraint(
            "constraint",
            Some(&args.requirement),
            args.measurement.as_deref(),
            &args.exceptions,
        )))
    }
}

/// The constraints that apply to the domains of `scenarios`, each once.
fn constraints_of_domains(spec: &sdd_spec::Spec, scenarios: &[Arc<Scenario>]) -> Vec<Constraint> {
    let mut domains: Vec<&str> = scenarios.iter().map(|s| s.domain.as_str()).collect();
    domains.sort();
    domains.dedup();
    let mut list: Vec<Constraint> = Vec::new();
    for d in domains {
        for c in spec.constraints_for(d) {
            if !list.iter().any(|x| x.id == c.id) {
                list.push(c.clone());
            }
        }
    }
    list
}

pub(crate) fn unknown_domain(spec: &sdd_spec::Spec, domain: &str) -> ToolError {
    let names: Vec<&str> = spec.domains.iter().map(|d| d.name.as_str()).collect();
    let hint = sdd_spec::load::closest(domain, &names)
        .map(|c| format!(" Did you mean `{c}`?"))
        .unwrap_or_default();
    format!(
        "no domain `{domain}`.{hint} Known domains: {}",
        names.join(", ")
    )
}

fn quote_list(items: &[&String]) -> String {
    items
        .iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

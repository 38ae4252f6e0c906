//! Checking the spec: validation of the whole tree or one candidate scenario, and coverage of
//! edge-case classes per domain.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::{paginate, Page, Paging, ToolError};
use sdd_spec::analysis::coverage::{analyze_coverage, DomainCoverage};
use sdd_spec::analysis::validate::{validate, validate_scenario, ScenarioCheck, ValidationSummary};
use sdd_spec::document::ScenarioDoc;
use sdd_spec::{Diagnostic, Severity};

use crate::SpecServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateSpecArgs {
    /// Report only diagnostics at least this severe: `error`, `warning` (default) or `info`.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Only diagnostics in files under this path (relative to the spec root).
    #[serde(default)]
    pub file: Option<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ValidationResult {
    /// True when the spec has no error (warnings allowed).
    pub valid: bool,
    pub summary: ValidationSummary,
    pub page: Page,
    /// Errors first; each with file, line, column, field path, code, message and help.
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateScenarioArgs {
    /// The domain the scenario would belong to (see list_domains).
    pub domain: String,
    /// The scenario: `name`, `given`, `when`, `then` (strings or lists of strings), optional `id`.
    pub scenario: ScenarioDoc,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageArgs {
    /// Analyse only this domain; default: every domain that has scenarios.
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CoverageReport {
    pub page: Page,
    pub domains: Vec<DomainCoverage>,
}

#[tool_router(router = analysis_tools, vis = "pub(crate)")]
impl SpecServer {
    /// Validate the whole spec tree: YAML and structure errors (file:line:column, field path, how
    /// to fix), duplicate IDs, contradicting scenarios, scenarios that break a stated limit,
    /// unknown domains, dependency cycles, vague or unobservable wording, and constraints that
    /// are not machine-checkable. Fix errors before implementing.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn validate_spec(
        &self,
        Parameters(args): Parameters<ValidateSpecArgs>,
    ) -> Result<Json<ValidationResult>, ToolError> {
        let loaded = self.load()?;
        let report = validate(&loaded.spec, &loaded.diagnostics);
        let floor = args.min_severity.unwrap_or(Severity::Warning);
        let diagnostics: Vec<Diagnostic> = report
            .diagnostics
            .into_iter()
            .filter(|d| d.severity <= floor)
            .filter(|d| {
                args.file
                    .as_deref()
                    .is_none_or(|f| d.file.as_deref().is_some_and(|df| df.starts_with(f)))
            })
            .collect();
        let (diagnostics, page) = paginate(diagnostics, args.paging);
        Ok(Json(ValidationResult {
            valid: report.valid,
            summary: report.summary,
            page,
            diagnostics,
        }))
    }

    /// Check one scenario before proposing it: lints (missing then, vague or unobservable
    /// wording) and conflicts with the spec (same name, same Given+When with a contradicting
    /// outcome, a size limit it breaks). Returns the ID it would get.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn validate_scenario(
        &self,
        Parameters(args): Parameters<ValidateScenarioArgs>,
    ) -> Result<Json<ScenarioCheck>, ToolError> {
        let loaded = self.load()?;
        Ok(Json(validate_scenario(
            &loaded.spec,
            &args.scenario,
            &args.domain,
        )))
    }

    /// Which classes of edge case each domain's scenarios cover — error paths, auth, input
    /// bounds, concurrency, idempotency, injection, not-found, rate limits — with the covering
    /// scenario IDs, and for each missing class a drafted scenario you can pass to
    /// propose_scenarios (edit it to fit the domain first).
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn analyze_coverage(
        &self,
        Parameters(args): Parameters<CoverageArgs>,
    ) -> Result<Json<CoverageReport>, ToolError> {
        let loaded = self.load()?;
        if let Some(domain) = &args.domain {
            if loaded.spec.domain(domain).is_none()
                && loaded.spec.scenarios_in(domain).next().is_none()
            {
                return Err(super::query::unknown_domain(&loaded.spec, domain));
            }
        }
        let domains = analyze_coverage(&loaded.spec, args.domain.as_deref());
        let (domains, page) = paginate(domains, args.paging);
        Ok(Json(CoverageReport { page, domains }))
    }
}

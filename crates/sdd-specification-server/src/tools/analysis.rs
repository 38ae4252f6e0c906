//! Checking the spec: validation of the whole tree or one candidate scenario, and coverage of
//! edge-case classes per domain.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::{first, largest_fitting, paged, wire_chars, Page, Paging, ToolError};
use sdd_spec::analysis::conflicts::Conflict;
use sdd_spec::analysis::coverage::{
    analyze_coverage, DomainCoverage, EdgeCaseClass, NotCounted, ALL_CLASSES,
};
use sdd_spec::analysis::validate::{validate, validate_scenario, ScenarioCheck, ValidationSummary};
use sdd_spec::document::ProposedScenario;
use sdd_spec::document::ScenarioDoc;
use sdd_spec::{Diagnostic, Severity};

use crate::SpecServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateSpecArgs {
    /// Report only diagnostics at least this severe: `error`, `warning` (default) or `info`.
    #[serde(default)]
    pub min_severity: Option<Severity>,
    /// Only diagnostics in files under this path (relative to the spec root); `by_file` in
    /// an answer names the files with the most.
    #[serde(default)]
    pub file: Option<String>,
    /// Only diagnostics with this code (e.g. `vague-wording`, `not-checkable`,
    /// `conflicting-outcomes`); `by_code` in an answer counts them all.
    #[serde(default)]
    pub code: Option<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ValidationResult {
    /// True when the spec has no error (warnings allowed).
    pub valid: bool,
    /// The whole spec, whatever the filters.
    pub summary: ValidationSummary,
    /// Diagnostics at or above `min_severity` (and under `file`), counted per code, most
    /// frequent first; pass a `code` to page through one.
    pub by_code: Vec<CodeCount>,
    /// The files with the most of those diagnostics (at most 10), to pass as `file`.
    pub by_file: Vec<FileCount>,
    /// Files with at least one of those diagnostics.
    pub files_with_diagnostics: usize,
    pub page: Page,
    /// Errors first; each with file, line, column, field path, code, message and help.
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CodeCount {
    pub code: String,
    pub severity: Severity,
    pub count: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct FileCount {
    pub file: String,
    pub errors: usize,
    pub warnings: usize,
    pub infos: usize,
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
    /// Analyse only this domain (its details come with it); default: every domain that has
    /// scenarios.
    #[serde(default)]
    pub domain: Option<String>,
    /// Only domains that miss this edge-case class (`error_paths`, `auth`, `input_bounds`,
    /// `concurrency`, `idempotency`, `injection`, `not_found`, `rate_limits`).
    #[serde(default)]
    pub missing: Option<EdgeCaseClass>,
    #[serde(flatten)]
    pub paging: Paging,
}

/// Domains whose details (covering scenarios, drafted scenarios) one answer carries.
const DETAILED_DOMAINS: usize = 3;
/// Covering scenario IDs listed per class; get_scenarios with `edge_case` lists them all.
const COVERING_IDS: usize = 3;

#[derive(Debug, Serialize, JsonSchema)]
pub struct CoverageReport {
    /// Every analysed domain (all pages).
    pub summary: CoverageSummary,
    pub page: Page,
    /// This page's domains: how many scenarios, which classes they cover and miss.
    pub domains: Vec<DomainRow>,
    /// For the first domains of this page that miss a class (at most 3; with `domain`, that
    /// one): the covering scenarios per class and a drafted scenario per missing class, ready
    /// for propose_scenarios (edit it to fit the domain first).
    pub details: Vec<DomainDetails>,
    /// How to get the rest: other domains' details, every covering scenario.
    pub next: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CoverageSummary {
    pub domains: usize,
    pub scenarios: usize,
    /// Domains that miss no class.
    pub complete_domains: usize,
    /// Per class: how many domains cover it and how many miss it.
    pub by_class: Vec<ClassCount>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ClassCount {
    pub class: EdgeCaseClass,
    pub domains_covering: usize,
    pub domains_missing: usize,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct DomainRow {
    pub domain: String,
    /// Scenarios of the domain that are not rejected.
    pub scenario_count: usize,
    pub covered: Vec<EdgeCaseClass>,
    pub missing: Vec<EdgeCaseClass>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DomainDetails {
    pub domain: String,
    pub covered: Vec<CoveredClass>,
    /// Scenarios that read as covering a class but contradict its rule (anonymous success
    /// where a token is required, …): not counted, at most 3 listed (validate_spec lists all).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub not_counted: Vec<NotCounted>,
    /// One drafted scenario per missing class.
    pub suggestions: Vec<ProposedScenario>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct CoveredClass {
    pub class: EdgeCaseClass,
    /// How many scenarios exercise the class.
    pub scenario_count: usize,
    /// The first of them (at most 3); get_scenarios with `domain` and `edge_case` lists all.
    pub scenarios: Vec<String>,
    /// Constraints of the domain that state a rule for this class (a rule is not a scenario:
    /// it still needs one that shows the behaviour).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<String>,
}

#[tool_router(router = analysis_tools, vis = "pub(crate)")]
impl SpecServer {
    /// Validate the whole spec tree: YAML and structure errors (file:line:column, field path, how
    /// to fix), duplicate IDs, contradicting scenarios, scenarios that break a stated limit,
    /// unknown domains, dependency cycles, vague or unobservable wording, and constraints that
    /// are not machine-checkable. Summary first — counts per code and the files with the most
    /// — then the diagnostics one page at a time, errors first; filter by `code`, `file` or
    /// `min_severity`. Fix errors before implementing.
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
        let (by_code, by_file, files_with_diagnostics) = counts(&diagnostics);
        let diagnostics: Vec<Diagnostic> = diagnostics
            .into_iter()
            .filter(|d| args.code.as_deref().is_none_or(|c| d.code == c))
            .collect();
        let answer = paged(diagnostics, args.paging, |diagnostics, page| {
            ValidationResult {
                valid: report.valid,
                summary: report.summary.clone(),
                by_code: by_code
                    .iter()
                    .map(|(code, severity, count)| CodeCount {
                        code: code.clone(),
                        severity: *severity,
                        count: *count,
                    })
                    .collect(),
                by_file: by_file
                    .iter()
                    .map(|(file, [errors, warnings, infos])| FileCount {
                        file: file.clone(),
                        errors: *errors,
                        warnings: *warnings,
                        infos: *infos,
                    })
                    .collect(),
                files_with_diagnostics,
                page,
                diagnostics,
            }
        });
        Ok(Json(answer))
    }

    /// Check one scenario before proposing it: lints (missing then, vague or unobservable
    /// wording) and conflicts with the spec (same name, same Given+When with a contradicting
    /// outcome, a size limit it breaks). Returns the ID it would get.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn validate_scenario(
        &self,
        Parameters(args): Parameters<ValidateScenarioArgs>,
    ) -> Result<Json<CheckedScenario>, ToolError> {
        let loaded = self.load()?;
        let check = validate_scenario(&loaded.spec, &args.scenario, &args.domain);
        let budget = Paging::default().char_budget();
        let mut checks = shorten_checks(vec![check], |checks| wire_chars(&checks[0]) <= budget);
        Ok(Json(checks.remove(0)))
    }

    /// Which classes of edge case each domain's scenarios cover — error paths, auth, input
    /// bounds, concurrency, idempotency, injection, not-found, rate limits. Summary first (per
    /// class, how many domains miss it), then one page of domains with the classes each covers
    /// and misses, and details for the first few that miss one: covering scenario IDs and, for
    /// each missing class, a drafted scenario you can pass to propose_scenarios (edit it to fit
    /// the domain first). Pass `domain` for one domain's details, `missing` for the domains
    /// that lack a class.
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
        let mut domains = analyze_coverage(&loaded.spec, args.domain.as_deref());
        if let Some(class) = args.missing {
            domains.retain(|d| d.missing.contains(&class));
        }
        let summary = coverage_summary(&domains);
        let answer = paged(domains, args.paging, |page_domains, page| {
            let rows = page_domains
                .iter()
                .map(|d| DomainRow {
                    domain: d.domain.clone(),
                    scenario_count: d.scenario_count,
                    covered: d.covered.iter().map(|c| c.class).collect(),
                    missing: d.missing.clone(),
                })
                .collect();
            let details: Vec<DomainDetails> = page_domains
                .into_iter()
                .filter(|d| !d.missing.is_empty() || args.domain.is_some())
                .take(DETAILED_DOMAINS)
                .map(details_of)
                .collect();
            let next = coverage_hint(&page, &details, args.domain.is_some());
            CoverageReport {
                summary: summary.clone(),
                page,
                domains: rows,
                details,
                next,
            }
        });
        Ok(Json(answer))
    }
}

/// Conflicts listed per checked scenario at most (twice as many diagnostics); fewer when the
/// answer would be too large.
const LISTED_CONFLICTS: usize = 10;

/// A candidate scenario's check, with its lists kept short: a scenario that repeats a common
/// Given and When can conflict with hundreds of others, and one of them makes the point.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CheckedScenario {
    pub valid: bool,
    /// The ID it would get; empty when it can have none (no `id` and a name without a letter
    /// or digit: a `missing-field` error says so).
    pub id: String,
    /// Errors first.
    pub diagnostics: Vec<Diagnostic>,
    pub conflicts: Vec<Conflict>,
    /// Diagnostics left out (warnings first).
    #[serde(skip_serializing_if = "is_zero")]
    pub diagnostics_omitted: usize,
    /// Conflicts left out (all of the same kinds as those listed or others).
    #[serde(skip_serializing_if = "is_zero")]
    pub conflicts_omitted: usize,
}

pub(crate) fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Each check with at most `k` conflicts and `2k` diagnostics (errors first), for the largest
/// `k` up to [`LISTED_CONFLICTS`] that `fits` accepts (0 if none does).
pub(crate) fn shorten_checks(
    checks: Vec<ScenarioCheck>,
    fits: impl Fn(&[CheckedScenario]) -> bool,
) -> Vec<CheckedScenario> {
    let shorten = |k: usize| -> Vec<CheckedScenario> {
        checks
            .iter()
            .map(|c| {
                let mut diagnostics = c.diagnostics.clone();
                diagnostics.sort_by_key(|d| d.severity);
                let (diagnostics, diagnostics_omitted) = first(diagnostics, 2 * k);
                let (conflicts, conflicts_omitted) = first(c.conflicts.clone(), k);
                CheckedScenario {
                    valid: c.valid,
                    id: c.id.clone(),
                    diagnostics,
                    conflicts,
                    diagnostics_omitted,
                    conflicts_omitted,
                }
            })
            .collect()
    };
    let k = largest_fitting(LISTED_CONFLICTS, |k| fits(&shorten(k)));
    shorten(k)
}

/// Counts per code (most frequent first) and per file (the ten with most), and how many files
/// have any.
#[allow(clippy::type_complexity)]
fn counts(
    diagnostics: &[Diagnostic],
) -> (
    Vec<(String, Severity, usize)>,
    Vec<(String, [usize; 3])>,
    usize,
) {
    let mut by_code: std::collections::BTreeMap<(&str, Severity), usize> = Default::default();
    let mut by_file: std::collections::BTreeMap<&str, [usize; 3]> = Default::default();
    for d in diagnostics {
        *by_code.entry((d.code.as_str(), d.severity)).or_default() += 1;
        if let Some(file) = d.file.as_deref() {
            let slot = match d.severity {
                Severity::Error => 0,
                Severity::Warning => 1,
                Severity::Info => 2,
            };
            by_file.entry(file).or_default()[slot] += 1;
        }
    }
    let mut codes: Vec<(String, Severity, usize)> = by_code
        .into_iter()
        .map(|((code, severity), n)| (code.to_string(), severity, n))
        .collect();
    codes.sort_by(|a, b| a.1.cmp(&b.1).then(b.2.cmp(&a.2)).then(a.0.cmp(&b.0)));
    let files_with_diagnostics = by_file.len();
    let mut files: Vec<(String, [usize; 3])> = by_file
        .into_iter()
        .map(|(f, n)| (f.to_string(), n))
        .collect();
    files.sort_by(|a, b| {
        b.1.iter()
            .sum::<usize>()
            .cmp(&a.1.iter().sum::<usize>())
            .then(a.0.cmp(&b.0))
    });
    files.truncate(10);
    (codes, files, files_with_diagnostics)
}

fn coverage_summary(domains: &[DomainCoverage]) -> CoverageSummary {
    CoverageSummary {
        domains: domains.len(),
        scenarios: domains.iter().map(|d| d.scenario_count).sum(),
        complete_domains: domains.iter().filter(|d| d.missing.is_empty()).count(),
        by_class: ALL_CLASSES
            .iter()
            .map(|&class| {
                let missing = domains
                    .iter()
                    .filter(|d| d.missing.contains(&class))
                    .count();
                ClassCount {
                    class,
                    domains_covering: domains.len() - missing,
                    domains_missing: missing,
                }
            })
            .collect(),
    }
}

fn details_of(d: DomainCoverage) -> DomainDetails {
    DomainDetails {
        covered: d
            .covered
            .into_iter()
            .map(|c| {
                let scenario_count = c.scenarios.len();
                let (scenarios, _) = first(c.scenarios, COVERING_IDS);
                CoveredClass {
                    class: c.class,
                    scenario_count,
                    scenarios,
                    constraints: c.constraints,
                }
            })
            .collect(),
        not_counted: first(d.not_counted, COVERING_IDS).0,
        suggestions: d.suggestions,
        domain: d.domain,
    }
}

fn coverage_hint(page: &Page, details: &[DomainDetails], one_domain: bool) -> String {
    let mut hint = String::new();
    if !one_domain {
        hint.push_str(&format!(
            "Details are given for {} domain(s) of this page; pass `domain` for another's. ",
            details.len()
        ));
    }
    hint.push_str("get_scenarios with `domain` and `edge_case` lists every covering scenario.");
    if let Some(more) = &page.more {
        hint.push_str(&format!(" More domains: {more}."));
    }
    hint
}

//! Writing: proposing scenarios (never approving them), listing proposals, generating test
//! suites.

use std::sync::Arc;

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::{paged, wire_chars, Page, Paging, ToolError};
use sdd_spec::analysis::validate::ScenarioCheck;

use super::analysis::{shorten_checks, CheckedScenario};
use sdd_spec::document::{ProposedScenario, ReviewStatus};
use sdd_spec::model::Scenario;
use sdd_spec::review::{check_proposals, propose, validate_proposals, ProposalOutcome};
use sdd_spec::testgen::{suite_code, Framework, GenerateOptions, GeneratedTest};

use crate::SpecServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeArgs {
    /// The domain the scenarios belong to (see list_domains); a new snake_case name starts a
    /// new domain in `proposals/<domain>.yaml`.
    pub domain: String,
    /// The scenarios (at most 50 per call). Each needs `name`, `then` and a `rationale` the
    /// reviewer will read; they are written with `status: proposed`. Strings are single lines
    /// (control characters and line separators are refused).
    pub scenarios: Vec<ProposedScenario>,
    /// Spec file to append to, relative to the spec root. Default: the domain's first file
    /// with scenarios.
    #[serde(default)]
    pub file: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProposeResult {
    pub written: ProposalOutcome,
    /// Warnings found while checking each proposal (errors stop the write); long lists are
    /// cut short (`conflicts_omitted`, `diagnostics_omitted`).
    pub checks: Vec<CheckedScenario>,
    pub next_step: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProposalsArgs {
    /// Only proposals of this domain (e.g. `tasks`); default: every domain.
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProposalList {
    pub page: Page,
    pub proposals: Vec<Arc<Scenario>>,
    /// How a person approves or rejects them.
    pub how_to_review: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateArgs {
    /// `pytest`, `cargo`, `jest`, `vitest`, `go`, or `cucumber` (a Gherkin `.feature` file).
    pub framework: Framework,
    /// Only this domain's approved scenarios (recommended for large specs).
    #[serde(default)]
    pub domain: Option<String>,
    /// Go package name for `go` (default `scenarios`).
    #[serde(default)]
    pub go_package: Option<String>,
    /// Pages of approved scenarios: each page is a complete test file of its own.
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TestSuitePage {
    pub framework: Framework,
    /// Where to save this page's file, relative to the project root: each page is a file of
    /// its own (the first page's name has no `_from_N` part).
    pub suggested_path: String,
    /// Pages over the approved scenarios (of `domain`).
    pub page: Page,
    /// The tests in `code`, with the scenario each one stands for.
    pub tests: Vec<GeneratedTest>,
    /// Scenarios (of `domain`) left out because they are not approved, by status (list them
    /// with get_scenarios and `status`), or because their ID is a duplicate.
    pub skipped: SkippedCounts,
    pub code: String,
}

#[derive(Debug, Clone, Copy, Default, Serialize, JsonSchema)]
pub struct SkippedCounts {
    pub proposed: usize,
    pub rejected: usize,
    /// Written `approved` but changed since a person approved them.
    pub changed_since_approval: usize,
    /// Scenarios whose ID another scenario, written first, already has: that one gets the
    /// test of that name, and a second would be indistinguishable in results. Give each its own
    /// `id:` (validate_spec lists them as `duplicate-id`; get_scenarios shows `duplicate_of`).
    #[serde(skip_serializing_if = "super::analysis::is_zero")]
    pub duplicate_id: usize,
}

#[tool_router(router = authoring_tools, vis = "pub(crate)")]
impl SpecServer {
    /// Propose new scenarios (edge cases, missing behaviour). They are appended to the spec
    /// with status `proposed` — without touching people's comments or formatting — and wait for
    /// a person to approve or reject them. You cannot approve. Each scenario is validated first;
    /// any error (duplicate, contradiction, missing `then` or `rationale`) writes nothing.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = false
    ))]
    pub async fn propose_scenarios(
        &self,
        Parameters(args): Parameters<ProposeArgs>,
    ) -> Result<Json<ProposeResult>, ToolError> {
        if args.scenarios.is_empty() {
            return Err("`scenarios` is empty; pass at least one scenario".into());
        }
        // Size, characters and required fields first: nothing below sees a hostile input.
        check_proposals(&args.domain, &args.scenarios, "agent").map_err(|e| e.to_string())?;
        let loaded = self.load()?;
        let checks: Vec<ScenarioCheck> =
            validate_proposals(&loaded.spec, &args.domain, &args.scenarios, "agent")?;
        // File I/O and waiting for the spec tree's lock happen on a blocking thread, so other
        // calls (and `ping`) keep being answered while writers queue.
        let specs = self.project.specs.clone();
        let ProposeArgs {
            domain,
            scenarios,
            file,
        } = args;
        let outcome = tokio::task::spawn_blocking(move || {
            propose(&specs, &domain, &scenarios, file.as_deref(), "agent")
        })
        .await
        .map_err(|e| format!("the write was interrupted ({e}); nothing may have been written, see list_proposals"))?
        .map_err(|e| e.to_string())?;
        let next_step = format!(
            "Wrote {} proposal(s) to {}. Ask the user to review them (a person runs `sdd review`, or edits `status:` in the file); implement only after they are approved.",
            outcome.ids.len(),
            outcome.file
        );
        let budget = Paging::default().char_budget();
        let answer = |checks: Vec<CheckedScenario>| ProposeResult {
            written: outcome.clone(),
            checks,
            next_step: next_step.clone(),
        };
        let checks = shorten_checks(checks, |checks| {
            wire_chars(&answer(checks.to_vec())) <= budget
        });
        Ok(Json(answer(checks)))
    }

    /// List scenarios waiting for a person's review (status `proposed`), with their rationale.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn list_proposals(
        &self,
        Parameters(args): Parameters<ListProposalsArgs>,
    ) -> Result<Json<ProposalList>, ToolError> {
        let loaded = self.load()?;
        let proposals: Vec<Arc<Scenario>> = loaded
            .spec
            .scenarios
            .iter()
            .filter(|s| s.status == ReviewStatus::Proposed)
            .filter(|s| args.domain.as_deref().is_none_or(|d| s.domain == d))
            .cloned()
            .collect();
        Ok(Json(paged(proposals, args.paging, |proposals, page| {
            ProposalList {
            page,
            proposals,
            how_to_review: "Only a person approves or rejects: `sdd review` in a terminal records who and when \
                            (status, reviewed_by, reviewed_at in the spec file). No tool of this server can approve."
                .into(),
        }
        })))
    }

    /// Generate a test file with one test per approved scenario for pytest, cargo, jest, vitest
    /// or go, or a cucumber `.feature` file, one page of scenarios per file (`suggested_path`
    /// names each page's file). Each test's name carries its scenario ID (`test_sdd_<key>`,
    /// `sdd_<key>`, `Test_sdd_<key>`, or `[ID]` in jest/vitest titles; an `@id:` tag on each
    /// cucumber scenario) so results map back to scenarios; Given/When/Then are comments and
    /// every body fails until you implement it (cucumber steps are undefined until you write
    /// their step definitions, and an undefined step never passes).
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn generate_test_suite(
        &self,
        Parameters(args): Parameters<GenerateArgs>,
    ) -> Result<Json<TestSuitePage>, ToolError> {
        let loaded = self.load()?;
        if let Some(domain) = &args.domain {
            if loaded.spec.scenarios_in(domain).next().is_none() {
                return Err(super::query::unknown_domain(&loaded.spec, domain));
            }
        }
        let mut skipped = SkippedCounts::default();
        let mut approved: Vec<&Scenario> = Vec::new();
        for s in loaded
            .spec
            .scenarios
            .iter()
            .filter(|s| args.domain.as_deref().is_none_or(|d| s.domain == d))
        {
            if s.is_duplicate() {
                skipped.duplicate_id += 1;
                continue;
            }
            match s.status {
                ReviewStatus::Approved => approved.push(s),
                ReviewStatus::Proposed => skipped.proposed += 1,
                ReviewStatus::Rejected => skipped.rejected += 1,
                ReviewStatus::ChangedSinceApproval => skipped.changed_since_approval += 1,
            }
        }
        let options = GenerateOptions {
            domain: args.domain.clone(),
            go_package: args.go_package,
        };
        let suite = args.domain.as_deref().unwrap_or("scenarios");
        let framework = args.framework;
        Ok(Json(paged(approved, args.paging, |scenarios, page| {
            let name = match page.offset {
                0 => suite.to_string(),
                from => format!("{suite}_from_{from}"),
            };
            TestSuitePage {
                framework,
                suggested_path: framework.suggested_path(&sdd_spec::ids::slug(&name)),
                tests: scenarios
                    .iter()
                    .map(|s| GeneratedTest {
                        scenario_id: s.id.clone(),
                        test_name: framework.test_name(s),
                    })
                    .collect(),
                skipped,
                code: suite_code(framework, &scenarios, &options),
                page,
            }
        })))
    }
}

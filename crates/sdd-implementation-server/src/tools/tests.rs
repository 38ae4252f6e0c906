//! Running the project's tests and reading the traceability table.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, Json, RoleServer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_history::{HistoryQuery, RunKind, RunRecord, SubjectStatus};
use sdd_mcp::{first, largest_fitting, paged, wire_chars, Page, Paging, ToolError};
use sdd_results::trace::ScenarioVerdict;
use sdd_spec::project::ResultsFormat;
use sdd_verify::testrun::{run_tests, TestRunReport, TestRunRequest};

use super::profile_names;
use crate::ImplServer;

/// Scenarios listed in a run result at most (fewer when the answer would be too large); the
/// full table is one `traceability` call away.
const LISTED_SCENARIOS: usize = 100;
const LISTED_UNMAPPED: usize = 50;
/// Tests for proposed or rejected scenarios listed in a run result.
const LISTED_UNAPPROVED: usize = 20;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NoArguments {}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ProfileInfo {
    pub name: String,
    pub command: String,
    pub workdir: String,
    pub timeout_seconds: u64,
    pub results_format: ResultsFormat,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results_path: Option<String>,
    /// Whether `run_tests` accepts a `filter` for this profile.
    pub accepts_filter: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProfileList {
    pub page: Page,
    pub profiles: Vec<ProfileInfo>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListProfilesArgs {
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RunTestsArgs {
    /// The test profile of sdd.yaml to run (see list_test_profiles). Its command, directory,
    /// environment and timeout come from sdd.yaml.
    pub profile: String,
    /// Run only tests matching this (passed to the runner through the profile's `filter_arg`,
    /// e.g. a pytest `-k` expression or a cargo test name filter). Scenarios without a test in
    /// a filtered run are `not_run`, not `no_test`.
    #[serde(default)]
    pub filter: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct RunTestsResult {
    #[serde(flatten)]
    pub report: TestRunReport,
    /// Scenarios left out of `traceability.scenarios` (passing ones first: the list keeps the
    /// ones that need attention, as many as fit in about 10k tokens); call traceability with
    /// this run_id for the full table.
    pub scenarios_omitted: usize,
    pub unmapped_tests_omitted: usize,
    /// Tests for proposed or rejected scenarios beyond the 20 listed.
    #[serde(default)]
    pub unapproved_tests_omitted: usize,
    /// Tests whose name fits several scenarios beyond the 50 listed in
    /// `traceability.ambiguous_tests`.
    #[serde(default)]
    pub ambiguous_tests_omitted: usize,
    /// Regressions beyond the 20 listed in `regressions`; compare_runs lists them.
    #[serde(default)]
    pub regressions_omitted: usize,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TraceabilityArgs {
    /// A run from the history (see history); default: the latest test run.
    #[serde(default)]
    pub run_id: Option<i64>,
    /// Only scenarios with this verdict: `passing`, `failing`, `skipped`, `no_test`, `not_run`.
    #[serde(default)]
    pub verdict: Option<String>,
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct TraceRow {
    pub scenario_id: String,
    /// The scenario's name in the current spec (absent if it was removed since the run).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub verdict: SubjectStatus,
    /// The first failure's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub tests: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct TraceabilityResult {
    /// The run (its first 20 regressions; `verdict: failing` pages through the failing
    /// scenarios).
    pub run: RunRecord,
    pub page: Page,
    pub scenarios: Vec<TraceRow>,
    /// Tests of this run that map to no scenario (the first 50).
    pub unmapped_tests: Vec<String>,
    /// Tests that map to no scenario, listed or not.
    pub unmapped_tests_total: usize,
}

#[tool_router(router = test_tools, vis = "pub(crate)")]
impl ImplServer {
    /// List the test profiles of sdd.yaml: name, command, working directory, timeout, results
    /// format, and whether a filter is accepted. run_tests takes one of these names.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn list_test_profiles(
        &self,
        Parameters(args): Parameters<ListProfilesArgs>,
    ) -> Result<Json<ProfileList>, ToolError> {
        let file = self.project_file()?;
        let profiles = file
            .tests
            .iter()
            .map(|(name, p)| ProfileInfo {
                name: name.clone(),
                command: p.command.clone(),
                workdir: p.workdir.clone(),
                timeout_seconds: p.timeout_seconds,
                results_format: p.results.format,
                results_path: p.results.path.clone(),
                accepts_filter: p.filter_arg.is_some(),
            })
            .collect();
        Ok(Json(paged(profiles, args.paging, |profiles, page| {
            ProfileList { page, profiles }
        })))
    }

    /// Run a test profile from sdd.yaml and map every result to its scenario: per approved
    /// scenario passing / failing / skipped / no test, failures with their assertion message and
    /// a short output excerpt, tests that map to no scenario, and `regressions` — scenarios that
    /// passed in the previous run of this profile and fail now. The run is killed (its whole
    /// process group) at the profile's timeout, and recorded in the history. Sends progress
    /// notifications while it runs.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn run_tests(
        &self,
        Parameters(args): Parameters<RunTestsArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<RunTestsResult>, ToolError> {
        let file = self.project_file()?;
        let Some(profile) = file.tests.get(&args.profile) else {
            return Err(format!(
                "no test profile `{}` in sdd.yaml; profiles: {}",
                args.profile,
                profile_names(&file)
            ));
        };
        let loaded = self.load_spec(Some(&file))?;
        let history = self.open_history()?;
        let request = TestRunRequest {
            root: &self.state.project.root,
            profile_name: &args.profile,
            profile,
            filter: args.filter.as_deref(),
            spec: &loaded.spec,
            supervisor: &self.state.supervisor,
            history: Some(history),
        };
        let what = format!("running test profile `{}`", args.profile);
        let report = sdd_mcp::with_progress(&context, &what, run_tests(request))
            .await?
            .map_err(|e| e.to_string())?;
        Ok(Json(bound(report)))
    }

    /// The traceability table of a recorded test run (default: the latest): per scenario its
    /// verdict, first failure message and test names, filtered by verdict, one page at a time.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn traceability(
        &self,
        Parameters(args): Parameters<TraceabilityArgs>,
    ) -> Result<Json<TraceabilityResult>, ToolError> {
        if let Some(v) = &args.verdict {
            if ScenarioVerdict::parse(v).is_none() {
                return Err(format!(
                    "unknown verdict `{v}`; use passing, failing, skipped, no_test or not_run"
                ));
            }
        }
        let spec = self.project_file().ok();
        let names: std::collections::HashMap<String, String> = self
            .load_spec(spec.as_ref())
            .map(|l| {
                l.spec
                    .scenarios
                    .iter()
                    .map(|s| (s.id.clone(), s.name.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let (run, results, tests) = self
            .with_history(|h| {
                let run = match args.run_id {
                    Some(id) => h.run(id)?,
                    None => match h
                        .runs(&HistoryQuery {
                            kind: Some(RunKind::Tests),
                            subject: None,
                            limit: 1,
                        })?
                        .into_iter()
                        .next()
                    {
                        Some(run) => run,
                        None => return Ok(None),
                    },
                };
                let results = h.results(run.id)?;
                let tests = h.test_rows(run.id)?;
                Ok(Some((run, results, tests)))
            })?
            .ok_or("no test run recorded yet; call run_tests first")?;
        let mut by_scenario: std::collections::HashMap<String, Vec<String>> = Default::default();
        let mut unmapped = Vec::new();
        for t in tests {
            match t.scenario_id {
                Some(id) => by_scenario.entry(id).or_default().push(t.name),
                None => unmapped.push(t.name),
            }
        }
        let rows: Vec<TraceRow> = results
            .into_values()
            .filter(|r| {
                args.verdict
                    .as_deref()
                    .is_none_or(|v| r.status.as_str() == v)
            })
            .map(|r| TraceRow {
                name: names.get(&r.subject).cloned(),
                tests: by_scenario.remove(&r.subject).unwrap_or_default(),
                scenario_id: r.subject,
                verdict: r.status,
                detail: r.detail,
            })
            .collect();
        let mut run = run;
        super::history::shorten(&mut run);
        let unmapped_tests_total = unmapped.len();
        let (unmapped, _) = first(unmapped, LISTED_UNMAPPED);
        Ok(Json(paged(rows, args.paging, |scenarios, page| {
            TraceabilityResult {
                run: run.clone(),
                page,
                scenarios,
                unmapped_tests: unmapped.clone(),
                unmapped_tests_total,
            }
        })))
    }
}

/// Keep a run result within an agent's context (a default answer: about 10k tokens): the
/// scenarios that need attention first, at most [`LISTED_SCENARIOS`]; output excerpts only
/// once, in `failures`; short lists of regressions, unmapped tests and tests for unapproved
/// scenarios. Then as many failures as fit, then as many scenarios as fit with them.
fn bound(mut report: TestRunReport) -> RunTestsResult {
    let trace = &mut report.traceability;
    let rank = |v: ScenarioVerdict| match v {
        ScenarioVerdict::Failing => 0,
        ScenarioVerdict::Unverified => 1,
        ScenarioVerdict::NoTest => 2,
        ScenarioVerdict::Skipped => 3,
        ScenarioVerdict::NotRun => 4,
        ScenarioVerdict::Passing => 5,
    };
    trace.scenarios.sort_by_key(|s| rank(s.verdict));
    let (mut scenarios, mut scenarios_omitted) =
        first(std::mem::take(&mut trace.scenarios), LISTED_SCENARIOS);
    for scenario in &mut scenarios {
        for test in &mut scenario.tests {
            test.excerpt = None;
        }
    }
    let (unmapped, unmapped_tests_omitted) =
        first(std::mem::take(&mut trace.unmapped_tests), LISTED_UNMAPPED);
    trace.unmapped_tests = unmapped;
    let (unapproved, unapproved_tests_omitted) = first(
        std::mem::take(&mut trace.tests_for_unapproved_scenarios),
        LISTED_UNAPPROVED,
    );
    trace.tests_for_unapproved_scenarios = unapproved;
    let (ambiguous, ambiguous_tests_omitted) =
        first(std::mem::take(&mut trace.ambiguous_tests), LISTED_UNMAPPED);
    trace.ambiguous_tests = ambiguous;
    let (regressions, regressions_omitted) = first(
        std::mem::take(&mut report.regressions),
        super::history::LISTED_REGRESSIONS,
    );
    report.regressions = regressions;
    let mut failures = std::mem::take(&mut report.failures);
    let mut result = RunTestsResult {
        report,
        scenarios_omitted: 0,
        unmapped_tests_omitted,
        unapproved_tests_omitted,
        ambiguous_tests_omitted,
        regressions_omitted,
    };
    let budget = Paging::default().char_budget();
    let size = |result: &mut RunTestsResult,
                failures: &[sdd_verify::testrun::Failure],
                scenarios: &[sdd_results::trace::ScenarioTrace]| {
        result.report.failures = failures.to_vec();
        result.report.traceability.scenarios = scenarios.to_vec();
        wire_chars(&*result)
    };
    let listed_failures = largest_fitting(failures.len(), |n| {
        size(&mut result, &failures[..n], &[]) <= budget
    });
    result.report.more_failures += failures.len() - listed_failures;
    failures.truncate(listed_failures);
    let listed_scenarios = largest_fitting(scenarios.len(), |n| {
        size(&mut result, &failures, &scenarios[..n]) <= budget
    });
    scenarios_omitted += scenarios.len() - listed_scenarios;
    scenarios.truncate(listed_scenarios);
    result.report.failures = failures;
    result.report.traceability.scenarios = scenarios;
    result.scenarios_omitted = scenarios_omitted;
    result
}

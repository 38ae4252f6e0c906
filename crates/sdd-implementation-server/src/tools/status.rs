//! `project_status`: where the project stands, in one call, and what to do next.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::Serialize;

use sdd_history::status::{
    attention, scenario_standing, ApprovedScenario, FailingScenario, RunAttention, ScenarioCounts,
    ScenarioStanding, SCENARIO_RUN_KINDS,
};
use sdd_history::{HistoryQuery, RunKind, RunRecord};
use sdd_mcp::{first, ToolError};
use sdd_spec::document::ReviewStatus;

use super::tests::NoArguments;
use crate::ImplServer;

const LISTED: usize = 10;

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectFileStatus {
    pub found: bool,
    /// Why sdd.yaml cannot be used, if it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    pub test_profiles: Vec<String>,
    pub service_configured: bool,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct SpecCounts {
    pub scenarios: usize,
    pub approved: usize,
    pub proposed: usize,
    pub rejected: usize,
    /// Written `approved` but changed since a person approved them (or approved without a
    /// fingerprint): not counted as approved until reviewed again (the first 10).
    pub changed_since_approval: Vec<String>,
    /// How many scenarios changed since approval, listed or not.
    pub changed_since_approval_total: usize,
    pub constraints: usize,
    pub load_errors: usize,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ProjectStatus {
    pub project_root: String,
    pub spec_root: String,
    pub project_file: ProjectFileStatus,
    pub spec: SpecCounts,
    pub scenarios: ScenarioCounts,
    /// The first 10 failing scenarios (`scenarios.failing` counts them; traceability with
    /// `verdict: failing` lists them all).
    pub failing: Vec<FailingScenario>,
    /// The first 10 unverified scenarios: their tests that were read passed, but the run's
    /// results do not reconcile with the runner's summary (or a test binary crashed); never
    /// counted as passing (`scenarios.unverified` counts them).
    pub unverified: Vec<FailingScenario>,
    /// The latest test runs that are red for a reason no failing scenario explains — failing
    /// tests that map to no scenario, a crashed test binary, results that do not reconcile
    /// with the runner's summary, a timeout, nothing readable — newest first (the first 10).
    pub attention: Vec<RunAttention>,
    /// Scenarios without a test (the first 10; traceability with `verdict: no_test`).
    pub without_tests: Vec<String>,
    /// Regressions flagged by the latest runs (the first 10).
    pub regressions: Vec<String>,
    /// Regressions flagged by the latest runs, listed or not.
    pub regressions_total: usize,
    /// The last 5 runs (each with its first 20 regressions).
    pub last_runs: Vec<RunRecord>,
    /// The service this server started: `not_started`, `running` or `exited`; absent when
    /// sdd.yaml has no service.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub service: Option<String>,
    /// What to do next, most important first.
    pub next_steps: Vec<String>,
}

#[tool_router(router = status_tools, vis = "pub(crate)")]
impl ImplServer {
    /// Where the project stands: the spec (approved / proposed scenarios), scenarios implemented
    /// / passing / failing / unverified / without a test / never checked (across test profiles
    /// the newest run that saw a scenario pass or fail decides; a failure in the executable
    /// examples counts whatever the tests say), test runs that are red for reasons no scenario
    /// explains (`attention`), regressions, the last runs, and what to do next. Call this
    /// first, and after every change.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn project_status(
        &self,
        _args: Parameters<NoArguments>,
    ) -> Result<Json<ProjectStatus>, ToolError> {
        let project = &self.state.project;
        let file = self.project_file();
        let project_file = match &file {
            Ok(f) => ProjectFileStatus {
                found: true,
                problem: None,
                test_profiles: f.tests.keys().cloned().collect(),
                service_configured: f.service.is_some(),
            },
            Err(e) => ProjectFileStatus {
                found: project.root.join(sdd_spec::project::PROJECT_FILE).exists(),
                problem: Some(e.clone()),
                test_profiles: Vec::new(),
                service_configured: false,
            },
        };
        let spec_root = self.specs_dir(file.as_ref().ok())?;
        let mut next_steps = Vec::new();
        if let Err(e) = &file {
            next_steps.push(format!("Fix sdd.yaml: {e}"));
        }
        let loaded = self.load_spec(file.as_ref().ok());
        let mut spec_counts = SpecCounts::default();
        let mut approved: Vec<ApprovedScenario> = Vec::new();
        match &loaded {
            Ok(loaded) => {
                let spec = &loaded.spec;
                spec_counts.scenarios = spec.scenarios.len();
                // By status, one per ID: a duplicate ID (a load error, counted below) would
                // be a second approved scenario that no test can ever speak for.
                for s in spec.unique_scenarios() {
                    match s.status {
                        ReviewStatus::Approved => {
                            spec_counts.approved += 1;
                            approved.push(ApprovedScenario {
                                id: s.id.clone(),
                                name: s.name.clone(),
                            });
                        }
                        ReviewStatus::Proposed => spec_counts.proposed += 1,
                        ReviewStatus::Rejected => spec_counts.rejected += 1,
                        ReviewStatus::ChangedSinceApproval => {
                            spec_counts.changed_since_approval.push(s.id.clone())
                        }
                    }
                }
                spec_counts.constraints = spec.constraints.len();
                spec_counts.load_errors = sdd_spec::diagnostic::count_errors(&loaded.diagnostics);
            }
            Err(e) => next_steps.push(format!("Fix the spec root: {e}")),
        }

        // The latest run of each test profile, and the latest check run, however far back.
        let (latest, last_runs) = self.with_history(|h| {
            let latest = h.latest_statuses(&SCENARIO_RUN_KINDS)?;
            // The listing only informs: a run this SDD cannot read there (a kind a newer SDD
            // added, say) is said in the next steps instead of failing the whole status.
            let last_runs = h.runs(&HistoryQuery {
                kind: None,
                subject: None,
                limit: 5,
            });
            Ok((latest, last_runs))
        })?;
        let last_runs = match last_runs {
            Ok(runs) => runs,
            Err(e) => {
                next_steps.push(format!("The last runs cannot be listed: {e}"));
                Vec::new()
            }
        };
        let ScenarioStanding {
            counts,
            mut failing,
            mut unverified,
            mut without_tests,
            regressions,
        } = scenario_standing(&approved, &latest);
        let mut attention = attention(&latest);

        // What to do next. A red run no scenario explains comes first: until it is fixed, the
        // scenario counts below it are not the whole story.
        for red in attention.iter().take(3) {
            next_steps.push(format!(
                "run_tests profile `{}` (run {}) is red for a reason no failing scenario explains: {}; fix that and run it again",
                red.profile, red.run_id, red.problem
            ));
        }
        if file.is_ok() && project_file.test_profiles.is_empty() {
            next_steps.push("Add a test profile to sdd.yaml (`tests:` with a command and a results format) so run_tests can run your tests".into());
        }
        if spec_counts.load_errors > 0 {
            next_steps.push(format!(
                "The spec has {} error(s); run validate_spec on the specification server",
                spec_counts.load_errors
            ));
        }
        let changed = &spec_counts.changed_since_approval;
        if !changed.is_empty() {
            next_steps.push(format!(
                "Changed since approval — needs a person's review (`sdd review`), not counted as approved: {}",
                some_of(changed)
            ));
        }
        if spec_counts.proposed > 0 {
            next_steps.push(format!(
                "{} proposed scenario(s) wait for a person to review them (`sdd review`); do not implement them before they are approved",
                spec_counts.proposed
            ));
        }
        if !regressions.is_empty() {
            next_steps.push(format!(
                "Regressions — passed before, fail now: {}; compare_runs shows what changed",
                some_of(&regressions)
            ));
        }
        if !failing.is_empty() {
            next_steps.push(format!(
                "Make the failing scenarios pass: {}",
                failing
                    .iter()
                    .take(5)
                    .map(|f| f.scenario_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if !unverified.is_empty() {
            next_steps.push(format!(
                "Unverified — their tests passed but the run's results do not reconcile with the runner's summary (or a test binary crashed), so they are not counted as passing: {}; see the run's problems (history) and run the profile again",
                unverified
                    .iter()
                    .take(5)
                    .map(|f| f.scenario_id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        if counts.no_test > 0 {
            next_steps.push(format!(
                "Write tests for {} approved scenario(s) without one (generate_test_suite on the specification server names them correctly): {}",
                counts.no_test,
                without_tests.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ));
        }
        if latest.iter().all(|l| l.run.kind != RunKind::Tests)
            && !project_file.test_profiles.is_empty()
        {
            next_steps.push(format!(
                "No test run recorded yet: call run_tests with profile `{}`",
                project_file.test_profiles[0]
            ));
        } else if counts.unchecked > 0 {
            next_steps.push(format!(
                "{} approved scenario(s) appear in no run; run all test profiles",
                counts.unchecked
            ));
        }
        if next_steps.is_empty() {
            next_steps.push("Every approved scenario passes. Propose edge cases (analyze_coverage on the specification server) or verify the constraints.".into());
        }
        let service = if project_file.service_configured {
            let mut slot = self.state.service.lock().await;
            Some(
                match slot.current.as_mut().map(|s| s.status().state) {
                    None => "not_started",
                    Some(sdd_exec::service::ServiceState::Running) => "running",
                    Some(_) => "exited",
                }
                .to_string(),
            )
        } else {
            None
        };
        if service.as_deref() == Some("exited") {
            next_steps.insert(
                0,
                "The service exited: read service_logs, fix it, start_service again".into(),
            );
        }
        failing.truncate(LISTED);
        unverified.truncate(LISTED);
        attention.truncate(LISTED);
        without_tests.truncate(LISTED);
        let regressions_total = regressions.len();
        let (regressions, _) = first(regressions, LISTED);
        spec_counts.changed_since_approval_total = spec_counts.changed_since_approval.len();
        spec_counts.changed_since_approval.truncate(LISTED);
        let mut last_runs = last_runs;
        for run in &mut last_runs {
            super::history::shorten(run);
        }
        Ok(Json(ProjectStatus {
            project_root: project.root.display().to_string(),
            spec_root: spec_root.display().to_string(),
            project_file,
            spec: spec_counts,
            scenarios: counts,
            failing,
            unverified,
            attention,
            without_tests,
            regressions,
            regressions_total,
            last_runs,
            service,
            next_steps,
        }))
    }
}

/// The first five of `ids`, and how many more, for a line of `next_steps`.
fn some_of(ids: &[String]) -> String {
    let shown = ids.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    match ids.len().saturating_sub(5) {
        0 => shown,
        more => format!("{shown} and {more} more"),
    }
}

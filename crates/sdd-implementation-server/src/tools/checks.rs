//! `check_scenarios`: the spec's executable examples against the running service.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::service::RequestContext;
use rmcp::{tool, tool_router, Json, RoleServer};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_history::{NewRun, RunKind, SubjectResult};
use sdd_mcp::{paged, Page, Paging, ToolError};
use sdd_verify::examples::{check_examples, CheckReport, CheckVerdict, ServiceClient};
use sdd_verify::record::RunStamp;

use super::service::service_config;
use crate::ImplServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckArgs {
    /// Only these scenario IDs (default: every approved scenario with examples).
    #[serde(default)]
    pub ids: Vec<String>,
    /// Which of the results to list, failing first (every requested scenario is checked
    /// and recorded whatever the page).
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct CheckResult {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    /// `report.scenarios` holds one page of the results, failing first; `report.summary`
    /// counts them all.
    #[serde(flatten)]
    pub report: CheckReport,
    pub page: Page,
    /// Scenarios whose examples passed in the previous check run and fail now.
    pub regressions: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

/// How many valid IDs an unknown-ID error lists.
const LISTED_IDS: usize = 30;

/// Refuse IDs the spec does not have, before anything runs or is recorded: a typo must not
/// come back as a successful run of nothing. The error lists the scenarios that can be checked
/// (approved, with examples).
fn unknown_scenarios(spec: &sdd_spec::model::Spec, ids: &[String]) -> Result<(), ToolError> {
    let unknown: Vec<&str> = ids
        .iter()
        .filter(|id| spec.scenario(id).is_none())
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    let checkable: Vec<&str> = spec
        .scenarios
        .iter()
        .filter(|s| {
            s.status == sdd_spec::document::ReviewStatus::Approved && !s.examples.is_empty()
        })
        .map(|s| s.id.as_str())
        .collect();
    let mut listed = checkable
        .iter()
        .take(LISTED_IDS)
        .copied()
        .collect::<Vec<_>>()
        .join(", ");
    if checkable.len() > LISTED_IDS {
        listed.push_str(&format!(
            " and {} more (get_scenarios on the specification server lists them)",
            checkable.len() - LISTED_IDS
        ));
    }
    Err(format!(
        "no scenario with ID {}; scenarios with executable examples: {}",
        unknown.join(", "),
        if listed.is_empty() {
            "none".to_string()
        } else {
            listed
        }
    ))
}

#[tool_router(router = check_tools, vis = "pub(crate)")]
impl ImplServer {
    /// Run the executable examples of approved scenarios (HTTP requests with expected status,
    /// headers and JSON fields, from the spec) against the running service; per scenario pass /
    /// fail with a compact expected-vs-actual list for each failed step. Verification that does
    /// not depend on tests you wrote. Recorded in the history (kind `checks`), with regressions.
    /// Results are listed failing first, one page at a time (`summary` counts them all).
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = false,
        open_world_hint = true
    ))]
    pub async fn check_scenarios(
        &self,
        Parameters(args): Parameters<CheckArgs>,
        context: RequestContext<RoleServer>,
    ) -> Result<Json<CheckResult>, ToolError> {
        let file = self.project_file()?;
        let config = service_config(&file)?;
        let loaded = self.load_spec(Some(&file))?;
        unknown_scenarios(&loaded.spec, &args.ids)?;
        let mut problems = self.service_ready_for_traffic(config, &file).await?;
        let stamp = RunStamp::now(&self.state.project.root).await;
        let headers: std::collections::BTreeMap<String, String> =
            sdd_verify::auth::client_headers(config, &file.auth)
                .into_iter()
                .collect();
        let target = ServiceClient {
            base_url: &config.base_url,
            headers: &headers,
            allowed_hosts: &sdd_verify::allowed_hosts(&file),
        };
        let report = sdd_mcp::with_progress(
            &context,
            "running executable examples",
            check_examples(&loaded.spec, &args.ids, &target),
        )
        .await?;
        if report.summary.scenarios_checked == 0 {
            problems.push(
                "no approved scenario (of those asked for) has executable examples; add `examples:` to scenarios in the spec".into(),
            );
        }
        let results = report
            .scenarios
            .iter()
            .map(|s| SubjectResult {
                subject: s.scenario_id.clone(),
                status: s.verdict.into(),
                detail: s.first_failure_line(),
            })
            .collect();
        let run = NewRun {
            filter: (!args.ids.is_empty()).then(|| args.ids.join(",")),
            results,
            ..stamp.run(
                RunKind::Checks,
                "examples",
                report.summary.failing == 0 && report.summary.scenarios_checked > 0,
                serde_json::to_value(&report.summary).unwrap_or_default(),
            )
        };
        let (run_id, regressions) = self.record_run(&run, &mut problems);
        let mut report = report;
        let mut scenarios = std::mem::take(&mut report.scenarios);
        // Stable: spec order within failing and within passing.
        scenarios.sort_by_key(|s| s.verdict != CheckVerdict::Failing);
        Ok(Json(paged(scenarios, args.paging, |scenarios, page| {
            CheckResult {
                run_id,
                report: CheckReport {
                    scenarios,
                    ..report.clone()
                },
                page: page.of_a_run(
                    "pass `ids` to check only those, or see one scenario's recorded result with history and `scenario`",
                ),
                regressions: regressions.clone(),
                problems: problems.clone(),
            }
        })))
    }
}

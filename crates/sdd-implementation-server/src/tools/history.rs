//! The run history: listing recorded runs and comparing two of them.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_history::{HistoryQuery, RunComparison, RunKind, RunRecord, SubjectResult};
use sdd_mcp::ToolError;

use crate::ImplServer;

const DEFAULT_RUNS: usize = 20;
const MAX_RUNS: usize = 200;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HistoryArgs {
    /// Only runs of this kind: `tests`, `checks` (executable examples) or `constraints`.
    #[serde(default)]
    pub kind: Option<RunKind>,
    /// Only runs with a result for this scenario (or constraint) ID; each listed run then
    /// carries that scenario's status in it.
    #[serde(default)]
    pub scenario: Option<String>,
    /// At most this many runs, newest first (default 20, max 200).
    #[serde(default)]
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryEntry {
    #[serde(flatten)]
    pub run: RunRecord,
    /// The requested scenario's status in this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_result: Option<SubjectResult>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryResult {
    pub runs: Vec<HistoryEntry>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareRunsArgs {
    /// The earlier run's ID (see history). Default: the run `after` was compared with (the
    /// previous run of the same kind and profile).
    #[serde(default)]
    pub before: Option<i64>,
    /// The later run's ID. Default: the latest run.
    #[serde(default)]
    pub after: Option<i64>,
}

#[tool_router(router = history_tools, vis = "pub(crate)")]
impl ImplServer {
    /// List recorded runs, newest first: kind, profile, time, git commit and dirty flag, counts,
    /// and the regressions each run flagged. Filter by kind or by one scenario to see its
    /// status across runs.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn history(
        &self,
        Parameters(args): Parameters<HistoryArgs>,
    ) -> Result<Json<HistoryResult>, ToolError> {
        let query = HistoryQuery {
            kind: args.kind,
            subject: args.scenario.clone(),
            limit: args.limit.unwrap_or(DEFAULT_RUNS).clamp(1, MAX_RUNS),
        };
        let runs = self.with_history(|h| {
            let mut entries = Vec::new();
            for run in h.runs(&query)? {
                let scenario_result = match &args.scenario {
                    Some(id) => h.result_of(run.id, id)?,
                    None => None,
                };
                entries.push(HistoryEntry {
                    run,
                    scenario_result,
                });
            }
            Ok(entries)
        })?;
        Ok(Json(HistoryResult { runs }))
    }

    /// What changed between two runs: scenarios newly failing (passed before, fail now — each
    /// with its failure message), newly passing, still failing, other changes, and tests that
    /// flipped. Without arguments: the latest run against the one before it.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn compare_runs(
        &self,
        Parameters(args): Parameters<CompareRunsArgs>,
    ) -> Result<Json<RunComparison>, ToolError> {
        let comparison = self.with_history(|h| {
            let after = match args.after {
                Some(id) => h.run(id)?,
                None => match h.latest(None)? {
                    Some(run) => run,
                    None => return Ok(Err("no run recorded yet; call run_tests first".to_string())),
                },
            };
            let before = match args.before.or(after.previous_run) {
                Some(id) => id,
                None => {
                    return Ok(Err(format!(
                        "run {} is the first of its kind and profile; pass `before` to compare it with another run",
                        after.id
                    )))
                }
            };
            Ok(Ok(h.compare(before, after.id)?))
        })??;
        Ok(Json(comparison))
    }
}

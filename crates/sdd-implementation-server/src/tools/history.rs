//! The run history: listing recorded runs and comparing two of them.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_history::{HistoryQuery, RunComparison, RunKind, RunRecord, SubjectResult};
use sdd_mcp::{first, paged, Page, Paging, ToolError};

use crate::ImplServer;

/// A run's regressions listed with it; `compare_runs` (or `traceability` with
/// `verdict: failing`) has them all.
pub(crate) const LISTED_REGRESSIONS: usize = 20;
/// Entries listed per list of a comparison; `traceability` of either run has them all.
const LISTED_CHANGES: usize = 50;

/// Keep a run record short: at most [`LISTED_REGRESSIONS`] regressions; returns how many were
/// left out.
pub(crate) fn shorten(run: &mut RunRecord) -> usize {
    let (kept, omitted) = first(std::mem::take(&mut run.regressions), LISTED_REGRESSIONS);
    run.regressions = kept;
    omitted
}

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
    /// Runs newest first.
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct HistoryEntry {
    #[serde(flatten)]
    pub run: RunRecord,
    /// Regressions of this run beyond the 20 listed in `regressions` (compare_runs with
    /// `after` set to this run lists them).
    #[serde(skip_serializing_if = "is_zero")]
    pub regressions_omitted: usize,
    /// The requested scenario's status in this run.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scenario_result: Option<SubjectResult>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct HistoryResult {
    pub page: Page,
    pub runs: Vec<HistoryEntry>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ComparisonResult {
    #[serde(flatten)]
    pub comparison: RunComparison,
    /// Entries left out of each list (each list holds its first 50); traceability of the
    /// `after` run with a `verdict` filter pages through them.
    pub omitted: ComparisonOmitted,
}

#[derive(Debug, Default, Serialize, JsonSchema)]
pub struct ComparisonOmitted {
    pub newly_failing: usize,
    pub newly_passing: usize,
    pub still_failing: usize,
    pub other_changes: usize,
    pub detail_changes: usize,
    pub newly_failing_tests: usize,
    pub newly_passing_tests: usize,
    /// Regressions of the `before` and `after` runs beyond the 20 listed with each.
    pub regressions: usize,
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
    /// List recorded runs, newest first, one page at a time: kind, profile, time, git commit
    /// and dirty flag, counts, and the regressions each run flagged (the first 20). Filter by
    /// kind or by one scenario to see its status across runs.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn history(
        &self,
        Parameters(args): Parameters<HistoryArgs>,
    ) -> Result<Json<HistoryResult>, ToolError> {
        let query = HistoryQuery {
            kind: args.kind,
            subject: args.scenario.clone(),
            limit: i64::MAX as usize,
        };
        let runs = self.with_history(|h| {
            let runs = h.runs(&query)?;
            // The scenario's status is looked up only for the runs this page can show.
            let window = args.paging.window(runs.len());
            let mut entries = Vec::with_capacity(runs.len());
            for (i, mut run) in runs.into_iter().enumerate() {
                let scenario_result = match &args.scenario {
                    Some(id) if window.contains(&i) => h.result_of(run.id, id)?,
                    _ => None,
                };
                entries.push(HistoryEntry {
                    regressions_omitted: shorten(&mut run),
                    run,
                    scenario_result,
                });
            }
            Ok(entries)
        })?;
        Ok(Json(paged(runs, args.paging, |runs, page| HistoryResult {
            page,
            runs,
        })))
    }

    /// What changed between two runs: scenarios newly failing (passed before, fail now — each
    /// with its failure message), newly passing, still failing, other changes, and tests that
    /// flipped. Without arguments: the latest run against the one before it.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn compare_runs(
        &self,
        Parameters(args): Parameters<CompareRunsArgs>,
    ) -> Result<Json<ComparisonResult>, ToolError> {
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
        Ok(Json(shorten_comparison(comparison)))
    }
}

/// Each list of a comparison at most [`LISTED_CHANGES`] long, and how much was left out.
fn shorten_comparison(mut c: RunComparison) -> ComparisonResult {
    fn cut<T>(list: &mut Vec<T>) -> usize {
        let (kept, omitted) = first(std::mem::take(list), LISTED_CHANGES);
        *list = kept;
        omitted
    }
    let omitted = ComparisonOmitted {
        newly_failing: cut(&mut c.newly_failing),
        newly_passing: cut(&mut c.newly_passing),
        still_failing: cut(&mut c.still_failing),
        other_changes: cut(&mut c.other_changes),
        detail_changes: cut(&mut c.detail_changes),
        newly_failing_tests: cut(&mut c.newly_failing_tests),
        newly_passing_tests: cut(&mut c.newly_passing_tests),
        regressions: shorten(&mut c.before) + shorten(&mut c.after),
    };
    ComparisonResult {
        comparison: c,
        omitted,
    }
}

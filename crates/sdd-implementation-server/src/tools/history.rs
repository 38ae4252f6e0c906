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
    /// `after` set to this run pages through them as `newly_failing`).
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
    /// The same page of every list: entries `offset` to `offset + returned` of each.
    #[serde(flatten)]
    pub comparison: RunComparison,
    /// Every list's length, paged or not.
    pub totals: ComparisonTotals,
    /// Over the longest list.
    pub page: Page,
}

#[derive(Debug, Clone, Copy, Default, Serialize, JsonSchema)]
pub struct ComparisonTotals {
    pub newly_failing: usize,
    pub newly_passing: usize,
    pub still_failing: usize,
    pub other_changes: usize,
    pub detail_changes: usize,
    pub newly_failing_tests: usize,
    pub newly_passing_tests: usize,
    /// Regressions the `before` and `after` runs flagged beyond the 20 listed with each.
    pub regressions_omitted: usize,
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
    /// Pages through every list at once (the same entries of each).
    #[serde(flatten)]
    pub paging: Paging,
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
    /// flipped, one page of each list at a time (`totals` counts them). Without arguments: the
    /// latest run against the one before it.
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
        Ok(Json(page_comparison(comparison, args.paging)))
    }
}

/// The same page of every list of a comparison: the page runs over the longest list.
fn page_comparison(mut c: RunComparison, paging: Paging) -> ComparisonResult {
    let regressions_omitted = shorten(&mut c.before) + shorten(&mut c.after);
    let totals = ComparisonTotals {
        newly_failing: c.newly_failing.len(),
        newly_passing: c.newly_passing.len(),
        still_failing: c.still_failing.len(),
        other_changes: c.other_changes.len(),
        detail_changes: c.detail_changes.len(),
        newly_failing_tests: c.newly_failing_tests.len(),
        newly_passing_tests: c.newly_passing_tests.len(),
        regressions_omitted,
    };
    let longest = [
        totals.newly_failing,
        totals.newly_passing,
        totals.still_failing,
        totals.other_changes,
        totals.detail_changes,
        totals.newly_failing_tests,
        totals.newly_passing_tests,
    ]
    .into_iter()
    .max()
    .unwrap_or(0);
    fn slice<T: Clone>(list: &[T], range: &std::ops::Range<usize>) -> Vec<T> {
        let end = range.end.min(list.len());
        list[range.start.min(end)..end].to_vec()
    }
    let rows: Vec<usize> = (0..longest).collect();
    paged(rows, paging, |rows, page| {
        let range = page.offset..page.offset + rows.len();
        ComparisonResult {
            comparison: RunComparison {
                before: c.before.clone(),
                after: c.after.clone(),
                newly_failing: slice(&c.newly_failing, &range),
                newly_passing: slice(&c.newly_passing, &range),
                still_failing: slice(&c.still_failing, &range),
                other_changes: slice(&c.other_changes, &range),
                detail_changes: slice(&c.detail_changes, &range),
                unchanged: c.unchanged,
                newly_failing_tests: slice(&c.newly_failing_tests, &range),
                newly_passing_tests: slice(&c.newly_passing_tests, &range),
            },
            totals,
            page,
        }
    })
}

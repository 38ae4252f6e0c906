//! The spec's terms: `constraint_headroom` and `scenario_health`.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::{paged, Page, Paging, ToolError};
use sdd_monitoring::headroom::{constraint_headroom, ConstraintHeadroom, Method, Watch};
use sdd_monitoring::health::{scenario_health, Health, ScenarioHealth};
use sdd_monitoring::source::Source;
use sdd_spec::verdict::Verdict;

use super::{budget_window_ms, WindowArgs, WindowUsed};
use super::{is_zero, spec_errors};
use crate::MonitorServer;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeadroomArgs {
    /// Only these constraint IDs (default: every constraint of the spec).
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Violated constraints first, then the rest in spec order.
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HeadroomCounts {
    /// Within their limits.
    pub passing: usize,
    /// Violated.
    pub failing: usize,
    /// Measured, but the numbers cannot decide (histogram resolution, mostly refusals).
    pub inconclusive: usize,
    /// Not measured from metrics (each says why).
    pub unchecked: usize,
    /// Of the passing: judged only in part (the load a latency bound is stated under, a check
    /// only SDD's own traffic can make; each row's `not_judged` says what).
    pub partly_judged: usize,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HeadroomResult {
    /// `ALL WITHIN LIMITS` only when every constraint was measured and is within its limit;
    /// otherwise `VIOLATED — …` or `NO VIOLATION SEEN — …` with what was not measured, or
    /// `NOTHING TO JUDGE — …` when no constraint was asked about.
    pub headline: String,
    /// Where the numbers come from.
    pub source: String,
    #[serde(flatten)]
    pub window: WindowUsed,
    /// Over every constraint asked for, paged or not.
    pub counts: HeadroomCounts,
    pub constraints: Vec<ConstraintHeadroom>,
    /// Errors loading the spec: what they drop is judged by no one (validate_spec lists them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub spec_errors: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub page: Page,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthArgs {
    /// Only these scenario IDs (default: every approved scenario).
    #[serde(default)]
    pub ids: Option<Vec<String>>,
    #[serde(flatten)]
    pub window: WindowArgs,
    /// Failing scenarios first, then the rest in spec order.
    #[serde(flatten)]
    pub paging: Paging,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HealthCounts {
    pub healthy: usize,
    pub partial: usize,
    pub failing: usize,
    pub no_data: usize,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct HealthResult {
    /// `HEALTHY` only when every scenario asked for has data from both sides and no failure;
    /// `NOTHING TO JUDGE — …` when no approved scenario was asked about.
    pub headline: String,
    /// Where the service's outcome counts come from.
    pub source: String,
    /// Where the journeys come from (always the embedded store `sdd monitor` writes).
    pub journeys_source: String,
    #[serde(flatten)]
    pub window: WindowUsed,
    pub counts: HealthCounts,
    pub scenarios: Vec<ScenarioHealth>,
    /// Errors loading the spec: the scenarios they drop are watched by no one.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub spec_errors: usize,
    pub measured_by: Vec<Method>,
    /// Scenario IDs the service counts outcomes for that are not approved scenarios (the
    /// first 20; a note counts the rest).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_scenarios: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub page: Page,
}

/// Unknown scenario IDs one answer shows: a service that labels outcomes with something else
/// than the ID (a path, a user) carries thousands, which must not crowd out the scenarios.
const MAX_UNKNOWN_SHOWN: usize = 20;
/// Characters of one unknown ID shown (a label value may be 64 KiB).
const MAX_UNKNOWN_CHARS: usize = 200;

/// The unknown IDs to show, and a note when some are left out.
fn shown_unknown(unknown: &[String], outcomes_metric: &str) -> (Vec<String>, Option<String>) {
    let shown = unknown
        .iter()
        .take(MAX_UNKNOWN_SHOWN)
        .map(|id| {
            if id.chars().count() > MAX_UNKNOWN_CHARS {
                id.chars().take(MAX_UNKNOWN_CHARS).chain(['…']).collect()
            } else {
                id.clone()
            }
        })
        .collect();
    let note = (unknown.len() > MAX_UNKNOWN_SHOWN).then(|| {
        format!(
            "the service counts outcomes under {} scenario IDs that are not approved scenarios; unknown_scenarios lists the first {MAX_UNKNOWN_SHOWN}, query_metrics with `{outcomes_metric}` pages through all of them",
            unknown.len()
        )
    });
    (shown, note)
}

/// IDs asked for that the spec does not have, as one error naming them.
fn unknown_ids<'a>(
    asked: &Option<Vec<String>>,
    known: impl Iterator<Item = &'a str> + Clone,
    what: &str,
) -> Result<(), ToolError> {
    let Some(asked) = asked else { return Ok(()) };
    let missing: Vec<&str> = asked
        .iter()
        .map(String::as_str)
        .filter(|id| !known.clone().any(|k| k == *id))
        .collect();
    if missing.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "no {what} with ID {}; list_scenarios / get_constraints of the specification server give the IDs",
            missing
                .iter()
                .map(|m| format!("`{m}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// A headline with what the spec's load errors leave out: a file or element that does not load
/// is judged by no one, so no clean headline stands beside them.
fn with_spec_errors(headline: String, spec_errors: usize) -> String {
    if spec_errors == 0 {
        return headline;
    }
    let clean = ["ALL WITHIN LIMITS", "HEALTHY", "NOTHING TO JUDGE", "NO "]
        .iter()
        .any(|word| headline.starts_with(word));
    let said = format!(
        "the spec has {spec_errors} errors (validate_spec lists them), and what does not load is not judged"
    );
    if clean {
        format!("INCOMPLETE — {said}; {headline}")
    } else {
        format!("{headline}; {said}")
    }
}

fn headroom_headline(counts: &HeadroomCounts, rows: &[ConstraintHeadroom]) -> String {
    let total = counts.passing + counts.failing + counts.inconclusive + counts.unchecked;
    if total == 0 {
        // Nothing judged is no evidence: never "all within limits".
        return "NOTHING TO JUDGE — no constraint was asked about: the spec has none, or `ids` named none".into();
    }
    let names = |status: Verdict| {
        let named: Vec<&str> = rows
            .iter()
            .filter(|r| r.status == status)
            .take(5)
            .map(|r| r.constraint.as_str())
            .collect();
        named.join(", ")
    };
    if counts.failing > 0 {
        format!(
            "VIOLATED — {} of {total} constraints violated ({}); {} within limits, {} not decided by metrics",
            counts.failing,
            names(Verdict::Failing),
            counts.passing,
            counts.inconclusive + counts.unchecked
        )
    } else if counts.inconclusive + counts.unchecked + counts.partly_judged > 0 {
        format!(
            "NO VIOLATION SEEN — {} of {total} constraints measured within limits ({} of them only in part); {} inconclusive, {} not measured from metrics (each says why)",
            counts.passing, counts.partly_judged, counts.inconclusive, counts.unchecked
        )
    } else {
        format!("ALL WITHIN LIMITS — {total} constraints measured")
    }
}

fn health_headline(counts: &HealthCounts, rows: &[ScenarioHealth]) -> String {
    let total = counts.healthy + counts.partial + counts.failing + counts.no_data;
    if total == 0 {
        // Nothing judged is no evidence: never "healthy".
        return "NOTHING TO JUDGE — no approved scenario was asked about: the spec has none (`sdd review` approves them), or `ids` named none".into();
    }
    if counts.failing > 0 {
        let named: Vec<&str> = rows
            .iter()
            .filter(|r| r.status == Health::Failing)
            .take(5)
            .map(|r| r.scenario.as_str())
            .collect();
        format!(
            "FAILING — {} of {total} scenarios failed in the window ({}); {} healthy",
            counts.failing,
            named.join(", "),
            counts.healthy
        )
    } else if counts.partial + counts.no_data > 0 {
        format!(
            "NO FAILURE SEEN — {} of {total} scenarios healthy on both sides; {} seen by one side only, {} without data",
            counts.healthy, counts.partial, counts.no_data
        )
    } else {
        format!("HEALTHY — {total} scenarios, both sides, no failure")
    }
}

#[tool_router(router = spec_tools, vis = "pub(crate)")]
impl MonitorServer {
    /// Every constraint of the spec judged on the service's metrics with the verifier's own
    /// verdict functions: current value, limit, headroom, status, and for availability and
    /// error-rate constraints the error budget spent and left. Constraints metrics cannot judge
    /// (security, capacity, …) are listed with why, never skipped. Each row names the PromQL,
    /// window and method behind it.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true))]
    pub async fn constraint_headroom(
        &self,
        Parameters(args): Parameters<HeadroomArgs>,
    ) -> Result<Json<HeadroomResult>, ToolError> {
        let file = self.project_file()?;
        let loaded = self.state.spec.load(&self.state.project, Some(&file))?;
        let spec = &loaded.spec;
        unknown_ids(
            &args.ids,
            spec.constraints.iter().map(|c| c.id.as_str()),
            "constraint",
        )?;
        let spec_errors = spec_errors(&loaded);
        // A mapping under an ID the spec does not have measures nothing: a typo, said.
        let notes: Vec<String> = file
            .monitoring
            .constraints
            .keys()
            .filter(|id| !spec.constraints.iter().any(|c| &c.id == *id))
            .take(20)
            .map(|id| {
                format!("monitoring.constraints.{id} of sdd.yaml names no constraint of the spec (get_constraints lists the IDs)")
            })
            .collect();
        let constraints: Vec<_> = spec
            .constraints
            .iter()
            .filter(|c| args.ids.as_ref().is_none_or(|ids| ids.contains(&c.id)))
            .map(|c| &**c)
            .collect();
        let window = args.window.resolve(&file)?;
        let source = self.source(&file)?;
        let watch = Watch::new(
            &file,
            &source,
            window.at_ms,
            window.window_ms,
            budget_window_ms(&file)?,
        )
        .with_domains(spec.domains.len());
        let mut rows = constraint_headroom(&watch, &constraints)
            .await
            .map_err(|e| e.to_string())?;
        let mut counts = HeadroomCounts::default();
        for row in &rows {
            match row.status {
                Verdict::Passing => {
                    counts.passing += 1;
                    counts.partly_judged += usize::from(!row.not_judged.is_empty());
                }
                Verdict::Failing => counts.failing += 1,
                Verdict::Inconclusive => counts.inconclusive += 1,
                Verdict::Unchecked => counts.unchecked += 1,
            }
        }
        let headline = with_spec_errors(headroom_headline(&counts, &rows), spec_errors);
        rows.sort_by_key(|r| match r.status {
            Verdict::Failing => 0,
            Verdict::Inconclusive => 1,
            Verdict::Passing => 2,
            Verdict::Unchecked => 3,
        });
        let described = source.describe();
        Ok(Json(paged(rows, args.paging, |constraints, page| {
            HeadroomResult {
                headline: headline.clone(),
                source: described.clone(),
                window: window.clone(),
                counts: counts.clone(),
                constraints,
                spec_errors,
                notes: notes.clone(),
                page,
            }
        })))
    }

    /// Each approved scenario's health over a window, from two sides: the service's own
    /// outcome counter (`sdd_scenario_outcomes_total{scenario, outcome}`, counted at its
    /// decision points) and the synthetic journeys `sdd monitor` runs from the scenario's
    /// executable examples (success and latency per run). `healthy` only when both sides have
    /// data and neither saw a failure.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true))]
    pub async fn scenario_health(
        &self,
        Parameters(args): Parameters<HealthArgs>,
    ) -> Result<Json<HealthResult>, ToolError> {
        let file = self.project_file()?;
        let loaded = self.state.spec.load(&self.state.project, Some(&file))?;
        let approved: Vec<_> = loaded.spec.approved_scenarios().collect();
        unknown_ids(
            &args.ids,
            approved.iter().map(|s| s.id.as_str()),
            "approved scenario",
        )?;
        let scenarios: Vec<_> = approved
            .into_iter()
            .filter(|s| args.ids.as_ref().is_none_or(|ids| ids.contains(&s.id)))
            .collect();
        let window = args.window.resolve(&file)?;
        let source = self.source(&file)?;
        let journeys = Source::Embedded(self.state.embedded.clone());
        let watch = Watch::new(
            &file,
            &source,
            window.at_ms,
            window.window_ms,
            budget_window_ms(&file)?,
        );
        let root = self.state.project.root.clone();
        let last_round = sdd_mcp::blocking(|| sdd_monitoring::monitor::last_round(&root));
        let report = scenario_health(&watch, &journeys, last_round.as_ref(), &scenarios)
            .await
            .map_err(|e| e.to_string())?;
        let mut counts = HealthCounts::default();
        for row in &report.rows {
            match row.status {
                Health::Healthy => counts.healthy += 1,
                Health::Partial => counts.partial += 1,
                Health::Failing => counts.failing += 1,
                Health::NoData => counts.no_data += 1,
            }
        }
        let spec_errors_now = spec_errors(&loaded);
        let headline = with_spec_errors(health_headline(&counts, &report.rows), spec_errors_now);
        let mut rows = report.rows;
        rows.sort_by_key(|r| match r.status {
            Health::Failing => 0,
            Health::NoData => 1,
            Health::Partial => 2,
            Health::Healthy => 3,
        });
        let (described, journeys_described) = (source.describe(), journeys.describe());
        let (unknown_scenarios, more_unknown) = shown_unknown(
            &report.unknown_scenarios,
            &file.monitoring.convention.scenario_outcomes,
        );
        let mut notes = report.notes;
        notes.extend(more_unknown);
        Ok(Json(paged(rows, args.paging, |scenarios, page| {
            HealthResult {
                headline: headline.clone(),
                source: described.clone(),
                journeys_source: journeys_described.clone(),
                window: window.clone(),
                counts: counts.clone(),
                scenarios,
                spec_errors: spec_errors_now,
                measured_by: report.measured_by.clone(),
                unknown_scenarios: unknown_scenarios.clone(),
                notes: notes.clone(),
                page,
            }
        })))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_ids_are_capped_in_number_and_length() {
        let few: Vec<String> = vec!["a.b".into(), "x".repeat(500)];
        let (shown, note) = shown_unknown(&few, "outcomes_total");
        assert_eq!(shown[0], "a.b");
        assert_eq!(shown[1].chars().count(), MAX_UNKNOWN_CHARS + 1);
        assert!(shown[1].ends_with('…'));
        assert_eq!(note, None);

        let many: Vec<String> = (0..1000).map(|n| format!("d.s_{n}")).collect();
        let (shown, note) = shown_unknown(&many, "outcomes_total");
        assert_eq!(shown.len(), MAX_UNKNOWN_SHOWN);
        let note = note.expect("the rest is counted");
        assert!(
            note.contains("1000 scenario IDs") && note.contains("`outcomes_total`"),
            "{note}"
        );
    }
}

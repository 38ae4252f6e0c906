//! `what_if`: a proposed spec change judged without writing anything — impact, the headroom
//! of the constraints it adds or changes on today's metrics, and the generated alert rules and
//! dashboard panels it would change.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_debugger::whatif::{
    apply_change, current_sources, diff_panels, diff_rules, headroom_shifts, parse_change,
    AppliedChange, ChangeHints, HeadroomShift, PanelChange, RuleChange,
};
use sdd_mcp::{largest_fitting, wire_chars, SpecSlot, ToolError, DEFAULT_ANSWER_CHARS};
use sdd_monitoring::headroom::Watch;
use sdd_monitoring::rules::{alert_rules, Setting};
use sdd_monitoring::window::{format_duration, parse_duration};
use sdd_spec::analysis::impact::{compare, Impact};
use sdd_spec::model::Spec;
use sdd_spec::{Diagnostic, Severity};

use crate::DebuggerServer;

/// Diagnostics, rule and panel changes listed at most.
const MAX_LISTED: usize = 40;
/// Impact's re-run lists cut at this many (the counts are whole).
const MAX_RERUN_LISTED: usize = 100;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatIfArgs {
    /// The proposed change as YAML: one scenario (`name`, `given`, `when`, `then`, …), one
    /// constraint (`name`, `requirement`, …) — new, or an edit of an existing one when its
    /// `id` (or its name in `domain`) matches — or a whole spec file (`feature:` …, with
    /// `file` to say which file it replaces).
    pub change: String,
    /// The scenario's or constraint's domain (default: the first part of its `id`).
    #[serde(default)]
    pub domain: Option<String>,
    /// A new constraint's category (`performance`, `security`, `reliability`, …; default: the
    /// middle part of its `id`).
    #[serde(default)]
    pub category: Option<String>,
    /// A whole spec file: the file (relative to the spec root) it replaces; default: added as
    /// a new file.
    #[serde(default)]
    pub file: Option<String>,
    /// The window today's metrics are judged over: `30m`, `1h` (default monitoring.window of
    /// sdd.yaml).
    #[serde(default)]
    pub window: Option<String>,
    /// The window's end as RFC 3339 (default: now).
    #[serde(default)]
    pub at: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct WhatIfResult {
    /// What the change would do, in one line. Nothing was written.
    pub headline: String,
    pub applied: AppliedChange,
    /// Errors the would-be spec has (validate_spec's count): a change that adds errors is not
    /// ready to propose.
    pub errors: usize,
    /// Diagnostics of the would-be spec that the current spec does not have.
    pub new_diagnostics: Vec<Diagnostic>,
    /// Impact analysis, current spec → would-be spec (re-run lists cut at 100).
    pub impact: Impact,
    /// Each added or changed constraint judged on today's metrics with the current and the
    /// proposed bound: headroom before and after, and whether it would be violated now.
    pub headroom: Vec<HeadroomShift>,
    /// Where the metrics come from.
    pub metric_source: String,
    pub window: String,
    pub at: String,
    /// Generated alerting and recording rules added, removed or changed (by name and labels).
    pub alerts: Vec<RuleChange>,
    /// Generated dashboard panels added, removed or changed (by row and title).
    pub dashboard: Vec<PanelChange>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

fn errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count()
}

fn all_constraints(spec: &Spec) -> Vec<&sdd_spec::model::Constraint> {
    spec.constraints.iter().map(|c| &**c).collect()
}

/// `items` cut to `max`, the cut said in `notes`.
fn listed<T>(mut items: Vec<T>, max: usize, what: &str, notes: &mut Vec<String>) -> Vec<T> {
    if items.len() > max {
        notes.push(format!(
            "{} {what}; the first {max} are listed",
            items.len()
        ));
        items.truncate(max);
    }
    items
}

#[tool_router(router = whatif_tools, vis = "pub(crate)")]
impl DebuggerServer {
    /// What a proposed spec change would do, without writing anything: the change (one
    /// scenario, one constraint — new or an edit of an existing ID — or a whole spec file, as
    /// YAML) is applied to the spec in memory and validated; the answer gives its impact
    /// (what to re-test and re-verify), for each added or changed constraint today's measured
    /// value against the current and the proposed bound (headroom eaten, "would be violated
    /// now"; `unchecked` with the reason when no metric answers — never a pass), and the
    /// generated alert rules and dashboard panels that would be added, removed or changed.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true))]
    pub async fn what_if(
        &self,
        Parameters(args): Parameters<WhatIfArgs>,
    ) -> Result<Json<WhatIfResult>, ToolError> {
        let file = self.project_file()?;
        let limits = sdd_spec::limits::Limits::from_env().0;
        let change = parse_change(&args.change, &limits)?;
        let window_ms = match &args.window {
            Some(w) => parse_duration(w).map_err(|e| format!("window: {e}"))?,
            None => parse_duration(&file.monitoring.window)
                .map_err(|e| format!("monitoring.window of sdd.yaml: {e}"))?,
        };
        let at_ms = match &args.at {
            Some(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map_err(|e| format!("at: `{text}` is not an RFC 3339 time ({e}); write e.g. 2026-12-01T10:00:00Z"))?
                .timestamp_millis(),
            None => super::now() / 1_000_000,
        };
        let budget_window_ms = parse_duration(&file.monitoring.budget_window)
            .map_err(|e| format!("monitoring.budget_window of sdd.yaml: {e}"))?;
        let loaded = self.state.spec.load(&self.state.project, Some(&file))?;
        let specs = SpecSlot::specs_dir(&self.state.project, Some(&file))?;
        let hints = ChangeHints {
            domain: args.domain.clone(),
            category: args.category.clone(),
            file: args.file.clone(),
        };
        let (old, new, applied) = sdd_mcp::blocking(move || {
            let sources = current_sources(&specs, &loaded.spec, &loaded.diagnostics)?;
            let old = sdd_spec::load_sources(&sources);
            let would_be = apply_change(sources, &old.spec, &change, &hints)?;
            let new = sdd_spec::load_sources(&would_be.sources);
            Ok::<_, String>((old, new, would_be.applied))
        })?;
        if let Some(id) = &applied.id {
            let present = match applied.kind {
                sdd_debugger::whatif::ChangeKind::Scenario => new.spec.scenario(id).is_some(),
                _ => new.spec.constraint(id).is_some(),
            };
            if !present {
                let why: Vec<String> = new
                    .diagnostics
                    .iter()
                    .filter(|d| d.file.as_deref() == Some(applied.file.as_str()))
                    .filter(|d| d.severity == Severity::Error)
                    .take(5)
                    .map(|d| format!("{} ({})", d.message, d.path.as_deref().unwrap_or("")))
                    .collect();
                return Err(format!(
                    "the change does not load as `{id}`: {}",
                    if why.is_empty() {
                        "it was dropped (a duplicate ID?)".to_string()
                    } else {
                        why.join("; ")
                    }
                ));
            }
        }
        let mut notes = Vec::new();
        let known: std::collections::HashSet<(&str, &str)> = old
            .diagnostics
            .iter()
            .map(|d| (d.code.as_str(), d.message.as_str()))
            .collect();
        let new_diagnostics: Vec<Diagnostic> = new
            .diagnostics
            .iter()
            .filter(|d| !known.contains(&(d.code.as_str(), d.message.as_str())))
            .cloned()
            .collect();
        let new_diagnostics = listed(new_diagnostics, MAX_LISTED, "new diagnostics", &mut notes);
        let mut impact = compare(&old.spec, &new.spec);
        // Judged on the whole lists, before they are cut for the answer.
        let touched: Vec<String> = impact
            .constraints
            .added
            .iter()
            .chain(impact.constraints.changed.iter().map(|c| &c.id))
            .take(MAX_LISTED)
            .cloned()
            .collect();
        // The headline's counts are taken before any list is cut.
        let scenarios_total = impact.scenarios.added.len()
            + impact.scenarios.changed.len()
            + impact.scenarios.removed.len();
        let constraints_total = impact.constraints.added.len()
            + impact.constraints.changed.len()
            + impact.constraints.removed.len();
        let (retest_total, reverify_total) =
            (impact.rerun_scenarios.len(), impact.rerun_constraints.len());
        impact.scenarios.changed = listed(
            std::mem::take(&mut impact.scenarios.changed),
            MAX_RERUN_LISTED,
            "scenarios changed",
            &mut notes,
        );
        impact.constraints.changed = listed(
            std::mem::take(&mut impact.constraints.changed),
            MAX_RERUN_LISTED,
            "constraints changed",
            &mut notes,
        );
        for (list, what) in [
            (&mut impact.scenarios.added, "scenarios added"),
            (&mut impact.scenarios.removed, "scenarios removed"),
            (&mut impact.constraints.added, "constraints added"),
            (&mut impact.constraints.removed, "constraints removed"),
            (&mut impact.rerun_scenarios, "scenarios to re-run"),
            (&mut impact.rerun_test_keys, "test keys"),
            (&mut impact.rerun_constraints, "constraints to re-verify"),
        ] {
            let taken = std::mem::take(list);
            *list = listed(taken, MAX_RERUN_LISTED, what, &mut notes);
        }

        let alerts = diff_rules(
            &alert_rules(
                &Setting::new(&file, &old.spec)?,
                &all_constraints(&old.spec),
            ),
            &alert_rules(
                &Setting::new(&file, &new.spec)?,
                &all_constraints(&new.spec),
            ),
        );
        let board = |spec: &Spec| -> Result<_, ToolError> {
            let scenarios: Vec<_> = spec.approved_scenarios().collect();
            // The title is the same on both sides: only panels are compared.
            Ok(sdd_monitoring::dashboard::dashboard(
                &Setting::new(&file, spec)?,
                "what-if",
                &scenarios,
                &all_constraints(spec),
            ))
        };
        let dashboard = diff_panels(&board(&old.spec)?, &board(&new.spec)?);
        let (alerts_total, panels_total) = (alerts.len(), dashboard.len());
        let alerts = listed(alerts, MAX_LISTED, "rule changes", &mut notes);
        let dashboard = listed(dashboard, MAX_LISTED, "panel changes", &mut notes);

        let (headroom, metric_source) =
            match sdd_monitoring::source::from_config(&self.state.embedded, &file) {
                Ok(source) => {
                    let watch = Watch::new(&file, &source, at_ms, window_ms, budget_window_ms)
                        .with_domains(new.spec.domains.len());
                    (
                        headroom_shifts(&watch, &old.spec, &new.spec, &touched).await,
                        source.describe(),
                    )
                }
                Err(e) => {
                    notes.push(format!("no metric source: {e}; no headroom was judged"));
                    (Vec::new(), "none".to_string())
                }
            };
        let violated: Vec<&str> = headroom
            .iter()
            .filter(|h| h.would_be_violated_now)
            .map(|h| h.constraint.as_str())
            .collect();
        let unreached = headroom
            .iter()
            .filter(|h| h.status_after == sdd_spec::verdict::Verdict::Unchecked)
            .count();
        let errors_now = errors(&new.diagnostics);
        let mut headline = format!(
            "WHAT IF ({} {}{}): {} scenarios and {} constraints added, changed or removed; {} to re-test, {} to re-verify; {} rule and {} panel changes",
            applied.action,
            match applied.kind {
                sdd_debugger::whatif::ChangeKind::Scenario => "scenario",
                sdd_debugger::whatif::ChangeKind::Constraint => "constraint",
                sdd_debugger::whatif::ChangeKind::Document => "spec file",
            },
            applied.id.as_deref().map(|id| format!(" `{id}`")).unwrap_or_default(),
            scenarios_total,
            constraints_total,
            retest_total,
            reverify_total,
            alerts_total,
            panels_total,
        );
        if !violated.is_empty() {
            headline.push_str(&format!("; WOULD BE VIOLATED NOW: {}", violated.join(", ")));
        }
        if unreached > 0 {
            headline.push_str(&format!(
                "; {unreached} constraint(s) not reached by the metrics"
            ));
        }
        if errors_now > errors(&old.diagnostics) {
            headline.push_str(&format!(
                "; the would-be spec has {errors_now} errors (see new_diagnostics)"
            ));
        }
        headline.push_str(". Nothing was written.");
        let mut result = WhatIfResult {
            headline,
            applied,
            errors: errors_now,
            new_diagnostics,
            impact,
            headroom,
            metric_source,
            window: format_duration(window_ms),
            at: sdd_debugger::incident::rfc3339(at_ms * 1_000_000),
            alerts,
            dashboard,
            notes,
        };
        // The lists are capped by count; a large file's panels and re-runs still pass one
        // answer: cut the longest kinds first until it fits (the headline's counts are whole).
        let budget = DEFAULT_ANSWER_CHARS - 1_000;
        fit(&mut result, budget, "panel changes", |r| &mut r.dashboard);
        fit(&mut result, budget, "rule changes", |r| &mut r.alerts);
        fit(&mut result, budget, "test keys to re-run", |r| {
            &mut r.impact.rerun_test_keys
        });
        fit(&mut result, budget, "scenarios to re-run", |r| {
            &mut r.impact.rerun_scenarios
        });
        fit(&mut result, budget, "scenarios added", |r| {
            &mut r.impact.scenarios.added
        });
        fit(&mut result, budget, "new diagnostics", |r| {
            &mut r.new_diagnostics
        });
        Ok(Json(result))
    }
}

/// The list `get` picks out of `result`, cut to as many as keep the answer within `budget`
/// characters, the cut said in `notes`.
fn fit<T: Clone + Serialize>(
    result: &mut WhatIfResult,
    budget: usize,
    what: &str,
    get: impl Fn(&mut WhatIfResult) -> &mut Vec<T>,
) {
    if wire_chars(&*result) <= budget {
        return;
    }
    let all = std::mem::take(get(result));
    let total = all.len();
    let keep = largest_fitting(total, |n| {
        *get(result) = all[..n].to_vec();
        wire_chars(&*result) <= budget
    });
    *get(result) = all[..keep].to_vec();
    if keep < total {
        result.notes.push(format!(
            "{total} {what}; the first {keep} are listed to fit the answer"
        ));
    }
}

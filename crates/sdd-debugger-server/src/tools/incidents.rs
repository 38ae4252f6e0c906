//! `analyze_incident`: when did what break, what changed before it, and the hypotheses the
//! evidence favours.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_debugger::collect::{collect, LineKeep};
use sdd_debugger::event::{Nanos, NANOS_PER_SECOND};
use sdd_debugger::gather;
use sdd_debugger::incident::{analyze, Context, Corpus, Options, Report};
use sdd_debugger::patterns::{self, Change as TemplateChange, PatternOptions, PatternRow, Window};
use sdd_debugger::read::ReadReport;
use sdd_mcp::ToolError;

use super::window;
use crate::DebuggerServer;

/// The most hypotheses an answer carries.
pub const MAX_HYPOTHESES: usize = 10;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentArgs {
    /// The incident window's start: RFC 3339 or a duration back from now (`30m`). Without it,
    /// the onset is found as a change point of the scenarios' failure rates, the constraints'
    /// refusal rates and the steps' durations.
    #[serde(default)]
    pub start: Option<String>,
    /// The incident window's end (default: now).
    #[serde(default)]
    pub end: Option<String>,
    /// The baseline to compare with (default: everything read before the incident window).
    #[serde(default)]
    pub baseline_start: Option<String>,
    /// The baseline's end (default: the incident window's start).
    #[serde(default)]
    pub baseline_end: Option<String>,
    /// Read only events since then: RFC 3339 or a duration back from now (`6h`; default: every
    /// event in the sources).
    #[serde(default)]
    pub since: Option<String>,
    /// At most this many hypotheses (default 5, at most 10).
    #[serde(default)]
    pub max_hypotheses: Option<usize>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct IncidentResult {
    #[serde(flatten)]
    pub report: Report,
    /// Each source as read: lines, events, lines skipped (with the first examples and why).
    pub sources: Vec<ReadReport>,
    /// Log templates (event messages and plain-text lines) new in the incident window or
    /// significantly more frequent there than in the baseline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub risen_log_templates: Vec<PatternRow>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[tool_router(router = incident_tools, vis = "pub(crate)")]
impl DebuggerServer {
    /// Analyse an incident from the service's semantic events, logs and metrics: the onset (a
    /// change point, or the window given), which scenarios and constraints got worse and
    /// when, what changed before (versions, commits, runs), metric shifts, attribute values
    /// over-represented among failures, and hypotheses ranked by evidence — each with its
    /// numbers and the events or queries behind it. A change that follows the onset is listed
    /// as a symptom, never ranked as a cause. When nothing stands out above noise, it says so
    /// and claims nothing.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = true))]
    pub async fn analyze_incident(
        &self,
        Parameters(args): Parameters<IncidentArgs>,
    ) -> Result<Json<IncidentResult>, ToolError> {
        self.analysis(args).await.map(Json)
    }
}

impl DebuggerServer {
    /// `analyze_incident`'s work: `record_incident` runs it too for the window it records.
    pub(crate) async fn analysis(&self, args: IncidentArgs) -> Result<IncidentResult, ToolError> {
        let file = self.project_file()?;
        let incident = window("", &args.start, &args.end)
            .map_err(|e| e.replace("_start", "start").replace("_end", "end"))?;
        let baseline = window("baseline", &args.baseline_start, &args.baseline_end)?;
        let since = args
            .since
            .as_deref()
            .map(|s| super::parse_time("since", s).map(sdd_debugger::incident::clamp_time))
            .transpose()?;
        let max_hypotheses = args.max_hypotheses.unwrap_or(5);
        if max_hypotheses == 0 || max_hypotheses > MAX_HYPOTHESES {
            return Err(format!(
                "max_hypotheses: {max_hypotheses} is not between 1 and {MAX_HYPOTHESES}"
            ));
        }
        let root = self.state.project.root.clone();
        let business_keys = file.debugger.business_keys.clone();
        let read_window = since.map(|s| (s, Nanos::MAX));
        let collect_file = file.clone();
        let (corpus, collected, lines) = sdd_mcp::blocking(move || {
            let mut corpus = Corpus::new(&business_keys);
            let mut lines = LineKeep::default();
            let mut texts = LineKeep::default();
            let collected = collect(
                &collect_file,
                &root,
                read_window,
                &mut |e| {
                    lines.event(&e);
                    corpus.add(&e);
                },
                &mut |t| texts.text(t),
            );
            lines.append(texts);
            (corpus, collected, lines)
        });
        let mut notes = collected.problems.clone();
        let mut context = Context::default();
        if let Some((first, last)) = corpus.span() {
            let from = baseline.map(|b| b.0).unwrap_or(first).min(first);
            let to = incident.map(|w| w.1).unwrap_or(last + 1).max(last + 1);
            let lookback = Options::default().lookback;
            // Metric series over the span, if a source answers.
            match sdd_monitoring::source::from_config(&self.state.embedded, &file) {
                Ok(source) => {
                    let step = ((to - from) / 120).max(5 * NANOS_PER_SECOND);
                    let (series, versions, metric_notes) =
                        gather::metric_series(&source, from, to, step).await;
                    context.metrics = series;
                    context.changes.extend(versions);
                    context.not_reached.extend(metric_notes);
                }
                Err(e) => context.not_reached.push(format!("metrics: {e}")),
            }
            match gather::git_changes(&self.state.project.root, from - lookback, to).await {
                Ok(changes) => context.changes.extend(changes),
                Err(e) => context.not_reached.push(format!("git: {e}")),
            }
            let root = self.state.project.root.clone();
            match sdd_mcp::blocking(move || gather::history_changes(&root, from - lookback, to)) {
                Ok(changes) => context.changes.extend(changes),
                Err(e) => context.not_reached.push(format!("run history: {e}")),
            }
        }
        let options = Options {
            window: incident,
            baseline,
            max_hypotheses,
            ..Options::default()
        };
        let (report, corpus) = sdd_mcp::blocking(move || {
            let report = analyze(&corpus, &context, &options);
            (report, corpus)
        });
        drop(corpus);
        // Subjects the spec does not have: the events and the spec disagree, and the answer
        // says so rather than judging a name it cannot trace.
        if let Ok(loaded) = self.state.spec.load(&self.state.project, Some(&file)) {
            for broken in &report.broke {
                let id = broken.subject.split(" / ").next().unwrap_or_default();
                let known = loaded.spec.scenarios.iter().any(|s| s.id == id)
                    || loaded.spec.constraints.iter().any(|c| c.id == id);
                if !known {
                    notes.push(format!(
                        "`{id}` is named by the events but is no scenario or constraint of the spec"
                    ));
                }
            }
        }
        let risen_log_templates = risen_templates(&report, lines).unwrap_or_default();
        Ok(IncidentResult {
            report,
            sources: collected.reads,
            risen_log_templates,
            notes,
        })
    }
}

/// The templates new in the incident window, or significantly more frequent there than in the
/// baseline (at most five).
fn risen_templates(report: &Report, lines: LineKeep) -> Option<Vec<PatternRow>> {
    let parse = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .ok()
            .and_then(|t| t.timestamp_nanos_opt())
    };
    let w = &report.windows;
    let options = PatternOptions {
        baseline: Window {
            start: parse(&w.baseline_start)?,
            end: parse(&w.baseline_end)?,
        },
        current: Window {
            start: parse(&w.incident_start)?,
            end: parse(&w.incident_end)?,
        },
        limit: 5,
        alpha: 0.05,
        miner: Default::default(),
    };
    let result = patterns::log_patterns(lines.iter(), &options).ok()?;
    Some(
        result
            .rows
            .into_iter()
            .filter(|r| {
                r.change == TemplateChange::New
                    || (r.change == TemplateChange::RateChanged && r.current_rate > r.baseline_rate)
            })
            .take(5)
            .collect(),
    )
}

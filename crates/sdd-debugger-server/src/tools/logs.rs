//! `log_patterns`: log templates (Drain), and the ones new, vanished or changed in rate
//! between two windows.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_debugger::collect::{collect, LineKeep};
use sdd_debugger::incident::rfc3339;
use sdd_debugger::patterns::{log_patterns, PatternOptions, PatternReport, Window};
use sdd_debugger::read::ReadReport;
use sdd_mcp::ToolError;

use super::window;
use crate::DebuggerServer;

pub const DEFAULT_TEMPLATES: usize = 20;
pub const MAX_TEMPLATES: usize = 100;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PatternsArgs {
    /// The window to look at: RFC 3339 or a duration back from now (`30m`). Default: the last
    /// quarter of the lines' time span.
    #[serde(default)]
    pub start: Option<String>,
    /// The window's end (default: now).
    #[serde(default)]
    pub end: Option<String>,
    /// The window to compare with (default: everything before `start`).
    #[serde(default)]
    pub baseline_start: Option<String>,
    /// The baseline's end (default: the incident window's start).
    #[serde(default)]
    pub baseline_end: Option<String>,
    /// Templates returned at most (default 20, at most 100): changes first, then by count.
    #[serde(default)]
    pub limit: Option<usize>,
    /// Similarity a line needs to join a template (0 to 1; default 0.4, Drain3's).
    #[serde(default)]
    pub similarity: Option<f64>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct PatternsResult {
    /// `3 new templates, 1 vanished, 2 changed in rate (of 57) between … and …`.
    pub summary: String,
    pub baseline_start: String,
    pub baseline_end: String,
    pub start: String,
    pub end: String,
    #[serde(flatten)]
    pub report: PatternReport,
    pub sources: Vec<ReadReport>,
    /// What the lines are: plain-text lines and the messages of events.
    pub method: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[tool_router(router = log_tools, vis = "pub(crate)")]
impl DebuggerServer {
    /// Mine the logs into templates (a Drain-style miner: `timeout after <*> ms waiting for
    /// shard <*>`), with counts and example lines, and name the templates that are new,
    /// vanished or changed in rate between a baseline window and the window asked about
    /// (the conditional binomial test of two Poisson rates, Benjamini–Hochberg corrected).
    /// Lines are plain-text lines of the sources and the messages of their events.
    #[tool(annotations(read_only_hint = true, idempotent_hint = true, open_world_hint = false))]
    pub async fn log_patterns(
        &self,
        Parameters(args): Parameters<PatternsArgs>,
    ) -> Result<Json<PatternsResult>, ToolError> {
        let file = self.project_file()?;
        let current = window("", &args.start, &args.end)
            .map_err(|e| e.replace("_start", "start").replace("_end", "end"))?;
        let baseline = window("baseline", &args.baseline_start, &args.baseline_end)?;
        let limit = args.limit.unwrap_or(DEFAULT_TEMPLATES);
        if limit == 0 || limit > MAX_TEMPLATES {
            return Err(format!(
                "limit: {limit} is not between 1 and {MAX_TEMPLATES}"
            ));
        }
        let mut miner = sdd_debugger::drain::MinerConfig::default();
        if let Some(s) = args.similarity {
            if !(0.0..=1.0).contains(&s) {
                return Err(format!("similarity: {s} is not between 0 and 1"));
            }
            miner.similarity = s;
        }
        let root = self.state.project.root.clone();
        sdd_mcp::blocking(move || {
            let mut lines = LineKeep::default();
            let collected = {
                let mut on_event = |e: sdd_debugger::event::Event| lines.event(&e);
                // Two closures cannot both borrow `lines` mutably: text lines go through a
                // second keeper and are joined after.
                let mut texts = LineKeep::default();
                let c = collect(&file, &root, None, &mut on_event, &mut |t| texts.text(t));
                lines.append(texts);
                c
            };
            // Lines without a time are mined and counted, but no window can hold them.
            let timed = lines.span();
            let (first, last) = timed.unwrap_or((0, 1));
            let current = current.unwrap_or_else(|| {
                let cut = last - (last - first) / 4;
                (cut, last + 1)
            });
            let baseline = baseline.unwrap_or((first.min(current.0), current.0));
            if baseline.1 <= baseline.0 {
                return Err(format!(
                    "the baseline window is empty: no line is older than {}; give baseline_start and baseline_end",
                    rfc3339(current.0)
                ));
            }
            let options = PatternOptions {
                baseline: Window {
                    start: baseline.0,
                    end: baseline.1,
                },
                current: Window {
                    start: current.0,
                    end: current.1,
                },
                limit,
                alpha: 0.05,
                miner,
            };
            let report = log_patterns(lines.iter(), &options).map_err(|e| e.to_string())?;
            let count = |c| report.rows.iter().filter(|r| r.change == c).count();
            use sdd_debugger::patterns::Change;
            let summary = if timed.is_none() {
                format!(
                    "{} templates over {} lines; no line carries a time, so no window was compared (the counts are the whole files')",
                    report.templates, report.lines
                )
            } else {
                format!(
                "{} new templates, {} vanished, {} changed in rate (of {}) between the baseline {} – {} and {} – {}",
                count(Change::New),
                count(Change::Vanished),
                count(Change::RateChanged),
                report.templates,
                rfc3339(baseline.0),
                rfc3339(baseline.1),
                rfc3339(current.0),
                rfc3339(current.1),
            )
            };
            let mut notes = collected.problems;
            if lines.capped() {
                notes.push(format!(
                    "more than {} lines: the rest were not mined; narrow the sources or the window",
                    sdd_debugger::collect::MAX_KEPT_LINES
                ));
            }
            Ok(PatternsResult {
                summary,
                baseline_start: rfc3339(baseline.0),
                baseline_end: rfc3339(baseline.1),
                start: rfc3339(current.0),
                end: rfc3339(current.1),
                report,
                sources: collected.reads,
                method: "Plain-text lines (a leading timestamp stripped) and event messages, mined by a Drain-style fixed-depth tree (depth 4, similarity 0.4 unless given, numbers, hex, IPs and UUIDs masked); each template's lines counted in both windows; the conditional binomial test of two Poisson rates, Benjamini–Hochberg at 0.05 over the templates with a line in either window.".into(),
                notes,
            })
        })
        .map(Json)
    }
}

//! Files from the spec: `generate_alert_rules` (a Prometheus rule file) and
//! `generate_dashboard` (a Grafana dashboard). Both read the spec and `sdd.yaml` only; with
//! `path` they also write that one file inside the project, and never over a file they did not
//! write themselves.

use rmcp::handler::server::wrapper::Parameters;
use rmcp::{tool, tool_router, Json};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_mcp::{largest_fitting, SpecSlot, ToolError, DEFAULT_ANSWER_CHARS};
use sdd_monitoring::dashboard::{self, dashboard, PanelSummary};
use sdd_monitoring::rules::{self, alert_rules, NotCovered, RuleKind, RuleSummary, Setting};
use sdd_spec::project::ProjectFile;

use super::{is_zero, spec_errors};
use crate::MonitorServer;

/// Rules listed in one answer (the file holds them all).
const MAX_RULES_LISTED: usize = 60;
/// Panels listed in one answer.
const MAX_PANELS_LISTED: usize = 40;
/// Uncovered constraints and limits listed in one answer.
const MAX_NOT_COVERED_LISTED: usize = 40;

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GenerateArgs {
    /// Also write the file here: a path relative to the project root, outside the spec
    /// directory (`monitoring/sdd-alerts.yml`, `monitoring/sdd-dashboard.json`); its
    /// directories are created. A file already there is replaced only if this tool wrote it.
    /// Without `path` nothing is written and the answer carries the file (cut when long).
    #[serde(default)]
    pub path: Option<String>,
}

/// How many rules, and what they watch.
#[derive(Debug, Default, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RuleCounts {
    pub alerts: usize,
    pub recording_rules: usize,
    /// Constraints with at least one alert, of `constraints_total`.
    pub constraints_covered: usize,
    pub constraints_total: usize,
    /// `monitoring.degradation.limits` with early warnings, of `limits_total`.
    pub limits_covered: usize,
    pub limits_total: usize,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct AlertRulesResult {
    /// What the rules watch and what they do not, in one line.
    pub headline: String,
    pub counts: RuleCounts,
    /// The rule file as Prometheus reads it. When the whole file would make the answer too
    /// long it is cut at a line (`yaml_cut`): give `path` to write it whole.
    pub yaml: String,
    /// Characters of the whole file.
    pub yaml_chars: usize,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub yaml_cut: bool,
    /// Where the file was written, relative to the project root (when `path` was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<String>,
    /// What to do with it next.
    pub next: Vec<String>,
    /// Each rule: its kind, name, constraint or limit, severity, `for` and PromQL.
    pub rules: Vec<RuleSummary>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub rules_not_listed: usize,
    /// Constraints (or checks of one) and limits no rule watches, each with why: nothing is
    /// left out silently.
    pub not_covered: Vec<NotCovered>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_covered_not_listed: usize,
    /// Errors loading the spec: what they drop has no rule (validate_spec lists them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub spec_errors: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize, JsonSchema)]
pub struct DashboardResult {
    /// What the dashboard shows and what it does not, in one line.
    pub headline: String,
    /// The dashboard as Grafana imports it (JSON). When it would make the answer too long it
    /// is cut at a line (`dashboard_cut`, and then not valid JSON): give `path` to write it
    /// whole.
    pub dashboard: String,
    /// Characters of the whole dashboard.
    pub dashboard_chars: usize,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub dashboard_cut: bool,
    /// Where the file was written, relative to the project root (when `path` was given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written: Option<String>,
    /// What to do with it next.
    pub next: Vec<String>,
    /// Each panel: its row, title and PromQL.
    pub panels: Vec<PanelSummary>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub panels_not_listed: usize,
    /// Constraints (or checks of one) and limits no panel shows, each with why (the dashboard
    /// lists them too, in its last row).
    pub not_covered: Vec<NotCovered>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub not_covered_not_listed: usize,
    /// Errors loading the spec: what they drop has no panel (validate_spec lists them).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub spec_errors: usize,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// Mappings under `monitoring.constraints` that name no constraint: they watch nothing.
fn unknown_mappings(file: &ProjectFile, spec: &sdd_spec::model::Spec) -> Vec<String> {
    file.monitoring
        .constraints
        .keys()
        .filter(|id| !spec.constraints.iter().any(|c| &c.id == *id))
        .take(20)
        .map(|id| {
            format!("monitoring.constraints.{id} of sdd.yaml names no constraint of the spec (get_constraints lists the IDs)")
        })
        .collect()
}

/// The system's name for the dashboard's title: its domains.
fn system_title(spec: &sdd_spec::model::Spec) -> String {
    let names: Vec<&str> = spec.domains.iter().map(|d| d.name.as_str()).collect();
    match names.len() {
        0 => "spec".into(),
        1..=3 => names.join(", "),
        n => format!("{} and {} more", names[..3].join(", "), n - 3),
    }
}

/// The first `lines` lines of `text`.
fn first_lines(text: &str, lines: usize) -> String {
    text.split_inclusive('\n').take(lines).collect()
}

/// `text` cut at a line so that `answer(text)` stays under the default answer size; the cut
/// text, and whether it was cut.
fn fitting<A: Serialize>(text: &str, answer: impl Fn(String) -> A) -> (String, bool) {
    // What wraps the answer on the wire (the JSON-RPC envelope) takes the rest.
    let budget = DEFAULT_ANSWER_CHARS - 1_000;
    if sdd_mcp::wire_chars(&answer(text.to_string())) <= budget {
        return (text.to_string(), false);
    }
    let lines = text.split_inclusive('\n').count();
    let keep = largest_fitting(lines, |n| {
        sdd_mcp::wire_chars(&answer(first_lines(text, n))) <= budget
    });
    (first_lines(text, keep), true)
}

#[tool_router(router = generate_tools, vis = "pub(crate)")]
impl MonitorServer {
    /// A Prometheus rule file from the spec's constraints and sdd.yaml: multi-window,
    /// multi-burn-rate alerts (SRE workbook / Sloth: page at 14.4× over 1h and 5m and at 6× over
    /// 6h and 30m; ticket at 3× over 1d and 2h and at 1× over 3d and 6h) for availability and
    /// error-rate constraints, over recording rules `sdd:constraint_error_ratio:rate<window>`;
    /// latency-percentile alerts from the request histogram; `predict_linear` early warnings
    /// (4 h ahead) and crossings for `monitoring.degradation.limits`. Every rule is labelled with
    /// its constraint ID (or limit) and severity, and summarised in the spec's words. The series
    /// are those constraint_headroom judges. Returns the YAML, each rule's PromQL, and what no
    /// rule can watch with why. Give `path` to write the file; check it with `promtool check
    /// rules`.
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn generate_alert_rules(
        &self,
        Parameters(args): Parameters<GenerateArgs>,
    ) -> Result<Json<AlertRulesResult>, ToolError> {
        let file = self.project_file()?;
        let loaded = self.state.spec.load(&self.state.project, Some(&file))?;
        let spec = &loaded.spec;
        let setting = Setting::new(&file, spec)?;
        let constraints: Vec<_> = spec.constraints.iter().map(|c| &**c).collect();
        let generated = alert_rules(&setting, &constraints);
        let text = generated.file();
        let summaries = generated.summaries();
        let alerts = summaries
            .iter()
            .filter(|r| r.kind == RuleKind::Alert)
            .count();
        let counts = RuleCounts {
            alerts,
            recording_rules: summaries.len() - alerts,
            constraints_covered: generated.constraints_covered,
            constraints_total: constraints.len(),
            limits_covered: generated.limits_covered,
            limits_total: file.monitoring.degradation.limits.len(),
        };
        let spec_errors = spec_errors(&loaded);
        let mut notes = unknown_mappings(&file, spec);
        if spec_errors > 0 {
            notes.push(format!(
                "the spec has {spec_errors} errors (validate_spec lists them): what does not load has no rule"
            ));
        }
        let headline = if summaries.is_empty() {
            format!(
                "NO RULES — none of the {} constraints and {} limits can be watched from metrics; not_covered says why",
                counts.constraints_total, counts.limits_total
            )
        } else {
            format!(
                "{} alerts ({} recording rules) watch {} of {} constraints and {} of {} resource limits; {} not covered, each with why",
                counts.alerts,
                counts.recording_rules,
                counts.constraints_covered,
                counts.constraints_total,
                counts.limits_covered,
                counts.limits_total,
                generated.not_covered.len()
            )
        };

        let written = match &args.path {
            Some(relative) => {
                let specs = SpecSlot::specs_dir(&self.state.project, Some(&file))?;
                let path = sdd_mcp::generated_target(
                    &self.state.project,
                    &specs,
                    "path",
                    relative,
                    &[".yml", ".yaml"],
                )?;
                sdd_mcp::blocking(|| {
                    sdd_mcp::write_generated(
                        &path,
                        &text,
                        rules::is_generated,
                        "generate_alert_rules",
                        false,
                    )
                })?;
                tracing::info!(path = %path.display(), rules = summaries.len(), "wrote the alert rules");
                Some(self.state.project.display(&path))
            }
            None => None,
        };
        let next = match &written {
            Some(path) => vec![
                format!("promtool check rules {path}"),
                format!("add {path} to rule_files of prometheus.yml, then reload Prometheus (SIGHUP or POST /-/reload)"),
            ],
            None => vec![
                "call again with `path` (e.g. `monitoring/sdd-alerts.yml`) to write the file".into(),
                "then: promtool check rules FILE, and add it to rule_files of prometheus.yml".into(),
            ],
        };
        let (rules_listed, rules_not_listed) = sdd_mcp::first(summaries, MAX_RULES_LISTED);
        let (not_covered, not_covered_not_listed) =
            sdd_mcp::first(generated.not_covered.clone(), MAX_NOT_COVERED_LISTED);
        let answer = |yaml: String| AlertRulesResult {
            headline: headline.clone(),
            counts: counts.clone(),
            yaml_chars: text.chars().count(),
            yaml_cut: yaml.len() < text.len(),
            yaml,
            written: written.clone(),
            next: next.clone(),
            rules: rules_listed.clone(),
            rules_not_listed,
            not_covered: not_covered.clone(),
            not_covered_not_listed,
            spec_errors,
            notes: notes.clone(),
        };
        let (yaml, cut) = fitting(&text, answer);
        let mut result = answer(yaml);
        if cut {
            result.notes.push(format!(
                "the rule file is {} characters, more than an answer holds: `yaml` has its first lines; {}",
                result.yaml_chars,
                if written.is_some() {
                    "the file written holds it all"
                } else {
                    "call again with `path` to write it whole"
                }
            ));
        }
        Ok(Json(result))
    }

    /// A Grafana dashboard (JSON, schemaVersion 39) from the approved spec and sdd.yaml, with a
    /// templated Prometheus data source (`${datasource}`): one row per approved scenario (its
    /// outcomes from `sdd_scenario_outcomes_total` by outcome, its success share beside the
    /// synthetic journeys', the journeys' duration) and one per constraint metrics measure (its
    /// value against its limit, a threshold line), the resource limits of sdd.yaml, and a last
    /// row naming what it cannot show and why. Every range is `$__rate_interval`. Returns the
    /// JSON, each panel's PromQL and what is not shown. Give `path` to write it; import it in
    /// Grafana (Dashboards → New → Import).
    #[tool(annotations(
        read_only_hint = false,
        destructive_hint = false,
        idempotent_hint = true,
        open_world_hint = false
    ))]
    pub async fn generate_dashboard(
        &self,
        Parameters(args): Parameters<GenerateArgs>,
    ) -> Result<Json<DashboardResult>, ToolError> {
        let file = self.project_file()?;
        let loaded = self.state.spec.load(&self.state.project, Some(&file))?;
        let spec = &loaded.spec;
        let setting = Setting::new(&file, spec)?;
        let scenarios: Vec<_> = spec.approved_scenarios().collect();
        let constraints: Vec<_> = spec.constraints.iter().map(|c| &**c).collect();
        let board = dashboard(&setting, &system_title(spec), &scenarios, &constraints);
        let text = board.to_json();
        let rows = |prefix: &str| {
            let mut titles: Vec<&str> = board
                .panels
                .iter()
                .filter(|p| p.row.starts_with(prefix))
                .map(|p| p.row.as_str())
                .collect();
            titles.dedup();
            titles.len()
        };
        let spec_errors = spec_errors(&loaded);
        let mut notes = unknown_mappings(&file, spec);
        if spec_errors > 0 {
            notes.push(format!(
                "the spec has {spec_errors} errors (validate_spec lists them): what does not load has no panel"
            ));
        }
        if !scenarios.is_empty() {
            notes.push(
                "the journeys' series (sdd_journey_success, sdd_journey_duration_seconds) are recorded by `sdd monitor` in its embedded store; their panels fill only when those series reach the dashboard's Prometheus"
                    .into(),
            );
        }
        let headline = format!(
            "{} panels: {} scenario rows of {} approved scenarios, {} constraint rows of {} constraints, {} resource limits; {} not shown, each with why",
            board.panels.len(),
            rows("Scenario: "),
            scenarios.len(),
            rows("Constraint: "),
            constraints.len(),
            board.panels.iter().filter(|p| p.row == "Resource limits").count(),
            board.not_covered.len()
        );
        let written = match &args.path {
            Some(relative) => {
                let specs = SpecSlot::specs_dir(&self.state.project, Some(&file))?;
                let path = sdd_mcp::generated_target(
                    &self.state.project,
                    &specs,
                    "path",
                    relative,
                    &[".json"],
                )?;
                sdd_mcp::blocking(|| {
                    sdd_mcp::write_generated(
                        &path,
                        &text,
                        dashboard::is_generated,
                        "generate_dashboard",
                        false,
                    )
                })?;
                tracing::info!(path = %path.display(), panels = board.panels.len(), "wrote the dashboard");
                Some(self.state.project.display(&path))
            }
            None => None,
        };
        let next = match &written {
            Some(path) => vec![format!(
                "Grafana: Dashboards → New → Import, upload {path}, choose the Prometheus data source (or provision the file)"
            )],
            None => vec![
                "call again with `path` (e.g. `monitoring/sdd-dashboard.json`) to write the file, then import it in Grafana (Dashboards → New → Import)".into(),
            ],
        };
        let (panels, panels_not_listed) = sdd_mcp::first(board.panels.clone(), MAX_PANELS_LISTED);
        let (not_covered, not_covered_not_listed) =
            sdd_mcp::first(board.not_covered.clone(), MAX_NOT_COVERED_LISTED);
        let answer = |json: String| DashboardResult {
            headline: headline.clone(),
            dashboard_chars: text.chars().count(),
            dashboard_cut: json.len() < text.len(),
            dashboard: json,
            written: written.clone(),
            next: next.clone(),
            panels: panels.clone(),
            panels_not_listed,
            not_covered: not_covered.clone(),
            not_covered_not_listed,
            spec_errors,
            notes: notes.clone(),
        };
        let (json, cut) = fitting(&text, answer);
        let mut result = answer(json);
        if cut {
            result.notes.push(format!(
                "the dashboard is {} characters, more than an answer holds: `dashboard` has its first lines (not valid JSON on its own); {}",
                result.dashboard_chars,
                if written.is_some() {
                    "the file written holds it all"
                } else {
                    "call again with `path` to write it whole"
                }
            ));
        }
        Ok(Json(result))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn only_files_this_tool_wrote_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/rules.yml");
        let ours = format!("{}\ngroups: []\n", rules::GENERATED_BY);
        sdd_mcp::write_generated(
            &path,
            &ours,
            rules::is_generated,
            "generate_alert_rules",
            false,
        )
        .unwrap();
        sdd_mcp::write_generated(
            &path,
            &ours,
            rules::is_generated,
            "generate_alert_rules",
            false,
        )
        .unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), ours);
        let theirs = dir.path().join("prometheus.yml");
        std::fs::write(&theirs, "global: {}\n").unwrap();
        let err = sdd_mcp::write_generated(
            &theirs,
            &ours,
            rules::is_generated,
            "generate_alert_rules",
            false,
        )
        .unwrap_err();
        assert!(err.contains("not written by generate_alert_rules"), "{err}");
        assert_eq!(std::fs::read_to_string(&theirs).unwrap(), "global: {}\n");
        let err = sdd_mcp::write_generated(
            dir.path(),
            &ours,
            rules::is_generated,
            "generate_alert_rules",
            false,
        )
        .unwrap_err();
        assert!(err.contains("not a regular file"), "{err}");
        let names: Vec<_> = std::fs::read_dir(dir.path().join("a/b"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["rules.yml"]);
    }

    #[test]
    fn long_files_are_cut_at_a_line_to_fit_the_answer() {
        let text: String = (0..5000).map(|i| format!("line {i}\n")).collect();
        #[derive(Serialize)]
        struct Answer {
            text: String,
        }
        let (cut, was_cut) = fitting(&text, |text| Answer { text });
        assert!(was_cut);
        assert!(cut.ends_with('\n') && text.starts_with(&cut));
        assert!(sdd_mcp::wire_chars(&Answer { text: cut }) <= DEFAULT_ANSWER_CHARS);
        let (whole, was_cut) = fitting("short\n", |text| Answer { text });
        assert!(!was_cut && whole == "short\n");
    }
}

//! `sdd status`: the service against the spec right now, as the monitoring server sees it —
//! one line per approved scenario (`scenario_health`) and one per constraint
//! (`constraint_headroom`), each list read to its last page. The server runs in this process
//! over a pipe, as for `sdd verify`; this module also holds the client side `sdd report`
//! uses for its monitoring sections (the answers' types, paging, the spec's check kinds).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::ExitCode;

use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use sdd_monitoring::explore::{ConstraintMapping, SeriesSummary};
pub use sdd_monitoring::headroom::{ConstraintHeadroom, ErrorBudget};
pub use sdd_monitoring::health::{Health, JourneyOutcomes, ScenarioHealth, ServiceOutcomes};
pub use sdd_monitoring_server::DegradationResult;
use sdd_spec::constraint::CheckSpec;
use sdd_spec::verdict::Verdict;

use crate::cli::{Format, StatusArgs};
use crate::session::{self, Server, Session};
use crate::table::Table;
use crate::{say, shown};

// The rows are the monitoring library's own types (a renamed field is a compile error here);
// the answers below are a whole list read page by page, so they carry no `page`.

/// `scenario_health`, every page.
#[derive(Debug, Deserialize)]
pub struct HealthAnswer {
    pub headline: String,
    pub source: String,
    pub journeys_source: String,
    pub window: String,
    pub at: String,
    pub scenarios: Vec<ScenarioHealth>,
    #[serde(default)]
    pub unknown_scenarios: Vec<String>,
    #[serde(default)]
    pub notes: Vec<String>,
}

/// `constraint_headroom`, every page.
#[derive(Debug, Deserialize)]
pub struct HeadroomAnswer {
    pub headline: String,
    pub source: String,
    pub window: String,
    pub at: String,
    pub constraints: Vec<ConstraintHeadroom>,
}

#[derive(Debug, Deserialize)]
struct MetricsList {
    constraints: Vec<ConstraintMapping>,
}

/// One series of a `query_metrics` answer with its steps.
#[derive(Debug)]
pub struct SeriesSteps {
    pub labels: BTreeMap<String, String>,
    pub steps: Vec<(i64, f64)>,
}

#[derive(Debug, Deserialize)]
struct QueryAnswer {
    series: Vec<SeriesSummary>,
}

/// A session with the monitoring server, every question about one window ending at one
/// instant (pinned, so that the pages of a list and the two lists agree).
pub struct Monitoring {
    session: Session,
    /// RFC 3339.
    pub at: String,
    /// `None`: monitoring.window of sdd.yaml.
    window: Option<String>,
}

impl Monitoring {
    pub async fn open(root: &Path, window: Option<String>) -> Result<Monitoring, String> {
        let session = Session::open(Server::Monitoring, session::project(root, None)?).await?;
        Ok(Monitoring {
            session,
            at: sdd_spec::review::now_rfc3339(),
            window,
        })
    }

    pub async fn close(self) {
        self.session.close().await;
    }

    fn window_arguments(&self) -> Map<String, Value> {
        let mut arguments = Map::new();
        arguments.insert("at".into(), json!(self.at));
        if let Some(window) = &self.window {
            arguments.insert("window".into(), json!(window));
        }
        arguments
    }

    /// Every approved scenario's health: the typed answer and the answer as sent (all pages).
    pub async fn health(&self) -> Result<(HealthAnswer, Value), String> {
        let tool = "scenario_health";
        let answer =
            all_pages(&self.session, tool, self.window_arguments(), &["scenarios"]).await?;
        Ok((typed(tool, &answer)?, answer))
    }

    /// Every constraint's headroom: the typed answer and the answer as sent (all pages).
    pub async fn headroom(&self) -> Result<(HeadroomAnswer, Value), String> {
        let tool = "constraint_headroom";
        let answer = all_pages(
            &self.session,
            tool,
            self.window_arguments(),
            &["constraints"],
        )
        .await?;
        Ok((typed(tool, &answer)?, answer))
    }

    /// Where each constraint's trend takes it (`detect_degradation`'s outlook: the time to
    /// violation at 7, 30 and 90 days), over monitoring.degradation.window ending at the
    /// same instant.
    pub async fn outlook(&self) -> Result<DegradationResult, String> {
        let arguments = json!({"at": self.at, "limit": 1});
        self.session.call_as("detect_degradation", arguments).await
    }

    /// The series selectors measuring each constraint (`list_metrics`), by constraint ID.
    pub async fn constraint_series(&self) -> Result<HashMap<String, Vec<String>>, String> {
        let tool = "list_metrics";
        let answer =
            all_pages(&self.session, tool, Map::new(), &["metrics", "constraints"]).await?;
        let list: MetricsList = typed(tool, &answer)?;
        Ok(list
            .constraints
            .into_iter()
            .filter(|m| !m.series.is_empty())
            .map(|m| (m.constraint, m.series))
            .collect())
    }

    /// Every series `selector` selects, at `points` evenly spaced steps over the window.
    pub async fn steps(&self, selector: &str, points: usize) -> Result<Vec<SeriesSteps>, String> {
        let tool = "query_metrics";
        let mut arguments = self.window_arguments();
        arguments.insert("selector".into(), json!(selector));
        arguments.insert("points".into(), json!(points));
        let answer = all_pages(&self.session, tool, arguments, &["series"]).await?;
        Ok(typed::<QueryAnswer>(tool, &answer)?
            .series
            .into_iter()
            .map(|s| SeriesSteps {
                labels: s.labels,
                steps: s.steps.unwrap_or_default(),
            })
            .collect())
    }
}

fn typed<T: DeserializeOwned>(tool: &str, answer: &Value) -> Result<T, String> {
    T::deserialize(answer)
        .map_err(|e| format!("{tool} answered in a form this sdd cannot read: {e}"))
}

/// Call a paged tool with the largest page until `page.next_offset` is absent; the answer is
/// the first page's with each of `lists` holding the items of every page, and no `page`.
async fn all_pages(
    session: &Session,
    tool: &str,
    mut arguments: Map<String, Value>,
    lists: &[&str],
) -> Result<Value, String> {
    let mut merged: Option<Map<String, Value>> = None;
    let mut offset = 0usize;
    let mut total = None;
    loop {
        arguments.insert("limit".into(), json!(sdd_mcp::MAX_PAGE));
        arguments.insert("offset".into(), json!(offset));
        let Value::Object(mut answer) =
            session.call(tool, Value::Object(arguments.clone())).await?
        else {
            return Err(format!(
                "{tool} answered with something other than an object"
            ));
        };
        let page = answer
            .remove("page")
            .ok_or_else(|| format!("{tool} answered without `page`"))?;
        total.get_or_insert(page.get("total").and_then(Value::as_u64));
        let next = page.get("next_offset").and_then(Value::as_u64);
        match &mut merged {
            None => merged = Some(answer),
            Some(all) => {
                for key in lists {
                    let items = match answer.remove(*key) {
                        Some(Value::Array(items)) => items,
                        _ => continue,
                    };
                    match all.get_mut(*key) {
                        Some(Value::Array(kept)) => kept.extend(items),
                        _ => {
                            all.insert(key.to_string(), Value::Array(items));
                        }
                    }
                }
            }
        }
        match next {
            None => break,
            Some(next) if next as usize > offset => offset = next as usize,
            Some(next) => {
                return Err(format!(
                    "{tool}: page.next_offset {next} does not move past offset {offset}"
                ))
            }
        }
    }
    let merged = merged.unwrap_or_default();
    // One list: the pages must add up to the total the first one announced.
    if let ([key], Some(Some(total))) = (lists, total) {
        let read = merged
            .get(*key)
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        if read as u64 != total {
            return Err(format!(
                "{tool}: read {read} of the {total} items its first page announced; run again"
            ));
        }
    }
    Ok(Value::Object(merged))
}

/// What a constraint's value is, from its first check with a meaning in production metrics
/// (the monitoring server judges by the same rule).
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    Latency { percentile: f64 },
    ErrorRate { counted_4xx: Vec<u16> },
    Availability,
}

/// Each constraint's [`Measure`], from the spec `sdd.yaml` names (empty when it does not load:
/// the answers are then shown without the words it adds).
pub fn measures(root: &Path) -> HashMap<String, Measure> {
    let specs = sdd_spec::project::load_project_file(root)
        .map(|file| root.join(file.specs))
        .unwrap_or_else(|_| root.join("specs"));
    let Ok(loaded) = sdd_spec::load_dir(&specs) else {
        return HashMap::new();
    };
    loaded
        .spec
        .constraints
        .iter()
        .filter_map(|c| {
            let measure = c.parsed.checks.iter().find_map(|check| match check {
                CheckSpec::Latency { percentile, .. } => Some(Measure::Latency {
                    percentile: *percentile,
                }),
                CheckSpec::ErrorRate { counted_4xx, .. } => Some(Measure::ErrorRate {
                    counted_4xx: counted_4xx.clone(),
                }),
                CheckSpec::Availability { .. } => Some(Measure::Availability),
                _ => None,
            })?;
            Some((c.id.clone(), measure))
        })
        .collect()
}

/// A number in its unit's precision: `9.75`, `120`, `99.950`.
pub fn number(value: f64, unit: Option<&str>) -> String {
    match unit {
        Some("ms") if value.abs() < 10.0 => format!("{value:.2}"),
        Some("ms") if value.abs() < 100.0 => format!("{value:.1}"),
        Some("ms") => format!("{value:.0}"),
        Some("%") if value >= 99.0 => format!("{value:.3}"),
        Some("%") => format!("{value:.2}"),
        _ => {
            let text = format!("{value:.3}");
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        }
    }
}

fn with_unit(value: f64, unit: Option<&str>) -> String {
    match unit {
        Some(unit) => format!("{} {unit}", number(value, Some(unit))),
        None => number(value, None),
    }
}

/// `p95 9.75 ms`, `0.20 % errors`, `99.950 %`; `-` when not measured.
pub fn value_text(row: &ConstraintHeadroom, measure: Option<&Measure>) -> String {
    let Some(value) = row.value else {
        return "-".into();
    };
    let unit = row.unit.as_deref();
    match measure {
        Some(Measure::Latency { percentile }) => {
            format!(
                "{} {}",
                sdd_spec::verdict::format_percentile(*percentile),
                with_unit(value, unit)
            )
        }
        Some(Measure::ErrorRate { .. }) => format!("{} errors", with_unit(value, unit)),
        _ => with_unit(value, unit),
    }
}

/// `max 100 ms` for a ceiling, `min 99.9 %` for a floor; `-` without a limit.
pub fn limit_text(row: &ConstraintHeadroom, measure: Option<&Measure>) -> String {
    let Some(limit) = row.limit else {
        return "-".into();
    };
    let unit = row.unit.as_deref();
    let shown = match unit {
        // The limit as the spec writes it, not padded to the value's precision.
        Some(unit) => format!("{} {unit}", number(limit, None)),
        None => number(limit, None),
    };
    match measure {
        Some(Measure::Availability) => format!("min {shown}"),
        Some(_) => format!("max {shown}"),
        None => format!("limit {shown}"),
    }
}

pub fn headroom_text(row: &ConstraintHeadroom) -> String {
    match row.headroom_percent {
        Some(h) if h.abs() < 10.0 => format!("{h:.1} %"),
        Some(h) => format!("{h:.0} %"),
        None => "-".into(),
    }
}

/// `100 % left (30d)`, or that the constraint allows no failure at all; `-` without a budget.
pub fn budget_text(row: &ConstraintHeadroom) -> String {
    match &row.error_budget {
        Some(ErrorBudget {
            left_percent: Some(left),
            window,
            ..
        }) => format!("{left:.0} % left ({window})"),
        Some(b) => format!("none allowed, {} failed ({})", b.failures.round(), b.window),
        None => "-".into(),
    }
}

/// Why a constraint is not measured, in a few words: the server's prefix and parentheses
/// dropped, the first clause kept, at most 90 characters.
pub fn short_reason(why: &str) -> String {
    let mut text = why;
    for prefix in ["not measured from metrics: ", "not measured: "] {
        text = text.strip_prefix(prefix).unwrap_or(text);
    }
    let text = text.split("; ").next().unwrap_or(text);
    let mut out = String::new();
    let mut depth = 0usize;
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' if depth > 0 => depth -= 1,
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    let out = out.split_whitespace().collect::<Vec<_>>().join(" ");
    const MAX: usize = 90;
    if out.chars().count() <= MAX {
        return out;
    }
    let cut: String = out.chars().take(MAX).collect();
    let cut = cut.rsplit_once(' ').map_or(cut.as_str(), |(head, _)| head);
    format!("{cut}…")
}

/// The service's side of a scenario: `99.5 % of 242`.
pub fn service_text(s: Option<&ServiceOutcomes>) -> String {
    match s {
        Some(s) => format!(
            "{:.1} % of {}",
            s.success_percent,
            (s.successes + s.failures).round()
        ),
        None => "-".into(),
    }
}

/// The journeys' side: `30/31 passed, the last failed`.
pub fn journeys_text(j: Option<&JourneyOutcomes>) -> String {
    match j {
        Some(j) => format!(
            "{}/{} passed{}",
            j.runs - j.failures.min(j.runs),
            j.runs,
            if j.last_passed {
                ""
            } else {
                ", the last failed"
            }
        ),
        None => "-".into(),
    }
}

/// What to say after a scenario's numbers: its last failure line, else for anything not
/// healthy the server's summary (where the failures were counted, which side has no data).
pub fn scenario_detail(row: &ScenarioHealth) -> String {
    match (&row.last_failure, row.status) {
        (Some(line), _) => format!("last failure: {line}"),
        (None, Health::Healthy) => String::new(),
        (None, _) => row.summary.clone(),
    }
}

/// Failing scenarios or violated constraints.
fn failed(health: &HealthAnswer, headroom: &HeadroomAnswer) -> bool {
    health.scenarios.iter().any(|s| s.status == Health::Failing)
        || headroom
            .constraints
            .iter()
            .any(|c| c.status == Verdict::Failing)
}

pub async fn run(args: &StatusArgs) -> Result<ExitCode, String> {
    let root = args.project.root()?;
    let monitoring = Monitoring::open(&root, args.window.clone()).await?;
    let answers = async {
        let health = monitoring.health().await?;
        let headroom = monitoring.headroom().await?;
        Ok::<_, String>((health, headroom))
    }
    .await;
    monitoring.close().await;
    let ((health, health_json), (headroom, headroom_json)) = answers?;
    match args.format {
        Format::Json => {
            let both = json!({
                "scenario_health": health_json,
                "constraint_headroom": headroom_json,
            });
            say(&format!(
                "{}\n",
                serde_json::to_string_pretty(&both).map_err(|e| e.to_string())?
            ));
        }
        Format::Text => say(&render(&root, &health, &headroom, &measures(&root))),
    }
    Ok(if failed(&health, &headroom) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

fn render(
    root: &Path,
    health: &HealthAnswer,
    headroom: &HeadroomAnswer,
    measures: &HashMap<String, Measure>,
) -> String {
    let mut out = String::new();
    let mut line = |text: String| {
        out.push_str(&text);
        out.push('\n');
    };
    line(format!(
        "sdd status {} — the last {} to {}",
        shown(root),
        headroom.window,
        headroom.at
    ));
    line(format!("  service metrics: {}", headroom.source));
    if health.journeys_source != headroom.source {
        line(format!("  journeys: {}", health.journeys_source));
    }

    line(String::new());
    line(format!("scenarios: {}", health.headline));
    if !health.scenarios.is_empty() {
        let mut table = Table::new(&["scenario", "health", "service", "journeys", "detail"]);
        for s in &health.scenarios {
            let word = match s.status {
                Health::Failing => "FAILING".to_string(),
                other => other.word().to_string(),
            };
            table.row(vec![
                s.scenario.clone(),
                word,
                service_text(s.service.as_ref()),
                journeys_text(s.journeys.as_ref()),
                scenario_detail(s),
            ]);
        }
        out_push(&mut line, table.render());
    }
    for note in &health.notes {
        line(format!("  note: {note}"));
    }
    if !health.unknown_scenarios.is_empty() {
        line(format!(
            "  the service counts outcomes for IDs that are no approved scenario: {}",
            health.unknown_scenarios.join(", ")
        ));
    }

    line(String::new());
    line(format!("constraints: {}", headroom.headline));
    let (measured, unmeasured): (Vec<_>, Vec<_>) = headroom
        .constraints
        .iter()
        .partition(|c| c.status != Verdict::Unchecked);
    if !measured.is_empty() {
        let mut table = Table::new(&[
            "constraint",
            "status",
            "value",
            "limit",
            "headroom",
            "error budget",
        ]);
        for c in &measured {
            let measure = measures.get(&c.constraint);
            table.row(vec![
                c.constraint.clone(),
                match c.status {
                    Verdict::Passing => "within limit".into(),
                    Verdict::Failing => "VIOLATED".into(),
                    other => other.as_str().into(),
                },
                value_text(c, measure),
                limit_text(c, measure),
                headroom_text(c),
                budget_text(c),
            ]);
        }
        out_push(&mut line, table.render());
        // Why each that is not within its limit is not, in the server's words (a latency
        // constraint also fails on the 5xx among its requests, whatever its headroom).
        for c in measured.iter().filter(|c| c.status != Verdict::Passing) {
            line(format!(
                "  {} {}: {}",
                c.constraint,
                c.status.as_str(),
                c.summary
            ));
        }
    }
    if !unmeasured.is_empty() {
        line(format!(
            "  not measured from metrics ({}):",
            unmeasured.len()
        ));
        let mut table = Table::new(&["constraint", "why"]);
        for c in &unmeasured {
            table.row(vec![c.constraint.clone(), short_reason(&c.summary)]);
        }
        out_push(&mut line, table.render());
    }
    out
}

/// A rendered table, its lines indented under the section's headline.
fn out_push(line: &mut impl FnMut(String), table: String) {
    for row in table.lines() {
        line(row.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_shortened_to_their_first_clause() {
        assert_eq!(
            short_reason("not measured from metrics: its concurrency check needs traffic SDD makes itself (verify_constraints runs it); production metrics show what users sent"),
            "its concurrency check needs traffic SDD makes itself"
        );
        assert_eq!(
            short_reason("not machine-checkable: no known check pattern (latency percentile, rate, error rate) matches the sentence"),
            "not machine-checkable: no known check pattern matches the sentence"
        );
        assert_eq!(
            short_reason(
                "not measured from metrics: probed by hand (monitoring.constraints.x.unmeasured)"
            ),
            "probed by hand"
        );
        let long = short_reason(&"word ".repeat(40));
        assert!(long.ends_with('…') && long.chars().count() <= 91, "{long}");
    }

    fn row(value: f64, limit: f64, unit: &str) -> ConstraintHeadroom {
        ConstraintHeadroom {
            constraint: "c".into(),
            name: "C".into(),
            requirement: None,
            status: Verdict::Passing,
            summary: String::new(),
            value: Some(value),
            limit: Some(limit),
            unit: Some(unit.into()),
            headroom_percent: Some(90.25),
            error_budget: None,
            measured_by: Vec::new(),
            not_judged: Vec::new(),
        }
    }

    #[test]
    fn values_and_limits_read_as_the_spec_writes_them() {
        let latency = Measure::Latency { percentile: 95.0 };
        let r = row(9.75, 100.0, "ms");
        assert_eq!(value_text(&r, Some(&latency)), "p95 9.75 ms");
        assert_eq!(limit_text(&r, Some(&latency)), "max 100 ms");
        assert_eq!(headroom_text(&r), "90 %");
        let r = row(99.95, 99.9, "%");
        assert_eq!(value_text(&r, Some(&Measure::Availability)), "99.950 %");
        assert_eq!(limit_text(&r, Some(&Measure::Availability)), "min 99.9 %");
        assert_eq!(limit_text(&r, None), "limit 99.9 %");
    }
}

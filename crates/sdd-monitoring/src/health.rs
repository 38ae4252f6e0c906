//! Scenario health: each approved scenario's success over a window, from two sides — the
//! service's own outcome counter (the metrics convention) and the synthetic journeys
//! `sdd monitor` runs from the scenario's executable examples — side by side.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use sdd_spec::model::Scenario;
use serde::{Deserialize, Serialize};

use crate::expr::{Expr, RangeFn};
use crate::headroom::{Method, Watch};
use crate::selector::Selector;
use crate::source::{Source, SourceError};
use crate::window::format_duration;

/// Each journey run: 1 when every step of every example passed, 0 otherwise (a gauge sampled
/// at the run's start).
pub const JOURNEY_SUCCESS: &str = "sdd_journey_success";
/// Each journey run's duration in seconds (all its examples, in order).
pub const JOURNEY_DURATION: &str = "sdd_journey_duration_seconds";
/// The `job` of the journeys' series. A scraped series never carries it (a scrape sets its
/// own `job` and keeps the target's as `exported_job`), so no service can report journeys.
pub const JOURNEY_JOB: &str = "sdd-journeys";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Both sides have data and neither saw a failure.
    Healthy,
    /// One side has data and saw no failure; the other has none (named in the summary).
    Partial,
    /// A failure was seen in the window.
    Failing,
    /// Neither side has data for it.
    NoData,
}

impl Health {
    /// `healthy`, `partial`, `failing`, `no data`: as a person reads it.
    pub fn word(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Partial => "partial",
            Health::Failing => "failing",
            Health::NoData => "no data",
        }
    }
}

/// What the service counted at its decision points.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ServiceOutcomes {
    /// `increase` over the window: extrapolated to the window's edges as Prometheus does,
    /// so not always whole.
    pub successes: f64,
    pub failures: f64,
    pub success_percent: f64,
}

/// What the synthetic journeys saw.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct JourneyOutcomes {
    pub runs: u64,
    pub failures: u64,
    pub success_percent: f64,
    /// Whether the newest run in the window passed.
    pub last_passed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub p95_ms: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioHealth {
    pub scenario: String,
    pub name: String,
    pub status: Health,
    pub summary: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceOutcomes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub journeys: Option<JourneyOutcomes>,
    /// The first failed step of the scenario's last journey, when it failed
    /// (`POST /tasks/7/complete: status expected 409, got 200`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_failure: Option<String>,
}

/// The health report: a row per scenario, the queries behind them, and outcome labels the
/// spec does not know (a service counting under a wrong ID is found here).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HealthReport {
    pub rows: Vec<ScenarioHealth>,
    pub measured_by: Vec<Method>,
    /// Scenario IDs the outcome counter carries that are not approved scenarios of the spec.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unknown_scenarios: Vec<String>,
    /// Why a side has no data at all (no store yet, counter not emitted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// `journeys` is where the journeys are stored (the embedded store), which may be another
/// source than the service's metrics.
pub async fn scenario_health(
    watch: &Watch<'_>,
    journeys: &Source,
    last_round: Option<&crate::monitor::JourneyRound>,
    scenarios: &[&Scenario],
) -> Result<HealthReport, SourceError> {
    let window = format_duration(watch.window_ms);
    let mut measured_by = Vec::new();
    let mut notes = Vec::new();

    let outcomes_name = &watch.project.monitoring.convention.scenario_outcomes;
    let outcome_expr = Expr::sum_by(
        &["scenario", "outcome"],
        Expr::range(
            RangeFn::Increase,
            Selector::named(outcomes_name),
            watch.window_ms,
        ),
    );
    measured_by.push(Method {
        query: outcome_expr.to_string(),
        window: window.clone(),
        how: format!(
            "the service's own count at its decision points ({}), by scenario and outcome",
            watch.source.describe()
        ),
    });
    let mut service: BTreeMap<String, (f64, f64)> = BTreeMap::new();
    for (labels, value) in watch.evaluate(&outcome_expr).await? {
        if !value.is_finite() {
            continue;
        }
        let Some(id) = labels.get("scenario") else {
            continue;
        };
        let entry = service.entry(id.clone()).or_default();
        match labels.get("outcome").map(String::as_str) {
            Some("success") => entry.0 += value,
            _ => entry.1 += value,
        }
    }
    if service.is_empty() {
        notes.push(format!(
            "no `{outcomes_name}` in the last {window} from the {}: the service does not count scenario outcomes (README, \"Metrics convention\"), or is not scraped",
            watch.source.describe()
        ));
    }

    let ours = || crate::selector::Matcher::equal("job", JOURNEY_JOB);
    let success = Selector::named(JOURNEY_SUCCESS).with(ours());
    let duration = Selector::named(JOURNEY_DURATION).with(ours());
    let w = watch.window_ms;
    let journey_exprs = [
        Expr::range(RangeFn::CountOverTime, success.clone(), w),
        Expr::range(RangeFn::AvgOverTime, success.clone(), w),
        Expr::range(RangeFn::LastOverTime, success.clone(), w),
        Expr::range(RangeFn::QuantileOverTime(0.95), duration, w),
    ];
    measured_by.push(Method {
        query: journey_exprs
            .iter()
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join("; "),
        window: window.clone(),
        how: format!(
            "the synthetic journeys `sdd monitor` runs from each scenario's examples ({})",
            journeys.describe()
        ),
    });
    let mut journey_values: [BTreeMap<String, f64>; 4] = Default::default();
    let mut journeys_missing = None;
    for (i, expr) in journey_exprs.iter().enumerate() {
        match journeys.evaluate(expr, watch.at_ms).await {
            Ok(answer) => {
                for (labels, value) in answer {
                    if let Some(id) = labels.get("scenario") {
                        journey_values[i].insert(id.clone(), value);
                    }
                }
            }
            Err(SourceError::NoStore(path)) => {
                journeys_missing = Some(format!(
                    "no journeys: the embedded store {} does not exist yet (`sdd monitor` runs them)",
                    path.display()
                ));
                break;
            }
            Err(e) => return Err(e),
        }
    }
    if let Some(note) = journeys_missing {
        notes.push(note);
    } else if journey_values[0].is_empty() {
        notes.push(format!(
            "no journey ran in the last {window}: is `sdd monitor` running with monitoring.journeys.interval_seconds above 0?"
        ));
    }

    let known: std::collections::HashSet<&str> = scenarios.iter().map(|s| s.id.as_str()).collect();
    let unknown_scenarios = service
        .keys()
        .filter(|id| !known.contains(id.as_str()))
        .cloned()
        .collect();

    let rows: Vec<ScenarioHealth> = scenarios
        .iter()
        .map(|s| {
            let service = service.get(&s.id).map(|&(ok, failed)| ServiceOutcomes {
                successes: ok,
                failures: failed,
                success_percent: if ok + failed > 0.0 {
                    ok / (ok + failed) * 100.0
                } else {
                    100.0
                },
            });
            // A counter that did not move in the window is no evidence either way.
            let service = service.filter(|o| o.successes + o.failures >= 0.5);
            let journeys = journey_values[0].get(&s.id).map(|&runs| {
                let share = journey_values[1].get(&s.id).copied().unwrap_or(f64::NAN);
                let runs = runs.round() as u64;
                let failures = ((1.0 - share) * runs as f64).round() as u64;
                JourneyOutcomes {
                    runs,
                    failures,
                    success_percent: share * 100.0,
                    last_passed: journey_values[2].get(&s.id).copied() == Some(1.0),
                    p95_ms: journey_values[3]
                        .get(&s.id)
                        .filter(|v| v.is_finite())
                        .map(|v| v * 1000.0),
                }
            });
            let mut row = judge(s, service, journeys, &window);
            // The last round's failure line, if that round is in the window.
            row.last_failure = last_round
                .filter(|r| r.at_ms <= watch.at_ms && r.at_ms > watch.at_ms - watch.window_ms)
                .and_then(|r| r.runs.iter().find(|run| run.scenario == s.id))
                .and_then(|run| run.failure.clone());
            row
        })
        .collect();
    let down = crate::headroom::targets_down(watch).await?;
    let mut rows = rows;
    if !down.is_empty() {
        notes.push(format!(
            "{} was down (up = 0) in the window: the outcomes it counted then are not in its metrics",
            down.join(", ")
        ));
        for row in rows.iter_mut().filter(|r| r.status == Health::Healthy) {
            row.status = Health::Partial;
            row.summary = format!(
                "{}; but a scrape target was down in the window",
                row.summary
            );
        }
    }
    Ok(HealthReport {
        rows,
        measured_by,
        unknown_scenarios,
        notes,
    })
}

/// One scenario's row from what each side saw. Pure.
pub fn judge(
    scenario: &Scenario,
    service: Option<ServiceOutcomes>,
    journeys: Option<JourneyOutcomes>,
    window: &str,
) -> ScenarioHealth {
    let mut parts = Vec::new();
    if let Some(o) = &service {
        parts.push(format!(
            "the service counted {:.1} % success of {:.0} in the last {window}",
            o.success_percent,
            o.successes + o.failures
        ));
    }
    if let Some(j) = &journeys {
        parts.push(format!(
            "{} of {} journeys passed{}{}",
            j.runs - j.failures.min(j.runs),
            j.runs,
            if j.last_passed {
                ", the last one too"
            } else {
                ", the last one FAILED"
            },
            j.p95_ms
                .map(|p| format!(", p95 {p:.0} ms"))
                .unwrap_or_default()
        ));
    }
    let service_failed = service.as_ref().is_some_and(|o| o.failures >= 0.5);
    let journey_failed = journeys
        .as_ref()
        .is_some_and(|j| j.failures > 0 || !j.last_passed);
    let status = match (&service, &journeys) {
        _ if service_failed || journey_failed => Health::Failing,
        (Some(_), Some(_)) => Health::Healthy,
        (Some(_), None) => {
            parts.push(format!("no journey ran in the last {window}"));
            Health::Partial
        }
        (None, Some(_)) => {
            parts.push("the service counted no outcome for it".into());
            Health::Partial
        }
        (None, None) => {
            parts.push(format!(
                "no data in the last {window}: neither an outcome count nor a journey"
            ));
            Health::NoData
        }
    };
    ScenarioHealth {
        scenario: scenario.id.clone(),
        name: scenario.name.clone(),
        status,
        summary: parts.join("; "),
        service,
        journeys,
        last_failure: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scenario() -> Scenario {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("f.yaml"),
            "feature: F\nscenarios:\n  - name: Create a task\n    when: I create a task\n    then: [It exists]\n",
        )
        .unwrap();
        let loaded = sdd_spec::load::load_dir(dir.path()).unwrap();
        (*loaded.spec.scenarios[0]).clone()
    }

    fn service(ok: f64, failed: f64) -> Option<ServiceOutcomes> {
        Some(ServiceOutcomes {
            successes: ok,
            failures: failed,
            success_percent: ok / (ok + failed) * 100.0,
        })
    }

    fn journeys(runs: u64, failures: u64, last_passed: bool) -> Option<JourneyOutcomes> {
        Some(JourneyOutcomes {
            runs,
            failures,
            success_percent: (runs - failures) as f64 / runs as f64 * 100.0,
            last_passed,
            p95_ms: Some(12.0),
        })
    }

    #[test]
    fn health_table() {
        use Health::*;
        let s = scenario();
        let cases = [
            (
                "both sides clean",
                service(100.0, 0.0),
                journeys(60, 0, true),
                Healthy,
                "100.0 % success",
            ),
            (
                "the service counted a failure",
                service(99.0, 1.0),
                journeys(60, 0, true),
                Failing,
                "99.0 %",
            ),
            (
                "a journey failed",
                service(100.0, 0.0),
                journeys(60, 1, true),
                Failing,
                "59 of 60",
            ),
            (
                "the last journey failed",
                None,
                journeys(1, 0, false),
                Failing,
                "FAILED",
            ),
            (
                "journeys only",
                None,
                journeys(60, 0, true),
                Partial,
                "counted no outcome",
            ),
            (
                "service only",
                service(10.0, 0.0),
                None,
                Partial,
                "no journey ran",
            ),
            ("nothing", None, None, NoData, "no data"),
            (
                "a fraction of a failure is extrapolation",
                service(99.7, 0.3),
                journeys(3, 0, true),
                Healthy,
                "of 3 journeys",
            ),
        ];
        for (name, svc, j, status, says) in cases {
            let row = judge(&s, svc, j, "1h");
            assert_eq!(row.status, status, "{name}: {}", row.summary);
            assert!(row.summary.contains(says), "{name}: {}", row.summary);
        }
    }
}

//! The health score: four components, each computed from figures the other tools show, each
//! with how; the score their weighted mean over the components that have data. Nothing is
//! estimated that was not measured: a component without data is said, and left out.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::report::DegradationReport;
use crate::headroom::ConstraintHeadroom;
use crate::health::{Health, ScenarioHealth};
use sdd_spec::verdict::Verdict;

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Component {
    pub name: String,
    /// 0–100; absent when there is nothing to compute it from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub weight: f64,
    pub how: String,
    pub evidence: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Risk {
    /// In the spec's words: the constraint or limit, and what its series does.
    pub risk: String,
    /// The constraint ID or limit it threatens, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threatens: Option<String>,
    /// `violated now`, `crosses in 12.0 to 40.0 days`, `degrading, no bound`.
    pub timeframe: String,
    pub evidence: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct HealthScore {
    /// `72/100 — …` or `NO DATA — …`.
    pub headline: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    pub how: String,
    pub components: Vec<Component>,
    pub top_risks: Vec<Risk>,
    /// What the score does not cover.
    pub not_included: Vec<String>,
}

const HOW: &str = "the weighted mean of the components that have data (weights renormalised over them); a component without data is listed with why and left out";

/// Each component's score and the overall one.
pub fn health_score(
    headroom: &[ConstraintHeadroom],
    scenarios: &[ScenarioHealth],
    degradation: &DegradationReport,
    headroom_window: &str,
) -> HealthScore {
    let mut components = Vec::new();

    let judged: Vec<&ConstraintHeadroom> = headroom
        .iter()
        .filter(|r| r.status != Verdict::Unchecked)
        .collect();
    let unchecked = headroom.len() - judged.len();
    let per_constraint = |r: &ConstraintHeadroom| match r.status {
        Verdict::Failing => 0.0,
        Verdict::Inconclusive => 50.0,
        _ => {
            50.0 + r
                .headroom_percent
                .map_or(25.0, |h| h.clamp(0.0, 100.0) / 2.0)
        }
    };
    components.push(Component {
        name: "constraint_headroom".into(),
        score: mean(judged.iter().map(|r| per_constraint(r))),
        weight: 0.35,
        how: format!("per constraint judged on metrics over {headroom_window}: violated 0, undecided 50, within its limit 50 + half its headroom percent (25 when the headroom is not a number); the mean"),
        evidence: format!(
            "{} within limits, {} violated, {} undecided; {unchecked} not measured from metrics (constraint_headroom says why)",
            judged.iter().filter(|r| r.status == Verdict::Passing).count(),
            judged.iter().filter(|r| r.status == Verdict::Failing).count(),
            judged.iter().filter(|r| r.status == Verdict::Inconclusive).count(),
        ),
    });

    let with_data: Vec<&ScenarioHealth> = scenarios
        .iter()
        .filter(|s| s.status != Health::NoData)
        .collect();
    components.push(Component {
        name: "scenario_health".into(),
        score: mean(with_data.iter().map(|s| match s.status {
            Health::Healthy => 100.0,
            Health::Partial => 50.0,
            _ => 0.0,
        })),
        weight: 0.25,
        how: format!("per approved scenario with data over {headroom_window}: healthy 100, partial 50, failing 0; the mean"),
        evidence: format!(
            "{} healthy, {} partial, {} failing, {} without data",
            with_data.iter().filter(|s| s.status == Health::Healthy).count(),
            with_data.iter().filter(|s| s.status == Health::Partial).count(),
            with_data.iter().filter(|s| s.status == Health::Failing).count(),
            scenarios.len() - with_data.len()
        ),
    });

    let counts = &degradation.counts;
    components.push(Component {
        name: "degradation_velocity".into(),
        score: (counts.judged > 0)
            .then(|| (100.0 - 25.0 * counts.degrading as f64 - 5.0 * counts.below_threshold as f64).max(0.0)),
        weight: 0.2,
        how: "100, less 25 per degrading series and 5 per series worsening slower than the threshold (detect_degradation)".into(),
        evidence: format!(
            "{} degrading and {} worsening below the threshold, of {} series judged",
            counts.degrading, counts.below_threshold, counts.judged
        ),
    });

    let earliest = degradation
        .outlook
        .iter()
        .filter_map(|o| o.time_to_violation.days_earliest.map(|d| (d, o)))
        .min_by(|a, b| a.0.total_cmp(&b.0));
    components.push(Component {
        name: "predicted_violations".into(),
        score: (!degradation.outlook.is_empty()).then_some(match earliest {
            Some((d, _)) if d <= 0.0 => 0.0,
            Some((d, _)) if d <= 7.0 => 20.0,
            Some((d, _)) if d <= 30.0 => 50.0,
            Some((d, _)) if d <= 90.0 => 80.0,
            _ => 100.0,
        }),
        weight: 0.2,
        how: "from the earliest projected crossing of a constraint or limit (the fastest slope of its interval): violated now 0, within 7 days 20, within 30 days 50, within 90 days 80, none 100".into(),
        evidence: match earliest {
            Some((_, o)) => format!("{}: {}", o.series, o.time_to_violation.summary),
            None if degradation.outlook.is_empty() => "no constraint or limit has a series in the window".into(),
            None => format!("{} constraints and limits projected; none heads to its bound", degradation.outlook.len()),
        },
    });

    let weighted: Vec<(f64, f64)> = components
        .iter()
        .filter_map(|c| c.score.map(|s| (s, c.weight)))
        .collect();
    let total_weight: f64 = weighted.iter().map(|w| w.1).sum();
    let score = (total_weight > 0.0)
        .then(|| weighted.iter().map(|(s, w)| s * w).sum::<f64>() / total_weight);

    // Risks: bounds projected to be crossed within 90 days, soonest first; then degradations
    // without a bound.
    let mut risks: Vec<(f64, Risk)> = degradation
        .outlook
        .iter()
        .filter_map(|o| {
            let d = o.time_to_violation.days_earliest.filter(|d| *d <= 90.0)?;
            Some((
                d,
                Risk {
                    risk: format!("{} against {}", o.series, o.time_to_violation.bound),
                    threatens: o
                        .constraint
                        .clone()
                        .or_else(|| Some(o.time_to_violation.bound.clone())),
                    timeframe: o.time_to_violation.summary.clone(),
                    evidence: o.summary.clone(),
                },
            ))
        })
        .collect();
    for f in &degradation.findings {
        if risks.iter().any(|(_, r)| r.risk.starts_with(&f.series)) {
            continue;
        }
        risks.push((
            f64::INFINITY,
            Risk {
                risk: format!(
                    "{} is degrading{}",
                    f.series,
                    f.spec_pattern
                        .as_deref()
                        .map(|p| format!(" (the spec's \"{p}\")"))
                        .unwrap_or_default()
                ),
                threatens: f.constraint.clone(),
                timeframe: f
                    .analysis
                    .time_to_violation
                    .as_ref()
                    .map_or("degrading; no constraint or limit bounds it".into(), |t| {
                        t.summary.clone()
                    }),
                evidence: f.analysis.summary.clone(),
            },
        ));
    }
    risks.sort_by(|a, b| a.0.total_cmp(&b.0));
    let top_risks: Vec<Risk> = risks.into_iter().take(5).map(|(_, r)| r).collect();

    let headline = match score {
        None => "NO DATA — no component has data: run `sdd monitor` or name a Prometheus under monitoring.source".to_string(),
        Some(s) => {
            let missing: Vec<&str> = components.iter().filter(|c| c.score.is_none()).map(|c| c.name.as_str()).collect();
            format!(
                "{:.0}/100 — {}{}",
                s,
                match top_risks.first() {
                    Some(r) => format!("top risk: {} ({})", r.risk, r.timeframe),
                    None => "no risk found".into(),
                },
                if missing.is_empty() {
                    String::new()
                } else {
                    format!("; without {} (no data)", missing.join(", "))
                }
            )
        }
    };
    HealthScore {
        headline,
        score,
        how: HOW.into(),
        components,
        top_risks,
        not_included: vec![
            "the score's own trend: it needs past reports, which are not stored".into(),
            "technical debt and resilience: nothing in the metrics measures them".into(),
        ],
    }
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

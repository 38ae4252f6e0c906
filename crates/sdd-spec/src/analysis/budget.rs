//! Latency budget propagation: a global or interaction constraint split across participants.
//!
//! The rule (stated in every result): participants are called in sequence, so the end-to-end
//! latency is at most the sum of the parts. Each participant gets a share of the bound in
//! proportion to its weight, after an optional reserve (network, gateway). For a percentile
//! bound pP over n participants, each part is held at the stricter percentile
//! p_i = 100 − (100 − P)/n: by the union bound, all parts stay within budget at least P % of the
//! time, so the sum stays within the whole at least P % of the time. Shares are rounded down to
//! 0.1 ms, so the parts never exceed the whole.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::AnalysisError;
use crate::constraint::CheckSpec;
use crate::model::{ConstraintScope, Spec};

/// The most participants one budget is split between (the answer lists each).
pub const MAX_PARTICIPANTS: usize = 100;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetRequest {
    /// The latency or time-bound constraint to split (see get_constraints).
    pub constraint_id: String,
    /// Who shares the budget, in call order (at most 100). Default: the interaction's
    /// participants.
    #[serde(default)]
    pub participants: Vec<String>,
    /// Relative weights per participant (default 1 each).
    #[serde(default)]
    pub weights: BTreeMap<String, f64>,
    /// Milliseconds held back for network and overhead before splitting.
    #[serde(default)]
    pub reserve_ms: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Allocation {
    pub participant: String,
    pub budget_ms: f64,
    /// The percentile this participant must meet its budget at (absent for hard time bounds).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentile: Option<f64>,
    /// The same budget as a structured check, ready to paste as the participant's constraint.
    pub check: CheckSpec,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BudgetPlan {
    pub constraint_id: String,
    pub total_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentile: Option<f64>,
    pub reserve_ms: f64,
    pub allocations: Vec<Allocation>,
    /// Sum of allocations plus reserve; never more than `total_ms`.
    pub allocated_ms: f64,
    pub rule: String,
}

pub fn propagate_budget(spec: &Spec, request: &BudgetRequest) -> Result<BudgetPlan, AnalysisError> {
    if request.participants.len() > MAX_PARTICIPANTS
        || request.weights.len() > MAX_PARTICIPANTS
        || request.participants.iter().any(|p| p.len() > 200)
    {
        return Err(AnalysisError::Invalid(format!(
            "at most {MAX_PARTICIPANTS} participants (and weights) of at most 200 characters each"
        )));
    }
    let constraint = spec.constraint(&request.constraint_id).ok_or_else(|| {
        AnalysisError::NotFound(format!(
            "no constraint `{}`; list IDs with get_constraints",
            request.constraint_id
        ))
    })?;
    let (total_ms, percentile) = constraint
        .parsed
        .checks
        .iter()
        .find_map(|c| match c {
            CheckSpec::Latency {
                percentile, max_ms, ..
            } => Some((*max_ms, Some(*percentile))),
            CheckSpec::TimeBound { max_seconds, .. } => Some((max_seconds * 1e3, None)),
            _ => None,
        })
        .ok_or_else(|| {
            AnalysisError::Invalid(format!(
                "constraint `{}` has no latency or time bound to split (its checks: {})",
                constraint.id,
                kinds(&constraint.parsed.checks)
            ))
        })?;
    let participants: Vec<String> = if !request.participants.is_empty() {
        request.participants.clone()
    } else if let ConstraintScope::Interaction(name) = &constraint.scope {
        spec.interactions
            .iter()
            .find(|i| &i.name == name)
            .map(|i| i.participants.clone())
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    if participants.is_empty() {
        return Err(AnalysisError::Invalid(format!(
            "constraint `{}` is not an interaction constraint: pass `participants` (the services a request passes through, in order)",
            constraint.id
        )));
    }
    if !(0.0..total_ms).contains(&request.reserve_ms) {
        return Err(AnalysisError::Invalid(format!(
            "reserve_ms must be at least 0 and below the whole budget ({total_ms} ms)"
        )));
    }
    if let Some((name, w)) = request
        .weights
        .iter()
        .find(|(_, w)| !(w.is_finite() && **w > 0.0))
    {
        return Err(AnalysisError::Invalid(format!(
            "weight of `{name}` is {w}; weights must be positive numbers"
        )));
    }
    let weight = |p: &str| request.weights.get(p).copied().unwrap_or(1.0);
    let total_weight: f64 = participants.iter().map(|p| weight(p)).sum();
    let splittable = total_ms - request.reserve_ms;
    let n = participants.len() as f64;
    let part_percentile = percentile.map(|p| round_down(100.0 - (100.0 - p) / n, 1e4));
    let allocations: Vec<Allocation> = participants
        .iter()
        .map(|p| {
            let budget_ms = round_down(splittable * weight(p) / total_weight, 10.0);
            let check = match part_percentile {
                Some(percentile) => CheckSpec::Latency {
                    percentile,
                    max_ms: budget_ms,
                    scope: "all".into(),
                },
                None => CheckSpec::TimeBound {
                    max_seconds: budget_ms / 1e3,
                    subject: format!("{p} step"),
                },
            };
            Allocation {
                participant: p.clone(),
                budget_ms,
                percentile: part_percentile,
                check,
            }
        })
        .collect();
    let allocated_ms = round_down(
        allocations.iter().map(|a| a.budget_ms).sum::<f64>() + request.reserve_ms,
        10.0,
    );
    let rule = match percentile {
        Some(p) => format!(
            "Sequential calls: end-to-end latency ≤ sum of parts. {total_ms} ms minus {} ms reserve is split by weight; \
             each of the {} participants must meet its share at p{} (= 100 − (100 − {p})/{}), so by the union bound \
             all shares hold together at least {p} % of the time and the total stays within {total_ms} ms at p{p}.",
            request.reserve_ms, participants.len(), part_percentile.unwrap_or(p), participants.len()
        ),
        None => format!(
            "Hard time bound: per-step timeouts that add up to at most {total_ms} ms (after {} ms reserve) guarantee the whole \
             finishes or fails within the bound. Shares are proportional to weight, rounded down.",
            request.reserve_ms
        ),
    };
    Ok(BudgetPlan {
        constraint_id: constraint.id.clone(),
        total_ms,
        percentile,
        reserve_ms: request.reserve_ms,
        allocations,
        allocated_ms,
        rule,
    })
}

fn kinds(checks: &[CheckSpec]) -> String {
    if checks.is_empty() {
        return "none".into();
    }
    checks
        .iter()
        .map(CheckSpec::kind)
        .collect::<Vec<_>>()
        .join(", ")
}

fn round_down(x: f64, scale: f64) -> f64 {
    (x * scale + 1e-9).floor() / scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_sources;

    fn spec() -> Spec {
        load_sources(&[
            ("s.yaml".into(), "system: Shop\nglobal_constraints:\n  performance:\n    - name: Checkout latency\n      requirement: p99 < 100ms\n".into()),
            ("i.yaml".into(), "interaction: checkout\nparticipants: [cart, payment, inventory]\nconstraints:\n  - name: Distributed timeout\n    requirement: Entire flow completes or fails within 30 seconds\n".into()),
        ])
        .spec
    }

    #[test]
    fn percentile_budget_never_exceeds_the_whole() {
        let plan = propagate_budget(
            &spec(),
            &BudgetRequest {
                constraint_id: "shop.performance.checkout_latency".into(),
                participants: vec!["cart".into(), "payment".into(), "database".into()],
                weights: [("payment".to_string(), 2.0)].into(),
                reserve_ms: 10.0,
            },
        )
        .unwrap();
        assert_eq!(
            plan.allocations
                .iter()
                .map(|a| a.budget_ms)
                .collect::<Vec<_>>(),
            vec![22.5, 45.0, 22.5]
        );
        assert_eq!(plan.allocations[0].percentile, Some(99.6666));
        assert!(plan.allocated_ms <= plan.total_ms);
        assert!(plan.rule.contains("union bound"));
    }

    #[test]
    fn interaction_time_bound_uses_its_participants() {
        let plan = propagate_budget(
            &spec(),
            &BudgetRequest {
                constraint_id: "checkout.interaction.distributed_timeout".into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(plan.allocations.len(), 3);
        assert_eq!(plan.allocations[0].budget_ms, 10000.0);
        assert!(plan.allocations.iter().map(|a| a.budget_ms).sum::<f64>() <= 30000.0);
    }

    #[test]
    fn too_many_participants_are_refused_without_echoing_them() {
        let err = propagate_budget(
            &spec(),
            &BudgetRequest {
                constraint_id: "shop.performance.checkout_latency".into(),
                participants: (0..100_000).map(|i| format!("service_{i}")).collect(),
                ..Default::default()
            },
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("at most 100"), "{err}");
        assert!(err.len() < 200);
    }

    #[test]
    fn thirds_round_down() {
        let plan = propagate_budget(
            &spec(),
            &BudgetRequest {
                constraint_id: "shop.performance.checkout_latency".into(),
                participants: vec!["a".into(), "b".into(), "c".into()],
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(plan.allocations[0].budget_ms, 33.3);
        assert!(plan.allocated_ms <= 100.0);
    }

    #[test]
    fn clear_errors() {
        let s = spec();
        let missing = propagate_budget(
            &s,
            &BudgetRequest {
                constraint_id: "nope".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(missing.to_string().contains("get_constraints"));
        let global = propagate_budget(
            &s,
            &BudgetRequest {
                constraint_id: "shop.performance.checkout_latency".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(global.to_string().contains("pass `participants`"));
    }
}

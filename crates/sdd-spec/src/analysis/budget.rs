//! Latency budget propagation: a global or interaction constraint split across participants.
//!
//! The rule (stated in every result): participants are called in sequence, so the end-to-end
//! latency is at most the sum of the parts. A participant that declares its own comparable
//! bound (a domain constraint: a latency bound at the same or a stricter percentile, or a time
//! bound) keeps it; what is left, after an optional reserve (network, gateway), is split among
//! the others in proportion to their weights. For a percentile bound pP, the parts together may
//! miss their budgets at most (100 − P) % of the time (the union bound): the declared parts
//! spend 100 − q of it each, and the rest is split evenly, so each other part is held at
//! p_i = 100 − (what is left)/n. Shares are rounded down to 0.1 ms, so the parts never exceed
//! the whole — unless the declared bounds alone do, and then the plan says it does not fit.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::interactions::{DomainBounds, Whole};
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
    /// Who shares the budget, in call order (at most 100; one called twice is listed twice):
    /// declared domains or the interaction's participants, nothing else. Default: the
    /// interaction's participants.
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
    /// The same budget as a structured check, ready to paste as the participant's constraint
    /// (for a declared bound: the check it declares).
    pub check: CheckSpec,
    /// The participant's own constraint this budget is, when it declares one: it keeps its
    /// bound, and only the remainder is split among the others.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub declared_by: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct BudgetPlan {
    pub constraint_id: String,
    pub total_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub percentile: Option<f64>,
    pub reserve_ms: f64,
    pub allocations: Vec<Allocation>,
    /// Sum of allocations plus reserve; more than `total_ms` only when `fits` is false.
    pub allocated_ms: f64,
    /// False when the plan cannot guarantee the whole: the participants' declared bounds (plus
    /// the reserve) use it up — the others then get nothing — or, for a percentile bound, the
    /// percentiles they hold leave the union bound no room (the others still share the time
    /// left; the whole may hold, but this plan does not prove it). `rule` says which.
    pub fits: bool,
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
    let whole = constraint
        .parsed
        .checks
        .iter()
        .find_map(Whole::of)
        .ok_or_else(|| {
            AnalysisError::Invalid(format!(
                "constraint `{}` has no latency or time bound to split (its checks: {})",
                constraint.id,
                kinds(&constraint.parsed.checks)
            ))
        })?;
    let (total_ms, percentile) = (whole.ms, whole.percentile);
    let interaction = match &constraint.scope {
        ConstraintScope::Interaction(name) => spec.interactions.iter().find(|i| &i.name == name),
        _ => None,
    };
    let participants: Vec<String> = if !request.participants.is_empty() {
        request.participants.clone()
    } else {
        interaction
            .map(|i| i.participants.clone())
            .unwrap_or_default()
    };
    if participants.is_empty() {
        return Err(AnalysisError::Invalid(format!(
            "constraint `{}` is not an interaction constraint: pass `participants` (the services a request passes through, in order)",
            constraint.id
        )));
    }
    let unknown: Vec<&str> = participants
        .iter()
        .filter(|p| {
            spec.domain(p).is_none() && !interaction.is_some_and(|i| i.participants.contains(p))
        })
        .map(String::as_str)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if !unknown.is_empty() {
        let shown: Vec<String> = unknown.iter().take(5).map(|p| format!("`{p}`")).collect();
        let more = if unknown.len() > 5 {
            format!(" and {} more", unknown.len() - 5)
        } else {
            String::new()
        };
        return Err(AnalysisError::Invalid(format!(
            "{}{more} {} neither a declared domain nor a participant of the constraint's \
             interaction: a budget is split only among parts the spec declares; list them with \
             list_domains, or declare the missing ones",
            shown.join(", "),
            if unknown.len() == 1 { "is" } else { "are" }
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
    let bounds = DomainBounds::of(spec);
    let declared: Vec<_> = participants
        .iter()
        .map(|p| bounds.comparable(p, &whole, &constraint.id))
        .collect();
    let declared_ms: f64 = declared.iter().flatten().map(|d| d.whole.ms).sum();
    let declared_count = declared.iter().flatten().count();
    let rest = participants.len() - declared_count;
    let weight = |p: &str| request.weights.get(p).copied().unwrap_or(1.0);
    let total_weight: f64 = participants
        .iter()
        .zip(&declared)
        .filter(|(_, d)| d.is_none())
        .map(|(p, _)| weight(p))
        .sum();
    let splittable = total_ms - request.reserve_ms - declared_ms;
    // The others need some time too: a whole used up by the declared parts leaves them none.
    let fits_time = if rest > 0 {
        splittable > 1e-9
    } else {
        splittable >= -1e-9
    };
    // The union bound's room: what the whole may miss, less what each declared part may miss.
    let tail = percentile.map(|p| {
        (100.0 - p)
            - declared
                .iter()
                .flatten()
                .map(|d| 100.0 - d.whole.percentile.unwrap_or(100.0))
                .sum::<f64>()
    });
    let fits_tail = tail.is_none_or(|t| t >= -1e-9);
    let fits = fits_time && fits_tail;
    let part_percentile = match (percentile, tail) {
        (Some(_), Some(t)) if rest > 0 => {
            Some(round_down(100.0 - t.max(0.0) / rest as f64, 1e4).min(100.0))
        }
        (Some(p), _) => Some(p),
        _ => None,
    };
    let allocations: Vec<Allocation> = participants
        .iter()
        .zip(&declared)
        .map(|(p, own)| match own {
            Some(own) => Allocation {
                participant: p.clone(),
                budget_ms: own.whole.ms,
                percentile: own.whole.percentile,
                check: own.check.clone(),
                declared_by: Some(own.constraint.id.clone()),
            },
            None => {
                // Time left is shared even when the percentiles cannot be guaranteed.
                let budget_ms = if fits_time {
                    round_down(splittable * weight(p) / total_weight, 10.0)
                } else {
                    0.0
                };
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
                    declared_by: None,
                }
            }
        })
        .collect();
    let allocated_ms = round_down(
        allocations.iter().map(|a| a.budget_ms).sum::<f64>() + request.reserve_ms,
        10.0,
    );
    let n = participants.len();
    let mut rule = match percentile {
        Some(p) => format!(
            "Sequential calls: end-to-end latency ≤ sum of parts. {total_ms} ms minus {} ms reserve is split by weight; \
             each of the {rest} participants without a bound of their own must meet its share at p{} \
             (= 100 − (what the union bound leaves of 100 − {p})/{rest}), so by the union bound \
             all shares hold together at least {p} % of the time and the total stays within {total_ms} ms at p{p}.",
            request.reserve_ms, part_percentile.unwrap_or(p),
        ),
        None => format!(
            "Hard time bound: per-step timeouts that add up to at most {total_ms} ms (after {} ms reserve) guarantee the whole \
             finishes or fails within the bound. Shares are proportional to weight, rounded down.",
            request.reserve_ms
        ),
    };
    if declared_count > 0 {
        let ids: std::collections::BTreeSet<&str> = declared
            .iter()
            .flatten()
            .map(|d| d.constraint.id.as_str())
            .collect();
        rule.push_str(&format!(
            " {declared_count} of the {n} participants keep the bound they declare ({}: {} ms \
             together); only what is left is split among the other {rest}, and their weights \
             are ignored for the declared ones.",
            ids.into_iter()
                .map(|id| format!("`{id}`"))
                .collect::<Vec<_>>()
                .join(", "),
            round_down(declared_ms, 1e3)
        ));
    }
    if !fits_time {
        rule.push_str(&format!(
            " The declared bounds cannot fit: they add up to {} ms, which with the {} ms reserve \
             exceeds the whole ({total_ms} ms); tighten them or loosen `{}` before splitting.",
            round_down(declared_ms, 1e3),
            request.reserve_ms,
            constraint.id
        ));
    } else if !fits_tail {
        rule.push_str(&format!(
            " The union bound cannot guarantee the whole: the declared parts may miss their \
             bounds {} % of the time together, more than the {} % the whole allows, so the \
             shares above do not prove p{} (it may still hold: measure it); declare the parts at \
             stricter percentiles or loosen `{}` for a plan that does.",
            round_down(
                100.0 - percentile.unwrap_or(100.0) - tail.unwrap_or(0.0),
                1e4
            ),
            round_down(100.0 - percentile.unwrap_or(100.0), 1e4),
            percentile.unwrap_or(100.0),
            constraint.id
        ));
    }
    Ok(BudgetPlan {
        constraint_id: constraint.id.clone(),
        total_ms,
        percentile,
        reserve_ms: request.reserve_ms,
        allocations,
        allocated_ms,
        fits,
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
            ("s.yaml".into(), "system: Shop\ndomains:\n  - name: cart\n  - name: payment\n  - name: database\n  - name: a\n  - name: b\n  - name: c\nglobal_constraints:\n  performance:\n    - name: Checkout latency\n      requirement: p99 < 100ms\n".into()),
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

    /// `spec()` plus each (domain, requirement) as that domain's own constraint.
    fn spec_declaring(own: &[(&str, &str)]) -> Spec {
        let mut files = vec![
            ("s.yaml".to_string(), "system: Shop\ndomains:\n  - name: cart\n  - name: payment\n  - name: database\nglobal_constraints:\n  performance:\n    - name: Checkout latency\n      requirement: p99 < 100ms\n".to_string()),
        ];
        for (i, (domain, requirement)) in own.iter().enumerate() {
            files.push((
                format!("d{i}.yaml"),
                format!("feature: F{i}\ndomain: {domain}\nconstraints:\n  performance:\n    - name: Own\n      requirement: {requirement}\n"),
            ));
        }
        load_sources(&files).spec
    }

    fn split(spec: &Spec, reserve_ms: f64) -> BudgetPlan {
        propagate_budget(
            spec,
            &BudgetRequest {
                constraint_id: "shop.performance.checkout_latency".into(),
                participants: vec!["cart".into(), "payment".into(), "database".into()],
                reserve_ms,
                ..Default::default()
            },
        )
        .unwrap()
    }

    #[test]
    fn a_participant_that_declares_its_bound_keeps_it() {
        let plan = split(
            &spec_declaring(&[("payment", "p99.9 latency < 40ms")]),
            10.0,
        );
        assert!(plan.fits);
        let budgets: Vec<_> = plan
            .allocations
            .iter()
            .map(|a| (a.budget_ms, a.percentile, a.declared_by.as_deref()))
            .collect();
        // 100 − 10 reserve − 40 declared = 50 for the other two; the union bound's 1 % less
        // the declared part's 0.1 % leaves 0.9 %, 0.45 % each.
        assert_eq!(
            budgets,
            [
                (25.0, Some(99.55), None),
                (40.0, Some(99.9), Some("payment.performance.own")),
                (25.0, Some(99.55), None),
            ]
        );
        assert!(plan.allocated_ms <= plan.total_ms);
        assert!(
            plan.rule.contains("1 of the 3 participants keep the bound they declare (`payment.performance.own`: 40 ms together)"),
            "{}",
            plan.rule
        );
        // A bound at a looser percentile, or none, says nothing about p99: split as before.
        let loose = split(&spec_declaring(&[("payment", "p50 latency < 40ms")]), 0.0);
        assert!(loose.allocations.iter().all(|a| a.declared_by.is_none()));
    }

    /// The conformance call: the example's read bound split over its own domain. The bound
    /// is no part of itself, and the domain's write bound says nothing about reads.
    #[test]
    fn a_domain_bound_split_over_its_own_domain() {
        let loaded = crate::load_dir(std::path::Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/task_manager/specs"
        )))
        .unwrap();
        let plan = propagate_budget(
            &loaded.spec,
            &BudgetRequest {
                constraint_id: "task_management_system.performance.api_response_time".into(),
                participants: vec!["task_management_system".into()],
                reserve_ms: 10.0,
                ..Default::default()
            },
        )
        .unwrap();
        assert!(plan.fits);
        assert_eq!(plan.allocations[0].budget_ms, 90.0);
        assert_eq!(plan.allocations[0].declared_by, None);
    }

    #[test]
    fn declared_bounds_that_exceed_the_whole_do_not_fit() {
        let plan = split(
            &spec_declaring(&[
                ("payment", "p99.9 latency < 70ms"),
                ("cart", "p99 latency < 50ms"),
            ]),
            0.0,
        );
        assert!(!plan.fits);
        assert_eq!(plan.allocations[2].budget_ms, 0.0);
        assert!(
            plan.rule.contains("The declared bounds cannot fit: they add up to 120 ms, which with the 0 ms reserve exceeds the whole (100 ms)"),
            "{}",
            plan.rule
        );
        let tail = split(
            &spec_declaring(&[
                ("payment", "p99 latency < 10ms"),
                ("cart", "p99 latency < 10ms"),
            ]),
            0.0,
        );
        assert!(!tail.fits);
        assert!(tail.rule.contains("The union bound cannot guarantee the whole: the declared parts may miss their bounds 2 % of the time together, more than the 1 %"), "{}", tail.rule);
        // The time left is still shared: 80 ms for the one participant without a bound.
        assert_eq!(tail.allocations[2].budget_ms, 80.0, "{tail:#?}");
        // Declared parts that use up the whole leave the others nothing: no fit.
        let full = split(
            &spec_declaring(&[
                ("payment", "p99.9 latency < 60ms"),
                ("cart", "p99.9 latency < 40ms"),
            ]),
            0.0,
        );
        assert!(!full.fits, "{full:#?}");
    }

    /// Against a hard time bound a part counts at its worst declared case: its highest
    /// percentile, not the tightest number it states.
    #[test]
    fn a_hard_whole_takes_each_part_at_its_highest_percentile() {
        let mut files = vec![
            ("i.yaml".to_string(), "interaction: checkout\nparticipants: [cart, payment]\nconstraints:\n  - name: Timeout\n    requirement: Entire flow completes or fails within 30 seconds\n".to_string()),
            ("s.yaml".to_string(), "system: Shop\ndomains:\n  - name: cart\n  - name: payment\n".to_string()),
        ];
        files.push(("c.yaml".into(), "feature: C\ndomain: cart\nconstraints:\n  performance:\n    - name: Typical\n      requirement: p95 latency < 150ms\n    - name: Tail\n      requirement: p99 latency < 2s\n".into()));
        let plan = propagate_budget(
            &load_sources(&files).spec,
            &BudgetRequest {
                constraint_id: "checkout.interaction.timeout".into(),
                ..Default::default()
            },
        )
        .unwrap();
        assert_eq!(plan.allocations[0].budget_ms, 2000.0, "{plan:#?}");
        assert_eq!(
            plan.allocations[0].declared_by.as_deref(),
            Some("cart.performance.tail")
        );
        assert_eq!(plan.allocations[1].budget_ms, 28000.0);
    }

    #[test]
    fn participants_the_spec_does_not_declare_are_refused() {
        let err = propagate_budget(
            &spec(),
            &BudgetRequest {
                constraint_id: "shop.performance.checkout_latency".into(),
                participants: vec![
                    "cart".into(),
                    "nope".into(),
                    "nope".into(),
                    "gateway".into(),
                ],
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(matches!(err, AnalysisError::Invalid(_)));
        assert!(
            err.to_string()
                .starts_with("`gateway`, `nope` are neither a declared domain nor a participant"),
            "{err}"
        );
        // An interaction's own participants need not be declared domains.
        let plan = propagate_budget(
            &spec(),
            &BudgetRequest {
                constraint_id: "checkout.interaction.distributed_timeout".into(),
                participants: vec!["inventory".into(), "cart".into()],
                ..Default::default()
            },
        )
        .unwrap();
        assert!(plan.fits);
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

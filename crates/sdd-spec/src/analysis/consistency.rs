//! Constraints checked against each other and against what numbers can mean: two rate limits
//! for the same scope and window with different numbers, a domain limit looser than the global
//! one, latency percentiles out of order, availability above 100 %.
//!
//! Every comparison is made inside a group that shares scope and kind (a hash map keyed by
//! them), so the cost is linear in the constraints: no pair of unrelated constraints is ever
//! looked at.

use std::collections::HashMap;

use crate::constraint::CheckSpec;
use crate::diagnostic::Diagnostic;
use crate::model::{Constraint, ConstraintScope, Spec};

/// Every finding of this module, in constraint order within each kind of finding.
pub fn check_constraints(spec: &Spec) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    impossible_values(spec, &mut out);
    rate_limits(spec, &mut out);
    size_limits(spec, &mut out);
    latency_bounds(spec, &mut out);
    out
}

/// `global`, `domain `x``, `interaction `y``: for messages.
fn scope_words(scope: &ConstraintScope) -> String {
    match scope {
        ConstraintScope::Global(name) => format!("global (system `{name}`)"),
        ConstraintScope::Domain(name) => format!("domain `{name}`"),
        ConstraintScope::Interaction(name) => format!("interaction `{name}`"),
    }
}

/// A constraint whose number cannot hold is an error of the spec, not something the checker
/// lacks; the loader already keeps it out of the checks (`NotCheckable::impossible`).
fn impossible_values(spec: &Spec, out: &mut Vec<Diagnostic>) {
    for c in &spec.constraints {
        let Some(why) = c.parsed.not_checkable.as_ref().filter(|w| w.impossible) else {
            continue;
        };
        let read_from = match (&c.parsed.source, c.requirement.as_deref()) {
            (crate::constraint::CheckSource::Structured, _) => "its `check:` block".to_string(),
            (_, Some(text)) => match c.measurement.as_deref() {
                Some(measurement) => format!("\"{text}\" measured \"{measurement}\""),
                None => format!("\"{text}\""),
            },
            (_, None) => "its sentences".to_string(),
        };
        out.push(
            Diagnostic::error(
                "impossible-value",
                format!(
                    "constraint `{}` states a value that cannot hold: {} (read from {read_from}); \
                     it is not used as a check",
                    c.id, why.reason
                ),
            )
            .at(&c.location)
            .with_help(
                "write the number that was meant: percentiles within (0, 100], availability and \
                 success rate above 0 % and at most 100 %, error rate within [0, 100] %, \
                 durations, windows and limits above zero",
            ),
        );
    }
}

struct Bound<'a, T> {
    constraint: &'a Constraint,
    value: T,
}

/// The two findings of one kind of limit.
struct Codes {
    /// Two bounds on the same thing under the same scope with different numbers (an error).
    same_scope_code: &'static str,
    /// A domain or interaction bound looser than the global one (a warning).
    looser_code: &'static str,
}

/// Reports, for each group of bounds on the same thing under the same scope, every bound whose
/// number differs from the group's first one (`same_scope_code`, an error); and for each bound
/// under a domain or interaction, whether it allows more than the strictest global bound on the
/// same thing (`looser_code`, a warning). `describe` words one bound for a message.
fn compare_groups<K, T>(
    bounds: Vec<(K, Bound<'_, T>)>,
    Codes {
        same_scope_code,
        looser_code,
    }: Codes,
    describe: impl Fn(&K, &T) -> String,
    out: &mut Vec<Diagnostic>,
) where
    K: std::hash::Hash + Eq + Clone,
    T: PartialOrd + Copy,
{
    let mut by_scope: HashMap<(&ConstraintScope, K), Vec<Bound<'_, T>>> = HashMap::new();
    let mut order: Vec<(&ConstraintScope, K)> = Vec::new();
    let mut strictest_global: HashMap<K, (&Constraint, T)> = HashMap::new();
    for (key, bound) in bounds {
        if matches!(bound.constraint.scope, ConstraintScope::Global(_)) {
            let entry = strictest_global
                .entry(key.clone())
                .or_insert((bound.constraint, bound.value));
            if bound.value < entry.1 {
                *entry = (bound.constraint, bound.value);
            }
        }
        let group_key = (&bound.constraint.scope, key);
        let group = by_scope.entry(group_key.clone()).or_insert_with(|| {
            order.push(group_key);
            Vec::new()
        });
        group.push(bound);
    }
    for group_key in order {
        let group = &by_scope[&group_key];
        let (scope, key) = group_key;
        let first = &group[0];
        for other in &group[1..] {
            if other.value != first.value && other.constraint.id != first.constraint.id {
                out.push(
                    Diagnostic::error(
                        same_scope_code,
                        format!(
                            "constraint `{}` sets {}, but `{}` ({}) sets {} for the same {}: one \
                             of the two numbers is wrong",
                            other.constraint.id,
                            describe(&key, &other.value),
                            first.constraint.id,
                            first.constraint.location,
                            describe(&key, &first.value),
                            scope_words(scope)
                        ),
                    )
                    .at(&other.constraint.location)
                    .with_help("keep one number: correct or delete one of the two constraints"),
                );
            }
        }
        if matches!(scope, ConstraintScope::Global(_)) {
            continue;
        }
        let Some((global, limit)) = strictest_global.get(&key) else {
            continue;
        };
        for bound in group {
            if bound.value > *limit {
                out.push(
                    Diagnostic::warning(
                        looser_code,
                        format!(
                            "constraint `{}` allows {} for {}, more than the global `{}` ({}) \
                             allows ({}), which holds there too",
                            bound.constraint.id,
                            describe(&key, &bound.value),
                            scope_words(scope),
                            global.id,
                            global.location,
                            describe(&key, limit)
                        ),
                    )
                    .at(&bound.constraint.location)
                    .with_help(format!(
                        "a narrower scope may be stricter than the global constraint, not looser: \
                         lower this one to {}, or change the global one",
                        describe(&key, limit)
                    )),
                );
            }
        }
    }
}

fn rate_limits(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let mut bounds = Vec::new();
    for c in &spec.constraints {
        for check in &c.parsed.checks {
            if let CheckSpec::RateLimit {
                max_requests,
                window_seconds,
                per,
            } = check
            {
                bounds.push((
                    (per.clone(), window_seconds.to_bits()),
                    Bound {
                        constraint: c,
                        value: *max_requests,
                    },
                ));
            }
        }
    }
    compare_groups(
        bounds,
        Codes {
            same_scope_code: "conflicting-rate-limit",
            looser_code: "looser-rate-limit",
        },
        |(per, window): &(String, u64), max: &u64| {
            let per = if per == "global" {
                String::new()
            } else {
                format!(" per {per}")
            };
            format!(
                "at most {max} requests per {} s{per}",
                f64::from_bits(*window)
            )
        },
        out,
    );
}

/// Words before the bound that name the field: "Task title max 200 characters" → `task title`.
/// `None` when nothing names one (the limit then compares with nothing).
fn field_of(subject: &str) -> Option<String> {
    const STOP: &[&str] = &[
        "must", "should", "shall", "is", "are", "can", "cannot", "may", "up", "max", "maximum",
        "at", "limited", "limit", "has", "have", "not", "no", "be", "to", "of", "accept",
        "accepts",
    ];
    const FILLER: &[&str] = &["the", "a", "an", "each", "every", "any", "length", "size"];
    let lower = subject.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .take_while(|w| !STOP.contains(w))
        .filter(|w| !FILLER.contains(w))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

fn size_limits(spec: &Spec, out: &mut Vec<Diagnostic>) {
    let mut bounds = Vec::new();
    for c in &spec.constraints {
        for check in &c.parsed.checks {
            if let CheckSpec::MaxSize { max, unit, subject } = check {
                if let Some(field) = field_of(subject) {
                    bounds.push((
                        (field, unit.clone()),
                        Bound {
                            constraint: c,
                            value: *max,
                        },
                    ));
                }
            }
        }
    }
    compare_groups(
        bounds,
        Codes {
            same_scope_code: "conflicting-size-limit",
            looser_code: "looser-size-limit",
        },
        |(field, unit): &(String, String), max: &f64| format!("{field} at most {max} {unit}"),
        out,
    );
}

/// Latency bounds on the same scope and operations: the same percentile bounded twice with
/// different numbers, and a lower percentile bounded above a higher one (p50 ≤ p99 always).
fn latency_bounds(spec: &Spec, out: &mut Vec<Diagnostic>) {
    type Group<'a> = Vec<(f64, f64, &'a Constraint)>;
    let mut groups: HashMap<(&ConstraintScope, &str), Group<'_>> = HashMap::new();
    let mut order = Vec::new();
    for c in &spec.constraints {
        for check in &c.parsed.checks {
            if let CheckSpec::Latency {
                percentile,
                max_ms,
                scope,
            } = check
            {
                let key = (&c.scope, scope.as_str());
                groups
                    .entry(key)
                    .or_insert_with(|| {
                        order.push(key);
                        Vec::new()
                    })
                    .push((*percentile, *max_ms, &**c));
            }
        }
    }
    for key in order {
        let mut group = groups.remove(&key).unwrap_or_default();
        if group.len() < 2 {
            continue;
        }
        let (scope, operations) = key;
        // Stable: within a percentile, file order decides which bound is "the first".
        group.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut start = 0;
        while start < group.len() {
            let end = start + group[start..].partition_point(|g| g.0 == group[start].0);
            let (p, first_ms, first) = group[start];
            for &(_, ms, c) in &group[start + 1..end] {
                if ms != first_ms && c.id != first.id {
                    out.push(
                        Diagnostic::error(
                            "conflicting-latency",
                            format!(
                                "constraint `{}` bounds p{p} latency of {operations} operations \
                                 at {ms} ms, but `{}` ({}) bounds it at {first_ms} ms for the \
                                 same {}: one of the two numbers is wrong",
                                c.id,
                                first.id,
                                first.location,
                                scope_words(scope)
                            ),
                        )
                        .at(&c.location)
                        .with_help("keep one bound per percentile: correct or delete one of them"),
                    );
                }
            }
            start = end;
        }
        // From the highest percentile down, the tightest bound seen at a strictly higher one.
        let mut tightest_above: Option<(f64, f64, &Constraint)> = None;
        let mut i = group.len();
        while i > 0 {
            let p = group[i - 1].0;
            let begin = group[..i].partition_point(|g| g.0 < p);
            for &(_, ms, c) in &group[begin..i] {
                if let Some((q, bound, other)) = tightest_above {
                    if ms > bound {
                        out.push(
                            Diagnostic::error(
                                "latency-out-of-order",
                                format!(
                                    "constraint `{}` bounds p{p} latency of {operations} \
                                     operations at {ms} ms, but `{}` ({}) bounds p{q} at {bound} \
                                     ms for the same {}: p{p} ≤ p{q} always, so one of the \
                                     numbers is wrong",
                                    c.id,
                                    other.id,
                                    other.location,
                                    scope_words(scope)
                                ),
                            )
                            .at(&c.location)
                            .with_help(format!(
                                "a higher percentile's bound must be at least a lower one's: \
                                 bound p{p} at most {bound} ms, or correct p{q}'s"
                            )),
                        );
                    }
                }
            }
            for &(pc, ms, c) in &group[begin..i] {
                if tightest_above.is_none_or(|(_, bound, _)| ms < bound) {
                    tightest_above = Some((pc, ms, c));
                }
            }
            i = begin;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The findings of this module on the given files, as (code, constraint-ID-in-message).
    fn findings(files: &[(&str, &str)]) -> Vec<Diagnostic> {
        check_constraints(&super::super::spec_of(files))
    }

    fn codes(d: &[Diagnostic]) -> Vec<&str> {
        d.iter().map(|d| d.code.as_str()).collect()
    }

    const SYSTEM: &str = "system: Shop\ndomains:\n  - name: orders\n  - name: search\nglobal_constraints:\n  security:\n    - name: Global rate\n      requirement: Max 100 requests per minute per user\n";

    #[test]
    fn rate_limits_for_the_same_scope_and_window_must_agree() {
        let d = findings(&[
            ("s.yaml", SYSTEM),
            ("o.yaml", "feature: Orders\ndomain: orders\nconstraints:\n  security:\n    - name: Order rate\n      requirement: Max 50 requests per minute per user\n    - name: Order rate again\n      requirement: At most 60 requests per minute per user\n    - name: Burst\n      requirement: Max 10 requests per second per user\n"),
            ("q.yaml", "feature: Search\ndomain: search\nconstraints:\n  security:\n    - name: Search rate\n      requirement: Max 500 requests per minute per user\n    - name: Per IP\n      requirement: Max 500 requests per minute per IP\n"),
        ]);
        assert_eq!(
            codes(&d),
            ["conflicting-rate-limit", "looser-rate-limit"],
            "{d:#?}"
        );
        assert_eq!(d[0].severity, crate::Severity::Error);
        assert!(
            d[0].message.contains("`orders.security.order_rate_again` sets at most 60 requests per 60 s per user, but `orders.security.order_rate`"),
            "{}",
            d[0].message
        );
        assert_eq!(d[0].line, Some(7));
        assert!(d[0].help.as_deref().unwrap().starts_with("keep one number"));
        // Stricter than global (50 < 100) is a refinement; looser (500 > 100) is the finding;
        // another `per` or window compares with nothing.
        assert_eq!(d[1].severity, crate::Severity::Warning);
        assert!(
            d[1].message
                .starts_with("constraint `search.security.search_rate` allows at most 500 requests per 60 s per user for domain `search`, more than the global `shop.security.global_rate`"),
            "{}",
            d[1].message
        );
        assert!(
            d[1].help.as_deref().unwrap().contains(
                "lower this one to at most 100 requests per 60 s per user, or change the global one"
            ),
            "{:?}",
            d[1].help
        );
    }

    #[test]
    fn size_limits_on_the_same_field() {
        let d = findings(&[
            ("s.yaml", "system: Shop\ndomains:\n  - name: orders\nglobal_constraints:\n  input:\n    - name: Title\n      requirement: Title max 200 characters\n"),
            ("o.yaml", "feature: Orders\ndomain: orders\nconstraints:\n  input:\n    - name: Title\n      requirement: Title max 255 characters\n    - name: Title again\n      requirement: The title must be at most 100 characters\n    - name: Note\n      requirement: Note max 5000 characters\n    - name: Upload\n      requirement: Files up to 5 MB\n"),
        ]);
        assert_eq!(
            codes(&d),
            ["conflicting-size-limit", "looser-size-limit"],
            "{d:#?}"
        );
        assert!(
            d[0].message.contains("title at most 100 characters"),
            "{}",
            d[0].message
        );
        assert!(
            d[1].message
                .contains("`orders.input.title` allows title at most 255 characters"),
            "{}",
            d[1].message
        );
    }

    #[test]
    fn latency_percentiles_out_of_order_or_twice() {
        let d = findings(&[(
            "o.yaml",
            "feature: Orders\ndomain: orders\nconstraints:\n  performance:\n    - name: Tail\n      requirement: p99 latency < 100ms\n    - name: Median\n      requirement: p50 latency < 200ms\n    - name: Tail again\n      requirement: p99 latency < 150ms\n    - name: Reads\n      requirement: p50 latency < 500ms for read operations\n    - name: Fine\n      requirement: p90 latency < 100ms\n",
        )]);
        assert_eq!(
            codes(&d),
            ["conflicting-latency", "latency-out-of-order"],
            "{d:#?}"
        );
        assert!(d[1].message.contains("`orders.performance.median` bounds p50 latency of all operations at 200 ms, but `orders.performance.tail`"), "{}", d[1].message);
        assert!(d[1].message.contains("p50 ≤ p99 always"));
    }

    #[test]
    fn impossible_values_are_errors_that_say_what_was_read() {
        let cases: &[(&str, &str)] = &[
            ("100.5% availability", "availability (100.5%)"),
            ("0% availability", "floor of zero"),
            ("Success rate above 101%", "success rate (101%)"),
            ("Error rate < 101%", "error rate (101%)"),
            ("p150 latency < 200ms", "percentile 150"),
            ("p0 latency < 200ms", "percentile 0"),
            ("p99 latency < 0ms", "latency bound (0 s)"),
            ("Checkout completes within -5 seconds", "`-5` is negative"),
            ("Checkout completes within 0 seconds", "time bound (0 s)"),
            (
                "Max 100 requests per 0 seconds per user",
                "rate-limit window (0 s)",
            ),
            ("Title max 0 characters", "size limit (0)"),
        ];
        for (requirement, said) in cases {
            let d = findings(&[(
                "f.yaml",
                &format!("feature: T\nconstraints:\n  c:\n    - name: X\n      requirement: {requirement}\n"),
            )]);
            assert_eq!(codes(&d), ["impossible-value"], "{requirement}: {d:#?}");
            assert!(
                d[0].message.contains(said),
                "{requirement}: {}",
                d[0].message
            );
            assert!(d[0].message.contains(requirement), "{}", d[0].message);
            assert_eq!(d[0].line, Some(4));
        }
        let structured = findings(&[(
            "f.yaml",
            "feature: T\nconstraints:\n  c:\n    - name: X\n      check: {kind: availability, min_percent: 100.5}\n",
        )]);
        assert_eq!(codes(&structured), ["impossible-value"]);
        assert!(structured[0].message.contains("`check:` block"));
        // Values that can hold, and numbers the checker merely cannot use, are no finding here.
        for fine in [
            "99.5% availability",
            "100% availability",
            "p100 latency < 2s",
            "Error rate < 0%",
            "p95 latency < 1e3ms",
            "Max 100 requests per 10 seconds per user",
        ] {
            let d = findings(&[(
                "f.yaml",
                &format!(
                    "feature: T\nconstraints:\n  c:\n    - name: X\n      requirement: {fine}\n"
                ),
            )]);
            assert!(d.is_empty(), "{fine}: {d:#?}");
        }
    }

    #[test]
    fn fields_are_named_by_the_words_before_the_bound() {
        let table = [
            ("task title", Some("task title")),
            ("the title must be at most", Some("title")),
            ("title length", Some("title")),
            ("accept files", None),
            ("", None),
        ];
        for (subject, field) in table {
            assert_eq!(field_of(subject).as_deref(), field, "{subject:?}");
        }
    }

    /// 10,000 constraints in one scope: grouped, not compared pairwise.
    #[test]
    fn many_constraints_stay_cheap() {
        let mut text = String::from("feature: T\nconstraints:\n  c:\n");
        for i in 0..10_000 {
            text.push_str(&format!(
                "    - name: C{i}\n      requirement: p{} latency < {}ms\n",
                50 + i % 49,
                100 + i % 49
            ));
        }
        let started = std::time::Instant::now();
        let d = findings(&[("f.yaml", &text)]);
        assert!(d.iter().all(|d| d.code != "latency-out-of-order"));
        assert!(started.elapsed().as_secs() < 20);
    }
}

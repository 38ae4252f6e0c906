//! Coverage: per domain, which classes of edge case have scenarios and which are missing, with a
//! drafted scenario for each missing class that the agent can propose as is.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::constraint::CheckSpec;
use crate::document::{OneOrMany, ProposedScenario, ReviewStatus};
use crate::model::{Scenario, Spec};

/// The classes of edge case every domain is checked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EdgeCaseClass {
    ErrorPaths,
    Auth,
    InputBounds,
    Concurrency,
    Idempotency,
    Injection,
    NotFound,
    RateLimits,
}

pub const ALL_CLASSES: [EdgeCaseClass; 8] = [
    EdgeCaseClass::ErrorPaths,
    EdgeCaseClass::Auth,
    EdgeCaseClass::InputBounds,
    EdgeCaseClass::Concurrency,
    EdgeCaseClass::Idempotency,
    EdgeCaseClass::Injection,
    EdgeCaseClass::NotFound,
    EdgeCaseClass::RateLimits,
];

impl EdgeCaseClass {
    pub fn name(self) -> &'static str {
        match self {
            EdgeCaseClass::ErrorPaths => "error_paths",
            EdgeCaseClass::Auth => "auth",
            EdgeCaseClass::InputBounds => "input_bounds",
            EdgeCaseClass::Concurrency => "concurrency",
            EdgeCaseClass::Idempotency => "idempotency",
            EdgeCaseClass::Injection => "injection",
            EdgeCaseClass::NotFound => "not_found",
            EdgeCaseClass::RateLimits => "rate_limits",
        }
    }

    /// Whether `scenario` exercises this class, as [`analyze_coverage`] counts it (so a list
    /// of the covering scenarios can be filtered and paged elsewhere).
    pub fn covered_by(self, scenario: &Scenario) -> bool {
        self.shown_in(&scenario_text(scenario))
    }

    fn shown_in(self, lowercased: &str) -> bool {
        self.markers().iter().any(|m| starts_a_word(lowercased, m))
    }

    /// Phrases that show a scenario exercises this class (matched on lowercased text).
    fn markers(self) -> &'static [&'static str] {
        match self {
            EdgeCaseClass::ErrorPaths => &[
                "error",
                "fail",
                "invalid",
                "reject",
                "cannot",
                "can't",
                "refuse",
                "not allowed",
                "insufficient",
            ],
            EdgeCaseClass::Auth => &[
                "unauthenticated",
                "unauthorized",
                "unauthorised",
                "forbidden",
                "permission",
                "without a token",
                "without token",
                "no token",
                "expired token",
                "invalid token",
                "not logged in",
                "access denied",
                "401",
                "403",
                "another user",
                "another tenant",
            ],
            EdgeCaseClass::InputBounds => &[
                "too long",
                "too large",
                "too big",
                "max",
                "maximum",
                "minimum",
                "exceed",
                "oversize",
                "empty",
                "negative",
                "zero",
                "characters",
                "boundary",
                "limit of",
            ],
            EdgeCaseClass::Concurrency => &[
                "concurrent",
                "simultaneous",
                "at the same time",
                "race",
                "parallel",
            ],
            EdgeCaseClass::Idempotency => &[
                "idempot",
                "twice",
                "again",
                "duplicate",
                "retry",
                "retried",
                "same request",
                "resubmit",
            ],
            EdgeCaseClass::Injection => &[
                "injection",
                "drop table",
                "<script",
                "' or ",
                "../",
                "xss",
                "sanitiz",
                "escape",
                "$where",
            ],
            EdgeCaseClass::NotFound => &[
                "not found",
                "does not exist",
                "doesn't exist",
                "nonexistent",
                "non-existent",
                "unknown id",
                "missing",
                "404",
                "deleted",
            ],
            EdgeCaseClass::RateLimits => &[
                "rate limit",
                "too many requests",
                "throttl",
                "429",
                "per minute",
                "requests per",
            ],
        }
    }
}

/// Whether `marker` occurs at the start of a word of `text` ("race" not in "trace"); a marker
/// that is a whole word also ends one ("again" not in "against").
fn starts_a_word(text: &str, marker: &str) -> bool {
    const WHOLE: &[&str] = &[
        "again", "race", "max", "zero", "empty", "escape", "missing", "twice",
    ];
    text.match_indices(marker).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + marker.len()..].chars().next();
        before.is_none_or(|c| !c.is_alphanumeric())
            && (!WHOLE.contains(&marker) || after.is_none_or(|c| !c.is_alphanumeric()))
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ClassCoverage {
    pub class: EdgeCaseClass,
    /// IDs of the scenarios that exercise this class.
    pub scenarios: Vec<String>,
    /// IDs of constraints of the domain that state a rule for this class (a rule is not a
    /// scenario: it still needs one that shows the behaviour).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<String>,
}

/// A scenario that reads as covering a class but contradicts the rule for it (anonymous
/// success where authentication is required, a burst over the rate limit that succeeds, …):
/// it shows the opposite of the behaviour, so it does not count.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NotCounted {
    pub class: EdgeCaseClass,
    pub scenario: String,
    /// The constraint it contradicts, if the rule is a constraint's (else another scenario's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// The finding, as `validate_spec` reports it.
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DomainCoverage {
    pub domain: String,
    pub scenario_count: usize,
    pub covered: Vec<ClassCoverage>,
    pub missing: Vec<EdgeCaseClass>,
    /// Scenarios left out of a class because they contradict its rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_counted: Vec<NotCounted>,
    /// One drafted scenario per missing class, ready for `propose_scenarios`.
    pub suggestions: Vec<ProposedScenario>,
}

/// Coverage of one domain, or of every domain with scenarios when `domain` is `None`.
pub fn analyze_coverage(spec: &Spec, domain: Option<&str>) -> Vec<DomainCoverage> {
    let mut domains: Vec<&str> = match domain {
        Some(d) => vec![d],
        None => {
            let mut names: Vec<&str> = spec.scenarios.iter().map(|s| s.domain.as_str()).collect();
            names.sort();
            names.dedup();
            names
        }
    };
    domains.dedup();
    domains
        .into_iter()
        .map(|d| domain_coverage(spec, d))
        .collect()
}

/// A scenario's name, given, when and then, lowercased: what the markers are looked for in.
fn scenario_text(s: &Scenario) -> String {
    let mut text = s.name.clone();
    for part in s.given.iter().chain(s.when.iter()).chain(s.then.iter()) {
        text.push(' ');
        text.push_str(part);
    }
    text.to_lowercase()
}

fn domain_coverage(spec: &Spec, domain: &str) -> DomainCoverage {
    let scenarios: Vec<_> = spec
        .scenarios_in(domain)
        .filter(|s| s.status != ReviewStatus::Rejected)
        .collect();
    let texts: Vec<(String, String)> = scenarios
        .iter()
        .map(|s| (s.id.clone(), scenario_text(s)))
        .collect();
    let entity = entity_of(spec, domain);
    let limits = DomainLimits::of(spec, domain);
    let not_counted = contradicting(spec, &scenarios);
    let mut covered = Vec::new();
    let mut missing = Vec::new();
    let mut suggestions = Vec::new();
    for class in ALL_CLASSES {
        let ids: Vec<String> = texts
            .iter()
            .filter(|(id, t)| {
                class.shown_in(t)
                    && !not_counted
                        .iter()
                        .any(|n| n.class == class && &n.scenario == id)
            })
            .map(|(id, _)| id.clone())
            .collect();
        if ids.is_empty() {
            missing.push(class);
            suggestions.push(draft(class, domain, &entity, &limits));
        } else {
            covered.push(ClassCoverage {
                class,
                scenarios: ids,
                constraints: limits.constraints_for(class),
            });
        }
    }
    DomainCoverage {
        domain: domain.to_string(),
        scenario_count: scenarios.len(),
        covered,
        missing,
        not_counted,
        suggestions,
    }
}

/// The class whose rule each kind of contradiction breaks.
fn class_of(conflict_kind: &str) -> Option<EdgeCaseClass> {
    use super::scenario_rules::{CONTRADICTS_AUTH, CONTRADICTS_OWNERSHIP, CONTRADICTS_RATE_LIMIT};
    match conflict_kind {
        CONTRADICTS_AUTH | CONTRADICTS_OWNERSHIP => Some(EdgeCaseClass::Auth),
        CONTRADICTS_RATE_LIMIT => Some(EdgeCaseClass::RateLimits),
        "contradicts-limit" => Some(EdgeCaseClass::InputBounds),
        _ => None,
    }
}

/// The IDs of the scenarios (of any domain) that read as covering `class` but contradict its
/// rule: what a list of the covering scenarios must leave out, as [`analyze_coverage`] does.
pub fn not_counted_for(spec: &Spec, class: EdgeCaseClass) -> std::collections::HashSet<String> {
    let live: Vec<&Scenario> = spec
        .scenarios
        .iter()
        .map(|s| &**s)
        .filter(|s| s.status != ReviewStatus::Rejected)
        .collect();
    contradicting(spec, &live)
        .into_iter()
        .filter(|n| n.class == class)
        .map(|n| n.scenario)
        .collect()
}

fn contradicting(spec: &Spec, scenarios: &[&Scenario]) -> Vec<NotCounted> {
    let report = super::conflicts::against_rules(spec, scenarios);
    let mut not_counted: Vec<NotCounted> = Vec::new();
    for conflict in report.conflicts {
        let Some(class) = class_of(&conflict.kind) else {
            continue;
        };
        // The scenario that breaks the rule is named first; a size limit another scenario
        // states is named after it, and that one is not at fault.
        let Some(scenario) = conflict.scenarios.first() else {
            continue;
        };
        if not_counted
            .iter()
            .any(|n| n.class == class && &n.scenario == scenario)
        {
            continue;
        }
        not_counted.push(NotCounted {
            class,
            scenario: scenario.clone(),
            constraint: conflict.constraint,
            reason: conflict.message,
        });
    }
    not_counted
}

/// The main thing a domain's scenarios act on: the most frequent noun after "create a" / "a",
/// else the domain name in singular.
fn entity_of(spec: &Spec, domain: &str) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = Default::default();
    for s in spec.scenarios_in(domain) {
        let text =
            format!("{} {}", s.when.as_deref().unwrap_or(""), s.given.join(" ")).to_lowercase();
        let words: Vec<&str> = text
            .split(|c: char| !c.is_alphanumeric() && c != '_')
            .filter(|w| !w.is_empty())
            .collect();
        for pair in words.windows(2) {
            if matches!(pair[0], "a" | "an" | "the")
                && pair[1].len() > 2
                && !STOP.contains(&pair[1])
            {
                *counts.entry(pair[1].to_string()).or_default() += 1;
            }
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, n)| *n)
        .map(|(w, _)| w)
        .unwrap_or_else(|| {
            let last = domain.rsplit('_').next().unwrap_or(domain);
            last.strip_suffix('s').unwrap_or(last).to_string()
        })
}

const STOP: &[&str] = &[
    "title",
    "list",
    "user",
    "users",
    "csv",
    "new",
    "same",
    "valid",
    "subscription",
];

struct DomainLimits {
    rate: Option<(u64, f64, String)>,
    size: Option<(f64, String)>,
    auth: Vec<String>,
    rate_ids: Vec<String>,
    size_ids: Vec<String>,
    injection_ids: Vec<String>,
}

impl DomainLimits {
    fn of(spec: &Spec, domain: &str) -> Self {
        let mut limits = DomainLimits {
            rate: None,
            size: None,
            auth: Vec::new(),
            rate_ids: Vec::new(),
            size_ids: Vec::new(),
            injection_ids: Vec::new(),
        };
        for c in spec.constraints_for(domain) {
            for check in &c.parsed.checks {
                match check {
                    CheckSpec::RateLimit {
                        max_requests,
                        window_seconds,
                        per,
                    } => {
                        limits
                            .rate
                            .get_or_insert((*max_requests, *window_seconds, per.clone()));
                        limits.rate_ids.push(c.id.clone());
                    }
                    CheckSpec::MaxSize { max, unit, .. } => {
                        limits.size.get_or_insert((*max, unit.clone()));
                        limits.size_ids.push(c.id.clone());
                    }
                    CheckSpec::Authentication { .. } => limits.auth.push(c.id.clone()),
                    CheckSpec::InjectionSafe { .. } => limits.injection_ids.push(c.id.clone()),
                    _ => {}
                }
            }
        }
        limits
    }

    fn constraints_for(&self, class: EdgeCaseClass) -> Vec<String> {
        match class {
            EdgeCaseClass::Auth => self.auth.clone(),
            EdgeCaseClass::RateLimits => self.rate_ids.clone(),
            EdgeCaseClass::InputBounds => self.size_ids.clone(),
            EdgeCaseClass::Injection => self.injection_ids.clone(),
            _ => Vec::new(),
        }
    }
}

fn draft(
    class: EdgeCaseClass,
    domain: &str,
    entity: &str,
    limits: &DomainLimits,
) -> ProposedScenario {
    let e = entity;
    let (name, given, when, then, rationale): (String, Vec<String>, String, Vec<String>, String) =
        match class {
            EdgeCaseClass::ErrorPaths => (
                format!("Reject a {e} with a missing required field"),
                vec![],
                format!("I create a {e} without its required fields"),
                vec![
                    "I should receive a validation error that names the missing field".into(),
                    format!("No {e} should be created"),
                ],
                format!("No scenario in `{domain}` shows what happens on invalid input."),
            ),
            EdgeCaseClass::Auth => {
                (
                    format!("Refuse {e} access without valid credentials"),
                    vec![],
                    format!("I request a {e} without an authentication token"),
                    vec![
                        "I should receive an error \"401 Unauthorized\"".into(),
                        format!("No {e} data should be returned"),
                    ],
                    if limits.auth.is_empty() {
                        format!("No scenario in `{domain}` shows an unauthenticated request being refused.")
                    } else {
                        format!("Constraint `{}` requires authentication, but no scenario shows a refusal.", limits.auth[0])
                    },
                )
            }
            EdgeCaseClass::InputBounds => {
                let (max, unit) = limits.size.clone().unwrap_or((255.0, "characters".into()));
                (
                    format!("Refuse an oversized {e} field"),
                    vec![],
                    format!(
                        "I create a {e} with a field of {} {unit}",
                        (max as u64).saturating_add(1)
                    ),
                    vec![
                        format!(
                            "I should receive an error \"Too long (max {})\"",
                            max as u64
                        ),
                        format!("No {e} should be created"),
                    ],
                    format!("No scenario in `{domain}` tests the boundary of an input size."),
                )
            }
            EdgeCaseClass::Concurrency => (
                format!("Concurrent updates to one {e}"),
                vec![
                    format!("A {e} exists"),
                    "Two users update it simultaneously".into(),
                ],
                format!("Both users change the same {e} at the same time"),
                vec![
                    "Exactly one update should succeed".into(),
                    "The other should receive an error \"Conflict\"".into(),
                ],
                format!("No scenario in `{domain}` says what happens when two requests race."),
            ),
            EdgeCaseClass::Idempotency => (
                format!("Submitting the same {e} request twice"),
                vec![],
                format!("I send the same create {e} request twice with one idempotency key"),
                vec![
                    format!("Exactly one {e} should exist"),
                    "Both responses should carry the same ID".into(),
                ],
                format!("No scenario in `{domain}` covers retries or duplicate submissions."),
            ),
            EdgeCaseClass::Injection => (
                format!("Store injection payloads in {e} fields verbatim"),
                vec![],
                format!("I create a {e} with the text \"'; DROP TABLE {domain}; --\" in a field"),
                vec![
                    format!("A {e} should be created with that exact text"),
                    "The system should remain functional".into(),
                ],
                format!("No scenario in `{domain}` shows hostile input handled safely."),
            ),
            EdgeCaseClass::NotFound => (
                format!("Access a {e} that does not exist"),
                vec![],
                format!("I request a {e} with an ID that does not exist"),
                vec![format!(
                    "I should receive an error \"{} not found\"",
                    capitalise(e)
                )],
                format!("No scenario in `{domain}` covers a missing {e}."),
            ),
            EdgeCaseClass::RateLimits => {
                let (n, window, per) = limits.rate.clone().unwrap_or((100, 60.0, "user".into()));
                (
                    "Refuse requests over the rate limit".to_string(),
                    vec![format!(
                        "A {per} has made {n} requests in the last {} seconds",
                        window as u64
                    )],
                    format!("The {per} makes one more request"),
                    vec!["I should receive an error \"429 Too Many Requests\"".into()],
                    if limits.rate_ids.is_empty() {
                        format!("No scenario in `{domain}` shows a rate limit being enforced.")
                    } else {
                        format!(
                            "Constraint `{}` sets a rate limit, but no scenario shows it enforced.",
                            limits.rate_ids[0]
                        )
                    },
                )
            }
        };
    ProposedScenario {
        id: None,
        name,
        given: match given.len() {
            0 => None,
            1 => Some(OneOrMany::One(given.into_iter().next().unwrap_or_default())),
            _ => Some(OneOrMany::Many(given)),
        },
        when: Some(when),
        then: OneOrMany::Many(then),
        rationale,
        tags: vec![format!("edge-case:{}", class.name())],
        examples: Vec::new(),
    }
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().collect::<String>() + chars.as_str(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_sources;

    /// A scenario that shows the opposite of a rule does not cover the rule's class: anonymous
    /// success where tokens are required reads as "auth" but is the very hole the class asks
    /// to be tested.
    #[test]
    fn a_scenario_that_contradicts_a_rule_does_not_cover_its_class() {
        let yaml = "feature: Bookings\nconstraints:\n  security:\n    - name: Tokens\n      requirement: All endpoints require a valid token\n    - name: Rate limit\n      requirement: Max 100 requests per minute per user\nscenarios:\n  - name: Book without a token\n    when: I book a room without a token\n    then: The booking is created\n  - name: Burst\n    when: A user sends 150 requests in one minute to check rooms\n    then: All requests succeed\n";
        let spec = load_sources(&[("b.yaml".into(), yaml.into())]).spec;
        let report = &analyze_coverage(&spec, None)[0];
        assert!(report.missing.contains(&EdgeCaseClass::Auth), "{report:#?}");
        assert!(
            EdgeCaseClass::Auth.covered_by(spec.scenario("bookings.book_without_a_token").unwrap())
        );
        assert_eq!(
            not_counted_for(&spec, EdgeCaseClass::Auth),
            ["bookings.book_without_a_token".to_string()].into()
        );
        assert!(
            report.missing.contains(&EdgeCaseClass::RateLimits),
            "{report:#?}"
        );
        let not_counted: Vec<(EdgeCaseClass, &str)> = report
            .not_counted
            .iter()
            .map(|n| (n.class, n.scenario.as_str()))
            .collect();
        assert_eq!(
            not_counted,
            vec![
                (EdgeCaseClass::Auth, "bookings.book_without_a_token"),
                (EdgeCaseClass::RateLimits, "bookings.burst"),
            ]
        );
        assert_eq!(
            report.not_counted[0].constraint.as_deref(),
            Some("bookings.security.tokens")
        );
    }

    #[test]
    fn markers_are_words() {
        assert!(starts_a_word("i submit it again", "again"));
        assert!(!starts_a_word(
            "the notes are saved against the trip",
            "again"
        ));
        assert!(!starts_a_word("a trace id", "race"));
        assert!(starts_a_word("two requests race", "race"));
        assert!(starts_a_word("it is idempotent", "idempot"));
    }

    #[test]
    fn seed_task_spec_lacks_auth_and_not_found_but_has_error_paths() {
        let yaml = "feature: Tasks\nconstraints:\n  security:\n    - name: Rate limiting\n      requirement: Max 100 requests per minute per user\nscenarios:\n  - name: Create a simple task\n    when: I create a task with title \"Buy groceries\"\n    then: A task should exist\n  - name: Cannot complete already completed task\n    given: A task exists with status \"completed\"\n    when: I try to mark the task as complete again\n    then: I should receive an error \"Task is already completed\"\n";
        let spec = load_sources(&[("t.yaml".into(), yaml.into())]).spec;
        let report = &analyze_coverage(&spec, None)[0];
        assert_eq!(report.domain, "tasks");
        let covered: Vec<_> = report.covered.iter().map(|c| c.class).collect();
        assert!(covered.contains(&EdgeCaseClass::ErrorPaths));
        assert!(covered.contains(&EdgeCaseClass::Idempotency));
        assert!(report.missing.contains(&EdgeCaseClass::Auth));
        assert!(report.missing.contains(&EdgeCaseClass::NotFound));
        assert_eq!(report.missing.len(), report.suggestions.len());
        let rate = report
            .suggestions
            .iter()
            .find(|s| s.tags[0] == "edge-case:rate_limits")
            .unwrap();
        assert!(rate
            .given
            .as_ref()
            .map(|g| g.clone().into_vec().join(" "))
            .unwrap()
            .contains("100 requests in the last 60 seconds"));
        assert!(rate.rationale.contains("tasks.security.rate_limiting"));
        let not_found = report
            .suggestions
            .iter()
            .find(|s| s.tags[0] == "edge-case:not_found")
            .unwrap();
        assert_eq!(not_found.name, "Access a task that does not exist");
    }
}

//! Conflicts: duplicate names, scenarios with the same Given+When and contradicting outcomes, and
//! scenarios that contradict a size limit stated by a constraint or another scenario.
//!
//! Scenarios are indexed by normalised (Given, When) so only scenarios that share a situation are
//! compared: 10,000 scenarios are never compared pairwise.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::constraint::{parse_sentence, CheckSpec};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Scenario, Spec};
use crate::text::{
    claim_shape, claim_values, normalise, overall_polarity, overall_polarity_after, polarity,
    Polarity,
};

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Conflict {
    /// `duplicate-name`, `duplicate-behaviour`, `contradicting-outcomes`, `contradicts-limit`.
    pub kind: String,
    pub message: String,
    /// The scenario IDs involved.
    pub scenarios: Vec<String>,
    /// The constraint involved, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ConflictReport {
    pub conflicts: Vec<Conflict>,
    pub diagnostics: Vec<Diagnostic>,
}

impl ConflictReport {
    /// A conflict, told twice: as the diagnostic (located, with help) and as the conflict
    /// between `scenarios` (and `constraint`) under the diagnostic's code and message.
    pub(crate) fn add(
        &mut self,
        diagnostic: Diagnostic,
        scenarios: Vec<String>,
        constraint: Option<String>,
    ) {
        self.conflicts.push(Conflict {
            kind: diagnostic.code.clone(),
            message: diagnostic.message.clone(),
            scenarios,
            constraint,
        });
        self.diagnostics.push(diagnostic);
    }
}

/// Find conflicts among all scenarios of the spec (rejected scenarios are ignored).
pub fn find_conflicts(spec: &Spec) -> ConflictReport {
    let live: Vec<&Scenario> = spec
        .scenarios
        .iter()
        .map(|s| &**s)
        // A second scenario with a taken ID is reported as `duplicate-id`; compared here too,
        // its findings would name one ID twice.
        .filter(|s| s.status != crate::document::ReviewStatus::Rejected && s.duplicate_of.is_none())
        .collect();
    let mut report = ConflictReport::default();
    duplicate_names(&live, &mut report);
    same_situation(&live, &mut report);
    size_limits(spec, &live, &mut report);
    super::scenario_rules::check(spec, &live, &mut report);
    report
}

/// Which of `scenarios` contradict a constraint that applies to them, or a limit another of
/// them states: what coverage must not count as showing the behaviour the rule asks for.
pub(crate) fn against_rules(spec: &Spec, scenarios: &[&Scenario]) -> ConflictReport {
    let mut report = ConflictReport::default();
    size_limits(spec, scenarios, &mut report);
    super::scenario_rules::check(spec, scenarios, &mut report);
    report
}

/// Check one candidate scenario (not yet in the spec) against the spec.
pub fn conflicts_with(spec: &Spec, candidate: &Scenario) -> ConflictReport {
    let mut scenarios: Vec<&Scenario> = spec
        .scenarios
        .iter()
        .map(|s| &**s)
        .filter(|s| s.status != crate::document::ReviewStatus::Rejected && s.id != candidate.id)
        .collect();
    // First: it is what every finding kept must name, and the first of a situation is the
    // one the others are compared with.
    scenarios.insert(0, candidate);
    let mut report = ConflictReport::default();
    duplicate_names(&scenarios, &mut report);
    same_situation(&scenarios, &mut report);
    size_limits(spec, &scenarios, &mut report);
    super::scenario_rules::check(spec, &[candidate], &mut report);
    report
        .conflicts
        .retain(|c| c.scenarios.contains(&candidate.id));
    report
        .diagnostics
        .retain(|d| d.message.contains(&format!("`{}`", candidate.id)));
    report
}

fn duplicate_names(scenarios: &[&Scenario], report: &mut ConflictReport) {
    let mut seen: HashMap<(String, String), &Scenario> = HashMap::new();
    for s in scenarios {
        let key = (s.domain.clone(), normalise(&s.name));
        if let Some(first) = seen.get(&key) {
            let message = format!(
                "scenario `{}` has the same name as `{}` ({}) in domain `{}`",
                s.id, first.id, first.location, s.domain
            );
            report.add(
                Diagnostic::error("duplicate-name", &message)
                    .at(&s.location)
                    .with_help("give each scenario a name that says how it differs"),
                vec![first.id.clone(), s.id.clone()],
                None,
            );
        } else {
            seen.insert(key, s);
        }
    }
}

fn situation_key(s: &Scenario) -> String {
    let mut given: Vec<String> = s.given.iter().map(|g| normalise(g)).collect();
    given.sort();
    format!(
        "{}|{}|{}",
        s.domain,
        given.join(";"),
        normalise(s.when.as_deref().unwrap_or(""))
    )
}

/// How many distinct outcomes of one situation (same Given and When) are compared with each
/// other, and how many contradictions among them are told one by one. Comparing is quadratic
/// in the outcomes: an outline of thousands of rows that differ only in their Then must not
/// cost minutes and gigabytes; what is not compared or not told is said, never dropped silently.
const COMPARED_OUTCOMES: usize = 200;
const TOLD_CONTRADICTIONS: usize = 50;

/// One scenario's outcome, read once: what says two scenarios expect the same, or not.
struct Outcome<'a> {
    scenario: &'a Scenario,
    /// Its Then, normalised and sorted: equal keys mean the same behaviour.
    key: Vec<String>,
    polarity: Polarity,
    /// Each Then line's shape (its values blanked) with its values: quoted ones and numbers.
    values: Vec<(String, Vec<String>, &'a str)>,
}

impl<'a> Outcome<'a> {
    fn of(scenario: &'a Scenario) -> Outcome<'a> {
        let mut key: Vec<String> = scenario.then.iter().map(|t| normalise(t)).collect();
        key.sort();
        Outcome {
            scenario,
            key,
            polarity: overall_polarity_after(&scenario.then, scenario.when.as_deref()),
            values: scenario
                .then
                .iter()
                .map(|t| (claim_shape(t), claim_values(t), t.as_str()))
                .filter(|(_, quoted, _)| !quoted.is_empty())
                .collect(),
        }
    }
}

fn same_situation(scenarios: &[&Scenario], report: &mut ConflictReport) {
    let mut groups: HashMap<String, Vec<&Scenario>> = HashMap::new();
    for s in scenarios.iter().filter(|s| s.when.is_some()) {
        groups.entry(situation_key(s)).or_default().push(s);
    }
    let mut keys: Vec<&String> = groups.keys().filter(|k| groups[*k].len() > 1).collect();
    keys.sort();
    for key in keys {
        situation(&groups[key], report);
    }
}

/// The scenarios of one situation: each one whose outcome an earlier one already has is a
/// duplicate of the first with it (one finding each, not one per pair); then the distinct
/// outcomes are compared with each other.
fn situation(group: &[&Scenario], report: &mut ConflictReport) {
    let mut distinct: Vec<Outcome> = Vec::new();
    for scenario in group {
        let outcome = Outcome::of(scenario);
        match distinct.iter().find(|d| d.key == outcome.key) {
            Some(first) => duplicate_behaviour(first.scenario, scenario, report),
            None => distinct.push(outcome),
        }
    }
    let compared = distinct.len().min(COMPARED_OUTCOMES);
    let mut found = 0usize;
    for (i, a) in distinct[..compared].iter().enumerate() {
        for b in &distinct[i + 1..compared] {
            let Some(reasons) = contradiction(a, b) else {
                continue;
            };
            found += 1;
            if found <= TOLD_CONTRADICTIONS {
                contradicting_outcomes(a.scenario, b.scenario, &reasons, report);
            }
        }
    }
    // Success against failure is found in one pass over them all, however many there are:
    // the plainest contradiction must not hide past the first 200.
    let first = |p: Polarity| distinct.iter().position(|d| d.polarity == p);
    if let (Some(s), Some(f)) = (first(Polarity::Success), first(Polarity::Failure)) {
        if s.max(f) >= compared {
            let (a, b) = (&distinct[s.min(f)], &distinct[s.max(f)]);
            // Told beyond the cap: it is one finding, and the one that matters most.
            if let Some(reasons) = contradiction(a, b) {
                contradicting_outcomes(a.scenario, b.scenario, &reasons, report);
            }
        }
    }
    let untold = found.saturating_sub(TOLD_CONTRADICTIONS);
    let uncompared = distinct.len() - compared;
    if untold > 0 || uncompared > 0 {
        let first = group[0];
        let mut parts = Vec::new();
        if untold > 0 {
            parts.push(format!(
                "{untold} more contradictions among them are not listed"
            ));
        }
        if uncompared > 0 {
            parts.push(format!(
                "only the first {compared} of their {} distinct outcomes were compared with each other",
                distinct.len()
            ));
        }
        report.diagnostics.push(
            Diagnostic::warning(
                "many-outcomes",
                format!(
                    "{} scenarios start from the same Given and When as `{}`: {}",
                    group.len(),
                    first.id,
                    parts.join("; ")
                ),
            )
            .at(&first.location)
            .with_help("give the scenarios Givens that say what differs between them (an outline's Examples columns belong in its Given or When)"),
        );
    }
}

fn duplicate_behaviour(a: &Scenario, b: &Scenario, report: &mut ConflictReport) {
    let message = format!(
        "scenarios `{}` and `{}` describe the same behaviour (same Given, When and Then)",
        a.id, b.id
    );
    report.add(
        Diagnostic::warning("duplicate-behaviour", &message)
            .at(&b.location)
            .with_help("remove one, or make them differ in what they set up or expect"),
        vec![a.id.clone(), b.id.clone()],
        None,
    );
}

/// Why two different outcomes of the same situation contradict each other, if they do.
fn contradiction(a: &Outcome, b: &Outcome) -> Option<Vec<String>> {
    let mut reasons = Vec::new();
    let (pa, pb) = (a.polarity, b.polarity);
    if pa != Polarity::Neutral && pb != Polarity::Neutral && pa != pb {
        reasons.push(format!(
            "one expects the action to {} and the other to {}",
            if pa == Polarity::Success {
                "succeed"
            } else {
                "fail"
            },
            if pb == Polarity::Success {
                "succeed"
            } else {
                "fail"
            },
        ));
    }
    for (shape_a, qa, ta) in &a.values {
        for (shape_b, qb, tb) in &b.values {
            if qa != qb && shape_a == shape_b {
                reasons.push(format!("\"{ta}\" vs \"{tb}\""));
            }
        }
    }
    (!reasons.is_empty()).then_some(reasons)
}

fn contradicting_outcomes(
    a: &Scenario,
    b: &Scenario,
    reasons: &[String],
    report: &mut ConflictReport,
) {
    let message = format!(
        "scenarios `{}` and `{}` start from the same Given and When but expect contradicting outcomes: {}",
        a.id,
        b.id,
        reasons.join("; ")
    );
    report.add(
        Diagnostic::error("contradicting-outcomes", &message)
            .at(&b.location)
            .with_help(format!(
                "decide which is right, or make the Given of one differ (first one at {})",
                a.location
            )),
        vec![a.id.clone(), b.id.clone()],
        None,
    );
}

/// A limit on some field's size, from a constraint or from a scenario's outcome ("max 255").
struct SizeLimit {
    max: f64,
    unit: String,
    subjects: Vec<&'static str>,
    /// Every word of the limit's text, stemmed: what a field the scenario names is looked up in.
    words: std::collections::BTreeSet<String>,
    source: String,
    constraint: Option<String>,
    scenario: Option<String>,
}

const FIELD_WORDS: &[&str] = &[
    "title",
    "name",
    "description",
    "comment",
    "body",
    "text",
    "password",
    "email",
    "file",
    "upload",
    "message",
    "content",
    "username",
    "note",
    "tag",
    "label",
];

fn subjects(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    FIELD_WORDS
        .iter()
        .copied()
        .filter(|w| lower.contains(w))
        .collect()
}

/// Size limits at every scope: a domain's scenarios are held to the limits of the
/// constraints that apply to the domain (its own, the global ones, its interactions') and to
/// the limits its other scenarios state when they refuse ("max 255").
fn size_limits(spec: &Spec, scenarios: &[&Scenario], report: &mut ConflictReport) {
    let mut from_constraints: HashMap<&str, Vec<SizeLimit>> = HashMap::new();
    let mut from_scenarios: HashMap<&str, Vec<SizeLimit>> = HashMap::new();
    for s in scenarios {
        for outcome in &s.then {
            // A limit is a number (most outcomes have none, and need no parsing) in a refusal,
            // or in a rule the action keeps ("must not exceed 255 characters").
            if !outcome.bytes().any(|b| b.is_ascii_digit())
                || polarity(outcome) == Polarity::Success
            {
                continue;
            }
            for check in parse_sentence(outcome, &[]) {
                if let CheckSpec::MaxSize { max, unit, .. } = check {
                    let text = format!("{outcome} {}", s.when.as_deref().unwrap_or(""));
                    from_scenarios
                        .entry(s.domain.as_str())
                        .or_default()
                        .push(SizeLimit {
                            max,
                            unit,
                            subjects: subjects(&text),
                            words: field_stems(&text),
                            source: format!("scenario `{}` (\"{outcome}\")", s.id),
                            constraint: None,
                            scenario: Some(s.id.clone()),
                        });
                }
            }
        }
    }
    for s in scenarios {
        let Some(when) = &s.when else { continue };
        // A size is a number: most Whens have none, and need no tokenizing.
        if !when.bytes().any(|b| b.is_ascii_digit()) {
            continue;
        }
        let Some((size, unit, field)) = crate::constraint::stated_size(when) else {
            continue;
        };
        if overall_polarity(&s.then) != Polarity::Success {
            continue;
        }
        let constraint_limits = from_constraints
            .entry(s.domain.as_str())
            .or_insert_with(|| constraint_size_limits(spec, &s.domain));
        let scenario_subjects = subjects(when);
        let limits = constraint_limits
            .iter()
            .chain(from_scenarios.get(s.domain.as_str()).into_iter().flatten());
        for limit in limits {
            // The field the scenario names ("a memo of 300 characters") must be one the limit
            // names; without one, a known field word they share.
            let same_field = match &field {
                Some(field) => limit.words.contains(&field_stem(field)),
                None => limit.subjects.iter().any(|w| scenario_subjects.contains(w)),
            };
            if limit.unit != unit
                || !same_field
                || size <= limit.max
                || limit.scenario.as_ref() == Some(&s.id)
            {
                continue;
            }
            let message = format!(
                "scenario `{}` expects success with {size} {unit}, but {} allows at most {} {unit}",
                s.id, limit.source, limit.max
            );
            let mut ids = vec![s.id.clone()];
            ids.extend(limit.scenario.clone());
            report.add(
                Diagnostic::new(Severity::Error, "contradicts-limit", &message)
                    .at(&s.location)
                    .with_help(
                        "either the scenario should expect a refusal, or the limit is wrong",
                    ),
                ids,
                limit.constraint.clone(),
            );
        }
    }
}

fn constraint_size_limits(spec: &Spec, domain: &str) -> Vec<SizeLimit> {
    let mut limits = Vec::new();
    for c in spec.constraints_for(domain) {
        for check in &c.parsed.checks {
            if let CheckSpec::MaxSize { max, unit, subject } = check {
                let text = format!(
                    "{} {} {}",
                    c.name,
                    subject,
                    c.requirement.as_deref().unwrap_or("")
                );
                limits.push(SizeLimit {
                    max: *max,
                    unit: unit.clone(),
                    subjects: subjects(&text),
                    words: field_stems(&text),
                    source: format!("constraint `{}`", c.id),
                    constraint: Some(c.id.clone()),
                    scenario: None,
                });
            }
        }
    }
    limits
}

fn field_stem(word: &str) -> String {
    crate::text::stem(word, 5)
}

fn field_stems(text: &str) -> std::collections::BTreeSet<String> {
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 1)
        .map(field_stem)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_sources;

    fn conflicts(yaml: &str) -> ConflictReport {
        find_conflicts(&load_sources(&[("f.yaml".into(), yaml.into())]).spec)
    }

    #[test]
    fn contradicting_outcomes_for_the_same_situation() {
        let r = conflicts(
            "feature: T\nscenarios:\n  - name: A\n    given: A task exists\n    when: I complete the task\n    then: The task should have status \"completed\"\n  - name: B\n    given: a task exists\n    when: I complete the task.\n    then: The task should have status \"archived\"\n  - name: C\n    when: something else\n    then: x\n",
        );
        assert_eq!(r.conflicts.len(), 1, "{:#?}", r.conflicts);
        assert_eq!(r.conflicts[0].kind, "contradicting-outcomes");
        assert_eq!(
            r.conflicts[0].scenarios,
            vec!["t.a".to_string(), "t.b".into()]
        );
    }

    /// Many scenarios of one situation (an outline whose rows differ only in their Then): the
    /// findings grow with the scenarios, not with their pairs, and what is not compared or not
    /// told is said.
    #[test]
    fn a_crowded_situation_costs_findings_per_scenario_not_per_pair() {
        let spec = |n: usize, then: &dyn Fn(usize) -> String| {
            let mut yaml = String::from("feature: T\nscenarios:\n");
            for i in 0..n {
                yaml.push_str(&format!(
                    "  - name: Row {i}\n    given: a user\n    when: I log in\n    then: {}\n",
                    then(i)
                ));
            }
            conflicts(&yaml)
        };
        let count = |r: &ConflictReport, code: &str| {
            r.diagnostics.iter().filter(|d| d.code == code).count()
        };
        // Two outcomes, alternating: each row after the first two is a duplicate of the first
        // with its outcome; the two outcomes contradict once.
        let r = spec(1000, &|i| {
            if i % 2 == 0 {
                "the login fails"
            } else {
                "the login succeeds"
            }
            .to_string()
        });
        assert_eq!(count(&r, "duplicate-behaviour"), 998);
        assert_eq!(count(&r, "contradicting-outcomes"), 1);
        assert_eq!(count(&r, "many-outcomes"), 0);
        // 300 different expected values: 200 compared, 50 contradictions told, the rest said.
        let r = spec(300, &|i| format!("the status is \"s{i}\""));
        assert_eq!(count(&r, "contradicting-outcomes"), TOLD_CONTRADICTIONS);
        let many: Vec<&Diagnostic> = r
            .diagnostics
            .iter()
            .filter(|d| d.code == "many-outcomes")
            .collect();
        assert_eq!(many.len(), 1, "{many:#?}");
        assert!(
            many[0].message.contains("19850 more contradictions")
                && many[0].message.contains("first 200 of their 300"),
            "{}",
            many[0].message
        );
    }

    /// One success and one failure among thousands of distinct outcomes of one situation are
    /// found, though only the first 200 are compared pairwise.
    #[test]
    fn success_against_failure_is_found_past_the_compared_outcomes() {
        let mut yaml = String::from("feature: T\nscenarios:\n");
        for i in 0..500 {
            let then = match i {
                0 => "The order is created".to_string(),
                499 => "No order is created".to_string(),
                _ => format!("The order has note \"n{i}\""),
            };
            yaml.push_str(&format!("  - name: Row {i}\n    given: a cart\n    when: I place an order\n    then: {then}\n"));
        }
        let r = conflicts(&yaml);
        let found: Vec<&Conflict> = r
            .conflicts
            .iter()
            .filter(|c| c.scenarios == vec!["t.row_0".to_string(), "t.row_499".into()])
            .collect();
        assert_eq!(found.len(), 1, "{:#?}", &r.conflicts[..3]);
        assert!(found[0].message.contains("succeed and the other to fail"));
    }

    #[test]
    fn the_same_claim_with_other_numbers_is_a_contradiction() {
        let r = conflicts(
            "feature: Rides\nscenarios:\n  - name: A\n    given: a 10 km trip\n    when: The ride ends\n    then: The rider is billed £18.40\n  - name: B\n    given: a 10 km trip\n    when: The ride ends\n    then: The rider is billed £20.00\n",
        );
        assert_eq!(r.conflicts.len(), 1, "{:#?}", r.conflicts);
        assert!(
            r.conflicts[0].message.contains("£18.40"),
            "{}",
            r.conflicts[0].message
        );
    }

    #[test]
    fn success_versus_failure_is_a_contradiction() {
        let r = conflicts(
            "feature: T\nscenarios:\n  - name: A\n    when: I create a task with no title\n    then: A task should be created\n  - name: B\n    when: I create a task with no title\n    then: I should receive an error \"Title required\"\n",
        );
        assert_eq!(r.conflicts[0].kind, "contradicting-outcomes");
    }

    #[test]
    fn scenario_contradicting_a_size_limit() {
        let r = conflicts(
            "feature: T\nscenarios:\n  - name: Long titles work\n    when: I create a task with a title of 10,000 characters\n    then: A task should be created\n  - name: Too long\n    when: I create a task with a title of 300 characters\n    then: I should receive an error \"Title too long (max 255)\"\n",
        );
        let c = r
            .conflicts
            .iter()
            .find(|c| c.kind == "contradicts-limit")
            .expect("limit conflict");
        assert_eq!(
            c.scenarios,
            vec!["t.long_titles_work".to_string(), "t.too_long".into()]
        );
        assert!(c.message.contains("10000 characters"), "{}", c.message);
    }

    #[test]
    fn constraint_limit_conflicts_too_and_refusal_is_fine() {
        let r = conflicts(
            "feature: T\nconstraints:\n  input:\n    - name: Title length\n      requirement: Title max 255 characters\nscenarios:\n  - name: Long\n    when: I create a task with a title of 1000 characters\n    then: A task should be created\n  - name: Refused\n    when: I create a task with a title of 2000 characters\n    then: I should receive an error\n",
        );
        assert_eq!(r.conflicts.len(), 1, "{:#?}", r.conflicts);
        assert_eq!(
            r.conflicts[0].constraint.as_deref(),
            Some("t.input.title_length")
        );
    }

    #[test]
    fn a_negated_outcome_contradicts_a_success() {
        let r = conflicts(
            "feature: Loans\nscenarios:\n  - name: Approve\n    given: An applicant with a good score\n    when: I apply for a loan\n    then: A loan is created\n  - name: Approve again\n    given: an applicant with a good score\n    when: I apply for a loan\n    then: No loan is created\n",
        );
        assert_eq!(r.conflicts.len(), 1, "{:#?}", r.conflicts);
        assert_eq!(r.conflicts[0].kind, "contradicting-outcomes");
        assert!(r.conflicts[0]
            .message
            .contains("succeed and the other to fail"));
    }

    #[test]
    fn a_global_size_limit_binds_every_domain() {
        let spec = load_sources(&[
            ("system.yaml".into(), "system: Shop\ndomains:\n  - name: reviews\nglobal_constraints:\n  input:\n    - name: Text fields\n      requirement: Comment max 500 characters\n".into()),
            ("reviews.yaml".into(), "domain: reviews\nscenarios:\n  - name: Long review\n    when: I post a comment of 2,000 characters\n    then: The comment is stored\n".into()),
        ])
        .spec;
        let r = find_conflicts(&spec);
        assert_eq!(r.conflicts.len(), 1, "{:#?}", r.conflicts);
        assert_eq!(r.conflicts[0].kind, "contradicts-limit");
        assert_eq!(
            r.conflicts[0].constraint.as_deref(),
            Some("shop.input.text_fields")
        );
    }

    /// The field is the one the scenario names, whatever it is called, and sizes are held in
    /// the limit's unit ("80MB" against "50MB").
    #[test]
    fn any_named_field_and_any_size_unit() {
        let kinds = |limit: &str, when: &str| -> Vec<String> {
            conflicts(&format!("feature: T\nconstraints:\n  input:\n    - name: Limit\n      requirement: {limit}\nscenarios:\n  - name: Big\n    when: {when}\n    then: It is accepted\n"))
                .conflicts
                .into_iter()
                .map(|c| c.kind)
                .collect()
        };
        let hit = vec!["contradicts-limit".to_string()];
        assert_eq!(
            kinds(
                "Transfer memo max 140 characters",
                "A customer sends a transfer with a memo of 300 characters"
            ),
            hit
        );
        assert_eq!(kinds("Files up to 50MB", "I upload a file of 80MB"), hit);
        assert_eq!(
            kinds(
                "Payloads max 64KB",
                "A device posts a payload of 100000 bytes"
            ),
            hit
        );
        // Another field, or under the limit: nothing.
        assert!(kinds(
            "Transfer memo max 140 characters",
            "A customer sends a transfer with a reference of 300 characters"
        )
        .is_empty());
        assert!(kinds("Files up to 50MB", "I upload a file of 20MB").is_empty());
    }

    #[test]
    fn duplicate_names_with_explicit_ids() {
        let r = conflicts("feature: T\nscenarios:\n  - id: X1\n    name: Same\n    when: a\n    then: b\n  - id: X2\n    name: same\n    when: c\n    then: d\n");
        assert_eq!(r.conflicts[0].kind, "duplicate-name");
    }
}

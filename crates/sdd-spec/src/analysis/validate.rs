//! Validation: load diagnostics plus semantic lints, conflicts and graph problems, in one report.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::constraint::{contains_word, has_digit, vague_word};
use crate::diagnostic::{Diagnostic, Location, Severity};
use crate::document::{OneOrMany, ReviewStatus, ScenarioDoc};
use crate::ids;
use crate::model::{Scenario, Spec};

use super::{conflicts, consistency, graph, interactions};

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ValidationSummary {
    pub files: usize,
    pub domains: usize,
    pub scenarios: usize,
    pub constraints: usize,
    pub checkable_constraints: usize,
    pub errors: usize,
    pub warnings: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ValidationReport {
    /// True when there is no error (warnings allowed).
    pub valid: bool,
    pub summary: ValidationSummary,
    /// Errors first, then warnings, each group in file order.
    pub diagnostics: Vec<Diagnostic>,
}

/// Validate a whole spec: `load_diagnostics` are those the loader returned with it.
pub fn validate(spec: &Spec, load_diagnostics: &[Diagnostic]) -> ValidationReport {
    let mut diagnostics = load_diagnostics.to_vec();
    for scenario in &spec.scenarios {
        lint_scenario(scenario, &mut diagnostics);
    }
    for constraint in &spec.constraints {
        // A value that cannot hold is `consistency`'s `impossible-value` error instead.
        if let Some(why) = constraint
            .parsed
            .not_checkable
            .as_ref()
            .filter(|w| !w.impossible)
        {
            diagnostics.push(
                Diagnostic::warning(
                    "not-checkable",
                    format!(
                        "constraint `{}` is not machine-checkable: {}",
                        constraint.id, why.reason
                    ),
                )
                .at(&constraint.location)
                .with_help(format!("add a structured check, e.g.\n{}", why.suggestion)),
            );
        }
        let text = constraint
            .requirement
            .as_deref()
            .unwrap_or("")
            .to_lowercase();
        if let Some(word) = vague_word(&text) {
            if !has_digit(&text) && constraint.parsed.not_checkable.is_none() {
                diagnostics.push(
                    Diagnostic::warning(
                        "vague-wording",
                        format!("`{word}` in constraint `{}` has no number", constraint.id),
                    )
                    .at(&constraint.location),
                );
            }
        }
    }
    if spec.files.is_empty() && load_diagnostics.is_empty() {
        diagnostics.push(
            Diagnostic::warning("empty-spec", "no spec files found")
                .with_help("add YAML files with `feature:`, `system:`, `domain:` or `interaction:` under the spec root"),
        );
    }
    diagnostics.extend(graph::dependency_graph(spec).diagnostics);
    let mut conflicts = conflicts::find_conflicts(spec);
    // A duplicate ID derived from the name is a duplicate name too: `duplicate-id` says it,
    // once (`scenario `x` has the same name as `x`` would only repeat it).
    for conflict in &conflicts.conflicts {
        if conflict.kind == "duplicate-name"
            && conflict.scenarios.windows(2).all(|pair| pair[0] == pair[1])
        {
            conflicts
                .diagnostics
                .retain(|d| !(d.code == conflict.kind && d.message == conflict.message));
        }
    }
    diagnostics.extend(conflicts.diagnostics);
    diagnostics.extend(consistency::check_constraints(spec));
    diagnostics.extend(interactions::check_interactions(spec));
    finish(spec, diagnostics)
}

fn finish(spec: &Spec, mut diagnostics: Vec<Diagnostic>) -> ValidationReport {
    // Analyses quote IDs and sentences; a 60 KiB one must not make every finding about it
    // (and so the report) too large to show. The loader's own are clipped already.
    for d in &mut diagnostics {
        crate::load::clip(&mut d.message);
    }
    diagnostics.sort_by(|a, b| {
        (a.severity, &a.file, a.line, a.column).cmp(&(b.severity, &b.file, b.line, b.column))
    });
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    ValidationReport {
        valid: errors == 0,
        summary: ValidationSummary {
            files: spec.files.len(),
            domains: spec.domains.len(),
            scenarios: spec.scenarios.len(),
            constraints: spec.constraints.len(),
            checkable_constraints: spec
                .constraints
                .iter()
                .filter(|c| c.parsed.is_checkable())
                .count(),
            errors,
            warnings,
        },
        diagnostics,
    }
}

/// Phrases that claim an outcome nobody can observe from outside, matched as whole words (so
/// `works` is not found in `networks`) in a `then` with no quoted value and no number.
/// Judgements of how it feels ("should feel confident", "works well", "is nice") belong here:
/// a test can only check a status, a value, a state or a count. Each one costs trust when it
/// fires on a sentence that does name something observable, so phrases that often name data
/// ("simple", "easy" as a difficulty, "satisfied" as a state, "the happy path") are
/// left out or matched only in a phrase; see the table test below.
const UNOBSERVABLE: &[&str] = &[
    "as expected",
    "as intended",
    "as designed",
    "correctly",
    "properly",
    "appropriately",
    "gracefully",
    "reliably",
    "should work",
    "works",
    "work well",
    "work fine",
    "work smoothly",
    "be handled",
    "is handled",
    "are handled",
    "no issues",
    "without issues",
    "without problems",
    "without any problems",
    "is fine",
    "be fine",
    "be good",
    "is good",
    "looks good",
    "look good",
    "is great",
    "looks great",
    "is correct",
    "are correct",
    "looks correct",
    "look correct",
    "looks right",
    "look right",
    "behave",
    "behaves",
    "feel",
    "feels",
    "confident",
    "is happy",
    "are happy",
    "be happy",
    "pleased",
    "delighted",
    "pleasant",
    "enjoyable",
    "frustrated",
    "nice",
    "nicely",
    "is smooth",
    "be smooth",
    "easy to",
    "easily",
    "good experience",
    "great experience",
    "better experience",
];

/// The first phrase of [`UNOBSERVABLE`] in `lower` (a lowercased `then` sentence) when nothing
/// else in it can be observed: no quoted value, no number.
fn unobservable_phrase(text: &str, lower: &str) -> Option<&'static str> {
    if text.contains('"') || has_digit(lower) {
        return None;
    }
    UNOBSERVABLE
        .iter()
        .copied()
        .find(|phrase| contains_word(lower, phrase))
}

fn lint_scenario(s: &Scenario, out: &mut Vec<Diagnostic>) {
    let at = |field: &str| Location {
        path: format!("{}.{field}", s.location.path),
        ..s.location.clone()
    };
    if s.then.is_empty() {
        out.push(
            Diagnostic::error(
                "missing-then",
                format!(
                    "scenario `{}` has no `then`: nothing says what must be true afterwards",
                    s.id
                ),
            )
            .at(&s.location)
            .with_help("add `then:` with at least one observable outcome"),
        );
    }
    if s.when.as_deref().is_none_or(|w| w.trim().is_empty()) {
        out.push(
            Diagnostic::warning(
                "missing-when",
                format!("scenario `{}` has no `when`: no action is described", s.id),
            )
            .at(&s.location)
            .with_help("add `when:` with the action a user or system takes"),
        );
    }
    // Each sentence at its own line where the loader recorded it (`then[1]`), else at the
    // field under the scenario (a candidate that came from no file).
    let clause_at =
        |field: &str, written: Option<&Location>| written.cloned().unwrap_or_else(|| at(field));
    let clauses = s
        .given
        .iter()
        .enumerate()
        .map(|(i, g)| ("given", g, clause_at("given", s.clauses_at.given.get(i))))
        .chain(
            s.when
                .iter()
                .map(|w| ("when", w, clause_at("when", s.clauses_at.when.as_ref()))),
        )
        .chain(
            s.then
                .iter()
                .enumerate()
                .map(|(i, t)| ("then", t, clause_at("then", s.clauses_at.then.get(i)))),
        );
    for (field, text, clause) in clauses {
        let lower = text.to_lowercase();
        if let Some(word) = vague_word(&lower) {
            if !has_digit(&lower) {
                out.push(
                    Diagnostic::warning(
                        "vague-wording",
                        format!(
                            "`{word}` in scenario `{}` ({field}: \"{text}\") is not measurable",
                            s.id
                        ),
                    )
                    .at(&clause)
                    .with_help(
                        "state a number and unit (e.g. \"within 200 ms\") or an observable value",
                    ),
                );
            }
        }
        if field == "then" {
            if let Some(phrase) = unobservable_phrase(text, &lower) {
                out.push(
                    Diagnostic::warning(
                        "unobservable-then",
                        format!("scenario `{}`: \"{text}\" cannot be observed (`{phrase}` names no value, status or state)", s.id),
                    )
                    .at(&clause)
                    .with_help("say what a client would see: a status, a field value, an error message, a count"),
                );
            }
        }
    }
    lint_examples(s, out);
    match s.status {
        ReviewStatus::Proposed if s.rationale.is_none() => out.push(
            Diagnostic::warning("proposal-without-rationale", format!("proposed scenario `{}` has no `rationale`", s.id))
                .at(&s.location)
                .with_help("say why the scenario is needed, so the reviewer can decide"),
        ),
        ReviewStatus::Approved if s.proposed_by.is_some() && s.reviewed_by.is_none() => out.push(
            Diagnostic::warning(
                "approval-not-recorded",
                format!("scenario `{}` was proposed by `{}` and is marked approved, but no reviewer is recorded", s.id, s.proposed_by.as_deref().unwrap_or("")),
            )
            .at(&s.location)
            .with_help("approve proposals with `sdd review`, which records who and when"),
        ),
        _ => {}
    }
}

/// Executable examples: paths that cannot be requested, and `${name}` values no earlier step
/// captures (the example would fail before reaching the service).
fn lint_examples(s: &Scenario, out: &mut Vec<Diagnostic>) {
    for (e, example) in s.examples.iter().enumerate() {
        let mut captured: Vec<&str> = vec!["unique"];
        for (n, step) in example.steps.iter().enumerate() {
            let at = Location {
                path: format!("{}.examples[{e}].steps[{n}]", s.location.path),
                ..s.location.clone()
            };
            let path = &step.request.path;
            if !(path.starts_with('/') || path.starts_with("${")) {
                out.push(
                    Diagnostic::error(
                        "example-path",
                        format!(
                            "example step path `{path}` of scenario `{}` does not start with `/`",
                            s.id
                        ),
                    )
                    .at(&at)
                    .with_help("write the path on the service's base URL, e.g. `/tasks/${id}`"),
                );
            }
            let mut texts: Vec<String> = vec![path.clone()];
            texts.extend(step.request.headers.values().cloned());
            texts.extend(step.request.body.iter().cloned());
            texts.extend(step.request.json.iter().map(|j| j.to_string()));
            texts.extend(step.expect.json.values().map(|j| j.to_string()));
            for text in &texts {
                for name in placeholders(text) {
                    if !name.starts_with("env:") && !captured.contains(&name) {
                        out.push(
                            Diagnostic::error(
                                "example-unknown-value",
                                format!("`${{{name}}}` in an example of scenario `{}` is not captured by an earlier step", s.id),
                            )
                            .at(&at)
                            .with_help("capture it first (`capture: {name: json.path}`), or use `${unique}` / `${env:NAME}`"),
                        );
                    }
                }
            }
            captured.extend(step.capture.keys().map(String::as_str));
        }
    }
}

fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push(&after[..end]);
        rest = &after[end + 1..];
    }
    out
}

/// The result of checking one scenario before it is proposed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioCheck {
    pub valid: bool,
    /// The ID the scenario would get; empty when it can have none (no `id:` and a name without
    /// a letter or digit, reported as `missing-field`).
    pub id: String,
    pub diagnostics: Vec<Diagnostic>,
    pub conflicts: Vec<conflicts::Conflict>,
}

/// Check a candidate scenario for `domain` against the spec: lints and conflicts.
pub fn validate_scenario(spec: &Spec, doc: &ScenarioDoc, domain: &str) -> ScenarioCheck {
    let mut diagnostics = Vec::new();
    // An ID is derived from the name's letters and digits: a blank name (or one of only
    // punctuation) would give `domain.`, which names nothing.
    let unnamed = ids::slug(&doc.name).is_empty();
    if unnamed {
        // The name is not quoted: it may be only control characters.
        let what = if doc.name.trim().is_empty() {
            "the scenario has no name"
        } else {
            "the scenario's name has no letter or digit"
        };
        diagnostics.push(
            Diagnostic::error("missing-field", format!("{what}, so it gets no usable ID"))
                .with_help("give it a `name` that says the behaviour in a few words, e.g. \"Cancel a booking after payment\" (its ID is derived from the name's letters and digits)"),
        );
    }
    // Likewise a blank domain would give `.name`.
    let no_domain = ids::slug(domain).is_empty();
    if no_domain {
        diagnostics.push(
            Diagnostic::error(
                "missing-field",
                "the scenario has no domain, so it gets no usable ID",
            )
            .with_help("pass the domain it belongs to (list them with list_domains)"),
        );
    }
    let id = match &doc.id {
        Some(id) => id.clone(),
        None if unnamed || no_domain => String::new(),
        None => ids::derived_scenario_id(domain, &doc.name),
    };
    let candidate = Scenario {
        id: id.clone(),
        explicit_id: doc.id.is_some(),
        name: doc.name.clone(),
        domain: domain.to_string(),
        feature: None,
        given: doc
            .given
            .clone()
            .map(OneOrMany::into_vec)
            .unwrap_or_default(),
        when: doc.when.clone(),
        then: doc
            .then
            .clone()
            .map(OneOrMany::into_vec)
            .unwrap_or_default(),
        status: doc.status.unwrap_or(ReviewStatus::Proposed),
        rationale: doc.rationale.clone(),
        proposed_by: doc.proposed_by.clone(),
        reviewed_by: None,
        reviewed_at: None,
        approved_fingerprint: None,
        tags: doc.tags.clone(),
        examples: doc.examples.clone(),
        location: Location {
            file: "(candidate)".into(),
            line: 1,
            column: 1,
            path: String::new(),
        },
        duplicate_of: None,
        clauses_at: Default::default(),
    };
    if let Some(problem) = doc.id.as_deref().and_then(ids::check_explicit_id) {
        diagnostics.push(Diagnostic::error(
            "bad-id",
            format!("scenario ID `{id}` is not usable: {problem}"),
        ));
    }
    if let Some(existing) = spec.scenario(&id).filter(|_| !id.is_empty()) {
        diagnostics.push(
            Diagnostic::error(
                "duplicate-id",
                format!(
                    "scenario ID `{id}` is already used at {}",
                    existing.location
                ),
            )
            .with_help("choose a different name or an explicit `id:`"),
        );
    }
    if spec.domain(domain).is_none() {
        diagnostics.push(
            Diagnostic::warning(
                "unknown-domain",
                format!("domain `{domain}` is not declared by any spec file"),
            )
            .with_help("check the domain name with list_domains; a new domain gets its own file"),
        );
    }
    lint_scenario(&candidate, &mut diagnostics);
    let report = conflicts::conflicts_with(spec, &candidate);
    diagnostics.extend(report.diagnostics);
    let valid = !diagnostics.iter().any(|d| d.severity == Severity::Error);
    ScenarioCheck {
        valid,
        id,
        diagnostics,
        conflicts: report.conflicts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_sources;

    fn report(yaml: &str) -> ValidationReport {
        let loaded = load_sources(&[("f.yaml".into(), yaml.into())]);
        validate(&loaded.spec, &loaded.diagnostics)
    }

    fn codes(r: &ValidationReport) -> Vec<&str> {
        r.diagnostics.iter().map(|d| d.code.as_str()).collect()
    }

    #[test]
    fn example_lints() {
        let r = report(
            "feature: T\nscenarios:\n  - name: A\n    when: I post\n    then: I get \"201\"\n    examples:\n      - steps:\n          - request: {method: POST, path: tasks, json: {t: \"${unique}\"}}\n            capture: {id: id}\n          - request: {path: \"/tasks/${id}/${nope}\"}\n",
        );
        let codes = codes(&r);
        assert!(codes.contains(&"example-path"), "{codes:?}");
        let unknown: Vec<_> = r
            .diagnostics
            .iter()
            .filter(|d| d.code == "example-unknown-value")
            .collect();
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        assert!(unknown[0].message.contains("${nope}"));
    }

    #[test]
    fn lints_vague_unobservable_and_missing_parts() {
        let r = report(
            "feature: T\nscenarios:\n  - name: Quick\n    when: I load the page\n    then: It should load quickly\n  - name: No then\n    when: I click\n  - name: Handled\n    when: I send garbage\n    then: The error should be handled properly\n  - name: Fine\n    when: I send garbage\n    then: I should receive an error \"Bad input\"\n",
        );
        let codes = codes(&r);
        assert!(codes.contains(&"vague-wording"), "{codes:?}");
        assert!(codes.contains(&"missing-then"));
        assert!(codes.contains(&"unobservable-then"));
        assert!(!r.valid);
        assert_eq!(
            r.diagnostics[0].severity,
            Severity::Error,
            "errors come first"
        );
        let vague = r
            .diagnostics
            .iter()
            .find(|d| d.code == "vague-wording")
            .unwrap();
        assert_eq!(vague.path.as_deref(), Some("scenarios[0].then"));
        assert_eq!(
            vague.line,
            Some(5),
            "at the `then`, not the scenario's first line"
        );
    }

    /// A finding about one sentence points at that sentence: the list item's own line and
    /// column, in YAML and in Gherkin alike.
    #[test]
    fn clause_findings_point_at_the_sentence() {
        let yaml = "feature: T\nscenarios:\n  - name: A\n    given:\n      - a task exists\n      - the page loads quickly\n    when: I open it\n    then:\n      - I see \"Open\"\n      - it works as expected\n";
        let r = report(yaml);
        let at = |code: &str| {
            let d = r.diagnostics.iter().find(|d| d.code == code).unwrap();
            (d.path.clone().unwrap(), d.line.unwrap(), d.column.unwrap())
        };
        assert_eq!(at("vague-wording"), ("scenarios[0].given[1]".into(), 6, 9));
        assert_eq!(
            at("unobservable-then"),
            ("scenarios[0].then[1]".into(), 10, 9)
        );

        let feature = "Feature: T\n\n  Scenario: A\n    Given a task exists\n    When I open it\n    Then I see \"Open\"\n    And it works as expected\n";
        let loaded = load_sources(&[("t.feature".into(), feature.into())]);
        let r = validate(&loaded.spec, &loaded.diagnostics);
        let d = r
            .diagnostics
            .iter()
            .find(|d| d.code == "unobservable-then")
            .unwrap();
        assert_eq!(
            (d.path.as_deref(), d.line, d.column),
            (Some("scenarios[0].then[1]"), Some(7), Some(5)),
            "{d:?}"
        );
    }

    /// The lexicon of `vague-wording` and `unobservable-then` on `then` sentences: what must
    /// fire, and realistic sentences that must not (a false alarm costs trust too).
    #[test]
    fn untestable_then_sentences_are_told_and_observable_ones_are_not() {
        let codes_of = |then: &str| -> Vec<String> {
            let doc: ScenarioDoc = serde_json::from_value(
                serde_json::json!({"name": "Case", "when": "I act", "then": then}),
            )
            .unwrap();
            validate_scenario(&Spec::default(), &doc, "t")
                .diagnostics
                .into_iter()
                .map(|d| d.code)
                .filter(|c| c == "vague-wording" || c == "unobservable-then")
                .collect()
        };
        #[rustfmt::skip]
        let cases: &[(&str, &[&str])] = &[
            ("the user should feel confident", &["unobservable-then"]),
            ("the checkout works well", &["unobservable-then"]),
            ("the form is user-friendly", &["vague-wording"]),
            ("the form is user friendly", &["vague-wording"]),
            ("the hand-off to payment is seamless", &["vague-wording"]),
            ("the navigation is intuitive", &["vague-wording"]),
            ("the upload completes smoothly", &["vague-wording"]),
            ("a nice confirmation is shown", &["unobservable-then"]),
            ("the page should load quickly", &["vague-wording"]),
            ("the error is handled properly", &["unobservable-then"]),
            ("the total is correct", &["unobservable-then"]),
            ("the data is stored reliably", &["unobservable-then"]),
            ("the result looks good", &["unobservable-then"]),
            ("the app is easy to use", &["vague-wording", "unobservable-then"]),
            ("the user is happy with the result", &["unobservable-then"]),
            // Observable: a count, a value, a status, a state — or a number anywhere.
            ("the task list shows 3 tasks", &[]),
            ("the session works for 30 minutes", &[]),
            ("the response status is 201", &[]),
            ("I should receive an error \"Title is required\"", &[]),
            ("the task has status done", &[]),
            ("the networks list is empty", &[]),
            ("the frameworks field is absent", &[]),
            ("the behaviour log has one entry", &[]),
            ("the task's difficulty is easy", &[]),
            ("the receipt is easy to read", &["unobservable-then"]),
            ("the happy path report lists the order", &[]),
            ("the order is marked satisfied", &[]),
            ("the feedback form is shown", &[]),
            ("the user sees the confidence score", &[]),
            ("the payment is refunded and the booking is cancelled", &[]),
            ("the response has no body", &[]),
        ];
        for (then, expected) in cases {
            assert_eq!(codes_of(then), *expected, "then: {then}");
        }
    }

    /// A candidate with no name has no ID: never `domain.`.
    #[test]
    fn a_candidate_without_a_name_is_refused_with_no_id() {
        for name in ["", "   ", "!!"] {
            let doc: ScenarioDoc = serde_json::from_value(
                serde_json::json!({"name": name, "when": "I book", "then": "the booking has status \"held\""}),
            )
            .unwrap();
            let check = validate_scenario(&Spec::default(), &doc, "bookings");
            assert!(!check.valid, "{name:?}");
            assert!(!check.id.ends_with('.'), "{name:?}: {}", check.id);
            let d = check
                .diagnostics
                .iter()
                .find(|d| d.code == "missing-field")
                .unwrap();
            assert!(d.message.contains("no usable ID"), "{}", d.message);
            assert!(d.help.as_deref().unwrap().contains("`name`"));
        }
        let doc: ScenarioDoc = serde_json::from_value(
            serde_json::json!({"name": "Book", "when": "I book", "then": "the booking has status \"held\""}),
        )
        .unwrap();
        for domain in ["", "  "] {
            let check = validate_scenario(&Spec::default(), &doc, domain);
            assert!(
                !check.valid && check.id.is_empty(),
                "{domain:?}: {}",
                check.id
            );
        }
        let doc: ScenarioDoc = serde_json::from_value(
            serde_json::json!({"name": "", "id": "bookings.hold", "when": "I book", "then": "the booking has status \"held\""}),
        )
        .unwrap();
        assert_eq!(
            validate_scenario(&Spec::default(), &doc, "bookings").id,
            "bookings.hold"
        );
    }

    /// A scenario written without a name gets an ID from its place, never `domain.`, and an
    /// error at its `name`.
    #[test]
    fn a_written_scenario_without_a_name_gets_an_id_from_its_place() {
        let loaded = load_sources(&[(
            "f.yaml".into(),
            "feature: T\nscenarios:\n  - name: Fine\n    when: I act\n    then: I see 1 task\n  - name: \"\"\n    when: I act\n    then: I see 2 tasks\n".into(),
        )]);
        let ids: Vec<&str> = loaded
            .spec
            .scenarios
            .iter()
            .map(|s| s.id.as_str())
            .collect();
        assert_eq!(ids, ["t.fine", "t.unnamed_scenarios_1"]);
        let d = loaded
            .diagnostics
            .iter()
            .find(|d| d.code == "missing-field")
            .unwrap();
        assert_eq!(
            d.message,
            "this scenario has no name, so no ID can be derived from it (it is `t.unnamed_scenarios_1` until it has one)"
        );
        assert_eq!(
            (d.path.as_deref(), d.line),
            (Some("scenarios[1].name"), Some(6))
        );
    }

    /// A duplicate ID keeps its scenario in the model, marked; lookups find the first; one
    /// `duplicate-id`, not a second finding about the same name.
    #[test]
    fn a_duplicate_stays_in_the_model_marked() {
        let first = "feature: T\ndomain: t\nscenarios:\n  - name: Create\n    when: I create a task\n    then: the task has status \"open\"\n";
        let second = "feature: T2\ndomain: t\nscenarios:\n  - name: Other\n    when: I list\n    then: I see 2 tasks\n  - name: Create\n    when: I create a task twice\n    then: the task should work\n";
        let loaded = load_sources(&[
            ("a.yaml".into(), first.into()),
            ("b.yaml".into(), second.into()),
        ]);
        let spec = &loaded.spec;
        assert_eq!(
            spec.scenarios.len(),
            3,
            "every scenario written is in the model"
        );
        let duplicate = &spec.scenarios[2];
        assert_eq!(duplicate.id, "t.create");
        assert_eq!(
            duplicate.duplicate_of.as_ref().unwrap().to_string(),
            "a.yaml:4:5"
        );
        assert_eq!(spec.scenario("t.create").unwrap().location.file, "a.yaml");
        assert_eq!(spec.unique_scenarios().count(), 2);
        assert_eq!(spec.approved_scenarios().count(), 2);
        let r = validate(spec, &loaded.diagnostics);
        assert_eq!(r.summary.scenarios, 3);
        let codes = codes(&r);
        assert_eq!(
            codes.iter().filter(|c| **c == "duplicate-id").count(),
            1,
            "{codes:?}"
        );
        assert!(!codes.contains(&"duplicate-name"), "{codes:?}");
        // The duplicate is linted like any scenario written.
        let unobservable = r
            .diagnostics
            .iter()
            .find(|d| d.code == "unobservable-then")
            .unwrap();
        assert_eq!(unobservable.file.as_deref(), Some("b.yaml"));
        let dup = r
            .diagnostics
            .iter()
            .find(|d| d.code == "duplicate-id")
            .unwrap();
        assert_eq!(
            dup.message,
            "scenario ID `t.create` is already used at a.yaml:4:5"
        );
    }

    #[test]
    fn unparseable_constraint_shows_structured_form() {
        let r = report("feature: T\nconstraints:\n  performance:\n    - name: Speed\n      requirement: The API should be fast\n");
        let d = r
            .diagnostics
            .iter()
            .find(|d| d.code == "not-checkable")
            .unwrap();
        assert!(d.help.as_deref().unwrap().contains("kind: latency"));
        assert_eq!(d.line, Some(4));
    }

    #[test]
    fn candidate_scenario_is_checked_against_the_spec() {
        let loaded = load_sources(&[(
            "f.yaml".into(),
            "feature: T\nscenarios:\n  - name: Complete\n    given: A task exists\n    when: I complete it\n    then: The task should have status \"done\"\n".into(),
        )]);
        let doc: ScenarioDoc = serde_yaml::from_str("name: Complete differently\ngiven: a task exists\nwhen: I complete it\nthen: The task should have status \"archived\"\n").unwrap();
        let check = validate_scenario(&loaded.spec, &doc, "t");
        assert!(!check.valid);
        assert_eq!(check.id, "t.complete_differently");
        assert_eq!(check.conflicts[0].kind, "contradicting-outcomes");
    }
}

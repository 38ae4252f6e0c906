//! Validation: load diagnostics plus semantic lints, conflicts and graph problems, in one report.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::constraint::{has_digit, vague_word};
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
    diagnostics.extend(conflicts::find_conflicts(spec).diagnostics);
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

/// Phrases that claim an outcome nobody can observe from outside.
const UNOBSERVABLE: &[&str] = &[
    "as expected",
    "correctly",
    "properly",
    "appropriately",
    "gracefully",
    "should work",
    "works",
    "be handled",
    "is handled",
    "no issues",
    "is fine",
    "be fine",
    "be good",
    "behave",
];

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
    let clauses = s
        .given
        .iter()
        .map(|g| ("given", g))
        .chain(s.when.iter().map(|w| ("when", w)))
        .chain(s.then.iter().map(|t| ("then", t)));
    for (field, text) in clauses {
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
                    .at(&at(field))
                    .with_help(
                        "state a number and unit (e.g. \"within 200 ms\") or an observable value",
                    ),
                );
            }
        }
        if field == "then" && !text.contains('"') && !has_digit(&lower) {
            if let Some(phrase) = UNOBSERVABLE.iter().find(|p| lower.contains(*p)) {
                out.push(
                    Diagnostic::warning(
                        "unobservable-then",
                        format!("scenario `{}`: \"{text}\" cannot be observed (`{phrase}` names no value, status or state)", s.id),
                    )
                    .at(&at(field))
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
    /// The ID the scenario would get.
    pub id: String,
    pub diagnostics: Vec<Diagnostic>,
    pub conflicts: Vec<conflicts::Conflict>,
}

/// Check a candidate scenario for `domain` against the spec: lints and conflicts.
pub fn validate_scenario(spec: &Spec, doc: &ScenarioDoc, domain: &str) -> ScenarioCheck {
    let id = doc
        .id
        .clone()
        .unwrap_or_else(|| ids::derived_scenario_id(domain, &doc.name));
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
    };
    let mut diagnostics = Vec::new();
    if let Some(problem) = doc.id.as_deref().and_then(ids::check_explicit_id) {
        diagnostics.push(Diagnostic::error(
            "bad-id",
            format!("scenario ID `{id}` is not usable: {problem}"),
        ));
    }
    if let Some(existing) = spec.scenario(&id) {
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
        assert_eq!(vague.line, Some(3));
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

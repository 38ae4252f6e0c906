//! The emergency path: a behavioural bug report ("when X happens, Y should happen but Z
//! happens") becomes a proposed scenario, a failing regression test in the project's test
//! style, and the list of what the fix must not break.
//!
//! Pure: the bug report is parsed here, the scenario and test are built from the spec core's
//! own types (`ProposedScenario`, `testgen`), and the guard list is read off two specs (without
//! and with the proposal). Writing the proposal (`sdd_spec::review::propose`) and the test file
//! is the server's job.

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_spec::analysis::impact::Impact;
use sdd_spec::document::{ExampleDoc, OneOrMany, ProposedScenario, ReviewStatus};
use sdd_spec::model::{ConstraintScope, Scenario, Spec};
use sdd_spec::project::{ProjectFile, ResultsFormat};
use sdd_spec::testgen::{suite_code, Framework, GenerateOptions};

/// The most characters the three parts of a bug report may have together: they all go into
/// the proposal's rationale, which the spec format caps at 4,000.
pub const MAX_REPORT_CHARS: usize = 3_000;
/// The longest scenario name drawn from the situation (cut at a word).
pub const MAX_DERIVED_NAME_CHARS: usize = 80;

/// A behavioural bug report in its three parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BugReport {
    /// X: the situation, the action that triggers the bug (`I complete a task twice`).
    pub when: String,
    /// Y: what should happen (`The API should answer 409`). Becomes the scenario's `then`.
    pub expected: String,
    /// Z: what happens today (`it answers 500`). Recorded in the rationale and the test's
    /// comment, never as an expectation.
    pub actual: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReportError(pub String);

const SHAPE: &str = "write it as `When X, Y should happen but Z happens`";

/// Words that open the situation.
const OPENERS: [&str; 4] = ["when ", "whenever ", "if ", "after "];
/// Words that open the expectation, with spaces around so they match whole words.
const EXPECTS: [&str; 4] = [
    " should ",
    " must ",
    " is expected to ",
    " are expected to ",
];
/// What separates the expectation from what happens instead; at one position the longest wins.
const INSTEADS: [&str; 10] = [
    ", but actually ",
    " but actually ",
    ", but instead ",
    " but instead ",
    "; instead ",
    ", instead ",
    " instead ",
    "; but ",
    ", but ",
    " but ",
];

/// Parse a free-text report. Deterministic: the situation runs from `When` (or `If`, `After`,
/// `Whenever`) to the last comma or `then` before the first `should` / `must` / `is expected
/// to`; what happens instead starts at the first `but`, `instead` or `but actually` after it.
/// Whitespace (line breaks included) is collapsed; a trailing full stop is dropped.
pub fn parse_report(text: &str) -> Result<BugReport, ReportError> {
    let text = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if text.chars().count() > MAX_REPORT_CHARS {
        return Err(too_long(text.chars().count()));
    }
    let text = text.trim_end_matches(['.', '!']).trim();
    if text.is_empty() {
        return Err(ReportError(format!("the bug report is empty; {SHAPE}")));
    }
    // ASCII lowercase keeps every byte offset, so positions found in `lower` cut `text`.
    let lower = text.to_ascii_lowercase();
    let Some(opener) = OPENERS.iter().find(|o| lower.starts_with(*o)) else {
        return Err(ReportError(format!(
            "missing the situation: the report must start with `When …` (or `If …`); {SHAPE}"
        )));
    };
    let Some((expect_at, expect_word)) = first_of(&lower, opener.len(), &EXPECTS) else {
        return Err(ReportError(format!(
            "missing what should happen: no `should` (or `must`) after the situation; {SHAPE}"
        )));
    };
    // Where the situation ends: the last `then` before the expectation, else its last comma.
    let head = &lower[..expect_at];
    let (situation_end, subject_start) = match head.rfind(" then ") {
        Some(at) if at >= opener.len() => {
            let end = if head[..at].ends_with(',') { at - 1 } else { at };
            (end, at + " then ".len())
        }
        _ => match head.rfind(',') {
            Some(at) if at >= opener.len() => (at, at + 1),
            _ => {
                return Err(ReportError(format!(
                    "cannot tell where the situation ends: put a comma (or `then`) after it, before who should do what; {SHAPE}"
                )))
            }
        },
    };
    let when = text[opener.len()..situation_end].trim();
    if when.is_empty() {
        return Err(ReportError(format!(
            "the situation after `{}` is empty; {SHAPE}",
            opener.trim()
        )));
    }
    let expectation_from = expect_at + expect_word.len();
    // The separators carry their spaces: the expectation word's last space may be the
    // separator's first (`should but …`), and a report may end on the separator (`… but`).
    let padded = format!("{lower} ");
    let Some((instead_at, instead_word)) = first_of(&padded, expectation_from - 1, &INSTEADS)
    else {
        return Err(ReportError(format!(
            "missing what happens instead: add `but …` (or `instead …`, `but actually …`) after what should happen; {SHAPE}"
        )));
    };
    let subject = text[subject_start..expect_at].trim();
    let outcome = text[expect_at..instead_at.max(expect_at)].trim();
    if text
        .get(expectation_from..instead_at)
        .is_none_or(|t| t.trim().is_empty())
    {
        return Err(ReportError(format!(
            "what should happen is empty after `{}`; {SHAPE}",
            expect_word.trim()
        )));
    }
    let actual = text
        .get(instead_at + instead_word.len()..)
        .unwrap_or("")
        .trim();
    if actual.is_empty() {
        return Err(ReportError(format!(
            "what happens instead is empty after `{}`; {SHAPE}",
            instead_word.trim_matches([' ', ',', ';'])
        )));
    }
    let expected = if subject.is_empty() {
        outcome.to_string()
    } else {
        format!("{subject} {outcome}")
    };
    Ok(BugReport {
        when: when.to_string(),
        expected: capitalised(&expected),
        actual: actual.to_string(),
    })
}

/// The three parts given separately: each must be there, and together within the size cap.
pub fn report_from_parts(
    when: Option<&str>,
    expected: Option<&str>,
    actual: Option<&str>,
) -> Result<BugReport, ReportError> {
    let part = |name: &str, value: Option<&str>, what: &str| {
        let value = value
            .map(|v| v.split_whitespace().collect::<Vec<_>>().join(" "))
            .unwrap_or_default();
        if value.is_empty() {
            Err(ReportError(format!(
                "`{name}` is missing: {what} (or give the whole report as `report`)"
            )))
        } else {
            Ok(value)
        }
    };
    let report = BugReport {
        when: part("when", when, "the situation that triggers the bug")?,
        expected: capitalised(&part("expected", expected, "what should happen")?),
        actual: part("actual", actual, "what happens today instead")?,
    };
    let chars = report.when.chars().count()
        + report.expected.chars().count()
        + report.actual.chars().count();
    if chars > MAX_REPORT_CHARS {
        return Err(too_long(chars));
    }
    Ok(report)
}

fn too_long(chars: usize) -> ReportError {
    ReportError(format!(
        "the bug report is {chars} characters; at most {MAX_REPORT_CHARS}: say the situation, the expectation and what happens in a sentence each"
    ))
}

/// The earliest of `words` in `text` from `from`; at one position the longest.
fn first_of(text: &str, from: usize, words: &[&'static str]) -> Option<(usize, &'static str)> {
    words
        .iter()
        .filter_map(|w| text[from..].find(w).map(|at| (from + at, *w)))
        .min_by(|a, b| a.0.cmp(&b.0).then(b.1.len().cmp(&a.1.len())))
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What a draft may add to the report.
#[derive(Debug, Clone, Default)]
pub struct DraftOptions {
    /// The scenario's name (default: the situation, capitalised, cut at a word).
    pub name: Option<String>,
    pub id: Option<String>,
    pub given: Vec<String>,
    pub example: Option<ExampleDoc>,
}

/// The scenario a person will review: `then` is the expected behaviour only; what happens
/// today is in the rationale, said as the bug.
pub fn draft_scenario(report: &BugReport, options: &DraftOptions) -> ProposedScenario {
    let name = options
        .name
        .clone()
        .unwrap_or_else(|| derived_name(&report.when));
    ProposedScenario {
        id: options.id.clone(),
        name,
        given: match options.given.len() {
            0 => None,
            1 => Some(OneOrMany::One(options.given[0].clone())),
            _ => Some(OneOrMany::Many(options.given.clone())),
        },
        when: Some(report.when.clone()),
        then: OneOrMany::One(report.expected.clone()),
        rationale: rationale(report),
        tags: vec!["regression".into()],
        examples: options.example.iter().cloned().collect(),
    }
}

/// The rationale a reviewer reads: the bug as reported, today's behaviour named as the bug.
pub fn rationale(report: &BugReport) -> String {
    format!(
        "Bug report: when {}, expected: {} — observed today instead: {}. Drafted by draft_hotfix as a regression scenario; its test fails until the fix lands.",
        report.when,
        lower_first(&report.expected),
        report.actual
    )
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        // Only a capital followed by a lower-case letter was capitalised by us: `API` stays.
        Some(first) if chars.clone().next().is_some_and(char::is_lowercase) => {
            first.to_lowercase().chain(chars).collect()
        }
        _ => text.to_string(),
    }
}

/// The situation as a name: capitalised, at most [`MAX_DERIVED_NAME_CHARS`], cut at a word.
pub fn derived_name(when: &str) -> String {
    let mut name = String::new();
    for word in when.split_whitespace() {
        let len = name.chars().count() + usize::from(!name.is_empty()) + word.chars().count();
        if len > MAX_DERIVED_NAME_CHARS {
            break;
        }
        if !name.is_empty() {
            name.push(' ');
        }
        name.push_str(word);
    }
    if name.is_empty() {
        name = when.chars().take(MAX_DERIVED_NAME_CHARS).collect();
    }
    capitalised(name.trim_end_matches([',', ';', ':']))
}

/// A spec file holding only `scenario` (as `check_proposals` emits it) in `domain`: added to the
/// current sources, it gives the spec as it would be with the proposal, without writing.
pub fn draft_source(domain: &str, item: &serde_yaml::Value) -> String {
    format!(
        "domain: {domain}\nscenarios:\n{}",
        sdd_spec::spec_write::emit_block_item(item, 2)
    )
}

/// The test framework for the project: the first test profile whose results format names one
/// (libtest or nextest: cargo; pytest; go; jest; cucumber; JUnit XML: by the command), else the
/// project's files (`Cargo.toml`, `pyproject.toml`, `go.mod`, `package.json`). With the reason.
pub fn project_framework(file: &ProjectFile, root: &Path) -> Option<(Framework, String)> {
    for (name, profile) in &file.tests {
        let by_format = match profile.results.format {
            ResultsFormat::Libtest | ResultsFormat::Nextest => Some(Framework::Cargo),
            ResultsFormat::Pytest => Some(Framework::Pytest),
            ResultsFormat::GoJson => Some(Framework::Go),
            ResultsFormat::CucumberJson => Some(Framework::Cucumber),
            ResultsFormat::JestJson | ResultsFormat::Junit => None,
        };
        let command = profile.command.to_ascii_lowercase();
        let by_command = || {
            [
                ("vitest", Framework::Vitest),
                ("jest", Framework::Jest),
                ("pytest", Framework::Pytest),
                ("go test", Framework::Go),
                ("cargo", Framework::Cargo),
            ]
            .into_iter()
            .find(|(word, _)| command.contains(word))
            .map(|(_, f)| f)
        };
        if let Some(framework) = by_format.or_else(by_command) {
            return Some((
                framework,
                format!("test profile `{name}` of sdd.yaml (`{}`)", profile.command),
            ));
        }
    }
    [
        ("Cargo.toml", Framework::Cargo),
        ("pyproject.toml", Framework::Pytest),
        ("go.mod", Framework::Go),
        ("package.json", Framework::Jest),
    ]
    .into_iter()
    .find(|(marker, _)| root.join(marker).is_file())
    .map(|(marker, f)| (f, format!("the project's {marker}")))
}

/// The regression test: testgen's skeleton for the one scenario, which fails until someone
/// writes its body, with today's behaviour as a comment.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RegressionTest {
    pub framework: Framework,
    /// The name the runner reports: it carries the scenario's ID, so traceability maps its
    /// result to the scenario.
    pub test_name: String,
    /// Where to save it, relative to the project root.
    pub suggested_path: String,
    pub code: String,
}

pub fn regression_test(
    framework: Framework,
    scenario: &Scenario,
    report: &BugReport,
) -> RegressionTest {
    let options = GenerateOptions {
        domain: Some(scenario.domain.clone()),
        go_package: None,
    };
    // testgen's header speaks of approved scenarios; this one waits for a person's review.
    let code = suite_code(framework, &[scenario], &options).replacen(
        "from the approved scenarios",
        "from a proposed regression scenario (draft_hotfix; a person approves it with `sdd review`)",
        1,
    );
    let today = format!(
        "Today, instead (the bug report): {}",
        report
            .actual
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    );
    RegressionTest {
        framework,
        test_name: framework.test_name(scenario),
        suggested_path: framework.suggested_path(&format!(
            "regression_{}",
            sdd_spec::ids::test_key(&scenario.id)
        )),
        code: with_comment_after_then(framework, &code, &today),
    }
}

/// `code` with `comment` after the last `Then:` comment line, in that line's comment style
/// (before the scenario's tags in a `.feature` file, which has no Then comments).
fn with_comment_after_then(framework: Framework, code: &str, comment: &str) -> String {
    let lines: Vec<&str> = code.split_inclusive('\n').collect();
    let (at, line) = match framework {
        Framework::Cucumber => match lines
            .iter()
            .position(|l| l.trim_start().starts_with("@id:"))
        {
            Some(at) => (at, "  # ".to_string() + comment + "\n"),
            None => return format!("{code}# {comment}\n"),
        },
        _ => match lines.iter().rposition(|l| l.contains("Then: ")) {
            Some(at) => {
                let prefix = &lines[at][..lines[at].find("Then: ").unwrap_or(0)];
                (at + 1, format!("{prefix}{comment}\n"))
            }
            None => return code.to_string(),
        },
    };
    let mut out = String::with_capacity(code.len() + line.len());
    for (i, l) in lines.iter().enumerate() {
        if i == at {
            out.push_str(&line);
        }
        out.push_str(l);
    }
    if at == lines.len() {
        out.push_str(&line);
    }
    out
}

/// What a guard is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum GuardKind {
    Scenario,
    Constraint,
}

/// A scenario or constraint the fix must not break, with every reason it is listed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Guard {
    pub kind: GuardKind,
    pub id: String,
    pub name: String,
    /// The requirement of a constraint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    pub why: Vec<String>,
}

/// What the fix must keep: approved scenarios impact analysis names (other than the new one),
/// the domain's approved scenarios, constraints impact analysis names, and every constraint in
/// scope for the domain (global, the domain's, its interactions'). Each once, with every
/// reason; scenarios first, in spec order.
pub fn must_not_break(spec: &Spec, impact: &Impact, domain: &str, new_id: &str) -> Vec<Guard> {
    let mut guards: Vec<Guard> = Vec::new();
    let mut add =
        |kind: GuardKind, id: &str, name: &str, requirement: Option<&String>, why| match guards
            .iter_mut()
            .find(|g| g.kind == kind && g.id == id)
        {
            Some(g) => g.why.push(why),
            None => guards.push(Guard {
                kind,
                id: id.to_string(),
                name: name.to_string(),
                requirement: requirement.cloned(),
                why: vec![why],
            }),
        };
    for s in spec.approved_scenarios().filter(|s| s.id != new_id) {
        if impact.rerun_scenarios.contains(&s.id) {
            add(
                GuardKind::Scenario,
                &s.id,
                &s.name,
                None,
                format!(
                    "impact analysis: its domain `{}` depends on `{domain}`, which the fix changes",
                    s.domain
                ),
            );
        }
        if s.domain == domain {
            add(
                GuardKind::Scenario,
                &s.id,
                &s.name,
                None,
                format!("approved behaviour of the same domain `{domain}`: the fix changes code it runs"),
            );
        }
    }
    for c in spec.constraints.iter() {
        if impact.rerun_constraints.contains(&c.id) {
            add(
                GuardKind::Constraint,
                &c.id,
                &c.name,
                c.requirement.as_ref(),
                "impact analysis: its probes send the new scenario's example requests".into(),
            );
        }
    }
    for c in spec.constraints_for(domain) {
        let why = match &c.scope {
            ConstraintScope::Global(system) => {
                format!("global constraint of `{system}`: holds for every domain")
            }
            ConstraintScope::Domain(d) => format!("constraint of the domain `{d}`"),
            ConstraintScope::Interaction(i) => {
                format!("constraint of the interaction `{i}`, which `{domain}` takes part in")
            }
        };
        add(
            GuardKind::Constraint,
            &c.id,
            &c.name,
            c.requirement.as_ref(),
            why,
        );
    }
    guards
}

/// Whether `spec` holds `id` as a proposal (what `propose` must have written).
pub fn is_proposed(spec: &Spec, id: &str) -> bool {
    spec.scenario(id)
        .is_some_and(|s| s.status == ReviewStatus::Proposed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> (String, String, String) {
        let r = parse_report(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        (r.when, r.expected, r.actual)
    }

    #[test]
    fn reports_in_the_seed_shape_and_its_variants_parse() {
        let table = [
            (
                "When I complete a task twice, the API should answer 409 but it answers 500",
                ("I complete a task twice", "The API should answer 409", "it answers 500"),
            ),
            (
                "When I list tasks with status \"done\" then the list should hold only completed tasks but actually it holds pending ones too.",
                (
                    "I list tasks with status \"done\"",
                    "The list should hold only completed tasks",
                    "it holds pending ones too",
                ),
            ),
            (
                "when a request has no token, then it should be refused with 401; instead it gets 200",
                ("a request has no token", "It should be refused with 401", "it gets 200"),
            ),
            (
                "If the title is empty, the task must be rejected, but it is created",
                ("the title is empty", "The task must be rejected", "it is created"),
            ),
            (
                "When I create tasks A, B and C, the list should show 3 tasks but instead shows 2",
                ("I create tasks A, B and C", "The list should show 3 tasks", "shows 2"),
            ),
            (
                "When the cache\n is cold,\tresponses are expected to stay under 100 ms, but actually take 900 ms!",
                ("the cache is cold", "Responses are expected to stay under 100 ms", "take 900 ms"),
            ),
            (
                // `but` inside the situation is not the separator: it comes before `should`.
                "When I log in but my token expired, I should be asked to log in again but I see a blank page",
                (
                    "I log in but my token expired",
                    "I should be asked to log in again",
                    "I see a blank page",
                ),
            ),
        ];
        for (text, (when, expected, actual)) in table {
            assert_eq!(
                parsed(text),
                (when.to_string(), expected.to_string(), actual.to_string()),
                "{text}"
            );
        }
    }

    #[test]
    fn a_report_that_does_not_parse_names_what_is_missing() {
        let table = [
            ("", "is empty"),
            ("   .", "is empty"),
            (
                "The API answers 500 on a second completion",
                "missing the situation",
            ),
            (
                "When I complete a task twice, it answers 500",
                "missing what should happen",
            ),
            (
                "When I complete a task twice, it should answer 409",
                "missing what happens instead",
            ),
            (
                "When I complete a task twice the API should answer 409 but it answers 500",
                "where the situation ends",
            ),
            (
                "When , it should answer 409 but 500",
                "situation after `when` is empty",
            ),
            (
                "When I retry, it should but it answers 500",
                "what should happen is empty",
            ),
            (
                "When I retry, it should answer 409 but",
                "what happens instead is empty",
            ),
        ];
        for (text, needle) in table {
            let err = parse_report(text).expect_err(text).0;
            assert!(err.contains(needle), "{text:?}: {err}");
            assert!(
                err.contains("When X, Y should happen but Z happens"),
                "{err}"
            );
        }
        let huge = format!("When {}, it should work but it fails", "x ".repeat(5000));
        assert!(parse_report(&huge).unwrap_err().0.contains("at most 3000"));
    }

    #[test]
    fn parts_given_separately_must_all_be_there() {
        let r =
            report_from_parts(Some("I retry"), Some("it should answer 409"), Some("500")).unwrap();
        assert_eq!(r.expected, "It should answer 409");
        let err = report_from_parts(Some("I retry"), None, Some("500"))
            .unwrap_err()
            .0;
        assert!(err.contains("`expected` is missing"), "{err}");
        let err = report_from_parts(Some(" "), Some("x"), Some("y"))
            .unwrap_err()
            .0;
        assert!(err.contains("`when` is missing"), "{err}");
    }

    #[test]
    fn the_draft_expects_y_and_records_z_only_as_the_bug() {
        let report = parse_report(
            "When I complete a completed task, the API should answer 409 but it answers 500",
        )
        .unwrap();
        let draft = draft_scenario(&report, &DraftOptions::default());
        assert_eq!(draft.name, "I complete a completed task");
        assert_eq!(
            draft.then,
            OneOrMany::One("The API should answer 409".into())
        );
        assert_eq!(draft.when.as_deref(), Some("I complete a completed task"));
        assert!(draft
            .rationale
            .contains("observed today instead: it answers 500"));
        assert!(draft
            .rationale
            .contains("expected: the API should answer 409"));
        let long = derived_name(&"word ".repeat(40));
        assert!(long.chars().count() <= MAX_DERIVED_NAME_CHARS, "{long}");
        assert!(long.ends_with("word"), "{long}");
    }

    fn spec_with_draft() -> (Spec, Spec) {
        let base = vec![
            ("s.yaml".to_string(), "system: Shop\ndomains:\n  - name: tasks\n  - name: reports\n    dependencies: [tasks]\nglobal_constraints:\n  security:\n    - name: Auth\n      requirement: All endpoints require valid JWT token\n".to_string()),
            ("tasks.yaml".to_string(), "domain: tasks\nconstraints:\n  performance:\n    - name: Reads\n      requirement: p95 latency < 100ms for all read operations\nscenarios:\n  - name: Complete a task\n    when: I complete it\n    then: It is completed\n  - name: Idea\n    status: proposed\n    rationale: r\n    when: x\n    then: y\n".to_string()),
            ("reports.yaml".to_string(), "domain: reports\nscenarios:\n  - name: Weekly report\n    when: I ask\n    then: I see it\n".to_string()),
            ("flow.yaml".to_string(), "interaction: billing\nparticipants: [tasks, reports]\nconstraints:\n  - name: Flow latency\n    requirement: p99 latency < 500ms\n".to_string()),
        ];
        let before = sdd_spec::load_sources(&base).spec;
        let report =
            parse_report("When I complete a task twice, it should answer 409 but it answers 500")
                .unwrap();
        let draft = draft_scenario(&report, &DraftOptions::default());
        let (_, items) =
            sdd_spec::review::check_proposals("tasks", std::slice::from_ref(&draft), "agent")
                .unwrap();
        let mut sources = base;
        sources.push(("(draft)".into(), draft_source("tasks", &items[0])));
        let after = sdd_spec::load_sources(&sources);
        assert!(
            after
                .diagnostics
                .iter()
                .all(|d| d.severity != sdd_spec::Severity::Error),
            "{:?}",
            after.diagnostics
        );
        (before, after.spec)
    }

    #[test]
    fn guards_name_why_each_scenario_and_constraint_is_listed() {
        let (before, after) = spec_with_draft();
        let new_id = "tasks.i_complete_a_task_twice";
        assert!(is_proposed(&after, new_id));
        let impact = sdd_spec::analysis::impact::compare(&before, &after);
        assert_eq!(impact.scenarios.added, vec![new_id.to_string()]);
        let guards = must_not_break(&after, &impact, "tasks", new_id);
        let why = |id: &str| {
            guards
                .iter()
                .find(|g| g.id == id)
                .map(|g| g.why.join(" | "))
                .unwrap_or_else(|| panic!("{id} missing from {guards:#?}"))
        };
        assert!(why("tasks.complete_a_task").contains("same domain `tasks`"));
        // The dependent domain's scenario comes from impact analysis.
        assert!(why("reports.weekly_report").contains("depends on `tasks`"));
        assert!(why("shop.security.auth").contains("global constraint"));
        assert!(why("tasks.performance.reads").contains("constraint of the domain `tasks`"));
        assert!(why("billing.interaction.flow_latency").contains("interaction `billing`"));
        // Neither the proposal itself nor another proposal is something to keep.
        assert!(guards
            .iter()
            .all(|g| g.id != new_id && g.id != "tasks.idea"));
        assert_eq!(guards[0].kind, GuardKind::Scenario);
    }

    #[test]
    fn the_regression_test_fails_until_written_and_says_what_happens_today() {
        let (_, after) = spec_with_draft();
        let scenario = after.scenario("tasks.i_complete_a_task_twice").unwrap();
        let report =
            parse_report("When I complete a task twice, it should answer 409 but it answers 500")
                .unwrap();
        for framework in [
            Framework::Cargo,
            Framework::Pytest,
            Framework::Go,
            Framework::Jest,
            Framework::Vitest,
            Framework::Cucumber,
        ] {
            let test = regression_test(framework, scenario, &report);
            assert!(
                test.code
                    .contains("Today, instead (the bug report): it answers 500"),
                "{framework:?}:\n{}",
                test.code
            );
            let ids = after
                .scenarios
                .iter()
                .map(|s| (s.id.as_str(), s.domain.as_str()));
            if framework != Framework::Cucumber {
                assert_eq!(
                    sdd_spec::ids::scenario_for_test_name(&test.test_name, ids),
                    Some("tasks.i_complete_a_task_twice"),
                    "{framework:?}"
                );
            }
        }
        let cargo = regression_test(Framework::Cargo, scenario, &report);
        assert_eq!(cargo.test_name, "sdd_tasks_i_complete_a_task_twice");
        assert_eq!(
            cargo.suggested_path,
            "tests/sdd_regression_tasks_i_complete_a_task_twice.rs"
        );
        assert!(
            cargo
                .code
                .starts_with("//! Generated by SDD from a proposed regression scenario"),
            "{}",
            cargo.code
        );
        let then = cargo.code.find("// Then: It should answer 409").unwrap();
        let today = cargo.code.find("    // Today, instead").unwrap();
        let fails = cargo.code.find("panic!(").unwrap();
        assert!(then < today && today < fails, "{}", cargo.code);
    }

    #[test]
    fn the_framework_comes_from_the_test_profiles_then_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = sdd_spec::project::parse_project_file(
            "tests:\n  unit:\n    command: python -m pytest --junitxml=r.xml\n    results: {format: junit, path: r.xml}\n",
        )
        .unwrap();
        let (framework, why) = project_framework(&file, dir.path()).unwrap();
        assert_eq!(framework, Framework::Pytest);
        assert!(why.contains("`unit`"), "{why}");
        let empty = sdd_spec::project::parse_project_file("{}").unwrap();
        assert!(project_framework(&empty, dir.path()).is_none());
        std::fs::write(dir.path().join("go.mod"), "module x\n").unwrap();
        assert_eq!(
            project_framework(&empty, dir.path()).unwrap().0,
            Framework::Go
        );
    }
}

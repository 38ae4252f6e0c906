//! Test-suite generation: one test per approved scenario, named by the test-name convention in
//! [`crate::ids`], with Given/When/Then as comments and a body that fails until implemented.
//!
//! The generated tests fail on purpose: a test that passes before anyone wrote the behaviour
//! would be a fake verdict. The agent replaces each body with real steps. A cucumber `.feature`
//! file has no bodies: its steps are undefined until someone writes their step definitions,
//! and an undefined step never passes.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::document::ReviewStatus;
use crate::ids::test_key;
use crate::model::{Scenario, Spec};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Framework {
    /// Python, pytest.
    Pytest,
    /// Rust, `cargo test` (an integration test file).
    Cargo,
    /// JavaScript/TypeScript, Jest (globals).
    Jest,
    /// JavaScript/TypeScript, Vitest (explicit imports).
    Vitest,
    /// Go, `go test`.
    Go,
    /// Cucumber (cucumber-rs, cucumber-js, Cucumber-JVM, …): a Gherkin `.feature` file, each
    /// scenario tagged `@id:<ID>`.
    Cucumber,
}

impl Framework {
    pub fn suggested_path(self, suite: &str) -> String {
        match self {
            Framework::Pytest => format!("tests/test_sdd_{suite}.py"),
            Framework::Cargo => format!("tests/sdd_{suite}.rs"),
            Framework::Jest | Framework::Vitest => format!("tests/sdd_{suite}.test.js"),
            Framework::Go => format!("sdd_{suite}_test.go"),
            Framework::Cucumber => format!("features/sdd_{suite}.feature"),
        }
    }

    /// The test's name as the runner reports it (function name, title for jest/vitest, the
    /// scenario's name for cucumber, whose reports carry the `@id:` tag where they have tags
    /// and the name where they do not: see `sdd_results::trace`).
    pub fn test_name(self, scenario: &Scenario) -> String {
        let key = test_key(&scenario.id);
        match self {
            Framework::Cucumber => one_line(&scenario.name),
            Framework::Pytest => format!("test_sdd_{key}"),
            Framework::Cargo => format!("sdd_{key}"),
            Framework::Go => format!("Test_sdd_{key}"),
            Framework::Jest | Framework::Vitest => format!(
                "[{}] {}",
                crate::ids::bracket_id(&scenario.id, &scenario.domain),
                scenario.name
            ),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GeneratedTest {
    pub scenario_id: String,
    pub test_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SkippedScenario {
    pub scenario_id: String,
    pub status: ReviewStatus,
    /// Why it was left out when its status is not the reason: its ID is a duplicate (another
    /// scenario, written first, has it and gets the test of that name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct GeneratedSuite {
    pub framework: Framework,
    /// Where to save the file, relative to the project root.
    pub suggested_path: String,
    pub tests: Vec<GeneratedTest>,
    /// Scenarios left out because they are not approved, or because their ID is a duplicate.
    pub skipped: Vec<SkippedScenario>,
    pub code: String,
}

/// Options that only some frameworks use.
#[derive(Debug, Clone, Default)]
pub struct GenerateOptions {
    /// Only this domain's scenarios.
    pub domain: Option<String>,
    /// Go package name (default `scenarios`).
    pub go_package: Option<String>,
}

pub fn generate_suite(
    spec: &Spec,
    framework: Framework,
    options: &GenerateOptions,
) -> GeneratedSuite {
    let selected: Vec<&Scenario> = spec
        .scenarios
        .iter()
        .map(|s| &**s)
        .filter(|s| options.domain.as_deref().is_none_or(|d| s.domain == d))
        .collect();
    // A duplicate ID would name a second test like the first's, and results could not tell
    // them apart: the first written keeps the test, the duplicate is skipped and said so.
    let (approved, skipped): (Vec<&Scenario>, Vec<&Scenario>) = selected
        .into_iter()
        .partition(|s| s.status == ReviewStatus::Approved && !s.is_duplicate());
    let suite = options.domain.clone().unwrap_or_else(|| "scenarios".into());
    let code = suite_code(framework, &approved, options);
    GeneratedSuite {
        framework,
        suggested_path: framework.suggested_path(&crate::ids::slug(&suite)),
        tests: approved
            .iter()
            .map(|s| GeneratedTest {
                scenario_id: s.id.clone(),
                test_name: framework.test_name(s),
            })
            .collect(),
        skipped: skipped
            .iter()
            .map(|s| SkippedScenario {
                scenario_id: s.id.clone(),
                status: s.status,
                reason: s.duplicate_of.as_ref().map(|first| {
                    format!(
                        "its ID is already the ID of the scenario at {first}, which gets the test; give this one (at {}) its own `id:` to generate a test for it",
                        s.location
                    )
                }),
            })
            .collect(),
        code,
    }
}

/// One test file for `scenarios` (the caller picks them: approved ones, one page of them): the
/// framework's header, one failing test per scenario, and the closing lines.
pub fn suite_code(
    framework: Framework,
    scenarios: &[&Scenario],
    options: &GenerateOptions,
) -> String {
    if framework == Framework::Cucumber {
        return feature_file(scenarios, options);
    }
    let mut code = header(framework, options);
    for s in scenarios {
        code.push_str(&test(framework, s));
    }
    if framework == Framework::Jest || framework == Framework::Vitest {
        code.push_str("});\n");
    }
    code
}

fn header(framework: Framework, options: &GenerateOptions) -> String {
    let note =
        "Generated by SDD from the approved scenarios. Each test's name carries its scenario ID \
                (see the test-name convention); keep the names when you write the bodies.";
    match framework {
        Framework::Pytest => format!("# {note}\nimport pytest\n\n"),
        Framework::Cargo => format!("//! {note}\n"),
        Framework::Jest => format!("// {note}\ndescribe(\"sdd scenarios\", () => {{\n"),
        Framework::Vitest => format!("// {note}\nimport {{ describe, test }} from \"vitest\";\n\ndescribe(\"sdd scenarios\", () => {{\n"),
        Framework::Go => format!(
            "// {note}\npackage {}\n\nimport \"testing\"\n",
            options.go_package.as_deref().unwrap_or("scenarios")
        ),
        // `feature_file` writes its own header: the Feature line needs the scenarios.
        Framework::Cucumber => format!("# {note}\n"),
    }
}

/// A `.feature` file of `scenarios` that reads back (`gherkin.rs`) as the same scenarios: IDs
/// in `@id:` tags, review fields in review tags (the recorded fingerprint, never a new one),
/// multi-line step text as doc strings. One file is one Feature, so the scenarios' domain is
/// the Feature's (its name, or `@domain:`); scenarios of several domains read back as one.
fn feature_file(scenarios: &[&Scenario], options: &GenerateOptions) -> String {
    let mut out = String::from(
        "# Generated by SDD from the approved scenarios. Each scenario carries its ID in an `@id:`\n\
         # tag (keep it: cucumber's JSON results map back through it, JUnit results through the\n\
         # scenario's name). Write a step definition for every step: an undefined step never passes.\n",
    );
    let mut domains: Vec<&str> = scenarios.iter().map(|s| s.domain.as_str()).collect();
    domains.sort_unstable();
    domains.dedup();
    let mut features: Vec<Option<&str>> = scenarios.iter().map(|s| s.feature.as_deref()).collect();
    features.sort_unstable();
    features.dedup();
    let domain = match domains.as_slice() {
        [one] => Some(one.to_string()),
        [] => options.domain.clone(),
        _ => {
            out.push_str(&format!(
                "# These scenarios belong to {} domains; read back, they would all belong to this Feature's.\n",
                domains.len()
            ));
            None
        }
    };
    let name = match (features.as_slice(), &domain) {
        ([Some(feature)], _) => feature.to_string(),
        (_, Some(domain)) => domain.clone(),
        _ => "SDD scenarios".to_string(),
    };
    let name = one_line(&name);
    if let Some(domain) = &domain {
        if crate::ids::slug(&name) != *domain {
            out.push_str(&format!("@domain:{}\n", crate::gherkin::tag_value(domain)));
        }
    }
    out.push_str(&format!("Feature: {name}\n"));
    for s in scenarios {
        out.push_str(&feature_scenario(s));
    }
    out
}

fn feature_scenario(s: &Scenario) -> String {
    use crate::gherkin::{is_sdd_tag, tag_value};
    let mut out = String::from("\n");
    let mut tags = vec![format!("@id:{}", s.id)];
    // Only a recorded approval is written, with what it recorded: a scenario approved by
    // hand (no status) stays without review tags, which reads back the same.
    if let Some(fingerprint) = &s.approved_fingerprint {
        tags.push("@status:approved".into());
        for (key, value) in [
            ("approved_by", &s.reviewed_by),
            ("reviewed_at", &s.reviewed_at),
        ] {
            if let Some(value) = value {
                tags.push(format!("@{key}:{}", tag_value(value)));
            }
        }
        tags.push(format!("@fingerprint:{fingerprint}"));
        if !s.examples.is_empty() {
            out.push_str(
                "  # Its executable examples are not in this file, and its approval covers them:\n  \
                 # read back, it is changed since approval until a person reviews it again.\n",
            );
        }
    }
    for label in &s.tags {
        let tag = tag_value(label);
        if tag.is_empty() || is_sdd_tag(&tag) {
            out.push_str(&format!(
                "  # label {label:?} left out: as a tag it would read as a field\n"
            ));
        } else {
            tags.push(format!("@{tag}"));
        }
    }
    out.push_str(&format!("  {}\n", tags.join(" ")));
    out.push_str(&format!("  Scenario: {}\n", one_line(&s.name)));
    if let Some(rationale) = &s.rationale {
        // The scenario's description reads back as its rationale. A line that starts like a
        // step or a tag would end the description, so every line is indented under the title.
        for line in rationale.lines().filter(|l| !l.trim().is_empty()) {
            out.push_str(&format!("    {}\n", description_line(line)));
        }
    }
    let mut step = |keyword: &str, text: &str| out.push_str(&feature_step(keyword, text));
    for (k, given) in s.given.iter().enumerate() {
        step(if k == 0 { "Given" } else { "And" }, given);
    }
    if let Some(when) = &s.when {
        step("When", when);
    }
    for (k, then) in s.then.iter().enumerate() {
        step(if k == 0 { "Then" } else { "And" }, then);
    }
    out
}

/// A description line that the parser cannot take for a keyword, tag or comment.
fn description_line(line: &str) -> String {
    let line = line.trim();
    let keyword = [
        "Given ",
        "When ",
        "Then ",
        "And ",
        "But ",
        "* ",
        "Scenario",
        "Example",
        "Background",
        "Rule",
        "Feature",
        "@",
        "#",
        "\"\"\"",
        "```",
        "|",
    ]
    .iter()
    .any(|k| line.starts_with(k));
    if keyword {
        format!("— {line}")
    } else {
        line.to_string()
    }
}

/// One step: its first line after the keyword, the rest of its text as a doc string (so a step
/// that carried a doc string or table reads back as the same text).
fn feature_step(keyword: &str, text: &str) -> String {
    let (first, rest) = match text.split_once('\n') {
        Some((first, rest)) => (first, Some(rest)),
        None => (text, None),
    };
    // A step needs text on its line; the parser trims it anyway.
    let first = match first.trim() {
        "" => "(no text)",
        first => first,
    };
    let mut out = format!("    {keyword} {first}\n");
    if let Some(rest) = rest {
        // The delimiter must not occur in the content: the first one closes the doc string.
        let fence = if !rest.contains("\"\"\"") {
            "\"\"\""
        } else if !rest.contains("```") {
            "```"
        } else {
            "\"\"\""
        };
        let content = if rest.contains(fence) {
            rest.replace(fence, "\"\" \"")
        } else {
            rest.to_string()
        };
        out.push_str(&format!("      {fence}\n"));
        for line in content.split('\n') {
            if line.is_empty() {
                out.push('\n');
            } else {
                out.push_str(&format!("      {line}\n"));
            }
        }
        out.push_str(&format!("      {fence}\n"));
    }
    out
}

/// Given/When/Then lines, each prefixed with the comment marker and indentation.
fn steps(s: &Scenario, prefix: &str) -> String {
    let mut out = String::new();
    let mut line = |label: &str, text: &str| {
        out.push_str(&format!("{prefix}{label}: {}\n", one_line(text)));
    };
    line("Scenario", &format!("{} ({})", s.name, s.location));
    for g in &s.given {
        line("Given", g);
    }
    if let Some(w) = &s.when {
        line("When", w);
    }
    for t in &s.then {
        line("Then", t);
    }
    out
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A string literal body safe in every target language (double quotes, escaped).
fn literal(text: &str) -> String {
    let mut out = String::from("\"");
    for c in one_line(text).chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '`' => out.push('\''),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn test(framework: Framework, s: &Scenario) -> String {
    let name = framework.test_name(s);
    let message = format!(
        "scenario {} has no test body yet: write the Given/When/Then steps",
        s.id
    );
    match framework {
        Framework::Pytest => format!(
            "\n@pytest.mark.sdd_scenario({id})\ndef {name}():\n{steps}    pytest.fail({msg})\n",
            id = literal(&s.id),
            steps = steps(s, "    # "),
            msg = literal(&message)
        ),
        Framework::Cargo => format!(
            "\n#[test]\nfn {name}() {{\n{steps}    panic!({msg});\n}}\n",
            steps = steps(s, "    // "),
            msg = literal(&message).replace("\\$", "$")
        ),
        Framework::Jest | Framework::Vitest => format!(
            "\n  test({title}, () => {{\n{steps}    throw new Error({msg});\n  }});\n",
            title = literal(&name).replace("\\$", "$"),
            steps = steps(s, "    // "),
            msg = literal(&message).replace("\\$", "$")
        ),
        Framework::Go => format!(
            "\nfunc {name}(t *testing.T) {{\n{steps}\tt.Fatal({msg})\n}}\n",
            steps = steps(s, "\t// "),
            msg = literal(&message).replace("\\$", "$")
        ),
        Framework::Cucumber => feature_scenario(s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::ReviewStatus;
    use crate::ids::scenario_for_test_name;
    use crate::load_sources;

    fn spec() -> Spec {
        load_sources(&[(
            "t.yaml".into(),
            "feature: Tasks\nscenarios:\n  - name: Create a \"quoted\" task\n    when: I create a task with title \"$HOME\"\n    then: it exists\n  - name: Proposal\n    status: proposed\n    rationale: r\n    when: x\n    then: y\n".into(),
        )])
        .spec
    }

    /// A duplicate ID would give a second test of the first's name: the first keeps the test,
    /// the duplicate is skipped and the suite says why.
    #[test]
    fn a_duplicate_is_skipped_and_said_why() {
        let spec = load_sources(&[
            (
                "a.yaml".into(),
                "feature: Tasks\nscenarios:\n  - name: Create\n    when: I create\n    then: it exists\n".into(),
            ),
            (
                "b.yaml".into(),
                "feature: Tasks\nscenarios:\n  - name: Create\n    when: I create it again\n    then: it exists twice\n".into(),
            ),
        ])
        .spec;
        for framework in [Framework::Pytest, Framework::Cucumber] {
            let suite = generate_suite(&spec, framework, &GenerateOptions::default());
            assert_eq!(suite.tests.len(), 1, "{framework:?}");
            assert_eq!(suite.tests[0].scenario_id, "tasks.create");
            assert!(!suite.code.contains("again"), "{}", suite.code);
            assert_eq!(suite.skipped.len(), 1);
            let skipped = &suite.skipped[0];
            assert_eq!(skipped.scenario_id, "tasks.create");
            assert_eq!(skipped.status, ReviewStatus::Approved);
            assert_eq!(
                skipped.reason.as_deref(),
                Some("its ID is already the ID of the scenario at a.yaml:3:5, which gets the test; give this one (at b.yaml:3:5) its own `id:` to generate a test for it")
            );
        }
    }

    #[test]
    fn one_test_per_approved_scenario_and_names_map_back() {
        let spec = spec();
        for framework in [
            Framework::Pytest,
            Framework::Cargo,
            Framework::Jest,
            Framework::Vitest,
            Framework::Go,
        ] {
            let suite = generate_suite(&spec, framework, &GenerateOptions::default());
            assert_eq!(suite.tests.len(), 1, "{framework:?}");
            assert_eq!(suite.skipped[0].scenario_id, "tasks.proposal");
            let name = &suite.tests[0].test_name;
            assert!(
                suite.code.contains(name.split(']').next().unwrap()),
                "{framework:?}: {}",
                suite.code
            );
            let ids = spec
                .scenarios
                .iter()
                .map(|s| (s.id.as_str(), s.domain.as_str()));
            assert_eq!(
                scenario_for_test_name(name, ids),
                Some("tasks.create_a_quoted_task"),
                "{framework:?}"
            );
            assert!(suite
                .code
                .contains("When: I create a task with title \"$HOME\""));
        }
    }

    /// The `.feature` file reads back (`gherkin.rs`) as the scenarios it was written from.
    #[test]
    fn a_cucumber_feature_file_reads_back_as_the_same_scenarios() {
        let fingerprint = crate::approval::behaviour_fingerprint(
            "tasks.done",
            &["a task".into()],
            Some("I complete it"),
            &["it is done".into()],
            &[],
        );
        let yaml = format!(
            r#"feature: Task Management
domain: tasks
scenarios:
  - name: Create a task
    rationale: "People need lists.\nGiven that, it is the first scenario."
    tags: [smoke, "status:approved", "needs review"]
    given: [a signed-in user, "an empty list"]
    when: the user creates "Buy milk" and confirms
    then:
      - the list has 1 task
      - "the answer is\n| id | title |\n| 1 | Buy \\| milk |"
      - "the body is\n  {{\"a\": \"\"\"\"}}\n\nend"
  - id: tasks.done
    name: Complete a task
    status: approved
    reviewed_by: Ada Lovelace
    reviewed_at: "2026-01-05T10:00:00Z"
    approved_fingerprint: "{fingerprint}"
    given: a task
    when: I complete it
    then: it is done
  - name: Proposal
    status: proposed
    rationale: r
    when: x
    then: y
"#
        );
        let spec = load_sources(&[("tasks.yaml".into(), yaml)]).spec;
        let suite = generate_suite(&spec, Framework::Cucumber, &GenerateOptions::default());
        assert_eq!(suite.suggested_path, "features/sdd_scenarios.feature");
        assert_eq!(suite.tests.len(), 2);
        assert_eq!(suite.tests[0].test_name, "Create a task");
        let back = load_sources(&[(suite.suggested_path.clone(), suite.code.clone())]);
        assert!(
            back.diagnostics.is_empty(),
            "{:#?}\n{}",
            back.diagnostics,
            suite.code
        );
        let approved: Vec<&Scenario> = spec
            .scenarios
            .iter()
            .map(|s| s.as_ref())
            .filter(|s| s.status == ReviewStatus::Approved)
            .collect();
        assert_eq!(back.spec.scenarios.len(), approved.len(), "{}", suite.code);
        for (before, after) in approved.iter().zip(&back.spec.scenarios) {
            let what = |s: &Scenario| {
                (
                    s.id.clone(),
                    s.name.clone(),
                    s.domain.clone(),
                    s.feature.clone(),
                    s.given.clone(),
                    s.when.clone(),
                    s.then.clone(),
                    s.status,
                    s.approved_fingerprint.clone(),
                    s.reviewed_at.clone(),
                )
            };
            assert_eq!(what(after), what(before), "{}", suite.code);
        }
        let create = &back.spec.scenarios[0];
        assert_eq!(
            create.tags,
            ["smoke", "needs_review"],
            "a field-like label is left out"
        );
        assert_eq!(
            create.rationale.as_deref(),
            Some("People need lists.\n— Given that, it is the first scenario.")
        );
        // A name is one line in a tag: whitespace becomes `_`.
        assert_eq!(
            back.spec.scenarios[1].reviewed_by.as_deref(),
            Some("Ada_Lovelace")
        );
    }

    /// Whatever the scenarios say, the file parses and keeps every ID.
    #[test]
    fn a_cucumber_feature_file_parses_whatever_the_text() {
        let yaml = r##"feature: "Odd # names"
scenarios:
  - name: "  two\nlines @at | pipe <x>  "
    given: ["", "  leading", "both \"\"\" and ```\ninside \"\"\" and ``` too"]
    when: "# not a comment"
    then: ["\n\nstarts with newlines", "@not a tag", "Scenario: not a scenario"]
  - name: "Feature: not a feature"
    rationale: "| not a table\n@ not a tag\n# not a comment\n\"\"\" not a doc string"
    then: "x"
"##;
        let spec = load_sources(&[("odd.yaml".into(), yaml.into())]).spec;
        assert_eq!(spec.scenarios.len(), 2);
        let suite = generate_suite(&spec, Framework::Cucumber, &GenerateOptions::default());
        let back = load_sources(&[("odd.feature".into(), suite.code.clone())]);
        let errors: Vec<_> = back
            .diagnostics
            .iter()
            .filter(|d| d.severity == crate::diagnostic::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:#?}\n{}", suite.code);
        let ids = |s: &Spec| s.scenarios.iter().map(|x| x.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&back.spec), ids(&spec), "{}", suite.code);
        assert_eq!(
            back.spec.scenarios[0].when.as_deref(),
            Some("# not a comment")
        );
        assert_eq!(back.spec.scenarios[0].then[1], "@not a tag");
    }

    #[test]
    fn pytest_body_fails() {
        let suite = generate_suite(&spec(), Framework::Pytest, &GenerateOptions::default());
        assert!(suite
            .code
            .contains("def test_sdd_tasks_create_a_quoted_task():"));
        assert!(suite.code.contains(
            "    pytest.fail(\"scenario tasks.create_a_quoted_task has no test body yet"
        ));
    }
}

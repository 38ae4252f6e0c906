//! Cucumber's JSON report, as cucumber-js (`--format json`), Cucumber-JVM (the `json:` plugin),
//! cucumber-ruby and cucumber-rs (`writer::Json`) write it: an array of features (`name`,
//! `uri`, `elements`), each element a `background` or a `scenario` (`name`, `line`, `tags`,
//! `steps`, `before`/`after` hooks), each step with a `result` whose `status` is `passed`,
//! `failed`, `skipped`, `pending`, `undefined` or `ambiguous` and, on failure, an
//! `error_message`. The shape is the one https://github.com/cucumber/cucumber-json-schema
//! describes; cucumber-rs (src/writer/json.rs) writes the statuses capitalised (`Passed`), tags
//! without their `@`, and a background element (named like its scenario) before each scenario.
//! Outline rows are elements of their own, named after the outline, at the row's line.
//!
//! One element of type `scenario` is one test. The background element before it is part of it:
//! its steps run first. A scenario fails if a step or hook failed (or matched several step
//! definitions); a step without a definition (`undefined`) or not written yet (`pending`) is
//! never a pass: the scenario is skipped, with the reason. Its test name is `FEATURE: NAME (line
//! N)`, with ` [ID]` when it carries an `@id:ID` tag, so `trace` finds it by ID or by name.
//!
//! The report is read as loose JSON, not into strict types: runners disagree on which fields
//! exist and their types, and a field of another shape must cost that field, not the report.

use serde_json::Value;

use super::{relevant_excerpt, Outcome, ParsedResults, TestCase};

pub fn parse(text: &str) -> ParsedResults {
    let mut parsed = ParsedResults::default();
    // A runner that also printed progress before the report: start at the `[`.
    let json = text.find('[').map(|at| &text[at..]).unwrap_or(text);
    let features = match serde_json::from_str::<Value>(json.trim_end()) {
        Ok(Value::Array(features)) => features,
        Ok(_) => {
            parsed
                .problems
                .push("not a cucumber JSON report: it is not a list of features".into());
            return parsed;
        }
        Err(e) => {
            parsed
                .problems
                .push(format!("not a cucumber JSON report: {e}"));
            return parsed;
        }
    };
    for feature in &features {
        let feature_name = text_of(feature, "name");
        let mut background: Vec<&Value> = Vec::new();
        for element in list(feature, "elements") {
            if !element.is_object() {
                continue;
            }
            if text_of(element, "type").eq_ignore_ascii_case("background") {
                background.extend(list(element, "steps"));
                continue;
            }
            let case = scenario_case(feature_name, element, &background);
            background.clear();
            // Outline rows and runs of the same name each are a test of their own.
            parsed.push_repeated(case);
        }
    }
    parsed
}

/// One scenario element (with the background steps before it) as a test case.
fn scenario_case(feature: &str, element: &Value, background: &[&Value]) -> TestCase {
    let mut name = format!("{feature}: {}", text_of(element, "name"));
    if let Some(line) = element.get("line").and_then(Value::as_u64) {
        name.push_str(&format!(" (line {line})"));
    }
    let id_tag = list(element, "tags")
        .filter_map(|tag| tag.get("name").and_then(Value::as_str))
        .find_map(|tag| tag.trim_start_matches('@').strip_prefix("id:"));
    if let Some(id) = id_tag {
        name.push_str(&format!(" [{id}]"));
    }
    // Hooks count like steps: a failing `Before` hook fails the scenario.
    let hooks = |key: &str| list(element, key).map(|h| ("hook", h)).collect::<Vec<_>>();
    let mut steps: Vec<(&str, &Value)> = hooks("before");
    steps.extend(background.iter().map(|s| ("step", *s)));
    steps.extend(list(element, "steps").map(|s| ("step", s)));
    steps.extend(hooks("after"));

    let mut case = TestCase::new(name, Outcome::Passed);
    let mut seconds = 0.0;
    let mut timed = false;
    let mut failed: Option<(String, String)> = None;
    let mut not_run: Option<String> = None;
    let mut step_count = 0;
    for (kind, step) in steps {
        let result = step.get("result");
        let status = result
            .and_then(|r| r.get("status"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_ascii_lowercase();
        if let Some(duration) = result
            .and_then(|r| r.get("duration"))
            .and_then(Value::as_f64)
        {
            // Nanoseconds in Cucumber-JVM, cucumber-js and cucumber-rs alike.
            seconds += duration / 1e9;
            timed = true;
        }
        let what = if kind == "hook" {
            "a hook".to_string()
        } else {
            step_count += 1;
            format!(
                "step `{}{}`",
                text_of(step, "keyword"),
                text_of(step, "name")
            )
        };
        match status.as_str() {
            "passed" => {}
            "failed" | "ambiguous" => {
                if failed.is_none() {
                    let error = result
                        .and_then(|r| r.get("error_message"))
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string();
                    let verb = if status == "ambiguous" {
                        "matches more than one step definition"
                    } else {
                        "failed"
                    };
                    failed = Some((format!("{what} {verb}"), error));
                }
            }
            // Steps after a failure are skipped; they say nothing of their own.
            "skipped" => {
                not_run.get_or_insert_with(|| format!("{what} was skipped"));
            }
            "undefined" => {
                not_run = Some(format!(
                    "{what} is undefined: no step definition matches it"
                ));
            }
            "pending" => {
                not_run.get_or_insert_with(|| format!("{what} is pending: not implemented yet"));
            }
            other => {
                not_run.get_or_insert_with(|| {
                    format!("{what} has the status `{other}`, which is not a pass")
                });
            }
        }
    }
    if timed {
        case.duration_seconds = Some(seconds);
    }
    if let Some((what, error)) = failed {
        case.outcome = Outcome::Failed;
        let first_line = error.lines().map(str::trim).find(|l| !l.is_empty());
        case.message = Some(match first_line {
            Some(line) => format!("{what}: {line}"),
            None => what,
        });
        case.excerpt = relevant_excerpt(&error);
    } else if let Some(reason) = not_run {
        case.outcome = Outcome::Skipped;
        case.message = Some(reason);
    } else if step_count == 0 {
        // Nothing was checked: not a pass.
        case.outcome = Outcome::Skipped;
        case.message = Some("the scenario has no steps".into());
    }
    case
}

fn list<'v>(value: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

fn text_of<'v>(value: &'v Value, key: &str) -> &'v str {
    value.get(key).and_then(Value::as_str).unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcomes(parsed: &ParsedResults) -> Vec<(&str, Outcome, Option<&str>)> {
        parsed
            .cases
            .iter()
            .map(|c| (c.name.as_str(), c.outcome, c.message.as_deref()))
            .collect()
    }

    #[test]
    fn statuses_decide_the_outcome_and_undefined_is_never_a_pass() {
        let step = |status: &str| {
            format!(
                r#"{{"keyword": "Then ", "name": "it is {status}", "result": {{"status": "{status}", "duration": 1500000000}}}}"#
            )
        };
        let element = |name: &str, steps: &[String]| {
            format!(
                r#"{{"type": "scenario", "name": "{name}", "line": 3, "steps": [{}]}}"#,
                steps.join(",")
            )
        };
        let report = format!(
            "[{{\"name\": \"F\", \"elements\": [{}]}}]",
            [
                element("pass", &[step("passed"), step("passed")]),
                element("fail", &[step("passed"), step("failed"), step("skipped")]),
                element(
                    "undefined",
                    &[step("passed"), step("undefined"), step("skipped")]
                ),
                element("pending", &[step("pending"), step("skipped")]),
                element("skipped", &[step("skipped")]),
                element("ambiguous", &[step("ambiguous")]),
                element("capitalised", &[step("Passed"), step("Failed")]),
                element("unknown", &[step("flaky")]),
                element("empty", &[]),
            ]
            .join(",")
        );
        let parsed = parse(&report);
        assert_eq!(parsed.problems, Vec::<String>::new());
        let found: Vec<(&str, Outcome)> = outcomes(&parsed)
            .into_iter()
            .map(|(name, outcome, _)| (name, outcome))
            .collect();
        assert_eq!(
            found,
            [
                ("F: pass (line 3)", Outcome::Passed),
                ("F: fail (line 3)", Outcome::Failed),
                ("F: undefined (line 3)", Outcome::Skipped),
                ("F: pending (line 3)", Outcome::Skipped),
                ("F: skipped (line 3)", Outcome::Skipped),
                ("F: ambiguous (line 3)", Outcome::Failed),
                ("F: capitalised (line 3)", Outcome::Failed),
                ("F: unknown (line 3)", Outcome::Skipped),
                ("F: empty (line 3)", Outcome::Skipped),
            ]
        );
        assert_eq!(parsed.cases[0].duration_seconds, Some(3.0));
        assert_eq!(
            parsed.cases[2].message.as_deref(),
            Some("step `Then it is undefined` is undefined: no step definition matches it")
        );
        assert_eq!(
            parsed.cases[1].message.as_deref(),
            Some("step `Then it is failed` failed")
        );
    }

    #[test]
    fn backgrounds_belong_to_the_next_scenario_and_hooks_count() {
        let report = r#"garbage printed first
[{"name": "Orders", "elements": [
  {"type": "background", "name": "", "steps": [
    {"keyword": "Given ", "name": "a customer", "result": {"status": "failed",
     "error_message": "AssertionError: no customer\n    at Object.<anonymous> (steps.js:4:11)"}}]},
  {"type": "scenario", "name": "Cancel", "line": 9, "tags": [{"name": "@id:orders.cancel"}],
   "steps": [{"keyword": "When ", "name": "it is cancelled", "result": {"status": "skipped"}}]},
  {"type": "scenario", "name": "Ship", "line": 12, "tags": [{"name": "smoke"}],
   "before": [{"result": {"status": "failed", "error_message": "database down"}}],
   "steps": [{"keyword": "When ", "name": "it ships", "result": {"status": "skipped"}}]},
  {"type": "scenario", "name": "Ship", "line": 13, "tags": [{"name": "id:orders.ship"}],
   "steps": [{"keyword": "When ", "name": "it ships", "result": {"status": "passed"}}]}
]}]"#;
        let parsed = parse(report);
        assert_eq!(
            outcomes(&parsed),
            [
                (
                    "Orders: Cancel (line 9) [orders.cancel]",
                    Outcome::Failed,
                    Some("step `Given a customer` failed: AssertionError: no customer")
                ),
                (
                    "Orders: Ship (line 12)",
                    Outcome::Failed,
                    Some("a hook failed: database down")
                ),
                (
                    "Orders: Ship (line 13) [orders.ship]",
                    Outcome::Passed,
                    None
                ),
            ]
        );
        assert!(parsed.cases[0]
            .excerpt
            .as_deref()
            .unwrap()
            .contains("no customer"));
    }

    #[test]
    fn what_is_not_a_report_is_a_problem_not_a_panic() {
        for text in [
            "",
            "{}",
            "[1, 2",
            "not json at all",
            "[{\"elements\": 5}, 3, {\"elements\": [7, {\"steps\": \"x\"}]}]",
            &format!("{}1{}", "[".repeat(10_000), "]".repeat(10_000)),
        ] {
            let parsed = parse(text);
            // Whatever it is, it is not a passing test.
            assert!(
                parsed.cases.iter().all(|c| c.outcome != Outcome::Passed),
                "{text:.40}: {parsed:?}"
            );
        }
        assert!(!parse("{}").problems.is_empty());
        assert!(!parse("[1, 2").problems.is_empty());
    }
}

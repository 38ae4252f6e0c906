//! The JSON report of Jest (`--json`) and Vitest (`--reporter=json`), which share a shape:
//! `testResults[]` per file, each with `assertionResults[]` (`fullName`, `status`,
//! `failureMessages`, `duration` in ms). A file that failed to run at all (a syntax error) has
//! no assertions and a `message`: that is a problem.

use serde::Deserialize;

use super::{relevant_excerpt, Outcome, ParsedResults, TestCase};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    #[serde(default)]
    test_results: Vec<FileResult>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FileResult {
    #[serde(default)]
    name: String,
    #[serde(default)]
    message: String,
    #[serde(default)]
    assertion_results: Vec<Assertion>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Assertion {
    #[serde(default)]
    full_name: String,
    #[serde(default)]
    title: String,
    status: String,
    #[serde(default)]
    duration: Option<f64>,
    #[serde(default)]
    failure_messages: Vec<String>,
}

pub fn parse(text: &str) -> ParsedResults {
    let mut parsed = ParsedResults::default();
    // Jest may print other lines before the report when it goes to stdout; start at the `{`.
    let json = text.find('{').map(|at| &text[at..]).unwrap_or(text);
    let report: Report = match serde_json::from_str(json.trim_end()) {
        Ok(report) => report,
        Err(e) => {
            parsed
                .problems
                .push(format!("not a Jest/Vitest JSON report: {e}"));
            return parsed;
        }
    };
    for file in report.test_results {
        if file.assertion_results.is_empty() && !file.message.trim().is_empty() {
            let excerpt = relevant_excerpt(&file.message).unwrap_or_default();
            parsed
                .problems
                .push(format!("test file {} did not run:\n{excerpt}", file.name));
        }
        for assertion in file.assertion_results {
            let outcome = match assertion.status.as_str() {
                "passed" => Outcome::Passed,
                "failed" => Outcome::Failed,
                // pending, skipped, todo, disabled
                _ => Outcome::Skipped,
            };
            let name = if assertion.full_name.is_empty() {
                assertion.title
            } else {
                assertion.full_name
            };
            let mut case = TestCase::new(name, outcome);
            case.duration_seconds = assertion.duration.map(|ms| ms / 1000.0);
            if outcome == Outcome::Failed {
                let text = assertion.failure_messages.join("\n");
                case.message = text
                    .lines()
                    .take_while(|l| !l.trim_start().starts_with("at "))
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .take(6)
                    .collect::<Vec<_>>()
                    .join("\n")
                    .into();
                case.excerpt = relevant_excerpt(&text);
            } else if assertion.status != "skipped" && outcome == Outcome::Skipped {
                case.message = Some(assertion.status.clone());
            }
            parsed.push(case);
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_that_did_not_run() {
        let parsed = parse(
            r#"{"testResults":[{"name":"/a.test.js","message":"SyntaxError: Unexpected token","assertionResults":[]}]}"#,
        );
        assert!(parsed.problems[0].contains("SyntaxError"));
    }

    #[test]
    fn garbage_is_a_problem() {
        assert!(!parse("{not json").problems.is_empty());
    }
}

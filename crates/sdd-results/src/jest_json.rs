//! The JSON report of Jest (`--json`) and Vitest (`--reporter=json`), which share a shape:
//! `testResults[]` per file, each with `assertionResults[]` (`fullName`, `status`,
//! `failureMessages`, `duration` in ms). A file that failed to run at all (a syntax error) has
//! no assertions and a `message`: that is a problem.

use serde::Deserialize;

use super::{relevant_excerpt, Outcome, ParsedResults, Reconciliation, TestCase};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Report {
    #[serde(default)]
    test_results: Vec<FileResult>,
    // The runner's own counts (Jest and Vitest write them all but the last).
    num_total_tests: Option<usize>,
    #[serde(default)]
    num_passed_tests: usize,
    #[serde(default)]
    num_failed_tests: usize,
    #[serde(default)]
    num_pending_tests: usize,
    #[serde(default)]
    num_todo_tests: usize,
    #[serde(default)]
    num_runtime_error_test_suites: usize,
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
    let mut read = [0usize; 4];
    let mut did_not_run: Vec<String> = Vec::new();
    for file in report.test_results {
        if file.assertion_results.is_empty() && !file.message.trim().is_empty() {
            let excerpt = relevant_excerpt(&file.message).unwrap_or_default();
            parsed
                .problems
                .push(format!("test file {} did not run:\n{excerpt}", file.name));
            did_not_run.push(file.name.clone());
        }
        for assertion in file.assertion_results {
            read[match assertion.status.as_str() {
                "passed" => 0,
                "failed" => 1,
                "todo" => 3,
                _ => 2,
            }] += 1;
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
            // Not `push`: two files may hold tests of the same name.
            parsed.push_repeated(case);
        }
    }
    if let Some(total) = report.num_total_tests {
        let mut reconciliation = Reconciliation::compare(
            "the report's own counts (numTotalTests, …)",
            &[
                ("tests", total),
                ("passed", report.num_passed_tests),
                ("failed", report.num_failed_tests),
                ("pending", report.num_pending_tests),
                ("todo", report.num_todo_tests),
            ],
            &[
                ("tests", read.iter().sum()),
                ("passed", read[0]),
                ("failed", read[1]),
                ("pending", read[2]),
                ("todo", read[3]),
            ],
            "",
        );
        // A file that failed to run counts none of its tests: they are unknown.
        let broken = did_not_run.len().max(report.num_runtime_error_test_suites);
        if broken > 0 {
            reconciliation.status = crate::ReconcileStatus::Differs;
            reconciliation.differences.push(format!(
                "{broken} test file(s) did not run ({}), so their tests are in no count",
                did_not_run.join(", ")
            ));
        }
        parsed.reconciliation = reconciliation;
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

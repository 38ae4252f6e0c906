//! `go test -json`: one JSON event per line (`run`, `output`, `pass`, `fail`, `skip`, and since
//! Go 1.24 `build-output`/`build-fail`). Subtests (`TestA/case`) are tests of their own. A
//! package that fails with no test failing (a build error, a panic in `init`) is a problem.

use std::collections::HashMap;

use serde::Deserialize;

use super::{relevant_excerpt, Outcome, ParsedResults, TestCase};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Event {
    action: String,
    #[serde(default)]
    package: String,
    #[serde(default)]
    test: Option<String>,
    #[serde(default)]
    output: Option<String>,
    #[serde(default)]
    elapsed: Option<f64>,
    #[serde(default)]
    import_path: Option<String>,
}

pub fn parse(text: &str) -> ParsedResults {
    let mut parsed = ParsedResults::default();
    let mut output: HashMap<(String, String), String> = HashMap::new();
    let mut package_output: HashMap<String, String> = HashMap::new();
    let mut package_failed_tests: HashMap<String, usize> = HashMap::new();
    let mut stray_lines = 0usize;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(event) = serde_json::from_str::<Event>(line) else {
            stray_lines += 1;
            if stray_lines <= 3 {
                package_output
                    .entry(String::new())
                    .or_default()
                    .push_str(&format!("{line}\n"));
            }
            continue;
        };
        let package = event
            .import_path
            .clone()
            .unwrap_or_else(|| event.package.clone());
        let Some(test) = event.test.clone() else {
            match event.action.as_str() {
                "output" | "build-output" => package_output
                    .entry(package)
                    .or_default()
                    .push_str(event.output.as_deref().unwrap_or("")),
                "fail" | "build-fail"
                    if package_failed_tests.get(&package).is_none_or(|n| *n == 0) =>
                {
                    let text = package_output.get(&package).cloned().unwrap_or_default();
                    let excerpt = relevant_excerpt(&text).unwrap_or_default();
                    parsed.problems.push(format!(
                        "package `{package}` failed without a failing test (build error or crash):\n{excerpt}"
                    ));
                }
                _ => {}
            }
            continue;
        };
        let key = (package.clone(), test.clone());
        let outcome = match event.action.as_str() {
            "output" => {
                output
                    .entry(key)
                    .or_default()
                    .push_str(event.output.as_deref().unwrap_or(""));
                continue;
            }
            "pass" => Outcome::Passed,
            "fail" => Outcome::Failed,
            "skip" => Outcome::Skipped,
            _ => continue,
        };
        if outcome == Outcome::Failed {
            *package_failed_tests.entry(package.clone()).or_default() += 1;
        }
        let text = output.remove(&key).unwrap_or_default();
        let logged: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| is_log_line(l))
            .collect();
        let mut case = TestCase::new(format!("{package}::{test}"), outcome);
        case.duration_seconds = event.elapsed;
        match outcome {
            Outcome::Failed => {
                case.message = logged.last().map(|l| l.to_string()).or_else(|| {
                    text.lines()
                        .find(|l| l.contains("panic:"))
                        .map(str::to_string)
                });
                let body: String = text
                    .lines()
                    .filter(|l| {
                        !l.starts_with("=== RUN") && !l.trim_start().starts_with("--- FAIL")
                    })
                    .map(|l| format!("{l}\n"))
                    .collect();
                case.excerpt = relevant_excerpt(&body);
            }
            Outcome::Skipped => case.message = logged.last().map(|l| strip_location(l)),
            Outcome::Passed => {}
        }
        parsed.push(case);
    }
    if stray_lines > 0 && parsed.cases.is_empty() {
        let sample = package_output.remove("").unwrap_or_default();
        parsed.problems.push(format!(
            "{stray_lines} line(s) are not go test -json events; first ones:\n{}",
            sample.trim_end()
        ));
    }
    parsed
}

/// `inventory_test.go:30: message` — what `t.Log`/`t.Error` print.
fn is_log_line(line: &str) -> bool {
    line.split_once(": ")
        .and_then(|(location, _)| location.rsplit_once(".go:"))
        .is_some_and(|(_, n)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
}

fn strip_location(line: &str) -> String {
    line.split_once(": ")
        .map(|(_, m)| m.to_string())
        .unwrap_or_else(|| line.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_failure_is_a_problem() {
        let text = r##"{"Action":"output","Package":"p","Output":"# p\n"}
{"Action":"output","Package":"p","Output":"./a_test.go:3:1: syntax error\n"}
{"Action":"fail","Package":"p","Elapsed":0}"##;
        let parsed = parse(text);
        assert!(parsed.cases.is_empty());
        assert!(
            parsed.problems[0].contains("syntax error"),
            "{:?}",
            parsed.problems
        );
    }

    #[test]
    fn not_json_is_a_problem() {
        let parsed = parse("ok  \tp\t0.1s\n");
        assert!(parsed.problems[0].contains("not go test -json"));
    }
}

//! `go test -json`: one JSON event per line (`run`, `output`, `pass`, `fail`, `skip`, and since
//! Go 1.24 `build-output`/`build-fail`). Subtests (`TestA/case`) are tests of their own. A
//! package that fails with no test failing (a build error, a panic in `init`) is a problem.

use std::collections::HashMap;

use serde::Deserialize;

use super::{relevant_excerpt, CrashedBinary, Outcome, ParsedResults, Reconciliation, TestCase};

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
    // Tests that started (`run`) and have not ended (`pass`/`fail`/`skip`), in order.
    let mut started: Vec<(String, String)> = Vec::new();
    let mut ended: std::collections::HashSet<(String, String)> = Default::default();
    // Packages that ended, and those that did not build.
    let mut packages_ended: std::collections::HashSet<String> = Default::default();
    let mut packages_seen: Vec<String> = Vec::new();
    let mut not_built: Vec<String> = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(event) = serde_json::from_str::<Event>(line) else {
            // Go before 1.24 prints a package that does not build as plain text, outside the
            // JSON: `FAIL\texample.com/p [build failed]`.
            if let Some(package) = line.strip_prefix("FAIL").and_then(|rest| {
                rest.trim()
                    .strip_suffix("[build failed]")
                    .or(rest.trim().strip_suffix("[setup failed]"))
            }) {
                not_built.push(package.trim().to_string());
                continue;
            }
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
        if !package.is_empty() && !packages_seen.contains(&package) {
            packages_seen.push(package.clone());
        }
        let Some(test) = event.test.clone() else {
            if matches!(event.action.as_str(), "pass" | "fail" | "skip") {
                packages_ended.insert(package.clone());
            }
            if event.action == "build-fail" {
                not_built.push(package.clone());
            }
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
            "run" => {
                started.push(key);
                continue;
            }
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
        ended.insert(key.clone());
        let text = output.remove(&key).unwrap_or_default();
        if let Some(panic) = text.lines().find(|l| l.starts_with("panic: ")) {
            // The test binary died with this test: tests it had not started are unknown.
            parsed.crashed.push(CrashedBinary {
                binary: Some(package.clone()),
                crashed_test: Some(format!("{package}::{test}")),
                reason: panic.trim_end_matches(" [recovered]").to_string(),
                ..CrashedBinary::default()
            });
        }
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
            Outcome::Passed | Outcome::NotRun => {}
        }
        parsed.push(case);
    }
    // Started and never ended: the binary died (a panic elsewhere) before they reported.
    let mut never_ended = 0usize;
    for (package, test) in started.iter().filter(|k| !ended.contains(*k)) {
        never_ended += 1;
        let mut case = TestCase::new(format!("{package}::{test}"), Outcome::NotRun);
        case.message =
            Some("started but never reported a result: its test binary died first".into());
        parsed.push(case);
    }
    for crash in &mut parsed.crashed {
        crash.reported = parsed
            .cases
            .iter()
            .filter(|c| {
                c.outcome != Outcome::NotRun
                    && crash
                        .binary
                        .as_deref()
                        .is_some_and(|p| c.name.starts_with(&format!("{p}::")))
            })
            .count()
            .saturating_sub(1);
    }
    parsed.reconciliation = reconcile(
        started.len(),
        never_ended,
        &packages_seen,
        &packages_ended,
        &not_built,
    );
    if stray_lines > 0 && parsed.cases.is_empty() {
        let sample = package_output.remove("").unwrap_or_default();
        parsed.problems.push(format!(
            "{stray_lines} line(s) are not go test -json events; first ones:\n{}",
            sample.trim_end()
        ));
    }
    parsed
}

/// go test prints no counts: what it does say is that every test it started ended, and every
/// package ended (`ok`/`FAIL`) and built.
fn reconcile(
    started: usize,
    never_ended: usize,
    packages: &[String],
    ended: &std::collections::HashSet<String>,
    not_built: &[String],
) -> Reconciliation {
    if packages.is_empty() && not_built.is_empty() {
        return Reconciliation::missing(
            "go test's package results",
            "no package reported (the output is not `go test -json`, or it was cut)",
        );
    }
    // Every test go starts ends with `pass`, `fail` or `skip`, unless its binary dies.
    let mut out = Reconciliation::compare(
        "go test's `run` events",
        &[("tests ended", started)],
        &[("tests ended", started - never_ended)],
        "the rest are listed as `not_run`",
    );
    let unfinished: Vec<&str> = packages
        .iter()
        .filter(|p| !ended.contains(*p) && !not_built.contains(p))
        .map(String::as_str)
        .collect();
    if !unfinished.is_empty() {
        out.status = super::ReconcileStatus::SummaryMissing;
        out.differences.push(format!(
            "package(s) {} never reported `ok` or `FAIL`: the run did not finish, or its output was cut",
            unfinished.join(", ")
        ));
    }
    if !not_built.is_empty() {
        out.status = super::ReconcileStatus::Differs;
        out.differences.push(format!(
            "package(s) {} did not build, so their tests are unknown (the compiler's errors are on stderr)",
            not_built.join(", ")
        ));
    }
    out
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

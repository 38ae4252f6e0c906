//! One test run from start to verdict: the profile's command (from `sdd.yaml`, never from a
//! caller) under the supervisor, its results parsed, mapped to scenarios, and recorded in the
//! history with the regressions against the previous run of the same profile.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_spec::model::Spec;
use sdd_spec::project::{confine, ResultsFormat, TestProfile};

use sdd_exec::git::TreeState;
use sdd_exec::process::{run, Exit, RunSpec, Supervisor};
use sdd_history::status::RunTrouble;
use sdd_history::{History, NewRun, RunKind, SubjectResult, TestRow};
use sdd_results::trace::{trace, RunShape, ScenarioVerdict, TestMap, Traceability};
use sdd_results::{parse_output, parse_path, Outcome, ParsedResults, Reconciliation, TestCase};

use crate::record::{scenario_status, test_outcome, RunStamp};

/// Standard output kept for parsing: large enough for tens of thousands of result lines.
const PARSE_CAP: usize = 32 * 1024 * 1024;
/// Failures listed in full in a report; the rest are counted.
const MAX_LISTED_FAILURES: usize = 20;
/// Characters of output shown when a run produced no readable results.
const OUTPUT_TAIL: usize = 3000;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct TestCounts {
    pub total: usize,
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

/// A failing test, with what a reader needs to fix it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Failure {
    pub test: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TestRunReport {
    /// The run's ID in the history (absent when it could not be recorded; see `problems`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<i64>,
    pub profile: String,
    /// The shell text run; with a filter, `${1}` in it stands for the filter, which is passed
    /// to the shell as an argument and never parsed as shell text.
    pub command: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    pub exit: Exit,
    pub duration_seconds: f64,
    pub tree: TreeState,
    /// Exit code 0, no failing test, and results that could be read.
    pub ok: bool,
    pub tests: TestCounts,
    pub failures: Vec<Failure>,
    /// Failures beyond the ones listed.
    pub more_failures: usize,
    /// Scenarios that passed in the previous run of this profile and fail now.
    pub regressions: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run_id: Option<i64>,
    pub traceability: Traceability,
    /// The tests read counted against the runner's own summary (pytest's final line,
    /// libtest's `test result:` lines, nextest's `Summary`, …). Unless it `agrees` (or the
    /// format has no summary: `not_offered`), no scenario of the run is `passing` or `no_test`.
    #[serde(default)]
    pub reconciliation: Reconciliation,
    /// Results that could not be read, stale results files, truncated output.
    pub problems: Vec<String>,
    /// The end of the output when the run gave no readable results (a build error, say).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tail: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum TestRunError {
    #[error("test profile `{profile}` has no `filter_arg`, so it cannot run a subset; add e.g. `filter_arg: \"-k {{filter}}\"` to it in sdd.yaml, or run it without a filter")]
    NoFilterArg { profile: String },
    #[error("{what} `{path}` of profile `{profile}` is outside the project; paths in sdd.yaml are relative to the project root")]
    OutsideProject {
        profile: String,
        what: &'static str,
        path: String,
    },
    #[error("working directory `{path}` of profile `{profile}` does not exist")]
    MissingWorkdir { profile: String, path: PathBuf },
    #[error("the filter cannot be used: {reason}")]
    BadFilter { reason: String },
    #[error("filter_arg of profile `{profile}` in sdd.yaml: {reason}")]
    BadFilterArg { profile: String, reason: String },
    #[error(transparent)]
    Start(#[from] sdd_exec::process::RunError),
}

pub struct TestRunRequest<'a> {
    pub root: &'a Path,
    pub profile_name: &'a str,
    pub profile: &'a TestProfile,
    pub filter: Option<&'a str>,
    pub spec: &'a Spec,
    pub supervisor: &'a Supervisor,
    /// Where to record the run; `None` to leave the history alone.
    pub history: Option<&'a std::sync::Mutex<Option<History>>>,
}

/// Longest filter accepted: test names and patterns are short, and the OS refuses a single
/// argument above 128 KiB with an error that would not name the filter.
pub const MAX_FILTER_BYTES: usize = 4096;

/// The command with the filter applied through the profile's `filter_arg`, as shell text and
/// the arguments that go with it.
///
/// The filter never becomes shell text: each `{filter}` in `filter_arg` is replaced by a
/// reference to the first positional parameter, `${1}`, quoted for the spot it is in (`"${1}"`
/// outside quotes, `${1}` inside double quotes, `'"${1}"'` inside single quotes), and the
/// filter itself is passed as that parameter (`sh -c '<command>' sh FILTER`). The shell expands
/// a parameter without parsing its value again, so `$(…)`, backticks, quotes, `;` and `*` in a
/// filter are just characters, and `-k {filter}` or `-k "{filter}"` gives the runner the filter
/// as exactly one argument, byte for byte.
pub fn command_with_filter(
    profile_name: &str,
    profile: &TestProfile,
    filter: Option<&str>,
) -> Result<(String, Vec<String>), TestRunError> {
    let Some(filter) = filter.filter(|f| !f.trim().is_empty()) else {
        return Ok((profile.command.clone(), Vec::new()));
    };
    let Some(arg) = &profile.filter_arg else {
        return Err(TestRunError::NoFilterArg {
            profile: profile_name.into(),
        });
    };
    check_filter(filter)?;
    let arg = filter_reference(arg).map_err(|reason| TestRunError::BadFilterArg {
        profile: profile_name.into(),
        reason,
    })?;
    Ok((format!("{} {arg}", profile.command), vec![filter.into()]))
}

/// A filter is a test name or pattern: no control characters (a NUL cannot even be passed to
/// a process), no leading `-` (the runner would read it as one of its options — `cargo test
/// --config …` runs code), and not huge.
fn check_filter(filter: &str) -> Result<(), TestRunError> {
    let bad = |reason: String| Err(TestRunError::BadFilter { reason });
    if let Some((at, c)) = filter.char_indices().find(|(_, c)| c.is_control()) {
        return bad(format!(
            "it contains the control character U+{:04X} at byte {at}; a filter is a test name or pattern on one line, remove it",
            c as u32
        ));
    }
    if filter.starts_with('-') {
        return bad(
            "it starts with `-`, so the test runner would take it for one of its options; pass the test name or pattern without the leading dash".into(),
        );
    }
    if filter.len() > MAX_FILTER_BYTES {
        return bad(format!(
            "it is {} bytes long, more than the {MAX_FILTER_BYTES} accepted; use a shorter name or pattern",
            filter.len()
        ));
    }
    Ok(())
}

/// `filter_arg` with every `{filter}` replaced by `${1}` quoted for its context (see
/// [`command_with_filter`]); without `{filter}`, `"${1}"` is appended. Quotes the user put
/// around `{filter}` keep their meaning, they just no longer matter for safety.
fn filter_reference(filter_arg: &str) -> Result<String, String> {
    #[derive(PartialEq)]
    enum Quote {
        None,
        Single,
        Double,
    }
    let mut state = Quote::None;
    let mut out = String::with_capacity(filter_arg.len() + 8);
    let mut found = false;
    let mut rest = filter_arg;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest.strip_prefix("{filter}") {
            out.push_str(match state {
                Quote::None => "\"${1}\"",
                Quote::Double => "${1}",
                // Close the single quotes, expand in double quotes, reopen.
                Quote::Single => "'\"${1}\"'",
            });
            found = true;
            rest = after;
            continue;
        }
        rest = &rest[c.len_utf8()..];
        out.push(c);
        match (&state, c) {
            // A backslash takes the next character literally (outside single quotes).
            (Quote::None | Quote::Double, '\\') => {
                if let Some(next) = rest.chars().next() {
                    out.push(next);
                    rest = &rest[next.len_utf8()..];
                }
            }
            (Quote::None, '\'') => state = Quote::Single,
            (Quote::Single, '\'') => state = Quote::None,
            (Quote::None, '"') => state = Quote::Double,
            (Quote::Double, '"') => state = Quote::None,
            _ => {}
        }
    }
    if state != Quote::None {
        return Err(format!(
            "`{filter_arg}` has a quote that is never closed; write e.g. `-k {{filter}}` (SDD passes the filter safely, quotes are not needed)"
        ));
    }
    if !found {
        out.push_str(" \"${1}\"");
    }
    Ok(out)
}

pub async fn run_tests(request: TestRunRequest<'_>) -> Result<TestRunReport, TestRunError> {
    let TestRunRequest {
        root,
        profile_name,
        profile,
        filter,
        spec,
        supervisor,
        history,
    } = request;
    let outside = |what, path: &str| TestRunError::OutsideProject {
        profile: profile_name.into(),
        what,
        path: path.into(),
    };
    let workdir =
        confine(root, &profile.workdir).ok_or_else(|| outside("workdir", &profile.workdir))?;
    if !workdir.is_dir() {
        return Err(TestRunError::MissingWorkdir {
            profile: profile_name.into(),
            path: workdir,
        });
    }
    let results_path = match &profile.results.path {
        Some(p) => {
            let rel = Path::new(&profile.workdir).join(p);
            Some(confine(root, &rel.to_string_lossy()).ok_or_else(|| outside("results.path", p))?)
        }
        None => None,
    };
    let (command, args) = command_with_filter(profile_name, profile, filter)?;
    let filter = filter.filter(|f| !f.trim().is_empty()).map(str::to_string);

    let stamp = RunStamp::now(root).await;
    let started = SystemTime::now();
    let mut spec_run = RunSpec::new(
        command.clone(),
        workdir,
        Duration::from_secs(profile.timeout_seconds.max(1)),
    );
    spec_run.args = args;
    spec_run.env = profile.env.clone();
    spec_run.output_cap = PARSE_CAP;
    let outcome = run(supervisor, &spec_run).await?;
    let duration_seconds = stamp.elapsed_seconds();

    let mut problems = Vec::new();
    let format = profile.results.format;
    let parsed = match &results_path {
        Some(path) => {
            if let Some(stale) = stale_results(path, started) {
                problems.push(stale);
            }
            sdd_exec::blocking(|| parse_path(format, path))
        }
        None => {
            let mut text = outcome.stdout.text.clone();
            if matches!(format, ResultsFormat::Nextest | ResultsFormat::Libtest) {
                // nextest reports on stderr; cargo names each test binary there, and a crashed
                // binary's last words (`has overflowed its stack`) are there.
                text.push('\n');
                text.push_str(&outcome.stderr.text);
            }
            if outcome.stdout.truncated
                || (outcome.stderr.truncated
                    && matches!(format, ResultsFormat::Nextest | ResultsFormat::Libtest))
            {
                problems.push(format!(
                    "the output exceeded {} MiB, so results in its middle were not read; have the runner write a results file (e.g. JUnit) and set `results.path`",
                    PARSE_CAP / (1024 * 1024)
                ));
            }
            sdd_exec::blocking(|| parse_output(format, &text))
        }
    };
    let mut parsed = parsed;
    if !parsed.crashed.is_empty() {
        name_unreported_tests(&mut parsed, root, &spec_run, supervisor).await;
    }
    let mut shape = RunShape::of(&parsed, filter.is_some());
    // Stale results, output cut in its middle, a run stopped at its timeout: what was read is
    // not the whole run, whatever the parser could check.
    shape.incomplete |= !problems.is_empty() || matches!(outcome.exit, Exit::TimedOut { .. });
    problems.extend(parsed.problems);
    problems.extend(parsed.crashed.iter().map(|c| c.describe()));
    let reconciliation = parsed.reconciliation;
    if let Exit::TimedOut { after_seconds } = outcome.exit {
        problems.insert(
            0,
            format!(
                "the run was stopped after its timeout of {after_seconds} s (timeout_seconds in sdd.yaml); its whole process group was killed, so results are partial"
            ),
        );
    }

    let cases = parsed.cases;
    // Up to hundreds of thousands of tests against the whole spec: off the async workers.
    let traceability = sdd_exec::blocking(|| trace(spec, &cases, shape));
    // The same mapping as the traceability's: by ID in the name, else by scenario name.
    let index = TestMap::new(spec);
    let counts = TestCounts {
        total: cases.len(),
        passed: cases
            .iter()
            .filter(|c| c.outcome == Outcome::Passed)
            .count(),
        failed: cases
            .iter()
            .filter(|c| c.outcome == Outcome::Failed)
            .count(),
        skipped: cases
            .iter()
            .filter(|c| c.outcome == Outcome::Skipped)
            .count(),
    };
    let mut failures: Vec<Failure> = cases
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .map(|c| Failure {
            test: c.name.clone(),
            scenario_id: index.scenario_for(&c.name).id().map(str::to_string),
            message: c.message.clone(),
            excerpt: c.excerpt.clone(),
        })
        .collect();
    let more_failures = failures.len().saturating_sub(MAX_LISTED_FAILURES);
    failures.truncate(MAX_LISTED_FAILURES);
    let exit_ok = outcome.exit == Exit::Code { code: 0 };
    let ok = exit_ok && counts.failed == 0 && problems.is_empty() && counts.total > 0;
    let output_tail = (cases.is_empty() || (!exit_ok && counts.failed == 0)).then(|| {
        let mut text = outcome.stdout.text.clone();
        if !outcome.stderr.text.is_empty() {
            text.push_str("\n--- stderr ---\n");
            text.push_str(&outcome.stderr.text);
        }
        tail(&text, OUTPUT_TAIL)
    });
    if !exit_ok
        && counts.failed == 0
        && !cases.is_empty()
        && !matches!(outcome.exit, Exit::TimedOut { .. })
    {
        // `Exit`'s Display is the predicate of a sentence ("exited with status 101"); its
        // Debug form (`Code { code: 101 }`) says nothing to a reader.
        problems.push(format!(
            "the command {} although no test failed; see output_tail",
            outcome.exit
        ));
    }

    let mut report = TestRunReport {
        run_id: None,
        profile: profile_name.into(),
        command,
        filter,
        exit: outcome.exit,
        duration_seconds,
        tree: stamp.tree.clone(),
        ok,
        tests: counts,
        failures,
        more_failures,
        regressions: Vec::new(),
        previous_run_id: None,
        traceability,
        reconciliation,
        problems,
        output_tail,
    };
    if let Some(history) = history {
        // SQLite, one row per test: off the async workers.
        sdd_exec::blocking(|| record(history, &report, &cases, &index, &stamp))
            .map(|record| {
                report.run_id = Some(record.id);
                report.regressions = record.regressions;
                report.previous_run_id = record.previous_run;
            })
            .unwrap_or_else(|e| {
                report
                    .problems
                    .push(format!("{}{e}", crate::record::NOT_RECORDED))
            });
    }
    Ok(report)
}

/// Longest a crashed test binary may take to list its tests.
const LIST_TIMEOUT: Duration = Duration::from_secs(30);

/// Name the tests a crashed libtest binary never reported, by asking the binary for its list
/// (`--list --format terse`), so they and their scenarios read `not_run` rather than vanish.
/// Only an executable inside the project is run (its path comes from the run's output), and
/// only a list of exactly as many tests as the binary was to run is used: a filtered run lists
/// more, and then which ones ran is unknown (the crash says so).
async fn name_unreported_tests(
    parsed: &mut ParsedResults,
    root: &Path,
    run_spec: &RunSpec,
    supervisor: &Supervisor,
) {
    let mut unreported = Vec::new();
    for crash in &mut parsed.crashed {
        let Some(executable) = crash.executable.as_deref() else {
            continue;
        };
        // The path comes from the run's output: only a file inside the project is run, and
        // otherwise the crash stays told with its unreported tests unknown.
        let Some(executable) = inside_project(root, &run_spec.workdir, executable) else {
            continue;
        };
        let mut list = RunSpec::new(
            "\"${1}\" --list --format terse",
            run_spec.workdir.clone(),
            LIST_TIMEOUT,
        );
        list.args = vec![executable.to_string_lossy().into_owned()];
        list.env = run_spec.env.clone();
        let Ok(listed) = run(supervisor, &list).await else {
            continue;
        };
        if listed.exit != (Exit::Code { code: 0 }) {
            continue;
        }
        let names: Vec<&str> = listed
            .stdout
            .text
            .lines()
            .filter_map(|l| l.strip_suffix(": test"))
            .collect();
        if Some(names.len()) != crash.tests {
            continue;
        }
        let reported: std::collections::HashSet<&str> =
            crash.reported_tests.iter().map(String::as_str).collect();
        for name in names.into_iter().filter(|n| !reported.contains(n)) {
            let mut case = TestCase::new(name, Outcome::NotRun);
            case.message = Some(format!(
                "never reported: {} crashed first",
                crash.binary.as_deref().unwrap_or("its test binary")
            ));
            unreported.push(case);
        }
        crash.unreported_named = true;
    }
    parsed.cases.extend(unreported);
}

/// `path` (absolute, or relative to `workdir`) when it is a file inside the project, resolved.
fn inside_project(root: &Path, workdir: &Path, path: &str) -> Option<PathBuf> {
    let path = Path::new(path);
    let full = if path.is_absolute() {
        path.to_path_buf()
    } else {
        workdir.join(path)
    };
    let full = full.canonicalize().ok()?;
    (full.starts_with(root.canonicalize().ok()?) && full.is_file()).then_some(full)
}

fn record(
    history: &std::sync::Mutex<Option<History>>,
    report: &TestRunReport,
    cases: &[TestCase],
    index: &TestMap,
    stamp: &RunStamp,
) -> Result<sdd_history::RunRecord, String> {
    let mut guard = history
        .lock()
        .map_err(|_| "the history lock is poisoned".to_string())?;
    let history = guard
        .as_mut()
        .ok_or_else(|| "the history database is not open".to_string())?;
    // A filtered run says nothing about the scenarios its filter left out: they are not
    // recorded, so their latest result stays the one an earlier run gave (see
    // `History::latest_statuses`).
    let results = report
        .traceability
        .scenarios
        .iter()
        .filter(|s| {
            report.filter.is_none()
                || !matches!(s.verdict, ScenarioVerdict::NoTest | ScenarioVerdict::NotRun)
        })
        .map(|s| SubjectResult {
            subject: s.scenario_id.clone(),
            status: scenario_status(s.verdict),
            detail: (s.verdict == ScenarioVerdict::Failing)
                .then(|| {
                    s.tests
                        .iter()
                        .find(|t| t.outcome == Outcome::Failed)
                        .and_then(|t| t.message.as_deref())
                        .map(|m| m.lines().next().unwrap_or_default().to_string())
                })
                .flatten(),
        })
        .collect();
    let tests = cases
        .iter()
        .map(|c| TestRow {
            name: c.name.clone(),
            outcome: test_outcome(c.outcome),
            scenario_id: index.scenario_for(&c.name).id().map(str::to_string),
        })
        .collect();
    // Why a red run is red beyond its failing scenarios, for `project_status`: failing tests
    // that count against no approved scenario, and the run's problems — a few of each, one
    // line apiece, so a run of 27,000 tests stores a few hundred bytes of it.
    let approved: std::collections::HashSet<&str> = report
        .traceability
        .scenarios
        .iter()
        .map(|s| s.scenario_id.as_str())
        .collect();
    let unmapped_failures: Vec<&str> = cases
        .iter()
        .filter(|c| c.outcome == Outcome::Failed)
        .filter(|c| {
            index
                .scenario_for(&c.name)
                .id()
                .is_none_or(|id| !approved.contains(id))
        })
        .map(|c| c.name.as_str())
        .collect();
    let trouble = RunTrouble::new(&unmapped_failures, &report.problems);
    let mut summary = serde_json::json!({
        "tests": report.tests,
        "scenarios": report.traceability.summary,
        "exit": report.exit,
    });
    if let (Some(fields), Ok(serde_json::Value::Object(trouble))) =
        (summary.as_object_mut(), serde_json::to_value(&trouble))
    {
        fields.extend(trouble);
    }
    history
        .record(&NewRun {
            // The command's time, without parsing and tracing its results.
            duration_seconds: report.duration_seconds,
            filter: report.filter.clone(),
            results,
            tests,
            ..stamp.run(RunKind::Tests, &report.profile, report.ok, summary)
        })
        .map_err(|e| e.to_string())
}

/// A results file (or every file of a results directory) not written since the run started.
fn stale_results(path: &Path, started: SystemTime) -> Option<String> {
    let newest = if path.is_dir() {
        std::fs::read_dir(path)
            .ok()?
            .filter_map(|e| e.ok()?.metadata().ok()?.modified().ok())
            .max()
    } else {
        std::fs::metadata(path).ok()?.modified().ok()
    }?;
    // Allow for coarse file-system clocks.
    (newest + Duration::from_secs(2) < started).then(|| {
        format!(
            "results at {} were not written by this run (they are older than it); the results shown are stale",
            path.display()
        )
    })
}

fn tail(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.trim_end().to_string();
    }
    let mut start = text.len() - max;
    while !text.is_char_boundary(start) {
        start += 1;
    }
    format!("…{}", text[start..].trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(filter_arg: Option<&str>) -> TestProfile {
        serde_yaml::from_str(&format!(
            "command: pytest -v\nresults: {{format: pytest}}\n{}",
            filter_arg
                .map(|f| format!("filter_arg: \"{f}\"\n"))
                .unwrap_or_default()
        ))
        .unwrap()
    }

    #[test]
    fn the_filter_is_a_positional_parameter_never_shell_text() {
        let p = profile(Some("-k {filter}"));
        let hostile = "it's; rm -rf / $(touch x)";
        assert_eq!(
            command_with_filter("py", &p, Some(hostile)).unwrap(),
            (
                r#"pytest -v -k "${1}""#.to_string(),
                vec![hostile.to_string()]
            )
        );
        assert_eq!(
            command_with_filter("py", &p, None).unwrap(),
            ("pytest -v".to_string(), vec![])
        );
        assert!(matches!(
            command_with_filter("py", &profile(None), Some("x")),
            Err(TestRunError::NoFilterArg { .. })
        ));
    }

    #[test]
    fn filter_references_follow_the_quoting_around_them() {
        for (arg, expected) in [
            ("{filter}", r#""${1}""#),
            ("-k {filter}", r#"-k "${1}""#),
            (r#"-k "{filter}""#, r#"-k "${1}""#),
            ("-k '{filter}'", r#"-k ''"${1}"''"#),
            ("-run '^{filter}$'", r#"-run '^'"${1}"'$'"#),
            (r#"--x="a {filter} b""#, r#"--x="a ${1} b""#),
            ("-k", r#"-k "${1}""#),
            (r#"-k \"{filter}\""#, r#"-k \""${1}"\""#),
            (r#"-k "it's {filter}""#, r#"-k "it's ${1}""#),
        ] {
            assert_eq!(filter_reference(arg).unwrap(), expected, "{arg}");
        }
        for unclosed in [r#"-k "{filter}"#, "-k '{filter}", r#"-k "{filter}\""#] {
            assert!(
                filter_reference(unclosed)
                    .unwrap_err()
                    .contains("never closed"),
                "{unclosed}"
            );
        }
    }

    #[test]
    fn filters_that_are_not_names_are_refused_with_the_reason() {
        let p = profile(Some("-k {filter}"));
        let reason = |filter: &str| {
            command_with_filter("py", &p, Some(filter))
                .unwrap_err()
                .to_string()
        };
        assert!(
            reason("a\0b").contains("U+0000 at byte 1"),
            "{}",
            reason("a\0b")
        );
        assert!(reason("a\nb").contains("U+000A"));
        assert!(reason("a\u{1b}[2J").contains("U+001B"));
        assert!(reason("--config=x").contains("starts with `-`"));
        assert!(reason(&"x".repeat(MAX_FILTER_BYTES + 1)).contains("bytes long"));
        assert!(command_with_filter("py", &p, Some(&"x".repeat(MAX_FILTER_BYTES))).is_ok());
    }

    /// A crashed binary's path comes from the run's output: only a file in the project is run.
    #[test]
    fn only_executables_inside_the_project_are_listed() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("rust/target")).unwrap();
        std::fs::write(root.join("rust/target/t-1"), "").unwrap();
        let workdir = root.join("rust");
        let abs = root.join("rust/target/t-1");
        assert!(inside_project(root, &workdir, "target/t-1").is_some());
        assert!(inside_project(root, &workdir, abs.to_str().unwrap()).is_some());
        assert!(inside_project(root, &workdir, "/bin/sh").is_none());
        assert!(inside_project(root, &workdir, "../../../bin/sh").is_none());
        assert!(inside_project(root, &workdir, "target").is_none());
        std::os::unix::fs::symlink("/bin/sh", root.join("rust/target/sh")).unwrap();
        assert!(inside_project(root, &workdir, "target/sh").is_none());
    }

    #[test]
    fn paths_stay_inside_the_project() {
        let dir = tempfile::tempdir().unwrap();
        assert!(confine(dir.path(), "sub/dir").is_some());
        assert!(confine(dir.path(), "../elsewhere").is_none());
        assert!(confine(dir.path(), "/etc").is_none());
        std::os::unix::fs::symlink("/tmp", dir.path().join("out")).unwrap();
        assert!(confine(dir.path(), "out").is_none());
    }
}

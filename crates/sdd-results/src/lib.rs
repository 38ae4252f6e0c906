//! What test runners report, read into one shape, and which scenario each test speaks for.
//!
//! `sdd-results` turns the output of cargo test, nextest, pytest, go test, jest/vitest, cucumber's
//! JSON report and any JUnit XML into a list of test cases with an outcome, the assertion message of each failure
//! and a short excerpt of its output (one module per format), and `trace` maps those tests to
//! the spec's scenarios through the test-name convention (or, for cucumber, the scenario's
//! name). It is pure: no tokio, no processes,
//! no files other than the results file it is asked to read. Every parser is total: input it
//! does not understand becomes a `problem` in the result, never a panic, and a results file
//! that holds no test at all says so.

mod cucumber_json;
mod excerpt;
mod go_json;
mod jest_json;
mod junit;
mod libtest;
mod nextest;
mod pytest;
pub mod trace;

use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use excerpt::relevant_excerpt;
pub use sdd_spec::project::ResultsFormat;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Passed,
    Failed,
    Skipped,
}

/// One test as its runner reported it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestCase {
    /// The full name the runner printed (`tests::sdd_x`, `test_x.py::test_y`, `pkg/TestY`).
    pub name: String,
    pub outcome: Outcome,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<f64>,
    /// For a failure, the assertion message; for a skip, the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// A short, relevant part of the test's output (failures only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub excerpt: Option<String>,
}

impl TestCase {
    pub fn new(name: impl Into<String>, outcome: Outcome) -> TestCase {
        TestCase {
            name: name.into(),
            outcome,
            duration_seconds: None,
            message: None,
            excerpt: None,
        }
    }
}

/// Everything read from one run's results.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ParsedResults {
    pub cases: Vec<TestCase>,
    /// What could not be read, in words (malformed lines or files, no tests found).
    pub problems: Vec<String>,
    /// Test name → position of its latest entry in `cases`.
    #[serde(skip)]
    #[schemars(skip)]
    by_name: std::collections::HashMap<String, usize>,
}

impl ParsedResults {
    /// Keep one entry per test name: a later report of the same test (a retry, a final
    /// summary line) replaces the earlier one but keeps details the later one lacks.
    pub(crate) fn push(&mut self, case: TestCase) {
        if let Some(existing) = self
            .by_name
            .get(&case.name)
            .and_then(|at| self.cases.get_mut(*at))
        {
            let TestCase {
                outcome,
                duration_seconds,
                message,
                excerpt,
                ..
            } = case;
            existing.outcome = outcome;
            existing.duration_seconds = duration_seconds.or(existing.duration_seconds);
            existing.message = message.or(existing.message.take());
            existing.excerpt = excerpt.or(existing.excerpt.take());
        } else {
            self.push_repeated(case);
        }
    }

    /// Append even if a test of that name was seen (two binaries with the same test name).
    pub(crate) fn push_repeated(&mut self, case: TestCase) {
        self.by_name.insert(case.name.clone(), self.cases.len());
        self.cases.push(case);
    }

    /// The latest entry for a test name.
    pub(crate) fn latest_mut(&mut self, name: &str) -> Option<&mut TestCase> {
        let at = *self.by_name.get(name)?;
        self.cases.get_mut(at)
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.cases.iter().filter(|c| c.outcome == outcome).count()
    }
}

/// Parse a runner's text output (stdout, with stderr appended for runners that report there).
pub fn parse_output(format: ResultsFormat, text: &str) -> ParsedResults {
    let mut parsed = match format {
        ResultsFormat::Junit => junit::parse(text),
        ResultsFormat::Libtest => libtest::parse(text),
        ResultsFormat::Nextest => nextest::parse(text),
        ResultsFormat::Pytest => pytest::parse(text),
        ResultsFormat::GoJson => go_json::parse(text),
        ResultsFormat::JestJson => jest_json::parse(text),
        ResultsFormat::CucumberJson => cucumber_json::parse(text),
    };
    for case in &mut parsed.cases {
        if let Some(message) = case.message.as_mut() {
            bound_message(message);
        }
    }
    if parsed.cases.is_empty() && parsed.problems.is_empty() {
        parsed.problems.push(format!(
            "no test results found in the {} output{}",
            format_name(format),
            hint(format)
        ));
    }
    parsed
}

/// Messages are for reading at a glance: at most 8 lines and 800 bytes (the excerpt has more).
fn bound_message(message: &mut String) {
    const LINES: usize = 8;
    const BYTES: usize = 800;
    let trimmed = message.trim();
    let mut out: String = trimmed.lines().take(LINES).collect::<Vec<_>>().join("\n");
    if out.len() > BYTES {
        let mut cut = BYTES;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    if out.len() < trimmed.len() {
        out.push('…');
    }
    *message = out;
}

/// Parse a results file, or every `*.xml` file of a directory for JUnit.
pub fn parse_path(format: ResultsFormat, path: &Path) -> ParsedResults {
    let mut files = Vec::new();
    if path.is_dir() {
        match std::fs::read_dir(path) {
            Ok(entries) => {
                files.extend(
                    entries
                        .filter_map(|e| e.ok().map(|e| e.path()))
                        .filter(|p| p.extension().is_some_and(|x| x == "xml" || x == "json")),
                );
                files.sort();
            }
            Err(e) => {
                return problem(format!(
                    "cannot read results directory {}: {e}",
                    path.display()
                ))
            }
        }
        if files.is_empty() {
            return problem(format!(
                "results directory {} holds no result files",
                path.display()
            ));
        }
    } else {
        files.push(path.to_path_buf());
    }
    let mut all = ParsedResults::default();
    for file in files {
        match std::fs::read(&file) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let parsed = parse_output(format, &text);
                for case in parsed.cases {
                    all.push(case);
                }
                all.problems.extend(
                    parsed
                        .problems
                        .into_iter()
                        .map(|p| format!("{}: {p}", file.display())),
                );
            }
            Err(e) => all.problems.push(format!(
                "results file {} was not written or cannot be read ({e}); did the command run the tests?",
                file.display()
            )),
        }
    }
    all
}

fn problem(message: String) -> ParsedResults {
    ParsedResults {
        problems: vec![message],
        ..ParsedResults::default()
    }
}

fn format_name(format: ResultsFormat) -> &'static str {
    match format {
        ResultsFormat::Junit => "JUnit XML",
        ResultsFormat::Libtest => "cargo test (libtest)",
        ResultsFormat::Nextest => "cargo nextest",
        ResultsFormat::Pytest => "pytest",
        ResultsFormat::GoJson => "go test -json",
        ResultsFormat::JestJson => "jest/vitest JSON",
        ResultsFormat::CucumberJson => "cucumber JSON",
    }
}

fn hint(format: ResultsFormat) -> &'static str {
    match format {
        ResultsFormat::Pytest => " (run pytest with `-v -rA` so every test is listed by name)",
        ResultsFormat::Nextest => {
            " (nextest reports on stderr; pass `--status-level skip` to list skipped tests)"
        }
        ResultsFormat::JestJson => " (run jest or vitest with `--json` / `--reporter=json`)",
        ResultsFormat::GoJson => " (run `go test -json`)",
        ResultsFormat::CucumberJson => {
            " (run cucumber with its JSON formatter: `--format json:PATH` in cucumber-js, the `json:PATH` plugin in Cucumber-JVM, `writer::Json` in cucumber-rs)"
        }
        _ => "",
    }
}

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
    /// The runner was to run it but never reported a result: its test binary crashed first.
    NotRun,
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
    /// The tests read, counted against the runner's own summary of the run.
    pub reconciliation: Reconciliation,
    /// Test binaries that died before reporting all their tests (libtest). Not among
    /// `problems`: a caller that can list a binary's tests names the unreported ones first
    /// ([`CrashedBinary::describe`] then says so).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub crashed: Vec<CrashedBinary>,
    /// The format leaves skipped and ignored tests out (nextest's JUnit), so a scenario with
    /// no test in it may have a skipped one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub skips_unlisted: bool,
    /// Tests the runner says it left out (pytest's `deselected`, libtest's `filtered out`):
    /// a scenario with no test in the run may have one among them.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub filtered_out: usize,
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

    /// Whether a test of that name was read.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// The latest entry for a test name.
    pub(crate) fn latest_mut(&mut self, name: &str) -> Option<&mut TestCase> {
        let at = *self.by_name.get(name)?;
        self.cases.get_mut(at)
    }

    pub fn count(&self, outcome: Outcome) -> usize {
        self.cases.iter().filter(|c| c.outcome == outcome).count()
    }

    /// Every test the runner ran is among `cases`, with the outcome it reported: the summary
    /// agrees (or the format offers none), and every crashed binary's unreported tests are
    /// named. Only then can a scenario with no failing test be called passing, or one with no
    /// test at all be told it has none.
    pub fn is_complete(&self) -> bool {
        // A problem is something not read (a file that did not collect, a report that could
        // not be read, a malformed line): the tests in it are unknown.
        self.problems.is_empty()
            && self.reconciliation.status.vouches()
            && self.crashed.iter().all(|c| c.unreported_named)
    }

    /// Fold in another results file's reading (a JUnit directory): statuses combine to the
    /// worst, counts and differences add up.
    fn absorb(&mut self, other: ParsedResults, file: &Path) {
        for case in other.cases {
            self.push(case);
        }
        self.problems.extend(
            other
                .problems
                .into_iter()
                .map(|p| format!("{}: {p}", file.display())),
        );
        self.reconciliation.absorb(other.reconciliation, file);
        self.crashed.extend(other.crashed);
        self.skips_unlisted |= other.skips_unlisted;
        self.filtered_out += other.filtered_out;
    }
}

/// How the tests read compare with the runner's own account of the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReconcileStatus {
    /// Every count of the runner's summary equals the count of the tests read.
    Agrees,
    /// At least one count differs: tests were lost (or invented) on the way.
    Differs,
    /// The format always carries a summary, and this output has none: the run did not
    /// finish, or its output was cut.
    SummaryMissing,
    /// The format has no summary to compare with (cucumber JSON, JUnit without counts).
    #[default]
    NotOffered,
}

impl ReconcileStatus {
    /// Whether the tests read can be taken as the whole run.
    pub fn vouches(self) -> bool {
        matches!(self, ReconcileStatus::Agrees | ReconcileStatus::NotOffered)
    }

    fn rank(self) -> u8 {
        match self {
            ReconcileStatus::NotOffered => 0,
            ReconcileStatus::Agrees => 1,
            ReconcileStatus::SummaryMissing => 2,
            ReconcileStatus::Differs => 3,
        }
    }
}

/// The runner's summary beside the same counts taken from the tests read, each in the
/// runner's own words (`failed`, `xfailed`, `ignored`, …).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Reconciliation {
    pub status: ReconcileStatus,
    /// Where the runner's counts come from (`pytest's final line`, `libtest's test result
    /// lines (3 binaries)`, …).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The runner's counts.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub runner: Vec<Count>,
    /// The same counts from the tests read.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parsed: Vec<Count>,
    /// Each difference in words.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub differences: Vec<String>,
    /// What to change so that the runner lists every test, when that is the likely cause.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub fix: String,
}

/// How many tests the runner (or the reading) puts under one of the runner's words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Count {
    pub what: String,
    pub n: usize,
}

impl Reconciliation {
    /// Compare the runner's counts with the counts read, word by word; `hint` says how to have
    /// the runner list every test, for when they differ.
    pub(crate) fn compare(
        source: impl Into<String>,
        runner: &[(&str, usize)],
        parsed: &[(&str, usize)],
        hint: &str,
    ) -> Reconciliation {
        let source = source.into();
        let mut words: Vec<&str> = runner.iter().chain(parsed).map(|(w, _)| *w).collect();
        dedup_keep_order(&mut words);
        let get = |list: &[(&str, usize)], word: &str| {
            list.iter()
                .filter(|(w, _)| *w == word)
                .map(|(_, n)| n)
                .sum::<usize>()
        };
        let mut out = Reconciliation {
            status: ReconcileStatus::Agrees,
            source: source.clone(),
            ..Reconciliation::default()
        };
        for word in words {
            let (said, read) = (get(runner, word), get(parsed, word));
            out.runner.push(Count {
                what: word.into(),
                n: said,
            });
            out.parsed.push(Count {
                what: word.into(),
                n: read,
            });
            if said != read {
                out.status = ReconcileStatus::Differs;
                out.differences.push(format!(
                    "{source} says {said} {word}, but {read} {} read",
                    if read == 1 { "was" } else { "were" },
                ));
            }
        }
        if !out.differences.is_empty() {
            out.fix = hint.to_string();
        }
        out
    }

    /// The summary a format always writes is not in this output.
    pub(crate) fn missing(source: &str, why: &str) -> Reconciliation {
        Reconciliation {
            status: ReconcileStatus::SummaryMissing,
            source: source.into(),
            differences: vec![format!("{source} is missing: {why}")],
            ..Reconciliation::default()
        }
    }

    /// Add another file's reconciliation: the worse status, counts summed word by word.
    fn absorb(&mut self, other: Reconciliation, file: &Path) {
        if other.status.rank() > self.status.rank() {
            self.status = other.status;
        }
        if self.source.is_empty() {
            self.source = other.source.clone();
        }
        if self.fix.is_empty() {
            self.fix = other.fix.clone();
        }
        for (mine, theirs) in [
            (&mut self.runner, other.runner),
            (&mut self.parsed, other.parsed),
        ] {
            for count in theirs {
                match mine.iter_mut().find(|c| c.what == count.what) {
                    Some(c) => c.n += count.n,
                    None => mine.push(count),
                }
            }
        }
        self.differences.extend(
            other
                .differences
                .into_iter()
                .map(|d| format!("{}: {d}", file.display())),
        );
    }
}

pub(crate) fn is_zero(n: &usize) -> bool {
    *n == 0
}

fn dedup_keep_order(words: &mut Vec<&str>) {
    let mut seen = std::collections::HashSet::new();
    words.retain(|w| seen.insert(*w));
}

impl CrashedBinary {
    /// The crash in one sentence, for a run's problems.
    pub fn describe(&self) -> String {
        let binary = self.binary.as_deref().unwrap_or("a test binary");
        let during = self
            .crashed_test
            .as_deref()
            .map(|t| format!(" while running `{t}`"))
            .unwrap_or_default();
        let unknown = ", and which they are is unknown, so no scenario of this run is passing or without a test";
        let Some(tests) = self.tests else {
            return format!(
                "{binary} crashed{during} ({}) after reporting {} tests; the tests it had not run yet never reported a result{unknown}",
                self.reason, self.reported
            );
        };
        let unreported =
            tests.saturating_sub(self.reported + usize::from(self.crashed_test.is_some()));
        format!(
            "{binary} crashed{during} ({}) after reporting {} of its {tests} tests; {unreported} never reported a result{}",
            self.reason,
            self.reported,
            if self.unreported_named {
                " and are listed as `not_run`"
            } else {
                unknown
            }
        )
    }
}

/// A test binary that died before reporting all its tests (a stack overflow, an abort, a
/// `process::exit` in a test).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct CrashedBinary {
    /// The binary as cargo names it (`tests/crash.rs`, `unittests src/lib.rs`), when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binary: Option<String>,
    /// Its executable, as cargo printed it, when known: listing its tests names those it
    /// never reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub executable: Option<String>,
    /// The test running when it died, when the runner said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crashed_test: Option<String>,
    /// What killed it, in the runner's words.
    pub reason: String,
    /// `running N tests`: how many it was to run, when the runner said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tests: Option<usize>,
    /// How many of them it reported before dying (the crashing test not included).
    pub reported: usize,
    /// Whether its unreported tests are in `cases` as `not_run` by name.
    #[serde(default)]
    pub unreported_named: bool,
    /// The names it reported, the crashing test's included.
    #[serde(skip)]
    #[schemars(skip)]
    pub reported_tests: Vec<String>,
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
    let reconciliation = &parsed.reconciliation;
    let nothing_read = parsed.cases.is_empty() && parsed.problems.is_empty();
    if nothing_read && reconciliation.status == ReconcileStatus::SummaryMissing {
        // Said below, better: no results at all.
    } else if !reconciliation.status.vouches() {
        parsed.problems.push(format!(
            "the tests read do not reconcile with {}: {}; scenarios whose tests may be among those not read are `unverified` or `not_run`, never passing{}",
            reconciliation.source,
            reconciliation.differences.join("; "),
            if reconciliation.fix.is_empty() {
                String::new()
            } else {
                format!(" ({})", reconciliation.fix)
            }
        ));
    }

    if nothing_read {
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
                all.absorb(parse_output(format, &text), &file);
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
        ResultsFormat::Pytest => " (run pytest with `-v -ra` so every test is listed by name)",
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

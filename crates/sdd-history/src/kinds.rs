//! The words the history stores — run kinds, subject statuses, test outcomes — as enums, so a
//! caller cannot record a misspelt one and a reader learns of a word it does not know instead of
//! guessing.
//!
//! Each enum is stored as its snake_case name, the same string it has in JSON.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// What made a run, and so what its subjects are.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// A test profile ran; subjects are scenarios.
    Tests,
    /// Executable examples ran against the service; subjects are scenarios.
    Checks,
    /// Constraint verification; subjects are constraints.
    Constraints,
    /// Reserved for the monitoring server: constraints measured on production metrics;
    /// subjects are constraints.
    MetricObservations,
    /// Reserved for the monitoring server: scenarios' examples run against a deployed service
    /// on a schedule; subjects are scenarios.
    SyntheticChecks,
    /// Reserved for the debugger server: incidents and the scenarios or constraints they
    /// touch; subjects are scenarios or constraints.
    Incidents,
}

impl RunKind {
    pub const ALL: [RunKind; 6] = [
        RunKind::Tests,
        RunKind::Checks,
        RunKind::Constraints,
        RunKind::MetricObservations,
        RunKind::SyntheticChecks,
        RunKind::Incidents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Tests => "tests",
            RunKind::Checks => "checks",
            RunKind::Constraints => "constraints",
            RunKind::MetricObservations => "metric_observations",
            RunKind::SyntheticChecks => "synthetic_checks",
            RunKind::Incidents => "incidents",
        }
    }

    /// The kind stored as `text`; `None` for a word this SDD does not know.
    pub fn parse(text: &str) -> Option<RunKind> {
        RunKind::ALL.into_iter().find(|k| k.as_str() == text)
    }
}

/// The status of one scenario or constraint in one run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SubjectStatus {
    /// Every test (example, check) of it that ran passed.
    Passing,
    /// At least one of its tests (examples, checks) failed.
    Failing,
    /// Its tests exist but were all skipped.
    Skipped,
    /// No test carries its ID.
    NoTest,
    /// A filtered run did not select any of its tests; nothing is known from this run.
    NotRun,
    /// Not checked by this run (a constraint no check covers), with the reason in `detail`.
    Unchecked,
    /// Checked, but the measurement cannot decide (the load generator was the limit, too many
    /// refused requests).
    Inconclusive,
    /// Its tests ran, but the run's results do not reconcile with the runner's own summary (a
    /// crashed test binary, tests the output does not list): what was read cannot vouch for it.
    Unverified,
}

impl SubjectStatus {
    pub const ALL: [SubjectStatus; 8] = [
        SubjectStatus::Passing,
        SubjectStatus::Failing,
        SubjectStatus::Skipped,
        SubjectStatus::NoTest,
        SubjectStatus::NotRun,
        SubjectStatus::Unchecked,
        SubjectStatus::Inconclusive,
        SubjectStatus::Unverified,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubjectStatus::Passing => "passing",
            SubjectStatus::Failing => "failing",
            SubjectStatus::Skipped => "skipped",
            SubjectStatus::NoTest => "no_test",
            SubjectStatus::NotRun => "not_run",
            SubjectStatus::Unchecked => "unchecked",
            SubjectStatus::Inconclusive => "inconclusive",
            SubjectStatus::Unverified => "unverified",
        }
    }

    /// The status stored as `text`; `None` for a word this SDD does not know.
    pub fn parse(text: &str) -> Option<SubjectStatus> {
        SubjectStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// One test's outcome as its runner reported it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum TestOutcome {
    Passed,
    Failed,
    Skipped,
}

impl TestOutcome {
    pub const ALL: [TestOutcome; 3] = [
        TestOutcome::Passed,
        TestOutcome::Failed,
        TestOutcome::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TestOutcome::Passed => "passed",
            TestOutcome::Failed => "failed",
            TestOutcome::Skipped => "skipped",
        }
    }

    /// The outcome stored as `text`; `None` for a word this SDD does not know.
    pub fn parse(text: &str) -> Option<TestOutcome> {
        TestOutcome::ALL.into_iter().find(|o| o.as_str() == text)
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )*};
}
display_as_str!(RunKind, SubjectStatus, TestOutcome);

#[cfg(test)]
mod tests {
    use super::*;

    /// The stored word, the JSON string and `parse` agree for every value: the file and the
    /// tools' output cannot drift apart.
    #[test]
    fn stored_words_are_the_json_strings_and_parse_back() {
        fn check<T: Serialize + Copy + PartialEq + fmt::Debug>(
            all: &[T],
            as_str: fn(T) -> &'static str,
            parse: fn(&str) -> Option<T>,
        ) {
            for &value in all {
                let json = serde_json::to_value(value).unwrap();
                assert_eq!(json, serde_json::json!(as_str(value)));
                assert_eq!(parse(as_str(value)), Some(value));
            }
        }
        check(&RunKind::ALL, RunKind::as_str, RunKind::parse);
        check(
            &SubjectStatus::ALL,
            SubjectStatus::as_str,
            SubjectStatus::parse,
        );
        check(&TestOutcome::ALL, TestOutcome::as_str, TestOutcome::parse);
    }

    #[test]
    fn unknown_words_do_not_parse() {
        // The old reader took any unknown kind for a test run.
        assert_eq!(RunKind::parse("load_tests"), None);
        assert_eq!(RunKind::parse("Tests"), None);
        assert_eq!(RunKind::parse(""), None);
        assert_eq!(SubjectStatus::parse("passed"), None);
        assert_eq!(SubjectStatus::parse("flaky"), None);
        assert_eq!(TestOutcome::parse("passing"), None);
        assert_eq!(TestOutcome::parse("error"), None);
    }

    #[test]
    fn the_known_words() {
        let words = |v: Vec<&str>| v.join(" ");
        assert_eq!(
            words(RunKind::ALL.iter().map(|k| k.as_str()).collect()),
            "tests checks constraints metric_observations synthetic_checks incidents"
        );
        assert_eq!(
            words(SubjectStatus::ALL.iter().map(|s| s.as_str()).collect()),
            "passing failing skipped no_test not_run unchecked inconclusive unverified"
        );
        assert_eq!(SubjectStatus::NoTest.to_string(), "no_test");
    }
}

//! Runs as the history records them: the stamp every run starts with (when, on which work
//! tree), and the history's words for the verdicts of this crate and of `sdd-results`.

use std::path::Path;
use std::time::Instant;

use sdd_exec::git::{tree_state, TreeState};
use sdd_history::{NewRun, RunKind, SubjectStatus, TestOutcome};
use sdd_results::trace::ScenarioVerdict;
use sdd_results::Outcome;

use crate::constraints::Verdict;
use crate::examples::CheckVerdict;

/// What the history keeps, as `history` of sdd.yaml says (the history crate knows no sdd.yaml).
pub fn retention(config: &sdd_spec::project::HistoryConfig) -> sdd_history::Retention {
    sdd_history::Retention {
        test_rows_runs: config.keep_test_rows,
        runs: config.keep_runs,
    }
}

/// How a problem saying a run could not be recorded begins (the error follows): `sdd verify`
/// finds it by this prefix.
pub const NOT_RECORDED: &str = "the run was not recorded: ";

/// When a run started and on which work tree: taken once at its start by each of the three
/// recorders (test runs, example checks, constraint verifications), so their runs are stamped
/// alike.
#[derive(Debug, Clone)]
pub struct RunStamp {
    /// RFC 3339, UTC, to the second.
    pub started_at: String,
    pub tree: TreeState,
    clock: Instant,
}

impl RunStamp {
    /// Stamp a run starting now in the project at `root` (reads git; never fails).
    pub async fn now(root: &Path) -> RunStamp {
        let tree = tree_state(root).await;
        RunStamp {
            started_at: sdd_spec::review::now_rfc3339(),
            tree,
            clock: Instant::now(),
        }
    }

    /// Seconds since the stamp was taken.
    pub fn elapsed_seconds(&self) -> f64 {
        self.clock.elapsed().as_secs_f64()
    }

    /// The run to record, lasting until now, with no subjects, tests or filter yet: set those
    /// with struct update syntax (`NewRun { results, ..stamp.run(…) }`).
    pub fn run(&self, kind: RunKind, label: &str, ok: bool, summary: serde_json::Value) -> NewRun {
        NewRun {
            kind,
            label: label.to_string(),
            started_at: self.started_at.clone(),
            duration_seconds: self.elapsed_seconds(),
            commit: self.tree.commit.clone(),
            dirty: self.tree.dirty,
            filter: None,
            ok,
            summary,
            results: Vec::new(),
            tests: Vec::new(),
        }
    }
}

pub fn scenario_status(verdict: ScenarioVerdict) -> SubjectStatus {
    match verdict {
        ScenarioVerdict::Passing => SubjectStatus::Passing,
        ScenarioVerdict::Failing => SubjectStatus::Failing,
        ScenarioVerdict::Skipped => SubjectStatus::Skipped,
        ScenarioVerdict::NoTest => SubjectStatus::NoTest,
        ScenarioVerdict::NotRun => SubjectStatus::NotRun,
        ScenarioVerdict::Unverified => SubjectStatus::Unverified,
    }
}

pub fn test_outcome(outcome: Outcome) -> TestOutcome {
    match outcome {
        Outcome::Passed => TestOutcome::Passed,
        Outcome::Failed => TestOutcome::Failed,
        Outcome::Skipped => TestOutcome::Skipped,
        Outcome::NotRun => TestOutcome::NotRun,
    }
}

impl From<CheckVerdict> for SubjectStatus {
    fn from(verdict: CheckVerdict) -> SubjectStatus {
        match verdict {
            CheckVerdict::Passing => SubjectStatus::Passing,
            CheckVerdict::Failing => SubjectStatus::Failing,
        }
    }
}

pub fn constraint_status(verdict: Verdict) -> SubjectStatus {
    match verdict {
        Verdict::Passing => SubjectStatus::Passing,
        Verdict::Failing => SubjectStatus::Failing,
        Verdict::Inconclusive => SubjectStatus::Inconclusive,
        Verdict::Unchecked => SubjectStatus::Unchecked,
    }
}

#[cfg(test)]
mod tests {

    /// sdd.yaml's defaults are the history's own: a project without a `history` section keeps
    /// what a history opened without one does.
    #[test]
    fn the_default_retention_is_the_same_on_both_sides() {
        assert_eq!(
            super::retention(&sdd_spec::project::HistoryConfig::default()),
            sdd_history::Retention::DEFAULT
        );
    }

    use super::*;

    #[tokio::test]
    async fn a_stamp_carries_its_start_and_tree_into_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let stamp = RunStamp::now(dir.path()).await;
        // Not a git repository: no commit and no dirty flag, rather than a guess.
        assert_eq!(stamp.tree.commit, None);
        assert_eq!(stamp.tree.dirty, None);
        let run = stamp.run(
            RunKind::Checks,
            "examples",
            true,
            serde_json::json!({"n": 1}),
        );
        assert_eq!(run.kind, RunKind::Checks);
        assert_eq!(run.label, "examples");
        assert_eq!(run.started_at, stamp.started_at);
        assert!(run.duration_seconds >= 0.0 && run.duration_seconds <= stamp.elapsed_seconds());
        assert!(run.ok && run.results.is_empty() && run.tests.is_empty() && run.filter.is_none());
    }

    /// Each verdict is stored as the word it has in the tools' JSON: the history's status
    /// for a scenario is the verdict the run reported.
    #[test]
    fn verdicts_keep_their_words_in_the_history() {
        fn same<V: serde::Serialize, S: serde::Serialize>(v: V, s: S) {
            assert_eq!(
                serde_json::to_value(v).unwrap(),
                serde_json::to_value(s).unwrap()
            );
        }
        for v in [
            ScenarioVerdict::Passing,
            ScenarioVerdict::Failing,
            ScenarioVerdict::Skipped,
            ScenarioVerdict::NoTest,
            ScenarioVerdict::NotRun,
            ScenarioVerdict::Unverified,
        ] {
            same(v, scenario_status(v));
        }
        for o in [
            Outcome::Passed,
            Outcome::Failed,
            Outcome::Skipped,
            Outcome::NotRun,
        ] {
            same(o, test_outcome(o));
        }
        for v in [CheckVerdict::Passing, CheckVerdict::Failing] {
            same(v, SubjectStatus::from(v));
        }
        for v in [
            Verdict::Passing,
            Verdict::Failing,
            Verdict::Inconclusive,
            Verdict::Unchecked,
        ] {
            same(v, constraint_status(v));
        }
    }
}

//! The run history, the record the implementation, monitoring and debugger servers share.
//!
//! `sdd-history` keeps every test run, executable-example check and constraint verification in
//! an embedded SQLite file, `.sdd/history.sqlite3` under the project root, with its time, git
//! commit and whether the tree was dirty, one status per scenario (or constraint) and the
//! outcome of every test; it answers listings, one subject's past and run-to-run comparisons.
//! It runs no processes and knows nothing of MCP or of how a run was made.
//!
//! Invariants: a run is written in one transaction (all of it or none); the file is never
//! deleted or rewritten by SDD — one it cannot read is reported, with what to do; a regression
//! is a subject that was `passing` in the previous run of the same kind and label and is
//! `failing` now, computed when the run is recorded and stored with it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the history lives, relative to the project root.
pub const HISTORY_FILE: &str = ".sdd/history.sqlite3";
const SCHEMA_VERSION: i64 = 1;

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot create {0}: {1}")]
    CreateDir(PathBuf, std::io::Error),
    #[error("the run history {path} cannot be used: {source}. Move the file away to start a new history; SDD never deletes it")]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the run history {0} was written by a newer SDD (schema {1}); upgrade SDD to read it")]
    NewerSchema(PathBuf, i64),
    #[error("no run with id {0} in the history")]
    UnknownRun(i64),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// A test profile ran; subjects are scenarios.
    Tests,
    /// Executable examples ran against the service; subjects are scenarios.
    Checks,
    /// Constraint verification; subjects are constraints.
    Constraints,
}

impl RunKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RunKind::Tests => "tests",
            RunKind::Checks => "checks",
            RunKind::Constraints => "constraints",
        }
    }

    fn parse(text: &str) -> RunKind {
        match text {
            "checks" => RunKind::Checks,
            "constraints" => RunKind::Constraints,
            _ => RunKind::Tests,
        }
    }
}

/// The status of one scenario or constraint in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SubjectResult {
    /// Scenario or constraint ID.
    pub subject: String,
    /// `passing`, `failing`, `skipped`, `no_test`, `not_run`, `unchecked`.
    pub status: String,
    /// A one-line reason (the failure message), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One test's outcome in a run, kept for test-level comparisons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestRow {
    pub name: String,
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario_id: Option<String>,
}

/// A run to record.
#[derive(Debug, Clone)]
pub struct NewRun {
    pub kind: RunKind,
    /// The test profile, or `examples`, or the constraint selection.
    pub label: String,
    pub started_at: String,
    pub duration_seconds: f64,
    /// The git commit of the work tree the run was made on, if it is a git repository.
    pub commit: Option<String>,
    /// Whether that work tree had uncommitted changes.
    pub dirty: Option<bool>,
    pub filter: Option<String>,
    /// The run as a whole succeeded (exit code 0, every check passed).
    pub ok: bool,
    /// Counts and anything else worth showing in a listing.
    pub summary: serde_json::Value,
    pub results: Vec<SubjectResult>,
    pub tests: Vec<TestRow>,
}

/// A recorded run, as listed by `history`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunRecord {
    pub id: i64,
    pub kind: RunKind,
    pub label: String,
    pub started_at: String,
    pub duration_seconds: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dirty: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<String>,
    pub ok: bool,
    pub summary: serde_json::Value,
    /// Subjects that passed in the previous run of this kind and label and fail in this one.
    pub regressions: Vec<String>,
    /// The run this one was compared with for regressions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_run: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    pub kind: Option<RunKind>,
    /// Only runs that have a result for this scenario or constraint.
    pub subject: Option<String>,
    pub limit: usize,
}

/// One subject whose status differs between two runs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StatusChange {
    pub subject: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DetailChange {
    pub subject: String,
    pub status: String,
    pub before: String,
    pub after: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunComparison {
    pub before: RunRecord,
    pub after: RunRecord,
    /// Failing now, and passing before.
    pub newly_failing: Vec<StatusChange>,
    /// Passing now, and not passing before.
    pub newly_passing: Vec<StatusChange>,
    /// Failing in both.
    pub still_failing: Vec<String>,
    /// Every other change (a test lost, a scenario new in the spec, skipped, …).
    pub other_changes: Vec<StatusChange>,
    /// Same status, different detail: how a measured value moved (`p95 = 41 ms …` → `p95 =
    /// 35 ms …`).
    pub detail_changes: Vec<DetailChange>,
    pub unchanged: usize,
    /// Tests that passed before and fail now, by name.
    pub newly_failing_tests: Vec<String>,
    pub newly_passing_tests: Vec<String>,
}

pub struct History {
    conn: Connection,
    path: PathBuf,
}

impl History {
    /// Open (creating if needed) the history of the project at `root`.
    pub fn open(root: &Path) -> Result<History, HistoryError> {
        let path = root.join(HISTORY_FILE);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| HistoryError::CreateDir(dir.into(), e))?;
        }
        Self::open_at(&path)
    }

    pub fn open_at(path: &Path) -> Result<History, HistoryError> {
        let db = |source| HistoryError::Database {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(db)?;
        // Another server or `sdd` may write at the same time.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db)?;
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(db)?;
        if version > SCHEMA_VERSION {
            return Err(HistoryError::NewerSchema(path.to_path_buf(), version));
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             CREATE TABLE IF NOT EXISTS runs (
                 id INTEGER PRIMARY KEY,
                 kind TEXT NOT NULL,
                 label TEXT NOT NULL,
                 started_at TEXT NOT NULL,
                 duration_seconds REAL NOT NULL,
                 git_commit TEXT,
                 git_dirty INTEGER,
                 filter TEXT,
                 ok INTEGER NOT NULL,
                 summary TEXT NOT NULL,
                 regressions TEXT NOT NULL,
                 previous_run INTEGER
             );
             CREATE TABLE IF NOT EXISTS results (
                 run_id INTEGER NOT NULL REFERENCES runs(id),
                 subject TEXT NOT NULL,
                 status TEXT NOT NULL,
                 detail TEXT,
                 PRIMARY KEY (run_id, subject)
             );
             CREATE INDEX IF NOT EXISTS results_by_subject ON results(subject, run_id);
             CREATE TABLE IF NOT EXISTS tests (
                 run_id INTEGER NOT NULL REFERENCES runs(id),
                 name TEXT NOT NULL,
                 outcome TEXT NOT NULL,
                 scenario_id TEXT
             );
             CREATE INDEX IF NOT EXISTS tests_by_run ON tests(run_id);
             PRAGMA user_version = 1;",
        )
        .map_err(db)?;
        Ok(History {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn db(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Database {
            path: self.path.clone(),
            source,
        }
    }

    /// Record a run; returns it as stored, with its regressions against the previous run of
    /// the same kind and label.
    pub fn record(&mut self, run: &NewRun) -> Result<RunRecord, HistoryError> {
        let previous = self
            .conn
            .query_row(
                "SELECT id FROM runs WHERE kind = ?1 AND label = ?2 ORDER BY id DESC LIMIT 1",
                params![run.kind.as_str(), run.label],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map_err(|e| self.db(e))?;
        let mut regressions = Vec::new();
        if let Some(previous) = previous {
            let before = self.results(previous)?;
            for result in &run.results {
                if result.status == "failing"
                    && before
                        .get(&result.subject)
                        .is_some_and(|r| r.status == "passing")
                {
                    regressions.push(result.subject.clone());
                }
            }
        }
        let tx = self
            .conn
            .transaction()
            .map_err(|e| HistoryError::Database {
                path: self.path.clone(),
                source: e,
            })?;
        let write = |tx: &rusqlite::Transaction| -> rusqlite::Result<i64> {
            tx.execute(
                "INSERT INTO runs (kind, label, started_at, duration_seconds, git_commit, git_dirty, filter, ok, summary, regressions, previous_run)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
                params![
                    run.kind.as_str(),
                    run.label,
                    run.started_at,
                    run.duration_seconds,
                    run.commit,
                    run.dirty,
                    run.filter,
                    run.ok,
                    run.summary.to_string(),
                    serde_json::to_string(&regressions).unwrap_or_else(|_| "[]".into()),
                    previous,
                ],
            )?;
            let id = tx.last_insert_rowid();
            let mut insert = tx.prepare(
                "INSERT OR REPLACE INTO results (run_id, subject, status, detail) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for r in &run.results {
                insert.execute(params![id, r.subject, r.status, r.detail])?;
            }
            let mut insert = tx.prepare(
                "INSERT INTO tests (run_id, name, outcome, scenario_id) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for t in &run.tests {
                insert.execute(params![id, t.name, t.outcome, t.scenario_id])?;
            }
            Ok(id)
        };
        let id = write(&tx).map_err(|e| HistoryError::Database {
            path: self.path.clone(),
            source: e,
        })?;
        tx.commit().map_err(|e| self.db(e))?;
        self.run(id)
    }

    pub fn run(&self, id: i64) -> Result<RunRecord, HistoryError> {
        self.conn
            .query_row(
                &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
                [id],
                run_from_row,
            )
            .optional()
            .map_err(|e| self.db(e))?
            .ok_or(HistoryError::UnknownRun(id))
    }

    /// The newest run, of a kind if given.
    pub fn latest(&self, kind: Option<RunKind>) -> Result<Option<RunRecord>, HistoryError> {
        Ok(self
            .runs(&HistoryQuery {
                kind,
                subject: None,
                limit: 1,
            })?
            .into_iter()
            .next())
    }

    /// Runs, newest first.
    pub fn runs(&self, query: &HistoryQuery) -> Result<Vec<RunRecord>, HistoryError> {
        let mut sql = format!("SELECT {RUN_COLUMNS} FROM runs WHERE 1 = 1");
        let mut args: Vec<String> = Vec::new();
        if let Some(kind) = query.kind {
            args.push(kind.as_str().into());
            sql.push_str(&format!(" AND kind = ?{}", args.len()));
        }
        if let Some(subject) = &query.subject {
            args.push(subject.clone());
            sql.push_str(&format!(
                " AND id IN (SELECT run_id FROM results WHERE subject = ?{})",
                args.len()
            ));
        }
        sql.push_str(&format!(" ORDER BY id DESC LIMIT {}", query.limit.max(1)));
        let mut statement = self.conn.prepare(&sql).map_err(|e| self.db(e))?;
        let rows = statement
            .query_map(rusqlite::params_from_iter(args.iter()), run_from_row)
            .map_err(|e| self.db(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.db(e))
    }

    /// Every subject's result in a run.
    pub fn results(&self, run_id: i64) -> Result<BTreeMap<String, SubjectResult>, HistoryError> {
        let mut statement = self
            .conn
            .prepare("SELECT subject, status, detail FROM results WHERE run_id = ?1")
            .map_err(|e| self.db(e))?;
        let rows = statement
            .query_map([run_id], |r| {
                Ok(SubjectResult {
                    subject: r.get(0)?,
                    status: r.get(1)?,
                    detail: r.get(2)?,
                })
            })
            .map_err(|e| self.db(e))?;
        let mut out = BTreeMap::new();
        for row in rows {
            let row = row.map_err(|e| self.db(e))?;
            out.insert(row.subject.clone(), row);
        }
        Ok(out)
    }

    /// One subject's result in a run, if it has one.
    pub fn result_of(
        &self,
        run_id: i64,
        subject: &str,
    ) -> Result<Option<SubjectResult>, HistoryError> {
        self.conn
            .query_row(
                "SELECT subject, status, detail FROM results WHERE run_id = ?1 AND subject = ?2",
                params![run_id, subject],
                |r| {
                    Ok(SubjectResult {
                        subject: r.get(0)?,
                        status: r.get(1)?,
                        detail: r.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.db(e))
    }

    /// Every test of a run with its outcome and scenario.
    pub fn test_rows(&self, run_id: i64) -> Result<Vec<TestRow>, HistoryError> {
        let mut statement = self
            .conn
            .prepare(
                "SELECT name, outcome, scenario_id FROM tests WHERE run_id = ?1 ORDER BY rowid",
            )
            .map_err(|e| self.db(e))?;
        let rows = statement
            .query_map([run_id], |r| {
                Ok(TestRow {
                    name: r.get(0)?,
                    outcome: r.get(1)?,
                    scenario_id: r.get(2)?,
                })
            })
            .map_err(|e| self.db(e))?;
        rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.db(e))
    }

    fn tests(&self, run_id: i64) -> Result<BTreeMap<String, String>, HistoryError> {
        let mut statement = self
            .conn
            .prepare("SELECT name, outcome FROM tests WHERE run_id = ?1")
            .map_err(|e| self.db(e))?;
        let rows = statement
            .query_map([run_id], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.db(e))?;
        rows.collect::<Result<BTreeMap<_, _>, _>>()
            .map_err(|e| self.db(e))
    }

    /// What changed from run `before` to run `after`.
    pub fn compare(&self, before: i64, after: i64) -> Result<RunComparison, HistoryError> {
        let before_run = self.run(before)?;
        let after_run = self.run(after)?;
        let a = self.results(before)?;
        let b = self.results(after)?;
        let subjects: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        let mut comparison = RunComparison {
            before: before_run,
            after: after_run,
            newly_failing: Vec::new(),
            newly_passing: Vec::new(),
            still_failing: Vec::new(),
            other_changes: Vec::new(),
            detail_changes: Vec::new(),
            unchanged: 0,
            newly_failing_tests: Vec::new(),
            newly_passing_tests: Vec::new(),
        };
        for subject in subjects {
            let old = a.get(subject);
            let new = b.get(subject);
            let old_status = old.map(|r| r.status.as_str());
            let new_status = new.map(|r| r.status.as_str());
            if old_status == new_status {
                let (before_detail, after_detail) = (
                    old.and_then(|r| r.detail.clone()),
                    new.and_then(|r| r.detail.clone()),
                );
                if let (Some(before), Some(after)) = (before_detail, after_detail) {
                    if before != after {
                        comparison.detail_changes.push(DetailChange {
                            subject: subject.clone(),
                            status: new_status.unwrap_or_default().to_string(),
                            before,
                            after,
                        });
                    }
                }
                if new_status == Some("failing") {
                    comparison.still_failing.push(subject.clone());
                } else {
                    comparison.unchanged += 1;
                }
                continue;
            }
            let change = StatusChange {
                subject: subject.clone(),
                before: old_status.map(str::to_string),
                after: new_status.map(str::to_string),
                detail: new.and_then(|r| r.detail.clone()),
            };
            match new_status {
                Some("failing") if old_status == Some("passing") => {
                    comparison.newly_failing.push(change)
                }
                Some("passing") => comparison.newly_passing.push(change),
                _ => comparison.other_changes.push(change),
            }
        }
        let ta = self.tests(before)?;
        let tb = self.tests(after)?;
        for (name, outcome) in &tb {
            match (ta.get(name).map(String::as_str), outcome.as_str()) {
                (Some("passed"), "failed") => comparison.newly_failing_tests.push(name.clone()),
                (Some("failed"), "passed") => comparison.newly_passing_tests.push(name.clone()),
                _ => {}
            }
        }
        Ok(comparison)
    }
}

const RUN_COLUMNS: &str = "id, kind, label, started_at, duration_seconds, git_commit, git_dirty, filter, ok, summary, regressions, previous_run";

fn run_from_row(r: &rusqlite::Row) -> rusqlite::Result<RunRecord> {
    let summary: String = r.get(9)?;
    let regressions: String = r.get(10)?;
    Ok(RunRecord {
        id: r.get(0)?,
        kind: RunKind::parse(&r.get::<_, String>(1)?),
        label: r.get(2)?,
        started_at: r.get(3)?,
        duration_seconds: r.get(4)?,
        commit: r.get(5)?,
        dirty: r.get(6)?,
        filter: r.get(7)?,
        ok: r.get(8)?,
        summary: serde_json::from_str(&summary).unwrap_or(serde_json::Value::Null),
        regressions: serde_json::from_str(&regressions).unwrap_or_default(),
        previous_run: r.get(11)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(statuses: &[(&str, &str)]) -> NewRun {
        NewRun {
            kind: RunKind::Tests,
            label: "unit".into(),
            started_at: "2026-11-22T10:00:00Z".into(),
            duration_seconds: 1.5,
            commit: Some("abc".into()),
            dirty: Some(true),
            filter: None,
            ok: statuses.iter().all(|(_, s)| *s != "failing"),
            summary: serde_json::json!({"passing": 1}),
            results: statuses
                .iter()
                .map(|(subject, status)| SubjectResult {
                    subject: subject.to_string(),
                    status: status.to_string(),
                    detail: (*status == "failing").then(|| "assert 1 == 2".into()),
                })
                .collect(),
            tests: statuses
                .iter()
                .map(|(subject, status)| TestRow {
                    name: format!("test_sdd_{subject}"),
                    outcome: if *status == "failing" {
                        "failed"
                    } else {
                        "passed"
                    }
                    .into(),
                    scenario_id: Some(subject.to_string()),
                })
                .collect(),
        }
    }

    #[test]
    fn regressions_and_comparison() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(dir.path()).unwrap();
        let first = history
            .record(&run(&[
                ("a", "passing"),
                ("b", "failing"),
                ("c", "passing"),
            ]))
            .unwrap();
        assert!(first.regressions.is_empty());
        assert_eq!(first.previous_run, None);
        let second = history
            .record(&run(&[
                ("a", "failing"),
                ("b", "passing"),
                ("c", "passing"),
                ("d", "no_test"),
            ]))
            .unwrap();
        assert_eq!(second.regressions, ["a"]);
        assert_eq!(second.previous_run, Some(first.id));
        assert_eq!(second.commit.as_deref(), Some("abc"));
        assert_eq!(second.dirty, Some(true));

        let cmp = history.compare(first.id, second.id).unwrap();
        let ids = |v: &[StatusChange]| v.iter().map(|c| c.subject.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&cmp.newly_failing), ["a"]);
        assert_eq!(
            cmp.newly_failing[0].detail.as_deref(),
            Some("assert 1 == 2")
        );
        assert_eq!(ids(&cmp.newly_passing), ["b"]);
        assert_eq!(ids(&cmp.other_changes), ["d"]);
        assert_eq!(cmp.unchanged, 1);
        assert_eq!(cmp.newly_failing_tests, ["test_sdd_a"]);

        // Listing: newest first, filters by subject and kind.
        let runs = history
            .runs(&HistoryQuery {
                kind: Some(RunKind::Tests),
                subject: Some("d".into()),
                limit: 10,
            })
            .unwrap();
        assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [second.id]);
        assert!(history
            .runs(&HistoryQuery {
                kind: Some(RunKind::Checks),
                subject: None,
                limit: 10
            })
            .unwrap()
            .is_empty());
        assert!(matches!(
            history.compare(1, 99),
            Err(HistoryError::UnknownRun(99))
        ));

        // Reopening keeps everything.
        drop(history);
        let history = History::open(dir.path()).unwrap();
        assert_eq!(history.latest(None).unwrap().unwrap().id, second.id);
    }

    #[test]
    fn a_corrupt_file_is_reported_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HISTORY_FILE);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "this is not a database, it is somebody's notes").unwrap();
        let err = History::open(dir.path())
            .err()
            .expect("corrupt file refused");
        assert!(err.to_string().contains("Move the file away"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&path).unwrap(),
            "this is not a database, it is somebody's notes"
        );
    }
}

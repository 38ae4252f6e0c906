//! The run history, the record the implementation, monitoring and debugger servers share.
//!
//! `sdd-history` keeps every test run, executable-example check and constraint verification —
//! and, reserved for the servers to come, metric observations, synthetic checks and incidents —
//! in an embedded SQLite file, `.sdd/history.sqlite3` under the project root, with its time, git
//! commit and whether the tree was dirty, one typed status per scenario (or constraint) and the
//! outcome of every test; it answers listings, one subject's past, run-to-run comparisons and
//! the latest status of every subject, and (`status`) combines those into where the approved
//! scenarios stand. It runs no processes and knows nothing of MCP or of how a run was made.
//!
//! Invariants: a run is written in one transaction (all of it or none); the file is never
//! deleted or rewritten by SDD — one it cannot read, or one a newer SDD wrote, is reported with
//! what to do and left byte for byte as it was; its schema only moves forward, one recorded
//! migration at a time (`schema`); a kind, status or outcome this SDD does not know is an
//! error naming the run, never read as something else; several processes may write at once
//! (WAL, a busy timeout, immediate transactions); a regression is a subject that was `passing`
//! in the previous run of the same kind and label and is `failing` now, computed when the run
//! is recorded and stored with it. Runs are never edited; old ones are removed only by the
//! retention (`retention`: per-test rows of the last few runs of each kind and label, runs and
//! their results of many more), which never removes the latest run of a kind and label, so
//! regressions come out the same with or without it.

pub mod incidents;
mod kinds;
pub mod migrations;
mod retention;
mod schema;
pub mod status;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use kinds::{RunKind, SubjectStatus, TestOutcome};
pub use retention::{PruneReport, Retention};
pub use schema::SCHEMA_VERSION;

/// Where the history lives, relative to the project root.
pub const HISTORY_FILE: &str = ".sdd/history.sqlite3";

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HistoryError {
    #[error("cannot create {0}: {1}")]
    CreateDir(PathBuf, std::io::Error),
    #[error("the run history {path} cannot be used: {source}. Move the file away to start a new history; SDD never deletes it")]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the run history {path} was written by a newer SDD (schema {found}; this SDD reads schema {SCHEMA_VERSION} and older); upgrade SDD to read it. The file was left as it was")]
    NewerSchema { path: PathBuf, found: i64 },
    #[error("the run history {path} could not be brought to schema {version}: {source}. The file was left at the schema it had; move it away to start a new history")]
    Migration {
        path: PathBuf,
        version: i64,
        source: rusqlite::Error,
    },
    #[error("no incident {0} in the run history; list_incidents shows the recorded ones")]
    UnknownIncident(i64),
    #[error("incident {incident} in the run history {path} cannot be read: {problem}")]
    UnreadableIncident {
        path: PathBuf,
        incident: i64,
        problem: String,
    },
    #[error("run {run} in the run history {path} is of kind `{kind}`, which this SDD does not know; upgrade SDD to read it")]
    UnknownKind {
        path: PathBuf,
        run: i64,
        kind: String,
    },
    #[error("run {run} in the run history {path} gives {subject} the status `{status}`, which this SDD does not know; upgrade SDD to read it")]
    UnknownStatus {
        path: PathBuf,
        run: i64,
        subject: String,
        status: String,
    },
    #[error("run {run} in the run history {path} gives test {test} the outcome `{outcome}`, which this SDD does not know; upgrade SDD to read it")]
    UnknownOutcome {
        path: PathBuf,
        run: i64,
        test: String,
        outcome: String,
    },
    #[error("the run history {path} is damaged: {problem}. SDD left it as it was; move it away to start a new history")]
    Damaged { path: PathBuf, problem: String },
    #[error("run {run} in the run history {path} cannot be read: {problem}")]
    UnreadableRun {
        path: PathBuf,
        run: i64,
        problem: String,
    },
    #[error("no run with id {0} in the history")]
    UnknownRun(i64),
}

/// The status of one scenario or constraint in one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SubjectResult {
    /// Scenario or constraint ID.
    pub subject: String,
    pub status: SubjectStatus,
    /// A one-line reason (the failure message), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// One test's outcome in a run, kept for test-level comparisons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TestRow {
    pub name: String,
    pub outcome: TestOutcome,
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
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
    pub before: Option<SubjectStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<SubjectStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DetailChange {
    pub subject: String,
    pub status: SubjectStatus,
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

/// The latest run of one kind and label, with its results — and, when that run was filtered
/// (some scenarios only), each other subject's result from the newest earlier run of the same
/// kind and label that had it, back to the last unfiltered run.
#[derive(Debug, Clone)]
pub struct LatestRun {
    pub run: RunRecord,
    pub results: BTreeMap<String, SubjectResult>,
    /// Subjects whose result in `results` comes from an earlier run, and that run's ID.
    pub carried: BTreeMap<String, i64>,
}

impl LatestRun {
    /// The run a subject's result comes from.
    pub fn run_of(&self, subject: &str) -> i64 {
        self.carried.get(subject).copied().unwrap_or(self.run.id)
    }
}

/// How many earlier runs a filtered run's missing subjects are looked up in.
const MAX_CARRIED_RUNS: usize = 200;

pub struct History {
    conn: Connection,
    path: PathBuf,
    /// Applied to a run's kind and label after it is recorded.
    retention: Retention,
}

/// What went wrong reading the file, before it is said which file.
enum Fault {
    Sql(rusqlite::Error),
    UnknownKind {
        run: i64,
        kind: String,
    },
    UnknownStatus {
        run: i64,
        subject: String,
        status: String,
    },
    UnknownOutcome {
        run: i64,
        test: String,
        outcome: String,
    },
    UnreadableRun {
        run: i64,
        problem: String,
    },
}

impl Fault {
    fn at(self, path: &Path) -> HistoryError {
        let path = path.to_path_buf();
        match self {
            Fault::Sql(source) => HistoryError::Database { path, source },
            Fault::UnknownKind { run, kind } => HistoryError::UnknownKind { path, run, kind },
            Fault::UnknownStatus {
                run,
                subject,
                status,
            } => HistoryError::UnknownStatus {
                path,
                run,
                subject,
                status,
            },
            Fault::UnknownOutcome { run, test, outcome } => HistoryError::UnknownOutcome {
                path,
                run,
                test,
                outcome,
            },
            Fault::UnreadableRun { run, problem } => {
                HistoryError::UnreadableRun { path, run, problem }
            }
        }
    }
}

impl From<rusqlite::Error> for Fault {
    fn from(e: rusqlite::Error) -> Fault {
        Fault::Sql(e)
    }
}

type Read<T> = Result<T, Fault>;

/// A row read by one of the `*_from_row` readers, its two layers of errors made one.
fn flat<T>(row: rusqlite::Result<Read<T>>) -> Read<T> {
    row?
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

    /// Open (creating if needed) the history at `path`, bringing its schema up to this SDD's.
    pub fn open_at(path: &Path) -> Result<History, HistoryError> {
        Self::open_at_version(path, SCHEMA_VERSION)
    }

    /// Open at `target` (at most [`SCHEMA_VERSION`]): the tests make files of older versions
    /// with it.
    fn open_at_version(path: &Path, target: i64) -> Result<History, HistoryError> {
        let conn =
            migrations::open(path, schema::MIGRATIONS, target, BUSY_TIMEOUT).map_err(|e| {
                let path = path.to_path_buf();
                match e {
                    migrations::OpenError::Sql(source) => HistoryError::Database { path, source },
                    migrations::OpenError::Newer { found } => {
                        HistoryError::NewerSchema { path, found }
                    }
                    migrations::OpenError::Damaged { problem } => {
                        HistoryError::Damaged { path, problem }
                    }
                    migrations::OpenError::Migration(failed) => HistoryError::Migration {
                        path,
                        version: failed.version,
                        source: failed.source,
                    },
                }
            })?;
        Ok(History {
            conn,
            path: path.to_path_buf(),
            retention: Retention::DEFAULT,
        })
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, HistoryError> {
        migrations::current_version(&self.conn).map_err(|e| self.db(e))
    }

    fn db(&self, source: rusqlite::Error) -> HistoryError {
        HistoryError::Database {
            path: self.path.clone(),
            source,
        }
    }

    fn fault(&self, fault: Fault) -> HistoryError {
        fault.at(&self.path)
    }

    /// What [`History::record`] keeps of each kind and label (`history.retention` of sdd.yaml;
    /// [`Retention::DEFAULT`] until set).
    pub fn set_retention(&mut self, retention: Retention) {
        self.retention = retention;
    }

    /// Record a run; returns it as stored, with its regressions against the previous run of
    /// the same kind and label. Then what the retention does not keep of that kind and label
    /// is removed, in a transaction of its own: a prune that fails (another writer held the
    /// file too long) is logged and tried again after the next run, never the run's failure.
    pub fn record(&mut self, run: &NewRun) -> Result<RunRecord, HistoryError> {
        let recorded = self.record_only(run)?;
        if let Err(e) = self.prune_label(run.kind, &run.label, self.retention) {
            tracing::warn!(
                "the run history was not pruned after run {}: {e}",
                recorded.id
            );
        }
        Ok(recorded)
    }

    fn record_only(&mut self, run: &NewRun) -> Result<RunRecord, HistoryError> {
        // Immediate: the previous run is looked up under the write lock, so two processes
        // recording runs of one kind and label each compare with the run before their own.
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| HistoryError::Database {
                path: self.path.clone(),
                source,
            })?;
        let id = insert_run(&tx, run).map_err(|f| f.at(&self.path))?;
        tx.commit().map_err(|e| self.db(e))?;
        self.run(id)
    }

    pub fn run(&self, id: i64) -> Result<RunRecord, HistoryError> {
        run_by_id(&self.conn, id)
            .map_err(|f| self.fault(f))?
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
        let read = || -> Read<Vec<RunRecord>> {
            let mut statement = self.conn.prepare(&sql)?;
            let rows =
                statement.query_map(rusqlite::params_from_iter(args.iter()), run_from_row)?;
            rows.map(flat).collect()
        };
        read().map_err(|f| self.fault(f))
    }

    /// The latest run of each kind and label among `kinds` (each test profile, the examples, a
    /// constraint selection), newest first, with every subject's result in it — however far
    /// back that run is.
    pub fn latest_statuses(&self, kinds: &[RunKind]) -> Result<Vec<LatestRun>, HistoryError> {
        if kinds.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=kinds.len()).map(|i| format!("?{i}")).collect();
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE id IN \
             (SELECT MAX(id) FROM runs WHERE kind IN ({}) GROUP BY kind, label) ORDER BY id DESC",
            placeholders.join(", ")
        );
        let read = || -> Read<Vec<LatestRun>> {
            let mut statement = self.conn.prepare(&sql)?;
            let rows = statement.query_map(
                rusqlite::params_from_iter(kinds.iter().map(|k| k.as_str())),
                run_from_row,
            )?;
            let runs = rows.map(flat).collect::<Read<Vec<RunRecord>>>()?;
            runs.into_iter()
                .map(|run| {
                    let mut results = results_of_run(&self.conn, run.id)?;
                    let mut carried = BTreeMap::new();
                    if run.filter.is_some() {
                        self.carry_earlier(&run, &mut results, &mut carried)?;
                    }
                    Ok(LatestRun {
                        run,
                        results,
                        carried,
                    })
                })
                .collect()
        };
        read().map_err(|f| self.fault(f))
    }

    /// A filtered run says nothing about the subjects it left out: take theirs from the earlier
    /// runs of the same kind and label, newest first, down to the last unfiltered one.
    fn carry_earlier(
        &self,
        run: &RunRecord,
        results: &mut BTreeMap<String, SubjectResult>,
        carried: &mut BTreeMap<String, i64>,
    ) -> Read<()> {
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM runs WHERE kind = ?1 AND label = ?2 AND id < ?3 ORDER BY id DESC LIMIT {MAX_CARRIED_RUNS}"
        ))?;
        let earlier = statement
            .query_map(params![run.kind.as_str(), run.label, run.id], run_from_row)?
            .map(flat)
            .collect::<Read<Vec<RunRecord>>>()?;
        for before in earlier {
            for (subject, result) in results_of_run(&self.conn, before.id)? {
                if let std::collections::btree_map::Entry::Vacant(slot) = results.entry(subject) {
                    carried.insert(slot.key().clone(), before.id);
                    slot.insert(result);
                }
            }
            if before.filter.is_none() {
                break;
            }
        }
        Ok(())
    }

    /// Every subject's result in a run.
    pub fn results(&self, run_id: i64) -> Result<BTreeMap<String, SubjectResult>, HistoryError> {
        results_of_run(&self.conn, run_id).map_err(|f| self.fault(f))
    }

    /// One subject's result in a run, if it has one.
    pub fn result_of(
        &self,
        run_id: i64,
        subject: &str,
    ) -> Result<Option<SubjectResult>, HistoryError> {
        let read = || -> Read<Option<SubjectResult>> {
            self.conn
                .query_row(
                    "SELECT run_id, subject, status, detail FROM results WHERE run_id = ?1 AND subject = ?2",
                    params![run_id, subject],
                    result_from_row,
                )
                .optional()?
                .transpose()
                .map(|found| found.map(|(_, result)| result))
        };
        read().map_err(|f| self.fault(f))
    }

    /// Every test of a run with its outcome and scenario.
    pub fn test_rows(&self, run_id: i64) -> Result<Vec<TestRow>, HistoryError> {
        let read = || -> Read<Vec<TestRow>> {
            let mut statement = self.conn.prepare(
                "SELECT run_id, name, outcome, scenario_id FROM tests WHERE run_id = ?1 ORDER BY rowid",
            )?;
            let rows = statement.query_map([run_id], test_from_row)?;
            rows.map(flat).collect()
        };
        read().map_err(|f| self.fault(f))
    }

    fn tests(&self, run_id: i64) -> Result<BTreeMap<String, TestOutcome>, HistoryError> {
        Ok(self
            .test_rows(run_id)?
            .into_iter()
            .map(|t| (t.name, t.outcome))
            .collect())
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
            let old_status = old.map(|r| r.status);
            let new_status = new.map(|r| r.status);
            if old_status == new_status {
                let (before_detail, after_detail) = (
                    old.and_then(|r| r.detail.clone()),
                    new.and_then(|r| r.detail.clone()),
                );
                if let (Some(status), Some(before), Some(after)) =
                    (new_status, before_detail, after_detail)
                {
                    if before != after {
                        comparison.detail_changes.push(DetailChange {
                            subject: subject.clone(),
                            status,
                            before,
                            after,
                        });
                    }
                }
                if new_status == Some(SubjectStatus::Failing) {
                    comparison.still_failing.push(subject.clone());
                } else {
                    comparison.unchanged += 1;
                }
                continue;
            }
            let change = StatusChange {
                subject: subject.clone(),
                before: old_status,
                after: new_status,
                detail: new.and_then(|r| r.detail.clone()),
            };
            match new_status {
                Some(SubjectStatus::Failing) if old_status == Some(SubjectStatus::Passing) => {
                    comparison.newly_failing.push(change)
                }
                Some(SubjectStatus::Passing) => comparison.newly_passing.push(change),
                _ => comparison.other_changes.push(change),
            }
        }
        let ta = self.tests(before)?;
        let tb = self.tests(after)?;
        for (name, outcome) in &tb {
            match (ta.get(name), outcome) {
                (Some(TestOutcome::Passed), TestOutcome::Failed) => {
                    comparison.newly_failing_tests.push(name.clone())
                }
                (Some(TestOutcome::Failed), TestOutcome::Passed) => {
                    comparison.newly_passing_tests.push(name.clone())
                }
                _ => {}
            }
        }
        Ok(comparison)
    }
}

/// Write `run` with its regressions; inside the caller's immediate transaction.
fn insert_run(tx: &rusqlite::Transaction, run: &NewRun) -> Read<i64> {
    let previous = tx
        .query_row(
            "SELECT id FROM runs WHERE kind = ?1 AND label = ?2 ORDER BY id DESC LIMIT 1",
            params![run.kind.as_str(), run.label],
            |r| r.get::<_, i64>(0),
        )
        .optional()?;
    let mut regressions = Vec::new();
    if let Some(previous) = previous {
        // Only which subjects passed: a status this SDD does not know in the previous run is
        // not `passing`, and must not keep every later run of the label from being recorded.
        let mut statement =
            tx.prepare("SELECT subject FROM results WHERE run_id = ?1 AND status = ?2")?;
        let passed = statement
            .query_map(params![previous, SubjectStatus::Passing.as_str()], |r| {
                r.get::<_, String>(0)
            })?
            .collect::<rusqlite::Result<BTreeSet<String>>>()?;
        for result in &run.results {
            if result.status == SubjectStatus::Failing && passed.contains(&result.subject) {
                regressions.push(result.subject.clone());
            }
        }
    }
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
        insert.execute(params![id, r.subject, r.status.as_str(), r.detail])?;
    }
    let mut insert = tx.prepare(
        "INSERT INTO tests (run_id, name, outcome, scenario_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for t in &run.tests {
        insert.execute(params![id, t.name, t.outcome.as_str(), t.scenario_id])?;
    }
    Ok(id)
}

fn run_by_id(conn: &Connection, id: i64) -> Read<Option<RunRecord>> {
    conn.query_row(
        &format!("SELECT {RUN_COLUMNS} FROM runs WHERE id = ?1"),
        [id],
        run_from_row,
    )
    .optional()?
    .transpose()
}

fn results_of_run(conn: &Connection, run_id: i64) -> Read<BTreeMap<String, SubjectResult>> {
    let mut statement =
        conn.prepare("SELECT run_id, subject, status, detail FROM results WHERE run_id = ?1")?;
    let rows = statement.query_map([run_id], result_from_row)?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (_, result) = row??;
        out.insert(result.subject.clone(), result);
    }
    Ok(out)
}

const RUN_COLUMNS: &str = "id, kind, label, started_at, duration_seconds, git_commit, git_dirty, filter, ok, summary, regressions, previous_run";

// Row readers: the outer result is SQLite's, the inner one says whether this SDD knows the
// words stored in the row.

fn run_from_row(r: &rusqlite::Row) -> rusqlite::Result<Read<RunRecord>> {
    let id: i64 = r.get(0)?;
    // A value of the wrong type, or JSON that does not parse, names the run and the column:
    // one damaged row is not the whole file's fault, and it is never read as an empty value.
    let bad = |column: &str, problem: &dyn std::fmt::Display| Fault::UnreadableRun {
        run: id,
        problem: format!("{column}: {problem}"),
    };
    let read = || -> Read<RunRecord> {
        fn typed<T: rusqlite::types::FromSql>(
            r: &rusqlite::Row,
            i: usize,
            column: &str,
            bad: &dyn Fn(&str, &dyn std::fmt::Display) -> Fault,
        ) -> Read<T> {
            r.get(i).map_err(|e| bad(column, &e))
        }
        let kind: String = typed(r, 1, "kind", &bad)?;
        let Some(kind) = RunKind::parse(&kind) else {
            return Err(Fault::UnknownKind { run: id, kind });
        };
        let summary: String = typed(r, 9, "summary", &bad)?;
        let regressions: String = typed(r, 10, "regressions", &bad)?;
        Ok(RunRecord {
            id,
            kind,
            label: typed(r, 2, "label", &bad)?,
            started_at: typed(r, 3, "started_at", &bad)?,
            duration_seconds: typed(r, 4, "duration_seconds", &bad)?,
            commit: typed(r, 5, "git_commit", &bad)?,
            dirty: typed(r, 6, "git_dirty", &bad)?,
            filter: typed(r, 7, "filter", &bad)?,
            ok: typed(r, 8, "ok", &bad)?,
            summary: serde_json::from_str(&summary).map_err(|e| bad("summary", &e))?,
            regressions: serde_json::from_str(&regressions).map_err(|e| bad("regressions", &e))?,
            previous_run: typed(r, 11, "previous_run", &bad)?,
        })
    };
    Ok(read())
}

/// `run_id, subject, status, detail`.
fn result_from_row(r: &rusqlite::Row) -> rusqlite::Result<Read<(i64, SubjectResult)>> {
    let run: i64 = r.get(0)?;
    let subject: String = r.get(1)?;
    let status: String = r.get(2)?;
    let Some(status) = SubjectStatus::parse(&status) else {
        return Ok(Err(Fault::UnknownStatus {
            run,
            subject,
            status,
        }));
    };
    Ok(Ok((
        run,
        SubjectResult {
            subject,
            status,
            detail: r.get(3)?,
        },
    )))
}

/// `run_id, name, outcome, scenario_id`.
fn test_from_row(r: &rusqlite::Row) -> rusqlite::Result<Read<TestRow>> {
    let run: i64 = r.get(0)?;
    let name: String = r.get(1)?;
    let outcome: String = r.get(2)?;
    let Some(outcome) = TestOutcome::parse(&outcome) else {
        return Ok(Err(Fault::UnknownOutcome {
            run,
            test: name,
            outcome,
        }));
    };
    Ok(Ok(TestRow {
        name,
        outcome,
        scenario_id: r.get(3)?,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;
    use SubjectStatus::{Failing, NoTest, Passing};

    fn run(statuses: &[(&str, SubjectStatus)]) -> NewRun {
        labelled("unit", statuses)
    }

    fn labelled(label: &str, statuses: &[(&str, SubjectStatus)]) -> NewRun {
        NewRun {
            kind: RunKind::Tests,
            label: label.into(),
            started_at: "2026-11-22T10:00:00Z".into(),
            duration_seconds: 1.5,
            commit: Some("abc".into()),
            dirty: Some(true),
            filter: None,
            ok: statuses.iter().all(|(_, s)| *s != Failing),
            summary: serde_json::json!({"passing": 1}),
            results: statuses
                .iter()
                .map(|&(subject, status)| SubjectResult {
                    subject: subject.to_string(),
                    status,
                    detail: (status == Failing).then(|| "assert 1 == 2".into()),
                })
                .collect(),
            tests: statuses
                .iter()
                .map(|&(subject, status)| TestRow {
                    name: format!("test_sdd_{subject}"),
                    outcome: if status == Failing {
                        TestOutcome::Failed
                    } else {
                        TestOutcome::Passed
                    },
                    scenario_id: Some(subject.to_string()),
                })
                .collect(),
        }
    }

    /// SQL on the file behind SDD's back, as another program (or a newer SDD) would.
    fn raw(path: &Path, sql: &str) {
        Connection::open(path).unwrap().execute_batch(sql).unwrap();
    }

    #[test]
    fn regressions_and_comparison() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(dir.path()).unwrap();
        let first = history
            .record(&run(&[("a", Passing), ("b", Failing), ("c", Passing)]))
            .unwrap();
        assert!(first.regressions.is_empty());
        assert_eq!(first.previous_run, None);
        let second = history
            .record(&run(&[
                ("a", Failing),
                ("b", Passing),
                ("c", Passing),
                ("d", NoTest),
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
        assert_eq!(cmp.other_changes[0].before, None);
        assert_eq!(cmp.other_changes[0].after, Some(NoTest));
        assert_eq!(cmp.unchanged, 1);
        assert_eq!(cmp.newly_failing_tests, ["test_sdd_a"]);
        assert_eq!(cmp.newly_passing_tests, ["test_sdd_b"]);
        // The JSON of a comparison keeps the words it always had.
        let json = serde_json::to_value(&cmp.newly_failing[0]).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"subject": "a", "before": "passing", "after": "failing", "detail": "assert 1 == 2"})
        );

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

    /// The file written by the SDD before schema versions were recorded: three `sdd verify`
    /// runs of the bundled example (the second with a planted fault).
    const V1_FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/history-v1.sqlite3");

    /// A copy of the v1 fixture in a fresh project; the fixture itself is never opened.
    fn v1_project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HISTORY_FILE);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::copy(V1_FIXTURE, &path).unwrap();
        dir
    }

    /// Every row of the three tables as text, in a stable order.
    fn dump(path: &Path) -> Vec<String> {
        let conn = Connection::open(path).unwrap();
        let mut out = Vec::new();
        for sql in [
            "SELECT * FROM runs ORDER BY id",
            "SELECT * FROM results ORDER BY run_id, subject",
            "SELECT * FROM tests ORDER BY run_id, rowid",
        ] {
            let mut statement = conn.prepare(sql).unwrap();
            let columns = statement.column_count();
            let rows = statement
                .query_map([], |r| {
                    (0..columns)
                        .map(|i| {
                            r.get::<_, rusqlite::types::Value>(i)
                                .map(|v| format!("{v:?}"))
                        })
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .unwrap();
            out.extend(rows.map(|r| r.unwrap().join(" | ")));
        }
        out
    }

    #[test]
    fn the_v1_fixture_migrates_and_reads_back_the_same() {
        let fixture_before = std::fs::read(V1_FIXTURE).unwrap();
        let project = v1_project();
        let path = project.path().join(HISTORY_FILE);
        let rows_before = dump(&path);
        assert_eq!(rows_before.len(), 9 + 57 + 42);

        let mut history = History::open(project.path()).unwrap();
        assert_eq!(history.schema_version().unwrap(), SCHEMA_VERSION);
        let applied: Vec<(i64, Option<String>)> = history
            .conn
            .prepare("SELECT version, applied_at FROM schema_migrations ORDER BY version")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(applied.len(), SCHEMA_VERSION as usize);
        // Version 1 was applied by the old SDD, which kept no time; the rest now.
        assert_eq!(applied[0], (1, None));
        assert!(
            applied[1..].iter().all(|(_, at)| at.is_some()),
            "{applied:?}"
        );
        let user_version: i64 = history
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(user_version, SCHEMA_VERSION);
        // Not a value changed.
        assert_eq!(dump(&path), rows_before);

        // Every run reads back through the typed API.
        let runs = history
            .runs(&HistoryQuery {
                kind: None,
                subject: None,
                limit: 100,
            })
            .unwrap();
        let summary: Vec<(i64, RunKind, &str, bool)> = runs
            .iter()
            .rev()
            .map(|r| (r.id, r.kind, r.label.as_str(), r.ok))
            .collect();
        use RunKind::{Checks, Constraints, Tests};
        assert_eq!(
            summary,
            [
                (1, Tests, "rust", true),
                (2, Checks, "examples", true),
                (3, Constraints, "constraints", false),
                (4, Tests, "rust", false),
                (5, Checks, "examples", false),
                (6, Constraints, "constraints", false),
                (7, Tests, "rust", true),
                (8, Checks, "examples", true),
                (9, Constraints, "constraints", false),
            ]
        );
        let completed_twice = "task_management_system.cannot_complete_already_completed_task";
        let run4 = history.run(4).unwrap();
        assert_eq!(run4.kind, RunKind::Tests);
        assert_eq!(run4.label, "rust");
        assert!(!run4.ok);
        assert_eq!(run4.regressions, [completed_twice]);
        assert_eq!(run4.previous_run, Some(1));
        assert_eq!(run4.started_at, "2026-12-01T02:23:26Z");
        assert_eq!(run4.duration_seconds, 0.206972637);
        assert_eq!(
            (run4.commit.as_deref(), run4.dirty, run4.filter.as_deref()),
            (None, None, None)
        );
        assert_eq!(run4.summary["exit"]["code"], 101);
        assert_eq!(run4.summary["tests"]["failed"], 2);
        assert_eq!(
            history.run(9).unwrap().regressions,
            ["task_management_system.performance.api_response_time"]
        );

        let results4 = history.results(4).unwrap();
        assert_eq!(results4.len(), 4);
        assert_eq!(results4[completed_twice].status, SubjectStatus::Failing);
        assert_eq!(
            results4[completed_twice].detail.as_deref(),
            Some("assertion `left == right` failed")
        );
        let results9 = history.results(9).unwrap();
        let status9 = |id: &str| results9[&format!("task_management_system.{id}")].status;
        assert_eq!(
            status9("performance.api_response_time"),
            SubjectStatus::Failing
        );
        assert_eq!(
            status9("performance.concurrent_user_support"),
            SubjectStatus::Inconclusive
        );
        assert_eq!(status9("reliability.uptime"), SubjectStatus::Unchecked);
        assert_eq!(status9("security.rate_limiting"), SubjectStatus::Passing);

        // Every status and outcome of the file, counted through the typed API.
        let mut statuses: BTreeMap<SubjectStatus, usize> = BTreeMap::new();
        let mut outcomes: BTreeMap<TestOutcome, usize> = BTreeMap::new();
        for run in &runs {
            for r in history.results(run.id).unwrap().values() {
                *statuses.entry(r.status).or_default() += 1;
            }
            for t in history.test_rows(run.id).unwrap() {
                *outcomes.entry(t.outcome).or_default() += 1;
            }
        }
        assert_eq!(
            statuses,
            BTreeMap::from([
                (SubjectStatus::Passing, 39),
                (SubjectStatus::Failing, 3),
                (SubjectStatus::Unchecked, 12),
                (SubjectStatus::Inconclusive, 3),
            ])
        );
        assert_eq!(
            outcomes,
            BTreeMap::from([(TestOutcome::Passed, 40), (TestOutcome::Failed, 2)])
        );
        let tests4 = history.test_rows(4).unwrap();
        assert_eq!(tests4.len(), 14);
        assert_eq!(
            tests4[6],
            TestRow {
                name: "sdd_task_management_system_cannot_complete_already_completed_task".into(),
                outcome: TestOutcome::Failed,
                scenario_id: Some(completed_twice.into()),
            }
        );
        assert_eq!(tests4[0].scenario_id, None);
        let cmp = history.compare(4, 7).unwrap();
        assert_eq!(
            cmp.newly_passing_tests,
            [
                "sdd_task_management_system_cannot_complete_already_completed_task",
                "sdd_task_management_system_handle_concurrent_task_completion"
            ]
        );

        // The migrated file takes new runs, compared with the old ones.
        let next = history
            .record(&labelled("rust", &[(completed_twice, Failing)]))
            .unwrap();
        assert_eq!(next.id, 10);
        assert_eq!(next.previous_run, Some(7));
        assert_eq!(next.regressions, [completed_twice]);
        drop(history);
        assert_eq!(std::fs::read(V1_FIXTURE).unwrap(), fixture_before);
    }

    /// A file as an SDD may have left it.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Start {
        /// New and empty.
        Empty,
        /// Written before versions were recorded.
        LegacyV1,
        /// At this version, recorded in the table, with a run.
        Recorded(i64),
    }

    impl Start {
        fn make(self, path: &Path) {
            match self {
                Start::Empty => std::fs::write(path, "").unwrap(),
                Start::LegacyV1 => {
                    std::fs::copy(V1_FIXTURE, path).unwrap();
                }
                Start::Recorded(version) => {
                    let mut h = History::open_at_version(path, version).unwrap();
                    assert_eq!(h.schema_version().unwrap(), version);
                    h.record(&run(&[("a", Passing)])).unwrap();
                }
            }
        }
    }

    /// From every version an SDD may have left a file at — new and empty, the legacy v1 file,
    /// and each version recorded in the table — opening brings it to the latest with its
    /// runs, and records each migration once.
    #[test]
    fn every_older_version_migrates_to_the_latest() {
        let starts = [Start::Empty, Start::LegacyV1]
            .into_iter()
            .chain((1..SCHEMA_VERSION).map(Start::Recorded));
        for start in starts {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("history.sqlite3");
            start.make(&path);
            let rows_before = if start == Start::Empty {
                Vec::new()
            } else {
                dump(&path)
            };
            let history = History::open_at(&path).unwrap();
            assert_eq!(
                history.schema_version().unwrap(),
                SCHEMA_VERSION,
                "{start:?}"
            );
            let versions: Vec<i64> = history
                .conn
                .prepare("SELECT version FROM schema_migrations ORDER BY version")
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            assert_eq!(
                versions,
                (1..=SCHEMA_VERSION).collect::<Vec<_>>(),
                "{start:?}"
            );
            assert_eq!(dump(&path), rows_before, "{start:?}");
            // Opening again changes nothing.
            drop(history);
            let history = History::open_at(&path).unwrap();
            let count: i64 = history
                .conn
                .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
                .unwrap();
            assert_eq!(count, SCHEMA_VERSION, "{start:?}");
        }
    }

    /// A file from a newer SDD is refused with what to do, and not a byte of it changes —
    /// whether the newer SDD said so in the table, or only in user_version.
    #[test]
    fn a_newer_schema_is_refused_and_left_untouched() {
        let newer = SCHEMA_VERSION + 1;
        for bump in [
            format!(
                "INSERT INTO schema_migrations (version, description, applied_at) VALUES ({newer}, 'from the future', 'later'); PRAGMA user_version = {newer};"
            ),
            format!("PRAGMA user_version = {newer};"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let mut history = History::open(dir.path()).unwrap();
            history.record(&run(&[("a", Passing)])).unwrap();
            drop(history);
            let path = dir.path().join(HISTORY_FILE);
            raw(&path, &bump);
            let before = std::fs::read(&path).unwrap();
            let err = History::open(dir.path()).err().expect("newer file refused");
            assert!(
                matches!(&err, HistoryError::NewerSchema { found, .. } if *found == newer),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(message.contains("upgrade SDD"), "{message}");
            assert!(message.contains(&format!("schema {newer}")), "{message}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "{bump}");
        }
    }

    /// Set in a child process of `a_newer_file_with_a_write_ahead_log_is_left_untouched`: the
    /// history it writes as a newer SDD that crashes.
    const NEWER_WRITER_ENV: &str = "SDD_HISTORY_TEST_NEWER_WRITER";

    /// A newer SDD that crashed left its last commit in the write-ahead log. Refusing the file
    /// must not checkpoint that log into it (a read-write connection does when it closes).
    #[test]
    fn a_newer_file_with_a_write_ahead_log_is_left_untouched() {
        let newer = SCHEMA_VERSION + 1;
        if let Ok(path) = std::env::var(NEWER_WRITER_ENV) {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(&format!(
                "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
                 CREATE TABLE runs (id INTEGER PRIMARY KEY, what TEXT);
                 INSERT INTO runs (what) VALUES ('from the future');
                 PRAGMA user_version = {newer};"
            ))
            .unwrap();
            // A crash: no close, no checkpoint.
            std::process::exit(0);
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HISTORY_FILE);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let status = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "tests::a_newer_file_with_a_write_ahead_log_is_left_untouched",
            ])
            .env(NEWER_WRITER_ENV, &path)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let files = || -> Vec<(String, Vec<u8>)> {
            let mut files: Vec<_> = std::fs::read_dir(path.parent().unwrap())
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| !p.to_string_lossy().ends_with("-shm"))
                .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
                .collect();
            files.sort();
            files
        };
        let before = files();
        assert!(
            before.iter().any(|(name, _)| name.ends_with("-wal")),
            "the crash left a write-ahead log"
        );
        let err = History::open(dir.path()).err().expect("newer file refused");
        assert!(
            matches!(&err, HistoryError::NewerSchema { found, .. } if *found == newer),
            "{err:?}"
        );
        assert!(files() == before, "the file or its log changed");
    }

    /// Opening an up-to-date file only reads it: it opens at once while another process holds
    /// the write lock (it once waited for the lock, and failed after the busy timeout).
    #[test]
    fn an_up_to_date_file_opens_while_another_process_writes() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(dir.path()).unwrap();
        history.record(&run(&[("a", Passing)])).unwrap();
        drop(history);
        let writer = Connection::open(dir.path().join(HISTORY_FILE)).unwrap();
        writer.execute_batch("BEGIN IMMEDIATE").unwrap();
        let started = Instant::now();
        let history = History::open(dir.path()).unwrap();
        assert_eq!(history.latest(None).unwrap().unwrap().id, 1);
        // Far below the busy timeout: the open did not wait for the lock.
        assert!(
            started.elapsed() < BUSY_TIMEOUT / 2,
            "{:?}",
            started.elapsed()
        );
        writer.execute_batch("ROLLBACK").unwrap();
    }

    /// A file whose recorded migrations have a gap, or whose version is negative, was not made
    /// by SDD's migrations: it is refused as damaged and left as it was, not built upon.
    #[test]
    fn a_file_with_gaps_in_its_migrations_is_refused_as_damaged() {
        for damage in [
            "DELETE FROM schema_migrations WHERE version = 1",
            "INSERT INTO schema_migrations (version, description) VALUES (-7, 'odd')",
            "PRAGMA user_version = -3",
        ] {
            let dir = tempfile::tempdir().unwrap();
            drop(History::open(dir.path()).unwrap());
            let path = dir.path().join(HISTORY_FILE);
            raw(&path, damage);
            let before = std::fs::read(&path).unwrap();
            let err = History::open(dir.path()).err().expect(damage);
            assert!(
                matches!(err, HistoryError::Damaged { .. }),
                "{damage}: {err:?}"
            );
            assert!(err.to_string().contains("move it away"), "{err}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "{damage}");
        }
    }

    /// A run with a value of the wrong type or JSON that does not parse is an error naming the
    /// run and the column — not the whole file's fault, and never read as an empty value.
    #[test]
    fn a_damaged_run_is_named() {
        for (damage, column) in [
            (
                "UPDATE runs SET regressions = 'oops' WHERE id = 2",
                "regressions",
            ),
            ("UPDATE runs SET summary = '{bad' WHERE id = 2", "summary"),
            ("UPDATE runs SET ok = 'yes' WHERE id = 2", "ok"),
            ("UPDATE runs SET label = x'00ff' WHERE id = 2", "label"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let mut history = History::open(dir.path()).unwrap();
            history.record(&run(&[("a", Passing)])).unwrap();
            history.record(&run(&[("a", Passing)])).unwrap();
            raw(&dir.path().join(HISTORY_FILE), damage);
            let err = history.run(2).unwrap_err();
            assert!(
                matches!(&err, HistoryError::UnreadableRun { run: 2, problem, .. } if problem.starts_with(column)),
                "{damage}: {err:?}"
            );
            assert!(err.to_string().contains("run 2"), "{err}");
            assert_eq!(history.run(1).unwrap().id, 1, "{damage}");
        }
    }

    /// A word this SDD does not know is an error that names the run and the word, wherever it
    /// is read — never a test run, a status or an outcome it is not.
    #[test]
    fn unknown_words_in_the_file_are_errors_naming_the_row() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(HISTORY_FILE);
        let mut history = History::open(dir.path()).unwrap();
        history.record(&run(&[("a", Passing)])).unwrap();
        history.record(&run(&[("a", Passing)])).unwrap();

        raw(&path, "UPDATE runs SET kind = 'load_tests' WHERE id = 2");
        let all = HistoryQuery {
            kind: None,
            subject: None,
            limit: 10,
        };
        for err in [
            history.runs(&all).unwrap_err(),
            history.run(2).unwrap_err(),
            history.latest(None).unwrap_err(),
        ] {
            assert!(
                matches!(&err, HistoryError::UnknownKind { run: 2, kind, .. } if kind == "load_tests"),
                "{err:?}"
            );
            let message = err.to_string();
            assert!(
                message.contains("run 2") && message.contains("`load_tests`"),
                "{message}"
            );
        }
        raw(&path, "UPDATE runs SET kind = 'tests' WHERE id = 2");

        raw(
            &path,
            "UPDATE results SET status = 'flaky' WHERE run_id = 2",
        );
        for err in [
            history.results(2).unwrap_err(),
            history.result_of(2, "a").unwrap_err(),
            history.compare(1, 2).unwrap_err(),
            history.latest_statuses(&[RunKind::Tests]).unwrap_err(),
        ] {
            assert!(
                matches!(&err, HistoryError::UnknownStatus { run: 2, subject, status, .. } if subject == "a" && status == "flaky"),
                "{err:?}"
            );
        }
        // The next run of the label is still recorded: an unknown status is not `passing`,
        // so no regression is read into it (it once stopped every later run from landing).
        let next = history.record(&run(&[("a", Failing)])).unwrap();
        assert_eq!(next.previous_run, Some(2));
        assert!(next.regressions.is_empty(), "{next:?}");
        raw(
            &path,
            "UPDATE results SET status = 'passing' WHERE run_id = 2",
        );

        raw(&path, "UPDATE tests SET outcome = 'error' WHERE run_id = 1");
        for err in [
            history.test_rows(1).unwrap_err(),
            history.compare(1, 2).unwrap_err(),
        ] {
            assert!(
                matches!(&err, HistoryError::UnknownOutcome { run: 1, test, outcome, .. } if test == "test_sdd_a" && outcome == "error"),
                "{err:?}"
            );
        }
    }

    /// The latest run of every kind and label, however many runs of other labels came after
    /// it (`project_status` once looked only at the newest 200 runs and lost a profile run
    /// less often than that).
    #[test]
    fn latest_statuses_finds_every_label_however_far_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(dir.path()).unwrap();
        let old = history
            .record(&labelled("rarely", &[("a", Failing)]))
            .unwrap();
        history
            .record(&labelled("often", &[("b", Failing)]))
            .unwrap();
        for _ in 0..250 {
            history
                .record(&labelled("often", &[("b", Passing)]))
                .unwrap();
        }
        let constraints = history
            .record(&NewRun {
                kind: RunKind::Constraints,
                ..labelled("all", &[("performance.api", Passing)])
            })
            .unwrap();
        let latest = history.latest_statuses(&[RunKind::Tests]).unwrap();
        let found: Vec<(&str, i64)> = latest
            .iter()
            .map(|l| (l.run.label.as_str(), l.run.id))
            .collect();
        assert_eq!(found, [("often", old.id + 251), ("rarely", old.id)]);
        assert_eq!(latest[1].results["a"].status, Failing);
        assert_eq!(latest[0].results["b"].status, Passing);
        let all = history
            .latest_statuses(&[RunKind::Tests, RunKind::Constraints])
            .unwrap();
        assert_eq!(all[0].run.id, constraints.id);
        assert_eq!(all.len(), 3);
        assert!(history.latest_statuses(&[]).unwrap().is_empty());
    }

    /// A filtered run (some scenarios only) does not make the others unchecked: their results
    /// come from the earlier runs of the same kind and label, back to the last full one.
    #[test]
    fn a_filtered_run_keeps_the_other_subjects_latest_results() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(dir.path()).unwrap();
        let before_full = history
            .record(&labelled("rust", &[("gone", Passing)]))
            .unwrap();
        let full = history
            .record(&labelled(
                "rust",
                &[("a", Passing), ("b", Failing), ("c", Passing)],
            ))
            .unwrap();
        let first_filter = history
            .record(&NewRun {
                filter: Some("b".into()),
                ..labelled("rust", &[("b", Passing)])
            })
            .unwrap();
        let second_filter = history
            .record(&NewRun {
                filter: Some("c".into()),
                ..labelled("rust", &[("c", Failing)])
            })
            .unwrap();
        let latest = history.latest_statuses(&[RunKind::Tests]).unwrap();
        assert_eq!(latest.len(), 1);
        let l = &latest[0];
        assert_eq!(l.run.id, second_filter.id);
        let got: Vec<(&str, SubjectStatus, i64)> = l
            .results
            .iter()
            .map(|(s, r)| (s.as_str(), r.status, l.run_of(s)))
            .collect();
        assert_eq!(
            got,
            [
                ("a", Passing, full.id),
                ("b", Passing, first_filter.id),
                ("c", Failing, second_filter.id)
            ]
        );
        // Nothing from before the last full run: that run covered everything there was.
        assert!(!l.results.contains_key("gone"), "{before_full:?}");
        // A full run after them all is the whole answer again.
        history
            .record(&labelled("rust", &[("a", Passing)]))
            .unwrap();
        let latest = history.latest_statuses(&[RunKind::Tests]).unwrap();
        assert_eq!(latest[0].results.len(), 1);
        assert!(latest[0].carried.is_empty());
    }

    /// Migration 2's index is what the previous-run and latest-run queries use.
    #[test]
    fn the_kind_label_index_serves_the_latest_run_queries() {
        let dir = tempfile::tempdir().unwrap();
        let history = History::open(dir.path()).unwrap();
        let plan = |sql: &str| -> String {
            let mut statement = history
                .conn
                .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap();
            statement
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
                .join("; ")
        };
        for sql in [
            "SELECT id FROM runs WHERE kind = 'tests' AND label = 'rust' ORDER BY id DESC LIMIT 1",
            "SELECT MAX(id) FROM runs WHERE kind IN ('tests', 'checks') GROUP BY kind, label",
        ] {
            let plan = plan(sql);
            assert!(plan.contains("runs_by_kind_label"), "{sql}: {plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{sql}: {plan}");
        }
    }

    /// Set in a child process of `two_processes_record_at_once`: the history it writes to.
    const WRITER_ENV: &str = "SDD_HISTORY_TEST_WRITER";
    const RUNS_PER_WRITER: usize = 50;

    /// Two processes open one new history at the same moment and record 50 runs each of the
    /// same kind and label: every run lands, ids are unique, nobody sees `database is locked`,
    /// and each run was compared with the run just before it, whichever process wrote that.
    #[test]
    fn two_processes_record_at_once() {
        if let Ok(path) = std::env::var(WRITER_ENV) {
            let writer = std::env::var("SDD_HISTORY_TEST_NAME").unwrap();
            let mut history = History::open_at(Path::new(&path)).unwrap();
            for i in 0..RUNS_PER_WRITER {
                let status = if i % 2 == 0 { Passing } else { Failing };
                let run = NewRun {
                    summary: serde_json::json!({ "writer": writer }),
                    ..labelled("shared", &[("a", status)])
                };
                history
                    .record(&run)
                    .unwrap_or_else(|e| panic!("{writer}, run {i}: {e}"));
            }
            return;
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite3");
        let exe = std::env::current_exe().unwrap();
        let children: Vec<_> = ["first", "second"]
            .into_iter()
            .map(|writer| {
                std::process::Command::new(&exe)
                    .args([
                        "--exact",
                        "tests::two_processes_record_at_once",
                        "--nocapture",
                    ])
                    .env(WRITER_ENV, &path)
                    .env("SDD_HISTORY_TEST_NAME", writer)
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for child in children {
            let output = child.wait_with_output().unwrap();
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(output.status.success(), "writer failed: {text}");
            // The child ran the writer, not zero tests.
            assert!(text.contains("1 passed"), "{text}");
        }
        let history = History::open_at(&path).unwrap();
        let mut runs = history
            .runs(&HistoryQuery {
                kind: None,
                subject: None,
                limit: 1000,
            })
            .unwrap();
        runs.reverse();
        assert_eq!(runs.len(), 2 * RUNS_PER_WRITER);
        let ids: BTreeSet<i64> = runs.iter().map(|r| r.id).collect();
        assert_eq!(ids.len(), runs.len());
        for writer in ["first", "second"] {
            let mine = runs
                .iter()
                .filter(|r| r.summary["writer"] == writer)
                .count();
            assert_eq!(mine, RUNS_PER_WRITER, "{writer}");
        }
        assert_eq!(runs[0].previous_run, None);
        for pair in runs.windows(2) {
            assert_eq!(pair[1].previous_run, Some(pair[0].id), "{:?}", pair[1]);
            let regressed = pair[0].ok && !pair[1].ok;
            assert_eq!(pair[1].regressions == ["a"], regressed, "{:?}", pair[1]);
        }
    }
}

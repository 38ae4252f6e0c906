//! How much of the past the history keeps, and pruning to it.
//!
//! One row per test per run is by far the biggest part of the file (a 27,000-test suite run
//! ten times made 32 MB), and only the recent runs' rows are read: `compare_runs` diffs tests
//! between two runs, nearly always the latest and the one before. A run's record and its one
//! status per scenario are small and are what history, trends and regressions read, so they are
//! kept much longer. Both are counted in runs of each kind and label (each test profile, the
//! examples, each constraint selection), not in days: a profile run once a month keeps as much
//! of its past as one run every minute.
//!
//! Invariants: the latest run of every kind and label is never removed, nor its results, so the
//! next run's regressions (computed against the previous run of its kind and label, from its
//! results) are the same with or without pruning; neither is any run back to the newest
//! unfiltered one of its label, whose results a filtered latest run carries
//! (`History::latest_statuses`). Incidents are never pruned.

use rusqlite::{params, Connection, TransactionBehavior};
use serde::Serialize;

use crate::{History, HistoryError, RunKind, MAX_CARRIED_RUNS};

/// What the history keeps, per kind and label of run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Runs whose per-test rows are kept: the latest N (at least 2, the latest and the one
    /// before, which `compare_runs` diffs test by test).
    pub test_rows_runs: usize,
    /// Runs kept at all, with their per-scenario results: the latest N (at least 1).
    pub runs: usize,
}

impl Retention {
    /// Test rows of the last 5 runs of each profile: a 27,000-test suite then holds about 16 MB
    /// of them, however often it runs; 500 runs of each with their scenario results, a few
    /// hundred bytes per scenario and run.
    pub const DEFAULT: Retention = Retention {
        test_rows_runs: 5,
        runs: 500,
    };

    /// With the floors applied: a smaller number is read as the floor.
    fn floored(self) -> Retention {
        Retention {
            test_rows_runs: self.test_rows_runs.max(2),
            runs: self.runs.max(1),
        }
    }
}

impl Default for Retention {
    fn default() -> Retention {
        Retention::DEFAULT
    }
}

/// What a prune removed (or, dry, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PruneReport {
    /// Run records removed, with their results and test rows.
    pub runs: usize,
    /// Per-scenario (or constraint) results removed with those runs.
    pub results: usize,
    /// Per-test rows removed: of the runs removed and of older runs kept.
    pub test_rows: usize,
}

impl PruneReport {
    fn add(&mut self, other: PruneReport) {
        self.runs += other.runs;
        self.results += other.results;
        self.test_rows += other.test_rows;
    }

    pub fn is_empty(&self) -> bool {
        *self == PruneReport::default()
    }
}

/// Below which run IDs of one kind and label rows go.
#[derive(Debug, PartialEq)]
struct Cutoffs {
    /// Runs (with their results and tests) below this ID are removed.
    runs_below: i64,
    /// Test rows of runs below this ID are removed.
    tests_below: i64,
}

/// The cutoffs for one kind and label, from its runs newest first as `(id, filtered)`. Pure,
/// so the invariants are table-tested.
fn cutoffs(runs_newest_first: &[(i64, bool)], retention: Retention) -> Option<Cutoffs> {
    let retention = retention.floored();
    let oldest = runs_newest_first.last()?.0;
    let nth_newest = |n: usize| runs_newest_first.get(n - 1).map_or(oldest, |&(id, _)| id);
    // A filtered latest run carries its other subjects' results from the runs before it, back
    // to the newest unfiltered one and at most MAX_CARRIED_RUNS back: keep those.
    let carry_window = MAX_CARRIED_RUNS + 1;
    let carried_from = runs_newest_first
        .iter()
        .take(carry_window)
        .find(|(_, filtered)| !filtered)
        .map_or_else(|| nth_newest(carry_window), |&(id, _)| id);
    let runs_below = nth_newest(retention.runs).min(carried_from);
    let tests_below = nth_newest(retention.test_rows_runs).max(runs_below);
    Some(Cutoffs {
        runs_below,
        tests_below,
    })
}

impl History {
    /// Remove what `retention` does not keep, for every kind and label of run; with `dry_run`
    /// only count it. Deleted pages are reused by later runs, so the file stops growing;
    /// [`History::vacuum`] gives them back to the file system.
    pub fn prune(
        &mut self,
        retention: Retention,
        dry_run: bool,
    ) -> Result<PruneReport, HistoryError> {
        let mut prune = || -> rusqlite::Result<PruneReport> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let labels: Vec<(String, String)> = {
                let mut statement = tx.prepare("SELECT DISTINCT kind, label FROM runs")?;
                let rows = statement.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut report = PruneReport::default();
            for (kind, label) in &labels {
                report.add(prune_label(&tx, kind, label, retention, dry_run)?);
            }
            if dry_run {
                tx.rollback()?;
            } else {
                tx.commit()?;
            }
            Ok(report)
        };
        prune().map_err(|e| self.db(e))
    }

    /// Remove what `retention` does not keep of one kind and label: what recording a run of
    /// it does afterwards, so each run costs at most the rows of the one it pushes out.
    pub fn prune_label(
        &mut self,
        kind: RunKind,
        label: &str,
        retention: Retention,
    ) -> Result<PruneReport, HistoryError> {
        let mut prune = || -> rusqlite::Result<PruneReport> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let report = prune_label(&tx, kind.as_str(), label, retention, false)?;
            tx.commit()?;
            Ok(report)
        };
        prune().map_err(|e| self.db(e))
    }

    /// Give the free pages back to the file system: the write-ahead log checkpointed into the
    /// file, then the file rewritten compactly (SQLite's `VACUUM`; it needs no other writer
    /// at that moment and waits for one up to the busy timeout).
    pub fn vacuum(&mut self) -> Result<(), HistoryError> {
        self.conn
            .execute_batch(
                "PRAGMA wal_checkpoint(TRUNCATE); VACUUM; PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .map_err(|e| self.db(e))
    }

    /// The bytes the history takes on disk: the file and its write-ahead log.
    pub fn size_on_disk(&self) -> u64 {
        let size = |path: &std::path::Path| std::fs::metadata(path).map_or(0, |m| m.len());
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        size(&self.path) + size(std::path::Path::new(&wal))
    }
}

fn prune_label(
    conn: &Connection,
    kind: &str,
    label: &str,
    retention: Retention,
    dry_run: bool,
) -> rusqlite::Result<PruneReport> {
    let runs: Vec<(i64, bool)> = {
        let mut statement = conn.prepare_cached(
            "SELECT id, filter IS NOT NULL FROM runs WHERE kind = ?1 AND label = ?2 ORDER BY id DESC",
        )?;
        let rows = statement.query_map(params![kind, label], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let Some(Cutoffs {
        runs_below,
        tests_below,
    }) = cutoffs(&runs, retention)
    else {
        return Ok(PruneReport::default());
    };
    let of_label = "SELECT id FROM runs WHERE kind = ?1 AND label = ?2 AND id < ?3";
    let count = |table: &str, below: i64| -> rusqlite::Result<usize> {
        conn.query_row(
            &format!("SELECT COUNT(*) FROM {table} WHERE run_id IN ({of_label})"),
            params![kind, label, below],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n as usize)
    };
    let report = PruneReport {
        runs: runs.iter().filter(|(id, _)| *id < runs_below).count(),
        results: count("results", runs_below)?,
        test_rows: count("tests", tests_below)?,
    };
    if !dry_run && !report.is_empty() {
        conn.execute(
            &format!("DELETE FROM tests WHERE run_id IN ({of_label})"),
            params![kind, label, tests_below],
        )?;
        conn.execute(
            &format!("DELETE FROM results WHERE run_id IN ({of_label})"),
            params![kind, label, runs_below],
        )?;
        conn.execute(
            "DELETE FROM runs WHERE kind = ?1 AND label = ?2 AND id < ?3",
            params![kind, label, runs_below],
        )?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(runs: &[(i64, bool)], test_rows_runs: usize, keep: usize) -> Option<(i64, i64)> {
        cutoffs(
            runs,
            Retention {
                test_rows_runs,
                runs: keep,
            },
        )
        .map(|c| (c.runs_below, c.tests_below))
    }

    /// Which runs of one label lose their test rows and which go altogether.
    #[test]
    fn cutoffs_keep_the_latest_and_what_a_filtered_run_carries() {
        let unfiltered: Vec<(i64, bool)> = (1..=10).rev().map(|id| (id, false)).collect();
        // Nothing recorded: nothing to do.
        assert_eq!(cut(&[], 5, 100), None);
        // Fewer runs than kept: nothing goes.
        assert_eq!(cut(&unfiltered, 20, 100), Some((1, 1)));
        // Tests of the latest 3, runs of the latest 6.
        assert_eq!(cut(&unfiltered, 3, 6), Some((5, 8)));
        // Floors: the latest run always stays, and the test rows of the one before while it
        // does.
        assert_eq!(cut(&unfiltered, 0, 0), Some((10, 10)));
        assert_eq!(cut(&unfiltered, 0, 2), Some((9, 9)));
        // Test rows of runs that go, go with them.
        assert_eq!(cut(&unfiltered, 8, 3), Some((8, 8)));
        // The latest runs filtered: kept back to the newest unfiltered one, whose results
        // they carry.
        let mut filtered = unfiltered.clone();
        for run in filtered.iter_mut().take(4) {
            run.1 = true;
        }
        assert_eq!(cut(&filtered, 2, 1), Some((6, 9)));
        // Never an unfiltered run: kept as far back as a filtered run carries from.
        let all_filtered: Vec<(i64, bool)> = unfiltered.iter().map(|&(id, _)| (id, true)).collect();
        assert_eq!(cut(&all_filtered, 2, 3), Some((1, 9)));
        let many: Vec<(i64, bool)> = (1..=1000).rev().map(|id| (id, true)).collect();
        let window = (MAX_CARRIED_RUNS + 1) as i64;
        assert_eq!(cut(&many, 2, 3), Some((1000 - window + 1, 999)));
    }
    fn run(label: &str, filter: Option<&str>, tests: usize, failing: &[&str]) -> crate::NewRun {
        let status = |subject: &str| {
            if failing.contains(&subject) {
                crate::SubjectStatus::Failing
            } else {
                crate::SubjectStatus::Passing
            }
        };
        crate::NewRun {
            kind: RunKind::Tests,
            label: label.into(),
            started_at: "2026-11-22T10:00:00Z".into(),
            duration_seconds: 1.0,
            commit: None,
            dirty: None,
            filter: filter.map(str::to_string),
            ok: failing.is_empty(),
            summary: serde_json::json!({}),
            results: ["a", "b"]
                .iter()
                .map(|&subject| crate::SubjectResult {
                    subject: subject.into(),
                    status: status(subject),
                    detail: None,
                })
                .collect(),
            tests: (0..tests)
                .map(|i| crate::TestRow {
                    name: format!("test_{i:05}_with_a_name_as_long_as_real_ones_are"),
                    outcome: crate::TestOutcome::Passed,
                    scenario_id: None,
                })
                .collect(),
        }
    }

    fn count(history: &History, sql: &str) -> i64 {
        history.conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// Recording prunes the recorded label to the retention: the latest runs of every label
    /// stay with their results, the next run's regressions are what they would have been
    /// without pruning, a dry run removes nothing, and VACUUM gives the space back.
    #[test]
    fn pruning_keeps_the_latest_runs_and_regressions() {
        let dir = tempfile::tempdir().unwrap();
        let mut pruned = History::open(&dir.path().join("pruned")).unwrap();
        let mut kept = History::open(&dir.path().join("kept")).unwrap();
        pruned.set_retention(Retention {
            test_rows_runs: 2,
            runs: 3,
        });
        kept.set_retention(Retention {
            test_rows_runs: 1000,
            runs: 1000,
        });
        for history in [&mut pruned, &mut kept] {
            for _ in 0..6 {
                history.record(&run("unit", None, 300, &[])).unwrap();
                history.record(&run("api", None, 10, &[])).unwrap();
            }
            // A label run once, long ago, keeps its only run.
            history.record(&run("rare", None, 10, &[])).unwrap();
        }
        assert_eq!(
            count(&pruned, "SELECT COUNT(*) FROM runs WHERE label = 'unit'"),
            3
        );
        assert_eq!(
            count(&pruned, "SELECT COUNT(*) FROM runs WHERE label = 'rare'"),
            1
        );
        assert_eq!(
            count(&pruned, "SELECT COUNT(DISTINCT run_id) FROM tests WHERE run_id IN (SELECT id FROM runs WHERE label = 'unit')"),
            2
        );
        assert_eq!(
            count(
                &pruned,
                "SELECT COUNT(*) FROM results WHERE run_id NOT IN (SELECT id FROM runs)"
            ),
            0
        );
        assert_eq!(
            count(
                &pruned,
                "SELECT COUNT(*) FROM tests WHERE run_id NOT IN (SELECT id FROM runs)"
            ),
            0
        );
        // Regressions and where things stand read the same as in the unpruned history.
        for history in [&mut pruned, &mut kept] {
            let next = history.record(&run("unit", None, 300, &["a"])).unwrap();
            assert_eq!(next.regressions, ["a"]);
        }
        let standing = |history: &History| {
            history
                .latest_statuses(&[RunKind::Tests])
                .unwrap()
                .into_iter()
                .map(|l| (l.run.label, l.results))
                .collect::<Vec<_>>()
        };
        assert_eq!(standing(&pruned), standing(&kept));

        // `sdd history prune` on the unpruned one: dry, it only counts; then it removes
        // exactly that, and VACUUM shrinks the file.
        let retention = Retention {
            test_rows_runs: 2,
            runs: 3,
        };
        let dry = kept.prune(retention, true).unwrap();
        // unit: 7 runs, 3 kept; api: 6, 3 kept; rare: its one.
        assert_eq!(dry.runs, 4 + 3);
        assert_eq!(dry.results, 2 * 7);
        assert_eq!(dry.test_rows, 5 * 300 + 4 * 10);
        assert_eq!(count(&kept, "SELECT COUNT(*) FROM runs"), 14);
        let before = kept.size_on_disk();
        assert_eq!(kept.prune(retention, false).unwrap(), dry);
        assert!(kept.prune(retention, false).unwrap().is_empty());
        kept.vacuum().unwrap();
        assert!(
            kept.size_on_disk() < before,
            "{} → {}",
            before,
            kept.size_on_disk()
        );
        assert_eq!(standing(&pruned), standing(&kept));
    }

    /// A filtered latest run still carries the results of the unfiltered run before it after
    /// pruning to one run.
    #[test]
    fn a_filtered_latest_run_keeps_what_it_carries() {
        let dir = tempfile::tempdir().unwrap();
        let mut history = History::open(dir.path()).unwrap();
        history.set_retention(Retention {
            test_rows_runs: 2,
            runs: 1,
        });
        history.record(&run("unit", None, 3, &["b"])).unwrap();
        let mut filtered = run("unit", Some("a"), 1, &[]);
        filtered.results.retain(|r| r.subject == "a");
        history.record(&filtered).unwrap();
        let latest = history.latest_statuses(&[RunKind::Tests]).unwrap();
        assert_eq!(latest[0].results["b"].status, crate::SubjectStatus::Failing);
        assert_eq!(count(&history, "SELECT COUNT(*) FROM runs"), 2);
    }
}

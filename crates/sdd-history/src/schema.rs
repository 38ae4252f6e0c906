//! The history's schema as an ordered list of migrations; `migrations` applies them and keeps
//! the bookkeeping (`schema_migrations`, `PRAGMA user_version`) that says which ones a file has
//! had.

use crate::migrations::{newest, Migration};

/// Every migration, oldest first; versions count up from 1 without gaps. Never edit one that
/// has shipped: add the next.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        description: "runs, one result per subject and run, test outcomes",
        // `IF NOT EXISTS`: the SDD that wrote version 1 created these tables one statement at
        // a time, outside a transaction, so a file it left half made has some of them and
        // version 0.
        sql: "CREATE TABLE IF NOT EXISTS runs (
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
             CREATE INDEX IF NOT EXISTS tests_by_run ON tests(run_id);",
    },
    Migration {
        version: 2,
        description: "index runs by kind and label: the previous run of the same kind and label, the latest run of each",
        // Without it both queries scan every run; with it the latest run of each kind and
        // label is one index seek per pair, however long the history.
        sql: "CREATE INDEX runs_by_kind_label ON runs(kind, label, id);",
    },
    Migration {
        version: 3,
        description: "incidents and the learnings proposed from each",
        // Subjects and links are JSON lists (`json_each` filters by subject); the analysis is
        // the debugger's answer as JSON. Learnings are replaced as a set (`position` keeps
        // their order).
        sql: "CREATE TABLE incidents (
                 id INTEGER PRIMARY KEY,
                 recorded_at TEXT NOT NULL,
                 title TEXT NOT NULL,
                 started_at TEXT NOT NULL,
                 ended_at TEXT,
                 detected_at TEXT,
                 subjects TEXT NOT NULL,
                 cause TEXT,
                 resolution TEXT,
                 links TEXT NOT NULL,
                 analysis TEXT,
                 recorded_by TEXT NOT NULL
             );
             CREATE INDEX incidents_by_start ON incidents(started_at);
             CREATE TABLE incident_learnings (
                 incident_id INTEGER NOT NULL REFERENCES incidents(id),
                 position INTEGER NOT NULL,
                 proposed_at TEXT NOT NULL,
                 kind TEXT NOT NULL,
                 key TEXT NOT NULL,
                 draft TEXT NOT NULL,
                 PRIMARY KEY (incident_id, position)
             );",
    },
];

/// The schema version this SDD writes and reads.
pub const SCHEMA_VERSION: i64 = newest(MIGRATIONS);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::migrations::{current_version, migrate};
    use rusqlite::Connection;

    #[test]
    fn versions_count_up_from_one_without_gaps() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.description);
        }
    }

    /// A transaction left open by a failing migration is rolled back: the version stays where
    /// it was, and nothing of the migration is left.
    #[test]
    fn a_failing_migration_leaves_the_file_at_its_version() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = Connection::open(dir.path().join("h.sqlite3")).unwrap();
        migrate(&mut conn, MIGRATIONS, 1).unwrap();
        // Make migration 2 fail: its index name is taken.
        conn.execute_batch("CREATE TABLE runs_by_kind_label (x)")
            .unwrap();
        let failed = migrate(&mut conn, MIGRATIONS, 2).expect_err("migration 2 fails");
        assert_eq!(failed.version, 2);
        assert_eq!(current_version(&conn).unwrap(), 1);
        let recorded: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(recorded, 1);
    }
}

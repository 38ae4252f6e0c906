//! The history's schema as an ordered list of migrations, and the bookkeeping that says which
//! ones a file has had.
//!
//! Each applied migration is a row of `schema_migrations` (version, description, when), and
//! `PRAGMA user_version` follows the newest one, because SDDs from before the table read only
//! that: a file they cannot read stops them with "upgrade SDD" rather than misleading them.
//! A file with `user_version = 1` and no table was written by such an SDD; it has had
//! migration 1. Every migration runs in its own `BEGIN IMMEDIATE` transaction that first looks
//! again at the version, so two processes opening an old file at once apply it once.

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

pub(crate) struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

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
];

/// The schema version this SDD writes and reads.
pub const SCHEMA_VERSION: i64 = MIGRATIONS[MIGRATIONS.len() - 1].version;

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    -- NULL for the migration an SDD from before this table applied; it kept no time.
    applied_at TEXT
)";

/// The version of the file: the newest recorded migration, or `user_version` for a file from
/// before the table (0 for a new, empty file). The larger of the two when both are there, so a
/// newer SDD is recognised by either.
pub(crate) fn current_version(conn: &Connection) -> rusqlite::Result<i64> {
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(user_version);
    }
    let recorded: Option<i64> = conn
        .query_row("SELECT MAX(version) FROM schema_migrations", [], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    Ok(recorded.unwrap_or(0).max(user_version))
}

/// What is wrong with the migrations the file records, if anything: versions 1 to the newest
/// without a gap, and a `user_version` that is not negative. A file that fails this was not
/// written by an SDD (or was damaged since); migrating it would build on tables it may not have.
pub(crate) fn damage(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if user_version < 0 {
        return Ok(Some(format!("its user_version is {user_version}")));
    }
    let has_table: bool = conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )?;
    if !has_table {
        return Ok(None);
    }
    let mut statement = conn.prepare("SELECT version FROM schema_migrations ORDER BY version")?;
    let recorded = statement
        .query_map([], |r| r.get::<_, i64>(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    let expected: Vec<i64> = (1..=recorded.last().copied().unwrap_or(0)).collect();
    if recorded != expected {
        let list = |v: &[i64]| v.iter().map(i64::to_string).collect::<Vec<_>>().join(", ");
        return Ok(Some(format!(
            "schema_migrations records versions [{}], not 1 to the newest without a gap",
            list(&recorded)
        )));
    }
    Ok(None)
}

/// A migration that could not be applied, and why.
#[derive(Debug)]
pub(crate) struct Failed {
    pub version: i64,
    pub source: rusqlite::Error,
}

/// Apply every migration above the file's version up to `target`, each in its own immediate
/// transaction. The caller has checked that the file is not newer than this SDD.
pub(crate) fn migrate(conn: &mut Connection, target: i64) -> Result<(), Failed> {
    // An up-to-date file is only read: opening it takes no write lock, so it opens while
    // another process records a run, and it opens when it may be read but not written.
    let current = current_version(conn).map_err(|source| Failed {
        version: target,
        source,
    })?;
    if current >= target {
        return Ok(());
    }
    for migration in MIGRATIONS.iter().filter(|m| m.version <= target) {
        let failed = |source| Failed {
            version: migration.version,
            source,
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(failed)?;
        // Looked at again under the write lock: another process may have just applied it.
        let current = current_version(&tx).map_err(failed)?;
        if migration.version <= current {
            continue;
        }
        tx.execute_batch(CREATE_TABLE).map_err(failed)?;
        // A file from before the table has had every migration up to its user_version.
        for earlier in MIGRATIONS.iter().filter(|m| m.version <= current) {
            tx.execute(
                "INSERT OR IGNORE INTO schema_migrations (version, description, applied_at) VALUES (?1, ?2, NULL)",
                params![earlier.version, earlier.description],
            )
            .map_err(failed)?;
        }
        tx.execute_batch(migration.sql).map_err(failed)?;
        tx.execute(
            "INSERT INTO schema_migrations (version, description, applied_at)
             VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))",
            params![migration.version, migration.description],
        )
        .map_err(failed)?;
        // user_version is part of the transaction: it moves with the migration or not at all.
        tx.pragma_update(None, "user_version", migration.version)
            .map_err(failed)?;
        tx.commit().map_err(failed)?;
        tracing::info!(
            version = migration.version,
            description = migration.description,
            "run history migrated"
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

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
        migrate(&mut conn, 1).unwrap();
        // Make migration 2 fail: its index name is taken.
        conn.execute_batch("CREATE TABLE runs_by_kind_label (x)")
            .unwrap();
        let failed = migrate(&mut conn, 2).expect_err("migration 2 fails");
        assert_eq!(failed.version, 2);
        assert_eq!(current_version(&conn).unwrap(), 1);
        let recorded: i64 = conn
            .query_row("SELECT COUNT(*) FROM schema_migrations", [], |r| r.get(0))
            .unwrap();
        assert_eq!(recorded, 1);
    }
}

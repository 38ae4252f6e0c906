//! How SDD opens one of its SQLite files and moves its schema forward: ordered migrations, the
//! bookkeeping that says which ones a file has had, and the checks that come before any write.
//! The run history (`schema::MIGRATIONS`) and the metric store (`sdd-metrics`) each pass their
//! own list; the rules are one.
//!
//! Each applied migration is a row of `schema_migrations` (version, description, when), and
//! `PRAGMA user_version` follows the newest one, because SDDs from before the table read only
//! that: a file they cannot read stops them with "upgrade SDD" rather than misleading them.
//! A file with `user_version = 1` and no table was written by such an SDD; it has had
//! migration 1. Every migration runs in its own `BEGIN IMMEDIATE` transaction that first looks
//! again at the version, so two processes opening an old file at once apply it once.
//!
//! [`open`] reads before it writes: a file written by a newer SDD is recognised on a read-only
//! connection (a read-write one would checkpoint the newer SDD's write-ahead log into it when
//! it closes), and a file whose recorded migrations have gaps is reported as damaged; neither
//! is changed by a byte.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

/// One step of a schema. Versions count up from 1 without gaps; one that has shipped is never
/// edited: add the next.
pub struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// The newest version in `migrations`: the schema a file has once they are all applied.
pub const fn newest(migrations: &[Migration]) -> i64 {
    match migrations.last() {
        Some(m) => m.version,
        None => 0,
    }
}

const CREATE_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    -- NULL for the migration an SDD from before this table applied; it kept no time.
    applied_at TEXT
)";

/// The version of the file: the newest recorded migration, or `user_version` for a file from
/// before the table (0 for a new, empty file). The larger of the two when both are there, so a
/// newer SDD is recognised by either.
pub fn current_version(conn: &Connection) -> rusqlite::Result<i64> {
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if !has_table(conn)? {
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

fn has_table(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations')",
        [],
        |r| r.get(0),
    )
}

/// What is wrong with the migrations the file records, if anything: versions 1 to the newest
/// without a gap, and a `user_version` that is not negative. A file that fails this was not
/// written by an SDD (or was damaged since); migrating it would build on tables it may not have.
pub fn damage(conn: &Connection) -> rusqlite::Result<Option<String>> {
    let user_version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if user_version < 0 {
        return Ok(Some(format!("its user_version is {user_version}")));
    }
    if !has_table(conn)? {
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
pub struct Failed {
    pub version: i64,
    pub source: rusqlite::Error,
}

/// Apply every migration of `migrations` above the file's version up to `target`, each in its
/// own immediate transaction. The caller has checked that the file is not newer than
/// `migrations` know.
pub fn migrate(conn: &mut Connection, migrations: &[Migration], target: i64) -> Result<(), Failed> {
    // An up-to-date file is only read: opening it takes no write lock, so it opens while
    // another process writes, and it opens when it may be read but not written.
    let current = current_version(conn).map_err(|source| Failed {
        version: target,
        source,
    })?;
    if current >= target {
        return Ok(());
    }
    for migration in migrations.iter().filter(|m| m.version <= target) {
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
        for earlier in migrations.iter().filter(|m| m.version <= current) {
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
            "schema migrated"
        );
    }
    Ok(())
}

/// Why [`open`] gave no connection. The caller names the file and says what to do.
#[derive(Debug)]
pub enum OpenError {
    /// SQLite could not open or read the file (not a database, no permission, …).
    Sql(rusqlite::Error),
    /// A newer SDD wrote it: it has schema `found`, newer than the migrations given.
    Newer { found: i64 },
    /// Its recorded migrations are not 1 to the newest without a gap.
    Damaged { problem: String },
    /// A migration failed; the file stays at the version before it.
    Migration(Failed),
}

/// Open (creating if needed) the SQLite file at `path` and bring its schema up to `target`
/// (at most [`newest`]`(migrations)`), in write-ahead-log mode with `busy_timeout`: read first,
/// so a newer or damaged file is refused and left byte for byte as it was.
pub fn open(
    path: &Path,
    migrations: &[Migration],
    target: i64,
    busy_timeout: Duration,
) -> Result<Connection, OpenError> {
    let supported = newest(migrations);
    refuse_newer_read_only(path, supported, busy_timeout)?;
    let mut conn = Connection::open(path).map_err(OpenError::Sql)?;
    // Another server or `sdd` may write at the same time.
    conn.busy_timeout(busy_timeout).map_err(OpenError::Sql)?;
    // Read before anything is written: a file this SDD cannot read stays as it is.
    let found = current_version(&conn).map_err(OpenError::Sql)?;
    if found > supported {
        return Err(OpenError::Newer { found });
    }
    if let Some(problem) = damage(&conn).map_err(OpenError::Sql)? {
        return Err(OpenError::Damaged { problem });
    }
    use_wal(&conn, busy_timeout).map_err(OpenError::Sql)?;
    migrate(&mut conn, migrations, target).map_err(OpenError::Migration)?;
    Ok(conn)
}

/// Refuse a file written by a newer SDD, reading its version without writing anything. A file
/// that cannot be opened read-only (none yet, say) is left to the read-write open, which says
/// what is wrong with it.
fn refuse_newer_read_only(
    path: &Path,
    supported: i64,
    busy_timeout: Duration,
) -> Result<(), OpenError> {
    if !path.is_file() {
        return Ok(());
    }
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let Ok(conn) = Connection::open_with_flags(path, flags) else {
        return Ok(());
    };
    let _ = conn.busy_timeout(busy_timeout);
    match current_version(&conn) {
        Ok(found) if found > supported => Err(OpenError::Newer { found }),
        _ => Ok(()),
    }
}

/// Readers never wait for a writer, nor a writer for readers. The mode is kept in the file;
/// set on every open to turn it on for a new one (a no-op after that).
fn use_wal(conn: &Connection, busy_timeout: Duration) -> rusqlite::Result<()> {
    // SQLite does not call the busy handler while it switches a file to WAL, so a second
    // process opening a new file at the same moment gets "database is locked" at once; wait
    // for the first as the busy timeout would.
    let deadline = Instant::now() + busy_timeout;
    loop {
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
            Ok(mode) => {
                if !mode.eq_ignore_ascii_case("wal") {
                    // A file system without shared memory, say: still usable, one writer at
                    // a time.
                    tracing::warn!(mode, "an SQLite file could not use WAL");
                }
                return Ok(());
            }
            Err(e)
                if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy)
                    && Instant::now() < deadline =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(e) => return Err(e),
        }
    }
}

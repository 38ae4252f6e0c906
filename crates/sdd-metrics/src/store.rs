//! The embedded metric store: one SQLite file, `.sdd/metrics.sqlite3` under the project root.
//!
//! A file of its own, not tables in the run history: a scrape every few seconds is a write
//! transaction every few seconds, and the history's writers (test runs, verifications) must
//! never wait behind it, nor it behind them.
//!
//! Layout (schema version 1), chosen by measurement (`benches/store.rs` prints the
//! alternatives). One row per sample keyed `(series, time)` — the obvious layout — failed both
//! goals: a scrape of 1,000 series dirtied one B-tree leaf per series, ~1,000 pages written per
//! commit (27k samples/s), and SQLite's ~50 ns per row step put a million-sample read at
//! ~100 ms before any arithmetic. So, as time-series databases do:
//!
//! - `head`: samples as they arrive, keyed `(timestamp_ms, series_id)` in a `WITHOUT ROWID`
//!   table, so a scrape's samples (one time, many series) are neighbours and a commit writes a
//!   few pages. NULL is NaN (SQLite keeps no NaN).
//! - `chunks`: per series, runs of up to [`CHUNK_SAMPLES`] samples in time order packed into a
//!   blob (`chunk`), keyed `(series_id, first_ms)`; a series' chunks never overlap. Compaction
//!   moves the head into chunks once [`HEAD_ROWS`] samples were added through a connection
//!   (appending to a series' last chunk while it has room, merging a late sample into the chunk
//!   whose time it falls in), in the same transaction as the ingest that crossed the line, and
//!   counts itself in `meta` so other connections drop what they cached about chunks.
//! - `series` (id, metric name, canonical label text — see [`Sample::labels`]) and `families`
//!   (what `# TYPE`, `# UNIT`, `# HELP` said).
//!
//! A read of a window is one snapshot (a read transaction): the chunks that overlap it, decoded,
//! merged with the head's samples of the series in it.
//!
//! Invariants: nothing stored is lost or changed — a sample already stored for a series and
//! millisecond, in the head or in a chunk, is kept, and the same one offered again counts as a
//! duplicate (which is what makes an import idempotent); compaction moves samples and never
//! drops one; series are never deleted, so their ids never change; the file is opened by
//! `sdd_history::migrations` under the history's rules — a file written by a newer SDD is
//! refused on a read-only connection and left byte for byte as it was, a damaged one is
//! reported and never replaced, the schema moves forward only through [`MIGRATIONS`]; WAL and a
//! busy timeout let a scraper, an import and readers share the file; every ingest is one
//! immediate transaction: all of a batch lands, or none of it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, Transaction, TransactionBehavior};
use sdd_history::migrations::{self, newest, Migration, OpenError};

use crate::chunk::{self, CHUNK_SAMPLES};
use crate::exposition::{canonical_labels, family_of, split_labels, Family, MetricType, Sample};
use crate::summary::{self, Bucket, Point, StartBound, Summary, Window};

/// Where the store lives, relative to the project root.
pub const METRICS_FILE: &str = ".sdd/metrics.sqlite3";

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Page cache per connection (SQLite's unit: negative is KiB). A compaction rewrites the last
/// chunk of every series it moves samples into; with SQLite's default 2 MiB, a thousand series'
/// chunks (and the head they come from) no longer fit, and each compaction reads them again.
const CACHE_KIB: i64 = 64 * 1024;

/// Series ids kept in memory to skip a lookup per sample; past this the map starts over.
const MAX_CACHED_SERIES: usize = 1_000_000;

/// Samples added to the head through one connection before it compacts the head into chunks.
/// A read scans the head's rows in its window across all series, so the head is kept small;
/// compacting more often would rewrite each series' last chunk more often.
pub const HEAD_ROWS: usize = 100_000;

/// The store's schema, oldest first. Never edit one that has shipped: add the next.
pub const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "series, samples (one per series and millisecond), family metadata",
    sql: "CREATE TABLE series (
             id INTEGER PRIMARY KEY,
             name TEXT NOT NULL,
             -- Canonical label text: sorted name=\"value\" pairs joined by commas.
             labels TEXT NOT NULL,
             UNIQUE (name, labels)
         );
         -- Samples as they arrive, in time order, until compaction moves them into chunks.
         CREATE TABLE head (
             timestamp_ms INTEGER NOT NULL,
             series_id INTEGER NOT NULL REFERENCES series(id),
             -- NULL is NaN: SQLite stores no NaN.
             value REAL,
             PRIMARY KEY (timestamp_ms, series_id)
         ) WITHOUT ROWID;
         -- Runs of one series' samples in time order (see chunk.rs); never overlapping.
         CREATE TABLE chunks (
             series_id INTEGER NOT NULL REFERENCES series(id),
             first_ms INTEGER NOT NULL,
             last_ms INTEGER NOT NULL,
             count INTEGER NOT NULL,
             data BLOB NOT NULL,
             PRIMARY KEY (series_id, first_ms)
         ) WITHOUT ROWID;
         CREATE TABLE families (
             name TEXT PRIMARY KEY,
             type TEXT NOT NULL,
             unit TEXT,
             help TEXT
         ) WITHOUT ROWID;
         -- compactions: how many times the head was moved into chunks.
         CREATE TABLE meta (
             key TEXT PRIMARY KEY,
             value INTEGER NOT NULL
         ) WITHOUT ROWID;
         INSERT INTO meta (key, value) VALUES ('compactions', 0);",
}];

/// The schema version this SDD writes and reads.
pub const SCHEMA_VERSION: i64 = newest(MIGRATIONS);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create {0}: {1}")]
    CreateDir(PathBuf, std::io::Error),
    #[error("the metric store {path} is busy: another process (another `sdd monitor` or `sdd metrics import`?) held it longer than the wait allows ({source}); nothing was lost — try again, or let one process write at a time")]
    Busy {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the metric store {path} cannot be used: {source}. Move the file away to start a new store; SDD never deletes it")]
    Database {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("the metric store {path} was written by a newer SDD (schema {found}; this SDD reads schema {SCHEMA_VERSION} and older); upgrade SDD to read it. The file was left as it was")]
    NewerSchema { path: PathBuf, found: i64 },
    #[error("the metric store {path} could not be brought to schema {version}: {source}. The file was left at the schema it had; move it away to start a new store")]
    Migration {
        path: PathBuf,
        version: i64,
        source: rusqlite::Error,
    },
    #[error("the metric store {path} is damaged: {problem}. SDD left it as it was; move it away to start a new store")]
    Damaged { path: PathBuf, problem: String },
    #[error("the metric store {path} has a damaged chunk (series {series}, from {first_ms} ms): {problem}. SDD left it as it was; move the file away to start a new store")]
    DamagedChunk {
        path: PathBuf,
        series: SeriesId,
        first_ms: i64,
        problem: String,
    },
    #[error("the metric store {path} says family `{family}` is of type `{word}`, which this SDD does not know; upgrade SDD to read it")]
    UnknownType {
        path: PathBuf,
        family: String,
        word: String,
    },
}

/// A series' id in the store; stable for the life of the file.
pub type SeriesId = i64;

/// A series as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeriesInfo {
    pub id: SeriesId,
    pub name: String,
    /// Canonical label text.
    pub labels: String,
}

/// What one ingest did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IngestReport {
    /// Samples newly stored.
    pub inserted: usize,
    /// Samples already stored for their series and millisecond (kept as they were).
    pub duplicates: usize,
    /// Series created by this ingest.
    pub new_series: usize,
    /// Every series the batch had a sample of.
    pub series: HashSet<SeriesId>,
}

pub struct MetricStore {
    conn: Connection,
    path: PathBuf,
    /// name → canonical labels → id, for series known to exist.
    series_ids: HashMap<String, HashMap<String, SeriesId>>,
    cached_series: usize,
    /// Families as last written by this connection, so an unchanged one is not written again.
    families: HashMap<String, Family>,
    chunks: ChunkCache,
    /// Samples this connection added to the head since it last compacted.
    head_rows: usize,
    head_limit: usize,
}

/// What a connection knows about the chunks, valid while `meta.compactions` is `generation`.
#[derive(Default)]
struct ChunkCache {
    generation: i64,
    /// Each series' newest chunked time (`None`: no chunk yet).
    chunked_until: HashMap<SeriesId, Option<i64>>,
    /// The chunk last looked into, for the next membership check.
    recent: Option<RecentChunk>,
}

struct RecentChunk {
    series: SeriesId,
    first_ms: i64,
    last_ms: i64,
    timestamps: Vec<i64>,
}

/// What went wrong inside a transaction, before it is said which file.
enum Fault {
    Sql(rusqlite::Error),
    Chunk {
        series: SeriesId,
        first_ms: i64,
        problem: String,
    },
}

impl From<rusqlite::Error> for Fault {
    fn from(e: rusqlite::Error) -> Fault {
        Fault::Sql(e)
    }
}

impl MetricStore {
    /// Open (creating if needed) the store of the project at `root`.
    pub fn open(root: &Path) -> Result<MetricStore, StoreError> {
        let path = root.join(METRICS_FILE);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::CreateDir(dir.into(), e))?;
        }
        Self::open_at(&path)
    }

    /// Open (creating if needed) the store at `path`, bringing its schema up to this SDD's.
    pub fn open_at(path: &Path) -> Result<MetricStore, StoreError> {
        let conn =
            migrations::open(path, MIGRATIONS, SCHEMA_VERSION, BUSY_TIMEOUT).map_err(|e| {
                let path = path.to_path_buf();
                match e {
                    OpenError::Sql(source) => StoreError::Database { path, source },
                    OpenError::Newer { found } => StoreError::NewerSchema { path, found },
                    OpenError::Damaged { problem } => StoreError::Damaged { path, problem },
                    OpenError::Migration(failed) => StoreError::Migration {
                        path,
                        version: failed.version,
                        source: failed.source,
                    },
                }
            })?;
        let store = MetricStore {
            conn,
            path: path.to_path_buf(),
            series_ids: HashMap::new(),
            cached_series: 0,
            families: HashMap::new(),
            chunks: ChunkCache::default(),
            head_rows: 0,
            head_limit: HEAD_ROWS,
        };
        store
            .conn
            .pragma_update(None, "cache_size", -CACHE_KIB)
            .map_err(|e| store.db(e))?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        migrations::current_version(&self.conn).map_err(|e| self.db(e))
    }

    fn db(&self, source: rusqlite::Error) -> StoreError {
        // A lock held too long is another writer, not a damaged file: never advise moving it.
        let busy = matches!(
            source.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        );
        let path = self.path.clone();
        if busy {
            StoreError::Busy { path, source }
        } else {
            StoreError::Database { path, source }
        }
    }

    fn fault(&self, fault: Fault) -> StoreError {
        match fault {
            Fault::Sql(source) => self.db(source),
            Fault::Chunk {
                series,
                first_ms,
                problem,
            } => StoreError::DamagedChunk {
                path: self.path.clone(),
                series,
                first_ms,
                problem,
            },
        }
    }

    /// Store `samples` and what `families` say, in one immediate transaction. A sample for a
    /// series and millisecond already stored is a duplicate: the stored one is kept.
    pub fn ingest(
        &mut self,
        samples: &[Sample],
        families: &[Family],
    ) -> Result<IngestReport, StoreError> {
        let result = self.ingest_in_transaction(samples, families);
        if result.is_err() {
            // What the rolled-back transaction created or moved is not in the file.
            self.series_ids.clear();
            self.cached_series = 0;
            self.families.clear();
            self.chunks = ChunkCache::default();
        }
        result.map_err(|fault| self.fault(fault))
    }

    /// Move every sample of the head into chunks now (ingest does it every [`HEAD_ROWS`]
    /// samples); returns how many were moved.
    pub fn compact(&mut self) -> Result<usize, StoreError> {
        let result = (|| -> Result<usize, Fault> {
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let moved = compact_head(&tx)?;
            tx.commit()?;
            Ok(moved)
        })();
        self.chunks = ChunkCache::default();
        self.head_rows = 0;
        result.map_err(|fault| self.fault(fault))
    }

    fn ingest_in_transaction(
        &mut self,
        samples: &[Sample],
        families: &[Family],
    ) -> Result<IngestReport, Fault> {
        let MetricStore {
            conn,
            series_ids,
            cached_series,
            families: written_families,
            chunks,
            head_rows,
            head_limit,
            ..
        } = self;
        let mut report = IngestReport::default();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        // Another connection may have compacted since: what was cached about chunks is stale.
        let generation: i64 = tx.query_row(
            "SELECT value FROM meta WHERE key = 'compactions'",
            [],
            |r| r.get(0),
        )?;
        if generation != chunks.generation {
            *chunks = ChunkCache {
                generation,
                ..ChunkCache::default()
            };
        }
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO families (name, type, unit, help) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET type = excluded.type,
                     unit = COALESCE(excluded.unit, unit), help = COALESCE(excluded.help, help)",
            )?;
            for family in families {
                if written_families.get(&family.name) == Some(family) {
                    continue;
                }
                upsert.execute(params![
                    family.name,
                    family.kind.as_str(),
                    family.unit,
                    family.help
                ])?;
                written_families.insert(family.name.clone(), family.clone());
            }
            let mut find =
                tx.prepare_cached("SELECT id FROM series WHERE name = ?1 AND labels = ?2")?;
            let mut create =
                tx.prepare_cached("INSERT INTO series (name, labels) VALUES (?1, ?2)")?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO head (timestamp_ms, series_id, value) VALUES (?1, ?2, ?3)",
            )?;
            // First each sample's series (consecutive samples are often of one series — an
            // import's runs — so it is looked up once per run) and whether a chunk holds it,
            // in the batch's order, which keeps those lookups on one series at a time.
            let mut rows: Vec<(i64, SeriesId, Option<f64>)> = Vec::with_capacity(samples.len());
            let mut previous: Option<(&str, &str, SeriesId)> = None;
            for sample in samples {
                let id = match previous {
                    Some((name, labels, id)) if name == sample.name && labels == sample.labels => {
                        id
                    }
                    _ => {
                        let cached = series_ids
                            .get(&sample.name)
                            .and_then(|by_labels| by_labels.get(&sample.labels))
                            .copied();
                        let id = match cached {
                            Some(id) => id,
                            None => {
                                let found: Option<SeriesId> = find
                                    .query_row(params![sample.name, sample.labels], |r| r.get(0))
                                    .optional()?;
                                let id = match found {
                                    Some(id) => id,
                                    None => {
                                        create.execute(params![sample.name, sample.labels])?;
                                        report.new_series += 1;
                                        tx.last_insert_rowid()
                                    }
                                };
                                if *cached_series >= MAX_CACHED_SERIES {
                                    series_ids.clear();
                                    *cached_series = 0;
                                }
                                series_ids
                                    .entry(sample.name.clone())
                                    .or_default()
                                    .insert(sample.labels.clone(), id);
                                *cached_series += 1;
                                id
                            }
                        };
                        previous = Some((&sample.name, &sample.labels, id));
                        report.series.insert(id);
                        id
                    }
                };
                if chunks.holds(&tx, id, sample.timestamp_ms)? {
                    report.duplicates += 1;
                    continue;
                }
                rows.push((
                    sample.timestamp_ms,
                    id,
                    (!sample.value.is_nan()).then_some(sample.value),
                ));
            }
            // Then into the head in its key order: a file written series by series would
            // otherwise insert all over the head's B-tree. Stable, so of two samples for one
            // series and millisecond in a batch the first is the one kept.
            if !rows.is_sorted_by_key(|&(t, id, _)| (t, id)) {
                rows.sort_by_key(|&(t, id, _)| (t, id));
            }
            for (timestamp_ms, id, value) in rows {
                if insert.execute(params![timestamp_ms, id, value])? == 1 {
                    report.inserted += 1;
                } else {
                    report.duplicates += 1;
                }
            }
        }
        *head_rows += report.inserted;
        let compact = *head_rows >= *head_limit;
        if compact {
            compact_head(&tx)?;
        }
        tx.commit()?;
        if compact {
            *head_rows = 0;
            // The chunks moved on (and the counter with them).
            *chunks = ChunkCache::default();
        }
        Ok(report)
    }

    /// The series of metric `name` (a sample name: `http_requests_total`, `latency_bucket`).
    pub fn series_named(&self, name: &str) -> Result<Vec<SeriesInfo>, StoreError> {
        let read = || -> rusqlite::Result<Vec<SeriesInfo>> {
            let mut statement = self.conn.prepare_cached(
                "SELECT id, name, labels FROM series WHERE name = ?1 ORDER BY labels",
            )?;
            let rows = statement.query_map([name], |r| {
                Ok(SeriesInfo {
                    id: r.get(0)?,
                    name: r.get(1)?,
                    labels: r.get(2)?,
                })
            })?;
            rows.collect()
        };
        read().map_err(|e| self.db(e))
    }

    /// The id of the series `name{labels}` (labels as pairs, in any order), if stored.
    pub fn find_series<'a>(
        &self,
        name: &str,
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<Option<SeriesId>, StoreError> {
        let labels = canonical_labels(labels);
        self.conn
            .query_row(
                "SELECT id FROM series WHERE name = ?1 AND labels = ?2",
                params![name, labels],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.db(e))
    }

    /// Every metric name stored, with how many series it has.
    pub fn metric_names(&self) -> Result<Vec<(String, usize)>, StoreError> {
        let read = || -> rusqlite::Result<Vec<(String, usize)>> {
            let mut statement = self
                .conn
                .prepare("SELECT name, COUNT(*) FROM series GROUP BY name ORDER BY name")?;
            let rows =
                statement.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as usize)))?;
            rows.collect()
        };
        read().map_err(|e| self.db(e))
    }

    /// The families stored, by name.
    pub fn families(&self) -> Result<Vec<Family>, StoreError> {
        let db = |e| self.db(e);
        let mut statement = self
            .conn
            .prepare("SELECT name, type, unit, help FROM families ORDER BY name")
            .map_err(db)?;
        let mut rows = statement.query([]).map_err(db)?;
        let mut families = Vec::new();
        while let Some(row) = rows.next().map_err(db)? {
            let name: String = row.get(0).map_err(db)?;
            let word: String = row.get(1).map_err(db)?;
            let Some(kind) = MetricType::from_word(&word) else {
                return Err(StoreError::UnknownType {
                    path: self.path.clone(),
                    family: name,
                    word,
                });
            };
            families.push(Family {
                name,
                kind,
                unit: row.get(2).map_err(db)?,
                help: row.get(3).map_err(db)?,
            });
        }
        Ok(families)
    }

    fn declared_type(&self, family: &str) -> Result<Option<MetricType>, StoreError> {
        let word: Option<String> = self
            .conn
            .query_row("SELECT type FROM families WHERE name = ?1", [family], |r| {
                r.get(0)
            })
            .optional()
            .map_err(|e| self.db(e))?;
        match word {
            None => Ok(None),
            Some(word) => match MetricType::from_word(&word) {
                Some(kind) => Ok(Some(kind)),
                None => Err(StoreError::UnknownType {
                    path: self.path.clone(),
                    family: family.to_string(),
                    word,
                }),
            },
        }
    }

    /// Whether the series of this sample name only goes up between resets — what `rate` is
    /// for: a counter's samples, a histogram's buckets, count and sum, a summary's count and sum,
    /// and (by the naming convention) an untyped `…_total`. Never `…_created`.
    pub fn is_counter(&self, name: &str) -> Result<bool, StoreError> {
        // Every name `family_of` may ask about, looked up first (it takes an infallible lookup).
        let mut known: Vec<(&str, Option<MetricType>)> = Vec::new();
        for suffix in [
            "", "_total", "_created", "_bucket", "_count", "_sum", "_gcount", "_gsum", "_info",
        ] {
            if let Some(base) = name.strip_suffix(suffix) {
                known.push((base, self.declared_type(base)?));
            }
        }
        let declared = |n: &str| {
            known
                .iter()
                .find(|(k, _)| *k == n)
                .and_then(|(_, kind)| *kind)
        };
        let (family, kind) = family_of(name, declared);
        Ok(match kind {
            MetricType::Counter => !name.ends_with("_created"),
            MetricType::Histogram | MetricType::Summary => {
                name != family && !name.ends_with("_created")
            }
            MetricType::Unknown => name.ends_with("_total"),
            _ => false,
        })
    }

    /// The points of a series inside `window`, in time order: one snapshot of its chunks and
    /// the head.
    pub fn points(&self, series: SeriesId, window: Window) -> Result<Vec<Point>, StoreError> {
        Ok(self
            .points_of_many(&[series], window)?
            .pop()
            .unwrap_or_default())
    }

    /// The points of each of `series` inside `window` (in their order), from one snapshot:
    /// each series' chunks, and one pass over the head's window for all of them — the head is
    /// keyed by time, so a read per series would scan the window once per series.
    pub fn points_of_many(
        &self,
        series: &[SeriesId],
        window: Window,
    ) -> Result<Vec<Vec<Point>>, StoreError> {
        let head_sql = match window.start {
            StartBound::Excluded => {
                "SELECT series_id, timestamp_ms, value FROM head
                 WHERE timestamp_ms > ?1 AND timestamp_ms <= ?2
                 ORDER BY timestamp_ms"
            }
            StartBound::Included => {
                "SELECT series_id, timestamp_ms, value FROM head
                 WHERE timestamp_ms >= ?1 AND timestamp_ms <= ?2
                 ORDER BY timestamp_ms"
            }
        };
        let one_head_sql = match window.start {
            StartBound::Excluded => {
                "SELECT series_id, timestamp_ms, value FROM head
                 WHERE timestamp_ms > ?1 AND timestamp_ms <= ?2 AND series_id = ?3
                 ORDER BY timestamp_ms"
            }
            StartBound::Included => {
                "SELECT series_id, timestamp_ms, value FROM head
                 WHERE timestamp_ms >= ?1 AND timestamp_ms <= ?2 AND series_id = ?3
                 ORDER BY timestamp_ms"
            }
        };
        let read = || -> Result<Vec<Vec<Point>>, Fault> {
            // A read transaction: a compaction elsewhere cannot move samples between the reads.
            let tx = self.conn.unchecked_transaction()?;
            let mut chunked: Vec<Vec<Point>> = Vec::with_capacity(series.len());
            {
                // From the chunk that holds the window's start (the newest starting at or before
                // it), to the last starting inside the window.
                let mut statement = tx.prepare_cached(
                    "SELECT first_ms, count, data FROM chunks
                     WHERE series_id = ?1 AND first_ms <= ?3 AND first_ms >= COALESCE(
                         (SELECT MAX(first_ms) FROM chunks WHERE series_id = ?1 AND first_ms <= ?2),
                         ?2)
                     ORDER BY first_ms",
                )?;
                let mut decoded = Vec::with_capacity(CHUNK_SAMPLES);
                for &id in series {
                    let mut points = Vec::new();
                    let mut rows = statement.query(params![id, window.start_ms, window.end_ms])?;
                    while let Some(row) = rows.next()? {
                        let first_ms: i64 = row.get(0)?;
                        let count: i64 = row.get(1)?;
                        let data = row
                            .get_ref(2)?
                            .as_blob()
                            .map_err(|e| Fault::Sql(e.into()))?;
                        decoded.clear();
                        chunk::decode(first_ms, count.max(0) as usize, data, &mut decoded)
                            .map_err(|problem| Fault::Chunk {
                                series: id,
                                first_ms,
                                problem,
                            })?;
                        points.extend(decoded.iter().filter(|p| window.contains(p.timestamp_ms)));
                    }
                    chunked.push(points);
                }
            }
            let mut head: Vec<Vec<Point>> = vec![Vec::new(); series.len()];
            {
                // One series: its own rows by the index. Several: the window's rows once.
                let wanted: HashMap<SeriesId, usize> =
                    series.iter().enumerate().map(|(i, &id)| (id, i)).collect();
                let mut statement;
                let mut rows = if series.len() == 1 {
                    statement = tx.prepare_cached(one_head_sql)?;
                    statement.query(params![window.start_ms, window.end_ms, series[0]])?
                } else {
                    statement = tx.prepare_cached(head_sql)?;
                    statement.query(params![window.start_ms, window.end_ms])?
                };
                while let Some(row) = rows.next()? {
                    let id: SeriesId = row.get(0)?;
                    if let Some(&i) = wanted.get(&id) {
                        head[i].push(Point {
                            timestamp_ms: row.get(1)?,
                            value: row.get::<_, Option<f64>>(2)?.unwrap_or(f64::NAN),
                        });
                    }
                }
            }
            Ok(chunked
                .into_iter()
                .zip(head)
                .map(|(chunked, head)| merge(chunked, head))
                .collect())
        };
        read().map_err(|fault| self.fault(fault))
    }

    /// The summary of one series over `window` (`None` if it has no sample there); rate and
    /// increase when [`is_counter`](Self::is_counter) says it is one.
    pub fn summarize(
        &self,
        series: &SeriesInfo,
        window: Window,
    ) -> Result<Option<Summary>, StoreError> {
        let points = self.points(series.id, window)?;
        let counter = self.is_counter(&series.name)?;
        Ok(summary::summarize(&points, window, counter))
    }

    /// The buckets of histogram `bucket_name` (`…_bucket`) whose labels other than `le` are
    /// `labels`, each counting what it gained over `window` (its `increase`, as
    /// `histogram_quantile(q, rate(x_bucket[w]))` uses). A bucket with fewer than two samples in
    /// the window has no increase and is left out, as PromQL leaves it out.
    pub fn histogram_buckets<'a>(
        &self,
        bucket_name: &str,
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
        window: Window,
    ) -> Result<Vec<Bucket>, StoreError> {
        let wanted = canonical_labels(labels);
        let mut buckets = Vec::new();
        for series in self.series_named(bucket_name)? {
            let pairs = split_labels(&series.labels);
            let Some(le) = pairs.iter().find(|(n, _)| n == "le") else {
                continue;
            };
            let Ok(upper_bound) = le.1.parse::<f64>() else {
                continue;
            };
            let others = canonical_labels(
                pairs
                    .iter()
                    .filter(|(n, _)| n != "le")
                    .map(|(n, v)| (n.as_str(), v.as_str())),
            );
            if others != wanted {
                continue;
            }
            let points = self.points(series.id, window)?;
            if let Some(count) = summary::increase(&points, window) {
                buckets.push(Bucket { upper_bound, count });
            }
        }
        Ok(buckets)
    }
}

impl ChunkCache {
    /// Whether series `id` has a sample at `timestamp_ms` in a chunk. Only a time at or before
    /// the series' newest chunked time can be; for a scrape's new samples that is one cached
    /// comparison.
    fn holds(&mut self, tx: &Transaction, id: SeriesId, timestamp_ms: i64) -> Result<bool, Fault> {
        let until = match self.chunked_until.get(&id) {
            Some(&until) => until,
            None => {
                let until: Option<i64> = tx
                    .prepare_cached(
                        "SELECT last_ms FROM chunks WHERE series_id = ?1 ORDER BY first_ms DESC LIMIT 1",
                    )?
                    .query_row([id], |r| r.get(0))
                    .optional()?;
                self.chunked_until.insert(id, until);
                until
            }
        };
        if until.is_none_or(|until| timestamp_ms > until) {
            return Ok(false);
        }
        if let Some(recent) = &self.recent {
            if recent.series == id
                && recent.first_ms <= timestamp_ms
                && timestamp_ms <= recent.last_ms
            {
                return Ok(recent.timestamps.binary_search(&timestamp_ms).is_ok());
            }
        }
        let found: Option<(i64, i64, i64, Vec<u8>)> = tx
            .prepare_cached(
                "SELECT first_ms, last_ms, count, data FROM chunks
                 WHERE series_id = ?1 AND first_ms <= ?2 ORDER BY first_ms DESC LIMIT 1",
            )?
            .query_row(params![id, timestamp_ms], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        let Some((first_ms, last_ms, count, data)) = found else {
            return Ok(false);
        };
        if timestamp_ms > last_ms {
            // In the gap after this chunk.
            return Ok(false);
        }
        let timestamps =
            chunk::timestamps(first_ms, count.max(0) as usize, &data).map_err(|problem| {
                Fault::Chunk {
                    series: id,
                    first_ms,
                    problem,
                }
            })?;
        let held = timestamps.binary_search(&timestamp_ms).is_ok();
        self.recent = Some(RecentChunk {
            series: id,
            first_ms,
            last_ms,
            timestamps,
        });
        Ok(held)
    }
}

/// Two runs of points in time order as one. The same time in both cannot happen (ingest
/// refuses a second sample for a stored time); were it there, the chunk's is kept.
fn merge(chunked: Vec<Point>, head: Vec<Point>) -> Vec<Point> {
    if head.is_empty() {
        return chunked;
    }
    if chunked
        .last()
        .is_none_or(|last| last.timestamp_ms < head[0].timestamp_ms)
    {
        let mut all = chunked;
        all.extend(head);
        return all;
    }
    let mut all = Vec::with_capacity(chunked.len() + head.len());
    let (mut a, mut b) = (chunked.into_iter().peekable(), head.into_iter().peekable());
    loop {
        let take_a = match (a.peek(), b.peek()) {
            (Some(x), Some(y)) if x.timestamp_ms == y.timestamp_ms => {
                b.next();
                true
            }
            (Some(x), Some(y)) => x.timestamp_ms < y.timestamp_ms,
            (Some(_), None) => true,
            (None, Some(_)) => false,
            (None, None) => break,
        };
        let next = if take_a { a.next() } else { b.next() };
        all.extend(next);
    }
    all
}

/// Move every sample of the head into its series' chunks, inside the caller's immediate
/// transaction; returns how many were moved.
fn compact_head(tx: &Transaction) -> Result<usize, Fault> {
    // Read in the head's own order (time, series) and grouped here: each series' samples come
    // out in time order, with no sort inside SQLite.
    let mut by_series: HashMap<SeriesId, Vec<Point>> = HashMap::new();
    let mut moved = 0;
    {
        let mut statement = tx.prepare_cached(
            "SELECT timestamp_ms, series_id, value FROM head ORDER BY timestamp_ms, series_id",
        )?;
        let mut cursor = statement.query([])?;
        while let Some(row) = cursor.next()? {
            by_series.entry(row.get(1)?).or_default().push(Point {
                timestamp_ms: row.get(0)?,
                value: row.get::<_, Option<f64>>(2)?.unwrap_or(f64::NAN),
            });
            moved += 1;
        }
    }
    let mut series: Vec<SeriesId> = by_series.keys().copied().collect();
    series.sort_unstable();
    for id in series {
        if let Some(points) = by_series.get(&id) {
            compact_series(tx, id, points)?;
        }
    }
    tx.execute("DELETE FROM head", [])?;
    tx.execute(
        "UPDATE meta SET value = value + 1 WHERE key = 'compactions'",
        [],
    )?;
    Ok(moved)
}

/// Put `new` (one series' head samples, in time order) into its chunks: the chunks whose time
/// they fall in, and the series' last chunk while it has room, are decoded, merged with them and
/// written again in runs of [`CHUNK_SAMPLES`]; the others are not touched, so chunks stay
/// disjoint.
fn compact_series(tx: &Transaction, series: SeriesId, new: &[Point]) -> Result<(), Fault> {
    let (Some(first), Some(last)) = (new.first(), new.last()) else {
        return Ok(());
    };
    let (new_min, new_max) = (first.timestamp_ms, last.timestamp_ms);
    let mut affected: Vec<(i64, i64, Vec<u8>)> = Vec::new();
    {
        let mut statement = tx.prepare_cached(
            "SELECT first_ms, last_ms, count, data FROM chunks
             WHERE series_id = ?1 AND first_ms <= ?3 AND first_ms >= COALESCE(
                 (SELECT MAX(first_ms) FROM chunks WHERE series_id = ?1 AND first_ms <= ?2), ?2)
             ORDER BY first_ms",
        )?;
        let mut rows = statement.query(params![series, new_min, new_max])?;
        while let Some(row) = rows.next()? {
            let last_ms: i64 = row.get(1)?;
            if last_ms >= new_min {
                affected.push((row.get(0)?, row.get(2)?, row.get(3)?));
            }
        }
    }
    if affected.is_empty() {
        // Nothing overlaps: append to the series' last chunk if it ends before and has room.
        let last: Option<(i64, i64, i64, Vec<u8>)> = tx
            .prepare_cached(
                "SELECT first_ms, last_ms, count, data FROM chunks
                 WHERE series_id = ?1 ORDER BY first_ms DESC LIMIT 1",
            )?
            .query_row([series], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .optional()?;
        if let Some((first_ms, last_ms, count, data)) = last {
            if last_ms < new_min && (count.max(0) as usize) < CHUNK_SAMPLES {
                affected.push((first_ms, count, data));
            }
        }
    }
    let mut existing = Vec::new();
    for (first_ms, count, data) in &affected {
        chunk::decode(*first_ms, (*count).max(0) as usize, data, &mut existing).map_err(
            |problem| Fault::Chunk {
                series,
                first_ms: *first_ms,
                problem,
            },
        )?;
    }
    let merged = merge(existing, new.to_vec());
    let mut delete =
        tx.prepare_cached("DELETE FROM chunks WHERE series_id = ?1 AND first_ms = ?2")?;
    for (first_ms, _, _) in &affected {
        delete.execute(params![series, first_ms])?;
    }
    let mut insert = tx.prepare_cached(
        "INSERT INTO chunks (series_id, first_ms, last_ms, count, data) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for run in merged.chunks(CHUNK_SAMPLES) {
        let (Some(first), Some(last)) = (run.first(), run.last()) else {
            continue;
        };
        insert.execute(params![
            series,
            first.timestamp_ms,
            last.timestamp_ms,
            run.len() as i64,
            chunk::encode(run)
        ])?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exposition::{parse, Format};

    fn sample(name: &str, labels: &str, ts: i64, value: f64) -> Sample {
        Sample {
            name: name.into(),
            labels: labels.into(),
            value,
            timestamp_ms: ts,
        }
    }

    fn raw(path: &Path, sql: &str) {
        Connection::open(path).unwrap().execute_batch(sql).unwrap();
    }

    #[test]
    fn samples_round_trip_with_nan_and_infinities() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
        let values = [1.5, f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -0.25, 0.0];
        let samples: Vec<Sample> = values
            .iter()
            .enumerate()
            .map(|(i, &v)| sample("g", r#"a="1""#, i as i64 * 1000, v))
            .collect();
        let report = store.ingest(&samples, &[]).unwrap();
        assert_eq!(
            (report.inserted, report.duplicates, report.new_series),
            (6, 0, 1)
        );
        let id = store.find_series("g", [("a", "1")]).unwrap().unwrap();
        let points = store
            .points(id, Window::including_start(0, 10_000))
            .unwrap();
        let got: Vec<f64> = points.iter().map(|p| p.value).collect();
        assert_eq!(got.len(), 6);
        for (got, want) in got.iter().zip(values) {
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "{got} {want}"
            );
        }
        assert_eq!(store.find_series("g", [("a", "2")]).unwrap(), None);
    }

    /// Many series read at once give what each read alone gives: chunks and head, the window's
    /// bounds, series without samples, an unknown id, the order asked.
    #[test]
    fn points_of_many_series_are_each_series_points() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        let mut samples = Vec::new();
        for t in 0..300 {
            for s in 0..4 {
                if s == 3 && t > 10 {
                    continue;
                }
                samples.push(sample(
                    "m",
                    &format!("s=\"{s}\""),
                    t * 1000,
                    (t * 10 + s) as f64,
                ));
            }
        }
        store.ingest(&samples[..600], &[]).unwrap();
        store.compact().unwrap();
        // The rest stays in the head: windows below cross from chunks into it.
        store.ingest(&samples[600..], &[]).unwrap();
        let ids: Vec<SeriesId> = (0..4)
            .map(|s| {
                store
                    .find_series("m", [("s", &*s.to_string())])
                    .unwrap()
                    .unwrap()
            })
            .collect();
        let asked = [ids[2], ids[0], 999_999, ids[3], ids[1]];
        for window in [
            Window::new(50_000, 250_000),
            Window::including_start(50_000, 250_000),
            Window::new(-1, 400_000),
            Window::new(20_000, 30_000),
        ] {
            let many = store.points_of_many(&asked, window).unwrap();
            assert_eq!(many.len(), asked.len());
            for (id, points) in asked.iter().zip(&many) {
                assert_eq!(
                    points,
                    &store.points(*id, window).unwrap(),
                    "{id} {window:?}"
                );
            }
            assert!(many[2].is_empty(), "an unknown id has no points");
        }
        assert_eq!(
            store
                .points_of_many(&asked, Window::new(50_000, 250_000))
                .unwrap()[1]
                .len(),
            200
        );
    }

    /// The same sample twice is one sample; a different value at a stored millisecond does not
    /// replace what was stored.
    #[test]
    fn nothing_stored_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        store.ingest(&[sample("c", "", 1000, 1.0)], &[]).unwrap();
        let again = store
            .ingest(
                &[
                    sample("c", "", 1000, 1.0),
                    sample("c", "", 1000, 7.0),
                    sample("c", "", 2000, 2.0),
                ],
                &[],
            )
            .unwrap();
        assert_eq!(
            (again.inserted, again.duplicates, again.new_series),
            (1, 2, 0)
        );
        // Out of time order within a batch (sorted before it goes in): of two samples for one
        // millisecond, the first in the batch is kept.
        let unordered = store
            .ingest(
                &[
                    sample("c", "", 3000, 3.0),
                    sample("c", "", 2500, 8.0),
                    sample("c", "", 2500, 9.0),
                ],
                &[],
            )
            .unwrap();
        assert_eq!((unordered.inserted, unordered.duplicates), (2, 1));
        let id = store.find_series("c", []).unwrap().unwrap();
        let points = store.points(id, Window::including_start(0, 5000)).unwrap();
        assert_eq!(
            points.iter().map(|p| p.value).collect::<Vec<_>>(),
            [1.0, 2.0, 8.0, 3.0]
        );
    }

    #[test]
    fn a_second_connection_sees_the_series_and_adds_to_them() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = MetricStore::open(dir.path()).unwrap();
        let mut second = MetricStore::open(dir.path()).unwrap();
        first.ingest(&[sample("x", "", 1, 1.0)], &[]).unwrap();
        let report = second.ingest(&[sample("x", "", 2, 2.0)], &[]).unwrap();
        assert_eq!(report.new_series, 0, "found, not created twice");
        assert_eq!(first.series_named("x").unwrap().len(), 1);
    }

    #[test]
    fn families_decide_what_is_a_counter() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        let text = "# TYPE req counter\n# TYPE old_total counter\n# TYPE lat histogram\n# TYPE rpc summary\n# TYPE temp gauge\n# HELP temp Degrees.\n";
        let exposition = parse(text.as_bytes(), Format::OpenMetrics, 0);
        store.ingest(&[], &exposition.families).unwrap();
        let cases = [
            ("req_total", true),
            ("req_created", false),
            ("old_total", true),
            ("lat_bucket", true),
            ("lat_count", true),
            ("lat_sum", true),
            ("lat_created", false),
            ("rpc", false),
            ("rpc_count", true),
            ("temp", false),
            ("untyped_total", true),
            ("untyped", false),
        ];
        for (name, counter) in cases {
            assert_eq!(store.is_counter(name).unwrap(), counter, "{name}");
        }
        let families = store.families().unwrap();
        assert_eq!(families.len(), 5);
        assert_eq!(
            families
                .iter()
                .find(|f| f.name == "temp")
                .unwrap()
                .help
                .as_deref(),
            Some("Degrees.")
        );
        // A later TYPE without HELP keeps the help.
        let later = parse(b"# TYPE temp gauge\n", Format::Prometheus, 0);
        store.ingest(&[], &later.families).unwrap();
        let families = MetricStore::open(dir.path()).unwrap().families().unwrap();
        assert_eq!(
            families
                .iter()
                .find(|f| f.name == "temp")
                .unwrap()
                .help
                .as_deref(),
            Some("Degrees.")
        );
    }

    #[test]
    fn summaries_and_histogram_buckets_from_the_store() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        let mut text = String::from("# TYPE lat histogram\n# TYPE req counter\n");
        for step in 0..=6 {
            let t = step * 10;
            // 10 observations per 10 s: 2 at or below 0.1, 8 at or below 0.5, all at or below 1.
            let n = step as f64 * 10.0;
            for (le, share) in [("0.1", 0.2), ("0.5", 0.8), ("1", 1.0), ("+Inf", 1.0)] {
                text.push_str(&format!(
                    "lat_bucket{{le=\"{le}\",route=\"/a\"}} {} {t}\n",
                    n * share
                ));
            }
            text.push_str(&format!("lat_bucket{{le=\"+Inf\",route=\"/b\"}} 1 {t}\n"));
            text.push_str(&format!("req_total{{route=\"/a\"}} {} {t}\n", n));
        }
        text.push_str("# EOF\n");
        let exposition = parse(text.as_bytes(), Format::OpenMetrics, 0);
        assert!(exposition.problems.is_empty(), "{:?}", exposition.problems);
        store
            .ingest(&exposition.samples, &exposition.families)
            .unwrap();
        let window = Window::new(0, 60_000);
        let buckets = store
            .histogram_buckets("lat_bucket", [("route", "/a")], window)
            .unwrap();
        assert_eq!(buckets.len(), 4);
        // Over the window each bucket gained (share × 60) · 60/60 (the first sample at 10 s is
        // 10 s from the start: extrapolated to it).
        let median = summary::histogram_quantile(0.5, &buckets);
        // rank 0.5 · 60 = 30 in (0.1, 0.5], which holds 48 − 12 = 36: 0.1 + 0.4 · 18/36.
        assert!((median - 0.3).abs() < 1e-9, "{median}");
        let req = &store.series_named("req_total").unwrap()[0];
        let summary = store.summarize(req, window).unwrap().unwrap();
        assert_eq!(summary.count, 6);
        let counter = summary.counter.unwrap();
        assert!((counter.rate_per_second - 1.0).abs() < 1e-12, "{counter:?}");
        assert_eq!(
            store.metric_names().unwrap(),
            [("lat_bucket".to_string(), 5), ("req_total".to_string(), 1)]
        );
    }

    /// A file from a newer SDD is refused with what to do, and not a byte of it changes —
    /// whether the newer SDD said so in the table or only in user_version.
    #[test]
    fn a_newer_store_is_refused_and_left_untouched() {
        let newer = SCHEMA_VERSION + 1;
        for bump in [
            format!("INSERT INTO schema_migrations (version, description, applied_at) VALUES ({newer}, 'from the future', 'later'); PRAGMA user_version = {newer};"),
            format!("PRAGMA user_version = {newer};"),
        ] {
            let dir = tempfile::tempdir().unwrap();
            let mut store = MetricStore::open(dir.path()).unwrap();
            store.ingest(&[sample("x", "", 1, 1.0)], &[]).unwrap();
            drop(store);
            let path = dir.path().join(METRICS_FILE);
            raw(&path, &bump);
            let before = std::fs::read(&path).unwrap();
            let err = MetricStore::open(dir.path()).err().expect("a newer store is refused");
            assert!(matches!(&err, StoreError::NewerSchema { found, .. } if *found == newer), "{err:?}");
            let message = err.to_string();
            assert!(message.contains("upgrade SDD") && message.contains(&format!("schema {newer}")), "{message}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "{bump}");
        }
    }

    /// A file that is not SQLite, or whose recorded migrations have a gap, is reported and left
    /// as it was — never replaced by a new store.
    #[test]
    fn a_damaged_store_is_reported_and_left_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(METRICS_FILE);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let garbage =
            b"this is not an SQLite database, and it is long enough to look like a header"
                .repeat(50);
        std::fs::write(&path, &garbage).unwrap();
        let err = MetricStore::open(dir.path())
            .err()
            .expect("garbage is refused");
        assert!(matches!(err, StoreError::Database { .. }), "{err:?}");
        assert!(err.to_string().contains("Move the file away"), "{err}");
        assert_eq!(std::fs::read(&path).unwrap(), garbage);

        for damage in [
            "INSERT INTO schema_migrations (version, description) VALUES (-7, 'odd')",
            "PRAGMA user_version = -3",
        ] {
            std::fs::remove_file(&path).unwrap();
            drop(MetricStore::open(dir.path()).unwrap());
            raw(&path, damage);
            let before = std::fs::read(&path).unwrap();
            let err = MetricStore::open(dir.path()).err().expect(damage);
            assert!(
                matches!(err, StoreError::Damaged { .. }),
                "{damage}: {err:?}"
            );
            assert!(err.to_string().contains("move it away"), "{err}");
            assert_eq!(std::fs::read(&path).unwrap(), before, "{damage}");
        }
    }

    #[test]
    fn a_family_type_this_sdd_does_not_know_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        drop(MetricStore::open(dir.path()).unwrap());
        raw(
            &dir.path().join(METRICS_FILE),
            "INSERT INTO families (name, type) VALUES ('x', 'hologram')",
        );
        let store = MetricStore::open(dir.path()).unwrap();
        let err = store.families().unwrap_err();
        assert!(err.to_string().contains("`hologram`"), "{err}");
        let err = store.is_counter("x_total").unwrap_err();
        assert!(err.to_string().contains("family `x`"), "{err}");
    }

    fn chunk_rows(store: &MetricStore) -> Vec<(SeriesId, i64, i64, i64)> {
        let mut statement = store
            .conn
            .prepare("SELECT series_id, first_ms, last_ms, count FROM chunks ORDER BY series_id, first_ms")
            .unwrap();
        let rows = statement
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    fn head_len(store: &MetricStore) -> i64 {
        store
            .conn
            .query_row("SELECT COUNT(*) FROM head", [], |r| r.get(0))
            .unwrap()
    }

    fn all_points(store: &MetricStore, name: &str) -> Vec<(i64, f64)> {
        let id = store.find_series(name, []).unwrap().unwrap();
        store
            .points(id, Window::including_start(i64::MIN, i64::MAX))
            .unwrap()
            .iter()
            .map(|p| (p.timestamp_ms, p.value))
            .collect()
    }

    /// Compaction moves the head into chunks of at most CHUNK_SAMPLES without losing or
    /// doubling a sample; a stored sample offered again is a duplicate whether it sits in the
    /// head or in a chunk; a late sample lands in the chunk whose time it falls in.
    #[test]
    fn compaction_keeps_every_sample_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        store.head_limit = 300;
        // Every other second from 0 to 1,998: odd seconds are left for late samples.
        let even: Vec<Sample> = (0..1000)
            .map(|i| sample("s", "", i * 2000, i as f64))
            .collect();
        for batch in even.chunks(100) {
            store.ingest(batch, &[]).unwrap();
        }
        assert!(head_len(&store) < 300, "compacted every 300 samples");
        store.compact().unwrap();
        assert_eq!(head_len(&store), 0);
        let chunks = chunk_rows(&store);
        assert_eq!(chunks.iter().map(|c| c.3).sum::<i64>(), 1000);
        assert!(
            chunks.iter().all(|c| c.3 as usize <= CHUNK_SAMPLES),
            "{chunks:?}"
        );
        assert!(
            chunks.windows(2).all(|w| w[0].2 < w[1].1),
            "disjoint, in order: {chunks:?}"
        );
        assert_eq!(
            chunks.len(),
            2,
            "appended to the last chunk while it had room: {chunks:?}"
        );
        // All again: every one a duplicate, found in the chunks.
        let again = store.ingest(&even, &[]).unwrap();
        assert_eq!((again.inserted, again.duplicates), (0, 1000));
        // Late samples, one inside each chunk's time and one after all of them.
        let late = [
            sample("s", "", 1, -1.0),
            sample("s", "", 1_500_001, -2.0),
            sample("s", "", 5_000_000, -3.0),
        ];
        assert_eq!(store.ingest(&late, &[]).unwrap().inserted, 3);
        assert_eq!(
            store.ingest(&late, &[]).unwrap().duplicates,
            3,
            "found in the head"
        );
        let before = all_points(&store, "s");
        assert_eq!(before.len(), 1003);
        assert!(before.windows(2).all(|w| w[0].0 < w[1].0), "in time order");
        store.compact().unwrap();
        assert_eq!(
            all_points(&store, "s"),
            before,
            "the same samples after compaction"
        );
        assert_eq!(
            store.ingest(&late, &[]).unwrap().duplicates,
            3,
            "found in the chunks"
        );
        let chunks = chunk_rows(&store);
        assert_eq!(chunks.iter().map(|c| c.3).sum::<i64>(), 1003);
        assert!(
            chunks.windows(2).all(|w| w[0].2 < w[1].1),
            "disjoint, in order: {chunks:?}"
        );
        assert!(
            chunks.iter().all(|c| c.3 as usize <= CHUNK_SAMPLES),
            "{chunks:?}"
        );
        // Windows cut across chunks and the head alike.
        store
            .ingest(&[sample("s", "", 6_000_000, 9.0)], &[])
            .unwrap();
        let id = store.find_series("s", []).unwrap().unwrap();
        let window = store.points(id, Window::new(1_000_000, 6_000_000)).unwrap();
        assert_eq!(window.first().unwrap().timestamp_ms, 1_002_000);
        assert_eq!(window.last().unwrap().timestamp_ms, 6_000_000);
        assert_eq!(
            window.len(),
            499 + 3,
            "even seconds 1002..1998, the late one inside, the two after"
        );
        let closed = store
            .points(id, Window::including_start(1_000_000, 1_000_000))
            .unwrap();
        assert_eq!(closed.len(), 1);
    }

    /// A connection that cached what the chunks hold learns of another's compaction: the
    /// samples it moved are still duplicates.
    #[test]
    fn another_connections_compaction_is_seen() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = MetricStore::open(dir.path()).unwrap();
        let mut second = MetricStore::open(dir.path()).unwrap();
        let samples: Vec<Sample> = (0..10).map(|i| sample("s", "", i * 1000, 1.0)).collect();
        first.ingest(&samples, &[]).unwrap();
        assert_eq!(first.ingest(&samples, &[]).unwrap().duplicates, 10);
        second.compact().unwrap();
        let again = first.ingest(&samples, &[]).unwrap();
        assert_eq!((again.inserted, again.duplicates), (0, 10));
    }

    #[test]
    fn a_damaged_chunk_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        store
            .ingest(
                &[sample("s", "", 1000, 1.0), sample("s", "", 2000, 2.0)],
                &[],
            )
            .unwrap();
        store.compact().unwrap();
        store
            .conn
            .execute("UPDATE chunks SET data = x'0207'", [])
            .unwrap();
        let id = store.find_series("s", []).unwrap().unwrap();
        let err = store.points(id, Window::new(0, 5000)).unwrap_err();
        assert!(
            matches!(err, StoreError::DamagedChunk { first_ms: 1000, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("chunk format 2"), "{err}");
        let err = store
            .ingest(&[sample("s", "", 1000, 1.0)], &[])
            .unwrap_err();
        assert!(matches!(err, StoreError::DamagedChunk { .. }), "{err:?}");
    }

    #[test]
    fn the_migrations_count_up_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.description);
        }
    }
}

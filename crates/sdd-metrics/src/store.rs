//! The embedded metric store: one SQLite file, `.sdd/metrics.sqlite3` under the project root.
//!
//! A file of its own, not tables in the run history: a scrape every few seconds is a write
//! transaction every few seconds, and the history's writers (test runs, verifications) must
//! never wait behind it, nor it behind them.
//!
//! Schema (version 1): `series` (id, metric name, canonical label text — see
//! [`Sample::labels`]), `samples` (series, millisecond timestamp, value) keyed by
//! `(series_id, timestamp_ms)` in a `WITHOUT ROWID` table, so one series' window is one range of
//! one B-tree, read in time order with no separate index (the benchmark measures the
//! alternatives), and `families` (what `# TYPE`, `# UNIT`, `# HELP` said). SQLite keeps no NaN:
//! a NaN sample is stored as NULL and read back as NaN.
//!
//! Invariants: nothing stored is lost or changed — a sample already stored for a series and
//! millisecond is kept, and the same one offered again counts as a duplicate (which is what
//! makes an import idempotent); series are never deleted, so their ids never change; the file
//! is opened by `sdd_history::migrations` under the history's rules — a file written by a
//! newer SDD is refused on a read-only connection and left byte for byte as it was, a damaged
//! one is reported and never replaced, the schema moves forward only through [`MIGRATIONS`];
//! WAL and a busy timeout let a scraper, an import and readers share the file; every ingest is
//! one immediate transaction: all of a batch lands, or none of it.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};
use sdd_history::migrations::{self, newest, Migration, OpenError};

use crate::exposition::{canonical_labels, family_of, split_labels, Family, MetricType, Sample};
use crate::summary::{self, Bucket, Point, StartBound, Summary, Window};

/// Where the store lives, relative to the project root.
pub const METRICS_FILE: &str = ".sdd/metrics.sqlite3";

/// How long a writer waits for another process's transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Page cache per connection (SQLite's unit: negative is KiB). Ingest touches the newest page
/// of every series it writes; with SQLite's default 2 MiB, a thousand series no longer fit and
/// each batch reads and writes the same pages again.
const CACHE_KIB: i64 = 64 * 1024;

/// Series ids kept in memory to skip a lookup per sample; past this the map starts over.
const MAX_CACHED_SERIES: usize = 1_000_000;

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
         CREATE TABLE samples (
             series_id INTEGER NOT NULL REFERENCES series(id),
             timestamp_ms INTEGER NOT NULL,
             -- NULL is NaN: SQLite stores no NaN.
             value REAL,
             PRIMARY KEY (series_id, timestamp_ms)
         ) WITHOUT ROWID;
         CREATE TABLE families (
             name TEXT PRIMARY KEY,
             type TEXT NOT NULL,
             unit TEXT,
             help TEXT
         ) WITHOUT ROWID;",
}];

/// The schema version this SDD writes and reads.
pub const SCHEMA_VERSION: i64 = newest(MIGRATIONS);

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot create {0}: {1}")]
    CreateDir(PathBuf, std::io::Error),
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
        StoreError::Database {
            path: self.path.clone(),
            source,
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
            // Series created by the rolled-back transaction are not in the file.
            self.series_ids.clear();
            self.cached_series = 0;
            self.families.clear();
        }
        result.map_err(|e| self.db(e))
    }

    fn ingest_in_transaction(
        &mut self,
        samples: &[Sample],
        families: &[Family],
    ) -> rusqlite::Result<IngestReport> {
        let mut report = IngestReport::default();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        {
            let mut upsert = tx.prepare_cached(
                "INSERT INTO families (name, type, unit, help) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO UPDATE SET type = excluded.type,
                     unit = COALESCE(excluded.unit, unit), help = COALESCE(excluded.help, help)",
            )?;
            for family in families {
                if self.families.get(&family.name) == Some(family) {
                    continue;
                }
                upsert.execute(params![
                    family.name,
                    family.kind.as_str(),
                    family.unit,
                    family.help
                ])?;
                self.families.insert(family.name.clone(), family.clone());
            }
            let mut find =
                tx.prepare_cached("SELECT id FROM series WHERE name = ?1 AND labels = ?2")?;
            let mut create =
                tx.prepare_cached("INSERT INTO series (name, labels) VALUES (?1, ?2)")?;
            let mut insert = tx.prepare_cached(
                "INSERT OR IGNORE INTO samples (series_id, timestamp_ms, value) VALUES (?1, ?2, ?3)",
            )?;
            // Consecutive samples are often of one series (an import's runs): look it up once.
            let mut previous: Option<(&str, &str, SeriesId)> = None;
            for sample in samples {
                let id = match previous {
                    Some((name, labels, id)) if name == sample.name && labels == sample.labels => {
                        id
                    }
                    _ => {
                        let cached = self
                            .series_ids
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
                                if self.cached_series >= MAX_CACHED_SERIES {
                                    self.series_ids.clear();
                                    self.cached_series = 0;
                                }
                                self.series_ids
                                    .entry(sample.name.clone())
                                    .or_default()
                                    .insert(sample.labels.clone(), id);
                                self.cached_series += 1;
                                id
                            }
                        };
                        previous = Some((&sample.name, &sample.labels, id));
                        id
                    }
                };
                report.series.insert(id);
                let value = (!sample.value.is_nan()).then_some(sample.value);
                if insert.execute(params![id, sample.timestamp_ms, value])? == 1 {
                    report.inserted += 1;
                } else {
                    report.duplicates += 1;
                }
            }
        }
        tx.commit()?;
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

    /// The points of a series inside `window`, in time order.
    pub fn points(&self, series: SeriesId, window: Window) -> Result<Vec<Point>, StoreError> {
        let sql = match window.start {
            StartBound::Excluded => {
                "SELECT timestamp_ms, value FROM samples
                 WHERE series_id = ?1 AND timestamp_ms > ?2 AND timestamp_ms <= ?3
                 ORDER BY timestamp_ms"
            }
            StartBound::Included => {
                "SELECT timestamp_ms, value FROM samples
                 WHERE series_id = ?1 AND timestamp_ms >= ?2 AND timestamp_ms <= ?3
                 ORDER BY timestamp_ms"
            }
        };
        let read = || -> rusqlite::Result<Vec<Point>> {
            let mut statement = self.conn.prepare_cached(sql)?;
            let mut rows = statement.query(params![series, window.start_ms, window.end_ms])?;
            let mut points = Vec::new();
            while let Some(row) = rows.next()? {
                points.push(Point {
                    timestamp_ms: row.get(0)?,
                    value: row.get::<_, Option<f64>>(1)?.unwrap_or(f64::NAN),
                });
            }
            Ok(points)
        };
        read().map_err(|e| self.db(e))
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
        let id = store.find_series("c", []).unwrap().unwrap();
        let points = store.points(id, Window::including_start(0, 5000)).unwrap();
        assert_eq!(
            points.iter().map(|p| p.value).collect::<Vec<_>>(),
            [1.0, 2.0]
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

    #[test]
    fn the_migrations_count_up_from_one() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1, "{}", m.description);
        }
    }
}

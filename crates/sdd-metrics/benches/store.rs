//! Benchmark of the metric store: ingest (1 M samples over 1,000 series, as 1,000 scrapes and
//! as import-sized batches), a summary over 1 M samples of one series (read + computed), the
//! import of a generated OpenMetrics file — beside `promtool tsdb create-blocks-from
//! openmetrics` on the same file when promtool is installed (Debian: `apt-get install
//! prometheus`) — and the storage layouts the schema was chosen from. Prints medians (wall
//! clock, this machine; nothing asserted).
//!
//! `cargo bench -p sdd-metrics --bench store` (scripts/bench-metrics.sh). `SDD_BENCH_QUICK=1`
//! runs each phase once.

use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use rusqlite::{params, Connection};
use sdd_metrics::exposition::{self, Family, Format, MetricType, Sample};
use sdd_metrics::import;
use sdd_metrics::store::MetricStore;
use sdd_metrics::summary::{self, Point, Window};

const SERIES: usize = 1_000;
const STEPS: usize = 1_000;
const STEP_MS: i64 = 15_000;
const T0_MS: i64 = 1_700_000_000_000;
const ONE_SERIES_SAMPLES: usize = 1_000_000;

fn runs() -> usize {
    if std::env::var_os("SDD_BENCH_QUICK").is_some() {
        1
    } else {
        5
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// Median of `runs` runs of `f`, each after `setup` (not timed).
fn time<S, T>(runs: usize, mut setup: impl FnMut() -> S, mut f: impl FnMut(S) -> T) -> Duration {
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        let state = setup();
        let start = Instant::now();
        black_box(f(state));
        samples.push(start.elapsed());
    }
    median(samples)
}

fn labels(series: usize) -> String {
    format!(
        "instance=\"10.0.{}.{}:9100\",route=\"/api/v1/items/{series}\"",
        series % 7,
        series % 250
    )
}

fn counter_value(series: usize, step: usize) -> f64 {
    (step * (series % 13 + 1)) as f64
}

/// One scrape of every series at `step`.
fn scrape(step: usize, names: &[String]) -> Vec<Sample> {
    (0..SERIES)
        .map(|series| Sample {
            name: "http_requests_total".into(),
            labels: names[series].clone(),
            value: counter_value(series, step),
            timestamp_ms: T0_MS + step as i64 * STEP_MS,
        })
        .collect()
}

fn families() -> Vec<Family> {
    vec![Family {
        name: "http_requests".into(),
        kind: MetricType::Counter,
        help: Some("Requests served.".into()),
        unit: None,
    }]
}

fn per_second(count: usize, took: Duration) -> String {
    let rate = count as f64 / took.as_secs_f64();
    format!("{:>10.0} samples/s", rate)
}

fn ms(d: Duration) -> String {
    format!("{:>9.1} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let runs = runs();
    let names: Vec<String> = (0..SERIES).map(labels).collect();
    let scrapes: Vec<Vec<Sample>> = (0..STEPS).map(|step| scrape(step, &names)).collect();
    let families = families();
    println!(
        "metric store: {SERIES} series × {STEPS} steps = {} samples; median of {runs} runs",
        SERIES * STEPS
    );

    // Ingest as a scraper does: one transaction per scrape of 1,000 samples.
    let scraped = time(
        runs,
        || tempfile::tempdir().unwrap(),
        |dir| {
            let mut store = MetricStore::open(dir.path()).unwrap();
            for samples in &scrapes {
                store.ingest(samples, &families).unwrap();
            }
            dir
        },
    );
    println!(
        "  ingest, 1,000 scrapes of 1,000 series   {}  {}",
        ms(scraped),
        per_second(SERIES * STEPS, scraped)
    );
    // What a sample costs on disk once compacted.
    {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        for samples in &scrapes {
            store.ingest(samples, &families).unwrap();
        }
        store.compact().unwrap();
        drop(store);
        let bytes = std::fs::metadata(dir.path().join(".sdd/metrics.sqlite3"))
            .unwrap()
            .len();
        println!(
            "  file size, compacted                    {:>9.1} MB  {:>10.1} bytes/sample",
            bytes as f64 / 1e6,
            bytes as f64 / (SERIES * STEPS) as f64
        );
    }

    // Ingest as an import does: transactions of 100,000 samples.
    let all: Vec<Sample> = scrapes.iter().flatten().cloned().collect();
    let batched = time(
        runs,
        || tempfile::tempdir().unwrap(),
        |dir| {
            let mut store = MetricStore::open(dir.path()).unwrap();
            for batch in all.chunks(import::IMPORT_BATCH_SAMPLES) {
                store.ingest(batch, &families).unwrap();
            }
            dir
        },
    );
    println!(
        "  ingest, batches of 100,000              {}  {}",
        ms(batched),
        per_second(SERIES * STEPS, batched)
    );
    drop(all);

    // Parsing one scrape of 1,000 series (Prometheus text).
    let mut body = String::from("# TYPE http_requests_total counter\n");
    for sample in &scrapes[STEPS - 1] {
        body.push_str(&format!(
            "http_requests_total{{{}}} {}\n",
            sample.labels, sample.value
        ));
    }
    let parse_runs = runs * 20;
    let parsed = time(
        parse_runs,
        || (),
        |_| exposition::parse(body.as_bytes(), Format::Prometheus, T0_MS),
    );
    println!(
        "  parse one scrape (1,000 series, {} KB)  {}  {}",
        body.len() / 1000,
        ms(parsed),
        per_second(SERIES, parsed)
    );
    drop(scrapes);

    summary_of_one_series(runs);
    import_and_promtool(runs, &names);
    layouts(runs.min(3));
}

/// A summary over 1 M samples of one series: read from the store, then computed.
fn summary_of_one_series(runs: usize) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = MetricStore::open(dir.path()).unwrap();
    let mut state = 7u64;
    let samples: Vec<Sample> = (0..ONE_SERIES_SAMPLES)
        .map(|i| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let noise = (state >> 40) as f64 / (1u64 << 24) as f64;
            Sample {
                name: "request_latency_seconds".into(),
                labels: "route=\"/tasks\"".into(),
                value: 0.02 + 0.01 * noise + i as f64 * 1e-9,
                timestamp_ms: T0_MS + i as i64 * 1000,
            }
        })
        .collect();
    for batch in samples.chunks(import::IMPORT_BATCH_SAMPLES) {
        store.ingest(batch, &[]).unwrap();
    }
    drop(samples);
    let series = store
        .series_named("request_latency_seconds")
        .unwrap()
        .remove(0);
    let window = Window::new(T0_MS - 1, T0_MS + ONE_SERIES_SAMPLES as i64 * 1000);
    let summary_runs = runs.max(3) + 2;
    let read = time(
        summary_runs,
        || (),
        |_| store.points(series.id, window).unwrap(),
    );
    let points: Vec<Point> = store.points(series.id, window).unwrap();
    let computed = time(
        summary_runs,
        || (),
        |_| summary::summarize(&points, window, false),
    );
    let counter = time(
        summary_runs,
        || (),
        |_| summary::summarize(&points, window, true),
    );
    let both = time(
        summary_runs,
        || (),
        |_| store.summarize(&series, window).unwrap(),
    );
    let result = store.summarize(&series, window).unwrap().unwrap();
    println!("summary over {} samples of one series:", result.count);
    println!("  read the window from the store          {}", ms(read));
    println!("  compute (min/max/mean/4 quantiles/slope){}", ms(computed));
    println!("  compute, as a counter (+ rate/increase) {}", ms(counter));
    println!("  read + compute (MetricStore::summarize) {}", ms(both));
}

/// Import of a generated OpenMetrics file, and promtool's backfill of the same file.
fn import_and_promtool(runs: usize, names: &[String]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("backfill.om");
    {
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).unwrap());
        writeln!(out, "# HELP http_requests Requests served.").unwrap();
        writeln!(out, "# TYPE http_requests counter").unwrap();
        // Series by series, each in time order: what promtool's block writer needs.
        for (series, labels) in names.iter().enumerate() {
            for step in 0..STEPS {
                let t = (T0_MS + step as i64 * STEP_MS) as f64 / 1000.0;
                writeln!(
                    out,
                    "http_requests_total{{{labels}}} {} {t:.3}",
                    counter_value(series, step)
                )
                .unwrap();
            }
        }
        writeln!(out, "# EOF").unwrap();
    }
    let bytes = std::fs::metadata(&file).unwrap().len();
    let samples = SERIES * STEPS;
    println!(
        "import of a generated OpenMetrics file ({samples} samples, {:.1} MB):",
        bytes as f64 / 1e6
    );
    let imported = time(
        runs.min(3),
        || tempfile::tempdir().unwrap(),
        |store_dir| {
            let mut store = MetricStore::open(store_dir.path()).unwrap();
            let report = import::import_file(&mut store, &file).unwrap();
            assert_eq!(report.inserted, samples);
            assert!(report.problems.is_empty());
            store_dir
        },
    );
    println!(
        "  sdd-metrics import                      {}  {}",
        ms(imported),
        per_second(samples, imported)
    );
    match Command::new("promtool").arg("--version").output() {
        Ok(version) if version.status.success() => {
            let version = String::from_utf8_lossy(&version.stdout);
            let version = version.lines().next().unwrap_or("").trim().to_string();
            let backfill = time(
                runs.min(3),
                || tempfile::tempdir().unwrap(),
                |out| {
                    let status = Command::new("promtool")
                        .args(["tsdb", "create-blocks-from", "openmetrics"])
                        .arg(&file)
                        .arg(out.path())
                        .stdout(std::process::Stdio::null())
                        .status()
                        .unwrap();
                    assert!(status.success());
                    out
                },
            );
            println!(
                "  peer: promtool tsdb create-blocks-from openmetrics {}  {}  ({version})",
                ms(backfill),
                per_second(samples, backfill)
            );
        }
        _ => println!("  peer: promtool not installed (apt-get install prometheus)"),
    }
}

/// The layouts the schema was chosen from, on raw SQLite with the store's pragmas: ingest as
/// 1,000 scrapes of 1,000 series, read 1 M samples of one series, and the file's size.
fn layouts(runs: usize) {
    const LAYOUTS: &[(&str, &str)] = &[
        (
            "one row per sample, WITHOUT ROWID, key (series, ts) — the first design",
            "CREATE TABLE samples (series_id INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL, value REAL, PRIMARY KEY (series_id, timestamp_ms)) WITHOUT ROWID",
        ),
        (
            "one row per sample, rowid table + unique index (series, ts)",
            "CREATE TABLE samples (series_id INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL, value REAL); CREATE UNIQUE INDEX samples_by_series ON samples (series_id, timestamp_ms)",
        ),
        (
            "one row per sample, covering unique index (series, ts, value)",
            "CREATE TABLE samples (series_id INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL, value REAL); CREATE UNIQUE INDEX samples_by_series ON samples (series_id, timestamp_ms, value)",
        ),
        (
            "one row per sample, WITHOUT ROWID, key (ts, series) — the store's head alone",
            "CREATE TABLE samples (series_id INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL, value REAL, PRIMARY KEY (timestamp_ms, series_id)) WITHOUT ROWID",
        ),
    ];
    println!("storage layouts the store was chosen from (raw SQLite, WAL, 64 MiB cache; the store itself is head + chunks, above):");
    for (name, ddl) in LAYOUTS {
        let open = |path: &Path| {
            let conn = Connection::open(path).unwrap();
            conn.execute_batch("PRAGMA journal_mode = WAL; PRAGMA cache_size = -65536;")
                .unwrap();
            conn
        };
        let insert_sql =
            "INSERT OR IGNORE INTO samples (series_id, timestamp_ms, value) VALUES (?1, ?2, ?3)";
        let mut size = 0;
        let ingest = time(
            runs,
            || tempfile::tempdir().unwrap(),
            |dir| {
                let path = dir.path().join("s.sqlite3");
                let mut conn = open(&path);
                conn.execute_batch(ddl).unwrap();
                for step in 0..STEPS {
                    let tx = conn.transaction().unwrap();
                    {
                        let mut insert = tx.prepare_cached(insert_sql).unwrap();
                        for series in 0..SERIES {
                            insert
                                .execute(params![
                                    series as i64,
                                    T0_MS + step as i64 * STEP_MS,
                                    counter_value(series, step)
                                ])
                                .unwrap();
                        }
                    }
                    tx.commit().unwrap();
                }
                conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
                    .unwrap();
                size = std::fs::metadata(&path).unwrap().len();
                dir
            },
        );
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("one.sqlite3"));
        conn.execute_batch(ddl).unwrap();
        for chunk in 0..ONE_SERIES_SAMPLES / 100_000 {
            let tx = conn.transaction().unwrap();
            {
                let mut insert = tx.prepare_cached(insert_sql).unwrap();
                for i in chunk * 100_000..(chunk + 1) * 100_000 {
                    insert
                        .execute(params![1i64, T0_MS + i as i64 * 1000, i as f64])
                        .unwrap();
                }
            }
            tx.commit().unwrap();
        }
        let read = time(
            runs + 2,
            || (),
            |_| {
                let mut statement = conn
                    .prepare_cached("SELECT timestamp_ms, value FROM samples WHERE series_id = ?1 AND timestamp_ms > ?2 AND timestamp_ms <= ?3 ORDER BY timestamp_ms")
                    .unwrap();
                let mut rows = statement.query(params![1i64, 0i64, i64::MAX]).unwrap();
                let mut n = 0usize;
                while let Some(row) = rows.next().unwrap() {
                    let _: i64 = row.get(0).unwrap();
                    let _: Option<f64> = row.get(1).unwrap();
                    n += 1;
                }
                n
            },
        );
        println!("  {name}");
        println!(
            "      ingest {}  {}; read 1 M of one series {}; {:.1} bytes/sample",
            ms(ingest),
            per_second(SERIES * STEPS, ingest),
            ms(read),
            size as f64 / (SERIES * STEPS) as f64
        );
    }
}

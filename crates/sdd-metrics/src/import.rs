//! OpenMetrics text with timestamps — what `promtool tsdb create-blocks-from openmetrics`
//! reads: every sample with its time in seconds, `# EOF` at the end — into the store.
//!
//! Streamed: the input is read one bounded line at a time ([`read_line`]) and stored in
//! batches of [`IMPORT_BATCH_SAMPLES`], each its own transaction, so a 1 GB file costs one
//! batch of memory, not a gigabyte. Idempotent: a sample the store already has for its series
//! and millisecond is a duplicate and the stored one is kept, so importing a file twice (or
//! again after an import stopped half way) adds nothing twice. A line that cannot be read — no
//! timestamp, bad syntax, over [`MAX_LINE_BYTES`] — is a problem with its line number; the
//! rest is imported.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::Path;

use crate::exposition::{
    read_line, too_long, Format, LineRead, Parser, Problems, Sample, MAX_LINE_BYTES,
    MAX_SAMPLES_PER_CHUNK,
};
use crate::store::{MetricStore, StoreError};

/// Samples stored per transaction: large enough that a commit's cost is spread over many
/// samples, small enough that a batch is a few tens of megabytes at most.
pub const IMPORT_BATCH_SAMPLES: usize = 100_000;
const _: () = assert!(IMPORT_BATCH_SAMPLES <= MAX_SAMPLES_PER_CHUNK);

/// What an import read and stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub lines: usize,
    /// Samples read from the file.
    pub samples: usize,
    /// Samples newly stored.
    pub inserted: usize,
    /// Samples the store already had (an earlier import of the same data).
    pub duplicates: usize,
    /// Distinct series with a sample in the file.
    pub series: usize,
    /// Series the store did not have before.
    pub new_series: usize,
    /// The earliest and latest sample time read, milliseconds since the epoch.
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// Lines not imported, with their numbers.
    pub problems: Problems,
    /// The file ended with `# EOF`.
    pub eof: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot open {path}: {source}")]
    Open { path: String, source: io::Error },
    #[error("reading line {line} failed: {source}. The {stored} samples before it are stored; importing the file again adds only what is missing")]
    Read {
        line: usize,
        stored: usize,
        source: io::Error,
    },
    #[error("{source}. The {stored} samples before this batch are stored; importing the file again adds only what is missing")]
    Store { stored: usize, source: StoreError },
}

/// Import the file at `path`.
pub fn import_file(store: &mut MetricStore, path: &Path) -> Result<ImportReport, ImportError> {
    let file = File::open(path).map_err(|source| ImportError::Open {
        path: path.display().to_string(),
        source,
    })?;
    import(store, file)
}

/// Import OpenMetrics text with timestamps from `input`.
pub fn import(store: &mut MetricStore, input: impl Read) -> Result<ImportReport, ImportError> {
    let mut reader = BufReader::with_capacity(1 << 20, input);
    let mut parser = Parser::new(Format::OpenMetrics);
    let mut report = ImportReport::default();
    let mut series = HashSet::new();
    let mut batch: Vec<Sample> = Vec::with_capacity(IMPORT_BATCH_SAMPLES);
    let mut line = Vec::new();
    loop {
        let read = read_line(&mut reader, &mut line, MAX_LINE_BYTES).map_err(|source| {
            ImportError::Read {
                line: report.lines + 1,
                stored: report.inserted + report.duplicates,
                source,
            }
        })?;
        match read {
            LineRead::End => break,
            LineRead::TooLong(bytes) => {
                report.lines += 1;
                parser.problem(report.lines, too_long(bytes));
            }
            LineRead::Line => {
                report.lines += 1;
                // No default time: a sample without one is a problem, never "now".
                parser.line(report.lines, &line, None, &mut batch);
            }
        }
        if batch.len() >= IMPORT_BATCH_SAMPLES {
            store_batch(store, &parser, &mut batch, &mut report, &mut series)?;
        }
    }
    store_batch(store, &parser, &mut batch, &mut report, &mut series)?;
    let (_, problems, eof) = parser.finish();
    report.series = series.len();
    report.problems = problems;
    report.eof = eof;
    Ok(report)
}

fn store_batch(
    store: &mut MetricStore,
    parser: &Parser,
    batch: &mut Vec<Sample>,
    report: &mut ImportReport,
    series: &mut HashSet<i64>,
) -> Result<(), ImportError> {
    let ingested =
        store
            .ingest(batch, &parser.families())
            .map_err(|source| ImportError::Store {
                stored: report.inserted + report.duplicates,
                source,
            })?;
    for sample in batch.iter() {
        report.first_ms = Some(
            report
                .first_ms
                .map_or(sample.timestamp_ms, |t| t.min(sample.timestamp_ms)),
        );
        report.last_ms = Some(
            report
                .last_ms
                .map_or(sample.timestamp_ms, |t| t.max(sample.timestamp_ms)),
        );
    }
    report.samples += batch.len();
    report.inserted += ingested.inserted;
    report.duplicates += ingested.duplicates;
    report.new_series += ingested.new_series;
    series.extend(ingested.series);
    batch.clear();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::Window;

    const SMALL: &str = "# TYPE req counter
# HELP req Requests.
req_total{route=\"/a\"} 1 1700000000
req_total{route=\"/a\"} 3 1700000010.5
req_total{route=\"/b\"} 2 1700000005
req_total{route=\"/b\"} 9
this is not a sample
# TYPE temp gauge
temp 21.5 1700000020
# EOF
";

    #[test]
    fn an_import_reports_what_it_read_and_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        let report = import(&mut store, SMALL.as_bytes()).unwrap();
        assert_eq!(report.lines, 10);
        assert_eq!(
            (report.samples, report.inserted, report.duplicates),
            (4, 4, 0)
        );
        assert_eq!((report.series, report.new_series), (3, 3));
        assert_eq!(report.first_ms, Some(1_700_000_000_000));
        assert_eq!(report.last_ms, Some(1_700_000_020_000));
        assert!(report.eof);
        let problems: Vec<String> = report
            .problems
            .kept()
            .iter()
            .map(|p| p.to_string())
            .collect();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].starts_with("line 6: ") && problems[0].contains("no timestamp"),
            "{problems:?}"
        );
        assert!(problems[1].starts_with("line 7: "), "{problems:?}");
        let families = store.families().unwrap();
        assert_eq!(families.len(), 2);
        assert_eq!(families[0].help.as_deref(), Some("Requests."));
        let id = store
            .find_series("req_total", [("route", "/a")])
            .unwrap()
            .unwrap();
        let points = store.points(id, Window::new(0, i64::MAX)).unwrap();
        assert_eq!(points[1].timestamp_ms, 1_700_000_010_500);
    }

    #[test]
    fn importing_twice_stores_each_sample_once() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        import(&mut store, SMALL.as_bytes()).unwrap();
        let again = import(&mut store, SMALL.as_bytes()).unwrap();
        assert_eq!((again.samples, again.inserted, again.duplicates), (4, 0, 4));
        assert_eq!((again.series, again.new_series), (3, 0));
        let id = store
            .find_series("req_total", [("route", "/a")])
            .unwrap()
            .unwrap();
        assert_eq!(store.points(id, Window::new(0, i64::MAX)).unwrap().len(), 2);
    }

    /// An input generated as it is read: many batches, never all in memory.
    struct Generated {
        samples: usize,
        next: usize,
        pending: Vec<u8>,
        /// Fail with an I/O error once this many samples were handed out.
        fail_after: Option<usize>,
    }

    impl Read for Generated {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            while self.pending.is_empty() {
                if Some(self.next) == self.fail_after {
                    return Err(io::Error::other("the disk went away"));
                }
                if self.next > self.samples {
                    return Ok(0);
                }
                self.pending = if self.next == self.samples {
                    b"# EOF\n".to_vec()
                } else {
                    let i = self.next;
                    format!("g{{s=\"{}\"}} {} {}\n", i % 7, i, 1_000 + i / 7).into_bytes()
                };
                self.next += 1;
            }
            let n = out.len().min(self.pending.len());
            out[..n].copy_from_slice(&self.pending[..n]);
            self.pending.drain(..n);
            Ok(n)
        }
    }

    #[test]
    fn a_long_input_is_stored_batch_by_batch() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        let samples = IMPORT_BATCH_SAMPLES * 2 + 123;
        let input = Generated {
            samples,
            next: 0,
            pending: Vec::new(),
            fail_after: None,
        };
        let report = import(&mut store, input).unwrap();
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        assert_eq!(
            (report.samples, report.inserted, report.series),
            (samples, samples, 7)
        );
        assert_eq!(report.first_ms, Some(1_000_000));
        let id = store.find_series("g", [("s", "3")]).unwrap().unwrap();
        let points = store.points(id, Window::new(0, i64::MAX)).unwrap();
        assert_eq!(points.len(), (samples - 3).div_ceil(7));
    }

    /// A read error stops the import and says which line; what was stored stays, and importing
    /// again completes it.
    #[test]
    fn a_read_error_keeps_what_was_stored() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        let samples = IMPORT_BATCH_SAMPLES + 10;
        let failing = Generated {
            samples,
            next: 0,
            pending: Vec::new(),
            fail_after: Some(IMPORT_BATCH_SAMPLES + 5),
        };
        let err = import(&mut store, failing).unwrap_err();
        let message = err.to_string();
        assert!(
            message.contains(&format!("line {}", IMPORT_BATCH_SAMPLES + 6)),
            "{message}"
        );
        assert!(
            message.contains(&format!(
                "{IMPORT_BATCH_SAMPLES} samples before it are stored"
            )),
            "{message}"
        );
        let complete = Generated {
            samples,
            next: 0,
            pending: Vec::new(),
            fail_after: None,
        };
        let report = import(&mut store, complete).unwrap();
        assert_eq!(
            (report.inserted, report.duplicates),
            (10, IMPORT_BATCH_SAMPLES)
        );
    }

    #[test]
    fn a_huge_line_is_skipped_and_the_rest_imported() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        let text = format!(
            "a 1 1\nb{{l=\"{}\"}} 1 1\nc 1 1\n# EOF\n",
            "x".repeat(MAX_LINE_BYTES)
        );
        let report = import(&mut store, text.as_bytes()).unwrap();
        assert_eq!(report.samples, 2);
        assert_eq!(report.problems.kept()[0].line, 2);
        assert!(report.problems.kept()[0].message.contains("over the"));
    }

    #[test]
    fn a_missing_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = MetricStore::open(dir.path()).unwrap();
        let err = import_file(&mut store, &dir.path().join("nope.om")).unwrap_err();
        assert!(err.to_string().contains("nope.om"), "{err}");
    }
}

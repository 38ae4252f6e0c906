//! The service's output kept on disk, for the debugger: one JSON-lines file per start,
//! `<dir>/service-<started: YYYYMMDDTHHMMSSZ>-<pid>.jsonl`, each line
//! `{"captured_at":"2026-12-01T03:12:00.123456Z","stream":"stdout","text":"…"}` (`stream` is
//! `stdout` or `stderr`, or `sdd` for SDD's own notes: lines dropped, the file truncated).
//!
//! Bounded: a file stops at [`Capture::max_file_bytes`] (64 MiB) with a last line saying so,
//! and starting a service keeps only the [`Capture::keep_files`] (10) newest files. The pumps
//! never wait for the disk: they hand lines to a writer thread through a bounded queue, and a
//! line that does not fit in it is counted and noted in the file instead. An I/O error is
//! logged once and ends the capture; the service and its in-memory log go on.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::service::Stream;

/// The default size of one capture file: 64 MiB.
pub const MAX_FILE_BYTES: u64 = 64 << 20;
/// The default number of capture files kept.
pub const KEEP_FILES: usize = 10;
/// Lines waiting for the writer thread; past this the pumps drop lines (counted).
const QUEUE_LINES: usize = 10_000;
/// The longest text kept of one line (the reader skips lines over 1 MiB; JSON escaping can
/// double a line).
const MAX_TEXT_BYTES: usize = 256 * 1024;
/// Room kept at the end of a file for the line that says it was truncated.
const NOTE_RESERVE: u64 = 512;

/// Where the service's output is captured, and how much of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capture {
    /// The directory of capture files, created if missing: `<project>/.sdd/service-logs`.
    pub dir: PathBuf,
    /// A file stops growing here (one last line says so).
    pub max_file_bytes: u64,
    /// How many capture files are kept: starting a service deletes the oldest beyond this.
    pub keep_files: usize,
}

impl Capture {
    /// Capture into `dir` with the default limits (64 MiB per file, 10 files).
    pub fn in_dir(dir: impl Into<PathBuf>) -> Capture {
        Capture {
            dir: dir.into(),
            max_file_bytes: MAX_FILE_BYTES,
            keep_files: KEEP_FILES,
        }
    }

    /// Capture into the project's `.sdd/service-logs` ([`sdd_spec::project::SERVICE_LOGS_DIR`]),
    /// where the debugger reads it.
    pub fn for_project(root: &Path) -> Capture {
        Capture::in_dir(root.join(sdd_spec::project::SERVICE_LOGS_DIR))
    }
}

/// One line on its way to the file.
pub(crate) struct Captured {
    at: SystemTime,
    stream: Stream,
    text: String,
}

/// The pumps' end of a capture: cheap to clone, never blocks.
#[derive(Clone)]
pub(crate) struct CaptureSink {
    queue: SyncSender<Captured>,
    dropped: Arc<AtomicU64>,
}

impl CaptureSink {
    pub(crate) fn send(&self, stream: Stream, text: &str) {
        let mut text = text.to_string();
        cut(&mut text, MAX_TEXT_BYTES);
        let line = Captured {
            at: SystemTime::now(),
            stream,
            text,
        };
        match self.queue.try_send(line) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            // The writer stopped (truncated, or an I/O error it logged).
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

/// A running capture: the sink for the pumps, the writer thread, and its file.
pub(crate) struct CaptureHandle {
    pub sink: CaptureSink,
    pub writer: std::thread::JoinHandle<()>,
    pub path: PathBuf,
}

/// Open a new capture file for a service started at `started` as process `pid` (after
/// deleting the oldest files beyond the limit) and start its writer. `None`, with a warning,
/// when the directory or file cannot be made.
pub(crate) fn start(capture: &Capture, started: SystemTime, pid: u32) -> Option<CaptureHandle> {
    if let Err(e) = std::fs::create_dir_all(&capture.dir) {
        tracing::warn!(
            "the service's output is not captured: cannot create {}: {e}",
            capture.dir.display()
        );
        return None;
    }
    prune(&capture.dir, capture.keep_files.saturating_sub(1));
    let name = format!("service-{}-{pid}.jsonl", file_stamp(started));
    let path = capture.dir.join(name);
    // `create_new`: never append to, or follow a link at, a name that exists.
    let file = match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&path)
    {
        Ok(file) => file,
        Err(e) => {
            tracing::warn!(
                "the service's output is not captured: cannot create {}: {e}",
                path.display()
            );
            return None;
        }
    };
    let (queue, lines) = std::sync::mpsc::sync_channel(QUEUE_LINES);
    let dropped = Arc::new(AtomicU64::new(0));
    let writer = {
        let (dropped, path, max) = (dropped.clone(), path.clone(), capture.max_file_bytes);
        std::thread::Builder::new()
            .name("sdd-service-capture".into())
            .spawn(move || write_lines(file, &path, lines, max, &dropped))
    };
    let writer = match writer {
        Ok(writer) => writer,
        Err(e) => {
            tracing::warn!("the service's output is not captured: no writer thread: {e}");
            return None;
        }
    };
    Some(CaptureHandle {
        sink: CaptureSink { queue, dropped },
        writer,
        path,
    })
}

/// Delete the oldest capture files (by name, which starts with the start time) so that at
/// most `keep` remain.
fn prune(dir: &Path, keep: usize) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("service-") && name.ends_with(".jsonl"))
        .collect();
    names.sort();
    let excess = names.len().saturating_sub(keep);
    for name in &names[..excess] {
        if let Err(e) = std::fs::remove_file(dir.join(name)) {
            tracing::warn!("cannot delete the old service capture {name}: {e}");
        }
    }
}

/// The writer thread: lines as they come, flushed whenever the queue is empty (so the file is
/// current when the service is quiet), until the pumps end, the cap, or an I/O error.
fn write_lines(
    file: std::fs::File,
    path: &Path,
    lines: Receiver<Captured>,
    max_bytes: u64,
    dropped: &AtomicU64,
) {
    let mut out = Writer {
        file: std::io::BufWriter::with_capacity(64 * 1024, file),
        written: 0,
        max_bytes,
    };
    let result = (|| -> std::io::Result<()> {
        // `recv` ends when both pumps have ended and dropped their senders.
        while let Ok(first) = lines.recv() {
            let mut next = Some(first);
            while let Some(line) = next {
                let lost = dropped.swap(0, Ordering::Relaxed);
                if lost > 0 {
                    let note = format!(
                        "{lost} lines of output were not captured: the disk did not keep up"
                    );
                    if !out.line(line.at, "sdd", &note)? {
                        return out.truncated();
                    }
                }
                if !out.line(line.at, stream_name(line.stream), &line.text)? {
                    return out.truncated();
                }
                next = lines.try_recv().ok();
            }
            out.file.flush()?;
        }
        Ok(())
    })();
    if let Err(e) = result {
        tracing::warn!(
            "capturing the service's output in {} stopped: {e}",
            path.display()
        );
    }
}

struct Writer {
    file: std::io::BufWriter<std::fs::File>,
    written: u64,
    max_bytes: u64,
}

impl Writer {
    /// Write one line; `false` (nothing written) when it would pass the cap.
    fn line(&mut self, at: SystemTime, stream: &str, text: &str) -> std::io::Result<bool> {
        let mut bytes = serde_json::to_vec(&Record {
            captured_at: &captured_at(at),
            stream,
            text,
        })
        .map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        if self.written + bytes.len() as u64 + NOTE_RESERVE > self.max_bytes {
            return Ok(false);
        }
        self.file.write_all(&bytes)?;
        self.written += bytes.len() as u64;
        Ok(true)
    }

    /// The last line of a full file.
    fn truncated(mut self) -> std::io::Result<()> {
        let note = format!(
            "the capture was truncated at {} bytes: later output is not in this file",
            self.written
        );
        let mut bytes = serde_json::to_vec(&Record {
            captured_at: &captured_at(SystemTime::now()),
            stream: "sdd",
            text: &note,
        })
        .map_err(std::io::Error::other)?;
        bytes.push(b'\n');
        self.file.write_all(&bytes)?;
        self.file.flush()
    }
}

#[derive(serde::Serialize)]
struct Record<'a> {
    captured_at: &'a str,
    stream: &'a str,
    text: &'a str,
}

fn stream_name(stream: Stream) -> &'static str {
    match stream {
        Stream::Stdout => "stdout",
        Stream::Stderr => "stderr",
    }
}

fn since_epoch(at: SystemTime) -> Duration {
    // A clock before 1970 reads as the epoch: the time informs, it never decides.
    at.duration_since(UNIX_EPOCH).unwrap_or_default()
}

/// RFC 3339 in UTC to the microsecond: `2026-12-01T03:12:00.123456Z`.
pub(crate) fn captured_at(at: SystemTime) -> String {
    let since = since_epoch(at);
    let seconds = sdd_spec::review::rfc3339(i64::try_from(since.as_secs()).unwrap_or(0));
    let whole = seconds.strip_suffix('Z').unwrap_or(&seconds);
    format!("{whole}.{:06}Z", since.subsec_micros())
}

/// `20261201T031200Z`: the start time in a file name (sorts as it happened).
fn file_stamp(at: SystemTime) -> String {
    let seconds = i64::try_from(since_epoch(at).as_secs()).unwrap_or(0);
    sdd_spec::review::rfc3339(seconds).replace(['-', ':'], "")
}

/// Cut `text` to at most `bytes` bytes at a character boundary, marking the cut.
fn cut(text: &mut String, bytes: usize) {
    if text.len() > bytes {
        let mut at = bytes;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
        text.push('…');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_to_the_microsecond_and_file_names_sort_by_start() {
        let at = UNIX_EPOCH + Duration::new(1_796_094_720, 123_456_789);
        assert_eq!(captured_at(at), "2026-12-01T03:12:00.123456Z");
        assert_eq!(file_stamp(at), "20261201T031200Z");
    }

    fn read_lines(path: &Path) -> Vec<serde_json::Value> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn a_file_stops_at_its_cap_with_a_last_line_saying_so() {
        let dir = tempfile::tempdir().unwrap();
        let capture = Capture {
            dir: dir.path().to_path_buf(),
            max_file_bytes: 2048,
            keep_files: 10,
        };
        let handle = start(&capture, SystemTime::now(), 42).unwrap();
        for i in 0..100 {
            handle
                .sink
                .send(Stream::Stdout, &format!("line {i} \"quoted\""));
        }
        let CaptureHandle {
            sink, writer, path, ..
        } = handle;
        drop(sink);
        writer.join().unwrap();
        let size = std::fs::metadata(&path).unwrap().len();
        assert!(size <= 2048, "{size}");
        let lines = read_lines(&path);
        assert_eq!(lines[0]["text"], "line 0 \"quoted\"");
        assert_eq!(lines[0]["stream"], "stdout");
        let last = lines.last().unwrap();
        assert_eq!(last["stream"], "sdd");
        assert!(last["text"].as_str().unwrap().contains("truncated"));
        assert!(lines.len() < 100);
    }

    #[test]
    fn only_the_newest_files_are_kept() {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..5 {
            let name = format!("service-2000010{i}T000000Z-1.jsonl");
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::write(dir.path().join("other.txt"), "").unwrap();
        let capture = Capture {
            dir: dir.path().to_path_buf(),
            max_file_bytes: MAX_FILE_BYTES,
            keep_files: 3,
        };
        let handle = start(&capture, SystemTime::now(), 7).unwrap();
        drop(handle.sink);
        handle.writer.join().unwrap();
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        assert_eq!(names.len(), 4, "{names:?}");
        assert_eq!(names[0], "other.txt");
        assert_eq!(names[1], "service-20000103T000000Z-1.jsonl");
        assert!(names[3].ends_with("-7.jsonl"));
    }

    #[test]
    fn an_unusable_directory_means_no_capture_and_no_panic() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a-file");
        std::fs::write(&file, "").unwrap();
        assert!(start(&Capture::in_dir(file.join("sub")), SystemTime::now(), 1).is_none());
    }
}

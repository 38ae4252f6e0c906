//! The debugger's event sources, streamed: JSON lines through a field mapping, OTLP JSON logs
//! and traces, plain text, and the service output SDD captured — each line read on its own, in
//! constant memory whatever the file's size.
//!
//! Every source ends in two callbacks: an [`Event`] for each record of the convention, a
//! [`TextLine`] for each line of text (for the template miner). What could not be read is
//! counted in the [`ReadReport`] with its reason and a few examples, never fatal: a file of
//! millions of lines is read to the end, whatever one line holds.
//!
//! Lines are read with one reused buffer up to [`ReadOptions::max_line_bytes`]; a longer line is
//! skipped by reading on to its end without keeping it. Invalid UTF-8 is read lossily (and
//! counted). A leading UTF-8 byte order mark and CRLF line ends are accepted.

mod json;
mod otlp;
mod sources;
mod timestamp;

use std::borrow::Cow;
use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use json::{Field, FieldMap};
pub use sources::{sources_of, SourceSpec};
pub use timestamp::{
    leading_timestamp, parse_timestamp, parse_timestamp_str, TimestampFormat, EARLIEST_SECONDS,
    LATEST_SECONDS, UNIX_MICROS_FROM, UNIX_MILLIS_FROM, UNIX_NANOS_FROM,
};

use crate::event::{Event, EventKind, Nanos, Origin};
use timestamp::timestamp_of_str;

/// The longest line read by default (1 MiB); longer ones are skipped and counted.
pub const MAX_LINE_BYTES: usize = 1 << 20;
/// The longest excerpt of a skipped line, in characters.
pub const EXCERPT_CHARS: usize = 200;

/// How a source's lines are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Each line on its own: a JSON object with `resourceLogs` or `resourceSpans` is OTLP, any
    /// other JSON object a JSON-lines event, anything else a text line.
    #[default]
    Auto,
    /// One JSON object per line, read through the [`FieldMap`]; a line that is not one is
    /// skipped.
    JsonLines,
    /// One OTLP JSON `ExportLogsServiceRequest` or `ExportTraceServiceRequest` per line.
    OtlpJson,
    /// Text lines, each given to `on_text` with its leading timestamp (if any) taken off.
    Text,
    /// SDD's capture of the service's output (`.sdd/service-logs/*.jsonl`, written by
    /// `sdd-exec`): each line's `text` is a JSON-lines event when it is a JSON object (at its
    /// own timestamp, else the capture time), else a text line at the capture time (or its own
    /// leading timestamp).
    ServiceCapture,
}

impl Format {
    /// Its name in `sdd.yaml`: `auto`, `json_lines`, `otlp_json`, `text`, `service_capture`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Auto => "auto",
            Format::JsonLines => "json_lines",
            Format::OtlpJson => "otlp_json",
            Format::Text => "text",
            Format::ServiceCapture => "service_capture",
        }
    }
}

impl From<sdd_spec::project::EventFormat> for Format {
    fn from(format: sdd_spec::project::EventFormat) -> Format {
        use sdd_spec::project::EventFormat;
        match format {
            EventFormat::Auto => Format::Auto,
            EventFormat::JsonLines => Format::JsonLines,
            EventFormat::OtlpJson => Format::OtlpJson,
            EventFormat::Text => Format::Text,
            EventFormat::ServiceCapture => Format::ServiceCapture,
        }
    }
}

/// What to deliver, and how much to keep of what could not be read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// `[start, end)`: events (and timestamped text lines) outside it are counted in
    /// `outside_window`, not delivered. Text lines without a time are always delivered.
    pub window: Option<(Nanos, Nanos)>,
    /// How many skipped lines to keep as examples (default 5).
    pub max_examples: usize,
    /// The longest line read (default [`MAX_LINE_BYTES`]).
    pub max_line_bytes: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            window: None,
            max_examples: 5,
            max_line_bytes: MAX_LINE_BYTES,
        }
    }
}

/// One line of text for the template miner. A leading timestamp (the date-time formats of
/// [`parse_timestamp`], optionally in square brackets) is taken off `text` and given as `at`,
/// so that templates do not vary with the time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextLine<'a> {
    pub at: Option<Nanos>,
    pub text: &'a str,
    /// 1-based line number in the file.
    pub line: u64,
}

/// A line (or record) that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Skipped {
    /// 1-based line number in the file.
    pub line: u64,
    pub reason: String,
    /// The start of the line, at most 200 characters.
    pub excerpt: String,
}

/// What reading one file found.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ReadReport {
    pub file: String,
    /// `auto`, `json_lines`, `otlp_json`, `text` or `service_capture`.
    pub format: String,
    /// Lines read, blank ones included.
    pub lines: u64,
    /// Events delivered, spans included.
    pub events: u64,
    /// Of the events delivered, the spans.
    pub spans: u64,
    /// Text lines delivered.
    pub text_lines: u64,
    /// Lines or records that could not be read (a line of OTLP JSON holds many records; each
    /// bad one counts).
    pub skipped: u64,
    /// The first few of them.
    pub skipped_examples: Vec<Skipped>,
    /// Events and timestamped text lines outside the window, not delivered.
    pub outside_window: u64,
    /// Events and timestamped text lines earlier than the one before them in the file.
    pub out_of_order: u64,
    /// The timestamp formats seen, in the order first seen: more than one means a mixed file.
    pub timestamp_formats: Vec<String>,
    /// Lines that were not valid UTF-8, read with the invalid bytes replaced by U+FFFD.
    pub invalid_utf8: u64,
    /// Trace or span IDs that were not 32 or 16 hex digits, left out of their events.
    pub invalid_ids: u64,
}

/// A file that cannot be read at all. (A line that cannot be read is only counted.)
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open {file}: {source}")]
    Open {
        file: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{file} is {kind}, not a regular file: only regular files are read (a FIFO or a device could block forever)")]
    NotAFile { file: String, kind: &'static str },
    #[error("cannot read {file} after line {line}: {source}")]
    Io {
        file: String,
        line: u64,
        #[source]
        source: std::io::Error,
    },
}

/// Counters the per-format readers add to.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    pub invalid_ids: u64,
}

/// Read `path` line by line: only a regular file (a directory, FIFO, socket or device is
/// refused before it is opened, and again on the opened handle, so a FIFO never blocks).
pub fn read_file(
    path: &Path,
    format: Format,
    fields: &FieldMap,
    options: &ReadOptions,
    on_event: &mut dyn FnMut(Event),
    on_text: &mut dyn FnMut(TextLine<'_>),
) -> Result<ReadReport, ReadError> {
    let name = path.display().to_string();
    read_file_as(path, &name, format, fields, options, on_event, on_text)
}

/// [`read_file`], the file named `name` in the report and the events' origins (a path
/// relative to the project, say).
pub fn read_file_as(
    path: &Path,
    name: &str,
    format: Format,
    fields: &FieldMap,
    options: &ReadOptions,
    on_event: &mut dyn FnMut(Event),
    on_text: &mut dyn FnMut(TextLine<'_>),
) -> Result<ReadReport, ReadError> {
    use std::os::unix::fs::OpenOptionsExt;
    let name = name.to_string();
    let open_error = |source| ReadError::Open {
        file: name.clone(),
        source,
    };
    let metadata = std::fs::metadata(path).map_err(open_error)?;
    let not_a_file = |kind| ReadError::NotAFile {
        file: name.clone(),
        kind,
    };
    if let Some(kind) = sdd_spec::limits::non_regular_kind(metadata.file_type()) {
        return Err(not_a_file(kind));
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(open_error)?;
    // The path may have been replaced between the check and the open.
    let opened = file.metadata().map_err(open_error)?;
    if let Some(kind) = sdd_spec::limits::non_regular_kind(opened.file_type()) {
        return Err(not_a_file(kind));
    }
    let reader = std::io::BufReader::with_capacity(256 * 1024, file);
    read_from(reader, &name, format, fields, options, on_event, on_text)
}

/// [`read_file`] from any reader, named `name` in the report and the events' origins.
pub fn read_from(
    mut reader: impl BufRead,
    name: &str,
    format: Format,
    fields: &FieldMap,
    options: &ReadOptions,
    on_event: &mut dyn FnMut(Event),
    on_text: &mut dyn FnMut(TextLine<'_>),
) -> Result<ReadReport, ReadError> {
    let mut state = State {
        report: ReadReport {
            file: name.to_string(),
            format: format.name().to_string(),
            ..ReadReport::default()
        },
        file: Arc::from(name),
        format,
        fields,
        options,
        previous_at: None,
        formats_seen: Vec::new(),
        tally: Tally::default(),
        on_event,
        on_text,
    };
    let cap = options.max_line_bytes.max(1);
    let mut buffer: Vec<u8> = Vec::with_capacity(64 * 1024);
    loop {
        buffer.clear();
        let line_no = state.report.lines + 1;
        let io_error = |source| ReadError::Io {
            file: name.to_string(),
            line: line_no - 1,
            source,
        };
        // One byte past the cap: a line that fills it without its newline is too long.
        let read = (&mut reader)
            .take(cap as u64 + 1)
            .read_until(b'\n', &mut buffer)
            .map_err(io_error)?;
        if read == 0 {
            break;
        }
        state.report.lines = line_no;
        if buffer.len() > cap && buffer.last() != Some(&b'\n') {
            let rest = discard_line(&mut reader).map_err(io_error)?;
            let total = buffer.len() as u64 + rest;
            let excerpt = excerpt_of(&String::from_utf8_lossy(
                &buffer[..buffer.len().min(EXCERPT_CHARS * 4)],
            ));
            state.skip_with_excerpt(
                line_no,
                format!("a line of {total} bytes, longer than the {cap} read"),
                excerpt,
            );
            continue;
        }
        let mut bytes = buffer.as_slice();
        if let Some(rest) = bytes.strip_suffix(b"\n") {
            bytes = rest;
        }
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        if line_no == 1 {
            if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
                bytes = rest;
            }
        }
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => Cow::Borrowed(text),
            Err(_) => {
                state.report.invalid_utf8 += 1;
                String::from_utf8_lossy(bytes)
            }
        };
        state.line(&text, line_no);
    }
    Ok(state.finish())
}

/// Whether a line's first key is `resourceLogs` or `resourceSpans`, as the collector writes
/// them: such a line goes straight to the OTLP reader instead of being parsed as an event first.
fn looks_like_otlp(line: &str) -> bool {
    let Some(rest) = line.trim_start().strip_prefix('{') else {
        return false;
    };
    let rest = rest.trim_start();
    rest.starts_with("\"resourceLogs\"") || rest.starts_with("\"resourceSpans\"")
}

/// Read and drop the rest of a line (through its newline); the bytes dropped. `skip_until`
/// keeps nothing, so a line of gigabytes costs no memory.
fn discard_line(reader: &mut impl BufRead) -> std::io::Result<u64> {
    reader.skip_until(b'\n').map(|n| n as u64)
}

/// At most [`EXCERPT_CHARS`] characters, control characters as spaces.
fn excerpt_of(text: &str) -> String {
    text.chars()
        .take(EXCERPT_CHARS)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// Cut `text` to at most `chars` characters, marking the cut.
pub(crate) fn clip(text: &mut String, chars: usize) {
    if let Some((at, _)) = text.char_indices().nth(chars) {
        text.truncate(at);
        text.push('…');
    }
}

/// A line of SDD's service capture (see `sdd_exec::service`).
#[derive(Deserialize)]
struct CapturedLine {
    captured_at: String,
    text: String,
}

struct State<'a> {
    report: ReadReport,
    file: Arc<str>,
    format: Format,
    fields: &'a FieldMap,
    options: &'a ReadOptions,
    previous_at: Option<Nanos>,
    formats_seen: Vec<&'static str>,
    tally: Tally,
    on_event: &'a mut dyn FnMut(Event),
    on_text: &'a mut dyn FnMut(TextLine<'_>),
}

impl State<'_> {
    fn line(&mut self, text: &str, line_no: u64) {
        if text.trim().is_empty() {
            return;
        }
        match self.format {
            Format::Text => self.text_line(text, line_no, None),
            Format::JsonLines => self.json_line(text, line_no, false, None),
            Format::OtlpJson => self.otlp_line(text, line_no),
            Format::Auto => {
                if text.trim_start().starts_with('{') {
                    self.json_line(text, line_no, true, None);
                } else {
                    self.text_line(text, line_no, None);
                }
            }
            Format::ServiceCapture => self.captured_line(text, line_no),
        }
    }

    /// One or more JSON objects (two records written onto one line are both read; a line
    /// that stops being JSON is skipped from there, with the reason).
    fn json_line(
        &mut self,
        text: &str,
        line_no: u64,
        sniff_otlp: bool,
        fallback: Option<(Nanos, TimestampFormat)>,
    ) {
        if sniff_otlp && looks_like_otlp(text) {
            self.otlp_line(text, line_no);
            return;
        }
        if fallback.is_none() && self.fields.is_plain() {
            if let Some((event, format)) = json::plain_event(text, &mut self.tally) {
                self.event(event, Some(format), line_no);
                return;
            }
        }
        let mut records = serde_json::Deserializer::from_str(text).into_iter::<Value>();
        let mut read = 0;
        loop {
            match records.next() {
                None => break,
                Some(Ok(Value::Object(record))) => {
                    read += 1;
                    self.record(record, text, line_no, sniff_otlp, fallback);
                }
                Some(Ok(other)) => {
                    let kind = match other {
                        Value::Array(_) => "an array",
                        Value::String(_) => "a string",
                        Value::Number(_) => "a number",
                        _ => "not an object",
                    };
                    self.skip(
                        line_no,
                        format!("a JSON value that is {kind}, not an object"),
                        text,
                    );
                    break;
                }
                Some(Err(e)) => {
                    let mut reason = if read == 0 {
                        format!("invalid JSON: {e}")
                    } else {
                        format!("invalid JSON after {read} record(s) on the line: {e}")
                    };
                    if text.trim() == "{" {
                        reason.push_str(
                            " (a pretty-printed file? one object per line is read: `jq -c .`)",
                        );
                    }
                    self.skip(line_no, reason, text);
                    break;
                }
            }
        }
    }

    fn record(
        &mut self,
        record: serde_json::Map<String, Value>,
        text: &str,
        line_no: u64,
        sniff_otlp: bool,
        fallback: Option<(Nanos, TimestampFormat)>,
    ) {
        if sniff_otlp && otlp::is_request(&record) {
            // Rare (a line whose first key is not resourceLogs or resourceSpans, or an OTLP
            // line a captured service printed): written out again, to be read raw.
            let line = Value::Object(record).to_string();
            self.otlp_line(&line, line_no);
            return;
        }
        match json::event_of(record, self.fields, fallback.map(|f| f.0), &mut self.tally) {
            Ok((event, format)) => self.event(event, format.or(fallback.map(|f| f.1)), line_no),
            Err(json::NoTimestamp(reason)) => self.skip(line_no, reason, text),
        }
    }

    fn otlp_line(&mut self, text: &str, line_no: u64) {
        match serde_json::from_str::<otlp::Request>(text) {
            Ok(request) if request.is_foreign() => self.skip(
                line_no,
                "not an OTLP request (no resourceLogs or resourceSpans)".into(),
                text,
            ),
            Ok(request) => self.otlp_request(request, text, line_no),
            Err(e) => self.skip(line_no, format!("invalid OTLP JSON: {e}"), text),
        }
    }

    fn otlp_request(&mut self, request: otlp::Request, text: &str, line_no: u64) {
        let mut items = Vec::new();
        otlp::events_of(request, &mut self.tally, &mut |item| items.push(item));
        for item in items {
            match item {
                Ok(event) => self.event(event, Some(TimestampFormat::OtlpUnixNano), line_no),
                Err(reason) => self.skip(line_no, reason, text),
            }
        }
    }

    fn captured_line(&mut self, text: &str, line_no: u64) {
        let captured = match serde_json::from_str::<CapturedLine>(text) {
            Ok(captured) => captured,
            Err(e) => {
                self.skip(line_no, format!("not a captured service line: {e}"), text);
                return;
            }
        };
        let Some(captured_at) = timestamp_of_str(&captured.captured_at) else {
            self.skip(
                line_no,
                format!("captured_at {:?} is not a time", captured.captured_at),
                text,
            );
            return;
        };
        let inner = captured.text.trim();
        if inner.starts_with('{') {
            if let Ok(Value::Object(record)) = serde_json::from_str::<Value>(inner) {
                self.record(record, inner, line_no, true, Some(captured_at));
                return;
            }
        }
        self.text_line(&captured.text, line_no, Some(captured_at));
    }

    fn text_line(&mut self, text: &str, line_no: u64, fallback: Option<(Nanos, TimestampFormat)>) {
        let (at, text) = match leading_timestamp(text) {
            Some((at, format, rest)) => (Some((at, format)), rest),
            None => (fallback, text),
        };
        if let Some((at, format)) = at {
            self.saw_format(format);
            self.order(at);
            if !self.in_window(at) {
                self.report.outside_window += 1;
                return;
            }
        }
        self.report.text_lines += 1;
        (self.on_text)(TextLine {
            at: at.map(|(at, _)| at),
            text,
            line: line_no,
        });
    }

    fn event(&mut self, mut event: Event, format: Option<TimestampFormat>, line_no: u64) {
        if let Some(format) = format {
            self.saw_format(format);
        }
        self.order(event.at);
        if !self.in_window(event.at) {
            self.report.outside_window += 1;
            return;
        }
        event.origin = Some(Origin {
            file: self.file.clone(),
            line: line_no,
        });
        self.report.events += 1;
        if event.kind == EventKind::Span {
            self.report.spans += 1;
        }
        (self.on_event)(event);
    }

    fn order(&mut self, at: Nanos) {
        if self.previous_at.is_some_and(|previous| at < previous) {
            self.report.out_of_order += 1;
        }
        self.previous_at = Some(at);
    }

    fn in_window(&self, at: Nanos) -> bool {
        self.options
            .window
            .is_none_or(|(start, end)| (start..end).contains(&at))
    }

    fn saw_format(&mut self, format: TimestampFormat) {
        let name = format.name();
        if !self.formats_seen.contains(&name) {
            self.formats_seen.push(name);
        }
    }

    fn skip(&mut self, line: u64, reason: String, text: &str) {
        self.skip_with_excerpt(line, reason, excerpt_of(text));
    }

    fn skip_with_excerpt(&mut self, line: u64, mut reason: String, excerpt: String) {
        self.report.skipped += 1;
        if self.report.skipped_examples.len() < self.options.max_examples {
            // serde's messages quote what they saw; keep the reason readable.
            clip(&mut reason, 300);
            self.report.skipped_examples.push(Skipped {
                line,
                reason,
                excerpt,
            });
        }
    }

    fn finish(mut self) -> ReadReport {
        self.report.timestamp_formats = self.formats_seen.iter().map(|f| f.to_string()).collect();
        self.report.invalid_ids = self.tally.invalid_ids;
        self.report
    }
}

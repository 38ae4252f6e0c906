//! SDD's semantic events (SDD's README, "Semantic event convention"): a `tracing` layer that
//! writes every event and every closed span as a JSON line (`EVENTS_LOG`) and as OTLP JSON
//! (`OTLP_LOG`, the OpenTelemetry collector's `file` exporter format).
//!
//! Handlers speak plain `tracing`. The layer reads these field names (everything else is an
//! attribute under its own name):
//!
//! - `scenario`, `step`, `constraint`, `business_rule`, `expected_outcome`, `actual_outcome`,
//!   `outcome`, `message`: the convention's own fields; `event` names an event that has no
//!   `name:` (the `name:` of `tracing::info!(name: "task.create", …)` is the event's name);
//! - `decision.<factor>`: a decision factor (numbers stay numbers);
//! - `attr.<name>`: an attribute named `<name>` (the prefix is optional: any other field is an
//!   attribute too, so a span's `user`, `db_shard`, `task_id` and `client_version` are);
//! - on a root span only, `traceparent` (the W3C header, whose trace the request continues)
//!   and `otel.kind = "server"` (written as OTLP span kind 2); neither is written as a field.
//!
//! An event carries the fields of every span it is in (outer first, inner ones override) and
//! its own, the trace and span IDs of the innermost span, and `duration_ms` since that span
//! began. A span is written when it closes: a JSON line whose `event` is the span's name, with
//! its fields and its whole `duration_ms`, and an OTLP span (status 2, error, when an event in
//! it failed or logged an error, or its `http.response.status_code` is 5xx).
//!
//! Handlers never wait for a disk: the layer hands each record to a writer thread through a
//! bounded channel and counts, instead of blocking, the records a full channel refuses (told at
//! shutdown). The writer flushes every 100 records or 200 ms, so an OTLP line holds a batch.
//!
//! Why the OTLP JSON is written here with serde_json rather than by OpenTelemetry's crates:
//! `opentelemetry-stdout` writes its own debug-oriented layout, not the collector's `file`
//! exporter format that SDD's debugger reads, and `opentelemetry_sdk` brings an asynchronous
//! export pipeline (batch processors, a runtime, futures) for what is a buffered file write.
//! Measured with `cargo tree -e normal` (0.31): opentelemetry + opentelemetry_sdk +
//! opentelemetry-stdout are 31 crates on their own and 17 new in this service (26 with
//! tracing-opentelemetry and opentelemetry-appender-tracing to keep `tracing` as the API);
//! tracing + tracing-subscriber (`registry`, `std`) are 9 crates on their own, 7 new here.

use std::borrow::Cow;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde_json::json;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record as Recorded};
use tracing::{Dispatch, Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// `service_name` of every record (`service.name` in OTLP).
pub const SERVICE_NAME: &str = "task-manager";

/// An OTLP line is written once this many records wait…
const BATCH_RECORDS: usize = 100;
/// …or once the oldest has waited this long.
const BATCH_AGE: Duration = Duration::from_millis(200);
/// Records between the handlers and the writer; past this they are dropped (and counted).
const QUEUE_RECORDS: usize = 16_384;

/// Where the semantic events go; both `None` is no events at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventsConfig {
    /// JSON lines by the convention's field names (`EVENTS_LOG`). Appended to.
    pub json_lines: Option<PathBuf>,
    /// OTLP JSON, one `ExportLogsServiceRequest` or `ExportTraceServiceRequest` per line
    /// (`OTLP_LOG`). Appended to.
    pub otlp: Option<PathBuf>,
}

impl EventsConfig {
    /// From `EVENTS_LOG` and `OTLP_LOG` (unset or empty: that output is off).
    pub fn from_env() -> EventsConfig {
        let path = |name: &str| {
            std::env::var_os(name)
                .filter(|p| !p.is_empty())
                .map(PathBuf::from)
        };
        EventsConfig {
            json_lines: path("EVENTS_LOG"),
            otlp: path("OTLP_LOG"),
        }
    }

    pub fn is_off(&self) -> bool {
        self.json_lines.is_none() && self.otlp.is_none()
    }
}

/// The running event pipeline: the `tracing` dispatcher to run requests under, and its writer.
/// Clones share both.
#[derive(Clone)]
pub struct Events {
    dispatch: Dispatch,
    writer: Arc<WriterHandle>,
}

impl std::fmt::Debug for Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Events").finish_non_exhaustive()
    }
}

struct WriterHandle {
    sender: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Events {
    /// Open the files (their directories are created) and start the writer thread.
    pub fn start(config: &EventsConfig, service_version: &str) -> Result<Events, String> {
        let open = |path: &Option<PathBuf>| -> Result<Option<BufWriter<File>>, String> {
            path.as_deref().map(open_append).transpose()
        };
        let sinks = Sinks {
            json_lines: open(&config.json_lines)?,
            otlp: open(&config.otlp)?,
            service_version: service_version.to_string(),
            reported: false,
            line: Vec::new(),
        };
        let (sender, receiver) = mpsc::sync_channel(QUEUE_RECORDS);
        let thread = std::thread::Builder::new()
            .name("events-writer".into())
            .spawn(move || write_records(receiver, sinks))
            .map_err(|e| format!("cannot start the events writer: {e}"))?;
        let dropped = Arc::new(AtomicU64::new(0));
        let layer = EventLayer {
            sender: sender.clone(),
            dropped: dropped.clone(),
            ids: Ids::seeded(),
        };
        Ok(Events {
            dispatch: Dispatch::new(tracing_subscriber::registry().with(layer)),
            writer: Arc::new(WriterHandle {
                sender,
                dropped,
                thread: Mutex::new(Some(thread)),
            }),
        })
    }

    /// The dispatcher the layer is in: run a request under it (`WithSubscriber`).
    pub fn dispatch(&self) -> &Dispatch {
        &self.dispatch
    }

    /// Records refused so far because the writer's queue was full.
    pub fn dropped(&self) -> u64 {
        self.writer.dropped.load(Ordering::Relaxed)
    }

    /// Wait until every record sent so far is in the files (for tests and shutdown; never
    /// from a request handler).
    pub fn flush(&self) {
        let (done, wait) = mpsc::sync_channel(1);
        if self.writer.sender.send(Message::Flush(done)).is_ok() {
            let _ = wait.recv();
        }
    }

    /// Flush, stop the writer and say on stderr how many records were dropped. Records sent
    /// afterwards are lost; a second call does nothing.
    pub fn shutdown(&self) {
        self.writer.stop();
    }
}

impl WriterHandle {
    fn stop(&self) {
        let thread = self.thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        let Some(thread) = thread else { return };
        let _ = self.sender.send(Message::Stop);
        let _ = thread.join();
        eprintln!(
            "task-manager: events stopped; {} records dropped (the writer's queue was full)",
            self.dropped.load(Ordering::Relaxed)
        );
    }
}

impl Drop for WriterHandle {
    fn drop(&mut self) {
        // The last `Events` is gone: what was sent still reaches the files.
        self.stop();
    }
}

fn open_append(path: &Path) -> Result<BufWriter<File>, String> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 16, file))
}

/// A field's value as `tracing` handed it over.
#[derive(Debug, Clone, PartialEq)]
pub enum FieldValue {
    Str(String),
    I64(i64),
    U64(u64),
    F64(f64),
    Bool(bool),
}

impl FieldValue {
    /// The value as text: a string as it is, anything else as JSON.
    fn text(&self) -> Cow<'_, str> {
        match self {
            FieldValue::Str(s) => Cow::Borrowed(s),
            other => Cow::Owned(serde_json::to_string(other).expect("a scalar serializes")),
        }
    }
}

type Fields = Vec<(&'static str, FieldValue)>;

/// Collects fields in the order `tracing` visits them.
struct Collect<'a>(&'a mut Fields);

impl Collect<'_> {
    fn put(&mut self, field: &Field, value: FieldValue) {
        let name = field.name();
        // A value recorded again (`Span::record`) replaces the one before.
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }
}

impl Visit for Collect<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, FieldValue::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, FieldValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, FieldValue::U64(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, FieldValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, FieldValue::Str(value.to_string()));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, FieldValue::Str(format!("{value:?}")));
    }
}

/// Trace and span IDs from a splitmix64 stream: fast, no lock, no `rand`. Seeded from the
/// clock, the process and a counter, so two pipelines (or two processes) do not collide.
struct Ids {
    state: AtomicU64,
}

impl Ids {
    fn seeded() -> Ids {
        static PIPELINES: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let seed = nanos
            ^ u64::from(std::process::id()).rotate_left(32)
            ^ PIPELINES
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_mul(0xA076_1D64_78BD_642F);
        Ids {
            state: AtomicU64::new(seed),
        }
    }

    fn next(&self) -> u64 {
        const GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut z = self
            .state
            .fetch_add(GAMMA, Ordering::Relaxed)
            .wrapping_add(GAMMA);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Never 0: W3C trace context makes all-zero IDs invalid.
    fn span_id(&self) -> u64 {
        loop {
            let id = self.next();
            if id != 0 {
                return id;
            }
        }
    }

    fn trace_id(&self) -> u128 {
        (u128::from(self.next()) << 64) | u128::from(self.span_id())
    }
}

/// The trace ID and parent span ID of a W3C `traceparent` header
/// (`00-<32 hex>-<16 hex>-<2 hex>`); `None` for anything else, all-zero IDs included.
pub fn parse_traceparent(header: &str) -> Option<(u128, u64)> {
    let mut parts = header.trim().split('-');
    let (version, trace, parent, flags) =
        (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    let hex = |s: &str, len: usize| {
        s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    };
    // Version 00 has exactly four parts; a later version may add more.
    let later = version != "00";
    if !hex(version, 2) || version == "ff" || !hex(trace, 32) || !hex(parent, 16) {
        return None;
    }
    if !hex(flags, 2) || (!later && parts.next().is_some()) {
        return None;
    }
    let trace = u128::from_str_radix(trace, 16).ok()?;
    let parent = u64::from_str_radix(parent, 16).ok()?;
    (trace != 0 && parent != 0).then_some((trace, parent))
}

/// What the layer keeps in each span (the registry's extensions).
struct SpanData {
    trace_id: u128,
    span_id: u64,
    parent_span_id: Option<u64>,
    start: SystemTime,
    started: Instant,
    fields: Fields,
    server: bool,
    failed: bool,
}

/// Where a record stands in its trace.
#[derive(Debug, Clone, Copy)]
struct TraceContext {
    trace_id: u128,
    span_id: u64,
    parent_span_id: Option<u64>,
}

enum RecordKind {
    Event,
    Span {
        end: SystemTime,
        server: bool,
        failed: bool,
    },
}

/// One event or closed span, as the handler's thread hands it to the writer: the fields
/// unsorted (outer spans' first), every formatting left to the writer.
struct Record {
    kind: RecordKind,
    /// The event's `name:` or the span's name; `None` for an event without one.
    name: Option<&'static str>,
    level: Level,
    /// An event's time; a span's start.
    at: SystemTime,
    trace: Option<TraceContext>,
    duration_ms: Option<f64>,
    fields: Fields,
}

enum Message {
    Record(Record),
    Flush(SyncSender<()>),
    Stop,
}

struct EventLayer {
    sender: SyncSender<Message>,
    dropped: Arc<AtomicU64>,
    ids: Ids,
}

impl EventLayer {
    fn send(&self, record: Record) {
        match self.sender.try_send(Message::Record(record)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            // Stopped: the service is shutting down.
            Err(TrySendError::Disconnected(_)) => {}
        }
    }
}

fn duration_ms(since: Instant) -> f64 {
    // Microsecond precision, as the timestamps have.
    (since.elapsed().as_micros() as f64) / 1000.0
}

fn is_failure(fields: &[(&'static str, FieldValue)]) -> bool {
    fields
        .iter()
        .any(|(n, v)| *n == "outcome" && *v == FieldValue::Str("failure".into()))
}

impl<S> Layer<S> for EventLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut fields = Fields::new();
        attributes.record(&mut Collect(&mut fields));
        let take = |fields: &mut Fields, name: &str| {
            let at = fields.iter().position(|(n, _)| *n == name)?;
            Some(fields.remove(at).1)
        };
        let traceparent = take(&mut fields, "traceparent");
        let server = take(&mut fields, "otel.kind") == Some(FieldValue::Str("server".into()));
        let inherited = span.parent().and_then(|parent| {
            let extensions = parent.extensions();
            let data = extensions.get::<SpanData>()?;
            Some((data.trace_id, Some(data.span_id)))
        });
        let continued = || match &traceparent {
            Some(FieldValue::Str(header)) => {
                parse_traceparent(header).map(|(trace, parent)| (trace, Some(parent)))
            }
            _ => None,
        };
        let (trace_id, parent_span_id) = inherited
            .or_else(continued)
            .unwrap_or_else(|| (self.ids.trace_id(), None));
        span.extensions_mut().insert(SpanData {
            trace_id,
            span_id: self.ids.span_id(),
            parent_span_id,
            start: SystemTime::now(),
            started: Instant::now(),
            fields,
            server,
            failed: false,
        });
    }

    fn on_record(&self, id: &Id, values: &Recorded<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(data) = extensions.get_mut::<SpanData>() {
            values.record(&mut Collect(&mut data.fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let at = SystemTime::now();
        let mut fields = Fields::new();
        let mut trace = None;
        let mut duration = None;
        let innermost = ctx.event_span(event);
        if let Some(span) = &innermost {
            for outer in span.scope().from_root() {
                if let Some(data) = outer.extensions().get::<SpanData>() {
                    fields.extend(data.fields.iter().cloned());
                    trace = Some(TraceContext {
                        trace_id: data.trace_id,
                        span_id: data.span_id,
                        parent_span_id: data.parent_span_id,
                    });
                    duration = Some(duration_ms(data.started));
                }
            }
        }
        let own = fields.len();
        event.record(&mut Collect(&mut fields));
        let level = *event.metadata().level();
        if let Some(span) = &innermost {
            if level == Level::ERROR || is_failure(&fields[own..]) {
                if let Some(data) = span.extensions_mut().get_mut::<SpanData>() {
                    data.failed = true;
                }
            }
        }
        // `tracing` names an event without `name:` "event <file>:<line>": no name of ours.
        let name = event.metadata().name();
        self.send(Record {
            kind: RecordKind::Event,
            name: (!name.starts_with("event ")).then_some(name),
            level,
            at,
            trace,
            duration_ms: duration,
            fields,
        });
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(data) = span.extensions_mut().remove::<SpanData>() else {
            return;
        };
        let mut fields = Fields::new();
        if let Some(parent) = span.parent() {
            for outer in parent.scope().from_root() {
                if let Some(outer) = outer.extensions().get::<SpanData>() {
                    fields.extend(outer.fields.iter().cloned());
                }
            }
        }
        let server_error = data.fields.iter().any(|(n, v)| {
            *n == "http.response.status_code"
                && matches!(v, FieldValue::U64(c) if *c >= 500)
                    | matches!(v, FieldValue::I64(c) if *c >= 500)
        });
        let failed = data.failed || server_error || is_failure(&data.fields);
        fields.extend(data.fields);
        self.send(Record {
            kind: RecordKind::Span {
                end: SystemTime::now(),
                server: data.server,
                failed,
            },
            name: Some(span.name()),
            level: if failed { Level::ERROR } else { Level::INFO },
            at: data.start,
            trace: Some(TraceContext {
                trace_id: data.trace_id,
                span_id: data.span_id,
                parent_span_id: data.parent_span_id,
            }),
            duration_ms: Some(duration_ms(data.started)),
            fields,
        });
    }
}

/// A record's fields sorted into the convention's places, borrowed from the record; a later
/// value of a name wins.
#[derive(Default)]
struct Semantic<'a> {
    event: Option<Cow<'a, str>>,
    message: Option<Cow<'a, str>>,
    scenario: Option<Cow<'a, str>>,
    step: Option<Cow<'a, str>>,
    constraint: Option<Cow<'a, str>>,
    business_rule: Option<Cow<'a, str>>,
    expected_outcome: Option<Cow<'a, str>>,
    actual_outcome: Option<Cow<'a, str>>,
    outcome: Option<Cow<'a, str>>,
    decision_factors: Pairs<'a>,
    attributes: Pairs<'a>,
}

/// Named values, written as a JSON object in their order.
#[derive(Default)]
struct Pairs<'a>(Vec<(&'static str, &'a FieldValue)>);

impl<'a> Pairs<'a> {
    fn put(&mut self, name: &'static str, value: &'a FieldValue) {
        match self.0.iter_mut().find(|(n, _)| *n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name, value)),
        }
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Pairs<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in &self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

impl Serialize for FieldValue {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Str(s) => serializer.serialize_str(s),
            FieldValue::I64(n) => serializer.serialize_i64(*n),
            FieldValue::U64(n) => serializer.serialize_u64(*n),
            FieldValue::F64(x) if x.is_finite() => serializer.serialize_f64(*x),
            // JSON has no NaN or infinity.
            FieldValue::F64(x) => serializer.serialize_str(&x.to_string()),
            FieldValue::Bool(b) => serializer.serialize_bool(*b),
        }
    }
}

impl<'a> Semantic<'a> {
    fn of(fields: &'a Fields) -> Semantic<'a> {
        let mut s = Semantic::default();
        for (name, value) in fields {
            let text = || Some(value.text());
            match *name {
                "event" => s.event = text(),
                "message" => s.message = text(),
                "scenario" => s.scenario = text(),
                "step" => s.step = text(),
                "constraint" => s.constraint = text(),
                "business_rule" => s.business_rule = text(),
                "expected_outcome" => s.expected_outcome = text(),
                "actual_outcome" => s.actual_outcome = text(),
                "outcome" => s.outcome = text(),
                other => match other.strip_prefix("decision.") {
                    Some(factor) => s.decision_factors.put(factor, value),
                    None => s
                        .attributes
                        .put(other.strip_prefix("attr.").unwrap_or(other), value),
                },
            }
        }
        s
    }
}

/// A JSON line, in the convention's field order; absent fields are left out.
#[derive(Serialize)]
struct Line<'a> {
    timestamp: String,
    /// `span` for a timed step (its timestamp is its start); absent for an event.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    event: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<&'a str>,
    level: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    scenario: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    constraint: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    business_rule: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    expected_outcome: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    actual_outcome: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outcome: Option<&'a str>,
    #[serde(skip_serializing_if = "Pairs::is_empty")]
    decision_factors: &'a Pairs<'a>,
    #[serde(skip_serializing_if = "Pairs::is_empty")]
    attributes: &'a Pairs<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    span_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    duration_ms: Option<f64>,
    service_name: &'a str,
    service_version: &'a str,
}

fn trace_hex(id: u128) -> String {
    format!("{id:032x}")
}

fn span_hex(id: u64) -> String {
    format!("{id:016x}")
}

fn unix_nanos(at: SystemTime) -> String {
    at.duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
        .to_string()
}

fn level_text(level: Level) -> &'static str {
    match level {
        Level::ERROR => "ERROR",
        Level::WARN => "WARN",
        Level::INFO => "INFO",
        Level::DEBUG => "DEBUG",
        Level::TRACE => "TRACE",
    }
}

/// OpenTelemetry's severity numbers for the levels (TRACE 1, DEBUG 5, INFO 9, WARN 13, ERROR 17).
fn severity_number(level: Level) -> u8 {
    match level {
        Level::TRACE => 1,
        Level::DEBUG => 5,
        Level::INFO => 9,
        Level::WARN => 13,
        Level::ERROR => 17,
    }
}

/// The record as one JSON line of the convention, newline included, appended to `out`.
fn write_line(out: &mut Vec<u8>, record: &Record, semantic: &Semantic<'_>, service_version: &str) {
    let line = Line {
        timestamp: crate::rfc3339(record.at),
        kind: matches!(record.kind, RecordKind::Span { .. }).then_some("span"),
        event: semantic.event.as_deref().or(record.name),
        message: semantic.message.as_deref(),
        level: level_text(record.level),
        scenario: semantic.scenario.as_deref(),
        step: semantic.step.as_deref(),
        constraint: semantic.constraint.as_deref(),
        business_rule: semantic.business_rule.as_deref(),
        expected_outcome: semantic.expected_outcome.as_deref(),
        actual_outcome: semantic.actual_outcome.as_deref(),
        outcome: semantic.outcome.as_deref(),
        decision_factors: &semantic.decision_factors,
        attributes: &semantic.attributes,
        trace_id: record.trace.map(|t| trace_hex(t.trace_id)),
        span_id: record.trace.map(|t| span_hex(t.span_id)),
        parent_span_id: record.trace.and_then(|t| t.parent_span_id).map(span_hex),
        duration_ms: record.duration_ms,
        service_name: SERVICE_NAME,
        service_version,
    };
    serde_json::to_writer(&mut *out, &line).expect("strings, numbers and maps serialize");
    out.push(b'\n');
}

/// OTLP's `AnyValue` in JSON: `{"stringValue": …}` and so on. 64-bit integers are decimal
/// strings, as OTLP JSON requires.
#[derive(Serialize)]
enum AnyValue<'a> {
    #[serde(rename = "stringValue")]
    Text(Cow<'a, str>),
    #[serde(rename = "intValue")]
    Int(String),
    #[serde(rename = "doubleValue")]
    Double(f64),
    #[serde(rename = "boolValue")]
    Bool(bool),
}

impl FieldValue {
    fn otlp(&self) -> AnyValue<'_> {
        match self {
            FieldValue::Str(s) => AnyValue::Text(Cow::Borrowed(s)),
            FieldValue::I64(n) => AnyValue::Int(n.to_string()),
            FieldValue::U64(n) if i64::try_from(*n).is_ok() => AnyValue::Int(n.to_string()),
            FieldValue::U64(n) => AnyValue::Text(Cow::Owned(n.to_string())),
            FieldValue::F64(x) if x.is_finite() => AnyValue::Double(*x),
            FieldValue::F64(x) => AnyValue::Text(Cow::Owned(x.to_string())),
            FieldValue::Bool(b) => AnyValue::Bool(*b),
        }
    }
}

#[derive(Serialize)]
struct KeyValue<'a> {
    key: Cow<'a, str>,
    value: AnyValue<'a>,
}

/// OTLP's `LogRecord` in JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogRecord<'a> {
    time_unix_nano: &'a str,
    observed_time_unix_nano: &'a str,
    severity_number: u8,
    severity_text: &'static str,
    body: AnyValue<'a>,
    attributes: Vec<KeyValue<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    trace_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    span_id: Option<String>,
}

/// OTLP's `Span` in JSON.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OtlpSpan<'a> {
    trace_id: String,
    span_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_span_id: Option<String>,
    name: &'a str,
    kind: u8,
    start_time_unix_nano: String,
    end_time_unix_nano: String,
    attributes: Vec<KeyValue<'a>>,
    status: Status,
}

#[derive(Serialize)]
struct Status {
    code: u8,
}

/// The record's OTLP attributes: `event.name`, the convention's `sdd.*` keys, one
/// `sdd.decision.<factor>` per factor, and every other attribute under its own name.
fn otlp_attributes<'a>(
    name: Option<&'a str>,
    semantic: &'a Semantic<'a>,
    duration: Option<f64>,
) -> Vec<KeyValue<'a>> {
    let mut attributes =
        Vec::with_capacity(10 + semantic.decision_factors.0.len() + semantic.attributes.0.len());
    let convention = [
        ("event.name", semantic.event.as_deref().or(name)),
        ("sdd.scenario", semantic.scenario.as_deref()),
        ("sdd.step", semantic.step.as_deref()),
        ("sdd.constraint", semantic.constraint.as_deref()),
        ("sdd.business_rule", semantic.business_rule.as_deref()),
        ("sdd.expected_outcome", semantic.expected_outcome.as_deref()),
        ("sdd.actual_outcome", semantic.actual_outcome.as_deref()),
        ("sdd.outcome", semantic.outcome.as_deref()),
    ];
    for (key, value) in convention {
        if let Some(value) = value {
            attributes.push(KeyValue {
                key: Cow::Borrowed(key),
                value: AnyValue::Text(Cow::Borrowed(value)),
            });
        }
    }
    if let Some(ms) = duration {
        attributes.push(KeyValue {
            key: Cow::Borrowed("sdd.duration_ms"),
            value: AnyValue::Double(ms),
        });
    }
    for (factor, value) in &semantic.decision_factors.0 {
        attributes.push(KeyValue {
            key: Cow::Owned(format!("sdd.decision.{factor}")),
            value: value.otlp(),
        });
    }
    for (key, value) in &semantic.attributes.0 {
        attributes.push(KeyValue {
            key: Cow::Borrowed(key),
            value: value.otlp(),
        });
    }
    attributes
}

/// The record as an OTLP `LogRecord` or `Span` in JSON, appended to the batch of its kind.
fn write_otlp(batch: &mut Batch, record: &Record, semantic: &Semantic<'_>) {
    let attributes = otlp_attributes(record.name, semantic, record.duration_ms);
    let written = match record.kind {
        RecordKind::Event => {
            let time = unix_nanos(record.at);
            let body = semantic
                .message
                .as_deref()
                .or(semantic.event.as_deref())
                .or(record.name)
                .unwrap_or_default();
            let log = LogRecord {
                time_unix_nano: &time,
                observed_time_unix_nano: &time,
                severity_number: severity_number(record.level),
                severity_text: level_text(record.level),
                body: AnyValue::Text(Cow::Borrowed(body)),
                attributes,
                trace_id: record.trace.map(|t| trace_hex(t.trace_id)),
                span_id: record.trace.map(|t| span_hex(t.span_id)),
            };
            serde_json::to_writer(batch.logs.start(), &log)
        }
        RecordKind::Span {
            end,
            server,
            failed,
        } => {
            let trace = record.trace.expect("every span has a trace context");
            let span = OtlpSpan {
                trace_id: trace_hex(trace.trace_id),
                span_id: span_hex(trace.span_id),
                parent_span_id: trace.parent_span_id.map(span_hex),
                name: record.name.unwrap_or_default(),
                // SPAN_KIND_SERVER for the request, SPAN_KIND_INTERNAL for its steps.
                kind: if server { 2 } else { 1 },
                start_time_unix_nano: unix_nanos(record.at),
                end_time_unix_nano: unix_nanos(end),
                attributes,
                // STATUS_CODE_OK or STATUS_CODE_ERROR.
                status: Status {
                    code: if failed { 2 } else { 1 },
                },
            };
            serde_json::to_writer(batch.spans.start(), &span)
        }
    };
    written.expect("strings, numbers and lists serialize");
}

/// OTLP items (log records or spans) waiting for their line: their JSON, comma-separated.
#[derive(Default)]
struct Items {
    json: Vec<u8>,
    count: usize,
}

impl Items {
    /// The buffer to write the next item into (after a comma when it is not the first).
    fn start(&mut self) -> &mut Vec<u8> {
        if self.count > 0 {
            self.json.push(b',');
        }
        self.count += 1;
        &mut self.json
    }

    /// `{"<resources>":[{"resource":…,"<scopes>":[{"scope":…,"<items>":[…]}]}]}` and a newline.
    fn write_line(&mut self, file: &mut impl Write, head: &str) -> std::io::Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        file.write_all(head.as_bytes())?;
        file.write_all(&self.json)?;
        file.write_all(b"]}]}]}\n")?;
        self.json.clear();
        self.count = 0;
        Ok(())
    }
}

/// The writer thread's files and what it has not written yet.
struct Sinks {
    json_lines: Option<BufWriter<File>>,
    otlp: Option<BufWriter<File>>,
    service_version: String,
    /// A write error was told on stderr (once is enough).
    reported: bool,
    /// A JSON line being written (kept to reuse its allocation).
    line: Vec<u8>,
}

#[derive(Default)]
struct Batch {
    logs: Items,
    spans: Items,
    since: Option<Instant>,
}

impl Batch {
    fn len(&self) -> usize {
        self.logs.count + self.spans.count
    }
}

impl Sinks {
    fn take(&mut self, record: &Record, batch: &mut Batch) {
        let semantic = Semantic::of(&record.fields);
        if let Some(file) = &mut self.json_lines {
            self.line.clear();
            write_line(&mut self.line, record, &semantic, &self.service_version);
            report(&mut self.reported, file.write_all(&self.line));
        }
        if self.otlp.is_some() {
            write_otlp(batch, record, &semantic);
        }
        batch.since.get_or_insert_with(Instant::now);
    }

    /// Write the batch (a logs line and a spans line, each when not empty) and flush both files.
    fn flush(&mut self, batch: &mut Batch) {
        if let Some(file) = &mut self.otlp {
            let resource = json!({ "attributes": [
                { "key": "service.name", "value": { "stringValue": SERVICE_NAME } },
                { "key": "service.version", "value": { "stringValue": self.service_version } },
            ] });
            let scope = json!({ "name": SERVICE_NAME });
            let head = |resources: &str, scopes: &str, items: &str| {
                format!(
                    r#"{{"{resources}":[{{"resource":{resource},"{scopes}":[{{"scope":{scope},"{items}":["#
                )
            };
            let logs = head("resourceLogs", "scopeLogs", "logRecords");
            report(&mut self.reported, batch.logs.write_line(file, &logs));
            let spans = head("resourceSpans", "scopeSpans", "spans");
            report(&mut self.reported, batch.spans.write_line(file, &spans));
            report(&mut self.reported, file.flush());
        }
        if let Some(file) = &mut self.json_lines {
            report(&mut self.reported, file.flush());
        }
        batch.since = None;
    }
}

fn report(reported: &mut bool, result: std::io::Result<()>) {
    if let Err(e) = result {
        if !*reported {
            eprintln!("task-manager: cannot write events: {e}");
            *reported = true;
        }
    }
}

/// The writer thread: records in, batches out, until `Stop` (or every sender is gone).
///
/// While records come, it drains the queue and sleeps between drains instead of waiting on
/// the channel: a sender then never has to wake it (a futex call and a context switch per
/// record, which measured as most of the events' cost per request). After `IDLE_POLLS`
/// empty polls it waits on the channel, so an idle service costs nothing.
fn write_records(receiver: Receiver<Message>, mut sinks: Sinks) {
    const POLL: Duration = Duration::from_millis(5);
    const IDLE_POLLS: u32 = 20;
    let mut batch = Batch::default();
    let mut idle_polls = 0;
    loop {
        let message = match receiver.try_recv() {
            Ok(message) => message,
            Err(TryRecvError::Disconnected) => Message::Stop,
            Err(TryRecvError::Empty) => {
                if batch
                    .since
                    .is_some_and(|since| since.elapsed() >= BATCH_AGE)
                {
                    sinks.flush(&mut batch);
                }
                if idle_polls < IDLE_POLLS {
                    idle_polls += 1;
                    std::thread::sleep(POLL);
                    continue;
                }
                let waited = match batch.since {
                    Some(since) => receiver.recv_timeout(BATCH_AGE.saturating_sub(since.elapsed())),
                    None => receiver.recv().map_err(|_| RecvTimeoutError::Disconnected),
                };
                match waited {
                    Ok(message) => message,
                    Err(RecvTimeoutError::Timeout) => continue,
                    Err(RecvTimeoutError::Disconnected) => Message::Stop,
                }
            }
        };
        idle_polls = 0;
        match message {
            Message::Record(record) => {
                sinks.take(&record, &mut batch);
                if batch.len() >= BATCH_RECORDS {
                    sinks.flush(&mut batch);
                }
            }
            Message::Flush(done) => {
                sinks.flush(&mut batch);
                let _ = done.send(());
            }
            Message::Stop => {
                sinks.flush(&mut batch);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, Value};
    use tracing::field::Empty;

    /// A pipeline writing to fresh files in a directory removed at the end.
    struct Fixture {
        events: Events,
        dir: PathBuf,
    }

    impl Fixture {
        fn new(version: &str) -> Fixture {
            static NEXT: AtomicU64 = AtomicU64::new(0);
            let dir = std::env::temp_dir().join(format!(
                "task-manager-events-unit-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            let config = EventsConfig {
                json_lines: Some(dir.join("nested/events.jsonl")),
                otlp: Some(dir.join("nested/otlp.jsonl")),
            };
            let events = Events::start(&config, version).unwrap();
            Fixture { events, dir }
        }

        fn run(&self, emit: impl FnOnce()) {
            tracing::dispatcher::with_default(self.events.dispatch(), emit);
        }

        fn read(&self, file: &str) -> Vec<Value> {
            self.events.flush();
            let text = std::fs::read_to_string(self.dir.join("nested").join(file)).unwrap();
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        }
    }

    impl Drop for Fixture {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn is_hex(value: &Value, digits: usize) -> bool {
        value.as_str().is_some_and(|s| {
            s.len() == digits && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        })
    }

    /// A request span with a step span inside, and a decision event in the step.
    fn emit_a_decision() {
        let request = tracing::info_span!(
            "http.request",
            otel.kind = "server",
            user = "ada",
            task_id = Empty,
            client_version = Empty
        );
        let _in_request = request.enter();
        request.record("task_id", 42_i64);
        let step = tracing::info_span!("task.complete", scenario = "s.complete", step = "3_update");
        let _in_step = step.enter();
        tracing::info!(
            name: "task.complete",
            scenario = "s.complete_a_task",
            step = "3_update",
            constraint = "s.security.rate_limiting",
            business_rule = "a completed task cannot be completed again",
            expected_outcome = "completed",
            actual_outcome = "completed",
            outcome = "success",
            decision.was_completed = false,
            decision.title_chars = 14_u64,
            decision.ratio = 0.5,
            attr.db_shard = "B",
            "task {} completed",
            42
        );
    }

    #[test]
    fn a_json_line_has_the_conventions_fields_with_their_types() {
        let fixture = Fixture::new("9.9.9");
        fixture.run(emit_a_decision);
        let lines = fixture.read("events.jsonl");
        assert_eq!(
            lines.len(),
            3,
            "the event, then the step's span, then the request's"
        );
        let event = &lines[0];
        let keys: Vec<&str> = event
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut want = vec![
            "timestamp",
            "event",
            "message",
            "level",
            "scenario",
            "step",
            "constraint",
            "business_rule",
            "expected_outcome",
            "actual_outcome",
            "outcome",
            "decision_factors",
            "attributes",
            "trace_id",
            "span_id",
            "parent_span_id",
            "duration_ms",
            "service_name",
            "service_version",
        ];
        want.sort_unstable();
        assert_eq!(keys, want, "every field of the convention, and no other");
        let timestamp = event["timestamp"].as_str().unwrap();
        assert!(
            chrono::DateTime::parse_from_rfc3339(timestamp).is_ok()
                && timestamp.ends_with('Z')
                && timestamp.len() == "2026-12-01T03:12:00.123456Z".len(),
            "{timestamp}"
        );
        assert_eq!(event["event"], "task.complete");
        assert_eq!(event["message"], "task 42 completed");
        assert_eq!(event["level"], "INFO");
        // The event's own scenario wins over its span's.
        assert_eq!(event["scenario"], "s.complete_a_task");
        assert_eq!(event["step"], "3_update");
        assert_eq!(event["constraint"], "s.security.rate_limiting");
        assert_eq!(
            event["business_rule"],
            "a completed task cannot be completed again"
        );
        assert_eq!(event["outcome"], "success");
        assert_eq!(
            event["decision_factors"],
            json!({ "was_completed": false, "title_chars": 14, "ratio": 0.5 }),
            "numbers stay numbers"
        );
        assert_eq!(
            event["attributes"],
            json!({ "user": "ada", "task_id": 42, "db_shard": "B" }),
            "the request span's attributes, `attr.` stripped, no `otel.kind`"
        );
        assert!(is_hex(&event["trace_id"], 32));
        assert!(is_hex(&event["span_id"], 16) && is_hex(&event["parent_span_id"], 16));
        assert!(event["duration_ms"].as_f64().unwrap() >= 0.0);
        assert_eq!(event["service_name"], "task-manager");
        assert_eq!(event["service_version"], "9.9.9");

        // Spans: the step's parent is the request, whose own has none; one trace.
        let (step, request) = (&lines[1], &lines[2]);
        assert_eq!(step["event"], "task.complete");
        assert_eq!(step["scenario"], "s.complete");
        assert_eq!(request["event"], "http.request");
        assert_eq!(
            step["span_id"], event["span_id"],
            "the event is in the step"
        );
        assert_eq!(step["parent_span_id"], request["span_id"]);
        assert!(request.get("parent_span_id").is_none());
        assert_eq!(step["trace_id"], request["trace_id"]);
        assert_eq!(event["trace_id"], request["trace_id"]);
        assert!(step.get("outcome").is_none() && step["duration_ms"].is_f64());
        assert_eq!(
            (step["kind"].as_str(), request["kind"].as_str()),
            (Some("span"), Some("span"))
        );
        assert!(event.get("kind").is_none(), "{event}");
        assert!(request["duration_ms"].as_f64() >= step["duration_ms"].as_f64());
        // The span line's time is its start: the request began before its step.
        assert!(request["timestamp"].as_str() <= step["timestamp"].as_str());
    }

    #[test]
    fn an_otlp_log_record_and_span_have_the_conventions_keys_and_value_types() {
        let fixture = Fixture::new("9.9.9");
        fixture.run(emit_a_decision);
        let lines = fixture.read("otlp.jsonl");
        let logs = lines
            .iter()
            .find(|l| l.get("resourceLogs").is_some())
            .unwrap();
        let traces = lines
            .iter()
            .find(|l| l.get("resourceSpans").is_some())
            .unwrap();
        for (request, scope) in [
            (&logs["resourceLogs"], "scopeLogs"),
            (&traces["resourceSpans"], "scopeSpans"),
        ] {
            assert_eq!(
                request[0]["resource"]["attributes"],
                json!([
                    { "key": "service.name", "value": { "stringValue": "task-manager" } },
                    { "key": "service.version", "value": { "stringValue": "9.9.9" } },
                ])
            );
            assert_eq!(request[0][scope][0]["scope"]["name"], "task-manager");
        }
        let record = &logs["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
        let time = record["timeUnixNano"].as_str().unwrap();
        assert!(
            time.len() >= 19 && time.bytes().all(|b| b.is_ascii_digit()),
            "{time}"
        );
        assert_eq!(record["observedTimeUnixNano"], record["timeUnixNano"]);
        assert_eq!(record["severityNumber"], 9);
        assert_eq!(record["severityText"], "INFO");
        assert_eq!(
            record["body"],
            json!({ "stringValue": "task 42 completed" })
        );
        assert!(is_hex(&record["traceId"], 32) && is_hex(&record["spanId"], 16));
        let attributes: Map<String, Value> = record["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["key"].as_str().unwrap().to_string(), a["value"].clone()))
            .collect();
        let text = |s: &str| json!({ "stringValue": s });
        assert_eq!(attributes["event.name"], text("task.complete"));
        assert_eq!(attributes["sdd.scenario"], text("s.complete_a_task"));
        assert_eq!(attributes["sdd.step"], text("3_update"));
        assert_eq!(
            attributes["sdd.constraint"],
            text("s.security.rate_limiting")
        );
        assert_eq!(
            attributes["sdd.business_rule"],
            text("a completed task cannot be completed again")
        );
        assert_eq!(attributes["sdd.expected_outcome"], text("completed"));
        assert_eq!(attributes["sdd.actual_outcome"], text("completed"));
        assert_eq!(attributes["sdd.outcome"], text("success"));
        assert!(attributes["sdd.duration_ms"]["doubleValue"].is_f64());
        assert_eq!(
            attributes["sdd.decision.was_completed"],
            json!({ "boolValue": false })
        );
        assert_eq!(
            attributes["sdd.decision.title_chars"],
            json!({ "intValue": "14" })
        );
        assert_eq!(
            attributes["sdd.decision.ratio"],
            json!({ "doubleValue": 0.5 })
        );
        assert_eq!(attributes["task_id"], json!({ "intValue": "42" }));
        assert_eq!(attributes["user"], text("ada"));
        assert_eq!(attributes["db_shard"], text("B"));
        assert_eq!(attributes.len(), 15, "{attributes:#?}");

        let spans = traces["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap();
        assert_eq!(spans.len(), 2);
        let (step, request) = (&spans[0], &spans[1]);
        assert_eq!(
            (&step["name"], &step["kind"]),
            (&json!("task.complete"), &json!(1))
        );
        assert_eq!(
            (&request["name"], &request["kind"]),
            (&json!("http.request"), &json!(2))
        );
        assert_eq!(step["parentSpanId"], request["spanId"]);
        assert!(request.get("parentSpanId").is_none());
        assert_eq!(step["spanId"], record["spanId"]);
        assert_eq!(step["traceId"], record["traceId"]);
        for span in spans {
            assert_eq!(span["status"], json!({ "code": 1 }));
            let nanos = |k: &str| span[k].as_str().unwrap().parse::<u128>().unwrap();
            assert!(nanos("endTimeUnixNano") >= nanos("startTimeUnixNano"));
        }
    }

    #[test]
    fn a_failure_in_a_span_makes_it_an_error_and_an_incoming_traceparent_is_continued() {
        let fixture = Fixture::new("1.0.0");
        fixture.run(|| {
            let request = tracing::info_span!(
                "http.request",
                traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                http.response.status_code = Empty,
            );
            let _in_request = request.enter();
            tracing::info_span!("task.create", step = "2_store").in_scope(|| {
                tracing::error!(name: "task.create", outcome = "failure", "timeout");
            });
            request.record("http.response.status_code", 500_u16);
        });
        let lines = fixture.read("events.jsonl");
        assert!(lines
            .iter()
            .all(|l| l["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"));
        assert_eq!(lines[2]["parent_span_id"], "00f067aa0ba902b7");
        assert!(lines[2]["attributes"].get("traceparent").is_none());
        let levels: Vec<&Value> = lines.iter().map(|l| &l["level"]).collect();
        assert_eq!(levels, ["ERROR", "ERROR", "ERROR"]);
        let otlp = fixture.read("otlp.jsonl");
        let traces = otlp
            .iter()
            .find(|l| l.get("resourceSpans").is_some())
            .unwrap();
        let spans = traces["resourceSpans"][0]["scopeSpans"][0]["spans"]
            .as_array()
            .unwrap();
        assert!(spans.iter().all(|s| s["status"]["code"] == 2), "{spans:#?}");
    }

    #[test]
    fn otlp_lines_hold_batches_of_at_most_100_records() {
        let fixture = Fixture::new("1.0.0");
        fixture.run(|| {
            for n in 0..250 {
                tracing::info!(name: "task.list", step = "1_query", decision.seq = n, "listed");
            }
        });
        let lines = fixture.read("otlp.jsonl");
        let sizes: Vec<usize> = lines
            .iter()
            .map(|l| {
                l["resourceLogs"][0]["scopeLogs"][0]["logRecords"]
                    .as_array()
                    .unwrap()
                    .len()
            })
            .collect();
        assert_eq!(sizes.iter().sum::<usize>(), 250);
        assert!(sizes.iter().all(|n| *n <= BATCH_RECORDS), "{sizes:?}");
        assert!(
            lines.len() < 125,
            "batches, not a line per record: {sizes:?}"
        );
        // Events outside any span have no trace context.
        assert!(fixture.read("events.jsonl")[0].get("trace_id").is_none());
    }

    #[test]
    fn a_full_queue_drops_and_counts_records_instead_of_blocking() {
        let (sender, _receiver) = mpsc::sync_channel(2);
        let layer = EventLayer {
            sender,
            dropped: Arc::default(),
            ids: Ids::seeded(),
        };
        for _ in 0..5 {
            layer.send(Record {
                kind: RecordKind::Event,
                name: None,
                level: Level::INFO,
                at: SystemTime::now(),
                trace: None,
                duration_ms: None,
                fields: Fields::new(),
            });
        }
        assert_eq!(layer.dropped.load(Ordering::Relaxed), 3);
    }

    #[test]
    fn ids_are_never_zero_and_do_not_repeat() {
        let ids = Ids::seeded();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..10_000 {
            let id = ids.span_id();
            assert_ne!(id, 0);
            assert!(seen.insert(id));
        }
        let (a, b) = (ids.trace_id(), ids.trace_id());
        assert!(a != b && a >> 64 != 0 || b >> 64 != 0);
        assert_eq!(trace_hex(1).len(), 32);
        assert_eq!(span_hex(1), "0000000000000001");
        // Two pipelines started at the same instant still differ.
        assert_ne!(Ids::seeded().next(), Ids::seeded().next());
    }

    #[test]
    fn traceparent_headers_parse_only_when_valid() {
        let valid = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        assert_eq!(
            parse_traceparent(valid),
            Some((0x4bf92f3577b34da6a3ce929d0e0e4736, 0x00f067aa0ba902b7))
        );
        // A later version may append fields.
        let later = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra";
        assert!(parse_traceparent(later).is_some());
        for bad in [
            "",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-1",
        ] {
            assert_eq!(parse_traceparent(bad), None, "{bad:?}");
        }
    }
}

//! The event sources at their boundary: bytes in, events, text lines and a report out. Each
//! test is named after what it guards; hostile input (truncated, interleaved, over-long,
//! not UTF-8, out of order, mixed formats) is counted, never fatal.

use std::io::{BufReader, Cursor, Read};

use sdd_debugger::event::{Event, EventKind, Nanos, Outcome, NANOS_PER_SECOND};
use sdd_debugger::read::{
    read_file, read_from, FieldMap, Format, ReadError, ReadOptions, ReadReport,
};
use serde_json::json;

/// 2026-12-01T03:12:00Z.
const T: Nanos = 1_796_094_720 * NANOS_PER_SECOND;

/// What reading `input` delivered.
struct Delivered {
    report: ReadReport,
    events: Vec<Event>,
    texts: Vec<(Option<Nanos>, String, u64)>,
}

fn read_with(input: &[u8], format: Format, fields: &FieldMap, options: &ReadOptions) -> Delivered {
    let mut events = Vec::new();
    let mut texts = Vec::new();
    let report = read_from(
        Cursor::new(input),
        "test.log",
        format,
        fields,
        options,
        &mut |e| events.push(e),
        &mut |t| texts.push((t.at, t.text.to_string(), t.line)),
    )
    .unwrap();
    Delivered {
        report,
        events,
        texts,
    }
}

fn read(input: &str, format: Format) -> Delivered {
    read_with(
        input.as_bytes(),
        format,
        &FieldMap::default(),
        &ReadOptions::default(),
    )
}

fn line(value: serde_json::Value) -> String {
    format!("{value}\n")
}

#[test]
fn convention_events_read_with_their_origin() {
    let input = line(
        json!({"timestamp": "2026-12-01T03:12:00Z", "event": "task.complete",
        "scenario": "tm.complete_a_task", "outcome": "refused", "attributes": {"task_id": 7}}),
    );
    let r = read(&input, Format::JsonLines);
    assert_eq!(r.report.events, 1);
    let e = &r.events[0];
    assert_eq!(
        (e.at, e.kind, e.outcome),
        (T, EventKind::Log, Some(Outcome::Refused))
    );
    assert_eq!(e.attributes["task_id"], "7");
    let origin = e.origin.as_ref().unwrap();
    assert_eq!((&*origin.file, origin.line), ("test.log", 1));
    assert_eq!(r.report.timestamp_formats, ["RFC 3339"]);
}

#[test]
fn a_truncated_json_line_is_skipped_with_its_reason_and_the_rest_is_read() {
    let good = line(json!({"timestamp": T, "event": "a"}));
    let input = format!("{good}{{\"timestamp\": \"2026-12-01T03:12:00Z\", \"ev\n{good}");
    let r = read(&input, Format::JsonLines);
    assert_eq!((r.report.events, r.report.skipped), (2, 1));
    let skipped = &r.report.skipped_examples[0];
    assert_eq!(skipped.line, 2);
    assert!(skipped.reason.starts_with("invalid JSON"), "{skipped:?}");
    assert!(skipped.excerpt.starts_with("{\"timestamp\""));
}

#[test]
fn two_records_on_one_line_are_both_read_and_interleaved_ones_are_skipped() {
    let a = json!({"timestamp": T, "event": "a"}).to_string();
    let b = json!({"timestamp": T + 1, "event": "b"}).to_string();
    // Two writers without a newline between them: both records are whole.
    let r = read(&format!("{a}{b}\n"), Format::JsonLines);
    assert_eq!((r.report.events, r.report.skipped), (2, 0));
    assert!(r
        .events
        .iter()
        .all(|e| e.origin.as_ref().unwrap().line == 1));
    // One record's bytes inside the other's: neither can be trusted.
    let (head, tail) = a.split_at(20);
    let r = read(&format!("{head}{b}{tail}\n"), Format::JsonLines);
    assert_eq!((r.report.events, r.report.skipped), (0, 1));
    // A whole record, then a broken one.
    let r = read(&format!("{a}{head}\n"), Format::JsonLines);
    assert_eq!((r.report.events, r.report.skipped), (1, 1));
    assert!(r.report.skipped_examples[0]
        .reason
        .contains("after 1 record(s)"));
}

#[test]
fn a_record_missing_its_timestamp_is_skipped_and_counted_with_the_reason() {
    let input = [
        line(json!({"event": "no.time"})),
        line(json!({"timestamp": "tomorrow", "event": "bad.time"})),
        line(json!({"timestamp": "1970-01-01T00:00:00Z", "event": "absurd.time"})),
        line(json!({"timestamp": T, "event": "ok"})),
    ]
    .concat();
    let r = read(&input, Format::JsonLines);
    assert_eq!((r.report.events, r.report.skipped), (1, 3));
    let reasons: Vec<&str> = r
        .report
        .skipped_examples
        .iter()
        .map(|s| s.reason.as_str())
        .collect();
    assert_eq!(reasons[0], "no timestamp (`timestamp`)");
    assert!(reasons[1].contains("not a recognised time: \"tomorrow\""));
    assert!(reasons[2].contains("not a recognised time"));
}

#[test]
fn timestamps_out_of_order_and_in_mixed_formats_are_counted() {
    let input = [
        line(json!({"timestamp": "2026-12-01T03:12:02Z"})),
        line(json!({"timestamp": "2026-12-01 03:12:01"})), // earlier: out of order
        line(json!({"timestamp": 1_796_094_723_000i64})),  // milliseconds
        line(json!({"timestamp": "1796094722"})),          // earlier again, seconds as text
        line(json!({"timestamp": "2026-12-01T03:12:05.5+00:00"})),
    ]
    .concat();
    let r = read(&input, Format::JsonLines);
    assert_eq!(r.report.events, 5);
    assert_eq!(r.report.out_of_order, 2);
    assert_eq!(
        r.report.timestamp_formats,
        [
            "RFC 3339",
            "YYYY-MM-DD HH:MM:SS (no offset: UTC)",
            "Unix milliseconds",
            "Unix seconds"
        ]
    );
    // Delivered in file order: sorting is the caller's choice.
    assert_eq!(r.events[1].at, T + NANOS_PER_SECOND);
}

#[test]
fn a_line_over_the_cap_is_skipped_without_being_kept_and_the_next_is_read() {
    let long = format!(
        "{{\"timestamp\": {T}, \"message\": \"{}\"}}\n",
        "x".repeat(1 << 20)
    );
    let next = line(json!({"timestamp": T, "event": "after"}));
    let r = read(&format!("{long}{next}"), Format::JsonLines);
    assert_eq!(
        (r.report.lines, r.report.events, r.report.skipped),
        (2, 1, 1)
    );
    let skipped = &r.report.skipped_examples[0];
    assert_eq!(skipped.line, 1);
    assert!(
        skipped.reason.contains("longer than the 1048576 read"),
        "{skipped:?}"
    );
    assert_eq!(skipped.excerpt.chars().count(), 200);
    assert_eq!(r.events[0].name.as_deref(), Some("after"));
    // A line of exactly the cap is read.
    let options = ReadOptions {
        max_line_bytes: next.len() - 1,
        ..ReadOptions::default()
    };
    let r = read_with(
        next.as_bytes(),
        Format::JsonLines,
        &FieldMap::default(),
        &options,
    );
    assert_eq!((r.report.events, r.report.skipped), (1, 0));
}

#[test]
fn invalid_utf8_is_read_lossily_and_counted() {
    let mut input = b"{\"timestamp\": 1796094720, \"message\": \"caf\xE9\"}\n".to_vec();
    input.extend_from_slice(b"plain \xFF\xFE text\n");
    let r = read_with(
        &input,
        Format::Auto,
        &FieldMap::default(),
        &ReadOptions::default(),
    );
    assert_eq!(r.report.invalid_utf8, 2);
    assert_eq!(r.events[0].message.as_deref(), Some("caf\u{FFFD}"));
    assert_eq!(r.texts[0].1, "plain \u{FFFD}\u{FFFD} text");
}

#[test]
fn empty_and_blank_files_read_nothing_and_skip_nothing() {
    for (input, lines) in [("", 0), ("\n\n  \n\t\n", 4), ("\r\n\r\n", 2)] {
        for format in [
            Format::Auto,
            Format::JsonLines,
            Format::OtlpJson,
            Format::Text,
            Format::ServiceCapture,
        ] {
            let r = read(input, format);
            assert_eq!(r.report.lines, lines, "{input:?} {format:?}");
            assert_eq!(
                (r.report.events, r.report.text_lines, r.report.skipped),
                (0, 0, 0),
                "{input:?} {format:?}"
            );
        }
    }
}

#[test]
fn crlf_line_ends_and_a_byte_order_mark_are_accepted() {
    let input = "\u{FEFF}{\"timestamp\": \"2026-12-01T03:12:00Z\", \"event\": \"a\"}\r\n2026-12-01 03:12:01 INFO started\r\nno time here\r\n";
    let r = read(input, Format::Auto);
    assert_eq!(
        (r.report.events, r.report.text_lines, r.report.skipped),
        (1, 2, 0)
    );
    assert_eq!(r.events[0].name.as_deref(), Some("a"));
    assert_eq!(
        r.texts,
        [
            (Some(T + NANOS_PER_SECOND), "INFO started".to_string(), 2),
            (None, "no time here".to_string(), 3)
        ]
    );
}

#[test]
fn the_window_delivers_only_what_is_inside_it_and_counts_the_rest() {
    let input = [
        line(json!({"timestamp": T - 1})),
        line(json!({"timestamp": T})),
        line(json!({"timestamp": T + 10})),
    ]
    .concat()
        + "2026-12-01T03:11:59Z before the window\nno time\n";
    let options = ReadOptions {
        window: Some((T / NANOS_PER_SECOND * NANOS_PER_SECOND, T + 10)),
        ..ReadOptions::default()
    };
    let r = read_with(
        input.as_bytes(),
        Format::Auto,
        &FieldMap::default(),
        &options,
    );
    assert_eq!(r.events.iter().map(|e| e.at).collect::<Vec<_>>(), [T]);
    assert_eq!(r.report.outside_window, 3);
    assert_eq!(
        r.texts.len(),
        1,
        "a line without a time is always delivered"
    );
}

#[test]
fn a_field_map_reads_another_loggers_records() {
    let mut fields = FieldMap::default();
    fields.set_named("timestamp", "ts").unwrap();
    fields.set_named("event", "msg").unwrap();
    fields.set_named("scenario", "fields.scenario").unwrap();
    fields
        .attributes
        .push(("db_shard".into(), "ctx.shard".into()));
    let input = line(
        json!({"ts": 1796094720.5, "msg": "task.create", "fields": {"scenario": "tm.create"},
               "ctx": {"shard": "B"}, "other": 1}),
    );
    let r = read_with(
        input.as_bytes(),
        Format::JsonLines,
        &fields,
        &ReadOptions::default(),
    );
    let e = &r.events[0];
    assert_eq!(e.at, T + NANOS_PER_SECOND / 2);
    assert_eq!(e.name.as_deref(), Some("task.create"));
    assert_eq!(e.scenario.as_deref(), Some("tm.create"));
    assert_eq!(e.attributes["db_shard"], "B");
    assert_eq!(r.report.timestamp_formats, ["Unix seconds"]);
}

fn otlp_logs(records: serde_json::Value) -> String {
    line(json!({"resourceLogs": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "task_manager"}},
            {"key": "service.version", "value": {"stringValue": "1.4.2"}},
        ]},
        "scopeLogs": [{"scope": {"name": "x"}, "logRecords": records}],
        "schemaUrl": "https://opentelemetry.io/schemas/1.26.0",
    }]}))
}

#[test]
fn otlp_log_records_map_the_convention_and_tolerate_unknown_fields() {
    let input = otlp_logs(json!([{
        "timeUnixNano": T.to_string(),
        "severityNumber": 13, "severityText": "WARN",
        "body": {"stringValue": "task completed twice"},
        "traceId": "4BF92F3577B34DA6A3CE929D0E0E4736", "spanId": "00f067aa0ba902b7",
        "attributes": [
            {"key": "event.name", "value": {"stringValue": "task.complete"}},
            {"key": "sdd.scenario", "value": {"stringValue": "tm.complete_a_task"}},
            {"key": "sdd.outcome", "value": {"stringValue": "failure"}},
            {"key": "sdd.duration_ms", "value": {"doubleValue": 2.5}},
            {"key": "sdd.decision.was_completed", "value": {"boolValue": true}},
            {"key": "sdd.decision.title_chars", "value": {"intValue": "14"}},
            {"key": "sdd.decision.retries", "value": {"intValue": 3}},
            {"key": "task_id", "value": {"intValue": 42}},
            {"key": "tags", "value": {"arrayValue": {"values": [{"stringValue": "a"}]}}},
        ],
        "someFutureField": {"x": 1},
        "droppedAttributesCount": 0,
        "flags": 1,
    }]));
    let r = read(&input, Format::OtlpJson);
    assert_eq!((r.report.events, r.report.skipped), (1, 0));
    let e = &r.events[0];
    assert_eq!(e.at, T);
    assert_eq!(e.service_name.as_deref(), Some("task_manager"));
    assert_eq!(e.service_version.as_deref(), Some("1.4.2"));
    assert_eq!(e.level.as_deref(), Some("WARN"));
    assert_eq!(e.message.as_deref(), Some("task completed twice"));
    assert_eq!(e.name.as_deref(), Some("task.complete"));
    assert_eq!(e.outcome, Some(Outcome::Failure));
    assert_eq!(e.duration_ms, Some(2.5));
    assert_eq!(e.decision_factors["was_completed"], json!(true));
    // intValue as a JSON string and as a number: both numbers.
    assert_eq!(e.decision_factors["title_chars"], json!(14));
    assert_eq!(e.decision_factors["retries"], json!(3));
    assert_eq!(e.attributes["task_id"], "42");
    assert_eq!(e.attributes["tags"], "[\"a\"]");
    assert_eq!(
        e.trace_id.as_deref(),
        Some("4bf92f3577b34da6a3ce929d0e0e4736")
    );
    assert_eq!(r.report.timestamp_formats, ["OTLP Unix nanoseconds"]);
}

#[test]
fn auto_finds_otlp_whatever_its_key_order_and_inside_a_capture() {
    let record = json!([{"timeUnixNano": T.to_string(), "body": {"stringValue": "a"}}]);
    // A key before `resourceLogs`: found by parsing, not by the first key.
    let batch = json!([{"scopeLogs": [{"logRecords": record}]}]);
    let reordered = format!("{{\"a\": 0, \"resourceLogs\": {batch}}}\n");
    let r = read(&reordered, Format::Auto);
    assert_eq!(
        (r.report.events, r.report.skipped),
        (1, 0),
        "{:?}",
        r.report
    );
    let captured = line(
        json!({"captured_at": "2026-12-01T03:12:01Z", "stream": "stdout",
                               "text": otlp_logs(record).trim_end()}),
    );
    let r = read(&captured, Format::ServiceCapture);
    assert_eq!(r.events.len(), 1, "{:?}", r.report);
    assert_eq!(r.events[0].at, T, "the record's own time");
    assert_eq!(r.events[0].service_name.as_deref(), Some("task_manager"));
}

#[test]
fn one_bad_otlp_record_skips_only_itself() {
    let input = otlp_logs(json!([
        {"timeUnixNano": T, "body": {"stringValue": "a"}},
        {"timeUnixNano": T, "attributes": [{"key": "n", "value": {"intValue": "not a number"}}]},
        {"observedTimeUnixNano": (T + 1).to_string(), "timeUnixNano": "0"},
    ]));
    let r = read(&input, Format::OtlpJson);
    assert_eq!((r.report.events, r.report.skipped), (2, 1));
    assert_eq!(
        r.events[1].at,
        T + 1,
        "observedTimeUnixNano when timeUnixNano is unset"
    );
    assert!(r.report.skipped_examples[0].reason.contains("intValue"));
    // Not OTLP at all.
    let r = read(&line(json!({"timestamp": T})), Format::OtlpJson);
    assert_eq!(r.report.skipped, 1);
    assert!(r.report.skipped_examples[0]
        .reason
        .contains("not an OTLP request"));
}

#[test]
fn otlp_spans_become_timed_steps_and_an_error_status_is_a_failure() {
    let span = |id: &str, status: serde_json::Value, attributes: serde_json::Value| {
        json!({"traceId": "4bf92f3577b34da6a3ce929d0e0e4736", "spanId": id,
               "parentSpanId": "1111111111111111", "name": "task.store", "kind": 1,
               "startTimeUnixNano": T.to_string(), "endTimeUnixNano": (T + 3_500_000).to_string(),
               "status": status, "attributes": attributes, "events": [], "links": []})
    };
    let input = line(json!({"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "tm"}}]},
        "scopeSpans": [{"spans": [
            span("00f067aa0ba902b7", json!({"code": 2, "message": "disk full"}), json!([])),
            span("00f067aa0ba902b8", json!({"code": "STATUS_CODE_ERROR"}),
                 json!([{"key": "sdd.outcome", "value": {"stringValue": "refused"}}])),
            span("00f067aa0ba902b9", json!({"code": 1}),
                 json!([{"key": "sdd.step", "value": {"stringValue": "2_store"}}])),
        ]}],
    }]}));
    // Auto tells OTLP apart from JSON-lines events.
    let r = read(&input, Format::Auto);
    assert_eq!((r.report.events, r.report.spans), (3, 3));
    let e = &r.events;
    assert!(e.iter().all(|e| e.kind == EventKind::Span && e.at == T));
    assert_eq!(e[0].duration_ms, Some(3.5));
    assert_eq!(e[0].outcome, Some(Outcome::Failure));
    assert_eq!(e[0].message.as_deref(), Some("disk full"));
    assert_eq!(e[0].parent_span_id.as_deref(), Some("1111111111111111"));
    assert_eq!(e[0].service_name.as_deref(), Some("tm"));
    assert_eq!(e[1].outcome, Some(Outcome::Refused), "sdd.outcome wins");
    assert_eq!(e[2].outcome, None);
    assert_eq!(e[2].step.as_deref(), Some("2_store"));
}

#[test]
fn captured_service_lines_are_events_or_text_at_their_capture_time() {
    let captured = |text: &str| {
        line(
            json!({"captured_at": "2026-12-01T03:12:00.000250Z", "stream": "stdout", "text": text}),
        )
    };
    let input = [
        captured(&json!({"timestamp": "2026-12-01T03:11:59Z", "event": "task.create"}).to_string()),
        captured(&json!({"event": "no.own.time"}).to_string()),
        captured("listening on 127.0.0.1:8080"),
        captured("2026-12-01T03:11:58Z  WARN slow query"),
        captured("{not json"),
        "not a capture line\n".to_string(),
    ]
    .concat();
    let r = read(&input, Format::ServiceCapture);
    let at = T + 250_000;
    assert_eq!(r.events.len(), 2);
    assert_eq!(r.events[0].at, T - NANOS_PER_SECOND, "its own timestamp");
    assert_eq!(r.events[1].at, at, "the capture time");
    assert_eq!(
        r.texts,
        [
            (Some(at), "listening on 127.0.0.1:8080".to_string(), 3),
            (
                Some(T - 2 * NANOS_PER_SECOND),
                "WARN slow query".to_string(),
                4
            ),
            (Some(at), "{not json".to_string(), 5),
        ]
    );
    assert_eq!(r.report.skipped, 1);
    assert!(r.report.skipped_examples[0]
        .reason
        .contains("not a captured service line"));
}

#[test]
fn text_sources_deliver_every_line_with_its_leading_time_taken_off() {
    let r = read(
        "[2026-12-01 03:12:00] GET /tasks 200\n{\"json\": \"as text\"}\n",
        Format::Text,
    );
    assert_eq!(r.texts[0], (Some(T), "GET /tasks 200".to_string(), 1));
    assert_eq!(r.texts[1].1, "{\"json\": \"as text\"}");
    assert_eq!(r.report.events, 0);
}

#[test]
fn only_regular_files_are_opened() {
    let dir = tempfile::tempdir().unwrap();
    let read = |path: &std::path::Path| {
        read_file(
            path,
            Format::Auto,
            &FieldMap::default(),
            &ReadOptions::default(),
            &mut |_| {},
            &mut |_| {},
        )
    };
    let err = read(dir.path()).unwrap_err();
    assert!(matches!(err, ReadError::NotAFile { .. }));
    assert!(err.to_string().contains("is a directory"), "{err}");
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        // Would block forever if it were opened for reading.
        let err = read(&fifo).unwrap_err();
        assert!(err.to_string().contains("a FIFO"), "{err}");
    }
    let err = read(&dir.path().join("missing.jsonl")).unwrap_err();
    assert!(
        err.to_string().starts_with("cannot open ") && err.to_string().contains("missing.jsonl"),
        "{err}"
    );
    let file = dir.path().join("events.jsonl");
    std::fs::write(&file, line(json!({"timestamp": T}))).unwrap();
    let report = read(&file).unwrap();
    assert_eq!(
        (report.events, report.file),
        (1, file.display().to_string())
    );
}

/// A stream of `lines` lines, made as it is read: every `long_every`th is `long_bytes` of `x`
/// (over the cap, skipped), the others short JSON events.
struct Generated {
    lines: u64,
    long_every: u64,
    long_bytes: u64,
    next_line: u64,
    /// What is left of the current line: a short line's bytes, or a count of `x`.
    short: Vec<u8>,
    short_at: usize,
    long_left: u64,
}

impl Generated {
    fn new(lines: u64, long_every: u64, long_bytes: u64) -> Generated {
        Generated {
            lines,
            long_every,
            long_bytes,
            next_line: 0,
            short: Vec::new(),
            short_at: 0,
            long_left: 0,
        }
    }
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.short_at < self.short.len() {
            let n = buf.len().min(self.short.len() - self.short_at);
            buf[..n].copy_from_slice(&self.short[self.short_at..self.short_at + n]);
            self.short_at += n;
            return Ok(n);
        }
        if self.long_left > 0 {
            let n = (buf.len() as u64).min(self.long_left) as usize;
            buf[..n].fill(b'x');
            self.long_left -= n as u64;
            if self.long_left == 0 {
                // The newline that ends the long line.
                self.short = b"\n".to_vec();
                self.short_at = 0;
            }
            return Ok(n);
        }
        if self.next_line == self.lines {
            return Ok(0);
        }
        self.next_line += 1;
        if self.next_line.is_multiple_of(self.long_every) {
            self.long_left = self.long_bytes;
        } else {
            self.short = format!(
                "{{\"timestamp\":{},\"event\":\"e\"}}\n",
                T / NANOS_PER_SECOND + self.next_line as i64
            )
            .into_bytes();
            self.short_at = 0;
        }
        self.read(buf)
    }
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// 2 GiB through the reader (most of it in over-long lines) with counts exact and memory flat:
/// nothing of a skipped line is kept beyond the cap.
#[test]
fn a_multi_gigabyte_stream_reads_in_bounded_memory_with_exact_counts() {
    let long_bytes = 3 << 20;
    let lines = 7_000;
    let long_every = 10;
    let before = peak_rss_kib();
    let mut events = 0u64;
    let report = read_from(
        BufReader::with_capacity(1 << 20, Generated::new(lines, long_every, long_bytes)),
        "generated",
        Format::JsonLines,
        &FieldMap::default(),
        &ReadOptions::default(),
        &mut |_| events += 1,
        &mut |_| {},
    )
    .unwrap();
    let long = lines / long_every;
    assert!(long * long_bytes > 2 << 30, "the stream is over 2 GiB");
    assert_eq!(report.lines, lines);
    assert_eq!((report.events, events), (lines - long, lines - long));
    assert_eq!(report.skipped, long);
    assert_eq!(report.out_of_order, 0);
    if let (Some(before), Some(after)) = (before, peak_rss_kib()) {
        // The cap (1 MiB) plus the reader's buffer, with room for the test harness.
        assert!(
            after.saturating_sub(before) < 64 * 1024,
            "peak memory grew by {} KiB",
            after - before
        );
    }
}

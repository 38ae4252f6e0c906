//! Events per second through `read_from`: 1 M convention events as JSON lines, and 1 M OTLP
//! log records (100 per line), from memory (a corpus of distinct lines read over and over), so
//! the figure is the reader's, not the disk's.
//!
//! `cargo bench -p sdd-debugger --bench read` (release build). Set `SDD_BENCH_EVENTS` for
//! another count, `SDD_BENCH_ONLY=json` or `otlp` for one kind.

use std::io::{BufReader, Read};
use std::time::Instant;

use sdd_debugger::read::{read_from, FieldMap, Format, ReadOptions};

/// Reads `corpus` `times` times over.
struct Repeat {
    corpus: Vec<u8>,
    at: usize,
    left: usize,
}

impl Read for Repeat {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.at == self.corpus.len() {
            if self.left == 0 {
                return Ok(0);
            }
            self.left -= 1;
            self.at = 0;
        }
        let n = buf.len().min(self.corpus.len() - self.at);
        buf[..n].copy_from_slice(&self.corpus[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

const SECOND: i64 = 1_000_000_000;
const START: i64 = 1_796_094_720 * SECOND;

fn json_line(i: usize) -> String {
    let at = chrono::DateTime::from_timestamp_nanos(START + i as i64 * 1_000_000)
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    serde_json::json!({
        "timestamp": at,
        "level": "INFO",
        "event": "task.complete",
        "message": "task completed",
        "scenario": "task_management_system.complete_a_task",
        "step": "2_store",
        "business_rule": "a completed task cannot be completed again",
        "outcome": if i.is_multiple_of(50) { "failure" } else { "success" },
        "decision_factors": {"was_completed": false, "title_chars": i % 80},
        "attributes": {"task_id": format!("t{i}"), "user": format!("u{}", i % 100), "db_shard": "B"},
        "trace_id": format!("{:032x}", i as u128 * 7919 + 1),
        "span_id": format!("{:016x}", i as u64 * 31 + 1),
        "duration_ms": 1.25,
        "service_name": "task_manager",
        "service_version": "1.4.2",
    })
    .to_string()
}

fn otlp_line(batch: usize, per_line: usize) -> String {
    let records: Vec<serde_json::Value> = (0..per_line)
        .map(|j| {
            let i = batch * per_line + j;
            serde_json::json!({
                "timeUnixNano": (START + i as i64 * 1_000_000).to_string(),
                "severityText": "INFO",
                "body": {"stringValue": "task completed"},
                "traceId": format!("{:032x}", i as u128 * 7919 + 1),
                "spanId": format!("{:016x}", i as u64 * 31 + 1),
                "attributes": [
                    {"key": "event.name", "value": {"stringValue": "task.complete"}},
                    {"key": "sdd.scenario", "value": {"stringValue": "task_management_system.complete_a_task"}},
                    {"key": "sdd.step", "value": {"stringValue": "2_store"}},
                    {"key": "sdd.outcome", "value": {"stringValue": "success"}},
                    {"key": "sdd.decision.title_chars", "value": {"intValue": (i % 80).to_string()}},
                    {"key": "task_id", "value": {"stringValue": format!("t{i}")}},
                ],
            })
        })
        .collect();
    serde_json::json!({"resourceLogs": [{
        "resource": {"attributes": [
            {"key": "service.name", "value": {"stringValue": "task_manager"}},
            {"key": "service.version", "value": {"stringValue": "1.4.2"}},
        ]},
        "scopeLogs": [{"logRecords": records}],
    }]})
    .to_string()
}

fn run(label: &str, corpus: Vec<u8>, times: usize, format: Format) {
    let bytes = corpus.len() * times;
    let reader = Repeat {
        corpus,
        at: 0,
        left: times.saturating_sub(1),
    };
    let mut events = 0u64;
    let cpu_before = thread_cpu_seconds();
    let started = Instant::now();
    let report = read_from(
        BufReader::with_capacity(256 * 1024, reader),
        label,
        format,
        &FieldMap::default(),
        &ReadOptions::default(),
        &mut |event| {
            events += 1;
            std::hint::black_box(event);
        },
        &mut |_| {},
    )
    .expect("an in-memory read cannot fail");
    let seconds = started.elapsed().as_secs_f64();
    let cpu = thread_cpu_seconds()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    assert_eq!(report.skipped, 0, "{:?}", report.skipped_examples);
    println!(
        "{label:<36} {events:>8} events in {seconds:6.2} s: {:>8.0} events/s, {:6.1} MB/s{}",
        events as f64 / seconds,
        bytes as f64 / seconds / 1e6,
        match cpu {
            Some(cpu) if cpu > 0.0 => format!(
                "; per CPU second (the machine may be shared): {:>8.0} events/s",
                events as f64 / cpu
            ),
            _ => String::new(),
        }
    );
}

/// This thread's CPU time (user and system), from `/proc/thread-self/stat` (Linux; clock
/// ticks of 10 ms, fine for runs of seconds).
fn thread_cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    // Fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

fn main() {
    let only = std::env::var("SDD_BENCH_ONLY").unwrap_or_default();
    let events: usize = std::env::var("SDD_BENCH_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let distinct = 10_000.min(events);
    let times = events.div_ceil(distinct);

    let mut corpus = Vec::new();
    for i in 0..distinct {
        corpus.extend_from_slice(json_line(i).as_bytes());
        corpus.push(b'\n');
    }
    println!(
        "JSON line: {} bytes on average",
        corpus.len() / distinct.max(1)
    );
    if only.is_empty() || only == "json" {
        run(
            "JSON lines (json_lines)",
            corpus.clone(),
            times,
            Format::JsonLines,
        );
        run("JSON lines (auto)", corpus, times, Format::Auto);
    }
    if !(only.is_empty() || only == "otlp") {
        return;
    }

    let per_line = 100;
    let mut corpus = Vec::new();
    for batch in 0..distinct / per_line {
        corpus.extend_from_slice(otlp_line(batch, per_line).as_bytes());
        corpus.push(b'\n');
    }
    run(
        "OTLP logs, 100 per line (otlp_json)",
        corpus.clone(),
        times,
        Format::OtlpJson,
    );
    run(
        "OTLP logs, 100 per line (auto)",
        corpus,
        times,
        Format::Auto,
    );
}

//! `analyze_incident`'s work on a million events, end to end: a generated run with a planted
//! cause (the testing corpus) written as JSON lines of the convention to a file, then read
//! (streamed), kept as compact records, and analysed — the same steps the server takes.
//!
//! `cargo bench -p sdd-debugger --features testing --bench incident` (release build). Set
//! `SDD_BENCH_EVENTS` for another size (default 1,000,000).

use std::time::Instant;

use sdd_debugger::incident::{analyze, Context, Corpus, Options};
use sdd_debugger::read::{read_file, FieldMap, Format, ReadOptions};
use sdd_debugger::testing::{incident, json_line, Planted};

fn main() {
    let events: f64 = std::env::var("SDD_BENCH_EVENTS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000.0);
    // About four events a request (a request span, two step spans, a decision event).
    let seconds = 600;
    let rate = events / 4.0 / seconds as f64;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("events.jsonl");
    println!("| cause | events | file MB | read + keep (s) | analyse (s) | total (s) | first hypothesis |");
    println!("|---|---|---|---|---|---|---|");
    for planted in [Planted::Attribute, Planted::Healthy] {
        let generated = incident(planted, 1, rate, seconds);
        let mut text = String::with_capacity(generated.events.len() * 400);
        for e in &generated.events {
            text.push_str(&json_line(e));
            text.push('\n');
        }
        std::fs::write(&path, &text).expect("write the events");
        drop(text);
        let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let started = Instant::now();
        let mut corpus = Corpus::new(&["order_id".to_string()]);
        read_file(
            &path,
            Format::JsonLines,
            &FieldMap::default(),
            &ReadOptions::default(),
            &mut |e| corpus.add(&e),
            &mut |_| {},
        )
        .expect("read the events");
        let read = started.elapsed().as_secs_f64();
        let report = analyze(&corpus, &Context::default(), &Options::default());
        let total = started.elapsed().as_secs_f64();
        println!(
            "| {planted:?} | {} | {:.0} | {read:.2} | {:.2} | {total:.2} | {} |",
            corpus.len(),
            size as f64 / 1e6,
            total - read,
            report
                .hypotheses
                .first()
                .map(|h| h.cause.as_str())
                .unwrap_or("none (nothing above noise)")
        );
    }
}

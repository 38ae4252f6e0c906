//! Benchmark of the log template miner: 1 M generated lines with planted templates (HDFS,
//! OpenSSH, BGL-style and service lines; `sdd_debugger::log_corpus`), mined single-threaded.
//! Prints lines/s (median of runs, wall clock, this machine; nothing asserted), templates found
//! and LogPAI's grouping accuracy, then the accuracy of each similarity threshold on the whole
//! corpus and on its LogHub-like part (how the default was chosen).
//!
//! `cargo bench -p sdd-debugger --bench drain [-- CORPUS_PATH]`: with a path, also writes the
//! corpus there (one line each) and its labels to `CORPUS_PATH.labels` (the planted template's
//! index per line), for `scripts/bench_drain3.py` (scripts/bench-drain.sh).
//! `SDD_BENCH_QUICK=1` runs once on 100 k lines.

use std::hint::black_box;
use std::io::Write;
use std::time::{Duration, Instant};

use sdd_debugger::drain::{Miner, MinerConfig, TemplateId};
use sdd_debugger::log_corpus::{grouping_accuracy, Generator, Set};

const SEED: u64 = 2017;

fn main() -> std::io::Result<()> {
    let quick = std::env::var_os("SDD_BENCH_QUICK").is_some();
    let n = if quick { 100_000 } else { 1_000_000 };
    let runs = if quick { 1 } else { 5 };
    let (lines, labels) = Generator::new(SEED, Set::All).lines(n);
    let path = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    if let Some(path) = &path {
        write_corpus(path, &lines, &labels)?;
    }

    let mut times = Vec::with_capacity(runs);
    let mut ids: Vec<TemplateId> = Vec::new();
    let mut templates = 0;
    for _ in 0..runs {
        let mut miner = Miner::new(MinerConfig::default());
        ids.clear();
        ids.reserve(lines.len());
        let start = Instant::now();
        for line in &lines {
            ids.push(miner.add(black_box(line)));
        }
        times.push(start.elapsed());
        templates = miner.len();
    }
    times.sort();
    let median: Duration = times[times.len() / 2];
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let rate = n as f64 / median.as_secs_f64();
    println!(
        "log template miner, {n} lines ({:.1} MB), {} planted templates, default config",
        bytes as f64 / 1e6,
        Generator::new(SEED, Set::All).templates().len()
    );
    println!(
        "{:<14} {:>12} {:>10} {:>10} {:>9}",
        "tool", "lines/s", "MB/s", "templates", "accuracy"
    );
    println!(
        "{:<14} {:>12.0} {:>10.1} {:>10} {:>9.4}",
        "sdd-debugger",
        rate,
        bytes as f64 / 1e6 / median.as_secs_f64(),
        templates,
        grouping_accuracy(&labels, &ids)
    );

    // The similarity threshold's sweep: 200 k lines of each set.
    println!();
    println!(
        "grouping accuracy by similarity threshold (200 k lines each, templates found in brackets)"
    );
    println!("{:<6} {:>16} {:>16}", "sim", "all templates", "LogHub-like");
    let sets = [
        Generator::new(SEED, Set::All).lines(200_000),
        Generator::new(SEED, Set::LogHubLike).lines(200_000),
    ];
    for sim in [0.3, 0.4, 0.5, 0.6, 0.7, 0.8] {
        let cells: Vec<String> = sets
            .iter()
            .map(|(lines, labels)| {
                let mut miner = Miner::new(MinerConfig {
                    similarity: sim,
                    ..MinerConfig::default()
                });
                let ids: Vec<TemplateId> = lines.iter().map(|l| miner.add(l)).collect();
                format!(
                    "{:.4} ({:>3})",
                    grouping_accuracy(labels, &ids),
                    miner.len()
                )
            })
            .collect();
        println!("{sim:<6} {:>16} {:>16}", cells[0], cells[1]);
    }
    Ok(())
}

fn write_corpus(path: &str, lines: &[String], labels: &[usize]) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    for line in lines {
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    let mut out = std::io::BufWriter::new(std::fs::File::create(format!("{path}.labels"))?);
    for label in labels {
        writeln!(out, "{label}")?;
    }
    out.flush()?;
    eprintln!("corpus written to {path} (labels: {path}.labels)");
    Ok(())
}

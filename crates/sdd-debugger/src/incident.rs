//! Incident analysis: when did what break, what changed before it, and which explanation the
//! evidence favours — computed, never guessed.
//!
//! The events are kept as compact [`Record`]s (strings interned), so a million fit in memory
//! and one pass bins them. The steps:
//! 1. **Signals.** Per bin: each scenario's failure share, each constraint's refusal share,
//!    each scenario step's median duration, the request count.
//! 2. **Onset.** Given a window, the baseline is before it. Otherwise the earliest significant
//!    change point (a rise) among the signals is the onset, and the incident window runs from
//!    there to the end of the data.
//! 3. **What broke**: the signals significantly worse in the incident window than the
//!    baseline. None: the answer says nothing stands out above noise, and claims nothing.
//! 4. **Candidate causes**, each with its own time: versions first seen, traffic changes,
//!    slowed steps, attribute values over-represented among the failures (BubbleUp: the share
//!    among failures against the share among successes, one-sided two-proportion test),
//!    metric shifts, and the changes the caller found (git commits, runs).
//! 5. **Ranking.** A candidate whose change comes after the onset is a symptom, never a cause.
//!    The rest are scored by significance × the share of the incident they explain × how
//!    direct the link is, and only those above the noise threshold are hypotheses.
//!
//! Every p-value is Bonferroni-corrected for the tests of its kind, and every claim carries
//! its numbers and where they come from.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind, Nanos, Outcome, NANOS_PER_SECOND};
use crate::stats;

/// Interned text: every scenario, step, key and value is stored once.
#[derive(Debug, Default)]
struct Interner {
    ids: HashMap<String, u32>,
    texts: Vec<String>,
}

impl Interner {
    fn id(&mut self, text: &str) -> u32 {
        if let Some(&id) = self.ids.get(text) {
            return id;
        }
        let id = self.texts.len() as u32;
        self.texts.push(text.to_string());
        self.ids.insert(text.to_string(), id);
        id
    }

    fn text(&self, id: u32) -> &str {
        self.texts
            .get(id as usize)
            .map(String::as_str)
            .unwrap_or("")
    }
}

const NONE: u32 = u32::MAX;

/// An interned (key, value) dimension.
type KeyValue = (u32, u32);

/// One event, compact.
#[derive(Debug, Clone)]
struct Record {
    at: Nanos,
    kind: EventKind,
    /// A span without a parent: one request.
    root: bool,
    outcome: Option<Outcome>,
    scenario: u32,
    step: u32,
    constraint: u32,
    version: u32,
    duration_ms: f32,
    /// (key, value) pairs: attributes and decision factors (`decision.<name>`).
    dims: Box<[(u32, u32)]>,
    file: u32,
    line: u64,
}

/// The events an analysis runs over; add them in any order.
#[derive(Debug, Default)]
pub struct Corpus {
    strings: Interner,
    records: Vec<Record>,
    business_keys: Vec<u32>,
}

/// Dimensions never tested for over-representation: identifiers of one transaction.
const IDENTIFIERS: [&str; 3] = ["trace_id", "span_id", "request_id"];

impl Corpus {
    /// `business_keys` (`task_id`) are kept out of the over-representation tests: a value
    /// that names one transaction explains nothing about many.
    pub fn new(business_keys: &[String]) -> Corpus {
        let mut corpus = Corpus::default();
        corpus.business_keys = business_keys.iter().map(|k| corpus.strings.id(k)).collect();
        corpus
    }

    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// The first and last event's time.
    pub fn span(&self) -> Option<(Nanos, Nanos)> {
        let mut times = self.records.iter().map(|r| r.at);
        let first = times.next()?;
        Some(times.fold((first, first), |(lo, hi), t| (lo.min(t), hi.max(t))))
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    pub fn add(&mut self, event: &Event) {
        let s = &mut self.strings;
        let mut opt = |t: &Option<String>| t.as_deref().map(|t| s.id(t)).unwrap_or(NONE);
        let scenario = opt(&event.scenario);
        let step = opt(&event.step);
        let constraint = opt(&event.constraint);
        let version = opt(&event.service_version);
        let mut dims: Vec<(u32, u32)> = Vec::with_capacity(event.attributes.len());
        for (k, v) in &event.attributes {
            if IDENTIFIERS.contains(&k.as_str()) {
                continue;
            }
            dims.push((s.id(k), s.id(v)));
        }
        for (k, v) in &event.decision_factors {
            let key = format!("decision.{k}");
            dims.push((s.id(&key), s.id(&crate::event::value_text(v))));
        }
        let file = event.origin.as_ref().map(|o| s.id(&o.file)).unwrap_or(NONE);
        let outcome = event.outcome;
        self.records.push(Record {
            at: event.at,
            kind: event.kind,
            root: event.kind == EventKind::Span && event.parent_span_id.is_none(),
            outcome,
            scenario,
            step,
            constraint,
            version,
            duration_ms: event.duration_ms.unwrap_or(f64::NAN) as f32,
            dims: dims.into_boxed_slice(),
            file,
            line: event.origin.as_ref().map(|o| o.line).unwrap_or(0),
        });
    }
}

/// A change the caller found outside the events: a git commit, a recorded run, a config edit.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub at: Nanos,
    /// `commit`, `config`, `run`, `version`.
    pub kind: String,
    pub description: String,
    /// Where it was found (`git log`, `.sdd/history.sqlite3`, the events).
    pub source: String,
}

/// One metric series over the analysed span, at even steps.
#[derive(Debug, Clone)]
pub struct MetricSeries {
    /// The series as a selector: `http_request_duration_seconds_count{route="/tasks"}`.
    pub series: String,
    /// The PromQL the points are (what a reader re-runs to check).
    pub query: String,
    pub points: Vec<(Nanos, f64)>,
}

/// What the caller found around the events.
#[derive(Debug, Default)]
pub struct Context {
    pub changes: Vec<Change>,
    pub metrics: Vec<MetricSeries>,
    /// What could not be looked at, said in the answer (no git, no metric source, …).
    pub not_reached: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Options {
    /// The incident window `[start, end)`; `None`: found as a change point.
    pub window: Option<(Nanos, Nanos)>,
    /// The baseline; `None`: the span before the window (or the onset).
    pub baseline: Option<(Nanos, Nanos)>,
    /// Bin width; `None`: the span over 120, at least a second.
    pub bin: Option<Nanos>,
    /// Significance after correction.
    pub alpha: f64,
    /// How far before the onset a change may be and still be a candidate cause.
    pub lookback: Nanos,
    pub max_hypotheses: usize,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            window: None,
            baseline: None,
            bin: None,
            alpha: 1e-3,
            lookback: 3600 * NANOS_PER_SECOND,
            max_hypotheses: 5,
        }
    }
}

/// A number with what it is computed from, so every claim can be checked.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub claim: String,
    /// The figures the claim rests on (`failure_rate_before`, `p_value`, …).
    pub figures: BTreeMap<String, f64>,
    /// The events, query or command behind it.
    pub source: String,
    /// Up to three `file:line` of events that show it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<String>,
}

/// Something that got significantly worse.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Broken {
    /// `scenario`, `constraint` or `step_latency`.
    pub kind: String,
    /// The scenario or constraint ID (a step: `scenario / step`).
    pub subject: String,
    pub what: String,
    pub before: f64,
    pub after: f64,
    /// When it changed (its own change point), RFC 3339.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    pub evidence: Evidence,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Hypothesis {
    pub rank: usize,
    /// `deploy`, `attribute`, `slow_step`, `traffic_spike`, `metric_shift`, `change`.
    pub kind: String,
    pub cause: String,
    /// significance × share explained × directness, 0 to 1.
    pub score: f64,
    pub evidence_for: Vec<Evidence>,
    pub evidence_against: Vec<Evidence>,
    /// How to confirm or refute it.
    pub verify: String,
}

/// A change found after the onset: a consequence, listed, never ranked as a cause.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Symptom {
    pub what: String,
    pub since: String,
    pub after_onset_seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MetricShift {
    pub series: String,
    pub query: String,
    pub baseline_median: f64,
    pub incident_median: f64,
    /// Robust z: the medians' difference over the baseline's MAD scale.
    pub score: f64,
    pub p_value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Windows {
    pub baseline_start: String,
    pub baseline_end: String,
    pub incident_start: String,
    pub incident_end: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onset: Option<String>,
    /// How the onset was found: given, or the change point of which signal.
    pub onset_method: String,
    pub bin_seconds: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Report {
    pub headline: String,
    pub windows: Windows,
    pub events: usize,
    /// What was examined: each signal family and how many series of it.
    pub probed: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_reached: Vec<String>,
    pub broke: Vec<Broken>,
    pub hypotheses: Vec<Hypothesis>,
    /// Candidates below the noise threshold, by name: considered and not claimed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub below_noise: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symptoms: Vec<Symptom>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes_before_onset: Vec<Change>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metric_shifts: Vec<MetricShift>,
    pub method: String,
}

/// The earliest and latest instant an analysis looks at: those the readers accept (1990 to
/// 2200, [`crate::read::EARLIEST_SECONDS`] and [`crate::read::LATEST_SECONDS`]). Any two are
/// less than an i64 of nanoseconds apart, so a span's length never overflows.
pub const EARLIEST: Nanos = crate::read::EARLIEST_SECONDS * NANOS_PER_SECOND;
pub const LATEST: Nanos = crate::read::LATEST_SECONDS * NANOS_PER_SECOND;

/// `at`, moved into [`EARLIEST`]..=[`LATEST`].
pub fn clamp_time(at: Nanos) -> Nanos {
    at.clamp(EARLIEST, LATEST)
}

pub fn rfc3339(at: Nanos) -> String {
    let seconds = at.div_euclid(NANOS_PER_SECOND);
    let nanos = at.rem_euclid(NANOS_PER_SECOND) as u32;
    chrono::DateTime::from_timestamp(seconds, nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_else(|| at.to_string())
}

fn percent(x: f64) -> String {
    if x == 0.0 {
        "0 %".into()
    } else if x < 0.001 {
        format!("{:.3} %", x * 100.0)
    } else {
        format!("{:.1} %", x * 100.0)
    }
}

fn seconds(n: Nanos) -> f64 {
    n as f64 / NANOS_PER_SECOND as f64
}

/// Significance on a 0–1 scale: p = 1e-10 or smaller is 1.
fn significance(p: f64) -> f64 {
    if p <= 0.0 {
        return 1.0;
    }
    (-p.log10() / 10.0).clamp(0.0, 1.0)
}

/// The least share of the incident a hypothesis must explain, and the least score, to be
/// claimed at all.
pub const NOISE_THRESHOLD: f64 = 0.05;

/// A share must rise at least this much (absolute) to count as broken: a 0.1 % wobble with a
/// tiny p-value on huge traffic is not an incident.
const MIN_SHARE_RISE: f64 = 0.01;
/// A step must slow by at least this factor and this many milliseconds.
const MIN_SLOWDOWN_FACTOR: f64 = 1.5;
const MIN_SLOWDOWN_MS: f64 = 2.0;
/// A spike: the request rate at least this many times the baseline's.
const MIN_SPIKE_FACTOR: f64 = 1.5;
/// BubbleUp: the value's share among failures must exceed its share among successes by this.
const MIN_OVERREPRESENTATION: f64 = 0.2;
/// BubbleUp: the fewest successes carrying a key that a share among them is read from.
const MIN_REFERENCE: u64 = 30;

/// Which records count for a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Signal {
    /// Failures among a scenario's outcomes.
    Scenario(u32),
    /// Refusals by a constraint among all requests.
    Constraint(u32),
    /// A scenario step's duration.
    Step(u32, u32),
}

struct Analysis<'a> {
    corpus: &'a Corpus,
    /// Outcomes are counted from log records when any carries one (a step's span and its
    /// decision event would otherwise count twice); from spans in a traces-only source.
    outcome_kind: EventKind,
    /// Records in time order within [start, end).
    records: Vec<&'a Record>,
    start: Nanos,
    end: Nanos,
    bin: Nanos,
    options: &'a Options,
}

impl Analysis<'_> {
    fn bins(&self) -> usize {
        (((self.end - self.start) + self.bin - 1) / self.bin).max(1) as usize
    }

    fn bin_of(&self, at: Nanos) -> usize {
        (((at - self.start) / self.bin) as usize).min(self.bins() - 1)
    }

    fn bin_start(&self, index: usize) -> Nanos {
        self.start + index as Nanos * self.bin
    }

    fn text(&self, id: u32) -> &str {
        self.corpus.strings.text(id)
    }

    fn signal_name(&self, signal: Signal) -> String {
        match signal {
            Signal::Scenario(s) => self.text(s).to_string(),
            Signal::Constraint(c) => self.text(c).to_string(),
            Signal::Step(s, t) => format!("{} / {}", self.text(s), self.text(t)),
        }
    }

    /// Requests per bin: root spans when there are any, else every record with an outcome.
    fn requests_per_bin(&self) -> (Vec<u64>, &'static str) {
        let mut counts = vec![0u64; self.bins()];
        let roots = self.records.iter().any(|r| r.root);
        for r in &self.records {
            if (roots && r.root) || (!roots && r.outcome.is_some()) {
                counts[self.bin_of(r.at)] += 1;
            }
        }
        let basis = if roots {
            "request spans (spans without a parent)"
        } else {
            "events with an outcome"
        };
        (counts, basis)
    }

    /// Up to three distinct `file:line` (an OTLP line holds many records).
    fn example_lines<'r>(&self, records: impl Iterator<Item = &'r Record>) -> Vec<String> {
        let mut lines: Vec<String> = Vec::new();
        for r in records.filter(|r| r.file != NONE) {
            let line = format!("{}:{}", self.text(r.file), r.line);
            if !lines.contains(&line) {
                lines.push(line);
                if lines.len() == 3 {
                    break;
                }
            }
        }
        lines
    }
}

/// Split the records of a signal into (bad, total) per bin.
fn proportion_bins(a: &Analysis, signal: Signal, requests: &[u64]) -> Vec<(u64, u64)> {
    let mut bins = vec![(0u64, 0u64); a.bins()];
    match signal {
        Signal::Scenario(s) => {
            for r in a
                .records
                .iter()
                .filter(|r| r.scenario == s && r.kind == a.outcome_kind)
            {
                match r.outcome {
                    Some(Outcome::Failure) => {
                        let b = &mut bins[a.bin_of(r.at)];
                        b.0 += 1;
                        b.1 += 1;
                    }
                    Some(Outcome::Success) => bins[a.bin_of(r.at)].1 += 1,
                    _ => {}
                }
            }
        }
        Signal::Constraint(c) => {
            for r in a.records.iter().filter(|r| r.constraint == c) {
                if r.outcome == Some(Outcome::Refused) {
                    bins[a.bin_of(r.at)].0 += 1;
                }
            }
            for (b, &n) in bins.iter_mut().zip(requests) {
                // Refusals are requests too: the share never exceeds 1.
                b.1 = n.max(b.0);
            }
        }
        Signal::Step(..) => {}
    }
    bins
}

/// The most durations one step's change point is computed over: beyond it, every k-th span
/// in time order (the change point's cost is a sort).
const MAX_LATENCY_POINTS: usize = 200_000;

/// A step's durations in time order, with their times (evenly thinned past
/// [`MAX_LATENCY_POINTS`]).
fn latency_series(a: &Analysis, scenario: u32, step: u32) -> Vec<(Nanos, f64)> {
    let all: Vec<(Nanos, f64)> = a
        .records
        .iter()
        .filter(|r| {
            r.scenario == scenario
                && r.step == step
                && r.kind == EventKind::Span
                && r.duration_ms.is_finite()
        })
        .map(|r| (r.at, r.duration_ms as f64))
        .collect();
    let every = all.len().div_ceil(MAX_LATENCY_POINTS).max(1);
    all.into_iter().step_by(every).collect()
}

struct Found {
    signal: Signal,
    broken: Broken,
    onset_bin: Option<usize>,
    p_value: f64,
}

/// Analyse `corpus` (any order) with `context`.
pub fn analyze(corpus: &Corpus, context: &Context, options: &Options) -> Report {
    let mut records: Vec<&Record> = corpus.records.iter().collect();
    records.sort_by_key(|r| r.at);
    let mut probed = Vec::new();
    let mut not_reached = context.not_reached.clone();
    let (data_start, data_end) = match (records.first(), records.last()) {
        (Some(f), Some(l)) => (f.at, l.at.saturating_add(1)),
        _ => {
            return empty_report(options, context, "no events in the sources", not_reached);
        }
    };
    // Times from the caller are kept to the span events can have: a window from 1677 to 2262
    // is as long as an i64 of nanoseconds can count, and its length would overflow.
    let clamped = Options {
        window: options.window.map(|(s, e)| (clamp_time(s), clamp_time(e))),
        baseline: options
            .baseline
            .map(|(s, e)| (clamp_time(s), clamp_time(e))),
        ..options.clone()
    };
    let options = &clamped;
    let (start, end) = match (options.window, options.baseline) {
        (Some(w), Some(b)) => (b.0.min(w.0), w.1.max(b.1)),
        (Some(w), None) => (data_start.min(w.0 - (w.1 - w.0)), w.1),
        (None, Some(b)) => (b.0, data_end),
        (None, None) => (data_start, data_end),
    };
    let (start, end) = (clamp_time(start), clamp_time(end));
    let records: Vec<&Record> = records
        .into_iter()
        .filter(|r| r.at >= start && r.at < end)
        .collect();
    // Whole seconds from a second up, so bins read as times people use.
    let bin = options
        .bin
        .unwrap_or_else(|| {
            let raw = ((end - start) / 120).max(NANOS_PER_SECOND);
            (raw + NANOS_PER_SECOND - 1) / NANOS_PER_SECOND * NANOS_PER_SECOND
        })
        .max(1);
    let outcome_kind = if records
        .iter()
        .any(|r| r.kind == EventKind::Log && r.outcome.is_some())
    {
        EventKind::Log
    } else {
        EventKind::Span
    };
    let a = Analysis {
        corpus,
        outcome_kind,
        records,
        start,
        end,
        bin,
        options,
    };
    let (requests, request_basis) = a.requests_per_bin();

    // 1. Signals.
    let mut scenarios: Vec<u32> = Vec::new();
    let mut constraints: Vec<u32> = Vec::new();
    let mut steps: Vec<(u32, u32)> = Vec::new();
    {
        let mut seen_s = std::collections::HashSet::new();
        let mut seen_c = std::collections::HashSet::new();
        let mut seen_t = std::collections::HashSet::new();
        for r in &a.records {
            if r.scenario != NONE
                && r.kind == a.outcome_kind
                && matches!(r.outcome, Some(Outcome::Success | Outcome::Failure))
                && seen_s.insert(r.scenario)
            {
                scenarios.push(r.scenario);
            }
            if r.constraint != NONE
                && r.outcome == Some(Outcome::Refused)
                && seen_c.insert(r.constraint)
            {
                constraints.push(r.constraint);
            }
            if r.scenario != NONE
                && r.step != NONE
                && r.kind == EventKind::Span
                && r.duration_ms.is_finite()
                && seen_t.insert((r.scenario, r.step))
            {
                steps.push((r.scenario, r.step));
            }
        }
    }
    scenarios.sort_by(|x, y| a.text(*x).cmp(a.text(*y)));
    constraints.sort_by(|x, y| a.text(*x).cmp(a.text(*y)));
    steps.sort_by(|x, y| (a.text(x.0), a.text(x.1)).cmp(&(a.text(y.0), a.text(y.1))));
    probed.push(format!(
        "{} events from {} to {} in {} bins of {} s",
        a.records.len(),
        rfc3339(start),
        rfc3339(end),
        a.bins(),
        seconds(bin)
    ));
    probed.push(format!(
        "failure share of {} scenarios (events with scenario and outcome success/failure)",
        scenarios.len()
    ));
    probed.push(format!(
        "refusal share of {} constraints (refused events against {request_basis})",
        constraints.len()
    ));
    probed.push(format!(
        "median duration of {} scenario steps (spans with scenario and step)",
        steps.len()
    ));
    if steps.is_empty() {
        not_reached.push(
            "step latency: no spans with a scenario and a step (the convention's spans) in the sources"
                .into(),
        );
    }
    let signal_count = (scenarios.len() + constraints.len() + steps.len()).max(1) as f64;

    // 2. Onset: the given window, or the earliest significant rise.
    let mut found: Vec<Found> = Vec::new();
    let share_signals = scenarios
        .iter()
        .map(|&s| Signal::Scenario(s))
        .chain(constraints.iter().map(|&c| Signal::Constraint(c)));
    for signal in share_signals {
        if let Some(f) = judge_share(
            &a,
            signal,
            &proportion_bins(&a, signal, &requests),
            signal_count,
        ) {
            found.push(f);
        }
    }
    for &(s, t) in &steps {
        if let Some(f) = judge_latency(&a, s, t, signal_count) {
            found.push(f);
        }
    }
    let (onset, onset_method, incident, baseline) = match options.window {
        Some(w) => {
            let baseline = options.baseline.unwrap_or((start, w.0));
            // Within a given window, a signal's own change point may place the onset.
            let onset = found
                .iter()
                .filter_map(|f| f.onset_bin.map(|b| a.bin_start(b)))
                .filter(|&t| t >= w.0 && t < w.1)
                .min()
                .unwrap_or(w.0);
            (
                onset,
                "given window (the earliest change point inside it, else its start)".to_string(),
                w,
                baseline,
            )
        }
        None => {
            let earliest = found
                .iter()
                .filter_map(|f| f.onset_bin.map(|b| (b, f)))
                .min_by_key(|(b, _)| *b);
            match earliest {
                Some((b, f)) => {
                    let onset = a.bin_start(b);
                    (
                        onset,
                        format!(
                            "change point of {} ({}), the earliest significant rise",
                            f.broken.subject, f.broken.what
                        ),
                        (onset, end),
                        options.baseline.unwrap_or((start, onset)),
                    )
                }
                None => {
                    // Nothing rose: the last quarter against the rest, so the answer still
                    // says what it compared.
                    let cut = end - (end - start) / 4;
                    (
                        cut,
                        "no change point: the last quarter of the data against the rest".into(),
                        (cut, end),
                        (start, cut),
                    )
                }
            }
        }
    };
    let windows = Windows {
        baseline_start: rfc3339(baseline.0),
        baseline_end: rfc3339(baseline.1),
        incident_start: rfc3339(incident.0),
        incident_end: rfc3339(incident.1),
        // Without a change point there is no onset, only the cut the windows were made at.
        onset: (options.window.is_some() || found.iter().any(|f| f.onset_bin.is_some()))
            .then(|| rfc3339(onset)),
        onset_method,
        bin_seconds: seconds(bin),
    };

    // 3. What broke: worse in the incident window than the baseline, significantly.
    let broke: Vec<Found> = found
        .into_iter()
        .filter_map(|f| confirm_against_baseline(&a, f, incident, baseline, signal_count))
        .collect();
    let changes_before_onset: Vec<Change> = context
        .changes
        .iter()
        .filter(|c| c.at <= onset && c.at >= onset - options.lookback)
        .cloned()
        .collect();
    let metric_shifts = metric_shifts(&context.metrics, incident, baseline, options, &a);
    if context.metrics.is_empty() {
        probed.push("no metric series (no metric source answered)".into());
    } else {
        probed.push(format!(
            "{} metric series from the metric source",
            context.metrics.len()
        ));
    }
    if broke.is_empty() {
        // A window without events was not compared at all: "nothing above noise" would be a
        // verdict on no evidence.
        let events_in = |w| a.records.iter().filter(|r| in_window(r.at, w)).count();
        let empty = [("incident", incident), ("baseline", baseline)]
            .into_iter()
            .find(|(_, w)| events_in(*w) == 0);
        let headline = match empty {
            Some((name, w)) => format!(
                "NOTHING TO ANALYSE: no events in the {name} window {} – {} (the events run from {} to {}); give a window that holds events",
                rfc3339(w.0),
                rfc3339(w.1),
                rfc3339(data_start),
                rfc3339(data_end)
            ),
            None => format!(
                "NOTHING ABOVE NOISE: no scenario, constraint or step got significantly worse ({} events, {} signals checked at p < {} after correction)",
                a.records.len(),
                signal_count as usize,
                options.alpha
            ),
        };
        return Report {
            headline,
            windows,
            events: a.records.len(),
            probed,
            not_reached,
            broke: Vec::new(),
            hypotheses: Vec::new(),
            below_noise: Vec::new(),
            symptoms: Vec::new(),
            changes_before_onset,
            metric_shifts,
            method: METHOD.into(),
        };
    }

    // 4. Candidates and 5. ranking.
    let mut candidates: Vec<Hypothesis> = Vec::new();
    let mut symptoms: Vec<Symptom> = Vec::new();
    let tolerance = bin;
    deploy_candidates(
        &a,
        &broke,
        onset,
        tolerance,
        incident,
        &mut candidates,
        &mut symptoms,
    );
    spike_candidates(
        &a,
        &broke,
        &requests,
        request_basis,
        onset,
        tolerance,
        &mut candidates,
        &mut symptoms,
    );
    slow_step_candidates(&a, &broke, onset, tolerance, &mut candidates, &mut symptoms);
    attribute_candidates(
        &a,
        &broke,
        incident,
        baseline,
        onset,
        tolerance,
        &mut candidates,
        &mut symptoms,
    );
    for shift in &metric_shifts {
        let since = shift.since.clone();
        let at = context
            .metrics
            .iter()
            .find(|m| m.series == shift.series)
            .and_then(|m| since_nanos(m, incident, baseline));
        match at {
            Some(t) if t > onset + tolerance => symptoms.push(Symptom {
                what: format!("{} moved (robust z {:.1})", shift.series, shift.score),
                since: rfc3339(t),
                after_onset_seconds: seconds(t - onset),
            }),
            _ => {
                let mut figures = BTreeMap::new();
                figures.insert("baseline_median".into(), shift.baseline_median);
                figures.insert("incident_median".into(), shift.incident_median);
                figures.insert("robust_z".into(), shift.score);
                figures.insert("p_value".into(), shift.p_value);
                candidates.push(Hypothesis {
                    rank: 0,
                    kind: "metric_shift".into(),
                    cause: format!("{} changed at or before the onset", shift.series),
                    // A metric moving with the incident is correlation, not a mechanism.
                    score: significance(shift.p_value) * 0.3,
                    evidence_for: vec![Evidence {
                        claim: format!(
                            "{} from {:.4} to {:.4} (robust z {:.1}){}",
                            shift.series,
                            shift.baseline_median,
                            shift.incident_median,
                            shift.score,
                            since.map(|s| format!(", since {s}")).unwrap_or_default()
                        ),
                        figures,
                        source: shift.query.clone(),
                        examples: Vec::new(),
                    }],
                    evidence_against: vec![Evidence {
                        claim: "a metric moving with the incident shows correlation, not which came first within a bin".into(),
                        figures: BTreeMap::new(),
                        source: "the analysis' method".into(),
                        examples: Vec::new(),
                    }],
                    verify: format!("query_metrics on {} over both windows", shift.series),
                });
            }
        }
    }
    for change in &changes_before_onset {
        if change.kind == "version" {
            continue;
        }
        let mut figures = BTreeMap::new();
        figures.insert("seconds_before_onset".into(), seconds(onset - change.at));
        candidates.push(Hypothesis {
            rank: 0,
            kind: "change".into(),
            cause: format!("{} {}", change.kind, change.description),
            // Timing alone: the nearer the onset, the more it deserves a look, never more
            // than a tenth.
            score: 0.1
                * (1.0 - (onset - change.at) as f64 / options.lookback.max(1) as f64)
                    .clamp(0.0, 1.0),
            evidence_for: vec![Evidence {
                claim: format!(
                    "{} {:.0} s before the onset",
                    change.description,
                    seconds(onset - change.at)
                ),
                figures,
                source: change.source.clone(),
                examples: Vec::new(),
            }],
            evidence_against: vec![Evidence {
                claim: "nothing in the events ties the failures to it: timing only".into(),
                figures: BTreeMap::new(),
                source: "the events".into(),
                examples: Vec::new(),
            }],
            verify: "compare the change's content with the failing step".into(),
        });
    }
    candidates.sort_by(|x, y| {
        y.score
            .total_cmp(&x.score)
            .then_with(|| x.cause.cmp(&y.cause))
    });
    let mut hypotheses = Vec::new();
    let mut below_noise = Vec::new();
    for h in candidates {
        if h.score >= NOISE_THRESHOLD && hypotheses.len() < options.max_hypotheses {
            hypotheses.push(h);
        } else if h.score < NOISE_THRESHOLD {
            below_noise.push(format!("{} (score {:.3})", h.cause, h.score));
        }
    }
    for (i, h) in hypotheses.iter_mut().enumerate() {
        h.rank = i + 1;
    }
    symptoms.sort_by(|x, y| x.after_onset_seconds.total_cmp(&y.after_onset_seconds));
    let first = &broke[0].broken;
    let headline = format!(
        "INCIDENT: {} {} rose from {} to {} at {}{}",
        first.subject,
        first.what,
        fmt_level(&first.kind, first.before),
        fmt_level(&first.kind, first.after),
        first.since.clone().unwrap_or_else(|| rfc3339(onset)),
        match hypotheses.first() {
            Some(h) => format!("; top hypothesis: {}", h.cause),
            None => "; no hypothesis stands above the noise".into(),
        }
    );
    Report {
        headline,
        windows,
        events: a.records.len(),
        probed,
        not_reached,
        broke: broke.into_iter().map(|f| f.broken).collect(),
        hypotheses,
        below_noise,
        symptoms,
        changes_before_onset,
        metric_shifts,
        method: METHOD.into(),
    }
}

const METHOD: &str = "Events binned over the span; each scenario's failure share, each constraint's refusal share (binomial likelihood-ratio change point) and each step's median duration (rank-sum change point) tested for a rise, Bonferroni-corrected over the signals; a rise counts only if the incident window is also significantly worse than the baseline (two-proportion z-test, Mann–Whitney). Candidate causes carry their own change time; one after the onset (by more than a bin) is a symptom. Score = significance (−log10 p / 10, capped at 1) × share of the incident's failures explained × directness (a change that precedes the onset 1, an attribute that locates the failures 0.9, a metric moving with them 0.3, timing alone ≤ 0.1). Hypotheses below 0.05 are not claimed.";

fn fmt_level(kind: &str, value: f64) -> String {
    if kind == "step_latency" {
        format!("{value:.1} ms")
    } else {
        percent(value)
    }
}

fn empty_report(
    options: &Options,
    context: &Context,
    why: &str,
    not_reached: Vec<String>,
) -> Report {
    Report {
        headline: format!("NOTHING TO ANALYSE: {why}"),
        windows: Windows {
            baseline_start: String::new(),
            baseline_end: String::new(),
            incident_start: options.window.map(|w| rfc3339(w.0)).unwrap_or_default(),
            incident_end: options.window.map(|w| rfc3339(w.1)).unwrap_or_default(),
            onset: None,
            onset_method: "none: no events".into(),
            bin_seconds: 0.0,
        },
        events: 0,
        probed: vec!["no events".into()],
        not_reached,
        broke: Vec::new(),
        hypotheses: Vec::new(),
        below_noise: Vec::new(),
        symptoms: Vec::new(),
        changes_before_onset: context.changes.clone(),
        metric_shifts: Vec::new(),
        method: METHOD.into(),
    }
}

/// A share signal with a significant rise: its change point.
fn judge_share(a: &Analysis, signal: Signal, bins: &[(u64, u64)], tests: f64) -> Option<Found> {
    let c = stats::proportion_change_point(bins)?;
    let p = (c.p_value * tests).min(1.0);
    if p >= a.options.alpha || c.after - c.before < MIN_SHARE_RISE || c.after < 2.0 * c.before {
        return None;
    }
    let (kind, what) = match signal {
        Signal::Scenario(_) => ("scenario", "failure rate"),
        Signal::Constraint(_) => ("constraint", "refusal rate"),
        Signal::Step(..) => return None,
    };
    Some(Found {
        signal,
        broken: Broken {
            kind: kind.into(),
            subject: a.signal_name(signal),
            what: what.into(),
            before: c.before,
            after: c.after,
            since: Some(rfc3339(a.bin_start(c.index))),
            evidence: Evidence {
                claim: String::new(),
                figures: BTreeMap::new(),
                source: String::new(),
                examples: Vec::new(),
            },
        },
        onset_bin: Some(c.index),
        p_value: p,
    })
}

fn judge_latency(a: &Analysis, scenario: u32, step: u32, tests: f64) -> Option<Found> {
    // Each span's duration, not a median per bin: a short incident has few bins, and a rank
    // test over a handful of medians cannot reach the corrected significance however clear
    // the change.
    let series = latency_series(a, scenario, step);
    let durations: Vec<f64> = series.iter().map(|(_, d)| *d).collect();
    let c = stats::level_change_point(&durations)?;
    let p = (c.p_value * tests).min(1.0);
    if p >= a.options.alpha
        || c.statistic <= 0.0
        || c.after < c.before * MIN_SLOWDOWN_FACTOR
        || c.after - c.before < MIN_SLOWDOWN_MS
    {
        return None;
    }
    let changed_at = series.get(c.index).map(|(t, _)| *t)?;
    let signal = Signal::Step(scenario, step);
    Some(Found {
        signal,
        broken: Broken {
            kind: "step_latency".into(),
            subject: a.signal_name(signal),
            what: "median duration".into(),
            before: c.before,
            after: c.after,
            since: Some(rfc3339(changed_at)),
            evidence: Evidence {
                claim: String::new(),
                figures: BTreeMap::new(),
                source: String::new(),
                examples: Vec::new(),
            },
        },
        onset_bin: Some(a.bin_of(changed_at)),
        p_value: p,
    })
}

fn in_window(at: Nanos, w: (Nanos, Nanos)) -> bool {
    at >= w.0 && at < w.1
}

/// How a share signal's evidence reads: `failed 12 of 400 times`, `refused 90 of 300 requests`.
struct ShareWords {
    /// The figures' prefixes: `failures_incident`, `outcomes_baseline`, …
    bad: &'static str,
    all: &'static str,
    verb: &'static str,
    unit: &'static str,
    source: String,
}

/// A share signal confirmed against the baseline: `(bad, all)` in each window, the one-sided
/// two-proportion test corrected for `tests`, and the effect floor; `None` when the incident
/// window is not significantly (and materially) worse.
fn confirm_share(
    a: &Analysis,
    f: &mut Found,
    (bi, ni): (u64, u64),
    (bb, nb): (u64, u64),
    tests: f64,
    words: ShareWords,
    examples: Vec<String>,
) -> Option<()> {
    let t = stats::two_proportion_test(bi, ni, bb, nb)?;
    let p = (t.p_value * tests).min(1.0);
    if p >= a.options.alpha || t.difference < MIN_SHARE_RISE {
        return None;
    }
    f.broken.before = t.p2;
    f.broken.after = t.p1;
    f.p_value = f.p_value.max(p);
    let ShareWords {
        bad,
        all,
        verb,
        unit,
        source,
    } = words;
    let figures = BTreeMap::from([
        (format!("{bad}_incident"), bi as f64),
        (format!("{all}_incident"), ni as f64),
        (format!("{bad}_baseline"), bb as f64),
        (format!("{all}_baseline"), nb as f64),
        ("p_value".to_string(), p),
    ]);
    f.broken.evidence = Evidence {
        claim: format!(
            "{} {verb} {bi} of {ni} {unit} ({}) in the incident window against {bb} of {nb} ({}) in the baseline",
            f.broken.subject,
            percent(t.p1),
            percent(t.p2)
        ),
        figures,
        source,
        examples,
    };
    Some(())
}

/// Keep a found signal only if the incident window is significantly worse than the baseline,
/// and fill its evidence from the two windows' counts.
fn confirm_against_baseline(
    a: &Analysis,
    mut f: Found,
    incident: (Nanos, Nanos),
    baseline: (Nanos, Nanos),
    tests: f64,
) -> Option<Found> {
    let name = f.broken.subject.clone();
    match f.signal {
        Signal::Scenario(s) => {
            let count =
                |w| {
                    let mut bad = 0;
                    let mut all = 0;
                    for r in a.records.iter().filter(|r| {
                        r.scenario == s && r.kind == a.outcome_kind && in_window(r.at, w)
                    }) {
                        match r.outcome {
                            Some(Outcome::Failure) => {
                                bad += 1;
                                all += 1
                            }
                            Some(Outcome::Success) => all += 1,
                            _ => {}
                        }
                    }
                    (bad, all)
                };
            let examples = a.example_lines(a.records.iter().copied().filter(|r| {
                r.scenario == s && r.outcome == Some(Outcome::Failure) && in_window(r.at, incident)
            }));
            let words = ShareWords {
                bad: "failures",
                all: "outcomes",
                verb: "failed",
                unit: "times",
                source: format!("events with scenario = {name} and outcome success/failure"),
            };
            confirm_share(
                a,
                &mut f,
                count(incident),
                count(baseline),
                tests,
                words,
                examples,
            )?;
        }
        Signal::Constraint(c) => {
            let roots = a.records.iter().any(|r| r.root);
            let count = |w| {
                let refused = a
                    .records
                    .iter()
                    .filter(|r| {
                        r.constraint == c
                            && r.outcome == Some(Outcome::Refused)
                            && in_window(r.at, w)
                    })
                    .count() as u64;
                let requests = a
                    .records
                    .iter()
                    .filter(|r| {
                        in_window(r.at, w) && if roots { r.root } else { r.outcome.is_some() }
                    })
                    .count() as u64;
                (refused, requests.max(refused))
            };
            let examples = a.example_lines(a.records.iter().copied().filter(|r| {
                r.constraint == c
                    && r.outcome == Some(Outcome::Refused)
                    && in_window(r.at, incident)
            }));
            let words = ShareWords {
                bad: "refused",
                all: "requests",
                verb: "refused",
                unit: "requests",
                source: format!("events with constraint = {name} and outcome refused"),
            };
            confirm_share(
                a,
                &mut f,
                count(incident),
                count(baseline),
                tests,
                words,
                examples,
            )?;
        }
        Signal::Step(s, t) => {
            let durations = |w| -> Vec<f64> {
                a.records
                    .iter()
                    .filter(|r| {
                        r.scenario == s
                            && r.step == t
                            && r.kind == EventKind::Span
                            && r.duration_ms.is_finite()
                            && in_window(r.at, w)
                    })
                    .map(|r| r.duration_ms as f64)
                    .collect()
            };
            let shift = stats::robust_shift(&durations(baseline), &durations(incident))?;
            let p = (shift.p_value * tests).min(1.0);
            if p >= a.options.alpha
                || shift.current_median < shift.baseline_median * MIN_SLOWDOWN_FACTOR
                || shift.current_median - shift.baseline_median < MIN_SLOWDOWN_MS
            {
                return None;
            }
            f.broken.before = shift.baseline_median;
            f.broken.after = shift.current_median;
            let mut figures = BTreeMap::new();
            figures.insert("median_ms_baseline".into(), shift.baseline_median);
            figures.insert("median_ms_incident".into(), shift.current_median);
            figures.insert("robust_z".into(), shift.score);
            figures.insert("spans_baseline".into(), shift.baseline_count as f64);
            figures.insert("spans_incident".into(), shift.current_count as f64);
            figures.insert("p_value".into(), p);
            f.broken.evidence = Evidence {
                claim: format!(
                    "{name} took a median {:.1} ms in the incident window against {:.1} ms in the baseline ({} and {} spans)",
                    shift.current_median, shift.baseline_median, shift.current_count, shift.baseline_count
                ),
                figures,
                source: format!("spans with scenario and step = {name}, duration"),
                examples: a.example_lines(a.records.iter().copied().filter(|r| {
                    r.scenario == s && r.step == t && r.kind == EventKind::Span && in_window(r.at, incident)
                })),
            };
        }
    }
    Some(f)
}

/// Failures (and refusals) of the broken signals: the incident's bad records.
fn is_bad(r: &Record, broke: &[Found], kind: EventKind) -> bool {
    r.kind == kind
        && broke.iter().any(|f| match f.signal {
            Signal::Scenario(s) => r.scenario == s && r.outcome == Some(Outcome::Failure),
            Signal::Constraint(c) => r.constraint == c && r.outcome == Some(Outcome::Refused),
            Signal::Step(..) => false,
        })
}

/// Records the broken share signals are computed over (bad or good).
fn in_scope(r: &Record, broke: &[Found], kind: EventKind) -> bool {
    r.kind == kind
        && broke.iter().any(|f| match f.signal {
            Signal::Scenario(s) => {
                r.scenario == s && matches!(r.outcome, Some(Outcome::Success | Outcome::Failure))
            }
            Signal::Constraint(_) => r.outcome.is_some(),
            Signal::Step(..) => false,
        })
}

fn deploy_candidates(
    a: &Analysis,
    broke: &[Found],
    onset: Nanos,
    tolerance: Nanos,
    incident: (Nanos, Nanos),
    candidates: &mut Vec<Hypothesis>,
    symptoms: &mut Vec<Symptom>,
) {
    // Versions by first appearance; one present from the start of the data is no deploy.
    let mut first_seen: Vec<(u32, Nanos)> = Vec::new();
    for r in &a.records {
        if r.version != NONE && !first_seen.iter().any(|(v, _)| *v == r.version) {
            first_seen.push((r.version, r.at));
        }
    }
    if first_seen.len() < 2 {
        return;
    }
    let bad_in_incident: Vec<&&Record> = a
        .records
        .iter()
        .filter(|r| in_window(r.at, incident) && is_bad(r, broke, a.outcome_kind))
        .collect();
    let total_bad = bad_in_incident.len().max(1) as f64;
    let tests = (first_seen.len() - 1) as f64;
    for &(version, seen) in first_seen.iter().skip(1) {
        let name = a.text(version).to_string();
        if seen > onset + tolerance {
            symptoms.push(Symptom {
                what: format!("version {name} first seen"),
                since: rfc3339(seen),
                after_onset_seconds: seconds(seen - onset),
            });
            continue;
        }
        if onset - seen > a.options.lookback {
            continue;
        }
        // The broken outcomes on this version against every other version, over the span.
        let (mut x1, mut n1, mut x2, mut n2) = (0u64, 0u64, 0u64, 0u64);
        for r in a
            .records
            .iter()
            .filter(|r| in_scope(r, broke, a.outcome_kind))
        {
            let bad = is_bad(r, broke, a.outcome_kind) as u64;
            if r.version == version {
                x1 += bad;
                n1 += 1;
            } else if r.version != NONE {
                x2 += bad;
                n2 += 1;
            }
        }
        let Some(t) = stats::two_proportion_test(x1, n1, x2, n2) else {
            continue;
        };
        let p = (t.p_value * tests).min(1.0);
        let on_version = bad_in_incident
            .iter()
            .filter(|r| r.version == version)
            .count() as f64;
        let explained = on_version / total_bad;
        let mut figures = BTreeMap::new();
        figures.insert("failure_rate_on_version".into(), t.p1);
        figures.insert("failure_rate_on_others".into(), t.p2);
        figures.insert("outcomes_on_version".into(), n1 as f64);
        figures.insert("outcomes_on_others".into(), n2 as f64);
        figures.insert("p_value".into(), p);
        figures.insert("seconds_before_onset".into(), seconds(onset - seen));
        let mut against = Vec::new();
        let elsewhere = total_bad - on_version;
        if elsewhere > 0.0 && !bad_in_incident.is_empty() {
            let mut f = BTreeMap::new();
            f.insert("failures_on_other_versions".into(), elsewhere);
            against.push(Evidence {
                claim: format!(
                    "{elsewhere:.0} of the incident's {total_bad:.0} failures are on other versions"
                ),
                figures: f,
                source: "events in the incident window by service_version".into(),
                examples: Vec::new(),
            });
        }
        if t.difference <= 0.0 || p >= a.options.alpha {
            let mut f = BTreeMap::new();
            f.insert("p_value".into(), p);
            against.push(Evidence {
                claim: format!(
                    "failures are not more frequent on {name} ({}) than on other versions ({})",
                    percent(t.p1),
                    percent(t.p2)
                ),
                figures: f,
                source: "events by service_version".into(),
                examples: Vec::new(),
            });
        }
        let score = if t.difference > 0.0 && p < a.options.alpha {
            significance(p) * explained
        } else {
            0.0
        };
        candidates.push(Hypothesis {
            rank: 0,
            kind: "deploy".into(),
            cause: format!("the deploy of version {name}"),
            score,
            evidence_for: vec![
                Evidence {
                    // The onset is a bin's start: a version first seen later in that bin
                    // is after it, and which came first within the bin is not known.
                    claim: if seen > onset {
                        format!(
                            "version {name} first seen at {}, {:.1} s after the start of the onset's {} s bin: the order within a bin is not known",
                            rfc3339(seen),
                            seconds(seen - onset),
                            seconds(tolerance)
                        )
                    } else {
                        format!(
                            "version {name} first seen at {}, {:.0} s before the onset",
                            rfc3339(seen),
                            seconds(onset - seen)
                        )
                    },
                    figures: BTreeMap::from([("seconds_before_onset".into(), seconds(onset - seen))]),
                    source: "the first event with service_version = ".to_string() + &name,
                    examples: a.example_lines(a.records.iter().copied().filter(|r| r.version == version)),
                },
                Evidence {
                    claim: format!(
                        "on {name} the broken outcomes failed {x1} of {n1} times ({}), on other versions {x2} of {n2} ({})",
                        percent(t.p1),
                        percent(t.p2)
                    ),
                    figures,
                    source: "events of the broken scenarios and constraints by service_version".into(),
                    examples: a.example_lines(
                        a.records.iter().copied().filter(|r| r.version == version && is_bad(r, broke, a.outcome_kind)),
                    ),
                },
            ],
            evidence_against: against,
            verify: format!(
                "roll back to the previous version, or trace_transaction on a failing request of {name}"
            ),
        });
    }
}

#[allow(clippy::too_many_arguments)]
fn spike_candidates(
    a: &Analysis,
    broke: &[Found],
    requests: &[u64],
    basis: &str,
    onset: Nanos,
    tolerance: Nanos,
    candidates: &mut Vec<Hypothesis>,
    symptoms: &mut Vec<Symptom>,
) {
    let Some(c) = stats::count_change_point(requests) else {
        return;
    };
    if c.p_value >= a.options.alpha || c.after < c.before * MIN_SPIKE_FACTOR {
        return;
    }
    let at = a.bin_start(c.index);
    let per_second = |per_bin: f64| per_bin / seconds(a.bin);
    if at > onset + tolerance {
        symptoms.push(Symptom {
            what: format!(
                "request rate from {:.1}/s to {:.1}/s",
                per_second(c.before),
                per_second(c.after)
            ),
            since: rfc3339(at),
            after_onset_seconds: seconds(at - onset),
        });
        return;
    }
    // What a spike explains: refusals by a constraint (a rate limit) directly; failures only
    // as load, so less.
    let refusals = broke
        .iter()
        .any(|f| matches!(f.signal, Signal::Constraint(_)));
    let explained = if refusals { 1.0 } else { 0.5 };
    let mut figures = BTreeMap::new();
    figures.insert("requests_per_second_before".into(), per_second(c.before));
    figures.insert("requests_per_second_after".into(), per_second(c.after));
    figures.insert("p_value".into(), c.p_value);
    let mut evidence_for = vec![Evidence {
        claim: format!(
            "requests rose from {:.1}/s to {:.1}/s at {}",
            per_second(c.before),
            per_second(c.after),
            rfc3339(at)
        ),
        figures,
        source: format!("{basis} per {} s bin", seconds(a.bin)),
        examples: Vec::new(),
    }];
    // Who sent it: the attribute value most over-represented among the new requests.
    if let Some((key, value, share)) = top_source_of_spike(a, at) {
        evidence_for.push(Evidence {
            claim: format!(
                "{} of the requests after the rise carry {key} = {value}",
                percent(share)
            ),
            figures: BTreeMap::from([("share".into(), share)]),
            source: "requests after the rise by attribute".into(),
            examples: Vec::new(),
        });
    }
    let mut against = Vec::new();
    if !refusals {
        against.push(Evidence {
            claim: "no constraint refused more: the failures are not rate-limit refusals".into(),
            figures: BTreeMap::new(),
            source: "refused events".into(),
            examples: Vec::new(),
        });
    }
    candidates.push(Hypothesis {
        rank: 0,
        kind: "traffic_spike".into(),
        cause: format!(
            "a traffic spike ({:.1}× the request rate){}",
            c.after / c.before.max(1e-9),
            if refusals {
                " tripped the rate limit"
            } else {
                ""
            }
        ),
        score: significance(c.p_value) * explained,
        evidence_for,
        evidence_against: against,
        verify:
            "list the requests by user over both windows; check the rate limit's refusals by user"
                .into(),
    });
}

/// Who sent the spike: the (key, value) whose share of the requests grew most after `at`
/// (the most specific: a user rather than the shard the user lives on), if it holds at least
/// half of them.
fn top_source_of_spike(a: &Analysis, at: Nanos) -> Option<(String, String, f64)> {
    let mut after: HashMap<(u32, u32), u64> = HashMap::new();
    let mut before: HashMap<(u32, u32), u64> = HashMap::new();
    let (mut total_after, mut total_before) = (0u64, 0u64);
    for r in a.records.iter().filter(|r| r.outcome.is_some()) {
        let (counts, total) = if r.at >= at {
            (&mut after, &mut total_after)
        } else {
            (&mut before, &mut total_before)
        };
        *total += 1;
        for &(k, v) in r.dims.iter() {
            if !a.corpus.business_keys.contains(&k) && !a.text(k).starts_with("decision.") {
                *counts.entry((k, v)).or_default() += 1;
            }
        }
    }
    let share = |n: u64, total: u64| n as f64 / total.max(1) as f64;
    let ((k, v), lift, s) = after
        .iter()
        .map(|(&kv, &n)| {
            let s = share(n, total_after);
            let lift = s - share(before.get(&kv).copied().unwrap_or(0), total_before);
            (kv, lift, s)
        })
        .filter(|(_, _, s)| *s >= 0.5)
        .max_by(|x, y| x.1.total_cmp(&y.1).then(y.0.cmp(&x.0)))?;
    (lift > 0.0).then(|| (a.text(k).to_string(), a.text(v).to_string(), s))
}

fn slow_step_candidates(
    a: &Analysis,
    broke: &[Found],
    onset: Nanos,
    tolerance: Nanos,
    candidates: &mut Vec<Hypothesis>,
    symptoms: &mut Vec<Symptom>,
) {
    let total_added: f64 = broke
        .iter()
        .filter(|f| matches!(f.signal, Signal::Step(..)))
        .map(|f| (f.broken.after - f.broken.before).max(0.0))
        .sum();
    for f in broke {
        let Signal::Step(scenario, step) = f.signal else {
            continue;
        };
        let at = f.onset_bin.map(|b| a.bin_start(b)).unwrap_or(onset);
        if at > onset + tolerance {
            symptoms.push(Symptom {
                what: format!("{} slowed", f.broken.subject),
                since: rfc3339(at),
                after_onset_seconds: seconds(at - onset),
            });
            continue;
        }
        let added = (f.broken.after - f.broken.before).max(0.0);
        let explained = if total_added > 0.0 {
            added / total_added
        } else {
            0.0
        };
        // Failures the slowdown might explain: timeouts of the same scenario.
        let mut against = Vec::new();
        let other_steps_same: Vec<String> = broke
            .iter()
            .filter_map(|g| match g.signal {
                Signal::Step(s, t) if s == scenario && t != step => Some(a.text(t).to_string()),
                _ => None,
            })
            .collect();
        if !other_steps_same.is_empty() {
            against.push(Evidence {
                claim: format!(
                    "other steps of the scenario slowed too ({}): the cause may be shared",
                    other_steps_same.join(", ")
                ),
                figures: BTreeMap::new(),
                source: "spans of the same scenario".into(),
                examples: Vec::new(),
            });
        }
        candidates.push(Hypothesis {
            rank: 0,
            kind: "slow_step".into(),
            cause: format!(
                "a slow dependency in step {} of {} (+{:.1} ms)",
                a.text(step),
                a.text(scenario),
                added
            ),
            score: significance(f.p_value) * explained,
            evidence_for: vec![f.broken.evidence.clone()],
            evidence_against: against,
            verify: format!(
                "trace_transaction on a slow {} transaction and look at step {}",
                a.text(scenario),
                a.text(step)
            ),
        });
    }
}

/// BubbleUp: each attribute value's share among the incident's bad records against its share
/// among the good ones of the same signals, in the incident window.
#[allow(clippy::too_many_arguments)]
fn attribute_candidates(
    a: &Analysis,
    broke: &[Found],
    incident: (Nanos, Nanos),
    baseline: (Nanos, Nanos),
    onset: Nanos,
    tolerance: Nanos,
    candidates: &mut Vec<Hypothesis>,
    symptoms: &mut Vec<Symptom>,
) {
    let mut bad_n: HashMap<u32, u64> = HashMap::new();
    let mut good_n: HashMap<u32, u64> = HashMap::new();
    let mut bad_kv: HashMap<(u32, u32), u64> = HashMap::new();
    let mut good_kv: HashMap<(u32, u32), u64> = HashMap::new();
    let mut first_bad: HashMap<(u32, u32), Nanos> = HashMap::new();
    let mut total_bad = 0u64;
    for r in a
        .records
        .iter()
        .filter(|r| in_window(r.at, incident) && in_scope(r, broke, a.outcome_kind))
    {
        let bad = is_bad(r, broke, a.outcome_kind);
        total_bad += bad as u64;
        for &(k, v) in r.dims.iter() {
            if a.corpus.business_keys.contains(&k) {
                continue;
            }
            if bad {
                *bad_n.entry(k).or_default() += 1;
                *bad_kv.entry((k, v)).or_default() += 1;
                first_bad.entry((k, v)).or_insert(r.at);
            } else {
                *good_n.entry(k).or_default() += 1;
                *good_kv.entry((k, v)).or_default() += 1;
            }
        }
    }
    // The successes before the onset: the reference for a key the incident window has too few
    // successes of (every `complete` failing after a bad deploy leaves none to compare with).
    // Its failures too, for each value's failure rate before the onset (one pass, not one per
    // value tested).
    let mut base_good_n: HashMap<u32, u64> = HashMap::new();
    let mut base_good_kv: HashMap<(u32, u32), u64> = HashMap::new();
    let mut base_bad_kv: HashMap<(u32, u32), u64> = HashMap::new();
    for r in a
        .records
        .iter()
        .filter(|r| in_window(r.at, baseline) && in_scope(r, broke, a.outcome_kind))
    {
        let bad = is_bad(r, broke, a.outcome_kind);
        for &(k, v) in r.dims.iter() {
            if bad {
                *base_bad_kv.entry((k, v)).or_default() += 1;
            } else {
                *base_good_n.entry(k).or_default() += 1;
                *base_good_kv.entry((k, v)).or_default() += 1;
            }
        }
    }
    // The 20 most frequent bad values of each key are tested; the correction counts them all.
    let mut tested: Vec<(KeyValue, u64)> = Vec::new();
    let mut by_key: HashMap<u32, Vec<(KeyValue, u64)>> = HashMap::new();
    for (&kv, &n) in &bad_kv {
        by_key.entry(kv.0).or_default().push((kv, n));
    }
    for (_, mut values) in by_key {
        values.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        tested.extend(values.into_iter().take(20));
    }
    let tests = tested.len().max(1) as f64;
    // (share of the failures explained, share among successes, hypothesis).
    let mut found: Vec<(f64, f64, Hypothesis)> = Vec::new();
    for ((k, v), x1) in tested {
        let n1 = bad_n.get(&k).copied().unwrap_or(0);
        // The reference: the incident window's successes, or, with too few of them, the
        // baseline's; with too few of either there is nothing to compare with, and no claim.
        let (x2, n2, reference) = match good_n.get(&k).copied().unwrap_or(0) {
            n if n >= MIN_REFERENCE => (good_kv.get(&(k, v)).copied().unwrap_or(0), n, ""),
            _ => match base_good_n.get(&k).copied().unwrap_or(0) {
                n if n >= MIN_REFERENCE => (
                    base_good_kv.get(&(k, v)).copied().unwrap_or(0),
                    n,
                    " before the onset",
                ),
                _ => continue,
            },
        };
        let Some(t) = stats::two_proportion_test(x1, n1, x2, n2) else {
            continue;
        };
        let p = (t.p_value * tests).min(1.0);
        if p >= a.options.alpha || t.difference < MIN_OVERREPRESENTATION {
            continue;
        }
        let (key, value) = (a.text(k).to_string(), a.text(v).to_string());
        // A value whose failures began after the onset is a consequence, like a version first
        // seen after it: a bin of tolerance, as for the others, plus three mean gaps between
        // the value's failures, so that a rare value is not ruled out for not having failed
        // within the first bin by chance (a Poisson wait that long has a chance of e^-3).
        let mean_gap = (incident.1 - incident.0) / x1.max(1) as Nanos;
        if let Some(&t0) = first_bad
            .get(&(k, v))
            .filter(|&&t0| t0 - onset > tolerance.saturating_add(mean_gap.saturating_mul(3)))
        {
            symptoms.push(Symptom {
                what: format!("requests with {key} = {value} began failing"),
                since: rfc3339(t0),
                after_onset_seconds: seconds(t0 - onset),
            });
            continue;
        }
        let explained = x1 as f64 / total_bad.max(1) as f64;
        // Before the onset: did this value succeed?
        let bx = base_bad_kv.get(&(k, v)).copied().unwrap_or(0);
        let bn = bx + base_good_kv.get(&(k, v)).copied().unwrap_or(0);
        let mut figures = BTreeMap::new();
        figures.insert("share_among_failures".into(), t.p1);
        figures.insert("share_among_successes".into(), t.p2);
        figures.insert("failures_with_value".into(), x1 as f64);
        figures.insert("failures".into(), n1 as f64);
        figures.insert("p_value".into(), p);
        // The shares are over the records that carry the key at all: when some failures do
        // not (a source that does not log it), the claim says so rather than overstate.
        let over = if n1 < total_bad {
            format!(" with a {key}")
        } else {
            String::new()
        };
        let mut evidence_for = vec![Evidence {
            claim: format!(
                "{} of the failures{over} carry {key} = {value} against {} of the successes{over}{reference}",
                percent(t.p1),
                percent(t.p2)
            ),
            figures,
            source: format!("events of the broken signals in the incident window by {key}"),
            examples: a.example_lines(a.records.iter().copied().filter(|r| {
                in_window(r.at, incident)
                    && is_bad(r, broke, a.outcome_kind)
                    && r.dims.iter().any(|&(rk, rv)| rk == k && rv == v)
            })),
        }];
        let mut against = Vec::new();
        if bn > 0 {
            let rate = bx as f64 / bn as f64;
            let claim = format!(
                "before the onset, {bx} of {bn} outcomes with {key} = {value} failed ({})",
                percent(rate)
            );
            let e = Evidence {
                claim,
                figures: BTreeMap::from([("baseline_failure_rate".into(), rate)]),
                source: "events of the broken signals in the baseline".into(),
                examples: Vec::new(),
            };
            if rate < 0.5 {
                evidence_for.push(e);
            } else {
                against.push(e);
            }
        }
        if explained < 1.0 {
            against.push(Evidence {
                claim: format!(
                    "{} of the failures do not carry {key} = {value}",
                    percent(1.0 - explained)
                ),
                figures: BTreeMap::from([("share_not_explained".into(), 1.0 - explained)]),
                source: "events of the broken signals in the incident window".into(),
                examples: Vec::new(),
            });
        }
        let decision = key.starts_with("decision.");
        let verb = if broke
            .iter()
            .all(|f| matches!(f.signal, Signal::Constraint(_)))
        {
            "are refused"
        } else {
            "fail"
        };
        found.push((
            explained,
            t.p2,
            Hypothesis {
                rank: 0,
                kind: "attribute".into(),
                cause: format!(
                    "requests with {key} = {value} {verb}{}",
                    if decision { " (a decision factor)" } else { "" }
                ),
                // An attribute locates the failures rather than causing them.
                score: significance(p) * explained * 0.9,
                evidence_for,
                evidence_against: against,
                verify: format!(
                    "trace_transaction on a failing request with {key} = {value}, and one without"
                ),
            },
        ));
    }
    // Most explained first; between values explaining as much (a user and the shard the user
    // lives on), the more specific one — the rarer among successes — first.
    found.sort_by(|x, y| y.0.total_cmp(&x.0).then(x.1.total_cmp(&y.1)));
    // One per key (its best value), at most five keys: the answer stays small. Each later
    // value explaining no more than one before it, yet more common among successes, is the
    // coarser description of the same failures: its score is scaled by how specific it is.
    let mut keys_seen = std::collections::HashSet::new();
    let best_specific = found.first().map(|f| (f.0, f.1));
    for (explained, among_successes, mut h) in found {
        if let Some((best_explained, best_successes)) = best_specific {
            if explained <= best_explained && among_successes > best_successes {
                h.score *= 1.0 - (among_successes - best_successes);
            }
        }
        let key = h.cause.split(" = ").next().unwrap_or_default().to_string();
        if keys_seen.insert(key) && keys_seen.len() <= 5 {
            candidates.push(h);
        }
    }
}

/// Metric series: the baseline against the incident window, the significant moves ranked.
fn metric_shifts(
    series: &[MetricSeries],
    incident: (Nanos, Nanos),
    baseline: (Nanos, Nanos),
    options: &Options,
    _a: &Analysis,
) -> Vec<MetricShift> {
    let tests = series.len().max(1) as f64;
    let mut shifts: Vec<MetricShift> = series
        .iter()
        .filter_map(|m| {
            let values = |w: (Nanos, Nanos)| -> Vec<f64> {
                m.points
                    .iter()
                    .filter(|(t, _)| in_window(*t, w))
                    .map(|(_, v)| *v)
                    .collect()
            };
            let s = stats::robust_shift(&values(baseline), &values(incident))?;
            let p = (s.p_value * tests).min(1.0);
            if p >= options.alpha || s.score.abs() < 3.0 {
                return None;
            }
            Some(MetricShift {
                series: m.series.clone(),
                query: m.query.clone(),
                baseline_median: s.baseline_median,
                incident_median: s.current_median,
                score: s.score,
                p_value: p,
                since: since_nanos(m, incident, baseline).map(rfc3339),
            })
        })
        .collect();
    shifts.sort_by(|x, y| y.score.abs().total_cmp(&x.score.abs()));
    shifts.truncate(10);
    shifts
}

/// When a metric series changed level (its own change point), if significantly.
fn since_nanos(
    m: &MetricSeries,
    incident: (Nanos, Nanos),
    baseline: (Nanos, Nanos),
) -> Option<Nanos> {
    let points: Vec<&(Nanos, f64)> = m
        .points
        .iter()
        .filter(|(t, _)| *t >= baseline.0.min(incident.0) && *t < incident.1)
        .collect();
    let values: Vec<f64> = points.iter().map(|(_, v)| *v).collect();
    let c = stats::level_change_point(&values)?;
    (c.p_value < 0.01)
        .then(|| points.get(c.index).map(|(t, _)| *t))
        .flatten()
}

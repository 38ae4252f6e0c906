//! One business transaction, step by step: the events of one trace, or of every trace that
//! touched one business key (a task's ID across its creation, completion and reads).
//!
//! Found in two passes over the sources (the caller streams them): [`Lookup::wants_first`]
//! picks the events that name the key, whose trace IDs [`Lookup::traces`] collects; then
//! [`Lookup::wants_second`] keeps every event of those traces, so steps logged before the key
//! was known (validation before an ID exists) are in the transaction too.

use std::collections::{BTreeSet, HashMap, HashSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::event::{Event, EventKind, Nanos, Outcome};

/// What the transaction is looked up by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Key {
    TraceId(String),
    /// `attribute = value` (`task_id = 42`); `attribute` `None` tries every business key.
    Business {
        attribute: Option<String>,
        value: String,
    },
}

impl Key {
    /// `trace:<id>` or 32 hex digits is a trace ID; `name=value` an attribute; anything else
    /// a value of any business key.
    pub fn parse(text: &str) -> Key {
        let text = text.trim();
        if let Some(id) = text.strip_prefix("trace:") {
            return Key::TraceId(id.trim().to_ascii_lowercase());
        }
        if text.len() == 32 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Key::TraceId(text.to_ascii_lowercase());
        }
        match text.split_once('=') {
            Some((name, value)) if !name.trim().is_empty() => Key::Business {
                attribute: Some(name.trim().to_string()),
                value: value.trim().to_string(),
            },
            _ => Key::Business {
                attribute: None,
                value: text.to_string(),
            },
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Key::TraceId(id) => format!("trace ID {id}"),
            Key::Business {
                attribute: Some(a),
                value,
            } => format!("{a} = {value}"),
            Key::Business {
                attribute: None,
                value,
            } => format!("any business key = {value}"),
        }
    }
}

/// The two passes' state.
#[derive(Debug)]
pub struct Lookup {
    key: Key,
    business_keys: Vec<String>,
    traces: BTreeSet<String>,
    /// Events that name the key but carry no trace: kept from the first pass.
    untraced: Vec<Event>,
}

/// The most traces one business key may expand to: a key on every request is not a
/// transaction.
pub const MAX_TRACES: usize = 200;

impl Lookup {
    pub fn new(key: Key, business_keys: Vec<String>) -> Lookup {
        let mut traces = BTreeSet::new();
        if let Key::TraceId(id) = &key {
            traces.insert(id.clone());
        }
        Lookup {
            key,
            business_keys,
            traces,
            untraced: Vec::new(),
        }
    }

    /// Whether a first pass is needed at all (a trace ID needs none).
    pub fn needs_first_pass(&self) -> bool {
        matches!(self.key, Key::Business { .. })
    }

    fn names_key(&self, event: &Event) -> bool {
        let Key::Business { attribute, value } = &self.key else {
            return false;
        };
        match attribute {
            Some(a) => event.dimension(a).as_deref() == Some(value.as_str()),
            None => self
                .business_keys
                .iter()
                .any(|k| event.dimension(k).as_deref() == Some(value.as_str())),
        }
    }

    /// First pass: note the traces of events that name the key.
    pub fn first(&mut self, event: Event) {
        if !self.names_key(&event) {
            return;
        }
        match &event.trace_id {
            Some(trace) if self.traces.len() < MAX_TRACES || self.traces.contains(trace) => {
                self.traces.insert(trace.clone());
            }
            Some(_) => {}
            None => self.untraced.push(event),
        }
    }

    pub fn traces(&self) -> &BTreeSet<String> {
        &self.traces
    }

    /// Second pass: whether `event` belongs to the transaction.
    pub fn wants_second(&self, event: &Event) -> bool {
        event
            .trace_id
            .as_ref()
            .is_some_and(|t| self.traces.contains(t))
    }

    pub fn into_untraced(self) -> Vec<Event> {
        self.untraced
    }

    pub fn key(&self) -> &Key {
        &self.key
    }

    pub fn traces_capped(&self) -> bool {
        self.traces.len() >= MAX_TRACES
    }
}

/// One step of the transaction as the answer shows it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Step {
    /// RFC 3339, UTC.
    pub at: String,
    /// Milliseconds since the transaction's first event.
    pub offset_ms: f64,
    pub kind: EventKind,
    /// Nesting in the span tree (0: a root).
    pub depth: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<Outcome>,
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub decision_factors: serde_json::Map<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_version: Option<String>,
    /// `file:line` the event was read from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// A transaction: its steps in order, what it touched, and what in the data did not fit.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Transaction {
    pub found_by: String,
    pub traces: Vec<String>,
    /// Scenarios the steps belong to, in the order first met.
    pub scenarios: Vec<String>,
    /// Steps by outcome.
    pub outcomes: Vec<(Outcome, usize)>,
    /// First event to the end of the last (a span's end counts).
    pub duration_ms: f64,
    pub steps: Vec<Step>,
    pub steps_total: usize,
    /// Cycles and missing parents: what was shown as a root instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
}

fn rfc3339(at: Nanos) -> String {
    let seconds = at.div_euclid(1_000_000_000);
    let nanos = at.rem_euclid(1_000_000_000) as u32;
    chrono::DateTime::from_timestamp(seconds, nanos)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true))
        .unwrap_or_else(|| at.to_string())
}

/// How deep each span sits, with the problems that made some a root: a parent not in the data,
/// or a cycle (a span that is its own ancestor).
fn depths(events: &[Event], problems: &mut Vec<String>) -> HashMap<String, usize> {
    let mut parent_of: HashMap<&str, &str> = HashMap::new();
    for e in events {
        if let (Some(span), Some(parent)) = (&e.span_id, &e.parent_span_id) {
            if e.kind == EventKind::Span {
                parent_of.insert(span.as_str(), parent.as_str());
            }
        }
    }
    let spans: HashSet<&str> = events
        .iter()
        .filter(|e| e.kind == EventKind::Span)
        .filter_map(|e| e.span_id.as_deref())
        .collect();
    // Each span's depth is computed once: a walk up stops at a span already placed, so a
    // chain or a cycle of n spans costs n steps, not n²/2 (a 10 000-span trace took minutes).
    let mut depth: HashMap<&str, usize> = HashMap::new();
    let mut missing = BTreeSet::new();
    let mut cycles = BTreeSet::new();
    for &span in &spans {
        if depth.contains_key(span) {
            continue;
        }
        // The spans walked whose depth is not known yet, from `span` up, and where each is.
        let mut path: Vec<&str> = Vec::new();
        let mut on_path: HashMap<&str, usize> = HashMap::new();
        let mut at = span;
        // The depth of the last span of `path`.
        let top = loop {
            if let Some(&d) = depth.get(at) {
                break d + 1;
            }
            if let Some(&i) = on_path.get(at) {
                // path[i..] is a cycle: each of its spans is its own ancestor, shown as a root.
                for &s in &path[i..] {
                    cycles.insert(s.to_string());
                    depth.insert(s, 0);
                }
                path.truncate(i);
                break 1;
            }
            on_path.insert(at, path.len());
            path.push(at);
            match parent_of.get(at) {
                Some(&parent) if spans.contains(parent) => at = parent,
                Some(&parent) => {
                    missing.insert((at.to_string(), parent.to_string()));
                    break 0;
                }
                None => break 0,
            }
        };
        for (i, &s) in path.iter().enumerate() {
            depth.insert(s, top + path.len() - 1 - i);
        }
    }
    for (span, parent) in missing.iter().take(5) {
        problems.push(format!(
            "span {span}'s parent {parent} is not in the data: shown from the nearest span there is"
        ));
    }
    if missing.len() > 5 {
        problems.push(format!(
            "{} more spans miss their parent",
            missing.len() - 5
        ));
    }
    if !cycles.is_empty() {
        let some: Vec<&str> = cycles.iter().take(5).map(String::as_str).collect();
        problems.push(format!(
            "{} spans are their own ancestors (a cycle in parent IDs): shown as roots ({})",
            cycles.len(),
            some.join(", ")
        ));
    }
    depth
        .into_iter()
        .map(|(span, d)| (span.to_string(), d))
        .collect()
}

/// The transaction of `events` (in any order), at most `limit` steps shown.
pub fn build(found_by: String, mut events: Vec<Event>, limit: usize) -> Transaction {
    let mut problems = Vec::new();
    let depth_of = depths(&events, &mut problems);
    // A log record sits one deeper than the span it was written in.
    let depth = |e: &Event| -> usize {
        let span_depth = e.span_id.as_ref().and_then(|s| depth_of.get(s)).copied();
        match (e.kind, span_depth) {
            (EventKind::Span, d) => d.unwrap_or(0),
            (EventKind::Log, Some(d)) => d + 1,
            (EventKind::Log, None) => 0,
        }
    };
    events.sort_by(|a, b| {
        a.at.cmp(&b.at)
            .then_with(|| depth(a).cmp(&depth(b)))
            .then_with(|| (a.kind == EventKind::Log).cmp(&(b.kind == EventKind::Log)))
    });
    let start = events.first().map(|e| e.at).unwrap_or(0);
    let end = events
        .iter()
        // A duration is the service's word: an absurd one (1e300 ms) must not overflow.
        .map(|e| {
            e.at.saturating_add(
                e.duration_ms
                    .map(|d| (d.max(0.0) * 1e6) as i64)
                    .unwrap_or(0),
            )
        })
        .max()
        .unwrap_or(start);
    let mut scenarios: Vec<String> = Vec::new();
    let mut outcomes: Vec<(Outcome, usize)> = Vec::new();
    let mut traces = BTreeSet::new();
    for e in &events {
        if let Some(s) = &e.scenario {
            if !scenarios.contains(s) {
                scenarios.push(s.clone());
            }
        }
        if let Some(o) = e.outcome {
            match outcomes.iter_mut().find(|(k, _)| *k == o) {
                Some((_, n)) => *n += 1,
                None => outcomes.push((o, 1)),
            }
        }
        if let Some(t) = &e.trace_id {
            traces.insert(t.clone());
        }
    }
    outcomes.sort();
    let steps_total = events.len();
    let steps = events
        .iter()
        .take(limit)
        .map(|e| Step {
            at: rfc3339(e.at),
            offset_ms: e.at.saturating_sub(start) as f64 / 1e6,
            kind: e.kind,
            depth: depth(e),
            name: e.name.clone(),
            scenario: e.scenario.clone(),
            step: e.step.clone(),
            constraint: e.constraint.clone(),
            business_rule: e.business_rule.clone(),
            expected_outcome: e.expected_outcome.clone(),
            actual_outcome: e.actual_outcome.clone(),
            outcome: e.outcome,
            decision_factors: e
                .decision_factors
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            message: e.message.clone(),
            duration_ms: e.duration_ms,
            trace_id: e.trace_id.clone(),
            span_id: e.span_id.clone(),
            service_version: e.service_version.clone(),
            source: e.origin.as_ref().map(|o| format!("{}:{}", o.file, o.line)),
        })
        .collect();
    Transaction {
        found_by,
        traces: traces.into_iter().collect(),
        scenarios,
        outcomes,
        duration_ms: end.saturating_sub(start) as f64 / 1e6,
        steps,
        steps_total,
        problems,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(at: Nanos, id: &str, parent: Option<&str>, trace: &str) -> Event {
        let mut e = Event::at(at, EventKind::Span);
        e.span_id = Some(id.into());
        e.parent_span_id = parent.map(Into::into);
        e.trace_id = Some(trace.into());
        e.duration_ms = Some(1.0);
        e
    }

    #[test]
    fn keys_parse_as_trace_ids_attributes_or_bare_values() {
        let hex = "4bf92f3577b34da6a3ce929d0e0e4736";
        assert_eq!(Key::parse(hex), Key::TraceId(hex.into()));
        assert_eq!(Key::parse("trace:ABC"), Key::TraceId("abc".into()));
        assert_eq!(
            Key::parse("task_id = 42"),
            Key::Business {
                attribute: Some("task_id".into()),
                value: "42".into()
            }
        );
        assert_eq!(
            Key::parse("42"),
            Key::Business {
                attribute: None,
                value: "42".into()
            }
        );
    }

    #[test]
    fn a_business_key_expands_to_every_event_of_its_traces() {
        let mut lookup = Lookup::new(Key::parse("task_id=7"), vec!["task_id".into()]);
        let mut named = Event::at(10, EventKind::Log);
        named.trace_id = Some("t1".into());
        named.attributes.insert("task_id".into(), "7".into());
        let mut other = Event::at(5, EventKind::Log);
        other.trace_id = Some("t2".into());
        other.attributes.insert("task_id".into(), "8".into());
        lookup.first(named.clone());
        lookup.first(other.clone());
        assert_eq!(lookup.traces().iter().collect::<Vec<_>>(), ["t1"]);
        let mut validate = Event::at(1, EventKind::Log);
        validate.trace_id = Some("t1".into());
        assert!(lookup.wants_second(&validate));
        assert!(!lookup.wants_second(&other));
        // A bare value tries every business key.
        let mut any = Lookup::new(Key::parse("7"), vec!["user".into(), "task_id".into()]);
        any.first(named);
        assert_eq!(any.traces().len(), 1);
    }

    #[test]
    fn long_chains_and_cycles_take_linear_time() {
        // Each span once walked up to its root: a chain of n spans cost n²/2 steps, and a
        // 10 000-span trace took minutes.
        let n = 20_000;
        let id = |i: usize| format!("{i:016x}");
        let mut events: Vec<Event> = (0..n)
            .map(|i| {
                let parent = (i > 0).then(|| id(i - 1));
                span(i as Nanos, &id(i), parent.as_deref(), "chain")
            })
            .collect();
        // And a cycle of n spans, with one span hanging below it.
        events
            .extend((0..n).map(|i| span(i as Nanos, &id(n + i), Some(&id(n + (i + 1) % n)), "c")));
        events.push(span(0, "below", Some(&id(n)), "c"));
        let started = std::time::Instant::now();
        let t = build("test".into(), events, 5);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
        let mut problems = Vec::new();
        let chain: Vec<Event> = (0..n)
            .map(|i| {
                let parent = (i > 0).then(|| id(i - 1));
                span(i as Nanos, &id(i), parent.as_deref(), "chain")
            })
            .collect();
        let depth = depths(&chain, &mut problems);
        assert_eq!(depth[&id(n - 1)], n - 1);
        assert!(problems.is_empty(), "{problems:?}");
        assert!(
            t.problems
                .iter()
                .any(|p| p.starts_with(&format!("{n} spans are their own ancestors"))),
            "{:?}",
            t.problems
        );
    }

    #[test]
    fn absurd_durations_do_not_overflow_the_end() {
        let mut events = vec![span(1_796_000_000_000_000_000, "a", None, "t")];
        events[0].duration_ms = Some(1e300);
        events.push(span(1_796_000_000_000_000_000, "b", Some("a"), "t"));
        events[1].duration_ms = Some(-1e300);
        let t = build("test".into(), events, 5);
        assert!(
            t.duration_ms.is_finite() && t.duration_ms >= 0.0,
            "{}",
            t.duration_ms
        );
    }

    #[test]
    fn steps_are_in_time_order_with_depths_and_problems_are_named() {
        let events = vec![
            span(3, "c", Some("b"), "t"),
            span(1, "a", None, "t"),
            span(2, "b", Some("a"), "t"),
            span(4, "x", Some("gone"), "t"),
            span(5, "p", Some("q"), "t"),
            span(6, "q", Some("p"), "t"),
        ];
        let mut log = Event::at(3, EventKind::Log);
        log.span_id = Some("c".into());
        log.outcome = Some(Outcome::Failure);
        log.scenario = Some("s.complete".into());
        let mut all = events;
        all.push(log);
        let t = build("test".into(), all, 100);
        let order: Vec<(Option<&str>, usize)> = t
            .steps
            .iter()
            .map(|s| (s.span_id.as_deref(), s.depth))
            .collect();
        assert_eq!(
            order,
            [
                (Some("a"), 0),
                (Some("b"), 1),
                (Some("c"), 2),
                (Some("c"), 3),
                (Some("x"), 0),
                (Some("p"), 0),
                (Some("q"), 0)
            ]
        );
        assert!(
            t.problems.iter().any(|p| p.contains("gone")),
            "{:?}",
            t.problems
        );
        assert!(
            t.problems.iter().any(|p| p.contains("cycle")),
            "{:?}",
            t.problems
        );
        assert_eq!(t.outcomes, [(Outcome::Failure, 1)]);
        assert_eq!(t.scenarios, ["s.complete"]);
        let capped = build(
            "test".into(),
            t.steps
                .iter()
                .map(|_| Event::at(0, EventKind::Log))
                .collect(),
            2,
        );
        assert_eq!((capped.steps.len(), capped.steps_total), (2, 7));
    }
}

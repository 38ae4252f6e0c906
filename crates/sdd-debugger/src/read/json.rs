//! JSON-lines records into events, through a field mapping (`debugger.sources[].fields`).
//!
//! A record is taken apart by value: each mapped field is *moved* out of the parsed record
//! rather than cloned, which is most of the cost of a line after parsing it.

use serde_json::{Map, Value};

use super::timestamp::{timestamp_of_value, TimestampFormat};
use super::Tally;
use crate::event::{fields, value_text, Event, EventKind, Nanos, Outcome};

/// A field of the semantic event convention (README, "Semantic event convention").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Timestamp,
    Event,
    Message,
    Level,
    Scenario,
    Step,
    Constraint,
    BusinessRule,
    ExpectedOutcome,
    ActualOutcome,
    Outcome,
    DecisionFactors,
    Attributes,
    TraceId,
    SpanId,
    ParentSpanId,
    DurationMs,
    ServiceName,
    ServiceVersion,
    Kind,
}

const FIELD_COUNT: usize = 20;

impl Field {
    /// Every field, in the convention's order.
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::Timestamp,
        Field::Event,
        Field::Message,
        Field::Level,
        Field::Scenario,
        Field::Step,
        Field::Constraint,
        Field::BusinessRule,
        Field::ExpectedOutcome,
        Field::ActualOutcome,
        Field::Outcome,
        Field::DecisionFactors,
        Field::Attributes,
        Field::TraceId,
        Field::SpanId,
        Field::ParentSpanId,
        Field::DurationMs,
        Field::ServiceName,
        Field::ServiceVersion,
        Field::Kind,
    ];

    /// Its name in the convention (and its default path): [`crate::event::fields`].
    pub fn name(self) -> &'static str {
        match self {
            Field::Timestamp => fields::TIMESTAMP,
            Field::Event => fields::EVENT,
            Field::Message => fields::MESSAGE,
            Field::Level => fields::LEVEL,
            Field::Scenario => fields::SCENARIO,
            Field::Step => fields::STEP,
            Field::Constraint => fields::CONSTRAINT,
            Field::BusinessRule => fields::BUSINESS_RULE,
            Field::ExpectedOutcome => fields::EXPECTED_OUTCOME,
            Field::ActualOutcome => fields::ACTUAL_OUTCOME,
            Field::Outcome => fields::OUTCOME,
            Field::DecisionFactors => fields::DECISION_FACTORS,
            Field::Attributes => fields::ATTRIBUTES,
            Field::TraceId => fields::TRACE_ID,
            Field::SpanId => fields::SPAN_ID,
            Field::ParentSpanId => fields::PARENT_SPAN_ID,
            Field::DurationMs => fields::DURATION_MS,
            Field::ServiceName => fields::SERVICE_NAME,
            Field::ServiceVersion => fields::SERVICE_VERSION,
            Field::Kind => fields::KIND,
        }
    }

    /// The field of a convention name, `None` for any other name.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Where each convention field is in a JSON record, as a dotted path (`fields.scenario`,
/// `span.trace_id`); by default each field's own name. A key that itself contains dots
/// (`service.name`) is found too: at each level the whole remaining path is tried as a key
/// first.
///
/// With a field's default path, common logger shapes are accepted as a courtesy when the field
/// is not at the top level: under `fields` or `span` (tracing-subscriber's JSON format), the
/// time as `time`, `ts` or `@timestamp`, the message as `msg`, the level as `severity`.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldMap {
    paths: [String; FIELD_COUNT],
    /// Whether two fields share a path (then values are copied out of the record, not moved).
    shared_paths: bool,
    /// Whether some field has a path other than its name (then a courtesy path, which may be
    /// another field's, is copied, not moved).
    customized: bool,
    /// More attributes: (attribute name, dotted path), e.g. `("db_shard", "ctx.shard")`. Their
    /// values become text.
    pub attributes: Vec<(String, String)>,
}

impl Default for FieldMap {
    fn default() -> Self {
        FieldMap {
            paths: Field::ALL.map(|f| f.name().to_string()),
            shared_paths: false,
            customized: false,
            attributes: Vec::new(),
        }
    }
}

impl FieldMap {
    /// The dotted path `field` is read from.
    pub fn path(&self, field: Field) -> &str {
        &self.paths[field.index()]
    }

    /// Read `field` from `path` (dotted) instead.
    pub fn set(&mut self, field: Field, path: impl Into<String>) {
        self.paths[field.index()] = path.into();
        let mut seen = std::collections::HashSet::new();
        self.shared_paths = !self.paths.iter().all(|p| seen.insert(p.as_str()));
        self.customized = Field::ALL.iter().any(|f| !self.is_default(*f));
    }

    /// [`FieldMap::set`] by the convention's name of the field; an unknown name is an error
    /// that lists the names there are.
    pub fn set_named(&mut self, name: &str, path: impl Into<String>) -> Result<(), String> {
        let field = Field::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
            format!(
                "`{name}` is not a field of the event convention; the fields are {}",
                names.join(", ")
            )
        })?;
        self.set(field, path);
        Ok(())
    }

    fn is_default(&self, field: Field) -> bool {
        self.path(field) == field.name()
    }
}

/// The value at `path`, moved out of the record (or copied when `copy`).
fn take(record: &mut Map<String, Value>, path: &str, copy: bool) -> Option<Value> {
    let found = if copy {
        record.get(path).cloned()
    } else {
        record.remove(path)
    };
    if let Some(value) = found {
        return (!value.is_null()).then_some(value);
    }
    let (head, rest) = path.split_once('.')?;
    match record.get_mut(head)? {
        Value::Object(inner) => take(inner, rest, copy),
        _ => None,
    }
}

fn get<'r>(record: &'r Map<String, Value>, path: &str) -> Option<&'r Value> {
    if let Some(value) = record.get(path) {
        return (!value.is_null()).then_some(value);
    }
    let (head, rest) = path.split_once('.')?;
    match record.get(head)? {
        Value::Object(inner) => get(inner, rest),
        _ => None,
    }
}

/// Where a default-mapped field may also be, in this order.
fn courtesy_paths(field: Field) -> &'static [&'static str] {
    match field {
        Field::Timestamp => &[
            "time",
            "ts",
            "@timestamp",
            "fields.timestamp",
            "span.timestamp",
        ],
        Field::Message => &["msg", "fields.message", "fields.msg", "span.message"],
        Field::Level => &["severity", "fields.level"],
        Field::Event => &["fields.event", "span.event"],
        Field::Scenario => &["fields.scenario", "span.scenario"],
        Field::Step => &["fields.step", "span.step"],
        Field::Constraint => &["fields.constraint", "span.constraint"],
        Field::BusinessRule => &["fields.business_rule", "span.business_rule"],
        Field::ExpectedOutcome => &["fields.expected_outcome", "span.expected_outcome"],
        Field::ActualOutcome => &["fields.actual_outcome", "span.actual_outcome"],
        Field::Outcome => &["fields.outcome", "span.outcome"],
        Field::DecisionFactors => &["fields.decision_factors"],
        Field::Attributes => &["fields.attributes"],
        Field::TraceId => &["fields.trace_id", "span.trace_id"],
        Field::SpanId => &["fields.span_id", "span.span_id"],
        Field::ParentSpanId => &["fields.parent_span_id", "span.parent_span_id"],
        Field::DurationMs => &["fields.duration_ms", "span.duration_ms"],
        Field::ServiceName => &["fields.service_name"],
        Field::ServiceVersion => &["fields.service_version"],
        Field::Kind => &["fields.kind"],
    }
}

fn field(record: &mut Map<String, Value>, map: &FieldMap, f: Field) -> Option<Value> {
    if let Some(value) = take(record, map.path(f), map.shared_paths) {
        return Some(value);
    }
    if !map.is_default(f) {
        return None;
    }
    courtesy_paths(f)
        .iter()
        .find_map(|path| take(record, path, map.customized))
}

/// A value as text: strings as they are, other values as JSON.
fn text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// `INFO`, `WARN`, `ERROR`…: upper case, `WARNING` as `WARN`, pino's and bunyan's numbers as
/// words.
pub(crate) fn level_word(value: Value) -> String {
    if let Some(n) = value.as_i64() {
        return match n {
            ..=10 => "TRACE",
            11..=20 => "DEBUG",
            21..=30 => "INFO",
            31..=40 => "WARN",
            41..=50 => "ERROR",
            _ => "FATAL",
        }
        .into();
    }
    let mut word = text(value);
    word.make_ascii_uppercase();
    if word == "WARNING" {
        word = "WARN".into();
    }
    word
}

/// A W3C trace or span ID: `len` hex digits, kept in lower case. Empty and all-zero IDs (W3C's
/// "invalid") are absent; anything else malformed is absent and counted.
pub(crate) fn hex_id(id: &str, len: usize, tally: &mut Tally) -> Option<String> {
    let id = id.trim();
    if id.is_empty() || id.bytes().all(|b| b == b'0') {
        return None;
    }
    if id.len() != len || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        tally.invalid_ids += 1;
        return None;
    }
    Some(id.to_ascii_lowercase())
}

pub(crate) fn number(value: &Value) -> Option<f64> {
    match value {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Why a record was skipped.
pub(crate) struct NoTimestamp(pub String);

/// One JSON record as an event. `fallback_at` is the time to use when the record has none (a
/// captured service line's capture time); without one, a record without a parseable timestamp
/// is refused with the reason.
pub(crate) fn event_of(
    mut record: Map<String, Value>,
    map: &FieldMap,
    fallback_at: Option<Nanos>,
    tally: &mut Tally,
) -> Result<(Event, Option<TimestampFormat>), NoTimestamp> {
    let (at, format) = match field(&mut record, map, Field::Timestamp) {
        Some(value) => match timestamp_of_value(&value) {
            Some((at, format)) => (at, Some(format)),
            None => match fallback_at {
                Some(at) => (at, None),
                None => {
                    let mut shown = value_text(&value);
                    super::clip(&mut shown, 60);
                    return Err(NoTimestamp(format!(
                        "`{}` is not a recognised time: {shown:?}",
                        map.path(Field::Timestamp)
                    )));
                }
            },
        },
        None => match fallback_at {
            Some(at) => (at, None),
            None => {
                return Err(NoTimestamp(format!(
                    "no timestamp (`{}`)",
                    map.path(Field::Timestamp)
                )))
            }
        },
    };
    let mut event = Event::at(at, EventKind::Log);
    // Extra attributes first, while the record is whole: their paths may lie inside a field
    // that is moved out below.
    for (name, path) in &map.attributes {
        if let Some(value) = get(&record, path) {
            event.attributes.insert(name.clone(), value_text(value));
        }
    }
    event.name = field(&mut record, map, Field::Event).map(text);
    event.message = field(&mut record, map, Field::Message).map(text);
    event.level = field(&mut record, map, Field::Level).map(level_word);
    event.scenario = field(&mut record, map, Field::Scenario).map(text);
    event.step = field(&mut record, map, Field::Step).map(text);
    event.constraint = field(&mut record, map, Field::Constraint).map(text);
    event.business_rule = field(&mut record, map, Field::BusinessRule).map(text);
    event.expected_outcome = field(&mut record, map, Field::ExpectedOutcome).map(text);
    event.actual_outcome = field(&mut record, map, Field::ActualOutcome).map(text);
    event.outcome =
        field(&mut record, map, Field::Outcome).and_then(|v| Outcome::parse(&value_text(&v)));
    if let Some(Value::Object(factors)) = field(&mut record, map, Field::DecisionFactors) {
        event.decision_factors.extend(factors);
    }
    if let Some(Value::Object(attributes)) = field(&mut record, map, Field::Attributes) {
        for (name, value) in attributes {
            // An extra attribute mapped by name wins over the record's own of that name.
            event.attributes.entry(name).or_insert_with(|| text(value));
        }
    }
    event.trace_id =
        field(&mut record, map, Field::TraceId).and_then(|v| hex_id(&value_text(&v), 32, tally));
    event.span_id =
        field(&mut record, map, Field::SpanId).and_then(|v| hex_id(&value_text(&v), 16, tally));
    event.parent_span_id = field(&mut record, map, Field::ParentSpanId)
        .and_then(|v| hex_id(&value_text(&v), 16, tally));
    event.duration_ms = field(&mut record, map, Field::DurationMs)
        .as_ref()
        .and_then(number)
        .filter(|d| d.is_finite());
    event.service_name = field(&mut record, map, Field::ServiceName).map(text);
    event.service_version = field(&mut record, map, Field::ServiceVersion).map(text);
    // A timed step: its timestamp is when it started.
    if field(&mut record, map, Field::Kind)
        .is_some_and(|k| value_text(&k).eq_ignore_ascii_case("span"))
    {
        event.kind = EventKind::Span;
    }
    Ok((event, format))
}

/// The convention's record as it is on the line, strings borrowed where they have no escapes:
/// the fast path for the default map, which skips building a `serde_json::Value` of the whole
/// record (its keys, its map) before taking it apart. Any record it cannot take as it is (a
/// field of another type, duplicate keys, a tracing-subscriber `fields` object, an OTLP
/// request, two records on a line) goes the general way instead.
#[derive(serde::Deserialize)]
struct Plain<'a> {
    #[serde(default)]
    timestamp: Option<Time>,
    #[serde(default)]
    time: Option<Time>,
    #[serde(default)]
    ts: Option<Time>,
    #[serde(default, rename = "@timestamp")]
    at_timestamp: Option<Time>,
    #[serde(default, borrow)]
    event: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    message: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    msg: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    level: Option<Value>,
    #[serde(default)]
    severity: Option<Value>,
    #[serde(default, borrow)]
    scenario: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    step: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    constraint: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    business_rule: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    expected_outcome: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    actual_outcome: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    outcome: Option<Value>,
    #[serde(default)]
    decision_factors: Option<std::collections::BTreeMap<String, Value>>,
    #[serde(default)]
    attributes: Option<std::collections::BTreeMap<String, Value>>,
    #[serde(default, borrow)]
    trace_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    span_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    parent_span_id: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    duration_ms: Option<Value>,
    #[serde(default, borrow)]
    service_name: Option<std::borrow::Cow<'a, str>>,
    #[serde(default, borrow)]
    service_version: Option<std::borrow::Cow<'a, str>>,
    #[serde(default)]
    kind: Option<Value>,
    // Present: not a plain convention record (see above).
    #[serde(default)]
    fields: Option<serde::de::IgnoredAny>,
    #[serde(default)]
    span: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "resourceLogs")]
    resource_logs: Option<serde::de::IgnoredAny>,
    #[serde(default, rename = "resourceSpans")]
    resource_spans: Option<serde::de::IgnoredAny>,
}

/// A timestamp as read by [`timestamp_of_value`], without building the value; `Bad` sends the
/// record the general way, which says why.
enum Time {
    Parsed(Nanos, TimestampFormat),
    Bad,
}

impl<'de> serde::Deserialize<'de> for Time {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Time, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Time;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a timestamp")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Time, E> {
                Ok(Time::of(super::timestamp::timestamp_of_str(text)))
            }
            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Time, E> {
                Ok(Time::of(timestamp_of_value(&Value::from(n))))
            }
            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Time, E> {
                Ok(Time::of(timestamp_of_value(&Value::from(n))))
            }
            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Time, E> {
                Ok(Time::of(timestamp_of_value(&Value::from(n))))
            }
            fn visit_unit<E: serde::de::Error>(self) -> Result<Time, E> {
                Ok(Time::Bad)
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

impl Time {
    fn of(parsed: Option<(Nanos, TimestampFormat)>) -> Time {
        match parsed {
            Some((at, format)) => Time::Parsed(at, format),
            None => Time::Bad,
        }
    }
}

/// The fast path: `Some` when the line is one plain convention record with a timestamp that
/// parses (read with the default map), `None` when it must go the general way.
pub(crate) fn plain_event(line: &str, tally: &mut Tally) -> Option<(Event, TimestampFormat)> {
    let plain: Plain = serde_json::from_str(line).ok()?;
    if plain.fields.is_some()
        || plain.span.is_some()
        || plain.resource_logs.is_some()
        || plain.resource_spans.is_some()
    {
        return None;
    }
    // The general way's order: the convention's name first, then the courtesy names.
    let (at, format) = match plain
        .timestamp
        .or(plain.time)
        .or(plain.ts)
        .or(plain.at_timestamp)?
    {
        Time::Parsed(at, format) => (at, format),
        Time::Bad => return None,
    };
    let owned = |text: Option<std::borrow::Cow<str>>| text.map(std::borrow::Cow::into_owned);
    let mut event = Event::at(at, EventKind::Log);
    event.name = owned(plain.event);
    event.message = owned(plain.message.or(plain.msg));
    event.level = plain.level.or(plain.severity).map(level_word);
    event.scenario = owned(plain.scenario);
    event.step = owned(plain.step);
    event.constraint = owned(plain.constraint);
    event.business_rule = owned(plain.business_rule);
    event.expected_outcome = owned(plain.expected_outcome);
    event.actual_outcome = owned(plain.actual_outcome);
    event.outcome = plain.outcome.and_then(|v| Outcome::parse(&value_text(&v)));
    event.decision_factors = plain.decision_factors.unwrap_or_default();
    event.attributes = plain
        .attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| (name, text(value)))
        .collect();
    event.trace_id = plain.trace_id.and_then(|id| hex_id(&id, 32, tally));
    event.span_id = plain.span_id.and_then(|id| hex_id(&id, 16, tally));
    event.parent_span_id = plain.parent_span_id.and_then(|id| hex_id(&id, 16, tally));
    event.duration_ms = plain
        .duration_ms
        .as_ref()
        .and_then(number)
        .filter(|d| d.is_finite());
    event.service_name = owned(plain.service_name);
    event.service_version = owned(plain.service_version);
    if plain
        .kind
        .is_some_and(|k| value_text(&k).eq_ignore_ascii_case("span"))
    {
        event.kind = EventKind::Span;
    }
    Some((event, format))
}

impl FieldMap {
    /// The default map with no extra attributes: records may take the fast path.
    pub(crate) fn is_plain(&self) -> bool {
        !self.customized && self.attributes.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(record: Value, map: &FieldMap) -> Result<Event, String> {
        let Value::Object(record) = record else {
            panic!("an object")
        };
        event_of(record, map, None, &mut Tally::default())
            .map(|(e, _)| e)
            .map_err(|e| e.0)
    }

    #[test]
    fn kind_span_makes_a_timed_step_on_both_paths() {
        let line = r#"{"timestamp":"2026-12-01T03:12:00Z","event":"task.create","kind":"span","duration_ms":1.5}"#;
        let (fast, _) = plain_event(line, &mut Tally::default()).unwrap();
        let general = read(serde_json::from_str(line).unwrap(), &FieldMap::default()).unwrap();
        assert_eq!(
            (fast.kind, general.kind),
            (EventKind::Span, EventKind::Span)
        );
        let event = r#"{"timestamp":"2026-12-01T03:12:00Z","event":"task.create","kind":"event"}"#;
        assert_eq!(
            plain_event(event, &mut Tally::default()).unwrap().0.kind,
            EventKind::Log
        );
    }

    #[test]
    fn the_convention_reads_with_the_default_map() {
        let e = read(
            json!({
                "timestamp": "2026-12-01T03:12:00Z", "event": "task.complete", "level": "warning",
                "message": "done", "scenario": "tm.complete_a_task", "step": "2_store",
                "constraint": "tm.security.rate_limiting", "business_rule": "once",
                "expected_outcome": "a", "actual_outcome": "b", "outcome": "failure",
                "decision_factors": {"was_completed": false, "n": 3},
                "attributes": {"task_id": 42, "user": "u1"},
                "trace_id": "4BF92F3577B34DA6A3CE929D0E0E4736", "span_id": "00f067aa0ba902b7",
                "parent_span_id": "", "duration_ms": "1.5",
                "service_name": "tm", "service_version": "1.4.2", "unknown": {"x": 1}
            }),
            &FieldMap::default(),
        )
        .unwrap();
        assert_eq!(e.name.as_deref(), Some("task.complete"));
        assert_eq!(e.level.as_deref(), Some("WARN"));
        assert_eq!(e.outcome, Some(Outcome::Failure));
        assert_eq!(e.decision_factors["n"], json!(3));
        assert_eq!(e.attributes["task_id"], "42");
        assert_eq!(
            e.trace_id.as_deref(),
            Some("4bf92f3577b34da6a3ce929d0e0e4736")
        );
        assert_eq!(e.parent_span_id, None);
        assert_eq!(e.duration_ms, Some(1.5));
        assert_eq!(e.service_version.as_deref(), Some("1.4.2"));
    }

    #[test]
    fn a_field_map_reaches_nested_and_dotted_keys_and_extra_attributes() {
        let mut map = FieldMap::default();
        map.set_named("timestamp", "ts").unwrap();
        map.set_named("event", "msg").unwrap();
        map.set_named("message", "msg").unwrap();
        map.set_named("scenario", "fields.scenario").unwrap();
        map.set_named("service_name", "resource.service.name")
            .unwrap();
        map.attributes.push(("db_shard".into(), "ctx.shard".into()));
        let e = read(
            json!({"ts": 1796094720.5, "msg": "task.create",
                   "fields": {"scenario": "tm.create"}, "ctx": {"shard": "B"},
                   "resource": {"service.name": "tm"}}),
            &map,
        )
        .unwrap();
        assert_eq!(e.at, 1_796_094_720_500_000_000);
        // Two fields mapped to one path both get it.
        assert_eq!(e.name.as_deref(), Some("task.create"));
        assert_eq!(e.message.as_deref(), Some("task.create"));
        assert_eq!(e.scenario.as_deref(), Some("tm.create"));
        assert_eq!(e.service_name.as_deref(), Some("tm"));
        assert_eq!(e.attributes["db_shard"], "B");
        let err = map.set_named("tenant", "x").unwrap_err();
        assert!(err.contains("timestamp, event, message"), "{err}");
    }

    #[test]
    fn common_logger_shapes_read_with_the_default_map() {
        // tracing-subscriber's JSON format; pino; zap.
        let e = read(
            json!({"timestamp": "2026-12-01T03:12:00Z", "level": "INFO",
                   "fields": {"message": "stored", "event": "task.create", "scenario": "tm.create"},
                   "span": {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"}}),
            &FieldMap::default(),
        )
        .unwrap();
        assert_eq!(e.message.as_deref(), Some("stored"));
        assert_eq!(e.name.as_deref(), Some("task.create"));
        assert!(e.trace_id.is_some());
        let e = read(
            json!({"time": 1796094720000i64, "level": 50, "msg": "boom"}),
            &FieldMap::default(),
        )
        .unwrap();
        assert_eq!(
            (e.name, e.message.as_deref(), e.level.as_deref()),
            (None, Some("boom"), Some("ERROR"))
        );
        let e = read(
            json!({"ts": 1796094720.25, "msg": "x"}),
            &FieldMap::default(),
        )
        .unwrap();
        assert_eq!(e.at / 1_000_000_000, 1_796_094_720);
    }

    #[test]
    fn a_record_without_a_usable_timestamp_is_refused_with_the_reason() {
        let err = read(json!({"event": "x"}), &FieldMap::default()).unwrap_err();
        assert_eq!(err, "no timestamp (`timestamp`)");
        let err = read(json!({"timestamp": "soon"}), &FieldMap::default()).unwrap_err();
        assert!(err.contains("not a recognised time: \"soon\""), "{err}");
        // A mapped field gets no courtesy: `time` is not read for `ts`.
        let mut map = FieldMap::default();
        map.set(Field::Timestamp, "ts");
        assert!(read(json!({"time": "2026-12-01T03:12:00Z"}), &map).is_err());
    }

    /// The fast path reads what the general way reads, or leaves the record to it.
    #[test]
    fn the_fast_path_agrees_with_the_general_way() {
        let records = [
            json!({"timestamp": "2026-12-01T03:12:00Z", "event": "a", "level": 40,
                   "outcome": true, "decision_factors": {"n": 1.5}, "attributes": {"k": [1]},
                   "trace_id": "4BF92F3577B34DA6A3CE929D0E0E4736", "span_id": "bad",
                   "duration_ms": "2", "service_version": "1.4.2", "extra": {"x": null}}),
            json!({"time": 1796094720123i64, "msg": "mé", "severity": "warning"}),
            json!({"timestamp": null, "ts": 1796094720.5, "message": null}),
        ];
        for record in records {
            let line = record.to_string();
            let (mut t1, mut t2) = (Tally::default(), Tally::default());
            let (fast, _) = plain_event(&line, &mut t1).expect("a plain record");
            let slow = event_of(
                record.as_object().unwrap().clone(),
                &FieldMap::default(),
                None,
                &mut t2,
            )
            .ok()
            .unwrap()
            .0;
            assert_eq!(fast, slow, "{line}");
            assert_eq!(t1.invalid_ids, t2.invalid_ids);
        }
        let general = [
            json!({"timestamp": "soon"}),
            json!({"event": "no time"}),
            json!({"timestamp": 1796094720, "step": 2}),
            json!({"timestamp": 1796094720, "fields": {"message": "m"}}),
            json!({"timestamp": 1796094720, "resourceLogs": []}),
        ];
        for record in general {
            assert!(
                plain_event(&record.to_string(), &mut Tally::default()).is_none(),
                "{record}"
            );
        }
        assert!(plain_event(
            r#"{"timestamp": 1796094720, "timestamp": 1796094721}"#,
            &mut Tally::default()
        )
        .is_none());
        assert!(plain_event(
            r#"{"timestamp": 1796094720}{"timestamp": 1796094721}"#,
            &mut Tally::default()
        )
        .is_none());
    }

    #[test]
    fn malformed_ids_are_dropped_and_counted() {
        let mut tally = Tally::default();
        assert_eq!(hex_id("xyz", 16, &mut tally), None);
        assert_eq!(hex_id("0000000000000000", 16, &mut tally), None);
        assert_eq!(
            hex_id("00F067AA0BA902B7", 16, &mut tally).as_deref(),
            Some("00f067aa0ba902b7")
        );
        assert_eq!(tally.invalid_ids, 1);
    }
}

//! OTLP JSON (`ExportLogsServiceRequest`, `ExportTraceServiceRequest`, one per line, as the
//! collector's `file` exporter writes them) into events: log records as log events, spans as
//! span events.
//!
//! Tolerant by construction: every type ignores unknown fields, and records are kept as raw
//! JSON text (borrowed from the line, validated, not built into values) until each is read on
//! its own, so one malformed record costs that record, not its batch. IDs are hex strings (OTLP JSON's encoding, unlike protobuf's default JSON mapping);
//! 64-bit integers may be JSON strings or numbers.

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

use super::json::{hex_id, level_word};
use super::timestamp::otlp_nanos;
use super::Tally;
use crate::event::{otlp, value_text, Event, EventKind, Nanos, Outcome};

/// One line: logs, spans, or (unusually) both.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Request<'a> {
    #[serde(default, borrow)]
    resource_logs: Option<Vec<ResourceLogs<'a>>>,
    #[serde(default, borrow)]
    resource_spans: Option<Vec<ResourceSpans<'a>>>,
}

impl Request<'_> {
    /// Neither `resourceLogs` nor `resourceSpans`: some other JSON object, not an empty batch.
    pub(crate) fn is_foreign(&self) -> bool {
        self.resource_logs.is_none() && self.resource_spans.is_none()
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResourceLogs<'a> {
    #[serde(default, borrow, deserialize_with = "nullable")]
    resource: Resource<'a>,
    // The name before OTLP 1.0 too.
    #[serde(
        default,
        borrow,
        deserialize_with = "nullable",
        alias = "instrumentationLibraryLogs"
    )]
    scope_logs: Vec<ScopeLogs<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ScopeLogs<'a> {
    #[serde(default, borrow, deserialize_with = "nullable")]
    log_records: Vec<&'a RawValue>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ResourceSpans<'a> {
    #[serde(default, borrow, deserialize_with = "nullable")]
    resource: Resource<'a>,
    #[serde(
        default,
        borrow,
        deserialize_with = "nullable",
        alias = "instrumentationLibrarySpans"
    )]
    scope_spans: Vec<ScopeSpans<'a>>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ScopeSpans<'a> {
    #[serde(default, borrow, deserialize_with = "nullable")]
    spans: Vec<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct Resource<'a> {
    // Kept raw: one malformed resource attribute should not cost the resource's records.
    #[serde(default, borrow, deserialize_with = "nullable")]
    attributes: Vec<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogRecord {
    #[serde(default)]
    time_unix_nano: Option<U64>,
    #[serde(default)]
    observed_time_unix_nano: Option<U64>,
    #[serde(default)]
    severity_text: Option<String>,
    #[serde(default)]
    severity_number: Option<Value>,
    #[serde(default)]
    body: Option<AnyValue>,
    #[serde(default, deserialize_with = "nullable")]
    attributes: Vec<KeyValue>,
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    span_id: Option<String>,
    /// OTLP 1.5's own field for the event name (besides the `event.name` attribute).
    #[serde(default)]
    event_name: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Span {
    #[serde(default)]
    trace_id: Option<String>,
    #[serde(default)]
    span_id: Option<String>,
    #[serde(default)]
    parent_span_id: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    start_time_unix_nano: Option<U64>,
    #[serde(default)]
    end_time_unix_nano: Option<U64>,
    #[serde(default, deserialize_with = "nullable")]
    attributes: Vec<KeyValue>,
    #[serde(default)]
    status: Option<Status>,
}

#[derive(Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<Value>,
    #[serde(default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct KeyValue {
    key: String,
    #[serde(default)]
    value: Option<AnyValue>,
}

/// OTLP's `AnyValue`: exactly one of its fields is set.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnyValue {
    #[serde(default)]
    string_value: Option<String>,
    #[serde(default)]
    bool_value: Option<bool>,
    #[serde(default)]
    int_value: Option<I64>,
    #[serde(default)]
    double_value: Option<F64>,
    #[serde(default)]
    array_value: Option<ArrayValue>,
    #[serde(default)]
    kvlist_value: Option<KvList>,
    #[serde(default)]
    bytes_value: Option<String>,
}

#[derive(Deserialize)]
struct ArrayValue {
    #[serde(default, deserialize_with = "nullable")]
    values: Vec<AnyValue>,
}

#[derive(Deserialize)]
struct KvList {
    #[serde(default, deserialize_with = "nullable")]
    values: Vec<KeyValue>,
}

/// A 64-bit unsigned integer as protobuf's JSON mapping writes it: a string, or a number.
#[derive(Deserialize)]
#[serde(untagged)]
enum U64 {
    Number(u64),
    Text(String),
}

impl U64 {
    fn get(&self) -> Option<u64> {
        match self {
            U64::Number(n) => Some(*n),
            U64::Text(text) => text.trim().parse().ok(),
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum I64 {
    Number(i64),
    Text(String),
}

/// A double: a number, or a string (`"NaN"`, `"Infinity"`, `"1.5"`).
#[derive(Deserialize)]
#[serde(untagged)]
enum F64 {
    Number(f64),
    Text(String),
}

/// `null` as the type's default (protobuf JSON writers may write `null` for an empty field).
fn nullable<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

impl AnyValue {
    /// As JSON: numbers stay numbers, arrays and key-value lists become JSON arrays and
    /// objects. A malformed integer is an error (the record is skipped, not misread).
    fn into_json(self) -> Result<Value, String> {
        if let Some(s) = self.string_value {
            return Ok(Value::String(s));
        }
        if let Some(b) = self.bool_value {
            return Ok(Value::Bool(b));
        }
        if let Some(i) = self.int_value {
            return match i {
                I64::Number(n) => Ok(Value::from(n)),
                I64::Text(text) => text
                    .trim()
                    .parse::<i64>()
                    .map(Value::from)
                    .map_err(|_| format!("intValue {text:?} is not an integer")),
            };
        }
        if let Some(d) = self.double_value {
            let n = match d {
                F64::Number(n) => n,
                F64::Text(text) => text
                    .trim()
                    .parse::<f64>()
                    .map_err(|_| format!("doubleValue {text:?} is not a number"))?,
            };
            // JSON has no NaN or infinity: those stay text.
            return Ok(serde_json::Number::from_f64(n)
                .map(Value::Number)
                .unwrap_or_else(|| Value::String(n.to_string())));
        }
        if let Some(array) = self.array_value {
            return array
                .values
                .into_iter()
                .map(AnyValue::into_json)
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array);
        }
        if let Some(list) = self.kvlist_value {
            let mut object = serde_json::Map::new();
            for kv in list.values {
                let value = kv.value.map(AnyValue::into_json).transpose()?;
                object.insert(kv.key, value.unwrap_or(Value::Null));
            }
            return Ok(Value::Object(object));
        }
        if let Some(bytes) = self.bytes_value {
            return Ok(Value::String(bytes));
        }
        Ok(Value::Null)
    }
}

/// What a resource gives every record of it.
#[derive(Default, Clone)]
struct ResourceFacts {
    service_name: Option<String>,
    service_version: Option<String>,
}

fn resource_facts(resource: &Resource) -> ResourceFacts {
    let mut facts = ResourceFacts::default();
    for attribute in &resource.attributes {
        let Ok(kv) = serde_json::from_str::<KeyValue>(attribute.get()) else {
            continue;
        };
        let Some(Ok(value)) = kv.value.map(AnyValue::into_json) else {
            continue;
        };
        match kv.key.as_str() {
            otlp::SERVICE_NAME => facts.service_name = Some(value_text(&value)),
            otlp::SERVICE_VERSION => facts.service_version = Some(value_text(&value)),
            _ => {}
        }
    }
    facts
}

/// A value as text, a string moved rather than copied (most attributes are strings).
fn into_text(value: Value) -> String {
    match value {
        Value::String(s) => s,
        other => other.to_string(),
    }
}

/// One attribute of a log record or span, into the event by the convention's keys.
fn apply_attribute(event: &mut Event, key: String, value: Value) {
    match key.as_str() {
        otlp::SERVICE_NAME => event.service_name = Some(into_text(value)),
        otlp::SERVICE_VERSION => event.service_version = Some(into_text(value)),
        otlp::EVENT_NAME => event.name = Some(into_text(value)),
        otlp::SCENARIO => event.scenario = Some(into_text(value)),
        otlp::STEP => event.step = Some(into_text(value)),
        otlp::CONSTRAINT => event.constraint = Some(into_text(value)),
        otlp::BUSINESS_RULE => event.business_rule = Some(into_text(value)),
        otlp::EXPECTED_OUTCOME => event.expected_outcome = Some(into_text(value)),
        otlp::ACTUAL_OUTCOME => event.actual_outcome = Some(into_text(value)),
        otlp::OUTCOME => event.outcome = Outcome::parse(&into_text(value)),
        otlp::DURATION_MS => {
            event.duration_ms = super::json::number(&value).filter(|d| d.is_finite());
        }
        _ if key.starts_with(otlp::DECISION_PREFIX) && key.len() > otlp::DECISION_PREFIX.len() => {
            let factor = key[otlp::DECISION_PREFIX.len()..].to_string();
            event.decision_factors.insert(factor, value);
        }
        _ => {
            event.attributes.insert(key, into_text(value));
        }
    }
}

fn apply_attributes(event: &mut Event, attributes: Vec<KeyValue>) -> Result<(), String> {
    for kv in attributes {
        let value = match kv.value {
            Some(v) => v
                .into_json()
                .map_err(|e| format!("attribute `{}`: {e}", kv.key))?,
            None => Value::Null,
        };
        apply_attribute(event, kv.key, value);
    }
    Ok(())
}

/// OTLP severity numbers (1–24) as the convention's level words.
fn severity_word(number: &Value) -> Option<String> {
    let n = match number {
        Value::Number(n) => n.as_i64()?,
        // The enum's name: `SEVERITY_NUMBER_WARN2`.
        Value::String(name) => {
            let word = name.strip_prefix("SEVERITY_NUMBER_")?;
            let word = word.trim_end_matches(|c: char| c.is_ascii_digit());
            return (!word.is_empty() && word != "UNSPECIFIED").then(|| word.to_string());
        }
        _ => return None,
    };
    Some(
        match n {
            1..=4 => "TRACE",
            5..=8 => "DEBUG",
            9..=12 => "INFO",
            13..=16 => "WARN",
            17..=20 => "ERROR",
            21..=24 => "FATAL",
            _ => return None,
        }
        .into(),
    )
}

/// What one request line yielded, in order: each record's event or the reason it was skipped.
pub(crate) type Item = Result<Event, String>;

/// Every record of one request, each an event or the reason it was skipped.
pub(crate) fn events_of(request: Request, tally: &mut Tally, out: &mut dyn FnMut(Item)) {
    for resource_logs in request.resource_logs.unwrap_or_default() {
        let facts = resource_facts(&resource_logs.resource);
        for scope in resource_logs.scope_logs {
            for record in scope.log_records {
                out(log_event(record, &facts, tally));
            }
        }
    }
    for resource_spans in request.resource_spans.unwrap_or_default() {
        let facts = resource_facts(&resource_spans.resource);
        for scope in resource_spans.scope_spans {
            for span in scope.spans {
                out(span_event(span, &facts, tally));
            }
        }
    }
}

fn time(value: Option<&U64>) -> Option<Nanos> {
    value.and_then(U64::get).and_then(otlp_nanos)
}

fn log_event(record: &RawValue, facts: &ResourceFacts, tally: &mut Tally) -> Item {
    let record = serde_json::from_str::<LogRecord>(record.get())
        .map_err(|e| format!("malformed OTLP log record: {e}"))?;
    let at = time(record.time_unix_nano.as_ref())
        .or_else(|| time(record.observed_time_unix_nano.as_ref()))
        .ok_or("OTLP log record without timeUnixNano or observedTimeUnixNano")?;
    let mut event = Event::at(at, EventKind::Log);
    event.service_name = facts.service_name.clone();
    event.service_version = facts.service_version.clone();
    event.level = match record.severity_text.filter(|s| !s.is_empty()) {
        Some(text) => Some(level_word(Value::String(text))),
        None => record.severity_number.as_ref().and_then(severity_word),
    };
    if let Some(body) = record.body {
        let body = body.into_json().map_err(|e| format!("body: {e}"))?;
        if !body.is_null() {
            event.message = Some(value_text(&body));
        }
    }
    event.name = record.event_name.filter(|n| !n.is_empty());
    apply_attributes(&mut event, record.attributes)?;
    event.trace_id = record
        .trace_id
        .as_deref()
        .and_then(|id| hex_id(id, 32, tally));
    event.span_id = record
        .span_id
        .as_deref()
        .and_then(|id| hex_id(id, 16, tally));
    Ok(event)
}

fn span_event(span: &RawValue, facts: &ResourceFacts, tally: &mut Tally) -> Item {
    let span = serde_json::from_str::<Span>(span.get())
        .map_err(|e| format!("malformed OTLP span: {e}"))?;
    let start =
        time(span.start_time_unix_nano.as_ref()).ok_or("OTLP span without startTimeUnixNano")?;
    let mut event = Event::at(start, EventKind::Span);
    event.service_name = facts.service_name.clone();
    event.service_version = facts.service_version.clone();
    event.name = span.name.filter(|n| !n.is_empty());
    if let Some(end) = time(span.end_time_unix_nano.as_ref()).filter(|end| *end >= start) {
        event.duration_ms = Some((end - start) as f64 / 1e6);
    }
    apply_attributes(&mut event, span.attributes)?;
    event.trace_id = span
        .trace_id
        .as_deref()
        .and_then(|id| hex_id(id, 32, tally));
    event.span_id = span.span_id.as_deref().and_then(|id| hex_id(id, 16, tally));
    event.parent_span_id = span
        .parent_span_id
        .as_deref()
        .and_then(|id| hex_id(id, 16, tally));
    if let Some(status) = span.status {
        let error = match &status.code {
            Some(Value::Number(n)) => n.as_i64() == Some(2),
            Some(Value::String(name)) => name == "STATUS_CODE_ERROR" || name == "2",
            _ => false,
        };
        if error {
            if event.outcome.is_none() {
                event.outcome = Some(Outcome::Failure);
            }
            if let Some(message) = status.message.filter(|m| !m.is_empty()) {
                event.message = Some(message);
            }
        }
    }
    Ok(event)
}

/// Whether a parsed JSON object is an OTLP request (`Auto` tells them from JSON-lines events
/// by this).
pub(crate) fn is_request(object: &serde_json::Map<String, Value>) -> bool {
    object.contains_key("resourceLogs") || object.contains_key("resourceSpans")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn events(line: Value) -> Vec<Item> {
        let line = line.to_string();
        let request: Request = serde_json::from_str(&line).unwrap();
        let mut out = Vec::new();
        events_of(request, &mut Tally::default(), &mut |item| out.push(item));
        out
    }

    #[test]
    fn any_values_keep_their_types() {
        let cases = [
            (json!({"stringValue": "x"}), json!("x")),
            (json!({"intValue": "42"}), json!(42)),
            (json!({"intValue": 42}), json!(42)),
            (json!({"doubleValue": 1.5}), json!(1.5)),
            (json!({"doubleValue": "NaN"}), json!("NaN")),
            (json!({"boolValue": true}), json!(true)),
            (
                json!({"arrayValue": {"values": [{"intValue": "1"}, {"stringValue": "a"}]}}),
                json!([1, "a"]),
            ),
            (
                json!({"kvlistValue": {"values": [{"key": "k", "value": {"boolValue": false}}]}}),
                json!({"k": false}),
            ),
            (json!({}), json!(null)),
        ];
        for (any, want) in cases {
            let value = AnyValue::deserialize(&any).unwrap().into_json().unwrap();
            assert_eq!(value, want, "{any}");
        }
        let bad = AnyValue::deserialize(&json!({"intValue": "4x"})).unwrap();
        assert!(bad.into_json().is_err());
    }

    #[test]
    fn severity_numbers_and_names_become_levels() {
        assert_eq!(severity_word(&json!(9)).as_deref(), Some("INFO"));
        assert_eq!(severity_word(&json!(17)).as_deref(), Some("ERROR"));
        assert_eq!(
            severity_word(&json!("SEVERITY_NUMBER_WARN2")).as_deref(),
            Some("WARN")
        );
        assert_eq!(severity_word(&json!(0)), None);
    }

    #[test]
    fn one_bad_record_costs_only_itself() {
        let items = events(json!({"resourceLogs": [{"scopeLogs": [{"logRecords": [
            {"timeUnixNano": "1796094720000000000", "body": {"stringValue": "a"}},
            {"timeUnixNano": {"nested": true}},
            {"body": {"stringValue": "no time"}},
            {"observedTimeUnixNano": 1796094720000000001u64},
        ]}]}]}));
        assert_eq!(items.len(), 4);
        assert!(items[0].is_ok() && items[1].is_err() && items[2].is_err());
        assert_eq!(items[3].as_ref().unwrap().at, 1_796_094_720_000_000_001);
    }
}

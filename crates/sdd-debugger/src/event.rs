//! The semantic event: one decision point of the service, in the spec's terms.
//!
//! Every source (JSON lines through a field mapping, OTLP JSON log records and spans) is read
//! into this one shape, so the analyses never know where an event came from. The field names
//! of the JSON-lines convention are [`fields`]; the OTLP attribute keys are [`otlp`].

use std::collections::BTreeMap;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Nanoseconds since the Unix epoch (UTC). `i64` reaches the year 2262.
pub type Nanos = i64;

pub const NANOS_PER_SECOND: i64 = 1_000_000_000;

/// What a decision point delivered, in the scenario's terms.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The service did what the scenario says (a refusal the scenario asks for included).
    Success,
    /// The service could not do what the scenario says, or broke its rule.
    Failure,
    /// The service refused the request because a constraint says so (a rate limit, a missing
    /// token). Not a failure of the service; counted apart.
    Refused,
}

impl Outcome {
    /// `success`/`ok`/`pass`, `failure`/`fail`/`error`, `refused`/`rejected`/`denied`; any case.
    pub fn parse(text: &str) -> Option<Outcome> {
        match text.trim().to_ascii_lowercase().as_str() {
            "success" | "succeeded" | "ok" | "pass" | "passed" | "true" => Some(Outcome::Success),
            "failure" | "failed" | "fail" | "error" | "false" => Some(Outcome::Failure),
            "refused" | "rejected" | "denied" | "refusal" => Some(Outcome::Refused),
            _ => None,
        }
    }

    pub fn word(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
            Outcome::Refused => "refused",
        }
    }
}

/// Whether the event is a point in time (a log record) or a timed step (a span).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Log,
    Span,
}

/// Where an event was read: the file (shared between its events) and the 1-based line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: u64,
}

/// One semantic event. Only `at` is required; every other field may be absent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Event {
    /// When it happened (a span: when it started).
    pub at: Nanos,
    pub kind: EventKind,
    /// `<area>.<decision>`, e.g. `task.complete` (a span: its name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    /// The SDD scenario ID (`domain.name_slug`) the step belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// The step within the scenario, e.g. `2_store`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    /// The SDD constraint ID a refusal or check enforces.
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
    /// The inputs of the decision, as the service logged them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub decision_factors: BTreeMap<String, serde_json::Value>,
    /// Other dimensions (business keys such as `task_id`, `user`, `db_shard`), as text.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
    /// W3C trace context: 32 lowercase hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    /// 16 lowercase hex digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    /// How long the step took (a span: end minus start).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
}

impl Event {
    /// An event at `at` with nothing else known.
    pub fn at(at: Nanos, kind: EventKind) -> Event {
        Event {
            at,
            kind,
            name: None,
            message: None,
            level: None,
            scenario: None,
            step: None,
            constraint: None,
            business_rule: None,
            expected_outcome: None,
            actual_outcome: None,
            outcome: None,
            decision_factors: BTreeMap::new(),
            attributes: BTreeMap::new(),
            trace_id: None,
            span_id: None,
            parent_span_id: None,
            duration_ms: None,
            service_name: None,
            service_version: None,
            origin: None,
        }
    }

    /// A dimension's value for grouping: `service_version`, `scenario`, `step`, `name`,
    /// `constraint`, an attribute, or a decision factor (`decision.<name>`), as text.
    pub fn dimension(&self, key: &str) -> Option<String> {
        match key {
            "service_version" => self.service_version.clone(),
            "service_name" => self.service_name.clone(),
            "scenario" => self.scenario.clone(),
            "step" => self.step.clone(),
            "event" | "name" => self.name.clone(),
            "constraint" => self.constraint.clone(),
            _ => match key.strip_prefix("decision.") {
                Some(factor) => self.decision_factors.get(factor).map(value_text),
                None => self.attributes.get(key).cloned(),
            },
        }
    }
}

/// A JSON value as the text it stands for: strings without quotes, the rest as JSON.
pub fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The JSON-lines convention's default field names (what `debugger.sources[].fields` maps).
pub mod fields {
    pub const TIMESTAMP: &str = "timestamp";
    pub const EVENT: &str = "event";
    pub const MESSAGE: &str = "message";
    pub const LEVEL: &str = "level";
    pub const SCENARIO: &str = "scenario";
    pub const STEP: &str = "step";
    pub const CONSTRAINT: &str = "constraint";
    pub const BUSINESS_RULE: &str = "business_rule";
    pub const EXPECTED_OUTCOME: &str = "expected_outcome";
    pub const ACTUAL_OUTCOME: &str = "actual_outcome";
    pub const OUTCOME: &str = "outcome";
    pub const DECISION_FACTORS: &str = "decision_factors";
    pub const ATTRIBUTES: &str = "attributes";
    pub const TRACE_ID: &str = "trace_id";
    pub const SPAN_ID: &str = "span_id";
    pub const PARENT_SPAN_ID: &str = "parent_span_id";
    pub const DURATION_MS: &str = "duration_ms";
    pub const SERVICE_NAME: &str = "service_name";
    pub const SERVICE_VERSION: &str = "service_version";
}

/// The OTLP attribute keys of the convention (log records and spans alike). `service.name` and
/// `service.version` are resource attributes (OpenTelemetry's semantic conventions);
/// `event.name` is OpenTelemetry's own; the rest are SDD's, under `sdd.`.
pub mod otlp {
    pub const SERVICE_NAME: &str = "service.name";
    pub const SERVICE_VERSION: &str = "service.version";
    pub const EVENT_NAME: &str = "event.name";
    pub const SCENARIO: &str = "sdd.scenario";
    pub const STEP: &str = "sdd.step";
    pub const CONSTRAINT: &str = "sdd.constraint";
    pub const BUSINESS_RULE: &str = "sdd.business_rule";
    pub const EXPECTED_OUTCOME: &str = "sdd.expected_outcome";
    pub const ACTUAL_OUTCOME: &str = "sdd.actual_outcome";
    pub const OUTCOME: &str = "sdd.outcome";
    pub const DURATION_MS: &str = "sdd.duration_ms";
    /// Prefix of each decision factor: `sdd.decision.title_chars`.
    pub const DECISION_PREFIX: &str = "sdd.decision.";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_parse_in_any_case_and_refuse_unknown_words() {
        let cases = [
            ("success", Some(Outcome::Success)),
            ("OK", Some(Outcome::Success)),
            (" failure ", Some(Outcome::Failure)),
            ("Error", Some(Outcome::Failure)),
            ("refused", Some(Outcome::Refused)),
            ("denied", Some(Outcome::Refused)),
            ("maybe", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(Outcome::parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn dimensions_reach_fields_attributes_and_decision_factors() {
        let mut e = Event::at(0, EventKind::Log);
        e.service_version = Some("1.4.2".into());
        e.attributes.insert("db_shard".into(), "B".into());
        e.decision_factors
            .insert("title_chars".into(), serde_json::json!(14));
        assert_eq!(e.dimension("service_version").as_deref(), Some("1.4.2"));
        assert_eq!(e.dimension("db_shard").as_deref(), Some("B"));
        assert_eq!(e.dimension("decision.title_chars").as_deref(), Some("14"));
        assert_eq!(e.dimension("missing"), None);
    }
}

//! The spec file format as people write it: serde + schemars types, one per YAML shape.
//!
//! These types are the single source for both the loader and the published JSON Schema
//! (`specs/sdd-spec.schema.json`). The loader deserializes each section and each list item on
//! its own so that one bad scenario does not hide the others.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::constraint::CheckSpec;

/// One spec file. Exactly one of `feature`, `system`, `domain`, `interaction`, `observability`,
/// `degradation_detection` or `chaos_scenarios` says what kind of file it is.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "SDD specification file")]
pub struct SpecDocument {
    /// Name of a feature, e.g. `Task Management System`. Its scenarios belong to `domain` if given,
    /// else to a domain named after the feature (`task_management_system`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    /// Name of a whole system: lists `domains` and `global_constraints`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    /// Name of a domain (snake_case), e.g. `product_catalog`. In a `feature` file: the domain the
    /// feature's scenarios belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domain: Option<String>,
    /// Name of a cross-domain interaction, e.g. `checkout_flow`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interaction: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Domains this domain depends on (domain files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub scenarios: Vec<ScenarioDoc>,
    /// Scenarios a feature adds to an existing system; treated like `scenarios`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub new_scenarios: Vec<ScenarioDoc>,
    /// Constraints grouped by category (`performance`, `security`, `reliability`, `scalability`,
    /// …), or a plain list (interaction files).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraints: Option<ConstraintsDoc>,
    /// System files: the domains and what each depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domains: Vec<DomainDecl>,
    /// System files: constraints that hold across all domains, grouped by category.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub global_constraints: Option<BTreeMap<String, Vec<ConstraintDoc>>>,
    /// Domain files: consistency requirements of the data model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_model: Option<DataModelDoc>,
    /// Interaction files: the domains taking part.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub participants: Vec<String>,
    /// Interaction files: the flows, each with ordered steps and failure handling.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub flow: Vec<FlowDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observability: Option<ObservabilityDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub degradation_detection: Option<DegradationDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chaos_scenarios: Vec<ChaosScenarioDoc>,
}

/// The top-level keys a spec file may have; the loader warns about any other key.
pub const DOCUMENT_KEYS: &[&str] = &[
    "feature",
    "system",
    "domain",
    "interaction",
    "description",
    "dependencies",
    "scenarios",
    "new_scenarios",
    "constraints",
    "domains",
    "global_constraints",
    "data_model",
    "participants",
    "flow",
    "observability",
    "degradation_detection",
    "chaos_scenarios",
];

/// A string or a list of strings (`given` and `then` accept both).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    pub fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(s) => vec![s],
            OneOrMany::Many(v) => v,
        }
    }
}

/// Review status of a scenario. Only people approve or reject (through `sdd review`); the agent
/// can only propose.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ReviewStatus {
    /// Written by the agent, waiting for a person.
    Proposed,
    /// Approved by a person. Scenarios written by hand without a `status` are approved.
    Approved,
    /// Rejected by a person; kept so the agent does not propose it again.
    Rejected,
    /// Written `approved`, but its behaviour (given, when, then, examples) no longer matches the
    /// fingerprint recorded at approval, or no fingerprint was recorded: not approved until a
    /// person reviews it again. Computed by the loader; a file cannot say it.
    #[serde(rename = "changed_since_approval", skip_deserializing)]
    ChangedSinceApproval,
}

/// A behaviour: Given / When / Then.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScenarioDoc {
    /// Stable ID. If absent, derived from the domain and the name (`domain.name_in_snake_case`);
    /// set it to keep the ID when you rename the scenario.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// What the behaviour is, in a few words ("Complete a task").
    pub name: String,
    /// Preconditions: a sentence or a list of sentences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<OneOrMany>,
    /// The action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Observable outcomes: a sentence or a list of sentences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub then: Option<OneOrMany>,
    /// `proposed`, `approved` or `rejected`. Absent means written by a person: approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<ReviewStatus>,
    /// Why the scenario exists (required for proposals, shown at review).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// Who proposed it (e.g. `agent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proposed_by: Option<String>,
    /// Who approved or rejected it, recorded by `sdd review`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    /// When it was approved or rejected (RFC 3339), recorded by `sdd review`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
    /// Hash of the behaviour (given, when, then, examples) a person approved, recorded by
    /// `sdd review`. If the behaviour changes, the scenario is no longer approved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_fingerprint: Option<String>,
    /// Free labels for filtering (`smoke`, `billing`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Executable examples: HTTP requests against the running service with the responses they
    /// must get. `check_scenarios` on the implementation server runs them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<ExampleDoc>,
}

/// A scenario as the agent proposes it: the behaviour and why it matters. There are no review
/// fields: the server writes `status: proposed` and `proposed_by` itself, and only a person's
/// `sdd review` records a decision.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposedScenario {
    /// Stable ID (`domain.snake_case_name`). Default: derived from the domain and the name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A short title, one line.
    pub name: String,
    /// Preconditions: a sentence or a list of sentences (one line each).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub given: Option<OneOrMany>,
    /// The action.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    /// Observable outcomes: a sentence or a list of sentences (one line each).
    pub then: OneOrMany,
    /// Why the scenario should exist; the reviewer decides on it.
    pub rationale: String,
    /// Free labels for filtering (`smoke`, `billing`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Executable examples (HTTP requests and the responses they must get).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<ExampleDoc>,
}

impl ProposedScenario {
    /// The spec document for this proposal: `status: proposed`, proposed by `proposed_by`.
    pub fn into_doc(self, proposed_by: &str) -> ScenarioDoc {
        ScenarioDoc {
            id: self.id,
            name: self.name,
            given: self.given,
            when: self.when,
            then: Some(self.then),
            status: Some(ReviewStatus::Proposed),
            rationale: Some(self.rationale),
            proposed_by: Some(proposed_by.to_string()),
            reviewed_by: None,
            reviewed_at: None,
            approved_fingerprint: None,
            tags: self.tags,
            examples: self.examples,
        }
    }
}

/// One executable example: a sequence of HTTP requests; a value captured from one response can
/// be used in the following requests as `${name}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleDoc {
    /// What the example shows (default: `example N`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Requests in order; a later step may use a value an earlier one captured (`${id}`).
    pub steps: Vec<ExampleStep>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleStep {
    /// The HTTP request to send.
    pub request: ExampleRequest,
    /// What the response must show (default: nothing checked but an answer).
    #[serde(default)]
    pub expect: ExampleExpect,
    /// Values kept from this response for later steps: `{task_id: id}` makes `${task_id}` the
    /// response's JSON field `id`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub capture: BTreeMap<String, String>,
}

/// An HTTP request. `${name}` in the path, header values, body and JSON strings is replaced by a
/// captured value; `${unique}` by a value unique to this run; `${env:NAME}` by an environment
/// variable of the server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleRequest {
    /// `GET` (default), `POST`, `PUT`, `PATCH`, `DELETE`, …
    #[serde(default = "default_method")]
    pub method: String,
    /// Path and query on the service's base URL, e.g. `/tasks?status=pending`.
    pub path: String,
    /// Headers, added to (and overriding) `service.headers` of sdd.yaml.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// A JSON body (sent with `content-type: application/json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub json: Option<serde_json::Value>,
    /// A raw text body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

fn default_method() -> String {
    "GET".into()
}

/// What the response must be. Everything not mentioned is not checked.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExampleExpect {
    /// The HTTP status, e.g. 201.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Header name → text its value must contain (names are case-insensitive).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Fields of the JSON body by path (`title`, `items[0].id`, `$` for the whole body) → the
    /// expected value, or matchers (all must hold): `{exists: true}`, `{type: string}`,
    /// `{contains: text}` (in a string), `{contains: {title: x}}` or a list of such (items of an
    /// array, compared field by field), `{length: 2}`, `{not: value}`, `{each: {status: done}}`
    /// (every item of an array). Captured values (`${name}`) may be used.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub json: BTreeMap<String, serde_json::Value>,
    /// Text the body must contain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_contains: Option<String>,
}

/// Constraints grouped by category, or a plain list.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum ConstraintsDoc {
    ByCategory(BTreeMap<String, Vec<ConstraintDoc>>),
    List(Vec<ConstraintDoc>),
}

/// A non-functional requirement as people write it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ConstraintDoc {
    /// Stable ID. If absent, derived as `domain.category.name_in_snake_case`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    /// The requirement sentence, e.g. `p95 latency < 100ms for all read operations`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// Under which conditions it is measured, e.g. `Under load of 1000 requests/second`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measurement: Option<String>,
    /// What the requirement does not apply to, e.g. `Health check endpoint`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exception: Option<OneOrMany>,
    /// How it is verified, in words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// Structured form of the check. Overrides what is parsed from `requirement`; use it when the
    /// sentence is not machine-checkable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<CheckSpec>,
    /// Anything else (`cache_strategy`, `implementation_hint`, …) is kept as notes.
    #[serde(flatten)]
    pub notes: BTreeMap<String, serde_json::Value>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct DomainDecl {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct DataModelDoc {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub consistency_requirements: Vec<ConstraintDoc>,
}

/// One flow of an interaction.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FlowDoc {
    pub name: String,
    /// Ordered steps: a list, or a mapping from step number to text (`1: Cart requests pricing`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<StepsDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failure_handling: Vec<FailureHandlingDoc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum StepsDoc {
    Numbered(BTreeMap<u32, String>),
    List(Vec<String>),
}

impl StepsDoc {
    pub fn ordered(&self) -> Vec<String> {
        match self {
            StepsDoc::Numbered(map) => map.values().cloned().collect(),
            StepsDoc::List(list) => list.clone(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FailureHandlingDoc {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rollback: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compensation: Option<String>,
}

/// A named principle or requirement with free text (observability, degradation detection).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct NamedText {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spec: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ObservabilityDoc {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principles: Vec<NamedText>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requirements: Vec<NamedText>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct DegradationDoc {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub principles: Vec<NamedText>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub monitoring_categories: Vec<MonitoringCategoryDoc>,
    /// The rates of change that count as degradation, in percent of the current level: the
    /// seed's `{daily: 0.1, weekly: 1.0, monthly: 5.0}`. A trend slower than all of them is
    /// reported, not raised. Patterns such as "Query time increasing by >1% per week" add
    /// their own rate for the series they name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thresholds: Option<DegradationThresholds>,
}

/// Percent of the current level per day, week and month (30 days).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DegradationThresholds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weekly: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly: Option<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct MonitoringCategoryDoc {
    pub name: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
}

/// A failure to inject and what must still hold.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChaosScenarioDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    pub verify: String,
}

//! The resolved specification: what the loader builds from all files under a spec root.
//!
//! Every element carries its stable ID and its [`Location`], so tools, tests, metrics and logs
//! can point at it and diagnostics can point back at the line a person wrote.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::constraint::ParsedConstraint;
use crate::diagnostic::Location;
use crate::document::{DegradationDoc, ObservabilityDoc, ReviewStatus};

/// What a spec file specifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Feature,
    System,
    Domain,
    Interaction,
    Observability,
    DegradationDetection,
    ChaosScenarios,
    /// Only comments or blank lines.
    Empty,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SpecFile {
    /// Path relative to the spec root, with `/` separators.
    pub path: String,
    pub kind: DocumentKind,
    /// The feature, system, domain or interaction name (empty for observability and similar).
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Domain {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Domains this one depends on, in declaration order, without duplicates.
    pub dependencies: Vec<String>,
    /// Where each of `dependencies` is written (the first place that names it), in the same
    /// order: the `dependencies:` entry of a domain file or of the system file's `domains:`.
    #[serde(default)]
    pub dependencies_at: Vec<Location>,
    /// Every place that declares the domain or adds dependencies to it.
    pub declared_at: Vec<Location>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Scenario {
    pub id: String,
    /// True when the ID was written in the file, false when derived from domain and name.
    pub explicit_id: bool,
    pub name: String,
    pub domain: String,
    /// The feature the scenario was written under, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub feature: Option<String>,
    pub given: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub when: Option<String>,
    pub then: Vec<String>,
    pub status: ReviewStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub proposed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
    /// The behaviour fingerprint recorded at approval (see `status: changed_since_approval`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approved_fingerprint: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Executable examples (HTTP requests and expected responses).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<crate::document::ExampleDoc>,
    pub location: Location,
    /// Set when an earlier scenario (in path order) already has this ID: where that one is
    /// written. The duplicate stays in the model (counted, linted, seen by coverage) but
    /// lookups by ID find the first, and test generation does not write a second test of the
    /// same name for it. `sdd validate` reports it as `duplicate-id`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<Location>,
    /// Where each sentence of `given`, `when` and `then` is written, so a finding about one
    /// clause points at its own line. Empty for a scenario that came from no file (a
    /// candidate being checked); not part of the serialized model.
    #[serde(skip)]
    pub clauses_at: ClauseLocations,
}

/// Where a scenario's clauses are written: one location per sentence of `given` and `then`
/// (the list item, `scenarios[2].then[1]`, or the field when it is a single sentence), and the
/// `when`.
#[derive(Debug, Clone, Default)]
pub struct ClauseLocations {
    pub given: Vec<Location>,
    pub when: Option<Location>,
    pub then: Vec<Location>,
}

impl Scenario {
    /// Whether this scenario is a duplicate: another one written earlier has its ID.
    pub fn is_duplicate(&self) -> bool {
        self.duplicate_of.is_some()
    }
}

/// Who a constraint belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", content = "name", rename_all = "snake_case")]
pub enum ConstraintScope {
    /// A system's `global_constraints`: holds across every domain.
    Global(String),
    Domain(String),
    Interaction(String),
}

impl ConstraintScope {
    pub fn name(&self) -> &str {
        match self {
            ConstraintScope::Global(n)
            | ConstraintScope::Domain(n)
            | ConstraintScope::Interaction(n) => n,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Constraint {
    pub id: String,
    pub explicit_id: bool,
    pub name: String,
    pub scope: ConstraintScope,
    /// `performance`, `security`, `reliability`, `scalability`, … as grouped in the file.
    pub category: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub measurement: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exceptions: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verification: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rationale: Option<String>,
    /// Other keys written on the constraint (`cache_strategy`, `implementation_hint`, …).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub notes: BTreeMap<String, serde_json::Value>,
    /// The machine reading: checks, or why there are none.
    pub parsed: ParsedConstraint,
    pub location: Location,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Flow {
    pub name: String,
    pub steps: Vec<String>,
    /// Where each step is written, in the order of `steps` (for diagnostics about one step).
    #[serde(skip)]
    #[schemars(skip)]
    pub steps_at: Vec<Location>,
    pub failure_handling: Vec<FailureHandling>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FailureHandling {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rollback: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub compensation: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Interaction {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub participants: Vec<String>,
    pub flows: Vec<Flow>,
    pub location: Location,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChaosScenario {
    pub id: String,
    pub name: String,
    pub verify: String,
    pub location: Location,
}

/// Everything under one spec root.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Spec {
    pub files: Vec<SpecFile>,
    /// Sorted by name.
    pub domains: Vec<Domain>,
    /// In file order (files sorted by path). Shared with the spec cache's model of each file,
    /// so a tree put together again after one file changed copies pointers, not scenarios.
    pub scenarios: Vec<Arc<Scenario>>,
    pub constraints: Vec<Arc<Constraint>>,
    pub interactions: Vec<Interaction>,
    pub chaos_scenarios: Vec<ChaosScenario>,
    pub observability: Vec<(String, ObservabilityDoc)>,
    pub degradation_detection: Vec<(String, DegradationDoc)>,
}

impl Spec {
    pub fn domain(&self, name: &str) -> Option<&Domain> {
        self.domains.iter().find(|d| d.name == name)
    }

    /// The scenarios a person approved (and that have not changed since), in file order.
    /// A duplicate (see [`Scenario::duplicate_of`]) is never among them: its ID is another's.
    pub fn approved_scenarios(&self) -> impl Iterator<Item = &Scenario> {
        self.scenarios
            .iter()
            .map(|s| &**s)
            .filter(|s| s.status == crate::document::ReviewStatus::Approved && !s.is_duplicate())
    }

    /// The scenario with this ID; of duplicates, the first written (the one that keeps the ID).
    pub fn scenario(&self, id: &str) -> Option<&Scenario> {
        self.scenarios
            .iter()
            .map(|s| &**s)
            .find(|s| s.id == id && !s.is_duplicate())
    }

    /// The scenarios that keep their ID (every one but duplicates), in file order: what
    /// anything keyed by scenario ID (tests, results, approvals, comparisons) should walk.
    pub fn unique_scenarios(&self) -> impl Iterator<Item = &Scenario> {
        self.scenarios
            .iter()
            .map(|s| &**s)
            .filter(|s| !s.is_duplicate())
    }

    pub fn constraint(&self, id: &str) -> Option<&Constraint> {
        self.constraints.iter().map(|c| &**c).find(|c| c.id == id)
    }

    pub fn scenarios_in<'a>(&'a self, domain: &'a str) -> impl Iterator<Item = &'a Scenario> + 'a {
        self.scenarios
            .iter()
            .map(|s| &**s)
            .filter(move |s| s.domain == domain)
    }

    /// Constraints that apply to a domain: its own, the global ones, and those of interactions
    /// it takes part in.
    pub fn constraints_for<'a>(
        &'a self,
        domain: &'a str,
    ) -> impl Iterator<Item = &'a Constraint> + 'a {
        self.constraints
            .iter()
            .map(|c| &**c)
            .filter(move |c| match &c.scope {
                ConstraintScope::Global(_) => true,
                ConstraintScope::Domain(d) => d == domain,
                ConstraintScope::Interaction(i) => self
                    .interactions
                    .iter()
                    .any(|x| &x.name == i && x.participants.iter().any(|p| p == domain)),
            })
    }
}

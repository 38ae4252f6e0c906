//! Impact analysis: what a spec change adds, changes and removes, which domains it touches
//! directly and through dependencies, and which scenarios' tests and which constraints to re-run.
//!
//! Pure comparison of two loaded specs; reading the old tree from git is the caller's job.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::graph::dependents;
use crate::constraint::CheckSpec;
use crate::ids::test_key;
use crate::model::{Constraint, ConstraintScope, Scenario, Spec};

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct ChangeSet {
    pub added: Vec<String>,
    pub changed: Vec<ChangedItem>,
    pub removed: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChangedItem {
    pub id: String,
    /// Which fields differ (`then`, `requirement`, `status`, …).
    pub fields: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Impact {
    pub scenarios: ChangeSet,
    pub constraints: ChangeSet,
    /// Domains whose dependencies changed.
    pub domains_changed: Vec<String>,
    /// Domains owning an added, changed or removed scenario or constraint.
    pub touched_directly: Vec<String>,
    /// Domains that depend (transitively) on a directly touched domain.
    pub touched_through_dependencies: Vec<String>,
    /// Scenarios whose tests should run again: changed and added ones, and every scenario of a
    /// domain touched through dependencies.
    pub rerun_scenarios: Vec<String>,
    /// Test-name keys of `rerun_scenarios` (see the test-name convention), to filter runners.
    pub rerun_test_keys: Vec<String>,
    /// Constraints to verify again: changed and added ones; every constraint of a domain whose
    /// constraints or dependencies changed (and of the domains depending on it); and, where a
    /// scenario's examples changed, the constraints whose probes send the examples' requests
    /// (authentication, injection, size, ownership, data loss, rate limit — global ones too).
    pub rerun_constraints: Vec<String>,
}

pub fn compare(old: &Spec, new: &Spec) -> Impact {
    // By ID: a duplicate must not take the place of the scenario that keeps the ID.
    let old_scenarios: BTreeMap<&str, &Scenario> =
        old.unique_scenarios().map(|s| (s.id.as_str(), s)).collect();
    let new_scenarios: BTreeMap<&str, &Scenario> =
        new.unique_scenarios().map(|s| (s.id.as_str(), s)).collect();
    let old_constraints: BTreeMap<&str, &Constraint> = old
        .constraints
        .iter()
        .map(|c| (c.id.as_str(), &**c))
        .collect();
    let new_constraints: BTreeMap<&str, &Constraint> = new
        .constraints
        .iter()
        .map(|c| (c.id.as_str(), &**c))
        .collect();

    let scenarios = diff(&old_scenarios, &new_scenarios, scenario_fields);
    let constraints = diff(&old_constraints, &new_constraints, constraint_fields);

    let mut touched: BTreeSet<String> = BTreeSet::new();
    // Domains whose scenarios' examples (what the probes send) were added, changed or removed.
    let mut examples_touched: BTreeSet<String> = BTreeSet::new();
    for id in &scenarios.added {
        let s = new_scenarios[id.as_str()];
        touched.insert(s.domain.clone());
        if !s.examples.is_empty() {
            examples_touched.insert(s.domain.clone());
        }
    }
    for change in &scenarios.changed {
        let s = new_scenarios[change.id.as_str()];
        touched.insert(s.domain.clone());
        if change
            .fields
            .iter()
            .any(|f| f == "examples" || f == "status")
        {
            examples_touched.insert(s.domain.clone());
        }
    }
    for id in &scenarios.removed {
        let s = old_scenarios[id.as_str()];
        touched.insert(s.domain.clone());
        if !s.examples.is_empty() {
            examples_touched.insert(s.domain.clone());
        }
    }
    // Domains whose constraints or dependencies changed: every constraint on them is re-run.
    let mut constraints_touched: BTreeSet<String> = BTreeSet::new();
    let scope_domains = |spec: &Spec, scope: &ConstraintScope| -> Vec<String> {
        match scope {
            ConstraintScope::Domain(d) => vec![d.clone()],
            ConstraintScope::Interaction(i) => spec
                .interactions
                .iter()
                .filter(|x| &x.name == i)
                .flat_map(|x| x.participants.clone())
                .collect(),
            // A global constraint touches every domain but says nothing about any one's
            // behaviour: it is re-verified, and no domain is marked touched by it alone.
            ConstraintScope::Global(_) => Vec::new(),
        }
    };
    for id in constraints
        .added
        .iter()
        .chain(constraints.changed.iter().map(|c| &c.id))
    {
        constraints_touched.extend(scope_domains(new, &new_constraints[id.as_str()].scope));
    }
    for id in &constraints.removed {
        constraints_touched.extend(scope_domains(old, &old_constraints[id.as_str()].scope));
    }
    let mut domains_changed = Vec::new();
    for domain in &new.domains {
        let before = old.domain(&domain.name).map(|d| d.dependencies.clone());
        if before.as_ref() != Some(&domain.dependencies) {
            domains_changed.push(domain.name.clone());
            touched.insert(domain.name.clone());
        }
    }
    for domain in &old.domains {
        if new.domain(&domain.name).is_none() {
            domains_changed.push(domain.name.clone());
            touched.insert(domain.name.clone());
        }
    }
    touched.extend(constraints_touched.iter().cloned());
    constraints_touched.extend(domains_changed.iter().cloned());
    let through = dependents(new, &touched);

    let mut rerun: BTreeSet<String> = scenarios.added.iter().cloned().collect();
    rerun.extend(scenarios.changed.iter().map(|c| c.id.clone()));
    for s in &new.scenarios {
        if through.contains(&s.domain) {
            rerun.insert(s.id.clone());
        }
    }
    let mut rerun_constraints: BTreeSet<String> = constraints.added.iter().cloned().collect();
    rerun_constraints.extend(constraints.changed.iter().map(|c| c.id.clone()));
    // A changed constraint or dependency may change any behaviour of its domains and of those
    // that depend on them; a changed scenario only what its examples send. Scenario text alone
    // (given/when/then, a name) changes no measurement.
    for domain in constraints_touched
        .iter()
        .chain(dependents(new, &constraints_touched).iter())
    {
        for c in new.constraints_for(domain) {
            if !matches!(c.scope, ConstraintScope::Global(_)) {
                rerun_constraints.insert(c.id.clone());
            }
        }
    }
    for domain in &examples_touched {
        for c in new.constraints_for(domain) {
            if probes_through_examples(c) {
                rerun_constraints.insert(c.id.clone());
            }
        }
    }
    Impact {
        rerun_test_keys: rerun.iter().map(|id| test_key(id)).collect(),
        rerun_scenarios: rerun.into_iter().collect(),
        rerun_constraints: rerun_constraints.into_iter().collect(),
        scenarios,
        constraints,
        domains_changed,
        touched_directly: touched.into_iter().collect(),
        touched_through_dependencies: through.into_iter().collect(),
    }
}

fn diff<T>(
    old: &BTreeMap<&str, &T>,
    new: &BTreeMap<&str, &T>,
    fields: fn(&T) -> Vec<(&'static str, String)>,
) -> ChangeSet {
    let mut set = ChangeSet::default();
    for (id, item) in new {
        match old.get(id) {
            None => set.added.push(id.to_string()),
            Some(before) => {
                let changed: Vec<String> = fields(before)
                    .into_iter()
                    .zip(fields(item))
                    .filter(|(a, b)| a.1 != b.1)
                    .map(|(a, _)| a.0.to_string())
                    .collect();
                if !changed.is_empty() {
                    set.changed.push(ChangedItem {
                        id: id.to_string(),
                        fields: changed,
                    });
                }
            }
        }
    }
    set.removed = old
        .keys()
        .filter(|id| !new.contains_key(*id))
        .map(|id| id.to_string())
        .collect();
    set
}

fn scenario_fields(s: &Scenario) -> Vec<(&'static str, String)> {
    vec![
        ("name", s.name.clone()),
        ("domain", s.domain.clone()),
        ("given", s.given.join("\n")),
        ("when", s.when.clone().unwrap_or_default()),
        ("then", s.then.join("\n")),
        ("status", format!("{:?}", s.status)),
        ("tags", s.tags.join(",")),
        (
            "examples",
            serde_json::to_string(&s.examples).unwrap_or_default(),
        ),
    ]
}

/// Whether a constraint's checks send the examples' requests (the probes' route inventory,
/// the objects the examples create): a scenario whose examples change changes what they send.
/// Load checks (latency, throughput, …) send `load.endpoints` of sdd.yaml, not the examples.
fn probes_through_examples(c: &Constraint) -> bool {
    c.parsed.checks.iter().any(|k| {
        matches!(
            k,
            CheckSpec::Authentication { .. }
                | CheckSpec::InjectionSafe { .. }
                | CheckSpec::MaxSize { .. }
                | CheckSpec::Ownership { .. }
                | CheckSpec::NoDataLoss { .. }
                | CheckSpec::RateLimit { .. }
        )
    })
}

fn constraint_fields(c: &Constraint) -> Vec<(&'static str, String)> {
    vec![
        ("name", c.name.clone()),
        ("requirement", c.requirement.clone().unwrap_or_default()),
        ("measurement", c.measurement.clone().unwrap_or_default()),
        ("exception", c.exceptions.join("\n")),
        (
            "check",
            serde_json::to_string(&c.parsed.checks).unwrap_or_default(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_sources;

    const SYSTEM: &str =
        "system: S\ndomains:\n  - name: tasks\n  - name: reports\n    dependencies: [tasks]\n";

    fn spec(tasks: &str) -> Spec {
        load_sources(&[
            ("system.yaml".into(), SYSTEM.into()),
            ("tasks.yaml".into(), tasks.into()),
            ("reports.yaml".into(), "domain: reports\nscenarios:\n  - name: Weekly report\n    when: I ask for it\n    then: I see \"3 tasks\"\n".into()),
        ])
        .spec
    }

    #[test]
    fn changes_reach_dependent_domains() {
        let old = spec("domain: tasks\nconstraints:\n  performance:\n    - name: Reads\n      requirement: p95 < 100ms\nscenarios:\n  - name: Create\n    when: I create\n    then: it exists\n  - name: Delete\n    when: I delete\n    then: it is gone\n");
        let new = spec("domain: tasks\nconstraints:\n  performance:\n    - name: Reads\n      requirement: p95 < 50ms\nscenarios:\n  - name: Create\n    when: I create\n    then: it exists with status \"new\"\n  - name: Archive\n    when: I archive\n    then: it is archived\n");
        let impact = compare(&old, &new);
        assert_eq!(impact.scenarios.added, vec!["tasks.archive"]);
        assert_eq!(impact.scenarios.removed, vec!["tasks.delete"]);
        assert_eq!(impact.scenarios.changed[0].id, "tasks.create");
        assert_eq!(impact.scenarios.changed[0].fields, vec!["then"]);
        assert_eq!(
            impact.constraints.changed[0].fields,
            vec!["requirement", "check"]
        );
        assert_eq!(impact.touched_directly, vec!["tasks"]);
        assert_eq!(impact.touched_through_dependencies, vec!["reports"]);
        assert!(impact
            .rerun_scenarios
            .contains(&"reports.weekly_report".to_string()));
        assert!(impact
            .rerun_test_keys
            .contains(&"tasks_archive".to_string()));
        assert_eq!(impact.rerun_constraints, vec!["tasks.performance.reads"]);
    }

    /// What one scenario edit re-runs: only the constraints whose probes send the examples'
    /// requests, and only when the examples (or the review status) changed.
    #[test]
    fn a_scenario_edit_reruns_only_the_constraints_its_examples_feed() {
        const CONSTRAINTS: &str = "domain: tasks\nconstraints:\n  performance:\n    - name: Reads\n      requirement: p95 < 100ms\n  security:\n    - name: Auth\n      requirement: All endpoints require valid JWT token\n";
        const CREATE: &str = "  - name: Create\n    when: I create\n    then: it exists\n";
        const EXAMPLE: &str = "    examples:\n      - steps:\n          - request: {method: POST, path: /tasks, json: {title: a}}\n            expect: {status: 201}\n";
        let base = format!("{CONSTRAINTS}scenarios:\n{CREATE}");
        let cases: Vec<(&str, String, &[&str])> = vec![
            (
                "a proposed scenario with examples",
                format!("{base}  - name: Archive\n    status: proposed\n    when: I archive\n    then: it is archived\n{EXAMPLE}"),
                &["tasks.security.auth"],
            ),
            (
                "a scenario without examples",
                format!("{base}  - name: Archive\n    when: I archive\n    then: it is archived\n"),
                &[],
            ),
            (
                "a reworded outcome",
                format!("{CONSTRAINTS}scenarios:\n  - name: Create\n    when: I create\n    then: it exists with a title\n"),
                &[],
            ),
            (
                "examples added to a scenario",
                format!("{base}{EXAMPLE}"),
                &["tasks.security.auth"],
            ),
            (
                "a changed constraint",
                format!("{}scenarios:\n{CREATE}", CONSTRAINTS.replace("100ms", "50ms")),
                &["tasks.performance.reads", "tasks.security.auth"],
            ),
        ];
        let old = spec(&base);
        for (what, tasks, expected) in cases {
            let impact = compare(&old, &spec(&tasks));
            assert_eq!(impact.rerun_constraints, expected, "{what}: {impact:#?}");
        }
    }

    #[test]
    fn no_change_no_impact() {
        let a = spec("domain: tasks\nscenarios:\n  - name: Create\n    when: I create\n    then: it exists\n");
        let impact = compare(&a, &a.clone());
        assert!(impact.touched_directly.is_empty() && impact.rerun_scenarios.is_empty());
    }
}

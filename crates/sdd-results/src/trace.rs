//! Traceability: every test result mapped to its scenario by the test-naming convention of the
//! generated suites (`sdd_<key>` in the name, or `[ID]` where names are free text), and every
//! approved scenario given a verdict — passing, failing, skipped, or no test.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_spec::document::ReviewStatus;
use sdd_spec::ids::TestNameIndex;
use sdd_spec::model::Spec;

use crate::{Outcome, TestCase};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ScenarioVerdict {
    /// At least one test, and every test that ran passed.
    Passing,
    /// At least one of its tests failed.
    Failing,
    /// Its tests exist but were all skipped.
    Skipped,
    /// No test carries its ID.
    NoTest,
    /// A filtered run did not select any of its tests; nothing is known from this run.
    NotRun,
}

impl ScenarioVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioVerdict::Passing => "passing",
            ScenarioVerdict::Failing => "failing",
            ScenarioVerdict::Skipped => "skipped",
            ScenarioVerdict::NoTest => "no_test",
            ScenarioVerdict::NotRun => "not_run",
        }
    }

    pub fn parse(text: &str) -> Option<ScenarioVerdict> {
        Some(match text {
            "passing" => ScenarioVerdict::Passing,
            "failing" => ScenarioVerdict::Failing,
            "skipped" => ScenarioVerdict::Skipped,
            "no_test" => ScenarioVerdict::NoTest,
            "not_run" => ScenarioVerdict::NotRun,
            _ => return None,
        })
    }
}

/// One approved scenario and the tests that carry its ID.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioTrace {
    pub scenario_id: String,
    pub name: String,
    pub domain: String,
    pub verdict: ScenarioVerdict,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests: Vec<TestCase>,
}

/// A test whose name points at a scenario that is not approved (proposed or rejected).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UnapprovedTest {
    pub test: String,
    pub outcome: crate::Outcome,
    pub scenario_id: String,
    pub scenario_status: ReviewStatus,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct TraceSummary {
    pub approved_scenarios: usize,
    pub passing: usize,
    pub failing: usize,
    pub skipped: usize,
    pub no_test: usize,
    pub not_run: usize,
    pub tests: usize,
    pub unmapped_tests: usize,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Traceability {
    pub summary: TraceSummary,
    /// Approved scenarios in spec order.
    pub scenarios: Vec<ScenarioTrace>,
    /// Tests that carry no scenario ID.
    pub unmapped_tests: Vec<String>,
    /// Tests for scenarios that are proposed or rejected, not approved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests_for_unapproved_scenarios: Vec<UnapprovedTest>,
}

/// Map `cases` onto the approved scenarios of `spec`. `filtered`: the run selected only some
/// tests, so a scenario without a test in it is `not_run` rather than `no_test`.
pub fn trace(spec: &Spec, cases: &[TestCase], filtered: bool) -> Traceability {
    let index = TestNameIndex::new(spec.scenarios.iter().map(|s| s.id.as_str()));
    let mut by_scenario: std::collections::HashMap<&str, Vec<TestCase>> = Default::default();
    let mut out = Traceability::default();
    for case in cases {
        match index.scenario_for(&case.name) {
            Some(id) => by_scenario.entry(id).or_default().push(case.clone()),
            None => out.unmapped_tests.push(case.name.clone()),
        }
    }
    for scenario in &spec.scenarios {
        let tests = by_scenario.remove(scenario.id.as_str()).unwrap_or_default();
        if scenario.status != ReviewStatus::Approved {
            out.tests_for_unapproved_scenarios
                .extend(tests.into_iter().map(|t| UnapprovedTest {
                    test: t.name,
                    outcome: t.outcome,
                    scenario_id: scenario.id.clone(),
                    scenario_status: scenario.status,
                }));
            continue;
        }
        let verdict = verdict_of(&tests, filtered);
        let summary = &mut out.summary;
        summary.approved_scenarios += 1;
        match verdict {
            ScenarioVerdict::Passing => summary.passing += 1,
            ScenarioVerdict::Failing => summary.failing += 1,
            ScenarioVerdict::Skipped => summary.skipped += 1,
            ScenarioVerdict::NoTest => summary.no_test += 1,
            ScenarioVerdict::NotRun => summary.not_run += 1,
        }
        out.scenarios.push(ScenarioTrace {
            scenario_id: scenario.id.clone(),
            name: scenario.name.clone(),
            domain: scenario.domain.clone(),
            verdict,
            tests,
        });
    }
    out.summary.tests = cases.len();
    out.summary.unmapped_tests = out.unmapped_tests.len();
    out
}

fn verdict_of(tests: &[TestCase], filtered: bool) -> ScenarioVerdict {
    if tests.iter().any(|t| t.outcome == Outcome::Failed) {
        ScenarioVerdict::Failing
    } else if tests.iter().any(|t| t.outcome == Outcome::Passed) {
        ScenarioVerdict::Passing
    } else if !tests.is_empty() {
        ScenarioVerdict::Skipped
    } else if filtered {
        ScenarioVerdict::NotRun
    } else {
        ScenarioVerdict::NoTest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> Spec {
        let yaml = "domain: Shop\nscenarios:\n  - {name: Pay, when: I pay, then: [paid]}\n  - {name: Refund, when: I refund, then: [refunded]}\n  - {name: Ship, when: I ship, then: [shipped]}\n  - {name: Gift, when: I gift, then: [gifted], status: proposed, rationale: r}\n";
        let loaded = sdd_spec::load::load_sources(&[("shop.yaml".into(), yaml.into())]);
        assert!(
            loaded
                .diagnostics
                .iter()
                .all(|d| d.severity != sdd_spec::diagnostic::Severity::Error),
            "{:?}",
            loaded.diagnostics
        );
        loaded.spec
    }

    fn case(name: &str, outcome: Outcome) -> TestCase {
        TestCase::new(name, outcome)
    }

    #[test]
    fn verdicts_per_scenario() {
        let cases = [
            case("t.py::test_sdd_shop_pay", Outcome::Passed),
            case("t.py::test_sdd_shop_refund", Outcome::Passed),
            case(
                "t.py::test_sdd_shop_refund_twice_sdd_shop_refund",
                Outcome::Failed,
            ),
            case("t.py::test_helper", Outcome::Passed),
            case("t.py::test_sdd_shop_gift", Outcome::Passed),
        ];
        let t = trace(&spec(), &cases, false);
        let verdicts: Vec<_> = t
            .scenarios
            .iter()
            .map(|s| (s.scenario_id.as_str(), s.verdict))
            .collect();
        assert_eq!(
            verdicts,
            [
                ("shop.pay", ScenarioVerdict::Passing),
                ("shop.refund", ScenarioVerdict::Failing),
                ("shop.ship", ScenarioVerdict::NoTest),
            ]
        );
        assert_eq!(t.unmapped_tests, ["t.py::test_helper"]);
        assert_eq!(t.tests_for_unapproved_scenarios[0].scenario_id, "shop.gift");
        assert_eq!(t.summary.approved_scenarios, 3);
        assert_eq!(
            (t.summary.passing, t.summary.failing, t.summary.no_test),
            (1, 1, 1)
        );
        let filtered = trace(&spec(), &cases[..1], true);
        assert_eq!(filtered.scenarios[2].verdict, ScenarioVerdict::NotRun);
    }
}

//! Where the approved scenarios stand, from the latest run of each test profile and of the
//! executable examples: the one reading of the history that `project_status`, `sdd report` and
//! the servers to come share, so they cannot disagree about what "passing" means.
//!
//! A scenario is failing if any latest run saw it fail, else passing if any saw it pass, else
//! skipped, else without a test; a scenario in none of those runs is unchecked. Constraint runs
//! are not read here: their subjects are constraints.

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::Serialize;

use crate::{LatestRun, RunKind, SubjectStatus};

/// The run kinds whose subjects are scenarios, and so say where a scenario stands.
pub const SCENARIO_RUN_KINDS: [RunKind; 2] = [RunKind::Tests, RunKind::Checks];

/// Approved scenarios by what the latest run of each test profile (and of the examples)
/// says about them.
#[derive(Debug, Default, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ScenarioCounts {
    pub approved: usize,
    /// With at least one test in the latest runs.
    pub implemented: usize,
    pub passing: usize,
    pub failing: usize,
    pub skipped: usize,
    pub no_test: usize,
    /// In no recorded run at all.
    pub unchecked: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FailingScenario {
    pub scenario_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The run that saw it fail.
    pub run_id: i64,
}

/// An approved scenario: its ID and name.
#[derive(Debug, Clone)]
pub struct ApprovedScenario {
    pub id: String,
    pub name: String,
}

/// Where the approved scenarios stand.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ScenarioStanding {
    pub counts: ScenarioCounts,
    /// Every failing scenario, in spec order.
    pub failing: Vec<FailingScenario>,
    /// Every approved scenario no test carries, in spec order.
    pub without_tests: Vec<String>,
    /// Regressions the latest runs flagged, sorted, each once.
    pub regressions: Vec<String>,
}

/// Where each approved scenario stands according to `latest` (the latest run of each kind and
/// label, as [`crate::History::latest_statuses`] gives them; runs of other kinds are ignored).
pub fn scenario_standing(approved: &[ApprovedScenario], latest: &[LatestRun]) -> ScenarioStanding {
    let latest: Vec<&LatestRun> = latest
        .iter()
        .filter(|l| SCENARIO_RUN_KINDS.contains(&l.run.kind))
        .collect();
    let mut standing = ScenarioStanding {
        counts: ScenarioCounts {
            approved: approved.len(),
            ..ScenarioCounts::default()
        },
        ..ScenarioStanding::default()
    };
    let counts = &mut standing.counts;
    for scenario in approved {
        let results: Vec<(i64, &crate::SubjectResult)> = latest
            .iter()
            .filter_map(|l| {
                l.results
                    .get(&scenario.id)
                    .map(|r| (l.run_of(&scenario.id), r))
            })
            .collect();
        let first = |status: SubjectStatus| results.iter().find(|(_, r)| r.status == status);
        if results.iter().any(|(_, r)| {
            matches!(
                r.status,
                SubjectStatus::Passing | SubjectStatus::Failing | SubjectStatus::Skipped
            )
        }) {
            counts.implemented += 1;
        }
        if let Some((run_id, r)) = first(SubjectStatus::Failing) {
            counts.failing += 1;
            standing.failing.push(FailingScenario {
                scenario_id: scenario.id.clone(),
                name: scenario.name.clone(),
                detail: r.detail.clone(),
                run_id: *run_id,
            });
        } else if first(SubjectStatus::Passing).is_some() {
            counts.passing += 1;
        } else if first(SubjectStatus::Skipped).is_some() {
            counts.skipped += 1;
        } else if first(SubjectStatus::NoTest).is_some() {
            counts.no_test += 1;
            standing.without_tests.push(scenario.id.clone());
        } else {
            counts.unchecked += 1;
        }
    }
    standing.regressions = latest
        .iter()
        .flat_map(|l| l.run.regressions.iter().cloned())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    standing
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::{RunRecord, SubjectResult};
    use SubjectStatus::*;

    fn latest(id: i64, kind: RunKind, statuses: &[(&str, SubjectStatus)]) -> LatestRun {
        LatestRun {
            run: RunRecord {
                id,
                kind,
                label: format!("{kind}-{id}"),
                started_at: "2026-11-22T10:00:00Z".into(),
                duration_seconds: 1.0,
                commit: None,
                dirty: None,
                filter: None,
                ok: true,
                summary: serde_json::Value::Null,
                regressions: Vec::new(),
                previous_run: None,
            },
            results: statuses
                .iter()
                .map(|&(subject, status)| {
                    let result = SubjectResult {
                        subject: subject.into(),
                        status,
                        detail: Some(format!("{subject} in run {id}")),
                    };
                    (subject.to_string(), result)
                })
                .collect::<BTreeMap<_, _>>(),
            carried: BTreeMap::new(),
        }
    }

    /// One approved scenario `a` against the latest runs; what it counts as, and whether it is
    /// implemented.
    #[test]
    fn each_scenario_counts_once_by_its_strongest_evidence() {
        struct Case {
            runs: Vec<LatestRun>,
            counted_as: &'static str,
            implemented: bool,
        }
        let case = |runs, counted_as, implemented| Case {
            runs,
            counted_as,
            implemented,
        };
        use RunKind::{Checks, Constraints, Tests};
        let cases = [
            case(vec![], "unchecked", false),
            case(vec![latest(1, Tests, &[("a", Passing)])], "passing", true),
            case(vec![latest(1, Tests, &[("a", Failing)])], "failing", true),
            case(vec![latest(1, Tests, &[("a", Skipped)])], "skipped", true),
            case(vec![latest(1, Tests, &[("a", NoTest)])], "no_test", false),
            // A filtered run that did not select it says nothing.
            case(vec![latest(1, Tests, &[("a", NotRun)])], "unchecked", false),
            // A failure in any profile beats a pass in another; the examples count too.
            case(
                vec![
                    latest(2, Tests, &[("a", Passing)]),
                    latest(1, Checks, &[("a", Failing)]),
                ],
                "failing",
                true,
            ),
            case(
                vec![
                    latest(2, Tests, &[("a", NoTest)]),
                    latest(1, Tests, &[("a", Skipped)]),
                ],
                "skipped",
                true,
            ),
            case(
                vec![
                    latest(2, Tests, &[("a", Skipped)]),
                    latest(1, Checks, &[("a", Passing)]),
                ],
                "passing",
                true,
            ),
            // A constraint run's subjects are constraints: one named like a scenario is not
            // read as the scenario.
            case(
                vec![latest(1, Constraints, &[("a", Failing)])],
                "unchecked",
                false,
            ),
        ];
        let approved = [ApprovedScenario {
            id: "a".into(),
            name: "A".into(),
        }];
        for (i, c) in cases.iter().enumerate() {
            let standing = scenario_standing(&approved, &c.runs);
            let counts = &standing.counts;
            let counted = [
                ("passing", counts.passing),
                ("failing", counts.failing),
                ("skipped", counts.skipped),
                ("no_test", counts.no_test),
                ("unchecked", counts.unchecked),
            ];
            for (name, n) in counted {
                assert_eq!(n, usize::from(name == c.counted_as), "case {i}: {name}");
            }
            assert_eq!(counts.approved, 1, "case {i}");
            assert_eq!(counts.implemented, usize::from(c.implemented), "case {i}");
            assert_eq!(
                standing.failing.len(),
                usize::from(c.counted_as == "failing"),
                "case {i}"
            );
            assert_eq!(
                standing.without_tests.len(),
                usize::from(c.counted_as == "no_test"),
                "case {i}"
            );
        }
    }

    #[test]
    fn failing_names_the_run_and_detail_and_regressions_are_merged() {
        let mut tests = latest(7, RunKind::Tests, &[("a", Failing), ("b", Passing)]);
        tests.run.regressions = vec!["a".into()];
        let mut checks = latest(5, RunKind::Checks, &[("a", Failing), ("c", NoTest)]);
        checks.run.regressions = vec!["c".into(), "a".into()];
        let mut constraints = latest(9, RunKind::Constraints, &[]);
        constraints.run.regressions = vec!["performance.api".into()];
        let approved: Vec<ApprovedScenario> = ["a", "b", "c", "d"]
            .iter()
            .map(|id| ApprovedScenario {
                id: id.to_string(),
                name: id.to_uppercase(),
            })
            .collect();
        let standing = scenario_standing(&approved, &[constraints, tests, checks]);
        assert_eq!(
            standing.failing,
            [FailingScenario {
                scenario_id: "a".into(),
                name: "A".into(),
                detail: Some("a in run 7".into()),
                run_id: 7,
            }]
        );
        assert_eq!(standing.without_tests, ["c"]);
        assert_eq!(standing.regressions, ["a", "c"]);
        assert_eq!(
            standing.counts,
            ScenarioCounts {
                approved: 4,
                implemented: 2,
                passing: 1,
                failing: 1,
                skipped: 0,
                no_test: 1,
                unchecked: 1,
            }
        );
    }
}

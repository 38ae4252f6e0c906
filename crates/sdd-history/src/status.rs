//! Where the approved scenarios stand, from the latest run of each test profile and of the
//! executable examples: the one reading of the history that `project_status`, `sdd report` and
//! the servers to come share, so they cannot disagree about what "passing" means.
//!
//! Within one kind of run (the test profiles; the executable examples), the newest run that
//! *decided* a scenario — saw it pass, fail, or could not vouch for it (unverified) — says
//! where it stands: a profile run last week that failed it does not outvote today's run of
//! another profile that shows the fix. A newer run that only skipped it, had no test for it or
//! did not select it (a filter) decides nothing and hides no older pass or failure: a quick
//! profile that skips the slow tests must not erase what the full one saw. The kinds then
//! combine as they always have: failing in either beats unverified beats passing beats skipped
//! beats no test; a scenario in none of those runs is unchecked. Unverified is never counted
//! as passing. Constraint runs are not read here: their subjects are constraints.
//!
//! `attention` says which latest test runs are red for reasons their failing scenarios do not
//! explain (failing tests that map to no scenario, a crashed binary, results that do not
//! reconcile, a timeout, nothing readable), read from the summary the run was recorded with.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{LatestRun, RunKind, SubjectResult, SubjectStatus};

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
    /// Their tests that were read passed, but the run's results do not reconcile with the
    /// runner's own summary (or a test binary crashed): never counted as passing.
    pub unverified: usize,
    pub skipped: usize,
    pub no_test: usize,
    /// In no recorded run at all.
    pub unchecked: usize,
}

/// A scenario that needs work: failing (in `failing`) or unverified (in `unverified`).
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct FailingScenario {
    pub scenario_id: String,
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// The run that saw it fail (or could not vouch for it).
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
    /// Every unverified scenario, in spec order.
    pub unverified: Vec<FailingScenario>,
    /// Every approved scenario no test carries, in spec order.
    pub without_tests: Vec<String>,
    /// Regressions the latest runs flagged and no newer run of the same kind has decided
    /// since, sorted, each once.
    pub regressions: Vec<String>,
}

/// A status that decides where a scenario stands in its kind of run: its tests ran and were
/// read. Skipped, no test and not run say nothing about whether it works.
fn decides(status: SubjectStatus) -> bool {
    matches!(
        status,
        SubjectStatus::Passing | SubjectStatus::Failing | SubjectStatus::Unverified
    )
}

/// How strongly a status counts when kinds disagree: the lowest wins. Unverified outranks
/// passing: a run that cannot vouch for a scenario must not be outvoted into "passing".
fn severity(status: SubjectStatus) -> u8 {
    match status {
        SubjectStatus::Failing => 0,
        SubjectStatus::Unverified => 1,
        SubjectStatus::Passing => 2,
        SubjectStatus::Skipped => 3,
        SubjectStatus::NoTest => 4,
        _ => 5,
    }
}

/// What one kind of run says of one scenario: the newest deciding result, else the newest
/// skipped, else the newest no-test; with the run it comes from.
fn within_kind<'a>(
    kind: RunKind,
    latest: &[&'a LatestRun],
    scenario: &str,
) -> Option<(i64, &'a SubjectResult)> {
    let results: Vec<(i64, &SubjectResult)> = latest
        .iter()
        .filter(|l| l.run.kind == kind)
        .filter_map(|l| l.results.get(scenario).map(|r| (l.run_of(scenario), r)))
        .collect();
    let newest = |wanted: &dyn Fn(SubjectStatus) -> bool| {
        results
            .iter()
            .filter(|(_, r)| wanted(r.status))
            .max_by_key(|(run, _)| *run)
            .copied()
    };
    newest(&decides)
        .or_else(|| newest(&|s| s == SubjectStatus::Skipped))
        .or_else(|| newest(&|s| s == SubjectStatus::NoTest))
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
        let implemented = latest.iter().any(|l| {
            l.results
                .get(&scenario.id)
                .is_some_and(|r| decides(r.status) || r.status == SubjectStatus::Skipped)
        });
        if implemented {
            counts.implemented += 1;
        }
        let standing_of = SCENARIO_RUN_KINDS
            .iter()
            .filter_map(|&kind| within_kind(kind, &latest, &scenario.id))
            .min_by_key(|(_, r)| severity(r.status));
        let listed = |(run_id, r): (i64, &SubjectResult)| FailingScenario {
            scenario_id: scenario.id.clone(),
            name: scenario.name.clone(),
            detail: r.detail.clone(),
            run_id,
        };
        match standing_of {
            Some(found @ (_, r)) if r.status == SubjectStatus::Failing => {
                counts.failing += 1;
                standing.failing.push(listed(found));
            }
            Some(found @ (_, r)) if r.status == SubjectStatus::Unverified => {
                counts.unverified += 1;
                standing.unverified.push(listed(found));
            }
            Some((_, r)) if r.status == SubjectStatus::Passing => counts.passing += 1,
            Some((_, r)) if r.status == SubjectStatus::Skipped => counts.skipped += 1,
            Some((_, r)) if r.status == SubjectStatus::NoTest => {
                counts.no_test += 1;
                standing.without_tests.push(scenario.id.clone());
            }
            _ => counts.unchecked += 1,
        }
    }
    standing.regressions = current_regressions(&latest);
    standing
}

/// The regressions the latest runs flagged, less those a newer run of the same kind (another
/// profile) has decided since: "passed before, fails now" is stale once a later run shows it.
fn current_regressions(latest: &[&LatestRun]) -> Vec<String> {
    // The newest run of each kind that decided each subject.
    let mut decided_by: BTreeMap<(RunKind, &str), i64> = BTreeMap::new();
    for l in latest {
        for (subject, result) in &l.results {
            if decides(result.status) {
                let run = l.run_of(subject);
                let slot = decided_by.entry((l.run.kind, subject)).or_insert(run);
                *slot = (*slot).max(run);
            }
        }
    }
    latest
        .iter()
        .flat_map(|l| {
            l.run.regressions.iter().filter(|subject| {
                decided_by
                    .get(&(l.run.kind, subject.as_str()))
                    .is_none_or(|&newest| newest <= l.run.id)
            })
        })
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// The failing tests of a test run that map to no approved scenario: counted, a few named.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct UnmappedFailures {
    pub count: usize,
    /// The first few, by name.
    #[serde(default)]
    pub first: Vec<String>,
}

/// What a test run's stored `summary` says about why it is red beyond its failing scenarios:
/// written with the run by the test runner (`sdd_verify::testrun`), read by [`attention`].
/// Every field has a default, so a run recorded before these fields existed reads as one that
/// said nothing of them.
#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunTrouble {
    #[serde(default)]
    pub unmapped_failures: UnmappedFailures,
    /// The run's first problems (a crash, results that do not reconcile, a timeout), one line
    /// each.
    #[serde(default)]
    pub problems: Vec<String>,
    /// How many problems the run had, listed or not.
    #[serde(default)]
    pub problems_total: usize,
}

/// How many unmapped failing tests a run's summary names.
pub const LISTED_UNMAPPED_FAILURES: usize = 5;
/// How many problems a run's summary keeps.
pub const LISTED_PROBLEMS: usize = 3;
/// The longest problem line a run's summary keeps, in characters.
pub const PROBLEM_CHARS: usize = 200;

impl RunTrouble {
    /// From everything the run found: `problems` cut to the first few, each to its first line.
    pub fn new(unmapped_failures: &[&str], problems: &[String]) -> RunTrouble {
        RunTrouble {
            unmapped_failures: UnmappedFailures {
                count: unmapped_failures.len(),
                first: unmapped_failures
                    .iter()
                    .take(LISTED_UNMAPPED_FAILURES)
                    .map(|name| one_line(name))
                    .collect(),
            },
            problems: problems
                .iter()
                .take(LISTED_PROBLEMS)
                .map(|p| one_line(p))
                .collect(),
            problems_total: problems.len(),
        }
    }

    /// Read from a stored summary; `None` when the summary predates these fields.
    fn of(summary: &serde_json::Value) -> Option<RunTrouble> {
        let said = summary.get("problems").is_some() || summary.get("unmapped_failures").is_some();
        said.then(|| serde_json::from_value(summary.clone()).unwrap_or_default())
    }
}

/// The first line of `text`, at most [`PROBLEM_CHARS`] characters (cut with `…`).
fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default().trim_end();
    match line.char_indices().nth(PROBLEM_CHARS) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line.to_string(),
    }
}

/// A latest test run that is red for a reason its failing scenarios do not explain.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RunAttention {
    pub run_id: i64,
    /// The test profile.
    pub profile: String,
    /// What is wrong, in one line.
    pub problem: String,
    /// Tests that failed in the run.
    pub tests_failed: usize,
    /// Of those, the ones that map to no approved scenario.
    pub unmapped_failures: usize,
}

/// The latest test runs (one per profile) that are red although their failing scenarios do
/// not say why — failing tests that map to no scenario, problems (a crashed binary, results
/// that do not reconcile with the runner's summary, a timeout), no readable results — newest
/// first. A red run whose failures all map to failing scenarios is not listed: those scenarios
/// say it.
pub fn attention(latest: &[LatestRun]) -> Vec<RunAttention> {
    let count = |summary: &serde_json::Value, field: &str| {
        summary
            .get("tests")
            .and_then(|t| t.get(field))
            .and_then(serde_json::Value::as_u64)
            .map(|n| n as usize)
    };
    let mut out = Vec::new();
    for l in latest
        .iter()
        .filter(|l| l.run.kind == RunKind::Tests && !l.run.ok)
    {
        let summary = &l.run.summary;
        let tests_failed = count(summary, "failed").unwrap_or(0);
        let tests_read = count(summary, "total");
        let trouble = RunTrouble::of(summary);
        let unmapped = trouble.as_ref().map_or(0, |t| t.unmapped_failures.count);
        let mut reasons = Vec::new();
        if tests_read == Some(0) {
            reasons.push("no test results could be read".to_string());
        }
        if let Some(t) = trouble.as_ref().filter(|t| t.unmapped_failures.count > 0) {
            let names = &t.unmapped_failures.first;
            let more = t.unmapped_failures.count.saturating_sub(names.len());
            let mut said = format!(
                "{} failing test(s) map to no scenario: {}",
                t.unmapped_failures.count,
                names.join(", ")
            );
            if more > 0 {
                said.push_str(&format!(" and {more} more"));
            }
            reasons.push(said);
        }
        match &trouble {
            Some(t) => {
                if let Some(first) = t.problems.first() {
                    let more = t.problems_total.saturating_sub(1);
                    reasons.push(if more > 0 {
                        format!("{first} (and {more} more problem(s))")
                    } else {
                        first.clone()
                    });
                }
            }
            // Recorded before runs said why: red with no failing scenario of its own is
            // unexplained.
            None if reasons.is_empty()
                && !l.results.iter().any(|(subject, r)| {
                    r.status == SubjectStatus::Failing && l.run_of(subject) == l.run.id
                }) =>
            {
                reasons.push(
                    "the run failed without a failing scenario, and it was recorded without saying why; run it again to see".into(),
                )
            }
            None => {}
        }
        if reasons.is_empty() {
            continue;
        }
        out.push(RunAttention {
            run_id: l.run.id,
            profile: l.run.label.clone(),
            problem: reasons.join("; "),
            tests_failed,
            unmapped_failures: unmapped,
        });
    }
    out.sort_by_key(|a| std::cmp::Reverse(a.run_id));
    out
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

    /// `run` as the latest of its label, with `carried` results taken from earlier runs of it
    /// (as a filtered run has them).
    fn carrying(mut run: LatestRun, carried: &[(&str, SubjectStatus, i64)]) -> LatestRun {
        for &(subject, status, from) in carried {
            run.results.insert(
                subject.into(),
                SubjectResult {
                    subject: subject.into(),
                    status,
                    detail: Some(format!("{subject} in run {from}")),
                },
            );
            run.carried.insert(subject.into(), from);
        }
        run.run.filter = Some("some".into());
        run
    }

    /// One approved scenario `a` against the latest runs; what it counts as, the run that
    /// decided it, and whether it is implemented.
    #[test]
    fn each_scenario_counts_once_by_its_newest_deciding_evidence() {
        struct Case {
            what: &'static str,
            runs: Vec<LatestRun>,
            counted_as: &'static str,
            implemented: bool,
            /// The run listed for a failing or unverified scenario.
            listed_run: Option<i64>,
        }
        let case = |what, runs, counted_as, implemented, listed_run| Case {
            what,
            runs,
            counted_as,
            implemented,
            listed_run,
        };
        use RunKind::{Checks, Constraints, Tests};
        let cases = [
            case("nothing recorded", vec![], "unchecked", false, None),
            case(
                "a pass",
                vec![latest(1, Tests, &[("a", Passing)])],
                "passing",
                true,
                None,
            ),
            case(
                "a failure",
                vec![latest(1, Tests, &[("a", Failing)])],
                "failing",
                true,
                Some(1),
            ),
            case(
                "skipped",
                vec![latest(1, Tests, &[("a", Skipped)])],
                "skipped",
                true,
                None,
            ),
            case(
                "no test",
                vec![latest(1, Tests, &[("a", NoTest)])],
                "no_test",
                false,
                None,
            ),
            case(
                "a filtered run that did not select it says nothing",
                vec![latest(1, Tests, &[("a", NotRun)])],
                "unchecked",
                false,
                None,
            ),
            case(
                "unverified is never passing",
                vec![latest(1, Tests, &[("a", Unverified)])],
                "unverified",
                true,
                Some(1),
            ),
            // Across test profiles, the newest run that decided it says where it stands.
            case(
                "a newer profile's pass shows the fix a stale profile's failure missed",
                vec![
                    latest(2, Tests, &[("a", Passing)]),
                    latest(1, Tests, &[("a", Failing)]),
                ],
                "passing",
                true,
                None,
            ),
            case(
                "a newer profile's failure beats an older pass",
                vec![
                    latest(2, Tests, &[("a", Failing)]),
                    latest(1, Tests, &[("a", Passing)]),
                ],
                "failing",
                true,
                Some(2),
            ),
            case(
                "a newer pass beats an older unverified run",
                vec![
                    latest(2, Tests, &[("a", Passing)]),
                    latest(1, Tests, &[("a", Unverified)]),
                ],
                "passing",
                true,
                None,
            ),
            case(
                "a newer unverified run takes back an older pass",
                vec![
                    latest(2, Tests, &[("a", Unverified)]),
                    latest(1, Tests, &[("a", Passing)]),
                ],
                "unverified",
                true,
                Some(2),
            ),
            // A newer run that decided nothing hides nothing.
            case(
                "no test in a newer profile keeps an older failure",
                vec![
                    latest(2, Tests, &[("a", NoTest)]),
                    latest(1, Tests, &[("a", Failing)]),
                ],
                "failing",
                true,
                Some(1),
            ),
            case(
                "not run in a newer profile keeps an older pass",
                vec![
                    latest(2, Tests, &[("a", NotRun)]),
                    latest(1, Tests, &[("a", Passing)]),
                ],
                "passing",
                true,
                None,
            ),
            case(
                "skipped in a newer profile keeps an older failure",
                vec![
                    latest(2, Tests, &[("a", Skipped)]),
                    latest(1, Tests, &[("a", Failing)]),
                ],
                "failing",
                true,
                Some(1),
            ),
            case(
                "skipped beats no test",
                vec![
                    latest(2, Tests, &[("a", NoTest)]),
                    latest(1, Tests, &[("a", Skipped)]),
                ],
                "skipped",
                true,
                None,
            ),
            // A result a filtered run carried is as old as the run that saw it.
            case(
                "a carried failure is older than another profile's pass",
                vec![
                    carrying(latest(9, Tests, &[]), &[("a", Failing, 3)]),
                    latest(5, Tests, &[("a", Passing)]),
                ],
                "passing",
                true,
                None,
            ),
            case(
                "a carried failure newer than another profile's pass",
                vec![
                    carrying(latest(9, Tests, &[]), &[("a", Failing, 6)]),
                    latest(5, Tests, &[("a", Passing)]),
                ],
                "failing",
                true,
                Some(6),
            ),
            // Kinds still combine: a failure in the examples counts whatever the tests say.
            case(
                "the examples' failure beats the tests' newer pass",
                vec![
                    latest(2, Tests, &[("a", Passing)]),
                    latest(1, Checks, &[("a", Failing)]),
                ],
                "failing",
                true,
                Some(1),
            ),
            case(
                "the examples' unverified beats the tests' pass",
                vec![
                    latest(2, Checks, &[("a", Unverified)]),
                    latest(1, Tests, &[("a", Passing)]),
                ],
                "unverified",
                true,
                Some(2),
            ),
            case(
                "a stale profile's failure is outvoted within tests, and the examples pass",
                vec![
                    latest(3, Checks, &[("a", Passing)]),
                    latest(2, Tests, &[("a", Passing)]),
                    latest(1, Tests, &[("a", Failing)]),
                ],
                "passing",
                true,
                None,
            ),
            case(
                "the examples' pass beats the tests' skip",
                vec![
                    latest(2, Tests, &[("a", Skipped)]),
                    latest(1, Checks, &[("a", Passing)]),
                ],
                "passing",
                true,
                None,
            ),
            // A constraint run's subjects are constraints: one named like a scenario is not
            // read as the scenario.
            case(
                "constraint runs are not read",
                vec![latest(1, Constraints, &[("a", Failing)])],
                "unchecked",
                false,
                None,
            ),
        ];
        let approved = [ApprovedScenario {
            id: "a".into(),
            name: "A".into(),
        }];
        for c in &cases {
            let what = c.what;
            let standing = scenario_standing(&approved, &c.runs);
            let counts = &standing.counts;
            let counted = [
                ("passing", counts.passing),
                ("failing", counts.failing),
                ("unverified", counts.unverified),
                ("skipped", counts.skipped),
                ("no_test", counts.no_test),
                ("unchecked", counts.unchecked),
            ];
            for (name, n) in counted {
                assert_eq!(n, usize::from(name == c.counted_as), "{what}: {name}");
            }
            assert_eq!(counts.approved, 1, "{what}");
            assert_eq!(counts.implemented, usize::from(c.implemented), "{what}");
            let listed: Vec<i64> = standing
                .failing
                .iter()
                .chain(&standing.unverified)
                .map(|f| f.run_id)
                .collect();
            assert_eq!(listed, Vec::from_iter(c.listed_run), "{what}");
            assert_eq!(
                standing.failing.len(),
                usize::from(c.counted_as == "failing"),
                "{what}"
            );
            assert_eq!(
                standing.unverified.len(),
                usize::from(c.counted_as == "unverified"),
                "{what}"
            );
            assert_eq!(
                standing.without_tests.len(),
                usize::from(c.counted_as == "no_test"),
                "{what}"
            );
        }
    }

    /// A regression a stale profile flagged is dropped once a newer run of another profile
    /// decided the scenario; one nothing newer decided stays.
    #[test]
    fn regressions_a_newer_run_decided_are_not_current() {
        let mut stale = latest(1, RunKind::Tests, &[("a", Failing), ("b", Failing)]);
        stale.run.regressions = vec!["a".into(), "b".into()];
        let newer = latest(2, RunKind::Tests, &[("a", Passing), ("b", NoTest)]);
        let approved: Vec<ApprovedScenario> = ["a", "b"]
            .iter()
            .map(|id| ApprovedScenario {
                id: id.to_string(),
                name: id.to_uppercase(),
            })
            .collect();
        let standing = scenario_standing(&approved, &[newer, stale]);
        assert_eq!(standing.regressions, ["b"]);
        assert_eq!(standing.counts.passing, 1);
        assert_eq!(standing.counts.failing, 1);
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
                unverified: 0,
                skipped: 0,
                no_test: 1,
                unchecked: 1,
            }
        );
    }
    /// A red test run with `summary`, and a failing scenario of its own when `fails_a_scenario`.
    fn red(
        id: i64,
        kind: RunKind,
        summary: serde_json::Value,
        fails_a_scenario: bool,
    ) -> LatestRun {
        let mut run = latest(
            id,
            kind,
            &[("a", if fails_a_scenario { Failing } else { Passing })],
        );
        run.run.ok = false;
        run.run.summary = summary;
        run
    }

    fn summary(total: u64, failed: u64, trouble: Option<RunTrouble>) -> serde_json::Value {
        let mut summary = serde_json::json!({"tests": {"total": total, "passed": total - failed, "failed": failed, "skipped": 0}});
        if let Some(trouble) = trouble {
            for (k, v) in serde_json::to_value(trouble).unwrap().as_object().unwrap() {
                summary[k] = v.clone();
            }
        }
        summary
    }

    /// Which latest runs are red for reasons their failing scenarios do not say, and the line
    /// that says it.
    #[test]
    fn attention_names_red_runs_their_scenarios_do_not_explain() {
        let unmapped = ["test_helper_a", "test_helper_b", "test_helper_c"];
        let crash =
            "test binary `api` was killed by signal 11 (SIGSEGV)\nits last lines: …".to_string();
        let cases: Vec<(&str, LatestRun, Option<&str>)> = vec![
            (
                "green",
                latest(1, RunKind::Tests, &[("a", Passing)]),
                None,
            ),
            (
                "red by its failing scenario alone",
                red(1, RunKind::Tests, summary(2, 1, Some(RunTrouble::new(&[], &[]))), true),
                None,
            ),
            (
                "failing tests that map to no scenario",
                red(
                    1,
                    RunKind::Tests,
                    summary(5, 3, Some(RunTrouble::new(&unmapped, &[]))),
                    false,
                ),
                Some("3 failing test(s) map to no scenario: test_helper_a, test_helper_b, test_helper_c"),
            ),
            (
                "a crash, said in its first line, beside a failing scenario",
                red(
                    1,
                    RunKind::Tests,
                    summary(5, 1, Some(RunTrouble::new(&[], &[crash.clone(), "b".into()]))),
                    true,
                ),
                Some("test binary `api` was killed by signal 11 (SIGSEGV) (and 1 more problem(s))"),
            ),
            (
                "nothing readable",
                red(1, RunKind::Tests, summary(0, 0, Some(RunTrouble::new(&[], &[]))), false),
                Some("no test results could be read"),
            ),
            (
                "recorded by an older SDD, red without a failing scenario",
                red(1, RunKind::Tests, summary(3, 0, None), false),
                Some("recorded without saying why"),
            ),
            (
                "recorded by an older SDD, red by its failing scenario",
                red(1, RunKind::Tests, summary(3, 1, None), true),
                None,
            ),
            (
                "example checks are not test profiles",
                red(1, RunKind::Checks, summary(3, 0, Some(RunTrouble::new(&["x"], &[]))), false),
                None,
            ),
        ];
        for (what, run, said) in cases {
            let found = attention(&[run]);
            match said {
                None => assert!(found.is_empty(), "{what}: {found:?}"),
                Some(said) => {
                    assert_eq!(found.len(), 1, "{what}");
                    assert!(
                        found[0].problem.contains(said),
                        "{what}: {}",
                        found[0].problem
                    );
                    assert!(!found[0].problem.contains('\n'), "{what}");
                    assert_eq!(found[0].run_id, 1);
                }
            }
        }
        let found = attention(&[red(
            4,
            RunKind::Tests,
            summary(9, 7, Some(RunTrouble::new(&["t"; 7], &[]))),
            false,
        )]);
        assert_eq!(found[0].tests_failed, 7);
        assert_eq!(found[0].unmapped_failures, 7);
        assert!(
            found[0].problem.ends_with("t, t, t, t, t and 2 more"),
            "{}",
            found[0].problem
        );
    }

    /// What a run keeps of its troubles is small: a few names, a few problems, one line each.
    #[test]
    fn run_trouble_keeps_a_few_short_lines() {
        let long = "x".repeat(PROBLEM_CHARS + 50);
        let problems: Vec<String> = (0..10)
            .map(|i| format!("problem {i}\nsecond line"))
            .chain([long])
            .collect();
        let names: Vec<String> = (0..100).map(|i| format!("t{i}")).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let trouble = RunTrouble::new(&names, &problems);
        assert_eq!(trouble.unmapped_failures.count, 100);
        assert_eq!(
            trouble.unmapped_failures.first.len(),
            LISTED_UNMAPPED_FAILURES
        );
        assert_eq!(trouble.problems, ["problem 0", "problem 1", "problem 2"]);
        assert_eq!(trouble.problems_total, 11);
        let cut = RunTrouble::new(&[], &problems[10..]);
        assert_eq!(cut.problems[0].chars().count(), PROBLEM_CHARS + 1);
        // Read back tolerant: a summary without the fields says nothing; a damaged one too.
        assert_eq!(RunTrouble::of(&serde_json::json!({"tests": {}})), None);
        assert_eq!(
            RunTrouble::of(&serde_json::json!({"problems": "not a list"})),
            Some(RunTrouble::default())
        );
    }
}

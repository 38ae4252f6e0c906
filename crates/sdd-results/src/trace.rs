//! Traceability: every test result mapped to its scenario, and every approved scenario given a
//! verdict — passing, failing, skipped, or no test.
//!
//! A test speaks for a scenario by the test-naming convention of the generated suites
//! (`sdd_<key>` in the name, or `[ID]` where names are free text) or, failing that, by the
//! scenario's name — how cucumber reports a scenario: the name alone or after its feature's
//! (`Orders: Cancel an order`, JUnit's `Orders::Cancel an order`, cucumber-rs's JUnit
//! `Scenario: Cancel an order: features/orders.feature:9:3`), an outline row by its outline's
//! name and its row (`… (Example #2)`, ` #2`) or line (`(line 14)`, as the cucumber JSON reader
//! writes it). A name that fits two scenarios maps to neither: that is reported, not guessed.

use std::collections::HashMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_spec::document::ReviewStatus;
use sdd_spec::gherkin::split_outline_row_name;
use sdd_spec::ids::TestNameIndex;
use sdd_spec::model::{Scenario, Spec};

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
    /// A filtered run did not select any of its tests, or a run that did not finish (a crashed
    /// test binary) may have held them: nothing is known from this run.
    NotRun,
    /// Its tests that were read passed, but the run's results do not reconcile with the
    /// runner's own summary (or a test binary crashed), so a test of it may be among those not
    /// read. Never counted as passing.
    Unverified,
}

impl ScenarioVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            ScenarioVerdict::Passing => "passing",
            ScenarioVerdict::Failing => "failing",
            ScenarioVerdict::Skipped => "skipped",
            ScenarioVerdict::NoTest => "no_test",
            ScenarioVerdict::NotRun => "not_run",
            ScenarioVerdict::Unverified => "unverified",
        }
    }

    pub fn parse(text: &str) -> Option<ScenarioVerdict> {
        Some(match text {
            "passing" => ScenarioVerdict::Passing,
            "failing" => ScenarioVerdict::Failing,
            "skipped" => ScenarioVerdict::Skipped,
            "no_test" => ScenarioVerdict::NoTest,
            "not_run" => ScenarioVerdict::NotRun,
            "unverified" => ScenarioVerdict::Unverified,
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
    /// Scenarios whose tests were read passing from a run that does not reconcile with its
    /// runner's summary.
    #[serde(default)]
    pub unverified: usize,
    pub tests: usize,
    pub unmapped_tests: usize,
}

/// A test whose name fits several scenarios equally: it is counted for none of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AmbiguousTest {
    pub test: String,
    /// The scenarios its name fits, the first 10 (give each a distinct name, or tag the
    /// scenarios with `@id:` where the report carries tags).
    pub scenario_ids: Vec<String>,
    /// How many more scenarios it fits.
    #[serde(default, skip_serializing_if = "crate::is_zero")]
    pub more_scenarios: usize,
}

/// Scenario IDs listed per ambiguous test: an outline of a thousand rows of one name makes every
/// one of its thousand results fit all of them.
pub const LISTED_AMBIGUOUS_IDS: usize = 10;

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Traceability {
    pub summary: TraceSummary,
    /// Approved scenarios in spec order.
    pub scenarios: Vec<ScenarioTrace>,
    /// Tests that map to no scenario (those in `ambiguous_tests` too).
    pub unmapped_tests: Vec<String>,
    /// Tests whose name fits several scenarios, so they map to none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ambiguous_tests: Vec<AmbiguousTest>,
    /// Tests for scenarios that are proposed or rejected, not approved.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tests_for_unapproved_scenarios: Vec<UnapprovedTest>,
}

/// What a run's results can vouch for, beyond the tests they list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunShape {
    /// The run selected only some tests: a scenario without a test in it is `not_run`, not
    /// `no_test`.
    pub filtered: bool,
    /// The tests read are not the whole run (they do not reconcile with the runner's summary,
    /// or a crashed binary's unreported tests are unknown): a scenario without a failing test
    /// may have one among those not read, so none is `passing` (`unverified`) or `no_test`
    /// (`not_run`).
    pub incomplete: bool,
    /// The format leaves skipped tests out: a scenario with no test in it may have a skipped
    /// one (`not_run`, not `no_test`).
    pub skips_unlisted: bool,
}

impl RunShape {
    /// The shape of a run read into `parsed`.
    pub fn of(parsed: &crate::ParsedResults, filtered: bool) -> RunShape {
        RunShape {
            filtered: filtered || parsed.filtered_out > 0,
            incomplete: !parsed.is_complete(),
            skips_unlisted: parsed.skips_unlisted,
        }
    }
}

/// Map `cases` onto the approved scenarios of `spec`, each verdict no more than `shape` lets
/// the run vouch for.
pub fn trace(spec: &Spec, cases: &[TestCase], shape: RunShape) -> Traceability {
    let map = TestMap::new(spec);
    let mut by_scenario: HashMap<&str, Vec<TestCase>> = Default::default();
    let mut out = Traceability::default();
    for case in cases {
        match map.scenario_for(&case.name) {
            Mapping::Scenario(id) => by_scenario.entry(id).or_default().push(case.clone()),
            Mapping::Ambiguous(ids) => {
                out.unmapped_tests.push(case.name.clone());
                out.ambiguous_tests.push(AmbiguousTest {
                    test: case.name.clone(),
                    more_scenarios: ids.len().saturating_sub(LISTED_AMBIGUOUS_IDS),
                    scenario_ids: ids
                        .into_iter()
                        .take(LISTED_AMBIGUOUS_IDS)
                        .map(str::to_string)
                        .collect(),
                });
            }
            Mapping::None => out.unmapped_tests.push(case.name.clone()),
        }
    }
    // A scenario whose ID duplicates an earlier one's has no test of its own (tests name the
    // ID, which is the first's; `sdd validate` reports it as `duplicate-id`): it is not traced,
    // rather than told as a second scenario of that ID with no test.
    for scenario in spec.unique_scenarios() {
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
        let verdict = verdict_of(&tests, shape);
        let summary = &mut out.summary;
        summary.approved_scenarios += 1;
        match verdict {
            ScenarioVerdict::Passing => summary.passing += 1,
            ScenarioVerdict::Failing => summary.failing += 1,
            ScenarioVerdict::Skipped => summary.skipped += 1,
            ScenarioVerdict::NoTest => summary.no_test += 1,
            ScenarioVerdict::NotRun => summary.not_run += 1,
            ScenarioVerdict::Unverified => summary.unverified += 1,
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

/// Which scenario a test name speaks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mapping<'a> {
    Scenario(&'a str),
    /// The name fits these scenarios (sorted) equally well.
    Ambiguous(Vec<&'a str>),
    None,
}

impl<'a> Mapping<'a> {
    /// The scenario, when there is exactly one.
    pub fn id(&self) -> Option<&'a str> {
        match self {
            Mapping::Scenario(id) => Some(id),
            _ => None,
        }
    }
}

/// Test names to scenarios for one spec: the test-name convention first (an ID in the name),
/// then the scenario's name. Built once per run; each lookup costs a few hash lookups of parts
/// of the name, whatever the number of scenarios.
pub struct TestMap<'a> {
    convention: TestNameIndex<'a>,
    by_name: HashMap<&'a str, Vec<&'a Scenario>>,
    /// Outline rows by their outline's name (`NAME (Example #N)` → `NAME`), with N.
    rows: HashMap<&'a str, Vec<(usize, &'a Scenario)>>,
}

/// At most this many `A: B` / `A::B` readings of one name are tried.
const MAX_SPLITS: usize = 8;

impl<'a> TestMap<'a> {
    pub fn new(spec: &'a Spec) -> Self {
        let mut map = TestMap {
            convention: TestNameIndex::new(
                spec.unique_scenarios()
                    .map(|s| (s.id.as_str(), s.domain.as_str())),
            ),
            by_name: HashMap::new(),
            rows: HashMap::new(),
        };
        // Only the scenarios that keep their ID: a duplicate of the same name would make every
        // test of that name ambiguous, and a test maps to an ID, which is the first's.
        for scenario in spec.unique_scenarios() {
            map.by_name
                .entry(scenario.name.trim())
                .or_default()
                .push(scenario);
            if let Some((outline, n)) = split_outline_row_name(scenario.name.trim()) {
                map.rows.entry(outline).or_default().push((n, scenario));
            }
        }
        map
    }

    pub fn scenario_for(&self, test: &str) -> Mapping<'a> {
        if let Some(id) = self.convention.scenario_for(test) {
            return Mapping::Scenario(id);
        }
        // Every reading of the name counts: `Checkout: pay by card` may be the scenario of that
        // name or `pay by card` in feature `Checkout`. When readings fit different scenarios,
        // the name fits several and maps to none (a pass credited to a scenario whose test
        // never ran is the one thing this must not do).
        let readings = readings(test.trim());
        for fallback in [false, true] {
            let mut found: Vec<&'a str> = readings
                .iter()
                .filter(|reading| reading.fallback == fallback)
                .flat_map(|reading| self.by_reading(reading))
                .collect();
            found.sort_unstable();
            found.dedup();
            match found.as_slice() {
                [] => continue,
                [one] => return Mapping::Scenario(one),
                _ => return Mapping::Ambiguous(found),
            }
        }
        Mapping::None
    }

    /// The scenarios a reading names (in its feature, if it has one), its suffixes read as
    /// hints.
    fn by_reading(&self, reading: &Reading) -> Vec<&'a str> {
        let in_feature = |s: &&Scenario| {
            reading
                .feature
                .is_none_or(|f| s.feature.as_deref() == Some(f) || s.domain == f)
        };
        let mut hints = peel(reading.name);
        hints.line = hints.line.or(reading.line);
        let mut found: Vec<&'a Scenario> = Vec::new();
        // The name as written; without its suffixes only when they do not name an outline's
        // row (a row is not the plain scenario of its outline's name).
        let mut names = vec![reading.name];
        if hints.row.is_none() {
            names.push(hints.name);
        }
        for candidate in names {
            found.extend(
                self.by_name
                    .get(candidate)
                    .into_iter()
                    .flatten()
                    .copied()
                    .filter(in_feature),
            );
        }
        if let Some(rows) = self.rows.get(hints.name) {
            let rows: Vec<&(usize, &Scenario)> =
                rows.iter().filter(|(_, s)| in_feature(s)).collect();
            let chosen: Vec<&(usize, &Scenario)> = match hints.row {
                Some(n) => rows.into_iter().filter(|(row, _)| *row == n).collect(),
                None => rows,
            };
            found.extend(chosen.into_iter().map(|(_, s)| *s));
        }
        // A line tells apart scenarios of one name (an outline's rows) when it is theirs; a
        // line that is none of theirs (the report ran another copy of the file) tells nothing.
        if let Some(line) = hints.line {
            let at_line: Vec<&Scenario> = found
                .iter()
                .copied()
                .filter(|s| s.location.line == line)
                .collect();
            if found.len() > 1 && !at_line.is_empty() {
                found = at_line;
            }
        }
        found.into_iter().map(|s| s.id.as_str()).collect()
    }
}

/// One way of reading a test name: the scenario's name, in a feature or not, at a line or not.
struct Reading<'n> {
    feature: Option<&'n str>,
    name: &'n str,
    line: Option<usize>,
    /// It sets part of the test name aside (a JUnit class that may not be a feature): asked
    /// only when no reading of the whole name fits.
    fallback: bool,
}

/// The ways a test name may hold a scenario's name, most specific first.
fn readings(test: &str) -> Vec<Reading<'_>> {
    let plain = |feature, name| Reading {
        feature,
        name,
        line: None,
        fallback: false,
    };
    let mut out = vec![plain(None, test)];
    if let Some(reading) = cucumber_rs_junit(test) {
        out.push(reading);
    }
    // JUnit `classname::name` (the junit reader joins them): the feature, then the scenario.
    if let Some((class, name)) = test.rsplit_once("::") {
        out.push(plain(Some(class.trim()), name.trim()));
        out.push(Reading {
            fallback: true,
            ..plain(None, name.trim())
        });
    }
    // `Feature: Scenario`, at each `: ` (a feature name may hold one itself).
    for (at, _) in test.match_indices(": ").take(MAX_SPLITS) {
        out.push(plain(Some(test[..at].trim()), test[at + 2..].trim()));
    }
    out
}

/// cucumber-rs's JUnit test case names: `[Rule: R: ]Scenario: NAME: PATH:LINE:COLUMN`, where
/// an outline row's line is its Examples row's (cucumber-rs `src/writer/junit.rs`, `test_case`;
/// `src/feature.rs`, `expand_scenario`).
fn cucumber_rs_junit(test: &str) -> Option<Reading<'_>> {
    let (rest, column) = test.rsplit_once(':')?;
    let (rest, line) = rest.rsplit_once(':')?;
    column.parse::<u32>().ok()?;
    let line = line.parse::<usize>().ok()?;
    let (name, _path) = rest.rsplit_once(": ")?;
    let at = name.find("Scenario: ")?;
    Some(Reading {
        feature: None,
        name: name[at + "Scenario: ".len()..].trim(),
        line: Some(line),
        fallback: false,
    })
}

/// A name with the suffixes reports add taken off, and what they said.
struct Hints<'n> {
    name: &'n str,
    /// The outline row (from 1).
    row: Option<usize>,
    line: Option<usize>,
}

/// Take off, from the end: ` [ID]` (an `@id:` tag that named no scenario: an outline's), ` (line
/// N)`, and the row of an outline: ` (Example #N)` (this SDD's names), ` #N` (Cucumber-JVM's
/// JUnit names for examples).
fn peel(name: &str) -> Hints<'_> {
    let mut hints = Hints {
        name: name.trim(),
        row: None,
        line: None,
    };
    if let Some(open) = hints.name.rfind(" [") {
        if hints.name.ends_with(']') {
            hints.name = hints.name[..open].trim_end();
        }
    }
    let number = |text: &str| text.parse::<usize>().ok();
    if let Some(rest) = hints.name.strip_suffix(')') {
        if let Some(open) = rest.rfind(" (line ") {
            if let Some(line) = number(&rest[open + " (line ".len()..]) {
                hints.line = Some(line);
                hints.name = rest[..open].trim_end();
            }
        }
    }
    if let Some((outline, n)) = split_outline_row_name(hints.name) {
        hints.name = outline;
        hints.row = Some(n);
    } else if let Some(open) = hints.name.rfind(" #") {
        if let Some(n) = number(&hints.name[open + 2..]) {
            hints.row = Some(n);
            hints.name = hints.name[..open].trim_end();
        }
    }
    hints
}

/// A scenario's verdict from its tests: a failure is a failure whatever else is unknown; a pass
/// counts only when no test of it can be missing from the results (`shape`) and none of its
/// tests went unreported.
fn verdict_of(tests: &[TestCase], shape: RunShape) -> ScenarioVerdict {
    let any = |outcome| tests.iter().any(|t| t.outcome == outcome);
    if any(Outcome::Failed) {
        ScenarioVerdict::Failing
    } else if any(Outcome::Passed) {
        if shape.incomplete || any(Outcome::NotRun) {
            ScenarioVerdict::Unverified
        } else {
            ScenarioVerdict::Passing
        }
    } else if any(Outcome::Skipped) {
        ScenarioVerdict::Skipped
    } else if !tests.is_empty() || shape.filtered || shape.incomplete || shape.skips_unlisted {
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

    const ORDERS_FEATURE: &str = "\
@domain:orders
Feature: Orders
  @id:orders.cancel
  Scenario: Cancel an order
    When the customer cancels it
    Then it is cancelled

  Scenario: Ship an order
    When it ships
    Then the customer is told

  Scenario Outline: Order total
    When the customer buys <n> books
    Then the total is <t>
    Examples:
      | n | t  |
      | 1 | 10 |
      | 2 | 20 |

  Scenario Outline: Pay <n> times
    When the customer pays <n> times
    Examples:
      | n |
      | 1 |
      | 2 |
";

    const WAREHOUSE_YAML: &str = "feature: Warehouse\nscenarios:\n  - {name: Ship an order, when: w, then: t}\n  - {name: Restock, when: w, then: t}\n";

    fn mixed_spec() -> Spec {
        let loaded = sdd_spec::load::load_sources(&[
            ("orders.feature".into(), ORDERS_FEATURE.into()),
            ("warehouse.yaml".into(), WAREHOUSE_YAML.into()),
        ]);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.spec
    }

    /// Every shape of name a runner reports a scenario by, and what it maps to.
    /// `Checkout: pay by card` is the name of a scenario in feature Shop *and* `pay by card` in
    /// feature Checkout: it fits both, so it maps to neither (it once credited Shop's scenario
    /// with a pass from a test that never ran for it).
    #[test]
    fn a_name_that_two_readings_fit_maps_to_neither() {
        let spec = sdd_spec::load::load_sources(&[
            (
                "checkout.feature".into(),
                "Feature: Checkout\n  Scenario: pay by card\n    When I pay\n    Then it is paid\n".into(),
            ),
            (
                "shop.feature".into(),
                "Feature: Shop\n  Scenario: Checkout: pay by card\n    When I pay\n    Then it is paid\n".into(),
            ),
        ])
        .spec;
        let map = TestMap::new(&spec);
        assert_eq!(
            map.scenario_for("Checkout: pay by card"),
            Mapping::Ambiguous(vec!["checkout.pay_by_card", "shop.checkout_pay_by_card"])
        );
        assert_eq!(
            map.scenario_for("Shop: Checkout: pay by card"),
            Mapping::Scenario("shop.checkout_pay_by_card")
        );
    }

    #[test]
    fn test_names_map_to_scenarios_by_id_or_by_name() {
        use Mapping::{Ambiguous, None as Unmapped, Scenario as To};
        let spec = mixed_spec();
        let map = TestMap::new(&spec);
        let cases: &[(&str, Mapping)] = &[
            // The test-name convention comes first.
            (
                "t.py::test_sdd_orders_ship_an_order",
                To("orders.ship_an_order"),
            ),
            ("[warehouse.restock] anything", To("warehouse.restock")),
            // `[ID]` in every runner's names: a pytest parameter, a go subtest.
            ("t.py::test_x[warehouse.restock]", To("warehouse.restock")),
            ("shop/ledger::TestX/[orders.cancel]", To("orders.cancel")),
            // Rust doc tests, by the item's path.
            (
                "src/lib.rs - sdd_orders_ship_an_order (line 3)",
                To("orders.ship_an_order"),
            ),
            ("src/lib.rs - post (line 6)", Unmapped),
            // The name alone, when one scenario has it.
            ("Restock", To("warehouse.restock")),
            // Two features have `Ship an order`: the name alone is no answer.
            (
                "Ship an order",
                Ambiguous(vec!["orders.ship_an_order", "warehouse.ship_an_order"]),
            ),
            // With its feature (or domain): cucumber JSON, JUnit classname::name.
            ("Orders: Ship an order", To("orders.ship_an_order")),
            ("orders: Ship an order", To("orders.ship_an_order")),
            ("Warehouse::Ship an order", To("warehouse.ship_an_order")),
            ("Orders: Ship an order (line 8)", To("orders.ship_an_order")),
            (
                "Orders: Cancel an order (line 4) [orders.cancel]",
                To("orders.cancel"),
            ),
            // Outline rows: by line, by row number, or by a name that only one row has.
            (
                "Orders: Order total (line 18) [orders.order_total]",
                To("orders.order_total_2"),
            ),
            (
                "Orders: Order total (line 99)",
                Ambiguous(vec!["orders.order_total_1", "orders.order_total_2"]),
            ),
            ("Order total (Example #1)", To("orders.order_total_1")),
            ("Orders::Order total #2", To("orders.order_total_2")),
            (
                "Order total",
                Ambiguous(vec!["orders.order_total_1", "orders.order_total_2"]),
            ),
            ("Orders: Pay 2 times (line 25)", To("orders.pay_n_times_2")),
            ("Pay 1 times", To("orders.pay_n_times_1")),
            // cucumber-rs's JUnit names.
            (
                "Scenario: Order total: tests/features/orders.feature:17:7",
                To("orders.order_total_1"),
            ),
            (
                "Scenario: Cancel an order: features/orders.feature:4:3",
                To("orders.cancel"),
            ),
            (
                "Rule: stock: Scenario: Restock: w.feature:1:1",
                To("warehouse.restock"),
            ),
            // Near misses are not matches.
            ("Cancel An Order", Unmapped),
            ("Orders: Restock", Unmapped),
            ("Order total (Example #3)", Unmapped),
            ("tests/test_x.py::test_helper", Unmapped),
            ("", Unmapped),
        ];
        for (name, expected) in cases {
            assert_eq!(&map.scenario_for(name), expected, "{name}");
        }
    }

    #[test]
    fn an_ambiguous_test_counts_for_no_scenario_and_says_so() {
        let spec = mixed_spec();
        let cases = [
            case("Ship an order", Outcome::Failed),
            case(
                "Orders: Cancel an order (line 4) [orders.cancel]",
                Outcome::Passed,
            ),
        ];
        let t = trace(&spec, &cases, RunShape::default());
        assert_eq!(
            t.ambiguous_tests,
            [AmbiguousTest {
                test: "Ship an order".into(),
                scenario_ids: vec![
                    "orders.ship_an_order".into(),
                    "warehouse.ship_an_order".into()
                ],
                more_scenarios: 0,
            }]
        );
        assert_eq!(t.unmapped_tests, ["Ship an order"]);
        let verdict = |id: &str| {
            t.scenarios
                .iter()
                .find(|s| s.scenario_id == id)
                .unwrap()
                .verdict
        };
        assert_eq!(verdict("orders.ship_an_order"), ScenarioVerdict::NoTest);
        assert_eq!(verdict("warehouse.ship_an_order"), ScenarioVerdict::NoTest);
        assert_eq!(verdict("orders.cancel"), ScenarioVerdict::Passing);
    }

    /// A scenario whose ID duplicates an earlier one's stays in the spec's model; it must not
    /// make the first's name ambiguous, nor be traced as a second scenario of that ID.
    #[test]
    fn a_duplicate_neither_hides_nor_doubles_the_first() {
        let spec = sdd_spec::load::load_sources(&[
            (
                "a.feature".into(),
                "Feature: Shop\n  Scenario: Pay\n    When I pay\n    Then it is paid\n".into(),
            ),
            (
                "b.yaml".into(),
                "feature: Shop\nscenarios:\n  - {name: Pay, when: I pay twice, then: it is paid once}\n".into(),
            ),
        ])
        .spec;
        assert_eq!(spec.scenarios.len(), 2);
        let map = TestMap::new(&spec);
        assert_eq!(map.scenario_for("Pay"), Mapping::Scenario("shop.pay"));
        let t = trace(&spec, &[case("Pay", Outcome::Passed)], RunShape::default());
        let rows: Vec<_> = t
            .scenarios
            .iter()
            .map(|s| (s.scenario_id.as_str(), s.verdict))
            .collect();
        assert_eq!(rows, [("shop.pay", ScenarioVerdict::Passing)]);
        assert_eq!(t.summary.approved_scenarios, 1);
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
        let t = trace(&spec(), &cases, RunShape::default());
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
        let filtered = trace(
            &spec(),
            &cases[..1],
            RunShape {
                filtered: true,
                ..RunShape::default()
            },
        );
        assert_eq!(filtered.scenarios[2].verdict, ScenarioVerdict::NotRun);
    }

    /// What each set of test outcomes makes of a scenario, in a whole run and in one whose
    /// results cannot vouch for everything it ran.
    #[test]
    fn verdicts_never_claim_more_than_the_results_vouch_for() {
        use Outcome::{Failed as F, NotRun as N, Passed as P, Skipped as S};
        use ScenarioVerdict::*;
        let whole = RunShape::default();
        let incomplete = RunShape {
            incomplete: true,
            ..whole
        };
        let skips_unlisted = RunShape {
            skips_unlisted: true,
            ..whole
        };
        let table: &[(&[Outcome], RunShape, ScenarioVerdict)] = &[
            (&[P], whole, Passing),
            (&[P, S], whole, Passing),
            (&[F, P], whole, Failing),
            (&[S], whole, Skipped),
            (&[], whole, NoTest),
            // A test of it never reported (its binary crashed): the pass vouches for part.
            (&[P, N], whole, Unverified),
            (&[N], whole, NotRun),
            (&[F, N], whole, Failing),
            // The results do not reconcile with the runner's summary.
            (&[P], incomplete, Unverified),
            (&[F], incomplete, Failing),
            (&[S], incomplete, Skipped),
            (&[], incomplete, NotRun),
            (&[], skips_unlisted, NotRun),
            (&[P], skips_unlisted, Passing),
        ];
        for (outcomes, shape, expected) in table {
            let tests: Vec<TestCase> = outcomes.iter().map(|o| case("t", *o)).collect();
            assert_eq!(
                verdict_of(&tests, *shape),
                *expected,
                "{outcomes:?} {shape:?}"
            );
        }
    }
}

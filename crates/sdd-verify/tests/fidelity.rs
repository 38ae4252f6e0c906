//! Test runs for real on the fidelity fixture: the runners' own summaries reconcile with what is
//! read, a crashed test binary's unreported tests are named and `not_run`, failing subtests fail
//! their scenario, and a run whose results cannot vouch for every test passes no scenario.

use std::collections::BTreeMap;
use std::path::Path;

use sdd_results::trace::ScenarioVerdict::{self, *};
use sdd_verify::testrun::TestRunReport;

async fn run(root: &Path, profile: &str) -> TestRunReport {
    sdd_verify::testing::run_profile(root, profile, None, None).await
}

fn verdicts(report: &TestRunReport) -> BTreeMap<String, ScenarioVerdict> {
    report
        .traceability
        .scenarios
        .iter()
        .map(|s| {
            (
                s.scenario_id.trim_start_matches("ledger.").to_string(),
                s.verdict,
            )
        })
        .collect()
}

fn expect(pairs: &[(&str, ScenarioVerdict)]) -> BTreeMap<String, ScenarioVerdict> {
    pairs.iter().map(|(id, v)| (id.to_string(), *v)).collect()
}

/// cargo test: the crashed `tests/crash.rs` is asked for its tests, so the one it never
/// reported is named `not_run`, the crashing one failed, and the run reconciles.
#[tokio::test]
async fn a_crashed_libtest_binary_names_its_unreported_tests() {
    let dir = sdd_verify::testing::fidelity_project().unwrap();
    let report = run(dir.path(), "rust").await;
    assert_eq!(
        verdicts(&report),
        expect(&[
            ("post_an_entry", Passing),
            ("reverse_an_entry", Failing),
            ("archive_a_period", Skipped),
            ("round_half_even", Skipped),
            ("close_a_period", Failing),
            ("open_an_account", Failing),
            ("convert_currency", Passing),
            ("validate_entries", Failing),
            ("sum_a_period", NotRun),
            ("post_an_overflowing_entry", Passing),
            ("export_a_period", Passing),
            ("audit_a_period", NoTest),
            ("refund", NoTest),
        ]),
        "{report:#?}"
    );
    assert!(!report.ok);
    let crash = report
        .problems
        .iter()
        .find(|p| p.contains("tests/crash.rs crashed"))
        .unwrap_or_else(|| panic!("{:?}", report.problems));
    assert!(
        crash.contains("while running `sdd_ledger_validate_entries`")
            && crash.contains("listed as `not_run`"),
        "{crash}"
    );
    let validate = report
        .failures
        .iter()
        .find(|f| f.test == "sdd_ledger_validate_entries")
        .unwrap();
    assert!(
        validate
            .message
            .as_deref()
            .unwrap()
            .contains("stack overflow"),
        "{validate:?}"
    );
    assert!(!report.problems.iter().any(|p| p.contains("Code {")));
}

/// nextest runs each test on its own: the crash fails one test and the rest pass.
#[tokio::test]
async fn nextest_reconciles_and_explains_should_panic() {
    let dir = sdd_verify::testing::fidelity_project().unwrap();
    let report = run(dir.path(), "rust-nextest").await;
    let v = verdicts(&report);
    assert_eq!(v["sum_a_period"], Passing, "{report:#?}");
    assert_eq!(v["validate_entries"], Failing);
    assert_eq!(v["audit_a_period"], NoTest);
    let close = report
        .failures
        .iter()
        .find(|f| f.test.ends_with("sdd_ledger_close_a_period"))
        .unwrap();
    assert_eq!(
        close.message.as_deref(),
        Some("test did not panic as expected at src/lib.rs:62:8")
    );
    assert!(
        !report.problems.iter().any(|p| p.contains("reconcile")),
        "{:?}",
        report.problems
    );
}

#[tokio::test]
async fn pytest_subtests_fail_their_scenario_and_an_unlisting_run_passes_none() {
    if !sdd_verify::testing::pytest_available() {
        return;
    }
    let dir = sdd_verify::testing::fidelity_project().unwrap();
    let report = run(dir.path(), "python").await;
    assert_eq!(
        verdicts(&report),
        expect(&[
            ("post_an_entry", Passing),
            ("reverse_an_entry", Failing),
            ("archive_a_period", Skipped),
            ("round_half_even", Skipped),
            ("close_a_period", Passing),
            ("open_an_account", Failing),
            ("convert_currency", Failing),
            ("validate_entries", Failing),
            ("sum_a_period", Failing),
            ("post_an_overflowing_entry", NoTest),
            ("export_a_period", NoTest),
            ("audit_a_period", NoTest),
            ("refund", NoTest),
        ]),
        "{report:#?}"
    );
    // A parameter ID that equals a short scenario ID does not map the test to it.
    assert!(report
        .traceability
        .unmapped_tests
        .iter()
        .any(|t| t.contains("test_helper_parsing[refund]")));
    // Without `-v`, pytest names no passing test: nothing passes, nothing lacks a test.
    let quiet = run(dir.path(), "python-quiet").await;
    let v = verdicts(&quiet);
    assert!(v.values().all(|v| !matches!(v, Passing | NoTest)), "{v:#?}");
    assert_eq!(v["post_an_entry"], NotRun);
    assert_eq!(v["validate_entries"], Failing);
    assert!(
        quiet
            .problems
            .iter()
            .any(|p| p.contains("do not reconcile") && p.contains("-v -ra")),
        "{:?}",
        quiet.problems
    );
    assert!(!quiet.ok);
    // `-x` stops at the first failure: pytest's final line counts only what ran, but it
    // collected more.
    let first = run(dir.path(), "python-first-failure").await;
    let v = verdicts(&first);
    assert!(v.values().all(|v| !matches!(v, Passing | NoTest)), "{v:#?}");
    assert!(
        first
            .problems
            .iter()
            .any(|p| p.contains("collected 13 test(s) to run")),
        "{:?}",
        first.problems
    );
}

/// Without `--no-fail-fast`, cargo stops at the first test binary that fails: the binaries
/// after it never run, and no scenario may read as passing or without a test.
#[tokio::test]
async fn cargo_stopping_early_passes_no_scenario() {
    let dir = sdd_verify::testing::fidelity_project().unwrap();
    let report = run(dir.path(), "rust-fail-fast").await;
    let v = verdicts(&report);
    assert!(v.values().all(|v| !matches!(v, Passing | NoTest)), "{v:#?}");
    assert!(
        report.problems.iter().any(|p| p.contains("--no-fail-fast")),
        "{:?}",
        report.problems
    );
}

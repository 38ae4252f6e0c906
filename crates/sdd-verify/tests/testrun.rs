//! Test runs for real on the inventory fixture (Rust and Python): cargo and pytest run, their
//! results map to scenarios, a hanging run is killed with everything it started, a broken
//! results file is reported, and the history flags a regression.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use sdd_verify::history::History;
use sdd_verify::process::{Exit, Supervisor};
use sdd_verify::testrun::{run_tests, TestRunReport, TestRunRequest};
use sdd_verify::trace::ScenarioVerdict;

fn project() -> tempfile::TempDir {
    sdd_verify::testing::inventory_project().unwrap()
}

fn supervisor() -> Supervisor {
    Supervisor {
        program: PathBuf::from(env!("CARGO_BIN_EXE_sdd-supervise")),
        args: vec![],
    }
}

async fn run(
    root: &Path,
    profile: &str,
    filter: Option<&str>,
    history: &Mutex<Option<History>>,
) -> TestRunReport {
    let project = sdd_spec::project::load_project_file(root).unwrap();
    let spec = sdd_spec::load::load_dir(&root.join(&project.specs))
        .unwrap()
        .spec;
    run_tests(TestRunRequest {
        root,
        profile_name: profile,
        profile: &project.tests[profile],
        filter,
        spec: &spec,
        supervisor: &supervisor(),
        history: Some(history),
    })
    .await
    .unwrap()
}

fn verdicts(report: &TestRunReport) -> Vec<(String, ScenarioVerdict)> {
    report
        .traceability
        .scenarios
        .iter()
        .map(|s| (s.scenario_id.clone(), s.verdict))
        .collect()
}

fn expected() -> Vec<(String, ScenarioVerdict)> {
    [
        ("inventory.add_an_item", ScenarioVerdict::Passing),
        (
            "inventory.remove_more_than_in_stock",
            ScenarioVerdict::Failing,
        ),
        ("inventory.bulk_import", ScenarioVerdict::Skipped),
        ("inventory.reserve_stock", ScenarioVerdict::NoTest),
    ]
    .into_iter()
    .map(|(id, v)| (id.to_string(), v))
    .collect()
}

fn python_available() -> bool {
    sdd_verify::testing::pytest_available()
}

#[tokio::test]
async fn cargo_and_pytest_trace_the_same_spec() {
    let dir = project();
    let history = Mutex::new(Some(History::open(dir.path()).unwrap()));
    let mut profiles = vec!["rust", "python-junit"];
    if python_available() {
        profiles.push("python");
    }
    for profile in profiles {
        let report = run(dir.path(), profile, None, &history).await;
        assert_eq!(verdicts(&report), expected(), "{profile}: {report:#?}");
        assert_eq!(
            report.exit,
            Exit::Code {
                code: if profile == "rust" { 101 } else { 1 }
            },
            "{profile}"
        );
        assert!(!report.ok);
        assert_eq!(report.traceability.unmapped_tests.len(), 1, "{profile}");
        assert!(report.traceability.unmapped_tests[0].contains("sku_parsing_helper"));
        assert_eq!(report.failures.len(), 1);
        let failure = &report.failures[0];
        assert_eq!(
            failure.scenario_id.as_deref(),
            Some("inventory.remove_more_than_in_stock")
        );
        let message = failure.message.as_deref().unwrap_or_default();
        assert!(
            message.contains("removing 5 of 2 must fail") || message.contains("DID NOT RAISE"),
            "{profile}: {message}"
        );
        assert!(
            report.problems.is_empty(),
            "{profile}: {:?}",
            report.problems
        );
        assert!(report.run_id.is_some());
    }
}

#[tokio::test]
async fn a_filter_runs_a_subset_and_a_fix_is_seen_as_newly_passing() {
    let dir = project();
    let history = Mutex::new(Some(History::open(dir.path()).unwrap()));
    let before = run(dir.path(), "rust", Some("remove_more"), &history).await;
    assert_eq!(before.tests.total, 1);
    assert_eq!(before.traceability.summary.not_run, 3);
    // Fix the bug, run again: the scenario passes and nothing regressed.
    let lib = dir.path().join("rust/src/lib.rs");
    let fixed = std::fs::read_to_string(&lib).unwrap().replace(
        "*have = have.saturating_sub(units);\n        Ok(())",
        "if *have < units {\n            return Err(\"insufficient stock\".into());\n        }\n        *have -= units;\n        Ok(())",
    );
    std::fs::write(&lib, fixed).unwrap();
    let after = run(dir.path(), "rust", Some("remove_more"), &history).await;
    assert_eq!(after.tests.failed, 0, "{after:#?}");
    assert!(after.ok);
    assert!(after.regressions.is_empty());
    let history = history.lock().unwrap();
    let cmp = history
        .as_ref()
        .unwrap()
        .compare(before.run_id.unwrap(), after.run_id.unwrap())
        .unwrap();
    assert_eq!(cmp.newly_passing.len(), 1);
    assert_eq!(
        cmp.newly_passing[0].subject,
        "inventory.remove_more_than_in_stock"
    );
}

#[tokio::test]
async fn a_hanging_run_is_killed_with_its_children() {
    if !python_available() {
        return;
    }
    let dir = project();
    let history = Mutex::new(Some(History::open(dir.path()).unwrap()));
    let report = run(dir.path(), "hang", None, &history).await;
    assert!(matches!(report.exit, Exit::TimedOut { .. }), "{report:#?}");
    assert!(
        report.problems[0].contains("timeout"),
        "{:?}",
        report.problems
    );
    let pids = std::fs::read_to_string(dir.path().join("hang/pids")).unwrap();
    for pid in pids.split_whitespace() {
        assert!(
            !sdd_verify::testing::process_alive(pid),
            "process {pid} survived the timeout"
        );
    }
}

#[tokio::test]
async fn broken_results_are_problems() {
    let dir = project();
    let history = Mutex::new(Some(History::open(dir.path()).unwrap()));
    let report = run(dir.path(), "broken-results", None, &history).await;
    assert!(!report.ok);
    assert!(
        report.problems.iter().any(|p| p.contains("JUnit")),
        "{:?}",
        report.problems
    );
    assert_eq!(report.traceability.summary.no_test, 4);
}

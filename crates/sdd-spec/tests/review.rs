//! The defects a careful reviewer catches, planted in a spec no analysis was written against
//! (tests/data/review/planted), and its healthy twin (tests/data/review/healthy) on which
//! every check must stay quiet. Each planted defect is pinned by code, file and line.

use std::path::{Path, PathBuf};

use sdd_spec::analysis::validate::validate;
use sdd_spec::load_dir;

fn data(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/review")
        .join(dir)
}

/// (code, file:line) of every finding, sorted.
fn findings(dir: &str) -> Vec<(String, String)> {
    let loaded = load_dir(&data(dir)).unwrap();
    let report = validate(&loaded.spec, &loaded.diagnostics);
    let mut found: Vec<(String, String)> = report
        .diagnostics
        .iter()
        .map(|d| {
            (
                d.code.clone(),
                format!(
                    "{}:{}",
                    d.file.as_deref().unwrap_or("?"),
                    d.line.unwrap_or(0)
                ),
            )
        })
        .collect();
    found.sort();
    found
}

#[test]
fn every_planted_defect_is_found_where_it_is_written() {
    let found = findings("planted");
    let expected: &[(&str, &str)] = &[
        // Constraints against each other.
        ("conflicting-rate-limit", "accounts.yaml:11"),
        ("impossible-value", "lending.yaml:29"),
        ("latency-out-of-order", "lending.yaml:25"),
        // Where the dependency is written, not the domain's first line.
        ("dependency-cycle", "lending.yaml:6"),
        // Kept in the model and marked, and linted at the sentence itself.
        ("duplicate-id", "loans.yaml:52"),
        ("unobservable-then", "loans.yaml:57"),
        // Interactions against their participants.
        ("budget-exceeded", "disbursement.yaml:13"),
        ("unknown-step-actor", "disbursement.yaml:9"),
        // Scenarios against each other and against constraints.
        ("contradicting-outcomes", "loans.yaml:17"),
        ("contradicts-auth", "loans.yaml:23"),
        ("contradicts-limit", "loans.yaml:33"),
        ("contradicts-ownership", "loans.yaml:38"),
        ("contradicts-rate-limit", "loans.yaml:28"),
        ("contradicts-time-bound", "loans.yaml:43"),
    ];
    let mut expected: Vec<(String, String)> = expected
        .iter()
        .map(|(c, at)| (c.to_string(), at.to_string()))
        .collect();
    expected.sort();
    assert_eq!(found, expected);
    // Nothing written is dropped: the duplicate is counted with the rest.
    let loaded = load_dir(&data("planted")).unwrap();
    assert_eq!(loaded.spec.scenarios_in("loans").count(), 9);
}

#[test]
fn the_healthy_twin_raises_nothing() {
    assert_eq!(findings("healthy"), Vec::<(String, String)>::new());
}

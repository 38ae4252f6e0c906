//! Generated suites run in the real test runners: every generated test is collected, fails (no
//! fake passes), and the runner's report names map back to the scenario IDs.

use std::path::Path;
use std::process::Command;

use sdd_spec::ids::scenario_for_test_name;
use sdd_spec::testgen::{generate_suite, Framework, GenerateOptions};

fn example() -> sdd_spec::Spec {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/task_manager/specs");
    sdd_spec::load_dir(&root).unwrap().spec
}

/// The python that has pytest: `SDD_PYTHON` (set by CI), else `python3` if it can import pytest.
fn python_with_pytest() -> Option<String> {
    let candidates = std::env::var("SDD_PYTHON")
        .into_iter()
        .chain(["python3".to_string()]);
    for python in candidates {
        let ok = Command::new(&python)
            .args(["-m", "pytest", "--version"])
            .output()
            .is_ok_and(|o| o.status.success());
        if ok {
            return Some(python);
        }
    }
    None
}

#[test]
fn pytest_collects_every_generated_test_and_each_fails_with_a_recoverable_name() {
    let Some(python) = python_with_pytest() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must provide pytest (SDD_PYTHON)"
        );
        eprintln!("skipped: no python with pytest here; set SDD_PYTHON");
        return;
    };
    let spec = example();
    let suite = generate_suite(&spec, Framework::Pytest, &GenerateOptions::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("test_generated.py"), &suite.code).unwrap();
    std::fs::write(
        dir.path().join("pytest.ini"),
        "[pytest]\nmarkers =\n    sdd_scenario(id): the scenario a test verifies\n",
    )
    .unwrap();
    let output = Command::new(python)
        .args([
            "-m",
            "pytest",
            "-q",
            "-rf",
            "-p",
            "no:cacheprovider",
            "--junitxml=report.xml",
        ])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "generated tests must fail until implemented:\n{stdout}"
    );
    assert!(
        stdout.contains(&format!("{} failed", suite.tests.len())),
        "{stdout}"
    );
    let report = std::fs::read_to_string(dir.path().join("report.xml")).unwrap();
    let ids: Vec<(&str, &str)> = spec
        .scenarios
        .iter()
        .map(|s| (s.id.as_str(), s.domain.as_str()))
        .collect();
    for test in &suite.tests {
        let name_attr = format!("name=\"{}\"", test.test_name);
        assert!(
            report.contains(&name_attr),
            "{} missing from JUnit report",
            test.test_name
        );
        assert_eq!(
            scenario_for_test_name(&test.test_name, ids.iter().copied()),
            Some(test.scenario_id.as_str())
        );
    }
}

#[test]
fn cargo_runs_the_generated_rust_suite_and_reports_every_test_failed() {
    let spec = example();
    let suite = generate_suite(&spec, Framework::Cargo, &GenerateOptions::default());
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"generated\"\nversion = \"0.0.0\"\nedition = \"2021\"\n\n[workspace]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "").unwrap();
    std::fs::write(dir.path().join("tests/sdd_scenarios.rs"), &suite.code).unwrap();
    let output = Command::new(env!("CARGO"))
        .args(["test", "--offline", "--quiet", "--test", "sdd_scenarios"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        !output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains(&format!("0 passed; {} failed", suite.tests.len())),
        "{stdout}"
    );
    let ids: Vec<(&str, &str)> = spec
        .scenarios
        .iter()
        .map(|s| (s.id.as_str(), s.domain.as_str()))
        .collect();
    for test in &suite.tests {
        assert!(
            stdout.contains(&format!("    {}\n", test.test_name)),
            "{} not in the failure list:\n{stdout}",
            test.test_name
        );
        assert_eq!(
            scenario_for_test_name(&test.test_name, ids.iter().copied()),
            Some(test.scenario_id.as_str())
        );
    }
}

//! Benchmark: reading a large test run — JUnit XML and pytest output with 100,000 test cases —
//! and mapping it to 10,000 scenarios. Prints the median of several runs per phase (wall clock,
//! this machine; not asserted).
//!
//! `cargo bench -p sdd-verify --bench results`. Set `SDD_BENCH_DIR=DIR` to keep the generated
//! JUnit file there (scripts/bench-verify.sh does, to time Python's JUnit readers on it).

use std::time::{Duration, Instant};

use sdd_results::{parse_output, ResultsFormat};

const TESTS: usize = 100_000;
const SCENARIOS: usize = 10_000;
const RUNS: usize = 7;

fn test_name(i: usize) -> String {
    let scenario = i % SCENARIOS;
    format!(
        "test_sdd_domain_{:02}_scenario_{scenario:05}_case_{i}",
        scenario % 50
    )
}

fn junit() -> String {
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<testsuites>\n<testsuite name=\"bench\" tests=\"100000\">\n",
    );
    for i in 0..TESTS {
        let name = test_name(i);
        if i % 20 == 0 {
            xml.push_str(&format!(
                "<testcase classname=\"tests.test_domain\" name=\"{name}\" time=\"0.010\"><failure message=\"AssertionError: expected 201, got 500 &amp; more\">def {name}():\n&gt;       assert response.status == 201\nE       AssertionError: expected 201, got 500\n\ntests/test_domain.py:{i}: AssertionError</failure><system-out>log line 1\nlog line 2\n</system-out></testcase>\n"
            ));
        } else if i % 50 == 1 {
            xml.push_str(&format!(
                "<testcase classname=\"tests.test_domain\" name=\"{name}\" time=\"0\"><skipped message=\"not yet\"/></testcase>\n"
            ));
        } else {
            xml.push_str(&format!(
                "<testcase classname=\"tests.test_domain\" name=\"{name}\" time=\"0.002\"/>\n"
            ));
        }
    }
    xml.push_str("</testsuite>\n</testsuites>\n");
    xml
}

fn pytest_verbose() -> String {
    let mut out = String::from(
        "============================= test session starts ==============================\n",
    );
    for i in 0..TESTS {
        let status = if i % 20 == 0 { "FAILED" } else { "PASSED" };
        out.push_str(&format!(
            "tests/test_domain.py::{} {status}            [ 50%]\n",
            test_name(i)
        ));
    }
    out.push_str(
        "=================================== FAILURES ===================================\n",
    );
    for i in (0..TESTS).step_by(20) {
        out.push_str(&format!(
            "____ {} ____\n\n    def test():\n>       assert 1 == 2\nE       assert 1 == 2\n\ntests/test_domain.py:9: AssertionError\n",
            test_name(i)
        ));
    }
    // `-ra`'s summary, a line per failure, and pytest's final line, which is reconciled.
    out.push_str(
        "=========================== short test summary info ============================\n",
    );
    for i in (0..TESTS).step_by(20) {
        out.push_str(&format!(
            "FAILED tests/test_domain.py::{} - assert 1 == 2\n",
            test_name(i)
        ));
    }
    let failed = TESTS.div_ceil(20);
    out.push_str(&format!(
        "============ {failed} failed, {} passed in 812.00s (0:13:32) ============\n",
        TESTS - failed
    ));
    out
}

fn spec() -> sdd_spec::model::Spec {
    let mut sources = Vec::new();
    for d in 0..50 {
        let mut yaml = format!("domain: domain_{d:02}\nscenarios:\n");
        for s in (d..SCENARIOS).step_by(50) {
            yaml.push_str(&format!(
                "  - {{id: domain_{d:02}.scenario_{s:05}, name: Scenario {s}, when: I do {s}, then: [\"{s}\"]}}\n"
            ));
        }
        sources.push((format!("d{d}.yaml"), yaml));
    }
    sdd_spec::load::load_sources(&sources).spec
}

fn time<T>(label: &str, mut f: impl FnMut() -> T) -> T {
    let mut samples: Vec<Duration> = Vec::new();
    let mut last = None;
    for _ in 0..RUNS {
        let start = Instant::now();
        let out = f();
        samples.push(start.elapsed());
        last = Some(out);
    }
    samples.sort();
    println!(
        "  {label:<46} {:8.1} ms  (median of {RUNS})",
        samples[RUNS / 2].as_secs_f64() * 1e3
    );
    last.expect("at least one run")
}

fn main() {
    let junit = junit();
    let pytest = pytest_verbose();
    if let Ok(dir) = std::env::var("SDD_BENCH_DIR") {
        std::fs::create_dir_all(&dir).expect("bench dir");
        std::fs::write(format!("{dir}/junit.xml"), &junit).expect("write junit");
    }
    println!(
        "sdd-verify: {TESTS} test cases ({:.1} MB JUnit, {:.1} MB pytest -v), {SCENARIOS} scenarios",
        junit.len() as f64 / 1e6,
        pytest.len() as f64 / 1e6
    );
    let parsed = time("parse JUnit XML", || {
        parse_output(ResultsFormat::Junit, &junit)
    });
    assert_eq!(parsed.cases.len(), TESTS);
    let parsed_py = time("parse pytest -v output", || {
        parse_output(ResultsFormat::Pytest, &pytest)
    });
    assert_eq!(parsed_py.cases.len(), TESTS);
    assert_eq!(
        parsed_py.reconciliation.status,
        sdd_results::ReconcileStatus::Agrees,
        "{:?}",
        parsed_py.reconciliation
    );
    let spec = spec();
    let trace = time("map 100,000 results to 10,000 scenarios", || {
        sdd_results::trace::trace(
            &spec,
            &parsed.cases,
            sdd_results::trace::RunShape::default(),
        )
    });
    assert_eq!(trace.summary.approved_scenarios, SCENARIOS);
    assert_eq!(trace.summary.unmapped_tests, 0);
    println!(
        "  scenarios: {} passing, {} failing, {} skipped",
        trace.summary.passing, trace.summary.failing, trace.summary.skipped
    );
}

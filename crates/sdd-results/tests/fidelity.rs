//! Test-result fidelity on outputs recorded from the real runners (`tests/data/results/*-fidelity*`,
//! from the fixture project `crates/sdd-verify/tests/fixtures/fidelity`; versions in the file
//! names and the README there): every test the runner reported is read once, with its outcome
//! and the assertion's own message, and the counts read equal the runner's own summary — or the
//! difference is reported, and then no scenario of the run can be passing.
//!
//! `cargo test -p sdd-results --test fidelity -- --nocapture table` prints the runner × format ×
//! counts table of the closing note.

use std::path::Path;

use sdd_results::trace::{trace, RunShape, ScenarioVerdict};
use sdd_results::{parse_output, Outcome, ParsedResults, ReconcileStatus, ResultsFormat};

fn data(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/results")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What `run_tests` gives the parser: stdout, then stderr for the runners that write there.
fn cargo_output() -> String {
    format!(
        "{}\n{}",
        data("cargo-1.95.0-fidelity.stdout.txt"),
        data("cargo-1.95.0-fidelity.stderr.txt")
    )
}

struct Recording {
    file: &'static str,
    format: ResultsFormat,
    text: fn() -> String,
    /// Whether the runner was asked to list every test (`-v -ra`, `--status-level skip`): then
    /// the counts must agree, else the difference must be reported.
    lists_everything: bool,
}

macro_rules! recording {
    ($file:literal, $format:ident, $lists:expr) => {
        Recording {
            file: $file,
            format: ResultsFormat::$format,
            text: || data($file),
            lists_everything: $lists,
        }
    };
}

fn recordings() -> Vec<Recording> {
    vec![
        recording!("pytest-9.2.0-fidelity-v-ra.txt", Pytest, true),
        recording!("pytest-9.2.0-fidelity-v-rA.txt", Pytest, true),
        recording!("pytest-9.2.0-fidelity-ra.txt", Pytest, false),
        recording!("pytest-9.2.0-fidelity-junit.xml", Junit, true),
        Recording {
            file: "cargo-1.95.0-fidelity.{stdout,stderr}.txt",
            format: ResultsFormat::Libtest,
            text: cargo_output,
            lists_everything: true,
        },
        recording!("nextest-0.9.143-fidelity-skip.txt", Nextest, true),
        recording!("nextest-0.9.143-fidelity.txt", Nextest, false),
        recording!("nextest-0.9.143-fidelity-junit.xml", Junit, true),
        recording!("go1.19.8-fidelity-test-json.jsonl", GoJson, true),
        recording!(
            "go1.19.8-fidelity-build-failed-test-json.jsonl",
            GoJson,
            true
        ),
        recording!("jest-30.5.2-fidelity.json", JestJson, true),
        recording!("vitest-4.1.12-fidelity.json", JestJson, true),
    ]
}

fn parse(recording: &Recording) -> ParsedResults {
    parse_output(recording.format, &(recording.text)())
}

fn case<'a>(parsed: &'a ParsedResults, name: &str) -> &'a sdd_results::TestCase {
    let found: Vec<_> = parsed.cases.iter().filter(|c| c.name == name).collect();
    assert_eq!(found.len(), 1, "{name}: {:#?}", parsed.cases);
    found[0]
}

fn outcome(parsed: &ParsedResults, name: &str) -> Outcome {
    case(parsed, name).outcome
}

fn message(parsed: &ParsedResults, name: &str) -> String {
    case(parsed, name).message.clone().unwrap_or_default()
}

/// The runner × format × counts table: what the runner said beside what was read.
#[test]
fn table() {
    println!("| recording | format | runner's counts | counts read | agrees |");
    println!("|---|---|---|---|---|");
    let show = |counts: &[sdd_results::Count]| {
        counts
            .iter()
            .map(|c| format!("{} {}", c.n, c.what))
            .collect::<Vec<_>>()
            .join(", ")
    };
    for recording in recordings() {
        let parsed = parse(&recording);
        let r = &parsed.reconciliation;
        println!(
            "| `{}` | {:?} | {} | {} | {:?}{} |",
            recording.file,
            recording.format,
            show(&r.runner),
            show(&r.parsed),
            r.status,
            if parsed.crashed.is_empty() {
                String::new()
            } else {
                format!(", {} crashed binary", parsed.crashed.len())
            }
        );
    }
}

/// Where the runner was asked to list every test, the counts read agree with its summary
/// (apart from what a crash or a broken file leaves unknown, which is a difference); where it
/// was not, the difference is reported, naming the flag that lists everything.
#[test]
fn counts_read_reconcile_with_the_runners_own_summary() {
    for recording in recordings() {
        let parsed = parse(&recording);
        let r = &parsed.reconciliation;
        let expected = match recording.file {
            // A test file that threw at import time; a package that did not build.
            "jest-30.5.2-fidelity.json"
            | "vitest-4.1.12-fidelity.json"
            | "go1.19.8-fidelity-build-failed-test-json.jsonl"
            | "go1.19.8-fidelity-test-json.jsonl" => ReconcileStatus::Differs,
            _ if recording.lists_everything => ReconcileStatus::Agrees,
            _ => ReconcileStatus::Differs,
        };
        assert_eq!(r.status, expected, "{}: {r:#?}", recording.file);
        if expected == ReconcileStatus::Agrees {
            assert_eq!(r.runner, r.parsed, "{}", recording.file);
        } else {
            assert!(!r.differences.is_empty(), "{}", recording.file);
            assert!(
                parsed
                    .problems
                    .iter()
                    .any(|p| p.contains("do not reconcile")),
                "{}: {:?}",
                recording.file,
                parsed.problems
            );
        }
    }
    let quiet = parse(&recordings()[2]);
    assert!(
        quiet.reconciliation.differences[0].contains("says 4 passed, but 0 were read")
            && quiet.reconciliation.fix.contains("`-v -ra`"),
        "{:?}",
        quiet.reconciliation
    );
    let nextest = parse(&recordings()[6]);
    assert!(
        nextest.reconciliation.differences[0].contains("says 2 skipped, but 0 were read")
            && nextest.problems[0].contains("--status-level skip"),
        "{:?}",
        nextest.problems
    );
}

#[test]
fn pytest_subtests_fail_their_parent() {
    for file in [0, 1] {
        let parsed = parse(&recordings()[file]);
        // pytest 9's `subtests` fixture: the parent is printed FAILED, the subtest SUBFAILED.
        let native = "test_ledger.py::test_sdd_ledger_validate_entries";
        assert_eq!(outcome(&parsed, native), Outcome::Failed);
        assert_eq!(
            message(&parsed, native),
            "subtest [amount] (amount=-1) failed: AssertionError: negative amount -1\nassert -1 > 0"
        );
        // unittest's `self.subTest`: the parent is printed PASSED.
        let unittest = "test_unittest_style.py::LedgerTotals::test_sdd_ledger_sum_a_period";
        assert_eq!(outcome(&parsed, unittest), Outcome::Failed);
        assert_eq!(
            message(&parsed, unittest),
            "subtest (total=11) failed: AssertionError: 1 != 0 : odd total 11"
        );
    }
    // In JUnit, a failing subtest is a `<failure>` of its parent.
    let junit = parse(&recordings()[3]);
    assert_eq!(
        outcome(
            &junit,
            "test_unittest_style.LedgerTotals::test_sdd_ledger_sum_a_period"
        ),
        Outcome::Failed
    );
}

#[test]
fn pytest_parameter_ids_with_dashes_are_one_test() {
    for file in [0, 1, 2] {
        let parsed = parse(&recordings()[file]);
        assert!(
            !parsed
                .cases
                .iter()
                .any(|c| c.name.ends_with("[3") || c.name.ends_with("[4")),
            "{:#?}",
            parsed.cases
        );
        let failed = "test_ledger.py::test_sdd_ledger_convert_currency[3 - refund]";
        assert_eq!(outcome(&parsed, failed), Outcome::Failed);
        assert_eq!(
            message(&parsed, failed),
            "AssertionError: odd amount 3\nassert (3 % 2) == 0"
        );
    }
}

#[test]
fn pytest_outcomes_and_messages_come_from_the_assertion() {
    let parsed = parse(&recordings()[0]);
    let expected: &[(&str, Outcome, &str)] = &[
        (
            "test_ledger.py::test_sdd_ledger_post_an_entry",
            Outcome::Passed,
            "",
        ),
        // The summary line cuts it at 80 columns; the section has it whole.
        (
            "test_ledger.py::test_sdd_ledger_reverse_an_entry",
            Outcome::Failed,
            "AssertionError: assert 'the reversal...e amount only' == 'the reversal... posting date'\n- the reversal entry must carry the original entry's amount, currency and posting date\n+ the reversal entry carries the amount only",
        ),
        (
            "test_ledger.py::test_sdd_ledger_archive_a_period",
            Outcome::Skipped,
            "archive no...",
        ),
        (
            "test_ledger.py::test_sdd_ledger_round_half_even",
            Outcome::Skipped,
            "rounding is known to be wrong",
        ),
        (
            "test_ledger.py::test_sdd_ledger_close_a_period",
            Outcome::Passed,
            "was broken, now fixed",
        ),
        (
            "test_ledger.py::test_sdd_ledger_open_an_account",
            Outcome::Failed,
            "RuntimeError: database fixture could not connect",
        ),
        // Same name in two files: each its own message and excerpt.
        (
            "sub/test_other.py::test_same_name",
            Outcome::Failed,
            "AssertionError: the ledger in sub/test_other.py\nassert 'other' == 'books'\n- books\n+ other",
        ),
        (
            "test_ledger.py::test_same_name",
            Outcome::Failed,
            "AssertionError: the ledger in test_ledger.py\nassert 'ledger' == 'books'\n- books\n+ ledger",
        ),
    ];
    for (name, want_outcome, want_message) in expected {
        assert_eq!(outcome(&parsed, name), *want_outcome, "{name}");
        assert_eq!(message(&parsed, name), *want_message, "{name}");
    }
    for (name, file) in [
        ("sub/test_other.py::test_same_name", "sub/test_other.py:6"),
        ("test_ledger.py::test_same_name", "test_ledger.py:65"),
    ] {
        let excerpt = case(&parsed, name).excerpt.clone().unwrap_or_default();
        assert!(excerpt.contains(file), "{name}: {excerpt}");
    }
    assert_eq!(parsed.cases.len(), 13, "{:#?}", parsed.cases);
}

#[test]
fn libtest_should_panic_and_a_crashed_binary() {
    let parsed = parse(&recordings()[4]);
    let expected: &[(&str, Outcome, &str)] = &[
        ("tests::sdd_ledger_post_an_entry", Outcome::Passed, ""),
        (
            "tests::sdd_ledger_reverse_an_entry",
            Outcome::Failed,
            "assertion `left == right` failed: a reversal must take the amount back\nleft: 20\nright: 10",
        ),
        (
            "tests::sdd_ledger_post_an_overflowing_entry",
            Outcome::Passed,
            "",
        ),
        (
            "tests::sdd_ledger_close_a_period",
            Outcome::Failed,
            "test did not panic as expected at src/lib.rs:62:8",
        ),
        (
            "tests::sdd_ledger_open_an_account",
            Outcome::Failed,
            "panic did not contain expected string: panic message: \"account store unavailable\", expected substring: \"period has open entries\"",
        ),
        (
            "tests::sdd_ledger_round_half_even",
            Outcome::Skipped,
            "rounding rules not agreed yet",
        ),
        ("sdd_ledger_convert_currency", Outcome::Passed, ""),
        (
            "sdd_ledger_validate_entries",
            Outcome::Failed,
            "crashed its test binary: stack overflow, aborting; signal: 6, SIGABRT: process abort signal",
        ),
        ("sdd_ledger_export_a_period", Outcome::Passed, ""),
        (
            "src/lib.rs - reverse (line 15)",
            Outcome::Failed,
            "assertion `left == right` failed\nleft: 20\nright: 10",
        ),
    ];
    for (name, want_outcome, want_message) in expected {
        assert_eq!(outcome(&parsed, name), *want_outcome, "{name}");
        assert_eq!(message(&parsed, name), *want_message, "{name}");
    }
    let crash = &parsed.crashed[0];
    assert_eq!(crash.binary.as_deref(), Some("tests/crash.rs"));
    assert_eq!(
        crash.crashed_test.as_deref(),
        Some("sdd_ledger_validate_entries")
    );
    assert_eq!((crash.tests, crash.reported), (Some(3), 1));
    assert!(crash
        .executable
        .as_deref()
        .unwrap()
        .starts_with("/fixture/rust/target/debug/deps/crash-"));
    // `sdd_ledger_sum_a_period` never reported: unknown until the binary lists its tests.
    assert!(!parsed.is_complete());
}

#[test]
fn nextest_messages_come_from_the_assertion() {
    for file in [5, 7] {
        let parsed = parse(&recordings()[file]);
        // nextest's text and its JUnit name a test alike: `binary::test`.
        let name = |test: &str| format!("ledger-fixture::{test}");
        let expected: &[(&str, Outcome, &str)] = &[
            (
                "tests::sdd_ledger_reverse_an_entry",
                Outcome::Failed,
                "assertion `left == right` failed: a reversal must take the amount back\nleft: 20\nright: 10",
            ),
            (
                "tests::sdd_ledger_close_a_period",
                Outcome::Failed,
                "test did not panic as expected at src/lib.rs:62:8",
            ),
            (
                "tests::sdd_ledger_open_an_account",
                Outcome::Failed,
                "panic did not contain expected string: panic message: \"account store unavailable\", expected substring: \"period has open entries\"",
            ),
        ];
        for (test, want_outcome, want_message) in expected {
            let test = name(test);
            assert_eq!(outcome(&parsed, &test), *want_outcome, "{file}: {test}");
            assert_eq!(message(&parsed, &test), *want_message, "{file}: {test}");
        }
        let crashed = "ledger-fixture::crash::sdd_ledger_validate_entries";
        assert_eq!(outcome(&parsed, crashed), Outcome::Failed);
        assert!(
            message(&parsed, crashed).contains("has overflowed its stack")
                || message(&parsed, crashed).contains("SIGABRT"),
            "{}",
            message(&parsed, crashed)
        );
    }
    // nextest's JUnit leaves ignored tests out: no scenario may read `no_test` from it.
    assert!(parse(&recordings()[7]).skips_unlisted);
}

#[test]
fn go_a_panic_leaves_tests_not_run_and_a_build_failure_is_told() {
    let parsed = parse(&recordings()[8]);
    assert_eq!(
        outcome(
            &parsed,
            "example.com/ledger/ledger::Test_sdd_ledger_sum_a_period"
        ),
        Outcome::NotRun
    );
    assert_eq!(
        parsed.crashed[0].crashed_test.as_deref(),
        Some("example.com/ledger/ledger::Test_sdd_ledger_open_an_account")
    );
    assert!(!parsed.is_complete());
    let broken = parse(&recordings()[9]);
    assert!(
        broken
            .reconciliation
            .differences
            .iter()
            .any(|d| d.contains("example.com/ledger/broken did not build")),
        "{:#?}",
        broken.reconciliation
    );
}

#[test]
fn jest_same_names_stay_apart_and_a_broken_file_is_a_difference() {
    for file in [10, 11] {
        let parsed = parse(&recordings()[file]);
        let same: Vec<_> = parsed
            .cases
            .iter()
            .filter(|c| c.name == "same name")
            .collect();
        assert_eq!(same.len(), 2, "{file}");
        assert!(same.iter().any(|c| c.outcome == Outcome::Failed));
        assert!(parsed
            .reconciliation
            .differences
            .iter()
            .any(|d| d.contains("broken.test.js")));
    }
}

/// The promise end to end: on a run whose results do not reconcile (or whose binary crashed
/// with tests unknown), no scenario is passing and none is told it has no test.
#[test]
fn a_run_that_does_not_reconcile_never_passes_a_scenario() {
    let spec = sdd_spec::load::load_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdd-verify/tests/fixtures/fidelity/specs"),
    )
    .unwrap()
    .spec;
    for recording in recordings() {
        let parsed = parse(&recording);
        let shape = RunShape::of(&parsed, false);
        let traced = trace(&spec, &parsed.cases, shape);
        if parsed.is_complete() {
            continue;
        }
        for s in &traced.scenarios {
            assert!(
                !matches!(
                    s.verdict,
                    ScenarioVerdict::Passing | ScenarioVerdict::NoTest
                ),
                "{}: {} is {:?}",
                recording.file,
                s.scenario_id,
                s.verdict
            );
        }
    }
}

/// Every prefix of every recording, and a few corruptions, parse without a panic.
#[test]
fn cut_and_corrupt_recordings_never_panic() {
    for recording in recordings() {
        let text = (recording.text)();
        let boundaries: Vec<usize> = (0..text.len())
            .filter(|i| text.is_char_boundary(*i))
            .step_by(5)
            .collect();
        for end in boundaries {
            let parsed = parse_output(recording.format, &text[..end]);
            // A cut run never vouches for more than it holds, where the runner's summary
            // comes last (a libtest binary cut after its last result line, or a JUnit or go
            // report cut after its last test, hold every test).
            let summary_at = match recording.format {
                ResultsFormat::Pytest => text.rfind(" failed, "),
                ResultsFormat::Nextest => text.rfind("Summary ["),
                _ => None,
            };
            if summary_at.is_some_and(|at| end < at) {
                assert!(
                    !parsed.is_complete(),
                    "{} cut at {end} reads as complete",
                    recording.file
                );
            }
        }
        for corrupt in [
            text.replace(']', ""),
            text.replace('[', "]"),
            text.replace(" - ", "]"),
            text.replace('"', ""),
        ] {
            let _ = parse_output(recording.format, &corrupt);
        }
    }
}

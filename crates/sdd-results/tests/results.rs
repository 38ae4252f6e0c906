//! The parsers on outputs produced by the real tools (files under `tests/data/results/`, named
//! with the tool and its version; they come from the fixture project in
//! `tests/fixtures/inventory/`). Every format must find the same four tests with the same
//! outcomes and explain the failure.

use std::path::Path;

use sdd_results::{parse_path, Outcome, ResultsFormat};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/results")
        .join(name)
}

/// (file, format, expected (name suffix, outcome), text expected in the failure's message)
const CASES: &[(&str, ResultsFormat, bool, &str)] = &[
    (
        "cargo-1.95.0-libtest.txt",
        ResultsFormat::Libtest,
        true,
        "removing 5 of 2 must fail",
    ),
    (
        "nextest-0.9.143.txt",
        ResultsFormat::Nextest,
        true,
        "removing 5 of 2 must fail",
    ),
    // nextest's JUnit leaves ignored tests out.
    (
        "nextest-0.9.143-junit.xml",
        ResultsFormat::Junit,
        false,
        "panicked at src/lib.rs:42:9",
    ),
    (
        "pytest-9.2.0-v-rA.txt",
        ResultsFormat::Pytest,
        true,
        "DID NOT RAISE ValueError",
    ),
    (
        "pytest-9.2.0-junit.xml",
        ResultsFormat::Junit,
        true,
        "DID NOT RAISE ValueError",
    ),
    (
        "go1.19.8-test-json.jsonl",
        ResultsFormat::GoJson,
        true,
        "returned no error, want \"insufficient stock\"",
    ),
    (
        "jest-30.5.2.json",
        ResultsFormat::JestJson,
        true,
        "Expected substring: \"insufficient stock\"",
    ),
    (
        "vitest-4.1.12.json",
        ResultsFormat::JestJson,
        true,
        "expected [Function] to throw an error",
    ),
];

#[test]
fn every_format_reads_the_fixture_run() {
    for (file, format, lists_skipped, failure_text) in CASES {
        let parsed = parse_path(*format, &data(file));
        assert!(parsed.problems.is_empty(), "{file}: {:?}", parsed.problems);
        let find = |needle: &str| {
            parsed
                .cases
                .iter()
                .find(|c| c.name.to_lowercase().replace(' ', "_").contains(needle))
                .unwrap_or_else(|| {
                    panic!("{file}: no test named like {needle}: {:#?}", parsed.cases)
                })
        };
        assert_eq!(find("add_an_item").outcome, Outcome::Passed, "{file}");
        let failed = find("remove_more_than_in_stock");
        assert_eq!(failed.outcome, Outcome::Failed, "{file}");
        let message = failed.message.as_deref().unwrap_or_default();
        let excerpt = failed.excerpt.as_deref().unwrap_or_default();
        assert!(
            message.contains(failure_text) || excerpt.contains(failure_text),
            "{file}: failure explained as {message:?} / {excerpt:?}"
        );
        assert!(
            excerpt.lines().count() <= 22,
            "{file}: excerpt too long:\n{excerpt}"
        );
        assert!(
            !excerpt.contains("node_modules"),
            "{file}: stack frames kept:\n{excerpt}"
        );
        if *lists_skipped {
            let skipped = find("bulk_import");
            assert_eq!(skipped.outcome, Outcome::Skipped, "{file}");
            assert_eq!(
                parsed.cases.len(),
                4 + usize::from(*format == ResultsFormat::GoJson),
                "{file}: {:#?}",
                parsed.cases
            );
        } else {
            assert_eq!(parsed.cases.len(), 3, "{file}");
        }
        assert!(
            parsed.cases.iter().any(|c| c
                .name
                .to_lowercase()
                .replace(' ', "_")
                .contains("sku_parsing_helper")
                || c.name.contains("TestSkuParsingHelper")),
            "{file}"
        );
    }
}

#[test]
fn missing_and_empty_results_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let parsed = parse_path(ResultsFormat::Junit, &dir.path().join("junit.xml"));
    assert!(
        parsed.problems[0].contains("was not written"),
        "{:?}",
        parsed.problems
    );
    let parsed = parse_path(ResultsFormat::Junit, dir.path());
    assert!(parsed.problems[0].contains("holds no result files"));
    std::fs::write(dir.path().join("empty.txt"), "").unwrap();
    let parsed = parse_path(ResultsFormat::Libtest, &dir.path().join("empty.txt"));
    assert!(parsed.problems[0].contains("no test results found"));
}

#[test]
fn truncated_and_corrupt_files_never_panic() {
    // Every prefix of every recorded output, and a few byte-level corruptions, parse to
    // something (cases or problems) without panicking.
    for (file, format, _, _) in CASES {
        let text = std::fs::read_to_string(data(file)).unwrap();
        let boundaries: Vec<usize> = (0..text.len())
            .filter(|i| text.is_char_boundary(*i))
            .step_by(7)
            .collect();
        for end in boundaries {
            let _ = sdd_results::parse_output(*format, &text[..end]);
        }
        let corrupt = text.replace('"', "").replace('<', "&");
        let _ = sdd_results::parse_output(*format, &corrupt);
    }
}

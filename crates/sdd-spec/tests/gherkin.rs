//! A spec tree that mixes YAML and Gherkin: `tests/data/gherkin` holds a YAML feature file and
//! a `.feature` file of the same domain (Background, tags, approvals, an outline with two
//! Examples tables, an ID both files use) and a second `.feature` file with a syntax error.

mod support;

use std::path::{Path, PathBuf};

use sdd_spec::document::ReviewStatus;
use sdd_spec::limits::Limits;
use sdd_spec::model::DocumentKind;
use sdd_spec::{load_dir, load_dir_with};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/gherkin")
}

#[test]
fn yaml_and_feature_files_load_into_one_spec() {
    let loaded = load_dir(&fixture()).unwrap();
    let mut found: Vec<(&str, &str, Option<usize>)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.file.as_deref().unwrap_or(""), d.line))
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            // The `@fingerprint:` of a scenario edited since it was approved.
            ("changed-since-approval", "orders.feature", Some(19)),
            // `Refund an order` is in both files: the second one read is the duplicate.
            ("duplicate-id", "orders.yaml", Some(9)),
            // One diagnostic for the broken file; the rest of the tree loads.
            ("gherkin-syntax", "broken.feature", Some(6)),
        ],
        "{:#?}",
        loaded.diagnostics
    );
    let syntax = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "gherkin-syntax")
        .unwrap();
    assert!(syntax.message.contains("number of cells"), "{syntax:?}");

    let spec = &loaded.spec;
    let files: Vec<(&str, DocumentKind, &str)> = spec
        .files
        .iter()
        .map(|f| (f.path.as_str(), f.kind, f.name.as_str()))
        .collect();
    assert_eq!(
        files,
        [
            ("orders.feature", DocumentKind::Feature, "Orders"),
            ("orders.yaml", DocumentKind::Feature, "Orders"),
        ]
    );
    let domain = spec.domain("orders").unwrap();
    assert_eq!(domain.declared_at.len(), 2, "both files declare it");

    let ids: Vec<&str> = spec.scenarios.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "orders.cancel",
            "orders.ship",
            "orders.refund_an_order",
            "orders.total_1",
            "orders.total_2",
            "orders.total_3",
            "orders.place_an_order",
            // The duplicate stays in the model (counted, linted), marked with the first's place.
            "orders.refund_an_order",
        ]
    );
    let duplicate = spec.scenarios.last().unwrap();
    assert_eq!(duplicate.location.file, "orders.yaml");
    assert_eq!(
        duplicate.duplicate_of.as_ref().unwrap().file,
        "orders.feature"
    );

    let cancel = spec.scenario("orders.cancel").unwrap();
    assert_eq!(cancel.status, ReviewStatus::Approved);
    assert_eq!(cancel.reviewed_by.as_deref(), Some("ada"));
    assert_eq!(cancel.reviewed_at.as_deref(), Some("2026-01-05T10:00:00Z"));
    assert_eq!(
        cancel.given,
        ["a signed-in customer", "an order that has not shipped"]
    );
    assert_eq!(cancel.when.as_deref(), Some("the customer cancels it"));
    assert_eq!(
        cancel.then,
        ["the order is cancelled", "the payment is returned"]
    );
    assert_eq!(cancel.tags, ["checkout"]);
    assert_eq!(
        (cancel.location.file.as_str(), cancel.location.line),
        ("orders.feature", 11)
    );
    assert_eq!(
        sdd_spec::approval::scenario_fingerprint(cancel),
        cancel.approved_fingerprint.clone().unwrap(),
        "the fixture's tag is the fingerprint approval.rs computes"
    );

    assert_eq!(
        spec.scenario("orders.ship").unwrap().status,
        ReviewStatus::ChangedSinceApproval
    );
    let refund = spec.scenario("orders.refund_an_order").unwrap();
    assert_eq!(refund.location.file, "orders.feature");
    assert_eq!(refund.status, ReviewStatus::Approved, "written by a person");

    let rows: Vec<(&str, &str, usize, Vec<&str>)> = spec
        .scenarios
        .iter()
        .filter(|s| s.id.starts_with("orders.total_"))
        .map(|s| {
            (
                s.name.as_str(),
                s.then[0].as_str(),
                s.location.line,
                s.tags.iter().map(String::as_str).collect(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            (
                "Order total for 1 books (Example #1)",
                "the order total is 10",
                36,
                vec!["checkout", "smoke"]
            ),
            (
                "Order total for 2 books (Example #2)",
                "the order total is 20",
                37,
                vec!["checkout", "smoke"]
            ),
            (
                "Order total for 100 books (Example #3)",
                "the order total is 900",
                42,
                vec!["checkout", "smoke", "bulk"]
            ),
        ]
    );
    let bulk = spec.scenario("orders.total_3").unwrap();
    assert_eq!(
        bulk.given,
        ["a signed-in customer", "a cart with 100 books at 9 each"]
    );
    assert_eq!(bulk.feature.as_deref(), Some("Orders"));
    assert_eq!(bulk.domain, "orders");
}

/// `.feature` files go through the loader's guarded read, as YAML files do: regular files only
/// (a FIFO would block), the size limit, UTF-8.
#[test]
fn feature_files_are_read_within_the_same_limits() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("ok.feature"),
        "Feature: Fine\n  Scenario: S\n    When w\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("big.feature"),
        format!(
            "Feature: Big\n  Scenario: S\n    When {}\n",
            "w".repeat(5000)
        ),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("latin1.feature"),
        b"Feature: Caf\xe9\n  Scenario: S\n    When w\n",
    )
    .unwrap();
    let fifo = dir.path().join("pipe.feature");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    let limits = Limits {
        max_file_bytes: 4096,
        ..Limits::default()
    };
    let loaded = load_dir_with(dir.path(), &limits).unwrap();
    let mut found: Vec<(&str, &str)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.file.as_deref().unwrap_or(""), d.code.as_str()))
        .collect();
    found.sort();
    let mut expected = vec![
        ("big.feature", "file-too-large"),
        ("latin1.feature", "unreadable-file"),
    ];
    if made {
        expected.push(("pipe.feature", "not-a-regular-file"));
    }
    assert_eq!(found, expected);
    assert_eq!(loaded.spec.scenarios.len(), 1);
    assert_eq!(loaded.spec.scenarios[0].id, "fine.s");
}

/// `.feature` files are read into the cache's per-file models like YAML files: after each edit
/// the cached model is the one a fresh load gives (duplicates across formats, approvals with
/// their diagnostics, a file that stops parsing), and an unchanged `.feature` file is not read
/// again.
#[test]
fn the_spec_cache_keeps_feature_files_like_yaml_files() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    write(
        "a.yaml",
        "feature: Orders\nscenarios:\n  - {name: Ship, when: w, then: t}\n",
    );
    write(
        "b.feature",
        "Feature: Orders\n  @status:approved\n  Scenario: Cancel\n    When c\n",
    );
    let cache = sdd_spec::SpecCache::new(dir.path());
    let agree = |step: &str| support::cache_agrees_with_a_fresh_load(&cache, dir.path(), step);
    let cancel = |loaded: &sdd_spec::Loaded| {
        loaded
            .spec
            .scenarios
            .iter()
            .find(|s| s.location.file == "b.feature")
            .cloned()
            .expect("b.feature's scenario")
    };
    let first = agree("first load");
    assert_eq!(cancel(&first).status, ReviewStatus::ChangedSinceApproval);
    // `c.yaml` comes after `b.feature`: its copy is the duplicate.
    write(
        "c.yaml",
        "feature: Orders\nscenarios:\n  - {name: Cancel, when: c}\n",
    );
    let edited = agree("a duplicate of the .feature scenario in a YAML file");
    assert!(edited
        .diagnostics
        .iter()
        .any(|d| d.code == "duplicate-id" && d.file.as_deref() == Some("c.yaml")));
    assert!(
        std::sync::Arc::ptr_eq(&cancel(&first), &cancel(&edited)),
        "b.feature did not change, yet it was read again"
    );
    write(
        "b.feature",
        "Feature: Orders\n  Scenario: Cancel\n    When c\n      | a |\n      | 1 | 2 |\n",
    );
    agree("the .feature file stops parsing");
    std::fs::remove_file(dir.path().join("b.feature")).unwrap();
    agree("the .feature file removed");
}

/// A duplicate found in a `.feature` file says how to fix it there: with an `@id:` tag.
#[test]
fn a_duplicate_in_a_feature_file_is_fixed_with_a_tag() {
    let loaded = sdd_spec::load_sources(&[
        (
            "a.yaml".into(),
            "domain: orders\nscenarios:\n  - id: orders.refund\n    name: Refund\n    when: I refund\n    then: it is refunded\n".into(),
        ),
        (
            "b.feature".into(),
            "Feature: Orders\n  @id:orders.refund\n  Scenario: Refund again\n    When I refund\n    Then it is refunded\n".into(),
        ),
    ]);
    let duplicate = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "duplicate-id")
        .unwrap_or_else(|| panic!("{:#?}", loaded.diagnostics));
    assert_eq!(duplicate.file.as_deref(), Some("b.feature"));
    assert!(
        duplicate
            .help
            .as_deref()
            .unwrap_or("")
            .contains("`@id:` tag"),
        "{duplicate:?}"
    );
}

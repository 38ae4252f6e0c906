//! Integration tests of the spec core at its library boundary: the bundled examples, the seed's
//! malformed shapes, diagnostics, and the committed schema.

mod support;

use std::path::{Path, PathBuf};

use sdd_spec::{load_dir, Severity};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn task_manager_example_loads_without_errors() {
    let loaded = load_dir(&repo().join("examples/task_manager/specs")).unwrap();
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let spec = &loaded.spec;
    assert_eq!(spec.scenarios.len(), 7);
    assert_eq!(spec.constraints.len(), 12);
    let create = spec
        .scenario("task_management_system.create_a_simple_task")
        .expect("derived ID");
    assert_eq!(create.then.len(), 4);
    assert_eq!(create.location.file, "task_management.yaml");
    let latency = spec
        .constraint("task_management_system.performance.api_response_time")
        .unwrap();
    assert!(latency.parsed.is_checkable());
    let scaling = spec
        .constraint("task_management_system.scalability.horizontal_scaling")
        .unwrap();
    assert!(
        !scaling.parsed.is_checkable(),
        "scaling across nodes cannot be run on one machine"
    );
}

#[test]
fn ecommerce_example_loads_every_seed_shape() {
    let loaded = load_dir(&repo().join("examples/ecommerce_platform/specs")).unwrap();
    let errors: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let spec = &loaded.spec;
    assert_eq!(spec.interactions.len(), 1);
    assert_eq!(spec.interactions[0].flows[0].steps.len(), 7);
    assert_eq!(spec.interactions[0].flows[0].failure_handling.len(), 2);
    assert_eq!(spec.chaos_scenarios.len(), 4);
    assert_eq!(spec.observability.len(), 1);
    assert_eq!(spec.degradation_detection.len(), 1);
    assert!(spec
        .domain("product_catalog")
        .unwrap()
        .dependencies
        .contains(&"search".to_string()));
    assert_eq!(spec.scenarios_in("product_catalog").count(), 3);
    assert_eq!(spec.scenarios_in("subscription_products").count(), 3);
}

#[test]
fn seed_malformed_feature_names_line_column_and_fix() {
    let loaded = load_dir(&repo().join("crates/sdd-spec/tests/data/malformed")).unwrap();
    let d = loaded
        .diagnostics
        .iter()
        .find(|d| d.file.as_deref() == Some("seed_feature.yaml"))
        .expect("a diagnostic for the malformed file");
    assert_eq!(d.code, "yaml-syntax");
    assert_eq!((d.line, d.column), (Some(2), Some(14)), "{d}");
    let help = d.help.as_deref().unwrap();
    assert!(
        help.contains("`feature:` already has the value `Task Management System`"),
        "{help}"
    );
    assert!(help.contains("Move `description:`"), "{help}");
}

#[test]
fn one_bad_scenario_costs_one_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("f.yaml"),
        "feature: Tasks\nscenarios:\n  - name: Good\n    when: I do it\n    then: it is done\n  - name: Typo\n    when: x\n    thne: y\n  - when: no name\n    then: z\n",
    )
    .unwrap();
    let loaded = load_dir(dir.path()).unwrap();
    assert_eq!(loaded.spec.scenarios.len(), 1);
    let typo = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "unknown-field")
        .unwrap();
    assert_eq!((typo.line, typo.column), (Some(8), Some(5)), "{typo}");
    assert_eq!(typo.path.as_deref(), Some("scenarios[1].thne"));
    assert_eq!(typo.help.as_deref(), Some("did you mean `then`?"));
    let missing = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "missing-field")
        .unwrap();
    assert_eq!(
        (missing.line, missing.column),
        (Some(9), Some(5)),
        "{missing}"
    );
    assert!(missing.message.contains("name"));
}

#[test]
fn duplicate_ids_are_errors_that_point_at_both() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "feature: Tasks\nscenarios:\n  - name: Same\n    when: a\n    then: b\n  - name: Same\n    when: c\n    then: d\n",
    )
    .unwrap();
    let loaded = load_dir(dir.path()).unwrap();
    let dup = loaded
        .diagnostics
        .iter()
        .find(|d| d.code == "duplicate-id")
        .unwrap();
    assert_eq!(dup.line, Some(6));
    assert!(dup.message.contains("a.yaml:3:5"), "{}", dup.message);
}

#[test]
fn missing_root_is_a_clear_error() {
    let err = load_dir(Path::new("/definitely/not/here")).unwrap_err();
    assert!(err.to_string().contains("does not exist"));
}

/// The committed schema must match the Rust types. Refresh with `UPDATE_SCHEMA=1 cargo test`.
#[test]
fn committed_schema_is_fresh() {
    let path = repo().join("specs/sdd-spec.schema.json");
    let fresh = sdd_spec::schema::spec_schema_json();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == fresh,
        "specs/sdd-spec.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test -p sdd-spec --test spec`"
    );
}

#[test]
fn schema_lists_exactly_the_keys_the_loader_accepts() {
    let schema: serde_json::Value =
        serde_json::from_str(&sdd_spec::schema::spec_schema_json()).unwrap();
    let mut properties: Vec<&str> = schema["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    properties.sort();
    let mut accepted = sdd_spec::document::DOCUMENT_KEYS.to_vec();
    accepted.sort();
    assert_eq!(properties, accepted);
}

/// Robustness: every prefix of every example file (truncated mid-token, mid-line, mid-list) and
/// every line deleted in turn must load and validate without a panic, and every problem must be
/// located in the file.
#[test]
fn truncated_and_mangled_files_never_panic() {
    use sdd_spec::analysis::{coverage, graph, validate};
    for example in [
        "examples/task_manager/specs/task_management.yaml",
        "examples/ecommerce_platform/specs/interactions/checkout_flow.yaml",
    ] {
        let text = std::fs::read_to_string(repo().join(example)).unwrap();
        let mut variants: Vec<String> = text
            .char_indices()
            .step_by(7)
            .map(|(i, _)| text[..i].to_string())
            .collect();
        let lines: Vec<&str> = text.lines().collect();
        for skip in 0..lines.len() {
            let mut v: Vec<&str> = lines.clone();
            v.remove(skip);
            variants.push(v.join("\n"));
        }
        for variant in variants {
            let loaded = sdd_spec::load_sources(&[("f.yaml".into(), variant)]);
            let report = validate::validate(&loaded.spec, &loaded.diagnostics);
            let _ = coverage::analyze_coverage(&loaded.spec, None);
            let _ = graph::dependency_graph(&loaded.spec);
            for d in report
                .diagnostics
                .iter()
                .filter(|d| d.severity == Severity::Error)
            {
                assert_eq!(d.file.as_deref(), Some("f.yaml"), "{d}");
                assert!(d.line.is_some(), "{d}");
            }
        }
    }
}

/// Data-driven: each file in tests/data/defects has one defect; the loader must name the file,
/// line and a specific code for it, and keep going.
#[test]
fn each_defect_is_located_with_a_specific_code() {
    let loaded = load_dir(&repo().join("crates/sdd-spec/tests/data/defects")).unwrap();
    let report = sdd_spec::analysis::validate::validate(&loaded.spec, &loaded.diagnostics);
    let mut found: Vec<(String, Option<usize>, String)> = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(|d| (d.file.clone().unwrap_or_default(), d.line, d.code.clone()))
        .collect();
    found.sort();
    let expected = [
        ("binary.yaml", None, "unreadable-file"),
        ("cons_str.yaml", Some(3), "expected-list"),
        ("depstr.yaml", Some(4), "wrong-type"),
        ("dupkey.yaml", Some(2), "duplicate-key"),
        ("list.yaml", Some(1), "not-a-mapping"),
        ("scen_map.yaml", Some(2), "expected-list"),
        ("shapes.yaml", Some(4), "wrong-shape"),
        ("shapes.yaml", Some(8), "unknown-variant"),
        ("tabs.yaml", Some(3), "yaml-syntax"),
        ("then_number.yaml", Some(5), "wrong-shape"),
    ];
    let expected: Vec<(String, Option<usize>, String)> = expected
        .iter()
        .map(|(f, l, c)| (f.to_string(), *l, c.to_string()))
        .collect();
    assert_eq!(found, expected);
    // The good scenario of shapes.yaml is loaded despite its broken neighbours.
    assert!(loaded.spec.scenario("g.good").is_some());
    assert!(loaded.spec.scenario("g.z2").is_none());
}

/// The committed `sdd.yaml` schema must match the Rust types (`UPDATE_SCHEMA=1` refreshes).
#[test]
fn committed_project_schema_is_fresh() {
    let path = repo().join("specs/sdd-project.schema.json");
    let fresh = sdd_spec::project::project_schema_json();
    if std::env::var_os("UPDATE_SCHEMA").is_some() {
        std::fs::write(&path, &fresh).unwrap();
    }
    assert!(
        std::fs::read_to_string(&path).unwrap_or_default() == fresh,
        "specs/sdd-project.schema.json is stale: run `UPDATE_SCHEMA=1 cargo test -p sdd-spec --test spec`"
    );
}

/// The spec cache: an unchanged tree is the same model (not parsed again); an edit (even one
/// that keeps the size), a new file and a deleted file are each seen by the very next load.
#[test]
fn the_spec_cache_sees_every_change_at_the_next_load() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str| dir.path().join(name);
    let scenario = |name: &str| {
        format!(
            "domain: tasks\nscenarios:\n  - name: {name}\n    when: I act\n    then: it is done\n"
        )
    };
    std::fs::write(file("a.yaml"), scenario("Alpha")).unwrap();
    let cache = sdd_spec::SpecCache::new(dir.path());
    let names = |loaded: &sdd_spec::Loaded| -> Vec<String> {
        loaded
            .spec
            .scenarios
            .iter()
            .map(|s| s.name.clone())
            .collect()
    };
    let first = cache.load().unwrap();
    assert_eq!(names(&first), ["Alpha"]);
    let again = cache.load().unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "an unchanged tree is loaded again"
    );
    // Same size, other text.
    std::fs::write(file("a.yaml"), scenario("Alphb")).unwrap();
    assert_eq!(names(&cache.load().unwrap()), ["Alphb"]);
    std::fs::write(file("b.yaml"), scenario("Beta").replace("tasks", "notes")).unwrap();
    assert_eq!(names(&cache.load().unwrap()), ["Alphb", "Beta"]);
    std::fs::remove_file(file("a.yaml")).unwrap();
    assert_eq!(names(&cache.load().unwrap()), ["Beta"]);
    // A file that cannot be read is a diagnostic every time, not a cached success.
    std::fs::write(file("c.yaml"), [0xff, 0xfe, 0x00]).unwrap();
    let loaded = cache.load().unwrap();
    assert!(!loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    std::fs::remove_dir_all(dir.path()).unwrap();
    assert!(
        cache.load().is_err(),
        "a root that is gone is an error, not the old model"
    );
}

/// Incremental: after one file changes, the next load reads only that file again (the other
/// files' scenarios are the very same objects), and the model it puts together is the one a
/// fresh load gives — duplicates across files, domains in several files, approvals and
/// unreadable files included.
#[test]
fn the_spec_cache_rereads_only_what_changed_and_agrees_with_a_fresh_load() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
    let scenario = |name: &str, extra: &str| {
        format!("  - name: {name}\n    when: I act\n    then: it is done\n{extra}")
    };
    write(
        "a.yaml",
        &format!(
            "domain: tasks\ndependencies: [notes]\nscenarios:\n{}",
            scenario("One", "")
        ),
    );
    write(
        "b.yaml",
        &format!(
            "domain: notes\nscenarios:\n{}{}",
            scenario("Two", ""),
            scenario(
                "Three",
                "    status: approved\n    approved_fingerprint: \"0\"\n"
            )
        ),
    );
    let cache = sdd_spec::SpecCache::new(dir.path());
    let agree = |step: &str| support::cache_agrees_with_a_fresh_load(&cache, dir.path(), step);
    let first = agree("first load");
    let b_scenario = |loaded: &sdd_spec::Loaded| {
        loaded
            .spec
            .scenarios
            .iter()
            .find(|s| s.name == "Two")
            .cloned()
            .expect("scenario Two")
    };

    write(
        "a.yaml",
        &format!(
            "domain: tasks\ndependencies: [notes]\nscenarios:\n{}{}",
            scenario("One", ""),
            scenario("Four", "")
        ),
    );
    let edited = agree("a.yaml edited");
    assert!(
        std::sync::Arc::ptr_eq(&b_scenario(&first), &b_scenario(&edited)),
        "b.yaml did not change, yet its scenarios were read again"
    );
    // The same scenario ID in a second file (an explicit ID), a domain declared twice, a file
    // that does not parse and one that cannot be read.
    write(
        "c.yaml",
        &format!(
            "domain: tasks\ndescription: Tasks again\nscenarios:\n{}",
            scenario("Copy", "    id: notes.two\n")
        ),
    );
    agree("a duplicate ID in a new file");
    write("d.yaml", "scenarios: [\n");
    agree("a file that does not parse");
    std::fs::write(dir.path().join("e.yaml"), [0xff, 0xfe]).unwrap();
    agree("a file that cannot be read");
    std::fs::remove_file(dir.path().join("b.yaml")).unwrap();
    let after = agree("b.yaml removed");
    assert!(
        after.spec.scenarios.iter().any(|s| s.name == "Copy"),
        "with b.yaml gone, the copy holds the ID alone"
    );
}

/// A tree whose files were last changed long before they were read is answered from metadata
/// alone; a file written just now is read again until its change is old enough to trust.
#[test]
fn the_spec_cache_answers_an_old_tree_from_metadata_alone() {
    let example =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/task_manager/specs");
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(&example).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), dir.path().join(entry.file_name())).unwrap();
        }
    }
    let cache = sdd_spec::SpecCache::new(dir.path());
    let first = cache.load().unwrap();
    assert!(
        cache.unchanged().is_none(),
        "files written a moment ago must be read again, not vouched for by their metadata"
    );
    let again = cache.load().unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "same texts, same model"
    );

    let cache = sdd_spec::SpecCache::new(&example);
    let loaded = cache.load().unwrap();
    let unchanged = cache
        .unchanged()
        .expect("the bundled example's files are older than its read");
    assert!(std::sync::Arc::ptr_eq(&loaded, &unchanged));
}

/// The bundled examples are the seed's own specs: every check must stay quiet on them except
/// for what is really there (external domains, the seed's product_catalog ⇄ search cycle,
/// prose constraints no machine can check). A new check that fires here is a false alarm.
#[test]
fn bundled_examples_raise_only_what_is_really_there() {
    use std::collections::BTreeMap;
    let codes = |dir: &str| -> BTreeMap<String, usize> {
        let loaded = load_dir(&repo().join(dir)).unwrap();
        let report = sdd_spec::analysis::validate::validate(&loaded.spec, &loaded.diagnostics);
        let mut counts = BTreeMap::new();
        for d in &report.diagnostics {
            *counts.entry(d.code.clone()).or_default() += 1;
        }
        counts
    };
    let expect = |pairs: &[(&str, usize)]| -> BTreeMap<String, usize> {
        pairs.iter().map(|(c, n)| (c.to_string(), *n)).collect()
    };
    assert_eq!(
        codes("examples/task_manager/specs"),
        expect(&[("not-checkable", 2)])
    );
    assert_eq!(
        codes("examples/ecommerce_platform/specs"),
        expect(&[
            ("dependency-cycle", 1),
            ("not-checkable", 10),
            ("unknown-domain", 6),
            ("unknown-participant", 4),
        ])
    );
}

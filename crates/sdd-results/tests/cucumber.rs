//! A cucumber suite's results mapped to the scenarios of its own `.feature` file.
//!
//! The results under `tests/data/cucumber/` are written by hand — no cucumber runs here — in
//! the shapes the runners write for `orders.feature`:
//! - `cucumber-jvm-style.json`: the cucumber JSON format (github.com/cucumber/cucumber-json-schema)
//!   as Cucumber-JVM's `json:` plugin writes it: a `background` element before each scenario,
//!   tags with `@` (the feature's too), lowercase statuses, an outline row at its row's line;
//! - `cucumber-rs-style.json`: as cucumber-rs `writer::Json` writes it (src/writer/json.rs):
//!   capitalised statuses, tags without `@`, background elements named like their scenario;
//! - `cucumber-jvm-style-junit.xml`: JUnit with `classname` = feature, `name` = scenario, outline
//!   rows numbered ` #N` (Cucumber-JVM, cucumber/cucumber-jvm#2045);
//! - `cucumber-rs-style-junit.xml`: cucumber-rs `writer::JUnit` (src/writer/junit.rs): test case
//!   names `Scenario: NAME: PATH:LINE:COLUMN`, an outline row at its row's line.

use std::path::PathBuf;

use sdd_results::trace::{trace, ScenarioVerdict};
use sdd_results::{parse_path, ResultsFormat};

fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/cucumber")
        .join(name)
}

#[test]
fn every_cucumber_report_maps_to_the_feature_file_scenarios() {
    let feature = std::fs::read_to_string(data("orders.feature")).unwrap();
    let loaded = sdd_spec::load::load_sources(&[("orders.feature".into(), feature)]);
    assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
    let expected = [
        ("orders.cancel", ScenarioVerdict::Passing),
        ("orders.ship_an_order", ScenarioVerdict::Failing),
        ("orders.order_total_1", ScenarioVerdict::Passing),
        ("orders.order_total_2", ScenarioVerdict::Failing),
        // An undefined step (or, in cucumber-rs, a skipped one) is not a pass.
        ("orders.archive_an_order", ScenarioVerdict::Skipped),
    ];
    for (file, format) in [
        ("cucumber-jvm-style.json", ResultsFormat::CucumberJson),
        ("cucumber-rs-style.json", ResultsFormat::CucumberJson),
        ("cucumber-jvm-style-junit.xml", ResultsFormat::Junit),
        ("cucumber-rs-style-junit.xml", ResultsFormat::Junit),
    ] {
        let parsed = parse_path(format, &data(file));
        assert_eq!(parsed.problems, Vec::<String>::new(), "{file}");
        assert_eq!(parsed.cases.len(), 5, "{file}: {:#?}", parsed.cases);
        let t = trace(
            &loaded.spec,
            &parsed.cases,
            sdd_results::trace::RunShape::default(),
        );
        let verdicts: Vec<(&str, ScenarioVerdict)> = t
            .scenarios
            .iter()
            .map(|s| (s.scenario_id.as_str(), s.verdict))
            .collect();
        assert_eq!(verdicts, expected, "{file}: {:#?}", parsed.cases);
        assert_eq!(t.unmapped_tests, Vec::<String>::new(), "{file}");
        let failing = &t.scenarios[1].tests[0];
        assert!(
            failing
                .message
                .as_deref()
                .is_some_and(|m| m.contains("email")),
            "{file}: {failing:?}"
        );
    }
}

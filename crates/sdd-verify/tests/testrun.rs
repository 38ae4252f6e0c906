//! Test runs for real on the inventory fixture (Rust and Python): cargo and pytest run, their
//! results map to scenarios, a hanging run is killed with everything it started, a broken
//! results file is reported, and the history flags a regression.

use std::path::Path;
use std::sync::Mutex;

use sdd_exec::process::{Exit, Supervisor};
use sdd_history::History;
use sdd_results::trace::ScenarioVerdict;
use sdd_verify::testrun::{run_tests, TestRunReport, TestRunRequest};

fn project() -> tempfile::TempDir {
    sdd_verify::testing::inventory_project().unwrap()
}

fn supervisor() -> Supervisor {
    Supervisor {
        program: sdd_exec::testing::supervise_binary(),
        args: vec![],
    }
}

async fn run(
    root: &Path,
    profile: &str,
    filter: Option<&str>,
    history: &Mutex<Option<History>>,
) -> TestRunReport {
    sdd_verify::testing::run_profile(root, profile, filter, Some(history)).await
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
    // Results that could not be read vouch for nothing: no scenario is told it has no test.
    assert_eq!(report.traceability.summary.not_run, 4);
    assert_eq!(report.traceability.summary.no_test, 0);
}

/// Every quoting style a `filter_arg` may use × filters written to break out of it: the runner
/// (a script that writes its argv, NUL-separated) must receive the filter verbatim as one
/// argument, and no filter may run anything (each tries to create `pwned`).
#[tokio::test]
async fn hostile_filters_reach_the_runner_verbatim_whatever_the_quoting() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("record.sh"), "printf '%s\\0' \"$@\" > argv.bin\n").unwrap();
    let pwned = root.join("pwned");
    let p = pwned.display();
    let filters = [
        format!("$(touch {p})"),
        format!("`touch {p}`"),
        format!("x; touch {p}"),
        format!("x' ; touch {p}; echo '"),
        format!("x\" ; touch {p}; echo \""),
        format!("'\"$(touch {p})\"'"),
        format!("x && touch {p} || touch {p}"),
        format!("x | tee {p}"),
        format!("> {p}"),
        "a  b   c".to_string(),
        "*".to_string(),
        "test_*".to_string(),
        "$HOME ${PATH} $1 ${1} {filter}".to_string(),
        "\\".to_string(),
        "x\\".to_string(),
        "~".to_string(),
        "not slow and (a or b)".to_string(),
        "naïve ✓ ünïcödé".to_string(),
    ];
    // filter_arg → the arguments the runner gets, around the filter F.
    type Expected = fn(&str) -> Vec<String>;
    let styles: [(&str, Expected); 9] = [
        ("{filter}", |f| vec![f.into()]),
        ("-k {filter}", |f| vec!["-k".into(), f.into()]),
        ("-k \"{filter}\"", |f| vec!["-k".into(), f.into()]),
        ("-k '{filter}'", |f| vec!["-k".into(), f.into()]),
        ("-k", |f| vec!["-k".into(), f.into()]),
        ("--filter={filter}", |f| vec![format!("--filter={f}")]),
        ("--filter=\"{filter}\"", |f| vec![format!("--filter={f}")]),
        ("-run '^{filter}$'", |f| {
            vec!["-run".into(), format!("^{f}$")]
        }),
        ("-k \"it's {filter} too\"", |f| {
            vec!["-k".into(), format!("it's {f} too")]
        }),
    ];
    let spec = sdd_spec::model::Spec::default();
    for (filter_arg, expected) in styles {
        let profile: sdd_spec::project::TestProfile = serde_yaml::from_value(
            serde_yaml::to_value(serde_json::json!({
                "command": "sh record.sh",
                "filter_arg": filter_arg,
                "timeout_seconds": 20,
                "results": {"format": "libtest"},
            }))
            .unwrap(),
        )
        .unwrap();
        for filter in &filters {
            let _ = std::fs::remove_file(root.join("argv.bin"));
            let report = run_tests(TestRunRequest {
                root,
                profile_name: "argv",
                profile: &profile,
                filter: Some(filter),
                spec: &spec,
                supervisor: &supervisor(),
                history: None,
            })
            .await
            .unwrap();
            assert!(
                !pwned.exists(),
                "filter_arg {filter_arg:?} with filter {filter:?} ran a command: {}",
                report.command
            );
            assert_eq!(report.exit, Exit::Code { code: 0 }, "{report:#?}");
            let argv = std::fs::read(root.join("argv.bin")).unwrap();
            let argv: Vec<String> = argv
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8(a.to_vec()).unwrap())
                .collect();
            assert_eq!(
                argv,
                expected(filter),
                "filter_arg {filter_arg:?}, filter {filter:?}, command {}",
                report.command
            );
        }
    }
}

/// A filter no process can carry, or one the runner would read as an option, is refused
/// before anything starts, with the reason (a NUL used to fail as "cannot start the
/// supervisor").
#[tokio::test]
async fn unusable_filters_are_refused_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let profile: sdd_spec::project::TestProfile = serde_yaml::from_str(
        "command: touch ran\nfilter_arg: \"-k {filter}\"\nresults: {format: libtest}\n",
    )
    .unwrap();
    let spec = sdd_spec::model::Spec::default();
    for (filter, needle) in [
        ("a\0b", "U+0000"),
        ("a\nb", "U+000A"),
        ("--config=build.rustc-wrapper=/x", "starts with `-`"),
    ] {
        let err = run_tests(TestRunRequest {
            root: dir.path(),
            profile_name: "p",
            profile: &profile,
            filter: Some(filter),
            spec: &spec,
            supervisor: &supervisor(),
            history: None,
        })
        .await
        .err()
        .unwrap_or_else(|| panic!("{filter:?} was accepted"))
        .to_string();
        assert!(err.contains(needle), "{filter:?}: {err}");
        assert!(!err.contains("supervisor"), "{err}");
        assert!(!dir.path().join("ran").exists());
    }
}

/// A profile in `root`'s sdd.yaml whose command is `script`, printing libtest's output.
fn add_scripted_profile(root: &Path, name: &str, script: &str) {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("run.sh"), script).unwrap();
    let file = root.join("sdd.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap().replacen(
        "tests:\n",
        &format!(
            "tests:\n  {name}:\n    command: sh run.sh\n    workdir: {name}\n    results: {{format: libtest}}\n"
        ),
        1,
    );
    std::fs::write(file, yaml).unwrap();
}

/// A red run says why in the summary it is recorded with — failing tests that map to no
/// scenario, its problems, one line each — and no problem shows an exit in its Debug form
/// (`Code { code: 3 }`, once the whole explanation of a red run).
#[tokio::test]
async fn a_red_run_records_why_in_words() {
    let dir = project();
    let root = dir.path();
    add_scripted_profile(
        root,
        "unmapped",
        "printf 'running 2 tests\\ntest sdd_inventory_add_an_item ... ok\\ntest helper_parses_dates ... FAILED\\n\\nfailures:\\n\\n---- helper_parses_dates stdout ----\\nboom\\n\\nfailures:\\n    helper_parses_dates\\n\\ntest result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\\n'\nexit 101\n",
    );
    add_scripted_profile(
        root,
        "exits-3",
        "printf 'running 1 test\\ntest sdd_inventory_add_an_item ... ok\\n\\ntest result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\\n'\nexit 3\n",
    );
    let history = Mutex::new(Some(History::open(root).unwrap()));

    let unmapped = run(root, "unmapped", None, &history).await;
    assert!(!unmapped.ok, "{unmapped:#?}");
    let exits = run(root, "exits-3", None, &history).await;
    assert!(!exits.ok, "{exits:#?}");
    for problem in &exits.problems {
        assert!(!problem.contains("Code {"), "{problem}");
    }
    assert!(
        exits
            .problems
            .iter()
            .any(|p| p.contains("the command exited with status 3 although no test failed")),
        "{:?}",
        exits.problems
    );

    let guard = history.lock().unwrap();
    let history = guard.as_ref().unwrap();
    let summary = |id: Option<i64>| history.run(id.unwrap()).unwrap().summary;
    let stored = summary(unmapped.run_id);
    assert_eq!(stored["unmapped_failures"]["count"], 1, "{stored:#}");
    assert_eq!(
        stored["unmapped_failures"]["first"][0], "helper_parses_dates",
        "{stored:#}"
    );
    let stored = summary(exits.run_id);
    assert_eq!(stored["unmapped_failures"]["count"], 0, "{stored:#}");
    let problems = stored["problems"].as_array().unwrap();
    assert!(!problems.is_empty(), "{stored:#}");
    for problem in problems {
        let problem = problem.as_str().unwrap();
        assert!(
            !problem.contains("Code {") && !problem.contains('\n'),
            "{problem}"
        );
    }
    // What project_status reads back from the history says both.
    let latest = history
        .latest_statuses(&sdd_history::status::SCENARIO_RUN_KINDS)
        .unwrap();
    let attention = sdd_history::status::attention(&latest);
    let said: Vec<(&str, &str)> = attention
        .iter()
        .map(|a| (a.profile.as_str(), a.problem.as_str()))
        .collect();
    assert_eq!(attention.len(), 2, "{said:?}");
    assert!(said[0].1.contains("exited with status 3"), "{said:?}");
    assert!(
        said[1]
            .1
            .contains("1 failing test(s) map to no scenario: helper_parses_dates"),
        "{said:?}"
    );
}

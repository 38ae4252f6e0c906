//! `sdd call` and `sdd init` as a shell uses them: JSON on stdout, exit status 0 (ran, not a
//! failure) / 1 (ran, reports a failure) / 2 (the call failed: usage, tool error), and a
//! scaffold that validates, never overwrites, and writes test profiles that really run the
//! project's tests.

use std::process::Command;

use serde_json::Value;

mod support;

use support::{repo, sdd_in};

#[test]
fn call_prints_a_tools_json_result_and_reports_errors_by_exit_status() {
    let example = repo().join("examples/task_manager");
    let (code, out, err) = sdd_in(
        &example,
        &[
            "call",
            "specification",
            "get_scenarios",
            r#"{"status": "proposed"}"#,
        ],
    );
    assert_eq!(code, 0, "{err}");
    let result: Value = serde_json::from_str(&out).expect("JSON on stdout");
    let text = result.to_string();
    assert!(text.contains("handle_concurrent_task_completion"), "{text}");
    assert!(!text.contains("create_a_simple_task"), "{text}");

    let (code, out, _) = sdd_in(&example, &["call", "implementation", "list_test_profiles"]);
    assert_eq!(code, 0);
    assert!(out.contains("cargo test --no-fail-fast"), "{out}");

    let (code, out, _) = sdd_in(&example, &["call", "specification", "tools"]);
    assert_eq!(code, 0);
    let tools: Value = serde_json::from_str(&out).unwrap();
    assert!(tools.as_array().unwrap().len() > 5);

    // A tool error: the call failed, exit 2, its text on stderr.
    let (code, _, err) = sdd_in(
        &example,
        &[
            "call",
            "implementation",
            "run_tests",
            r#"{"profile": "nope"}"#,
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("no test profile `nope`"), "{err}");
    let (code, _, err) = sdd_in(&example, &["call", "specification", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no tool `nope`"), "{err}");
    let (code, _, err) = sdd_in(&example, &["call", "monitoring", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no tool `nope`"), "{err}");

    // Usage errors: exit 2 with the reason.
    for (args, said) in [
        (vec!["call", "debugger", "x"], "no tool `x` on this server"),
        (vec!["call", "debuger", "x"], "unknown server `debuger`"),
        (vec!["call", "spec"], "usage: sdd call"),
        (
            vec!["call", "spec", "get_scenarios", "{not json"],
            "not valid JSON",
        ),
        (
            vec!["call", "spec", "get_scenarios", "[1]"],
            "must be a JSON object",
        ),
    ] {
        let (code, _, err) = sdd_in(&example, &args);
        assert_eq!(code, 2, "{args:?}");
        assert!(err.contains(said), "{args:?}: {err}");
    }
}

/// `sdd call … run_tests` on a red run exits 1 with the whole answer on stdout (it once
/// exited 0, so a CI script saw failing tests as success); a green filtered run of the same
/// profile exits 0; a profile that does not exist is a failed call, 2.
#[test]
fn call_exits_1_when_the_run_it_made_is_red() {
    if !sdd_verify::testing::pytest_available() {
        eprintln!("skipped: no python with pytest here; set SDD_PYTHON");
        return;
    }
    let project = sdd_verify::testing::inventory_project().unwrap();
    let call = |arguments: &str| {
        sdd_in(
            project.path(),
            &["call", "implementation", "run_tests", arguments],
        )
    };
    let (code, out, err) = call(r#"{"profile": "python"}"#);
    assert_eq!(code, 1, "{out}{err}");
    let answer: Value = serde_json::from_str(&out).expect("the answer on stdout");
    assert_eq!(answer["ok"], false, "{answer:#}");
    assert_eq!(answer["tests"]["failed"], 1, "{answer:#}");
    let (code, out, err) = call(r#"{"profile": "python", "filter": "add_an_item"}"#);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _, err) = call(r#"{"profile": "no-such-profile"}"#);
    assert_eq!(code, 2, "{err}");
    // A tool that judges nothing exits 0 whatever the project's state.
    let (code, _, err) = sdd_in(
        project.path(),
        &["call", "implementation", "project_status"],
    );
    assert_eq!(code, 0, "{err}");
}

/// `sdd history prune` on a history of ten runs of 2,000 tests: dry, it says what would go
/// and removes nothing; then it removes that, keeps the latest runs (the next run's
/// regressions are still found) and says the file's size before and after, smaller.
#[test]
fn history_prune_says_what_it_removed_and_keeps_the_latest_runs() {
    use sdd_history::{History, HistoryQuery, NewRun, RunKind, SubjectResult, SubjectStatus};
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let run = |status| NewRun {
        kind: RunKind::Tests,
        label: "unit".into(),
        started_at: "2026-12-01T00:00:00Z".into(),
        duration_seconds: 1.0,
        commit: None,
        dirty: None,
        filter: None,
        ok: status == SubjectStatus::Passing,
        summary: serde_json::json!({}),
        results: vec![SubjectResult {
            subject: "shop.checkout".into(),
            status,
            detail: None,
        }],
        tests: (0..2000)
            .map(|i| sdd_history::TestRow {
                name: format!("tests/test_shop.py::test_case_number_{i:05}"),
                outcome: sdd_history::TestOutcome::Passed,
                scenario_id: None,
            })
            .collect(),
    };
    let mut history = History::open(root).unwrap();
    // Record without pruning, as an SDD before the retention did.
    history.set_retention(sdd_history::Retention {
        test_rows_runs: 1000,
        runs: 1000,
    });
    for _ in 0..10 {
        history.record(&run(SubjectStatus::Passing)).unwrap();
    }
    drop(history);
    let runs = || {
        History::open(root)
            .unwrap()
            .runs(&HistoryQuery {
                limit: 100,
                ..HistoryQuery::default()
            })
            .unwrap()
            .len()
    };

    let (code, out, err) = sdd_in(root, &["history", "prune", "--keep-runs", "3", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("would remove 7 run(s) with 7 scenario result(s), 14000 per-test row(s)"),
        "{out}"
    );
    assert_eq!(runs(), 10);

    let (code, out, err) = sdd_in(root, &["history", "prune", "--keep-runs", "3"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("removed 7 run(s)"), "{out}");
    let sizes = out
        .lines()
        .find(|l| l.starts_with(".sdd/history.sqlite3: "))
        .unwrap_or_else(|| panic!("{out}"));
    let (before, after) = sizes
        .trim_start_matches(".sdd/history.sqlite3: ")
        .split_once(" → ")
        .unwrap_or_else(|| panic!("{out}"));
    let kb = |size: &str| -> f64 {
        let (n, unit) = size.split_once(' ').unwrap();
        n.parse::<f64>().unwrap() * if unit == "MB" { 1024.0 } else { 1.0 }
    };
    assert!(kb(after) < kb(before) / 2.0, "{out}");
    assert_eq!(runs(), 3);
    // Regressions still come against the latest run kept.
    let next = History::open(root)
        .unwrap()
        .record(&run(SubjectStatus::Failing))
        .unwrap();
    assert_eq!(next.regressions, ["shop.checkout"]);

    // The floors are usage rules.
    let (code, _, err) = sdd_in(root, &["history", "prune", "--keep-test-rows", "1"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn init_scaffolds_a_project_that_validates_and_keeps_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(root.join("Cargo.toml"), "[package]\nname = \"shop\"\n").unwrap();
    std::fs::write(
        root.join(".mcp.json"),
        r#"{"mcpServers": {"other": {"command": "other-server"}}}"#,
    )
    .unwrap();
    let (code, out, err) = sdd_in(root, &["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("created specs/features.yaml"), "{out}");
    assert!(out.contains("test profiles for Cargo.toml"), "{out}");
    assert!(
        out.contains("wrote   .mcp.json (sdd-specification, sdd-implementation, sdd-monitoring, sdd-debugger)"),
        "{out}"
    );

    let project = std::fs::read_to_string(root.join("sdd.yaml")).unwrap();
    assert!(project.contains("cargo test"), "{project}");
    sdd_spec::project::load_project_file(root).expect("sdd.yaml loads");
    let mcp: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join(".mcp.json")).unwrap()).unwrap();
    assert_eq!(mcp["mcpServers"]["other"]["command"], "other-server");
    for server in [
        "sdd-specification",
        "sdd-implementation",
        "sdd-monitoring",
        "sdd-debugger",
    ] {
        let entry = &mcp["mcpServers"][server];
        assert!(
            entry["command"].as_str().unwrap().ends_with(server),
            "{server}: {entry}"
        );
        assert_eq!(
            entry["args"],
            serde_json::json!(["--project", "."]),
            "{server}"
        );
    }
    assert!(std::fs::read_to_string(root.join(".gitignore"))
        .unwrap()
        .contains(".sdd/"));

    // The scaffold is a valid spec with one proposal for `sdd review`.
    let (code, out, _) = sdd_in(root, &["validate"]);
    assert_eq!(code, 0, "{out}");
    let (_, listed, _) = sdd_in(root, &["review", "--list"]);
    assert!(listed.contains("1 scenario(s) waiting"), "{listed}");

    // Again: nothing is overwritten.
    std::fs::write(root.join("specs/features.yaml"), "feature: Mine\n").unwrap();
    let (code, out, _) = sdd_in(root, &["init"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("kept    specs/") && out.contains("kept    sdd.yaml"),
        "{out}"
    );
    assert!(out.contains("kept    .gitignore"), "{out}");
    assert_eq!(
        std::fs::read_to_string(root.join("specs/features.yaml")).unwrap(),
        "feature: Mine\n"
    );
}

/// A project with no stack SDD recognises: `sdd init` says so and writes the same in sdd.yaml
/// (it once wrote `tests: {}` without a word).
#[test]
fn init_says_when_it_finds_no_test_runner() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = sdd_in(dir.path(), &["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("created sdd.yaml (no test profile: found none of Cargo.toml,"),
        "{out}"
    );
    assert!(
        out.contains("runs no tests until a profile is added"),
        "{out}"
    );
    let yaml = std::fs::read_to_string(dir.path().join("sdd.yaml")).unwrap();
    assert!(yaml.contains("# No test runner recognised here"), "{yaml}");
    assert!(!yaml.contains("tests: {}"), "{yaml}");
    let file = sdd_spec::project::load_project_file(dir.path()).expect("sdd.yaml loads");
    assert!(file.tests.is_empty());
}

/// A project with one approved scenario, a test for it that passes and one that fails, in
/// the stack `files` set up: `sdd init` writes its profile, and `run_tests` through `sdd call`
/// runs it for real, reads both results and traces the passing one to the scenario, and
/// narrows the run with a filter.
fn init_profile_runs(files: &[(&str, &str)], profile: &str, env: &[(&str, String)]) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    std::fs::create_dir_all(root.join("specs")).unwrap();
    std::fs::write(
        root.join("specs/shop.yaml"),
        "feature: Shop\ndomain: shop\nscenarios:\n  - name: Checkout\n    when: I pay\n    then: [I get a receipt]\n    status: proposed\n    rationale: r\n",
    )
    .unwrap();
    let (code, out, err) = sdd_in(root, &["init"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(&format!("({profile})")), "{out}");
    if let Ok(python) = std::env::var("SDD_PYTHON") {
        let file = root.join("sdd.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(
            &file,
            text.replace("python3 -m pytest", &format!("{python} -m pytest")),
        )
        .unwrap();
    }
    let (code, _, err) = sdd_in(
        root,
        &["review", "--approve", "shop.checkout", "--by", "Tester"],
    );
    assert_eq!(code, 0, "{err}");

    // Exit 1: the run is red (a test fails); 0: the filtered run is green.
    let run = |arguments: Value, exit: i32| {
        let out = Command::new(env!("CARGO_BIN_EXE_sdd"))
            .args([
                "call",
                "implementation",
                "run_tests",
                &arguments.to_string(),
            ])
            .current_dir(root)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(
            out.status.code(),
            Some(exit),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str::<Value>(&text).unwrap()
    };
    let report = run(serde_json::json!({ "profile": profile }), 1);
    assert_eq!(report["tests"]["passed"], 1, "{report:#}");
    assert_eq!(report["tests"]["failed"], 1, "{report:#}");
    assert_eq!(report["ok"], false);
    assert!(
        report["failures"][0]["test"]
            .as_str()
            .unwrap()
            .contains("breaks"),
        "{report:#}"
    );
    let scenario = &report["traceability"]["scenarios"][0];
    assert_eq!(scenario["scenario_id"], "shop.checkout", "{report:#}");
    assert_eq!(scenario["verdict"], "passing", "{report:#}");

    let report = run(
        serde_json::json!({ "profile": profile, "filter": "sdd_shop" }),
        0,
    );
    assert_eq!(report["tests"]["total"], 1, "{report:#}");
    assert_eq!(report["ok"], true, "{report:#}");
}

#[test]
fn init_writes_a_cargo_profile_that_runs_and_is_read() {
    let dir = tempfile::tempdir().unwrap();
    init_profile_runs(
        &[
            (
                "Cargo.toml",
                "[package]\nname = \"shop\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[workspace]\n",
            ),
            (
                "src/lib.rs",
                "#[cfg(test)]\nmod tests {\n    #[test]\n    fn sdd_shop_checkout() {}\n    #[test]\n    fn breaks() {\n        assert_eq!(1 + 1, 3);\n    }\n}\n",
            ),
        ],
        "rust",
        // The project's own build, not in this workspace's target directory.
        &[(
            "CARGO_TARGET_DIR",
            dir.path().join("target").display().to_string(),
        )],
    );
}

#[test]
fn init_writes_a_pytest_profile_that_runs_and_is_read() {
    if !sdd_verify::testing::pytest_available() {
        eprintln!("skipped: no python with pytest here; set SDD_PYTHON");
        return;
    }
    init_profile_runs(
        &[
            ("pyproject.toml", "[project]\nname = \"shop\"\n"),
            (
                "tests/test_shop.py",
                "def test_sdd_shop_checkout():\n    pass\n\n\ndef test_breaks():\n    assert 1 + 1 == 3\n",
            ),
        ],
        "python",
        &[],
    );
}

#[test]
fn init_refuses_a_broken_mcp_file_instead_of_replacing_it() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".mcp.json"), "{ broken").unwrap();
    let (code, _, err) = sdd_in(dir.path(), &["init"]);
    assert_eq!(code, 2);
    assert!(err.contains(".mcp.json is not valid JSON"), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join(".mcp.json")).unwrap(),
        "{ broken"
    );
}

#[test]
fn verify_and_report_refuse_clearly_and_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    // No sdd.yaml: a located message, exit 2.
    let (code, _, err) = sdd_in(root, &["verify"]);
    assert_eq!(code, 2);
    assert!(err.contains("sdd.yaml"), "{err}");
    // Nothing verified yet: report says so.
    let (code, _, err) = sdd_in(root, &["report"]);
    assert_eq!(code, 2);
    assert!(err.contains("run `sdd verify` first"), "{err}");

    // A spec with an error stops verification before anything runs.
    let (code, _, _) = sdd_in(root, &["init"]);
    assert_eq!(code, 0);
    std::fs::write(
        root.join("specs/features.yaml"),
        "feature: Broken\nscenarios:\n  - name: no outcome\n    when: something\n",
    )
    .unwrap();
    let (code, out, _) = sdd_in(root, &["verify"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("verification stopped: the spec has errors"),
        "{out}"
    );
    assert!(
        out.contains("features.yaml:3"),
        "the error is located: {out}"
    );
    assert!(!root.join(".sdd/history.sqlite3").exists(), "no test ran");

    // Unknown profile and a report path outside the project: refused with the reason.
    let (code, _, err) = sdd_in(root, &["verify", "--profile", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("no test profile `nope`"), "{err}");
    let (code, _, err) = sdd_in(root, &["verify", "--duration", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--duration takes 1 to 120"), "{err}");
    std::fs::create_dir_all(root.join(".sdd")).unwrap();
    std::fs::write(
        root.join(".sdd/last-verify.json"),
        r#"{"project": "x", "started_at": "t", "duration_seconds": 1.0, "ok": true, "steps": [], "scenarios": [], "constraints": []}"#,
    )
    .unwrap();
    let (code, _, err) = sdd_in(root, &["report", "--out", "/tmp/elsewhere.html"]);
    assert_eq!(code, 2);
    assert!(err.contains("outside the project"), "{err}");
    let (code, out, err) = sdd_in(root, &["report", "--out", "site/report.html"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("site/report.html"), "{out}");
    assert!(root.join("site/report.html").exists());
}

/// The approval loop from a shell: an agent proposes through `sdd call` (the real protocol),
/// a person approves with `sdd review`, the agent then weakens the approved scenario by hand:
/// `sdd validate` warns, `sdd review --list` offers it again, and a new approval restores it.
#[test]
fn a_scenario_weakened_after_approval_is_shown_for_review_again() {
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    std::fs::create_dir_all(root.join("specs")).unwrap();
    std::fs::write(
        root.join("specs/tasks.yaml"),
        "feature: Tasks\ndomain: tasks\nscenarios:\n  - name: Create\n    when: I create\n    then: it exists\n",
    )
    .unwrap();
    let proposal = r#"{"domain": "tasks", "scenarios": [{"name": "Delete twice", "when": "I delete a deleted task", "then": ["I get 404 Not found"], "rationale": "unspecified"}]}"#;
    let (code, _, err) = sdd_in(
        root,
        &["call", "specification", "propose_scenarios", proposal],
    );
    assert_eq!(code, 0, "{err}");
    let forged = r#"{"domain": "tasks", "scenarios": [{"name": "Forged", "when": "w", "then": ["t"], "rationale": "r", "status": "approved"}]}"#;
    let (code, out, _) = sdd_in(
        root,
        &["call", "specification", "propose_scenarios", forged],
    );
    assert_eq!(code, 2, "a refused proposal is a failed call: {out}");
    let (code, out, err) = sdd_in(
        root,
        &["review", "--approve", "tasks.delete_twice", "--by", "Ada"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (_, listed, _) = sdd_in(root, &["review", "--list"]);
    assert!(listed.contains("0 scenario(s) waiting"), "{listed}");

    let file = root.join("specs/tasks.yaml");
    let approved = std::fs::read_to_string(&file).unwrap();
    let weakened = approved.replace("I get 404 Not found", "I get some answer");
    assert_ne!(weakened, approved);
    std::fs::write(&file, weakened).unwrap();
    let (code, out, err) = sdd_in(root, &["validate"]);
    assert_eq!(code, 0, "a warning, not an error: {out}{err}");
    assert!(
        format!("{out}{err}").contains("changed since approval"),
        "{out}{err}"
    );
    let (_, listed, _) = sdd_in(root, &["review", "--list"]);
    assert!(
        listed.contains("tasks.delete_twice") && listed.contains("changed since approval"),
        "{listed}"
    );
    let (code, out, err) = sdd_in(
        root,
        &["review", "--approve", "tasks.delete_twice", "--by", "Ada"],
    );
    assert_eq!(code, 0, "{out}{err}");
    let (_, listed, _) = sdd_in(root, &["review", "--list"]);
    assert!(listed.contains("0 scenario(s) waiting"), "{listed}");
}

/// A proposal whose ID another scenario already has cannot be decided by that ID (it would
/// decide the first): `sdd review` says so, names both places, and approving the ID does not
/// touch it.
#[test]
fn a_proposed_duplicate_is_said_not_reviewable() {
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    std::fs::create_dir_all(root.join("specs")).unwrap();
    std::fs::write(
        root.join("specs/a.yaml"),
        "feature: Tasks\ndomain: tasks\nscenarios:\n  - name: Create\n    when: I create\n    then: I see 1 task\n",
    )
    .unwrap();
    std::fs::write(
        root.join("specs/b.yaml"),
        "feature: Tasks\ndomain: tasks\nscenarios:\n  - name: Create\n    status: proposed\n    rationale: r\n    when: I create twice\n    then: I see 2 tasks\n",
    )
    .unwrap();
    let (_, listed, _) = sdd_in(root, &["review", "--list"]);
    assert!(
        listed.contains("tasks.create  (b.yaml:4:5)  Create  [not reviewable: its ID is already used at a.yaml:4:5; give it its own `id:`]"),
        "{listed}"
    );
    assert!(listed.contains("0 scenario(s) waiting"), "{listed}");
    let (code, out, err) = sdd_in(
        root,
        &["review", "--approve", "tasks.create", "--by", "Ada"],
    );
    assert_ne!(
        code, 0,
        "the first is approved already: nothing to decide: {out}{err}"
    );
    let (code, out, err) = sdd_in(root, &["validate"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        format!("{out}{err}").contains("2 scenarios"),
        "every scenario written is counted: {out}{err}"
    );
}

/// A project whose spec has a constraint and no service to check it against: nothing failed,
/// nothing was verified. The headline says NO FAILURES and names the constraint (it once said
/// VERIFIED); the exit status is 0, or 3 with `--strict`, and the saved verification agrees.
#[test]
fn verify_says_what_it_did_not_verify_and_strict_exits_3() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("specs")).unwrap();
    std::fs::write(dir.path().join("sdd.yaml"), "specs: specs\n").unwrap();
    std::fs::write(
        dir.path().join("specs/t.yaml"),
        "feature: T\ndomain: t\nconstraints:\n  performance:\n    - name: Fast\n      requirement: p95 under 100 ms\nscenarios:\n  - name: Idea\n    when: w\n    then: [y]\n    status: proposed\n    rationale: r\n",
    )
    .unwrap();
    let (code, out, err) = sdd_in(dir.path(), &["verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains(
            "NO FAILURES — 0 of 1 constraints verified; not verified: t.performance.fast (not run)"
        ) && !out.contains("VERIFIED"),
        "{out}"
    );
    let saved: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join(".sdd/last-verify.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(saved["ok"], true);
    assert_eq!(saved["overall"], "no_failures");
    assert_eq!(saved["not_verified"][0]["why"], "not run");
    let (code, out, err) = sdd_in(dir.path(), &["verify", "--strict"]);
    assert_eq!(code, 3, "{out}{err}");
}

/// `sdd export k6` on a copy of the example: the read constraint's load as a k6 script in
/// `.sdd/load/`, where it went and how to run it on stdout; a path outside the project and an
/// unknown format refused.
#[test]
fn export_k6_writes_the_script_and_says_how_to_run_it() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let example = repo().join("examples/task_manager");
    std::fs::copy(example.join("sdd.yaml"), root.join("sdd.yaml")).unwrap();
    std::fs::create_dir_all(root.join("specs")).unwrap();
    for entry in std::fs::read_dir(example.join("specs")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, root.join("specs").join(path.file_name().unwrap())).unwrap();
    }
    let (code, out, err) = sdd_in(
        root,
        &[
            "export",
            "k6",
            "--constraint",
            "task_management_system.performance.api_response_time",
            "--rate",
            "50",
            "--duration",
            "10",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let path = ".sdd/load/task_management_system_performance_api_response_time.k6.js";
    assert!(out.contains(&format!("wrote {path}")), "{out}");
    assert!(
        out.contains(
            "50 req/s on `reads` for 10 s after a 2 s warm-up; http_req_duration p(95)<100"
        ),
        "{out}"
    );
    assert!(
        out.contains(&format!("run it:        k6 run {path}")),
        "{out}"
    );
    assert!(out.contains("parallelism"), "{out}");
    let script = std::fs::read_to_string(root.join(path)).unwrap();
    assert!(script.contains("constant-arrival-rate"));
    // 2000 users (load.users), each with its own signed token.
    assert!(
        script.contains("2000 HS256 tokens, one per simulated user"),
        "{script}"
    );

    let (code, _, err) = sdd_in(root, &["export", "k6", "--out", "../x.js"]);
    assert_eq!(code, 1);
    assert!(err.contains("is outside"), "{err}");
    assert!(!root.join("../x.js").exists());
    let (code, _, err) = sdd_in(root, &["export", "jmeter"]);
    assert_eq!(code, 2);
    assert!(err.contains("not `jmeter`"), "{err}");
    let (code, _, err) = sdd_in(root, &["export", "k6", "--rate", "0"]);
    assert_eq!(code, 2);
    assert!(err.contains("--rate takes"), "{err}");
}

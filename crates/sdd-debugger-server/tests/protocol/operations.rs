//! draft_hotfix, what_if and the prompts, through the built binary, on scratch copies of the
//! task-manager example (its specs and sdd.yaml): the proposal lands in the spec file and
//! loads as `proposed`, duplicates and hostile input write nothing, parallel proposals all
//! land; the regression test compiles and fails, and traceability maps its name back; what_if
//! reads a metric store filled here and writes nothing anywhere.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rmcp::model::GetPromptRequestParams;
use sdd_mcp::test_client::{call, error_text, structured};
use serde_json::{json, Value};

use super::start;

const DOMAIN: &str = "task_management_system";
const REPORT: &str = "When I complete a task that is already completed, the API should answer 409 but it answers 500";
const DRAFTED: &str = "task_management_system.i_complete_a_task_that_is_already_completed";
const READ: &str = "task_management_system.performance.api_response_time";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scratch project: the example's specs and sdd.yaml (its cargo test profile), inside a
/// parent directory so a write outside the project would be seen.
fn example() -> (tempfile::TempDir, PathBuf) {
    let parent = tempfile::tempdir().unwrap();
    let root = parent.path().join("project");
    let example = repo().join("examples/task_manager");
    std::fs::create_dir_all(root.join("specs")).unwrap();
    for entry in std::fs::read_dir(example.join("specs")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, root.join("specs").join(path.file_name().unwrap())).unwrap();
    }
    std::fs::copy(example.join("sdd.yaml"), root.join("sdd.yaml")).unwrap();
    (parent, root)
}

/// Every file under `dir` with its bytes (the lock file excluded: taking a lock is not a write).
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if !path.to_string_lossy().ends_with(".lock") {
                out.insert(path.clone(), std::fs::read(&path).unwrap());
            }
        }
    }
    out
}

fn edge_cases(root: &Path) -> String {
    std::fs::read_to_string(root.join("specs/edge_cases.yaml")).unwrap()
}

#[tokio::test]
async fn draft_hotfix_proposes_a_scenario_that_loads_and_a_second_identical_call_is_refused() {
    let (_parent, root) = example();
    let before = edge_cases(&root);
    let client = start(&root).await;
    let example = json!({"steps": [
        {"request": {"method": "POST", "path": "/tasks", "json": {"title": "Twice ${unique}"}},
         "expect": {"status": 201}, "capture": {"id": "id"}},
        {"request": {"method": "POST", "path": "/tasks/${id}/complete"}, "expect": {"status": 200}},
        {"request": {"method": "POST", "path": "/tasks/${id}/complete"}, "expect": {"status": 409}}
    ]});
    let args =
        json!({"report": REPORT, "domain": DOMAIN, "given": "A task exists", "example": example});
    let answer = structured(&call(&client, "draft_hotfix", args.clone()).await);
    let headline = answer["headline"].as_str().unwrap();
    assert!(
        headline.starts_with(&format!("Proposed `{DRAFTED}` in edge_cases.yaml")),
        "{headline}"
    );
    assert_eq!(answer["written"]["ids"][0], DRAFTED);
    assert_eq!(answer["report"]["actual"], "it answers 500");
    assert_eq!(
        answer["framework_from"],
        "test profile `rust` of sdd.yaml (`cargo test --no-fail-fast`)"
    );

    // In the file, as a proposal that loads; Y is the expectation, Z only the reported bug.
    let after = edge_cases(&root);
    assert!(
        after.starts_with(&before),
        "people's text is kept byte for byte"
    );
    let loaded = sdd_spec::load_dir(&root.join("specs")).unwrap();
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.severity != sdd_spec::Severity::Error),
        "{:?}",
        loaded.diagnostics
    );
    let scenario = loaded.spec.scenario(DRAFTED).unwrap();
    assert_eq!(scenario.status, sdd_spec::document::ReviewStatus::Proposed);
    assert_eq!(scenario.proposed_by.as_deref(), Some("agent"));
    assert_eq!(scenario.then, vec!["The API should answer 409".to_string()]);
    assert!(scenario.then.iter().all(|t| !t.contains("500")));
    assert!(scenario
        .rationale
        .as_deref()
        .unwrap()
        .contains("observed today instead: it answers 500"));
    assert_eq!(scenario.given, vec!["A task exists".to_string()]);
    assert_eq!(scenario.examples.len(), 1);

    // What the fix must keep, each with why.
    let guards = answer["must_not_break"].as_array().unwrap();
    let complete = guards
        .iter()
        .find(|g| g["id"] == "task_management_system.complete_a_task")
        .unwrap();
    assert!(
        complete["why"][0].as_str().unwrap().contains("same domain"),
        "{complete:#}"
    );
    let auth = guards
        .iter()
        .find(|g| g["id"] == "task_management_system.security.authentication_required")
        .unwrap();
    // Its examples send requests the authentication probe checks: impact analysis names it.
    let why = auth["why"].to_string();
    assert!(
        why.contains("impact analysis") && why.contains("constraint of the domain"),
        "{why}"
    );
    assert!(guards.iter().all(|g| g["id"] != DRAFTED));

    // Again: the ID exists; nothing is written.
    let again = call(&client, "draft_hotfix", args).await;
    let err = error_text(&again);
    assert!(
        err.contains("nothing was written") && err.contains("is already used"),
        "{err}"
    );
    assert_eq!(edge_cases(&root), after);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_cargo_skeleton_compiles_fails_and_maps_back_to_its_scenario() {
    let (_parent, root) = example();
    let client = start(&root).await;
    let answer = structured(
        &call(
            &client,
            "draft_hotfix",
            json!({"report": REPORT, "domain": DOMAIN, "test_path": "tests/regression_twice.rs"}),
        )
        .await,
    );
    client.cancel().await.unwrap();
    let test = &answer["test"];
    let name = test["test_name"].as_str().unwrap();
    assert_eq!(
        name,
        "sdd_task_management_system_i_complete_a_task_that_is_already_completed"
    );
    assert_eq!(answer["test_written"], "tests/regression_twice.rs");
    let code = std::fs::read_to_string(root.join("tests/regression_twice.rs")).unwrap();
    assert_eq!(code, test["code"].as_str().unwrap());
    assert!(code.contains(&format!("#[test]\nfn {name}() {{")), "{code}");
    assert!(
        code.contains("// Today, instead (the bug report): it answers 500"),
        "{code}"
    );

    // The test file is never replaced: a second draft naming it writes nothing at all.
    let client = start(&root).await;
    let specs_before = snapshot(&root.join("specs"));
    let err = error_text(
        &call(
            &client,
            "draft_hotfix",
            json!({"report": "When I list no tasks, the API should answer 200 but it answers 404", "domain": DOMAIN, "test_path": "tests/regression_twice.rs"}),
        )
        .await,
    );
    assert!(
        err.contains("exists") && err.contains("new test files only"),
        "{err}"
    );
    assert_eq!(snapshot(&root.join("specs")), specs_before);
    client.cancel().await.unwrap();

    // Traceability picks the name up: the spec's own mapping finds the scenario.
    let loaded = sdd_spec::load_dir(&root.join("specs")).unwrap();
    let map = sdd_results::trace::TestMap::new(&loaded.spec);
    assert_eq!(map.scenario_for(name).id(), Some(DRAFTED));
    assert_eq!(
        map.scenario_for(&format!("regression_twice::{name}")).id(),
        Some(DRAFTED)
    );

    // It compiles as a test crate, and fails until someone writes its body.
    let out = root.join("regression_twice");
    let compiled = std::process::Command::new("rustc")
        .args(["--edition", "2021", "--test"])
        .arg(root.join("tests/regression_twice.rs"))
        .arg("-o")
        .arg(&out)
        .output()
        .expect("rustc runs");
    assert!(
        compiled.status.success(),
        "{}",
        String::from_utf8_lossy(&compiled.stderr)
    );
    let run = std::process::Command::new(&out).output().unwrap();
    assert!(!run.status.success(), "the skeleton must fail");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains(&format!("test {name} ... FAILED")),
        "{stdout}"
    );
}

#[tokio::test]
async fn write_false_drafts_without_writing_and_hostile_input_writes_nothing() {
    let (parent, root) = example();
    let before = snapshot(parent.path());
    let client = start(&root).await;
    let drafted = structured(
        &call(
            &client,
            "draft_hotfix",
            json!({"report": REPORT, "domain": DOMAIN, "write": false}),
        )
        .await,
    );
    assert!(drafted["headline"]
        .as_str()
        .unwrap()
        .starts_with(&format!("Drafted `{DRAFTED}` (not written")));
    assert_eq!(drafted["scenario"]["status"], "proposed");
    assert!(drafted.get("written").is_none());

    let huge = format!("When {}, it should work but it fails", "x".repeat(200_000));
    let cases: Vec<(Value, &str)> = vec![
        (json!({"report": huge, "domain": DOMAIN}), "at most 3000"),
        (
            json!({"report": "When I ring\u{7}, it should answer but it fails", "domain": DOMAIN}),
            "control",
        ),
        (
            json!({"report": "When I read \u{202e}txt, it should work but it fails", "domain": DOMAIN}),
            "scenarios[0]",
        ),
        (
            json!({"report": "It breaks", "domain": DOMAIN}),
            "missing the situation",
        ),
        (
            json!({"report": REPORT, "domain": DOMAIN, "test_path": "../outside.rs"}),
            "outside",
        ),
        (
            json!({"report": REPORT, "domain": DOMAIN, "test_path": "/tmp/outside.rs"}),
            "outside",
        ),
        (
            json!({"report": REPORT, "domain": DOMAIN, "test_path": "specs/x.rs"}),
            "inside the spec directory",
        ),
        (
            json!({"report": REPORT, "domain": DOMAIN, "test_path": "tests/x.py"}),
            "ending in `.rs`",
        ),
        (
            json!({"report": REPORT, "domain": DOMAIN, "file": "../../outside.yaml"}),
            "outside",
        ),
        (
            json!({"report": REPORT, "domain": "Not A Domain"}),
            "not a domain name",
        ),
        (
            json!({"report": REPORT, "when": "x", "domain": DOMAIN}),
            "not both",
        ),
        (
            json!({"when": "x", "actual": "y", "domain": DOMAIN}),
            "`expected` is missing",
        ),
        (
            json!({"report": REPORT, "domain": DOMAIN, "framework": "cobol"}),
            "unknown variant",
        ),
    ];
    for (args, needle) in cases {
        let result = call(&client, "draft_hotfix", args.clone()).await;
        let err = error_text(&result);
        assert!(err.contains(needle), "{args:.200}: {err}");
    }
    client.cancel().await.unwrap();
    assert_eq!(
        snapshot(parent.path()),
        before,
        "nothing was written anywhere"
    );
}

/// Every call of `args` at once, each on its own task, and their results.
async fn all_at_once(
    client: &std::sync::Arc<sdd_mcp::test_client::Client>,
    args: Vec<Value>,
) -> Vec<rmcp::model::CallToolResult> {
    let handles: Vec<_> = args
        .into_iter()
        .map(|a| {
            let client = client.clone();
            tokio::spawn(async move { call(&client, "draft_hotfix", a).await })
        })
        .collect();
    let mut out = Vec::new();
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_proposals_all_land_and_identical_ones_land_once() {
    let (_parent, root) = example();
    let client = std::sync::Arc::new(start(&root).await);
    let distinct = (0..8)
        .map(|i| json!({"report": format!("When I complete task number {i} twice, the API should answer 409 but it answers 500"), "domain": DOMAIN}))
        .collect();
    for r in all_at_once(&client, distinct).await {
        assert_ne!(r.is_error, Some(true), "{}", error_text(&r));
    }
    let same = (0..4)
        .map(|_| json!({"report": REPORT, "domain": DOMAIN}))
        .collect();
    let results = all_at_once(&client, same).await;
    let landed = results.iter().filter(|r| r.is_error != Some(true)).count();
    assert_eq!(
        landed, 1,
        "one identical proposal lands, the rest are duplicates"
    );
    let loaded = sdd_spec::load_dir(&root.join("specs")).unwrap();
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.severity != sdd_spec::Severity::Error),
        "{:?}",
        loaded.diagnostics
    );
    let proposed = loaded
        .spec
        .scenarios
        .iter()
        .filter(|s| s.tags.iter().any(|t| t == "regression"))
        .count();
    assert_eq!(proposed, 9);
}

// ---------------------------------------------------------------------------------------------
// what_if on a metric store with known reads.

/// The data ends here: 2026-03-01T12:00:00Z.
const END: i64 = 1_772_366_400;
const AT: &str = "2026-03-01T12:00:00Z";
const BOUNDS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// An hour of reads scraped every 15 s: per scrape 18 within 4 ms and 2 at 20 ms (p95 in
/// (10 ms, 25 ms]), and writes at 8 ms.
fn reads_openmetrics() -> String {
    let mut out = String::from("# TYPE http_request_duration_seconds histogram\n");
    for (method, route, status, per_step) in [
        ("GET", "/tasks", "200", vec![(0.004, 18u64), (0.02, 2)]),
        ("POST", "/tasks", "201", vec![(0.008, 4)]),
    ] {
        let labels = format!(r#"method="{method}",route="{route}",status="{status}""#);
        let mut lines: Vec<String> = vec![String::new(); 18];
        for i in 0..=240i64 {
            let t = END - (240 - i) * 15;
            let n = (i + 1) as u64;
            let cumulative = |bound: f64| -> u64 {
                per_step
                    .iter()
                    .filter(|(v, _)| *v <= bound)
                    .map(|(_, c)| c * n)
                    .sum()
            };
            for (b, bound) in BOUNDS.iter().enumerate() {
                let _ = writeln!(
                    lines[b],
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {} {t}",
                    cumulative(*bound)
                );
            }
            let count = cumulative(f64::INFINITY);
            let sum: f64 = per_step.iter().map(|(v, c)| v * (*c * n) as f64).sum();
            let _ = writeln!(
                lines[16],
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count} {t}"
            );
            let _ = writeln!(lines[17], "http_request_duration_seconds_sum{{{labels}}} {sum} {t}\nhttp_request_duration_seconds_count{{{labels}}} {count} {t}");
        }
        // One series' samples in time order, series after series.
        let mut per_series: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for line in lines.concat().lines() {
            let series = line.rsplitn(3, ' ').nth(2).unwrap().to_string();
            per_series.entry(series).or_default().push(line.to_string());
        }
        for samples in per_series.values() {
            for s in samples {
                out.push_str(s);
                out.push('\n');
            }
        }
    }
    out.push_str("# EOF\n");
    out
}

fn import(root: &Path, text: &str) {
    let file = root.join("data.om");
    std::fs::write(&file, text).unwrap();
    let mut store = sdd_metrics::store::MetricStore::open(root).unwrap();
    let report = sdd_metrics::import::import_file(&mut store, &file).unwrap();
    assert!(
        report.problems.is_empty() && report.eof,
        "{:?}",
        report.problems.kept()
    );
    std::fs::remove_file(file).unwrap();
}

#[tokio::test]
async fn what_if_reports_headroom_eaten_and_a_bound_that_would_be_violated_writing_nothing() {
    let (parent, root) = example();
    import(&root, &reads_openmetrics());
    let before = snapshot(parent.path());
    let client = start(&root).await;
    let tighten = |limit: &str| {
        json!({
            "change": format!("id: {READ}\nname: API response time\nrequirement: p95 latency < {limit} for all read operations\nmeasurement: Under load of 1000 requests/second\n"),
            "at": AT,
        })
    };
    let answer = structured(&call(&client, "what_if", tighten("5ms")).await);
    let headline = answer["headline"].as_str().unwrap();
    assert!(
        headline.contains(&format!("WOULD BE VIOLATED NOW: {READ}")),
        "{headline}"
    );
    assert!(headline.ends_with("Nothing was written."), "{headline}");
    assert_eq!(answer["applied"]["action"], "edit");
    assert_eq!(answer["impact"]["constraints"]["changed"][0]["id"], READ);
    let row = &answer["headroom"][0];
    assert_eq!(row["constraint"], READ);
    assert_eq!(row["status_before"], "passing", "{row:#}");
    assert_eq!(row["status_after"], "failing", "{row:#}");
    assert_eq!(row["would_be_violated_now"], true);
    assert_eq!(row["limit_before"], 100.0);
    assert_eq!(row["limit_after"], 5.0);
    assert!(
        row["headroom_after_percent"].as_f64().unwrap() < 0.0,
        "{row:#}"
    );
    // The latency alert reads the new bound.
    let alerts = answer["alerts"].as_array().unwrap();
    assert!(
        alerts.iter().any(|a| a["change"] == "changed"
            && a["constraint"] == READ
            && a["expr_after"].as_str().unwrap().contains("0.005")),
        "{alerts:#?}"
    );

    // A bound still above today's p95 eats headroom without a violation.
    let answer = structured(&call(&client, "what_if", tighten("50ms")).await);
    let row = &answer["headroom"][0];
    assert_eq!(row["would_be_violated_now"], false, "{row:#}");
    assert!(
        row["summary"].as_str().unwrap().starts_with("eats "),
        "{row:#}"
    );
    assert!(
        row["headroom_after_percent"].as_f64().unwrap()
            < row["headroom_before_percent"].as_f64().unwrap()
    );

    // A changed error-rate constraint changes the burn-rate alerts' expressions.
    let answer = structured(
        &call(
            &client,
            "what_if",
            json!({"change": "id: task_management_system.reliability.uptime\nname: Uptime\nrequirement: 99.99% availability\n", "at": AT}),
        )
        .await,
    );
    let burn: Vec<&Value> = answer["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["name"]
                .as_str()
                .unwrap()
                .starts_with("SddErrorBudgetBurn")
        })
        .collect();
    assert_eq!(burn.len(), 4, "{:#}", answer["alerts"]);
    for alert in burn {
        assert_eq!(alert["change"], "changed");
        assert!(alert["expr_before"].as_str().unwrap().contains("0.001"));
        assert!(alert["expr_after"].as_str().unwrap().contains("0.0001"));
    }
    assert!(
        answer["dashboard"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["title"] == "Availability (floor 99.99%)"),
        "{:#}",
        answer["dashboard"]
    );

    // A new scenario: impact, no headroom; a change that does not load is an error.
    let answer = structured(
        &call(&client, "what_if", json!({"change": "name: Rename a task\nwhen: I rename a task\nthen: It has the new title\n", "domain": DOMAIN})).await,
    );
    assert_eq!(answer["applied"]["action"], "new");
    assert_eq!(
        answer["impact"]["scenarios"]["added"][0],
        "task_management_system.rename_a_task"
    );
    assert_eq!(answer["headroom"], json!([]));
    for (args, needle) in [
        (
            json!({"change": "name: x\nwhen: y\nthen: z\ncolour: red\n", "domain": DOMAIN}),
            "does not load",
        ),
        (
            json!({"change": "name: x\nwhen: y\nthen: z\n"}),
            "give `domain`",
        ),
        (json!({"change": "a: [".repeat(200)}), "`change`"),
        (
            json!({"change": "feature: X\n", "file": "../../etc/x.yaml"}),
            "outside the spec root",
        ),
        (json!({"change": "x".repeat(5_000_000)}), "at most"),
    ] {
        let err = error_text(&call(&client, "what_if", args.clone()).await);
        assert!(err.contains(needle), "{:.200}: {err}", args.to_string());
    }
    client.cancel().await.unwrap();
    assert_eq!(snapshot(parent.path()), before, "what_if wrote nothing");
}

#[tokio::test]
async fn what_if_without_metrics_says_not_reached_never_passing() {
    let (_parent, root) = example();
    let client = start(&root).await;
    let answer = structured(
        &call(&client, "what_if", json!({"change": format!("id: {READ}\nname: API response time\nrequirement: p95 latency < 5ms for all read operations\n")})).await,
    );
    let row = &answer["headroom"][0];
    assert_eq!(row["status_after"], "unchecked", "{row:#}");
    assert_eq!(row["would_be_violated_now"], false);
    assert!(
        row["summary"].as_str().unwrap().starts_with("not reached"),
        "{row:#}"
    );
    assert!(answer["headline"]
        .as_str()
        .unwrap()
        .contains("not reached by the metrics"));
    assert!(!root.join(".sdd").exists(), "no store was created");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_operations_prompts_are_listed_and_filled_in() {
    let (_parent, root) = example();
    let client = start(&root).await;
    let prompts = client.list_all_prompts().await.unwrap();
    let mut names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(names, vec!["investigate_incident", "write_hotfix"]);
    let get = |name: &str, args: Value| {
        GetPromptRequestParams::new(name.to_string())
            .with_arguments(args.as_object().unwrap().clone())
    };
    let hotfix = client
        .get_prompt(get("write_hotfix", json!({"report": REPORT})))
        .await
        .unwrap();
    let text = format!("{hotfix:?}");
    assert!(
        text.contains("draft_hotfix") && text.contains("sdd review") && text.contains("run_tests"),
        "{text}"
    );
    assert!(text.contains("answers 500"));
    let incident = client
        .get_prompt(get("investigate_incident", json!({"since": "2h"})))
        .await
        .unwrap();
    let text = format!("{incident:?}");
    assert!(
        text.contains("analyze_incident") && text.contains("generate_runbook"),
        "{text}"
    );
    assert!(
        client
            .get_prompt(GetPromptRequestParams::new("write_hotfix"))
            .await
            .is_err(),
        "a missing report is refused"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn prompts_match_the_snapshot() {
    let (_parent, root) = example();
    sdd_mcp::test_client::assert_prompt_snapshot(
        start(&root).await,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/prompts.json"),
    )
    .await;
}

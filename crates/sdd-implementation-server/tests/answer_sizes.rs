//! Answer sizes (issue 12) of the implementation server's list tools on a large project: the
//! generated spec of 10,000 scenarios, test runs of 10,000 tests (JUnit XML written by the
//! profile's command) of which the second fails half — thousands of regressions — and a history
//! of 120 more runs that each flag 300 regressions. Every default answer stays under 40,000
//! characters and every largest page under 100,000, as the client receives them (the serialized
//! `CallToolResult`). Sizes only, never times.

use std::fmt::Write as _;
use std::path::Path;

use rmcp::model::CallToolResult;
use sdd_history::{History, NewRun, RunKind, SubjectResult, SubjectStatus};
use sdd_mcp::test_client::{call, structured, Client};
use sdd_mcp::{test_spec, MAX_PAGE};
use sdd_spec::document::ReviewStatus;
use serde_json::{json, Value};

const DEFAULT_BOUND: usize = 40_000;
const LARGEST_BOUND: usize = 100_000;
/// Runs recorded straight into the history before the server starts.
const RECORDED_RUNS: usize = 120;

fn chars<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_string(value)
        .expect("serializable")
        .chars()
        .count()
}

/// JUnit XML with one pytest-named test per approved scenario (`failing(n)`: whether the n-th
/// fails, with a message and some output) and `unmapped` tests that name no scenario.
fn junit(ids: &[String], failing: impl Fn(usize) -> bool, unmapped: usize) -> String {
    let mut xml =
        String::from("<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"pytest\">\n");
    for (n, id) in ids.iter().enumerate() {
        let name = format!("test_sdd_{}", sdd_spec::ids::test_key(id));
        if failing(n) {
            let _ = writeln!(
                xml,
                "<testcase classname=\"tests.test_generated\" name=\"{name}\" time=\"0.01\"><failure message=\"AssertionError: expected status 201, got 500\">tests/test_generated.py:{n}: in {name}\n    assert response.status_code == 201\nE   AssertionError: expected status 201, got 500\nE   assert 500 == 201</failure></testcase>"
            );
        } else {
            let _ = writeln!(
                xml,
                "<testcase classname=\"tests.test_generated\" name=\"{name}\" time=\"0.01\"/>"
            );
        }
    }
    for n in 0..unmapped {
        let _ = writeln!(
            xml,
            "<testcase classname=\"tests.test_helpers\" name=\"test_helper_number_{n}\" time=\"0.001\"/>"
        );
    }
    xml.push_str("</testsuite></testsuites>\n");
    xml
}

/// Runs of the executable examples, each flipping 300 scenarios between passing and failing,
/// so each flags 300 regressions (every other run).
fn record_runs(project: &Path, ids: &[String]) {
    let mut history = History::open(project).expect("history");
    for run in 0..RECORDED_RUNS {
        let results = ids
            .iter()
            .take(600)
            .enumerate()
            .map(|(n, id)| SubjectResult {
                subject: id.clone(),
                status: if (n + run) % 2 == 0 {
                    SubjectStatus::Passing
                } else {
                    SubjectStatus::Failing
                },
                detail: ((n + run) % 2 == 1).then(|| "expected status 200, got 500".into()),
            })
            .collect();
        history
            .record(&NewRun {
                kind: RunKind::Checks,
                label: "examples".into(),
                started_at: format!("2025-01-01T00:{:02}:{:02}Z", run / 60, run % 60),
                duration_seconds: 1.5,
                commit: Some(format!("{run:040x}")),
                dirty: Some(false),
                filter: None,
                ok: false,
                summary: json!({"examples": 600, "passing": 300, "failing": 300}),
                results,
                tests: Vec::new(),
            })
            .expect("record");
    }
}

struct Walk {
    client: Client,
    report: String,
    over: Vec<String>,
}

impl Walk {
    async fn tool(&mut self, tool: &str, case: &str, args: Value, bound: usize) -> CallToolResult {
        let result = call(&self.client, tool, args.clone()).await;
        assert_ne!(
            result.is_error,
            Some(true),
            "{tool} {args}: {}",
            sdd_mcp::result_text(&result)
        );
        let size = chars(&result);
        let line = format!("{size:>8} / {bound:>7}  {tool} {case} {args}\n");
        if size > bound {
            self.over.push(line.clone());
        }
        self.report.push_str(&line);
        result
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_answers_stay_within_their_bounds_on_a_large_project() {
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    test_spec::write_large_spec(&root.join("specs")).unwrap();
    let loaded = sdd_spec::load_dir(&root.join("specs")).unwrap();
    let approved: Vec<String> = loaded
        .spec
        .scenarios
        .iter()
        .filter(|s| s.status == ReviewStatus::Approved)
        .map(|s| s.id.clone())
        .collect();
    std::fs::write(root.join("green.xml"), junit(&approved, |_| false, 200)).unwrap();
    std::fs::write(root.join("red.xml"), junit(&approved, |n| n % 2 == 1, 300)).unwrap();
    std::fs::write(
        root.join("sdd.yaml"),
        "specs: specs\ntests:\n  unit:\n    command: if [ -f second ]; then cp red.xml results.xml; else cp green.xml results.xml; touch second; fi\n    results: {format: junit, path: results.xml}\n",
    )
    .unwrap();
    record_runs(root, &approved);

    let client = sdd_mcp::test_client::start(
        env!("CARGO_BIN_EXE_sdd-implementation"),
        &["--project".as_ref(), root.as_os_str()],
    )
    .await;
    let mut walk = Walk {
        client,
        report: String::new(),
        over: Vec::new(),
    };
    let (d, l) = (DEFAULT_BOUND, LARGEST_BOUND);
    let max = json!({ "limit": MAX_PAGE });

    walk.tool("list_test_profiles", "default", json!({}), d)
        .await;
    walk.tool(
        "run_tests",
        "default (all pass)",
        json!({"profile": "unit"}),
        d,
    )
    .await;
    let red = walk
        .tool(
            "run_tests",
            "default (half fail)",
            json!({"profile": "unit"}),
            d,
        )
        .await;
    let red = structured(&red);
    assert!(
        red["regressions_omitted"].as_u64().unwrap() > 4_000,
        "{}",
        red["regressions_omitted"]
    );
    let trace = walk.tool("traceability", "default", json!({}), d).await;
    assert_eq!(structured(&trace)["page"]["total"], approved.len());
    walk.tool("traceability", "largest", max.clone(), l).await;
    walk.tool(
        "traceability",
        "largest failing",
        json!({"verdict": "failing", "limit": MAX_PAGE}),
        l,
    )
    .await;
    let history = walk.tool("history", "default", json!({}), d).await;
    assert_eq!(
        structured(&history)["page"]["total"],
        RECORDED_RUNS + 2,
        "every run is counted"
    );
    walk.tool("history", "largest", max.clone(), l).await;
    walk.tool(
        "history",
        "largest for one scenario",
        json!({"scenario": approved[1], "limit": MAX_PAGE}),
        l,
    )
    .await;
    let compared = walk.tool("compare_runs", "default", json!({}), d).await;
    let compared = structured(&compared);
    assert!(
        compared["totals"]["newly_failing"].as_u64().unwrap() > 4_000
            && compared["page"]["next_offset"].is_u64(),
        "{}",
        compared["totals"]
    );
    walk.tool("compare_runs", "largest", max.clone(), l).await;
    walk.tool("project_status", "default", json!({}), d).await;
    walk.client.cancel().await.unwrap();

    eprintln!("answer sizes (characters / bound):\n{}", walk.report);
    assert!(
        walk.over.is_empty(),
        "answers over their bound:\n{}",
        walk.over.join("")
    );
}

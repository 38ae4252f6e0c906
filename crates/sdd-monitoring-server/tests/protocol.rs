//! Protocol tests: the built `sdd-monitoring` binary spawned as a child process and driven by
//! rmcp's client, as an MCP client would, on scratch copies of the task-manager example (its
//! specs and sdd.yaml) whose embedded metric store is filled by importing OpenMetrics text
//! generated here: two hours of the metrics convention (README, "Metrics convention") ending
//! at a fixed instant, which every call names as `at`, so every figure is known in advance.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use rmcp::model::CallToolRequestParams;
use sdd_mcp::test_client::{call, error_text, structured, Client};
use serde_json::{json, Value};

const SERVER: &str = env!("CARGO_BIN_EXE_sdd-monitoring");

/// The generated data ends here: 2026-03-01T12:00:00Z, in seconds.
const END: i64 = 1_772_366_400;
const AT: &str = "2026-03-01T12:00:00Z";
/// A scrape every 15 s for two hours: steps 0..=480, the default window (1h) holds 241..=480.
const STEP: i64 = 15;
const STEPS: i64 = 480;
const FIRST_IN_WINDOW: i64 = STEPS - 3600 / STEP + 1;

const READ: &str = "task_management_system.performance.api_response_time";
const WRITE: &str = "task_management_system.performance.write_operation_latency";
const UPTIME: &str = "task_management_system.reliability.uptime";
const AUTH: &str = "task_management_system.security.authentication_required";
const RATE_LIMIT: &str = "task_management_system.security.rate_limiting";

const CREATE: &str = "task_management_system.create_a_simple_task";
const COMPLETE: &str = "task_management_system.complete_a_task";
const COMPLETE_TWICE: &str = "task_management_system.cannot_complete_already_completed_task";
const LIST: &str = "task_management_system.list_tasks_filtered_by_status";
const NOT_IN_SPEC: &str = "task_management_system.no_such_scenario";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

async fn start(project: &Path) -> Client {
    sdd_mcp::test_client::start(SERVER, &["--project".as_ref(), project.as_os_str()]).await
}

// ---------------------------------------------------------------------------------------------
// The data: the example service's metrics as `sdd monitor` would have scraped them.

/// The example's histogram bounds (README, "Metrics convention").
const BOUNDS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

#[derive(Debug, Clone, Copy, PartialEq)]
enum Traffic {
    /// Reads: 18 of 20 per scrape within 5 ms, 2 at 20 ms (p95 17.5 ms).
    Healthy,
    /// The example's `slow_reads` fault: 18 of 20 reads at 170 ms, in the (0.15, 0.2] bucket.
    SlowReads,
    /// Healthy latency, and one read in 21 answered 500.
    ServerErrors,
}

/// (method, route template, status)
type Key = (&'static str, &'static str, &'static str);

/// An outcome series: (scenario, outcome, how many it counts at step `i`).
type OutcomeSeries = (&'static str, &'static str, fn(i64) -> u64);

/// What the service observed during scrape interval `i`: (series, seconds, how many).
fn observations(traffic: Traffic, i: i64) -> Vec<(Key, f64, u64)> {
    let mut o = Vec::new();
    if traffic == Traffic::SlowReads {
        o.push((("GET", "/tasks", "200"), 0.17, 18));
        o.push((("GET", "/tasks", "200"), 0.004, 2));
    } else {
        o.push((("GET", "/tasks", "200"), 0.004, 18));
        o.push((("GET", "/tasks", "200"), 0.02, 2));
    }
    o.push((("POST", "/tasks", "201"), 0.008, 4));
    o.push((("GET", "/tasks/{id}", "200"), 0.003, 5));
    // Refusals, on a route the read constraint does not cover.
    o.push((("GET", "/tasks/{id}", "401"), 0.001, u64::from(i % 4 == 0)));
    // A rare failure: within the uptime constraint's budget.
    o.push((("POST", "/tasks", "500"), 0.009, u64::from(i % 80 == 0)));
    if traffic == Traffic::ServerErrors {
        o.push((("GET", "/tasks", "500"), 0.002, 1));
    }
    o
}

/// The resident memory gauge at step `i`.
fn rss(i: i64) -> f64 {
    (50_000_000 + (i % 17) * 1_000_000) as f64
}

fn time_of(i: i64) -> i64 {
    END - (STEPS - i) * STEP
}

/// One series' samples as OpenMetrics lines (time in seconds).
fn series(out: &mut String, series: &str, points: impl IntoIterator<Item = (i64, f64)>) {
    for (t, v) in points {
        writeln!(out, "{series} {v} {t}").unwrap();
    }
}

/// Two hours of the convention's metrics: the request histogram, the scenario outcome counter,
/// a process gauge, and the synthetic journeys (every 30 s) `sdd monitor` records.
fn openmetrics(traffic: Traffic) -> String {
    // Cumulative state of each histogram series after each step.
    #[derive(Clone, Default)]
    struct Hist {
        buckets: [u64; 17],
        sum: f64,
        count: u64,
    }
    let mut state: BTreeMap<Key, Hist> = BTreeMap::new();
    let mut history: BTreeMap<Key, Vec<Hist>> = BTreeMap::new();
    for i in 0..=STEPS {
        for (key, value, n) in observations(traffic, i) {
            let h = state.entry(key).or_default();
            for (b, bound) in BOUNDS.iter().enumerate() {
                if value <= *bound {
                    h.buckets[b] += n;
                }
            }
            h.buckets[16] += n;
            h.sum += value * n as f64;
            h.count += n;
        }
        for (key, h) in &state {
            history.entry(*key).or_default().push(h.clone());
        }
    }
    let mut out = String::new();
    out.push_str("# TYPE http_request_duration_seconds histogram\n");
    out.push_str("# HELP http_request_duration_seconds Request duration in seconds.\n");
    for ((method, route, status), steps) in &history {
        let labels = format!(r#"method="{method}",route="{route}",status="{status}""#);
        for b in 0..17 {
            let le = BOUNDS
                .get(b)
                .map(|v| v.to_string())
                .unwrap_or("+Inf".into());
            series(
                &mut out,
                &format!("http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}}"),
                steps
                    .iter()
                    .enumerate()
                    .map(|(i, h)| (time_of(i as i64), h.buckets[b] as f64)),
            );
        }
        series(
            &mut out,
            &format!("http_request_duration_seconds_sum{{{labels}}}"),
            steps
                .iter()
                .enumerate()
                .map(|(i, h)| (time_of(i as i64), h.sum)),
        );
        series(
            &mut out,
            &format!("http_request_duration_seconds_count{{{labels}}}"),
            steps
                .iter()
                .enumerate()
                .map(|(i, h)| (time_of(i as i64), h.count as f64)),
        );
    }

    out.push_str("# TYPE sdd_scenario_outcomes counter\n");
    let outcomes: [OutcomeSeries; 6] = [
        (CREATE, "success", |_| 4),
        (CREATE, "failure", |_| 0),
        (COMPLETE, "success", |_| 1),
        // The service counted a failure now and then.
        (COMPLETE, "failure", |i| u64::from(i % 20 == 0)),
        // Present from 0, never moved: no evidence either way.
        (COMPLETE_TWICE, "success", |_| 0),
        // An ID the spec does not have.
        (NOT_IN_SPEC, "success", |_| 1),
    ];
    for (scenario, outcome, per_step) in outcomes {
        let mut total = 0;
        series(
            &mut out,
            &format!(r#"sdd_scenario_outcomes_total{{scenario="{scenario}",outcome="{outcome}"}}"#),
            (0..=STEPS).map(|i| {
                total += per_step(i);
                (time_of(i), total as f64)
            }),
        );
    }

    out.push_str("# TYPE process_resident_memory_bytes gauge\n");
    series(
        &mut out,
        "process_resident_memory_bytes",
        (0..=STEPS).map(|i| (time_of(i), rss(i))),
    );

    // Journeys every 30 s; one run of COMPLETE_TWICE failed, in the window. LIST has none.
    out.push_str("# TYPE sdd_journey_success gauge\n");
    for scenario in [CREATE, COMPLETE, COMPLETE_TWICE] {
        series(
            &mut out,
            &format!(r#"sdd_journey_success{{job="sdd-journeys",scenario="{scenario}"}}"#),
            (0..=STEPS).step_by(2).map(|i| {
                let failed = scenario == COMPLETE_TWICE && i == 400;
                (time_of(i), if failed { 0.0 } else { 1.0 })
            }),
        );
    }
    out.push_str("# TYPE sdd_journey_duration_seconds gauge\n");
    for scenario in [CREATE, COMPLETE, COMPLETE_TWICE] {
        series(
            &mut out,
            &format!(r#"sdd_journey_duration_seconds{{job="sdd-journeys",scenario="{scenario}"}}"#),
            (0..=STEPS).step_by(2).map(|i| (time_of(i), 0.012)),
        );
    }
    out.push_str("# EOF\n");
    out
}

/// 1,000 series of one metric (`wide_gauge{item=…}`), 1,000 metric names of one series each,
/// and outcome counts under 1,000 scenario IDs the spec does not have (a service labelling
/// outcomes with something else than the ID): five samples each, the last at `END`.
fn wide_openmetrics() -> String {
    let mut out = String::from("# TYPE wide_gauge gauge\n");
    for k in 0..1000 {
        series(
            &mut out,
            &format!(r#"wide_gauge{{item="item-{k:04}"}}"#),
            (0..5).map(|n| (END - 60 * (4 - n), (k + n) as f64)),
        );
    }
    for k in 0..1000 {
        writeln!(out, "# TYPE name_{k:04} gauge").unwrap();
        series(&mut out, &format!("name_{k:04}"), [(END, k as f64)]);
    }
    out.push_str("# TYPE sdd_scenario_outcomes counter\n");
    for k in 0..1000 {
        series(
            &mut out,
            &format!(
                r#"sdd_scenario_outcomes_total{{scenario="task_management_system.wrong_id_{k:04}",outcome="success"}}"#
            ),
            (0..5).map(|n| (END - 60 * (4 - n), n as f64)),
        );
    }
    out.push_str("# EOF\n");
    out
}

// ---------------------------------------------------------------------------------------------
// Projects.

/// A scratch copy of the example's specs and sdd.yaml; `monitoring`, when given, replaces the
/// example's `monitoring:` section (YAML text starting with `monitoring:`).
fn project(monitoring: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let example = repo().join("examples/task_manager");
    std::fs::create_dir_all(dir.path().join("specs")).unwrap();
    for entry in std::fs::read_dir(example.join("specs")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(
            &path,
            dir.path().join("specs").join(path.file_name().unwrap()),
        )
        .unwrap();
    }
    let mut yaml = std::fs::read_to_string(example.join("sdd.yaml")).unwrap();
    if let Some(section) = monitoring {
        let at = yaml
            .find("\nmonitoring:")
            .expect("the example's sdd.yaml has a monitoring section");
        yaml.truncate(at + 1);
        yaml.push_str(section);
    }
    std::fs::write(dir.path().join("sdd.yaml"), yaml).unwrap();
    dir
}

/// Import `text` into the project's embedded store, as `sdd metrics import` does.
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
    assert_eq!(report.samples, report.inserted);
    std::fs::remove_file(file).unwrap();
}

fn project_with(traffic: Traffic) -> tempfile::TempDir {
    let dir = project(None);
    import(dir.path(), &openmetrics(traffic));
    dir
}

// ---------------------------------------------------------------------------------------------
// Reading answers.

fn at(mut args: Value) -> Value {
    args["at"] = json!(AT);
    args
}

fn row<'a>(answer: &'a Value, list: &str, key: &str, id: &str) -> &'a Value {
    answer[list]
        .as_array()
        .unwrap_or_else(|| panic!("no {list} in {answer:#}"))
        .iter()
        .find(|r| r[key] == id)
        .unwrap_or_else(|| panic!("{id} not in {list}: {answer:#}"))
}

fn constraint<'a>(answer: &'a Value, id: &str) -> &'a Value {
    row(answer, "constraints", "constraint", id)
}

fn scenario<'a>(answer: &'a Value, id: &str) -> &'a Value {
    row(answer, "scenarios", "scenario", id)
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-6 * b.abs().max(1.0)
}

fn text(v: &Value) -> &str {
    v.as_str().unwrap_or_else(|| panic!("not a string: {v}"))
}

/// What `PRAGMA user_version = N` writes, as a newer SDD marks its store: the header's user
/// version, 4 bytes big-endian at offset 60 of an SQLite file (sqlite.org/fileformat.html).
/// The store was closed, so its write-ahead log is in the file and gone.
fn set_user_version(path: &Path, version: u32) {
    assert!(!path.with_extension("sqlite3-wal").exists());
    let mut bytes = std::fs::read(path).unwrap();
    assert!(bytes.starts_with(b"SQLite format 3\0"));
    bytes[60..64].copy_from_slice(&version.to_be_bytes());
    std::fs::write(path, bytes).unwrap();
}

/// Characters of an answer as the client receives it (the result's JSON: text and structured
/// content both).
fn wire_chars(result: &rmcp::model::CallToolResult) -> usize {
    serde_json::to_string(result).unwrap().chars().count()
}

// ---------------------------------------------------------------------------------------------
// The tests.

#[tokio::test]
async fn healthy_traffic_is_within_limits_and_what_metrics_cannot_judge_says_why() {
    let project = project_with(Traffic::Healthy);
    let client = start(project.path()).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("sdd-monitoring")
    );
    let answer = structured(&call(&client, "constraint_headroom", at(json!({}))).await);
    assert_eq!(answer["at"], "2026-03-01T12:00:00.000Z");
    assert_eq!(answer["window"], "1h");
    assert!(
        text(&answer["source"]).starts_with("embedded store"),
        "{answer:#}"
    );

    // p95 of the reads: 18 of 20 within 5 ms, 2 in (10 ms, 25 ms]: 10 + 15 × (19 − 18) / 2.
    let read = constraint(&answer, READ);
    assert_eq!(read["status"], "passing", "{read:#}");
    assert!(close(number(&read["value"]), 17.5), "{read:#}");
    assert_eq!(read["limit"], 100.0);
    assert!(close(number(&read["headroom_percent"]), 82.5), "{read:#}");
    let queries: Vec<&str> = read["measured_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| text(&m["query"]))
        .collect();
    assert!(
        queries[0].starts_with("histogram_quantile(0.95,")
            && queries[0].contains(r#"method="GET""#)
            && queries[0].contains(r#"route=~"/tasks""#),
        "{queries:?}"
    );
    // p99 of the writes: all in (5 ms, 10 ms].
    let write = constraint(&answer, WRITE);
    assert_eq!(write["status"], "passing", "{write:#}");
    assert!(close(number(&write["value"]), 9.95), "{write:#}");

    // A 500 every 80 scrapes: within 99.9 %, part of the budget spent.
    let uptime = constraint(&answer, UPTIME);
    assert_eq!(uptime["status"], "passing", "{uptime:#}");
    assert!(number(&uptime["value"]) > 99.9, "{uptime:#}");
    let budget = &uptime["error_budget"];
    assert_eq!(budget["window"], "30d");
    let spent = number(&budget["spent_percent"]);
    assert!(spent > 0.0 && spent < 100.0, "{budget:#}");
    assert!(close(number(&budget["left_percent"]), 100.0 - spent));
    assert!(number(&budget["failures"]) >= 1.0, "{budget:#}");

    // Security constraints are not judged from metrics, and say why.
    for id in [AUTH, RATE_LIMIT] {
        let row = constraint(&answer, id);
        assert_eq!(row["status"], "unchecked", "{row:#}");
        assert!(
            text(&row["summary"]).contains("needs traffic SDD makes itself"),
            "{row:#}"
        );
        assert!(row.get("value").is_none(), "{row:#}");
    }
    let counts = &answer["counts"];
    assert_eq!(
        (
            &counts["passing"],
            &counts["failing"],
            &counts["inconclusive"]
        ),
        (&json!(3), &json!(0), &json!(0)),
        "{counts}"
    );
    assert_eq!(counts["unchecked"], 9);
    // Not everything was measured: never "all within limits".
    let headline = text(&answer["headline"]);
    assert!(
        headline.starts_with("NO VIOLATION SEEN") && !headline.contains("ALL WITHIN LIMITS"),
        "{headline}"
    );
    // Measured before unmeasured.
    let statuses: Vec<&str> = answer["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| text(&c["status"]))
        .collect();
    assert_eq!(
        &statuses[..4],
        ["passing", "passing", "passing", "unchecked"]
    );

    // `ids` narrows the answer; none is nothing to judge, never "all within limits"; an
    // unknown ID is refused by name.
    let none = structured(&call(&client, "constraint_headroom", at(json!({"ids": []}))).await);
    assert!(
        text(&none["headline"]).starts_with("NOTHING TO JUDGE"),
        "{none:#}"
    );
    let one = structured(&call(&client, "constraint_headroom", at(json!({"ids": [READ]}))).await);
    assert_eq!(one["constraints"].as_array().unwrap().len(), 1);
    assert_eq!(one["counts"]["passing"], 1);
    let err = error_text(
        &call(
            &client,
            "constraint_headroom",
            at(json!({"ids": [READ, "task_management_system.performance.nope"]})),
        )
        .await,
    );
    assert!(
        err.contains("no constraint with ID `task_management_system.performance.nope`")
            && !err.contains(&format!("`{READ}`")),
        "{err}"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn slow_reads_violate_the_read_constraint_and_a_limit_inside_a_bucket_is_inconclusive() {
    let project = project(Some(
        "monitoring:\n  constraints:\n    task_management_system.security.rate_limiting:\n      unmeasured: the gateway enforces it\n",
    ));
    // A second constraint on the same reads, whose limit (180 ms) lies inside the bucket that
    // holds their p95, (150 ms, 200 ms].
    std::fs::write(
        project.path().join("specs/read_budget.yaml"),
        "feature: Task Management System\nconstraints:\n  performance:\n    - name: Read latency budget\n      requirement: p95 latency < 180ms for all read operations\n",
    )
    .unwrap();
    import(project.path(), &openmetrics(Traffic::SlowReads));
    let client = start(project.path()).await;
    let answer = structured(&call(&client, "constraint_headroom", at(json!({}))).await);
    let headline = text(&answer["headline"]);
    assert!(headline.starts_with("VIOLATED"), "{headline}");
    assert!(headline.contains(READ), "{headline}");
    // Failing first, then inconclusive.
    assert_eq!(answer["constraints"][0]["constraint"], READ, "{answer:#}");
    let read = &answer["constraints"][0];
    assert_eq!(read["status"], "failing", "{read:#}");
    // 2 of 20 within 5 ms, 18 in (150 ms, 200 ms]: 150 + 50 × (19 − 2) / 18.
    let p95 = 150.0 + 50.0 * 17.0 / 18.0;
    assert!(close(number(&read["value"]), p95), "{read:#}");
    assert!(number(&read["headroom_percent"]) < 0.0, "{read:#}");

    let budget = &answer["constraints"][1];
    assert_eq!(
        budget["constraint"],
        "task_management_system.performance.read_latency_budget"
    );
    assert_eq!(budget["status"], "inconclusive", "{budget:#}");
    let summary = text(&budget["summary"]);
    assert!(
        summary.contains("the histogram cannot tell") && summary.contains("(150 ms, 200 ms]"),
        "{summary}"
    );
    assert_eq!(answer["counts"]["failing"], 1);
    assert_eq!(answer["counts"]["inconclusive"], 1);
    // Writes are not reads: still within their limit.
    assert_eq!(constraint(&answer, WRITE)["status"], "passing");

    // sdd.yaml's `unmeasured` is the reason given.
    let limited = constraint(&answer, RATE_LIMIT);
    assert_eq!(limited["status"], "unchecked");
    assert!(
        text(&limited["summary"]).contains("the gateway enforces it"),
        "{limited:#}"
    );
    let listed = structured(&call(&client, "list_metrics", json!({})).await);
    assert_eq!(
        row(&listed, "constraints", "constraint", RATE_LIMIT)["unmeasured"],
        "the gateway enforces it"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_share_of_5xx_fails_uptime_and_spends_more_than_its_error_budget() {
    let project = project_with(Traffic::ServerErrors);
    let client = start(project.path()).await;
    let answer = structured(&call(&client, "constraint_headroom", at(json!({}))).await);
    let uptime = constraint(&answer, UPTIME);
    assert_eq!(uptime["status"], "failing", "{uptime:#}");
    assert!(number(&uptime["value"]) < 99.9, "{uptime:#}");
    assert!(number(&uptime["headroom_percent"]) < 0.0, "{uptime:#}");
    let budget = &uptime["error_budget"];
    assert!(number(&budget["spent_percent"]) > 100.0, "{budget:#}");
    assert!(number(&budget["left_percent"]) < 0.0, "{budget:#}");
    assert!(
        number(&budget["failures"]) > number(&budget["allowed_failures"]),
        "{budget:#}"
    );
    // The reads failed too often for their latency to count: 1 in 21 over the 1 % the
    // verdicts allow.
    let read = constraint(&answer, READ);
    assert_eq!(read["status"], "failing", "{read:#}");
    assert!(text(&read["summary"]).contains("failed"), "{read:#}");
    assert!(text(&answer["headline"]).starts_with("VIOLATED — 2 of 12"));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn scenario_health_puts_outcome_counts_beside_journeys() {
    let project = project_with(Traffic::Healthy);
    let client = start(project.path()).await;
    let answer = structured(&call(&client, "scenario_health", at(json!({}))).await);
    let headline = text(&answer["headline"]);
    assert!(headline.starts_with("FAILING — 2 of 4"), "{headline}");

    let create = scenario(&answer, CREATE);
    assert_eq!(create["status"], "healthy", "{create:#}");
    // 4 successes a scrape, 240 scrapes in the hour.
    assert!(
        close(number(&create["service"]["successes"]), 960.0),
        "{create:#}"
    );
    assert_eq!(create["service"]["failures"], 0.0);
    assert_eq!(create["journeys"]["runs"], 120);
    assert_eq!(create["journeys"]["failures"], 0);
    assert_eq!(create["journeys"]["last_passed"], true);
    assert!(close(number(&create["journeys"]["p95_ms"]), 12.0));

    // The service counted failures; its journeys all passed.
    let complete = scenario(&answer, COMPLETE);
    assert_eq!(complete["status"], "failing", "{complete:#}");
    assert!(
        number(&complete["service"]["failures"]) >= 1.0,
        "{complete:#}"
    );
    assert_eq!(complete["journeys"]["failures"], 0);

    // One journey failed; the service's counter never moved, which is no evidence.
    let twice = scenario(&answer, COMPLETE_TWICE);
    assert_eq!(twice["status"], "failing", "{twice:#}");
    assert_eq!(twice["journeys"]["failures"], 1, "{twice:#}");
    assert!(twice.get("service").is_none(), "{twice:#}");
    assert!(text(&twice["summary"]).contains("119 of 120 journeys passed"));

    let list = scenario(&answer, LIST);
    assert_eq!(list["status"], "no_data", "{list:#}");
    assert!(text(&list["summary"]).contains("no data"), "{list:#}");

    // Failing first, then without data, then healthy.
    let order: Vec<&str> = answer["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| text(&s["status"]))
        .collect();
    assert_eq!(order, ["failing", "failing", "no_data", "healthy"]);
    assert_eq!(answer["unknown_scenarios"], json!([NOT_IN_SPEC]));
    assert!(answer.get("notes").is_none(), "{answer:#}");
    assert_eq!(answer["measured_by"].as_array().unwrap().len(), 2);

    // No scenario asked about is nothing to judge, never "healthy" (the service counts a
    // failure of COMPLETE); proposed scenarios are not asked about; unknown IDs are refused
    // by name.
    let none = structured(&call(&client, "scenario_health", at(json!({"ids": []}))).await);
    assert!(
        text(&none["headline"]).starts_with("NOTHING TO JUDGE"),
        "{none:#}"
    );
    let one = structured(&call(&client, "scenario_health", at(json!({"ids": [CREATE]}))).await);
    assert_eq!(one["scenarios"].as_array().unwrap().len(), 1);
    assert!(text(&one["headline"]).starts_with("HEALTHY"), "{one:#}");
    let err = error_text(
        &call(
            &client,
            "scenario_health",
            at(json!({"ids": ["task_management_system.handle_concurrent_task_completion"]})),
        )
        .await,
    );
    assert!(err.contains("no approved scenario with ID"), "{err}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn list_metrics_names_what_each_metric_is_read_for() {
    let project = project_with(Traffic::Healthy);
    let client = start(project.path()).await;
    let answer = structured(&call(&client, "list_metrics", json!({})).await);
    let names: Vec<&str> = answer["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| text(&m["name"]))
        .collect();
    assert_eq!(
        names,
        [
            "http_request_duration_seconds_bucket",
            "http_request_duration_seconds_count",
            "http_request_duration_seconds_sum",
            "process_resident_memory_bytes",
            "sdd_journey_duration_seconds",
            "sdd_journey_success",
            "sdd_scenario_outcomes_total",
        ]
    );
    let metric = |name: &str| row(&answer, "metrics", "name", name);
    let buckets = metric("http_request_duration_seconds_bucket");
    assert_eq!(buckets["kind"], "histogram");
    // 5 series (method, route, status) × 17 bounds.
    assert_eq!(buckets["series"], 5 * 17);
    assert_eq!(buckets["help"], "Request duration in seconds.");
    assert_eq!(buckets["used_for"], json!([READ, WRITE, UPTIME]));
    assert_eq!(
        metric("sdd_scenario_outcomes_total")["used_for"],
        json!(["scenario outcomes"])
    );
    assert_eq!(metric("sdd_scenario_outcomes_total")["kind"], "counter");
    assert_eq!(
        metric("sdd_journey_success")["used_for"],
        json!(["journeys"])
    );
    assert!(metric("process_resident_memory_bytes")
        .get("used_for")
        .is_none());

    // Every constraint, measured or not.
    assert_eq!(answer["constraints_total"], 12);
    assert_eq!(answer["constraints_measured"], 3);
    assert_eq!(answer["constraints"].as_array().unwrap().len(), 12);
    let mapping = |id: &str| row(&answer, "constraints", "constraint", id);
    assert_eq!(
        mapping(READ)["series"],
        json!([r#"http_request_duration_seconds{method="GET",route=~"/tasks"}"#])
    );
    assert_eq!(
        mapping(UPTIME)["series"],
        json!(["http_request_duration_seconds"])
    );
    assert!(mapping(READ).get("unmeasured").is_none());
    assert!(
        text(&mapping(AUTH)["unmeasured"]).contains("traffic SDD makes itself"),
        "{:#}",
        mapping(AUTH)
    );
    assert!(mapping(AUTH).get("series").is_none());
    assert!(text(
        &mapping("task_management_system.reliability.graceful_degradation")["unmeasured"]
    )
    .starts_with("not machine-checkable"));
    assert_eq!(answer["page"]["total"], 12);

    // Both lists page together.
    let second = structured(&call(&client, "list_metrics", json!({"offset": 5, "limit": 5})).await);
    assert_eq!(second["metrics"].as_array().unwrap().len(), 2);
    assert_eq!(second["constraints"].as_array().unwrap().len(), 5);
    assert_eq!(second["metrics"][0]["name"], "sdd_journey_success");
    assert_eq!(second["page"]["next_offset"], 10);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn query_metrics_summarises_series_and_refuses_bad_input_clearly() {
    let project = project_with(Traffic::Healthy);
    let client = start(project.path()).await;

    // A gauge: its figures over (END − 1h, END], by hand.
    let answer = structured(
        &call(
            &client,
            "query_metrics",
            at(json!({"selector": "process_resident_memory_bytes", "points": 4})),
        )
        .await,
    );
    assert_eq!(answer["series"].as_array().unwrap().len(), 1);
    let s = &answer["series"][0];
    let window: Vec<f64> = (FIRST_IN_WINDOW..=STEPS).map(rss).collect();
    let max = window.iter().cloned().fold(f64::MIN, f64::max);
    let min = window.iter().cloned().fold(f64::MAX, f64::min);
    let mean = window.iter().sum::<f64>() / window.len() as f64;
    assert_eq!(s["samples"], window.len());
    assert_eq!(number(&s["max"]), max, "{s:#}");
    assert_eq!(number(&s["min"]), min, "{s:#}");
    assert!(close(number(&s["mean"]), mean), "{s:#}");
    assert_eq!(number(&s["last"]), rss(STEPS));
    assert!(
        s.get("rate_per_second").is_none(),
        "a gauge has no rate: {s:#}"
    );
    // Four steps, 15 minutes apart, the last at `at`: the newest sample at or before each.
    let steps = s["steps"].as_array().unwrap();
    assert_eq!(steps.len(), 4, "{s:#}");
    for (k, step) in steps.iter().enumerate() {
        let back = (3 - k as i64) * 900;
        assert_eq!(step[0], (END - back) * 1000);
        assert_eq!(number(&step[1]), rss(STEPS - back / STEP));
    }
    assert!(text(&answer["method"]).contains("start < t ≤ end"));

    // A counter: 20 reads a scrape, 240 scrapes: increase 4800, rate 4800 / 3600 s.
    let answer = structured(
        &call(
            &client,
            "query_metrics",
            at(json!({"selector": r#"http_request_duration_seconds_count{route="/tasks",status="200"}"#})),
        )
        .await,
    );
    let s = &answer["series"][0];
    assert_eq!(
        s["labels"],
        json!({"method": "GET", "route": "/tasks", "status": "200"})
    );
    assert!(close(number(&s["increase"]), 4800.0), "{s:#}");
    assert!(
        close(number(&s["rate_per_second"]), 4800.0 / 3600.0),
        "{s:#}"
    );
    assert!(s.get("steps").is_none(), "no points unless asked: {s:#}");

    // Matchers select; a regex is anchored at both ends (`…no_such_scenario` does not end
    // in `task`).
    let answer = structured(
        &call(
            &client,
            "query_metrics",
            at(json!({"selector": r#"sdd_scenario_outcomes_total{scenario=~".*task",outcome="success"}"#})),
        )
        .await,
    );
    let scenarios: Vec<&str> = answer["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| text(&s["labels"]["scenario"]))
        .collect();
    assert_eq!(scenarios, [COMPLETE_TWICE, COMPLETE, CREATE]);

    // Bad input: tool errors that say what is wrong.
    for (args, says) in [
        (json!({"selector": "http{"}), "selector: `http{`"),
        (json!({"selector": "rate(x[5m])"}), "selector:"),
        (
            json!({"selector": "x", "points": 0}),
            "points: 0 is not between 1 and 500",
        ),
        (
            json!({"selector": "x", "points": 501}),
            "points: 501 is not between 1 and 500",
        ),
        (
            json!({"selector": "x", "window": "10y"}),
            "window: `y` in `10y` is not a unit",
        ),
        (
            json!({"selector": "x", "at": "yesterday"}),
            "at: `yesterday` is not an RFC 3339 time",
        ),
        (
            json!({"selector": "x", "bogus": 1}),
            "unknown field `bogus`, expected one of `at`, `limit`, `offset`, `points`, `selector`, `window`",
        ),
        (json!({}), "missing field `selector`"),
    ] {
        let err = error_text(&call(&client, "query_metrics", args.clone()).await);
        assert!(err.contains(says), "{args}: {err}");
    }
    // Still answering.
    structured(&call(&client, "query_metrics", json!({"selector": "x"})).await);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn no_store_or_a_store_from_a_newer_sdd_is_a_clear_error_and_nothing_is_written() {
    let empty = project(None);
    let client = start(empty.path()).await;
    for (tool, args) in [
        ("constraint_headroom", json!({})),
        ("scenario_health", json!({})),
        ("list_metrics", json!({})),
        ("query_metrics", json!({"selector": "up"})),
    ] {
        let err = error_text(&call(&client, tool, args).await);
        assert!(
            err.contains("does not exist yet")
                && err.contains("`sdd monitor`")
                && err.contains("`sdd metrics import FILE`"),
            "{tool}: {err}"
        );
    }
    client.cancel().await.unwrap();
    assert!(
        !empty.path().join(".sdd").exists(),
        "a read created the store"
    );

    let newer = project_with(Traffic::Healthy);
    let path = newer.path().join(".sdd/metrics.sqlite3");
    set_user_version(&path, 999);
    let before = std::fs::read(&path).unwrap();
    let client = start(newer.path()).await;
    for (tool, args) in [
        ("constraint_headroom", json!({})),
        ("scenario_health", json!({})),
        ("list_metrics", json!({})),
        ("query_metrics", json!({"selector": "up"})),
    ] {
        let err = error_text(&call(&client, tool, args).await);
        assert!(
            err.contains("written by a newer SDD (schema 999")
                && err.contains("upgrade SDD")
                && err.contains("left as it was"),
            "{tool}: {err}"
        );
    }
    client.cancel().await.unwrap();
    assert!(std::fs::read(&path).unwrap() == before, "the store changed");
}

#[tokio::test]
async fn a_prometheus_that_cannot_be_reached_or_is_not_allowed_is_named() {
    // A port nothing listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let project = project(Some(&format!(
        "monitoring:\n  source: {{prometheus: {{url: \"{url}\", timeout_seconds: 1}}}}\n"
    )));
    let client = start(project.path()).await;
    for (tool, args) in [
        ("constraint_headroom", at(json!({}))),
        ("scenario_health", at(json!({}))),
        ("list_metrics", json!({})),
        ("query_metrics", at(json!({"selector": "up"}))),
    ] {
        let err = error_text(&call(&client, tool, args).await);
        assert!(
            err.contains(&format!("cannot reach Prometheus at {url}/api/v1/"))
                && err.contains("monitoring.source.prometheus.url"),
            "{tool}: {err}"
        );
    }
    client.cancel().await.unwrap();

    // One that takes the connection and never answers: the timeout, with the URL.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://127.0.0.1:{}", silent.local_addr().unwrap().port());
    let project = self::project(Some(&format!(
        "monitoring:\n  source: {{prometheus: {{url: \"{url}\", timeout_seconds: 1}}}}\n"
    )));
    let client = start(project.path()).await;
    let started = std::time::Instant::now();
    let err = error_text(&call(&client, "constraint_headroom", at(json!({}))).await);
    assert!(err.contains(&url), "{err}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    client.cancel().await.unwrap();
    drop(silent);

    // A host that is not loopback, and not in targets.allowed_hosts.
    let project = self::project(Some(
        "monitoring:\n  source: {prometheus: {url: \"http://203.0.113.9:9090\", timeout_seconds: 1}}\n",
    ));
    let client = start(project.path()).await;
    for tool in ["constraint_headroom", "list_metrics"] {
        let err = error_text(&call(&client, tool, json!({})).await);
        assert!(
            err.contains("monitoring.source.prometheus")
                && err.contains("host `203.0.113.9` is not allowed")
                && err.contains("targets.allowed_hosts"),
            "{tool}: {err}"
        );
    }
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_calls_all_get_the_same_answer() {
    let project = project_with(Traffic::SlowReads);
    let client = start(project.path()).await;
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let peer = client.peer().clone();
            tokio::spawn(async move {
                peer.call_tool(
                    CallToolRequestParams::new("constraint_headroom")
                        .with_arguments(at(json!({})).as_object().cloned().unwrap()),
                )
                .await
            })
        })
        .collect();
    let mut answers = Vec::new();
    for call in calls {
        answers.push(structured(
            &call.await.unwrap().expect("constraint_headroom"),
        ));
    }
    assert!(text(&answers[0]["headline"]).starts_with("VIOLATED"));
    for answer in &answers[1..] {
        assert_eq!(answer, &answers[0]);
    }
    client.cancel().await.unwrap();
}

/// The tool list is the contract with agents: names, descriptions, input and output schemas and
/// annotations. Refresh with `UPDATE_SNAPSHOTS=1 cargo test -p sdd-monitoring-server`.
#[tokio::test]
async fn tool_schemas_match_the_snapshot() {
    let client = start(&repo().join("examples/task_manager")).await;
    sdd_mcp::test_client::assert_tool_snapshot(
        client,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tools.json"),
    )
    .await;
}

#[tokio::test]
async fn the_review_degradation_prompt_is_listed_and_filled_in() {
    let client = start(&repo().join("examples/task_manager")).await;
    let prompt = client
        .get_prompt(
            rmcp::model::GetPromptRequestParams::new("review_degradation")
                .with_arguments(json!({"window": "7d"}).as_object().unwrap().clone()),
        )
        .await
        .unwrap();
    let text = format!("{prompt:?}");
    for step in [
        "detect_degradation with `window: 7d`",
        "health_report",
        "generate_alert_rules",
        "what_if",
    ] {
        assert!(text.contains(step), "{step} missing: {text}");
    }
    sdd_mcp::test_client::assert_prompt_snapshot(
        client,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/prompts.json"),
    )
    .await;
}

/// On 1,000 series of one metric, 1,000 metric names and 1,000 unknown scenario IDs, default
/// answers stay under 40,000 characters as the client receives them, and say how to go on.
#[tokio::test]
async fn answers_stay_bounded_on_a_thousand_series() {
    let project = project(None);
    import(project.path(), &wide_openmetrics());
    let client = start(project.path()).await;
    let next_page = |answer: &Value, total: u64| {
        let page = &answer["page"];
        assert_eq!(page["total"], total, "{page}");
        assert!(
            page["next_offset"].is_u64()
                && page["more"].as_str().is_some_and(|m| m.contains("offset")),
            "{page}"
        );
        page["next_offset"].as_u64().unwrap()
    };

    let result = call(&client, "list_metrics", json!({})).await;
    let size = wire_chars(&result);
    assert!(size < sdd_mcp::DEFAULT_ANSWER_CHARS, "list_metrics: {size}");
    let answer = structured(&result);
    // 1,000 names, the gauge and the outcome counter.
    let next = next_page(&answer, 1002);
    assert_eq!(next, 20);
    let again = structured(&call(&client, "list_metrics", json!({"offset": next})).await);
    assert_eq!(again["metrics"][0]["name"], "name_0020");

    let result = call(
        &client,
        "query_metrics",
        at(json!({"selector": "wide_gauge"})),
    )
    .await;
    let size = wire_chars(&result);
    assert!(
        size < sdd_mcp::DEFAULT_ANSWER_CHARS,
        "query_metrics: {size}"
    );
    let answer = structured(&result);
    assert_eq!(next_page(&answer, 1000), 20);
    assert_eq!(answer["series"][0]["labels"]["item"], "item-0000");
    assert_eq!(answer["series"][19]["last"], 23.0);

    // The largest pages: cut to their bound, never refused.
    for (tool, args) in [
        ("list_metrics", json!({"limit": 100})),
        (
            "query_metrics",
            at(json!({"selector": "wide_gauge", "points": 500, "limit": 100})),
        ),
    ] {
        let result = call(&client, tool, args).await;
        let size = wire_chars(&result);
        assert!(size < sdd_mcp::MAX_RESPONSE_CHARS, "{tool}: {size}");
        next_page(
            &structured(&result),
            if tool == "list_metrics" { 1002 } else { 1000 },
        );
    }

    // 1,000 outcome labels the spec lacks: a few named, all counted, the scenarios still there.
    let result = call(&client, "scenario_health", at(json!({}))).await;
    let size = wire_chars(&result);
    assert!(
        size < sdd_mcp::DEFAULT_ANSWER_CHARS,
        "scenario_health: {size}"
    );
    let answer = structured(&result);
    assert_eq!(
        answer["scenarios"].as_array().unwrap().len(),
        4,
        "{answer:#}"
    );
    assert_eq!(answer["counts"]["no_data"], 4);
    assert_eq!(answer["unknown_scenarios"].as_array().unwrap().len(), 20);
    assert_eq!(
        answer["unknown_scenarios"][0],
        "task_management_system.wrong_id_0000"
    );
    let notes = answer["notes"].to_string();
    assert!(
        notes.contains("1000 scenario IDs") && notes.contains("no journey ran"),
        "{notes}"
    );
    client.cancel().await.unwrap();
}

/// A spec file that does not load drops what it holds: no headline may be clean beside it.
#[tokio::test]
async fn a_spec_that_does_not_load_leaves_no_clean_headline() {
    let project = project(None);
    std::fs::write(
        project.path().join("specs/payments.yaml"),
        "feature: Payments\nconstraints:\n  performance:\n    - name: Pay\n      requirement: [p95 latency < 100ms\n",
    )
    .unwrap();
    import(project.path(), &openmetrics(Traffic::Healthy));
    let client = start(project.path()).await;
    for tool in ["constraint_headroom", "scenario_health"] {
        let answer = structured(&call(&client, tool, at(json!({}))).await);
        let headline = text(&answer["headline"]);
        assert!(
            headline.contains("the spec has 1 errors"),
            "{tool}: {headline}"
        );
        for clean in [
            "ALL WITHIN LIMITS",
            "HEALTHY",
            "NO VIOLATION SEEN",
            "NO FAILURE SEEN",
        ] {
            assert!(!headline.starts_with(clean), "{tool}: {headline}");
        }
        assert!(answer["spec_errors"].as_u64().unwrap() >= 1, "{answer:#}");
    }
    client.cancel().await.unwrap();
}

// ---------------------------------------------------------------------------------------------
// The generators: the example's spec and sdd.yaml as a rule file and a dashboard.

/// The example's monitoring section with a resource limit, a constraint measured elsewhere
/// and a mapping that names no constraint.
const GENERATOR_MONITORING: &str = r#"monitoring:
  constraints:
    task_management_system.reliability.data_durability: {unmeasured: "backups are checked by the storage team"}
    task_management_system.no_such_constraint: {histogram: x_seconds}
  degradation:
    limits:
      - {series: process_resident_memory_bytes, max: 1000000000, description: "The service runs out of memory"}
"#;

#[tokio::test]
async fn alert_rules_come_from_the_spec_and_name_what_they_cannot_watch() {
    let project = project(Some(GENERATOR_MONITORING));
    let client = start(project.path()).await;
    let answer = structured(&call(&client, "generate_alert_rules", json!({})).await);
    let counts = &answer["counts"];
    // Uptime: 4 burn-rate alerts over 7 recorded windows; the read and write latency bounds;
    // the memory limit's early warning and crossing.
    assert_eq!(counts["alerts"], 8, "{answer:#}");
    assert_eq!(counts["recording_rules"], 7);
    assert_eq!(counts["constraints_covered"], 3);
    assert_eq!(counts["limits_covered"], 1);
    assert!(
        text(&answer["headline"]).starts_with("8 alerts (7 recording rules) watch 3 of "),
        "{}",
        answer["headline"]
    );
    let yaml = text(&answer["yaml"]);
    assert!(yaml.starts_with("# Generated by SDD (generate_alert_rules)\n"));
    assert_eq!(answer["yaml_chars"], yaml.chars().count());
    assert!(answer.get("yaml_cut").is_none() && answer.get("written").is_none());
    let rules = answer["rules"].as_array().unwrap();
    let burn = rules
        .iter()
        .find(|r| r["name"] == "SddErrorBudgetBurn1h")
        .unwrap();
    assert_eq!(
        (&burn["kind"], &burn["constraint"], &burn["severity"]),
        (&json!("alert"), &json!(UPTIME), &json!("page"))
    );
    assert!(text(&burn["expr"]).contains("> (14.4 * 0.001)"), "{burn}");
    let latency = rules
        .iter()
        .find(|r| r["name"] == "SddLatencyOverLimit" && r["constraint"] == READ)
        .unwrap();
    assert_eq!(latency["for"], "10m");
    assert!(text(&latency["expr"]).ends_with("> 0.1"), "{latency}");
    let memory = rules
        .iter()
        .find(|r| r["limit"] == "process_resident_memory_bytes")
        .unwrap();
    assert!(text(&memory["expr"])
        .starts_with("predict_linear(process_resident_memory_bytes[6h], 14400) > 1000000000"));
    assert!(yaml.contains(
        "The service runs out of memory — on its trend it goes over 1000000000 within 4h"
    ));
    assert!(yaml.contains(
        "Uptime: 99.9% availability — burning the error budget at 14.4× (over 1h and 5m)"
    ));
    // Nothing is skipped silently: what no rule watches is named with why.
    let not_covered = answer["not_covered"].as_array().unwrap();
    let reason = |id: &str| -> Vec<&str> {
        not_covered
            .iter()
            .filter(|n| n["constraint"] == id)
            .map(|n| text(&n["reason"]))
            .collect()
    };
    assert!(
        reason(RATE_LIMIT)[0].contains("needs traffic SDD makes itself"),
        "{answer:#}"
    );
    assert!(!reason(AUTH).is_empty());
    assert!(
        reason("task_management_system.reliability.data_durability")[0]
            .contains("backups are checked by the storage team")
    );
    assert!(reason(READ)[0].contains("the load it is stated under"));
    assert!(
        answer["notes"][0]
            .as_str()
            .unwrap()
            .contains("monitoring.constraints.task_management_system.no_such_constraint"),
        "{answer:#}"
    );
    // The answer stays bounded.
    assert!(wire_chars(&call(&client, "generate_alert_rules", json!({})).await) < 40_000);

    // Written on request, whole, and again over its own file.
    for _ in 0..2 {
        let written = structured(
            &call(
                &client,
                "generate_alert_rules",
                json!({"path": "monitoring/sdd-alerts.yml"}),
            )
            .await,
        );
        assert_eq!(written["written"], "monitoring/sdd-alerts.yml");
        assert_eq!(
            std::fs::read_to_string(project.path().join("monitoring/sdd-alerts.yml")).unwrap(),
            yaml
        );
        assert_eq!(
            written["next"][0],
            "promtool check rules monitoring/sdd-alerts.yml"
        );
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn the_dashboard_has_a_row_per_scenario_and_per_measured_constraint() {
    let project = project(Some(GENERATOR_MONITORING));
    let client = start(project.path()).await;
    let answer = structured(&call(&client, "generate_dashboard", json!({})).await);
    let result = call(&client, "generate_dashboard", json!({})).await;
    assert!(wire_chars(&result) < 40_000);
    let panels = answer["panels"].as_array().unwrap();
    let rows: Vec<&str> = panels.iter().map(|p| text(&p["row"])).collect();
    for row in [
        "Scenario: Create a simple task",
        "Scenario: Complete a task",
        "Constraint: API response time",
        "Constraint: Uptime",
        "Resource limits",
    ] {
        assert!(rows.contains(&row), "{row}: {rows:?}");
    }
    let outcomes = panels
        .iter()
        .find(|p| p["row"] == "Scenario: Complete a task" && p["title"] == "Outcomes")
        .unwrap();
    assert_eq!(
        outcomes["queries"][0],
        format!(
            r#"sum by (outcome) (rate(sdd_scenario_outcomes_total{{scenario="{COMPLETE}"}}[$__rate_interval]))"#
        )
    );
    assert!(!answer["not_covered"].as_array().unwrap().is_empty());

    // Written whole: the file is the dashboard Grafana imports.
    let written = structured(
        &call(
            &client,
            "generate_dashboard",
            json!({"path": "monitoring/sdd-dashboard.json"}),
        )
        .await,
    );
    assert_eq!(written["written"], "monitoring/sdd-dashboard.json");
    let file: Value = serde_json::from_str(
        &std::fs::read_to_string(project.path().join("monitoring/sdd-dashboard.json")).unwrap(),
    )
    .unwrap();
    assert!(file["schemaVersion"].as_u64().unwrap() >= 36);
    assert_eq!(file["templating"]["list"][0]["type"], "datasource");
    assert_eq!(file["templating"]["list"][0]["query"], "prometheus");
    assert_eq!(
        written["dashboard_chars"],
        serde_json::to_string_pretty(&file).unwrap().chars().count()
    );
    if written.get("dashboard_cut").is_none() {
        assert_eq!(
            serde_json::from_str::<Value>(text(&written["dashboard"])).unwrap(),
            file
        );
    } else {
        assert!(
            text(&written["notes"][written["notes"].as_array().unwrap().len() - 1])
                .contains("the file written holds it all")
        );
    }
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn generators_refuse_paths_outside_the_project_and_files_they_did_not_write() {
    let project = project(None);
    let outside = tempfile::tempdir().unwrap();
    let escape = outside.path().join("x.yml");
    std::fs::write(project.path().join("prometheus.yml"), "global: {}\n").unwrap();
    let client = start(project.path()).await;
    for (tool, path, said) in [
        ("generate_alert_rules", "../x.yml", "outside"),
        ("generate_alert_rules", escape.to_str().unwrap(), "outside"),
        ("generate_dashboard", "a/../../x.json", "outside"),
        (
            "generate_alert_rules",
            "specs/alerts.yml",
            "inside the spec directory",
        ),
        (
            "generate_alert_rules",
            "alerts.txt",
            "ending in `.yml` or `.yaml`",
        ),
        ("generate_dashboard", "dashboard.yml", "ending in `.json`"),
        (
            "generate_alert_rules",
            "prometheus.yml",
            "was not written by generate_alert_rules",
        ),
    ] {
        let err = error_text(&call(&client, tool, json!({ "path": path })).await);
        assert!(err.contains(said), "{tool} {path}: {err}");
    }
    assert!(!escape.exists());
    assert!(!project.path().join("specs/alerts.yml").exists());
    assert_eq!(
        std::fs::read_to_string(project.path().join("prometheus.yml")).unwrap(),
        "global: {}\n"
    );
    let err = error_text(&call(&client, "generate_dashboard", json!({"pth": "x.json"})).await);
    assert!(
        err.contains("unknown field `pth`") && err.contains("`path`"),
        "{err}"
    );
    client.cancel().await.unwrap();
}

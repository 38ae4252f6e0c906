//! The same tool on the same data gives the same answer from either source: six hours of the
//! bundled example's metrics (the metrics convention: request histogram, scenario outcome
//! counters, journeys), generated here as OpenMetrics text, go into a real Prometheus
//! (Debian's package, backfilled by `promtool tsdb create-blocks-from openmetrics`) and into
//! the embedded store (`sdd_metrics::import`). constraint_headroom, scenario_health and
//! query_metrics are then asked of both at several instants and windows, and every answer must
//! match: the same verdicts, the same PromQL, numbers within 1e-9 relative.
//!
//! The data's last hour has slow reads (the example's `slow_reads` fault: 150 ms more), so the
//! read-latency constraint is violated then and within its limit three hours earlier — from
//! either source. Without `prometheus` the test fails under `CI` and is skipped loudly
//! otherwise (see `sdd_monitoring::testing`).

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sdd_http::AllowedHosts;
use sdd_metrics::summary::{Extrapolation, StartBound};
use sdd_monitoring::embedded::Semantics;
use sdd_monitoring::explore::query_metrics;
use sdd_monitoring::headroom::{constraint_headroom, Watch};
use sdd_monitoring::health::scenario_health;
use sdd_monitoring::prometheus::PrometheusApi;
use sdd_monitoring::selector::Selector;
use sdd_monitoring::source::{EmbeddedSource, Source};
use sdd_monitoring::testing::{free_port, prometheus_installed, repo, Lcg, RunningPrometheus};
use sdd_spec::verdict::Verdict;
use serde_json::Value;

const STEP_MS: i64 = 15_000;
const HOUR_MS: i64 = 3_600_000;
const BOUNDS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const READ_LATENCY: &str = "task_management_system.performance.api_response_time";
const UPTIME: &str = "task_management_system.reliability.uptime";

fn le(bound: f64) -> String {
    if bound == f64::INFINITY {
        "+Inf".into()
    } else {
        bound.to_string()
    }
}

/// Six hours at 15 s, ending at `end_ms` (a whole second). Cumulative counts per series.
fn openmetrics(end_ms: i64) -> String {
    let start_ms = end_ms - 6 * HOUR_MS;
    let slow_from = end_ms - HOUR_MS;
    let steps = ((end_ms - start_ms) / STEP_MS) as usize;
    let mut rng = Lcg(7);
    // (method, route, status, requests per step, latency in seconds for a request at step i)
    type Latency = Box<dyn Fn(i64, f64) -> f64>;
    let routes: Vec<(&str, &str, &str, usize, Latency)> = vec![
        (
            "GET",
            "/tasks",
            "200",
            20,
            Box::new(move |t, r| {
                let base = 0.002 + 0.02 * r;
                if t >= slow_from {
                    base + 0.15
                } else {
                    base
                }
            }),
        ),
        (
            "GET",
            "/tasks/{id}",
            "200",
            5,
            Box::new(|_, r| 0.001 + 0.004 * r),
        ),
        (
            "POST",
            "/tasks",
            "201",
            8,
            Box::new(|_, r| 0.002 + 0.01 * r),
        ),
        (
            "POST",
            "/tasks",
            "500",
            0,
            Box::new(|_, r| 0.003 + r * 0.001),
        ),
        (
            "GET",
            "/tasks",
            "401",
            1,
            Box::new(|_, r| 0.0005 + r * 0.0001),
        ),
    ];
    let mut text = String::from(
        "# TYPE http_request_duration_seconds histogram\n# HELP http_request_duration_seconds Request duration.\n",
    );
    for (method, route, status, per_step, latency) in &routes {
        let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
        let mut buckets = vec![0u64; BOUNDS.len() + 1];
        let mut count = 0u64;
        let mut sum = 0.0f64;
        let mut lines: Vec<Vec<String>> = vec![Vec::new(); BOUNDS.len() + 3];
        for i in 0..=steps {
            let t = start_ms + i as i64 * STEP_MS;
            // A 5xx now and then: one every 40 steps.
            let n = if *status == "500" {
                usize::from(i % 40 == 0)
            } else {
                *per_step
            };
            for _ in 0..n {
                let v = latency(t, rng.draw());
                count += 1;
                sum += v;
                for (b, bound) in BOUNDS.iter().enumerate() {
                    if v <= *bound {
                        buckets[b] += 1;
                    }
                }
                buckets[BOUNDS.len()] += 1;
            }
            let seconds = t / 1000;
            for (b, bound) in BOUNDS.iter().chain([f64::INFINITY].iter()).enumerate() {
                lines[b].push(format!(
                    "http_request_duration_seconds_bucket{{{labels},le=\"{}\"}} {} {seconds}\n",
                    le(*bound),
                    buckets[b]
                ));
            }
            lines[BOUNDS.len() + 1].push(format!(
                "http_request_duration_seconds_count{{{labels}}} {count} {seconds}\n"
            ));
            lines[BOUNDS.len() + 2].push(format!(
                "http_request_duration_seconds_sum{{{labels}}} {sum} {seconds}\n"
            ));
        }
        for series in lines {
            text.extend(series);
        }
    }
    text.push_str("# TYPE sdd_scenario_outcomes counter\n# HELP sdd_scenario_outcomes Outcomes.\n");
    let scenarios = [
        ("task_management_system.create_a_simple_task", 8, 0),
        ("task_management_system.complete_a_task", 3, 0),
        // The service counted one failure every 100 steps for this one.
        (
            "task_management_system.cannot_complete_already_completed_task",
            1,
            100,
        ),
        ("task_management_system.unknown_thing", 1, 0),
    ];
    for (scenario, per_step, failure_every) in scenarios {
        for outcome in ["success", "failure"] {
            let mut total = 0u64;
            for i in 0..=steps {
                let t = start_ms + i as i64 * STEP_MS;
                total += match outcome {
                    "success" => per_step,
                    _ if failure_every > 0 && i % failure_every == 0 => 1,
                    _ => 0,
                };
                text.push_str(&format!(
                    "sdd_scenario_outcomes_total{{outcome=\"{outcome}\",scenario=\"{scenario}\"}} {total} {}\n",
                    t / 1000
                ));
            }
        }
    }
    // Journeys every minute; `list_tasks_filtered_by_status` failed once in the last hour.
    text.push_str("# TYPE sdd_journey_success gauge\n");
    let journeys = [
        "task_management_system.create_a_simple_task",
        "task_management_system.complete_a_task",
        "task_management_system.list_tasks_filtered_by_status",
    ];
    let minute_steps = (6 * 60) as i64;
    for scenario in journeys {
        for m in 0..=minute_steps {
            let t = start_ms + m * 60_000;
            let failed = scenario.ends_with("by_status") && m == minute_steps - 20;
            text.push_str(&format!(
                "sdd_journey_success{{job=\"sdd-journeys\",scenario=\"{scenario}\"}} {} {}\n",
                if failed { 0 } else { 1 },
                t / 1000
            ));
        }
    }
    text.push_str("# TYPE sdd_journey_duration_seconds gauge\n");
    for scenario in journeys {
        for m in 0..=minute_steps {
            let t = start_ms + m * 60_000;
            text.push_str(&format!(
                "sdd_journey_duration_seconds{{job=\"sdd-journeys\",scenario=\"{scenario}\"}} {} {}\n",
                0.01 + (m % 7) as f64 * 0.003,
                t / 1000
            ));
        }
    }
    text.push_str("# EOF\n");
    text
}

/// `a` and `b` equal, numbers within 1e-9 relative.
fn same(a: &Value, b: &Value, at: &str, differences: &mut Vec<String>) {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            if !(x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs())) {
                differences.push(format!("{at}: {x} vs {y}"));
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (x, y)) in x.iter().zip(y).enumerate() {
                same(x, y, &format!("{at}[{i}]"), differences);
            }
        }
        (Value::Object(x), Value::Object(y)) if x.len() == y.len() => {
            for (k, v) in x {
                match y.get(k) {
                    Some(w) => same(v, w, &format!("{at}.{k}"), differences),
                    None => differences.push(format!("{at}.{k} missing on one side")),
                }
            }
        }
        _ if a == b => {}
        _ => differences.push(format!("{at}: {a} vs {b}")),
    }
}

/// Textual fields that carry numbers (`summary`: "p95 = 197.5 ms …") compare as text after the
/// numbers are compared: the formatting is fixed, so equal numbers print alike.
fn assert_same(what: &str, embedded: &Value, prometheus: &Value) {
    let mut differences = Vec::new();
    same(embedded, prometheus, what, &mut differences);
    assert!(
        differences.is_empty(),
        "{what}: the sources disagree:\n{}",
        differences.join("\n")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn both_sources_give_the_same_answers() {
    if !prometheus_installed("both_sources_give_the_same_answers") {
        return;
    }
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    // Whole seconds (promtool keeps seconds), three hours back: older than Prometheus' head.
    let end_ms = (now_ms - 3 * HOUR_MS) / 1000 * 1000;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("example.om");
    std::fs::write(&data, openmetrics(end_ms)).unwrap();

    let port = free_port();
    let _prometheus = RunningPrometheus::start(dir.path(), port, &[], Some(&data));
    let api = PrometheusApi::new(
        &format!("http://127.0.0.1:{port}"),
        Duration::from_secs(30),
        AllowedHosts::loopback_only(),
    )
    .unwrap();
    let version = api.build_version().await.unwrap();
    let major: u32 = version.split('.').next().unwrap().parse().unwrap();

    let project = dir.path().join("project");
    std::fs::create_dir_all(&project).unwrap();
    let mut store = sdd_metrics::store::MetricStore::open(&project).unwrap();
    let imported = sdd_metrics::import::import_file(&mut store, &data).unwrap();
    assert!(
        imported.problems.is_empty(),
        "{:?}",
        imported.problems.kept()
    );
    drop(store);
    // The embedded store answers like the Prometheus it is compared with (its version's
    // window start and order of extrapolation limits).
    let minor: u32 = version.split('.').nth(1).unwrap().parse().unwrap();
    let mut embedded = EmbeddedSource::new(&project);
    embedded.semantics = Semantics {
        start: if major >= 3 {
            StartBound::Excluded
        } else {
            StartBound::Included
        },
        extrapolation: if (major, minor) >= (2, 51) {
            Extrapolation::Since2_51
        } else {
            Extrapolation::Before2_51
        },
    };
    let embedded = Source::Embedded(Arc::new(embedded));
    let prometheus = Source::Prometheus(api);

    let example = repo().join("examples/task_manager");
    let file = sdd_spec::project::load_project_file(&example).unwrap();
    let loaded = sdd_spec::load::load_dir(&example.join("specs")).unwrap();
    let constraints: Vec<_> = loaded.spec.constraints.iter().map(|c| &**c).collect();
    let scenarios: Vec<_> = loaded.spec.approved_scenarios().collect();

    // Off the 15 s grid, and on it; the slow last hour and a healthy hour three hours earlier.
    let instants = [
        ("the slow hour", end_ms - 7_500, HOUR_MS, Verdict::Failing),
        (
            "a healthy hour",
            end_ms - 3 * HOUR_MS + 3_217,
            HOUR_MS,
            Verdict::Passing,
        ),
        (
            "ten minutes on a sample",
            end_ms - 2 * HOUR_MS,
            600_000,
            Verdict::Passing,
        ),
    ];
    for (name, at_ms, window_ms, read_latency) in instants {
        let mut answers = Vec::new();
        for source in [&embedded, &prometheus] {
            let watch = Watch::new(&file, source, at_ms, window_ms, 30 * 24 * HOUR_MS);
            let headroom = constraint_headroom(&watch, &constraints).await.unwrap();
            let health = scenario_health(&watch, source, None, &scenarios)
                .await
                .unwrap();
            let (summaries, notes) = query_metrics(
                source,
                &Selector::parse(r#"http_request_duration_seconds_count{route="/tasks"}"#).unwrap(),
                window_ms,
                at_ms,
                Some(12),
            )
            .await
            .unwrap();
            answers.push((headroom, health, summaries, notes));
        }
        let (e, p) = (&answers[0], &answers[1]);
        let read = |rows: &[sdd_monitoring::headroom::ConstraintHeadroom]| {
            rows.iter()
                .find(|r| r.constraint == READ_LATENCY)
                .unwrap()
                .status
        };
        assert_eq!(read(&e.0), read_latency, "{name}: {:#?}", e.0);
        assert_eq!(read(&p.0), read_latency, "{name}: {:#?}", p.0);
        let uptime = e.0.iter().find(|r| r.constraint == UPTIME).unwrap();
        assert!(uptime.error_budget.is_some(), "{name}: {uptime:?}");
        assert_same(
            &format!("constraint_headroom at {name}"),
            &serde_json::to_value(&e.0).unwrap(),
            &serde_json::to_value(&p.0).unwrap(),
        );
        // The health rows, and what they are measured by (the sources' names apart).
        assert_same(
            &format!("scenario_health at {name}"),
            &serde_json::to_value(&e.1.rows).unwrap(),
            &serde_json::to_value(&p.1.rows).unwrap(),
        );
        assert_eq!(
            e.1.unknown_scenarios,
            ["task_management_system.unknown_thing"]
        );
        assert_eq!(e.1.unknown_scenarios, p.1.unknown_scenarios);
        assert_same(
            &format!("query_metrics at {name}"),
            &serde_json::to_value(&e.2).unwrap(),
            &serde_json::to_value(&p.2).unwrap(),
        );
        assert_eq!(
            e.2.len(),
            4,
            "{name}: GET 200 and 401, POST 201 and 500 of /tasks"
        );
        assert_eq!(e.3, p.3);
    }
}

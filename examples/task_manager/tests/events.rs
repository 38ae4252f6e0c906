//! SDD's semantic events (SDD's README, "Semantic event convention") as the service writes
//! them through its router: a decision event per scenario decision point and per refusal, a
//! span per request and per step, and what each planted incident of the debugger
//! (`bad_deploy`, `bad_shard`, `slow_dependency`, a traffic spike on the rate limit) leaves in
//! them. The events go to files in a temporary directory through `Config::events`, never
//! through the environment; the faults each test needs are set here.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::http::{Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use task_manager::events::EventsConfig;
use task_manager::{db_shard, jwt, unix_now, App, Config, Faults};
use tower::ServiceExt;

const SECRET: &str = "test-secret";
const CREATE: &str = "task_management_system.create_a_simple_task";
const COMPLETE: &str = "task_management_system.complete_a_task";
const ALREADY_COMPLETED: &str = "task_management_system.cannot_complete_already_completed_task";
const LIST_FILTERED: &str = "task_management_system.list_tasks_filtered_by_status";

struct Service {
    app: App,
    api: Router,
    dir: TempDir,
}

/// A directory removed when the test ends.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

struct Options {
    faults: &'static str,
    rate_limit_per_minute: usize,
    version: Option<&'static str>,
    events: bool,
}

const DEFAULTS: Options = Options {
    faults: "",
    rate_limit_per_minute: 100,
    version: None,
    events: true,
};

fn service_with(options: Options) -> Service {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "task-manager-events-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let events = if options.events {
        EventsConfig {
            json_lines: Some(dir.join("logs/events.jsonl")),
            otlp: Some(dir.join("logs/otlp.jsonl")),
        }
    } else {
        EventsConfig::default()
    };
    let app = App::open(Config {
        database: dir.join("tasks.sqlite3"),
        jwt_secret: SECRET.into(),
        rate_limit_per_minute: options.rate_limit_per_minute,
        faults: Faults::parse(options.faults).unwrap(),
        version: options.version.map(str::to_string),
        events,
    })
    .expect("open");
    Service {
        api: app.clone().router(),
        app,
        dir: TempDir(dir),
    }
}

fn service(faults: &'static str) -> Service {
    service_with(Options { faults, ..DEFAULTS })
}

/// A user name whose `db_shard` is `shard`.
fn user_on(shard: &str) -> String {
    (0..)
        .map(|n| format!("user-{n}"))
        .find(|u| db_shard(u) == shard)
        .unwrap()
}

impl Service {
    /// A request as `user` with these extra headers and JSON body: its status and JSON body.
    async fn send(
        &self,
        user: &str,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if !user.is_empty() {
            let token = jwt::sign_hs256(SECRET, user, unix_now() + 600);
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let body = match body {
            Some(json) => {
                request = request.header("content-type", "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let response = self
            .api
            .clone()
            .oneshot(request.body(body).unwrap())
            .await
            .unwrap();
        let status = response.status();
        let bytes = to_bytes(response.into_body(), 1 << 20).await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn call(&self, user: &str, method: &str, path: &str) -> (StatusCode, Value) {
        let body =
            (method == "POST" && path == "/tasks").then(|| json!({ "title": "Buy groceries" }));
        self.send(user, method, path, &[], body).await
    }

    async fn create(&self, user: &str) -> i64 {
        let (status, task) = self.call(user, "POST", "/tasks").await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        task["id"].as_i64().unwrap()
    }

    /// Every JSON line written so far.
    fn lines(&self) -> Vec<Value> {
        self.app.events().expect("events are on").flush();
        let text = std::fs::read_to_string(self.dir.0.join("logs/events.jsonl")).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect()
    }

    /// Every OTLP line written so far.
    fn otlp(&self) -> Vec<Value> {
        self.app.events().expect("events are on").flush();
        let text = std::fs::read_to_string(self.dir.0.join("logs/otlp.jsonl")).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

/// The decision events (the lines with an outcome), as `(event, scenario or constraint,
/// outcome)`.
fn decisions(lines: &[Value]) -> Vec<(String, String, String)> {
    let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
    lines
        .iter()
        .filter(|l| l.get("outcome").is_some())
        .map(|l| {
            let about = l
                .get("scenario")
                .or_else(|| l.get("constraint"))
                .and_then(Value::as_str)
                .unwrap_or_default();
            (text(l, "event"), about.to_string(), text(l, "outcome"))
        })
        .collect()
}

/// The decision event of this scenario with this outcome.
fn decision<'a>(lines: &'a [Value], scenario: &str, outcome: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["scenario"] == scenario && l["outcome"] == outcome)
        .unwrap_or_else(|| panic!("no {outcome} event of {scenario} in {lines:#?}"))
}

/// The span line (no outcome, a duration) of this step.
fn step_span<'a>(lines: &'a [Value], step: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["step"] == step && l.get("outcome").is_none())
        .unwrap_or_else(|| panic!("no span of step {step} in {lines:#?}"))
}

fn is_hex(value: &Value, digits: usize) -> bool {
    value.as_str().is_some_and(|s| {
        s.len() == digits && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    })
}

#[tokio::test]
async fn a_healthy_service_writes_a_success_at_each_decision_point_and_no_failure() {
    let s = service("");
    let id = s.create("ada").await;
    s.call("ada", "POST", &format!("/tasks/{id}/complete"))
        .await;
    let (status, _) = s
        .call("ada", "POST", &format!("/tasks/{id}/complete"))
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    s.call("ada", "GET", "/tasks?status=completed").await;
    s.call("ada", "GET", &format!("/tasks/{id}")).await;
    // No decision point: no decision event.
    s.call("ada", "GET", "/tasks").await;
    s.call("ada", "POST", "/tasks/999/complete").await;
    let lines = s.lines();
    let task_id = json!(id);
    let want = [
        ("task.create", CREATE),
        ("task.complete", COMPLETE),
        ("task.complete", ALREADY_COMPLETED),
        ("task.list", LIST_FILTERED),
    ];
    let got = decisions(&lines);
    assert_eq!(
        got,
        want.map(|(e, s)| (e.to_string(), s.to_string(), "success".to_string())),
    );
    for line in &lines {
        assert_ne!(line["level"], "ERROR", "{line}");
        assert_eq!(line["service_version"], "1.4.1", "{line}");
        assert_eq!(line["service_name"], "task-manager", "{line}");
        if line.get("outcome").is_some() {
            assert_eq!(line["attributes"]["user"], "ada", "{line}");
            assert!(["A", "B", "C"].contains(&line["attributes"]["db_shard"].as_str().unwrap()));
            assert!(line["business_rule"].is_string() && line["expected_outcome"].is_string());
            assert!(line["actual_outcome"].is_string() && line["message"].is_string());
        }
        if line.get("scenario").is_some_and(|s| s != LIST_FILTERED)
            && line["step"] != "1_validate"
            && line["step"] != "2_store"
        {
            // The business key, once known: create's read-back, every completion step.
            assert_eq!(line["attributes"]["task_id"], task_id, "{line}");
        }
    }
    let created = decision(&lines, CREATE, "success");
    assert_eq!(created["step"], "3_read_back");
    assert_eq!(created["decision_factors"]["title_chars"], json!(13));
    let refused = decision(&lines, ALREADY_COMPLETED, "success");
    assert_eq!(refused["step"], "2_check_status");
    assert_eq!(refused["decision_factors"]["was_completed"], json!(true));
    assert_eq!(
        refused["business_rule"],
        "a completed task cannot be completed again"
    );
    assert_eq!(decision(&lines, COMPLETE, "success")["step"], "3_update");
    let listed = decision(&lines, LIST_FILTERED, "success");
    assert_eq!(listed["decision_factors"]["status_filter"], "completed");
    assert_eq!(listed["decision_factors"]["listed"], json!(1));
    // The read is no decision point, but its request span carries the task.
    let read = lines
        .iter()
        .find(|l| l["event"] == "http.request" && l["attributes"]["http.route"] == "/tasks/{id}")
        .unwrap();
    assert_eq!(read["attributes"]["task_id"], task_id);
    assert_eq!(read["attributes"]["http.response.status_code"], json!(200));
}

#[tokio::test]
async fn steps_are_spans_inside_their_request_span_of_one_trace() {
    let s = service("");
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let headers = [("traceparent", traceparent), ("x-client-version", "2.0.1")];
    let body = json!({ "title": "Buy groceries" });
    let (status, _) = s.send("ada", "POST", "/tasks", &headers, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED);
    s.create("ada").await;
    let lines = s.lines();
    let requests: Vec<&Value> = lines
        .iter()
        .filter(|l| l["event"] == "http.request")
        .collect();
    assert_eq!(requests.len(), 2);
    // The first continues the caller's trace, under the caller's span.
    let first = requests[0];
    assert_eq!(first["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(first["parent_span_id"], "00f067aa0ba902b7");
    assert_eq!(first["attributes"]["client_version"], "2.0.1");
    // The second starts a trace of its own, and sent no client version.
    let second = requests[1];
    assert!(is_hex(&second["trace_id"], 32) && is_hex(&second["span_id"], 16));
    assert_ne!(second["trace_id"], first["trace_id"]);
    assert!(second.get("parent_span_id").is_none(), "{second}");
    assert!(second["attributes"].get("client_version").is_none());
    for request in requests {
        let in_trace: Vec<&Value> = lines
            .iter()
            .filter(|l| l["trace_id"] == request["trace_id"] && l["event"] != "http.request")
            .collect();
        let steps: Vec<&str> = in_trace
            .iter()
            .filter(|l| l.get("outcome").is_none())
            .map(|l| l["step"].as_str().unwrap())
            .collect();
        assert_eq!(steps, ["1_validate", "2_store", "3_read_back"]);
        for line in in_trace {
            // Each step's span (and each event in one) is the request span's child.
            assert_eq!(line["parent_span_id"], request["span_id"], "{line}");
            assert_ne!(line["span_id"], request["span_id"]);
            assert!(line["duration_ms"].as_f64().unwrap() >= 0.0);
            assert_eq!(
                line["attributes"]["client_version"], request["attributes"]["client_version"],
                "the request's dimensions reach every line in it"
            );
        }
        let event = decision(&lines, CREATE, "success");
        let read_back = lines
            .iter()
            .find(|l| {
                l["trace_id"] == event["trace_id"]
                    && l["step"] == "3_read_back"
                    && l.get("outcome").is_none()
            })
            .unwrap();
        assert_eq!(
            event["span_id"], read_back["span_id"],
            "the event is in its step"
        );
    }
}

#[tokio::test]
async fn bad_deploy_reports_1_4_2_and_fails_only_completion() {
    let s = service("bad_deploy");
    let id = s.create("ada").await;
    let (status, body) = s
        .call("ada", "POST", &format!("/tasks/{id}/complete"))
        .await;
    assert_eq!(
        (status, body),
        (
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({ "error": "storage error" })
        )
    );
    let (status, _) = s.call("ada", "GET", "/tasks?status=pending").await;
    assert_eq!(status, StatusCode::OK);
    let (status, task) = s.call("ada", "GET", &format!("/tasks/{id}")).await;
    assert_eq!(
        (status, &task["status"]),
        (StatusCode::OK, &json!("pending"))
    );
    let lines = s.lines();
    assert!(lines.iter().all(|l| l["service_version"] == "1.4.2"));
    let outcomes = decisions(&lines);
    assert_eq!(
        outcomes,
        [
            ("task.create", CREATE, "success"),
            ("task.complete", COMPLETE, "failure"),
            ("task.list", LIST_FILTERED, "success"),
        ]
        .map(|(e, s, o)| (e.to_string(), s.to_string(), o.to_string())),
    );
    let failed = decision(&lines, COMPLETE, "failure");
    assert_eq!(failed["level"], "ERROR");
    assert_eq!(failed["step"], "3_update");
    assert_eq!(
        failed["message"],
        "complete failed: no such column: completed_on"
    );
    assert_eq!(failed["attributes"]["task_id"], json!(id));
    assert_eq!(step_span(&lines, "3_update")["level"], "ERROR");

    // A version set from outside wins over the fault's.
    let pinned = service_with(Options {
        faults: "bad_deploy",
        version: Some("2.0.0"),
        ..DEFAULTS
    });
    pinned.create("ada").await;
    assert!(pinned
        .lines()
        .iter()
        .all(|l| l["service_version"] == "2.0.0"));
}

#[tokio::test]
async fn bad_shard_fails_creation_for_shard_b_users_only() {
    let s = service("bad_shard");
    for shard in ["A", "B", "C"] {
        let user = user_on(shard);
        let (status, body) = s.call(&user, "POST", "/tasks").await;
        if shard == "B" {
            assert_eq!(
                (status, body),
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    json!({ "error": "storage error" })
                )
            );
        } else {
            assert_eq!(status, StatusCode::CREATED, "{shard}: {body}");
        }
        // Reads are fine on every shard.
        let (status, _) = s.call(&user, "GET", "/tasks?status=pending").await;
        assert_eq!(status, StatusCode::OK, "{shard}");
    }
    let lines = s.lines();
    let failures: Vec<&Value> = lines.iter().filter(|l| l["outcome"] == "failure").collect();
    assert_eq!(failures.len(), 1, "{failures:#?}");
    let failed = failures[0];
    assert_eq!(failed["scenario"], CREATE);
    assert_eq!(failed["step"], "2_store");
    assert_eq!(failed["level"], "ERROR");
    assert_eq!(
        failed["message"],
        "timeout after 5000 ms waiting for shard B"
    );
    assert_eq!(failed["attributes"]["db_shard"], "B");
    assert_eq!(failed["attributes"]["user"], user_on("B"));
    let created: Vec<&str> = lines
        .iter()
        .filter(|l| l["scenario"] == CREATE && l["outcome"] == "success")
        .map(|l| l["attributes"]["db_shard"].as_str().unwrap())
        .collect();
    assert_eq!(created, ["A", "C"]);
}

#[tokio::test]
async fn slow_dependency_shows_in_the_store_steps_duration_not_in_outcomes() {
    let s = service("slow_dependency");
    let started = Instant::now();
    s.create("ada").await;
    assert!(started.elapsed().as_millis() >= 120);
    let lines = s.lines();
    let store = step_span(&lines, "2_store");
    let took = store["duration_ms"].as_f64().unwrap();
    assert!(took >= 120.0, "2_store took {took} ms");
    assert_eq!(store["level"], "INFO");
    let created = (
        "task.create".to_string(),
        CREATE.to_string(),
        "success".to_string(),
    );
    assert_eq!(decisions(&lines), [created]);
    // Only that step: the request span holds it, the other steps do not.
    let request = lines.iter().find(|l| l["event"] == "http.request").unwrap();
    assert!(request["duration_ms"].as_f64().unwrap() >= took);
    for step in ["1_validate", "3_read_back"] {
        let other = step_span(&lines, step)["duration_ms"].as_f64().unwrap();
        assert!(other < 120.0, "{step} took {other} ms");
    }
}

#[tokio::test]
async fn rate_limit_and_authentication_refusals_are_refused_events_with_their_constraint() {
    let s = service_with(Options {
        rate_limit_per_minute: 2,
        ..DEFAULTS
    });
    let headers = [("x-client-version", "3.1.0")];
    for _ in 0..3 {
        s.send("ada", "GET", "/tasks", &headers, None).await;
    }
    let (status, _) = s.send("", "GET", "/tasks", &[], None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let lines = s.lines();
    assert_eq!(
        decisions(&lines),
        [
            (
                "rate_limit.admit",
                "task_management_system.security.rate_limiting",
                "refused"
            ),
            (
                "auth.verify",
                "task_management_system.security.authentication_required",
                "refused"
            ),
        ]
        .map(|(e, c, o)| (e.to_string(), c.to_string(), o.to_string())),
        "admitted requests are no events"
    );
    let limited = &lines
        .iter()
        .find(|l| l["event"] == "rate_limit.admit")
        .unwrap();
    assert_eq!(limited["level"], "WARN");
    assert_eq!(limited["attributes"]["user"], "ada");
    assert_eq!(limited["attributes"]["db_shard"], db_shard("ada"));
    assert_eq!(limited["attributes"]["client_version"], "3.1.0");
    assert_eq!(limited["decision_factors"]["limit_per_minute"], json!(2));
    assert!(limited["decision_factors"]["retry_after_seconds"].is_u64());
    let unauthenticated = lines.iter().find(|l| l["event"] == "auth.verify").unwrap();
    assert_eq!(
        unauthenticated["decision_factors"]["token_sent"],
        json!(false)
    );
    assert!(unauthenticated["attributes"].get("user").is_none());
}

#[tokio::test]
async fn otlp_lines_hold_batches_of_log_records_and_spans_with_error_status_for_failures() {
    let s = service("bad_deploy");
    let id = s.create("ada").await;
    s.call("ada", "POST", &format!("/tasks/{id}/complete"))
        .await;
    let lines = s.otlp();
    let mut records = Vec::new();
    let mut spans = Vec::new();
    for line in &lines {
        let (resources, scopes, items) = if line.get("resourceLogs").is_some() {
            ("resourceLogs", "scopeLogs", "logRecords")
        } else {
            ("resourceSpans", "scopeSpans", "spans")
        };
        let resource = &line[resources][0];
        assert_eq!(
            resource["resource"]["attributes"],
            json!([
                { "key": "service.name", "value": { "stringValue": "task-manager" } },
                { "key": "service.version", "value": { "stringValue": "1.4.2" } },
            ])
        );
        let scope = &resource[scopes][0];
        assert_eq!(scope["scope"]["name"], "task-manager");
        let batch = scope[items].as_array().unwrap();
        assert!(!batch.is_empty() && batch.len() <= 100, "{line}");
        if items == "spans" {
            spans.extend(batch.iter().cloned());
        } else {
            records.extend(batch.iter().cloned());
        }
    }
    // Batches, not a line per record (a line per 100 records or 200 ms).
    assert!(lines.len() < records.len() + spans.len(), "{lines:#?}");
    assert_eq!(records.len(), 2);
    assert_eq!(
        spans.len(),
        8,
        "two requests, three steps each, the complete's last"
    );
    let attribute = |item: &Value, key: &str| {
        item["attributes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["key"] == key)
            .map(|a| a["value"].clone())
    };
    let failed = records
        .iter()
        .find(|r| attribute(r, "sdd.outcome") == Some(json!({ "stringValue": "failure" })))
        .unwrap();
    assert_eq!(failed["severityNumber"], 17);
    assert_eq!(
        failed["body"]["stringValue"],
        "complete failed: no such column: completed_on"
    );
    assert_eq!(
        attribute(failed, "sdd.scenario"),
        Some(json!({ "stringValue": COMPLETE }))
    );
    assert_eq!(
        attribute(failed, "task_id"),
        Some(json!({ "intValue": id.to_string() }))
    );
    let update = spans
        .iter()
        .find(|s| attribute(s, "sdd.step") == Some(json!({ "stringValue": "3_update" })))
        .unwrap();
    assert_eq!(update["status"]["code"], 2);
    assert_eq!(update["spanId"], failed["spanId"]);
    let server: Vec<&Value> = spans.iter().filter(|s| s["kind"] == 2).collect();
    assert_eq!(server.len(), 2);
    assert!(server.iter().all(|s| s["name"] == "http.request"));
    let statuses: Vec<&Value> = server.iter().map(|s| &s["status"]["code"]).collect();
    assert_eq!(statuses, [&json!(1), &json!(2)], "the 500 is an error");
    assert_eq!(update["parentSpanId"], server[1]["spanId"]);
}

/// CPU time the whole process has used (every thread, the events writer's included), from
/// /proc/self/stat (Linux; in clock ticks of 10 ms).
fn process_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after_name = &stat[stat.rfind(')').map_or(0, |i| i + 1)..];
    let ticks: Vec<f64> = after_name
        .split_whitespace()
        .skip(11)
        .take(2)
        .map(|t| t.parse().unwrap_or(0.0))
        .collect();
    ticks.iter().sum::<f64>() / 100.0
}

/// How much the events cost a request: the same filtered list (a decision point: a request
/// span, a step span and an event) with events off and on, through the router in-process.
/// Prints wall time and the process's CPU time (the writer thread's included) per request;
/// asserts nothing about time. Run with
/// `cargo test --release --test events -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement, not a check"]
async fn overhead_of_events_per_request() {
    const REQUESTS: usize = 20_000;
    for events in [false, true, false, true, false, true] {
        let s = service_with(Options {
            rate_limit_per_minute: usize::MAX,
            events,
            ..DEFAULTS
        });
        for _ in 0..20 {
            s.create("ada").await;
        }
        let token = jwt::sign_hs256(SECRET, "ada", unix_now() + 600);
        let (started, cpu) = (Instant::now(), process_cpu_seconds());
        for _ in 0..REQUESTS {
            let request = Request::builder()
                .uri("/tasks?status=pending&limit=20")
                .header("authorization", format!("Bearer {token}"))
                .header("x-client-version", "2.0.1")
                .body(Body::empty())
                .unwrap();
            let response = s.api.clone().oneshot(request).await.unwrap();
            assert_eq!(response.status(), StatusCode::OK);
            to_bytes(response.into_body(), 1 << 20).await.unwrap();
        }
        let dropped = s.app.events().map_or(0, |e| {
            e.flush();
            e.dropped()
        });
        let took = started.elapsed().as_secs_f64();
        let cpu = process_cpu_seconds() - cpu;
        let per = |seconds: f64| seconds * 1e6 / REQUESTS as f64;
        eprintln!(
            "events {}: {REQUESTS} filtered lists, {:.1} µs wall and {:.1} µs CPU each; {dropped} records dropped",
            if events { "on " } else { "off" },
            per(took),
            per(cpu),
        );
    }
}

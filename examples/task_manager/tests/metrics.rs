//! The metrics of SDD's metrics convention (SDD's README, "Metrics convention"): the exposition
//! a scraper reads from the metrics listener, and what requests and the scenarios' decision
//! points put in it. The faults each test needs are set here, not taken from the environment.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::{to_bytes, Body};
use axum::http::{header, Request, StatusCode};
use axum::Router;
use serde_json::{json, Value};
use task_manager::events::EventsConfig;
use task_manager::metrics::DURATION_BUCKETS;
use task_manager::{jwt, unix_now, App, Config, Faults, WriteBudget};
use tower::ServiceExt;

const SECRET: &str = "test-secret";

struct Service {
    api: Router,
    metrics: Router,
    token: String,
    database: std::path::PathBuf,
    _dir: TempDir,
}

/// A directory removed when the test ends.
struct TempDir(std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn service_with(faults: Faults, rate_limit_per_minute: usize) -> Service {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "task-manager-metrics-test-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    let database = dir.join("tasks.sqlite3");
    let app = App::open(Config {
        database: database.clone(),
        jwt_secret: SECRET.into(),
        rate_limit_per_minute,
        faults,
        version: None,
        events: EventsConfig::default(),
    })
    .expect("open");
    Service {
        metrics: app.metrics_router(),
        api: app.router(),
        token: jwt::sign_hs256(SECRET, "ada", unix_now() + 600),
        database,
        _dir: TempDir(dir),
    }
}

fn service(faults: &str) -> Service {
    service_with(Faults::parse(faults).unwrap(), 100)
}

impl Service {
    /// A request with this token (or none) and JSON body (or none): its status and JSON body.
    async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        json: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let body = match json {
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

    /// A request as the user (a task's title sent with `POST /tasks`).
    async fn call(&self, method: &str, path: &str) -> (StatusCode, Value) {
        let json =
            (method == "POST" && path == "/tasks").then(|| json!({ "title": "Buy groceries" }));
        self.send(method, path, Some(&self.token), json).await
    }

    /// Create a task; its ID.
    async fn create(&self) -> i64 {
        self.create_titled("Buy groceries").await
    }

    async fn create_titled(&self, title: &str) -> i64 {
        let json = json!({ "title": title });
        let (status, task) = self
            .send("POST", "/tasks", Some(&self.token), Some(json))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        task["id"].as_i64().unwrap()
    }

    /// `GET /metrics` of the metrics listener, with this `Accept`: its content type and body.
    async fn scrape_as(&self, accept: Option<&str>) -> (String, String) {
        let mut request = Request::builder().uri("/metrics");
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        let response = self
            .metrics
            .clone()
            .oneshot(request.body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let content_type = response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_string();
        let bytes = to_bytes(response.into_body(), 1 << 24).await.unwrap();
        (content_type, String::from_utf8(bytes.to_vec()).unwrap())
    }

    /// The Prometheus text exposition (as curl and promtool get it), checked and parsed.
    async fn scrape(&self) -> Exposition {
        let (content_type, text) = self.scrape_as(None).await;
        assert_eq!(content_type, "text/plain; version=0.0.4; charset=utf-8");
        Exposition::parse(&text, false)
    }
}

type Labels = BTreeMap<String, String>;

/// A checked exposition: every sample line is `name{labels} value` (or `name value`) and belongs
/// to a family declared by `# TYPE` (and `# HELP`) before it.
#[derive(Debug)]
struct Exposition {
    types: HashMap<String, String>,
    samples: Vec<(String, Labels, f64)>,
}

impl Exposition {
    fn parse(text: &str, openmetrics: bool) -> Exposition {
        let body = if openmetrics {
            text.strip_suffix("# EOF\n")
                .expect("OpenMetrics ends with `# EOF`")
        } else {
            assert!(!text.contains("# EOF"), "{text}");
            text
        };
        assert!(body.ends_with('\n'), "the last line must end: {text:?}");
        let mut types = HashMap::new();
        let mut helped = Vec::new();
        let mut samples = Vec::new();
        for line in body.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect(line);
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                assert!(types.insert(name.to_string(), kind.to_string()).is_none());
                assert!(helped.contains(&name.to_string()), "no HELP before {line}");
            } else if let Some(rest) = line.strip_prefix("# HELP ") {
                helped.push(rest.split(' ').next().unwrap().to_string());
            } else if line.starts_with("# UNIT ") && openmetrics {
            } else {
                let (name, labels, value) = parse_sample(line);
                let family = family_of(&types, &name, openmetrics)
                    .unwrap_or_else(|| panic!("`{line}` belongs to no typed family"));
                assert!(!family.is_empty());
                samples.push((name, labels, value));
            }
        }
        Exposition { types, samples }
    }

    /// The value of the sample with exactly these labels.
    fn value(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let wanted: Labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples
            .iter()
            .find(|(n, l, _)| n == name && *l == wanted)
            .map(|(_, _, v)| *v)
    }

    fn outcomes(&self, scenario: &str, outcome: &str) -> f64 {
        let scenario = format!("task_management_system.{scenario}");
        self.value(
            "sdd_scenario_outcomes_total",
            &[("scenario", &scenario), ("outcome", outcome)],
        )
        .unwrap_or_else(|| panic!("no {scenario} {outcome} series"))
    }

    /// `_count` of the request series (0 when there is none).
    fn requests(&self, method: &str, route: &str, status: &str) -> f64 {
        let labels = [("method", method), ("route", route), ("status", status)];
        self.value("http_request_duration_seconds_count", &labels)
            .unwrap_or(0.0)
    }

    /// A bucket of a request series.
    fn bucket(&self, method: &str, route: &str, status: &str, le: &str) -> f64 {
        let labels = [
            ("method", method),
            ("route", route),
            ("status", status),
            ("le", le),
        ];
        self.value("http_request_duration_seconds_bucket", &labels)
            .unwrap_or_else(|| panic!("no bucket {le} of {method} {route} {status}"))
    }
}

/// The family a sample belongs to: its own name when typed (gauges, and counters in the 0.0.4
/// format, which types them by their `_total` name), else its name less a suffix its type has.
fn family_of<'a>(
    types: &'a HashMap<String, String>,
    name: &'a str,
    openmetrics: bool,
) -> Option<&'a str> {
    if types.contains_key(name) && !(openmetrics && types[name] == "counter") {
        return Some(name);
    }
    let suffixes: &[(&str, &str)] = &[
        ("_bucket", "histogram"),
        ("_sum", "histogram"),
        ("_count", "histogram"),
        ("_total", "counter"),
    ];
    suffixes.iter().find_map(|(suffix, kind)| {
        let family = name.strip_suffix(suffix)?;
        (types.get(family).map(String::as_str) == Some(*kind)).then_some(family)
    })
}

/// `name{k="v",…} value`, with the label values' escapes (`\\`, `\"`, `\n`) undone.
fn parse_sample(line: &str) -> (String, Labels, f64) {
    let name_end = line
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == ':'))
        .unwrap_or_else(|| panic!("no value: {line}"));
    let name = &line[..name_end];
    assert!(
        !name.is_empty() && !name.starts_with(|c: char| c.is_ascii_digit()),
        "bad metric name: {line}"
    );
    let mut rest = &line[name_end..];
    let mut labels = Labels::new();
    if let Some(after) = rest.strip_prefix('{') {
        let mut chars = after.char_indices().peekable();
        loop {
            let (start, c) = chars.next().unwrap_or_else(|| panic!("unclosed: {line}"));
            if c == '}' {
                rest = &after[start + 1..];
                break;
            }
            let eq = after[start..].find("=\"").expect(line) + start;
            let key = &after[start..eq];
            assert!(
                key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "bad label name `{key}`: {line}"
            );
            while chars.peek().is_some_and(|(i, _)| *i <= eq + 1) {
                chars.next();
            }
            let mut value = String::new();
            loop {
                match chars
                    .next()
                    .unwrap_or_else(|| panic!("unclosed value: {line}"))
                {
                    (_, '"') => break,
                    (_, '\\') => match chars.next().map(|(_, c)| c) {
                        Some('n') => value.push('\n'),
                        Some(c @ ('\\' | '"')) => value.push(c),
                        other => panic!("bad escape {other:?}: {line}"),
                    },
                    (_, c) => value.push(c),
                }
            }
            assert!(labels.insert(key.to_string(), value).is_none(), "{line}");
            if chars.peek().is_some_and(|(_, c)| *c == ',') {
                chars.next();
            }
        }
    }
    let value = rest
        .strip_prefix(' ')
        .unwrap_or_else(|| panic!("no space before the value: {line}"));
    assert!(
        !value.contains(' '),
        "a timestamp or junk after the value: {line}"
    );
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v
            .parse()
            .unwrap_or_else(|_| panic!("bad value `{v}`: {line}")),
    };
    (name.to_string(), labels, value)
}

#[test]
fn the_sample_parser_refuses_what_is_not_the_line_format() {
    let (name, labels, value) = parse_sample(r#"a_b{x="1",y="q\"u\\o"} 2.5"#);
    assert_eq!((name.as_str(), value), ("a_b", 2.5));
    assert_eq!(labels["y"], r#"q"u\o"#);
    for bad in [
        "a_b",
        "a_b{x=\"1\"}2",
        "a_b{x=1} 2",
        "a_b{x=\"1\" 2",
        "a_b 2 3",
        "a_b two",
        "1ab 2",
    ] {
        assert!(
            std::panic::catch_unwind(|| parse_sample(bad)).is_err(),
            "{bad}"
        );
    }
    let untyped = "# HELP a A.\n# TYPE a gauge\na 1\nb 2\n";
    assert!(std::panic::catch_unwind(|| Exposition::parse(untyped, false)).is_err());
    let unended = "# HELP a A.\n# TYPE a gauge\na 1";
    assert!(std::panic::catch_unwind(|| Exposition::parse(unended, false)).is_err());
}

#[tokio::test]
async fn the_exposition_parses_in_both_formats_with_every_family_typed() {
    let s = service("");
    s.create().await;
    let text = s.scrape().await;
    for (family, kind) in [
        ("http_request_duration_seconds", "histogram"),
        ("sdd_scenario_outcomes_total", "counter"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_open_fds", "gauge"),
        ("process_start_time_seconds", "gauge"),
        ("db_size_bytes", "gauge"),
        ("db_connections_in_use", "gauge"),
        ("sdd_build_info", "gauge"),
        // The example's own: its cache of verified tokens, which the request above looked up.
        ("task_manager_cache_lookups_total", "counter"),
        ("task_manager_cache_hit_ratio", "gauge"),
    ] {
        assert_eq!(
            text.types.get(family).map(String::as_str),
            Some(kind),
            "{family}"
        );
    }
    // Every bucket of the convention, in order, then +Inf.
    let les: Vec<&str> = text
        .samples
        .iter()
        .filter(|(n, l, _)| n == "http_request_duration_seconds_bucket" && l["route"] == "/tasks")
        .map(|(_, l, _)| l["le"].as_str())
        .collect();
    let mut expected: Vec<String> = DURATION_BUCKETS.iter().map(|b| b.to_string()).collect();
    expected.push("+Inf".into());
    assert_eq!(les, expected);
    assert_eq!(
        DURATION_BUCKETS,
        [
            0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5,
            5.0, 10.0
        ]
    );

    // What Prometheus asks for: OpenMetrics, counters typed by their family name, `# EOF`.
    let accept = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5";
    let (content_type, body) = s.scrape_as(Some(accept)).await;
    assert!(
        content_type.starts_with("application/openmetrics-text; version=1.0.0"),
        "{content_type}"
    );
    let open = Exposition::parse(&body, true);
    assert_eq!(open.types["sdd_scenario_outcomes"], "counter");
    assert_eq!(open.samples.len(), text.samples.len());
}

#[tokio::test]
async fn build_info_names_the_version_reported() {
    for (faults, version) in [("", "1.4.1"), ("bad_deploy", "1.4.2")] {
        let text = service(faults).scrape().await;
        let builds: Vec<&Labels> = text
            .samples
            .iter()
            .filter(|(n, _, _)| n == "sdd_build_info")
            .map(|(_, l, _)| l)
            .collect();
        assert_eq!(builds.len(), 1, "{faults}");
        assert_eq!(
            text.value("sdd_build_info", &[("version", version)]),
            Some(1.0)
        );
    }
}

#[tokio::test]
async fn process_and_database_gauges_are_read_at_scrape_time() {
    let s = service("");
    let text = s.scrape().await;
    let gauge = |name: &str| text.value(name, &[]).unwrap_or_else(|| panic!("{name}"));
    assert!(gauge("process_resident_memory_bytes") > 1e6);
    assert!(gauge("process_open_fds") >= 3.0);
    // This test process started after boot, and not long before now.
    let now = unix_now() as f64;
    let started = gauge("process_start_time_seconds");
    assert!(
        started <= now + 1.0 && started > now - 3600.0,
        "{started} vs {now}"
    );
    assert_eq!(gauge("db_connections_in_use"), 0.0);

    // The file's size as SQLite counts it, growing with the tasks.
    let before = gauge("db_size_bytes");
    let file = rusqlite::Connection::open(&s.database).unwrap();
    let pragma = |name: &str| -> f64 {
        file.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0))
            .unwrap() as f64
    };
    assert_eq!(before, pragma("page_count") * pragma("page_size"));
    // Committed writes count at once, in the write-ahead log or not.
    for n in 0..40 {
        s.create_titled(&format!("{n:0>255}")).await;
    }
    let after = s.scrape().await.value("db_size_bytes", &[]).unwrap();
    assert!(
        after > before,
        "{after} bytes after 40 tasks, {before} before"
    );
    assert_eq!(after, pragma("page_count") * pragma("page_size"));

    // In memory there is no file.
    let memory = service("lose_writes");
    memory.create().await;
    let text = memory.scrape().await;
    assert_eq!(text.value("db_size_bytes", &[]), Some(0.0));
}

#[tokio::test]
async fn requests_are_timed_by_route_template_and_status_code() {
    let s = service("");
    let id = s.create().await;
    s.call("GET", &format!("/tasks/{id}")).await;
    s.call("GET", &format!("/tasks/{id}")).await;
    s.call("GET", "/tasks/999999").await;
    s.call("POST", &format!("/tasks/{id}/complete")).await;
    s.call("GET", "/tasks?status=pending").await;
    s.send("GET", "/health", None, None).await;
    s.call("GET", "/nowhere/7").await;
    s.call("DELETE", "/tasks").await;
    let text = s.scrape().await;
    for (method, route, status, count) in [
        ("POST", "/tasks", "201", 1.0),
        ("GET", "/tasks/{id}", "200", 2.0),
        ("GET", "/tasks/{id}", "404", 1.0),
        ("POST", "/tasks/{id}/complete", "200", 1.0),
        ("GET", "/tasks", "200", 1.0),
        ("GET", "/health", "200", 1.0),
        ("GET", "unmatched", "404", 1.0),
        ("DELETE", "/tasks", "405", 1.0),
    ] {
        assert_eq!(
            text.requests(method, route, status),
            count,
            "{method} {route} {status}"
        );
    }
    // Templates only: no series per ID or per unknown path.
    let routes: Vec<&str> = text
        .samples
        .iter()
        .filter_map(|(_, l, _)| l.get("route").map(String::as_str))
        .collect();
    assert!(
        routes.iter().all(|r| [
            "/tasks",
            "/tasks/{id}",
            "/tasks/{id}/complete",
            "/health",
            "unmatched"
        ]
        .contains(r)),
        "{routes:?}"
    );
    let scrapes_of_the_api = text.requests("GET", "/metrics", "200");
    assert_eq!(
        scrapes_of_the_api, 0.0,
        "the metrics listener is not the API"
    );
}

#[tokio::test]
async fn refusals_by_authentication_and_the_rate_limit_are_counted() {
    let s = service_with(Faults::default(), 2);
    s.send("GET", "/tasks/1", None, None).await;
    s.send("GET", "/tasks", Some("not.a.token"), None).await;
    for _ in 0..3 {
        s.call("GET", "/tasks").await;
    }
    let text = s.scrape().await;
    assert_eq!(text.requests("GET", "/tasks/{id}", "401"), 1.0);
    assert_eq!(text.requests("GET", "/tasks", "401"), 1.0);
    assert_eq!(text.requests("GET", "/tasks", "200"), 2.0);
    assert_eq!(text.requests("GET", "/tasks", "429"), 1.0);
    // /metrics on the API's port is no route there (and asks no token of anyone).
    let (status, _) = s.send("GET", "/metrics", None, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn each_scenario_decision_point_counts_success_when_the_service_delivers() {
    let s = service("");
    let before = s.scrape().await;
    for scenario in [
        "create_a_simple_task",
        "complete_a_task",
        "cannot_complete_already_completed_task",
        "list_tasks_filtered_by_status",
    ] {
        for outcome in ["success", "failure"] {
            assert_eq!(before.outcomes(scenario, outcome), 0.0, "{scenario}");
        }
    }
    let one = s.create().await;
    s.create().await;
    let (status, _) = s.call("POST", &format!("/tasks/{one}/complete")).await;
    assert_eq!(status, StatusCode::OK);
    // The refusal "Cannot complete already completed task" asks for is its success.
    let (status, body) = s.call("POST", &format!("/tasks/{one}/complete")).await;
    assert_eq!(
        (status, &body["error"]),
        (StatusCode::CONFLICT, &json!("Task is already completed"))
    );
    s.call("GET", "/tasks?status=pending").await;
    s.call("GET", "/tasks?status=completed").await;
    // Not a decision point of an approved scenario: no filter, a bad filter, a refused title,
    // a task that is not there.
    s.call("GET", "/tasks").await;
    s.call("GET", "/tasks?status=nope").await;
    s.call("POST", "/tasks/424242/complete").await;
    let text = s.scrape().await;
    assert_eq!(text.outcomes("create_a_simple_task", "success"), 2.0);
    assert_eq!(text.outcomes("complete_a_task", "success"), 1.0);
    assert_eq!(
        text.outcomes("cannot_complete_already_completed_task", "success"),
        1.0
    );
    assert_eq!(
        text.outcomes("list_tasks_filtered_by_status", "success"),
        2.0
    );
    for scenario in [
        "create_a_simple_task",
        "complete_a_task",
        "cannot_complete_already_completed_task",
        "list_tasks_filtered_by_status",
    ] {
        assert_eq!(text.outcomes(scenario, "failure"), 0.0, "{scenario}");
    }
}

#[tokio::test]
async fn completing_a_completed_task_again_counts_a_failure_under_unimplemented_rule() {
    let s = service("unimplemented_rule");
    let id = s.create().await;
    s.call("POST", &format!("/tasks/{id}/complete")).await;
    let (status, _) = s.call("POST", &format!("/tasks/{id}/complete")).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the planted fault completes it again"
    );
    let text = s.scrape().await;
    let rule = "cannot_complete_already_completed_task";
    assert_eq!(text.outcomes(rule, "failure"), 1.0);
    assert_eq!(text.outcomes(rule, "success"), 0.0);
    assert_eq!(text.outcomes("complete_a_task", "success"), 1.0);
    assert_eq!(text.outcomes("complete_a_task", "failure"), 0.0);
}

#[tokio::test]
async fn storage_failures_count_as_failures() {
    let s = service("");
    let id = s.create().await;
    // The table gone under the service: every statement it runs fails.
    let file = rusqlite::Connection::open(&s.database).unwrap();
    file.execute_batch("DROP TABLE tasks").unwrap();
    assert_eq!(
        s.call("POST", "/tasks").await.0,
        StatusCode::INTERNAL_SERVER_ERROR
    );
    let (status, _) = s.call("POST", &format!("/tasks/{id}/complete")).await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let (status, _) = s.call("GET", "/tasks?status=pending").await;
    assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
    let text = s.scrape().await;
    assert_eq!(text.outcomes("create_a_simple_task", "failure"), 1.0);
    assert_eq!(text.outcomes("create_a_simple_task", "success"), 1.0);
    assert_eq!(text.outcomes("complete_a_task", "failure"), 1.0);
    assert_eq!(
        text.outcomes("list_tasks_filtered_by_status", "failure"),
        1.0
    );
}

#[tokio::test]
async fn a_task_answered_but_not_stored_counts_a_failure() {
    let faults = Faults {
        drop_after_writes: Some(WriteBudget::new(1)),
        ..Faults::default()
    };
    let s = service_with(faults, 100);
    s.create().await;
    s.create().await;
    let text = s.scrape().await;
    assert_eq!(text.outcomes("create_a_simple_task", "success"), 1.0);
    assert_eq!(text.outcomes("create_a_simple_task", "failure"), 1.0);
}

#[tokio::test]
async fn slow_reads_land_above_the_150_ms_bucket() {
    for (faults, slow) in [("", false), ("slow_reads", true)] {
        let s = service(faults);
        let id = s.create().await;
        s.call("GET", &format!("/tasks/{id}")).await;
        s.call("GET", "/tasks?limit=20").await;
        let text = s.scrape().await;
        for route in ["/tasks/{id}", "/tasks"] {
            assert_eq!(text.requests("GET", route, "200"), 1.0);
            let at_most = |le: &str| text.bucket("GET", route, "200", le);
            assert_eq!(at_most("+Inf"), 1.0);
            if slow {
                assert_eq!(at_most("0.15"), 0.0, "{faults}: {route} took under 150 ms");
                let sum = text
                    .value(
                        "http_request_duration_seconds_sum",
                        &[("method", "GET"), ("route", route), ("status", "200")],
                    )
                    .unwrap();
                assert!(sum >= 0.15, "{sum}");
            } else {
                assert_eq!(at_most("0.1"), 1.0, "{faults}: {route} took over 100 ms");
            }
        }
        // Writes are not slowed.
        assert_eq!(text.bucket("POST", "/tasks", "201", "0.1"), 1.0, "{faults}");
    }
}

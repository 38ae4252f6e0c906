//! The bundled example's gradual faults found on live metrics: the service runs with
//! `memory_leak,missing_index,cache_decay` (and once with no fault), `sdd monitor` scrapes it
//! every second, a load that swings between 15 and 60 requests a second drives it for four
//! minutes, and `sdd call monitoring detect_degradation` over those four minutes must name
//! resident memory rising and the token cache's hit ratio falling, and nothing at all on the
//! healthy run. The list reads' latency (the missing index) is named in most runs, not all:
//! it is reported, not asserted.
//!
//! Before the window, a minute of creates only fills the database past SQLite's page cache
//! (2 MiB), so a healthy service's memory is flat in the window: filling that cache is growth a
//! healthy service has too, and the first minutes of any process show it.

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use support::{repo, service_binary, wait_for, Service, VaryingLoad};

const WINDOW: Duration = Duration::from_secs(240);
const WARM_UP: Duration = Duration::from_secs(60);

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `sdd monitor` in its own process group, stopped with it.
struct Monitor(Child);

impl Drop for Monitor {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.0.id())])
            .status();
        let _ = self.0.wait();
    }
}

fn now_rfc3339() -> String {
    let ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// The example with `faults`, warmed up, driven for [`WINDOW`]; the hunt's answer over it.
fn hunt(faults: &str) -> (tempfile::TempDir, Value) {
    let binary = service_binary();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    std::fs::create_dir_all(project.join("data")).unwrap();
    let example = repo().join("examples/task_manager");
    let status = Command::new("cp")
        .arg("-r")
        .arg(example.join("specs"))
        .arg(&project)
        .status()
        .unwrap();
    assert!(status.success());
    let (port, metrics_port) = (free_port(), free_port());
    let yaml = std::fs::read_to_string(example.join("sdd.yaml"))
        .unwrap()
        .replace("8787", &port.to_string())
        .replace("8788", &metrics_port.to_string())
        .replace("interval_seconds: 5", "interval_seconds: 1")
        .replace(
            "journeys: {interval_seconds: 30}",
            "journeys: {interval_seconds: 0}",
        );
    assert!(yaml.contains("interval_seconds: 1") && yaml.contains("interval_seconds: 0}"));
    std::fs::write(project.join("sdd.yaml"), &yaml).unwrap();

    use std::os::unix::process::CommandExt;
    let service = Service(
        Command::new(&binary)
            .current_dir(&project)
            .env("PORT", port.to_string())
            .env("METRICS_PORT", metrics_port.to_string())
            .env("DATABASE", "data/tasks.sqlite3")
            .env("JWT_SECRET", "task-manager-demo-secret")
            .env("RATE_LIMIT_PER_MINUTE", "100")
            .env("TASK_MANAGER_FAULTS", faults)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_for(&format!("{base}/health"));
    wait_for(&format!("http://127.0.0.1:{metrics_port}/metrics"));
    let total = WARM_UP + WINDOW + Duration::from_secs(15);
    let monitor = Monitor(
        Command::new(env!("CARGO_BIN_EXE_sdd"))
            .args([
                "monitor",
                "--for",
                &total.as_secs().to_string(),
                "--project",
            ])
            .arg(&project)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );

    // A minute of creates only, from 2,000 users (under 100 requests a minute each).
    let warm_up = VaryingLoad {
        low_rate: 300.0,
        high_rate: 300.0,
        users: 2000,
        ..VaryingLoad::for_example(&base)
    };
    let mut plan = warm_up.plan(WARM_UP);
    plan.endpoints.retain(|e| e.method == "POST");
    let report = sdd_load::run_blocking(&plan, &sdd_http::AllowedHosts::loopback_only())
        .expect("the warm-up runs");
    assert_eq!(report.errors.transport(), 0, "{:?}", report.first_error);
    std::thread::sleep(Duration::from_secs(5));

    VaryingLoad::for_example(&base).run(WINDOW);
    // The last scrape of the window.
    std::thread::sleep(Duration::from_secs(2));
    let at = now_rfc3339();
    let answer = call(
        &project,
        &format!(
            r#"{{"window": "{}s", "at": "{at}", "limit": 20}}"#,
            WINDOW.as_secs()
        ),
    );
    drop(monitor);
    service.stop();
    (dir, answer)
}

fn call(project: &Path, arguments: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_sdd"))
        .args(["call", "--project"])
        .arg(project)
        .args(["monitoring", "detect_degradation", arguments])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "detect_degradation: {text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&text).unwrap()
}

/// `(series, pattern)` of every degrading series.
fn findings(answer: &Value) -> Vec<(String, String)> {
    answer["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["series"].as_str().unwrap().to_string(),
                f["pattern"].as_str().unwrap_or("").to_string(),
            )
        })
        .chain(
            answer["more_findings"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|l| (l["series"].as_str().unwrap().to_string(), String::new())),
        )
        .collect()
}

#[test]
fn the_gradual_faults_are_named_and_the_healthy_service_shows_none() {
    let (_healthy, answer) = hunt("");
    let found = findings(&answer);
    assert!(
        found.is_empty(),
        "the healthy service: {found:?}\n{}",
        serde_json::to_string_pretty(&answer).unwrap()
    );
    assert!(
        answer["headline"]
            .as_str()
            .unwrap()
            .starts_with("NO DEGRADATION FOUND"),
        "{answer:#}"
    );
    assert!(
        answer["counts"]["judged"].as_u64().unwrap() >= 5,
        "{answer:#}"
    );

    let (_faulty, answer) = hunt("memory_leak,missing_index,cache_decay");
    let found = findings(&answer);
    let named = |stem: &str, pattern: &str| {
        found
            .iter()
            .any(|(series, p)| series.contains(stem) && (pattern.is_empty() || p == pattern))
    };
    let report = serde_json::to_string_pretty(&answer).unwrap();
    assert!(
        named("process_resident_memory_bytes", "rising"),
        "the leak: {found:?}\n{report}"
    );
    // Its shards go one by one: a decline, or a step where several went close together.
    assert!(
        named("task_manager_cache_hit_ratio", "declining")
            || named("task_manager_cache_hit_ratio", "step"),
        "the cache: {found:?}\n{report}"
    );
    // The missing index is named in most runs (the list route's p99, or the read constraint's
    // p95) but not all: with the table pre-filled to 12,000 rows the reads slow by about a third
    // over the window, inside one histogram bucket, and a p99 of 40 reads per bucket is noisy.
    // Said, not asserted; the synthetic creep pins the detection itself.
    let index_named = found.iter().any(|(series, _)| {
        (series.starts_with("p99 of http_request_duration_seconds")
            && series.contains("GET")
            && series.contains("/tasks"))
            || series.contains("api_response_time")
    });
    eprintln!("degradation_example: the missing index named: {index_named}");
    assert!(
        answer["headline"]
            .as_str()
            .unwrap()
            .starts_with("DEGRADING"),
        "{answer:#}"
    );
    // The leak grows at the same load, and heads for the 512 MiB limit.
    let leak = answer["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["metric"] == "process_resident_memory_bytes")
        .unwrap();
    assert!(
        leak["time_to_violation"]["bound"]
            .as_str()
            .unwrap()
            .contains("512 MiB"),
        "{leak:#}"
    );
}

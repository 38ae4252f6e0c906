//! The bundled example watched in production, from both sources: the service runs with its
//! `slow_reads` fault, a real Prometheus (Debian's package, `scripts/prometheus.sh`) scrapes
//! its operations port, and `sdd monitor` scrapes it into the embedded store and runs the
//! scenarios as synthetic journeys (whose reads are the slow traffic). Then
//! `sdd call monitoring constraint_headroom` must show the read-latency constraint violated
//! from either source, every constraint with the same status from both, and
//! `scenario_health` must see the journeys and the service's outcome counts.

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use sdd_monitoring::testing::{free_port, prometheus_installed, RunningPrometheus};
use serde_json::Value;
use support::{repo, service_binary, wait_for, Service};

const READ_LATENCY: &str = "task_management_system.performance.api_response_time";

fn sdd(project: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sdd"))
        .args(args)
        .arg("--project")
        .arg(project)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn call(project: &Path, tool: &str, arguments: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_sdd"))
        .args(["call", "--project"])
        .arg(project)
        .args(["monitoring", tool, arguments])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    // 1: the tool ran and its answer reports a failure (a violated constraint), which some
    // of these answers are meant to; only 2, a failed call, is the test's failure.
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{tool} on {}: {text}{}",
        project.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&text).unwrap()
}

fn statuses(answer: &Value) -> Vec<(String, String)> {
    let mut rows: Vec<(String, String)> = answer["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["constraint"].as_str().unwrap().to_string(),
                c["status"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[test]
fn slow_reads_violate_the_read_latency_constraint_from_either_source() {
    if !prometheus_installed("slow_reads_violate_the_read_latency_constraint_from_either_source") {
        return;
    }
    let binary = service_binary();
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("embedded");
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
        // Scrape every second and run the journeys every five (about 55 requests in 20 s,
        // under the example's 100 per minute per user), so a short run has data.
        .replace("interval_seconds: 5", "interval_seconds: 1")
        .replace(
            "journeys: {interval_seconds: 30}",
            "journeys: {interval_seconds: 5}",
        );
    assert!(yaml.contains("interval_seconds: 1") && yaml.contains("interval_seconds: 5}"));
    std::fs::write(project.join("sdd.yaml"), &yaml).unwrap();

    use std::os::unix::process::CommandExt;
    let _service = Service(
        Command::new(&binary)
            .current_dir(&project)
            .env("PORT", port.to_string())
            .env("METRICS_PORT", metrics_port.to_string())
            .env("DATABASE", "data/tasks.sqlite3")
            .env("JWT_SECRET", "task-manager-demo-secret")
            .env("RATE_LIMIT_PER_MINUTE", "100")
            .env("TASK_MANAGER_FAULTS", "slow_reads")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap(),
    );
    wait_for(&format!("http://127.0.0.1:{port}/health"));
    wait_for(&format!("http://127.0.0.1:{metrics_port}/metrics"));
    let prometheus_port = free_port();
    let prometheus = RunningPrometheus::start(
        dir.path(),
        prometheus_port,
        &[format!("127.0.0.1:{metrics_port}/metrics")],
        None,
    );

    let (code, out, err) = sdd(&project, &["monitor", "--for", "20"]);
    assert_eq!(code, 0, "sdd monitor: {out}{err}");
    assert!(out.contains("samples stored"), "{out}");
    assert!(out.contains("journeys: 4 scenarios, 4 passed"), "{out}");
    // Prometheus' last scrape of the same traffic.
    std::thread::sleep(Duration::from_secs(3));

    // The same project read from the Prometheus.
    let through_prometheus = dir.path().join("prometheus");
    std::fs::create_dir_all(&through_prometheus).unwrap();
    std::fs::write(
        through_prometheus.join("sdd.yaml"),
        yaml.replace(
            "monitoring:\n",
            &format!(
                "monitoring:\n  source: {{prometheus: {{url: \"{}\"}}}}\n",
                prometheus.url
            ),
        ),
    )
    .unwrap();
    let status = Command::new("cp")
        .arg("-r")
        .arg(project.join("specs"))
        .arg(&through_prometheus)
        .status()
        .unwrap();
    assert!(status.success());

    let args = r#"{"window": "2m", "limit": 100}"#;
    let embedded = call(&project, "constraint_headroom", args);
    let from_prometheus = call(&through_prometheus, "constraint_headroom", args);
    assert!(
        from_prometheus["source"]
            .as_str()
            .unwrap()
            .contains("Prometheus"),
        "{from_prometheus}"
    );
    for answer in [&embedded, &from_prometheus] {
        let read = answer["constraints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["constraint"] == READ_LATENCY)
            .unwrap();
        assert_eq!(read["status"], "failing", "{read:#}");
        assert!(read["value"].as_f64().unwrap() > 150.0, "{read:#}");
        assert!(
            answer["headline"].as_str().unwrap().starts_with("VIOLATED"),
            "{answer:#}"
        );
    }
    assert_eq!(statuses(&embedded), statuses(&from_prometheus));

    // Both see the service's outcome counts; the journeys (in the embedded store) pass.
    for project in [&project, &through_prometheus] {
        let health = call(project, "scenario_health", args);
        let rows = health["scenarios"].as_array().unwrap();
        assert_eq!(rows.len(), 4, "{health:#}");
        let create = rows
            .iter()
            .find(|r| r["scenario"] == "task_management_system.create_a_simple_task")
            .unwrap();
        assert!(
            create["service"]["successes"].as_f64().unwrap() >= 1.0,
            "{health:#}"
        );
        if *project == through_prometheus {
            // Its journeys are in the other project's store: this one has none.
            assert_eq!(create["status"], "partial", "{health:#}");
        } else {
            assert_eq!(create["status"], "healthy", "{health:#}");
            assert!(
                create["journeys"]["runs"].as_u64().unwrap() >= 4,
                "{health:#}"
            );
        }
    }
}

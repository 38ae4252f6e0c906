//! `sdd status` and the monitoring sections of `sdd report` on a copy of the example, its
//! metric store filled by `sdd metrics import` with OpenMetrics text as a service following
//! the metrics convention would expose it (README, "Metrics convention"): the request
//! histogram by method, route template and status, the scenarios' outcome counter, and the
//! journeys `sdd monitor` records — half an hour of it, ending just before now, so the default
//! window (1h) sees it.

use std::fmt::Write;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

mod support;

use support::{repo, sdd_in as sdd};

/// The example's sdd.yaml and specs in a fresh directory.
fn scratch_example() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let example = repo().join("examples/task_manager");
    std::fs::copy(example.join("sdd.yaml"), root.join("sdd.yaml")).unwrap();
    std::fs::create_dir_all(root.join("specs")).unwrap();
    for entry in std::fs::read_dir(example.join("specs")).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, root.join("specs").join(path.file_name().unwrap())).unwrap();
    }
    dir
}

/// The approved scenarios' and all constraints' IDs, as the spec has them.
fn spec_ids(root: &Path) -> (Vec<String>, Vec<String>) {
    let spec = sdd_spec::load_dir(&root.join("specs")).unwrap().spec;
    let approved = spec
        .scenarios
        .iter()
        .filter(|s| format!("{:?}", s.status) == "Approved")
        .map(|s| s.id.clone())
        .collect();
    let constraints = spec.constraints.iter().map(|c| c.id.clone()).collect();
    (approved, constraints)
}

const READ_LATENCY: &str = "task_management_system.performance.api_response_time";
const BOUNDS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// What the generated service did over the half hour.
#[derive(Default)]
struct Traffic {
    /// GET /tasks answered in 0.15–0.2 s (the planted fault `slow_reads`).
    slow_reads: bool,
    /// This scenario's outcomes and journeys failed.
    failing: Option<String>,
}

/// OpenMetrics text with timestamps: every 15 s for 30 minutes ending 5 s ago, each series in
/// time order, `# EOF` last.
fn openmetrics(scenarios: &[String], traffic: &Traffic) -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let times: Vec<i64> = (0..=120).map(|i| now - 5 - (120 - i) * 15).collect();
    let mut text = String::from("# TYPE http_request_duration_seconds histogram\n# HELP http_request_duration_seconds Requests by route template.\n");
    // (method, route, status, seconds each, requests per 15 s)
    let read_seconds = if traffic.slow_reads { 0.175 } else { 0.007 };
    let routes = [
        ("GET", "/tasks", "200", read_seconds, 10.0),
        ("GET", "/tasks/{id}", "200", 0.004, 5.0),
        ("GET", "/tasks/{id}", "404", 0.002, 1.0),
        ("POST", "/tasks", "201", 0.02, 3.0),
        ("POST", "/tasks/{id}/complete", "200", 0.02, 1.0),
    ];
    for (method, route, status, seconds, per_step) in routes {
        let labels = format!("method=\"{method}\",route=\"{route}\",status=\"{status}\"");
        let le = BOUNDS
            .iter()
            .map(|b| (b.to_string(), *b))
            .chain([("+Inf".to_string(), f64::INFINITY)]);
        for (le, bound) in le {
            for (i, t) in times.iter().enumerate() {
                let count = if seconds <= bound {
                    (i + 1) as f64 * per_step
                } else {
                    0.0
                };
                let _ = writeln!(
                    text,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {count} {t}"
                );
            }
        }
        for (i, t) in times.iter().enumerate() {
            let count = (i + 1) as f64 * per_step;
            let _ = writeln!(
                text,
                "http_request_duration_seconds_count{{{labels}}} {count} {t}"
            );
        }
        for (i, t) in times.iter().enumerate() {
            let sum = (i + 1) as f64 * per_step * seconds;
            let _ = writeln!(
                text,
                "http_request_duration_seconds_sum{{{labels}}} {sum} {t}"
            );
        }
    }
    text.push_str("# TYPE sdd_scenario_outcomes counter\n");
    for scenario in scenarios {
        let failing = traffic.failing.as_ref() == Some(scenario);
        for outcome in ["success", "failure"] {
            for (i, t) in times.iter().enumerate() {
                let count = match (outcome, failing) {
                    ("success", _) => 2 * (i + 1),
                    ("failure", true) => i,
                    _ => 0,
                };
                let _ = writeln!(
                    text,
                    "sdd_scenario_outcomes_total{{scenario=\"{scenario}\",outcome=\"{outcome}\"}} {count} {t}"
                );
            }
        }
    }
    // A journey a minute.
    text.push_str("# TYPE sdd_journey_success gauge\n");
    for scenario in scenarios {
        let passed = if traffic.failing.as_ref() == Some(scenario) {
            0
        } else {
            1
        };
        for t in times.iter().step_by(4) {
            let _ = writeln!(
                text,
                "sdd_journey_success{{job=\"sdd-journeys\",scenario=\"{scenario}\"}} {passed} {t}"
            );
        }
    }
    text.push_str("# TYPE sdd_journey_duration_seconds gauge\n");
    for scenario in scenarios {
        for t in times.iter().step_by(4) {
            let _ = writeln!(
                text,
                "sdd_journey_duration_seconds{{job=\"sdd-journeys\",scenario=\"{scenario}\"}} 0.05 {t}"
            );
        }
    }
    text.push_str("# EOF\n");
    text
}

/// A copy of the example with the store filled: the project, its approved scenarios and its
/// constraints.
fn monitored(traffic: &Traffic) -> (tempfile::TempDir, Vec<String>, Vec<String>) {
    let dir = scratch_example();
    let (approved, constraints) = spec_ids(dir.path());
    assert!(approved.len() >= 3, "{approved:?}");
    let file = dir.path().join("metrics.om");
    std::fs::write(&file, openmetrics(&approved, traffic)).unwrap();
    let (code, out, err) = sdd(dir.path(), &["metrics", "import", "metrics.om"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.contains("imported"), "{out}");
    (dir, approved, constraints)
}

/// The board's line for `id`, which must be there.
fn line_of<'a>(out: &'a str, id: &str) -> &'a str {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(id))
        .unwrap_or_else(|| panic!("no line for {id}:\n{out}"))
}

#[test]
fn status_of_a_healthy_service_lists_every_scenario_and_constraint_and_exits_0() {
    let (dir, approved, constraints) = monitored(&Traffic::default());
    let (code, out, err) = sdd(dir.path(), &["status"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("scenarios: HEALTHY — "),
        "the health headline first: {out}"
    );
    assert!(out.contains("constraints: NO VIOLATION SEEN — "), "{out}");
    for id in &approved {
        let line = line_of(&out, id);
        assert!(line.contains(" healthy "), "{line}");
        // The service's success and the journeys: 31 runs in the half hour, all passed.
        assert!(
            line.contains("100.0 % of") && line.contains("31/31 passed"),
            "{line}"
        );
    }
    for id in &constraints {
        line_of(&out, id);
    }
    let read = line_of(&out, READ_LATENCY);
    assert!(
        read.contains("within limit")
            && read.contains("p95 9.75 ms")
            && read.contains("max 100 ms"),
        "{read}"
    );
    let uptime = line_of(&out, "task_management_system.reliability.uptime");
    assert!(
        uptime.contains("min 99.9 %") && uptime.contains("100 % left (30d)"),
        "{uptime}"
    );
    // The unmeasured ones last, under their own heading, each with a short reason.
    let heading = out.find("not measured from metrics (").expect(&out);
    let rate_limit = line_of(&out, "task_management_system.security.rate_limiting");
    assert!(out.find(rate_limit).unwrap() > heading);
    assert!(
        rate_limit.ends_with("its rate limit check needs traffic SDD makes itself"),
        "{rate_limit}"
    );
}

#[test]
fn slow_reads_violate_the_read_latency_constraint_and_exit_1() {
    let (dir, _, _) = monitored(&Traffic {
        slow_reads: true,
        ..Traffic::default()
    });
    let (code, out, err) = sdd(dir.path(), &["status"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains(&format!(
            "constraints: VIOLATED — 1 of 12 constraints violated ({READ_LATENCY})"
        )),
        "{out}"
    );
    let read = line_of(&out, READ_LATENCY);
    assert!(read.contains("VIOLATED"), "{read}");
    // Why, in the server's words, under the table.
    assert!(
        out.contains(&format!(
            "  {READ_LATENCY} failing: p95 = 197.5 ms, limit 100 ms"
        )),
        "{out}"
    );
    // In the 0.15–0.2 s bucket: p95 interpolated inside it, past the limit.
    assert!(read.contains("p95 198 ms"), "{read}");
    assert!(read.contains("-98 %"), "negative headroom: {read}");
    // Writes stay within theirs.
    let writes = line_of(
        &out,
        "task_management_system.performance.write_operation_latency",
    );
    assert!(writes.contains("within limit"), "{writes}");
}

#[test]
fn a_failing_scenario_exits_1_and_says_so() {
    let failing = "task_management_system.complete_a_task".to_string();
    let (dir, approved, _) = monitored(&Traffic {
        failing: Some(failing.clone()),
        ..Traffic::default()
    });
    // The last round of journeys as `sdd monitor` keeps it, a minute ago: its failure line.
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let broke = "POST /tasks/7/complete: status expected 200, got 500";
    let round = sdd_monitoring::monitor::JourneyRound {
        at_ms: now_ms - 60_000,
        base_url: "http://127.0.0.1:8787".into(),
        runs: approved
            .iter()
            .map(|id| sdd_monitoring::monitor::JourneyRun {
                scenario: id.clone(),
                passed: *id != failing,
                duration_ms: 50.0,
                failure: (*id == failing).then(|| broke.to_string()),
            })
            .collect(),
    };
    sdd_monitoring::monitor::keep_round(dir.path(), &round).unwrap();
    let (code, out, err) = sdd(dir.path(), &["status"]);
    assert_eq!(code, 1, "{out}{err}");
    assert!(out.contains("scenarios: FAILING — 1 of"), "{out}");
    let line = line_of(&out, &failing);
    assert!(
        line.contains("FAILING") && line.contains("0/31 passed, the last failed"),
        "{line}"
    );
    assert!(line.ends_with(&format!("last failure: {broke}")), "{line}");
    // The service counted a failure for every two successes (`increase` extrapolates to
    // the window's end, as Prometheus does: a little more than the 360 outcomes stored).
    let success: f64 = line
        .split(" % of ")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no success share: {line}"));
    assert!((66.0..67.5).contains(&success), "{line}");
}

#[test]
fn status_without_a_store_exits_2_with_the_servers_message() {
    let dir = scratch_example();
    let (code, out, err) = sdd(dir.path(), &["status"]);
    assert_eq!(code, 2, "{out}{err}");
    assert!(
        err.contains("does not exist yet: run `sdd monitor`"),
        "{err}"
    );
    assert!(out.is_empty(), "{out}");
    assert!(
        !dir.path().join(".sdd/metrics.sqlite3").exists(),
        "asking created no store"
    );
    // A window that is no duration: a usage error before anything is asked.
    let (code, _, err) = sdd(dir.path(), &["status", "--window", "5x"]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a unit"), "{err}");
}

#[test]
fn status_as_json_has_both_answers_whole() {
    let (dir, approved, constraints) = monitored(&Traffic {
        slow_reads: true,
        ..Traffic::default()
    });
    let (code, out, err) = sdd(
        dir.path(),
        &["status", "--format", "json", "--window", "2h"],
    );
    assert_eq!(code, 1, "{out}{err}");
    let both: Value = serde_json::from_str(&out).expect("JSON on stdout");
    let health = &both["scenario_health"];
    let headroom = &both["constraint_headroom"];
    assert_eq!(health["window"], "2h");
    assert_eq!(
        health["scenarios"].as_array().unwrap().len(),
        approved.len()
    );
    assert_eq!(
        headroom["constraints"].as_array().unwrap().len(),
        constraints.len()
    );
    assert_eq!(headroom["counts"]["failing"], 1);
    let read = headroom["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["constraint"] == READ_LATENCY)
        .unwrap();
    assert_eq!(read["status"], "failing");
    // Both asked about the same instant.
    assert_eq!(health["at"], headroom["at"]);
}

/// More constraints than one page holds (100): every one is on the board.
#[test]
fn status_reads_every_page() {
    let (dir, _, _) = monitored(&Traffic::default());
    let mut spec = String::from("feature: Many\ndomain: many\nconstraints:\n  security:\n");
    for i in 0..250 {
        let _ = writeln!(
            spec,
            "    - name: Owner only {i}\n      requirement: Users can only access their own tasks"
        );
    }
    std::fs::write(dir.path().join("specs/many.yaml"), spec).unwrap();
    let (code, out, err) = sdd(dir.path(), &["status"]);
    assert_eq!(code, 0, "{out}{err}");
    for i in 0..250 {
        line_of(&out, &format!("many.security.owner_only_{i}"));
    }
    // All 262: a second domain leaves the example's own latency and availability constraints,
    // which hold for its domain, without a mapping of the domain's requests.
    assert!(out.contains("not measured from metrics (262):"), "{out}");
}

/// The last verification `sdd report` needs, as `sdd verify` writes it (nothing verified).
fn write_last_verify(root: &Path) {
    std::fs::create_dir_all(root.join(".sdd")).unwrap();
    std::fs::write(
        root.join(".sdd/last-verify.json"),
        r#"{"project": "x", "started_at": "t", "duration_seconds": 1.0, "ok": true, "steps": [], "scenarios": [], "constraints": []}"#,
    )
    .unwrap();
}

fn report(root: &Path) -> String {
    let (code, out, err) = sdd(root, &["report"]);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::read_to_string(root.join(".sdd/report.html")).unwrap()
}

#[test]
fn the_report_shows_scenario_health_and_the_constraint_console_with_trend_lines() {
    let (dir, approved, _) = monitored(&Traffic {
        slow_reads: true,
        ..Traffic::default()
    });
    write_last_verify(dir.path());
    let html = report(dir.path());
    let health = html.find("<h2>Scenario health</h2>").expect(&html);
    let console = html.find("<h2>Constraint console</h2>").expect(&html);
    assert!(health < console);
    assert!(!html.contains("no monitoring data"), "{html}");
    assert!(html[health..console].contains("HEALTHY — "));
    for id in &approved {
        assert!(html[health..console].contains(id.as_str()), "{id}");
    }
    // The read latency row: violated, with its p95 per step against the limit.
    let row_start = html[console..]
        .find(&format!("<small>{READ_LATENCY}</small>"))
        .unwrap()
        + console;
    let row = &html[row_start..row_start + html[row_start..].find("</tr>").unwrap()];
    assert!(row.contains(">failing</span>"), "{row}");
    assert!(row.contains("<svg class=\"spark\""), "{row}");
    assert!(
        row.contains("p95 latency per step (ms) over the last 1h; dashed: the limit, max 100 ms"),
        "{row}"
    );
    assert!(row.contains("class=\"limit\""), "{row}");
    // Its time to violation: the trend's outlook at 7, 30 and 90 days, or that there is none,
    // with what the column rests on below the table.
    assert!(row.contains("no outlook (see below)"), "{row}");
    let note = &html[html
        .find("Time to violation: where the trend")
        .expect(&html)..];
    // Half an hour is too short for a trend: the hunt says so, and no outlook is made up.
    assert!(
        note.contains("The hunt: NOTHING TO JUDGE — "),
        "{}",
        &note[..note.find("</p>").unwrap()]
    );
    // Each of the 30 minutes with requests is a step: one line of at least 29 points.
    let points = row
        .split("points=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    assert!(points.split(' ').count() >= 29, "{points}");
    // What the lines show is said, and the page stays self-contained.
    assert!(html.contains("Trend: each line is the constraint's own measure"));
    assert!(html.contains("<h3>Not measured from metrics (9)</h3>"));
    assert!(
        !html.contains("<script") && !html.contains(" src=") && !html.contains("href="),
        "{html}"
    );
}

#[test]
fn the_report_without_monitoring_data_says_so_and_still_renders() {
    let dir = scratch_example();
    write_last_verify(dir.path());
    let html = report(dir.path());
    assert!(
        html.contains("<h2>Scenario health</h2>") && html.contains("<h2>Constraint console</h2>")
    );
    assert_eq!(
        html.matches("no monitoring data: run `sdd monitor`")
            .count(),
        2,
        "{html}"
    );
    assert!(!html.contains("<svg class=\"spark\""));
    assert!(html.contains("<h2>Trend of the last runs</h2>"));
    assert!(!dir.path().join(".sdd/metrics.sqlite3").exists());
}

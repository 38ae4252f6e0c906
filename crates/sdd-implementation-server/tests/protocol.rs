//! Protocol tests: the built `sdd-implementation` binary spawned as a child process and driven
//! by rmcp's client, as an MCP client would, on private copies of the inventory fixture project
//! (a spec with tests in Rust and Python that pass, fail, are skipped and are missing).

use std::path::Path;
use std::time::Duration;

use rmcp::model::CallToolRequestParams;
use sdd_mcp::test_client::{call, error_text, ping_during, structured, Client};
use serde_json::{json, Value};

use sdd_verify::testing::{inventory_project, process_alive, pytest_available};

const SERVER: &str = env!("CARGO_BIN_EXE_sdd-implementation");

async fn start(project: &Path) -> Client {
    sdd_mcp::test_client::start(SERVER, &["--project".as_ref(), project.as_os_str()]).await
}

fn verdicts(run: &Value) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = run["traceability"]["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["scenario_id"].as_str().unwrap().to_string(),
                s["verdict"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

fn expected_verdicts() -> Vec<(String, String)> {
    [
        ("inventory.add_an_item", "passing"),
        ("inventory.bulk_import", "skipped"),
        ("inventory.remove_more_than_in_stock", "failing"),
        ("inventory.reserve_stock", "no_test"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect()
}

#[tokio::test]
async fn tests_in_two_languages_map_to_the_same_scenarios() {
    let _serial = LOAD.lock().await;
    let project = inventory_project().unwrap();
    let client = start(project.path()).await;
    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("sdd-implementation")
    );

    let profiles = structured(&call(&client, "list_test_profiles", json!({})).await);
    assert!(profiles["profiles"].as_array().unwrap().len() >= 6);

    let mut profiles = vec!["rust", "rust-nextest", "python-junit"];
    if pytest_available() {
        profiles.push("python");
    }
    for profile in profiles {
        let run = structured(&call(&client, "run_tests", json!({"profile": profile})).await);
        assert_eq!(verdicts(&run), expected_verdicts(), "{profile}: {run:#}");
        assert_eq!(run["ok"], false);
        let failure = &run["failures"][0];
        assert_eq!(
            failure["scenario_id"],
            "inventory.remove_more_than_in_stock"
        );
        assert!(failure["message"].as_str().unwrap().len() > 5, "{failure}");
        assert_eq!(
            run["traceability"]["unmapped_tests"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        assert_eq!(run["problems"], json!([]), "{profile}");
        assert!(run["run_id"].as_i64().is_some());
    }

    let table = structured(&call(&client, "traceability", json!({"verdict": "failing"})).await);
    assert_eq!(table["scenarios"].as_array().unwrap().len(), 1);
    assert_eq!(
        table["scenarios"][0]["scenario_id"],
        "inventory.remove_more_than_in_stock"
    );

    let status = structured(&call(&client, "project_status", json!({})).await);
    assert_eq!(status["scenarios"]["approved"], 4);
    assert_eq!(status["scenarios"]["failing"], 1);
    assert_eq!(status["scenarios"]["no_test"], 1);
    assert_eq!(status["spec"]["proposed"], 1);
    assert!(status["next_steps"].as_array().unwrap().len() >= 2);

    // Bad arguments: clear tool errors, and the server keeps answering.
    let err = error_text(&call(&client, "run_tests", json!({"profile": "nope"})).await);
    assert!(
        err.contains("no test profile `nope`") && err.contains("`rust`"),
        "{err}"
    );
    let err = error_text(
        &call(
            &client,
            "run_tests",
            json!({"profile": "rust-nextest", "filter": "x"}),
        )
        .await,
    );
    assert!(err.contains("filter_arg"), "{err}");
    let err = error_text(&call(&client, "traceability", json!({"verdict": "green"})).await);
    assert!(err.contains("unknown verdict"), "{err}");
    let err = error_text(&call(&client, "compare_runs", json!({"before": 999, "after": 1})).await);
    assert!(err.contains("no run with id 999"), "{err}");
    let wrong_type = client
        .call_tool(
            CallToolRequestParams::new("run_tests")
                .with_arguments(json!({"profile": 7}).as_object().cloned().unwrap()),
        )
        .await;
    assert!(wrong_type.is_err() || wrong_type.unwrap().is_error == Some(true));
    structured(&call(&client, "history", json!({"limit": 2})).await);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_regression_is_flagged_and_compare_runs_explains_it() {
    let _serial = LOAD.lock().await;
    let project = inventory_project().unwrap();
    let lib = project.path().join("rust/src/lib.rs");
    let buggy = std::fs::read_to_string(&lib).unwrap();
    let fixed = buggy.replace(
        "*have = have.saturating_sub(units);\n        Ok(())",
        "if *have < units {\n            return Err(\"insufficient stock\".into());\n        }\n        *have -= units;\n        Ok(())",
    );
    assert_ne!(buggy, fixed);
    std::fs::write(&lib, &fixed).unwrap();
    let client = start(project.path()).await;
    let first = structured(&call(&client, "run_tests", json!({"profile": "rust"})).await);
    assert_eq!(first["tests"]["failed"], 0, "{first:#}");
    assert_eq!(first["regressions"], json!([]));

    // The agent's next change brings the bug back.
    std::fs::write(&lib, &buggy).unwrap();
    let second = structured(&call(&client, "run_tests", json!({"profile": "rust"})).await);
    assert_eq!(
        second["regressions"],
        json!(["inventory.remove_more_than_in_stock"])
    );
    assert_eq!(second["previous_run_id"], first["run_id"]);

    let cmp = structured(&call(&client, "compare_runs", json!({})).await);
    assert_eq!(
        cmp["newly_failing"][0]["subject"],
        "inventory.remove_more_than_in_stock"
    );
    assert_eq!(cmp["newly_failing"][0]["before"], "passing");
    assert!(cmp["newly_failing"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("removing 5 of 2 must fail"));
    assert_eq!(cmp["newly_failing_tests"].as_array().unwrap().len(), 1);

    let history = structured(
        &call(
            &client,
            "history",
            json!({"scenario": "inventory.remove_more_than_in_stock"}),
        )
        .await,
    );
    let statuses: Vec<&str> = history["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["scenario_result"]["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["failing", "passing"]);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_hanging_run_is_killed_at_its_timeout_and_broken_results_are_reported() {
    let project = inventory_project().unwrap();
    let client = start(project.path()).await;
    if pytest_available() {
        let run = structured(&call(&client, "run_tests", json!({"profile": "hang"})).await);
        assert_eq!(run["exit"]["kind"], "timed_out", "{run:#}");
        assert!(run["problems"][0].as_str().unwrap().contains("timeout"));
        let pids = std::fs::read_to_string(project.path().join("hang/pids")).unwrap();
        for pid in pids.split_whitespace() {
            assert!(!process_alive(pid), "process {pid} survived the timeout");
        }
    }
    let run = structured(&call(&client, "run_tests", json!({"profile": "broken-results"})).await);
    assert_eq!(run["ok"], false);
    let problems = run["problems"].to_string();
    assert!(problems.contains("JUnit"), "{problems}");
    client.cancel().await.unwrap();
}

/// Paging arguments are top-level `offset` and `limit` on every list tool, and a misspelt
/// argument is refused by name with the fields the tool accepts, before anything runs.
#[tokio::test]
async fn list_tools_page_and_unknown_arguments_are_refused_by_name() {
    let project = inventory_project().unwrap();
    let client = start(project.path()).await;
    let all = structured(&call(&client, "list_test_profiles", json!({})).await);
    let total = all["page"]["total"].as_u64().unwrap();
    assert!(total >= 4, "{all:#}");
    let page = structured(
        &call(
            &client,
            "list_test_profiles",
            json!({"offset": 1, "limit": 2}),
        )
        .await,
    );
    assert_eq!(page["profiles"][0], all["profiles"][1]);
    assert_eq!(page["page"]["returned"], 2);
    assert_eq!(page["page"]["next_offset"], 3);
    for (tool, args, field) in [
        ("list_test_profiles", json!({"limt": 2}), "limt"),
        (
            "traceability",
            json!({"verdict": "failing", "ofset": 1}),
            "ofset",
        ),
        ("check_scenarios", json!({"id": ["x"]}), "id"),
    ] {
        let text = error_text(&call(&client, tool, args).await);
        assert!(
            text.contains(&format!("unknown field `{field}`")),
            "{tool}: {text}"
        );
    }
    let text = error_text(&call(&client, "list_test_profiles", json!({"limt": 2})).await);
    assert!(text.contains("expected one of `limit`, `offset`"), "{text}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_missing_or_malformed_project_file_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let client = start(dir.path()).await;
    let err = error_text(&call(&client, "run_tests", json!({"profile": "unit"})).await);
    assert!(err.contains("cannot read sdd.yaml"), "{err}");
    std::fs::write(
        dir.path().join("sdd.yaml"),
        "tests:\n  unit:\n    comand: pytest\n",
    )
    .unwrap();
    let err = error_text(&call(&client, "list_test_profiles", json!({})).await);
    assert!(err.contains("line 3") && err.contains("comand"), "{err}");
    let status = structured(&call(&client, "project_status", json!({})).await);
    assert!(
        status["next_steps"][0]
            .as_str()
            .unwrap()
            .contains("sdd.yaml"),
        "{status:#}"
    );
    client.cancel().await.unwrap();
}

/// A run of a kind this SDD does not know (a newer SDD may add kinds) among the newest runs
/// does not take project_status down: the scenarios still stand from the runs it can read, and
/// the listing's problem is a next step naming the run.
#[tokio::test]
async fn project_status_survives_a_run_of_an_unknown_kind() {
    let project = inventory_project().unwrap();
    let mut history = sdd_history::History::open(project.path()).unwrap();
    let run = |kind| sdd_history::NewRun {
        kind,
        label: "rust".into(),
        started_at: "2026-12-01T00:00:00Z".into(),
        duration_seconds: 1.0,
        commit: None,
        dirty: None,
        filter: None,
        ok: false,
        summary: json!({}),
        results: vec![sdd_history::SubjectResult {
            subject: "inventory.add_an_item".into(),
            status: sdd_history::SubjectStatus::Failing,
            detail: Some("boom".into()),
        }],
        tests: Vec::new(),
    };
    history.record(&run(sdd_history::RunKind::Tests)).unwrap();
    history.record(&run(sdd_history::RunKind::Checks)).unwrap();
    drop(history);
    rusqlite::Connection::open(project.path().join(sdd_history::HISTORY_FILE))
        .unwrap()
        .execute("UPDATE runs SET kind = 'load_tests' WHERE id = 2", [])
        .unwrap();
    let client = start(project.path()).await;
    let status = structured(&call(&client, "project_status", json!({})).await);
    assert_eq!(status["scenarios"]["failing"], 1, "{status:#}");
    assert_eq!(status["last_runs"], json!([]), "{status:#}");
    let steps = status["next_steps"].to_string();
    assert!(
        steps.contains("cannot be listed")
            && steps.contains("run 2")
            && steps.contains("load_tests"),
        "{steps}"
    );
    client.cancel().await.unwrap();
}

/// project_status reads the newest deciding run across profiles (a stale profile's failure no
/// longer outvotes a newer pass), counts unverified scenarios apart and never as passing, and
/// puts a red run no failing scenario explains first in what to do.
#[tokio::test]
async fn project_status_follows_the_newest_run_and_names_unexplained_red_runs() {
    let project = inventory_project().unwrap();
    let mut history = sdd_history::History::open(project.path()).unwrap();
    let result = |subject: &str, status| sdd_history::SubjectResult {
        subject: subject.into(),
        status,
        detail: None,
    };
    let run = |label: &str, summary, results| sdd_history::NewRun {
        kind: sdd_history::RunKind::Tests,
        label: label.into(),
        started_at: "2026-12-01T00:00:00Z".into(),
        duration_seconds: 1.0,
        commit: None,
        dirty: None,
        filter: None,
        ok: false,
        summary,
        results,
        tests: Vec::new(),
    };
    use sdd_history::SubjectStatus::{Failing, Passing, Unverified};
    // The stale profile: recorded by an older SDD, red by its failing scenario.
    history
        .record(&run(
            "rust",
            json!({"tests": {"total": 4, "failed": 1}}),
            vec![result("inventory.add_an_item", Failing)],
        ))
        .unwrap();
    history
        .record(&run(
            "python",
            json!({
                "tests": {"total": 5, "passed": 3, "failed": 2, "skipped": 0},
                "unmapped_failures": {"count": 2, "first": ["test_helper_x", "test_helper_y"]},
                "problems": [], "problems_total": 0,
            }),
            vec![
                result("inventory.add_an_item", Passing),
                result("inventory.bulk_import", Unverified),
            ],
        ))
        .unwrap();
    drop(history);
    let client = start(project.path()).await;
    let status = structured(&call(&client, "project_status", json!({})).await);
    assert_eq!(status["scenarios"]["passing"], 1, "{status:#}");
    assert_eq!(status["scenarios"]["failing"], 0, "{status:#}");
    assert_eq!(status["scenarios"]["unverified"], 1, "{status:#}");
    assert_eq!(
        status["unverified"][0]["scenario_id"], "inventory.bulk_import",
        "{status:#}"
    );
    assert_eq!(
        status["attention"].as_array().unwrap().len(),
        1,
        "{status:#}"
    );
    assert_eq!(status["attention"][0]["profile"], "python", "{status:#}");
    assert_eq!(status["attention"][0]["unmapped_failures"], 2, "{status:#}");
    let first = status["next_steps"][0].as_str().unwrap();
    assert!(
        first.contains("run_tests profile `python`")
            && first.contains("2 failing test(s) map to no scenario: test_helper_x, test_helper_y"),
        "{first}"
    );
    let steps = status["next_steps"].to_string();
    assert!(
        steps.contains("Unverified") && steps.contains("inventory.bulk_import"),
        "{steps}"
    );
    client.cancel().await.unwrap();
}

/// A `run_tests` filter written to break out of a double-quoted `filter_arg` reaches the runner
/// as one argument, verbatim, and runs nothing; a NUL in a filter is refused with the reason.
#[tokio::test]
async fn a_filter_is_data_never_shell_text() {
    let _serial = LOAD.lock().await;
    let project = inventory_project().unwrap();
    let root = project.path();
    std::fs::write(root.join("record.sh"), "printf '%s\\0' \"$@\" > argv.bin\n").unwrap();
    let file = root.join("sdd.yaml");
    let text = std::fs::read_to_string(&file).unwrap().replacen(
        "tests:\n",
        "tests:\n  argv:\n    command: sh record.sh\n    filter_arg: '-k \"{filter}\"'\n    results: {format: libtest}\n",
        1,
    );
    std::fs::write(&file, text).unwrap();
    let pwned = root.join("pwned");
    let filter = format!("x\" $(touch {0}) `touch {0}`; touch {0} '", pwned.display());
    let client = start(root).await;
    let run = structured(
        &call(
            &client,
            "run_tests",
            json!({"profile": "argv", "filter": filter}),
        )
        .await,
    );
    assert!(!pwned.exists(), "the filter ran a command: {run:#}");
    let argv = std::fs::read(root.join("argv.bin")).unwrap();
    let argv: Vec<&[u8]> = argv.split(|b| *b == 0).filter(|a| !a.is_empty()).collect();
    assert_eq!(argv, [b"-k".as_slice(), filter.as_bytes()], "{run:#}");
    let err = error_text(
        &call(
            &client,
            "run_tests",
            json!({"profile": "argv", "filter": "a\u{0}b"}),
        )
        .await,
    );
    assert!(err.contains("U+0000"), "{err}");
    client.cancel().await.unwrap();
}

/// The server binary spoken to directly over its stdin, for tests that must kill it.
async fn raw_server(project: &Path, calls: &[Value]) -> tokio::process::Child {
    use tokio::io::AsyncWriteExt;
    let mut server = tokio::process::Command::new(SERVER)
        .arg("--project")
        .arg(project)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdin = server.stdin.as_mut().unwrap();
    let mut messages = vec![
        json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
    ];
    for (n, call) in calls.iter().enumerate() {
        messages
            .push(json!({"jsonrpc": "2.0", "id": n + 1, "method": "tools/call", "params": call}));
    }
    for message in messages {
        stdin
            .write_all(format!("{message}\n").as_bytes())
            .await
            .unwrap();
    }
    stdin.flush().await.unwrap();
    server
}

/// Wait until `file` holds `count` whitespace-separated PIDs.
async fn wait_for_pids(file: &Path, count: usize) -> Vec<String> {
    for _ in 0..300 {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        let pids: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        if pids.len() == count {
            return pids;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{} never got {count} pid(s)", file.display());
}

async fn assert_gone(pids: &[String], what: &str) {
    for pid in pids {
        let mut gone = false;
        for _ in 0..200 {
            if !process_alive(pid) {
                gone = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        assert!(gone, "process {pid} outlived {what}");
    }
}

/// The server is killed with SIGKILL in the middle of a run: the test process and its child
/// must not survive it (the supervisor sees its pipe close and kills their group).
#[tokio::test]
async fn killing_the_server_leaves_no_test_process_behind() {
    if !pytest_available() {
        return;
    }
    let project = inventory_project().unwrap();
    let mut server = raw_server(
        project.path(),
        &[json!({"name": "run_tests", "arguments": {"profile": "hang-long"}})],
    )
    .await;
    let pids = wait_for_pids(&project.path().join("hang/pids"), 2).await;
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    assert_gone(&pids, "the killed server").await;
}

/// Same for a service started by the server.
#[tokio::test]
async fn killing_the_server_stops_its_service() {
    let project = inventory_project().unwrap();
    let mut server = raw_server(
        project.path(),
        &[json!({"name": "start_service", "arguments": {}})],
    )
    .await;
    let pids = wait_for_pids(&project.path().join("service.pid"), 1).await;
    server.start_kill().unwrap();
    server.wait().await.unwrap();
    assert_gone(&pids, "the killed server").await;
}

#[tokio::test]
async fn service_lifecycle_and_executable_examples() {
    let project = inventory_project().unwrap();
    let client = start(project.path()).await;
    let err = error_text(&call(&client, "check_scenarios", json!({})).await);
    assert!(err.contains("start_service"), "{err}");
    let err = error_text(&call(&client, "service_logs", json!({})).await);
    assert!(err.contains("start_service"), "{err}");

    let started = structured(&call(&client, "start_service", json!({})).await);
    assert_eq!(started["state"], "running", "{started:#}");
    // Its output is also captured where the debugger reads it.
    let captures = std::fs::read_dir(project.path().join(".sdd/service-logs"))
        .expect("start_service captures the service's output")
        .count();
    assert_eq!(captures, 1);
    let err = error_text(&call(&client, "start_service", json!({})).await);
    assert!(err.contains("already running"), "{err}");
    let status = structured(&call(&client, "service_status", json!({})).await);
    assert_eq!(status["state"], "running");
    assert_eq!(status["probe"], "answering");

    let checks = structured(&call(&client, "check_scenarios", json!({})).await);
    let verdicts: Vec<(String, String)> = checks["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["scenario_id"].as_str().unwrap().into(),
                s["verdict"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        verdicts,
        // Failing first: on a page cut short, what needs attention is what is listed.
        [
            (
                "inventory.remove_more_than_in_stock".to_string(),
                "failing".to_string()
            ),
            ("inventory.add_an_item".to_string(), "passing".to_string()),
        ]
    );
    let failing = &checks["scenarios"][0]["examples"][0];
    let step = &failing["steps"][1];
    assert_eq!(step["mismatches"][0]["at"], "status", "{failing:#}");
    assert_eq!(step["mismatches"][0]["expected"], "409");
    assert!(step["mismatches"][0]["actual"]
        .as_str()
        .unwrap()
        .starts_with("200"));
    assert_eq!(failing["steps_not_run"], 1);
    assert_eq!(checks["summary"]["without_examples"], 2);
    assert!(checks["run_id"].as_i64().is_some());
    // One page of one: the failing scenario, the summary still counting both, and how to see
    // the rest without running everything again.
    let page = structured(&call(&client, "check_scenarios", json!({"limit": 1})).await);
    assert_eq!(page["scenarios"].as_array().unwrap().len(), 1, "{page:#}");
    assert_eq!(page["scenarios"][0]["verdict"], "failing", "{page:#}");
    assert_eq!(
        (
            page["summary"]["passing"].as_u64(),
            page["summary"]["failing"].as_u64()
        ),
        (Some(1), Some(1)),
        "{page:#}"
    );
    assert_eq!(page["page"]["next_offset"], 1, "{page:#}");
    let more = page["page"]["more"].as_str().unwrap();
    assert!(
        more.contains("runs them all again") && more.contains("`ids`"),
        "{more}"
    );

    let logs = structured(
        &call(
            &client,
            "service_logs",
            json!({"filter": "request", "tail": 3}),
        )
        .await,
    );
    assert_eq!(logs["lines"].as_array().unwrap().len(), 3, "{logs:#}");
    assert!(logs["matching"].as_u64().unwrap() >= 5);
    let logs = structured(
        &call(
            &client,
            "service_logs",
            json!({"stream": "stdout", "filter": "listening"}),
        )
        .await,
    );
    assert_eq!(logs["lines"].as_array().unwrap().len(), 1);

    let stopped = structured(&call(&client, "stop_service", json!({})).await);
    assert_eq!(stopped["graceful"], true, "{stopped:#}");
    assert!(
        stopped["last_lines"].to_string().contains("shutting down"),
        "{stopped:#}"
    );
    // How it ended, and what it wrote, stay readable after the stop.
    let status = structured(&call(&client, "service_status", json!({})).await);
    assert_eq!(status["state"], "stopped", "{status:#}");
    assert_eq!(status["stopped"]["graceful"], true, "{status:#}");
    assert!(status["service"]["pid"].is_null(), "{status:#}");
    assert_ne!(status["probe"], "answering");
    let logs = structured(&call(&client, "service_logs", json!({"filter": "shutting down"})).await);
    assert!(!logs["lines"].as_array().unwrap().is_empty(), "{logs:#}");
    let err = error_text(&call(&client, "stop_service", json!({})).await);
    assert!(err.contains("nothing to stop"), "{err}");
    // An unknown scenario ID is refused before anything runs or is recorded.
    structured(&call(&client, "start_service", json!({})).await);
    let err = error_text(
        &call(
            &client,
            "check_scenarios",
            json!({"ids": ["inventory.add_an_itme"]}),
        )
        .await,
    );
    assert!(
        err.contains("no scenario with ID inventory.add_an_itme")
            && err.contains("inventory.add_an_item"),
        "{err}"
    );
    structured(&call(&client, "stop_service", json!({})).await);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_service_that_never_gets_ready_or_crashes_is_reported_with_its_output() {
    let project = inventory_project().unwrap();
    let client = start(project.path()).await;

    sdd_verify::testing::set_service_env(project.path(), "MODE", "ok", "never_ready").unwrap();
    let sdd_yaml = project.path().join("sdd.yaml");
    let text = std::fs::read_to_string(&sdd_yaml).unwrap();
    std::fs::write(
        &sdd_yaml,
        text.replace("timeout_seconds: 5", "timeout_seconds: 2"),
    )
    .unwrap();
    let err = error_text(&call(&client, "start_service", json!({})).await);
    assert!(err.contains("not ready after 2 s"), "{err}");
    assert!(err.contains("answered 503"), "{err}");
    assert!(err.contains("mode never_ready"), "{err}");
    let pid = std::fs::read_to_string(project.path().join("service.pid")).unwrap();
    assert_gone(&[pid], "its failed start").await;

    sdd_verify::testing::set_service_env(project.path(), "MODE", "never_ready", "crash").unwrap();
    let err = error_text(&call(&client, "start_service", json!({})).await);
    assert!(err.contains("exited"), "{err}");
    assert!(err.contains("fatal: cannot open database"), "{err}");

    // A service config that targets a host sdd.yaml does not allow is refused before starting.
    let text = std::fs::read_to_string(&sdd_yaml).unwrap();
    let port_line = text
        .lines()
        .find(|l| l.contains("base_url"))
        .unwrap()
        .to_string();
    std::fs::write(
        &sdd_yaml,
        text.replace(&port_line, "  base_url: http://10.9.8.7:80"),
    )
    .unwrap();
    let err = error_text(&call(&client, "start_service", json!({})).await);
    assert!(err.contains("not loopback"), "{err}");
    client.cancel().await.unwrap();
}

/// Tests that put load on a service run one at a time, and not beside the tests that keep the
/// CPU busy (test runs, big result files): measurements taken then would say more about them
/// than about the service, and the verifier rightly calls a failure measured on a busy machine
/// inconclusive.
static LOAD: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test]
async fn constraints_become_load_runs_with_verdicts_and_history() {
    let _serial = LOAD.lock().await;
    let project = inventory_project().unwrap();
    let client = start(project.path()).await;
    let err = error_text(&call(&client, "verify_constraints", json!({})).await);
    assert!(err.contains("start_service"), "{err}");
    structured(&call(&client, "start_service", json!({})).await);
    let err = error_text(&call(&client, "verify_constraints", json!({"ids": ["nope"]})).await);
    assert!(err.contains("no constraint with ID nope"), "{err}");

    let result = structured(&call(&client, "verify_constraints", json!({})).await);
    let verdict = |id: &str| {
        result["constraints"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["constraint_id"] == id)
            .unwrap_or_else(|| panic!("no verdict for {id}: {result:#}"))
            .clone()
    };
    let read = verdict("inventory.performance.read_latency");
    assert_eq!(read["verdict"], "passing", "{read:#}");
    let summary = read["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("p95 = ") && summary.contains("limit 500 ms"),
        "{summary}"
    );
    assert_eq!(read["run"]["rate"], 40.0);
    assert_eq!(read["measured"]["target_rate"], 40.0);
    let search = verdict("inventory.performance.search_latency");
    assert_eq!(search["verdict"], "failing", "{search:#}");
    assert!(search["measured"]["latency_ms"]["p95"].as_f64().unwrap() >= 60.0);
    let users = verdict("inventory.performance.concurrent_users");
    assert_eq!(users["verdict"], "inconclusive", "{users:#}");
    assert!(users["notes"][0]
        .as_str()
        .unwrap()
        .contains("ran 50 concurrent connections instead"));
    for id in [
        "inventory.security.authentication_required",
        "inventory.security.rate_limiting",
        "inventory.security.injection_safety",
        "inventory.input.sku_length",
    ] {
        let v = verdict(id);
        assert_eq!(v["verdict"], "passing", "{v:#}");
    }
    // The fixture's planted functional bug breaks the write part of "Remove more than in
    // stock": that data path is not checked, so the verdict is not a pass — and it says why.
    let restart = verdict("inventory.reliability.stock_survives_a_restart");
    assert_eq!(restart["verdict"], "inconclusive", "{restart:#}");
    let summary = restart["summary"].as_str().unwrap();
    assert!(
        summary.contains("1 example(s) not written")
            && summary.contains("inventory.remove_more_than_in_stock"),
        "{summary}"
    );
    assert!(
        summary.contains("1 of 1 written record(s) read back"),
        "{summary}"
    );
    assert!(
        summary.contains("4 of 4 in-flight requests finished"),
        "{summary}"
    );
    let injection = verdict("inventory.security.injection_safety");
    let summary = injection["summary"].as_str().unwrap();
    // Payloads in nested fields too, each read back through the object its write created.
    assert!(summary.contains("; 6 stored payload(s)"), "{summary}");
    // Durability is inconclusive here (see above): 5 passing.
    assert_eq!(result["summary"]["passing"], 5, "{:#}", result["summary"]);
    assert_eq!(result["summary"]["failing"], 1);
    // After the load runs (the probes and the restart came first), what the writes created is
    // read back and the examples run again: nothing lost on the healthy fixture.
    let consistency = &result["consistency"];
    assert_eq!(consistency["verdict"], "passing", "{consistency:#}");
    assert!(
        consistency["resources_sampled"].as_u64().unwrap() > 0,
        "{consistency:#}"
    );
    // Without `details`, the samples themselves are left out of the answer.
    assert!(users["measured"].get("created").is_none(), "{users:#}");

    // A second iteration of the optimisation loop: compare_runs shows how the number moved.
    let again = structured(
        &call(
            &client,
            "verify_constraints",
            json!({"ids": ["inventory.performance.read_latency"], "duration_seconds": 1}),
        )
        .await,
    );
    assert_eq!(again["summary"]["passing"], 1, "{again:#}");
    let cmp = structured(&call(&client, "compare_runs", json!({})).await);
    assert_eq!(cmp["before"]["kind"], "constraints");
    let moved = cmp["detail_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["subject"] == "inventory.performance.read_latency")
        .unwrap_or_else(|| panic!("{cmp:#}"));
    assert!(moved["before"].as_str().unwrap().starts_with("p95 = "));
    structured(&call(&client, "stop_service", json!({})).await);
    client.cancel().await.unwrap();
}

/// Each planted fault of the fixture service is caught by the matching probe, naming the
/// request that shows it.
#[tokio::test]
async fn each_planted_security_fault_is_caught() {
    let _serial = LOAD.lock().await;
    let project = inventory_project().unwrap();
    let client = start(project.path()).await;
    let cases = [
        (
            "open_search",
            "inventory.security.authentication_required",
            "GET /search?q=A without a token",
        ),
        (
            "no_rate_limit",
            "inventory.security.rate_limiting",
            "in a burst",
        ),
        (
            "leak",
            "inventory.security.injection_safety",
            "sql payload in `sku`",
        ),
        (
            "no_size_limit",
            "inventory.input.sku_length",
            "-character `sku`",
        ),
        (
            "escape",
            "inventory.security.injection_safety",
            "did not come back verbatim",
        ),
        (
            "no_expiry",
            "inventory.security.authentication_required",
            "with an expired JWT",
        ),
        (
            "shared_rate_limit",
            "inventory.security.rate_limiting",
            "as a second user",
        ),
        (
            "lose_data",
            "inventory.reliability.stock_survives_a_restart",
            "after a restart",
        ),
    ];
    let mut previous = "none".to_string();
    for (fault, id, request) in cases {
        sdd_verify::testing::set_service_env(project.path(), "FAULTS", &previous, fault).unwrap();
        previous = fault.to_string();
        structured(&call(&client, "start_service", json!({})).await);
        let result = structured(&call(&client, "verify_constraints", json!({"ids": [id]})).await);
        let v = &result["constraints"][0];
        assert_eq!(v["verdict"], "failing", "{fault}: {v:#}");
        let findings = v["findings"].to_string();
        assert!(findings.contains(request), "{fault}: {findings}");
        structured(&call(&client, "stop_service", json!({})).await);
    }
    client.cancel().await.unwrap();
}

/// "All endpoints require valid JWT token" covers every declared route, not only those the
/// examples and load.endpoints reach: a `routes:` entry the service does not answer leaves the
/// verdict inconclusive, naming it; an OpenAPI operation refused without a token counts as
/// probed; an `openapi:` path outside the project is reported, never read.
#[tokio::test]
async fn declared_routes_must_all_be_probed_before_all_endpoints_pass() {
    let _serial = LOAD.lock().await;
    let project = inventory_project().unwrap();
    let root = project.path();
    std::fs::write(
        root.join("openapi.yaml"),
        "openapi: 3.0.0\npaths:\n  /items/{sku}/history:\n    get: {}\n",
    )
    .unwrap();
    let with = |extra: &str| {
        let text = std::fs::read_to_string(root.join("sdd.yaml")).unwrap();
        let base = text.split("\n# extra\n").next().unwrap().to_string();
        std::fs::write(root.join("sdd.yaml"), format!("{base}\n# extra\n{extra}")).unwrap();
    };
    let client = start(root).await;
    structured(&call(&client, "start_service", json!({})).await);
    let auth = json!({"ids": ["inventory.security.authentication_required"]});

    with("openapi: openapi.yaml\nroutes: [\"GET /reports\"]\n");
    let result = structured(&call(&client, "verify_constraints", auth.clone()).await);
    let v = &result["constraints"][0];
    assert_eq!(v["verdict"], "passing", "{v:#}");
    let probed = v["routes_probed"].to_string();
    for route in [
        "GET /items/{sku}/history",
        "GET /reports",
        "POST /items/{sku}/remove",
    ] {
        assert!(probed.contains(route), "{route} not in {probed}");
    }

    with("openapi: openapi.yaml\nroutes: [\"DELETE /items/{sku}\"]\n");
    let result = structured(&call(&client, "verify_constraints", auth.clone()).await);
    let v = &result["constraints"][0];
    assert_eq!(v["verdict"], "inconclusive", "{v:#}");
    let gaps = v["routes_not_reached"].to_string();
    assert!(
        gaps.contains("DELETE /items/{sku}") && gaps.contains("501"),
        "{gaps}"
    );

    with("openapi: ../outside.yaml\n");
    let result = structured(&call(&client, "verify_constraints", auth).await);
    let v = &result["constraints"][0];
    assert_eq!(v["verdict"], "inconclusive", "{v:#}");
    assert!(
        v["routes_not_reached"]
            .to_string()
            .contains("outside the project"),
        "{v:#}"
    );
    structured(&call(&client, "stop_service", json!({})).await);
    client.cancel().await.unwrap();
}

/// Every tool's schema, description and annotations, as a client sees them. Refresh with
/// `UPDATE_SNAPSHOTS=1 cargo test -p sdd-implementation-server`.
#[tokio::test]
async fn tool_schemas_match_the_snapshot() {
    let project = inventory_project().unwrap();
    let client = start(project.path()).await;
    sdd_mcp::test_client::assert_tool_snapshot(
        client,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tools.json"),
    )
    .await;
}

/// A scenario weakened after approval (its fingerprint no longer matches) is listed by
/// project_status as changed since approval, not counted as approved, and named first thing
/// in next_steps.
#[tokio::test]
async fn project_status_names_scenarios_changed_since_approval() {
    let project = inventory_project().unwrap();
    let spec = project.path().join("specs/inventory.yaml");
    let text = std::fs::read_to_string(&spec).unwrap();
    let weakened = text.replace(
        "  - name: Add an item\n",
        "  - name: Add an item\n    status: approved\n    reviewed_by: Ada\n    approved_fingerprint: \"sha256:00\"\n",
    );
    assert_ne!(weakened, text);
    let client = start(project.path()).await;
    let before = structured(&call(&client, "project_status", json!({})).await);
    std::fs::write(&spec, weakened).unwrap();
    let after = structured(&call(&client, "project_status", json!({})).await);
    assert_eq!(
        after["spec"]["changed_since_approval"],
        json!(["inventory.add_an_item"])
    );
    assert_eq!(
        after["spec"]["approved"].as_u64().unwrap() + 1,
        before["spec"]["approved"].as_u64().unwrap()
    );
    let steps = after["next_steps"].to_string();
    assert!(steps.contains("Changed since approval"), "{steps}");
}

/// Result parsing, traceability and SQLite run off the async workers: while two runs parse and
/// record a 60,000-test JUnit file each, `ping` is answered long before either finishes.
/// Compared with the runs' own duration, not with a clock limit: with that work on the
/// workers, both of the server's workers are busy and the ping waits for a run to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_is_answered_while_big_results_are_parsed_and_recorded() {
    let _serial = LOAD.lock().await;
    let project = inventory_project().unwrap();
    let big = project.path().join("big");
    std::fs::create_dir_all(&big).unwrap();
    let mut xml = String::from("<testsuites><testsuite name=\"big\">\n");
    for n in 0..60_000 {
        xml.push_str(&format!(
            "<testcase classname=\"big.module_{}\" name=\"test_case_number_{n}\" time=\"0.001\"/>\n",
            n % 100
        ));
    }
    xml.push_str("</testsuite></testsuites>\n");
    std::fs::write(big.join("results.xml"), xml).unwrap();
    let file = project.path().join("sdd.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen(
            "tests:\n",
            "tests:\n  big:\n    command: touch results.xml\n    workdir: big\n    results: {format: junit, path: results.xml}\n",
            1,
        ),
    )
    .unwrap();
    let client = start(project.path()).await;
    let big_run = ("run_tests", json!({"profile": "big"}));
    let seen = ping_during(&client, &[big_run.clone(), big_run]).await;
    let slowest = seen.slowest_ping;
    for (result, took) in seen.calls {
        eprintln!("slowest ping {slowest:?}, run took {took:?}");
        let run = structured(&result.expect("run_tests"));
        assert_eq!(run["tests"]["total"], 60_000, "{run}");
        assert!(
            slowest * 5 < took,
            "a ping waited {slowest:?} while a run took {took:?}: the workers were blocked"
        );
    }
}

/// `${env:NAME}` in `service.env` reaches the service as the variable's value (it once reached
/// it as the literal text, so a planted fault was silently not planted), and a name SDD's
/// environment does not set is a warning in start_service's answer.
#[test]
fn service_env_references_are_expanded_and_unset_ones_reported() {
    let project = inventory_project().unwrap();
    let file = project.path().join("sdd.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replacen(
            "MODE: ok, FAULTS: none,",
            "MODE: \"${env:SDD_TEST_SERVICE_MODE}\", FAULTS: \"${env:SDD_TEST_SURELY_UNSET}\",",
            1,
        ),
    )
    .unwrap();
    let start_service = |mode: &str| {
        let out = std::process::Command::new(SERVER)
            .arg("--project")
            .arg(project.path())
            .args(["call", "start_service", "{}"])
            .env("SDD_TEST_SERVICE_MODE", mode)
            .env_remove("SDD_TEST_SURELY_UNSET")
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        (
            String::from_utf8_lossy(&out.stdout).to_string(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    // The fixture's MODE=never_ready answers 503 on /health: only the expanded value does that.
    let (out, err) = start_service("never_ready");
    assert!(
        format!("{out}{err}").contains("was not ready after"),
        "{out}{err}"
    );
    let (started, _) = start_service("ok");
    let answer: Value = serde_json::from_str(&started).expect(&started);
    assert_eq!(answer["state"], "running", "{answer:#}");
    let warnings = answer["warnings"].to_string();
    assert!(
        warnings.contains("service.env.FAULTS uses ${env:SDD_TEST_SURELY_UNSET}"),
        "{answer:#}"
    );
}

/// The `options` object of an exported k6 script (JSON between `export const options = ` and
/// the next `;` line).
fn k6_options(script: &str) -> Value {
    let marker = "export const options = ";
    let from = script.find(marker).expect("an options object") + marker.len();
    let to = from + script[from..].find(";\n").unwrap();
    serde_json::from_str(&script[from..to]).unwrap()
}

/// export_load_test writes the load of a constraint as a k6 script inside the project: the
/// constraint's rate as a constant arrival rate, the endpoints of its scope, its bound as a
/// threshold; an export of all has one run per load constraint and names what it skipped.
#[tokio::test]
async fn constraints_are_exported_as_k6_scripts_inside_the_project() {
    let project = inventory_project().unwrap();
    let client = start(project.path()).await;
    let result = structured(
        &call(
            &client,
            "export_load_test",
            json!({"constraint": "inventory.performance.read_latency"}),
        )
        .await,
    );
    let path = ".sdd/load/inventory_performance_read_latency.k6.js";
    assert_eq!(result["path"], path, "{result:#}");
    assert_eq!(result["run_command"], format!("k6 run {path}"));
    assert!(result["cluster"].as_str().unwrap().contains("parallelism"));
    assert!(result["tokens_expire_at"].as_str().is_some());
    let run = &result["runs"][0];
    assert_eq!(run["rate"], 40.0);
    assert_eq!(run["scope"], "reads");
    assert_eq!(run["thresholds"][0], "http_req_duration p(95)<500");

    let script = std::fs::read_to_string(project.path().join(path)).unwrap();
    assert!(script.starts_with("// SDD load test, written by export_load_test"));
    let options = k6_options(&script);
    let scenario = &options["scenarios"]["inventory_performance_read_latency"];
    assert_eq!(scenario["executor"], "constant-arrival-rate", "{options:#}");
    assert_eq!(scenario["rate"], 40);
    assert_eq!(scenario["timeUnit"], "1s");
    assert_eq!(scenario["duration"], "3s", "1 s warm-up + 2 s measured");
    assert_eq!(
        options["thresholds"]
            ["http_req_duration{scenario:inventory_performance_read_latency,phase:measured}"],
        json!(["p(95)<500"])
    );
    for endpoint in [
        "\"/health\"",
        "\"/items/A-1\"",
        "\"X-Fixture\": \"inventory\"",
    ] {
        assert!(script.contains(endpoint), "{endpoint} missing:\n{script}");
    }
    // SDD's own signed token (one user): a JWT with the fixture's claims.
    assert!(
        script.contains("\"Authorization\": \"Bearer eyJ"),
        "{script}"
    );

    let all = structured(&call(&client, "export_load_test", json!({"rate": 5})).await);
    assert_eq!(all["path"], ".sdd/load/constraints.k6.js");
    let ids: Vec<&str> = all["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["constraint_id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "inventory.performance.read_latency",
            "inventory.performance.search_latency",
            "inventory.performance.concurrent_users"
        ]
    );
    assert!(all["skipped"]
        .to_string()
        .contains("inventory.security.authentication_required"));
    let script =
        std::fs::read_to_string(project.path().join(".sdd/load/constraints.k6.js")).unwrap();
    let options = k6_options(&script);
    assert_eq!(
        options["scenarios"]["inventory_performance_concurrent_users"]["executor"],
        "constant-vus"
    );

    // A scope, with the same load as an sdd-load plan beside it.
    let writes = structured(
        &call(
            &client,
            "export_load_test",
            json!({"scope": "writes", "rate": 3, "duration_seconds": 4, "out": "load/writes.js", "plan_out": "load/writes.plan.json"}),
        )
        .await,
    );
    assert_eq!(writes["path"], "load/writes.js");
    let script = std::fs::read_to_string(project.path().join("load/writes.js")).unwrap();
    assert!(script.contains("load-{{seq}}"), "{script}");
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(project.path().join("load/writes.plan.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(plan["model"]["rate"], 3.0);
    assert_eq!(plan["duration"]["secs"], 4);

    for (arguments, says) in [
        (json!({"constraint": "nope"}), "no constraint with ID nope"),
        (
            json!({"constraint": "inventory.security.authentication_required"}),
            "not verified with load",
        ),
        (json!({"scope": "nope"}), "load.endpoints.nope"),
        (
            json!({"constraint": "inventory.performance.read_latency", "scope": "reads"}),
            "not both",
        ),
        (json!({"rate": 0}), "above 0"),
        (json!({"duration_seconds": 0}), "1 to 86400"),
        (
            json!({"plan_out": "p.json"}),
            "give `constraint` or `scope`",
        ),
        (json!({"out": "specs/inventory.yaml"}), "ending in `.js`"),
    ] {
        let err = error_text(&call(&client, "export_load_test", arguments.clone()).await);
        assert!(err.contains(says), "{arguments}: {err}");
    }
    client.cancel().await.unwrap();
}

/// An `out` that leads outside the project, or names a file the tool did not write, is
/// refused with a clear error and nothing is written.
#[tokio::test]
async fn a_hostile_export_path_is_refused() {
    let project = inventory_project().unwrap();
    let client = start(project.path()).await;
    let outside = std::env::temp_dir().join(format!("sdd-k6-hostile-{}.js", std::process::id()));
    let link = project.path().join("escape");
    std::os::unix::fs::symlink(std::env::temp_dir(), &link).unwrap();
    let escaping = format!("escape/{}", outside.file_name().unwrap().to_string_lossy());
    for out in [
        "../../x.js".to_string(),
        outside.display().to_string(),
        escaping,
    ] {
        let err = error_text(
            &call(
                &client,
                "export_load_test",
                json!({"scope": "reads", "out": out}),
            )
            .await,
        );
        assert!(
            err.contains("`out`") && err.contains("is outside"),
            "{out}: {err}"
        );
    }
    assert!(!outside.exists());
    assert!(!project.path().join("../x.js").exists());

    let theirs = project.path().join("load.js");
    std::fs::write(&theirs, "// my own k6 script\n").unwrap();
    let err = error_text(
        &call(
            &client,
            "export_load_test",
            json!({"scope": "reads", "out": "load.js"}),
        )
        .await,
    );
    assert!(err.contains("not written by export_load_test"), "{err}");
    assert_eq!(
        std::fs::read_to_string(&theirs).unwrap(),
        "// my own k6 script\n"
    );
    client.cancel().await.unwrap();
}

/// The binary's own `call` exits as `sdd call` does: 1 when the run it made is red (here,
/// results that cannot be read), 0 for an answer that judges nothing, 2 for a tool error.
#[test]
fn a_scripted_call_exits_by_what_its_answer_reports() {
    let project = inventory_project().unwrap();
    let call = |tool: &str, arguments: &str| {
        let out = std::process::Command::new(SERVER)
            .arg("--project")
            .arg(project.path())
            .args(["call", tool, arguments])
            .env("RUST_LOG", "error")
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).to_string(),
        )
    };
    let (code, out) = call("run_tests", r#"{"profile": "broken-results"}"#);
    assert_eq!(code, Some(1), "{out}");
    let answer: Value = serde_json::from_str(&out).expect(&out);
    assert_eq!(answer["ok"], false, "{answer:#}");
    let (code, out) = call("list_test_profiles", "{}");
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = call("run_tests", r#"{"profile": "nope"}"#);
    assert_eq!(code, Some(2), "{out}");
}

/// Which answers of this server count as failures for a scripted call.
#[test]
fn answers_that_report_a_failure() {
    use sdd_implementation_server::reports_failure;
    assert!(reports_failure("run_tests", &json!({"ok": false})));
    assert!(!reports_failure("run_tests", &json!({"ok": true})));
    assert!(reports_failure(
        "check_scenarios",
        &json!({"summary": {"failing": 2}})
    ));
    assert!(!reports_failure(
        "check_scenarios",
        &json!({"summary": {"failing": 0}})
    ));
    assert!(reports_failure(
        "verify_constraints",
        &json!({"overall": "failed"})
    ));
    assert!(!reports_failure(
        "verify_constraints",
        &json!({"overall": "no_failures"})
    ));
    assert!(!reports_failure(
        "project_status",
        &json!({"ok": false, "scenarios": {"failing": 3}})
    ));
}

/// `history` of sdd.yaml is applied after every recorded run: with `keep_runs: 2`, three runs
/// of a profile leave its latest two, and the latest still has its regressions' base.
#[tokio::test]
async fn runs_beyond_the_retention_of_sdd_yaml_are_pruned() {
    let project = inventory_project().unwrap();
    let file = project.path().join("sdd.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        format!("{yaml}history: {{keep_runs: 2, keep_test_rows: 2}}\n"),
    )
    .unwrap();
    let client = start(project.path()).await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let run =
            structured(&call(&client, "run_tests", json!({"profile": "broken-results"})).await);
        ids.push(run["run_id"].as_i64().unwrap());
    }
    let listed = structured(&call(&client, "history", json!({"limit": 10})).await);
    let listed: Vec<i64> = listed["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(listed, [ids[2], ids[1]]);
    client.cancel().await.unwrap();
}

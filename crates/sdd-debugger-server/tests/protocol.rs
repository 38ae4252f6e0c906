//! Protocol tests: the built `sdd-debugger` binary spawned as a child process and driven by
//! rmcp's client, as an MCP client would, on scratch projects whose event files are generated
//! here with a known planted cause (`sdd_debugger::testing`), so every answer is known.

use std::path::Path;

use sdd_debugger::testing::{incident, json_lines, Generated, Planted, SHOP_SPEC};
use sdd_mcp::test_client::{call, error_text, structured, Client};
use serde_json::{json, Value};

const SERVER: &str = env!("CARGO_BIN_EXE_sdd-debugger");

/// draft_hotfix, what_if and the prompts on copies of the task-manager example.
#[path = "protocol/operations.rs"]
mod operations;

async fn start(project: &Path) -> Client {
    sdd_mcp::test_client::start(SERVER, &["--project".as_ref(), project.as_os_str()]).await
}

const SDD_YAML: &str = "\
specs: specs
debugger:
  sources:
    - {path: logs/events.jsonl, format: json_lines}
    - {path: logs/app.log, format: text}
  business_keys: [order_id]
";

/// A project whose events are a generated run with `planted` at 70 % of it, and a plain-text
/// log whose last part has a template the rest does not.
fn project(planted: Planted) -> (tempfile::TempDir, Generated) {
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    std::fs::create_dir_all(root.join("specs")).unwrap();
    std::fs::create_dir_all(root.join("logs")).unwrap();
    std::fs::write(root.join("specs/shop.yaml"), SHOP_SPEC).unwrap();
    std::fs::write(root.join("sdd.yaml"), SDD_YAML).unwrap();
    let generated = incident(planted, 3, 20.0, 300);
    let mut events = json_lines(&generated);
    // One truncated line: counted and shown, never fatal.
    events.push_str("{\"timestamp\": \"2026-11-30T01:00:00Z\", \"event\": \"trunc\n");
    std::fs::write(root.join("logs/events.jsonl"), events).unwrap();
    let mut text = String::new();
    let mut at = generated.start;
    let mut n = 0;
    while at < generated.end {
        let time = sdd_debugger::incident::rfc3339(at);
        text.push_str(&format!(
            "{time} INFO served request {n} in {} ms\n",
            n % 17
        ));
        if planted != Planted::Healthy && at >= generated.onset {
            text.push_str(&format!(
                "{time} ERROR connection refused to 10.0.0.{} port 5432\n",
                n % 7
            ));
        }
        at += 500_000_000;
        n += 1;
    }
    std::fs::write(root.join("logs/app.log"), text).unwrap();
    (dir, generated)
}

fn wire_chars(v: &Value) -> usize {
    v.to_string().chars().count()
}

#[tokio::test]
async fn a_planted_deploy_ranks_first_with_its_evidence_and_sources() {
    let (dir, _) = project(Planted::Deploy);
    let client = start(dir.path()).await;
    let result = call(&client, "analyze_incident", json!({})).await;
    let v = structured(&result);
    assert!(
        v["headline"]
            .as_str()
            .unwrap()
            .starts_with("INCIDENT: shop.complete_an_order failure rate rose"),
        "{}",
        v["headline"]
    );
    let first = &v["hypotheses"][0];
    assert_eq!(first["kind"], "deploy", "{first:#}");
    assert!(first["cause"].as_str().unwrap().contains("2.1.0"));
    let claims: Vec<&str> = first["evidence_for"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["claim"].as_str().unwrap())
        .collect();
    assert!(
        claims.iter().any(|c| c.contains("first seen")),
        "{claims:?}"
    );
    // Evidence points at the lines it rests on.
    let examples = first["evidence_for"][1]["examples"].as_array().unwrap();
    assert!(
        examples[0]
            .as_str()
            .unwrap()
            .starts_with("logs/events.jsonl:"),
        "{examples:?}"
    );
    // The truncated line is counted with its example; the text log read as text.
    let sources = v["sources"].as_array().unwrap();
    let events = sources
        .iter()
        .find(|s| s["file"] == "logs/events.jsonl")
        .unwrap();
    assert_eq!(events["skipped"], 1, "{events:#}");
    assert_eq!(events["skipped_examples"].as_array().unwrap().len(), 1);
    let new = v["risen_log_templates"].as_array().unwrap();
    assert!(
        new.iter().any(|t| t["template"]
            .as_str()
            .unwrap()
            .contains("connection refused")),
        "{new:#?}"
    );
    assert!(wire_chars(&v) < 40_000, "{} chars", wire_chars(&v));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_healthy_run_claims_nothing() {
    let (dir, _) = project(Planted::Healthy);
    let client = start(dir.path()).await;
    let v = structured(&call(&client, "analyze_incident", json!({})).await);
    assert!(
        v["headline"]
            .as_str()
            .unwrap()
            .starts_with("NOTHING ABOVE NOISE"),
        "{}",
        v["headline"]
    );
    assert_eq!(v["hypotheses"], json!([]));
    assert_eq!(v["broke"], json!([]));
    // Nothing new in the text log either.
    let patterns = structured(&call(&client, "log_patterns", json!({})).await);
    assert!(
        patterns["summary"]
            .as_str()
            .unwrap()
            .starts_with("0 new templates"),
        "{}",
        patterns["summary"]
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_window_given_is_judged_and_a_quiet_window_claims_nothing() {
    let (dir, generated) = project(Planted::Attribute);
    let client = start(dir.path()).await;
    let t = sdd_debugger::incident::rfc3339;
    let v = structured(
        &call(
            &client,
            "analyze_incident",
            json!({"start": t(generated.onset), "end": t(generated.end)}),
        )
        .await,
    );
    assert_eq!(v["hypotheses"][0]["kind"], "attribute", "{}", v["headline"]);
    assert!(v["hypotheses"][0]["cause"]
        .as_str()
        .unwrap()
        .contains("client_version = 7.1.0"));
    let quiet = structured(
        &call(
            &client,
            "analyze_incident",
            json!({
                "baseline_start": t(generated.start),
                "baseline_end": t(generated.start + 100_000_000_000),
                "start": t(generated.start + 100_000_000_000),
                "end": t(generated.start + 200_000_000_000),
            }),
        )
        .await,
    );
    assert_eq!(quiet["hypotheses"], json!([]), "{}", quiet["headline"]);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn a_transaction_is_found_by_business_key_and_by_trace_id() {
    let (dir, generated) = project(Planted::Deploy);
    let client = start(dir.path()).await;
    let v = structured(&call(&client, "trace_transaction", json!({"key": "order_id=5"})).await);
    let steps = v["steps"].as_array().unwrap();
    // The request span, two step spans and the decision event of request 5.
    assert!(steps.len() >= 4, "{v:#}");
    assert_eq!(steps[0]["depth"], 0);
    assert_eq!(steps[0]["name"], "request");
    assert!(steps
        .iter()
        .any(|s| s["depth"] == 1 && s["step"].is_string()));
    assert!(
        v["summary"].as_str().unwrap().contains("1 traces"),
        "{}",
        v["summary"]
    );
    let trace = v["traces"][0].as_str().unwrap().to_string();
    let by_trace = structured(&call(&client, "trace_transaction", json!({"key": trace})).await);
    assert_eq!(by_trace["steps_total"], v["steps_total"]);
    // A bare value tries the business keys.
    let bare = structured(&call(&client, "trace_transaction", json!({"key": "5"})).await);
    assert_eq!(bare["steps_total"], v["steps_total"]);
    let none = structured(
        &call(
            &client,
            "trace_transaction",
            json!({"key": "order_id=no-such-order"}),
        )
        .await,
    );
    assert!(none["summary"]
        .as_str()
        .unwrap()
        .starts_with("nothing found"));
    assert!(generated.events.len() > 1000);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn log_patterns_names_the_new_template_with_its_numbers() {
    let (dir, generated) = project(Planted::Deploy);
    let client = start(dir.path()).await;
    let t = sdd_debugger::incident::rfc3339;
    let v = structured(
        &call(
            &client,
            "log_patterns",
            json!({"start": t(generated.onset), "end": t(generated.end), "limit": 5}),
        )
        .await,
    );
    let rows = v["rows"].as_array().unwrap();
    let refused = rows
        .iter()
        .find(|r| {
            r["template"]
                .as_str()
                .unwrap()
                .contains("connection refused")
        })
        .unwrap_or_else(|| panic!("{v:#}"));
    assert_eq!(refused["change"], "new");
    assert_eq!(refused["baseline_count"], 0);
    assert!(refused["current_count"].as_u64().unwrap() > 100);
    assert!(refused["examples"][0].as_str().unwrap().contains("10.0.0."));
    assert!(rows.len() <= 5);
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn bad_arguments_get_clear_errors() {
    let (dir, _) = project(Planted::Healthy);
    let client = start(dir.path()).await;
    let cases = [
        ("analyze_incident", json!({"start": "yesterday"}), "start"),
        (
            "analyze_incident",
            json!({"start": "2026-12-01T10:00:00Z", "end": "2026-12-01T09:00:00Z"}),
            "not after",
        ),
        (
            "analyze_incident",
            json!({"baseline_end": "1h"}),
            "baseline_start",
        ),
        (
            "analyze_incident",
            json!({"max_hypotheses": 0}),
            "max_hypotheses",
        ),
        ("trace_transaction", json!({"key": "  "}), "key"),
        (
            "trace_transaction",
            json!({"key": "trace:"}),
            "names no value",
        ),
        (
            "trace_transaction",
            json!({"key": "task_id="}),
            "names no value",
        ),
        (
            "trace_transaction",
            json!({"key": "x", "limit": 100000}),
            "limit",
        ),
        ("log_patterns", json!({"limit": 0}), "limit"),
        ("log_patterns", json!({"similarity": 2.0}), "similarity"),
    ];
    for (tool, args, word) in cases {
        let result = call(&client, tool, args.clone()).await;
        assert_eq!(result.is_error, Some(true), "{tool} {args}");
        let text = error_text(&result);
        assert!(text.contains(word), "{tool} {args}: {text}");
    }
    // Unknown arguments are refused by the schema, not ignored.
    let unknown = client
        .call_tool(
            rmcp::model::CallToolRequestParams::new("analyze_incident")
                .with_arguments(serde_json::from_value(json!({"window": "1h"})).unwrap()),
        )
        .await;
    let refused = match unknown {
        Err(_) => true,
        Ok(r) => r.is_error == Some(true),
    };
    assert!(refused, "an unknown argument must be refused");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn windows_at_the_edges_of_time_are_answered_not_a_panic() {
    // Valid RFC 3339, and as far apart as nanoseconds in an i64 reach: the window's length once
    // overflowed, and the panic left the call unanswered.
    let (dir, _) = project(Planted::Healthy);
    let client = start(dir.path()).await;
    let far = json!({"start": "1678-01-01T00:00:00Z", "end": "2262-01-01T00:00:00Z"});
    let call_far = |tool| {
        let args = far.clone();
        let client = &client;
        async move {
            tokio::time::timeout(std::time::Duration::from_secs(60), call(client, tool, args))
                .await
                .unwrap_or_else(|_| panic!("{tool}: no answer"))
        }
    };
    let v = structured(&call_far("analyze_incident").await);
    assert!(v["headline"].is_string(), "{v:#}");
    let result = call_far("log_patterns").await;
    if result.is_error == Some(true) {
        assert!(error_text(&result).contains("baseline"));
    }
    // A window entirely before any event is said to hold none, not judged.
    let v = structured(
        &call(
            &client,
            "analyze_incident",
            json!({"start": "2001-01-01T00:00:00Z", "end": "2001-01-02T00:00:00Z"}),
        )
        .await,
    );
    assert!(
        v["headline"]
            .as_str()
            .unwrap()
            .starts_with("NOTHING TO ANALYSE: no events in the incident window"),
        "{}",
        v["headline"]
    );
    // A start in the future: the error names the window and both ends.
    let future = call(
        &client,
        "analyze_incident",
        json!({"start": "2199-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(future.is_error, Some(true));
    let text = error_text(&future);
    assert!(
        text.starts_with("the window: the end (") && text.contains("2199"),
        "{text}"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn sources_outside_the_project_or_missing_are_named_not_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("sdd.yaml"),
        "debugger:\n  sources:\n    - {path: ../outside.jsonl}\n    - {path: logs/missing.jsonl}\n",
    )
    .unwrap();
    let client = start(dir.path()).await;
    // A path outside the project is a mistake in sdd.yaml: refused, naming the field.
    let refused = call(&client, "analyze_incident", json!({})).await;
    assert_eq!(refused.is_error, Some(true));
    let text = error_text(&refused);
    assert!(
        text.contains("debugger.sources[0].path") && text.contains("leaves the project"),
        "{text}"
    );
    // A missing file is named, and the rest still answers.
    std::fs::write(
        dir.path().join("sdd.yaml"),
        "debugger:\n  sources:\n    - {path: logs/missing.jsonl}\n",
    )
    .unwrap();
    let v = structured(&call(&client, "analyze_incident", json!({})).await);
    assert!(
        v["headline"]
            .as_str()
            .unwrap()
            .starts_with("NOTHING TO ANALYSE"),
        "{}",
        v["headline"]
    );
    let notes = v["notes"].to_string();
    assert!(notes.contains("missing.jsonl"), "{notes}");
    client.cancel().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_calls_give_the_same_answers() {
    let (dir, _) = project(Planted::SlowStep);
    let client = std::sync::Arc::new(start(dir.path()).await);
    let mut handles = Vec::new();
    for _ in 0..4 {
        let client = client.clone();
        handles.push(tokio::spawn(async move {
            structured(&call(&client, "analyze_incident", json!({})).await)
        }));
    }
    let mut answers = Vec::new();
    for h in handles {
        answers.push(h.await.unwrap());
    }
    assert_eq!(
        answers[0]["hypotheses"][0]["kind"], "slow_step",
        "{}",
        answers[0]["headline"]
    );
    for a in &answers[1..] {
        assert_eq!(a["hypotheses"], answers[0]["hypotheses"]);
    }
}

#[tokio::test]
async fn tool_schemas_match_the_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    sdd_mcp::test_client::assert_tool_snapshot(
        start(dir.path()).await,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tools.json"),
    )
    .await;
}

#[tokio::test]
async fn lines_without_times_are_mined_and_said_not_compared() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("logs")).unwrap();
    std::fs::write(
        dir.path().join("sdd.yaml"),
        "debugger:\n  sources:\n    - {path: logs/plain.log, format: text}\n",
    )
    .unwrap();
    let text: String = (0..50)
        .map(|i| format!("worker {i} picked job {}\n", i * 7))
        .collect();
    std::fs::write(dir.path().join("logs/plain.log"), text).unwrap();
    let client = start(dir.path()).await;
    let v = structured(&call(&client, "log_patterns", json!({})).await);
    let summary = v["summary"].as_str().unwrap();
    assert!(summary.contains("no line carries a time"), "{summary}");
    assert_eq!(v["rows"][0]["count"], 50, "{v:#}");
    client.cancel().await.unwrap();
}

/// The operations loop through the protocol: an incident recorded with its analysis, the
/// learnings proposed from it (the alert that would have caught it, with how much earlier),
/// the runbook citing it, and list_incidents saying what became of each learning.
#[tokio::test]
async fn an_incident_recorded_gives_learnings_a_runbook_and_a_listing() {
    let (dir, generated) = project(Planted::Deploy);
    let client = start(dir.path()).await;
    let rfc = sdd_debugger::incident::rfc3339;
    let detected = generated.end;
    let result = call(
        &client,
        "record_incident",
        json!({
            "title": "Complete an order failing after the 2.1.0 deploy",
            "start": rfc(generated.onset),
            "end": rfc(generated.end),
            "detected_at": rfc(detected),
            "resolution": "Rolled back to 2.0.0",
            "links": ["https://tracker.example/INC-1"],
        }),
    )
    .await;
    let recorded = structured(&result);
    assert_eq!(recorded["id"], 1, "{recorded:#}");
    // The subjects come from the analysis when none are given.
    assert_eq!(
        recorded["subjects"],
        json!(["shop.complete_an_order"]),
        "{recorded:#}"
    );
    assert!(
        recorded["top_hypotheses"][0]
            .as_str()
            .unwrap()
            .contains("2.1.0"),
        "{recorded:#}"
    );

    let result = call(&client, "post_incident_learnings", json!({})).await;
    let learned = structured(&result);
    let proposals = learned["proposals"].as_array().unwrap();
    let of = |kind: &str| {
        proposals
            .iter()
            .find(|p| p["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind}: {learned:#}"))
    };
    // The generated incident lasts 90 s: at 0.3 % failing before and 25 % after, a 99 %
    // target's page alert needs half an hour — it would not have fired, and it says so.
    let alert = of("alert_rule");
    assert_eq!(
        alert["key"], "SddScenarioBurn1h{scenario=\"shop.complete_an_order\"}",
        "{alert:#}"
    );
    assert!(alert["draft"]["earlier_by_seconds"].is_null(), "{alert:#}");
    assert!(
        alert["summary"]
            .as_str()
            .unwrap()
            .contains("it would not have fired"),
        "{alert:#}"
    );
    // The same failures noticed three hours in, still going on: the alert would have paged
    // first, by the difference.
    let late = structured(
        &call(
            &client,
            "record_incident",
            json!({
                "title": "Complete an order failing, noticed late",
                "start": rfc(generated.onset),
                "detected_at": rfc(generated.onset + 3 * 3600 * 1_000_000_000),
                "subjects": ["shop.complete_an_order"],
                "links": ["incident:1"],
            }),
        )
        .await,
    );
    assert_eq!(late["id"], 2);
    let again = structured(&call(&client, "post_incident_learnings", json!({"incident": 2})).await);
    let alert = again["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "alert_rule")
        .unwrap_or_else(|| panic!("{again:#}"));
    let fires = alert["draft"]["fires_after_onset_seconds"]
        .as_f64()
        .unwrap();
    let earlier = alert["draft"]["earlier_by_seconds"]
        .as_f64()
        .unwrap_or_else(|| panic!("{alert:#}"));
    // The onset is the scenario's own change point: from it to the detection is the alert's
    // delay plus how much earlier it is.
    let at = |field: &str| {
        chrono::DateTime::parse_from_rfc3339(alert["draft"][field].as_str().unwrap())
            .unwrap()
            .timestamp_millis() as f64
            / 1000.0
    };
    assert!(
        earlier > 0.0 && (earlier + fires - (at("detected_at") - at("onset"))).abs() < 2.0,
        "fires {fires} s after the onset, {earlier} s before the detection: {alert:#}"
    );
    assert!(
        of("constraint")["draft"]["requirement"]
            .as_str()
            .unwrap()
            .ends_with("success rate for Complete an order"),
        "{learned:#}"
    );
    assert!(of("runbook_update")["draft"]["added"]
        .to_string()
        .contains("incident #1"));

    let result = call(&client, "list_incidents", json!({})).await;
    let listed = structured(&result);
    assert_eq!(listed["total"], 2);
    assert_eq!(listed["incidents"][1]["id"], 1, "newest first");
    let states: Vec<(String, bool)> = listed["incidents"][1]["learnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| {
            (
                l["status"].as_str().unwrap().to_string(),
                l["adopted"].as_bool().unwrap(),
            )
        })
        .collect();
    assert!(
        states.contains(&("not in the spec".into(), false)),
        "{states:?}"
    );
    assert!(
        states.contains(&("not generated yet".into(), false)),
        "{states:?}"
    );
    assert!(
        states.contains(&("in the runbook".into(), true)),
        "{states:?}"
    );
    assert_eq!(listed["incidents"][1]["resolution"], "Rolled back to 2.0.0");

    // The runbook cites the incident; written to a file, and written again over its own file.
    let args = json!({"id": "shop.complete_an_order", "path": "ops/complete.md"});
    let result = call(&client, "generate_runbook", args.clone()).await;
    let runbook = structured(&result);
    let md = runbook["markdown"].as_str().unwrap();
    assert!(
        md.starts_with("# Runbook: Complete an order failing"),
        "{md}"
    );
    assert!(md.contains("Rolled back to 2.0.0 [incident #1]"), "{md}");
    assert!(md.contains("2.1.0"), "{md}");
    assert_eq!(runbook["written"], "ops/complete.md");
    let file = std::fs::read_to_string(dir.path().join("ops/complete.md")).unwrap();
    assert!(file.starts_with("<!-- Generated by SDD (generate_runbook)"));
    structured(&call(&client, "generate_runbook", args).await);
    // A hand-written file, the spec directory, outside the project: refused, nothing written.
    std::fs::write(dir.path().join("ops/mine.md"), "# my notes\n").unwrap();
    for (path, says) in [
        ("ops/mine.md", "was not written by generate_runbook"),
        ("specs/runbook.md", "inside the spec directory"),
        ("../runbook.md", "outside"),
        ("ops/runbook.txt", "ending in `.md`"),
    ] {
        let result = call(
            &client,
            "generate_runbook",
            json!({"id": "shop.complete_an_order", "path": path}),
        )
        .await;
        let e = error_text(&result);
        assert!(e.contains(says), "{path}: {e}");
    }
    assert_eq!(
        std::fs::read_to_string(dir.path().join("ops/mine.md")).unwrap(),
        "# my notes\n"
    );
    client.cancel().await.unwrap();
}

/// An attribute the failures shared becomes a scenario; with `propose: true` it is written to
/// the spec as `proposed` (nothing approved), and list_incidents says it waits for review.
#[tokio::test]
async fn a_learned_scenario_is_proposed_for_review_not_approved() {
    let (dir, generated) = project(Planted::Attribute);
    let client = start(dir.path()).await;
    let rfc = sdd_debugger::incident::rfc3339;
    structured(
        &call(
            &client,
            "record_incident",
            json!({"title": "Create an order failing", "start": rfc(generated.onset), "end": rfc(generated.end)}),
        )
        .await,
    );
    let before = std::fs::read_to_string(dir.path().join("specs/shop.yaml")).unwrap();
    let result = call(&client, "post_incident_learnings", json!({"propose": true})).await;
    let learned = structured(&result);
    let scenario = learned["proposals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["kind"] == "scenario")
        .unwrap_or_else(|| panic!("{learned:#}"));
    let key = scenario["key"].as_str().unwrap();
    assert!(key.contains("7_1_0"), "{key}");
    assert_eq!(learned["written"][0]["ids"][0], key, "{learned:#}");
    let after = std::fs::read_to_string(dir.path().join("specs/shop.yaml")).unwrap();
    assert!(
        after.starts_with(&before),
        "the file was appended to, not rewritten"
    );
    assert!(after.contains("status: \"proposed\""), "{after}");
    assert!(!after[before.len()..].contains("approved"), "{after}");
    // Asked again, the scenario exists: said, not written twice.
    let again =
        structured(&call(&client, "post_incident_learnings", json!({"propose": true})).await);
    assert!(
        again["written"].as_array().is_none_or(|w| w.is_empty()),
        "{again:#}"
    );
    assert!(
        again["next_steps"].to_string().contains("already exists"),
        "{again:#}"
    );
    let listed = structured(
        &call(
            &client,
            "list_incidents",
            json!({"subject": "shop.create_an_order"}),
        )
        .await,
    );
    let states = listed["incidents"][0]["learnings"].to_string();
    assert!(states.contains("proposed, waiting for review"), "{states}");
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn incident_records_refuse_bad_arguments_and_keep_nothing() {
    let (dir, _) = project(Planted::Healthy);
    let client = start(dir.path()).await;
    let e = error_text(&call(&client, "post_incident_learnings", json!({})).await);
    assert!(e.contains("no incident is recorded yet"), "{e}");
    for (args, says) in [
        (json!({"title": "", "start": "1h"}), "title"),
        (json!({"title": "x", "start": "yesterday"}), "start"),
        (
            json!({"title": "x", "start": "1h", "end": "2h"}),
            "not after",
        ),
        (
            json!({"title": "x", "start": "1h", "detected_at": "2h"}),
            "detected_at is before",
        ),
        (
            json!({"title": "x", "start": "1h", "subjects": ["shop.nope"]}),
            "`shop.nope` is",
        ),
        (
            json!({"title": "a\u{7}b", "start": "1h"}),
            "control character",
        ),
        (
            json!({"title": "x".repeat(201), "start": "1h"}),
            "longer than 200",
        ),
        (
            json!({"title": "x", "start": "1h", "links": vec!["l"; 21]}),
            "at most 20",
        ),
        (
            json!({"title": "x", "start": "1h", "severity": "high"}),
            "severity",
        ),
    ] {
        let e = error_text(&call(&client, "record_incident", args.clone()).await);
        assert!(e.contains(says), "{args}: {e}");
    }
    assert!(
        !dir.path().join(".sdd/history.sqlite3").exists() || {
            let listed = structured(&call(&client, "list_incidents", json!({})).await);
            listed["total"] == 0
        }
    );
    let e = error_text(&call(&client, "post_incident_learnings", json!({"incident": 99})).await);
    assert!(e.contains("no incident 99"), "{e}");
    let e = error_text(&call(&client, "list_incidents", json!({"limit": 0})).await);
    assert!(e.contains("limit"), "{e}");
    let e = error_text(&call(&client, "generate_runbook", json!({"id": "shop.nope"})).await);
    assert!(e.contains("no scenario or constraint"), "{e}");
    client.cancel().await.unwrap();
}

/// Parallel records each land once, with their own IDs.
#[tokio::test]
async fn parallel_records_each_land_once() {
    let (dir, _) = project(Planted::Healthy);
    let client = std::sync::Arc::new(start(dir.path()).await);
    let mut handles = Vec::new();
    for i in 0..6 {
        let client = client.clone();
        handles.push(tokio::spawn(async move {
            let args = json!({"title": format!("incident {i}"), "start": "2h", "analyze": false, "subjects": ["shop.create_an_order"]});
            structured(&call(&client, "record_incident", args).await)["id"]
                .as_i64()
                .unwrap()
        }));
    }
    let mut ids = Vec::new();
    for h in handles {
        ids.push(h.await.unwrap());
    }
    ids.sort_unstable();
    assert_eq!(ids, [1, 2, 3, 4, 5, 6]);
    let listed = structured(&call(&client, "list_incidents", json!({"limit": 50})).await);
    assert_eq!(listed["total"], 6);
    assert_eq!(listed["incidents"].as_array().unwrap().len(), 6);
    let listed = structured(&call(&client, "list_incidents", json!({"limit": 2})).await);
    assert!(listed["more"].as_str().unwrap().contains("raise `limit`"));
}

/// A runbook longer than the answer's cap, its incidents' causes in letters of two bytes: it
/// is cut at a line, never inside a letter (the cut sliced the Markdown at byte 30,000 and
/// panicked, and the client waited for an answer that never came).
#[tokio::test]
async fn a_long_runbook_in_two_byte_letters_is_cut_not_a_panic() {
    let (dir, _) = project(Planted::Healthy);
    let client = start(dir.path()).await;
    for i in 0..12 {
        let cause = format!("{}{}{i}", "x".repeat(i), "é".repeat(1_990));
        let args = json!({"title": "Orders not listed", "start": "2026-11-30T00:56:08Z", "analyze": false, "subjects": ["shop.list_orders"], "cause": cause});
        structured(&call(&client, "record_incident", args).await);
        let result = tokio::time::timeout(
            std::time::Duration::from_secs(60),
            call(
                &client,
                "generate_runbook",
                json!({"id": "shop.list_orders"}),
            ),
        )
        .await
        .unwrap_or_else(|_| panic!("no answer after {} incidents", i + 1));
        let runbook = structured(&result);
        assert!(wire_chars(&runbook) < 40_000, "{}", wire_chars(&runbook));
        if i >= 8 {
            assert_eq!(runbook["truncated"], true, "{i}");
        }
    }
    client.cancel().await.unwrap();
}

/// Text that reads other than it is — a right-to-left override, an isolate, a line or
/// paragraph separator — is refused in an incident's words (it ends up in runbooks and the
/// report); a subject named twice is stored once.
#[tokio::test]
async fn incident_words_that_read_other_than_they_are_are_refused() {
    let (dir, _) = project(Planted::Healthy);
    let client = start(dir.path()).await;
    for (field, value) in [
        ("title", "Complete \u{202e}redro na\u{202c} failing"),
        ("title", "Orders\u{2028}listed"),
        ("cause", "shard \u{2067}B\u{2069} down"),
        ("resolution", "rolled back\u{2029}then"),
        ("recorded_by", "Ada\u{200f}"),
    ] {
        let mut args = json!({"title": "Orders not listed", "start": "1h", "analyze": false, "subjects": ["shop.list_orders"]});
        args[field] = json!(value);
        let e = error_text(&call(&client, "record_incident", args).await);
        assert!(
            e.contains(field) && e.contains("U+"),
            "{field} {value:?}: {e}"
        );
    }
    let args = json!({"title": "x", "start": "1h", "analyze": false, "subjects": ["shop.list_orders", "shop.list_orders"]});
    let recorded = structured(&call(&client, "record_incident", args).await);
    assert_eq!(recorded["subjects"], json!(["shop.list_orders"]));
    let listed = structured(&call(&client, "list_incidents", json!({})).await);
    assert_eq!(listed["total"], 1, "{listed:#}");
    client.cancel().await.unwrap();
}

/// Incidents with the longest words allowed, listed 50 at a time: the listing keeps to the
/// answer's ~40,000 characters by showing fewer and saying so (it was refused whole at
/// 100,000 with advice about an `offset` the tool does not take).
#[tokio::test]
async fn a_listing_of_long_incidents_fits_the_answer() {
    let (dir, _) = project(Planted::Healthy);
    let client = start(dir.path()).await;
    for i in 0..12 {
        let args = json!({"title": format!("Orders not listed {i}"), "start": "2026-11-30T00:56:08Z", "analyze": false, "subjects": ["shop.list_orders"], "cause": "é".repeat(4_000), "resolution": "r".repeat(4_000)});
        structured(&call(&client, "record_incident", args).await);
    }
    let result = call(&client, "list_incidents", json!({"limit": 50})).await;
    let listed = structured(&result);
    assert!(wire_chars(&listed) <= 40_000, "{}", wire_chars(&listed));
    let shown = listed["incidents"].as_array().unwrap().len();
    assert!((1..12).contains(&shown), "{shown}");
    assert_eq!(listed["total"], 12);
    assert!(
        listed["more"]
            .as_str()
            .unwrap()
            .contains("to fit the answer"),
        "{listed:#}"
    );
    client.cancel().await.unwrap();
}

/// A whole new spec file of 200 scenarios: what_if keeps to the answer's ~40,000 characters
/// (its panel changes alone passed that, and the answer was refused at 100,000), its counts
/// whole in the headline (it said "100 scenarios" and "40 panel changes", the lists' caps) and
/// what was left out said in `notes`.
#[tokio::test]
async fn what_if_on_a_large_new_file_fits_the_answer() {
    let (dir, _) = project(Planted::Healthy);
    let client = start(dir.path()).await;
    let mut file = String::from("domain: billing\nscenarios:\n");
    for i in 0..200 {
        file.push_str(&format!(
            "  - name: Billing scenario number {i} with a fairly long descriptive name\n    when: I do thing {i}\n    then: thing {i} is done and everything is consistent\n"
        ));
    }
    let result = call(&client, "what_if", json!({"change": file})).await;
    let answer = structured(&result);
    assert!(wire_chars(&answer) <= 40_000, "{}", wire_chars(&answer));
    assert!(
        answer["headline"]
            .as_str()
            .unwrap()
            .contains("200 scenarios and 0 constraints added, changed or removed; 200 to re-test"),
        "{}",
        answer["headline"]
    );
    assert!(
        answer["notes"].to_string().contains("to fit the answer"),
        "{:#}",
        answer["notes"]
    );
    client.cancel().await.unwrap();
}

//! Protocol tests: the built `sdd-specification` binary spawned as a child process and driven by
//! rmcp's client, as an MCP client would. Every tool is called with good and bad arguments, and
//! the server must still answer afterwards.

use std::path::{Path, PathBuf};

use rmcp::model::{CallToolRequestParams, GetPromptRequestParams, ReadResourceRequestParams};
use sdd_mcp::test_client::{call, error_text, git, ping_during, structured, Client};
use serde_json::json;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The text of a refused call: a tool error or a protocol error (invalid parameters).
async fn refusal(client: &Client, tool: &str, args: serde_json::Value) -> String {
    let args = args.as_object().cloned().unwrap_or_default();
    match client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
    {
        Ok(result) => error_text(&result),
        Err(e) => e.to_string(),
    }
}

async fn start(specs: &Path, project: &Path) -> Client {
    sdd_mcp::test_client::start(
        env!("CARGO_BIN_EXE_sdd-specification"),
        &[
            "--project".as_ref(),
            project.as_os_str(),
            "--specs".as_ref(),
            specs.as_os_str(),
        ],
    )
    .await
}

#[tokio::test]
async fn every_read_tool_answers_on_the_bundled_examples_and_survives_bad_arguments() {
    let specs = repo().join("examples/ecommerce_platform/specs");
    let client = start(&specs, &repo()).await;

    let info = client.peer_info().expect("server info");
    assert_eq!(
        info.server_info.as_ref().map(|i| i.name.as_str()),
        Some("sdd-specification")
    );

    let domains = structured(&call(&client, "list_domains", json!({})).await);
    let names: Vec<&str> = domains["domains"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"product_catalog") && names.contains(&"search"),
        "{names:?}"
    );

    let scenarios = call(
        &client,
        "get_scenarios",
        json!({"domain": "product_catalog", "limit": 2, "include_constraints": true}),
    )
    .await;
    let s = structured(&scenarios);
    assert_eq!(s["page"]["total"], 3);
    assert_eq!(s["page"]["next_offset"], 2);
    assert_eq!(
        s["scenarios"][0]["id"],
        "product_catalog.create_product_with_variants"
    );
    assert!(s["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["id"] == "product_catalog.performance.search_latency"));

    let bad_domain = call(
        &client,
        "get_scenarios",
        json!({"domain": "product_catalg"}),
    )
    .await;
    assert!(error_text(&bad_domain).contains("Did you mean `product_catalog`?"));

    let wrong_type = call(&client, "get_scenarios", json!({"limit": "many"})).await;
    assert_eq!(
        wrong_type.is_error,
        Some(true),
        "wrong argument types are tool errors"
    );

    let constraints = call(&client, "get_constraints", json!({"checkable": false})).await;
    let c = structured(&constraints);
    assert!(c["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["parsed"]["not_checkable"].is_object()));

    let parsed = call(&client, "parse_constraint", json!({"requirement": "p99 latency < 200ms for create/update operations", "measurement": "Under load of 100 requests/second"})).await;
    let p = structured(&parsed);
    assert_eq!(
        p["checks"][0],
        json!({"kind": "latency", "percentile": 99.0, "max_ms": 200.0, "scope": "writes"})
    );
    assert_eq!(p["checks"][1]["per_second"], 100.0);
    assert!(
        error_text(&call(&client, "parse_constraint", json!({"requirement": " "})).await)
            .contains("empty")
    );

    let validation = call(
        &client,
        "validate_spec",
        json!({"min_severity": "warning", "limit": 100}),
    )
    .await;
    let v = structured(&validation);
    assert_eq!(v["valid"], true);
    assert!(v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == "dependency-cycle"));

    let graph = call(&client, "dependency_graph", json!({})).await;
    let g = structured(&graph);
    assert_eq!(
        g["cycles"][0],
        json!(["product_catalog", "search", "product_catalog"])
    );
    assert!(g["build_order"].as_array().unwrap().len() >= 3);

    let budget = call(&client, "propagate_constraints", json!({"constraint_id": "checkout_flow.interaction.distributed_timeout", "reserve_ms": 600})).await;
    let b = structured(&budget);
    assert_eq!(b["allocations"].as_array().unwrap().len(), 6);
    assert!(b["allocated_ms"].as_f64().unwrap() <= 30000.0);
    assert_eq!(b["fits"], json!(true));
    let not_a_bound = call(
        &client,
        "propagate_constraints",
        json!({"constraint_id": "checkout_flow.interaction.atomicity"}),
    )
    .await;
    assert!(error_text(&not_a_bound).contains("no latency or time bound"));

    let coverage = call(
        &client,
        "analyze_coverage",
        json!({"domain": "product_catalog"}),
    )
    .await;
    let cov = structured(&coverage);
    let missing = cov["domains"][0]["missing"].as_array().unwrap();
    assert!(missing.contains(&json!("auth")), "{missing:?}");
    // One domain asked for: its details come with it, a drafted scenario per missing class.
    assert_eq!(cov["details"][0]["domain"], "product_catalog");
    assert_eq!(
        cov["details"][0]["suggestions"].as_array().unwrap().len(),
        missing.len()
    );
    assert_eq!(cov["summary"]["domains"], 1);
    // Its covering scenarios, in full, are get_scenarios' `edge_case` filter.
    let covered = &cov["details"][0]["covered"][0];
    let covering = structured(
        &call(
            &client,
            "get_scenarios",
            json!({"domain": "product_catalog", "edge_case": covered["class"]}),
        )
        .await,
    );
    assert_eq!(covering["page"]["total"], covered["scenario_count"]);

    let candidate = call(
        &client,
        "validate_scenario",
        json!({"domain": "product_catalog", "scenario": {"name": "Concurrent inventory updates", "when": "x", "then": "y"}}),
    )
    .await;
    assert_eq!(structured(&candidate)["valid"], false);
    let missing_field = call(
        &client,
        "validate_scenario",
        json!({"domain": "product_catalog", "scenario": {"when": "x"}}),
    )
    .await;
    assert!(error_text(&missing_field).contains("name"));
    // A blank name gives no ID (never `product_catalog.`) and an error that says so.
    let blank = structured(
        &call(
            &client,
            "validate_scenario",
            json!({"domain": "product_catalog", "scenario": {"name": " ", "when": "x", "then": "the product has status \"hidden\""}}),
        )
        .await,
    );
    assert_eq!(blank["valid"], false);
    assert_eq!(blank["id"], "");
    assert_eq!(
        blank["diagnostics"][0]["code"], "missing-field",
        "{blank:#}"
    );

    let suite = call(
        &client,
        "generate_test_suite",
        json!({"framework": "pytest", "domain": "product_catalog"}),
    )
    .await;
    let code = structured(&suite)["code"].as_str().unwrap().to_string();
    assert!(code.contains("def test_sdd_product_catalog_concurrent_inventory_updates():"));
    let bad_framework = call(
        &client,
        "generate_test_suite",
        json!({"framework": "cobol"}),
    )
    .await;
    assert!(error_text(&bad_framework).contains("unknown variant"));

    let unknown_tool = client
        .call_tool(CallToolRequestParams::new("no_such_tool"))
        .await;
    assert!(unknown_tool.is_err(), "an unknown tool is a protocol error");

    // Still alive after all of that.
    let again = call(&client, "list_domains", json!({})).await;
    assert!(structured(&again)["domains"].is_array());
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn resources_and_prompts() {
    let specs = repo().join("examples/task_manager/specs");
    let client = start(&specs, &repo()).await;
    let resources = client.list_all_resources().await.unwrap();
    let uris: Vec<&str> = resources.iter().map(|r| r.uri.as_str()).collect();
    assert!(
        uris.contains(&"sdd://spec/file/task_management.yaml"),
        "{uris:?}"
    );
    let templates = client.list_all_resource_templates().await.unwrap();
    assert!(templates
        .iter()
        .any(|t| t.uri_template == "sdd://scenario/{id}"));

    let read = |uri: &str| client.read_resource(ReadResourceRequestParams::new(uri.to_string()));
    let scenario = read("sdd://scenario/task_management_system.complete_a_task")
        .await
        .unwrap();
    assert!(format!("{scenario:?}").contains("completed_at"));
    let schema = read("sdd://schema/spec").await.unwrap();
    assert!(format!("{schema:?}").contains("SDD specification file"));
    assert!(read("sdd://scenario/nope").await.is_err());
    assert!(read("sdd://spec/file/../../Cargo.toml").await.is_err());

    let prompts = client.list_all_prompts().await.unwrap();
    let names: Vec<&str> = prompts.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names.len(), 3, "{names:?}");
    let prompt = client
        .get_prompt(
            GetPromptRequestParams::new("edge_cases").with_arguments(
                json!({"domain": "task_management_system"})
                    .as_object()
                    .unwrap()
                    .clone(),
            ),
        )
        .await
        .unwrap();
    assert!(format!("{prompt:?}").contains("analyze_coverage"));
    assert!(
        client
            .get_prompt(GetPromptRequestParams::new("edge_cases"))
            .await
            .is_err(),
        "a missing required argument is refused"
    );
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn propose_writes_proposals_that_impact_analysis_sees_and_nothing_can_approve() {
    let project = tempfile::tempdir().unwrap();
    let specs = project.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    for file in ["task_management.yaml", "edge_cases.yaml"] {
        std::fs::copy(
            repo().join("examples/task_manager/specs").join(file),
            specs.join(file),
        )
        .unwrap();
    }
    git(project.path(), &["init", "-q"]);
    git(project.path(), &["add", "."]);
    git(project.path(), &["commit", "-q", "-m", "spec"]);
    let before = std::fs::read_to_string(specs.join("task_management.yaml")).unwrap();

    let client = start(&specs, project.path()).await;
    let tools = client.list_all_tools().await.unwrap();
    assert!(
        !tools
            .iter()
            .any(|t| t.name.contains("approve") || t.name.contains("reject")),
        "no tool may approve or reject"
    );

    let mut proposal = json!({
        "domain": "task_management_system",
        "scenarios": [{
            "name": "Access a task that does not exist",
            "when": "I request a task with an ID that does not exist",
            "then": ["I should receive an error \"Task not found\""],
            "rationale": "No scenario covers a missing task.",
            "status": "approved"
        }]
    });
    // The input has no review fields at all: an agent's `status` is refused by name.
    let forged = refusal(&client, "propose_scenarios", proposal.clone()).await;
    assert!(forged.contains("status"), "{forged}");
    assert_eq!(
        std::fs::read_to_string(specs.join("task_management.yaml")).unwrap(),
        before
    );
    proposal["scenarios"][0]
        .as_object_mut()
        .unwrap()
        .remove("status");
    let written = call(&client, "propose_scenarios", proposal.clone()).await;
    let w = structured(&written);
    assert_eq!(
        w["written"]["ids"][0],
        "task_management_system.access_a_task_that_does_not_exist"
    );
    let file = w["written"]["file"].as_str().unwrap().to_string();
    let after = std::fs::read_to_string(specs.join(&file)).unwrap();
    assert!(after.contains("status: \"proposed\""), "{after}");
    if file == "task_management.yaml" {
        for line in before.lines() {
            assert!(after.contains(line), "lost line {line:?}");
        }
    }

    let again = call(&client, "propose_scenarios", proposal).await;
    assert!(error_text(&again).contains("already"));
    let outside = call(
        &client,
        "propose_scenarios",
        json!({"domain": "task_management_system", "file": "../escape.yaml", "scenarios": [{"name": "X", "when": "a", "then": "b", "rationale": "r"}]}),
    )
    .await;
    assert!(error_text(&outside).contains("outside"));
    assert!(!project.path().join("escape.yaml").exists());

    let proposals = call(&client, "list_proposals", json!({})).await;
    assert_eq!(structured(&proposals)["page"]["total"], 4);

    let impact = call(&client, "impact_analysis", json!({"base": "HEAD"})).await;
    let i = structured(&impact);
    assert_eq!(i["summary"]["scenarios_added"], 1, "{i:#}");
    assert_eq!(
        i["items"],
        json!([{"kind": "scenario", "id": "task_management_system.access_a_task_that_does_not_exist", "change": "added"}])
    );
    assert!(i["next"]
        .as_str()
        .unwrap()
        .contains("`list: touched_domains` (1)"));
    let touched = call(
        &client,
        "impact_analysis",
        json!({"base": "HEAD", "list": "touched_domains"}),
    )
    .await;
    assert_eq!(
        structured(&touched)["items"],
        json!([{"kind": "domain", "id": "task_management_system", "change": "touched_directly"}])
    );
    let bad_rev = call(
        &client,
        "impact_analysis",
        json!({"base": "--upload-pack=evil"}),
    )
    .await;
    assert!(error_text(&bad_rev).contains("not a git revision"));
    let unknown_rev = call(
        &client,
        "impact_analysis",
        json!({"base": "no-such-branch"}),
    )
    .await;
    assert!(error_text(&unknown_rev).contains("unknown revision"));
    client.cancel().await.unwrap();
}

#[tokio::test]
async fn malformed_spec_and_missing_root_are_tool_errors_not_crashes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        repo().join("crates/sdd-spec/tests/data/malformed/seed_feature.yaml"),
        dir.path().join("seed.yaml"),
    )
    .unwrap();
    let client = start(dir.path(), dir.path()).await;
    let validation = call(&client, "validate_spec", json!({})).await;
    let v = structured(&validation);
    assert_eq!(v["valid"], false);
    assert_eq!(v["diagnostics"][0]["line"], 2);
    assert_eq!(v["diagnostics"][0]["column"], 14);
    // list_domains and the summary resource say which file and why, not only how many.
    let domains = structured(&call(&client, "list_domains", json!({})).await);
    assert_eq!(domains["load_errors"], 1);
    let listed = &domains["load_error_list"][0];
    assert_eq!(
        (&listed["file"], &listed["line"], &listed["code"]),
        (&json!("seed.yaml"), &json!(2), &json!("yaml-syntax")),
        "{domains:#}"
    );
    assert!(listed["message"].as_str().unwrap().contains("invalid YAML"));
    assert!(domains.get("more_load_errors").is_none(), "{domains:#}");
    let summary = client
        .read_resource(ReadResourceRequestParams::new(
            "sdd://spec/summary".to_string(),
        ))
        .await
        .unwrap();
    assert!(
        format!("{summary:?}").contains("yaml-syntax"),
        "{summary:?}"
    );
    client.cancel().await.unwrap();

    let missing = dir.path().join("not-here");
    let client = start(&missing, dir.path()).await;
    let result = call(&client, "list_domains", json!({})).await;
    assert!(error_text(&result).contains("does not exist"));
    client.cancel().await.unwrap();
}

/// A scenario whose ID another already has stays visible (counted, marked `duplicate_of`) and
/// never takes the first's place: the first keeps the test, the duplicate is counted as
/// skipped.
#[tokio::test]
async fn a_duplicate_id_is_shown_and_skipped_never_taking_the_first_place() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a.yaml"),
        "feature: Tasks\nscenarios:\n  - name: Create\n    when: I create a task\n    then: the task has status \"open\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b.yaml"),
        "feature: Tasks\nscenarios:\n  - name: Create\n    when: I create it twice\n    then: I see 2 tasks\n",
    )
    .unwrap();
    let client = start(dir.path(), dir.path()).await;
    let domains = structured(&call(&client, "list_domains", json!({})).await);
    assert_eq!(domains["totals"]["scenarios"], 2, "{domains:#}");
    assert_eq!(domains["load_error_list"][0]["code"], "duplicate-id");
    assert_eq!(domains["load_error_list"][0]["file"], "b.yaml");
    let scenarios =
        structured(&call(&client, "get_scenarios", json!({"ids": ["tasks.create"]})).await);
    let listed = scenarios["scenarios"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed[0].get("duplicate_of").is_none());
    assert_eq!(listed[1]["duplicate_of"]["file"], "a.yaml");
    let suite = structured(
        &call(
            &client,
            "generate_test_suite",
            json!({"framework": "pytest"}),
        )
        .await,
    );
    assert_eq!(suite["tests"].as_array().unwrap().len(), 1, "{suite:#}");
    assert_eq!(suite["skipped"]["duplicate_id"], 1);
    assert!(!suite["code"].as_str().unwrap().contains("twice"));
    client.cancel().await.unwrap();
}

/// The tool list is the contract with agents: names, descriptions, input and output schemas and
/// annotations. Refresh with `UPDATE_SNAPSHOTS=1 cargo test -p sdd-specification-server`.
#[tokio::test]
async fn tool_schemas_match_the_snapshot() {
    let client = start(&repo().join("examples/task_manager/specs"), &repo()).await;
    sdd_mcp::test_client::assert_tool_snapshot(
        client,
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/tools.json"),
    )
    .await;
}

fn proposal_args(name: &str) -> serde_json::Value {
    json!({
        "domain": "tasks",
        "scenarios": [{
            "name": name,
            "when": "it happens",
            "then": ["it is observable"],
            "rationale": "parallel writers"
        }]
    })
}

fn task_tree() -> (tempfile::TempDir, PathBuf) {
    let project = tempfile::tempdir().unwrap();
    let specs = project.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    std::fs::write(
        specs.join("tasks.yaml"),
        "# People wrote this.\nfeature: Tasks\ndomain: tasks\nscenarios:\n  - name: Create\n    when: I create\n    then: it exists\n",
    )
    .unwrap();
    (project, specs)
}

/// The attack from issue 9: a tag carrying U+2028 once became a second scenario without
/// `status` (counted as approved) that no review ever showed.
#[tokio::test]
async fn a_hostile_tag_cannot_smuggle_in_an_approved_scenario() {
    let (project, specs) = task_tree();
    let before = std::fs::read_to_string(specs.join("tasks.yaml")).unwrap();
    let client = start(&specs, project.path()).await;
    let mut args = proposal_args("Tagged");
    args["scenarios"][0]["tags"] =
        json!(["ok\nx\u{2028}- name: Injected\u{2028}  when: w\u{2028}  then: [approved]"]);
    let refused = refusal(&client, "propose_scenarios", args).await;
    assert!(
        refused.contains("U+000A") && refused.contains("tags[0]"),
        "{refused}"
    );
    let mut args = proposal_args("Tagged");
    args["scenarios"][0]["tags"] =
        json!(["x\u{2028}- name: Injected\u{2028}  when: w\u{2028}  then: [approved]"]);
    let refused = refusal(&client, "propose_scenarios", args).await;
    assert!(refused.contains("U+2028"), "{refused}");
    assert_eq!(
        std::fs::read_to_string(specs.join("tasks.yaml")).unwrap(),
        before
    );
    let scenarios = structured(&call(&client, "get_scenarios", json!({"domain": "tasks"})).await);
    assert_eq!(scenarios["page"]["total"], 1, "{scenarios}");
}

/// Clients send tool calls in parallel: 100 proposals at once through one server, then two
/// servers proposing 50 each while this process records people's approvals: every reported
/// write is present, no decision is reverted, the file stays valid.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_proposals_and_approvals_lose_nothing() {
    let (project, specs) = task_tree();
    let client = start(&specs, project.path()).await;
    let mut calls = tokio::task::JoinSet::new();
    for i in 0..100 {
        let peer = client.peer().clone();
        calls.spawn(async move {
            let args = proposal_args(&format!("One server {i}"));
            peer.call_tool(
                CallToolRequestParams::new("propose_scenarios")
                    .with_arguments(args.as_object().cloned().unwrap()),
            )
            .await
        });
    }
    let mut written = 0;
    while let Some(result) = calls.join_next().await {
        let result = result.unwrap().expect("no protocol error");
        assert_ne!(result.is_error, Some(true), "{:?}", result.content);
        written += 1;
    }
    assert_eq!(written, 100);
    let loaded = sdd_spec::load_dir(&specs).unwrap();
    assert_eq!(loaded.spec.scenarios.len(), 101);

    let second = start(&specs, project.path()).await;
    let mut calls = tokio::task::JoinSet::new();
    for (n, server) in [&client, &second].into_iter().enumerate() {
        for i in 0..50 {
            let peer = server.peer().clone();
            calls.spawn(async move {
                let args = proposal_args(&format!("Server {n} call {i}"));
                peer.call_tool(
                    CallToolRequestParams::new("propose_scenarios")
                        .with_arguments(args.as_object().cloned().unwrap()),
                )
                .await
                .map(|r| r.is_error != Some(true))
            });
        }
    }
    // Meanwhile a person approves 20 of the first batch (what `sdd review --approve` calls).
    let reviewer = {
        let specs = specs.clone();
        tokio::task::spawn_blocking(move || {
            for i in 0..20 {
                sdd_spec::review::decide(
                    &specs,
                    &format!("tasks.one_server_{i}"),
                    sdd_spec::review::Decision::Approve,
                    "Ada",
                    "2026-11-30T12:00:00Z",
                    None,
                )
                .unwrap();
            }
        })
    };
    while let Some(result) = calls.join_next().await {
        assert!(
            result.unwrap().expect("no protocol error"),
            "a write failed"
        );
    }
    reviewer.await.unwrap();

    let loaded = sdd_spec::load_dir(&specs).unwrap();
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.severity != sdd_spec::Severity::Error),
        "{:#?}",
        loaded.diagnostics
    );
    assert_eq!(loaded.spec.scenarios.len(), 201);
    for i in 0..100 {
        let expected = if i < 20 {
            sdd_spec::document::ReviewStatus::Approved
        } else {
            sdd_spec::document::ReviewStatus::Proposed
        };
        let id = format!("tasks.one_server_{i}");
        assert_eq!(
            loaded.spec.scenario(&id).map(|s| s.status),
            Some(expected),
            "{id}"
        );
    }
    for n in 0..2 {
        for i in 0..50 {
            let id = format!("tasks.server_{n}_call_{i}");
            assert!(loaded.spec.scenario(&id).is_some(), "{id} lost");
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(&specs)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|n| n != "tasks.yaml")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Agents make typos: an unknown argument is refused by name, not ignored, and the server keeps
/// answering. It is a tool execution error (`isError`), not JSON-RPC -32602: MCP 2025-11-25
/// (SEP-1303) asks for that so the model sees the message and corrects its call.
#[tokio::test]
async fn unknown_arguments_are_refused_by_name() {
    let specs = repo().join("examples/ecommerce_platform/specs");
    let client = start(&specs, &repo()).await;
    for (tool, args, field) in [
        ("get_scenarios", json!({"domian": "search"}), "domian"),
        ("list_domains", json!({"verbose": true}), "verbose"),
        ("list_proposals", json!({"limt": 2}), "limt"),
        ("get_constraints", json!({"ofset": 2}), "ofset"),
        (
            "generate_test_suite",
            json!({"framework": "pytest", "domains": "x"}),
            "domains",
        ),
    ] {
        let text = error_text(&call(&client, tool, args).await);
        assert!(
            text.contains(&format!("unknown field `{field}`")),
            "{tool}: {text}"
        );
    }
    // The paging fields are flattened in from `sdd_mcp::Paging`; the refusal still lists them
    // beside the tool's own fields.
    let text = error_text(&call(&client, "list_proposals", json!({"limt": 2})).await);
    assert!(
        text.contains("expected one of `domain`, `limit`, `offset`"),
        "{text}"
    );
    structured(&call(&client, "list_domains", json!({})).await);
}

/// Spec loading runs off the async workers: while two heavy calls read a 10,000-scenario tree,
/// `ping` is answered long before either of them finishes. Compared with the heavy calls' own
/// duration, not with a clock limit: with loading on the workers, both workers are busy and
/// the ping is answered only when a heavy call ends.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_is_answered_while_heavy_calls_run() {
    let project = tempfile::tempdir().unwrap();
    let specs = project.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    for file in 0..40 {
        let mut text = format!("feature: Feature {file}\ndomain: domain_{file}\nscenarios:\n");
        for n in 0..250 {
            text.push_str(&format!(
                "  - name: Scenario {n} of {file}\n    given: [a user with {n} items]\n    when: they ask for item {n}\n    then: [they get item {n}, the count stays {n}]\n"
            ));
        }
        std::fs::write(specs.join(format!("f{file}.yaml")), text).unwrap();
    }
    let client = start(&specs, project.path()).await;
    let validate = ("validate_spec", json!({}));
    let seen = ping_during(&client, &[validate.clone(), validate]).await;
    for (result, took) in seen.calls {
        assert_ne!(result.expect("validate_spec").is_error, Some(true));
        assert!(
            seen.slowest_ping * 4 < took,
            "a ping waited {:?} while a heavy call took {took:?}: the workers were blocked",
            seen.slowest_ping
        );
    }
}

/// No answer floods the agent: a page whose answer would pass its bound (40,000 characters by
/// default, 100,000 with an explicit `limit`, counted as the client receives them) ends early,
/// says so, and the next page starts where it ended, so nothing is lost.
#[tokio::test]
async fn an_oversized_page_is_cut_by_size_and_the_next_one_goes_on() {
    let project = tempfile::tempdir().unwrap();
    let specs = project.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    let mut text = String::from("feature: Big\ndomain: big\nscenarios:\n");
    let long = "word ".repeat(200);
    for n in 0..200 {
        text.push_str(&format!(
            "  - name: Scenario {n}\n    when: it runs\n    then: [\"{long}\"]\n"
        ));
    }
    std::fs::write(specs.join("big.yaml"), text).unwrap();
    let client = start(&specs, project.path()).await;
    for (args, bound) in [
        (json!({}), sdd_mcp::DEFAULT_ANSWER_CHARS),
        (json!({"limit": 100}), sdd_mcp::MAX_RESPONSE_CHARS),
    ] {
        let result = call(&client, "get_scenarios", args.clone()).await;
        let size = serde_json::to_string(&result).unwrap().len();
        assert!(size < bound, "{args}: {size}");
        let first = structured(&result);
        let page = &first["page"];
        let returned = page["returned"].as_u64().unwrap();
        assert!(page["cut_by_size"] == true && returned > 1, "{page}");
        assert_eq!(page["next_offset"], returned);
        assert!(
            page["more"].as_str().unwrap().contains("cut to stay under"),
            "{page}"
        );
        let mut next_args = args.clone();
        next_args["offset"] = json!(returned);
        let next = structured(&call(&client, "get_scenarios", next_args).await);
        assert_eq!(
            next["scenarios"][0]["id"],
            format!("big.scenario_{returned}"),
            "the next page starts where this one ended"
        );
    }
}

/// The reviewer's defects planted in a spec the analyses were not written against, through the
/// protocol: validate_spec names each, analyze_coverage does not count a scenario that breaks a
/// rule, and get_scenarios agrees with it.
#[tokio::test]
async fn planted_spec_defects_are_reported_through_the_protocol() {
    let specs = repo().join("crates/sdd-spec/tests/data/review/planted");
    let client = start(&specs, &repo()).await;
    let report = structured(&call(&client, "validate_spec", json!({})).await);
    let text = report.to_string();
    for code in [
        "contradicting-outcomes",
        "contradicts-auth",
        "contradicts-rate-limit",
        "contradicts-limit",
        "contradicts-ownership",
        "contradicts-time-bound",
    ] {
        assert!(text.contains(code), "{code} missing from {report:#}");
    }
    let coverage = structured(&call(&client, "analyze_coverage", json!({"domain": "loans"})).await);
    let not_counted = &coverage["details"][0]["not_counted"];
    assert!(
        not_counted.as_array().is_some_and(|n| n
            .iter()
            .any(|n| n["scenario"] == "loans.apply_anonymously" && n["class"] == "auth")),
        "{coverage:#}"
    );
    let auth = structured(
        &call(
            &client,
            "get_scenarios",
            json!({"domain": "loans", "edge_case": "auth"}),
        )
        .await,
    );
    let ids: Vec<&str> = auth["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert!(!ids.contains(&"loans.apply_anonymously"), "{ids:?}");
    assert!(ids.contains(&"loans.health_check"), "{ids:?}");
    client.cancel().await.unwrap();
}

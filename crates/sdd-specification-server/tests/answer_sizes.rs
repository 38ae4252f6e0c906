//! Answer sizes (issue 12): on a generated spec of 10,000 scenarios in 200 files, every tool's
//! default answer stays under 40,000 characters (about 10k tokens, where Claude Code starts to
//! warn) and its largest page under 100,000 (about 25k tokens, where it cuts answers off), and
//! so does every resource. Sizes are what a client receives: the serialized `CallToolResult`
//! (the JSON text content and the structured content) or `ReadResourceResult`. Sizes only,
//! never times.

use std::collections::BTreeSet;

use rmcp::model::{CallToolResult, ReadResourceRequestParams};
use sdd_mcp::test_client::{call, git, structured, Client};
use sdd_mcp::test_spec::{self, domain_name, feature_path};
use sdd_mcp::MAX_PAGE;
use serde_json::{json, Value};

/// A default answer: about 10k tokens.
const DEFAULT_BOUND: usize = 40_000;
/// The largest page: about 25k tokens.
const LARGEST_BOUND: usize = 100_000;

/// Characters of a value as sent (compact JSON, as rmcp writes it).
fn chars<T: serde::Serialize>(value: &T) -> usize {
    serde_json::to_string(value)
        .expect("serializable")
        .chars()
        .count()
}

struct Measured {
    what: String,
    chars: usize,
    bound: usize,
    note: String,
}

struct Walk {
    client: Client,
    rows: Vec<Measured>,
    tools: BTreeSet<String>,
}

impl Walk {
    async fn tool(&mut self, tool: &str, case: &str, args: Value, bound: usize) -> CallToolResult {
        let result = call(&self.client, tool, args.clone()).await;
        let note = if result.is_error == Some(true) {
            let text = sdd_mcp::result_text(&result);
            format!("tool error: {}", text.chars().take(100).collect::<String>())
        } else {
            String::new()
        };
        self.tools.insert(tool.to_string());
        self.rows.push(Measured {
            what: format!("{tool} {case} {args}"),
            chars: chars(&result),
            bound,
            note,
        });
        result
    }

    async fn resource(&mut self, uri: &str, bound: usize) {
        let result = self
            .client
            .read_resource(ReadResourceRequestParams::new(uri))
            .await
            .unwrap_or_else(|e| panic!("{uri}: {e}"));
        self.rows.push(Measured {
            what: format!("resource {uri}"),
            chars: chars(&result),
            bound,
            note: String::new(),
        });
    }
}

/// A page that is not the last says how to get the next one (`total` 0: any total).
fn assert_paged(result: &CallToolResult, total: u64) {
    let answer = structured(result);
    let page = &answer["page"];
    if total > 0 {
        assert_eq!(page["total"], total, "{page}");
    }
    assert!(
        page["next_offset"].is_u64() && page["more"].as_str().is_some_and(|m| m.contains("offset")),
        "{page}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_stays_within_its_bound_on_a_spec_of_10000_scenarios() {
    let temp = tempfile::tempdir().unwrap();
    // `SDD_ANSWER_SIZES_KEEP=DIR` writes the project there and keeps it, to look at answers
    // with `sdd-specification --specs DIR/specs call TOOL '{…}'`.
    let kept = std::env::var_os("SDD_ANSWER_SIZES_KEEP").map(std::path::PathBuf::from);
    if let Some(dir) = &kept {
        let _ = std::fs::remove_dir_all(dir);
        std::fs::create_dir_all(dir).unwrap();
    }
    let project = kept.as_deref().unwrap_or(temp.path());
    let specs = project.join("specs");
    test_spec::write_large_spec(&specs).unwrap();
    git(project, &["init", "-q"]);
    git(project, &["add", "."]);
    git(project, &["commit", "-q", "-m", "spec"]);
    // A large change for impact_analysis: the first area's outcomes reworded (its first domain
    // is a dependency of every other, so every scenario must run again), one file gone, one new.
    for f in 0..10 {
        let path = specs.join(feature_path(f));
        let text = std::fs::read_to_string(&path).unwrap();
        std::fs::write(&path, text.replace("should have", "must have")).unwrap();
    }
    std::fs::remove_file(specs.join(feature_path(199))).unwrap();
    let moved = std::fs::read_to_string(specs.join(feature_path(198))).unwrap();
    std::fs::write(
        specs.join("features/analytics/copies.yaml"),
        moved
            .replace("Quarterly", "Copied")
            .replace(&domain_name(198), "analytics_copies"),
    )
    .unwrap();

    let client = sdd_mcp::test_client::start(
        env!("CARGO_BIN_EXE_sdd-specification"),
        &[
            "--project".as_ref(),
            project.as_os_str(),
            "--specs".as_ref(),
            specs.as_os_str(),
        ],
    )
    .await;
    let listed: BTreeSet<String> = client
        .list_all_tools()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.name.to_string())
        .collect();
    let mut walk = Walk {
        client,
        rows: Vec::new(),
        tools: BTreeSet::new(),
    };
    let max = json!({ "limit": MAX_PAGE });
    let (d, l) = (DEFAULT_BOUND, LARGEST_BOUND);
    let domain = domain_name(42);

    walk.tool("list_domains", "default", json!({}), d).await;
    walk.tool("list_domains", "largest", max.clone(), l).await;
    let scenarios = walk.tool("get_scenarios", "default", json!({}), d).await;
    assert_paged(&scenarios, 10_000);
    walk.tool(
        "get_scenarios",
        "largest",
        json!({"limit": MAX_PAGE, "include_constraints": true}),
        l,
    )
    .await;
    walk.tool("get_constraints", "default", json!({}), d).await;
    walk.tool("get_constraints", "largest", max.clone(), l)
        .await;
    walk.tool(
        "parse_constraint",
        "default",
        json!({"requirement": "p95 latency < 100ms for all read operations", "measurement": "Under load of 1000 requests/second"}),
        d,
    )
    .await;
    let validation = walk.tool("validate_spec", "default", json!({}), d).await;
    let v = structured(&validation);
    assert!(
        v["by_code"].as_array().unwrap().len() >= 3,
        "validation is summarised per code: {}",
        v["by_code"]
    );
    assert_paged(&validation, 0);
    walk.tool(
        "validate_spec",
        "largest",
        json!({"limit": MAX_PAGE, "min_severity": "info"}),
        l,
    )
    .await;
    let candidate = walk
        .tool(
            "validate_scenario",
            "default",
            // The situation of two scenarios of the domain with another outcome: it conflicts.
            json!({"domain": domain, "scenario": {
            "name": "Read an order by its ID again",
            "given": ["A order exists with title \"Quarterly order 1\""],
            "when": "I request the order by its ID",
            "then": ["I should receive an error \"410 Gone\""]}}),
            d,
        )
        .await;
    assert!(
        !structured(&candidate)["conflicts"]
            .as_array()
            .unwrap()
            .is_empty(),
        "the candidate conflicts with the domain's scenarios"
    );
    let coverage = walk.tool("analyze_coverage", "default", json!({}), d).await;
    let c = structured(&coverage);
    assert_eq!(c["summary"]["domains"], 200, "{}", c["summary"]);
    assert!(!c["details"].as_array().unwrap().is_empty());
    assert_paged(&coverage, 200);
    walk.tool("analyze_coverage", "largest", max.clone(), l)
        .await;
    walk.tool("list_proposals", "default", json!({}), d).await;
    walk.tool("list_proposals", "largest", max.clone(), l).await;
    walk.tool(
        "generate_test_suite",
        "default",
        json!({"framework": "pytest"}),
        d,
    )
    .await;
    walk.tool(
        "generate_test_suite",
        "largest",
        json!({"framework": "go", "limit": MAX_PAGE}),
        l,
    )
    .await;
    walk.tool("dependency_graph", "default", json!({}), d).await;
    walk.tool("dependency_graph", "largest", max.clone(), l)
        .await;
    walk.tool(
        "propagate_constraints",
        "default",
        json!({"constraint_id": "flow_00.interaction.end_to_end_latency"}),
        d,
    )
    .await;
    let everyone: Vec<String> = (0..100).map(domain_name).collect();
    walk.tool(
        "propagate_constraints",
        "largest",
        json!({"constraint_id": "flow_00.interaction.end_to_end_latency", "participants": everyone}),
        l,
    )
    .await;
    let impact = walk.tool("impact_analysis", "default", json!({}), d).await;
    assert_paged(&impact, 0);
    walk.tool(
        "impact_analysis",
        "largest",
        json!({"list": "rerun_scenarios", "limit": MAX_PAGE}),
        l,
    )
    .await;
    let proposals: Vec<Value> = (0..50)
        .map(|i| {
            json!({
                "name": format!("Refuse a product with a negative price, variant {i}"),
                "given": ["I am authenticated as a regular user"],
                "when": format!("I create a product with price -{i}"),
                "then": ["I should receive an error \"Price must be positive\"", "No product should be created"],
                "rationale": "No scenario shows what happens to a negative price."
            })
        })
        .collect();
    walk.tool(
        "propose_scenarios",
        "largest",
        json!({"domain": domain, "scenarios": proposals}),
        l,
    )
    .await;

    // resources/list is paged by the protocol's cursor: each page is measured.
    let mut cursor = None;
    let mut resources = 0;
    loop {
        let page = walk
            .client
            .list_resources(Some(
                rmcp::model::PaginatedRequestParams::default().with_cursor(cursor),
            ))
            .await
            .unwrap();
        resources += page.resources.len();
        walk.rows.push(Measured {
            what: format!("resources/list page of {}", page.resources.len()),
            chars: chars(&page),
            bound: DEFAULT_BOUND,
            note: String::new(),
        });
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(
        resources,
        2 + test_spec::FILES + test_spec::INTERACTIONS + 1
    );
    walk.resource("sdd://spec/summary", DEFAULT_BOUND).await;
    walk.resource("sdd://schema/spec", DEFAULT_BOUND).await;
    let largest_file = (0..test_spec::FILES - 1)
        .map(feature_path)
        .max_by_key(|p| {
            std::fs::metadata(specs.join(p))
                .map(|m| m.len())
                .unwrap_or(0)
        })
        .unwrap();
    walk.resource(&format!("sdd://spec/file/{largest_file}"), LARGEST_BOUND)
        .await;
    walk.resource(
        &format!(
            "sdd://scenario/{}.create_a_product_with_title_variant_0",
            domain_name(3)
        ),
        DEFAULT_BOUND,
    )
    .await;
    walk.client.cancel().await.unwrap();

    let mut report = String::new();
    let mut over = Vec::new();
    for row in &walk.rows {
        let line = format!(
            "{:>8} / {:>7}  {}  {}\n",
            row.chars,
            row.bound,
            row.what.chars().take(110).collect::<String>(),
            row.note
        );
        if row.chars > row.bound {
            over.push(line.clone());
        }
        report.push_str(&line);
    }
    eprintln!("answer sizes (characters / bound):\n{report}");
    let missed: Vec<&String> = listed.difference(&walk.tools).collect();
    assert!(missed.is_empty(), "tools not walked: {missed:?}");
    assert!(
        over.is_empty(),
        "answers over their bound:\n{}",
        over.join("")
    );
}

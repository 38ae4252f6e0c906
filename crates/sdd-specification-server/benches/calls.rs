//! Benchmark: what one MCP call costs an agent, end to end over stdio, beside a bare rmcp server
//! (one tool that answers a constant) in the same run:
//! - a warm read-only call (`get_scenarios` for one ID; reading `sdd://spec/summary`) on the
//!   bundled example and, when `SDD_BENCH_TREE` names a generated tree (10,000 scenarios in 200
//!   files: `scripts/bench-spec.sh` writes one), on that tree;
//! - on the tree, the first call after one file changed (the spec cache re-reads the tree);
//! - the idle resident memory of each server.
//!
//! Medians and p95 of wall-clock time on this machine; printed, never asserted.
//!
//! `cargo bench -p sdd-specification-server --bench calls` (scripts/bench-mcp.sh runs it with a tree).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{CallToolRequestParams, ReadResourceRequestParams};
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{tool, tool_handler, tool_router, ServerHandler, ServiceExt};
use schemars::JsonSchema;
use serde::Deserialize;

type Client = rmcp::service::RunningService<rmcp::RoleClient, ()>;

/// The bare server: rmcp and one trivial tool, nothing else.
#[derive(Clone)]
struct Bare {
    tool_router: ToolRouter<Bare>,
}

#[derive(Deserialize, JsonSchema)]
struct NoArguments {}

#[tool_router]
impl Bare {
    /// Answers a constant.
    #[tool]
    async fn ping(&self, _args: Parameters<NoArguments>) -> String {
        "pong".into()
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Bare {}

async fn serve_bare() {
    let server = Bare {
        tool_router: Bare::tool_router(),
    };
    let running = server
        .serve((tokio::io::stdin(), tokio::io::stdout()))
        .await
        .expect("serve");
    let _ = running.waiting().await;
}

/// Start `program args…` and complete the handshake; its pid for the memory reading.
async fn start(program: &Path, args: &[&str], env: &[(&str, &str)]) -> (Client, u32) {
    let transport =
        TokioChildProcess::new(tokio::process::Command::new(program).configure(|cmd| {
            cmd.args(args).env("RUST_LOG", "warn");
            for (k, v) in env {
                cmd.env(k, v);
            }
        }))
        .expect("spawn");
    let pid = transport.id().expect("pid");
    (().serve(transport).await.expect("initialize"), pid)
}

fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

enum Call {
    Tool(&'static str, serde_json::Value),
    Resource(&'static str),
}

async fn once(client: &Client, call: &Call) -> Duration {
    let started = Instant::now();
    match call {
        Call::Tool(name, args) => {
            let request = CallToolRequestParams::new(name.to_string())
                .with_arguments(args.as_object().cloned().unwrap_or_default());
            let result = client.call_tool(request).await.expect("call");
            assert_ne!(result.is_error, Some(true), "{name}: {:?}", result.content);
        }
        Call::Resource(uri) => {
            client
                .read_resource(ReadResourceRequestParams::new(uri.to_string()))
                .await
                .expect("read");
        }
    }
    started.elapsed()
}

/// Median and p95 of `runs` calls after `warm` unmeasured ones.
async fn measure(client: &Client, call: &Call, warm: usize, runs: usize) -> (f64, f64) {
    for _ in 0..warm {
        once(client, call).await;
    }
    let mut samples = Vec::with_capacity(runs);
    for _ in 0..runs {
        samples.push(once(client, call).await);
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(samples[runs / 2]), ms(samples[runs * 95 / 100]))
}

fn row(what: &str, (p50, p95): (f64, f64)) {
    println!("  {what:<58} p50 {p50:>8.3} ms   p95 {p95:>8.3} ms");
}

fn first_scenario_id(tree: &Path) -> String {
    let loaded = sdd_spec::load_dir(tree).expect("load the tree");
    loaded.spec.scenarios[0].id.clone()
}

async fn bench() {
    let server = PathBuf::from(env!("CARGO_BIN_EXE_sdd-specification"));
    let me = std::env::current_exe().expect("own path");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/task_manager/specs");
    let example = example.canonicalize().expect("the bundled example");

    println!(
        "one MCP call over stdio, rmcp client, {} (medians of wall-clock time)",
        std::env::consts::ARCH
    );
    let (bare, bare_pid) = start(&me, &[], &[("SDD_BENCH_BARE", "1")]).await;
    let bare_row = measure(&bare, &Call::Tool("ping", serde_json::json!({})), 200, 2000).await;
    row("bare rmcp server: ping (peer)", bare_row);
    let bare_rss = rss_mib(bare_pid);

    let (spec, spec_pid) = start(&server, &["--specs", example.to_str().unwrap()], &[]).await;
    let id = first_scenario_id(&example);
    let get = Call::Tool("get_scenarios", serde_json::json!({"ids": [id]}));
    row(
        "example: get_scenarios for one ID",
        measure(&spec, &get, 200, 2000).await,
    );
    row(
        "example: read sdd://spec/summary",
        measure(&spec, &Call::Resource("sdd://spec/summary"), 200, 2000).await,
    );
    // Idle: after the calls, nothing running.
    tokio::time::sleep(Duration::from_millis(200)).await;
    println!(
        "  idle RSS: sdd-specification on the example {:.1} MiB; bare rmcp server {:.1} MiB",
        rss_mib(spec_pid),
        bare_rss
    );
    let _ = spec.cancel().await;

    let Some(tree) = std::env::var_os("SDD_BENCH_TREE").map(PathBuf::from) else {
        println!("  (set SDD_BENCH_TREE to a generated tree for the 10,000-scenario rows: scripts/bench-mcp.sh)");
        let _ = bare.cancel().await;
        return;
    };
    let (big, big_pid) = start(&server, &["--specs", tree.to_str().unwrap()], &[]).await;
    let id = first_scenario_id(&tree);
    let get = Call::Tool("get_scenarios", serde_json::json!({"ids": [id]}));
    let first = once(&big, &get).await;
    println!(
        "  10,000 scenarios: first call (loads the tree)                 {:>8.3} ms",
        first.as_secs_f64() * 1000.0
    );
    row(
        "10,000 scenarios: get_scenarios for one ID, warm",
        measure(&big, &get, 20, 500).await,
    );
    row(
        "10,000 scenarios: read sdd://spec/summary, warm",
        measure(&big, &Call::Resource("sdd://spec/summary"), 20, 500).await,
    );
    // One file changes (a comment appended, as an editor's save would), then the next call.
    let file = tree.join("feature_100.yaml");
    let mut after_change = Vec::new();
    for n in 0..9 {
        let mut text = std::fs::read_to_string(&file).expect("read a feature");
        text.push_str(&format!("# edit {n}\n"));
        std::fs::write(&file, text).expect("edit a feature");
        after_change.push(once(&big, &get).await);
    }
    after_change.sort();
    println!(
        "  10,000 scenarios: the call after one file changed               p50 {:>8.3} ms",
        after_change[after_change.len() / 2].as_secs_f64() * 1000.0
    );
    println!(
        "  idle RSS: sdd-specification on 10,000 scenarios {:.1} MiB",
        rss_mib(big_pid)
    );
    let _ = big.cancel().await;
    let _ = bare.cancel().await;
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    if std::env::var_os("SDD_BENCH_BARE").is_some() {
        runtime.block_on(serve_bare());
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test` runs benches with no such flag: stay quick.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    runtime.block_on(bench());
}

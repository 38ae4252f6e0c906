//! For the servers' protocol tests (feature `test-client`): spawn a built server binary as a
//! child process and call it with rmcp's client, as an MCP client would.

use std::ffi::OsStr;

use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::{ConfigureCommandExt, TokioChildProcess};
use rmcp::{RoleClient, ServiceExt};
use serde_json::Value;

pub type Client = RunningService<RoleClient, ()>;

/// Start `program args…` (with `RUST_LOG=warn`) and complete the MCP handshake.
pub async fn start<S: AsRef<OsStr>>(program: &str, args: &[S]) -> Client {
    let transport =
        TokioChildProcess::new(tokio::process::Command::new(program).configure(|cmd| {
            cmd.args(args).env("RUST_LOG", "warn");
        }))
        .expect("spawn server");
    ().serve(transport).await.expect("initialize")
}

/// Call a tool; a protocol error fails the test.
pub async fn call(client: &Client, tool: &str, args: Value) -> CallToolResult {
    let args = args.as_object().cloned().unwrap_or_default();
    client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(args))
        .await
        .unwrap_or_else(|e| panic!("{tool}: protocol error {e}"))
}

/// The structured result of a successful call.
pub fn structured(result: &CallToolResult) -> Value {
    assert_ne!(
        result.is_error,
        Some(true),
        "unexpected tool error: {:?}",
        result.content
    );
    result
        .structured_content
        .clone()
        .expect("structured content")
}

/// The text of a tool error (the call must have failed as a tool error).
pub fn error_text(result: &CallToolResult) -> String {
    assert_eq!(
        result.is_error,
        Some(true),
        "expected a tool error, got {:?}",
        result.structured_content
    );
    crate::result_text(result)
}

/// Every tool's schema, description and annotations as the client lists them, compared with the
/// committed snapshot at `path` (rewritten when `UPDATE_SNAPSHOTS` is set). Every tool must have
/// an object output schema and annotations.
pub async fn assert_tool_snapshot(client: Client, path: &std::path::Path) {
    let mut tools = client.list_all_tools().await.expect("tools/list");
    client.cancel().await.expect("shut the server down");
    tools.sort_by(|a, b| a.name.cmp(&b.name));
    for tool in &tools {
        assert!(
            tool.output_schema.is_some(),
            "{} has no output schema",
            tool.name
        );
        let schema = serde_json::to_value(&tool.output_schema).expect("schema as JSON");
        assert_eq!(
            schema["type"], "object",
            "{}: output must be an object",
            tool.name
        );
        assert!(
            tool.annotations.is_some(),
            "{} has no annotations",
            tool.name
        );
        let input = Value::Object((*tool.input_schema).clone());
        let problems: Vec<String> = crate::schema_problems(&input, crate::Side::Input)
            .into_iter()
            .map(|p| format!("input {p}"))
            .chain(
                crate::schema_problems(&schema, crate::Side::Output)
                    .into_iter()
                    .map(|p| format!("output {p}")),
            )
            .collect();
        assert!(
            problems.is_empty(),
            "{}: schema problems clients reject or warn about:\n{}",
            tool.name,
            problems.join("\n")
        );
    }
    let fresh = serde_json::to_string_pretty(&tools).expect("tools as JSON") + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &fresh).expect("write the snapshot");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == fresh,
        "tool schemas changed: review and run with UPDATE_SNAPSHOTS=1"
    );
}

/// Every prompt with its description and arguments as the client lists them, compared with
/// the committed snapshot at `path` (rewritten when `UPDATE_SNAPSHOTS` is set): the slash
/// commands people start workflows with are a contract too.
pub async fn assert_prompt_snapshot(client: Client, path: &std::path::Path) {
    let mut prompts = client.list_all_prompts().await.expect("prompts/list");
    client.cancel().await.expect("shut the server down");
    prompts.sort_by(|a, b| a.name.cmp(&b.name));
    let fresh = serde_json::to_string_pretty(&prompts).expect("prompts as JSON") + "\n";
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(path, &fresh).expect("write the snapshot");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == fresh,
        "prompts changed: review and run with UPDATE_SNAPSHOTS=1"
    );
}

/// What [`ping_during`] saw: the longest a ping waited, and each call's result with the time
/// from the start until it ended.
pub struct PingsDuring {
    pub slowest_ping: std::time::Duration,
    pub calls: Vec<(
        Result<CallToolResult, rmcp::ServiceError>,
        std::time::Duration,
    )>,
}

/// Start every call in `calls` at once, and ping the server every 20 ms until they have all
/// ended. A server whose async workers are blocked by a call answers its pings late, so the
/// slowest ping, compared with the calls' own durations, shows whether heavy work left the
/// workers free.
pub async fn ping_during(client: &Client, calls: &[(&str, Value)]) -> PingsDuring {
    let started = std::time::Instant::now();
    let running: Vec<_> = calls
        .iter()
        .map(|(tool, args)| {
            let peer = client.peer().clone();
            let request = CallToolRequestParams::new(tool.to_string())
                .with_arguments(args.as_object().cloned().unwrap_or_default());
            tokio::spawn(async move { (peer.call_tool(request).await, started.elapsed()) })
        })
        .collect();
    let mut slowest_ping = std::time::Duration::ZERO;
    while !running.iter().all(|call| call.is_finished()) {
        let asked = std::time::Instant::now();
        client
            .send_request(rmcp::model::ClientRequest::PingRequest(Default::default()))
            .await
            .expect("ping");
        slowest_ping = slowest_ping.max(asked.elapsed());
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let mut results = Vec::new();
    for call in running {
        results.push(call.await.expect("the call's task"));
    }
    PingsDuring {
        slowest_ping,
        calls: results,
    }
}

/// `git -C dir args…` as a test's committer (name `t`); a failure fails the test with git's
/// own message.
pub fn git(dir: &std::path::Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .output()
        .expect("git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

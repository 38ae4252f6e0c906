//! Scripted calls: one tool call through the real MCP protocol, in-process over a pipe, so the
//! command line prints exactly the result an MCP client would get.

use rmcp::model::{CallToolRequestParams, CallToolResult, Tool};
use rmcp::{ClientHandler, ServerHandler, ServiceExt};

/// A client session with `server` running in this process, over a pipe: the real protocol
/// (initialize, requests, notifications such as progress to `client`) without a child process.
pub async fn connect_in_process<S: ServerHandler, C: ClientHandler>(
    server: S,
    client: C,
) -> anyhow::Result<rmcp::service::RunningService<rmcp::RoleClient, C>> {
    let (server_side, client_side) = tokio::io::duplex(1 << 20);
    tokio::spawn(async move {
        if let Ok(running) = server.serve(server_side).await {
            let _ = running.waiting().await;
        }
    });
    Ok(client.serve(client_side).await?)
}

async fn connect<S: ServerHandler>(
    server: S,
) -> anyhow::Result<rmcp::service::RunningService<rmcp::RoleClient, ()>> {
    connect_in_process(server, ()).await
}

/// Tool arguments as the protocol carries them: a JSON object (`null` for none).
pub fn tool_arguments(arguments: serde_json::Value) -> Result<rmcp::model::JsonObject, String> {
    match arguments {
        serde_json::Value::Object(map) => Ok(map),
        serde_json::Value::Null => Ok(Default::default()),
        other => Err(format!("tool arguments must be a JSON object, not {other}")),
    }
}

/// The text parts of a tool result, one per line (a tool error's message lives there).
pub fn result_text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.as_str()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Call `tool` with `arguments` (a JSON object) on `server`.
pub async fn call_once<S: ServerHandler>(
    server: S,
    tool: &str,
    arguments: serde_json::Value,
) -> anyhow::Result<CallToolResult> {
    let arguments = tool_arguments(arguments).map_err(anyhow::Error::msg)?;
    let client = connect(server).await?;
    let result = client
        .call_tool(CallToolRequestParams::new(tool.to_string()).with_arguments(arguments))
        .await;
    let _ = client.cancel().await;
    Ok(result?)
}

/// Every tool the server offers, as a client lists them.
pub async fn list_tools<S: ServerHandler>(server: S) -> anyhow::Result<Vec<Tool>> {
    let client = connect(server).await?;
    let tools = client.list_all_tools().await;
    let _ = client.cancel().await;
    Ok(tools?)
}

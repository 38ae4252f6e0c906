//! `sdd call SERVER TOOL [JSON]`: any tool of any server from a shell. Prints the tool's JSON
//! result on stdout and exits as every server's own `call` does (`sdd_mcp::CALL_OK`,
//! `CALL_REPORTS_FAILURE`, `CALL_FAILED`): 0 when the tool ran and its answer is not a failure,
//! 1 when it ran and reports one (run_tests `ok: false`, a failing verdict — the server says
//! which of its answers judge), 2 when the call itself failed (a tool error, printed on stderr,
//! or a usage mistake).

use std::process::ExitCode;

use serde_json::Value;

use crate::cli::CallArgs;
use crate::sayln;
use crate::session::{self, Server, Session};

pub async fn run(args: &CallArgs) -> Result<ExitCode, String> {
    let (Some(server), Some(tool)) = (&args.server, &args.tool) else {
        return Err("usage: sdd call SERVER TOOL [JSON]".into());
    };
    if let Some(extra) = args.extra.first() {
        return Err(format!(
            "unexpected argument `{extra}` after the JSON arguments; quote the JSON as one argument"
        ));
    }
    let arguments = args.json.as_deref().unwrap_or("{}");
    let server = Server::parse(server)?;
    let arguments: Value = serde_json::from_str(arguments)
        .map_err(|e| format!("the tool arguments are not valid JSON: {e}"))?;
    let root = args.project.root()?;
    let session = Session::open(server, session::project(&root, None)?).await?;
    let answer = if tool == "tools" {
        session.list_tools().await
    } else {
        session.call(tool, arguments).await
    };
    session.close().await;
    match answer {
        Ok(value) => {
            sayln!(
                "{}",
                serde_json::to_string_pretty(&value).map_err(|e| e.to_string())?
            );
            let reports_failure = if tool == "tools" {
                sdd_mcp::judges_nothing
            } else {
                server.reports_failure()
            };
            Ok(ExitCode::from(sdd_mcp::call_exit_status(
                reports_failure,
                tool,
                &value,
            )))
        }
        Err(text) => {
            eprintln!("{text}");
            Ok(ExitCode::from(sdd_mcp::CALL_FAILED))
        }
    }
}

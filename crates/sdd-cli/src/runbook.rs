//! `sdd runbook ID`: the debugger server's `generate_runbook`, written to a file (default
//! `runbooks/ID.md`), with what it cites and the gaps it names on the terminal.

use std::process::ExitCode;

use serde_json::json;

use sdd_debugger_server::RunbookResult;

use crate::cli::RunbookArgs;
use crate::sayln;
use crate::session::{self, Server, Session};

pub async fn run(args: &RunbookArgs) -> Result<ExitCode, String> {
    let root = args.project.root()?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| format!("runbooks/{}.md", sdd_spec::ids::slug(&args.id)));
    let session = Session::open(Server::Debugger, session::project(&root, None)?).await?;
    let answer = session
        .call("generate_runbook", json!({"id": args.id, "path": out}))
        .await;
    session.close().await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(refusal) => {
            eprintln!("generate_runbook: {refusal}");
            return Ok(ExitCode::from(1));
        }
    };
    let result: RunbookResult = serde_json::from_value(answer)
        .map_err(|e| format!("generate_runbook answered in a form this sdd cannot read: {e}"))?;
    let runbook = &result.runbook;
    sayln!(
        "Wrote the runbook \"{}\" to {} ({} sources cited, {} incident(s)).",
        runbook.title,
        result.written.as_deref().unwrap_or(&out),
        runbook.cites.len(),
        runbook.incidents_cited
    );
    for gap in &runbook.gaps {
        sayln!("  gap: {gap}");
    }
    Ok(ExitCode::SUCCESS)
}

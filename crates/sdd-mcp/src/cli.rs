//! Start-up shared by every server binary: flags, tracing to stderr, then either serve MCP over
//! stdio or run one tool call and print its JSON result.

use std::path::PathBuf;
use std::process::ExitCode;

use rmcp::{ServerHandler, ServiceExt};

use crate::project::Project;

/// Who a server is, for `initialize` and `--help`.
#[derive(Debug, Clone, Copy)]
pub struct ServerIdentity {
    /// Binary and server name, e.g. `sdd-specification`.
    pub name: &'static str,
    pub title: &'static str,
    pub version: &'static str,
    /// What the server is for and how an agent should use it (sent as `instructions`).
    pub instructions: &'static str,
    /// Whether one of its tools' answers reports a failure (a red test run, a failing
    /// verdict): a scripted `call` then exits [`CALL_REPORTS_FAILURE`], so a CI script can
    /// stop on it without reading the JSON. Each server knows which of its answers judge.
    pub reports_failure: ReportsFailure,
}

/// Whether `tool`'s structured answer says that what it checked failed.
pub type ReportsFailure = fn(tool: &str, answer: &serde_json::Value) -> bool;

/// For a server none of whose answers is a verdict.
pub fn judges_nothing(_tool: &str, _answer: &serde_json::Value) -> bool {
    false
}

/// Exit status of a scripted call whose tool ran and whose answer is not a failure.
pub const CALL_OK: u8 = 0;
/// Exit status of a scripted call whose tool ran and reports a failure (run_tests `ok: false`,
/// a failing verdict): the same 1 as `sdd verify` and `sdd status` when something failed.
pub const CALL_REPORTS_FAILURE: u8 = 1;
/// Exit status of a scripted call that failed itself: a usage mistake, arguments that are not
/// a JSON object, a tool error (an unknown profile, a bad argument: the text says what to fix),
/// a protocol error. 2, like every `sdd` usage mistake.
pub const CALL_FAILED: u8 = 2;

/// The exit status of a call of `tool` that answered `answer` (its structured content).
pub fn call_exit_status(
    reports_failure: ReportsFailure,
    tool: &str,
    answer: &serde_json::Value,
) -> u8 {
    if reports_failure(tool, answer) {
        CALL_REPORTS_FAILURE
    } else {
        CALL_OK
    }
}

enum Mode {
    Serve,
    Call { tool: String, arguments: String },
    ListTools,
}

struct Args {
    project: Option<PathBuf>,
    specs: Option<PathBuf>,
    mode: Mode,
}

fn usage(identity: &ServerIdentity) -> String {
    format!(
        "{name} {version} — {title}\n\n\
         USAGE:\n  {name} [--project DIR] [--specs DIR]                 serve MCP over stdio\n  \
         {name} [--project DIR] [--specs DIR] call TOOL [JSON]  run one tool, print its JSON result\n  \
         {name} [--project DIR] [--specs DIR] tools             print the tool list (names, schemas) as JSON\n\n\
         --project DIR  the project root (default: current directory); nothing outside it is written\n\
         --specs DIR    the spec root (default: PROJECT/specs; relative paths are from the current directory)\n\n\
         Exit status of `call`: 0 the tool ran and its answer is not a failure; 1 the tool ran and its answer\n\
         reports a failure (run_tests `ok: false`, a failing verdict); 2 the call failed (usage, bad JSON,\n\
         a tool error — the result explains it —, a protocol error).\n\
         Logs go to stderr; set RUST_LOG=debug for more.",
        name = identity.name,
        version = identity.version,
        title = identity.title,
    )
}

fn parse(mut raw: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut args = Args {
        project: None,
        specs: None,
        mode: Mode::Serve,
    };
    while let Some(arg) = raw.next() {
        match arg.as_str() {
            "-h" | "--help" => return Ok(None),
            "--project" => {
                args.project = Some(raw.next().ok_or("--project needs a directory")?.into())
            }
            "--specs" => args.specs = Some(raw.next().ok_or("--specs needs a directory")?.into()),
            "call" => {
                let tool = raw
                    .next()
                    .ok_or("`call` needs a tool name (list them with `tools`)")?;
                let arguments = raw.next().unwrap_or_else(|| "{}".into());
                if let Some(extra) = raw.next() {
                    return Err(format!("unexpected argument `{extra}` after the JSON arguments; quote the JSON as one argument"));
                }
                args.mode = Mode::Call { tool, arguments };
            }
            "tools" => args.mode = Mode::ListTools,
            other => return Err(format!("unknown argument `{other}`; see --help")),
        }
    }
    Ok(Some(args))
}

/// Log to stderr only: stdout is the MCP channel.
/// Logs to stderr (stdout may be the MCP channel), at `RUST_LOG` or else `default_level`.
pub fn init_tracing(default_level: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}

/// The whole `main` of a server binary.
#[allow(clippy::print_stdout)] // `call` and `tools` print their JSON to stdout by design.
pub async fn run<S, F>(identity: ServerIdentity, make_server: F) -> ExitCode
where
    S: ServerHandler,
    F: FnOnce(Project) -> anyhow::Result<S>,
{
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(args)) => args,
        Ok(None) => {
            eprintln!("{}", usage(&identity));
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("error: {message}\n\n{}", usage(&identity));
            return ExitCode::from(2);
        }
    };
    // A served session logs its life cycle; a scripted call only what went wrong.
    init_tracing(if matches!(args.mode, Mode::Serve) {
        "info"
    } else {
        "warn"
    });
    let project = match Project::new(args.project.as_deref(), args.specs.as_deref()) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: project root: {e}");
            return ExitCode::from(2);
        }
    };
    tracing::info!(server = identity.name, root = %project.root.display(), specs = %project.specs.display(), "starting");
    let server = match make_server(project) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e:#}");
            return ExitCode::from(2);
        }
    };
    match args.mode {
        Mode::Serve => match server.serve(rmcp::transport::stdio()).await {
            Ok(running) => match running.waiting().await {
                Ok(reason) => {
                    tracing::info!(?reason, "stopped");
                    ExitCode::SUCCESS
                }
                Err(e) => {
                    tracing::error!("server task failed: {e}");
                    ExitCode::FAILURE
                }
            },
            Err(e) => {
                tracing::error!("could not start the MCP session: {e}");
                ExitCode::FAILURE
            }
        },
        Mode::Call { tool, arguments } => {
            let arguments: serde_json::Value = match serde_json::from_str(&arguments) {
                Ok(v) => v,
                Err(e) => {
                    eprintln!("error: the tool arguments are not valid JSON: {e}");
                    return ExitCode::from(2);
                }
            };
            match crate::call_once(server, &tool, arguments).await {
                Ok(result) => {
                    let is_error = result.is_error == Some(true);
                    let output = match &result.structured_content {
                        Some(structured) => {
                            serde_json::to_string_pretty(structured).unwrap_or_default()
                        }
                        None => {
                            let text = crate::result_text(&result);
                            if is_error {
                                serde_json::to_string_pretty(&serde_json::json!({ "error": text }))
                                    .unwrap_or_default()
                            } else {
                                text
                            }
                        }
                    };
                    print_result(&output);
                    if is_error {
                        ExitCode::from(CALL_FAILED)
                    } else {
                        let answer = result.structured_content.unwrap_or_default();
                        ExitCode::from(call_exit_status(identity.reports_failure, &tool, &answer))
                    }
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::from(2)
                }
            }
        }
        Mode::ListTools => match crate::list_tools(server).await {
            Ok(tools) => {
                print_result(&serde_json::to_string_pretty(&tools).unwrap_or_default());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::from(2)
            }
        },
    }
}

/// A scripted call's result on stdout. A closed pipe (`… | head`) is the reader's choice, not
/// an error worth a panic: the rest is dropped quietly.
#[allow(clippy::print_stdout)]
fn print_result(text: &str) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|_| out.flush());
}

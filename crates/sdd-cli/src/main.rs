//! `sdd` — the command line for people and scripts: the whole loop from a shell.
//!
//! `validate` and `review` work on the spec files directly; `call`, `verify`, `status`,
//! `report` and `export` talk to the SDD servers, which run inside this process over a pipe
//! and speak the real MCP protocol (see `session`), so a shell sees what an agent sees. The
//! agent has no path to approval: `review` is only here, and a decision by `agent` is
//! refused. The flags, their checks and the help text are `cli`'s (clap); this file
//! dispatches to one module per command.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::{CommandFactory, Parser};

use cli::{Cli, Command, ExportFormat};

mod call;
mod cli;
mod export;
mod history;
mod incident;
mod init;
mod monitor;
mod operations;
mod report;
mod review;
mod runbook;
mod session;
mod status;
mod svg;
mod table;
mod trace;
mod validate;
mod verify;

/// Print without panicking when the reader has gone (`sdd validate | head`).
pub(crate) fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

macro_rules! sayln {
    ($($arg:tt)*) => { $crate::say(&format!("{}\n", format!($($arg)*))) };
}
pub(crate) use sayln;

fn main() -> ExitCode {
    // Commands the implementation server runs are supervised by this same executable; that
    // mode is not a command of the command line, so it is read before clap.
    // (Only then are the arguments read as UTF-8: clap takes any path.)
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == sdd_exec::process::SUPERVISE_FLAG)
    {
        let args: Vec<String> = std::env::args().skip(2).collect();
        return sdd_exec::supervisor::main(&args);
    }
    // A usage mistake exits here with clap's message and status 2; `--help` with 0.
    let cli = Cli::parse();
    // Server logs go to stderr, quiet unless `RUST_LOG` asks.
    sdd_mcp::init_tracing("warn,rmcp=error");
    match run(cli.command) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

fn run(command: Command) -> Result<ExitCode, String> {
    match command {
        Command::Init(args) => init::run(&args),
        Command::Validate(args) => validate::run(&args),
        Command::Review(args) => review::run(&args),
        Command::Verify(args) => block_on(verify::run(&args)),
        Command::Report(args) => block_on(report::run(&args)),
        Command::Export(args) => match args.format {
            ExportFormat::K6(args) => block_on(export::run(&args)),
            ExportFormat::Other(words) => Err(format!(
                "sdd exports a load test as `k6`, not `{}`: sdd export k6 …",
                words.first().map(String::as_str).unwrap_or_default()
            )),
        },
        Command::Status(args) => block_on(status::run(&args)),
        Command::Incident(args) => block_on(incident::run(&args)),
        Command::Trace(args) => block_on(trace::run(&args)),
        Command::Monitor(args) => block_on(monitor::run(&args)),
        Command::Runbook(args) => block_on(runbook::run(&args)),
        Command::Metrics(args) => match args.action {
            cli::MetricsAction::Import(args) => monitor::import(&args),
        },
        Command::History(args) => match args.action {
            cli::HistoryAction::Prune(args) => history::prune(&args),
        },
        Command::Call(args) => block_on(call::run(&args)),
        Command::Completions(args) => {
            let mut script = Vec::new();
            clap_complete::generate(
                clap_complete::Shell::from(args.shell),
                &mut Cli::command(),
                "sdd",
                &mut script,
            );
            say(&String::from_utf8_lossy(&script));
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn block_on(
    work: impl std::future::Future<Output = Result<ExitCode, String>>,
) -> Result<ExitCode, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))?
        .block_on(work)
}

/// `path` shown relative to the current directory when it is inside it.
pub(crate) fn shown(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    path.strip_prefix(&cwd)
        .unwrap_or(path)
        .display()
        .to_string()
}

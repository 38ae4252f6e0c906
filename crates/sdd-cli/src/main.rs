//! `sdd` — the command line for people and scripts.
//!
//! `sdd validate` prints diagnostics a person can read (file:line with the offending line shown,
//! like rustc) and exits non-zero on errors; `--format json` is for scripts. `sdd review` is the
//! human approval step: proposals are shown one by one with their rationale and approved or
//! rejected in the terminal, recording who and when. Scripted decisions must name the person
//! (`--by`). The agent has no path to approval here: MCP tools cannot run this, and a decision
//! by `agent` is refused.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use sdd_spec::analysis::validate::validate;
use sdd_spec::document::ReviewStatus;
use sdd_spec::review::{decide, now_rfc3339, Decision};
use sdd_spec::{Diagnostic, Severity};

const USAGE: &str = "sdd — specification-driven development

USAGE:
  sdd validate [--specs DIR] [--format text|json]
  sdd review   [--specs DIR] [--list] [--approve ID]... [--reject ID]... [--by NAME]

validate  check every spec file; exit 1 when there is an error
review    approve or reject proposed scenarios. Without --approve/--reject it asks about each
          proposal in turn (needs a terminal); scripted decisions need --by NAME.

--specs DIR   the spec root (default: ./specs)";

/// Print without panicking when the reader has gone (`sdd validate | head`).
fn say(text: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|_| out.flush());
}

macro_rules! sayln {
    ($($arg:tt)*) => { say(&format!("{}\n", format!($($arg)*))) };
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

struct Options {
    specs: PathBuf,
    json: bool,
    list: bool,
    approve: Vec<String>,
    reject: Vec<String>,
    by: Option<String>,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        specs: PathBuf::from("specs"),
        json: false,
        list: false,
        approve: Vec::new(),
        reject: Vec::new(),
        by: None,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--specs" => options.specs = PathBuf::from(value("--specs")?),
            "--format" => match value("--format")?.as_str() {
                "json" => options.json = true,
                "text" => options.json = false,
                other => return Err(format!("unknown format `{other}`; use text or json")),
            },
            "--list" => options.list = true,
            "--approve" => options.approve.push(value("--approve")?),
            "--reject" => options.reject.push(value("--reject")?),
            "--by" => options.by = Some(value("--by")?),
            other => return Err(format!("unknown argument `{other}`\n\n{USAGE}")),
        }
    }
    Ok(options)
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let Some((command, rest)) = args.split_first() else {
        sayln!("{USAGE}");
        return Ok(ExitCode::from(2));
    };
    match command.as_str() {
        "validate" => validate_command(&parse(rest)?),
        "review" => review_command(&parse(rest)?),
        "-h" | "--help" | "help" => {
            sayln!("{USAGE}");
            Ok(ExitCode::SUCCESS)
        }
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
    }
}

fn validate_command(options: &Options) -> Result<ExitCode, String> {
    let loaded = sdd_spec::load_dir(&options.specs).map_err(|e| e.to_string())?;
    let report = validate(&loaded.spec, &loaded.diagnostics);
    if options.json {
        sayln!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?
        );
    } else {
        for d in &report.diagnostics {
            sayln!("{}", render(d, &options.specs));
        }
        let s = &report.summary;
        sayln!(
            "{} files, {} domains, {} scenarios, {} constraints ({} machine-checkable): {} errors, {} warnings",
            s.files, s.domains, s.scenarios, s.constraints, s.checkable_constraints, s.errors, s.warnings
        );
    }
    Ok(if report.valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// rustc-style rendering: headline, `--> file:line:col`, the source line with a caret, help.
fn render(d: &Diagnostic, root: &std::path::Path) -> String {
    let severity = match d.severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Info => "info",
    };
    let mut out = format!("{severity}[{}]: {}\n", d.code, d.message);
    if let Some(file) = &d.file {
        let place = match (d.line, d.column) {
            (Some(l), Some(c)) => format!("{file}:{l}:{c}"),
            (Some(l), None) => format!("{file}:{l}"),
            _ => file.clone(),
        };
        let gutter = d.line.map(|l| l.to_string().len()).unwrap_or(1);
        out.push_str(&format!(
            "{:gutter$}--> {}\n",
            "",
            root.join(place).display()
        ));
        if let Some(line) = d.line {
            let text = std::fs::read_to_string(root.join(file)).unwrap_or_default();
            if let Some(source) = text.lines().nth(line.saturating_sub(1)) {
                let column = d.column.unwrap_or(1).max(1);
                out.push_str(&format!(
                    "{:gutter$} |\n{line} | {source}\n{:gutter$} | {}^\n",
                    "",
                    "",
                    " ".repeat(column - 1)
                ));
            }
        }
    }
    if let Some(help) = &d.help {
        for (i, line) in help.lines().enumerate() {
            out.push_str(&format!(
                "{:w$} {} {line}\n",
                "",
                if i == 0 { "= help:" } else { "       " },
                w = d.line.map(|l| l.to_string().len()).unwrap_or(1)
            ));
        }
    }
    out
}

fn review_command(options: &Options) -> Result<ExitCode, String> {
    let loaded = sdd_spec::load_dir(&options.specs).map_err(|e| e.to_string())?;
    let proposals: Vec<_> = loaded
        .spec
        .scenarios
        .iter()
        .filter(|s| s.status == ReviewStatus::Proposed)
        .collect();
    if options.list {
        for s in &proposals {
            sayln!("{}  ({})  {}", s.id, s.location, s.name);
        }
        sayln!("{} proposal(s) waiting for review", proposals.len());
        return Ok(ExitCode::SUCCESS);
    }
    let scripted = !options.approve.is_empty() || !options.reject.is_empty();
    if scripted {
        let by = options
            .by
            .as_deref()
            .ok_or("scripted decisions must name the person: add --by NAME")?;
        let decisions = options
            .approve
            .iter()
            .map(|id| (id, Decision::Approve))
            .chain(options.reject.iter().map(|id| (id, Decision::Reject)));
        for (id, decision) in decisions {
            let scenario = loaded
                .spec
                .scenario(id)
                .ok_or_else(|| format!("no scenario `{id}`; see `sdd review --list`"))?;
            if scenario.status != ReviewStatus::Proposed {
                return Err(format!(
                    "`{id}` is {:?}, not proposed; nothing to decide",
                    scenario.status
                )
                .to_lowercase());
            }
            decide(&options.specs, id, decision, by, &now_rfc3339()).map_err(|e| e.to_string())?;
            sayln!(
                "{} {id} (by {by})",
                if decision == Decision::Approve {
                    "approved"
                } else {
                    "rejected"
                }
            );
        }
        return Ok(ExitCode::SUCCESS);
    }
    if proposals.is_empty() {
        sayln!("no proposals waiting for review");
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    if !stdin.is_terminal() && options.by.is_none() {
        return Err(
            "interactive review needs a terminal; in scripts use --approve/--reject ID --by NAME"
                .into(),
        );
    }
    let mut lines = stdin.lock().lines();
    let mut ask = |prompt: &str| -> Option<String> {
        say(prompt);
        lines
            .next()
            .and_then(Result::ok)
            .map(|l| l.trim().to_string())
    };
    let by = match &options.by {
        Some(by) => by.clone(),
        None => ask("Your name (recorded as reviewer): ")
            .filter(|n| !n.is_empty())
            .ok_or("a review must name the reviewer")?,
    };
    let (mut approved, mut rejected) = (0, 0);
    for (i, s) in proposals.iter().enumerate() {
        sayln!("\n[{}/{}] {} — {}", i + 1, proposals.len(), s.id, s.name);
        sayln!(
            "    at {}; proposed by {}",
            s.location,
            s.proposed_by.as_deref().unwrap_or("?")
        );
        if let Some(r) = &s.rationale {
            sayln!("    why: {r}");
        }
        for g in &s.given {
            sayln!("    Given {g}");
        }
        if let Some(w) = &s.when {
            sayln!("    When  {w}");
        }
        for t in &s.then {
            sayln!("    Then  {t}");
        }
        loop {
            let Some(answer) = ask("[a]pprove, [r]eject, [s]kip, [q]uit? ") else {
                say("\n");
                return Ok(finish(approved, rejected));
            };
            let decision = match answer.as_str() {
                "a" | "approve" => Decision::Approve,
                "r" | "reject" => Decision::Reject,
                "s" | "skip" | "" => break,
                "q" | "quit" => return Ok(finish(approved, rejected)),
                _ => continue,
            };
            decide(&options.specs, &s.id, decision, &by, &now_rfc3339())
                .map_err(|e| e.to_string())?;
            match decision {
                Decision::Approve => approved += 1,
                Decision::Reject => rejected += 1,
            }
            break;
        }
    }
    Ok(finish(approved, rejected))
}

fn finish(approved: usize, rejected: usize) -> ExitCode {
    sayln!("{approved} approved, {rejected} rejected");
    ExitCode::SUCCESS
}

//! `sdd` — the command line for people and scripts: the whole loop from a shell.
//!
//! `validate` and `review` work on the spec files directly; `call`, `verify`, `report` and
//! `export` talk to the SDD servers, which run inside this process over a pipe and speak the
//! real MCP protocol (see `session`), so a shell sees what an agent sees. The agent has no path to
//! approval: `review` is only here, and a decision by `agent` is refused.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

mod call;
mod export;
mod init;
mod report;
mod review;
mod session;
mod svg;
mod table;
mod validate;
mod verify;

const USAGE: &str = "sdd — specification-driven development

USAGE:
  sdd init     [--project DIR]
  sdd validate [--project DIR] [--specs DIR] [--format text|json]
  sdd review   [--project DIR] [--specs DIR] [--list] [--approve ID]... [--reject ID]... [--by NAME]
  sdd verify   [--project DIR] [--profile NAME]... [--duration SECONDS] [--skip-constraints] [--strict]
  sdd report   [--project DIR] [--out FILE]
  sdd export k6 [--project DIR] [--constraint ID | --scope NAME] [--rate N] [--duration SECONDS] [--out FILE] [--plan-out FILE]
  sdd call     [--project DIR] SERVER TOOL [JSON]

init      scaffold specs/, sdd.yaml and the MCP registration (.mcp.json) into a project
validate  check every spec file; exit 1 when there is an error
review    approve, reject or edit proposed scenarios (and scenarios changed since approval).
          Without --approve/--reject it asks about each in turn (needs a terminal); scripted
          decisions need --by NAME. The name is recorded, not authenticated: your version
          control's review of the spec files is the final gate.
verify    the whole loop: validate, run the tests, trace them to scenarios, start the service,
          run the executable examples, verify the constraints, stop. The headline is VERIFIED
          only when everything was checked and passed, else NO FAILURES (naming what was not
          verified) or FAILED. Exit 1 on any failure; with --strict, exit 3 when nothing
          failed but something was not verified.
report    write a self-contained HTML page of the last verification and the trend of runs
export    write the load verify runs for the constraints as a k6 script (default
          .sdd/load/NAME.k6.js): the same arrival rate, endpoints and weights, per-user signed
          tokens, and the constraints' bounds as thresholds; `k6 run FILE` runs it, k6-operator
          on a cluster. --rate and --duration change every run; --plan-out also writes the same
          load as an sdd-load plan
call      call one tool of a server (specification or implementation); prints its JSON result

--project DIR  the project root (default: the current directory)
--specs DIR    the spec root (default: `specs` of sdd.yaml, else PROJECT/specs)";

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
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Commands the implementation server runs are supervised by this same executable.
    if args.first().map(String::as_str) == Some(sdd_exec::process::SUPERVISE_FLAG) {
        return sdd_exec::supervisor::main(&args[1..]);
    }
    // Server logs go to stderr, quiet unless `RUST_LOG` asks.
    sdd_mcp::init_tracing("warn,rmcp=error");
    match run(&args) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
    }
}

/// Options shared by the commands (each uses the ones it documents).
pub(crate) struct Options {
    pub project: PathBuf,
    specs: Option<PathBuf>,
    pub json: bool,
    pub list: bool,
    pub approve: Vec<String>,
    pub reject: Vec<String>,
    pub by: Option<String>,
    pub profiles: Vec<String>,
    pub duration: Option<u64>,
    pub skip_constraints: bool,
    /// `sdd verify --strict`: exit 3 when nothing failed but something was not verified.
    pub strict: bool,
    pub out: Option<PathBuf>,
    /// `sdd export`: one constraint, or one scope of `load.endpoints`.
    pub constraint: Option<String>,
    pub scope: Option<String>,
    /// `sdd export`: requests per second of every run.
    pub rate: Option<f64>,
    /// `sdd export --plan-out`: where the sdd-load plan goes.
    pub plan_out: Option<PathBuf>,
    /// Arguments that are not options (`call`'s SERVER TOOL JSON).
    pub positional: Vec<String>,
}

impl Options {
    /// The spec root: `--specs`, else `specs` of the project's sdd.yaml, else PROJECT/specs.
    pub fn specs(&self) -> PathBuf {
        if let Some(specs) = &self.specs {
            return specs.clone();
        }
        match sdd_spec::project::load_project_file(&self.project) {
            Ok(file) => self.project.join(file.specs),
            Err(_) => self.project.join("specs"),
        }
    }

    pub fn project_root(&self) -> Result<PathBuf, String> {
        self.project
            .canonicalize()
            .map_err(|e| format!("project {}: {e}", self.project.display()))
    }
}

/// The longest `--duration` of `sdd verify` (a verification here) and of `sdd export` (a load
/// test k6 may run for a day on a cluster).
const MAX_VERIFY_SECONDS: u64 = 120;
const MAX_EXPORT_SECONDS: u64 = 86_400;

fn parse(args: &[String], max_duration: u64) -> Result<Options, String> {
    let mut options = Options {
        project: PathBuf::from("."),
        specs: None,
        json: false,
        list: false,
        approve: Vec::new(),
        reject: Vec::new(),
        by: None,
        profiles: Vec::new(),
        duration: None,
        skip_constraints: false,
        strict: false,
        out: None,
        constraint: None,
        scope: None,
        rate: None,
        plan_out: None,
        positional: Vec::new(),
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let mut value = |name: &str| {
            it.next()
                .cloned()
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match arg.as_str() {
            "--project" => options.project = PathBuf::from(value("--project")?),
            "--specs" => options.specs = Some(PathBuf::from(value("--specs")?)),
            "--format" => match value("--format")?.as_str() {
                "json" => options.json = true,
                "text" => options.json = false,
                other => return Err(format!("unknown format `{other}`; use text or json")),
            },
            "--list" => options.list = true,
            "--approve" => options.approve.push(value("--approve")?),
            "--reject" => options.reject.push(value("--reject")?),
            "--by" => options.by = Some(value("--by")?),
            "--profile" => options.profiles.push(value("--profile")?),
            "--duration" => {
                let text = value("--duration")?;
                let seconds = text
                    .parse()
                    .ok()
                    .filter(|s| (1..=max_duration).contains(s))
                    .ok_or_else(|| {
                        format!("--duration takes 1 to {max_duration} seconds, not `{text}`")
                    })?;
                options.duration = Some(seconds);
            }
            "--skip-constraints" => options.skip_constraints = true,
            "--strict" => options.strict = true,
            "--out" => options.out = Some(PathBuf::from(value("--out")?)),
            "--constraint" => options.constraint = Some(value("--constraint")?),
            "--scope" => options.scope = Some(value("--scope")?),
            "--rate" => {
                let text = value("--rate")?;
                let rate = text
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r > 0.0)
                    .ok_or_else(|| {
                        format!("--rate takes requests per second above 0, not `{text}`")
                    })?;
                options.rate = Some(rate);
            }
            "--plan-out" => options.plan_out = Some(PathBuf::from(value("--plan-out")?)),
            other if other.starts_with("--") => {
                return Err(format!("unknown option `{other}`\n\n{USAGE}"))
            }
            other => options.positional.push(other.to_string()),
        }
    }
    Ok(options)
}

fn run(args: &[String]) -> Result<ExitCode, String> {
    let Some((command, rest)) = args.split_first() else {
        sayln!("{USAGE}");
        return Ok(ExitCode::from(2));
    };
    if matches!(command.as_str(), "-h" | "--help" | "help") {
        sayln!("{USAGE}");
        return Ok(ExitCode::SUCCESS);
    }
    let max_duration = if command == "export" {
        MAX_EXPORT_SECONDS
    } else {
        MAX_VERIFY_SECONDS
    };
    let options = parse(rest, max_duration)?;
    let takes_positional = matches!(command.as_str(), "call" | "export");
    if !takes_positional && !options.positional.is_empty() {
        return Err(format!(
            "unexpected argument `{}`\n\n{USAGE}",
            options.positional[0]
        ));
    }
    match command.as_str() {
        "init" => init::run(&options),
        "validate" => validate::run(&options),
        "review" => review::run(&options),
        "verify" => block_on(verify::run(&options)),
        "report" => report::run(&options),
        "call" => block_on(call::run(&options)),
        "export" => block_on(export::run(&options)),
        other => Err(format!("unknown command `{other}`\n\n{USAGE}")),
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

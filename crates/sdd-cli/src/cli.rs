//! The command line as clap reads it: every command, its flags, their checks and the help
//! text, in one place. Each command accepts only its own flags; a mistake is a usage error
//! (exit 2) with clap's suggestion. The commands' modules take these structs.
//!
//! Help texts are written with their line breaks (`verbatim_doc_comment`): clap is built
//! without `wrap_help`, so it does not wrap them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "sdd",
    version,
    about = "sdd — specification-driven development",
    subcommand_required = true,
    arg_required_else_help = true,
    after_help = "`sdd COMMAND --help` says what a command does and takes."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// scaffold specs/, sdd.yaml and the MCP registration (.mcp.json) into a project
    ///
    /// sdd.yaml gets a test profile for each stack found at the project root:
    ///   Cargo.toml                               cargo test (libtest output)
    ///   pyproject.toml, setup.py, pytest.ini,
    ///   requirements.txt                         python3 -m pytest (pytest output)
    ///   package.json with a Jest or Vitest
    ///   test script                              npm test with a JSON report
    ///   go.mod                                   go test -json
    /// When it finds none it says so, here and in sdd.yaml, and `tests:` is yours to fill in.
    /// specs/ gets one proposed scenario to rewrite, .gitignore gets .sdd/, and .mcp.json is
    /// merged with the servers already registered there. Nothing that exists is overwritten.
    #[command(verbatim_doc_comment)]
    Init(InitArgs),

    /// check every spec file; exit 1 when there is an error
    ///
    /// Diagnostics are rendered like rustc's (file:line, the line, a caret, help), or as JSON
    /// for scripts with --format json.
    #[command(verbatim_doc_comment)]
    Validate(ValidateArgs),

    /// approve, reject or edit proposed scenarios (and scenarios changed since approval)
    ///
    /// Without --approve/--reject it asks about each in turn (needs a terminal): [a]pprove /
    /// [r]eject / [e]dit ($EDITOR) / [s]kip / [q]uit. Scripted decisions need --by NAME.
    /// The name is recorded, not authenticated: your version control's review of the spec
    /// files is the final gate. A decision records `status`, `reviewed_by` and `reviewed_at`
    /// in the spec file, editing only that scenario's lines; a reviewer named `agent` (or
    /// none) is refused.
    #[command(verbatim_doc_comment)]
    Review(ReviewArgs),

    /// the whole loop: validate, run the tests, start the service, check examples and constraints
    ///
    /// In order: validate the specs (it stops on errors) → every test profile of sdd.yaml,
    /// traced to scenarios → start the service → the executable examples → the constraints
    /// (probes, then load runs) → the consistency check after load → stop the service.
    ///
    /// The headline is VERIFIED only when everything was checked and passed, else NO FAILURES
    /// (naming what was not verified) or FAILED. Exit 1 on any failure; with --strict, exit 3
    /// when nothing failed but something was not verified.
    ///
    /// The end is one table per scenario and per constraint, saved to .sdd/last-verify.json
    /// (`sdd report` renders it); every run also lands in the history.
    #[command(verbatim_doc_comment)]
    Verify(VerifyArgs),

    /// write a self-contained HTML page of the last verification, the trend of runs and operations
    ///
    /// The page (default .sdd/report.html) has inline SVG, no scripts and needs no network.
    /// After the verification it has an operations part, each section saying when it has
    /// nothing to show:
    ///   scenario health     each approved scenario's health (monitoring data: `sdd monitor`,
    ///                       `sdd metrics import`, or a Prometheus under monitoring.source)
    ///   constraint console  each constraint's value, limit, headroom and error budget, a trend
    ///                       line of its measure over monitoring.window, and its time to
    ///                       violation at 7, 30 and 90 days (the trend over
    ///                       monitoring.degradation.window)
    ///   incidents           the last 10 recorded in the run history, with the top hypotheses
    ///                       of their analysis and the learnings proposed from them
    ///   transaction         one transaction's steps as a waterfall: --trace KEY, else the one
    ///                       behind the latest incident's top hypothesis (the first event its
    ///                       evidence cites)
    #[command(verbatim_doc_comment)]
    Report(ReportArgs),

    /// write the load verify runs for the constraints as a k6 script
    ///
    /// One format: `sdd export k6` (see `sdd export k6 --help`).
    #[command(verbatim_doc_comment)]
    Export(ExportArgs),

    /// watch the running service: scrape its metrics and run the scenarios as synthetic journeys
    ///
    /// Runs in the foreground until Ctrl-C (or --for SECONDS, or --once). Every
    /// monitoring.scrape.interval_seconds (15) it scrapes each of monitoring.scrape.targets
    /// (Prometheus or OpenMetrics text; a host other than loopback must be listed under
    /// targets.allowed_hosts) into .sdd/metrics.sqlite3, with `job`, `instance` and `up` as
    /// Prometheus adds them. Every monitoring.journeys.interval_seconds (60; 0 turns them off)
    /// it runs every approved scenario's executable examples against service.base_url and
    /// records success and duration per scenario (sdd_journey_success,
    /// sdd_journey_duration_seconds). The monitoring server and `sdd status` read the store.
    #[command(verbatim_doc_comment)]
    Monitor(MonitorArgs),

    /// the service against the spec now: each approved scenario's health, each constraint's headroom
    ///
    /// Asks the monitoring server (the one `sdd call monitoring …` reaches) about the window
    /// ending now, by default monitoring.window of sdd.yaml (1h):
    ///   scenario_health      each approved scenario: healthy, partial (one side has no data),
    ///                        failing or no data, from the service's outcome counts and the
    ///                        synthetic journeys `sdd monitor` runs, with the last failure line
    ///   constraint_headroom  each constraint judged on the metrics: value against its limit,
    ///                        headroom, error budget left; those metrics cannot judge are listed
    ///                        last with why
    /// The metrics are .sdd/metrics.sqlite3 (`sdd monitor`, `sdd metrics import`) or the
    /// Prometheus under monitoring.source. Exit 0 when nothing failed, 1 when a scenario is
    /// failing or a constraint violated, 2 when the metrics cannot be read (no store yet, an
    /// unreachable Prometheus).
    #[command(verbatim_doc_comment)]
    Status(StatusArgs),

    /// what broke, since when, and the hypotheses that explain it, ranked by evidence
    ///
    /// Runs the debugger server's analyze_incident (what `sdd call debugger analyze_incident`
    /// runs) over debugger.sources of sdd.yaml and the service output the implementation
    /// server captured (.sdd/service-logs), with the metrics, git and the run history around
    /// them. Without --start the onset is found as a change point; the baseline is what was
    /// read before the incident window. It prints:
    ///   the headline      what broke and the top hypothesis, or that nothing rose above noise
    ///   windows, onset    the baseline and incident windows, and how the onset was found
    ///   what broke        each scenario or constraint (or step) worse: before → after, since
    ///   hypotheses        ranked, each with its evidence for and against (claims, key figures,
    ///                     the file:line of events behind it) and how to verify it
    ///   symptoms          changes after the onset: consequences, never ranked as causes
    ///   not reached       what could not be looked at (no metric store, not a git repository,
    ///                     no source), and the sources read
    /// --format json prints the tool's answer as it is.
    /// Exit 0 when analysed (whether or not something broke), 1 when the tool refused (a source
    /// outside the project, a window it cannot take), 2 on a usage mistake.
    #[command(verbatim_doc_comment)]
    Incident(IncidentArgs),

    /// one business transaction, step by step, with the decisions it took
    ///
    /// KEY is a trace ID (32 hex digits, or trace:ID) or a business key: task_id=42, or a bare
    /// value looked up in debugger.business_keys of sdd.yaml (every trace that touched it:
    /// its creation, completion and reads). Runs the debugger server's trace_transaction and
    /// prints a row per step: its time since the first event, its duration, the step indented
    /// by its depth in the span tree, its outcome (expected and actual), its decision
    /// (business rule and decision factors) and the file:line it was read from. Spans whose
    /// parent is missing or that form a cycle are shown as roots and named below.
    /// --format json prints the tool's answer as it is.
    /// Exit 0 when the transaction was found, 1 when nothing was found or the tool refused,
    /// 2 on a usage mistake.
    #[command(verbatim_doc_comment)]
    Trace(TraceArgs),

    /// write a scenario's or constraint's runbook, from the spec and its recorded incidents
    ///
    /// Runs the debugger server's generate_runbook for ID (a scenario or constraint ID) and
    /// writes the Markdown to --out (default runbooks/ID.md, inside the project and outside
    /// the spec directory; only a file generate_runbook wrote is replaced). The runbook says,
    /// in the spec's words: how it is detected (the alerts generate_alert_rules gives), how to
    /// verify it (the tools to call, what healthy answers), likely causes (recorded incidents
    /// first, then the spec's dependencies, interaction steps and refusing constraints),
    /// remediation (past resolutions, the spec's declared degradation and failure handling)
    /// and escalation. Every line names its source; what neither the spec nor an incident says
    /// is printed as a gap.
    /// Exit 0 when written, 1 when the tool refused (no such ID, a path it may not write),
    /// 2 on a usage mistake.
    #[command(verbatim_doc_comment)]
    Runbook(RunbookArgs),

    /// the embedded metric store: `sdd metrics import FILE`
    #[command(verbatim_doc_comment)]
    Metrics(MetricsArgs),

    /// the run history (.sdd/history.sqlite3): `sdd history prune`
    #[command(verbatim_doc_comment)]
    History(HistoryArgs),

    /// call one tool of a server (specification, implementation, monitoring or debugger); prints its JSON result
    ///
    /// TOOL `tools` lists the server's tools with their schemas. Exit status: 0 the tool ran
    /// and its answer is not a failure; 1 the tool ran and its answer reports a failure
    /// (run_tests `ok: false`, check_scenarios with failing scenarios, verify_constraints
    /// `failed`, validate_spec not valid, scenario_health / constraint_headroom failing);
    /// 2 the call failed: a tool error (its text on stderr), bad JSON, a usage mistake.
    #[command(
        verbatim_doc_comment,
        override_usage = "sdd call [--project DIR] SERVER TOOL [JSON]"
    )]
    Call(CallArgs),

    /// print a shell completion script (bash, zsh or fish) on stdout
    ///
    /// For example:
    ///   sdd completions bash > ~/.local/share/bash-completion/completions/sdd
    ///   sdd completions zsh > ~/.zfunc/_sdd          (with ~/.zfunc in $fpath)
    ///   sdd completions fish > ~/.config/fish/completions/sdd.fish
    #[command(verbatim_doc_comment)]
    Completions(CompletionsArgs),
}

// The structs below carry no `///` comments: clap would take them for the command's help,
// which the variants above give.

#[derive(Debug, Args)]
pub struct ProjectArg {
    /// the project root (default: the current directory)
    #[arg(
        long,
        value_name = "DIR",
        default_value = ".",
        hide_default_value = true
    )]
    pub project: PathBuf,
}

impl ProjectArg {
    pub fn root(&self) -> Result<PathBuf, String> {
        self.project
            .canonicalize()
            .map_err(|e| format!("project {}: {e}", self.project.display()))
    }
}

// `--project` and `--specs`, for the commands that read the spec.
#[derive(Debug, Args)]
pub struct SpecsArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// the spec root (default: `specs` of sdd.yaml, else PROJECT/specs)
    #[arg(long, value_name = "DIR")]
    specs: Option<PathBuf>,
}

impl SpecsArgs {
    /// The spec root: `--specs`, else `specs` of the project's sdd.yaml, else PROJECT/specs.
    pub fn specs(&self) -> PathBuf {
        if let Some(specs) = &self.specs {
            return specs.clone();
        }
        let project = &self.project.project;
        match sdd_spec::project::load_project_file(project) {
            Ok(file) => project.join(file.specs),
            Err(_) => project.join("specs"),
        }
    }
}

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    pub project: ProjectArg,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub specs: SpecsArgs,
    /// text (rustc-style) or json
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub specs: SpecsArgs,
    /// list the scenarios waiting for review, and decide nothing
    #[arg(long)]
    pub list: bool,
    /// approve this scenario (repeatable); needs --by
    #[arg(long, value_name = "ID")]
    pub approve: Vec<String>,
    /// reject this scenario (repeatable); needs --by
    #[arg(long, value_name = "ID")]
    pub reject: Vec<String>,
    /// the person deciding, recorded as `reviewed_by` (never `agent`)
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

/// The longest `--duration` of `sdd verify` (a verification here) and of `sdd export` (a load
/// test k6 may run for a day on a cluster).
const MAX_VERIFY_SECONDS: u64 = 120;
const MAX_EXPORT_SECONDS: u64 = 86_400;

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub specs: SpecsArgs,
    /// run only this test profile of sdd.yaml (repeatable; default: every profile)
    #[arg(long = "profile", value_name = "NAME")]
    pub profiles: Vec<String>,
    /// measured seconds of each load run, 1 to 120 (default: load.duration_seconds of sdd.yaml)
    #[arg(long, value_name = "SECONDS", value_parser = verify_seconds, allow_negative_numbers = true)]
    pub duration: Option<u64>,
    /// run the tests and the examples, not the constraints
    #[arg(long)]
    pub skip_constraints: bool,
    /// exit 3 when nothing failed but something was not verified (NO FAILURES)
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// where the page goes, inside the project (default: .sdd/report.html)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// the transaction the operations section shows: a trace ID or a business key such as
    /// task_id=42 (default: the one behind the latest incident's top hypothesis)
    #[arg(long, value_name = "KEY")]
    pub trace: Option<String>,
}

#[derive(Debug, Args)]
pub struct MonitorArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// one round (every target scraped, the journeys run once), then exit
    #[arg(long, conflicts_with = "for_seconds")]
    pub once: bool,
    /// stop after this many seconds (default: until Ctrl-C)
    #[arg(long = "for", value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub for_seconds: Option<u64>,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// how far back from now: 30m, 1h, 7d, 1h30m (default: monitoring.window of sdd.yaml, 1h)
    #[arg(long, value_name = "DURATION", value_parser = window)]
    pub window: Option<String>,
    /// text (a board) or json (both answers as the server gives them, every page)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct IncidentArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// read only events since then: a duration back from now (6h, 2d) or an RFC 3339 time (default: every event)
    #[arg(long, value_name = "WHEN", value_parser = time_argument)]
    pub since: Option<String>,
    /// the incident window's start, a duration back from now or an RFC 3339 time (default: the onset found)
    #[arg(long, value_name = "WHEN", value_parser = time_argument)]
    pub start: Option<String>,
    /// the incident window's end (default: now); needs --start
    #[arg(long, value_name = "WHEN", value_parser = time_argument, requires = "start")]
    pub end: Option<String>,
    /// at most this many hypotheses, 1 to 10 (default 5)
    #[arg(long, value_name = "N", value_parser = max_hypotheses)]
    pub max: Option<usize>,
    /// text (for people) or json (the tool's answer)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// a trace ID, or a business key such as task_id=42
    #[arg(value_name = "KEY")]
    pub key: String,
    /// show at most this many steps, 1 to 500 (default 100); the answer says how many there are
    #[arg(long, value_name = "N", value_parser = steps_limit)]
    pub limit: Option<usize>,
    /// text (a row per step) or json (the tool's answer)
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct RunbookArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// the scenario or constraint ID
    #[arg(value_name = "ID")]
    pub id: String,
    /// where to write it, relative to the project root (default runbooks/ID.md)
    #[arg(long, value_name = "FILE")]
    pub out: Option<String>,
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(subcommand)]
    pub action: HistoryAction,
}

#[derive(Debug, Subcommand)]
pub enum HistoryAction {
    /// remove old runs' rows from .sdd/history.sqlite3 and shrink the file
    ///
    /// Keeps, for each test profile (and the examples, each constraint selection), the per-test
    /// rows of its latest runs and the runs themselves with their per-scenario results for many
    /// more: `history.keep_test_rows` (5) and `history.keep_runs` (500) of sdd.yaml, unless
    /// given here. The latest run of each is never removed, so regressions come out the same.
    /// Runs after every recorded run anyway; this also gives the space back (VACUUM) and says
    /// what it removed and the file's size before and after. Incidents are never removed.
    #[command(verbatim_doc_comment)]
    Prune(PruneArgs),
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// keep this many latest runs of each profile, with their scenario results (at least 1)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub keep_runs: Option<u64>,
    /// keep the per-test rows of this many latest runs of each profile (at least 2)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..))]
    pub keep_test_rows: Option<u64>,
    /// say what would be removed, remove nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    #[command(subcommand)]
    pub action: MetricsAction,
}

#[derive(Debug, Subcommand)]
pub enum MetricsAction {
    /// load OpenMetrics text with timestamps into .sdd/metrics.sqlite3
    ///
    /// The format `promtool tsdb create-blocks-from openmetrics` reads: `name{labels} value
    /// timestamp` lines (timestamps in seconds), `# TYPE`/`# HELP`, ending in `# EOF`. Streamed;
    /// samples already stored are kept as they are, so importing again adds only what is
    /// missing. Lines that cannot be read are reported by number and skipped.
    #[command(verbatim_doc_comment)]
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// the OpenMetrics file
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub format: ExportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ExportFormat {
    /// the constraints' load as a k6 script; prints where it went and `k6 run …`
    ///
    /// Writes the load verify runs for the constraints as a k6 script (default
    /// .sdd/load/NAME.k6.js): the same arrival rate, endpoints and weights, per-user signed
    /// tokens, and the constraints' bounds as thresholds; `k6 run FILE` runs it, k6-operator
    /// on a cluster. --rate and --duration change every run; --plan-out also writes the same
    /// load as an sdd-load plan.
    #[command(verbatim_doc_comment)]
    K6(K6Args),
    /// Any other format: refused with the formats there are (not clap's generic message).
    #[command(external_subcommand)]
    Other(Vec<String>),
}

#[derive(Debug, Args)]
pub struct K6Args {
    #[command(flatten)]
    pub project: ProjectArg,
    /// only this constraint (default: every constraint verified with load)
    #[arg(long, value_name = "ID", conflicts_with = "scope")]
    pub constraint: Option<String>,
    /// instead of a constraint: the endpoints of this scope of `load.endpoints` (reads, writes, all, …)
    #[arg(long, value_name = "NAME")]
    pub scope: Option<String>,
    /// requests per second of every run, instead of the constraints' rates
    #[arg(long, value_name = "N", value_parser = rate, allow_negative_numbers = true)]
    pub rate: Option<f64>,
    /// measured seconds of every run, 1 to 86400 (default: load.duration_seconds of sdd.yaml)
    #[arg(long, value_name = "SECONDS", value_parser = export_seconds, allow_negative_numbers = true)]
    pub duration: Option<u64>,
    /// where the script goes, inside the project, ending in .js (default: .sdd/load/NAME.k6.js)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// also write the same load as an sdd-load plan (JSON, for `sdd-load --plan FILE`)
    #[arg(long, value_name = "FILE")]
    pub plan_out: Option<PathBuf>,
}

// SERVER and TOOL are optional here so that `call.rs` says what is missing in its own words
// (`usage: sdd call SERVER TOOL [JSON]`), as scripts have seen it; the usage line above shows
// them as required.
#[derive(Debug, Args)]
pub struct CallArgs {
    #[command(flatten)]
    pub project: ProjectArg,
    /// specification or implementation
    #[arg(value_name = "SERVER")]
    pub server: Option<String>,
    /// the tool to call, or `tools` for the server's tool list
    #[arg(value_name = "TOOL")]
    pub tool: Option<String>,
    /// the tool's arguments: one JSON object, quoted as one argument (default: {})
    #[arg(value_name = "JSON")]
    pub json: Option<String>,
    /// Anything after the JSON: refused with a hint about quoting.
    #[arg(hide = true)]
    pub extra: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// the shell to complete in
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    Bash,
    Zsh,
    Fish,
}

impl From<Shell> for clap_complete::Shell {
    fn from(shell: Shell) -> Self {
        match shell {
            Shell::Bash => clap_complete::Shell::Bash,
            Shell::Zsh => clap_complete::Shell::Zsh,
            Shell::Fish => clap_complete::Shell::Fish,
        }
    }
}

fn verify_seconds(text: &str) -> Result<u64, String> {
    seconds(text, MAX_VERIFY_SECONDS)
}

fn export_seconds(text: &str) -> Result<u64, String> {
    seconds(text, MAX_EXPORT_SECONDS)
}

fn seconds(text: &str, max: u64) -> Result<u64, String> {
    text.parse()
        .ok()
        .filter(|s| (1..=max).contains(s))
        .ok_or_else(|| format!("--duration takes 1 to {max} seconds, not `{text}`"))
}

fn window(text: &str) -> Result<String, String> {
    sdd_monitoring::window::parse_duration(text).map(|_| text.trim().to_string())
}

/// A time the debugger takes: RFC 3339, or a duration back from now.
fn time_argument(text: &str) -> Result<String, String> {
    let text = text.trim();
    if chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || sdd_monitoring::window::parse_duration(text).is_ok()
    {
        return Ok(text.to_string());
    }
    Err(format!(
        "`{text}` is neither a duration back from now (30m, 6h, 7d) nor an RFC 3339 time (2026-12-01T03:12:00Z)"
    ))
}

fn max_hypotheses(text: &str) -> Result<usize, String> {
    count(text, "--max", 10, "hypotheses")
}

fn steps_limit(text: &str) -> Result<usize, String> {
    count(text, "--limit", 500, "steps")
}

fn count(text: &str, flag: &str, max: usize, what: &str) -> Result<usize, String> {
    text.parse()
        .ok()
        .filter(|n| (1..=max).contains(n))
        .ok_or_else(|| format!("{flag} takes 1 to {max} {what}, not `{text}`"))
}

fn rate(text: &str) -> Result<f64, String> {
    text.parse::<f64>()
        .ok()
        .filter(|r| r.is_finite() && *r > 0.0)
        .ok_or_else(|| format!("--rate takes requests per second above 0, not `{text}`"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("sdd").chain(args.iter().copied()))
    }

    #[test]
    fn each_command_takes_only_its_own_flags() {
        assert!(parse(&["verify", "--strict"]).is_ok());
        for args in [
            &["report", "--strict"][..],
            &["validate", "--rate", "5"],
            &["init", "--specs", "x"],
            &["call", "--format", "json", "spec", "tools"],
            &["export", "k6", "--strict"],
            &["completions", "bash", "--project", "."],
        ] {
            let e = parse(args).unwrap_err();
            assert_eq!(
                e.kind(),
                clap::error::ErrorKind::UnknownArgument,
                "{args:?}"
            );
            assert_eq!(e.exit_code(), 2);
        }
    }

    #[test]
    fn values_are_checked_with_the_known_wording() {
        let e = parse(&["verify", "--duration", "121"]).unwrap_err();
        assert!(e
            .to_string()
            .contains("--duration takes 1 to 120 seconds, not `121`"));
        let e = parse(&["export", "k6", "--duration", "0"]).unwrap_err();
        assert!(e.to_string().contains("--duration takes 1 to 86400"));
        assert!(parse(&["export", "k6", "--duration", "86400"]).is_ok());
        let e = parse(&["verify", "--duration", "-5"]).unwrap_err();
        assert!(e
            .to_string()
            .contains("--duration takes 1 to 120 seconds, not `-5`"));
        for bad in ["0", "-1", "NaN", "inf", "x"] {
            let e = parse(&["export", "k6", "--rate", bad]).unwrap_err();
            assert!(
                e.to_string()
                    .contains("--rate takes requests per second above 0"),
                "{bad}: {e}"
            );
        }
        let e = parse(&["export", "k6", "--constraint", "a", "--scope", "b"]).unwrap_err();
        assert_eq!(e.kind(), clap::error::ErrorKind::ArgumentConflict);
    }

    #[test]
    fn repeated_flags_and_positionals_are_kept_in_order() {
        let Command::Review(review) = parse(&[
            "review",
            "--approve",
            "a",
            "--reject",
            "b",
            "--approve",
            "c",
        ])
        .unwrap()
        .command
        else {
            panic!("review")
        };
        assert_eq!(review.approve, ["a", "c"]);
        assert_eq!(review.reject, ["b"]);
        let Command::Call(call) = parse(&["call", "spec", "t", "{}", "x"]).unwrap().command else {
            panic!("call")
        };
        assert_eq!(
            (
                call.server.as_deref(),
                call.tool.as_deref(),
                call.json.as_deref()
            ),
            (Some("spec"), Some("t"), Some("{}"))
        );
        assert_eq!(call.extra, ["x"]);
        let Command::Export(export) = parse(&["export", "jmeter"]).unwrap().command else {
            panic!("export")
        };
        assert!(matches!(export.format, ExportFormat::Other(ref f) if f == &["jmeter"]));
    }
}

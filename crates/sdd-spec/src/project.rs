//! The project file `sdd.yaml`: how to run the project under specification — where the specs
//! are, named test profiles, the service and its readiness probe, and which hosts load and probe
//! traffic may target.
//!
//! Commands come only from this file, never from tool arguments: tools choose a profile by name.
//! Published as `specs/sdd-project.schema.json`.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diagnostic::Diagnostic;
use crate::limits::{read_yaml_file, strip_bom, Limits, ReadProblem};
use crate::positions::PositionIndex;

/// `sdd.yaml` at the project root.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "SDD project file (sdd.yaml)")]
pub struct ProjectFile {
    /// The spec root, relative to the project root (default `specs`).
    #[serde(default = "default_specs")]
    pub specs: String,
    /// Named test profiles, e.g. `unit`, `api`. Tools run them by name.
    #[serde(default)]
    pub tests: BTreeMap<String, TestProfile>,
    /// How to start, probe and stop the service under specification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceConfig>,
    /// Where load and probe traffic may go. Loopback only unless hosts are listed here.
    #[serde(default)]
    pub targets: AllowedHostsConfig,
    /// The requests performance constraints are measured with, and the limits of a run.
    #[serde(default)]
    pub load: LoadConfig,
    /// How SDD authenticates as a client of the service (for examples, load and probes).
    #[serde(default)]
    pub auth: AuthConfig,
    /// Routes the service has besides those the examples and `load.endpoints` reach, as
    /// `METHOD /path` with `{name}` for a path parameter (`POST /tasks/{id}/complete`). Probes
    /// for "all endpoints …" must reach every one of them to pass.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<String>,
    /// The service's OpenAPI document (JSON or YAML, relative to the project root): all of its
    /// operations count as routes too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openapi: Option<String>,
    /// How the running service is watched: where metrics come from, what `sdd monitor`
    /// scrapes and probes, and which series measure which constraint.
    #[serde(default)]
    pub monitoring: MonitoringConfig,
    /// Where the debugger reads the service's semantic events and logs, and which attributes
    /// identify a business transaction. The service output SDD captured when it started the
    /// service (`.sdd/service-logs/`) is always read too.
    #[serde(default)]
    pub debugger: DebuggerConfig,
    /// How much of the past the run history (`.sdd/history.sqlite3`) keeps. Applied after
    /// every recorded run; `sdd history prune` applies it at once and shrinks the file.
    #[serde(default)]
    pub history: HistoryConfig,
}

/// The `history` section: what the run history keeps, counted in runs of each test profile
/// (and of the executable examples, and of each constraint selection).
///
/// Per-test rows are nearly all of the file (a 27,000-test suite made 32 MB in ten runs) and
/// only recent runs' are read (`compare_runs` diffs two runs test by test, nearly always the
/// last two); a run's record and its one status per scenario are small and feed history,
/// trends and regressions, so they are kept far longer. Counted in runs, not days, so a profile
/// run rarely keeps as much of its past as one run every minute. The latest run of each profile
/// is never removed, so regressions (against the previous run of the same profile) are the
/// same with or without pruning.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct HistoryConfig {
    /// Runs of each profile whose per-test rows are kept: the latest N (default 5; at least
    /// 2, so the latest can be compared test by test with the one before).
    #[serde(default = "default_keep_test_rows")]
    #[schemars(range(min = 2))]
    pub keep_test_rows: usize,
    /// Runs of each profile kept at all, with their per-scenario results: the latest N
    /// (default 500; at least 1).
    #[serde(default = "default_keep_runs")]
    #[schemars(range(min = 1))]
    pub keep_runs: usize,
}

impl Default for HistoryConfig {
    fn default() -> Self {
        HistoryConfig {
            keep_test_rows: default_keep_test_rows(),
            keep_runs: default_keep_runs(),
        }
    }
}

fn default_keep_test_rows() -> usize {
    5
}

fn default_keep_runs() -> usize {
    500
}

/// Where the captured output of the service SDD started is kept, relative to the project root:
/// one `service-<started>-<pid>.jsonl` file per start (written by `sdd-exec`, read by the
/// debugger).
pub const SERVICE_LOGS_DIR: &str = ".sdd/service-logs";

/// The `debugger` section: read by the debugger server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DebuggerConfig {
    /// Event and log files to read, besides the captured service output (default: none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<EventSourceConfig>,
    /// Attribute names a business transaction can be looked up by (`task_id`, `order_id`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub business_keys: Vec<String>,
}

/// One event or log source of the debugger.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventSourceConfig {
    /// The file, relative to the project root and inside it (`logs/events.jsonl`). A `*` in
    /// the file name (not in a directory) matches any characters: `logs/app-*.jsonl`.
    pub path: String,
    /// How its lines are read (default `auto`: OTLP JSON, JSON lines or text, line by line).
    #[serde(default)]
    pub format: EventFormat,
    /// Where the convention's fields are in each JSON record, as dotted paths
    /// (`{timestamp: ts, event: msg, scenario: fields.scenario}`); a field not named here is
    /// read under its own name.
    #[serde(default, skip_serializing_if = "EventFieldMap::is_empty")]
    pub fields: EventFieldMap,
    /// More attributes, each name to a dotted path in the record (`{db_shard: ctx.shard}`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

/// The format of an event source.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventFormat {
    /// Each line on its own: an OTLP JSON request, a JSON-lines event, or a text line.
    #[default]
    Auto,
    /// One JSON object per line (the semantic event convention, through `fields`).
    JsonLines,
    /// OTLP JSON: one `ExportLogsServiceRequest` or `ExportTraceServiceRequest` per line.
    OtlpJson,
    /// Plain text lines (mined for templates), a leading timestamp recognised.
    Text,
    /// The service output SDD captured (`.sdd/service-logs/*.jsonl`).
    ServiceCapture,
}

/// The convention's fields (README, "Semantic event convention"), each to a dotted path in the
/// record. Only these names are fields; anything else is an error naming them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventFieldMap {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business_rule: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected_outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub actual_outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decision_factors: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_version: Option<String>,
}

impl EventFieldMap {
    /// Each mapped field as (convention name, dotted path), in the convention's order.
    pub fn entries(&self) -> Vec<(&'static str, &str)> {
        let all = [
            ("timestamp", &self.timestamp),
            ("event", &self.event),
            ("message", &self.message),
            ("level", &self.level),
            ("scenario", &self.scenario),
            ("step", &self.step),
            ("constraint", &self.constraint),
            ("business_rule", &self.business_rule),
            ("expected_outcome", &self.expected_outcome),
            ("actual_outcome", &self.actual_outcome),
            ("outcome", &self.outcome),
            ("decision_factors", &self.decision_factors),
            ("attributes", &self.attributes),
            ("trace_id", &self.trace_id),
            ("span_id", &self.span_id),
            ("parent_span_id", &self.parent_span_id),
            ("duration_ms", &self.duration_ms),
            ("service_name", &self.service_name),
            ("service_version", &self.service_version),
        ];
        all.into_iter()
            .filter_map(|(name, path)| path.as_deref().map(|p| (name, p)))
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }
}

/// What is wrong with a dotted path of `debugger.sources[].fields` or `.attributes`.
fn dotted_path_problem(path: &str) -> Option<&'static str> {
    if path.trim().is_empty() {
        Some("is empty")
    } else if path.split('.').any(str::is_empty) {
        Some("has an empty segment (`a..b`, or a leading or trailing dot)")
    } else {
        None
    }
}

/// The `debugger` section's checks beyond its types: every path names something.
fn check_debugger(config: &DebuggerConfig) -> Result<(), String> {
    for (i, source) in config.sources.iter().enumerate() {
        let path = std::path::Path::new(&source.path);
        if source.path.trim().is_empty() {
            return Err(format!("debugger.sources[{i}].path is empty"));
        }
        if path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return Err(format!(
                "debugger.sources[{i}].path `{}` leaves the project: give a path inside it, relative to the project root",
                source.path
            ));
        }
        for (field, dotted) in source.fields.entries() {
            if let Some(problem) = dotted_path_problem(dotted) {
                return Err(format!("debugger.sources[{i}].fields.{field} {problem}"));
            }
        }
        for (name, dotted) in &source.attributes {
            if name.trim().is_empty() {
                return Err(format!(
                    "debugger.sources[{i}].attributes has an empty attribute name"
                ));
            }
            if let Some(problem) = dotted_path_problem(dotted) {
                return Err(format!("debugger.sources[{i}].attributes.{name} {problem}"));
            }
        }
    }
    if config.business_keys.iter().any(|k| k.trim().is_empty()) {
        return Err("debugger.business_keys has an empty name".into());
    }
    Ok(())
}

/// The `monitoring` section: read by the monitoring server and `sdd monitor`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MonitoringConfig {
    /// Where the monitoring tools read metrics: the embedded store under `.sdd/` that
    /// `sdd monitor` and `sdd metrics import` fill (the default), or
    /// `{prometheus: {url: http://127.0.0.1:9090}}` (Prometheus, Thanos, Mimir,
    /// VictoriaMetrics: anything that answers the Prometheus HTTP API).
    #[serde(default)]
    pub source: MetricSourceConfig,
    /// The Prometheus or OpenMetrics text endpoints `sdd monitor` scrapes into the embedded
    /// store.
    #[serde(default)]
    pub scrape: ScrapeConfig,
    /// Synthetic journeys: `sdd monitor` runs every approved scenario's executable examples
    /// against the running service on an interval and records success and latency per
    /// scenario.
    #[serde(default)]
    pub journeys: JourneyConfig,
    /// The window a tool looks at when a call names none, as a duration (`30m`, `1h`, `7d`;
    /// default `1h`).
    #[serde(default = "default_monitoring_window")]
    pub window: String,
    /// The window an availability or error-rate constraint's error budget is counted over
    /// when the constraint names none (default `30d`).
    #[serde(default = "default_budget_window")]
    pub budget_window: String,
    /// The metric names of the convention (README, "Metrics convention"), when the service
    /// uses others.
    #[serde(default)]
    pub convention: MetricConvention,
    /// Per constraint ID: the series that measure it, instead of the convention's default.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub constraints: BTreeMap<String, ConstraintMetric>,
    /// The degradation hunter (`detect_degradation`, `health_report`) and the early warnings
    /// `generate_alert_rules` writes: what load and business volume growth may follow, and
    /// the limits resources must stay under.
    #[serde(default)]
    pub degradation: DegradationConfig,
}

impl Default for MonitoringConfig {
    fn default() -> Self {
        MonitoringConfig {
            source: MetricSourceConfig::default(),
            scrape: ScrapeConfig::default(),
            journeys: JourneyConfig::default(),
            window: default_monitoring_window(),
            budget_window: default_budget_window(),
            convention: MetricConvention::default(),
            constraints: BTreeMap::new(),
            degradation: DegradationConfig::default(),
        }
    }
}

/// What the degradation hunter looks at and what growth it accepts.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DegradationConfig {
    /// How far back `detect_degradation` looks when a call names no window (default `30d`).
    #[serde(default = "default_degradation_window")]
    pub window: String,
    /// The series hunted, as PromQL selectors (`process_resident_memory_bytes`,
    /// `db_pool_in_use{pool="main"}`). Empty (the default): every gauge, every counter's rate
    /// and the request-duration histogram's p99 by route.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub series: Vec<String>,
    /// Metric names never hunted, besides the ones that describe the scrape or the build
    /// (`up`, `scrape_*`, `*_start_time_seconds`, `*_build_info`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// The load resources may follow, as a counter selector whose summed rate is the load
    /// (default: the request-duration histogram's `_count`). A resource that grows with it is
    /// not degrading; one that grows with time at the same load is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load: Option<String>,
    /// The business volume stored data may follow: a counter or gauge whose summed value is
    /// the volume (`orders_created_total`). The `volume` series are judged against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub business: Option<String>,
    /// Series that hold stored data and may grow with the business (table sizes, the database
    /// file): growth that follows `business` is not degradation, growth beyond it is. Without
    /// `business` they are judged against time alone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub volume: Vec<String>,
    /// Limits resources must stay within: time to exhaustion is projected against them and
    /// `generate_alert_rules` writes an early warning for each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<ResourceLimit>,
    /// The significance a trend must reach, after the correction for the number of series
    /// hunted (Benjamini–Hochberg; default 0.01).
    #[serde(default = "default_degradation_significance")]
    pub significance: f64,
}

impl Default for DegradationConfig {
    fn default() -> Self {
        DegradationConfig {
            window: default_degradation_window(),
            series: Vec::new(),
            exclude: Vec::new(),
            load: None,
            business: None,
            volume: Vec::new(),
            limits: Vec::new(),
            significance: default_degradation_significance(),
        }
    }
}

fn default_degradation_window() -> String {
    "30d".into()
}
fn default_degradation_significance() -> f64 {
    0.01
}

/// A resource's limit: `process_resident_memory_bytes` under 4 GiB, a cache's hit ratio over 0.8.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResourceLimit {
    /// The series, as a PromQL selector.
    pub series: String,
    /// The ceiling it must stay under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The floor it must stay over.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<f64>,
    /// What running out means, in the spec's words (the alert's summary).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn default_monitoring_window() -> String {
    "1h".into()
}
fn default_budget_window() -> String {
    "30d".into()
}

/// Where metrics are read from: the embedded store under `.sdd/` unless a Prometheus is named.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricSourceConfig {
    /// A server answering the Prometheus HTTP API (`/api/v1/query`, `query_range`, `series`).
    /// Without it, the tools read the embedded store (`.sdd/metrics.sqlite3`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prometheus: Option<PrometheusSourceConfig>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrometheusSourceConfig {
    /// Its base URL, e.g. `http://127.0.0.1:9090` (a path prefix is kept). A host other than
    /// loopback must be listed under `targets.allowed_hosts`.
    pub url: String,
    /// Seconds one API request may take (default 10).
    #[serde(default = "default_prometheus_timeout")]
    pub timeout_seconds: u64,
}

fn default_prometheus_timeout() -> u64 {
    10
}

/// What `sdd monitor` scrapes.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScrapeConfig {
    /// Seconds between scrapes (default 15).
    #[serde(default = "default_scrape_interval")]
    pub interval_seconds: u64,
    /// Seconds one scrape may take (default 10).
    #[serde(default = "default_scrape_timeout")]
    pub timeout_seconds: u64,
    /// Metrics endpoints as `http://` URLs, e.g. `http://127.0.0.1:8788/metrics`. A host other
    /// than loopback must be listed under `targets.allowed_hosts`.
    #[serde(default)]
    pub targets: Vec<String>,
}

impl Default for ScrapeConfig {
    fn default() -> Self {
        ScrapeConfig {
            interval_seconds: default_scrape_interval(),
            timeout_seconds: default_scrape_timeout(),
            targets: Vec::new(),
        }
    }
}

fn default_scrape_interval() -> u64 {
    15
}
fn default_scrape_timeout() -> u64 {
    10
}

/// The synthetic journeys `sdd monitor` runs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JourneyConfig {
    /// Seconds between two runs of every approved scenario's examples (default 60); 0 turns
    /// the journeys off.
    #[serde(default = "default_journey_interval")]
    pub interval_seconds: u64,
    /// Where the journeys go, when not to `service.base_url` (a deployed service SDD does not
    /// start: production, staging). A host other than loopback must be listed under
    /// `targets.allowed_hosts`. `service.headers` and `auth` still apply.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
}

impl Default for JourneyConfig {
    fn default() -> Self {
        JourneyConfig {
            interval_seconds: default_journey_interval(),
            base_url: None,
        }
    }
}

fn default_journey_interval() -> u64 {
    60
}

/// The names of the metrics convention.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetricConvention {
    /// The request-duration histogram (seconds), labelled by `method`, `route` (the route
    /// template, `/tasks/{id}`) and `status` (default `http_request_duration_seconds`).
    #[serde(default = "default_request_duration")]
    pub request_duration: String,
    /// The counter of scenario outcomes, labelled by `scenario` (its ID) and `outcome`
    /// (`success` or `failure`) (default `sdd_scenario_outcomes_total`).
    #[serde(default = "default_scenario_outcomes")]
    pub scenario_outcomes: String,
}

impl Default for MetricConvention {
    fn default() -> Self {
        MetricConvention {
            request_duration: default_request_duration(),
            scenario_outcomes: default_scenario_outcomes(),
        }
    }
}

fn default_request_duration() -> String {
    "http_request_duration_seconds".into()
}
fn default_scenario_outcomes() -> String {
    "sdd_scenario_outcomes_total".into()
}

/// The series that measure one constraint.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConstraintMetric {
    /// A series selector in PromQL's syntax over a request-duration histogram (its name without
    /// `_bucket`): `api_latency_seconds{route="/search"}`. Latency percentiles come from its
    /// buckets, request and error counts from its `_count` by `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub histogram: Option<String>,
    /// Not measured from metrics, and why (it is then listed as unmeasured with this reason,
    /// never silently skipped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unmeasured: Option<String>,
}

/// Client credentials SDD can make itself.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuthConfig {
    /// Sign JWTs (HS256) with the service's secret: SDD then sends a valid token as
    /// `Authorization: Bearer …` (unless `service.headers` sets one), and the probes can also
    /// try an expired token and a second user's token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwt: Option<JwtConfig>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct JwtConfig {
    /// The HS256 secret; `${env:NAME}` reads it from the environment (keep secrets out of
    /// the file).
    pub secret: String,
    /// The `sub` claim of SDD's own user (default `sdd`).
    #[serde(default = "default_subject")]
    pub subject: String,
    /// Other claims every token carries (e.g. `role: user`).
    #[serde(default)]
    pub claims: BTreeMap<String, serde_json::Value>,
    /// Lifetime of the tokens SDD makes (default 3600 s).
    #[serde(default = "default_ttl")]
    pub ttl_seconds: u64,
}

fn default_subject() -> String {
    "sdd".into()
}
fn default_ttl() -> u64 {
    3600
}

/// How performance constraints are turned into load.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadConfig {
    /// Requests by operation scope — `reads`, `writes`, or a name a constraint uses such as
    /// `search`. `all` (a constraint with no scope) is every endpoint listed here. In a path or
    /// body, `{{seq}}` becomes a number unique to the request.
    #[serde(default)]
    pub endpoints: BTreeMap<String, Vec<LoadEndpoint>>,
    /// Measured seconds per constraint (default 10).
    #[serde(default = "default_load_seconds")]
    pub duration_seconds: u64,
    /// Unmeasured seconds before (default 2).
    #[serde(default = "default_warmup")]
    pub warmup_seconds: u64,
    /// Arrival rate for a constraint that states none (default 50 req/s).
    #[serde(default = "default_rate")]
    pub default_rate: f64,
    /// The highest rate this machine is asked to generate (default 20000 req/s); a constraint
    /// above it is run at this rate and reported as not verified as written.
    #[serde(default = "default_max_rate")]
    pub max_rate: f64,
    /// The most connections opened (default 1000); concurrency above it is not verified.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Simulated users the load is spread over (default 1). With `auth.jwt` each gets its own
    /// signed token (subject `<subject>-load-<n>`), so that a per-user rate limit leaves the
    /// load alone and the run measures the service, not its refusals.
    #[serde(default = "default_users")]
    pub users: u32,
}

impl Default for LoadConfig {
    fn default() -> Self {
        LoadConfig {
            endpoints: BTreeMap::new(),
            duration_seconds: default_load_seconds(),
            warmup_seconds: default_warmup(),
            default_rate: default_rate(),
            max_rate: default_max_rate(),
            max_connections: default_max_connections(),
            users: default_users(),
        }
    }
}

fn default_load_seconds() -> u64 {
    10
}
fn default_warmup() -> u64 {
    2
}
fn default_rate() -> f64 {
    50.0
}
fn default_max_rate() -> f64 {
    20000.0
}
fn default_max_connections() -> usize {
    1000
}
fn default_users() -> u32 {
    1
}

/// One request of a load mix.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadEndpoint {
    #[serde(default = "default_get")]
    pub method: String,
    pub path: String,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Share of the mix (default 1).
    #[serde(default = "default_weight")]
    pub weight: u32,
}

fn default_get() -> String {
    "GET".into()
}
fn default_weight() -> u32 {
    1
}

fn default_specs() -> String {
    "specs".into()
}

/// One way of running tests.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TestProfile {
    /// Shell command (`sh -c`), e.g. `pytest -q --junitxml=.sdd/pytest.xml`.
    pub command: String,
    /// Working directory, relative to the project root (default `.`).
    #[serde(default = "default_workdir")]
    pub workdir: String,
    /// Extra environment variables.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// The whole run is killed (its process group) after this many seconds (default 600).
    #[serde(default = "default_test_timeout")]
    pub timeout_seconds: u64,
    /// A filter appended to the command when a tool passes one, e.g. `-k {filter}` for pytest
    /// (without `{filter}`, the filter is added after it). The filter never becomes shell
    /// text: it is passed to `sh -c` as its first positional parameter and `{filter}` becomes
    /// a reference to it (`"${1}"`), so whatever its quoting (`-k {filter}`, `-k "{filter}"`,
    /// `-k '{filter}'`) the runner gets the filter as one argument, byte for byte, and `$(…)`,
    /// backticks, quotes or `;` in it are just characters. The command itself should therefore
    /// not use `$1` or `set --`. Filters with control characters (a NUL, a newline), a leading
    /// `-` (it would be read as an option) or more than 4096 bytes are refused with the reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_arg: Option<String>,
    pub results: ResultsSource,
}

fn default_workdir() -> String {
    ".".into()
}
fn default_test_timeout() -> u64 {
    600
}

/// Where a profile's results land and in which format.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResultsSource {
    pub format: ResultsFormat,
    /// Results file (or directory of `*.xml` for JUnit), relative to the working directory.
    /// Absent: the command's standard output is parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResultsFormat {
    /// JUnit XML, written by most runners (pytest `--junitxml`, nextest, jest-junit, go-junit-report, …).
    Junit,
    /// `cargo test` (libtest) human output.
    Libtest,
    /// `cargo nextest run` human output.
    Nextest,
    /// pytest terminal output with `-v` (one line per test) and `-ra` (the short summary of
    /// failures, errors and skips; `-rA` reads the same but reprints every passing test).
    Pytest,
    /// `go test -json` event stream.
    GoJson,
    /// Jest or Vitest `--json` report.
    JestJson,
    /// Cucumber's JSON report (cucumber-js `--format json`, Cucumber-JVM `json:` plugin,
    /// cucumber-rs `writer::Json`); scenarios map by their `@id:` tag or their name.
    CucumberJson,
}

/// The service under specification.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    /// Shell command that runs the service in the foreground.
    pub command: String,
    #[serde(default = "default_workdir")]
    pub workdir: String,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    /// Where the service answers, e.g. `http://127.0.0.1:8080`.
    pub base_url: String,
    /// Headers sent with every executable example and probe request (e.g. an `Authorization`
    /// header); `${env:NAME}` in a value is replaced by an environment variable.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    pub ready: ReadinessProbe,
    #[serde(default)]
    pub stop: StopConfig,
}

/// `${env:NAME}` in a configured value replaced by `lookup(NAME)`; each name `lookup` does not
/// know becomes empty and is returned, so it can be reported rather than passed on as the
/// literal text (a planted fault silently not planted). Other `${…}` are left as written.
pub fn expand_env_refs(
    text: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<String>) {
    rewrite_env_refs(text, &mut |name| lookup(name).ok_or(String::new()))
}

/// `${env:NAME}` in the service's shell command rewritten to the shell's own `${NAME}`, which
/// reads the same variable from the environment the command runs in: the value is never
/// spliced into shell text. Returns the names `lookup` does not know (they expand to empty),
/// and names that are not shell variable names, which are left as written.
pub fn shell_env_refs(
    command: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<String>) {
    let is_name = |name: &str| {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    };
    rewrite_env_refs(command, &mut |name| {
        if !is_name(name) {
            return Err(format!("${{env:{name}}}"));
        }
        let reference = format!("${{{name}}}");
        match lookup(name) {
            Some(_) => Ok(reference),
            None => Err(reference),
        }
    })
}

/// Replace each `${env:NAME}` by `replace(NAME)`: `Ok(text)`, or `Err(text)` for a name to
/// report (its text is still written).
fn rewrite_env_refs(
    text: &str,
    replace: &mut dyn FnMut(&str) -> Result<String, String>,
) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let mut unresolved = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${env:") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "${env:".len()..];
        let Some(end) = after.find('}') else {
            break;
        };
        let name = &after[..end];
        match replace(name) {
            Ok(text) => out.push_str(&text),
            Err(text) => {
                out.push_str(&text);
                unresolved.push(name.to_string());
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    (out, unresolved)
}

impl ServiceConfig {
    /// The service as it is started: `${env:NAME}` expanded in `env` and `headers` and made
    /// the shell's `${NAME}` in `command`, with one warning per name the environment does not
    /// set (it is empty for the service).
    pub fn with_env_expanded(
        &self,
        lookup: &dyn Fn(&str) -> Option<String>,
    ) -> (ServiceConfig, Vec<String>) {
        let mut expanded = self.clone();
        let mut warnings = Vec::new();
        let mut warn = |field: String, names: Vec<String>| {
            for name in names {
                warnings.push(format!(
                    "{field} uses ${{env:{name}}}, which is not set in SDD's environment: it is empty for the service"
                ));
            }
        };
        let (command, names) = shell_env_refs(&self.command, lookup);
        expanded.command = command;
        warn("service.command".into(), names);
        for (key, value) in expanded.env.iter_mut() {
            let (text, names) = expand_env_refs(value, lookup);
            *value = text;
            warn(format!("service.env.{key}"), names);
        }
        for (key, value) in expanded.headers.iter_mut() {
            let (text, names) = expand_env_refs(value, lookup);
            *value = text;
            warn(format!("service.headers.{key}"), names);
        }
        (expanded, warnings)
    }
}

/// How to tell the service is ready: an HTTP path answering 2xx, or a TCP port accepting.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadinessProbe {
    /// HTTP path on `base_url`, e.g. `/health`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<String>,
    /// TCP port on the `base_url` host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<u16>,
    /// Give up (and stop the service) after this many seconds (default 30).
    #[serde(default = "default_ready_timeout")]
    pub timeout_seconds: u64,
}

fn default_ready_timeout() -> u64 {
    30
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopConfig {
    /// Signal for a graceful stop: `TERM` (default), `INT` or `QUIT`.
    #[serde(default = "default_signal")]
    pub signal: String,
    /// Seconds to wait after the signal before the process group is killed (default 10).
    #[serde(default = "default_grace")]
    pub grace_seconds: u64,
}

impl Default for StopConfig {
    fn default() -> Self {
        StopConfig {
            signal: default_signal(),
            grace_seconds: default_grace(),
        }
    }
}

fn default_signal() -> String {
    "TERM".into()
}
fn default_grace() -> u64 {
    10
}

/// The `targets` section: hosts beyond loopback that SDD's traffic may go to. `sdd_http`'s
/// `AllowedHosts` enforces it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowedHostsConfig {
    /// Hosts beyond loopback that load and probe traffic may target (names or addresses).
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
}

pub const PROJECT_FILE: &str = "sdd.yaml";

/// `base/relative`, or `None` when it would leave `base`: an absolute path, a `..`, or a
/// symlink (anywhere along the existing part of the path) that resolves outside it. Every path
/// a tool argument or `sdd.yaml` names goes through here.
pub fn confine(base: &Path, relative: &str) -> Option<std::path::PathBuf> {
    use std::path::Component;
    let path = Path::new(relative);
    if path.is_absolute()
        || path.components().any(|c| {
            matches!(
                c,
                Component::ParentDir | Component::Prefix(_) | Component::RootDir
            )
        })
    {
        return None;
    }
    let joined = base.join(path);
    // Resolve the deepest existing ancestor: a path not created yet can still lead out
    // through a symlinked directory.
    let mut existing = joined.clone();
    while !existing.exists() {
        match existing.parent() {
            Some(p) => existing = p.to_path_buf(),
            None => break,
        }
    }
    let real_base = base.canonicalize().unwrap_or_else(|_| base.to_path_buf());
    match existing.canonicalize() {
        Ok(real) if !real.starts_with(&real_base) => None,
        _ => Some(joined),
    }
}

/// Read and check `sdd.yaml` in `root`, within the limits of [`Limits::from_env`]. Errors are
/// located diagnostics.
pub fn load_project_file(root: &Path) -> Result<ProjectFile, Box<Diagnostic>> {
    load_project_file_with(root, &Limits::from_env().0)
}

pub fn load_project_file_with(
    root: &Path,
    limits: &Limits,
) -> Result<ProjectFile, Box<Diagnostic>> {
    let path = root.join(PROJECT_FILE);
    // The same guarded read as spec files: a FIFO here blocked every call of every server.
    let text = read_yaml_file(&path, limits).map_err(|problem| {
        let d = match problem {
            ReadProblem::Io(e) => Diagnostic::error("missing-project-file", format!("cannot read {PROJECT_FILE}: {e}"))
                .with_help("create sdd.yaml at the project root with `tests:` profiles (see specs/sdd-project.schema.json)"),
            other => {
                let (code, message, help) = other.describe();
                Diagnostic::error(code, message).with_help(help)
            }
        };
        d.in_file(PROJECT_FILE)
    })?;
    parse_project_file_with(&text, limits)
}

pub fn parse_project_file(text: &str) -> Result<ProjectFile, Box<Diagnostic>> {
    parse_project_file_with(text, &Limits::from_env().0)
}

pub fn parse_project_file_with(
    text: &str,
    limits: &Limits,
) -> Result<ProjectFile, Box<Diagnostic>> {
    let text = strip_bom(text);
    // serde_yaml copies every alias while deserializing; measure the copies first.
    let index = PositionIndex::build_checked(text, limits).map_err(|exceeded| {
        let mut d = Diagnostic::error(exceeded.code, exceeded.message)
            .in_file(PROJECT_FILE)
            .with_help(exceeded.help);
        d.line = Some(exceeded.line);
        d.column = Some(exceeded.column);
        d
    })?;
    // See `PositionIndex::unsafe_syntax_error`: unmeasured aliases, or nesting that would cost
    // serde_yaml quadratic time.
    if let Some((message, line, column)) = index.unsafe_syntax_error(text) {
        let mut d = Diagnostic::error("invalid-project-file", format!("invalid YAML: {message}"))
            .in_file(PROJECT_FILE)
            .with_help("fix the YAML at this position");
        d.line = Some(*line);
        d.column = Some(*column);
        return Err(d.into());
    }
    let deserializer = serde_yaml::Deserializer::from_str(text);
    let file: ProjectFile = serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let path = err.path().to_string();
        let inner = err.into_inner();
        let mut d = Diagnostic::error("invalid-project-file", strip_location(&inner.to_string()))
            .in_file(PROJECT_FILE);
        if let Some(location) = inner.location() {
            d.line = Some(location.line());
            d.column = Some(location.column());
        }
        if path != "." {
            d.path = Some(path);
        }
        // serde quotes the offending key or value; never echo 64 KiB of it back.
        crate::load::clip(&mut d.message);
        if let Some(path) = &mut d.path {
            crate::load::clip(path);
        }
        d.with_help("compare with specs/sdd-project.schema.json")
    })?;
    for (name, profile) in &file.tests {
        if profile.command.trim().is_empty() {
            return Err(Diagnostic::error(
                "invalid-project-file",
                format!("test profile `{name}` has an empty command"),
            )
            .in_file(PROJECT_FILE)
            .into());
        }
    }
    if let Some(service) = &file.service {
        if service.ready.http.is_none() && service.ready.tcp.is_none() {
            return Err(Diagnostic::error(
                "invalid-project-file",
                "service.ready needs `http: /path` or `tcp: port`",
            )
            .in_file(PROJECT_FILE)
            .into());
        }
        if !["TERM", "INT", "QUIT", "HUP"].contains(&service.stop.signal.as_str()) {
            return Err(Diagnostic::error(
                "invalid-project-file",
                format!(
                    "service.stop.signal `{}` is not one of TERM, INT, QUIT, HUP",
                    service.stop.signal
                ),
            )
            .in_file(PROJECT_FILE)
            .into());
        }
    }
    if let Some(message) = check_debugger(&file.debugger).err() {
        return Err(Diagnostic::error("invalid-project-file", message)
            .in_file(PROJECT_FILE)
            .into());
    }
    Ok(file)
}

fn strip_location(message: &str) -> String {
    match message.find(" at line ") {
        Some(at) => message[..at].to_string(),
        None => message.to_string(),
    }
}

/// The JSON Schema of `sdd.yaml`, exactly as committed.
pub fn project_schema_json() -> String {
    let schema = schemars::schema_for!(ProjectFile);
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {

    #[test]
    fn env_references_expand_and_unset_ones_are_named() {
        let lookup = |name: &str| match name {
            "FAULTS" => Some("slow_reads".to_string()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let cases: &[(&str, &str, &[&str])] = &[
            ("${env:FAULTS}", "slow_reads", &[]),
            ("a-${env:FAULTS}-${env:EMPTY}-b", "a-slow_reads--b", &[]),
            ("${env:MISSING}", "", &["MISSING"]),
            ("x ${unique} ${other} y", "x ${unique} ${other} y", &[]),
            ("${env:FAULTS", "${env:FAULTS", &[]),
            ("", "", &[]),
        ];
        for (text, expanded, missing) in cases {
            let (got, names) = expand_env_refs(text, &lookup);
            assert_eq!(got, *expanded, "{text}");
            assert_eq!(names, *missing, "{text}");
        }
        let shell: &[(&str, &str, &[&str])] = &[
            // The shell reads the value itself: nothing of it is spliced into the command.
            ("run --faults ${env:FAULTS}", "run --faults ${FAULTS}", &[]),
            ("run \"${env:MISSING}\"", "run \"${MISSING}\"", &["MISSING"]),
            ("run ${env:BAD-NAME}", "run ${env:BAD-NAME}", &["BAD-NAME"]),
            ("run ${env:1X}", "run ${env:1X}", &["1X"]),
        ];
        for (text, rewritten, missing) in shell {
            let (got, names) = shell_env_refs(text, &lookup);
            assert_eq!(got, *rewritten, "{text}");
            assert_eq!(names, *missing, "{text}");
        }
    }

    #[test]
    fn the_service_is_started_with_its_env_references_expanded() {
        let config: ServiceConfig = serde_json::from_value(serde_json::json!({
            "command": "app --mode ${env:FAULTS}",
            "env": {"FAULTS": "${env:FAULTS}", "PLAIN": "x", "GONE": "${env:NOT_SET}"},
            "headers": {"Authorization": "Bearer ${env:TOKEN_UNSET}"},
            "base_url": "http://127.0.0.1:1",
            "ready": {"http": "/health"},
        }))
        .unwrap();
        let lookup = |name: &str| (name == "FAULTS").then(|| "slow_reads".to_string());
        let (expanded, warnings) = config.with_env_expanded(&lookup);
        assert_eq!(expanded.command, "app --mode ${FAULTS}");
        assert_eq!(expanded.env["FAULTS"], "slow_reads");
        assert_eq!(expanded.env["PLAIN"], "x");
        assert_eq!(expanded.env["GONE"], "");
        assert_eq!(expanded.headers["Authorization"], "Bearer ");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(
            warnings[0].starts_with("service.env.GONE uses ${env:NOT_SET}"),
            "{warnings:?}"
        );
        assert!(warnings[1].starts_with("service.headers.Authorization uses ${env:TOKEN_UNSET}"));
    }

    use super::*;

    #[test]
    fn parses_profiles_service_and_targets() {
        let file = parse_project_file(
            "tests:\n  unit:\n    command: cargo test\n    results: {format: libtest}\n  api:\n    command: pytest -ra\n    workdir: api\n    timeout_seconds: 60\n    results: {format: junit, path: report.xml}\nservice:\n  command: ./serve\n  base_url: http://127.0.0.1:8080\n  ready: {http: /health}\ntargets:\n  allowed_hosts: [staging.internal]\n",
        )
        .unwrap();
        assert_eq!(file.specs, "specs");
        assert_eq!(file.tests["api"].timeout_seconds, 60);
        assert_eq!(file.tests["unit"].results.format, ResultsFormat::Libtest);
        assert_eq!(file.service.unwrap().stop.grace_seconds, 10);
        assert_eq!(file.targets.allowed_hosts, ["staging.internal"]);
        // No monitoring section: the embedded store, the convention's names, no targets.
        assert_eq!(file.monitoring.source.prometheus, None);
        assert_eq!(file.monitoring.window, "1h");
        assert_eq!(file.monitoring.scrape.interval_seconds, 15);
        assert_eq!(
            file.monitoring.convention.request_duration,
            "http_request_duration_seconds"
        );
    }

    #[test]
    fn parses_the_monitoring_section() {
        let file = parse_project_file(
            "monitoring:\n  source: {prometheus: {url: http://127.0.0.1:9090}}\n  scrape: {targets: [http://127.0.0.1:8788/metrics], interval_seconds: 5}\n  journeys: {interval_seconds: 0}\n  constraints:\n    api_response_time: {histogram: 'api_seconds{route=\"/x\"}'}\n    uptime: {unmeasured: probed by hand}\n",
        )
        .unwrap();
        let m = file.monitoring;
        assert_eq!(
            m.source.prometheus,
            Some(PrometheusSourceConfig {
                url: "http://127.0.0.1:9090".into(),
                timeout_seconds: 10
            })
        );
        assert_eq!(m.scrape.targets, ["http://127.0.0.1:8788/metrics"]);
        assert_eq!(m.journeys.interval_seconds, 0);
        assert_eq!(
            m.constraints["api_response_time"].histogram.as_deref(),
            Some("api_seconds{route=\"/x\"}")
        );
        let err = parse_project_file("monitoring: {source: {graphite: {}}}\n").unwrap_err();
        assert!(err.message.contains("graphite"), "{}", err.message);
    }

    #[test]
    fn parses_the_debugger_section() {
        let file = parse_project_file("tests: {}\n").unwrap();
        assert!(file.debugger.sources.is_empty() && file.debugger.business_keys.is_empty());

        let file = parse_project_file(
            "debugger:\n  sources:\n    - path: logs/events.jsonl\n      format: json_lines\n      fields: {timestamp: ts, event: msg, scenario: fields.scenario}\n      attributes: {db_shard: ctx.shard}\n    - path: logs/*.log\n  business_keys: [task_id]\n",
        )
        .unwrap();
        let d = file.debugger;
        assert_eq!(d.business_keys, ["task_id"]);
        assert_eq!(d.sources[0].format, EventFormat::JsonLines);
        assert_eq!(
            d.sources[0].fields.entries(),
            [
                ("timestamp", "ts"),
                ("event", "msg"),
                ("scenario", "fields.scenario")
            ]
        );
        assert_eq!(d.sources[0].attributes["db_shard"], "ctx.shard");
        assert_eq!(d.sources[1].format, EventFormat::Auto);
        assert!(d.sources[1].fields.is_empty());
    }

    #[test]
    fn debugger_mistakes_are_named() {
        let cases = [
            // Not a convention field: the message lists the ones there are.
            (
                "debugger: {sources: [{path: a.jsonl, fields: {tenant: x}}]}\n",
                "unknown field `tenant`, expected one of `timestamp`, `event`",
            ),
            (
                "debugger: {sources: [{path: a.jsonl, format: csv}]}\n",
                "unknown variant `csv`",
            ),
            (
                "debugger: {sources: [{path: a.jsonl, colour: red}]}\n",
                "unknown field `colour`",
            ),
            ("debugger: {sauces: []}\n", "unknown field `sauces`"),
            (
                "debugger: {sources: [{path: ../other/a.jsonl}]}\n",
                "leaves the project",
            ),
            (
                "debugger: {sources: [{path: /var/log/a.jsonl}]}\n",
                "leaves the project",
            ),
            (
                "debugger: {sources: [{path: ''}]}\n",
                "debugger.sources[0].path is empty",
            ),
            (
                "debugger: {sources: [{path: a, fields: {event: 'a..b'}}]}\n",
                "debugger.sources[0].fields.event has an empty segment",
            ),
            (
                "debugger: {sources: [{path: a, attributes: {shard: ''}}]}\n",
                "debugger.sources[0].attributes.shard is empty",
            ),
            (
                "debugger: {business_keys: ['']}\n",
                "business_keys has an empty name",
            ),
        ];
        for (text, want) in cases {
            let err = parse_project_file(text).unwrap_err();
            assert!(err.message.contains(want), "{text}: {}", err.message);
        }
    }

    #[test]
    fn errors_are_located() {
        let err = parse_project_file("tests:\n  unit:\n    comand: cargo test\n").unwrap_err();
        assert!(
            err.message.contains("unknown field `comand`"),
            "{}",
            err.message
        );
        assert_eq!(err.line, Some(3));
        let err = parse_project_file("service:\n  command: x\n  base_url: http://127.0.0.1:1\n  ready: {timeout_seconds: 3}\n").unwrap_err();
        assert!(err.message.contains("needs `http"));
    }
}

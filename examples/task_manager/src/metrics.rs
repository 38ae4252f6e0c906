//! The service's Prometheus metrics, by SDD's metrics convention (the `Metrics convention`
//! section of SDD's README): how long requests take by route template, what each approved
//! scenario's decision point delivered, and the process's and the database's resources.
//!
//! The exposition is served on its own listener (`METRICS_PORT`, see `main.rs`), never on the
//! API's port: the spec's "Authentication required" constraint allows no endpoint without a
//! token but the health check.

use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    prometheus_text, text, DescriptorEncoder, EncodeLabelSet, EncodeMetric,
};
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::{ConstGauge, Gauge};
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::{Registry, Unit};
use rusqlite::Connection;

use crate::token_cache::TokenCache;

/// The upper bounds (seconds) of `http_request_duration_seconds`' buckets. 0.15 sits between
/// the read constraint's 100 ms and 200 ms so that 150 ms more (the `slow_reads` fault) shows.
pub const DURATION_BUCKETS: [f64; 16] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `route` of a request no route matched.
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// The approved scenarios of `specs/` whose decision point is in this service, by their SDD ID
/// (`domain.name_slug`, as the specification server's `get_scenarios` lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scenario {
    CreateASimpleTask,
    CompleteATask,
    CannotCompleteAlreadyCompletedTask,
    ListTasksFilteredByStatus,
}

impl Scenario {
    pub const ALL: [Scenario; 4] = [
        Scenario::CreateASimpleTask,
        Scenario::CompleteATask,
        Scenario::CannotCompleteAlreadyCompletedTask,
        Scenario::ListTasksFilteredByStatus,
    ];

    /// The scenario's ID, the `scenario` label's value.
    pub fn id(self) -> &'static str {
        match self {
            Scenario::CreateASimpleTask => "task_management_system.create_a_simple_task",
            Scenario::CompleteATask => "task_management_system.complete_a_task",
            Scenario::CannotCompleteAlreadyCompletedTask => {
                "task_management_system.cannot_complete_already_completed_task"
            }
            Scenario::ListTasksFilteredByStatus => {
                "task_management_system.list_tasks_filtered_by_status"
            }
        }
    }
}

/// What a scenario's decision point delivered: `Success` when the service did what the
/// scenario says (a refusal the scenario asks for included), `Failure` when it could not or
/// broke the scenario's rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct BuildLabels {
    version: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct OutcomeLabels {
    scenario: &'static str,
    outcome: &'static str,
}

fn duration_histogram() -> Histogram {
    Histogram::new(DURATION_BUCKETS)
}

/// The registry and the handles the service updates.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Histogram, fn() -> Histogram>,
    outcomes: Family<OutcomeLabels, Counter>,
    /// Database connections checked out by handlers right now (see [`Resources`]).
    db_in_use: Arc<AtomicI64>,
}

impl Metrics {
    /// `database` is a connection of the metrics' own to the database file (`None` when the
    /// tasks live in memory): a scrape never waits for the handlers' connection. `version` is
    /// the version the service reports, the label of `sdd_build_info`; `tokens` the cache of
    /// verified tokens, whose lookups are counted.
    pub fn new(database: Option<Connection>, version: &str, tokens: Arc<TokenCache>) -> Metrics {
        let mut registry = Registry::default();
        // Prometheus' build-info convention: a gauge of 1 whose label is the deployed version,
        // so a release shows as a change of series (and joins other series by `* on()`).
        let build = Family::<BuildLabels, Gauge>::default();
        build
            .get_or_create(&BuildLabels {
                version: version.to_string(),
            })
            .set(1);
        registry.register(
            "sdd_build_info",
            "The version the service reports (1 for the running one)",
            build,
        );
        let requests = Family::new_with_constructor(duration_histogram as fn() -> Histogram);
        registry.register_with_unit(
            "http_request_duration",
            "Time from a request's arrival to its response, by method, route template and status code",
            Unit::Seconds,
            requests.clone(),
        );
        let outcomes = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "sdd_scenario_outcomes",
            "Outcomes at each approved scenario's decision point: success when the service did what the scenario says, failure when it could not",
            outcomes.clone(),
        );
        // Every series from the start, so the first failure is a change from 0, not a new series.
        for scenario in Scenario::ALL {
            for outcome in [Outcome::Success, Outcome::Failure] {
                outcomes.get_or_create_owned(&OutcomeLabels {
                    scenario: scenario.id(),
                    outcome: outcome.label(),
                });
            }
        }
        let db_in_use = Arc::new(AtomicI64::new(0));
        registry.register_collector(Box::new(Resources {
            database: database.map(Mutex::new),
            db_in_use: db_in_use.clone(),
        }));
        registry.register_collector(Box::new(CacheLookups(tokens)));
        Metrics {
            registry,
            requests,
            outcomes,
            db_in_use,
        }
    }

    /// Count one outcome of a scenario's decision point.
    pub fn scenario(&self, scenario: Scenario, outcome: Outcome) {
        self.outcomes
            .get_or_create(&OutcomeLabels {
                scenario: scenario.id(),
                outcome: outcome.label(),
            })
            .inc();
    }

    pub(crate) fn db_in_use(&self) -> &Arc<AtomicI64> {
        &self.db_in_use
    }

    fn observe(&self, method: &'static str, route: String, status: StatusCode, took: Duration) {
        let labels = RequestLabels {
            method,
            route,
            status: status.as_u16().to_string(),
        };
        self.requests
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// The exposition: OpenMetrics text when the scraper accepts it (Prometheus asks for it),
    /// else the Prometheus text format 0.0.4 (curl, promtool, older scrapers).
    pub fn exposition(&self, accept: Option<&str>) -> (&'static str, String) {
        let mut body = String::new();
        let openmetrics = accept.is_some_and(|a| a.contains("application/openmetrics-text"));
        if openmetrics {
            text::encode(&mut body, &self.registry).expect("writing to a String cannot fail");
            (
                "application/openmetrics-text; version=1.0.0; charset=utf-8",
                body,
            )
        } else {
            prometheus_text::encode(&mut body, &self.registry)
                .expect("writing to a String cannot fail");
            (prometheus_text::CONTENT_TYPE, body)
        }
    }
}

/// `GET /metrics` of the metrics listener.
pub(crate) async fn serve_metrics(
    State(metrics): State<Arc<Metrics>>,
    headers: HeaderMap,
) -> Response {
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok());
    let (content_type, body) = metrics.exposition(accept);
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Around the whole router: every request is timed, the ones refused by authentication or the
/// rate limit and the ones no route matched included.
pub(crate) async fn measure(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED_ROUTE.to_string(), |p| p.as_str().to_string());
    let response = next.run(request).await;
    metrics.observe(method, route, response.status(), started.elapsed());
    response
}

/// The standard methods by name; any other is `OTHER`, so a client cannot grow the label set.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => "OTHER",
    }
}

/// The gauges read at each scrape: the process's memory, descriptors and start time (from
/// /proc/self, Linux), the database's size and the connections handlers hold.
#[derive(Debug)]
struct Resources {
    /// Read-only, the metrics' own (not counted in `db_connections_in_use`); `None` in memory.
    database: Option<Mutex<Connection>>,
    db_in_use: Arc<AtomicI64>,
}

impl Resources {
    /// `page_count * page_size` of the database file, committed writes (WAL included); 0 when
    /// the tasks live in memory; `None` when SQLite cannot say.
    fn db_size_bytes(&self) -> Option<i64> {
        let Some(database) = &self.database else {
            return Some(0);
        };
        let db = database.lock().unwrap_or_else(|e| e.into_inner());
        let pragma =
            |name: &str| db.query_row(&format!("PRAGMA {name}"), [], |r| r.get::<_, i64>(0));
        Some(pragma("page_count").ok()? * pragma("page_size").ok()?)
    }
}

fn gauge<N: prometheus_client::encoding::EncodeGaugeValue>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    unit: Option<&Unit>,
    value: N,
) -> Result<(), std::fmt::Error> {
    let gauge = ConstGauge::new(value);
    let metric = encoder.encode_descriptor(name, help, unit, MetricType::Gauge)?;
    gauge.encode(metric)
}

impl Collector for Resources {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        if let Some(bytes) = process::resident_memory_bytes() {
            let help = "Resident memory size of the process.";
            gauge(
                &mut encoder,
                "process_resident_memory",
                help,
                Some(&Unit::Bytes),
                bytes,
            )?;
        }
        if let Some(fds) = process::open_fds() {
            gauge(
                &mut encoder,
                "process_open_fds",
                "Open file descriptors of the process.",
                None,
                fds,
            )?;
        }
        if let Some(start) = process::start_time_seconds() {
            let help = "Start time of the process since the Unix epoch.";
            gauge(
                &mut encoder,
                "process_start_time",
                help,
                Some(&Unit::Seconds),
                start,
            )?;
        }
        if let Some(bytes) = self.db_size_bytes() {
            let help = "Size of the SQLite database (page_count * page_size); 0 when the tasks live in memory.";
            gauge(&mut encoder, "db_size", help, Some(&Unit::Bytes), bytes)?;
        }
        let help = "Database connections held by request handlers right now (the service has one, behind a lock: 0 or 1).";
        let in_use = self.db_in_use.load(Ordering::Relaxed);
        gauge(&mut encoder, "db_connections_in_use", help, None, in_use)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
struct LookupLabels {
    result: &'static str,
}

/// The verified-token cache's lookups, read at each scrape: `task_manager_cache_lookups_total`
/// by `result` (`hit`, `miss`; both from 0) and `task_manager_cache_hit_ratio`, the hits'
/// share of the last 1,000 lookups (absent before the first).
#[derive(Debug)]
struct CacheLookups(Arc<TokenCache>);

impl Collector for CacheLookups {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.0.stats();
        let help = "Lookups of the verified-token cache, by result (hit or miss)";
        let mut family = encoder.encode_descriptor(
            "task_manager_cache_lookups",
            help,
            None,
            MetricType::Counter,
        )?;
        for (result, count) in [("hit", stats.hits), ("miss", stats.misses)] {
            let labels = LookupLabels { result };
            ConstCounter::new(count).encode(family.encode_family(&labels)?)?;
        }
        if let Some(ratio) = stats.recent_hit_ratio {
            let help = "Share of the last 1000 lookups of the verified-token cache that hit";
            gauge(
                &mut encoder,
                "task_manager_cache_hit_ratio",
                help,
                None,
                ratio,
            )?;
        }
        Ok(())
    }
}

/// The process's figures from /proc/self; `None` where it cannot be read (not Linux).
mod process {
    /// `VmRSS` of /proc/self/status (in kB there).
    pub fn resident_memory_bytes() -> Option<i64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        let kb: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kb * 1024)
    }

    /// The entries of /proc/self/fd (the directory's own descriptor included, as Prometheus'
    /// own clients count it).
    pub fn open_fds() -> Option<i64> {
        Some(std::fs::read_dir("/proc/self/fd").ok()?.count() as i64)
    }

    /// Boot time (`btime` of /proc/stat) plus the process's start in clock ticks after boot
    /// (field 22 of /proc/self/stat), at USER_HZ = 100 ticks a second: the value Linux fixes for
    /// user space, which Prometheus' own clients also assume.
    pub fn start_time_seconds() -> Option<f64> {
        const USER_HZ: f64 = 100.0;
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        // The command name (field 2) is in parentheses and may hold spaces: count after it.
        let after_name = &stat[stat.rfind(')')? + 1..];
        let ticks: f64 = after_name.split_whitespace().nth(19)?.parse().ok()?;
        let boot = std::fs::read_to_string("/proc/stat").ok()?;
        let btime: f64 = boot
            .lines()
            .find_map(|l| l.strip_prefix("btime "))?
            .trim()
            .parse()
            .ok()?;
        Some(btime + ticks / USER_HZ)
    }
}

//! The task-management service of `specs/task_management.yaml`: create, read, list and
//! complete tasks over HTTP/JSON, stored in SQLite, behind HS256 JWTs and a per-user rate limit.
//!
//! `Faults` plants the bugs SDD must catch (see `TASK_MANAGER_FAULTS` in the README of the
//! example); with none set the service does what its spec says. `metrics` emits SDD's metrics
//! convention (request durations by route, scenario outcomes, process and database gauges);
//! `events` writes SDD's semantic events (one per scenario decision point and per refusal a
//! constraint demands, and a span per request and per scenario step) from `tracing`.

use std::collections::{HashMap, VecDeque};
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, StatementStatus};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing::field::Empty;
use tracing::instrument::WithSubscriber;
use tracing::{Instrument, Span};

pub mod events;
pub mod jwt;
pub mod metrics;
pub mod token_cache;

use events::{Events, EventsConfig};
use metrics::{Metrics, Outcome, Scenario};
use token_cache::TokenCache;

/// The longest title the spec allows.
pub const MAX_TITLE_CHARS: usize = 255;

/// What the `memory_leak` fault keeps of each request: at the 30 to 60 requests a second of a
/// busy hour, 18 to 37 MB a minute: clear within minutes, and 10 minutes at 60 a second
/// keep 370 MB, far from exhausting a machine.
pub const LEAK_PER_REQUEST: usize = 10 * 1024;

/// Bugs that can be switched on, so people and tests can watch verification turn red.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Reading a task or a list takes 150 ms more (breaks the read-latency constraint).
    pub slow_reads: bool,
    /// `GET /tasks` answers without a token, listing everyone's tasks (breaks "Authentication
    /// required").
    pub open_route: bool,
    /// No per-user rate limit (breaks "Rate limiting").
    pub no_rate_limit: bool,
    /// Tasks live in memory only: a restart loses them (breaks "Data durability").
    pub lose_writes: bool,
    /// Completing an already completed task succeeds again and moves `completed_at` (the
    /// "Cannot complete already completed task" scenario left unimplemented).
    pub unimplemented_rule: bool,
    /// Any user can read, complete and list any user's tasks (breaks "Task ownership").
    pub cross_user_access: bool,
    /// `POST /tasks/{id}/complete` answers without a token: a state-changing route left open
    /// (breaks "Authentication required").
    pub open_write: bool,
    /// A body that is not JSON gets a 500 with the panic message and source location (breaks
    /// "SQL injection prevention": bad input must get a 4xx without internals).
    pub crash_on_bad_json: bool,
    /// The `status` filter of `GET /tasks` is spliced into the SQL text, and SQL errors are
    /// answered with SQLite's message (breaks "SQL injection prevention").
    pub sql_in_filter: bool,
    /// Writes are kept in memory and saved only at a graceful shutdown: a crash loses them
    /// (breaks "Data durability", which is about node failure, not a restart).
    pub buffered_writes: bool,
    /// After a number of created tasks (`TASK_MANAGER_DROP_AFTER`, 200), new ones are answered
    /// 201 with an ID as usual but never stored: reads by that ID are 404 and lists miss them.
    /// No status code shows it; reading back what a load created does.
    pub drop_after_writes: Option<WriteBudget>,
    /// A token whose header says `"alg": "none"` is taken unsigned, its claims trusted: anyone
    /// can be any user (breaks "Authentication required").
    pub alg_none: bool,
    /// A bad release: the version reported becomes 1.4.2 (unless `TASK_MANAGER_VERSION` says
    /// otherwise) and its completion statement names a column the schema does not have, so
    /// "Complete a task" fails with a storage error. Nothing else fails.
    pub bad_deploy: bool,
    /// One database shard is down: users whose `db_shard` is B cannot create tasks (a 500 and
    /// "timeout after 5000 ms waiting for shard B", answered at once). Other shards are fine.
    pub bad_shard: bool,
    /// A dependency of creation's `2_store` step answers 120 ms late: slower, never wrong.
    pub slow_dependency: bool,
    // The gradual faults, for the monitoring server's degradation hunter: nothing fails and
    // every answer is right; what degrades is a trend over minutes (memory, read latency as
    // the table grows, the cache's hit ratio).
    /// Every request handled keeps [`LEAK_PER_REQUEST`] bytes that are never freed: resident
    /// memory grows with the requests served so far, not with the current rate.
    pub memory_leak: bool,
    /// Lists are read without an index: every task of every user is read and filtered in the
    /// service, so a list takes longer the more tasks the table holds.
    pub missing_index: bool,
    /// The verified-token cache loses capacity as time passes (see `token_cache`): its hit
    /// ratio declines steadily over minutes; a miss only costs a verification.
    pub cache_decay: bool,
}

// No switch for the fourth incident the debugger is shown, a traffic spike: it is made by the
// load, not the service. A few users sending far more than 100 requests a minute trip the rate
// limit, which shows as `rate_limit.admit` events with outcome `refused`, each with the user's
// `user`, `db_shard` and `client_version`.

pub const FAULT_NAMES: [&str; 18] = [
    "slow_reads",
    "open_route",
    "no_rate_limit",
    "lose_writes",
    "unimplemented_rule",
    "cross_user_access",
    "open_write",
    "crash_on_bad_json",
    "sql_in_filter",
    "buffered_writes",
    "drop_after_writes",
    "alg_none",
    "bad_deploy",
    "bad_shard",
    "slow_dependency",
    "memory_leak",
    "missing_index",
    "cache_decay",
];

/// The `drop_after_writes` fault's budget: how many tasks are stored before the service starts
/// dropping them, and how many were created so far (in memory: a restart starts again).
#[derive(Debug, Clone)]
pub struct WriteBudget {
    pub stored: u64,
    created: Arc<AtomicU64>,
}

impl WriteBudget {
    pub fn new(stored: u64) -> WriteBudget {
        WriteBudget {
            stored,
            created: Arc::default(),
        }
    }

    /// From `TASK_MANAGER_DROP_AFTER` (unset: 200).
    fn from_env() -> Result<WriteBudget, String> {
        match std::env::var("TASK_MANAGER_DROP_AFTER") {
            Ok(n) => n
                .parse()
                .map(WriteBudget::new)
                .map_err(|_| format!("TASK_MANAGER_DROP_AFTER must be a number, not `{n}`")),
            Err(_) => Ok(WriteBudget::new(200)),
        }
    }

    /// Count one created task; `Some(n)` (the n-th dropped, from 1) once past the budget.
    fn dropped(&self) -> Option<u64> {
        let created = self.created.fetch_add(1, Ordering::Relaxed) + 1;
        created.checked_sub(self.stored).filter(|n| *n > 0)
    }
}

impl PartialEq for WriteBudget {
    fn eq(&self, other: &Self) -> bool {
        self.stored == other.stored
    }
}

impl Eq for WriteBudget {}

impl Faults {
    /// Parse a comma-separated list such as `slow_reads,open_route`; `none` or empty is none.
    pub fn parse(list: &str) -> Result<Faults, String> {
        let mut faults = Faults::default();
        for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            match name {
                "none" => {}
                "slow_reads" => faults.slow_reads = true,
                "open_route" => faults.open_route = true,
                "no_rate_limit" => faults.no_rate_limit = true,
                "lose_writes" => faults.lose_writes = true,
                "unimplemented_rule" => faults.unimplemented_rule = true,
                "cross_user_access" => faults.cross_user_access = true,
                "open_write" => faults.open_write = true,
                "crash_on_bad_json" => faults.crash_on_bad_json = true,
                "sql_in_filter" => faults.sql_in_filter = true,
                "buffered_writes" => faults.buffered_writes = true,
                "drop_after_writes" => faults.drop_after_writes = Some(WriteBudget::from_env()?),
                "alg_none" => faults.alg_none = true,
                "bad_deploy" => faults.bad_deploy = true,
                "bad_shard" => faults.bad_shard = true,
                "slow_dependency" => faults.slow_dependency = true,
                "memory_leak" => faults.memory_leak = true,
                "missing_index" => faults.missing_index = true,
                "cache_decay" => faults.cache_decay = true,
                other => {
                    return Err(format!(
                        "unknown fault `{other}`; known: {}",
                        FAULT_NAMES.join(", ")
                    ))
                }
            }
        }
        Ok(faults)
    }

    /// From `TASK_MANAGER_FAULTS` (unset: none).
    pub fn from_env() -> Result<Faults, String> {
        Faults::parse(&std::env::var("TASK_MANAGER_FAULTS").unwrap_or_default())
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The SQLite file (its directory is created). Ignored under the `lose_writes` fault.
    pub database: PathBuf,
    /// HS256 secret the tokens are signed with.
    pub jwt_secret: String,
    /// Requests per minute per user (the `sub` claim).
    pub rate_limit_per_minute: usize,
    pub faults: Faults,
    /// The version the service reports (`TASK_MANAGER_VERSION`); `None`:
    /// [`DEFAULT_VERSION`], or [`BAD_DEPLOY_VERSION`] under the `bad_deploy` fault.
    pub version: Option<String>,
    /// Where the semantic events go (`EVENTS_LOG`, `OTLP_LOG`); both `None`: no events.
    pub events: EventsConfig,
}

/// The version reported when `TASK_MANAGER_VERSION` is unset.
pub const DEFAULT_VERSION: &str = "1.4.1";
/// The version reported under the `bad_deploy` fault when `TASK_MANAGER_VERSION` is unset: the
/// bump shows in `sdd_build_info` and in every event.
pub const BAD_DEPLOY_VERSION: &str = "1.4.2";

impl Config {
    /// The version the service reports.
    pub fn service_version(&self) -> &str {
        match &self.version {
            Some(version) => version,
            None if self.faults.bad_deploy => BAD_DEPLOY_VERSION,
            None => DEFAULT_VERSION,
        }
    }
}

/// The database shard a user's tasks would live on, `A`, `B` or `C`: FNV-1a (64-bit) of the
/// user's name, modulo 3. The service has one database; the shard is a dimension of its events
/// (and the `bad_shard` fault's target), stable across restarts and processes.
pub fn db_shard(user: &str) -> &'static str {
    ["A", "B", "C"][(fnv1a(user.as_bytes()) % 3) as usize]
}

/// FNV-1a, 64-bit.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

#[derive(Clone)]
pub struct App {
    db: Arc<Mutex<Connection>>,
    limiter: Arc<Mutex<HashMap<String, VecDeque<Instant>>>>,
    config: Arc<Config>,
    metrics: Arc<Metrics>,
    /// The semantic event pipeline, `None` when `config.events` names no file.
    events: Option<Events>,
    /// Tokens verified before, so a token sent again is not verified again.
    tokens: Arc<TokenCache>,
    /// Rows SQLite stepped through in full-table scans to answer lists.
    list_rows_scanned: Arc<AtomicU64>,
    /// The `memory_leak` fault's hoard (empty without it).
    leak: Arc<Leak>,
}

/// The planted `memory_leak` fault: a buffer kept for each request handled, never freed.
#[derive(Debug, Default)]
struct Leak {
    buffers: Mutex<Vec<Box<[u8]>>>,
}

impl Leak {
    fn retain_one(&self) {
        // Filled with a non-zero byte so that its pages are written, and resident: a zeroed
        // allocation could stay untouched pages that cost no memory.
        let buffer = vec![0xa5_u8; LEAK_PER_REQUEST].into_boxed_slice();
        let mut buffers = self.buffers.lock().unwrap_or_else(|e| e.into_inner());
        buffers.push(buffer);
    }

    fn retained_bytes(&self) -> usize {
        let buffers = self.buffers.lock().unwrap_or_else(|e| e.into_inner());
        buffers.iter().map(|b| b.len()).sum()
    }
}

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq, Clone)]
pub struct Task {
    pub id: i64,
    /// The `sub` of the user who created it; only they see it.
    #[serde(skip)]
    pub owner: String,
    pub title: String,
    pub status: String,
    pub created_at: String,
    pub completed_at: Option<String>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tasks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'completed')),
    created_at TEXT NOT NULL,
    completed_at TEXT,
    owner TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS tasks_by_status ON tasks (status, id);
";

/// A user's tasks, newest first, with or without a status filter.
const OWNER_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS tasks_by_owner ON tasks (owner, id);
CREATE INDEX IF NOT EXISTS tasks_by_owner_status ON tasks (owner, status, id);
";

/// Files made before tasks had owners get the column (their tasks belong to no one).
const ADD_OWNER: &str = "ALTER TABLE tasks ADD COLUMN owner TEXT NOT NULL DEFAULT ''";

/// The user a request is made as: the token's `sub`, or `None` on a route left open.
#[derive(Debug, Clone)]
struct User(String);

impl App {
    pub fn open(config: Config) -> Result<App, String> {
        let in_memory = config.faults.lose_writes || config.faults.buffered_writes;
        let db = if in_memory {
            Connection::open_in_memory()
        } else {
            if let Some(dir) = config
                .database
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
            {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            Connection::open(&config.database)
        }
        .map_err(|e| format!("cannot open {}: {e}", config.database.display()))?;
        // WAL with synchronous=NORMAL: a committed write survives the process being killed
        // (it is in the OS's hands), and readers never wait for the writer.
        db.execute_batch("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;")
            .and_then(|_| db.execute_batch(SCHEMA))
            .map_err(|e| format!("cannot prepare the database: {e}"))?;
        let has_owner = db.prepare("SELECT owner FROM tasks LIMIT 0").is_ok();
        if !has_owner {
            db.execute_batch(ADD_OWNER)
                .map_err(|e| format!("cannot add task owners: {e}"))?;
        }
        db.execute_batch(OWNER_INDEXES)
            .map_err(|e| format!("cannot index task owners: {e}"))?;
        if config.faults.buffered_writes {
            // The planted fault: the file is read at start and written only by `save`.
            copy_tasks(&db, &config.database, Copy::FromFile)?;
        }
        // The metrics' own read-only connection, for the database's size: a scrape never waits
        // for a handler (WAL lets it read while they write).
        let size_source = if in_memory {
            None
        } else {
            let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            let connection = Connection::open_with_flags(&config.database, flags).map_err(|e| {
                format!("cannot open {} for metrics: {e}", config.database.display())
            })?;
            Some(connection)
        };
        let events = if config.events.is_off() {
            None
        } else {
            Some(Events::start(&config.events, config.service_version())?)
        };
        let tokens = Arc::new(TokenCache::new(config.faults.cache_decay));
        let metrics = Metrics::new(size_source, config.service_version(), tokens.clone());
        Ok(App {
            metrics: Arc::new(metrics),
            events,
            tokens,
            list_rows_scanned: Arc::default(),
            leak: Arc::default(),
            db: Arc::new(Mutex::new(db)),
            limiter: Arc::new(Mutex::new(HashMap::new())),
            config: Arc::new(config),
        })
    }

    /// The service's metrics (served by [`App::metrics_router`]).
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// The semantic event pipeline (flush it to read the files; shut it down at exit).
    pub fn events(&self) -> Option<&Events> {
        self.events.as_ref()
    }

    /// The cache of verified tokens.
    pub fn token_cache(&self) -> &TokenCache {
        &self.tokens
    }

    /// Rows SQLite stepped through in full-table scans to answer lists since the start: what
    /// an index spares (0 with the indexes in use, the table's size per list without them).
    pub fn list_rows_scanned(&self) -> u64 {
        self.list_rows_scanned.load(Ordering::Relaxed)
    }

    /// Bytes the `memory_leak` fault has kept (0 without it).
    pub fn leaked_bytes(&self) -> usize {
        self.leak.retained_bytes()
    }

    /// `GET /metrics`, for the separate metrics listener: no token, as it is not on the API's
    /// port (every API endpoint but `/health` requires one).
    pub fn metrics_router(&self) -> Router {
        Router::new()
            .route("/metrics", get(metrics::serve_metrics))
            .with_state(self.metrics.clone())
    }

    pub fn router(self) -> Router {
        let protected = Router::new()
            .route("/tasks", post(create_task))
            .route("/tasks/{id}", get(get_task));
        // The planted faults leave one route each open to requests without a token (a token
        // that is sent is still checked, and its user still owns and is limited).
        let guarded = |router: Router<App>, open: bool| {
            if open {
                router.route_layer(middleware::from_fn_with_state(
                    self.clone(),
                    authenticate_if_token,
                ))
            } else {
                router.route_layer(middleware::from_fn_with_state(self.clone(), authenticate))
            }
        };
        let list = Router::new().route("/tasks", get(list_tasks));
        let complete = Router::new().route("/tasks/{id}/complete", post(complete_task));
        let mut router = Router::new()
            .merge(guarded(protected, false))
            .merge(guarded(list, self.config.faults.open_route))
            .merge(guarded(complete, self.config.faults.open_write))
            .route("/health", get(health));
        if self.config.faults.memory_leak {
            router = router.layer(middleware::from_fn_with_state(
                self.clone(),
                retain_per_request,
            ));
        }
        router
            // A trace per request, its span around authentication and the handler.
            .layer(middleware::from_fn_with_state(self.clone(), trace_request))
            // Outermost, so refusals by authentication and the rate limit and requests no
            // route matches are timed too; `Router::layer` keeps the matched route template.
            .layer(middleware::from_fn_with_state(
                self.metrics.clone(),
                metrics::measure,
            ))
            .with_state(self)
    }

    /// At a graceful shutdown: under `buffered_writes`, the tasks kept in memory go to the
    /// file. Otherwise every write is already there.
    pub fn save(&self) -> Result<(), String> {
        if self.config.faults.buffered_writes {
            copy_tasks(&self.db(), &self.config.database, Copy::ToFile)?;
        }
        Ok(())
    }

    /// The connection, counted in `db_connections_in_use` while it is held.
    fn db(&self) -> Db<'_> {
        // A panic while holding the lock cannot leave SQLite half-written (statements are
        // atomic), so a poisoned lock is still usable.
        let connection = self.db.lock().unwrap_or_else(|e| e.into_inner());
        let in_use = self.metrics.db_in_use();
        in_use.fetch_add(1, Ordering::Relaxed);
        Db { connection, in_use }
    }

    /// Count a request for `user`; `Err(seconds)` until the oldest request in the window ages out.
    fn admit(&self, user: &str) -> Result<(), u64> {
        if self.config.faults.no_rate_limit {
            return Ok(());
        }
        let window = Duration::from_secs(60);
        let now = Instant::now();
        let mut limiter = self.limiter.lock().unwrap_or_else(|e| e.into_inner());
        let seen = limiter.entry(user.to_string()).or_default();
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) >= window)
        {
            seen.pop_front();
        }
        if seen.len() >= self.config.rate_limit_per_minute {
            let oldest = seen.front().copied().unwrap_or(now);
            let wait = window.saturating_sub(now.duration_since(oldest));
            return Err(wait.as_secs().max(1));
        }
        seen.push_back(now);
        Ok(())
    }
}

/// The connection held by a handler: counted as in use from the lock's acquisition (waiting
/// for it does not count) to its release.
struct Db<'a> {
    connection: MutexGuard<'a, Connection>,
    in_use: &'a AtomicI64,
}

impl std::ops::Deref for Db<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.connection
    }
}

impl Drop for Db<'_> {
    fn drop(&mut self) {
        self.in_use.fetch_sub(1, Ordering::Relaxed);
    }
}

enum Copy {
    FromFile,
    ToFile,
}

/// Copy every task between the in-memory database and the file (the `buffered_writes` fault).
fn copy_tasks(db: &Connection, file: &std::path::Path, direction: Copy) -> Result<(), String> {
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let copy = match direction {
        Copy::FromFile => "INSERT INTO main.tasks SELECT id, title, status, created_at, completed_at, owner FROM disk.tasks",
        Copy::ToFile => "DELETE FROM disk.tasks; INSERT INTO disk.tasks SELECT id, title, status, created_at, completed_at, owner FROM main.tasks",
    };
    db.execute("ATTACH DATABASE ?1 AS disk", [file.to_string_lossy()])
        .and_then(|_| {
            // `disk.tasks` and `disk.tasks_by_status`.
            db.execute_batch(&SCHEMA.replace("EXISTS tasks", "EXISTS disk.tasks"))
        })
        .and_then(|_| {
            if db.prepare("SELECT owner FROM disk.tasks LIMIT 0").is_err() {
                db.execute_batch(&ADD_OWNER.replace("TABLE tasks", "TABLE disk.tasks"))?;
            }
            db.execute_batch(copy)
        })
        .and_then(|_| db.execute_batch("DETACH DATABASE disk"))
        .map_err(|e| format!("cannot copy the tasks: {e}"))
}

/// A refusal's status and message, for [`error`] to answer.
fn refusal(status: StatusCode, message: impl Into<String>) -> (StatusCode, String) {
    (status, message.into())
}

/// An error response: `{"error": message}` with `status`.
fn error(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

/// The SDD IDs of the constraints whose refusals are events.
const AUTHENTICATION_REQUIRED: &str = "task_management_system.security.authentication_required";
const RATE_LIMITING: &str = "task_management_system.security.rate_limiting";

/// A span per request (a new trace, or the one of an incoming W3C `traceparent`), with the
/// request's dimensions, which every event and step span in it carries. Only when the service
/// writes events: otherwise the request runs as it is.
async fn trace_request(State(app): State<App>, request: Request, next: Next) -> Response {
    let Some(events) = app.events.clone() else {
        return next.run(request).await;
    };
    let route = request
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or(metrics::UNMATCHED_ROUTE, |p| p.as_str())
        .to_string();
    let traceparent = header_text(request.headers(), "traceparent");
    let client_version = header_text(request.headers(), "x-client-version");
    let span = tracing::dispatcher::with_default(events.dispatch(), || {
        tracing::info_span!(
            "http.request",
            otel.kind = "server",
            traceparent = traceparent,
            http.request.method = request.method().as_str(),
            http.route = route,
            http.response.status_code = Empty,
            user = Empty,
            db_shard = Empty,
            client_version = client_version,
            task_id = Empty,
        )
    });
    let response = next
        .run(request)
        .instrument(span.clone())
        .with_subscriber(events.dispatch().clone())
        .await;
    span.record("http.response.status_code", response.status().as_u16());
    response
}

fn header_text(headers: &HeaderMap, name: &str) -> Option<String> {
    Some(headers.get(name)?.to_str().ok()?.to_string())
}

async fn authenticate(State(app): State<App>, request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return refuse_unauthenticated(false, "missing bearer token");
    };
    let verify = if app.config.faults.alg_none {
        jwt::verify_trusting_alg_none
    } else {
        jwt::verify_hs256
    };
    let now = unix_now();
    let user = match app.tokens.user(token, now) {
        Some(user) => user,
        None => match verify(token, &app.config.jwt_secret, now) {
            Ok(user) => {
                // Verified, so its claims are the ones checked: kept until its `exp`.
                if let Some(expires_at) = jwt::expiry(token) {
                    app.tokens.remember(token, &user, expires_at);
                }
                user
            }
            Err(reason) => return refuse_unauthenticated(true, &reason),
        },
    };
    let span = Span::current();
    span.record("user", user.as_str());
    span.record("db_shard", db_shard(&user));
    if let Err(retry_after) = app.admit(&user) {
        let limit = app.config.rate_limit_per_minute;
        // Admissions are not events (there would be one per request); refusals are.
        tracing::warn!(
            name: "rate_limit.admit",
            constraint = RATE_LIMITING,
            business_rule = "Max 100 requests per minute per user",
            expected_outcome = "at most the limit of requests per minute per user answered",
            actual_outcome = "refused with 429",
            outcome = "refused",
            decision.limit_per_minute = limit,
            decision.retry_after_seconds = retry_after,
            "Rate limit exceeded ({limit} requests per minute)"
        );
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Rate limit exceeded ({limit} requests per minute)"),
        );
        if let Ok(value) = retry_after.to_string().parse() {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let mut request = request;
    request.extensions_mut().insert(User(user));
    next.run(request).await
}

impl App {
    /// The owner a request may see tasks of: its user's, or anyone's (`None`) under the
    /// `cross_user_access` fault or on a route a fault left open.
    fn owner_filter(&self, user: Option<&User>) -> Option<String> {
        if self.config.faults.cross_user_access {
            return None;
        }
        user.map(|u| u.0.clone())
    }
}

/// The planted `memory_leak` fault: each request handled leaves a buffer behind.
async fn retain_per_request(State(app): State<App>, request: Request, next: Next) -> Response {
    app.leak.retain_one();
    next.run(request).await
}

/// The planted faults' open routes: a request without a token goes through as no one.
async fn authenticate_if_token(State(app): State<App>, request: Request, next: Next) -> Response {
    if request.headers().contains_key(header::AUTHORIZATION) {
        authenticate(State(app), request, next).await
    } else {
        next.run(request).await
    }
}

/// A request without a valid token, refused as "Authentication required" demands.
fn refuse_unauthenticated(token_sent: bool, reason: &str) -> Response {
    tracing::warn!(
        name: "auth.verify",
        constraint = AUTHENTICATION_REQUIRED,
        business_rule = "All endpoints require valid JWT token",
        expected_outcome = "only requests with a valid token answered",
        actual_outcome = "refused with 401",
        outcome = "refused",
        decision.token_sent = token_sent,
        "Unauthorized: {reason}"
    );
    unauthorized(reason)
}

fn unauthorized(reason: &str) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, format!("Unauthorized: {reason}"));
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}

async fn health(State(app): State<App>) -> Response {
    match app.db().query_row("SELECT 1", [], |r| r.get::<_, i64>(0)) {
        Ok(_) => Json(json!({ "status": "ok" })).into_response(),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, format!("database: {e}")),
    }
}

/// The business rules of the approved scenarios whose decision points are here, and what each
/// expects, in the words of `specs/task_management.yaml`.
mod rules {
    pub const CREATE: &str = "the task should exist with its title, status \"pending\", a unique ID and a created_at timestamp";
    pub const CREATE_EXPECTED: &str = "the task stored as pending and read back";
    pub const COMPLETE: &str =
        "the task should have status \"completed\" and a completed_at after its created_at";
    pub const COMPLETE_EXPECTED: &str = "status \"completed\" with a completed_at timestamp";
    pub const ALREADY_COMPLETED: &str = "a completed task cannot be completed again";
    pub const ALREADY_COMPLETED_EXPECTED: &str =
        "refused with \"Task is already completed\"; status and completed_at unchanged";
    pub const LIST_FILTERED: &str =
        "listing by status shows exactly the user's tasks with that status";
    pub const LIST_FILTERED_EXPECTED: &str = "the user's tasks with the status asked for";
}

/// One scenario decision point's event, by its outcome: INFO for a success, ERROR for a
/// failure (`tracing` fixes an event's level at compile time, hence the match).
macro_rules! decision {
    ($name:literal, $outcome:expr, $($fields:tt)+) => {
        match $outcome {
            Outcome::Success => tracing::info!(name: $name, outcome = "success", $($fields)+),
            Outcome::Failure => tracing::error!(name: $name, outcome = "failure", $($fields)+),
        }
    };
}

/// A decision event's human text: the task and what happened, or for a failure what went
/// wrong (`complete failed: no such column: completed_on`).
fn message(outcome: Outcome, task_id: i64, actual_outcome: &str) -> String {
    match outcome {
        Outcome::Success => format!("task {task_id}: {actual_outcome}"),
        Outcome::Failure => actual_outcome.to_string(),
    }
}

/// How much later the `slow_dependency` fault's store step answers.
const SLOW_DEPENDENCY: Duration = Duration::from_millis(120);

/// What `bad_shard` answers for shard B, at once (a real client would have waited 5 s).
const SHARD_B_TIMEOUT: &str = "timeout after 5000 ms waiting for shard B";

/// The steps of "Create a simple task": `1_validate` (the body and its title), `2_store`
/// (the insert), `3_read_back` (the stored task read back: the decision point).
async fn create_task(
    State(app): State<App>,
    user: Option<Extension<User>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let owner = user.map(|Extension(u)| u.0).unwrap_or_default();
    let scenario = Scenario::CreateASimpleTask.id();
    let validate = tracing::info_span!(
        "task.create",
        scenario,
        step = "1_validate",
        decision.title_chars = Empty
    );
    // Refused bodies and titles are no approved scenario's decision point: no event, no count.
    let title = match validate.in_scope(|| task_title(&app, &headers, &body)) {
        Ok(title) => title,
        Err((status, message)) => return error(status, message),
    };
    let title_chars = title.chars().count();
    validate.record("decision.title_chars", title_chars);
    drop(validate);
    let store = tracing::info_span!("task.create", scenario, step = "2_store");
    if app.config.faults.slow_dependency {
        // The planted fault: inside the step's span, so its duration shows it.
        tokio::time::sleep(SLOW_DEPENDENCY)
            .instrument(store.clone())
            .await;
    }
    store_task(&app, store, owner, title, title_chars)
}

/// The body's title, or the refusal to answer (its status and message).
fn task_title(
    app: &App,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<String, (StatusCode, String)> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.starts_with("application/json"));
    if !is_json {
        return Err(refusal(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "send the task as application/json",
        ));
    }
    let title = match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(fields)) => match fields.get("title") {
            Some(Value::String(title)) => title.clone(),
            Some(_) => return Err(refusal(StatusCode::BAD_REQUEST, "title must be a string")),
            None => return Err(refusal(StatusCode::BAD_REQUEST, "Title is required")),
        },
        Ok(_) => return Err(refusal(StatusCode::BAD_REQUEST, "send a JSON object")),
        Err(e) if app.config.faults.crash_on_bad_json => {
            // The planted fault: an unwrap's panic message, source location included.
            return Err(refusal(
                StatusCode::INTERNAL_SERVER_ERROR,
                format!("thread 'tokio-runtime-worker' panicked at src/lib.rs:331:62:\ncalled `Result::unwrap()` on an `Err` value: {e}"),
            ));
        }
        Err(e) => {
            return Err(refusal(
                StatusCode::BAD_REQUEST,
                format!("invalid JSON: {e}"),
            ))
        }
    };
    if title.trim().is_empty() {
        return Err(refusal(StatusCode::BAD_REQUEST, "Title is required"));
    }
    if title.chars().count() > MAX_TITLE_CHARS {
        return Err(refusal(
            StatusCode::BAD_REQUEST,
            format!("Title too long (max {MAX_TITLE_CHARS})"),
        ));
    }
    Ok(title)
}

/// Creation's `2_store` (in `store`, its span) and `3_read_back` steps.
fn store_task(
    app: &App,
    store: Span,
    owner: String,
    title: String,
    title_chars: usize,
) -> Response {
    let scenario = Scenario::CreateASimpleTask.id();
    let failed = |actual_outcome: &str, message: &str| {
        decision!(
            "task.create",
            Outcome::Failure,
            scenario,
            step = "2_store",
            business_rule = rules::CREATE,
            expected_outcome = rules::CREATE_EXPECTED,
            actual_outcome,
            decision.title_chars = title_chars,
            "{message}"
        );
        app.metrics
            .scenario(Scenario::CreateASimpleTask, Outcome::Failure);
    };
    let in_store = store.enter();
    if app.config.faults.bad_shard && db_shard(&owner) == "B" {
        // The planted fault: shard B's store does not answer; the others are fine.
        failed("not stored: shard B timed out", SHARD_B_TIMEOUT);
        return storage_failure(SHARD_B_TIMEOUT);
    }
    let created_at = rfc3339(SystemTime::now());
    let budget = app.config.faults.drop_after_writes.as_ref();
    if let Some(n) = budget.and_then(WriteBudget::dropped) {
        // The planted fault: answered as if stored (with an ID no stored task has), never stored.
        // "A task should exist" is broken, and the decision point says so.
        let id = 1_000_000_000 + n as i64;
        Span::current().record("task_id", id);
        failed(
            "answered 201 with an ID, never stored",
            "task answered as created but not stored",
        );
        let task = Task {
            id,
            title,
            status: "pending".into(),
            created_at,
            completed_at: None,
            owner,
        };
        return (StatusCode::CREATED, Json(task)).into_response();
    }
    let db = app.db();
    // Parameterized: the title is data, whatever it contains.
    let inserted = db
        .execute(
            "INSERT INTO tasks (title, status, created_at, owner) VALUES (?1, 'pending', ?2, ?3)",
            params![title, created_at, owner],
        )
        .map(|_| db.last_insert_rowid());
    let id = match inserted {
        Ok(id) => id,
        Err(e) => {
            drop(db);
            failed("not stored", &format!("create failed: {e}"));
            return storage_error(e);
        }
    };
    drop(in_store);
    drop(store);
    // The request's business key from here on: its span line and every later event carry it.
    Span::current().record("task_id", id);
    let read_back = tracing::info_span!("task.create", scenario, step = "3_read_back");
    let _in_read_back = read_back.enter();
    let read = fetch(&db, id);
    drop(db);
    // The decision point of "Create a simple task": stored and read back or not. Refused
    // titles belong to no approved scenario and are not counted.
    let (outcome, actual_outcome) = match &read {
        Ok(Some(_)) => (
            Outcome::Success,
            "stored as pending and read back".to_string(),
        ),
        Ok(None) => (Outcome::Failure, "stored but not found".to_string()),
        Err(e) => (Outcome::Failure, format!("read back failed: {e}")),
    };
    decision!(
        "task.create",
        outcome,
        scenario,
        step = "3_read_back",
        business_rule = rules::CREATE,
        expected_outcome = rules::CREATE_EXPECTED,
        actual_outcome = actual_outcome.as_str(),
        decision.title_chars = title_chars,
        "{}",
        message(outcome, id, &actual_outcome)
    );
    app.metrics.scenario(Scenario::CreateASimpleTask, outcome);
    match read {
        Ok(Some(task)) => (StatusCode::CREATED, Json(task)).into_response(),
        Ok(None) => error(StatusCode::INTERNAL_SERVER_ERROR, "the task vanished"),
        Err(e) => storage_error(e),
    }
}

async fn get_task(
    State(app): State<App>,
    user: Option<Extension<User>>,
    Path(id): Path<String>,
) -> Response {
    let owner = app.owner_filter(user.as_ref().map(|Extension(u)| u));
    if app.config.faults.slow_reads {
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let Ok(id) = id.parse::<i64>() else {
        return error(StatusCode::NOT_FOUND, "Task not found");
    };
    // A read is no decision point (no event); its request span carries the task.
    Span::current().record("task_id", id);
    match fetch(&app.db(), id) {
        // Another user's task is answered as missing: its existence is not theirs to know.
        Ok(Some(task)) if owner.as_ref().is_none_or(|o| *o == task.owner) => {
            Json(task).into_response()
        }
        Ok(_) => error(StatusCode::NOT_FOUND, "Task not found"),
        Err(e) => storage_error(e),
    }
}

#[derive(Deserialize)]
struct ListQuery {
    status: Option<String>,
    limit: Option<String>,
}

/// Newest first; `limit` defaults to 100 (at most 1000).
async fn list_tasks(
    State(app): State<App>,
    user: Option<Extension<User>>,
    Query(query): Query<ListQuery>,
) -> Response {
    let owner = app.owner_filter(user.as_ref().map(|Extension(u)| u));
    if app.config.faults.slow_reads {
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
    let limit = match query.limit.as_deref().map(str::parse::<u32>) {
        None => 100,
        Some(Ok(n)) if (1..=1000).contains(&n) => n,
        Some(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "limit must be a number from 1 to 1000",
            )
        }
    };
    if app.config.faults.sql_in_filter {
        return list_spliced(&app, query.status.as_deref(), owner.as_deref(), limit);
    }
    let status = match query.status.as_deref() {
        None => None,
        Some(s @ ("pending" | "completed")) => Some(s.to_string()),
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                format!("unknown status `{other}`; use pending or completed"),
            )
        }
    };
    let _in_query = status
        .as_deref()
        .map_or_else(Span::none, |status| list_query_span(status, limit))
        .entered();
    let db = app.db();
    let scanned = &app.list_rows_scanned;
    let listed = if app.config.faults.missing_index {
        list_scanning(&db, owner.as_deref(), status.as_deref(), limit, scanned)
    } else {
        list_indexed(&db, owner.as_ref(), status.as_ref(), limit, scanned)
    };
    drop(db);
    if let Some(status) = &status {
        count_filtered_list(&app, status, &listed);
    }
    match listed {
        Ok(tasks) => Json(tasks).into_response(),
        Err(e) => storage_error(e),
    }
}

/// A user's newest tasks (with a status, if asked), each filter answered from its index.
fn list_indexed(
    db: &Connection,
    owner: Option<&String>,
    status: Option<&String>,
    limit: u32,
    scanned: &AtomicU64,
) -> rusqlite::Result<Vec<Task>> {
    // One statement per filter, so each is answered from an index (`x IS NULL OR` in a
    // single statement made SQLite scan every user's tasks for one user's twenty).
    const COLUMNS: &str = "SELECT id, title, status, created_at, completed_at, owner FROM tasks";
    let (filter, values): (&str, Vec<&dyn rusqlite::ToSql>) = match (owner, status) {
        (Some(owner), Some(status)) => ("WHERE owner = ?1 AND status = ?2", vec![owner, status]),
        (Some(owner), None) => ("WHERE owner = ?1", vec![owner]),
        (None, Some(status)) => ("WHERE status = ?1", vec![status]),
        (None, None) => ("", vec![]),
    };
    let limit_at = values.len() + 1;
    let mut statement = db.prepare_cached(&format!(
        "{COLUMNS} {filter} ORDER BY id DESC LIMIT ?{limit_at}"
    ))?;
    let mut values = values;
    values.push(&limit);
    let tasks = statement
        .query_map(values.as_slice(), row_to_task)?
        .collect::<Result<Vec<_>, _>>();
    count_scanned(&statement, scanned);
    tasks
}

/// The planted `missing_index` fault: the statement has nothing an index could answer (and
/// says `NOT INDEXED`), so SQLite reads every task of every user, and the service keeps the
/// user's newest, as code that loads a whole table and filters it does. The work grows with
/// the table, not with the answer.
fn list_scanning(
    db: &Connection,
    owner: Option<&str>,
    status: Option<&str>,
    limit: u32,
    scanned: &AtomicU64,
) -> rusqlite::Result<Vec<Task>> {
    let mut statement = db.prepare_cached(
        "SELECT id, title, status, created_at, completed_at, owner FROM tasks NOT INDEXED ORDER BY id DESC",
    )?;
    let every_task = statement.query_map([], row_to_task)?;
    let mut kept = Vec::new();
    for task in every_task {
        let task = task?;
        let wanted = owner.is_none_or(|o| o == task.owner)
            && status.is_none_or(|s| s == task.status)
            && kept.len() < limit as usize;
        if wanted {
            kept.push(task);
        }
    }
    count_scanned(&statement, scanned);
    Ok(kept)
}

/// Add the rows a list statement stepped through in a full-table scan (SQLite's own count)
/// and start the statement's count again, as it is cached and run again.
fn count_scanned(statement: &rusqlite::Statement<'_>, scanned: &AtomicU64) {
    let rows = statement.reset_status(StatementStatus::FullscanStep);
    scanned.fetch_add(u64::try_from(rows).unwrap_or(0), Ordering::Relaxed);
}

/// The one step of "List tasks filtered by status", `1_query`.
fn list_query_span(status: &str, limit: u32) -> Span {
    tracing::info_span!(
        "task.list",
        scenario = Scenario::ListTasksFilteredByStatus.id(),
        step = "1_query",
        decision.status_filter = status,
        decision.limit = limit,
    )
}

/// The planted `sql_in_filter` fault: the filter spliced into the SQL text, and SQLite's error
/// answered as it is.
fn list_spliced(app: &App, status: Option<&str>, owner: Option<&str>, limit: u32) -> Response {
    // As fast as the healthy statements (the same indexes), so the fault breaks only safety.
    let mut conditions = Vec::new();
    if owner.is_some() {
        conditions.push("owner = ?1".to_string());
    }
    if let Some(status) = status {
        conditions.push(format!("status = '{status}'"));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", conditions.join(" AND "))
    };
    let limit_at = if owner.is_some() { 2 } else { 1 };
    let sql = format!(
        "SELECT id, title, status, created_at, completed_at, owner FROM tasks {filter} ORDER BY id DESC LIMIT ?{limit_at}"
    );
    let counted = status.filter(|s| matches!(*s, "pending" | "completed"));
    let _in_query = counted
        .map_or_else(Span::none, |status| list_query_span(status, limit))
        .entered();
    let db = app.db();
    let listed = (|| {
        let mut statement = db.prepare(&sql)?;
        let rows = match owner {
            Some(owner) => statement.query_map(params![owner, limit], row_to_task)?,
            None => statement.query_map(params![limit], row_to_task)?,
        };
        rows.collect::<Result<Vec<_>, _>>()
    })();
    drop(db);
    if let Some(status) = counted {
        count_filtered_list(app, status, &listed);
    }
    match listed {
        Ok(tasks) => Json(tasks).into_response(),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("sqlite3.OperationalError: {e}"),
        ),
    }
}

/// The decision point of "List tasks filtered by status": a list by `pending` or `completed`
/// was answered, or storage failed. Lists without a filter, or with an unknown one, are not it.
fn count_filtered_list(app: &App, status: &str, listed: &rusqlite::Result<Vec<Task>>) {
    let (outcome, actual_outcome, listed_tasks) = match listed {
        Ok(tasks) => (
            Outcome::Success,
            format!("{} {status} tasks listed", tasks.len()),
            tasks.len(),
        ),
        Err(e) => (Outcome::Failure, format!("list failed: {e}"), 0),
    };
    decision!(
        "task.list",
        outcome,
        scenario = Scenario::ListTasksFilteredByStatus.id(),
        step = "1_query",
        business_rule = rules::LIST_FILTERED,
        expected_outcome = rules::LIST_FILTERED_EXPECTED,
        actual_outcome = actual_outcome.as_str(),
        decision.status_filter = status,
        decision.listed = listed_tasks,
        "{actual_outcome}"
    );
    app.metrics
        .scenario(Scenario::ListTasksFilteredByStatus, outcome);
}

/// The steps of completing: `1_load` (the task), `2_check_status` (a completed task is
/// refused here: "Cannot complete already completed task"), `3_update` (a pending one is
/// completed: "Complete a task").
async fn complete_task(
    State(app): State<App>,
    user: Option<Extension<User>>,
    Path(id): Path<String>,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return error(StatusCode::NOT_FOUND, "Task not found");
    };
    Span::current().record("task_id", id);
    let owner = app.owner_filter(user.as_ref().map(|Extension(u)| u));
    let load = tracing::info_span!(
        "task.complete",
        scenario = Empty,
        step = "1_load",
        decision.was_completed = Empty
    );
    let in_load = load.enter();
    let db = app.db();
    // Held from here to the update, so the status read is the one the update meets.
    let was_completed = match fetch(&db, id) {
        Ok(Some(task)) if owner.as_ref().is_none_or(|o| *o == task.owner) => {
            task.status == "completed"
        }
        Ok(_) => return error(StatusCode::NOT_FOUND, "Task not found"),
        Err(e) => {
            drop(db);
            decision!(
                "task.complete",
                Outcome::Failure,
                scenario = Scenario::CompleteATask.id(),
                step = "1_load",
                business_rule = rules::COMPLETE,
                expected_outcome = rules::COMPLETE_EXPECTED,
                actual_outcome = "the task could not be read",
                "complete failed: {e}"
            );
            app.metrics
                .scenario(Scenario::CompleteATask, Outcome::Failure);
            return storage_error(e);
        }
    };
    // A pending task is "Complete a task"; a completed one is "Cannot complete already
    // completed task", whose success is the refusal.
    let scenario = if was_completed {
        Scenario::CannotCompleteAlreadyCompletedTask
    } else {
        Scenario::CompleteATask
    };
    load.record("scenario", scenario.id());
    load.record("decision.was_completed", was_completed);
    drop(in_load);
    drop(load);
    let check = tracing::info_span!(
        "task.complete",
        scenario = scenario.id(),
        step = "2_check_status",
        decision.was_completed = was_completed
    );
    let in_check = check.enter();
    // The rule is checked under the lock the load took, so the refusal is final. (The
    // `unimplemented_rule` fault skips the check: the task is completed again below.)
    if was_completed && !app.config.faults.unimplemented_rule {
        drop(db);
        decision!(
            "task.complete",
            Outcome::Success,
            scenario = scenario.id(),
            step = "2_check_status",
            business_rule = rules::ALREADY_COMPLETED,
            expected_outcome = rules::ALREADY_COMPLETED_EXPECTED,
            actual_outcome = "refused with \"Task is already completed\"",
            decision.was_completed = was_completed,
            "task {id} is already completed: refused"
        );
        app.metrics.scenario(scenario, Outcome::Success);
        return error(StatusCode::CONFLICT, "Task is already completed");
    }
    drop(in_check);
    drop(check);
    let update_span =
        tracing::info_span!("task.complete", scenario = scenario.id(), step = "3_update");
    let _in_update = update_span.enter();
    // One conditional update: of two simultaneous completions exactly one changes the row,
    // whatever the connection handling around it.
    let update = if app.config.faults.unimplemented_rule {
        "UPDATE tasks SET status = 'completed', completed_at = ?1 WHERE id = ?2"
    } else if app.config.faults.bad_deploy {
        // The planted fault: the release's statement names a column of a migration that was
        // never run, so SQLite refuses it ("no such column: completed_on").
        "UPDATE tasks SET status = 'completed', completed_on = ?1
         WHERE id = ?2 AND status = 'pending'"
    } else {
        "UPDATE tasks SET status = 'completed', completed_at = ?1
         WHERE id = ?2 AND status = 'pending'"
    };
    let completed = db.execute(update, params![rfc3339(SystemTime::now()), id]);
    let result = completed.and_then(|changed| Ok((changed, fetch(&db, id)?)));
    drop(db);
    let outcome = match (&result, scenario) {
        // Completed again (the `unimplemented_rule` fault): the rule is broken.
        (Ok((1, Some(_))), Scenario::CannotCompleteAlreadyCompletedTask) => Outcome::Failure,
        (Ok((1, Some(_))), _) => Outcome::Success,
        (Ok((_, Some(_))), Scenario::CannotCompleteAlreadyCompletedTask) => Outcome::Success,
        _ => Outcome::Failure,
    };
    let (business_rule, expected_outcome) = match scenario {
        Scenario::CannotCompleteAlreadyCompletedTask => {
            (rules::ALREADY_COMPLETED, rules::ALREADY_COMPLETED_EXPECTED)
        }
        _ => (rules::COMPLETE, rules::COMPLETE_EXPECTED),
    };
    let actual_outcome = match &result {
        Ok((1, Some(_))) if was_completed => "completed again".to_string(),
        Ok((1, Some(_))) => "completed".to_string(),
        Ok((_, Some(_))) => "refused with \"Task is already completed\"".to_string(),
        Ok((_, None)) => "the task vanished".to_string(),
        Err(e) => format!("complete failed: {e}"),
    };
    decision!(
        "task.complete",
        outcome,
        scenario = scenario.id(),
        step = "3_update",
        business_rule,
        expected_outcome,
        actual_outcome = actual_outcome.as_str(),
        decision.was_completed = was_completed,
        "{}",
        message(outcome, id, &actual_outcome)
    );
    app.metrics.scenario(scenario, outcome);
    match result {
        Ok((1, Some(task))) => Json(task).into_response(),
        Ok((_, Some(_))) => error(StatusCode::CONFLICT, "Task is already completed"),
        Ok((_, None)) => error(StatusCode::NOT_FOUND, "Task not found"),
        Err(e) => storage_error(e),
    }
}

fn fetch(db: &Connection, id: i64) -> rusqlite::Result<Option<Task>> {
    db.prepare_cached(
        "SELECT id, title, status, created_at, completed_at, owner FROM tasks WHERE id = ?1",
    )?
    .query_row([id], row_to_task)
    .optional()
}

fn row_to_task(row: &rusqlite::Row<'_>) -> rusqlite::Result<Task> {
    Ok(Task {
        id: row.get(0)?,
        title: row.get(1)?,
        status: row.get(2)?,
        created_at: row.get(3)?,
        completed_at: row.get(4)?,
        owner: row.get(5)?,
    })
}

/// Storage failures are logged in full and answered without internals.
fn storage_error(e: rusqlite::Error) -> Response {
    storage_failure(&e.to_string())
}

fn storage_failure(reason: &str) -> Response {
    eprintln!("storage error: {reason}");
    error(StatusCode::INTERNAL_SERVER_ERROR, "storage error")
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// `2026-11-22T20:15:03.123456Z`: microseconds, so that a completion right after a creation
/// still sorts after it.
pub fn rfc3339(at: SystemTime) -> String {
    let since = at.duration_since(UNIX_EPOCH).unwrap_or_default();
    let seconds = i64::try_from(since.as_secs()).unwrap_or(i64::MAX);
    // Beyond chrono's range (about 262,000 years), which no clock reaches: the epoch.
    chrono::DateTime::from_timestamp(seconds, since.subsec_micros() * 1000)
        .unwrap_or(chrono::DateTime::UNIX_EPOCH)
        .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_write_budget_drops_everything_after_it_and_its_clones_share_it() {
        let budget = WriteBudget::new(2);
        let shared = budget.clone();
        assert_eq!(budget.dropped(), None);
        assert_eq!(shared.dropped(), None);
        assert_eq!(budget.dropped(), Some(1));
        assert_eq!(shared.dropped(), Some(2));
        assert_eq!(WriteBudget::new(0).dropped(), Some(1));
    }

    #[test]
    fn db_shards_are_fnv_1a_of_the_user_modulo_3() {
        // FNV-1a 64 of "" is its offset basis, 0xcbf29ce484222325 (14695981039346656037).
        assert_eq!(14_695_981_039_346_656_037_u64 % 3, 2);
        assert_eq!(db_shard(""), "C");
        // "a": 0xaf63dc4c8601ec8c.
        assert_eq!(0xaf63_dc4c_8601_ec8c_u64 % 3, 1);
        assert_eq!(db_shard("a"), "B");
        let users: Vec<String> = (0..300).map(|n| format!("user-{n}")).collect();
        for shard in ["A", "B", "C"] {
            let on = users.iter().filter(|u| db_shard(u) == shard).count();
            assert!((60..=140).contains(&on), "{shard}: {on} of 300");
        }
    }

    #[test]
    fn the_version_reported_is_set_or_bumped_by_a_bad_deploy() {
        let config = |version: Option<&str>, faults: &str| Config {
            database: PathBuf::new(),
            jwt_secret: String::new(),
            rate_limit_per_minute: 1,
            faults: Faults::parse(faults).unwrap(),
            version: version.map(str::to_string),
            events: EventsConfig::default(),
        };
        assert_eq!(config(None, "").service_version(), "1.4.1");
        assert_eq!(config(None, "bad_deploy").service_version(), "1.4.2");
        assert_eq!(
            config(Some("2.0.0"), "bad_deploy").service_version(),
            "2.0.0"
        );
    }

    #[test]
    fn rfc3339_matches_known_instants() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let at = UNIX_EPOCH + Duration::new(1_795_378_503, 123_456_000);
        assert_eq!(rfc3339(at), "2026-11-22T20:15:03.123456Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00.000000Z");
        let not_leap = UNIX_EPOCH + Duration::new(4_107_542_399, 999_999_999); // 2100: no leap day
        assert_eq!(rfc3339(not_leap), "2100-02-28T23:59:59.999999Z");
    }

    #[test]
    fn a_connection_is_counted_in_use_while_a_handler_holds_it() {
        let dir = std::env::temp_dir().join(format!("task-manager-unit-{}", std::process::id()));
        let app = App::open(Config {
            database: dir.join("tasks.sqlite3"),
            jwt_secret: "secret".into(),
            rate_limit_per_minute: 100,
            faults: Faults::default(),
            version: None,
            events: EventsConfig::default(),
        })
        .unwrap();
        // A scrape reads the size through its own connection, so it does not wait for `held`.
        let in_use = |app: &App| {
            let (_, text) = app.metrics().exposition(None);
            let line = text
                .lines()
                .find(|l| l.starts_with("db_connections_in_use "));
            line.map(|l| l["db_connections_in_use ".len()..].to_string())
        };
        assert_eq!(in_use(&app).as_deref(), Some("0"));
        let held = app.db();
        assert_eq!(in_use(&app).as_deref(), Some("1"));
        drop(held);
        assert_eq!(in_use(&app).as_deref(), Some("0"));
        drop(app);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn faults_parse_and_refuse_unknown_names() {
        assert_eq!(Faults::parse("").unwrap(), Faults::default());
        assert_eq!(Faults::parse("none").unwrap(), Faults::default());
        let f = Faults::parse("slow_reads, lose_writes").unwrap();
        assert!(f.slow_reads && f.lose_writes && !f.open_route);
        assert!(f.drop_after_writes.is_none());
        let f = Faults::parse("drop_after_writes").unwrap();
        assert_eq!(f.drop_after_writes, Some(WriteBudget::new(200)));
        let f = Faults::parse("alg_none").unwrap();
        assert!(f.alg_none && !f.open_route);
        let f = Faults::parse("bad_deploy,bad_shard,slow_dependency").unwrap();
        assert!(f.bad_deploy && f.bad_shard && f.slow_dependency && !f.slow_reads);
        // Every name the error message lists is one `parse` takes.
        for name in FAULT_NAMES {
            assert_ne!(Faults::parse(name).unwrap(), Faults::default(), "{name}");
        }
        assert!(Faults::parse("slow")
            .unwrap_err()
            .contains("unknown fault `slow`"));
    }
}

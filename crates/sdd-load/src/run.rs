//! Running a plan: one single-threaded runtime per generator thread, connections shared out
//! among them, a global request counter that gives every request of the open model its intended
//! send time, per-thread histograms merged at the end.
//!
//! Coordinated omission: in the open model a request's latency runs from when it *should* have
//! been sent. When the service stalls, requests that had to wait for a free connection carry that
//! wait, as a user arriving on schedule would; a closed-loop tool would simply not send them.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use sdd_http::AllowedHosts;

use crate::http1::{serialize_request, Connection, ExchangeError};
use crate::plan::{LoadPlan, Model, Schedule};
use crate::report::{percentiles, ErrorCounts, GeneratorHealth, LoadReport};
use crate::sample::{samples_method, Sampler};

/// A worker that wakes later than this after a request's send time counts as late.
const LATE_WAKE: Duration = Duration::from_millis(2);
/// The generator is the limit when its threads were busier than this share of the time …
const BUSY_LIMIT: f64 = 0.9;
/// … or when its 99th-percentile wake-up lag exceeds this.
const LIMITED_LAG_MS: f64 = 5.0;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("`{0}` is not an http://host:port URL (https is not supported)")]
    BadUrl(String),
    #[error("host `{0}` is not allowed: load goes to loopback only unless sdd.yaml lists the host under `targets.allowed_hosts`")]
    HostNotAllowed(String),
    #[error("cannot resolve `{0}`: {1}")]
    Resolve(String, std::io::Error),
    #[error("the plan has no endpoints")]
    NoEndpoints,
    #[error("the plan is invalid: {0}")]
    Invalid(String),
    #[error("a generator thread failed: {0}")]
    Thread(String),
}

struct Prepared {
    method: String,
    path: String,
    /// The headers of each simulated user (one set when the plan has no identities).
    headers: Vec<Vec<(String, String)>>,
    body: Option<String>,
    /// Each user's request bytes, when nothing in the request changes per request.
    fixed: Option<Vec<Vec<u8>>>,
    head: bool,
    /// `POST /tasks`: how samples name the endpoint.
    label: String,
    /// Its 2xx answers go to the sampler (a write, and the plan asks for samples).
    sampled: bool,
}

struct Shared {
    address: SocketAddr,
    host: String,
    endpoints: Vec<Prepared>,
    /// Cumulative weights, for picking an endpoint by request number.
    cumulative: Vec<u64>,
    schedule: Option<Schedule>,
    next: AtomicU64,
    measured: AtomicU64,
    start: Instant,
    measure_from: Instant,
    stop_at: Instant,
    max_requests: Option<u64>,
    timeout: Duration,
    reuse: bool,
    cancel: Arc<Cancel>,
    /// Present only when the plan asks for samples of what the writes created.
    sampler: Option<Sampler>,
    /// The plan has simulated users (samples then say whose write it was).
    identities: bool,
}

/// Stops a run early: every connection ends at once (its request in flight abandoned), the
/// threads return, and the report covers what was sent until then.
#[derive(Debug, Default)]
pub struct Cancel {
    cancelled: AtomicBool,
    notify: tokio::sync::Notify,
}

impl Cancel {
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::SeqCst)
    }

    /// Until [`Cancel::cancel`] is called (at once if it was).
    async fn cancelled(&self) {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            // Registered before the flag is read, so a cancel in between is not missed.
            notified.as_mut().enable();
            if self.is_cancelled() {
                return;
            }
            notified.await;
        }
    }
}

/// Cancels the run when the future awaiting it is dropped (a cancelled MCP call).
struct CancelOnDrop(Arc<Cancel>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

impl Shared {
    fn endpoint(&self, seq: u64) -> &Prepared {
        let total = *self.cumulative.last().unwrap_or(&1);
        let slot = seq % total;
        let at = self.cumulative.partition_point(|c| *c <= slot);
        &self.endpoints[at.min(self.endpoints.len() - 1)]
    }

    /// Offer a 2xx answer to request `seq` to the sampler, if it samples that endpoint; the
    /// body is read only when the answer is kept.
    fn sample(&self, seq: u64, response: &crate::http1::Response, conn: &Connection) {
        let Some(sampler) = &self.sampler else {
            return;
        };
        let e = self.endpoint(seq);
        if !e.sampled || !(200..300).contains(&response.status) {
            return;
        }
        if let Some(slot) = sampler.slot() {
            let user = self
                .identities
                .then(|| (seq % e.headers.len() as u64) as usize);
            let body = conn.body(response);
            sampler.keep(
                slot,
                &e.label,
                seq,
                user,
                body.as_deref().unwrap_or_default(),
            );
        }
    }

    fn request(&self, seq: u64) -> (std::borrow::Cow<'_, [u8]>, bool) {
        let e = self.endpoint(seq);
        let user = (seq % e.headers.len() as u64) as usize;
        if let Some(fixed) = &e.fixed {
            return (std::borrow::Cow::Borrowed(&fixed[user]), e.head);
        }
        let n = seq.to_string();
        let path = e.path.replace("{{seq}}", &n);
        let body = e.body.as_ref().map(|b| b.replace("{{seq}}", &n));
        (
            std::borrow::Cow::Owned(serialize_request(
                &e.method,
                &path,
                &self.host,
                &e.headers[user],
                body.as_deref().map(str::as_bytes),
                !self.reuse,
            )),
            e.head,
        )
    }
}

/// What one generator thread saw.
struct Tally {
    latency: Histogram<u64>,
    wake_lag: Histogram<u64>,
    ok: u64,
    statuses: BTreeMap<u16, u64>,
    errors: ErrorCounts,
    queued: u64,
    warmup: u64,
    first_error: Option<String>,
    last_send: Option<Instant>,
    cpu: Duration,
    /// Time from actually sending to the answer, summed over answered requests.
    service_time: Duration,
    answered: u64,
    /// Open model: due requests never sent because the run's drain limit passed.
    unsent: u64,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            latency: histogram(),
            wake_lag: histogram(),
            ok: 0,
            statuses: BTreeMap::new(),
            errors: ErrorCounts::default(),
            queued: 0,
            warmup: 0,
            first_error: None,
            last_send: None,
            cpu: Duration::ZERO,
            service_time: Duration::ZERO,
            answered: 0,
            unsent: 0,
        }
    }

    fn merge(&mut self, other: Tally) {
        let _ = self.latency.add(&other.latency);
        let _ = self.wake_lag.add(&other.wake_lag);
        self.ok += other.ok;
        for (status, n) in other.statuses {
            *self.statuses.entry(status).or_default() += n;
        }
        self.errors.add(&other.errors);
        self.queued += other.queued;
        self.warmup += other.warmup;
        self.first_error = self.first_error.take().or(other.first_error);
        self.last_send = self.last_send.max(other.last_send);
        self.cpu += other.cpu;
        self.service_time += other.service_time;
        self.answered += other.answered;
        self.unsent += other.unsent;
    }
}

fn histogram() -> Histogram<u64> {
    // Microseconds, 1 µs to 1 hour, 3 significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

/// Run `plan` to the end on its own threads and report. Blocks the calling thread.
pub fn run_blocking(plan: &LoadPlan, allowed: &AllowedHosts) -> Result<LoadReport, LoadError> {
    run_cancellable(plan, allowed, Arc::default())
}

/// [`run_blocking`] that ends early when `cancel` is cancelled.
pub fn run_cancellable(
    plan: &LoadPlan,
    allowed: &AllowedHosts,
    cancel: Arc<Cancel>,
) -> Result<LoadReport, LoadError> {
    let (host, port, _) = sdd_http::split_url(&plan.base_url)
        .map_err(|_| LoadError::BadUrl(plan.base_url.clone()))?;
    if !allowed.allows(&host) {
        return Err(LoadError::HostNotAllowed(host));
    }
    if plan.endpoints.is_empty() {
        return Err(LoadError::NoEndpoints);
    }
    let address = (host.trim_start_matches('[').trim_end_matches(']'), port)
        .to_socket_addrs()
        .map_err(|e| LoadError::Resolve(host.clone(), e))?
        .next()
        .ok_or_else(|| LoadError::Resolve(host.clone(), std::io::Error::other("no address")))?;
    let host_header = format!("{host}:{port}");
    let threads = plan
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1);
    let (schedule, connections, target_rate) = match &plan.model {
        Model::Open { rate, stages } => {
            if stages.is_empty() && (rate.is_nan() || *rate <= 0.0) {
                return Err(LoadError::Invalid(
                    "the open model needs a rate above 0".into(),
                ));
            }
            let warm_rate = stages.first().map_or(*rate, |s| s.from_rate);
            let mut all = Vec::new();
            if !plan.warmup.is_zero() {
                all.push(crate::plan::Stage {
                    seconds: plan.warmup.as_secs_f64(),
                    from_rate: warm_rate.max(1.0),
                    to_rate: warm_rate.max(1.0),
                });
            }
            if stages.is_empty() {
                all.push(crate::plan::Stage {
                    seconds: plan.duration.as_secs_f64(),
                    from_rate: *rate,
                    to_rate: *rate,
                });
            } else {
                all.extend(stages.iter().copied());
            }
            let schedule = Schedule::new(*rate, &all, 0.0);
            let peak = schedule.peak_rate();
            let connections = plan
                .connections
                .unwrap_or_else(|| ((peak / 4.0).ceil() as usize).clamp(16, 1000));
            let target = if stages.is_empty() { Some(*rate) } else { None };
            (Some(schedule), connections, target)
        }
        Model::Closed { connections } => (None, (*connections).max(1), None),
    };
    let endpoints: Vec<Prepared> = plan
        .endpoints
        .iter()
        .map(|e| {
            let mut headers = plan.headers.clone();
            headers.extend(e.headers.iter().cloned());
            let headers: Vec<Vec<(String, String)>> = if plan.identities.is_empty() {
                vec![headers]
            } else {
                plan.identities
                    .iter()
                    .map(|identity| with_identity(&headers, identity))
                    .collect()
            };
            let method = e.method.to_ascii_uppercase();
            let fixed = (!e.templated()).then(|| {
                headers
                    .iter()
                    .map(|headers| {
                        serialize_request(
                            &method,
                            &e.path,
                            &host_header,
                            headers,
                            e.body.as_deref().map(str::as_bytes),
                            !plan.reuse_connections,
                        )
                    })
                    .collect()
            });
            Prepared {
                head: method == "HEAD",
                label: format!("{method} {}", e.path),
                sampled: plan.sample_created.is_some() && samples_method(&method),
                method,
                path: e.path.clone(),
                headers,
                body: e.body.clone(),
                fixed,
            }
        })
        .collect();
    let cumulative = plan.cumulative_weights();
    let start = Instant::now() + Duration::from_millis(20);
    let measure_from = start + plan.warmup;
    let run_for = match &schedule {
        Some(s) => Duration::from_secs_f64(s.seconds()),
        None => plan.warmup + plan.duration,
    };
    let shared = Arc::new(Shared {
        address,
        host: host_header,
        endpoints,
        cumulative,
        schedule,
        next: AtomicU64::new(0),
        measured: AtomicU64::new(0),
        start,
        measure_from,
        stop_at: start + run_for,
        max_requests: plan.max_requests,
        timeout: plan.timeout,
        reuse: plan.reuse_connections,
        cancel,
        sampler: plan.sample_created.as_ref().map(Sampler::new),
        identities: !plan.identities.is_empty(),
    });
    let threads = threads.min(connections);
    let mut handles = Vec::new();
    for t in 0..threads {
        let share = connections / threads + usize::from(t < connections % threads);
        let shared = shared.clone();
        handles.push(
            std::thread::Builder::new()
                .name(format!("sdd-load-{t}"))
                .spawn(move || generator_thread(shared, share))
                .map_err(|e| LoadError::Thread(e.to_string()))?,
        );
    }
    let mut total = Tally::new();
    for handle in handles {
        let tally = handle
            .join()
            .map_err(|_| LoadError::Thread("a generator thread panicked".into()))??;
        total.merge(tally);
    }
    let mut report = report(plan, &shared, total, connections, threads, target_rate);
    report.created = shared.sampler.as_ref().map(Sampler::report);
    Ok(report)
}

/// The same, from async code: the generator runs on its own threads. Dropping the returned
/// future (a cancelled call) stops the load at once rather than at the end of the plan.
pub async fn run(plan: LoadPlan, allowed: AllowedHosts) -> Result<LoadReport, LoadError> {
    let cancel = Arc::new(Cancel::default());
    let _stop_when_dropped = CancelOnDrop(cancel.clone());
    tokio::task::spawn_blocking(move || run_cancellable(&plan, &allowed, cancel))
        .await
        .map_err(|e| LoadError::Thread(e.to_string()))?
}

fn generator_thread(shared: Arc<Shared>, connections: usize) -> Result<Tally, LoadError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| LoadError::Thread(e.to_string()))?;
    let mut tally = runtime.block_on(async {
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..connections {
            let shared = shared.clone();
            tasks.spawn(async move {
                tokio::select! {
                    tally = connection_loop(shared.clone()) => tally,
                    // What this connection measured is dropped: the run was called off.
                    () = shared.cancel.cancelled() => Tally::new(),
                }
            });
        }
        let mut tally = Tally::new();
        while let Some(result) = tasks.join_next().await {
            if let Ok(t) = result {
                tally.merge(t);
            }
        }
        tally
    });
    tally.cpu = thread_cpu();
    Ok(tally)
}

fn thread_cpu() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_THREAD)
        .map(|u| {
            let tv = |t: nix::sys::time::TimeVal| {
                Duration::from_secs(t.tv_sec().max(0) as u64)
                    + Duration::from_micros(t.tv_usec().max(0) as u64)
            };
            tv(u.user_time()) + tv(u.system_time())
        })
        .unwrap_or_default()
}

async fn connection_loop(shared: Arc<Shared>) -> Tally {
    let mut tally = Tally::new();
    let mut connection: Option<Connection> = None;
    tokio::time::sleep_until(shared.start.into()).await;
    loop {
        // When this request is due, and whether it is measured.
        let seq = shared.next.fetch_add(1, Ordering::Relaxed);
        // Where its latency is measured from: its due time when it had to wait for a free
        // connection (waiting on the service counts, so stalls are not hidden); the moment the
        // timer woke when the connection was free and idle until then, so the timer's own
        // granularity (up to a millisecond) is not charged to the service. Late wakes are
        // recorded as wake lag and mark the generator as limited when they grow.
        let mut measure_start = None;
        let due = match &shared.schedule {
            Some(schedule) => {
                let Some(offset) = schedule.time_of(seq) else {
                    break;
                };
                let due = shared.start + Duration::from_secs_f64(offset);
                if due >= shared.stop_at {
                    break;
                }
                let now = Instant::now();
                if now > shared.stop_at + shared.timeout {
                    // The run is over and this request is still waiting for a connection: it
                    // is not sent, but it waited at least this long.
                    if due >= shared.measure_from {
                        tally.unsent += 1;
                        tally.latency.saturating_record(
                            now.saturating_duration_since(due).as_micros() as u64,
                        );
                    }
                    continue;
                }
                if due > now {
                    tokio::time::sleep_until(due.into()).await;
                    let woke = Instant::now();
                    measure_start = Some(woke);
                    let lag = woke.saturating_duration_since(due);
                    if due >= shared.measure_from {
                        tally.wake_lag.saturating_record(lag.as_micros() as u64);
                    }
                } else if now - due > LATE_WAKE && due >= shared.measure_from {
                    // Every connection was busy when it was due.
                    tally.queued += 1;
                }
                due
            }
            None => {
                let now = Instant::now();
                if now >= shared.stop_at {
                    break;
                }
                now
            }
        };
        let measured = due >= shared.measure_from;
        if measured {
            if let Some(max) = shared.max_requests {
                if shared.measured.fetch_add(1, Ordering::Relaxed) >= max {
                    break;
                }
            }
        } else {
            tally.warmup += 1;
        }
        if !shared.reuse {
            connection = None;
        }
        let sent = Instant::now();
        if measured {
            tally.last_send = tally.last_send.max(Some(sent));
        }
        let mut conn = match connection.take() {
            Some(conn) => conn,
            None => match tokio::time::timeout(shared.timeout, Connection::connect(shared.address))
                .await
            {
                Ok(Ok(conn)) => conn,
                Ok(Err(e)) => {
                    if measured {
                        tally.errors.connect += 1;
                        tally
                            .first_error
                            .get_or_insert_with(|| format!("connect: {e}"));
                    }
                    // Do not spin on a refused port.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
                Err(_) => {
                    if measured {
                        tally.errors.timeout += 1;
                        tally
                            .first_error
                            .get_or_insert_with(|| "connect: timed out".into());
                    }
                    continue;
                }
            },
        };
        let (bytes, head) = shared.request(seq);
        let outcome = tokio::time::timeout(shared.timeout, conn.exchange(&bytes, head)).await;
        let done = Instant::now();
        let latency = done
            .saturating_duration_since(measure_start.unwrap_or(due))
            .as_micros() as u64;
        match outcome {
            Ok(Ok(response)) => {
                tally.service_time += done.saturating_duration_since(sent);
                tally.answered += 1;
                shared.sample(seq, &response, &conn);
                if measured {
                    tally.latency.saturating_record(latency.max(1));
                    *tally.statuses.entry(response.status).or_default() += 1;
                    match response.status {
                        400..=499 => tally.errors.status_4xx += 1,
                        500..=599 => tally.errors.status_5xx += 1,
                        _ => tally.ok += 1,
                    }
                }
                if response.keep_alive && shared.reuse {
                    connection = Some(conn);
                }
            }
            Ok(Err(e)) => {
                if measured {
                    tally.errors.connection += 1;
                    tally.first_error.get_or_insert_with(|| match &e {
                        ExchangeError::Closed => {
                            "the server closed the connection mid-request".into()
                        }
                        other => other.to_string(),
                    });
                }
            }
            Err(_) => {
                if measured {
                    tally.errors.timeout += 1;
                    tally.latency.saturating_record(latency.max(1));
                    tally
                        .first_error
                        .get_or_insert_with(|| format!("no response within {:?}", shared.timeout));
                }
            }
        }
    }
    tally
}

fn report(
    plan: &LoadPlan,
    shared: &Shared,
    tally: Tally,
    connections: usize,
    threads: usize,
    target_rate: Option<f64>,
) -> LoadReport {
    // Every answered or timed-out request is in the histogram; failed connections are not.
    let requests =
        tally.latency.len() + tally.errors.connect + tally.errors.connection - tally.unsent;
    let window = match tally.last_send {
        Some(last) => last.saturating_duration_since(shared.measure_from),
        None => Duration::ZERO,
    };
    // The last send closes the window; with n sends the window holds n - 1 intervals.
    let achieved_rate = if window.as_secs_f64() > 0.0 && requests > 1 {
        (requests - 1) as f64 / window.as_secs_f64()
    } else {
        0.0
    };
    let wake_p99_ms = if tally.wake_lag.is_empty() {
        0.0
    } else {
        tally.wake_lag.value_at_quantile(0.99) as f64 / 1000.0
    };
    let cpu = tally.cpu.as_secs_f64();
    let wall = shared.start.elapsed().as_secs_f64().max(1e-9);
    let busy = cpu / (wall * threads as f64);
    let mut reasons = Vec::new();
    let mut notes = Vec::new();
    if wake_p99_ms > LIMITED_LAG_MS {
        reasons.push(format!("its threads woke {wake_p99_ms:.1} ms late at p99"));
    }
    if let Some(target) = target_rate {
        if achieved_rate < 0.95 * target && requests > 0 {
            // What the connections could have carried at the service's own pace.
            let service_ms = if tally.answered > 0 {
                tally.service_time.as_secs_f64() * 1000.0 / tally.answered as f64
            } else {
                0.0
            };
            let capacity = if service_ms > 0.0 {
                connections as f64 * 1000.0 / service_ms
            } else {
                f64::INFINITY
            };
            if achieved_rate < 0.8 * capacity || busy >= BUSY_LIMIT {
                reasons.push(format!(
                    "it sent {achieved_rate:.0} req/s of the {target:.0} asked for, while its {connections} connections could have carried {capacity:.0} req/s at the service's pace ({service_ms:.2} ms per request); its threads were {:.0} % busy",
                    busy * 100.0
                ));
            } else {
                notes.push(format!(
                    "only {achieved_rate:.0} of {target:.0} req/s were sent: every connection was waiting on the service ({service_ms:.1} ms per request); more connections would show whether the service can take more"
                ));
            }
        }
    }
    if tally.unsent > 0 {
        notes.push(format!(
            "{} due requests were never sent (still waiting for a connection when the run ended); they count in the latency with the time they had waited",
            tally.unsent
        ));
    }
    LoadReport {
        model: match plan.model {
            Model::Open { .. } => "open".into(),
            Model::Closed { .. } => "closed".into(),
        },
        target_rate,
        achieved_rate,
        duration_seconds: window.as_secs_f64(),
        warmup_requests: tally.warmup,
        requests,
        ok: tally.ok,
        latency_ms: percentiles(&tally.latency),
        errors: tally.errors,
        status_counts: tally
            .statuses
            .iter()
            .map(|(s, n)| (s.to_string(), *n))
            .collect(),
        first_error: tally.first_error,
        generator: GeneratorHealth {
            limited: !reasons.is_empty(),
            reason: if reasons.is_empty() {
                (!notes.is_empty()).then(|| notes.join("; "))
            } else {
                reasons.extend(notes);
                Some(format!(
                    "the generator could not keep up (the machine, not the service, was the limit): {}",
                    reasons.join("; ")
                ))
            },
            busy_share: busy,
            unsent_requests: tally.unsent,
            wake_lag_p99_ms: wake_p99_ms,
            queued_requests: tally.queued,
            connections,
            threads,
            cpu_seconds: cpu,
            cpu_us_per_request: if requests > 0 {
                cpu * 1e6 / (requests + tally.warmup) as f64
            } else {
                0.0
            },
        },
        curve: crate::report::curve(&tally.latency),
        extra_percentiles: plan
            .extra_percentiles
            .iter()
            .filter(|_| !tally.latency.is_empty())
            .map(|p| {
                (
                    *p,
                    tally.latency.value_at_quantile((p / 100.0).clamp(0.0, 1.0)) as f64 / 1000.0,
                )
            })
            .collect(),
        created: None,
    }
}

/// `headers` with `identity`'s headers replacing those of the same name.
fn with_identity(
    headers: &[(String, String)],
    identity: &[(String, String)],
) -> Vec<(String, String)> {
    let mut merged: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| !identity.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)))
        .cloned()
        .collect();
    merged.extend(identity.iter().cloned());
    merged
}

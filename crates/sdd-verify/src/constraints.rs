//! Constraint verification: performance constraints become load runs (rate, duration and the
//! endpoints of the scope the constraint names) and come back as verdicts with the measured
//! values and the headroom. What cannot be run as written says so, with what was run instead;
//! kinds without a probe yet are `unchecked`, with the reason — never silently passed.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_http::AllowedHosts;
use sdd_load::{LoadPlan, LoadReport, Model};
use sdd_spec::constraint::CheckSpec;
use sdd_spec::model::{Constraint, Spec};
use sdd_spec::project::LoadConfig;

use crate::consistency::{self, ConsistencyCheck};
use crate::examples::ServiceClient;
use crate::probes::{self, Finding, ProbeEndpoint, ProbeOutcome, ProbePlan};
use crate::reliability::{restart_probe, Restarter, Stop};
use sdd_spec::routes::{DeclaredRoutes, Route};

pub use sdd_spec::verdict::Verdict;
use sdd_spec::verdict::{
    discount_interference, judge_concurrency, judge_error_rate, judge_latency, judge_probe,
    judge_throughput, Measured, OthersLoad,
};
use std::collections::BTreeMap;

/// The load that was run for a constraint.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RunDescription {
    /// `open` (rate) or `closed` (connections).
    pub model: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    pub connections: usize,
    pub duration_seconds: f64,
    /// The scope's requests, as `METHOD path`.
    pub endpoints: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ConstraintVerdict {
    pub constraint_id: String,
    pub name: String,
    pub verdict: Verdict,
    /// One line: `p95 = 41.2 ms, limit 100 ms, 59 % headroom at 1000 req/s achieved`.
    pub summary: String,
    /// What differs from the constraint as written (a lower rate, fewer users, …).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run: Option<RunDescription>,
    /// The measurements (percentiles, rates, errors, generator health).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub measured: Option<LoadReport>,
    /// Requests that show the constraint is not met (security probes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// Probes: the routes their requests reached (`GET /tasks/{id}`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes_probed: Vec<String>,
    /// Probes: the routes they could not reach, each with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes_not_reached: Vec<String>,
    /// Probes: requests refused before they could show anything (a 429 from the rate limit),
    /// the first few. Any makes the verdict inconclusive unless something failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<String>,
    /// Latency constraints: the percentile and bound checked (a plot's limit line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_limit: Option<LatencyLimit>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LatencyLimit {
    /// 0–100, e.g. 95 for p95.
    pub percentile: f64,
    pub max_ms: f64,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct VerificationSummary {
    pub passing: usize,
    pub failing: usize,
    pub inconclusive: usize,
    pub unchecked: usize,
}

impl VerificationSummary {
    /// Failed if any failed; verified only if every one passed.
    pub fn overall(&self) -> sdd_spec::verdict::Overall {
        sdd_spec::verdict::Overall::of(self.failing, self.inconclusive + self.unchecked)
    }
}

/// The running service constraint verification measures: where it is, how SDD reaches it
/// and as whom, the load `sdd.yaml` describes, and how to restart it.
pub struct ServiceUnderTest<'a> {
    pub base_url: &'a str,
    /// `service.headers` (e.g. authorization), sent with every request.
    pub headers: &'a [(String, String)],
    pub allowed_hosts: &'a AllowedHosts,
    pub load: &'a LoadConfig,
    /// The routes the project declares (see `inventory::declared`): the probes build their
    /// requests from them.
    pub declared: DeclaredRoutes,
    /// Per-user headers the load is spread over (`load.users`; see `auth::load_identities`).
    pub identities: Vec<Vec<(String, String)>>,
    /// Tokens SDD signed itself for the probes (see `auth`).
    pub credentials: Option<sdd_http::auth::ProbeCredentials>,
    /// Restarts the service, for the restart probe; `None` when it was not started by us.
    pub restarter: Option<&'a dyn Restarter>,
    /// Told as each constraint starts.
    pub on_start: Option<&'a OnStart<'a>>,
    /// What the load runs keep of their writes, to read back after them (see
    /// `consistency::sample_spec`); `None` keeps nothing, and the read-back says so.
    pub sample_created: Option<sdd_load::SampleSpec>,
}

impl ServiceUnderTest<'_> {
    /// The headers of the probe user `family`: SDD's own headers with that user's token when
    /// `auth.jwt` is set (otherwise every probe shares SDD's credentials, and a refusal shows).
    pub fn headers_as(&self, family: &str) -> Vec<(String, String)> {
        match &self.credentials {
            Some(credentials) => {
                let mut headers = probes::without_auth(self.headers);
                headers.push(("Authorization".into(), credentials.user(family)));
                headers
            }
            None => self.headers.to_vec(),
        }
    }

    /// A probe plan as the user `family`, with the route inventory built as that user (so
    /// the objects it probes are its own).
    async fn probe_plan(&self, spec: &Spec, family: &str) -> ProbePlan<'_> {
        let headers = self.headers_as(family);
        let map: BTreeMap<String, String> = headers.iter().cloned().collect();
        let client = ServiceClient {
            base_url: self.base_url,
            headers: &map,
            allowed_hosts: self.allowed_hosts,
        };
        let inventory = crate::inventory::build(spec, self.load, &self.declared, &client).await;
        ProbePlan {
            base_url: self.base_url,
            headers,
            allowed_hosts: self.allowed_hosts,
            inventory,
            credentials: self.credentials.clone(),
        }
    }

    /// A load plan on `endpoints` with this target's duration, warm-up, headers and users.
    fn plan(&self, endpoints: Vec<sdd_load::Endpoint>, model: Model) -> LoadPlan {
        let mut plan = LoadPlan::new(
            self.base_url,
            endpoints,
            model,
            Duration::from_secs(self.load.duration_seconds.max(1)),
        );
        plan.warmup = Duration::from_secs(self.load.warmup_seconds);
        plan.headers = self.headers.to_vec();
        plan.identities = self.identities.clone();
        plan.sample_created = self.sample_created.clone();
        plan
    }
}

/// Called with a constraint's number (from 1), how many there are, and its ID.
pub type OnStart<'a> = dyn Fn(usize, usize, &str) + Sync + 'a;

/// Verify the constraints (only `ids` if not empty), and check after their load runs that
/// what the load wrote is still there (`consistency`). The verdicts come back in spec order;
/// they run in two groups: the probes and the restart first, then the load runs, so that
/// nothing comes between the load and the read-back (a restart, the probes' writes).
pub async fn verify(
    spec: &Spec,
    ids: &[String],
    target: &ServiceUnderTest<'_>,
) -> (
    Vec<ConstraintVerdict>,
    VerificationSummary,
    ConsistencyCheck,
) {
    let selected: Vec<&Constraint> = spec
        .constraints
        .iter()
        .map(|c| &**c)
        .filter(|c| ids.is_empty() || ids.contains(&c.id))
        .collect();
    let (loads, quiet): (Vec<&Constraint>, Vec<&Constraint>) =
        selected.iter().partition(|c| runs_load(c));
    let mut verdicts = Vec::new();
    let mut baseline = None;
    for (n, constraint) in quiet.iter().chain(&loads).enumerate() {
        if let Some(on_start) = target.on_start {
            on_start(n + 1, selected.len(), &constraint.id);
        }
        if n == quiet.len() {
            baseline = Some(consistency::before_load(spec, target).await);
        }
        verdicts.push(verify_one(spec, constraint, target).await);
    }
    let consistency = consistency::after_load(spec, target, baseline.as_ref(), &verdicts).await;
    verdicts.sort_by_key(|v| selected.iter().position(|c| c.id == v.constraint_id));
    let mut summary = VerificationSummary::default();
    for v in &verdicts {
        match v.verdict {
            Verdict::Passing => summary.passing += 1,
            Verdict::Failing => summary.failing += 1,
            Verdict::Inconclusive => summary.inconclusive += 1,
            Verdict::Unchecked => summary.unchecked += 1,
        }
    }
    (verdicts, summary, consistency)
}

/// Whether `verify_one` measures `c` with a load run (the dispatch there, in short).
fn runs_load(c: &Constraint) -> bool {
    c.parsed.not_checkable.is_none()
        && c.parsed.checks.iter().any(|k| {
            matches!(
                k,
                CheckSpec::Latency { .. }
                    | CheckSpec::Throughput { .. }
                    | CheckSpec::ErrorRate { .. }
                    | CheckSpec::Concurrency { .. }
            )
        })
}

fn verdict(c: &Constraint, verdict: Verdict, summary: impl Into<String>) -> ConstraintVerdict {
    ConstraintVerdict::new(&c.id, &c.name, verdict, summary)
}

impl ConstraintVerdict {
    /// A verdict with its one-line summary and nothing measured, noted or found yet.
    pub fn new(id: &str, name: &str, verdict: Verdict, summary: impl Into<String>) -> Self {
        ConstraintVerdict {
            constraint_id: id.to_string(),
            name: name.to_string(),
            verdict,
            summary: summary.into(),
            notes: Vec::new(),
            run: None,
            measured: None,
            findings: Vec::new(),
            routes_probed: Vec::new(),
            routes_not_reached: Vec::new(),
            refused: Vec::new(),
            latency_limit: None,
        }
    }
}

async fn verify_one(
    spec: &Spec,
    c: &Constraint,
    target: &ServiceUnderTest<'_>,
) -> ConstraintVerdict {
    if let Some(why) = &c.parsed.not_checkable {
        return verdict(
            c,
            Verdict::Unchecked,
            format!("not machine-checkable: {}", why.reason),
        );
    }
    let checks = &c.parsed.checks;
    let rate = checks.iter().find_map(|k| match k {
        CheckSpec::Throughput { per_second, .. } => Some(*per_second),
        _ => None,
    });
    let latency = checks.iter().find_map(|k| match k {
        CheckSpec::Latency {
            percentile,
            max_ms,
            scope,
        } => Some((*percentile, *max_ms, scope.clone())),
        _ => None,
    });
    let error_rate = checks.iter().find_map(|k| match k {
        CheckSpec::ErrorRate {
            max_percent,
            counted_4xx,
        } => Some((*max_percent, counted_4xx.clone())),
        _ => None,
    });
    let concurrency = checks.iter().find_map(|k| match k {
        CheckSpec::Concurrency { users } => Some(*users),
        _ => None,
    });
    if let Some((percentile, max_ms, scope)) = latency {
        return latency_verdict(c, target, percentile, max_ms, &scope, rate).await;
    }
    if let Some(users) = concurrency {
        return concurrency_verdict(c, target, users).await;
    }
    if let Some((max_percent, counted_4xx)) = error_rate {
        return error_rate_verdict(c, target, max_percent, &counted_4xx, rate).await;
    }
    if let Some(rate) = rate {
        return throughput_verdict(c, target, rate).await;
    }
    if let Some(v) = security_verdict(spec, c, target).await {
        return v;
    }
    if let Some(v) = reliability_verdict(spec, c, target).await {
        return v;
    }
    let kinds: Vec<&str> = checks.iter().map(CheckSpec::kind).collect();
    verdict(
        c,
        Verdict::Unchecked,
        format!(
            "no probe for {} checks yet; verify_constraints runs latency, throughput, concurrency, error-rate, authentication, rate-limit, injection, size, ownership and data-loss checks",
            kinds.join(", ")
        ),
    )
}

/// The endpoints of a scope (one definition with the k6 export, which loads the same scopes).
use crate::export::scope_endpoints as endpoints;

struct Run {
    report: LoadReport,
    description: RunDescription,
    notes: Vec<String>,
    /// Other processes' work on the machine during the run (`None`: not measurable here).
    others: Option<OthersLoad>,
}

async fn run_open(
    target: &ServiceUnderTest<'_>,
    scope: &str,
    wanted_rate: Option<f64>,
    percentile: Option<f64>,
) -> Result<Run, String> {
    let endpoints = endpoints(target.load, scope)?;
    let mut notes = Vec::new();
    let rate = match wanted_rate {
        Some(rate) if rate > target.load.max_rate => {
            notes.push(format!(
                "the constraint's {rate:.0} req/s is above load.max_rate ({:.0}); ran {:.0} req/s instead, so this does not verify it as written",
                target.load.max_rate, target.load.max_rate
            ));
            target.load.max_rate
        }
        Some(rate) => rate,
        None => {
            notes.push(format!(
                "the constraint states no load; ran load.default_rate ({:.0} req/s)",
                target.load.default_rate
            ));
            target.load.default_rate
        }
    };
    let mut plan = target.plan(
        endpoints,
        Model::Open {
            rate,
            stages: vec![],
        },
    );
    plan.extra_percentiles = percentile.into_iter().collect();
    plan.connections =
        Some(((rate / 4.0).ceil() as usize).clamp(16, target.load.max_connections.max(1)));
    run_plan(plan, target, notes).await
}

async fn run_plan(
    plan: LoadPlan,
    target: &ServiceUnderTest<'_>,
    notes: Vec<String>,
) -> Result<Run, String> {
    let description = RunDescription {
        model: match plan.model {
            Model::Open { .. } => "open".into(),
            Model::Closed { .. } => "closed".into(),
        },
        rate: match &plan.model {
            Model::Open { rate, .. } => Some(*rate),
            Model::Closed { .. } => None,
        },
        connections: match &plan.model {
            Model::Closed { connections } => *connections,
            Model::Open { .. } => plan.connections.unwrap_or(0),
        },
        duration_seconds: plan.duration.as_secs_f64(),
        endpoints: plan
            .endpoints
            .iter()
            .map(|e| format!("{} {}", e.method, e.path))
            .collect(),
    };
    let before = sdd_exec::blocking(sdd_exec::machine::Usage::sample);
    let started = std::time::Instant::now();
    let report = sdd_load::run(plan, target.allowed_hosts.clone())
        .await
        .map_err(|e| e.to_string())?;
    let after = sdd_exec::blocking(sdd_exec::machine::Usage::sample);
    let mut notes = notes;
    let others = before.zip(after).map(|(before, after)| {
        let seconds = started.elapsed().as_secs_f64().max(0.001);
        let i = before.others_until(&after, seconds);
        OthersLoad {
            cpu_share: i.cpu_share,
            disk_bytes_per_second: i.disk_written as f64 / seconds,
        }
    });
    match others {
        Some(o) => notes.push(format!(
            "other processes on this machine used {:.0} % of its CPU and wrote {:.1} MB/s to disk during the run",
            o.cpu_share * 100.0,
            o.disk_bytes_per_second / 1e6
        )),
        None => notes.push(
            "how busy the machine was with other work could not be measured here (no /proc)".into(),
        ),
    }
    Ok(Run {
        report,
        description,
        notes,
        others,
    })
}

/// The facts of a load run, as the verdict module judges them.
fn measured(r: &LoadReport) -> Measured {
    Measured {
        requests: r.requests,
        transport_errors: r.errors.transport(),
        status_4xx: r.errors.status_4xx,
        status_5xx: r.errors.status_5xx,
        status_counts: r.status_counts.clone(),
        achieved_rate: r.achieved_rate,
        asked_rate: r.target_rate,
        measurer_limited: r.generator.limited,
        measurer_lag_p99_ms: r.generator.wake_lag_p99_ms,
    }
}

/// The verdict of a load run: the judgement, discounted when other processes kept the machine
/// busy (`discount_interference`), with the run's notes.
fn finish(c: &Constraint, run: Run, verdict_value: Verdict, summary: String) -> ConstraintVerdict {
    let (verdict_value, summary) = discount_interference((verdict_value, summary), run.others);
    let mut notes = run.notes;
    if let Some(reason) = &run.report.generator.reason {
        notes.push(reason.clone());
    }
    if let Some(first) = &run.report.first_error {
        notes.push(format!("first error: {first}"));
    }
    ConstraintVerdict {
        notes,
        run: Some(run.description),
        measured: Some(run.report),
        ..ConstraintVerdict::new(&c.id, &c.name, verdict_value, summary)
    }
}

async fn latency_verdict(
    c: &Constraint,
    target: &ServiceUnderTest<'_>,
    percentile: f64,
    max_ms: f64,
    scope: &str,
    rate: Option<f64>,
) -> ConstraintVerdict {
    let run = match run_open(target, scope, rate, Some(percentile)).await {
        Ok(run) => run,
        Err(e) => return verdict(c, Verdict::Unchecked, e),
    };
    let rate_capped = rate.is_some_and(|rate| rate > target.load.max_rate);
    let (value, summary) = judge_latency(
        &measured(&run.report),
        percentile,
        run.report.latency_at(percentile),
        max_ms,
        scope,
        rate_capped,
    );
    ConstraintVerdict {
        latency_limit: Some(LatencyLimit { percentile, max_ms }),
        ..finish(c, run, value, summary)
    }
}

async fn throughput_verdict(
    c: &Constraint,
    target: &ServiceUnderTest<'_>,
    rate: f64,
) -> ConstraintVerdict {
    let run = match run_open(target, "all", Some(rate), None).await {
        Ok(run) => run,
        Err(e) => return verdict(c, Verdict::Unchecked, e),
    };
    let (value, summary) = judge_throughput(
        &measured(&run.report),
        rate,
        run.report.latency_ms.p99,
        rate > target.load.max_rate,
    );
    finish(c, run, value, summary)
}

async fn error_rate_verdict(
    c: &Constraint,
    target: &ServiceUnderTest<'_>,
    max_percent: f64,
    counted_4xx: &[u16],
    rate: Option<f64>,
) -> ConstraintVerdict {
    let run = match run_open(target, "all", rate, None).await {
        Ok(run) => run,
        Err(e) => return verdict(c, Verdict::Unchecked, e),
    };
    let (value, summary) = judge_error_rate(&measured(&run.report), max_percent, counted_4xx);
    finish(c, run, value, summary)
}

async fn concurrency_verdict(
    c: &Constraint,
    target: &ServiceUnderTest<'_>,
    users: u64,
) -> ConstraintVerdict {
    let max = target.load.max_connections.max(1);
    let connections = (users as usize).min(max);
    let endpoints = match endpoints(target.load, "all") {
        Ok(e) => e,
        Err(e) => return verdict(c, Verdict::Unchecked, e),
    };
    let mut notes = Vec::new();
    if connections < users as usize {
        notes.push(format!(
            "{users} concurrent users cannot be run here (load.max_connections is {max}); ran {connections} concurrent connections instead"
        ));
    }
    let plan = target.plan(endpoints, Model::Closed { connections });
    let run = match run_plan(plan, target, notes).await {
        Ok(run) => run,
        Err(e) => return verdict(c, Verdict::Unchecked, e),
    };
    let (value, summary) = judge_concurrency(
        &measured(&run.report),
        users,
        connections,
        run.report.latency_ms.p99,
    );
    finish(c, run, value, summary)
}

/// Authentication, rate limit, injection and size checks, through `probes`, each as its own
/// probe user on its own route inventory.
async fn security_verdict(
    spec: &Spec,
    c: &Constraint,
    target: &ServiceUnderTest<'_>,
) -> Option<ConstraintVerdict> {
    for check in &c.parsed.checks {
        let (outcome, account) = match check {
            CheckSpec::Authentication { exceptions, .. } => {
                let mut all: Vec<String> = exceptions.clone();
                for e in &c.exceptions {
                    if !all.contains(e) {
                        all.push(e.clone());
                    }
                }
                let plan = target.probe_plan(spec, "auth").await;
                let outcome = probes::authentication(&plan, &all).await;
                let sent: Vec<&str> = probes::authentication_variants(&plan)
                    .into_iter()
                    .map(|(what, _)| what)
                    .collect();
                // What could not be sent without a token of SDD's own to start from.
                let unsent = match (
                    target.credentials.is_some(),
                    sent.iter().any(|w| w.contains("unsigned")),
                ) {
                    (true, _) => "",
                    (false, true) => " (no expired-token check: set auth.jwt in sdd.yaml)",
                    (false, false) => {
                        " (no unsigned, tampered or expired-token check: set auth.jwt in sdd.yaml)"
                    }
                };
                let account = format!(
                    "{} route(s) probed {}{unsent}; each reached route's path also with a trailing slash added (or removed) and its first segment in another case, without a token; exempt: {}",
                    outcome.routes_probed.len(),
                    sent.join(", "),
                    if all.is_empty() {
                        "none".to_string()
                    } else {
                        all.join(", ")
                    }
                );
                (outcome, account)
            }
            CheckSpec::RateLimit {
                max_requests,
                window_seconds,
                per,
            } => {
                if *max_requests > 5000 {
                    return Some(verdict(
                        c,
                        Verdict::Unchecked,
                        format!("a limit of {max_requests} requests is too many to probe in a burst here"),
                    ));
                }
                let plan = target.probe_plan(spec, "rate-inventory").await;
                let reads_only = limits_reads_only(&format!(
                    "{} {}",
                    c.requirement.as_deref().unwrap_or(""),
                    c.measurement.as_deref().unwrap_or("")
                ));
                let burst =
                    probes::rate_limit(&plan, *max_requests, *window_seconds, per, reads_only)
                        .await;
                if burst.account == probes::NOTHING_TO_BURST {
                    return Some(no_endpoints(c));
                }
                let account = format!(
                    "burst with one {per}'s credentials: {} (limit {max_requests} per {window_seconds} s)",
                    burst.account
                );
                if let (true, Some(gap)) = (burst.findings.is_empty(), &burst.gap) {
                    // A limit on "requests" covers writes: reads alone do not show it is met.
                    return Some(verdict(
                        c,
                        Verdict::Inconclusive,
                        format!(
                            "{gap}, and the limit covers every request, not only reads; {account}"
                        ),
                    ));
                }
                let outcome = ProbeOutcome {
                    probed: 1,
                    findings: burst.findings,
                    ..ProbeOutcome::default()
                };
                (outcome, account)
            }
            CheckSpec::InjectionSafe { .. } => {
                let plan = target.probe_plan(spec, "injection").await;
                let mut outcome = probes::injection(&plan).await;
                let sent = outcome.sent;
                let answered = outcome.probed;
                let refused = outcome.refused.len();
                let routes = outcome.routes_probed.len();
                // A route the payloads reached (made-up parameters answered 2xx, or a 5xx) is
                // reached; it is not listed both ways.
                outcome.unreached = plan
                    .inventory
                    .unreached
                    .iter()
                    .filter(|(route, _)| !outcome.routes_probed.contains(*route))
                    .map(|(route, why)| (route.clone(), why.clone()))
                    .collect();
                outcome.problems = plan.inventory.problems.clone();
                let headers: BTreeMap<String, String> =
                    target.headers_as("round-trip").into_iter().collect();
                let client = ServiceClient {
                    base_url: target.base_url,
                    headers: &headers,
                    allowed_hosts: target.allowed_hosts,
                };
                let round_trip = probes::round_trip(spec, &client).await;
                let stored = round_trip.probed;
                outcome.findings.extend(round_trip.findings);
                outcome.refused.extend(round_trip.refused);
                outcome.probed += round_trip.probed;
                outcome.notes.extend(round_trip.notes);
                let depth = if outcome
                    .notes
                    .iter()
                    .any(|n| n.contains("nested JSON value"))
                {
                    format!(
                        "JSON field (nested ones up to {} per body)",
                        probes::MAX_NESTED_FIELDS
                    )
                } else {
                    "JSON field at any depth".to_string()
                };
                let mut answers = format!("{answered} answered on {routes} route(s)");
                if refused > 0 {
                    answers.push_str(&format!(
                        ", {refused} refused before they showed anything (429, or 401/403 to the probe user's own token)"
                    ));
                }
                let other = sent.saturating_sub(answered + refused);
                if other > 0 {
                    answers.push_str(&format!(
                        ", {other} on routes with made-up parameters refused with a 4xx (they show nothing)"
                    ));
                }
                let mut account = format!(
                    "{sent} request(s) with SQL, NoSQL, shell, path-traversal and script payloads in every query value, path parameter, {depth} and example header, and malformed, mistyped, non-UTF-8 and oversized bodies: {answers}; {stored} stored payload(s) read back verbatim"
                );
                for note in &outcome.notes {
                    account.push_str("; ");
                    account.push_str(note);
                }
                (outcome, account)
            }
            CheckSpec::MaxSize { max, unit, subject } if unit != "items" => {
                let plan = target.probe_plan(spec, "size").await;
                let outcome = probes::max_size(&plan, *max, subject).await;
                if outcome.probed == 0 && outcome.refused.is_empty() && outcome.findings.is_empty()
                {
                    return Some(verdict(
                        c,
                        Verdict::Unchecked,
                        format!("no probed request has a JSON field named like `{subject}`"),
                    ));
                }
                let account = format!(
                    "{} request(s) with a value over {max} {unit}",
                    outcome.probed + outcome.refused.len()
                );
                (outcome, account)
            }
            CheckSpec::Ownership {
                resource,
                writes_only,
                unless,
            } => {
                if target.credentials.is_none() {
                    return Some(verdict(
                        c,
                        Verdict::Unchecked,
                        "the ownership probe acts as two different users: set auth.jwt in sdd.yaml so SDD can sign their tokens",
                    ));
                }
                let owner_headers: BTreeMap<String, String> =
                    target.headers_as("owner").into_iter().collect();
                let intruder_headers: BTreeMap<String, String> =
                    target.headers_as("intruder").into_iter().collect();
                let client = |headers| ServiceClient {
                    base_url: target.base_url,
                    headers,
                    allowed_hosts: target.allowed_hosts,
                };
                let rule = crate::ownership::Rule {
                    resource,
                    writes_only: *writes_only,
                };
                let outcome = crate::ownership::probe(
                    spec,
                    target.load,
                    &target.declared,
                    &client(&owner_headers),
                    &client(&intruder_headers),
                    rule,
                )
                .await;
                let acts: Vec<&str> = outcome.acts.iter().copied().collect();
                let mut account = format!(
                    "{} {resource} created by one user; another user tried to have them {}: {} request(s) on {} route(s)",
                    outcome.created,
                    if acts.is_empty() {
                        "(nothing it could try)".to_string()
                    } else {
                        acts.join(", ")
                    },
                    outcome.probe.probed,
                    outcome.probe.routes_probed.len()
                );
                if *writes_only {
                    account.push_str("; reading is not restricted by this rule, so reads and lists were not tried");
                }
                if let Some(unless) = unless {
                    account.push_str(&format!(
                        "; the exception (unless {unless}) was not probed: the probe's users are ordinary users"
                    ));
                }
                if outcome.created == 0 && outcome.probe.findings.is_empty() {
                    let why = outcome
                        .probe
                        .refused
                        .first()
                        .map(|r| format!("refused: {r}"))
                        .unwrap_or_else(|| "no approved scenario has an example that creates something and then uses it by a captured value (e.g. POST /tasks, then GET /tasks/${id})".into());
                    let mut v = verdict(
                        c,
                        if outcome.probe.refused.is_empty() {
                            Verdict::Unchecked
                        } else {
                            Verdict::Inconclusive
                        },
                        format!("nothing to take over: {why}"),
                    );
                    v.refused = outcome
                        .probe
                        .refused
                        .iter()
                        .take(MAX_LISTED)
                        .cloned()
                        .collect();
                    return Some(v);
                }
                (outcome.probe, account)
            }
            _ => continue,
        };
        let (value, summary) = judge_probe(&outcome.facts(), &account);
        let mut v = verdict(c, value, summary);
        v.routes_probed = outcome.routes_probed.iter().map(Route::to_string).collect();
        v.routes_not_reached = outcome
            .problems
            .iter()
            .cloned()
            .chain(outcome.unreached.iter().map(|(route, why)| {
                if why.is_empty() {
                    route.to_string()
                } else {
                    format!("{route}: {why}")
                }
            }))
            .collect();
        v.refused = outcome.refused.iter().take(MAX_LISTED).cloned().collect();
        if outcome.refused.len() > MAX_LISTED {
            v.notes.push(format!(
                "{} refused requests in all; the first {MAX_LISTED} are listed",
                outcome.refused.len()
            ));
        }
        v.findings = outcome.findings;
        return Some(v);
    }
    None
}

/// Whether a rate-limit constraint's sentence limits reads only ("Max 100 read requests per
/// minute", "… per user for GET requests"): then its writes need no burst.
fn limits_reads_only(sentence: &str) -> bool {
    let text = sentence.to_lowercase();
    let words: Vec<&str> = text
        .split(|ch: char| !ch.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .collect();
    let reads = [
        "read", "reads", "get", "gets", "queries", "query", "lookups", "searches",
    ];
    let writes = [
        "write",
        "writes",
        "post",
        "put",
        "patch",
        "delete",
        "mutations",
        "all",
        "every",
        "any",
    ];
    words.iter().any(|w| reads.contains(w)) && !words.iter().any(|w| writes.contains(w))
}

/// Refused requests listed in a verdict (the count says how many there were).
const MAX_LISTED: usize = 5;

fn no_endpoints(c: &Constraint) -> ConstraintVerdict {
    verdict(
        c,
        Verdict::Unchecked,
        "no endpoint to probe: list requests under `load.endpoints` in sdd.yaml or give scenarios executable examples",
    )
}

/// Durability through the restart probe; availability and the like say why they are not run.
async fn reliability_verdict(
    spec: &Spec,
    c: &Constraint,
    target: &ServiceUnderTest<'_>,
) -> Option<ConstraintVerdict> {
    for check in &c.parsed.checks {
        match check {
            CheckSpec::NoDataLoss { event } => {
                let Some(restarter) = target.restarter else {
                    return Some(verdict(
                        c,
                        Verdict::Unchecked,
                        "the restart probe restarts the service, so it must have been started by this server (start_service)",
                    ));
                };
                let headers: BTreeMap<String, String> =
                    target.headers_as("durability").into_iter().collect();
                let client = crate::examples::ServiceClient {
                    base_url: target.base_url,
                    headers: &headers,
                    allowed_hosts: target.allowed_hosts,
                };
                let poll = slowest_read(target, spec).await;
                let poll = poll.as_ref().map(|(e, took)| (e, *took));
                let how = Stop::for_event(event);
                let outcome = restart_probe(
                    spec,
                    &client,
                    poll,
                    &target.headers_as("durability-poll"),
                    restarter,
                    how,
                )
                .await;
                if outcome.nothing_to_check {
                    return Some(verdict(c, Verdict::Unchecked, outcome.summary));
                }
                let failing = !outcome.findings.is_empty();
                // Refused requests, or examples not written, leave part of it unchecked.
                let partial = !outcome.refused.is_empty() || !outcome.not_written.is_empty();
                let summary = if outcome.restarted {
                    format!(
                        "{event}, simulated by {}: {}",
                        how.describe(),
                        outcome.summary
                    )
                } else {
                    format!("{event}: {}", outcome.summary)
                };
                let mut v = verdict(
                    c,
                    if failing {
                        Verdict::Failing
                    } else if partial {
                        Verdict::Inconclusive
                    } else {
                        Verdict::Passing
                    },
                    summary,
                );
                if how == Stop::Graceful && outcome.restarted {
                    v.notes.push(
                        "a graceful restart was run, as the constraint's event asks; a crash (SIGKILL) was not".into(),
                    );
                }
                v.refused = outcome.refused.iter().take(MAX_LISTED).cloned().collect();
                v.findings = outcome.findings;
                return Some(v);
            }
            CheckSpec::Availability { min_percent } => {
                return Some(verdict(
                    c,
                    Verdict::Unchecked,
                    format!(
                        "{min_percent} % availability is a measure over days of operation (the monitoring server's job), not of one verification run"
                    ),
                ));
            }
            _ => {}
        }
    }
    None
}

/// The read that takes longest (timed once each): requests to it are the likeliest to be in
/// flight when a stop signal comes.
async fn slowest_read(
    target: &ServiceUnderTest<'_>,
    spec: &Spec,
) -> Option<(ProbeEndpoint, std::time::Duration)> {
    let mut best: Option<(std::time::Duration, ProbeEndpoint)> = None;
    let plan = target.probe_plan(spec, "durability").await;
    for e in plan
        .endpoints()
        .iter()
        .filter(|e| e.method == "GET" && !e.made_up)
    {
        let request = sdd_http::HttpRequest {
            method: e.method.clone(),
            url: format!("{}{}", target.base_url.trim_end_matches('/'), e.path),
            headers: plan.headers.clone(),
            body: None,
            timeout: std::time::Duration::from_secs(5),
        };
        if let Ok(r) = sdd_http::send(&request, target.allowed_hosts).await {
            if r.status < 400 && best.as_ref().is_none_or(|(t, _)| r.elapsed > *t) {
                best = Some((r.elapsed, e.clone()));
            }
        }
    }
    best.map(|(took, e)| (e, took))
}

#[cfg(test)]
mod tests {
    use super::limits_reads_only;

    /// A limit on "requests" covers writes; only a sentence that names reads scopes it to them.
    #[test]
    fn a_rate_limit_is_on_reads_only_when_its_sentence_says_so() {
        for (sentence, reads_only) in [
            ("Max 100 requests per minute per user", false),
            ("Max 100 read requests per minute per user", true),
            (
                "At most 10 requests per second per user for GET requests",
                true,
            ),
            (
                "Max 100 requests per minute per user, reads and writes",
                false,
            ),
            ("Max 50 search queries per minute", true),
        ] {
            assert_eq!(limits_reads_only(sentence), reads_only, "{sentence}");
        }
    }
}

//! The load a constraint is verified with, exported for another generator: which constraints
//! become which runs (rate, the scope's endpoints, duration, warm-up, users) and what each run
//! must meet, as `sdd_load` plans and k6 thresholds. `export_load_test` writes them as a k6
//! script (`sdd_load::k6`).
//!
//! Here rather than in `sdd-load` because it reads the spec and `sdd.yaml` (the generator
//! knows neither); rather than in `constraints` because exporting runs nothing. Pure: the
//! spec, the load section and the client's headers and tokens in, plans out — the caller
//! signs the tokens and writes the file.
//!
//! Unlike `verify_constraints`, a rate above `load.max_rate` or users above
//! `load.max_connections` are exported as written, with a note: those limits are this
//! machine's, and the point of a k6 script is that k6 can run it on a cluster.

use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_load::k6::{scenario_name, K6Run, Threshold};
use sdd_load::{Endpoint, LoadPlan, Model};
use sdd_spec::constraint::CheckSpec;
use sdd_spec::model::{Constraint, Spec};
use sdd_spec::project::LoadConfig;
use sdd_spec::verdict::{FULL_RATE_SHARE, MAX_ERROR_SHARE, MAX_REFUSED_SHARE};

/// What to export.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    /// Every constraint that is verified with load, one run after another.
    All,
    /// One constraint, by ID.
    Constraint(String),
    /// The endpoints of one scope of `load.endpoints` (`reads`, `writes`, `all`, …), with the
    /// latency bounds of the constraints on that scope.
    Scope(String),
}

/// Where the load goes and as whom: `service.base_url`, the client's headers
/// (`auth::client_headers`) and one set of headers per simulated user
/// (`auth::load_identities`), as `verify_constraints` sends them.
pub struct Target<'a> {
    pub base_url: &'a str,
    pub headers: &'a [(String, String)],
    pub identities: &'a [Vec<(String, String)>],
    pub load: &'a LoadConfig,
}

/// Changes to the runs as the spec and `sdd.yaml` describe them.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Requests per second of every open-model run.
    pub rate: Option<f64>,
    /// Measured seconds of every run.
    pub duration_seconds: Option<u64>,
}

/// One exported run, as the tool describes it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ExportedRun {
    /// The k6 scenario (its thresholds carry `scenario:<name>`).
    pub scenario: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint_id: Option<String>,
    /// The scope of `load.endpoints` the requests come from.
    pub scope: String,
    /// `open` (constant arrival rate) or `closed` (constant users).
    pub model: String,
    /// Requests per second (open model).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// VUs k6 starts with (the open model may add up to `max_vus`); the users of a closed run.
    pub vus: usize,
    pub max_vus: usize,
    pub duration_seconds: u64,
    pub warmup_seconds: u64,
    /// `METHOD path` with its weight.
    pub endpoints: Vec<String>,
    /// As k6 checks them, e.g. `http_req_duration p(95)<100`.
    pub thresholds: Vec<String>,
    /// What differs from the constraint as written, or from what sdd-load would run here.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// A constraint an export of all left out, and why.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Skipped {
    pub constraint_id: String,
    pub reason: String,
}

/// The runs to write, described.
#[derive(Debug, Clone)]
pub struct LoadTest {
    pub runs: Vec<K6Run>,
    pub described: Vec<ExportedRun>,
    pub skipped: Vec<Skipped>,
}

/// The runs for `selection`; an error says what to change (a missing scope, an unknown ID, a
/// constraint that is not verified with load).
pub fn load_test(
    spec: &Spec,
    selection: &Selection,
    target: &Target<'_>,
    overrides: &Overrides,
) -> Result<LoadTest, String> {
    if let Some(rate) = overrides.rate {
        if !rate.is_finite() || rate <= 0.0 {
            return Err(format!(
                "rate must be above 0 requests per second, not {rate}"
            ));
        }
    }
    let mut test = LoadTest {
        runs: Vec::new(),
        described: Vec::new(),
        skipped: Vec::new(),
    };
    match selection {
        Selection::Constraint(id) => {
            let constraint = spec.constraint(id).ok_or_else(|| {
                format!(
                    "no constraint with ID {id}; list them with get_constraints on the specification server"
                )
            })?;
            let shape = shape(constraint).map_err(|why| format!("{id}: {why}"))?;
            push(&mut test, target, overrides, Some(constraint), shape)?;
        }
        Selection::Scope(scope) => {
            let mut thresholds = Vec::new();
            for c in &spec.constraints {
                for check in &c.parsed.checks {
                    if let CheckSpec::Latency {
                        percentile,
                        max_ms,
                        scope: s,
                    } = check
                    {
                        if s == scope {
                            thresholds.push(Threshold::Latency {
                                percentile: *percentile,
                                max_ms: *max_ms,
                            });
                        }
                    }
                }
            }
            let shape = Shape {
                scope: scope.clone(),
                load: Load::Open(None),
                thresholds,
                error_share: MAX_ERROR_SHARE,
                counted_4xx: Vec::new(),
            };
            push(&mut test, target, overrides, None, shape)?;
        }
        Selection::All => {
            for c in &spec.constraints {
                // As verify_constraints leaves such a constraint unchecked and goes on.
                let pushed =
                    shape(c).and_then(|shape| push(&mut test, target, overrides, Some(c), shape));
                if let Err(reason) = pushed {
                    test.skipped.push(Skipped {
                        constraint_id: c.id.clone(),
                        reason,
                    });
                }
            }
            if test.runs.is_empty() {
                return Err(
                    "no constraint of the spec is verified with load (latency, throughput, error rate, concurrency); export a scope of load.endpoints instead"
                        .into(),
                );
            }
        }
    }
    Ok(test)
}

/// How a constraint is loaded, before `sdd.yaml` and the overrides.
struct Shape {
    scope: String,
    load: Load,
    thresholds: Vec<Threshold>,
    /// The failed share above which the run fails (`verdict::guard`, or the constraint's).
    error_share: f64,
    /// 4xx statuses the constraint counts as errors, which the k6 script's `http_req_failed`
    /// does not (it counts transport errors and 5xx, as SDD does by default).
    counted_4xx: Vec<u16>,
}

enum Load {
    /// The rate the constraint states, if any.
    Open(Option<f64>),
    /// Concurrent users.
    Closed(u64),
}

/// The same reading as `verify_constraints`: latency first, then concurrency, error rate,
/// throughput.
fn shape(c: &Constraint) -> Result<Shape, String> {
    if let Some(why) = &c.parsed.not_checkable {
        return Err(format!("not machine-checkable: {}", why.reason));
    }
    let checks = &c.parsed.checks;
    let rate = checks.iter().find_map(|k| match k {
        CheckSpec::Throughput { per_second, .. } => Some(*per_second),
        _ => None,
    });
    for check in checks {
        if let CheckSpec::Latency {
            percentile,
            max_ms,
            scope,
        } = check
        {
            return Ok(Shape {
                scope: scope.clone(),
                load: Load::Open(rate),
                thresholds: vec![Threshold::Latency {
                    percentile: *percentile,
                    max_ms: *max_ms,
                }],
                error_share: MAX_ERROR_SHARE,
                counted_4xx: Vec::new(),
            });
        }
    }
    for check in checks {
        if let CheckSpec::Concurrency { users } = check {
            return Ok(Shape {
                scope: "all".into(),
                load: Load::Closed(*users),
                thresholds: Vec::new(),
                error_share: MAX_ERROR_SHARE,
                counted_4xx: Vec::new(),
            });
        }
    }
    for check in checks {
        if let CheckSpec::ErrorRate {
            max_percent,
            counted_4xx,
        } = check
        {
            return Ok(Shape {
                scope: "all".into(),
                load: Load::Open(rate),
                thresholds: Vec::new(),
                error_share: max_percent / 100.0,
                counted_4xx: counted_4xx.clone(),
            });
        }
    }
    if rate.is_some() {
        return Ok(Shape {
            scope: "all".into(),
            load: Load::Open(rate),
            thresholds: Vec::new(),
            error_share: MAX_ERROR_SHARE,
            counted_4xx: Vec::new(),
        });
    }
    let kinds: Vec<&str> = checks.iter().map(CheckSpec::kind).collect();
    Err(format!(
        "a {} constraint is not verified with load (probes and the restart probe check those; run verify_constraints)",
        kinds.join(", ")
    ))
}

/// The shape made a plan under `sdd.yaml`'s load section and the overrides.
fn push(
    test: &mut LoadTest,
    target: &Target<'_>,
    overrides: &Overrides,
    constraint: Option<&Constraint>,
    shape: Shape,
) -> Result<(), String> {
    let load = target.load;
    let endpoints = scope_endpoints(load, &shape.scope)?;
    let duration = overrides
        .duration_seconds
        .unwrap_or(load.duration_seconds)
        .max(1);
    let mut notes = Vec::new();
    if !shape.counted_4xx.is_empty() {
        notes.push(format!(
            "the constraint counts {} as errors; this script's http_req_failed counts only transport errors and 5xx, and bounds 4xx as refusals (sdd_refused), so k6 passing does not show the error rate as the constraint counts it: verify_constraints does",
            if shape.counted_4xx.len() == 100 { "every 4xx".to_string() } else { shape.counted_4xx.iter().map(u16::to_string).collect::<Vec<_>>().join(", ") }
        ));
    }
    let (model, rate, vus) = match shape.load {
        Load::Open(stated) => {
            let rate = match (overrides.rate, stated) {
                (Some(rate), Some(stated)) => {
                    if rate != stated {
                        notes.push(format!(
                        "{rate} req/s as asked; the constraint states {stated} req/s, so this run does not verify it as written"
                    ));
                    }
                    rate
                }
                (Some(rate), None) => rate,
                (None, Some(stated)) => stated,
                (None, None) => {
                    notes.push(format!(
                        "no rate stated; load.default_rate ({} req/s)",
                        load.default_rate
                    ));
                    load.default_rate
                }
            };
            if rate > load.max_rate {
                notes.push(format!(
                    "{rate} req/s is above load.max_rate ({}), the most sdd-load asks of this machine: run it distributed (k6-operator, parallelism)",
                    load.max_rate
                ));
            }
            // As verify_constraints sizes sdd-load's connections.
            let vus = ((rate / 4.0).ceil() as usize).clamp(16, load.max_connections.max(16));
            (
                Model::Open {
                    rate,
                    stages: vec![],
                },
                Some(rate),
                vus,
            )
        }
        Load::Closed(users) => {
            if overrides.rate.is_some() {
                notes.push(
                    "a concurrency constraint is a number of users, not a rate: rate not applied"
                        .into(),
                );
            }
            if users as usize > load.max_connections {
                notes.push(format!(
                    "{users} users is above load.max_connections ({}), the most sdd-load opens here: run it distributed (k6-operator, parallelism)",
                    load.max_connections
                ));
            }
            let users = usize::try_from(users).unwrap_or(usize::MAX).max(1);
            (Model::Closed { connections: users }, None, users)
        }
    };
    let mut plan = LoadPlan::new(
        target.base_url,
        endpoints,
        model,
        Duration::from_secs(duration),
    );
    plan.warmup = Duration::from_secs(load.warmup_seconds);
    plan.headers = target.headers.to_vec();
    plan.identities = target.identities.to_vec();
    let max_vus = match plan.model {
        Model::Open { .. } => {
            plan.connections = Some(vus);
            load.max_connections.max(vus)
        }
        Model::Closed { .. } => vus,
    };
    if let Some(percentile) = shape.thresholds.iter().find_map(|t| match t {
        Threshold::Latency { percentile, .. } => Some(*percentile),
        _ => None,
    }) {
        plan.extra_percentiles = vec![percentile];
    }

    let mut thresholds = shape.thresholds;
    thresholds.push(Threshold::ErrorShare {
        max: shape.error_share,
    });
    thresholds.push(Threshold::RefusedShare {
        max: MAX_REFUSED_SHARE,
    });
    if let Some(rate) = rate {
        // Requests k6 could not start on time are requests not sent: at most the share that
        // still counts as the rate asked for (`verdict::FULL_RATE_SHARE`).
        let planned = rate * duration as f64;
        thresholds.push(Threshold::Dropped {
            max: ((1.0 - FULL_RATE_SHARE) * planned).floor() as u64,
        });
    }

    let base = match constraint {
        Some(c) => scenario_name(&c.id),
        None => scenario_name(&shape.scope),
    };
    let mut name = base.clone();
    let mut n = 2;
    while test.runs.iter().any(|r| r.name == name) {
        name = format!("{base}-{n}");
        n += 1;
    }
    test.described.push(ExportedRun {
        scenario: name.clone(),
        constraint_id: constraint.map(|c| c.id.clone()),
        scope: shape.scope,
        model: match plan.model {
            Model::Open { .. } => "open".into(),
            Model::Closed { .. } => "closed".into(),
        },
        rate,
        vus,
        max_vus,
        duration_seconds: duration,
        warmup_seconds: load.warmup_seconds,
        endpoints: plan
            .endpoints
            .iter()
            .map(|e| format!("{} {} (weight {})", e.method, e.path, e.weight.max(1)))
            .collect(),
        thresholds: thresholds.iter().map(Threshold::describe).collect(),
        notes,
    });
    test.runs.push(K6Run {
        name,
        plan,
        thresholds,
        max_vus,
    });
    Ok(())
}

/// The endpoints of a scope: `all` is every endpoint listed; `reads`/`writes` fall back to the
/// GET / non-GET part of everything listed when not named. `verify_constraints` loads the same
/// scopes through this function.
pub fn scope_endpoints(load: &LoadConfig, scope: &str) -> Result<Vec<Endpoint>, String> {
    let convert = |e: &sdd_spec::project::LoadEndpoint| Endpoint {
        method: e.method.to_ascii_uppercase(),
        path: e.path.clone(),
        headers: e
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
        body: e.body.clone(),
        weight: e.weight,
    };
    if let Some(list) = load.endpoints.get(scope) {
        if !list.is_empty() {
            return Ok(list.iter().map(convert).collect());
        }
    }
    let all: Vec<Endpoint> = load.endpoints.values().flatten().map(convert).collect();
    let chosen: Vec<Endpoint> = match scope {
        "all" => all,
        "reads" => all
            .into_iter()
            .filter(|e| e.method == "GET" || e.method == "HEAD")
            .collect(),
        "writes" => all
            .into_iter()
            .filter(|e| e.method != "GET" && e.method != "HEAD")
            .collect(),
        _ => Vec::new(),
    };
    if chosen.is_empty() {
        return Err(format!(
            "sdd.yaml lists no load endpoints for `{scope}`; add them under `load.endpoints.{scope}` (method, path, body)"
        ));
    }
    Ok(chosen)
}

/// What the script's header comment says besides its runs.
pub struct Header<'a> {
    /// RFC 3339.
    pub generated_at: &'a str,
    /// The script's path as `k6 run` is given it (relative to the project root).
    pub path: &'a str,
    /// When `auth.jwt` signs the tokens the script carries.
    pub tokens: Option<Tokens<'a>>,
    /// Variables read for the secret or `service.headers` (`${env:NAME}`) at export time.
    pub from_env: &'a [String],
    /// The script carries `service.headers` or tokens.
    pub holds_credentials: bool,
}

pub struct Tokens<'a> {
    /// Simulated users, each with its own token (0: only SDD's own token).
    pub users: usize,
    /// RFC 3339: `auth.jwt.ttl_seconds` after `generated_at`.
    pub expires_at: &'a str,
}

/// The script's header comment, one line per item (`sdd_load::k6` keeps each on its line).
pub fn header(test: &LoadTest, h: &Header<'_>) -> Vec<String> {
    let mut lines = vec![
        format!(
            "SDD load test, written by export_load_test (`sdd export k6`) at {} from the spec and sdd.yaml.",
            h.generated_at
        ),
        "The load verify_constraints runs with sdd-load: the same arrival rate (open model:".into(),
        "constant-arrival-rate), endpoints and weights of load.endpoints, users and their tokens; the".into(),
        "constraints' bounds are thresholds on the measured requests (after the warm-up) of each run.".into(),
        String::new(),
    ];
    for run in &test.described {
        let what = match &run.constraint_id {
            Some(id) => format!("constraint {id}"),
            None => format!("scope `{}`", run.scope),
        };
        let load = match run.rate {
            Some(rate) => format!("{rate} req/s"),
            None => format!("{} concurrent users", run.vus),
        };
        lines.push(format!(
            "{}: {what}: {load} on `{}` for {} s after a {} s warm-up; {}",
            run.scenario,
            run.scope,
            run.duration_seconds,
            run.warmup_seconds,
            run.thresholds.join(", ")
        ));
        for note in &run.notes {
            lines.push(format!("  note: {note}"));
        }
    }
    lines.push(String::new());
    if let Some(t) = &h.tokens {
        let who = if t.users > 0 {
            format!("{} HS256 tokens, one per simulated user,", t.users)
        } else {
            "An HS256 token".to_string()
        };
        lines.push(format!(
            "{who} signed with auth.jwt.secret, valid until {} (auth.jwt.ttl_seconds): export again after that.",
            t.expires_at
        ));
    }
    if !h.from_env.is_empty() {
        let names: Vec<String> = h.from_env.iter().map(|n| format!("${n}")).collect();
        lines.push(format!(
            "Read from {} when this was written: export again after it changes.",
            names.join(", ")
        ));
    }
    if h.holds_credentials {
        lines.push(
            "This file holds the client's credentials as SDD sends them: keep it out of version control."
                .to_string(),
        );
    }
    lines.push(format!("Run:      k6 run {}", h.path));
    lines.push(format!(
        "          k6 run --summary-export summary.json {}   (p95 and count of each run: http_req_duration{{scenario:NAME,phase:measured}})",
        h.path
    ));
    lines.push(
        "          k6 run -e SDD_BASE_URL=http://host:port ... sends the load elsewhere (same tokens).".into(),
    );
    lines.push(
        "Cluster:  k6-operator: this file in a ConfigMap and a TestRun with spec.parallelism N;"
            .into(),
    );
    lines
        .push("          k6 splits each arrival rate (and the VUs) across the N instances.".into());
    lines
}

/// How every script [`k6_script`] writes begins (the first line of [`header`]): a writer can
/// tell its own earlier export from a file it must not replace.
pub const SCRIPT_MARK: &str = "// SDD load test, written by export_load_test";
/// How every plan [`plan_json`] writes begins (`LoadPlan`'s first field, compact JSON).
pub const PLAN_MARK: &str = "{\"base_url\":";

/// The k6 script of `test`, with [`header`]'s comment.
pub fn k6_script(test: &LoadTest, h: &Header<'_>) -> Result<String, String> {
    sdd_load::k6::script(&sdd_load::k6::K6Test {
        comment: header(test, h),
        runs: test.runs.clone(),
    })
    .map_err(|e| e.to_string())
}

/// The sdd-load plan of a one-run export (for `sdd-load --plan FILE`), as JSON; `None` when
/// the export has several runs.
pub fn plan_json(test: &LoadTest) -> Option<String> {
    match test.runs.as_slice() {
        [run] => serde_json::to_string(&run.plan).ok(),
        _ => None,
    }
}

/// The names of the environment variables a value of `sdd.yaml` reads (`${env:NAME}`).
pub fn env_names(value: &str) -> Vec<String> {
    sdd_spec::project::expand_env_refs(value, &|_| None).1
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: &str = r#"
feature: Tasks
description: x
constraints:
  performance:
    - name: Read latency
      requirement: p95 latency < 100ms for all read operations
      measurement: Under load of 1000 requests/second
    - name: Write latency
      requirement: p99 latency < 200ms for create/update operations
      measurement: Under load of 100 requests/second
    - name: Search latency
      requirement: p95 latency < 20ms for search
    - name: Errors
      requirement: Error rate below 0.5%
      measurement: Under load of 200 requests/second
    - name: Users
      requirement: Support 10,000 concurrent users
  security:
    - name: Authentication
      requirement: All endpoints require JWT authentication
"#;

    const YAML: &str = r#"
load:
  duration_seconds: 10
  warmup_seconds: 2
  users: 3
  endpoints:
    reads:
      - {path: "/tasks?limit=20", weight: 2}
      - {path: "/tasks?status=pending"}
    writes:
      - {method: POST, path: /tasks, body: '{"title": "t {{seq}}"}', headers: {Content-Type: application/json}}
"#;

    fn spec() -> Spec {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tasks.yaml"), SPEC).unwrap();
        let loaded = sdd_spec::load_dir(dir.path()).unwrap();
        loaded.spec
    }

    fn load() -> LoadConfig {
        sdd_spec::project::parse_project_file(YAML).unwrap().load
    }

    fn export(selection: Selection, overrides: Overrides) -> Result<LoadTest, String> {
        let load = load();
        let headers = vec![("Authorization".to_string(), "Bearer own".to_string())];
        let identities: Vec<Vec<(String, String)>> = (0..3)
            .map(|n| vec![("Authorization".to_string(), format!("Bearer u{n}"))])
            .collect();
        let target = Target {
            base_url: "http://127.0.0.1:8787",
            headers: &headers,
            identities: &identities,
            load: &load,
        };
        load_test(&spec(), &selection, &target, &overrides)
    }

    fn id(spec: &Spec, name: &str) -> String {
        spec.constraints
            .iter()
            .find(|c| c.name == name)
            .unwrap()
            .id
            .clone()
    }

    #[test]
    fn a_latency_constraint_is_its_rate_on_its_scope_with_its_percentile() {
        let spec = spec();
        let read = id(&spec, "Read latency");
        let test = export(Selection::Constraint(read.clone()), Overrides::default()).unwrap();
        let run = &test.described[0];
        assert_eq!(run.constraint_id.as_deref(), Some(read.as_str()));
        assert_eq!(run.scope, "reads");
        assert_eq!(run.model, "open");
        assert_eq!(run.rate, Some(1000.0));
        assert_eq!((run.vus, run.max_vus), (250, 1000));
        assert_eq!((run.duration_seconds, run.warmup_seconds), (10, 2));
        assert_eq!(
            run.endpoints,
            [
                "GET /tasks?limit=20 (weight 2)",
                "GET /tasks?status=pending (weight 1)"
            ]
        );
        assert_eq!(
            run.thresholds,
            [
                "http_req_duration p(95)<100",
                "http_req_failed rate<=0.01",
                "sdd_refused rate<=0.05",
                "dropped_iterations count<=500",
            ]
        );
        assert!(run.notes.is_empty(), "{:?}", run.notes);
        let plan = &test.runs[0].plan;
        assert_eq!(plan.identities.len(), 3);
        assert_eq!(plan.headers[0].1, "Bearer own");
        assert_eq!(plan.warmup, Duration::from_secs(2));
        assert_eq!(test.runs[0].name, scenario_name(&read));
    }

    #[test]
    fn constraints_map_to_runs_as_verify_constraints_reads_them() {
        let spec = spec();
        // (constraint, scope, model, rate, thresholds beside the guards)
        type Row<'a> = (&'a str, &'a str, &'a str, Option<f64>, &'a [&'a str]);
        let table: [Row; 4] = [
            (
                "Write latency",
                "writes",
                "open",
                Some(100.0),
                &["http_req_duration p(99)<200", "http_req_failed rate<=0.01"],
            ),
            (
                "Search latency",
                "search",
                "open",
                Some(50.0),
                &["http_req_duration p(95)<20"],
            ),
            (
                "Errors",
                "all",
                "open",
                Some(200.0),
                &["http_req_failed rate<=0.005"],
            ),
            (
                "Users",
                "all",
                "closed",
                None,
                &["http_req_failed rate<=0.01"],
            ),
        ];
        for (name, scope, model, rate, thresholds) in table {
            let result = export(Selection::Constraint(id(&spec, name)), Overrides::default());
            if scope == "search" {
                // No `search` endpoints in sdd.yaml: said, with where to add them.
                let err = result.unwrap_err();
                assert!(err.contains("load.endpoints.search"), "{err}");
                continue;
            }
            let test = result.unwrap();
            let run = &test.described[0];
            assert_eq!(run.scope, scope, "{name}");
            assert_eq!(run.model, model, "{name}");
            assert_eq!(run.rate, rate, "{name}");
            for t in thresholds {
                assert!(run.thresholds.contains(&t.to_string()), "{name}: {run:?}");
            }
        }
        let users = export(
            Selection::Constraint(id(&spec, "Users")),
            Overrides::default(),
        )
        .unwrap();
        let run = &users.described[0];
        assert_eq!(run.vus, 10_000);
        assert!(run.notes[0].contains("k6-operator"), "{:?}", run.notes);
        assert!(!run.thresholds.iter().any(|t| t.starts_with("dropped")));
        // Three endpoints over every scope.
        assert_eq!(run.endpoints.len(), 3);
    }

    #[test]
    fn overrides_change_rate_and_duration_and_say_so() {
        let spec = spec();
        let test = export(
            Selection::Constraint(id(&spec, "Read latency")),
            Overrides {
                rate: Some(50.0),
                duration_seconds: Some(5),
            },
        )
        .unwrap();
        let run = &test.described[0];
        assert_eq!(run.rate, Some(50.0));
        assert_eq!(run.duration_seconds, 5);
        assert_eq!(run.vus, 16);
        assert!(run
            .thresholds
            .contains(&"dropped_iterations count<=12".into()));
        assert!(run.notes[0].contains("does not verify it as written"));
        for rate in [0.0, -1.0, f64::NAN] {
            let err = export(
                Selection::All,
                Overrides {
                    rate: Some(rate),
                    duration_seconds: None,
                },
            )
            .unwrap_err();
            assert!(err.contains("above 0"), "{err}");
        }
    }

    #[test]
    fn all_is_every_load_constraint_in_order_and_names_what_it_skips() {
        let spec = spec();
        let test = export(Selection::All, Overrides::default()).unwrap();
        // `Search latency` has no endpoints: skipped with the reason, the rest exported.
        assert_eq!(test.runs.len(), 4);
        let search = &test.skipped[0];
        assert_eq!(search.constraint_id, id(&spec, "Search latency"));
        assert!(
            search.reason.contains("load.endpoints.search"),
            "{search:?}"
        );

        let mut load = load();
        load.endpoints
            .insert("search".into(), vec![load.endpoints["reads"][0].clone()]);
        let target = Target {
            base_url: "http://127.0.0.1:8787/",
            headers: &[],
            identities: &[],
            load: &load,
        };
        let test = load_test(&spec, &Selection::All, &target, &Overrides::default()).unwrap();
        let ids: Vec<&str> = test
            .described
            .iter()
            .map(|r| r.constraint_id.as_deref().unwrap())
            .collect();
        let expected: Vec<String> = [
            "Read latency",
            "Write latency",
            "Search latency",
            "Errors",
            "Users",
        ]
        .iter()
        .map(|n| id(&spec, n))
        .collect();
        assert_eq!(ids, expected);
        assert_eq!(test.skipped.len(), 1);
        assert_eq!(test.skipped[0].constraint_id, id(&spec, "Authentication"));
        assert!(test.skipped[0].reason.contains("not verified with load"));
        // The search latency constraint states no rate.
        assert!(test.described[2].notes[0].contains("load.default_rate"));
        // The whole test is one script k6 can be given.
        let script = sdd_load::k6::script(&sdd_load::k6::K6Test {
            comment: vec![],
            runs: test.runs,
        })
        .unwrap();
        assert!(script.contains("constant-vus"));
    }

    #[test]
    fn a_scope_takes_the_latency_bounds_of_its_constraints() {
        let test = export(Selection::Scope("reads".into()), Overrides::default()).unwrap();
        let run = &test.described[0];
        assert_eq!(run.scenario, "reads");
        assert_eq!(run.constraint_id, None);
        assert_eq!(run.rate, Some(50.0));
        assert!(run
            .thresholds
            .contains(&"http_req_duration p(95)<100".into()));
        // `all` is every endpoint; a scope nobody wrote is an error naming where to add it.
        let all = export(Selection::Scope("all".into()), Overrides::default()).unwrap();
        assert_eq!(all.described[0].endpoints.len(), 3);
        let err = export(Selection::Scope("nope".into()), Overrides::default()).unwrap_err();
        assert!(err.contains("load.endpoints.nope"), "{err}");
    }

    #[test]
    fn unknown_or_unloadable_constraints_are_errors_that_say_what_to_do() {
        let spec = spec();
        let err = export(Selection::Constraint("nope".into()), Overrides::default()).unwrap_err();
        assert!(err.contains("get_constraints"), "{err}");
        let auth = id(&spec, "Authentication");
        let err = export(Selection::Constraint(auth.clone()), Overrides::default()).unwrap_err();
        assert!(
            err.starts_with(&auth) && err.contains("verify_constraints"),
            "{err}"
        );
    }

    #[test]
    fn the_header_says_where_the_tokens_come_from_and_how_to_run_it() {
        let spec = spec();
        let test = export(
            Selection::Constraint(id(&spec, "Read latency")),
            Overrides::default(),
        )
        .unwrap();
        let from_env = vec!["JWT_SECRET".to_string()];
        let lines = header(
            &test,
            &Header {
                generated_at: "2026-12-01T00:00:00Z",
                path: ".sdd/load/x.k6.js",
                tokens: Some(Tokens {
                    users: 3,
                    expires_at: "2026-12-01T01:00:00Z",
                }),
                from_env: &from_env,
                holds_credentials: true,
            },
        );
        let text = lines.join("\n");
        assert!(
            text.contains(
                "1000 req/s on `reads` for 10 s after a 2 s warm-up; http_req_duration p(95)<100"
            ),
            "{text}"
        );
        assert!(text.contains("3 HS256 tokens, one per simulated user, signed with auth.jwt.secret, valid until 2026-12-01T01:00:00Z"), "{text}");
        assert!(text.contains("Read from $JWT_SECRET"), "{text}");
        assert!(text.contains("keep it out of version control"), "{text}");
        assert!(text.contains("k6 run .sdd/load/x.k6.js"), "{text}");
        assert!(text.contains("parallelism"), "{text}");
        let without = header(
            &test,
            &Header {
                generated_at: "t",
                path: "p",
                tokens: None,
                from_env: &[],
                holds_credentials: false,
            },
        )
        .join("\n");
        assert!(!without.contains("HS256"), "{without}");
        assert!(!without.contains("credentials"), "{without}");
    }

    #[test]
    fn what_is_written_begins_with_the_marks() {
        let spec = spec();
        let test = export(
            Selection::Constraint(id(&spec, "Read latency")),
            Overrides::default(),
        )
        .unwrap();
        let h = Header {
            generated_at: "t",
            path: "p",
            tokens: None,
            from_env: &[],
            holds_credentials: false,
        };
        assert!(k6_script(&test, &h).unwrap().starts_with(SCRIPT_MARK));
        let plan = plan_json(&test).unwrap();
        assert!(plan.starts_with(PLAN_MARK), "{plan}");
        let back: LoadPlan = serde_json::from_str(&plan).unwrap();
        assert_eq!(back.identities.len(), 3);
        let all = export(Selection::All, Overrides::default()).unwrap();
        assert_eq!(plan_json(&all), None);
    }

    #[test]
    fn env_references_are_named() {
        assert_eq!(env_names("${env:JWT_SECRET}"), ["JWT_SECRET"]);
        assert!(env_names("plain").is_empty());
    }
}

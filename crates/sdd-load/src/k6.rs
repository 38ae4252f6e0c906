//! Load plans written as k6 scripts: the same requests, mix, arrival model, users and bounds
//! that `run` would generate, for k6 to generate instead — on this machine, or on a cluster
//! (k6-operator's distributed execution) when one machine is not enough.
//!
//! This lives beside the generator because it is a second back end for the same `LoadPlan`:
//! it knows nothing of specs or constraints (the caller turns those into plans and
//! [`Threshold`]s). Pure: a plan in, JavaScript text out.
//!
//! How a plan maps onto k6:
//! - the open model is a `constant-arrival-rate` scenario over warm-up + duration (k6 starts
//!   each iteration on schedule whatever the service does, as `run` does); the closed model is
//!   `constant-vus`. Runs follow one another (`startTime`).
//! - request number `n` is k6's `exec.scenario.iterationInTest`: it picks the endpoint by
//!   weight exactly as `run` does (`n` modulo the total weight, in cumulative order), the user
//!   (`n` modulo the number of identities) and replaces `{{seq}}` in path and body.
//! - warm-up requests are tagged `phase: warmup` and measured ones `phase: measured`; every
//!   threshold reads the measured ones of its own scenario only.
//! - `SDD_BASE_URL` in k6's environment (`k6 run -e SDD_BASE_URL=…`) replaces the plans'
//!   base URL, for a cluster that reaches the service by another name.
//! - like SDD, a failed request is a transport error or a 5xx (`http_req_failed`); 4xx answers
//!   are refusals, counted in the `sdd_refused` rate.
//!
//! Every value a user wrote (paths, bodies, headers, tokens, names) reaches the script only as
//! JSON through `serde_json`, with `</` and the JavaScript line terminators U+2028/U+2029
//! escaped besides; comment lines lose their line breaks. Nothing can end a string literal or
//! a comment early.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::plan::{LoadPlan, Model};

/// A pass/fail bound k6 checks on the measured requests of one run.
#[derive(Debug, Clone, PartialEq)]
pub enum Threshold {
    /// `http_req_duration`: the percentile (0–100) must stay below `max_ms`.
    Latency { percentile: f64, max_ms: f64 },
    /// `http_req_failed` (transport errors and 5xx): at most this share (0–1).
    ErrorShare { max: f64 },
    /// `sdd_refused` (4xx answers): at most this share (0–1).
    RefusedShare { max: f64 },
    /// `dropped_iterations`: requests k6 could not start on time because every VU was busy
    /// (the service too slow for `maxVUs`, or k6 itself overloaded), at most this many.
    Dropped { max: u64 },
}

impl Threshold {
    /// The k6 metric (with this scenario's tags) and the expression, e.g.
    /// `http_req_duration{scenario:reads,phase:measured}` and `p(95)<100`.
    pub fn k6(&self, scenario: &str) -> (String, String) {
        let measured = |metric: &str| format!("{metric}{{scenario:{scenario},phase:measured}}");
        match self {
            Threshold::Latency { percentile, max_ms } => (
                measured("http_req_duration"),
                format!("p({})<{}", number(*percentile), number(*max_ms)),
            ),
            Threshold::ErrorShare { max } => (
                measured("http_req_failed"),
                format!("rate<={}", number(*max)),
            ),
            Threshold::RefusedShare { max } => {
                (measured("sdd_refused"), format!("rate<={}", number(*max)))
            }
            // k6 counts dropped iterations per scenario, without our phase tag.
            Threshold::Dropped { max } => (
                format!("dropped_iterations{{scenario:{scenario}}}"),
                format!("count<={max}"),
            ),
        }
    }

    /// `http_req_duration p(95)<100`: the metric without its tags, and the expression.
    pub fn describe(&self) -> String {
        let (metric, expression) = self.k6("");
        let metric = metric.split('{').next().unwrap_or_default();
        format!("{metric} {expression}")
    }
}

/// One load run: a plan, the name of its k6 scenario and what it must meet.
#[derive(Debug, Clone)]
pub struct K6Run {
    /// The scenario name: letters, digits, `_` and `-` only (k6's rule; see [`scenario_name`]).
    pub name: String,
    pub plan: LoadPlan,
    pub thresholds: Vec<Threshold>,
    /// Open model: the most VUs k6 may start when the service slows down (at least the plan's
    /// connections, which k6 allocates up front).
    pub max_vus: usize,
}

/// A whole script: its runs, in order, and the comment lines at its top.
#[derive(Debug, Clone, Default)]
pub struct K6Test {
    pub comment: Vec<String>,
    pub runs: Vec<K6Run>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum K6Error {
    #[error("nothing to export: the test has no run")]
    NoRuns,
    #[error(
        "run `{0}`: k6 scenario names take only letters, digits, `_` and `-`, and must be unique"
    )]
    BadName(String),
    #[error("run `{run}`: {what} cannot be exported to k6 yet")]
    Unsupported { run: String, what: String },
    #[error("run `{run}`: {what}")]
    Invalid { run: String, what: String },
}

/// `text` as a k6 scenario name: every other character becomes `_` (`tasks.performance.api`
/// → `tasks_performance_api`); empty becomes `run`.
pub fn scenario_name(text: &str) -> String {
    let name: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if name.is_empty() {
        "run".into()
    } else {
        name
    }
}

/// The k6 script for `test`.
pub fn script(test: &K6Test) -> Result<String, K6Error> {
    if test.runs.is_empty() {
        return Err(K6Error::NoRuns);
    }
    let mut names = BTreeSet::new();
    for run in &test.runs {
        let valid = !run.name.is_empty()
            && run
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !valid || !names.insert(run.name.as_str()) {
            return Err(K6Error::BadName(run.name.clone()));
        }
    }
    let reuse = test.runs[0].plan.reuse_connections;
    if let Some(run) = test.runs.iter().find(|r| r.plan.reuse_connections != reuse) {
        return Err(K6Error::Unsupported {
            run: run.name.clone(),
            what: "a mix of runs with and without connection reuse".into(),
        });
    }

    // Identity lists are often the same for every run (one per simulated user): each distinct
    // list is written once.
    let mut identity_sets: Vec<&Vec<Vec<(String, String)>>> = Vec::new();
    let mut runs_data = Vec::new();
    let mut scenarios = Map::new();
    let mut thresholds = Map::new();
    let mut trend_stats: Vec<String> = ["avg", "min", "med", "max", "p(90)", "p(95)", "p(99)"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut exec_functions = String::new();
    let mut start = Duration::ZERO;
    for (index, run) in test.runs.iter().enumerate() {
        let plan = &run.plan;
        let invalid = |what: &str| K6Error::Invalid {
            run: run.name.clone(),
            what: what.into(),
        };
        let unsupported = |what: &str| K6Error::Unsupported {
            run: run.name.clone(),
            what: what.into(),
        };
        if plan.endpoints.is_empty() {
            return Err(invalid("the plan has no endpoint"));
        }
        if plan.max_requests.is_some() {
            return Err(unsupported(
                "a cap on the number of requests (max_requests)",
            ));
        }
        let base = plan.base_url.trim_end_matches('/');
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(invalid("the base URL must start with http:// or https://"));
        }
        let identities = if plan.identities.is_empty() {
            Value::Null
        } else {
            let at = match identity_sets.iter().position(|s| **s == plan.identities) {
                Some(at) => at,
                None => {
                    identity_sets.push(&plan.identities);
                    identity_sets.len() - 1
                }
            };
            json!(at)
        };
        // A user's headers replace same-named ones (case-insensitively), as in `run`.
        let identity_names: BTreeSet<String> = plan
            .identities
            .iter()
            .flatten()
            .map(|(name, _)| name.to_ascii_lowercase())
            .collect();
        let endpoints: Vec<Value> = plan
            .endpoints
            .iter()
            .map(|e| {
                let method = e.method.to_ascii_uppercase();
                let mut headers = Map::new();
                for (name, value) in plan.headers.iter().chain(&e.headers) {
                    if !identity_names.contains(&name.to_ascii_lowercase()) {
                        headers.insert(name.clone(), Value::String(value.clone()));
                    }
                }
                json!({
                    "name": format!("{method} {}", e.path),
                    "method": method,
                    "path": e.path,
                    "body": e.body,
                    "headers": headers,
                })
            })
            .collect();
        let cumulative = plan.cumulative_weights();
        let grace = plan.timeout;
        let total = plan.warmup + plan.duration;
        let mut scenario = Map::new();
        let mut data = json!({
            "base": base,
            "timeout": duration(plan.timeout),
            "identities": identities,
            "cumulative": cumulative,
            "endpoints": endpoints,
        });
        let exec_name = format!("run_{index}");
        match &plan.model {
            Model::Open { stages, .. } if !stages.is_empty() => {
                return Err(unsupported("a ramping arrival rate (stages)"));
            }
            Model::Open { rate, .. } => {
                if !rate.is_finite() || *rate <= 0.0 {
                    return Err(invalid("the open model needs a rate above 0"));
                }
                let (per_unit, unit) = arrival_rate(*rate);
                // As `run`: a quarter second of arrivals, at least 16, unless the plan says.
                let vus = plan
                    .connections
                    .unwrap_or_else(|| ((rate / 4.0).ceil() as usize).clamp(16, 1000))
                    .max(1);
                scenario.insert("executor".into(), json!("constant-arrival-rate"));
                scenario.insert("rate".into(), json!(per_unit));
                scenario.insert("timeUnit".into(), json!(unit));
                scenario.insert("duration".into(), json!(duration(total)));
                scenario.insert("preAllocatedVUs".into(), json!(vus));
                scenario.insert("maxVUs".into(), json!(run.max_vus.max(vus)));
                // Request `n` is due at n / rate (the warm-up at least 1 req/s, as in `run`):
                // the first requests due before the warm-up ends are not measured.
                let warm = (rate.max(1.0) * plan.warmup.as_secs_f64()).ceil() as u64;
                data["warmupIterations"] = json!(warm);
                let _ = write!(
                    exec_functions,
                    "\nexport function {exec_name}() {{\n  const n = exec.scenario.iterationInTest;\n  send(RUNS[{index}], n, n < RUNS[{index}].warmupIterations ? 'warmup' : 'measured');\n}}\n"
                );
            }
            Model::Closed { connections } => {
                scenario.insert("executor".into(), json!("constant-vus"));
                scenario.insert("vus".into(), json!((*connections).max(1)));
                scenario.insert("duration".into(), json!(duration(total)));
                // No schedule to count on: the warm-up is the first seconds of the run.
                data["startMs"] = json!(start.as_millis() as u64);
                data["warmupMs"] = json!(plan.warmup.as_millis() as u64);
                let _ = write!(
                    exec_functions,
                    "\nexport function {exec_name}() {{\n  const run = RUNS[{index}];\n  const since = exec.instance.currentTestRunDuration - run.startMs;\n  send(run, exec.scenario.iterationInTest, since < run.warmupMs ? 'warmup' : 'measured');\n}}\n"
                );
            }
        }
        scenario.insert("startTime".into(), json!(duration(start)));
        scenario.insert("gracefulStop".into(), json!(duration(grace)));
        scenario.insert("exec".into(), json!(exec_name));
        scenarios.insert(run.name.clone(), Value::Object(scenario));
        runs_data.push(data);

        for threshold in &run.thresholds {
            let (metric, expression) = threshold.k6(&run.name);
            if let Threshold::Latency { percentile, .. } = threshold {
                let stat = format!("p({})", number(*percentile));
                if !trend_stats.contains(&stat) {
                    trend_stats.push(stat);
                }
            }
            if let Value::Array(list) = thresholds.entry(metric).or_insert_with(|| json!([])) {
                list.push(Value::String(expression));
            }
        }
        for percentile in &plan.extra_percentiles {
            let stat = format!("p({})", number(*percentile));
            if !trend_stats.contains(&stat) {
                trend_stats.push(stat);
            }
        }
        // The next run starts once this one's last requests had their time to finish.
        start += total + grace;
    }
    // `count` last: the number of measured requests beside their percentiles.
    trend_stats.push("count".into());

    let mut options = Map::new();
    options.insert("discardResponseBodies".into(), json!(true));
    if !reuse {
        options.insert("noConnectionReuse".into(), json!(true));
    }
    options.insert("summaryTrendStats".into(), json!(trend_stats));
    options.insert("scenarios".into(), Value::Object(scenarios));
    options.insert("thresholds".into(), Value::Object(thresholds));

    let mut out = String::new();
    for line in &test.comment {
        out.push_str("//");
        let line = comment_line(line);
        if !line.is_empty() {
            out.push(' ');
            out.push_str(&line);
        }
        out.push('\n');
    }
    out.push_str(PRELUDE);
    out.push_str(
        "\n// Each simulated user's headers (e.g. its own signed token).\nconst IDENTITIES = [",
    );
    for (at, set) in identity_sets.iter().enumerate() {
        let users: Vec<Map<String, Value>> = set
            .iter()
            .map(|headers| {
                headers
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect()
            })
            .collect();
        let _ = write!(
            out,
            "\n  new SharedArray('identities_{at}', function () {{\n    return {};\n  }}),",
            js(
                &Value::from(users.into_iter().map(Value::Object).collect::<Vec<_>>()),
                false
            )
        );
    }
    out.push_str("\n];\n\n// The runs: endpoints in weight order (cumulative weights pick one by request number).\nconst RUNS = ");
    out.push_str(&js(&Value::Array(runs_data), true));
    out.push_str(";\n\nexport const options = ");
    out.push_str(&js(&Value::Object(options), true));
    out.push_str(";\n");
    out.push_str(SEND);
    out.push_str(&exec_functions);
    Ok(out)
}

const PRELUDE: &str = "
import http from 'k6/http';
import exec from 'k6/execution';
import { Rate } from 'k6/metrics';
import { SharedArray } from 'k6/data';

// As SDD counts them: a failed request is a transport error or a 5xx; a 4xx is a refusal.
http.setResponseCallback(http.expectedStatuses({ min: 100, max: 499 }));
const refused = new Rate('sdd_refused');
";

const SEND: &str = "
// Request number n of a run: its endpoint by weight, its user, {{seq}} replaced by n.
function send(run, n, phase) {
  const slot = n % run.cumulative[run.cumulative.length - 1];
  let at = 0;
  while (run.cumulative[at] <= slot) at++;
  const e = run.endpoints[at];
  const seq = String(n);
  const path = e.path.split('{{seq}}').join(seq);
  const body = e.body === null ? null : e.body.split('{{seq}}').join(seq);
  let headers = e.headers;
  if (run.identities !== null) {
    const users = IDENTITIES[run.identities];
    headers = Object.assign({}, e.headers, users[n % users.length]);
  }
  const res = http.request(e.method, (__ENV.SDD_BASE_URL || run.base) + path, body, {
    headers: headers,
    timeout: run.timeout,
    tags: { name: e.name, phase: phase },
  });
  refused.add(res.status >= 400 && res.status < 500, { phase: phase });
}
";

/// A rate as k6 takes it: a whole number per time unit (per second when whole, else per
/// minute or hour when that is whole, else per 1000 s, to a thousandth of a request/s).
fn arrival_rate(rate: f64) -> (u64, &'static str) {
    for (seconds, unit) in [(1.0, "1s"), (60.0, "1m"), (3600.0, "1h")] {
        let per_unit = rate * seconds;
        if (per_unit - per_unit.round()).abs() < 1e-6 {
            return (per_unit.round() as u64, unit);
        }
    }
    ((rate * 1000.0).round().max(1.0) as u64, "1000s")
}

/// `10s`, or `1500ms` when not whole seconds.
fn duration(d: Duration) -> String {
    if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

/// `95`, `99.9`, `0.01`: as short as the number allows.
fn number(x: f64) -> String {
    format!("{x}")
}

/// One comment line: line breaks and other control characters become spaces.
fn comment_line(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() || c == '\u{2028}' || c == '\u{2029}' {
                ' '
            } else {
                c
            }
        })
        .collect::<String>()
        .trim_end()
        .to_string()
}

/// `value` as a JavaScript expression: JSON, with `</` and U+2028/U+2029 escaped besides, so
/// that a value holds whatever it holds and ends where JSON says.
fn js(value: &Value, pretty: bool) -> String {
    let text = if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .unwrap_or_else(|_| "null".into());
    // Outside strings JSON has only punctuation, digits and literals: these replacements can
    // only touch string contents, where the escapes mean the same characters.
    text.replace("</", "<\\/")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{Endpoint, Stage};

    fn plan(endpoints: Vec<Endpoint>, model: Model) -> LoadPlan {
        let mut plan = LoadPlan::new(
            "http://127.0.0.1:8787/",
            endpoints,
            model,
            Duration::from_secs(10),
        );
        plan.warmup = Duration::from_secs(2);
        plan
    }

    fn open(rate: f64) -> Model {
        Model::Open {
            rate,
            stages: vec![],
        }
    }

    fn run(name: &str, plan: LoadPlan, thresholds: Vec<Threshold>) -> K6Run {
        K6Run {
            name: name.into(),
            plan,
            thresholds,
            max_vus: 1000,
        }
    }

    fn one(run: K6Run) -> String {
        script(&K6Test {
            comment: vec!["test".into()],
            runs: vec![run],
        })
        .unwrap()
    }

    /// The JSON after `marker` up to the line `end` (the script's data blocks).
    fn block(script: &str, marker: &str, end: &str) -> Value {
        let from = script.find(marker).unwrap() + marker.len();
        let to = from + script[from..].find(end).unwrap();
        serde_json::from_str(&script[from..to]).unwrap()
    }

    fn options(script: &str) -> Value {
        block(script, "export const options = ", ";\n")
    }

    fn runs(script: &str) -> Value {
        block(script, "const RUNS = ", ";\n\nexport")
    }

    #[test]
    fn open_model_is_a_constant_arrival_rate_over_warmup_and_duration() {
        let s = one(run(
            "reads",
            plan(vec![Endpoint::get("/tasks")], open(50.0)),
            vec![],
        ));
        let o = options(&s);
        let sc = &o["scenarios"]["reads"];
        assert_eq!(sc["executor"], "constant-arrival-rate");
        assert_eq!(sc["rate"], 50);
        assert_eq!(sc["timeUnit"], "1s");
        assert_eq!(sc["duration"], "12s");
        assert_eq!(sc["preAllocatedVUs"], 16);
        assert_eq!(sc["maxVUs"], 1000);
        assert_eq!(sc["startTime"], "0s");
        assert_eq!(sc["gracefulStop"], "10s");
        assert_eq!(sc["exec"], "run_0");
        assert_eq!(o["discardResponseBodies"], true);
        let r = &runs(&s)[0];
        assert_eq!(r["base"], "http://127.0.0.1:8787");
        assert_eq!(r["warmupIterations"], 100);
        assert_eq!(r["identities"], Value::Null);
        assert!(s.contains("export function run_0()"));
        assert!(s.contains("exec.scenario.iterationInTest"));
        assert!(s.contains("(__ENV.SDD_BASE_URL || run.base) + path"));
        assert!(s.starts_with("// test\n"));
    }

    #[test]
    fn rates_become_whole_numbers_per_time_unit() {
        for (rate, per_unit, unit) in [
            (50.0, 50, "1s"),
            (1000.0, 1000, "1s"),
            (0.5, 30, "1m"),
            (1000.0 / 60.0, 1000, "1m"),
            (1.0 / 3600.0, 1, "1h"),
            (std::f64::consts::PI, 3142, "1000s"),
        ] {
            assert_eq!(arrival_rate(rate), (per_unit, unit), "{rate}");
        }
    }

    #[test]
    fn connections_become_preallocated_vus_and_max_vus_is_never_below_them() {
        let mut p = plan(vec![Endpoint::get("/")], open(1000.0));
        assert_eq!(
            options(&one(run("a", p.clone(), vec![])))["scenarios"]["a"]["preAllocatedVUs"],
            250
        );
        p.connections = Some(40);
        let mut r = run("a", p, vec![]);
        r.max_vus = 10;
        let o = options(&one(r));
        assert_eq!(o["scenarios"]["a"]["preAllocatedVUs"], 40);
        assert_eq!(o["scenarios"]["a"]["maxVUs"], 40);
    }

    #[test]
    fn weights_become_cumulative_and_the_send_function_picks_as_the_generator_does() {
        let mut heavy = Endpoint::get("/tasks?limit=20");
        heavy.weight = 2;
        let mut zero = Endpoint::get("/zero");
        zero.weight = 0;
        let s = one(run(
            "reads",
            plan(vec![heavy, Endpoint::get("/pending"), zero], open(10.0)),
            vec![],
        ));
        let r = &runs(&s)[0];
        // A weight of 0 counts as 1, as in `run`.
        assert_eq!(r["cumulative"], json!([2, 3, 4]));
        assert_eq!(r["endpoints"][0]["name"], "GET /tasks?limit=20");
        assert_eq!(r["endpoints"][1]["path"], "/pending");
        assert!(s.contains("const slot = n % run.cumulative[run.cumulative.length - 1];"));
        assert!(s.contains("while (run.cumulative[at] <= slot) at++;"));
    }

    #[test]
    fn seq_placeholders_become_the_request_number() {
        let mut post = Endpoint::get("/tasks/{{seq}}");
        post.method = "post".into();
        post.body = Some(r#"{"title": "load task {{seq}}"}"#.into());
        let s = one(run("writes", plan(vec![post], open(10.0)), vec![]));
        let e = &runs(&s)[0]["endpoints"][0];
        assert_eq!(e["method"], "POST");
        assert_eq!(e["path"], "/tasks/{{seq}}");
        assert_eq!(e["body"], r#"{"title": "load task {{seq}}"}"#);
        assert!(s.contains("e.path.split('{{seq}}').join(seq)"));
        assert!(s.contains("e.body.split('{{seq}}').join(seq)"));
        assert!(s.contains("const seq = String(n);"));
    }

    #[test]
    fn thresholds_read_the_measured_requests_of_their_own_scenario() {
        let table = [
            (
                Threshold::Latency {
                    percentile: 95.0,
                    max_ms: 100.0,
                },
                "http_req_duration{scenario:reads,phase:measured}",
                "p(95)<100",
                "http_req_duration p(95)<100",
            ),
            (
                Threshold::Latency {
                    percentile: 99.9,
                    max_ms: 0.5,
                },
                "http_req_duration{scenario:reads,phase:measured}",
                "p(99.9)<0.5",
                "http_req_duration p(99.9)<0.5",
            ),
            (
                Threshold::ErrorShare { max: 0.01 },
                "http_req_failed{scenario:reads,phase:measured}",
                "rate<=0.01",
                "http_req_failed rate<=0.01",
            ),
            (
                Threshold::RefusedShare { max: 0.05 },
                "sdd_refused{scenario:reads,phase:measured}",
                "rate<=0.05",
                "sdd_refused rate<=0.05",
            ),
            (
                Threshold::Dropped { max: 25 },
                "dropped_iterations{scenario:reads}",
                "count<=25",
                "dropped_iterations count<=25",
            ),
        ];
        for (threshold, metric, expression, described) in &table {
            assert_eq!(
                threshold.k6("reads"),
                (metric.to_string(), expression.to_string())
            );
            assert_eq!(threshold.describe(), *described);
        }
        let s = one(run(
            "reads",
            plan(vec![Endpoint::get("/")], open(10.0)),
            table.iter().map(|(t, ..)| t.clone()).collect(),
        ));
        let o = options(&s);
        assert_eq!(
            o["thresholds"]["http_req_duration{scenario:reads,phase:measured}"],
            json!(["p(95)<100", "p(99.9)<0.5"])
        );
        assert_eq!(
            o["thresholds"]["dropped_iterations{scenario:reads}"],
            json!(["count<=25"])
        );
        // The percentiles of the thresholds are in the summary, with the request count.
        let stats = o["summaryTrendStats"].as_array().unwrap();
        assert!(stats.contains(&json!("p(99.9)")));
        assert_eq!(stats.last().unwrap(), "count");
    }

    #[test]
    fn runs_follow_one_another_and_a_closed_model_is_constant_vus() {
        let first = plan(vec![Endpoint::get("/a")], open(10.0));
        let mut second = plan(vec![Endpoint::get("/b")], Model::Closed { connections: 50 });
        second.warmup = Duration::from_millis(1500);
        let s = script(&K6Test {
            comment: vec![],
            runs: vec![run("first", first, vec![]), run("second", second, vec![])],
        })
        .unwrap();
        let o = options(&s);
        // 2 s warm-up + 10 s + 10 s for the last requests to finish.
        assert_eq!(o["scenarios"]["second"]["startTime"], "22s");
        assert_eq!(o["scenarios"]["second"]["executor"], "constant-vus");
        assert_eq!(o["scenarios"]["second"]["vus"], 50);
        assert_eq!(o["scenarios"]["second"]["duration"], "11500ms");
        let r = &runs(&s)[1];
        assert_eq!(r["startMs"], 22000);
        assert_eq!(r["warmupMs"], 1500);
        assert!(s.contains("export function run_1()"));
        assert!(s.contains("exec.instance.currentTestRunDuration - run.startMs"));
    }

    #[test]
    fn identities_are_written_once_and_replace_same_named_headers() {
        let mut p = plan(vec![Endpoint::get("/")], open(10.0));
        p.headers = vec![
            ("authorization".into(), "Bearer own".into()),
            ("X-Fixture".into(), "inventory".into()),
        ];
        p.identities = (0..3)
            .map(|n| vec![("Authorization".into(), format!("Bearer user-{n}"))])
            .collect();
        let s = script(&K6Test {
            comment: vec![],
            runs: vec![run("a", p.clone(), vec![]), run("b", p, vec![])],
        })
        .unwrap();
        assert_eq!(s.matches("Bearer user-2").count(), 1);
        assert!(s.contains("new SharedArray('identities_0'"));
        assert!(!s.contains("identities_1"));
        assert!(!s.contains("Bearer own"), "the user's token replaces it");
        let r = runs(&s);
        assert_eq!(r[0]["identities"], 0);
        assert_eq!(r[1]["identities"], 0);
        assert_eq!(
            r[0]["endpoints"][0]["headers"],
            json!({"X-Fixture": "inventory"})
        );
        assert!(s.contains("users[n % users.length]"));
    }

    #[test]
    fn nothing_a_user_writes_leaves_its_string_or_comment() {
        let hostile = "a\"b\\c'd`e${x}</script><!--\n\r\u{2028}\u{2029}\u{0}end";
        let mut e = Endpoint::get(&format!("/p?q={hostile}"));
        e.method = "POST".into();
        e.body = Some(hostile.into());
        e.headers = vec![(hostile.into(), hostile.into())];
        let mut p = plan(vec![e], open(10.0));
        p.identities = vec![vec![("Authorization".into(), hostile.into())]];
        let s = script(&K6Test {
            comment: vec![format!("constraint {hostile}"), String::new()],
            runs: vec![run("a", p, vec![])],
        })
        .unwrap();
        // The comment stays on its line.
        assert!(s.starts_with("// constraint a\"b\\c'd`e${x}</script><!--"));
        assert_eq!(s.lines().nth(1), Some("//"));
        let code = &s[s.find("\nimport").unwrap()..];
        assert!(!code.contains("</script>"));
        assert!(!s.contains('\u{2028}') && !s.contains('\u{2029}') && !s.contains('\r'));
        // Every value comes back byte for byte when the data is read as JSON.
        let e = &runs(&s)[0]["endpoints"][0];
        assert_eq!(e["body"], hostile);
        assert_eq!(e["path"], format!("/p?q={hostile}"));
        assert_eq!(e["headers"][hostile], hostile);
        let users = block(&s, "return ", ";\n  }),");
        assert_eq!(users[0]["Authorization"], hostile);
    }

    #[test]
    fn scenario_names_are_made_valid_and_bad_ones_refused() {
        assert_eq!(
            scenario_name("task_management.performance.api response"),
            "task_management_performance_api_response"
        );
        assert_eq!(scenario_name(""), "run");
        let p = plan(vec![Endpoint::get("/")], open(1.0));
        for (names, bad) in [(vec!["a.b"], "a.b"), (vec![""], ""), (vec!["a", "a"], "a")] {
            let err = script(&K6Test {
                comment: vec![],
                runs: names.iter().map(|n| run(n, p.clone(), vec![])).collect(),
            })
            .unwrap_err();
            assert_eq!(err, K6Error::BadName(bad.into()));
        }
    }

    #[test]
    fn plans_k6_cannot_run_as_written_are_refused_with_the_reason() {
        let base = plan(vec![Endpoint::get("/")], open(10.0));
        let mut ramp = base.clone();
        ramp.model = Model::Open {
            rate: 10.0,
            stages: vec![Stage {
                seconds: 1.0,
                from_rate: 1.0,
                to_rate: 10.0,
            }],
        };
        let mut capped = base.clone();
        capped.max_requests = Some(5);
        let mut empty = base.clone();
        empty.endpoints.clear();
        let mut zero = base.clone();
        zero.model = open(0.0);
        let mut ftp = base.clone();
        ftp.base_url = "ftp://x".into();
        for (p, says) in [
            (ramp, "ramping"),
            (capped, "max_requests"),
            (empty, "no endpoint"),
            (zero, "rate above 0"),
            (ftp, "http://"),
        ] {
            let err = script(&K6Test {
                comment: vec![],
                runs: vec![run("a", p, vec![])],
            })
            .unwrap_err()
            .to_string();
            assert!(err.contains(says), "{err}");
        }
        assert_eq!(script(&K6Test::default()).unwrap_err(), K6Error::NoRuns);
    }
}

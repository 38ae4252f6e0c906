//! Executable examples: the HTTP requests a scenario carries, sent to the running service, each
//! response compared with what the spec expects. Verification that does not depend on tests the
//! agent wrote. A failed step ends its example (later steps may need its captures); the result
//! is a compact expected-vs-actual list, never a whole body.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use sdd_http::AllowedHosts;
use sdd_spec::document::{ExampleDoc, ExampleExpect, ReviewStatus};
use sdd_spec::model::Spec;

use sdd_http::{self as http, HttpRequest};

const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Characters of an actual value or body shown in a mismatch.
const SHOWN: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckVerdict {
    Passing,
    Failing,
}

/// One thing that was not as expected.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Mismatch {
    /// `status`, `header content-type`, `json title`, `body`, `capture task_id`.
    pub at: String,
    pub expected: String,
    pub actual: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct StepResult {
    /// `POST /tasks` as sent (captures substituted).
    pub request: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    pub ok: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mismatches: Vec<Mismatch>,
    /// The request could not be made or answered (connection refused, timeout, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub elapsed_ms: f64,
}

impl StepResult {
    /// What went wrong, in one line: the error that stopped the request, or else the first
    /// difference (`status expected 201, got 500`). `None` for a step that passed.
    pub fn problem(&self) -> Option<String> {
        if let Some(error) = &self.error {
            return Some(error.clone());
        }
        self.mismatches
            .first()
            .map(|m| format!("{} expected {}, got {}", m.at, m.expected, m.actual))
    }
}

/// The first failed step among `steps` as one line, `<request>: <problem>` (`POST /tasks:
/// status expected 201, got 500`, `GET /tasks/7: connection refused`): what a scenario's
/// table row, its history entry and `sdd verify` show of failing examples.
pub fn first_failure_line<'a>(steps: impl IntoIterator<Item = &'a StepResult>) -> Option<String> {
    let step = steps.into_iter().find(|step| !step.ok)?;
    Some(match step.problem() {
        Some(problem) => format!("{}: {problem}", step.request),
        None => step.request.clone(),
    })
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ExampleResult {
    pub name: String,
    pub verdict: CheckVerdict,
    pub steps: Vec<StepResult>,
    /// Steps not run because an earlier one failed.
    pub steps_not_run: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ScenarioCheck {
    pub scenario_id: String,
    pub name: String,
    pub verdict: CheckVerdict,
    pub examples: Vec<ExampleResult>,
}

impl ScenarioCheck {
    /// The first failed step of the scenario's examples as one line (see
    /// [`first_failure_line`]); `None` when they all passed.
    pub fn first_failure_line(&self) -> Option<String> {
        first_failure_line(self.examples.iter().flat_map(|e| &e.steps))
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct CheckSummary {
    pub scenarios_checked: usize,
    pub passing: usize,
    pub failing: usize,
    /// Approved scenarios that carry no example.
    pub without_examples: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CheckReport {
    pub base_url: String,
    pub summary: CheckSummary,
    pub scenarios: Vec<ScenarioCheck>,
    /// Requested IDs that are not approved scenarios with examples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_ids: Vec<String>,
}

/// How SDD reaches the service as a client: its base URL, the headers every request carries,
/// and the hosts traffic may go to.
pub struct ServiceClient<'a> {
    pub base_url: &'a str,
    /// `service.headers` of sdd.yaml, sent with every request.
    pub headers: &'a BTreeMap<String, String>,
    pub allowed_hosts: &'a AllowedHosts,
}

/// Run the examples of the approved scenarios (only `ids` if not empty), in spec order.
pub async fn check_examples(
    spec: &Spec,
    ids: &[String],
    target: &ServiceClient<'_>,
) -> CheckReport {
    let mut report = CheckReport {
        base_url: target.base_url.to_string(),
        summary: CheckSummary::default(),
        scenarios: Vec::new(),
        skipped_ids: Vec::new(),
    };
    for id in ids {
        let usable = spec
            .scenario(id)
            .is_some_and(|s| s.status == ReviewStatus::Approved && !s.examples.is_empty());
        if !usable {
            report.skipped_ids.push(id.clone());
        }
    }
    // A duplicate ID's examples would be told under the first's ID: only the first's run.
    for scenario in spec.approved_scenarios() {
        if !ids.is_empty() && !ids.contains(&scenario.id) {
            continue;
        }
        if scenario.examples.is_empty() {
            report.summary.without_examples += 1;
            continue;
        }
        let mut examples = Vec::new();
        for (n, example) in scenario.examples.iter().enumerate() {
            examples.push(run_example(example, n + 1, target).await);
        }
        let verdict = if examples.iter().all(|e| e.verdict == CheckVerdict::Passing) {
            report.summary.passing += 1;
            CheckVerdict::Passing
        } else {
            report.summary.failing += 1;
            CheckVerdict::Failing
        };
        report.summary.scenarios_checked += 1;
        report.scenarios.push(ScenarioCheck {
            scenario_id: scenario.id.clone(),
            name: scenario.name.clone(),
            verdict,
            examples,
        });
    }
    report
}

static UNIQUE: AtomicU64 = AtomicU64::new(0);

async fn run_example(
    example: &ExampleDoc,
    number: usize,
    target: &ServiceClient<'_>,
) -> ExampleResult {
    let mut vars = fresh_vars();
    let steps = run_steps(&example.steps, &mut vars, target).await;
    let failed = steps.iter().any(|s| !s.ok);
    ExampleResult {
        name: example_name(example, number),
        verdict: if failed {
            CheckVerdict::Failing
        } else {
            CheckVerdict::Passing
        },
        steps_not_run: example.steps.len() - steps.len(),
        steps,
    }
}

pub fn example_name(example: &ExampleDoc, number: usize) -> String {
    example
        .name
        .clone()
        .unwrap_or_else(|| format!("example {number}"))
}

/// The values an example starts with: `unique`, different on every call.
pub fn fresh_vars() -> BTreeMap<String, String> {
    // Fixed-width counter: "{micros}{counter}" alone could repeat (1|12 and 11|2).
    let unique = format!(
        "{}{:06}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_micros())
            .unwrap_or_default(),
        UNIQUE.fetch_add(1, Ordering::Relaxed) % 1_000_000
    );
    BTreeMap::from([("unique".to_string(), unique)])
}

/// Run steps in order with `vars` (captures are added to it), stopping after the first that
/// fails.
pub async fn run_steps(
    steps: &[sdd_spec::document::ExampleStep],
    vars: &mut BTreeMap<String, String>,
    target: &ServiceClient<'_>,
) -> Vec<StepResult> {
    let mut results = Vec::new();
    for step in steps {
        let result = run_step(step, vars, target).await;
        let ok = result.ok;
        results.push(result);
        if !ok {
            break;
        }
    }
    results
}

/// Where an example that writes and then reads back by a captured value can be cut in two: the
/// index of its first `GET` step that uses a value captured by an earlier step, when a
/// non-`GET` step comes before it. Writing, restarting the service, then reading back shows
/// whether the data survived.
pub fn write_then_read_split(example: &ExampleDoc) -> Option<usize> {
    let mut captured: Vec<&str> = Vec::new();
    let mut wrote = false;
    for (i, step) in example.steps.iter().enumerate() {
        let method = step.request.method.to_ascii_uppercase();
        let uses_capture = captured
            .iter()
            .any(|name| step.request.path.contains(&format!("${{{name}}}")));
        if method == "GET" && wrote && uses_capture {
            return Some(i);
        }
        if method != "GET" && method != "HEAD" {
            wrote = true;
        }
        captured.extend(step.capture.keys().map(String::as_str));
    }
    None
}

/// A step's request with the values known so far substituted: what `run_step` sends.
pub(crate) struct ConcreteRequest {
    pub method: String,
    /// Path and query, substituted values percent-encoded.
    pub path: String,
    /// `service.headers` overridden by the step's own.
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
    /// `${name}`s no earlier step captured (nor the environment holds).
    pub unresolved: Vec<String>,
}

/// `${a}, ${b}`: unresolved names as written in an example.
pub(crate) fn as_written(names: &[String]) -> String {
    names
        .iter()
        .map(|u| format!("${{{u}}}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn concrete_request(
    step: &sdd_spec::document::ExampleStep,
    vars: &BTreeMap<String, String>,
    service_headers: &BTreeMap<String, String>,
) -> ConcreteRequest {
    let method = step.request.method.to_ascii_uppercase();
    let mut unresolved = Vec::new();
    // Values substituted into the path are percent-encoded (a captured value may hold spaces,
    // quotes or slashes).
    let encoded: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.clone(), percent_encode(v)))
        .collect();
    let path = substitute(&step.request.path, &encoded, &mut unresolved);
    let mut headers: BTreeMap<String, (String, String)> = BTreeMap::new();
    for (name, value) in service_headers.iter().chain(&step.request.headers) {
        headers.insert(
            name.to_ascii_lowercase(),
            (name.clone(), substitute(value, vars, &mut unresolved)),
        );
    }
    let body = match (&step.request.json, &step.request.body) {
        (Some(json), _) => {
            headers
                .entry("content-type".into())
                .or_insert(("content-type".into(), "application/json".into()));
            Some(
                substitute_json(json, vars, &mut unresolved)
                    .to_string()
                    .into_bytes(),
            )
        }
        (None, Some(text)) => Some(substitute(text, vars, &mut unresolved).into_bytes()),
        (None, None) => None,
    };
    ConcreteRequest {
        method,
        path,
        headers: headers.into_values().collect(),
        body,
        unresolved,
    }
}

pub(crate) async fn run_step(
    step: &sdd_spec::document::ExampleStep,
    vars: &mut BTreeMap<String, String>,
    target: &ServiceClient<'_>,
) -> StepResult {
    let ConcreteRequest {
        method,
        path,
        headers,
        body,
        unresolved,
    } = concrete_request(step, vars, target.headers);
    let label = format!("{method} {path}");
    if !unresolved.is_empty() {
        return StepResult {
            request: label,
            status: None,
            ok: false,
            mismatches: Vec::new(),
            error: Some(format!(
                "unknown value(s) {}: capture them in an earlier step (`capture:`), or set the environment variable",
                as_written(&unresolved)
            )),
            elapsed_ms: 0.0,
        };
    }
    let request = HttpRequest {
        method,
        url: format!("{}{}", target.base_url.trim_end_matches('/'), path),
        headers,
        body,
        timeout: REQUEST_TIMEOUT,
    };
    let response = match http::send(&request, target.allowed_hosts).await {
        Ok(response) => response,
        Err(e) => {
            return StepResult {
                request: label,
                status: None,
                ok: false,
                mismatches: Vec::new(),
                error: Some(e.to_string()),
                elapsed_ms: 0.0,
            }
        }
    };
    let text = String::from_utf8_lossy(&response.body).to_string();
    let json: Option<Value> = serde_json::from_slice(&response.body).ok();
    let expect = expectations(&step.expect, vars);
    let mut mismatches = compare(&expect, &response, &text, json.as_ref());
    for (name, path) in &step.capture {
        match json.as_ref().and_then(|j| lookup(j, path)) {
            Some(Value::String(s)) => {
                vars.insert(name.clone(), s.clone());
            }
            Some(Value::Null) | None => mismatches.push(Mismatch {
                at: format!("capture {name}"),
                expected: format!("a value at JSON path `{path}`"),
                actual: shorten(&text),
            }),
            Some(other) => {
                vars.insert(name.clone(), other.to_string());
            }
        }
    }
    StepResult {
        request: label,
        status: Some(response.status),
        ok: mismatches.is_empty(),
        mismatches,
        error: None,
        elapsed_ms: response.elapsed.as_secs_f64() * 1000.0,
    }
}

/// The expectations with captured values substituted (unknown names are left as written).
fn expectations(expect: &ExampleExpect, vars: &BTreeMap<String, String>) -> ExampleExpect {
    let mut ignored = Vec::new();
    let mut expect = expect.clone();
    for value in expect.json.values_mut() {
        *value = substitute_json(value, vars, &mut ignored);
    }
    for value in expect.headers.values_mut() {
        *value = substitute(value, vars, &mut ignored);
    }
    if let Some(body) = expect.body_contains.as_mut() {
        *body = substitute(body, vars, &mut ignored);
    }
    expect
}

fn compare(
    expect: &ExampleExpect,
    response: &http::HttpResponse,
    text: &str,
    json: Option<&Value>,
) -> Vec<Mismatch> {
    let mut out = Vec::new();
    if let Some(status) = expect.status {
        if status != response.status {
            out.push(Mismatch {
                at: "status".into(),
                expected: status.to_string(),
                actual: format!("{} {}", response.status, shorten(text)),
            });
        }
    }
    for (name, wanted) in &expect.headers {
        match response.header(name) {
            Some(value) if value.to_lowercase().contains(&wanted.to_lowercase()) => {}
            actual => out.push(Mismatch {
                at: format!("header {}", name.to_ascii_lowercase()),
                expected: format!("contains `{wanted}`"),
                actual: actual
                    .map(str::to_string)
                    .unwrap_or_else(|| "(absent)".into()),
            }),
        }
    }
    if let Some(needle) = &expect.body_contains {
        if !text.contains(needle.as_str()) {
            out.push(Mismatch {
                at: "body".into(),
                expected: format!("contains `{needle}`"),
                actual: shorten(text),
            });
        }
    }
    if !expect.json.is_empty() {
        let Some(json) = json else {
            out.push(Mismatch {
                at: "json".into(),
                expected: "a JSON body".into(),
                actual: shorten(text),
            });
            return out;
        };
        for (path, wanted) in &expect.json {
            let actual = lookup(json, path);
            if let Some(problem) = matches(wanted, actual) {
                out.push(Mismatch {
                    at: format!("json {path}"),
                    expected: problem,
                    actual: actual
                        .map(|v| shorten(&v.to_string()))
                        .unwrap_or_else(|| "(absent)".into()),
                });
            }
        }
    }
    out
}

const MATCHERS: &[&str] = &["exists", "type", "contains", "length", "not", "each"];

/// `None` when `actual` satisfies `wanted`; otherwise what was expected, in words. An object
/// whose keys are all matcher names is a conjunction of matchers; anything else is a literal.
fn matches(wanted: &Value, actual: Option<&Value>) -> Option<String> {
    if let Value::Object(map) = wanted {
        if !map.is_empty() && map.keys().all(|k| MATCHERS.contains(&k.as_str())) {
            let failed: Vec<String> = map
                .iter()
                .filter(|(key, arg)| !matcher(key, arg, actual))
                .map(|(key, arg)| format!("{key}: {arg}"))
                .collect();
            return (!failed.is_empty()).then(|| failed.join(", "));
        }
    }
    // A placeholder is text in YAML (`id: "${id}"`), while the value it captured may have been
    // a number or a boolean: those compare by their JSON text.
    let same = match (wanted, actual) {
        (Value::String(w), Some(a @ (Value::Number(_) | Value::Bool(_)))) => {
            serde_json::to_string(a).is_ok_and(|text| text == *w)
        }
        _ => actual == Some(wanted),
    };
    (!same).then(|| wanted.to_string())
}

fn matcher(key: &str, arg: &Value, actual: Option<&Value>) -> bool {
    match key {
        "exists" => actual.is_some_and(|v| !v.is_null()) == arg.as_bool().unwrap_or(true),
        "type" => actual.is_some_and(|v| type_name(v) == arg.as_str().unwrap_or("")),
        "contains" => actual.is_some_and(|v| match (v, arg) {
            (Value::String(s), Value::String(n)) => s.contains(n.as_str()),
            // A list of needles: every one must be in the array.
            (Value::Array(items), Value::Array(needles)) => needles
                .iter()
                .all(|needle| items.iter().any(|item| partial(needle, item))),
            (Value::Array(items), needle) => items.iter().any(|item| partial(needle, item)),
            _ => false,
        }),
        "length" => actual.is_some_and(|v| {
            let len = match v {
                Value::String(s) => s.chars().count(),
                Value::Array(a) => a.len(),
                Value::Object(o) => o.len(),
                _ => return false,
            };
            arg.as_u64() == Some(len as u64)
        }),
        "not" => actual != Some(arg),
        "each" => actual.is_some_and(|v| {
            v.as_array()
                .is_some_and(|items| items.iter().all(|item| partial(arg, item)))
        }),
        _ => false,
    }
}

/// `item` satisfies `needle`: for an object needle, every field of it matches (matchers
/// allowed); otherwise equality.
fn partial(needle: &Value, item: &Value) -> bool {
    match needle {
        Value::Object(fields) if !fields.keys().all(|k| MATCHERS.contains(&k.as_str())) => fields
            .iter()
            .all(|(path, wanted)| matches(wanted, lookup(item, path)).is_none()),
        _ => matches(needle, Some(item)).is_none(),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `title`, `items[0].id`, `$.a.b`, `$`.
pub fn lookup<'a>(root: &'a Value, path: &str) -> Option<&'a Value> {
    let path = path.trim();
    let path = path.strip_prefix('$').unwrap_or(path);
    let path = path.strip_prefix('.').unwrap_or(path);
    let mut current = root;
    if path.is_empty() {
        return Some(current);
    }
    for segment in path.split('.') {
        let (name, mut rest) = match segment.find('[') {
            Some(at) => (&segment[..at], &segment[at..]),
            None => (segment, ""),
        };
        if !name.is_empty() {
            current = current.get(name)?;
        }
        while let Some(inner) = rest.strip_prefix('[') {
            let close = inner.find(']')?;
            let index: usize = inner[..close].parse().ok()?;
            current = current.get(index)?;
            rest = &inner[close + 1..];
        }
    }
    Some(current)
}

/// Everything but unreserved URL characters as `%XX`.
pub fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// `${env:NAME}` in a configured value (e.g. a header in sdd.yaml) replaced by the environment
/// variable; unknown names become empty.
pub fn expand_env(text: &str) -> String {
    let mut unresolved = Vec::new();
    substitute(text, &BTreeMap::new(), &mut unresolved)
}

fn substitute(text: &str, vars: &BTreeMap<String, String>, unresolved: &mut Vec<String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let name = &after[..end];
        let value = match name.strip_prefix("env:") {
            Some(var) => std::env::var(var).ok(),
            None => vars.get(name).cloned(),
        };
        match value {
            Some(v) => out.push_str(&v),
            None => unresolved.push(name.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

fn substitute_json(
    value: &Value,
    vars: &BTreeMap<String, String>,
    unresolved: &mut Vec<String>,
) -> Value {
    match value {
        Value::String(s) => Value::String(substitute(s, vars, unresolved)),
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|v| substitute_json(v, vars, unresolved))
                .collect(),
        ),
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), substitute_json(v, vars, unresolved)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= SHOWN {
        return text.to_string();
    }
    let cut: String = text.chars().take(SHOWN).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn step(request: &str, error: Option<&str>, mismatches: &[(&str, &str, &str)]) -> StepResult {
        StepResult {
            request: request.into(),
            status: error.is_none().then_some(500),
            ok: error.is_none() && mismatches.is_empty(),
            mismatches: mismatches
                .iter()
                .map(|(at, expected, actual)| Mismatch {
                    at: (*at).into(),
                    expected: (*expected).into(),
                    actual: (*actual).into(),
                })
                .collect(),
            error: error.map(String::from),
            elapsed_ms: 1.0,
        }
    }

    #[test]
    fn the_first_failing_step_is_one_line_with_its_request() {
        let passed = step("GET /health", None, &[]);
        let differs = step(
            "POST /tasks",
            None,
            &[("status", "201", "500"), ("json title", "\"a\"", "null")],
        );
        let refused = step("GET /tasks/7", Some("connection refused"), &[]);
        assert_eq!(passed.problem(), None);
        assert_eq!(first_failure_line([&passed]), None);
        assert_eq!(
            first_failure_line([&passed, &differs, &refused]).as_deref(),
            Some("POST /tasks: status expected 201, got 500")
        );
        assert_eq!(
            first_failure_line([&refused, &differs]).as_deref(),
            Some("GET /tasks/7: connection refused")
        );
        // Across examples, in order: the scenario's first failure.
        let example = |steps: Vec<StepResult>| ExampleResult {
            name: "e".into(),
            verdict: CheckVerdict::Failing,
            steps,
            steps_not_run: 0,
        };
        let check = ScenarioCheck {
            scenario_id: "t.create".into(),
            name: "Create".into(),
            verdict: CheckVerdict::Failing,
            examples: vec![
                example(vec![passed.clone()]),
                example(vec![refused.clone()]),
            ],
        };
        assert_eq!(
            check.first_failure_line().as_deref(),
            Some("GET /tasks/7: connection refused")
        );
        // A failed step with neither an error nor a difference (not produced by `run_step`,
        // but readable from a result file) still names its request.
        let mut bare = passed;
        bare.ok = false;
        assert_eq!(first_failure_line([&bare]).as_deref(), Some("GET /health"));
    }

    #[test]
    fn paths() {
        let v = json!({"a": {"b": [1, {"c": "x"}]}, "t": "y"});
        assert_eq!(lookup(&v, "t"), Some(&json!("y")));
        assert_eq!(lookup(&v, "$.a.b[1].c"), Some(&json!("x")));
        assert_eq!(lookup(&v, "a.b[5]"), None);
        assert_eq!(lookup(&v, "$"), Some(&v));
    }

    #[test]
    fn matchers() {
        assert_eq!(matches(&json!("x"), Some(&json!("x"))), None);
        assert!(matches(&json!("x"), Some(&json!("y"))).is_some());
        // A captured number substituted into a (textual) placeholder still matches.
        assert_eq!(matches(&json!("18413"), Some(&json!(18413))), None);
        assert!(matches(&json!("18414"), Some(&json!(18413))).is_some());
        assert!(matches(&json!(18413), Some(&json!("18413"))).is_some());
        assert_eq!(matches(&json!({"type": "string"}), Some(&json!("y"))), None);
        assert!(matches(&json!({"exists": true}), None).is_some());
        assert_eq!(matches(&json!({"exists": false}), None), None);
        assert_eq!(matches(&json!({"length": 2}), Some(&json!([1, 2]))), None);
        assert_eq!(
            matches(&json!({"contains": "ab"}), Some(&json!("xaby"))),
            None
        );
        assert_eq!(matches(&json!({"not": 3}), Some(&json!(4))), None);
        let list = json!([{"t": "a", "s": "p"}, {"t": "b", "s": "p"}]);
        assert_eq!(matches(&json!({"each": {"s": "p"}}), Some(&list)), None);
        assert!(matches(&json!({"each": {"t": "a"}}), Some(&list)).is_some());
        assert_eq!(
            matches(
                &json!({"contains": [{"t": "a"}, {"t": "b"}], "length": 2}),
                Some(&list)
            ),
            None
        );
        assert!(matches(&json!({"contains": {"t": "c"}}), Some(&list)).is_some());
        // An object with other keys is a literal.
        assert_eq!(matches(&json!({"a": 1}), Some(&json!({"a": 1}))), None);
    }

    #[test]
    fn substitution() {
        let mut vars = BTreeMap::new();
        vars.insert("id".to_string(), "42".to_string());
        let mut unresolved = Vec::new();
        assert_eq!(substitute("/t/${id}/x", &vars, &mut unresolved), "/t/42/x");
        assert_eq!(substitute("${nope}", &vars, &mut unresolved), "");
        assert_eq!(unresolved, ["nope"]);
    }
}

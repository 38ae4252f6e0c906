//! Consistency after load: a service can answer every request of a load run with the right
//! status and still lose what it was given (a queue that overflows, a cache that is never
//! written through, a store that stops after N rows). Status codes cannot show that; reading
//! the data back can.
//!
//! Around the constraints' load runs (`constraints::verify` runs them last, after the probes and
//! the restart, so nothing else happens between the load and this check):
//!
//! - before the load, the approved scenarios' executable examples run once (the baseline);
//! - during the load, `sdd-load` keeps a sample of what the writes created (the field an
//!   example captures from the same write, e.g. `id`), per run;
//! - after the load, every sampled resource is read back through the read route an example
//!   gives (a write to the same path, then a `GET` by the captured value), as the user who
//!   created it; and the examples run again: one that passed before and fails now is a change
//!   the load caused.
//!
//! A sample that is gone or changed, and an example that stopped passing, is a finding naming
//! the request. What cannot be checked (no read route, answers without the field, rate-limited
//! reads) is said, never passed over; when no load ran there is nothing to check and the check
//! says so. Deciding is pure (`read_routes`, `judge_read`, `regressions`, `conclude`); only
//! `before_load` and `after_load` send requests.

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use sdd_http::HttpRequest;
use sdd_load::{CreatedSample, SampleSpec};
use sdd_spec::document::ExampleStep;
use sdd_spec::model::Spec;
use sdd_spec::project::LoadConfig;
use sdd_spec::verdict::{Overall, Verdict};

use crate::constraints::{ConstraintVerdict, ServiceUnderTest, VerificationSummary};
use crate::examples::{
    self, check_examples, example_name, lookup, percent_encode, CheckReport, CheckVerdict,
    ServiceClient,
};
use crate::probes::Finding;

/// The check's name in `sdd verify`'s steps and report.
pub const NAME: &str = "consistency after load";
/// Its subject in the history's constraint runs.
pub const SUBJECT: &str = "consistency.after_load";
/// Samples kept per load run.
const SAMPLES_PER_RUN: usize = 50;
const READ_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest a rate-limited read waits for its `Retry-After` before it is left unchecked.
const MAX_RETRY_WAIT: Duration = Duration::from_secs(2);
/// Characters of a body shown in a finding.
const SHOWN: usize = 200;
/// Lost resources listed as findings; the rest are counted.
const LISTED: usize = 10;

/// Whether what the load runs wrote is still there, and the examples still pass, after them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ConsistencyCheck {
    /// `passing`, `failing` (see `findings`), or `unchecked` when a part could not be checked
    /// (see `unchecked`); absent when no load ran, so there was nothing to check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verdict: Option<Verdict>,
    /// One line: `50 sampled resources read back, 6 examples re-run: nothing lost or changed`.
    pub summary: String,
    /// Resources the load runs' writes created that were sampled and read back (at most 50
    /// per run; those without a read route, or rate-limited, are in `unchecked`).
    pub resources_sampled: usize,
    /// Sampled resources read back intact.
    pub resources_intact: usize,
    /// Examples that passed before the load and were run again after it.
    pub examples_rerun: usize,
    /// Resources gone or changed (the first ten; `resources_intact` counts them all) and
    /// examples that stopped passing: each names its request.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// What could not be checked, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unchecked: Vec<String>,
}

impl ConsistencyCheck {
    /// No load ran: nothing was written under load, so there is nothing to check.
    pub fn no_load() -> ConsistencyCheck {
        ConsistencyCheck {
            verdict: None,
            summary: "no load ran, so nothing was written under load to check".into(),
            resources_sampled: 0,
            resources_intact: 0,
            examples_rerun: 0,
            findings: Vec::new(),
            unchecked: Vec::new(),
        }
    }

    /// (failed, not verified) as the overall verdict counts them: 1 and 0 when failing, 0 and
    /// 1 when unchecked or inconclusive, nothing when passing or when no load ran.
    pub fn counts(&self) -> (usize, usize) {
        match self.verdict {
            Some(Verdict::Failing) => (1, 0),
            Some(Verdict::Unchecked | Verdict::Inconclusive) => (0, 1),
            Some(Verdict::Passing) | None => (0, 0),
        }
    }
}

/// Where constraint verification stands with the consistency check: failed when a constraint
/// or the check failed; verified only when every constraint passed and the check passed (or
/// had nothing to check).
pub fn overall(summary: &VerificationSummary, check: &ConsistencyCheck) -> Overall {
    let (failed, not_verified) = check.counts();
    Overall::of(
        summary.failing + failed,
        summary.inconclusive + summary.unchecked + not_verified,
    )
}

/// How a resource a write created can be read back, from an approved scenario's example: a
/// write to `write_path` that captures `capture` from the answer's `field`, and a later `GET`
/// whose path uses `${capture}` and nothing else captured.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadRoute {
    pub scenario_id: String,
    /// The example's name (`create and read back`, `example 2`).
    pub example: String,
    pub write_method: String,
    pub write_path: String,
    /// The JSON path captured from the write's answer (`id`).
    pub field: String,
    pub capture: String,
    /// The read step as written (`GET /tasks/${id}`).
    pub read: ExampleStep,
}

impl ReadRoute {
    /// `GET /tasks/${id}` with the value substituted (percent-encoded).
    fn read_path(&self, value: &str) -> String {
        let path = self
            .read
            .request
            .path
            .replace(&format!("${{{}}}", self.capture), &percent_encode(value));
        examples::expand_env(&path)
    }

    /// Whether this route reads back what `endpoint` (`POST /tasks`, a load endpoint) writes.
    fn serves(&self, endpoint: &str) -> bool {
        let Some((method, path)) = endpoint.split_once(' ') else {
            return false;
        };
        method.eq_ignore_ascii_case(&self.write_method) && same_route(path, &self.write_path)
    }
}

/// The read routes of the approved scenarios' examples, in spec order.
pub fn read_routes(spec: &Spec) -> Vec<ReadRoute> {
    let mut routes = Vec::new();
    // Approved and keeping its ID: a duplicate's examples would be told under the
    // first's ID.
    for scenario in spec.approved_scenarios() {
        for (n, example) in scenario.examples.iter().enumerate() {
            for (i, write) in example.steps.iter().enumerate() {
                let method = write.request.method.to_ascii_uppercase();
                if matches!(method.as_str(), "GET" | "HEAD" | "DELETE") {
                    continue;
                }
                for (capture, field) in &write.capture {
                    let placeholder = format!("${{{capture}}}");
                    let read = example.steps[i + 1..].iter().find(|s| {
                        s.request.method.eq_ignore_ascii_case("GET")
                            && s.request.path.contains(&placeholder)
                    });
                    let Some(read) = read else {
                        continue;
                    };
                    // Only the captured value can be filled in: a read that needs anything
                    // else the example captured cannot be sent for a resource the load made.
                    let needs_more = |text: &str| {
                        text.replace(&placeholder, "")
                            .split("${")
                            .skip(1)
                            .any(|rest| !rest.starts_with("env:"))
                    };
                    if needs_more(&read.request.path)
                        || read.request.headers.values().any(|v| needs_more(v))
                    {
                        continue;
                    }
                    routes.push(ReadRoute {
                        scenario_id: scenario.id.clone(),
                        example: example_name(example, n + 1),
                        write_method: method.clone(),
                        write_path: write.request.path.clone(),
                        field: field.clone(),
                        capture: capture.clone(),
                        read: read.clone(),
                    });
                }
            }
        }
    }
    routes
}

/// What the load runs keep of their writes: the field the first read route for one of
/// `load`'s writes captures (`id` when none does), 50 per run.
pub fn sample_spec(spec: &Spec, load: &LoadConfig) -> SampleSpec {
    let routes = read_routes(spec);
    let field = load
        .endpoints
        .values()
        .flatten()
        .find_map(|e| {
            let endpoint = format!("{} {}", e.method.to_ascii_uppercase(), e.path);
            routes.iter().find(|r| r.serves(&endpoint))
        })
        .map_or_else(|| "id".to_string(), |r| load_field(&r.field));
    SampleSpec {
        field,
        cap: SAMPLES_PER_RUN,
    }
}

/// An example's JSON path (`$.data.items[0].id`) in the load generator's dotted form
/// (`data.items.0.id`).
fn load_field(path: &str) -> String {
    let path = path.trim();
    let path = path.strip_prefix('$').unwrap_or(path);
    let path = path.strip_prefix('.').unwrap_or(path);
    path.replace('[', ".").replace(']', "")
}

/// Two request paths name the same route: equal without their queries, a segment holding a
/// placeholder (`${unique}`, `{{seq}}`) matching any segment.
fn same_route(a: &str, b: &str) -> bool {
    let strip = |p: &str| {
        p.split('?')
            .next()
            .unwrap_or("")
            .trim_end_matches('/')
            .to_string()
    };
    let (a, b) = (strip(a), strip(b));
    let (a, b): (Vec<&str>, Vec<&str>) = (a.split('/').collect(), b.split('/').collect());
    let placeholder = |s: &str| s.contains("${") || s.contains("{{");
    a.len() == b.len()
        && a.iter()
            .zip(&b)
            .all(|(x, y)| x == y || placeholder(x) || placeholder(y))
}

/// What reading one sampled resource back showed.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadBack {
    Intact,
    /// Gone or changed: why, in a line.
    Lost(String),
    /// The answer cannot tell (rate limited): why.
    Unchecked(String),
}

/// Judge the answer (`status`, `body`) to reading back the resource whose `field` was
/// `value`: it must have the read step's expected status (any 2xx when it names none), and
/// where it carries the field, the same value.
pub fn judge_read(route: &ReadRoute, value: &str, status: u16, body: &[u8]) -> ReadBack {
    let shown = || shorten(&String::from_utf8_lossy(body));
    if status == 429 {
        return ReadBack::Unchecked("rate limited".into());
    }
    if status == 404 || status == 410 {
        return ReadBack::Lost(format!(
            "answered {status}: the resource the write created ({} {value}) is gone",
            route.field
        ));
    }
    let expected = route.read.expect.status;
    let ok = match expected {
        Some(wanted) => status == wanted,
        None => (200..300).contains(&status),
    };
    if !ok {
        return ReadBack::Lost(format!(
            "answered {status} {}, expected {}",
            shown(),
            expected.map_or("a 2xx".to_string(), |s| s.to_string())
        ));
    }
    let json: Option<Value> = serde_json::from_slice(body).ok();
    match json.as_ref().and_then(|j| lookup(j, &route.field)) {
        Some(actual) if !same_value(actual, value) => ReadBack::Lost(format!(
            "`{}` is {actual}, not {value}: the resource changed",
            route.field
        )),
        _ => ReadBack::Intact,
    }
}

/// `1 example`, `2 examples`.
fn counted(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

fn same_value(actual: &Value, value: &str) -> bool {
    match actual {
        Value::String(s) => s == value,
        other => serde_json::to_string(other).is_ok_and(|text| text == value),
    }
}

fn shorten(text: &str) -> String {
    let text = text.trim();
    if text.chars().count() <= SHOWN {
        return text.to_string();
    }
    format!("{}…", text.chars().take(SHOWN).collect::<String>())
}

/// What re-running the examples after the load showed, against the run before it.
#[derive(Debug, Clone, Default)]
pub struct Rerun {
    /// Examples that passed before the load and were compared.
    pub compared: usize,
    pub findings: Vec<Finding>,
    pub unchecked: Vec<String>,
}

/// The examples that passed in `before` and fail in `after`, each a finding naming the
/// failing request and the mismatch. An example rate-limited on either side is not compared
/// (it is said); one that failed before is not this check's to judge.
pub fn regressions(before: &CheckReport, after: &CheckReport) -> Rerun {
    let mut rerun = Rerun::default();
    let mut limited = Vec::new();
    for scenario in &before.scenarios {
        let again = after
            .scenarios
            .iter()
            .find(|s| s.scenario_id == scenario.scenario_id);
        for (n, example) in scenario.examples.iter().enumerate() {
            let named = || format!("`{}` of `{}`", example.name, scenario.scenario_id);
            let rate_limited =
                |e: &examples::ExampleResult| e.steps.iter().any(|s| s.status == Some(429));
            if example.verdict != CheckVerdict::Passing {
                if rate_limited(example) {
                    limited.push(named());
                }
                continue;
            }
            let Some(now) = again.and_then(|s| s.examples.get(n)) else {
                rerun
                    .unchecked
                    .push(format!("{} was not run again", named()));
                continue;
            };
            if now.verdict == CheckVerdict::Passing {
                rerun.compared += 1;
                continue;
            }
            if rate_limited(now) {
                limited.push(named());
                continue;
            }
            rerun.compared += 1;
            let line =
                examples::first_failure_line(&now.steps).unwrap_or_else(|| "a step failed".into());
            let (request, problem) = line
                .split_once(": ")
                .map_or((line.as_str(), "failed"), |(r, p)| (r, p));
            rerun.findings.push(Finding {
                request: format!("{request} ({})", named()),
                problem: format!("passed before the load, fails after it: {problem}"),
            });
        }
    }
    if !limited.is_empty() {
        rerun.unchecked.push(format!(
            "{} example(s) were rate limited and not compared: {}",
            limited.len(),
            limited.join(", ")
        ));
    }
    rerun
}

/// What reading the samples back showed.
#[derive(Debug, Clone, Default)]
pub struct Readings {
    /// Writes the load runs had answered 2xx (what was sampled from).
    pub writes: u64,
    pub sampled: usize,
    pub intact: usize,
    /// The first resources found gone or changed (`sampled - intact` of them in all).
    pub findings: Vec<Finding>,
    pub unchecked: Vec<String>,
}

/// The check's verdict and line from its two parts. Any finding fails it; anything left
/// unchecked (or nothing checked at all) makes it `unchecked`, never a silent pass.
pub fn conclude(readings: Readings, rerun: Rerun) -> ConsistencyCheck {
    let lost = readings.sampled - readings.intact.min(readings.sampled);
    let regressed = rerun.findings.len();
    let mut findings = readings.findings;
    findings.extend(rerun.findings);
    let mut unchecked = readings.unchecked;
    unchecked.extend(rerun.unchecked);
    let checked = readings.sampled > 0 || rerun.compared > 0;
    let verdict = if lost > 0 || !findings.is_empty() {
        Verdict::Failing
    } else if !unchecked.is_empty() || !checked {
        Verdict::Unchecked
    } else {
        Verdict::Passing
    };
    let resources = if lost > 0 {
        format!(
            "{lost} of {} gone or changed",
            counted(readings.sampled, "sampled resource")
        )
    } else if readings.writes == 0 && readings.sampled == 0 {
        "the load wrote nothing to read back".to_string()
    } else {
        format!(
            "{} read back",
            counted(readings.sampled, "sampled resource")
        )
    };
    let examples = if regressed > 0 {
        format!(
            "{regressed} of {} that passed before the load fail after it",
            counted(rerun.compared, "example")
        )
    } else {
        format!("{} re-run", counted(rerun.compared, "example"))
    };
    let mut summary = format!("{resources}, {examples}");
    match (verdict, findings.first()) {
        (Verdict::Failing, Some(first)) => {
            summary.push_str(&format!("; first: {} — {}", first.request, first.problem));
        }
        (Verdict::Passing, _) => summary.push_str(": nothing lost or changed"),
        _ if !checked => {
            summary = format!("nothing checked ({summary}): the load wrote nothing that can be read back, and no example passed before it")
        }
        _ => {}
    }
    if !unchecked.is_empty() {
        summary.push_str(&format!("; not checked: {}", unchecked.join("; ")));
    }
    ConsistencyCheck {
        verdict: Some(verdict),
        summary,
        resources_sampled: readings.sampled,
        resources_intact: readings.intact,
        examples_rerun: rerun.compared,
        findings,
        unchecked,
    }
}

/// How the consistency check runs the examples, before and after the load: as its own user
/// when SDD signs tokens (`auth.jwt`), so that an allowance the probes spent on SDD's user does
/// not read as a change; otherwise with `service.headers`.
fn examples_headers(target: &ServiceUnderTest<'_>) -> BTreeMap<String, String> {
    let mut headers: BTreeMap<String, String> = target.headers.iter().cloned().collect();
    if let Some(credentials) = &target.credentials {
        headers.retain(|name, _| !name.eq_ignore_ascii_case("authorization"));
        headers.insert("Authorization".into(), credentials.consistency_user.clone());
    }
    headers
}

/// Run the approved scenarios' examples before the load: the baseline `after_load` compares.
pub async fn before_load(spec: &Spec, target: &ServiceUnderTest<'_>) -> CheckReport {
    let headers = examples_headers(target);
    let client = ServiceClient {
        base_url: target.base_url,
        headers: &headers,
        allowed_hosts: target.allowed_hosts,
    };
    check_examples(spec, &[], &client).await
}

/// After the load runs of `verdicts`: read back what their writes created and run the
/// examples again against `baseline` (`None` when no load ran).
pub async fn after_load(
    spec: &Spec,
    target: &ServiceUnderTest<'_>,
    baseline: Option<&CheckReport>,
    verdicts: &[ConstraintVerdict],
) -> ConsistencyCheck {
    let Some(baseline) = baseline.filter(|_| verdicts.iter().any(|v| v.measured.is_some())) else {
        return ConsistencyCheck::no_load();
    };
    let readings = read_back(spec, target, verdicts).await;
    let headers = examples_headers(target);
    let client = ServiceClient {
        base_url: target.base_url,
        headers: &headers,
        allowed_hosts: target.allowed_hosts,
    };
    let after = check_examples(spec, &[], &client).await;
    conclude(readings, regressions(baseline, &after))
}

/// Read back every sampled resource of the runs in `verdicts`.
async fn read_back(
    spec: &Spec,
    target: &ServiceUnderTest<'_>,
    verdicts: &[ConstraintVerdict],
) -> Readings {
    let routes = read_routes(spec);
    let mut readings = Readings::default();
    let mut no_route: BTreeMap<String, usize> = BTreeMap::new();
    let mut limited = 0;
    for v in verdicts {
        let Some(created) = v.measured.as_ref().and_then(|m| m.created.as_ref()) else {
            continue;
        };
        readings.writes += created.writes;
        if created.without_field > 0 {
            readings.unchecked.push(format!(
                "{} sampled write answer(s) of the `{}` run had no `{}` to read back by",
                created.without_field, v.constraint_id, created.field
            ));
        }
        for sample in &created.samples {
            let route = routes
                .iter()
                .find(|r| r.serves(&sample.endpoint) && load_field(&r.field) == created.field);
            let Some(route) = route else {
                *no_route.entry(sample.endpoint.clone()).or_default() += 1;
                continue;
            };
            readings.sampled += 1;
            let path = route.read_path(&sample.value);
            let origin = format!(
                "{} (created by {}, request {} of the `{}` run; read as in `{}` of `{}`)",
                path,
                sample.endpoint,
                sample.seq,
                v.constraint_id,
                route.example,
                route.scenario_id
            );
            match read_one(target, route, sample, &path).await {
                ReadBack::Intact => readings.intact += 1,
                ReadBack::Lost(_) if readings.findings.len() >= LISTED => {}
                ReadBack::Lost(problem) => readings.findings.push(Finding {
                    request: format!("GET {origin}"),
                    problem,
                }),
                ReadBack::Unchecked(_) => {
                    readings.sampled -= 1;
                    limited += 1;
                }
            }
        }
    }
    for (endpoint, n) in no_route {
        readings.unchecked.push(format!(
            "{n} resource(s) created by {endpoint}: no approved example writes there and reads back by a captured value (e.g. {endpoint} then GET …/${{id}}); add one to check them"
        ));
    }
    if limited > 0 {
        readings.unchecked.push(format!(
            "{limited} sampled resource(s) not read back: the service rate-limited the reads"
        ));
    }
    if readings.writes > 0 && readings.sampled == 0 && readings.unchecked.is_empty() {
        readings
            .unchecked
            .push("the load's writes were answered, but none was sampled".into());
    }
    readings
}

/// Send one read-back, as the user that created the resource; a 429 waits once for its
/// `Retry-After` (a second without one; at most two seconds).
async fn read_one(
    target: &ServiceUnderTest<'_>,
    route: &ReadRoute,
    sample: &CreatedSample,
    path: &str,
) -> ReadBack {
    let mut headers: Vec<(String, String)> = target.headers.to_vec();
    let identity = sample.user.and_then(|u| target.identities.get(u));
    for (name, value) in identity
        .into_iter()
        .flatten()
        .map(|(n, v)| (n, v))
        .chain(&route.read.request.headers)
    {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers.push((name.clone(), examples::expand_env(value)));
    }
    let request = HttpRequest {
        method: "GET".into(),
        url: format!("{}{}", target.base_url.trim_end_matches('/'), path),
        headers,
        body: None,
        timeout: READ_TIMEOUT,
    };
    for attempt in 0..2 {
        let response = match sdd_http::send(&request, target.allowed_hosts).await {
            Ok(response) => response,
            Err(e) => return ReadBack::Lost(format!("no answer: {e}")),
        };
        if response.status == 429 && attempt == 0 {
            let wait = response
                .header("retry-after")
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map_or(Duration::from_secs(1), Duration::from_secs_f64);
            if wait <= MAX_RETRY_WAIT {
                tokio::time::sleep(wait).await;
                continue;
            }
        }
        return judge_read(route, &sample.value, response.status, &response.body);
    }
    ReadBack::Unchecked("rate limited".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::examples::{ExampleResult, Mismatch, ScenarioCheck, StepResult};
    use sdd_spec::document::ReviewStatus;

    const SPEC: &str = r#"
feature: Tasks
domain: tasks
scenarios:
  - name: Create and read
    status: approved
    reviewed_by: Ada
    examples:
      - name: create and read back
        steps:
          - request: {method: POST, path: /tasks, json: {title: "t ${unique}"}}
            expect: {status: 201}
            capture: {task: "$.data.id", title: title}
          - request: {path: "/tasks/${task}?full=1", headers: {X-Env: "${env:HOME}"}}
            expect: {status: 200}
  - name: Needs two captures
    status: approved
    reviewed_by: Ada
    examples:
      - steps:
          - request: {method: POST, path: /lists}
            capture: {list: id}
          - request: {method: PUT, path: "/lists/${list}/items"}
            capture: {item: id}
          - request: {path: "/lists/${list}/items/${item}"}
  - name: Proposed
    status: proposed
    rationale: r
    examples:
      - steps:
          - request: {method: POST, path: /notes}
            capture: {id: id}
          - request: {path: "/notes/${id}"}
"#;

    fn spec() -> Spec {
        let loaded = sdd_spec::load_sources(&[("t.yaml".into(), SPEC.into())]);
        // The fingerprint is not recorded here: approve the scenarios as written.
        let mut spec = loaded.spec;
        for s in &mut spec.scenarios {
            if s.reviewed_by.is_some() {
                std::sync::Arc::make_mut(s).status = ReviewStatus::Approved;
            }
        }
        spec
    }

    #[test]
    fn read_routes_come_from_approved_examples_that_write_then_get_by_the_capture() {
        let routes = read_routes(&spec());
        let found: Vec<(&str, &str, &str, &str)> = routes
            .iter()
            .map(|r| {
                (
                    r.write_method.as_str(),
                    r.write_path.as_str(),
                    r.field.as_str(),
                    r.read.request.path.as_str(),
                )
            })
            .collect();
        // `title` is captured but never read by; the item's read also needs `${list}`; the
        // proposal is not approved behaviour.
        assert_eq!(
            found,
            [("POST", "/tasks", "$.data.id", "/tasks/${task}?full=1")]
        );
        let route = &routes[0];
        assert_eq!(route.example, "create and read back");
        assert_eq!(route.read_path("a/b 1"), "/tasks/a%2Fb%201?full=1");
        assert!(route.serves("POST /tasks"));
        assert!(route.serves("post /tasks/?x={{seq}}"));
        assert!(!route.serves("PUT /tasks"));
        assert!(!route.serves("POST /tasks/7/complete"));
    }

    #[test]
    fn the_sampled_field_is_the_one_the_read_route_captures() {
        let spec = spec();
        let mut load = LoadConfig::default();
        let endpoint = |method: &str, path: &str| sdd_spec::project::LoadEndpoint {
            method: method.into(),
            path: path.into(),
            headers: Default::default(),
            body: None,
            weight: 1,
        };
        load.endpoints
            .insert("reads".into(), vec![endpoint("GET", "/tasks")]);
        assert_eq!(sample_spec(&spec, &load).field, "id");
        load.endpoints
            .insert("writes".into(), vec![endpoint("POST", "/tasks")]);
        let s = sample_spec(&spec, &load);
        assert_eq!((s.field.as_str(), s.cap), ("data.id", 50));
        assert_eq!(load_field("items[0].id"), "items.0.id");
    }

    fn route() -> ReadRoute {
        read_routes(&spec()).remove(0)
    }

    #[test]
    fn a_read_back_is_lost_when_gone_refused_or_changed() {
        let r = route();
        let judge = |status, body: &str| judge_read(&r, "7", status, body.as_bytes());
        assert_eq!(judge(200, r#"{"data": {"id": 7}}"#), ReadBack::Intact);
        assert_eq!(judge(200, r#"{"data": {"id": "7"}}"#), ReadBack::Intact);
        // A body without the field, or not JSON, only has to have the status.
        assert_eq!(judge(200, "ok"), ReadBack::Intact);
        assert_eq!(
            judge(404, r#"{"error": "not found"}"#),
            ReadBack::Lost(
                "answered 404: the resource the write created ($.data.id 7) is gone".into()
            )
        );
        assert_eq!(
            judge(500, "boom"),
            ReadBack::Lost("answered 500 boom, expected 200".into())
        );
        assert_eq!(
            judge(200, r#"{"data": {"id": 8}}"#),
            ReadBack::Lost("`$.data.id` is 8, not 7: the resource changed".into())
        );
        assert!(matches!(judge(429, ""), ReadBack::Unchecked(_)));
        // Without an expected status, any 2xx will do.
        let mut any = r.clone();
        any.read.expect.status = None;
        assert_eq!(judge_read(&any, "7", 204, b""), ReadBack::Intact);
        assert!(matches!(judge_read(&any, "7", 302, b""), ReadBack::Lost(_)));
    }

    fn step(request: &str, status: u16, ok: bool) -> StepResult {
        StepResult {
            request: request.into(),
            status: Some(status),
            ok,
            mismatches: if ok {
                Vec::new()
            } else {
                vec![Mismatch {
                    at: "status".into(),
                    expected: "200".into(),
                    actual: status.to_string(),
                }]
            },
            error: None,
            elapsed_ms: 1.0,
        }
    }

    fn report(examples: Vec<(&str, Vec<StepResult>)>) -> CheckReport {
        let examples: Vec<ExampleResult> = examples
            .into_iter()
            .map(|(name, steps)| ExampleResult {
                name: name.into(),
                verdict: if steps.iter().all(|s| s.ok) {
                    CheckVerdict::Passing
                } else {
                    CheckVerdict::Failing
                },
                steps,
                steps_not_run: 0,
            })
            .collect();
        CheckReport {
            base_url: "http://127.0.0.1:1".into(),
            summary: Default::default(),
            scenarios: vec![ScenarioCheck {
                scenario_id: "t.s".into(),
                name: "S".into(),
                verdict: CheckVerdict::Passing,
                examples,
            }],
            skipped_ids: Vec::new(),
        }
    }

    #[test]
    fn only_examples_that_passed_before_and_fail_after_are_findings() {
        let before = report(vec![
            ("kept", vec![step("GET /a", 200, true)]),
            (
                "lost",
                vec![step("POST /t", 201, true), step("GET /t/1", 200, true)],
            ),
            ("broken before", vec![step("GET /b", 500, false)]),
            ("limited after", vec![step("GET /c", 200, true)]),
        ]);
        let after = report(vec![
            ("kept", vec![step("GET /a", 200, true)]),
            (
                "lost",
                vec![step("POST /t", 201, true), step("GET /t/2", 404, false)],
            ),
            ("broken before", vec![step("GET /b", 500, false)]),
            ("limited after", vec![step("GET /c", 429, false)]),
        ]);
        let rerun = regressions(&before, &after);
        assert_eq!(rerun.compared, 2);
        assert_eq!(rerun.findings.len(), 1);
        assert_eq!(rerun.findings[0].request, "GET /t/2 (`lost` of `t.s`)");
        assert_eq!(
            rerun.findings[0].problem,
            "passed before the load, fails after it: status expected 200, got 404"
        );
        assert_eq!(
            rerun.unchecked,
            ["1 example(s) were rate limited and not compared: `limited after` of `t.s`"]
        );
        // The same run twice: nothing changed.
        assert!(regressions(&before, &before).findings.is_empty());
    }

    #[test]
    fn the_verdict_fails_on_any_finding_and_never_passes_what_was_not_checked() {
        let finding = Finding {
            request: "GET /tasks/9".into(),
            problem: "answered 404".into(),
        };
        let read = |sampled, intact, findings: Vec<Finding>, unchecked: Vec<&str>| Readings {
            writes: 400,
            sampled,
            intact,
            findings,
            unchecked: unchecked.into_iter().map(String::from).collect(),
        };
        let rerun = |compared| Rerun {
            compared,
            ..Rerun::default()
        };
        let all_back = conclude(read(50, 50, vec![], vec![]), rerun(6));
        assert_eq!(all_back.verdict, Some(Verdict::Passing));
        assert_eq!(
            all_back.summary,
            "50 sampled resources read back, 6 examples re-run: nothing lost or changed"
        );
        assert_eq!(all_back.counts(), (0, 0));

        let lost = conclude(read(50, 49, vec![finding], vec![]), rerun(6));
        assert_eq!(lost.verdict, Some(Verdict::Failing));
        assert_eq!(
            lost.summary,
            "1 of 50 sampled resources gone or changed, 6 examples re-run; first: GET /tasks/9 — answered 404"
        );
        // Lost resources beyond the listed ones still count.
        let unlisted = conclude(read(50, 20, vec![], vec![]), rerun(6));
        assert_eq!(unlisted.verdict, Some(Verdict::Failing));
        assert!(unlisted
            .summary
            .starts_with("30 of 50 sampled resources gone or changed"));
        let regressed = conclude(
            read(50, 50, vec![], vec![]),
            Rerun {
                compared: 6,
                findings: vec![Finding {
                    request: "GET /t/2 (`e` of `t.s`)".into(),
                    problem: "passed before the load, fails after it: status".into(),
                }],
                unchecked: Vec::new(),
            },
        );
        assert_eq!(
            regressed.summary,
            "50 sampled resources read back, 1 of 6 examples that passed before the load fail after it; first: GET /t/2 (`e` of `t.s`) — passed before the load, fails after it: status"
        );
        // A load that only read: nothing to read back, the examples still tell.
        let reads_only = conclude(Readings::default(), rerun(1));
        assert_eq!(reads_only.verdict, Some(Verdict::Passing));
        assert_eq!(
            reads_only.summary,
            "the load wrote nothing to read back, 1 example re-run: nothing lost or changed"
        );
        assert_eq!(lost.counts(), (1, 0));

        let no_route = conclude(
            read(
                0,
                0,
                vec![],
                vec!["3 resource(s) created by POST /x: no route"],
            ),
            rerun(6),
        );
        assert_eq!(no_route.verdict, Some(Verdict::Unchecked));
        assert!(no_route
            .summary
            .ends_with("; not checked: 3 resource(s) created by POST /x: no route"));
        assert_eq!(no_route.counts(), (0, 1));

        let nothing = conclude(Readings::default(), Rerun::default());
        assert_eq!(nothing.verdict, Some(Verdict::Unchecked));
        assert!(
            nothing.summary.starts_with("nothing checked"),
            "{}",
            nothing.summary
        );

        let none = ConsistencyCheck::no_load();
        assert_eq!((none.verdict, none.counts()), (None, (0, 0)));

        let summary = VerificationSummary {
            passing: 3,
            ..Default::default()
        };
        assert_eq!(overall(&summary, &all_back), Overall::Verified);
        assert_eq!(overall(&summary, &none), Overall::Verified);
        assert_eq!(overall(&summary, &lost), Overall::Failed);
        assert_eq!(overall(&summary, &no_route), Overall::NoFailures);
    }
}

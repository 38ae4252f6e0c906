//! The ownership probe ("users can only access their own tasks"): one user creates objects
//! through the spec's examples; a second user then sends the examples' later requests on those
//! objects (reads, changes, deletes) and the service's list requests. The second user must be
//! refused (403 or 404; another 4xx counts as refused too) and must not find the first user's
//! objects in any list. The owner then runs the rest of each example, which shows the objects
//! are reachable and intact — otherwise the refusals showed nothing.

use std::collections::BTreeMap;

use serde_json::Value;

use sdd_http::{self as http, HttpRequest};
use sdd_spec::document::{ExampleStep, ReviewStatus};
use sdd_spec::model::Spec;
use sdd_spec::project::LoadConfig;
use sdd_spec::routes::Route;

use crate::examples::{
    concrete_request, example_name, fresh_vars, lookup, run_steps, ServiceClient,
};
use crate::probes::ProbeOutcome;

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

pub struct OwnershipOutcome {
    /// Objects the owner created.
    pub created: usize,
    pub probe: ProbeOutcome,
}

/// Whether a step uses a captured value in its path.
fn uses_capture(step: &ExampleStep, captured: &BTreeMap<String, String>) -> bool {
    captured
        .keys()
        .any(|name| step.request.path.contains(&format!("${{{name}}}")))
}

/// Health and metrics routes list nothing a user owns.
fn infrastructure(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    ["health", "metrics", "ready", "live"]
        .iter()
        .any(|w| lower.contains(w))
}

/// Run the probe: `owner` creates, `intruder` (headers of the second user) tries.
pub async fn probe(
    spec: &Spec,
    load: &LoadConfig,
    owner: &ServiceClient<'_>,
    intruder: &BTreeMap<String, String>,
) -> OwnershipOutcome {
    let mut outcome = ProbeOutcome::default();
    let mut created = 0;
    // (capture path, value) of every object the owner created, to look for in lists.
    let mut owned: Vec<(String, String, String)> = Vec::new();
    for scenario in spec
        .scenarios
        .iter()
        .filter(|s| s.status == ReviewStatus::Approved)
    {
        for (n, example) in scenario.examples.iter().enumerate() {
            // The first write that captures something creates the object.
            let Some(create_at) = example.steps.iter().position(|s| {
                let method = s.request.method.to_ascii_uppercase();
                method != "GET" && method != "HEAD" && !s.capture.is_empty()
            }) else {
                continue;
            };
            let mut vars = fresh_vars();
            let written = run_steps(&example.steps[..=create_at], &mut vars, owner).await;
            if let Some(bad) = written.iter().find(|s| !s.ok) {
                if let Some(status) = bad.status {
                    outcome_refusal(&mut outcome, &bad.request, status);
                }
                continue;
            }
            created += 1;
            let captured: BTreeMap<String, String> = example.steps[create_at]
                .capture
                .keys()
                .filter_map(|name| vars.get(name).map(|v| (name.clone(), v.clone())))
                .collect();
            for (name, path) in &example.steps[create_at].capture {
                if let Some(value) = vars.get(name) {
                    owned.push((path.clone(), value.clone(), scenario.id.clone()));
                }
            }
            let later = &example.steps[create_at + 1..];
            let mut tried = Vec::new();
            for step in later.iter().filter(|s| uses_capture(s, &captured)) {
                let request = concrete_request(step, &vars, intruder);
                if !request.unresolved.is_empty() {
                    continue;
                }
                let route = Route::new(&step.request.method, &step.request.path);
                let label = format!(
                    "{} {} as another user ({} of `{}`)",
                    request.method,
                    request.path,
                    example_name(example, n + 1),
                    scenario.id
                );
                let sent = HttpRequest {
                    method: request.method.clone(),
                    url: format!("{}{}", owner.base_url.trim_end_matches('/'), request.path),
                    headers: request.headers,
                    body: request.body,
                    timeout: TIMEOUT,
                };
                match http::send(&sent, owner.allowed_hosts).await {
                    Ok(r) if r.status == 401 || r.status == 429 => {
                        outcome_refusal(&mut outcome, &label, r.status);
                    }
                    Ok(r) if (400..500).contains(&r.status) => {
                        tried.push(route);
                    }
                    Ok(r) => {
                        outcome.probed += 1;
                        outcome.routes_probed.insert(route);
                        outcome.findings.push(crate::probes::Finding {
                            request: label,
                            problem: format!(
                                "answered {}: another user's {} was {}",
                                r.status,
                                if r.status < 300 { "object" } else { "request" },
                                if r.status < 300 {
                                    if request.method == "GET" {
                                        "read"
                                    } else {
                                        "changed"
                                    }
                                } else {
                                    "not refused"
                                }
                            ),
                        });
                    }
                    Err(e) => outcome.findings.push(crate::probes::Finding {
                        request: label,
                        problem: format!("no answer: {e}"),
                    }),
                }
            }
            if tried.is_empty() {
                continue;
            }
            // The owner's own requests must still work: otherwise the refusals showed nothing.
            let own = run_steps(later, &mut vars, owner).await;
            match own.iter().find(|s| !s.ok) {
                None => {
                    for route in tried {
                        outcome.probed += 1;
                        outcome.routes_probed.insert(route);
                    }
                }
                Some(bad) => {
                    let why = bad.problem().unwrap_or_default();
                    for route in tried {
                        outcome.unreached.insert(
                            route,
                            format!(
                                "the owner's own `{}` failed too ({why}), so the other user's refusal shows nothing",
                                bad.request
                            ),
                        );
                    }
                }
            }
        }
    }
    if !owned.is_empty() {
        lists(load, spec, owner, intruder, &owned, &mut outcome).await;
    }
    // A route refused for real in one example is reached, whatever another example showed.
    let probed = outcome.routes_probed.clone();
    outcome.unreached.retain(|route, _| !probed.contains(route));
    OwnershipOutcome {
        created,
        probe: outcome,
    }
}

fn outcome_refusal(outcome: &mut ProbeOutcome, label: &str, status: u16) {
    outcome.refused.push(format!("{label} answered {status}"));
}

/// Every list request (a GET with no path parameter: `load.endpoints`, the examples' steps)
/// sent as the other user must not contain an object the owner created.
async fn lists(
    load: &LoadConfig,
    spec: &Spec,
    owner: &ServiceClient<'_>,
    intruder: &BTreeMap<String, String>,
    owned: &[(String, String, String)],
    outcome: &mut ProbeOutcome,
) {
    let mut paths: Vec<String> = load
        .endpoints
        .values()
        .flatten()
        .filter(|e| e.method.eq_ignore_ascii_case("GET") && !e.path.contains('{'))
        .map(|e| e.path.clone())
        .collect();
    for scenario in &spec.scenarios {
        for example in &scenario.examples {
            for step in &example.steps {
                if step.request.method.eq_ignore_ascii_case("GET")
                    && !step.request.path.contains("${")
                {
                    paths.push(step.request.path.clone());
                }
            }
        }
    }
    paths.sort();
    paths.dedup();
    for path in paths.iter().filter(|p| !infrastructure(p)) {
        let label = format!("GET {path} as another user");
        let request = HttpRequest {
            method: "GET".into(),
            url: format!("{}{}", owner.base_url.trim_end_matches('/'), path),
            headers: intruder
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body: None,
            timeout: TIMEOUT,
        };
        match http::send(&request, owner.allowed_hosts).await {
            Ok(r) if r.status == 401 || r.status == 429 => {
                outcome_refusal(outcome, &label, r.status)
            }
            Ok(r) => {
                let Ok(body) = serde_json::from_slice::<Value>(&r.body) else {
                    continue;
                };
                outcome.probed += 1;
                outcome.routes_probed.insert(Route::new("GET", path));
                if let Some((field, value, scenario)) = owned
                    .iter()
                    .find(|(field, value, _)| lists_object(&body, field, value))
                {
                    outcome.findings.push(crate::probes::Finding {
                        request: label,
                        problem: format!(
                            "lists an object another user created (`{field}` = {value}, from `{scenario}`)"
                        ),
                    });
                }
            }
            Err(e) => outcome.findings.push(crate::probes::Finding {
                request: label,
                problem: format!("no answer: {e}"),
            }),
        }
    }
}

/// Whether `body` holds, anywhere below its top, an object whose `field` is `value` (as text).
fn lists_object(body: &Value, field: &str, value: &str) -> bool {
    match body {
        Value::Array(items) => items.iter().any(|item| {
            lookup(item, field).is_some_and(|v| text_of(v) == value)
                || lists_object(item, field, value)
        }),
        Value::Object(map) => map.values().any(|v| lists_object(v, field, value)),
        _ => false,
    }
}

fn text_of(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_find_objects_at_any_depth_by_field() {
        let body: Value = serde_json::json!({"items": [{"id": 7, "title": "a"}, {"id": 8}]});
        assert!(lists_object(&body, "id", "7"));
        assert!(!lists_object(&body, "id", "9"));
        let top: Value = serde_json::json!([{"id": "A-1"}]);
        assert!(lists_object(&top, "id", "A-1"));
        // A single object (not a list) is not a list of someone's objects.
        assert!(!lists_object(&serde_json::json!({"id": 7}), "id", "7"));
    }
}

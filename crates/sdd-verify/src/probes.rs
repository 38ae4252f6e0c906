//! Security probes for security constraints, each finding naming the request that shows it:
//! authentication (no token, a malformed token, a token with a forged signature must be refused
//! on every endpoint but the declared exceptions), rate limits (requests beyond the limit within
//! the window refused), injection (payloads in every string field: no 5xx, no leaked error text,
//! the service still answers afterwards) and size bounds (an oversized value refused with 4xx).
//!
//! The endpoints probed are those `sdd.yaml` lists under `load.endpoints` and the first requests
//! of the spec's executable examples that need no captured value.

use std::collections::BTreeSet;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use sdd_http::AllowedHosts;
use sdd_spec::model::Spec;
use sdd_spec::project::LoadConfig;

use sdd_http::auth::b64url;
use sdd_http::{self as http, HttpRequest, HttpResponse};

const TIMEOUT: Duration = Duration::from_secs(10);

/// A request that shows a constraint is not met.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    /// `GET /items/A-1 without a token`.
    pub request: String,
    /// What came back, and why that is wrong.
    pub problem: String,
}

/// A request the probes can send.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ProbeEndpoint {
    pub method: String,
    pub path: String,
    pub body: Option<String>,
}

impl ProbeEndpoint {
    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// What the security probes send and to where: the service as a client reaches it, the
/// endpoints to probe and the tokens to probe with.
pub struct ProbePlan<'a> {
    pub base_url: &'a str,
    /// The headers of a legitimate client (`service.headers`: its token).
    pub headers: &'a [(String, String)],
    pub allowed_hosts: &'a AllowedHosts,
    pub endpoints: Vec<ProbeEndpoint>,
    /// Tokens SDD signed itself (`auth.jwt`): an expired one and a second user's.
    pub credentials: Option<sdd_http::auth::ProbeCredentials>,
}

/// The endpoints to probe: `load.endpoints` and the examples' first requests, `{{seq}}` and
/// `${unique}` made concrete.
pub fn endpoints(spec: &Spec, load: &LoadConfig) -> Vec<ProbeEndpoint> {
    let mut set = BTreeSet::new();
    for e in load.endpoints.values().flatten() {
        set.insert(ProbeEndpoint {
            method: e.method.to_ascii_uppercase(),
            path: e.path.replace("{{seq}}", "1"),
            body: e.body.as_ref().map(|b| b.replace("{{seq}}", "1")),
        });
    }
    for scenario in &spec.scenarios {
        for example in &scenario.examples {
            let Some(step) = example.steps.first() else {
                continue;
            };
            let r = &step.request;
            let concrete = |t: &str| t.replace("${unique}", "probe");
            let body = r
                .json
                .as_ref()
                .map(|j| concrete(&j.to_string()))
                .or_else(|| r.body.as_deref().map(concrete));
            if concrete(&r.path).contains("${") || body.as_deref().is_some_and(|b| b.contains("${"))
            {
                continue;
            }
            set.insert(ProbeEndpoint {
                method: r.method.to_ascii_uppercase(),
                path: concrete(&r.path),
                body,
            });
        }
    }
    set.into_iter().collect()
}

async fn send(
    target: &ProbePlan<'_>,
    endpoint: &ProbeEndpoint,
    headers: Vec<(String, String)>,
    body: Option<String>,
) -> Result<HttpResponse, String> {
    let mut headers = headers;
    if body.is_some()
        && !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".into(), "application/json".into()));
    }
    let request = HttpRequest {
        method: endpoint.method.clone(),
        url: format!("{}{}", target.base_url.trim_end_matches('/'), endpoint.path),
        headers,
        body: body.map(String::into_bytes),
        timeout: TIMEOUT,
    };
    http::send(&request, target.allowed_hosts)
        .await
        .map_err(|e| e.to_string())
}

fn without_auth(headers: &[(String, String)]) -> Vec<(String, String)> {
    headers
        .iter()
        .filter(|(n, _)| {
            !n.eq_ignore_ascii_case("authorization") && !n.eq_ignore_ascii_case("x-api-key")
        })
        .cloned()
        .collect()
}

/// A well-formed HS256 JWT for an admin user whose signature is made up.
fn forged_jwt() -> String {
    let header = b64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let payload = b64url(br#"{"sub":"sdd-probe","role":"admin","exp":4102444800}"#);
    let signature = b64url(b"not-the-service-signature-0123456789");
    format!("{header}.{payload}.{signature}")
}

/// Whether an endpoint is one of the declared exceptions (`/health`, or `Health check
/// endpoint` matching a path that mentions `health`).
pub fn is_exception(path: &str, exceptions: &[String]) -> bool {
    let path = path.to_ascii_lowercase();
    exceptions.iter().any(|e| {
        let e = e.trim().to_ascii_lowercase();
        if e.starts_with('/') {
            return path == e
                || path.starts_with(&format!("{e}/"))
                || path.starts_with(&format!("{e}?"));
        }
        e.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| {
                w.len() > 3
                    && !["endpoint", "endpoints", "check", "route", "routes", "path"].contains(w)
            })
            .any(|w| path.contains(w))
    })
}

/// Every endpoint but the exceptions must refuse a request with no token, a malformed token,
/// and a token with a forged signature (401 or 403).
pub async fn authentication(
    target: &ProbePlan<'_>,
    exceptions: &[String],
) -> (Vec<Finding>, usize) {
    let mut findings = Vec::new();
    let mut probed = 0;
    let base = without_auth(target.headers);
    let mut variants: Vec<(&str, Option<String>)> = vec![
        ("without a token", None),
        ("with a malformed token", Some("Bearer not-a-token".into())),
        (
            "with a forged-signature JWT",
            Some(format!("Bearer {}", forged_jwt())),
        ),
    ];
    if let Some(credentials) = &target.credentials {
        variants.push((
            "with an expired JWT (valid signature)",
            Some(credentials.expired.clone()),
        ));
    }
    for endpoint in target
        .endpoints
        .iter()
        .filter(|e| !is_exception(&e.path, exceptions))
    {
        probed += 1;
        for (what, auth) in &variants {
            let mut headers = base.clone();
            if let Some(auth) = auth {
                headers.push(("Authorization".into(), auth.clone()));
            }
            let label = format!("{} {what}", endpoint.label());
            match send(target, endpoint, headers, endpoint.body.clone()).await {
                Ok(r) if r.status == 401 || r.status == 403 => {}
                Ok(r) => findings.push(Finding {
                    request: label,
                    problem: format!("answered {} instead of refusing it with 401/403", r.status),
                }),
                Err(e) => findings.push(Finding {
                    request: label,
                    problem: format!("no answer: {e}"),
                }),
            }
        }
    }
    (findings, probed)
}

/// `max_requests` within the window must pass and more must be refused (429 or another 4xx).
/// Returns the findings and a one-line account.
pub async fn rate_limit(
    target: &ProbePlan<'_>,
    max_requests: u64,
    window_seconds: f64,
) -> (Vec<Finding>, String) {
    // Health and metrics routes are usually outside any limit.
    let infrastructure = |path: &str| {
        ["health", "metrics", "ready", "live", "status"]
            .iter()
            .any(|w| path.to_ascii_lowercase().contains(w))
    };
    let Some(endpoint) = target
        .endpoints
        .iter()
        .find(|e| e.method == "GET" && !infrastructure(&e.path))
        .or_else(|| target.endpoints.iter().find(|e| !infrastructure(&e.path)))
    else {
        return (Vec::new(), "no endpoint to probe".into());
    };
    // Let traffic sent before (load runs) fall out of a short window first.
    if window_seconds <= 10.0 {
        tokio::time::sleep(Duration::from_secs_f64(window_seconds)).await;
    }
    let extra = (max_requests / 5).clamp(5, 50);
    let total = max_requests + extra;
    let mut first_refused = None;
    let mut accepted_after_limit = 0u64;
    let mut errors = 0u64;
    let burst_headers = match &target.credentials {
        Some(credentials) => {
            let mut headers = without_auth(target.headers);
            headers.push(("Authorization".into(), credentials.burst_user.clone()));
            headers
        }
        None => target.headers.to_vec(),
    };
    for n in 1..=total {
        match send(
            target,
            endpoint,
            burst_headers.clone(),
            endpoint.body.clone(),
        )
        .await
        {
            Ok(r) if (400..500).contains(&r.status) && r.status != 404 => {
                first_refused.get_or_insert(n);
            }
            Ok(r) if r.status < 400 => {
                if n > max_requests {
                    accepted_after_limit += 1;
                }
            }
            _ => errors += 1,
        }
    }
    let mut findings = Vec::new();
    let account = match first_refused {
        Some(n) if n <= max_requests => {
            findings.push(Finding {
                request: format!("{} request #{n} of {total} in a burst", endpoint.label()),
                problem: format!("refused before the limit of {max_requests} was reached"),
            });
            format!("refused from request #{n}, limit {max_requests}")
        }
        Some(n) if accepted_after_limit == 0 => {
            format!("{max_requests} accepted, then refused from request #{n} of {total}")
        }
        _ => {
            findings.push(Finding {
                request: format!("{} × {total} in a burst with one client's credentials", endpoint.label()),
                problem: format!(
                    "{accepted_after_limit} of the {extra} requests beyond the limit of {max_requests} were accepted"
                ),
            });
            format!("{accepted_after_limit} of {extra} requests beyond the limit accepted")
        }
    };
    // Per user: right after the first client's burst, another user must still get through.
    let mut account = account;
    if let Some(credentials) = &target.credentials {
        let mut headers = without_auth(target.headers);
        headers.push(("Authorization".into(), credentials.second_user.clone()));
        match send(target, endpoint, headers, endpoint.body.clone()).await {
            Ok(r) if r.status < 400 => account.push_str("; a second user was still served"),
            Ok(r) => findings.push(Finding {
                request: format!(
                    "{} as a second user right after the first user's burst",
                    endpoint.label()
                ),
                problem: format!("answered {}: the limit is not counted per user", r.status),
            }),
            Err(e) => findings.push(Finding {
                request: format!("{} as a second user", endpoint.label()),
                problem: format!("no answer: {e}"),
            }),
        }
    }
    if errors > 0 {
        findings.push(Finding {
            request: format!("{} in a burst", endpoint.label()),
            problem: format!("{errors} requests got no answer or a 5xx"),
        });
    }
    (findings, account)
}

/// Payloads that must be taken as data, never as code or paths.
pub const PAYLOADS: &[(&str, &str)] = &[
    ("sql", "' OR '1'='1'; DROP TABLE items; --"),
    ("nosql", "{\"$gt\": \"\"}"),
    ("shell", "; cat /etc/passwd; echo $(id)"),
    ("path", "../../../../etc/passwd"),
    ("script", "<script>alert(1)</script>"),
];

/// Text in a response that gives away internals.
const LEAKS: &[&str] = &[
    "traceback (most recent call last)",
    "stack trace",
    "syntax error",
    "sqlite",
    "psycopg",
    "sqlstate",
    "mysql",
    "ora-0",
    "exception in thread",
    "at java.",
    "panicked at",
    "root:x:0:0",
    "uid=0(",
];

/// Every string field of every JSON body, and every path, gets each payload: the service must
/// not answer 5xx, not leak internals, and must still answer its first endpoint afterwards.
pub async fn injection(target: &ProbePlan<'_>) -> (Vec<Finding>, usize) {
    let mut findings = Vec::new();
    let mut sent = 0;
    for endpoint in &target.endpoints {
        let mut cases: Vec<(String, ProbeEndpoint)> = Vec::new();
        let body: Option<Value> = endpoint
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str(b).ok());
        for (class, payload) in PAYLOADS {
            if let Some(Value::Object(fields)) = &body {
                for (name, value) in fields {
                    if value.is_string() {
                        let mut changed = fields.clone();
                        changed.insert(name.clone(), Value::String((*payload).into()));
                        cases.push((
                            format!("{} with {class} payload in `{name}`", endpoint.label()),
                            ProbeEndpoint {
                                body: Some(Value::Object(changed).to_string()),
                                ..endpoint.clone()
                            },
                        ));
                    }
                }
            }
            if endpoint.method == "GET" {
                let encoded = crate::examples::percent_encode(payload);
                let sep = if endpoint.path.contains('?') {
                    '&'
                } else {
                    '?'
                };
                cases.push((
                    format!("{} with {class} payload in the query", endpoint.label()),
                    ProbeEndpoint {
                        path: format!("{}{sep}q={encoded}", endpoint.path),
                        ..endpoint.clone()
                    },
                ));
            }
        }
        for (label, case) in cases {
            sent += 1;
            match send(target, &case, target.headers.to_vec(), case.body.clone()).await {
                Ok(r) => {
                    if r.status >= 500 {
                        findings.push(Finding {
                            request: label.clone(),
                            problem: format!("answered {} (a payload must be refused or stored, not crash the service)", r.status),
                        });
                    }
                    let text = String::from_utf8_lossy(&r.body).to_lowercase();
                    if let Some(leak) = LEAKS.iter().find(|l| text.contains(*l)) {
                        findings.push(Finding {
                            request: label,
                            problem: format!("the response leaks internals (`{leak}` in the body)"),
                        });
                    }
                }
                Err(e) => findings.push(Finding {
                    request: label,
                    problem: format!("no answer: {e}"),
                }),
            }
        }
    }
    if let Some(first) = target.endpoints.first() {
        match send(target, first, target.headers.to_vec(), first.body.clone()).await {
            Ok(r) if r.status < 500 => {}
            Ok(r) => findings.push(Finding {
                request: format!("{} after the payloads", first.label()),
                problem: format!("answered {}: the service no longer works", r.status),
            }),
            Err(e) => findings.push(Finding {
                request: format!("{} after the payloads", first.label()),
                problem: format!("no answer: the service no longer works ({e})"),
            }),
        }
    }
    (findings, sent)
}

/// Words of a constraint's sentence that never name a field.
const NOT_FIELD_WORDS: &[&str] = &[
    "the",
    "and",
    "are",
    "must",
    "should",
    "shall",
    "most",
    "max",
    "maximum",
    "least",
    "than",
    "less",
    "more",
    "long",
    "length",
    "size",
    "characters",
    "character",
    "chars",
    "bytes",
    "items",
    "with",
    "not",
    "exceed",
    "limit",
    "limited",
    "under",
    "over",
    "only",
    "each",
    "every",
];

/// `titles` → `title`, `entries` → `entry`, `addresses` → `address`: enough English to match a
/// sentence's plural to a field's singular.
fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = word.strip_suffix("sses") {
        format!("{stem}ss")
    } else if word.ends_with('s') && !word.ends_with("ss") && word.len() > 3 {
        word[..word.len() - 1].to_string()
    } else {
        word.to_string()
    }
}

/// The fields among `names` the subject of a size constraint names: `title` for "Titles max
/// 255 characters", "Task titles must be at most 255 characters" or "A task's title …" — by
/// the whole field name when one matches a word (singular, possessive dropped), else by a part
/// of a `snake_case` / `camelCase` name. Nothing when no field is named: the check is then
/// unchecked, never run on a field the sentence did not mean.
pub fn fields_named_by<'a>(subject: &str, names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let words: Vec<String> = subject
        .to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2 && !w.chars().all(|c| c.is_ascii_digit()))
        .filter(|w| !NOT_FIELD_WORDS.contains(w))
        .map(singular)
        .collect();
    let parts = |name: &str| -> Vec<String> {
        let mut parts = Vec::new();
        let mut current = String::new();
        for c in name.chars() {
            if c == '_' || c == '-' || c.is_uppercase() {
                if !current.is_empty() {
                    parts.push(singular(&current));
                }
                current = c.to_lowercase().filter(|c| c.is_alphanumeric()).collect();
            } else {
                current.push(c.to_ascii_lowercase());
            }
        }
        if !current.is_empty() {
            parts.push(singular(&current));
        }
        parts
    };
    let names: Vec<&str> = names.collect();
    let whole: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| words.contains(&singular(&n.to_lowercase())))
        .collect();
    if !whole.is_empty() {
        return whole;
    }
    names
        .into_iter()
        .filter(|n| parts(n).iter().any(|p| words.contains(p)))
        .collect()
}

/// A value over the bound in a field named like the subject (`title` for `Title max 255
/// characters`) must be refused with a 4xx.
pub async fn max_size(
    target: &ProbePlan<'_>,
    max: f64,
    subject: &str,
) -> (Vec<Finding>, Vec<String>) {
    let mut findings = Vec::new();
    let mut probed = Vec::new();
    let oversized = "x".repeat(
        (max as usize)
            .saturating_mul(4)
            .max(max as usize + 1)
            .min(1_000_000),
    );
    for endpoint in &target.endpoints {
        let Some(Value::Object(fields)) = endpoint
            .body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
        else {
            continue;
        };
        let strings = fields
            .iter()
            .filter(|(_, value)| value.is_string())
            .map(|(name, _)| name.as_str());
        let named = fields_named_by(subject, strings);
        for (name, _) in fields
            .iter()
            .filter(|(name, _)| named.contains(&name.as_str()))
        {
            let mut changed = fields.clone();
            changed.insert(name.clone(), Value::String(oversized.clone()));
            let label = format!(
                "{} with a {}-character `{name}`",
                endpoint.label(),
                oversized.len()
            );
            probed.push(label.clone());
            match send(
                target,
                endpoint,
                target.headers.to_vec(),
                Some(Value::Object(changed).to_string()),
            )
            .await
            {
                Ok(r) if (400..500).contains(&r.status) => {}
                Ok(r) => findings.push(Finding {
                    request: label,
                    problem: format!("answered {} instead of refusing it with a 4xx", r.status),
                }),
                Err(e) => findings.push(Finding {
                    request: label,
                    problem: format!("no answer: {e}"),
                }),
            }
        }
    }
    (findings, probed)
}

/// Stored values must come back verbatim: every example that writes and reads back by a
/// captured value is run with each payload (plus a unique suffix) in the first string field of
/// its first JSON write, and the read-back must contain that exact string.
pub async fn round_trip(
    spec: &Spec,
    target: &crate::examples::ServiceClient<'_>,
) -> (Vec<Finding>, usize) {
    use crate::examples::{fresh_vars, write_then_read_split};
    let mut findings = Vec::new();
    let mut checked = 0;
    for scenario in spec
        .scenarios
        .iter()
        .filter(|s| s.status == sdd_spec::document::ReviewStatus::Approved)
    {
        for example in &scenario.examples {
            let Some(split) = write_then_read_split(example) else {
                continue;
            };
            let Some(write_at) = example.steps[..split]
                .iter()
                .position(|s| s.request.json.as_ref().is_some_and(Value::is_object))
            else {
                continue;
            };
            let Some(Value::Object(body)) = example.steps[write_at].request.json.clone() else {
                continue;
            };
            let Some(field) = body
                .iter()
                .find(|(_, v)| v.is_string())
                .map(|(k, _)| k.clone())
            else {
                continue;
            };
            // Only examples whose write part passes as written can tell what a payload changes.
            let mut baseline = fresh_vars();
            let base = patiently(&example.steps[..split], &mut baseline, target).await;
            if base.iter().any(|s| !s.ok) {
                continue;
            }
            for (class, payload) in PAYLOADS
                .iter()
                .filter(|(c, _)| ["sql", "script", "shell"].contains(c))
            {
                let mut vars = fresh_vars();
                let value = format!("{payload} {}", vars["unique"]);
                let mut steps = example.steps.clone();
                let mut changed = body.clone();
                changed.insert(field.clone(), Value::String(value.clone()));
                steps[write_at].request.json = Some(Value::Object(changed));
                // Only the status is expected of the write: other fields may depend on the value.
                steps[write_at].expect.json.clear();
                let label = format!(
                    "{} {} with {class} payload in `{field}`",
                    steps[write_at].request.method, steps[write_at].request.path
                );
                let written = patiently(&steps[..split], &mut vars, target).await;
                if let Some(bad) = written.iter().find(|s| !s.ok) {
                    if bad.status.is_some_and(|s| (400..500).contains(&s)) {
                        // Refused cleanly: nothing stored, nothing to read back.
                        continue;
                    }
                    findings.push(Finding {
                        request: label,
                        problem: format!(
                            "the write did not go through as the example expects ({}): a payload must be stored as data or refused with a clear 4xx",
                            bad.problem().unwrap_or_default()
                        ),
                    });
                    continue;
                }
                checked += 1;
                let read = &steps[split];
                let request = HttpRequest {
                    method: "GET".into(),
                    url: format!(
                        "{}{}",
                        target.base_url.trim_end_matches('/'),
                        substitute_encoded(&read.request.path, &vars)
                    ),
                    headers: target
                        .headers
                        .iter()
                        .map(|(k, v)| (k.clone(), crate::examples::expand_env(v)))
                        .collect(),
                    body: None,
                    timeout: TIMEOUT,
                };
                match http::send(&request, target.allowed_hosts).await {
                    Ok(r) => {
                        let body: Option<Value> = serde_json::from_slice(&r.body).ok();
                        if !body.as_ref().is_some_and(|b| contains_string(b, &value)) {
                            findings.push(Finding {
                                request: format!("{label}, read back with GET {}", read.request.path),
                                problem: format!(
                                    "the stored value did not come back verbatim: wrote {value:?}, read {}",
                                    String::from_utf8_lossy(&r.body).chars().take(200).collect::<String>()
                                ),
                            });
                        }
                    }
                    Err(e) => findings.push(Finding {
                        request: format!("{label}, read back"),
                        problem: format!("no answer: {e}"),
                    }),
                }
            }
        }
    }
    (findings, checked)
}

/// Run steps; if the service rate-limited them (429, after the probes before this one), wait
/// for a short window to pass and run them once more.
async fn patiently(
    steps: &[sdd_spec::document::ExampleStep],
    vars: &mut std::collections::BTreeMap<String, String>,
    target: &crate::examples::ServiceClient<'_>,
) -> Vec<crate::examples::StepResult> {
    let start = vars.clone();
    let results = crate::examples::run_steps(steps, vars, target).await;
    if !results.iter().any(|s| s.status == Some(429)) {
        return results;
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    *vars = start;
    crate::examples::run_steps(steps, vars, target).await
}

fn substitute_encoded(path: &str, vars: &std::collections::BTreeMap<String, String>) -> String {
    let mut out = path.to_string();
    for (k, v) in vars {
        out = out.replace(&format!("${{{k}}}"), &crate::examples::percent_encode(v));
    }
    out
}

fn contains_string(value: &Value, wanted: &str) -> bool {
    match value {
        Value::String(s) => s == wanted,
        Value::Array(items) => items.iter().any(|v| contains_string(v, wanted)),
        Value::Object(map) => map.values().any(|v| contains_string(v, wanted)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {

    /// Plural, possessive and sentence subjects name the field they mean, and only it ("Titles
    /// max 255 characters" once found no field, so the check came back unchecked).
    #[test]
    fn size_subjects_name_their_fields() {
        let fields = ["title", "description", "task_id", "dueDate", "tags"];
        let cases: &[(&str, &[&str])] = &[
            ("title", &["title"]),
            ("Titles", &["title"]),
            ("task titles must be", &["title"]),
            ("task titles must be at most 255 characters", &["title"]),
            ("a task's title", &["title"]),
            ("description length", &["description"]),
            ("due dates", &["dueDate"]),
            ("each task may have", &["task_id"]),
            ("tags", &["tags"]),
            ("the body", &[]),
            ("max 255", &[]),
        ];
        for (subject, expected) in cases {
            assert_eq!(
                fields_named_by(subject, fields.iter().copied()),
                *expected,
                "{subject}"
            );
        }
    }

    use super::*;

    #[test]
    fn exceptions_match_paths_and_words() {
        let ex = vec!["Health check endpoint".to_string()];
        assert!(is_exception("/health", &ex));
        assert!(is_exception("/api/healthz", &ex));
        assert!(!is_exception("/items/A-1", &ex));
        let ex = vec!["/metrics".to_string()];
        assert!(is_exception("/metrics", &ex));
        assert!(!is_exception("/metricsx", &ex));
    }

    #[test]
    fn jwt_is_three_base64url_parts() {
        let jwt = forged_jwt();
        assert_eq!(jwt.split('.').count(), 3);
        assert!(jwt
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c)));
        assert_eq!(b64url(b"abc"), "YWJj");
        assert_eq!(b64url(b"ab"), "YWI");
    }
}

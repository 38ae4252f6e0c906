//! Security probes for security constraints, each finding naming the request that shows it:
//! authentication (no token, a malformed token, a forged signature, the probe user's own claims
//! unsigned under `alg: none`, its own token with the payload changed after signing, and an
//! expired token must be refused on every route but the declared exceptions), rate limits
//! (requests beyond the limit within the window refused, per user), injection (payloads in
//! place of every query value, path parameter and JSON field, and malformed bodies: no 5xx, no
//! leaked internals (`leaks`), the service still answers afterwards) and size bounds (an
//! oversized value refused with a 4xx).
//!
//! Each probe runs as its own user and on the route inventory (`inventory`): requests with
//! real values for every route the project declares. A probe's request refused before it could
//! show anything (429, or 401/403 to its own valid token) is a refusal, never a pass or a fail;
//! a route reached only with made-up values is not reached. `ProbeOutcome` carries all of it to
//! `sdd_spec::verdict::judge_probe`.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use sdd_http::AllowedHosts;
use sdd_spec::model::Spec;
use sdd_spec::routes::Route;
use sdd_spec::verdict::ProbeFacts;

use sdd_http::auth::b64url;
use sdd_http::{self as http, HttpRequest, HttpResponse};

use crate::inventory::Inventory;

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
    /// Path and query, values filled in.
    pub path: String,
    pub body: Option<String>,
    /// The route it reaches (`GET /tasks/{id}`).
    pub route: Route,
    /// Its path parameters are made up (no example captured a real value): an answer such as
    /// 404 shows nothing about the route.
    pub made_up: bool,
    /// The headers the example step itself sends (`X-Team-Tag: core`), values filled in;
    /// never credentials, `Content-Type` or `Host` (see [`example_headers`]). Sent with every
    /// probe request to the endpoint unless the probe sets the same header itself.
    pub headers: Vec<(String, String)>,
}

/// Headers that are the client's credentials or the request's framing: never taken from an
/// example step as input, never replaced by a payload.
const NOT_INPUT_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
    "content-type",
    "content-length",
    "host",
    "transfer-encoding",
    "connection",
];

/// The headers of an example step that are input to the service: every one but credentials,
/// `Content-Type`, `Host` and the like ([`NOT_INPUT_HEADERS`]).
pub fn example_headers<'a>(
    headers: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Vec<(String, String)> {
    headers
        .into_iter()
        .filter(|(n, _)| !NOT_INPUT_HEADERS.contains(&n.to_ascii_lowercase().as_str()))
        .map(|(n, v)| (n.clone(), v.clone()))
        .collect()
}

impl ProbeEndpoint {
    fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }
}

/// What the security probes send and to where: the service as a client reaches it, as the
/// probe's own user, and the requests that reach its routes.
pub struct ProbePlan<'a> {
    pub base_url: &'a str,
    /// The headers of the probe's own user (its own token, so that no check is judged on
    /// another check's spent allowance).
    pub headers: Vec<(String, String)>,
    pub allowed_hosts: &'a AllowedHosts,
    pub inventory: Inventory,
    /// Tokens SDD signed itself (`auth.jwt`): an expired one, a burst user's, a second user's.
    pub credentials: Option<sdd_http::auth::ProbeCredentials>,
}

impl ProbePlan<'_> {
    pub fn endpoints(&self) -> &[ProbeEndpoint] {
        &self.inventory.endpoints
    }
}

/// What a probe sent and saw: findings, requests refused before they showed anything, and the
/// routes reached and not reached. `sdd_spec::verdict::judge_probe` turns it into a verdict.
#[derive(Debug, Clone, Default)]
pub struct ProbeOutcome {
    pub findings: Vec<Finding>,
    /// `GET /tasks?status=%27 answered 429`.
    pub refused: Vec<String>,
    /// Requests whose answer counted.
    pub probed: usize,
    pub routes_probed: BTreeSet<Route>,
    /// Routes the constraint covers that no request reached, and why.
    pub unreached: BTreeMap<Route, String>,
    /// Declarations that could not be read: the routes they stand for are unknown.
    pub problems: Vec<String>,
    /// Requests sent, whatever their answer.
    pub sent: usize,
    /// What was left out or not checked, in words (for the verdict's account).
    pub notes: Vec<String>,
}

impl ProbeOutcome {
    pub fn facts(&self) -> ProbeFacts {
        let mut gaps: Vec<String> = self.problems.clone();
        gaps.extend(self.unreached.iter().map(|(route, why)| {
            if why.is_empty() {
                route.to_string()
            } else {
                format!("{route} ({why})")
            }
        }));
        ProbeFacts {
            findings: self.findings.len(),
            first_finding: self
                .findings
                .first()
                .map(|f| format!("{}: {}", f.request, f.problem)),
            probed: self.probed,
            refused: self.refused.len(),
            first_refusal: self.refused.first().cloned(),
            unreached: gaps.len(),
            first_unreached: gaps.into_iter().next(),
        }
    }

    /// An answer that shows nothing: a 429 from the rate limit, or a 401/403 to the probe's
    /// own valid token. Recorded as a refusal; `true` when it was one.
    fn refused_with(&mut self, label: &str, status: u16) -> bool {
        if matches!(status, 401 | 403 | 429) {
            self.refused.push(format!("{label} answered {status}"));
            return true;
        }
        false
    }

    fn probed(&mut self, endpoint: &ProbeEndpoint) {
        self.probed += 1;
        self.routes_probed.insert(endpoint.route.clone());
    }

    fn finding(&mut self, request: String, problem: impl Into<String>) {
        self.findings.push(Finding {
            request,
            problem: problem.into(),
        });
    }
}

async fn send(
    target: &ProbePlan<'_>,
    endpoint: &ProbeEndpoint,
    headers: Vec<(String, String)>,
    body: Option<String>,
) -> Result<HttpResponse, String> {
    send_bytes(target, endpoint, headers, body.map(String::into_bytes)).await
}

async fn send_bytes(
    target: &ProbePlan<'_>,
    endpoint: &ProbeEndpoint,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
) -> Result<HttpResponse, String> {
    let mut headers = headers;
    for (name, value) in &endpoint.headers {
        if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name)) {
            headers.push((name.clone(), value.clone()));
        }
    }
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
        body,
        timeout: TIMEOUT,
    };
    http::send(&request, target.allowed_hosts)
        .await
        .map_err(|e| e.to_string())
}

/// The longest `Retry-After` a probe waits out: a short window (per second) passes; a long one
/// (per minute) would stall the run, so its 429 is reported as a refusal instead.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(5);

/// `send_bytes`, but a 429 is waited out once when the service asks for at most
/// `MAX_RETRY_AFTER` (or does not say: then one second): a probe is not judged on a short
/// window its own earlier requests filled. Never for the rate-limit burst, which counts them.
async fn send_patiently(
    target: &ProbePlan<'_>,
    endpoint: &ProbeEndpoint,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
) -> Result<HttpResponse, String> {
    let first = send_bytes(target, endpoint, headers.clone(), body.clone()).await?;
    if first.status != 429 {
        return Ok(first);
    }
    let wait = match first.header("retry-after").map(|v| v.trim().parse::<f64>()) {
        None => Duration::from_millis(1100),
        Some(Ok(seconds)) if seconds >= 0.0 && seconds <= MAX_RETRY_AFTER.as_secs_f64() => {
            Duration::from_secs_f64(seconds) + Duration::from_millis(100)
        }
        Some(_) => return Ok(first),
    };
    tokio::time::sleep(wait).await;
    send_bytes(target, endpoint, headers, body).await
}

/// `headers` without their credentials.
pub fn without_auth(headers: &[(String, String)]) -> Vec<(String, String)> {
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

/// The probe user's own JWT, as its `Authorization` header carries it (`auth.jwt`'s token for
/// this probe family, or a JWT `service.headers` sets); `None` for an API key or no token.
fn own_jwt(target: &ProbePlan<'_>) -> Option<String> {
    target
        .headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case("authorization"))
        .map(|(_, v)| v.clone())
        .find(|v| sdd_http::auth::unsigned(v, "none").is_some())
}

/// The `Authorization` values the authentication probe sends, each with how its request is
/// named: none, a malformed token, a forged signature; from the probe user's own JWT (when it
/// has one) the same claims unsigned (`alg: none`, and `None`, which a case-sensitive denylist
/// lets through) and the same token with its payload changed after signing; with `auth.jwt`
/// an expired token. The own-JWT variants carry the user's real claims (subject, `auth.jwt`'s
/// claims, a future `exp`), so a service that takes them answers as it would the user: the
/// objects the inventory created are its own, and no 404 or 403 hides the acceptance.
pub fn authentication_variants(target: &ProbePlan<'_>) -> Vec<(&'static str, Option<String>)> {
    let mut variants: Vec<(&str, Option<String>)> = vec![
        ("without a token", None),
        ("with a malformed token", Some("Bearer not-a-token".into())),
        (
            "with a forged-signature JWT",
            Some(format!("Bearer {}", forged_jwt())),
        ),
    ];
    if let Some(own) = own_jwt(target) {
        for (what, alg) in [
            ("with an unsigned JWT (alg none)", "none"),
            ("with an unsigned JWT (alg None)", "None"),
        ] {
            if let Some(token) = sdd_http::auth::unsigned(&own, alg) {
                variants.push((what, Some(format!("Bearer {token}"))));
            }
        }
        if let Some(token) = sdd_http::auth::tampered(&own) {
            variants.push((
                "with a JWT whose payload was changed after signing (role admin)",
                Some(format!("Bearer {token}")),
            ));
        }
    }
    if let Some(credentials) = &target.credentials {
        variants.push((
            "with an expired JWT (valid signature)",
            Some(credentials.expired.clone()),
        ));
    }
    variants
}

/// Other spellings of `endpoint`'s path that a lenient router may take for the same route:
/// with a trailing slash added (or removed), and with its first literal segment in another case
/// (`/projects/7` → `/projects/7/`, `/Projects/7`). Each with how its request is named.
pub fn path_variants(endpoint: &ProbeEndpoint) -> Vec<(String, &'static str)> {
    let (path, query) = match endpoint.path.split_once('?') {
        Some((p, q)) => (p, format!("?{q}")),
        None => (endpoint.path.as_str(), String::new()),
    };
    let mut variants = Vec::new();
    if path.len() > 1 && path.ends_with('/') {
        variants.push((
            format!("{}{query}", path.trim_end_matches('/')),
            "the trailing slash removed",
        ));
    } else {
        variants.push((format!("{path}/{query}"), "a trailing slash added"));
    }
    let parameters = endpoint.route.parameter_segments();
    let mut segments: Vec<String> = path.split('/').map(str::to_string).collect();
    // `segments[0]` is the empty text before the leading slash.
    let literal = (1..segments.len())
        .find(|&i| !parameters.contains(&(i - 1)) && segments[i].chars().any(char::is_alphabetic));
    if let Some(i) = literal {
        let segment = &segments[i];
        let first = segment.chars().position(char::is_alphabetic).unwrap_or(0);
        let swapped: String = segment
            .chars()
            .enumerate()
            .map(|(n, c)| {
                if n != first {
                    c.to_string()
                } else if c.is_lowercase() {
                    c.to_uppercase().to_string()
                } else {
                    c.to_lowercase().to_string()
                }
            })
            .collect();
        segments[i] = swapped;
        variants.push((format!("{}{query}", segments.join("/")), "another case"));
    }
    variants
}

/// A 2xx that is a "not found" page in disguise (an HTML fallback page, or a body that says
/// so): it shows no protected data.
fn says_not_found(response: &HttpResponse) -> bool {
    let html = response
        .header("content-type")
        .is_some_and(|t| t.to_ascii_lowercase().contains("text/html"));
    let text = String::from_utf8_lossy(&response.body).to_ascii_lowercase();
    html || text.contains("not found") || text.contains("not_found")
}

/// Every route but the exceptions must refuse every request of [`authentication_variants`]
/// (401 or 403). Routes only reached with made-up parameters count as probed when refused;
/// any other answer leaves them unreached. Every route reached for real is also asked, without
/// a token, by its [`path_variants`]: a 2xx that is not a "not found" page is a finding (a
/// 401/403, a redirect, a 404 or a 405 is not).
pub async fn authentication(target: &ProbePlan<'_>, exceptions: &[String]) -> ProbeOutcome {
    let mut outcome = ProbeOutcome {
        problems: target.inventory.problems.clone(),
        ..ProbeOutcome::default()
    };
    let base = without_auth(&target.headers);
    let variants = authentication_variants(target);
    for endpoint in target
        .endpoints()
        .iter()
        .filter(|e| !is_exception(&e.path, exceptions))
    {
        for (what, auth) in &variants {
            let mut headers = base.clone();
            if let Some(auth) = auth {
                headers.push(("Authorization".into(), auth.clone()));
            }
            let label = format!("{} {what}", endpoint.label());
            let body = endpoint.body.clone().map(String::into_bytes);
            match send_patiently(target, endpoint, headers, body).await {
                Ok(r) if r.status == 401 || r.status == 403 => outcome.probed(endpoint),
                Ok(r) if r.status == 429 => {
                    outcome.refused_with(&label, r.status);
                }
                // Made-up parameters: only a refusal or a success shows something about
                // the route; a 404, a 405 or a 501 says it was not reached.
                Ok(r) if endpoint.made_up && r.status >= 400 => {
                    let why = target
                        .inventory
                        .unreached
                        .get(&endpoint.route)
                        .cloned()
                        .unwrap_or_default();
                    outcome.unreached.insert(
                        endpoint.route.clone(),
                        format!(
                            "{why}{}with made-up parameters it answered {} {what}",
                            if why.is_empty() { "" } else { "; " },
                            r.status
                        ),
                    );
                    break;
                }
                Ok(r) => {
                    outcome.probed(endpoint);
                    outcome.finding(
                        label,
                        format!("answered {} instead of refusing it with 401/403", r.status),
                    )
                }
                Err(e) => outcome.finding(label, format!("no answer: {e}")),
            }
        }
    }
    // The same routes by another spelling of their path, which a router may match while the
    // token check (a middleware on the exact path) does not.
    let mut seen = BTreeSet::new();
    for endpoint in target
        .endpoints()
        .iter()
        .filter(|e| !e.made_up && !is_exception(&e.path, exceptions))
    {
        if !seen.insert(endpoint.route.clone()) {
            continue;
        }
        for (path, what) in path_variants(endpoint) {
            let request = ProbeEndpoint {
                path,
                ..endpoint.clone()
            };
            let label = format!("{} ({what}) without a token", request.label());
            let body = endpoint.body.clone().map(String::into_bytes);
            outcome.sent += 1;
            match send_patiently(target, &request, base.clone(), body).await {
                Ok(r) if r.status == 429 => {
                    outcome.refused_with(&label, r.status);
                }
                Ok(r) if (200..300).contains(&r.status) && !says_not_found(&r) => {
                    outcome.probed(endpoint);
                    outcome.finding(
                        label,
                        format!(
                            "answered {} instead of refusing it with 401/403 (or not finding it): the token check is skipped on this spelling of the path",
                            r.status
                        ),
                    );
                }
                // 401/403, a redirect, 404/405: the variant is refused or is not the route.
                Ok(_) => outcome.probed(endpoint),
                Err(e) => outcome.finding(label, format!("no answer: {e}")),
            }
        }
    }
    // A route reached for real elsewhere (or refused with made-up parameters) is reached.
    let probed = outcome.routes_probed.clone();
    outcome
        .unreached
        .retain(|route, _| !probed.iter().any(|p| p == route));
    outcome
}

/// The rate-limit probe's account when no request is fit for a burst.
pub const NOTHING_TO_BURST: &str = "no endpoint to probe";

/// What the rate-limit probe found: findings, a one-line account naming what was burst, and
/// what it could not burst although the limit covers it (`writes not burst: …`), which leaves
/// a verdict without findings inconclusive.
#[derive(Debug, Clone, Default)]
pub struct RateLimitOutcome {
    pub findings: Vec<Finding>,
    pub account: String,
    pub gap: Option<String>,
}

/// The longest window the probe waits out between two bursts that would otherwise share one
/// allowance.
const MAX_WAITED_WINDOW: f64 = 10.0;

/// One burst of `max_requests` plus some on `endpoint` with `headers`: its findings and its
/// account (`GET /tasks: 100 accepted, then refused from request #101 of 120`). `refusal`
/// tells a refusal by the limit from an answer that went past it.
async fn burst(
    target: &ProbePlan<'_>,
    endpoint: &ProbeEndpoint,
    headers: &[(String, String)],
    max_requests: u64,
    refusal: fn(&HttpResponse) -> bool,
) -> (Vec<Finding>, String) {
    let extra = (max_requests / 5).clamp(5, 50);
    let total = max_requests + extra;
    let mut first_refused = None;
    let mut accepted_after_limit = 0u64;
    let mut errors = 0u64;
    for n in 1..=total {
        match send(target, endpoint, headers.to_vec(), endpoint.body.clone()).await {
            Ok(r) if refusal(&r) => {
                first_refused.get_or_insert(n);
            }
            Ok(r) if r.status < 400 || (r.status < 500 && r.status != 404) => {
                if n > max_requests {
                    accepted_after_limit += 1;
                }
            }
            _ => errors += 1,
        }
    }
    let mut findings = Vec::new();
    let label = endpoint.label();
    let account = match first_refused {
        Some(n) if n <= max_requests => {
            findings.push(Finding {
                request: format!("{label} request #{n} of {total} in a burst"),
                problem: format!("refused before the limit of {max_requests} was reached"),
            });
            format!("{label}: refused from request #{n}, limit {max_requests}")
        }
        Some(n) if accepted_after_limit == 0 => {
            format!("{label}: {max_requests} accepted, then refused from request #{n} of {total}")
        }
        _ => {
            findings.push(Finding {
                request: format!("{label} × {total} in a burst with one client's credentials"),
                problem: format!(
                    "{accepted_after_limit} of the {extra} requests beyond the limit of {max_requests} were accepted"
                ),
            });
            format!("{label}: {accepted_after_limit} of {extra} requests beyond the limit accepted")
        }
    };
    if errors > 0 {
        findings.push(Finding {
            request: format!("{label} in a burst"),
            problem: format!("{errors} requests got no answer, a 404 or a 5xx"),
        });
    }
    (findings, account)
}

/// `max_requests` within the window must pass and more must be refused (429 or another 4xx),
/// for reads and for writes: a burst on a read (a `GET` without path parameters first), then,
/// unless the limit is on reads only (`reads_only`), a burst on a write the examples send
/// (without path parameters, so that a fresh user may send it; with the example's body), as
/// another burst user when the limit is counted per user (`per`) and SDD signs tokens, else
/// after waiting out a short window. A write it cannot burst is the outcome's `gap`.
pub async fn rate_limit(
    target: &ProbePlan<'_>,
    max_requests: u64,
    window_seconds: f64,
    per: &str,
    reads_only: bool,
) -> RateLimitOutcome {
    // Health and metrics routes are usually outside any limit.
    let infrastructure = |path: &str| {
        ["health", "metrics", "ready", "live", "status"]
            .iter()
            .any(|w| path.to_ascii_lowercase().contains(w))
    };
    let real = || {
        target
            .endpoints()
            .iter()
            .filter(|e| !e.made_up && !infrastructure(&e.path))
    };
    let is_read = |e: &&ProbeEndpoint| e.method == "GET" || e.method == "HEAD";
    let fresh = |e: &&ProbeEndpoint| e.route.parameter_segments().is_empty();
    // A read without path parameters first: another user (the per-user check) can send it too.
    let Some(read) = real()
        .filter(is_read)
        .find(fresh)
        .or_else(|| real().find(is_read))
        .or_else(|| real().next())
    else {
        return RateLimitOutcome {
            account: NOTHING_TO_BURST.into(),
            ..RateLimitOutcome::default()
        };
    };
    // Let traffic sent before (load runs) fall out of a short window first.
    if window_seconds <= MAX_WAITED_WINDOW {
        tokio::time::sleep(Duration::from_secs_f64(window_seconds)).await;
    }
    let as_user = |token: &str| {
        let mut headers = without_auth(&target.headers);
        headers.push(("Authorization".into(), token.to_string()));
        headers
    };
    let burst_headers = match &target.credentials {
        Some(credentials) => as_user(&credentials.burst_user),
        None => target.headers.clone(),
    };
    // Any 4xx but 404 is the limit's refusal of a read (a 403 or 400 some limiters answer).
    let (mut findings, mut account) = burst(target, read, &burst_headers, max_requests, |r| {
        (400..500).contains(&r.status) && r.status != 404
    })
    .await;
    // Per user: right after the first client's burst, another user must still get through.
    if let Some(credentials) = &target.credentials {
        let headers = as_user(&credentials.second_user);
        match send(target, read, headers, read.body.clone()).await {
            Ok(r) if r.status < 400 => account.push_str("; a second user was still served"),
            Ok(r) if r.status == 429 => findings.push(Finding {
                request: format!(
                    "{} as a second user right after the first user's burst",
                    read.label()
                ),
                problem: format!("answered {}: the limit is not counted per user", r.status),
            }),
            Ok(r) => account.push_str(&format!(
                "; a second user's request answered {}, which does not show whether it was counted apart",
                r.status
            )),
            Err(e) => findings.push(Finding {
                request: format!("{} as a second user", read.label()),
                problem: format!("no answer: {e}"),
            }),
        }
    }
    let mut methods = vec![read.method.clone()];
    let mut gap = None;
    if is_read(&read) {
        let writes: Vec<&ProbeEndpoint> = real().filter(|e| !is_read(e)).collect();
        let write = writes.iter().copied().find(fresh);
        let own_allowance = matches!(per, "user" | "api_key") && target.credentials.is_some();
        let not_burst = if reads_only {
            account.push_str("; writes not burst: the limit is on reads");
            None
        } else if let Some(write) = write {
            if own_allowance {
                let headers = as_user(&target.credentials.as_ref().unwrap().user("burst-writes"));
                let (more, said) = write_burst(target, write, &headers, max_requests).await;
                findings.extend(more);
                methods.push(write.method.clone());
                account.push_str(&format!("; as another burst user, {said}"));
                None
            } else if window_seconds <= MAX_WAITED_WINDOW {
                // One allowance for both bursts: wait for the read burst to fall out of it.
                tokio::time::sleep(Duration::from_secs_f64(window_seconds)).await;
                let (more, said) = write_burst(target, write, &burst_headers, max_requests).await;
                findings.extend(more);
                methods.push(write.method.clone());
                account.push_str(&format!(
                    "; after waiting out the {window_seconds} s window, {said}"
                ));
                None
            } else {
                Some(format!(
                    "writes not burst: {} would share the read burst's allowance ({}), and the {window_seconds} s window is too long to wait out",
                    write.label(),
                    if target.credentials.is_none() {
                        "no second burst user without auth.jwt".to_string()
                    } else {
                        format!("the limit is counted per {per}")
                    }
                ))
            }
        } else if let Some(write) = writes.first() {
            Some(format!(
                "writes not burst: every write the examples send needs an object's id ({}), which a burst user does not own",
                write.route
            ))
        } else {
            Some("writes not burst: no example or load endpoint sends a write".to_string())
        };
        if let Some(why) = not_burst {
            account.push_str(&format!("; {why}"));
            gap = Some(why);
        }
    }
    RateLimitOutcome {
        findings,
        account: format!("methods burst: {}; {account}", methods.join(", ")),
        gap,
    }
}

/// A burst on a write, with its body: only a 429 (or an answer with `Retry-After`) is the
/// limit's refusal; a 409 or 422 to the same body sent again went past the limit.
async fn write_burst(
    target: &ProbePlan<'_>,
    write: &ProbeEndpoint,
    headers: &[(String, String)],
    max_requests: u64,
) -> (Vec<Finding>, String) {
    burst(target, write, headers, max_requests, |r| {
        r.status == 429 || (r.status >= 400 && r.header("retry-after").is_some())
    })
    .await
}

/// Payloads that must be taken as data, never as code or paths.
pub const PAYLOADS: &[(&str, &str)] = &[
    ("sql", "' OR '1'='1'; DROP TABLE items; --"),
    ("nosql", "{\"$gt\": \"\"}"),
    ("shell", "; cat /etc/passwd; echo $(id)"),
    ("path", "../../../../etc/passwd"),
    ("script", "<script>alert(1)</script>"),
];

/// One request of the injection probe.
#[derive(Debug, Clone, PartialEq)]
pub struct InjectionCase {
    /// `GET /tasks?status=… with sql payload in query parameter `status``.
    pub label: String,
    pub path: String,
    pub body: Option<Vec<u8>>,
    /// Replaces the JSON content type when set.
    pub content_type: Option<&'static str>,
    /// A header of the example's, its value replaced by the payload.
    pub header: Option<(String, String)>,
}

/// Bodies no service should take: each must get a 4xx (or be taken as data), never a 5xx
/// or a leak of internals.
fn malformed_bodies(body: Option<&str>) -> Vec<(&'static str, Vec<u8>, Option<&'static str>)> {
    let original = body.unwrap_or("{}");
    let first_field = serde_json::from_str::<Value>(original)
        .ok()
        .and_then(|v| v.as_object().and_then(|m| m.keys().next().cloned()))
        .unwrap_or_else(|| "name".into());
    let field = serde_json::to_string(&first_field).unwrap_or_default();
    let mut invalid_utf8 = format!("{{{field}: \"").into_bytes();
    invalid_utf8.extend_from_slice(&[0xff, 0xfe, 0xc3, 0x28]);
    invalid_utf8.extend_from_slice(b"\"}");
    let oversized = match serde_json::from_str::<Value>(original) {
        Ok(Value::Object(mut map)) => {
            map.insert(
                "sdd_padding".into(),
                Value::String("x".repeat(OVERSIZED_BODY_BYTES)),
            );
            Value::Object(map).to_string()
        }
        _ => format!(
            "{{\"sdd_padding\": \"{}\"}}",
            "x".repeat(OVERSIZED_BODY_BYTES)
        ),
    };
    vec![
        (
            "malformed JSON (cut short)",
            format!("{{{field}: \"unterminated").into_bytes(),
            None,
        ),
        (
            "a JSON array instead of an object",
            b"[1, 2]".to_vec(),
            None,
        ),
        (
            "a wrong content type (text/plain)",
            original.as_bytes().to_vec(),
            Some("text/plain"),
        ),
        ("invalid UTF-8", invalid_utf8, None),
        ("an oversized body (1 MiB)", oversized.into_bytes(), None),
    ]
}

/// The size of the oversized body: above what a service should take for a form, below what a
/// test machine minds sending.
const OVERSIZED_BODY_BYTES: usize = 1 << 20;

/// The most nested JSON values (below the top level) a body's payloads go into: a body with
/// more has the first ones in document order injected, and the probe says how many were left.
pub const MAX_NESTED_FIELDS: usize = 12;

/// A JSON value's place in a body: `meta.tag`, `labels[0]`, `items[1].name`.
fn json_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// The places below the top level of `value` a payload goes into, in document order: every
/// scalar inside an object or an array (`meta.tag`, `labels[0]`), each with its path steps.
/// Top-level fields are replaced whole elsewhere.
fn nested_leaves(value: &Value) -> Vec<(String, Vec<PathStep>)> {
    fn walk(
        value: &Value,
        label: &str,
        steps: &mut Vec<PathStep>,
        out: &mut Vec<(String, Vec<PathStep>)>,
    ) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    steps.push(PathStep::Key(key.clone()));
                    walk(child, &json_path(label, key), steps, out);
                    steps.pop();
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    steps.push(PathStep::Index(i));
                    walk(child, &format!("{label}[{i}]"), steps, out);
                    steps.pop();
                }
            }
            _ if steps.len() > 1 => out.push((label.to_string(), steps.clone())),
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, "", &mut Vec::new(), &mut out);
    out
}

#[derive(Debug, Clone)]
enum PathStep {
    Key(String),
    Index(usize),
}

/// `value` with the place `steps` leads to replaced by `with`.
fn replaced_at(value: &Value, steps: &[PathStep], with: &Value) -> Value {
    let mut out = value.clone();
    let mut at = &mut out;
    for step in steps {
        let next = match (step, at) {
            (PathStep::Key(k), Value::Object(map)) => map.get_mut(k),
            (PathStep::Index(i), Value::Array(items)) => items.get_mut(*i),
            _ => None,
        };
        match next {
            Some(next) => at = next,
            None => return out,
        }
    }
    *at = with.clone();
    out
}

/// How many nested JSON values of `endpoint`'s body [`injection_cases`] leaves out (beyond
/// [`MAX_NESTED_FIELDS`]).
pub fn nested_fields_left_out(endpoint: &ProbeEndpoint) -> usize {
    endpoint
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
        .map_or(0, |v| {
            nested_leaves(&v).len().saturating_sub(MAX_NESTED_FIELDS)
        })
}

/// Every payload in place of every existing query value, path parameter, JSON field (each
/// top-level field whole, and every value inside its objects and arrays, up to
/// [`MAX_NESTED_FIELDS`] of them) and header value the example sends (an extra `q` parameter
/// on a GET without a query), and for a request with a body the malformed bodies.
pub fn injection_cases(endpoint: &ProbeEndpoint) -> Vec<InjectionCase> {
    let mut cases = Vec::new();
    let (path, query) = match endpoint.path.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (endpoint.path.as_str(), None),
    };
    let body: Option<Value> = endpoint
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str(b).ok());
    let nested: Vec<(String, Vec<PathStep>)> = body
        .as_ref()
        .map(nested_leaves)
        .unwrap_or_default()
        .into_iter()
        .take(MAX_NESTED_FIELDS)
        .collect();
    let parameters = endpoint.route.parameter_segments();
    for (class, payload) in PAYLOADS {
        let encoded = crate::examples::percent_encode(payload);
        let with = |new_path: String, what: String| InjectionCase {
            label: format!("{} with {class} payload in {what}", endpoint.label()),
            path: new_path,
            body: endpoint.body.clone().map(String::into_bytes),
            content_type: None,
            header: None,
        };
        if let Some(query) = query {
            let pairs: Vec<&str> = query.split('&').collect();
            for (i, pair) in pairs.iter().enumerate() {
                let name = pair.split('=').next().unwrap_or("");
                let mut changed = pairs.iter().map(|p| p.to_string()).collect::<Vec<_>>();
                changed[i] = format!("{name}={encoded}");
                cases.push(with(
                    format!("{path}?{}", changed.join("&")),
                    format!("query parameter `{name}`"),
                ));
            }
        } else if endpoint.method == "GET" && parameters.is_empty() {
            cases.push(with(format!("{path}?q={encoded}"), "the query".into()));
        }
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        for &at in &parameters {
            if at >= segments.len() {
                continue;
            }
            let mut changed: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
            changed[at] = encoded.clone();
            let rest = query.map(|q| format!("?{q}")).unwrap_or_default();
            cases.push(with(
                format!("/{}{rest}", changed.join("/")),
                format!(
                    "path parameter `{}`",
                    endpoint
                        .route
                        .path
                        .split('/')
                        .filter(|s| !s.is_empty())
                        .nth(at)
                        .unwrap_or("?")
                ),
            ));
        }
        for (name, _) in &endpoint.headers {
            cases.push(InjectionCase {
                header: Some((name.clone(), (*payload).to_string())),
                ..with(endpoint.path.clone(), format!("header `{name}`"))
            });
        }
        let payload_value = Value::String((*payload).into());
        if let Some(Value::Object(fields)) = &body {
            for name in fields.keys() {
                let mut changed = fields.clone();
                changed.insert(name.clone(), payload_value.clone());
                cases.push(InjectionCase {
                    label: format!("{} with {class} payload in `{name}`", endpoint.label()),
                    path: endpoint.path.clone(),
                    body: Some(Value::Object(changed).to_string().into_bytes()),
                    content_type: None,
                    header: None,
                });
            }
        }
        if let Some(body) = &body {
            for (name, steps) in &nested {
                cases.push(InjectionCase {
                    label: format!("{} with {class} payload in `{name}`", endpoint.label()),
                    path: endpoint.path.clone(),
                    body: Some(
                        replaced_at(body, steps, &payload_value)
                            .to_string()
                            .into_bytes(),
                    ),
                    content_type: None,
                    header: None,
                });
            }
        }
    }
    if endpoint.body.is_some() {
        for (what, body, content_type) in malformed_bodies(endpoint.body.as_deref()) {
            cases.push(InjectionCase {
                label: format!("{} with {what}", endpoint.label()),
                path: endpoint.path.clone(),
                body: Some(body),
                content_type,
                header: None,
            });
        }
    }
    cases
}

/// Every case of [`injection_cases`] on every request: the service must not answer 5xx, not
/// leak internals (stack traces, SQL errors, file paths), and must still answer afterwards.
pub async fn injection(target: &ProbePlan<'_>) -> ProbeOutcome {
    let mut outcome = ProbeOutcome::default();
    // What the examples stored may come back in any answer: the client's data, not a leak.
    let client_data: Vec<String> = target
        .endpoints()
        .iter()
        .flat_map(|e| crate::leaks::sent_strings(&e.path, e.body.as_deref().map(str::as_bytes)))
        .collect();
    for endpoint in target.endpoints() {
        let left_out = nested_fields_left_out(endpoint);
        if left_out > 0 {
            outcome.notes.push(format!(
                "{} nested JSON value(s) of {} beyond the first {MAX_NESTED_FIELDS} were not injected",
                left_out,
                endpoint.label()
            ));
        }
        for case in injection_cases(endpoint) {
            let mut headers = target.headers.clone();
            if let Some(content_type) = case.content_type {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case("content-type"));
                headers.push(("Content-Type".into(), content_type.into()));
            }
            if let Some((name, value)) = &case.header {
                headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
                headers.push((name.clone(), value.clone()));
            }
            let request = ProbeEndpoint {
                path: case.path.clone(),
                ..endpoint.clone()
            };
            outcome.sent += 1;
            match send_patiently(target, &request, headers, case.body.clone()).await {
                Ok(r) => {
                    if outcome.refused_with(&case.label, r.status) {
                        continue;
                    }
                    // With made-up parameters a 4xx (a 404 for the id "1") shows the route was
                    // not reached; a 5xx or a leak still shows something.
                    if !(endpoint.made_up && (400..500).contains(&r.status)) {
                        outcome.probed(endpoint);
                    }
                    if r.status >= 500 {
                        outcome.finding(
                            case.label.clone(),
                            format!(
                                "answered {} (bad input must be refused with a 4xx or stored as data, not crash the service)",
                                r.status
                            ),
                        );
                    }
                    let text = String::from_utf8_lossy(&r.body);
                    let mut sent = client_data.clone();
                    sent.extend(crate::leaks::sent_strings(&case.path, case.body.as_deref()));
                    sent.extend(endpoint.headers.iter().map(|(_, v)| v.clone()));
                    sent.extend(case.header.iter().map(|(_, v)| v.clone()));
                    if let Some(leak) = crate::leaks::leak_beyond(&text, &sent) {
                        outcome.finding(
                            case.label,
                            format!("the response leaks internals (`{leak}` in the body)"),
                        );
                    }
                }
                Err(e) => outcome.finding(case.label, format!("no answer: {e}")),
            }
        }
    }
    if let Some(first) = target.endpoints().iter().find(|e| !e.made_up) {
        match send(target, first, target.headers.clone(), first.body.clone()).await {
            Ok(r) if r.status < 500 => {}
            Ok(r) => outcome.finding(
                format!("{} after the payloads", first.label()),
                format!("answered {}: the service no longer works", r.status),
            ),
            Err(e) => outcome.finding(
                format!("{} after the payloads", first.label()),
                format!("no answer: the service no longer works ({e})"),
            ),
        }
    }
    outcome
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
/// characters`) must be refused with a 4xx. `probed` of the outcome counts the requests sent
/// with such a field; none means no request has one.
pub async fn max_size(target: &ProbePlan<'_>, max: f64, subject: &str) -> ProbeOutcome {
    let mut outcome = ProbeOutcome::default();
    let oversized = "x".repeat(
        (max as usize)
            .saturating_mul(4)
            .max(max as usize + 1)
            .min(1_000_000),
    );
    for endpoint in target.endpoints() {
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
            match send_patiently(
                target,
                endpoint,
                target.headers.clone(),
                Some(Value::Object(changed).to_string().into_bytes()),
            )
            .await
            {
                Ok(r) if outcome.refused_with(&label, r.status) => {}
                Ok(r) if (400..500).contains(&r.status) => outcome.probed(endpoint),
                Ok(r) => {
                    outcome.probed(endpoint);
                    outcome.finding(
                        label,
                        format!("answered {} instead of refusing it with a 4xx", r.status),
                    )
                }
                Err(e) => outcome.finding(label, format!("no answer: {e}")),
            }
        }
    }
    outcome
}

/// Where an example writes a JSON object (`write`, the first top-level string field of its
/// body being `field`) and a later `GET` (`read`) asks for what that write created: the read
/// uses a value captured from the write, and none captured by a later write (a later write
/// made another object, which the read may be about: `GET /projects/${pid}/items/${iid}` reads
/// the item, not the project whose `POST` captured `pid`). Values of earlier writes (the
/// parent's id) may appear. In step order; whether the read's answer really is the written
/// object is for the service to show ([`round_trip`] checks the example's own values come
/// back first).
pub fn read_backs(example: &sdd_spec::document::ExampleDoc) -> Vec<(usize, usize, String)> {
    let steps = &example.steps;
    let is_write = |i: usize| {
        !matches!(
            steps[i].request.method.to_ascii_uppercase().as_str(),
            "GET" | "HEAD"
        )
    };
    let uses = |i: usize, name: &str| {
        let placeholder = format!("${{{name}}}");
        steps[i].request.path.contains(&placeholder)
            || steps[i]
                .request
                .headers
                .values()
                .any(|v| v.contains(&placeholder))
    };
    let mut pairs = Vec::new();
    for write in (0..steps.len()).filter(|&i| is_write(i)) {
        let Some(Value::Object(body)) = &steps[write].request.json else {
            continue;
        };
        let Some(field) = body.iter().find(|(_, v)| v.is_string()).map(|(k, _)| k) else {
            continue;
        };
        let own: Vec<&str> = steps[write].capture.keys().map(String::as_str).collect();
        let mut later: Vec<&str> = Vec::new();
        for (read, step) in steps.iter().enumerate().skip(write + 1) {
            if step.request.method.eq_ignore_ascii_case("GET")
                && own.iter().any(|name| uses(read, name))
                && !later.iter().any(|name| uses(read, name))
            {
                pairs.push((write, read, field.clone()));
            }
            if is_write(read) {
                later.extend(step.capture.keys().map(String::as_str));
            }
        }
    }
    pairs
}

/// The most write/read pairs of one example [`round_trip`] tries before it says the example
/// has no read-back.
const MAX_READ_BACK_CANDIDATES: usize = 3;

/// Stored values must come back verbatim: for every example with a JSON write whose object a
/// later `GET` reads back ([`read_backs`]; the first pair whose read answers with the value the
/// example itself wrote), each payload (plus a unique suffix) goes into the write's first
/// string field, and the read must answer with that exact string. An example with no such
/// read is not checked, and `notes` says so: never a finding.
pub async fn round_trip(spec: &Spec, target: &crate::examples::ServiceClient<'_>) -> ProbeOutcome {
    use crate::examples::{example_name, fresh_vars};
    let mut outcome = ProbeOutcome::default();
    let mut not_checked = Vec::new();
    // Approved and keeping its ID: a duplicate's examples would be told under the
    // first's ID.
    for scenario in spec.approved_scenarios() {
        for (n, example) in scenario.examples.iter().enumerate() {
            let pairs = read_backs(example);
            let has_json_write = example.steps.iter().any(|s| {
                !s.request.method.eq_ignore_ascii_case("GET")
                    && s.request.json.as_ref().is_some_and(|j| {
                        j.as_object()
                            .is_some_and(|o| o.values().any(Value::is_string))
                    })
            });
            let name = format!("`{}` of `{}`", example_name(example, n + 1), scenario.id);
            // The pair whose read answers with what the example itself wrote.
            let mut chosen = None;
            // Refused or failing as written: already said, not "no read-back".
            let mut accounted = false;
            for (write_at, read_at, field) in pairs.into_iter().take(MAX_READ_BACK_CANDIDATES) {
                let mut vars = fresh_vars();
                let base = patiently(&example.steps[..=write_at], &mut vars, target).await;
                if let Some(bad) = base.iter().find(|s| !s.ok) {
                    let was_refused = bad
                        .status
                        .is_some_and(|status| outcome.refused_with(&bad.request, status));
                    if !was_refused {
                        not_checked.push(format!(
                            "{name} (its write part fails as written: {})",
                            crate::examples::first_failure_line(&base).unwrap_or_default()
                        ));
                    }
                    accounted = true;
                    break;
                }
                let written = crate::examples::concrete_request(
                    &example.steps[write_at],
                    &vars,
                    target.headers,
                )
                .body
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|b| b.get(&field).and_then(Value::as_str).map(str::to_string));
                let Some(written) = written else { continue };
                match read_back(&example.steps[read_at], &vars, target).await {
                    Ok((label, r)) if outcome.refused_with(&label, r.status) => {
                        accounted = true;
                        break;
                    }
                    Ok((_, r)) => {
                        let body: Option<Value> = serde_json::from_slice(&r.body).ok();
                        if body.as_ref().is_some_and(|b| contains_string(b, &written)) {
                            chosen = Some((write_at, read_at, field));
                            break;
                        }
                    }
                    Err(_) => continue,
                }
            }
            let Some((write_at, read_at, field)) = chosen else {
                if has_json_write && !accounted {
                    not_checked.push(format!(
                        "{name} (no GET reads back, by a value captured from it, what one of its JSON writes stored)"
                    ));
                }
                continue;
            };
            let Some(Value::Object(body)) = example.steps[write_at].request.json.clone() else {
                continue;
            };
            for (class, payload) in PAYLOADS
                .iter()
                .filter(|(c, _)| ["sql", "script", "shell"].contains(c))
            {
                let mut vars = fresh_vars();
                let value = format!("{payload} {}", vars["unique"]);
                let mut steps = example.steps[..=write_at].to_vec();
                let mut changed = body.clone();
                changed.insert(field.clone(), Value::String(value.clone()));
                steps[write_at].request.json = Some(Value::Object(changed));
                // Only the status is expected of the write: other fields may depend on the value.
                steps[write_at].expect.json.clear();
                let label = format!(
                    "{} {} with {class} payload in `{field}`",
                    steps[write_at].request.method, steps[write_at].request.path
                );
                let written = patiently(&steps, &mut vars, target).await;
                if let Some(bad) = written.iter().find(|s| !s.ok) {
                    if bad
                        .status
                        .is_some_and(|status| outcome.refused_with(&label, status))
                    {
                        continue;
                    }
                    if bad.status.is_some_and(|s| (400..500).contains(&s)) {
                        // Refused cleanly: nothing stored, nothing to read back.
                        continue;
                    }
                    outcome.finding(
                        label,
                        format!(
                            "the write did not go through as the example expects ({}): a payload must be stored as data or refused with a clear 4xx",
                            bad.problem().unwrap_or_default()
                        ),
                    );
                    continue;
                }
                let read = &example.steps[read_at];
                match read_back(read, &vars, target).await {
                    Ok((_, r))
                        if outcome.refused_with(&format!("{label}, read back"), r.status) => {}
                    Ok((_, r)) => {
                        outcome.probed += 1;
                        let body: Option<Value> = serde_json::from_slice(&r.body).ok();
                        if !body.as_ref().is_some_and(|b| contains_string(b, &value)) {
                            outcome.finding(
                                format!("{label}, read back with GET {}", read.request.path),
                                format!(
                                    "the stored value did not come back verbatim: wrote {value:?}, read {}",
                                    String::from_utf8_lossy(&r.body).chars().take(200).collect::<String>()
                                ),
                            );
                        }
                    }
                    Err(e) => {
                        outcome.finding(format!("{label}, read back"), format!("no answer: {e}"))
                    }
                }
            }
        }
    }
    if !not_checked.is_empty() {
        outcome.notes.push(format!(
            "round trip not checked for {}",
            not_checked.join(", ")
        ));
    }
    outcome
}

/// Send an example's read step with the values `vars` holds, as `target`'s user: its label
/// (`GET /projects/p_1`) and the answer. An unknown value is an error.
async fn read_back(
    step: &sdd_spec::document::ExampleStep,
    vars: &BTreeMap<String, String>,
    target: &crate::examples::ServiceClient<'_>,
) -> Result<(String, HttpResponse), String> {
    let request = crate::examples::concrete_request(step, vars, target.headers);
    if !request.unresolved.is_empty() {
        return Err(format!(
            "unknown value(s) {}",
            request.unresolved.join(", ")
        ));
    }
    let label = format!("{} {}", request.method, request.path);
    let sent = HttpRequest {
        method: request.method,
        url: format!("{}{}", target.base_url.trim_end_matches('/'), request.path),
        headers: request.headers,
        body: None,
        timeout: TIMEOUT,
    };
    let answer = http::send(&sent, target.allowed_hosts)
        .await
        .map_err(|e| e.to_string())?;
    Ok((label, answer))
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

    fn endpoint(method: &str, template: &str, path: &str, body: Option<&str>) -> ProbeEndpoint {
        ProbeEndpoint {
            method: method.into(),
            route: Route::new(method, template),
            path: path.into(),
            body: body.map(str::to_string),
            made_up: false,
            headers: Vec::new(),
        }
    }

    /// Payloads go in place of every existing query value, path parameter and JSON field (an
    /// SQL injection through `?status=` once passed: only an extra `q=` was ever sent), and a
    /// request with a body also gets the malformed ones.
    #[test]
    fn injection_reaches_every_existing_input() {
        let labels = |e: &ProbeEndpoint| -> Vec<String> {
            injection_cases(e)
                .into_iter()
                .filter(|c| c.label.contains("with sql payload") || !c.label.contains("payload"))
                .map(|c| format!("{} | {}", c.label, c.path))
                .collect()
        };
        let sql = crate::examples::percent_encode(PAYLOADS[0].1);
        assert_eq!(
            labels(&endpoint("GET", "/tasks", "/tasks?status=pending&limit=20", None)),
            [
                format!("GET /tasks?status=pending&limit=20 with sql payload in query parameter `status` | /tasks?status={sql}&limit=20"),
                format!("GET /tasks?status=pending&limit=20 with sql payload in query parameter `limit` | /tasks?status=pending&limit={sql}"),
            ]
        );
        assert_eq!(
            labels(&endpoint("GET", "/tasks/{id}", "/tasks/42", None)),
            [format!(
                "GET /tasks/42 with sql payload in path parameter `{{id}}` | /tasks/{sql}"
            )]
        );
        assert_eq!(
            labels(&endpoint("GET", "/health", "/health", None)),
            [format!(
                "GET /health with sql payload in the query | /health?q={sql}"
            )]
        );
        let post = endpoint(
            "POST",
            "/tasks/{id}/notes",
            "/tasks/7/notes",
            Some(r#"{"text": "a", "pinned": true}"#),
        );
        let cases = injection_cases(&post);
        let names: Vec<&str> = cases.iter().map(|c| c.label.as_str()).collect();
        for wanted in [
            "POST /tasks/7/notes with sql payload in path parameter `{id}`",
            "POST /tasks/7/notes with sql payload in `text`",
            "POST /tasks/7/notes with sql payload in `pinned`",
            "POST /tasks/7/notes with malformed JSON (cut short)",
            "POST /tasks/7/notes with a JSON array instead of an object",
            "POST /tasks/7/notes with a wrong content type (text/plain)",
            "POST /tasks/7/notes with invalid UTF-8",
            "POST /tasks/7/notes with an oversized body (1 MiB)",
        ] {
            assert!(names.contains(&wanted), "{wanted} not in {names:#?}");
        }
        let utf8 = cases
            .iter()
            .find(|c| c.label.ends_with("invalid UTF-8"))
            .unwrap();
        assert!(std::str::from_utf8(utf8.body.as_deref().unwrap()).is_err());
        let typed = cases
            .iter()
            .find(|c| c.label.contains("content type"))
            .unwrap();
        assert_eq!(typed.content_type, Some("text/plain"));
        let big = cases
            .iter()
            .find(|c| c.label.contains("oversized"))
            .unwrap();
        assert!(big.body.as_ref().unwrap().len() > OVERSIZED_BODY_BYTES);
        // A GET without a body gets no body cases.
        assert!(
            !injection_cases(&endpoint("GET", "/tasks/{id}", "/tasks/1", None))
                .iter()
                .any(|c| c.body.is_some())
        );
    }

    /// Payloads go into values inside objects and arrays (an SQL injection through `meta.tag`
    /// once passed: only top-level fields were replaced) and into the headers the example
    /// sends, never its credentials or content type; a body with very many nested values has
    /// the first ones injected and says how many were left.
    #[test]
    fn injection_reaches_nested_fields_and_example_headers() {
        let mut post = endpoint(
            "POST",
            "/projects/{pid}/items",
            "/projects/p1/items",
            Some(r#"{"title": "a", "meta": {"tag": "red", "labels": ["x", {"k": 1}]}}"#),
        );
        post.headers = example_headers(&BTreeMap::from([
            ("X-Team-Tag".to_string(), "core".to_string()),
            ("Authorization".to_string(), "Bearer t".to_string()),
            ("content-type".to_string(), "application/json".to_string()),
        ]));
        assert_eq!(
            post.headers,
            [("X-Team-Tag".to_string(), "core".to_string())]
        );
        let cases = injection_cases(&post);
        let sql: Vec<&InjectionCase> = cases
            .iter()
            .filter(|c| c.label.contains("with sql payload"))
            .collect();
        let names: Vec<&str> = sql.iter().map(|c| c.label.as_str()).collect();
        let payload = PAYLOADS[0].1;
        for (wanted, body) in [
            (
                "`meta.tag`",
                serde_json::json!({"title": "a", "meta": {"tag": payload, "labels": ["x", {"k": 1}]}}),
            ),
            (
                "`meta.labels[0]`",
                serde_json::json!({"title": "a", "meta": {"tag": "red", "labels": [payload, {"k": 1}]}}),
            ),
            (
                "`meta.labels[1].k`",
                serde_json::json!({"title": "a", "meta": {"tag": "red", "labels": ["x", {"k": payload}]}}),
            ),
        ] {
            let label = format!("POST /projects/p1/items with sql payload in {wanted}");
            let case = sql
                .iter()
                .find(|c| c.label == label)
                .unwrap_or_else(|| panic!("{label} not in {names:#?}"));
            let sent: Value = serde_json::from_slice(case.body.as_deref().unwrap()).unwrap();
            assert_eq!(sent, body, "{label}");
        }
        let header = sql
            .iter()
            .find(|c| c.label.ends_with("in header `X-Team-Tag`"))
            .unwrap_or_else(|| panic!("no header case in {names:#?}"));
        assert_eq!(
            header.header,
            Some(("X-Team-Tag".to_string(), payload.to_string()))
        );
        assert!(!names.iter().any(|n| n.contains("Authorization")));
        assert_eq!(nested_fields_left_out(&post), 0);
        let many: serde_json::Map<String, Value> =
            (0..20).map(|i| (format!("f{i}"), Value::from(i))).collect();
        let wide = endpoint(
            "POST",
            "/x",
            "/x",
            Some(&serde_json::json!({"outer": many}).to_string()),
        );
        assert_eq!(nested_fields_left_out(&wide), 20 - MAX_NESTED_FIELDS);
        assert_eq!(
            injection_cases(&wide)
                .iter()
                .filter(|c| c.label.contains("with sql payload in `outer."))
                .count(),
            MAX_NESTED_FIELDS
        );
    }

    /// The round trip reads back the object its payload went into: a `GET` by a value the
    /// write captured, not one that also needs a later write's value (that reads another
    /// object: the false "did not come back verbatim" of the hostile review).
    #[test]
    fn read_backs_use_the_writes_own_capture() {
        let example: sdd_spec::document::ExampleDoc = serde_yaml::from_str(
            r#"
steps:
  - request: {method: POST, path: /projects, json: {name: "P ${unique}"}}
    capture: {pid: data.id}
  - request: {method: POST, path: "/projects/${pid}/items", json: {title: "I ${unique}"}}
    capture: {iid: data.id}
  - request: {path: "/projects/${pid}/items/${iid}"}
  - request: {path: "/projects/${pid}"}
"#,
        )
        .unwrap();
        assert_eq!(
            read_backs(&example),
            [(0, 3, "name".to_string()), (1, 2, "title".to_string())]
        );
    }

    /// A trailing slash and another case of the first literal segment: spellings a lenient
    /// router takes for the route while a token check on the exact path does not.
    #[test]
    fn path_variants_change_the_slash_and_the_case() {
        let variants = |template: &str, path: &str| -> Vec<String> {
            path_variants(&endpoint("GET", template, path, None))
                .into_iter()
                .map(|(p, what)| format!("{p} ({what})"))
                .collect()
        };
        assert_eq!(
            variants("/projects", "/projects?after=3"),
            [
                "/projects/?after=3 (a trailing slash added)",
                "/Projects?after=3 (another case)"
            ]
        );
        assert_eq!(
            variants("/{org}/Items/", "/acme/Items/"),
            [
                "/acme/Items (the trailing slash removed)",
                "/acme/items/ (another case)"
            ]
        );
        assert_eq!(variants("/{id}", "/7"), ["/7/ (a trailing slash added)"]);
    }

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

/// The authentication probe against a service whose token check is broken in one way each:
/// every broken check is found by its own variant and named by it, and a sound check passes.
#[cfg(test)]
mod authentication_tests {
    use std::collections::BTreeSet;
    use std::io::{Read, Write};
    use std::net::TcpListener;
    use std::sync::{Arc, Mutex};

    use serde_json::{Map, Value};

    use sdd_http::auth::{sign_hs256, TokenIssuer};

    use super::*;

    const SECRET: &str = "fixture-secret";

    /// How the fake service checks a bearer token.
    #[derive(Clone, Copy)]
    enum Check {
        /// HS256 only, the signature over this payload, `exp` in the future.
        Sound,
        /// Sound, and a token whose header names exactly this algorithm is trusted unsigned
        /// (a library that honours `alg: none`, or a denylist that misses one spelling).
        TrustsAlg(&'static str),
        /// Sound, and a token whose signature it accepted before is taken with whatever payload
        /// it now carries (a verification cache keyed by signature).
        TrustsSeenSignatures,
    }

    fn b64_decode(text: &str) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        let (mut buffer, mut bits) = (0u32, 0u32);
        for c in text.bytes() {
            let value = match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'-' => 62,
                b'_' => 63,
                _ => return None,
            };
            buffer = (buffer << 6) | u32::from(value);
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((buffer >> bits) as u8);
                buffer &= (1 << bits) - 1;
            }
        }
        Some(out)
    }

    fn json_part(part: &str) -> Option<Map<String, Value>> {
        match serde_json::from_slice(&b64_decode(part)?).ok()? {
            Value::Object(map) => Some(map),
            _ => None,
        }
    }

    /// The fake service's verdict on an `Authorization` value.
    fn accepts(check: Check, seen: &Mutex<BTreeSet<String>>, authorization: &str) -> bool {
        let Some(token) = authorization.strip_prefix("Bearer ") else {
            return false;
        };
        let parts: Vec<&str> = token.split('.').collect();
        let [header, payload, signature] = parts[..] else {
            return false;
        };
        let (Some(header), Some(claims)) = (json_part(header), json_part(payload)) else {
            return false;
        };
        let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let fresh = claims
            .get("exp")
            .and_then(Value::as_i64)
            .is_some_and(|exp| exp > now);
        if !fresh {
            return false;
        }
        // Claims serialize back to the same bytes (ordered keys, integers), so re-signing them
        // checks the signature over exactly this payload.
        let sound = alg == "HS256" && sign_hs256(SECRET, &claims) == token;
        if sound {
            seen.lock().unwrap().insert(signature.to_string());
            return true;
        }
        match check {
            Check::Sound => false,
            Check::TrustsAlg(trusted) => alg == trusted,
            Check::TrustsSeenSignatures => seen.lock().unwrap().contains(signature),
        }
    }

    /// A one-connection-at-a-time HTTP service answering 200 to an accepted token and 401
    /// otherwise, on every path; its base URL.
    fn fake_service(check: Check) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let seen = Arc::new(Mutex::new(BTreeSet::new()));
        std::thread::spawn(move || {
            for mut stream in listener.incoming().map_while(Result::ok) {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                let head_end = loop {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break None,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                    if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                        break Some(at + 4);
                    }
                };
                let Some(head_end) = head_end else { continue };
                let head = String::from_utf8_lossy(&request[..head_end]).to_string();
                let header = |name: &str| {
                    head.lines().find_map(|l| {
                        let (n, v) = l.split_once(':')?;
                        n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                    })
                };
                let length: usize = header("content-length")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(0);
                while request.len() < head_end + length {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let ok = header("authorization").is_some_and(|a| accepts(check, &seen, &a));
                let (status, body) = if ok {
                    ("200 OK", r#"{"tasks":[]}"#)
                } else {
                    ("401 Unauthorized", r#"{"error":"unauthorized"}"#)
                };
                let _ = write!(
                    stream,
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        base_url
    }

    fn issuer() -> TokenIssuer {
        let mut claims = Map::new();
        claims.insert("role".into(), Value::from("clerk"));
        TokenIssuer {
            secret: SECRET.into(),
            subject: "sdd".into(),
            claims,
            ttl_seconds: 600,
        }
    }

    /// The authentication probe as `verify` runs it — the probe user `sdd-auth`, whose
    /// requests of the route inventory the service has already answered — against `check`:
    /// the findings' requests.
    async fn probe(check: Check) -> (Vec<String>, ProbeOutcome) {
        let base_url = fake_service(check);
        let allowed = AllowedHosts::loopback_only();
        let credentials = issuer().probe_credentials();
        let headers = vec![("Authorization".to_string(), credentials.user("auth"))];
        let endpoint = |method: &str, path: &str, body: Option<&str>| ProbeEndpoint {
            method: method.into(),
            route: Route::new(method, "/tasks"),
            path: path.into(),
            body: body.map(str::to_string),
            made_up: false,
            headers: Vec::new(),
        };
        let endpoints = vec![
            endpoint("GET", "/tasks?limit=20", None),
            endpoint("POST", "/tasks", Some(r#"{"title": "a"}"#)),
        ];
        // The inventory run: the probe user's own requests, accepted.
        for e in &endpoints {
            let request = HttpRequest {
                method: e.method.clone(),
                url: format!("{base_url}{}", e.path),
                headers: headers.clone(),
                body: e.body.clone().map(String::into_bytes),
                timeout: TIMEOUT,
            };
            assert_eq!(http::send(&request, &allowed).await.unwrap().status, 200);
        }
        let plan = ProbePlan {
            base_url: &base_url,
            headers,
            allowed_hosts: &allowed,
            inventory: Inventory {
                endpoints,
                ..Inventory::default()
            },
            credentials: Some(credentials),
        };
        let outcome = authentication(&plan, &[]).await;
        let requests = outcome.findings.iter().map(|f| f.request.clone()).collect();
        (requests, outcome)
    }

    #[tokio::test]
    async fn a_sound_token_check_refuses_every_variant() {
        let (findings, outcome) = probe(Check::Sound).await;
        assert!(findings.is_empty(), "{findings:#?}");
        assert!(outcome.refused.is_empty(), "{outcome:#?}");
        // Seven variants on two routes, each refused with 401, and two other spellings of each
        // path without a token, refused too.
        assert_eq!(outcome.probed, 18, "{outcome:#?}");
        assert_eq!(outcome.routes_probed.len(), 2);
    }

    /// Regression: the probe never sent `alg: none`, so a service that trusts unsigned tokens
    /// passed "All endpoints require valid JWT token".
    #[tokio::test]
    async fn a_service_that_trusts_alg_none_is_found() {
        let (findings, outcome) = probe(Check::TrustsAlg("none")).await;
        assert_eq!(
            findings,
            [
                "GET /tasks?limit=20 with an unsigned JWT (alg none)",
                "POST /tasks with an unsigned JWT (alg none)",
            ],
            "{outcome:#?}"
        );
        assert_eq!(
            outcome.findings[0].problem,
            "answered 200 instead of refusing it with 401/403"
        );
    }

    /// A denylist that refuses `none` but not `None` is found by the second spelling.
    #[tokio::test]
    async fn a_service_that_trusts_another_spelling_of_none_is_found() {
        let (findings, _) = probe(Check::TrustsAlg("None")).await;
        assert_eq!(
            findings,
            [
                "GET /tasks?limit=20 with an unsigned JWT (alg None)",
                "POST /tasks with an unsigned JWT (alg None)",
            ]
        );
    }

    /// A signature the service verified once, on the probe user's real token, must not vouch
    /// for a payload changed afterwards.
    #[tokio::test]
    async fn a_service_that_trusts_a_seen_signature_over_a_changed_payload_is_found() {
        let (findings, _) = probe(Check::TrustsSeenSignatures).await;
        assert_eq!(
            findings,
            [
                "GET /tasks?limit=20 with a JWT whose payload was changed after signing (role admin)",
                "POST /tasks with a JWT whose payload was changed after signing (role admin)",
            ]
        );
    }

    /// Without a JWT of its own (an API key, no `auth.jwt`) there is nothing to unsign or
    /// tamper with: those variants are not sent, rather than sent with made-up claims.
    #[test]
    fn the_own_token_variants_need_a_jwt_to_start_from() {
        let allowed = AllowedHosts::loopback_only();
        let plan = |headers: Vec<(String, String)>| ProbePlan {
            base_url: "http://127.0.0.1:9",
            headers,
            allowed_hosts: &allowed,
            inventory: Inventory::default(),
            credentials: None,
        };
        let names = |plan: &ProbePlan<'_>| -> Vec<&'static str> {
            authentication_variants(plan)
                .into_iter()
                .map(|(what, _)| what)
                .collect()
        };
        let api_key = plan(vec![("X-Api-Key".into(), "k".into())]);
        assert_eq!(
            names(&api_key),
            [
                "without a token",
                "with a malformed token",
                "with a forged-signature JWT"
            ]
        );
        // A JWT `service.headers` sets is used as it is.
        let static_jwt = plan(vec![("authorization".into(), issuer().own())]);
        assert_eq!(
            names(&static_jwt)[3..],
            [
                "with an unsigned JWT (alg none)",
                "with an unsigned JWT (alg None)",
                "with a JWT whose payload was changed after signing (role admin)",
            ]
        );
    }
}

//! The ownership probe ("users can only access their own tasks"): one user creates objects
//! through the spec's examples; a second user then sends the examples' later requests on those
//! objects (reads, changes, deletes — by a captured value in the path, the query, a header or
//! the body), every declared route with a parameter the examples never use, and the service's
//! list requests, every page of them.
//!
//! A refusal proves something only when two controls hold:
//! - the second user is served the same request on *its own* object (run first: otherwise a
//!   service that refuses that user everywhere would pass);
//! - the owner is served it afterwards (otherwise the object was gone and a 404 shows nothing).
//!
//! A list counts only when the owner's own copy of it shows the owner's objects; a list whose
//! further pages could not be read leaves its route unreached.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use sdd_http::{self as http, HttpRequest};
use sdd_spec::document::{ExampleDoc, ExampleStep};
use sdd_spec::model::Spec;
use sdd_spec::project::LoadConfig;
use sdd_spec::routes::{DeclaredRoutes, Route};

use crate::examples::{
    concrete_request, example_name, fresh_vars, percent_encode, run_steps, ServiceClient,
    StepResult,
};
use crate::pagination::{next_page, NextPage};
use crate::probes::{Finding, ProbeOutcome};

const TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// Pages read of one list, per user.
const MAX_PAGES: usize = 20;

/// Requests with the owner's value for one capture and the other user's own for the rest, per
/// step.
const MAX_MIXED_VARIANTS: usize = 4;

/// Declared routes no example uses that the probe tries (each costs two objects).
const MAX_DECLARED_TRIED: usize = 40;

pub struct OwnershipOutcome {
    /// Objects the owner created.
    pub created: usize,
    /// What the other user tried on them: `read`, `changed`, `deleted`, `listed`.
    pub acts: BTreeSet<&'static str>,
    pub probe: ProbeOutcome,
}

/// One example that creates an object: its steps up to and including the creating write.
struct Creator<'s> {
    scenario: &'s str,
    example: &'s ExampleDoc,
    number: usize,
    create_at: usize,
}

impl Creator<'_> {
    fn create_steps(&self) -> &[ExampleStep] {
        &self.example.steps[..=self.create_at]
    }

    fn name(&self) -> String {
        format!(
            "{} of `{}`",
            example_name(self.example, self.number),
            self.scenario
        )
    }

    /// The route the object was created on (`POST /tasks`).
    fn route(&self) -> Route {
        let step = &self.example.steps[self.create_at];
        Route::new(&step.request.method, &step.request.path)
    }

    /// Run the creating steps as `client`: the values captured, or the step that failed.
    async fn create(
        &self,
        client: &ServiceClient<'_>,
    ) -> Result<BTreeMap<String, String>, StepResult> {
        let mut vars = fresh_vars();
        let run = run_steps(self.create_steps(), &mut vars, client).await;
        match run.into_iter().find(|s| !s.ok) {
            Some(bad) => Err(bad),
            None => Ok(vars),
        }
    }
}

fn creators(spec: &Spec) -> Vec<Creator<'_>> {
    let mut found = Vec::new();
    // Approved and keeping its ID: a duplicate's examples would be told under the
    // first's ID.
    for scenario in spec.approved_scenarios() {
        for (n, example) in scenario.examples.iter().enumerate() {
            // The first write that captures something creates the object.
            if let Some(create_at) = example.steps.iter().position(|s| {
                let method = s.request.method.to_ascii_uppercase();
                method != "GET" && method != "HEAD" && !s.capture.is_empty()
            }) {
                found.push(Creator {
                    scenario: &scenario.id,
                    example,
                    number: n + 1,
                    create_at,
                });
            }
        }
    }
    found
}

/// Whether a step uses one of the captured names anywhere it sends: path and query, headers,
/// JSON or text body (`POST /tasks/archive {"id": "${id}"}` names its object in the body).
fn uses_capture(step: &ExampleStep, captured: &BTreeSet<String>) -> bool {
    let request = &step.request;
    let body = request
        .json
        .as_ref()
        .map(Value::to_string)
        .or_else(|| request.body.clone())
        .unwrap_or_default();
    captured.iter().any(|name| {
        let mark = format!("${{{name}}}");
        request.path.contains(&mark)
            || body.contains(&mark)
            || request.headers.values().any(|v| v.contains(&mark))
    })
}

/// Health and metrics routes list nothing a user owns.
fn infrastructure(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    ["health", "metrics", "ready", "live"]
        .iter()
        .any(|w| lower.contains(w))
}

fn is_read(method: &str) -> bool {
    method.eq_ignore_ascii_case("GET") || method.eq_ignore_ascii_case("HEAD")
}

fn act_of(method: &str) -> &'static str {
    match method.to_ascii_uppercase().as_str() {
        "GET" | "HEAD" => "read",
        "DELETE" => "deleted",
        _ => "changed",
    }
}

/// The other user's answer to a request on the owner's object.
enum Attempt {
    /// 2xx/3xx: the object was read or changed.
    Served(u16),
    /// A 4xx other than 401/429: refused (proof once the controls hold).
    Refused,
    /// 401 or 429: the request showed nothing.
    Unusable(u16),
    Failed(String),
}

async fn attempt(
    client: &ServiceClient<'_>,
    method: &str,
    path: &str,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
) -> Attempt {
    let sent = HttpRequest {
        method: method.to_string(),
        url: format!("{}{}", client.base_url.trim_end_matches('/'), path),
        headers,
        body,
        timeout: TIMEOUT,
    };
    match http::send(&sent, client.allowed_hosts).await {
        Ok(r) if r.status == 401 || r.status == 429 => Attempt::Unusable(r.status),
        Ok(r) if (400..500).contains(&r.status) => Attempt::Refused,
        Ok(r) if r.status < 400 => Attempt::Served(r.status),
        Ok(r) => Attempt::Failed(format!("answered {}", r.status)),
        Err(e) => Attempt::Failed(format!("no answer: {e}")),
    }
}

/// What the constraint restricts.
#[derive(Debug, Clone, Copy)]
pub struct Rule<'a> {
    /// What is owned, as written (`tasks`), or `resources` for anything.
    pub resource: &'a str,
    /// Only changes are restricted: reads and lists are left alone.
    pub writes_only: bool,
}

impl Rule<'_> {
    /// Whether a declared route is about what the rule names (`/tasks/{id}` for `tasks`).
    fn about(&self, route: &Route) -> bool {
        let resource = self.resource.to_ascii_lowercase();
        if resource == "resources" || resource == "resource" {
            return true;
        }
        let stem = resource.trim_end_matches('s');
        route.path.to_ascii_lowercase().contains(stem)
    }
}

/// Run the probe: `owner` creates, `intruder` tries.
pub async fn probe(
    spec: &Spec,
    load: &LoadConfig,
    declared: &DeclaredRoutes,
    owner: &ServiceClient<'_>,
    intruder: &ServiceClient<'_>,
    rule: Rule<'_>,
) -> OwnershipOutcome {
    let mut state = State::default();
    // Only what the rule is about: "their own projects" is not probed on comments, which
    // another rule may leave readable by all.
    let creators: Vec<Creator<'_>> = creators(spec)
        .into_iter()
        .filter(|c| rule.about(&c.route()))
        .collect();
    for creator in &creators {
        state
            .example(creator, owner, intruder, rule.writes_only)
            .await;
    }
    state
        .declared_routes(spec, declared, &creators, owner, intruder, rule)
        .await;
    let writes_only = rule.writes_only;
    if !writes_only && !state.owned.is_empty() {
        state.lists(load, spec, declared, owner, intruder).await;
    }
    let mut outcome = state.outcome;
    // A route refused for real in one example is reached, whatever another example showed.
    let probed = outcome.routes_probed.clone();
    outcome.unreached.retain(|route, _| !probed.contains(route));
    OwnershipOutcome {
        created: state.created,
        acts: state.acts,
        probe: outcome,
    }
}

/// Where one later step of a creating example stands.
struct StepContext<'c, 's> {
    creator: &'c Creator<'s>,
    index: usize,
    /// The other user's own run was served up to (not including) this step.
    served_upto: usize,
    own_run: &'c [StepResult],
    /// The step names the owner's object by a captured value.
    names_object: bool,
    /// The names captured so far.
    captured: &'c BTreeSet<String>,
    /// The values the other user's own run captured (its own objects).
    theirs: &'c BTreeMap<String, String>,
}

/// One mark of the owner's objects.
struct Owned {
    /// The capture path (`data.id`) whose value marks an object, or `None` for a run's
    /// `${unique}`, which marks any string that contains it.
    field: Option<String>,
    value: String,
    scenario: String,
}

impl Owned {
    fn in_answer(&self, body: &Value) -> bool {
        match &self.field {
            Some(field) => lists_object(body, field, &self.value),
            None => lists_text(body, &self.value),
        }
    }

    fn describe(&self) -> String {
        match &self.field {
            Some(field) => format!("`{field}` = {}", self.value),
            None => format!("named with its run's `${{unique}}` {}", self.value),
        }
    }
}

#[derive(Default)]
struct State {
    outcome: ProbeOutcome,
    created: usize,
    acts: BTreeSet<&'static str>,
    /// What marks the owner's objects in an answer: every value its examples captured, and the
    /// `${unique}` of each of its example runs (in the names it gave what it created).
    owned: Vec<Owned>,
    /// Routes the examples' later steps covered (tried, or left unreached with a reason).
    covered: BTreeSet<Route>,
    /// A route the other user was refused on, waiting for the owner's own request to count.
    pending: Option<Route>,
}

impl State {
    fn unreached(&mut self, route: Route, why: String) {
        self.outcome.unreached.entry(route).or_insert(why);
    }

    fn finding(&mut self, request: String, problem: String) {
        self.outcome.findings.push(Finding { request, problem });
    }

    /// One creating example, step by step after the creating write: the other user sends each
    /// step that names the owner's object (by any value captured so far: path, query, headers,
    /// body) or reads a list, then the owner sends it — the owner being served afterwards shows
    /// the other user's refusal meant something. The other user first runs the whole example on
    /// its own objects: a step it is not served there proves nothing when refused here.
    async fn example(
        &mut self,
        creator: &Creator<'_>,
        owner: &ServiceClient<'_>,
        intruder: &ServiceClient<'_>,
        writes_only: bool,
    ) {
        let steps = &creator.example.steps;
        // The control: how far the other user gets with the example on its own objects.
        let mut theirs = fresh_vars();
        let own_run = run_steps(steps, &mut theirs, intruder).await;
        let served_upto = own_run.iter().position(|s| !s.ok).unwrap_or(steps.len());
        if served_upto <= creator.create_at {
            let bad = &own_run[served_upto];
            match bad.status {
                Some(status @ (401 | 403 | 429)) => self.outcome.refused.push(format!(
                    "{} as the other user, creating its own object ({}), answered {status}: its refusals on another's objects would show nothing",
                    bad.request,
                    creator.name()
                )),
                _ => {
                    let why = bad.problem().unwrap_or_default();
                    for step in &steps[creator.create_at + 1..] {
                        let route = Route::new(&step.request.method, &step.request.path);
                        self.covered.insert(route.clone());
                        self.unreached(
                            route,
                            format!(
                                "the other user could not create its own object with {} ({why})",
                                creator.name()
                            ),
                        );
                    }
                }
            }
            return;
        }
        let mut vars = match creator.create(owner).await {
            Ok(vars) => vars,
            Err(bad) => {
                if let Some(status) = bad.status {
                    self.outcome
                        .refused
                        .push(format!("{} answered {status}", bad.request));
                }
                return;
            }
        };
        self.created += 1;
        if let Some(unique) = vars.get("unique") {
            self.owned.push(Owned {
                field: None,
                value: unique.clone(),
                scenario: creator.scenario.to_string(),
            });
        }
        let mut captured_paths: BTreeMap<String, String> = BTreeMap::new();
        for step in &steps[..=creator.create_at] {
            captured_paths.extend(step.capture.clone());
        }
        self.own_captures(&vars, &captured_paths, creator);
        for index in creator.create_at + 1..steps.len() {
            let step = &steps[index];
            let route = Route::new(&step.request.method, &step.request.path);
            let captured: BTreeSet<String> = captured_paths
                .keys()
                .filter(|name| vars.contains_key(*name))
                .cloned()
                .collect();
            let names_object = uses_capture(step, &captured);
            let reads = is_read(&step.request.method);
            // Only reads of a list can show another's objects without naming them (a search).
            let relevant = (names_object || reads) && !(writes_only && reads);
            if relevant {
                self.covered.insert(route.clone());
                let context = StepContext {
                    creator,
                    index,
                    served_upto,
                    own_run: &own_run,
                    names_object,
                    captured: &captured,
                    theirs: &theirs,
                };
                if !self
                    .attempt_step(&context, step, &vars, owner, intruder)
                    .await
                {
                    return;
                }
            }
            // The owner's own step: it moves the example on (and captures what later steps use).
            let done = crate::examples::run_step(step, &mut vars, owner).await;
            captured_paths.extend(step.capture.clone());
            self.own_captures(&vars, &step.capture, creator);
            if let Some(pending) = self.pending.take() {
                if done.ok {
                    self.outcome.probed += 1;
                    self.outcome.routes_probed.insert(pending);
                } else {
                    self.unreached(
                        pending,
                        format!(
                            "the owner's own `{}` failed too ({}), so the other user's refusal shows nothing",
                            done.request,
                            done.problem().unwrap_or_default()
                        ),
                    );
                }
            }
            if !done.ok {
                // The rest of the example cannot be sent as written: say which routes that leaves.
                let why = format!(
                    "the owner's own run of {} failed at `{}` ({}) before this step",
                    creator.name(),
                    done.request,
                    done.problem().unwrap_or_default()
                );
                let names: BTreeSet<String> = captured_paths.keys().cloned().collect();
                for later in &steps[index + 1..] {
                    if uses_capture(later, &names) || is_read(&later.request.method) {
                        let route = Route::new(&later.request.method, &later.request.path);
                        self.covered.insert(route.clone());
                        self.unreached(route, why.clone());
                    }
                }
                return;
            }
        }
    }

    /// The marks of what the owner just captured.
    fn own_captures(
        &mut self,
        vars: &BTreeMap<String, String>,
        captures: &BTreeMap<String, String>,
        creator: &Creator<'_>,
    ) {
        for (name, path) in captures {
            if let Some(value) = vars.get(name) {
                self.owned.push(Owned {
                    field: Some(path.clone()),
                    value: value.clone(),
                    scenario: creator.scenario.to_string(),
                });
            }
        }
    }

    /// The other user sends one later step with the owner's values. Returns `false` when the
    /// example cannot go on. A refusal waits in `pending` for the owner's own step.
    async fn attempt_step(
        &mut self,
        context: &StepContext<'_, '_>,
        step: &ExampleStep,
        vars: &BTreeMap<String, String>,
        owner: &ServiceClient<'_>,
        intruder: &ServiceClient<'_>,
    ) -> bool {
        let creator = context.creator;
        let route = Route::new(&step.request.method, &step.request.path);
        let request = concrete_request(step, vars, intruder.headers);
        if !request.unresolved.is_empty() {
            self.unreached(
                route,
                format!(
                    "in {} it needs {}, which the owner's run did not capture",
                    creator.name(),
                    crate::examples::as_written(&request.unresolved)
                ),
            );
            return true;
        }
        let label = format!(
            "{} {} as another user ({})",
            request.method,
            request.path,
            creator.name()
        );
        if is_read(&request.method) {
            // A list (a search, a filtered list) is judged by what it holds, not its status.
            match read_pages(intruder, owner, &request.path).await {
                Pages::Read { pages, more } => {
                    if let Some(mark) = self
                        .owned
                        .iter()
                        .find(|o| pages.iter().any(|page| o.in_answer(page)))
                    {
                        let problem = format!(
                            "lists an object another user created ({}, from `{}`)",
                            mark.describe(),
                            mark.scenario
                        );
                        self.acts.insert("listed");
                        self.outcome.probed += 1;
                        self.outcome.routes_probed.insert(route);
                        self.finding(label, problem);
                        return true;
                    }
                    if !context.names_object {
                        self.list_control(route, &request.path, more, owner).await;
                        return true;
                    }
                }
                Pages::Refused(status) if !context.names_object => {
                    self.outcome.refused.push(format!(
                        "{label} answered {status}: a user must be served its own list before its list can show anything"
                    ));
                    return true;
                }
                _ if !context.names_object => return true,
                _ => {}
            }
        }
        // A step expecting an error (409 "already completed") is refused for the owner too:
        // another user's refusal of it cannot be told from that.
        if let Some(expected) = step.expect.status.filter(|s| *s >= 400) {
            self.unreached(
                route,
                format!(
                    "in {} it is expected to answer {expected}, which another user's refusal cannot be told from",
                    creator.name()
                ),
            );
            return true;
        }
        if context.index >= context.served_upto {
            let why = context
                .own_run
                .get(context.served_upto)
                .map(|bad| format!("`{}` ({})", bad.request, bad.problem().unwrap_or_default()))
                .unwrap_or_default();
            self.unreached(
                route,
                format!(
                    "the other user's own run of {} failed at {why}, so its refusal on another's object would show nothing",
                    creator.name()
                ),
            );
            return true;
        }
        // With several captured values in the request, one may be the owner's object and another
        // the other user's own (moving the owner's item into one's own project): try all the
        // owner's values, then each of them alone among the other user's own.
        let mut variants = vec![(request, label)];
        let used: Vec<&String> = context
            .captured
            .iter()
            .filter(|name| uses_capture(step, &BTreeSet::from([(*name).clone()])))
            .collect();
        if used.len() > 1 {
            for mine in used.iter().take(MAX_MIXED_VARIANTS) {
                let mut mixed = vars.clone();
                for other in used.iter().filter(|n| *n != mine) {
                    if let Some(value) = context.theirs.get(*other) {
                        mixed.insert((*other).clone(), value.clone());
                    }
                }
                let request = concrete_request(step, &mixed, intruder.headers);
                if request.unresolved.is_empty() {
                    let label = format!(
                        "{} {} as another user, with the owner's `{mine}` and its own other values ({})",
                        request.method,
                        request.path,
                        creator.name()
                    );
                    variants.push((request, label));
                }
            }
        }
        let mut refused = false;
        for (request, label) in variants {
            match attempt(
                owner,
                &request.method,
                &request.path,
                request.headers,
                request.body,
            )
            .await
            {
                Attempt::Unusable(status) => {
                    self.outcome
                        .refused
                        .push(format!("{label} answered {status}"));
                    return true;
                }
                Attempt::Refused => {
                    self.acts.insert(act_of(&request.method));
                    refused = true;
                }
                Attempt::Served(status) => {
                    self.acts.insert(act_of(&request.method));
                    self.outcome.probed += 1;
                    self.outcome.routes_probed.insert(route);
                    self.finding(
                        label,
                        format!(
                            "answered {status}: another user's object was {}",
                            act_of(&request.method)
                        ),
                    );
                    // After a change the owner's next steps may fail on what the other user
                    // did: the finding stands, the rest of the example is not needed.
                    return act_of(&request.method) == "read";
                }
                Attempt::Failed(why) => {
                    self.finding(label, why);
                    return true;
                }
            }
        }
        if refused {
            self.pending = Some(route);
        }
        true
    }

    /// A list the other user was served without the owner's objects: it counts when the
    /// owner's own copy shows them; with pages left unread it is a gap.
    async fn list_control(
        &mut self,
        route: Route,
        path: &str,
        their_more: Option<String>,
        owner: &ServiceClient<'_>,
    ) {
        let Pages::Read { pages, more } = read_pages(owner, owner, path).await else {
            return;
        };
        let shown = self
            .owned
            .iter()
            .any(|o| pages.iter().any(|page| o.in_answer(page)));
        match (shown, their_more.or(more)) {
            (_, Some(why)) => self.unreached(route, format!("not every page was read ({why})")),
            (true, None) => {
                self.acts.insert("listed");
                self.outcome.probed += 1;
                self.outcome.routes_probed.insert(route);
            }
            // Not a list of these objects for their owner either: neither checked nor a gap.
            (false, None) => {}
        }
    }

    /// Declared routes with a path parameter that no example's later step tried (an OpenAPI
    /// `DELETE /tasks/{id}` no scenario uses): tried on a fresh object of a creator whose
    /// route they extend, with both controls; otherwise reported as not reached.
    async fn declared_routes(
        &mut self,
        spec: &Spec,
        declared: &DeclaredRoutes,
        creators: &[Creator<'_>],
        owner: &ServiceClient<'_>,
        intruder: &ServiceClient<'_>,
        rule: Rule<'_>,
    ) {
        // The routes objects are created on (and the steps before) are not requests on an
        // object someone owns.
        let creating: Vec<Route> = creators
            .iter()
            .flat_map(|c| c.create_steps())
            .map(|s| Route::new(&s.request.method, &s.request.path))
            .collect();
        let candidates: Vec<&Route> = declared
            .routes
            .keys()
            .filter(|r| !r.parameter_segments().is_empty() && !infrastructure(&r.path))
            .filter(|r| !(rule.writes_only && is_read(&r.method)) && rule.about(r))
            .filter(|r| !self.covered.iter().chain(&creating).any(|c| c.matches(r)))
            .collect();
        for (n, route) in candidates.into_iter().enumerate() {
            if n >= MAX_DECLARED_TRIED {
                self.unreached(
                    route.clone(),
                    format!("not tried: the probe tries at most {MAX_DECLARED_TRIED} routes that no example uses"),
                );
                continue;
            }
            let Some((creator, name)) =
                creators.iter().find_map(|c| fits(route, c).map(|n| (c, n)))
            else {
                self.unreached(
                    route.clone(),
                    "no example creates an object whose captured value fits its parameter".into(),
                );
                continue;
            };
            self.declared_route(spec, route, creator, &name, owner, intruder)
                .await;
        }
    }

    async fn declared_route(
        &mut self,
        spec: &Spec,
        route: &Route,
        creator: &Creator<'_>,
        capture: &str,
        owner: &ServiceClient<'_>,
        intruder: &ServiceClient<'_>,
    ) {
        let body = example_body(spec, route);
        let send = |client: &ServiceClient<'_>, vars: &BTreeMap<String, String>| {
            let path = vars
                .get(capture)
                .map(|v| route.with_parameters(&percent_encode(v)))
                .unwrap_or_default();
            let mut headers: Vec<(String, String)> = client
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if body.is_some() {
                headers.push(("Content-Type".into(), "application/json".into()));
            }
            (path, headers, body.clone().map(String::into_bytes))
        };
        // The control: the other user on its own fresh object.
        let theirs = match creator.create(intruder).await {
            Ok(vars) => vars,
            Err(bad) => {
                self.unreached(
                    route.clone(),
                    format!(
                        "the other user could not create its own object with {} ({})",
                        creator.name(),
                        bad.problem().unwrap_or_default()
                    ),
                );
                return;
            }
        };
        let (path, headers, sent) = send(intruder, &theirs);
        match attempt(intruder, &route.method, &path, headers, sent).await {
            Attempt::Served(_) => {}
            Attempt::Unusable(status) => {
                self.outcome.refused.push(format!(
                    "{} {path} as the other user, on its own object, answered {status}",
                    route.method
                ));
                return;
            }
            Attempt::Refused | Attempt::Failed(_) => {
                self.unreached(
                    route.clone(),
                    format!(
                        "the other user's `{} {path}` on its own object was not served{}",
                        route.method,
                        if body.as_deref() == Some("{}") {
                            " (sent with an empty JSON body: no example shows its body)"
                        } else {
                            ""
                        }
                    ),
                );
                return;
            }
        }
        let Ok(mine) = creator.create(owner).await else {
            self.unreached(
                route.clone(),
                format!(
                    "the owner could not create an object with {}",
                    creator.name()
                ),
            );
            return;
        };
        self.created += 1;
        let (path, _, sent) = send(owner, &mine);
        let (_, headers, _) = send(intruder, &mine);
        let label = format!(
            "{} {path} as another user (a declared route no example uses)",
            route.method
        );
        self.acts.insert(act_of(&route.method));
        match attempt(owner, &route.method, &path, headers, sent.clone()).await {
            Attempt::Served(status) => {
                self.outcome.probed += 1;
                self.outcome.routes_probed.insert(route.clone());
                self.finding(
                    label,
                    format!(
                        "answered {status}: another user's object was {}",
                        act_of(&route.method)
                    ),
                );
            }
            Attempt::Unusable(status) => self
                .outcome
                .refused
                .push(format!("{label} answered {status}")),
            Attempt::Failed(why) => self.finding(label, why),
            Attempt::Refused => {
                let (_, headers, _) = send(owner, &mine);
                match attempt(owner, &route.method, &path, headers, sent).await {
                    Attempt::Served(_) => {
                        self.outcome.probed += 1;
                        self.outcome.routes_probed.insert(route.clone());
                    }
                    _ => self.unreached(
                        route.clone(),
                        format!(
                            "the owner's own `{} {path}` was not served either, so the other user's refusal shows nothing",
                            route.method
                        ),
                    ),
                }
            }
        }
    }

    /// Every list (a `GET` with no path parameter: `load.endpoints`, the examples' steps, the
    /// declared routes), every page of it, read by both users. The other user's pages must
    /// hold none of the owner's objects; the owner's must show them, or the list shows nothing.
    async fn lists(
        &mut self,
        load: &LoadConfig,
        spec: &Spec,
        declared: &DeclaredRoutes,
        owner: &ServiceClient<'_>,
        intruder: &ServiceClient<'_>,
    ) {
        let mut paths: Vec<String> = load
            .endpoints
            .values()
            .flatten()
            .filter(|e| is_read(&e.method) && !e.path.contains('{'))
            .map(|e| e.path.clone())
            .collect();
        for scenario in &spec.scenarios {
            for example in &scenario.examples {
                for step in &example.steps {
                    if is_read(&step.request.method) && !step.request.path.contains("${") {
                        paths.push(step.request.path.clone());
                    }
                }
            }
        }
        paths.extend(
            declared
                .routes
                .keys()
                .filter(|r| is_read(&r.method) && r.parameter_segments().is_empty())
                .map(|r| r.path.clone()),
        );
        paths.sort();
        paths.dedup();
        // Per route: whether any of its lists showed the owner its objects, and the pages not read.
        let mut showed: BTreeMap<Route, bool> = BTreeMap::new();
        let mut unread: BTreeMap<Route, String> = BTreeMap::new();
        for path in paths.iter().filter(|p| !infrastructure(p)) {
            let route = Route::new("GET", path);
            let label = format!("GET {path} as another user");
            let theirs = read_pages(intruder, owner, path).await;
            let their_pages = match theirs {
                Pages::Read { pages, more } => {
                    if let Some(why) = more {
                        unread.entry(route.clone()).or_insert(why);
                    }
                    pages
                }
                Pages::Refused(status) => {
                    self.outcome.refused.push(format!(
                        "{label} answered {status}: a user must be served its own list before its list can show anything"
                    ));
                    continue;
                }
                Pages::NotAList => continue,
                Pages::Failed(why) => {
                    self.finding(label, why);
                    continue;
                }
            };
            if let Some(mark) = self
                .owned
                .iter()
                .find(|o| their_pages.iter().any(|page| o.in_answer(page)))
            {
                let problem = format!(
                    "lists an object another user created ({}, from `{}`)",
                    mark.describe(),
                    mark.scenario
                );
                self.outcome.probed += 1;
                self.outcome.routes_probed.insert(route.clone());
                self.acts.insert("listed");
                self.finding(label, problem);
                continue;
            }
            // The owner's own copy of the list must show the owner's objects.
            if let Pages::Read { pages, more } = read_pages(owner, owner, path).await {
                let shown = self
                    .owned
                    .iter()
                    .any(|o| pages.iter().any(|page| o.in_answer(page)));
                if shown {
                    self.outcome.probed += 1;
                    *showed.entry(route.clone()).or_default() = true;
                } else {
                    showed.entry(route.clone()).or_default();
                    if let Some(why) = more {
                        unread.entry(route.clone()).or_insert(why);
                    }
                }
            }
        }
        for (route, shown) in showed {
            match unread.remove(&route) {
                // Unread pages of the other user's copy may hold what the read ones did not.
                Some(why) => self.unreached(route, format!("not every page was read ({why})")),
                None if shown => {
                    self.acts.insert("listed");
                    self.outcome.routes_probed.insert(route);
                }
                // A list that does not list these objects for their owner either is not one
                // the rule is about (`/tags`, `/stats`): neither checked nor a gap.
                None => {}
            }
        }
    }
}

/// The name of the value `creator` captures that fits `route`'s one parameter, when `route`
/// extends the route the object was created on (`POST /tasks` → `DELETE /tasks/{id}`,
/// `POST /tasks/{id}/archive`).
fn fits(route: &Route, creator: &Creator<'_>) -> Option<String> {
    let parameters = route.parameter_segments();
    let [at] = parameters[..] else {
        return None;
    };
    let created_on = creator.route();
    let prefix: Vec<&str> = created_on
        .path
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let segments: Vec<&str> = route.path.split('/').filter(|s| !s.is_empty()).collect();
    if at != prefix.len() || segments[..at] != prefix[..] {
        return None;
    }
    let parameter = segments[at].trim_matches(|c| c == '{' || c == '}');
    let captures = &creator.example.steps[creator.create_at].capture;
    captures
        .keys()
        .find(|name| name.as_str() == parameter)
        .or_else(|| captures.keys().find(|name| name.as_str() == "id"))
        .or_else(|| captures.keys().find(|name| name.ends_with("id")))
        .or_else(|| captures.keys().next())
        .cloned()
}

/// A JSON body for a route no creating example uses: one an example sends to it, else `{}`
/// for methods that carry a body.
fn example_body(spec: &Spec, route: &Route) -> Option<String> {
    let from_example = spec
        .scenarios
        .iter()
        .flat_map(|s| &s.examples)
        .flat_map(|e| &e.steps)
        .filter(|s| route.matches(&Route::new(&s.request.method, &s.request.path)))
        .find_map(|s| s.request.json.as_ref().map(Value::to_string));
    from_example.or_else(|| {
        matches!(route.method.as_str(), "POST" | "PUT" | "PATCH").then(|| "{}".to_string())
    })
}

enum Pages {
    /// The pages read, and why further ones were not.
    Read {
        pages: Vec<Value>,
        more: Option<String>,
    },
    /// The first page was refused (401, 403, 429).
    Refused(u16),
    /// Not JSON with an array of objects: not a list.
    NotAList,
    Failed(String),
}

/// Read `path` and its next pages as `client` (on `service`'s base URL and hosts).
async fn read_pages(client: &ServiceClient<'_>, service: &ServiceClient<'_>, path: &str) -> Pages {
    let mut pages = Vec::new();
    let mut current = path.to_string();
    let mut seen = BTreeSet::new();
    loop {
        if pages.len() == MAX_PAGES {
            return Pages::Read {
                pages,
                more: Some(format!("more than {MAX_PAGES} pages")),
            };
        }
        let request = HttpRequest {
            method: "GET".into(),
            url: format!("{}{}", service.base_url.trim_end_matches('/'), current),
            headers: client
                .headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            body: None,
            timeout: TIMEOUT,
        };
        let response = match http::send(&request, service.allowed_hosts).await {
            Ok(r) => r,
            Err(e) => return Pages::Failed(format!("no answer: {e}")),
        };
        if pages.is_empty() && matches!(response.status, 401 | 403 | 429) {
            return Pages::Refused(response.status);
        }
        if response.status >= 500 {
            return Pages::Failed(format!("answered {} on `GET {current}`", response.status));
        }
        let Ok(body) = serde_json::from_slice::<Value>(&response.body) else {
            return if pages.is_empty() {
                Pages::NotAList
            } else {
                Pages::Read {
                    pages,
                    more: Some(format!("`GET {current}` did not answer JSON")),
                }
            };
        };
        if !(200..300).contains(&response.status) || (pages.is_empty() && !holds_objects(&body)) {
            return if pages.is_empty() {
                Pages::NotAList
            } else {
                Pages::Read {
                    pages,
                    more: Some(format!("`GET {current}` answered {}", response.status)),
                }
            };
        }
        let next = next_page(&current, response.header("link"), &body);
        seen.insert(current.clone());
        pages.push(body);
        match next {
            NextPage::Last => return Pages::Read { pages, more: None },
            NextPage::Unfollowable(why) => {
                return Pages::Read {
                    pages,
                    more: Some(why),
                }
            }
            NextPage::Follow(next) if seen.contains(&next) => {
                return Pages::Read { pages, more: None }
            }
            NextPage::Follow(next) => current = next,
        }
    }
}

/// Whether `body` is, or holds, an array (possibly empty) of objects.
fn holds_objects(body: &Value) -> bool {
    match body {
        Value::Array(items) => items.is_empty() || items.iter().any(Value::is_object),
        Value::Object(map) => map
            .values()
            .any(|v| matches!(v, Value::Array(_)) && holds_objects(v)),
        _ => false,
    }
}

/// The last name of a capture path: `data.id` → `id`, `$.items[0].sku` → `sku`.
fn field_name(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    let last = last.split('[').next().unwrap_or(last);
    last.trim_start_matches('$')
}

/// Values this long are unlikely to appear by chance: found under any name.
const DISTINCT_VALUE_LEN: usize = 8;

/// Whether `body` holds, in an array at any depth, an item that carries `value` — under the
/// captured field's name (at any depth of the item, since a list may nest what the create
/// answer had at its top), or under any name when the value is distinctive (a UUID).
fn lists_object(body: &Value, capture_path: &str, value: &str) -> bool {
    let field = field_name(capture_path);
    match body {
        Value::Array(items) => items
            .iter()
            .any(|item| carries(item, field, value) || lists_object(item, capture_path, value)),
        Value::Object(map) => map.values().any(|v| lists_object(v, capture_path, value)),
        _ => false,
    }
}

/// Whether `body` holds, in an array at any depth, an item with a string containing `marker`.
fn lists_text(body: &Value, marker: &str) -> bool {
    fn contains(value: &Value, marker: &str) -> bool {
        match value {
            Value::String(s) => s.contains(marker),
            Value::Array(items) => items.iter().any(|v| contains(v, marker)),
            Value::Object(map) => map.values().any(|v| contains(v, marker)),
            _ => false,
        }
    }
    match body {
        Value::Array(items) => items.iter().any(|item| contains(item, marker)),
        Value::Object(map) => map.values().any(|v| lists_text(v, marker)),
        _ => false,
    }
}

/// Whether `item` carries `value` under `field` (at any depth), or anywhere when distinctive.
fn carries(item: &Value, field: &str, value: &str) -> bool {
    match item {
        Value::Object(map) => map.iter().any(|(k, v)| {
            (k == field && !v.is_object() && !v.is_array() && text_of(v) == value)
                || carries(v, field, value)
        }),
        Value::Array(items) => items.iter().any(|v| carries(v, field, value)),
        Value::String(s) => value.len() >= DISTINCT_VALUE_LEN && s == value,
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
        // The create answer nested the id (`data.id`); the list items carry it at their top.
        assert!(lists_object(&body, "data.id", "8"));
        // The list nests it in each item.
        let nested = serde_json::json!({"results": [{"note": {"id": 12}}]});
        assert!(lists_object(&nested, "id", "12"));
        // A short value under another name is not taken for the object ("7" as a count).
        let other = serde_json::json!([{"id": 1, "count": 7}]);
        assert!(!lists_object(&other, "id", "7"));
        // A distinctive value is found under any name.
        let uuid = "3f2a9c1e-0b7d-4e2a-9f6b-1c2d3e4f5a6b";
        let renamed = serde_json::json!({"data": [{"note_id": uuid}]});
        assert!(lists_object(&renamed, "id", uuid));
    }

    #[test]
    fn captures_in_the_body_or_a_header_count() {
        let step = |yaml: &str| serde_yaml::from_str::<ExampleStep>(yaml).unwrap();
        let captured = BTreeSet::from(["id".to_string()]);
        assert!(uses_capture(
            &step("request: {path: \"/t/${id}\"}"),
            &captured
        ));
        assert!(uses_capture(
            &step("request: {method: POST, path: /t/archive, json: {id: \"${id}\"}}"),
            &captured
        ));
        assert!(uses_capture(
            &step("request: {path: /t, headers: {X-Task: \"${id}\"}}"),
            &captured
        ));
        assert!(uses_capture(
            &step("request: {path: \"/t?id=${id}\"}"),
            &captured
        ));
        assert!(!uses_capture(&step("request: {path: /t}"), &captured));
    }

    #[test]
    fn field_names_of_capture_paths() {
        for (path, name) in [
            ("id", "id"),
            ("data.id", "id"),
            ("$.items[0].sku", "sku"),
            ("$.id", "id"),
        ] {
            assert_eq!(field_name(path), name);
        }
    }
}

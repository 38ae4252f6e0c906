//! The route inventory: concrete requests that reach every route a project declares. Each
//! example is run step by step as the probe's own user, so a step that needs `${id}` gets the
//! id its example's earlier steps really created; `load.endpoints` are added as written. A
//! declared route no request reaches with real values gets one with made-up parameters, and
//! stays "not reached" unless the service's answer to that shows something (a 401 to a request
//! without a token does; a 404 does not).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value;

use sdd_spec::document::ReviewStatus;
use sdd_spec::model::Spec;
use sdd_spec::project::{LoadConfig, ProjectFile};
use sdd_spec::routes::{declared_routes, DeclaredRoutes, Route};

use crate::examples::{concrete_request, fresh_vars, run_step, ServiceClient};
use crate::probes::ProbeEndpoint;

/// What a made-up path parameter is filled with.
pub const MADE_UP_PARAMETER: &str = "1";

/// The requests probes send, and the declared routes they cannot reach with real values.
#[derive(Debug, Clone, Default)]
pub struct Inventory {
    /// One request per route and shape (query names, body fields), real values first.
    pub endpoints: Vec<ProbeEndpoint>,
    /// Declared routes with no request carrying real values, and why (their made-up request,
    /// if any, is in `endpoints`).
    pub unreached: BTreeMap<Route, String>,
    /// Declarations that could not be read (a bad `routes:` line, a broken OpenAPI file): the
    /// routes they stand for are unknown.
    pub problems: Vec<String>,
}

/// The routes `file` and `spec` declare, reading `openapi:` within the project root.
pub fn declared(root: &Path, file: &ProjectFile, spec: &Spec) -> DeclaredRoutes {
    let mut problem = None;
    let text = file.openapi.as_deref().and_then(|relative| {
        let Some(path) = sdd_spec::project::confine(root, relative) else {
            problem = Some(format!(
                "openapi: `{relative}` is outside the project; name a file inside it"
            ));
            return None;
        };
        match sdd_spec::limits::read_yaml_file(&path, &sdd_spec::limits::Limits::from_env().0) {
            Ok(text) => Some(text),
            Err(e) => {
                problem = Some(format!(
                    "openapi: cannot read `{relative}`: {}",
                    e.describe().1
                ));
                None
            }
        }
    });
    let mut declared = declared_routes(spec, file, text.as_deref());
    declared.problems.extend(problem);
    declared
}

/// The shape of a request: which route, which query names, which top-level body fields, which
/// headers of its own (an example's `GET /tasks` with `X-Tenant` is not the load's without).
fn shape(
    endpoint: &ProbeEndpoint,
) -> (Route, BTreeSet<String>, BTreeSet<String>, BTreeSet<String>) {
    let query: BTreeSet<String> = endpoint
        .path
        .split_once('?')
        .map(|(_, q)| {
            q.split('&')
                .filter_map(|pair| pair.split('=').next())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let fields: BTreeSet<String> = match endpoint
        .body
        .as_deref()
        .and_then(|b| serde_json::from_str::<Value>(b).ok())
    {
        Some(Value::Object(map)) => map.keys().cloned().collect(),
        _ => BTreeSet::new(),
    };
    let headers = endpoint
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .collect();
    (endpoint.route.clone(), query, fields, headers)
}

/// Build the inventory as `client` (the probe's own user): run the examples of every scenario
/// that is not rejected, step by step, recording each step's request once its values are known.
pub async fn build(
    spec: &Spec,
    load: &LoadConfig,
    declared: &DeclaredRoutes,
    client: &ServiceClient<'_>,
) -> Inventory {
    let mut endpoints: Vec<ProbeEndpoint> = Vec::new();
    let mut seen = BTreeSet::new();
    let mut push = |endpoint: ProbeEndpoint, endpoints: &mut Vec<ProbeEndpoint>| {
        if seen.insert(shape(&endpoint)) {
            endpoints.push(endpoint);
        }
    };
    for e in load.endpoints.values().flatten() {
        let path = e.path.replace("{{seq}}", "1");
        push(
            ProbeEndpoint {
                method: e.method.to_ascii_uppercase(),
                route: Route::new(&e.method, &e.path),
                path,
                body: e.body.as_ref().map(|b| b.replace("{{seq}}", "1")),
                made_up: false,
                headers: crate::probes::example_headers(&e.headers)
                    .into_iter()
                    .map(|(n, v)| (n, v.replace("{{seq}}", "1")))
                    .collect(),
            },
            &mut endpoints,
        );
    }
    let mut why_not: BTreeMap<Route, String> = BTreeMap::new();
    for scenario in spec
        .scenarios
        .iter()
        .filter(|s| s.status != ReviewStatus::Rejected)
    {
        for example in &scenario.examples {
            let mut vars = fresh_vars();
            for step in &example.steps {
                let route = Route::new(&step.request.method, &step.request.path);
                let request = concrete_request(step, &vars, client.headers);
                if !request.unresolved.is_empty() {
                    why_not.entry(route).or_insert_with(|| {
                        format!(
                            "its example in `{}` needs {}, which no earlier step captured",
                            scenario.id,
                            crate::examples::as_written(&request.unresolved)
                        )
                    });
                    continue;
                }
                push(
                    ProbeEndpoint {
                        method: request.method.clone(),
                        route,
                        path: request.path.clone(),
                        body: request
                            .body
                            .as_deref()
                            .map(|b| String::from_utf8_lossy(b).into_owned()),
                        made_up: false,
                        // The step's own headers, as sent (values filled in).
                        headers: crate::probes::example_headers(
                            request
                                .headers
                                .iter()
                                .filter(|(n, _)| {
                                    step.request
                                        .headers
                                        .keys()
                                        .any(|own| own.eq_ignore_ascii_case(n))
                                })
                                .map(|(n, v)| (n, v)),
                        ),
                    },
                    &mut endpoints,
                );
                // Run it for its captures; a step that fails still leaves its request known.
                let _ = run_step(step, &mut vars, client).await;
            }
        }
    }
    let mut unreached = BTreeMap::new();
    for route in declared.routes.keys() {
        if endpoints.iter().any(|e| route.matches(&e.route)) {
            continue;
        }
        let why = why_not.get(route).cloned().unwrap_or_else(|| {
            if route.parameter_segments().is_empty() {
                String::new()
            } else {
                "no example or load endpoint gives a real value for its parameters".into()
            }
        });
        let made_up = !route.parameter_segments().is_empty();
        push(
            ProbeEndpoint {
                method: route.method.clone(),
                path: route.with_parameters(MADE_UP_PARAMETER),
                route: route.clone(),
                body: None,
                made_up,
                headers: Vec::new(),
            },
            &mut endpoints,
        );
        if made_up {
            unreached.insert(route.clone(), why);
        }
    }
    Inventory {
        endpoints,
        unreached,
        problems: declared.problems.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_ignores_values_but_not_names() {
        let e = |path: &str, body: Option<&str>| ProbeEndpoint {
            method: "GET".into(),
            route: Route::new("GET", &path.replace("42", "{id}").replace("43", "{id}")),
            path: path.into(),
            body: body.map(str::to_string),
            made_up: false,
            headers: Vec::new(),
        };
        assert_eq!(
            shape(&e("/tasks?status=pending&limit=20", None)),
            shape(&e("/tasks?status=completed&limit=5", None))
        );
        assert_ne!(
            shape(&e("/tasks?limit=20", None)),
            shape(&e("/tasks?status=pending&limit=20", None))
        );
        assert_eq!(
            shape(&e("/tasks", Some(r#"{"title": "a"}"#))),
            shape(&e("/tasks", Some(r#"{"title": "b"}"#)))
        );
        assert_eq!(shape(&e("/tasks/42", None)), shape(&e("/tasks/43", None)));
    }
}

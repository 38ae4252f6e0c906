//! Routes: what a service answers, as `METHOD /path/{param}`. The verifier's probes must reach
//! every route a project declares before "all endpoints …" can pass, so this module says which
//! routes are declared (the examples' steps, `load.endpoints`, `routes:` and the operations of
//! an `openapi:` document in `sdd.yaml`) and whether a concrete request is one of them.
//!
//! Pure: reading the OpenAPI file is the caller's (through [`crate::project::confine`] and the
//! size-guarded reader), so these functions are table-tested without a file system.

use std::collections::BTreeMap;
use std::fmt;

use crate::model::Spec;
use crate::project::ProjectFile;

/// The HTTP methods an OpenAPI path item can hold.
const OPENAPI_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// A route: a method and a path template whose parameters are `{name}` segments. Two routes
/// that differ only in their parameters' names (`/tasks/{id}`, `/tasks/{task_id}`) are equal.
#[derive(Debug, Clone)]
pub struct Route {
    pub method: String,
    /// Without the query; `${id}` of an example is written `{id}`.
    pub path: String,
}

impl Route {
    /// The method and the path with every parameter written `{}`.
    fn key(&self) -> (&str, String) {
        let shape: Vec<&str> = self
            .path
            .split('/')
            .map(|s| if is_parameter(s) { "{}" } else { s })
            .collect();
        (&self.method, shape.join("/"))
    }
}

impl PartialEq for Route {
    fn eq(&self, other: &Route) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Route {}

impl PartialOrd for Route {
    fn partial_cmp(&self, other: &Route) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Route {
    fn cmp(&self, other: &Route) -> std::cmp::Ordering {
        self.key().cmp(&other.key())
    }
}

impl std::hash::Hash for Route {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

impl Route {
    /// `method` upper-cased; the query dropped; `${name}` and `{{seq}}` made `{name}` / `{seq}`.
    pub fn new(method: &str, path: &str) -> Route {
        let path = path.split(['?', '#']).next().unwrap_or("");
        let path = path
            .replace("${", "{")
            .replace("{{", "{")
            .replace("}}", "}");
        let path = if path.starts_with('/') {
            path
        } else {
            format!("/{path}")
        };
        let trimmed = if path.len() > 1 {
            path.trim_end_matches('/').to_string()
        } else {
            path
        };
        Route {
            method: method.trim().to_ascii_uppercase(),
            path: trimmed,
        }
    }

    /// `GET /tasks/{id}` (a method and a path separated by white space).
    pub fn parse(text: &str) -> Result<Route, String> {
        let mut words = text.split_whitespace();
        match (words.next(), words.next(), words.next()) {
            (Some(method), Some(path), None)
                if method.chars().all(|c| c.is_ascii_alphabetic()) && path.starts_with('/') =>
            {
                Ok(Route::new(method, path))
            }
            _ => Err(format!(
                "`{text}` is not a route: write `METHOD /path`, with `{{name}}` for a path parameter (`POST /tasks/{{id}}/complete`)"
            )),
        }
    }

    fn segments(&self) -> impl Iterator<Item = &str> {
        self.path.split('/').filter(|s| !s.is_empty())
    }

    /// Whether the `n`-th segment (from 0) is a parameter.
    pub fn parameter_segments(&self) -> Vec<usize> {
        self.segments()
            .enumerate()
            .filter(|(_, s)| is_parameter(s))
            .map(|(i, _)| i)
            .collect()
    }

    /// Whether a request to `other` is a request to this route: same method, same number of
    /// segments, and each pair equal or one of them a parameter (`/tasks/{id}` matches
    /// `/tasks/42` and `/tasks/{task_id}`; `/tasks/{id}` does not match `/tasks`).
    pub fn matches(&self, other: &Route) -> bool {
        if self.method != other.method {
            return false;
        }
        let mine: Vec<&str> = self.segments().collect();
        let theirs: Vec<&str> = other.segments().collect();
        mine.len() == theirs.len()
            && mine
                .iter()
                .zip(&theirs)
                .all(|(a, b)| a == b || is_parameter(a) || is_parameter(b))
    }

    /// This route with every parameter filled with `value`: a request that reaches the route
    /// when no example gave a real value.
    pub fn with_parameters(&self, value: &str) -> String {
        let filled: Vec<&str> = self
            .path
            .split('/')
            .map(|s| if is_parameter(s) { value } else { s })
            .collect();
        filled.join("/")
    }
}

fn is_parameter(segment: &str) -> bool {
    segment.starts_with('{') && segment.ends_with('}')
}

/// Where a declared route comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RouteSource {
    Example,
    LoadEndpoint,
    RoutesList,
    OpenApi,
}

impl RouteSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteSource::Example => "an example",
            RouteSource::LoadEndpoint => "load.endpoints",
            RouteSource::RoutesList => "routes: in sdd.yaml",
            RouteSource::OpenApi => "the OpenAPI document",
        }
    }
}

/// The routes a project declares, each with where it was declared, and what could not be read.
#[derive(Debug, Clone, Default)]
pub struct DeclaredRoutes {
    pub routes: BTreeMap<Route, Vec<RouteSource>>,
    /// Unreadable entries, each a sentence (an unparseable `routes:` line, a broken OpenAPI
    /// document): the routes they would have added are unknown, which a verdict must say.
    pub problems: Vec<String>,
}

impl DeclaredRoutes {
    fn add(&mut self, route: Route, source: RouteSource) {
        // `/tasks/{id}` from an example and `/tasks/{taskId}` from OpenAPI are one route.
        let sources = self.routes.entry(route).or_default();
        if !sources.contains(&source) {
            sources.push(source);
        }
    }
}

/// The routes of every example step (all scenarios: a proposed scenario still names a route the
/// service has), of `load.endpoints`, of `routes:`, and of `openapi_text` when given.
pub fn declared_routes(
    spec: &Spec,
    file: &ProjectFile,
    openapi_text: Option<&str>,
) -> DeclaredRoutes {
    let mut declared = DeclaredRoutes::default();
    for scenario in &spec.scenarios {
        for example in &scenario.examples {
            for step in &example.steps {
                declared.add(
                    Route::new(&step.request.method, &step.request.path),
                    RouteSource::Example,
                );
            }
        }
    }
    for endpoint in file.load.endpoints.values().flatten() {
        declared.add(
            Route::new(&endpoint.method, &endpoint.path),
            RouteSource::LoadEndpoint,
        );
    }
    for line in &file.routes {
        match Route::parse(line) {
            Ok(route) => declared.add(route, RouteSource::RoutesList),
            Err(e) => declared.problems.push(e),
        }
    }
    if let Some(text) = openapi_text {
        match openapi_routes(text) {
            Ok(routes) => {
                let mut left_out = 0;
                for route in routes {
                    // A route declared elsewhere too costs nothing more.
                    if declared.routes.contains_key(&route)
                        || declared.routes.len() < MAX_DECLARED_ROUTES
                    {
                        declared.add(route, RouteSource::OpenApi);
                    } else {
                        left_out += 1;
                    }
                }
                if left_out > 0 {
                    declared.problems.push(format!(
                        "the OpenAPI document declares {left_out} more operations than the {MAX_DECLARED_ROUTES} routes the probes take; those are not reached (list the ones that matter under `routes:` in sdd.yaml, or split the document)"
                    ));
                }
            }
            Err(e) => declared.problems.push(e),
        }
    }
    declared
}

/// The most routes the probes take from a project. Each route costs every probe several
/// requests (authentication sends six variants, injection dozens); a generated OpenAPI
/// document with thousands of operations would make one verification run for hours.
pub const MAX_DECLARED_ROUTES: usize = 300;

/// Every operation of an OpenAPI 3 (or Swagger 2) document, JSON or YAML: `paths`' keys with
/// each HTTP method under them. A base path from `servers[0].url` (or Swagger's `basePath`) is
/// put in front when it is a plain path.
pub fn openapi_routes(text: &str) -> Result<Vec<Route>, String> {
    let document: serde_json::Value = serde_yaml::from_str(text)
        .map_err(|e| format!("the OpenAPI document is not valid JSON or YAML: {e}"))?;
    let Some(paths) = document.get("paths").and_then(|p| p.as_object()) else {
        return Err("the OpenAPI document has no `paths` object".into());
    };
    let base = document
        .get("servers")
        .and_then(|s| s.get(0))
        .and_then(|s| s.get("url"))
        .and_then(|u| u.as_str())
        .map(|url| match url.find("://") {
            Some(at) => url[at + 3..]
                .find('/')
                .map_or("", |slash| &url[at + 3 + slash..]),
            None => url,
        })
        .or_else(|| document.get("basePath").and_then(|b| b.as_str()))
        .unwrap_or("")
        .trim_end_matches('/')
        .to_string();
    let mut routes = Vec::new();
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for method in OPENAPI_METHODS {
            if item.contains_key(method) {
                routes.push(Route::new(method, &format!("{base}{path}")));
            }
        }
    }
    if routes.is_empty() {
        return Err("the OpenAPI document's `paths` name no operation".into());
    }
    Ok(routes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_normalise_and_match() {
        let cases: &[(&str, &str, &str, &str, bool)] = &[
            ("get", "/tasks?limit=20", "GET", "/tasks", true),
            ("GET", "/tasks/${id}", "GET", "/tasks/42", true),
            ("GET", "/tasks/{id}", "GET", "/tasks/{taskId}", true),
            (
                "POST",
                "/tasks/${id}/complete",
                "POST",
                "/tasks/7/complete",
                true,
            ),
            (
                "POST",
                "/tasks/{id}/complete",
                "GET",
                "/tasks/7/complete",
                false,
            ),
            ("GET", "/tasks/{id}", "GET", "/tasks", false),
            ("GET", "/tasks/", "GET", "/tasks", true),
            ("GET", "/health", "GET", "/healthz", false),
            ("POST", "/load/{{seq}}", "POST", "/load/1", true),
        ];
        for (m1, p1, m2, p2, expected) in cases {
            assert_eq!(
                Route::new(m1, p1).matches(&Route::new(m2, p2)),
                *expected,
                "{m1} {p1} vs {m2} {p2}"
            );
        }
        assert_eq!(
            Route::new("get", "/tasks/${id}").to_string(),
            "GET /tasks/{id}"
        );
        assert_eq!(
            Route::new("POST", "/a/{x}/b/{y}").with_parameters("1"),
            "/a/1/b/1"
        );
        assert_eq!(
            Route::new("GET", "/a/{x}/b/{y}").parameter_segments(),
            [1, 3]
        );
        // Parameter names do not make another route.
        assert_eq!(
            Route::new("GET", "/t/{id}"),
            Route::new("get", "/t/${task2}")
        );
        assert_ne!(Route::new("GET", "/t/{id}"), Route::new("GET", "/t/42"));
    }

    #[test]
    fn route_lines_parse_or_say_why() {
        assert_eq!(
            Route::parse("post  /tasks/{id}/complete")
                .unwrap()
                .to_string(),
            "POST /tasks/{id}/complete"
        );
        for bad in ["/tasks", "GET tasks", "GET /a /b", "", "G3T /x"] {
            assert!(
                Route::parse(bad).unwrap_err().contains("is not a route"),
                "{bad}"
            );
        }
    }

    #[test]
    fn openapi_operations_become_routes() {
        let yaml = r#"
openapi: 3.0.0
servers: [{url: "https://api.example.com/v1/"}]
paths:
  /tasks:
    get: {responses: {"200": {description: ok}}}
    post: {responses: {"201": {description: ok}}}
    parameters: []
  /tasks/{taskId}:
    get: {}
    delete: {}
"#;
        let routes: Vec<String> = openapi_routes(yaml)
            .unwrap()
            .iter()
            .map(Route::to_string)
            .collect();
        assert_eq!(
            routes,
            [
                "GET /v1/tasks",
                "POST /v1/tasks",
                "GET /v1/tasks/{taskId}",
                "DELETE /v1/tasks/{taskId}"
            ]
        );
        let json = r#"{"swagger": "2.0", "basePath": "/api", "paths": {"/x": {"put": {}}}}"#;
        assert_eq!(openapi_routes(json).unwrap()[0].to_string(), "PUT /api/x");
        assert!(openapi_routes("paths: 3")
            .unwrap_err()
            .contains("no `paths`"));
        assert!(openapi_routes("paths: {/x: {summary: no ops}}")
            .unwrap_err()
            .contains("no operation"));
        assert!(openapi_routes("{{{").unwrap_err().contains("not valid"));
    }

    #[test]
    fn a_huge_openapi_document_is_capped_and_says_so() {
        let mut paths = String::new();
        for n in 0..10_000 {
            paths.push_str(&format!("\"/r{n}/{{id}}\": {{\"get\": {{}}}},"));
        }
        let json = format!("{{\"paths\": {{{}}}}}", paths.trim_end_matches(','));
        let declared = declared_routes(
            &Spec::default(),
            &crate::project::parse_project_file("specs: specs").unwrap(),
            Some(&json),
        );
        assert_eq!(declared.routes.len(), MAX_DECLARED_ROUTES);
        assert_eq!(declared.problems.len(), 1, "{:?}", declared.problems);
        assert!(
            declared.problems[0]
                .contains(&format!("{} more operations", 10_000 - MAX_DECLARED_ROUTES)),
            "{}",
            declared.problems[0]
        );
    }
}

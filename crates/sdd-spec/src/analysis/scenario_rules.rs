//! Scenarios checked against the constraints that apply to their domain (its own, the global
//! ones, and those of interactions it takes part in): a scenario that expects success where a
//! constraint says the request must be refused, or that accepts what a constraint forbids.
//!
//! Each check reads what the scenario sets up (Given, When, name) and what it expects (its
//! Then's polarity, see [`crate::text::polarity`]); it fires only when both are read plainly,
//! so a scenario worded in a way the reader does not know is left alone, never guessed at.
//! Size limits at every scope are checked in [`super::conflicts`].

use std::collections::BTreeSet;

use crate::constraint::{parse_sentence, request_burst, CheckSpec};
use crate::diagnostic::{Diagnostic, Severity};
use crate::model::{Constraint, Scenario, Spec};
use crate::text::{overall_polarity, Polarity};

use super::conflicts::ConflictReport;

/// The codes this module reports, one per constraint kind.
pub const CONTRADICTS_AUTH: &str = "contradicts-auth";
pub const CONTRADICTS_RATE_LIMIT: &str = "contradicts-rate-limit";
pub const CONTRADICTS_OWNERSHIP: &str = "contradicts-ownership";
pub const CONTRADICTS_TIME_BOUND: &str = "contradicts-time-bound";

/// Check `scenarios` against every constraint that applies to each one's domain.
pub(crate) fn check(spec: &Spec, scenarios: &[&Scenario], report: &mut ConflictReport) {
    let mut by_domain: std::collections::HashMap<&str, Vec<&Constraint>> = Default::default();
    for s in scenarios {
        let constraints = by_domain
            .entry(s.domain.as_str())
            .or_insert_with(|| spec.constraints_for(&s.domain).collect());
        if constraints.is_empty() {
            continue;
        }
        let setup = setup_text(s);
        let succeeds = overall_polarity(&s.then) == Polarity::Success;
        // Read once per scenario, however many time bounds apply to it.
        let mut then_bounds: Option<Vec<ThenBound>> = None;
        let mut burst: Option<Option<(u64, f64)>> = None;
        for c in constraints.iter() {
            for rule in &c.parsed.checks {
                match rule {
                    CheckSpec::Authentication { exceptions, .. } if succeeds => {
                        authentication(s, &setup, c, exceptions, report)
                    }
                    CheckSpec::RateLimit {
                        max_requests,
                        window_seconds,
                        per,
                    } if succeeds => rate_limit(
                        s,
                        &setup,
                        *burst.get_or_insert_with(|| request_burst(&setup)),
                        c,
                        (*max_requests, *window_seconds, per),
                        report,
                    ),
                    CheckSpec::Ownership {
                        resource,
                        writes_only,
                        unless,
                    } if succeeds => ownership(
                        s,
                        &setup,
                        c,
                        (resource, *writes_only, unless.as_deref()),
                        report,
                    ),
                    CheckSpec::TimeBound {
                        max_seconds,
                        subject,
                    } => {
                        let bounds = then_bounds.get_or_insert_with(|| then_time_bounds(s));
                        if !bounds.is_empty() {
                            time_bound(s, bounds, c, *max_seconds, subject, report)
                        }
                    }
                    _ => {}
                }
            }
        }
    }
}

/// Name, Given and When, lowercased: what the scenario sets up and does.
fn setup_text(s: &Scenario) -> String {
    let mut text = s.name.clone();
    for part in s.given.iter().chain(s.when.iter()) {
        text.push(' ');
        text.push_str(part);
    }
    text.to_lowercase()
}

/// Words of a text that say what it is about, without a plural `s` and cut to a 5-letter
/// stem, so "tasks" meets "task" and "browsing" meets "browse".
fn stems(text: &str, generic: &[&str]) -> BTreeSet<String> {
    const STOP: &[&str] = &[
        "the", "and", "for", "with", "from", "that", "this", "are", "was", "were", "has", "have",
        "should", "must", "shall", "will", "can", "not", "all", "any", "every", "each", "its",
        "their", "his", "her", "our", "your", "into", "onto", "within", "than", "then", "when",
        "given", "user", "users", "system", "request", "requests", "response",
    ];
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 2 && !STOP.contains(w) && !generic.contains(w))
        .map(|w| w.trim_end_matches('s').chars().take(5).collect())
        .collect()
}

/// What a scenario sets up that says no credentials are sent.
const ANONYMOUS: &[&str] = &[
    "without a token",
    "without token",
    "without an access token",
    "without a valid token",
    "with no token",
    "no token",
    "without authentication",
    "without authenticating",
    "without being authenticated",
    "without logging in",
    "without being logged in",
    "without credentials",
    "without an api key",
    "without api key",
    "without a session",
    "without an authorization header",
    "without the authorization header",
    "no authorization header",
    "missing token",
    "unauthenticated",
    "not authenticated",
    "not logged in",
    "logged out",
    "anonymous",
    "anonymously",
    "expired token",
    "invalid token",
];

fn authentication(
    s: &Scenario,
    setup: &str,
    c: &Constraint,
    exceptions: &[String],
    report: &mut ConflictReport,
) {
    let Some(marker) = ANONYMOUS.iter().find(|m| setup.contains(*m)) else {
        return;
    };
    // An exception names an endpoint or a use ("Health check endpoint", "/health", "public
    // catalog browsing"): one shared word is enough to leave the scenario alone, since a
    // missed contradiction costs less than a false one.
    const GENERIC: &[&str] = &[
        "endpoint",
        "endpoints",
        "api",
        "route",
        "routes",
        "path",
        "call",
    ];
    let mut scenario_words = stems(setup, GENERIC);
    for example in &s.examples {
        for step in &example.steps {
            scenario_words.extend(stems(&step.request.path, GENERIC));
        }
    }
    let mut all_exceptions: Vec<&String> = exceptions.iter().chain(c.exceptions.iter()).collect();
    all_exceptions.sort();
    all_exceptions.dedup();
    if all_exceptions
        .iter()
        .any(|e| !stems(e, GENERIC).is_disjoint(&scenario_words))
    {
        return;
    }
    let except = if all_exceptions.is_empty() {
        "with no exception".to_string()
    } else {
        format!(
            "(exceptions: {})",
            all_exceptions
                .iter()
                .map(|e| format!("\"{e}\""))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let message = format!(
        "scenario `{}` expects success {marker}, but constraint `{}` requires authentication {except}",
        s.id, c.id
    );
    report.add(
        Diagnostic::new(Severity::Error, CONTRADICTS_AUTH, message)
            .at(&s.location)
            .with_help(
                "make the scenario expect a refusal (401), or add its endpoint to the constraint's `exceptions`",
            ),
        vec![s.id.clone()],
        Some(c.id.clone()),
    );
}

fn rate_limit(
    s: &Scenario,
    setup: &str,
    burst: Option<(u64, f64)>,
    c: &Constraint,
    (max_requests, window_seconds, per): (u64, f64, &str),
    report: &mut ConflictReport,
) {
    let Some((sent, over_seconds)) = burst else {
        return;
    };
    // Many senders each under the limit do not break a per-user limit; the reader cannot
    // attribute the count to one of them, so it says nothing.
    let many_senders = setup.contains("each")
        || setup.contains("different")
        || setup
            .split_whitespace()
            .collect::<Vec<_>>()
            .windows(2)
            .any(|w| {
                w[0].parse::<f64>().is_ok_and(|n| n > 1.0)
                    && matches!(w[1], "users" | "clients" | "tenants" | "accounts" | "ips")
            });
    if many_senders && per != "global" {
        return;
    }
    // Spread evenly over a window longer than the limit's, `sent` requests put
    // sent × window / over in each limit window: only more than the limit allows there is
    // sure to break it.
    let allowed = max_requests as f64 * (over_seconds / window_seconds).max(1.0);
    if (sent as f64) <= allowed {
        return;
    }
    let message = format!(
        "scenario `{}` expects {sent} requests in {} to succeed, but constraint `{}` allows {max_requests} per {} {}",
        s.id,
        seconds_text(over_seconds),
        c.id,
        seconds_text(window_seconds),
        if per == "global" { "in all".to_string() } else { format!("per {per}") },
    );
    report.add(
        Diagnostic::new(Severity::Error, CONTRADICTS_RATE_LIMIT, message)
            .at(&s.location)
            .with_help("make the scenario expect the requests beyond the limit to be refused (429), or change the limit")
            ,
        vec![s.id.clone()],
        Some(c.id.clone()),
    );
}

fn seconds_text(seconds: f64) -> String {
    match seconds {
        1.0 => "1 second".into(),
        60.0 => "1 minute".into(),
        3600.0 => "1 hour".into(),
        86400.0 => "1 day".into(),
        s if s >= 60.0 && s % 60.0 == 0.0 => format!("{} minutes", s / 60.0),
        s => format!("{s} seconds"),
    }
}

/// What a scenario sets up that says the actor is not the owner.
const NOT_OWNER: &[&str] = &[
    "another user",
    "other user",
    "someone else",
    "a different user",
    "another tenant",
    "other tenant",
    "a different tenant",
    "not the owner",
    "isn't the owner",
    "is not the owner",
    "non-owner",
    "who does not own",
    "who doesn't own",
];

const WRITES: &[&str] = &[
    "edit", "update", "change", "modif", "delet", "remov", "renam", "complet", "cancel", "archiv",
    "patch", "overwrit", "replac", "assign",
];

fn ownership(
    s: &Scenario,
    setup: &str,
    c: &Constraint,
    (resource, writes_only, unless): (&str, bool, Option<&str>),
    report: &mut ConflictReport,
) {
    let Some(marker) = NOT_OWNER.iter().find(|m| setup.contains(*m)) else {
        return;
    };
    let words = stems(setup, &[]);
    if resource != "resources" && stems(resource, &[]).is_disjoint(&words) {
        return;
    }
    if unless.is_some_and(|u| !stems(u, &["they", "are", "is"]).is_disjoint(&words)) {
        return;
    }
    let action = s.when.as_deref().unwrap_or(&s.name).to_lowercase();
    if writes_only && !WRITES.iter().any(|w| action.contains(w)) {
        return;
    }
    let message = format!(
        "scenario `{}` expects success when acting on {resource} of {marker}, but constraint `{}` reserves {} to their owner",
        s.id,
        c.id,
        if writes_only { "changes" } else { "them" },
    );
    report.add(
        Diagnostic::new(Severity::Error, CONTRADICTS_OWNERSHIP, message)
            .at(&s.location)
            .with_help("make the scenario expect a refusal (403 or 404), or state the exception in the constraint (`unless …`)"),
        vec![s.id.clone()],
        Some(c.id.clone()),
    );
}

/// A time bound a scenario's Then states: the line, the bound, and what it is about.
struct ThenBound<'a> {
    then: &'a str,
    seconds: f64,
    about: BTreeSet<String>,
}

/// Words too common in time bounds to say what one is about.
const TIME_GENERIC: &[&str] = &[
    "complete",
    "completes",
    "completed",
    "entire",
    "whole",
    "flow",
    "fails",
    "finish",
    "finishes",
    "done",
    "seconds",
    "minutes",
    "hours",
    "time",
    "less",
    "under",
    "before",
];

fn then_time_bounds(s: &Scenario) -> Vec<ThenBound<'_>> {
    let mut bounds = Vec::new();
    for then in &s.then {
        for check in parse_sentence(then, &[]) {
            if let CheckSpec::TimeBound {
                max_seconds,
                subject,
            } = check
            {
                bounds.push(ThenBound {
                    then,
                    seconds: max_seconds,
                    about: stems(&subject, TIME_GENERIC),
                });
            }
        }
    }
    bounds
}

fn time_bound(
    s: &Scenario,
    bounds: &[ThenBound],
    c: &Constraint,
    max_seconds: f64,
    subject: &str,
    report: &mut ConflictReport,
) {
    let bound_words = stems(&format!("{} {subject}", c.name), TIME_GENERIC);
    for bound in bounds {
        if bound.seconds <= max_seconds || bound.about.is_disjoint(&bound_words) {
            continue;
        }
        let message = format!(
            "scenario `{}` accepts \"{}\" ({}), but constraint `{}` requires it within {}",
            s.id,
            bound.then,
            seconds_text(bound.seconds),
            c.id,
            seconds_text(max_seconds),
        );
        report.add(
            Diagnostic::new(Severity::Warning, CONTRADICTS_TIME_BOUND, message)
                .at(&s.location)
                .with_help(
                    "tighten the scenario's bound to the constraint's, or change the constraint",
                ),
            vec![s.id.clone()],
            Some(c.id.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_sources;

    fn findings(yaml: &str) -> Vec<crate::diagnostic::Diagnostic> {
        let spec = load_sources(&[("f.yaml".into(), yaml.into())]).spec;
        super::super::conflicts::find_conflicts(&spec).diagnostics
    }

    fn codes(yaml: &str) -> Vec<String> {
        findings(yaml).into_iter().map(|d| d.code).collect()
    }

    const AUTH: &str = "feature: Bookings\nconstraints:\n  security:\n    - name: Tokens\n      requirement: All endpoints require a valid JWT token\n      exception: Health check endpoint\nscenarios:\n";

    #[test]
    fn anonymous_success_contradicts_authentication() {
        let d = findings(&format!("{AUTH}  - name: Book anonymously\n    when: I book a room without a token\n    then: The booking is created\n"));
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].code, CONTRADICTS_AUTH);
        assert!(
            d[0].message.contains("bookings.tokens") || d[0].message.contains("security.tokens"),
            "{}",
            d[0].message
        );
        assert!(
            d[0].message.contains("Health check endpoint"),
            "{}",
            d[0].message
        );
        assert_eq!(d[0].line, Some(8));
        // Refused, exempt, or authenticated: nothing to say.
        for scenario in [
            "  - name: Book anonymously\n    when: I book a room without a token\n    then: I receive 401 and no booking is created\n",
            "  - name: Health without a token\n    when: I call the health check without a token\n    then: It returns 200\n",
            "  - name: Book\n    when: I book a room\n    then: The booking is created\n",
        ] {
            assert!(codes(&format!("{AUTH}{scenario}")).is_empty(), "{scenario}");
        }
    }

    #[test]
    fn a_burst_over_the_rate_limit_that_succeeds_contradicts_it() {
        let spec = |when: &str, then: &str| {
            codes(&format!("feature: Api\nconstraints:\n  security:\n    - name: Rate limit\n      requirement: Max 100 requests per minute per user\nscenarios:\n  - name: Burst\n    when: {when}\n    then: {then}\n"))
        };
        let hit = vec![CONTRADICTS_RATE_LIMIT.to_string()];
        assert_eq!(
            spec(
                "A user sends 150 requests in one minute",
                "All requests succeed"
            ),
            hit
        );
        assert_eq!(
            spec(
                "A user sends 150 requests within 30 seconds",
                "All are accepted"
            ),
            hit
        );
        // Under the limit, spread wide enough, refused beyond it, or many users: fine.
        assert!(spec(
            "A user sends 90 requests in one minute",
            "All requests succeed"
        )
        .is_empty());
        assert!(spec(
            "A user sends 150 requests in 2 minutes",
            "All requests succeed"
        )
        .is_empty());
        assert!(spec(
            "A user sends 150 requests in one minute",
            "Requests beyond 100 are rejected with 429"
        )
        .is_empty());
        assert!(spec(
            "50 users each send 10 requests in one minute",
            "All requests succeed"
        )
        .is_empty());
    }

    #[test]
    fn acting_on_what_another_user_owns_contradicts_ownership() {
        let spec = |rule: &str, when: &str, then: &str| {
            codes(&format!("feature: Tasks\nconstraints:\n  security:\n    - name: Own tasks\n      requirement: {rule}\nscenarios:\n  - name: Other\n    when: {when}\n    then: {then}\n"))
        };
        let rule = "Users can only access their own tasks";
        let hit = vec![CONTRADICTS_OWNERSHIP.to_string()];
        assert_eq!(
            spec(rule, "I open another user's task", "The task is returned"),
            hit
        );
        assert!(spec(rule, "I open another user's task", "I receive 404").is_empty());
        assert!(spec(rule, "I open my own task", "The task is returned").is_empty());
    }

    #[test]
    fn a_looser_time_bound_in_a_scenario_is_a_warning() {
        let spec = |then: &str| {
            findings(&format!("feature: Exports\nconstraints:\n  performance:\n    - name: Export time\n      requirement: Report export completes within 30 seconds\nscenarios:\n  - name: Export\n    when: I export the report\n    then: {then}\n"))
        };
        let d = spec("The report export is ready within 2 minutes");
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(
            (d[0].code.as_str(), d[0].severity),
            (CONTRADICTS_TIME_BOUND, Severity::Warning)
        );
        assert!(
            d[0].message.contains("2 minutes") && d[0].message.contains("30 seconds"),
            "{}",
            d[0].message
        );
        assert!(spec("The report export is ready within 10 seconds").is_empty());
        assert!(spec("A confirmation email arrives within 5 minutes").is_empty());
    }
}

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
use crate::text::{overall_polarity_after, stem, Polarity};

use super::conflicts::ConflictReport;

/// The codes this module reports, one per constraint kind.
pub const CONTRADICTS_AUTH: &str = "contradicts-auth";
pub const CONTRADICTS_RATE_LIMIT: &str = "contradicts-rate-limit";
pub const CONTRADICTS_OWNERSHIP: &str = "contradicts-ownership";
pub const CONTRADICTS_TIME_BOUND: &str = "contradicts-time-bound";

/// Check `scenarios` against every constraint that applies to each one's domain.
pub(crate) fn check(spec: &Spec, scenarios: &[&Scenario], report: &mut ConflictReport) {
    let mut by_domain: std::collections::HashMap<&str, Vec<&Constraint>> = Default::default();
    let mut common_words: std::collections::HashMap<&str, BTreeSet<String>> = Default::default();
    for s in scenarios {
        let constraints = by_domain
            .entry(s.domain.as_str())
            .or_insert_with(|| spec.constraints_for(&s.domain).collect());
        if constraints.is_empty() {
            continue;
        }
        let setup = setup_text(s);
        let succeeds = overall_polarity_after(&s.then, s.when.as_deref()) == Polarity::Success;
        // Read once per scenario, however many time bounds apply to it.
        let mut then_bounds: Option<Vec<ThenBound>> = None;
        let mut burst: Option<Option<(u64, f64)>> = None;
        for c in constraints.iter() {
            for rule in &c.parsed.checks {
                match rule {
                    // The domain's common words are read only for a scenario that sends no
                    // credentials.
                    CheckSpec::Authentication { exceptions, .. }
                        if succeeds && anonymous(&setup).is_some() =>
                    {
                        let common = common_words
                            .entry(s.domain.as_str())
                            .or_insert_with(|| common_in(spec, &s.domain));
                        authentication(s, &setup, common, c, exceptions, report)
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
    text.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'")
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
        .map(|w| stem(w, 5))
        .collect()
}

/// Words cut to four letters ("listing" meets "list", "logins" meets "login"), HTTP verbs and
/// words that name no endpoint left out.
fn word_stems(text: &str) -> BTreeSet<String> {
    const NO_ENDPOINT: &[&str] = &[
        "get",
        "post",
        "put",
        "patch",
        "delete",
        "head",
        "options",
        "endpoint",
        "endpoints",
        "api",
        "route",
        "routes",
        "path",
        "call",
        "calls",
        "the",
        "and",
        "for",
        "with",
        "all",
        "any",
        "every",
        "request",
        "requests",
        "public",
        "without",
        "token",
        "user",
        "users",
    ];
    text.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| {
            w.len() > 2 && !NO_ENDPOINT.contains(w) && !w.chars().all(|c| c.is_ascii_digit())
        })
        .map(|w| stem(w, 4))
        .collect()
}

/// "logs in", "signing up" → "login", "signup": as endpoints are named.
fn with_one_word_logins(text: &str) -> String {
    let mut out = text.to_string();
    for (from, to) in [
        ("log in", "login"),
        ("logs in", "login"),
        ("logging in", "login"),
        ("sign in", "signin"),
        ("signs in", "signin"),
        ("signing in", "signin"),
        ("sign up", "signup"),
        ("signs up", "signup"),
        ("signing up", "signup"),
    ] {
        out = out.replace(from, to);
    }
    out
}

/// The words (see [`word_stems`]) that at least 3 of a domain's scenarios and more than
/// 40 % of them use, and its name's: what every scenario there is about, so no exception.
fn common_in(spec: &Spec, domain: &str) -> BTreeSet<String> {
    let mut counts: std::collections::HashMap<String, usize> = Default::default();
    let mut total = 0usize;
    for s in spec.scenarios_in(domain) {
        total += 1;
        for word in word_stems(&setup_text(s)) {
            *counts.entry(word).or_default() += 1;
        }
    }
    let mut common: BTreeSet<String> = counts
        .into_iter()
        .filter(|(_, n)| *n >= 3 && *n * 5 > total * 2)
        .map(|(w, _)| w)
        .collect();
    common.extend(word_stems(&domain.replace('_', " ")));
    common
}

/// The phrase of `setup` that says no credentials are sent, if one does: a marker ("without
/// a token", "not logged in"), or "without" / "with no" / "missing" a few words before a
/// credential ("with no OAuth access token", "with a missing Authorization header"). Not when
/// the setup also says the actor is signed in ("a signed-in rider opens a link that carries no
/// token in the URL") or refreshes a token.
fn anonymous(setup: &str) -> Option<String> {
    const SIGNED_IN: &[&str] = &[
        "signed-in",
        "logged-in",
        "is signed in",
        "is logged in",
        "who is authenticated",
        "is authenticated",
        "an authenticated",
        "a valid token",
        "a valid access token",
        "valid refresh token",
        "refresh token",
        "refreshes",
    ];
    // Most setups say nothing of credentials: one pass of cheap tests first.
    const ABOUT_CREDENTIALS: &[&str] = &[
        "token",
        "key",
        "auth",
        "credential",
        "logged",
        "signed",
        "anonym",
        "session",
        "cookie",
        "jwt",
        "header",
    ];
    if !ABOUT_CREDENTIALS.iter().any(|w| setup.contains(w))
        || SIGNED_IN.iter().any(|m| setup.contains(m))
    {
        return None;
    }
    if let Some(marker) = ANONYMOUS.iter().find(|m| {
        setup.match_indices(*m).any(|(at, _)| {
            let next = setup[at + m.len()..]
                .split_whitespace()
                .next()
                .unwrap_or("");
            !matches!(
                next.trim_end_matches(|c: char| !c.is_alphanumeric()),
                "refresh" | "rotation" | "renewal" | "expiry" | "expiration" | "refreshes"
            )
        })
    }) {
        return Some(marker.to_string());
    }
    let words: Vec<&str> = setup
        .split(|c: char| !(c.is_alphanumeric() || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    for (i, w) in words.iter().enumerate() {
        let opener = match (*w, words.get(i + 1).copied()) {
            ("without", _) | ("missing", _) => 1,
            ("with", Some("no" | "a")) if *w == "with" => 2,
            ("not", Some("signed" | "logged")) => {
                return Some(format!("not {} in", words[i + 1]));
            }
            _ => continue,
        };
        if *w == "with" && words.get(i + 1) == Some(&"a") && words.get(i + 2) != Some(&"missing") {
            continue;
        }
        let from = i + opener;
        let to = (from + 4).min(words.len());
        let credential = (from..to).find(|&j| {
            matches!(
                words[j],
                "token"
                    | "key"
                    | "credentials"
                    | "authorization"
                    | "authorisation"
                    | "session"
                    | "cookie"
                    | "jwt"
            ) && !matches!(
                words.get(j + 1).copied(),
                Some("refresh" | "rotation" | "renewal" | "expiry" | "expiration" | "refreshes")
            )
        });
        if let Some(j) = credential {
            return Some(format!("{w} … {}", words[j]));
        }
    }
    None
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
    "with no api key",
    "no api key",
    "without a key",
    "with no credentials",
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
    common: &BTreeSet<String>,
    c: &Constraint,
    exceptions: &[String],
    report: &mut ConflictReport,
) {
    let Some(marker) = anonymous(setup) else {
        return;
    };
    // An exception names an endpoint or a use ("Health check endpoint", "POST /login",
    // "Device provisioning endpoint"). Its words that the domain's scenarios use all the time
    // ("device" in a device domain) and the HTTP verbs say nothing of which endpoint; one of
    // the others, named by the scenario, exempts it.
    let mut scenario_words = word_stems(&with_one_word_logins(setup));
    for example in &s.examples {
        for step in &example.steps {
            scenario_words.extend(word_stems(&step.request.path));
        }
    }
    let mut all_exceptions: Vec<&String> = exceptions.iter().chain(c.exceptions.iter()).collect();
    all_exceptions.sort();
    all_exceptions.dedup();
    let exempt = all_exceptions.iter().any(|e| {
        let words = word_stems(&with_one_word_logins(&e.to_lowercase()));
        let telling: Vec<&String> = words.iter().filter(|w| !common.contains(*w)).collect();
        let telling = if telling.is_empty() {
            words.iter().collect()
        } else {
            telling
        };
        telling.iter().any(|w| scenario_words.contains(*w))
    });
    if exempt {
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

/// Who the scenario's actor acts for, when it is not themselves: a marker phrase, or
/// "another guest's", "a reservation belonging to another customer".
fn not_owner(setup: &str) -> Option<String> {
    if let Some(marker) = NOT_OWNER.iter().find(|m| setup.contains(*m)) {
        return Some(marker.to_string());
    }
    let words: Vec<&str> = setup.split_whitespace().collect();
    for pair in words.windows(2) {
        let owner = pair[1].trim_end_matches(|c: char| !c.is_alphanumeric() && c != '\'');
        if matches!(pair[0], "another" | "other") && owner.ends_with("'s") {
            return Some(format!("{} {owner}", pair[0]));
        }
    }
    [
        "belonging to another",
        "belongs to another",
        "owned by another",
        "created by another",
    ]
    .iter()
    .find(|m| setup.contains(*m))
    .map(|m| m.to_string())
}

const WRITES: &[&str] = &[
    "edit", "update", "change", "modif", "delet", "remov", "renam", "complet", "cancel", "archiv",
    "patch", "overwrit", "replac", "assign", "withdr", "amend",
];

fn ownership(
    s: &Scenario,
    setup: &str,
    c: &Constraint,
    (resource, writes_only, unless): (&str, bool, Option<&str>),
    report: &mut ConflictReport,
) {
    let Some(marker) = not_owner(setup) else {
        return;
    };
    // Sharing is how a resource reaches another user by right.
    if ["shared", "public", "published"]
        .iter()
        .any(|w| setup.contains(w))
    {
        return;
    }
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
        "scenario `{}` expects success acting on {resource} of {marker}, but constraint `{}` reserves {} to their owner",
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
    // "The prescription is not issued within 3 days if the GP rejects it" accepts nothing.
    for then in s
        .then
        .iter()
        .filter(|t| crate::text::polarity(t) != Polarity::Failure)
    {
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
    // Every word that says what the constraint bounds must name the scenario's bound too:
    // "confirmation email" is not "invoice email".
    let mut bound_words = stems(subject, TIME_GENERIC);
    if bound_words.is_empty() {
        bound_words = stems(&c.name, TIME_GENERIC);
    }
    if bound_words.is_empty() {
        return;
    }
    for bound in bounds {
        if bound.seconds <= max_seconds || !bound_words.is_subset(&bound.about) {
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

    /// An exception exempts the scenarios that name its endpoint, not every scenario that
    /// shares a word with it.
    #[test]
    fn exceptions_exempt_only_their_endpoint() {
        let spec = |exception: &str, scenarios: &[(&str, &str)]| {
            let mut yaml = format!("feature: Devices\nconstraints:\n  security:\n    - name: Tokens\n      requirement: All endpoints require a valid API key\n      exception: {exception}\nscenarios:\n");
            for (i, (when, then)) in scenarios.iter().enumerate() {
                yaml.push_str(&format!(
                    "  - name: S{i}\n    when: {when}\n    then: {then}\n"
                ));
            }
            codes(&yaml)
        };
        let device_scenarios = [
            (
                "A device posts a reading without an API key",
                "The reading is accepted with 202",
            ),
            (
                "A device posts a reading with its key",
                "The reading is accepted with 202",
            ),
            ("An admin lists the device fleet", "Every device is listed"),
        ];
        // "device" is what every scenario of the domain is about: it names no endpoint.
        assert_eq!(
            spec("Device provisioning endpoint", &device_scenarios),
            vec![CONTRADICTS_AUTH.to_string()]
        );
        assert!(spec(
            "Device provisioning endpoint",
            &[(
                "A new device is provisioned without an API key",
                "The device is registered"
            )]
        )
        .is_empty());
        // HTTP verbs name no endpoint; one-word logins meet their path.
        assert_eq!(
            spec(
                "GET /status",
                &[(
                    "A client requests GET /accounts/42 with no API key",
                    "200 OK is returned"
                )]
            ),
            vec![CONTRADICTS_AUTH.to_string()]
        );
        assert_eq!(
            spec(
                "GET /status",
                &[(
                    "A client requests GET /accounts/42 without an API key",
                    "200 OK is returned"
                )]
            ),
            vec![CONTRADICTS_AUTH.to_string()]
        );
        assert!(spec(
            "POST /login",
            &[("The user logs in without a token", "A session is created")]
        )
        .is_empty());
        assert!(spec(
            "Health check endpoint",
            &[(
                "A monitor calls GET /health without a token",
                "It returns 200"
            )]
        )
        .is_empty());
        // Other wordings of a missing credential.
        for when in [
            "The rider requests a ride with no OAuth access token",
            "A client books with a missing Authorization header",
            "A visitor, while not signed in, books a ride",
        ] {
            assert_eq!(
                spec("Health check endpoint", &[(when, "The ride is booked")]),
                vec![CONTRADICTS_AUTH.to_string()],
                "{when}"
            );
        }
        // A signed-in actor, or a token refresh, is no missing credential.
        assert!(spec(
            "Health check endpoint",
            &[(
                "A signed-in rider opens a link that carries no token in the URL",
                "The trip map is shown"
            )]
        )
        .is_empty());
        assert!(spec(
            "Health check endpoint",
            &[(
                "The rider refreshes the expired token using a valid refresh token",
                "A new access token is issued"
            )]
        )
        .is_empty());
        // A token refresh is no missing token.
        assert!(spec(
            "Health check endpoint",
            &[(
                "I open my device without a token refresh",
                "The device is returned"
            )]
        )
        .is_empty());
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

//! Interactions checked against their participants: the latency bounds participants declare for
//! themselves, summed along a flow, against the interaction's end-to-end bound; and flow steps
//! that name someone the spec does not declare.
//!
//! The participants' bounds are indexed once by domain, and each step is read once, so the cost
//! is linear in constraints plus steps.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::constraint::CheckSpec;
use crate::diagnostic::Diagnostic;
use crate::model::{Constraint, ConstraintScope, Interaction, Spec};

/// An end-to-end bound the parts are compared with: a percentile latency bound, or a hard time
/// bound (`percentile: None`), on some operations (`all`, `reads`, …; a time bound is on all).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Whole<'a> {
    pub ms: f64,
    pub percentile: Option<f64>,
    pub operations: &'a str,
}

impl<'a> Whole<'a> {
    pub fn of(check: &'a CheckSpec) -> Option<Whole<'a>> {
        match check {
            CheckSpec::Latency {
                percentile,
                max_ms,
                scope,
            } => Some(Whole {
                ms: *max_ms,
                percentile: Some(*percentile),
                operations: scope,
            }),
            CheckSpec::TimeBound { max_seconds, .. } => Some(Whole {
                ms: max_seconds * 1e3,
                percentile: None,
                operations: "all",
            }),
            _ => None,
        }
    }

    fn words(&self) -> String {
        match self.percentile {
            Some(p) => format!("{} at p{p}", human_ms(self.ms)),
            None => human_ms(self.ms),
        }
    }
}

/// A duration as people write it: "550 ms", "30 s", "90 min", "49 h".
fn human_ms(ms: f64) -> String {
    let round = |x: f64| (x * 1e3).round() / 1e3;
    if ms < 10_000.0 {
        format!("{} ms", round(ms))
    } else if ms < 600_000.0 {
        format!("{} s", round(ms / 1e3))
    } else if ms < 7_200_000.0 {
        format!("{} min", round(ms / 6e4))
    } else {
        format!("{} h", round(ms / 3.6e6))
    }
}

/// One bound a participant declares for itself (a domain-scoped latency or time bound).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Declared<'a> {
    pub constraint: &'a Constraint,
    pub check: &'a CheckSpec,
    pub whole: Whole<'a>,
}

/// Every domain's own latency and time bounds, by domain name (lower case).
pub(crate) struct DomainBounds<'a>(HashMap<String, Vec<Declared<'a>>>);

impl<'a> DomainBounds<'a> {
    pub fn of(spec: &'a Spec) -> DomainBounds<'a> {
        let mut by_domain: HashMap<String, Vec<Declared<'a>>> = HashMap::new();
        for c in &spec.constraints {
            let ConstraintScope::Domain(domain) = &c.scope else {
                continue;
            };
            for check in &c.parsed.checks {
                if let Some(whole) = Whole::of(check) {
                    by_domain
                        .entry(domain.to_lowercase())
                        .or_default()
                        .push(Declared {
                            constraint: c,
                            check,
                            whole,
                        });
                }
            }
        }
        DomainBounds(by_domain)
    }

    /// The participant's own bound that can be compared with `whole` (the constraint
    /// `whole_id`, never a part of itself), the tightest if several: for a percentile bound, a
    /// latency bound at the same or a stricter percentile; for a hard time
    /// bound, a time bound or a latency bound; either on the same operations, or one of the two
    /// on all. `None` when the participant declares nothing comparable.
    pub fn comparable(
        &self,
        participant: &str,
        whole: &Whole,
        whole_id: &str,
    ) -> Option<Declared<'a>> {
        self.0
            .get(&participant.to_lowercase())?
            .iter()
            .filter(|d| d.constraint.id != whole_id)
            .filter(|d| {
                d.whole.operations == whole.operations
                    || d.whole.operations == "all"
                    || whole.operations == "all"
            })
            // A hard time bound a participant states is about one of its operations ("loan
            // decision completes within 30 seconds"), not each call a flow makes: it is no
            // part of a percentile budget.
            .filter(|d| match (whole.percentile, d.whole.percentile) {
                (Some(p), Some(q)) => q >= p,
                (Some(_), None) => false,
                (None, _) => true,
            })
            .min_by(|a, b| {
                let p = |d: &Declared| d.whole.percentile.unwrap_or(100.0);
                match whole.percentile {
                    // Against a percentile: the tightest bound the part keeps.
                    Some(_) => a
                        .whole
                        .ms
                        .total_cmp(&b.whole.ms)
                        .then_with(|| p(b).total_cmp(&p(a))),
                    // Against a hard bound: the part's nearest to its worst case — a hard bound,
                    // else its highest percentile (a p95 of 150 ms says little of the slowest
                    // call when a p99 of 2 s is declared too).
                    None => p(b)
                        .total_cmp(&p(a))
                        .then_with(|| b.whole.ms.total_cmp(&a.whole.ms)),
                }
            })
            .copied()
    }
}

/// Every finding of this module.
pub fn check_interactions(spec: &Spec) -> Vec<Diagnostic> {
    let bounds = DomainBounds::of(spec);
    let domains: BTreeSet<String> = spec.domains.iter().map(|d| d.name.to_lowercase()).collect();
    let mut out = Vec::new();
    let mut wholes: HashMap<&str, Vec<(&Constraint, Whole<'_>)>> = HashMap::new();
    for c in &spec.constraints {
        if let ConstraintScope::Interaction(name) = &c.scope {
            for check in &c.parsed.checks {
                if let Some(whole) = Whole::of(check) {
                    wholes.entry(name.as_str()).or_default().push((c, whole));
                }
            }
        }
    }
    for interaction in &spec.interactions {
        if let Some(list) = wholes.get(interaction.name.as_str()) {
            for (constraint, whole) in list {
                budgets(interaction, constraint, whole, &bounds, &mut out);
            }
        }
        flow_steps(interaction, &domains, &mut out);
    }
    out
}

/// How many times each participant is called along each flow: once per step it is the actor of.
/// Without flow steps, each participant once (they are called in sequence, as
/// `propagate_constraints` assumes).
fn calls_per_flow(interaction: &Interaction) -> Vec<(String, BTreeMap<usize, usize>)> {
    let names = Names::of(&interaction.participants);
    let mut flows = Vec::new();
    for flow in &interaction.flows {
        if flow.steps.is_empty() {
            continue;
        }
        let mut calls = BTreeMap::new();
        for step in &flow.steps {
            if let Some(p) = names.actor(step) {
                *calls.entry(p).or_insert(0) += 1;
            }
        }
        flows.push((format!("along flow `{}`", flow.name), calls));
    }
    if flows.is_empty() {
        let calls = (0..interaction.participants.len())
            .map(|p| (p, 1))
            .collect();
        flows.push(("with each participant called once".to_string(), calls));
    }
    flows
}

fn budgets(
    interaction: &Interaction,
    constraint: &Constraint,
    whole: &Whole,
    bounds: &DomainBounds,
    out: &mut Vec<Diagnostic>,
) {
    for (along, calls) in calls_per_flow(interaction) {
        let mut sum = 0.0;
        let mut parts = Vec::new();
        for (&p, &times) in &calls {
            let participant = &interaction.participants[p];
            let Some(declared) = bounds.comparable(participant, whole, &constraint.id) else {
                continue;
            };
            sum += declared.whole.ms * times as f64;
            let times = if times > 1 {
                format!(" ×{times}")
            } else {
                String::new()
            };
            parts.push(format!(
                "`{participant}` {}{times} (`{}`)",
                declared.whole.words(),
                declared.constraint.id
            ));
        }
        // Parts that declare nothing add at least zero: the declared ones alone decide.
        if sum > whole.ms + 1e-9 {
            out.push(
                Diagnostic::error(
                    "budget-exceeded",
                    format!(
                        "interaction `{}` must finish within {} (`{}`), but {along} its \
                         participants' own bounds add up to {}: {}",
                        interaction.name,
                        whole.words(),
                        constraint.id,
                        human_ms(sum),
                        parts.join(" + ")
                    ),
                )
                .at(&constraint.location)
                .with_help(
                    "the parts must fit in the whole: tighten the participants' bounds or loosen \
                     the end-to-end one (propagate_constraints splits what is left)",
                ),
            );
        }
    }
}

/// Participant names and the words they are made of, lower case, for reading steps.
struct Names<'a> {
    participants: &'a [String],
    lower: Vec<String>,
}

impl<'a> Names<'a> {
    fn of(participants: &'a [String]) -> Names<'a> {
        Names {
            participants,
            lower: participants.iter().map(|p| p.to_lowercase()).collect(),
        }
    }

    /// The participant a token names: its name, or (for a plain word) one of its words,
    /// singular or plural ("Cart" for `shopping_cart`).
    fn named(&self, token: &str) -> Option<usize> {
        let token = token.to_lowercase();
        if let Some(i) = self.lower.iter().position(|p| *p == token) {
            return Some(i);
        }
        if is_identifier(&token) {
            return None;
        }
        self.lower
            .iter()
            .position(|p| words_of(p).any(|w| same_word(w, &token)))
    }

    /// The participant a step is about: the actor at its start if it names one, else the first
    /// participant named anywhere in it.
    fn actor(&self, step: &str) -> Option<usize> {
        let tokens = tokens(step);
        let first = tokens
            .iter()
            .position(|t| !ARTICLES.contains(&t.to_lowercase().as_str()));
        first
            .and_then(|i| self.named(tokens[i]))
            .or_else(|| {
                tokens
                    .iter()
                    .find_map(|t| self.lower.iter().position(|p| *p == t.to_lowercase()))
            })
            .filter(|i| *i < self.participants.len())
    }
}

fn words_of(name: &str) -> impl Iterator<Item = &str> {
    name.split(['_', '.', '-']).filter(|w| w.len() > 1)
}

fn same_word(a: &str, b: &str) -> bool {
    a == b || a.strip_suffix('s') == Some(b) || b.strip_suffix('s') == Some(a)
}

/// A step's words, without the punctuation around them (a trailing `:` or `.` included).
fn tokens(step: &str) -> Vec<&str> {
    step.split_whitespace()
        .map(|t| t.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_' || c == '.')))
        .map(|t| t.trim_end_matches('.'))
        .filter(|t| !t.is_empty())
        .collect()
}

/// `payment_gateway`, `pricing.quote`: a name written as code, not a word.
fn is_identifier(token: &str) -> bool {
    token.chars().next().is_some_and(char::is_alphabetic)
        && (token.contains('_') || (token.contains('.') && token.split('.').all(|s| s.len() > 1)))
        && token
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
}

const ARTICLES: &[&str] = &["the", "a", "an"];

/// Words before which an identifier names who is called ("from pricing_engine").
const CALLS: &[&str] = &[
    "from", "to", "via", "calls", "call", "asks", "notifies", "through", "using", "by", "with",
    "on", "invokes",
];

/// Actors every flow has that are nobody's domain: people and generic callers.
const EXTERNAL_ACTORS: &[&str] = &[
    "user",
    "customer",
    "client",
    "buyer",
    "shopper",
    "seller",
    "merchant",
    "admin",
    "administrator",
    "operator",
    "system",
    "service",
    "server",
    "browser",
    "app",
    "application",
    "frontend",
    "backend",
    "ui",
    "api",
    "caller",
    "visitor",
    "guest",
    "tenant",
    "member",
    "owner",
    "it",
    "they",
    "he",
    "she",
    "someone",
    "scheduler",
    "worker",
    "job",
    "webhook",
    "platform",
];

/// Verbs flow steps are written with, in their base form. The first word of a step in this
/// list is an imperative ("Validate the cart"); the second, with `-s`, is what an actor does.
const VERBS: &[&str] = &[
    "request",
    "reserve",
    "create",
    "capture",
    "confirm",
    "send",
    "call",
    "validate",
    "check",
    "charge",
    "publish",
    "notify",
    "return",
    "receive",
    "update",
    "release",
    "emit",
    "process",
    "compute",
    "calculate",
    "authorize",
    "authorise",
    "verify",
    "record",
    "store",
    "write",
    "read",
    "fetch",
    "query",
    "submit",
    "cancel",
    "refund",
    "ship",
    "deliver",
    "generate",
    "issue",
    "trigger",
    "apply",
    "deduct",
    "allocate",
    "book",
    "approve",
    "reject",
    "forward",
    "respond",
    "reply",
    "ask",
    "schedule",
    "commit",
    "lock",
    "unlock",
    "log",
    "save",
    "delete",
    "remove",
    "add",
    "mark",
    "complete",
    "start",
    "finish",
    "retry",
    "void",
    "post",
    "get",
    "load",
    "build",
    "prepare",
    "register",
    "handle",
    "sign",
    "encrypt",
    "decrypt",
    "invoke",
    "poll",
    "acknowledge",
    "aggregate",
    "look",
    "search",
    "list",
    "index",
    "route",
    "dispatch",
    "enqueue",
    "consume",
    "subscribe",
    "emit",
    "persist",
    "debit",
    "credit",
    "transfer",
    "settle",
    "price",
    "quote",
    "fulfil",
    "fulfill",
    "pack",
    "pick",
    "notify",
    "alert",
    "email",
    "render",
    "display",
    "show",
    "redirect",
    "collect",
    "clear",
    "close",
    "open",
    "assign",
    "reconcile",
    "audit",
    "checkout",
    "pay",
];

fn is_base_verb(word: &str) -> bool {
    VERBS.contains(&word)
}

/// "reserves", "dispatches", "notifies", "tokenizes": what an actor does, in the third person.
fn is_third_person(word: &str) -> bool {
    if word.len() < 4 || !word.ends_with('s') || word.ends_with("ss") {
        return false;
    }
    let stems = [
        word.strip_suffix('s').map(str::to_string),
        word.strip_suffix("es").map(str::to_string),
        word.strip_suffix("ies").map(|s| format!("{s}y")),
    ];
    stems.iter().flatten().any(|s| is_base_verb(s))
        || ["ates", "izes", "ises", "ifies"]
            .iter()
            .any(|suffix| word.ends_with(suffix))
}

/// The name a step gives someone who is neither a participant of the interaction nor a declared
/// domain, if it clearly gives one: an identifier at the step's start (`warehouse_api reserves`,
/// `warehouse:`) or after a word of calling (`from stock_service`), or a capitalised actor
/// followed by a verb in the third person (`Warehouse reserves items`). A step that starts with
/// a verb ("Validate the cart") names no actor.
fn unknown_actor(step: &str, names: &Names, domains: &BTreeSet<String>) -> Option<String> {
    let known = |token: &str| {
        let lower = token.to_lowercase();
        names.named(token).is_some()
            || domains.contains(&lower)
            || lower
                .split('.')
                .next()
                .is_some_and(|service| names.named(service).is_some() || domains.contains(service))
            || (!is_identifier(&lower)
                && domains
                    .iter()
                    .any(|d| words_of(d).any(|w| same_word(w, &lower))))
    };
    let raw: Vec<&str> = step.split_whitespace().collect();
    let tokens = tokens(step);
    let start = tokens
        .iter()
        .position(|t| !ARTICLES.contains(&t.to_lowercase().as_str()))?;
    // `name:` at the step's start.
    if start == 0 {
        if let Some(name) = raw.first().and_then(|w| w.strip_suffix(':')) {
            let name = name.trim_matches(|c: char| !(c.is_alphanumeric() || c == '_'));
            if !name.is_empty() && !known(name) {
                return Some(name.to_string());
            }
            if !name.is_empty() {
                return None;
            }
        }
    }
    for (i, token) in tokens.iter().enumerate() {
        let lower = token.to_lowercase();
        let in_actor_place =
            i == start || (i > 0 && CALLS.contains(&tokens[i - 1].to_lowercase().as_str()));
        if in_actor_place && is_identifier(&lower) && !known(token) {
            return Some(token.to_string());
        }
    }
    let actor = tokens[start];
    let verb = tokens.get(start + 1)?.to_lowercase();
    let lower = actor.to_lowercase();
    let capitalised = actor.chars().next().is_some_and(char::is_uppercase)
        && actor.chars().all(char::is_alphabetic);
    if capitalised
        && !is_identifier(&lower)
        && !is_base_verb(&lower)
        && !EXTERNAL_ACTORS.iter().any(|a| same_word(a, &lower))
        && is_third_person(&verb)
        && !known(actor)
    {
        return Some(actor.to_string());
    }
    // A named actor of up to three words before a verb that takes an object ("The SMS gateway
    // texts the student", "The Registrar's Office approves the request", "EPS transmits the
    // prescription"): reported when no word of it names a participant or domain.
    let verb_at = (start + 1..(start + 4).min(tokens.len())).find(|&j| {
        let word = tokens[j].to_lowercase();
        let object_follows = tokens
            .get(j + 1)
            .is_some_and(|t| OBJECT_OPENERS.contains(&t.to_lowercase().as_str()));
        word.len() > 3
            && word.ends_with('s')
            && !word.ends_with("ss")
            && !word.ends_with("'s")
            && (is_third_person(&word) || object_follows)
    })?;
    let phrase = &tokens[start..verb_at];
    let first_capital = phrase[0].chars().next().is_some_and(char::is_uppercase);
    let words: Vec<String> = phrase
        .iter()
        .map(|w| w.to_lowercase().trim_end_matches("'s").to_string())
        .collect();
    let plain = words.iter().all(|w| {
        w.chars().all(char::is_alphabetic)
            && !is_base_verb(w)
            && !EXTERNAL_ACTORS.iter().any(|a| same_word(a, w))
    });
    // Known when one participant or domain holds every telling word of it ("the payment
    // gateway" is `payment_gateway`; "the inventory service" is `inventory`); "SMS gateway"
    // is not `payment_gateway`.
    const GENERIC: &[&str] = &[
        "service", "system", "api", "server", "module", "app", "backend",
    ];
    let telling: Vec<&String> = words
        .iter()
        .filter(|w| !GENERIC.contains(&w.as_str()))
        .collect();
    let holds_all = |name: &str| {
        telling
            .iter()
            .all(|t| words_of(name).any(|w| same_word(w, t)))
    };
    let known_phrase = telling.is_empty()
        || known(&words.join("_"))
        || names.lower.iter().any(|p| holds_all(p))
        || domains.iter().any(|d| holds_all(d));
    (first_capital && plain && !known_phrase).then(|| phrase.join(" "))
}

/// Words that open a verb's object: after a capitalised subject, a word ending in `s`
/// followed by one of these is the verb ("EPS transmits the prescription").
const OBJECT_OPENERS: &[&str] = &["the", "a", "an", "its", "their", "each", "every", "all"];

fn flow_steps(interaction: &Interaction, domains: &BTreeSet<String>, out: &mut Vec<Diagnostic>) {
    let names = Names::of(&interaction.participants);
    let mut told = BTreeSet::new();
    for flow in &interaction.flows {
        for (n, step) in flow.steps.iter().enumerate() {
            let Some(name) = unknown_actor(step, &names, domains) else {
                continue;
            };
            if !told.insert(name.to_lowercase()) {
                continue;
            }
            let mut listed: Vec<&str> = interaction
                .participants
                .iter()
                .take(6)
                .map(String::as_str)
                .collect();
            if interaction.participants.len() > 6 {
                listed.push("…");
            }
            out.push(
                Diagnostic::warning(
                    "unknown-step-actor",
                    format!(
                        "step {} of flow `{}` in interaction `{}` (\"{step}\") names `{name}`, \
                         which is neither a participant of the interaction nor a declared domain",
                        n + 1,
                        flow.name,
                        interaction.name
                    ),
                )
                .at(flow.steps_at.get(n).unwrap_or(&interaction.location))
                .with_help(format!(
                    "name the participant that does this step ({}), or add `{}` to \
                     `participants:` and declare it as a domain",
                    listed.join(", "),
                    name.to_lowercase()
                )),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn findings(files: &[(&str, &str)]) -> Vec<Diagnostic> {
        check_interactions(&super::super::spec_of(files))
    }

    const SYSTEM: &str = "system: Shop\ndomains:\n  - name: shopping_cart\n  - name: payment_gateway\n  - name: inventory\n";

    fn domain(name: &str, requirement: &str) -> String {
        format!("feature: {name}\ndomain: {name}\nconstraints:\n  performance:\n    - name: Own latency\n      requirement: {requirement}\n")
    }

    const CHECKOUT: &str = "interaction: checkout\nparticipants: [shopping_cart, payment_gateway, inventory]\nflow:\n  - name: Buy\n    steps:\n      1: Cart requests payment from payment_gateway\n      2: Payment_gateway reserves payment\n      3: Inventory reserves items\n      4: Payment_gateway captures payment\nconstraints:\n  - name: End to end\n    requirement: p99 latency < 500ms\n";

    #[test]
    fn declared_bounds_summed_along_the_flow_must_fit_the_whole() {
        let cart = domain("shopping_cart", "p99 latency < 100ms");
        let pay = domain("payment_gateway", "p99.9 latency < 150ms");
        let stock = domain("inventory", "p99 latency < 150ms");
        let d = findings(&[
            ("s.yaml", SYSTEM),
            ("c.yaml", &cart),
            ("p.yaml", &pay),
            ("i.yaml", &stock),
            ("x.yaml", CHECKOUT),
        ]);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert_eq!(d[0].code, "budget-exceeded");
        assert_eq!(
            d[0].message,
            "interaction `checkout` must finish within 500 ms at p99 (`checkout.interaction.end_to_end`), \
             but along flow `Buy` its participants' own bounds add up to 550 ms: `shopping_cart` 100 ms at p99 \
             (`shopping_cart.performance.own_latency`) + `payment_gateway` 150 ms at p99.9 ×2 \
             (`payment_gateway.performance.own_latency`) + `inventory` 150 ms at p99 (`inventory.performance.own_latency`)"
        );
        assert_eq!(d[0].line, Some(11));
    }

    #[test]
    fn what_fits_or_cannot_be_compared_says_nothing() {
        let cases: &[(&str, &str, &str)] = &[
            // Fits: 100 + 2 × 150 + 90 = 490 ≤ 500.
            (
                "p99 latency < 100ms",
                "p99.9 latency < 150ms",
                "p99 latency < 90ms",
            ),
            // p50 and p95 bounds say nothing about p99.
            (
                "p50 latency < 400ms",
                "p95 latency < 400ms",
                "p90 latency < 900ms",
            ),
        ];
        for (a, b, c) in cases {
            let (a, b, c) = (
                domain("shopping_cart", a),
                domain("payment_gateway", b),
                domain("inventory", c),
            );
            let d = findings(&[
                ("s.yaml", SYSTEM),
                ("c.yaml", &a),
                ("p.yaml", &b),
                ("i.yaml", &c),
                ("x.yaml", CHECKOUT),
            ]);
            assert!(d.is_empty(), "{a} {b} {c}: {d:#?}");
        }
    }

    #[test]
    fn time_bounds_compare_with_time_and_latency_bounds() {
        let cart = domain("shopping_cart", "Cart answers within 20 seconds");
        let stock = domain("inventory", "p99 latency < 15s");
        let flow = CHECKOUT.replace(
            "requirement: p99 latency < 500ms",
            "requirement: Entire flow completes or fails within 30 seconds",
        );
        let d = findings(&[
            ("s.yaml", SYSTEM),
            ("c.yaml", &cart),
            ("i.yaml", &stock),
            ("x.yaml", &flow),
        ]);
        assert_eq!(d.len(), 1, "{d:#?}");
        assert!(
            d[0].message.contains("add up to 35 s: `shopping_cart` 20 s (`shopping_cart.performance.own_latency`) + `inventory` 15 s at p99"),
            "{}",
            d[0].message
        );
    }

    #[test]
    fn steps_naming_undeclared_actors() {
        let flow = "interaction: checkout\nparticipants: [shopping_cart, pricing_engine, payment_gateway, inventory]\nflow:\n  - name: Buy\n    steps:\n      - Cart requests final pricing from pricing_engine\n      - Payment_gateway reserves payment authorization\n      - Inventory reserves items\n      - Validate the cart\n      - Reserve items\n      - Customer submits the order\n      - The inventory confirms reservation\n      - Warehouse reserves items\n      - Cart asks stock_service for availability\n      - \"fraud_check: scores the payment\"\n      - Payment_gateway stores payment_id and order.created\n      - Warehouse ships items\n      - billing_engine.charge runs\n      - Search indexes the products\n      - The SMS gateway texts the customer\n      - The Registrar's Office approves the request\n      - EPS transmits the prescription\n      - The payment gateway captures the payment\n      - The inventory service confirms the stock\n";
        let d = findings(&[
            (
                "s.yaml",
                "system: Shop\ndomains:\n  - name: product_search\n",
            ),
            ("x.yaml", flow),
        ]);
        let names: Vec<String> = d
            .iter()
            .map(|d| {
                assert_eq!(d.code, "unknown-step-actor");
                assert_eq!(d.severity, crate::Severity::Warning);
                d.message.split('`').nth(5).unwrap_or_default().to_string()
            })
            .collect();
        assert_eq!(
            names,
            [
                "Warehouse",
                "stock_service",
                "fraud_check",
                "billing_engine.charge",
                "SMS gateway",
                "Registrar's Office",
                "EPS"
            ],
            "{d:#?}"
        );
        assert!(d[0].message.starts_with(
            "step 8 of flow `Buy` in interaction `checkout` (\"Warehouse reserves items\") names `Warehouse`"
        ));
        assert!(d[0]
            .help
            .as_deref()
            .unwrap()
            .contains("add `warehouse` to `participants:`"));
        assert_eq!(d[0].line, Some(13), "at the step itself");
    }

    #[test]
    fn third_person_verbs() {
        let table = [
            ("reserves", true),
            ("dispatches", true),
            ("notifies", true),
            ("tokenizes", true),
            ("items", false),
            ("process", false),
            ("status", false),
            ("is", false),
        ];
        for (word, expected) in table {
            assert_eq!(is_third_person(word), expected, "{word}");
        }
    }

    #[test]
    fn the_seed_checkout_flow_names_only_its_participants() {
        let seed = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../examples/ecommerce_platform/specs/interactions/checkout_flow.yaml"
        ))
        .unwrap();
        assert!(findings(&[("x.yaml", &seed)]).is_empty());
    }
}

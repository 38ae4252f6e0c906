//! The constraint language: the sentences people write, parsed into structured checks.
//!
//! "p95 latency < 100ms for all read operations" becomes
//! `latency { percentile: 95, max_ms: 100, scope: reads }`. A sentence we do not understand is
//! never dropped: it comes back as [`NotCheckable`] with the reason and the structured `check:`
//! block that would make it checkable. A `check:` block in the YAML overrides the text.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A machine check. Written under a constraint's `check:` key, or produced by parsing its text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum CheckSpec {
    /// A latency percentile must stay below a bound.
    Latency {
        /// Percentile, e.g. 95 or 99.9.
        percentile: f64,
        /// Upper bound in milliseconds.
        max_ms: f64,
        /// Which operations: `all`, `reads`, `writes`, or a name such as `search`.
        #[serde(default = "scope_all")]
        scope: String,
    },
    /// Offered load: a sustained request (or business event) rate.
    Throughput {
        /// Rate normalised to events per second.
        per_second: f64,
        /// What is counted (`requests`, `orders`, …).
        #[serde(default = "noun_requests")]
        unit: String,
    },
    /// Simultaneous users or connections.
    Concurrency { users: u64 },
    /// Maximum share of failed requests, in percent. Transport errors and 5xx always count;
    /// 4xx count only as listed here (from the sentence — "including 4xx", "409 counts as an
    /// error" — or a `check:` block), since most 4xx are the client's doing.
    ErrorRate {
        max_percent: f64,
        /// 4xx statuses counted as errors; `[400, …, 499]` for every one.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        counted_4xx: Vec<u16>,
    },
    /// Minimum availability (share of successful probes or time up), in percent.
    Availability { min_percent: f64 },
    /// Minimum share of successful business operations, in percent.
    SuccessRate {
        min_percent: f64,
        #[serde(default = "noun_requests")]
        of: String,
    },
    /// Requests beyond `max_requests` per `window_seconds` per `per` must be refused.
    RateLimit {
        max_requests: u64,
        window_seconds: f64,
        /// Who the limit is counted for: `user`, `ip`, `tenant`, `api_key`, or `global`.
        #[serde(default = "per_user")]
        per: String,
    },
    /// Requests without valid credentials must be refused.
    Authentication {
        /// `jwt`, `api_key`, `session`, or `any`.
        scheme: String,
        /// Endpoints exempt from the rule, as written (`Health check endpoint`, `/health`).
        #[serde(default)]
        exceptions: Vec<String>,
    },
    /// User input must never be interpreted as code (SQL, shell, …): injection probes apply.
    InjectionSafe {
        #[serde(default)]
        classes: Vec<String>,
    },
    /// Something must complete within a time bound.
    TimeBound {
        max_seconds: f64,
        /// What must complete, as written.
        subject: String,
    },
    /// A size bound on input.
    MaxSize {
        max: f64,
        /// `bytes`, `characters` or `items`.
        unit: String,
        subject: String,
    },
    /// Data volume or population the system must handle without degradation.
    Capacity { quantity: f64, of: String },
    /// Data written before the event must still be there after it.
    NoDataLoss { event: String },
    /// What one user creates, another must not read, change, delete or see listed.
    Ownership {
        /// What is owned, as written (`tasks`), or `resources`.
        resource: String,
        /// Only changes are restricted ("only the author can edit a post"): other users may
        /// still read and list what they do not own.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        writes_only: bool,
        /// Who the rule does not bind, as written ("they are admins" from "unless they are
        /// admins"). The probe's users are ordinary users; the exception itself is not probed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        unless: Option<String>,
    },
}

/// 2^53: above it an `f64` no longer holds every whole number, so "10000000000000001 users"
/// would silently become another number.
const MAX_EXACT: f64 = 9_007_199_254_740_992.0;
/// A year: a latency or time bound beyond it is a typo, and no run could measure it.
const MAX_DURATION_SECONDS: f64 = 365.0 * 86_400.0;

fn scope_all() -> String {
    "all".into()
}
fn noun_requests() -> String {
    "requests".into()
}
fn per_user() -> String {
    "user".into()
}

impl CheckSpec {
    pub fn kind(&self) -> &'static str {
        match self {
            CheckSpec::Latency { .. } => "latency",
            CheckSpec::Throughput { .. } => "throughput",
            CheckSpec::Concurrency { .. } => "concurrency",
            CheckSpec::ErrorRate { .. } => "error_rate",
            CheckSpec::Availability { .. } => "availability",
            CheckSpec::SuccessRate { .. } => "success_rate",
            CheckSpec::RateLimit { .. } => "rate_limit",
            CheckSpec::Authentication { .. } => "authentication",
            CheckSpec::InjectionSafe { .. } => "injection_safe",
            CheckSpec::TimeBound { .. } => "time_bound",
            CheckSpec::MaxSize { .. } => "max_size",
            CheckSpec::Capacity { .. } => "capacity",
            CheckSpec::NoDataLoss { .. } => "no_data_loss",
            CheckSpec::Ownership { .. } => "ownership",
        }
    }

    /// Why this check's numbers cannot be checked as written: a negative or zero bound, a
    /// percentile outside (0, 100], a percentage outside [0, 100], a duration longer than a
    /// year, a number that is not finite or too large to be exact. `None` when they can.
    pub fn problem(&self) -> Option<String> {
        self.assess().map(|p| p.reason)
    }

    /// [`CheckSpec::problem`], and whether the number is one that cannot hold at all (a zero or
    /// negative bound or window, a percentile outside (0, 100], availability or success rate
    /// at or below 0 % or above 100 %, an error rate outside [0, 100]): the spec is wrong, not
    /// merely beyond what a run can measure.
    pub fn assess(&self) -> Option<Problem> {
        let usable = |reason: String| Problem {
            reason,
            impossible: false,
        };
        let cannot_hold = |reason: String| Problem {
            reason,
            impossible: true,
        };
        let finite_and_exact = |what: &str, x: f64| -> Option<Problem> {
            if !x.is_finite() {
                Some(usable(format!("the {what} is not a finite number")))
            } else if x.abs() > MAX_EXACT {
                Some(usable(format!(
                    "the {what} ({x}) is beyond {MAX_EXACT}, the largest whole number a check can \
                     hold exactly"
                )))
            } else {
                None
            }
        };
        let positive = |what: &str, x: f64| -> Option<Problem> {
            finite_and_exact(what, x).or_else(|| {
                (x <= 0.0).then(|| cannot_hold(format!("the {what} ({x}) must be above zero")))
            })
        };
        let percent = |what: &str, x: f64| -> Option<Problem> {
            finite_and_exact(what, x).or_else(|| {
                (!(0.0..=100.0).contains(&x)).then(|| {
                    cannot_hold(format!(
                        "the {what} ({x}%) is not a percentage between 0 and 100"
                    ))
                })
            })
        };
        // A floor of 0 % holds whatever happens: nobody means it.
        let floor = |what: &str, x: f64| -> Option<Problem> {
            percent(what, x).or_else(|| {
                (x <= 0.0).then(|| {
                    cannot_hold(format!(
                        "the {what} floor ({x}%) must be above 0%: a floor of zero holds \
                         whatever happens"
                    ))
                })
            })
        };
        let duration = |what: &str, seconds: f64| -> Option<Problem> {
            finite_and_exact(what, seconds)
                .or_else(|| {
                    (seconds <= 0.0).then(|| {
                        cannot_hold(format!("the {what} ({seconds} s) must be above zero"))
                    })
                })
                .or_else(|| {
                    (seconds > MAX_DURATION_SECONDS).then(|| {
                        usable(format!(
                            "the {what} ({seconds} s) is longer than a year: no test run can \
                             measure it; it is probably a typo"
                        ))
                    })
                })
        };
        match self {
            CheckSpec::Latency {
                percentile, max_ms, ..
            } => finite_and_exact("percentile", *percentile)
                .or_else(|| {
                    (!(*percentile > 0.0 && *percentile <= 100.0)).then(|| {
                        cannot_hold(format!(
                            "percentile {percentile} is outside (0, 100]: a percentile is the \
                             share of requests at or below the bound"
                        ))
                    })
                })
                .or_else(|| duration("latency bound", max_ms / 1e3)),
            CheckSpec::Throughput { per_second, .. } => positive("rate", *per_second),
            CheckSpec::Concurrency { users } => positive("number of users", *users as f64),
            CheckSpec::ErrorRate {
                max_percent,
                counted_4xx,
            } => percent("error rate", *max_percent).or_else(|| {
                counted_4xx
                    .iter()
                    .find(|s| !(400..500).contains(*s))
                    .map(|s| usable(format!("{s} is not a 4xx status; counted_4xx lists client errors (5xx always count)")))
            }),
            CheckSpec::Availability { min_percent } => floor("availability", *min_percent),
            CheckSpec::SuccessRate { min_percent, .. } => floor("success rate", *min_percent),
            CheckSpec::RateLimit {
                max_requests,
                window_seconds,
                ..
            } => finite_and_exact("request limit", *max_requests as f64)
                .or_else(|| {
                    // Zero requests per window refuses every request: no service is meant so.
                    (*max_requests == 0).then(|| {
                        cannot_hold(
                            "the request limit (0) must be above zero: a limit of zero refuses \
                             every request"
                                .to_string(),
                        )
                    })
                })
                .or_else(|| duration("rate-limit window", *window_seconds)),
            CheckSpec::TimeBound { max_seconds, .. } => duration("time bound", *max_seconds),
            CheckSpec::MaxSize { max, .. } => positive("size limit", *max),
            CheckSpec::Capacity { quantity, .. } => positive("quantity", *quantity),
            CheckSpec::Authentication { .. }
            | CheckSpec::InjectionSafe { .. }
            | CheckSpec::NoDataLoss { .. }
            | CheckSpec::Ownership { .. } => None,
        }
    }

    /// A load condition (throughput, concurrency, capacity) describes *when* other checks are
    /// measured rather than a pass/fail bound of its own.
    pub fn is_load_condition(&self) -> bool {
        matches!(
            self,
            CheckSpec::Throughput { .. }
                | CheckSpec::Concurrency { .. }
                | CheckSpec::Capacity { .. }
        )
    }
}

/// Why a check's numbers cannot be used as written (see [`CheckSpec::assess`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub reason: String,
    /// The number cannot hold at all (p150, a zero window, 100.5 % availability), as opposed
    /// to a number the checker cannot use (exponent notation, beyond a year, not exact).
    pub impossible: bool,
}

/// Why a constraint could not be turned into a check, and what would make it checkable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NotCheckable {
    pub reason: String,
    /// A `check:` block (YAML) that would make the constraint checkable.
    pub suggestion: String,
    /// True when the reason is a value that cannot hold (availability above 100 %, p150, a
    /// zero or negative bound or window): the constraint is wrong as written, and validation
    /// reports it as the error `impossible-value` rather than as not checkable.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub impossible: bool,
}

/// Where a constraint's checks came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckSource {
    /// Parsed from `requirement` / `measurement` text.
    Text,
    /// Written as a structured `check:` block.
    Structured,
}

/// The machine reading of one constraint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ParsedConstraint {
    pub checks: Vec<CheckSpec>,
    pub source: CheckSource,
    /// Set when no pass/fail check could be derived.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_checkable: Option<NotCheckable>,
}

impl ParsedConstraint {
    pub fn is_checkable(&self) -> bool {
        self.not_checkable.is_none()
    }
}

/// Parse a constraint's sentences. `requirement` carries the bound; `measurement` the load it is
/// measured under; `exceptions` feed authentication checks.
pub fn parse_constraint(
    name: &str,
    requirement: Option<&str>,
    measurement: Option<&str>,
    exceptions: &[String],
) -> ParsedConstraint {
    let requirement_text = requirement.unwrap_or("");
    let refuse = |problem: Problem| ParsedConstraint {
        checks: Vec::new(),
        source: CheckSource::Text,
        not_checkable: Some(NotCheckable {
            reason: problem.reason,
            suggestion: suggestion_for(name, requirement_text),
            impossible: problem.impossible,
        }),
    };
    // Numbers the recognisers would misread (the tokenizer has no sign and no exponent: `-5ms`
    // read as 5 ms, `1e308ms` as a capacity of 1) are refused before any recogniser runs.
    for text in [Some(requirement_text), measurement].into_iter().flatten() {
        if let Some(problem) = number_problem(text) {
            return refuse(problem);
        }
    }
    let mut checks = parse_sentence(requirement_text, exceptions);
    if let Some(measurement) = measurement {
        for check in parse_sentence(measurement, exceptions) {
            if !checks.contains(&check) {
                checks.push(check);
            }
        }
    }
    if let Some(problem) = checks.iter().find_map(CheckSpec::assess) {
        return refuse(problem);
    }
    let has_bound = checks.iter().any(|c| !c.is_load_condition());
    let not_checkable = if requirement_text.trim().is_empty() {
        Some(NotCheckable {
            reason: "the constraint has no `requirement` sentence".into(),
            suggestion: suggestion_for(name, ""),
            impossible: false,
        })
    } else if !has_bound && checks.is_empty() {
        Some(NotCheckable {
            reason: unparsed_reason(requirement_text),
            suggestion: suggestion_for(name, requirement_text),
            impossible: false,
        })
    } else if !has_bound
        && (!is_capacity_requirement(requirement_text) || needs_many_nodes(requirement_text))
    {
        Some(NotCheckable {
            reason: if needs_many_nodes(requirement_text) {
                unparsed_reason(requirement_text)
            } else {
                format!(
                    "only a load condition was found ({}); there is no bound to check under it",
                    checks
                        .iter()
                        .map(CheckSpec::kind)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
            suggestion: suggestion_for(name, requirement_text),
            impossible: false,
        })
    } else {
        None
    };
    ParsedConstraint {
        checks,
        source: CheckSource::Text,
        not_checkable,
    }
}

/// The reading of a structured `check:` block: held to the same ranges as a parsed one, so
/// `max_ms: -5` or `percentile: 101` never reaches a run.
pub fn parse_structured(check: &CheckSpec) -> ParsedConstraint {
    match check.assess() {
        None => ParsedConstraint {
            checks: vec![check.clone()],
            source: CheckSource::Structured,
            not_checkable: None,
        },
        Some(problem) => ParsedConstraint {
            checks: Vec::new(),
            source: CheckSource::Structured,
            not_checkable: Some(NotCheckable {
                reason: problem.reason,
                suggestion:
                    "correct the number in the `check:` block (see specs/sdd-spec.schema.json)"
                        .into(),
                impossible: problem.impossible,
            }),
        },
    }
}

/// A number in `text` that cannot be read as written: negative (`< -5ms`), in exponent notation
/// (`1e308ms`), too large to be exact or not finite, or a percentile word outside (0, 100]
/// (`p101`, `p0`). The reason names the number and says what to write instead.
fn number_problem(text: &str) -> Option<Problem> {
    let chars: Vec<char> = text.chars().collect();
    let word_at = |i: usize| -> String {
        chars[i..]
            .iter()
            .take_while(|d| !d.is_whitespace())
            .take(40)
            .collect()
    };
    for (i, &c) in chars.iter().enumerate() {
        let starts_number = |j: usize| {
            chars.get(j).is_some_and(|d| d.is_ascii_digit())
                || (chars.get(j) == Some(&'.')
                    && chars.get(j + 1).is_some_and(|d| d.is_ascii_digit()))
        };
        // A minus sign at the start of a number, not a hyphen between words or a range (`5-10`).
        if (c == '-' || c == '\u{2212}')
            && starts_number(i + 1)
            && (i == 0 || chars[i - 1].is_whitespace() || "<>=≤≥(:,".contains(chars[i - 1]))
        {
            return Some(Problem {
                reason: format!(
                    "`{}` is negative: a bound on time, rate, size or share cannot be below \
                     zero; write the positive bound (e.g. `< 5ms`)",
                    word_at(i)
                ),
                impossible: true,
            });
        }
        // `1e3`: a digit that starts a number, then an exponent.
        let starts_here = c.is_ascii_digit()
            && (i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.'));
        if starts_here {
            let mut j = i;
            while chars
                .get(j)
                .is_some_and(|d| d.is_ascii_digit() || *d == '.' || *d == ',')
            {
                j += 1;
            }
            if matches!(chars.get(j), Some('e' | 'E')) {
                let sign = usize::from(matches!(chars.get(j + 1), Some('+' | '-')));
                if chars.get(j + 1 + sign).is_some_and(|d| d.is_ascii_digit()) {
                    return Some(Problem {
                        reason: format!(
                            "`{}` is in exponent notation, which constraint sentences do not \
                             use; write the number out with its unit (e.g. `500ms`, `10 million`)",
                            word_at(i)
                        ),
                        impossible: false,
                    });
                }
            }
        }
    }
    let lower = text.to_lowercase();
    for token in tokenize(&lower) {
        match token {
            Token::Number(n) if !n.is_finite() || n > MAX_EXACT => {
                return Some(Problem {
                    reason: format!(
                        "a number in the sentence is beyond {MAX_EXACT}, the largest whole \
                         number a check can hold exactly; no real bound is that large"
                    ),
                    impossible: false,
                });
            }
            Token::Word(w)
                if w.starts_with('p') && w[1..].starts_with(|d: char| d.is_ascii_digit()) =>
            {
                if let Ok(p) = w[1..].parse::<f64>() {
                    if !(p > 0.0 && p <= 100.0) {
                        return Some(Problem {
                            reason: format!(
                                "`{w}`: percentile {p} is outside (0, 100]; a percentile is the \
                                 share of requests at or below the bound (e.g. `p95`, `p99.9`)"
                            ),
                            impossible: true,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// "Support 10,000 active tenants" is itself the requirement: capacity is the bound.
fn is_capacity_requirement(text: &str) -> bool {
    let lower = text.to_lowercase();
    [
        "support",
        "maintain",
        "handle",
        "without degradation",
        "per tenant",
        "peak",
    ]
    .iter()
    .any(|w| lower.contains(w))
}

fn needs_many_nodes(text: &str) -> bool {
    let lower = text.to_lowercase();
    (lower.contains("scale") || lower.contains("replica")) && lower.contains("node")
}

fn unparsed_reason(text: &str) -> String {
    let lower = text.to_lowercase();
    if let Some(word) = vague_word(&lower) {
        if !has_digit(&lower) {
            return format!("`{word}` is not measurable: the sentence has no number or unit");
        }
    }
    if lower.contains("latency") || lower.contains("response time") {
        return "a latency bound needs a percentile and a limit, e.g. `p95 < 100ms`".into();
    }
    if lower.contains("scale") && lower.contains("node") {
        return "horizontal scaling across nodes needs a multi-node deployment; a single-machine \
                run cannot measure it"
            .into();
    }
    if lower.contains("complian")
        || lower.contains("gdpr")
        || lower.contains("pci")
        || lower.contains("soc 2")
    {
        return "a compliance regime is a process and an audit, not a property a test run can measure".into();
    }
    if lower.contains("tenant")
        && (lower.contains("access") || lower.contains("isolat") || lower.contains("impact"))
    {
        return "tenant isolation needs a cross-tenant probe that names the tenants and the data; \
                no such probe is described"
            .into();
    }
    "no known check pattern (latency percentile, rate, error rate, availability, rate limit, \
     authentication, injection, time bound, size, capacity, data loss, ownership) matches the sentence"
        .into()
}

fn suggestion_for(name: &str, text: &str) -> String {
    let lower = format!("{} {}", name.to_lowercase(), text.to_lowercase());
    let example = if lower.contains("latency")
        || lower.contains("response")
        || lower.contains("fast")
    {
        "check:\n  kind: latency\n  percentile: 95\n  max_ms: 100\n  scope: all"
    } else if lower.contains("avail") || lower.contains("uptime") {
        "check:\n  kind: availability\n  min_percent: 99.9"
    } else if lower.contains("error") || lower.contains("fail") {
        "check:\n  kind: error_rate\n  max_percent: 0.1"
    } else if lower.contains("rate") || lower.contains("limit") {
        "check:\n  kind: rate_limit\n  max_requests: 100\n  window_seconds: 60\n  per: user"
    } else if lower.contains("auth") || lower.contains("token") {
        "check:\n  kind: authentication\n  scheme: jwt\n  exceptions: [/health]"
    } else if lower.contains("loss") || lower.contains("durab") || lower.contains("restart") {
        "check:\n  kind: no_data_loss\n  event: restart"
    } else if lower.contains("within") || lower.contains("time") || lower.contains("second") {
        "check:\n  kind: time_bound\n  max_seconds: 30\n  subject: the whole flow"
    } else {
        "check:\n  kind: latency | throughput | error_rate | availability | rate_limit | authentication | injection_safe | time_bound | max_size | capacity | no_data_loss\n  # plus the fields of that kind (see specs/sdd-spec.schema.json)"
    };
    example.to_string()
}

/// Words that sound like requirements but measure nothing.
pub const VAGUE_WORDS: &[&str] = &[
    "fast",
    "quickly",
    "quick",
    "slow",
    "efficient",
    "efficiently",
    "responsive",
    "scalable",
    "user-friendly",
    "intuitive",
    "robust",
    "reasonable",
    "appropriate",
    "soon",
    "seamless",
    "seamlessly",
    "performant",
    "high performance",
    "as needed",
    "etc",
    // Judgements of how something feels to use: no number or value can satisfy them.
    "smoothly",
    "user friendly",
    "easy to use",
    "intuitively",
    "snappy",
    "in a timely manner",
];

/// The first vague word in `lower` (already lowercased), matched on word boundaries.
pub fn vague_word(lower: &str) -> Option<&'static str> {
    VAGUE_WORDS
        .iter()
        .copied()
        .find(|word| contains_word(lower, word))
}

pub fn has_digit(text: &str) -> bool {
    text.chars().any(|c| c.is_ascii_digit())
}

/// Whether `word` (a word or phrase) is in `haystack` with no letter or digit right before or
/// after it: `works` is not in `networks`.
pub(crate) fn contains_word(haystack: &str, word: &str) -> bool {
    let bytes = haystack.as_bytes();
    let mut start = 0;
    while let Some(found) = haystack[start..].find(word) {
        let begin = start + found;
        let end = begin + word.len();
        let before_ok = begin == 0 || !bytes[begin - 1].is_ascii_alphanumeric();
        let after_ok = end == bytes.len() || !bytes[end].is_ascii_alphanumeric();
        if before_ok && after_ok {
            return true;
        }
        start = begin + 1;
    }
    false
}

/// Parse one sentence into every check it states.
pub fn parse_sentence(text: &str, exceptions: &[String]) -> Vec<CheckSpec> {
    let lower = text.to_lowercase().replace('≤', "<=").replace('≥', ">=");
    let tokens = tokenize(&lower);
    let mut checks = Vec::new();

    let latency = latency(&tokens, &lower);
    let has_latency = latency.is_some();
    checks.extend(latency);
    let rate_limit = rate_limit(&tokens, &lower);
    let has_rate_limit = rate_limit.is_some();
    checks.extend(rate_limit);
    if !has_rate_limit {
        checks.extend(throughput(&tokens));
    }
    checks.extend(concurrency(&tokens));
    checks.extend(percent_checks(&tokens, &lower));
    checks.extend(authentication(&lower, exceptions));
    checks.extend(injection(&lower));
    checks.extend(no_data_loss(&lower));
    checks.extend(ownership(&lower));
    // A latency sentence already carries its bound ("median latency must be under 80 ms").
    if !has_latency {
        checks.extend(time_bound(&tokens, &lower));
    }
    checks.extend(max_size(&tokens, &lower));
    if checks.is_empty() {
        checks.extend(capacity(&tokens));
    }
    checks
}

/// Tokens: numbers (with `,` grouping and `k`/`m` suffixes kept for the number reader), words,
/// and single punctuation characters.
#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Word(String),
    Punct(char),
}

fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_ascii_digit() || (c == '.' && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            let mut digits = String::new();
            // Digits since the start or the last group separator.
            let mut group = 0usize;
            while i < chars.len() {
                let d = chars[i];
                // "1,000", and "1 000" / "1\u{a0}000" as SI and French write it: a space
                // groups only a whole group of three digits after at most three.
                let three_more =
                    (1..=3).all(|k| chars.get(i + k).is_some_and(|n| n.is_ascii_digit()));
                let grouping = three_more
                    && (d == ','
                        || matches!(d, ' ' | '\u{a0}' | '\u{202f}')
                            && (1..=3).contains(&group)
                            && !digits.contains('.')
                            && !chars.get(i + 4).is_some_and(|n| n.is_ascii_digit()));
                if d.is_ascii_digit()
                    || d == '.' && chars.get(i + 1).is_some_and(|n| n.is_ascii_digit())
                {
                    digits.push(d);
                    group += 1;
                } else if !grouping {
                    break;
                } else {
                    group = 0;
                }
                i += 1;
            }
            let mut value: f64 = digits.parse().unwrap_or(0.0);
            // Attached multiplier suffixes: 100k, 1M (but not "ms", "min", "mb").
            if let Some(&s) = chars.get(i) {
                let next = chars.get(i + 1).copied().unwrap_or(' ');
                if (s == 'k' || s == 'm') && !next.is_alphanumeric() {
                    value *= if s == 'k' { 1e3 } else { 1e6 };
                    i += 1;
                }
            }
            tokens.push(Token::Number(value));
        } else if c.is_alphabetic() || c == '_' {
            let mut word = String::new();
            while i < chars.len()
                && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '-')
            {
                word.push(chars[i]);
                i += 1;
            }
            // "p95", "p99.9": percentile words keep their decimals.
            if word.starts_with('p')
                && word.len() > 1
                && word[1..].chars().all(|d| d.is_ascii_digit())
                && chars.get(i) == Some(&'.')
                && chars.get(i + 1).is_some_and(|d| d.is_ascii_digit())
            {
                {
                    word.push('.');
                    i += 1;
                    while i < chars.len() && chars[i].is_ascii_digit() {
                        word.push(chars[i]);
                        i += 1;
                    }
                }
            }
            // Spelled multipliers: "10 million", "5 thousand".
            let multiplier = match word.as_str() {
                "thousand" => Some(1e3),
                "million" => Some(1e6),
                "billion" => Some(1e9),
                _ => None,
            };
            match (multiplier, tokens.last_mut()) {
                (Some(m), Some(Token::Number(n))) => *n *= m,
                _ => tokens.push(Token::Word(word)),
            }
        } else if !c.is_whitespace() {
            tokens.push(Token::Punct(c));
            i += 1;
        } else {
            i += 1;
        }
    }
    tokens
}

fn word(tokens: &[Token], i: usize) -> Option<&str> {
    match tokens.get(i) {
        Some(Token::Word(w)) => Some(w.as_str()),
        _ => None,
    }
}

fn number(tokens: &[Token], i: usize) -> Option<f64> {
    match tokens.get(i) {
        Some(Token::Number(n)) => Some(*n),
        _ => None,
    }
}

/// Seconds per duration unit word.
fn duration_unit(word: &str) -> Option<f64> {
    Some(match word {
        "ms" | "msec" | "millisecond" | "milliseconds" => 1e-3,
        "us" | "µs" | "microsecond" | "microseconds" => 1e-6,
        "s" | "sec" | "secs" | "second" | "seconds" => 1.0,
        "min" | "mins" | "minute" | "minutes" => 60.0,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600.0,
        "day" | "days" => 86400.0,
        "week" | "weeks" => 604800.0,
        _ => return None,
    })
}

/// Seconds per rate denominator ("second", "minute", "hour", "s").
fn rate_unit(word: &str) -> Option<f64> {
    match word {
        "s" | "sec" | "second" => Some(1.0),
        "min" | "minute" => Some(60.0),
        "h" | "hr" | "hour" => Some(3600.0),
        "day" => Some(86400.0),
        _ => None,
    }
}

/// A duration at `i` (number then unit, or number glued to `ms`), in seconds, and the index after.
fn duration_at(tokens: &[Token], i: usize) -> Option<(f64, usize)> {
    let n = number(tokens, i)?;
    let unit = duration_unit(word(tokens, i + 1)?)?;
    Some((n * unit, i + 2))
}

/// The first duration after index `from`, in seconds.
fn first_duration(tokens: &[Token], from: usize) -> Option<(f64, usize)> {
    (from..tokens.len()).find_map(|i| duration_at(tokens, i).map(|(d, _)| (d, i)))
}

fn latency(tokens: &[Token], lower: &str) -> Option<CheckSpec> {
    let (index, percentile) = tokens.iter().enumerate().find_map(|(i, t)| match t {
        Token::Word(w) if w.starts_with('p') && w.len() > 1 => {
            w[1..].parse::<f64>().ok().map(|p| (i, p))
        }
        Token::Word(w) if w == "median" => Some((i, 50.0)),
        // "99th percentile", "95 percentile", "the 99.9th percentile".
        Token::Number(n) => {
            let at = match word(tokens, i + 1) {
                Some("th" | "st" | "nd" | "rd") => i + 2,
                _ => i + 1,
            };
            (word(tokens, at) == Some("percentile")).then_some((at, *n))
        }
        _ => None,
    })?;
    if !(0.0..=100.0).contains(&percentile) {
        return None;
    }
    let (seconds, _) = first_duration(tokens, index + 1)?;
    let scope = if lower.contains("read") || lower.contains(" get ") || lower.contains("list") {
        "reads"
    } else if ["write", "create", "update", "delete", "post"]
        .iter()
        .any(|w| lower.contains(w))
    {
        "writes"
    } else if lower.contains("search") {
        "search"
    } else {
        "all"
    };
    Some(CheckSpec::Latency {
        percentile,
        max_ms: round3(seconds * 1e3),
        scope: scope.into(),
    })
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// "1000 requests/second", "100k orders/hour", "500 rps", "200 req/s", "50 requests per second".
fn throughput(tokens: &[Token]) -> Option<CheckSpec> {
    for i in 0..tokens.len() {
        let Some(n) = number(tokens, i) else { continue };
        let Some(noun) = word(tokens, i + 1) else {
            continue;
        };
        if noun == "rps" || noun == "qps" {
            return Some(CheckSpec::Throughput {
                per_second: n,
                unit: "requests".into(),
            });
        }
        if duration_unit(noun).is_some() || noun == "concurrent" || noun == "per" {
            continue;
        }
        let denominator = match (tokens.get(i + 2), word(tokens, i + 3)) {
            (Some(Token::Punct('/')), Some(unit)) => rate_unit(unit),
            (Some(Token::Word(per)), Some(unit)) if per == "per" => rate_unit(unit),
            _ => None,
        };
        if let Some(seconds) = denominator {
            let unit = match noun {
                "req" | "request" | "requests" | "calls" | "call" => "requests",
                other => other,
            };
            return Some(CheckSpec::Throughput {
                per_second: round3(n / seconds),
                unit: unit.to_string(),
            });
        }
    }
    None
}

/// "Max 100 requests per minute per user", "at most 10 requests/second per IP".
fn rate_limit(tokens: &[Token], lower: &str) -> Option<CheckSpec> {
    let limiting = [
        "max",
        "maximum",
        "most",
        "limit",
        "limited",
        "exceed",
        "more",
        "capped",
        "cap",
        "throttled",
        "throttle",
    ]
    .iter()
    .any(|w| contains_word(lower, w));
    if !limiting {
        return None;
    }
    for i in 0..tokens.len() {
        let Some(n) = number(tokens, i) else { continue };
        // "30 requests per minute", or "capped at 30 per minute" when the sentence is about
        // requests.
        let counted = |w: &str| {
            matches!(
                w,
                "requests" | "request" | "req" | "calls" | "call" | "attempts" | "login"
            )
        };
        let noun_at = match word(tokens, i + 1) {
            Some(noun) if counted(noun) => i + 1,
            Some("per" | "a" | "an" | "each" | "every")
                if lower.contains("request") || lower.contains("call") =>
            {
                i
            }
            None if matches!(tokens.get(i + 1), Some(Token::Punct('/')))
                && (lower.contains("request") || lower.contains("call")) =>
            {
                i
            }
            _ => continue,
        };
        let i = noun_at - 1;
        let (window, next) = match (tokens.get(i + 2), word(tokens, i + 3)) {
            (Some(Token::Punct('/')), Some(unit)) => (rate_unit(unit), i + 4),
            (Some(Token::Word(per)), Some(unit))
                if matches!(per.as_str(), "per" | "a" | "an" | "each" | "every") =>
            {
                (rate_unit(unit), i + 4)
            }
            // "per 10 seconds", "per 0 seconds": the window as written, so a zero one is seen.
            (Some(Token::Word(per)), None) if per == "per" => match duration_at(tokens, i + 3) {
                Some((seconds, after)) => (Some(seconds), after),
                None => (None, i),
            },
            _ => (None, i),
        };
        let Some(window_seconds) = window else {
            continue;
        };
        let per = match (word(tokens, next), word(tokens, next + 1)) {
            (Some("per"), Some(who)) => match who {
                "user" | "users" | "account" | "client" => "user",
                "ip" | "address" => "ip",
                "tenant" => "tenant",
                "api" | "key" | "token" => "api_key",
                _ => "user",
            },
            _ => "global",
        };
        return Some(CheckSpec::RateLimit {
            max_requests: n as u64,
            window_seconds,
            per: per.into(),
        });
    }
    None
}

/// "Support 10,000 concurrent users".
/// A burst of requests a scenario sets up: "sends 150 requests in one minute" → (150, 60 s).
/// The window is needed: without one, the count says nothing against a rate limit.
pub fn request_burst(text: &str) -> Option<(u64, f64)> {
    if !text.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let tokens = tokenize(&text.to_lowercase());
    for i in 0..tokens.len() {
        let Some(n) = number(&tokens, i) else {
            continue;
        };
        // "150 requests", "150 search requests", "150 api calls".
        let Some(noun_at) = (i + 1..(i + 3).min(tokens.len())).find(|&j| {
            matches!(
                word(&tokens, j),
                Some("requests" | "calls" | "attempts" | "searches" | "times")
            )
        }) else {
            continue;
        };
        for j in noun_at + 1..(noun_at + 6).min(tokens.len()) {
            if !matches!(
                word(&tokens, j),
                Some("in" | "within" | "per" | "during" | "over" | "inside")
            ) {
                continue;
            }
            let (count, unit_at) = match (number(&tokens, j + 1), word(&tokens, j + 1)) {
                (Some(k), _) => (k, j + 2),
                (None, Some("one" | "a" | "an" | "the" | "1")) => (1.0, j + 2),
                (None, Some(_)) => (1.0, j + 1),
                _ => continue,
            };
            let unit_at = if word(&tokens, unit_at) == Some("single") {
                unit_at + 1
            } else {
                unit_at
            };
            if let Some(unit) = word(&tokens, unit_at).and_then(duration_unit) {
                if n >= 1.0 && n.fract() == 0.0 && count > 0.0 {
                    return Some((n as u64, count * unit));
                }
            }
        }
    }
    None
}

fn concurrency(tokens: &[Token]) -> Option<CheckSpec> {
    (0..tokens.len()).find_map(|i| {
        let n = number(tokens, i)?;
        (word(tokens, i + 1)? == "concurrent").then_some(CheckSpec::Concurrency { users: n as u64 })
    })
}

/// Percentages: availability, error rate, success rate.
fn percent_checks(tokens: &[Token], lower: &str) -> Option<CheckSpec> {
    let percent = (0..tokens.len()).find_map(|i| {
        (tokens.get(i + 1) == Some(&Token::Punct('%')))
            .then(|| number(tokens, i))
            .flatten()
    })?;
    if lower.contains("error") {
        return Some(CheckSpec::ErrorRate {
            max_percent: percent,
            counted_4xx: counted_4xx(tokens),
        });
    }
    if lower.contains("availab") || lower.contains("uptime") {
        return Some(CheckSpec::Availability {
            min_percent: percent,
        });
    }
    if lower.contains("success") || lower.contains("completion") {
        let of = if lower.contains("order") {
            "orders"
        } else {
            "requests"
        };
        return Some(CheckSpec::SuccessRate {
            min_percent: percent,
            of: of.into(),
        });
    }
    None
}

/// The 4xx statuses an error-rate sentence counts: every one for "4xx", "client errors",
/// "any non-2xx" or "any status"; the codes it names ("409 and 422 count as errors"); otherwise
/// none. A negated mention takes its statuses out instead — "excluding 4xx", "without 4xx",
/// "not including 4xx", "other than 4xx", "4xx not counted", "404 does not count" — so
/// "including 4xx except 404" is every 4xx but 404, and "excluding 4xx" is none. (Read the
/// other way round, a sentence that exempts client errors once had them counted.) A number
/// with a unit after it ("at 450 requests per second", "under 400ms") is no status.
fn counted_4xx(tokens: &[Token]) -> Vec<u16> {
    let mut counted = std::collections::BTreeSet::new();
    let mut taken_out = std::collections::BTreeSet::new();
    for mention in status_mentions(tokens) {
        let statuses: Vec<u16> = match mention.status {
            Some(code) => vec![code],
            None => (400..500).collect(),
        };
        if negated(tokens, &mention) {
            taken_out.extend(statuses);
        } else {
            counted.extend(statuses);
        }
    }
    counted.difference(&taken_out).copied().collect()
}

/// Where an error-rate sentence names 4xx statuses: one (`status`) or all of them (`None`),
/// over `tokens[start..end]`.
struct StatusMention {
    status: Option<u16>,
    start: usize,
    end: usize,
}

/// The length of the mention of every 4xx at `i`: "4xx", "client errors", "non-2xx", "any
/// status".
fn all_4xx_at(tokens: &[Token], i: usize) -> Option<usize> {
    let w = |k: usize| word(tokens, k).unwrap_or("");
    let class =
        |k: usize, digit: f64| number(tokens, k) == Some(digit) && w(k + 1).starts_with("xx");
    if class(i, 4.0) {
        return Some(2);
    }
    if w(i) == "client" && w(i + 1).starts_with("error") || w(i).starts_with("client-error") {
        return Some(if w(i) == "client" { 2 } else { 1 });
    }
    // One hyphenated word: "non-2xx", "http-4xx".
    if w(i).starts_with("non-2xx") || w(i).split('-').skip(1).any(|p| p.starts_with("4xx")) {
        return Some(1);
    }
    if w(i) == "non" && class(i + 1, 2.0) {
        return Some(3);
    }
    if w(i) == "any" && matches!(w(i + 1), "status" | "statuses") {
        return Some(2);
    }
    None
}

/// The length of a mention of 5xx at `i` ("5xx", "server errors"): part of a list of the
/// statuses a negation may cover, never counted here (5xx always count).
fn server_errors_at(tokens: &[Token], i: usize) -> Option<usize> {
    let w = |k: usize| word(tokens, k).unwrap_or("");
    if number(tokens, i) == Some(5.0) && w(i + 1).starts_with("xx") {
        return Some(2);
    }
    (w(i) == "server" && w(i + 1).starts_with("error")).then_some(2)
}

/// Every mention of 4xx statuses, in order.
fn status_mentions(tokens: &[Token]) -> Vec<StatusMention> {
    let mut mentions = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        if let Some(len) = all_4xx_at(tokens, i) {
            mentions.push(StatusMention {
                status: None,
                start: i,
                end: i + len,
            });
            i += len;
            continue;
        }
        let unit_after = match tokens.get(i + 1) {
            Some(Token::Punct(c)) => matches!(c, '%' | '/'),
            // "404s" is a plural, not seconds.
            Some(Token::Word(w)) => {
                w != "s"
                    && (duration_unit(w).is_some()
                        || size_unit(w).is_some()
                        || matches!(
                            w.as_str(),
                            "req"
                                | "reqs"
                                | "request"
                                | "requests"
                                | "rps"
                                | "qps"
                                | "user"
                                | "users"
                                | "connection"
                                | "connections"
                        ))
            }
            _ => false,
        };
        match number(tokens, i) {
            Some(n) if n.fract() == 0.0 && (400.0..500.0).contains(&n) && !unit_after => {
                mentions.push(StatusMention {
                    status: Some(n as u16),
                    start: i,
                    end: i + 1,
                });
            }
            _ => {}
        }
        i += 1;
    }
    mentions
}

/// Tokens a negation reaches across to the statuses it is about: list punctuation and words,
/// other mentions of statuses, and words that only name what they are ("HTTP status codes",
/// "errors", "for").
fn list_or_filler_len(tokens: &[Token], i: usize) -> Option<usize> {
    if let Some(len) = all_4xx_at(tokens, i).or_else(|| server_errors_at(tokens, i)) {
        return Some(len);
    }
    match tokens.get(i)? {
        Token::Punct(',' | '/' | '&' | '(') => Some(1),
        Token::Number(n) if n.fract() == 0.0 && (400.0..500.0).contains(n) => Some(1),
        Token::Word(w) => matches!(
            w.as_str(),
            "and"
                | "or"
                | "the"
                | "any"
                | "all"
                | "http"
                | "status"
                | "statuses"
                | "code"
                | "codes"
                | "response"
                | "responses"
                | "error"
                | "errors"
                | "for"
                | "of"
                | "s"
        )
        .then_some(1),
        _ => None,
    }
}

/// `tokens[i]` ends "n't" (`don't`, `doesn't`, `aren't`: "don", "'", "t").
fn contracted_not_at(tokens: &[Token], i: usize) -> bool {
    word(tokens, i) == Some("t")
        && matches!(
            tokens.get(i.wrapping_sub(1)),
            Some(Token::Punct('\'' | '\u{2019}'))
        )
        && word(tokens, i.wrapping_sub(2)).is_some_and(|w| w.ends_with('n'))
}

/// Whether a mention of statuses is negated: by what comes before it ("excluding", "except
/// for", "without", "not", "other than", "apart from", "not including", "without counting",
/// "don't count"), across a list ("excluding 404, 409 and 422"); or by what its sentence says
/// of it after ("4xx not counted", "404 does not count", "4xx are excluded", "4xx don't
/// count"), but not by a "not" about something else ("4xx must not exceed 1%", "4xx, not
/// 5xx").
fn negated(tokens: &[Token], mention: &StatusMention) -> bool {
    // Backwards: skip the list the mention is part of, then read the word before it.
    let mut k = mention.start;
    while k > 0 {
        // The longest item first: "client errors" is one mention, not a filler and a word.
        let before = (1..=3.min(k))
            .rev()
            .find(|len| list_or_filler_len(tokens, k - len) == Some(*len));
        match before {
            Some(len) => k -= len,
            None => break,
        }
    }
    if k > 0 {
        let at = k - 1;
        let negator_before = |i: usize| {
            matches!(
                word(tokens, i),
                Some("not" | "without" | "never" | "dont" | "doesnt")
            ) || contracted_not_at(tokens, i)
        };
        let prefix = match word(tokens, at) {
            Some(
                "excluding" | "exclude" | "excludes" | "excluded" | "except" | "excepting"
                | "without" | "ignoring" | "ignore" | "ignores" | "minus" | "barring" | "not"
                | "never",
            ) => true,
            Some("including" | "include" | "includes" | "counting" | "count" | "counts") => {
                at > 0 && negator_before(at - 1)
            }
            Some("than") => matches!(word(tokens, at.wrapping_sub(1)), Some("other" | "rather")),
            Some("from") => matches!(word(tokens, at.wrapping_sub(1)), Some("apart" | "aside")),
            _ => false,
        };
        if prefix {
            return true;
        }
    }
    // Forwards: past the list and the auxiliaries, the predicate.
    let mut k = mention.end;
    loop {
        if let Some(len) = list_or_filler_len(tokens, k) {
            k += len;
            continue;
        }
        match word(tokens, k) {
            Some(
                "are" | "is" | "do" | "does" | "should" | "shall" | "must" | "will" | "would"
                | "be" | "being" | "also",
            ) => k += 1,
            _ => break,
        }
    }
    let negator_len = match word(tokens, k) {
        Some("excluded" | "ignored" | "exempt" | "exempted" | "omitted") => return true,
        Some("not" | "never" | "dont" | "doesnt" | "arent" | "isnt") => 1,
        Some(w) if w.ends_with('n') && contracted_not_at(tokens, k + 2) => 3,
        _ => return false,
    };
    // Only a "not" about counting: "4xx must not exceed 1%" is the limit, and "4xx, not 5xx"
    // is about 5xx.
    let mut k = k + negator_len;
    while matches!(word(tokens, k), Some("be" | "being" | "been")) {
        k += 1;
    }
    // "…, 404 does not": the verb is the sentence's, left out.
    let elided = matches!(
        tokens.get(k),
        None | Some(Token::Punct(';' | '.' | ',' | ')'))
    );
    elided
        || matches!(
            word(tokens, k),
            Some(
                "count"
                    | "counts"
                    | "counted"
                    | "counting"
                    | "include"
                    | "included"
                    | "considered"
                    | "treated"
                    | "tracked"
                    | "errors"
                    | "error"
                    | "failures"
                    | "failure"
                    | "an"
                    | "a"
                    | "part"
            )
        )
}

fn authentication(lower: &str, exceptions: &[String]) -> Option<CheckSpec> {
    let credential = [
        "jwt",
        "token",
        "authenticat",
        "api key",
        "credential",
        "logged in",
        "login",
    ]
    .iter()
    .any(|w| lower.contains(w));
    let mandatory = ["require", "must", "only", "all ", "every"]
        .iter()
        .any(|w| lower.contains(w));
    if !(credential && mandatory) || lower.contains("rate") {
        return None;
    }
    let scheme = if lower.contains("jwt") {
        "jwt"
    } else if lower.contains("api key") {
        "api_key"
    } else if lower.contains("session") {
        "session"
    } else {
        "any"
    };
    Some(CheckSpec::Authentication {
        scheme: scheme.into(),
        exceptions: exceptions.to_vec(),
    })
}

fn injection(lower: &str) -> Option<CheckSpec> {
    if !(lower.contains("injection")
        || lower.contains("parameterized")
        || lower.contains("parametrized"))
    {
        return None;
    }
    let mut classes = Vec::new();
    for (needle, class) in [
        ("sql", "sql"),
        ("parameteri", "sql"),
        ("parametri", "sql"),
        ("nosql", "nosql"),
        ("shell", "shell"),
        ("command", "shell"),
        ("path", "path_traversal"),
        ("script", "script"),
        ("xss", "script"),
    ] {
        if lower.contains(needle) && !classes.contains(&class.to_string()) {
            classes.push(class.to_string());
        }
    }
    Some(CheckSpec::InjectionSafe { classes })
}

fn no_data_loss(lower: &str) -> Option<CheckSpec> {
    if !(lower.contains("no data loss")
        || lower.contains("without data loss")
        || lower.contains("not lose"))
    {
        return None;
    }
    let event = lower
        .split_once(" on ")
        .or_else(|| lower.split_once(" during "))
        .or_else(|| lower.split_once(" after "))
        .map(|(_, rest)| rest.trim().trim_end_matches('.').to_string())
        .unwrap_or_else(|| "restart".into());
    Some(CheckSpec::NoDataLoss { event })
}

/// "Users can only access their own tasks", "only the owner can complete a task", "users must
/// not see other users' tasks", "only the author can edit": objects belong to the user who
/// created them. A sentence that only grants ("users can access their own tasks") restricts
/// nothing; one that names only changes ("edit", "delete") leaves reading open; an "unless …"
/// or "except …" clause is kept as the rule's exception.
fn ownership(lower: &str) -> Option<CheckSpec> {
    const READS: [&str; 7] = ["access", "see", "read", "view", "list", "open", "manage"];
    const WRITES: [&str; 11] = [
        "modify", "change", "edit", "update", "delete", "complete", "remove", "amend", "withdraw",
        "cancel", "close",
    ];
    const OWNERS: [&str; 6] = [
        "owner", "owners", "author", "authors", "creator", "creators",
    ];
    // "… unless they are admins", "… except for moderators": the rule, then who it spares.
    let (rule, unless) = [" unless ", " except ", ", except", " other than "]
        .iter()
        .find_map(|w| lower.split_once(w))
        .map(|(rule, rest)| {
            let rest = rest.trim().trim_start_matches("for ").trim_end_matches('.');
            (rule, (!rest.is_empty()).then(|| rest.to_string()))
        })
        .unwrap_or((lower, None));
    let words: Vec<&str> = rule
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|w| !w.is_empty())
        .collect();
    let is_act = |w: &str| READS.iter().chain(&WRITES).any(|a| w.starts_with(a));
    let after = |i: usize| -> Option<String> {
        words[i + 1..]
            .iter()
            .map(|w| w.trim_end_matches("'s").trim_end_matches('\''))
            .find(|w| {
                ![
                    "a", "an", "the", "their", "his", "her", "its", "other", "users", "user",
                    "only", "can", "may", "must", "should", "it", "them", "or", "and",
                ]
                .contains(w)
                    && !is_act(w)
            })
            .map(str::to_string)
    };
    let after_from = |words: &[&str], from: usize| -> Option<String> {
        words[from..]
            .iter()
            .find(|w| {
                ![
                    "a", "an", "the", "each", "every", "any", "only", "can", "may", "must",
                ]
                .contains(w)
                    && !is_act(w)
                    && !OWNERS.contains(w)
            })
            .map(|w| w.to_string())
    };
    let restricting = words.contains(&"only")
        || ["not", "cannot", "can't", "never", "no", "mustn't"]
            .iter()
            .any(|n| words.contains(n));
    let acts: Vec<&str> = words.iter().copied().filter(|w| is_act(w)).collect();
    if acts.is_empty() || !restricting {
        return None;
    }
    let own_at = words.iter().position(|w| *w == "own");
    // "only the patient who booked an appointment can cancel it": whoever made it owns it.
    let maker_at = words.windows(3).position(|w| {
        w[0] == "who"
            && [
                "booked", "created", "made", "placed", "wrote", "uploaded", "owns", "opened",
            ]
            .contains(&w[1])
    });
    let resource = if let Some(i) = own_at {
        after(i)
    } else if let Some(i) = words.iter().position(|w| OWNERS.contains(w)) {
        // "only the owner can complete a task": the resource follows the act; "an enrolment
        // can be withdrawn only by its owner": it leads the sentence.
        words[i..]
            .iter()
            .position(|w| is_act(w))
            .and_then(|j| after(i + j))
            .or_else(|| {
                // Passive: the act comes before its owner.
                let act_at = words.iter().position(|w| is_act(w))?;
                (act_at < i)
                    .then(|| after_from(&words[..act_at], 0))
                    .flatten()
            })
    } else if let Some(i) = maker_at.filter(|_| words.contains(&"only")) {
        after(i + 1)
    } else if let Some(i) = words.iter().position(|w| *w == "users'" || *w == "user's") {
        if !rule.contains("other") && !rule.contains("another") {
            return None;
        }
        after(i)
    } else {
        return None;
    };
    let writes_only = !acts.iter().any(|w| READS.iter().any(|a| w.starts_with(a)));
    Some(CheckSpec::Ownership {
        resource: resource.unwrap_or_else(|| "resources".into()),
        writes_only,
        unless,
    })
}

/// "within 30 seconds", "less than 5 seconds of errors", "completes … within 2 minutes".
fn time_bound(tokens: &[Token], lower: &str) -> Option<CheckSpec> {
    for i in 0..tokens.len() {
        let lead = match word(tokens, i) {
            Some("within") => 1,
            Some("less") if word(tokens, i + 1) == Some("than") => 2,
            Some("under") | Some("before") => 1,
            _ => continue,
        };
        let Some((seconds, _)) = duration_at(tokens, i + lead) else {
            continue;
        };
        // A latency sentence already carries its bound; don't count it twice.
        if tokens.iter().any(
            |t| matches!(t, Token::Word(w) if w.starts_with('p') && w[1..].parse::<f64>().is_ok()),
        ) {
            return None;
        }
        let subject = lower
            .split(" within ")
            .next()
            .unwrap_or(lower)
            .trim()
            .trim_end_matches(['.', ','])
            .to_string();
        return Some(CheckSpec::TimeBound {
            max_seconds: seconds,
            subject,
        });
    }
    None
}

fn size_unit(word: &str) -> Option<(f64, &'static str)> {
    Some(match word {
        "b" | "byte" | "bytes" => (1.0, "bytes"),
        "kb" | "kilobyte" | "kilobytes" => (1e3, "bytes"),
        "kib" => (1024.0, "bytes"),
        "mb" | "megabyte" | "megabytes" => (1e6, "bytes"),
        "mib" => (1_048_576.0, "bytes"),
        "gb" | "gigabyte" | "gigabytes" => (1e9, "bytes"),
        "gib" => (1_073_741_824.0, "bytes"),
        "char" | "chars" | "character" | "characters" => (1.0, "characters"),
        "item" | "items" | "entries" | "elements" => (1.0, "items"),
        _ => return None,
    })
}

/// A size a scenario states, in the unit a size limit is held in, and the field it is of when
/// the sentence says: "a memo of 300 characters" → (300, characters, memo), "a file of 80MB" →
/// (8e7, bytes, file), "a 300-character title" → (300, characters, title).
pub fn stated_size(text: &str) -> Option<(f64, &'static str, Option<String>)> {
    let tokens = tokenize(&text.to_lowercase());
    for i in 0..tokens.len() {
        let Some(n) = number(&tokens, i) else {
            continue;
        };
        let (unit_at, hyphen) = match tokens.get(i + 1) {
            Some(Token::Punct('-')) => (i + 2, true),
            _ => (i + 1, false),
        };
        let Some((scale, unit)) = word(&tokens, unit_at).and_then(size_unit) else {
            continue;
        };
        let field = if i >= 2 && word(&tokens, i - 1) == Some("of") {
            word(&tokens, i - 2)
        } else if hyphen {
            word(&tokens, unit_at + 1)
        } else {
            None
        }
        .filter(|w| !matches!(*w, "a" | "an" | "the" | "size" | "length" | "total"))
        .map(str::to_string);
        return Some((n * scale, unit, field));
    }
    None
}

/// "files up to 50MB", "max 255", "at most 1000 items", "(max 255)".
fn max_size(tokens: &[Token], lower: &str) -> Option<CheckSpec> {
    for i in 0..tokens.len() {
        // Leads that say a bound; for the ones other counts share ("no more than 3 retries"),
        // only a size unit after the number makes it a size.
        let (lead, needs_unit) = match (word(tokens, i), word(tokens, i + 1)) {
            (Some("max" | "maximum"), _) => (1, false),
            (Some("up" | "at"), Some("to" | "most")) => (2, false),
            (Some("exceed" | "exceeds"), _) => (1, true),
            (Some("limited" | "capped"), Some("to" | "at")) => (2, true),
            (Some("longer" | "larger" | "bigger" | "more"), Some("than")) => (2, true),
            _ => continue,
        };
        // "max. 500 characters"; "maximum pickup note length is 500 characters".
        let at = if matches!(tokens.get(i + lead), Some(Token::Punct('.' | ':'))) {
            i + lead + 1
        } else if needs_unit || number(tokens, i + lead).is_some() {
            i + lead
        } else {
            match (i + lead..(i + lead + 6).min(tokens.len())).find(|&j| {
                number(tokens, j).is_some() && word(tokens, j + 1).and_then(size_unit).is_some()
            }) {
                Some(j) => j,
                None => continue,
            }
        };
        let Some(n) = number(tokens, at) else {
            continue;
        };
        let next = word(tokens, at + 1);
        if needs_unit && next.and_then(size_unit).is_none() {
            continue;
        }
        // "max 100 requests per minute" is a rate limit, not a size.
        if next.is_some_and(|w| matches!(w, "requests" | "request" | "req" | "calls")) {
            continue;
        }
        // "up to 10 nodes", "max 5 minutes": a count of something else, not an input size.
        if next.is_some_and(|w| size_unit(w).is_none()) {
            continue;
        }
        let (scale, unit) = next.and_then(size_unit).unwrap_or_else(|| {
            if ["title", "name", "length", "long", "text", "string"]
                .iter()
                .any(|w| lower.contains(w))
            {
                (1.0, "characters")
            } else {
                (1.0, "items")
            }
        });
        let subject = [
            " up to ",
            " max",
            " may not exceed",
            " must not exceed",
            " should not exceed",
            " cannot exceed",
            " exceed",
            " are limited to",
            " is limited to",
            " limited to",
            " no longer than",
            " no larger than",
            " larger than",
            " no more than",
            " at most",
            " length is",
        ]
        .iter()
        .fold(lower, |s, cut| s.split(cut).next().unwrap_or(s))
        .trim()
        .trim_end_matches(['(', ',', '.', ':'])
        .trim()
        .to_string();
        return Some(CheckSpec::MaxSize {
            max: n * scale,
            unit: unit.into(),
            subject,
        });
    }
    None
}

/// "Support 10,000 active tenants", "Maintain performance with 10 million tasks".
fn capacity(tokens: &[Token]) -> Option<CheckSpec> {
    (0..tokens.len()).find_map(|i| {
        let n = number(tokens, i)?;
        let mut j = i + 1;
        // Skip adjectives ("active", "concurrent" is handled elsewhere).
        while word(tokens, j)
            .is_some_and(|w| matches!(w, "active" | "total" | "registered" | "live"))
        {
            j += 1;
        }
        let noun = word(tokens, j)?;
        if duration_unit(noun).is_some() || size_unit(noun).is_some() {
            return None;
        }
        Some(CheckSpec::Capacity {
            quantity: n,
            of: noun.to_string(),
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Vec<CheckSpec> {
        parse_sentence(text, &[])
    }

    #[test]
    fn error_rate_counts_the_4xx_the_sentence_names() {
        let all: Vec<u16> = (400..500).collect();
        let all_but =
            |out: &[u16]| -> Vec<u16> { (400..500).filter(|s| !out.contains(s)).collect() };
        let but_404 = all_but(&[404]);
        let but_404_429 = all_but(&[404, 429]);
        let cases: &[(&str, &[u16])] = &[
            ("Error rate below 1%", &[]),
            ("Error rate below 1% including 4xx", &all),
            ("Less than 0.5% client errors", &all),
            ("Error rate < 1%; 409 and 422 count as errors", &[409, 422]),
            ("Error rate < 2% of non-2xx responses", &all),
            ("Error rate < 2% of non 2xx responses", &all),
            ("Error rate below 1% of any status", &all),
            ("Error rate below 1% (4xx included)", &all),
            ("4xx count as errors; error rate below 1%", &all),
            ("Error rate below 1%; 404s count", &[404]),
            ("Error rate below 1%, 4xx and 5xx counted", &all),
            (
                "Error rate below 1% of all requests, HTTP-4xx included",
                &all,
            ),
            // Negated mentions take their statuses out: once read as counting them.
            ("Error rate below 1% excluding 4xx", &[]),
            ("Error rate below 1% (excluding 4xx)", &[]),
            ("Error rate below 1% without 4xx", &[]),
            ("Error rate below 1% not including 4xx", &[]),
            ("Error rate below 1%, not counting 4xx", &[]),
            ("Error rate below 1% without counting client errors", &[]),
            ("Error rate below 1% excluding client errors", &[]),
            ("Error rate below 1% ignoring 4xx responses", &[]),
            ("Error rate below 1% other than 4xx", &[]),
            ("Error rate below 1% apart from 4xx", &[]),
            ("Error rate below 1% for 5xx, not 4xx", &[]),
            ("Error rate below 1%, 4xx not counted", &[]),
            ("Error rate below 1% (4xx not counted)", &[]),
            ("Error rate below 1%; 4xx are not counted", &[]),
            ("Error rate below 1%; 4xx errors are excluded", &[]),
            ("Error rate below 1%; 4xx don't count", &[]),
            ("Error rate below 1%; 4xx don\u{2019}t count", &[]),
            ("Error rate below 1%; 4xx and 5xx are not counted", &[]),
            ("Error rate below 1%; client errors are not errors", &[]),
            ("Error rate below 1% except 404", &[]),
            ("Error rate below 1% excluding 404 and 409", &[]),
            // Counted, but for the exceptions.
            ("Error rate below 1% including 4xx except 404", &but_404),
            ("Error rate below 1% including 4xx except for 404", &but_404),
            ("Error rate below 1% including 4xx but not 404", &but_404),
            ("Error rate below 1% counting 4xx other than 404", &but_404),
            (
                "Error rate below 1% including 4xx, excluding 404 and 429",
                &but_404_429,
            ),
            (
                "Error rate below 1% including 4xx except 404, 429",
                &but_404_429,
            ),
            ("Error rate below 1% of any status except 404", &but_404),
            (
                "Error rate < 1%; 409 and 422 count as errors, 404 does not",
                &[409, 422],
            ),
            ("Error rate < 1%; 409 counts, 404 doesn't count", &[409]),
            // A "not" about something else leaves the mention counted.
            ("Client errors must not exceed 1%", &all),
            ("Error rate including 4xx should not be above 1%", &all),
            ("Error rate below 1% counting 4xx, not 5xx", &all),
            // A number with a unit is no status.
            ("Error rate below 1% at 450 requests per second", &[]),
            ("p99 under 400ms and error rate below 1%", &[]),
            ("Error rate below 1% with 404 counted at 420 req/s", &[404]),
        ];
        for (text, expected) in cases {
            let got = parse_sentence(text, &[]).into_iter().find_map(|c| match c {
                CheckSpec::ErrorRate { counted_4xx, .. } => Some(counted_4xx),
                _ => None,
            });
            assert_eq!(got.as_deref(), Some(*expected), "{text}");
        }
    }

    #[test]
    fn ownership_table() {
        type Expected = Option<(&'static str, bool, Option<&'static str>)>;
        let cases: &[(&str, Expected)] = &[
            (
                "Students may only amend their own enrolments",
                Some(("enrolments", true, None)),
            ),
            (
                "Only the owner can withdraw an enrolment",
                Some(("enrolment", true, None)),
            ),
            (
                "An enrolment can be withdrawn only by its owner",
                Some(("enrolment", true, None)),
            ),
            (
                "Only the patient who booked an appointment can cancel it",
                Some(("appointment", true, None)),
            ),
            (
                "Patients can only view their own prescriptions",
                Some(("prescriptions", false, None)),
            ),
            (
                "Users can only access their own tasks",
                Some(("tasks", false, None)),
            ),
            (
                "Users can only see and modify their own orders.",
                Some(("orders", false, None)),
            ),
            // Only a change is restricted: another user may still read the task.
            (
                "Only the owner can complete a task",
                Some(("task", true, None)),
            ),
            (
                "Only owners can delete their documents",
                Some(("documents", true, None)),
            ),
            ("Only the author can edit", Some(("resources", true, None))),
            (
                "Only the creator may update or delete a post",
                Some(("post", true, None)),
            ),
            (
                "Users must not see other users' tasks",
                Some(("tasks", false, None)),
            ),
            (
                "A user cannot read another user's invoices",
                Some(("invoices", false, None)),
            ),
            (
                "Users can only access their own tasks unless they are admins",
                Some(("tasks", false, Some("they are admins"))),
            ),
            (
                "Users can only view their own notes, except for moderators.",
                Some(("notes", false, Some("moderators"))),
            ),
            // A grant, not a restriction.
            ("Users can access their own tasks", None),
            ("Users can see their own orders and edit them", None),
            ("All endpoints require valid JWT token", None),
            ("Max 100 requests per minute per user", None),
            ("Only admins can delete users", None),
            ("Read operations continue during write failures", None),
            ("Each user has their own quota of 10 GB", None),
        ];
        for (text, expected) in cases {
            let got = parse_sentence(text, &[]).into_iter().find_map(|c| match c {
                CheckSpec::Ownership {
                    resource,
                    writes_only,
                    unless,
                } => Some((resource, writes_only, unless)),
                _ => None,
            });
            let got = got.as_ref().map(|(r, w, u)| (r.as_str(), *w, u.as_deref()));
            assert_eq!(got, *expected, "{text}");
        }
    }

    #[test]
    fn latency_percentiles_with_scope() {
        assert_eq!(
            one("p95 latency < 100ms for all read operations"),
            vec![CheckSpec::Latency {
                percentile: 95.0,
                max_ms: 100.0,
                scope: "reads".into()
            }]
        );
        assert_eq!(
            one("p99 latency < 200ms for create/update operations"),
            vec![CheckSpec::Latency {
                percentile: 99.0,
                max_ms: 200.0,
                scope: "writes".into()
            }]
        );
        assert_eq!(
            one("p99 < 50ms including all variant data"),
            vec![CheckSpec::Latency {
                percentile: 99.0,
                max_ms: 50.0,
                scope: "all".into()
            }]
        );
        assert_eq!(
            one("p99.9 under 1.5 s"),
            vec![CheckSpec::Latency {
                percentile: 99.9,
                max_ms: 1500.0,
                scope: "all".into()
            }]
        );
        assert!(matches!(
            one("p95 < 100ms for searches across 1M products")[0],
            CheckSpec::Latency { max_ms, ref scope, .. } if max_ms == 100.0 && scope == "search"
        ));
    }

    #[test]
    fn throughput_and_load() {
        assert_eq!(
            one("Under load of 1000 requests/second"),
            vec![CheckSpec::Throughput {
                per_second: 1000.0,
                unit: "requests".into()
            }]
        );
        assert_eq!(
            one("100k orders/hour peak across all tenants"),
            vec![CheckSpec::Throughput {
                per_second: 27.778,
                unit: "orders".into()
            }]
        );
        assert_eq!(
            one("Support 10,000 concurrent users"),
            vec![CheckSpec::Concurrency { users: 10_000 }]
        );
        assert_eq!(
            one("250 rps"),
            vec![CheckSpec::Throughput {
                per_second: 250.0,
                unit: "requests".into()
            }]
        );
    }

    #[test]
    fn rates_and_percentages() {
        assert_eq!(
            one("Max 100 requests per minute per user"),
            vec![CheckSpec::RateLimit {
                max_requests: 100,
                window_seconds: 60.0,
                per: "user".into()
            }]
        );
        assert_eq!(
            one("99.9% availability"),
            vec![CheckSpec::Availability { min_percent: 99.9 }]
        );
        assert_eq!(
            one("Error rate < 0.1%"),
            vec![CheckSpec::ErrorRate {
                max_percent: 0.1,
                counted_4xx: vec![]
            }]
        );
    }

    #[test]
    fn security_and_reliability() {
        let exceptions = vec!["Health check endpoint".to_string()];
        assert_eq!(
            parse_sentence("All endpoints require valid JWT token", &exceptions),
            vec![CheckSpec::Authentication {
                scheme: "jwt".into(),
                exceptions
            }]
        );
        assert_eq!(
            one("All user inputs must be parameterized"),
            vec![CheckSpec::InjectionSafe {
                classes: vec!["sql".into()]
            }]
        );
        assert_eq!(
            one("No data loss on single node failure"),
            vec![CheckSpec::NoDataLoss {
                event: "single node failure".into()
            }]
        );
    }

    /// A space (or a no-break space) groups thousands as SI and French write them; it never
    /// joins numbers that are apart.
    #[test]
    fn thousands_grouped_by_spaces() {
        let rate = |text: &str| match one(text).as_slice() {
            [CheckSpec::RateLimit { max_requests, .. }] => *max_requests,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(rate("Max 1 000 requests per minute per user"), 1000);
        assert_eq!(rate("Max 10\u{a0}000 requests per hour per user"), 10_000);
        assert_eq!(rate("Max 1,000 requests per minute per user"), 1000);
        let latency = |text: &str| match one(text).as_slice() {
            [CheckSpec::Latency { max_ms, .. }] => *max_ms,
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(latency("p99 latency < 1 500 ms"), 1500.0);
        assert_eq!(latency("p99 latency < 1 500ms"), 1500.0);
        assert_eq!(latency("p99 latency < 250 ms"), 250.0);
        assert_eq!(
            request_burst("a user sends 10 000 requests in one minute"),
            Some((10_000, 60.0))
        );
        assert_eq!(
            request_burst("5 users send 100 requests in 1 minute"),
            Some((100, 60.0))
        );
    }

    /// Size and rate limits as teams write them.
    #[test]
    fn limits_in_other_words() {
        let size = |text: &str| match one(text).as_slice() {
            [CheckSpec::MaxSize { max, unit, subject }] => (*max, unit.clone(), subject.clone()),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            size("Attachments may not exceed 10 MB"),
            (1e7, "bytes".into(), "attachments".into())
        );
        assert_eq!(
            size("Personal statements must not exceed 4000 characters").0,
            4000.0
        );
        assert_eq!(
            size("Pickup notes are limited to 500 characters").2,
            "pickup notes"
        );
        assert_eq!(size("Pickup notes: no longer than 500 characters").0, 500.0);
        assert_eq!(size("Pickup notes max. 500 characters").0, 500.0);
        assert_eq!(
            size("Maximum pickup note length is 500 characters").0,
            500.0
        );
        assert_eq!(size("Uploads larger than 25 MB are rejected").0, 2.5e7);
        assert!(one("No more than 3 retries")
            .iter()
            .all(|c| !matches!(c, CheckSpec::MaxSize { .. })));
        let rate = |text: &str| match one(text).as_slice() {
            [CheckSpec::RateLimit {
                max_requests,
                window_seconds,
                per,
            }] => (*max_requests, *window_seconds, per.clone()),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            rate("Requests are capped at 30 per minute per client"),
            (30, 60.0, "user".into())
        );
        assert_eq!(
            rate("Clients are throttled to 30 requests a minute"),
            (30, 60.0, "global".into())
        );
        assert_eq!(
            rate("Max 100 requests per minute per user"),
            (100, 60.0, "user".into())
        );
    }

    #[test]
    fn a_rate_limit_of_zero_cannot_hold() {
        let checks = one("Max 0 requests per minute per user");
        let problem = checks[0].assess().expect("a problem");
        assert!(problem.impossible, "{problem:?}");
        assert!(problem.reason.contains("refuses every request"));
    }

    #[test]
    fn ordinal_percentiles_and_one_reading_per_bound() {
        let latency = |text: &str| match one(text).as_slice() {
            [CheckSpec::Latency {
                percentile, max_ms, ..
            }] => (*percentile, *max_ms),
            other => panic!("{text}: {other:?}"),
        };
        assert_eq!(
            latency("99th percentile response time must stay below 250 ms"),
            (99.0, 250.0)
        );
        assert_eq!(
            latency("The 95th percentile of response times is under 2 seconds"),
            (95.0, 2000.0)
        );
        assert_eq!(latency("Median latency must be under 80 ms"), (50.0, 80.0));
        assert_eq!(latency("p99 latency < 100ms"), (99.0, 100.0));
    }

    #[test]
    fn stated_sizes_with_their_field() {
        type Size<'a> = Option<(f64, &'a str, Option<&'a str>)>;
        let table: &[(&str, Size)] = &[
            (
                "I create a task with a title of 10,000 characters",
                Some((10_000.0, "characters", Some("title"))),
            ),
            (
                "A customer adds a memo of 300 characters",
                Some((300.0, "characters", Some("memo"))),
            ),
            (
                "I upload a file of 80MB",
                Some((8e7, "bytes", Some("file"))),
            ),
            (
                "A device posts a payload of 100 kilobytes",
                Some((1e5, "bytes", Some("payload"))),
            ),
            (
                "I submit a 300-character bio",
                Some((300.0, "characters", Some("bio"))),
            ),
            ("I upload 3 files", None),
        ];
        for (text, want) in table {
            let got = stated_size(text);
            let got = got.as_ref().map(|(n, u, f)| (*n, *u, f.as_deref()));
            assert_eq!(got, *want, "{text}");
        }
    }

    #[test]
    fn request_bursts_need_a_window() {
        let table: &[(&str, Option<(u64, f64)>)] = &[
            ("A user sends 150 requests in one minute", Some((150, 60.0))),
            (
                "one client makes 1,000 API calls within 10 seconds",
                Some((1000, 10.0)),
            ),
            (
                "I send 101 search requests in a single minute",
                Some((101, 60.0)),
            ),
            ("the user retries 3 times per hour", Some((3, 3600.0))),
            ("A user sends 150 requests", None),
            ("I create 3 tasks in one minute", None),
        ];
        for (text, want) in table {
            assert_eq!(request_burst(text), *want, "{text}");
        }
    }

    #[test]
    fn time_bounds_and_sizes() {
        assert_eq!(
            one("Entire flow completes or fails within 30 seconds"),
            vec![CheckSpec::TimeBound {
                max_seconds: 30.0,
                subject: "entire flow completes or fails".into()
            }]
        );
        assert_eq!(
            one("Product should be searchable within 5 seconds"),
            vec![CheckSpec::TimeBound {
                max_seconds: 5.0,
                subject: "product should be searchable".into()
            }]
        );
        assert_eq!(
            one("Accept files up to 50MB"),
            vec![CheckSpec::MaxSize {
                max: 5e7,
                unit: "bytes".into(),
                subject: "accept files".into()
            }]
        );
        assert!(matches!(
            &one("Title too long (max 255)")[0],
            CheckSpec::MaxSize { max, unit, .. } if *max == 255.0 && unit == "characters"
        ));
    }

    #[test]
    fn capacity_only_when_nothing_else() {
        assert_eq!(
            one("Maintain performance with 10 million tasks"),
            vec![CheckSpec::Capacity {
                quantity: 1e7,
                of: "tasks".into()
            }]
        );
        assert_eq!(
            one("Support 10,000 active tenants"),
            vec![CheckSpec::Capacity {
                quantity: 1e4,
                of: "tenants".into()
            }]
        );
    }

    #[test]
    fn not_checkable_says_why_and_how() {
        let parsed = parse_constraint(
            "Horizontal scaling",
            Some("System must scale linearly up to 10 nodes"),
            None,
            &[],
        );
        let why = parsed.not_checkable.expect("must not be checkable");
        assert!(why.reason.contains("multi-node"), "{}", why.reason);
        let vague = parse_constraint("Speed", Some("The API should be fast"), None, &[]);
        let why = vague.not_checkable.expect("vague is not checkable");
        assert!(why.reason.contains("`fast`"), "{}", why.reason);
        assert!(
            why.suggestion.contains("kind: latency"),
            "{}",
            why.suggestion
        );
        let combined = parse_constraint(
            "API response time",
            Some("p95 latency < 100ms for all read operations"),
            Some("Under load of 1000 requests/second"),
            &[],
        );
        assert!(combined.is_checkable());
        assert_eq!(combined.checks.len(), 2);
    }

    /// Numbers the tokenizer would misread are "not checkable" with a reason naming them; the
    /// lookalikes that are fine (ranges, hyphenated words, p99.9, 100%) still parse.
    #[test]
    fn negative_non_finite_and_out_of_range_numbers_are_not_checkable() {
        let huge = format!("Support {} tenants", "9".repeat(400));
        let refused: &[(&str, Option<&str>, &str)] = &[
            ("p95 latency < -5ms", None, "`-5ms` is negative"),
            ("p95 latency < \u{2212}5ms", None, "is negative"),
            ("Error rate < -0.5%", None, "`-0.5%` is negative"),
            (
                "p95 latency < 1e308ms",
                None,
                "`1e308ms` is in exponent notation",
            ),
            ("Support 1E6 concurrent users", None, "exponent notation"),
            (
                "p101 latency < 100ms",
                None,
                "percentile 101 is outside (0, 100]",
            ),
            (
                "p0 latency < 100ms",
                None,
                "percentile 0 is outside (0, 100]",
            ),
            (
                "p95 latency < 0ms",
                None,
                "latency bound (0 s) must be above zero",
            ),
            ("p95 latency < 400 days", None, "longer than a year"),
            (
                "Checkout completes within 1000 weeks",
                None,
                "longer than a year",
            ),
            (
                "Error rate < 150%",
                None,
                "not a percentage between 0 and 100",
            ),
            (
                "Availability of 100.5%",
                None,
                "not a percentage between 0 and 100",
            ),
            (
                "Support 99999999999999999999 concurrent users",
                None,
                "beyond",
            ),
            (&huge, None, "beyond"),
            (
                "p95 latency < 100ms",
                Some("Under load of -100 requests/second"),
                "`-100` is negative",
            ),
        ];
        for (requirement, measurement, reason) in refused {
            let parsed = parse_constraint("Case", Some(requirement), *measurement, &[]);
            let why = parsed
                .not_checkable
                .unwrap_or_else(|| panic!("{requirement:?} gave {:?}", parsed.checks));
            assert!(
                why.reason.contains(reason),
                "{requirement:?}: {:?} does not say {reason:?}",
                why.reason
            );
            assert!(parsed.checks.is_empty(), "{requirement:?}");
        }
        let fine = [
            "p99.9 under 1.5 s",
            "p95 latency < 100ms for read-only operations",
            "Retries 5-10 times, completes within 30 seconds",
            "Error rate < 0.1%",
            "100% availability",
            "p100 latency < 2s",
            "Support 10,000 active tenants",
        ];
        for requirement in fine {
            let parsed = parse_constraint("Case", Some(requirement), None, &[]);
            assert!(
                parsed.is_checkable(),
                "{requirement:?}: {:?}",
                parsed.not_checkable
            );
        }
    }

    #[test]
    fn concurrency_alone_is_a_load_condition_but_support_makes_it_a_requirement() {
        let parsed = parse_constraint(
            "Concurrent user support",
            Some("Support 10,000 concurrent users"),
            None,
            &[],
        );
        assert!(parsed.is_checkable());
    }
}

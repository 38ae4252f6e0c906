//! Prometheus alerting rules from the spec: what `constraint_headroom` judges once, written as
//! rules a Prometheus evaluates all the time. Ratio constraints (error rate, availability)
//! become multi-window, multi-burn-rate alerts in the SRE workbook's shape (as Sloth writes
//! them: recording rules per window, alerts that read them); latency constraints become
//! percentile alerts over the request histogram's buckets; `monitoring.degradation.limits`
//! become `predict_linear` early warnings. What cannot become a rule is named with the reason,
//! as `headroom::judge` names what it cannot judge. Pure: the spec and `sdd.yaml` in, rules out.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use sdd_spec::constraint::CheckSpec;
use sdd_spec::model::{Constraint, ConstraintScope};
use sdd_spec::project::{ProjectFile, ResourceLimit};

use crate::headroom::histogram_selectors;
use crate::selector::{MatchOp, Matcher, Selector};
use crate::window::format_duration;

const MINUTE: i64 = 60_000;
const HOUR: i64 = 60 * MINUTE;
const DAY: i64 = 24 * HOUR;

/// The recording rule holding a ratio constraint's failed share over each window.
pub const ERROR_RATIO_RECORD: &str = "sdd:constraint_error_ratio";

/// One multi-window burn-rate condition: the failed share over both windows above `factor`
/// times the budget (the SRE workbook, "Multiwindow, Multi-Burn-Rate Alerts").
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BurnRate {
    pub factor: f64,
    pub long_ms: i64,
    pub short_ms: i64,
    pub severity: &'static str,
}

impl BurnRate {
    /// `SddErrorBudgetBurn1h`: one alert name per condition, so each says which one fired.
    pub fn alert_name(&self) -> String {
        format!("SddErrorBudgetBurn{}", format_duration(self.long_ms))
    }
}

/// The workbook's four conditions for a 30-day budget: 2 % of it spent in an hour or 5 % in
/// six hours pages; 10 % in a day or in three days is a ticket.
pub const BURN_RATES: [BurnRate; 4] = [
    BurnRate {
        factor: 14.4,
        long_ms: HOUR,
        short_ms: 5 * MINUTE,
        severity: "page",
    },
    BurnRate {
        factor: 6.0,
        long_ms: 6 * HOUR,
        short_ms: 30 * MINUTE,
        severity: "page",
    },
    BurnRate {
        factor: 3.0,
        long_ms: DAY,
        short_ms: 2 * HOUR,
        severity: "ticket",
    },
    BurnRate {
        factor: 1.0,
        long_ms: 3 * DAY,
        short_ms: 6 * HOUR,
        severity: "ticket",
    },
];

/// The windows recorded: every window some condition reads, shortest first.
pub fn ratio_windows() -> Vec<i64> {
    let mut windows: Vec<i64> = BURN_RATES
        .iter()
        .flat_map(|b| [b.long_ms, b.short_ms])
        .collect();
    windows.sort_unstable();
    windows.dedup();
    windows
}

/// The recording rule's name for one window: `sdd:constraint_error_ratio:rate5m`.
pub fn ratio_record(window_ms: i64) -> String {
    format!("{ERROR_RATIO_RECORD}:rate{}", format_duration(window_ms))
}

/// The latency alert's window and how long the percentile must stay over the limit.
pub const LATENCY_WINDOW_MS: i64 = 5 * MINUTE;
pub const LATENCY_FOR: &str = "10m";
/// The early warning's fit window and horizon: the last 6 h's trend, projected 4 h ahead.
pub const EXHAUSTION_FIT_MS: i64 = 6 * HOUR;
pub const EXHAUSTION_HORIZON_S: i64 = 4 * 3600;
pub const EXHAUSTION_FOR: &str = "15m";
pub const OVER_LIMIT_FOR: &str = "5m";

/// What the rules are generated from.
pub struct Setting<'a> {
    pub project: &'a ProjectFile,
    /// How many domains the spec has: a constraint scoped to one of several has no series of
    /// its own unless `sdd.yaml` names one.
    pub domains: usize,
    /// `monitoring.budget_window` (the burn rates' meaning: how fast that budget goes).
    pub budget_window_ms: i64,
}

/// A ratio constraint's check: what counts as failed, and the share allowed.
#[derive(Debug, Clone, PartialEq)]
pub enum RatioCheck {
    ErrorRate {
        max_percent: f64,
        counted_4xx: Vec<u16>,
    },
    Availability {
        min_percent: f64,
    },
}

impl RatioCheck {
    /// `error_rate` or `availability`: the `check` label.
    pub fn kind(&self) -> &'static str {
        match self {
            RatioCheck::ErrorRate { .. } => "error_rate",
            RatioCheck::Availability { .. } => "availability",
        }
    }

    /// The share of requests allowed to fail, in [0, 1].
    pub fn budget(&self) -> f64 {
        let percent = match self {
            RatioCheck::ErrorRate { max_percent, .. } => *max_percent,
            RatioCheck::Availability { min_percent } => 100.0 - min_percent,
        };
        tidy(percent.clamp(0.0, 100.0) / 100.0)
    }

    /// The statuses counted as failed, as an RE2 alternation: `5..`, then the 4xx the
    /// constraint counts (`4..` for all of them).
    pub fn failing_statuses(&self) -> String {
        let RatioCheck::ErrorRate { counted_4xx, .. } = self else {
            return "5..".into();
        };
        let mut codes: Vec<u16> = counted_4xx
            .iter()
            .copied()
            .filter(|c| (400..500).contains(c))
            .collect();
        codes.sort_unstable();
        codes.dedup();
        if codes.len() == 100 {
            return "4..|5..".into();
        }
        std::iter::once("5..".to_string())
            .chain(codes.iter().map(u16::to_string))
            .collect::<Vec<_>>()
            .join("|")
    }

    /// What counts as failed, in words.
    fn failures_in_words(&self) -> String {
        let failing = self.failing_statuses();
        match failing.strip_prefix("5..|") {
            Some(codes) => format!("answered 5xx, or {}", codes.replace('|', ", ")),
            None if failing == "4..|5.." => "answered 4xx or 5xx".into(),
            None => "answered 5xx".into(),
        }
    }
}

/// How one check of a constraint is measured from the metrics convention.
#[derive(Debug, Clone, PartialEq)]
pub enum Measure {
    Latency {
        percentile: f64,
        max_ms: f64,
        scope: String,
        /// The request histograms (without `_bucket`), refusals (4xx) left out as in
        /// `constraint_headroom`.
        histograms: Vec<Selector>,
    },
    Ratio {
        check: RatioCheck,
        /// The request histograms (without `_count`).
        histograms: Vec<Selector>,
    },
}

/// A constraint (or a check of one), or a resource limit, that no rule watches, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct NotCovered {
    /// The constraint's ID; absent for a resource limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    /// The resource limit's series (`monitoring.degradation.limits` of sdd.yaml).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// The constraint's name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The check left out (`throughput`, `rate_limit`, …); absent when the whole constraint is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
    pub reason: String,
}

/// The checks of a constraint that metrics measure, and the ones they do not.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub measures: Vec<Measure>,
    pub not_covered: Vec<NotCovered>,
}

/// How each check of `c` is measured, with `headroom::judge`'s reasons for what is not.
pub fn coverage(setting: &Setting<'_>, c: &Constraint) -> Coverage {
    let whole = |reason: String| Coverage {
        measures: Vec::new(),
        not_covered: vec![NotCovered {
            constraint: Some(c.id.clone()),
            limit: None,
            name: c.name.clone(),
            check: None,
            reason,
        }],
    };
    let mapping = setting.project.monitoring.constraints.get(&c.id);
    if let Some(why) = mapping.and_then(|m| m.unmeasured.as_deref()) {
        return whole(format!(
            "not measured from metrics: {why} (monitoring.constraints.{}.unmeasured)",
            c.id
        ));
    }
    if let Some(not) = &c.parsed.not_checkable {
        return whole(format!("not machine-checkable: {}", not.reason));
    }
    let mapped = mapping.and_then(|m| m.histogram.as_ref()).is_some();
    if !mapped && setting.domains > 1 {
        if let ConstraintScope::Domain(name) | ConstraintScope::Interaction(name) = &c.scope {
            return whole(format!(
                "it holds for `{name}`, one of the spec's {} domains, and the service's metrics do not say which requests are `{name}`'s; name them under monitoring.constraints.{}.histogram",
                setting.domains, c.id
            ));
        }
    }
    let has_latency = c
        .parsed
        .checks
        .iter()
        .any(|check| matches!(check, CheckSpec::Latency { .. }));
    let mut out = Coverage::default();
    let mut left_out = |check: &CheckSpec, reason: String| {
        out.not_covered.push(NotCovered {
            constraint: Some(c.id.clone()),
            limit: None,
            name: c.name.clone(),
            check: Some(check.kind().to_string()),
            reason,
        })
    };
    let mut measures = Vec::new();
    for check in &c.parsed.checks {
        let (scope, ratio) = match check {
            CheckSpec::Latency { scope, .. } => (scope.as_str(), None),
            CheckSpec::ErrorRate {
                max_percent,
                counted_4xx,
            } => (
                "all",
                Some(RatioCheck::ErrorRate {
                    max_percent: *max_percent,
                    counted_4xx: counted_4xx.clone(),
                }),
            ),
            CheckSpec::Availability { min_percent } => (
                "all",
                Some(RatioCheck::Availability {
                    min_percent: *min_percent,
                }),
            ),
            CheckSpec::Throughput { per_second, unit } if has_latency => {
                left_out(check, format!(
                    "the load it is stated under ({per_second} {unit}/s): production traffic is what users send, and verify_constraints measures it at that rate"
                ));
                continue;
            }
            other => {
                left_out(check, format!(
                    "its {} check needs traffic SDD makes itself (verify_constraints runs it); production metrics show what users sent, not what the service can take or refuse",
                    other.kind().replace('_', " ")
                ));
                continue;
            }
        };
        let histograms = match histogram_selectors(setting.project, &c.id, scope) {
            Ok(h) => h,
            Err(why) => {
                left_out(check, format!("not measured: {why}"));
                continue;
            }
        };
        match (ratio, check) {
            (Some(ratio), _) if ratio.budget() <= 0.0 => left_out(
                check,
                "it allows no failure at all, so there is no error budget to burn: any failed request violates it".into(),
            ),
            (Some(check), _) => measures.push(Measure::Ratio { check, histograms }),
            (
                None,
                CheckSpec::Latency {
                    percentile,
                    max_ms,
                    scope,
                },
            ) => measures.push(Measure::Latency {
                percentile: *percentile,
                max_ms: *max_ms,
                scope: scope.clone(),
                histograms: histograms.into_iter().map(without_refusals).collect(),
            }),
            (None, _) => {}
        }
    }
    out.measures = measures;
    out
}

/// The operation's own answers: refusals (4xx) say nothing of its latency (as in
/// `constraint_headroom`), by `status` or by promhttp's `code`.
fn without_refusals(histogram: Selector) -> Selector {
    let not_4xx = |label| Matcher::new(label, MatchOp::NotRegex, "4..").expect("a valid regex");
    histogram.with(not_4xx("status")).with(not_4xx("code"))
}

// ---------------------------------------------------------------------------------------------
// The expressions.

/// `sum(rate(a[w]) or rate(b[w]))`: a series several selectors select counts once.
pub fn sum_of_rates(selectors: &[Selector], range: &str) -> String {
    let rates: Vec<String> = selectors
        .iter()
        .map(|s| format!("rate({s}[{range}])"))
        .collect();
    format!("sum({})", rates.join(" or "))
}

/// The requests a ratio check counts as failed, by `status` or (when a series has none)
/// promhttp's `code`, and all of them — from the histograms' `_count`, the traffic
/// `constraint_headroom` judges.
pub fn ratio_selectors(
    check: &RatioCheck,
    histograms: &[Selector],
) -> (Vec<Selector>, Vec<Selector>) {
    let failing = check.failing_statuses();
    let counts: Vec<Selector> = histograms
        .iter()
        .map(|h| h.renamed(&format!("{}_count", h.metric)))
        .collect();
    let regex = |label| Matcher::new(label, MatchOp::Regex, &failing).expect("a valid regex");
    let failed = counts
        .iter()
        .flat_map(|c| {
            [
                c.clone().with(regex("status")),
                c.clone()
                    .with(Matcher::equal("status", ""))
                    .with(regex("code")),
            ]
        })
        .collect();
    (failed, counts)
}

/// The failed share over `range`: 0 with traffic and no failure, nothing without traffic
/// (never a division by zero, so never NaN).
pub fn error_ratio_expr(check: &RatioCheck, histograms: &[Selector], range: &str) -> String {
    let (failed, all) = ratio_selectors(check, histograms);
    format!(
        "(\n  {} or vector(0)\n)\n/\n(\n  {} > 0\n)",
        sum_of_rates(&failed, range),
        sum_of_rates(&all, range)
    )
}

/// `histogram_quantile(q, sum by (le) (rate(…_bucket[range])))`, in seconds.
pub fn latency_expr(percentile: f64, histograms: &[Selector], range: &str) -> String {
    let buckets: Vec<Selector> = histograms
        .iter()
        .map(|h| h.renamed(&format!("{}_bucket", h.metric)))
        .collect();
    let rates: Vec<String> = buckets
        .iter()
        .map(|s| format!("rate({s}[{range}])"))
        .collect();
    format!(
        "histogram_quantile({}, sum by (le) ({}))",
        number(percentile / 100.0),
        rates.join(" or ")
    )
}

/// A number as PromQL and people read it: at most 10 significant digits, so `100 − 99.9`
/// reads `0.1`, not `0.09999999999999432`.
pub fn number(value: f64) -> String {
    format!("{}", tidy(value))
}

/// `value` rounded to 10 significant digits: the number a person wrote, not its binary
/// neighbour (`99.9 / 100` is `0.999`, not `0.9990000000000001`).
pub fn tidy(value: f64) -> f64 {
    if !value.is_finite() || value == 0.0 {
        return value;
    }
    format!("{value:.9e}").parse().unwrap_or(value)
}

/// A percentage as people write it: `0.1%`, `14.4%`.
fn percent(share: f64) -> String {
    format!("{}%", number(share * 100.0))
}

// ---------------------------------------------------------------------------------------------
// The rules.

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A recording rule (`record:`): a window's ratio the alerts read.
    Record,
    /// An alerting rule (`alert:`).
    Alert,
}

/// One rule as Prometheus reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub kind: RuleKind,
    /// The recorded series or the alert's name.
    pub name: String,
    pub expr: String,
    /// How long the condition must hold before the alert fires.
    pub hold: Option<String>,
    /// In the order written.
    pub labels: Vec<(String, String)>,
    /// `summary`, `description`: the spec's words.
    pub annotations: Vec<(String, String)>,
}

impl Rule {
    pub fn label(&self, name: &str) -> Option<&str> {
        self.labels
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct RuleGroup {
    pub name: String,
    pub rules: Vec<Rule>,
}

/// One rule, as a tool lists it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RuleSummary {
    pub kind: RuleKind,
    /// The alert's name or the recorded series.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub constraint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
    /// `page` or `ticket` (alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// `for:` of an alert.
    #[serde(default, skip_serializing_if = "Option::is_none", rename = "for")]
    pub hold: Option<String>,
    /// The PromQL.
    pub expr: String,
}

/// A rule file: the groups, and what no rule watches.
#[derive(Debug, Clone, Default)]
pub struct AlertRules {
    pub groups: Vec<RuleGroup>,
    pub not_covered: Vec<NotCovered>,
    /// Constraints with at least one rule.
    pub constraints_covered: usize,
    /// Resource limits with rules.
    pub limits_covered: usize,
}

impl AlertRules {
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.groups.iter().flat_map(|g| g.rules.iter())
    }

    pub fn summaries(&self) -> Vec<RuleSummary> {
        self.rules()
            .map(|r| RuleSummary {
                kind: r.kind,
                name: r.name.clone(),
                constraint: r.label("constraint").map(str::to_string),
                limit: r.label("limit").map(str::to_string),
                severity: r.label("severity").map(str::to_string),
                hold: r.hold.clone(),
                expr: r.expr.clone(),
            })
            .collect()
    }

    /// The rule file, YAML as `promtool check rules` reads it. Every string is a JSON string
    /// (a valid YAML double-quoted scalar), expressions literal blocks when they can be.
    pub fn to_yaml(&self, header: &str) -> String {
        let mut out = String::new();
        for line in header.lines() {
            out.push_str(format!("# {line}").trim_end());
            out.push('\n');
        }
        if self.groups.is_empty() {
            out.push_str("groups: []\n");
            return out;
        }
        out.push_str("groups:\n");
        for group in &self.groups {
            out.push_str(&format!("  - name: {}\n    rules:\n", quoted(&group.name)));
            for rule in &group.rules {
                let key = match rule.kind {
                    RuleKind::Record => "record",
                    RuleKind::Alert => "alert",
                };
                out.push_str(&format!("      - {key}: {}\n", quoted(&rule.name)));
                out.push_str(&format!("        expr: {}\n", block(&rule.expr, 10)));
                if let Some(hold) = &rule.hold {
                    out.push_str(&format!("        for: {hold}\n"));
                }
                for (section, pairs) in
                    [("labels", &rule.labels), ("annotations", &rule.annotations)]
                {
                    if pairs.is_empty() {
                        continue;
                    }
                    out.push_str(&format!("        {section}:\n"));
                    for (k, v) in pairs {
                        out.push_str(&format!("          {k}: {}\n", quoted(v)));
                    }
                }
            }
        }
        out
    }
}

/// Text from the spec or `sdd.yaml` inside an alert's annotation or label, both of which
/// Prometheus expands as Go templates: `{{` written as a literal, so the words are shown, never
/// run (a template can query Prometheus).
pub fn template_literal(text: &str) -> String {
    text.replace("{{", "{{ \"{{\" }}")
}

/// A string as a YAML double-quoted scalar (JSON's escapes are YAML's).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".into())
}

/// A literal block (`|-`) indented by `indent`, when the text reads back exactly as one;
/// otherwise a quoted scalar.
fn block(text: &str, indent: usize) -> String {
    // A first line indented would be read as the block's indentation; an empty or trailing
    // blank line would change under `|-`'s chomping; control characters need escapes.
    let plain = !text.starts_with([' ', '\t'])
        && !text.contains('\r')
        && text.lines().all(|l| {
            !l.trim().is_empty()
                && !l.ends_with([' ', '\t'])
                && l.chars().all(|c| !c.is_control() && c != '\u{feff}')
        })
        && !text.ends_with('\n');
    if !plain {
        return quoted(text);
    }
    let pad = " ".repeat(indent);
    let mut out = String::from("|-");
    for line in text.lines() {
        out.push('\n');
        out.push_str(&pad);
        out.push_str(line);
    }
    out
}

/// Every rule the spec's constraints and `sdd.yaml`'s limits give, one group per constraint
/// (its recordings first: a group evaluates in order, so its alerts read this round's ratios)
/// and one for the limits. Nothing is skipped silently: `not_covered` says what and why.
pub fn alert_rules(setting: &Setting<'_>, constraints: &[&Constraint]) -> AlertRules {
    let mut out = AlertRules::default();
    for c in constraints {
        let coverage = coverage(setting, c);
        out.not_covered.extend(coverage.not_covered);
        let mut rules: Vec<Rule> = Vec::new();
        for measure in &coverage.measures {
            match measure {
                Measure::Ratio { check, histograms } => {
                    rules.extend(ratio_rules(setting, c, check, histograms))
                }
                Measure::Latency {
                    percentile,
                    max_ms,
                    scope,
                    histograms,
                } => rules.push(latency_rule(c, *percentile, *max_ms, scope, histograms)),
            }
        }
        if !rules.is_empty() {
            out.constraints_covered += 1;
            for rule in rules.iter_mut().filter(|r| r.kind == RuleKind::Alert) {
                for (_, value) in &mut rule.labels {
                    *value = template_literal(value);
                }
            }
            out.groups.push(RuleGroup {
                name: format!("sdd:{}", c.id),
                rules,
            });
        }
    }
    let mut limit_rules = Vec::new();
    for (i, limit) in setting
        .project
        .monitoring
        .degradation
        .limits
        .iter()
        .enumerate()
    {
        match resource_rules(limit, i) {
            Ok(rules) => {
                out.limits_covered += 1;
                limit_rules.extend(rules);
            }
            Err(reason) => out.not_covered.push(NotCovered {
                constraint: None,
                limit: Some(limit.series.clone()),
                name: String::new(),
                check: None,
                reason,
            }),
        }
    }
    if !limit_rules.is_empty() {
        out.groups.push(RuleGroup {
            name: "sdd:resource_limits".into(),
            rules: limit_rules,
        });
    }
    out
}

/// The constraint in its own words: `Uptime: 99.9% availability`.
pub fn in_words(c: &Constraint) -> String {
    match &c.requirement {
        Some(r) if !r.trim().is_empty() => format!("{}: {}", c.name, r.trim()),
        _ => c.name.clone(),
    }
}

fn ratio_rules(
    setting: &Setting<'_>,
    c: &Constraint,
    check: &RatioCheck,
    histograms: &[Selector],
) -> Vec<Rule> {
    let labels = vec![
        ("constraint".to_string(), c.id.clone()),
        ("check".to_string(), check.kind().to_string()),
    ];
    let mut rules: Vec<Rule> = ratio_windows()
        .into_iter()
        .map(|w| Rule {
            kind: RuleKind::Record,
            name: ratio_record(w),
            expr: error_ratio_expr(check, histograms, &format_duration(w)),
            hold: None,
            labels: labels.clone(),
            annotations: Vec::new(),
        })
        .collect();
    let budget = check.budget();
    let matchers = format!(
        "{{constraint={},check={}}}",
        crate::selector::quote(&c.id),
        crate::selector::quote(check.kind())
    );
    let allowed = match check {
        RatioCheck::ErrorRate { max_percent, .. } => {
            format!(
                "allows at most {}% of requests to fail ({})",
                number(*max_percent),
                check.failures_in_words()
            )
        }
        RatioCheck::Availability { min_percent } => format!(
            "asks {}% of requests answered without a 5xx: {} may fail",
            number(*min_percent),
            percent(budget)
        ),
    };
    let budget_window = format_duration(setting.budget_window_ms);
    for burn in BURN_RATES {
        let threshold = burn.factor * budget;
        if threshold >= 1.0 {
            // More than every request failing: a condition no traffic can meet.
            continue;
        }
        let condition = |window: i64| {
            format!(
                "{}{matchers} > ({} * {})",
                ratio_record(window),
                number(burn.factor),
                number(budget)
            )
        };
        let (long, short) = (
            format_duration(burn.long_ms),
            format_duration(burn.short_ms),
        );
        let lasts = format_duration(
            ((setting.budget_window_ms as f64 / burn.factor) / MINUTE as f64).round() as i64
                * MINUTE,
        );
        let spent = burn.factor * burn.long_ms as f64 / setting.budget_window_ms as f64;
        let mut labels = labels.clone();
        labels.push(("severity".into(), burn.severity.into()));
        rules.push(Rule {
            kind: RuleKind::Alert,
            name: burn.alert_name(),
            expr: format!("{}\nand\n{}", condition(burn.long_ms), condition(burn.short_ms)),
            hold: None,
            labels,
            annotations: vec![
                (
                    "summary".into(),
                    template_literal(&format!(
                        "{} — burning the error budget at {}× (over {long} and {short})",
                        in_words(c),
                        number(burn.factor)
                    )),
                ),
                (
                    "description".into(),
                    template_literal(&format!(
                        "Constraint {} {allowed}. Over the last {long} and the last {short}, more than {}× that failed ({}): at this rate the {budget_window} error budget is gone in {lasts} ({} of it every {long}).",
                        c.id,
                        number(burn.factor),
                        percent(threshold),
                        percent(spent)
                    )) + &format!(" Failed over {long}: {{{{ $value | humanizePercentage }}}}."),
                ),
            ],
        });
    }
    rules
}

fn latency_rule(
    c: &Constraint,
    percentile: f64,
    max_ms: f64,
    scope: &str,
    histograms: &[Selector],
) -> Rule {
    let p = sdd_spec::verdict::format_percentile(percentile);
    Rule {
        kind: RuleKind::Alert,
        name: "SddLatencyOverLimit".into(),
        expr: format!(
            "{} > {}",
            latency_expr(percentile, histograms, &format_duration(LATENCY_WINDOW_MS)),
            number(max_ms / 1000.0)
        ),
        hold: Some(LATENCY_FOR.into()),
        labels: vec![
            ("constraint".into(), c.id.clone()),
            ("percentile".into(), number(percentile)),
            ("severity".into(), "page".into()),
        ],
        annotations: vec![
            (
                "summary".into(),
                template_literal(&format!(
                    "{} — the {p} is over {} ms",
                    in_words(c),
                    number(max_ms)
                )),
            ),
            (
                "description".into(),
                template_literal(&format!(
                    "Constraint {} bounds the {p} of {} requests at {} ms; over the last {} it has been above that for {LATENCY_FOR} (refusals, 4xx, left out).",
                    c.id,
                    scope_in_words(scope),
                    number(max_ms),
                    format_duration(LATENCY_WINDOW_MS)
                )) + " Now {{ $value | humanizeDuration }}.",
            ),
        ],
    }
}

/// A latency scope as a sentence says it: `read` requests, `all` requests, `search` requests.
pub fn scope_in_words(scope: &str) -> &str {
    match scope {
        "reads" => "read",
        "writes" => "write",
        other => other,
    }
}

/// The early warning and the crossing for one limit (`max`, `min`, or both).
/// A limit's bounds: (`max` or `min`, the value).
pub type Bounds = Vec<(&'static str, f64)>;

/// A limit of `monitoring.degradation.limits` read: its series and its bounds, or why it
/// cannot be watched.
pub fn limit_bounds(limit: &ResourceLimit, index: usize) -> Result<(Selector, Bounds), String> {
    let at = format!("monitoring.degradation.limits[{index}]");
    let selector = Selector::parse(&limit.series).map_err(|e| format!("{at}.series: {e}"))?;
    let bounds: Bounds = [("max", limit.max), ("min", limit.min)]
        .into_iter()
        .filter_map(|(name, v)| v.map(|v| (name, v)))
        .collect();
    if bounds.is_empty() {
        return Err(format!(
            "{at} names neither `max` nor `min`: there is nothing to warn of"
        ));
    }
    if let Some((name, _)) = bounds.iter().find(|(_, v)| !v.is_finite()) {
        return Err(format!("{at}.{name} is not a finite number"));
    }
    Ok((selector, bounds))
}

fn resource_rules(limit: &ResourceLimit, index: usize) -> Result<Vec<Rule>, String> {
    let at = format!("monitoring.degradation.limits[{index}]");
    let (selector, bounds) = limit_bounds(limit, index)?;
    let series = selector.to_string();
    let mut rules = Vec::new();
    for (bound, value) in bounds {
        let (op, side, crossing) = if bound == "max" {
            (">", "under", "over")
        } else {
            ("<", "over", "under")
        };
        let said = limit
            .description
            .as_deref()
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .unwrap_or_else(|| format!("{series} must stay {side} {}", number(value)));
        let labels = |severity: &str| {
            vec![
                ("limit".to_string(), template_literal(&series)),
                ("bound".to_string(), bound.to_string()),
                ("severity".to_string(), severity.to_string()),
            ]
        };
        rules.push(Rule {
            kind: RuleKind::Alert,
            name: "SddResourceExhaustionSoon".into(),
            expr: format!(
                "predict_linear({series}[{}], {}) {op} {}",
                format_duration(EXHAUSTION_FIT_MS),
                EXHAUSTION_HORIZON_S,
                number(value)
            ),
            hold: Some(EXHAUSTION_FOR.into()),
            labels: labels("ticket"),
            annotations: vec![
                (
                    "summary".into(),
                    template_literal(&format!(
                        "{said} — on its trend it goes {crossing} {} within {}",
                        number(value),
                        format_duration(EXHAUSTION_HORIZON_S * 1000)
                    )),
                ),
                (
                    "description".into(),
                    template_literal(&format!(
                        "{series} has to stay {side} {} ({at}.{bound} of sdd.yaml). The last {}'s linear trend (predict_linear) puts it at",
                        number(value),
                        format_duration(EXHAUSTION_FIT_MS),
                    )) + &format!(
                        " {{{{ $value | humanize }}}} {} from now.",
                        format_duration(EXHAUSTION_HORIZON_S * 1000)
                    ),
                ),
            ],
        });
        rules.push(Rule {
            kind: RuleKind::Alert,
            name: "SddResourceLimitCrossed".into(),
            expr: format!("{series} {op} {}", number(value)),
            hold: Some(OVER_LIMIT_FOR.into()),
            labels: labels("page"),
            annotations: vec![
                (
                    "summary".into(),
                    template_literal(&format!("{said} — it is {crossing} {} now", number(value))),
                ),
                (
                    "description".into(),
                    template_literal(&format!(
                        "{series} has to stay {side} {} ({at}.{bound} of sdd.yaml); it has been {crossing} it for {OVER_LIMIT_FOR}:",
                        number(value)
                    )) + " {{ $value | humanize }}.",
                ),
            ],
        });
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;
    use sdd_spec::project::parse_project_file;

    const SPEC: &str = r#"
feature: Shop
constraints:
  performance:
    - name: Read latency
      requirement: p95 latency < 100ms for all read operations
      measurement: Under load of 1000 requests/second
    - name: Search latency
      requirement: p99 latency < 250ms for search
    - name: Concurrent users
      requirement: Support 10,000 concurrent users
  reliability:
    - name: Uptime
      requirement: 99.9% availability
    - name: Errors
      requirement: Error rate below 1% (409 counts as an error)
    - name: Perfect
      requirement: 100% availability
    - name: Durability
      requirement: No data loss on single node failure
  security:
    - name: Rate limiting
      requirement: Max 100 requests per minute per user
    - name: Vague
      requirement: The system should be fast and nice
    - name: Skipped
      requirement: 99% availability
scenarios: []
"#;

    fn spec(text: &str) -> sdd_spec::model::Spec {
        sdd_spec::load::load_sources(&[("shop.yaml".into(), text.into())]).spec
    }

    fn project(yaml: &str) -> ProjectFile {
        parse_project_file(yaml).unwrap_or_else(|d| panic!("{}", d.message))
    }

    fn id(name: &str) -> String {
        let spec = spec(SPEC);
        spec.constraints
            .iter()
            .find(|c| c.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .id
            .clone()
    }

    fn generate(yaml: &str) -> AlertRules {
        let spec = spec(SPEC);
        let project = project(yaml);
        let setting = Setting {
            project: &project,
            domains: 1,
            budget_window_ms: 30 * DAY,
        };
        let constraints: Vec<&Constraint> = spec.constraints.iter().map(|c| &**c).collect();
        alert_rules(&setting, &constraints)
    }

    const PROJECT: &str = r#"
load:
  endpoints:
    search:
      - {path: "/search?q=shoes"}
      - {method: POST, path: "/search/{{seq}}/save"}
monitoring:
  constraints:
    shop.security.skipped: {unmeasured: "measured by the provider's status page"}
  degradation:
    limits:
      - {series: process_resident_memory_bytes, max: 2000000000, description: "The service runs out of memory"}
      - {series: 'node_filesystem_avail_bytes{mountpoint="/"}', min: 1000000000}
      - {series: 'broken{', max: 1}
      - {series: db_size_bytes}
"#;

    #[test]
    fn burn_rate_windows_are_the_workbooks() {
        let table: Vec<(f64, String, String, &str, String)> = BURN_RATES
            .iter()
            .map(|b| {
                (
                    b.factor,
                    format_duration(b.long_ms),
                    format_duration(b.short_ms),
                    b.severity,
                    b.alert_name(),
                )
            })
            .collect();
        let want = [
            (14.4, "1h", "5m", "page", "SddErrorBudgetBurn1h"),
            (6.0, "6h", "30m", "page", "SddErrorBudgetBurn6h"),
            (3.0, "1d", "2h", "ticket", "SddErrorBudgetBurn1d"),
            (1.0, "3d", "6h", "ticket", "SddErrorBudgetBurn3d"),
        ];
        assert_eq!(table.len(), want.len());
        for (got, want) in table.iter().zip(want) {
            assert_eq!(
                (got.0, got.1.as_str(), got.2.as_str(), got.3, got.4.as_str()),
                want
            );
        }
        let recorded: Vec<String> = ratio_windows().into_iter().map(ratio_record).collect();
        assert_eq!(
            recorded,
            ["5m", "30m", "1h", "2h", "6h", "1d", "3d"]
                .map(|w| format!("sdd:constraint_error_ratio:rate{w}"))
        );
        // The share of a 30-day budget each condition spends over its long window.
        let spent: Vec<f64> = BURN_RATES
            .iter()
            .map(|b| (b.factor * b.long_ms as f64 / (30 * DAY) as f64 * 1000.0).round() / 10.0)
            .collect();
        assert_eq!(spent, [2.0, 5.0, 10.0, 10.0]);
    }

    #[test]
    fn budgets_and_failing_statuses() {
        let err = |max_percent: f64, counted: &[u16]| RatioCheck::ErrorRate {
            max_percent,
            counted_4xx: counted.to_vec(),
        };
        let cases = [
            (
                RatioCheck::Availability { min_percent: 99.9 },
                0.001,
                "5..",
                "answered 5xx",
            ),
            (
                RatioCheck::Availability { min_percent: 99.0 },
                0.01,
                "5..",
                "answered 5xx",
            ),
            (err(1.0, &[]), 0.01, "5..", "answered 5xx"),
            (
                err(0.5, &[429, 409, 409, 200]),
                0.005,
                "5..|409|429",
                "answered 5xx, or 409, 429",
            ),
            (
                err(2.0, &(400..500).collect::<Vec<_>>()),
                0.02,
                "4..|5..",
                "answered 4xx or 5xx",
            ),
        ];
        for (check, budget, statuses, words) in cases {
            assert_eq!(check.budget(), budget, "{check:?}");
            assert_eq!(check.failing_statuses(), statuses, "{check:?}");
            assert_eq!(check.failures_in_words(), words, "{check:?}");
        }
        for (value, text) in [
            (100.0 - 99.9, "0.1"),
            (0.0009999999999990906, "0.001"),
            (14.4, "14.4"),
            (2e9, "2000000000"),
            (0.95, "0.95"),
            (6.0, "6"),
        ] {
            assert_eq!(number(value), text, "{value}");
        }
    }

    #[test]
    fn expressions() {
        let h = Selector::named("http_request_duration_seconds");
        let check = RatioCheck::ErrorRate {
            max_percent: 1.0,
            counted_4xx: vec![409],
        };
        assert_eq!(
            error_ratio_expr(&check, std::slice::from_ref(&h), "5m"),
            "(\n  sum(rate(http_request_duration_seconds_count{status=~\"5..|409\"}[5m]) or rate(http_request_duration_seconds_count{status=\"\",code=~\"5..|409\"}[5m])) or vector(0)\n)\n/\n(\n  sum(rate(http_request_duration_seconds_count[5m])) > 0\n)"
        );
        let reads = without_refusals(h.with(Matcher::equal("method", "GET")));
        assert_eq!(
            latency_expr(95.0, &[reads], "5m"),
            r#"histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket{method="GET",status!~"4..",code!~"4.."}[5m])))"#
        );
        assert_eq!(
            sum_of_rates(&[Selector::named("a"), Selector::named("b")], "1h"),
            "sum(rate(a[1h]) or rate(b[1h]))"
        );
    }

    #[test]
    fn each_kind_of_constraint_becomes_rules_or_is_named() {
        let rules = generate(PROJECT);
        let by_constraint = |name: &str| -> Vec<String> {
            let id = id(name);
            rules
                .rules()
                .filter(|r| r.label("constraint") == Some(id.as_str()))
                .map(|r| r.name.clone())
                .collect()
        };
        let recordings: Vec<String> = ratio_windows().into_iter().map(ratio_record).collect();
        let burns: Vec<String> = BURN_RATES.iter().map(|b| b.alert_name()).collect();
        let ratio: Vec<String> = recordings.iter().chain(&burns).cloned().collect();
        assert_eq!(by_constraint("Uptime"), ratio);
        assert_eq!(by_constraint("Errors"), ratio);
        assert_eq!(by_constraint("Read latency"), ["SddLatencyOverLimit"]);
        assert_eq!(by_constraint("Search latency"), ["SddLatencyOverLimit"]);

        let why = |name: &str| -> Vec<(Option<String>, String)> {
            let id = id(name);
            rules
                .not_covered
                .iter()
                .filter(|n| n.constraint.as_deref() == Some(id.as_str()))
                .map(|n| (n.check.clone(), n.reason.clone()))
                .collect()
        };
        let named = |name: &str, check: Option<&str>, words: &str| {
            let found = why(name);
            assert!(
                found
                    .iter()
                    .any(|(c, r)| c.as_deref() == check && r.contains(words)),
                "{name}: {found:?}"
            );
        };
        named(
            "Read latency",
            Some("throughput"),
            "the load it is stated under (1000 requests/s)",
        );
        named(
            "Concurrent users",
            Some("concurrency"),
            "needs traffic SDD makes itself",
        );
        named(
            "Rate limiting",
            Some("rate_limit"),
            "needs traffic SDD makes itself",
        );
        named(
            "Durability",
            Some("no_data_loss"),
            "needs traffic SDD makes itself",
        );
        named("Perfect", Some("availability"), "no error budget to burn");
        named("Vague", None, "not machine-checkable");
        named("Skipped", None, "measured by the provider's status page (monitoring.constraints.shop.security.skipped.unmeasured)");
        // Every constraint is either watched or named.
        let spec = spec(SPEC);
        for c in &spec.constraints {
            assert!(
                !by_constraint(&c.name).is_empty() || !why(&c.name).is_empty(),
                "{} skipped silently",
                c.name
            );
        }
        assert_eq!(rules.constraints_covered, 4);

        // The search latency reads the scope's routes, as the verifier loads them.
        let search = rules
            .rules()
            .find(|r| r.label("constraint") == Some(id("Search latency").as_str()))
            .unwrap();
        assert_eq!(
            search.expr,
            r#"histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{method="GET",route=~"/search",status!~"4..",code!~"4.."}[5m]) or rate(http_request_duration_seconds_bucket{method="POST",route=~"/search/[^/]+/save",status!~"4..",code!~"4.."}[5m]))) > 0.25"#
        );
        assert_eq!(search.hold.as_deref(), Some("10m"));
        assert_eq!(search.label("percentile"), Some("99"));
        // Without its routes, a named scope measures nothing, and says so.
        let unlisted = generate("{}");
        let reason = &unlisted
            .not_covered
            .iter()
            .find(|n| n.constraint.as_deref() == Some(id("Search latency").as_str()))
            .unwrap()
            .reason;
        assert!(
            reason.contains("the scope `search` names no requests"),
            "{reason}"
        );
    }

    #[test]
    fn burn_alerts_read_both_windows_and_say_the_spec_words() {
        let rules = generate(PROJECT);
        let uptime = id("Uptime");
        let alert = rules
            .rules()
            .find(|r| {
                r.name == "SddErrorBudgetBurn1h" && r.label("constraint") == Some(uptime.as_str())
            })
            .unwrap();
        let m = format!(r#"{{constraint="{uptime}",check="availability"}}"#);
        assert_eq!(
            alert.expr,
            format!("sdd:constraint_error_ratio:rate1h{m} > (14.4 * 0.001)\nand\nsdd:constraint_error_ratio:rate5m{m} > (14.4 * 0.001)")
        );
        assert_eq!(alert.label("severity"), Some("page"));
        assert_eq!(alert.hold, None);
        let summary = &alert.annotations[0].1;
        assert_eq!(
            summary,
            "Uptime: 99.9% availability — burning the error budget at 14.4× (over 1h and 5m)"
        );
        let description = &alert.annotations[1].1;
        assert!(
            description
                .contains("at this rate the 30d error budget is gone in 50h (2% of it every 1h)")
                && description.contains("more than 14.4× that failed (1.44%)")
                && description.ends_with("{{ $value | humanizePercentage }}."),
            "{description}"
        );
        let errors = rules
            .rules()
            .find(|r| {
                r.name == "SddErrorBudgetBurn3d"
                    && r.label("constraint") == Some(id("Errors").as_str())
            })
            .unwrap();
        assert_eq!(errors.label("severity"), Some("ticket"));
        assert!(
            errors.annotations[1]
                .1
                .contains("allows at most 1% of requests to fail (answered 5xx, or 409)"),
            "{:?}",
            errors.annotations
        );
    }

    #[test]
    fn limits_warn_early_and_when_crossed() {
        let rules = generate(PROJECT);
        let limits: Vec<(&str, &str, &str, Option<&str>, &str)> = rules
            .rules()
            .filter(|r| r.label("limit").is_some())
            .map(|r| {
                (
                    r.name.as_str(),
                    r.label("bound").unwrap(),
                    r.label("severity").unwrap(),
                    r.hold.as_deref(),
                    r.expr.as_str(),
                )
            })
            .collect();
        assert_eq!(
            limits,
            [
                (
                    "SddResourceExhaustionSoon",
                    "max",
                    "ticket",
                    Some("15m"),
                    "predict_linear(process_resident_memory_bytes[6h], 14400) > 2000000000"
                ),
                (
                    "SddResourceLimitCrossed",
                    "max",
                    "page",
                    Some("5m"),
                    "process_resident_memory_bytes > 2000000000"
                ),
                (
                    "SddResourceExhaustionSoon",
                    "min",
                    "ticket",
                    Some("15m"),
                    r#"predict_linear(node_filesystem_avail_bytes{mountpoint="/"}[6h], 14400) < 1000000000"#
                ),
                (
                    "SddResourceLimitCrossed",
                    "min",
                    "page",
                    Some("5m"),
                    r#"node_filesystem_avail_bytes{mountpoint="/"} < 1000000000"#
                ),
            ]
        );
        let memory = rules
            .rules()
            .find(|r| r.label("limit") == Some("process_resident_memory_bytes"))
            .unwrap();
        assert_eq!(
            memory.annotations[0].1,
            "The service runs out of memory — on its trend it goes over 2000000000 within 4h"
        );
        let bad: Vec<(&str, &str)> = rules
            .not_covered
            .iter()
            .filter_map(|n| Some((n.limit.as_deref()?, n.reason.as_str())))
            .collect();
        assert_eq!(bad.len(), 2, "{bad:?}");
        assert!(
            bad[0].0 == "broken{"
                && bad[0]
                    .1
                    .starts_with("monitoring.degradation.limits[2].series:")
        );
        assert!(bad[1].0 == "db_size_bytes" && bad[1].1.contains("neither `max` nor `min`"));
        assert_eq!(rules.limits_covered, 2);
    }

    #[test]
    fn domain_constraints_of_several_domains_need_a_mapping() {
        let spec = spec(SPEC);
        let project = project("{}");
        let mut c = (*spec.constraints[0]).clone();
        c.scope = ConstraintScope::Domain("shop".into());
        let setting = Setting {
            project: &project,
            domains: 2,
            budget_window_ms: 30 * DAY,
        };
        let coverage = coverage(&setting, &c);
        assert!(coverage.measures.is_empty());
        assert!(coverage.not_covered[0]
            .reason
            .contains("one of the spec's 2 domains"));
        let mapped = parse_project_file(&format!(
            "monitoring:\n  constraints:\n    {}: {{histogram: 'shop_seconds{{app=\"shop\"}}'}}\n",
            c.id
        ))
        .unwrap();
        let setting = Setting {
            project: &mapped,
            ..setting
        };
        let Measure::Latency { histograms, .. } = &coverage_of(&setting, &c)[0] else {
            panic!("a latency measure");
        };
        assert_eq!(
            histograms[0].to_string(),
            r#"shop_seconds{app="shop",status!~"4..",code!~"4.."}"#
        );
    }

    fn coverage_of(setting: &Setting<'_>, c: &Constraint) -> Vec<Measure> {
        coverage(setting, c).measures
    }

    #[test]
    fn words_from_the_spec_are_never_run_as_templates() {
        let text = SPEC.replace("name: Uptime", "name: \"Uptime {{ query \\\"up\\\" }}\"");
        let spec = spec(&text);
        let project = project("{}");
        let setting = Setting {
            project: &project,
            domains: 1,
            budget_window_ms: 30 * DAY,
        };
        let constraints: Vec<&Constraint> = spec.constraints.iter().map(|c| &**c).collect();
        let rules = alert_rules(&setting, &constraints);
        let alert = rules
            .rules()
            .find(|r| r.name == "SddErrorBudgetBurn1h")
            .unwrap();
        assert!(
            alert.annotations[0]
                .1
                .starts_with(r#"Uptime {{ "{{" }} query "up" }}: 99.9%"#),
            "{}",
            alert.annotations[0].1
        );
    }

    #[test]
    fn yaml_reads_back_as_the_rules() {
        let rules = generate(PROJECT);
        let yaml = rules.to_yaml("Generated by SDD\n\nfrom the spec");
        assert!(
            yaml.starts_with("# Generated by SDD\n#\n# from the spec\ngroups:\n"),
            "{yaml}"
        );
        let value: serde_yaml::Value = serde_yaml::from_str(&yaml).unwrap();
        let groups = value["groups"].as_sequence().unwrap();
        assert_eq!(groups.len(), rules.groups.len());
        for (group, want) in groups.iter().zip(&rules.groups) {
            assert_eq!(group["name"].as_str(), Some(want.name.as_str()));
            let got = group["rules"].as_sequence().unwrap();
            assert_eq!(got.len(), want.rules.len());
            for (rule, want) in got.iter().zip(&want.rules) {
                let key = match want.kind {
                    RuleKind::Record => "record",
                    RuleKind::Alert => "alert",
                };
                assert_eq!(rule[key].as_str(), Some(want.name.as_str()));
                assert_eq!(rule["expr"].as_str(), Some(want.expr.as_str()));
                assert_eq!(rule["for"].as_str(), want.hold.as_deref());
                for (k, v) in want.labels.iter().chain(&want.annotations) {
                    let section = if want.labels.iter().any(|(l, _)| l == k) {
                        "labels"
                    } else {
                        "annotations"
                    };
                    assert_eq!(rule[section][k].as_str(), Some(v.as_str()), "{k}");
                }
            }
        }
        // An expression that a literal block cannot hold exactly is quoted.
        assert_eq!(block("a\tb", 2), "\"a\\tb\"");
        assert_eq!(block(" x", 2), "\" x\"");
        assert_eq!(block("(\n  a\n)", 4), "|-\n    (\n      a\n    )");
        assert_eq!(block("a\n\nb", 2), "\"a\\n\\nb\"");
        assert_eq!(block("x\u{7}", 2), "\"x\\u0007\"");
        assert_eq!(AlertRules::default().to_yaml(""), "groups: []\n");
    }
}
